/* scope: `mitsu scope`, the command. Options, the read loop over files (in time order) or a
 * live interface, the progress line, and the outputs: report, charts and store rows. */
#include "scope/scope_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

#define BATCH 64                  /* decoded packets handed to the engine at once */
#define PROGRESS_EVERY (1u << 16) /* frames between looks at the clock */
#define MAX_GEO_FILES 8

enum { F_FORMAT, F_OUT, F_LIVE, F_CHARTS, F_PROGRESS, F_NOPROGRESS };
static const struct core_flag scope_flags[] = {
	{.name = "format",
	 .shortname = 'F',
	 .arg = "table|json|csv",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "output (default table; csv: one row per interval and port)"},
	{.name = "out",
	 .shortname = 'o',
	 .arg = "FILE",
	 .opt = CORE_FLAG_OWN,
	 .id = F_OUT,
	 .help = "write the report to FILE instead of stdout"},
	{.name = "interval", .shortname = 'i', .arg = "DURATION", .opt = OPT_SCOPE_INTERVAL},
	{.name = "darknet", .shortname = 'd', .arg = "CIDR,...", .opt = OPT_SCOPE_DARKNET},
	{.name = "filter", .shortname = 'f', .arg = "EXPR", .opt = OPT_SCOPE_FILTER},
	{.name = "live",
	 .arg = "IFACE",
	 .opt = CORE_FLAG_OWN,
	 .id = F_LIVE,
	 .help = "capture from an interface; prints each interval as it closes"},
	{.name = "duration", .arg = "SECS", .opt = OPT_SCOPE_DURATION},
	{.name = "charts",
	 .arg = "DIR",
	 .opt = CORE_FLAG_OWN,
	 .id = F_CHARTS,
	 .help = "write SVG charts (ports, telnet, countries, mirai, families) into DIR"},
	{.name = "geo", .arg = "FILE", .opt = OPT_SCOPE_GEO},
	{.name = "location-db", .arg = "FILE", .opt = OPT_SCOPE_LOCATION_DB},
	{.name = "geo-cache", .arg = "DIR|none", .opt = OPT_SCOPE_GEO_CACHE},
	{.name = "no-geo",
	 .opt = OPT_SCOPE_COUNTRIES,
	 .value = "false",
	 .help = "no countries or AS numbers"},
	{.name = "p0f", .arg = "FILE", .opt = OPT_SCOPE_P0F},
	{.name = "no-p0f",
	 .opt = OPT_SCOPE_P0F,
	 .value = "",
	 .help = "OS family from the initial TTL only"},
	{.name = "threads", .shortname = 'j', .arg = "N", .opt = OPT_SCOPE_THREADS},
	{.name = "top", .arg = "N", .opt = OPT_SCOPE_TOP},
	{.name = "interval-ports", .arg = "N", .opt = OPT_SCOPE_INTERVAL_PORTS},
	{.name = "scan-dests", .arg = "N", .opt = OPT_SCOPE_SCAN_DESTS},
	{.name = "dos-packets", .arg = "N", .opt = OPT_SCOPE_DOS_PACKETS},
	{.name = "dos-seconds", .arg = "N", .opt = OPT_SCOPE_DOS_SECONDS},
	{.name = "dos-ppm", .arg = "N", .opt = OPT_SCOPE_DOS_PPM},
	{.name = "dos-timeout", .arg = "N", .opt = OPT_SCOPE_DOS_TIMEOUT},
	{.name = "max-sources", .arg = "N", .opt = OPT_SCOPE_MAX_SOURCES},
	{.name = "max-pairs", .arg = "N", .opt = OPT_SCOPE_MAX_PAIRS},
	{.name = "max-scan", .arg = "N", .opt = OPT_SCOPE_MAX_SCAN},
	{.name = "max-dests", .arg = "N", .opt = OPT_SCOPE_MAX_DESTS},
	{.name = "max-victims", .arg = "N", .opt = OPT_SCOPE_MAX_VICTIMS},
	{.name = "progress",
	 .opt = CORE_FLAG_OWN,
	 .id = F_PROGRESS,
	 .help = "a progress line on stderr (default: when stderr is a terminal)"},
	{.name = "no-progress",
	 .opt = CORE_FLAG_OWN,
	 .id = F_NOPROGRESS,
	 .help = "no progress line"},
	{0},
};

