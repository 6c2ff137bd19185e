/* Unit tests of the roll-up (src/report/rollup.c, rollup_webui.c): over a generated store
 * (sessions and their events over three days, web honeypot events among them, some events
 * stored out of time order within REPORT_ID_SLACK), the overview, honeypot, devices and WebUI
 * sections give the same tables from the roll-up as from the raw rows, over random windows not on
 * hour bounds; after more events arrive (incremental catch-up); after report.db is deleted
 * (rebuilt); and when two catch-ups run at once (no hour counted twice). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "report/report.h"

#define T0 1767225600    /* 2026-01-01T00:00:00Z */
#define SPAN (3 * 86400) /* the store's time */
#define SESSIONS 1500    /* sessions generated over SPAN */
#define SOURCES 60       /* distinct source addresses: distinct counts matter */
#define LATE 200         /* seconds some events are stored late (under REPORT_ID_SLACK) */
#define WINDOWS 30       /* random windows compared per check */
#define STEPS 6          /* catch-ups while the store fills */
#define CUT_PAST 60      /* seconds past an hour a catch-up happens */

/* The store's tables as the sensor makes them (src/core/store_events.c), the columns read. */
static const char store_schema[] =
	"CREATE TABLE events (id INTEGER PRIMARY KEY, eventid TEXT NOT NULL, timestamp TEXT NOT "
	"NULL, session TEXT, src_ip TEXT, json TEXT NOT NULL);"
	"CREATE INDEX events_eventid ON events(eventid);"
	"CREATE TABLE sessions (sensor TEXT NOT NULL, session TEXT NOT NULL, protocol TEXT, "
	"profile TEXT, src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER, start TEXT, "
	"end TEXT, duration REAL, login INTEGER NOT NULL DEFAULT 0, username TEXT, password TEXT, "
	"login_failures INTEGER NOT NULL DEFAULT 0, commands INTEGER NOT NULL DEFAULT 0, downloads "
	"INTEGER NOT NULL DEFAULT 0, uploads INTEGER NOT NULL DEFAULT 0, reason TEXT, PRIMARY KEY "
	"(sensor, session));"
	"CREATE INDEX sessions_start ON sessions(start);";

struct gen {
	char dir[64];
	sqlite3 *db;
	sqlite3_stmt *ev, *ss;
	uint64_t rng;
	int next_session;
};

static uint32_t below(struct gen *g, uint32_t n)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return (uint32_t)(g->rng % n);
}

static void ts(int64_t t, char out[LIB_RFC3339_LEN])
{
	struct timespec at = {.tv_sec = (time_t)t};
	lib_rfc3339(&at, out);
}

/* One pending event: stored in order of `at` (its stored time), stamped `t`. */
struct pend {
	int64_t at, t;
	char eventid[48], session[20], src[16], json[256];
};

