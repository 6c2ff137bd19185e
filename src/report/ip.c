/* report: one address, everywhere (`mitsu ip ADDR`, the dashboard's /ip/ADDR). What every part
 * of mitsu knows of it, each part through its own index:
 *   honeypot   sessions(src_ip, start) (sessions_src_start), then its sessions' events
 * (events_session); darknet    the scanners and DoS victims of `mitsu scope` runs
 * (scope_runs.report, whose per-run lists name addresses; the interval tables hold no addresses);
 *   samples    sample_sources rows it delivered (src_ip) or served (the URL's host);
 *   sandbox    box_cnc (C&C it was) and verdicts naming it as a DDoS target;
 *   ident      mitsu.ident.result events about it (events_eventid);
 *   geo        country and AS from libloc.
 * Then one timeline of all of it, newest first. */
#include <arpa/inet.h>
#include <errno.h>
#include <libloc/as.h>
#include <libloc/database.h>
#include <libloc/libloc.h>
#include <libloc/network.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"

#define IP_SESSIONS 200       /* sessions listed on one page (the context's offset: which) */
#define IP_AGG_SESSIONS 1000  /* latest sessions whose credentials and commands are counted */
#define IP_EVENT_SESSIONS 100 /* latest sessions whose events go into the timeline */
#define IP_ROWS 200           /* rows of the other lists */

int report_ip_canonical(const char *in, char out[46])
{
	struct in6_addr a6;
	struct in_addr a4;
	if (!in || strlen(in) >= 46)
		return -EINVAL;
	if (inet_pton(AF_INET, in, &a4) == 1)
		return inet_ntop(AF_INET, &a4, out, 46) ? 0 : -EINVAL;
	if (inet_pton(AF_INET6, in, &a6) == 1)
		return inet_ntop(AF_INET6, &a6, out, 46) ? 0 : -EINVAL;
	return -EINVAL;
}

/* ------------------------------------------------------------------ timeline */

struct tl_entry {
	char time[LIB_RFC3339_LEN];
	const char *part; /* static */
	char *what, *detail, *ref;
};

struct timeline {
	struct tl_entry *e;
	size_t n, cap;
};

static void tl_add(struct timeline *tl, const char *time, const char *part, const char *what,
		   const char *detail, const char *ref)
{
	if (!time || !*time)
		return;
	if (tl->n == tl->cap) {
		tl->cap = tl->cap ? tl->cap * 2 : 64;
		tl->e = xrealloc(tl->e, tl->cap * sizeof(*tl->e));
	}
	struct tl_entry *x = &tl->e[tl->n++];
	lib_strlcpy(x->time, time, sizeof(x->time));
	x->part = part;
	x->what = xstrdup(what ? what : "");
	x->detail = xstrndup(detail ? detail : "", REPORT_MAX_CELL);
	x->ref = ref ? xstrdup(ref) : NULL;
}

static int tl_newest_first(const void *a, const void *b)
{
	return strcmp(((const struct tl_entry *)b)->time, ((const struct tl_entry *)a)->time);
}

static void tl_emit(struct report_ctx *c, struct timeline *tl)
{
	if (tl->n) /* qsort wants an array, even of none */
		qsort(tl->e, tl->n, sizeof(*tl->e), tl_newest_first);
	struct report_table *t = report_table_new("Timeline (newest first)");
	report_table_col(t, "time", REPORT_STR, 0);
	report_table_col(t, "part", REPORT_STR, 0);
	report_table_col(t, "what", REPORT_STR, 0);
	report_table_col(t, "detail", REPORT_STR, 0);
	report_table_col(t, "ref", REPORT_STR, 0);
	for (size_t i = 0; i < tl->n; i++) {
		if (i < REPORT_IP_TIMELINE) {
			report_table_row(t);
			report_table_str(t, tl->e[i].time);
			report_table_str(t, tl->e[i].part);
			report_table_str(t, tl->e[i].what);
			report_table_str(t, tl->e[i].detail);
			report_table_str(t, tl->e[i].ref);
		}
		free(tl->e[i].what);
		free(tl->e[i].detail);
		free(tl->e[i].ref);
	}
	char note[96];
	snprintf(note, sizeof(note), "%zu entries%s", tl->n,
		 tl->n > REPORT_IP_TIMELINE ? ", the latest " LIB_STR(REPORT_IP_TIMELINE) " shown"
					    : "");
	report_emit_table(c, "timeline", t, note);
	free(tl->e);
	tl->e = NULL;
	tl->n = tl->cap = 0;
}

