/* ident: the engine. Hosts wait in a queue and are probed at most ident.max_hosts at once;
 * every connection (TCP, TLS over TCP, or a connected UDP socket for SSDP) waits in one FIFO
 * until the caps allow it: connections open in all (max_conns) and to its host (host_conns),
 * and two token buckets, one for all hosts (rate per second) and one per host (host_rate).
 * Every connection has a connect timeout, an idle read timeout and a read cap; every host a
 * time cap. The engine only ever connects to the address of a host it admitted, and admits
 * only addresses the policy allows. */
#include "ident/ident_int.h"
#include "ident/ssl_dl.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "capture/capture.h"

/* The scheduling timer never waits less than this, so a full queue cannot spin the loop. */
#define ENGINE_MIN_TICK_MS 1
/* Bytes decrypted or read in one go. */
#define ENGINE_CHUNK 16384
/* Descriptors kept free for the rest of the process when sizing max_conns. */
#define ENGINE_SPARE_FDS 64

enum conn_state { CONN_WAITING, CONN_CONNECTING, CONN_OPEN, CONN_CLOSING };

struct ident_conn {
	struct ident_hostctx *hc;
	const struct ident_conn_ops *ops;
	void *arg;
	int port;
	bool tls, udp;
	enum conn_state state;
	union {
		uv_tcp_t tcp;
		uv_udp_t udp;
	} h;
	uv_connect_t creq;
	uv_timer_t timer;
	int open_handles;
	struct buf in;
	bool truncated, ended;
	uint32_t bytes;
	uint64_t t0_ms;
	SSL *ssl;
	BIO *rbio, *wbio;
	bool hs_done;
	char subject[256], issuer[256];
	struct ident_conn *qprev, *qnext; /* the wait queue, or the host's open list */
	struct ident_conn *hprev, *hnext; /* the host's conns */
};

struct ident_hostctx {
	struct ident_engine *e;
	struct ident_host *host;
	double tokens;
	uint64_t last_us;
	size_t conns_open;
	struct ident_conn *conns; /* every conn of the host (waiting or open) */
	struct ident_probe_run *runs;
	size_t runs_open;
	uv_timer_t deadline;
	bool external; /* driven by another module until ident_engine_host_end */
	bool quiet;    /* no callback (a module's own host) */
	bool ending, timed_out;
	struct ident_hostctx *prev, *next;
};

struct pending {
	struct sockaddr_storage sa;
	int port, kind;
};

struct ident_engine {
	uv_loop_t *loop;
	struct ident_limits lim;
	struct ident_ports ports;
	struct ident_db *db;
	ident_host_cb cb;
	void *arg;
	struct pending *queue;
	size_t qcap, qhead, qlen;
	struct ident_hostctx *hosts;
	size_t nhosts;
	struct ident_conn *wait_head, *wait_tail;
	size_t nwait;
	size_t conns_open;
	double tokens;
	uint64_t last_us;
	uv_timer_t tick;
	bool tick_armed, tick_closed, closing;
	SSL_CTX *ssl_ctx;
	struct ident_engine_stats stats;
	int pumping; /* re-entrancy guard */
	void (*closed_cb)(void *arg);
	void *closed_arg;
};

static void pump(struct ident_engine *e);
static void host_maybe_done(struct ident_hostctx *hc);
static void reap_soon(struct ident_engine *e);

/* ------------------------------------------------------------------ config */

void ident_limits_from_config(const struct core_config *cfg, struct ident_limits *out)
{
	*out = (struct ident_limits){
		.rate = (double)core_cfg_int(cfg, OPT_IDENT_RATE),
		.host_rate = (double)core_cfg_int(cfg, OPT_IDENT_HOST_RATE),
		.max_hosts = (size_t)core_cfg_int(cfg, OPT_IDENT_MAX_HOSTS),
		.max_conns = (size_t)core_cfg_int(cfg, OPT_IDENT_MAX_CONNS),
		.host_conns = (size_t)core_cfg_int(cfg, OPT_IDENT_HOST_CONNS),
		.connect_ms = (uint32_t)core_cfg_int(cfg, OPT_IDENT_CONNECT_TIMEOUT),
		.read_ms = (uint32_t)core_cfg_int(cfg, OPT_IDENT_READ_TIMEOUT),
		.host_ms = (uint32_t)core_cfg_int(cfg, OPT_IDENT_HOST_TIMEOUT) * 1000,
		.max_read = (size_t)core_cfg_size(cfg, OPT_IDENT_MAX_READ),
		.allow_private = core_cfg_bool(cfg, OPT_IDENT_ALLOW_PRIVATE),
		.min_confidence = (double)core_cfg_int(cfg, OPT_IDENT_MIN_CONFIDENCE) / 100.0,
	};
}

