/* `mitsu report`: the seed's tables and charts rebuilt from the store.
 *
 * Sections, each naming the seed table or chart it rebuilds (seed/SUMMARY.md):
 *   honeypot    per device profile, distinct attacking hosts at each stage (§1 IoTPOT, the
 *               shape of §2's table: requests, login attempts, logins, device-specific actions)
 *   credentials the credentials tried, and which the devices accepted
 *   commands    the commands attackers ran
 *   malware     captured samples by CPU and by delivery method (§1: capture of every infection)
 *   sandbox     verdicts by family, the time from capture to verdict (§1: "within 15 minutes")
 *   testbed     samples that attack the LAN side, by CPU (§4: MIPS 90/3000, MIPSEL 199/3859)
 *   darknet     NICTER's statistics per interval: packets, Telnet share, Mirai-infected sources
 *               in Japan and the world, the OS share of SYN sources ("90% Linux") (§1)
 * Charts (SVG): honeypot sessions per hour, darknet packets per port with 23/tcp highlighted,
 * Telnet's share, Mirai-infected sources Japan vs world. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "box/box.h"
#include "report/report.h"

/* Rows in each top list, ports and countries drawn in charts. */
#define RPT_TOP 20
#define RPT_CHART_PORTS 8
/* Points in a time chart: intervals beyond it are merged from the start (bounded SVG size). */
#define RPT_MAX_INTERVALS 10000

struct rpt {
	sqlite3 *db;
	struct core_store *store;
	const char *since, *until; /* RFC 3339, normalised; never NULL */
	int64_t since_unix, until_unix;
	json_t *json;    /* the whole report as JSON */
	struct buf text; /* text rendering */
	struct buf html; /* HTML body */
	const char *out_dir;
};

/* ------------------------------------------------------------------ helpers */

static bool table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *q;
	bool ok = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?1", -1, &q,
				     NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		ok = sqlite3_step(q) == SQLITE_ROW;
	}
	sqlite3_finalize(q);
	return ok;
}

/* A column type from its letter: s text, i integer, r real, p percent. */
static void add_col(struct report_table *t, const char *name, char ty)
{
	report_table_col(t, name,
			 ty == 'i'   ? REPORT_INT
			 : ty == 'r' ? REPORT_REAL
			 : ty == 'p' ? REPORT_PERCENT
				     : REPORT_STR,
			 ty == 'p' ? 1 : 2);
}

/* Runs sql (?1 since, ?2 until as text; ?3 ?4 as unix seconds) into a table whose columns
 * follow the result's, with the given types (one letter each: s text, i integer, r real,
 * p percent). */
static struct report_table *query_table(struct rpt *r, const char *title, const char *sql,
					const char *types, const char *const *names)
{
	struct report_table *t = report_table_new(title);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_warn("report", "%s: %s", title, sqlite3_errmsg(r->db));
		return t;
	}
	int n = sqlite3_column_count(q);
	for (int i = 0; i < n; i++)
		add_col(t, names ? names[i] : sqlite3_column_name(q, i), types[i]);
	sqlite3_bind_text(q, 1, r->since, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, r->until, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, r->since_unix);
	sqlite3_bind_int64(q, 4, r->until_unix);
	while (sqlite3_step(q) == SQLITE_ROW) {
		report_table_row(t);
		for (int i = 0; i < n; i++) {
			if (sqlite3_column_type(q, i) == SQLITE_NULL) {
				report_table_null(t);
				continue;
			}
			switch (types[i]) {
			case 'i': report_table_int(t, sqlite3_column_int64(q, i)); break;
			case 'r':
			case 'p': report_table_real(t, sqlite3_column_double(q, i)); break;
			default:
				report_table_bytes(t, sqlite3_column_text(q, i),
						   (size_t)sqlite3_column_bytes(q, i));
			}
		}
	}
	sqlite3_finalize(q);
	return t;
}

