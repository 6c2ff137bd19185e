/* shell/procfs: the /proc a session sees, consistent with ps: a folder per listed process
 * (cmdline, stat, status, exe), self, and uptime and loadavg that agree with the uptime applet
 * and move with time. Files the profile ships (cpuinfo, meminfo, mounts, version, mtd...) are
 * the profile's; these are made when looked up (the vfs keeps the last few). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

/* Seconds the device has been up when a profile ships no /proc/uptime. */
#define PROCFS_DEFAULT_UPTIME (86400.0 * 3 + 4000)
/* ps's vsz of a session shell when the profile lists no shell to copy it from. */
#define PROCFS_SHELL_VSZ "1532"
/* Clock ticks per second of the device's kernel (USER_HZ): /proc/<pid>/stat counts in them. */
#define PROCFS_HZ 100
/* One interface of /proc/net/dev, as Linux 3.x prints it (errors and drops all 0). */
#define PROCFS_NETDEV_ROW \
	"%6s:%8llu %7llu    0    0    0     0          0         0 %8llu %7llu    0    0    0    " \
	" 0 " \
	"      0          0\n"
/* Descriptors listed in /proc/<pid>/fd at most. */
#define PROCFS_FDS_MAX 16
/* ash keeps the terminal open on this descriptor for job control. */
#define PROCFS_ASH_TTY_FD 10
/* mtdblock devices' block major (MTD_BLOCK_MAJOR). */
#define PROCFS_MTDBLOCK_MAJOR 31
/* Context switches and interrupts per second of uptime in /proc/stat (a quiet SoC). */
#define PROCFS_CTXT_PER_S 180
#define PROCFS_INTR_PER_S 120
/* Pages of a process's resident set, shown as a fraction of its vsz. */
#define PROCFS_PAGE_KB 4

static int pline_cmp(const void *a, const void *b)
{
	return ((const struct shell_pline *)a)->pid - ((const struct shell_pline *)b)->pid;
}

static bool kernel_thread(const char *cmd)
{
	return cmd[0] == '[';
}

/* The parent a device process would have: init and kthreadd are children of 0, kernel threads
 * of kthreadd (2), the rest of init. */
static int device_ppid(const struct profile_proc *pr)
{
	if (pr->pid <= 2)
		return 0;
	return kernel_thread(pr->command) ? 2 : 1;
}

size_t shell_proc_list(struct shell *sh, struct shell_pline **out, const char *self_cmd)
{
	const struct profile *p = sh->prof;
	size_t n = p ? p->nprocs : 0;
	struct shell_pline *v = xcalloc(n + SH_LEVELS_MAX + 2, sizeof(*v));
	size_t k = 0;
	const char *shvsz = PROCFS_SHELL_VSZ;
	int telnetd = 1;
	for (size_t i = 0; i < n; i++) {
		const struct profile_proc *pr = &p->procs[i];
		if (shell_proc_killed(sh, pr->pid))
			continue;
		v[k++] = (struct shell_pline){pr->pid, device_ppid(pr), pr->user,
					      pr->vsz, pr->stat,        pr->command};
		if (strcmp(pr->command, "init") == 0 || strstr(pr->command, "sh"))
			shvsz = pr->vsz;
		if (strstr(pr->command, "telnetd"))
			telnetd = pr->pid;
	}
	int pids[SH_LEVELS_MAX];
	size_t np = shell_shell_pids(sh, pids, SH_LEVELS_MAX);
	const char *user = p && p->user ? p->user : "root";
	const char *login = p && p->shell_name ? p->shell_name : "-sh";
	/* pids[] is innermost first: the login shell (last) is telnetd's child */
	for (size_t i = 0; i < np; i++)
		v[k++] = (struct shell_pline){pids[i], i + 1 == np ? telnetd : pids[i + 1],
					      user,    shvsz,
					      "S",     i + 1 == np ? login : "sh"};
	if (self_cmd)
		v[k++] = (struct shell_pline){sh->next_pid++, np ? pids[0] : 1, user, shvsz, "R",
					      self_cmd};
	qsort(v, k, sizeof(*v), pline_cmp);
	*out = v;
	return k;
}