/* ------------------------------------------------------------------ parts */

/* A table of text columns. */
static struct report_table *text_table(const char *title, const char *const *names, size_t n)
{
	struct report_table *t = report_table_new(title);
	for (size_t i = 0; i < n; i++)
		report_table_col(t, names[i], REPORT_STR, 0);
	return t;
}

static sqlite3_stmt *prep(struct report_ctx *c, const char *sql, const char *addr)
{
	sqlite3_stmt *q;
	if (!c->db || sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(q, 1, addr, -1, SQLITE_TRANSIENT);
	if (sqlite3_bind_parameter_count(q) >= 5) /* the address as report_query binds it */
		sqlite3_bind_text(q, 5, addr, -1, SQLITE_TRANSIENT);
	return q;
}

static const char *col(sqlite3_stmt *q, int i)
{
	return (const char *)sqlite3_column_text(q, i);
}

static void geo(struct report_ctx *c, const char *addr, const char *location_db)
{
	json_t *g = json_object();
	struct loc_ctx *ctx = NULL;
	struct loc_database *db = NULL;
	struct loc_network *net = NULL;
	FILE *f = location_db && *location_db ? fopen(location_db, "re") : NULL;
	if (f && loc_new(&ctx) == 0 && loc_database_new(ctx, &db, f) == 0 &&
	    loc_database_lookup_from_string(db, addr, &net) == 0 && net) {
		const char *cc = loc_network_get_country_code(net);
		uint32_t asn = loc_network_get_asn(net);
		if (cc && *cc)
			json_object_set_new(g, "country", json_string(cc));
		if (asn) {
			json_object_set_new(g, "asn", json_integer(asn));
			struct loc_as *as = NULL;
			if (loc_database_get_as(db, &as, asn) == 0 && as) {
				const char *name = loc_as_get_name(as);
				if (name && *name)
					json_object_set_new(g, "as_name", core_json_str(name));
				loc_as_unref(as);
			}
		}
		const char *net_s = loc_network_str(net); /* owned by the network */
		if (net_s)
			json_object_set_new(g, "network", json_string(net_s));
	}
	if (net)
		loc_network_unref(net);
	if (db)
		loc_database_unref(db);
	if (ctx)
		loc_unref(ctx);
	if (f)
		fclose(f);
	json_object_set_new(c->json, "geo", g);
}

/* The dashboard's links to the previous and next page of an address's sessions. */
static void session_pages(struct report_ctx *c, const char *addr, int off, long long total)
{
	if (off == 0 && total <= IP_SESSIONS)
		return;
	struct buf url;
	buf_init(&url, 0);
	buf_append_str(&url, REPORT_LINK_IP);
	report_url_encode(&url, addr, strlen(addr));
	buf_append_str(c->html, "<p class=\"pages\">");
	if (off > 0) {
		buf_append_str(c->html, "<a href=\"");
		report_escape_xml(c->html, (const char *)url.data, url.len);
		buf_printf(c->html, "?offset=%d\">newer sessions</a> ",
			   off > IP_SESSIONS ? off - IP_SESSIONS : 0);
	}
	if (off + IP_SESSIONS < total) {
		buf_append_str(c->html, "<a href=\"");
		report_escape_xml(c->html, (const char *)url.data, url.len);
		buf_printf(c->html, "?offset=%d\">older sessions</a>", off + IP_SESSIONS);
	}
	buf_append_str(c->html, "</p>\n");
	buf_free(&url);
}

/* Its latest IP_AGG_SESSIONS sessions, read once from sessions (through sessions_src_start,
 * a row of its own page each) into a temporary table, newest first in rowid order, that the
 * summary's sums, the sessions list's first pages, the events of those sessions and the
 * timeline's latest sessions read. Returns a relation for a FROM clause: the temporary table,
 * or the query itself (with the address as ?1) if it could not be made. */
#define IP_LATEST_SESSIONS(p) \
	"(SELECT session, start, login, commands, downloads + uploads AS files, protocol," \
	" dst_port, profile, duration, username, password, reason FROM sessions WHERE src_ip = " p \
	" ORDER BY start DESC LIMIT " LIB_STR(IP_AGG_SESSIONS) ")"
static const char *latest_sessions(struct report_ctx *c, const char *addr)
{
	if (!c->db ||
	    sqlite3_exec(c->db,
			 "CREATE TEMP TABLE IF NOT EXISTS ip_latest (session TEXT, start TEXT,"
			 " login INTEGER, commands INTEGER, files INTEGER, protocol TEXT,"
			 " dst_port INTEGER, profile TEXT, duration REAL, username TEXT,"
			 " password TEXT, reason TEXT);"
			 " DELETE FROM temp.ip_latest",
			 NULL, NULL, NULL) != SQLITE_OK)
		return IP_LATEST_SESSIONS("?1");
	sqlite3_stmt *q =
		prep(c, "INSERT INTO temp.ip_latest SELECT * FROM " IP_LATEST_SESSIONS("?1"), addr);
	uint64_t t0 = lib_mono_us();
	bool ok = q && sqlite3_step(q) == SQLITE_DONE;
	sqlite3_finalize(q);
	log_debug("report", "ip: %d of its latest sessions in %.1f ms",
		  ok ? sqlite3_changes(c->db) : -1, (double)(lib_mono_us() - t0) / 1000.0);
	return ok ? "temp.ip_latest" : IP_LATEST_SESSIONS("?1");
}

/* The events of its latest sessions (`latest`, from latest_sessions), read once (through
 * events_session; the unary + keeps the planner off the eventid index, which would read every
 * login of the store) into a temporary table: every event's id for the timeline, and of the
 * logins, commands and files the fields of their tables (a, b: username and password, the
 * command, or URL and SHA-256; c, d: the file's method and error), and for the timeline
 * whether it is of the latest IP_EVENT_SESSIONS sessions (recent) and then its message (msg):
 * each row's JSON parsed once here rather than copied, the timeline not read again. Returns a
 * relation of those columns for the FROM clause of the three tables (a WHERE follows): the
 * temporary table, or the query itself (with the address as ?5) if it could not be made. */
#define IP_FILE_EVENT "eventid LIKE 'mitsu.session.file%'"
#define IP_EVENTS_OF(p, latest) \
	"SELECT id, session, eventid, timestamp, CASE WHEN eventid IN ('mitsu.login.success'," \
	" 'mitsu.login.failed', 'mitsu.http.login') THEN json_extract(json, '$.username') WHEN" \
	" eventid = 'mitsu.command.input' THEN substr(json_extract(json, '$.input'), 1, 300) WHEN" \
	" " IP_FILE_EVENT " THEN json_extract(json, '$.url') END AS a, CASE WHEN eventid LIKE" \
	" 'mitsu.%login%' THEN json_extract(json, '$.password') WHEN " IP_FILE_EVENT " THEN" \
	" json_extract(json, '$.shasum') END AS b, CASE WHEN " IP_FILE_EVENT " THEN" \
	" json_extract(json, '$.method') END AS c, CASE WHEN " IP_FILE_EVENT " THEN" \
	" json_extract(json, '$.error') END AS d, session IN (SELECT session FROM " latest \
	" ORDER BY start DESC LIMIT " LIB_STR( \
		IP_EVENT_SESSIONS) ") AS recent, CASE WHEN session" \
				   " IN (SELECT session FROM " latest \
				   " ORDER BY start DESC LIMIT " LIB_STR( \
					   IP_EVENT_SESSIONS) ") THEN json_extract(json, " \
							      "'$.message') END AS msg FROM " \
							      "events" \
							      " WHERE session IN (SELECT session " \
							      "FROM " latest ") AND +src_ip = " p
static const char *latest_events(struct report_ctx *c, const char *addr, const char *latest)
{
	static const char direct[] = "(" IP_EVENTS_OF("?5", IP_LATEST_SESSIONS("?5")) ")";
	if (strcmp(latest, "temp.ip_latest") != 0 || !c->db ||
	    sqlite3_exec(c->db,
			 "CREATE TEMP TABLE IF NOT EXISTS ip_events (id INTEGER, session TEXT,"
			 " eventid TEXT, timestamp TEXT, a TEXT, b TEXT, c TEXT, d TEXT,"
			 " recent INTEGER, msg TEXT);"
			 " DELETE FROM temp.ip_events",
			 NULL, NULL, NULL) != SQLITE_OK)
		return direct;
	sqlite3_stmt *q =
		prep(c, "INSERT INTO temp.ip_events " IP_EVENTS_OF("?1", "temp.ip_latest"), addr);
	uint64_t t0 = lib_mono_us();
	bool ok = q && sqlite3_step(q) == SQLITE_DONE;
	sqlite3_finalize(q);
	log_debug("report", "ip: %d events of its latest sessions in %.1f ms",
		  ok ? sqlite3_changes(c->db) : -1, (double)(lib_mono_us() - t0) / 1000.0);
	return ok ? "temp.ip_events" : direct;
}
#undef IP_EVENTS_OF
#undef IP_FILE_EVENT

static void honeypot(struct report_ctx *c, const char *addr, const char *latest,
		     struct timeline *tl)
{
	static const char *const names[] = {"start",    "session",  "protocol",  "port",
					    "profile",  "duration", "login",     "username",
					    "password", "commands", "downloads", "end"};
	/* A page of its sessions, newest first: of the latest (already read) when it is among
	 * them, otherwise through sessions_src_start (the offset's rows of the index are skipped,
	 * not sorted). */
	int off = c->offset > 0 ? c->offset : 0;
	bool in_latest =
		strcmp(latest, "temp.ip_latest") == 0 && off + IP_SESSIONS <= IP_AGG_SESSIONS;
	char *sql = xasprintf("SELECT start, session, protocol, dst_port, profile, duration, login,"
			      " username, password, commands, %s, reason FROM %s ORDER BY %s"
			      " LIMIT %d OFFSET %d",
			      in_latest ? "files" : "downloads + uploads",
			      in_latest ? "temp.ip_latest" : "sessions WHERE src_ip = ?5",
			      in_latest ? "rowid" : "start DESC", IP_SESSIONS, off);
	struct report_table *st =
		report_query(c, "Honeypot sessions", sql, "sssisrissiis", names, addr);
	free(sql);
	json_int_t total = json_integer_value(
		json_object_get(json_object_get(c->json, "honeypot"), "sessions"));
	size_t shown = report_table_nrows(st);
	char note[160];
	if (shown)
		snprintf(note, sizeof(note), "sessions %d to %lld of %lld, newest first", off + 1,
			 (long long)off + (long long)shown, (long long)total);
	else
		snprintf(note, sizeof(note), "no sessions past %d of %lld", off, (long long)total);
	json_object_set_new(c->json, "sessions_offset", json_integer(off));
	json_object_set_new(c->json, "sessions_page", json_integer(IP_SESSIONS));
	report_emit_table(c, "ip_sessions", st, note);
	if (c->dashboard && c->html)
		session_pages(c, addr, off, (long long)total);
	/* Credentials, commands and files over its latest sessions. */
	const char *from = latest_events(c, addr, latest);
	static const char *const cn[] = {"username", "password", "attempts", "accepted"};
	sql = xasprintf("SELECT a, b, count(*), sum(eventid = 'mitsu.login.success') FROM %s"
			" WHERE eventid IN ('mitsu.login.success', 'mitsu.login.failed', "
			"'mitsu.http.login') GROUP BY 1, 2 ORDER BY 3 DESC LIMIT " LIB_STR(IP_ROWS),
			from);
	report_emit_table(c, "ip_credentials",
			  report_query(c, "Credentials it tried", sql, "ssii", cn, addr),
			  "over its latest " LIB_STR(IP_AGG_SESSIONS) " sessions");
	free(sql);
	static const char *const kn[] = {"command", "times"};
	sql = xasprintf("SELECT a, count(*) FROM %s WHERE eventid = 'mitsu.command.input' GROUP BY"
			" 1 ORDER BY 2 DESC LIMIT " LIB_STR(IP_ROWS),
			from);
	report_emit_table(c, "ip_commands", report_query(c, "Commands it ran", sql, "si", kn, addr),
			  NULL);
	free(sql);
	static const char *const dn[] = {"time", "event", "URL", "SHA-256", "method", "error"};
	sql = xasprintf(
		"SELECT timestamp, eventid, a, b, c, d FROM %s WHERE eventid IN"
		" ('mitsu.session.file_download', 'mitsu.session.file_download.failed',"
		" 'mitsu.session.file_upload') ORDER BY timestamp DESC LIMIT " LIB_STR(IP_ROWS),
		from);
	struct report_table *t_ip_downloads =
		report_query(c, "Downloads and uploads in its sessions", sql, "ssssss", dn, addr);
	free(sql);
	report_link(c, t_ip_downloads, 3, REPORT_LINK_SAMPLE);
	report_emit_table(c, "ip_downloads", t_ip_downloads, NULL);
	/* Every event of its latest IP_EVENT_SESSIONS sessions, for the timeline. */
	char *tsql = xasprintf("SELECT timestamp, eventid, msg, session FROM %s WHERE recent ORDER"
			       " BY id DESC LIMIT " LIB_STR(REPORT_IP_TIMELINE),
			       from);
	sqlite3_stmt *q = prep(c, tsql, addr);
	free(tsql);
	while (q && sqlite3_step(q) == SQLITE_ROW)
		tl_add(tl, col(q, 0), "honeypot", col(q, 1), col(q, 2), col(q, 3));
	sqlite3_finalize(q);
	if (strncmp(from, "temp.", 5) == 0 && c->db)
		sqlite3_exec(c->db, "DELETE FROM temp.ip_events; DELETE FROM temp.ip_latest", NULL,
			     NULL, NULL);
}

static void samples(struct report_ctx *c, const char *addr, struct timeline *tl)
{
	static const char *const names[] = {"seen",   "role", "SHA-256", "source",
					    "method", "URL",  "session"};
	struct report_table *t =
		text_table("Samples it delivered or served", names, LIB_ARRAY_LEN(names));
	/* The latest IP_ROWS ids of each of sample_sources_src_ip and sample_sources_url_host
	 * (whose expression the query repeats: CORE_URL_HOST), sorted in the indexes alone, then
	 * those rows: a busy source delivered thousands, each on a page of its own. */
#define IP_HOST CORE_URL_HOST("url")
#define IP_LATEST_IDS "ORDER BY id DESC LIMIT " LIB_STR(IP_ROWS)
	static const char sql[] =
		"SELECT seen, sha256, source, method, url, src_ip, session, " IP_HOST " = ?1"
		" FROM sample_sources WHERE id IN (SELECT id FROM (SELECT id FROM sample_sources"
		" WHERE src_ip = ?1 " IP_LATEST_IDS ") UNION SELECT id FROM (SELECT id FROM"
		" sample_sources WHERE " IP_HOST " = ?1 " IP_LATEST_IDS ")) " IP_LATEST_IDS;
#undef IP_LATEST_IDS
#undef IP_HOST
	sqlite3_stmt *q = prep(c, sql, addr);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		bool served = sqlite3_column_int(q, 7) == 1;
		bool delivered = col(q, 5) && strcmp(col(q, 5), addr) == 0;
		const char *role = served && delivered ? "delivered and served"
				   : served            ? "served (download server)"
						       : "delivered (attacker)";
		report_table_row(t);
		for (int k = 0; k < 7; k++)
			report_table_str(t, k == 1 ? role
						   : col(q, k == 0   ? 0
							    : k == 6 ? 6
								     : k - 1));
		tl_add(tl, col(q, 0), "samples", role, col(q, 4), col(q, 1));
	}
	sqlite3_finalize(q);
	report_link(c, t, 2, REPORT_LINK_SAMPLE);
	report_emit_table(c, "ip_samples", t, NULL);
}