/* Adds a finished table to every rendering under `key` and frees it. */
static void emit_table(struct rpt *r, const char *key, struct report_table *t, const char *note)
{
	json_t *sec = json_object();
	json_object_set_new(sec, "rows", report_table_json(t));
	if (note)
		json_object_set_new(sec, "note", json_string(note));
	json_object_set_new(r->json, key, sec);
	report_table_render(t, REPORT_TEXT, &r->text);
	if (note)
		buf_printf(&r->text, "  (%s)\n", note);
	buf_append_str(&r->text, "\n");
	buf_printf(&r->html, "<section id=\"%s\">", key);
	report_table_render(t, REPORT_HTML, &r->html);
	if (note) {
		buf_append_str(&r->html, "<p class=\"note\">");
		report_escape_xml(&r->html, note, strlen(note));
		buf_append_str(&r->html, "</p>");
	}
	buf_append_str(&r->html, "</section>\n");
	report_table_free(t);
}

/* A JSON array of row objects (from the box module) as a table with the given columns. */
static struct report_table *json_rows_table(const char *title, const json_t *rows,
					    const char *const *keys, const char *types)
{
	struct report_table *t = report_table_new(title);
	for (int i = 0; keys[i]; i++)
		add_col(t, keys[i], types[i]);
	size_t idx;
	json_t *row;
	json_array_foreach(rows, idx, row) {
		report_table_row(t);
		for (int i = 0; keys[i]; i++) {
			json_t *v = json_object_get(row, keys[i]);
			if (json_is_string(v))
				report_table_str(t, json_string_value(v));
			else if (json_is_integer(v))
				report_table_int(t, json_integer_value(v));
			else if (json_is_number(v))
				report_table_real(t, json_number_value(v));
			else if (json_is_boolean(v))
				report_table_str(t, json_is_true(v) ? "yes" : "no");
			else
				report_table_null(t);
		}
	}
	return t;
}

static void emit_chart(struct rpt *r, const char *name, const struct report_chart *c)
{
	struct buf svg;
	buf_init(&svg, 64u << 20);
	if (report_chart_svg(c, &svg) == 0) {
		buf_printf(&r->html, "<figure>%s<figcaption>", (const char *)svg.data);
		report_escape_xml(&r->html, c->title, strlen(c->title));
		buf_append_str(&r->html, "</figcaption></figure>\n");
		if (r->out_dir) {
			char *path = xasprintf("%s/%s.svg", r->out_dir, name);
			if (lib_write_file_atomic(path, svg.data, svg.len, 0644))
				log_warn("report", "cannot write %s", path);
			free(path);
		}
		json_t *charts = json_object_get(r->json, "charts");
		json_array_append_new(charts, json_sprintf("%s.svg", name));
	}
	buf_free(&svg);
}

/* ------------------------------------------------------------------ sections */

