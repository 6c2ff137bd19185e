/* report section "darknet": NICTER's statistics from `mitsu scope --data-dir` runs (seed §1):
 * packets and sources per interval, Telnet's share, Mirai-infected sources in Japan and the
 * world, the OS family of SYN sources ("90% Linux"), countries, backscatter, and the packets per
 * port with 23/tcp highlighted. The scope tables hold one row per interval (not per packet), so
 * these queries are small; an interval analysed twice counts once (its latest run). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define DN_CHART_PORTS 8       /* ports drawn in the per-port chart */
#define DN_MAX_INTERVALS 10000 /* intervals drawn (the first ones) */
#define DN_PAGE 200            /* rows of the per-interval table on a dashboard page */

/* The latest analysis of each interval start in the window (?3, ?4: unix seconds). */
#define DARK_LATEST \
	"WITH latest AS (SELECT start_unix AS su, max(run_id) AS rid FROM scope_intervals" \
	" WHERE start_unix >= ?3 AND start_unix < ?4 GROUP BY start_unix)"

/* The same over the days the roll-up does not hold (temp.dn_ok, report_dn_window): the
 * window's partial days, and days the store changed since the roll-up's catch-up. */
#define DARK_RAW \
	"WITH latest AS (SELECT start_unix AS su, max(run_id) AS rid FROM scope_intervals" \
	" WHERE start_unix >= ?3 AND start_unix < ?4 AND " REPORT_DN_DAY( \
		"start_unix") " NOT IN (SELECT day FROM temp.dn_ok) GROUP BY start_unix)"
#define DARK_OK(col) " AND " REPORT_DN_DAY(col) " IN (SELECT day FROM temp.dn_ok)"

/* The packets per port over the window into temp.dn_ports, in (proto, port) order as a GROUP
 * BY gives them: the ports table and the chart's choice of ports both read it. */
static bool port_sums(struct report_ctx *c, bool roll)
{
	static const char *const sql[] = {
		DARK_RAW " INSERT INTO temp.dn_ports SELECT proto, port, sum(packets) FROM ("
			 "SELECT p.proto, p.port, p.packets FROM scope_ports p JOIN latest ON"
			 " p.start_unix = latest.su AND p.run_id = latest.rid) GROUP BY 1, 2",
		DARK_RAW " INSERT INTO temp.dn_ports SELECT proto, port, sum(packets) FROM ("
			 "SELECT proto, port, packets FROM roll.report_dn_ports WHERE day IN"
			 " (SELECT day FROM temp.dn_ok) UNION ALL"
			 " SELECT p.proto, p.port, p.packets FROM scope_ports p JOIN latest ON"
			 " p.start_unix = latest.su AND p.run_id = latest.rid) GROUP BY 1, 2"};
	sqlite3_stmt *q;
	if (sqlite3_exec(c->db,
			 "CREATE TEMP TABLE IF NOT EXISTS dn_ports (proto TEXT, port INTEGER,"
			 " packets INTEGER); DELETE FROM temp.dn_ports",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, sql[roll], -1, &q, NULL) != SQLITE_OK)
		return false;
	report_bind(c, q);
	bool ok = sqlite3_step(q) == SQLITE_DONE;
	sqlite3_finalize(q);
	return ok;
}

/* The dashboard's links to the previous and next page of the per-interval table. */
static void interval_pages(struct report_ctx *c, int off, long long total)
{
	if (!c->html || !c->page_url || (off == 0 && total <= DN_PAGE))
		return;
	const char *url = c->page_url;
	buf_append_str(c->html, "<p class=\"pages\">");
	if (off > 0) {
		/* Past the end: back to the last page. */
		long long last = total > 0 ? (total - 1) / DN_PAGE * DN_PAGE : 0;
		long long prev = off > total ? last : off > DN_PAGE ? off - DN_PAGE : 0;
		buf_append_str(c->html, "<a href=\"");
		report_escape_xml(c->html, url, strlen(url));
		buf_printf(c->html, "offset=%lld#t-darknet\">earlier intervals</a> ", prev);
	}
	if (off + DN_PAGE < total) {
		buf_append_str(c->html, "<a href=\"");
		report_escape_xml(c->html, url, strlen(url));
		buf_printf(c->html, "offset=%d#t-darknet\">later intervals</a>", off + DN_PAGE);
	}
	buf_append_str(c->html, "</p>\n");
}

