/* Telnet load generator for bench/telnet: many concurrent clients that play the Mirai scanner
 * dialogue (or the Mirai loader's echo dialogue, or stay idle) against a sensor on loopback,
 * answering option negotiation exactly as Mirai's consume_iacs() does. Prints sessions/s and
 * per-command latency percentiles. Single-threaded epoll; spreads its connections over source
 * addresses 127.0.0.1-127.0.0.250 so the ephemeral port range is never the limit.
 *
 * usage: loadgen -p PORT [-m scanner|loader|idle|idle-shell] [-c CONCURRENCY] [-n SESSIONS]
 *                [-t SECONDS] [-u USER] [-P PASSWORD] [-i IDLE_CONNECTIONS]
 * Output: key=value lines (sessions, seconds, sessions_per_s, failed, p50_us, p99_us, ...). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RX_MAX 16384
#define MAX_LAT (4u << 20)

enum mode { M_SCANNER, M_LOADER, M_IDLE, M_IDLE_SHELL };

struct conn {
	int fd;
	int step; /* index into the dialogue */
	int active;
	uint64_t sent_us; /* when the current command was sent */
	size_t rxlen;
	char rx[RX_MAX]; /* text (Telnet commands removed) since the last command */
	int iac_state;   /* parser state across reads */
	uint8_t iac_cmd;
	int sb;
};

static int port = 2323;
static enum mode mode = M_SCANNER;
static const char *user = "root", *password = "xc3511";
static int epfd;
static uint64_t done_sessions, failed_sessions, started_sessions, target_sessions;
static uint32_t *lat;
static size_t nlat;
static uint32_t src_rot;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- dialogues: each step sends a line and waits for a marker ---- */

struct step {
	const char *send;   /* NULL: send nothing */
	const char *expect; /* substring that ends the step; "#PROMPT" = a shell prompt */
};

static const struct step scanner[] = {
	{NULL, "ogin"},        {"$USER", "assword"},
	{"$PASS", "#PROMPT"},  {"enable", "#PROMPT"},
	{"system", "#PROMPT"}, {"shell", "#PROMPT"},
	{"sh", "#PROMPT"},     {"/bin/busybox MIRAI", "MIRAI: applet not found"},
	{NULL, NULL},
};

/* The Mirai loader's echo method (honeypots.md §4.2), with a 1,536-byte dropper. */
static char loader_lines[64][700];
static struct step loader[64];

static void build_loader(void)
{
	static const char *const fixed[][2] = {
		{NULL, "ogin"},
		{"$USER", "assword"},
		{"$PASS", "#PROMPT"},
		{"enable", NULL}, /* the loader sends these three at once; wait after sh */
		{"shell", NULL},
		{"sh", "#PROMPT"},
		{"/bin/busybox ECCHI", "ECCHI: applet not found"},
		{"/bin/busybox ps; /bin/busybox ECCHI", "ECCHI: applet not found"},
		{"/bin/busybox cat /proc/mounts; /bin/busybox ECCHI", "ECCHI: applet not found"},
		{"/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/dev' > /dev/.nippon; /bin/busybox cat "
		 "/dev/.nippon; /bin/busybox rm /dev/.nippon",
		 "kami/dev"},
		{"cd /dev/", "#PROMPT"},
		{"/bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod 777 "
		 "dvrHelper; /bin/busybox ECCHI",
		 "ECCHI: applet not found"},
		{"/bin/busybox cat /bin/echo; /bin/busybox ECCHI", "ECCHI: applet not found"},
		{"/bin/busybox wget; /bin/busybox tftp; /bin/busybox ECCHI",
		 "ECCHI: applet not found"},
		{"/bin/busybox cp dvrHelper upnp; > upnp; /bin/busybox chmod 777 upnp; "
		 "/bin/busybox ECCHI",
		 "ECCHI: applet not found"},
	};
	size_t n = 0;
	for (; n < sizeof(fixed) / sizeof(fixed[0]); n++) {
		loader[n].send = fixed[n][0];
		loader[n].expect = fixed[n][1];
	}
	/* 12 lines of 128 bytes: an ELF header then pseudo-random bytes. */
	uint8_t bin[1536];
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < sizeof(bin); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		bin[i] = (uint8_t)x;
	}
	memcpy(bin,
	       "\x7f"
	       "ELF\x01\x01\x01",
	       7);
	for (int l = 0; l < 12; l++) {
		char *p = loader_lines[l];
		p += sprintf(p, "/bin/busybox echo -ne '");
		for (int i = 0; i < 128; i++)
			p += sprintf(p, "\\x%02x", bin[l * 128 + i]);
		sprintf(p, "' %s upnp; /bin/busybox ECCHI", l == 0 ? ">" : ">>");
		loader[n].send = loader_lines[l];
		loader[n].expect = "ECCHI: applet not found";
		n++;
	}
	loader[n].send = "./upnp; ./dvrHelper telnet.loader; /bin/busybox IHCCE";
	loader[n].expect = "IHCCE: applet not found";
	n++;
	loader[n].send = "rm -rf upnp; > dvrHelper; /bin/busybox ECCHI";
	loader[n].expect = "ECCHI: applet not found";
	n++;
	loader[n].send = NULL;
	loader[n].expect = NULL;
}

