/* The HTTP request parser of the web honeypot (see http_parse.h). Bytes are buffered per
 * request and parsed from where the last call stopped, so any split of the input gives the
 * same request; every line, the header block, the header count and the body are bounded. */
#include "sensor/proto/http_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Chunk-size lines and line ends a chunked body adds on top of its data: the raw bytes of a
 * request body may be at most twice max_body plus this. */
#define HTTP_CHUNK_SLACK 4096

void sensor_http_init(struct sensor_http_parser *p, const struct sensor_http_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->lim = *lim;
	buf_init(&p->in, lim->max_head + 2 * lim->max_body + HTTP_CHUNK_SLACK);
	buf_init(&p->body, lim->max_body);
}

void sensor_http_free(struct sensor_http_parser *p)
{
	buf_free(&p->in);
	buf_free(&p->body);
	free(p->hdr);
	free(p->req.headers);
	free((void *)p->req.method);
	p->hdr = NULL;
	p->req.headers = NULL;
	p->req.method = NULL;
}

static enum sensor_http_status fail(struct sensor_http_parser *p, enum sensor_http_status st)
{
	p->state = HP_ERROR;
	p->error = st;
	return st;
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* A method is a token (RFC 9110 tchar); anything else is not HTTP. */
static bool is_token(const char *s, size_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !memchr(extra, s[i], sizeof(extra) - 1))
			return false;
	return true;
}

/* The next line from pos: its length without CR/LF and the offset after it; false when no
 * complete line is buffered yet. */
static bool next_line(struct sensor_http_parser *p, size_t *len, size_t *after)
{
	const uint8_t *s = p->in.data + p->pos;
	const uint8_t *nl = memchr(s, '\n', p->in.len - p->pos);
	if (!nl)
		return false;
	size_t l = (size_t)(nl - s);
	*after = p->pos + l + 1;
	if (l && s[l - 1] == '\r')
		l--;
	*len = l;
	return true;
}

static bool has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);
	for (size_t i = 0; i < n;) {
		while (i < n && (v[i] == ',' || is_blank(v[i])))
			i++;
		size_t j = i;
		while (j < n && v[j] != ',')
			j++;
		size_t e = j;
		while (e > i && is_blank(v[e - 1]))
			e--;
		if (e - i == tl && strncasecmp(v + i, tok, tl) == 0)
			return true;
		i = j;
	}
	return false;
}

static enum sensor_http_status parse_request_line(struct sensor_http_parser *p, size_t len)
{
	const char *s = (const char *)p->in.data + p->pos;
	size_t i = 0;
	while (i < len && !is_blank(s[i]))
		i++;
	p->method_len = i;
	if (!is_token(s, i))
		return fail(p, SENSOR_HTTP_BAD);
	while (i < len && is_blank(s[i]))
		i++;
	if (i == len)
		return fail(p, SENSOR_HTTP_BAD);
	/* The version is the last word if it starts with "HTTP/"; the target is everything
	 * between, blanks included, as a tolerant server reads "GET /a b HTTP/1.1". */
	size_t end = len;
	while (end > i && is_blank(s[end - 1]))
		end--;
	size_t v = end;
	while (v > i && !is_blank(s[v - 1]))
		v--;
	p->target_off = p->pos + i;
	if (v > i && end - v >= 5 && strncmp(s + v, "HTTP/", 5) == 0) {
		p->version_off = p->pos + v;
		p->version_len = end - v;
		size_t t = v;
		while (t > i && is_blank(s[t - 1]))
			t--;
		p->target_len = t - i;
	} else if (v == i) {
		/* "GET /path": HTTP/0.9 */
		p->version_off = p->pos + end;
		p->version_len = 0;
		p->target_len = end - i;
	} else {
		return fail(p, SENSOR_HTTP_BAD);
	}
	return SENSOR_HTTP_MORE;
}

