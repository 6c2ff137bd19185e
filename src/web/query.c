/* web: the dashboard's URLs: the query string's parameters (checked one by one, unknown ones
 * ignored) and the path's route. Both take what a browser sent, so both are bounded and fuzzed
 * (tests/fuzz/web_query.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "web/web.h"

void web_query_init(struct web_query *q)
{
	memset(q, 0, sizeof(*q));
	q->since = INT64_MIN;
	q->until = INT64_MAX;
	q->limit = WEB_DEFAULT_ROWS;
}

static int fail(char *err, size_t errlen, const char *key, const char *why)
{
	snprintf(err, errlen, "%s: %s", key, why);
	return -EINVAL;
}

static int int_in(const char *v, long long lo, long long hi, long long *out)
{
	long long x;
	if (lib_parse_int(v, &x) || x < lo || x > hi)
		return -EINVAL;
	*out = x;
	return 0;
}

static int set_window(struct web_query *q, const char *v, int64_t now, char *err, size_t errlen)
{
	long long secs;
	if (strcmp(v, "all") == 0) {
		q->since = INT64_MIN;
	} else if (lib_parse_secs(v, &secs) == 0 && secs > 0 && secs <= WEB_MAX_WINDOW) {
		q->since = now - secs;
	} else {
		return fail(err, errlen, "window", "wants all or a duration (24h, 7d)");
	}
	q->until = INT64_MAX;
	lib_strlcpy(q->window, v, sizeof(q->window));
	q->has_window = true;
	return 0;
}

int web_query_set(struct web_query *q, const char *key, const char *v, int64_t now, char *err,
		  size_t errlen)
{
	long long x;
	int64_t us;
	if (!v)
		v = "";
	if (strcmp(key, "since") == 0 || strcmp(key, "until") == 0) {
		if (!*v)
			return 0;
		if (lib_parse_time(v, &us))
			return fail(err, errlen, key, "wants RFC 3339 time or YYYY-MM-DD");
		*(key[0] == 's' ? &q->since : &q->until) = us / 1000000;
		q->has_window = true;
		q->window[0] = 0;
		return 0;
	}
	if (strcmp(key, "window") == 0)
		return set_window(q, v, now, err, errlen);
	if (strcmp(key, "limit") == 0) {
		if (int_in(v, 1, WEB_MAX_ROWS, &x))
			return fail(err, errlen, key, "wants 1 to " LIB_STR(WEB_MAX_ROWS));
		q->limit = (int)x;
		return 0;
	}
	if (strcmp(key, "offset") == 0) {
		if (int_in(v, 0, WEB_MAX_OFFSET, &x))
			return fail(err, errlen, key, "wants 0 to " LIB_STR(WEB_MAX_OFFSET));
		q->offset = (int)x;
		return 0;
	}
	if (strcmp(key, "after") == 0) {
		if (int_in(v, 0, INT64_MAX, &x))
			return fail(err, errlen, key, "wants an event id");
		q->after = x;
		q->has_after = true;
		return 0;
	}
	if (strcmp(key, "q") == 0) {
		if (strlen(v) > WEB_MAX_SEARCH)
			return fail(err, errlen, key, "too long");
		lib_strlcpy(q->search, v, sizeof(q->search));
		return 0;
	}
	if (strcmp(key, "sort") == 0) {
		if (*v && !report_sample_sort_ok(v))
			return fail(err, errlen, key, "not a column of the list");
		lib_strlcpy(q->sort, v, sizeof(q->sort));
		return 0;
	}
	if (strcmp(key, "order") == 0) {
		if (strcmp(v, "asc") && strcmp(v, "desc"))
			return fail(err, errlen, key, "wants asc or desc");
		q->ascending = v[0] == 'a';
		return 0;
	}
	if (strcmp(key, "type") == 0) {
		if (*v && core_event_find(v) < 0)
			return fail(err, errlen, key, "not an event id");
		lib_strlcpy(q->type, v, sizeof(q->type));
		return 0;
	}
	if (strcmp(key, "addr") == 0) {
		if (*v && report_ip_canonical(v, q->addr))
			return fail(err, errlen, key, "not an IP address");
		return 0;
	}
	return 0; /* token, cache busters: not ours */
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into out (at most outlen - 1 bytes); '+' is a space. A NUL byte or
 * a value too long is an error. */
