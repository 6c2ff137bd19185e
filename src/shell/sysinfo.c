/* shell/sysinfo: applets that describe the device, from the profile: ps (with the session's
 * own shells, minus what it killed), killall, pidof, uname, id, whoami, hostname, uptime,
 * free, df, mount, ifconfig, ip; and the two that start things: sh and busybox. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shell/internal.h"

static const struct profile *P(struct cmd *c)
{
	return c->sh->prof;
}

/* The text of a profile file (NULL if absent). */
static const char *pfile(struct cmd *c, const char *path, size_t *len)
{
	const struct profile_node *pn = shell_prof_node(P(c), path);
	if (!pn || pn->type != PROFILE_FILE || !pn->data)
		return NULL;
	*len = pn->len;
	return (const char *)pn->data;
}

/* A "Key: value kB" field of /proc/meminfo. */
static unsigned long meminfo(struct cmd *c, const char *key, unsigned long def)
{
	size_t len;
	const char *m = pfile(c, "/proc/meminfo", &len);
	if (!m)
		return def;
	size_t kl = strlen(key);
	const char *end = m + len;
	for (const char *p = m; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if ((size_t)(end - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == ':')
			return strtoul(p + kl + 1, NULL, 10);
		p = nl ? nl + 1 : end;
	}
	return def;
}

/* ------------------------------------------------------------------ processes */

int shell_cmd_ps(struct cmd *c)
{
	struct shell_pline *v;
	/* BusyBox ps without DESKTOP ignores its operands ("ps aux" works) */
	size_t n = shell_proc_list(c->sh, &v, "ps");
	struct buf b;
	buf_init(&b, SH_PIPE_MAX);
	buf_append_str(&b, "  PID USER       VSZ STAT COMMAND\n");
	for (size_t i = 0; i < n; i++) {
		char line[512];
		int l = snprintf(line, sizeof(line), "%5d %-8.8s %5s %-4s %s", v[i].pid, v[i].user,
				 v[i].vsz, v[i].stat, v[i].cmd);
		if (l > SH_TERM_WIDTH)
			l = SH_TERM_WIDTH;
		if (l > 0)
			buf_append(&b, line, (size_t)l);
		buf_append_str(&b, "\n");
	}
	shell_out(c, b.data, b.len, false);
	buf_free(&b);
	free(v);
	return 0;
}

/* "/usr/sbin/telnetd -l /bin/sh" -> "telnetd"; "[kthreadd]" -> "kthreadd" */
static const char *proc_name(const char *cmd, char buf[128])
{
	const char *s = cmd;
	if (*s == '[') {
		size_t l = strcspn(s + 1, "]");
		snprintf(buf, 128, "%.*s", (int)LIB_MIN(l, (size_t)127), s + 1);
		return buf;
	}
	size_t l = strcspn(s, " ");
	const char *e = s + l;
	const char *b = e;
	while (b > s && b[-1] != '/')
		b--;
	if (*b == '-')
		b++;
	snprintf(buf, 128, "%.*s", (int)LIB_MIN((size_t)(e - b), (size_t)127), b);
	return buf;
}

int shell_cmd_killall(struct cmd *c)
{
	int i = 1;
	bool quiet = false;
	for (; i < c->argc && c->argv[i][0] == '-'; i++)
		if (strcmp(c->argv[i], "-q") == 0)
			quiet = true;
	if (i >= c->argc) {
		shell_usage(c, "killall");
		return 1;
	}
	int st = 0;
	for (; i < c->argc; i++) {
		bool any = false;
		const struct profile *p = P(c);
		for (size_t k = 0; p && k < p->nprocs; k++) {
			const struct profile_proc *pr = &p->procs[k];
			char nb[128];
			if (shell_proc_killed(c->sh, pr->pid) ||
			    strcmp(proc_name(pr->command, nb), c->argv[i]) != 0)
				continue;
			any = true;
			if (pr->pid != 1 && pr->command[0] != '[')
				shell_proc_kill(c->sh, pr->pid);
		}
		if (!any) {
			if (!quiet)
				shell_err(c, "%s: no process killed", c->argv[i]);
			st = 1;
		}
	}
	return st;
}

int shell_cmd_pidof(struct cmd *c)
{
	struct shell_pline *v;
	size_t n = shell_proc_list(c->sh, &v, NULL);
	bool any = false;
	for (int i = 1; i < c->argc; i++) {
		if (c->argv[i][0] == '-')
			continue;
		for (size_t k = n; k-- > 0;) {
			char nb[128];
			if (strcmp(proc_name(v[k].cmd, nb), c->argv[i]) == 0) {
				shell_printf(c, "%s%d", any ? " " : "", v[k].pid);
				any = true;
			}
		}
	}
	if (any)
		shell_outs(c, "\n");
	free(v);
	return any ? 0 : 1;
}

/* ------------------------------------------------------------------ identity */

int shell_cmd_uname(struct cmd *c)
{
	const struct profile *p = P(c);
	const char *f[8] = {
		p && p->uname_s ? p->uname_s : "Linux",
		p && p->hostname ? p->hostname : "(none)",
		p && p->uname_r ? p->uname_r : "",
		p && p->uname_v ? p->uname_v : "",
		p && p->uname_m ? p->uname_m : "",
		"unknown",
		"unknown",
		p && p->uname_o ? p->uname_o : "GNU/Linux",
	};
	unsigned sel = 0;
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] != '-' || !a[1]) {
			shell_usage(c, "uname");
			return 1;
		}
		if (strcmp(a, "--help") == 0) {
			shell_usage(c, "uname");
			return 0;
		}
		for (const char *q = a + 1; *q; q++) {
			const char *opts = "snrvmpio";
			const char *o = strchr(opts, *q);
			if (*q == 'a')
				sel |= 0x9f; /* s n r v m o */
			else if (o)
				sel |= 1u << (o - opts);
			else {
				c->name = "uname";
				return shell_bad_option(c, *q);
			}
		}
	}
	if (!sel)
		sel = 1;
	struct buf b;
	buf_init(&b, 4096);
	for (int i = 0; i < 8; i++)
		if (sel & (1u << i)) {
			if (b.len)
				buf_append(&b, " ", 1);
			buf_append_str(&b, f[i]);
		}
	buf_append(&b, "\n", 1);
	shell_out(c, b.data, b.len, false);
	buf_free(&b);
	return 0;
}

