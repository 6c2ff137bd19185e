/* report: the roll-up, DATA/report.db, a derived cache of per-hour counts that makes long
 * windows cost what their hours cost. It is written only here (never by the sensor: mitsu.db
 * keeps one cheap writer) and can be deleted at any time: the next catch-up rebuilds it.
 *
 * Exactness: an hour is rolled up once, when it is closed (it ends before the newest event's
 * time minus REPORT_ID_SLACK, the bound on how late an event is stored), and its rows never
 * change afterwards. A window is its whole rolled-up hours plus the raw rows of its edges (the
 * part before its first whole hour and after its last one), read through the event id ranges of
 * report_event_ids. Distinct counts stay exact because the hours keep their sources: a row per
 * (hour, key, source), so a distinct count over any set of hours is a count(DISTINCT) over
 * those rows and the edges' raw rows. Sessions change until they end, so an hour of them is
 * rolled up once each has ended (at most REPORT_ROLLUP_SESSION_LAG later than events).
 *
 * Concurrency: every chunk of a catch-up is one BEGIN IMMEDIATE transaction that reads the
 * roll-up's progress, adds the next hours and moves the progress on: two catch-ups (the
 * dashboard's worker, `mitsu report`) take turns and never add an hour twice. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "report/report.h"

/* The layout of report.db; a different one is emptied and rebuilt. */
#define ROLL_VERSION 4
/* Where a new roll-up starts: the earliest time among the first events stored and the
 * sessions. Hours before it are read raw (a window's first edge), so a later start costs time,
 * never exactness. */
#define ROLL_FIRST_IDS 1000
#define ROLL_FIRST_SQL \
	"SELECT min(t) FROM (SELECT min(timestamp) AS t FROM (SELECT timestamp FROM store.events" \
	" ORDER BY id LIMIT " LIB_STR(ROLL_FIRST_IDS) ") UNION ALL SELECT min(start) FROM" \
						      " store.sessions)"

/* The hour a text timestamp (the store's RFC 3339) falls in, as unix seconds. */
#define ROLL_HOUR(col) "CAST(strftime('%s', substr(" col ", 1, 13) || ':00:00') AS INTEGER)"
/* The UTC day of an hour h (unix seconds). */
#define ROLL_DAY(h) h " - " h " % " LIB_STR(REPORT_ROLLUP_DAY)

static const char roll_schema[] =
	"CREATE TABLE IF NOT EXISTS report_meta (key TEXT PRIMARY KEY, value);"
	"CREATE TABLE IF NOT EXISTS report_types (hour INTEGER NOT NULL, eventid TEXT, n INTEGER);"
	"CREATE INDEX IF NOT EXISTS report_types_hour ON report_types(hour);"
	"CREATE TABLE IF NOT EXISTS report_sessions (hour INTEGER NOT NULL, profile TEXT,"
	" protocol TEXT, dst_port INTEGER, src_ip TEXT, sessions INTEGER, tried INTEGER,"
	" logged INTEGER, ran INTEGER, fetched INTEGER, logins INTEGER, commands INTEGER,"
	" transfers INTEGER, first TEXT, last TEXT);"
	"CREATE INDEX IF NOT EXISTS report_sessions_hour ON report_sessions(hour);"
	"CREATE INDEX IF NOT EXISTS report_sessions_src ON report_sessions(src_ip, hour);"
	/* Per hour without the source: the sums of a window (totals, chart, ports). */
	"CREATE TABLE IF NOT EXISTS report_ports (hour INTEGER NOT NULL, profile TEXT,"
	" protocol TEXT, dst_port, sessions INTEGER, logins INTEGER, commands INTEGER,"
	" transfers INTEGER);"
	"CREATE INDEX IF NOT EXISTS report_ports_hour ON report_ports(hour);"
	/* All rolled-up hours, per source (and per device, per device and port): `seen` is the
	 * last hour with a session of it (tried.. the last with such a session), so the distinct
	 * sources of the hours from h to the roll-up's end are the rows with seen >= h. */
	"CREATE TABLE IF NOT EXISTS report_src (src_ip TEXT PRIMARY KEY, sessions INTEGER,"
	" logins INTEGER, commands INTEGER, first TEXT, last TEXT, seen INTEGER);"
	"CREATE INDEX IF NOT EXISTS report_src_seen ON report_src(seen);"
	"CREATE INDEX IF NOT EXISTS report_src_sessions ON report_src(sessions);"
	"CREATE TABLE IF NOT EXISTS report_profile_src (profile TEXT, src_ip TEXT, seen INTEGER,"
	" tried INTEGER, logged INTEGER, ran INTEGER, fetched INTEGER, PRIMARY KEY (profile,"
	" src_ip));"
	"CREATE INDEX IF NOT EXISTS report_profile_src_seen ON report_profile_src(profile, seen,"
	" tried, logged, ran, fetched);"
	"CREATE TABLE IF NOT EXISTS report_port_src (profile TEXT, protocol TEXT, dst_port,"
	" src_ip TEXT, seen INTEGER, PRIMARY KEY (profile, protocol, dst_port, src_ip));"
	"CREATE INDEX IF NOT EXISTS report_port_src_seen ON report_port_src(profile, protocol,"
	" dst_port, seen);"
	/* Layout 3: per day and source, the sums of report_sessions (a window's per-source sums:
	 * days in the middle, hours at the edges); and the per-source tables' histograms, the
	 * count of their rows by `seen` hour (report_profile_hist: by seen (what 0), tried (1),
	 * logged (2), ran (3), fetched (4)), so the sources seen since an hour are a sum over a
	 * row per hour instead of a count of a row per source. */
	"CREATE TABLE IF NOT EXISTS report_src_day (src_ip TEXT NOT NULL, day INTEGER NOT NULL,"
	" sessions INTEGER, logins INTEGER, commands INTEGER, first TEXT, last TEXT, PRIMARY KEY"
	" (src_ip, day)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS report_src_hist (seen INTEGER PRIMARY KEY, n INTEGER);"
	"CREATE TABLE IF NOT EXISTS report_profile_hist (hour INTEGER NOT NULL, profile TEXT NOT"
	" NULL, what INTEGER NOT NULL, n INTEGER, PRIMARY KEY (hour, profile, what)) WITHOUT"
	" ROWID;"
	"CREATE TABLE IF NOT EXISTS report_port_hist (profile TEXT NOT NULL, protocol TEXT NOT"
	" NULL, dst_port NOT NULL, seen INTEGER NOT NULL, n INTEGER, PRIMARY KEY (profile,"
	" protocol, dst_port, seen)) WITHOUT ROWID;"
	/* Layout 4: report_ports and report_profile_hist per UTC day (the middle of a long
	 * window: a row per day instead of 24), and the top lists' report_NAME_key. A session
	 * without a port (none in mitsu's store) is a row per catch-up: UNIQUE holds NULLs apart.
	 */
	"CREATE TABLE IF NOT EXISTS report_ports_day (day INTEGER NOT NULL, profile TEXT,"
	" protocol TEXT, dst_port, sessions INTEGER, logins INTEGER, commands INTEGER,"
	" transfers INTEGER, UNIQUE (day, profile, protocol, dst_port));"
	"CREATE TABLE IF NOT EXISTS report_profile_hist_day (day INTEGER NOT NULL, profile TEXT"
	" NOT NULL, what INTEGER NOT NULL, n INTEGER, PRIMARY KEY (day, profile, what)) WITHOUT"
	" ROWID;";

