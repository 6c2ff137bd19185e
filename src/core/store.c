/* The SQLite store under the data directory: open in WAL mode, schema, transactions. */
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *core_data_path(const char *data_dir, const char *rel)
{
	return xasprintf("%s/%s", data_dir, rel);
}

/* SQLite keeps allocation statistics behind a global mutex by default; mitsu never reads them,
 * and the store's writer thread would take that mutex on every allocation. Must run before
 * the first connection of the process. */
static void store_configure_once(void)
{
	static bool done;
	if (!done) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		done = true;
	}
}

int core_store_open(struct core_store *st, const char *data_dir, bool readonly)
{
	store_configure_once();
	memset(st, 0, sizeof(*st));
	if (!readonly) {
		int rc = lib_mkdirs(data_dir, 0750);
		if (rc) {
			log_error("store", "cannot create %s: %s", data_dir, strerror(-rc));
			return rc;
		}
	}
	char *path = core_data_path(data_dir, "mitsu.db");
	int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	free(path);
	if (rc != SQLITE_OK) {
		log_error("store", "cannot open the store in %s: %s", data_dir,
			  st->db ? sqlite3_errmsg(st->db) : "out of memory");
		sqlite3_close(st->db);
		st->db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(st->db, 5000);
	st->data_dir = xstrdup(data_dir);
	if (!readonly) {
		char *err = NULL;
		if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
				 NULL, NULL, &err) != SQLITE_OK) {
			log_warn("store", "cannot enable WAL: %s", err ? err : "?");
			sqlite3_free(err);
		}
	}
	return 0;
}

void core_store_close(struct core_store *st)
{
	if (!st->db)
		return;
	core_store_commit(st);
	sqlite3_close(st->db);
	st->db = NULL;
	free(st->data_dir);
	st->data_dir = NULL;
}

int core_store_schema(struct core_store *st, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_error("store", "schema: %s", err ? err : "?");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

int core_store_begin(struct core_store *st)
{
	if (st->in_tx)
		return 0;
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	st->in_tx = 1;
	return 0;
}

int core_store_commit(struct core_store *st)
{
	if (!st->in_tx)
		return 0;
	st->in_tx = 0;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_warn("store", "commit failed: %s", sqlite3_errmsg(st->db));
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	return 0;
}
