/* The web honeypot's engine: per-source device views, the request's way through login,
 * signatures and routes, and replies in the shape of the emulated server. */
#include "webui/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef MITSU_RULES_INSTALL_DIR
#define MITSU_RULES_INSTALL_DIR "/usr/local/share/mitsu/rules"
#endif

const char *webui_default_rules_dir(void)
{
	return MITSU_SOURCE_DIR "/rules/exploits";
}

int webui_open(struct webui **out, const struct webui_config *cfg, char *err, size_t errlen)
{
	struct webui *w = xcalloc(1, sizeof(*w));
	*out = NULL;
	w->cfg = *cfg;
	if (!w->cfg.max_peers)
		w->cfg.max_peers = 1;
	w->nbuckets = 16;
	while (w->nbuckets < w->cfg.max_peers)
		w->nbuckets *= 2;
	w->buckets = xcalloc(w->nbuckets, sizeof(*w->buckets));
	lib_random(w->key, sizeof(w->key));
	const char *dir =
		cfg->rules_dir && *cfg->rules_dir ? cfg->rules_dir : webui_default_rules_dir();
	int rc = webui_rules_load(w, dir, err, errlen);
	if (rc) {
		webui_close(w);
		return rc;
	}
	*out = w;
	return 0;
}

static void peer_free(struct webui_peer *pe)
{
	for (size_t i = 0; i < pe->nsettings; i++) {
		free(pe->settings[i].key);
		free(pe->settings[i].value);
	}
	free(pe->password);
	free(pe);
}

void webui_close(struct webui *w)
{
	if (!w)
		return;
	webui_rules_free(w);
	for (struct webui_peer *pe = w->lru_head, *next; pe; pe = next) {
		next = pe->next;
		peer_free(pe);
	}
	free(w->buckets);
	free(w);
}

size_t webui_nrules(const struct webui *w)
{
	return w->nrules;
}

/* ------------------------------------------------------------------ peers */

static void lru_unlink(struct webui *w, struct webui_peer *pe)
{
	if (pe->prev)
		pe->prev->next = pe->next;
	else
		w->lru_head = pe->next;
	if (pe->next)
		pe->next->prev = pe->prev;
	else
		w->lru_tail = pe->prev;
	pe->prev = pe->next = NULL;
}

static void lru_push(struct webui *w, struct webui_peer *pe)
{
	pe->next = w->lru_head;
	if (w->lru_head)
		w->lru_head->prev = pe;
	w->lru_head = pe;
	if (!w->lru_tail)
		w->lru_tail = pe;
}

static void evict_oldest(struct webui *w)
{
	struct webui_peer *old = w->lru_tail;
	lru_unlink(w, old);
	struct webui_peer **pp = &w->buckets[old->hash & (w->nbuckets - 1)];
	while (*pp != old)
		pp = &(*pp)->hnext;
	*pp = old->hnext;
	w->npeers--;
	peer_free(old);
}

struct webui_peer *webui_peer_get(struct webui *w, const struct profile *p, const char *ip)
{
	struct {
		const void *p;
		char ip[46];
	} key;
	memset(&key, 0, sizeof(key)); /* padding too: the hash reads every byte */
	key.p = p;
	lib_strlcpy(key.ip, ip, sizeof(key.ip));
	uint64_t h = lib_siphash(&key, sizeof(key), w->key);
	struct webui_peer **bucket = &w->buckets[h & (w->nbuckets - 1)];
	for (struct webui_peer *pe = *bucket; pe; pe = pe->hnext)
		if (pe->hash == h && pe->profile == p && strcmp(pe->ip, key.ip) == 0) {
			lru_unlink(w, pe);
			lru_push(w, pe);
			return pe;
		}
	if (w->npeers >= w->cfg.max_peers)
		evict_oldest(w);
	struct webui_peer *pe = xcalloc(1, sizeof(*pe));
	pe->hash = h;
	pe->profile = p;
	memcpy(pe->ip, key.ip, sizeof(pe->ip));
	pe->hnext = *bucket;
	*bucket = pe;
	lru_push(w, pe);
	w->npeers++;
	return pe;
}