static void sandbox(struct report_ctx *c, const char *addr, struct timeline *tl)
{
	static const char *const names[] = {"analysed", "role", "SHA-256", "family", "detail"};
	struct report_table *t =
		text_table("Sandbox verdicts naming it", names, LIB_ARRAY_LEN(names));
	sqlite3_stmt *q =
		prep(c,
		     "SELECT r.analysed, r.sha256, r.family, k.port, k.protocol, k.host"
		     " FROM box_cnc k JOIN box_results r ON r.id = k.result"
		     " WHERE k.ip = ?1 OR k.host = ?1 ORDER BY r.id DESC LIMIT " LIB_STR(IP_ROWS),
		     addr);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		char d[384];
		snprintf(d, sizeof(d), "%s port %d%s%s", col(q, 4) ? col(q, 4) : "?",
			 sqlite3_column_int(q, 3), col(q, 5) ? ", name " : "",
			 col(q, 5) ? col(q, 5) : "");
		report_table_row(t);
		report_table_str(t, col(q, 0));
		report_table_str(t, "C&C");
		report_table_str(t, col(q, 1));
		report_table_str(t, col(q, 2));
		report_table_str(t, d);
		tl_add(tl, col(q, 0), "sandbox", "C&C of a sample", d, col(q, 1));
	}
	sqlite3_finalize(q);
	q = prep(c,
		 "SELECT analysed, sha256, family, json_extract(verdict, '$.ddos.vector') FROM "
		 "box_results WHERE ddos = 1 AND instr(verdict, '\"' || ?1 || '\"') > 0"
		 " AND json_extract(verdict, '$.ddos.target') = ?1 ORDER BY id DESC LIMIT " LIB_STR(
			 IP_ROWS),
		 addr);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		char d[128];
		snprintf(d, sizeof(d), "DDoS (%s)", col(q, 3) ? col(q, 3) : "?");
		report_table_row(t);
		report_table_str(t, col(q, 0));
		report_table_str(t, "DDoS target");
		report_table_str(t, col(q, 1));
		report_table_str(t, col(q, 2));
		report_table_str(t, d);
		tl_add(tl, col(q, 0), "sandbox", "DDoS target of a sample", d, col(q, 1));
	}
	sqlite3_finalize(q);
	report_link(c, t, 2, REPORT_LINK_SAMPLE);
	report_emit_table(c, "ip_sandbox", t, NULL);
}