static void group_of(struct cmd *c, uint32_t gid, char *out, size_t n)
{
	size_t len;
	const char *g = pfile(c, "/etc/group", &len);
	if (g) {
		const char *end = g + len;
		for (const char *p = g; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *le = nl ? nl : end;
			const char *c1 = memchr(p, ':', (size_t)(le - p));
			const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
			if (c2 && strtoul(c2 + 1, NULL, 10) == gid) {
				snprintf(out, n, "%.*s", (int)(c1 - p), p);
				return;
			}
			p = nl ? nl + 1 : end;
		}
	}
	if (gid == 0)
		snprintf(out, n, "root");
	else
		snprintf(out, n, "%u", gid);
}

/* " groups=" as id prints what login's initgroups() gave the shell: the user's own group,
 * then every group of /etc/group that lists the user, in file order. */
static void print_groups(struct cmd *c, const char *user, uint32_t gid)
{
	char gn[64];
	group_of(c, gid, gn, sizeof(gn));
	shell_printf(c, " groups=%u(%s)", gid, gn);
	size_t len, ulen = strlen(user);
	const char *g = pfile(c, "/etc/group", &len);
	const char *end = g ? g + len : NULL;
	for (const char *p = g; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *f[4] = {p, NULL, NULL, NULL}; /* name, password, gid, members */
		for (int k = 1; k < 4 && f[k - 1]; k++) {
			const char *col = memchr(f[k - 1], ':', (size_t)(le - f[k - 1]));
			f[k] = col ? col + 1 : NULL;
		}
		for (const char *m = f[3]; m && m < le;) {
			const char *comma = memchr(m, ',', (size_t)(le - m));
			const char *me = comma ? comma : le;
			uint32_t id = (uint32_t)strtoul(f[2], NULL, 10);
			if ((size_t)(me - m) == ulen && memcmp(m, user, ulen) == 0 && id != gid) {
				shell_printf(c, ",%u(%.*s)", id, (int)(f[1] - 1 - f[0]), f[0]);
				break;
			}
			m = comma ? comma + 1 : le;
		}
		p = nl ? nl + 1 : end;
	}
}