static int decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			if (i + 2 >= n)
				return -EINVAL;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (ch == 0 || o + 1 >= outlen)
			return -EINVAL;
		out[o++] = ch;
	}
	out[o] = 0;
	return 0;
}

int web_query_parse(struct web_query *q, const char *raw, size_t n, int64_t now, char *err,
		    size_t errlen)
{
	size_t i = 0, pairs = 0;
	while (i < n) {
		size_t end = i;
		while (end < n && raw[end] != '&')
			end++;
		if (end > i) {
			if (++pairs > WEB_MAX_PARAMS)
				return fail(err, errlen, "query", "too many parameters");
			size_t eq = i;
			while (eq < end && raw[eq] != '=')
				eq++;
			char key[WEB_MAX_KEY + 1], val[WEB_MAX_VALUE + 1];
			if (decode(raw + i, eq - i, key, sizeof(key)) ||
			    decode(raw + (eq < end ? eq + 1 : end), eq < end ? end - eq - 1 : 0,
				   val, sizeof(val)))
				return fail(err, errlen, "query", "bad encoding or too long");
			int rc = web_query_set(q, key, val, now, err, errlen);
			if (rc)
				return rc;
		}
		i = end + 1;
	}
	return 0;
}

static bool is_sha256(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int web_route(const char *path, struct web_route *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = WEB_R_NOT_FOUND;
	size_t n = strnlen(path, WEB_MAX_PATH + 1);
	if (n > WEB_MAX_PATH || path[0] != '/')
		return -EINVAL;
	if (strcmp(path, "/static/app.js") == 0 || strcmp(path, "/static/style.css") == 0) {
		r->kind = path[8] == 'a' ? WEB_R_SCRIPT : WEB_R_STYLE;
		return 0;
	}
	if (strcmp(path, "/static/icon.svg") == 0 || strcmp(path, "/favicon.ico") == 0) {
		r->kind = WEB_R_ICON;
		return 0;
	}
	const char *p = path + 1;
	if (lib_str_prefix(p, "api/")) {
		r->api = true;
		p += 4;
	}
	if (!*p && !r->api) {
		r->kind = WEB_R_SECTION;
		r->section = report_section_find("overview");
		return 0;
	}
	if (r->api && strcmp(p, "events") == 0) {
		r->kind = WEB_R_EVENTS;
		return 0;
	}
	if (lib_str_prefix(p, "sample/")) {
		p += 7;
		size_t len = strcspn(p, "/");
		if (!is_sha256(p, len))
			return -EINVAL;
		memcpy(r->arg, p, len);
		r->arg[len] = 0;
		if (!p[len]) {
			r->kind = WEB_R_SAMPLE;
			return 0;
		}
		if (strcmp(p + len, "/pcap") == 0 && !r->api) {
			r->kind = WEB_R_PCAP;
			return 0;
		}
		return -EINVAL;
	}
	if (strcmp(p, "ip") == 0) {
		r->kind = WEB_R_IP; /* the address comes in ?addr= (the look-up form) */
		return 0;
	}
	if (lib_str_prefix(p, "ip/")) {
		if (report_ip_canonical(p + 3, r->arg))
			return -EINVAL;
		r->kind = WEB_R_IP;
		return 0;
	}
	const struct report_section *s = report_section_find(p);
	if (s) {
		r->kind = WEB_R_SECTION;
		r->section = s;
		return 0;
	}
	return -ENOENT;
}
