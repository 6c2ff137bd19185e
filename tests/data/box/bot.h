/* Helpers shared by the bot-like test programs of the sandbox tests. These programs behave
 * like IoT bots only inside mitsu's fake internet: each first needs an answer that no real
 * network gives (a name under .invalid, RFC 6761, or a TEST-NET address), and stops otherwise.
 * Built statically for mips, mipsel and arm by tests/integration/test_box.py; never committed
 * as binaries. -DSTAY keeps them running after their work (the benchmark's samples). */
#ifndef MITSU_TEST_BOT_H
#define MITSU_TEST_BOT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void bot_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long bot_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The safety gate: resolves a name under .invalid, which only a fake DNS answers. */
static int bot_resolve(const char *name, struct in_addr *out)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if (strstr(name, ".invalid") == NULL || getaddrinfo(name, NULL, &hints, &res) != 0 || !res)
		return -1;
	*out = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

/* Our own address, as Mirai learns it: a UDP "connection" to 8.8.8.8 and getsockname. */
static uint32_t bot_local_addr(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(53);
	a.sin_addr.s_addr = inet_addr("8.8.8.8");
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	return a.sin_addr.s_addr;
}

static int bot_connect(struct in_addr ip, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr = ip;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A plain UDP flood: 512-byte datagrams to ip:port for secs seconds (at most 3 here). */
static long bot_udp_flood(struct in_addr ip, int port, int secs)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr = ip;
	char payload[512];
	memset(payload, 'A', sizeof(payload));
	if (secs > 3)
		secs = 3;
	long sent = 0, end = bot_now_ms() + secs * 1000L;
	while (bot_now_ms() < end) {
		if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&a, sizeof(a)) > 0)
			sent++;
		if (sent % 64 == 0)
			bot_sleep_ms(1);
	}
	close(fd);
	return sent;
}

/* Reads one line (without CR/LF) from fd; -1 at the end of the connection. */
static int bot_readline(int fd, char *line, size_t max)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r <= 0)
			return n ? (int)n : -1;
		if (c == '\n')
			break;
		if (c != '\r' && n + 1 < max)
			line[n++] = c;
	}
	line[n] = '\0';
	return (int)n;
}

static void bot_stay(void)
{
#ifdef STAY
	for (;;)
		bot_sleep_ms(1000);
#endif
}

#endif