/* The top lists of the honeypot section: per hour, one row per key with its count and values
 * (report_NAME), and one row per key and source (report_NAME_hosts) for the distinct hosts. */
const struct report_top report_top_credentials = {
	.name = "creds",
	.eventids = "'mitsu.login.success', 'mitsu.login.failed'",
	.key = {"json_extract(json, '$.username')", "json_extract(json, '$.password')"},
	.val = {"eventid = 'mitsu.login.success'"},
	.agg = {"sum"},
};
const struct report_top report_top_commands = {
	.name = "cmds",
	.eventids = "'mitsu.command.input'",
	.key = {"substr(json_extract(json, '$.input'), 1, 160)"},
};
const struct report_top report_top_downloads = {
	.name = "urls",
	.eventids = "'mitsu.session.file_download', 'mitsu.session.file_download.failed'",
	.key = {"substr(json_extract(json, '$.url'), 1, 300)"},
	.val = {"eventid = 'mitsu.session.file_download'", "json_extract(json, '$.shasum')"},
	.agg = {"sum", "max"},
};
static const struct report_top *const tops[] = {&report_top_credentials, &report_top_commands,
						&report_top_downloads};

static int nkeys(const struct report_top *t)
{
	return t->key[1] ? 2 : 1;
}

static int nvals(const struct report_top *t)
{
	return t->val[1] ? 2 : t->val[0] ? 1 : 0;
}

/* "k1, k2" (with a prefix per name), "v1, v2". */
static void cols(struct buf *b, const char *prefix, char letter, int n)
{
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s%s%c%d", i ? ", " : "", prefix, letter, i + 1);
}

/* "k1.., n INTEGER, v1..": the columns of the tables with a count per key. */
static void counted_cols(struct buf *b, const struct report_top *t)
{
	cols(b, "", 'k', nkeys(t));
	buf_append_str(b, ", n INTEGER");
	for (int i = 0; i < nvals(t); i++)
		buf_printf(b, ", v%d", i + 1);
}

static void top_schema(struct buf *b, const struct report_top *t)
{
	buf_printf(b, "CREATE TABLE IF NOT EXISTS report_%s (hour INTEGER NOT NULL, ", t->name);
	cols(b, "", 'k', nkeys(t));
	buf_append_str(b, ", n INTEGER");
	for (int i = 0; i < nvals(t); i++)
		buf_printf(b, ", v%d", i + 1);
	buf_printf(b, ");CREATE INDEX IF NOT EXISTS report_%s_hour ON report_%s(hour);", t->name,
		   t->name);
	buf_printf(b, "CREATE TABLE IF NOT EXISTS report_%s_hosts (hour INTEGER NOT NULL, ",
		   t->name);
	cols(b, "", 'k', nkeys(t));
	buf_printf(b,
		   ", src_ip TEXT);CREATE INDEX IF NOT EXISTS report_%s_hosts_key ON "
		   "report_%s_hosts(",
		   t->name, t->name);
	cols(b, "", 'k', nkeys(t));
	buf_append_str(b, ", hour, src_ip);");
	/* Per day (the middle of long windows), and per key and source over every rolled-up
	 * hour (a NULL key stored as x'', so the primary key holds it once). */
	buf_printf(b, "CREATE TABLE IF NOT EXISTS report_%s_day (day INTEGER NOT NULL, ", t->name);
	counted_cols(b, t);
	buf_append_str(b, ", UNIQUE (day, ");
	cols(b, "", 'k', nkeys(t));
	buf_printf(b, "));CREATE TABLE IF NOT EXISTS report_%s_src (", t->name);
	cols(b, "", 'k', nkeys(t));
	buf_append_str(b, ", src_ip TEXT, seen INTEGER, PRIMARY KEY (");
	cols(b, "", 'k', nkeys(t));
	buf_printf(b, ", src_ip));CREATE INDEX IF NOT EXISTS report_%s_src_seen ON report_%s_src(",
		   t->name, t->name);
	cols(b, "", 'k', nkeys(t));
	buf_append_str(b, ", seen);");
	/* Layout 4: per key over every rolled-up hour (NULL as x''), its count, values and the
	 * sources of report_NAME_src (hosts). */
	buf_printf(b, "CREATE TABLE IF NOT EXISTS report_%s_key (", t->name);
	counted_cols(b, t);
	buf_append_str(b, ", hosts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (");
	cols(b, "", 'k', nkeys(t));
	buf_printf(b, "));CREATE INDEX IF NOT EXISTS report_%s_key_n ON report_%s_key(n);", t->name,
		   t->name);
}

/* The raw rows of a top list in one time range: keys k1.., values v1.., the source s. */
static void top_raw(struct buf *b, const struct report_top *t, const char *ts_lo, const char *ts_hi,
		    const char *id_lo, const char *id_hi)
{
	buf_append_str(b, "SELECT " ROLL_HOUR("timestamp") " AS h, ");
	for (int i = 0; i < nkeys(t); i++)
		buf_printf(b, "%s AS k%d, ", t->key[i], i + 1);
	for (int i = 0; i < nvals(t); i++)
		buf_printf(b, "%s AS v%d, ", t->val[i], i + 1);
	buf_printf(b,
		   "src_ip AS s FROM events WHERE eventid IN (%s) AND id >= %s AND id < %s AND "
		   "timestamp >= %s AND timestamp < %s",
		   t->eventids, id_lo, id_hi, ts_lo, ts_hi);
}

/* The key columns of report_NAME_src (NULL as x'') equal to those of row `of`. */
static void src_key(struct buf *b, const struct report_top *t, const char *of)
{
	for (int i = 0; i < nkeys(t); i++)
		buf_printf(b, "h.k%d = coalesce(%s.k%d, x'') AND ", i + 1, of, i + 1);
}

/* The distinct sources of the key of t's row: the subquery of a top list's hosts column. With
 * tail, the sources of its rolled-up hours are its report_NAME_src rows seen since the first
 * one (whole: all of them, counted in report_NAME_key), plus the edges' sources not among
 * them. */