static int parse_ports(const struct core_config *cfg, enum core_opt opt, int *ports, size_t *n,
		       size_t max, char *err, size_t errlen)
{
	char **items;
	size_t count = core_cfg_list(cfg, opt, &items);
	*n = 0;
	int rc = 0;
	for (size_t i = 0; i < count; i++) {
		long long p;
		if (lib_parse_int(items[i], &p) || p < 1 || p > 65535) {
			snprintf(err, errlen, "%s.%s: '%s' is not a port",
				 core_options[opt].section, core_options[opt].key, items[i]);
			rc = -EINVAL;
			break;
		}
		if (*n < max)
			ports[(*n)++] = (int)p;
	}
	core_list_free(items);
	return rc;
}

int ident_ports_from_config(const struct core_config *cfg, struct ident_ports *out, char *err,
			    size_t errlen)
{
	static const enum core_opt opts[IDENT_PROBE__COUNT] = {
		[IDENT_PROBE_TELNET] = OPT_IDENT_TELNET_PORTS,
		[IDENT_PROBE_HTTP] = OPT_IDENT_HTTP_PORTS,
		[IDENT_PROBE_HTTPS] = OPT_IDENT_HTTPS_PORTS,
		[IDENT_PROBE_RTSP] = OPT_IDENT_RTSP_PORTS,
		[IDENT_PROBE_FTP] = OPT_IDENT_FTP_PORTS,
		[IDENT_PROBE_SSH] = OPT_IDENT_SSH_PORTS,
		[IDENT_PROBE_UPNP] = OPT_IDENT_UPNP_PORTS,
	};
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < IDENT_PROBE__COUNT; k++)
		if (parse_ports(cfg, opts[k], out->ports[k], &out->n[k],
				LIB_ARRAY_LEN(out->ports[k]), err, errlen))
			return -EINVAL;
	char **items;
	size_t count = core_cfg_list(cfg, OPT_IDENT_HTTP_PATHS, &items);
	int rc = 0;
	for (size_t i = 0; i < count && out->npaths < LIB_ARRAY_LEN(out->http_paths); i++) {
		if (items[i][0] != '/' || strlen(items[i]) >= sizeof(out->http_paths[0]) ||
		    strpbrk(items[i], " \r\n")) {
			snprintf(err, errlen, "ident.http_paths: '%s' is not a path", items[i]);
			rc = -EINVAL;
			break;
		}
		lib_strlcpy(out->http_paths[out->npaths++], items[i], sizeof(out->http_paths[0]));
	}
	core_list_free(items);
	return rc;
}

/* ------------------------------------------------------------------ token buckets */

/* Refills a bucket of `rate` tokens per second holding at most max(1, rate). */
static void refill(double *tokens, uint64_t *last_us, double rate, uint64_t now)
{
	if (rate <= 0) {
		*tokens = 1;
		return;
	}
	double cap = rate < 1 ? 1 : rate;
	if (*last_us == 0) {
		*tokens = cap;
	} else {
		*tokens += (double)(now - *last_us) * rate / 1e6;
		if (*tokens > cap)
			*tokens = cap;
	}
	*last_us = now;
}

/* ------------------------------------------------------------------ connections */

static void wait_unlink(struct ident_engine *e, struct ident_conn *c)
{
	if (c->qprev)
		c->qprev->qnext = c->qnext;
	else
		e->wait_head = c->qnext;
	if (c->qnext)
		c->qnext->qprev = c->qprev;
	else
		e->wait_tail = c->qprev;
	c->qprev = c->qnext = NULL;
	e->nwait--;
}

static void conn_free(struct ident_conn *c)
{
	struct ident_hostctx *hc = c->hc;
	if (c->hprev)
		c->hprev->hnext = c->hnext;
	else
		hc->conns = c->hnext;
	if (c->hnext)
		c->hnext->hprev = c->hprev;
	if (c->ssl)
		ident_SSL_free(c->ssl); /* frees both BIOs */
	buf_free(&c->in);
	free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct ident_conn *c = h->data;
	if (--c->open_handles > 0)
		return;
	struct ident_hostctx *hc = c->hc;
	struct ident_engine *e = hc->e;
	hc->conns_open--;
	e->conns_open--;
	conn_free(c);
	host_maybe_done(hc);
	pump(e);
}

