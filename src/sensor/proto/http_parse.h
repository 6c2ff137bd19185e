/* The HTTP request parser of the web honeypot: incremental, tolerant, bounded.
 *
 * It accepts any split of the input (bytes are buffered until a request is complete), keeps
 * the raw request line and target exactly as sent (`//etc/passwd`, `/../..`, `;cmd` matter
 * to exploit signatures), takes LF as well as CRLF line ends, skips empty lines before a
 * request, reads HTTP/0.9 (no version), 1.0 and 1.1, Content-Length and chunked bodies, and
 * decides keep-alive as RFC 9112 does. Every bound is a field of sensor_http_limits; input past
 * one is an error that names the status a server would answer with (400, 413, 414, 431).
 * Shared with the unit tests and the fuzz target (tests/fuzz/http.c); not API. */
#ifndef MITSU_SENSOR_HTTP_PARSE_H
#define MITSU_SENSOR_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lib.h"
#include "webui/webui.h"

/* The parsed request is a struct webui_request (src/webui/webui.h), which the web
 * honeypot answers. Header lines beyond the limit are an error (431), never dropped. */
struct sensor_http_limits {
	size_t max_line;    /* bytes of the request line or one header line */
	size_t max_headers; /* header lines of one request */
	size_t max_head;    /* bytes of the request line and headers together */
	size_t max_body;    /* bytes of the body (after chunked decoding) */
};

enum sensor_http_status {
	SENSOR_HTTP_MORE = 0,     /* need more input */
	SENSOR_HTTP_DONE = 1,     /* a request is complete: see sensor_http_request() */
	SENSOR_HTTP_CONTINUE = 2, /* headers done, the client waits for 100 Continue (once) */
	SENSOR_HTTP_BAD = 400,
	SENSOR_HTTP_TOO_LARGE = 413,
	SENSOR_HTTP_URI_TOO_LONG = 414,
	SENSOR_HTTP_HEADERS_TOO_LARGE = 431,
	SENSOR_HTTP_NOT_IMPLEMENTED = 501, /* a Transfer-Encoding other than chunked */
};

enum http_parse_state {
	HP_LINE,
	HP_HEADERS,
	HP_BODY,
	HP_CHUNK_SIZE,
	HP_CHUNK_DATA,
	HP_CHUNK_END,
	HP_TRAILER,
	HP_DONE,
	HP_ERROR
};

struct sensor_http_parser {
	struct sensor_http_limits lim;
	struct buf in;   /* bytes of the current request (and what followed it) */
	size_t pos;      /* how far `in` has been parsed */
	size_t line_end; /* end of the request line and headers (offset of the body) */
	enum http_parse_state state;
	enum sensor_http_status error;
	bool continue_sent;
	uint64_t body_left; /* Content-Length or the current chunk */
	struct buf body;    /* decoded chunked body */
	size_t nlines;      /* header lines seen */
	/* Offsets of the parts (the buffer may move while it grows). */
	size_t line_off, line_len, method_len, target_off, target_len, version_off, version_len;
	struct {
		size_t name_off, name_len, value_off, value_len;
	} * hdr;
	size_t hdr_cap;
	struct webui_request req;
};

void sensor_http_init(struct sensor_http_parser *p, const struct sensor_http_limits *lim);
void sensor_http_free(struct sensor_http_parser *p);
/* Takes up to n bytes (stops at the end of a request so the next one waits its turn) and
 * parses. *used says how many were taken. Returns MORE, DONE, CONTINUE or an error status;
 * after an error the parser stays in error. */
enum sensor_http_status sensor_http_feed(struct sensor_http_parser *p, const void *data, size_t n,
					 size_t *used);
/* The request after DONE. */
const struct webui_request *sensor_http_request(struct sensor_http_parser *p);
/* Drops the finished request, keeps any bytes that followed it (a pipelined request), and
 * parses them: returns as sensor_http_feed. */
enum sensor_http_status sensor_http_next(struct sensor_http_parser *p);
/* Bytes buffered and not yet part of a finished request (0: between requests). */
size_t sensor_http_pending(const struct sensor_http_parser *p);

/* The value of the first header of that name (case-insensitive), or NULL. */
const struct webui_header *sensor_http_header(const struct webui_request *r, const char *name);

#endif