static void top_hosts(struct buf *b, const struct report_top *t, bool roll, bool tail, bool whole)
{
	if (roll && tail) {
		if (whole) {
			buf_printf(b, "(coalesce((SELECT hosts FROM roll.report_%s_key h WHERE ",
				   t->name);
			src_key(b, t, "t");
			buf_append_str(b, "true), 0)");
		} else {
			buf_printf(b, "((SELECT count(*) FROM roll.report_%s_src h WHERE ",
				   t->name);
			src_key(b, t, "t");
			buf_append_str(b, "h.seen >= ?9)");
		}
		buf_append_str(b, " + (SELECT count(DISTINCT s) FROM e WHERE ");
		for (int i = 0; i < nkeys(t); i++)
			buf_printf(b, "e.k%d IS t.k%d AND ", i + 1, i + 1);
		buf_printf(b, "NOT EXISTS (SELECT 1 FROM roll.report_%s_src h WHERE ", t->name);
		src_key(b, t, "e");
		buf_append_str(b, "h.src_ip = e.s AND h.seen >= ?9)))");
		return;
	}
	buf_append_str(b, "(SELECT count(DISTINCT s) FROM (");
	if (roll) {
		buf_printf(b, "SELECT src_ip AS s FROM roll.report_%s_hosts h WHERE ", t->name);
		for (int i = 0; i < nkeys(t); i++)
			buf_printf(b, "h.k%d IS t.k%d AND ", i + 1, i + 1);
		buf_append_str(b, "h.hour >= ?9 AND h.hour < ?10 UNION ALL ");
	}
	buf_append_str(b, "SELECT s FROM e WHERE ");
	for (int i = 0; i < nkeys(t); i++)
		buf_printf(b, "%se.k%d IS t.k%d", i ? " AND " : "", i + 1, i + 1);
	buf_append_str(b, "))");
}

/* A top list's rows of report_NAME_key (keys as they were: x'' is NULL) `where`. */
static void top_keys(struct buf *b, const struct report_top *t, const char *from, const char *where)
{
	buf_append_str(b, "SELECT ");
	for (int i = 0; i < nkeys(t); i++)
		buf_printf(b, "CASE WHEN typeof(h.k%d) = 'blob' THEN NULL ELSE h.k%d END AS k%d, ",
			   i + 1, i + 1, i + 1);
	buf_append_str(b, "h.n");
	for (int i = 0; i < nvals(t); i++)
		buf_printf(b, ", h.v%d", i + 1);
	buf_printf(b, " FROM %sroll.report_%s_key h%s UNION ALL ", from, t->name, where);
}

/* A top list's rows over every rolled-up hour (whole) that may rank among the first ?6: the
 * keys with at least th, the ?6-th count of report_NAME_key (a key with less has ?6 keys
 * before it, and the edges only add to counts: those have less only if the edges have them),
 * and the edges' keys. */
static void top_whole(struct buf *b, const struct report_top *t)
{
	top_keys(b, t, "", " WHERE h.n >= (SELECT v FROM th)");
	struct buf from;
	buf_init(&from, 0);
	buf_append_str(&from, "(SELECT DISTINCT ");
	for (int i = 0; i < nkeys(t); i++)
		buf_printf(&from, "%scoalesce(k%d, x'') AS k%d", i ? ", " : "", i + 1, i + 1);
	buf_append_str(&from, " FROM e) x CROSS JOIN ");
	struct buf where;
	buf_init(&where, 0);
	buf_append_str(&where, " ON ");
	for (int i = 0; i < nkeys(t); i++)
		buf_printf(&where, "h.k%d = x.k%d AND ", i + 1, i + 1);
	buf_append_str(&where, "h.n < (SELECT v FROM th)");
	top_keys(b, t, (const char *)from.data, (const char *)where.data);
	buf_free(&from);
	buf_free(&where);
}

/* A top list's rolled-up rows of hours [?9, ?10): days in the middle, hours at the edges. */
static void top_rolled(struct buf *b, const struct report_top *t)
{
	static const char *const parts[][3] = {{"", "hour >= ?9 AND hour < ?21"},
					       {"_day", "day >= ?21 AND day < ?22"},
					       {"", "hour >= ?22 AND hour < ?10"}};
	for (size_t p = 0; p < LIB_ARRAY_LEN(parts); p++) {
		buf_append_str(b, "SELECT ");
		cols(b, "", 'k', nkeys(t));
		buf_append_str(b, ", n");
		for (int i = 0; i < nvals(t); i++)
			buf_printf(b, ", v%d", i + 1);
		buf_printf(b, " FROM roll.report_%s%s WHERE %s UNION ALL ", t->name, parts[p][0],
			   parts[p][1]);
	}
}

void report_top_sql(const struct report_top *t, bool roll, bool tail, bool whole, struct buf *b)
{
	whole = roll && tail && whole;
	int nk = nkeys(t), nv = nvals(t);
	buf_append_str(b, "WITH e AS MATERIALIZED (");
	if (roll) {
		top_raw(b, t, "?1", "?11", "?13", "?14");
		buf_append_str(b, " UNION ALL ");
		top_raw(b, t, "?12", "?2", "?15", "?16");
	} else {
		top_raw(b, t, "?1", "?2", "?7", "?8");
	}
	buf_append_str(b, ")");
	if (whole)
		buf_printf(b,
			   ", th AS MATERIALIZED (SELECT coalesce((SELECT n FROM roll.report_%s_key"
			   " ORDER BY n DESC LIMIT 1 OFFSET ?6 - 1), 0) AS v)",
			   t->name);
	buf_append_str(b, ", t AS (SELECT ");
	cols(b, "", 'k', nk);
	buf_append_str(b, ", sum(n) AS n");
	for (int i = 0; i < nv; i++)
		buf_printf(b, ", %s(v%d) AS a%d", t->agg[i], i + 1, i + 1);
	buf_append_str(b, " FROM (");
	if (whole)
		top_whole(b, t);
	else if (roll)
		top_rolled(b, t);
	buf_append_str(b, "SELECT ");
	cols(b, "", 'k', nk);
	buf_append_str(b, ", 1 AS n");
	for (int i = 0; i < nv; i++)
		buf_printf(b, ", v%d", i + 1);
	buf_append_str(b, " FROM e) GROUP BY ");
	cols(b, "", 'k', nk);
	buf_append_str(b, " ORDER BY n DESC, ");
	cols(b, "", 'k', nk);
	buf_append_str(b, " LIMIT ?6) SELECT ");
	cols(b, "t.", 'k', nk);
	buf_append_str(b, ", t.n, ");
	top_hosts(b, t, roll, tail, whole);
	for (int i = 0; i < nv; i++)
		buf_printf(b, ", t.a%d", i + 1);
	buf_append_str(b, " FROM t ORDER BY t.n DESC, ");
	cols(b, "t.", 'k', nk);
}

/* ------------------------------------------------------------------ catching up */

static int64_t floor_hour(int64_t t)
{
	return t - ((t % REPORT_ROLLUP_HOUR) + REPORT_ROLLUP_HOUR) % REPORT_ROLLUP_HOUR;
}