double shell_uptime(struct shell *sh)
{
	const struct profile_node *n = sh->prof ? shell_prof_node(sh->prof, "/proc/uptime") : NULL;
	double up = n && n->data ? strtod((const char *)n->data, NULL) : PROCFS_DEFAULT_UPTIME;
	return up + (double)(shell_now() - sh->start_time);
}

void shell_loadavg(struct shell *sh, double la[3])
{
	la[0] = la[1] = la[2] = 0;
	const struct profile_node *n = sh->prof ? shell_prof_node(sh->prof, "/proc/loadavg") : NULL;
	if (n && n->data)
		sscanf((const char *)n->data, "%lf %lf %lf", &la[0], &la[1], &la[2]);
}

/* The process of a /proc/<pid> path, and what follows the pid ("" or "/stat"...). */
static bool find_proc(struct shell *sh, const char *path, struct shell_pline *pl, const char **rest)
{
	char *end;
	long pid = strtol(path + 6, &end, 10);
	if (end == path + 6 || (*end && *end != '/') || pid <= 0)
		return false;
	struct shell_pline *v;
	size_t n = shell_proc_list(sh, &v, NULL);
	bool found = false;
	for (size_t i = 0; i < n && !found; i++)
		if (v[i].pid == pid) {
			*pl = v[i];
			found = true;
		}
	free(v);
	*rest = end;
	return found;
}

/* "telnetd" of "/usr/sbin/telnetd -l /bin/sh", "kthreadd" of "[kthreadd]", "sh" of "-sh". */
static void comm_of(const char *cmd, char out[16])
{
	const char *s = cmd, *e;
	if (*s == '[') {
		s++;
		e = s + strcspn(s, "]");
	} else {
		e = s + strcspn(s, " ");
		const char *b = e;
		while (b > s && b[-1] != '/')
			b--;
		s = b + (*b == '-');
	}
	snprintf(out, 16, "%.*s", (int)(e - s), s);
}

/* The program a process runs, as /proc/<pid>/exe names it: its first word found in the
 * device's tree (absolute, or in the folders of a default PATH) with links followed, so the
 * applets are /bin/busybox. Empty for kernel threads. */
static void exe_of(struct shell *sh, const char *cmd, char *out, size_t cap)
{
	out[0] = 0;
	if (kernel_thread(cmd))
		return;
	char word[SH_PATH_MAX];
	size_t l = strcspn(cmd, " ");
	snprintf(word, sizeof(word), "%.*s", (int)l, cmd + (*cmd == '-'));
	static const char *const dirs[] = {"", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(dirs); i++) {
		if ((word[0] == '/') != (i == 0))
			continue;
		char try[SH_PATH_MAX + 16], abs[SH_PATH_MAX];
		snprintf(try, sizeof(try), "%s%s", dirs[i], word);
		struct vstat st;
		bool pok;
		if (shell_vfs_resolve(&sh->vfs, "/", try, true, abs, &st, &pok) == 0 &&
		    st.kind == VN_FILE) {
			lib_strlcpy(out, abs, cap);
			return;
		}
	}
}

static void gen_status(struct shell *sh, const struct shell_pline *pl, struct buf *b)
{
	char comm[16];
	comm_of(pl->cmd, comm);
	char st = pl->stat[0];
	const char *what = st == 'R'   ? "R (running)"
			   : st == 'D' ? "D (disk sleep)"
				       : "S (sleeping)";
	uint32_t id = strcmp(pl->user, "root") == 0 ? 0 : sh->vfs.uid;
	buf_printf(b,
		   "Name:\t%s\nState:\t%s\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n"
		   "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t32\nGroups:\t\n",
		   comm, what, pl->pid, pl->pid, pl->ppid, id, id, id, id, id, id, id, id);
	if (!kernel_thread(pl->cmd))
		buf_printf(b, "VmSize:\t%8s kB\n", pl->vsz);
	buf_printf(b, "Threads:\t1\nSigQ:\t0/%u\n", 1024u);
}