int shell_cmd_id(struct cmd *c)
{
	const char *user = P(c) && P(c)->user ? P(c)->user : "root";
	uint32_t uid = c->sh->vfs.uid, gid = c->sh->vfs.gid;
	char gn[64];
	group_of(c, gid, gn, sizeof(gn));
	if (c->argc > 1 && strcmp(c->argv[1], "-u") == 0) {
		shell_printf(c, "%u\n", uid);
		return 0;
	}
	if (c->argc > 1 && strcmp(c->argv[1], "-un") == 0) {
		shell_printf(c, "%s\n", user);
		return 0;
	}
	if (c->argc > 1 && strcmp(c->argv[1], "-g") == 0) {
		shell_printf(c, "%u\n", gid);
		return 0;
	}
	shell_printf(c, "uid=%u(%s) gid=%u(%s)", uid, user, gid, gn);
	print_groups(c, user, gid);
	shell_outs(c, "\n");
	return 0;
}

int shell_cmd_whoami(struct cmd *c)
{
	shell_printf(c, "%s\n", P(c) && P(c)->user ? P(c)->user : "root");
	return 0;
}

/* who [-aH]: the devices have no utmp file (their telnetd and login write none), so it lists
 * nobody, as BusyBox does then; -H prints its header all the same. */
int shell_cmd_who(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "aH", &g))
		return 1;
	if (shell_opt(&g, 'H'))
		shell_outs(c, "USER\t\tTTY\t\tIDLE\tTIME\t\t HOST\n");
	shell_opts_free(&g);
	return 0;
}

int shell_cmd_hostname(struct cmd *c)
{
	if (c->argc > 1 && c->argv[1][0] != '-')
		return c->sh->vfs.uid == 0
			       ? 0
			       : (shell_err(c, "sethostname: Operation not permitted"), 1);
	shell_printf(c, "%s\n", P(c) && P(c)->hostname ? P(c)->hostname : "(none)");
	return 0;
}

int shell_cmd_nproc(struct cmd *c)
{
	size_t len;
	const char *ci = pfile(c, "/proc/cpuinfo", &len);
	int n = 0;
	if (ci) {
		const char *end = ci + len;
		for (const char *p = ci; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if ((size_t)(end - p) >= 9 && memcmp(p, "processor", 9) == 0)
				n++;
			p = nl ? nl + 1 : end;
		}
	}
	shell_printf(c, "%d\n", n ? n : 1);
	return 0;
}

/* ------------------------------------------------------------------ resources */