static int scope_main(int argc, char **argv);

const struct core_command scope_command = {
	.name = "scope",
	.operands = "PCAP... | --live IFACE",
	.summary = "Darknet analysis: packets per port, sources per country and AS, OS, "
		   "Mirai/ZMap/masscan, backscatter, scanners; --format table|json|csv. With "
		   "--data-dir the interval rows go to the store for mitsu report.",
	.flags = scope_flags,
	.common = CORE_CMD_CONFIG,
	.sections = "scope",
	.main = scope_main,
};

static volatile sig_atomic_t stop_flag;
static struct scope_input *live_in;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
	if (live_in)
		scope_input_breakloop(live_in);
}

struct peek {
	char *path;
	int64_t first;
	uint64_t size;
	bool ok;
};

/* Everything one run needs, in one place. */
struct run {
	struct core_config ccfg;
	struct scope_config cfg;
	struct scope_out_ctx ctx;
	enum scope_format fmt;
	FILE *out;
	const char *out_path, *live_iface, *charts;
	int progress_mode; /* -1: when stderr is a terminal */
	bool live, progress, store_on;
	struct scope_p0f *p0f;
	struct scope_geo *geo;
	struct peek *files;
	size_t nfiles;
	struct core_store store;
	int64_t run_id;
	bool header_done;
	struct buf ivbuf;
	uint64_t bytes_done, bytes_total;
	uint64_t t0_us, last_progress_us;
	uint64_t frames;
};

static void add_error(struct run *r, const char *fmt, ...) LIB_PRINTF(2, 3);
static void add_error(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "\r\033[Kmitsu scope: %s\n", msg);
	r->ctx.errors = xrealloc(r->ctx.errors, (r->ctx.nerrors + 1) * sizeof(char *));
	r->ctx.errors[r->ctx.nerrors++] = xstrdup(msg);
}

static void on_interval(void *arg, const struct scope_interval *iv)
{
	struct run *r = arg;
	if (r->store_on && scope_store_interval(&r->store, r->run_id, iv, r->cfg.interval))
		log_warn("scope", "could not store the interval rows");
	if (!r->live)
		return;
	buf_reset(&r->ivbuf);
	scope_write_interval(&r->ivbuf, r->fmt, iv, &r->ctx, !r->header_done);
	r->header_done = true;
	fwrite(r->ivbuf.data, 1, r->ivbuf.len, r->out);
	fflush(r->out);
}

static void progress(struct run *r, const struct scope_input *in, bool final)
{
	if (!r->progress)
		return;
	uint64_t now = lib_mono_us();
	if (!final && now - r->last_progress_us < 250000)
		return;
	r->last_progress_us = now;
	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	uint64_t done = 0, total = 0;
	if (in)
		scope_input_progress(in, &done, &total);
	done += r->bytes_done;
	double secs = (double)(now - r->t0_us) / 1e6;
	double pps = secs > 0 ? (double)r->frames / secs : 0;
	if (r->live) {
		fprintf(stderr, "\r\033[Kscope: %s  %llu packets  %.0f pkt/s", "live",
			(unsigned long long)r->frames, pps);
	} else {
		double bps = secs > 0 ? (double)done / secs : 0;
		double eta = bps > 0 && r->bytes_total > done
				     ? (double)(r->bytes_total - done) / bps
				     : 0;
		fprintf(stderr, "\r\033[Kscope: %.1f / %.1f MB  %.2f M pkt/s  ETA %d:%02d",
			(double)done / 1e6, (double)r->bytes_total / 1e6, pps / 1e6, (int)eta / 60,
			(int)eta % 60);
	}
	fflush(stderr);
}

