/* shell/netstat: the device's sockets. The profile's own services ([net] listen and unix,
 * held by processes of its ps) and the attacker's own Telnet connection (ESTABLISHED, from
 * the device's eth0 address and telnetd's port to the peer) make /proc/net/tcp, tcp6, udp,
 * udp6 and unix in a Linux 3.x kernel's format, and netstat prints what it reads there as
 * BusyBox does (checked by running Debian's busybox netstat over these same files,
 * tests/data/busybox/netstat). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

/* The first socket inode: sockets are numbered from here in profile order, the session's
 * connection last. */
#define NET_INODE_BASE 1021
/* Kernel pointers (%pK) of the socket structures: a 32-bit kernel's slab addresses. */
#define NET_SK_BASE 0xc3a1e000u
#define NET_SK_STEP 0x200u
/* The port telnetd listens on when the profile lists none for it. */
#define NET_TELNET_PORT 23
/* Width of a /proc/net/tcp line before its newline (TMPSZ - 1), and of udp's. */
#define NET_TCP_LINE 149
#define NET_UDP_LINE 127
/* BusyBox netstat's column of an address and of -p's PID/Program name. */
#define NET_ADDR_WIDTH 23
#define NET_PROG_WIDTH 20

enum { NET_ESTABLISHED = 1, NET_CLOSE = 7, NET_LISTEN = 10 };

struct nsock {
	enum profile_sock_kind kind;
	bool v6;
	uint8_t laddr[16], raddr[16];
	int lport, rport, state, pid;
	unsigned long inode;
	const char *path;
	bool dgram;
};

void shell_set_peer(struct shell *sh, const char *ip, int port)
{
	free(sh->peer_ip);
	sh->peer_ip = ip ? xstrdup(ip) : NULL;
	sh->peer_port = port;
}

static int telnetd_pid(const struct profile *p)
{
	for (size_t i = 0; p && i < p->nprocs; i++)
		if (strstr(p->procs[i].command, "telnetd"))
			return p->procs[i].pid;
	return 0;
}

/* The session's connection: from eth0's address at telnetd's port to the peer. */
static bool peer_sock(struct shell *sh, struct nsock *k)
{
	if (!sh->peer_ip)
		return false;
	const struct profile *p = sh->prof;
	memset(k, 0, sizeof(*k));
	k->kind = PROFILE_SOCK_TCP;
	k->state = NET_ESTABLISHED;
	k->pid = telnetd_pid(p);
	k->lport = NET_TELNET_PORT;
	for (size_t i = 0; p && i < p->nsocks; i++)
		if (p->socks[i].kind == PROFILE_SOCK_TCP && p->socks[i].pid == k->pid)
			k->lport = p->socks[i].port;
	uint8_t mac[6], ip[4];
	shell_iface_identity(sh, mac, ip);
	k->rport = sh->peer_port;
	if (inet_pton(AF_INET, sh->peer_ip, k->raddr) == 1) {
		memcpy(k->laddr, ip, 4);
		return true;
	}
	if (inet_pton(AF_INET6, sh->peer_ip, k->raddr) != 1)
		return false;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(k->raddr, mapped, 12) == 0) {
		memmove(k->raddr, k->raddr + 12, 4);
		memcpy(k->laddr, ip, 4);
		return true;
	}
	k->v6 = true;
	memcpy(k->laddr, mapped, 12);
	memcpy(k->laddr + 12, ip, 4);
	return true;
}

/* Every socket of the device, in profile order, the session's connection last. */
static size_t net_socks(struct shell *sh, struct nsock **out)
{
	const struct profile *p = sh->prof;
	size_t n = p ? p->nsocks : 0, k = 0;
	struct nsock *v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct profile_sock *s = &p->socks[i];
		if (shell_proc_killed(sh, s->pid))
			continue;
		struct nsock *x = &v[k++];
		x->kind = s->kind;
		x->v6 = s->v6;
		memcpy(x->laddr, s->addr, sizeof(x->laddr));
		x->lport = s->port;
		x->state = s->kind == PROFILE_SOCK_TCP ? NET_LISTEN : NET_CLOSE;
		x->pid = s->pid;
		x->inode = NET_INODE_BASE + i;
		x->path = s->path;
		x->dgram = s->dgram;
	}
	if (peer_sock(sh, &v[k])) {
		v[k].inode = NET_INODE_BASE + n;
		k++;
	}
	*out = v;
	return k;
}

