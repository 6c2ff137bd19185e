/* The sandbox's tables (box_results, box_cnc, box_dns, box_latest_verdict and the box_latest
 * view), written through the store's writer, and the report queries over them: the seed's
 * home-network testbed table, families, recent verdicts. */
#include "box/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS box_results ("
	"  id INTEGER PRIMARY KEY,"
	"  sha256 TEXT NOT NULL, arch TEXT, family TEXT,"
	"  analysed TEXT NOT NULL, captured TEXT, seconds REAL,"
	"  dynamic INTEGER NOT NULL,"
	"  scan INTEGER NOT NULL, lan_attack INTEGER NOT NULL, ddos INTEGER NOT NULL,"
	"  killer INTEGER NOT NULL, persistence INTEGER NOT NULL, cnc INTEGER NOT NULL,"
	"  verdict TEXT NOT NULL,"
	/* json_extract(verdict, '$.verdict'), set by the insert; no type, so a word that is not
	 * text (a number) is kept as json_extract gives it and sorts as it would. */
	"  word);"
	/* (sha256, id, the columns the reports count, the verdict's word): a sample's latest
	 * verdict, the latest verdicts' counts (box_latest below) and the samples list's search
	 * and sort, read from the index alone, not from rows that carry the whole verdict JSON.
	 * It replaces box_results_latest (the same without word) and box_results_sha256. */
	"CREATE INDEX IF NOT EXISTS box_results_verdict ON box_results(sha256, id, arch, family,"
	"  seconds, dynamic, scan, lan_attack, ddos, cnc, word);"
	"DROP INDEX IF EXISTS box_results_latest;"
	"DROP INDEX IF EXISTS box_results_sha256;"
	"CREATE TABLE IF NOT EXISTS box_cnc ("
	"  result INTEGER NOT NULL, sha256 TEXT NOT NULL,"
	"  host TEXT, ip TEXT, port INTEGER, protocol TEXT);"
	"CREATE INDEX IF NOT EXISTS box_cnc_host ON box_cnc(host);"
	/* An address as C&C or DDoS target (mitsu ip): box_cnc by ip, and the few verdicts that
	 * saw a DDoS without reading every verdict. */
	"CREATE INDEX IF NOT EXISTS box_cnc_ip ON box_cnc(ip);"
	"CREATE INDEX IF NOT EXISTS box_results_ddos ON box_results(ddos) WHERE ddos = 1;"
	/* The verdicts of a time window (the overview's count) from the index alone, not from
	 * the rows with their verdict JSON (20,000 verdicts: 8 MB read for an all-time count). */
	"CREATE INDEX IF NOT EXISTS box_results_analysed ON box_results(analysed);"
	"CREATE TABLE IF NOT EXISTS box_dns (result INTEGER NOT NULL, sha256 TEXT NOT NULL, name "
	"TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS box_dns_name ON box_dns(name);"
	/* The latest verdict of each sample: no later one of the same sample (one look-up in
	 * box_results_verdict each). Made again at every open, as its first form (id IN (SELECT
	 * MAX(id) ... GROUP BY sha256)) read every row. */
	"DROP VIEW IF EXISTS box_latest;"
	"CREATE VIEW box_latest AS SELECT * FROM box_results r"
	"  WHERE NOT EXISTS (SELECT 1 FROM box_results x WHERE x.sha256 = r.sha256 AND x.id > "
	"r.id);";

/* A store made before box_results had its word column: the column, filled from the verdicts
 * once (20,000 verdicts: a fraction of a second), before the schema's index reads it. */
static const char add_word[] = "ALTER TABLE box_results ADD COLUMN word;"
			       "UPDATE box_results SET word = json_extract(verdict, '$.verdict');";

/* The latest verdict of each sample, one row per sample (sha256): the columns of
 * box_results_verdict, kept by the triggers below, so that the samples list's search and sort
 * by family or verdict, and the sandbox's counts, read one small row per sample instead of two
 * look-ups in box_results_verdict. Each trigger makes the row of a sample it touched again from
 * that sample's verdict of highest id (one look-up in box_results_verdict): the row is right
 * whatever the order of inserts, deletes and updates. The columns are those of box_results, so
 * the readers query it as they would the view box_latest. */