const char *webui_peer_setting(const struct webui_peer *pe, const char *key)
{
	for (size_t i = 0; i < pe->nsettings; i++)
		if (strcmp(pe->settings[i].key, key) == 0)
			return pe->settings[i].value;
	return profile_web_setting(pe->profile->web, key);
}

bool webui_peer_set(struct webui_peer *pe, const char *key, const char *value)
{
	if (!profile_web_setting(pe->profile->web, key))
		return false;
	size_t vl = strnlen(value, WEBUI_MAX_VALUE);
	for (size_t i = 0; i < pe->nsettings; i++)
		if (strcmp(pe->settings[i].key, key) == 0) {
			free(pe->settings[i].value);
			pe->settings[i].value = xstrndup(value, vl);
			return true;
		}
	if (pe->nsettings >= WEBUI_MAX_PEER_SETTINGS)
		return false;
	pe->settings[pe->nsettings].key = xstrdup(key);
	pe->settings[pe->nsettings].value = xstrndup(value, vl);
	pe->nsettings++;
	return true;
}

/* ------------------------------------------------------------------ replies */

void webui_emit(struct webui_ctx *c, enum core_event id, json_t *fields, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->io->emit(c->io->arg, id, fields, msg);
}

bool webui_header(const struct webui_request *r, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->nheaders; i++)
		if (r->headers[i].name_len == n && strncasecmp(r->headers[i].name, name, n) == 0) {
			size_t l = LIB_MIN(r->headers[i].value_len, outlen - 1);
			memcpy(out, r->headers[i].value, l);
			out[l] = '\0';
			return true;
		}
	return false;
}

static const char *date_now(struct webui *w)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != w->date_sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(w->date_text, sizeof(w->date_text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		w->date_sec = ts.tv_sec;
	}
	return w->date_text;
}

/* The generic page of a status the server makes itself. */
static void status_page(int code, const char *reason, struct buf *b)
{
	buf_printf(b,
		   "<html><head><title>%d %s</title></head>\n<body><h1>%d %s</h1></body></html>\n",
		   code, reason, code, reason);
}

static void challenge(struct webui_ctx *c, struct buf *o)
{
	const struct profile_web *web = c->web;
	if (web->auth & PROFILE_AUTH_DIGEST) {
		if (!c->peer->nonce[0] || lib_mono_ms() - c->peer->nonce_ms > c->w->cfg.nonce_ms) {
			webui_token(c->peer->nonce);
			c->peer->nonce_ms = lib_mono_ms();
		}
		buf_printf(
			o,
			"WWW-Authenticate: Digest realm=\"%s\", qop=\"auth\", nonce=\"%s\"%s\r\n",
			web->realm, c->peer->nonce, c->stale ? ", stale=TRUE" : "");
	}
	if (web->auth & PROFILE_AUTH_BASIC)
		buf_printf(o, "WWW-Authenticate: Basic realm=\"%s\"\r\n", web->realm);
}

