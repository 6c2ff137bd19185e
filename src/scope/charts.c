/* scope: the SVG charts of --charts DIR, drawn with src/report: packets per port over time
 * (23/tcp highlighted), the Telnet share, sources per country over time, Mirai-infected sources
 * (Japan and the world) and the OS families of SYN sources. */
#include "scope/scope_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "report/report.h"

#define CHART_PORTS 8     /* ports drawn besides 23/tcp */
#define CHART_COUNTRIES 8 /* countries drawn; the rest is "other" */

static int save(const char *dir, const char *name, const struct report_chart *c, char *err,
		size_t errlen)
{
	struct buf b;
	buf_init(&b, 0);
	int rc = report_chart_svg(c, &b);
	if (!rc) {
		char *path = xasprintf("%s/%s", dir, name);
		rc = lib_write_file_atomic(path, b.data, b.len, 0644);
		if (rc)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		free(path);
	} else {
		snprintf(err, errlen, "%s: no data to draw", name);
	}
	buf_free(&b);
	return rc;
}

/* Packets of one port in one interval: 0 when the interval lists all its ports and not this
 * one; unknown (a gap) when it was folded into the rest. */
static double port_value(const struct scope_interval *iv, int pt, uint16_t port)
{
	for (size_t i = 0; i < iv->nports; i++)
		if (iv->ports[i].pt == pt && iv->ports[i].port == port)
			return (double)iv->ports[i].packets;
	return iv->ports_rest_packets ? NAN : 0;
}

static int ports_chart(const char *dir, const struct scope_report *r, const int64_t *times,
		       char *err, size_t errlen)
{
	size_t n = r->nintervals;
	struct report_series s[CHART_PORTS + 1];
	char names[CHART_PORTS + 1][32];
	double *vals = xcalloc((CHART_PORTS + 1) * n + 1, sizeof(double));
	size_t ns = 0;
	/* 23/tcp first, then the busiest other ports of the run. */
	struct {
		int pt;
		uint16_t port;
	} pick[CHART_PORTS + 1];
	pick[ns].pt = SCOPE_PT_SYN;
	pick[ns++].port = 23;
	for (size_t i = 0; i < r->nports && ns < CHART_PORTS + 1; i++)
		if (!(r->ports[i].pt == SCOPE_PT_SYN && r->ports[i].port == 23)) {
			pick[ns].pt = r->ports[i].pt;
			pick[ns++].port = r->ports[i].port;
		}
	for (size_t k = 0; k < ns; k++) {
		snprintf(names[k], sizeof(names[k]), "%u/%s", pick[k].port,
			 scope_pt_name(pick[k].pt));
		for (size_t i = 0; i < n; i++)
			vals[k * n + i] = port_value(&r->intervals[i], pick[k].pt, pick[k].port);
		s[k] = (struct report_series){
			.name = names[k], .values = vals + k * n, .highlight = k == 0};
	}
	struct report_chart c = {.kind = REPORT_LINES,
				 .title = "Packets per destination port",
				 .y_label = "packets per interval",
				 .times = times,
				 .npoints = n,
				 .series = s,
				 .nseries = ns};
	int rc = save(dir, "ports.svg", &c, err, errlen);
	free(vals);
	return rc;
}

static int telnet_chart(const char *dir, const struct scope_report *r, const int64_t *times,
			char *err, size_t errlen)
{
	size_t n = r->nintervals;
	double *v = xcalloc(n + 1, sizeof(double));
	for (size_t i = 0; i < n; i++)
		v[i] = r->intervals[i].packets
			       ? (double)r->intervals[i].telnet / (double)r->intervals[i].packets
			       : NAN;
	struct report_series s = {.name = "23/tcp + 2323/tcp", .values = v, .highlight = true};
	struct report_chart c = {.kind = REPORT_LINES,
				 .title = "Telnet share of all packets",
				 .y_label = "share",
				 .times = times,
				 .npoints = n,
				 .series = &s,
				 .nseries = 1,
				 .percent = true};
	int rc = save(dir, "telnet.svg", &c, err, errlen);
	free(v);
	return rc;
}