static const struct step *dialogue(void)
{
	switch (mode) {
	case M_LOADER: return loader;
	default: return scanner;
	}
}

/* ---- connections ---- */

static void conn_close(struct conn *c, int ok)
{
	if (!c->active)
		return;
	/* RST instead of FIN: no TIME_WAIT pile-up at thousands of sessions per second. */
	struct linger lg = {1, 0};
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->active = 0;
	if (ok)
		done_sessions++;
	else
		failed_sessions++;
}

static int conn_open(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	struct sockaddr_in src = {.sin_family = AF_INET};
	src.sin_addr.s_addr = htonl(0x7f000001u + (src_rot++ % 250));
	bind(c->fd, (struct sockaddr *)&src, sizeof(src));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	dst.sin_addr.s_addr = htonl(0x7f000001u);
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) && errno != EINPROGRESS) {
		close(c->fd);
		return -1;
	}
	c->active = 1;
	c->sent_us = now_us();
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	started_sessions++;
	return 0;
}

static void send_all(struct conn *c, const void *p, size_t n)
{
	/* Small writes to a fresh socket: the kernel buffer always has room. */
	if (write(c->fd, p, n) != (ssize_t)n)
		conn_close(c, 0);
}

static void send_line(struct conn *c, const char *s)
{
	char line[1024];
	if (strcmp(s, "$USER") == 0)
		s = user;
	else if (strcmp(s, "$PASS") == 0)
		s = password;
	size_t n = strlen(s);
	memcpy(line, s, n);
	line[n++] = '\r';
	line[n++] = '\n';
	send_all(c, line, n);
}

/* Mirai's consume_iacs: DO NAWS -> WILL NAWS + 80x24; other DO -> WONT; WILL -> DO. */
static void handle_bytes(struct conn *c, const uint8_t *p, size_t n)
{
	uint8_t reply[256];
	size_t rl = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		switch (c->iac_state) {
		case 0:
			if (b == 255) {
				c->iac_state = 1;
			} else if (!c->sb) {
				/* Keep the newest bytes: markers come at the end of long output. */
				if (c->rxlen == RX_MAX - 1) {
					memmove(c->rx, c->rx + RX_MAX / 2, RX_MAX / 2 - 1);
					c->rxlen = RX_MAX / 2 - 1;
				}
				c->rx[c->rxlen++] = (char)b;
			}
			break;
		case 1:
			if (b == 255) {
				c->iac_state = 0;
				break;
			}
			if (b == 250) {
				c->sb = 1;
				c->iac_state = 0;
				break;
			}
			if (b == 240) {
				c->sb = 0;
				c->iac_state = 0;
				break;
			}
			if (b >= 251 && b <= 254) {
				c->iac_cmd = b;
				c->iac_state = 2;
				break;
			}
			c->iac_state = 0;
			break;
		case 2:
			if (rl + 12 < sizeof(reply)) {
				if (c->iac_cmd == 253 && b == 31) {
					static const uint8_t naws[] = {255, 251, 31, 255, 250, 31,
								       0,   80,  0,  24,  255, 240};
					memcpy(reply + rl, naws, sizeof(naws));
					rl += sizeof(naws);
				} else if (c->iac_cmd == 253) {
					reply[rl++] = 255, reply[rl++] = 252, reply[rl++] = b;
				} else if (c->iac_cmd == 251) {
					reply[rl++] = 255, reply[rl++] = 253, reply[rl++] = b;
				}
			}
			c->iac_state = 0;
			break;
		}
	}
	c->rx[c->rxlen] = '\0';
	if (rl)
		send_all(c, reply, rl);
}

static int prompt_seen(const struct conn *c)
{
	size_t n = c->rxlen;
	while (n && c->rx[n - 1] == ' ')
		n--;
	return n && (c->rx[n - 1] == '#' || c->rx[n - 1] == '$' || c->rx[n - 1] == '>');
}

