/* Unit tests of src/webui (fed by the HTTP parser of src/sensor) and the web profiles: every
 * shipped web profile loads with the login the issue gives it; every exploit signature has a
 * sample request that is labelled with it and only it; Basic, Digest (checked against RFC
 * 2617's own example) and form logins; every action reflects its change; the per-source table
 * stays bounded; and the fields the web events carry are exactly those docs/events.md lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/proto/http_parse.h"
#include "webui/webui.h"

#define SHIPPED MITSU_SOURCE_DIR "/profiles"
#define RULES MITSU_SOURCE_DIR "/rules/exploits"

static struct profile_set web;
static struct webui *ui;

/* Events the engine emitted, and URLs and files it handed over. */
static json_t *events;
static int fetches, stores;

static void io_emit(void *arg, enum core_event id, json_t *fields, const char *message)
{
	json_object_set_new(fields, "eventid", json_string(core_events[id].name));
	json_array_append_new(events, fields);
}

static void io_fetch(void *arg, const char *url, const char *method)
{
	fetches++;
}

static void io_store(void *arg, const void *data, size_t len, const char *method,
		     const char *destfile)
{
	stores++;
}

static const struct webui_io io = {.emit = io_emit, .fetch = io_fetch, .store = io_store};

static int setup(void **state)
{
	char err[512];
	if (profile_web_load_all(SHIPPED, &web, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	struct webui_config cfg = {.rules_dir = RULES, .max_peers = 100, .nonce_ms = 60000};
	if (webui_open(&ui, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	events = json_array();
	return 0;
}

static int teardown(void **state)
{
	webui_close(ui);
	profile_web_set_free(&web);
	json_decref(events);
	return 0;
}

static const struct sensor_http_limits lim = {
	.max_line = 8192, .max_headers = 64, .max_head = 32768, .max_body = 1 << 20};

/* Sends one raw request from src to the profile; returns the response (caller frees). */
static char *send_raw(const char *profile, const char *src, const void *raw, size_t n)
{
	const struct profile *p = profile_set_find(&web, profile);
	if (!p)
		fail_msg("no web profile %s", profile);
	struct sensor_http_parser hp;
	sensor_http_init(&hp, &lim);
	size_t used;
	enum sensor_http_status st = sensor_http_feed(&hp, raw, n, &used);
	if (st != SENSOR_HTTP_DONE)
		fail_msg("request not parsed (%d): %.*s", st, (int)LIB_MIN(n, 200),
			 (const char *)raw);
	struct buf out;
	buf_init(&out, 0);
	webui_handle(ui, p, src, sensor_http_request(&hp), &io, &out);
	sensor_http_free(&hp);
	size_t len;
	return (char *)buf_steal(&out, &len);
}

static char *send_req(const char *profile, const char *src, const char *fmt, ...) LIB_PRINTF(3, 4);
static char *send_req(const char *profile, const char *src, const char *fmt, ...)
{
	char req[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	return send_raw(profile, src, req, (size_t)n);
}

static int status_of(const char *resp)
{
	int code = 0;
	sscanf(resp, "HTTP/1.%*d %d", &code);
	return code;
}

/* The last event of that id, or NULL. */
static json_t *last(const char *eventid)
{
	for (size_t i = json_array_size(events); i-- > 0;) {
		json_t *e = json_array_get(events, i);
		if (strcmp(json_string_value(json_object_get(e, "eventid")), eventid) == 0)
			return e;
	}
	return NULL;
}

static const char *str(json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

/* ------------------------------------------------------------------ profiles */

static void test_shipped_profiles(void **state)
{
	static const struct {
		const char *name;
		unsigned auth;
	} want[] = {
		{"ipcam-a", PROFILE_AUTH_BASIC | PROFILE_AUTH_DIGEST},
		{"ipcam-b", PROFILE_AUTH_BASIC},
		{"router-c", PROFILE_AUTH_BASIC},
		{"router-d", PROFILE_AUTH_BASIC},
		{"router-e", PROFILE_AUTH_FORM},
		{"pocket-f", PROFILE_AUTH_FORM},
		{"pocket-g", PROFILE_AUTH_FORM},
		{"printer-h", 0},
		{"receiver-i", 0},
		{"hg532", 0},
		{"realtek-igd", 0},
		{"tr064", 0},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(want); i++) {
		const struct profile *p = profile_set_find(&web, want[i].name);
		if (!p)
			fail_msg("web profile %s is not shipped", want[i].name);
		assert_int_equal(p->web->auth, want[i].auth);
		assert_true(p->web->server[0]);
		/* Every login device ships admin/<something> as attackers try first. */
		if (p->web->auth)
			assert_string_equal(p->web->creds[0].username, "admin");
	}
	assert_int_equal(web.count, LIB_ARRAY_LEN(want));
}

static void test_bad_profile(void **state)
{
	char dir[] = "/tmp/mitsu-webprof-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *sub = xasprintf("%s/bad", dir);
	char *www = xasprintf("%s/www", sub);
	lib_mkdirs(www, 0755);
	char *ini = xasprintf("%s/web.ini", sub);
	static const char *const cases[][2] = {
		{"[device]\ndescription=x\ncategory=y\n[http]\nheaders=server\n[pages]\n/=-> /x\n"
		 "[actions]\nteleport = GET /t -> /\n",
		 "unknown action 'teleport'"},
		{"[device]\ndescription=x\ncategory=y\n[http]\nheaders=server nope\n[pages]\n/=-> "
		 "/x\n",
		 "'nope' is neither built in"},
		{"[device]\ndescription=x\ncategory=y\n[http]\nheaders=server\nauth=basic\n[pages]"
		 "\n/=-> "
		 "/x\n",
		 "realm is required"},
		{"[device]\ndescription=x\ncategory=y\n[http]\nheaders=server\n[pages]\n/"
		 "=missing.html\n",
		 "www/missing.html"},
		{"[device]\ndescription=x\ncategory=y\n[http]\nheaders=server\n[pages]\n/=../../"
		 "etc/passwd\n",
		 "without '..'"},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cases); i++) {
		assert_int_equal(lib_write_file_atomic(ini, cases[i][0], strlen(cases[i][0]), 0644),
				 0);
		struct profile *p = NULL;
		char err[512] = "";
		assert_int_equal(profile_web_load(sub, &p, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i][1]))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i][1]);
		assert_null(p);
	}
	char *cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(ini);
	free(www);
	free(sub);
}

/* ------------------------------------------------------------------ signatures */

static void test_signature_samples(void **state)
{
	DIR *d = opendir(RULES "/samples");
	assert_non_null(d);
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d))) {
		if (!lib_str_suffix(de->d_name, ".http"))
			continue;
		char *path = xasprintf("%s/samples/%s", RULES, de->d_name);
		uint8_t *data;
		size_t len;
		assert_int_equal(lib_read_file(path, 1 << 20, &data, &len), 0);
		struct sensor_http_parser hp;
		sensor_http_init(&hp, &lim);
		size_t used;
		assert_int_equal(sensor_http_feed(&hp, data, len, &used), SENSOR_HTTP_DONE);
		const char *ids[8];
		size_t m = webui_exploits(ui, sensor_http_request(&hp), ids, 8);
		char want[128];
		lib_strlcpy(want, de->d_name, sizeof(want));
		want[strlen(want) - 5] = '\0';
		if (m != 1 || strcmp(ids[0], want) != 0)
			fail_msg("%s is labelled %zu times, first %s", de->d_name, m,
				 m ? ids[0] : "(none)");
		sensor_http_free(&hp);
		free(data);
		free(path);
		n++;
	}
	closedir(d);
	/* One sample per signature, and at least the fifteen of webui_devid.md §3. */
	assert_int_equal(n, webui_nrules(ui));
	assert_true(n >= 15);
	/* An ordinary page request is labelled with nothing. */
	static const char plain[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
	struct sensor_http_parser hp;
	sensor_http_init(&hp, &lim);
	size_t used;
	sensor_http_feed(&hp, plain, sizeof(plain) - 1, &used);
	const char *ids[8];
	assert_int_equal(webui_exploits(ui, sensor_http_request(&hp), ids, 8), 0);
	sensor_http_free(&hp);
}

