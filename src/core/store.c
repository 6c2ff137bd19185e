/* The SQLite store under the data directory (DATA/mitsu.db) and its one writer.
 *
 * Readers open a read-only connection each. The writer owns the only read-write connection
 * of the process and one thread: jobs queued by any module are taken in arrival order, as
 * many as are waiting (up to STORE_MAX_BATCH; after a commit they are let gather, see
 * STORE_GATHER_MS), and run in one BEGIN IMMEDIATE transaction,
 * each inside a savepoint so that one failing job is undone alone. After the COMMIT each job's
 * status moves to the ready list, whose `done` callbacks run on the submitter's thread
 * (core_store_poll, or the watched loop's async handle). Nothing but the writer's thread ever
 * touches the connection or the statement cache (struct core_tx). */
#include "core/core.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Jobs in one transaction at most; the rest wait for the next one. */
#define STORE_MAX_BATCH 4096
/* Statements the writer keeps prepared (a power of two). */
#define STORE_MAX_STMTS 128
/* Milliseconds a BEGIN IMMEDIATE waits for another process's writer (mitsu scope, mitsu box
 * --store on the same data folder) before the jobs fail with -EBUSY. */
#define STORE_BUSY_MS 10000
/* Bytes per page of a new database (an existing one keeps its own). Appends dominate the
 * write path, and a larger page means fewer page writes to the WAL and back per event: at
 * 16 KiB the writer spends about half the CPU per session it spends at SQLite's 4 KiB (see
 * docs/operations.md); 64 KiB gains little more and costs readers' point queries. */
#define STORE_PAGE_SIZE 16384
/* Page cache of the writer's connection, KiB: the B-trees' hot pages stay in memory. */
#define STORE_CACHE_KIB 16384
/* Milliseconds from one transaction's start to the next's: jobs that come meanwhile wait and
 * go into the next one together. A commit writes every page it changed to the WAL, whole
 * (16 KiB), however few of its rows changed: the last page of `events`, the last leaf of each
 * event type in `events_eventid`, the leaves of `sessions_src_start` (one per source address),
 * and the inner pages above them. With a transaction per 25 ms batch of the bus, a Mirai
 * scanner session cost ~24 KB of writes (WAL and checkpoint) for ~4 KB of events; gathered,
 * each page is written once for many more rows (docs/operations.md, "Speed of the default
 * store"). A job someone waits for (core_store_run, core_store_sync, closing) ends the wait. */
#define STORE_GATHER_MS 200
/* Jobs waiting that end the gathering at once: the bus's batches are up to 2,048 events, and
 * it waits for the writer past 32,768 in flight (BUS_MAX_INFLIGHT), which the gathering must
 * never reach. */
#define STORE_GATHER_JOBS 8
/* Seconds between two log lines about the same failing cause. */
#define STORE_LOG_EVERY_S 60

struct store_job {
	struct store_job *next;
	core_job_fn fn;
	core_done_fn done;
	void *arg;
	int status;
	bool sync;     /* core_store_run: the waiting thread frees it */
	bool finished; /* sync: committed or failed */
};

/* The writer thread's own state: the connection and its prepared statements. */
struct core_tx {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *q;
	} stmts[STORE_MAX_STMTS];
	void *scratch; /* core_tx_scratch */
	size_t scratch_size;
	int fail_rc;          /* the cause being reported, 0 while writes succeed */
	uint64_t fail_count;  /* failures since writes last succeeded */
	uint64_t fail_logged; /* monotonic ms of the last log line about it */
};

struct core_writer {
	struct core_tx tx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, finished;
	/* under lock */
	struct store_job *head, *tail;        /* queued */
	struct store_job *ready, *ready_tail; /* committed or failed, `done` not yet run */
	uint64_t submitted, completed;
	size_t pending; /* asynchronous jobs whose `done` has not run */
	size_t queued;  /* jobs in head..tail */
	size_t waiters; /* threads waiting for a job's end: the writer does not gather then */
	bool stop, watching;
	struct core_store_stats stats;
	/* the watched loop's thread only */
	uv_async_t async;
	bool async_ref;
};

char *core_data_path(const char *data_dir, const char *rel)
{
	return xasprintf("%s/%s", data_dir, rel);
}

