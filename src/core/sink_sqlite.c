/* SQLite sink: every event into `events` (unique uuid, so a re-sent event is stored once) and
 * a per-session roll-up into `sessions`.
 *
 * The writing happens on a thread of its own with its own connection, so a slow disk or a WAL
 * checkpoint never stalls the sensor's loop. The loop thread only copies the few fields the
 * tables need into a record and queues it; each bus flush marks a batch, which the writer
 * stores in one transaction. The queue is bounded: if the writer falls that far behind, the
 * loop waits for it (the sensor slows down rather than losing events). */
#include "core/core.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Events waiting for the writer before the loop thread waits. */
#define SQ_MAX_QUEUE 200000

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

enum {
	ST_EVENT,
	ST_CONNECT,
	ST_LOGIN_OK,
	ST_LOGIN_FAIL,
	ST_COMMAND,
	ST_DOWNLOAD,
	ST_UPLOAD,
	ST_CLOSED,
	ST__COUNT
};

/* Parameters: ?1 uuid ?2 eventid ?3 timestamp ?4 sensor ?5 session ?6 src_ip ?7 json, then the
 * roll-up's own ?8.. */
static const char *const statements[ST__COUNT] = {
	[ST_EVENT] = "INSERT OR IGNORE INTO events(uuid, eventid, timestamp, sensor, session, "
		     "src_ip, json)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_CONNECT] = "INSERT OR IGNORE INTO sessions(sensor, session, protocol, profile, src_ip, "
		       "src_port,"
		       " dst_ip, dst_port, start) VALUES (?4, ?5, ?8, ?9, ?6, ?10, ?11, ?12, ?3)",
	[ST_LOGIN_OK] = "UPDATE sessions SET login = 1, username = ?8, password = ?9"
			" WHERE sensor = ?4 AND session = ?5",
	[ST_LOGIN_FAIL] = "UPDATE sessions SET login_failures = login_failures + 1"
			  " WHERE sensor = ?4 AND session = ?5",
	[ST_COMMAND] =
		"UPDATE sessions SET commands = commands + 1 WHERE sensor = ?4 AND session = ?5",
	[ST_DOWNLOAD] =
		"UPDATE sessions SET downloads = downloads + 1 WHERE sensor = ?4 AND session = ?5",
	[ST_UPLOAD] =
		"UPDATE sessions SET uploads = uploads + 1 WHERE sensor = ?4 AND session = ?5",
	[ST_CLOSED] = "UPDATE sessions SET end = ?3, duration = ?8, reason = ?9"
		      " WHERE sensor = ?4 AND session = ?5",
};

#define SQ_PARAMS 12
enum { P_NULL, P_TEXT, P_INT, P_REAL };

/* One event as the writer needs it: parameter values, their text packed after the struct. */
struct sq_rec {
	struct sq_rec *next;
	int rollup; /* statement index, or -1 */
	struct {
		uint8_t type;
		uint32_t len;
		union {
			int64_t i;
			double d;
			uint32_t off;
		} v;
	} p[SQ_PARAMS];
	char text[];
};

struct sqlite_sink {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, room;
	struct sq_rec *head, *tail; /* under lock */
	size_t queued;
	bool batch_ready, stop;
	uint64_t failures; /* writer-side, under lock */
};

static int rollup_of(enum core_event id)
{
	switch (id) {
	case EV_SESSION_CONNECT: return ST_CONNECT;
	case EV_LOGIN_SUCCESS: return ST_LOGIN_OK;
	case EV_LOGIN_FAILED: return ST_LOGIN_FAIL;
	case EV_COMMAND_INPUT: return ST_COMMAND;
	case EV_SESSION_FILE_DOWNLOAD: return ST_DOWNLOAD;
	case EV_SESSION_FILE_UPLOAD: return ST_UPLOAD;
	case EV_SESSION_CLOSED: return ST_CLOSED;
	default: return -1;
	}
}

/* ---- the writer thread ---- */

static void bind_param(sqlite3_stmt *st, int idx, const struct sq_rec *r, int k)
{
	switch (r->p[k].type) {
	case P_TEXT:
		sqlite3_bind_text(st, idx, r->text + r->p[k].v.off, (int)r->p[k].len,
				  SQLITE_STATIC);
		break;
	case P_INT: sqlite3_bind_int64(st, idx, r->p[k].v.i); break;
	case P_REAL: sqlite3_bind_double(st, idx, r->p[k].v.d); break;
	default: sqlite3_bind_null(st, idx);
	}
}

static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int store_one(struct sqlite_sink *s, const struct sq_rec *r)
{
	sqlite3_stmt *st = s->st[ST_EVENT];
	for (int k = 0; k < 7; k++)
		bind_param(st, k + 1, r, k);
	if (step(st))
		return -EIO;
	/* A duplicate uuid is not counted twice in the roll-up. */
	if (r->rollup < 0 || sqlite3_changes(s->db) == 0)
		return 0;
	st = s->st[r->rollup];
	int n = sqlite3_bind_parameter_count(st);
	for (int k = 0; k < n && k < SQ_PARAMS; k++)
		bind_param(st, k + 1, r, k);
	return step(st);
}

static void *sq_writer(void *arg)
{
	struct sqlite_sink *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->batch_ready && !s->stop)
			pthread_cond_wait(&s->wake, &s->lock);
		struct sq_rec *batch = s->head;
		s->head = s->tail = NULL;
		s->queued = 0;
		s->batch_ready = false;
		bool stop = s->stop;
		pthread_cond_broadcast(&s->room);
		pthread_mutex_unlock(&s->lock);

		uint64_t failed = 0;
		if (batch) {
			sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
			for (struct sq_rec *r = batch; r; r = r->next)
				failed += store_one(s, r) != 0;
			if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
				log_warn("sqlite", "commit failed: %s", sqlite3_errmsg(s->db));
				sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
				failed = 1;
			}
			while (batch) {
				struct sq_rec *next = batch->next;
				free(batch);
				batch = next;
			}
		}
		pthread_mutex_lock(&s->lock);
		if (failed && s->failures++ % 1000 == 0)
			log_warn("sqlite", "could not store %llu events",
				 (unsigned long long)failed);
		if (stop && !s->head)
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- the sink (loop thread) ---- */

