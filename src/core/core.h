/* core: configuration (one options table), event ids, the event bus and its sinks, and the
 * SQLite store every part of mitsu shares. */
#ifndef MITSU_CORE_H
#define MITSU_CORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "core/events.h"
#include "core/options.h"
#include "lib/lib.h"

/* ------------------------------------------------------------------ config */

enum core_opt_type {
	CORE_OPT_STR,
	CORE_OPT_INT,
	CORE_OPT_BOOL,
	CORE_OPT_SIZE,
	CORE_OPT_LIST,
	CORE_OPT_SECS
};

#define CORE_OPT_ENUM(id, sec, key, type, def, min, max, help) OPT_##id,
enum core_opt { CORE_OPTIONS(CORE_OPT_ENUM) OPT__COUNT };
#undef CORE_OPT_ENUM

struct core_option {
	const char *section;
	const char *key;
	enum core_opt_type type;
	const char *def;
	long long min, max;
	const char *help;
};
extern const struct core_option core_options[OPT__COUNT];
const char *core_opt_type_name(enum core_opt_type t);

/* Each value is kept as text (for messages and LIST options) and, for INT, SECS, SIZE and BOOL,
 * as the number it was parsed into when it was set: the getters below read a field and parse
 * nothing, so they cost nothing on a hot path. */
struct core_config {
	char *value[OPT__COUNT];
	long long num[OPT__COUNT];
	bool set_on_cmdline[OPT__COUNT];
	bool list_from_cmdline[OPT__COUNT]; /* a LIST flag given once: later ones append */
};

/* Fills every option with its default. */
void core_config_init(struct core_config *cfg);
void core_config_free(struct core_config *cfg);
/* Looks up "section.key"; returns the option id or -1. */
int core_config_find(const char *section, const char *key);
/* Validates and sets one option. For LIST options `append` adds to the list instead of
 * replacing it. On error writes a reason into err and returns -EINVAL. */
int core_config_set(struct core_config *cfg, int opt, const char *value, bool append, char *err,
		    size_t errlen);
/* "section.key=value" (--set). */
int core_config_set_kv(struct core_config *cfg, const char *kv, char *err, size_t errlen);
/* Reads an INI file (libinih). Options set on the command line are not overwritten. */
int core_config_load(struct core_config *cfg, const char *path, char *err, size_t errlen);

const char *core_cfg_str(const struct core_config *cfg, enum core_opt opt);
long long core_cfg_int(const struct core_config *cfg, enum core_opt opt); /* INT, SECS */
uint64_t core_cfg_size(const struct core_config *cfg, enum core_opt opt);
bool core_cfg_bool(const struct core_config *cfg, enum core_opt opt);
/* Splits a LIST option; returns the count and a NULL-terminated array the caller frees with
 * core_list_free. */
size_t core_cfg_list(const struct core_config *cfg, enum core_opt opt, char ***items);
void core_list_free(char **items);

/* Help text for the options of some sections ("scope,limits"; NULL: all), as `mitsu help`
 * prints them. */
void core_config_print_help(FILE *out, const char *sections);

/* ------------------------------------------------------------------ subcommands */

/* One flag of a subcommand. One table per subcommand generates its getopt parsing, its usage,
 * `mitsu help CMD` and its man page entry. A flag either sets an option of the options table
 * (`opt`; the value's type, bounds, default and help come from the table; a switch sets
 * `value`), or is the command's own (`opt` = CORE_FLAG_OWN: the command's handler receives `id`
 * and the value). Every tunable with a default belongs in the options table, so that the INI
 * file and --set reach it too; own flags are for what one invocation does (--format, --out). */
#define CORE_FLAG_OWN (-1)
struct core_flag {
	const char *name;  /* long name, without "--" */
	char shortname;    /* 0: none */
	const char *arg;   /* the value's name in usage ("FILE"); NULL for a switch */
	int opt;           /* OPT_* or CORE_FLAG_OWN */
	const char *value; /* a switch that sets an option: the value it sets */
	int id;            /* own flags: what the handler receives */
	const char *help;  /* own flags; for options it replaces the table's help when set */
};

