/* The dashboard server: libmicrohttpd with its internal polling thread, a read-only SQLite
 * connection owned by that thread, the access rules (loopback, token, Host), the security
 * headers, and the dispatch of a request to its page (pages.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "web/mhd_dl.h"
#include "web/web_int.h"

#define WEB_COOKIE "mitsu_token"
/* Page cache of the server's read connection, KiB (SQLite's default is 2 MB): a page that scans
 * every sample and its latest verdict (the samples list searched or sorted by family or
 * verdict: the samples table and box_latest_verdict, ~6 MB on the bench store) finds them in
 * memory at the next request instead of reading them again through the OS. The cache grows to
 * this as pages are read: up to 14 MiB more than before (docs/operations.md, "The dashboard"). */
#define WEB_CACHE_KIB 16384

/* Every response: no script or style but our own files, images from us or data: URIs (the
 * charts), no framing, no referrer, no sniffing. */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
			  "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
			  "frame-ancestors 'none'; base-uri 'none'";

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

/* SQLite calls this every few thousand steps: a non-zero answer interrupts the query. */
static int past_deadline(void *arg)
{
	struct web_server *w = arg;
	return w->deadline_us && lib_mono_us() > w->deadline_us;
}

sqlite3 *web_db(struct web_server *w)
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
		/* temp_store stays FILE: a sort of the samples list (5 MB for every sample of
		 * the bench store) fits in the cache; a larger temporary B-tree (a distinct count
		 * over millions of rows) spills to a file instead of growing the process. */
		char pragmas[64];
		snprintf(pragmas, sizeof(pragmas), "PRAGMA cache_size=-%d;", WEB_CACHE_KIB);
		sqlite3_exec(w->db, pragmas, NULL, NULL, NULL);
		sqlite3_progress_handler(w->db, 10000, past_deadline, w);
	}
	free(path);
	return w->db;
}

/* The roll-up's worker thread: a catch-up now and then every REPORT_ROLLUP_PERIOD seconds,
 * off the sensor's loop and the server's thread; pages use raw queries until it covers them. */
static void *roll_main(void *arg)
{
	struct web_server *w = arg;
	bool first = true;
	pthread_mutex_lock(&w->roll_lock);
	while (!atomic_load(&w->roll_stop)) {
		pthread_mutex_unlock(&w->roll_lock);
		uint64_t t0 = lib_mono_us();
		int rc = report_rollup_catchup(w->data_dir, &w->roll_stop);
		double secs = (double)(lib_mono_us() - t0) / 1e6;
		if (rc < 0 && rc != -ENOENT && first)
			log_info("web", "no roll-up (report.db: %s): pages read the store alone",
				 strerror(-rc));
		else if (rc > 0 && first)
			log_info("web", "roll-up (report.db): %d hours in %.1f s", rc, secs);
		else if (rc > 0)
			log_debug("web", "roll-up (report.db): %d hours in %.1f s", rc, secs);
		first = false;
		pthread_mutex_lock(&w->roll_lock);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += REPORT_ROLLUP_PERIOD;
		if (!atomic_load(&w->roll_stop))
			pthread_cond_timedwait(&w->roll_wake, &w->roll_lock, &until);
	}
	pthread_mutex_unlock(&w->roll_lock);
	return NULL;
}

static void roll_start(struct web_server *w)
{
	atomic_init(&w->roll_stop, false);
	pthread_mutex_init(&w->roll_lock, NULL);
	pthread_cond_init(&w->roll_wake, NULL);
	w->roll_started = pthread_create(&w->roll_thread, NULL, roll_main, w) == 0;
}

static void roll_stop(struct web_server *w)
{
	if (!w->roll_started)
		return;
	pthread_mutex_lock(&w->roll_lock);
	atomic_store(&w->roll_stop, true);
	pthread_cond_signal(&w->roll_wake);
	pthread_mutex_unlock(&w->roll_lock);
	pthread_join(w->roll_thread, NULL);
	pthread_mutex_destroy(&w->roll_lock);
	pthread_cond_destroy(&w->roll_wake);
	w->roll_started = false;
}