static int64_t floor_day(int64_t t)
{
	return t - ((t % REPORT_ROLLUP_DAY) + REPORT_ROLLUP_DAY) % REPORT_ROLLUP_DAY;
}

static void rfc3339(int64_t t, char out[LIB_RFC3339_LEN])
{
	struct timespec ts = {.tv_sec = (time_t)t};
	lib_rfc3339(&ts, out);
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	int code = sqlite3_errcode(db);
	log_debug("report", "roll-up: %s", err ? err : "?");
	sqlite3_free(err);
	return code == SQLITE_BUSY || code == SQLITE_LOCKED ? -EBUSY : -EIO;
}

/* The first column of sql's first row as an integer (a text time parsed to unix seconds). */
static bool first_value(sqlite3 *db, const char *sql, bool is_time, int64_t *out)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return false;
	bool ok = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL;
	if (ok && is_time) {
		int64_t us;
		ok = lib_parse_time((const char *)sqlite3_column_text(q, 0), &us) == 0;
		*out = us / 1000000;
	} else if (ok) {
		*out = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	return ok;
}

static bool meta_get(sqlite3 *db, const char *schema, const char *key, int64_t *out)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT value FROM %s.report_meta WHERE key = '%s'", schema,
		 key);
	return first_value(db, sql, false, out);
}

static int meta_set(sqlite3 *db, const char *key, int64_t v)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO report_meta(key, value) VALUES (?1, ?2)",
			       -1, &q, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, v);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(q);
	return rc;
}

/* Runs sql with ?1 ?2 an id range and ?3 ?4 a time range (text). */
static int run_range(sqlite3 *db, const char *sql, const int64_t ids[2], const char *t0,
		     const char *t1)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_debug("report", "roll-up: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	int np = sqlite3_bind_parameter_count(q);
	if (np >= 2) {
		sqlite3_bind_int64(q, 1, ids[0]);
		sqlite3_bind_int64(q, 2, ids[1]);
	}
	sqlite3_bind_text(q, np >= 4 ? 3 : 1, t0, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, np >= 4 ? 4 : 2, t1, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(q);
	return rc;
}

/* "(SELECT k1.., n, v1.. FROM from)": the keys as stored in report_NAME_src and report_NAME_key
 * (NULL as x''), or as they are (with `day`, the day of the hour h). */
static void key_rows(struct buf *b, const struct report_top *t, bool stored, const char *n,
		     const char *from)
{
	buf_append_str(b, "(SELECT ");
	if (!stored)
		buf_append_str(b, "h - h % " LIB_STR(REPORT_ROLLUP_DAY) " AS day, ");
	for (int i = 0; i < nkeys(t); i++)
		buf_printf(b, stored ? "coalesce(k%d, x'') AS k%d, " : "k%d, ", i + 1, i + 1);
	buf_printf(b, "%s AS n", n);
	for (int i = 0; i < nvals(t); i++)
		buf_printf(b, ", v%d", i + 1);
	buf_printf(b, " FROM %s)", from);
}

/* Adds the rows `from` (key_rows) to report_NAME`table` (`day` first: per day): the sums of
 * n and the values' aggregates per key, added to the row already there. */
static void sums_upsert(struct buf *b, const struct report_top *t, const char *table, bool day,
			const char *from)
{
	int nk = nkeys(t), nv = nvals(t);
	buf_printf(b, "INSERT INTO report_%s%s(%s", t->name, table, day ? "day, " : "");
	cols(b, "", 'k', nk);
	buf_append_str(b, ", n");
	for (int i = 0; i < nv; i++)
		buf_printf(b, ", v%d", i + 1);
	buf_printf(b, ") SELECT %s", day ? "day, " : "");
	cols(b, "", 'k', nk);
	buf_append_str(b, ", sum(n)");
	for (int i = 0; i < nv; i++)
		buf_printf(b, ", %s(v%d)", t->agg[i], i + 1);
	buf_printf(b, " FROM %s WHERE true GROUP BY %s", from, day ? "day, " : "");
	cols(b, "", 'k', nk);
	buf_append_str(b, " ON CONFLICT DO UPDATE SET n = n + excluded.n");
	/* max(a, NULL) is NULL: the larger of the two that are not. */
	for (int i = 0; i < nv; i++)
		buf_printf(b,
			   strcmp(t->agg[i], "sum") == 0
				   ? ", v%d = v%d + excluded.v%d"
				   : ", v%d = coalesce(max(v%d, excluded.v%d), v%d, excluded.v%d)",
			   i + 1, i + 1, i + 1, i + 1, i + 1);
	buf_append_str(b, "; ");
}

/* The hosts of report_NAME_key: the sources of `from` (stored keys k1.., source s) not in
 * report_NAME_src yet, added (before they are put there). */
static void key_hosts(struct buf *b, const struct report_top *t, const char *from)
{
	int nk = nkeys(t);
	buf_printf(b, "INSERT INTO report_%s_key(", t->name);
	cols(b, "", 'k', nk);
	buf_append_str(b, ", hosts) SELECT ");
	cols(b, "c.", 'k', nk);
	buf_printf(b, ", count(*) FROM %s c WHERE NOT EXISTS (SELECT 1 FROM report_%s_src h WHERE ",
		   from, t->name);
	for (int i = 0; i < nk; i++)
		buf_printf(b, "h.k%d = c.k%d AND ", i + 1, i + 1);
	buf_append_str(b, "h.src_ip = c.s) GROUP BY ");
	cols(b, "c.", 'k', nk);
	buf_append_str(b, " ON CONFLICT DO UPDATE SET hosts = hosts + excluded.hosts; ");
}

/* The statements filling report_NAME_key from layout 3's day and source tables (which hold
 * every rolled-up hour). */
static void top_key_fill(struct buf *b, const struct report_top *t)
{
	char from[64];
	snprintf(from, sizeof(from), "report_%s_day", t->name);
	struct buf rows;
	buf_init(&rows, 0);
	key_rows(&rows, t, true, "n", from);
	buf_printf(b, "DELETE FROM report_%s_key; ", t->name);
	sums_upsert(b, t, "_key", false, (const char *)rows.data);
	buf_free(&rows);
	buf_printf(b,
		   "UPDATE report_%s_key SET hosts = (SELECT count(*) FROM report_%s_src h WHERE ",
		   t->name, t->name);
	for (int i = 0; i < nkeys(t); i++)
		buf_printf(b, "h.k%d = report_%s_key.k%d AND ", i + 1, t->name, i + 1);
	buf_append_str(b, "true); ");
}

/* The statements adding temp.roll_chunk to a top list's day, key and source tables. */
static void top_day_src(struct buf *b, const struct report_top *t)
{
	int nk = nkeys(t);
	struct buf rows;
	buf_init(&rows, 0);
	key_rows(&rows, t, false, "1", "temp.roll_chunk");
	sums_upsert(b, t, "_day", true, (const char *)rows.data);
	buf_reset(&rows);
	key_rows(&rows, t, true, "1", "temp.roll_chunk");
	sums_upsert(b, t, "_key", false, (const char *)rows.data);
	buf_reset(&rows);
	buf_append_str(&rows, "(SELECT DISTINCT ");
	for (int i = 0; i < nk; i++)
		buf_printf(&rows, "coalesce(k%d, x'') AS k%d, ", i + 1, i + 1);
	buf_append_str(&rows, "s FROM temp.roll_chunk WHERE s IS NOT NULL)");
	key_hosts(b, t, (const char *)rows.data);
	buf_free(&rows);
	buf_printf(b, "INSERT INTO report_%s_src SELECT ", t->name);
	for (int i = 0; i < nk; i++)
		buf_printf(b, "%scoalesce(k%d, x'')", i ? ", " : "", i + 1);
	buf_append_str(b, ", s, max(h) FROM temp.roll_chunk WHERE s IS NOT NULL GROUP BY ");
	for (int i = 0; i < nk; i++)
		buf_printf(b, "%d, ", i + 1);
	buf_printf(b, "%d ON CONFLICT DO UPDATE SET seen = max(seen, excluded.seen);", nk + 1);
}

/* Runs sql with ?1 ?2 bound to two integers. */
static int run_ids(sqlite3 *db, const char *sql, const int64_t v[2])
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_debug("report", "roll-up: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	sqlite3_bind_int64(q, 1, v[0]);
	sqlite3_bind_int64(q, 2, v[1]);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -EIO;
	if (rc)
		log_debug("report", "roll-up: %s", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	return rc;
}

/* One top list's hours [t0, t1): its events into a temporary table, then the counts per key
 * and the sources per key. */
static int roll_top(sqlite3 *db, const struct report_top *t, const int64_t ids[2], const char *t0,
		    const char *t1)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "CREATE TEMP TABLE roll_chunk AS ");
	top_raw(&b, t, "?3", "?4", "?1", "?2");
	int rc = run_range(db, (const char *)b.data, ids, t0, t1);
	buf_reset(&b);
	int nk = nkeys(t), nv = nvals(t);
	buf_printf(&b, "INSERT INTO report_%s SELECT h, ", t->name);
	cols(&b, "", 'k', nk);
	buf_append_str(&b, ", count(*)");
	for (int i = 0; i < nv; i++)
		buf_printf(&b, ", %s(v%d)", t->agg[i], i + 1);
	buf_append_str(&b, " FROM temp.roll_chunk GROUP BY h, ");
	cols(&b, "", 'k', nk);
	buf_printf(&b, "; INSERT INTO report_%s_hosts SELECT DISTINCT h, ", t->name);
	cols(&b, "", 'k', nk);
	buf_append_str(&b, ", s FROM temp.roll_chunk;");
	top_day_src(&b, t);
	buf_append_str(&b, "DROP TABLE temp.roll_chunk;");
	if (!rc)
		rc = exec(db, (const char *)b.data);
	else
		exec(db, "DROP TABLE IF EXISTS temp.roll_chunk");
	buf_free(&b);
	return rc;
}

