/* report section "overview": the window at a glance (totals of sessions, sources, logins,
 * commands, downloads, samples, verdicts, darknet packets, events by type) and, on the
 * dashboard, the latest events (the live stream's first rows). */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"

#define OV_RECENT 30 /* latest events listed */

/* The sessions' totals over the roll-up (report.db) and the raw edges, or raw. */
#define OV_SESSIONS_ROLL \
	"SELECT sum(n), count(DISTINCT src_ip), sum(l), sum(c), sum(t) FROM (" \
	"SELECT sessions AS n, src_ip, logins AS l, commands AS c, transfers AS t" \
	" FROM roll.report_sessions WHERE hour >= ?17 AND hour < ?18 UNION ALL " OV_SESSIONS_RAW( \
		"?1", "?19") " UNION ALL " OV_SESSIONS_RAW("?20", "?2") ")"
#define OV_SESSIONS_RAW(lo, hi) \
	"SELECT 1, src_ip, login, commands, downloads + uploads FROM sessions" \
	" WHERE start >= " lo " AND start < " hi

/* The same from report_ports and the sources seen since the first rolled-up hour
 * (report_rollup_sources: their count from report_src_hist), plus the edges' sources not among
 * them (each distinct source looked up once). */
#define OV_EDGES OV_SESSIONS_RAW("?1", "?19") " UNION ALL " OV_SESSIONS_RAW("?20", "?2")
#define OV_SUMS \
	"u AS (SELECT sum(n) AS n, sum(l) AS l, sum(c) AS c, sum(t) AS t FROM (SELECT sessions" \
	" AS n, logins AS l, commands AS c, transfers AS t FROM roll.report_ports WHERE hour >=" \
	" ?17 AND hour < ?18 UNION ALL SELECT n, l, c, t FROM r))"
#define OV_NEW_SOURCES \
	"(SELECT count(*) FROM (SELECT DISTINCT s FROM r WHERE s IS NOT NULL) d WHERE NOT" \
	" EXISTS (SELECT 1 FROM roll.report_src a WHERE a.src_ip = d.s AND a.seen >= ?17))"
#define OV_SESSIONS_SRC \
	"WITH r(n, s, l, c, t) AS MATERIALIZED (" OV_EDGES "), " OV_SUMS \
	" SELECT u.n, (SELECT coalesce(sum(n), 0) FROM roll.report_src_hist WHERE seen >= ?17) +" \
	" " OV_NEW_SOURCES ", u.l, u.c, u.t FROM u"

/* One query per table, each row of the result one or more totals: what, then the SQL whose
 * single row holds their values in order (roll: the same over the roll-up, if it has one). */
static const struct {
	const char *what[5];
	const char *sql, *roll, *src;
} total_queries[] = {
	{{"sessions", "source addresses", "logins", "commands", "downloads and uploads"},
	 "SELECT count(*), count(DISTINCT src_ip), sum(login), sum(commands), "
	 "sum(downloads + uploads) FROM sessions WHERE start >= ?1 AND start < ?2",
	 OV_SESSIONS_ROLL,
	 OV_SESSIONS_SRC},
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
		const char *sql = total_queries[i].src && report_rollup_sources(c)
					  ? total_queries[i].src
				  : total_queries[i].roll && report_rollup_use(c, true)
					  ? total_queries[i].roll
					  : total_queries[i].sql;
		/* No table: that part of mitsu has not run on this store (an empty count). */
		bool ok = c->db && sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) == SQLITE_OK;
		if (ok) {
			report_bind(c, q);
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

/* The known event ids as an SQL list. */
static void known_ids(struct buf *sql)
{
	for (int i = 0; i < EV__COUNT; i++)
		buf_printf(sql, "%s'%s'", i ? ", " : "", core_events[i].name);
}

/* The events of one range: their ids and a count of one each. */
static void events_raw(struct buf *sql, const char *ts_lo, const char *ts_hi, const char *id_lo,
		       const char *id_hi)
{
	buf_append_str(sql, "SELECT eventid, 1 AS n FROM events WHERE eventid IN (");
	known_ids(sql);
	buf_printf(sql, ") AND id >= %s AND id < %s AND timestamp >= %s AND timestamp < %s", id_lo,
		   id_hi, ts_lo, ts_hi);
}

static void events_by_type(struct report_ctx *c)
{
	/* An IN list of every known id, so the (eventid, id) index answers each one's window
	 * with a range (there is no index on the timestamp alone); whole hours from the roll-up
	 * when it has them. */
	struct buf sql;
	buf_init(&sql, 0);
	buf_append_str(&sql, "SELECT eventid, sum(n) FROM (");
	if (report_rollup_use(c, false)) {
		buf_append_str(&sql,
			       "SELECT eventid, n FROM roll.report_types WHERE hour >= ?9 AND "
			       "hour < ?10 AND eventid IN (");
		known_ids(&sql);
		buf_append_str(&sql, ") UNION ALL ");
		events_raw(&sql, "?1", "?11", "?13", "?14");
		buf_append_str(&sql, " UNION ALL ");
		events_raw(&sql, "?12", "?2", "?15", "?16");
	} else {
		events_raw(&sql, "?1", "?2", "?7", "?8");
	}
	buf_append_str(&sql, ") GROUP BY 1 ORDER BY 2 DESC, 1");
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
