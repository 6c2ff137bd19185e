/* The event bus: completes each event (ids, time, sensor, uuid, connection), tells in-process
 * subscribers, queues it, and once per loop turn ends the batch: serialised, stored in mitsu.db
 * by the store's writer, then handed to each sink (see core.h for the order and why). */
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/store_events.h"

#define BUS_MAX_SINKS 8
#define BUS_MAX_SUBSCRIBERS 8
/* Events queued before a forced flush, so a burst cannot grow the queue without bound. */
#define BUS_MAX_QUEUE 4096
/* Events flushed but not yet through mitsu.db: past this the loop waits for the writer (the
 * sensor slows down rather than losing events or growing without bound). 16 full batches,
 * about 2,700 Mirai scanner sessions (0.3 s at 9,000 sessions/s, 20 MB): at 200,000 a loop
 * ahead of the writer kept ~120 MB of batches, freed and faulted in again, and the writer's
 * CPU per session rose by half (docs/operations.md, "Speed of the default store"). */
#define BUS_MAX_INFLIGHT 32768
/* Largest serialised event; a bigger one is dropped with a log line (modules bound their
 * fields well below this). */
#define BUS_MAX_EVENT (4u << 20)
/* Nesting serialised in a module's fields; deeper values are written as null. */
#define BUS_MAX_DEPTH 16

struct bus_sink {
	const struct core_sink_ops *ops;
	void *state;
	uint64_t failures;
};

/* Batches kept for reuse (their arrays and text, ~1.3 MB each when full), so a loop turn
 * allocates nothing large. */
#define BUS_SPARE_BATCHES 8
/* A batch whose text grew past this (a burst) is freed, not kept. */
#define BUS_SPARE_MAX_TEXT (8u << 20)
/* Bytes of text reserved per event of a batch (a Mirai scanner's events are about 330). */
#define BUS_TEXT_PER_EVENT 400

/* One flushed batch: a record per event and their lines one after another (each followed by
 * '\n'). Owned by the store's job until its `done`, then by the sinks, then spare. */
struct bus_batch {
	struct core_bus *bus;
	struct bus_batch *next; /* spare list */
	struct core_ev_rec *recs;
	size_t n, cap;
	struct buf text;
};

struct core_bus {
	const struct core_config *cfg;
	const char *sensor;
	struct core_store *store; /* takes the events first; NULL: sinks only */
	struct bus_sink sinks[BUS_MAX_SINKS];
	size_t nsinks;
	struct {
		core_event_cb cb;
		void *arg;
	} subs[BUS_MAX_SUBSCRIBERS];
	size_t nsubs;
	struct core_ev **queue;
	size_t nqueue, cap;
	bool flushing;
	size_t inflight; /* events in batches the store has not finished */
	struct bus_batch *spare;
	size_t nspare;
	uint64_t store_logged;
	struct core_bus_stats stats;
};

int core_bus_add_sink(struct core_bus *bus, const struct core_sink_ops *ops, void *state)
{
	if (bus->nsinks >= BUS_MAX_SINKS)
		return -1;
	bus->sinks[bus->nsinks++] = (struct bus_sink){.ops = ops, .state = state};
	return 0;
}

int core_bus_subscribe(struct core_bus *bus, core_event_cb cb, void *arg)
{
	for (size_t i = 0; i < bus->nsubs; i++) {
		if (!bus->subs[i].cb) {
			bus->subs[i].cb = cb;
			bus->subs[i].arg = arg;
			return 0;
		}
	}
	if (bus->nsubs >= BUS_MAX_SUBSCRIBERS)
		return -1;
	bus->subs[bus->nsubs].cb = cb;
	bus->subs[bus->nsubs].arg = arg;
	bus->nsubs++;
	return 0;
}

void core_bus_unsubscribe(struct core_bus *bus, core_event_cb cb, void *arg)
{
	/* The slot is emptied, not removed, so a dispatch running over the table (this may be
	 * called from a subscriber's own callback) neither skips nor repeats anyone; subscribe
	 * reuses empty slots. */
	for (size_t i = 0; i < bus->nsubs; i++) {
		if (bus->subs[i].cb == cb && bus->subs[i].arg == arg) {
			bus->subs[i].cb = NULL;
			bus->subs[i].arg = NULL;
			return;
		}
	}
}