/* The events of the closed hours [h0, h1). */
static int roll_events(sqlite3 *db, int64_t h0, int64_t h1)
{
	int64_t ids[2] = {report_first_id_at(db, h0 - REPORT_ID_SLACK),
			  report_first_id_at(db, h1 + REPORT_ID_SLACK)};
	char t0[LIB_RFC3339_LEN], t1[LIB_RFC3339_LEN];
	rfc3339(h0, t0);
	rfc3339(h1, t1);
	int rc = run_range(
		db,
		"INSERT INTO report_types SELECT " ROLL_HOUR(
			"timestamp") ", eventid, count(*) FROM store.events WHERE id >= ?1 AND id "
				     "< ?2"
				     " AND timestamp >= ?3 AND timestamp < ?4 GROUP BY 1, 2",
		ids, t0, t1);
	for (size_t i = 0; i < LIB_ARRAY_LEN(tops) && !rc; i++)
		rc = roll_top(db, tops[i], ids, t0, t1);
	return rc;
}

/* The histograms of the per-source tables' rows of the chunk's keys (temp.roll_keys): taken
 * out (sign "-") before the upserts move their hours, put back ("") after. */
#define HIST_UPSERT " ON CONFLICT DO UPDATE SET n = n + excluded.n"
#define HIST_SRC(sign) \
	"INSERT INTO report_src_hist SELECT a.seen, " sign "count(*) FROM (SELECT DISTINCT src_ip" \
	" FROM temp.roll_keys) k CROSS JOIN report_src a ON a.src_ip = k.src_ip WHERE true" \
	" GROUP BY 1" HIST_UPSERT
#define HIST_PROFILE(sign) HIST_PROFILE_IN("report_profile_hist", "h", sign)
#define HIST_PROFILE_DAY(sign) HIST_PROFILE_IN("report_profile_hist_day", ROLL_DAY("h"), sign)
#define HIST_PROFILE_IN(table, unit, sign) \
	"INSERT INTO " table " SELECT " unit ", profile, w, " sign "count(*) FROM (SELECT" \
	" p.profile, w.column1 AS w, CASE w.column1 WHEN 0 THEN p.seen WHEN 1 THEN p.tried WHEN" \
	" 2 THEN p.logged WHEN 3 THEN p.ran ELSE p.fetched END AS h FROM (SELECT DISTINCT" \
	" profile, src_ip FROM temp.roll_keys) k CROSS JOIN report_profile_src p ON p.profile =" \
	" k.profile AND p.src_ip = k.src_ip CROSS JOIN (VALUES (0), (1), (2), (3), (4)) w)" \
	" WHERE h IS NOT NULL GROUP BY 1, 2, 3" HIST_UPSERT
#define HIST_PORT(sign) \
	"INSERT INTO report_port_hist SELECT p.profile, p.protocol, p.dst_port, p.seen, " sign \
	"count(*) FROM temp.roll_keys k CROSS JOIN report_port_src p ON p.profile = k.profile" \
	" AND p.protocol = k.protocol AND p.dst_port = k.dst_port AND p.src_ip = k.src_ip WHERE" \
	" true GROUP BY 1, 2, 3, 4" HIST_UPSERT

/* Layout 4: report_ports' rows `from` added to their days. */
#define PORTS_DAY(from) \
	"INSERT INTO report_ports_day SELECT " ROLL_DAY( \
		"hour") ", profile, protocol, dst_port, sum(sessions), sum(logins)," \
			" sum(commands), sum(transfers) FROM " from " GROUP BY 1, 2, 3," \
			" 4 ON CONFLICT DO UPDATE SET sessions = sessions +" \
			" excluded.sessions, logins = logins + excluded.logins," \
			" commands = commands + excluded.commands, transfers =" \
			" transfers + excluded.transfers"

