/* Sessions: accept, limits, timers, reads, writes, and an orderly close from the loop. */
#include "sensor/sensor_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One read buffer for the whole sensor: reads are handled before the next one starts. */
#define SENSOR_READ_BUF (64 * 1024)
static char read_buf[SENSOR_READ_BUF];
/* How long a closing session may take to hand its last output to a slow peer. */
#define SENSOR_DRAIN_MS 5000
/* Microseconds in a second: pacing credit is counted in byte-microseconds. */
#define SENSOR_US_PER_S 1000000u
/* Bytes already sent from a paced queue before the queue is compacted (when they are also at
 * least half of it), so a long output costs linear time. */
#define SENSOR_PACE_COMPACT (64 * 1024)

const struct core_config *sensor_config(const struct sensor *sn)
{
	return sn->cfg;
}
const struct sensor_limits *sensor_limits(const struct sensor *sn)
{
	return &sn->limits;
}
struct capture_samples *sensor_samples(const struct sensor *sn)
{
	return sn->svc.samples;
}
struct capture_fetcher *sensor_fetcher(const struct sensor *sn)
{
	return sn->svc.fetcher;
}

static int addr_bytes(const struct sockaddr_storage *ss, uint8_t out[16], size_t *len)
{
	if (ss->ss_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		*len = 4;
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		*len = 16;
		return 0;
	}
	return -EAFNOSUPPORT;
}

void sensor_addr_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, int *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		uv_ip4_name(a, ip, iplen);
		*port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		uv_ip6_name(a, ip, iplen);
		/* An IPv4 peer on a dual-stack socket is reported as plain IPv4. */
		if (lib_str_prefix(ip, "::ffff:") && strchr(ip + 7, '.'))
			memmove(ip, ip + 7, strlen(ip + 7) + 1);
		*port = ntohs(a->sin6_port);
	}
}

void sensor_session_emit(struct sensor_session *s, enum core_event id, json_t *fields,
			 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	core_emit_msg(s->sensor->svc.bus, &s->conn, id, fields, msg);
}

/* The lists of sessions (sensor_int.h): live ones most recently active first, and closing
 * ones, each doubly linked. */
struct list {
	struct sensor_session **head, **tail;
};

static struct list list_of(struct sensor *sn, bool closing)
{
	return closing ? (struct list){&sn->closing, &sn->closing_tail}
		       : (struct list){&sn->sessions, &sn->sessions_tail};
}

static void list_unlink(struct list l, struct sensor_session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*l.head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		*l.tail = s->prev;
	s->prev = s->next = NULL;
}

static void list_push_front(struct list l, struct sensor_session *s)
{
	s->prev = NULL;
	s->next = *l.head;
	if (*l.head)
		(*l.head)->prev = s;
	else
		*l.tail = s;
	*l.head = s;
}

/* The session's record goes: mitsu.session.closed as its last event, then the memory. */
static void session_finish(struct sensor_session *s)
{
	struct sensor *sn = s->sensor;
	double duration = (double)(s->end_ms - s->start_ms) / 1000.0;
	sensor_session_emit(s, EV_SESSION_CLOSED,
			    json_pack("{s:f,s:s}", "duration", duration, "reason",
				      sensor_close_reason_name(s->close_reason)),
			    "session closed (%s) after %.1f s",
			    sensor_close_reason_name(s->close_reason), duration);
	sensor_srctab_release(&sn->sources, s->src_addr, s->src_len);
	list_unlink(list_of(sn, s->closing), s);
	sn->nsessions--;
	if (s->closing)
		sn->nclosing--;
	sn->stats.closed++;
	lib_work.closes++;
	free(s);
	sensor_listeners_resume(sn);
}

static void session_free(struct sensor_session *s)
{
	if (s->proto && s->proto->on_close)
		s->proto->on_close(s);
	s->proto = NULL;
	sensor_budget_release(s);
	/* Last, after what the module records at its end (files the attacker left behind), and
	 * once the work it started for the session (samples being stored) is done. */
	s->ended = true;
	if (s->holds == 0)
		session_finish(s);
}

