/* Unit tests of the sample store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture/capture.h"

static int events_seen, dups_seen;
static bool last_duplicate;

static void on_event(void *arg, const struct core_ev *ev)
{
	if (ev->id != EV_SAMPLE_STORED)
		return;
	events_seen++;
	last_duplicate = json_is_true(core_ev_get(ev, "duplicate"));
	dups_seen += last_duplicate;
}

struct result {
	int calls, status;
	struct capture_sample s;
};

static void on_stored(void *arg, int status, const struct capture_sample *s,
		      const struct capture_origin *o)
{
	struct result *r = arg;
	r->calls++;
	r->status = status;
	r->s = *s;
	assert_string_equal(o->source, "upload");
}

/* A store, a bus and a sample store on a loop of the test's own. */
struct env {
	char dir[64];
	struct core_config cfg;
	uv_loop_t loop;
	struct core_store st;
	struct core_bus *bus;
	struct capture_samples *cs;
};

static void env_open(struct env *e)
{
	snprintf(e->dir, sizeof(e->dir), "/tmp/mitsu-samples-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	core_config_init(&e->cfg);
	char err[128];
	core_config_set(&e->cfg, OPT_CORE_DATA_DIR, e->dir, false, err, sizeof(err));
	uv_loop_init(&e->loop);
	assert_int_equal(core_store_open(&e->st, e->dir, false), 0);
	assert_int_equal(core_store_watch(&e->st, &e->loop), 0);
	e->bus = core_bus_open(&e->cfg, &e->st);
	core_bus_subscribe(e->bus, on_event, NULL);
	assert_int_equal(capture_samples_open(&e->cs, &e->loop, &e->st, e->bus), 0);
	events_seen = dups_seen = 0;
}

static void env_close(struct env *e)
{
	capture_samples_close(e->cs);
	core_store_unwatch(&e->st);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	core_bus_close(e->bus);
	core_store_close(&e->st);
	assert_int_equal(uv_loop_close(&e->loop), 0);
	core_config_free(&e->cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	assert_int_equal(system(cmd), 0);
}

/* One row of `SELECT ...` through a reader, as a number. */
static long long query_int(const char *dir, const char *sql)
{
	struct core_store rd;
	assert_int_equal(core_store_open(&rd, dir, true), 0);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(rd.db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	long long v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	core_store_close(&rd);
	return v;
}

static void test_put_twice(void **state)
{
	struct env e;
	env_open(&e);
	/* A minimal big-endian MIPS ELF header. */
	uint8_t elf[52] = {0x7f, 'E', 'L', 'F', 1, 2, 1};
	elf[18] = 0;
	elf[19] = 8;
	struct result r = {0};
	struct capture_put put = {
		.data = elf,
		.len = sizeof(elf),
		.origin = {.source = "upload", .method = "echo", .src_ip = "192.0.2.7"},
		.cb = on_stored,
		.arg = &r};
	assert_int_equal(capture_sample_put(e.cs, &put), 0);
	assert_int_equal(r.calls, 0); /* never from inside the put */
	uv_run(&e.loop, UV_RUN_DEFAULT);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 0);
	assert_false(r.s.duplicate);
	assert_string_equal(r.s.arch, "mips");
	assert_string_equal(r.s.filetype, "elf");
	assert_int_equal(events_seen, 1);
	assert_int_equal(capture_sample_put(e.cs, &put), 0);
	uv_run(&e.loop, UV_RUN_DEFAULT);
	assert_int_equal(r.calls, 2);
	assert_true(r.s.duplicate);
	assert_true(last_duplicate);

	char *path = capture_sample_path(e.dir, r.s.sha256);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0400);
	assert_int_equal(sb.st_size, 52);
	free(path);
	/* Stored before the callback: a reader sees the rows once it is called. */
	assert_int_equal(query_int(e.dir, "SELECT times_seen FROM samples"), 2);
	assert_int_equal(query_int(e.dir, "SELECT count(*) FROM sample_sources"), 2);
	env_close(&e);
}

/* Many puts of one file at once (hashed in parallel on the thread pool): exactly one is new,
 * every one is counted. */
static void test_put_concurrent(void **state)
{
	struct env e;
	env_open(&e);
	enum { N = 64 };
	static uint8_t data[200000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	struct result r[N] = {0};
	for (int i = 0; i < N; i++) {
		struct capture_put put = {.data = data,
					  .len = sizeof(data),
					  .mode = CAPTURE_DATA_BORROW,
					  .origin = {.source = "upload"},
					  .cb = on_stored,
					  .arg = &r[i]};
		assert_int_equal(capture_sample_put(e.cs, &put), 0);
	}
	assert_int_equal(capture_samples_pending(e.cs), N);
	uv_run(&e.loop, UV_RUN_DEFAULT);
	int fresh = 0;
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, 0);
		fresh += !r[i].s.duplicate;
	}
	assert_int_equal(fresh, 1);
	assert_int_equal(events_seen, N);
	assert_int_equal(dups_seen, N - 1);
	assert_int_equal(capture_samples_pending(e.cs), 0);
	assert_int_equal(query_int(e.dir, "SELECT times_seen FROM samples"), N);
	env_close(&e);
}

