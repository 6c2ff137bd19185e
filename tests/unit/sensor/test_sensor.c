/* Unit tests of src/sensor: the per-source table, listener specs, the Telnet module driven
 * in-process, one byte at a time, and the bound on parked sessions' reads per loop turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>

#include "inproc.h"

static void test_srctab(void **state)
{
	struct sensor_srctab t;
	sensor_srctab_init(&t, 8);
	uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
	assert_int_equal(sensor_srctab_acquire(&t, a, 4, 2), 1);
	assert_int_equal(sensor_srctab_acquire(&t, a, 4, 2), 2);
	assert_int_equal(sensor_srctab_acquire(&t, a, 4, 2), -1);
	assert_int_equal(sensor_srctab_acquire(&t, b, 4, 2), 1);
	sensor_srctab_release(&t, a, 4);
	assert_int_equal(sensor_srctab_acquire(&t, a, 4, 2), 2);
	/* Many sources coming and going never fill the table (tombstones are recycled). */
	for (uint32_t i = 0; i < 100000; i++) {
		uint8_t c[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		assert_int_equal(sensor_srctab_acquire(&t, c, 4, 1), 1);
		sensor_srctab_release(&t, c, 4);
	}
	assert_int_equal(sensor_srctab_acquire(&t, b, 4, 2), 2);
	sensor_srctab_free(&t);
}

static void test_listen_spec(void **state)
{
	struct sensor_listen_spec s;
	char err[128];
	assert_int_equal(
		sensor_parse_listen("telnet@127.0.0.1:2323/dvr-hi3520d", &s, err, sizeof(err)), 0);
	assert_string_equal(s.proto, "telnet");
	assert_string_equal(s.addr, "127.0.0.1");
	assert_int_equal(s.port, 2323);
	assert_string_equal(s.profile, "dvr-hi3520d");
	assert_int_equal(sensor_parse_listen("telnet@[::1]:23", &s, err, sizeof(err)), 0);
	assert_string_equal(s.addr, "::1");
	assert_string_equal(s.profile, "");
	assert_int_not_equal(sensor_parse_listen("127.0.0.1:23", &s, err, sizeof(err)), 0);
	assert_int_not_equal(sensor_parse_listen("telnet@127.0.0.1", &s, err, sizeof(err)), 0);
	assert_int_not_equal(sensor_parse_listen("telnet@127.0.0.1:23/", &s, err, sizeof(err)), 0);
}

struct seen {
	int params;
	int width, height;
	char term[32];
};

static void on_event(void *arg, const struct core_ev *ev)
{
	struct seen *s = arg;
	if (ev->id != EV_SESSION_PARAMS)
		return;
	s->params++;
	if (core_ev_get(ev, "width")) {
		s->width = (int)json_integer_value(core_ev_get(ev, "width"));
		s->height = (int)json_integer_value(core_ev_get(ev, "height"));
	}
	if (core_ev_get(ev, "term"))
		lib_strlcpy(s->term, json_string_value(core_ev_get(ev, "term")), sizeof(s->term));
}

/* Sends bytes one at a time, running the loop after each. */
static void trickle(struct inproc *ip, int fd, const void *p, size_t n, struct buf *out)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(write(fd, b + i, 1), 1);
		inproc_pump(ip, fd, out);
	}
}

/* Pumps until the output contains needle (or fails). */
static void expect(struct inproc *ip, int fd, struct buf *out, const char *needle)
{
	for (int i = 0; i < 2000; i++) {
		if (out->len && memmem(out->data, out->len, needle, strlen(needle)))
			return;
		inproc_pump(ip, fd, out);
		usleep(500);
	}
	fail_msg("never saw \"%s\" in %zu bytes of output", needle, out->len);
}