/* An IPv4 address as the kernel prints its __be32 with %08X: the hex of the CPU's word. */
static uint32_t word_of(const uint8_t *a, bool be)
{
	return be ? (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3]
		  : (uint32_t)a[3] << 24 | (uint32_t)a[2] << 16 | (uint32_t)a[1] << 8 | a[0];
}

static void hex_addr(struct buf *b, const uint8_t *a, bool v6, bool be)
{
	for (int w = 0; w < (v6 ? 4 : 1); w++)
		buf_printf(b, "%08X", word_of(a + 4 * w, be));
}

/* One row of tcp, tcp6, udp or udp6, padded as the kernel pads them. */
static void net_row(struct buf *b, const struct nsock *k, int sl, bool be, bool old_rto)
{
	size_t start = b->len;
	bool tcp = k->kind == PROFILE_SOCK_TCP;
	buf_printf(b, tcp ? "%4d: " : "%5d: ", sl);
	hex_addr(b, k->laddr, k->v6, be);
	buf_printf(b, ":%04X ", k->lport);
	hex_addr(b, k->raddr, k->v6, be);
	buf_printf(b, ":%04X %02X %08X:%08X %02X:%08lX %08X %5d %8d %lu ", k->rport, k->state, 0, 0,
		   k->state == NET_ESTABLISHED ? 2 : 0, k->state == NET_ESTABLISHED ? 0x14ul : 0ul,
		   0, 0, 0, k->inode);
	uint32_t sk = NET_SK_BASE + NET_SK_STEP * (uint32_t)(k->inode - NET_INODE_BASE);
	if (!tcp)
		buf_printf(b, "%d %08x %d", 2, sk, 0);
	else if (k->state == NET_LISTEN)
		buf_printf(b, "%d %08x %d %d %d %d %d", 1, sk, old_rto ? 300 : 100, 0, 0,
			   old_rto ? 2 : 10, -1);
	else
		buf_printf(b, "%d %08x %d %d %d %d %d", 3, sk, 21, 4, 30, 10, -1);
	if (!k->v6) {
		int width = tcp ? NET_TCP_LINE : NET_UDP_LINE;
		buf_printf(b, "%*s", (int)LIB_MAX(0, width - (int)(b->len - start)), "");
	}
	buf_append_str(b, "\n");
}

static void net_unix(struct buf *b, const struct nsock *v, size_t n)
{
	buf_append_str(b, "Num       RefCount Protocol Flags    Type St Inode Path\n");
	for (size_t i = 0; i < n; i++) {
		if (v[i].kind != PROFILE_SOCK_UNIX)
			continue;
		uint32_t sk = NET_SK_BASE + NET_SK_STEP * (uint32_t)(v[i].inode - NET_INODE_BASE);
		buf_printf(b, "%08x: %08X %08X %08X %04X %02X %5lu %s\n", sk, 2, 0,
			   v[i].dgram ? 0 : 0x10000, v[i].dgram ? 2 : 1, 1, v[i].inode, v[i].path);
	}
}

