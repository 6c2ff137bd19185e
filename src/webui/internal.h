/* webui internals shared by its files: the engine, the per-source device views, the reply
 * being built, forms, logins and signatures. Not API. */
#ifndef MITSU_WEBUI_INTERNAL_H
#define MITSU_WEBUI_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "webui/webui.h"

/* ---- per-source device views ---- */

/* A source address's view of one device: what it changed, its Digest nonce and its form
 * session. Chained in a hash bucket and in the least-recently-seen list. */
struct webui_peer {
	struct webui_peer *hnext;
	struct webui_peer *prev, *next; /* LRU: head is the most recent */
	uint64_t hash;
	const struct profile *profile;
	char ip[46];
	char nonce[33];
	uint64_t nonce_ms; /* when the nonce was made (monotonic) */
	char token[33];    /* form session cookie value, "" if logged out */
	char *password;    /* the admin password after admin_password, or NULL */
	struct profile_web_kv settings[WEBUI_MAX_PEER_SETTINGS];
	size_t nsettings;
};

struct webui_rule {
	char *id;
	char *cve; /* NULL: none assigned */
	char *description;
	char *method; /* NULL: any */
	pcre2_code *target, *body, *header;
	char *intent, *outcome;
	unsigned payload; /* WEBUI_IN_* : where its commands are */
	char *sample;     /* file name under samples/ */
};
enum { WEBUI_IN_TARGET = 1, WEBUI_IN_BODY = 2, WEBUI_IN_HEADERS = 4 };

struct webui {
	struct webui_config cfg;
	struct webui_rule *rules;
	size_t nrules;
	bool rules_need_headers;
	pcre2_match_data *md;
	struct webui_peer **buckets;
	size_t nbuckets; /* power of two */
	size_t npeers;
	struct webui_peer *lru_head, *lru_tail;
	uint8_t key[16];
	int64_t date_sec; /* the second date_text shows */
	char date_text[40];
};

/* The peer of src_ip for profile p, made (evicting the oldest) if new. */
struct webui_peer *webui_peer_get(struct webui *w, const struct profile *p, const char *ip);
/* A setting as this peer sees it: its change, else the profile's default, else NULL. */
const char *webui_peer_setting(const struct webui_peer *pe, const char *key);
/* Sets a setting the profile declares; false if it declares no such key. */
bool webui_peer_set(struct webui_peer *pe, const char *key, const char *value);

/* ---- one request being answered ---- */

struct webui_ctx {
	struct webui *w;
	const struct profile *p;
	const struct profile_web *web;
	struct webui_peer *peer;
	const struct webui_request *req;
	const struct webui_io *io;
	struct buf *out;
	char path[1024];   /* the target up to '?' */
	const char *query; /* after '?', or "" */
	bool authed;
	bool close;
	/* extra headers of the reply */
	char location[1100];
	char cookie[128];
	bool challenge; /* 401: WWW-Authenticate */
	bool stale;
};

/* Emits an event through io. */
void webui_emit(struct webui_ctx *c, enum core_event id, json_t *fields, const char *fmt, ...)
	LIB_PRINTF(4, 5);
/* Appends a complete reply in the profile's shape. body may be NULL (then the status's own
 * page); with HEAD no body is sent. */
void webui_reply(struct webui_ctx *c, int status, const char *type, const void *body, size_t len);
/* Answers with a route: its rendered page, or its redirect. */
void webui_serve(struct webui_ctx *c, const struct profile_web_page *pg);
/* Renders a page: {{key}} becomes the peer's setting (escaped for HTML and XML pages). */
void webui_render(struct webui_ctx *c, const struct profile_web_page *pg, struct buf *out);
/* A header's value (first of that name, case-insensitive), NUL-terminated into out, or
 * false. */
bool webui_header(const struct webui_request *r, const char *name, char *out, size_t outlen);

/* ---- forms (application/x-www-form-urlencoded and the query) ---- */
struct webui_form {
	struct profile_web_kv f[WEBUI_MAX_FORM_FIELDS];
	size_t n;
	char *mem; /* the decoded copy the fields point into */
};
void webui_form_parse(struct webui_form *f, const char *p, size_t n);
void webui_form_free(struct webui_form *f);
const char *webui_form_get(const struct webui_form *f, const char *key);

/* ---- logins (auth.c) ---- */
/* Reads any credentials the request carries, records mitsu.http.login for each attempt and
 * sets c->authed. Answers the form login itself (returns true when it did). */
bool webui_auth(struct webui_ctx *c);
/* A fresh random hex token of 32 characters. */
void webui_token(char out[33]);

/* ---- actions (actions.c) ---- */
void webui_action(struct webui_ctx *c, const struct profile_web_page *pg);

/* ---- signatures (exploits.c) ---- */
int webui_rules_load(struct webui *w, const char *dir, char *err, size_t errlen);
void webui_rules_free(struct webui *w);
/* Matches, records mitsu.exploit.match and hands payload URLs to io.fetch. */
void webui_exploit_check(struct webui_ctx *c);

#endif
