/* audit: the checks of one host. Identification runs first (the ident engine's probes); its
 * observations decide which active checks follow, each on connections of the same engine:
 * Telnet logins with the profiles' default credentials, HTTP Basic/Digest and form logins,
 * and the UPnP IGD's port mappings. When the last check ends, the host's findings are
 * reported. */
#include "audit/audit_int.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUDIT_ROW(id, name, sev) {name, AUDIT_##sev},
static const struct {
	const char *name;
	enum audit_severity severity;
} kinds[] = {AUDIT_FINDINGS(AUDIT_ROW)};
#undef AUDIT_ROW

/* The seed's advice for makers (seed/SUMMARY.md §4 and §5), one line per kind. */
static const char *const advice[AUDIT_F__COUNT] = {
	[AUDIT_F_IDENTIFIED] = "What an attacker's scan-back sees of this device: keep banners "
			       "free of model and firmware where you can.",
	[AUDIT_F_TELNET_OPEN] = "Do not expose Telnet: turn it off in the firmware, or bind it to "
				"the LAN side only (seed §5).",
	[AUDIT_F_TELNET_DEFAULT] = "Never ship a shared default password: make the user set one "
				   "before the device works (seed §5).",
	[AUDIT_F_SSH_OPEN] = "Expose SSH only where needed, with keys rather than passwords.",
	[AUDIT_F_WEBUI_OPEN] = "Never expose the WebUI to the internet by default (seed §5).",
	[AUDIT_F_WEB_DEFAULT] = "The WebUI accepts a default password that bots try: make the "
				"user set a password before the device works (seed §5).",
	[AUDIT_F_UPNP_OPEN] = "Answer UPnP discovery on the LAN side only.",
	[AUDIT_F_UPNP_FORWARDS] = "UPnP port forwards make devices behind the router directly "
				  "reachable (baby and pet cameras, seed §4): disable UPnP IGD or "
				  "review its mappings.",
	[AUDIT_F_SILENT_PORT] = "A port that accepts and says nothing is how Mirai holds 22/23/80 "
				"after killing the real service: check the device for infection "
				"and update its firmware (seed §5).",
	[AUDIT_F_KNOWN_VULN] = "Bots exploit this CVE to recruit devices like this one: update "
			       "the firmware, and never expose this service on the WAN side "
			       "(seed §5).",
};

const char *audit_severity_name(enum audit_severity s)
{
	static const char *const names[] = {"info", "low", "medium", "high"};
	return (unsigned)s < LIB_ARRAY_LEN(names) ? names[s] : "?";
}

const char *audit_advice(enum audit_finding_kind k)
{
	return (unsigned)k < AUDIT_F__COUNT ? advice[k] : "";
}

const char *audit_finding_name(enum audit_finding_kind k)
{
	return (unsigned)k < AUDIT_F__COUNT ? kinds[k].name : "?";
}

struct audit_finding *audit_add(struct audit_host *ah, enum audit_finding_kind k, const char *fmt,
				...)
{
	if (ah->nfindings >= AUDIT_MAX_FINDINGS)
		return NULL;
	struct audit_finding *f = &ah->findings[ah->nfindings++];
	f->kind = k;
	f->cve[0] = '\0';
	f->severity = kinds[k].severity;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->evidence, sizeof(f->evidence), fmt, ap);
	va_end(ap);
	return f;
}

/* One active check fewer; the host ends after the last. */
void audit_check_done(struct audit_host *ah)
{
	if (--ah->pending == 0) {
		ident_engine_host_end(ah->hc);
		ah->hc = NULL;
		audit_host_report(ah);
	}
}

/* ------------------------------------------------------------------ telnet logins */

enum tl_state { TL_LOGIN, TL_PASS, TL_RESULT };

struct telnet_try {
	struct audit_host *ah;
	int port;
	size_t cred;
	enum tl_state st;
	uint32_t tstate;
	struct buf text;
	bool success, decided;
};