/* CORE_CMD_CONFIG: the command reads the configuration and takes the common flags -c FILE,
 * --data-dir DIR, --set SECTION.KEY=VALUE and --log-level LEVEL. */
#define CORE_CMD_CONFIG 1u

struct core_command {
	const char *name;
	const char *operands;          /* after the flags in the synopsis; NULL: none allowed */
	const char *summary;           /* one paragraph */
	const struct core_flag *flags; /* ends with an entry whose name is NULL; may be NULL */
	unsigned common;               /* CORE_CMD_* */
	const char *sections;          /* options sections listed by its help ("scope"); "*": all */
	int (*main)(int argc, char **argv);
};

/* A command's own flag: returns 0, or -1 after printing why the value is wrong. */
typedef int (*core_flag_fn)(void *arg, int id, const char *value);

/* Parses argv (argv[0] is the command's name) by cmd's flags. Option flags go into cfg as
 * command-line values (a LIST flag given several times makes a list); own flags go to on_flag
 * (may be NULL when there are none). The operands are argv[*first .. argc). Then loads the
 * -c FILE (command-line values win) and applies core.log_level.
 * Returns 0; 1 when --help was asked (help printed to stdout: exit 0); 2 on a usage error
 * (printed to stderr: exit 2). */
int core_command_parse(const struct core_command *cmd, int argc, char **argv,
		       struct core_config *cfg, core_flag_fn on_flag, void *arg, int *first);
/* The exit status of a command whose core_command_parse returned rc (help: 0). */
static inline int core_command_status(int rc)
{
	return rc == 1 ? 0 : rc;
}
/* `usage: ...` line(s) and the flags, for --help and usage errors. */
void core_command_usage(const struct core_command *cmd, FILE *out);
/* The whole help of a command: usage, summary, flags and its sections' options. */
void core_command_help(const struct core_command *cmd, FILE *out);
/* The synopsis line ("mitsu scope [options] PCAP... | --live IFACE"). */
void core_command_synopsis(const struct core_command *cmd, FILE *out);
/* The command's entry of the man page in roff: synopsis, summary, flags. */
void core_command_man(const struct core_command *cmd, FILE *out);
/* roff text: a leading dot or quote escaped, backslashes and dashes written as roff wants. */
void core_roff(FILE *out, const char *s);

/* `mitsu events`: stored events as JSON lines. */
extern const struct core_command core_events_command;

/* ------------------------------------------------------------------ events */

#define CORE_EV_ENUM(id, name, doc) EV_##id,
enum core_event { CORE_EVENTS(CORE_EV_ENUM) EV__COUNT };
#undef CORE_EV_ENUM

struct core_event_info {
	const char *name;
	const char *doc;
};
extern const struct core_event_info core_events[EV__COUNT];
/* Returns the id of "mitsu.x.y" or -1. */
int core_event_find(const char *name);

/* The identity of one connection, bound once by the sensor. Emitting with it overwrites any
 * field of the same name a module passed, so a peer can never pose as another source. */
struct core_conn {
	char session[17];
	const char *protocol;
	char src_ip[46];
	int src_port;
	char dst_ip[46];
	int dst_port;
};
/* Makes a fresh random session id (16 hex characters). */
void core_session_id(char out[17]);

/* A JSON string from bytes a peer sent: valid UTF-8 is kept, each invalid byte becomes the
 * four characters \xHH (as Python's backslashreplace). Never NULL. */
json_t *core_json_bytes(const void *p, size_t n);
/* Length of the valid UTF-8 sequence at p (1 to 4 bytes), or 0 if it is not one. */
size_t core_utf8_len(const uint8_t *p, size_t n);
/* Writes s as a JSON string literal (quotes included) through put, in pieces: valid UTF-8 as it
 * is, control characters escaped as jansson does (\n, \b, \u001F...), and a byte that is not
 * valid UTF-8 as the four characters \xHH (as core_json_bytes). For hand-written JSON. */
