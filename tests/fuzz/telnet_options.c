/* Fuzz target: Telnet option negotiation (libtelnet's state machine and the Telnet module's
 * handling of WILL/WONT/DO/DONT, NAWS, TTYPE and other subnegotiations, IAC commands inside
 * the login dialogue and the shell), through the real sensor on loopback.
 *
 * tests/fuzz/telnet.c sends raw bytes: a mutation rarely makes a well-formed IAC SB ... IAC SE
 * for an option the server asked for, so its executions are spent in the login and shell. Here
 * the input is a program of Telnet operations, each one well formed by construction (or cut
 * short on purpose), so every execution negotiates. It also checks a property of the protocol:
 * the server answers each request at most once, so it never sends more negotiations than its
 * own four opening ones plus the peer's (no negotiation loop). */
#include <signal.h>
#include <stdint.h>

#include "../unit/sensor/inproc.h"

enum { T_SE = 240, T_SB = 250, T_WILL = 251, T_WONT = 252, T_DO = 253, T_DONT = 254, T_IAC = 255 };
/* Bytes of output kept to check (more is not needed: the check counts negotiations). */
#define OUT_MAX (1u << 20)

static struct inproc ip;
static int ready;

struct prog {
	const uint8_t *p;
	size_t n;
};

static int next(struct prog *g)
{
	if (!g->n)
		return -1;
	g->n--;
	return *g->p++;
}

/* Subnegotiation data: IAC doubled, as a sender must. */
static void put_sb_data(struct buf *b, struct prog *g, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int c = next(g);
		if (c < 0)
			return;
		uint8_t x = (uint8_t)c;
		buf_append(b, &x, 1);
		if (x == T_IAC)
			buf_append(b, &x, 1);
	}
}

/* Appends one operation to b; returns 0, or -1 at the end of the program, -2 when the caller
 * should send and let the server answer. */
static int op(struct buf *b, struct prog *g)
{
	static const char *const lines[] = {"root\r\n", "xc3511\r\n", "\r\0",     "echo hi\r\n",
					    "\r\n",     "sh\r\n",     "exit\r\n", "\xff\xf4"};
	int v = next(g);
	if (v < 0)
		return -1;
	int a = next(g);
	uint8_t x = (uint8_t)(a < 0 ? 0 : a);
	switch (v % 8) {
	case 0: {
		int opt = next(g);
		uint8_t seq[3] = {T_IAC, (uint8_t)(T_WILL + x % 4), (uint8_t)(opt < 0 ? 0 : opt)};
		buf_append(b, seq, 3);
		return 0;
	}
	case 1: /* NAWS: width and height */
		buf_append(b, (uint8_t[]){T_IAC, T_SB, 31}, 3);
		put_sb_data(b, g, 4);
		buf_append(b, (uint8_t[]){T_IAC, T_SE}, 2);
		return 0;
	case 2: /* TTYPE IS name */
		buf_append(b, (uint8_t[]){T_IAC, T_SB, 24, 0}, 4);
		put_sb_data(b, g, x % 48);
		buf_append(b, (uint8_t[]){T_IAC, T_SE}, 2);
		return 0;
	case 3: { /* any option's subnegotiation, sometimes left open */
		int opt = next(g);
		buf_append(b, (uint8_t[]){T_IAC, T_SB, (uint8_t)(opt < 0 ? 0 : opt)}, 3);
		put_sb_data(b, g, x % 64);
		if (x & 0x80)
			buf_append(b, (uint8_t[]){T_IAC, T_SE}, 2);
		return 0;
	}
	case 4: /* a bare command: SE, NOP, DM, BRK, IP, AO, AYT, EC, EL, GA */
		buf_append(b, (uint8_t[]){T_IAC, (uint8_t)(T_SE + x % 10)}, 2);
		return 0;
	case 5: buf_append(b, lines[x % 8], strlen(lines[x % 8]) + (x % 8 == 2)); return 0;
	case 6: return -2;
	default: /* raw bytes, unescaped: lets mutations build what the operations do not */
		for (int i = 0; i < x % 32; i++) {
			int c = next(g);
			if (c < 0)
				break;
			uint8_t y = (uint8_t)c;
			buf_append(b, &y, 1);
		}
		return 0;
	}
}

/* Negotiations (IAC WILL/WONT/DO/DONT) in a stream, parsed as libtelnet parses it: after
 * IAC SB comes the option (any byte), then data up to IAC SE, where IAC IAC is data and IAC
 * with another command ends the subnegotiation and is that command. */
static size_t count_negotiations(const uint8_t *p, size_t n)
{
	size_t count = 0;
	bool sb = false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != T_IAC)
			continue;
		if (i + 1 >= n)
			break;
		uint8_t c = p[++i];
		if (c == T_IAC)
			continue; /* a data byte 255 */
		if (sb && c == T_SE) {
			sb = false;
			continue;
		}
		sb = false;
		if (c >= T_WILL && c <= T_DONT) {
			count++;
			i++; /* the option */
		} else if (c == T_SB) {
			sb = true;
			i++; /* the option, whatever its value */
		}
	}
	return count;
}

/* Sends b (kept in `sent` too, to count the peer's negotiations as the server parses them,
 * whichever operation made them) and lets the server answer. */
static void send_all(int fd, struct buf *b, struct buf *sent, struct buf *out)
{
	if (b->len && write(fd, b->data, b->len) < 0) {
	}
	buf_append(sent, b->data, b->len);
	buf_reset(b);
	inproc_pump(&ip, fd, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		signal(SIGPIPE, SIG_IGN);
		static const char *const sets[] = {"telnet.accept_any_after=1",
						   "telnet.login_tries=100", "limits.max_line=4K",
						   "limits.max_input_bytes=256K", NULL};
		if (inproc_start(&ip, sets))
			abort();
		ready = 1;
	}
	int fd = inproc_connect(&ip);
	if (fd < 0)
		abort();
	struct buf b, out, sent;
	buf_init(&b, 1u << 20);
	buf_init(&out, OUT_MAX);
	buf_init(&sent, 1u << 24);
	struct prog g = {data, size};
	for (;;) {
		int r = op(&b, &g);
		if (r == -1)
			break;
		if (r == -2)
			send_all(fd, &b, &sent, &out);
	}
	send_all(fd, &b, &sent, &out);
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 100 && !inproc_pump(&ip, fd, &out); i++)
		;
	close(fd);
	for (int i = 0; i < 100 && ip.sn->nsessions; i++)
		uv_run(&ip.loop, UV_RUN_NOWAIT);
	if (count_negotiations(out.data, out.len) > 4 + count_negotiations(sent.data, sent.len))
		abort();
	buf_free(&b);
	buf_free(&out);
	buf_free(&sent);
	return 0;
}