static void add_header(struct sensor_http_parser *p, size_t len)
{
	const char *s = (const char *)p->in.data + p->pos;
	const char *colon = memchr(s, ':', len);
	/* A line without a colon, or a folded continuation line, is kept out of the header list
	 * (tolerant, as embedded servers are) but still counts against max_headers. */
	if (!colon || colon == s || is_blank(s[0]))
		return;
	size_t nl = (size_t)(colon - s);
	while (nl && is_blank(s[nl - 1]))
		nl--;
	size_t vo = (size_t)(colon - s) + 1, ve = len;
	while (vo < ve && is_blank(s[vo]))
		vo++;
	while (ve > vo && is_blank(s[ve - 1]))
		ve--;
	if (p->req.nheaders == p->hdr_cap) {
		p->hdr_cap = p->hdr_cap ? p->hdr_cap * 2 : 16;
		p->hdr = xrealloc(p->hdr, p->hdr_cap * sizeof(*p->hdr));
	}
	p->hdr[p->req.nheaders].name_off = p->pos;
	p->hdr[p->req.nheaders].name_len = nl;
	p->hdr[p->req.nheaders].value_off = p->pos + vo;
	p->hdr[p->req.nheaders].value_len = ve - vo;
	p->req.nheaders++;
}

static bool hdr_is(const struct sensor_http_parser *p, size_t i, const char *name)
{
	return p->hdr[i].name_len == strlen(name) &&
	       strncasecmp((const char *)p->in.data + p->hdr[i].name_off, name,
			   p->hdr[i].name_len) == 0;
}

/* After the empty line: framing and connection semantics from the headers. */
static enum sensor_http_status headers_done(struct sensor_http_parser *p)
{
	struct webui_request *r = &p->req;
	int minor = -1;
	const char *ver = (const char *)p->in.data + p->version_off;
	if (p->version_len == 8 && strncmp(ver, "HTTP/1.", 7) == 0 &&
	    (ver[7] == '0' || ver[7] == '1'))
		minor = ver[7] - '0';
	r->minor = minor;
	r->keep_alive = minor == 1;
	bool have_length = false, te = false;
	uint64_t length = 0;
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *v = (const char *)p->in.data + p->hdr[i].value_off;
		size_t vl = p->hdr[i].value_len;
		if (hdr_is(p, i, "Content-Length")) {
			uint64_t x = 0;
			if (vl == 0 || vl > 18)
				return fail(p, vl > 18 ? SENSOR_HTTP_TOO_LARGE : SENSOR_HTTP_BAD);
			for (size_t k = 0; k < vl; k++) {
				if (!isdigit((unsigned char)v[k]))
					return fail(p, SENSOR_HTTP_BAD);
				x = x * 10 + (uint64_t)(v[k] - '0');
			}
			/* Two different lengths are a smuggling attempt (RFC 9112 §6.3). */
			if (have_length && x != length)
				return fail(p, SENSOR_HTTP_BAD);
			have_length = true;
			length = x;
		} else if (hdr_is(p, i, "Transfer-Encoding")) {
			if (!has_token(v, vl, "chunked"))
				return fail(p, SENSOR_HTTP_NOT_IMPLEMENTED);
			te = true;
		} else if (hdr_is(p, i, "Connection")) {
			if (has_token(v, vl, "close"))
				r->keep_alive = false;
			else if (has_token(v, vl, "keep-alive") && minor == 0)
				r->keep_alive = true;
		} else if (hdr_is(p, i, "Expect")) {
			r->expect_continue = has_token(v, vl, "100-continue") && minor == 1;
		}
	}
	r->chunked = te;
	if (te) {
		/* Transfer-Encoding wins over Content-Length; the connection then closes. */
		if (have_length)
			r->keep_alive = false;
		p->state = HP_CHUNK_SIZE;
	} else if (length > 0) {
		if (length > p->lim.max_body)
			return fail(p, SENSOR_HTTP_TOO_LARGE);
		p->body_left = length;
		p->state = HP_BODY;
	} else {
		p->state = HP_DONE;
		return SENSOR_HTTP_DONE;
	}
	return SENSOR_HTTP_MORE;
}

/* Builds the request's pointers once it is complete. The strings are copied into one
 * allocation: "method\0target\0version\0". The request line is terminated in place. */
