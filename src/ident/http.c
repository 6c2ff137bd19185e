/* ident: one HTTP request per connection (the client the probes and the audit share), and
 * the HTTP and HTTPS probes: GET / (and where it redirects on the same host, once), then the
 * paths of ident.http_paths. Fields: status, Server, WWW-Authenticate, Set-Cookie, <title>,
 * the favicon's MD5 (Recog's favicons.xml key) and, over TLS, the certificate's subject and
 * issuer. */
#include "ident/ident_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_USER_AGENT "mitsu-ident/" MITSU_VERSION
/* The namespace of a UPnP device description's root element. */
#define UPNP_DEVICE_NS "urn:schemas-upnp-org:device-1-0"

struct http_req {
	ident_http_cb cb;
	void *arg;
	size_t len;
	char data[];
};

static void req_open(struct ident_conn *c, void *arg)
{
	struct http_req *q = arg;
	ident_conn_write(c, q->data, q->len);
}

/* Ends early when the whole answer is in: headers and Content-Length bytes of body. */
static void req_data(struct ident_conn *c, void *arg)
{
	size_t n;
	const uint8_t *d = ident_conn_data(c, &n);
	struct ident_http_resp r;
	if (ident_http_parse(d, n, &r))
		return;
	size_t vl;
	const char *v = ident_http_header(&r, "Content-Length", 0, &vl);
	if (!v)
		return;
	char num[24];
	if (vl >= sizeof(num))
		return;
	memcpy(num, v, vl);
	num[vl] = '\0';
	long long cl;
	if (lib_parse_int(num, &cl) == 0 && cl >= 0 && r.body_len >= (size_t)cl)
		ident_conn_done(c);
}

static void req_end(struct ident_conn *c, void *arg, enum ident_outcome o)
{
	struct http_req *q = arg;
	size_t n;
	const uint8_t *d = ident_conn_data(c, &n);
	struct ident_http_resp r;
	bool parsed = n && ident_http_parse(d, n, &r) == 0;
	if (!parsed && n) {
		/* an answer without a blank line: keep what there is as headers */
		ident_http_parse(d, n, &r);
		parsed = r.status_line != NULL;
	}
	q->cb(q->arg, o, parsed ? &r : NULL, c);
	free(q);
}

static const struct ident_conn_ops req_ops = {
	.on_open = req_open,
	.on_data = req_data,
	.on_end = req_end,
};

void ident_http_request(struct ident_hostctx *hc, int port, bool tls, const char *method,
			const char *path, const char *extra, const void *body, size_t body_len,
			ident_http_cb cb, void *arg)
{
	const struct ident_host *h = ident_hostctx_host(hc);
	bool v6 = strchr(h->addr, ':') != NULL;
	char *head = xasprintf("%s %s HTTP/1.0\r\nHost: %s%s%s:%d\r\nUser-Agent: %s\r\n"
			       "Accept: */*\r\nConnection: close\r\n%s",
			       method, path, v6 ? "[" : "", h->addr, v6 ? "]" : "", port,
			       HTTP_USER_AGENT, extra ? extra : "");
	char cl[48] = "";
	if (body)
		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", body_len);
	size_t hl = strlen(head), cll = strlen(cl);
	struct http_req *q = xmalloc(sizeof(*q) + hl + cll + 2 + body_len);
	q->cb = cb;
	q->arg = arg;
	memcpy(q->data, head, hl);
	memcpy(q->data + hl, cl, cll);
	memcpy(q->data + hl + cll, "\r\n", 2);
	if (body_len)
		memcpy(q->data + hl + cll + 2, body, body_len);
	q->len = hl + cll + 2 + body_len;
	free(head);
	ident_hostctx_open(hc, port, tls, &req_ops, q);
}

/* ------------------------------------------------------------------ the probe */

static void add_header_field(struct ident_probe_run *pr, const struct ident_http_resp *r,
			     const char *header, const char *key)
{
	size_t len;
	const char *v = ident_http_header(r, header, 0, &len);
	if (v && len && !ident_host_field(pr->host, key))
		ident_host_add_field(pr->host, pr->res->kind, pr->port, key, v, len);
}

/* A Location on the same host and port (or relative): its path, else false. */
static bool same_host_path(const struct ident_probe_run *pr, const char *loc, size_t len,
			   char *path, size_t pathlen)
{
	char tmp[512];
	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, loc, len);
	tmp[len] = '\0';
	const char *p = tmp;
	const char *scheme = pr->res->kind == IDENT_PROBE_HTTPS ? "https://" : "http://";
	if (strncasecmp(p, scheme, strlen(scheme)) == 0) {
		p += strlen(scheme);
		size_t al = strlen(pr->host->addr);
		if (strncmp(p, pr->host->addr, al) != 0)
			return false; /* another host: never followed */
		p += al;
		if (*p == ':') {
			char *end;
			long port = strtol(p + 1, &end, 10);
			if (port != pr->port)
				return false;
			p = end;
		}
		if (!*p)
			p = "/";
	}
	if (*p != '/' || strpbrk(p, " \r\n\t") || strlen(p) >= pathlen)
		return false;
	lib_strlcpy(path, p, pathlen);
	return true;
}