static void telnet_next(struct audit_host *ah, int port, size_t cred);

static bool says_failure(const uint8_t *p, size_t n)
{
	static const char *const words[] = {"ncorrect", "failed", "denied", "nvalid", "rror"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(words); i++)
		if (memmem(p, n, words[i], strlen(words[i])))
			return true;
	return false;
}

static void tl_send(struct ident_conn *c, const char *s)
{
	ident_conn_write(c, s, strlen(s));
	ident_conn_write(c, "\r\n", 2);
}

static void tl_open(struct ident_conn *c, void *arg) {}

static void tl_data(struct ident_conn *c, void *arg)
{
	struct telnet_try *t = arg;
	size_t n;
	const uint8_t *d = ident_conn_data(c, &n);
	uint8_t out[4096], reply[256];
	size_t nreply, o = ident_telnet_filter(d, n, out, sizeof(out), reply, sizeof(reply),
					       &nreply, &t->tstate);
	ident_conn_consume(c, n);
	buf_append(&t->text, out, o);
	if (nreply)
		ident_conn_write(c, reply, nreply);
	const struct audit_cred *cr = &t->ah->run->creds[t->cred];
	enum ident_prompt p = ident_telnet_prompt(t->text.data, t->text.len);
	switch (t->st) {
	case TL_LOGIN:
		if (p == IDENT_PROMPT_LOGIN) {
			tl_send(c, cr->user);
			t->st = TL_PASS;
			buf_reset(&t->text);
		} else if (p == IDENT_PROMPT_PASSWORD) {
			tl_send(c, cr->pass);
			t->st = TL_RESULT;
			buf_reset(&t->text);
		}
		break;
	case TL_PASS:
		if (p == IDENT_PROMPT_PASSWORD) {
			tl_send(c, cr->pass);
			t->st = TL_RESULT;
			buf_reset(&t->text);
		} else if (p == IDENT_PROMPT_SHELL) { /* no password asked at all */
			t->success = t->decided = true;
			ident_conn_done(c);
		}
		break;
	case TL_RESULT:
		if (says_failure(t->text.data, t->text.len) || p == IDENT_PROMPT_LOGIN ||
		    p == IDENT_PROMPT_PASSWORD) {
			t->decided = true;
			ident_conn_done(c);
		} else if (p == IDENT_PROMPT_SHELL) {
			t->success = t->decided = true;
			ident_conn_done(c);
		}
		break;
	}
}

static void tl_end(struct ident_conn *c, void *arg, enum ident_outcome o)
{
	struct telnet_try *t = arg;
	struct audit_host *ah = t->ah;
	const struct audit_cred *cr = &ah->run->creds[t->cred];
	int port = t->port;
	size_t next = t->cred + 1;
	bool success = t->success;
	buf_free(&t->text);
	free(t);
	if (success) {
		audit_add(ah, AUDIT_F_TELNET_DEFAULT, "telnet:%d accepted %s / %s", port, cr->user,
			  cr->pass[0] ? cr->pass : "(empty password)");
		audit_check_done(ah);
		return;
	}
	if (o == IDENT_OUT_REFUSED || o == IDENT_OUT_TIMEOUT || o == IDENT_OUT_SKIPPED ||
	    next >= ah->run->max_logins) {
		audit_check_done(ah);
		return;
	}
	telnet_next(ah, port, next);
}

static const struct ident_conn_ops telnet_try_ops = {
	.on_open = tl_open,
	.on_data = tl_data,
	.on_end = tl_end,
};

static void telnet_next(struct audit_host *ah, int port, size_t cred)
{
	struct telnet_try *t = xcalloc(1, sizeof(*t));
	t->ah = ah;
	t->port = port;
	t->cred = cred;
	buf_init(&t->text, 8192);
	ident_hostctx_open(ah->hc, port, false, &telnet_try_ops, t);
}

void audit_telnet_logins(struct audit_host *ah, int port)
{
	if (ah->run->max_logins == 0)
		return;
	ah->pending++;
	telnet_next(ah, port, 0);
}