static void finish(struct sensor_http_parser *p)
{
	struct webui_request *r = &p->req;
	char *base = (char *)p->in.data;
	free((void *)r->method);
	size_t n = p->method_len + p->target_len + p->version_len + 3;
	char *s = xmalloc(n);
	memcpy(s, base + p->line_off, p->method_len);
	s[p->method_len] = '\0';
	char *t = s + p->method_len + 1;
	memcpy(t, base + p->target_off, p->target_len);
	t[p->target_len] = '\0';
	char *v = t + p->target_len + 1;
	memcpy(v, base + p->version_off, p->version_len);
	v[p->version_len] = '\0';
	r->method = s;
	r->target = t;
	r->target_len = p->target_len;
	r->version = v;
	r->line = base + p->line_off;
	r->line_len = p->line_len;
	base[p->line_off + p->line_len] = '\0';
	free(r->headers);
	r->headers = xcalloc(r->nheaders ? r->nheaders : 1, sizeof(*r->headers));
	for (size_t i = 0; i < r->nheaders; i++) {
		r->headers[i].name = base + p->hdr[i].name_off;
		r->headers[i].name_len = p->hdr[i].name_len;
		r->headers[i].value = base + p->hdr[i].value_off;
		r->headers[i].value_len = p->hdr[i].value_len;
	}
	if (r->chunked) {
		r->body = p->body.data;
		r->body_len = p->body.len;
	} else if (r->body_len) {
		r->body = p->in.data + p->line_end;
	}
}

static enum sensor_http_status parse_head(struct sensor_http_parser *p)
{
	size_t len, after;
	while (p->state == HP_LINE || p->state == HP_HEADERS) {
		bool have = next_line(p, &len, &after);
		size_t line_now = have ? len : p->in.len - p->pos;
		if (line_now > p->lim.max_line)
			return fail(p, p->state == HP_LINE ? SENSOR_HTTP_URI_TOO_LONG
							   : SENSOR_HTTP_HEADERS_TOO_LARGE);
		if ((have ? after : p->in.len) - p->line_off > p->lim.max_head)
			return fail(p, SENSOR_HTTP_HEADERS_TOO_LARGE);
		if (!have)
			return SENSOR_HTTP_MORE;
		if (p->state == HP_LINE) {
			if (len == 0) { /* empty lines before a request are skipped */
				p->pos = p->line_off = after;
				continue;
			}
			p->line_len = len;
			enum sensor_http_status st = parse_request_line(p, len);
			if (st)
				return st;
			p->pos = after;
			if (p->version_len == 0) { /* HTTP/0.9 has no headers */
				p->line_end = after;
				p->req.minor = -1;
				p->state = HP_DONE;
				return SENSOR_HTTP_DONE;
			}
			p->state = HP_HEADERS;
			continue;
		}
		if (len == 0) {
			p->pos = p->line_end = after;
			return headers_done(p);
		}
		if (++p->nlines > p->lim.max_headers)
			return fail(p, SENSOR_HTTP_HEADERS_TOO_LARGE);
		add_header(p, len);
		p->pos = after;
	}
	return SENSOR_HTTP_MORE;
}