static void test_telnet_byte_at_a_time(void **state)
{
	struct inproc ip;
	assert_int_equal(inproc_start(&ip, NULL), 0);
	struct seen seen = {0};
	core_bus_subscribe(ip.bus, on_event, &seen);
	int fd = inproc_connect(&ip);
	assert_true(fd >= 0);
	struct buf out;
	buf_init(&out, 1 << 20);
	expect(&ip, fd, &out, "login: ");
	/* BusyBox telnetd's option bytes come first. */
	static const uint8_t iacs[] = {255, 253, 1, 255, 253, 31, 255, 251, 1, 255, 251, 3};
	assert_memory_equal(out.data, iacs, sizeof(iacs));
	/* The NAWS reply and a TTYPE offer, split at every byte. */
	static const uint8_t naws[] = {255, 251, 31,  255, 250, 31,  0, 132,
				       0,   43,  255, 240, 255, 251, 24};
	trickle(&ip, fd, naws, sizeof(naws), &out);
	expect(&ip, fd, &out, "\xff\xfa\x18\x01\xff\xf0"); /* SB TTYPE SEND */
	static const uint8_t ttype[] = {255, 250, 24, 0, 'v', 't', '1', '0', '0', 255, 240};
	trickle(&ip, fd, ttype, sizeof(ttype), &out);
	/* Login with CR NUL and CR LF line ends, a byte per segment. */
	trickle(&ip, fd, "root\r\0", 6, &out);
	expect(&ip, fd, &out, "assword");
	buf_reset(&out);
	trickle(&ip, fd, "xc3511\r\n", 8, &out);
	expect(&ip, fd, &out, "# ");
	/* The password was not echoed. */
	assert_null(memmem(out.data, out.len, "xc3511", 6));
	buf_reset(&out);
	const char *cmd = "/bin/busybox MIRAI\r\n";
	trickle(&ip, fd, cmd, strlen(cmd), &out);
	expect(&ip, fd, &out, "MIRAI: applet not found");
	/* The typed line was echoed as a pty would. */
	assert_non_null(memmem(out.data, out.len, "/bin/busybox MIRAI", 18));
	/* Output NL becomes CR NL. */
	assert_non_null(memmem(out.data, out.len, "MIRAI: applet not found\r\n", 25));
	/* A byte 0xFF in output is sent as IAC IAC. */
	buf_reset(&out);
	const char *bin = "echo -ne '\\xff\\xfe' > /var/x; cat /var/x; /bin/busybox END\r\n";
	assert_int_equal(write(fd, bin, strlen(bin)), (ssize_t)strlen(bin));
	expect(&ip, fd, &out, "END: applet not found");
	assert_non_null(memmem(out.data, out.len, "\xff\xff\xfe", 3));
	assert_int_equal(seen.width, 132);
	assert_int_equal(seen.height, 43);
	assert_string_equal(seen.term, "vt100");
	close(fd);
	buf_free(&out);
	inproc_stop(&ip);
}

static void test_telnet_backspace_and_kill(void **state)
{
	struct inproc ip;
	assert_int_equal(inproc_start(&ip, NULL), 0);
	int fd = inproc_connect(&ip);
	struct buf out;
	buf_init(&out, 1 << 20);
	expect(&ip, fd, &out, "login: ");
	/* "rooX" + BS + "t": login reads "root". */
	trickle(&ip, fd, "rooX\x7ft\r\n", 8, &out);
	expect(&ip, fd, &out, "assword");
	trickle(&ip, fd, "garbage\x15xc3511\r\n", 16, &out);
	expect(&ip, fd, &out, "# ");
	close(fd);
	buf_free(&out);
	inproc_stop(&ip);
}

/* The HTTP module through the real listener and session: two pipelined requests on a
 * kept-alive connection, sent one byte at a time, each answered once, in order. */
struct http_seen {
	int requests, logins;
	char last_uri[64];
};

static void on_http_event(void *arg, const struct core_ev *ev)
{
	struct http_seen *h = arg;
	if (ev->id == EV_HTTP_REQUEST) {
		h->requests++;
		lib_strlcpy(h->last_uri, json_string_value(core_ev_get(ev, "uri")),
			    sizeof(h->last_uri));
	} else if (ev->id == EV_HTTP_LOGIN && json_is_true(core_ev_get(ev, "success"))) {
		h->logins++;
	}
}

static void test_http_byte_at_a_time(void **state)
{
	struct inproc ip;
	static const char *const sets[] = {"sensor.listen=http@127.0.0.1:0/router-e", NULL};
	assert_int_equal(inproc_start(&ip, sets), 0);
	struct http_seen seen = {0};
	core_bus_subscribe(ip.bus, on_http_event, &seen);
	int fd = inproc_connect(&ip);
	assert_true(fd >= 0);
	struct buf out;
	buf_init(&out, 1 << 20);
	const char *two =
		"GET /login.html HTTP/1.1\r\nHost: x\r\n\r\n"
		"POST /cgi-bin/login.cgi HTTP/1.1\r\nHost: x\r\nContent-Length: 29\r\n\r\n"
		"username=admin&password=admin";
	trickle(&ip, fd, two, strlen(two), &out);
	expect(&ip, fd, &out, "Set-Cookie: sid=");
	assert_true(lib_str_prefix((const char *)out.data, "HTTP/1.1 200 OK\r\n"));
	const char *second = strstr((const char *)out.data, "HTTP/1.1 302 Found\r\n");
	assert_non_null(second);
	assert_non_null(strstr(second, "Location: /index.html\r\n"));
	assert_int_equal(seen.requests, 2);
	assert_int_equal(seen.logins, 1);
	assert_string_equal(seen.last_uri, "/cgi-bin/login.cgi");
	close(fd);
	buf_free(&out);
	inproc_stop(&ip);
}

/* A full table evicts the session that made no progress (no complete line) for longest; one
 * that sent a line stays, and so does a newer one. */