/* Reads one input to its end (or the stop flag). Returns -1 after a read error. */
static int read_input(struct run *r, struct scope_engine *e, struct scope_input *in,
		      const char *name, struct scope_pkt *batch, int64_t deadline_us)
{
	int link = scope_input_linktype(in);
	char err[256];
	int rc = 0;
	struct scope_frame frames[BATCH];
	for (;;) {
		int s = scope_input_next_batch(in, frames, BATCH, err, sizeof(err));
		if (s >= 1) {
			uint64_t before = r->frames;
			r->frames += (uint64_t)s;
			uint64_t other[SCOPE_DEC__N] = {0};
			size_t n = scope_decode_batch(link, frames, (size_t)s, batch, other);
			for (int d = 0; d < SCOPE_DEC__N; d++)
				for (uint64_t k = 0; k < other[d]; k++)
					scope_engine_frame(e, (enum scope_dec)d);
			if (n)
				scope_engine_batch(e, batch, n);
			if (before / PROGRESS_EVERY != r->frames / PROGRESS_EVERY || r->live)
				progress(r, in, false);
		} else if (s == -2) {
			progress(r, in, false);
		} else {
			if (s < 0) {
				add_error(r, "%s: %s", name, err);
				rc = -1;
			}
			break;
		}
		if (r->live) {
			scope_engine_tick(e, lib_real_us() * 1000);
			if (deadline_us && (int64_t)lib_mono_us() >= deadline_us)
				break;
		}
		if (stop_flag)
			break;
	}
	return rc;
}

static int peek_cmp(const void *a, const void *b)
{
	const struct peek *x = a, *y = b;
	if (x->ok != y->ok)
		return x->ok ? 1 : -1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static char *default_cache_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME");
	if (x && *x == '/')
		return xasprintf("%s/mitsu", x);
	const char *h = getenv("HOME");
	if (h && *h == '/')
		return xasprintf("%s/.cache/mitsu", h);
	return NULL;
}

int scope_config_from(struct scope_config *sc, const struct core_config *c, char *err,
		      size_t errlen)
{
	memset(sc, 0, sizeof(*sc));
	sc->interval = core_cfg_int(c, OPT_SCOPE_INTERVAL);
	sc->scan_dests = (uint32_t)core_cfg_int(c, OPT_SCOPE_SCAN_DESTS);
	sc->dos_packets = (uint32_t)core_cfg_int(c, OPT_SCOPE_DOS_PACKETS);
	sc->dos_duration = (uint32_t)core_cfg_int(c, OPT_SCOPE_DOS_SECONDS);
	sc->dos_ppm = (uint32_t)core_cfg_int(c, OPT_SCOPE_DOS_PPM);
	sc->dos_timeout = (uint32_t)core_cfg_int(c, OPT_SCOPE_DOS_TIMEOUT);
	sc->max_sources = (uint64_t)core_cfg_int(c, OPT_SCOPE_MAX_SOURCES);
	sc->max_pairs = (uint64_t)core_cfg_int(c, OPT_SCOPE_MAX_PAIRS);
	sc->max_scan = (uint64_t)core_cfg_int(c, OPT_SCOPE_MAX_SCAN);
	sc->max_dests = (uint64_t)core_cfg_int(c, OPT_SCOPE_MAX_DESTS);
	sc->max_victims = (uint64_t)core_cfg_int(c, OPT_SCOPE_MAX_VICTIMS);
	sc->max_scanners = (uint64_t)core_cfg_int(c, OPT_SCOPE_MAX_SCANNERS);
	sc->interval_ports = (uint32_t)core_cfg_int(c, OPT_SCOPE_INTERVAL_PORTS);
	sc->interval_asns = (uint32_t)core_cfg_int(c, OPT_SCOPE_INTERVAL_ASNS);
	sc->top = (uint32_t)core_cfg_int(c, OPT_SCOPE_TOP);
	char **nets;
	size_t n = core_cfg_list(c, OPT_SCOPE_DARKNET, &nets);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (sc->ndarknet == SCOPE_MAX_DARKNETS ||
		    scope_cidr_parse(nets[i], &sc->darknet[sc->ndarknet])) {
			snprintf(err, errlen, "bad darknet %s (at most %d CIDRs)", nets[i],
				 SCOPE_MAX_DARKNETS);
			rc = -EINVAL;
		}
		sc->ndarknet++;
	}
	core_list_free(nets);
	return rc;
}

