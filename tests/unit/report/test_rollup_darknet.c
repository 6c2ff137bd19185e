/* Unit tests of the darknet's roll-up (src/report/rollup_darknet.c): over a generated store of
 * `mitsu scope` runs (half-hour intervals over ten days, later runs analysing some intervals
 * again, few ports and countries so that sums tie), the darknet section gives the same tables
 * and charts (JSON and HTML with the SVGs inline) from the roll-up as from the raw rows, over
 * random windows not on day bounds; also after new runs changed days the roll-up holds (before
 * the next catch-up: those days are read raw), after the catch-up, and after report.db is
 * deleted and rebuilt. On a dashboard page the per-interval table is paged (200 rows from the
 * context's offset, links to the others) while the charts keep the whole window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "report/report.h"

#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define DAYS 10
#define STEP 1800   /* seconds of an interval */
#define WINDOWS 40  /* random windows compared per check */
#define NPORTS 14   /* distinct ports */
#define NCC 6       /* distinct countries */
#define OFFSET 1234 /* the intervals' phase: no interval starts on a day */

/* The scope tables as src/scope/store.c makes them, the columns read. */
static const char store_schema[] =
	"CREATE TABLE scope_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL,"
	" finished TEXT, inputs TEXT NOT NULL, interval INTEGER NOT NULL, darknet TEXT NOT NULL,"
	" dark_size INTEGER, packets INTEGER, bytes INTEGER, first_ts TEXT, last_ts TEXT,"
	" unique_sources INTEGER, exact INTEGER, report TEXT);"
	"CREATE TABLE scope_intervals (run_id INTEGER NOT NULL, start TEXT NOT NULL, start_unix"
	" INTEGER NOT NULL, seconds INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT"
	" NULL, sources INTEGER NOT NULL, dark_hit INTEGER NOT NULL, tcp_syn INTEGER NOT NULL, udp"
	" INTEGER NOT NULL, icmp INTEGER NOT NULL, tcp_backscatter INTEGER NOT NULL, tcp_other"
	" INTEGER NOT NULL, other INTEGER NOT NULL, telnet INTEGER NOT NULL, mirai_sources INTEGER"
	" NOT NULL, mirai_packets INTEGER NOT NULL, zmap_sources INTEGER NOT NULL, zmap_packets"
	" INTEGER NOT NULL, masscan_sources INTEGER NOT NULL, masscan_packets INTEGER NOT NULL,"
	" backscatter_packets INTEGER NOT NULL, backscatter_victims INTEGER NOT NULL, scanners"
	" INTEGER NOT NULL, unix_sources INTEGER NOT NULL, windows_sources INTEGER NOT NULL,"
	" network_sources INTEGER NOT NULL, other_sources INTEGER NOT NULL, unknown_sources"
	" INTEGER NOT NULL, PRIMARY KEY (run_id, start_unix));"
	"CREATE INDEX scope_intervals_start ON scope_intervals(start_unix);"
	"CREATE TABLE scope_ports (run_id INTEGER NOT NULL, start_unix INTEGER NOT NULL, proto"
	" TEXT NOT NULL, port INTEGER NOT NULL, packets INTEGER NOT NULL, sources INTEGER NOT"
	" NULL, PRIMARY KEY (run_id, start_unix, proto, port));"
	"CREATE TABLE scope_countries (run_id INTEGER NOT NULL, start_unix INTEGER NOT NULL, cc"
	" TEXT NOT NULL, sources INTEGER NOT NULL, packets INTEGER NOT NULL, mirai_sources INTEGER"
	" NOT NULL, PRIMARY KEY (run_id, start_unix, cc));"
	"CREATE TABLE scope_os (run_id INTEGER NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL,"
	" sources INTEGER NOT NULL, PRIMARY KEY (run_id, kind, label));";

struct gen {
	char dir[64];
	sqlite3 *db;
	sqlite3_stmt *iv, *pt, *cc;
	uint64_t rng;
};

static uint32_t below(struct gen *g, uint32_t n)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return (uint32_t)(g->rng % n);
}

static void step(sqlite3_stmt *q)
{
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_reset(q);
}

/* One run analysing the intervals [from, to): every interval's rows, as mitsu scope writes
 * them (small counts: sums tie). */
