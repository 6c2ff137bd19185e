/* Unit tests of report_ip (src/report/ip.c): the samples an address delivered or served, found
 * through sample_sources_url_host (CORE_URL_HOST) without reading the other rows, and the
 * credentials, commands and files of its latest sessions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"

static const char schema[] =
	"CREATE TABLE events (id INTEGER PRIMARY KEY, eventid TEXT NOT NULL, timestamp TEXT NOT "
	"NULL, session TEXT, src_ip TEXT, json TEXT NOT NULL);"
	"CREATE INDEX events_eventid ON events(eventid);"
	"CREATE INDEX events_session ON events(session);"
	"CREATE TABLE sessions (sensor TEXT, session TEXT, protocol TEXT, profile TEXT, src_ip "
	"TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER, start TEXT, end TEXT, duration "
	"REAL, login INTEGER NOT NULL DEFAULT 0, username TEXT, password TEXT, login_failures "
	"INTEGER NOT NULL DEFAULT 0, commands INTEGER NOT NULL DEFAULT 0, downloads INTEGER NOT "
	"NULL DEFAULT 0, uploads INTEGER NOT NULL DEFAULT 0, reason TEXT, PRIMARY KEY (sensor, "
	"session));"
	"CREATE INDEX sessions_src_start ON sessions(src_ip, start);"
	"CREATE TABLE sample_sources (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, seen TEXT NOT "
	"NULL, source TEXT, method TEXT, url TEXT, src_ip TEXT, session TEXT, destfile TEXT);"
	"CREATE INDEX sample_sources_src_ip ON sample_sources(src_ip, source, method);"
	"CREATE INDEX sample_sources_url_host ON sample_sources(" CORE_URL_HOST("url") ");";

static sqlite3 *open_db(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema, NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

/* report_ip's JSON for addr; the caller frees the context. */
static void ip_of(struct report_ctx *c, sqlite3 *db, const char *addr)
{
	report_ctx_init(c, NULL);
	c->db = db;
	assert_int_equal(report_ip(c, addr, NULL), 0);
}

/* The role of the ip_samples row whose URL is url, or NULL. */
static const char *role_of(const struct report_ctx *c, const char *url)
{
	const json_t *rows = json_object_get(json_object_get(c->json, "ip_samples"), "rows");
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r) {
		const char *u = json_string_value(json_object_get(r, "URL"));
		if (u && strcmp(u, url) == 0)
			return json_string_value(json_object_get(r, "role"));
	}
	return NULL;
}

static size_t samples_of(const struct report_ctx *c)
{
	return json_array_size(json_object_get(json_object_get(c->json, "ip_samples"), "rows"));
}

/* The host of every form of URL a download comes by; an address that is only a part of
 * another host is not it. */
static void test_ip_samples_served(void **state)
{
	(void)state;
	sqlite3 *db = open_db();
	exec(db, "INSERT INTO sample_sources(sha256, seen, source, method, url, src_ip) VALUES"
		 " ('a', '2026-01-01T00:00:01Z', 'telnet', 'wget', 'http://10.0.0.2/x.sh', "
		 "'10.0.0.1'),"
		 " ('b', '2026-01-01T00:00:02Z', 'telnet', 'tftp', 'tftp://u:p@10.0.0.1:69/y', "
		 "'10.0.0.1'),"
		 " ('c', '2026-01-01T00:00:03Z', 'telnet', 'wget', 'http://110.0.0.2/z', "
		 "'10.0.0.9'),"
		 " ('d', '2026-01-01T00:00:04Z', 'http', 'wget', 'http://[2001:DB8::1]:8080/m', "
		 "'10.0.0.9'),"
		 " ('e', '2026-01-01T00:00:05Z', 'telnet', 'wget', 'http://10.0.0.2?f=1', "
		 "'10.0.0.9'),"
		 " ('f', '2026-01-01T00:00:06Z', 'telnet', 'wget', 'http://10.0.0.22:80/q', "
		 "'10.0.0.9'),"
		 " ('g', '2026-01-01T00:00:07Z', 'telnet', 'echo', NULL, '10.0.0.2'),"
		 " ('h', '2026-01-01T00:00:08Z', 'telnet', 'wget', 'see 10.0.0.2/x', '10.0.0.9');");
	struct report_ctx c;
	ip_of(&c, db, "10.0.0.2");
	assert_int_equal(samples_of(&c), 3);
	assert_string_equal(role_of(&c, "http://10.0.0.2/x.sh"), "served (download server)");
	assert_string_equal(role_of(&c, "http://10.0.0.2?f=1"), "served (download server)");
	/* Newest first; the row without a URL is what it delivered. */
	const json_t *rows = json_object_get(json_object_get(c.json, "ip_samples"), "rows");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "role")),
			    "delivered (attacker)");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "SHA-256")),
			    "g");
	report_ctx_free(&c);

	ip_of(&c, db, "10.0.0.1");
	assert_int_equal(samples_of(&c), 2);
	assert_string_equal(role_of(&c, "http://10.0.0.2/x.sh"), "delivered (attacker)");
	assert_string_equal(role_of(&c, "tftp://u:p@10.0.0.1:69/y"), "delivered and served");
	report_ctx_free(&c);

	/* Given in upper case, canonicalised; the URL's host in upper case too. */
	ip_of(&c, db, "2001:DB8:0::1");
	assert_int_equal(samples_of(&c), 1);
	assert_string_equal(role_of(&c, "http://[2001:DB8::1]:8080/m"), "served (download server)");
	report_ctx_free(&c);

	ip_of(&c, db, "110.0.0.2");
	assert_int_equal(samples_of(&c), 1);
	report_ctx_free(&c);
	sqlite3_close(db);
}