/* A sensor killed while writing a sample leaves a temporary file; the next start removes it,
 * and no sample ever has its final name before it is complete. */
static void test_temporaries_removed(void **state)
{
	struct env e;
	env_open(&e);
	char *sub = xasprintf("%s/samples/ab", e.dir);
	assert_int_equal(lib_mkdirs(sub, 0750), 0);
	char *tmp = xasprintf("%s/%s.tmp.Xy12Zq", sub,
			      "abababababababababababababababababababababababababababababababab");
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("half", f);
	fclose(f);
	capture_samples_close(e.cs);
	assert_int_equal(capture_samples_open(&e.cs, &e.loop, &e.st, e.bus), 0);
	struct stat sb;
	assert_int_not_equal(stat(tmp, &sb), 0);
	free(tmp);
	free(sub);
	env_close(&e);
}

static void test_elf_arch_names(void **state)
{
	static const struct {
		int cls, data, machine;
		const char *name;
	} cases[] = {
		{1, 1, 40, "arm"},    {1, 2, 8, "mips"},      {1, 1, 8, "mipsel"},
		{1, 2, 20, "ppc"},    {1, 1, 42, "sh4"},      {1, 1, 3, "i386"},
		{2, 1, 62, "x86_64"}, {2, 1, 183, "aarch64"}, {2, 2, 8, "mips64"},
		{1, 2, 2, "sparc"},   {1, 2, 4, "m68k"},      {1, 2, 40, "armeb"},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cases); i++) {
		uint8_t h[64] = {0x7f, 'E', 'L', 'F', (uint8_t)cases[i].cls, (uint8_t)cases[i].data,
				 1};
		if (cases[i].data == 2)
			h[19] = (uint8_t)cases[i].machine;
		else
			h[18] = (uint8_t)cases[i].machine;
		char out[16];
		assert_int_equal(capture_elf_arch(h, sizeof(h), out), 0);
		assert_string_equal(out, cases[i].name);
	}
	char out[16];
	assert_int_not_equal(capture_elf_arch((const uint8_t *)"#!/bin/sh", 9, out), 0);
}

static void test_file_types(void **state)
{
	char t[24];
	capture_file_type((const uint8_t *)"#!/bin/sh\nwget x\n", 17, t);
	assert_string_equal(t, "script");
	capture_file_type((const uint8_t *)"cd /tmp; wget http://x/y\n", 25, t);
	assert_string_equal(t, "text");
	capture_file_type((const uint8_t *)"\n<HTML><body>", 13, t);
	assert_string_equal(t, "html");
	capture_file_type((const uint8_t *)"\x01\x02\x03", 3, t);
	assert_string_equal(t, "data");
}

/* The per-method counts the triggers keep (sample_methods) equal the raw count(DISTINCT) over
 * sample_sources after inserts (NULL source, method and address among them), deletes, and on a
 * store whose rows were written before the triggers existed (counted once at open). */
static const char methods_raw[] =
	"SELECT group_concat(k, ';') FROM (SELECT ifnull(source, '?') || '/' || ifnull(method, "
	"'?') || ':' || count(DISTINCT sha256) || ',' || count(DISTINCT src_ip) || ',' || "
	"count(*) AS k FROM sample_sources GROUP BY ifnull(source, '?'), ifnull(method, '?') "
	"ORDER BY 1)";
static const char methods_kept[] =
	"SELECT group_concat(k, ';') FROM (SELECT source || '/' || method || ':' || samples || ',' "
	"|| hosts || ',' || sources AS k FROM sample_methods WHERE sources > 0 ORDER BY 1)";