/* /proc/<pid>/stat: the 44 fields of a 3.x kernel, times in clock ticks since boot. */
static void gen_stat(struct shell *sh, const struct shell_pline *pl, struct buf *b)
{
	char comm[16];
	comm_of(pl->cmd, comm);
	unsigned long start =
		pl->pid < 100 ? (unsigned long)pl->pid : 1000ul + (unsigned long)pl->pid;
	unsigned long vsz = strtoul(pl->vsz, NULL, 10);
	if (strchr(pl->vsz, 'm'))
		vsz = (unsigned long)(strtod(pl->vsz, NULL) * 1024);
	buf_printf(b,
		   "%d (%s) %c %d %d %d 0 -1 %u 0 0 0 0 0 0 0 0 20 0 1 0 %lu %lu %lu 4294967295 "
		   "0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		   pl->pid, comm, pl->stat[0], pl->ppid, pl->pid, pl->pid,
		   kernel_thread(pl->cmd) ? 0x208040u : 0x400100u, start * PROCFS_HZ / 100,
		   vsz * 1024, vsz / PROCFS_PAGE_KB / 4);
}

/* The descriptors of a process, as /proc/<pid>/fd shows them: the session's shells and ps
 * have the terminal (ash also on fd 10), getty its serial line, telnetd and the servers
 * /dev/null then their sockets (telnetd also the session's connection and /dev/ptmx), kernel
 * threads none. Returns how many targets were written. */
static size_t fds_of(struct shell *sh, const struct shell_pline *pl, int fds[], char targets[][32])
{
	if (kernel_thread(pl->cmd))
		return 0;
	size_t n = 0;
	bool own = strcmp(pl->cmd, "sh") == 0 || pl->cmd[0] == '-' || strcmp(pl->cmd, "ps") == 0;
	const char *tty = strstr(pl->cmd, "getty") ? strstr(pl->cmd, "tty") : NULL;
	char ttyname[32] = "/dev/null";
	if (own)
		snprintf(ttyname, sizeof(ttyname), "/dev/pts/0");
	else if (tty && strstr(tty + 3, "tty"))
		snprintf(ttyname, sizeof(ttyname), "/dev/%.*s",
			 (int)strcspn(strstr(tty + 3, "tty"), " "), strstr(tty + 3, "tty"));
	for (int i = 0; i < 3; i++, n++) {
		fds[n] = i;
		snprintf(targets[n], 32, "%s", ttyname);
	}
	if (own && strcmp(pl->cmd, "ps") != 0) {
		fds[n] = PROCFS_ASH_TTY_FD;
		snprintf(targets[n++], 32, "/dev/tty");
	}
	unsigned long ino[PROCFS_FDS_MAX];
	size_t ni = shell_net_inodes(sh, pl->pid, ino, PROCFS_FDS_MAX - 5);
	for (size_t i = 0; i < ni; i++, n++) {
		fds[n] = (int)n;
		snprintf(targets[n], 32, "socket:[%lu]", ino[i]);
	}
	if (ni > 1 && strstr(pl->cmd, "telnetd") && sh->peer_ip) {
		fds[n] = (int)n;
		snprintf(targets[n++], 32, "/dev/ptmx");
	}
	return n;
}

static int gen_fd(struct shell *sh, const struct shell_pline *pl, const char *rest, struct vgen *g)
{
	int fds[PROCFS_FDS_MAX];
	char targets[PROCFS_FDS_MAX][32];
	size_t n = fds_of(sh, pl, fds, targets);
	if (!*rest) {
		g->kind = VN_DIR;
		return 0;
	}
	char *end;
	long fd = strtol(rest + 1, &end, 10);
	if (rest[0] != '/' || end == rest + 1 || *end)
		return -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (fds[i] == fd) {
			g->kind = VN_LINK;
			buf_append_str(&g->data, targets[i]);
			return 0;
		}
	return -ENOENT;
}

