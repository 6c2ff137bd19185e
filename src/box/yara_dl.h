/* box: the YARA functions static analysis calls, opened on first use (lib.h, "optional shared
 * libraries"): box_yr_initialize() and so on, valid once box_yara_load() returned 0. */
#ifndef MITSU_BOX_YARA_DL_H
#define MITSU_BOX_YARA_DL_H

#include "lib/lib.h"

#include <yara.h>

#define BOX_YARA_SONAME "libyara.so.9"
#define BOX_YARA_PACKAGE "libyara9"
#define BOX_YARA_SYMBOLS(X) \
	X(box_, yr_compiler_add_file) \
	X(box_, yr_compiler_create) \
	X(box_, yr_compiler_destroy) \
	X(box_, yr_compiler_get_rules) \
	X(box_, yr_compiler_set_callback) \
	X(box_, yr_initialize) \
	X(box_, yr_rules_destroy) \
	X(box_, yr_rules_scan_mem)
BOX_YARA_SYMBOLS(LIB_DL_DECLARE)
int box_yara_load(char *err, size_t errlen);

#endif
