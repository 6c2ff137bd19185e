/* sensor: `mitsu run`. Listeners on the libuv loop, the session table and its limits, and the
 * protocol modules (proto/telnet.c, ...) that give each connection a device to talk to.
 *
 * A protocol module is a const struct of callbacks registered in the table of listener.c. The
 * sensor owns the socket, the timers and the limits; the module owns its per-session state and
 * speaks through sensor_session_write / sensor_session_close / sensor_session_emit. Anything a
 * peer can cause closes that peer's session only. */
#ifndef MITSU_SENSOR_H
#define MITSU_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "capture/capture.h"
#include "core/core.h"
#include "profile/profile.h"

struct sensor;
struct sensor_session;

/* Why a session ended: the `reason` of mitsu.session.closed (the table in docs/events.md).
 * X(ID, name, drain): with drain, output still queued reaches the peer before the socket
 * closes (a polite end); without, the socket is cut at once. */
#define SENSOR_CLOSE_REASONS(X) \
	X(PEER, "peer", false) \
	X(EXIT, "exit", true) \
	X(EOF, "eof", true) \
	X(REBOOT, "reboot", true) \
	X(KILLED, "killed", true) \
	X(IDLE, "idle", true) \
	X(TIMEOUT, "timeout", true) \
	X(INPUT_LIMIT, "input_limit", false) \
	X(LINE_LIMIT, "line_limit", false) \
	X(OUTPUT_LIMIT, "output_limit", false) \
	X(COMMAND_LIMIT, "command_limit", true) \
	X(WORK_LIMIT, "work_limit", true) \
	X(FILE_BUDGET, "file_budget", false) \
	X(MEMORY_BUDGET, "memory_budget", false) \
	X(EVICTED, "evicted", false) \
	X(LOGIN_FAILURES, "login_failures", true) \
	X(ERROR, "error", false) \
	X(SHUTDOWN, "shutdown", true) \
	X(DONE, "done", true) \
	X(REQUEST_TIMEOUT, "request_timeout", true) \
	X(BAD_REQUEST, "bad_request", true)
#define SENSOR_CLOSE_ENUM(id, name, drain) SENSOR_CLOSE_##id,
enum sensor_close_reason { SENSOR_CLOSE_NONE, SENSOR_CLOSE_REASONS(SENSOR_CLOSE_ENUM) };
#undef SENSOR_CLOSE_ENUM
/* The reason's name in events ("peer", ...). */
const char *sensor_close_reason_name(enum sensor_close_reason r);

struct sensor_proto {
	const char *name;
	/* The module plays web profiles (profile->web), not Telnet ones. */
	bool web;
	/* A connection was accepted: allocate state (s->proto_state), send the greeting.
	 * Return <0 to close at once. */
	int (*on_accept)(struct sensor_session *s);
	/* Bytes from the peer, in any split. */
	void (*on_data)(struct sensor_session *s, const uint8_t *p, size_t n);
	/* The session ends (any reason): free the state. Called once, outside any callback of the
	 * module's own, so the module may free what is on its stack elsewhere. */
	void (*on_close)(struct sensor_session *s);
};

/* Limits every session is held to; from the [limits] section. */
struct sensor_limits {
	size_t max_sessions;
	size_t max_per_source;
	uint64_t idle_ms;
	uint64_t session_ms;
	uint64_t max_input;
	size_t max_line;
	size_t max_output_queue;
	uint64_t max_output_total;
	uint64_t evict_idle_ms; /* a full table evicts a session without progress this long */
	uint64_t budget[2]; /* sensor-wide, by enum sensor_budget: vfs_total, shell_memory_total */
};

/* What sessions hold that the sensor bounds in total, beyond each session's own limits. When a
 * session's charge takes the total of the open sessions past its budget, the session holding
 * the most of it gives way (among equals, the least recently active): it is closed with the
 * budget's reason (file_budget, memory_budget), and only it. */
enum sensor_budget {
	SENSOR_BUDGET_FILES,  /* bytes of attacker files (limits.vfs_total) */
	SENSOR_BUDGET_MEMORY, /* bytes of shell memory (limits.shell_memory_total) */
	SENSOR_BUDGETS
};

struct sensor_session {
	struct sensor *sensor;
	const struct sensor_proto *proto;
	const struct profile *profile;
	struct core_conn conn;
	uint8_t src_addr[16]; /* for the per-source table */
	uint8_t src_len;
	void *proto_state;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uint64_t start_ms;
	uint64_t end_ms; /* when the close was asked for */
	uint64_t last_input_ms;
	uint64_t last_progress_ms; /* accepted, or the last sensor_session_progress */
	uint64_t bytes_in;
	uint64_t held[SENSOR_BUDGETS];         /* what it holds of each sensor-wide budget */
	enum sensor_close_reason close_reason; /* set once the session is closing */
	bool closing;
	bool handles_closed;
	int open_handles;
	int holds;  /* sensor_session_hold */
	bool ended; /* connection gone and module finished; the record waits for its holds */
	/* Output pacing (sensor_session_set_pace); all zero when output is written at once. */
	struct sensor_pace {
		size_t write_size; /* bytes of one write to the socket at most */
		uint64_t rate;     /* bytes per second */
		uint64_t credit;   /* byte-microseconds earned and not yet spent */
		uint64_t last_us;  /* when credit was last earned */
		struct buf queue;  /* bytes waiting for their turn, from `off` on */
		size_t off;        /* bytes of `queue` already sent */
		uv_timer_t *timer; /* waits for credit; allocated on first need */
		bool in_flight;    /* a write of a paced piece is in libuv's queue */
		bool shutdown;     /* a draining close waits for the queue to empty */
	} pace;
	struct sensor_session *prev, *next;
	struct sensor_session *cut_next; /* in the sensor's queue of connections to cut */
	/* Input read while the session was stale and the loop turn's share of stale input was
	 * used up: it waits, with reading stopped, in the sensor's queue (session.c). */
	struct sensor_session *later_next;
	uint8_t *later;
	size_t later_len;
	bool parked; /* read from the sensor's parked set, not by libuv (park.c) */
};