/* Ends the conversation once: the owner hears the outcome, then the handles close. */
static void conn_end(struct ident_conn *c, enum ident_outcome o)
{
	if (c->ended)
		return;
	c->ended = true;
	struct ident_hostctx *hc = c->hc;
	if (c->state == CONN_WAITING) {
		wait_unlink(hc->e, c);
		c->ops->on_end(c, c->arg, o);
		conn_free(c);
		host_maybe_done(hc);
		return;
	}
	c->state = CONN_CLOSING;
	c->ops->on_end(c, c->arg, o);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	uv_close((uv_handle_t *)&c->h, on_handle_closed);
}

static enum ident_outcome data_or(const struct ident_conn *c, enum ident_outcome none)
{
	return c->bytes ? IDENT_OUT_DATA : none;
}

static enum ident_outcome errno_outcome(int status)
{
	switch (status) {
	case UV_ECONNREFUSED: return IDENT_OUT_REFUSED;
	case UV_ETIMEDOUT: return IDENT_OUT_TIMEOUT;
	case UV_ECONNRESET:
	case UV_EPIPE: return IDENT_OUT_RESET;
	default: return IDENT_OUT_UNREACHABLE;
	}
}

static void on_timer(uv_timer_t *t)
{
	struct ident_conn *c = t->data;
	conn_end(c, c->state == CONN_CONNECTING ? IDENT_OUT_TIMEOUT : data_or(c, IDENT_OUT_SILENT));
}

static void arm_idle(struct ident_conn *c)
{
	uv_timer_start(&c->timer, on_timer, c->hc->e->lim.read_ms, 0);
}

struct wreq {
	uv_write_t req;
	uv_udp_send_t ureq;
	uv_buf_t b;
	char data[];
};

static void on_written(uv_write_t *req, int status)
{
	free(req->data);
}

static void on_sent(uv_udp_send_t *req, int status)
{
	free(req->data);
}

static void raw_write(struct ident_conn *c, const void *p, size_t n)
{
	if (c->state != CONN_OPEN || n == 0)
		return;
	struct wreq *w = xmalloc(sizeof(*w) + n);
	memcpy(w->data, p, n);
	w->b = uv_buf_init(w->data, (unsigned)n);
	w->req.data = w->ureq.data = w;
	int rc = c->udp ? uv_udp_send(&w->ureq, &c->h.udp, &w->b, 1, NULL, on_sent)
			: uv_write(&w->req, (uv_stream_t *)&c->h.tcp, &w->b, 1, on_written);
	if (rc) {
		free(w);
		conn_end(c, data_or(c, errno_outcome(rc)));
	}
}

static void tls_flush(struct ident_conn *c)
{
	char tmp[ENGINE_CHUNK];
	int n;
	while (!c->ended && (n = BIO_read(c->wbio, tmp, sizeof(tmp))) > 0)
		raw_write(c, tmp, (size_t)n);
}

static void append_in(struct ident_conn *c, const void *p, size_t n)
{
	size_t room = c->hc->e->lim.max_read - c->in.len;
	if (n > room) {
		n = room;
		c->truncated = true;
	}
	buf_append(&c->in, p, n);
	c->bytes += (uint32_t)n;
}

static void x509_line(X509_NAME *name, char *out, size_t len)
{
	out[0] = '\0';
	if (!name)
		return;
	BIO *b = BIO_new(BIO_s_mem());
	X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	int n = BIO_read(b, out, (int)len - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

/* Drives the handshake, then decrypts what arrived. Returns false if the conn ended. */
static bool tls_pump(struct ident_conn *c)
{
	if (!c->hs_done) {
		int r = ident_SSL_do_handshake(c->ssl);
		tls_flush(c);
		if (c->ended)
			return false;
		if (r != 1) {
			int err = ident_SSL_get_error(c->ssl, r);
			if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
				return true;
			ERR_clear_error();
			conn_end(c, IDENT_OUT_TLS_ERROR);
			return false;
		}
		c->hs_done = true;
		X509 *cert = ident_SSL_get1_peer_certificate(c->ssl);
		if (cert) {
			x509_line(X509_get_subject_name(cert), c->subject, sizeof(c->subject));
			x509_line(X509_get_issuer_name(cert), c->issuer, sizeof(c->issuer));
			X509_free(cert);
		}
		c->ops->on_open(c, c->arg);
		if (c->ended)
			return false;
	}
	char tmp[ENGINE_CHUNK];
	int n;
	while ((n = ident_SSL_read(c->ssl, tmp, sizeof(tmp))) > 0) {
		append_in(c, tmp, (size_t)n);
		if (c->truncated)
			break;
	}
	if (n <= 0) {
		int err = ident_SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_ZERO_RETURN) {
			conn_end(c, data_or(c, IDENT_OUT_EMPTY));
			return false;
		}
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE && !c->truncated) {
			ERR_clear_error();
			conn_end(c, data_or(c, IDENT_OUT_TLS_ERROR));
			return false;
		}
	}
	tls_flush(c);
	return !c->ended;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	static char slab[65536]; /* one loop thread; each read is consumed before the next */
	*b = uv_buf_init(slab, sizeof(slab));
}