/* Labels of a scanner entry ("mirai, zmap"). */
static void labels_of(const json_t *s, char *out, size_t n)
{
	out[0] = 0;
	size_t i;
	const json_t *l;
	json_array_foreach(json_object_get(s, "labels"), i, l) {
		if (!json_is_string(l))
			continue;
		size_t len = strlen(out);
		snprintf(out + len, n - len, "%s%s", len ? ", " : "", json_string_value(l));
	}
}

/* The darknet table (emitted by the caller, after the headline that uses its first and last
 * times, which go into the JSON now). */
static struct report_table *darknet(struct report_ctx *c, const char *addr, struct timeline *tl)
{
	struct report_table *t = report_table_new("Darknet: scanning it did, attacks it suffered");
	static const char *const names[] = {"run",  "role",    "first",  "last",
					    "port", "packets", "labels", "country"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(names); i++)
		report_table_col(t, names[i], i == 0 || i == 5 ? REPORT_INT : REPORT_STR, 0);
	/* The run reports that mention it (a text search first: most do not). */
	sqlite3_stmt *q = prep(
		c,
		"SELECT r.id, j.value, 'scanner' FROM scope_runs r, "
		"json_each(r.report, '$.scanners.top') j"
		" WHERE instr(r.report, '\"' || ?1 || '\"') > 0 AND "
		"json_extract(j.value, '$.source') = ?1"
		" UNION ALL SELECT r.id, j.value, 'victim' FROM scope_runs r, "
		"json_each(r.report, '$.backscatter.attacks') j"
		" WHERE instr(r.report, '\"' || ?1 || '\"') > 0 AND "
		"json_extract(j.value, '$.victim') = ?1 ORDER BY 1 DESC LIMIT " LIB_STR(IP_ROWS),
		addr);
	json_t *first = NULL, *last = NULL;
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		json_t *s = json_loads(col(q, 1), 0, NULL);
		if (!s)
			continue;
		bool scanner = strcmp(col(q, 2), "scanner") == 0;
		const char *f = json_string_value(json_object_get(s, scanner ? "first" : "start"));
		const char *l = json_string_value(json_object_get(s, scanner ? "last" : "end"));
		char port[48] = "", labels[64];
		if (scanner)
			snprintf(port, sizeof(port), "%lld/%s",
				 (long long)json_integer_value(json_object_get(s, "port")),
				 json_string_value(json_object_get(s, "proto")) ?: "?");
		labels_of(s, labels, sizeof(labels));
		report_table_row(t);
		report_table_int(t, sqlite3_column_int64(q, 0));
		report_table_str(t, scanner ? "scanner" : "DoS victim (backscatter)");
		report_table_str(t, f);
		report_table_str(t, l);
		report_table_str(t, port);
		report_table_int(t, json_integer_value(json_object_get(s, "packets")));
		report_table_str(t, labels);
		report_table_str(t, json_string_value(json_object_get(s, "country")));
		char d[160];
		snprintf(d, sizeof(d), "%s%s%s", scanner ? "scanning " : "backscatter", port,
			 labels[0] ? " (" : "");
		if (labels[0])
			snprintf(d + strlen(d), sizeof(d) - strlen(d), "%s)", labels);
		tl_add(tl, f, "darknet", scanner ? "first scan packet" : "attack began", d, NULL);
		tl_add(tl, l, "darknet", scanner ? "last scan packet" : "attack ended", d, NULL);
		if (f && (!first || strcmp(f, json_string_value(first)) < 0)) {
			json_decref(first);
			first = json_string(f);
		}
		if (l && (!last || strcmp(l, json_string_value(last)) > 0)) {
			json_decref(last);
			last = json_string(l);
		}
		json_decref(s);
	}
	sqlite3_finalize(q);
	json_object_set_new(c->json, "darknet_first_seen", first ? first : json_null());
	json_object_set_new(c->json, "darknet_last_seen", last ? last : json_null());
	return t;
}