static int gen_pid(struct shell *sh, const struct shell_pline *pl, const char *rest, struct vgen *g)
{
	if (strncmp(rest, "/fd", 3) == 0 && (rest[3] == 0 || rest[3] == '/'))
		return gen_fd(sh, pl, rest + 3, g);
	if (!*rest) {
		g->kind = VN_DIR;
		return 0;
	}
	g->kind = VN_FILE;
	if (strcmp(rest, "/cmdline") == 0) {
		if (!kernel_thread(pl->cmd)) {
			for (const char *s = pl->cmd; *s; s++)
				buf_append(&g->data, *s == ' ' ? "" : s, 1);
			buf_append(&g->data, "", 1);
		}
		return 0;
	}
	if (strcmp(rest, "/status") == 0) {
		gen_status(sh, pl, &g->data);
		return 0;
	}
	if (strcmp(rest, "/stat") == 0) {
		gen_stat(sh, pl, &g->data);
		return 0;
	}
	if (strcmp(rest, "/exe") == 0) {
		char exe[SH_PATH_MAX];
		exe_of(sh, pl->cmd, exe, sizeof(exe));
		if (!exe[0])
			return -ENOENT; /* readlink of a kernel thread's exe fails */
		g->kind = VN_LINK;
		buf_append_str(&g->data, exe);
		return 0;
	}
	return -ENOENT;
}

/* /proc/net/dev, route and arp: eth0 and lo as ifconfig and ip show them. Addresses in route
 * are the kernel's __be32 printed with %08X, so their hex depends on the CPU's byte order. */
static int gen_net(struct shell *sh, const char *name, struct buf *b)
{
	uint8_t mac[6], ip[4];
	shell_iface_identity(sh, mac, ip);
	bool be = sh->prof && sh->prof->elf.data == 2;
	if (strcmp(name, "dev") == 0) {
		buf_append_str(
			b, "Inter-|   Receive                                                |  "
			   "Transmit\n"
			   " face |bytes    packets errs drop fifo frame compressed "
			   "multicast|bytes    packets errs drop fifo colls carrier compressed\n");
		buf_printf(b, PROCFS_NETDEV_ROW, "lo", SH_LO_BYTES, SH_LO_PACKETS, SH_LO_BYTES,
			   SH_LO_PACKETS);
		buf_printf(b, PROCFS_NETDEV_ROW, "eth0", SH_ETH0_RX_BYTES, SH_ETH0_RX_PACKETS,
			   SH_ETH0_TX_BYTES, SH_ETH0_TX_PACKETS);
		return 0;
	}
	if (strcmp(name, "route") == 0) {
		uint8_t net[4] = {ip[0], ip[1], ip[2], 0}, gw[4] = {ip[0], ip[1], ip[2], 1};
		uint8_t mask[4] = {255, 255, 255, 0}, zero[4] = {0};
		const uint8_t *rows[2][3] = {{net, zero, mask}, {zero, gw, zero}};
		char line[160];
		snprintf(line, sizeof(line),
			 "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\t"
			 "Mask\t\tMTU\tWindow\tIRTT");
		buf_printf(b, "%-127s\n", line);
		for (int r = 0; r < 2; r++) {
			uint32_t v[3];
			for (int k = 0; k < 3; k++) {
				const uint8_t *a = rows[r][k];
				v[k] = be ? (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]
					  : (uint32_t)a[3] << 24 | a[2] << 16 | a[1] << 8 | a[0];
			}
			snprintf(line, sizeof(line),
				 "eth0\t%08X\t%08X\t%04X\t0\t0\t0\t%08X\t0\t0\t0", v[0], v[1],
				 r ? 3u : 1u, v[2]);
			buf_printf(b, "%-127s\n", line);
		}
		return 0;
	}
	if (strcmp(name, "arp") == 0) {
		/* the gateway, with a MAC of its own derived from eth0's */
		char gw[16];
		snprintf(gw, sizeof(gw), "%u.%u.%u.1", ip[0], ip[1], ip[2]);
		buf_printf(
			b,
			"IP address       HW type     Flags       HW address            Mask     "
			"Device\n"
			"%-16s 0x%-10x0x%-10x%02x:%02x:%02x:%02x:%02x:%02x     *        eth0\n",
			gw, 1, 2, 0x00, 0x1c, mac[4] ^ 0x5a, mac[5] ^ 0xa5, mac[2], 0x01);
		return 0;
	}
	return -ENOENT;
}