/* New bytes (or an error) from the peer. */
static void received(struct ident_conn *c, ssize_t nread, const char *data)
{
	if (c->ended)
		return;
	if (nread < 0) {
		if (c->tls && c->hs_done)
			tls_pump(c); /* what is still buffered */
		if (!c->ended)
			conn_end(c, nread == UV_EOF ? data_or(c, IDENT_OUT_EMPTY)
						    : data_or(c, errno_outcome((int)nread)));
		return;
	}
	if (nread == 0)
		return;
	arm_idle(c);
	size_t before = c->in.len;
	if (c->tls) {
		BIO_write(c->rbio, data, (int)nread);
		if (!tls_pump(c))
			return;
	} else {
		if (c->udp)
			buf_reset(&c->in); /* one datagram at a time */
		append_in(c, data, (size_t)nread);
	}
	if (c->in.len != before || c->udp)
		c->ops->on_data(c, c->arg);
	if (!c->ended && c->truncated)
		conn_end(c, IDENT_OUT_DATA);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	received(s->data, nread, b->base);
}

static void on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *b, const struct sockaddr *from,
		    unsigned flags)
{
	if (nread == 0 && !from)
		return; /* nothing more for now */
	received(u->data, nread, b->base);
}

static void opened(struct ident_conn *c)
{
	c->state = CONN_OPEN;
	arm_idle(c);
	if (c->tls) {
		c->ssl = ident_SSL_new(c->hc->e->ssl_ctx);
		c->rbio = BIO_new(BIO_s_mem());
		c->wbio = BIO_new(BIO_s_mem());
		ident_SSL_set_bio(c->ssl, c->rbio, c->wbio);
		ident_SSL_set_connect_state(c->ssl);
		tls_pump(c);
	} else {
		c->ops->on_open(c, c->arg);
	}
}

static void on_connect(uv_connect_t *req, int status)
{
	struct ident_conn *c = req->data;
	if (c->ended)
		return;
	if (status) {
		conn_end(c, status == UV_ECANCELED ? IDENT_OUT_TIMEOUT : errno_outcome(status));
		return;
	}
	uv_read_start((uv_stream_t *)&c->h.tcp, on_alloc, on_read);
	opened(c);
}

static void set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* The caps allowed it: the socket is made and the connect starts. */
static void conn_start(struct ident_conn *c)
{
	struct ident_hostctx *hc = c->hc;
	struct ident_engine *e = hc->e;
	hc->conns_open++;
	e->conns_open++;
	e->stats.conns++;
	if (e->conns_open > e->stats.peak_conns)
		e->stats.peak_conns = e->conns_open;
	c->state = CONN_CONNECTING;
	c->t0_ms = lib_mono_ms();
	c->open_handles = 2;
	uv_timer_init(e->loop, &c->timer);
	c->timer.data = c;
	struct sockaddr_storage sa = hc->host->sa;
	set_port(&sa, c->port);
	int rc;
	if (c->udp) {
		uv_udp_init(e->loop, &c->h.udp);
		c->h.udp.data = c;
		rc = uv_udp_connect(&c->h.udp, (const struct sockaddr *)&sa);
		if (rc == 0)
			rc = uv_udp_recv_start(&c->h.udp, on_alloc, on_recv);
		if (rc == 0) {
			opened(c);
			return;
		}
	} else {
		uv_tcp_init(e->loop, &c->h.tcp);
		c->h.tcp.data = c;
		c->creq.data = c;
		uv_timer_start(&c->timer, on_timer, e->lim.connect_ms, 0);
		rc = uv_tcp_connect(&c->creq, &c->h.tcp, (const struct sockaddr *)&sa, on_connect);
		if (rc == 0)
			return;
	}
	conn_end(c, errno_outcome(rc));
}