/* ------------------------------------------------------------------ UPnP port mappings */

struct portmap {
	struct audit_host *ah;
	int port;
	char path[256], service[128];
	int index;
	struct buf list; /* the mappings found, for the evidence */
	int count;
};

/* The text of <tag>...</tag> (any namespace prefix) in body, into out. */
static bool tag_text(const char *body, size_t n, const char *tag, char *out, size_t outlen)
{
	char open[64];
	snprintf(open, sizeof(open), "%s>", tag);
	const char *p = memmem(body, n, open, strlen(open));
	if (!p || p == body || (p[-1] != '<' && p[-1] != ':'))
		return false;
	p += strlen(open);
	const char *e = memchr(p, '<', n - (size_t)(p - body));
	if (!e)
		return false;
	size_t l = LIB_MIN((size_t)(e - p), outlen - 1);
	memcpy(out, p, l);
	out[l] = '\0';
	return true;
}

static void portmap_request(struct portmap *pm);

static void portmap_finish(struct portmap *pm)
{
	struct audit_host *ah = pm->ah;
	if (pm->count)
		audit_add(ah, AUDIT_F_UPNP_FORWARDS, "%d port forward%s via %s: %s", pm->count,
			  pm->count == 1 ? "" : "s", pm->path, (const char *)pm->list.data);
	buf_free(&pm->list);
	free(pm);
	audit_check_done(ah);
}

static void on_mapping(void *arg, enum ident_outcome o, const struct ident_http_resp *r,
		       struct ident_conn *c)
{
	struct portmap *pm = arg;
	char ext[16], proto[8], client[64], internal[16], desc[64];
	if (o != IDENT_OUT_DATA || !r || r->status != 200 || !r->body ||
	    !tag_text(r->body, r->body_len, "NewExternalPort", ext, sizeof(ext))) {
		portmap_finish(pm); /* 713 SpecifiedArrayIndexInvalid ends the list */
		return;
	}
	if (!tag_text(r->body, r->body_len, "NewProtocol", proto, sizeof(proto)))
		proto[0] = '\0';
	if (!tag_text(r->body, r->body_len, "NewInternalClient", client, sizeof(client)))
		client[0] = '\0';
	if (!tag_text(r->body, r->body_len, "NewInternalPort", internal, sizeof(internal)))
		internal[0] = '\0';
	if (!tag_text(r->body, r->body_len, "NewPortMappingDescription", desc, sizeof(desc)))
		desc[0] = '\0';
	if (pm->count < AUDIT_MAX_MAPPINGS)
		buf_printf(&pm->list, "%s%s %s -> %s:%s (%s)", pm->count ? "; " : "", proto, ext,
			   client, internal, desc);
	pm->count++;
	pm->index++;
	if (pm->index >= pm->ah->run->portmap_entries || ident_hostctx_timed_out(pm->ah->hc)) {
		portmap_finish(pm);
		return;
	}
	portmap_request(pm);
}

static void portmap_request(struct portmap *pm)
{
	char body[768], extra[256];
	snprintf(body, sizeof(body),
		 "<?xml version=\"1.0\"?>\r\n<s:Envelope "
		 "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
		 "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
		 "<u:GetGenericPortMappingEntry xmlns:u=\"%s\"><NewPortMappingIndex>%d"
		 "</NewPortMappingIndex></u:GetGenericPortMappingEntry></s:Body></s:Envelope>\r\n",
		 pm->service, pm->index);
	snprintf(extra, sizeof(extra),
		 "Content-Type: text/xml; charset=\"utf-8\"\r\nSOAPAction: "
		 "\"%s#GetGenericPortMappingEntry\"\r\n",
		 pm->service);
	ident_http_request(pm->ah->hc, pm->port, false, "POST", pm->path, extra, body, strlen(body),
			   on_mapping, pm);
}

