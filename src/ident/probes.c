/* ident: the probes other than HTTP, and the table of all of them.
 *   telnet  reads the banner and login prompt, answering option negotiation (every option
 *           refused but the server's ECHO and SGA); done at the first prompt
 *   rtsp    OPTIONS, then DESCRIBE on the same connection: the Server header
 *   ftp     the greeting, to its last line; then QUIT
 *   ssh     the server's identification line
 *   upnp    a unicast SSDP M-SEARCH over UDP; then the description XML from the LOCATION it
 *           names, only when that is the same host: manufacturer, model, UUID, services */
#include "ident/ident_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes kept of a probe's answer for matching and for the result's detail. */
#define PROBE_TEXT_MAX IDENT_MAX_FIELD

static void record_conn(struct ident_probe_run *pr, struct ident_conn *c)
{
	pr->res->bytes = ident_conn_bytes(c);
	pr->res->ms = ident_conn_ms(c);
	pr->res->truncated = ident_conn_truncated(c);
}

/* Blanks, CR and LF trimmed at both ends (Recog's banner convention). */
static void trim(const char **p, size_t *n)
{
	while (*n && isspace((unsigned char)**p))
		(*p)++, (*n)--;
	while (*n && isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

static void add_trimmed(struct ident_probe_run *pr, const char *key, const void *data, size_t n)
{
	const char *p = data;
	trim(&p, &n);
	if (n)
		ident_host_add_field(pr->host, pr->res->kind, pr->port, key, p, n);
}

/* The last line of a text, for the detail. */
static void last_line(const char *p, size_t n, char *out, size_t outlen)
{
	trim(&p, &n);
	const char *nl = n ? memrchr(p, '\n', n) : NULL;
	if (nl) {
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	ident_printable(p, n, out, outlen);
}

/* ------------------------------------------------------------------ telnet */

static void telnet_open(struct ident_conn *c, void *arg) {}

static void telnet_data(struct ident_conn *c, void *arg)
{
	struct ident_probe_run *pr = arg;
	size_t n;
	const uint8_t *d = ident_conn_data(c, &n);
	if (n < pr->seen)
		pr->seen = 0;
	uint8_t out[4096], reply[768];
	size_t nreply;
	while (pr->seen < n) {
		size_t chunk = LIB_MIN(n - pr->seen, sizeof(out));
		size_t o = ident_telnet_filter(d + pr->seen, chunk, out, sizeof(out), reply,
					       sizeof(reply), &nreply, &pr->tstate);
		pr->seen += chunk;
		buf_append(&pr->text, out, o); /* bounded: the rest of a flood is dropped */
		if (nreply)
			ident_conn_write(c, reply, nreply);
	}
	if (ident_telnet_prompt(pr->text.data, pr->text.len) != IDENT_PROMPT_NONE)
		ident_conn_done(c);
}

static void telnet_end(struct ident_conn *c, void *arg, enum ident_outcome o)
{
	struct ident_probe_run *pr = arg;
	record_conn(pr, c);
	char *t = (char *)pr->text.data;
	size_t n = t ? ident_telnet_lines(t, pr->text.len) : 0;
	if (o == IDENT_OUT_DATA) {
		add_trimmed(pr, "telnet.banner", t, n);
		last_line(t ? t : "", n, pr->res->detail, sizeof(pr->res->detail));
		const char *p = t;
		size_t m = n;
		if (t)
			trim(&p, &m);
		if (!t || m == 0) {
			o = IDENT_OUT_EMPTY; /* option negotiation and nothing else */
			lib_strlcpy(pr->res->detail, "option negotiation only",
				    sizeof(pr->res->detail));
		}
	}
	buf_free(&pr->text);
	ident_probe_finish(pr, o);
}

static const struct ident_conn_ops telnet_ops = {
	.on_open = telnet_open,
	.on_data = telnet_data,
	.on_end = telnet_end,
};

static void telnet_start(struct ident_probe_run *pr)
{
	buf_init(&pr->text, PROBE_TEXT_MAX);
	ident_hostctx_open(pr->hc, pr->port, false, &telnet_ops, pr);
}

/* ------------------------------------------------------------------ rtsp */

static void rtsp_send(struct ident_probe_run *pr, struct ident_conn *c)
{
	const struct ident_host *h = pr->host;
	bool v6 = strchr(h->addr, ':') != NULL;
	char req[512];
	int n = snprintf(req, sizeof(req),
			 "%s rtsp://%s%s%s:%d/ RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: mitsu-ident/%s"
			 "\r\n%s\r\n",
			 pr->step == 0 ? "OPTIONS" : "DESCRIBE", v6 ? "[" : "", h->addr,
			 v6 ? "]" : "", pr->port, pr->step + 1, MITSU_VERSION,
			 pr->step == 0 ? "" : "Accept: application/sdp\r\n");
	ident_conn_write(c, req, (size_t)n);
}

static void rtsp_open(struct ident_conn *c, void *arg)
{
	rtsp_send(arg, c);
}

static void rtsp_data(struct ident_conn *c, void *arg)
{
	struct ident_probe_run *pr = arg;
	size_t n;
	const uint8_t *d = ident_conn_data(c, &n);
	struct ident_http_resp r;
	if (ident_http_parse(d, n, &r))
		return;
	if (pr->step == 0)
		ident_printable(r.status_line, r.status_len, pr->res->detail,
				sizeof(pr->res->detail));
	size_t len;
	const char *v = ident_http_header(&r, "Server", 0, &len);
	if (v && len && !ident_host_field(pr->host, "rtsp_header.server"))
		ident_host_add_field(pr->host, IDENT_PROBE_RTSP, pr->port, "rtsp_header.server", v,
				     len);
	if (pr->step == 0) {
		pr->step = 1;
		ident_conn_consume(c, n);
		rtsp_send(pr, c);
	} else {
		ident_conn_done(c);
	}
}

static void rtsp_end(struct ident_conn *c, void *arg, enum ident_outcome o)
{
	struct ident_probe_run *pr = arg;
	record_conn(pr, c);
	if (o == IDENT_OUT_DATA && !pr->res->detail[0]) {
		size_t n;
		const uint8_t *d = ident_conn_data(c, &n);
		last_line((const char *)d, n, pr->res->detail, sizeof(pr->res->detail));
	}
	ident_probe_finish(pr, o);
}

static const struct ident_conn_ops rtsp_ops = {
	.on_open = rtsp_open,
	.on_data = rtsp_data,
	.on_end = rtsp_end,
};

static void rtsp_start(struct ident_probe_run *pr)
{
	ident_hostctx_open(pr->hc, pr->port, false, &rtsp_ops, pr);
}

/* ------------------------------------------------------------------ ftp and ssh */

static void silent_open(struct ident_conn *c, void *arg) {}

/* An FTP greeting ends with a line "NNN text" (a space after the code). */
static void ftp_data(struct ident_conn *c, void *arg)
{
	size_t n;
	const uint8_t *d = ident_conn_data(c, &n);
	for (size_t i = 0; i + 3 < n; i++) {
		bool bol = i == 0 || d[i - 1] == '\n';
		if (bol && isdigit(d[i]) && isdigit(d[i + 1]) && isdigit(d[i + 2]) &&
		    d[i + 3] == ' ' && memchr(d + i, '\n', n - i)) {
			ident_conn_write(c, "QUIT\r\n", 6);
			ident_conn_done(c);
			return;
		}
	}
}

static void banner_end(struct ident_conn *c, void *arg, enum ident_outcome o)
{
	struct ident_probe_run *pr = arg;
	record_conn(pr, c);
	size_t n;
	const uint8_t *d = ident_conn_data(c, &n);
	if (o == IDENT_OUT_DATA) {
		const char *p = (const char *)d;
		if (pr->res->kind == IDENT_PROBE_SSH) {
			const uint8_t *nl = memchr(d, '\n', n);
			n = nl ? (size_t)(nl - d) : n;
			add_trimmed(pr, "ssh.banner", p, n);
		} else {
			add_trimmed(pr, "ftp.banner", p, n);
		}
		const uint8_t *nl = memchr(d, '\n', n);
		size_t l = nl ? (size_t)(nl - d) : n;
		while (l && (d[l - 1] == '\r' || d[l - 1] == ' '))
			l--;
		ident_printable(p, l, pr->res->detail, sizeof(pr->res->detail));
	}
	ident_probe_finish(pr, o);
}

static void ssh_data(struct ident_conn *c, void *arg)
{
	size_t n;
	const uint8_t *d = ident_conn_data(c, &n);
	if (memchr(d, '\n', n))
		ident_conn_done(c);
}

static const struct ident_conn_ops ftp_ops = {
	.on_open = silent_open,
	.on_data = ftp_data,
	.on_end = banner_end,
};
static const struct ident_conn_ops ssh_ops = {
	.on_open = silent_open,
	.on_data = ssh_data,
	.on_end = banner_end,
};

static void ftp_start(struct ident_probe_run *pr)
{
	ident_hostctx_open(pr->hc, pr->port, false, &ftp_ops, pr);
}

static void ssh_start(struct ident_probe_run *pr)
{
	ident_hostctx_open(pr->hc, pr->port, false, &ssh_ops, pr);
}

/* ------------------------------------------------------------------ upnp */

/* "http://ADDR:PORT/path" naming the probed host: its port and path, else false. */
static bool location_on_host(const struct ident_probe_run *pr, const char *loc, size_t len)
{
	char tmp[512];
	if (len >= sizeof(tmp) || len < 8 || strncasecmp(loc, "http://", 7) != 0)
		return false;
	memcpy(tmp, loc + 7, len - 7);
	tmp[len - 7] = '\0';
	char *p = tmp;
	bool v6 = *p == '[';
	char *hostend = v6 ? strchr(p, ']') : strpbrk(p, ":/");
	if (!hostend)
		return false;
	size_t hl = (size_t)(hostend - p) - (v6 ? 1 : 0);
	const char *host = p + (v6 ? 1 : 0);
	if (hl != strlen(pr->host->addr) || strncmp(host, pr->host->addr, hl) != 0)
		return false; /* another address: never contacted */
	p = hostend + (v6 ? 1 : 0);
	long port = 80;
	if (*p == ':') {
		char *end;
		port = strtol(p + 1, &end, 10);
		p = end;
	}
	if (port < 1 || port > 65535 || *p != '/' || strpbrk(p, " \t\r\n"))
		return false;
	struct ident_probe_run *w = (struct ident_probe_run *)pr;
	w->upnp_port = (int)port;
	lib_strlcpy(w->path, p, sizeof(w->path));
	return true;
}

static void upnp_open(struct ident_conn *c, void *arg)
{
	struct ident_probe_run *pr = arg;
	bool v6 = strchr(pr->host->addr, ':') != NULL;
	char req[256];
	int n = snprintf(req, sizeof(req),
			 "M-SEARCH * HTTP/1.1\r\nHOST: %s%s%s:%d\r\nMAN: \"ssdp:discover\"\r\n"
			 "MX: 1\r\nST: upnp:rootdevice\r\nUSER-AGENT: mitsu-ident/%s\r\n\r\n",
			 v6 ? "[" : "", pr->host->addr, v6 ? "]" : "", pr->port, MITSU_VERSION);
	ident_conn_write(c, req, (size_t)n);
}

static void upnp_data(struct ident_conn *c, void *arg)
{
	struct ident_probe_run *pr = arg;
	size_t n;
	const uint8_t *d = ident_conn_data(c, &n);
	struct ident_http_resp r;
	ident_http_parse(d, n, &r);
	if (!r.status_line)
		return;
	pr->replies++;
	if (!pr->res->detail[0])
		ident_printable(r.status_line, r.status_len, pr->res->detail,
				sizeof(pr->res->detail));
	size_t len;
	const char *v = ident_http_header(&r, "SERVER", 0, &len);
	if (v && len && !ident_host_field(pr->host, "ssdp_header.server"))
		ident_host_add_field(pr->host, IDENT_PROBE_UPNP, pr->port, "ssdp_header.server", v,
				     len);
	v = ident_http_header(&r, "USN", 0, &len);
	if (v && len > 5 && strncasecmp(v, "uuid:", 5) == 0 &&
	    !ident_host_field(pr->host, "upnp.uuid")) {
		const char *e = memmem(v, len, "::", 2);
		ident_host_add_field(pr->host, IDENT_PROBE_UPNP, pr->port, "upnp.uuid", v + 5,
				     (e ? (size_t)(e - v) : len) - 5);
	}
	v = ident_http_header(&r, "LOCATION", 0, &len);
	if ((v && !pr->upnp_port && location_on_host(pr, v, len)) ||
	    pr->replies >= IDENT_MAX_SSDP_REPLIES)
		ident_conn_done(c);
}

bool ident_upnp_fields(struct ident_host *h, enum ident_probe_kind kind, int port, const char *path,
		       const char *xml, size_t len)
{
	struct ident_upnp_desc *d = xcalloc(1, sizeof(*d));
	bool ok = ident_upnp_parse(xml, len, d) == 0;
	if (ok) {
		char text[1024];
		size_t tl = ident_upnp_text(d, text, sizeof(text));
		if (tl)
			ident_host_add_field(h, kind, port, "upnp.description", text, tl);
		if (d->manufacturer[0])
			ident_host_add_field(h, kind, port, "upnp.manufacturer", d->manufacturer,
					     strlen(d->manufacturer));
		if (d->model_name[0]) {
			char model[200];
			snprintf(model, sizeof(model), "%s%s%s", d->model_name,
				 d->model_number[0] ? " " : "", d->model_number);
			ident_host_add_field(h, kind, port, "upnp.model", model, strlen(model));
		}
		if (d->udn[0])
			ident_host_add_field(h, kind, port, "upnp.udn", d->udn, strlen(d->udn));
		if (!h->upnp_port) {
			h->upnp_port = port;
			lib_strlcpy(h->upnp_path, path, sizeof(h->upnp_path));
			h->nservices = d->nservices;
			memcpy(h->services, d->services, d->nservices * sizeof(d->services[0]));
		}
	}
	free(d);
	return ok;
}

static void on_description(void *arg, enum ident_outcome o, const struct ident_http_resp *r,
			   struct ident_conn *c)
{
	(void)c;
	struct ident_probe_run *pr = arg;
	if (o == IDENT_OUT_DATA && r && r->status == 200 && r->body)
		ident_upnp_fields(pr->host, IDENT_PROBE_UPNP, pr->upnp_port, pr->path, r->body,
				  r->body_len);
	ident_probe_finish(pr, pr->res->outcome);
}

static void upnp_end(struct ident_conn *c, void *arg, enum ident_outcome o)
{
	struct ident_probe_run *pr = arg;
	record_conn(pr, c);
	/* UDP: no answer within the read timeout is "silent"; an ICMP refusal "refused" */
	if (o == IDENT_OUT_DATA && !pr->replies)
		o = IDENT_OUT_EMPTY;
	if (o == IDENT_OUT_DATA && pr->upnp_port && !ident_hostctx_timed_out(pr->hc)) {
		pr->res->outcome = o;
		ident_http_request(pr->hc, pr->upnp_port, false, "GET", pr->path, NULL, NULL, 0,
				   on_description, pr);
		return;
	}
	ident_probe_finish(pr, o);
}

static const struct ident_conn_ops upnp_ops = {
	.on_open = upnp_open,
	.on_data = upnp_data,
	.on_end = upnp_end,
};

static void upnp_start(struct ident_probe_run *pr)
{
	ident_hostctx_open_udp(pr->hc, pr->port, &upnp_ops, pr);
}

/* ------------------------------------------------------------------ the table */

static const struct ident_probe_ops probe_telnet = {.kind = IDENT_PROBE_TELNET,
						    .start = telnet_start};
static const struct ident_probe_ops probe_rtsp = {.kind = IDENT_PROBE_RTSP, .start = rtsp_start};
static const struct ident_probe_ops probe_ftp = {.kind = IDENT_PROBE_FTP, .start = ftp_start};
static const struct ident_probe_ops probe_ssh = {.kind = IDENT_PROBE_SSH, .start = ssh_start};
static const struct ident_probe_ops probe_upnp = {.kind = IDENT_PROBE_UPNP, .start = upnp_start};

const struct ident_probe_ops *const ident_probe_table[IDENT_PROBE__COUNT] = {
	[IDENT_PROBE_TELNET] = &probe_telnet,     [IDENT_PROBE_HTTP] = &ident_probe_http,
	[IDENT_PROBE_HTTPS] = &ident_probe_https, [IDENT_PROBE_RTSP] = &probe_rtsp,
	[IDENT_PROBE_FTP] = &probe_ftp,           [IDENT_PROBE_SSH] = &probe_ssh,
	[IDENT_PROBE_UPNP] = &probe_upnp,
};