void sensor_session_hold(struct sensor_session *s)
{
	s->holds++;
}

void sensor_session_release(struct sensor_session *s)
{
	if (--s->holds == 0 && s->ended)
		session_finish(s);
}

static void handle_gone(struct sensor_session *s)
{
	if (--s->open_handles == 0)
		session_free(s);
}

static void on_handle_closed(uv_handle_t *h)
{
	handle_gone(h->data);
}

static void on_pace_timer_closed(uv_handle_t *h)
{
	struct sensor_session *s = h->data;
	free(h);
	handle_gone(s);
}

static void close_handles(struct sensor_session *s)
{
	if (s->handles_closed)
		return;
	s->handles_closed = true;
	/* Paced bytes that never left are no longer queued anywhere. */
	s->sensor->queued_bytes -= s->pace.queue.len - s->pace.off;
	buf_free(&s->pace.queue);
	s->pace.off = 0;
	uv_close((uv_handle_t *)&s->timer, on_handle_closed);
	uv_close((uv_handle_t *)&s->tcp, on_handle_closed);
	if (s->pace.timer) {
		s->open_handles++;
		uv_close((uv_handle_t *)s->pace.timer, on_pace_timer_closed);
	}
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct sensor_session *s = req->data;
	free(req);
	close_handles(s);
}

static void on_timer(uv_timer_t *t);

/* Half-closes the socket once libuv has written what it holds; the handles close after. */
static int start_shutdown(struct sensor_session *s)
{
	uv_shutdown_t *req = xmalloc(sizeof(*req));
	req->data = s;
	if (uv_shutdown(req, (uv_stream_t *)&s->tcp, on_shutdown) == 0)
		return 0;
	free(req);
	return -1;
}

#define SENSOR_CLOSE_NAME(id, name, drain) [SENSOR_CLOSE_##id] = name,
#define SENSOR_CLOSE_DRAIN(id, name, drain) [SENSOR_CLOSE_##id] = drain,
static const char *const close_names[] = {[SENSOR_CLOSE_NONE] = "none",
					  SENSOR_CLOSE_REASONS(SENSOR_CLOSE_NAME)};
static const bool close_drains[] = {SENSOR_CLOSE_REASONS(SENSOR_CLOSE_DRAIN)};

const char *sensor_close_reason_name(enum sensor_close_reason r)
{
	return (size_t)r < LIB_ARRAY_LEN(close_names) ? close_names[r] : "none";
}

/* The connection of a closing session is cut: at once, or after its queued output has left. */
static void cut_connection(struct sensor_session *s)
{
	if (s->handles_closed)
		return;
	/* A polite end lets queued output reach the peer first; a peer that does not read, or
	 * that already left, is cut off. */
	/* With nothing left in the write queue, the kernel already holds all output and close(2)
	 * sends it before the FIN: no loop turns spent on a shutdown (an HTTP server closes after
	 * every reply without keep-alive). */
	bool drain = close_drains[s->close_reason] && s->tcp.write_queue_size > 0;
	if (drain && uv_is_writable((uv_stream_t *)&s->tcp)) {
		/* Bound the drain: the timer closes the handles if the peer does not read. */
		uv_timer_start(&s->timer, on_timer, SENSOR_DRAIN_MS, 0);
		if (s->pace.queue.len > s->pace.off || s->pace.in_flight) {
			/* Paced output still waits for its turn: shut down once it has left. */
			s->pace.shutdown = true;
			return;
		}
		if (start_shutdown(s) == 0)
			return;
	}
	close_handles(s);
}

/* The backlog's queues are singly linked through a session's cut_next or later_next: link is
 * its offset. */
static struct sensor_session *queue_pop(struct sensor_session **head, struct sensor_session **tail,
					size_t link)
{
	struct sensor_session *s = *head;
	struct sensor_session **next = (struct sensor_session **)((char *)s + link);
	*head = *next;
	if (!*head)
		*tail = NULL;
	*next = NULL;
	return s;
}

