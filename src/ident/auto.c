/* ident: the scan-back of `mitsu run` (ident.auto, off by default). A bus subscriber notes each
 * attacking source the first time it connects; after ident.auto_delay the source is handed to
 * an engine on the sensor's loop, so it is probed soon after the attack, before its address
 * changes hands. A source is probed at most once per ident.auto_reprobe; the sources waiting
 * and the sources remembered are bounded. Results are mitsu.ident.result events on the same
 * bus, so they reach every sink like any other event. */
#include "ident/ident_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Slots of the remembered-sources table per waiting slot, and how far a lookup probes. */
#define AUTO_SEEN_PER_SLOT 4
#define AUTO_SEEN_PROBES 16

struct seen {
	uint8_t addr[16];
	uint64_t at_ms; /* 0: empty */
};

struct waiting {
	struct sockaddr_storage sa;
	uint64_t due_ms;
};

struct ident_auto {
	uv_loop_t *loop;
	struct core_bus *bus;
	struct ident_db *db;
	struct ident_engine *engine;
	struct ident_limits lim;
	uint64_t delay_ms, reprobe_ms;
	struct waiting *q;
	size_t qcap, qhead, qlen;
	struct seen *seen;
	size_t seen_mask;
	uint8_t key[16];
	uv_timer_t timer;
	uint64_t skipped_full, skipped_policy;
};

