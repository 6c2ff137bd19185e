/* Unit tests of the dashboard's URL handling (query parameters, routes) and of the report pieces
 * it relies on for safety (links, address canonicalisation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "web/web.h"

#define NOW 1700000000

static int parse(struct web_query *q, const char *raw)
{
	char err[128];
	web_query_init(q);
	return web_query_parse(q, raw, strlen(raw), NOW, err, sizeof(err));
}

static void test_query_values(void **state)
{
	struct web_query q;
	assert_int_equal(parse(&q, "window=24h&limit=10&offset=20&sort=size&order=asc&q=a+b%20c"),
			 0);
	assert_int_equal(q.since, NOW - 86400);
	assert_int_equal(q.until, INT64_MAX);
	assert_string_equal(q.window, "24h");
	assert_int_equal(q.limit, 10);
	assert_int_equal(q.offset, 20);
	assert_string_equal(q.sort, "size");
	assert_true(q.ascending);
	assert_string_equal(q.search, "a b c");
	assert_int_equal(parse(&q, "since=2026-01-01&until=2026-01-02T00:00:00Z"), 0);
	assert_int_equal(q.since, 1767225600);
	assert_int_equal(q.until, 1767225600 + 86400);
	assert_true(q.has_window);
	assert_int_equal(parse(&q, "after=42&type=mitsu.login.success&addr=0:0::1"), 0);
	assert_true(q.has_after);
	assert_int_equal(q.after, 42);
	assert_string_equal(q.type, "mitsu.login.success");
	assert_string_equal(q.addr, "::1");
	/* Unknown names (the token, cache busters) and empty pairs are ignored. */
	assert_int_equal(parse(&q, "token=x&_=1&&=&novalue"), 0);
	assert_int_equal(q.limit, WEB_DEFAULT_ROWS);
	assert_int_equal(parse(&q, "window=all"), 0);
	assert_int_equal(q.since, INT64_MIN);
}

static void test_query_refused(void **state)
{
	static const char *const bad[] = {
		"limit=0",
		"limit=501",
		"limit=1x",
		"offset=-1",
		"offset=1000001",
		"sort=sha256;drop",
		"order=up",
		"window=forever",
		"window=0",
		"since=yesterday",
		"after=-3",
		"type=mitsu.nope",
		"addr=1.2.3",
		"q=%zz",
		"q=%0",
		"q=%00",
		"q=%",
		"addr=%3Cscript%3E",
	};
	struct web_query q;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&q, bad[i]) == 0)
			fail_msg("accepted %s", bad[i]);
	}
	/* Bounds: a value longer than WEB_MAX_VALUE, a search longer than WEB_MAX_SEARCH, too
	 * many parameters. */
	char raw[2048];
	memset(raw, 'a', sizeof(raw));
	memcpy(raw, "q=", 2);
	raw[2 + WEB_MAX_SEARCH + 1] = 0;
	assert_int_not_equal(parse(&q, raw), 0);
	raw[2 + WEB_MAX_SEARCH] = 0;
	assert_int_equal(parse(&q, raw), 0);
	raw[0] = 0;
	for (int i = 0; i <= WEB_MAX_PARAMS; i++)
		strcat(raw, "x=1&");
	assert_int_not_equal(parse(&q, raw), 0);
}

static void test_routes(void **state)
{
	struct web_route r;
	assert_int_equal(web_route("/", &r), 0);
	assert_int_equal(r.kind, WEB_R_SECTION);
	assert_string_equal(r.section->name, "overview");
	assert_int_equal(web_route("/api/honeypot", &r), 0);
	assert_true(r.api);
	assert_string_equal(r.section->name, "honeypot");
	assert_int_equal(web_route("/api/events", &r), 0);
	assert_int_equal(r.kind, WEB_R_EVENTS);
	char path[128];
	snprintf(path, sizeof(path), "/sample/%064d", 7);
	assert_int_equal(web_route(path, &r), 0);
	assert_int_equal(r.kind, WEB_R_SAMPLE);
	strcat(path, "/pcap");
	assert_int_equal(web_route(path, &r), 0);
	assert_int_equal(r.kind, WEB_R_PCAP);
	assert_int_equal(web_route("/ip/2001:DB8:0::1", &r), 0);
	assert_int_equal(r.kind, WEB_R_IP);
	assert_string_equal(r.arg, "2001:db8::1");
	assert_int_equal(web_route("/static/app.js", &r), 0);
	assert_int_equal(r.kind, WEB_R_SCRIPT);
	static const char *const bad[] = {
		"",
		"x",
		"/nowhere",
		"/sample/abc",
		"/sample/../etc",
		"/ip/1.2.3",
		"/api/",
		"/static/../x",
		"/api/sample/"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (web_route(bad[i], &r) == 0)
			fail_msg("routed %s", bad[i]);
		assert_int_equal(r.kind, WEB_R_NOT_FOUND);
	}
}

/* A linked cell is percent-encoded in the href and escaped in the text. */
static void test_links_escaped(void **state)
{
	struct report_table *t = report_table_new(NULL);
	report_table_col(t, "source", REPORT_STR, 0);
	report_table_link(t, 0, "/ip/");
	report_table_row(t);
	report_table_str(t, "\"><script>x</script>");
	struct buf b;
	buf_init(&b, 0);
	report_table_render(t, REPORT_HTML, &b);
	const char *s = (const char *)b.data;
	assert_non_null(strstr(s, "<a href=\"/ip/%22%3E%3Cscript%3Ex%3C%2Fscript%3E\">"));
	assert_non_null(strstr(s, "&quot;&gt;&lt;script&gt;x&lt;/script&gt;</a>"));
	assert_null(strstr(s, "<script>"));
	buf_free(&b);
	report_table_free(t);
}

static void test_ip_canonical(void **state)
{
	char out[46];
	assert_int_equal(report_ip_canonical("010.1.2.3", out), -EINVAL); /* no octal forms */
	assert_int_equal(report_ip_canonical("10.1.2.3", out), 0);
	assert_string_equal(out, "10.1.2.3");
	assert_int_equal(report_ip_canonical("::FFFF:1.2.3.4", out), 0);
	assert_string_equal(out, "::ffff:1.2.3.4");
	assert_int_equal(report_ip_canonical("1.2.3.4/24", out), -EINVAL);
	assert_int_equal(report_ip_canonical("", out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_values), cmocka_unit_test(test_query_refused),
		cmocka_unit_test(test_routes),       cmocka_unit_test(test_links_escaped),
		cmocka_unit_test(test_ip_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
