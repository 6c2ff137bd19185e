/* scope: the report for people (--format table), for programs (json) and for spreadsheets
 * (csv: one row per interval and port). docs/scope.md lists every field. */
#include "scope/scope_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "report/report.h"

/* 2^32 / dark addresses: how much of the Internet-wide traffic one darknet packet stands for
 * (Moore et al.: a darknet of n addresses sees n / 2^32 of a uniformly spread flood). */
static double scale_of(const struct scope_report *r)
{
	return r->dark_size ? 4294967296.0 / (double)r->dark_size : NAN;
}

const char *scope_pt_name(int pt)
{
	switch (pt) {
	case SCOPE_PT_SYN: return "tcp";
	case SCOPE_PT_UDP: return "udp";
	case SCOPE_PT_ICMP: return "icmp";
	default: return "?";
	}
}

static const char *const class_names[SCOPE_C__N] = {"tcp_syn", "udp", "icmp", "tcp_backscatter", "tcp_other", "other"};

static void addr_str(uint32_t a, char out[16])
{
	struct in_addr ia = {.s_addr = htonl(a)};
	inet_ntop(AF_INET, &ia, out, 16);
}

static void ts_str(int64_t ns, char out[LIB_RFC3339_LEN])
{
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;
	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	struct timespec ts = {.tv_sec = (time_t)sec, .tv_nsec = (long)rem};
	lib_rfc3339(&ts, out);
}

static json_t *jts(int64_t ns)
{
	char b[LIB_RFC3339_LEN];
	ts_str(ns, b);
	return json_string(b);
}

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0.0;
}

static json_t *jcount(const struct scope_count *c)
{
	return json_pack("{s:I,s:I}", "sources", (json_int_t)c->sources, "packets", (json_int_t)c->packets);
}

static json_t *jports(const struct scope_port *p, size_t n, uint64_t total)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:i,s:I,s:I,s:o}", "proto", scope_pt_name(p[i].pt), "port",
						   (int)p[i].port, "packets", (json_int_t)p[i].packets, "sources",
						   (json_int_t)p[i].sources, "share", jreal(share(p[i].packets, total))));
	return a;
}

static json_t *jcountries(const struct scope_country *c, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++) {
		char cc[3];
		scope_cc_str(c[i].cc, cc);
		json_object_set_new(o, cc, json_pack("{s:I,s:I,s:I}", "sources", (json_int_t)c[i].sources, "packets",
						     (json_int_t)c[i].packets, "mirai_sources",
						     (json_int_t)c[i].mirai_sources));
	}
	return o;
}

/* AS rows; names (a slow lookup in libloc) for the first `named` rows only. */
static json_t *jasns(const struct scope_asn *a, size_t n, struct scope_geo *geo, size_t named)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const char *name = geo && i < named ? scope_geo_as_name(geo, a[i].asn) : NULL;
		json_array_append_new(arr, json_pack("{s:I,s:s?,s:I,s:I}", "asn", (json_int_t)a[i].asn, "name", name,
						     "sources", (json_int_t)a[i].sources, "packets", (json_int_t)a[i].packets));
	}
	return arr;
}

static json_t *jfamilies(const uint64_t *f)
{
	json_t *o = json_object();
	for (int i = 0; i < SCOPE_FAM__N; i++)
		json_object_set_new(o, scope_family_names[i], json_integer((json_int_t)f[i]));
	return o;
}