static void sqlite_close(void *state)
{
	struct sqlite_sink *s = state;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	s->batch_ready = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->room);
	free(s);
}

static int sqlite_open(void **state, const struct core_config *cfg, struct core_store *store)
{
	if (core_store_schema(store, schema))
		return -EIO;
	struct sqlite_sink *s = xcalloc(1, sizeof(*s));
	char *path = core_data_path(store->data_dir, "mitsu.db");
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	free(path);
	if (rc != SQLITE_OK) {
		log_error("sqlite", "cannot open the store: %s", sqlite3_errmsg(s->db));
		sqlite3_close(s->db);
		free(s);
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-4096;", NULL, NULL,
		     NULL);
	for (int i = 0; i < ST__COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &s->st[i], NULL) != SQLITE_OK) {
			log_error("sqlite", "prepare: %s", sqlite3_errmsg(s->db));
			for (int k = 0; k < i; k++)
				sqlite3_finalize(s->st[k]);
			sqlite3_close(s->db);
			free(s);
			return -EIO;
		}
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->room, NULL);
	if (pthread_create(&s->thread, NULL, sq_writer, s)) {
		for (int k = 0; k < ST__COUNT; k++)
			sqlite3_finalize(s->st[k]);
		sqlite3_close(s->db);
		free(s);
		return -EAGAIN;
	}
	*state = s;
	return 0;
}

/* A parameter of the record: text (appended at *off), integer, real or null. */
static void set_text(struct sq_rec *r, int k, const char *v, size_t len, size_t *off)
{
	memcpy(r->text + *off, v, len);
	r->p[k].type = P_TEXT;
	r->p[k].len = (uint32_t)len;
	r->p[k].v.off = (uint32_t)*off;
	*off += len;
}