static bool addr_key(const struct core_ev *ev, struct sockaddr_storage *ss, uint8_t key[16])
{
	memset(ss, 0, sizeof(*ss));
	memset(key, 0, 16);
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, ev->conn.src_ip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		memcpy(key + 12, &in->sin_addr, 4);
		return true;
	}
	if (inet_pton(AF_INET6, ev->conn.src_ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		memcpy(key, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

/* Whether the source was probed within the reprobe window; if not, it is noted as probed now.
 * The table is bounded: a full neighbourhood gives up its oldest entry. */
static bool seen_recently(struct ident_auto *a, const uint8_t key[16], uint64_t now)
{
	size_t h = (size_t)lib_siphash(key, 16, a->key) & a->seen_mask;
	struct seen *victim = NULL;
	for (size_t i = 0; i < AUTO_SEEN_PROBES; i++) {
		struct seen *s = &a->seen[(h + i) & a->seen_mask];
		if (s->at_ms && memcmp(s->addr, key, 16) == 0) {
			if (now - s->at_ms < a->reprobe_ms)
				return true;
			s->at_ms = now;
			return false;
		}
		if (!victim || !s->at_ms || (victim->at_ms && s->at_ms < victim->at_ms))
			victim = s;
	}
	memcpy(victim->addr, key, 16);
	victim->at_ms = now;
	return false;
}

static void on_timer(uv_timer_t *t);

/* The timer fires when the oldest waiting source is due. */
static void arm(struct ident_auto *a)
{
	if (!a->qlen)
		return;
	uint64_t now = uv_now(a->loop), due = a->q[a->qhead].due_ms;
	uv_timer_start(&a->timer, on_timer, due > now ? due - now : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct ident_auto *a = t->data;
	uint64_t now = uv_now(a->loop);
	while (a->qlen && a->q[a->qhead].due_ms <= now) {
		struct waiting *w = &a->q[a->qhead];
		if (ident_engine_submit(a->engine, (struct sockaddr *)&w->sa, 0, 0) == -ENOBUFS)
			break; /* the engine is full: try again shortly */
		a->qhead = (a->qhead + 1) % a->qcap;
		a->qlen--;
	}
	if (a->qlen && a->q[a->qhead].due_ms <= now)
		uv_timer_start(&a->timer, on_timer, 100, 0);
	else
		arm(a);
}

static void on_event(void *arg, const struct core_ev *ev)
{
	struct ident_auto *a = arg;
	if (!ev->has_conn || ev->id != EV_SESSION_CONNECT)
		return;
	struct sockaddr_storage ss;
	uint8_t key[16];
	if (!addr_key(ev, &ss, key))
		return;
	if (!ident_addr_allowed(a->engine, (struct sockaddr *)&ss)) {
		a->skipped_policy++;
		return;
	}
	uint64_t now = uv_now(a->loop);
	if (seen_recently(a, key, now))
		return;
	if (a->qlen == a->qcap) {
		if (a->skipped_full++ % 1000 == 0)
			log_warn("ident", "scan-back queue full (ident.auto_queue): %s not probed",
				 ev->conn.src_ip);
		return;
	}
	a->q[(a->qhead + a->qlen++) % a->qcap] =
		(struct waiting){.sa = ss, .due_ms = now + a->delay_ms};
	if (!uv_is_active((uv_handle_t *)&a->timer))
		arm(a);
}

static void on_result(void *arg, const struct ident_host *h, const struct ident_result *r)
{
	struct ident_auto *a = arg;
	ident_emit_result(a->bus, h, r);
}

struct ident_auto *ident_auto_open(uv_loop_t *loop, const struct core_config *cfg,
				   struct core_bus *bus)
{
	if (!core_cfg_bool(cfg, OPT_IDENT_AUTO))
		return NULL;
	char err[512];
	struct ident_auto *a = xcalloc(1, sizeof(*a));
	struct ident_ports ports;
	if (ident_ports_from_config(cfg, &ports, err, sizeof(err)) ||
	    ident_db_open(&a->db, cfg, err, sizeof(err))) {
		log_error("ident", "scan-back off: %s", err);
		free(a);
		return NULL;
	}
	a->loop = loop;
	a->bus = bus;
	ident_limits_from_config(cfg, &a->lim);
	a->delay_ms = (uint64_t)core_cfg_int(cfg, OPT_IDENT_AUTO_DELAY) * 1000;
	a->reprobe_ms = (uint64_t)core_cfg_int(cfg, OPT_IDENT_AUTO_REPROBE) * 1000;
	a->qcap = (size_t)core_cfg_int(cfg, OPT_IDENT_AUTO_QUEUE);
	a->q = xcalloc(a->qcap, sizeof(*a->q));
	size_t n = 1;
	while (n < a->qcap * AUTO_SEEN_PER_SLOT)
		n <<= 1;
	a->seen = xcalloc(n, sizeof(*a->seen));
	a->seen_mask = n - 1;
	lib_random(a->key, sizeof(a->key));
	if (ident_engine_open(&a->engine, loop, &a->lim, &ports, a->db, a->qcap, on_result, a)) {
		log_error("ident", "scan-back off: no engine");
		ident_db_free(a->db);
		free(a->q);
		free(a->seen);
		free(a);
		return NULL;
	}
	uv_timer_init(loop, &a->timer);
	a->timer.data = a;
	core_bus_subscribe(bus, on_event, a);
	log_info("ident",
		 "scan-back on: attacking sources are probed %llus after they connect "
		 "(%s)",
		 (unsigned long long)(a->delay_ms / 1000),
		 a->lim.allow_private ? "private addresses too" : "public addresses only");
	return a;
}

/* The engine is gone (its last host classified): the database can go too. */
static void on_engine_closed(void *arg)
{
	struct ident_auto *a = arg;
	ident_db_free(a->db);
	free(a->q);
	free(a->seen);
	free(a);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct ident_auto *a = h->data;
	ident_engine_on_closed(a->engine, on_engine_closed, a);
	ident_engine_close(a->engine);
}

void ident_auto_close(struct ident_auto *a)
{
	if (!a)
		return;
	core_bus_unsubscribe(a->bus, on_event, a);
	/* hosts in flight still report what they had: the engine ends them once the timer is
	 * closed, the loop finishes them, and their events go out before the bus closes */
	uv_timer_stop(&a->timer);
	uv_close((uv_handle_t *)&a->timer, on_timer_closed);
}