#define LATEST_COLS "sha256, id, arch, family, seconds, dynamic, scan, lan_attack, ddos, cnc, word"
static const char latest_schema[] =
	"CREATE TABLE IF NOT EXISTS box_latest_verdict (sha256 TEXT PRIMARY KEY,"
	"  id INTEGER NOT NULL, arch TEXT, family TEXT, seconds REAL, dynamic INTEGER,"
	"  scan INTEGER, lan_attack INTEGER, ddos INTEGER, cnc INTEGER, word) WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS box_latest_insert AFTER INSERT ON box_results BEGIN"
	"  DELETE FROM box_latest_verdict WHERE sha256 = NEW.sha256;"
	"  INSERT INTO box_latest_verdict SELECT " LATEST_COLS " FROM box_results"
	"  WHERE sha256 = NEW.sha256 ORDER BY id DESC LIMIT 1;"
	"END;"
	"CREATE TRIGGER IF NOT EXISTS box_latest_delete AFTER DELETE ON box_results BEGIN"
	"  DELETE FROM box_latest_verdict WHERE sha256 = OLD.sha256;"
	"  INSERT INTO box_latest_verdict SELECT " LATEST_COLS " FROM box_results"
	"  WHERE sha256 = OLD.sha256 ORDER BY id DESC LIMIT 1;"
	"END;"
	"CREATE TRIGGER IF NOT EXISTS box_latest_update AFTER UPDATE ON box_results BEGIN"
	"  DELETE FROM box_latest_verdict WHERE sha256 = OLD.sha256;"
	"  INSERT INTO box_latest_verdict SELECT " LATEST_COLS " FROM box_results"
	"  WHERE sha256 = OLD.sha256 ORDER BY id DESC LIMIT 1;"
	"  DELETE FROM box_latest_verdict WHERE sha256 = NEW.sha256;"
	"  INSERT INTO box_latest_verdict SELECT " LATEST_COLS " FROM box_results"
	"  WHERE sha256 = NEW.sha256 ORDER BY id DESC LIMIT 1;"
	"END;";
/* A store made before the table: filled once from the verdicts (20,000: see
 * docs/dashboard.md), in the transaction that creates it. */
static const char latest_fill[] =
	"INSERT INTO box_latest_verdict SELECT " LATEST_COLS " FROM box_results r"
	" WHERE NOT EXISTS (SELECT 1 FROM box_results x WHERE x.sha256 = r.sha256 AND x.id > "
	"r.id);";

static bool query_true(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	bool yes = false;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
		yes = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	return yes;
}

int box_store_schema_db(sqlite3 *db)
{
	bool old = query_true(db, "SELECT (SELECT count(*) FROM pragma_table_info('box_results'))"
				  " > 0 AND NOT EXISTS (SELECT 1 FROM pragma_table_info("
				  "'box_results') WHERE name = 'word')");
	bool unfilled = !query_true(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
					" AND name = 'box_latest_verdict'");
	int rc = old ? sqlite3_exec(db, add_word, NULL, NULL, NULL) : SQLITE_OK;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, latest_schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK && unfilled)
		rc = sqlite3_exec(db, latest_fill, NULL, NULL, NULL);
	return rc;
}

static int schema_job(struct core_tx *tx, void *arg)
{
	(void)arg;
	int rc = box_store_schema_db(core_tx_db(tx));
	if (rc != SQLITE_OK)
		log_error("box", "sandbox schema: %s", sqlite3_errmsg(core_tx_db(tx)));
	return rc == SQLITE_OK ? 0 : core_sqlite_errno(rc) ? core_sqlite_errno(rc) : -EIO;
}

int box_store_schema(struct core_store *st)
{
	int rc = core_store_run(st, schema_job, NULL);
	if (rc)
		log_error("box", "cannot create the sandbox's tables: %s", strerror(-rc));
	return rc;
}

static bool flag(const json_t *v, const char *key)
{
	return json_is_true(json_object_get(json_object_get(v, key), "detected"));
}

static const char sql_result[] =
	"INSERT INTO box_results(sha256, arch, family, analysed, captured, seconds, dynamic,"
	" scan, lan_attack, ddos, killer, persistence, cnc, verdict, word)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	" json_extract(?14, '$.verdict'))";
static const char sql_cnc[] = "INSERT INTO box_cnc(result, sha256, host, ip, port, protocol)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_dns[] = "INSERT INTO box_dns(result, sha256, name) VALUES (?1, ?2, ?3)";

struct verdict_job {
	json_t *v;
	char *text; /* the verdict as stored, made on the loop */
	core_done_fn done;
	void *arg;
};

