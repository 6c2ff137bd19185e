/* Internal to src/sensor: the sensor object, the per-source table, listeners. */
#ifndef MITSU_SENSOR_INT_H
#define MITSU_SENSOR_INT_H

#include "sensor/sensor.h"
#include "webui/webui.h"

/* Open sessions per source address: open addressing, keyed by a seeded SipHash of the address
 * bytes so a peer cannot choose collisions. Sized for max_sessions; entries with count 0 are
 * tombstones reused on insert and the table is rebuilt when tombstones pile up. */
struct sensor_srctab {
	struct srctab_slot {
		uint8_t addr[16];
		uint8_t len; /* 0 = never used */
		uint32_t count;
	} * slots;
	size_t cap;  /* power of two */
	size_t used; /* slots with len != 0 */
	uint8_t key[16];
};
int sensor_srctab_init(struct sensor_srctab *t, size_t max_entries);
void sensor_srctab_free(struct sensor_srctab *t);
/* Adds one session for addr if its count is below limit; returns the new count or -1. */
int sensor_srctab_acquire(struct sensor_srctab *t, const uint8_t *addr, size_t len, uint32_t limit);
void sensor_srctab_release(struct sensor_srctab *t, const uint8_t *addr, size_t len);

struct sensor_listener {
	struct sensor *sensor;
	uv_tcp_t tcp;
	const struct sensor_proto *proto;
	const struct profile *profile;
	struct sensor_listen_spec spec;
	/* A connection waits unaccepted (libuv holds it and stops polling the socket) until
	 * sessions are freed: the kernel's backlog queues the rest instead of the sensor refusing
	 * them. */
	bool paused;
	unsigned accepted_turn; /* connections accepted this loop turn */
	/* The listener's own address as sessions report it (dst_ip, dst_port), known when it is
	 * bound to one address: its connections need no getsockname(2). */
	bool local_known;
	char local_ip[46];
	int local_port;
};

struct sensor_stats {
	uint64_t accepted;
	uint64_t refused_total;
	uint64_t refused_source;
	uint64_t refused_error; /* accept failed (out of descriptors...) */
	uint64_t evicted;
	uint64_t closed;
	uint64_t gave_way[SENSOR_BUDGETS];   /* sessions closed for a sensor-wide budget */
	uint64_t unreleased[SENSOR_BUDGETS]; /* sessions freed still holding (a module's bug) */
};

/* One sensor-wide budget: what all sessions hold, and the part held by sessions already closing
 * (freed when they are; not counted against the budget, so one excess closes one session). */
struct sensor_budget_state {
	uint64_t held;
	uint64_t leaving;
};

struct sensor {
	uv_loop_t *loop;
	const struct core_config *cfg;
	struct sensor_services svc;
	struct profile_set profiles;
	struct profile_set web_profiles; /* web.ini folders, for the http module */
	struct webui *webui;
	struct sensor_limits limits;
	struct sensor_listener *listeners;
	size_t nlisteners;
	struct sensor_srctab sources;
	/* Live sessions, doubly linked, most recently active first: a session moves to the head
	 * when it is accepted or makes progress (sensor_session_progress), so the tail is the one
	 * without progress for longest (the one a full table evicts). A session that begins to
	 * close moves to the closing list until it is freed. */
	struct sensor_session *sessions, *sessions_tail;
	struct sensor_session *closing, *closing_tail;
	size_t nsessions;      /* both lists */
	size_t nclosing;       /* the closing list */
	uint64_t queued_bytes; /* output waiting in every session's write queue */
	struct sensor_budget_state budgets[SENSOR_BUDGETS];
	uv_check_t turn; /* after each loop turn's I/O: accepting starts again */
	bool turn_init;
	/* The backlog (session.c), an idle handle active while either queue holds a session,
	 * works off at most a batch of each per loop turn, oldest first: sessions whose close was
	 * asked for and whose connection is not cut yet (SENSOR_CUT_BATCH), and stale sessions
	 * whose input waits (SENSOR_STALE_BATCH, shared with the stale input read this turn). */
	struct sensor_session *cut, *cut_tail;
	struct sensor_session *later, *later_tail;
	size_t later_bytes;    /* input waiting in the later queue */
	unsigned stale_turn;   /* stale sessions' inputs handled this loop turn */
	uint64_t stale_waited; /* inputs that waited, logged when the sensor stops */
	uv_idle_t backlog;
	bool backlog_init;
	/* Parked sessions (park.c): stale sessions read from an epoll set of the sensor's own, at
	 * most SENSOR_PARK_BATCH per loop turn, instead of by libuv's poll phase. */
	uint64_t stale_ms; /* SENSOR_STALE_MS (a unit test may shorten it) */
	int park_fd;
	uv_poll_t park_poll;
	bool park_init;
	unsigned park_turn; /* parked sockets read this loop turn */
	size_t nparked;
	struct sensor_stats stats;
	bool stopping;
};