/* The per-interval table: every interval in a report, DN_PAGE of them on a dashboard page. */
static void interval_table(struct report_ctx *c)
{
	static const char *const names[] = {"interval start",
					    "packets",
					    "sources",
					    "Telnet share",
					    "Mirai sources",
					    "Mirai share of sources",
					    "unix share of SYN sources",
					    "backscatter victims",
					    "scanners"};
	static const char note[] = "NICTER's series: Telnet (23 and 2323/tcp) share of packets, "
				   "Mirai (seq = destination) sources, and the OS family of "
				   "fingerprinted SYN sources";
	/* A report lists every interval; a dashboard page DN_PAGE of them from the context's
	 * offset (the whole window's are drawn in the charts). */
	int off = c->dashboard && c->offset > 0 ? c->offset : 0;
	long long total = 0;
	struct report_table *it = report_query_page(
		c, "Darknet by interval",
		DARK_LATEST " SELECT i.start, i.packets, i.sources, 1.0 * i.telnet / "
			    "max(i.packets, 1), i.mirai_sources, 1.0 * i.mirai_sources / "
			    "max(i.sources, 1),"
			    " 1.0 * i.unix_sources / max(i.unix_sources + i.windows_sources + "
			    "i.network_sources + i.other_sources, 1),"
			    " i.backscatter_victims, i.scanners"
			    " FROM scope_intervals i JOIN latest ON i.start_unix = latest.su "
			    "AND i.run_id = latest.rid"
			    " ORDER BY i.start_unix LIMIT " LIB_STR(DN_MAX_INTERVALS),
		"siipippii", names, NULL, off, c->dashboard ? DN_PAGE : LLONG_MAX, &total);
	if (!c->dashboard) {
		report_emit_table(c, "darknet", it, note);
	} else {
		size_t shown = report_table_nrows(it);
		char *pnote =
			shown ? xasprintf("intervals %d to %lld of %lld, oldest first; %s", off + 1,
					  (long long)off + (long long)shown, total, note)
			      : xasprintf("no intervals past %d of %lld; %s", off, total, note);
		json_object_set_new(c->json, "darknet_total", json_integer(total));
		json_object_set_new(c->json, "darknet_offset", json_integer(off));
		json_object_set_new(c->json, "darknet_page", json_integer(DN_PAGE));
		report_emit_table(c, "darknet", it, pnote);
		free(pnote);
		interval_pages(c, off, total);
	}
}

