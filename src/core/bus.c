/* The event bus: completes each event (ids, time, sensor, uuid, connection), tells in-process
 * subscribers, queues it, and hands every queued event to each sink once per loop turn. */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

#define BUS_MAX_SINKS 8
#define BUS_MAX_SUBSCRIBERS 8
/* Events queued before a forced flush, so a burst cannot grow the queue without bound. */
#define BUS_MAX_QUEUE 4096
/* Largest serialised event; a bigger one is dropped with a log line (modules bound their
 * fields well below this). */
#define BUS_MAX_EVENT (4u << 20)

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
	json_t *queue[BUS_MAX_QUEUE];
	struct buf line;      /* one serialised event, reused */
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
	if (bus->nsubs >= BUS_MAX_SUBSCRIBERS)
		return -1;
	bus->subs[bus->nsubs].cb = cb;
	bus->subs[bus->nsubs].arg = arg;
	bus->nsubs++;
	return 0;
}

struct core_bus *core_bus_open(const struct core_config *cfg, struct core_store *store)
{
	struct core_bus *bus = xcalloc(1, sizeof(*bus));
	bus->cfg = cfg;
	bus->sensor = cfg_str(cfg, OPT_SENSOR_NAME);
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
		bool on = core_options[builtin[i].opt].type == CORE_OPT_BOOL ? cfg_bool(cfg, builtin[i].opt)
									      : cfg_str(cfg, builtin[i].opt)[0] != '\0';
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
	json_t *ev = json_object();
	char ts[LIB_RFC3339_LEN], uuid[37];
	lib_rfc3339_now(ts);
	lib_uuid7(uuid);

	json_object_set_new_nocheck(ev, "eventid", json_string_nocheck(core_events[id].name));
	json_object_set_new_nocheck(ev, "timestamp", json_string_nocheck(ts));
	json_object_set_new_nocheck(ev, "sensor", core_json_str(bus->sensor));
	json_object_set_new_nocheck(ev, "uuid", json_string_nocheck(uuid));
	json_object_set_new_nocheck(ev, "message", core_json_str(message));
	if (conn) {
		json_object_set_new_nocheck(ev, "session", json_string_nocheck(conn->session));
		json_object_set_new_nocheck(ev, "protocol", json_string(conn->protocol));
		json_object_set_new_nocheck(ev, "src_ip", json_string(conn->src_ip));
		json_object_set_new_nocheck(ev, "src_port", json_integer(conn->src_port));
		json_object_set_new_nocheck(ev, "dst_ip", json_string(conn->dst_ip));
		json_object_set_new_nocheck(ev, "dst_port", json_integer(conn->dst_port));
	}
	/* The module's fields follow; they never replace the ones set above. */
	if (fields) {
		json_object_update_missing(ev, fields);
		json_decref(fields);
	}
	bus->stats.emitted++;
	for (size_t i = 0; i < bus->nsubs; i++)
		bus->subs[i].cb(bus->subs[i].arg, id, ev);
	if (bus->nqueue == BUS_MAX_QUEUE)
		core_bus_flush(bus);
	bus->queue[bus->nqueue++] = ev;
}

static int dump_to_buf(const char *p, size_t n, void *data)
{
	return buf_append(data, p, n) ? -1 : 0;
}

void core_bus_flush(struct core_bus *bus)
{
	if (bus->nqueue == 0)
		return;
	for (size_t q = 0; q < bus->nqueue; q++) {
		json_t *ev = bus->queue[q];
		buf_reset(&bus->line);
		if (json_dump_callback(ev, dump_to_buf, &bus->line, JSON_COMPACT | JSON_PRESERVE_ORDER)) {
			log_error("bus", "cannot serialise an event; dropped");
			json_decref(ev);
			continue;
		}
		const char *line = (const char *)bus->line.data;
		size_t len = bus->line.len;
		for (size_t i = 0; i < bus->nsinks; i++) {
			struct bus_sink *s = &bus->sinks[i];
			if (s->ops->write(s->state, ev, line, len)) {
				if (s->failures++ % 1000 == 0)
					log_warn("bus", "sink %s failed to write an event", s->ops->name);
				bus->stats.sink_failures++;
			}
		}
		json_decref(ev);
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