struct core_bus *core_bus_open(const struct core_config *cfg, struct core_store *store)
{
	struct core_bus *bus = xcalloc(1, sizeof(*bus));
	bus->cfg = cfg;
	bus->sensor = core_cfg_str(cfg, OPT_SENSOR_NAME);
	if (store && store->writer && core_cfg_bool(cfg, OPT_SINKS_SQLITE)) {
		if (core_events_schema(store) == 0)
			bus->store = store;
		else
			log_error("bus", "events are not stored in mitsu.db: cannot create its "
					 "tables");
	}
	static const struct {
		enum core_opt opt;
		const struct core_sink_ops *ops;
	} builtin[] = {
		{OPT_SINKS_JSONL, &core_sink_jsonl},
		{OPT_SINKS_POSTGRES, &core_sink_postgres},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(builtin); i++) {
		bool on = core_options[builtin[i].opt].type == CORE_OPT_BOOL
				  ? core_cfg_bool(cfg, builtin[i].opt)
				  : core_cfg_str(cfg, builtin[i].opt)[0] != '\0';
		if (!on)
			continue;
		void *state = NULL;
		int rc = builtin[i].ops->open(&state, cfg);
		if (rc) {
			log_error("bus", "sink %s failed to open (%s); continuing without it",
				  builtin[i].ops->name, strerror(-rc));
			continue;
		}
		core_bus_add_sink(bus, builtin[i].ops, state);
		if (bus->store && builtin[i].ops->catch_up)
			builtin[i].ops->catch_up(state, bus->store);
	}
	return bus;
}

void core_bus_close(struct core_bus *bus)
{
	if (!bus)
		return;
	core_bus_drain(bus);
	for (size_t i = 0; i < bus->nsinks; i++)
		if (bus->sinks[i].ops->close)
			bus->sinks[i].ops->close(bus->sinks[i].state);
	const struct core_bus_stats *s = &bus->stats;
	if (s->sink_failures || s->store_failures || s->dropped)
		log_warn("bus",
			 "%llu events emitted; %llu not stored in mitsu.db, %llu sink failures, "
			 "%llu dropped as too large",
			 (unsigned long long)s->emitted, (unsigned long long)s->store_failures,
			 (unsigned long long)s->sink_failures, (unsigned long long)s->dropped);
	while (bus->spare) {
		struct bus_batch *b = bus->spare;
		bus->spare = b->next;
		buf_free(&b->text);
		free(b->recs);
		free(b);
	}
	free(bus->queue);
	free(bus);
}

void core_emit(struct core_bus *bus, const struct core_conn *conn, enum core_event id,
	       json_t *fields, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	core_emit_msg(bus, conn, id, fields, msg);
}

void core_emit_msg(struct core_bus *bus, const struct core_conn *conn, enum core_event id,
		   json_t *fields, const char *message)
{
	size_t mlen = strlen(message);
	struct core_ev *ev = xmalloc(sizeof(*ev) + mlen + 1);
	ev->id = id;
	ev->eventid = core_events[id].name;
	lib_rfc3339_now(ev->timestamp);
	lib_uuid7(ev->uuid);
	ev->sensor = bus->sensor;
	ev->has_conn = conn != NULL;
	if (conn)
		ev->conn = *conn;
	ev->fields = fields ? fields : json_object();
	memcpy(ev->message, message, mlen + 1);
	bus->stats.emitted++;
	lib_work.events++;
	for (size_t i = 0; i < bus->nsubs; i++)
		if (bus->subs[i].cb)
			bus->subs[i].cb(bus->subs[i].arg, ev);
	/* A full queue is flushed now, unless this event comes from inside a flush (a store's
	 * `done` while the bus waits for the writer): then the queue grows until that ends. */
	if (bus->nqueue >= BUS_MAX_QUEUE && !bus->flushing)
		core_bus_flush(bus);
	if (bus->nqueue == bus->cap) {
		bus->cap = bus->cap ? bus->cap * 2 : 256;
		bus->queue = xrealloc(bus->queue, bus->cap * sizeof(*bus->queue));
	}
	bus->queue[bus->nqueue++] = ev;
}