static void ident(struct report_ctx *c, const char *addr, struct timeline *tl)
{
	static const char *const names[] = {"time", "category", "vendor", "product", "evidence"};
	struct report_table *t = text_table("Device identification", names, LIB_ARRAY_LEN(names));
	sqlite3_stmt *q =
		prep(c,
		     "SELECT timestamp, json_extract(json, '$.category'), "
		     "json_extract(json, '$.vendor'), json_extract(json, '$.product'),"
		     " json_extract(json, '$.evidence') FROM events WHERE eventid = "
		     "'mitsu.ident.result' AND instr(json, ?1) > 0 AND (src_ip = ?1 OR "
		     "json_extract(json, '$.ip') = ?1) ORDER BY id DESC LIMIT " LIB_STR(IP_ROWS),
		     addr);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		report_table_row(t);
		for (int k = 0; k < 5; k++)
			report_table_str(t, col(q, k));
		char d[256];
		snprintf(d, sizeof(d), "%s %s %s", col(q, 1) ? col(q, 1) : "?",
			 col(q, 2) ? col(q, 2) : "", col(q, 3) ? col(q, 3) : "");
		tl_add(tl, col(q, 0), "ident", "device identified", d, NULL);
	}
	sqlite3_finalize(q);
	report_emit_table(c, "ip_ident", t, NULL);
}