static void set_json(struct sq_rec *r, int k, const json_t *v, size_t *off)
{
	if (json_is_string(v)) {
		set_text(r, k, json_string_value(v), json_string_length(v), off);
	} else if (json_is_integer(v)) {
		r->p[k].type = P_INT;
		r->p[k].v.i = json_integer_value(v);
	} else if (json_is_real(v)) {
		r->p[k].type = P_REAL;
		r->p[k].v.d = json_real_value(v);
	} else if (json_is_boolean(v)) {
		r->p[k].type = P_INT;
		r->p[k].v.i = json_is_true(v);
	} else {
		r->p[k].type = P_NULL;
	}
}

static void set_int(struct sq_rec *r, int k, int64_t v)
{
	r->p[k].type = P_INT;
	r->p[k].v.i = v;
}

static int sqlite_write(void *state, const struct core_ev *ev)
{
	struct sqlite_sink *s = state;
	const struct core_conn *c = ev->has_conn ? &ev->conn : NULL;
	int rollup = rollup_of(ev->id);
	/* Text of the record: the common fields, the line, and the roll-up's module fields. */
	const char *common[6] = {ev->uuid,   ev->eventid,           ev->timestamp,
				 ev->sensor, c ? c->session : NULL, c ? c->src_ip : NULL};
	size_t text = ev->len;
	for (int k = 0; k < 6; k++)
		text += common[k] ? strlen(common[k]) : 0;
	const json_t *mod[2] = {0};
	if (rollup == ST_CONNECT)
		text += strlen(c ? c->protocol : "") + sizeof(c->dst_ip);
	if (rollup == ST_CONNECT || rollup == ST_LOGIN_OK || rollup == ST_CLOSED) {
		static const char *const names[ST__COUNT][2] = {
			[ST_CONNECT] = {"profile", NULL},
			[ST_LOGIN_OK] = {"username", "password"},
			[ST_CLOSED] = {"duration", "reason"},
		};
		for (int k = 0; k < 2; k++) {
			mod[k] = names[rollup][k] ? core_ev_get(ev, names[rollup][k]) : NULL;
			if (json_is_string(mod[k]))
				text += json_string_length(mod[k]);
		}
	}
	struct sq_rec *r = xmalloc(sizeof(*r) + text);
	memset(r->p, 0, sizeof(r->p));
	r->next = NULL;
	r->rollup = rollup;
	size_t off = 0;
	for (int k = 0; k < 6; k++) {
		if (common[k])
			set_text(r, k, common[k], strlen(common[k]), &off);
	}
	set_text(r, 6, ev->line, ev->len, &off);
	/* ?8.. as the roll-up statements take them (see statements[]). */
	switch (rollup) {
	case ST_CONNECT:
		if (c) {
			set_text(r, 7, c->protocol, strlen(c->protocol), &off);
			set_json(r, 8, mod[0], &off);
			set_int(r, 9, c->src_port);
			set_text(r, 10, c->dst_ip, strlen(c->dst_ip), &off);
			set_int(r, 11, c->dst_port);
		}
		break;
	case ST_LOGIN_OK:
	case ST_CLOSED:
		set_json(r, 7, mod[0], &off);
		set_json(r, 8, mod[1], &off);
		break;
	default: break;
	}
	pthread_mutex_lock(&s->lock);
	while (s->queued >= SQ_MAX_QUEUE && !s->stop) {
		s->batch_ready = true;
		pthread_cond_signal(&s->wake);
		pthread_cond_wait(&s->room, &s->lock);
	}
	if (s->tail)
		s->tail->next = r;
	else
		s->head = r;
	s->tail = r;
	s->queued++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int sqlite_flush(void *state)
{
	struct sqlite_sink *s = state;
	pthread_mutex_lock(&s->lock);
	if (s->head) {
		s->batch_ready = true;
		pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

const struct core_sink_ops core_sink_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.write = sqlite_write,
	.flush = sqlite_flush,
	.close = sqlite_close,
};
