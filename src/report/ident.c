/* report: device identification (seed §3): how many attacking hosts could be identified,
 * against all of them and against those that answered a probe, and the identified devices
 * by the seed's categories, from the mitsu.ident.result events (the latest result per host).
 * The seed found fewer than 10% identifiable and 72 categories, most of them cameras, DVRs
 * and routers. */
#include "report/report.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "ident/ident.h"

/* Rows of the vendors table. */
#define IDENT_REPORT_TOP 20

/* The latest result per host in the window; the hosts that attacked the sensor among the
 * results' hosts (attackers), and the count of all of them (natt): the sources of the sessions
 * that started in the window, from the roll-up's hours and the raw edges (LATEST_ROLL) or raw
 * (LATEST_RAW), through sessions_start. */
#define LATEST_RES \
	"WITH res AS (SELECT id, json_extract(json, '$.host') AS host," \
	" json_extract(json, '$.identified') AS ident, json_extract(json, '$.answered') AS ans," \
	" json_extract(json, '$.category') AS cat, json_extract(json, '$.vendor') AS vendor," \
	" json_extract(json, '$.model') AS model FROM events" \
	" WHERE eventid = 'mitsu.ident.result' AND id >= ?7 AND id < ?8 AND timestamp >= ?1 AND " \
	"timestamp < ?2)," \
	" latest AS (SELECT * FROM res WHERE id IN (SELECT max(id) FROM res GROUP BY host)),"
#define LATEST_SESSIONS(lo, hi) "SELECT src_ip FROM sessions WHERE start >= " lo " AND start < " hi
#define LATEST_NATT " natt(n) AS (SELECT count(*) FROM attackers) "
#define LATEST_RAW \
	LATEST_RES " attackers AS (SELECT DISTINCT src_ip AS host FROM (" LATEST_SESSIONS( \
		"?1", "?2") "))," LATEST_NATT
#define LATEST_ROLL \
	LATEST_RES " attackers AS (SELECT DISTINCT src_ip AS host FROM (SELECT src_ip FROM" \
		   " roll.report_sessions WHERE hour >= ?17 AND hour < ?18 UNION " \
		   "ALL " LATEST_SESSIONS("?1", "?19") " UNION ALL " LATEST_SESSIONS( \
			   "?20", "?2") "))," LATEST_NATT
/* Whether a session from h.host started in [lo, hi) (sessions_src_start). */
#define LATEST_EDGE(lo, hi) \
	" EXISTS (SELECT 1 FROM sessions s WHERE s.src_ip = h.host AND s.start >= " lo \
	" AND s.start < " hi ")"
/* Whether report_src has the source col since the first rolled-up hour. */
#define LATEST_SEEN(col) \
	" EXISTS (SELECT 1 FROM roll.report_src a WHERE a.src_ip = " col " AND a.seen >= ?17)"
#define LATEST_EDGES LATEST_SESSIONS("?1", "?19") " UNION ALL " LATEST_SESSIONS("?20", "?2")
/* The sources seen since the first rolled-up hour (report_rollup_sources) and the edges': a
 * results' host is one if report_src has it since then or the edges have a session of it (an
 * index lookup each, not a set of every source); their count is report_src_hist's since then
 * plus the edges' sources not among them, as the overview's totals count them. */
#define LATEST_NATT_SRC \
	" natt(n) AS (SELECT (SELECT coalesce(sum(n), 0) FROM roll.report_src_hist WHERE seen" \
	" >= ?17) + (SELECT count(DISTINCT src_ip) FROM (" LATEST_EDGES \
	") e WHERE NOT" LATEST_SEEN("e.src_ip") ")) "
#define LATEST_SRC \
	LATEST_RES " attackers AS (SELECT host FROM (SELECT DISTINCT host FROM res) h " \
		   "WHERE" LATEST_SEEN("h.host") " OR" LATEST_EDGE("?1", "?19") " OR" LATEST_EDGE( \
			   "?20", "?2") ")," LATEST_NATT_SRC
/* The three forms of a query over latest, attackers and natt. */
#define LATEST(q) LATEST_SRC q, LATEST_ROLL q, LATEST_RAW q

