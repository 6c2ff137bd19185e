/* web: what the server, the pages and the command share (not part of the API). */
#ifndef MITSU_WEB_INT_H
#define MITSU_WEB_INT_H

#include <pthread.h>

#include "report/report.h"
#include "web/web.h"

struct web_server {
	struct MHD_Daemon *daemon;
	sqlite3 *db; /* used only from the server's thread */
	char *data_dir;
	char *token;
	char *sensor;
	char *location_db;
	int refresh; /* seconds between the pages' polls */
	int port;
	uint64_t deadline_us; /* the current request's queries stop past it (lib_mono_us) */
	bool roll_attached;   /* report.db is attached to db as "roll" */
	/* The roll-up's worker: catches report.db up every REPORT_ROLLUP_PERIOD seconds. */
	pthread_t roll_thread;
	bool roll_started;
	atomic_bool roll_stop;
	pthread_mutex_t roll_lock;
	pthread_cond_t roll_wake;
};

/* The store's read-only connection, opened on first use (the store may not exist yet). */
sqlite3 *web_db(struct web_server *w);

/* A response body: status, content type, bytes (owned). */
struct web_reply {
	unsigned status;
	const char *type;
	struct buf body;
};

/* Renders a routed request: an HTML page, or its JSON (r->api). */
void web_render(struct web_server *w, const struct web_route *r, const struct web_query *q,
		struct web_reply *out);
/* /api/events. */
void web_render_events(struct web_server *w, const struct web_query *q, struct web_reply *out);

/* Appends s percent-encoded for a URL's path segment or query value. */
void web_url_encode(struct buf *b, const char *s);

extern const char web_app_js[];
extern const char web_style_css[];
extern const char web_icon_svg[];

#endif