typedef void (*core_put_fn)(void *arg, const char *p, size_t n);
void core_json_escape(const char *s, size_t n, core_put_fn put, void *arg);
json_t *core_json_str(const char *s);

/* ------------------------------------------------------------------ store */

/* DATA/mitsu.db (SQLite, WAL). A process writes it through one writer: one connection on one
 * thread runs every write of every module (events and the sessions roll-up, samples and their
 * sources, sandbox verdicts, darknet intervals, what new modules add) as a *job*, many jobs per
 * transaction. Each transaction is BEGIN IMMEDIATE, so a read in a job (is this sample known?)
 * decides its write with no other writer in between, and nothing ever meets SQLITE_BUSY
 * halfway. Each job runs in a savepoint of its own: a job that fails is undone alone.
 *
 * A job's outcome reaches its submitter on the submitter's thread once the transaction that
 * ran it is committed (`done` with 0) or has failed (a negative errno: -ENOSPC when the disk
 * is full). `done` is where the events describing what the job stored are emitted, so that no
 * event names a row that is not stored, and a failed write is never announced as stored.
 *
 * Readers (`mitsu events`, reports, the dashboard) open the store read-only, each with its own
 * connection; they see committed transactions only. */
struct core_writer;
struct core_store {
	sqlite3 *db; /* a reader's read-only connection; NULL on the writer's side */
	char *data_dir;
	struct core_writer *writer; /* the writer; NULL for a reader */
};

/* The host of a URL as an SQL expression over the column `u` (a string literal): what follows
 * "scheme://" up to the first '/', '?' or '#', without "user@" and ":port", the brackets of an
 * IPv6 address removed, lower case ("http://u@[2001:DB8::1]:80/x" -> "2001:db8::1"); NULL
 * without "://". Built-in functions only (deterministic), so that an index can be made on it:
 * sample_sources_url_host (capture/samples.c) is CORE_URL_HOST("url"), and a query finds it
 * only by this same expression (`CORE_URL_HOST("url") = ?`, report/ip.c). */
#define CORE_URL_REST_(u) \
	"replace(replace(substr(" u ", instr(" u ", '://') + 3), '?', '/'), '#', '/')"
#define CORE_URL_AUTH_(u) \
	"substr(" CORE_URL_REST_(u) ", 1, instr(" CORE_URL_REST_(u) " || '/', '/') - 1)"
#define CORE_URL_HOSTPORT_(u) "substr(" CORE_URL_AUTH_(u) ", instr(" CORE_URL_AUTH_(u) ", '@') + 1)"
#define CORE_URL_V6_(hp) "substr(" hp ", 2, instr(" hp ", ']') - 2)"
#define CORE_URL_NAME_(hp) "substr(" hp ", 1, instr(" hp " || ':', ':') - 1)"
#define CORE_URL_UNPORT_(hp) \
	"lower(CASE WHEN substr(" hp \
	", 1, 1) = '[' THEN " CORE_URL_V6_(hp) " ELSE " CORE_URL_NAME_(hp) " END)"
#define CORE_URL_HOST(u) \
	"(CASE WHEN instr(" u ", '://') > 0 THEN " CORE_URL_UNPORT_(CORE_URL_HOSTPORT_(u)) " END)"

/* readonly: a reader (st->db for queries on the caller's thread). Otherwise the writer: creates
 * the data directory and the database if needed and starts the writer's thread. */
int core_store_open(struct core_store *st, const char *data_dir, bool readonly);
/* The writer: runs every job submitted, calls their `done` (core_store_sync), stops the
 * thread. The caller's loop must be unwatched first (core_store_unwatch). */
void core_store_close(struct core_store *st);

/* What a job sees: the writer's connection inside the open transaction. */
struct core_tx;
/* Runs on the writer's thread. Returns 0 or a negative errno (its changes are then undone).
 * It must touch nothing the submitter's thread uses meanwhile. */
typedef int (*core_job_fn)(struct core_tx *tx, void *arg);
/* Runs on the submitter's thread once the job's transaction committed (0) or failed. */
typedef void (*core_done_fn)(void *arg, int status);

