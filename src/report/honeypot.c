/* report section "honeypot": what attackers did to the emulated devices (seed §1 IoTPOT and the
 * shape of §2's table): hosts by device at each stage, sessions by device and port, credentials,
 * commands, downloads, the busiest sources, sessions over time. Every query is bounded by the
 * window on an indexed time column: sessions(start) (sessions_start) and events(eventid,
 * timestamp) (events_eventid). */
#include "report/report.h"

#define HP_RECENT 25        /* recent sessions listed on the dashboard */
#define HP_SOURCES_HOURS 48 /* the busiest sources of up to this many hours: per hour */

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
/* The raw edges of the sessions' rolled-up hours, as rows like f's. */
#define HP_EDGES HP_RAW("?1", "?19") " UNION ALL " HP_RAW("?20", "?2")
/* The two forms of a query over f. */
#define HP_SQL(q) HP_FACTS_ROLL q, HP_FACTS_RAW q
/* Distinct hosts by a grouping: first one row per group and source (a single sort), then the
 * groups' counts; `flags` are the sources' per-group flags (max over their rows). */
#define HP_BY_SOURCE(cols, flags) \
	", g AS (SELECT " cols ", src_ip, sum(sessions) AS n" flags " FROM f GROUP BY " cols \
	", src_ip) "

/* report_ports' rows of the rolled-up hours [?17, ?18), columns `cols` of d: the whole days
 * inside them from report_ports_day, the hours before and after those from report_ports
 * (HP_D0..). */
#define HP_PORTS(cols) \
	"SELECT " cols " FROM roll.report_ports d WHERE " HP_SRC_HOURS0 " UNION ALL SELECT " cols \
	" FROM roll.report_ports_day d WHERE " HP_SRC_DAYS " UNION ALL SELECT " cols \
	" FROM roll.report_ports d WHERE " HP_SRC_HOURS1
/* report_profile_hist's rows since the first rolled-up hour: its hours before the first whole
 * day, then its days (report_profile_hist_day). */
#define HP_PROFILE_HIST \
	"SELECT profile, what, n FROM roll.report_profile_hist WHERE hour >= ?17 AND hour " \
	"< " HP_D0 \
	" UNION ALL SELECT profile, what, n FROM roll.report_profile_hist_day WHERE day >= " HP_D0

/* The forms that read the roll-up's per-source tables (report_rollup_sources): the sums from
 * report_ports, the sources of the rolled-up hours from the rows seen since the first one,
 * plus the edges' sources not among them (r: the edges' rows). */
#define HP_BY_DEVICE_SRC \
	"WITH r AS MATERIALIZED (" HP_EDGES \
	"), g AS (SELECT profile, src_ip, max(tried > 0) AS t," \
	" max(logged > 0) AS l, max(ran > 0) AS r, max(fetched > 0) AS d FROM r WHERE src_ip IS" \
	" NOT NULL GROUP BY 1, 2) SELECT profile, sum(n), sum(h), sum(t), sum(l), sum(r), sum(d)" \
	" FROM (SELECT profile, sessions AS n, 0 AS h, 0 AS t, 0 AS l, 0 AS r, 0 AS d FROM" \
	" (" HP_PORTS("d.profile, d.sessions") ") UNION ALL SELECT profile, sessions, 0, 0, 0, 0," \
					       " 0 FROM r UNION ALL SELECT profile, 0, sum(n * " \
					       "(what = 0)), sum(n * (what = 1)), sum(n" \
					       " * (what = 2)), sum(n * (what = 3)), sum(n * " \
					       "(what = 4)) FROM (" HP_PROFILE_HIST ")" \
					       " GROUP BY 1 UNION ALL SELECT g.profile, 0," \
					       " p.src_ip IS NULL, g.t AND NOT coalesce(p.tried " \
					       ">= ?17, 0), g.l AND NOT" \
					       " coalesce(p.logged >= ?17, 0), g.r AND NOT " \
					       "coalesce(p.ran >= ?17, 0), g.d AND NOT" \
					       " coalesce(p.fetched >= ?17, 0) FROM g LEFT JOIN " \
					       "roll.report_profile_src p ON p.profile" \
					       " = g.profile AND p.src_ip = g.src_ip AND p.seen " \
					       ">= ?17) GROUP BY 1 ORDER BY 3 DESC, 1"