static void queue_push(struct sensor_session **head, struct sensor_session **tail, size_t link,
		       struct sensor_session *s)
{
	if (*tail)
		*(struct sensor_session **)((char *)*tail + link) = s;
	else
		*head = s;
	*tail = s;
}

/* The waiting input of a stale session goes to its module, and reading starts again. */
static void read_waited(struct sensor_session *s)
{
	struct sensor *sn = s->sensor;
	uint8_t *p = s->later;
	size_t n = s->later_len;
	s->later = NULL;
	s->later_len = 0;
	sn->later_bytes -= n;
	if (!s->closing) {
		s->proto->on_data(s, p, n);
		/* Still stale: it is read from the parked set from now on. */
		if (!s->closing && !s->parked &&
		    !(sensor_session_stale(s) && sensor_session_park(s)) &&
		    uv_read_start((uv_stream_t *)&s->tcp, sensor_session_on_alloc,
				  sensor_session_on_read) != 0)
			sensor_session_close(s, SENSOR_CLOSE_ERROR);
	}
	free(p);
}

/* Works off the oldest SENSOR_CUT_BATCH connections to cut, and stale input while the turn's
 * share allows. A session waits in a queue with a hold on it (closed handles do not free it
 * before it leaves the queue). */
static void on_backlog(uv_idle_t *h)
{
	struct sensor *sn = h->data;
	for (unsigned n = 0; n < SENSOR_CUT_BATCH && sn->cut; n++) {
		struct sensor_session *s = queue_pop(&sn->cut, &sn->cut_tail,
						     offsetof(struct sensor_session, cut_next));
		cut_connection(s);
		sensor_session_release(s);
	}
	while (sn->later && (sn->stale_turn < SENSOR_STALE_BATCH || sn->stopping)) {
		struct sensor_session *s = queue_pop(&sn->later, &sn->later_tail,
						     offsetof(struct sensor_session, later_next));
		sn->stale_turn++;
		read_waited(s);
		sensor_session_release(s);
	}
	if (!sn->cut && !sn->later) {
		uv_idle_stop(h);
		if (sn->stopping)
			sensor_backlog_stop(sn);
	}
}

void sensor_backlog_init(struct sensor *sn)
{
	uv_idle_init(sn->loop, &sn->backlog);
	sn->backlog.data = sn;
	sn->backlog_init = true;
}

void sensor_backlog_stop(struct sensor *sn)
{
	if (sn->backlog_init && !sn->cut && !sn->later &&
	    !uv_is_closing((uv_handle_t *)&sn->backlog))
		uv_close((uv_handle_t *)&sn->backlog, NULL);
}

/* Whether the backlog can take a session (it is closed once the sensor has stopped). */
static bool backlog_open(const struct sensor *sn)
{
	return sn->backlog_init && !uv_is_closing((const uv_handle_t *)&sn->backlog);
}

void sensor_session_close(struct sensor_session *s, enum sensor_close_reason reason)
{
	if (s->closing)
		return;
	struct sensor *sn = s->sensor;
	s->closing = true;
	sn->nclosing++;
	s->close_reason = reason;
	/* From the live list, where evictions and budgets look, to the closing one. */
	list_unlink(list_of(sn, false), s);
	list_push_front(list_of(sn, true), s);
	sensor_budget_leave(s);
	uv_read_stop((uv_stream_t *)&s->tcp);
	sensor_session_unpark(s);
	uv_timer_stop(&s->timer);
	s->end_ms = lib_mono_ms();
	/* The rest waits for the backlog (at most SENSOR_CUT_BATCH per loop turn). */
	if (!backlog_open(sn)) {
		cut_connection(s);
		return;
	}
	sensor_session_hold(s);
	queue_push(&sn->cut, &sn->cut_tail, offsetof(struct sensor_session, cut_next), s);
	uv_idle_start(&sn->backlog, on_backlog);
}