int shell_cmd_uptime(struct cmd *c)
{
	double up = shell_uptime(c->sh), la[3];
	shell_loadavg(c->sh, la);
	double l1 = la[0], l5 = la[1], l15 = la[2];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	unsigned long s = (unsigned long)up;
	unsigned long days = s / 86400, hours = (s / 3600) % 24, mins = (s / 60) % 60;
	struct buf b;
	buf_init(&b, 256);
	buf_printf(&b, " %02d:%02d:%02d up ", tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (days)
		buf_printf(&b, "%lu day%s, ", days, days != 1 ? "s" : "");
	if (hours)
		buf_printf(&b, "%2lu:%02lu, ", hours, mins);
	else
		buf_printf(&b, "%lu min, ", mins);
	buf_printf(&b, " load average: %.2f, %.2f, %.2f\n", l1, l5, l15);
	shell_out(c, b.data, b.len, false);
	buf_free(&b);
	return 0;
}

int shell_cmd_free(struct cmd *c)
{
	unsigned long total = meminfo(c, "MemTotal", 60000), fr = meminfo(c, "MemFree", 20000);
	unsigned long bufs = meminfo(c, "Buffers", 0), cached = meminfo(c, "Cached", 0);
	unsigned long shared = meminfo(c, "Shmem", 0), stotal = meminfo(c, "SwapTotal", 0),
		      sfree = meminfo(c, "SwapFree", 0);
	unsigned long used = total > fr ? total - fr : 0;
	if (shell_bb_at_least(c->sh, 1, 30)) {
		unsigned long avail = meminfo(c, "MemAvailable", fr + cached);
		unsigned long bc = bufs + cached;
		shell_printf(
			c,
			"              total        used        free      shared  buff/cache   "
			"available\n"
			"Mem:     %10lu  %10lu  %10lu  %10lu  %10lu  %10lu\n"
			"Swap:    %10lu  %10lu  %10lu\n",
			total, used > bc ? used - bc : used, fr, shared, bc, avail, stotal,
			stotal - sfree, sfree);
		return 0;
	}
	shell_printf(c,
		     "             total       used       free     shared    buffers     cached\n"
		     "Mem:    %10lu %10lu %10lu %10lu %10lu %10lu\n"
		     "-/+ buffers/cache: %10lu %10lu\n"
		     "Swap:   %10lu %10lu %10lu\n",
		     total, used, fr, shared, bufs, cached,
		     used > bufs + cached ? used - bufs - cached : used, fr + bufs + cached, stotal,
		     stotal - sfree, sfree);
	return 0;
}

/* Sizes for df from what the profile says: RAM for tmpfs, file bytes for the root image. */
static void fs_size(struct cmd *c, const struct vfs_mount *m, unsigned long *total,
		    unsigned long *used)
{
	unsigned long mem = meminfo(c, "MemTotal", 60000);
	if (strcmp(m->type, "tmpfs") == 0 || strcmp(m->type, "ramfs") == 0 ||
	    strcmp(m->type, "devtmpfs") == 0) {
		*total = mem / 2;
		size_t bytes = 0;
		const struct profile *p = P(c);
		size_t dl = strlen(m->dir);
		for (size_t i = 0; p && i < p->nnodes; i++)
			if (strncmp(p->nodes[i].path, m->dir, dl) == 0 &&
			    p->nodes[i].type == PROFILE_FILE)
				bytes += p->nodes[i].len;
		*used = (unsigned long)((bytes + c->sh->vfs.bytes) / 1024);
		if (*used > *total)
			*used = *total;
		return;
	}
	size_t bytes = 0;
	const struct profile *p = P(c);
	for (size_t i = 0; p && i < p->nnodes; i++)
		if (p->nodes[i].type == PROFILE_FILE)
			bytes += p->nodes[i].len;
	*used = (unsigned long)(bytes / 1024) + 1;
	*total = strstr(m->opts, "ro") == m->opts ? *used : *used * 2 + 1024;
}

int shell_cmd_df(struct cmd *c)
{
	size_t len;
	const char *mt = pfile(c, "/proc/mounts", &len);
	struct buf b;
	buf_init(&b, 65536);
	buf_append_str(&b, "Filesystem           1K-blocks      Used Available Use% Mounted on\n");
	const char *end = mt ? mt + len : NULL;
	for (const char *p = mt; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct vfs_mount m;
		char line[600];
		size_t ll = LIB_MIN((size_t)(le - p), sizeof(line) - 1);
		memcpy(line, p, ll);
		line[ll] = 0;
		p = nl ? nl + 1 : end;
		if (sscanf(line, "%63s %255s %31s %255s", m.dev, m.dir, m.type, m.opts) != 4)
			continue;
		static const char *const pseudo[] = {
			"rootfs",   "proc",       "sysfs",  "devpts", "usbfs",
			"debugfs",  "securityfs", "cgroup", "mqueue", "binfmt_misc",
			"configfs", "pstore",     "tracefs"};
		bool skip = false;
		for (size_t k = 0; k < LIB_ARRAY_LEN(pseudo); k++)
			if (strcmp(m.type, pseudo[k]) == 0)
				skip = true;
		if (skip)
			continue;
		unsigned long total, used;
		fs_size(c, &m, &total, &used);
		unsigned long avail = total > used ? total - used : 0;
		unsigned pct = total ? (unsigned)((used * 100 + total - 1) / total) : 0;
		buf_printf(&b, "%-20s %9lu %9lu %9lu %3u%% %s\n", m.dev, total, used, avail, pct,
			   m.dir);
	}
	shell_out(c, b.data, b.len, false);
	buf_free(&b);
	return 0;
}

int shell_cmd_mount(struct cmd *c)
{
	if (c->argc > 1) {
		/* mounting as root: accepted, with no effect on the emulated tree */
		return c->sh->vfs.uid == 0 ? 0
					   : (shell_err(c, "permission denied (are you root?)"), 1);
	}
	size_t len;
	const char *mt = pfile(c, "/proc/mounts", &len);
	const char *end = mt ? mt + len : NULL;
	for (const char *p = mt; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char line[600], dev[64], dir[256], type[32], opts[256];
		size_t ll = LIB_MIN((size_t)(le - p), sizeof(line) - 1);
		memcpy(line, p, ll);
		line[ll] = 0;
		p = nl ? nl + 1 : end;
		if (sscanf(line, "%63s %255s %31s %255s", dev, dir, type, opts) == 4)
			shell_printf(c, "%s on %s type %s (%s)\n", dev, dir, type, opts);
	}
	return 0;
}

/* ------------------------------------------------------------------ network */

/* Interface identity derived from the hostname, stable per profile. */
void shell_iface_identity(const struct shell *sh, uint8_t mac[6], uint8_t ip[4])
{
	const char *h = sh->prof && sh->prof->hostname ? sh->prof->hostname : "device";
	static const uint8_t key[16] = "mitsu-shell-ifc";
	uint64_t x = lib_siphash(h, strlen(h), key);
	mac[0] = 0x00;
	mac[1] = 0x12;
	mac[2] = (uint8_t)(x >> 8);
	mac[3] = (uint8_t)(x >> 16);
	mac[4] = (uint8_t)(x >> 24);
	mac[5] = (uint8_t)(x >> 32);
	ip[0] = 192;
	ip[1] = 168;
	ip[2] = 1;
	ip[3] = (uint8_t)(10 + (x >> 40) % 200);
}

int shell_cmd_ifconfig(struct cmd *c)
{
	if (c->argc > 2)
		return c->sh->vfs.uid == 0 ? 0 : 1;
	uint8_t mac[6], ip[4];
	shell_iface_identity(c->sh, mac, ip);
	bool only_lo = c->argc == 2 && strcmp(c->argv[1], "lo") == 0;
	if (c->argc == 2 && !only_lo && strcmp(c->argv[1], "eth0") != 0 &&
	    strcmp(c->argv[1], "-a") != 0) {
		shell_errf(c,
			   "ifconfig: %s: error fetching interface information: Device not found\n",
			   c->argv[1]);
		return 1;
	}
	if (!only_lo)
		shell_printf(
			c,
			"eth0      Link encap:Ethernet  HWaddr %02X:%02X:%02X:%02X:%02X:%02X  \n"
			"          inet addr:%u.%u.%u.%u  Bcast:%u.%u.%u.255  Mask:255.255.255.0\n"
			"          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n"
			"          RX packets:%llu errors:0 dropped:0 overruns:0 frame:0\n"
			"          TX packets:%llu errors:0 dropped:0 overruns:0 carrier:0\n"
			"          collisions:0 txqueuelen:1000 \n"
			"          RX bytes:%llu (270.6 MiB)  TX bytes:%llu (1.0 GiB)\n"
			"          Interrupt:36 \n\n",
			mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], ip[0], ip[1], ip[2], ip[3],
			ip[0], ip[1], ip[2], SH_ETH0_RX_PACKETS, SH_ETH0_TX_PACKETS,
			SH_ETH0_RX_BYTES, SH_ETH0_TX_BYTES);
	if (c->argc == 1 || only_lo || strcmp(c->argv[1], "-a") == 0)
		shell_printf(c,
			     "lo        Link encap:Local Loopback  \n"
			     "          inet addr:127.0.0.1  Mask:255.0.0.0\n"
			     "          UP LOOPBACK RUNNING  MTU:16436  Metric:1\n"
			     "          RX packets:%llu errors:0 dropped:0 overruns:0 frame:0\n"
			     "          TX packets:%llu errors:0 dropped:0 overruns:0 carrier:0\n"
			     "          collisions:0 txqueuelen:0 \n"
			     "          RX bytes:%llu (160.8 KiB)  TX bytes:%llu (160.8 KiB)\n\n",
			     SH_LO_PACKETS, SH_LO_PACKETS, SH_LO_BYTES, SH_LO_BYTES);
	return 0;
}

