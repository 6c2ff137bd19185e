/* PostgreSQL sink: the fleet store. Many sensors write to one database; nothing is lost while
 * it is away.
 *
 * The loop thread only copies each serialised event into a bounded queue. A writer thread
 * owns the libpq connection and inserts batches in one statement with ON CONFLICT (uuid) DO
 * NOTHING, so an insert retried after an error never stores an event twice. When the database
 * cannot be reached, or the queue is full, events are appended to spool files under
 * DATA/spool/; once the database answers again the writer replays the spool (oldest file first)
 * and deletes each file after its last batch is committed. At stop the queue goes to the
 * database if it is up, else to the spool. */
#include "core/core.h"
#include "core/pg_dl.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Events per INSERT statement. */
#define PG_BATCH 500
/* Seconds between reconnection attempts, doubling up to the maximum. */
#define PG_RETRY_MIN 1
#define PG_RETRY_MAX 60
/* A spool file is closed and a new one started past this size. */
#define PG_SPOOL_FILE_MAX (64u << 20)
/* Seconds libpq may take to connect. */
#define PG_CONNECT_TIMEOUT "5"

static const char pg_schema[] =
	"CREATE TABLE IF NOT EXISTS events ("
	"  uuid uuid PRIMARY KEY,"
	"  eventid text NOT NULL,"
	"  ts timestamptz NOT NULL,"
	"  sensor text,"
	"  session text,"
	"  src_ip text,"
	"  event jsonb NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_eventid_ts ON events (eventid, ts);"
	"CREATE INDEX IF NOT EXISTS events_sensor_session ON events (sensor, session);";

/* One statement for a whole batch: $1 is a JSON array of events. */
static const char pg_insert[] =
	"INSERT INTO events (uuid, eventid, ts, sensor, session, src_ip, event)"
	" SELECT (e->>'uuid')::uuid, e->>'eventid', (e->>'timestamp')::timestamptz, e->>'sensor',"
	"        e->>'session', e->>'src_ip', e"
	" FROM jsonb_array_elements($1::jsonb) AS e"
	" ON CONFLICT (uuid) DO NOTHING";

struct pg_line {
	struct pg_line *next;
	size_t len;
	char text[];
};

struct pg_sink {
	char *conninfo;
	char *spool_dir;
	size_t max_queue;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct pg_line *head, *tail; /* queue, under lock */
	size_t queued;
	bool stop;
	/* the writer's own */
	PGconn *conn;
	unsigned retry;
	uint64_t next_try_ms;
	FILE *spool; /* the spool file being appended to, under lock */
	char *spool_path;
	size_t spool_size;
	unsigned spool_seq;
};

/* ---- spool files (appended under the lock, by either thread) ---- */

static int spool_append(struct pg_sink *s, const char *text, size_t len)
{
	if (!s->spool || s->spool_size > PG_SPOOL_FILE_MAX) {
		if (s->spool)
			fclose(s->spool);
		free(s->spool_path);
		/* Names sort in time order: seconds, then a sequence number. */
		s->spool_path =
			xasprintf("%s/pg-%012lld-%06u.jsonl", s->spool_dir,
				  (long long)(lib_real_us() / 1000000), s->spool_seq++ % 1000000);
		s->spool = fopen(s->spool_path, "ae");
		s->spool_size = 0;
		if (!s->spool) {
			log_error("postgres", "cannot write the spool file %s", s->spool_path);
			return -EIO;
		}
	}
	if (fwrite(text, 1, len, s->spool) != len || fputc('\n', s->spool) == EOF)
		return -EIO;
	s->spool_size += len + 1;
	return 0;
}

static void spool_close_current(struct pg_sink *s)
{
	if (s->spool) {
		fflush(s->spool);
		fsync(fileno(s->spool));
		fclose(s->spool);
		s->spool = NULL;
	}
}

/* ---- the database side (writer thread) ---- */

/* The database failed us: wait before the next attempt (doubling, bounded). */
static void pg_backoff(struct pg_sink *s)
{
	s->retry = s->retry ? LIB_MIN(s->retry * 2, PG_RETRY_MAX) : PG_RETRY_MIN;
	s->next_try_ms = lib_mono_ms() + s->retry * 1000u;
	if (s->conn) {
		core_PQfinish(s->conn);
		s->conn = NULL;
	}
}