struct write_req {
	uv_write_t req;
	struct sensor_session *s;
	size_t len;
	bool paced; /* a piece of the paced queue: its end lets the next one go */
	char data[];
};

static void pace_pump(struct sensor_session *s);

static void on_write(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct sensor_session *s = w->s;
	s->sensor->queued_bytes -= w->len;
	bool paced = w->paced;
	free(w);
	if (status < 0 && status != UV_ECANCELED && !s->closing)
		sensor_session_close(s, SENSOR_CLOSE_ERROR);
	if (paced) {
		s->pace.in_flight = false;
		if (!s->handles_closed)
			pace_pump(s);
	}
}

/* Whether n more bytes fit the session's and the sensor's output bounds; if not, the session
 * is cut off (a peer that does not read must not hold memory). */
static bool output_room(struct sensor_session *s, size_t n)
{
	struct sensor *sn = s->sensor;
	size_t held = s->tcp.write_queue_size + s->pace.queue.len - s->pace.off;
	if (held + n <= sn->limits.max_output_queue &&
	    sn->queued_bytes + n <= sn->limits.max_output_total)
		return true;
	if (!s->closing)
		sensor_session_close(s, SENSOR_CLOSE_OUTPUT_LIMIT);
	close_handles(s);
	return false;
}

/* Writes n bytes: straight to the socket when it takes them, the rest through libuv's queue
 * (counted in queued_bytes until written). Returns 0, or -1 after closing the session. */
static int write_now(struct sensor_session *s, const char *data, size_t n, bool paced)
{
	uv_stream_t *st = (uv_stream_t *)&s->tcp;
	lib_work.writes++;
	if (st->write_queue_size == 0) {
		uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);
		int w = uv_try_write(st, &b, 1);
		if (w == (int)n)
			return 0;
		if (w > 0) {
			data += w;
			n -= (size_t)w;
		} else if (w != UV_EAGAIN) {
			sensor_session_close(s, SENSOR_CLOSE_ERROR);
			return -1;
		}
	}
	if (!paced && !output_room(s, n))
		return -1;
	struct write_req *w = xmalloc(sizeof(*w) + n);
	memcpy(w->data, data, n);
	w->s = s;
	w->len = n;
	w->paced = paced;
	uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
	if (uv_write(&w->req, st, &b, 1, on_write) < 0) {
		free(w);
		sensor_session_close(s, SENSOR_CLOSE_ERROR);
		return -1;
	}
	s->sensor->queued_bytes += n;
	if (paced)
		s->pace.in_flight = true;
	return 0;
}

void sensor_session_set_pace(struct sensor_session *s, size_t write_size, uint64_t rate)
{
	struct sensor_pace *pc = &s->pace;
	pc->write_size = rate ? write_size : 0;
	pc->rate = rate;
	buf_free(&pc->queue);
	buf_init(&pc->queue, s->sensor->limits.max_output_queue);
	/* A session starts with one write's worth of credit: its greeting is not delayed. */
	pc->credit = (uint64_t)pc->write_size * SENSOR_US_PER_S;
	pc->last_us = lib_mono_us();
}

static void on_pace_timer(uv_timer_t *t)
{
	pace_pump(t->data);
}

/* Sends what the credit allows from the paced queue, one write at a time; then waits for
 * libuv to finish that write (on_write) or for credit (the pace timer). */
