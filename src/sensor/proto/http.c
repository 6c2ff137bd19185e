/* HTTP: the web honeypot's protocol module. It reads requests with the incremental parser of
 * http_parse.c (any split, pipelining, keep-alive, HTTP/0.9 to 1.1), hands each to the
 * emulated device of src/webui/, and writes the reply. The [http] limits hold every peer:
 * request line, header lines and bytes, body size, the time a request may take (a slowloris
 * peer gets 408 and is closed) and the time a kept-alive connection may idle; a peer over a
 * limit gets the status a server would send and is closed, and only that peer. Exploit
 * payload URLs and uploaded firmware go to the capture machinery the Telnet side uses. */
#include "sensor/proto/http_parse.h"
#include "sensor/sensor_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Downloads one connection waits on; more are detached (they go on, their events say late). */
#define HTTP_MAX_PENDING_FETCHES 32
/* Room the request and reply buffers start with: an ordinary request and reply fit, so a new
 * connection costs one allocation for each instead of a chain of doublings. */
#define HTTP_IN_INITIAL 1024
#define HTTP_OUT_INITIAL 2048
/* A buffer grown past this for one large request or reply is given back once that request is
 * answered: a kept-alive connection holds no more than an ordinary request needs. */
#define HTTP_KEEP_BUFFER 16384

struct hs {
	struct sensor_session *s;
	struct sensor_http_parser parser;
	struct buf out;
	uv_timer_t timer; /* h is freed from its close callback */
	bool in_request;  /* bytes of an unfinished request are buffered */
	uint64_t requests;
	/* What the connection holds of the sensor's memory budget (limits.shell_memory_total):
	 * the request, body and reply buffers, and uploads copied for the sample store. */
	uint64_t held;
	uint64_t uploads; /* bytes of uploads not yet stored */
	struct hs_fetch *fetches[HTTP_MAX_PENDING_FETCHES];
	size_t nfetches;
};

/* A download this connection waits on (the callback needs to know which). */
struct hs_fetch {
	struct hs *h;
	uint64_t id;
};

static const struct core_config *cfg_of(const struct hs *h)
{
	return sensor_config(h->s->sensor);
}

static void on_timer(uv_timer_t *t);

static void arm(struct hs *h)
{
	enum core_opt o = h->in_request ? OPT_HTTP_REQUEST_TIMEOUT : OPT_HTTP_KEEPALIVE_TIMEOUT;
	uv_timer_start(&h->timer, on_timer, (uint64_t)core_cfg_int(cfg_of(h), o) * 1000, 0);
}

static void fail(struct hs *h, int status, enum sensor_close_reason why)
{
	buf_reset(&h->out);
	webui_error(h->s->sensor->webui, h->s->profile, status, &h->out);
	sensor_session_write(h->s, h->out.data, h->out.len);
	sensor_session_close(h->s, why);
}

static void on_timer(uv_timer_t *t)
{
	struct hs *h = t->data;
	if (h->s->closing)
		return;
	if (h->in_request)
		fail(h, 408, SENSOR_CLOSE_REQUEST_TIMEOUT);
	else
		sensor_session_close(h->s, SENSOR_CLOSE_IDLE);
}

/* ---- memory ---- */

static uint64_t holding(const struct hs *h)
{
	return h->parser.in.cap + h->parser.body.cap + h->out.cap + h->uploads;
}

/* Tells the sensor what the connection holds now. Returns false when it must give way (it is
 * then closing with reason memory_budget). */
static bool account(struct hs *h)
{
	uint64_t now = holding(h);
	long long delta = (long long)now - (long long)h->held;
	h->held = now;
	return delta == 0 || sensor_session_account(h->s, SENSOR_BUDGET_MEMORY, delta);
}

static void shrink(struct buf *b)
{
	if (b->cap > HTTP_KEEP_BUFFER && b->len < HTTP_KEEP_BUFFER) {
		b->data = xrealloc(b->data, HTTP_KEEP_BUFFER);
		b->cap = HTTP_KEEP_BUFFER;
	}
}

/* ---- what the device asks of the connection ---- */

static void io_emit(void *arg, enum core_event id, json_t *fields, const char *message)
{
	struct hs *h = arg;
	sensor_session_emit(h->s, id, fields, "%s", message);
}

