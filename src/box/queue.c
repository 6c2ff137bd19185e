/* The analysis queue on the caller's libuv loop: samples wait in a bounded FIFO, at most
 * box.parallel run at once, each as a child process (`mitsu box --run-one`, uv_spawn) whose
 * stdout is its verdict; a child that outlives window + BOX_GRACE_SECS is killed. Verdicts are
 * stored, emitted as mitsu.box.result and handed to the caller's callback. */
#include "box/internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"

struct job {
	char *path;
	char sha256[LIB_SHA256_HEX];
	int64_t captured_us;
	struct job *next;
};

struct slot {
	struct box_queue *q;
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t timer;
	struct buf buf;
	char rbuf[65536]; /* each read, appended to buf at once */
	struct job *job;
	bool busy, exited, eof, killed;
	int64_t status;
	int signal;
	int open; /* handles of this job still open */
};

struct box_queue {
	uv_loop_t *loop;
	const struct core_config *cfg;
	struct core_store *store;
	struct core_bus *bus;
	bool subscribed; /* to the bus; undone in box_queue_close */
	struct job *head, *tail;
	size_t waiting, running, max_waiting;
	int parallel;
	struct slot *slots;
	uv_timer_t kick;
	bool closing;
	int handles;
	box_verdict_cb cb;
	void *cb_arg;
	bool static_only;
	struct box_queue_stats stats;
	char exe[PATH_MAX];
};

static void on_kick(uv_timer_t *t);

static void maybe_free(struct box_queue *q)
{
	if (!q->closing || q->handles > 0)
		return;
	for (int i = 0; i < q->parallel; i++)
		buf_free(&q->slots[i].buf);
	free(q->slots);
	free(q);
}

static void handle_closed(uv_handle_t *h)
{
	struct slot *s = h->data;
	struct box_queue *q = s ? s->q : NULL;
	if (!q)
		return;
	q->handles--;
	if (h != (uv_handle_t *)&s->timer && --s->open == 0) {
		s->busy = false;
		q->running--;
		if (!q->closing)
			uv_timer_start(&q->kick, on_kick, 0,
				       0); /* a slot is free: start the next */
	}
	maybe_free(q);
}

static void kick_closed(uv_handle_t *h)
{
	struct box_queue *q = h->data;
	q->handles--;
	maybe_free(q);
}

static void free_job(struct job *j)
{
	if (!j)
		return;
	free(j->path);
	free(j);
}

static char *artefacts_dir(const struct box_queue *q, const char *sha256)
{
	return xasprintf("%s/box/%s", core_cfg_str(q->cfg, OPT_CORE_DATA_DIR), sha256);
}

/* ------------------------------------------------------------------ a finished job */

static json_t *error_verdict(const struct job *j, const char *why)
{
	char now[LIB_RFC3339_LEN];
	lib_rfc3339_now(now);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:b,s:s},s:[],s:[]}", "sha256", j->sha256, "file",
			 j->path, "family", "unknown", "verdict", "error", "analysed", now,
			 "dynamic", "ran", false, "error", why, "dns", "cnc");
}