static void bind_str(sqlite3_stmt *q, int i, const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (s)
		sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

/* The store's writer: the verdict's row, then its C&C and DNS rows, all or nothing. */
static int verdict_job(struct core_tx *tx, void *arg)
{
	struct verdict_job *vj = arg;
	const json_t *v = vj->v;
	const char *sha = json_string_value(json_object_get(v, "sha256"));
	sqlite3_stmt *q = core_tx_stmt(tx, sql_result);
	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, sha ? sha : "", -1, SQLITE_STATIC);
	bind_str(q, 2, v, "arch");
	bind_str(q, 3, v, "family");
	bind_str(q, 4, v, "analysed");
	bind_str(q, 5, v, "captured");
	sqlite3_bind_double(q, 6, json_number_value(json_object_get(v, "seconds")));
	sqlite3_bind_int(q, 7, json_is_true(json_object_get(json_object_get(v, "dynamic"), "ran")));
	sqlite3_bind_int(q, 8, flag(v, "scan"));
	sqlite3_bind_int(q, 9, flag(v, "lan_attack"));
	sqlite3_bind_int(q, 10, flag(v, "ddos"));
	sqlite3_bind_int(q, 11, flag(v, "killer"));
	sqlite3_bind_int(q, 12, flag(v, "persistence"));
	json_t *cnc = json_object_get(v, "cnc");
	sqlite3_bind_int(q, 13, (int)json_array_size(cnc));
	sqlite3_bind_text(q, 14, vj->text ? vj->text : "{}", -1, SQLITE_STATIC);
	int rc = core_tx_step(tx, q);
	if (rc < 0)
		return rc;
	sqlite3_int64 id = sqlite3_last_insert_rowid(core_tx_db(tx));
	size_t i;
	json_t *x;
	json_array_foreach(cnc, i, x) {
		if (!(q = core_tx_stmt(tx, sql_cnc)))
			return -EIO;
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_text(q, 2, sha, -1, SQLITE_STATIC);
		bind_str(q, 3, x, "host");
		bind_str(q, 4, x, "ip");
		sqlite3_bind_int64(q, 5, json_integer_value(json_object_get(x, "port")));
		bind_str(q, 6, x, "protocol");
		if ((rc = core_tx_step(tx, q)) < 0)
			return rc;
	}
	json_array_foreach(json_object_get(v, "dns"), i, x) {
		if (!(q = core_tx_stmt(tx, sql_dns)))
			return -EIO;
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_text(q, 2, sha, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, json_string_value(x), -1, SQLITE_STATIC);
		if ((rc = core_tx_step(tx, q)) < 0)
			return rc;
	}
	return 0;
}

static void verdict_done(void *arg, int status)
{
	struct verdict_job *vj = arg;
	if (status)
		log_error("box", "cannot store the verdict of %s: %s",
			  json_string_value(json_object_get(vj->v, "sha256")), strerror(-status));
	if (vj->done)
		vj->done(vj->arg, status);
	json_decref(vj->v);
	free(vj->text);
	free(vj);
}

int box_store_verdict(struct core_store *st, json_t *v, core_done_fn done, void *arg)
{
	struct verdict_job *vj = xcalloc(1, sizeof(*vj));
	vj->v = json_incref(v);
	vj->text = json_dumps(v, BOX_JSON);
	vj->done = done;
	vj->arg = arg;
	int rc = core_store_submit(st, verdict_job, verdict_done, vj);
	if (rc) {
		json_decref(vj->v);
		free(vj->text);
		free(vj);
	}
	return rc;
}

/* ------------------------------------------------------------------ report */

static int prepare(struct core_store *st, const char *sql, sqlite3_stmt **q)
{
	if (!st->db)
		return -EIO;
	if (sqlite3_prepare_v2(st->db, sql, -1, q, NULL) != SQLITE_OK)
		return strstr(sqlite3_errmsg(st->db), "no such") ? -ENOENT : -EIO;
	return 0;
}

/* `head` FROM the latest verdicts `tail`: the table box_latest_verdict, or the view box_latest
 * (a look-up per verdict) in a store no writer has opened since the table came (mitsu web is
 * read-only). */
static int prepare_latest(struct core_store *st, const char *head, const char *tail,
			  sqlite3_stmt **q)
{
	if (!st->db)
		return -EIO;
	bool table = query_true(st->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
					" AND name = 'box_latest_verdict'");
	char *full =
		xasprintf("%s FROM %s%s", head, table ? "box_latest_verdict" : "box_latest", tail);
	int rc = prepare(st, full, q);
	free(full);
	return rc;
}

