/* report: the darknet's part of the roll-up (DATA/report.db, rollup.c). Per UTC day, the
 * packets of each port and the sources of each country summed over the day's intervals (each
 * interval's latest analysis, as darknet.c reads them), and per interval the packets of each
 * port keyed by port (the per-port chart reads one port's series as one range).
 *
 * Exactness: a later `mitsu scope` run may analyse an interval again (its rows replace the
 * earlier run's) or add intervals to any day, so a day is not closed by time as the events'
 * hours are. Each rolled-up day keeps a signature of its interval rows in the store (their
 * count, the sum and the maximum of their rowids: rows are only ever added, one transaction
 * per interval with its ports and countries); a catch-up recomputes the days whose signature
 * changed, and a reader uses a day only while its signature still matches the store's (the
 * others, and the window's partial days, are read raw). */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"

/* Days recomputed per transaction. */
#define DN_CHUNK_DAYS 31

const char report_dn_schema[] =
	"CREATE TABLE IF NOT EXISTS report_dn_days (day INTEGER PRIMARY KEY, n INTEGER,"
	" rs INTEGER, rm INTEGER);"
	"CREATE TABLE IF NOT EXISTS report_dn_ports (day INTEGER NOT NULL, proto TEXT NOT NULL,"
	" port INTEGER NOT NULL, packets INTEGER, PRIMARY KEY (day, proto, port)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS report_dn_series (proto TEXT NOT NULL, port INTEGER NOT NULL,"
	" start_unix INTEGER NOT NULL, packets INTEGER, PRIMARY KEY (proto, port, start_unix))"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS report_dn_countries (day INTEGER NOT NULL, cc TEXT NOT NULL,"
	" sources INTEGER, mirai_sources INTEGER, packets INTEGER, PRIMARY KEY (day, cc))"
	" WITHOUT ROWID;";

const char report_dn_wipe[] = "DELETE FROM report_dn_days; DELETE FROM report_dn_ports;"
			      " DELETE FROM report_dn_series; DELETE FROM report_dn_countries;";

/* The signature of every day of the store's intervals. */
#define DN_SIG_SQL(from) \
	"SELECT " REPORT_DN_DAY("start_unix") " AS day, count(*) AS n, sum(rowid) AS rs," \
					      " max(rowid) AS rm FROM " from " GROUP BY 1"

static int dn_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	int code = sqlite3_errcode(db);
	log_debug("report", "darknet roll-up: %s", err ? err : "?");
	sqlite3_free(err);
	return code == SQLITE_BUSY || code == SQLITE_LOCKED ? -EBUSY : -EIO;
}

/* Removes the series rows of the stale days (their ports are the day's rows of
 * report_dn_ports, which are removed after). */