/* /proc/partitions: an mtdblock device for every partition of the profile's /proc/mtd (the
 * kernel's 1 KiB blocks), as Linux 3.x prints them. */
static void gen_partitions(struct shell *sh, struct buf *b)
{
	buf_append_str(b, "major minor  #blocks  name\n\n");
	const struct profile_node *n = sh->prof ? shell_prof_node(sh->prof, "/proc/mtd") : NULL;
	const char *t = n && n->data ? (const char *)n->data : "";
	size_t len = n && n->data ? n->len : 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (t + i)) : len - i;
		unsigned minor;
		unsigned long long size;
		char line[256];
		snprintf(line, sizeof(line), "%.*s", (int)LIB_MIN(l, sizeof(line) - 1), t + i);
		if (sscanf(line, "mtd%u: %llx", &minor, &size) == 2)
			buf_printf(b, "%4d  %7u %10llu mtdblock%u\n", PROCFS_MTDBLOCK_MAJOR, minor,
				   size / 1024, minor);
		i += l + 1;
	}
}

/* /proc/stat of a quiet device: jiffies since boot split over the CPUs (almost all idle),
 * btime agreeing with /proc/uptime, processes as many as the last pid. */
static void gen_stat_file(struct shell *sh, struct buf *b)
{
	double up = shell_uptime(sh);
	int ncpu = sh->prof && sh->prof->ncpus > 0 ? sh->prof->ncpus : 1;
	unsigned long long j = (unsigned long long)(up * PROCFS_HZ);
	unsigned long long user = j / 50, sys = j / 80, irq = j / 2000, soft = j / 1000;
	unsigned long long idle = j - user - sys - irq - soft;
	buf_printf(b, "cpu  %llu 0 %llu %llu 0 %llu %llu 0 0 0\n", user * ncpu, sys * ncpu,
		   idle * ncpu, irq * ncpu, soft * ncpu);
	for (int i = 0; i < ncpu; i++)
		buf_printf(b, "cpu%d %llu 0 %llu %llu 0 %llu %llu 0 0 0\n", i, user, sys, idle, irq,
			   soft);
	unsigned long long intr = (unsigned long long)(up * PROCFS_INTR_PER_S);
	struct shell_pline *v;
	size_t np = shell_proc_list(sh, &v, NULL);
	int last = np ? v[np - 1].pid : 1;
	size_t running = 0;
	for (size_t i = 0; i < np; i++)
		running += v[i].stat[0] == 'R';
	free(v);
	buf_printf(b,
		   "intr %llu\nctxt %llu\nbtime %lld\nprocesses %d\nprocs_running %zu\n"
		   "procs_blocked 0\nsoftirq %llu\n",
		   intr, (unsigned long long)(up * PROCFS_CTXT_PER_S),
		   (long long)(shell_now() - (int64_t)up), last, running ? running : 1, soft);
}