/* A control URL: relative, or absolute on the same host. */
static bool control_path(const struct ident_host *h, const char *url, int *port, char *path,
			 size_t len)
{
	*port = h->upnp_port;
	if (strncasecmp(url, "http://", 7) == 0) {
		const char *p = url + 7;
		size_t al = strlen(h->addr);
		if (strncmp(p, h->addr, al) != 0)
			return false;
		p += al;
		if (*p == ':')
			*port = (int)strtol(p + 1, (char **)&p, 10);
		url = p;
	}
	if (*url != '/' || strpbrk(url, " \r\n") || strlen(url) >= len || *port < 1 ||
	    *port > 65535)
		return false;
	lib_strlcpy(path, url, len);
	return true;
}

void audit_upnp_mappings(struct audit_host *ah, const struct ident_host *h)
{
	for (size_t i = 0; i < h->nservices; i++) {
		const struct ident_upnp_service *s = &h->services[i];
		if (!strstr(s->type, "WANIPConnection") && !strstr(s->type, "WANPPPConnection"))
			continue;
		struct portmap *pm = xcalloc(1, sizeof(*pm));
		pm->ah = ah;
		if (!control_path(h, s->control_url, &pm->port, pm->path, sizeof(pm->path))) {
			free(pm);
			continue;
		}
		lib_strlcpy(pm->service, s->type, sizeof(pm->service));
		buf_init(&pm->list, 4096);
		ah->pending++;
		portmap_request(pm);
	}
}

/* ------------------------------------------------------------------ web logins */

struct web_try {
	struct audit_host *ah;
	int port;
	bool tls;
	size_t cred;
	int scheme; /* 0 basic, 1 digest, 2 form */
	char form_action[128], user_field[64], pass_field[64];
};

static void web_next(struct web_try *w);

static void web_result(struct web_try *w, bool success)
{
	struct audit_host *ah = w->ah;
	if (success) {
		static const char *const schemes[] = {"Basic", "Digest", "form"};
		const struct audit_cred *cr = &ah->run->creds[w->cred];
		audit_add(ah, AUDIT_F_WEB_DEFAULT, "%s:%d %s login accepted %s / %s",
			  w->tls ? "https" : "http", w->port, schemes[w->scheme], cr->user,
			  cr->pass[0] ? cr->pass : "(empty password)");
	}
	if (success || ++w->cred >= ah->run->max_logins || ident_hostctx_timed_out(ah->hc)) {
		free(w);
		audit_check_done(ah);
		return;
	}
	web_next(w);
}

static void on_web_answer(void *arg, enum ident_outcome o, const struct ident_http_resp *r,
			  struct ident_conn *c)
{
	struct web_try *w = arg;
	if (o != IDENT_OUT_DATA || !r) {
		web_result(w, false);
		return;
	}
	bool ok = r->status >= 200 && r->status < 400 && r->status != 401;
	if (ok && w->scheme == 2) {
		/* a form login succeeded if the answer no longer asks for a password */
		size_t ll;
		const char *loc = ident_http_header(r, "Location", 0, &ll);
		bool form_again = r->body && memmem(r->body, r->body_len, "type=\"password\"", 15);
		bool to_login = loc && (memmem(loc, ll, "login", 5) || memmem(loc, ll, "Login", 5));
		ok = !form_again && !to_login;
	}
	web_result(w, ok);
}

static void b64(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);
	if ((n + 2) / 3 * 4 + 1 > outlen) {
		out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
}

static void md5_hex(const char *s, char out[33])
{
	struct lib_hashes h;
	lib_hashes(s, strlen(s), &h);
	memcpy(out, h.md5, 33);
}

/* A Digest parameter of a challenge (quoted or not). */
static bool digest_param(const char *ch, size_t n, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i + nl + 1 < n; i++) {
		if ((i == 0 || ch[i - 1] == ' ' || ch[i - 1] == ',') &&
		    strncasecmp(ch + i, name, nl) == 0 && ch[i + nl] == '=') {
			const char *v = ch + i + nl + 1;
			size_t rest = n - (size_t)(v - ch), k = 0;
			bool q = rest && *v == '"';
			if (q)
				v++, rest--;
			while (k < rest && k + 1 < len &&
			       (q ? v[k] != '"' : v[k] != ',' && v[k] != ' '))
				k++;
			memcpy(out, v, k);
			out[k] = '\0';
			return true;
		}
	}
	return false;
}