int shell_cmd_ip(struct cmd *c)
{
	uint8_t mac[6], ip[4];
	shell_iface_identity(c->sh, mac, ip);
	const char *obj = c->argc > 1 ? c->argv[1] : "";
	if (!*obj) {
		shell_errf(
			c,
			"%s\n\nUsage: ip [OPTIONS] address|route|link|tunnel|neigh|rule "
			"[COMMAND]\n\n"
			"OPTIONS := -f[amily] inet|inet6|link | -o[neline]\n"
			"COMMAND := ip addr add|del IFADDR dev IFACE | ip addr flush dev IFACE [to "
			"PREFIX]\n",
			c->sh->prof && c->sh->prof->busybox_banner ? c->sh->prof->busybox_banner
								   : "BusyBox");
		return 1;
	}
	if (strncmp(obj, "addr", 4) == 0 || strcmp(obj, "a") == 0) {
		shell_printf(c,
			     "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 16436 qdisc noqueue \n"
			     "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
			     "    inet 127.0.0.1/8 scope host lo\n"
			     "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast "
			     "qlen 1000\n"
			     "    link/ether %02x:%02x:%02x:%02x:%02x:%02x brd ff:ff:ff:ff:ff:ff\n"
			     "    inet %u.%u.%u.%u/24 brd %u.%u.%u.255 scope global eth0\n",
			     mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], ip[0], ip[1], ip[2],
			     ip[3], ip[0], ip[1], ip[2]);
		return 0;
	}
	if (strncmp(obj, "ro", 2) == 0 || strcmp(obj, "r") == 0) {
		shell_printf(c,
			     "default via %u.%u.%u.1 dev eth0 \n%u.%u.%u.0/24 dev eth0  src "
			     "%u.%u.%u.%u \n",
			     ip[0], ip[1], ip[2], ip[0], ip[1], ip[2], ip[0], ip[1], ip[2], ip[3]);
		return 0;
	}
	if (strncmp(obj, "li", 2) == 0 || strcmp(obj, "l") == 0) {
		shell_printf(c,
			     "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 16436 qdisc noqueue \n"
			     "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
			     "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast "
			     "qlen 1000\n"
			     "    link/ether %02x:%02x:%02x:%02x:%02x:%02x brd ff:ff:ff:ff:ff:ff\n",
			     mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return 0;
	}
	shell_errf(c, "ip: unknown command '%s'\n", obj);
	return 1;
}

