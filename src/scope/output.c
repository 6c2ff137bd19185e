/* scope: the report for people (--format table), for programs (json) and for spreadsheets
 * (csv: one row per interval and port). docs/scope.md lists every field. */
#include "scope/scope_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"
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

static const char *const class_names[SCOPE_C__N] = {"tcp_syn",         "udp",       "icmp",
						    "tcp_backscatter", "tcp_other", "other"};

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

static double share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0.0;
}

/* ---- JSON ----
 * Written straight into the buffer (a tree of jansson objects for a report with thousands of
 * AS rows cost more than computing the report), in the layout json_dumps gives: JSON_INDENT(1),
 * or JSON_COMPACT for live lines; numbers as jansson prints them. Strings: UTF-8 passes,
 * control characters are escaped, bytes that are not UTF-8 are written as the text \xNN (as
 * core_json_bytes does). */
#define JW_MAX_DEPTH 16 /* nesting of the report: 4 */
#define JW_STAGE 16384  /* bytes gathered before they go to the buffer */
struct jw {
	struct buf *b;
	FILE *f; /* when set, the staged bytes go here instead of b (no buffer of the whole report)
		  */
	bool compact;
	int depth;
	bool empty[JW_MAX_DEPTH + 1]; /* nothing written yet in the open container */
	int err;
	size_t n;
	char stage[JW_STAGE];
};

/* n bytes to the buffer or the file. */
static void jw_put(struct jw *w, const char *p, size_t n)
{
	int rc = 0;
	if (w->f)
		rc = fwrite(p, 1, n, w->f) == n ? 0 : -EIO;
	else
		rc = buf_append(w->b, p, n);
	if (rc && !w->err)
		w->err = rc;
}

static void jw_flush(struct jw *w)
{
	jw_put(w, w->stage, w->n);
	w->n = 0;
}

static void jw_raw(struct jw *w, const char *p, size_t n)
{
	if (w->n + n > JW_STAGE) {
		jw_flush(w);
		if (n > JW_STAGE) {
			jw_put(w, p, n);
			return;
		}
	}
	char *d = w->stage + w->n;
	for (size_t i = 0; i < n; i++) /* mostly a few bytes: cheaper than a call */
		d[i] = p[i];
	w->n += n;
}

/* Before a member or an element: the separator and the indentation. */
static void jw_next(struct jw *w)
{
	if (w->depth == 0)
		return;
	if (!w->empty[w->depth])
		jw_raw(w, ",", 1);
	w->empty[w->depth] = false;
	if (!w->compact) {
		char ind[JW_MAX_DEPTH + 2];
		ind[0] = '\n';
		memset(ind + 1, ' ', (size_t)w->depth);
		jw_raw(w, ind, (size_t)w->depth + 1);
	}
}

static void jw_piece(void *arg, const char *p, size_t n)
{
	jw_raw(arg, p, n);
}

static void jw_string(struct jw *w, const char *str)
{
	core_json_escape(str, strlen(str), jw_piece, w);
}

/* A member's key (objects) or nothing (arrays: key NULL). */
static void jw_key(struct jw *w, const char *key)
{
	jw_next(w);
	if (key) {
		jw_string(w, key);
		jw_raw(w, w->compact ? ":" : ": ", w->compact ? 1 : 2);
	}
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_key(w, key);
	jw_raw(w, &c, 1);
	if (w->depth < JW_MAX_DEPTH)
		w->depth++;
	w->empty[w->depth] = true;
}

static void jw_close(struct jw *w, char c)
{
	bool empty = w->empty[w->depth];
	w->depth--;
	if (!empty && !w->compact) {
		char ind[JW_MAX_DEPTH + 2];
		ind[0] = '\n';
		memset(ind + 1, ' ', (size_t)w->depth);
		jw_raw(w, ind, (size_t)w->depth + 1);
	}
	jw_raw(w, &c, 1);
}

static void jw_uint(struct jw *w, const char *key, uint64_t v)
{
	char d[24];
	size_t i = sizeof(d);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jw_key(w, key);
	jw_raw(w, d + i, sizeof(d) - i);
}