/* Raw bytes to the peer (the module has done its own framing/escaping). Queued bytes beyond
 * limits.max_output_queue (or, over all sessions, limits.max_output_total) close the session.
 * With pacing set, the bytes leave in writes of at most write_size bytes at `rate` bytes per
 * second on the session's own timer; the call never blocks and never delays other sessions. */
void sensor_session_write(struct sensor_session *s, const void *p, size_t n);
/* Paces the session's output as the emulated device sends it (a BusyBox telnetd relays its
 * pty in writes of about 2 KB at the speed of a small CPU): writes of at most write_size
 * bytes, at most `rate` bytes per second on average. Up to one write's worth leaves at once
 * after a pause, so short replies (a prompt) are not delayed. write_size == 0 turns pacing
 * off. Call it before the first write (from on_accept). */
void sensor_session_set_pace(struct sensor_session *s, size_t write_size, uint64_t rate);
/* Ends the session with a reason (see docs/events.md): stops reading, lets queued output drain
 * (for "exit"), then, from the loop, lets the module finish (on_close), emits
 * mitsu.session.closed as the session's last event, and frees it. Idempotent. */
void sensor_session_close(struct sensor_session *s, enum sensor_close_reason reason);
/* Keeps the session's record (not its connection) until the matching release: work a module
 * started for the session (a sample being stored) ends before mitsu.session.closed, so its
 * events come first. Allowed in any callback of the module, on_close included; the release
 * must not touch the module's state when on_close has run (use the session only). */
void sensor_session_hold(struct sensor_session *s);
void sensor_session_release(struct sensor_session *s);
/* The peer made progress (a complete line, a request): the session is the most recently
 * active, the last a full session table evicts (limits.evict_idle). Bytes that never make a
 * line are no progress, so a slowloris is evicted first. */
void sensor_session_progress(struct sensor_session *s);
/* The session's holding of budget b changed by delta bytes (a module calls it on every change,
 * frees included, until its on_close returns). Returns false when this session must give way:
 * it is then closing with the budget's reason, and the module should stop its work. Another
 * session that gives way is closed from here. */
bool sensor_session_account(struct sensor_session *s, enum sensor_budget b, long long delta);
/* Emits an event with the session's identity. `fields` is stolen. */
void sensor_session_emit(struct sensor_session *s, enum core_event id, json_t *fields,
			 const char *fmt, ...) LIB_PRINTF(4, 5);
/* The sensor's shared services for modules. */
const struct core_config *sensor_config(const struct sensor *sn);
const struct sensor_limits *sensor_limits(const struct sensor *sn);
struct capture_samples *sensor_samples(const struct sensor *sn);
struct capture_fetcher *sensor_fetcher(const struct sensor *sn);

/* Protocol modules. */
extern const struct sensor_proto sensor_proto_telnet;
extern const struct sensor_proto sensor_proto_http;

/* Parses "PROTO@ADDR:PORT[/PROFILE]". Returns 0 or -EINVAL with a reason in err. */
struct sensor_listen_spec {
	char proto[16];
	char addr[64];
	int port;
	char profile[64];
};
int sensor_parse_listen(const char *s, struct sensor_listen_spec *out, char *err, size_t errlen);

/* What the protocol modules use from the rest of mitsu. `mitsu run` (src/run) opens these
 * and hands them over with sensor_attach; tests hand over what they need. */
struct sensor_services {
	struct core_bus *bus;            /* required: every session emits events */
	struct capture_samples *samples; /* required: attacker files become samples */
	struct capture_fetcher *fetcher; /* NULL: downloads are not performed */
};

/* A sensor on a loop the caller owns. sensor_open loads the profiles and binds and listens on
 * every listener of sensor.listen; it opens nothing else, so that privileges can be dropped
 * right after it (p0f's order). Connections wait in the backlog until the loop runs; the
 * caller must call sensor_attach before it runs the loop. On error the reason is in err and
 * *out still needs sensor_free. The config must outlive the sensor. */
int sensor_open(struct sensor **out, uv_loop_t *loop, const struct core_config *cfg, char *err,
		size_t errlen);
/* Hands the sensor the services its sessions use; they must outlive the sensor's sessions. */
void sensor_attach(struct sensor *sn, const struct sensor_services *svc);
/* Begins the orderly stop: listeners close, sessions end with reason "shutdown" (their last
 * events are emitted as they close). Idempotent. */
void sensor_stop(struct sensor *sn);
/* Sessions still open; after sensor_stop the sensor is done when this reaches 0. */
size_t sensor_sessions_open(const struct sensor *sn);
/* Frees the sensor. Call after sensor_stop, once the loop has run until sensor_sessions_open
 * is 0 and the listeners' handles are closed (uv_run returning is enough). */
void sensor_free(struct sensor *sn);
/* The port listener i is bound to (useful with port 0), or -1. */
int sensor_listener_port(const struct sensor *sn, size_t i);

#endif