void scope_config_defaults(struct scope_config *cfg)
{
	struct core_config c;
	core_config_init(&c);
	char err[64];
	scope_config_from(cfg, &c, err, sizeof(err)); /* the defaults have no darknet to refuse */
	core_config_free(&c);
}

static int on_flag(void *arg, int id, const char *v)
{
	struct run *r = arg;
	switch (id) {
	case F_FORMAT:
		if (!strcmp(v, "table") || !strcmp(v, "text"))
			r->fmt = SCOPE_FMT_TABLE;
		else if (!strcmp(v, "json"))
			r->fmt = SCOPE_FMT_JSON;
		else if (!strcmp(v, "csv"))
			r->fmt = SCOPE_FMT_CSV;
		else {
			fprintf(stderr, "mitsu scope: --format is table, json or csv\n");
			return -1;
		}
		return 0;
	case F_OUT: r->out_path = v; return 0;
	case F_LIVE: r->live_iface = v; return 0;
	case F_CHARTS: r->charts = v; return 0;
	case F_PROGRESS: r->progress_mode = 1; return 0;
	case F_NOPROGRESS: r->progress_mode = 0; return 0;
	}
	return -1;
}

/* An option the user chose (command line, config file or --set) rather than its default: a
 * missing file is then an error, not a warning. */
static bool chosen(const struct core_config *c, enum core_opt opt)
{
	return c->set_on_cmdline[opt] || strcmp(core_cfg_str(c, opt), core_options[opt].def);
}

/* p0f signatures and the geolocation database, as the options say. */
static int open_lookups(struct run *r)
{
	const struct core_config *c = &r->ccfg;
	char err[512];
	const char *p0f_path = core_cfg_str(c, OPT_SCOPE_P0F);
	if (p0f_path[0] && scope_p0f_load(p0f_path, &r->p0f, err, sizeof(err))) {
		if (chosen(c, OPT_SCOPE_P0F)) {
			fprintf(stderr, "mitsu scope: %s\n", err);
			return -1;
		}
		log_warn("scope", "no p0f signatures (%s): OS families from TTL only (install p0f)",
			 err);
	}
	if (!core_cfg_bool(c, OPT_SCOPE_COUNTRIES))
		return 0;
	char **geo_files;
	size_t ngeo = core_cfg_list(c, OPT_SCOPE_GEO, &geo_files);
	const char *cache = core_cfg_str(c, OPT_SCOPE_GEO_CACHE);
	char *cache_dir = !cache[0]               ? default_cache_dir()
			  : strcmp(cache, "none") ? xstrdup(cache)
						  : NULL;
	int g;
	if (ngeo > MAX_GEO_FILES) {
		snprintf(err, sizeof(err), "at most %d geo files", MAX_GEO_FILES);
		g = -EINVAL;
	} else if (ngeo) {
		g = scope_geo_open_mmdb(&r->geo, geo_files, ngeo, err, sizeof(err));
	} else {
		g = scope_geo_open_libloc(&r->geo, core_cfg_str(c, OPT_SCOPE_LOCATION_DB),
					  cache_dir, err, sizeof(err));
	}
	free(cache_dir);
	core_list_free(geo_files);
	if (g) {
		r->geo = NULL;
		if (ngeo || chosen(c, OPT_SCOPE_LOCATION_DB)) {
			fprintf(stderr, "mitsu scope: %s\n", err);
			return -1;
		}
		log_warn("scope", "no geolocation (%s): install libloc-database or give --geo",
			 err);
	}
	return 0;
}

/* The capture files in the order of their first packet; a file that cannot be opened is
 * reported with the statistics. Returns 1 when one could not be opened. */
