/* ident: the libssl functions the TLS grabber calls, opened on first use (lib.h, "optional
 * shared libraries"): ident_SSL_new(...) and so on, valid once ident_ssl_load() returned 0.
 * libcrypto (certificates, BIO, errors; hashes elsewhere) stays linked. */
#ifndef MITSU_IDENT_SSL_DL_H
#define MITSU_IDENT_SSL_DL_H

#include "lib/lib.h"

#include <openssl/ssl.h>

#define IDENT_SSL_SONAME "libssl.so.3"
#define IDENT_SSL_PACKAGE "libssl3"
#define IDENT_SSL_SYMBOLS(X) \
	X(ident_, SSL_CTX_ctrl) \
	X(ident_, SSL_CTX_free) \
	X(ident_, SSL_CTX_new) \
	X(ident_, SSL_CTX_set_security_level) \
	X(ident_, SSL_CTX_set_verify) \
	X(ident_, SSL_do_handshake) \
	X(ident_, SSL_free) \
	X(ident_, SSL_get1_peer_certificate) \
	X(ident_, SSL_get_error) \
	X(ident_, SSL_new) \
	X(ident_, SSL_read) \
	X(ident_, SSL_set_bio) \
	X(ident_, SSL_set_connect_state) \
	X(ident_, SSL_write) \
	X(ident_, TLS_client_method)
IDENT_SSL_SYMBOLS(LIB_DL_DECLARE)
int ident_ssl_load(char *err, size_t errlen);

#endif