/* Prepares the roll-up's form of a query when it covers a whole hour of the window. */
static sqlite3_stmt *prepare(struct report_ctx *c, const char *src, const char *roll,
			     const char *raw)
{
	sqlite3 *db = c->db;
	sqlite3_stmt *q;
	const char *sql = report_rollup_sources(c) ? src : report_rollup_use(c, true) ? roll : raw;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_warn("report", "identification: %s", sqlite3_errmsg(db));
		return NULL;
	}
	report_bind(c, q);
	return q;
}

/* The window's latest result per host, with whether the host attacked, read once per build
 * into a temporary table that the three tables read (each form computes res, latest and
 * attackers once, not once per table). */
#define IDENT_TEMP "temp.ident_latest"
static bool fill_latest(struct report_ctx *c)
{
	if (sqlite3_exec(c->db,
			 "CREATE TEMP TABLE IF NOT EXISTS ident_latest (host TEXT, ident INTEGER,"
			 " ans INTEGER, cat TEXT, vendor TEXT, model TEXT, att INTEGER);"
			 " DELETE FROM " IDENT_TEMP,
			 NULL, NULL, NULL) != SQLITE_OK) {
		log_warn("report", "identification: %s", sqlite3_errmsg(c->db));
		return false;
	}
	sqlite3_stmt *q = prepare(c, LATEST("INSERT INTO " IDENT_TEMP " SELECT host, ident, ans,"
					    " cat, vendor, model, host IN (SELECT host FROM"
					    " attackers) FROM latest"));
	bool ok = q && sqlite3_step(q) == SQLITE_DONE;
	if (q && !ok)
		log_warn("report", "identification: %s", sqlite3_errmsg(c->db));
	sqlite3_finalize(q);
	return ok;
}

static struct report_table *rate_table(struct report_ctx *c)
{
	sqlite3_stmt *n = prepare(c, LATEST("SELECT n FROM natt"));
	long long all = n && sqlite3_step(n) == SQLITE_ROW ? sqlite3_column_int64(n, 0) : 0;
	sqlite3_finalize(n);
	static const char counts[] =
		"SELECT count(*), sum(ans), sum(ident) FROM " IDENT_TEMP " WHERE att";
	sqlite3_stmt *q = prepare(c, counts, counts, counts);
	if (!q)
		return NULL;
	struct report_table *t = report_table_new("Identification of attacking hosts");
	report_table_col(t, "attacking hosts", REPORT_INT, 0);
	report_table_col(t, "probed", REPORT_INT, 0);
	report_table_col(t, "answered", REPORT_INT, 0);
	report_table_col(t, "identified", REPORT_INT, 0);
	report_table_col(t, "of attacking", REPORT_PERCENT, 1);
	report_table_col(t, "of answered", REPORT_PERCENT, 1);
	if (sqlite3_step(q) == SQLITE_ROW) {
		long long probed = sqlite3_column_int64(q, 0), ans = sqlite3_column_int64(q, 1),
			  ident = sqlite3_column_int64(q, 2);
		report_table_row(t);
		report_table_int(t, all);
		report_table_int(t, probed);
		report_table_int(t, ans);
		report_table_int(t, ident);
		if (all)
			report_table_real(t, (double)ident / (double)all);
		else
			report_table_null(t);
		if (ans)
			report_table_real(t, (double)ident / (double)ans);
		else
			report_table_null(t);
	}
	sqlite3_finalize(q);
	return t;
}

static struct ident_db *categories(void)
{
	struct ident_db *db = ident_db_new();
	char *path = xasprintf("%s/categories.tsv", ident_default_fingerprints_dir());
	uint8_t *data;
	size_t len;
	char err[256];
	if (lib_read_file(path, 1u << 20, &data, &len) == 0) {
		if (ident_db_load_categories(db, (const char *)data, len, err, sizeof(err)))
			log_warn("report", "%s: %s", path, err);
		free(data);
	}
	free(path);
	return db;
}

