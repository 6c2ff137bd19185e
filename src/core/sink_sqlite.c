/* SQLite sink: every event into `events` (unique uuid, so a re-sent event is stored once) and
 * a per-session roll-up into `sessions`, one transaction per loop turn. */
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS events ("
	"  id INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE,"
	"  eventid TEXT NOT NULL,"
	"  timestamp TEXT NOT NULL,"
	"  sensor TEXT,"
	"  session TEXT,"
	"  src_ip TEXT,"
	"  json TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_eventid ON events(eventid, timestamp);"
	"CREATE INDEX IF NOT EXISTS events_timestamp ON events(timestamp);"
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
	"CREATE INDEX IF NOT EXISTS sessions_src ON sessions(src_ip);";

enum { ST_EVENT, ST_CONNECT, ST_LOGIN_OK, ST_LOGIN_FAIL, ST_COMMAND, ST_DOWNLOAD, ST_UPLOAD, ST_CLOSED, ST__COUNT };

static const char *const statements[ST__COUNT] = {
	[ST_EVENT] = "INSERT OR IGNORE INTO events(uuid, eventid, timestamp, sensor, session, src_ip, json)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_CONNECT] = "INSERT OR IGNORE INTO sessions(sensor, session, protocol, profile, src_ip, src_port,"
		       " dst_ip, dst_port, start) VALUES (?4, ?5, ?8, ?9, ?6, ?10, ?11, ?12, ?3)",
	[ST_LOGIN_OK] = "UPDATE sessions SET login = 1, username = ?8, password = ?9"
			" WHERE sensor = ?4 AND session = ?5",
	[ST_LOGIN_FAIL] = "UPDATE sessions SET login_failures = login_failures + 1"
			  " WHERE sensor = ?4 AND session = ?5",
	[ST_COMMAND] = "UPDATE sessions SET commands = commands + 1 WHERE sensor = ?4 AND session = ?5",
	[ST_DOWNLOAD] = "UPDATE sessions SET downloads = downloads + 1 WHERE sensor = ?4 AND session = ?5",
	[ST_UPLOAD] = "UPDATE sessions SET uploads = uploads + 1 WHERE sensor = ?4 AND session = ?5",
	[ST_CLOSED] = "UPDATE sessions SET end = ?3, duration = ?8, reason = ?9"
		      " WHERE sensor = ?4 AND session = ?5",
};

struct sqlite_sink {
	struct core_store *store;
	sqlite3_stmt *st[ST__COUNT];
};

static void sqlite_close(void *state)
{
	struct sqlite_sink *s = state;
	core_store_commit(s->store);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	free(s);
}

static int sqlite_open(void **state, const struct core_config *cfg, struct core_store *store)
{
	if (core_store_schema(store, schema))
		return -EIO;
	struct sqlite_sink *s = xcalloc(1, sizeof(*s));
	s->store = store;
	for (int i = 0; i < ST__COUNT; i++) {
		if (sqlite3_prepare_v3(store->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			log_error("sqlite", "prepare: %s", sqlite3_errmsg(store->db));
			sqlite_close(s);
			return -EIO;
		}
	}
	*state = s;
	return 0;
}

static void bind_field(sqlite3_stmt *st, int idx, const json_t *ev, const char *key)
{
	const json_t *v = json_object_get(ev, key);
	if (json_is_string(v))
		sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v), SQLITE_TRANSIENT);
	else if (json_is_integer(v))
		sqlite3_bind_int64(st, idx, json_integer_value(v));
	else if (json_is_real(v))
		sqlite3_bind_double(st, idx, json_real_value(v));
	else if (json_is_boolean(v))
		sqlite3_bind_int(st, idx, json_is_true(v));
	else
		sqlite3_bind_null(st, idx);
}

static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Binds the parameters every statement shares: ?1 uuid .. ?7 json. */
static void bind_common(sqlite3_stmt *st, const json_t *ev, const char *line, size_t len)
{
	bind_field(st, 1, ev, "uuid");
	bind_field(st, 2, ev, "eventid");
	bind_field(st, 3, ev, "timestamp");
	bind_field(st, 4, ev, "sensor");
	bind_field(st, 5, ev, "session");
	bind_field(st, 6, ev, "src_ip");
	sqlite3_bind_text(st, 7, line, (int)len, SQLITE_STATIC);
}

static int sqlite_write(void *state, const json_t *ev, const char *line, size_t len)
{
	struct sqlite_sink *s = state;
	if (core_store_begin(s->store))
		return -EIO;
	sqlite3_stmt *st = s->st[ST_EVENT];
	bind_common(st, ev, line, len);
	int rc = run(st);
	if (rc || sqlite3_changes(s->store->db) == 0)
		return rc; /* a duplicate uuid is not counted twice in the roll-up */

	int id = core_event_find(json_string_value(json_object_get(ev, "eventid")));
	int which = -1;
	const char *f8 = NULL, *f9 = NULL;
	switch (id) {
	case EV_SESSION_CONNECT: which = ST_CONNECT; f8 = "protocol"; f9 = "profile"; break;
	case EV_LOGIN_SUCCESS: which = ST_LOGIN_OK; f8 = "username"; f9 = "password"; break;
	case EV_LOGIN_FAILED: which = ST_LOGIN_FAIL; break;
	case EV_COMMAND_INPUT: which = ST_COMMAND; break;
	case EV_SESSION_FILE_DOWNLOAD: which = ST_DOWNLOAD; break;
	case EV_SESSION_FILE_UPLOAD: which = ST_UPLOAD; break;
	case EV_SESSION_CLOSED: which = ST_CLOSED; f8 = "duration"; f9 = "reason"; break;
	default: return 0;
	}
	st = s->st[which];
	bind_common(st, ev, line, len);
	if (f8)
		bind_field(st, 8, ev, f8);
	if (f9)
		bind_field(st, 9, ev, f9);
	if (which == ST_CONNECT) {
		bind_field(st, 10, ev, "src_port");
		bind_field(st, 11, ev, "dst_ip");
		bind_field(st, 12, ev, "dst_port");
	}
	return run(st);
}

static int sqlite_flush(void *state)
{
	struct sqlite_sink *s = state;
	return core_store_commit(s->store);
}

const struct core_sink_ops core_sink_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.write = sqlite_write,
	.flush = sqlite_flush,
	.close = sqlite_close,
};
