/* Command-line flags shared by the subcommands, and `mitsu events`. */
#include "core/core.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int core_cmdline_option(struct core_config *cfg, struct core_cmdline *cl, int opt, const char *arg)
{
	char err[256];
	int id = -1;
	switch (opt) {
	case 'c': cl->config_path = arg; return 1;
	case 0x100: id = OPT_CORE_DATA_DIR; break;
	case 0x101:
		if (core_config_set_kv(cfg, arg, err, sizeof(err))) {
			fprintf(stderr, "mitsu: %s\n", err);
			return -1;
		}
		return 1;
	case 0x102: id = OPT_CORE_LOG_LEVEL; break;
	default: return 0;
	}
	if (core_config_set(cfg, id, arg, false, err, sizeof(err))) {
		fprintf(stderr, "mitsu: %s\n", err);
		return -1;
	}
	cfg->set_on_cmdline[id] = true;
	return 1;
}

int core_cmdline_finish(struct core_config *cfg, struct core_cmdline *cl)
{
	char err[512];
	if (cl->config_path && core_config_load(cfg, cl->config_path, err, sizeof(err))) {
		fprintf(stderr, "mitsu: %s: %s\n", cl->config_path, err);
		return -1;
	}
	enum log_level lvl;
	if (log_parse_level(core_cfg_str(cfg, OPT_CORE_LOG_LEVEL), &lvl)) {
		fprintf(stderr, "mitsu: core.log_level must be debug, info, warn or error\n");
		return -1;
	}
	log_set_level(lvl);
	return 0;
}

static void events_usage(FILE *out)
{
	fprintf(out,
		"usage: mitsu events [-c FILE] [--data-dir DIR] [--type EVENTID] [--session ID]\n"
		"                    [--since TIME] [--limit N]\n");
}

int core_events_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CORE_CMDLINE_LONGOPTS,
		{"type", required_argument, NULL, 't'},
		{"session", required_argument, NULL, 's'},
		{"since", required_argument, NULL, 'S'},
		{"limit", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct core_config cfg;
	struct core_cmdline cl = {0};
	core_config_init(&cfg);
	const char *type = NULL, *session = NULL, *since = NULL;
	/* Stored timestamps are RFC 3339 UTC with fixed width, so text order is time order;
	 * --since is normalised to the same form. */
	char since_norm[LIB_RFC3339_LEN] = "";
	long long limit = -1;
	int rc = 2, c;
	while ((c = getopt_long(argc, argv, CORE_CMDLINE_SHORTOPTS "n:h", longopts, NULL)) != -1) {
		int r = core_cmdline_option(&cfg, &cl, c, optarg);
		if (r < 0)
			goto out;
		if (r > 0)
			continue;
		switch (c) {
		case 't':
			if (core_event_find(optarg) < 0) {
				fprintf(stderr, "mitsu events: unknown event id %s\n", optarg);
				goto out;
			}
			type = optarg;
			break;
		case 's': session = optarg; break;
		case 'S':
			if (lib_time_normalise(optarg, since_norm, NULL)) {
				fprintf(stderr, "mitsu events: --since wants RFC 3339 time or "
						"YYYY-MM-DD\n");
				goto out;
			}
			since = since_norm;
			break;
		case 'n':
			if (lib_parse_int(optarg, &limit) || limit < 0) {
				fprintf(stderr, "mitsu events: --limit wants a number\n");
				goto out;
			}
			break;
		case 'h':
			events_usage(stdout);
			rc = 0;
			goto out;
		default: events_usage(stderr); goto out;
		}
	}
	if (optind < argc || core_cmdline_finish(&cfg, &cl)) {
		if (optind < argc)
			events_usage(stderr);
		goto out;
	}

	struct core_store st;
	if (core_store_open(&st, core_cfg_str(&cfg, OPT_CORE_DATA_DIR), true)) {
		rc = 1;
		goto out;
	}
	sqlite3_stmt *q = NULL;
	const char *sql = "SELECT json FROM events WHERE (?1 IS NULL OR eventid = ?1)"
			  " AND (?2 IS NULL OR session = ?2) AND (?3 IS NULL OR timestamp >= ?3)"
			  " ORDER BY id LIMIT ?4";
	if (sqlite3_prepare_v2(st.db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "mitsu events: no events stored in %s\n", st.data_dir);
		core_store_close(&st);
		rc = 1;
		goto out;
	}
	if (type)
		sqlite3_bind_text(q, 1, type, -1, SQLITE_STATIC);
	if (session)
		sqlite3_bind_text(q, 2, session, -1, SQLITE_STATIC);
	if (since)
		sqlite3_bind_text(q, 3, since, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, limit);
	int s;
	while ((s = sqlite3_step(q)) == SQLITE_ROW)
		printf("%s\n", (const char *)sqlite3_column_text(q, 0));
	rc = s == SQLITE_DONE ? 0 : 1;
	if (rc)
		fprintf(stderr, "mitsu events: %s\n", sqlite3_errmsg(st.db));
	sqlite3_finalize(q);
	core_store_close(&st);
out:
	core_config_free(&cfg);
	return rc;
}
