/* `mitsu samples`: the sample store as a table or as JSON lines. */
#include "capture/capture.h"

#include <stdlib.h>
#include <string.h>

enum { F_FORMAT, F_ARCH };
static const struct core_flag samples_flags[] = {
	{.name = "format",
	 .arg = "table|json",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "a table (default) or one JSON object per sample"},
	{.name = "arch",
	 .arg = "ARCH",
	 .opt = CORE_FLAG_OWN,
	 .id = F_ARCH,
	 .help = "only samples for this CPU (arm, mips, mipsel, sh4, ...)"},
	{0},
};

static int samples_main(int argc, char **argv);

const struct core_command capture_samples_command = {
	.name = "samples",
	.summary = "List the captured samples: hashes, size, type, CPU, when and where they came "
		   "from.",
	.flags = samples_flags,
	.common = CORE_CMD_CONFIG,
	.main = samples_main,
};

struct samples_args {
	const char *format, *arch;
};

static int on_flag(void *arg, int id, const char *v)
{
	struct samples_args *a = arg;
	if (id == F_FORMAT) {
		if (strcmp(v, "table") && strcmp(v, "json")) {
			fprintf(stderr, "mitsu samples: --format is table or json\n");
			return -1;
		}
		a->format = v;
	} else {
		a->arch = v;
	}
	return 0;
}

static json_t *sources_of(sqlite3 *db, const char *sha256)
{
	json_t *arr = json_array();
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db,
			       "SELECT seen, source, method, url, src_ip, session, destfile"
			       " FROM sample_sources WHERE sha256 = ?1 ORDER BY id LIMIT 1000",
			       -1, &q, NULL) != SQLITE_OK)
		return arr;
	sqlite3_bind_text(q, 1, sha256, -1, SQLITE_STATIC);
	static const char *const cols[] = {"seen",   "source",  "method",  "url",
					   "src_ip", "session", "destfile"};
	while (sqlite3_step(q) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < 7; i++) {
			const char *v = (const char *)sqlite3_column_text(q, i);
			if (v)
				json_object_set_new(o, cols[i], core_json_str(v));
		}
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(q);
	return arr;
}

static int samples_main(int argc, char **argv)
{
	struct core_config cfg;
	core_config_init(&cfg);
	struct samples_args args = {.format = "table"};
	const char *format, *arch;
	int first, rc = core_command_parse(&capture_samples_command, argc, argv, &cfg, on_flag,
					   &args, &first);
	if (rc) {
		rc = core_command_status(rc);
		goto out;
	}
	format = args.format;
	arch = args.arch;
	struct core_store st;
	if (core_store_open(&st, core_cfg_str(&cfg, OPT_CORE_DATA_DIR), true)) {
		rc = 1;
		goto out;
	}
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(
		    st.db,
		    "SELECT sha256, sha1, md5, size, filetype, arch, first_seen, last_seen,"
		    " times_seen, (SELECT url FROM sample_sources s WHERE s.sha256 = samples.sha256"
		    " AND url IS NOT NULL ORDER BY id LIMIT 1)"
		    " FROM samples WHERE (?1 IS NULL OR arch = ?1) ORDER BY first_seen, sha256",
		    -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "mitsu samples: no samples stored in %s\n", st.data_dir);
		core_store_close(&st);
		rc = 1;
		goto out;
	}
	if (arch)
		sqlite3_bind_text(q, 1, arch, -1, SQLITE_STATIC);
	bool json = strcmp(format, "json") == 0;
	if (!json)
		printf("%-64s %9s %-7s %-8s %5s %-27s %s\n", "SHA256", "SIZE", "TYPE", "ARCH",
		       "SEEN", "FIRST SEEN", "URL");
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(q, 0);
		const char *url = (const char *)sqlite3_column_text(q, 9);
		if (json) {
			json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:I}", "sha256",
					      sha, "sha1", (const char *)sqlite3_column_text(q, 1),
					      "md5", (const char *)sqlite3_column_text(q, 2),
					      "size", (json_int_t)sqlite3_column_int64(q, 3),
					      "filetype", (const char *)sqlite3_column_text(q, 4),
					      "arch", (const char *)sqlite3_column_text(q, 5),
					      "first_seen", (const char *)sqlite3_column_text(q, 6),
					      "last_seen", (const char *)sqlite3_column_text(q, 7),
					      "times_seen", (json_int_t)sqlite3_column_int64(q, 8));
			char *path = capture_sample_path(st.data_dir, sha);
			json_object_set_new(o, "path", json_string(path));
			free(path);
			json_object_set_new(o, "sources", sources_of(st.db, sha));
			char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
			printf("%s\n", line);
			free(line);
			json_decref(o);
		} else {
			printf("%-64s %9lld %-7s %-8s %5lld %-27s %s\n", sha,
			       sqlite3_column_int64(q, 3), sqlite3_column_text(q, 4),
			       sqlite3_column_text(q, 5), sqlite3_column_int64(q, 8),
			       sqlite3_column_text(q, 6), url ? url : "-");
		}
	}
	sqlite3_finalize(q);
	core_store_close(&st);
	rc = 0;
out:
	core_config_free(&cfg);
	return rc;
}