void webui_reply(struct webui_ctx *c, int status, const char *type, const void *body, size_t len)
{
	const struct profile_web *web = c->web;
	const struct profile_web_status *st = profile_web_status(web, status);
	const char *reason = st ? st->reason : "Unknown";
	struct buf page;
	buf_init(&page, 0);
	if (!body && st && st->body) {
		body = st->body;
		len = st->len;
		type = "text/html";
	} else if (!body && status != 200 && status != 304) {
		status_page(status, reason, &page);
		body = page.data;
		len = page.len;
		type = "text/html";
	}
	struct buf *o = c->out;
	buf_printf(o, "HTTP/1.%d %d %s\r\n", web->minor, status, reason);
	for (size_t i = 0; i < web->norder; i++) {
		const char *t = web->order[i];
		if (strcmp(t, "server") == 0) {
			if (web->server[0])
				buf_printf(o, "Server: %s\r\n", web->server);
		} else if (strcmp(t, "date") == 0) {
			buf_printf(o, "Date: %s\r\n", date_now(c->w));
		} else if (strcmp(t, "type") == 0) {
			if (type)
				buf_printf(o, "Content-Type: %s\r\n", type);
		} else if (strcmp(t, "length") == 0) {
			buf_printf(o, "Content-Length: %zu\r\n", len);
		} else if (strcmp(t, "connection") == 0) {
			buf_printf(o, "Connection: %s\r\n", c->close ? "close" : "keep-alive");
		} else if (strcmp(t, "auth") == 0) {
			if (c->challenge)
				challenge(c, o);
		} else if (strcmp(t, "location") == 0) {
			if (c->location[0])
				buf_printf(o, "Location: %s\r\n", c->location);
		} else if (strcmp(t, "cookie") == 0) {
			if (c->cookie[0])
				buf_printf(o, "Set-Cookie: %s\r\n", c->cookie);
		} else {
			for (size_t k = 0; k < web->nheaders; k++)
				if (strcmp(web->headers[k].key, t) == 0)
					buf_printf(o, "%s\r\n", web->headers[k].value);
		}
	}
	buf_append(o, "\r\n", 2);
	if (body && len && strcmp(c->req->method, "HEAD") != 0)
		buf_append(o, body, len);
	buf_free(&page);
}

static void escape_into(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_append_str(b, "&lt;"); break;
		case '>': buf_append_str(b, "&gt;"); break;
		case '&': buf_append_str(b, "&amp;"); break;
		case '"': buf_append_str(b, "&quot;"); break;
		case '\'': buf_append_str(b, "&#39;"); break;
		default: buf_append(b, s, 1);
		}
	}
}

void webui_render(struct webui_ctx *c, const struct profile_web_page *pg, struct buf *out)
{
	const char *s = (const char *)pg->body, *end = s + pg->len;
	bool escape = pg->type && (strstr(pg->type, "html") || strstr(pg->type, "xml"));
	while (s < end) {
		const char *open = memmem(s, (size_t)(end - s), "{{", 2);
		const char *close =
			open ? memmem(open + 2, (size_t)(end - open - 2), "}}", 2) : NULL;
		if (!open || !close || close - open > 64) {
			const char *stop = open && !close ? end : open ? open + 2 : end;
			buf_append(out, s, (size_t)(stop - s));
			s = stop;
			continue;
		}
		buf_append(out, s, (size_t)(open - s));
		char key[64];
		size_t kl = (size_t)(close - open - 2);
		memcpy(key, open + 2, kl);
		key[kl] = '\0';
		const char *v = webui_peer_setting(c->peer, key);
		if (v && escape)
			escape_into(out, v);
		else if (v)
			buf_append_str(out, v);
		s = close + 2;
	}
}

/* ------------------------------------------------------------------ requests */

static void emit_request(struct webui_ctx *c)
{
	const struct webui_request *r = c->req;
	json_t *h = json_object();
	char host[256] = "", ua[512] = "";
	for (size_t i = 0; i < r->nheaders && i < WEBUI_MAX_EVENT_HEADERS; i++) {
		char name[128];
		size_t nl = LIB_MIN(r->headers[i].name_len, sizeof(name) - 1);
		memcpy(name, r->headers[i].name, nl);
		name[nl] = '\0';
		/* A repeated header keeps its first value (the one servers act on). */
		if (!json_object_get(h, name))
			json_object_set_new(h, name,
					    core_json_bytes(r->headers[i].value,
							    LIB_MIN(r->headers[i].value_len,
								    WEBUI_MAX_HEADER_FIELD)));
	}
	webui_header(r, "Host", host, sizeof(host));
	webui_header(r, "User-Agent", ua, sizeof(ua));
	json_t *f = json_object();
	json_object_set_new(f, "method", core_json_str(r->method));
	json_object_set_new(f, "uri", core_json_bytes(r->target, r->target_len));
	json_object_set_new(f, "version", json_string(r->minor >= 0 ? r->version : ""));
	json_object_set_new(f, "host", core_json_str(host));
	json_object_set_new(f, "user_agent", core_json_str(ua));
	json_object_set_new(f, "headers", h);
	json_object_set_new(f, "body_size", json_integer((json_int_t)r->body_len));
	if (r->body_len) {
		char sha[LIB_SHA256_HEX];
		lib_sha256_hex(r->body, r->body_len, sha);
		json_object_set_new(f, "body_sha256", json_string(sha));
	} else {
		json_object_set_new(f, "body_sha256", json_null());
	}
	json_object_set_new(f, "profile", json_string(c->p->name));
	webui_emit(c, EV_HTTP_REQUEST, f, "%s %.200s", r->method, r->target);
}