static void tables(struct report_ctx *c, bool roll)
{
	interval_table(c);
	static const char *const pnames[] = {"protocol", "port", "packets", "share"};
	report_emit_table(
		c, "darknet_ports",
		report_query(c, "Darknet packets by port",
			     DARK_LATEST
			     ", tot AS (SELECT sum(packets) AS p FROM scope_intervals i "
			     "JOIN latest ON i.start_unix = latest.su"
			     " AND i.run_id = latest.rid)"
			     " SELECT proto, port, packets, 1.0 * packets / max((SELECT p FROM "
			     "tot), 1) FROM temp.dn_ports ORDER BY 3 DESC LIMIT ?6",
			     "siip", pnames, NULL),
		NULL);
	static const char *const cnames[] = {"country", "sources (summed over intervals)",
					     "Mirai sources (summed)", "packets"};
	report_emit_table(
		c, "darknet_countries",
		report_query(
			c, "Darknet sources by country",
			roll ? DARK_RAW
				" SELECT cc, sum(s), sum(m), sum(p) FROM (SELECT cc, sources"
				" AS s, mirai_sources AS m, packets AS p FROM"
				" roll.report_dn_countries WHERE day IN (SELECT day FROM"
				" temp.dn_ok) UNION ALL SELECT c.cc, c.sources, c.mirai_sources,"
				" c.packets FROM scope_countries c JOIN latest ON c.start_unix"
				" = latest.su AND c.run_id = latest.rid) GROUP BY 1 ORDER BY 2"
				" DESC LIMIT ?6"
			     : DARK_LATEST " SELECT c.cc, sum(c.sources), sum(c.mirai_sources), "
					   "sum(c.packets) FROM scope_countries c JOIN latest"
					   " ON c.start_unix = latest.su AND c.run_id = latest.rid"
					   " GROUP BY 1 ORDER BY 2 DESC LIMIT ?6",
			"siii", cnames, NULL),
		NULL);
	static const char *const fnames[] = {"OS family", "SYN sources (summed over runs)",
					     "share"};
	report_emit_table(
		c, "darknet_os",
		report_query(
			c, "OS families of SYN sources",
			DARK_LATEST
			", runs AS (SELECT DISTINCT rid FROM latest),"
			" fam AS (SELECT label, sum(sources) AS n FROM scope_os WHERE kind = "
			"'family' AND run_id IN (SELECT rid FROM runs) GROUP BY label)"
			" SELECT label, n, 1.0 * n / max((SELECT sum(n) FROM fam WHERE label != "
			"'unknown'), 1) FROM fam ORDER BY 2 DESC",
			"sip", fnames, NULL),
		"share of the fingerprinted sources (unknown excluded); the seed: about 90% of "
		"Telnet scanners run Linux");
	static const char *const bnames[] = {"interval start", "backscatter packets",
					     "DoS victims"};
	report_emit_table(
		c, "darknet_backscatter",
		report_query(c, "Backscatter (replies to spoofed DoS traffic)",
			     DARK_LATEST
			     " SELECT i.start, i.backscatter_packets, "
			     "i.backscatter_victims FROM scope_intervals i JOIN latest"
			     " ON i.start_unix = latest.su AND i.run_id = latest.rid"
			     " WHERE i.backscatter_packets > 0 ORDER BY i.start_unix DESC "
			     "LIMIT ?6",
			     "sii", bnames, NULL),
		NULL);
}

struct dn_series {
	size_t n;
	int64_t *times;
	double *share, *jp, *world, *mshare;
};

static bool load_series(struct report_ctx *c, struct dn_series *s)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db,
			       DARK_LATEST
			       " SELECT i.start_unix, i.packets, i.telnet, i.mirai_sources,"
			       " coalesce((SELECT mirai_sources FROM scope_countries c WHERE "
			       "c.run_id = i.run_id AND c.start_unix = i.start_unix AND c.cc = "
			       "'JP'), 0), i.sources"
			       " FROM scope_intervals i JOIN latest ON i.start_unix = latest.su "
			       "AND i.run_id = latest.rid"
			       " ORDER BY i.start_unix LIMIT " LIB_STR(DN_MAX_INTERVALS),
			       -1, &q, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(q, 3, c->since_unix);
	sqlite3_bind_int64(q, 4, c->until_unix);
	s->n = 0;
	s->times = xmalloc(DN_MAX_INTERVALS * sizeof(*s->times));
	s->share = xmalloc(DN_MAX_INTERVALS * sizeof(double));
	s->jp = xmalloc(DN_MAX_INTERVALS * sizeof(double));
	s->world = xmalloc(DN_MAX_INTERVALS * sizeof(double));
	s->mshare = xmalloc(DN_MAX_INTERVALS * sizeof(double));
	while (s->n < DN_MAX_INTERVALS && sqlite3_step(q) == SQLITE_ROW) {
		size_t i = s->n++;
		s->times[i] = sqlite3_column_int64(q, 0);
		double pk = (double)sqlite3_column_int64(q, 1);
		double src = (double)sqlite3_column_int64(q, 5);
		s->share[i] = pk > 0 ? (double)sqlite3_column_int64(q, 2) / pk : 0;
		s->world[i] = (double)sqlite3_column_int64(q, 3);
		s->jp[i] = (double)sqlite3_column_int64(q, 4);
		s->mshare[i] = src > 0 ? s->world[i] / src : 0;
	}
	sqlite3_finalize(q);
	return true;
}