static void test_exploit_payload(void **state)
{
	char *path = xasprintf("%s/samples/realtek-miniigd-rce.http", RULES);
	uint8_t *data;
	size_t len;
	assert_int_equal(lib_read_file(path, 1 << 20, &data, &len), 0);
	fetches = 0;
	free(send_raw("realtek-igd", "10.0.0.1", data, len));
	json_t *e = last("mitsu.exploit.match");
	assert_string_equal(str(e, "signature"), "realtek-miniigd-rce");
	assert_string_equal(str(e, "cve"), "CVE-2014-8361");
	assert_int_equal(fetches, 1);
	free(data);
	free(path);
}

/* ------------------------------------------------------------------ logins */

static void test_basic(void **state)
{
	char *r = send_req("router-c", "10.0.0.2", "GET /index.html HTTP/1.0\r\n\r\n");
	assert_int_equal(status_of(r), 401);
	assert_non_null(strstr(r, "\r\nWWW-Authenticate: Basic realm=\"Wireless Router\"\r\n"));
	assert_true(lib_str_prefix(r, "HTTP/1.0 401 Unauthorized\r\nServer: mini_httpd/1.19 "
				      "19dec2003\r\n"));
	free(r);
	/* admin:wrong, then root:admin */
	r = send_req("router-c", "10.0.0.2",
		     "GET /index.html HTTP/1.0\r\nAuthorization: Basic YWRtaW46d3Jvbmc=\r\n\r\n");
	assert_int_equal(status_of(r), 401);
	json_t *e = last("mitsu.http.login");
	assert_string_equal(str(e, "password"), "wrong");
	assert_false(json_is_true(json_object_get(e, "success")));
	free(r);
	r = send_req("router-c", "10.0.0.2",
		     "GET /index.html HTTP/1.0\r\nAuthorization: Basic cm9vdDphZG1pbg==\r\n\r\n");
	assert_int_equal(status_of(r), 200);
	e = last("mitsu.http.login");
	assert_string_equal(str(e, "scheme"), "basic");
	assert_string_equal(str(e, "username"), "root");
	assert_true(json_is_true(json_object_get(e, "success")));
	free(r);
}