static void security_headers(struct MHD_Response *r)
{
	web_MHD_add_response_header(r, "Cache-Control", "no-store");
	web_MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	web_MHD_add_response_header(r, "Content-Security-Policy", csp);
	web_MHD_add_response_header(r, "X-Frame-Options", "DENY");
	web_MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	web_MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	web_MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct web_reply *rep,
				  const char *cookie)
{
	size_t len;
	uint8_t *body = buf_steal(&rep->body, &len);
	struct MHD_Response *r =
		web_MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	web_MHD_add_response_header(r, "Content-Type", rep->type);
	security_headers(r);
	if (cookie)
		web_MHD_add_response_header(r, "Set-Cookie", cookie);
	enum MHD_Result rc = web_MHD_queue_response(c, rep->status, r);
	web_MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct web_reply rep = {.status = status, .type = "text/plain; charset=utf-8"};
	buf_init(&rep.body, 0);
	buf_append_str(&rep.body, text);
	buf_append_str(&rep.body, "\n");
	return send_reply(c, &rep, NULL);
}

static bool same_secret(const char *given, const char *token)
{
	size_t a = strlen(given), b = strlen(token);
	unsigned diff = (unsigned)(a ^ b);
	for (size_t i = 0; i < b; i++)
		diff |= (unsigned)(given[i < a ? i : 0] ^ token[i]);
	return diff == 0;
}

/* 0: allowed; 1: allowed by ?token= (set the cookie); -1: refused. */
static int token_check(struct web_server *w, struct MHD_Connection *c)
{
	if (!w->token[0])
		return 0;
	const char *auth = web_MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (auth && lib_str_prefix(auth, "Bearer ") && same_secret(auth + 7, w->token))
		return 0;
	const char *cookie = web_MHD_lookup_connection_value(c, MHD_COOKIE_KIND, WEB_COOKIE);
	if (cookie && same_secret(cookie, w->token))
		return 0;
	const char *arg = web_MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	if (arg && same_secret(arg, w->token))
		return 1;
	return -1;
}

/* Without a token, only requests addressed to an IP address or localhost: a page elsewhere
 * cannot rebind its own name to 127.0.0.1 and read the dashboard. */
static bool host_ok(struct web_server *w, struct MHD_Connection *c)
{
	if (w->token[0])
		return true;
	const char *host = web_MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	if (!host)
		return true; /* HTTP/1.0 */
	char h[64];
	int port;
	if (lib_parse_hostport(host, h, sizeof(h), &port) != 0) {
		lib_strlcpy(h, host, sizeof(h));
		if (h[0] == '[') { /* [::1] without a port */
			size_t n = strcspn(h + 1, "]");
			memmove(h, h + 1, n);
			h[n] = 0;
		}
	}
	struct in6_addr a6;
	return strcmp(h, "localhost") == 0 || inet_pton(AF_INET, h, &a6) == 1 ||
	       inet_pton(AF_INET6, h, &a6) == 1;
}

struct args_ctx {
	struct web_query *q;
	int64_t now;
	char err[128];
	bool bad;
};

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			      const char *value)
{
	struct args_ctx *a = cls;
	if (a->bad)
		return MHD_NO;
	if (strlen(key) > WEB_MAX_KEY || (value && strlen(value) > WEB_MAX_VALUE) ||
	    web_query_set(a->q, key, value, a->now, a->err, sizeof(a->err))) {
		if (!a->err[0])
			snprintf(a->err, sizeof(a->err), "parameter too long");
		a->bad = true;
		return MHD_NO;
	}
	return MHD_YES;
}