/* ---- serialisation: the event as one compact JSON object, Cowrie's field order ---- */

/* A buffer being written with a sticky error: one failed append fails the whole event. */
struct ser {
	struct buf *buf;
	int err;
};

static void app(struct ser *b, const void *p, size_t n)
{
	struct buf *o = b->buf;
	/* The common case inline: room in the buffer (and under its bound), no error. */
	if (!b->err && n < o->cap - o->len && n <= o->max - o->len) {
		memcpy(o->data + o->len, p, n);
		o->len += n;
		o->data[o->len] = '\0';
	} else if (!b->err) {
		b->err = buf_append(o, p, n);
	}
}

static void app_str(struct ser *b, const char *s)
{
	app(b, s, strlen(s));
}

/* A decimal integer, without printf (it runs several times for every event). */
static void app_int(struct ser *b, long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	app(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void put_piece(void *arg, const char *p, size_t n)
{
	app(arg, p, n);
}

/* Whether one of the 8 bytes of w may need escaping: below 0x20, at or above 0x80, '"' or
 * '\\'. Each test ("a byte below k", "a zero byte" after an xor) is exact about whether some
 * byte matches, so a word it passes needs nothing; one it flags goes to the byte loop. */
static inline bool word_may_escape(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
	uint64_t hit = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
		       ((bslash - ones) & ~bslash) | w;
	return (hit & high) != 0;
}

/* Appends s as a JSON string (core_json_escape); printable ASCII without '"' or '\\', as
 * most fields are, in one piece. The check runs for every string of every event, so it looks
 * at 8 bytes at a time. */
static void put_str(struct ser *b, const char *s, size_t n)
{
	size_t i = 0;
	for (uint64_t w; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (word_may_escape(w))
			break;
	}
	while (i < n && (uint8_t)s[i] >= 0x20 && (uint8_t)s[i] < 0x80 && s[i] != '"' &&
	       s[i] != '\\')
		i++;
	if (i < n) {
		core_json_escape(s, n, put_piece, b);
		return;
	}
	app(b, "\"", 1);
	app(b, s, n);
	app(b, "\"", 1);
}

static void put_key(struct ser *b, const char *key)
{
	app(b, ",", 1);
	put_str(b, key, strlen(key));
	app(b, ":", 1);
}

static void put_value(struct ser *b, const json_t *v, int depth);

/* A member of an array or object: nested past BUS_MAX_DEPTH it is written as null. */
static void put_child(struct ser *b, const json_t *v, int depth)
{
	if (depth < BUS_MAX_DEPTH)
		put_value(b, v, depth + 1);
	else
		app(b, "null", 4);
}

static void put_value(struct ser *b, const json_t *v, int depth)
{
	char num[64];
	int n;
	switch (json_typeof(v)) {
	case JSON_STRING: put_str(b, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: app_int(b, (long long)json_integer_value(v)); break;
	case JSON_REAL:
		n = snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		/* keep it a JSON real: "2" becomes "2.0" */
		if (!strpbrk(num, ".eEn"))
			n += snprintf(num + n, sizeof(num) - (size_t)n, ".0");
		app(b, num, (size_t)n);
		break;
	case JSON_TRUE: app(b, "true", 4); break;
	case JSON_FALSE: app(b, "false", 5); break;
	case JSON_NULL: app(b, "null", 4); break;
	case JSON_ARRAY: {
		app(b, "[", 1);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			if (i)
				app(b, ",", 1);
			put_child(b, x, depth);
		}
		app(b, "]", 1);
		break;
	}
	case JSON_OBJECT: {
		app(b, "{", 1);
		const char *k;
		json_t *x;
		bool first = true;
		json_object_foreach((json_t *)v, k, x) {
			if (!first)
				app(b, ",", 1);
			first = false;
			put_str(b, k, strlen(k));
			app(b, ":", 1);
			put_child(b, x, depth);
		}
		app(b, "}", 1);
		break;
	}
	}
}

/* Fields the bus sets; a module's field of the same name is left out. Asked for every field
 * of every event, so by first letter: one or two comparisons, not eleven. */
static bool common_key(const char *k)
{
	switch (k[0]) {
	case 'e': return strcmp(k, "eventid") == 0;
	case 't': return strcmp(k, "timestamp") == 0;
	case 'u': return strcmp(k, "uuid") == 0;
	case 'm': return strcmp(k, "message") == 0;
	case 'p': return strcmp(k, "protocol") == 0;
	case 'd': return strcmp(k, "dst_ip") == 0 || strcmp(k, "dst_port") == 0;
	case 's':
		return strcmp(k, "sensor") == 0 || strcmp(k, "session") == 0 ||
		       strcmp(k, "src_ip") == 0 || strcmp(k, "src_port") == 0;
	default: return false;
	}
}

/* Appends the event's line to out, at most BUS_MAX_EVENT bytes of it; on failure out is as it
 * was. */
static int serialise(struct buf *out, const struct core_ev *ev)
{
	size_t start = out->len, max = out->max;
	if (max - start > BUS_MAX_EVENT)
		out->max = start + BUS_MAX_EVENT;
	struct ser ser = {.buf = out}, *b = &ser;
	app_str(b, "{\"eventid\":");
	put_str(b, ev->eventid, strlen(ev->eventid));
	app_str(b, ",\"timestamp\":\"");
	app_str(b, ev->timestamp);
	app_str(b, "\",\"sensor\":");
	put_str(b, ev->sensor, strlen(ev->sensor));
	app_str(b, ",\"uuid\":\"");
	app_str(b, ev->uuid);
	app_str(b, "\",\"message\":");
	put_str(b, ev->message, strlen(ev->message));
	if (ev->has_conn) {
		const struct core_conn *c = &ev->conn;
		/* the session id and addresses are hex and address text: nothing to escape */
		app_str(b, ",\"session\":\"");
		app_str(b, c->session);
		app_str(b, "\",\"protocol\":");
		put_str(b, c->protocol, strlen(c->protocol));
		app_str(b, ",\"src_ip\":\"");
		app_str(b, c->src_ip);
		app_str(b, "\",\"src_port\":");
		app_int(b, c->src_port);
		app_str(b, ",\"dst_ip\":\"");
		app_str(b, c->dst_ip);
		app_str(b, "\",\"dst_port\":");
		app_int(b, c->dst_port);
	}
	const char *k;
	json_t *v;
	json_object_foreach(ev->fields, k, v) {
		if (common_key(k))
			continue;
		put_key(b, k);
		put_value(b, v, 0);
	}
	app(b, "}", 1);
	out->max = max;
	if (b->err) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return b->err;
}

/* The batch to every sink, in order, then each sink's flush; the batch becomes spare. */
static void deliver(struct bus_batch *b)
{
	struct core_bus *bus = b->bus;
	const char *text = (const char *)b->text.data;
	lib_work.delivered += b->n;
	for (size_t q = 0; q < b->n; q++) {
		const struct core_ev_rec *r = &b->recs[q];
		for (size_t i = 0; r->stored_line && i < bus->nsinks; i++) {
			struct bus_sink *s = &bus->sinks[i];
			if (s->ops->write(s->state, r->id, text + r->line, r->len)) {
				if (s->failures++ % 1000 == 0)
					log_warn("bus", "sink %s failed to write an event",
						 s->ops->name);
				bus->stats.sink_failures++;
			}
		}
	}
	for (size_t i = 0; i < bus->nsinks; i++) {
		struct bus_sink *s = &bus->sinks[i];
		if (s->ops->flush && s->ops->flush(s->state)) {
			if (s->failures++ % 1000 == 0)
				log_warn("bus", "sink %s failed to flush", s->ops->name);
			bus->stats.sink_failures++;
		}
	}
	if (bus->nspare < BUS_SPARE_BATCHES && b->text.cap <= BUS_SPARE_MAX_TEXT) {
		b->next = bus->spare;
		bus->spare = b;
		bus->nspare++;
	} else {
		buf_free(&b->text);
		free(b->recs);
		free(b);
	}
}

static int store_job(struct core_tx *tx, void *arg)
{
	struct bus_batch *b = arg;
	return core_events_store(tx, b->recs, b->n, (const char *)b->text.data);
}

/* The batch is in mitsu.db (status 0) or is not: the sinks get it either way. */
static void store_done(void *arg, int status)
{
	struct bus_batch *b = arg;
	struct core_bus *bus = b->bus;
	bus->inflight -= b->n;
	if (status) {
		bus->stats.store_failures += b->n;
		/* The store logs the cause; this says what it cost, once a minute at most. */
		uint64_t now = lib_mono_ms();
		if (!bus->store_logged || now - bus->store_logged >= 60000) {
			log_warn("bus",
				 "%llu events not stored in mitsu.db so far (%s); they still go "
				 "to the other sinks",
				 (unsigned long long)bus->stats.store_failures, strerror(-status));
			bus->store_logged = now;
		}
	}
	deliver(b);
}

static struct bus_batch *new_batch(struct core_bus *bus, size_t n)
{
	struct bus_batch *b = bus->spare;
	if (b) {
		bus->spare = b->next;
		bus->nspare--;
		buf_reset(&b->text);
	} else {
		b = xcalloc(1, sizeof(*b));
		b->bus = bus;
		buf_init(&b->text, 0);
	}
	if (b->cap < n) {
		b->cap = n;
		b->recs = xrealloc(b->recs, n * sizeof(*b->recs));
	}
	b->n = n;
	buf_reserve(&b->text, n * BUS_TEXT_PER_EVENT);
	return b;
}

/* Ends the queue as one batch: each event serialised (a too large one is dropped), what the
 * store and the sinks need of it recorded, and the event freed while it is in the cache. */
static struct bus_batch *take_batch(struct core_bus *bus)
{
	struct bus_batch *b = new_batch(bus, bus->nqueue);
	lib_work.flushed += b->n;
	for (size_t q = 0; q < b->n; q++) {
		struct core_ev *ev = bus->queue[q];
		struct core_ev_rec *r = &b->recs[q];
		r->id = ev->id;
		r->stored_line = false;
		size_t start = b->text.len;
		/* serialised straight into the batch, once for the store and every sink */
		if (serialise(&b->text, ev)) {
			log_error("bus", "an event of %s is over %u bytes; dropped", ev->eventid,
				  BUS_MAX_EVENT);
			bus->stats.dropped++;
		} else if (b->text.len + 1 < UINT32_MAX) {
			r->stored_line = true;
			r->line = (uint32_t)start;
			r->len = (uint32_t)(b->text.len - start);
			buf_append(&b->text, "\n", 1);
		} else {
			b->text.len = start;
			b->text.data[start] = '\0';
		}
		if (bus->store) {
			r->has_conn = ev->has_conn;
			r->sensor = ev->sensor;
			memcpy(r->timestamp, ev->timestamp, sizeof(r->timestamp));
			if (ev->has_conn)
				r->conn = ev->conn;
			core_events_extract(ev, r, &b->text);
		}
		json_decref(ev->fields);
		free(ev);
	}
	bus->nqueue = 0;
	return b;
}

void core_bus_flush(struct core_bus *bus)
{
	if (bus->nqueue == 0 || bus->flushing)
		return;
	bus->flushing = true;
	struct bus_batch *b = take_batch(bus);
	if (!bus->store) {
		deliver(b);
	} else {
		bus->inflight += b->n;
		int rc = core_store_submit(bus->store, store_job, store_done, b);
		if (rc)
			store_done(b, rc);
		/* Too far behind: wait for the writer (its `done` callbacks may emit). */
		while (bus->inflight > BUS_MAX_INFLIGHT) {
			uint64_t t0 = lib_mono_us();
			core_store_sync(bus->store);
			lib_work.waits++;
			lib_work.wait_us += lib_mono_us() - t0;
		}
	}
	bus->flushing = false;
}

void core_bus_drain(struct core_bus *bus)
{
	for (;;) {
		core_bus_flush(bus);
		if (!bus->store || (bus->inflight == 0 && core_store_pending(bus->store) == 0))
			if (bus->nqueue == 0)
				break;
		if (bus->store)
			core_store_sync(bus->store);
	}
}

size_t core_bus_pending(const struct core_bus *bus)
{
	return bus->nqueue;
}

void core_bus_stats(const struct core_bus *bus, struct core_bus_stats *out)
{
	*out = bus->stats;
}
