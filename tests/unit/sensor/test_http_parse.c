/* Unit tests of the HTTP request parser (src/sensor/proto/http_parse.c): every request parsed
 * whole and fed one byte at a time gives the same result; pipelining, keep-alive, HTTP/0.9 to
 * 1.1, chunked bodies, LF line ends; every bound answered with its status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sensor/proto/http_parse.h"

static const struct sensor_http_limits lim = {
	.max_line = 1024, .max_headers = 16, .max_head = 4096, .max_body = 4096};

/* What a parsed request is reduced to for comparisons: one line per fact. */
static void summary(const struct webui_request *r, struct buf *out)
{
	buf_printf(out, "line=%s|method=%s|target=%.*s|version=%s|minor=%d|ka=%d|cont=%d|", r->line,
		   r->method, (int)r->target_len, r->target, r->version, r->minor, r->keep_alive,
		   r->expect_continue);
	for (size_t i = 0; i < r->nheaders; i++)
		buf_printf(out, "h:%.*s=%.*s|", (int)r->headers[i].name_len, r->headers[i].name,
			   (int)r->headers[i].value_len, r->headers[i].value);
	buf_printf(out, "body=%zu:", r->body_len);
	buf_append(out, r->body ? (const void *)r->body : "", r->body_len);
	buf_append_str(out, "\n");
}

/* Parses input in chunks of `step` bytes (0: all at once); the summaries of every request, and
 * the final status (MORE when the input ended between requests). */
static int parse_all(const char *in, size_t n, size_t step, struct buf *out)
{
	struct sensor_http_parser p;
	sensor_http_init(&p, &lim);
	size_t off = 0;
	enum sensor_http_status st = SENSOR_HTTP_MORE;
	while (off < n) {
		size_t len = step ? LIB_MIN(step, n - off) : n - off;
		size_t used;
		st = sensor_http_feed(&p, in + off, len, &used);
		off += used;
		while (st == SENSOR_HTTP_DONE || st == SENSOR_HTTP_CONTINUE) {
			if (st == SENSOR_HTTP_CONTINUE) {
				buf_append_str(out, "100-continue\n");
				st = SENSOR_HTTP_MORE;
				break;
			}
			summary(sensor_http_request(&p), out);
			st = sensor_http_next(&p);
		}
		if (st != SENSOR_HTTP_MORE)
			break;
		if (used == 0 && len)
			fail_msg("no progress at %zu", off);
	}
	sensor_http_free(&p);
	return (int)st;
}

static const char *const requests[] = {
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET //etc/passwd HTTP/1.0\r\n\r\n",
	"GET /../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /cgi-bin/;wget${IFS}http://x/y HTTP/1.1\nHost: lf-only\n\n",
	"\r\n\r\nGET /skip-empty HTTP/1.1\r\n\r\n",
	"GET /nine\r\n",
	"GET /a b c HTTP/1.1\r\nX:  padded  \r\n\r\n",
	"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /pipelined HTTP/1.1\r\n\r\n",
	"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n "
	"world\r\n0\r\n"
	"Trailer: x\r\n\r\n",
	"GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /ka2 HTTP/1.1\r\nConnection: "
	"Upgrade, close\r\n\r\n",
	"PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
	"GET / HTTP/1.1\r\nno colon line\r\n folded\r\nA: b\r\n\r\n",
};

static void test_byte_at_a_time(void **state)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(requests); i++) {
		const char *r = requests[i];
		size_t n = strlen(r);
		struct buf whole, bytes, sevens;
		buf_init(&whole, 0);
		buf_init(&bytes, 0);
		buf_init(&sevens, 0);
		int a = parse_all(r, n, 0, &whole);
		int b = parse_all(r, n, 1, &bytes);
		int c = parse_all(r, n, 7, &sevens);
		assert_int_equal(a, SENSOR_HTTP_MORE);
		assert_int_equal(b, a);
		assert_int_equal(c, a);
		/* The 100-continue note depends on where the body starts arriving; compare the
		 * requests only. */
		assert_non_null(whole.data);
		const char *w = strstr((char *)whole.data, "line=");
		const char *bb = strstr((char *)bytes.data, "line=");
		const char *s7 = strstr((char *)sevens.data, "line=");
		assert_string_equal(w, bb);
		assert_string_equal(w, s7);
		buf_free(&whole);
		buf_free(&bytes);
		buf_free(&sevens);
	}
}