static void section_honeypot(struct rpt *r)
{
	buf_append_str(&r->text, "== Honeypot ==\n");
	buf_append_str(&r->html, "<h2>Honeypot</h2>\n");
	static const char *const names[] = {
		"device profile",          "sessions",        "hosts",
		"hosts trying to log in",  "hosts logged in", "hosts running commands",
		"hosts delivering malware"};
	emit_table(r, "honeypot",
		   query_table(
			   r, "Attacking hosts by device (distinct source addresses)",
			   "SELECT coalesce(profile, '?'), count(*), count(DISTINCT src_ip),"
			   " count(DISTINCT CASE WHEN login = 1 OR login_failures > 0 THEN src_ip "
			   "END),"
			   " count(DISTINCT CASE WHEN login = 1 THEN src_ip END),"
			   " count(DISTINCT CASE WHEN commands > 0 THEN src_ip END),"
			   " count(DISTINCT CASE WHEN downloads > 0 OR uploads > 0 THEN src_ip END)"
			   " FROM sessions WHERE start >= ?1 AND start < ?2 GROUP BY 1 ORDER BY 3 "
			   "DESC",
			   "siiiiii", names),
		   "the shape of the seed's WebUI table (§2): hosts with requests, trying to log "
		   "in, logged in, doing device-specific access");

	static const char *const cnames[] = {"username", "password", "attempts", "hosts",
					     "accepted"};
	emit_table(
		r, "credentials",
		query_table(
			r, "Credentials tried",
			"SELECT json_extract(json, '$.username'), json_extract(json, "
			"'$.password'), count(*),"
			" count(DISTINCT src_ip), sum(eventid = 'mitsu.login.success') FROM events"
			" WHERE eventid IN ('mitsu.login.success', 'mitsu.login.failed') AND "
			"timestamp >= ?1 AND timestamp < ?2"
			" GROUP BY 1, 2 ORDER BY 3 DESC LIMIT " LIB_STR(RPT_TOP),
			"ssiii", cnames),
		NULL);

	static const char *const knames[] = {"command", "times", "hosts"};
	emit_table(r, "commands",
		   query_table(r, "Commands run",
			       "SELECT substr(json_extract(json, '$.input'), 1, 160), count(*), "
			       "count(DISTINCT src_ip) FROM events"
			       " WHERE eventid = 'mitsu.command.input' AND timestamp >= ?1 AND "
			       "timestamp < ?2"
			       " GROUP BY 1 ORDER BY 2 DESC LIMIT " LIB_STR(RPT_TOP),
			       "sii", knames),
		   NULL);

	/* Sessions per hour, as a chart. */
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(
		    r->db,
		    "SELECT CAST(strftime('%s', substr(start, 1, 13) || ':00:00') AS INTEGER),"
		    " count(*), sum(login) FROM sessions WHERE start >= ?1 AND start < ?2"
		    " GROUP BY 1 ORDER BY 1 LIMIT " LIB_STR(RPT_MAX_INTERVALS),
		    -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(q, 1, r->since, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, r->until, -1, SQLITE_STATIC);
	size_t n = 0, cap = 64;
	int64_t *times = xmalloc(cap * sizeof(*times));
	double *sessions = xmalloc(cap * sizeof(double)), *logins = xmalloc(cap * sizeof(double));
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			times = xrealloc(times, cap * sizeof(*times));
			sessions = xrealloc(sessions, cap * sizeof(double));
			logins = xrealloc(logins, cap * sizeof(double));
		}
		times[n] = sqlite3_column_int64(q, 0);
		sessions[n] = (double)sqlite3_column_int64(q, 1);
		logins[n] = (double)sqlite3_column_int64(q, 2);
		n++;
	}
	sqlite3_finalize(q);
	if (n >= 2) {
		struct report_series s[] = {
			{.name = "sessions", .values = sessions, .highlight = true},
			{.name = "logins", .values = logins}};
		struct report_chart c = {.kind = REPORT_LINES,
					 .title = "Honeypot sessions per hour",
					 .y_label = "sessions",
					 .times = times,
					 .npoints = n,
					 .series = s,
					 .nseries = 2};
		emit_chart(r, "honeypot-sessions", &c);
	}
	free(times);
	free(sessions);
	free(logins);
}

static void section_malware(struct rpt *r)
{
	if (!table_exists(r->db, "samples"))
		return;
	buf_append_str(&r->text, "== Malware ==\n");
	buf_append_str(&r->html, "<h2>Malware</h2>\n");
	static const char *const names[] = {"CPU / type", "samples", "times seen", "first seen",
					    "last seen"};
	emit_table(r, "malware",
		   query_table(r, "Captured samples by CPU",
			       "SELECT CASE arch WHEN '' THEN filetype ELSE arch END, count(*), "
			       "sum(times_seen), min(first_seen),"
			       " max(last_seen) FROM samples WHERE first_seen < ?2 AND last_seen "
			       ">= ?1 GROUP BY 1 ORDER BY 2 DESC",
			       "siiss", names),
		   NULL);
	static const char *const mnames[] = {"delivery", "samples", "hosts"};
	emit_table(r, "delivery",
		   query_table(r, "Samples by delivery method",
			       "SELECT coalesce(source, '?') || '/' || coalesce(method, '?'), "
			       "count(DISTINCT sha256), count(DISTINCT src_ip)"
			       " FROM sample_sources WHERE seen >= ?1 AND seen < ?2 GROUP BY 1 "
			       "ORDER BY 2 DESC",
			       "sii", mnames),
		   "download: wget, curl, tftp, ftpget; upload: files written through the shell "
		   "(echo, printf, dd...); exec: files run");
}