/* ------------------------------------------------------------------ sh, busybox */

int shell_cmd_sh(struct cmd *c)
{
	struct shell *sh = c->sh;
	const char *cmdstr = NULL;
	int i = 1;
	for (; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if ((a[0] != '-' && a[0] != '+') || !a[1])
			break;
		if (strcmp(a, "-c") == 0 || (a[0] == '-' && strchr(a, 'c') && a[1] != '-')) {
			if (i + 1 >= c->argc) {
				shell_errf(c, "%s: -c requires an argument\n", c->name);
				return 2;
			}
			cmdstr = c->argv[++i];
			continue;
		}
		if (a[0] == '-' && (strchr(a, 'o') || strchr(a, 'O')))
			i++;
	}
	if (cmdstr) {
		const char *name = i < c->argc ? c->argv[i] : c->name;
		char **args = i + 1 < c->argc ? c->argv + i + 1 : NULL;
		size_t nargs = i + 1 < c->argc ? (size_t)(c->argc - i - 1) : 0;
		return shell_run_script(c, cmdstr, strlen(cmdstr), name, args, nargs, true, false);
	}
	if (i < c->argc) {
		const char *file = c->argv[i];
		char abs[SH_PATH_MAX];
		struct vstat st;
		bool pok;
		int rc = shell_vfs_resolve(&sh->vfs, sh->lvl->cwd, file, true, abs, &st, &pok);
		if (rc || st.kind != VN_FILE) {
			if (shell_bb_at_least(sh, 1, 26))
				shell_errf(c, "%s: can't open '%s': %s\n", c->name, file,
					   shell_strerror(rc ? -rc : EISDIR));
			else
				shell_errf(c, "%s: can't open '%s'\n", c->name, file);
			return shell_bb_at_least(sh, 1, 26) ? 127 : 2;
		}
		if (st.ve && st.ve->data)
			shell_vfs_report(&sh->vfs, st.ve->data, abs);
		char *copy = xmalloc(st.size + 1);
		if (st.size)
			memcpy(copy, st.data, st.size);
		copy[st.size] = 0;
		int r = shell_run_script(c, copy, st.size, file, c->argv + i + 1,
					 (size_t)(c->argc - i - 1), true, true);
		free(copy);
		return r;
	}
	struct fobj *in = c->f->fd[0];
	if (in && (in->kind == FO_TTY || (in->kind == FO_DEV && in->dev == VDEV_TTY)))
		return shell_run_interactive(c);
	/* commands from a pipe or a file */
	size_t n;
	bool att;
	const uint8_t *p = shell_stdin(c, &n, &att);
	char *copy = xmalloc(n + 1);
	if (n)
		memcpy(copy, p, n);
	copy[n] = 0;
	int r = shell_run_script(c, copy, n, c->name, NULL, 0, true, false);
	free(copy);
	return r;
}