#define HP_BY_PORT_SRC \
	"WITH r AS MATERIALIZED (" HP_EDGES "), s AS (SELECT profile, protocol, dst_port, sum(n)" \
	" AS n FROM (SELECT profile, protocol, dst_port, sessions AS n FROM (" HP_PORTS( \
		"d.profile, d.protocol, d.dst_port, d.sessions") ") UNION ALL SELECT profile, " \
								 "protocol, dst_port," \
								 " sessions FROM r) GROUP BY 1, " \
								 "2, 3 ORDER BY 4 DESC, 1, 2, 3 " \
								 "LIMIT ?6) SELECT profile," \
								 " protocol, dst_port, n, " \
								 "(SELECT coalesce(sum(h.n), 0) " \
								 "FROM roll.report_port_hist h " \
								 "WHERE" \
								 " h.profile = s.profile AND " \
								 "h.protocol = s.protocol AND " \
								 "h.dst_port =" \
								 " coalesce(s.dst_port, x'') AND " \
								 "h.seen >= ?17) + (SELECT " \
								 "count(DISTINCT src_ip) FROM r" \
								 " WHERE r.profile = s.profile " \
								 "AND r.protocol = s.protocol " \
								 "AND r.dst_port IS s.dst_port" \
								 " AND NOT EXISTS (SELECT 1 FROM" \
								 " roll.report_port_src h WHERE " \
								 "h.profile = r.profile AND " \
								 "h.protocol = r.protocol AND" \
								 " h.dst_port = " \
								 "coalesce(r.dst_port, x'') AND " \
								 "h.src_ip = r.src_ip AND h.seen " \
								 ">= ?17))" \
								 " FROM s ORDER BY 4 DESC, 1, 2, " \
								 "3"
/* The whole days inside the sessions' rolled-up hours [?17, ?18): [HP_D0, HP_D1) (empty when
 * HP_D0 >= HP_D1). A source's sums over those hours are its report_src_day rows of those days
 * and its report_sessions rows of the hours [?17, HP_H0) and [HP_H1, ?18) at the edges (with no
 * whole day: [?17, ?18) and nothing). */
#define HP_DAY LIB_STR(REPORT_ROLLUP_DAY)
#define HP_D0 "((?17 + " HP_DAY " - 1) / " HP_DAY " * " HP_DAY ")"
#define HP_D1 "(?18 / " HP_DAY " * " HP_DAY ")"
#define HP_H0 "min(" HP_D0 ", ?18)"
#define HP_H1 "max(" HP_D1 ", " HP_H0 ")"
#define HP_SRC_DAYS "d.day >= " HP_D0 " AND d.day < " HP_D1
#define HP_SRC_HOURS0 "d.hour >= ?17 AND d.hour < " HP_H0
#define HP_SRC_HOURS1 "d.hour >= " HP_H1 " AND d.hour < ?18"
/* The sessions of source a.src_ip over the rolled-up hours. */
#define HP_SRC_SESSIONS \
	"(SELECT coalesce(sum(d.sessions), 0) FROM roll.report_src_day d WHERE d.src_ip =" \
	" a.src_ip AND " HP_SRC_DAYS ") + (SELECT coalesce(sum(d.sessions), 0) FROM" \
	" roll.report_sessions d WHERE d.src_ip = a.src_ip AND " HP_SRC_HOURS0 ") + (SELECT" \
	" coalesce(sum(d.sessions), 0) FROM roll.report_sessions d WHERE d.src_ip = a.src_ip AND" \
	" " HP_SRC_HOURS1 ")"
/* The rows of the candidates c over the rolled-up hours. */
#define HP_SRC_ROWS(table, range) \
	"SELECT d.src_ip, d.sessions, d.logins, d.commands, d.first, d.last FROM c JOIN" \
	" roll." table " d ON d.src_ip = c.src_ip AND " range " UNION ALL "
#define HP_SRC_CANDIDATES \
	HP_SRC_ROWS("report_src_day", HP_SRC_DAYS) \
	HP_SRC_ROWS("report_sessions", HP_SRC_HOURS0) HP_SRC_ROWS("report_sessions", HP_SRC_HOURS1)
/* The busiest sources without summing every source: a source's sessions over all rolled-up
 * hours (report_src) bound its sessions in the window. th, the ?6-th most among the window's
 * counts of the 4 * ?6 busiest of all time, is at most the true ?6-th; every source of the
 * answer has at least th in the window, so at least th over all time (plus the edges): the
 * candidates c. A source without an address (none rolled up: report_rollup_sources) is
 * counted from the edges. Per source, days and edge hours (HP_SRC_*). */
