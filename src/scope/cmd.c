/* scope: `mitsu scope`, the command. Options, the read loop over files (in time order) or a
 * live interface, the progress line, and the outputs: report, charts and store rows. */
#include "scope/scope_int.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

#define BATCH 256 /* decoded packets handed to the engine at once */
#define DEFAULT_P0F "/etc/p0f/p0f.fp"
#define DEFAULT_LOCATION "/var/lib/location/database.db"
#define PROGRESS_EVERY (1u << 16) /* frames between looks at the clock */
#define MAX_GEO_FILES 8

static const char usage_text[] =
	"usage: mitsu scope [options] PCAP... | --live IFACE\n"
	"  -F, --format table|json|csv  output (default table; csv: one row per interval and "
	"port)\n"
	"  -o, --out FILE               write the report to FILE instead of stdout\n"
	"  -i, --interval DURATION      interval length: 300, 5m, 1h (default), 1d\n"
	"  -d, --darknet CIDR,...       the dark address space (repeatable); other destinations "
	"are\n"
	"                               counted apart. Without it every destination is dark\n"
	"  -f, --filter EXPR            BPF filter (tcpdump syntax)\n"
	"      --live IFACE             capture from an interface; prints each interval as it "
	"closes\n"
	"      --duration SECS          with --live: stop after SECS seconds (default: on "
	"SIGINT/SIGTERM)\n"
	"      --charts DIR             write SVG charts (ports, telnet, countries, mirai, "
	"families)\n"
	"      --data-dir DIR           store interval rows in DIR/mitsu.db (docs/scope.md)\n"
	"      --geo FILE               MaxMind-format database (repeatable; country and/or ASN)\n"
	"      --location-db FILE       libloc database (default " DEFAULT_LOCATION ")\n"
	"      --geo-cache DIR|none     cache of the flat libloc table (default ~/.cache/mitsu)\n"
	"      --no-geo                 no countries or AS numbers\n"
	"      --p0f FILE               p0f v3 signatures (default " DEFAULT_P0F ")\n"
	"      --no-p0f                 OS family from the initial TTL only\n"
	"  -j, --threads N              analysis threads (default 1)\n"
	"      --top N                  rows per table, scanners and attacks listed (default 20)\n"
	"      --interval-ports N       ports kept per interval (default 100)\n"
	"      --scan-dests N           scanner: distinct dark addresses on one port in one "
	"interval (100)\n"
	"      --dos-packets N --dos-seconds N --dos-ppm N --dos-timeout N\n"
	"                               DoS attack thresholds (25 packets, 60 s, 30/min, 300 s)\n"
	"      --max-sources N --max-pairs N --max-scan N --max-dests N --max-victims N\n"
	"                               table bounds (entries); see docs/scope.md\n"
	"      --progress / --no-progress   progress line on stderr (default: when it is a "
	"terminal)\n"
	"  -c FILE, --set KEY=VALUE, --log-level LEVEL   as for every command\n";

