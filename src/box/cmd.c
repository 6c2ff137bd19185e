/* `mitsu box`: analyse files in the sandbox (through the same queue `mitsu run` uses), print
 * one verdict per sample, or list stored verdicts. `--run-one` is the queue's child. */
#include "box/internal.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mitsu box [-c FILE] [--data-dir DIR] [--set box.KEY=VALUE] [--format "
		"json|table]\n"
		"                 [--window SECS] [--parallel N] [--static-only] [--store] "
		"FILE...\n"
		"       mitsu box [-c FILE] [--data-dir DIR] --results [--format json|table] "
		"[--testbed]\n"
		"\n"
		"  --format json|table  one JSON object per sample (default) or a summary table\n"
		"  --window SECS        observation window (box.window)\n"
		"  --parallel N         runs at once (box.parallel)\n"
		"  --static-only        no dynamic run: hashes, ELF header, packer, strings, YARA\n"
		"  --store              put the files in the sample store first; new ELF samples "
		"are then\n"
		"                       analysed through the event bus, exactly as `mitsu run` "
		"does\n"
		"  --results            print the stored verdicts (latest per sample) instead\n"
		"  --testbed            with --results: the LAN-attack table by CPU "
		"architecture\n");
}

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

int box_main(int argc, char **argv)
{
	enum {
		O_FORMAT = 0x200,
		O_WINDOW,
		O_PARALLEL,
		O_STATIC,
		O_STORE,
		O_RESULTS,
		O_TESTBED,
		O_RUN_ONE,
		O_ART
	};
	static const struct option longopts[] = {
		CORE_CMDLINE_LONGOPTS,
		{"format", required_argument, NULL, O_FORMAT},
		{"window", required_argument, NULL, O_WINDOW},
		{"parallel", required_argument, NULL, O_PARALLEL},
		{"static-only", no_argument, NULL, O_STATIC},
		{"store", no_argument, NULL, O_STORE},
		{"results", no_argument, NULL, O_RESULTS},
		{"testbed", no_argument, NULL, O_TESTBED},
		{"run-one", required_argument, NULL, O_RUN_ONE},
		{"artefacts", required_argument, NULL, O_ART},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct core_config cfg;
	struct core_cmdline cl = {0};
	core_config_init(&cfg);
	struct cli c = {.json = true};
	bool dynamic = true, store = false, show = false, testbed = false;
	const char *one = NULL, *art = NULL;
	char err[200];
	int rc = 2, o;
	while ((o = getopt_long(argc, argv, CORE_CMDLINE_SHORTOPTS "h", longopts, NULL)) != -1) {
		int r = core_cmdline_option(&cfg, &cl, o, optarg);
		if (r < 0)
			goto out;
		if (r > 0)
			continue;
		switch (o) {
		case O_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
				fprintf(stderr, "mitsu box: --format is json or table\n");
				goto out;
			}
			c.json = strcmp(optarg, "json") == 0;
			break;
		case O_WINDOW:
		case O_PARALLEL:
			if (core_config_set(&cfg, o == O_WINDOW ? OPT_BOX_WINDOW : OPT_BOX_PARALLEL,
					    optarg, false, err, sizeof(err))) {
				fprintf(stderr, "mitsu box: %s\n", err);
				goto out;
			}
			cfg.set_on_cmdline[o == O_WINDOW ? OPT_BOX_WINDOW : OPT_BOX_PARALLEL] =
				true;
			break;
		case O_STATIC: dynamic = false; break;
		case O_STORE: store = true; break;
		case O_RESULTS: show = true; break;
		case O_TESTBED: testbed = true; break;
		case O_RUN_ONE: one = optarg; break;
		case O_ART: art = optarg; break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default: usage(stderr); goto out;
		}
	}
	if (core_cmdline_finish(&cfg, &cl))
		goto out;
	if (one) {
		rc = run_one(&cfg, one, art, dynamic);
		goto out;
	}
	if (show) {
		rc = results(&cfg, c.json, testbed);
		goto out;
	}
	if (optind >= argc) {
		usage(stderr);
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
	for (int i = optind; i < argc; i++) {
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