int core_sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE: return 0;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_READONLY: return -EROFS;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_CONSTRAINT: return -EEXIST;
	case SQLITE_CANTOPEN: return -ENOENT;
	default: return -EIO;
	}
}

/* SQLite keeps allocation statistics behind a global mutex by default; mitsu never reads them,
 * and every thread with a connection would take that mutex on every allocation. Must run
 * before the first connection of the process. */
static void memstatus_off(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void store_configure_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, memstatus_off);
}

/* ------------------------------------------------------------------ the writer's thread */

/* A failure of the writer's connection: logged once per cause, then once a minute with the
 * count, so a full disk is one clear line, not one per event. */
static void tx_failed(struct core_tx *tx, int rc)
{
	uint64_t now = lib_mono_ms();
	tx->fail_count++;
	if (rc == tx->fail_rc && now - tx->fail_logged < STORE_LOG_EVERY_S * 1000u)
		return;
	const char *why = (rc & 0xff) == SQLITE_FULL
				  ? " (the data folder's disk is full: nothing more is stored in "
				    "mitsu.db until space is freed; the sensor goes on)"
				  : "";
	log_error("store", "mitsu.db refused a write: %s%s; %llu failed writes so far",
		  sqlite3_errmsg(tx->db), why, (unsigned long long)tx->fail_count);
	tx->fail_rc = rc;
	tx->fail_logged = now;
}

static void tx_succeeded(struct core_tx *tx)
{
	if (!tx->fail_rc)
		return;
	log_info("store", "mitsu.db takes writes again (%llu writes failed meanwhile)",
		 (unsigned long long)tx->fail_count);
	tx->fail_rc = 0;
	tx->fail_count = 0;
}

static size_t stmt_slot(const char *sql)
{
	uint64_t h = (uint64_t)(uintptr_t)sql * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 32) & (STORE_MAX_STMTS - 1);
}

sqlite3_stmt *core_tx_stmt(struct core_tx *tx, const char *sql)
{
	size_t i = stmt_slot(sql);
	for (size_t n = 0; n < STORE_MAX_STMTS; n++, i = (i + 1) & (STORE_MAX_STMTS - 1)) {
		if (tx->stmts[i].sql == sql) {
			sqlite3_stmt *q = tx->stmts[i].q;
			sqlite3_reset(q);
			sqlite3_clear_bindings(q);
			return q;
		}
		if (!tx->stmts[i].sql) {
			sqlite3_stmt *q;
			int rc = sqlite3_prepare_v3(tx->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q,
						    NULL);
			if (rc != SQLITE_OK) {
				log_error("store", "cannot prepare %.60s...: %s", sql,
					  sqlite3_errmsg(tx->db));
				return NULL;
			}
			tx->stmts[i].sql = sql;
			tx->stmts[i].q = q;
			return q;
		}
	}
	log_error("store", "more than %d statements: raise STORE_MAX_STMTS", STORE_MAX_STMTS);
	return NULL;
}

int core_tx_step(struct core_tx *tx, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(q);
		return 0;
	}
	rc = sqlite3_extended_errcode(tx->db);
	tx_failed(tx, rc);
	sqlite3_reset(q);
	return core_sqlite_errno(rc) ? core_sqlite_errno(rc) : -EIO;
}