static json_t *interval_json(const struct scope_interval *iv, const struct scope_out_ctx *ctx)
{
	json_t *o = json_object();
	json_object_set_new(o, "start", jts(iv->start * 1000000000));
	json_object_set_new(o, "start_unix", json_integer(iv->start));
	json_object_set_new(o, "seconds", json_integer(ctx->cfg->interval));
	json_object_set_new(o, "packets", json_integer((json_int_t)iv->packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)iv->bytes));
	json_object_set_new(o, "sources", json_integer((json_int_t)iv->sources));
	json_object_set_new(o, "dark_hit", json_integer((json_int_t)iv->dark_hit));
	json_t *cls = json_object();
	for (int i = 0; i < SCOPE_C__N; i++)
		json_object_set_new(cls, class_names[i], json_integer((json_int_t)iv->cls[i]));
	json_object_set_new(o, "classes", cls);
	json_object_set_new(o, "telnet", json_pack("{s:I,s:o}", "packets", (json_int_t)iv->telnet, "share",
						   jreal(share(iv->telnet, iv->packets))));
	json_object_set_new(o, "ports", jports(iv->ports, iv->nports, iv->packets));
	json_object_set_new(o, "ports_rest_packets", json_integer((json_int_t)iv->ports_rest_packets));
	if (ctx->cfg->geo) {
		json_object_set_new(o, "countries", jcountries(iv->countries, iv->ncountries));
		json_object_set_new(o, "asns", jasns(iv->asns, iv->nasns, NULL, 0));
	}
	json_object_set_new(o, "mirai", jcount(&iv->mirai));
	json_object_set_new(o, "zmap", jcount(&iv->zmap));
	json_object_set_new(o, "masscan", jcount(&iv->masscan));
	json_object_set_new(o, "backscatter", json_pack("{s:I,s:I}", "packets", (json_int_t)iv->backscatter_packets,
							"victims", (json_int_t)iv->backscatter_victims));
	json_object_set_new(o, "scanners", json_integer((json_int_t)iv->scanners));
	json_object_set_new(o, "families", jfamilies(iv->families));
	return o;
}

static json_t *attack_json(const struct scope_attack *a, const struct scope_report *r)
{
	char v[16];
	addr_str(a->victim, v);
	json_t *kinds = json_array();
	if (a->kinds & 1)
		json_array_append_new(kinds, json_string("syn-ack"));
	if (a->kinds & 2)
		json_array_append_new(kinds, json_string("rst"));
	if (a->kinds & 4)
		json_array_append_new(kinds, json_string("icmp"));
	double secs = (double)(a->end_ns - a->start_ns) / 1e9;
	double sc = scale_of(r);
	return json_pack("{s:s,s:o,s:o,s:f,s:I,s:I,s:i,s:o,s:o,s:o}", "victim", v, "start", jts(a->start_ns), "end",
			 jts(a->end_ns), "seconds", secs, "packets", (json_int_t)a->packets, "bytes",
			 (json_int_t)a->bytes, "max_ppm", (int)a->max_ppm, "est_peak_pps", jreal(a->max_ppm / 60.0 * sc),
			 "est_mean_pps", jreal(secs > 0 ? (double)a->packets / secs * sc : NAN), "kinds", kinds);
}

static json_t *labels_json(uint32_t l)
{
	json_t *a = json_array();
	if (l & SCOPE_L_MIRAI)
		json_array_append_new(a, json_string("mirai"));
	if (l & SCOPE_L_ZMAP)
		json_array_append_new(a, json_string("zmap"));
	if (l & SCOPE_L_MASSCAN)
		json_array_append_new(a, json_string("masscan"));
	return a;
}

static json_t *scanner_json(const struct scope_scanner *s, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	char a[16], cc[3];
	addr_str(s->src, a);
	scope_cc_str(s->cc, cc);
	double dur = (double)s->last - (double)s->first + 1;
	double sc = scale_of(r);
	json_t *o = json_pack("{s:s,s:s,s:i,s:o,s:o,s:I,s:i,s:i,s:o,s:o,s:o}", "source", a, "proto",
			      scope_pt_name(s->pt), "port", (int)s->port, "first", jts((int64_t)s->first * 1000000000),
			      "last", jts((int64_t)s->last * 1000000000), "packets", (json_int_t)s->packets, "dests",
			      (int)s->dests, "intervals", (int)s->intervals, "coverage",
			      jreal(r->dark_size ? (double)s->dests / (double)r->dark_size : NAN), "est_rate_pps",
			      jreal((double)s->packets / dur * sc), "labels", labels_json(s->labels));
	if (ctx->cfg->geo)
		json_object_set_new(o, "country", json_string(cc));
	return o;
}