/* The sessions that started in the hours [h0, h1), which have all ended. */
static int roll_sessions(sqlite3 *db, int64_t h0, int64_t h1)
{
	char t0[LIB_RFC3339_LEN], t1[LIB_RFC3339_LEN];
	rfc3339(h0, t0);
	rfc3339(h1, t1);
	static const int64_t none[2] = {0, 0};
	int rc = run_range(
		db,
		"INSERT INTO report_sessions SELECT " ROLL_HOUR(
			"start") ", coalesce(profile, '?'), coalesce(protocol, '?'), dst_port, "
				 "src_ip,"
				 " count(*), sum(login = 1 OR login_failures > 0), sum(login = 1),"
				 " sum(commands > 0), sum(downloads > 0 OR uploads > 0), "
				 "sum(login),"
				 " sum(commands), sum(downloads + uploads), min(start), max(start)"
				 " FROM store.sessions WHERE start >= ?1 AND start < ?2 GROUP BY "
				 "1, 2, 3, 4,"
				 " 5",
		none, t0, t1);
	const int64_t hours[2] = {h0, h1};
	/* The new hours' rows into the tables without the source and the tables per source
	 * (sessions without a source count as no host: a flag makes readers count them raw). */
	static const char *const derive[] = {
		"INSERT INTO report_ports SELECT hour, profile, protocol, dst_port, sum(sessions),"
		" sum(logins), sum(commands), sum(transfers) FROM report_sessions WHERE hour >= ?1"
		" AND hour < ?2 GROUP BY 1, 2, 3, 4",
		PORTS_DAY("report_sessions WHERE hour >= ?1 AND hour < ?2"),
		"INSERT INTO report_src_day SELECT src_ip, hour - hour % " LIB_STR(
			REPORT_ROLLUP_DAY) ", sum(sessions), sum(logins), sum(commands), "
					   "min(first),"
					   " max(last) FROM report_sessions WHERE hour >= ?1 AND"
					   " hour < ?2 AND src_ip IS NOT NULL GROUP BY 1, 2 ON"
					   " CONFLICT DO UPDATE SET sessions = sessions +"
					   " excluded.sessions, logins = logins + excluded.logins,"
					   " commands = commands + excluded.commands, first ="
					   " min(first, excluded.first), last = max(last,"
					   " excluded.last)",
		"CREATE TEMP TABLE roll_keys AS SELECT DISTINCT profile, protocol, "
		"coalesce(dst_port,"
		" x'') AS dst_port, src_ip FROM report_sessions WHERE hour >= ?1 AND hour < ?2 AND"
		" src_ip IS NOT NULL",
		HIST_SRC("-"),
		HIST_PROFILE("-"),
		HIST_PROFILE_DAY("-"),
		HIST_PORT("-"),
		"INSERT INTO report_src SELECT src_ip, sum(sessions), sum(logins), sum(commands),"
		" min(first), max(last), max(hour) FROM report_sessions WHERE hour >= ?1 AND hour <"
		" ?2 AND src_ip IS NOT NULL GROUP BY 1 ON CONFLICT DO UPDATE SET sessions = "
		"sessions"
		" + excluded.sessions, logins = logins + excluded.logins, commands = commands +"
		" excluded.commands, first = min(first, excluded.first), last = max(last,"
		" excluded.last), seen = max(seen, excluded.seen)",
		"INSERT INTO report_profile_src SELECT profile, src_ip, max(hour), max(CASE WHEN"
		" tried > 0 THEN hour END), max(CASE WHEN logged > 0 THEN hour END), max(CASE WHEN"
		" ran > 0 THEN hour END), max(CASE WHEN fetched > 0 THEN hour END) FROM"
		" report_sessions WHERE hour >= ?1 AND hour < ?2 AND src_ip IS NOT NULL GROUP BY 1,"
		" 2 ON CONFLICT DO UPDATE SET seen = max(seen, excluded.seen), tried ="
		" coalesce(max(tried, excluded.tried), tried, excluded.tried), logged ="
		" coalesce(max(logged, excluded.logged), logged, excluded.logged), ran ="
		" coalesce(max(ran, excluded.ran), ran, excluded.ran), fetched ="
		" coalesce(max(fetched, excluded.fetched), fetched, excluded.fetched)",
		"INSERT INTO report_port_src SELECT profile, protocol, coalesce(dst_port, x''),"
		" src_ip, max(hour) FROM report_sessions WHERE hour >= ?1 AND hour < ?2 AND src_ip"
		" IS NOT NULL GROUP BY 1, 2, 3, 4 ON CONFLICT DO UPDATE SET seen = max(seen,"
		" excluded.seen)",
		HIST_SRC(""),
		HIST_PROFILE(""),
		HIST_PROFILE_DAY(""),
		HIST_PORT(""),
		"DROP TABLE temp.roll_keys",
		"INSERT OR REPLACE INTO report_meta(key, value) SELECT 'ss_nullsrc', 1 FROM"
		" report_sessions WHERE hour >= ?1 AND hour < ?2 AND src_ip IS NULL LIMIT 1",
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(derive) && !rc; i++)
		rc = run_ids(db, derive[i], hours);
	if (rc)
		exec(db, "DROP TABLE IF EXISTS temp.roll_keys");
	return rc;
}

static int wipe(sqlite3 *db)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "DELETE FROM report_meta; DELETE FROM report_types; DELETE FROM "
			   "report_sessions; DELETE FROM report_ports; DELETE FROM report_src;"
			   " DELETE FROM report_profile_src; DELETE FROM report_port_src;"
			   " DELETE FROM report_src_day; DELETE FROM report_src_hist;"
			   " DELETE FROM report_profile_hist; DELETE FROM report_port_hist;"
			   " DELETE FROM report_ports_day; DELETE FROM report_profile_hist_day;");
	for (size_t i = 0; i < LIB_ARRAY_LEN(tops); i++)
		buf_printf(&b,
			   "DELETE FROM report_%s; DELETE FROM report_%s_hosts; DELETE FROM "
			   "report_%s_day; DELETE FROM report_%s_src; DELETE FROM report_%s_key;",
			   tops[i]->name, tops[i]->name, tops[i]->name, tops[i]->name,
			   tops[i]->name);
	buf_append_str(&b, report_dn_wipe);
	buf_append_str(&b, report_web_wipe);
	int rc = exec(db, (const char *)b.data);
	buf_free(&b);
	return rc ? rc : meta_set(db, "version", ROLL_VERSION);
}

#define PROFILE_HIST_DAYS \
	"INSERT INTO report_profile_hist_day SELECT " ROLL_DAY( \
		"hour") ", profile, what, sum(n) FROM report_profile_hist GROUP BY 1, 2, 3"
static const char layout4_days[] =
	"DELETE FROM report_ports_day; DELETE FROM"
	" report_profile_hist_day; " PORTS_DAY("report_ports WHERE true") "; " PROFILE_HIST_DAYS
									  "; ";