int core_tx_exec(struct core_tx *tx, const char *sql)
{
	int rc = sqlite3_exec(tx->db, sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	rc = sqlite3_extended_errcode(tx->db);
	tx_failed(tx, rc);
	return core_sqlite_errno(rc) ? core_sqlite_errno(rc) : -EIO;
}

sqlite3 *core_tx_db(struct core_tx *tx)
{
	return tx->db;
}

void *core_tx_scratch(struct core_tx *tx, size_t size)
{
	if (size > tx->scratch_size) {
		free(tx->scratch);
		tx->scratch = xmalloc(size);
		tx->scratch_size = size;
	}
	memset(tx->scratch, 0, size);
	return tx->scratch;
}

/* Statements of the writer itself, cached like the jobs'. */
static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_savepoint[] = "SAVEPOINT job";
static const char sql_release[] = "RELEASE job";
static const char sql_undo[] = "ROLLBACK TO job";

static int tx_run(struct core_tx *tx, const char *sql)
{
	sqlite3_stmt *q = core_tx_stmt(tx, sql);
	return q ? core_tx_step(tx, q) : -EIO;
}

static bool tx_open(struct core_tx *tx)
{
	return !sqlite3_get_autocommit(tx->db);
}

static int run_job(struct core_tx *tx, struct store_job *j)
{
	int rc = tx_run(tx, sql_savepoint);
	if (rc)
		return rc;
	rc = j->fn(tx, j->arg);
	if (rc == 0) {
		rc = tx_run(tx, sql_release);
	} else if (tx_open(tx)) {
		tx_run(tx, sql_undo);
		tx_run(tx, sql_release);
	}
	return rc;
}

/* Every cached statement reset: a statement left on a row would keep the COMMIT waiting. */
static void reset_stmts(struct core_tx *tx)
{
	for (size_t i = 0; i < STORE_MAX_STMTS; i++)
		if (tx->stmts[i].q)
			sqlite3_reset(tx->stmts[i].q);
}

static void fail_from(struct store_job *from, struct store_job *to, int rc)
{
	for (struct store_job *k = from; k != to; k = k->next)
		if (!k->status)
			k->status = rc;
}

/* Runs the jobs from..NULL in one transaction (a new one if SQLite rolled the first back on
 * its own, as it may on a full disk). Sets each job's status. Returns 1 per commit. */
static int run_batch(struct core_tx *tx, struct store_job *batch)
{
	int commits = 0;
	struct store_job *first = batch;
	int rc = tx_run(tx, sql_begin);
	for (struct store_job *j = batch; j; j = j->next) {
		if (rc) {
			j->status = rc;
			continue;
		}
		j->status = run_job(tx, j);
		if (j->status && !tx_open(tx)) {
			/* The whole transaction is gone: the jobs before lost their rows too. */
			fail_from(first, j, j->status);
			first = j->next;
			rc = first ? tx_run(tx, sql_begin) : 0;
		}
	}
	if (rc || !tx_open(tx))
		return commits;
	reset_stmts(tx);
	rc = tx_run(tx, sql_commit);
	if (rc) {
		if (tx_open(tx))
			sqlite3_exec(tx->db, "ROLLBACK", NULL, NULL, NULL);
		fail_from(first, NULL, rc);
	} else {
		commits++;
		tx_succeeded(tx);
	}
	return commits;
}

/* Under the lock: lets jobs gather until `start` + STORE_GATHER_MS, unless someone waits for
 * one, STORE_GATHER_JOBS are waiting or the writer stops. */
static void gather_jobs(struct core_writer *w, uint64_t start)
{
	uint64_t until = start + STORE_GATHER_MS;
	for (;;) {
		uint64_t now = lib_mono_ms();
		if (w->stop || w->waiters || w->queued >= STORE_GATHER_JOBS || now >= until)
			return;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + (until - now) * 1000000u;
		ts.tv_sec += (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		pthread_cond_timedwait(&w->work, &w->lock, &ts);
	}
}

static void *writer_main(void *arg)
{
	struct core_writer *w = arg;
	/* Named for top, perf and the bench's per-thread CPU (15 characters at most). */
	pthread_setname_np(pthread_self(), "mitsu-store");
	uint64_t started = 0; /* the last transaction's start, monotonic ms */
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->work, &w->lock);
		if (!w->head)
			break;
		gather_jobs(w, started);
		started = lib_mono_ms();
		struct store_job *batch = w->head, *last = batch;
		size_t taken = 1;
		for (; taken < STORE_MAX_BATCH && last->next; taken++)
			last = last->next;
		w->queued -= taken;
		w->head = last->next;
		if (!w->head)
			w->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&w->lock);

		int commits = run_batch(&w->tx, batch);

		pthread_mutex_lock(&w->lock);
		w->stats.transactions += (uint64_t)commits;
		bool ready = false;
		while (batch) {
			struct store_job *j = batch;
			batch = j->next;
			j->next = NULL;
			w->completed++;
			w->stats.jobs++;
			if (j->status) {
				w->stats.failed++;
				w->stats.last_error = j->status;
			}
			if (j->sync) {
				j->finished = true;
				w->waiters--;
				continue;
			}
			if (w->ready_tail)
				w->ready_tail->next = j;
			else
				w->ready = j;
			w->ready_tail = j;
			ready = true;
		}
		pthread_cond_broadcast(&w->finished);
		if (ready && w->watching)
			uv_async_send(&w->async);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* ------------------------------------------------------------------ open, close */

static int open_reader(struct core_store *st, const char *data_dir)
{
	char *path = core_data_path(data_dir, "mitsu.db");
	int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	free(path);
	if (rc != SQLITE_OK) {
		log_error("store", "cannot open the store in %s: %s", data_dir,
			  st->db ? sqlite3_errmsg(st->db) : "out of memory");
		sqlite3_close(st->db);
		st->db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	st->data_dir = xstrdup(data_dir);
	return 0;
}

static int open_writer(struct core_store *st, const char *data_dir)
{
	int rc = lib_mkdirs(data_dir, 0750);
	if (rc) {
		log_error("store", "cannot create %s: %s", data_dir, strerror(-rc));
		return rc;
	}
	struct core_writer *w = xcalloc(1, sizeof(*w));
	char *path = core_data_path(data_dir, "mitsu.db");
	rc = sqlite3_open_v2(path, &w->tx.db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	free(path);
	char *err = NULL;
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(w->tx.db, STORE_BUSY_MS);
		char pragmas[200];
		snprintf(pragmas, sizeof(pragmas),
			 "PRAGMA page_size=%d; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
			 "PRAGMA cache_size=-%d; PRAGMA temp_store=MEMORY; "
			 /* Debian's SQLite zeroes the bytes of every cell it frees or moves (the
			  * roll-up's upserts, page splits): 4% of the writer's instructions, for
			  * nothing here: mitsu.db holds nothing whose old bytes must be wiped. */
			 "PRAGMA secure_delete=OFF;",
			 STORE_PAGE_SIZE, STORE_CACHE_KIB);
		rc = sqlite3_exec(w->tx.db, pragmas, NULL, NULL, &err);
	}
	if (rc != SQLITE_OK) {
		log_error("store", "cannot open the store in %s: %s", data_dir,
			  err        ? err
			  : w->tx.db ? sqlite3_errmsg(w->tx.db)
				     : "out of memory");
		sqlite3_free(err);
		sqlite3_close(w->tx.db);
		free(w);
		return -EIO;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t monotonic;
	pthread_condattr_init(&monotonic);
	pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
	pthread_cond_init(&w->work, &monotonic);
	pthread_condattr_destroy(&monotonic);
	pthread_cond_init(&w->finished, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w)) {
		sqlite3_close(w->tx.db);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->finished);
		free(w);
		return -EAGAIN;
	}
	st->writer = w;
	st->data_dir = xstrdup(data_dir);
	return 0;
}

int core_store_open(struct core_store *st, const char *data_dir, bool readonly)
{
	store_configure_once();
	memset(st, 0, sizeof(*st));
	return readonly ? open_reader(st, data_dir) : open_writer(st, data_dir);
}

void core_store_close(struct core_store *st)
{
	struct core_writer *w = st->writer;
	if (w) {
		if (w->watching)
			log_error("store", "closed while a loop watches it: unwatch first");
		/* Every job runs, every `done` is called, including those a `done` submits. */
		while (core_store_pending(st))
			core_store_sync(st);
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		for (size_t i = 0; i < STORE_MAX_STMTS; i++)
			sqlite3_finalize(w->tx.stmts[i].q);
		sqlite3_close(w->tx.db);
		free(w->tx.scratch);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->finished);
		free(w);
	}
	if (st->db)
		sqlite3_close(st->db);
	free(st->data_dir);
	memset(st, 0, sizeof(*st));
}