static void pace_pump(struct sensor_session *s)
{
	struct sensor_pace *pc = &s->pace;
	while (!pc->in_flight && !s->handles_closed) {
		size_t left = pc->queue.len - pc->off;
		if (left == 0) {
			buf_reset(&pc->queue);
			pc->off = 0;
			if (pc->shutdown) {
				pc->shutdown = false;
				if (start_shutdown(s) < 0)
					close_handles(s);
			}
			return;
		}
		size_t n = LIB_MIN(left, pc->write_size);
		uint64_t now = lib_mono_us(), cap = (uint64_t)pc->write_size * SENSOR_US_PER_S;
		pc->credit = LIB_MIN(cap, pc->credit + (now - pc->last_us) * pc->rate);
		pc->last_us = now;
		uint64_t need = (uint64_t)n * SENSOR_US_PER_S;
		if (pc->credit < need) {
			uint64_t ms = ((need - pc->credit) / pc->rate + 999) / 1000;
			if (!pc->timer) {
				pc->timer = xmalloc(sizeof(*pc->timer));
				uv_timer_init(s->tcp.loop, pc->timer);
				pc->timer->data = s;
			}
			uv_timer_start(pc->timer, on_pace_timer, ms ? ms : 1, 0);
			return;
		}
		pc->credit -= need;
		const char *p = (const char *)pc->queue.data + pc->off;
		pc->off += n;
		s->sensor->queued_bytes -= n;
		if (write_now(s, p, n, true) < 0)
			return;
		/* Keep the queue from growing without end while a long output drains. */
		if (pc->off >= SENSOR_PACE_COMPACT && pc->off * 2 >= pc->queue.len) {
			buf_consume(&pc->queue, pc->off);
			pc->off = 0;
		}
	}
}

void sensor_session_write(struct sensor_session *s, const void *p, size_t n)
{
	if (s->handles_closed || n == 0)
		return;
	if (!s->pace.write_size) {
		write_now(s, p, n, false);
		return;
	}
	if (!output_room(s, n))
		return;
	if (buf_append(&s->pace.queue, p, n) < 0) {
		sensor_session_close(s, SENSOR_CLOSE_OUTPUT_LIMIT);
		close_handles(s);
		return;
	}
	s->sensor->queued_bytes += n;
	pace_pump(s);
}

static void on_timer(uv_timer_t *t)
{
	struct sensor_session *s = t->data;
	lib_work.timers++;
	if (s->closing) {
		close_handles(s);
		return;
	}
	uint64_t now = lib_mono_ms();
	const struct sensor_limits *lim = &s->sensor->limits;
	uint64_t idle_end = s->last_input_ms + lim->idle_ms;
	uint64_t total_end = s->start_ms + lim->session_ms;
	if (now >= total_end) {
		sensor_session_close(s, SENSOR_CLOSE_TIMEOUT);
		return;
	}
	if (now >= idle_end) {
		sensor_session_close(s, SENSOR_CLOSE_IDLE);
		return;
	}
	/* No progress for stale_ms, even without input (a peer that only holds its connection):
	 * parked, so that its input and its end are read in bounded batches too. */
	uint64_t stale_end = s->last_progress_ms + s->sensor->stale_ms;
	if (!s->parked && now >= stale_end)
		sensor_session_park(s);
	/* Input moved the idle deadline: sleep until the nearest of them. */
	uint64_t next = LIB_MIN(idle_end, total_end);
	if (!s->parked && stale_end > now)
		next = LIB_MIN(next, stale_end);
	uv_timer_start(&s->timer, on_timer, next - now, 0);
}

void sensor_session_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	*buf = uv_buf_init(read_buf, sizeof(read_buf));
}

/* Input of a stale session beyond the loop turn's share (SENSOR_STALE_BATCH) waits in the
 * backlog, with reading stopped, while the waiting bytes fit SENSOR_LATER_MAX; true if it
 * does. */
static bool read_later(struct sensor_session *s, const char *p, size_t n)
{
	struct sensor *sn = s->sensor;
	if (!sensor_session_stale(s))
		return false;
	if (sn->stale_turn < SENSOR_STALE_BATCH || !backlog_open(sn) ||
	    sn->later_bytes + n > SENSOR_LATER_MAX) {
		sn->stale_turn++;
		return false;
	}
	s->later = xmalloc(n);
	memcpy(s->later, p, n);
	s->later_len = n;
	sn->later_bytes += n;
	sn->stale_waited++;
	uv_read_stop((uv_stream_t *)&s->tcp);
	sensor_session_hold(s);
	queue_push(&sn->later, &sn->later_tail, offsetof(struct sensor_session, later_next), s);
	uv_idle_start(&sn->backlog, on_backlog);
	return true;
}