int shell_net_sockets_file(struct shell *sh, const char *name, struct buf *b)
{
	bool tcp = strncmp(name, "tcp", 3) == 0, udp = strncmp(name, "udp", 3) == 0;
	bool v6 = (tcp || udp) && strcmp(name + 3, "6") == 0;
	if (!(tcp || udp) && strcmp(name, "unix") != 0)
		return -ENOENT;
	if ((tcp || udp) && name[3] && !v6)
		return -ENOENT;
	struct nsock *v;
	size_t n = net_socks(sh, &v);
	bool be = sh->prof && sh->prof->elf.data == 2;
	/* TCP_TIMEOUT_INIT was 3 s and the initial window 2 before Linux 3.1 / 2.6.39 */
	const char *rel = sh->prof && sh->prof->uname_r ? sh->prof->uname_r : "3.10";
	int maj = atoi(rel), min = atoi(strchr(rel, '.') ? strchr(rel, '.') + 1 : "0");
	bool old_rto = maj < 3 || (maj == 3 && min < 1);
	if (!tcp && !udp)
		net_unix(b, v, n);
	else if (v6)
		buf_printf(b,
			   "  sl  local_address                         remote_address           "
			   "             st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
			   "inode%s\n",
			   udp ? " ref pointer drops" : "");
	else if (tcp)
		buf_printf(b, "%-*s\n", NET_TCP_LINE,
			   "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			   "retrnsmt   uid  timeout inode");
	else
		buf_printf(b, "%-*s\n", NET_UDP_LINE,
			   "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			   "retrnsmt   uid  timeout inode ref pointer drops");
	int sl = 0;
	enum profile_sock_kind want = tcp ? PROFILE_SOCK_TCP : PROFILE_SOCK_UDP;
	for (size_t i = 0; (tcp || udp) && i < n; i++)
		if (v[i].kind == want && v[i].v6 == v6)
			net_row(b, &v[i], sl++, be, old_rto);
	free(v);
	return 0;
}

/* "352/telnetd" for -p: the pid and the program's name as the kernel's comm has it. */
static void prog_of(struct shell *sh, int pid, char *out, size_t cap)
{
	snprintf(out, cap, "-");
	const struct profile *p = sh->prof;
	for (size_t i = 0; p && i < p->nprocs; i++) {
		if (p->procs[i].pid != pid)
			continue;
		const char *cmd = p->procs[i].command;
		size_t l = strcspn(cmd, " ");
		const char *s = cmd + l;
		while (s > cmd && s[-1] != '/')
			s--;
		snprintf(out, cap, "%d/%.*s", pid, (int)LIB_MIN((size_t)15, l - (size_t)(s - cmd)),
			 s);
	}
}

static void addr_text(const struct nsock *k, bool local, char *out, size_t cap)
{
	const uint8_t *a = local ? k->laddr : k->raddr;
	int port = local ? k->lport : k->rport;
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(k->v6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip));
	char pt[16];
	snprintf(pt, sizeof(pt), "%d", port);
	if (!port)
		snprintf(pt, sizeof(pt), "*");
	size_t room = NET_ADDR_WIDTH - strlen(pt) - 1;
	snprintf(out, cap, "%.*s:%s", (int)LIB_MIN(room, strlen(ip)), ip, pt);
}

enum {
	NS_LISTEN = 1,
	NS_CONNECTED = 2,
	NS_TCP = 4,
	NS_UDP = 8,
	NS_RAW = 16,
	NS_UNIX = 32,
	NS_PROG = 64,
};

static const char *which_part(int f)
{
	if ((f & (NS_LISTEN | NS_CONNECTED)) == (NS_LISTEN | NS_CONNECTED))
		return "(servers and established)";
	return f & NS_LISTEN ? "(only servers)" : "(w/o servers)";
}

static void print_inet(struct cmd *c, struct buf *b, const struct nsock *v, size_t n, int f)
{
	buf_printf(b, "Active Internet connections %s\n", which_part(f));
	buf_printf(b, "Proto Recv-Q Send-Q %-*s %-*s State       %s\n", NET_ADDR_WIDTH,
		   "Local Address", NET_ADDR_WIDTH, "Foreign Address",
		   f & NS_PROG ? " PID/Program name" : "");
	static const enum profile_sock_kind order[] = {PROFILE_SOCK_TCP, PROFILE_SOCK_UDP};
	for (size_t o = 0; o < LIB_ARRAY_LEN(order); o++)
		for (int v6 = 0; v6 < 2; v6++)
			for (size_t i = 0; i < n; i++) {
				const struct nsock *k = &v[i];
				bool tcp = order[o] == PROFILE_SOCK_TCP;
				if (k->kind != order[o] || k->v6 != v6 ||
				    !(f & (tcp ? NS_TCP : NS_UDP)))
					continue;
				bool listening = tcp ? k->state == NET_LISTEN : k->rport == 0;
				if (!(f & (listening ? NS_LISTEN : NS_CONNECTED)))
					continue;
				char l[64], r[64];
				addr_text(k, true, l, sizeof(l));
				addr_text(k, false, r, sizeof(r));
				const char *st =
					tcp ? (k->state == NET_LISTEN ? "LISTEN" : "ESTABLISHED")
					    : (k->state == NET_ESTABLISHED ? "ESTABLISHED" : "");
				buf_printf(b, "%s   %6d %6d %-*s %-*s %-12s", tcp ? "tcp" : "udp",
					   0, 0, NET_ADDR_WIDTH, l, NET_ADDR_WIDTH, r, st);
				if (f & NS_PROG) {
					char pr[64];
					prog_of(c->sh, k->pid, pr, sizeof(pr));
					buf_printf(b, " %-*s", NET_PROG_WIDTH, pr);
				}
				buf_append_str(b, "\n");
			}
}

static void print_unix(struct cmd *c, struct buf *b, const struct nsock *v, size_t n, int f)
{
	buf_printf(b, "Active UNIX domain sockets %s\n", which_part(f));
	buf_printf(b, "Proto RefCnt Flags       Type       State         I-Node %sPath\n",
		   f & NS_PROG ? "PID/Program name    " : "");
	for (size_t i = 0; i < n; i++) {
		const struct nsock *k = &v[i];
		if (k->kind != PROFILE_SOCK_UNIX)
			continue;
		bool listening = !k->dgram;
		if ((f & (NS_LISTEN | NS_CONNECTED)) != (NS_LISTEN | NS_CONNECTED) &&
		    !(f & (listening ? NS_LISTEN : NS_CONNECTED)))
			continue;
		buf_printf(b, "%-5s %-6d %-11s %-10s %-13s %6lu ", "unix", 2,
			   listening ? "[ ACC ]" : "[ ]", k->dgram ? "DGRAM" : "STREAM",
			   listening ? "LISTENING" : "", k->inode);
		if (f & NS_PROG) {
			char pr[64];
			prog_of(c->sh, k->pid, pr, sizeof(pr));
			buf_printf(b, "%-*s", NET_PROG_WIDTH, pr);
		}
		buf_printf(b, "%s\n", k->path);
	}
}

/* netstat [-laentuwxrp]: BusyBox's, over the sockets /proc/net shows. -r prints the routes
 * of /proc/net/route as `route` does. */
int shell_cmd_netstat(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "laentuwxrWp", &g))
		return 1;
	int f = NS_CONNECTED;
	if (shell_opt(&g, 'l'))
		f = NS_LISTEN;
	if (shell_opt(&g, 'a'))
		f = NS_LISTEN | NS_CONNECTED;
	int proto = (shell_opt(&g, 't') ? NS_TCP : 0) | (shell_opt(&g, 'u') ? NS_UDP : 0) |
		    (shell_opt(&g, 'w') ? NS_RAW : 0) | (shell_opt(&g, 'x') ? NS_UNIX : 0);
	f |= proto ? proto : NS_TCP | NS_UDP | NS_RAW | NS_UNIX;
	if (shell_opt(&g, 'p'))
		f |= NS_PROG;
	bool route = shell_opt(&g, 'r'), numeric = shell_opt(&g, 'n');
	shell_opts_free(&g);
	if (route) {
		uint8_t mac[6], ip[4];
		shell_iface_identity(c->sh, mac, ip);
		char net[16], gw[16];
		snprintf(net, sizeof(net), "%u.%u.%u.0", ip[0], ip[1], ip[2]);
		snprintf(gw, sizeof(gw), "%u.%u.%u.1", ip[0], ip[1], ip[2]);
		shell_printf(
			c,
			"Kernel IP routing table\nDestination     Gateway         Genmask      "
			"   Flags   MSS Window  irtt Iface\n"
			"%-15s %-15s %-16s%-6s%5d %-5d %6d %s\n"
			"%-15s %-15s %-16s%-6s%5d %-5d %6d %s\n",
			net, numeric ? "0.0.0.0" : "*", "255.255.255.0", "U", 0, 0, 0, "eth0",
			numeric ? "0.0.0.0" : "default", gw, "0.0.0.0", "UG", 0, 0, 0, "eth0");
		return 0;
	}
	struct nsock *v;
	size_t n = net_socks(c->sh, &v);
	struct buf b;
	buf_init(&b, SH_PIPE_MAX);
	if (f & (NS_TCP | NS_UDP | NS_RAW))
		print_inet(c, &b, v, n, f);
	if (f & NS_UNIX)
		print_unix(c, &b, v, n, f);
	shell_out(c, b.data, b.len, false);
	buf_free(&b);
	free(v);
	return 0;
}

