/* `mitsu box`: analyse files in the sandbox (through the same queue `mitsu run` uses), print
 * one verdict per sample, or list stored verdicts. `--run-one` is the queue's child. */
#include "box/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"

struct cli {
	bool json;
	int failed;
	size_t printed;
};

static const char *yes(const json_t *v, const char *key)
{
	return json_is_true(json_object_get(json_object_get(v, key), "detected")) ? "yes" : "-";
}

static void print_verdict(struct cli *c, const json_t *v)
{
	if (strcmp(json_string_value(json_object_get(v, "verdict"))
			   ? json_string_value(json_object_get(v, "verdict"))
			   : "",
		   "error") == 0)
		c->failed++;
	if (c->json) {
		char *line = json_dumps(v, BOX_JSON);
		if (line) {
			printf("%s\n", line);
			free(line);
		}
	} else {
		if (c->printed == 0)
			printf("%-16s %-8s %-9s %-5s %-4s %-4s %-4s %-7s %s\n", "SHA256", "ARCH",
			       "FAMILY", "SCAN", "LAN", "DDOS", "CNC", "SECONDS", "VERDICT");
		const char *sha = json_string_value(json_object_get(v, "sha256"));
		printf("%-16.16s %-8s %-9s %-5s %-4s %-4s %-4zu %-7.1f %s\n", sha ? sha : "?",
		       json_string_value(json_object_get(v, "arch"))
			       ? json_string_value(json_object_get(v, "arch"))
			       : "",
		       json_string_value(json_object_get(v, "family")), yes(v, "scan"),
		       yes(v, "lan_attack"), yes(v, "ddos"),
		       json_array_size(json_object_get(v, "cnc")),
		       json_number_value(json_object_get(v, "seconds")),
		       json_string_value(json_object_get(v, "verdict"))
			       ? json_string_value(json_object_get(v, "verdict"))
			       : "");
	}
	c->printed++;
	fflush(stdout);
}

static void on_verdict(void *arg, const json_t *v)
{
	print_verdict(arg, v);
}

/* Once per loop turn, as the sensor does: events out, then what was stored this turn. */
struct turn {
	struct core_bus *bus;
	struct core_store *store;
};

static void on_check(uv_check_t *h)
{
	struct turn *t = h->data;
	core_bus_flush(t->bus);
	core_store_commit(t->store);
}

static int run_one(struct core_config *cfg, const char *path, const char *artefacts, bool dynamic)
{
	json_t *v;
	int rc = box_analyse(cfg, path, artefacts, dynamic, &v);
	if (rc) {
		/* Still a verdict, saying why there is none. */
		char now[LIB_RFC3339_LEN], why[300];
		lib_rfc3339_now(now);
		snprintf(why, sizeof(why), "cannot read the file: %s%s", strerror(-rc),
			 rc == -EFBIG ? " (larger than the 64 MiB the sandbox takes)" : "");
		fprintf(stderr, "mitsu box: %s: %s\n", path, why);
		v = json_pack("{s:s,s:s,s:s,s:s,s:{s:b,s:s},s:[],s:[]}", "file", path, "family",
			      "unknown", "verdict", "error", "analysed", now, "dynamic", "ran",
			      false, "error", why, "dns", "cnc");
	}
	char *line = json_dumps(v, BOX_JSON);
	json_decref(v);
	if (!line)
		return 1;
	printf("%s\n", line);
	free(line);
	return fflush(stdout) == 0 && rc == 0 ? 0 : 1;
}