static void on_fetched(void *arg, const struct capture_fetch_res *r)
{
	/* The outcome is recorded by the downloader; only forget the download. */
	struct hs_fetch *hf = arg;
	struct hs *h = hf->h;
	for (size_t i = 0; i < h->nfetches; i++)
		if (h->fetches[i] == hf) {
			h->fetches[i] = h->fetches[--h->nfetches];
			break;
		}
	free(hf);
}

static void io_fetch(void *arg, const char *url, const char *method)
{
	struct hs *h = arg;
	struct capture_fetcher *f = sensor_fetcher(h->s->sensor);
	if (!f)
		return;
	struct capture_fetch_req req = {.url = url, .method = method, .conn = &h->s->conn};
	struct hs_fetch *hf = xmalloc(sizeof(*hf));
	hf->h = h;
	hf->id = capture_fetch(f, &req, on_fetched, hf);
	if (h->nfetches < HTTP_MAX_PENDING_FETCHES) {
		h->fetches[h->nfetches++] = hf;
	} else {
		capture_fetch_detach(f, hf->id);
		free(hf);
	}
}

/* An upload on its way to the sample store. */
struct hs_upload {
	struct sensor_session *s;
	size_t len;
};

/* The firmware (or other upload) is stored, or not. The session was held for it: the
 * connection may be gone (its state freed, its holdings released), the session is not. */
static void on_stored(void *arg, int status, const struct capture_sample *smp,
		      const struct capture_origin *o)
{
	struct hs_upload *up = arg;
	struct sensor_session *s = up->s;
	struct hs *h = s->proto_state;
	if (h && s->proto == &sensor_proto_http) {
		h->uploads -= up->len;
		account(h);
	}
	free(up);
	if (status == 0)
		sensor_session_emit(s, EV_SESSION_FILE_UPLOAD,
				    json_pack("{s:s,s:I,s:o,s:s,s:b}", "shasum", smp->sha256,
					      "size", (json_int_t)smp->size, "destfile",
					      core_json_str(o->destfile), "method", o->method,
					      "duplicate", smp->duplicate),
				    "file uploaded with %s: %s (%llu bytes, SHA-256 %s)", o->method,
				    o->destfile, (unsigned long long)smp->size, smp->sha256);
	sensor_session_release(s);
}

static void io_store(void *arg, const void *data, size_t len, const char *method,
		     const char *destfile)
{
	struct hs *h = arg;
	struct sensor_session *s = h->s;
	struct capture_put put = {
		.data = data,
		.len = len,
		.mode = CAPTURE_DATA_COPY,
		.origin = {.source = "http", .method = method, .destfile = destfile},
		.conn = &s->conn,
		.cb = on_stored,
	};
	struct hs_upload *up = xmalloc(sizeof(*up));
	*up = (struct hs_upload){.s = s, .len = len};
	put.arg = up;
	sensor_session_hold(s);
	h->uploads += len;
	if (capture_sample_put(sensor_samples(s->sensor), &put)) {
		h->uploads -= len;
		free(up);
		sensor_session_release(s);
	}
}

/* ---- requests ---- */

/* Answers the parsed request. Returns false once the session is closing. */
static bool serve(struct hs *h)
{
	struct sensor_session *s = h->s;
	const struct webui_request *req = sensor_http_request(&h->parser);
	struct webui_io io = {.arg = h, .emit = io_emit, .fetch = io_fetch, .store = io_store};
	buf_reset(&h->out);
	bool close = webui_handle(s->sensor->webui, s->profile, s->conn.src_ip, req, &io, &h->out);
	sensor_session_write(s, h->out.data, h->out.len);
	h->requests++;
	sensor_session_progress(s); /* a whole request: not the stalest when the table is full */
	if (!account(h))
		return false;
	if (close || h->requests >= (uint64_t)core_cfg_int(cfg_of(h), OPT_HTTP_MAX_REQUESTS)) {
		sensor_session_close(s, SENSOR_CLOSE_DONE);
		return false;
	}
	return !s->closing;
}

