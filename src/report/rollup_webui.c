/* report: the WebUI section's part of the roll-up (DATA/report.db, rollup.c). The section's
 * every figure is a count of distinct source hosts per profile and key: hosts with requests,
 * trying to log in, logged in, doing device-specific access; per intent, outcome, action and
 * (action, intent, outcome); per exploit signature (and CVE). The web events are spread into
 * rows (kind, profile, k1, k2, k3, source) by web_rows(), and the roll-up keeps, over every
 * rolled-up hour:
 *
 * - report_web_src: one row per key and source with `seen`, the last hour the source had an
 *   event of the key, so the key's sources of the hours from h to the roll-up's end are the
 *   rows with seen >= h;
 * - report_web_hist (hour) and report_web_hist_day (UTC day): the count of those rows by their
 *   `seen` hour and day, so that count is a sum over the window's partial first day's hours
 *   and its whole days (a few hundred rows per key over all time), not a row per source.
 *
 * A window whose rolled-up hours [a, web_until) reach the roll-up's end (every dashboard
 * window, `mitsu report` without --until) counts its hosts as those sums plus the raw edges'
 * sources that no report_web_src row has since a; any other window is read raw. Both forms
 * fill temp.web_w (kind, p, k1, k2, k3, n) through the same web_rows(), so they agree.
 *
 * The part keeps its own progress and layout in report_meta (web_first, web_until,
 * webui_version): a layout change rebuilds it alone, without touching the other tables. It
 * follows the events' hours (ev_until): an hour rolled up there is closed. Each chunk takes the
 * chunk's (key, source) rows out of the histograms, moves their `seen` on and puts them back,
 * in one transaction, as rollup.c's histograms are kept. */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"

/* The layout of the web part; another one is emptied and rebuilt (the rest stays). */
#define WEB_VERSION 2

/* The kinds of key (column `kind`); k1, k2, k3 are '' where a kind has fewer keys. */
enum {
	WEB_REQUEST,    /* mitsu.http.request */
	WEB_LOGIN,      /* mitsu.http.login */
	WEB_SUCCESS,    /* mitsu.http.login with success */
	WEB_ACCESS,     /* mitsu.webui.action */
	WEB_INTENT,     /* k1: its intent */
	WEB_OUTCOME,    /* k1: its outcome */
	WEB_ACTION,     /* k1: its action */
	WEB_ACTION_ROW, /* k1, k2, k3: action, intent, outcome */
	WEB_EXPLOIT,    /* mitsu.exploit.match, k1, k2: signature, CVE ('none' when null) */
};

/* One row per web event and key of it, from the events of a time and id range (SQL text of
 * the bounds), as (h: the hour, kind, p, k1, k2, k3, s: the source). A NULL profile or key is
 * x'' (a primary key holds it once; readers turn it back). */
static void web_rows(struct buf *b, const char *from, const char *ts_lo, const char *ts_hi,
		     const char *id_lo, const char *id_hi)
{
	buf_printf(b,
		   "SELECT e.h, k.column1 AS kind, e.p, CASE k.column1 WHEN 4 THEN e.intent WHEN"
		   " 5 THEN e.outcome WHEN 6 THEN e.action WHEN 7 THEN e.action WHEN 8 THEN e.sig"
		   " ELSE '' END AS k1, CASE k.column1 WHEN 7 THEN e.intent WHEN 8 THEN e.cve ELSE"
		   " '' END AS k2, CASE k.column1 WHEN 7 THEN e.outcome ELSE '' END AS k3, e.s"
		   " FROM (SELECT CAST(strftime('%%s', substr(timestamp, 1, 13) || ':00:00') AS"
		   " INTEGER) AS h, eventid AS ev, coalesce(json_extract(json, '$.profile'), x'')"
		   " AS p, CASE WHEN eventid = 'mitsu.http.login' THEN json_extract(json,"
		   " '$.success') END AS ok, CASE WHEN eventid = 'mitsu.webui.action' THEN"
		   " coalesce(json_extract(json, '$.action'), x'') END AS action, CASE WHEN"
		   " eventid = 'mitsu.webui.action' THEN coalesce(json_extract(json, '$.intent'),"
		   " x'') END AS intent, CASE WHEN eventid = 'mitsu.webui.action' THEN"
		   " coalesce(json_extract(json, '$.outcome'), x'') END AS outcome, CASE WHEN"
		   " eventid = 'mitsu.exploit.match' THEN coalesce(json_extract(json,"
		   " '$.signature'), x'') END AS sig, CASE WHEN eventid = 'mitsu.exploit.match'"
		   " THEN coalesce(json_extract(json, '$.cve'), 'none') END AS cve, src_ip AS s"
		   " FROM %s WHERE eventid IN ('mitsu.http.request', 'mitsu.http.login',"
		   " 'mitsu.webui.action', 'mitsu.exploit.match') AND id >= %s AND id < %s AND"
		   " timestamp >= %s AND timestamp < %s AND src_ip IS NOT NULL) e JOIN (VALUES (0,"
		   " 'mitsu.http.request'), (1, 'mitsu.http.login'), (2, 'mitsu.http.login'), (3,"
		   " 'mitsu.webui.action'), (4, 'mitsu.webui.action'), (5, 'mitsu.webui.action'),"
		   " (6, 'mitsu.webui.action'), (7, 'mitsu.webui.action'), (8,"
		   " 'mitsu.exploit.match')) k ON k.column2 = e.ev AND (k.column1 <> 2 OR e.ok)",
		   from, id_lo, id_hi, ts_lo, ts_hi);
}