/* Queues a job (any thread). `done` may be NULL. Returns 0, or -EPIPE once the store closes. */
int core_store_submit(struct core_store *st, core_job_fn job, core_done_fn done, void *arg);
/* Runs one job and waits until it is committed; returns its status. For commands without a
 * loop (mitsu scope) and start-up; never call it from a job. */
int core_store_run(struct core_store *st, core_job_fn job, void *arg);
/* Runs CREATE ... IF NOT EXISTS statements (through core_store_run). */
int core_store_schema(struct core_store *st, const char *sql);
/* Jobs submitted whose `done` has not run yet. */
size_t core_store_pending(const struct core_store *st);

/* `done` callbacks run on the thread that calls core_store_poll or core_store_sync. With
 * core_store_watch they run on a libuv loop: an async handle wakes it when some are ready, and
 * keeps it alive while jobs are pending (uv_run returns only after the last `done`). Call
 * core_store_watch, core_store_unwatch and core_store_submit on the loop's thread then. */
void core_store_poll(struct core_store *st);
/* Waits until every job submitted so far is committed, then runs the ready `done` callbacks
 * (which may submit more: those are not waited for). */
void core_store_sync(struct core_store *st);
int core_store_watch(struct core_store *st, uv_loop_t *loop);
void core_store_unwatch(struct core_store *st);

struct core_store_stats {
	uint64_t jobs;         /* run */
	uint64_t failed;       /* jobs whose status was an error */
	uint64_t transactions; /* committed */
	int last_error;        /* the last failure's negative errno, 0 if none */
};
void core_store_stats(const struct core_store *st, struct core_store_stats *out);

/* A statement of the writer's connection, prepared once per store and kept (so `sql` must be
 * a string constant: it is looked up by its address), reset and with no bindings. NULL if it
 * does not compile (the job should return -EIO). */
sqlite3_stmt *core_tx_stmt(struct core_tx *tx, const char *sql);
/* Steps q: 1 for a row (read it, then step again or leave it: the statement is reset at its
 * next core_tx_stmt and before the commit), 0 when done, or a negative errno (-ENOSPC: the
 * disk is full, -EIO: other errors, logged with SQLite's message once per cause). */
int core_tx_step(struct core_tx *tx, sqlite3_stmt *q);
/* Runs SQL without parameters; 0 or a negative errno as core_tx_step. */
int core_tx_exec(struct core_tx *tx, const char *sql);
/* The writer's connection (sqlite3_last_insert_rowid, sqlite3_changes). */
sqlite3 *core_tx_db(struct core_tx *tx);
/* Working memory of at least `size` bytes, zeroed, kept by the writer from job to job (a
 * job's big table, allocated and freed per batch, was faulted in again every time); valid
 * until the job returns. Every call returns the same memory, grown if need be. */
void *core_tx_scratch(struct core_tx *tx, size_t size);
/* A negative errno for an SQLite result code (SQLITE_FULL: -ENOSPC, ...). */
int core_sqlite_errno(int rc);
/* Path of a file under the data directory; caller frees. */
char *core_data_path(const char *data_dir, const char *rel);

/* ------------------------------------------------------------------ bus and sinks */

struct core_bus;

/* One event as the bus holds it, from core_emit to the flush: the fields every event has, the
 * connection's identity and the module's own fields. Subscribers borrow it for the duration
 * of their call. */
struct core_ev {
	enum core_event id;
	const char *eventid; /* "mitsu.x.y" */
	char timestamp[LIB_RFC3339_LEN];
	char uuid[37];
	const char *sensor;
	bool has_conn;
	struct core_conn conn; /* valid when has_conn (protocol points to static text) */
	json_t *fields;        /* the module's fields; never NULL */
	char message[];        /* a human sentence, NUL-terminated */
};
/* The value of a module field, or NULL. */
static inline const json_t *core_ev_get(const struct core_ev *ev, const char *key)
{
	return json_object_get(ev->fields, key);
}