static void run(struct gen *g, int64_t from, int64_t to)
{
	static const char *const ccs[NCC] = {"CN", "US", "JP", "BR", "RU", "DE"};
	assert_int_equal(sqlite3_exec(g->db,
				      "BEGIN; INSERT INTO scope_runs(started, inputs, interval, "
				      "darknet) VALUES ('x', '[]', " LIB_STR(STEP) ", '[]');",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	int64_t rid = sqlite3_last_insert_rowid(g->db);
	for (int64_t t = from; t < to; t += STEP) {
		if (below(g, 10) == 0)
			continue; /* an interval without packets is not stored */
		char start[LIB_RFC3339_LEN];
		struct timespec at = {.tv_sec = (time_t)t};
		lib_rfc3339(&at, start);
		int64_t pk = 10 + below(g, 20), src = 1 + below(g, 8);
		int64_t v[] = {rid,
			       0,
			       t,
			       STEP,
			       pk,
			       src,
			       below(g, 5) + pk / 3,
			       below(g, 4),
			       below(g, 3),
			       below(g, 2),
			       1 + below(g, 3)};
		for (int i = 0; i < 11; i++)
			if (i != 1)
				sqlite3_bind_int64(g->iv, i + 1, v[i]);
		sqlite3_bind_text(g->iv, 2, start, -1, SQLITE_TRANSIENT);
		step(g->iv);
		for (int p = 0; p < NPORTS; p++) {
			if (below(g, 3) == 0)
				continue;
			sqlite3_bind_int64(g->pt, 1, rid);
			sqlite3_bind_int64(g->pt, 2, t);
			sqlite3_bind_text(g->pt, 3, p % 4 == 3 ? "udp" : "tcp", -1, SQLITE_STATIC);
			sqlite3_bind_int(g->pt, 4, p == 0 ? 23 : p == 1 ? 2323 : 1000 + p);
			sqlite3_bind_int64(g->pt, 5, 1 + below(g, 4));
			sqlite3_bind_int64(g->pt, 6, 1 + below(g, 2));
			step(g->pt);
		}
		for (int k = 0; k < NCC; k++) {
			if (below(g, 2) == 0)
				continue;
			sqlite3_bind_int64(g->cc, 1, rid);
			sqlite3_bind_int64(g->cc, 2, t);
			sqlite3_bind_text(g->cc, 3, ccs[k], -1, SQLITE_STATIC);
			sqlite3_bind_int64(g->cc, 4, 1 + below(g, 3));
			sqlite3_bind_int64(g->cc, 5, 1 + below(g, 5));
			sqlite3_bind_int64(g->cc, 6, below(g, 2));
			step(g->cc);
		}
	}
	assert_int_equal(sqlite3_exec(g->db,
				      "INSERT INTO scope_os SELECT max(id), 'family', 'unix', 3"
				      " FROM scope_runs; COMMIT",
				      NULL, NULL, NULL),
			 SQLITE_OK);
}

static void gen_open(struct gen *g)
{
	memset(g, 0, sizeof(*g));
	g->rng = 0x2545f4914f6cdd1dull;
	lib_strlcpy(g->dir, "/tmp/mitsu-dnroll-XXXXXX", sizeof(g->dir));
	assert_non_null(mkdtemp(g->dir));
	char *path = core_data_path(g->dir, "mitsu.db");
	assert_int_equal(sqlite3_open(path, &g->db), SQLITE_OK);
	free(path);
	assert_int_equal(sqlite3_exec(g->db, store_schema, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(g->db,
				   "INSERT INTO scope_intervals VALUES (?1, ?2, ?3, ?4, ?5,"
				   " 0, ?6, 0, 0, 0, 0, 0, 0, 0, ?7, ?8, 0, 0, 0, 0, 0, ?9,"
				   " 1, 0, ?10, 1, 1, ?11, 0)",
				   -1, &g->iv, NULL),
		SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(g->db, "INSERT INTO scope_ports VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				   -1, &g->pt, NULL),
		SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(g->db,
				   "INSERT INTO scope_countries VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				   -1, &g->cc, NULL),
		SQLITE_OK);
}

static void remove_rollup(const char *dir)
{
	static const char *const files[] = {"report.db", "report.db-wal", "report.db-shm"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(files); i++) {
		char *p = core_data_path(dir, files[i]);
		unlink(p);
		free(p);
	}
}

static void gen_close(struct gen *g)
{
	sqlite3_finalize(g->iv);
	sqlite3_finalize(g->pt);
	sqlite3_finalize(g->cc);
	sqlite3_close(g->db);
	if (getenv("MITSU_TEST_KEEP"))
		return;
	remove_rollup(g->dir);
	char *p = core_data_path(g->dir, "mitsu.db");
	unlink(p);
	free(p);
	rmdir(g->dir);
}

static sqlite3 *reader(const char *dir)
{
	char *path = core_data_path(dir, "mitsu.db");
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	free(path);
	assert_true(report_rollup_attach(db, dir));
	return db;
}

/* The darknet section's JSON and HTML (its charts inline) over a window, from the roll-up or
 * raw. *days: the roll-up's days the window used. */
static char *answer(sqlite3 *db, int64_t since, int64_t until, bool raw, int *days)
{
	struct report_ctx c;
	report_ctx_init(&c, NULL);
	c.db = db;
	c.raw_only = raw;
	struct buf html;
	buf_init(&html, 0);
	c.html = &html;
	report_ctx_window_unix(&c, since, until);
	if (days) {
		assert_true(report_dn_window(&c));
		sqlite3_stmt *q;
		assert_int_equal(
			sqlite3_prepare_v2(db, "SELECT count(*) FROM temp.dn_ok", -1, &q, NULL),
			SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		*days = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	report_section_darknet.build(&c);
	char *j = json_dumps(c.json, JSON_SORT_KEYS);
	char *s = xasprintf("%s\n%.*s", j, (int)html.len, html.len ? (const char *)html.data : "");
	free(j);
	buf_free(&html);
	report_ctx_free(&c);
	return s;
}

/* A random window: open ends sometimes, never on a day or an interval bound. */
static void window(struct gen *g, int64_t *since, int64_t *until)
{
	int64_t a = T0 - 86400 + below(g, (DAYS + 2) * 86400);
	int64_t b = T0 - 86400 + below(g, (DAYS + 2) * 86400);
	*since = below(g, 6) == 0 ? INT64_MIN : (a < b ? a : b);
	*until = below(g, 6) == 0 ? INT64_MAX : (a < b ? b : a) + 1;
}

/* WINDOWS random windows and all time give the same answers both ways; returns how many used
 * days of the roll-up. */
static int check_windows(struct gen *g)
{
	sqlite3 *db = reader(g->dir);
	int used = 0;
	for (int i = 0; i <= WINDOWS; i++) {
		int64_t s = INT64_MIN, u = INT64_MAX;
		if (i < WINDOWS)
			window(g, &s, &u);
		int days;
		char *roll = answer(db, s, u, false, &days), *raw = answer(db, s, u, true, NULL);
		if (strcmp(roll, raw) != 0)
			fail_msg("window [%lld, %lld): roll-up and raw differ:\n%s\n%s",
				 (long long)s, (long long)u, roll, raw);
		used += days > 0;
		free(roll);
		free(raw);
	}
	sqlite3_close(db);
	return used;
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

static void test_darknet_rollup_matches_raw(void **state)
{
	(void)state;
	struct gen g;
	gen_open(&g);
	/* Two runs over the first days, the second analysing part of the first's intervals
	 * again; the roll-up built; windows compared. */
	run(&g, T0 + OFFSET, T0 + OFFSET + 6 * 86400);
	run(&g, T0 + OFFSET + 4 * 86400 + 7 * STEP, T0 + OFFSET + 7 * 86400);
	assert_int_equal(report_rollup_catchup(g.dir, NULL), 0); /* no events: no hours */
	char *path = core_data_path(g.dir, "report.db");
	sqlite3 *r;
	assert_int_equal(sqlite3_open(path, &r), SQLITE_OK);
	free(path);
	assert_true(count(r, "SELECT count(*) FROM report_dn_days") >= 7);
	assert_true(check_windows(&g) > 0);
	/* New runs change rolled-up days (one analyses day 2 again, one adds days): before the
	 * next catch-up those days are read raw, the others still from the roll-up. */
	run(&g, T0 + OFFSET + 2 * 86400 + 5 * STEP, T0 + OFFSET + 2 * 86400 + 9 * STEP);
	run(&g, T0 + OFFSET + 6 * 86400 + 3 * STEP, T0 + OFFSET + DAYS * 86400);
	assert_true(check_windows(&g) > 0);
	assert_int_equal(report_rollup_catchup(g.dir, NULL), 0);
	int64_t days = count(r, "SELECT count(*) FROM report_dn_days");
	assert_true(days >= DAYS);
	assert_true(check_windows(&g) > 0);
	/* The roll-up equals the store: every interval's latest run's port rows. */
	assert_int_equal(count(r, "SELECT sum(packets) FROM report_dn_ports"),
			 count(r, "SELECT sum(packets) FROM report_dn_series"));
	sqlite3_close(r);
	/* Deleted, it is rebuilt with the same days and answers. */
	remove_rollup(g.dir);
	assert_int_equal(report_rollup_catchup(g.dir, NULL), 0);
	assert_true(check_windows(&g) > 0);
	gen_close(&g);
}

/* The darknet section as a dashboard page at offset off (or a report: off < 0): its JSON,
 * and its HTML in *html. */
static json_t *page(sqlite3 *db, int off, const char *url, char **html)
{
	struct report_ctx c;
	report_ctx_init(&c, NULL);
	c.db = db;
	struct buf h;
	buf_init(&h, 0);
	c.html = &h;
	c.dashboard = off >= 0;
	c.offset = off;
	c.page_url = url;
	report_section_darknet.build(&c);
	json_t *j = json_incref(c.json);
	*html = (char *)buf_steal(&h, NULL);
	report_ctx_free(&c);
	return j;
}

static json_t *table_rows(json_t *page, const char *key)
{
	return json_object_get(json_object_get(page, key), "rows");
}

static void test_darknet_paged(void **state)
{
	(void)state;
	struct gen g;
	gen_open(&g);
	run(&g, T0 + OFFSET, T0 + OFFSET + DAYS * 86400);
	assert_int_equal(report_rollup_catchup(g.dir, NULL), 0);
	sqlite3 *db = reader(g.dir);
	char *rhtml;
	json_t *report = page(db, -1, NULL, &rhtml);
	json_t *all = table_rows(report, "darknet");
	size_t total = json_array_size(all);
	assert_true(total > 400 && total < 600); /* three pages */
	assert_null(json_object_get(report, "darknet_total"));
	assert_null(strstr(rhtml, "class=\"pages\""));
	/* Each page: its rows of the report's table, the count, the links; the charts and the
	 * other tables as on the report. A hostile URL is escaped in the links. */
	const char *url = "/darknet?window=\"><b>&";
	int offs[] = {0, 200, 400, (int)total - 1, (int)total, 1000000};
	for (size_t k = 0; k < LIB_ARRAY_LEN(offs); k++) {
		int off = offs[k];
		char *html;
		json_t *p = page(db, off, url, &html);
		json_t *rows = table_rows(p, "darknet");
		size_t want = (size_t)off < total ? total - (size_t)off : 0;
		want = want > 200 ? 200 : want;
		assert_int_equal(json_array_size(rows), want);
		for (size_t i = 0; i < want; i++)
			assert_true(json_equal(json_array_get(rows, i),
					       json_array_get(all, (size_t)off + i)));
		assert_int_equal(json_integer_value(json_object_get(p, "darknet_total")), total);
		assert_int_equal(json_integer_value(json_object_get(p, "darknet_offset")), off);
		assert_int_equal(json_integer_value(json_object_get(p, "darknet_page")), 200);
		assert_true(json_equal(table_rows(p, "darknet_ports"),
				       table_rows(report, "darknet_ports")));
		assert_int_equal(json_array_size(json_object_get(p, "charts")), 4);
		const char *note =
			json_string_value(json_object_get(json_object_get(p, "darknet"), "note"));
		assert_non_null(note);
		char head[64];
		if (want)
			snprintf(head, sizeof(head), "intervals %d to %zu of %zu", off + 1,
				 (size_t)off + want, total);
		else
			snprintf(head, sizeof(head), "no intervals past %d of %zu", off, total);
		assert_true(strncmp(note, head, strlen(head)) == 0);
		/* Links: earlier unless on the first page (past the end: to the last page),
		 * later while rows follow. */
		char *earlier = NULL, *later = NULL;
		if (off > 0)
			earlier = xasprintf("/darknet?window=&quot;&gt;&lt;b&gt;&amp;offset=%d"
					    "#t-darknet\">earlier intervals</a>",
					    (size_t)off > total ? (int)((total - 1) / 200 * 200)
					    : off > 200         ? off - 200
								: 0);
		if ((size_t)off + 200 < total)
			later = xasprintf("/darknet?window=&quot;&gt;&lt;b&gt;&amp;offset=%d"
					  "#t-darknet\">later intervals</a>",
					  off + 200);
		if (earlier)
			assert_non_null(strstr(html, earlier));
		else
			assert_null(strstr(html, "earlier intervals"));
		if (later)
			assert_non_null(strstr(html, later));
		else
			assert_null(strstr(html, "later intervals"));
		assert_null(strstr(html, "<b>"));
		free(earlier);
		free(later);
		free(html);
		json_decref(p);
	}
	json_decref(report);
	free(rhtml);
	sqlite3_close(db);
	gen_close(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_darknet_rollup_matches_raw),
		cmocka_unit_test(test_darknet_paged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