static int order_files(struct run *r, char **paths, size_t n)
{
	int rc = 0;
	char err[512];
	r->nfiles = n;
	r->files = xcalloc(n, sizeof(*r->files));
	for (size_t i = 0; i < n; i++) {
		struct peek *p = &r->files[i];
		p->path = paths[i];
		struct scope_input *in;
		if (scope_input_open(&in, p->path, NULL, err, sizeof(err))) {
			add_error(r, "%s", err);
			rc = 1;
			continue;
		}
		struct scope_frame f;
		int s = scope_input_next(in, &f, err, sizeof(err));
		p->first = s == 1 ? f.ts_ns : INT64_MAX;
		uint64_t done;
		scope_input_progress(in, &done, &p->size);
		scope_input_close(in);
		p->ok = true;
		r->bytes_total += p->size;
	}
	qsort(r->files, n, sizeof(*r->files), peek_cmp);
	r->ctx.inputs = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		if (r->files[i].ok)
			r->ctx.inputs[r->ctx.ninputs++] = r->files[i].path;
	return rc;
}

/* The store is used when a data directory was chosen: --data-dir, or core.data_dir in the
 * config file or --set (anything but the built-in default). */
static int open_store(struct run *r)
{
	const struct core_config *c = &r->ccfg;
	if (!chosen(c, OPT_CORE_DATA_DIR))
		return 0;
	bool opened = core_store_open(&r->store, core_cfg_str(c, OPT_CORE_DATA_DIR), false) == 0;
	if (!opened || scope_store_begin(&r->store, &r->ctx, &r->run_id)) {
		fprintf(stderr, "mitsu scope: cannot use the store in %s\n",
			core_cfg_str(c, OPT_CORE_DATA_DIR));
		if (opened)
			core_store_close(&r->store);
		return -1;
	}
	r->store_on = true;
	return 0;
}

/* Reads the live interface or every file through the engine. Returns 0, 1 after a read error,
 * 2 when the capture could not start. */
static int read_all(struct run *r, struct scope_engine *e)
{
	const char *filter = core_cfg_str(&r->ccfg, OPT_SCOPE_FILTER);
	if (!filter[0])
		filter = NULL;
	char err[512];
	int rc = 0;
	struct scope_pkt *batch = xcalloc(BATCH, sizeof(*batch));
	if (r->live) {
		struct scope_input *in;
		if (scope_input_live(&in, r->live_iface, filter, err, sizeof(err))) {
			fprintf(stderr, "mitsu scope: %s\n", err);
			free(batch);
			return 2;
		}
		live_in = in;
		fprintf(stderr, "mitsu scope: listening on %s (interval %llds)\n", r->live_iface,
			(long long)r->cfg.interval);
		int64_t duration = core_cfg_int(&r->ccfg, OPT_SCOPE_DURATION);
		if (read_input(r, e, in, r->live_iface, batch,
			       duration ? (int64_t)(r->t0_us + (uint64_t)duration * 1000000) : 0))
			rc = 1;
		live_in = NULL;
		scope_input_close(in);
	} else {
		for (size_t i = 0; i < r->nfiles && !stop_flag; i++) {
			if (!r->files[i].ok)
				continue;
			struct scope_input *in;
			if (scope_input_open(&in, r->files[i].path, filter, err, sizeof(err))) {
				add_error(r, "%s", err);
				rc = 1;
				continue;
			}
			if (read_input(r, e, in, r->files[i].path, batch, 0))
				rc = 1;
			r->bytes_done += r->files[i].size;
			scope_input_close(in);
		}
	}
	free(batch);
	return rc;
}

/* The report, the charts and the run's row in the store. Returns 0 or 1. */
static int write_outputs(struct run *r, struct scope_report *rep)
{
	int rc = 0;
	char err[512];
	if (scope_write_report_file(r->out, r->fmt, rep, &r->ctx)) {
		fprintf(stderr, "mitsu scope: cannot write the report: %s\n", strerror(errno));
		rc = 1;
	}
	if (r->charts && scope_write_charts(r->charts, rep, &r->ctx, err, sizeof(err))) {
		fprintf(stderr, "mitsu scope: charts: %s\n", err);
		rc = 1;
	}
	if (r->store_on && scope_store_finish(&r->store, r->run_id, rep, &r->ctx)) {
		fprintf(stderr, "mitsu scope: cannot store the run\n");
		rc = 1;
	}
	return rc;
}

