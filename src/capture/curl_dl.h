/* capture: the libcurl functions the downloader calls, opened on first use (lib.h, "optional
 * shared libraries"): capture_curl_easy_init(...) and so on, valid once capture_curl_load()
 * returned 0. */
#ifndef MITSU_CAPTURE_CURL_DL_H
#define MITSU_CAPTURE_CURL_DL_H

#include "lib/lib.h"

/* curl.h's type-checking wrappers are macros named like the functions; the pointers are
 * checked against the prototypes instead. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#define CAPTURE_CURL_SONAME "libcurl.so.4"
#define CAPTURE_CURL_PACKAGE "libcurl4"
#define CAPTURE_CURL_SYMBOLS(X) \
	X(capture_, curl_easy_cleanup) \
	X(capture_, curl_easy_getinfo) \
	X(capture_, curl_easy_init) \
	X(capture_, curl_easy_setopt) \
	X(capture_, curl_easy_strerror) \
	X(capture_, curl_free) \
	X(capture_, curl_global_init) \
	X(capture_, curl_multi_add_handle) \
	X(capture_, curl_multi_assign) \
	X(capture_, curl_multi_cleanup) \
	X(capture_, curl_multi_info_read) \
	X(capture_, curl_multi_init) \
	X(capture_, curl_multi_remove_handle) \
	X(capture_, curl_multi_setopt) \
	X(capture_, curl_multi_socket_action) \
	X(capture_, curl_slist_append) \
	X(capture_, curl_slist_free_all) \
	X(capture_, curl_url) \
	X(capture_, curl_url_cleanup) \
	X(capture_, curl_url_get) \
	X(capture_, curl_url_set)
CAPTURE_CURL_SYMBOLS(LIB_DL_DECLARE)
int capture_curl_load(char *err, size_t errlen);

#endif