static bool pg_connect(struct pg_sink *s)
{
	if (s->conn && core_PQstatus(s->conn) == CONNECTION_OK)
		return true;
	uint64_t now = lib_mono_ms();
	if (now < s->next_try_ms)
		return false;
	if (s->conn)
		core_PQfinish(s->conn);
	/* connect_timeout after the expanded string so a dead host cannot hang the writer. */
	const char *const keys[] = {"dbname", "connect_timeout", NULL};
	const char *const vals[] = {s->conninfo, PG_CONNECT_TIMEOUT, NULL};
	s->conn = core_PQconnectdbParams(keys, vals, 1);
	if (core_PQstatus(s->conn) == CONNECTION_OK) {
		PGresult *r = core_PQexec(s->conn, pg_schema);
		bool ok = core_PQresultStatus(r) == PGRES_COMMAND_OK;
		core_PQclear(r);
		if (ok) {
			if (s->retry)
				log_info("postgres", "connected again");
			s->retry = 0;
			return true;
		}
	}
	log_warn("postgres", "cannot reach the database (%s); spooling",
		 core_PQerrorMessage(s->conn));
	pg_backoff(s);
	return false;
}

/* Inserts lines[0..n) in one statement. */
static bool pg_insert_batch(struct pg_sink *s, char **lines, size_t *lens, size_t n)
{
	struct buf arr;
	buf_init(&arr, 0);
	buf_append(&arr, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_append(&arr, ",", 1);
		buf_append(&arr, lines[i], lens[i]);
	}
	buf_append(&arr, "]", 1);
	const char *params[1] = {(const char *)arr.data};
	PGresult *r = core_PQexecParams(s->conn, pg_insert, 1, NULL, params, NULL, NULL, 0);
	bool ok = core_PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok) {
		log_warn("postgres", "insert failed: %s", core_PQresultErrorMessage(r));
		/* A broken batch (not the connection) would fail forever: keep it aside. */
		if (core_PQstatus(s->conn) == CONNECTION_OK) {
			char *bad = xasprintf("%s/rejected.jsonl", s->spool_dir);
			FILE *f = fopen(bad, "ae");
			if (f) {
				for (size_t i = 0; i < n; i++)
					fprintf(f, "%.*s\n", (int)lens[i], lines[i]);
				fclose(f);
			}
			free(bad);
			ok = true;
		}
	}
	core_PQclear(r);
	buf_free(&arr);
	return ok;
}

static int spool_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays spool files, oldest first, while the database answers. */
static void spool_replay(struct pg_sink *s)
{
	pthread_mutex_lock(&s->lock);
	spool_close_current(s);
	pthread_mutex_unlock(&s->lock);
	DIR *d = opendir(s->spool_dir);
	if (!d)
		return;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (lib_str_prefix(e->d_name, "pg-") && lib_str_suffix(e->d_name, ".jsonl")) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xasprintf("%s/%s", s->spool_dir, e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), spool_name_cmp);
	for (size_t i = 0; i < n; i++) {
		FILE *f = fopen(names[i], "re");
		bool ok = f != NULL;
		char *lines[PG_BATCH];
		size_t lens[PG_BATCH], nb = 0;
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		while (ok && (len = getline(&line, &cap, f)) > 0) {
			if (line[len - 1] == '\n')
				line[--len] = '\0';
			if (len == 0)
				continue;
			lines[nb] = xstrndup(line, (size_t)len);
			lens[nb++] = (size_t)len;
			if (nb == PG_BATCH) {
				ok = pg_insert_batch(s, lines, lens, nb);
				while (nb)
					free(lines[--nb]);
			}
		}
		if (ok && nb)
			ok = pg_insert_batch(s, lines, lens, nb);
		while (nb)
			free(lines[--nb]);
		free(line);
		if (f)
			fclose(f);
		/* Rows already inserted from a file that then failed are skipped on the next
		 * replay by ON CONFLICT: the file stays until all of it is in. */
		if (ok)
			unlink(names[i]);
		free(names[i]);
		if (!ok) {
			for (size_t k = i + 1; k < n; k++)
				free(names[k]);
			break;
		}
	}
	free(names);
}

static bool spool_pending(struct pg_sink *s)
{
	DIR *d = opendir(s->spool_dir);
	if (!d)
		return false;
	struct dirent *e;
	bool any = false;
	while (!any && (e = readdir(d)))
		any = lib_str_prefix(e->d_name, "pg-");
	closedir(d);
	return any;
}