static int count_steps(void *arg)
{
	(*(long *)arg)++;
	return 0;
}

/* SQLite's virtual machine steps (in hundreds) of one report_ip. */
static long steps_of(sqlite3 *db, const char *addr)
{
	long n = 0;
	sqlite3_progress_handler(db, 100, count_steps, &n);
	struct report_ctx c;
	ip_of(&c, db, addr);
	assert_int_equal(samples_of(&c), 1);
	report_ctx_free(&c);
	sqlite3_progress_handler(db, 0, NULL, NULL);
	return n;
}

/* The samples it served are found through the index: 20,000 other URLs add (nearly) no work,
 * where reading each of them would add at least 20,000 steps of the virtual machine. */
static void test_ip_samples_indexed(void **state)
{
	(void)state;
	sqlite3 *db = open_db();
	exec(db, "INSERT INTO sample_sources(sha256, seen, source, method, url, src_ip) VALUES"
		 " ('a', '2026-01-01T00:00:01Z', 'telnet', 'wget', 'http://10.0.0.2/x.sh', "
		 "'10.0.0.1')");
	long before = steps_of(db, "10.0.0.2");
	exec(db, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)"
		 " INSERT INTO sample_sources(sha256, seen, source, method, url, src_ip) SELECT"
		 " printf('%064d', i), '2026-01-02T00:00:00Z', 'telnet', 'wget',"
		 " printf('http://10.%d.%d.3:%d/bins/x.arm', i / 256 % 256, i % 256, 80 + i % 3),"
		 " printf('10.1.%d.%d', i / 256 % 256, i % 256) FROM n");
	long after = steps_of(db, "10.0.0.2");
	print_message("steps (x100): %ld before, %ld after 20,000 other URLs\n", before, after);
	assert_true(after - before < 20);
	sqlite3_close(db);
}

/* The credentials, commands and files of its latest 1000 sessions, from their events; an
 * older session's events and another address's are not counted. */