/* ------------------------------------------------------------------ jobs */

static struct store_job *queue_job(struct core_writer *w, core_job_fn fn, core_done_fn done,
				   void *arg, bool sync)
{
	struct store_job *j = xcalloc(1, sizeof(*j));
	j->fn = fn;
	j->done = done;
	j->arg = arg;
	j->sync = sync;
	pthread_mutex_lock(&w->lock);
	if (w->stop) {
		pthread_mutex_unlock(&w->lock);
		free(j);
		return NULL;
	}
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued++;
	w->submitted++;
	if (sync)
		w->waiters++;
	if (!sync)
		w->pending++;
	pthread_cond_signal(&w->work);
	bool watching = w->watching;
	pthread_mutex_unlock(&w->lock);
	/* A watched loop stays alive while jobs are pending (its thread is the caller's). */
	if (watching && !sync && !w->async_ref) {
		uv_ref((uv_handle_t *)&w->async);
		w->async_ref = true;
	}
	return j;
}

int core_store_submit(struct core_store *st, core_job_fn job, core_done_fn done, void *arg)
{
	if (!st->writer)
		return -EROFS;
	return queue_job(st->writer, job, done, arg, false) ? 0 : -EPIPE;
}

int core_store_run(struct core_store *st, core_job_fn job, void *arg)
{
	struct core_writer *w = st->writer;
	if (!w)
		return -EROFS;
	struct store_job *j = queue_job(w, job, NULL, arg, true);
	if (!j)
		return -EPIPE;
	pthread_mutex_lock(&w->lock);
	while (!j->finished)
		pthread_cond_wait(&w->finished, &w->lock);
	pthread_mutex_unlock(&w->lock);
	int rc = j->status;
	free(j);
	return rc;
}