/* Everything after the command line: the lookups, the inputs, the store, the engine, the
 * outputs. Returns the exit status. */
static int scope_run(struct run *r, char **paths, size_t npaths)
{
	char err[512];
	if (scope_config_from(&r->cfg, &r->ccfg, err, sizeof(err))) {
		fprintf(stderr, "mitsu scope: %s\n", err);
		return 2;
	}
	r->ctx.cfg = &r->cfg;
	r->ctx.top = r->cfg.top;
	r->live = r->live_iface != NULL;
	r->ctx.live = r->live;
	if (open_lookups(r))
		return 2;
	r->cfg.p0f = r->ctx.p0f = r->p0f;
	r->cfg.geo = r->ctx.geo = r->geo;
	if (r->out_path) {
		r->out = fopen(r->out_path, "we");
		if (!r->out) {
			fprintf(stderr, "mitsu scope: %s: %s\n", r->out_path, strerror(errno));
			r->out = stdout;
			return 2;
		}
	}
	r->progress = r->progress_mode < 0 ? isatty(2) : r->progress_mode;
	int rc = r->live ? 0 : order_files(r, paths, npaths);
	if (open_store(r))
		return 2;
	struct scope_engine *e;
	int threads = r->live ? 1 : (int)core_cfg_int(&r->ccfg, OPT_SCOPE_THREADS);
	if (scope_engine_new(&e, &r->cfg, threads, on_interval, r)) {
		fprintf(stderr, "mitsu scope: bad configuration\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r->t0_us = lib_mono_us();
	int rr = read_all(r, e);
	if (rr == 2) {
		scope_engine_free(e);
		return 2;
	}
	rc |= rr;
	progress(r, NULL, true);
	uint64_t t_read = lib_mono_us();
	struct scope_report rep;
	scope_engine_finish(e, &rep);
	log_debug("scope", "read %.3f s, finish %.3f s", (double)(t_read - r->t0_us) / 1e6,
		  (double)(lib_mono_us() - t_read) / 1e6);
	r->ctx.seconds = (double)(lib_mono_us() - r->t0_us) / 1e6;
	r->ctx.peak_rss = scope_peak_rss();
	rc |= write_outputs(r, &rep);
	if (stop_flag && !r->live)
		fprintf(stderr, "mitsu scope: interrupted; the statistics cover what was read\n");
	scope_report_free(&rep);
	return rc;
}

static int scope_main(int argc, char **argv)
{
	struct run r;
	memset(&r, 0, sizeof(r));
	core_config_init(&r.ccfg);
	r.fmt = SCOPE_FMT_TABLE;
	r.out = stdout;
	r.progress_mode = -1;
	buf_init(&r.ivbuf, 0);
	int first,
		rc = core_command_parse(&scope_command, argc, argv, &r.ccfg, on_flag, &r, &first);
	if (rc) {
		rc = core_command_status(rc);
	} else if (!r.live_iface == (first >= argc)) {
		fprintf(stderr, "mitsu scope: give capture files or --live IFACE (not both)\n");
		rc = 2;
	} else if (argc - first > SCOPE_MAX_INPUTS) {
		fprintf(stderr, "mitsu scope: at most %d input files\n", SCOPE_MAX_INPUTS);
		rc = 2;
	} else {
		rc = scope_run(&r, argv + first, (size_t)(argc - first));
	}
	if (r.store_on)
		core_store_close(&r.store);
	if (r.out && r.out != stdout)
		fclose(r.out);
	for (size_t i = 0; i < r.ctx.nerrors; i++)
		free(r.ctx.errors[i]);
	free(r.ctx.errors);
	free(r.ctx.inputs);
	free(r.files);
	buf_free(&r.ivbuf);
	scope_p0f_free(r.p0f);
	scope_geo_free(r.geo);
	core_config_free(&r.ccfg);
	return rc;
}