static enum sensor_close_reason reason_of(int status)
{
	switch (status) {
	case SENSOR_HTTP_TOO_LARGE: return SENSOR_CLOSE_INPUT_LIMIT;
	case SENSOR_HTTP_URI_TOO_LONG:
	case SENSOR_HTTP_HEADERS_TOO_LARGE: return SENSOR_CLOSE_LINE_LIMIT;
	default: return SENSOR_CLOSE_BAD_REQUEST;
	}
}

/* Long because it is the connection's one input state machine: feed, answer every complete
 * request (pipelined ones too), 100 Continue, errors, the request and idle timers, and what
 * the buffers hold of the memory budget, in the order they must happen. */
static void hs_data(struct sensor_session *s, const uint8_t *p, size_t n)
{
	struct hs *h = s->proto_state;
	for (;;) {
		size_t used = 0;
		enum sensor_http_status st = sensor_http_feed(&h->parser, p, n, &used);
		p += used;
		n -= used;
		/* The request buffered so far counts against the budget before it is answered:
		 * many peers each sending a large body cannot together pass it. */
		if (!account(h))
			return;
		for (;;) {
			if (st == SENSOR_HTTP_DONE) {
				if (!serve(h))
					return;
				st = sensor_http_next(&h->parser);
				h->in_request = false;
				shrink(&h->out);
				if (st != SENSOR_HTTP_DONE) {
					/* A finished request points into these; a partial one not.
					 */
					shrink(&h->parser.in);
					shrink(&h->parser.body);
				}
				if (!account(h))
					return;
				continue;
			}
			if (st == SENSOR_HTTP_CONTINUE) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				sensor_session_write(s, cont, sizeof(cont) - 1);
				st = SENSOR_HTTP_MORE;
			}
			break;
		}
		if (st != SENSOR_HTTP_MORE) {
			fail(h, (int)st, reason_of((int)st));
			return;
		}
		bool pending = sensor_http_pending(&h->parser) > 0;
		if (pending != h->in_request || !pending) {
			h->in_request = pending;
			arm(h);
		}
		if (n == 0)
			return;
	}
}

static int hs_accept(struct sensor_session *s)
{
	if (!s->profile || !s->profile->web || !s->sensor->webui)
		return -EINVAL;
	struct hs *h = xcalloc(1, sizeof(*h));
	h->s = s;
	const struct core_config *cfg = sensor_config(s->sensor);
	struct sensor_http_limits lim = {
		.max_line = (size_t)core_cfg_size(cfg, OPT_HTTP_MAX_LINE),
		.max_headers = (size_t)core_cfg_int(cfg, OPT_HTTP_MAX_HEADERS),
		.max_head = (size_t)core_cfg_size(cfg, OPT_HTTP_MAX_HEAD),
		.max_body = (size_t)core_cfg_size(cfg, OPT_HTTP_MAX_BODY),
	};
	sensor_http_init(&h->parser, &lim);
	buf_init(&h->out, 0);
	buf_reserve(&h->parser.in, HTTP_IN_INITIAL);
	buf_reserve(&h->out, HTTP_OUT_INITIAL);
	uv_timer_init(s->tcp.loop, &h->timer);
	h->timer.data = h;
	s->proto_state = h;
	arm(h);
	return account(h) ? 0 : -ENOMEM;
}

static void on_timer_closed(uv_handle_t *t)
{
	free(t->data);
}

static void hs_close(struct sensor_session *s)
{
	struct hs *h = s->proto_state;
	if (!h)
		return;
	struct capture_fetcher *f = sensor_fetcher(s->sensor);
	for (size_t i = 0; i < h->nfetches; i++) {
		if (f)
			capture_fetch_detach(f, h->fetches[i]->id);
		free(h->fetches[i]);
	}
	/* Uploads still on their way to the store stop counting: the session's holdings leave
	 * with it (their callbacks find no state). */
	h->uploads = 0;
	sensor_http_free(&h->parser);
	buf_free(&h->out);
	account(h);
	uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->timer, on_timer_closed);
	s->proto_state = NULL;
}

const struct sensor_proto sensor_proto_http = {
	.name = "http",
	.web = true,
	.on_accept = hs_accept,
	.on_data = hs_data,
	.on_close = hs_close,
};