/* Identified hosts per category, in the order of categories.tsv (the seed's groups). */
static struct report_table *category_table(struct report_ctx *c)
{
	static const char sql[] =
		"SELECT cat, count(*), sum(att) FROM " IDENT_TEMP " WHERE ident GROUP BY cat";
	sqlite3_stmt *q = prepare(c, sql, sql, sql);
	if (!q)
		return NULL;
	struct ident_db *cdb = categories();
	const struct ident_category *cats;
	size_t ncats = ident_db_categories(cdb, &cats);
	long long *hosts = xcalloc(ncats + 1, sizeof(long long)),
		  *att = xcalloc(ncats + 1, sizeof(long long)), total = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *cat = (const char *)sqlite3_column_text(q, 0);
		const struct ident_category *ic = cat ? ident_db_category(cdb, cat) : NULL;
		size_t i = ic ? (size_t)(ic - cats) : ncats; /* unknown ones last */
		hosts[i] += sqlite3_column_int64(q, 1);
		att[i] += sqlite3_column_int64(q, 2);
		total += sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	struct report_table *t = report_table_new("Identified devices by category");
	report_table_col(t, "group", REPORT_STR, 0);
	report_table_col(t, "category", REPORT_STR, 0);
	report_table_col(t, "hosts", REPORT_INT, 0);
	report_table_col(t, "attacking", REPORT_INT, 0);
	report_table_col(t, "share", REPORT_PERCENT, 1);
	for (size_t i = 0; i <= ncats; i++) {
		if (!hosts[i])
			continue;
		report_table_row(t);
		report_table_str(t, i < ncats ? cats[i].group : "other");
		report_table_str(t, i < ncats ? cats[i].name : "(not in categories.tsv)");
		report_table_int(t, hosts[i]);
		report_table_int(t, att[i]);
		report_table_real(t, (double)hosts[i] / (double)total);
	}
	free(hosts);
	free(att);
	ident_db_free(cdb);
	return t;
}

static struct report_table *vendor_table(struct report_ctx *c)
{
	static const char sql[] = "SELECT cat, coalesce(vendor, ''), coalesce(model, ''),"
				  " count(*) AS n FROM " IDENT_TEMP " WHERE ident GROUP BY 1, 2, 3"
				  " ORDER BY n DESC, 1, 2, 3 LIMIT " LIB_STR(IDENT_REPORT_TOP);
	sqlite3_stmt *q = prepare(c, sql, sql, sql);
	if (!q)
		return NULL;
	struct report_table *t = report_table_new("Identified vendors and models");
	report_table_col(t, "category", REPORT_STR, 0);
	report_table_col(t, "vendor", REPORT_STR, 0);
	report_table_col(t, "model", REPORT_STR, 0);
	report_table_col(t, "hosts", REPORT_INT, 0);
	while (sqlite3_step(q) == SQLITE_ROW) {
		report_table_row(t);
		for (int i = 0; i < 3; i++)
			report_table_str(t, (const char *)sqlite3_column_text(q, i));
		report_table_int(t, sqlite3_column_int64(q, 3));
	}
	sqlite3_finalize(q);
	return t;
}

static bool ident_present(sqlite3 *db)
{
	return report_has_event(db, "mitsu.ident.result");
}

static void ident_build(struct report_ctx *c)
{
	if (!ident_present(c->db) || !fill_latest(c))
		return;
	struct report_table *t = rate_table(c);
	if (!t)
		goto done;
	report_heading(c, "Devices");
	report_emit_table(c, "ident_rate", t,
			  "the seed: fewer than 10% of infected hosts could be identified (connect-"
			  "back to their Web and Telnet services); enable ident.auto or run mitsu "
			  "ident --from-store");
	if ((t = category_table(c)))
		report_emit_table(c, "ident_categories", t,
				  "the seed recognised 72 categories, most of them cameras, DVRs "
				  "and routers");
	if ((t = vendor_table(c)))
		report_emit_table(c, "ident_vendors", t, NULL);
done:
	sqlite3_exec(c->db, "DELETE FROM " IDENT_TEMP, NULL, NULL, NULL);
}

const struct report_section report_section_ident = {
	.name = "devices",
	.title = "Devices",
	.present = ident_present,
	.build = ident_build,
};
