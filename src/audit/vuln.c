/* audit: known-vulnerable devices by CVE. fingerprints/vulnerable.ini names exploit signatures
 * of the WebUI's rules/exploits (their CVE and description are read from there) and, for each,
 * how to see without the exploit that a device is one it works on: a field identification
 * already saw (the Server header, the realm) and, optionally, one GET of a path whose answer
 * shows the vulnerable endpoint. Nothing else is sent: at load, each GET is run through the
 * exploit signatures themselves, and one that any signature would label is refused. */
#include "audit/audit_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "webui/webui.h"

#define VULN_MAX_FILE (1024 * 1024) /* bytes of vulnerable.ini or of one rules file */
#define VULN_MATCH_LIMIT 200000     /* PCRE2 match limit on a hostile banner or body */
#define VULN_DEPTH_LIMIT 10000
#define VULN_MAX_RULE_FILES 4096

struct audit_vuln {
	char *id, *cve, *description, *why;
	char field[40];    /* the identification field (key) looked at */
	pcre2_code *match; /* on that field; NULL: every HTTP(S) port that answered */
	char *get;         /* a harmless path to GET, or NULL */
	int status;        /* the GET's status that shows the endpoint */
	pcre2_code *body;  /* on the GET's body, or NULL */
	enum audit_severity severity;
};

struct audit_vulns {
	struct audit_vuln *v;
	size_t n;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

struct vctx {
	struct audit_vulns *vs;
	char err[384];
};

static pcre2_code *compile(struct vctx *c, const char *pat)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re =
		pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
	if (!re) {
		char msg[128];
		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
		snprintf(c->err, sizeof(c->err), "pattern '%s' at %zu: %s", pat, (size_t)off, msg);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

/* A GET path that cannot carry an exploit's parameters: absolute, no query, no "..", no
 * blank or control byte, no escape. */
static bool harmless_path(const char *p)
{
	if (p[0] != '/' || strlen(p) >= 128 || strstr(p, ".."))
		return false;
	for (; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '%' || *p == '#')
			return false;
	return true;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct vctx *c = user;
	struct audit_vulns *vs = c->vs;
	if (c->err[0])
		return 0;
	struct audit_vuln *v = vs->n ? &vs->v[vs->n - 1] : NULL;
	if (!v || strcmp(v->id, section) != 0) {
		if (vs->n >= AUDIT_MAX_VULNS) {
			snprintf(c->err, sizeof(c->err), "more than %d sections (AUDIT_MAX_VULNS)",
				 AUDIT_MAX_VULNS);
			return 0;
		}
		vs->v = xrealloc(vs->v, (vs->n + 1) * sizeof(*vs->v));
		v = &vs->v[vs->n++];
		*v = (struct audit_vuln){
			.id = xstrdup(section), .status = 200, .severity = AUDIT_HIGH};
		lib_strlcpy(v->field, "http_header.server", sizeof(v->field));
	}
	if (strcmp(name, "field") == 0 && strlen(value) < sizeof(v->field))
		lib_strlcpy(v->field, value, sizeof(v->field));
	else if (strcmp(name, "match") == 0 && !v->match)
		v->match = compile(c, value);
	else if (strcmp(name, "body") == 0 && !v->body)
		v->body = compile(c, value);
	else if (strcmp(name, "get") == 0 && !v->get && harmless_path(value))
		v->get = xstrdup(value);
	else if (strcmp(name, "get") == 0)
		snprintf(c->err, sizeof(c->err), "[%s] get: '%s' is not a plain path", section,
			 value);
	else if (strcmp(name, "status") == 0 && atoi(value) >= 100 && atoi(value) <= 599)
		v->status = atoi(value);
	else if (strcmp(name, "severity") == 0 &&
		 (strcmp(value, "high") == 0 || strcmp(value, "medium") == 0))
		v->severity = strcmp(value, "high") == 0 ? AUDIT_HIGH : AUDIT_MEDIUM;
	else if (strcmp(name, "why") == 0 && !v->why)
		v->why = xstrdup(value);
	else if (!c->err[0])
		snprintf(c->err, sizeof(c->err), "[%s]: bad or repeated key '%s'", section, name);
	return c->err[0] ? 0 : 1;
}

/* The CVE and description of the signatures vulnerable.ini names, from one rules file. */
static int on_rule_key(void *user, const char *section, const char *name, const char *value)
{
	struct audit_vulns *vs = user;
	for (size_t i = 0; i < vs->n; i++) {
		struct audit_vuln *v = &vs->v[i];
		if (strcmp(v->id, section) != 0)
			continue;
		if (strcmp(name, "cve") == 0 && !v->cve && strcmp(value, "none") != 0)
			v->cve = xstrdup(value);
		else if (strcmp(name, "description") == 0 && !v->description)
			v->description = xstrdup(value);
	}
	return 1;
}

static int read_rules(struct audit_vulns *vs, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "exploit signatures in %s: %s", dir, strerror(errno));
		return -errno;
	}
	struct dirent *de;
	int rc = 0;
	for (size_t files = 0; !rc && (de = readdir(d)) && files < VULN_MAX_RULE_FILES; files++) {
		if (de->d_name[0] == '.' || !lib_str_suffix(de->d_name, ".rules"))
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		uint8_t *text;
		size_t len;
		rc = lib_read_file(path, VULN_MAX_FILE, &text, &len);
		if (rc)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		else
			ini_parse_string((const char *)text, on_rule_key, vs);
		if (!rc)
			free(text);
		free(path);
	}
	closedir(d);
	return rc;
}