#define WEB_KEY "kind, p, k1, k2, k3"

const char report_web_schema[] =
	"CREATE TABLE IF NOT EXISTS report_web_src (kind INTEGER NOT NULL, p NOT NULL, k1 NOT"
	" NULL, k2 NOT NULL, k3 NOT NULL, src_ip TEXT NOT NULL, seen INTEGER NOT NULL, PRIMARY"
	" KEY (kind, p, k1, k2, k3, src_ip)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS report_web_hist (seen INTEGER NOT NULL, kind INTEGER NOT NULL,"
	" p NOT NULL, k1 NOT NULL, k2 NOT NULL, k3 NOT NULL, n INTEGER, PRIMARY KEY (seen, kind,"
	" p, k1, k2, k3)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS report_web_hist_day (day INTEGER NOT NULL, kind INTEGER NOT"
	" NULL, p NOT NULL, k1 NOT NULL, k2 NOT NULL, k3 NOT NULL, n INTEGER, PRIMARY KEY (kind,"
	" p, k1, k2, k3, day)) WITHOUT ROWID;";

const char report_web_wipe[] = "DELETE FROM report_web_src; DELETE FROM report_web_hist;"
			       " DELETE FROM report_web_hist_day;";
/* Another layout's tables, dropped to be made anew (their keys may differ). */
static const char web_drop[] = "DROP TABLE IF EXISTS report_web_src; DROP TABLE IF EXISTS"
			       " report_web_hist; DROP TABLE IF EXISTS report_web_hist_day;";

/* The histograms of the chunk's keys' report_web_src rows, taken out (sign "-") before the
 * upsert moves their `seen` and put back ("") after. */
#define WEB_HIST(table, expr, sign) \
	"INSERT INTO " table " SELECT " expr ", w.kind, w.p, w.k1, w.k2, w.k3, " sign "count(*)" \
	" FROM temp.web_chunk c CROSS JOIN report_web_src w ON w.kind = c.kind AND w.p = c.p" \
	" AND w.k1 = c.k1 AND w.k2 = c.k2 AND w.k3 = c.k3 AND w.src_ip = c.s WHERE true GROUP" \
	" BY 1, 2, 3, 4, 5, 6 ON CONFLICT DO UPDATE SET n = n + excluded.n;"
#define WEB_HISTS(sign) \
	WEB_HIST("report_web_hist", "w.seen", sign) \
	WEB_HIST("report_web_hist_day", "w.seen - w.seen % " LIB_STR(REPORT_ROLLUP_DAY), sign)
static const char roll_chunk[] =
	"INSERT INTO report_web_src SELECT " WEB_KEY ", s, h FROM temp.web_chunk WHERE true ON"
	" CONFLICT DO UPDATE SET seen = max(seen, excluded.seen);";

static int web_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	int code = sqlite3_errcode(db);
	log_debug("report", "webui roll-up: %s", err ? err : "?");
	sqlite3_free(err);
	return code == SQLITE_BUSY || code == SQLITE_LOCKED ? -EBUSY : -EIO;
}

static bool meta(sqlite3 *db, const char *schema, const char *key, int64_t *out)
{
	sqlite3_stmt *q;
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT value FROM %s.report_meta WHERE key = ?1", schema);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL;
	if (ok)
		*out = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return ok;
}

static int meta_set(sqlite3 *db, const char *key, int64_t v)
{
	char *sql =
		sqlite3_mprintf("INSERT OR REPLACE INTO report_meta(key, value) VALUES (%Q, %lld)",
				key, (long long)v);
	int rc = web_exec(db, sql);
	sqlite3_free(sql);
	return rc;
}

static void rfc3339(int64_t t, char out[LIB_RFC3339_LEN])
{
	struct timespec ts = {.tv_sec = (time_t)t};
	lib_rfc3339(&ts, out);
}