static struct ident_conn *conn_new(struct ident_hostctx *hc, int port, bool tls, bool udp,
				   const struct ident_conn_ops *ops, void *arg)
{
	struct ident_engine *e = hc->e;
	struct ident_conn *c = xcalloc(1, sizeof(*c));
	c->hc = hc;
	c->ops = ops;
	c->arg = arg;
	c->port = port;
	c->tls = tls;
	c->udp = udp;
	c->state = CONN_WAITING;
	buf_init(&c->in, e->lim.max_read + 1);
	c->hnext = hc->conns;
	if (hc->conns)
		hc->conns->hprev = c;
	hc->conns = c;
	c->qprev = e->wait_tail;
	if (e->wait_tail)
		e->wait_tail->qnext = c;
	else
		e->wait_head = c;
	e->wait_tail = c;
	e->nwait++;
	if (e->closing || hc->timed_out)
		reap_soon(e);
	else
		pump(e);
	return c;
}

struct ident_conn *ident_hostctx_open(struct ident_hostctx *hc, int port, bool tls,
				      const struct ident_conn_ops *ops, void *arg)
{
	return conn_new(hc, port, tls, false, ops, arg);
}

struct ident_conn *ident_hostctx_open_udp(struct ident_hostctx *hc, int port,
					  const struct ident_conn_ops *ops, void *arg)
{
	return conn_new(hc, port, false, true, ops, arg);
}

void ident_conn_write(struct ident_conn *c, const void *p, size_t n)
{
	if (c->ended || c->state != CONN_OPEN)
		return;
	if (c->tls) {
		if (c->hs_done && n)
			ident_SSL_write(c->ssl, p, (int)n);
		tls_flush(c);
	} else {
		raw_write(c, p, n);
	}
}

const uint8_t *ident_conn_data(const struct ident_conn *c, size_t *len)
{
	*len = c->in.len;
	return c->in.data ? c->in.data : (const uint8_t *)"";
}

void ident_conn_consume(struct ident_conn *c, size_t n)
{
	buf_consume(&c->in, n);
}

bool ident_conn_truncated(const struct ident_conn *c)
{
	return c->truncated;
}

uint32_t ident_conn_bytes(const struct ident_conn *c)
{
	return c->bytes;
}

uint32_t ident_conn_ms(const struct ident_conn *c)
{
	return c->t0_ms ? (uint32_t)(lib_mono_ms() - c->t0_ms) : 0;
}

int ident_conn_port(const struct ident_conn *c)
{
	return c->port;
}

void ident_conn_done(struct ident_conn *c)
{
	conn_end(c, data_or(c, IDENT_OUT_EMPTY));
}

const char *ident_conn_tls_subject(const struct ident_conn *c)
{
	return c->subject;
}

const char *ident_conn_tls_issuer(const struct ident_conn *c)
{
	return c->issuer;
}

/* ------------------------------------------------------------------ scheduling */

static void on_tick(uv_timer_t *t)
{
	struct ident_engine *e = t->data;
	e->tick_armed = false;
	pump(e);
}

/* Starts every waiting connection the caps allow, in FIFO order (a host at its own cap does
 * not hold back the others), then admits queued hosts into free slots. */
static void pump_conns(struct ident_engine *e, uint64_t now)
{
	refill(&e->tokens, &e->last_us, e->lim.rate, now);
	struct ident_conn *c = e->wait_head;
	bool starved = false;
	while (c) {
		struct ident_conn *next = c->qnext;
		struct ident_hostctx *hc = c->hc;
		if (e->closing || hc->timed_out) {
			conn_end(c, IDENT_OUT_SKIPPED);
			c = next;
			continue;
		}
		if (e->conns_open >= e->lim.max_conns)
			break;
		refill(&hc->tokens, &hc->last_us, e->lim.host_rate, now);
		if (hc->conns_open < e->lim.host_conns && hc->tokens >= 1) {
			if (e->tokens < 1) {
				starved = true;
				break;
			}
			e->tokens -= 1;
			hc->tokens -= 1;
			wait_unlink(e, c);
			conn_start(c);
		} else if (hc->tokens < 1) {
			starved = true;
		}
		c = next;
	}
	if (starved && !e->tick_armed && !e->tick_closed) {
		double fastest = e->lim.rate > e->lim.host_rate ? e->lim.rate : e->lim.host_rate;
		double per = 1000.0 / fastest;
		uint64_t ms = per < ENGINE_MIN_TICK_MS ? ENGINE_MIN_TICK_MS : (uint64_t)per;
		uv_timer_start(&e->tick, on_tick, ms, 0);
		e->tick_armed = true;
	}
}

