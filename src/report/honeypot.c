/* report section "honeypot": what attackers did to the emulated devices (seed §1 IoTPOT and the
 * shape of §2's table): hosts by device at each stage, sessions by device and port, credentials,
 * commands, downloads, the busiest sources, sessions over time. Every query is bounded by the
 * window on an indexed time column: sessions(start) (sessions_start) and events(eventid,
 * timestamp) (events_eventid). */
#include "report/report.h"

#define HP_RECENT 25 /* recent sessions listed on the dashboard */

static void hosts_by_device(struct report_ctx *c)
{
	static const char *const names[] = {
		"device profile",          "sessions",        "hosts",
		"hosts trying to log in",  "hosts logged in", "hosts running commands",
		"hosts delivering malware"};
	report_emit_table(
		c, "honeypot",
		report_query(
			c, "Attacking hosts by device (distinct source addresses)",
			"SELECT coalesce(profile, '?'), count(*), count(DISTINCT src_ip),"
			" count(DISTINCT CASE WHEN login = 1 OR login_failures > 0 THEN src_ip "
			"END),"
			" count(DISTINCT CASE WHEN login = 1 THEN src_ip END),"
			" count(DISTINCT CASE WHEN commands > 0 THEN src_ip END),"
			" count(DISTINCT CASE WHEN downloads > 0 OR uploads > 0 THEN src_ip END)"
			" FROM sessions WHERE start >= ?1 AND start < ?2 GROUP BY 1 ORDER BY 3 "
			"DESC",
			"siiiiii", names, NULL),
		"the shape of the seed's WebUI table (§2): hosts with requests, trying to log in, "
		"logged in, doing device-specific access");
	static const char *const pnames[] = {"device profile", "protocol", "port", "sessions",
					     "hosts"};
	report_emit_table(
		c, "sessions_by_port",
		report_query(c, "Sessions by device and port",
			     "SELECT coalesce(profile, '?'), coalesce(protocol, '?'), "
			     "dst_port, count(*), count(DISTINCT src_ip) FROM sessions"
			     " WHERE start >= ?1 AND start < ?2 GROUP BY 1, 2, 3 ORDER BY "
			     "4 DESC LIMIT ?6",
			     "ssiii", pnames, NULL),
		NULL);
}

static void credentials_and_commands(struct report_ctx *c)
{
	static const char *const cnames[] = {"username", "password", "attempts", "hosts",
					     "accepted"};
	report_emit_table(
		c, "credentials",
		report_query(c, "Credentials tried",
			     "SELECT json_extract(json, '$.username'), json_extract(json, "
			     "'$.password'), count(*), count(DISTINCT src_ip),"
			     " sum(eventid = 'mitsu.login.success') FROM events"
			     " WHERE eventid IN ('mitsu.login.success', 'mitsu.login.failed')"
			     " AND id >= ?7 AND id < ?8 AND timestamp >= ?1 AND timestamp < ?2"
			     " GROUP BY 1, 2 ORDER BY 3 DESC LIMIT ?6",
			     "ssiii", cnames, NULL),
		NULL);
	static const char *const knames[] = {"command", "times", "hosts"};
	report_emit_table(c, "commands",
			  report_query(c, "Commands run",
				       "SELECT substr(json_extract(json, '$.input'), 1, 160), "
				       "count(*), count(DISTINCT src_ip) FROM events"
				       " WHERE eventid = 'mitsu.command.input' AND id >= ?7 AND id "
				       "< ?8 AND timestamp >= ?1 "
				       "AND timestamp < ?2 GROUP BY 1 ORDER BY 2 DESC LIMIT ?6",
				       "sii", knames, NULL),
			  NULL);
	static const char *const dnames[] = {"URL", "attempts", "hosts", "fetched", "SHA-256"};
	{
		struct report_table *t_downloads = report_query(
			c, "Downloads the attackers asked for",
			"SELECT substr(json_extract(json, '$.url'), 1, 300), count(*), "
			"count(DISTINCT src_ip), sum(eventid = 'mitsu.session.file_download'),"
			" max(json_extract(json, '$.shasum')) FROM events"
			" WHERE eventid IN ('mitsu.session.file_download', "
			"'mitsu.session.file_download.failed')"
			" AND id >= ?7 AND id < ?8 AND timestamp >= ?1 AND timestamp < ?2 GROUP BY "
			"1 ORDER BY 2 DESC "
			"LIMIT ?6",
			"siiis", dnames, NULL);
		report_link(c, t_downloads, 4, REPORT_LINK_SAMPLE);
		report_emit_table(c, "downloads", t_downloads, NULL);
	}
}

static void sources(struct report_ctx *c)
{
	static const char *const names[] = {"source",   "sessions", "logins",
					    "commands", "first",    "last"};
	{
		struct report_table *t_sources =
			report_query(c, "Busiest sources",
				     "SELECT src_ip, count(*), sum(login), sum(commands), "
				     "min(start), max(start) FROM sessions"
				     " WHERE start >= ?1 AND start < ?2 GROUP BY 1 ORDER BY 2 DESC "
				     "LIMIT ?6",
				     "siiiss", names, NULL);
		report_link(c, t_sources, 0, REPORT_LINK_IP);
		report_emit_table(c, "sources", t_sources, NULL);
	}
	if (!c->dashboard)
		return;
	static const char *const rnames[] = {"start",    "source",   "port",     "profile",
					     "username", "password", "commands", "downloads",
					     "end",      "session"};
	{
		struct report_table *t_recent_sessions =
			report_query(c, "Recent sessions",
				     "SELECT start, src_ip, dst_port, profile, username, "
				     "password, commands, downloads + uploads, reason, session"
				     " FROM sessions WHERE start >= ?1 AND start < ?2"
				     " ORDER BY start DESC LIMIT " LIB_STR(HP_RECENT),
				     "ssissiiiss", rnames, NULL);
		report_link(c, t_recent_sessions, 1, REPORT_LINK_IP);
		report_emit_table(c, "recent_sessions", t_recent_sessions, NULL);
	}
}

static void sessions_chart(struct report_ctx *c)
{
	int64_t first, last;
	if (!report_span(c, "sessions", "start", &first, &last))
		return;
	int64_t bucket = report_bucket(c, first, last);
	static const char *const series[] = {"sessions", "logins"};
	struct report_chart tmpl = {.kind = REPORT_LINES,
				    .title = bucket == 3600 ? "Honeypot sessions per hour"
							    : "Honeypot sessions per day",
				    .y_label = "sessions"};
	report_time_chart(c, "honeypot-sessions", &tmpl,
			  "SELECT CAST(strftime('%s', substr(start, 1, 19)) AS INTEGER) / ?3 * ?3,"
			  " count(*), sum(login) FROM sessions WHERE start >= ?1 AND start < ?2"
			  " GROUP BY 1 ORDER BY 1",
			  series, 2, bucket);
}

static bool honeypot_present(sqlite3 *db)
{
	return report_table_exists(db, "sessions");
}

static void honeypot_build(struct report_ctx *c)
{
	if (!honeypot_present(c->db))
		return;
	report_heading(c, "Honeypot");
	sessions_chart(c);
	hosts_by_device(c);
	credentials_and_commands(c);
	sources(c);
}

const struct report_section report_section_honeypot = {
	.name = "honeypot",
	.title = "Honeypot",
	.present = honeypot_present,
	.build = honeypot_build,
	.window = 86400,
};