void webui_serve(struct webui_ctx *c, const struct profile_web_page *pg)
{
	if (pg->status != 200) {
		lib_strlcpy(c->location, pg->location, sizeof(c->location));
		webui_reply(c, pg->status, NULL, NULL, 0);
		return;
	}
	struct buf body;
	buf_init(&body, 0);
	webui_render(c, pg, &body);
	webui_reply(c, 200, pg->type, body.data, body.len);
	buf_free(&body);
}

/* Unauthenticated: a 401 challenge (Basic, Digest), or the way to the form's login page. */
static void deny(struct webui_ctx *c)
{
	if (c->web->auth & (PROFILE_AUTH_BASIC | PROFILE_AUTH_DIGEST)) {
		c->challenge = true;
		webui_reply(c, 401, NULL, NULL, 0);
		return;
	}
	lib_strlcpy(c->location, c->web->login_page, sizeof(c->location));
	webui_reply(c, 302, NULL, NULL, 0);
}

static bool is_method(const char *m)
{
	static const char *const known[] = {"GET", "HEAD", "POST", "PUT"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(known); i++)
		if (strcmp(m, known[i]) == 0)
			return true;
	return false;
}

bool webui_handle(struct webui *w, const struct profile *p, const char *src_ip,
		  const struct webui_request *req, const struct webui_io *io, struct buf *out)
{
	struct webui_ctx c = {
		.w = w,
		.p = p,
		.web = p->web,
		.req = req,
		.io = io,
		.out = out,
	};
	c.peer = webui_peer_get(w, p, src_ip);
	c.close = !req->keep_alive || !c.web->keep_alive || req->minor < 0;
	size_t pl = strcspn(req->target, "?");
	lib_strlcpy(c.path, req->target, LIB_MIN(pl + 1, sizeof(c.path)));
	c.query = req->target[pl] ? req->target + pl + 1 : "";
	emit_request(&c);
	webui_exploit_check(&c);
	if (webui_auth(&c))
		return c.close;
	const struct profile_web_page *pg = profile_web_page(c.web, c.path, req->method);
	/* Embedded servers answer a POST to a page with the page. */
	if (!pg && strcmp(req->method, "POST") == 0)
		pg = profile_web_page(c.web, c.path, "GET");
	if (pg && !pg->public && !c.authed) {
		deny(&c);
	} else if (pg) {
		if (pg->action != PROFILE_ACTION_NONE)
			webui_action(&c, pg);
		else
			webui_serve(&c, pg);
	} else if (!is_method(req->method)) {
		webui_reply(&c, 501, NULL, NULL, 0);
	} else if (!c.authed && (c.web->auth & (PROFILE_AUTH_BASIC | PROFILE_AUTH_DIGEST))) {
		/* Servers with HTTP auth challenge before they say a page does not exist. */
		deny(&c);
	} else {
		webui_reply(&c, 404, NULL, NULL, 0);
	}
	return c.close;
}

void webui_error(struct webui *w, const struct profile *p, int status, struct buf *out)
{
	static const struct webui_request empty = {.method = "GET", .target = "", .version = ""};
	struct webui_ctx c = {
		.w = w, .p = p, .web = p->web, .req = &empty, .out = out, .close = true};
	webui_reply(&c, status, NULL, NULL, 0);
}
