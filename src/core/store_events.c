/* The events in mitsu.db: every event a row of `events`, and a per-session roll-up in
 * `sessions`. Written by the store's writer, one job per batch of the bus, in the same
 * transactions as every other write.
 *
 * The write path is kept lean, as it runs for every event of every session (about 12 for a
 * Mirai scanner's visit): an event is one append to `events` (rowid order is time order) and
 * to its two indexes; the roll-up is gathered per batch in memory and written as one upsert
 * per session and batch, not one statement per event. */
#include "core/store_events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The layout of these tables; PRAGMA user_version of mitsu.db. Version 1 (before issue 11)
 * had a `uuid` column with a unique index and a `sensor` column in `events`. */
#define EVENTS_SCHEMA_VERSION 2

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS events ("
	"  id INTEGER PRIMARY KEY,"
	"  eventid TEXT NOT NULL,"
	"  timestamp TEXT NOT NULL,"
	"  session TEXT,"
	"  src_ip TEXT,"
	"  json TEXT NOT NULL);"
	/* Rows are appended in time order, so id order is time order: (eventid, id) serves
	 * queries by type and time, (session, id) those by session. */
	"CREATE INDEX IF NOT EXISTS events_eventid ON events(eventid);"
	"CREATE INDEX IF NOT EXISTS events_session ON events(session);"
	"CREATE TABLE IF NOT EXISTS sessions ("
	"  sensor TEXT NOT NULL,"
	"  session TEXT NOT NULL,"
	"  protocol TEXT, profile TEXT,"
	"  src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER,"
	"  start TEXT, end TEXT, duration REAL,"
	"  login INTEGER NOT NULL DEFAULT 0, username TEXT, password TEXT,"
	"  login_failures INTEGER NOT NULL DEFAULT 0,"
	"  commands INTEGER NOT NULL DEFAULT 0,"
	"  downloads INTEGER NOT NULL DEFAULT 0,"
	"  uploads INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT,"
	"  PRIMARY KEY (sensor, session));"
	/* (src_ip, start): one address's latest sessions without sorting all of them (mitsu ip,
	 * /ip/ADDR); it replaces sessions_src(src_ip), its prefix. */
	"DROP INDEX IF EXISTS sessions_src;"
	"CREATE INDEX IF NOT EXISTS sessions_src_start ON sessions(src_ip, start);"
	"CREATE INDEX IF NOT EXISTS sessions_start ON sessions(start);";

/* Version 1's events, moved into the new table once. */
static const char migrate_v1[] = "ALTER TABLE events RENAME TO events_v1;"
				 "DROP INDEX IF EXISTS events_eventid;"
				 "DROP INDEX IF EXISTS events_session;";
static const char migrate_v1_copy[] =
	"INSERT INTO events(id, eventid, timestamp, session, src_ip, json)"
	" SELECT id, eventid, timestamp, session, src_ip, json FROM events_v1 ORDER BY id;"
	"DROP TABLE events_v1;";

static const char sql_event[] =
	"INSERT INTO events(eventid, timestamp, session, src_ip, json) VALUES (?1, ?2, ?3, ?4, ?5)";
/* Events inserted by one statement: each statement's start and end (its cursors on the table
 * and both indexes, the transaction check, the halt) cost about as much as a row, so a batch
 * goes in STORE_EVENTS_ROWS at a time and the rest one by one. */
#define STORE_EVENTS_ROWS 32
#define EV_COLS 5
#define EV_ROW "(?,?,?,?,?)"
#define EV_ROW4 EV_ROW "," EV_ROW "," EV_ROW "," EV_ROW
#define EV_ROW16 EV_ROW4 "," EV_ROW4 "," EV_ROW4 "," EV_ROW4
static const char sql_events[] =
	"INSERT OR FAIL INTO events(eventid, timestamp, session, src_ip, json)"
	" VALUES " EV_ROW16 "," EV_ROW16;
/* One session's roll-up of one batch: its counts add up, what it says last wins. The row is
 * made by the batch with the session's first event (connect comes first, and every record
 * carries the connection), so the update leaves the identity and the indexed `src_ip` and
 * `start` alone: an update that names an indexed column rewrites its index entry even when
 * the value stays. */
static const char sql_rollup[] =
	"INSERT INTO sessions(sensor, session, protocol, profile, src_ip, src_port, dst_ip,"
	" dst_port, start, end, duration, login, username, password, login_failures, commands,"
	" downloads, uploads, reason)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
	" ?19)"
	" ON CONFLICT(sensor, session) DO UPDATE SET"
	" profile = coalesce(profile, excluded.profile),"
	" end = coalesce(excluded.end, end),"
	" duration = coalesce(excluded.duration, duration),"
	" login = max(login, excluded.login),"
	" username = coalesce(excluded.username, username),"
	" password = coalesce(excluded.password, password),"
	" login_failures = login_failures + excluded.login_failures,"
	" commands = commands + excluded.commands,"
	" downloads = downloads + excluded.downloads,"
	" uploads = uploads + excluded.uploads,"
	" reason = coalesce(excluded.reason, reason)";

static int has_column(struct core_tx *tx, const char *table, const char *column)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT 1 FROM pragma_table_info('%s') WHERE name = ?1", table);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(core_tx_db(tx), sql, -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(q, 1, column, -1, SQLITE_STATIC);
	int found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return found;
}