static void finish(struct slot *s)
{
	struct box_queue *q = s->q;
	struct job *j = s->job;
	s->job = NULL;
	json_t *v = NULL;
	char why[200] = "";
	if (s->killed)
		snprintf(why, sizeof(why),
			 "the analysis took longer than the window plus %d s and was killed",
			 BOX_GRACE_SECS);
	else if (s->signal)
		snprintf(why, sizeof(why), "the analysis process died (signal %d)", s->signal);
	else if (s->status)
		snprintf(why, sizeof(why), "the analysis process failed (exit %lld)",
			 (long long)s->status);
	/* A child that could not analyse the file still prints a verdict saying why. */
	if (!s->killed && !s->signal) {
		v = json_loadb((const char *)s->buf.data, s->buf.len, 0, NULL);
		if (!json_is_object(v) || !json_string_value(json_object_get(v, "verdict"))) {
			json_decref(v);
			v = NULL;
			if (!why[0])
				snprintf(why, sizeof(why), "the analysis printed no verdict");
		} else if (s->status) {
			q->stats.failed++;
		}
	}
	if (!v) {
		v = error_verdict(j, why);
		q->stats.failed++;
		log_warn("box", "%s: %s", j->path, why);
	}
	q->stats.done++;
	/* Time from capture to verdict. */
	int64_t now = lib_real_us();
	struct timespec ts = {.tv_sec = j->captured_us / 1000000,
			      .tv_nsec = (j->captured_us % 1000000) * 1000};
	char captured[LIB_RFC3339_LEN];
	lib_rfc3339(&ts, captured);
	json_object_set_new(v, "captured", json_string(captured));
	json_object_set_new(v, "seconds",
			    json_real((double)((now - j->captured_us) / 1000) / 1000.0));
	if (!json_string_value(json_object_get(v, "sha256")))
		json_object_set_new(v, "sha256", json_string(j->sha256));
	const char *sha = json_string_value(json_object_get(v, "sha256"));
	/* report.json gets the final form (with the capture time). */
	const char *art = json_string_value(json_object_get(v, "artefacts"));
	if (art) {
		char *p = xasprintf("%s/report.json", art);
		char *text = json_dumps(v, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
						   JSON_REAL_PRECISION(6));
		if (text)
			lib_write_file_atomic(p, text, strlen(text), 0640);
		free(text);
		free(p);
	}
	if (q->store)
		box_store_verdict(q->store, v);
	if (q->bus) {
		json_t *f = json_object();
		static const char *const keys[] = {
			"arch",        "family",   "verdict",    "seconds", "dns",
			"cnc",         "scan",     "lan_attack", "ddos",    "killer",
			"persistence", "captured", "artefacts"};
		json_object_set_new(f, "shasum", json_string(sha));
		for (size_t i = 0; i < LIB_ARRAY_LEN(keys); i++)
			if (json_object_get(v, keys[i]))
				json_object_set(f, keys[i], json_object_get(v, keys[i]));
		json_object_set_new(f, "analysis_seconds",
				    json_incref(json_object_get(v, "analysis_seconds")
							? json_object_get(v, "analysis_seconds")
							: json_null()));
		json_t *d = json_object_get(v, "dynamic");
		json_object_set_new(f, "dynamic",
				    json_boolean(json_is_true(json_object_get(d, "ran"))));
		core_emit(q->bus, NULL, EV_BOX_RESULT, f,
			  "sandbox: %s is %s (%s), %.1f s after capture", sha,
			  json_string_value(json_object_get(v, "family")),
			  json_string_value(json_object_get(v, "verdict"))
				  ? json_string_value(json_object_get(v, "verdict"))
				  : "?",
			  json_number_value(json_object_get(v, "seconds")));
	}
	if (q->cb)
		q->cb(q->cb_arg, v);
	json_decref(v);
	free_job(j);
	buf_reset(&s->buf);
}

static void maybe_done(struct slot *s)
{
	if (!s->exited || !s->eof || !s->job)
		return;
	uv_timer_stop(&s->timer);
	finish(s);
	s->open = 2;
	uv_close((uv_handle_t *)&s->proc, handle_closed);
	uv_close((uv_handle_t *)&s->out, handle_closed);
}

static void on_child_exit(uv_process_t *p, int64_t status, int signal)
{
	struct slot *s = p->data;
	s->exited = true;
	s->status = status;
	s->signal = signal;
	maybe_done(s);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct slot *s = h->data;
	*b = uv_buf_init(s->rbuf, sizeof(s->rbuf));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct slot *s = st->data;
	if (n < 0) {
		uv_read_stop(st);
		s->eof = true;
		maybe_done(s);
		return;
	}
	if (n > 0 && buf_append(&s->buf, b->base, (size_t)n)) {
		/* A verdict larger than BOX_VERDICT_MAX: the child is broken or hostile. */
		s->killed = true;
		uv_process_kill(&s->proc, SIGKILL);
	}
}

static void on_timeout(uv_timer_t *t)
{
	struct slot *s = t->data;
	if (s->job && !s->exited) {
		s->killed = true;
		uv_process_kill(&s->proc, SIGKILL);
	}
}

/* ------------------------------------------------------------------ starting jobs */