/* Sessions that may be closing beyond limits.max_sessions after evictions: an evicted session
 * is cut within a few loop turns (SENSOR_CUT_BATCH per turn). With that many, accepting pauses
 * until they are freed (the connections wait in the listen backlog). */
#define SENSOR_EVICT_SLACK 1024
/* Connections accepted per loop turn and listener; the rest wait in the backlog until the next
 * turn, so a flood of new peers cannot keep the loop from reading the open sessions (each of
 * which may be evicted by a newcomer before its line is read). */
#define SENSOR_ACCEPT_BATCH 32
/* Connections cut (closed, their sessions' last events emitted, their memory freed) per loop
 * turn. When thousands of peers leave at once (a flood ends) or are evicted, their closes are
 * spread over several turns instead of one turn of hundreds of milliseconds during which no
 * other session is read. */
#define SENSOR_CUT_BATCH 64
/* A session is stale when it has made no progress (a complete line) for this long: a slowloris
 * soon is, a client in a dialogue is not. */
#define SENSOR_STALE_MS 1000
/* Inputs of stale sessions handled per loop turn; the others wait their turn (with reading
 * stopped) so that thousands of slowloris peers trickling their bytes at once cannot hold up
 * the sessions that make progress. */
#define SENSOR_STALE_BATCH 64
/* Input bytes that may wait in all; beyond, stale input is handled at once. */
#define SENSOR_LATER_MAX (1024 * 1024)
/* Parked sockets (stale sessions', park.c) read per loop turn: their input and their ends. */
#define SENSOR_PARK_BATCH 64

/* An address as events show it: text, and the port (session.c). */
void sensor_addr_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, int *port);
/* Accepts on listeners paused by the batch or the slack, as far as they allow (session.c). */
void sensor_listeners_resume(struct sensor *sn);
/* Creates and frees a session for an accepted connection (session.c). */
void sensor_session_accept(struct sensor_listener *l);
/* The budgets' side of a session's end (budget.c): its holdings stop counting when it begins to
 * close, and leave the totals when it is freed. */
void sensor_budget_leave(struct sensor_session *s);
void sensor_budget_release(struct sensor_session *s);
/* Closes every session with reason "shutdown". */
void sensor_sessions_shutdown(struct sensor *sn);
/* The backlog's handle (session.c): opened with the sensor, closed once it stops and both of
 * its queues are empty. */
void sensor_backlog_init(struct sensor *sn);
void sensor_backlog_stop(struct sensor *sn);
/* Parking (park.c). A session is stale when its input has made no progress for stale_ms. A
 * stale session is parked after its input is handled: libuv stops reading it and the sensor
 * reads it in bounded batches; it is unparked (read by libuv again) once it makes progress,
 * and when it closes. */
bool sensor_session_stale(const struct sensor_session *s);
void sensor_park_init(struct sensor *sn);
void sensor_park_stop(struct sensor *sn);
/* True if the session is parked now (false: it still reads through libuv). */
bool sensor_session_park(struct sensor_session *s);
void sensor_session_unpark(struct sensor_session *s);
/* A session's input (nread > 0 bytes at p) or its connection's end or error (a libuv error
 * code), as read by libuv (session.c) or from the parked set. */
void sensor_session_input(struct sensor_session *s, const uint8_t *p, ssize_t nread);
void sensor_session_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
void sensor_session_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
/* Finds a protocol module by name (listener.c). */
const struct sensor_proto *sensor_proto_find(const char *name);
int sensor_listeners_start(struct sensor *sn, char *err, size_t errlen);
void sensor_listeners_stop(struct sensor *sn);

#endif