static int schema_job(struct core_tx *tx, void *arg)
{
	int rc = 0;
	bool v1 = has_column(tx, "events", "uuid");
	if (v1) {
		log_info("store", "moving the events of mitsu.db to layout %d (once)",
			 EVENTS_SCHEMA_VERSION);
		rc = core_tx_exec(tx, migrate_v1);
	}
	if (!rc)
		rc = core_tx_exec(tx, schema);
	if (!rc && v1)
		rc = core_tx_exec(tx, migrate_v1_copy);
	if (!rc) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", EVENTS_SCHEMA_VERSION);
		rc = core_tx_exec(tx, sql);
	}
	return rc;
}

int core_events_schema(struct core_store *st)
{
	int rc = core_store_run(st, schema_job, NULL);
	if (rc)
		log_error("store", "cannot create the events tables: %s", strerror(-rc));
	return rc;
}

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

/* ------------------------------------------------------------------ the roll-up */

/* One session's part of a batch. Indexes are into the batch's records. */
struct rollup {
	const struct core_ev_rec *first; /* the identity (sensor, connection) */
	int connect, login, closed;      /* the records that say them, -1 if none */
	int login_failures, commands, downloads, uploads;
};

/* The batch's sessions, by session id (open addressing; the table is at least twice the
 * events, so it never fills). */
struct rollups {
	struct rollup *slots;
	size_t mask;
};

static bool takes_part(enum core_event id)
{
	switch (id) {
	case EV_SESSION_CONNECT:
	case EV_LOGIN_SUCCESS:
	case EV_LOGIN_FAILED:
	case EV_COMMAND_INPUT:
	case EV_SESSION_FILE_DOWNLOAD:
	case EV_SESSION_FILE_UPLOAD:
	case EV_SESSION_CLOSED: return true;
	default: return false;
	}
}

static struct rollup *rollup_of(struct rollups *t, const struct core_ev_rec *ev)
{
	const char *s = ev->conn.session;
	uint64_t h = 1469598103934665603ull;
	for (const char *p = s; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
		struct rollup *r = &t->slots[i];
		if (!r->first) {
			r->first = ev;
			r->connect = r->login = r->closed = -1;
			return r;
		}
		if (strcmp(r->first->conn.session, s) == 0 &&
		    strcmp(r->first->sensor, ev->sensor) == 0)
			return r;
	}
}

static void gather(struct rollup *r, const struct core_ev_rec *ev, int i)
{
	switch (ev->id) {
	case EV_SESSION_CONNECT: r->connect = i; break;
	case EV_LOGIN_SUCCESS: r->login = i; break;
	case EV_LOGIN_FAILED: r->login_failures++; break;
	case EV_COMMAND_INPUT: r->commands++; break;
	case EV_SESSION_FILE_DOWNLOAD: r->downloads++; break;
	case EV_SESSION_FILE_UPLOAD: r->uploads++; break;
	case EV_SESSION_CLOSED: r->closed = i; break;
	default: break;
	}
}