static int start(struct box_queue *q, struct slot *s, struct job *j)
{
	char *dir = artefacts_dir(q, j->sha256);
	char sets[6][600];
	snprintf(sets[0], sizeof(sets[0]), "box.window=%lld", core_cfg_int(q->cfg, OPT_BOX_WINDOW));
	snprintf(sets[1], sizeof(sets[1]), "box.memory=%llu",
		 (unsigned long long)core_cfg_size(q->cfg, OPT_BOX_MEMORY));
	snprintf(sets[2], sizeof(sets[2]), "box.cpu=%lld", core_cfg_int(q->cfg, OPT_BOX_CPU));
	snprintf(sets[3], sizeof(sets[3]), "box.capture_bytes=%llu",
		 (unsigned long long)core_cfg_size(q->cfg, OPT_BOX_CAPTURE_BYTES));
	snprintf(sets[4], sizeof(sets[4]), "box.rules=%s", core_cfg_str(q->cfg, OPT_BOX_RULES));
	snprintf(sets[5], sizeof(sets[5]), "core.log_level=%s",
		 core_cfg_str(q->cfg, OPT_CORE_LOG_LEVEL));
	char *args[] = {q->exe,
			(char *)"box",
			(char *)"--run-one",
			j->path,
			(char *)"--artefacts",
			dir,
			(char *)"--set",
			sets[0],
			(char *)"--set",
			sets[1],
			(char *)"--set",
			sets[2],
			(char *)"--set",
			sets[3],
			(char *)"--set",
			sets[4],
			(char *)"--set",
			sets[5],
			q->static_only ? (char *)"--static-only" : NULL,
			NULL};
	memset(&s->proc, 0, sizeof(s->proc));
	uv_pipe_init(q->loop, &s->out, 0);
	s->out.data = s;
	s->proc.data = s;
	uv_stdio_container_t stdio[3] = {
		{.flags = UV_IGNORE},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&s->out},
		{.flags = UV_INHERIT_FD, .data.fd = 2},
	};
	uv_process_options_t o = {.exit_cb = on_child_exit,
				  .file = q->exe,
				  .args = args,
				  .stdio = stdio,
				  .stdio_count = 3};
	s->job = j;
	s->busy = true;
	s->exited = s->eof = s->killed = false;
	s->status = 0;
	s->signal = 0;
	buf_reset(&s->buf);
	q->handles++; /* the pipe */
	int rc = uv_spawn(q->loop, &s->proc, &o);
	free(dir);
	q->running++;
	if (rc) {
		/* uv_spawn failed: the process handle must still be closed. */
		log_error("box", "cannot start the analysis of %s: %s", j->path, uv_strerror(rc));
		q->handles++;
		s->exited = s->eof = true;
		s->status = 1;
		finish(s);
		s->open = 2;
		uv_close((uv_handle_t *)&s->proc, handle_closed);
		uv_close((uv_handle_t *)&s->out, handle_closed);
		return rc;
	}
	q->handles++; /* the process */
	q->stats.started++;
	uv_read_start((uv_stream_t *)&s->out, on_alloc, on_read);
	uint64_t limit = (uint64_t)(core_cfg_int(q->cfg, OPT_BOX_WINDOW) + BOX_GRACE_SECS) * 1000;
	uv_timer_start(&s->timer, on_timeout, limit, 0);
	return 0;
}

static void on_kick(uv_timer_t *t)
{
	struct box_queue *q = t->data;
	if (q->closing)
		return;
	for (int i = 0; i < q->parallel && q->head; i++) {
		struct slot *s = &q->slots[i];
		if (s->busy)
			continue;
		struct job *j = q->head;
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		q->waiting--;
		j->next = NULL;
		start(q, s, j);
	}
}

int box_queue_submit(struct box_queue *q, const char *path, const char *sha256, int64_t captured_us)
{
	if (!q || q->closing)
		return -ESHUTDOWN;
	if (q->waiting >= q->max_waiting) {
		q->stats.dropped++;
		log_warn("box", "queue full (%zu waiting): %s is not analysed", q->waiting, path);
		return -ENOSPC;
	}
	struct job *j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(path);
	j->captured_us = captured_us ? captured_us : lib_real_us();
	if (sha256 && strlen(sha256) == LIB_SHA256_HEX - 1) {
		memcpy(j->sha256, sha256, LIB_SHA256_HEX);
	} else {
		uint8_t *data;
		size_t len;
		if (lib_read_file(path, BOX_SAMPLE_MAX, &data, &len) == 0) {
			lib_sha256_hex(data, len, j->sha256);
			free(data);
		} else {
			lib_sha256_hex(path, strlen(path),
				       j->sha256); /* unreadable: the child says why */
		}
	}
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->waiting++;
	q->stats.queued++;
	uv_timer_start(&q->kick, on_kick, 0, 0);
	return 0;
}