static void fetch_next(struct ident_probe_run *pr);

/* The fields of "/" or of where it redirects. The body of a redirect that is followed says
 * nothing ("302 Found"): its title is skipped so that the target page's one counts. A root
 * that is a UPnP device description (an IGD's SOAP port) gives the description's fields. */
static void root_fields(struct ident_probe_run *pr, const struct ident_http_resp *r,
			struct ident_conn *c, bool followed)
{
	ident_printable(r->status_line, r->status_len, pr->res->detail, sizeof(pr->res->detail));
	add_header_field(pr, r, "Server", "http_header.server");
	add_header_field(pr, r, "WWW-Authenticate", "http_header.wwwauth");
	add_header_field(pr, r, "Set-Cookie", "http_header.cookie");
	if (r->status == 200 && r->body &&
	    memmem(r->body, r->body_len, UPNP_DEVICE_NS, strlen(UPNP_DEVICE_NS)))
		ident_upnp_fields(pr->host, pr->res->kind, pr->port, pr->step ? pr->path : "/",
				  r->body, r->body_len);
	char title[512];
	int tl = r->body && !followed ? ident_html_title(r->body, r->body_len, title, sizeof(title))
				      : -1;
	if (tl > 0 && !ident_host_field(pr->host, "html_title"))
		ident_host_add_field(pr->host, pr->res->kind, pr->port, "html_title", title,
				     (size_t)tl);
	const char *subj = ident_conn_tls_subject(c), *iss = ident_conn_tls_issuer(c);
	if (subj[0])
		ident_host_add_field(pr->host, pr->res->kind, pr->port, "x509.subject", subj,
				     strlen(subj));
	if (iss[0])
		ident_host_add_field(pr->host, pr->res->kind, pr->port, "x509.issuer", iss,
				     strlen(iss));
}

static void on_response(void *arg, enum ident_outcome o, const struct ident_http_resp *r,
			struct ident_conn *c)
{
	struct ident_probe_run *pr = arg;
	bool first = pr->step == 0;
	if (first) {
		if (o == IDENT_OUT_DATA && r)
			pr->res->outcome = o;
		pr->res->bytes = ident_conn_bytes(c);
		pr->res->ms = ident_conn_ms(c);
		pr->res->truncated = ident_conn_truncated(c);
	}
	if (o != IDENT_OUT_DATA || !r) {
		if (first) {
			ident_probe_finish(pr, o == IDENT_OUT_DATA ? IDENT_OUT_EMPTY : o);
			return;
		}
		fetch_next(pr);
		return;
	}
	size_t ll;
	const char *loc = ident_http_header(r, "Location", 0, &ll);
	if (pr->step <= 1 && r->status >= 300 && r->status < 400 && loc && !pr->redirected) {
		bool follow = same_host_path(pr, loc, ll, pr->path, sizeof(pr->path));
		root_fields(pr, r, c, follow);
		if (follow) {
			pr->redirected = true;
			pr->step = 1;
			ident_http_request(pr->hc, pr->port, pr->res->kind == IDENT_PROBE_HTTPS,
					   "GET", pr->path, NULL, NULL, 0, on_response, pr);
			return;
		}
	} else if (pr->step <= 1) {
		root_fields(pr, r, c, false);
	} else if (lib_str_suffix(pr->path, ".ico") && r->status == 200 && r->body_len) {
		char md5[LIB_MD5_HEX];
		struct lib_hashes hs;
		lib_hashes(r->body, r->body_len, &hs);
		memcpy(md5, hs.md5, sizeof(md5));
		ident_host_add_field(pr->host, pr->res->kind, pr->port, "favicon.md5", md5,
				     strlen(md5));
	}
	fetch_next(pr);
}

/* Steps: 0 is "/", 1 the redirect, 2.. the paths of ident.http_paths. */
static void fetch_next(struct ident_probe_run *pr)
{
	int next = pr->step < 2 ? 2 : pr->step + 1;
	size_t i = (size_t)(next - 2);
	if (i >= pr->ports->npaths || ident_hostctx_timed_out(pr->hc)) {
		ident_probe_finish(pr, pr->res->outcome);
		return;
	}
	pr->step = next;
	lib_strlcpy(pr->path, pr->ports->http_paths[i], sizeof(pr->path));
	ident_http_request(pr->hc, pr->port, pr->res->kind == IDENT_PROBE_HTTPS, "GET", pr->path,
			   NULL, NULL, 0, on_response, pr);
}

static void http_start(struct ident_probe_run *pr)
{
	pr->step = 0;
	ident_http_request(pr->hc, pr->port, pr->res->kind == IDENT_PROBE_HTTPS, "GET", "/", NULL,
			   NULL, 0, on_response, pr);
}

const struct ident_probe_ops ident_probe_http = {.kind = IDENT_PROBE_HTTP, .start = http_start};
const struct ident_probe_ops ident_probe_https = {.kind = IDENT_PROBE_HTTPS, .start = http_start};