/* Its sessions: how many, first and last from sessions_src_start alone (no row is read);
 * logins, commands and files from the rows of its latest IP_AGG_SESSIONS sessions (a busy
 * source has tens of thousands, each row a page of its own to read), "counted" says of how
 * many. */
static void summary(struct report_ctx *c, const char *addr, const char *latest)
{
	json_t *s = json_object();
	sqlite3_stmt *q = prep(c,
			       "SELECT count(*), min(start), max(start) FROM sessions WHERE "
			       "src_ip = ?1",
			       addr);
	if (q && sqlite3_step(q) == SQLITE_ROW) {
		json_object_set_new(s, "sessions", json_integer(sqlite3_column_int64(q, 0)));
		json_object_set_new(s, "first_session",
				    col(q, 1) ? json_string(col(q, 1)) : json_null());
		json_object_set_new(s, "last_session",
				    col(q, 2) ? json_string(col(q, 2)) : json_null());
	}
	sqlite3_finalize(q);
	char *sql =
		xasprintf("SELECT count(*), sum(login), sum(commands), sum(files) FROM %s", latest);
	q = prep(c, sql, addr);
	free(sql);
	if (q && sqlite3_step(q) == SQLITE_ROW) {
		json_object_set_new(s, "counted", json_integer(sqlite3_column_int64(q, 0)));
		json_object_set_new(s, "logins", json_integer(sqlite3_column_int64(q, 1)));
		json_object_set_new(s, "commands", json_integer(sqlite3_column_int64(q, 2)));
		json_object_set_new(s, "files", json_integer(sqlite3_column_int64(q, 3)));
	}
	sqlite3_finalize(q);
	json_object_set_new(c->json, "honeypot", s);
}