/* Events go out in batches (core_bus_flush, once per loop turn). With the SQLite store on
 * (sinks.sqlite), a batch is first written to mitsu.db by the store's writer (the `events`
 * table and the `sessions` roll-up, in one transaction), and only then handed to the sinks: an
 * event in events.jsonl or PostgreSQL is in mitsu.db too, and since modules emit an event only
 * once what it describes is committed (see the store), no sink ever names a row that is not
 * stored. A batch that mitsu.db refuses (disk full) still goes to the sinks; it is counted.
 *
 * A sink receives every event of a batch through `write` (the whole event as one JSON object,
 * no newline), then `flush`. A failing sink is counted and logged, never the others. Sinks run
 * on the bus's thread (the loop). */
struct core_sink_ops {
	const char *name;
	int (*open)(void **state, const struct core_config *cfg);
	/* Optional, once after open when mitsu.db takes the events: adds what mitsu.db has and
	 * the sink lacks (a sensor killed between the commit and the sink's write). */
	void (*catch_up)(void *state, const struct core_store *st);
	int (*write)(void *state, enum core_event id, const char *line, size_t len);
	int (*flush)(void *state);
	void (*close)(void *state);
};
extern const struct core_sink_ops core_sink_jsonl;
extern const struct core_sink_ops core_sink_postgres;

/* Opens the bus with the sinks the config enables; `store` (the writer; may be NULL) takes the
 * events when sinks.sqlite is on. The bus borrows cfg and store; they must outlive it. */
struct core_bus *core_bus_open(const struct core_config *cfg, struct core_store *store);
/* Adds a sink of the caller's (tests use this to watch events). */
int core_bus_add_sink(struct core_bus *bus, const struct core_sink_ops *ops, void *state);
/* Drains (core_bus_drain), closes the sinks and frees the bus. */
void core_bus_close(struct core_bus *bus);

/* Emits one event. `fields` (may be NULL) is stolen. eventid, timestamp, sensor, uuid and
 * message are set by the bus; `conn` (may be NULL) adds the connection fields. The message is
 * printf-formatted. Events are queued and written at the next core_bus_flush. */
void core_emit(struct core_bus *bus, const struct core_conn *conn, enum core_event id,
	       json_t *fields, const char *fmt, ...) LIB_PRINTF(5, 6);
/* The same with a finished message (no formatting). */
void core_emit_msg(struct core_bus *bus, const struct core_conn *conn, enum core_event id,
		   json_t *fields, const char *message);
/* Ends the batch of queued events: to mitsu.db through the store's writer, then (once it is
 * committed, from core_store_poll) to every sink; without the SQLite store, to the sinks at
 * once. Call once per loop turn. */
void core_bus_flush(struct core_bus *bus);
/* Flushes and waits until every event emitted so far, and those the store's `done` callbacks
 * emit meanwhile, has reached mitsu.db and every sink. At stop. */
void core_bus_drain(struct core_bus *bus);
/* Events queued and not yet flushed. */
size_t core_bus_pending(const struct core_bus *bus);
/* Counters for operators and tests (logged when the bus closes). */
struct core_bus_stats {
	uint64_t emitted;
	uint64_t sink_failures;  /* writes or flushes a sink refused */
	uint64_t store_failures; /* events mitsu.db did not take (their batch failed) */
	uint64_t dropped;        /* events too large to serialise */
};
void core_bus_stats(const struct core_bus *bus, struct core_bus_stats *out);

/* Listeners that other modules register to react to events in-process (the sample queue of
 * the sandbox). Called synchronously from core_emit with the complete event. The callback must
 * not emit recursively more than a bounded amount. */
typedef void (*core_event_cb)(void *arg, const struct core_ev *ev);
int core_bus_subscribe(struct core_bus *bus, core_event_cb cb, void *arg);
/* Removes the subscription made with the same cb and arg; after it returns, cb is not called
 * again with arg (so its owner may be freed). A subscriber may unsubscribe from its own cb. */
void core_bus_unsubscribe(struct core_bus *bus, core_event_cb cb, void *arg);

#endif