/* A report.db of layout 3 to layout 4: the day tables filled from their hours, the top lists'
 * totals from their day and source tables (which hold every rolled-up hour). */
static int layout3_to_4(sqlite3 *db)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, layout4_days);
	for (size_t i = 0; i < LIB_ARRAY_LEN(tops); i++)
		top_key_fill(&b, tops[i]);
	log_info("report",
		 "roll-up: report.db from layout 3 to %d (day tables, the top lists' totals)",
		 ROLL_VERSION);
	int rc = exec(db, (const char *)b.data);
	buf_free(&b);
	return rc ? rc : meta_set(db, "version", ROLL_VERSION);
}

/* The progress: hours [first, until) of events (ev_) and sessions (ss_) are rolled up. A new
 * roll-up (or one of another layout, or of another store: its first event differs) starts at
 * the store's first hour (ROLL_FIRST_SQL). */
static int progress(sqlite3 *db, int64_t *ev_until, int64_t *ss_until)
{
	int64_t v, id1, first;
	/* Layout 3 lacks only report_NAME_key, which its tables give (layout3_to_4). */
	bool fresh = !meta_get(db, "main", "version", &v) || (v != ROLL_VERSION && v != 3);
	bool layout3 = !fresh && v == 3;
	bool have = first_value(db, "SELECT timestamp FROM store.events ORDER BY id LIMIT 1", true,
				&id1);
	if (!fresh && have && (!meta_get(db, "main", "store_first", &v) || v != id1))
		fresh = true;
	int rc = fresh ? wipe(db) : layout3 ? layout3_to_4(db) : 0;
	if (!rc && fresh && have) {
		if (!first_value(db, ROLL_FIRST_SQL, true, &first))
			first = id1; /* a store without sessions */
		rc = meta_set(db, "store_first", id1);
		first = floor_hour(first - REPORT_ID_SLACK);
		rc = rc ? rc : meta_set(db, "ev_first", first);
		rc = rc ? rc : meta_set(db, "ev_until", first);
		if (!rc && first_value(db, "SELECT min(start) FROM store.sessions", true, &first)) {
			rc = meta_set(db, "ss_first", floor_hour(first));
			rc = rc ? rc : meta_set(db, "ss_until", floor_hour(first));
		}
	}
	if (!meta_get(db, "main", "ev_until", ev_until))
		*ev_until = INT64_MAX;
	if (!meta_get(db, "main", "ss_until", ss_until))
		*ss_until = INT64_MAX;
	return rc;
}

/* The end of the sessions' closed hours: an hour whose end lies REPORT_ID_SLACK before the
 * newest event's time has all its sessions stored (a row comes with the session's first event);
 * it is closed once each of them has ended (`end` is written with mitsu.session.closed, the
 * session's last event: its row never changes after), or anyway REPORT_ROLLUP_SESSION_LAG later
 * (a session never closed: the sensor stopped). So the hours up to the first one holding a
 * session still open, looked for among the sessions of the lag only. */
static int64_t sessions_closed(sqlite3 *db, int64_t newest)
{
	int64_t lagged = floor_hour(newest - REPORT_ID_SLACK - REPORT_ROLLUP_SESSION_LAG);
	int64_t closed = floor_hour(newest - REPORT_ID_SLACK), open;
	char from[LIB_RFC3339_LEN];
	rfc3339(lagged, from);
	char *sql = sqlite3_mprintf(
		"SELECT min(start) FROM store.sessions WHERE start >= %Q AND end IS NULL", from);
	if (sql && first_value(db, sql, true, &open) && floor_hour(open) < closed)
		closed = floor_hour(open);
	sqlite3_free(sql);
	return closed > lagged ? closed : lagged;
}

/* One chunk in one transaction. *more: there is more to do now. Returns hours rolled up. */
static int chunk(sqlite3 *db, bool *more)
{
	*more = false;
	int rc = exec(db, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	int64_t ev, ss, newest;
	rc = progress(db, &ev, &ss);
	int hours = 0;
	if (!rc && first_value(db, "SELECT timestamp FROM store.events ORDER BY id DESC LIMIT 1",
			       true, &newest)) {
		const int64_t step = REPORT_ROLLUP_CHUNK_HOURS * REPORT_ROLLUP_HOUR;
		int64_t ev_h = floor_hour(newest - REPORT_ID_SLACK);
		int64_t ss_h = sessions_closed(db, newest);
		int64_t ev_to = ev_h - ev < step ? ev_h : ev + step;
		int64_t ss_to = ss_h - ss < step ? ss_h : ss + step;
		if (ev != INT64_MAX && ev_to > ev) {
			rc = roll_events(db, ev, ev_to);
			rc = rc ? rc : meta_set(db, "ev_until", ev_to);
			hours += (int)((ev_to - ev) / REPORT_ROLLUP_HOUR);
			*more = ev_to < ev_h;
		}
		if (!rc && ss != INT64_MAX && ss_to > ss) {
			rc = roll_sessions(db, ss, ss_to);
			rc = rc ? rc : meta_set(db, "ss_until", ss_to);
			hours += (int)((ss_to - ss) / REPORT_ROLLUP_HOUR);
			*more = *more || ss_to < ss_h;
		}
	}
	if (rc) {
		exec(db, "ROLLBACK");
		*more = false;
		return rc;
	}
	rc = exec(db, "COMMIT");
	return rc ? rc : hours;
}

/* The path as an SQLite URI opening it read-only ('%', '?', '#' escaped). */
static char *ro_uri(const char *path)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "file:");
	for (const char *p = path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			buf_printf(&b, "%%%02X", (unsigned char)*p);
		else
			buf_append(&b, p, 1);
	}
	buf_append_str(&b, "?mode=ro");
	return (char *)buf_steal(&b, NULL);
}

/* report.db read-write (created), mitsu.db attached read-only as "store". */
static int open_rw(const char *data_dir, sqlite3 **out)
{
	char *store = core_data_path(data_dir, "mitsu.db");
	char *path = core_data_path(data_dir, REPORT_ROLLUP_FILE);
	int rc = access(store, R_OK) ? -ENOENT : 0;
	sqlite3 *db = NULL;
	if (!rc && sqlite3_open_v2(path, &db,
				   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					   SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
				   NULL) != SQLITE_OK)
		rc = -EACCES;
	if (!rc) {
		sqlite3_busy_timeout(db, REPORT_ROLLUP_BUSY_MS);
		char *uri = ro_uri(store);
		char *sql = sqlite3_mprintf("ATTACH %Q AS store", uri);
		rc = exec(db, "PRAGMA journal_mode = WAL");
		rc = rc ? rc : exec(db, sql);
		sqlite3_free(sql);
		free(uri);
	}
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, roll_schema);
	buf_append_str(&b, report_dn_schema);
	buf_append_str(&b, report_web_schema);
	for (size_t i = 0; i < LIB_ARRAY_LEN(tops); i++)
		top_schema(&b, tops[i]);
	if (!rc)
		rc = exec(db, (const char *)b.data);
	buf_free(&b);
	free(store);
	free(path);
	if (rc) {
		sqlite3_close(db);
		db = NULL;
	}
	*out = db;
	return rc;
}

