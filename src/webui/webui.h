/* webui: the emulated device behind the HTTP honeypot (src/sensor/proto/http.c).
 *
 * Given a parsed request and the web profile a listener plays, it answers as that device
 * would (status line, Server banner, header order, error pages of the profile), runs the
 * device's login (Basic RFC 7617, Digest RFC 7616 in the RFC 2617 MD5 qop=auth form devices
 * speak, or a form with a session cookie), performs the device-specific actions behind it
 * (settings export, recordings, snapshot, VPN server and client, firewall, DDNS, DNS, admin
 * password, firmware upload, reboot) and reflects their changes in later pages, matches every
 * request against the exploit signatures of rules/exploits/, and records it all as events:
 * mitsu.http.request, mitsu.http.login, mitsu.webui.action, mitsu.exploit.match.
 *
 * Each source address gets its own view of each device (what it changed, its Digest nonce,
 * its form session), kept in a bounded table with the least recently seen evicted first. The
 * engine never runs anything: an exploit's commands only yield the URLs they would download,
 * handed to the capture machinery through webui_io.fetch. */
#ifndef MITSU_WEBUI_H
#define MITSU_WEBUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "profile/profile.h"

struct webui;

struct webui_header {
	const char *name; /* not NUL-terminated: the bytes as sent */
	size_t name_len;
	const char *value; /* trimmed */
	size_t value_len;
};

/* A parsed request (the HTTP module's parser fills it; every pointer is borrowed). */
struct webui_request {
	const char *line; /* the request line as sent (NUL-terminated) */
	size_t line_len;
	const char *method;  /* NUL-terminated */
	const char *target;  /* raw path and query as sent (NUL-terminated) */
	size_t target_len;   /* may be shorter than strlen if the target held a NUL */
	const char *version; /* "HTTP/1.1", "" for HTTP/0.9 */
	int minor;           /* 0 or 1 for HTTP/1.x, -1 otherwise */
	struct webui_header *headers;
	size_t nheaders;
	const uint8_t *body;
	size_t body_len;
	bool keep_alive;      /* the client asked for a persistent connection */
	bool expect_continue; /* Expect: 100-continue */
	bool chunked;
};

/* What the engine asks of the connection it answers. */
struct webui_io {
	void *arg;
	/* Records an event with the connection's identity; `fields` is stolen. */
	void (*emit)(void *arg, enum core_event id, json_t *fields, const char *message);
	/* A URL an exploit's command would download (wget, curl, tftp, ftpget): fetch it as a
	 * Telnet download is fetched. May be NULL (not fetched). */
	void (*fetch)(void *arg, const char *url, const char *method);
	/* A file the attacker uploaded (firmware): into the sample store. May be NULL. */
	void (*store)(void *arg, const void *data, size_t len, const char *method,
		      const char *destfile);
};

/* Bounds. */
#define WEBUI_MAX_FORM_FIELDS 64    /* fields read from one form or query */
#define WEBUI_MAX_VALUE 512         /* bytes of one setting an attacker sets */
#define WEBUI_MAX_PEER_SETTINGS 64  /* settings one source address may change */
#define WEBUI_MAX_HEADER_FIELD 1024 /* bytes of one header value kept in an event */
#define WEBUI_MAX_EVENT_HEADERS 64  /* headers kept in one mitsu.http.request */
#define WEBUI_MAX_RULES 1024        /* exploit signatures */
#define WEBUI_MAX_MATCHES 8         /* signatures one request may match */
#define WEBUI_MAX_FETCHES 16        /* payload URLs fetched for one request */

struct webui_config {
	const char *rules_dir; /* exploit signatures (*.rules) */
	size_t max_peers;      /* source addresses whose device view is kept */
	uint64_t nonce_ms;     /* how long a Digest nonce is valid */
};

/* Loads the signatures of rules_dir. On error writes why into err. */
int webui_open(struct webui **out, const struct webui_config *cfg, char *err, size_t errlen);
void webui_close(struct webui *w);
/* The folder of the shipped signatures (rules/exploits of the source tree or the install). */
const char *webui_default_rules_dir(void);
size_t webui_nrules(const struct webui *w);

/* Answers one request from src_ip to profile p (a web profile): appends the whole response
 * to out and records the events. Returns true if the connection must close after it. */
bool webui_handle(struct webui *w, const struct profile *p, const char *src_ip,
		  const struct webui_request *req, const struct webui_io *io, struct buf *out);
/* The response to a request the HTTP module could not parse (400, 408, 413, 414, 431,
 * 501), in the profile's shape; always followed by a close. */
void webui_error(struct webui *w, const struct profile *p, int status, struct buf *out);

/* The signatures a request matches (ids into ids[], at most max); for tests and tools. */
size_t webui_exploits(const struct webui *w, const struct webui_request *req, const char **ids,
		      size_t max);

/* The intent and outcome of a device-specific action (webui_devid.md §4). */
const char *webui_action_intent(enum profile_web_action a);
const char *webui_action_outcome(enum profile_web_action a);

#endif
