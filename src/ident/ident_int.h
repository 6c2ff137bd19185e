/* ident: what the files of src/ident share and nothing outside uses. */
#ifndef MITSU_IDENT_INT_H
#define MITSU_IDENT_INT_H

#include "ident/ident.h"

/* A probe: how one protocol is spoken to one port of a host (probes.c). `start` opens its
 * connection(s) through the host context and calls ident_probe_finish once when done. */
struct ident_probe_run;
struct ident_probe_ops {
	enum ident_probe_kind kind;
	void (*start)(struct ident_probe_run *pr);
};
extern const struct ident_probe_ops *const ident_probe_table[IDENT_PROBE__COUNT];

/* One probe in flight against a host. */
struct ident_probe_run {
	struct ident_hostctx *hc;
	struct ident_host *host;
	const struct ident_ports *ports;
	struct ident_probe_result *res;
	int port;
	int step; /* the probe's own progress (HTTP: which path) */
	struct ident_conn *conn;
	uv_udp_t *udp; /* UPnP's SSDP socket */
	uv_timer_t *timer;
	size_t replies;
	struct buf text; /* Telnet: the bytes without IAC sequences */
	uint32_t tstate; /* Telnet: the filter's state */
	size_t seen;     /* Telnet: bytes of the conn's buffer already filtered */
	bool redirected; /* HTTP: followed the one redirect allowed */
	char path[128];  /* HTTP: the path being fetched; UPnP: the description's */
	int upnp_port;   /* UPnP: the description's port */
	bool finished;
	struct ident_probe_run *next;
};
/* Records the probe's outcome (the first non-NONE one is kept) and frees the run. */
void ident_probe_finish(struct ident_probe_run *pr, enum ident_outcome o);

/* The engine's view of a host context (engine.c). */
struct ident_host *ident_hostctx_host(struct ident_hostctx *hc);
struct ident_conn *ident_hostctx_open_udp(struct ident_hostctx *hc, int port,
					  const struct ident_conn_ops *ops, void *arg);
int ident_conn_port(const struct ident_conn *c);
struct ident_db *ident_engine_db(const struct ident_engine *e);
/* Adds the fields of a UPnP device description (upnp.description, .manufacturer, .model,
 * .udn) found at PATH on PORT, and makes it the host's IGD description for the audit unless
 * one is known already; false when XML is not a description (probes.c). */
bool ident_upnp_fields(struct ident_host *h, enum ident_probe_kind kind, int port, const char *path,
		       const char *xml, size_t len);
/* The HTTP probe (http.c). */
extern const struct ident_probe_ops ident_probe_http, ident_probe_https;
struct ident_engine *ident_hostctx_engine(const struct ident_hostctx *hc);
const struct ident_limits *ident_engine_limits(const struct ident_engine *e);
uv_loop_t *ident_engine_loop(const struct ident_engine *e);

/* Replaces the category table (takes ownership). */
int ident_db_set_categories(struct ident_db *db, struct ident_category *cats, size_t n);

#endif