/* The GET the audit would send: does any exploit signature label it? */
static bool labelled(const struct webui *w, const char *path)
{
	char line[192];
	snprintf(line, sizeof(line), "GET %s HTTP/1.0", path);
	struct webui_header hdr[] = {
		{"Host", 4, "127.0.0.1", 9},
		{"User-Agent", 10, "mitsu-ident/" MITSU_VERSION,
		 strlen("mitsu-ident/" MITSU_VERSION)},
		{"Accept", 6, "*/*", 3},
		{"Connection", 10, "close", 5},
	};
	struct webui_request req = {.line = line,
				    .line_len = strlen(line),
				    .method = "GET",
				    .target = path,
				    .target_len = strlen(path),
				    .version = "HTTP/1.0",
				    .minor = 0,
				    .headers = hdr,
				    .nheaders = LIB_ARRAY_LEN(hdr)};
	const char *ids[WEBUI_MAX_MATCHES];
	return webui_exploits(w, &req, ids, LIB_ARRAY_LEN(ids)) > 0;
}

/* Every section names a signature with a CVE; every GET is one no signature labels. */
static int check_loaded(struct audit_vulns *vs, const char *rules_dir, char *err, size_t errlen)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!vs->v[i].description || !vs->v[i].cve) {
			snprintf(err, errlen, "[%s] names no signature with a CVE in %s",
				 vs->v[i].id, rules_dir);
			return -EINVAL;
		}
	struct webui *w = NULL;
	struct webui_config wc = {.rules_dir = rules_dir, .max_peers = 1};
	int rc = webui_open(&w, &wc, err, errlen);
	for (size_t i = 0; !rc && i < vs->n; i++)
		if (vs->v[i].get && labelled(w, vs->v[i].get)) {
			snprintf(err, errlen,
				 "[%s] GET %s is itself an exploit signature's request",
				 vs->v[i].id, vs->v[i].get);
			rc = -EINVAL;
		}
	if (w)
		webui_close(w);
	return rc;
}

int audit_vulns_load(struct audit_vulns **out, const char *file, const char *rules_dir, char *err,
		     size_t errlen)
{
	struct audit_vulns *vs = xcalloc(1, sizeof(*vs));
	*out = NULL;
	uint8_t *text;
	size_t len;
	int rc = lib_read_file(file, VULN_MAX_FILE, &text, &len);
	if (rc) {
		snprintf(err, errlen, "%s: %s", file, strerror(-rc));
		audit_vulns_free(vs);
		return rc;
	}
	struct vctx c = {.vs = vs};
	int line = ini_parse_string((const char *)text, on_key, &c);
	free(text);
	if (line || c.err[0]) {
		snprintf(err, errlen, "%s:%d: %s", file, line, c.err[0] ? c.err : "syntax error");
		audit_vulns_free(vs);
		return -EINVAL;
	}
	rc = read_rules(vs, rules_dir, err, errlen);
	if (!rc)
		rc = check_loaded(vs, rules_dir, err, errlen);
	if (rc) {
		audit_vulns_free(vs);
		return rc;
	}
	vs->md = pcre2_match_data_create(1, NULL);
	vs->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(vs->mctx, VULN_MATCH_LIMIT);
	pcre2_set_depth_limit(vs->mctx, VULN_DEPTH_LIMIT);
	*out = vs;
	return 0;
}

