/* web: the libmicrohttpd functions the dashboard calls, opened on first use (lib.h, "optional
 * shared libraries"): web_MHD_start_daemon(...) and so on, valid once web_mhd_load() returned
 * 0. */
#ifndef MITSU_WEB_MHD_DL_H
#define MITSU_WEB_MHD_DL_H

#include "lib/lib.h"

#include <microhttpd.h>

#define WEB_MHD_SONAME "libmicrohttpd.so.12"
#define WEB_MHD_PACKAGE "libmicrohttpd12"
#define WEB_MHD_SYMBOLS(X) \
	X(web_, MHD_add_response_header) \
	X(web_, MHD_create_response_from_buffer) \
	X(web_, MHD_create_response_from_fd) \
	X(web_, MHD_destroy_response) \
	X(web_, MHD_get_connection_values) \
	X(web_, MHD_get_daemon_info) \
	X(web_, MHD_lookup_connection_value) \
	X(web_, MHD_queue_response) \
	X(web_, MHD_start_daemon) \
	X(web_, MHD_stop_daemon)
WEB_MHD_SYMBOLS(LIB_DL_DECLARE)
int web_mhd_load(char *err, size_t errlen);

#endif