/* The web events of the closed hours [h0, h1) into the tables. */
static int web_roll(sqlite3 *db, int64_t h0, int64_t h1)
{
	sqlite3_stmt *q;
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b,
		       "CREATE TEMP TABLE web_chunk AS SELECT " WEB_KEY ", s, max(h) AS h FROM (");
	web_rows(&b, "store.events", "?3", "?4", "?1", "?2");
	buf_append_str(&b, ") GROUP BY 1, 2, 3, 4, 5, 6");
	int prc = sqlite3_prepare_v2(db, (const char *)b.data, -1, &q, NULL);
	buf_free(&b);
	if (prc != SQLITE_OK) {
		log_debug("report", "webui roll-up: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	char t0[LIB_RFC3339_LEN], t1[LIB_RFC3339_LEN];
	rfc3339(h0, t0);
	rfc3339(h1, t1);
	sqlite3_bind_int64(q, 1, report_first_id_at(db, h0 - REPORT_ID_SLACK));
	sqlite3_bind_int64(q, 2, report_first_id_at(db, h1 + REPORT_ID_SLACK));
	sqlite3_bind_text(q, 3, t0, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, t1, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -EIO;
	if (rc)
		log_debug("report", "webui roll-up: %s", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	rc = rc ? rc : web_exec(db, WEB_HISTS("-"));
	rc = rc ? rc : web_exec(db, roll_chunk);
	rc = rc ? rc : web_exec(db, WEB_HISTS(""));
	web_exec(db, "DROP TABLE IF EXISTS temp.web_chunk");
	return rc;
}

/* One transaction: the part's layout checked (emptied and restarted at the events' first
 * hour when it differs), then up to REPORT_ROLLUP_CHUNK_HOURS hours of the events' rolled-up
 * ones added. Returns the hours added. */
static int web_chunk(sqlite3 *db, bool *more)
{
	*more = false;
	int rc = web_exec(db, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	int64_t v, first, until, ev_until;
	if (!meta(db, "main", "webui_version", &v) || v != WEB_VERSION) {
		rc = web_exec(db, web_drop);
		rc = rc ? rc : web_exec(db, report_web_schema);
		rc = rc ? rc : meta_set(db, "webui_version", WEB_VERSION);
		if (!rc && meta(db, "main", "ev_first", &first)) {
			rc = meta_set(db, "web_first", first);
			rc = rc ? rc : meta_set(db, "web_until", first);
		}
	}
	int hours = 0;
	if (!rc && meta(db, "main", "web_until", &until) &&
	    meta(db, "main", "ev_until", &ev_until) && ev_until > until) {
		const int64_t step = REPORT_ROLLUP_CHUNK_HOURS * REPORT_ROLLUP_HOUR;
		int64_t to = ev_until - until < step ? ev_until : until + step;
		rc = web_roll(db, until, to);
		rc = rc ? rc : meta_set(db, "web_until", to);
		hours = (int)((to - until) / REPORT_ROLLUP_HOUR);
		*more = to < ev_until;
	}
	if (rc) {
		web_exec(db, "ROLLBACK");
		*more = false;
		return rc;
	}
	rc = web_exec(db, "COMMIT");
	return rc ? rc : hours;
}

int report_rollup_webui(sqlite3 *db, const atomic_bool *stop)
{
	int total = 0;
	bool more = true;
	while (more && !(stop && atomic_load(stop))) {
		int rc = web_chunk(db, &more);
		if (rc < 0)
			return rc;
		total += rc;
	}
	return total;
}

/* ------------------------------------------------------------------ reading */

/* The window's counts per key (kind, p, k1, k2, k3 with NULL keys given back) as temp.web_w,
 * from the roll-up and the edges when its hours reach the window's end, else raw. */
#define WEB_OUT \
	"INSERT INTO temp.web_w SELECT kind, nullif(p, x''), nullif(k1, x''), nullif(k2, x'')," \
	" nullif(k3, x''), sum(n) FROM ("

/* The statement filling temp.web_w. Raw: ?1 ?2 the window, ?3 ?4 its event ids. From the
 * roll-up: also ?5 the first rolled-up hour a (?6 as text), ?7 the first day start at or after
 * it, ?8 the roll-up's end as text; the edges [?1, ?6) read by the ids [?3, ?9), [?8, ?2) by
 * [?10, ?4). */
static void web_sql(struct buf *b, bool roll)
{
	if (!roll) {
		buf_append_str(b, WEB_OUT "SELECT " WEB_KEY ", count(DISTINCT s) AS n FROM (");
		web_rows(b, "events", "?1", "?2", "?3", "?4");
		buf_append_str(b, ") GROUP BY 1, 2, 3, 4, 5) GROUP BY 1, 2, 3, 4, 5");
		return;
	}
	buf_append_str(b, "WITH e AS MATERIALIZED (");
	web_rows(b, "events", "?1", "?6", "?3", "?9");
	buf_append_str(b, " UNION ALL ");
	web_rows(b, "events", "?8", "?2", "?10", "?4");
	/* Each part summed per key first: the day histogram in its key order (no sort of its
	 * rows), the outer sum over a few hundred rows a part. */
	buf_append_str(b, ") " WEB_OUT "SELECT " WEB_KEY ", sum(n) AS n FROM roll.report_web_hist"
			  " WHERE seen >= ?5 AND seen < ?7 GROUP BY 1, 2, 3, 4, 5 UNION ALL SELECT"
			  " " WEB_KEY ", sum(n) FROM roll.report_web_hist_day WHERE day >= ?7 GROUP"
			  " BY 1, 2, 3, 4, 5 UNION ALL SELECT " WEB_KEY ","
			  " count(DISTINCT s) FROM e WHERE NOT EXISTS (SELECT 1 FROM"
			  " roll.report_web_src w WHERE w.kind = e.kind AND w.p = e.p AND w.k1 ="
			  " e.k1 AND w.k2 = e.k2 AND w.k3 = e.k3 AND w.src_ip = e.s AND w.seen >="
			  " ?5) GROUP BY 1, 2, 3, 4, 5) GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) > 0");
}

/* The rolled-up hours [*a, until) of the window when they reach the part's end. */
static bool web_tail(struct report_ctx *c, int64_t *a, int64_t *until)
{
	int64_t v, first;
	if (c->raw_only || !meta(c->db, "roll", "webui_version", &v) || v != WEB_VERSION ||
	    !meta(c->db, "roll", "web_first", &first) || !meta(c->db, "roll", "web_until", until))
		return false;
	int64_t hour = REPORT_ROLLUP_HOUR;
	*a = c->since_unix == INT64_MIN
		     ? first
		     : c->since_unix + (hour - (c->since_unix % hour + hour) % hour) % hour;
	if (*a < first)
		*a = first;
	int64_t b = c->until_unix == INT64_MAX
			    ? *until
			    : c->until_unix - (c->until_unix % hour + hour) % hour;
	return b >= *until && *a < *until;
}

int report_web_window(struct report_ctx *c)
{
	if (!c->db || web_exec(c->db, "CREATE TEMP TABLE IF NOT EXISTS web_w (kind INTEGER, p, k1,"
				      " k2, k3, n INTEGER); DELETE FROM temp.web_w;"))
		return -EIO;
	int64_t a, until, lo, hi;
	bool roll = web_tail(c, &a, &until);
	sqlite3_stmt *q;
	struct buf b;
	buf_init(&b, 0);
	web_sql(&b, roll);
	int prc = sqlite3_prepare_v2(c->db, (const char *)b.data, -1, &q, NULL);
	buf_free(&b);
	if (prc != SQLITE_OK) {
		log_warn("report", "webui: %s", sqlite3_errmsg(c->db));
		return -EIO;
	}
	report_event_ids(c, &lo, &hi);
	sqlite3_bind_text(q, 1, c->since, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->until, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, lo);
	sqlite3_bind_int64(q, 4, hi);
	int form = 0;
	if (roll) {
		char ta[LIB_RFC3339_LEN], tu[LIB_RFC3339_LEN];
		rfc3339(a, ta);
		rfc3339(until, tu);
		int64_t day = REPORT_ROLLUP_DAY;
		sqlite3_bind_int64(q, 5, a);
		sqlite3_bind_text(q, 6, ta, -1, SQLITE_TRANSIENT);
		int64_t d = a + (day - (a % day + day) % day) % day;
		sqlite3_bind_int64(q, 7, d);
		form = d < until ? REPORT_WEB_ROLLED | REPORT_WEB_DAYS : REPORT_WEB_ROLLED;
		sqlite3_bind_text(q, 8, tu, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 9, report_first_id_at(c->db, a + REPORT_ID_SLACK));
		sqlite3_bind_int64(q, 10, report_first_id_at(c->db, until - REPORT_ID_SLACK));
	}
	log_debug("report", "webui: %s", roll ? "roll-up and edges" : "raw");
	int rc = sqlite3_step(q) == SQLITE_DONE ? form : -EIO;
	if (rc < 0)
		log_warn("report", "webui: %s", sqlite3_errmsg(c->db));
	sqlite3_finalize(q);
	return rc;
}