static int by_at(const void *a, const void *b)
{
	const struct pend *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

static void put_event(struct gen *g, const struct pend *p)
{
	char t[LIB_RFC3339_LEN];
	ts(p->t, t);
	sqlite3_bind_text(g->ev, 1, p->eventid, -1, SQLITE_STATIC);
	sqlite3_bind_text(g->ev, 2, t, -1, SQLITE_TRANSIENT);
	/* Events of no session (device identifications) have neither. */
	if (p->session[0]) {
		sqlite3_bind_text(g->ev, 3, p->session, -1, SQLITE_STATIC);
		sqlite3_bind_text(g->ev, 4, p->src, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(g->ev, 3);
		sqlite3_bind_null(g->ev, 4);
	}
	sqlite3_bind_text(g->ev, 5, p->json, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(g->ev), SQLITE_DONE);
	sqlite3_reset(g->ev);
}

static const char *const users[] = {"root", "admin", "<b>x</b>"};
static const char *const pwds[] = {"xc3511", "vizxv", "1234", "admin"};
static const char *const cmds[] = {"enable", "sh", "cat /proc/cpuinfo", "wget http://a/b"};

/* Web honeypot events of session number k (two sessions in three), from its source, stored
 * from t on, some of them late: requests, logins (some succeeding), WebUI actions (one with no
 * intent), exploit matches (one with no CVE), of two profiles or none. Drawn from the session's
 * number, not the generator's stream (the other events stay as they were). Returns them. */
static size_t web_events(int k, const char *src, const char *sid, int64_t t, struct pend *p)
{
	static const char *const profiles[] = {",\"profile\":\"ipcam\"", ",\"profile\":\"router\"",
					       ""};
	static const char *const actions[] = {
		"\"action\":\"status\",\"intent\":\"recon\",\"outcome\":\"reconnaissance\"",
		"\"action\":\"snapshot\",\"intent\":\"info_theft\",\"outcome\":\"peeping\"",
		"\"action\":\"dns\",\"intent\":\"setting_change\",\"outcome\":"
		"\"redirect_to_malicious_sites\"",
		"\"action\":\"odd\",\"outcome\":\"peeping\""};
	static const char *const exploits[] = {"\"signature\":\"gpon\",\"cve\":\"CVE-2018-10561\"",
					       "\"signature\":\"jaws\",\"cve\":null",
					       "\"signature\":\"hnap\",\"cve\":\"CVE-2015-2051\""};
	if (k % 3 == 0)
		return 0;
	size_t n = (size_t)(1 + k % 4);
	for (size_t j = 0; j < n; j++) {
		struct pend *e = &p[j];
		int v = (k / 3 + (int)j * 5) % 11;
		e->t = t + (int64_t)j * 7;
		e->at = e->t + ((k + (int)j) % 4 == 0 ? (k * 13 + (int)j) % LATE : 0);
		lib_strlcpy(e->session, sid, sizeof(e->session));
		lib_strlcpy(e->src, src, sizeof(e->src));
		const char *pr = profiles[(k / 3 + (int)j) % 3];
		lib_strlcpy(e->eventid,
			    v < 4   ? "mitsu.http.request"
			    : v < 6 ? "mitsu.http.login"
			    : v < 9 ? "mitsu.webui.action"
				    : "mitsu.exploit.match",
			    sizeof(e->eventid));
		if (v < 4)
			snprintf(e->json, sizeof(e->json), "{\"method\":\"GET\",\"uri\":\"/%d\"%s}",
				 v, pr);
		else if (v < 6)
			snprintf(e->json, sizeof(e->json),
				 "{\"scheme\":\"basic\",\"username\":\"admin\",\"success\":%s%s}",
				 (k + (int)j) % 3 == 0 ? "true" : "false", pr);
		else if (v < 9)
			snprintf(e->json, sizeof(e->json), "{%s%s}", actions[(k + (int)j) % 4], pr);
		else
			snprintf(e->json, sizeof(e->json), "{%s%s}", exploits[(k / 2 + (int)j) % 3],
				 pr);
	}
	return n;
}

/* One session starting at t: its events (appended to p) and its sessions row. */
static size_t session(struct gen *g, int64_t t, struct pend *p)
{
	size_t n = 0;
	char sid[20], src[16];
	int64_t t0 = t;
	snprintf(sid, sizeof(sid), "%016x", g->next_session++);
	snprintf(src, sizeof(src), "10.0.0.%u", below(g, SOURCES));
	const char *profile = below(g, 2) ? "dvr" : "cam";
	int fails = (int)below(g, 3), login = below(g, 2), ncmd = login ? (int)below(g, 4) : 0;
	int dl = ncmd && below(g, 2);
	int64_t at = t;
	for (int k = 0; k < 2 + fails + login + ncmd + dl; k++, at += 1 + below(g, 40)) {
		struct pend *e = &p[n++];
		e->t = at;
		e->at = at + (below(g, 3) == 0 ? below(g, LATE) : 0);
		lib_strlcpy(e->session, sid, sizeof(e->session));
		lib_strlcpy(e->src, src, sizeof(e->src));
		const char *id = k == 0                           ? "mitsu.session.connect"
				 : k <= fails                     ? "mitsu.login.failed"
				 : k <= fails + login             ? "mitsu.login.success"
				 : k <= fails + login + ncmd      ? "mitsu.command.input"
				 : k <= fails + login + ncmd + dl ? "mitsu.session.file_download"
								  : "mitsu.session.closed";
		lib_strlcpy(e->eventid, id, sizeof(e->eventid));
		snprintf(e->json, sizeof(e->json),
			 "{\"username\":\"%s\",\"password\":\"%s\",\"input\":\"%s\",\"url\":"
			 "\"http://h/%u\",\"shasum\":\"%02x\"}",
			 users[below(g, 3)], pwds[below(g, 4)], cmds[below(g, 4)], below(g, 3),
			 below(g, 200));
	}
	/* Every 7th session, a device identification: of its source (an attacker) or of an
	 * address that never attacked, identified or not, the host results given again later
	 * (the latest counts). Drawn from the session's number, not the generator's stream. */
	int k = g->next_session;
	if (k % 7 == 0) {
		struct pend *e = &p[n++];
		e->t = e->at = at + 60;
		e->session[0] = e->src[0] = '\0';
		lib_strlcpy(e->eventid, "mitsu.ident.result", sizeof(e->eventid));
		static const char *const cats[] = {"dvr", "ip-camera", "router"};
		char host[16];
		if (k % 3)
			lib_strlcpy(host, src, sizeof(host));
		else
			snprintf(host, sizeof(host), "10.1.0.%d", k % 40);
		snprintf(e->json, sizeof(e->json),
			 "{\"host\":\"%s\",\"identified\":%s,\"answered\":%s,\"category\":"
			 "\"%s\",\"vendor\":\"v%d\",\"model\":\"m%d\"}",
			 host, k % 5 < 3 ? "true" : "false", k % 5 < 4 ? "true" : "false",
			 cats[k % 3], k % 4, k % 2);
	}
	n += web_events(g->next_session, src, sid, t0 + 5, p + n);
	char start[LIB_RFC3339_LEN];
	ts(t, start);
	sqlite3_bind_text(g->ss, 1, sid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(g->ss, 2, profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(g->ss, 3, src, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(g->ss, 4, below(g, 4) ? 23 : 2323);
	sqlite3_bind_text(g->ss, 5, start, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(g->ss, 6, login);
	sqlite3_bind_int(g->ss, 7, fails);
	sqlite3_bind_int(g->ss, 8, ncmd);
	sqlite3_bind_int(g->ss, 9, dl);
	assert_int_equal(sqlite3_step(g->ss), SQLITE_DONE);
	sqlite3_reset(g->ss);
	return n;
}

/* Sessions starting in [from, to): their rows stored, their events returned (*n of them) in
 * stored-time order. */
static struct pend *make(struct gen *g, int64_t from, int64_t to, int nsessions, size_t *n)
{
	struct pend *p = xcalloc((size_t)nsessions * 16, sizeof(*p));
	*n = 0;
	assert_int_equal(sqlite3_exec(g->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < nsessions; i++)
		*n += session(g, from + below(g, (uint32_t)(to - from)), p + *n);
	assert_int_equal(sqlite3_exec(g->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	qsort(p, *n, sizeof(*p), by_at);
	return p;
}

/* Stores the events p[from, to). */
static void put(struct gen *g, const struct pend *p, size_t from, size_t to)
{
	assert_int_equal(sqlite3_exec(g->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	for (size_t i = from; i < to; i++)
		put_event(g, &p[i]);
	assert_int_equal(sqlite3_exec(g->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

static void fill(struct gen *g, int64_t from, int64_t to, int nsessions)
{
	size_t n;
	struct pend *p = make(g, from, to, nsessions, &n);
	put(g, p, 0, n);
	free(p);
}

static void gen_open(struct gen *g)
{
	memset(g, 0, sizeof(*g));
	g->rng = 0x9e3779b97f4a7c15ull;
	lib_strlcpy(g->dir, "/tmp/mitsu-rollup-XXXXXX", sizeof(g->dir));
	assert_non_null(mkdtemp(g->dir));
	char *path = core_data_path(g->dir, "mitsu.db");
	assert_int_equal(sqlite3_open(path, &g->db), SQLITE_OK);
	free(path);
	assert_int_equal(sqlite3_exec(g->db, store_schema, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(g->db,
				   "INSERT INTO events(eventid, timestamp, session, src_ip,"
				   " json) VALUES (?1, ?2, ?3, ?4, ?5)",
				   -1, &g->ev, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(g->db,
					    "INSERT INTO sessions(sensor, session, protocol, "
					    "profile, src_ip, dst_port, start, login, "
					    "login_failures, commands, downloads) VALUES ('s', ?1, "
					    "'telnet', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
					    -1, &g->ss, NULL),
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
	if (getenv("MITSU_TEST_KEEP"))
		return;
	sqlite3_finalize(g->ev);
	sqlite3_finalize(g->ss);
	sqlite3_close(g->db);
	remove_rollup(g->dir);
	char *p = core_data_path(g->dir, "mitsu.db");
	unlink(p);
	free(p);
	rmdir(g->dir);
}

/* The overview's, honeypot's, devices' and WebUI's JSON over a window, from the roll-up or raw.
 * *rolled: whether the roll-up covered part of it; *paths: which of its tables answered
 * (PATH_*; PATH_WEB: the WebUI's roll-up, PATH_WEB_DAYS: with its day histogram). */
enum {
	PATH_EV_TAIL = 1,
	PATH_DAYS = 2,
	PATH_SOURCES = 4,
	PATH_SS_DAYS = 8,
	PATH_EV_WHOLE = 16,
	PATH_WEB = 32,
	PATH_WEB_DAYS = 64,
	PATH_ALL = 127
};

/* Whether the hours [h[0], h[1]) hold a whole UTC day. */
static bool whole_day(const int64_t h[2])
{
	int64_t d0 = (h[0] + REPORT_ROLLUP_DAY - 1) / REPORT_ROLLUP_DAY * REPORT_ROLLUP_DAY;
	return d0 + REPORT_ROLLUP_DAY <= h[1];
}

/* Rows of each top list when not 0: fewer than the store's keys and sources, so the top lists'
 * and the busiest sources' thresholds choose among them. */
static int top_rows;

static char *answer(sqlite3 *db, int64_t since, int64_t until, bool raw, int *rolled, int *paths)
{
	struct report_ctx c;
	report_ctx_init(&c, NULL);
	if (top_rows)
		c.top = top_rows;
	c.db = db;
	c.raw_only = raw;
	struct buf html; /* the charts are in the HTML only */
	buf_init(&html, 0);
	c.html = &html;
	report_ctx_window_unix(&c, since, until);
	report_section_overview.build(&c);
	report_section_honeypot.build(&c);
	report_section_ident.build(&c);
	report_section_webui.build(&c);
	if (rolled)
		*rolled = c.roll_events + 2 * c.roll_sessions;
	if (paths) /* which forms of the roll-up's queries were compared */
		*paths = (c.roll_ev_tail ? PATH_EV_TAIL : 0) |
			 (c.roll_ev_whole ? PATH_EV_WHOLE : 0) |
			 (c.roll_days[0] < c.roll_days[1] ? PATH_DAYS : 0) |
			 (report_rollup_sources(&c) ? PATH_SOURCES : 0) |
			 /* the busiest sources' per-day sums (report_src_day) */
			 (report_rollup_sources(&c) && whole_day(c.roll_ss) ? PATH_SS_DAYS : 0);
	if (paths) { /* the form the WebUI section read */
		int web = report_web_window(&c);
		assert_true(web >= 0);
		*paths |= (web & REPORT_WEB_ROLLED ? PATH_WEB : 0) |
			  (web & REPORT_WEB_DAYS ? PATH_WEB_DAYS : 0);
	}
	char *json = json_dumps(c.json, JSON_SORT_KEYS);
	buf_append_str(&html, json);
	free(json);
	c.html = NULL;
	char *s = (char *)buf_steal(&html, NULL);
	report_ctx_free(&c);
	return s;
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

/* A random window: open ends sometimes, seconds never on an hour. */
static void window(struct gen *g, int64_t end, int64_t *since, int64_t *until)
{
	int64_t a = T0 - 3600 + below(g, (uint32_t)(end - T0 + 7200));
	int64_t b = T0 - 3600 + below(g, (uint32_t)(end - T0 + 7200));
	*since = below(g, 8) == 0 ? INT64_MIN : (a < b ? a : b);
	*until = below(g, 4) == 0 ? INT64_MAX : (a < b ? b : a) + 1;
}

/* WINDOWS random windows and all time give the same answers both ways; some use the roll-up
 * of events alone, some of both; the forms in `need` (PATH_*) were each used. */
static void check_windows(struct gen *g, int64_t end, int need)
{
	sqlite3 *db = reader(g->dir);
	int rolled_n[4] = {0}, paths = 0;
	for (int i = 0; i <= WINDOWS + 1; i++) {
		int64_t s = INT64_MIN, u = INT64_MAX;
		if (i < WINDOWS)
			window(g, end, &s, &u);
		top_rows = i % 2 ? 3 : 0;
		int rolled, p;
		char *roll = answer(db, s, u, false, &rolled, &p),
		     *raw = answer(db, s, u, true, NULL, NULL);
		paths |= p;
		if (i == WINDOWS) /* all time holds web events: the WebUI section is compared */
			assert_non_null(strstr(raw, "\"hosts_login_success\""));
		if (strcmp(roll, raw) != 0)
			fail_msg("window [%lld, %lld): roll-up and raw differ:\n%s\n%s",
				 (long long)s, (long long)u, roll, raw);
		rolled_n[rolled]++;
		free(roll);
		free(raw);
	}
	top_rows = 0;
	/* Events rolled up alone, and both (sessions are rolled up a day later). */
	assert_true(rolled_n[1] > 0);
	assert_true(rolled_n[3] > 0);
	/* The windows reaching the roll-up's end (its per-source tables and their histograms)
	 * and holding a whole day (its day tables, of events and of sessions per source). */
	assert_int_equal(paths & need, need);
	sqlite3_close(db);
}

static void test_rollup_matches_raw(void **state)
{
	(void)state;
	struct gen g;
	gen_open(&g);
	/* Catch-ups at several points of the stream of events: each adds the hours closed since
	 * the last one, and the events stored after it but stamped before its horizon (late,
	 * within the slack) are not lost. */
	size_t n, done = 0;
	struct pend *p = make(&g, T0, T0 + SPAN, SESSIONS, &n);
	for (int k = 1; k <= STEPS; k++) {
		/* Just past an hour: the late events of the hour before come after the cut. */
		size_t cut = done;
		while (cut < n && (k == STEPS || p[cut].at < T0 + k * (SPAN / STEPS) + CUT_PAST))
			cut++;
		put(&g, p, done, cut);
		done = cut;
		assert_true(report_rollup_catchup(g.dir, NULL) > 0);
		if (k == STEPS / 2)
			check_windows(&g, p[cut - 1].t, PATH_ALL & ~PATH_SS_DAYS);
	}
	free(p);
	assert_int_equal(report_rollup_catchup(g.dir, NULL), 0);
	/* Sessions are rolled up a day later: only now do they hold a whole day. */
	check_windows(&g, T0 + SPAN, PATH_ALL);
	gen_close(&g);
}

/* A generated store with its roll-up caught up. */
static void rolled_up(struct gen *g)
{
	gen_open(g);
	fill(g, T0, T0 + SPAN, SESSIONS);
	assert_true(report_rollup_catchup(g->dir, NULL) > 0);
}

/* The roll-up's report.db opened read-write. */
static sqlite3 *open_rollup(const char *dir)
{
	char *path = core_data_path(dir, "report.db");
	sqlite3 *rdb;
	assert_int_equal(sqlite3_open(path, &rdb), SQLITE_OK);
	free(path);
	return rdb;
}

/* Runs sql on the roll-up's report.db (an older layout, wrong counts). */
static void tamper(const char *dir, const char *sql)
{
	sqlite3 *rdb = open_rollup(dir);
	assert_int_equal(sqlite3_exec(rdb, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(rdb);
}

/* Deleting report.db rebuilds the same roll-up: the same answers over the same windows. */
static void test_rollup_rebuild(void **state)
{
	(void)state;
	struct gen g;
	rolled_up(&g);
	char *before[WINDOWS], *after[WINDOWS];
	int64_t win[WINDOWS][2];
	sqlite3 *db = reader(g.dir);
	for (int i = 0; i < WINDOWS; i++) {
		window(&g, T0 + SPAN, &win[i][0], &win[i][1]);
		before[i] = answer(db, win[i][0], win[i][1], false, NULL, NULL);
	}
	sqlite3_close(db);
	remove_rollup(g.dir);
	assert_true(report_rollup_catchup(g.dir, NULL) > 0);
	db = reader(g.dir);
	for (int i = 0; i < WINDOWS; i++) {
		after[i] = answer(db, win[i][0], win[i][1], false, NULL, NULL);
		assert_string_equal(before[i], after[i]);
		free(before[i]);
		free(after[i]);
	}
	sqlite3_close(db);
	gen_close(&g);
}

/* A report.db of another layout (an older ROLL_VERSION) is emptied and rebuilt by the next
 * catch-up: here one whose tables hold wrong counts, which the answers must not show. */
static void test_rollup_old_layout(void **state)
{
	(void)state;
	struct gen g;
	rolled_up(&g);
	tamper(g.dir, "UPDATE report_meta SET value = 2 WHERE key = 'version';"
		      " UPDATE report_src_hist SET n = n + 7;"
		      " UPDATE report_src_day SET sessions = sessions + 1000;"
		      " UPDATE report_profile_hist SET n = n + 3;"
		      " UPDATE report_port_hist SET n = n + 5;");
	/* Read as it is, the old layout is not used (raw answers). */
	sqlite3 *db = reader(g.dir);
	int rolled;
	char *raw = answer(db, INT64_MIN, INT64_MAX, true, NULL, NULL);
	char *roll = answer(db, INT64_MIN, INT64_MAX, false, &rolled, NULL);
	assert_int_equal(rolled, 0);
	assert_string_equal(roll, raw);
	free(roll);
	sqlite3_close(db);
	assert_true(report_rollup_catchup(g.dir, NULL) > 0);
	db = reader(g.dir);
	int paths;
	roll = answer(db, INT64_MIN, INT64_MAX, false, &rolled, &paths);
	assert_int_equal(rolled, 3);
	assert_true(paths & PATH_SOURCES);
	assert_string_equal(roll, raw);
	free(roll);
	free(raw);
	sqlite3_close(db);
	gen_close(&g);
}

/* The sessions' rolled-up hours' end (as the reader finds it) and the roll-up's answers
 * compared with the raw ones over all time and random windows. */
static int64_t sessions_until(struct gen *g)
{
	sqlite3 *db = reader(g->dir);
	struct report_ctx c;
	report_ctx_init(&c, NULL);
	c.db = db;
	report_rollup_window(&c);
	int64_t until = c.roll_sessions ? c.roll_ss[1] : INT64_MIN;
	report_ctx_free(&c);
	for (int i = 0; i <= WINDOWS; i++) {
		int64_t s = INT64_MIN, u = INT64_MAX;
		if (i < WINDOWS)
			window(g, T0 + SPAN, &s, &u);
		char *roll = answer(db, s, u, false, NULL, NULL),
		     *raw = answer(db, s, u, true, NULL, NULL);
		if (strcmp(roll, raw) != 0)
			fail_msg("window [%lld, %lld): roll-up and raw differ:\n%s\n%s",
				 (long long)s, (long long)u, roll, raw);
		free(roll);
		free(raw);
	}
	sqlite3_close(db);
	return until;
}

/* One step of sql with ?1 bound to arg; the first column of its row into out (if any). */
static int step_text(sqlite3 *db, const char *sql, const char *arg, char out[LIB_RFC3339_LEN])
{
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && out)
		lib_strlcpy(out, (const char *)sqlite3_column_text(q, 0), LIB_RFC3339_LEN);
	sqlite3_finalize(q);
	return rc;
}

/* Sessions that have ended are rolled up once their hour is closed, not a day late; an hour
 * holding a session still open (no `end`: its row still changes) waits until it ends. */
static void test_rollup_open_sessions(void **state)
{
	(void)state;
	struct gen g;
	gen_open(&g);
	fill(&g, T0, T0 + SPAN, SESSIONS);
	char before[LIB_RFC3339_LEN], start[LIB_RFC3339_LEN];
	ts(T0 + SPAN - 6 * 3600, before);
	assert_int_equal(sqlite3_exec(g.db, "UPDATE sessions SET end = start", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(step_text(g.db,
				   "UPDATE sessions SET end = NULL, commands = 0 WHERE session ="
				   " (SELECT session FROM sessions WHERE start < ?1 ORDER BY start"
				   " DESC LIMIT 1) RETURNING start",
				   before, start),
			 SQLITE_ROW);
	int64_t us;
	assert_int_equal(lib_parse_time(start, &us), 0);
	int64_t open_hour = us / 1000000 / 3600 * 3600;
	assert_true(report_rollup_catchup(g.dir, NULL) > 0);
	/* Up to the open session's hour: later than a day before the newest event. */
	assert_int_equal(sessions_until(&g), open_hour);
	assert_true(open_hour > T0 + SPAN - REPORT_ROLLUP_SESSION_LAG);
	/* It goes on (commands, a login), then ends: its hour is rolled up with its last row. */
	assert_int_equal(step_text(g.db,
				   "UPDATE sessions SET commands = 3, login = 1, end = start WHERE"
				   " start = ?1",
				   start, NULL),
			 SQLITE_DONE);
	assert_true(report_rollup_catchup(g.dir, NULL) > 0);
	assert_true(sessions_until(&g) >= T0 + SPAN - 3600);
	gen_close(&g);
}

/* n events of command `input` stamped t. */
static void put_commands(struct gen *g, const char *input, int64_t t, int n)
{
	struct pend p = {.at = t, .t = t};
	lib_strlcpy(p.eventid, "mitsu.command.input", sizeof(p.eventid));
	lib_strlcpy(p.session, "rare", sizeof(p.session));
	lib_strlcpy(p.src, "10.0.1.1", sizeof(p.src));
	snprintf(p.json, sizeof(p.json), "{\"input\":\"%s\"}", input);
	assert_int_equal(sqlite3_exec(g->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < n; i++)
		put_event(g, &p);
	assert_int_equal(sqlite3_exec(g->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

/* A report.db of layout 3 is moved to layout 4 in place: its day tables and top lists' totals
 * (report_NAME_key; here wrong or missing) are filled from its other tables, no hour is rolled
 * up again, and the answers over all time (which read the totals) are the raw ones; with a
 * command once in the rolled-up hours and often in the raw edge after them (its total is
 * under the threshold, its count over all time above). */
static void test_rollup_layout3(void **state)
{
	(void)state;
	struct gen g;
	gen_open(&g);
	put_commands(&g, "rare", T0 + 60, 1); /* within the slack of the first events */
	fill(&g, T0, T0 + SPAN, SESSIONS);
	assert_true(report_rollup_catchup(g.dir, NULL) > 0);
	tamper(g.dir, "UPDATE report_meta SET value = 3 WHERE key = 'version';"
		      " UPDATE report_cmds_key SET n = n + 100, hosts = hosts + 9;"
		      " UPDATE report_urls_key SET v2 = 'ff'; DELETE FROM report_creds_key;"
		      " UPDATE report_ports_day SET sessions = sessions + 1;"
		      " DELETE FROM report_profile_hist_day;");
	assert_int_equal(report_rollup_catchup(g.dir, NULL), 0);
	put_commands(&g, "rare", T0 + SPAN + 100, SESSIONS);
	sqlite3 *db = reader(g.dir);
	for (top_rows = 0; top_rows <= 3; top_rows += 3) {
		int rolled, paths;
		char *raw = answer(db, INT64_MIN, INT64_MAX, true, NULL, NULL);
		char *roll = answer(db, INT64_MIN, INT64_MAX, false, &rolled, &paths);
		assert_int_equal(rolled, 3);
		assert_true(paths & PATH_EV_WHOLE);
		assert_string_equal(roll, raw);
		free(roll);
		free(raw);
	}
	top_rows = 0;
	sqlite3_close(db);
	gen_close(&g);
}

/* A WebUI part of another layout (webui_version) is emptied and rebuilt alone: its wrong counts
 * are not read meanwhile, and the rest of the roll-up is not touched (no hour added again). */
static void test_rollup_webui_layout(void **state)
{
	(void)state;
	struct gen g;
	rolled_up(&g);
	sqlite3 *rdb = open_rollup(g.dir);
	assert_int_equal(
		sqlite3_exec(rdb,
			     "UPDATE report_meta SET value = value + 1 WHERE key ="
			     " 'webui_version'; UPDATE report_web_hist SET n = n + 3;"
			     " UPDATE report_web_hist_day SET n = n + 3;"
			     " CREATE TABLE keep AS SELECT (SELECT sum(n) FROM report_types)"
			     " AS n, (SELECT count(*) FROM report_src) AS s;",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3 *db = reader(g.dir);
	int paths;
	char *raw = answer(db, INT64_MIN, INT64_MAX, true, NULL, NULL);
	char *roll = answer(db, INT64_MIN, INT64_MAX, false, NULL, &paths);
	assert_false(paths & PATH_WEB);
	assert_string_equal(roll, raw);
	free(roll);
	sqlite3_close(db);
	/* The events' and sessions' hours are all done: the catch-up adds none of theirs. */
	assert_int_equal(report_rollup_catchup(g.dir, NULL), 0);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(rdb,
					    "SELECT (SELECT sum(n) FROM report_types) = k.n AND"
					    " (SELECT count(*) FROM report_src) = k.s, (SELECT"
					    " count(*) FROM report_web_src) FROM keep k",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 1);
	assert_true(sqlite3_column_int(q, 1) > 0);
	sqlite3_finalize(q);
	sqlite3_close(rdb);
	db = reader(g.dir);
	roll = answer(db, INT64_MIN, INT64_MAX, false, NULL, &paths);
	assert_true(paths & PATH_WEB);
	assert_string_equal(roll, raw);
	free(roll);
	free(raw);
	sqlite3_close(db);
	gen_close(&g);
}

struct racer {
	const char *dir;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	r->rc = report_rollup_catchup(r->dir, NULL);
	return NULL;
}

/* Two catch-ups at once (the dashboard's worker and `mitsu report`): each hour is added once,
 * so the events counted per hour equal the store's; and the answers over 20 days are the raw
 * ones. */
static void test_rollup_concurrent(void **state)
{
	(void)state;
	struct gen g;
	gen_open(&g);
	fill(&g, T0, T0 + 20 * 86400, SESSIONS * 4); /* several chunks of hours */
	struct racer r[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){.dir = g.dir};
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(r[i].rc >= 0);
		total += r[i].rc;
	}
	assert_true(total > 0);
	sqlite3 *db = reader(g.dir);
	sqlite3_stmt *q;
	assert_int_equal(
		sqlite3_prepare_v2(
			db,
			"SELECT (SELECT sum(n) FROM roll.report_types),"
			" (SELECT count(*) FROM events WHERE timestamp >= ?1 AND timestamp"
			" < ?2), (SELECT sum(sessions) FROM roll.report_sessions),"
			" (SELECT count(*) FROM sessions WHERE start >= ?3 AND start < ?4)",
			-1, &q, NULL),
		SQLITE_OK);
	struct report_ctx c;
	report_ctx_init(&c, NULL);
	c.db = db;
	report_rollup_window(&c);
	char t[4][LIB_RFC3339_LEN];
	ts(c.roll_ev[0], t[0]);
	ts(c.roll_ev[1], t[1]);
	ts(c.roll_ss[0], t[2]);
	ts(c.roll_ss[1], t[3]);
	for (int i = 0; i < 4; i++)
		sqlite3_bind_text(q, i + 1, t[i], -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_true(sqlite3_column_int64(q, 0) > 0);
	assert_int_equal(sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1));
	assert_int_equal(sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3));
	sqlite3_finalize(q);
	report_ctx_free(&c);
	/* Over more than 14 days the charts count per day: from report_ports_day in the middle. */
	const int64_t win[][2] = {{INT64_MIN, INT64_MAX}, {T0 + 1234, T0 + 17 * 86400 + 77}};
	for (size_t i = 0; i < LIB_ARRAY_LEN(win); i++) {
		char *roll = answer(db, win[i][0], win[i][1], false, NULL, NULL),
		     *raw = answer(db, win[i][0], win[i][1], true, NULL, NULL);
		assert_string_equal(roll, raw);
		free(roll);
		free(raw);
	}
	sqlite3_close(db);
	gen_close(&g);
}

int main(void)
{
	if (getenv("MITSU_TEST_DEBUG"))
		log_set_level(LOG_DEBUG);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rollup_matches_raw),
		cmocka_unit_test(test_rollup_rebuild),
		cmocka_unit_test(test_rollup_old_layout),
		cmocka_unit_test(test_rollup_open_sessions),
		cmocka_unit_test(test_rollup_layout3),
		cmocka_unit_test(test_rollup_webui_layout),
		cmocka_unit_test(test_rollup_concurrent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