static json_t *report_json(const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	const struct scope_config *cfg = ctx->cfg;
	json_t *o = json_object();
	json_object_set_new(o, "tool", json_string("mitsu scope " MITSU_VERSION));
	json_t *in = json_array();
	for (size_t i = 0; i < ctx->ninputs; i++)
		json_array_append_new(in, json_string(ctx->inputs[i]));
	json_object_set_new(o, "inputs", in);
	json_object_set_new(o, "interval", json_integer(cfg->interval));
	json_t *dn = json_array();
	for (size_t i = 0; i < cfg->ndarknet; i++) {
		char b[64], a[INET6_ADDRSTRLEN];
		const struct scope_cidr *c = &cfg->darknet[i];
		if (c->ver == 4)
			addr_str(c->v4, a);
		else
			inet_ntop(AF_INET6, c->v6, a, sizeof(a));
		snprintf(b, sizeof(b), "%s/%u", a, c->prefix);
		json_array_append_new(dn, json_string(b));
	}
	json_object_set_new(o, "darknet", dn);
	json_object_set_new(o, "frames", json_integer((json_int_t)r->frames));
	json_object_set_new(o, "not_ip", json_integer((json_int_t)r->not_ip));
	json_object_set_new(o, "malformed", json_integer((json_int_t)(r->malformed + r->bad_link)));
	json_object_set_new(o, "not_dark", json_pack("{s:I,s:I}", "packets", (json_int_t)r->not_dark_packets, "bytes",
						     (json_int_t)r->not_dark_bytes));
	json_object_set_new(o, "packets", json_integer((json_int_t)r->packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	json_object_set_new(o, "first_ts", r->packets ? jts(r->first_ns) : json_null());
	json_object_set_new(o, "last_ts", r->packets ? jts(r->last_ns) : json_null());
	json_object_set_new(o, "unique_sources", json_integer((json_int_t)r->sources));
	json_object_set_new(o, "unique_sources_ipv6", json_integer((json_int_t)r->sources6));
	char maxa[16];
	addr_str(r->dark_max_addr, maxa);
	json_object_set_new(o, "dark", json_pack("{s:o,s:I,s:o,s:o}", "addresses",
						 r->dark_size ? json_integer((json_int_t)r->dark_size) : json_null(), "hit",
						 (json_int_t)r->dark_hit, "packets_per_address",
						 jreal(share(r->packets, r->dark_size ? r->dark_size : r->dark_hit)), "busiest",
						 r->dark_hit ? json_pack("{s:s,s:I}", "address", maxa, "packets",
									 (json_int_t)r->dark_max_packets)
							     : json_null()));
	json_t *cls = json_object();
	for (int i = 0; i < SCOPE_C__N; i++)
		json_object_set_new(cls, class_names[i], json_integer((json_int_t)r->cls[i]));
	json_object_set_new(o, "classes", cls);
	json_object_set_new(o, "telnet", json_pack("{s:I,s:o}", "packets", (json_int_t)r->telnet, "share",
						   jreal(share(r->telnet, r->packets))));
	json_object_set_new(o, "ports", jports(r->ports, r->nports, r->packets));
	if (cfg->geo) {
		json_object_set_new(o, "geo", json_string(scope_geo_describe(cfg->geo)));
		json_object_set_new(o, "countries", jcountries(r->countries, r->ncountries));
		json_object_set_new(o, "asns", jasns(r->asns, r->nasns, ctx->geo, cfg->top));
	}
	json_t *labels = json_object(), *apps = json_object();
	for (size_t i = 0; i < r->nos; i++)
		json_object_set_new(r->os[i].app ? apps : labels, scope_p0f_label(ctx->p0f, r->os[i].label),
				    json_integer((json_int_t)r->os[i].sources));
	json_object_set_new(o, "os", json_pack("{s:I,s:s,s:o,s:o,s:o}", "syn_sources", (json_int_t)r->syn_sources,
					       "signatures", ctx->p0f ? "p0f" : "none", "labels", labels, "apps", apps,
					       "families", jfamilies(r->families)));
	json_object_set_new(o, "mirai", jcount(&r->mirai));
	json_object_set_new(o, "zmap", jcount(&r->zmap));
	json_object_set_new(o, "masscan", jcount(&r->masscan));
	json_t *att = json_array();
	for (size_t i = 0; i < r->nattacks; i++)
		json_array_append_new(att, attack_json(&r->attacks[i], r));
	json_object_set_new(o, "backscatter",
			    json_pack("{s:I,s:I,s:I,s:o,s:{s:i,s:i,s:i,s:i}}", "victims", (json_int_t)r->attacks_total,
				      "packets", (json_int_t)r->backscatter_packets, "victim_addresses",
				      (json_int_t)r->backscatter_victims_all, "attacks", att, "thresholds", "packets",
				      (int)cfg->dos_packets, "seconds", (int)cfg->dos_duration, "ppm", (int)cfg->dos_ppm,
				      "timeout", (int)cfg->dos_timeout));
	json_t *sc = json_array();
	for (size_t i = 0; i < r->nscanners; i++)
		json_array_append_new(sc, scanner_json(&r->scanners[i], r, ctx));
	json_object_set_new(o, "scanners", json_pack("{s:I,s:I,s:I,s:i,s:o}", "count", (json_int_t)r->scanners_total,
						     "sources", (json_int_t)r->scanner_sources, "packets",
						     (json_int_t)r->scanner_packets, "min_dests", (int)cfg->scan_dests,
						     "top", sc));
	json_t *ivs = json_array();
	for (size_t i = 0; i < r->nintervals; i++)
		json_array_append_new(ivs, interval_json(&r->intervals[i], ctx));
	json_object_set_new(o, "intervals", ivs);
	const struct scope_limits *l = &r->limits;
	json_object_set_new(o, "limits", json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "exact", scope_report_exact(r),
						   "sources_full", (json_int_t)l->sources_full, "pairs_full",
						   (json_int_t)l->pairs_full, "scan_full", (json_int_t)l->scan_full,
						   "dests_full", (json_int_t)l->dests_full, "victims_full",
						   (json_int_t)l->victims_full, "scanners_full", (json_int_t)l->scanners_full,
						   "attacks_full", (json_int_t)l->attacks_full, "label_halvings",
						   (json_int_t)l->label_halvings, "late_packets", (json_int_t)l->late_packets));
	json_object_set_new(o, "memory", json_pack("{s:I,s:I}", "tables_bytes", (json_int_t)r->table_bytes,
						   "peak_rss_bytes", (json_int_t)ctx->peak_rss));
	json_t *errs = json_array();
	for (size_t i = 0; i < ctx->nerrors; i++)
		json_array_append_new(errs, json_string(ctx->errors[i]));
	json_object_set_new(o, "errors", errs);
	json_object_set_new(o, "seconds", json_real(round(ctx->seconds * 1000) / 1000));
	return o;
}

static int dump_json(struct buf *out, json_t *j, bool compact)
{
	char *s = json_dumps(j, compact ? JSON_COMPACT : JSON_INDENT(1));
	json_decref(j);
	if (!s)
		return -ENOMEM;
	int rc = buf_append_str(out, s);
	rc |= buf_append_str(out, "\n");
	free(s);
	return rc;
}

/* CSV: one row per interval and port. */
static void csv_rows(struct report_table *t, const struct scope_interval *iv)
{
	char st[LIB_RFC3339_LEN];
	ts_str(iv->start * 1000000000, st);
	for (size_t i = 0; i < iv->nports; i++) {
		const struct scope_port *p = &iv->ports[i];
		report_table_row(t);
		report_table_str(t, st);
		report_table_int(t, iv->start);
		report_table_str(t, scope_pt_name(p->pt));
		report_table_int(t, p->port);
		report_table_uint(t, p->packets);
		report_table_uint(t, p->sources);
		report_table_real(t, share(p->packets, iv->packets));
		report_table_uint(t, iv->packets);
		report_table_uint(t, iv->sources);
	}
}

static struct report_table *csv_table(void)
{
	struct report_table *t = report_table_new(NULL);
	report_table_col(t, "interval_start", REPORT_STR, 0);
	report_table_col(t, "interval_start_unix", REPORT_INT, 0);
	report_table_col(t, "proto", REPORT_STR, 0);
	report_table_col(t, "port", REPORT_INT, 0);
	report_table_col(t, "packets", REPORT_INT, 0);
	report_table_col(t, "sources", REPORT_INT, 0);
	report_table_col(t, "share", REPORT_REAL, 6);
	report_table_col(t, "interval_packets", REPORT_INT, 0);
	report_table_col(t, "interval_sources", REPORT_INT, 0);
	return t;
}

/* CSV without its header line (for the rows of one more interval in live output). */
static void render_csv_rows(struct report_table *t, struct buf *out, bool header)
{
	struct buf tmp;
	buf_init(&tmp, 0);
	report_table_render(t, REPORT_CSV, &tmp);
	const char *s = (const char *)tmp.data;
	if (s && !header) {
		const char *nl = strchr(s, '\n');
		s = nl ? nl + 1 : s + tmp.len;
	}
	if (s)
		buf_append_str(out, s);
	buf_free(&tmp);
}

/* ---- the table for people ---- */

static void fmt_bytes(char *out, size_t n, uint64_t b)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void render_table(struct buf *out, const struct report_table *t)
{
	report_table_render(t, REPORT_TEXT, out);
	buf_append_str(out, "\n");
}

static void summary_table(struct buf *out, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	struct report_table *t = report_table_new("Summary");
	report_table_col(t, "what", REPORT_STR, 0);
	report_table_col(t, "value", REPORT_STR, 0);
	char b[256], b2[LIB_RFC3339_LEN], b3[LIB_RFC3339_LEN];
#define KV(k, ...)                                 \
	do {                                       \
		snprintf(b, sizeof(b), __VA_ARGS__); \
		report_table_row(t);               \
		report_table_str(t, k);            \
		report_table_str(t, b);            \
	} while (0)
	if (ctx->live)
		KV("inputs", "live capture");
	else
		KV("inputs", "%zu file%s", ctx->ninputs, ctx->ninputs == 1 ? "" : "s");
	if (r->packets) {
		ts_str(r->first_ns, b2);
		ts_str(r->last_ns, b3);
		KV("time", "%s .. %s", b2, b3);
	}
	fmt_bytes(b2, sizeof(b2), r->bytes);
	KV("dark packets", "%llu (%s)", (unsigned long long)r->packets, b2);
	KV("other frames", "%llu not to the darknet, %llu not IP, %llu malformed", (unsigned long long)r->not_dark_packets,
	   (unsigned long long)r->not_ip, (unsigned long long)(r->malformed + r->bad_link));
	KV("unique sources", "%llu (%llu IPv6)", (unsigned long long)r->sources, (unsigned long long)r->sources6);
	if (r->dark_size)
		KV("dark addresses", "%llu monitored, %llu hit, %.1f packets per address", (unsigned long long)r->dark_size,
		   (unsigned long long)r->dark_hit, share(r->packets, r->dark_size));
	else
		KV("dark addresses", "%llu hit (no --darknet: every destination counts)", (unsigned long long)r->dark_hit);
	KV("classes", "SYN %llu, UDP %llu, ICMP %llu, SYN-ACK/RST %llu, other TCP %llu, other %llu",
	   (unsigned long long)r->cls[SCOPE_C_SYN], (unsigned long long)r->cls[SCOPE_C_UDP],
	   (unsigned long long)r->cls[SCOPE_C_ICMP], (unsigned long long)r->cls[SCOPE_C_BACKSCATTER],
	   (unsigned long long)r->cls[SCOPE_C_TCP_OTHER], (unsigned long long)r->cls[SCOPE_C_OTHER]);
	KV("Telnet share", "%.1f %% of packets (23/tcp and 2323/tcp SYN)", 100 * share(r->telnet, r->packets));
	KV("Mirai", "%llu sources, %llu packets", (unsigned long long)r->mirai.sources, (unsigned long long)r->mirai.packets);
	KV("ZMap", "%llu sources, %llu packets", (unsigned long long)r->zmap.sources, (unsigned long long)r->zmap.packets);
	KV("masscan", "%llu sources, %llu packets", (unsigned long long)r->masscan.sources,
	   (unsigned long long)r->masscan.packets);
	KV("backscatter", "%llu packets from %llu victims, %llu attacks", (unsigned long long)r->backscatter_packets,
	   (unsigned long long)r->backscatter_victims_all, (unsigned long long)r->attacks_total);
	KV("scanners", "%llu (source, port) pairs from %llu sources (>= %u dark addresses in an interval)",
	   (unsigned long long)r->scanners_total, (unsigned long long)r->scanner_sources, ctx->cfg->scan_dests);
	if (ctx->cfg->geo)
		KV("geolocation", "%s", scope_geo_describe(ctx->cfg->geo));
	fmt_bytes(b2, sizeof(b2), r->table_bytes);
	fmt_bytes(b3, sizeof(b3), ctx->peak_rss);
	KV("memory", "tables %s, peak RSS %s", b2, b3);
	KV("time taken", "%.2f s", ctx->seconds);
	if (!scope_report_exact(r))
		KV("WARNING", "a table was full: some counts are lower bounds (see limits in --format json)");
	if (r->limits.late_packets)
		KV("late packets", "%llu packets older than their interval were counted in the next",
		   (unsigned long long)r->limits.late_packets);
#undef KV
	render_table(out, t);
	report_table_free(t);
}

static void ports_table(struct buf *out, const struct scope_report *r, uint32_t top)
{
	struct report_table *t = report_table_new("Top destination ports (TCP SYN, UDP; ICMP by type)");
	report_table_col(t, "proto", REPORT_STR, 0);
	report_table_col(t, "port", REPORT_INT, 0);
	report_table_col(t, "packets", REPORT_INT, 0);
	report_table_col(t, "share", REPORT_PERCENT, 1);
	report_table_col(t, "sources", REPORT_INT, 0);
	for (size_t i = 0; i < r->nports && i < top; i++) {
		report_table_row(t);
		report_table_str(t, scope_pt_name(r->ports[i].pt));
		report_table_int(t, r->ports[i].port);
		report_table_uint(t, r->ports[i].packets);
		report_table_real(t, share(r->ports[i].packets, r->packets));
		report_table_uint(t, r->ports[i].sources);
	}
	render_table(out, t);
	report_table_free(t);
}

static void geo_tables(struct buf *out, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	struct report_table *t = report_table_new("Sources per country");
	report_table_col(t, "country", REPORT_STR, 0);
	report_table_col(t, "sources", REPORT_INT, 0);
	report_table_col(t, "share", REPORT_PERCENT, 1);
	report_table_col(t, "packets", REPORT_INT, 0);
	report_table_col(t, "Mirai", REPORT_INT, 0);
	for (size_t i = 0; i < r->ncountries && i < ctx->top; i++) {
		char cc[3];
		scope_cc_str(r->countries[i].cc, cc);
		report_table_row(t);
		report_table_str(t, cc);
		report_table_uint(t, r->countries[i].sources);
		report_table_real(t, share(r->countries[i].sources, r->sources - r->sources6));
		report_table_uint(t, r->countries[i].packets);
		report_table_uint(t, r->countries[i].mirai_sources);
	}
	render_table(out, t);
	report_table_free(t);
	t = report_table_new("Sources per AS");
	report_table_col(t, "AS", REPORT_INT, 0);
	report_table_col(t, "name", REPORT_STR, 0);
	report_table_col(t, "sources", REPORT_INT, 0);
	report_table_col(t, "packets", REPORT_INT, 0);
	for (size_t i = 0; i < r->nasns && i < ctx->top; i++) {
		report_table_row(t);
		report_table_uint(t, r->asns[i].asn);
		report_table_str(t, r->asns[i].asn ? scope_geo_as_name(ctx->geo, r->asns[i].asn) : "(unknown)");
		report_table_uint(t, r->asns[i].sources);
		report_table_uint(t, r->asns[i].packets);
	}
	render_table(out, t);
	report_table_free(t);
}

static void os_tables(struct buf *out, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	struct report_table *t = report_table_new("OS of SYN sources (family: p0f class, else initial TTL)");
	report_table_col(t, "family", REPORT_STR, 0);
	report_table_col(t, "sources", REPORT_INT, 0);
	report_table_col(t, "share", REPORT_PERCENT, 1);
	for (int i = 0; i < SCOPE_FAM__N; i++) {
		report_table_row(t);
		report_table_str(t, scope_family_names[i]);
		report_table_uint(t, r->families[i]);
		report_table_real(t, share(r->families[i], r->syn_sources));
	}
	render_table(out, t);
	report_table_free(t);
	t = report_table_new(ctx->p0f ? "p0f labels of SYN sources" : "p0f labels (no p0f.fp loaded)");
	report_table_col(t, "label", REPORT_STR, 0);
	report_table_col(t, "kind", REPORT_STR, 0);
	report_table_col(t, "sources", REPORT_INT, 0);
	for (size_t i = 0; i < r->nos && i < ctx->top; i++) {
		report_table_row(t);
		report_table_str(t, scope_p0f_label(ctx->p0f, r->os[i].label));
		report_table_str(t, r->os[i].app ? "app" : "os");
		report_table_uint(t, r->os[i].sources);
	}
	render_table(out, t);
	report_table_free(t);
}

static void lists_tables(struct buf *out, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	struct report_table *t = report_table_new("Scanners (most packets first)");
	report_table_col(t, "source", REPORT_STR, 0);
	report_table_col(t, "proto", REPORT_STR, 0);
	report_table_col(t, "port", REPORT_INT, 0);
	report_table_col(t, "packets", REPORT_INT, 0);
	report_table_col(t, "dests", REPORT_INT, 0);
	report_table_col(t, "labels", REPORT_STR, 0);
	for (size_t i = 0; i < r->nscanners && i < ctx->top; i++) {
		const struct scope_scanner *s = &r->scanners[i];
		char a[16];
		addr_str(s->src, a);
		report_table_row(t);
		report_table_str(t, a);
		report_table_str(t, scope_pt_name(s->pt));
		report_table_int(t, s->port);
		report_table_uint(t, s->packets);
		report_table_uint(t, s->dests);
		report_table_str(t, (s->labels & SCOPE_L_MIRAI) ? "mirai" : (s->labels & SCOPE_L_MASSCAN) ? "masscan"
								     : (s->labels & SCOPE_L_ZMAP)	 ? "zmap"
													 : "");
	}
	render_table(out, t);
	report_table_free(t);
	t = report_table_new("DoS victims seen through backscatter");
	report_table_col(t, "victim", REPORT_STR, 0);
	report_table_col(t, "start", REPORT_STR, 0);
	report_table_col(t, "seconds", REPORT_INT, 0);
	report_table_col(t, "packets", REPORT_INT, 0);
	report_table_col(t, "peak/min", REPORT_INT, 0);
	report_table_col(t, "est. pps", REPORT_REAL, 0);
	for (size_t i = 0; i < r->nattacks && i < ctx->top; i++) {
		const struct scope_attack *a = &r->attacks[i];
		char v[16], st[LIB_RFC3339_LEN];
		addr_str(a->victim, v);
		ts_str(a->start_ns, st);
		report_table_row(t);
		report_table_str(t, v);
		report_table_str(t, st);
		report_table_int(t, (a->end_ns - a->start_ns) / 1000000000);
		report_table_uint(t, a->packets);
		report_table_uint(t, a->max_ppm);
		report_table_real(t, a->max_ppm / 60.0 * scale_of(r));
	}
	render_table(out, t);
	report_table_free(t);
}

static void intervals_table(struct buf *out, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	struct report_table *t = report_table_new("Intervals");
	report_table_col(t, "start", REPORT_STR, 0);
	report_table_col(t, "packets", REPORT_INT, 0);
	report_table_col(t, "sources", REPORT_INT, 0);
	report_table_col(t, "Telnet", REPORT_PERCENT, 1);
	report_table_col(t, "Mirai src", REPORT_INT, 0);
	report_table_col(t, "top port", REPORT_STR, 0);
	size_t from = r->nintervals > 48 ? r->nintervals - 48 : 0;
	for (size_t i = from; i < r->nintervals; i++) {
		const struct scope_interval *iv = &r->intervals[i];
		char st[LIB_RFC3339_LEN], top[32] = "";
		ts_str(iv->start * 1000000000, st);
		if (iv->nports)
			snprintf(top, sizeof(top), "%u/%s", iv->ports[0].port, scope_pt_name(iv->ports[0].pt));
		report_table_row(t);
		report_table_str(t, st);
		report_table_uint(t, iv->packets);
		report_table_uint(t, iv->sources);
		report_table_real(t, share(iv->telnet, iv->packets));
		report_table_uint(t, iv->mirai.sources);
		report_table_str(t, top);
	}
	render_table(out, t);
	if (from)
		buf_printf(out, "(the last 48 of %zu intervals; --format json or csv has them all)\n\n", r->nintervals);
	report_table_free(t);
}

int scope_write_report(struct buf *out, enum scope_format fmt, const struct scope_report *r,
		       const struct scope_out_ctx *ctx)
{
	switch (fmt) {
	case SCOPE_FMT_JSON:
		return dump_json(out, report_json(r, ctx), ctx->live);
	case SCOPE_FMT_CSV: {
		struct report_table *t = csv_table();
		for (size_t i = 0; i < r->nintervals; i++)
			csv_rows(t, &r->intervals[i]);
		render_csv_rows(t, out, true);
		report_table_free(t);
		return 0;
	}
	case SCOPE_FMT_TABLE:
		summary_table(out, r, ctx);
		ports_table(out, r, ctx->top);
		if (ctx->cfg->geo)
			geo_tables(out, r, ctx);
		os_tables(out, r, ctx);
		lists_tables(out, r, ctx);
		intervals_table(out, r, ctx);
		for (size_t i = 0; i < ctx->nerrors; i++)
			buf_printf(out, "error: %s\n", ctx->errors[i]);
		return 0;
	}
	return -EINVAL;
}

int scope_write_interval(struct buf *out, enum scope_format fmt, const struct scope_interval *iv,
			 const struct scope_out_ctx *ctx, bool header)
{
	switch (fmt) {
	case SCOPE_FMT_JSON:
		return dump_json(out, interval_json(iv, ctx), true);
	case SCOPE_FMT_CSV: {
		struct report_table *t = csv_table();
		csv_rows(t, iv);
		render_csv_rows(t, out, header);
		report_table_free(t);
		return 0;
	}
	case SCOPE_FMT_TABLE: {
		char st[LIB_RFC3339_LEN];
		ts_str(iv->start * 1000000000, st);
		buf_printf(out, "%s  packets %llu  sources %llu  Telnet %.1f %%  Mirai %llu  ports", st,
			   (unsigned long long)iv->packets, (unsigned long long)iv->sources,
			   100 * share(iv->telnet, iv->packets), (unsigned long long)iv->mirai.sources);
		for (size_t i = 0; i < iv->nports && i < 5; i++)
			buf_printf(out, " %u/%s:%llu", iv->ports[i].port, scope_pt_name(iv->ports[i].pt),
				   (unsigned long long)iv->ports[i].packets);
		return buf_append_str(out, "\n");
	}
	}
	return -EINVAL;
}