static void test_eviction_order(void **state)
{
	static const char *const sets[] = {"limits.max_sessions=3", NULL};
	struct inproc ip;
	assert_int_equal(inproc_start(&ip, sets), 0);
	int fd[4];
	struct buf out[4];
	for (int i = 0; i < 3; i++) {
		fd[i] = inproc_connect(&ip);
		assert_true(fd[i] >= 0);
		buf_init(&out[i], 1 << 20);
		expect(&ip, fd[i], &out[i], "login: ");
	}
	/* The first (oldest) makes progress; the second is now the stalest. */
	trickle(&ip, fd[0], "root\r\n", 6, &out[0]);
	expect(&ip, fd[0], &out[0], "assword");
	fd[3] = inproc_connect(&ip);
	buf_init(&out[3], 1 << 20);
	expect(&ip, fd[3], &out[3], "login: ");
	int closed = 0;
	for (int k = 0; k < 100 && !closed; k++)
		closed = inproc_pump(&ip, fd[1], &out[1]);
	assert_int_equal(closed, 1);
	assert_int_equal(ip.sn->stats.evicted, 1);
	assert_int_equal(inproc_pump(&ip, fd[0], &out[0]), 0);
	assert_int_equal(inproc_pump(&ip, fd[2], &out[2]), 0);
	for (int i = 0; i < 4; i++) {
		close(fd[i]);
		buf_free(&out[i]);
	}
	inproc_stop(&ip);
}

/* Peers held for the parked test: more than a few batches. */
#define PARK_PEERS 300

/* Runs one loop turn; returns the reads (input or ends) it did. */
static uint64_t one_turn(struct inproc *ip)
{
	uint64_t before = lib_work.reads;
	uv_run(&ip->loop, UV_RUN_NOWAIT);
	return lib_work.reads - before;
}

/* Appends what peer i can read now to its buffer. */
static void drain_peer(int fd, struct buf *out)
{
	char tmp[4096];
	ssize_t r;
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		buf_append(out, tmp, (size_t)r);
}

/* Stale sessions are parked and read SENSOR_PARK_BATCH per loop turn: 300 peers that send a
 * byte in the same instant, then leave in the same instant, are read in batches, none lost.
 * Counts reads per turn, not time: without the bound, one turn reads every peer. */
static void test_parked_reads_are_bounded_per_turn(void **state)
{
	static const char *const sets[] = {"limits.max_sessions_per_source=1000", NULL};
	struct inproc ip;
	assert_int_equal(inproc_start(&ip, sets), 0);
	ip.sn->stale_ms = 0; /* every session is stale at once (the flood's slowloris after 1 s) */
	int fd[PARK_PEERS];
	struct buf out[PARK_PEERS];
	for (int i = 0; i < PARK_PEERS; i++) {
		fd[i] = inproc_connect(&ip);
		assert_true(fd[i] >= 0);
		buf_init(&out[i], 1 << 16);
	}
	/* Accepted (a batch per turn), greeted, then parked by their timers. */
	for (int k = 0; k < 10000 && ip.sn->nparked < PARK_PEERS; k++)
		uv_run(&ip.loop, UV_RUN_NOWAIT);
	assert_int_equal(ip.sn->nparked, PARK_PEERS);
	for (int i = 0; i < PARK_PEERS; i++) {
		drain_peer(fd[i], &out[i]);
		assert_non_null(memmem(out[i].data, out[i].len, "login: ", 7));
		buf_reset(&out[i]);
	}
	/* Every peer's byte is waiting before the loop runs again. */
	for (int i = 0; i < PARK_PEERS; i++)
		assert_int_equal(write(fd[i], "a", 1), 1);
	uint64_t total = 0, most = 0, turns = 0;
	for (int k = 0; k < 10000 && total < PARK_PEERS; k++, turns++) {
		uint64_t n = one_turn(&ip);
		total += n;
		most = LIB_MAX(most, n);
	}
	assert_int_equal(total, PARK_PEERS);
	assert_true(most <= SENSOR_PARK_BATCH);
	assert_true(turns >= PARK_PEERS / SENSOR_PARK_BATCH);
	/* None lost: each was echoed, and each session is still parked (no line yet). */
	for (int i = 0; i < PARK_PEERS; i++) {
		drain_peer(fd[i], &out[i]);
		assert_int_equal(out[i].len, 1);
		assert_int_equal(out[i].data[0], 'a');
	}
	assert_int_equal(ip.sn->nparked, PARK_PEERS);
	/* A line is progress: that session is read by libuv again, and answered. */
	ip.sn->stale_ms = SENSOR_STALE_MS;
	assert_int_equal(write(fd[0], "root\r\n", 6), 6);
	buf_reset(&out[0]);
	expect(&ip, fd[0], &out[0], "assword");
	assert_false(ip.sn->sessions->parked);
	/* They all leave at once: their ends are read in batches too. */
	for (int i = 1; i < PARK_PEERS; i++)
		close(fd[i]);
	total = most = 0;
	for (int k = 0; k < 10000 && total < PARK_PEERS - 1; k++) {
		uint64_t n = one_turn(&ip);
		total += n;
		most = LIB_MAX(most, n);
	}
	assert_int_equal(total, PARK_PEERS - 1);
	assert_true(most <= SENSOR_PARK_BATCH);
	close(fd[0]);
	for (int i = 0; i < PARK_PEERS; i++)
		buf_free(&out[i]);
	inproc_stop(&ip);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srctab),
		cmocka_unit_test(test_listen_spec),
		cmocka_unit_test(test_telnet_byte_at_a_time),
		cmocka_unit_test(test_http_byte_at_a_time),
		cmocka_unit_test(test_telnet_backspace_and_kill),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_parked_reads_are_bounded_per_turn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