/* Waiting conns that must end (their host timed out, the engine closes) end from the tick,
 * never inside the call that queued them. */
static void reap_soon(struct ident_engine *e)
{
	if (!e->tick_armed && !e->tick_closed) {
		uv_timer_start(&e->tick, on_tick, 0, 0);
		e->tick_armed = true;
	}
}

static void host_admit(struct ident_engine *e, const struct pending *p);

static void pump(struct ident_engine *e)
{
	if (e->pumping)
		return;
	e->pumping++;
	uint64_t now = lib_mono_us();
	pump_conns(e, now);
	while (e->qlen && e->nhosts < e->lim.max_hosts && !e->closing) {
		struct pending p = e->queue[e->qhead];
		e->qhead = (e->qhead + 1) % e->qcap;
		e->qlen--;
		host_admit(e, &p);
		pump_conns(e, lib_mono_us());
	}
	e->pumping--;
}

/* ------------------------------------------------------------------ hosts */

static void addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	if (sa->sa_family == AF_INET)
		uv_ip4_name((const struct sockaddr_in *)sa, out, len);
	else
		uv_ip6_name((const struct sockaddr_in6 *)sa, out, len);
}

bool ident_addr_allowed(const struct ident_engine *e, const struct sockaddr *sa)
{
	return e->lim.allow_private || !capture_addr_is_private(sa);
}

static void on_host_deadline(uv_timer_t *t)
{
	struct ident_hostctx *hc = t->data;
	hc->timed_out = true;
	/* every conn of the host ends now; probes record what they had */
	for (struct ident_conn *c = hc->conns, *next; c; c = next) {
		next = c->hnext;
		conn_end(c, c->state == CONN_WAITING      ? IDENT_OUT_SKIPPED
			    : c->state == CONN_CONNECTING ? IDENT_OUT_TIMEOUT
							  : data_or(c, IDENT_OUT_SILENT));
	}
}