static void bind_part(sqlite3_stmt *q, int i, const char *text, bool has, uint32_t off,
		      uint32_t len)
{
	if (has)
		sqlite3_bind_text(q, i, text + off, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

/* A module field for the roll-up: its text (strings as they are, integers and booleans as
 * SQLite would print them), or absent. */
static void extract_field(const json_t *v, struct buf *text, bool *has, uint32_t *off,
			  uint32_t *len)
{
	char num[32];
	const char *s = NULL;
	size_t n = 0;
	if (json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
	} else if (json_is_integer(v) || json_is_boolean(v)) {
		n = (size_t)snprintf(num, sizeof(num), "%lld",
				     json_is_integer(v) ? (long long)json_integer_value(v)
							: (long long)json_is_true(v));
		s = num;
	}
	*has = s != NULL && text->len + n < UINT32_MAX && buf_append(text, s, n) == 0;
	*off = *has ? (uint32_t)(text->len - n) : 0;
	*len = *has ? (uint32_t)n : 0;
}

void core_events_extract(const struct core_ev *ev, struct core_ev_rec *r, struct buf *text)
{
	static const char *const names[][2] = {
		[EV_SESSION_CONNECT] = {"profile", NULL},
		[EV_LOGIN_SUCCESS] = {"username", "password"},
		[EV_SESSION_CLOSED] = {"reason", NULL},
	};
	r->has_a = r->has_b = r->has_duration = false;
	if ((size_t)ev->id >= LIB_ARRAY_LEN(names) || !names[ev->id][0])
		return;
	extract_field(core_ev_get(ev, names[ev->id][0]), text, &r->has_a, &r->a, &r->alen);
	if (names[ev->id][1])
		extract_field(core_ev_get(ev, names[ev->id][1]), text, &r->has_b, &r->b, &r->blen);
	const json_t *d = ev->id == EV_SESSION_CLOSED ? core_ev_get(ev, "duration") : NULL;
	if (json_is_number(d)) {
		r->has_duration = true;
		r->duration = json_number_value(d);
	}
}

static int write_rollup(struct core_tx *tx, const struct rollup *r, const struct core_ev_rec *recs,
			const char *text)
{
	sqlite3_stmt *q = core_tx_stmt(tx, sql_rollup);
	if (!q)
		return -EIO;
	const struct core_conn *c = &r->first->conn;
	bind_text(q, 1, r->first->sensor);
	bind_text(q, 2, c->session);
	bind_text(q, 3, c->protocol);
	bind_text(q, 5, c->src_ip);
	sqlite3_bind_int(q, 6, c->src_port);
	bind_text(q, 7, c->dst_ip);
	sqlite3_bind_int(q, 8, c->dst_port);
	if (r->connect >= 0) {
		const struct core_ev_rec *x = &recs[r->connect];
		bind_part(q, 4, text, x->has_a, x->a, x->alen);
		bind_text(q, 9, x->timestamp);
	}
	if (r->closed >= 0) {
		const struct core_ev_rec *x = &recs[r->closed];
		bind_text(q, 10, x->timestamp);
		if (x->has_duration)
			sqlite3_bind_double(q, 11, x->duration);
		bind_part(q, 19, text, x->has_a, x->a, x->alen);
	}
	sqlite3_bind_int(q, 12, r->login >= 0);
	if (r->login >= 0) {
		const struct core_ev_rec *x = &recs[r->login];
		bind_part(q, 13, text, x->has_a, x->a, x->alen);
		bind_part(q, 14, text, x->has_b, x->b, x->blen);
	}
	sqlite3_bind_int(q, 15, r->login_failures);
	sqlite3_bind_int(q, 16, r->commands);
	sqlite3_bind_int(q, 17, r->downloads);
	sqlite3_bind_int(q, 18, r->uploads);
	int rc = core_tx_step(tx, q);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ a batch */

/* Binds ev to the EV_COLS parameters from `first` on. */
static void bind_event(sqlite3_stmt *q, int first, const struct core_ev_rec *ev, const char *text)
{
	sqlite3_bind_text(q, first, core_events[ev->id].name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, first + 1, ev->timestamp, -1, SQLITE_STATIC);
	if (ev->has_conn) {
		sqlite3_bind_text(q, first + 2, ev->conn.session, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, first + 3, ev->conn.src_ip, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(q, first + 2);
		sqlite3_bind_null(q, first + 3);
	}
	sqlite3_bind_text(q, first + 4, text + ev->line, (int)ev->len, SQLITE_STATIC);
}

/* Inserts the events at idx[0..n), in that order (n is 1 or STORE_EVENTS_ROWS). */
static int insert_events(struct core_tx *tx, const struct core_ev_rec *recs, const size_t *idx,
			 size_t n, const char *text)
{
	sqlite3_stmt *q = core_tx_stmt(tx, n == 1 ? sql_event : sql_events);
	if (!q)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		bind_event(q, 1 + (int)i * EV_COLS, &recs[idx[i]], text);
	int rc = core_tx_step(tx, q);
	return rc < 0 ? rc : 0;
}

int core_events_store(struct core_tx *tx, const struct core_ev_rec *recs, size_t n,
		      const char *text)
{
	struct rollups t;
	size_t size = 16;
	while (size < 2 * n)
		size *= 2;
	t.slots = core_tx_scratch(tx, size * sizeof(*t.slots));
	t.mask = size - 1;
	size_t idx[STORE_EVENTS_ROWS], nidx = 0;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct core_ev_rec *ev = &recs[i];
		if (!ev->stored_line)
			continue;
		idx[nidx++] = i;
		if (nidx == STORE_EVENTS_ROWS) {
			rc = insert_events(tx, recs, idx, nidx, text);
			nidx = 0;
		}
		if (ev->has_conn && takes_part(ev->id))
			gather(rollup_of(&t, ev), ev, (int)i);
	}
	for (size_t i = 0; i < nidx && !rc; i++)
		rc = insert_events(tx, recs, &idx[i], 1, text);
	for (size_t i = 0; i < size && !rc; i++)
		if (t.slots[i].first)
			rc = write_rollup(tx, &t.slots[i], recs, text);
	return rc;
}
