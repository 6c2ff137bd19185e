/* Logins of the emulated devices: HTTP Basic (RFC 7617), HTTP Digest (RFC 7616, in the RFC
 * 2617 MD5 qop=auth form embedded servers speak; MD5-sess and SHA-256 are checked too when a
 * client offers them) and a form that sets a session cookie. Every attempt becomes one
 * mitsu.http.login. A Digest login reveals no password: it is checked against each of the
 * profile's credentials, so the password is known only when one of them matches. */
#include "webui/internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest username and password kept from a login. */
#define AUTH_MAX_FIELD 256
/* Bytes of an Authorization header read. */
#define AUTH_MAX_HEADER 4096

void webui_token(char out[33])
{
	uint8_t r[16];
	lib_random_fast(r, sizeof(r));
	lib_hex(r, sizeof(r), out);
}

/* Whether user/pass logs in to this peer's device: the profile's credentials, except that the
 * first credential's user has the new password once admin_password changed it. */
static bool accepts(const struct webui_ctx *c, const char *user, const char *pass)
{
	const struct profile_web *web = c->web;
	const char *admin = web->ncreds ? web->creds[0].username : "";
	if (c->peer->password && strcmp(user, admin) == 0)
		return strcmp(pass, c->peer->password) == 0;
	for (size_t i = 0; i < web->ncreds; i++)
		if (strcmp(web->creds[i].username, user) == 0 &&
		    (strcmp(web->creds[i].password, "*") == 0 ||
		     strcmp(web->creds[i].password, pass) == 0))
			return true;
	return false;
}

static void emit_login(struct webui_ctx *c, const char *scheme, const char *user, const char *pass,
		       bool ok)
{
	json_t *f = json_object();
	json_object_set_new(f, "scheme", json_string(scheme));
	json_object_set_new(f, "username", core_json_str(user));
	json_object_set_new(f, "password", pass ? core_json_str(pass) : json_null());
	json_object_set_new(f, "success", json_boolean(ok));
	json_object_set_new(f, "profile", json_string(c->p->name));
	webui_emit(c, EV_HTTP_LOGIN, f, "%s login attempt [%.64s/%.64s] %s", scheme, user,
		   pass ? pass : "?", ok ? "succeeded" : "failed");
	if (ok)
		c->authed = true;
}

/* ------------------------------------------------------------------ Basic */

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Tolerant base64: skips what is not of the alphabet, stops at '='. */
static size_t b64decode(const char *in, char *out, size_t max)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	for (; *in && *in != '=' && n < max; in++) {
		int v = b64val((unsigned char)*in);
		if (v < 0)
			continue;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)(acc >> bits & 0xff);
		}
	}
	return n;
}

static void basic(struct webui_ctx *c, const char *v)
{
	char dec[2 * AUTH_MAX_FIELD + 2];
	size_t n = b64decode(v, dec, sizeof(dec) - 1);
	dec[n] = '\0';
	char *colon = memchr(dec, ':', n);
	const char *pass = "";
	if (colon) {
		*colon = '\0';
		pass = colon + 1;
	}
	bool ok = (c->web->auth & PROFILE_AUTH_BASIC) && accepts(c, dec, pass);
	emit_login(c, "basic", dec, pass, ok);
}

/* ------------------------------------------------------------------ Digest */

struct digest {
	char username[AUTH_MAX_FIELD], realm[AUTH_MAX_FIELD], nonce[128], uri[1024], response[160],
		qop[32], nc[32], cnonce[128], algorithm[32];
};

