/* report section "overview": the window at a glance (totals of sessions, sources, logins,
 * commands, downloads, samples, verdicts, darknet packets, events by type) and, on the
 * dashboard, the latest events (the live stream's first rows). */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"

#define OV_RECENT 30 /* latest events listed */

static void totals(struct report_ctx *c)
{
	struct report_table *t = report_table_new("Totals");
	report_table_col(t, "what", REPORT_STR, 0);
	report_table_col(t, "count", REPORT_INT, 0);
	static const struct {
		const char *what, *sql;
	} rows[] = {
		{"sessions", "SELECT count(*) FROM sessions WHERE start >= ?1 AND start < ?2"},
		{"source addresses",
		 "SELECT count(DISTINCT src_ip) FROM sessions WHERE start >= ?1 AND start < ?2"},
		{"logins", "SELECT sum(login) FROM sessions WHERE start >= ?1 AND start < ?2"},
		{"commands", "SELECT sum(commands) FROM sessions WHERE start >= ?1 AND start < ?2"},
		{"downloads and uploads",
		 "SELECT sum(downloads + uploads) FROM sessions WHERE start >= ?1 AND start < ?2"},
		{"new samples",
		 "SELECT count(*) FROM samples WHERE first_seen >= ?1 AND first_seen < ?2"},
		{"sandbox verdicts",
		 "SELECT count(*) FROM box_results WHERE analysed >= ?1 AND analysed < ?2"},
		{"darknet packets", "SELECT sum(packets) FROM scope_intervals WHERE id_ok = 1"},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(rows); i++) {
		const char *sql = rows[i].sql;
		char *own = NULL;
		if (strstr(sql, "id_ok"))
			/* The latest analysis of each interval in the window. */
			sql = own = xstrdup(
				"SELECT sum(i.packets) FROM scope_intervals i JOIN (SELECT "
				"start_unix AS su, max(run_id) AS rid FROM scope_intervals WHERE "
				"start_unix >= ?3 AND start_unix < ?4 GROUP BY start_unix) l ON "
				"i.start_unix = l.su AND i.run_id = l.rid");
		struct report_table *one = report_query(c, "", sql, "i", NULL, NULL);
		json_t *r = report_table_json(one);
		report_table_free(one);
		free(own);
		json_t *row = json_array_get(r, 0);
		const char *k;
		json_t *v = NULL;
		json_object_foreach(row, k, v)
			break;
		report_table_row(t);
		report_table_str(t, rows[i].what);
		if (json_is_integer(v))
			report_table_int(t, json_integer_value(v));
		else if (row)
			report_table_int(t, 0);
		else
			report_table_null(t); /* that part of mitsu has not run on this store */
		json_decref(r);
	}
	report_emit_table(c, "totals", t, NULL);
}

static void events_by_type(struct report_ctx *c)
{
	/* An IN list of every known id, so the (eventid, timestamp) index answers each one's
	 * window with a range (there is no index on the timestamp alone). */
	struct buf sql;
	buf_init(&sql, 0);
	buf_append_str(&sql, "SELECT eventid, count(*) FROM events WHERE eventid IN (");
	for (int i = 0; i < EV__COUNT; i++)
		buf_printf(&sql, "%s'%s'", i ? ", " : "", core_events[i].name);
	buf_append_str(&sql, ") AND timestamp >= ?1 AND timestamp < ?2 GROUP BY 1 ORDER BY 2 DESC");
	static const char *const names[] = {"event", "count"};
	report_emit_table(
		c, "events_by_type",
		report_query(c, "Events by type", (const char *)sql.data, "si", names, NULL), NULL);
	buf_free(&sql);
}

static void recent(struct report_ctx *c)
{
	/* The newest events whatever the window: by the primary key, never a scan. */
	static const char *const names[] = {"id", "time", "event", "source", "session", "message"};
	struct report_table *t =
		report_query(c, "Latest events",
			     "SELECT id, timestamp, eventid, src_ip, session,"
			     " substr(json_extract(json, '$.message'), 1, 300) FROM events"
			     " ORDER BY id DESC LIMIT " LIB_STR(OV_RECENT),
			     "isssss", names, NULL);
	report_link(c, t, 3, REPORT_LINK_IP);
	report_emit_table(c, "recent_events", t,
			  "the newest first, whatever the window; with JavaScript on, new events "
			  "appear here as they are stored");
}

static void store_extent(struct report_ctx *c)
{
	/* Rowid order is time order: the first and last event come from the primary key. */
	static const char *const names[] = {"events stored", "first event", "last event"};
	report_emit_table(
		c, "store",
		report_query(c, "The store",
			     "SELECT (SELECT max(id) FROM events), (SELECT timestamp FROM "
			     "events ORDER BY id LIMIT 1), (SELECT timestamp FROM events "
			     "ORDER BY id DESC LIMIT 1)",
			     "iss", names, NULL),
		"all time, whatever the window");
}

static bool overview_present(sqlite3 *db)
{
	return report_table_exists(db, "events");
}

static void overview_build(struct report_ctx *c)
{
	if (!overview_present(c->db))
		return;
	report_heading(c, "Overview");
	totals(c);
	events_by_type(c);
	if (c->dashboard) {
		store_extent(c);
		recent(c);
	}
}

const struct report_section report_section_overview = {
	.name = "overview",
	.title = "Overview",
	.present = overview_present,
	.build = overview_build,
	.window = 86400,
};
