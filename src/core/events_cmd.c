/* `mitsu events`: stored events as JSON lines, oldest first. */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

enum { F_TYPE, F_SESSION, F_SINCE, F_LIMIT };
static const struct core_flag events_flags[] = {
	{.name = "type",
	 .arg = "EVENTID",
	 .opt = CORE_FLAG_OWN,
	 .id = F_TYPE,
	 .help = "only events of this id (mitsu help --events lists them)"},
	{.name = "session",
	 .arg = "ID",
	 .opt = CORE_FLAG_OWN,
	 .id = F_SESSION,
	 .help = "only the events of one session"},
	{.name = "since",
	 .arg = "TIME",
	 .opt = CORE_FLAG_OWN,
	 .id = F_SINCE,
	 .help = "only events at or after TIME (RFC 3339 or YYYY-MM-DD)"},
	{.name = "limit",
	 .shortname = 'n',
	 .arg = "N",
	 .opt = CORE_FLAG_OWN,
	 .id = F_LIMIT,
	 .help = "at most N events"},
	{0},
};

static int events_main(int argc, char **argv);

const struct core_command core_events_command = {
	.name = "events",
	.summary = "Print stored events as JSON lines, oldest first.",
	.flags = events_flags,
	.common = CORE_CMD_CONFIG,
	.main = events_main,
};

struct events_args {
	const char *type, *session, *since;
	/* Stored timestamps are RFC 3339 UTC with fixed width, so text order is time order;
	 * --since is normalised to the same form. */
	char since_norm[LIB_RFC3339_LEN];
	long long limit;
};

static int on_flag(void *arg, int id, const char *v)
{
	struct events_args *a = arg;
	switch (id) {
	case F_TYPE:
		if (core_event_find(v) < 0) {
			fprintf(stderr, "mitsu events: unknown event id %s\n", v);
			return -1;
		}
		a->type = v;
		return 0;
	case F_SESSION: a->session = v; return 0;
	case F_SINCE:
		if (lib_time_normalise(v, a->since_norm, NULL)) {
			fprintf(stderr,
				"mitsu events: --since wants RFC 3339 time or YYYY-MM-DD\n");
			return -1;
		}
		a->since = a->since_norm;
		return 0;
	case F_LIMIT:
		if (lib_parse_int(v, &a->limit) || a->limit < 0) {
			fprintf(stderr, "mitsu events: --limit wants a number\n");
			return -1;
		}
		return 0;
	}
	return -1;
}

static int print_events(struct core_store *st, const struct events_args *a)
{
	sqlite3_stmt *q = NULL;
	const char *sql = "SELECT json FROM events WHERE (?1 IS NULL OR eventid = ?1)"
			  " AND (?2 IS NULL OR session = ?2) AND (?3 IS NULL OR timestamp >= ?3)"
			  " ORDER BY id LIMIT ?4";
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "mitsu events: no events stored in %s\n", st->data_dir);
		return 1;
	}
	if (a->type)
		sqlite3_bind_text(q, 1, a->type, -1, SQLITE_STATIC);
	if (a->session)
		sqlite3_bind_text(q, 2, a->session, -1, SQLITE_STATIC);
	if (a->since)
		sqlite3_bind_text(q, 3, a->since, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, a->limit);
	int s;
	while ((s = sqlite3_step(q)) == SQLITE_ROW)
		printf("%s\n", (const char *)sqlite3_column_text(q, 0));
	int rc = s == SQLITE_DONE ? 0 : 1;
	if (rc)
		fprintf(stderr, "mitsu events: %s\n", sqlite3_errmsg(st->db));
	sqlite3_finalize(q);
	return rc;
}

static int events_main(int argc, char **argv)
{
	struct core_config cfg;
	core_config_init(&cfg);
	struct events_args a = {.limit = -1};
	int first, rc = core_command_parse(&core_events_command, argc, argv, &cfg, on_flag, &a,
					   &first);
	if (rc) {
		core_config_free(&cfg);
		return core_command_status(rc);
	}
	struct core_store st;
	rc = 1;
	if (core_store_open(&st, core_cfg_str(&cfg, OPT_CORE_DATA_DIR), true) == 0) {
		rc = print_events(&st, &a);
		core_store_close(&st);
	}
	core_config_free(&cfg);
	return rc;
}
