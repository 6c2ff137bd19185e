/* The event bus: completes each event (ids, time, sensor, uuid, connection), tells in-process
 * subscribers, queues it, and hands every queued event to each sink once per loop turn. */
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BUS_MAX_SINKS 8
#define BUS_MAX_SUBSCRIBERS 8
/* Events queued before a forced flush, so a burst cannot grow the queue without bound. */
#define BUS_MAX_QUEUE 4096
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

struct core_bus {
	const struct core_config *cfg;
	const char *sensor;
	struct bus_sink sinks[BUS_MAX_SINKS];
	size_t nsinks;
	struct {
		core_event_cb cb;
		void *arg;
	} subs[BUS_MAX_SUBSCRIBERS];
	size_t nsubs;
	struct core_ev *queue[BUS_MAX_QUEUE];
	struct buf line; /* one serialised event, reused */
	size_t nqueue;
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
	buf_init(&bus->line, BUS_MAX_EVENT);
	static const struct {
		enum core_opt opt;
		const struct core_sink_ops *ops;
	} builtin[] = {
		{OPT_SINKS_SQLITE, &core_sink_sqlite},
		{OPT_SINKS_JSONL, &core_sink_jsonl},
		{OPT_SINKS_POSTGRES, &core_sink_postgres},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(builtin); i++) {
		bool on = core_options[builtin[i].opt].type == CORE_OPT_BOOL
				  ? core_cfg_bool(cfg, builtin[i].opt)
				  : core_cfg_str(cfg, builtin[i].opt)[0] != '\0';
		if (!on)
			continue;
		if (builtin[i].ops == &core_sink_sqlite && !store)
			continue;
		void *state = NULL;
		int rc = builtin[i].ops->open(&state, cfg, store);
		if (rc) {
			log_error("bus", "sink %s failed to open (%d); continuing without it",
				  builtin[i].ops->name, rc);
			continue;
		}
		core_bus_add_sink(bus, builtin[i].ops, state);
	}
	return bus;
}

void core_bus_close(struct core_bus *bus)
{
	if (!bus)
		return;
	core_bus_flush(bus);
	for (size_t i = 0; i < bus->nsinks; i++)
		if (bus->sinks[i].ops->close)
			bus->sinks[i].ops->close(bus->sinks[i].state);
	buf_free(&bus->line);
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
	ev->line = NULL;
	ev->len = 0;
	memcpy(ev->message, message, mlen + 1);
	bus->stats.emitted++;
	for (size_t i = 0; i < bus->nsubs; i++)
		if (bus->subs[i].cb)
			bus->subs[i].cb(bus->subs[i].arg, ev);
	if (bus->nqueue == BUS_MAX_QUEUE)
		core_bus_flush(bus);
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
	if (!b->err)
		b->err = buf_append(b->buf, p, n);
}

static void app_str(struct ser *b, const char *s)
{
	app(b, s, strlen(s));
}

static void app_printf(struct ser *b, const char *fmt, ...) LIB_PRINTF(2, 3);
static void app_printf(struct ser *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		b->err = -EINVAL;
	else
		app(b, tmp, (size_t)n);
}

static void put_piece(void *arg, const char *p, size_t n)
{
	app(arg, p, n);
}

/* Appends s as a JSON string (core_json_escape). */
static void put_str(struct ser *b, const char *s, size_t n)
{
	core_json_escape(s, n, put_piece, b);
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
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		app(b, num, (size_t)n);
		break;
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

/* Fields the bus sets; a module's field of the same name is left out. */
static bool common_key(const char *k)
{
	static const char *const keys[] = {"eventid",  "timestamp", "sensor",   "uuid",
					   "message",  "session",   "protocol", "src_ip",
					   "src_port", "dst_ip",    "dst_port"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(keys); i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

static int serialise(struct buf *out, const struct core_ev *ev)
{
	buf_reset(out);
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
		app_printf(b, ",\"session\":\"%s\",\"protocol\":", c->session);
		put_str(b, c->protocol, strlen(c->protocol));
		app_printf(b,
			   ",\"src_ip\":\"%s\",\"src_port\":%d,\"dst_ip\":\"%s\",\"dst_port\":%d",
			   c->src_ip, c->src_port, c->dst_ip, c->dst_port);
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
	return b->err;
}

void core_bus_flush(struct core_bus *bus)
{
	if (bus->nqueue == 0)
		return;
	for (size_t q = 0; q < bus->nqueue; q++) {
		struct core_ev *ev = bus->queue[q];
		if (serialise(&bus->line, ev)) {
			log_error("bus", "an event of %s is over %u bytes; dropped", ev->eventid,
				  BUS_MAX_EVENT);
		} else {
			ev->line = (const char *)bus->line.data;
			ev->len = bus->line.len;
			for (size_t i = 0; i < bus->nsinks; i++) {
				struct bus_sink *s = &bus->sinks[i];
				if (s->ops->write(s->state, ev)) {
					if (s->failures++ % 1000 == 0)
						log_warn("bus", "sink %s failed to write an event",
							 s->ops->name);
					bus->stats.sink_failures++;
				}
			}
		}
		json_decref(ev->fields);
		free(ev);
	}
	bus->nqueue = 0;
	for (size_t i = 0; i < bus->nsinks; i++) {
		struct bus_sink *s = &bus->sinks[i];
		if (s->ops->flush && s->ops->flush(s->state)) {
			if (s->failures++ % 1000 == 0)
				log_warn("bus", "sink %s failed to flush", s->ops->name);
			bus->stats.sink_failures++;
		}
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
