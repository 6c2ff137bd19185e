/* core: configuration (one options table), event ids, the event bus and its sinks, and the
 * SQLite store every part of mitsu shares. */
#ifndef MITSU_CORE_H
#define MITSU_CORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

/* DATA/mitsu.db, opened in WAL mode. Modules add their own tables with core_store_schema. */
struct core_store {
	sqlite3 *db;
	char *data_dir;
	int in_tx;
};
int core_store_open(struct core_store *st, const char *data_dir, bool readonly);
void core_store_close(struct core_store *st);
/* Runs CREATE ... IF NOT EXISTS statements. */
int core_store_schema(struct core_store *st, const char *sql);
/* Starts a transaction if none is open; core_store_commit ends it. Idempotent. */
int core_store_begin(struct core_store *st);
int core_store_commit(struct core_store *st);
/* Path of a file under the data directory; caller frees. */
char *core_data_path(const char *data_dir, const char *rel);

/* ------------------------------------------------------------------ bus and sinks */

struct core_bus;

/* One event as the bus holds it: the fields every event has, the connection's identity, the
 * module's own fields, and (once serialised, for sinks) its JSON line. Borrowed by sinks and
 * subscribers for the duration of their call. */
struct core_ev {
	enum core_event id;
	const char *eventid; /* "mitsu.x.y" */
	char timestamp[LIB_RFC3339_LEN];
	char uuid[37];
	const char *sensor;
	bool has_conn;
	struct core_conn conn; /* valid when has_conn (protocol points to static text) */
	json_t *fields;        /* the module's fields; never NULL */
	const char *line;      /* the whole event as one JSON object (sinks only) */
	size_t len;
	char message[]; /* a human sentence, NUL-terminated */
};
/* The value of a module field, or NULL. */
static inline const json_t *core_ev_get(const struct core_ev *ev, const char *key)
{
	return json_object_get(ev->fields, key);
}

/* A sink receives every event in batches; a failing sink is logged and skipped, never the
 * others. `write` gets each event with its serialised JSON line (ev->line, no newline).
 * `flush` ends a batch. */
struct core_sink_ops {
	const char *name;
	int (*open)(void **state, const struct core_config *cfg, struct core_store *store);
	int (*write)(void *state, const struct core_ev *ev);
	int (*flush)(void *state);
	void (*close)(void *state);
};
extern const struct core_sink_ops core_sink_sqlite;
extern const struct core_sink_ops core_sink_jsonl;
extern const struct core_sink_ops core_sink_postgres;

/* Opens the bus with the sinks the config enables. `store` may be NULL when the sqlite sink is
 * off. The bus borrows cfg and store; they must outlive it. */
struct core_bus *core_bus_open(const struct core_config *cfg, struct core_store *store);
/* Adds a sink of the caller's (tests use this to watch events). */
int core_bus_add_sink(struct core_bus *bus, const struct core_sink_ops *ops, void *state);
void core_bus_close(struct core_bus *bus);

/* Emits one event. `fields` (may be NULL) is stolen. eventid, timestamp, sensor, uuid and
 * message are set by the bus; `conn` (may be NULL) adds the connection fields. The message is
 * printf-formatted. Events are queued and written at the next core_bus_flush. */
void core_emit(struct core_bus *bus, const struct core_conn *conn, enum core_event id,
	       json_t *fields, const char *fmt, ...) LIB_PRINTF(5, 6);
/* The same with a finished message (no formatting). */
void core_emit_msg(struct core_bus *bus, const struct core_conn *conn, enum core_event id,
		   json_t *fields, const char *message);
/* Writes queued events to every sink and ends the batch. Call once per loop turn. */
void core_bus_flush(struct core_bus *bus);
/* Events queued and not yet written. */
size_t core_bus_pending(const struct core_bus *bus);
/* Counters for operators and tests. */
struct core_bus_stats {
	uint64_t emitted;
	uint64_t sink_failures;
};
void core_bus_stats(const struct core_bus *bus, struct core_bus_stats *out);

/* Listeners that other modules register to react to events in-process (the sample queue of
 * the sandbox). Called synchronously from core_emit with the complete event (ev->line is not
 * set yet). The callback must not emit recursively more than a bounded amount. */
typedef void (*core_event_cb)(void *arg, const struct core_ev *ev);
int core_bus_subscribe(struct core_bus *bus, core_event_cb cb, void *arg);
/* Removes the subscription made with the same cb and arg; after it returns, cb is not called
 * again with arg (so its owner may be freed). A subscriber may unsubscribe from its own cb. */
void core_bus_unsubscribe(struct core_bus *bus, core_event_cb cb, void *arg);

#endif