/* Digest: the challenge comes fresh with each try (nonces may be single use). */
static void on_digest_challenge(void *arg, enum ident_outcome o, const struct ident_http_resp *r,
				struct ident_conn *c)
{
	struct web_try *w = arg;
	size_t len;
	const char *ch = r ? ident_http_header(r, "WWW-Authenticate", 0, &len) : NULL;
	char realm[128], nonce[128], qop[32], opaque[128];
	if (!ch || len < 7 || strncasecmp(ch, "Digest", 6) != 0 ||
	    !digest_param(ch, len, "realm", realm, sizeof(realm)) ||
	    !digest_param(ch, len, "nonce", nonce, sizeof(nonce))) {
		web_result(w, false);
		return;
	}
	bool has_qop = digest_param(ch, len, "qop", qop, sizeof(qop));
	bool has_opaque = digest_param(ch, len, "opaque", opaque, sizeof(opaque));
	const struct audit_cred *cr = &w->ah->run->creds[w->cred];
	char a1[512], a2[64], ha1[33], ha2[33], resp[33], buf[700], cnonce[17];
	snprintf(a1, sizeof(a1), "%s:%s:%s", cr->user, realm, cr->pass);
	snprintf(a2, sizeof(a2), "GET:/");
	md5_hex(a1, ha1);
	md5_hex(a2, ha2);
	uint8_t rnd[8];
	lib_random_fast(rnd, sizeof(rnd));
	lib_hex(rnd, sizeof(rnd), cnonce);
	if (has_qop)
		snprintf(buf, sizeof(buf), "%s:%s:00000001:%s:auth:%s", ha1, nonce, cnonce, ha2);
	else
		snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, nonce, ha2);
	md5_hex(buf, resp);
	char extra[1024];
	snprintf(extra, sizeof(extra),
		 "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"/\", "
		 "response=\"%s\"%s%s%s%s%s%s\r\n",
		 cr->user, realm, nonce, resp, has_qop ? ", qop=auth, nc=00000001, cnonce=\"" : "",
		 has_qop ? cnonce : "", has_qop ? "\"" : "", has_opaque ? ", opaque=\"" : "",
		 has_opaque ? opaque : "", has_opaque ? "\"" : "");
	ident_http_request(w->ah->hc, w->port, w->tls, "GET", "/", extra, NULL, 0, on_web_answer,
			   w);
}

/* application/x-www-form-urlencoded */
static void form_encode(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-_.~", c))
			buf_append(b, s, 1);
		else
			buf_printf(b, "%%%02X", c);
	}
}

static void web_next(struct web_try *w)
{
	const struct audit_cred *cr = &w->ah->run->creds[w->cred];
	if (w->scheme == 0) {
		char up[512], enc[700], extra[800];
		snprintf(up, sizeof(up), "%s:%s", cr->user, cr->pass);
		b64(up, enc, sizeof(enc));
		snprintf(extra, sizeof(extra), "Authorization: Basic %s\r\n", enc);
		ident_http_request(w->ah->hc, w->port, w->tls, "GET", "/", extra, NULL, 0,
				   on_web_answer, w);
	} else if (w->scheme == 1) {
		ident_http_request(w->ah->hc, w->port, w->tls, "GET", "/", NULL, NULL, 0,
				   on_digest_challenge, w);
	} else {
		struct buf body;
		buf_init(&body, 2048);
		form_encode(&body, w->user_field);
		buf_append_str(&body, "=");
		form_encode(&body, cr->user);
		buf_append_str(&body, "&");
		form_encode(&body, w->pass_field);
		buf_append_str(&body, "=");
		form_encode(&body, cr->pass);
		ident_http_request(w->ah->hc, w->port, w->tls, "POST", w->form_action,
				   "Content-Type: application/x-www-form-urlencoded\r\n", body.data,
				   body.len, on_web_answer, w);
		buf_free(&body);
	}
}