#define HP_SOURCES_SRC \
	"WITH r AS MATERIALIZED (" HP_EDGES "), rs AS MATERIALIZED (SELECT src_ip, sum(sessions)" \
	" AS n FROM r GROUP BY 1), p AS (SELECT " HP_SRC_SESSIONS " + coalesce((SELECT n FROM" \
	" rs WHERE rs.src_ip = a.src_ip), 0) AS n FROM (SELECT src_ip FROM roll.report_src" \
	" ORDER BY sessions DESC LIMIT 4 * ?6) a), th AS MATERIALIZED (SELECT coalesce((SELECT" \
	" n FROM p ORDER BY n DESC LIMIT 1 OFFSET ?6 - 1), 0) AS v), c AS MATERIALIZED (SELECT" \
	" src_ip FROM roll.report_src WHERE sessions >= (SELECT v FROM th) UNION SELECT" \
	" rs.src_ip FROM rs LEFT JOIN roll.report_src a ON a.src_ip = rs.src_ip WHERE rs.n +" \
	" coalesce(a.sessions, 0) >= (SELECT v FROM th)) SELECT src_ip, sum(sessions)," \
	" sum(logins), sum(commands), min(first), max(last) FROM (" HP_SRC_CANDIDATES \
	"SELECT src_ip, sessions, logins, commands, first, last FROM r WHERE src_ip IN (SELECT" \
	" src_ip FROM c) OR src_ip IS NULL) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?6"
#define HP_CHART_Q "SELECT hour / ?3 * ?3, sum(sessions), sum(logins) FROM f GROUP BY 1 ORDER BY 1"
/* With buckets of whole days (?3), the whole days of the rolled-up hours from
 * report_ports_day, its hours before and after them from report_ports; else its hours. */
#define HP_CHART_DAYS "?3 % " HP_DAY " = 0"
#define HP_CHART_PORTS \
	"WITH f AS (SELECT hour, sessions, logins FROM roll.report_ports WHERE hour >= ?17 AND" \
	" hour < CASE WHEN " HP_CHART_DAYS " THEN " HP_H0 " ELSE ?18 END UNION ALL SELECT day," \
	" sessions, logins FROM roll.report_ports_day d WHERE " HP_CHART_DAYS " AND " HP_SRC_DAYS \
	" UNION ALL SELECT hour, sessions, logins FROM roll.report_ports WHERE hour >= CASE WHEN" \
	" " HP_CHART_DAYS " THEN " HP_H1 " ELSE ?18 END AND hour < ?18 UNION ALL SELECT hour," \
	" sessions, logins FROM (" HP_EDGES ")) " HP_CHART_Q

/* report_query over the roll-up when it covers a whole hour of the window, else raw. */
static struct report_table *hp_query(struct report_ctx *c, const char *title, const char *roll,
				     const char *raw, const char *types, const char *const *names)
{
	return report_query(c, title, report_rollup_use(c, true) ? roll : raw, types, names, NULL);
}

/* The same with the per-source form first (src, unless NULL) when the window allows it. */
static struct report_table *hp_query_src(struct report_ctx *c, const char *title, const char *src,
					 const char *roll, const char *raw, const char *types,
					 const char *const *names)
{
	if (src && report_rollup_sources(c))
		return report_query(c, title, src, types, names, NULL);
	return hp_query(c, title, roll, raw, types, names);
}

/* A top list over events (credentials, commands, downloads). */
static struct report_table *top_query(struct report_ctx *c, const char *title,
				      const struct report_top *top, const char *types,
				      const char *const *names)
{
	struct buf sql;
	buf_init(&sql, 0);
	report_top_sql(top, report_rollup_use(c, false), c->roll_ev_tail, c->roll_ev_whole, &sql);
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
		hp_query_src(
			c, "Attacking hosts by device (distinct source addresses)",
			HP_BY_DEVICE_SRC,
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
		hp_query_src(c, "Sessions by device and port", HP_BY_PORT_SRC,
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
	/* The per-source form costs a look-up per candidate, and a short window's threshold is
	 * low (most sources are candidates): up to HP_SOURCES_HOURS rolled-up hours, the
	 * per-hour form reads fewer rows (the window's report_sessions rows). */
	report_rollup_window(c);
	bool hours = c->roll_ss[1] - c->roll_ss[0] <= HP_SOURCES_HOURS * REPORT_ROLLUP_HOUR;
	struct report_table *t_sources = hp_query_src(
		c, "Busiest sources", hours ? NULL : HP_SOURCES_SRC,
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
	static const char *const sql[] = {HP_CHART_PORTS, HP_FACTS_RAW HP_CHART_Q};
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