/* The sandbox's capture of a sample, as a download. */
static enum MHD_Result send_pcap(struct web_server *w, struct MHD_Connection *c, const char *sha)
{
	struct core_store st = {.db = web_db(w), .data_dir = w->data_dir};
	struct report_ctx rc = {.store = &st};
	char *path = report_sample_pcap(&rc, sha);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return send_text(c, 404, "no capture for this sample");
	}
	struct MHD_Response *r = web_MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	char disp[128];
	snprintf(disp, sizeof(disp), "attachment; filename=\"%.16s-capture.pcap\"", sha);
	web_MHD_add_response_header(r, "Content-Type", "application/vnd.tcpdump.pcap");
	web_MHD_add_response_header(r, "Content-Disposition", disp);
	security_headers(r);
	enum MHD_Result ret = web_MHD_queue_response(c, 200, r);
	web_MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct web_server *w = cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_text(c, 405, "method not allowed");
	if (!host_ok(w, c))
		return send_text(c, 421, "this dashboard answers to its address or localhost");
	int tok = token_check(w, c);
	if (tok < 0)
		return send_text(c, 401, "token required");
	struct web_query q;
	web_query_init(&q);
	struct args_ctx a = {.q = &q, .now = lib_real_us() / 1000000};
	web_MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_arg, &a);
	if (a.bad)
		return send_text(c, 400, a.err);
	struct web_route r;
	if (web_route(url, &r))
		return send_text(c, 404, "not found");
	struct web_reply rep = {.status = 200};
	buf_init(&rep.body, 0);
	w->deadline_us = lib_mono_us() + WEB_QUERY_SECONDS * 1000000ull;
	switch (r.kind) {
	case WEB_R_SCRIPT:
		rep.type = "text/javascript; charset=utf-8";
		buf_append_str(&rep.body, web_app_js);
		break;
	case WEB_R_STYLE:
		rep.type = "text/css; charset=utf-8";
		buf_append_str(&rep.body, web_style_css);
		break;
	case WEB_R_ICON:
		rep.type = "image/svg+xml";
		buf_append_str(&rep.body, web_icon_svg);
		break;
	case WEB_R_PCAP: buf_free(&rep.body); return send_pcap(w, c, r.arg);
	case WEB_R_EVENTS: web_render_events(w, &q, &rep); break;
	default: web_render(w, &r, &q, &rep); break;
	}
	char *cookie =
		tok == 1 ? xasprintf(WEB_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/", w->token)
			 : NULL;
	enum MHD_Result ret = send_reply(c, &rep, cookie);
	free(cookie);
	return ret;
}

/* The token becomes a cookie value and a header: only printable ASCII without separators. */
static bool token_chars_ok(const char *t)
{
	for (; *t; t++)
		if (*t <= ' ' || *t >= 0x7f || *t == ';' || *t == ',' || *t == '"' || *t == '\\')
			return false;
	return true;
}

LIB_DL_LIBRARY(web_mhd_load, WEB_MHD_SONAME, WEB_MHD_PACKAGE, WEB_MHD_SYMBOLS)

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
	char why[256];
	if (web_mhd_load(why, sizeof(why))) {
		log_error("web", "cannot load libmicrohttpd: %s", why);
		return -ENOENT;
	}
	const char *token = core_cfg_str(cfg, OPT_WEB_TOKEN);
	if (!is_loopback(host) && !token[0]) {
		log_error("web", "the dashboard on %s (not loopback) needs web.token", listen);
		return -EPERM;
	}
	if (!token_chars_ok(token)) {
		log_error("web",
			  "web.token: use letters, digits and punctuation (no spaces, ;,\"\\)");
		return -EINVAL;
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
	w->location_db = xstrdup(core_cfg_str(cfg, OPT_SCOPE_LOCATION_DB));
	w->refresh = (int)core_cfg_int(cfg, OPT_WEB_REFRESH);
	w->daemon = web_MHD_start_daemon(
		flags, (uint16_t)port, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONNECTION_TIMEOUT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
	if (!w->daemon) {
		log_error("web", "cannot listen on %s", listen);
		web_stop(w);
		return -EADDRINUSE;
	}
	const union MHD_DaemonInfo *info =
		web_MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
	w->port = info ? info->port : port;
	log_info("web", "dashboard on http://%s/%s", listen, token[0] ? " (token required)" : "");
	roll_start(w);
	*out = w;
	return 0;
}

int web_port(const struct web_server *w)
{
	return w ? w->port : 0;
}

void web_stop(struct web_server *w)
{
	if (!w)
		return;
	roll_stop(w);
	if (w->daemon)
		web_MHD_stop_daemon(w->daemon);
	sqlite3_close(w->db);
	free(w->data_dir);
	free(w->token);
	free(w->sensor);
	free(w->location_db);
	free(w);
}