/* Reads the key=value and key="value" pairs of a Digest header, in any order. */
static void digest_parse(const char *s, struct digest *d)
{
	static const struct {
		const char *key;
		size_t off, size;
	} keys[] = {
#define K(n) {#n, offsetof(struct digest, n), sizeof(((struct digest *)0)->n)}
		K(username), K(realm), K(nonce),  K(uri),       K(response),
		K(qop),      K(nc),    K(cnonce), K(algorithm),
#undef K
	};
	memset(d, 0, sizeof(*d));
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		const char *k = s;
		while (*s && *s != '=' && *s != ',')
			s++;
		size_t kl = (size_t)(s - k);
		while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
			kl--;
		if (*s != '=')
			continue;
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		char val[1024];
		size_t vl = 0;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				if (vl < sizeof(val) - 1)
					val[vl++] = *s;
			}
			if (*s == '"')
				s++;
		} else {
			for (; *s && *s != ','; s++)
				if (vl < sizeof(val) - 1)
					val[vl++] = *s;
			while (vl && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
				vl--;
		}
		val[vl] = '\0';
		for (size_t i = 0; i < LIB_ARRAY_LEN(keys); i++)
			if (strlen(keys[i].key) == kl && strncasecmp(k, keys[i].key, kl) == 0)
				lib_strlcpy((char *)d + keys[i].off, val, keys[i].size);
	}
}

/* Hex digest of the pieces joined with ':'. */
static void hash_hex(const EVP_MD *md, char *out, const char *const *parts, size_t n)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, md, NULL);
	for (size_t i = 0; i < n; i++) {
		if (i)
			EVP_DigestUpdate(ctx, ":", 1);
		EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
	}
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned hl = 0;
	EVP_DigestFinal_ex(ctx, h, &hl);
	EVP_MD_CTX_free(ctx);
	lib_hex(h, hl, out);
}

static bool digest_ok(const struct webui_ctx *c, const struct digest *d, const char *pass)
{
	const EVP_MD *md = EVP_md5();
	bool sess = false;
	if (d->algorithm[0]) {
		if (strncasecmp(d->algorithm, "SHA-256", 7) == 0)
			md = EVP_sha256();
		else if (strncasecmp(d->algorithm, "MD5", 3) != 0)
			return false;
		sess = strcasestr(d->algorithm, "-sess") != NULL;
	}
	char ha1[2 * EVP_MAX_MD_SIZE + 1], ha2[2 * EVP_MAX_MD_SIZE + 1],
		resp[2 * EVP_MAX_MD_SIZE + 1];
	hash_hex(md, ha1, (const char *const[]){d->username, d->realm, pass}, 3);
	if (sess) {
		char tmp[sizeof(ha1)];
		memcpy(tmp, ha1, sizeof(tmp));
		hash_hex(md, ha1, (const char *const[]){tmp, d->nonce, d->cnonce}, 3);
	}
	hash_hex(md, ha2, (const char *const[]){c->req->method, d->uri}, 2);
	if (d->qop[0])
		hash_hex(md, resp,
			 (const char *const[]){ha1, d->nonce, d->nc, d->cnonce, d->qop, ha2}, 6);
	else
		hash_hex(md, resp, (const char *const[]){ha1, d->nonce, ha2}, 3);
	return strcasecmp(resp, d->response) == 0;
}

static void digest(struct webui_ctx *c, const char *v)
{
	struct digest d;
	digest_parse(v, &d);
	const struct profile_web *web = c->web;
	const char *known = NULL;
	bool fresh = c->peer->nonce[0] && strcmp(d.nonce, c->peer->nonce) == 0 &&
		     lib_mono_ms() - c->peer->nonce_ms <= c->w->cfg.nonce_ms;
	if ((web->auth & PROFILE_AUTH_DIGEST) && strcmp(d.realm, web->realm) == 0) {
		const char *admin = web->ncreds ? web->creds[0].username : "";
		if (c->peer->password && strcmp(d.username, admin) == 0) {
			if (digest_ok(c, &d, c->peer->password))
				known = c->peer->password;
		} else {
			for (size_t i = 0; i < web->ncreds && !known; i++)
				if (strcmp(web->creds[i].username, d.username) == 0 &&
				    digest_ok(c, &d, web->creds[i].password))
					known = web->creds[i].password;
		}
	}
	/* A right answer to a nonce we did not give (or gave too long ago) is stale: the
	 * client is asked again with a fresh one, as RFC 7616 §3.3 says. */
	if (known && !fresh) {
		c->stale = true;
		known = NULL;
	}
	emit_login(c, "digest", d.username, known, known != NULL);
}