static void free_series(struct dn_series *s)
{
	free(s->times);
	free(s->share);
	free(s->jp);
	free(s->world);
	free(s->mshare);
}

/* The point of interval start t in s, or s->n if it is not drawn. */
static size_t time_index(const struct dn_series *s, int64_t t)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->times[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->times[lo] == t ? lo : s->n;
}

/* Packets per port over time: the busiest ports, 23/tcp always among them and highlighted. One
 * pass per chosen port fills its series. */
static void ports_chart(struct report_ctx *c, const struct dn_series *s, bool roll)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT proto, port FROM temp.dn_ports ORDER BY (proto = 'tcp' AND"
			       " port = 23) DESC, packets DESC LIMIT " LIB_STR(DN_CHART_PORTS),
			       -1, &q, NULL) != SQLITE_OK)
		return;
	struct report_series ps[DN_CHART_PORTS];
	char labels[DN_CHART_PORTS][32], protos[DN_CHART_PORTS][8];
	int ports[DN_CHART_PORTS];
	double *vals[DN_CHART_PORTS] = {0};
	size_t np = 0;
	while (np < DN_CHART_PORTS && sqlite3_step(q) == SQLITE_ROW) {
		const char *proto = (const char *)sqlite3_column_text(q, 0);
		lib_strlcpy(protos[np], proto ? proto : "?", sizeof(protos[np]));
		ports[np] = sqlite3_column_int(q, 1);
		snprintf(labels[np], sizeof(labels[np]), "%d/%s", ports[np], protos[np]);
		vals[np] = xcalloc(s->n, sizeof(double));
		ps[np] = (struct report_series){.name = labels[np],
						.values = vals[np],
						.highlight = ports[np] == 23 &&
							     strcmp(protos[np], "tcp") == 0};
		np++;
	}
	sqlite3_finalize(q);
	static const char *const sql[] = {
		DARK_RAW " SELECT p.start_unix, p.packets FROM latest JOIN scope_ports p ON"
			 " p.run_id = latest.rid AND p.start_unix = latest.su AND p.proto = ?5 AND"
			 " p.port = ?6",
		DARK_RAW
		" SELECT start_unix, packets FROM roll.report_dn_series WHERE proto = ?5"
		" AND port = ?6 AND start_unix >= ?3 AND start_unix < ?4" DARK_OK(
			"start_unix") " UNION ALL SELECT p.start_unix, p.packets FROM latest"
				      " JOIN scope_ports p ON p.run_id = latest.rid AND"
				      " p.start_unix = latest.su AND p.proto = ?5 AND"
				      " p.port = ?6"};
	if (np && sqlite3_prepare_v2(c->db, sql[roll], -1, &q, NULL) == SQLITE_OK) {
		/* One series at a time: the roll-up's rows of the port (one range of its key),
		 * the raw rows through scope_ports' primary key (run, interval, proto, port). */
		for (size_t i = 0; i < np; i++) {
			report_bind(c, q);
			sqlite3_bind_text(q, 5, protos[i], -1, SQLITE_STATIC);
			sqlite3_bind_int(q, 6, ports[i]);
			while (sqlite3_step(q) == SQLITE_ROW) {
				size_t k = time_index(s, sqlite3_column_int64(q, 0));
				if (k < s->n)
					vals[i][k] = (double)sqlite3_column_int64(q, 1);
			}
			sqlite3_reset(q);
		}
		sqlite3_finalize(q);
		struct report_chart pc = {.kind = REPORT_LINES,
					  .title = "Darknet packets per port (23/tcp highlighted)",
					  .y_label = "packets",
					  .times = s->times,
					  .npoints = s->n,
					  .series = ps,
					  .nseries = np};
		report_emit_chart(c, "darknet-ports", &pc);
	}
	for (size_t i = 0; i < np; i++)
		free(vals[i]);
}