static int results(struct core_config *cfg, bool json, bool testbed)
{
	struct core_store st;
	if (core_store_open(&st, core_cfg_str(cfg, OPT_CORE_DATA_DIR), true))
		return 1;
	json_t *rows;
	int rc = testbed ? box_report_testbed(&st, &rows) : box_report_samples(&st, 1000000, &rows);
	if (rc) {
		fprintf(stderr, "mitsu box: no verdicts stored in %s\n", st.data_dir);
		core_store_close(&st);
		return 1;
	}
	size_t i;
	json_t *x;
	if (testbed && !json)
		printf("%-10s %8s %11s %7s\n", "ARCH", "SAMPLES", "LAN ATTACK", "SHARE");
	json_array_foreach(rows, i, x) {
		if (json) {
			char *line = json_dumps(x, BOX_JSON);
			printf("%s\n", line);
			free(line);
		} else if (testbed) {
			printf("%-10s %8lld %11lld %6.1f%%\n",
			       json_string_value(json_object_get(x, "arch")),
			       json_integer_value(json_object_get(x, "samples")),
			       json_integer_value(json_object_get(x, "lan_attack")),
			       100 * json_number_value(json_object_get(x, "share")));
		} else {
			printf("%-64s %-8s %-9s scan=%s lan=%s ddos=%s %s\n",
			       json_string_value(json_object_get(x, "sha256")),
			       json_string_value(json_object_get(x, "arch"))
				       ? json_string_value(json_object_get(x, "arch"))
				       : "",
			       json_string_value(json_object_get(x, "family")),
			       json_is_true(json_object_get(x, "scan")) ? "yes" : "no",
			       json_is_true(json_object_get(x, "lan_attack")) ? "yes" : "no",
			       json_is_true(json_object_get(x, "ddos")) ? "yes" : "no",
			       json_string_value(json_object_get(x, "verdict"))
				       ? json_string_value(json_object_get(x, "verdict"))
				       : "");
		}
	}
	json_decref(rows);
	core_store_close(&st);
	return 0;
}

enum { F_FORMAT, F_STATIC, F_STORE, F_RESULTS, F_TESTBED, F_RUN_ONE, F_ART };
static const struct core_flag box_flags[] = {
	{.name = "format",
	 .arg = "json|table",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "one JSON object per sample (default) or a summary table"},
	{.name = "window", .arg = "SECS", .opt = OPT_BOX_WINDOW},
	{.name = "parallel", .arg = "N", .opt = OPT_BOX_PARALLEL},
	{.name = "static-only",
	 .opt = CORE_FLAG_OWN,
	 .id = F_STATIC,
	 .help = "no dynamic run: hashes, ELF header, packer, strings, YARA"},
	{.name = "store",
	 .opt = CORE_FLAG_OWN,
	 .id = F_STORE,
	 .help = "put the files in the sample store first; new ELF samples are then analysed "
		 "through the event bus, exactly as mitsu run does"},
	{.name = "results",
	 .opt = CORE_FLAG_OWN,
	 .id = F_RESULTS,
	 .help = "print the stored verdicts (latest per sample) instead"},
	{.name = "testbed",
	 .opt = CORE_FLAG_OWN,
	 .id = F_TESTBED,
	 .help = "with --results: the LAN-attack table by CPU architecture"},
	{.name = "run-one",
	 .arg = "FILE",
	 .opt = CORE_FLAG_OWN,
	 .id = F_RUN_ONE,
	 .help = "(internal) analyse one file and print its verdict: the sandbox queue runs "
		 "each sample in a child process this way"},
	{.name = "artefacts",
	 .arg = "DIR",
	 .opt = CORE_FLAG_OWN,
	 .id = F_ART,
	 .help = "(internal) with --run-one: where its trace, pcap and report.json go"},
	{0},
};

static int box_main(int argc, char **argv);

const struct core_command box_command = {
	.name = "box",
	.operands = "FILE... | --results [--testbed]",
	.summary = "Analyse samples in the sandbox (static analysis, then a run under qemu-user "
		   "in a sealed fake internet) and print one JSON verdict per sample.",
	.flags = box_flags,
	.common = CORE_CMD_CONFIG,
	.sections = "box",
	.main = box_main,
};

struct box_args {
	struct cli *c;
	bool dynamic, store, show, testbed;
	const char *one, *art;
};