/* The summary table: what each part says in one line. */
static void headline(struct report_ctx *c, const char *addr)
{
	struct report_table *t = report_table_new(NULL);
	report_table_col(t, "field", REPORT_STR, 0);
	report_table_col(t, "value", REPORT_STR, 0);
	const json_t *g = json_object_get(c->json, "geo"),
		     *h = json_object_get(c->json, "honeypot");
	char v[512];
	report_table_row(t);
	report_table_str(t, "address");
	report_table_str(t, addr);
	snprintf(v, sizeof(v), "%s", json_string_value(json_object_get(g, "country")) ?: "unknown");
	report_table_row(t);
	report_table_str(t, "country");
	report_table_str(t, v);
	json_int_t asn = json_integer_value(json_object_get(g, "asn"));
	if (asn)
		snprintf(v, sizeof(v), "AS%lld %s", (long long)asn,
			 json_string_value(json_object_get(g, "as_name")) ?: "");
	else
		snprintf(v, sizeof(v), "unknown");
	report_table_row(t);
	report_table_str(t, "AS");
	report_table_str(t, v);
	json_int_t n = json_integer_value(json_object_get(h, "sessions")),
		   counted = json_integer_value(json_object_get(h, "counted"));
	int len = snprintf(v, sizeof(v), "%lld sessions, first %s, last %s; ", (long long)n,
			   json_string_value(json_object_get(h, "first_session")) ?: "-",
			   json_string_value(json_object_get(h, "last_session")) ?: "-");
	if (counted < n)
		len += snprintf(v + len, sizeof(v) - (size_t)len,
				"of its latest %lld: ", (long long)counted);
	snprintf(v + len, sizeof(v) - (size_t)len, "%lld with a login, %lld commands, %lld files",
		 (long long)json_integer_value(json_object_get(h, "logins")),
		 (long long)json_integer_value(json_object_get(h, "commands")),
		 (long long)json_integer_value(json_object_get(h, "files")));
	report_table_row(t);
	report_table_str(t, "honeypot");
	report_table_str(t, v);
	snprintf(v, sizeof(v), "first %s, last %s",
		 json_string_value(json_object_get(c->json, "darknet_first_seen")) ?: "-",
		 json_string_value(json_object_get(c->json, "darknet_last_seen")) ?: "-");
	report_table_row(t);
	report_table_str(t, "darknet");
	report_table_str(t, v);
	report_emit_table(c, "ip", t, NULL);
}