static void jw_int(struct jw *w, const char *key, int64_t v)
{
	if (v >= 0) {
		jw_uint(w, key, (uint64_t)v);
		return;
	}
	char d[24];
	snprintf(d, sizeof(d), "%lld", (long long)v);
	jw_key(w, key);
	jw_raw(w, d, strlen(d));
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_raw(w, "null", 4);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	jw_string(w, v);
}

/* A real as jansson prints it (%.17g, ".0" for integral values, exponents without '+' and
 * leading zeros); null when it is not finite. */
static void jw_real(struct jw *w, const char *key, double v)
{
	if (!isfinite(v)) {
		jw_null(w, key);
		return;
	}
	char d[40];
	int n = snprintf(d, sizeof(d), "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(d) - 3) {
		jw_null(w, key);
		return;
	}
	size_t len = (size_t)n;
	if (strspn(d, "0123456789-") == len) {
		memcpy(d + len, ".0", 3);
		len += 2;
	}
	char *e = strchr(d, 'e');
	if (e) {
		char *start = e + 1, *end = start + 1;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, len - (size_t)(end - d) + 1);
			len -= (size_t)(end - start);
		}
	}
	jw_key(w, key);
	jw_raw(w, d, len);
}

static void jw_ts(struct jw *w, const char *key, int64_t ns)
{
	char b[LIB_RFC3339_LEN];
	ts_str(ns, b);
	jw_str(w, key, b);
}

static void jw_count(struct jw *w, const char *key, const struct scope_count *c)
{
	jw_open(w, key, '{');
	jw_uint(w, "sources", c->sources);
	jw_uint(w, "packets", c->packets);
	jw_close(w, '}');
}