int report_rollup_catchup(const char *data_dir, const atomic_bool *stop)
{
	sqlite3 *db;
	int rc = open_rw(data_dir, &db);
	if (rc)
		return rc;
	int total = 0;
	bool more = true;
	while (more && !(stop && atomic_load(stop))) {
		rc = chunk(db, &more);
		if (rc < 0)
			break;
		total += rc;
	}
	if (rc >= 0) /* the darknet's days (rollup_darknet.c): not counted in hours */
		rc = report_rollup_darknet(db, stop);
	if (rc >= 0) /* the WebUI section's part (rollup_webui.c), after the events' hours */
		rc = report_rollup_webui(db, stop);
	sqlite3_close(db);
	return rc < 0 ? rc : total;
}

/* ------------------------------------------------------------------ reading */

bool report_rollup_attach(sqlite3 *db, const char *data_dir)
{
	char *path = core_data_path(data_dir, REPORT_ROLLUP_FILE);
	bool ok = db && access(path, R_OK) == 0;
	if (ok) {
		char *sql = sqlite3_mprintf("ATTACH %Q AS roll", path);
		ok = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
		if (!ok)
			log_debug("report", "roll-up: %s", sqlite3_errmsg(db));
		sqlite3_free(sql);
	}
	free(path);
	return ok;
}

/* The whole rolled-up hours [*a, *b) of the window, from the part's progress; false if none. */
static bool covered(const struct report_ctx *c, const char *part, int64_t *a, int64_t *b)
{
	char k_first[16], k_until[16];
	snprintf(k_first, sizeof(k_first), "%s_first", part);
	snprintf(k_until, sizeof(k_until), "%s_until", part);
	int64_t first, until;
	if (!meta_get(c->db, "roll", k_first, &first) || !meta_get(c->db, "roll", k_until, &until))
		return false;
	*a = c->since_unix == INT64_MIN ? first : floor_hour(c->since_unix);
	if (*a < c->since_unix)
		*a += REPORT_ROLLUP_HOUR;
	if (*a < first)
		*a = first;
	*b = c->until_unix == INT64_MAX ? until : floor_hour(c->until_unix);
	if (*b > until)
		*b = until;
	return *a < *b;
}

void report_rollup_window(struct report_ctx *c)
{
	if (c->roll_known)
		return;
	c->roll_known = true;
	c->roll_events = c->roll_sessions = c->roll_ev_whole = false;
	int64_t v;
	if (c->raw_only || !c->db || !meta_get(c->db, "roll", "version", &v) || v != ROLL_VERSION)
		return;
	int64_t lo, hi;
	report_event_ids(c, &lo, &hi);
	c->roll_events = covered(c, "ev", &c->roll_ev[0], &c->roll_ev[1]);
	if (c->roll_events) {
		c->roll_ids[0] = lo;
		c->roll_ids[1] = report_first_id_at(c->db, c->roll_ev[0] + REPORT_ID_SLACK);
		c->roll_ids[2] = report_first_id_at(c->db, c->roll_ev[1] - REPORT_ID_SLACK);
		c->roll_ids[3] = hi;
	}
	c->roll_sessions = covered(c, "ss", &c->roll_ss[0], &c->roll_ss[1]);
	int64_t until;
	c->roll_ev_tail = c->roll_events && meta_get(c->db, "roll", "ev_until", &until) &&
			  c->roll_ev[1] == until;
	c->roll_ss_tail = c->roll_sessions && meta_get(c->db, "roll", "ss_until", &until) &&
			  c->roll_ss[1] == until;
	int64_t first;
	c->roll_ev_whole = c->roll_ev_tail && meta_get(c->db, "roll", "ev_first", &first) &&
			   c->roll_ev[0] == first;
	/* Whole days: from the first day start at or after the first hour to the last one at
	 * or before the end. */
	c->roll_days[0] = floor_day(c->roll_ev[0] + REPORT_ROLLUP_DAY - 1);
	c->roll_days[1] = floor_day(c->roll_ev[1]);
	if (!c->roll_events || c->roll_days[0] >= c->roll_days[1])
		c->roll_days[0] = c->roll_days[1] = c->roll_ev[1];
	log_debug("report",
		  "roll-up: events %s [%lld, %lld) (edge ids [%lld, %lld), [%lld, %lld)),"
		  " sessions %s [%lld, %lld)",
		  c->roll_events ? "in" : "not in", (long long)c->roll_ev[0],
		  (long long)c->roll_ev[1], (long long)c->roll_ids[0], (long long)c->roll_ids[1],
		  (long long)c->roll_ids[2], (long long)c->roll_ids[3],
		  c->roll_sessions ? "in" : "not in", (long long)c->roll_ss[0],
		  (long long)c->roll_ss[1]);
}

bool report_rollup_sources(struct report_ctx *c)
{
	int64_t v;
	report_rollup_window(c);
	return c->roll_ss_tail && !meta_get(c->db, "roll", "ss_nullsrc", &v);
}

bool report_rollup_use(struct report_ctx *c, bool sessions)
{
	report_rollup_window(c);
	return sessions ? c->roll_sessions : c->roll_events;
}

void report_rollup_bind(struct report_ctx *c, sqlite3_stmt *q)
{
	int np = sqlite3_bind_parameter_count(q);
	if (np < 9)
		return;
	report_rollup_window(c);
	/* ?9 to ?20 in order: unix seconds (i), or the same instant as text (t). */
	const struct {
		char kind;
		int64_t v;
	} p[] = {{'i', c->roll_ev[0]},   {'i', c->roll_ev[1]},  {'t', c->roll_ev[0]},
		 {'t', c->roll_ev[1]},   {'i', c->roll_ids[0]}, {'i', c->roll_ids[1]},
		 {'i', c->roll_ids[2]},  {'i', c->roll_ids[3]}, {'i', c->roll_ss[0]},
		 {'i', c->roll_ss[1]},   {'t', c->roll_ss[0]},  {'t', c->roll_ss[1]},
		 {'i', c->roll_days[0]}, {'i', c->roll_days[1]}};
	for (int i = 9; i <= np && i <= REPORT_P_LAST; i++) {
		char t[LIB_RFC3339_LEN];
		if (p[i - 9].kind == 't') {
			rfc3339(p[i - 9].v, t);
			sqlite3_bind_text(q, i, t, -1, SQLITE_TRANSIENT);
		} else {
			sqlite3_bind_int64(q, i, p[i - 9].v);
		}
	}
}