static void *pg_writer(void *arg)
{
	struct pg_sink *s = arg;
	bool replay = spool_pending(s);
	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (!s->head && !s->stop && !(replay && lib_mono_ms() >= s->next_try_ms)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&s->wake, &s->lock, &ts);
		}
		struct pg_line *batch = s->head, *last = NULL;
		size_t n = 0;
		for (struct pg_line *l = s->head; l && n < PG_BATCH; l = l->next, n++)
			last = l;
		if (last) {
			s->head = last->next;
			if (!s->head)
				s->tail = NULL;
			last->next = NULL;
			s->queued -= n;
		}
		bool stop = s->stop && !s->head;
		pthread_mutex_unlock(&s->lock);

		bool up = pg_connect(s);
		if (up && replay) {
			spool_replay(s);
			replay = spool_pending(s);
			if (replay)
				pg_backoff(s);
		}
		if (batch) {
			char *lines[PG_BATCH];
			size_t lens[PG_BATCH], k = 0;
			for (struct pg_line *l = batch; l; l = l->next, k++) {
				lines[k] = l->text;
				lens[k] = l->len;
			}
			if (!(up && !replay && pg_insert_batch(s, lines, lens, k))) {
				/* Order matters less than loss: what cannot go now waits in the
				 * spool. */
				pthread_mutex_lock(&s->lock);
				for (struct pg_line *l = batch; l; l = l->next)
					spool_append(s, l->text, l->len);
				if (s->spool)
					fflush(s->spool);
				pthread_mutex_unlock(&s->lock);
				if (up && !replay)
					pg_backoff(s);
				replay = true;
			}
			while (batch) {
				struct pg_line *next = batch->next;
				free(batch);
				batch = next;
			}
		}
		if (stop)
			break;
	}
	return NULL;
}

/* ---- the sink (loop thread) ---- */

LIB_DL_LIBRARY(core_pg_load, CORE_PG_SONAME, CORE_PG_PACKAGE, CORE_PG_SYMBOLS)

static int pg_open(void **state, const struct core_config *cfg)
{
	char why[256];
	int rc = core_pg_load(why, sizeof(why));
	if (rc) {
		log_error("postgres", "cannot load libpq: %s", why);
		return rc;
	}
	struct pg_sink *s = xcalloc(1, sizeof(*s));
	s->conninfo = xstrdup(core_cfg_str(cfg, OPT_SINKS_POSTGRES));
	s->spool_dir = core_data_path(core_cfg_str(cfg, OPT_CORE_DATA_DIR), "spool");
	s->max_queue = (size_t)core_cfg_int(cfg, OPT_SINKS_POSTGRES_QUEUE);
	rc = lib_mkdirs(s->spool_dir, 0750);
	if (rc) {
		free(s->conninfo);
		free(s->spool_dir);
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	if (pthread_create(&s->thread, NULL, pg_writer, s)) {
		free(s->conninfo);
		free(s->spool_dir);
		free(s);
		return -EAGAIN;
	}
	*state = s;
	return 0;
}

static int pg_write(void *state, enum core_event id, const char *line, size_t len)
{
	struct pg_sink *s = state;
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	if (s->queued >= s->max_queue) {
		rc = spool_append(s, line, len);
	} else {
		struct pg_line *l = xmalloc(sizeof(*l) + len + 1);
		l->next = NULL;
		l->len = len;
		memcpy(l->text, line, len);
		l->text[len] = '\0';
		if (s->tail)
			s->tail->next = l;
		else
			s->head = l;
		s->tail = l;
		s->queued++;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int pg_flush(void *state)
{
	struct pg_sink *s = state;
	pthread_mutex_lock(&s->lock);
	if (s->spool)
		fflush(s->spool);
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void pg_close(void *state)
{
	struct pg_sink *s = state;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	/* Do not wait for a dead database at stop: one quick try, then the spool. */
	s->next_try_ms = 0;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	spool_close_current(s);
	if (s->conn)
		core_PQfinish(s->conn);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s->spool_path);
	free(s->conninfo);
	free(s->spool_dir);
	free(s);
}

const struct core_sink_ops core_sink_postgres = {
	.name = "postgres",
	.open = pg_open,
	.write = pg_write,
	.flush = pg_flush,
	.close = pg_close,
};