/* The value of attribute `name` inside one tag [p, e). */
static bool tag_attr(const char *p, const char *e, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (const char *q = p; q + nl + 2 < e; q++) {
		if ((q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n') &&
		    strncasecmp(q, name, nl) == 0 && q[nl] == '=') {
			const char *v = q + nl + 1;
			char quote = (*v == '"' || *v == '\'') ? *v++ : 0;
			size_t k = 0;
			while (v + k < e && k + 1 < len &&
			       (quote ? v[k] != quote : v[k] != ' ' && v[k] != '>'))
				k++;
			memcpy(out, v, k);
			out[k] = '\0';
			return true;
		}
	}
	return false;
}

/* A login form in a page: its action, its user and password field names. */
static bool find_form(const char *body, size_t n, struct web_try *w)
{
	const char *form = body ? memmem(body, n, "<form", 5) : NULL;
	if (!form)
		form = body ? memmem(body, n, "<FORM", 5) : NULL;
	if (!form)
		return false;
	const char *end = body + n, *fe = memchr(form, '>', (size_t)(end - form));
	if (!fe || !tag_attr(form + 1, fe, "action", w->form_action, sizeof(w->form_action)) ||
	    w->form_action[0] != '/' || strpbrk(w->form_action, " \r\n"))
		return false;
	w->user_field[0] = w->pass_field[0] = '\0';
	for (const char *p = fe; p && p < end; p = memchr(p + 1, '<', (size_t)(end - p - 1))) {
		if (strncasecmp(p, "<input", 6) != 0)
			continue;
		const char *ie = memchr(p, '>', (size_t)(end - p));
		if (!ie)
			break;
		char type[16] = "text", name[64];
		tag_attr(p + 1, ie, "type", type, sizeof(type));
		if (!tag_attr(p + 1, ie, "name", name, sizeof(name)))
			continue;
		if (strcasecmp(type, "password") == 0 && !w->pass_field[0])
			lib_strlcpy(w->pass_field, name, sizeof(w->pass_field));
		else if ((strcasecmp(type, "text") == 0 || strcasecmp(type, "email") == 0) &&
			 !w->user_field[0])
			lib_strlcpy(w->user_field, name, sizeof(w->user_field));
	}
	return w->pass_field[0] && w->user_field[0];
}

static void on_web_root(void *arg, enum ident_outcome o, const struct ident_http_resp *r,
			struct ident_conn *c)
{
	struct web_try *w = arg;
	struct audit_host *ah = w->ah;
	size_t len;
	const char *ch = r ? ident_http_header(r, "WWW-Authenticate", 0, &len) : NULL;
	if (o == IDENT_OUT_DATA && r && r->status == 401 && ch && len >= 5 &&
	    strncasecmp(ch, "Basic", 5) == 0) {
		w->scheme = 0;
	} else if (o == IDENT_OUT_DATA && r && r->status == 401 && ch && len >= 6 &&
		   strncasecmp(ch, "Digest", 6) == 0) {
		w->scheme = 1;
	} else if (o == IDENT_OUT_DATA && r && r->status == 200 && r->body &&
		   find_form(r->body, r->body_len, w)) {
		w->scheme = 2;
	} else {
		free(w);
		audit_check_done(ah);
		return;
	}
	web_next(w);
}

void audit_web_logins(struct audit_host *ah, int port, bool tls)
{
	if (ah->run->max_logins == 0)
		return;
	struct web_try *w = xcalloc(1, sizeof(*w));
	w->ah = ah;
	w->port = port;
	w->tls = tls;
	ah->pending++;
	ident_http_request(ah->hc, port, tls, "GET", "/", NULL, NULL, 0, on_web_root, w);
}