static int schema_job(struct core_tx *tx, void *arg)
{
	return core_tx_exec(tx, arg);
}

int core_store_schema(struct core_store *st, const char *sql)
{
	int rc = core_store_run(st, schema_job, (void *)sql);
	if (rc)
		log_error("store", "cannot create tables: %s", strerror(-rc));
	return rc;
}

size_t core_store_pending(const struct core_store *st)
{
	struct core_writer *w = st->writer;
	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	size_t n = w->pending;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void core_store_poll(struct core_store *st)
{
	struct core_writer *w = st->writer;
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	struct store_job *j = w->ready;
	w->ready = w->ready_tail = NULL;
	pthread_mutex_unlock(&w->lock);
	size_t n = 0;
	while (j) {
		struct store_job *next = j->next;
		if (j->done)
			j->done(j->arg, j->status);
		free(j);
		j = next;
		n++;
	}
	pthread_mutex_lock(&w->lock);
	w->pending -= n;
	bool idle = w->pending == 0 && w->watching;
	pthread_mutex_unlock(&w->lock);
	if (idle && w->async_ref) {
		uv_unref((uv_handle_t *)&w->async);
		w->async_ref = false;
	}
}

void core_store_sync(struct core_store *st)
{
	struct core_writer *w = st->writer;
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	uint64_t target = w->submitted;
	w->waiters++;
	pthread_cond_signal(&w->work);
	while (w->completed < target)
		pthread_cond_wait(&w->finished, &w->lock);
	w->waiters--;
	pthread_mutex_unlock(&w->lock);
	core_store_poll(st);
}

static void on_async(uv_async_t *h)
{
	core_store_poll(h->data);
}

int core_store_watch(struct core_store *st, uv_loop_t *loop)
{
	struct core_writer *w = st->writer;
	if (!w)
		return -EROFS;
	int rc = uv_async_init(loop, &w->async, on_async);
	if (rc)
		return rc;
	w->async.data = st;
	pthread_mutex_lock(&w->lock);
	w->watching = true;
	bool busy = w->pending > 0;
	pthread_mutex_unlock(&w->lock);
	w->async_ref = busy;
	if (!busy)
		uv_unref((uv_handle_t *)&w->async);
	if (busy)
		uv_async_send(&w->async);
	return 0;
}

void core_store_unwatch(struct core_store *st)
{
	struct core_writer *w = st->writer;
	if (!w || !w->watching)
		return;
	pthread_mutex_lock(&w->lock);
	w->watching = false;
	pthread_mutex_unlock(&w->lock);
	uv_close((uv_handle_t *)&w->async, NULL);
}

void core_store_stats(const struct core_store *st, struct core_store_stats *out)
{
	struct core_writer *w = st->writer;
	memset(out, 0, sizeof(*out));
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	*out = w->stats;
	pthread_mutex_unlock(&w->lock);
}