static void md5_hex(char out[33], const char *fmt, ...) LIB_PRINTF(2, 3);
static void md5_hex(char out[33], const char *fmt, ...)
{
	char s[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	uint8_t h[16];
	unsigned hl;
	EVP_Digest(s, strlen(s), h, &hl, EVP_md5(), NULL);
	lib_hex(h, 16, out);
}

/* RFC 2617 §3.2.2 response with qop=auth. */
static void digest_response(char out[33], const char *user, const char *realm, const char *pass,
			    const char *method, const char *uri, const char *nonce, const char *nc,
			    const char *cnonce)
{
	char ha1[33], ha2[33];
	md5_hex(ha1, "%s:%s:%s", user, realm, pass);
	md5_hex(ha2, "%s:%s", method, uri);
	md5_hex(out, "%s:%s:%s:%s:auth:%s", ha1, nonce, nc, cnonce, ha2);
}

static void test_digest(void **state)
{
	/* The test's own computation first checked against RFC 2617 §3.5. */
	char resp[33];
	digest_response(resp, "Mufasa", "testrealm@host.com", "Circle Of Life", "GET",
			"/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001",
			"0a4f113b");
	assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");

	char *r = send_req("ipcam-a", "10.0.0.3", "GET /cgi-bin/status.cgi HTTP/1.1\r\n\r\n");
	assert_int_equal(status_of(r), 401);
	const char *n = strstr(r, "nonce=\"");
	assert_non_null(n);
	char nonce[64];
	assert_int_equal(sscanf(n, "nonce=\"%63[0-9a-f]\"", nonce), 1);
	assert_non_null(
		strstr(r, "WWW-Authenticate: Digest realm=\"Network Camera\", qop=\"auth\""));
	free(r);
	static const char *const passwords[] = {"wrong", "12345"};
	for (int i = 0; i < 2; i++) {
		digest_response(resp, "admin", "Network Camera", passwords[i], "GET",
				"/cgi-bin/status.cgi", nonce, "00000001", "c0ffee");
		r = send_req(
			"ipcam-a", "10.0.0.3",
			"GET /cgi-bin/status.cgi HTTP/1.1\r\nAuthorization: Digest "
			"username=\"admin\", realm=\"Network Camera\", nonce=\"%s\", "
			"uri=\"/cgi-bin/status.cgi\", qop=auth, nc=00000001, cnonce=\"c0ffee\", "
			"response=\"%s\"\r\n\r\n",
			nonce, resp);
		json_t *e = last("mitsu.http.login");
		assert_string_equal(str(e, "scheme"), "digest");
		if (i == 0) {
			assert_int_equal(status_of(r), 401);
			assert_true(json_is_null(json_object_get(e, "password")));
			assert_false(json_is_true(json_object_get(e, "success")));
		} else {
			assert_int_equal(status_of(r), 200);
			/* known because it matched a profile credential */
			assert_string_equal(str(e, "password"), "12345");
			assert_true(json_is_true(json_object_get(e, "success")));
			json_t *a = last("mitsu.webui.action");
			assert_string_equal(str(a, "action"), "status");
			assert_string_equal(str(a, "intent"), "recon");
		}
		free(r);
	}
	/* A right answer to a nonce that was never given: stale, asked again. */
	digest_response(resp, "admin", "Network Camera", "12345", "GET", "/", "feedface", "1", "c");
	r = send_req(
		"ipcam-a", "10.0.0.3",
		"GET / HTTP/1.1\r\nAuthorization: Digest username=admin, realm=\"Network "
		"Camera\", nonce=feedface, uri=/, qop=auth, nc=1, cnonce=c, response=%s\r\n\r\n",
		resp);
	assert_int_equal(status_of(r), 401);
	assert_non_null(strstr(r, "stale=TRUE"));
	free(r);
}

static void test_form_and_actions(void **state)
{
	const char *src = "10.0.0.4";
	char *r = send_req("router-e", src, "GET /index.html HTTP/1.1\r\n\r\n");
	assert_int_equal(status_of(r), 302);
	assert_non_null(strstr(r, "\r\nLocation: /login.html\r\n"));
	free(r);
	r = send_req("router-e", src,
		     "POST /cgi-bin/login.cgi HTTP/1.1\r\nContent-Length: 29\r\n\r\n"
		     "username=admin&password=nope1");
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, "incorrect"));
	free(r);
	r = send_req("router-e", src,
		     "POST /cgi-bin/login.cgi HTTP/1.1\r\nContent-Length: 29\r\n\r\n"
		     "username=admin&password=admin");
	assert_int_equal(status_of(r), 302);
	char token[64];
	const char *c = strstr(r, "Set-Cookie: sid=");
	assert_non_null(c);
	assert_int_equal(sscanf(c, "Set-Cookie: sid=%32[0-9a-f]", token), 1);
	free(r);
	json_t *e = last("mitsu.http.login");
	assert_string_equal(str(e, "scheme"), "form");
	assert_true(json_is_true(json_object_get(e, "success")));

	/* Each setting change is reflected by the page behind it and the settings export. */
	static const struct {
		const char *path, *body, *action, *outcome, *shows;
	} acts[] = {
		{"/cgi-bin/dns.cgi", "dns1=203.0.113.53&dns2=203.0.113.54", "dns",
		 "redirect_to_malicious_sites", "dns1=203.0.113.53"},
		{"/cgi-bin/ddns.cgi", "ddns_provider=noip&ddns_host=evil.example", "ddns",
		 "stepping_stone", "ddns_host=evil.example"},
		{"/cgi-bin/vpn_server.cgi", "vpn_server_enable=1&vpn_server_type=pptp",
		 "vpn_server", "stepping_stone", "vpn_server_enable=1"},
		{"/cgi-bin/vpn_client.cgi", "vpn_client_enable=1&vpn_client_server=198.51.100.9",
		 "vpn_client", "stepping_stone", "vpn_client_server=198.51.100.9"},
		{"/cgi-bin/firewall.cgi", "firewall_enable=1&remote_mgmt=0", "firewall",
		 "monopolised_stepping_stone", "firewall_enable=1"},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(acts); i++) {
		r = send_req("router-e", src,
			     "POST %s HTTP/1.1\r\nCookie: lang=en; sid=%s\r\nContent-Length: "
			     "%zu\r\n\r\n%s",
			     acts[i].path, token, strlen(acts[i].body), acts[i].body);
		assert_int_equal(status_of(r), 200);
		free(r);
		e = last("mitsu.webui.action");
		assert_string_equal(str(e, "action"), acts[i].action);
		assert_string_equal(str(e, "intent"), "setting_change");
		assert_string_equal(str(e, "outcome"), acts[i].outcome);
		assert_true(json_object_size(json_object_get(e, "changes")) >= 1);
		r = send_req("router-e", src,
			     "GET /cgi-bin/config.bin HTTP/1.1\r\nCookie: sid=%s\r\n\r\n", token);
		if (!strstr(r, acts[i].shows))
			fail_msg("settings export does not show %s:\n%s", acts[i].shows, r);
		free(r);
	}
	/* Another source sees the factory settings. */
	r = send_req("router-e", "10.0.0.5",
		     "GET /cgi-bin/config.bin HTTP/1.1\r\nCookie: sid=%s\r\n\r\n", token);
	assert_int_equal(status_of(r), 302);
	free(r);
	/* The admin password: the old one stops working for this source. */
	r = send_req("router-e", src,
		     "POST /cgi-bin/password.cgi HTTP/1.1\r\nCookie: sid=%s\r\nContent-Length: "
		     "22\r\n\r\nadmin_password=pwn3d99",
		     token);
	assert_int_equal(status_of(r), 200);
	free(r);
	assert_string_equal(str(last("mitsu.webui.action"), "outcome"),
			    "monopolised_stepping_stone");
	r = send_req("router-e", src,
		     "POST /cgi-bin/login.cgi HTTP/1.1\r\nContent-Length: 29\r\n\r\n"
		     "username=admin&password=admin");
	assert_int_equal(status_of(r), 200);
	free(r);
	r = send_req("router-e", src,
		     "POST /cgi-bin/login.cgi HTTP/1.1\r\nContent-Length: 31\r\n\r\n"
		     "username=admin&password=pwn3d99");
	assert_int_equal(status_of(r), 302);
	c = strstr(r, "Set-Cookie: sid=");
	assert_int_equal(sscanf(c, "Set-Cookie: sid=%32[0-9a-f]", token), 1);
	free(r);
	/* Firmware upload: the file part goes to the sample store. */
	stores = 0;
	static const char part[] =
		"--XyZ\r\nContent-Disposition: form-data; name=\"firmware\"; "
		"filename=\"fw.bin\"\r\nContent-Type: application/octet-stream\r\n"
		"\r\n\x7f"
		"ELF-not-really\r\n--XyZ--\r\n";
	r = send_req("router-e", src,
		     "POST /cgi-bin/upgrade.cgi HTTP/1.1\r\nCookie: sid=%s\r\nContent-Type: "
		     "multipart/form-data; boundary=XyZ\r\nContent-Length: %zu\r\n\r\n%s",
		     token, sizeof(part) - 1, part);
	assert_int_equal(status_of(r), 200);
	free(r);
	e = last("mitsu.webui.action");
	assert_string_equal(str(e, "action"), "firmware_upload");
	assert_string_equal(str(e, "file"), "fw.bin");
	assert_int_equal(json_integer_value(json_object_get(e, "size")), 15);
	assert_int_equal(stores, 1);
	/* Reboot ends the connection and the session cookie. */
	r = send_req("router-e", src,
		     "POST /cgi-bin/reboot.cgi HTTP/1.1\r\nCookie: sid=%s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     token);
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, "Connection: close"));
	free(r);
	r = send_req("router-e", src, "GET /index.html HTTP/1.1\r\nCookie: sid=%s\r\n\r\n", token);
	assert_int_equal(status_of(r), 302);
	free(r);
}