static void section_sandbox(struct rpt *r)
{
	json_t *rows = NULL;
	if (box_report_summary(r->store, &rows) != 0)
		return;
	buf_append_str(&r->text, "== Sandbox ==\n");
	buf_append_str(&r->html, "<h2>Sandbox</h2>\n");
	json_t *arr = json_array();
	json_array_append(arr, rows);
	static const char *const skeys[] = {"analysed",       "dynamic",     "under_minute",
					    "median_seconds", "max_seconds", NULL};
	emit_table(r, "sandbox", json_rows_table("Capture to verdict", arr, skeys, "iiirr"),
		   "the seed's YNU sandbox analysed each sample within 15 minutes of capture");
	json_decref(arr);
	json_decref(rows);
	if (box_report_families(r->store, &rows) == 0) {
		static const char *const fkeys[] = {"family", "samples", "scan", "lan_attack",
						    "ddos",   "cnc",     NULL};
		emit_table(r, "families",
			   json_rows_table("Verdicts by family", rows, fkeys, "siiiii"), NULL);
		json_decref(rows);
	}
	if (box_report_testbed(r->store, &rows) == 0) {
		static const char *const tkeys[] = {"arch", "samples", "lan_attack", "share", NULL};
		emit_table(r, "testbed",
			   json_rows_table("Samples that attack the LAN side, by CPU", rows, tkeys,
					   "siip"),
			   "the seed's home-network testbed (§4): MIPS 90 of 3000 (3%), MIPSEL 199 "
			   "of 3859 (5%)");
		json_decref(rows);
	}
}

/* Intervals of the darknet: the latest analysis of each interval start (an interval analysed
 * twice is counted once). */
#define DARK_LATEST \
	"WITH latest AS (SELECT start_unix AS su, max(run_id) AS rid FROM scope_intervals" \
	" WHERE start_unix >= ?3 AND start_unix < ?4 GROUP BY start_unix)"