/* ------------------------------------------------------------------ the bus */

static void on_event(void *arg, const struct core_ev *ev)
{
	struct box_queue *q = arg;
	if (ev->id != EV_SAMPLE_STORED || !core_cfg_bool(q->cfg, OPT_BOX_AUTO))
		return;
	if (json_is_true(core_ev_get(ev, "duplicate")))
		return;
	const char *type = json_string_value(core_ev_get(ev, "filetype"));
	const char *sha = json_string_value(core_ev_get(ev, "shasum"));
	if (!type || strcmp(type, "elf") != 0 || !sha || strlen(sha) != LIB_SHA256_HEX - 1)
		return;
	for (const char *c = sha; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return;
	int64_t captured = 0;
	lib_parse_time(ev->timestamp, &captured);
	char *path = capture_sample_path(core_cfg_str(q->cfg, OPT_CORE_DATA_DIR), sha);
	box_queue_submit(q, path, sha, captured);
	free(path);
}

/* ------------------------------------------------------------------ open, close */

struct box_queue *box_queue_open(uv_loop_t *loop, const struct core_config *cfg,
				 struct core_store *store, struct core_bus *bus)
{
	if (store && box_store_schema(store))
		return NULL;
	struct box_queue *q = xcalloc(1, sizeof(*q));
	q->loop = loop;
	q->cfg = cfg;
	q->store = store;
	q->bus = bus;
	q->parallel = (int)core_cfg_int(cfg, OPT_BOX_PARALLEL);
	q->max_waiting = (size_t)core_cfg_int(cfg, OPT_BOX_QUEUE);
	q->slots = xcalloc((size_t)q->parallel, sizeof(*q->slots));
	size_t len = sizeof(q->exe);
	if (uv_exepath(q->exe, &len) != 0)
		lib_strlcpy(q->exe, "/proc/self/exe", sizeof(q->exe));
	for (int i = 0; i < q->parallel; i++) {
		struct slot *s = &q->slots[i];
		s->q = q;
		buf_init(&s->buf, BOX_VERDICT_MAX);
		uv_timer_init(loop, &s->timer);
		s->timer.data = s;
		q->handles++;
	}
	uv_timer_init(loop, &q->kick);
	q->kick.data = q;
	q->handles++;
	if (bus) {
		q->subscribed = core_bus_subscribe(bus, on_event, q) == 0;
		if (!q->subscribed)
			log_error("box", "cannot subscribe to the event bus: samples are not "
					 "analysed automatically");
	}
	return q;
}

void box_queue_static_only(struct box_queue *q)
{
	q->static_only = true;
}

void box_queue_on_verdict(struct box_queue *q, box_verdict_cb cb, void *arg)
{
	q->cb = cb;
	q->cb_arg = arg;
}

size_t box_queue_pending(const struct box_queue *q)
{
	return q->waiting + q->running;
}

void box_queue_stats(const struct box_queue *q, struct box_queue_stats *out)
{
	*out = q->stats;
}

void box_queue_close(struct box_queue *q)
{
	if (!q)
		return;
	if (q->subscribed)
		core_bus_unsubscribe(q->bus, on_event, q);
	q->subscribed = false;
	q->closing = true;
	while (q->head) {
		struct job *j = q->head;
		q->head = j->next;
		free_job(j);
	}
	q->tail = NULL;
	q->waiting = 0;
	for (int i = 0; i < q->parallel; i++) {
		struct slot *s = &q->slots[i];
		if (s->busy && s->job) {
			/* The child is the tracer of its sandbox: killing it kills the whole run.
			 */
			uv_process_kill(&s->proc, SIGKILL);
			free_job(s->job);
			s->job = NULL;
			uv_read_stop((uv_stream_t *)&s->out);
			s->open = 2;
			uv_close((uv_handle_t *)&s->proc, handle_closed);
			uv_close((uv_handle_t *)&s->out, handle_closed);
		}
		uv_close((uv_handle_t *)&s->timer, handle_closed);
	}
	uv_close((uv_handle_t *)&q->kick, kick_closed);
}