static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	const char *t = (const char *)sqlite3_column_text(q, 0);
	char *out = strdup(t ? t : "");
	sqlite3_finalize(q);
	return out;
}

static void assert_methods_exact(sqlite3 *db)
{
	char *raw = query_text(db, methods_raw), *kept = query_text(db, methods_kept);
	assert_string_equal(kept, raw);
	free(raw);
	free(kept);
}

/* n sources: 7 samples, 5 addresses (one NULL), 4 methods (one NULL), 3 sources. */
static void insert_sources(sqlite3 *db, int n, int seed)
{
	static const char *const sources[] = {"download", "upload", NULL};
	static const char *const methods[] = {"wget", "tftp", "echo", NULL};
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "INSERT INTO sample_sources(sha256, seen, source, "
					    "method, src_ip) VALUES (?1, ?2, ?3, ?4, ?5)",
					    -1, &q, NULL),
			 SQLITE_OK);
	for (int i = 0; i < n; i++) {
		int k = i * 7 + seed;
		char sha[16], ip[32];
		snprintf(sha, sizeof(sha), "s%d", k % 7);
		snprintf(ip, sizeof(ip), "127.0.0.%d", k % 5);
		sqlite3_bind_text(q, 1, sha, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, "2026-01-01T00:00:00.000000Z", -1, SQLITE_STATIC);
		const char *src = sources[k % 3], *m = methods[(k / 3) % 4];
		if (src)
			sqlite3_bind_text(q, 3, src, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(q, 3);
		if (m)
			sqlite3_bind_text(q, 4, m, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(q, 4);
		if (k % 5)
			sqlite3_bind_text(q, 5, ip, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(q, 5);
		assert_int_equal(sqlite3_step(q), SQLITE_DONE);
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
}

static void test_method_counts(void **state)
{
	(void)state;
	struct env e;
	/* Rows written under the layout before the triggers: a store of its own first. */
	char old[64];
	snprintf(old, sizeof(old), "/tmp/mitsu-samples-XXXXXX");
	assert_non_null(mkdtemp(old));
	char *path = xasprintf("%s/mitsu.db", old);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "CREATE TABLE sample_sources (id INTEGER PRIMARY KEY, sha256 "
			     "TEXT NOT NULL, seen TEXT NOT NULL, source TEXT, method TEXT,"
			     " url TEXT, src_ip TEXT, session TEXT, destfile TEXT);"
			     "CREATE INDEX sample_sources_sha256 ON sample_sources(sha256);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	insert_sources(db, 100, 1);
	sqlite3_close(db);
	env_open(&e);
	/* The env's store is new; the old one opened through a sample store of its own. */
	struct core_store st;
	struct capture_samples *cs;
	assert_int_equal(core_store_open(&st, old, false), 0);
	assert_int_equal(capture_samples_open(&cs, &e.loop, &st, e.bus), 0);
	capture_samples_close(cs);
	core_store_close(&st);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_methods_exact(db);
	assert_int_equal(query_int(old, "SELECT count(*) FROM sqlite_master WHERE name = "
					"'sample_sources_sha256'"),
			 0);
	/* The index of the URLs' hosts (mitsu ip) is made for the rows already there. */
	assert_int_equal(query_int(old, "SELECT count(*) FROM sqlite_master WHERE name = "
					"'sample_sources_url_host'"),
			 1);
	/* Later rows through the triggers, then some removed. */
	insert_sources(db, 300, 2);
	assert_methods_exact(db);
	assert_int_equal(
		sqlite3_exec(db, "DELETE FROM sample_sources WHERE id % 3 = 0", NULL, NULL, NULL),
		SQLITE_OK);
	assert_methods_exact(db);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM sample_sources", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_methods_exact(db);
	char *left = query_text(db, "SELECT group_concat(source) FROM sample_methods WHERE "
				    "samples + hosts + sources != 0");
	assert_string_equal(left, "");
	free(left);
	sqlite3_close(db);
	free(path);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", old);
	assert_int_equal(system(cmd), 0);
	/* The new store: rows only through the triggers. */
	path = xasprintf("%s/mitsu.db", e.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	insert_sources(db, 200, 3);
	assert_methods_exact(db);
	sqlite3_close(db);
	free(path);
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_twice),      cmocka_unit_test(test_method_counts),
		cmocka_unit_test(test_put_concurrent), cmocka_unit_test(test_temporaries_removed),
		cmocka_unit_test(test_elf_arch_names), cmocka_unit_test(test_file_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
