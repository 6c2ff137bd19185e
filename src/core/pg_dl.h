/* core: the libpq functions the PostgreSQL sink calls, opened on first use (lib.h, "optional
 * shared libraries"): core_PQexec(...) and so on, valid once core_pg_load() returned 0. */
#ifndef MITSU_CORE_PG_DL_H
#define MITSU_CORE_PG_DL_H

#include "lib/lib.h"

#include <libpq-fe.h>

#define CORE_PG_SONAME "libpq.so.5"
#define CORE_PG_PACKAGE "libpq5"
#define CORE_PG_SYMBOLS(X) \
	X(core_, PQclear) \
	X(core_, PQconnectdbParams) \
	X(core_, PQerrorMessage) \
	X(core_, PQexec) \
	X(core_, PQexecParams) \
	X(core_, PQfinish) \
	X(core_, PQresultErrorMessage) \
	X(core_, PQresultStatus) \
	X(core_, PQstatus)
CORE_PG_SYMBOLS(LIB_DL_DECLARE)
int core_pg_load(char *err, size_t errlen);

#endif