static void test_camera_actions(void **state)
{
	const char *auth = "Authorization: Basic YWRtaW46\r\n"; /* admin: (empty) */
	char *r = send_req("ipcam-b", "10.0.0.6", "GET /snapshot.cgi HTTP/1.0\r\n%s\r\n", auth);
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, "Content-Type: image/jpeg\r\n"));
	assert_non_null(memmem(r, 400, "\r\n\r\n\xff\xd8\xff", 7));
	free(r);
	assert_string_equal(str(last("mitsu.webui.action"), "outcome"), "peeping");
	r = send_req("ipcam-b", "10.0.0.6", "GET /record_list.cgi HTTP/1.0\r\n%s\r\n", auth);
	assert_non_null(strstr(r, "<recordings"));
	free(r);
	assert_string_equal(str(last("mitsu.webui.action"), "action"), "recordings");
}

static void test_no_auth_and_errors(void **state)
{
	char *r = send_req(
		"printer-h", "10.0.0.7",
		"POST /login HTTP/1.1\r\nContent-Length: 26\r\n\r\nusername=admin&password=1x");
	json_t *e = last("mitsu.http.login");
	assert_string_equal(str(e, "scheme"), "form");
	assert_false(json_is_true(json_object_get(e, "success")));
	assert_int_equal(status_of(r), 404);
	free(r);
	r = send_req("printer-h", "10.0.0.7", "OPTIONS / HTTP/1.1\r\n\r\n");
	assert_int_equal(status_of(r), 501);
	free(r);
	struct buf out;
	buf_init(&out, 0);
	webui_error(ui, profile_set_find(&web, "router-d"), 431, &out);
	assert_true(lib_str_prefix((char *)out.data, "HTTP/1.0 431 Request Header Fields Too "
						     "Large\r\nDate: "));
	assert_non_null(strstr((char *)out.data, "\r\nServer: Boa/0.94.14rc21\r\n"));
	buf_free(&out);
}