static enum sensor_http_status parse_chunks(struct sensor_http_parser *p)
{
	size_t len, after;
	for (;;) {
		switch (p->state) {
		case HP_CHUNK_SIZE: {
			if (!next_line(p, &len, &after))
				return p->in.len - p->pos > p->lim.max_line
					       ? fail(p, SENSOR_HTTP_BAD)
					       : SENSOR_HTTP_MORE;
			const char *s = (const char *)p->in.data + p->pos;
			uint64_t size = 0;
			size_t i = 0;
			while (i < len && isxdigit((unsigned char)s[i]) && i < 15) {
				int c = tolower((unsigned char)s[i]);
				size = size * 16 + (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
				i++;
			}
			if (i == 0)
				return fail(p, SENSOR_HTTP_BAD);
			p->pos = after;
			if (size == 0) {
				p->state = HP_TRAILER;
				break;
			}
			if (size > p->lim.max_body - p->body.len)
				return fail(p, SENSOR_HTTP_TOO_LARGE);
			p->body_left = size;
			p->state = HP_CHUNK_DATA;
			break;
		}
		case HP_CHUNK_DATA: {
			size_t have = LIB_MIN((uint64_t)(p->in.len - p->pos), p->body_left);
			buf_append(&p->body, p->in.data + p->pos, have);
			p->pos += have;
			p->body_left -= have;
			if (p->body_left)
				return SENSOR_HTTP_MORE;
			p->state = HP_CHUNK_END;
			break;
		}
		case HP_CHUNK_END:
			if (!next_line(p, &len, &after))
				return p->in.len - p->pos > 2 ? fail(p, SENSOR_HTTP_BAD)
							      : SENSOR_HTTP_MORE;
			if (len)
				return fail(p, SENSOR_HTTP_BAD);
			p->pos = after;
			p->state = HP_CHUNK_SIZE;
			break;
		case HP_TRAILER:
			if (!next_line(p, &len, &after))
				return p->in.len - p->pos > p->lim.max_line
					       ? fail(p, SENSOR_HTTP_HEADERS_TOO_LARGE)
					       : SENSOR_HTTP_MORE;
			p->pos = after;
			if (len == 0) {
				p->state = HP_DONE;
				return SENSOR_HTTP_DONE;
			}
			break;
		default: return SENSOR_HTTP_MORE;
		}
	}
}

static enum sensor_http_status parse(struct sensor_http_parser *p)
{
	enum sensor_http_status st = SENSOR_HTTP_MORE;
	if (p->state == HP_LINE || p->state == HP_HEADERS)
		st = parse_head(p);
	if (st != SENSOR_HTTP_MORE && st != SENSOR_HTTP_DONE)
		return st;
	if (p->state == HP_BODY) {
		if (p->in.len - p->line_end >= p->body_left) {
			p->req.body_len = (size_t)p->body_left;
			p->pos = p->line_end + p->req.body_len;
			p->state = HP_DONE;
		}
	} else if (p->state >= HP_CHUNK_SIZE && p->state <= HP_TRAILER) {
		st = parse_chunks(p);
		if (st != SENSOR_HTTP_MORE && st != SENSOR_HTTP_DONE)
			return st;
	}
	if (p->state == HP_DONE) {
		finish(p);
		return SENSOR_HTTP_DONE;
	}
	if (p->req.expect_continue && !p->continue_sent &&
	    (p->state == HP_BODY || p->state == HP_CHUNK_SIZE)) {
		p->continue_sent = true;
		return SENSOR_HTTP_CONTINUE;
	}
	return SENSOR_HTTP_MORE;
}

enum sensor_http_status sensor_http_feed(struct sensor_http_parser *p, const void *data, size_t n,
					 size_t *used)
{
	*used = 0;
	if (p->state == HP_ERROR)
		return p->error;
	if (p->state == HP_DONE)
		return SENSOR_HTTP_DONE;
	size_t room = p->in.max - p->in.len;
	size_t take = LIB_MIN(n, room);
	if (take && buf_append(&p->in, data, take) == 0)
		*used = take;
	enum sensor_http_status st = parse(p);
	if (st == SENSOR_HTTP_MORE && *used < n)
		/* The buffer is full and the request still not complete. */
		return fail(p, p->state <= HP_HEADERS ? SENSOR_HTTP_HEADERS_TOO_LARGE
						      : SENSOR_HTTP_TOO_LARGE);
	return st;
}

const struct webui_request *sensor_http_request(struct sensor_http_parser *p)
{
	return p->state == HP_DONE ? &p->req : NULL;
}

enum sensor_http_status sensor_http_next(struct sensor_http_parser *p)
{
	if (p->state == HP_ERROR)
		return p->error;
	if (p->state == HP_DONE)
		buf_consume(&p->in, p->pos);
	else
		return parse(p);
	buf_reset(&p->body);
	struct webui_header *keep_h = p->req.headers;
	const char *keep_m = p->req.method;
	memset(&p->req, 0, sizeof(p->req));
	p->req.headers = keep_h;
	p->req.method = keep_m;
	p->pos = p->line_end = p->line_off = 0;
	p->nlines = 0;
	p->body_left = 0;
	p->continue_sent = false;
	p->state = HP_LINE;
	return parse(p);
}

size_t sensor_http_pending(const struct sensor_http_parser *p)
{
	return p->state == HP_DONE ? 0 : p->in.len;
}

const struct webui_header *sensor_http_header(const struct webui_request *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->nheaders; i++)
		if (r->headers[i].name_len == n && strncasecmp(r->headers[i].name, name, n) == 0)
			return &r->headers[i];
	return NULL;
}