static void advance(struct conn *c)
{
	const struct step *d = dialogue();
	for (;;) {
		const struct step *st = &d[c->step];
		if (!st->send && !st->expect) {
			conn_close(c, 1);
			return;
		}
		int met = !st->expect ||
			  (strcmp(st->expect, "#PROMPT") == 0 ? prompt_seen(c)
							      : memmem(c->rx, c->rxlen, st->expect,
								       strlen(st->expect)) != NULL);
		if (!met)
			return;
		if (st->expect && c->step > 0 && nlat < MAX_LAT)
			lat[nlat++] = (uint32_t)(now_us() - c->sent_us);
		c->step++;
		c->rxlen = 0;
		c->rx[0] = '\0';
		st = &d[c->step];
		if ((mode == M_IDLE && c->step >= 1) || (mode == M_IDLE_SHELL && c->step >= 3)) {
			/* stay connected, idle */
			c->step = 1000;
			return;
		}
		if (!st->send && !st->expect) {
			conn_close(c, 1);
			return;
		}
		if (st->send) {
			c->sent_us = now_us();
			send_line(c, st->send);
			if (!c->active)
				return;
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int concurrency = 128, opt;
	double seconds = 10;
	long idle = 10000;
	target_sessions = 0;
	while ((opt = getopt(argc, argv, "p:m:c:n:t:u:P:i:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'm':
			mode = !strcmp(optarg, "loader")       ? M_LOADER
			       : !strcmp(optarg, "idle")       ? M_IDLE
			       : !strcmp(optarg, "idle-shell") ? M_IDLE_SHELL
							       : M_SCANNER;
			break;
		case 'c': concurrency = atoi(optarg); break;
		case 'n': target_sessions = strtoull(optarg, NULL, 10); break;
		case 't': seconds = atof(optarg); break;
		case 'u': user = optarg; break;
		case 'P': password = optarg; break;
		case 'i': idle = atol(optarg); break;
		default:
			fprintf(stderr,
				"usage: loadgen -p PORT [-m scanner|loader|idle|idle-shell] [-c N] "
				"[-n N] [-t S] [-i N]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	build_loader();
	lat = malloc(sizeof(*lat) * MAX_LAT);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (mode == M_IDLE || mode == M_IDLE_SHELL)
		concurrency = (int)idle;
	struct conn *conns = calloc((size_t)concurrency, sizeof(*conns));
	uint64_t start = now_us(), deadline = start + (uint64_t)(seconds * 1e6);
	/* Idle mode opens connections gradually so the listen backlog never overflows. */
	int opened = 0;
	for (; opened < concurrency && opened < 512; opened++)
		conn_open(&conns[opened]);
	struct epoll_event evs[256];
	uint8_t buf[65536];
	uint64_t idle_ready_at = 0;
	for (;;) {
		uint64_t now = now_us();
		int running_sessions = mode == M_SCANNER || mode == M_LOADER;
		if (running_sessions &&
		    ((target_sessions && done_sessions + failed_sessions >= target_sessions) ||
		     (!target_sessions && now >= deadline)))
			break;
		if (!running_sessions) {
			size_t ready = 0;
			for (int i = 0; i < opened; i++)
				ready += conns[i].active && conns[i].step == 1000;
			if (ready == (size_t)concurrency) {
				idle_ready_at = now;
				break;
			}
			if (now >= deadline + 60000000u)
				break;
			for (int k = 0; k < 256 && opened < concurrency; k++)
				conn_open(&conns[opened++]);
		}
		int n = epoll_wait(epfd, evs, 256, 100);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c->active)
				continue;
			ssize_t r = read(c->fd, buf, sizeof(buf));
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				conn_close(c, 0);
			} else {
				handle_bytes(c, buf, (size_t)r);
				if (c->active)
					advance(c);
			}
			if (running_sessions && !c->active &&
			    (!target_sessions || started_sessions < target_sessions) &&
			    now_us() < deadline)
				conn_open(c);
		}
	}
	double secs = (double)(now_us() - start) / 1e6;
	if (mode == M_IDLE || mode == M_IDLE_SHELL) {
		size_t ready = 0;
		for (int i = 0; i < opened; i++)
			ready += conns[i].active && conns[i].step == 1000;
		printf("idle_connections=%zu\nseconds=%.2f\nready=%d\n", ready, secs,
		       idle_ready_at != 0);
		fflush(stdout);
		/* Hold the connections until told to stop (stdin closes). */
		char tmp[16];
		while (read(0, tmp, sizeof(tmp)) > 0)
			;
		return 0;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	printf("sessions=%llu\nfailed=%llu\nseconds=%.3f\nsessions_per_s=%.1f\n",
	       (unsigned long long)done_sessions, (unsigned long long)failed_sessions, secs,
	       (double)done_sessions / secs);
	if (nlat) {
		printf("commands=%zu\np50_us=%u\np99_us=%u\nmax_us=%u\n", nlat, lat[nlat / 2],
		       lat[(size_t)((double)nlat * 0.99)], lat[nlat - 1]);
	}
	return 0;
}
