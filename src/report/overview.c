/* report section "overview": the window at a glance (totals of sessions, sources, logins,
 * commands, downloads, samples, verdicts, darknet packets, events by type) and, on the
 * dashboard, the latest events (the live stream's first rows). */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"

#define OV_RECENT 30 /* latest events listed */

/* One query per table, each row of the result one or more totals: what, then the SQL whose
 * single row holds their values in order. */
static const struct {
	const char *what[5];
	const char *sql;
} total_queries[] = {
	{{"sessions", "source addresses", "logins", "commands", "downloads and uploads"},
	 "SELECT count(*), count(DISTINCT src_ip), sum(login), sum(commands), "
	 "sum(downloads + uploads) FROM sessions WHERE start >= ?1 AND start < ?2"},
	{{"new samples"},
	 "SELECT count(*) FROM samples WHERE first_seen >= ?1 AND first_seen < ?2"},
	{{"sandbox verdicts"},
	 "SELECT count(*) FROM box_results WHERE analysed >= ?1 AND analysed < ?2"},
	/* The latest analysis of each interval in the window. */
	{{"darknet packets"},
	 "SELECT sum(i.packets) FROM scope_intervals i JOIN (SELECT start_unix AS su, "
	 "max(run_id) AS rid FROM scope_intervals WHERE start_unix >= ?3 AND start_unix < ?4 "
	 "GROUP BY start_unix) l ON i.start_unix = l.su AND i.run_id = l.rid"},
};

static void totals(struct report_ctx *c)
{
	struct report_table *t = report_table_new("Totals");
	report_table_col(t, "what", REPORT_STR, 0);
	report_table_col(t, "count", REPORT_INT, 0);
	for (size_t i = 0; i < LIB_ARRAY_LEN(total_queries); i++) {
		sqlite3_stmt *q = NULL;
		/* No table: that part of mitsu has not run on this store (an empty count). */
		bool ok = c->db && sqlite3_prepare_v2(c->db, total_queries[i].sql, -1, &q, NULL) ==
					   SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(q, 1, c->since, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 2, c->until, -1, SQLITE_STATIC);
			if (sqlite3_bind_parameter_count(q) >= 4) {
				sqlite3_bind_int64(q, 3, c->since_unix);
				sqlite3_bind_int64(q, 4, c->until_unix);
			}
			ok = sqlite3_step(q) == SQLITE_ROW;
		}
		for (int k = 0; k < 5 && total_queries[i].what[k]; k++) {
			report_table_row(t);
			report_table_str(t, total_queries[i].what[k]);
			if (ok)
				report_table_int(t, sqlite3_column_int64(q, k)); /* NULL sum: 0 */
			else
				report_table_null(t);
		}
		sqlite3_finalize(q);
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
	buf_append_str(&sql, ") AND id >= ?7 AND id < ?8 AND timestamp >= ?1 AND timestamp < ?2 "
			     "GROUP BY 1 ORDER BY 2 DESC");
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