void audit_vulns_free(struct audit_vulns *vs)
{
	if (!vs)
		return;
	for (size_t i = 0; i < vs->n; i++) {
		struct audit_vuln *v = &vs->v[i];
		free(v->id);
		free(v->cve);
		free(v->description);
		free(v->why);
		free(v->get);
		pcre2_code_free(v->match);
		pcre2_code_free(v->body);
	}
	free(vs->v);
	pcre2_match_data_free(vs->md);
	pcre2_match_context_free(vs->mctx);
	free(vs);
}

size_t audit_vulns_count(const struct audit_vulns *vs)
{
	return vs ? vs->n : 0;
}

/* ------------------------------------------------------------------ the checks */

static bool re_match(const struct audit_vulns *vs, const pcre2_code *re, const char *p, size_t n)
{
	return pcre2_match(re, (PCRE2_SPTR)p, n, 0, 0, vs->md, vs->mctx) >= 0;
}

static const char *port_field(const struct ident_host *h, enum ident_probe_kind kind, int port,
			      const char *key)
{
	for (size_t i = 0; i < h->nfields; i++) {
		const struct ident_field *f = &h->fields[i];
		if (f->kind == kind && f->port == port && strcmp(f->key, key) == 0)
			return f->value;
	}
	return NULL;
}

static void add_finding(struct audit_host *ah, const struct audit_vuln *v,
			enum ident_probe_kind kind, int port, const char *seen, const char *got)
{
	char shown[160];
	ident_printable(seen ? seen : "", seen ? strlen(seen) : 0, shown, sizeof(shown));
	struct audit_finding *f =
		audit_add(ah, AUDIT_F_KNOWN_VULN, "%s %s (%s): %s:%d %s%s%s%s%s%s; %s", v->cve,
			  v->id, v->description, ident_probe_name(kind), port, seen ? v->field : "",
			  seen ? " \"" : "", seen ? shown : "", seen ? "\"" : "",
			  got ? (seen ? ", " : "") : "", got ? got : "", v->why ? v->why : "");
	if (f) {
		f->severity = v->severity;
		lib_strlcpy(f->cve, v->cve, sizeof(f->cve));
	}
}

struct vuln_try {
	struct audit_host *ah;
	const struct audit_vuln *v;
	enum ident_probe_kind kind;
	int port;
	char *seen; /* the field that matched, or NULL */
};

static void on_answer(void *arg, enum ident_outcome o, const struct ident_http_resp *r,
		      struct ident_conn *c)
{
	struct vuln_try *t = arg;
	const struct audit_vulns *vs = t->ah->run->vulns;
	if (o == IDENT_OUT_DATA && r && r->status == t->v->status &&
	    (!t->v->body || (r->body && re_match(vs, t->v->body, r->body, r->body_len)))) {
		char got[192];
		snprintf(got, sizeof(got), "GET %s answers %d%s", t->v->get, r->status,
			 t->v->body ? " with the service" : "");
		add_finding(t->ah, t->v, t->kind, t->port, t->seen, got);
	}
	struct audit_host *ah = t->ah;
	free(t->seen);
	free(t);
	audit_check_done(ah);
}

void audit_vuln_checks(struct audit_host *ah, const struct ident_host *h)
{
	const struct audit_vulns *vs = ah->run->vulns;
	for (size_t i = 0; vs && i < vs->n; i++) {
		const struct audit_vuln *v = &vs->v[i];
		for (size_t k = 0; k < h->nprobes; k++) {
			const struct ident_probe_result *p = &h->probes[k];
			if (p->outcome != IDENT_OUT_DATA ||
			    (p->kind != IDENT_PROBE_HTTP && p->kind != IDENT_PROBE_HTTPS))
				continue;
			const char *seen = port_field(h, p->kind, p->port, v->field);
			if (v->match && (!seen || !re_match(vs, v->match, seen, strlen(seen))))
				continue;
			if (!v->get) {
				add_finding(ah, v, p->kind, p->port, seen, NULL);
				continue;
			}
			if (!ah->hc)
				continue;
			struct vuln_try *t = xcalloc(1, sizeof(*t));
			*t = (struct vuln_try){.ah = ah,
					       .v = v,
					       .kind = p->kind,
					       .port = p->port,
					       .seen = v->match && seen ? xstrdup(seen) : NULL};
			ah->pending++;
			ident_http_request(ah->hc, p->port, p->kind == IDENT_PROBE_HTTPS, "GET",
					   v->get, NULL, NULL, 0, on_answer, t);
		}
	}
}