int box_report_testbed(struct core_store *st, json_t **out)
{
	*out = NULL;
	sqlite3_stmt *q;
	int rc =
		prepare_latest(st, "SELECT arch, COUNT(*), SUM(lan_attack)",
			       " WHERE dynamic = 1 GROUP BY arch ORDER BY COUNT(*) DESC, arch", &q);
	if (rc)
		return rc;
	json_t *rows = json_array();
	json_int_t all = 0, lan = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		json_int_t n = sqlite3_column_int64(q, 1), l = sqlite3_column_int64(q, 2);
		const char *arch = (const char *)sqlite3_column_text(q, 0);
		json_array_append_new(rows, json_pack("{s:s,s:I,s:I,s:f}", "arch",
						      arch && *arch ? arch : "unknown", "samples",
						      n, "lan_attack", l, "share",
						      n ? (double)l / (double)n : 0.0));
		all += n;
		lan += l;
	}
	sqlite3_finalize(q);
	json_array_append_new(rows, json_pack("{s:s,s:I,s:I,s:f}", "arch", "all", "samples", all,
					      "lan_attack", lan, "share",
					      all ? (double)lan / (double)all : 0.0));
	*out = rows;
	return 0;
}

int box_report_families(struct core_store *st, json_t **out)
{
	*out = NULL;
	sqlite3_stmt *q;
	int rc = prepare_latest(
		st, "SELECT family, COUNT(*), SUM(scan), SUM(lan_attack), SUM(ddos), SUM(cnc > 0)",
		" GROUP BY family ORDER BY COUNT(*) DESC, family", &q);
	if (rc)
		return rc;
	json_t *rows = json_array();
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *f = (const char *)sqlite3_column_text(q, 0);
		json_array_append_new(
			rows, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "family", f ? f : "unknown",
					"samples", (json_int_t)sqlite3_column_int64(q, 1), "scan",
					(json_int_t)sqlite3_column_int64(q, 2), "lan_attack",
					(json_int_t)sqlite3_column_int64(q, 3), "ddos",
					(json_int_t)sqlite3_column_int64(q, 4), "cnc",
					(json_int_t)sqlite3_column_int64(q, 5)));
	}
	sqlite3_finalize(q);
	*out = rows;
	return 0;
}

int box_report_samples(struct core_store *st, int limit, json_t **out)
{
	*out = NULL;
	sqlite3_stmt *q;
	int rc = prepare(st, "SELECT verdict FROM box_latest ORDER BY id DESC LIMIT ?1", &q);
	if (rc)
		return rc;
	sqlite3_bind_int(q, 1, limit > 0 ? limit : 100);
	json_t *rows = json_array();
	while (sqlite3_step(q) == SQLITE_ROW) {
		json_t *v = json_loads((const char *)sqlite3_column_text(q, 0), 0, NULL);
		if (!v)
			continue;
		json_t *row = json_object();
		static const char *const keys[] = {"sha256",   "arch",     "family",  "verdict",
						   "analysed", "captured", "seconds", "dns"};
		for (size_t i = 0; i < LIB_ARRAY_LEN(keys); i++)
			if (json_object_get(v, keys[i]))
				json_object_set(row, keys[i], json_object_get(v, keys[i]));
		json_t *cnc = json_array();
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(v, "cnc"), i, x)
			json_array_append_new(cnc, json_pack("{s:O,s:O}", "host",
							     json_object_get(x, "host"), "port",
							     json_object_get(x, "port")));
		json_object_set_new(row, "cnc", cnc);
		static const char *const flags[] = {"scan", "lan_attack", "ddos", "killer",
						    "persistence"};
		for (size_t k = 0; k < LIB_ARRAY_LEN(flags); k++)
			json_object_set_new(row, flags[k], json_boolean(flag(v, flags[k])));
		json_array_append_new(rows, row);
		json_decref(v);
	}
	sqlite3_finalize(q);
	*out = rows;
	return 0;
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int box_report_summary(struct core_store *st, json_t **out)
{
	*out = NULL;
	sqlite3_stmt *q;
	int rc = prepare_latest(st, "SELECT seconds, dynamic", "", &q);
	if (rc)
		return rc;
	size_t n = 0, cap = 256, dynamic = 0, under = 0;
	double *secs = xmalloc(cap * sizeof(double));
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			secs = xrealloc(secs, cap * sizeof(double));
		}
		secs[n] = sqlite3_column_double(q, 0);
		dynamic += sqlite3_column_int(q, 1) != 0;
		under += secs[n] < 60;
		n++;
	}
	sqlite3_finalize(q);
	qsort(secs, n, sizeof(double), by_double);
	double median = n == 0 ? 0 : n % 2 ? secs[n / 2] : (secs[n / 2 - 1] + secs[n / 2]) / 2;
	*out = json_pack("{s:I,s:I,s:f,s:f,s:I}", "analysed", (json_int_t)n, "dynamic",
			 (json_int_t)dynamic, "median_seconds", median, "max_seconds",
			 n ? secs[n - 1] : 0.0, "under_minute", (json_int_t)under);
	free(secs);
	return 0;
}