int shell_cmd_busybox(struct cmd *c)
{
	struct shell *sh = c->sh;
	if (c->argc < 2 || (c->argc == 2 && strcmp(c->argv[1], "--help") == 0)) {
		shell_busybox_banner(c);
		return 0;
	}
	const char *a1 = c->argv[1];
	if (strncmp(a1, "--list", 6) == 0) {
		for (size_t i = 0; sh->prof && i < sh->prof->napplets; i++) {
			const char *n = sh->prof->applets[i];
			if (strcmp(a1, "--list-full") == 0) {
				/* the folder of the applet's link in the profile */
				static const char *const dirs[] = {"bin/", "sbin/", "usr/bin/",
								   "usr/sbin/"};
				const char *d = "bin/";
				for (size_t k = 0; k < LIB_ARRAY_LEN(dirs); k++) {
					char path[256];
					snprintf(path, sizeof(path), "/%s%s", dirs[k], n);
					if (shell_prof_node(sh->prof, path)) {
						d = dirs[k];
						break;
					}
				}
				shell_printf(c, "%s%s\n", d, n);
			} else {
				shell_printf(c, "%s\n", n);
			}
		}
		return 0;
	}
	if (strcmp(a1, "--install") == 0)
		return 0;
	char **saved = c->argv;
	int savedc = c->argc;
	if (strcmp(a1, "--help") == 0) {
		/* "busybox --help APPLET" is "APPLET --help" */
		static char help[] = "--help";
		char *v[3] = {c->argv[2], help, NULL};
		c->argv = v;
		c->argc = 2;
		const char *name = shell_basename_of_cmd(v[0]);
		int rc;
		if (shell_prof_has_applet(sh->prof, name))
			rc = shell_applet(c, name);
		else {
			shell_errf(c, "%s: applet not found\n", name);
			rc = shell_bb_at_least(sh, 1, 27) ? 127 : 1;
		}
		c->argv = saved;
		c->argc = savedc;
		return rc;
	}
	const char *name = shell_basename_of_cmd(a1);
	c->argv++;
	c->argc--;
	int rc;
	if (shell_prof_has_applet(sh->prof, name) || (!sh->prof && shell_applet_known(name))) {
		/* ash's builtins (echo, printf, test, kill...) are applets too through busybox */
		rc = shell_applet(c, name);
	} else {
		shell_errf(c, "%s: applet not found\n", name);
		rc = shell_bb_at_least(sh, 1, 27) ? 127 : 1;
	}
	c->argv = saved;
	c->argc = savedc;
	return rc;
}