/* The time of one part of the page since *t0, into the debug log (`--log-level debug`). */
static void part_time(const char *part, uint64_t *t0)
{
	uint64_t now = lib_mono_us();
	log_debug("report", "ip: %s in %.1f ms", part, (double)(now - *t0) / 1000.0);
	*t0 = now;
}

int report_ip(struct report_ctx *c, const char *in, const char *location_db)
{
	char addr[46];
	if (report_ip_canonical(in, addr))
		return -EINVAL;
	json_object_set_new(c->json, "address", json_string(addr));
	struct timeline tl = {0};
	uint64_t t0 = lib_mono_us();
	geo(c, addr, location_db);
	part_time("geo", &t0);
	const char *latest = latest_sessions(c, addr);
	summary(c, addr, latest);
	part_time("summary", &t0);
	struct report_table *dark = darknet(c, addr, &tl);
	headline(c, addr);
	part_time("darknet", &t0);
	honeypot(c, addr, latest, &tl);
	part_time("honeypot", &t0);
	samples(c, addr, &tl);
	part_time("samples", &t0);
	sandbox(c, addr, &tl);
	part_time("sandbox", &t0);
	ident(c, addr, &tl);
	part_time("ident", &t0);
	report_emit_table(c, "ip_darknet", dark,
			  "from the scanners and DoS victims each mitsu scope run lists (the "
			  "busiest, scope.top of them)");
	tl_emit(c, &tl);
	return 0;
}
