/* `mitsu ident`: identify the devices behind addresses, CIDRs, single services
 * (PROBE://ADDR:PORT) or the sources the sensor recorded (--from-store). One line per host in
 * text, JSON lines or CSV; each result is also a mitsu.ident.result event in the store. */
#include "ident/ident_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Hosts queued ahead of the ones in flight: targets (a /12 is a million addresses) are fed
 * as the queue drains, never expanded into memory at once. */
#define CMD_QUEUE_PER_SLOT 2

enum { F_FORMAT, F_FROM_STORE, F_NO_STORE, F_CHECK };
static const struct core_flag ident_flags[] = {
	{.name = "format",
	 .shortname = 'F',
	 .arg = "text|json|csv",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "output, one host per line (default text)"},
	{.name = "from-store",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FROM_STORE,
	 .help = "add every source address the sensor recorded in the data directory"},
	{.name = "no-store",
	 .opt = CORE_FLAG_OWN,
	 .id = F_NO_STORE,
	 .help = "do not write mitsu.ident.result events to the data directory"},
	{.name = "check-fingerprints",
	 .opt = CORE_FLAG_OWN,
	 .id = F_CHECK,
	 .help = "check every fingerprint's examples and the categories, then exit"},
	{.name = "fingerprints", .arg = "DIR", .opt = OPT_IDENT_FINGERPRINTS},
	{.name = "allow-private",
	 .opt = OPT_IDENT_ALLOW_PRIVATE,
	 .value = "true",
	 .help = "probe loopback, private and reserved addresses too"},
	IDENT_ENGINE_FLAGS,
	{0},
};

static int ident_main(int argc, char **argv);

const struct core_command ident_command = {
	.name = "ident",
	.operands = "[TARGET...]",
	.summary = "Identify the devices behind hosts from what their own services say (Telnet, "
		   "HTTP, HTTPS, RTSP, FTP, SSH, UPnP) against Recog-format fingerprints. A "
		   "TARGET is an address, an IPv4 CIDR, or PROBE://ADDR:PORT for one service. "
		   "Connects out only to the targets, under the rate caps of [ident]; private, "
		   "loopback and reserved addresses are refused unless --allow-private.",
	.flags = ident_flags,
	.common = CORE_CMD_CONFIG,
	.sections = "ident",
	.main = ident_main,
};

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV };

struct ident_cmd {
	struct core_config cfg;
	enum out_format fmt;
	bool from_store, no_store, check;
	char **specs;
	size_t nspecs;
	/* the feeder */
	struct ident_target cur;
	size_t spec_i;
	uint64_t addr_i;
	bool cur_ok, fed_all, stopped;
	struct ident_engine *engine;
	size_t queue_max;
	struct core_store store;
	bool store_open;
	struct core_bus *bus;
	uv_timer_t max_time, kick;
	uv_signal_t sigint, sigterm;
	uint64_t hosts, answered, identified, refused;
	size_t peak_hosts;
	int errors;
};