static int drop_series(sqlite3 *db)
{
	sqlite3_stmt *days, *del;
	if (sqlite3_prepare_v2(db, "SELECT day FROM temp.dn_stale", -1, &days, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_prepare_v2(db,
			       "DELETE FROM report_dn_series WHERE (proto, port) IN (SELECT proto, "
			       "port FROM report_dn_ports WHERE day = ?1) AND start_unix >= ?1 AND "
			       "start_unix < ?1 + " LIB_STR(REPORT_DN_DAY_SECONDS),
			       -1, &del, NULL) != SQLITE_OK) {
		sqlite3_finalize(days);
		return -EIO;
	}
	int rc = 0;
	while (!rc && sqlite3_step(days) == SQLITE_ROW) {
		sqlite3_bind_int64(del, 1, sqlite3_column_int64(days, 0));
		rc = sqlite3_step(del) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_reset(del);
	}
	sqlite3_finalize(del);
	sqlite3_finalize(days);
	return rc;
}

/* The stale days' rows removed, then recomputed from the store: each interval's latest run
 * (dn_latest), its port rows (dn_rows), the sums per day. */
#define DAY_OF_START REPORT_DN_DAY("start_unix")
#define DAY_OF_C_START REPORT_DN_DAY("c.start_unix")
static const char recompute[] =
	"DELETE FROM report_dn_ports WHERE day IN (SELECT day FROM temp.dn_stale);"
	"DELETE FROM report_dn_countries WHERE day IN (SELECT day FROM temp.dn_stale);"
	"DELETE FROM report_dn_days WHERE day IN (SELECT day FROM temp.dn_stale);"
	"CREATE TEMP TABLE dn_latest AS SELECT start_unix AS su, max(run_id) AS rid"
	" FROM store.scope_intervals WHERE " DAY_OF_START " IN (SELECT day FROM temp.dn_stale)"
	" GROUP BY start_unix;"
	"CREATE TEMP TABLE dn_rows AS SELECT p.proto, p.port, p.start_unix, p.packets FROM"
	" temp.dn_latest l JOIN store.scope_ports p ON p.run_id = l.rid AND p.start_unix = l.su;"
	"INSERT INTO report_dn_series SELECT proto, port, start_unix, packets FROM temp.dn_rows;"
	"INSERT INTO report_dn_ports SELECT " DAY_OF_START ", proto, port, sum(packets) FROM"
	" temp.dn_rows GROUP BY 1, 2, 3;"
	"INSERT INTO report_dn_countries SELECT " DAY_OF_C_START ", c.cc, sum(c.sources),"
	" sum(c.mirai_sources), sum(c.packets) FROM temp.dn_latest l JOIN store.scope_countries c"
	" ON c.run_id = l.rid AND c.start_unix = l.su GROUP BY 1, 2;"
	"INSERT INTO report_dn_days SELECT * FROM temp.dn_sig WHERE day IN (SELECT day FROM"
	" temp.dn_stale);"
	"DROP TABLE temp.dn_latest; DROP TABLE temp.dn_rows;";

/* One transaction: up to DN_CHUNK_DAYS days whose signature changed are recomputed. Returns
 * the days recomputed. */
static int dn_chunk(sqlite3 *db, bool *more)
{
	*more = false;
	int rc = dn_exec(db, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	rc = dn_exec(db,
		     "DROP TABLE IF EXISTS temp.dn_sig; DROP TABLE IF EXISTS temp.dn_stale;"
		     " DROP TABLE IF EXISTS temp.dn_rows; DROP TABLE IF EXISTS temp.dn_latest;"
		     " CREATE TEMP TABLE dn_sig AS " DN_SIG_SQL(
			     "store.scope_intervals") ";"
						      " CREATE TEMP TABLE dn_stale AS SELECT day "
						      "FROM (SELECT s.day FROM temp.dn_sig s"
						      " LEFT JOIN report_dn_days d ON d.day = "
						      "s.day WHERE d.n IS NOT s.n OR d.rs IS NOT"
						      " s.rs OR d.rm IS NOT s.rm UNION SELECT day "
						      "FROM report_dn_days WHERE day NOT IN"
						      " (SELECT day FROM temp.dn_sig)) ORDER BY "
						      "day LIMIT " LIB_STR(DN_CHUNK_DAYS) ";");
	int n = 0;
	sqlite3_stmt *q;
	if (!rc && sqlite3_prepare_v2(db, "SELECT count(*) FROM temp.dn_stale", -1, &q, NULL) ==
			   SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			n = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	rc = rc ? rc : drop_series(db);
	if (!rc && n)
		rc = dn_exec(db, recompute);
	dn_exec(db, "DROP TABLE IF EXISTS temp.dn_sig; DROP TABLE IF EXISTS temp.dn_stale;");
	if (rc) {
		dn_exec(db, "ROLLBACK");
		dn_exec(db,
			"DROP TABLE IF EXISTS temp.dn_latest; DROP TABLE IF EXISTS temp.dn_rows");
		return rc;
	}
	rc = dn_exec(db, "COMMIT");
	*more = n == DN_CHUNK_DAYS;
	return rc ? rc : n;
}

int report_rollup_darknet(sqlite3 *db, const atomic_bool *stop)
{
	sqlite3_stmt *q;
	bool have = sqlite3_prepare_v2(db, "SELECT 1 FROM store.scope_intervals LIMIT 0", -1, &q,
				       NULL) == SQLITE_OK;
	sqlite3_finalize(q);
	if (!have)
		return 0; /* no `mitsu scope` run yet */
	int total = 0, rc = 0;
	bool more = true;
	while (more && !(stop && atomic_load(stop))) {
		rc = dn_chunk(db, &more);
		if (rc < 0)
			return rc;
		total += rc;
	}
	return total;
}

bool report_dn_window(struct report_ctx *c)
{
	if (!c->db || dn_exec(c->db, "CREATE TEMP TABLE IF NOT EXISTS dn_ok (day INTEGER PRIMARY "
				     "KEY); DELETE FROM temp.dn_ok;"))
		return false;
	sqlite3_stmt *q;
	if (c->raw_only ||
	    sqlite3_prepare_v2(
		    c->db,
		    "INSERT INTO temp.dn_ok SELECT d.day FROM roll.report_dn_days d WHERE d.day >="
		    " ?3 AND d.day + " LIB_STR(
			    REPORT_DN_DAY_SECONDS) " <= ?4 AND (d.n, d.rs, d.rm) = (SELECT "
						   "count(*),"
						   " sum(rowid), max(rowid) FROM scope_intervals"
						   " WHERE start_unix >= d.day AND start_unix < "
						   "d.day"
						   " + " LIB_STR(REPORT_DN_DAY_SECONDS) ")",
		    -1, &q, NULL) != SQLITE_OK)
		return false;
	report_bind(c, q);
	bool ok = sqlite3_step(q) == SQLITE_DONE;
	sqlite3_finalize(q);
	return ok;
}