/* The bookkeeping of a read: true if its bytes go on to the module, false if it was the end
 * of the connection or went over limits.max_input (the session is closing). */
static bool input_taken(struct sensor_session *s, ssize_t nread)
{
	lib_work.reads++;
	if (nread < 0) {
		/* A reset is the peer leaving too (it closed with our output unread). */
		sensor_session_close(s, nread == UV_EOF || nread == UV_ECONNRESET
						? SENSOR_CLOSE_PEER
						: SENSOR_CLOSE_ERROR);
		return false;
	}
	s->last_input_ms = lib_mono_ms();
	s->bytes_in += (uint64_t)nread;
	if (s->bytes_in > s->sensor->limits.max_input) {
		sensor_session_close(s, SENSOR_CLOSE_INPUT_LIMIT);
		return false;
	}
	return true;
}

void sensor_session_input(struct sensor_session *s, const uint8_t *p, ssize_t nread)
{
	if (nread != 0 && !s->closing && input_taken(s, nread))
		s->proto->on_data(s, p, (size_t)nread);
}

void sensor_session_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct sensor_session *s = st->data;
	if (nread == 0 || s->closing || !input_taken(s, nread))
		return;
	if (read_later(s, buf->base, (size_t)nread))
		return;
	s->proto->on_data(s, (const uint8_t *)buf->base, (size_t)nread);
	/* Bytes and still no line: libuv stops reading it, the parked set takes it. */
	if (!s->closing && sensor_session_stale(s))
		sensor_session_park(s);
}

void sensor_session_progress(struct sensor_session *s)
{
	if (s->closing)
		return;
	s->last_progress_ms = lib_mono_ms();
	if (s->sensor->sessions != s) {
		list_unlink(list_of(s->sensor, false), s);
		list_push_front(list_of(s->sensor, false), s);
	}
}

/* The table is full: evicts the live session that made no progress for longest (a slowloris
 * trickling bytes that never make a line goes first), if that is at least limits.evict_idle, so
 * a new peer gets the slot (oldest-first eviction: a full table takes newcomers rather than
 * keeping its stalest peers); true if one was. The evicted session is cut by the cutter within
 * a few loop turns (SENSOR_CUT_BATCH per turn), and counts until it is freed. */
static bool evict_one(struct sensor *sn)
{
	if (sn->nsessions >= sn->limits.max_sessions + SENSOR_EVICT_SLACK)
		return false;
	struct sensor_session *v = sn->sessions_tail;
	if (!v || lib_mono_ms() - v->last_progress_ms < sn->limits.evict_idle_ms)
		return false;
	sn->stats.evicted++;
	lib_work.evictions++;
	sensor_session_close(v, SENSOR_CLOSE_EVICTED);
	return true;
}

/* A connection refused before it became a session: only its socket handle exists. */
static void on_refused_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Whether l may accept now: its batch of this loop turn is not used up, and the sessions
 * evicted but not yet freed leave room. */
static bool may_accept(const struct sensor_listener *l)
{
	const struct sensor *sn = l->sensor;
	return sn->stopping || (l->accepted_turn < SENSOR_ACCEPT_BATCH &&
				sn->nsessions < sn->limits.max_sessions + SENSOR_EVICT_SLACK);
}

void sensor_listeners_resume(struct sensor *sn)
{
	for (size_t i = 0; i < sn->nlisteners; i++) {
		struct sensor_listener *l = &sn->listeners[i];
		if (l->paused && !uv_is_closing((uv_handle_t *)&l->tcp) && may_accept(l)) {
			l->paused = false;
			sensor_session_accept(l);
		}
	}
}

