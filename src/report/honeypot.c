/* report section "honeypot": what attackers did to the emulated devices (seed §1 IoTPOT and the
 * shape of §2's table): hosts by device at each stage, sessions by device and port, credentials,
 * commands, downloads, the busiest sources, sessions over time. Every query is bounded by the
 * window on an indexed time column: sessions(start) (sessions_start) and events(eventid,
 * timestamp) (events_eventid). */
#include "report/report.h"

#define HP_RECENT 25 /* recent sessions listed on the dashboard */

/* The sessions of a window as rows `f` with the roll-up's columns (report.db's
 * report_sessions): one row per raw session, or one per hour, device, port and source of the
 * roll-up. A query aggregates f, so it gives the same answer over either. */
#define HP_RAW(lo, hi) \
	"SELECT " HP_HOUR " AS hour, coalesce(profile, '?') AS profile," \
	" coalesce(protocol, '?') AS protocol, dst_port, src_ip, 1 AS sessions," \
	" (login = 1 OR login_failures > 0) AS tried, login = 1 AS logged, commands > 0 AS ran," \
	" (downloads > 0 OR uploads > 0) AS fetched, login AS logins, commands," \
	" downloads + uploads AS transfers, start AS first, start AS last FROM sessions" \
	" WHERE start >= " lo " AND start < " hi
#define HP_HOUR "CAST(strftime('%s', substr(start, 1, 13) || ':00:00') AS INTEGER)"
#define HP_ROLL \
	"SELECT hour, profile, protocol, dst_port, src_ip, sessions, tried, logged, ran, fetched," \
	" logins, commands, transfers, first, last FROM roll.report_sessions" \
	" WHERE hour >= ?17 AND hour < ?18"
#define HP_FACTS_ROLL \
	"WITH f AS (" HP_ROLL \
	" UNION ALL " HP_RAW("?1", "?19") " UNION ALL " HP_RAW("?20", "?2") ") "
#define HP_FACTS_RAW "WITH f AS (" HP_RAW("?1", "?2") ") "
/* The two forms of a query over f. */
#define HP_SQL(q) HP_FACTS_ROLL q, HP_FACTS_RAW q
/* Distinct hosts by a grouping: first one row per group and source (a single sort), then the
 * groups' counts; `flags` are the sources' per-group flags (max over their rows). */
#define HP_BY_SOURCE(cols, flags) \
	", g AS (SELECT " cols ", src_ip, sum(sessions) AS n" flags " FROM f GROUP BY " cols \
	", src_ip) "

/* report_query over the roll-up when it covers a whole hour of the window, else raw. */
static struct report_table *hp_query(struct report_ctx *c, const char *title, const char *roll,
				     const char *raw, const char *types, const char *const *names)
{
	return report_query(c, title, report_rollup_use(c, true) ? roll : raw, types, names, NULL);
}

/* A top list over events (credentials, commands, downloads). */
static struct report_table *top_query(struct report_ctx *c, const char *title,
				      const struct report_top *top, const char *types,
				      const char *const *names)
{
	struct buf sql;
	buf_init(&sql, 0);
	report_top_sql(top, report_rollup_use(c, false), &sql);
	struct report_table *t = report_query(c, title, (const char *)sql.data, types, names, NULL);
	buf_free(&sql);
	return t;
}

static void hosts_by_device(struct report_ctx *c)
{
	static const char *const names[] = {
		"device profile",          "sessions",        "hosts",
		"hosts trying to log in",  "hosts logged in", "hosts running commands",
		"hosts delivering malware"};
	report_emit_table(
		c, "honeypot",
		hp_query(c, "Attacking hosts by device (distinct source addresses)",
			 HP_SQL(HP_BY_SOURCE("profile", ", max(tried > 0) AS t, max(logged > 0) "
							"AS l,"
							" max(ran > 0) AS r, max(fetched > 0) AS "
							"d") "SELECT profile, sum(n), "
							     "count(src_ip),"
							     " count(CASE WHEN t THEN src_ip "
							     "END), count(CASE WHEN l THEN src_ip "
							     "END),"
							     " count(CASE WHEN r THEN src_ip "
							     "END), count(CASE WHEN d THEN src_ip "
							     "END)"
							     " FROM g GROUP BY 1 ORDER BY 3 DESC, "
							     "1"),
			 "siiiiii", names),
		"the shape of the seed's WebUI table (§2): hosts with requests, trying to log in, "
		"logged in, doing device-specific access");
	static const char *const pnames[] = {"device profile", "protocol", "port", "sessions",
					     "hosts"};
	report_emit_table(
		c, "sessions_by_port",
		hp_query(c, "Sessions by device and port",
			 HP_SQL(HP_BY_SOURCE(
				 "profile, protocol, dst_port",
				 "") "SELECT profile, protocol, dst_port, sum(n), count(src_ip)"
				     " FROM g GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3"
				     " LIMIT ?6"),
			 "ssiii", pnames),
		NULL);
}

static void credentials_and_commands(struct report_ctx *c)
{
	static const char *const cnames[] = {"username", "password", "attempts", "hosts",
					     "accepted"};
	report_emit_table(
		c, "credentials",
		top_query(c, "Credentials tried", &report_top_credentials, "ssiii", cnames), NULL);
	static const char *const knames[] = {"command", "times", "hosts"};
	report_emit_table(c, "commands",
			  top_query(c, "Commands run", &report_top_commands, "sii", knames), NULL);
	static const char *const dnames[] = {"URL", "attempts", "hosts", "fetched", "SHA-256"};
	struct report_table *t_downloads = top_query(c, "Downloads the attackers asked for",
						     &report_top_downloads, "siiis", dnames);
	report_link(c, t_downloads, 4, REPORT_LINK_SAMPLE);
	report_emit_table(c, "downloads", t_downloads, NULL);
}

static void sources(struct report_ctx *c)
{
	static const char *const names[] = {"source",   "sessions", "logins",
					    "commands", "first",    "last"};
	struct report_table *t_sources = hp_query(
		c, "Busiest sources",
		HP_SQL("SELECT src_ip, sum(sessions), sum(logins), sum(commands),"
		       " min(first), max(last) FROM f GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?6"),
		"siiiss", names);
	report_link(c, t_sources, 0, REPORT_LINK_IP);
	report_emit_table(c, "sources", t_sources, NULL);
	if (!c->dashboard)
		return;
	static const char *const rnames[] = {"start",    "source",   "port",     "profile",
					     "username", "password", "commands", "downloads",
					     "end",      "session"};
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
	static const char *const sql[] = {HP_SQL("SELECT hour / ?3 * ?3, sum(sessions), sum(logins)"
						 " FROM f GROUP BY 1 ORDER BY 1")};
	report_time_chart(c, "honeypot-sessions", &tmpl, sql[report_rollup_use(c, true) ? 0 : 1],
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