static void jw_ports(struct jw *w, const struct scope_port *p, size_t n, uint64_t total)
{
	jw_open(w, "ports", '[');
	for (size_t i = 0; i < n; i++) {
		jw_open(w, NULL, '{');
		jw_str(w, "proto", scope_pt_name(p[i].pt));
		jw_uint(w, "port", p[i].port);
		jw_uint(w, "packets", p[i].packets);
		jw_uint(w, "sources", p[i].sources);
		jw_real(w, "share", share(p[i].packets, total));
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void jw_countries(struct jw *w, const struct scope_country *c, size_t n)
{
	jw_open(w, "countries", '{');
	for (size_t i = 0; i < n; i++) {
		char cc[3];
		scope_cc_str(c[i].cc, cc);
		jw_open(w, cc, '{');
		jw_uint(w, "sources", c[i].sources);
		jw_uint(w, "packets", c[i].packets);
		jw_uint(w, "mirai_sources", c[i].mirai_sources);
		jw_close(w, '}');
	}
	jw_close(w, '}');
}

/* AS rows; names (a slow lookup in libloc) for the first `named` rows only. */
static void jw_asns(struct jw *w, const struct scope_asn *a, size_t n, struct scope_geo *geo,
		    size_t named)
{
	jw_open(w, "asns", '[');
	for (size_t i = 0; i < n; i++) {
		const char *name = geo && i < named ? scope_geo_as_name(geo, a[i].asn) : NULL;
		jw_open(w, NULL, '{');
		jw_uint(w, "asn", a[i].asn);
		if (name)
			jw_str(w, "name", name);
		else
			jw_null(w, "name");
		jw_uint(w, "sources", a[i].sources);
		jw_uint(w, "packets", a[i].packets);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void jw_families(struct jw *w, const uint64_t *f)
{
	jw_open(w, "families", '{');
	for (int i = 0; i < SCOPE_FAM__N; i++)
		jw_uint(w, scope_family_names[i], f[i]);
	jw_close(w, '}');
}

static void jw_classes(struct jw *w, const uint64_t *cls)
{
	jw_open(w, "classes", '{');
	for (int i = 0; i < SCOPE_C__N; i++)
		jw_uint(w, class_names[i], cls[i]);
	jw_close(w, '}');
}

/* The labels' sources and packets. */
static void jw_tools(struct jw *w, const struct scope_count *mirai, const struct scope_count *zmap,
		     const struct scope_count *masscan)
{
	jw_count(w, "mirai", mirai);
	jw_count(w, "zmap", zmap);
	jw_count(w, "masscan", masscan);
}

/* Classes, Telnet share and ports, of an interval or of the run. */
static void jw_traffic(struct jw *w, const uint64_t *cls, uint64_t telnet,
		       const struct scope_port *ports, size_t nports, uint64_t packets)
{
	jw_classes(w, cls);
	jw_open(w, "telnet", '{');
	jw_uint(w, "packets", telnet);
	jw_real(w, "share", share(telnet, packets));
	jw_close(w, '}');
	jw_ports(w, ports, nports, packets);
}

static void jw_interval(struct jw *w, const char *key, const struct scope_interval *iv,
			const struct scope_out_ctx *ctx)
{
	jw_open(w, key, '{');
	jw_ts(w, "start", iv->start * 1000000000);
	jw_int(w, "start_unix", iv->start);
	jw_int(w, "seconds", ctx->cfg->interval);
	jw_uint(w, "packets", iv->packets);
	jw_uint(w, "bytes", iv->bytes);
	jw_uint(w, "sources", iv->sources);
	jw_uint(w, "dark_hit", iv->dark_hit);
	jw_traffic(w, iv->cls, iv->telnet, iv->ports, iv->nports, iv->packets);
	jw_uint(w, "ports_rest_packets", iv->ports_rest_packets);
	if (ctx->cfg->geo) {
		jw_countries(w, iv->countries, iv->ncountries);
		jw_asns(w, iv->asns, iv->nasns, NULL, 0);
	}
	jw_tools(w, &iv->mirai, &iv->zmap, &iv->masscan);
	jw_open(w, "backscatter", '{');
	jw_uint(w, "packets", iv->backscatter_packets);
	jw_uint(w, "victims", iv->backscatter_victims);
	jw_close(w, '}');
	jw_uint(w, "scanners", iv->scanners);
	jw_families(w, iv->families);
	jw_close(w, '}');
}

static void jw_attack(struct jw *w, const struct scope_attack *a, const struct scope_report *r)
{
	char v[16];
	addr_str(a->victim, v);
	double secs = (double)(a->end_ns - a->start_ns) / 1e9;
	double sc = scale_of(r);
	jw_open(w, NULL, '{');
	jw_str(w, "victim", v);
	jw_ts(w, "start", a->start_ns);
	jw_ts(w, "end", a->end_ns);
	jw_real(w, "seconds", secs);
	jw_uint(w, "packets", a->packets);
	jw_uint(w, "bytes", a->bytes);
	jw_uint(w, "max_ppm", a->max_ppm);
	jw_real(w, "est_peak_pps", a->max_ppm / 60.0 * sc);
	jw_real(w, "est_mean_pps", secs > 0 ? (double)a->packets / secs * sc : NAN);
	jw_open(w, "kinds", '[');
	if (a->kinds & 1)
		jw_str(w, NULL, "syn-ack");
	if (a->kinds & 2)
		jw_str(w, NULL, "rst");
	if (a->kinds & 4)
		jw_str(w, NULL, "icmp");
	jw_close(w, ']');
	jw_close(w, '}');
}

static void jw_scanner(struct jw *w, const struct scope_scanner *s, const struct scope_report *r,
		       const struct scope_out_ctx *ctx)
{
	char a[16], cc[3];
	addr_str(s->src, a);
	scope_cc_str(s->cc, cc);
	double dur = (double)s->last - (double)s->first + 1;
	double sc = scale_of(r);
	jw_open(w, NULL, '{');
	jw_str(w, "source", a);
	jw_str(w, "proto", scope_pt_name(s->pt));
	jw_uint(w, "port", s->port);
	jw_ts(w, "first", (int64_t)s->first * 1000000000);
	jw_ts(w, "last", (int64_t)s->last * 1000000000);
	jw_uint(w, "packets", s->packets);
	jw_uint(w, "dests", s->dests);
	jw_uint(w, "intervals", s->intervals);
	jw_real(w, "coverage", r->dark_size ? (double)s->dests / (double)r->dark_size : NAN);
	jw_real(w, "est_rate_pps", (double)s->packets / dur * sc);
	jw_open(w, "labels", '[');
	if (s->labels & SCOPE_L_MIRAI)
		jw_str(w, NULL, "mirai");
	if (s->labels & SCOPE_L_ZMAP)
		jw_str(w, NULL, "zmap");
	if (s->labels & SCOPE_L_MASSCAN)
		jw_str(w, NULL, "masscan");
	jw_close(w, ']');
	if (ctx->cfg->geo)
		jw_str(w, "country", cc);
	jw_close(w, '}');
}

/* The OS labels (or the tools) as an object: label -> sources. Two entries with the same
 * printed label make one member, where the first was, with the last count (what a JSON object
 * built member by member holds). */
static void jw_os_labels(struct jw *w, const char *key, const struct scope_report *r,
			 const struct scope_out_ctx *ctx, bool app)
{
	jw_open(w, key, '{');
	for (size_t i = 0; i < r->nos; i++) {
		if (r->os[i].app != app)
			continue;
		const char *name = scope_p0f_label(ctx->p0f, r->os[i].label);
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = r->os[k].app == app &&
			       !strcmp(scope_p0f_label(ctx->p0f, r->os[k].label), name);
		if (seen)
			continue;
		uint64_t v = r->os[i].sources;
		for (size_t k = i + 1; k < r->nos; k++)
			if (r->os[k].app == app &&
			    !strcmp(scope_p0f_label(ctx->p0f, r->os[k].label), name))
				v = r->os[k].sources;
		jw_uint(w, name, v);
	}
	jw_close(w, '}');
}

/* What was read: the tool, the inputs, the interval and the darknet. */
static void jw_run(struct jw *w, const struct scope_out_ctx *ctx)
{
	const struct scope_config *cfg = ctx->cfg;
	jw_str(w, "tool", "mitsu scope " MITSU_VERSION);
	jw_open(w, "inputs", '[');
	for (size_t i = 0; i < ctx->ninputs; i++)
		jw_str(w, NULL, ctx->inputs[i]);
	jw_close(w, ']');
	jw_int(w, "interval", cfg->interval);
	jw_open(w, "darknet", '[');
	for (size_t i = 0; i < cfg->ndarknet; i++) {
		char b[64], a[INET6_ADDRSTRLEN];
		const struct scope_cidr *c = &cfg->darknet[i];
		if (c->ver == 4)
			addr_str(c->v4, a);
		else
			inet_ntop(AF_INET6, c->v6, a, sizeof(a));
		snprintf(b, sizeof(b), "%s/%u", a, c->prefix);
		jw_str(w, NULL, b);
	}
	jw_close(w, ']');
}

/* Frames, packets, bytes, time span, unique sources. */
static void jw_totals(struct jw *w, const struct scope_report *r)
{
	jw_uint(w, "frames", r->frames);
	jw_uint(w, "not_ip", r->not_ip);
	jw_uint(w, "malformed", r->malformed + r->bad_link);
	jw_open(w, "not_dark", '{');
	jw_uint(w, "packets", r->not_dark_packets);
	jw_uint(w, "bytes", r->not_dark_bytes);
	jw_close(w, '}');
	jw_uint(w, "packets", r->packets);
	jw_uint(w, "bytes", r->bytes);
	if (r->packets) {
		jw_ts(w, "first_ts", r->first_ns);
		jw_ts(w, "last_ts", r->last_ns);
	} else {
		jw_null(w, "first_ts");
		jw_null(w, "last_ts");
	}
	jw_uint(w, "unique_sources", r->sources);
	jw_uint(w, "unique_sources_ipv6", r->sources6);
}

/* The dark addresses: monitored, hit, the busiest. */
static void jw_dark(struct jw *w, const struct scope_report *r)
{
	jw_open(w, "dark", '{');
	if (r->dark_size)
		jw_uint(w, "addresses", r->dark_size);
	else
		jw_null(w, "addresses");
	jw_uint(w, "hit", r->dark_hit);
	jw_real(w, "packets_per_address",
		share(r->packets, r->dark_size ? r->dark_size : r->dark_hit));
	if (r->dark_hit) {
		char maxa[16];
		addr_str(r->dark_max_addr, maxa);
		jw_open(w, "busiest", '{');
		jw_str(w, "address", maxa);
		jw_uint(w, "packets", r->dark_max_packets);
		jw_close(w, '}');
	} else {
		jw_null(w, "busiest");
	}
	jw_close(w, '}');
}

static void jw_os(struct jw *w, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	jw_open(w, "os", '{');
	jw_uint(w, "syn_sources", r->syn_sources);
	jw_str(w, "signatures", ctx->p0f ? "p0f" : "none");
	jw_os_labels(w, "labels", r, ctx, false);
	jw_os_labels(w, "apps", r, ctx, true);
	jw_families(w, r->families);
	jw_close(w, '}');
}

static void jw_backscatter(struct jw *w, const struct scope_report *r,
			   const struct scope_config *cfg)
{
	jw_open(w, "backscatter", '{');
	jw_uint(w, "victims", r->attacks_total);
	jw_uint(w, "packets", r->backscatter_packets);
	jw_uint(w, "victim_addresses", r->backscatter_victims_all);
	jw_open(w, "attacks", '[');
	for (size_t i = 0; i < r->nattacks; i++)
		jw_attack(w, &r->attacks[i], r);
	jw_close(w, ']');
	jw_open(w, "thresholds", '{');
	jw_uint(w, "packets", cfg->dos_packets);
	jw_uint(w, "seconds", cfg->dos_duration);
	jw_uint(w, "ppm", cfg->dos_ppm);
	jw_uint(w, "timeout", cfg->dos_timeout);
	jw_close(w, '}');
	jw_close(w, '}');
}

static void jw_scanners(struct jw *w, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	jw_open(w, "scanners", '{');
	jw_uint(w, "count", r->scanners_total);
	jw_uint(w, "sources", r->scanner_sources);
	jw_uint(w, "packets", r->scanner_packets);
	jw_uint(w, "min_dests", ctx->cfg->scan_dests);
	jw_open(w, "top", '[');
	for (size_t i = 0; i < r->nscanners; i++)
		jw_scanner(w, &r->scanners[i], r, ctx);
	jw_close(w, ']');
	jw_close(w, '}');
}

/* Which bounds were reached, and the memory used. */
static void jw_limits(struct jw *w, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	const struct scope_limits *l = &r->limits;
	jw_open(w, "limits", '{');
	jw_bool(w, "exact", scope_report_exact(r));
	jw_uint(w, "sources_full", l->sources_full);
	jw_uint(w, "pairs_full", l->pairs_full);
	jw_uint(w, "scan_full", l->scan_full);
	jw_uint(w, "dests_full", l->dests_full);
	jw_uint(w, "victims_full", l->victims_full);
	jw_uint(w, "scanners_full", l->scanners_full);
	jw_uint(w, "attacks_full", l->attacks_full);
	jw_uint(w, "label_halvings", l->label_halvings);
	jw_uint(w, "late_packets", l->late_packets);
	jw_close(w, '}');
	jw_open(w, "memory", '{');
	jw_uint(w, "tables_bytes", r->table_bytes);
	jw_uint(w, "peak_rss_bytes", ctx->peak_rss);
	jw_close(w, '}');
}

static void jw_report(struct jw *w, const struct scope_report *r, const struct scope_out_ctx *ctx)
{
	const struct scope_config *cfg = ctx->cfg;
	jw_open(w, NULL, '{');
	jw_run(w, ctx);
	jw_totals(w, r);
	jw_dark(w, r);
	jw_traffic(w, r->cls, r->telnet, r->ports, r->nports, r->packets);
	if (cfg->geo) {
		jw_str(w, "geo", scope_geo_describe(cfg->geo));
		jw_countries(w, r->countries, r->ncountries);
		jw_asns(w, r->asns, r->nasns, ctx->geo, cfg->top);
	}
	jw_os(w, r, ctx);
	jw_tools(w, &r->mirai, &r->zmap, &r->masscan);
	jw_backscatter(w, r, cfg);
	jw_scanners(w, r, ctx);
	jw_open(w, "intervals", '[');
	for (size_t i = 0; i < r->nintervals; i++)
		jw_interval(w, NULL, &r->intervals[i], ctx);
	jw_close(w, ']');
	jw_limits(w, r, ctx);
	jw_open(w, "errors", '[');
	for (size_t i = 0; i < ctx->nerrors; i++)
		jw_str(w, NULL, ctx->errors[i]);
	jw_close(w, ']');
	jw_real(w, "seconds", round(ctx->seconds * 1000) / 1000);
	jw_close(w, '}');
}

static void jw_start(struct jw *w, struct buf *out, bool compact)
{
	w->b = out;
	w->f = NULL;
	w->compact = compact;
	w->depth = 0;
	w->err = 0;
	w->n = 0;
}

static int jw_finish(struct jw *w)
{
	jw_raw(w, "\n", 1);
	jw_flush(w);
	return w->err;
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

static void summary_table(struct buf *out, const struct scope_report *r,
			  const struct scope_out_ctx *ctx)
{
	struct report_table *t = report_table_new("Summary");
	report_table_col(t, "what", REPORT_STR, 0);
	report_table_col(t, "value", REPORT_STR, 0);
	char b[256], b2[LIB_RFC3339_LEN], b3[LIB_RFC3339_LEN];
#define KV(k, ...) \
	do { \
		snprintf(b, sizeof(b), __VA_ARGS__); \
		report_table_row(t); \
		report_table_str(t, k); \
		report_table_str(t, b); \
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
	KV("other frames", "%llu not to the darknet, %llu not IP, %llu malformed",
	   (unsigned long long)r->not_dark_packets, (unsigned long long)r->not_ip,
	   (unsigned long long)(r->malformed + r->bad_link));
	KV("unique sources", "%llu (%llu IPv6)", (unsigned long long)r->sources,
	   (unsigned long long)r->sources6);
	if (r->dark_size)
		KV("dark addresses", "%llu monitored, %llu hit, %.1f packets per address",
		   (unsigned long long)r->dark_size, (unsigned long long)r->dark_hit,
		   share(r->packets, r->dark_size));
	else
		KV("dark addresses", "%llu hit (no --darknet: every destination counts)",
		   (unsigned long long)r->dark_hit);
	KV("classes", "SYN %llu, UDP %llu, ICMP %llu, SYN-ACK/RST %llu, other TCP %llu, other %llu",
	   (unsigned long long)r->cls[SCOPE_C_SYN], (unsigned long long)r->cls[SCOPE_C_UDP],
	   (unsigned long long)r->cls[SCOPE_C_ICMP],
	   (unsigned long long)r->cls[SCOPE_C_BACKSCATTER],
	   (unsigned long long)r->cls[SCOPE_C_TCP_OTHER],
	   (unsigned long long)r->cls[SCOPE_C_OTHER]);
	KV("Telnet share", "%.1f %% of packets (23/tcp and 2323/tcp SYN)",
	   100 * share(r->telnet, r->packets));
	KV("Mirai", "%llu sources, %llu packets", (unsigned long long)r->mirai.sources,
	   (unsigned long long)r->mirai.packets);
	KV("ZMap", "%llu sources, %llu packets", (unsigned long long)r->zmap.sources,
	   (unsigned long long)r->zmap.packets);
	KV("masscan", "%llu sources, %llu packets", (unsigned long long)r->masscan.sources,
	   (unsigned long long)r->masscan.packets);
	KV("backscatter", "%llu packets from %llu victims, %llu attacks",
	   (unsigned long long)r->backscatter_packets,
	   (unsigned long long)r->backscatter_victims_all, (unsigned long long)r->attacks_total);
	KV("scanners",
	   "%llu (source, port) pairs from %llu sources (>= %u dark addresses in an interval)",
	   (unsigned long long)r->scanners_total, (unsigned long long)r->scanner_sources,
	   ctx->cfg->scan_dests);
	if (ctx->cfg->geo)
		KV("geolocation", "%s", scope_geo_describe(ctx->cfg->geo));
	fmt_bytes(b2, sizeof(b2), r->table_bytes);
	fmt_bytes(b3, sizeof(b3), ctx->peak_rss);
	KV("memory", "tables %s, peak RSS %s", b2, b3);
	KV("time taken", "%.2f s", ctx->seconds);
	if (!scope_report_exact(r))
		KV("WARNING",
		   "a table was full: some counts are lower bounds (see limits in --format json)");
	if (r->limits.late_packets)
		KV("late packets",
		   "%llu packets older than their interval were counted in the next",
		   (unsigned long long)r->limits.late_packets);
#undef KV
	render_table(out, t);
	report_table_free(t);
}

static void ports_table(struct buf *out, const struct scope_report *r, uint32_t top)
{
	struct report_table *t =
		report_table_new("Top destination ports (TCP SYN, UDP; ICMP by type)");
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

static void geo_tables(struct buf *out, const struct scope_report *r,
		       const struct scope_out_ctx *ctx)
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
		report_table_str(t, r->asns[i].asn ? scope_geo_as_name(ctx->geo, r->asns[i].asn)
						   : "(unknown)");
		report_table_uint(t, r->asns[i].sources);
		report_table_uint(t, r->asns[i].packets);
	}
	render_table(out, t);
	report_table_free(t);
}

static void os_tables(struct buf *out, const struct scope_report *r,
		      const struct scope_out_ctx *ctx)
{
	struct report_table *t =
		report_table_new("OS of SYN sources (family: p0f class, else initial TTL)");
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
	t = report_table_new(ctx->p0f ? "p0f labels of SYN sources"
				      : "p0f labels (no p0f.fp loaded)");
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

static void lists_tables(struct buf *out, const struct scope_report *r,
			 const struct scope_out_ctx *ctx)
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
		report_table_str(t, (s->labels & SCOPE_L_MIRAI)     ? "mirai"
				    : (s->labels & SCOPE_L_MASSCAN) ? "masscan"
				    : (s->labels & SCOPE_L_ZMAP)    ? "zmap"
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

static void intervals_table(struct buf *out, const struct scope_report *r,
			    const struct scope_out_ctx *ctx)
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
			snprintf(top, sizeof(top), "%u/%s", iv->ports[0].port,
				 scope_pt_name(iv->ports[0].pt));
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
		buf_printf(out,
			   "(the last 48 of %zu intervals; --format json or csv has them all)\n\n",
			   r->nintervals);
	report_table_free(t);
}

int scope_write_report(struct buf *out, enum scope_format fmt, const struct scope_report *r,
		       const struct scope_out_ctx *ctx)
{
	switch (fmt) {
	case SCOPE_FMT_JSON: {
		struct jw *w = xmalloc(sizeof(*w));
		jw_start(w, out, ctx->live);
		jw_report(w, r, ctx);
		int rc = jw_finish(w);
		free(w);
		return rc;
	}
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

int scope_write_report_file(FILE *f, enum scope_format fmt, const struct scope_report *r,
			    const struct scope_out_ctx *ctx)
{
	int rc;
	if (fmt == SCOPE_FMT_JSON) {
		/* Streamed: a report of megabytes would otherwise be gathered in fresh memory
		 * first, a page fault per 4 KiB. */
		struct jw *w = xmalloc(sizeof(*w));
		jw_start(w, NULL, ctx->live);
		w->f = f;
		jw_report(w, r, ctx);
		rc = jw_finish(w);
		free(w);
	} else {
		struct buf b;
		buf_init(&b, 0);
		rc = scope_write_report(&b, fmt, r, ctx);
		if (!rc && b.len && fwrite(b.data, 1, b.len, f) != b.len)
			rc = -EIO;
		buf_free(&b);
	}
	return rc ? rc : fflush(f) ? -EIO : 0;
}

int scope_write_interval(struct buf *out, enum scope_format fmt, const struct scope_interval *iv,
			 const struct scope_out_ctx *ctx, bool header)
{
	switch (fmt) {
	case SCOPE_FMT_JSON: {
		struct jw *w = xmalloc(sizeof(*w));
		jw_start(w, out, true);
		jw_interval(w, NULL, iv, ctx);
		int rc = jw_finish(w);
		free(w);
		return rc;
	}
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
		buf_printf(out, "%s  packets %llu  sources %llu  Telnet %.1f %%  Mirai %llu  ports",
			   st, (unsigned long long)iv->packets, (unsigned long long)iv->sources,
			   100 * share(iv->telnet, iv->packets),
			   (unsigned long long)iv->mirai.sources);
		for (size_t i = 0; i < iv->nports && i < 5; i++)
			buf_printf(out, " %u/%s:%llu", iv->ports[i].port,
				   scope_pt_name(iv->ports[i].pt),
				   (unsigned long long)iv->ports[i].packets);
		return buf_append_str(out, "\n");
	}
	}
	return -EINVAL;
}