static int on_flag(void *arg, int id, const char *v)
{
	struct box_args *a = arg;
	switch (id) {
	case F_FORMAT:
		if (strcmp(v, "json") && strcmp(v, "table")) {
			fprintf(stderr, "mitsu box: --format is json or table\n");
			return -1;
		}
		a->c->json = strcmp(v, "json") == 0;
		return 0;
	case F_STATIC: a->dynamic = false; return 0;
	case F_STORE: a->store = true; return 0;
	case F_RESULTS: a->show = true; return 0;
	case F_TESTBED: a->testbed = true; return 0;
	case F_RUN_ONE: a->one = v; return 0;
	case F_ART: a->art = v; return 0;
	}
	return -1;
}

static int box_main(int argc, char **argv)
{
	struct core_config cfg;
	core_config_init(&cfg);
	struct cli c = {.json = true};
	struct box_args a = {.c = &c, .dynamic = true};
	int first, rc = core_command_parse(&box_command, argc, argv, &cfg, on_flag, &a, &first);
	if (rc) {
		rc = core_command_status(rc);
		goto out;
	}
	bool dynamic = a.dynamic, store = a.store, show = a.show, testbed = a.testbed;
	const char *one = a.one, *art = a.art;
	if (one) {
		rc = run_one(&cfg, one, art, dynamic);
		goto out;
	}
	if (show) {
		rc = results(&cfg, c.json, testbed);
		goto out;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: ");
		core_command_synopsis(&box_command, stderr);
		fputc('\n', stderr);
		rc = 2;
		goto out;
	}
	struct core_store st;
	if (core_store_open(&st, core_cfg_str(&cfg, OPT_CORE_DATA_DIR), false)) {
		rc = 1;
		goto out;
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct core_bus *bus = core_bus_open(&cfg, &st);
	struct box_queue *q = box_queue_open(&loop, &cfg, &st, bus);
	if (!q) {
		fprintf(stderr, "mitsu box: cannot create the sandbox tables\n");
		core_bus_close(bus);
		core_store_close(&st);
		uv_loop_close(&loop);
		rc = 1;
		goto out;
	}
	box_queue_on_verdict(q, on_verdict, &c);
	uv_check_t check;
	struct turn turn = {.bus = bus, .store = &st};
	uv_check_init(&loop, &check);
	check.data = &turn;
	uv_check_start(&check, on_check);
	uv_unref((uv_handle_t *)&check);
	if (!dynamic)
		box_queue_static_only(q);
	struct capture_samples *cs = NULL;
	if (store && capture_samples_open(&cs, &st, bus)) {
		fprintf(stderr, "mitsu box: cannot open the sample store\n");
		cs = NULL;
	}
	int bad = 0;
	for (int i = first; i < argc; i++) {
		if (store && cs) {
			uint8_t *data;
			size_t len;
			if (lib_read_file(argv[i], BOX_SAMPLE_MAX, &data, &len)) {
				fprintf(stderr, "mitsu box: cannot read %s\n", argv[i]);
				bad++;
				continue;
			}
			struct capture_origin origin = {.source = "cli", .destfile = argv[i]};
			struct capture_sample s;
			if (capture_sample_put(cs, data, len, &origin, NULL, &s))
				bad++;
			else if (s.duplicate || strcmp(s.filetype, "elf") != 0)
				fprintf(stderr, "mitsu box: %s: %s, not analysed again\n", argv[i],
					s.duplicate ? "already in the sample store"
						    : "not an ELF file");
			free(data);
		} else if (box_queue_submit(q, argv[i], NULL, 0)) {
			bad++;
		}
	}
	core_bus_flush(bus);
	core_store_commit(&st);
	uv_run(&loop, UV_RUN_DEFAULT);
	struct box_queue_stats qs;
	box_queue_stats(q, &qs);
	box_queue_close(q);
	uv_close((uv_handle_t *)&check, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	capture_samples_close(cs);
	core_bus_close(bus);
	core_store_close(&st);
	uv_loop_close(&loop);
	rc = bad || c.failed || qs.failed ? 1 : 0;
out:
	core_config_free(&cfg);
	return rc;
}
