/* The events in mitsu.db: every event into `events` (unique uuid, so a re-sent event is stored
 * once) and a per-session roll-up into `sessions`. Written by the store's writer, one job per
 * batch of the bus, in the same transactions as every other write. */
#include "core/store_events.h"

#include <errno.h>
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
	/* Rows are appended in time order, so id order is time order; these two indexes serve
	 * every query mitsu makes (by type and time, by session). */
	"CREATE INDEX IF NOT EXISTS events_eventid ON events(eventid, timestamp);"
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
	"CREATE INDEX IF NOT EXISTS sessions_src ON sessions(src_ip);"
	"CREATE INDEX IF NOT EXISTS sessions_start ON sessions(start);";

static const char sql_event[] =
	"INSERT OR IGNORE INTO events(uuid, eventid, timestamp, sensor, session, src_ip, json)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/* The roll-up: ?1 sensor ?2 session, then each statement's own. */
static const char sql_connect[] =
	"INSERT OR IGNORE INTO sessions(sensor, session, protocol, profile, src_ip, src_port,"
	" dst_ip, dst_port, start) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char sql_login_ok[] = "UPDATE sessions SET login = 1, username = ?3, password = ?4"
				   " WHERE sensor = ?1 AND session = ?2";
static const char sql_login_fail[] = "UPDATE sessions SET login_failures = login_failures + 1"
				     " WHERE sensor = ?1 AND session = ?2";
static const char sql_command[] =
	"UPDATE sessions SET commands = commands + 1 WHERE sensor = ?1 AND session = ?2";
static const char sql_download[] =
	"UPDATE sessions SET downloads = downloads + 1 WHERE sensor = ?1 AND session = ?2";
static const char sql_upload[] =
	"UPDATE sessions SET uploads = uploads + 1 WHERE sensor = ?1 AND session = ?2";
static const char sql_closed[] = "UPDATE sessions SET end = ?3, duration = ?4, reason = ?5"
				 " WHERE sensor = ?1 AND session = ?2";

int core_events_schema(struct core_store *st)
{
	return core_store_schema(st, schema);
}

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, i);
}

/* A module field as a parameter: strings, numbers and booleans; anything else is NULL. */
static void bind_json(sqlite3_stmt *q, int i, const json_t *v)
{
	if (json_is_string(v))
		sqlite3_bind_text(q, i, json_string_value(v), (int)json_string_length(v),
				  SQLITE_STATIC);
	else if (json_is_integer(v))
		sqlite3_bind_int64(q, i, json_integer_value(v));
	else if (json_is_real(v))
		sqlite3_bind_double(q, i, json_real_value(v));
	else if (json_is_boolean(v))
		sqlite3_bind_int(q, i, json_is_true(v));
	else
		sqlite3_bind_null(q, i);
}

static const char *rollup_sql(enum core_event id)
{
	switch (id) {
	case EV_SESSION_CONNECT: return sql_connect;
	case EV_LOGIN_SUCCESS: return sql_login_ok;
	case EV_LOGIN_FAILED: return sql_login_fail;
	case EV_COMMAND_INPUT: return sql_command;
	case EV_SESSION_FILE_DOWNLOAD: return sql_download;
	case EV_SESSION_FILE_UPLOAD: return sql_upload;
	case EV_SESSION_CLOSED: return sql_closed;
	default: return NULL;
	}
}

static int rollup(struct core_tx *tx, const struct core_ev *ev)
{
	const char *sql = rollup_sql(ev->id);
	if (!sql || !ev->has_conn)
		return 0;
	const struct core_conn *c = &ev->conn;
	sqlite3_stmt *q = core_tx_stmt(tx, sql);
	if (!q)
		return -EIO;
	bind_text(q, 1, ev->sensor);
	bind_text(q, 2, c->session);
	switch (ev->id) {
	case EV_SESSION_CONNECT:
		bind_text(q, 3, c->protocol);
		bind_json(q, 4, core_ev_get(ev, "profile"));
		bind_text(q, 5, c->src_ip);
		sqlite3_bind_int(q, 6, c->src_port);
		bind_text(q, 7, c->dst_ip);
		sqlite3_bind_int(q, 8, c->dst_port);
		bind_text(q, 9, ev->timestamp);
		break;
	case EV_LOGIN_SUCCESS:
		bind_json(q, 3, core_ev_get(ev, "username"));
		bind_json(q, 4, core_ev_get(ev, "password"));
		break;
	case EV_SESSION_CLOSED:
		bind_text(q, 3, ev->timestamp);
		bind_json(q, 4, core_ev_get(ev, "duration"));
		bind_json(q, 5, core_ev_get(ev, "reason"));
		break;
	default: break;
	}
	int rc = core_tx_step(tx, q);
	return rc < 0 ? rc : 0;
}

int core_events_store(struct core_tx *tx, struct core_ev *const *evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct core_ev *ev = evs[i];
		if (!ev->line)
			continue; /* dropped: too large to serialise */
		sqlite3_stmt *q = core_tx_stmt(tx, sql_event);
		if (!q)
			return -EIO;
		bind_text(q, 1, ev->uuid);
		bind_text(q, 2, ev->eventid);
		bind_text(q, 3, ev->timestamp);
		bind_text(q, 4, ev->sensor);
		bind_text(q, 5, ev->has_conn ? ev->conn.session : NULL);
		bind_text(q, 6, ev->has_conn ? ev->conn.src_ip : NULL);
		sqlite3_bind_text(q, 7, ev->line, (int)ev->len, SQLITE_STATIC);
		int rc = core_tx_step(tx, q);
		if (rc < 0)
			return rc;
		/* A duplicate uuid is not counted twice in the roll-up. */
		if (sqlite3_changes(core_tx_db(tx)) == 0)
			continue;
		rc = rollup(tx, ev);
		if (rc)
			return rc;
	}
	return 0;
}
