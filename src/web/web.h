/* web: the dashboard. An HTTP server (libmicrohttpd, on its own thread) that reads the store
 * through its own read-only SQLite connection and serves one page plus a small JSON API, so it
 * never touches the sensor's loop. It binds to loopback unless told otherwise, and then
 * requires web.token (DESIGN §7).
 *
 *   GET /                  the page (tables and charts, refreshed every few seconds)
 *   GET /api/summary       totals, top credentials/commands/sources, recent sessions, samples
 *   GET /api/events        recent events (?limit=N&type=EVENTID)
 * With web.token set, every request needs "Authorization: Bearer TOKEN" or ?token=TOKEN. */
#ifndef MITSU_WEB_H
#define MITSU_WEB_H

#include "core/core.h"

struct web_server;

/* Starts the dashboard on web.listen (nothing if it is empty: *out = NULL, returns 0).
 * Returns <0 with a reason logged if it cannot bind or the token rule is broken. */
int web_start(struct web_server **out, const struct core_config *cfg);
void web_stop(struct web_server *w);

#endif