static struct ident_hostctx *hostctx_new(struct ident_engine *e, const struct sockaddr *sa)
{
	struct ident_hostctx *hc = xcalloc(1, sizeof(*hc));
	hc->e = e;
	hc->host = xcalloc(1, sizeof(*hc->host));
	memcpy(&hc->host->sa, sa,
	       sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	addr_text(sa, hc->host->addr, sizeof(hc->host->addr));
	hc->host->start_ms = lib_mono_ms();
	uv_timer_init(e->loop, &hc->deadline);
	hc->deadline.data = hc;
	uv_timer_start(&hc->deadline, on_host_deadline, e->lim.host_ms, 0);
	hc->next = e->hosts;
	if (e->hosts)
		e->hosts->prev = hc;
	e->hosts = hc;
	e->nhosts++;
	if (e->nhosts > e->stats.peak_hosts)
		e->stats.peak_hosts = e->nhosts;
	return hc;
}

static void engine_maybe_free(struct ident_engine *e);

static void on_deadline_closed(uv_handle_t *h)
{
	struct ident_hostctx *hc = h->data;
	ident_host_clear(hc->host);
	free(hc->host);
	free(hc);
}

/* The host's last conn and probe are done: classify, report, free. */
static void host_finish(struct ident_hostctx *hc)
{
	struct ident_engine *e = hc->e;
	hc->ending = true;
	hc->host->end_ms = lib_mono_ms();
	struct ident_result r;
	ident_classify(e->db, hc->host, e->lim.min_confidence, &r);
	e->stats.hosts_done++;
	e->stats.answered += r.answered;
	e->stats.identified += r.identified;
	if (e->cb && !hc->quiet)
		e->cb(e->arg, hc->host, &r);
	ident_result_free(&r);
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		e->hosts = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	e->nhosts--;
	uv_timer_stop(&hc->deadline);
	uv_close((uv_handle_t *)&hc->deadline, on_deadline_closed);
	engine_maybe_free(e);
}

static void host_maybe_done(struct ident_hostctx *hc)
{
	if (hc->ending || hc->external || hc->runs_open || hc->conns)
		return;
	host_finish(hc);
	pump(hc->e);
}

/* Probe runs: each reserves its result slot in the host, in start order. */
static void start_probe(struct ident_hostctx *hc, enum ident_probe_kind kind, int port)
{
	struct ident_host *h = hc->host;
	if (h->nprobes >= IDENT_MAX_PROBES)
		return;
	struct ident_probe_run *pr = xcalloc(1, sizeof(*pr));
	pr->hc = hc;
	pr->host = h;
	pr->ports = &hc->e->ports;
	pr->port = port;
	pr->res = &h->probes[h->nprobes++];
	*pr->res = (struct ident_probe_result){.kind = kind, .port = port};
	pr->next = hc->runs;
	hc->runs = pr;
	hc->runs_open++;
	ident_probe_table[kind]->start(pr);
}

void ident_probe_finish(struct ident_probe_run *pr, enum ident_outcome o)
{
	if (pr->finished)
		return;
	pr->finished = true;
	if (pr->res->outcome == IDENT_OUT_NONE || pr->res->outcome == IDENT_OUT_SKIPPED)
		pr->res->outcome = o;
	struct ident_hostctx *hc = pr->hc;
	for (struct ident_probe_run **pp = &hc->runs; *pp; pp = &(*pp)->next) {
		if (*pp == pr) {
			*pp = pr->next;
			break;
		}
	}
	hc->runs_open--;
	free(pr);
	host_maybe_done(hc);
}

static void host_admit(struct ident_engine *e, const struct pending *p)
{
	struct ident_hostctx *hc = hostctx_new(e, (const struct sockaddr *)&p->sa);
	hc->host->only_port = p->port;
	hc->host->only_kind = (enum ident_probe_kind)p->kind;
	hc->runs_open++; /* held while the probes start, so none can finish the host early */
	if (p->port) {
		start_probe(hc, (enum ident_probe_kind)p->kind, p->port);
	} else {
		for (int k = 0; k < IDENT_PROBE__COUNT; k++)
			for (size_t i = 0; i < e->ports.n[k]; i++)
				start_probe(hc, (enum ident_probe_kind)k, e->ports.ports[k][i]);
	}
	hc->runs_open--;
	host_maybe_done(hc);
}

struct ident_hostctx *ident_engine_host_begin(struct ident_engine *e, const struct sockaddr *sa)
{
	if (e->closing || !ident_addr_allowed(e, sa))
		return NULL;
	struct ident_hostctx *hc = hostctx_new(e, sa);
	hc->external = true;
	hc->quiet = true;
	return hc;
}

void ident_engine_host_end(struct ident_hostctx *hc)
{
	hc->external = false;
	host_maybe_done(hc); /* now, or when its last conn has closed */
}

struct ident_engine *ident_hostctx_engine(const struct ident_hostctx *hc)
{
	return hc->e;
}

struct ident_host *ident_hostctx_host(struct ident_hostctx *hc)
{
	return hc->host;
}

bool ident_hostctx_timed_out(const struct ident_hostctx *hc)
{
	return hc->timed_out;
}

const struct ident_limits *ident_engine_limits(const struct ident_engine *e)
{
	return &e->lim;
}

uv_loop_t *ident_engine_loop(const struct ident_engine *e)
{
	return e->loop;
}

struct ident_db *ident_engine_db(const struct ident_engine *e)
{
	return e->db;
}

/* ------------------------------------------------------------------ the engine */

/* max_conns sockets need as many descriptors: the soft limit is raised towards the hard one,
 * and max_conns lowered to what is left, so a connection never fails for want of a descriptor
 * (which would read as the target's fault). */
static void fit_descriptors(struct ident_limits *lim)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rlim_t want = (rlim_t)lim->max_conns + ENGINE_SPARE_FDS;
	if (rl.rlim_cur < want) {
		rl.rlim_cur =
			rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		size_t n = rl.rlim_cur > 2 * ENGINE_SPARE_FDS ? rl.rlim_cur - ENGINE_SPARE_FDS
							      : ENGINE_SPARE_FDS;
		log_warn("ident", "ident.max_conns lowered from %zu to %zu (descriptor limit %llu)",
			 lim->max_conns, n, (unsigned long long)rl.rlim_cur);
		lim->max_conns = n;
	}
}