size_t shell_net_inodes(struct shell *sh, int pid, unsigned long *inodes, size_t cap)
{
	struct nsock *v;
	size_t n = net_socks(sh, &v), k = 0;
	for (size_t i = 0; i < n && k < cap; i++)
		if (v[i].pid == pid)
			inodes[k++] = v[i].inode;
	free(v);
	return k;
}

/* Replies of ping at most when no -c is given (one a second: ten minutes). */
#define NET_PING_MAX 600
/* ping's round trip to a host beyond the LAN: from NET_PING_WAN_MS to twice that, per
 * address; and the TTL such a reply arrives with. */
#define NET_PING_WAN_MS 20
#define NET_PING_WAN_TTL 52

/* ping [-c N] [-s SIZE] [-q] HOST: no packet is ever sent. An address literal answers as a
 * host that is up: a reply a second on the session's timer (sleep), BusyBox's lines and
 * statistics; a name is a "bad address" (no lookup is made). */
int shell_cmd_ping(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "46c:s:qw:W:I:t:i:Ap:", &g))
		return 1;
	if (g.noperands != 1) {
		shell_opts_free(&g);
		shell_usage(c, "ping");
		return 1;
	}
	const char *host = g.operands[0];
	long count = shell_optarg(&g, 'c') ? strtol(shell_optarg(&g, 'c'), NULL, 10) : 0;
	long size = shell_optarg(&g, 's') ? strtol(shell_optarg(&g, 's'), NULL, 10) : 56;
	bool quiet = shell_opt(&g, 'q');
	uint8_t a[4];
	if (inet_pton(AF_INET, host, a) != 1) {
		shell_err(c, "bad address '%s'", host);
		shell_opts_free(&g);
		return 1;
	}
	shell_opts_free(&g);
	uint8_t mac[6], ip[4];
	shell_iface_identity(c->sh, mac, ip);
	bool lo = a[0] == 127, lan = memcmp(a, ip, 3) == 0;
	int ttl = lo || lan ? 64 : NET_PING_WAN_TTL;
	/* microseconds: 0.05-0.15 ms on lo, 0.5-1.5 ms on the LAN, 20-40 ms beyond */
	unsigned base = lo    ? 50
			: lan ? 500
			      : NET_PING_WAN_MS * 1000u + (a[2] * 131u + a[3]) % 20000u;
	unsigned spread = lo ? 100 : lan ? 1000 : 5000;
	long n = count > 0 ? LIB_MIN(count, (long)NET_PING_MAX) : NET_PING_MAX;
	struct buf s;
	buf_init(&s, SH_PIPE_MAX);
	buf_printf(&s, "echo 'PING %s (%s): %ld data bytes'\ns=0\nwhile [ $s -lt %ld ]; do\n", host,
		   host, LIB_MAX(size, 0l), n);
	buf_printf(&s, "[ $s = 0 ] || sleep 1\n");
	if (!quiet)
		buf_printf(
			&s,
			"t=$((%u + ($s * 7919 + %u) %% %u))\n"
			"echo \"%ld bytes from %s: seq=$s ttl=%d time=$((t / 1000)).$((t / 100 %% "
			"10))$((t / 10 %% 10))$((t %% 10)) ms\"\n",
			base, a[3], spread, LIB_MAX(size, 0l) + 8, host, ttl);
	buf_printf(&s, "s=$((s + 1))\ndone\n");
	/* the statistics of the same round trips */
	unsigned mn = ~0u, mx = 0;
	unsigned long long sum = 0;
	for (long i = 0; i < n; i++) {
		unsigned t = base + ((unsigned)i * 7919u + a[3]) % spread;
		mn = LIB_MIN(mn, t);
		mx = LIB_MAX(mx, t);
		sum += t;
	}
	unsigned avg = (unsigned)(sum / (unsigned long long)n);
	buf_printf(&s,
		   "echo\necho '--- %s ping statistics ---'\necho '%ld packets transmitted, %ld "
		   "packets received, 0%% packet loss'\n",
		   host, n, n);
	if (size >= 16)
		buf_printf(&s, "echo 'round-trip min/avg/max = %u.%03u/%u.%03u/%u.%03u ms'\n",
			   mn / 1000, mn % 1000, avg / 1000, avg % 1000, mx / 1000, mx % 1000);
	int rc = shell_run_script(c, (const char *)s.data, s.len, "ping", NULL, 0, true, false);
	buf_free(&s);
	return rc;
}