/* ------------------------------------------------------------------ form */

static const char *const user_fields[] = {"username", "user",      "login",     "usr",
					  "name",     "loginUser", "user_name", "admin_name"};
static const char *const pass_fields[] = {"password",  "pass",          "passwd",   "pwd",
					  "loginPass", "user_password", "admin_pwd"};

static const char *first_of(const struct webui_form *f, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = webui_form_get(f, names[i]);
		if (v)
			return v;
	}
	return NULL;
}

static bool cookie_ok(const struct webui_ctx *c)
{
	char cookie[1024];
	if (!c->peer->token[0] || !webui_header(c->req, "Cookie", cookie, sizeof(cookie)))
		return false;
	size_t nl = strlen(c->web->cookie);
	for (char *s = cookie; *s;) {
		while (*s == ' ' || *s == ';')
			s++;
		char *end = s + strcspn(s, ";");
		if (strncmp(s, c->web->cookie, nl) == 0 && s[nl] == '=' &&
		    (size_t)(end - s - (ptrdiff_t)nl - 1) == strlen(c->peer->token) &&
		    strncmp(s + nl + 1, c->peer->token, strlen(c->peer->token)) == 0)
			return true;
		s = end;
	}
	return false;
}

static void form_login(struct webui_ctx *c, const struct webui_form *f)
{
	const struct profile_web *web = c->web;
	const char *user = webui_form_get(f, web->user_field);
	const char *pass = webui_form_get(f, web->pass_field);
	bool ok = user && pass && accepts(c, user, pass);
	emit_login(c, "form", user ? user : "", pass ? pass : "", ok);
	if (ok) {
		webui_token(c->peer->token);
		snprintf(c->cookie, sizeof(c->cookie), "%s=%s; path=/", web->cookie,
			 c->peer->token);
		lib_strlcpy(c->location, web->home, sizeof(c->location));
		webui_reply(c, 302, NULL, NULL, 0);
		return;
	}
	const struct profile_web_page *pg = profile_web_page(web, web->login_action, "POST");
	if (pg && pg->status == 200) {
		webui_serve(c, pg);
		return;
	}
	lib_strlcpy(c->location, web->login_page, sizeof(c->location));
	webui_reply(c, 302, NULL, NULL, 0);
}

bool webui_auth(struct webui_ctx *c)
{
	const struct profile_web *web = c->web;
	char *v = xmalloc(AUTH_MAX_HEADER);
	if (webui_header(c->req, "Authorization", v, AUTH_MAX_HEADER)) {
		if (strncasecmp(v, "Basic ", 6) == 0)
			basic(c, v + 6);
		else if (strncasecmp(v, "Digest ", 7) == 0)
			digest(c, v + 7);
	}
	free(v);
	if ((web->auth & PROFILE_AUTH_FORM) && cookie_ok(c))
		c->authed = true;
	if (strcmp(c->req->method, "POST") != 0 || !c->req->body_len)
		return false;
	bool login_action =
		(web->auth & PROFILE_AUTH_FORM) && strcmp(c->path, web->login_action) == 0;
	/* Credentials posted to a device without a form login are attempts too (the seed counts
	 * them for devices that have no login at all); the page answers as it would anyway. */
	const struct profile_web_page *pg = profile_web_page(web, c->path, "POST");
	if (!login_action && pg && pg->action != PROFILE_ACTION_NONE)
		return false;
	struct webui_form f;
	webui_form_parse(&f, (const char *)c->req->body, c->req->body_len);
	if (login_action) {
		form_login(c, &f);
		webui_form_free(&f);
		return true;
	}
	const char *user = first_of(&f, user_fields, LIB_ARRAY_LEN(user_fields));
	const char *pass = first_of(&f, pass_fields, LIB_ARRAY_LEN(pass_fields));
	if (user && pass)
		emit_login(c, "form", user, pass, false);
	webui_form_free(&f);
	return false;
}