LIB_DL_LIBRARY(ident_ssl_load, IDENT_SSL_SONAME, IDENT_SSL_PACKAGE, IDENT_SSL_SYMBOLS)

int ident_engine_open(struct ident_engine **out, uv_loop_t *loop, const struct ident_limits *lim,
		      const struct ident_ports *ports, struct ident_db *db, size_t queue_max,
		      ident_host_cb cb, void *arg)
{
	char why[256];
	if (ident_ssl_load(why, sizeof(why))) {
		log_error("ident", "cannot load libssl: %s", why);
		return -ENOENT;
	}
	struct ident_engine *e = xcalloc(1, sizeof(*e));
	e->loop = loop;
	e->lim = *lim;
	fit_descriptors(&e->lim);
	if (ports)
		e->ports = *ports;
	e->db = db;
	e->cb = cb;
	e->arg = arg;
	e->qcap = queue_max ? queue_max : 1;
	e->queue = xcalloc(e->qcap, sizeof(*e->queue));
	uv_timer_init(loop, &e->tick);
	e->tick.data = e;
	e->ssl_ctx = ident_SSL_CTX_new(ident_TLS_client_method());
	if (!e->ssl_ctx) {
		free(e->queue);
		uv_close((uv_handle_t *)&e->tick, NULL);
		free(e);
		return -ENOMEM;
	}
	/* Old devices speak old TLS with weak keys: identification needs to hear them. Nothing
	 * secret travels over these connections. */
	ident_SSL_CTX_set_verify(e->ssl_ctx, SSL_VERIFY_NONE, NULL);
	ident_SSL_CTX_set_security_level(e->ssl_ctx, 0);
	ident_SSL_CTX_ctrl(e->ssl_ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_VERSION, NULL);
	*out = e;
	return 0;
}

int ident_engine_submit(struct ident_engine *e, const struct sockaddr *sa, int only_port,
			int only_kind)
{
	if (e->closing)
		return -ECANCELED;
	if (!ident_addr_allowed(e, sa)) {
		struct ident_host *h = xcalloc(1, sizeof(*h));
		memcpy(&h->sa, sa,
		       sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						: sizeof(struct sockaddr_in6));
		addr_text(sa, h->addr, sizeof(h->addr));
		h->only_port = only_port;
		h->policy_refused = true;
		struct ident_result r = {0};
		e->stats.hosts_refused++;
		if (e->cb)
			e->cb(e->arg, h, &r);
		free(h);
		return -EPERM;
	}
	if (e->qlen == e->qcap)
		return -ENOBUFS;
	struct pending *p = &e->queue[(e->qhead + e->qlen) % e->qcap];
	memset(p, 0, sizeof(*p));
	memcpy(&p->sa, sa,
	       sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	p->port = only_port;
	p->kind = only_kind;
	e->qlen++;
	pump(e);
	return 0;
}

void ident_engine_stats(const struct ident_engine *e, struct ident_engine_stats *out)
{
	*out = e->stats;
	out->hosts_in_flight = e->nhosts;
	out->hosts_queued = e->qlen;
	out->conns_open = e->conns_open;
}

size_t ident_engine_pending(const struct ident_engine *e)
{
	return e->qlen + e->nhosts;
}

void ident_engine_on_closed(struct ident_engine *e, void (*cb)(void *arg), void *arg)
{
	e->closed_cb = cb;
	e->closed_arg = arg;
}

static void on_tick_closed(uv_handle_t *h)
{
	struct ident_engine *e = h->data;
	if (e->closed_cb)
		e->closed_cb(e->closed_arg);
	ident_SSL_CTX_free(e->ssl_ctx);
	free(e->queue);
	free(e);
}

/* A closing engine is freed once its last host is gone. */
static void engine_maybe_free(struct ident_engine *e)
{
	if (!e->closing || e->nhosts || e->tick_closed)
		return;
	e->tick_closed = true;
	uv_timer_stop(&e->tick);
	uv_close((uv_handle_t *)&e->tick, on_tick_closed);
}

void ident_engine_close(struct ident_engine *e)
{
	if (!e || e->closing)
		return;
	e->closing = true;
	e->qlen = 0;
	/* hosts in flight end now; their callbacks still run with what they had */
	for (struct ident_hostctx *hc = e->hosts, *next; hc; hc = next) {
		next = hc->next;
		hc->external = false;
		if (!hc->timed_out && !hc->ending)
			on_host_deadline(&hc->deadline);
	}
	reap_soon(e);
	engine_maybe_free(e);
}