void sensor_session_accept(struct sensor_listener *l)
{
	struct sensor *sn = l->sensor;
	if (!may_accept(l)) {
		l->paused = true; /* not accepted: libuv keeps it and stops polling */
		return;
	}
	l->accepted_turn++;
	lib_work.accepts++;
	struct sensor_session *s = xcalloc(1, sizeof(*s));
	s->sensor = sn;
	uv_tcp_init(sn->loop, &s->tcp);
	s->tcp.data = s;
	s->open_handles = 1;
	if (uv_accept((uv_stream_t *)&l->tcp, (uv_stream_t *)&s->tcp) != 0) {
		s->handles_closed = true;
		uv_close((uv_handle_t *)&s->tcp, on_refused_closed);
		return;
	}
	struct sockaddr_storage peer, local;
	int plen = sizeof(peer), llen = sizeof(local);
	uint8_t a[16];
	size_t alen = 0;
	/* Closing sessions count until they are freed; evicted ones are freed this turn. */
	size_t live = sn->nsessions - sn->nclosing;
	bool refuse = sn->stopping || (live >= sn->limits.max_sessions && !evict_one(sn));
	if (refuse)
		sn->stats.refused_total++;
	if (!refuse &&
	    (uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&peer, &plen) ||
	     (!l->local_known && uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&local, &llen)) ||
	     addr_bytes(&peer, a, &alen)))
		refuse = true;
	if (!refuse &&
	    sensor_srctab_acquire(&sn->sources, a, alen, (uint32_t)sn->limits.max_per_source) < 0) {
		sn->stats.refused_source++;
		refuse = true;
	}
	if (!refuse) {
		memcpy(s->src_addr, a, alen);
		s->src_len = (uint8_t)alen;
	}
	if (refuse) {
		/* Over a limit: no events (a flood must not fill the store), just close. */
		s->handles_closed = true;
		uv_close((uv_handle_t *)&s->tcp, on_refused_closed);
		return;
	}
	sn->stats.accepted++;
	/* TCP_NODELAY is inherited from the listener (listener.c): no setsockopt(2) here. */
	uv_timer_init(sn->loop, &s->timer);
	s->timer.data = s;
	s->open_handles = 2;
	s->proto = l->proto;
	s->profile = l->profile;
	s->start_ms = s->last_input_ms = s->last_progress_ms = lib_mono_ms();
	core_session_id(s->conn.session);
	s->conn.protocol = l->proto->name;
	sensor_addr_text(&peer, s->conn.src_ip, sizeof(s->conn.src_ip), &s->conn.src_port);
	if (l->local_known) {
		memcpy(s->conn.dst_ip, l->local_ip, sizeof(l->local_ip));
		s->conn.dst_port = l->local_port;
	} else {
		sensor_addr_text(&local, s->conn.dst_ip, sizeof(s->conn.dst_ip), &s->conn.dst_port);
	}
	list_push_front(list_of(sn, false), s);
	sn->nsessions++;

	sensor_session_emit(s, EV_SESSION_CONNECT,
			    json_pack("{s:s}", "profile", s->profile ? s->profile->name : ""),
			    "new connection: %s:%d (%s:%d) [session: %s]", s->conn.src_ip,
			    s->conn.src_port, s->conn.dst_ip, s->conn.dst_port, s->conn.session);
	/* The first deadline: the session's staleness (it is parked), idleness or end. */
	uv_timer_start(&s->timer, on_timer,
		       LIB_MIN(sn->stale_ms, LIB_MIN(sn->limits.idle_ms, sn->limits.session_ms)),
		       0);
	if (s->proto->on_accept(s) < 0) {
		sensor_session_close(s, SENSOR_CLOSE_ERROR);
		return;
	}
	if (!s->closing && uv_read_start((uv_stream_t *)&s->tcp, sensor_session_on_alloc,
					 sensor_session_on_read) != 0)
		sensor_session_close(s, SENSOR_CLOSE_ERROR);
}

void sensor_sessions_shutdown(struct sensor *sn)
{
	/* Each close moves the session to the closing list. */
	while (sn->sessions)
		sensor_session_close(sn->sessions, SENSOR_CLOSE_SHUTDOWN);
}