static void charts(struct report_ctx *c, bool roll)
{
	struct dn_series s;
	if (!load_series(c, &s))
		return;
	if (s.n >= 2) {
		ports_chart(c, &s, roll);
		struct report_series ts[] = {
			{.name = "Telnet (23, 2323/tcp)", .values = s.share, .highlight = true}};
		struct report_chart t = {.kind = REPORT_LINES,
					 .title = "Telnet's share of darknet packets",
					 .y_label = "share",
					 .times = s.times,
					 .npoints = s.n,
					 .series = ts,
					 .nseries = 1,
					 .percent = true};
		report_emit_chart(c, "darknet-telnet-share", &t);
		struct report_series ms[] = {{.name = "world", .values = s.world},
					     {.name = "Japan", .values = s.jp, .highlight = true}};
		struct report_chart m = {.kind = REPORT_LINES,
					 .title = "Mirai-infected sources, Japan and the world",
					 .y_label = "sources",
					 .times = s.times,
					 .npoints = s.n,
					 .series = ms,
					 .nseries = 2};
		report_emit_chart(c, "darknet-mirai", &m);
		struct report_series sh[] = {
			{.name = "Mirai share of sources", .values = s.mshare, .highlight = true}};
		struct report_chart sc = {.kind = REPORT_LINES,
					  .title = "Mirai's share of darknet sources",
					  .y_label = "share",
					  .times = s.times,
					  .npoints = s.n,
					  .series = sh,
					  .nseries = 1,
					  .percent = true};
		report_emit_chart(c, "darknet-mirai-share", &sc);
	}
	free_series(&s);
}

static bool darknet_present(sqlite3 *db)
{
	return report_table_exists(db, "scope_intervals");
}

/* The default window ends at the latest interval stored, not now: captures are analysed after
 * the fact, and the page should show the latest ones. */
static void window_to_data(struct report_ctx *c)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(
		    c->db,
		    "SELECT start_unix + seconds FROM scope_intervals ORDER BY start_unix "
		    "DESC LIMIT 1",
		    -1, &q, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(q) == SQLITE_ROW && c->until_unix == INT64_MAX &&
	    c->since_unix != INT64_MIN) {
		int64_t end = sqlite3_column_int64(q, 0);
		int64_t now = lib_real_us() / 1000000, len = now - c->since_unix;
		if (end < now)
			report_ctx_window_unix(c, end - len, end);
	}
	sqlite3_finalize(q);
}

static void darknet_build(struct report_ctx *c)
{
	if (!darknet_present(c->db))
		return;
	if (c->window_default)
		window_to_data(c);
	report_heading(c, "Darknet");
	/* The roll-up's days of the window, then the ports' sums (shared by the chart and the
	 * ports table); without the temporary tables, nothing is drawn. */
	uint64_t t0 = lib_mono_us();
	bool roll = report_dn_window(c) && !c->raw_only;
	sqlite3_stmt *q;
	if (roll && sqlite3_prepare_v2(c->db, "SELECT 1 FROM temp.dn_ok LIMIT 1", -1, &q, NULL) ==
			    SQLITE_OK) {
		roll = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_finalize(q);
	}
	uint64_t t1 = lib_mono_us();
	if (port_sums(c, roll)) {
		uint64_t t2 = lib_mono_us();
		charts(c, roll);
		uint64_t t3 = lib_mono_us();
		tables(c, roll);
		log_debug(
			"report",
			"darknet: roll-up days %.1f ms, port sums %.1f ms, charts %.1f ms, tables "
			"%.1f ms",
			(double)(t1 - t0) / 1000.0, (double)(t2 - t1) / 1000.0,
			(double)(t3 - t2) / 1000.0, (double)(lib_mono_us() - t3) / 1000.0);
	}
	sqlite3_exec(c->db, "DELETE FROM temp.dn_ok; DELETE FROM temp.dn_ports", NULL, NULL, NULL);
}

const struct report_section report_section_darknet = {
	.name = "darknet",
	.title = "Darknet",
	.present = darknet_present,
	.build = darknet_build,
	.window = 7 * 86400,
};