static void test_ip_latest_events(void **state)
{
	(void)state;
	sqlite3 *db = open_db();
	/* 1200 sessions of 10.0.0.5, one a minute, and one of 10.0.0.6; each a failed and a
	 * successful login, a command and, every tenth, a download. Session 0 to 199 are older than
	 * the latest 1000 and their commands say "old". */
	exec(db, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1199)"
		 " INSERT INTO sessions(sensor, session, protocol, src_ip, dst_port, start, login,"
		 " commands, downloads) SELECT 'm', 's' || i, 'telnet', '10.0.0.5', 23,"
		 " printf('2026-01-01T%02d:%02d:00.000000Z', i / 60, i % 60), 1, 1, i % 10 = 0"
		 " FROM n;"
		 "INSERT INTO sessions(sensor, session, protocol, src_ip, dst_port, start) VALUES"
		 " ('m', 'other', 'telnet', '10.0.0.6', 23, '2026-01-02T00:00:00.000000Z');"
		 "INSERT INTO events(eventid, timestamp, session, src_ip, json) SELECT e.eventid,"
		 " s.start, s.session, s.src_ip, CASE e.eventid WHEN 'mitsu.command.input' THEN"
		 " json_object('input', CASE WHEN CAST(substr(s.session, 2) AS INTEGER) < 200 THEN"
		 " 'old' ELSE 'uname -a' END) WHEN 'mitsu.session.file_download' THEN"
		 " json_object('url', 'http://10.0.0.7/' || s.session, 'shasum', 'h' || s.session)"
		 " ELSE json_object('username', 'root', 'password', CASE e.eventid WHEN"
		 " 'mitsu.login.failed' THEN 'bad' ELSE 'xc3511' END) END FROM sessions s,"
		 " (SELECT 'mitsu.login.failed' AS eventid UNION ALL SELECT 'mitsu.login.success'"
		 " UNION ALL SELECT 'mitsu.command.input' UNION ALL SELECT"
		 " 'mitsu.session.file_download') e WHERE (e.eventid <> "
		 "'mitsu.session.file_download'"
		 " OR s.downloads = 1) ORDER BY s.start, e.eventid;");
	struct report_ctx c;
	ip_of(&c, db, "10.0.0.5");
	const json_t *h = json_object_get(c.json, "honeypot");
	assert_int_equal(json_integer_value(json_object_get(h, "sessions")), 1200);
	assert_int_equal(json_integer_value(json_object_get(h, "counted")), 1000);
	assert_int_equal(json_integer_value(json_object_get(h, "logins")), 1000);
	assert_int_equal(json_integer_value(json_object_get(h, "files")), 100);
	const json_t *cr = json_object_get(json_object_get(c.json, "ip_credentials"), "rows");
	assert_int_equal(json_array_size(cr), 2);
	for (size_t i = 0; i < 2; i++) {
		const json_t *r = json_array_get(cr, i);
		bool ok = strcmp(json_string_value(json_object_get(r, "password")), "xc3511") == 0;
		assert_int_equal(json_integer_value(json_object_get(r, "attempts")), 1000);
		assert_int_equal(json_integer_value(json_object_get(r, "accepted")), ok ? 1000 : 0);
	}
	const json_t *cm = json_object_get(json_object_get(c.json, "ip_commands"), "rows");
	assert_int_equal(json_array_size(cm), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cm, 0), "command")),
			    "uname -a");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(cm, 0), "times")), 1000);
	const json_t *dl = json_object_get(json_object_get(c.json, "ip_downloads"), "rows");
	assert_int_equal(json_array_size(dl), 100);
	/* Newest first: session 1190's. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(dl, 0), "URL")),
			    "http://10.0.0.7/s1190");

	/* The timeline: the events of its latest 100 sessions (1100 to 1199: three each, and a
	 * download in ten of them), newest first. */
	const json_t *tl = json_object_get(json_object_get(c.json, "timeline"), "rows");
	size_t honeypot = 0;
	size_t k;
	const json_t *e;
	json_array_foreach(tl, k, e) {
		if (strcmp(json_string_value(json_object_get(e, "part")), "honeypot") == 0)
			honeypot++;
	}
	assert_int_equal(honeypot, 310);
	assert_string_equal(json_string_value(json_object_get(json_array_get(tl, 0), "ref")),
			    "s1199");
	/* Without the temporary tables (a table of that name and another layout is in the way),
	 * the same answer from the queries themselves. */
	char *with = json_dumps(c.json, JSON_SORT_KEYS);
	report_ctx_free(&c);
	exec(db, "DROP TABLE temp.ip_latest; DROP TABLE temp.ip_events;"
		 " CREATE TEMP TABLE ip_latest (x); CREATE TEMP TABLE ip_events (x)");
	ip_of(&c, db, "10.0.0.5");
	char *without = json_dumps(c.json, JSON_SORT_KEYS);
	assert_string_equal(with, without);
	free(with);
	free(without);
	report_ctx_free(&c);
	exec(db, "DROP TABLE temp.ip_latest; DROP TABLE temp.ip_events");
	/* The other address: its one session's logins alone (the temporary table of the first
	 * address's events left nothing behind). */
	ip_of(&c, db, "10.0.0.6");
	cr = json_object_get(json_object_get(c.json, "ip_credentials"), "rows");
	assert_int_equal(json_array_size(cr), 2);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(
			json_integer_value(json_object_get(json_array_get(cr, i), "attempts")), 1);
	report_ctx_free(&c);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_samples_served),
		cmocka_unit_test(test_ip_samples_indexed),
		cmocka_unit_test(test_ip_latest_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