static void test_peers_bounded(void **state)
{
	char err[256];
	struct webui *small;
	struct webui_config cfg = {.rules_dir = RULES, .max_peers = 2, .nonce_ms = 60000};
	assert_int_equal(webui_open(&small, &cfg, err, sizeof(err)), 0);
	struct webui *keep = ui;
	ui = small;
	/* 10.0.1.1 changes DNS; two other sources push it out; it sees the default again. */
	const char *auth = "Authorization: Basic YWRtaW46YWRtaW4=\r\n";
	free(send_req("router-d", "10.0.1.1",
		      "POST /goform/dns HTTP/1.0\r\n%sContent-Length: 13\r\n\r\ndns1=6.6.6.66",
		      auth));
	char *r =
		send_req("router-d", "10.0.1.1", "GET /goform/config.bin HTTP/1.0\r\n%s\r\n", auth);
	assert_non_null(strstr(r, "dns1=6.6.6.66"));
	free(r);
	free(send_req("router-d", "10.0.1.2", "GET / HTTP/1.0\r\n\r\n"));
	free(send_req("router-d", "10.0.1.3", "GET / HTTP/1.0\r\n\r\n"));
	r = send_req("router-d", "10.0.1.1", "GET /goform/config.bin HTTP/1.0\r\n%s\r\n", auth);
	assert_non_null(strstr(r, "dns1=192.168.1.1"));
	free(r);
	ui = keep;
	webui_close(small);
}