static int on_flag(void *arg, int id, const char *v)
{
	struct ident_cmd *c = arg;
	switch (id) {
	case F_FORMAT:
		if (strcmp(v, "text") == 0)
			c->fmt = OUT_TEXT;
		else if (strcmp(v, "json") == 0)
			c->fmt = OUT_JSON;
		else if (strcmp(v, "csv") == 0)
			c->fmt = OUT_CSV;
		else {
			fprintf(stderr, "mitsu ident: --format is text, json or csv\n");
			return -1;
		}
		return 0;
	case F_FROM_STORE: c->from_store = true; return 0;
	case F_NO_STORE: c->no_store = true; return 0;
	case F_CHECK: c->check = true; return 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ output */

static void csv_cell(FILE *out, const char *s)
{
	if (!s) {
		fputc(',', out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
	}
	fputs("\",", out);
}

static void probes_summary(const struct ident_host *h, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < h->nprobes && o < len; i++) {
		const struct ident_probe_result *p = &h->probes[i];
		int n = snprintf(out + o, len - o, "%s%s:%d=%s", i ? " " : "",
				 ident_probe_name(p->kind), p->port,
				 ident_outcome_name(p->outcome));
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static void print_text(FILE *out, const struct ident_host *h, const struct ident_result *r)
{
	char probes[1024];
	probes_summary(h, probes, sizeof(probes));
	char where[64];
	bool v6 = strchr(h->addr, ':') != NULL;
	if (h->only_port)
		snprintf(where, sizeof(where), v6 ? "[%s]:%d" : "%s:%d", h->addr, h->only_port);
	else
		lib_strlcpy(where, h->addr, sizeof(where));
	if (h->policy_refused) {
		fprintf(out, "%-22s refused: private or reserved address (--allow-private)\n",
			where);
		return;
	}
	const char *c = r->category ? r->category->id : "-";
	fprintf(out, "%-22s %-18s %-14s %-18s %-10s %3.0f%% %s%s\n", where,
		r->identified ? c
		: r->category ? "unsure"
			      : "unknown",
		r->vendor ? r->vendor : "-", r->model ? r->model : "-",
		r->firmware ? r->firmware : "-", r->confidence * 100, probes,
		r->category && !r->identified ? " (best guess below the minimum)" : "");
}

static void print_csv(FILE *out, const struct ident_host *h, const struct ident_result *r)
{
	char probes[1024], num[32];
	probes_summary(h, probes, sizeof(probes));
	csv_cell(out, h->addr);
	snprintf(num, sizeof(num), "%d", h->only_port);
	csv_cell(out, h->only_port ? num : NULL);
	csv_cell(out, h->policy_refused ? "refused" : r->identified ? "yes" : "no");
	csv_cell(out, r->answered ? "yes" : "no");
	csv_cell(out, r->category ? r->category->id : NULL);
	csv_cell(out, r->category ? r->category->group : NULL);
	csv_cell(out, r->vendor);
	csv_cell(out, r->model);
	csv_cell(out, r->firmware);
	snprintf(num, sizeof(num), "%.3f", r->confidence);
	csv_cell(out, num);
	csv_cell(out, probes);
	fprintf(out, "\"%s\"\n", r->nevidence ? r->evidence[0].match.description : "");
}

void ident_emit_result(struct core_bus *bus, const struct ident_host *h,
		       const struct ident_result *r)
{
	json_t *f = ident_result_json(h, r);
	if (r->identified)
		core_emit(bus, NULL, EV_IDENT_RESULT, f, "device at %s: %s%s%s%s%s", h->addr,
			  r->category->name, r->vendor ? ", " : "", r->vendor ? r->vendor : "",
			  r->model ? " " : "", r->model ? r->model : "");
	else
		core_emit(bus, NULL, EV_IDENT_RESULT, f, "no device identified at %s (%s)", h->addr,
			  h->policy_refused ? "refused by the address policy"
			  : r->answered     ? "it answered"
					    : "nothing answered");
}

/* ------------------------------------------------------------------ the run */

static void feed(struct ident_cmd *c);
static void kick(struct ident_cmd *c);

static void on_host(void *arg, const struct ident_host *h, const struct ident_result *r)
{
	struct ident_cmd *c = arg;
	c->hosts++;
	c->answered += r->answered;
	c->identified += r->identified;
	c->refused += h->policy_refused;
	if (c->fmt == OUT_JSON) {
		json_t *j = ident_result_json(h, r);
		char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
		puts(s);
		free(s);
		json_decref(j);
	} else if (c->fmt == OUT_CSV) {
		print_csv(stdout, h, r);
	} else {
		print_text(stdout, h, r);
	}
	fflush(stdout);
	kick(c);
	if (c->bus) {
		ident_emit_result(c->bus, h, r);
		core_bus_flush(c->bus);
		core_store_poll(&c->store); /* finished batches go back to the bus */
	}
}

static void stop(struct ident_cmd *c, const char *why)
{
	if (c->stopped)
		return;
	c->stopped = true;
	c->fed_all = true;
	struct ident_engine_stats st;
	ident_engine_stats(c->engine, &st);
	c->peak_hosts = st.peak_hosts;
	if (why)
		fprintf(stderr, "mitsu ident: %s: stopping\n", why);
	ident_engine_close(c->engine);
	uv_timer_stop(&c->max_time);
	uv_close((uv_handle_t *)&c->max_time, NULL);
	uv_close((uv_handle_t *)&c->kick, NULL);
	uv_close((uv_handle_t *)&c->sigint, NULL);
	uv_close((uv_handle_t *)&c->sigterm, NULL);
}

/* Fills the engine's queue from the targets, then stops once all are done. */
static void feed(struct ident_cmd *c)
{
	char err[256];
	while (!c->fed_all && ident_engine_pending(c->engine) < c->queue_max) {
		if (!c->cur_ok || c->addr_i >= c->cur.count) {
			if (c->spec_i >= c->nspecs) {
				c->fed_all = true;
				break;
			}
			c->cur_ok = ident_target_parse(c->specs[c->spec_i++], &c->cur, err,
						       sizeof(err)) == 0;
			c->addr_i = 0;
			if (!c->cur_ok) {
				fprintf(stderr, "mitsu ident: %s\n", err); /* checked at start */
				c->errors++;
			}
			continue;
		}
		struct sockaddr_storage ss;
		ident_target_nth(&c->cur, c->addr_i++, &ss);
		int rc = ident_engine_submit(c->engine, (struct sockaddr *)&ss, c->cur.port,
					     c->cur.kind);
		if (rc == -ENOBUFS) {
			c->addr_i--;
			break;
		}
	}
}

/* After each host (and at the start): more targets, or the end of the run. */
static void on_kick(uv_timer_t *t)
{
	struct ident_cmd *c = t->data;
	if (c->stopped)
		return;
	feed(c);
	if (c->fed_all && ident_engine_pending(c->engine) == 0)
		stop(c, NULL);
}

static void kick(struct ident_cmd *c)
{
	if (!c->stopped)
		uv_timer_start(&c->kick, on_kick, 0, 0);
}

static void on_max_time(uv_timer_t *t)
{
	stop(t->data, "ident.max_time reached");
}

static void on_signal(uv_signal_t *s, int sig)
{
	stop(s->data, "signal");
}

static int add_store_sources(struct ident_cmd *c)
{
	struct core_store st;
	if (core_store_open(&st, core_cfg_str(&c->cfg, OPT_CORE_DATA_DIR), true)) {
		fprintf(stderr, "mitsu ident: --from-store: no store in %s\n",
			core_cfg_str(&c->cfg, OPT_CORE_DATA_DIR));
		return -1;
	}
	sqlite3_stmt *q;
	int rc = -1;
	if (sqlite3_prepare_v2(st.db,
			       "SELECT src_ip FROM events WHERE src_ip IS NOT NULL AND src_ip <> ''"
			       " GROUP BY src_ip ORDER BY MIN(id)",
			       -1, &q, NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			c->specs = xrealloc(c->specs, (c->nspecs + 1) * sizeof(char *));
			c->specs[c->nspecs++] = xstrdup((const char *)sqlite3_column_text(q, 0));
		}
		sqlite3_finalize(q);
		rc = 0;
	} else {
		fprintf(stderr, "mitsu ident: --from-store: %s\n", sqlite3_errmsg(st.db));
	}
	core_store_close(&st);
	return rc;
}

static int check_db(struct ident_db *db)
{
	size_t checked = 0, fails = ident_db_selftest(db, stderr, &checked);
	struct ident_db_stats st;
	ident_db_stats(db, &st);
	const struct ident_category *cats;
	size_t n = ident_db_categories(db, &cats), uncovered = 0;
	for (size_t i = 0; i < n; i++)
		if (!ident_db_category_fingerprints(db, &cats[i])) {
			fprintf(stderr, "category %s: no fingerprint names it\n", cats[i].id);
			uncovered++;
		}
	printf("%zu files, %zu fingerprints, %zu examples checked, %zu failed; %zu categories, "
	       "%zu without a fingerprint\n",
	       st.files, st.fingerprints, checked, fails, n, uncovered);
	return fails ? 1 : 0;
}

static int run(struct ident_cmd *c, struct ident_db *db)
{
	char err[256];
	struct ident_limits lim;
	struct ident_ports ports;
	ident_limits_from_config(&c->cfg, &lim);
	if (ident_ports_from_config(&c->cfg, &ports, err, sizeof(err))) {
		fprintf(stderr, "mitsu ident: %s\n", err);
		return 2;
	}
	if (!c->no_store) {
		if (core_store_open(&c->store, core_cfg_str(&c->cfg, OPT_CORE_DATA_DIR), false)) {
			fprintf(stderr,
				"mitsu ident: cannot open the store (--no-store to skip)\n");
			return 1;
		}
		c->store_open = true;
		c->bus = core_bus_open(&c->cfg, &c->store);
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	c->queue_max = lim.max_hosts * CMD_QUEUE_PER_SLOT;
	ident_engine_open(&c->engine, &loop, &lim, &ports, db, c->queue_max, on_host, c);
	uv_timer_init(&loop, &c->kick);
	c->kick.data = c;
	uv_timer_init(&loop, &c->max_time);
	c->max_time.data = c;
	long long max_s = core_cfg_int(&c->cfg, OPT_IDENT_MAX_TIME);
	if (max_s > 0)
		uv_timer_start(&c->max_time, on_max_time, (uint64_t)max_s * 1000, 0);
	uv_signal_init(&loop, &c->sigint);
	uv_signal_init(&loop, &c->sigterm);
	c->sigint.data = c->sigterm.data = c;
	uv_signal_start(&c->sigint, on_signal, SIGINT);
	uv_signal_start(&c->sigterm, on_signal, SIGTERM);
	uint64_t t0 = lib_mono_ms();
	kick(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	double secs = (double)(lib_mono_ms() - t0) / 1000.0;
	uint64_t probed = c->hosts - c->refused;
	fprintf(stderr,
		"mitsu ident: %llu hosts probed in %.1fs, %llu answered, %llu identified (%.1f%% "
		"of probed, %.1f%% of those that answered); peak %zu hosts in flight%s\n",
		(unsigned long long)probed, secs, (unsigned long long)c->answered,
		(unsigned long long)c->identified,
		probed ? 100.0 * (double)c->identified / (double)probed : 0.0,
		c->answered ? 100.0 * (double)c->identified / (double)c->answered : 0.0,
		c->peak_hosts, c->refused ? "; some refused by the address policy" : "");
	if (c->bus)
		core_bus_close(c->bus);
	if (c->store_open)
		core_store_close(&c->store);
	return c->errors ? 1 : 0;
}

static int ident_main(int argc, char **argv)
{
	struct ident_cmd c = {0};
	core_config_init(&c.cfg);
	int first, rc = core_command_parse(&ident_command, argc, argv, &c.cfg, on_flag, &c, &first);
	if (rc) {
		core_config_free(&c.cfg);
		return core_command_status(rc);
	}
	signal(SIGPIPE, SIG_IGN);
	char err[512];
	struct ident_db *db;
	if (ident_db_open(&db, &c.cfg, err, sizeof(err))) {
		fprintf(stderr, "mitsu ident: fingerprints: %s\n", err);
		core_config_free(&c.cfg);
		return 1;
	}
	rc = 2;
	if (c.check) {
		rc = check_db(db);
		goto out;
	}
	for (int i = first; i < argc; i++) {
		struct ident_target t;
		if (ident_target_parse(argv[i], &t, err, sizeof(err))) {
			fprintf(stderr, "mitsu ident: %s\n", err);
			goto out;
		}
		c.specs = xrealloc(c.specs, (c.nspecs + 1) * sizeof(char *));
		c.specs[c.nspecs++] = xstrdup(argv[i]);
	}
	if (c.from_store && add_store_sources(&c)) {
		rc = 1;
		goto out;
	}
	if (!c.nspecs) {
		fprintf(stderr, "mitsu ident: no targets (addresses, CIDRs, PROBE://ADDR:PORT or "
				"--from-store)\n");
		goto out;
	}
	if (c.fmt == OUT_CSV)
		puts("host,port,identified,answered,category,group,vendor,model,firmware,"
		     "confidence,probes,fingerprint");
	rc = run(&c, db);
out:
	for (size_t i = 0; i < c.nspecs; i++)
		free(c.specs[i]);
	free(c.specs);
	ident_db_free(db);
	core_config_free(&c.cfg);
	return rc;
}
