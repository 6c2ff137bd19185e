/* web: the dashboard. An HTTP server (libmicrohttpd, on its own thread) that reads the store
 * through its own read-only SQLite connection, so it never touches the sensor's loop. Every
 * page is a section of src/report rendered as HTML tables with SVG charts (complete with
 * JavaScript off), has a JSON twin under /api/, and refreshes itself with JavaScript on
 * (/static/app.js polls the JSON; the overview also follows /api/events). docs/dashboard.md
 * lists the pages, the API and the indexes each one uses.
 *
 * Security: bound to loopback unless told otherwise, and then it requires web.token (as
 * "Authorization: Bearer TOKEN", the cookie it sets, or ?token=TOKEN); without a token it
 * answers only requests whose Host is an address or localhost (no DNS rebinding). Every page
 * carries a Content-Security-Policy without inline script or style, nosniff, frame-ancestors
 * none and no referrer; every attacker-sent string is escaped by src/report. */
#ifndef MITSU_WEB_H
#define MITSU_WEB_H

#include "core/core.h"

/* Bounds. */
#define WEB_MAX_CONNECTIONS 32    /* connections at once */
#define WEB_CONNECTION_TIMEOUT 10 /* seconds a connection may idle */
#define WEB_MAX_ROWS 500          /* rows any list returns */
#define WEB_DEFAULT_ROWS 50
#define WEB_MAX_OFFSET 1000000
#define WEB_MAX_PATH 256                    /* bytes of a path */
#define WEB_MAX_PARAMS 32                   /* parameters of a query string */
#define WEB_MAX_KEY 32                      /* bytes of a parameter's name */
#define WEB_MAX_VALUE 256                   /* bytes of a parameter's value */
#define WEB_MAX_SEARCH 128                  /* bytes of a search text */
#define WEB_MAX_WINDOW (10LL * 366 * 86400) /* the longest window=DURATION */
#define WEB_QUERY_SECONDS \
	20 /* a request's queries are interrupted past this (one slow page \
	      must not hold the server, nor its stop) */

struct web_server;
struct report_section;

/* Starts the dashboard on web.listen (nothing if it is empty: *out = NULL, returns 0).
 * Returns <0 with a reason logged if it cannot bind or the token rule is broken. */
int web_start(struct web_server **out, const struct core_config *cfg);
void web_stop(struct web_server *w);
/* The port it listens on (0 before it starts). */
int web_port(const struct web_server *w);

/* ---- the URL's query string ---- */
struct web_query {
	int64_t since, until; /* unix seconds; INT64_MIN / INT64_MAX: open */
	bool has_window;      /* since, until or window given */
	char window[16];      /* window=... as given ("24h", "all"), for links */
	char search[WEB_MAX_SEARCH + 1];
	char sort[32];
	bool ascending;
	int limit, offset;
	int64_t after; /* /api/events: events after this id */
	bool has_after;
	char type[64]; /* /api/events: one event id */
	char addr[46]; /* /ip?addr=: the address, canonical */
};
void web_query_init(struct web_query *q);
/* Sets one parameter (already decoded). Unknown names are ignored; a bad value is -EINVAL with
 * the reason in err. `now` is unix seconds (for window=24h). */
int web_query_set(struct web_query *q, const char *key, const char *value, int64_t now, char *err,
		  size_t errlen);
/* Parses a raw query string (a=1&b=%20x): percent-decoding, '+' as space, bounds. */
int web_query_parse(struct web_query *q, const char *raw, size_t n, int64_t now, char *err,
		    size_t errlen);

/* ---- the URL's path ---- */
enum web_route_kind {
	WEB_R_NOT_FOUND,
	WEB_R_SECTION, /* /, /NAME, /api/NAME: a report section */
	WEB_R_SAMPLE,  /* /sample/SHA256 */
	WEB_R_PCAP,    /* /sample/SHA256/pcap: the sandbox's capture */
	WEB_R_IP,      /* /ip/ADDR, /ip?addr=ADDR */
	WEB_R_EVENTS,  /* /api/events */
	WEB_R_SCRIPT,  /* /static/app.js */
	WEB_R_STYLE,   /* /static/style.css */
	WEB_R_ICON,    /* /static/icon.svg, /favicon.ico */
};
struct web_route {
	enum web_route_kind kind;
	bool api; /* under /api/: JSON */
	const struct report_section *section;
	char arg[72]; /* the SHA-256 or the canonical address */
};
/* Routes a decoded path. Returns 0, or -ENOENT / -EINVAL (kind WEB_R_NOT_FOUND). */
int web_route(const char *path, struct web_route *r);

/* `mitsu web`: the dashboard alone, over an existing store. */
struct core_command;
extern const struct core_command web_command;

#endif