enum {
	O_LIVE = 0x200,
	O_DURATION,
	O_CHARTS,
	O_GEO,
	O_LOCATION,
	O_GEOCACHE,
	O_NOGEO,
	O_P0F,
	O_NOP0F,
	O_TOP,
	O_IVPORTS,
	O_SCANDESTS,
	O_DOSPK,
	O_DOSSEC,
	O_DOSPPM,
	O_DOSTO,
	O_MAXSRC,
	O_MAXPAIRS,
	O_MAXSCAN,
	O_MAXDST,
	O_MAXVIC,
	O_PROGRESS,
	O_NOPROGRESS,
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

static int parse_duration(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0)
		return -EINVAL;
	long long mul = 1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (!strcmp(end, "d"))
		mul = 86400;
	else
		return -EINVAL;
	if (v > (long long)(100 * 365 * 86400ll) / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	if (lib_parse_size(s, &v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Everything one run needs, in one place. */
struct run {
	struct scope_config cfg;
	struct scope_out_ctx ctx;
	enum scope_format fmt;
	FILE *out;
	bool live, progress, store_on;
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

struct peek {
	char *path;
	int64_t first;
	uint64_t size;
	bool ok;
};

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

int scope_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CORE_CMDLINE_LONGOPTS,
		{"format", required_argument, NULL, 'F'},
		{"out", required_argument, NULL, 'o'},
		{"interval", required_argument, NULL, 'i'},
		{"darknet", required_argument, NULL, 'd'},
		{"filter", required_argument, NULL, 'f'},
		{"threads", required_argument, NULL, 'j'},
		{"live", required_argument, NULL, O_LIVE},
		{"duration", required_argument, NULL, O_DURATION},
		{"charts", required_argument, NULL, O_CHARTS},
		{"geo", required_argument, NULL, O_GEO},
		{"location-db", required_argument, NULL, O_LOCATION},
		{"geo-cache", required_argument, NULL, O_GEOCACHE},
		{"no-geo", no_argument, NULL, O_NOGEO},
		{"p0f", required_argument, NULL, O_P0F},
		{"no-p0f", no_argument, NULL, O_NOP0F},
		{"top", required_argument, NULL, O_TOP},
		{"interval-ports", required_argument, NULL, O_IVPORTS},
		{"scan-dests", required_argument, NULL, O_SCANDESTS},
		{"dos-packets", required_argument, NULL, O_DOSPK},
		{"dos-seconds", required_argument, NULL, O_DOSSEC},
		{"dos-ppm", required_argument, NULL, O_DOSPPM},
		{"dos-timeout", required_argument, NULL, O_DOSTO},
		{"max-sources", required_argument, NULL, O_MAXSRC},
		{"max-pairs", required_argument, NULL, O_MAXPAIRS},
		{"max-scan", required_argument, NULL, O_MAXSCAN},
		{"max-dests", required_argument, NULL, O_MAXDST},
		{"max-victims", required_argument, NULL, O_MAXVIC},
		{"progress", no_argument, NULL, O_PROGRESS},
		{"no-progress", no_argument, NULL, O_NOPROGRESS},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct core_config ccfg;
	struct core_cmdline cl = {0};
	core_config_init(&ccfg);
	struct run r;
	memset(&r, 0, sizeof(r));
	scope_config_defaults(&r.cfg);
	r.ctx.cfg = &r.cfg;
	r.ctx.top = 20;
	r.fmt = SCOPE_FMT_TABLE;
	r.out = stdout;
	buf_init(&r.ivbuf, 0);
	const char *out_path = NULL, *filter = NULL, *live = NULL, *charts = NULL;
	const char *p0f_path = DEFAULT_P0F, *loc_path = DEFAULT_LOCATION;
	bool p0f_explicit = false, loc_explicit = false, no_geo = false;
	char *cache_dir = default_cache_dir();
	char *geo_files[MAX_GEO_FILES];
	size_t ngeo = 0;
	int64_t duration = 0;
	int threads = 1, progress_mode = -1, rc = 2, c;
	uint64_t v;
	struct scope_p0f *p0f = NULL;
	struct scope_geo *geo = NULL;
	struct peek *files = NULL;
	size_t nfiles = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, CORE_CMDLINE_SHORTOPTS "F:o:i:d:f:j:h", longopts,
				NULL)) != -1) {
		int s = core_cmdline_option(&ccfg, &cl, c, optarg);
		if (s < 0)
			goto out;
		if (s > 0)
			continue;
		switch (c) {
		case 'F':
			if (!strcmp(optarg, "table") || !strcmp(optarg, "text"))
				r.fmt = SCOPE_FMT_TABLE;
			else if (!strcmp(optarg, "json"))
				r.fmt = SCOPE_FMT_JSON;
			else if (!strcmp(optarg, "csv"))
				r.fmt = SCOPE_FMT_CSV;
			else {
				fprintf(stderr, "mitsu scope: --format is table, json or csv\n");
				goto out;
			}
			break;
		case 'o': out_path = optarg; break;
		case 'i':
			if (parse_duration(optarg, &r.cfg.interval)) {
				fprintf(stderr, "mitsu scope: --interval wants a duration such as "
						"300, 5m, 1h or 1d\n");
				goto out;
			}
			break;
		case 'd': {
			char *list = xstrdup(optarg), *save = NULL;
			for (char *tok = strtok_r(list, ", ", &save); tok;
			     tok = strtok_r(NULL, ", ", &save)) {
				if (r.cfg.ndarknet == SCOPE_MAX_DARKNETS ||
				    scope_cidr_parse(tok, &r.cfg.darknet[r.cfg.ndarknet])) {
					fprintf(stderr, "mitsu scope: bad --darknet %s\n", tok);
					free(list);
					goto out;
				}
				r.cfg.ndarknet++;
			}
			free(list);
			break;
		}
		case 'f': filter = optarg; break;
		case 'j':
			if (parse_count(optarg, 1, SCOPE_MAX_THREADS, &v)) {
				fprintf(stderr, "mitsu scope: --threads is 1 to %d\n",
					SCOPE_MAX_THREADS);
				goto out;
			}
			threads = (int)v;
			break;
		case O_LIVE: live = optarg; break;
		case O_DURATION:
			if (parse_duration(optarg, &duration)) {
				fprintf(stderr, "mitsu scope: bad --duration\n");
				goto out;
			}
			break;
		case O_CHARTS: charts = optarg; break;
		case O_GEO:
			if (ngeo == MAX_GEO_FILES) {
				fprintf(stderr, "mitsu scope: at most %d --geo files\n",
					MAX_GEO_FILES);
				goto out;
			}
			geo_files[ngeo++] = optarg;
			break;
		case O_LOCATION:
			loc_path = optarg;
			loc_explicit = true;
			break;
		case O_GEOCACHE:
			free(cache_dir);
			cache_dir = strcmp(optarg, "none") ? xstrdup(optarg) : NULL;
			break;
		case O_NOGEO: no_geo = true; break;
		case O_P0F:
			p0f_path = optarg;
			p0f_explicit = true;
			break;
		case O_NOP0F: p0f_path = NULL; break;
#define COUNT_OPT(ID, NAME, MIN, MAX, FIELD) \
	case ID: \
		if (parse_count(optarg, MIN, MAX, &v)) { \
			fprintf(stderr, "mitsu scope: --%s is %llu to %llu\n", NAME, \
				(unsigned long long)(MIN), (unsigned long long)(MAX)); \
			goto out; \
		} \
		FIELD = v; \
		break;
			COUNT_OPT(O_TOP, "top", 1, 1000000, r.cfg.top)
			COUNT_OPT(O_IVPORTS, "interval-ports", 1, 196864, r.cfg.interval_ports)
			COUNT_OPT(O_SCANDESTS, "scan-dests", 1, 1u << 30, r.cfg.scan_dests)
			COUNT_OPT(O_DOSPK, "dos-packets", 1, 1u << 30, r.cfg.dos_packets)
			COUNT_OPT(O_DOSSEC, "dos-seconds", 0, 1u << 30, r.cfg.dos_duration)
			COUNT_OPT(O_DOSPPM, "dos-ppm", 0, 1u << 30, r.cfg.dos_ppm)
			COUNT_OPT(O_DOSTO, "dos-timeout", 1, 1u << 30, r.cfg.dos_timeout)
			COUNT_OPT(O_MAXSRC, "max-sources", 1, 1ull << 32, r.cfg.max_sources)
			COUNT_OPT(O_MAXPAIRS, "max-pairs", 1, 1ull << 34, r.cfg.max_pairs)
			COUNT_OPT(O_MAXSCAN, "max-scan", 1, 1ull << 34, r.cfg.max_scan)
			COUNT_OPT(O_MAXDST, "max-dests", 1, 1ull << 32, r.cfg.max_dests)
			COUNT_OPT(O_MAXVIC, "max-victims", 1, 1ull << 32, r.cfg.max_victims)
#undef COUNT_OPT
		case O_PROGRESS: progress_mode = 1; break;
		case O_NOPROGRESS: progress_mode = 0; break;
		case 'h':
			fputs(usage_text, stdout);
			rc = 0;
			goto out;
		default: fputs(usage_text, stderr); goto out;
		}
	}
	if (core_cmdline_finish(&ccfg, &cl))
		goto out;
	if (!live == (optind >= argc)) {
		fprintf(stderr, "mitsu scope: give capture files or --live IFACE (not both)\n");
		fputs(usage_text, stderr);
		goto out;
	}
	if (argc - optind > SCOPE_MAX_INPUTS) {
		fprintf(stderr, "mitsu scope: at most %d input files\n", SCOPE_MAX_INPUTS);
		goto out;
	}
	r.ctx.top = r.cfg.top;
	r.live = live != NULL;
	r.ctx.live = r.live;
	char err[512];
	if (p0f_path) {
		if (scope_p0f_load(p0f_path, &p0f, err, sizeof(err))) {
			if (p0f_explicit) {
				fprintf(stderr, "mitsu scope: %s\n", err);
				goto out;
			}
			log_warn("scope",
				 "no p0f signatures (%s): OS families from TTL only (install p0f)",
				 err);
		}
	}
	if (!no_geo) {
		int g = ngeo ? scope_geo_open_mmdb(&geo, geo_files, ngeo, err, sizeof(err))
			     : scope_geo_open_libloc(&geo, loc_path, cache_dir, err, sizeof(err));
		if (g) {
			if (ngeo || loc_explicit) {
				fprintf(stderr, "mitsu scope: %s\n", err);
				goto out;
			}
			log_warn("scope",
				 "no geolocation (%s): install libloc-database or give --geo", err);
			geo = NULL;
		}
	}
	r.cfg.p0f = p0f;
	r.cfg.geo = geo;
	r.ctx.p0f = p0f;
	r.ctx.geo = geo;
	if (out_path) {
		r.out = fopen(out_path, "we");
		if (!r.out) {
			fprintf(stderr, "mitsu scope: %s: %s\n", out_path, strerror(errno));
			r.out = stdout;
			goto out;
		}
	}
	r.progress = progress_mode < 0 ? isatty(2) : progress_mode;
	rc = 0;
	/* Files in the order of their first packet. */
	if (!r.live) {
		nfiles = (size_t)(argc - optind);
		files = xcalloc(nfiles, sizeof(*files));
		for (size_t i = 0; i < nfiles; i++) {
			struct peek *p = &files[i];
			p->path = argv[optind + (int)i];
			struct scope_input *in;
			if (scope_input_open(&in, p->path, NULL, err, sizeof(err))) {
				add_error(&r, "%s", err);
				rc = 1;
				continue;
			}
			struct scope_frame f;
			char e2[256];
			int s = scope_input_next(in, &f, e2, sizeof(e2));
			p->first = s == 1 ? f.ts_ns : INT64_MAX;
			uint64_t done;
			scope_input_progress(in, &done, &p->size);
			scope_input_close(in);
			p->ok = true;
			r.bytes_total += p->size;
		}
		qsort(files, nfiles, sizeof(*files), peek_cmp);
		r.ctx.inputs = xcalloc(nfiles + 1, sizeof(char *));
		for (size_t i = 0; i < nfiles; i++)
			if (files[i].ok)
				r.ctx.inputs[r.ctx.ninputs++] = files[i].path;
	}
	/* The store is used when a data directory was chosen: --data-dir, or core.data_dir in the
	 * config file or --set (anything but the built-in default). */
	if (ccfg.set_on_cmdline[OPT_CORE_DATA_DIR] ||
	    strcmp(core_cfg_str(&ccfg, OPT_CORE_DATA_DIR), core_options[OPT_CORE_DATA_DIR].def)) {
		if (core_store_open(&r.store, core_cfg_str(&ccfg, OPT_CORE_DATA_DIR), false) ||
		    scope_store_begin(&r.store, &r.ctx, &r.run_id)) {
			fprintf(stderr, "mitsu scope: cannot use the store in %s\n",
				core_cfg_str(&ccfg, OPT_CORE_DATA_DIR));
			rc = 2;
			goto out;
		}
		r.store_on = true;
	}
	struct scope_engine *e;
	if (scope_engine_new(&e, &r.cfg, r.live ? 1 : threads, on_interval, &r)) {
		fprintf(stderr, "mitsu scope: bad configuration\n");
		rc = 2;
		goto out;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct scope_pkt *batch = xcalloc(BATCH, sizeof(*batch));
	r.t0_us = lib_mono_us();
	if (r.live) {
		struct scope_input *in;
		if (scope_input_live(&in, live, filter, err, sizeof(err))) {
			fprintf(stderr, "mitsu scope: %s\n", err);
			scope_engine_free(e);
			free(batch);
			rc = 2;
			goto out;
		}
		live_in = in;
		fprintf(stderr, "mitsu scope: listening on %s (interval %llds)\n", live,
			(long long)r.cfg.interval);
		r.ctx.inputs = NULL;
		r.ctx.ninputs = 0;
		if (read_input(&r, e, in, live, batch,
			       duration ? (int64_t)(r.t0_us + (uint64_t)duration * 1000000) : 0))
			rc = 1;
		live_in = NULL;
		scope_input_close(in);
	} else {
		for (size_t i = 0; i < nfiles && !stop_flag; i++) {
			if (!files[i].ok)
				continue;
			struct scope_input *in;
			if (scope_input_open(&in, files[i].path, filter, err, sizeof(err))) {
				add_error(&r, "%s", err);
				rc = 1;
				continue;
			}
			if (read_input(&r, e, in, files[i].path, batch, 0))
				rc = 1;
			r.bytes_done += files[i].size;
			scope_input_close(in);
		}
	}
	progress(&r, NULL, true);
	free(batch);
	uint64_t t_read = lib_mono_us();
	struct scope_report rep;
	scope_engine_finish(e, &rep);
	log_debug("scope", "read %.3f s, finish %.3f s", (double)(t_read - r.t0_us) / 1e6,
		  (double)(lib_mono_us() - t_read) / 1e6);
	r.ctx.seconds = (double)(lib_mono_us() - r.t0_us) / 1e6;
	r.ctx.peak_rss = scope_peak_rss();
	struct buf ob;
	buf_init(&ob, 0);
	scope_write_report(&ob, r.fmt, &rep, &r.ctx);
	if (fwrite(ob.data, 1, ob.len, r.out) != ob.len || fflush(r.out)) {
		fprintf(stderr, "mitsu scope: cannot write the report: %s\n", strerror(errno));
		rc = 1;
	}
	buf_free(&ob);
	if (charts && scope_write_charts(charts, &rep, &r.ctx, err, sizeof(err))) {
		fprintf(stderr, "mitsu scope: charts: %s\n", err);
		rc = 1;
	}
	if (r.store_on && scope_store_finish(&r.store, r.run_id, &rep, &r.ctx)) {
		fprintf(stderr, "mitsu scope: cannot store the run\n");
		rc = 1;
	}
	if (stop_flag && !r.live)
		fprintf(stderr, "mitsu scope: interrupted; the statistics cover what was read\n");
	scope_report_free(&rep);
out:
	if (r.store_on)
		core_store_close(&r.store);
	if (r.out && r.out != stdout)
		fclose(r.out);
	for (size_t i = 0; i < r.ctx.nerrors; i++)
		free(r.ctx.errors[i]);
	free(r.ctx.errors);
	free(r.ctx.inputs);
	free(files);
	free(cache_dir);
	buf_free(&r.ivbuf);
	scope_p0f_free(p0f);
	scope_geo_free(geo);
	core_config_free(&ccfg);
	return rc;
}