static void test_semantics(void **state)
{
	struct buf o;
	buf_init(&o, 0);
	parse_all(requests[7], strlen(requests[7]), 1, &o);
	assert_non_null(strstr((char *)o.data, "target=/p|version=HTTP/1.1|minor=1|ka=1|cont=0|h:"
					       "Content-Length=5|body=5:hello\n"));
	assert_non_null(strstr((char *)o.data, "target=/pipelined|"));
	buf_reset(&o);
	parse_all(requests[8], strlen(requests[8]), 3, &o);
	assert_non_null(strstr((char *)o.data, "body=11:hello world\n"));
	buf_reset(&o);
	parse_all(requests[9], strlen(requests[9]), 1, &o);
	assert_non_null(strstr((char *)o.data, "target=/ka|version=HTTP/1.0|minor=0|ka=1|"));
	assert_non_null(strstr((char *)o.data, "target=/ka2|version=HTTP/1.1|minor=1|ka=0|"));
	buf_reset(&o);
	parse_all(requests[5], strlen(requests[5]), 1, &o);
	assert_string_equal((char *)o.data,
			    "line=GET /nine|method=GET|target=/nine|version=|minor=-1|"
			    "ka=0|cont=0|body=0:\n");
	buf_reset(&o);
	parse_all(requests[6], strlen(requests[6]), 0, &o);
	assert_non_null(strstr((char *)o.data, "target=/a b c|"));
	assert_non_null(strstr((char *)o.data, "h:X=padded|"));
	buf_reset(&o);
	parse_all(requests[10], strlen(requests[10]), 1, &o);
	assert_true(lib_str_prefix((char *)o.data, "100-continue\n"));
	assert_non_null(strstr((char *)o.data, "cont=1|"));
	buf_reset(&o);
	parse_all(requests[11], strlen(requests[11]), 1, &o);
	assert_non_null(strstr((char *)o.data, "|h:A=b|body=0:"));
	buf_free(&o);
}

static int status_of(const char *in, size_t n)
{
	struct buf o;
	buf_init(&o, 0);
	int st = parse_all(in, n, 1, &o);
	int whole = parse_all(in, n, 0, &o);
	buf_free(&o);
	assert_int_equal(st, whole);
	return st;
}

static void test_limits(void **state)
{
	char big[8192];
	/* request line over max_line: 414 */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	assert_int_equal(status_of(big, 2000), SENSOR_HTTP_URI_TOO_LONG);
	/* one header line over max_line: 431 */
	int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'b', 1500);
	assert_int_equal(status_of(big, (size_t)n + 1500), SENSOR_HTTP_HEADERS_TOO_LARGE);
	/* too many header lines: 431 */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 20; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "H%d: v\r\n", i);
	assert_int_equal(status_of(big, (size_t)n), SENSOR_HTTP_HEADERS_TOO_LARGE);
	/* too many header bytes in lines each within bounds: 431 */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 6; i++) {
		n += snprintf(big + n, sizeof(big) - (size_t)n, "H: ");
		memset(big + n, 'c', 900);
		n += 900;
		n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
	}
	assert_int_equal(status_of(big, (size_t)n), SENSOR_HTTP_HEADERS_TOO_LARGE);
	/* body over max_body, announced or chunked: 413 */
	const char *cl = "POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n";
	assert_int_equal(status_of(cl, strlen(cl)), SENSOR_HTTP_TOO_LARGE);
	const char *ch = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n";
	assert_int_equal(status_of(ch, strlen(ch)), SENSOR_HTTP_TOO_LARGE);
	/* not HTTP */
	static const char *const bad[] = {
		"\x16\x03\x01\x02\x05\x01 \xfc\x03\x03 \r\n",
		"GET\r\n",
		"GET / FTP/1.0\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(bad); i++)
		assert_int_equal(status_of(bad[i], strlen(bad[i])), SENSOR_HTTP_BAD);
	const char *te = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
	assert_int_equal(status_of(te, strlen(te)), SENSOR_HTTP_NOT_IMPLEMENTED);
}

/* Pipelined requests that fill the buffer are taken in turns: nothing is lost or refused. */
static void test_pipeline_flood(void **state)
{
	struct buf in, o;
	buf_init(&in, 0);
	buf_init(&o, 0);
	for (int i = 0; i < 2000; i++)
		buf_printf(&in, "GET /r%d HTTP/1.1\r\nHost: h\r\n\r\n", i);
	assert_int_equal(parse_all((char *)in.data, in.len, 0, &o), SENSOR_HTTP_MORE);
	int count = 0;
	for (const char *s = (char *)o.data; (s = strstr(s, "line=")); s++)
		count++;
	assert_int_equal(count, 2000);
	assert_non_null(strstr((char *)o.data, "target=/r1999|"));
	buf_free(&in);
	buf_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_semantics),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_pipeline_flood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