/* The fields of the four web events in docs/events.md are the fields the engine emits (the
 * events of the tests above, which ran every kind of request). */
static void test_event_fields_documented(void **state)
{
	static const char *const ids[] = {"mitsu.http.request", "mitsu.http.login",
					  "mitsu.webui.action", "mitsu.exploit.match"};
	uint8_t *doc;
	size_t len;
	assert_int_equal(lib_read_file(MITSU_SOURCE_DIR "/docs/events.md", 1 << 20, &doc, &len), 0);
	for (size_t i = 0; i < LIB_ARRAY_LEN(ids); i++) {
		char row[64];
		snprintf(row, sizeof(row), "\n| `%s` | ", ids[i]);
		const char *s = strstr((char *)doc, row);
		assert_non_null(s);
		s += strlen(row);
		const char *end = strstr(s, " | ");
		json_t *documented = json_object();
		for (const char *q = s; (q = memchr(q, '`', (size_t)(end - q))) && q < end;) {
			const char *qe = memchr(q + 1, '`', (size_t)(end - q - 1));
			char key[64];
			lib_strlcpy(key, q + 1, LIB_MIN(sizeof(key), (size_t)(qe - q)));
			json_object_set_new(documented, key, json_true());
			q = qe + 1;
		}
		json_t *emitted = json_object();
		size_t k;
		json_t *e;
		json_array_foreach(events, k, e) {
			if (strcmp(str(e, "eventid"), ids[i]) != 0)
				continue;
			const char *key;
			json_t *v;
			json_object_foreach(e, key, v) {
				if (strcmp(key, "eventid") != 0)
					json_object_set_new(emitted, key, json_true());
			}
		}
		char *d = json_dumps(documented, JSON_SORT_KEYS | JSON_COMPACT);
		char *m = json_dumps(emitted, JSON_SORT_KEYS | JSON_COMPACT);
		if (strcmp(d, m) != 0)
			fail_msg("%s: docs/events.md lists %s, the code emits %s", ids[i], d, m);
		free(d);
		free(m);
		json_decref(documented);
		json_decref(emitted);
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_profiles),
		cmocka_unit_test(test_bad_profile),
		cmocka_unit_test(test_signature_samples),
		cmocka_unit_test(test_exploit_payload),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_form_and_actions),
		cmocka_unit_test(test_camera_actions),
		cmocka_unit_test(test_no_auth_and_errors),
		cmocka_unit_test(test_peers_bounded),
		/* last: it checks the events of every test before it */
		cmocka_unit_test(test_event_fields_documented),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