static int countries_chart(const char *dir, const struct scope_report *r, const int64_t *times,
			   char *err, size_t errlen)
{
	size_t n = r->nintervals,
	       nc = r->ncountries < CHART_COUNTRIES ? r->ncountries : CHART_COUNTRIES;
	double *vals = xcalloc((nc + 1) * n + 1, sizeof(double));
	struct report_series s[CHART_COUNTRIES + 1];
	char names[CHART_COUNTRIES][3];
	for (size_t i = 0; i < n; i++) {
		const struct scope_interval *iv = &r->intervals[i];
		for (size_t j = 0; j < iv->ncountries; j++) {
			size_t k;
			for (k = 0; k < nc; k++)
				if (r->countries[k].cc == iv->countries[j].cc)
					break;
			vals[k * n + i] += (double)iv->countries[j].sources;
		}
	}
	for (size_t k = 0; k < nc; k++) {
		scope_cc_str(r->countries[k].cc, names[k]);
		s[k] = (struct report_series){.name = names[k], .values = vals + k * n};
	}
	s[nc] = (struct report_series){.name = "other", .values = vals + nc * n};
	struct report_chart c = {.kind = REPORT_STACKED,
				 .title = "Sources per country",
				 .y_label = "sources per interval",
				 .times = times,
				 .npoints = n,
				 .series = s,
				 .nseries = nc + 1};
	int rc = save(dir, "countries.svg", &c, err, errlen);
	free(vals);
	return rc;
}

static int mirai_chart(const char *dir, const struct scope_report *r, const int64_t *times,
		       char *err, size_t errlen)
{
	size_t n = r->nintervals;
	double *v = xcalloc(2 * n + 1, sizeof(double));
	uint16_t jp = scope_cc_index("JP");
	for (size_t i = 0; i < n; i++) {
		v[i] = (double)r->intervals[i].mirai.sources;
		for (size_t j = 0; j < r->intervals[i].ncountries; j++)
			if (r->intervals[i].countries[j].cc == jp)
				v[n + i] = (double)r->intervals[i].countries[j].mirai_sources;
	}
	struct report_series s[2] = {{.name = "world", .values = v},
				     {.name = "Japan", .values = v + n, .highlight = true}};
	struct report_chart c = {.kind = REPORT_LINES,
				 .title = "Mirai-infected sources (SYN seq = destination)",
				 .y_label = "sources per interval",
				 .times = times,
				 .npoints = n,
				 .series = s,
				 .nseries = r->ncountries ? 2 : 1};
	int rc = save(dir, "mirai.svg", &c, err, errlen);
	free(v);
	return rc;
}

static int families_chart(const char *dir, const struct scope_report *r, char *err, size_t errlen)
{
	double v[SCOPE_FAM__N];
	const char *cats[SCOPE_FAM__N];
	for (int i = 0; i < SCOPE_FAM__N; i++) {
		v[i] = r->syn_sources ? (double)r->families[i] / (double)r->syn_sources : 0;
		cats[i] = scope_family_names[i];
	}
	struct report_series s = {.name = "share of SYN sources", .values = v};
	struct report_chart c = {.kind = REPORT_BARS,
				 .title = "OS family of SYN sources",
				 .y_label = "share",
				 .categories = cats,
				 .npoints = SCOPE_FAM__N,
				 .series = &s,
				 .nseries = 1,
				 .percent = true};
	return save(dir, "families.svg", &c, err, errlen);
}

int scope_write_charts(const char *dir, const struct scope_report *r,
		       const struct scope_out_ctx *ctx, char *err, size_t errlen)
{
	int rc = lib_mkdirs(dir, 0755);
	if (rc) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	if (!r->nintervals) {
		snprintf(err, errlen, "no packets: no charts");
		return -ENODATA;
	}
	int64_t *times = xcalloc(r->nintervals, sizeof(int64_t));
	for (size_t i = 0; i < r->nintervals; i++)
		times[i] = r->intervals[i].start;
	rc = ports_chart(dir, r, times, err, errlen);
	if (!rc)
		rc = telnet_chart(dir, r, times, err, errlen);
	if (!rc && ctx->cfg->geo)
		rc = countries_chart(dir, r, times, err, errlen);
	if (!rc)
		rc = mirai_chart(dir, r, times, err, errlen);
	if (!rc)
		rc = families_chart(dir, r, err, errlen);
	free(times);
	return rc;
}