static void section_darknet(struct rpt *r)
{
	if (!table_exists(r->db, "scope_intervals"))
		return;
	buf_append_str(&r->text, "== Darknet ==\n");
	buf_append_str(&r->html, "<h2>Darknet</h2>\n");
	static const char *const names[] = {
		"interval start",      "packets",       "sources",
		"Telnet share",        "Mirai sources", "unix share of SYN sources",
		"backscatter victims", "scanners"};
	emit_table(r, "darknet",
		   query_table(r, "Darknet by interval",
			       DARK_LATEST
			       " SELECT i.start, i.packets, i.sources, 1.0 * i.telnet / "
			       "max(i.packets, 1), i.mirai_sources,"
			       " 1.0 * i.unix_sources / max(i.unix_sources + i.windows_sources + "
			       "i.network_sources + i.other_sources, 1),"
			       " i.backscatter_victims, i.scanners"
			       " FROM scope_intervals i JOIN latest ON i.start_unix = latest.su "
			       "AND i.run_id = latest.rid"
			       " ORDER BY i.start_unix LIMIT " LIB_STR(RPT_MAX_INTERVALS),
			       "siipipii", names),
		   "NICTER's series: Telnet (23 and 2323/tcp) share of packets, Mirai (seq = "
		   "destination) sources, and the OS family of fingerprinted SYN sources");
	static const char *const pnames[] = {"protocol", "port", "packets", "share"};
	emit_table(r, "darknet_ports",
		   query_table(r, "Darknet packets by port",
			       DARK_LATEST
			       ", tot AS (SELECT sum(packets) AS p FROM scope_intervals i JOIN "
			       "latest ON i.start_unix = latest.su"
			       " AND i.run_id = latest.rid)"
			       " SELECT p.proto, p.port, sum(p.packets), 1.0 * sum(p.packets) / "
			       "max((SELECT p FROM tot), 1)"
			       " FROM scope_ports p JOIN latest ON p.start_unix = latest.su AND "
			       "p.run_id = latest.rid"
			       " GROUP BY 1, 2 ORDER BY 3 DESC LIMIT " LIB_STR(RPT_TOP),
			       "siip", pnames),
		   NULL);
	static const char *const cnames[] = {"country", "sources (summed over intervals)",
					     "Mirai sources (summed)", "packets"};
	emit_table(r, "darknet_countries",
		   query_table(r, "Darknet sources by country",
			       DARK_LATEST
			       " SELECT c.cc, sum(c.sources), sum(c.mirai_sources), sum(c.packets)"
			       " FROM scope_countries c JOIN latest ON c.start_unix = latest.su "
			       "AND c.run_id = latest.rid"
			       " GROUP BY 1 ORDER BY 2 DESC LIMIT " LIB_STR(RPT_TOP),
			       "siii", cnames),
		   NULL);

	/* Charts: packets per port over time (23/tcp highlighted), Telnet share, Mirai JP vs world.
	 */
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(r->db,
			       DARK_LATEST
			       " SELECT i.start_unix, i.packets, i.telnet, i.mirai_sources,"
			       " coalesce((SELECT mirai_sources FROM scope_countries c WHERE "
			       "c.run_id = i.run_id"
			       " AND c.start_unix = i.start_unix AND c.cc = 'JP'), 0)"
			       " FROM scope_intervals i JOIN latest ON i.start_unix = latest.su "
			       "AND i.run_id = latest.rid"
			       " ORDER BY i.start_unix LIMIT " LIB_STR(RPT_MAX_INTERVALS),
			       -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(q, 3, r->since_unix);
	sqlite3_bind_int64(q, 4, r->until_unix);
	size_t n = 0;
	int64_t *times = xmalloc(RPT_MAX_INTERVALS * sizeof(*times));
	double *share = xmalloc(RPT_MAX_INTERVALS * sizeof(double));
	double *jp = xmalloc(RPT_MAX_INTERVALS * sizeof(double)),
	       *world = xmalloc(RPT_MAX_INTERVALS * sizeof(double));
	while (n < RPT_MAX_INTERVALS && sqlite3_step(q) == SQLITE_ROW) {
		times[n] = sqlite3_column_int64(q, 0);
		double pk = (double)sqlite3_column_int64(q, 1);
		share[n] = pk > 0 ? (double)sqlite3_column_int64(q, 2) / pk : 0;
		world[n] = (double)sqlite3_column_int64(q, 3);
		jp[n] = (double)sqlite3_column_int64(q, 4);
		n++;
	}
	sqlite3_finalize(q);
	if (n >= 2) {
		struct report_series ts[] = {
			{.name = "Telnet (23, 2323/tcp)", .values = share, .highlight = true}};
		struct report_chart c = {.kind = REPORT_LINES,
					 .title = "Telnet's share of darknet packets",
					 .y_label = "share",
					 .times = times,
					 .npoints = n,
					 .series = ts,
					 .nseries = 1,
					 .percent = true};
		emit_chart(r, "darknet-telnet-share", &c);
		struct report_series ms[] = {{.name = "world", .values = world},
					     {.name = "Japan", .values = jp, .highlight = true}};
		struct report_chart m = {.kind = REPORT_LINES,
					 .title = "Mirai-infected sources, Japan and the world",
					 .y_label = "sources",
					 .times = times,
					 .npoints = n,
					 .series = ms,
					 .nseries = 2};
		emit_chart(r, "darknet-mirai", &m);

		/* The busiest ports, one series each, 23/tcp always among them. */
		const char *top_sql = DARK_LATEST
			" SELECT p.proto, p.port FROM scope_ports p JOIN latest"
			" ON p.start_unix = latest.su AND p.run_id = latest.rid GROUP BY 1, 2"
			" ORDER BY (p.proto = 'tcp' AND p.port = 23) DESC, sum(p.packets) DESC "
			"LIMIT " LIB_STR(RPT_CHART_PORTS);
		struct report_series ps[RPT_CHART_PORTS];
		char labels[RPT_CHART_PORTS][32];
		double *vals[RPT_CHART_PORTS] = {0};
		size_t np = 0;
		if (sqlite3_prepare_v2(r->db, top_sql, -1, &q, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(q, 3, r->since_unix);
			sqlite3_bind_int64(q, 4, r->until_unix);
			while (np < RPT_CHART_PORTS && sqlite3_step(q) == SQLITE_ROW) {
				const char *proto = (const char *)sqlite3_column_text(q, 0);
				int port = sqlite3_column_int(q, 1);
				snprintf(labels[np], sizeof(labels[np]), "%d/%s", port,
					 proto ? proto : "?");
				vals[np] = xcalloc(n, sizeof(double));
				sqlite3_stmt *v;
				if (sqlite3_prepare_v2(
					    r->db,
					    "SELECT start_unix, packets FROM scope_ports p"
					    " WHERE proto = ?5 AND port = ?6 AND run_id = (SELECT "
					    "max(run_id)"
					    " FROM scope_intervals i WHERE i.start_unix = "
					    "p.start_unix)"
					    " AND start_unix >= ?3 AND start_unix < ?4",
					    -1, &v, NULL) == SQLITE_OK) {
					sqlite3_bind_int64(v, 3, r->since_unix);
					sqlite3_bind_int64(v, 4, r->until_unix);
					sqlite3_bind_text(v, 5, proto, -1, SQLITE_TRANSIENT);
					sqlite3_bind_int(v, 6, port);
					size_t k = 0;
					while (sqlite3_step(v) == SQLITE_ROW) {
						int64_t t = sqlite3_column_int64(v, 0);
						while (k < n && times[k] < t)
							k++;
						if (k < n && times[k] == t)
							vals[np][k] =
								(double)sqlite3_column_int64(v, 1);
					}
					sqlite3_finalize(v);
				}
				ps[np] = (struct report_series){.name = labels[np],
								.values = vals[np],
								.highlight =
									port == 23 && proto &&
									strcmp(proto, "tcp") == 0};
				np++;
			}
			sqlite3_finalize(q);
		}
		if (np) {
			struct report_chart pc = {
				.kind = REPORT_LINES,
				.title = "Darknet packets per port (23/tcp highlighted)",
				.y_label = "packets",
				.times = times,
				.npoints = n,
				.series = ps,
				.nseries = np};
			emit_chart(r, "darknet-ports", &pc);
		}
		for (size_t i = 0; i < np; i++)
			free(vals[i]);
	}
	free(times);
	free(share);
	free(jp);
	free(world);
}

/* ------------------------------------------------------------------ command */

static const char html_head[] =
	"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mitsu "
	"report</title>\n"
	"<style>body{font:14px/1.4 "
	"system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;"
	"margin:8px 0 20px}th,td{padding:3px 10px 3px 0;border-bottom:1px solid "
	"#eee;text-align:left}"
	"caption{text-align:left;font-weight:600;padding:6px 0}.note{color:#666}figure{margin:16px "
	"0}"
	"svg{max-width:100%;height:auto}</style></head><body>\n";

static int normalise_time(const char *in, char out[LIB_RFC3339_LEN], int64_t *unix_s)
{
	int64_t us;
	if (lib_time_normalise(in, out, &us))
		return -EINVAL;
	*unix_s = us / 1000000;
	return 0;
}

enum { F_FORMAT, F_OUT, F_SINCE, F_UNTIL };
static const struct core_flag report_flags[] = {
	{.name = "format",
	 .arg = "text|json|html",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "what is printed on stdout (default text)"},
	{.name = "out",
	 .arg = "DIR",
	 .opt = CORE_FLAG_OWN,
	 .id = F_OUT,
	 .help = "also write report.txt, report.json, report.html and the SVG charts into DIR"},
	{.name = "since",
	 .arg = "TIME",
	 .opt = CORE_FLAG_OWN,
	 .id = F_SINCE,
	 .help = "only what happened at or after TIME (RFC 3339 or YYYY-MM-DD)"},
	{.name = "until",
	 .arg = "TIME",
	 .opt = CORE_FLAG_OWN,
	 .id = F_UNTIL,
	 .help = "only what happened before TIME"},
	{0},
};

static int report_main(int argc, char **argv);

const struct core_command report_command = {
	.name = "report",
	.summary = "The seed's tables and charts from the store: honeypot hosts by device, "
		   "credentials, commands, samples, sandbox verdicts and the LAN-attack testbed "
		   "table, darknet statistics.",
	.flags = report_flags,
	.common = CORE_CMD_CONFIG,
	.main = report_main,
};

struct report_args {
	struct rpt *r;
	enum report_format fmt;
	char since[LIB_RFC3339_LEN], until[LIB_RFC3339_LEN];
};

static int on_flag(void *arg, int id, const char *v)
{
	struct report_args *a = arg;
	switch (id) {
	case F_FORMAT:
		if (report_format_parse(v, &a->fmt) || a->fmt == REPORT_CSV) {
			fprintf(stderr, "mitsu report: --format is text, json or html\n");
			return -1;
		}
		return 0;
	case F_OUT: a->r->out_dir = v; return 0;
	case F_SINCE:
	case F_UNTIL:
		if (normalise_time(v, id == F_SINCE ? a->since : a->until,
				   id == F_SINCE ? &a->r->since_unix : &a->r->until_unix)) {
			fprintf(stderr, "mitsu report: --%s wants RFC 3339 time or YYYY-MM-DD\n",
				id == F_SINCE ? "since" : "until");
			return -1;
		}
		return 0;
	}
	return -1;
}

static int report_main(int argc, char **argv)
{
	struct core_config cfg;
	core_config_init(&cfg);
	struct rpt r = {0};
	struct report_args a = {.r = &r,
				.fmt = REPORT_TEXT,
				.since = "0000-01-01T00:00:00.000000Z",
				.until = "9999-12-31T23:59:59.999999Z"};
	r.since_unix = INT64_MIN;
	r.until_unix = INT64_MAX;
	int first, rc = core_command_parse(&report_command, argc, argv, &cfg, on_flag, &a, &first);
	if (rc) {
		rc = core_command_status(rc);
		goto out;
	}
	enum report_format fmt = a.fmt;
	char *since = a.since, *until = a.until;
	rc = 1;
	struct core_store st;
	if (core_store_open(&st, core_cfg_str(&cfg, OPT_CORE_DATA_DIR), true))
		goto out;
	if (r.out_dir && lib_mkdirs(r.out_dir, 0755)) {
		fprintf(stderr, "mitsu report: cannot create %s\n", r.out_dir);
		core_store_close(&st);
		goto out;
	}
	r.db = st.db;
	r.store = &st;
	r.since = since;
	r.until = until;
	r.json = json_object();
	json_object_set_new(r.json, "charts", json_array());
	buf_init(&r.text, 0);
	buf_init(&r.html, 0);
	char now[LIB_RFC3339_LEN];
	lib_rfc3339_now(now);
	json_object_set_new(r.json, "generated", json_string(now));
	buf_printf(&r.text, "mitsu report, %s\n\n", now);
	buf_printf(&r.html, "<h1>mitsu report</h1><p class=\"note\">generated %s</p>\n", now);

	if (table_exists(r.db, "sessions"))
		section_honeypot(&r);
	section_malware(&r);
	section_sandbox(&r);
	section_darknet(&r);

	char *json_text =
		json_dumps(r.json, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	struct buf page;
	buf_init(&page, 0);
	buf_append_str(&page, html_head);
	buf_append(&page, r.html.data ? r.html.data : (const uint8_t *)"", r.html.len);
	buf_append_str(&page, "</body></html>\n");
	const char *text = r.text.data ? (const char *)r.text.data : "";
	if (r.out_dir) {
		struct {
			const char *name;
			const void *p;
			size_t n;
		} files[] = {
			{"report.txt", text, r.text.len},
			{"report.json", json_text, strlen(json_text)},
			{"report.html", page.data, page.len},
		};
		for (size_t i = 0; i < LIB_ARRAY_LEN(files); i++) {
			char *path = xasprintf("%s/%s", r.out_dir, files[i].name);
			if (lib_write_file_atomic(path, files[i].p, files[i].n, 0644))
				fprintf(stderr, "mitsu report: cannot write %s\n", path);
			free(path);
		}
	}
	if (fmt == REPORT_JSON)
		printf("%s\n", json_text);
	else if (fmt == REPORT_HTML)
		fwrite(page.data, 1, page.len, stdout);
	else
		fputs(text, stdout);
	free(json_text);
	buf_free(&page);
	buf_free(&r.text);
	buf_free(&r.html);
	json_decref(r.json);
	core_store_close(&st);
	rc = 0;
out:
	core_config_free(&cfg);
	return rc;
}