static int procfs_gen(void *arg, const char *path, struct vgen *g)
{
	struct shell *sh = arg;
	if (strcmp(path, "/proc/net") == 0) {
		g->kind = VN_DIR;
		return 0;
	}
	if (strcmp(path, "/proc/self") == 0) {
		g->kind = VN_LINK;
		buf_printf(&g->data, "%d", shell_shell_pid(sh));
		return 0;
	}
	if (strcmp(path, "/proc/uptime") == 0) {
		double up = shell_uptime(sh);
		g->kind = VN_FILE;
		buf_printf(&g->data, "%.2f %.2f\n", up, up * 0.97);
		return 0;
	}
	if (strcmp(path, "/proc/stat") == 0 || strcmp(path, "/proc/partitions") == 0) {
		g->kind = VN_FILE;
		if (path[6] == 's')
			gen_stat_file(sh, &g->data);
		else
			gen_partitions(sh, &g->data);
		return 0;
	}
	if (strcmp(path, "/proc/loadavg") == 0) {
		double la[3];
		shell_loadavg(sh, la);
		struct shell_pline *v;
		size_t n = shell_proc_list(sh, &v, NULL);
		int last = n ? v[n - 1].pid : 1;
		free(v);
		g->kind = VN_FILE;
		buf_printf(&g->data, "%.2f %.2f %.2f 1/%zu %d\n", la[0], la[1], la[2], n, last);
		return 0;
	}
	if (strncmp(path, "/proc/net/", 10) == 0) {
		g->kind = VN_FILE;
		if (shell_net_sockets_file(sh, path + 10, &g->data) == 0)
			return 0;
		return gen_net(sh, path + 10, &g->data);
	}
	struct shell_pline pl;
	const char *rest;
	if (find_proc(sh, path, &pl, &rest))
		return gen_pid(sh, &pl, rest, g);
	return -ENOENT;
}

static void procfs_names(void *arg, const char *dir, char ***names, size_t *n, size_t *cap)
{
	struct shell *sh = arg;
	if (strcmp(dir, "/proc") == 0) {
		struct shell_pline *v;
		size_t np = shell_proc_list(sh, &v, NULL);
		for (size_t i = 0; i < np; i++) {
			char num[16];
			int l = snprintf(num, sizeof(num), "%d", v[i].pid);
			shell_vfs_names_add(names, n, cap, num, (size_t)l);
		}
		free(v);
		static const char *const fixed[] = {"self", "uptime", "loadavg",
						    "net",  "stat",   "partitions"};
		for (size_t i = 0; i < LIB_ARRAY_LEN(fixed); i++)
			shell_vfs_names_add(names, n, cap, fixed[i], strlen(fixed[i]));
		return;
	}
	if (strcmp(dir, "/proc/net") == 0) {
		static const char *const files[] = {"arp",  "dev", "route", "tcp",
						    "tcp6", "udp", "udp6",  "unix"};
		for (size_t i = 0; i < LIB_ARRAY_LEN(files); i++)
			shell_vfs_names_add(names, n, cap, files[i], strlen(files[i]));
		return;
	}
	struct shell_pline pl;
	const char *rest;
	if (find_proc(sh, dir, &pl, &rest) && strcmp(rest, "/fd") == 0) {
		int fds[PROCFS_FDS_MAX];
		char targets[PROCFS_FDS_MAX][32];
		size_t nf = fds_of(sh, &pl, fds, targets);
		for (size_t i = 0; i < nf; i++) {
			char num[16];
			int l = snprintf(num, sizeof(num), "%d", fds[i]);
			shell_vfs_names_add(names, n, cap, num, (size_t)l);
		}
		return;
	}
	if (find_proc(sh, dir, &pl, &rest) && !*rest) {
		static const char *const files[] = {"cmdline", "exe", "fd", "stat", "status"};
		for (size_t i = 0; i < LIB_ARRAY_LEN(files); i++)
			if (i != 1 || !kernel_thread(pl.cmd))
				shell_vfs_names_add(names, n, cap, files[i], strlen(files[i]));
	}
}

void shell_procfs_attach(struct shell *sh)
{
	sh->vfs.proc = procfs_gen;
	sh->vfs.proc_names = procfs_names;
	sh->vfs.proc_arg = sh;
}
