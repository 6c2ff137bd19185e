/* The dashboard server: libmicrohttpd with its internal polling thread, a read-only SQLite
 * connection owned by that thread, bounded queries, JSON answers. */
#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "box/box.h"
#include "web/page.h"

/* Bounds: connections at once, seconds a connection may idle, rows any list returns. */
#define WEB_MAX_CONNECTIONS 32
#define WEB_CONNECTION_TIMEOUT 10
#define WEB_MAX_ROWS 200
/* The dashboard's top lists look at this many hours of events (uses the eventid index). */
#define WEB_WINDOW_HOURS 24

struct web_server {
	struct MHD_Daemon *daemon;
	sqlite3 *db; /* used only from the MHD thread */
	char *data_dir;
	char *token;
	char *sensor;
};

static bool is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/* The store may not exist before the sensor's first start; open lazily. */
static sqlite3 *db_of(struct web_server *w)
{
	if (w->db)
		return w->db;
	char *path = core_data_path(w->data_dir, "mitsu.db");
	if (sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(w->db);
		w->db = NULL;
	} else {
		sqlite3_busy_timeout(w->db, 2000);
	}
	free(path);
	return w->db;
}

/* Runs a query and returns its rows as an array of objects named by the columns. */
static json_t *rows(struct web_server *w, const char *sql, const char *bind1, long long bind2)
{
	json_t *arr = json_array();
	sqlite3 *db = db_of(w);
	sqlite3_stmt *q;
	if (!db || sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return arr;
	if (bind1)
		sqlite3_bind_text(q, 1, bind1, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, bind2);
	int n = 0;
	while (n++ < WEB_MAX_ROWS && sqlite3_step(q) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < sqlite3_column_count(q); i++) {
			const char *name = sqlite3_column_name(q, i);
			switch (sqlite3_column_type(q, i)) {
			case SQLITE_INTEGER:
				json_object_set_new(o, name,
						    json_integer(sqlite3_column_int64(q, i)));
				break;
			case SQLITE_FLOAT:
				json_object_set_new(o, name,
						    json_real(sqlite3_column_double(q, i)));
				break;
			case SQLITE_NULL: json_object_set_new(o, name, json_null()); break;
			default:
				json_object_set_new(
					o, name,
					core_json_bytes(sqlite3_column_text(q, i),
							(size_t)sqlite3_column_bytes(q, i)));
			}
		}
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(q);
	return arr;
}

static json_t *scalar_row(struct web_server *w, const char *sql, const char *bind1)
{
	json_t *r = rows(w, sql, bind1, 0);
	json_t *o = json_array_size(r) ? json_incref(json_array_get(r, 0)) : json_object();
	json_decref(r);
	return o;
}

static json_t *summary(struct web_server *w)
{
	char since[LIB_RFC3339_LEN];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec -= WEB_WINDOW_HOURS * 3600;
	lib_rfc3339(&ts, since);
	json_t *o = json_object();
	char now[LIB_RFC3339_LEN];
	lib_rfc3339_now(now);
	json_object_set_new(o, "sensor", core_json_str(w->sensor));
	json_object_set_new(o, "now", json_string(now));
	json_object_set_new(o, "window_hours", json_integer(WEB_WINDOW_HOURS));
	json_object_set_new(
		o, "totals",
		scalar_row(w,
			   "SELECT count(*) AS sessions, count(DISTINCT src_ip) AS sources,"
			   " coalesce(sum(login), 0) AS logins, coalesce(sum(commands), 0) AS "
			   "commands,"
			   " coalesce(sum(downloads), 0) AS downloads, coalesce(sum(uploads), 0) "
			   "AS uploads,"
			   " (SELECT count(*) FROM samples) AS samples FROM sessions",
			   NULL));
	json_object_set_new(o, "top_credentials",
			    rows(w,
				 "SELECT json_extract(json, '$.username') AS username, "
				 "json_extract(json, '$.password') AS password,"
				 " count(*) AS attempts, sum(eventid = 'mitsu.login.success') AS "
				 "accepted FROM events"
				 " WHERE eventid IN ('mitsu.login.success', 'mitsu.login.failed') "
				 "AND timestamp >= ?1"
				 " GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 15",
				 since, 0));
	json_object_set_new(o, "top_commands",
			    rows(w,
				 "SELECT substr(json_extract(json, '$.input'), 1, 200) AS input, "
				 "count(*) AS count FROM events"
				 " WHERE eventid = 'mitsu.command.input' AND timestamp >= ?1 GROUP "
				 "BY 1 ORDER BY 2 DESC LIMIT 15",
				 since, 0));
	json_object_set_new(
		o, "top_sources",
		rows(w,
		     "SELECT src_ip, count(*) AS sessions, sum(login) AS logins FROM sessions"
		     " WHERE start >= ?1 GROUP BY 1 ORDER BY 2 DESC LIMIT 15",
		     since, 0));
	json_object_set_new(o, "sessions_per_hour",
			    rows(w,
				 "SELECT substr(start, 1, 13) || ':00Z' AS hour, count(*) AS "
				 "sessions, sum(login) AS logins"
				 " FROM sessions WHERE start >= ?1 GROUP BY 1 ORDER BY 1",
				 since, 0));
	json_object_set_new(o, "recent_sessions",
			    rows(w,
				 "SELECT session, start, src_ip, dst_port, profile, duration, "
				 "login, username, password,"
				 " commands, downloads, uploads, reason FROM sessions ORDER BY "
				 "rowid DESC LIMIT 25",
				 NULL, 0));
	json_object_set_new(o, "downloads",
			    rows(w,
				 "SELECT timestamp, src_ip, json_extract(json, '$.url') AS url, "
				 "json_extract(json, '$.shasum') AS shasum,"
				 " json_extract(json, '$.size') AS size, eventid = "
				 "'mitsu.session.file_download' AS ok,"
				 " json_extract(json, '$.error') AS error FROM events"
				 " WHERE eventid IN ('mitsu.session.file_download', "
				 "'mitsu.session.file_download.failed')"
				 " ORDER BY id DESC LIMIT 25",
				 NULL, 0));
	json_object_set_new(o, "samples",
			    rows(w,
				 "SELECT sha256, size, filetype, arch, times_seen, first_seen, "
				 "last_seen FROM samples"
				 " ORDER BY first_seen DESC LIMIT 25",
				 NULL, 0));
	/* The sandbox's verdicts and the seed's testbed table, through the box module's queries. */
	struct core_store st = {.db = db_of(w), .data_dir = w->data_dir};
	json_t *x;
	if (st.db && box_report_samples(&st, 25, &x) == 0)
		json_object_set_new(o, "verdicts", x);
	if (st.db && box_report_testbed(&st, &x) == 0)
		json_object_set_new(o, "testbed", x);
	if (st.db && box_report_summary(&st, &x) == 0)
		json_object_set_new(o, "sandbox", x);
	/* The darknet: the latest analysed intervals (mitsu scope --data-dir). */
	json_object_set_new(
		o, "darknet",
		rows(w,
		     "SELECT start, packets, sources, round(100.0 * telnet / max(packets, 1), 1) "
		     "AS telnet_percent,"
		     " mirai_sources, backscatter_victims, scanners FROM scope_intervals"
		     " WHERE run_id = (SELECT max(run_id) FROM scope_intervals) ORDER BY "
		     "start_unix DESC LIMIT 48",
		     NULL, 0));
	return o;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
			       char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; style-src 'unsafe-inline'; script-src "
				"'unsafe-inline'; img-src 'self' data:");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result respond_json(struct MHD_Connection *c, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		return respond(c, 500, "text/plain", xstrdup("error\n"), 6);
	return respond(c, 200, "application/json", s, strlen(s));
}

static bool token_ok(struct web_server *w, struct MHD_Connection *c)
{
	if (!w->token[0])
		return true;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *given = NULL;
	if (auth && lib_str_prefix(auth, "Bearer "))
		given = auth + 7;
	else
		given = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	if (!given)
		return false;
	size_t a = strlen(given), b = strlen(w->token);
	unsigned diff = (unsigned)(a ^ b);
	for (size_t i = 0; i < b; i++)
		diff |= (unsigned)(given[i < a ? i : 0] ^ w->token[i]);
	return diff == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct web_server *w = cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond(c, 405, "text/plain", xstrdup("method not allowed\n"), 19);
	if (!token_ok(w, c))
		return respond(c, 401, "text/plain", xstrdup("token required\n"), 15);
	if (strcmp(url, "/") == 0)
		return respond(c, 200, "text/html; charset=utf-8", xstrdup(web_page_html),
			       strlen(web_page_html));
	if (strcmp(url, "/api/summary") == 0)
		return respond_json(c, summary(w));
	if (strcmp(url, "/api/events") == 0) {
		const char *ls = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
		const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
		long long limit = 50;
		if (ls && (lib_parse_int(ls, &limit) || limit < 1 || limit > WEB_MAX_ROWS))
			return respond(c, 400, "text/plain", xstrdup("bad limit\n"), 10);
		json_t *r = rows(w,
				 "SELECT json FROM events WHERE (?1 IS NULL OR eventid = ?1)"
				 " ORDER BY id DESC LIMIT ?2",
				 type, limit);
		/* Each row's json column is an event: return the events themselves. */
		json_t *out = json_array();
		size_t i;
		json_t *row;
		json_array_foreach(r, i, row) {
			json_t *ev = json_loads(json_string_value(json_object_get(row, "json")), 0,
						NULL);
			if (ev)
				json_array_append_new(out, ev);
		}
		json_decref(r);
		return respond_json(c, out);
	}
	return respond(c, 404, "text/plain", xstrdup("not found\n"), 10);
}

int web_start(struct web_server **out, const struct core_config *cfg)
{
	*out = NULL;
	const char *listen = core_cfg_str(cfg, OPT_WEB_LISTEN);
	if (!listen[0])
		return 0;
	char host[64];
	int port;
	if (lib_parse_hostport(listen, host, sizeof(host), &port)) {
		log_error("web", "web.listen must be ADDR:PORT, not %s", listen);
		return -EINVAL;
	}
	const char *token = core_cfg_str(cfg, OPT_WEB_TOKEN);
	if (!is_loopback(host) && !token[0]) {
		log_error("web", "the dashboard on %s (not loopback) needs web.token", listen);
		return -EPERM;
	}
	struct sockaddr_storage ss = {0};
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		log_error("web", "web.listen: %s is not an IP address", host);
		return -EINVAL;
	}
	struct web_server *w = xcalloc(1, sizeof(*w));
	w->data_dir = xstrdup(core_cfg_str(cfg, OPT_CORE_DATA_DIR));
	w->token = xstrdup(token);
	w->sensor = xstrdup(core_cfg_str(cfg, OPT_SENSOR_NAME));
	w->daemon = MHD_start_daemon(
		flags, (uint16_t)port, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONNECTION_TIMEOUT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
	if (!w->daemon) {
		log_error("web", "cannot listen on %s", listen);
		web_stop(w);
		return -EADDRINUSE;
	}
	log_info("web", "dashboard on http://%s/%s", listen, token[0] ? " (token required)" : "");
	*out = w;
	return 0;
}

void web_stop(struct web_server *w)
{
	if (!w)
		return;
	if (w->daemon)
		MHD_stop_daemon(w->daemon);
	sqlite3_close(w->db);
	free(w->data_dir);
	free(w->token);
	free(w->sensor);
	free(w);
}
