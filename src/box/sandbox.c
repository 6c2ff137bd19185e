/* The dynamic run of one sample. The runner (root, in a private mount namespace) builds a
 * scratch root on a tmpfs, forks the jail, which drops to an unprivileged uid of its own and
 * enters fresh user, net, mount, pid, IPC and UTS namespaces, and the fake internet, which
 * links its namespace to the jail's with a veth pair. Inside, pid 1 (ours) starts a decoy
 * telnetd and then the sample under qemu-user with a seccomp filter; the runner traces them
 * from outside, enforces the window and the cgroup limits, kills the whole pid namespace at
 * the end and reads back what the fake internet saw. Nothing of a run outlives it but the
 * artefacts. */
#include "box/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"

#define SAMPLE_DIR "/tmp"
#define HOSTNAME "router"
#define UID_BASE 0x40000000u /* sandbox uids: base + 2*runner pid (+1 for the fake internet) */
/* Bounds of the waits of the tear-down, each on an event (a child's exit, the cgroup empty):
 * guards against a hang, not timings. Generous, as a starved machine (sanitizers, a busy
 * host) has taken over 3 s for the fake internet to dispatch its buffered frames and write its
 * summary, and killing it sooner lost the summary (the verdict then saw no network at all). */
#define TEARDOWN_MS 30000     /* waiting for the processes to go after the kill */
#define STOP_FAKENET_MS 30000 /* the fake internet's time to write its summary */
#define CGROUP_POLL_MS 50     /* spaces the checks of the cgroup between children's exits */

/* ------------------------------------------------------------------ cgroups */

struct cgroup {
	int version;       /* 2, 1, or 0 (none: rlimits only) */
	char dirs[4][160]; /* v2: [0]; v1: memory, pids, cpu, cpuacct */
	int ndirs;
};

static int put(const char *dir, const char *file, const char *val)
{
	char path[640];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return box_write_text(path, val);
}

static long long get_ll(const char *dir, const char *file, const char *key)
{
	char path[256], buf[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (!key)
		return atoll(buf);
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
			return atoll(l + kl + 1);
	return -1;
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static void cg_create(struct cgroup *cg, uint64_t memory, int cpu_pct, long id)
{
	memset(cg, 0, sizeof(*cg));
	char v[64];
	/* cgroup v2: a mitsu-box folder at the root of the hierarchy, one child per run. */
	if (exists("/sys/fs/cgroup/cgroup.controllers")) {
		const char *parent = "/sys/fs/cgroup/mitsu-box";
		mkdir(parent, 0755);
		put("/sys/fs/cgroup", "cgroup.subtree_control", "+memory +pids +cpu");
		put(parent, "cgroup.subtree_control", "+memory +pids +cpu");
		snprintf(cg->dirs[0], sizeof(cg->dirs[0]), "%s/run-%ld", parent, id);
		if (mkdir(cg->dirs[0], 0755) == 0 || errno == EEXIST) {
			snprintf(v, sizeof(v), "%llu", (unsigned long long)memory);
			bool ok = put(cg->dirs[0], "memory.max", v) == 0;
			put(cg->dirs[0], "memory.swap.max", "0");
			snprintf(v, sizeof(v), "%d", BOX_PIDS_MAX);
			ok &= put(cg->dirs[0], "pids.max", v) == 0;
			snprintf(v, sizeof(v), "%d 100000", cpu_pct * 1000);
			put(cg->dirs[0], "cpu.max", v);
			if (ok) {
				cg->version = 2;
				cg->ndirs = 1;
				return;
			}
			rmdir(cg->dirs[0]);
		}
	}
	/* cgroup v1: one folder per controller. */
	static const char *const ctl[] = {"memory", "pids", "cpu", "cpuacct"};
	for (int i = 0; i < 4; i++) {
		char base[64];
		snprintf(base, sizeof(base), "/sys/fs/cgroup/%s", ctl[i]);
		snprintf(cg->dirs[i], sizeof(cg->dirs[i]), "%s/mitsu-box-%ld", base, id);
		if (!exists(base) || (i == 3 && exists("/sys/fs/cgroup/cpu/cpuacct.usage")) ||
		    (mkdir(cg->dirs[i], 0755) != 0 && errno != EEXIST))
			cg->dirs[i][0] = '\0';
	}
	if (cg->dirs[0][0] && cg->dirs[1][0]) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)memory);
		bool ok = put(cg->dirs[0], "memory.limit_in_bytes", v) == 0;
		put(cg->dirs[0], "memory.memsw.limit_in_bytes", v);
		snprintf(v, sizeof(v), "%d", BOX_PIDS_MAX);
		ok &= put(cg->dirs[1], "pids.max", v) == 0;
		if (cg->dirs[2][0]) {
			put(cg->dirs[2], "cpu.cfs_period_us", "100000");
			snprintf(v, sizeof(v), "%d", cpu_pct * 1000);
			put(cg->dirs[2], "cpu.cfs_quota_us", v);
		}
		if (ok) {
			cg->version = 1;
			cg->ndirs = 4;
			return;
		}
	}
	for (int i = 0; i < 4; i++)
		if (cg->dirs[i][0])
			rmdir(cg->dirs[i]);
	memset(cg, 0, sizeof(*cg));
}

/* A runner killed outright (SIGKILL from the queue's time limit) leaves an empty cgroup and
 * an empty scratch folder behind, named after its pid: the next run removes those of dead
 * runners. rmdir removes only what is empty. */
static bool pid_alive(long pid)
{
	char p[32];
	snprintf(p, sizeof(p), "/proc/%ld", pid);
	return pid > 0 && exists(p);
}

static void sweep_dir(const char *dir, const char *prefix, bool cgroup)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	size_t pl = strlen(prefix);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, pl) != 0 || de->d_name[pl] < '0' ||
		    de->d_name[pl] > '9')
			continue;
		long pid = strtol(de->d_name + pl, NULL, 10);
		if (pid_alive(pid))
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (cgroup)
			put(path, "cgroup.kill", "1");
		rmdir(path);
	}
	closedir(d);
}

static void sweep_stale(bool rootless)
{
	sweep_dir("/tmp", "mitsu-box-", false);
	if (rootless)
		return;
	sweep_dir("/sys/fs/cgroup/mitsu-box", "run-", true);
	static const char *const ctl[] = {"memory", "pids", "cpu", "cpuacct"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(ctl); i++) {
		char base[64];
		snprintf(base, sizeof(base), "/sys/fs/cgroup/%s", ctl[i]);
		sweep_dir(base, "mitsu-box-", true);
	}
}

static void cg_add(struct cgroup *cg, pid_t pid)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", pid);
	for (int i = 0; i < cg->ndirs; i++)
		if (cg->dirs[i][0])
			put(cg->dirs[i], "cgroup.procs", v);
}

static json_t *cg_stats(struct cgroup *cg)
{
	json_t *o = json_object();
	json_object_set_new(o, "cgroup",
			    cg->version ? json_sprintf("v%d", cg->version) : json_string("none"));
	long long peak = -1, cpu_us = -1, oom = -1;
	if (cg->version == 2) {
		peak = get_ll(cg->dirs[0], "memory.peak", NULL);
		cpu_us = get_ll(cg->dirs[0], "cpu.stat", "usage_usec");
		oom = get_ll(cg->dirs[0], "memory.events", "oom_kill");
	} else if (cg->version == 1) {
		peak = get_ll(cg->dirs[0], "memory.max_usage_in_bytes", NULL);
		oom = get_ll(cg->dirs[0], "memory.oom_control", "oom_kill");
		const char *acct = cg->dirs[3][0] ? cg->dirs[3] : cg->dirs[2];
		long long ns = acct[0] ? get_ll(acct, "cpuacct.usage", NULL) : -1;
		cpu_us = ns >= 0 ? ns / 1000 : -1;
	}
	if (peak >= 0)
		json_object_set_new(o, "memory_peak", json_integer(peak));
	if (cpu_us >= 0)
		json_object_set_new(o, "cpu_seconds", json_real((double)cpu_us / 1e6));
	if (oom >= 0)
		json_object_set_new(o, "oom_kills", json_integer(oom));
	return o;
}

static void cg_destroy(struct cgroup *cg)
{
	if (cg->version == 2)
		put(cg->dirs[0], "cgroup.kill", "1");
	for (int attempt = 0; attempt < 50; attempt++) {
		bool left = false;
		for (int i = 0; i < cg->ndirs; i++) {
			if (!cg->dirs[i][0])
				continue;
			if (rmdir(cg->dirs[i]) == 0 || errno == ENOENT) {
				cg->dirs[i][0] = '\0';
				continue;
			}
			left = true;
			/* v1 has no cgroup.kill: kill what is left by pid. */
			char path[256];
			snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dirs[i]);
			FILE *f = fopen(path, "r");
			int pid;
			while (f && fscanf(f, "%d", &pid) == 1)
				kill(pid, SIGKILL);
			if (f)
				fclose(f);
		}
		if (!left)
			return;
		struct timespec ts = {0, 20 * 1000000};
		nanosleep(&ts, NULL);
	}
	log_warn("box", "cgroup of a run could not be removed");
}

/* ------------------------------------------------------------------ the scratch root */

struct run {
	const struct core_config *cfg;
	int window;
	uint64_t memory, capture_bytes;
	int cpu;
	const uint8_t *data;
	size_t n;
	const char *qemu; /* emulator name: mips, arm, ... */
	char name[40];    /* the sample's file name inside */
	char root[64];
	bool root_mounted;
	char dir[1024]; /* artefacts */
	uid_t uid, fake_uid;
	bool rootless;  /* no root: one uid, a user namespace of our own, no cgroups */
	uid_t host_uid; /* the uid the sample runs as, seen from the host */
	int go[2], nsready[2], netready[2], fready[2], out[2];
	FILE *trace_out;
	int fake_log, pcap_fd;
	pid_t jail, fake;
	int jail_status, fake_status;
	bool jail_done, fake_done;
	struct cgroup cg;
	struct box_trace tr;
	struct buf output;
	uint64_t output_total;
	struct timespec populated;
	char error[256];
	char catch_all[32];
	/* the run's clock and its own descriptors */
	sigset_t chld;               /* SIGCHLD, blocked for the run and read from sfd */
	int sfd;                     /* signalfd of SIGCHLD */
	bool tmp_art;                /* the artefacts folder is temporary: removed at the end */
	uint64_t t_start, t_payload; /* ms: the run began; the payload exec'd qemu (0: never) */
	uint64_t setup_deadline;
};

static int mkfile(struct run *r, const char *rel, const void *data, size_t len, int mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s%s", r->root, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, (const uint8_t *)data + off, len - off);
		if (w <= 0) {
			close(fd);
			return -EIO;
		}
		off += (size_t)w;
	}
	int rc = fchown(fd, r->uid, r->uid) < 0 || fchmod(fd, (mode_t)mode) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int mkdir_in(struct run *r, const char *rel, int mode, bool own)
{
	char path[256];
	snprintf(path, sizeof(path), "%s%s", r->root, rel);
	if (mkdir(path, (mode_t)mode) < 0 && errno != EEXIST)
		return -errno;
	if (chmod(path, (mode_t)mode) < 0 || (own && chown(path, r->uid, r->uid) < 0))
		return -errno;
	return 0;
}

static unsigned long source_flags(const char *host)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(host, &sv) == 0) {
		f |= sv.f_flag & ST_NODEV ? MS_NODEV : 0;
		f |= sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0;
		f |= sv.f_flag & ST_NOATIME ? MS_NOATIME : 0;
		f |= sv.f_flag & ST_NODIRATIME ? MS_NODIRATIME : 0;
		f |= sv.f_flag & ST_RELATIME ? MS_RELATIME : 0;
	}
	return f;
}

/* Binds a host file read-only over an empty file of the root. */
static int bind_ro(struct run *r, const char *host, const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s%s", r->root, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	close(fd);
	if (mount(host, path, NULL, MS_BIND, NULL) < 0)
		return -errno;
	/* A remount must keep the flags of the source mount (in a user namespace they are locked).
	 */
	if (mount(NULL, path, NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | source_flags(host), NULL) < 0)
		return -errno;
	return 0;
}

static const char *const qemus[] = {
	"arm",   "armeb",       "aarch64", "mips",  "mipsel",  "mips64", "mips64el",
	"i386",  "x86_64",      "ppc",     "ppc64", "ppc64le", "sh4",    "sh4eb",
	"sparc", "sparc32plus", "sparc64", "m68k",  "riscv64",
};

static int populate(struct run *r)
{
	static const struct {
		const char *path;
		int mode;
	} dirs[] = {
		{"/tmp", 01777},    {"/var", 0755},        {"/var/tmp", 01777}, {"/var/run", 0755},
		{"/etc", 0755},     {"/etc/init.d", 0755}, {"/dev", 0755},      {"/proc", 0555},
		{"/root", 0700},    {"/bin", 0755},        {"/sbin", 0755},     {"/usr", 0755},
		{"/usr/bin", 0755}, {"/usr/sbin", 0755},   {"/home", 0755},     {"/mnt", 0755},
		{"/lib", 0755},
	};
	static const struct {
		const char *path, *text;
	} files[] = {
		{"/etc/passwd",
		 "root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000:admin:/home:/bin/sh\n"},
		{"/etc/group", "root:x:0:\nadmin:x:1000:\n"},
		{"/etc/hostname", HOSTNAME "\n"},
		{"/etc/hosts", "127.0.0.1 localhost\n192.168.1.100 " HOSTNAME "\n"},
		{"/etc/resolv.conf", "nameserver 192.168.1.1\n"},
		{"/etc/inittab",
		 "::sysinit:/etc/init.d/rcS\n::respawn:/sbin/getty -L ttyS0 115200 vt100\n"},
		{"/etc/init.d/rcS", "#!/bin/sh\nmount -a\n/usr/sbin/telnetd -l /bin/sh\n"},
	};
	char path[256];
	int rc = 0;
	for (size_t i = 0; !rc && i < LIB_ARRAY_LEN(dirs); i++)
		rc = mkdir_in(r, dirs[i].path, dirs[i].mode, strcmp(dirs[i].path, "/proc") != 0);
	for (size_t i = 0; !rc && i < LIB_ARRAY_LEN(files); i++)
		rc = mkfile(r, files[i].path, files[i].text, strlen(files[i].text),
			    strcmp(files[i].path, "/etc/init.d/rcS") == 0 ? 0755 : 0644);
	if (rc)
		return rc;
	static const char *const devs[] = {"null", "zero", "full", "random", "urandom"};
	for (size_t i = 0; !rc && i < LIB_ARRAY_LEN(devs); i++) {
		char host[32], rel[32];
		snprintf(host, sizeof(host), "/dev/%s", devs[i]);
		snprintf(rel, sizeof(rel), "/dev/%s", devs[i]);
		rc = bind_ro(r, host, rel);
		if (!rc) {
			/* The device nodes must stay writable (/dev/null): remount without RDONLY.
			 */
			snprintf(path, sizeof(path), "%s%s", r->root, rel);
			mount(NULL, path, NULL,
			      MS_BIND | MS_REMOUNT | MS_NOSUID | source_flags(host), NULL);
		}
	}
	if (rc)
		return rc;
	rc = mkdir_in(r, BOX_QEMU_DIR, 0755, false);
	for (size_t i = 0; !rc && i < LIB_ARRAY_LEN(qemus); i++) {
		char host[64], rel[64];
		snprintf(host, sizeof(host), "/usr/bin/qemu-%s-static", qemus[i]);
		snprintf(rel, sizeof(rel), "%s/qemu-%s", BOX_QEMU_DIR, qemus[i]);
		if (exists(host))
			rc = bind_ro(r, host, rel);
	}
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", SAMPLE_DIR, r->name);
	rc = mkfile(r, path, r->data, r->n, 0755);
	clock_gettime(CLOCK_REALTIME, &r->populated);
	return rc;
}

/* ------------------------------------------------------------------ processes of the sandbox */

static void close_except(const int *keep, size_t nkeep)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		for (int fd = 3; fd < 1024; fd++) {
			bool k = false;
			for (size_t i = 0; i < nkeep; i++)
				k |= keep[i] == fd;
			if (!k)
				close(fd);
		}
		return;
	}
	int fds[1024];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < LIB_ARRAY_LEN(fds)) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd > 2 && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		bool k = false;
		for (size_t j = 0; j < nkeep; j++)
			k |= keep[j] == fds[i];
		if (!k)
			close(fds[i]);
	}
}

static void null_stdio(bool keep_stderr)
{
	int fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	if (!keep_stderr)
		dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* Renames the calling process (comm and /proc/PID/cmdline), as setproctitle does: the argument
 * area is our own memory. */
static void set_title(const char *title)
{
	prctl(PR_SET_NAME, title);
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f)
		return;
	char buf[2048];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return;
	/* Fields after the comm: field 3 is the state; arg_start/arg_end are fields 48 and 49. */
	unsigned long long v[52] = {0};
	int field = 3;
	for (char *tok = strtok(p + 2, " "); tok && field < 52; tok = strtok(NULL, " "), field++)
		v[field] = strtoull(tok, NULL, 10);
	unsigned long long start = v[48], end = v[49];
	if (!start || end <= start || end - start > 65536)
		return;
	size_t len = (size_t)(end - start), tl = strlen(title);
	char *area = (char *)(uintptr_t)start;
	memset(area, 0, len);
	memcpy(area, title, LIB_MIN(tl, len - 1));
}

/* The decoy telnetd: listens on port 23, then says so on ready (one byte, or the pipe's end
 * if it could not), so that the sample starts only once port 23 has its owner. */
static void decoy_main(int ready)
{
	const int keep[] = {ready};
	close_except(keep, 1); /* not the sample's output pipe: its end is the sample's end */
	set_title("/usr/sbin/telnetd");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(23)};
	bool up = s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(s, 16) == 0;
	if (up) {
		ssize_t w = write(ready, "u", 1);
		(void)w;
	}
	close(ready);
	if (up) {
		for (;;) {
			int c = accept(s, NULL, NULL);
			if (c >= 0)
				close(c);
		}
	}
	for (;;)
		pause();
}

static void payload_main(struct run *r)
{
	if (chdir(SAMPLE_DIR) < 0)
		_exit(126);
	int in = open("/dev/null", O_RDONLY);
	if (in >= 0 && in != 0) {
		dup2(in, 0);
		close(in);
	}
	dup2(r->out[1], 1);
	dup2(r->out[1], 2);
	close_except(NULL, 0);
	char qemu[64], argv0[64], path[96];
	snprintf(qemu, sizeof(qemu), "%s/qemu-%s", BOX_QEMU_DIR, r->qemu);
	snprintf(argv0, sizeof(argv0), "./%s", r->name);
	snprintf(path, sizeof(path), "%s/%s", SAMPLE_DIR, r->name);
	char *const argv[] = {qemu, (char *)"-0", argv0, path, NULL};
	char *const envp[] = {(char *)"PATH=/bin:/sbin:/usr/bin:/usr/sbin",
			      (char *)"HOME=/root",
			      (char *)"SHELL=/bin/sh",
			      (char *)"TERM=vt100",
			      (char *)"PWD=" SAMPLE_DIR,
			      NULL};
	if (r->cg.version == 0) {
		/* No cgroup: bound the data of each sample process instead (qemu's code buffer
		 * needs a few hundred MiB of it: hence the margin). Set last: it binds what runs
		 * next. */
		struct rlimit rl = {(rlim_t)r->memory + (1u << 30), (rlim_t)r->memory + (1u << 30)};
		setrlimit(RLIMIT_DATA, &rl);
	}
	int rc = box_seccomp_install();
	if (rc) {
		dprintf(2, "mitsu: cannot install the seccomp filter: %s\n", strerror(-rc));
		_exit(126);
	}
	execve(qemu, argv, envp);
	dprintf(2, "mitsu: cannot run %s: %s\n", qemu, strerror(errno));
	_exit(127);
}

static void init_main(struct run *r)
{
	set_title("/sbin/init");
	char proc[96];
	snprintf(proc, sizeof(proc), "%s/proc", r->root);
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		_exit(120);
	if (chroot(r->root) < 0 || chdir("/") < 0)
		_exit(121);
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		_exit(122);
	pid_t decoy = fork();
	if (decoy == 0) {
		close(ready[0]);
		decoy_main(ready[1]);
	}
	close(ready[1]);
	char c;
	while (decoy > 0 && read(ready[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	pid_t payload = fork();
	if (payload == 0)
		payload_main(r);
	close(r->out[1]);
	/* pid 1: reap every orphan until nothing is left. */
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
	_exit(0);
}

static void report(int fd, const char *what, int err)
{
	char msg[200];
	int n = snprintf(msg, sizeof(msg), "error %s: %s\n", what, strerror(err));
	ssize_t w = write(fd, msg, (size_t)n);
	(void)w;
	_exit(1);
}

static void jail_main(struct run *r)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	null_stdio(false);
	const int keep[] = {r->go[0], r->nsready[1], r->netready[0], r->out[1]};
	close_except(keep, LIB_ARRAY_LEN(keep));
	char c;
	if (read(r->go[0], &c, 1) != 1)
		_exit(1);
	struct rlimit rl = {BOX_PIDS_MAX, BOX_PIDS_MAX};
	setrlimit(RLIMIT_NPROC, &rl);
	rl = (struct rlimit){BOX_NOFILE_MAX, BOX_NOFILE_MAX};
	setrlimit(RLIMIT_NOFILE, &rl);
	rl = (struct rlimit){0, 0};
	setrlimit(RLIMIT_CORE, &rl);
	rl = (struct rlimit){BOX_TMPFS_BYTES, BOX_TMPFS_BYTES};
	setrlimit(RLIMIT_FSIZE, &rl);
	rl = (struct rlimit){(rlim_t)r->window + 30, (rlim_t)r->window + 30};
	setrlimit(RLIMIT_CPU, &rl);
	if (!r->rootless && (setgroups(0, NULL) < 0 || setresgid(r->uid, r->uid, r->uid) < 0 ||
			     setresuid(r->uid, r->uid, r->uid) < 0))
		report(r->nsready[1], "dropping root", errno);

	prctl(PR_SET_DUMPABLE, 1);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
		    CLONE_NEWUTS) < 0)
		report(r->nsready[1], "creating the namespaces", errno);
	char map[64];
	snprintf(map, sizeof(map), "0 %u 1", r->uid);
	box_write_text("/proc/self/setgroups", "deny");
	box_write_text("/proc/self/uid_map", map);
	box_write_text("/proc/self/gid_map", map);
	box_write_text("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	box_write_text("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (write(r->nsready[1], "ok\n", 3) != 3)
		_exit(1);
	if (read(r->netready[0], &c, 1) != 1)
		_exit(1);
	int nl = box_nl_open();
	int rc = nl < 0 ? nl : box_nl_link_up(nl, "lo");
	if (!rc)
		rc = box_nl_addr(nl, "eth0", BOX_SAMPLE_IP, BOX_LAN_PREFIX);
	if (!rc)
		rc = box_nl_link_up(nl, "eth0");
	if (!rc)
		rc = box_nl_route(nl, 0, 0, BOX_GATEWAY_IP, "eth0", false);
	if (nl >= 0)
		close(nl);
	if (rc)
		_exit(2);
	if (sethostname(HOSTNAME, strlen(HOSTNAME)) < 0)
		_exit(3);
	pid_t init = fork();
	if (init == 0)
		init_main(r);
	close(r->out[1]);
	int st;
	while (waitpid(init, &st, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* ------------------------------------------------------------------ the runner's loop */

static uint64_t now_ms(void)
{
	return lib_mono_ms();
}

static void drain_output(struct run *r)
{
	char b[4096];
	for (;;) {
		ssize_t n = read(r->out[0], b, sizeof(b));
		if (n <= 0)
			return;
		r->output_total += (uint64_t)n;
		if (r->output.len < BOX_OUTPUT_KEPT)
			buf_append(&r->output, b,
				   LIB_MIN((size_t)n, BOX_OUTPUT_KEPT - r->output.len));
	}
}

static void nspid_of(pid_t host, pid_t *out)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", host);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6) == 0) {
			char *last = strrchr(line, '\t');
			if (last)
				*out = atoi(last + 1);
		}
	}
	if (f)
		fclose(f);
}

static void reap(struct run *r)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, __WALL | WNOHANG)) > 0) {
		if (pid == r->fake) {
			r->fake_done = true;
			r->fake_status = st;
			continue;
		}
		if (pid == r->jail && (WIFEXITED(st) || WIFSIGNALED(st))) {
			r->jail_done = true;
			r->jail_status = st;
		}
		pid_t decoy = r->tr.decoy;
		box_trace_event(&r->tr, pid, st);
		if (!decoy && r->tr.decoy && !r->tr.decoy_nspid)
			nspid_of(r->tr.decoy, &r->tr.decoy_nspid);
	}
}

/* Waits for SIGCHLD, output or fd until deadline (ms); handles every event. Returns true when
 * fd became readable. */
static bool pump(struct run *r, int sfd, int fd, uint64_t deadline)
{
	for (;;) {
		reap(r);
		uint64_t now = now_ms();
		if (now >= deadline)
			return false;
		struct pollfd p[3] = {{.fd = sfd, .events = POLLIN},
				      {.fd = r->out[0], .events = POLLIN},
				      {.fd = fd, .events = POLLIN}};
		int wait = (int)LIB_MIN(deadline - now, (uint64_t)200);
		int n = poll(p, fd >= 0 ? 3 : 2, wait);
		if (n < 0 && errno != EINTR)
			return false;
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
		}
		if (p[1].revents)
			drain_output(r);
		if (fd >= 0 && p[2].revents)
			return true;
		if (fd >= 0 && r->jail_done)
			return false; /* what we wait for will not come */
	}
}

static int read_line(int fd, char *out, size_t max)
{
	ssize_t n = read(fd, out, max - 1);
	if (n <= 0) {
		out[0] = '\0';
		return -1;
	}
	out[n] = '\0';
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

/* ------------------------------------------------------------------ files written */

static bool after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

static void walk(struct run *r, const char *rel, int depth, json_t *files)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s%s", r->root, rel);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) && json_array_size(files) < BOX_FILES_LISTED) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char sub[1024], full[1200];
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >= (int)sizeof(sub))
			continue;
		if (strcmp(sub, BOX_QEMU_DIR) == 0 || strcmp(sub, "/dev") == 0 ||
		    strcmp(sub, "/proc") == 0)
			continue;
		snprintf(full, sizeof(full), "%s%s", r->root, sub);
		struct stat st;
		if (lstat(full, &st) < 0)
			continue;
		bool changed =
			after(&st.st_mtim, &r->populated) || after(&st.st_ctim, &r->populated);
		if (S_ISDIR(st.st_mode)) {
			if (depth < 16)
				walk(r, sub, depth + 1, files);
			continue; /* folders are listed through what they hold */
		}
		if (!changed)
			continue;
		json_t *o = json_pack("{s:s,s:I}", "path", sub, "size", (json_int_t)st.st_size);
		if (S_ISLNK(st.st_mode)) {
			char target[512];
			ssize_t n = readlink(full, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
			json_object_set_new(o, "symlink", core_json_str(target));
		} else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size <= BOX_FILE_HASH_MAX) {
			uint8_t *data;
			size_t len;
			int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				close(fd);
				if (lib_read_file(full, BOX_FILE_HASH_MAX, &data, &len) == 0) {
					char sha[LIB_SHA256_HEX], arch[16], type[24];
					lib_sha256_hex(data, len, sha);
					capture_file_type(data, len, type);
					json_object_set_new(o, "sha256", json_string(sha));
					json_object_set_new(o, "filetype", json_string(type));
					if (capture_elf_arch(data, len, arch) == 0)
						json_object_set_new(o, "arch", json_string(arch));
					free(data);
				}
			}
		}
		json_array_append_new(files, o);
	}
	closedir(d);
}

/* ------------------------------------------------------------------ the run */

static json_t *read_fakenet(const char *path, json_t **summary)
{
	json_t *recs = json_array();
	*summary = NULL;
	uint8_t *data;
	size_t len;
	if (lib_read_file(path, (size_t)BOX_FAKE_RECORDS * 8192 + (1u << 20), &data, &len))
		return recs;
	char *p = (char *)data, *end = p + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *o = json_loadb(p, l, 0, NULL);
		if (o) {
			const char *type = json_string_value(json_object_get(o, "type"));
			if (type && strcmp(type, "summary") == 0) {
				json_decref(*summary);
				*summary = o;
			} else {
				json_array_append_new(recs, o);
			}
		}
		p += l + 1;
	}
	free(data);
	return recs;
}

static void sanitize_name(const char *in, char out[40])
{
	size_t k = 0;
	for (const char *p = in; *p && k < 32; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')
			out[k++] = *p;
	out[k] = '\0';
	if (k == 0 || out[0] == '.')
		snprintf(out, 40, "sample");
}

static int open_artefact(struct run *r, const char *name, int flags)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	return open(path, flags | O_CLOEXEC, 0640);
}

static void fail(struct run *r, const char *what, int err)
{
	if (!r->error[0])
		snprintf(r->error, sizeof(r->error), "%s: %s", what, strerror(err));
}

/* The run's state before anything is started: limits from the options, artefacts folder. */
static struct run *run_new(const struct core_config *cfg, const uint8_t *data, size_t n,
			   const struct box_elf *elf, const char *filename, const char *artefacts)
{
	struct run *r = xcalloc(1, sizeof(*r));
	r->cfg = cfg;
	r->window = (int)core_cfg_int(cfg, OPT_BOX_WINDOW);
	r->memory = core_cfg_size(cfg, OPT_BOX_MEMORY);
	r->capture_bytes = core_cfg_size(cfg, OPT_BOX_CAPTURE_BYTES);
	r->cpu = (int)core_cfg_int(cfg, OPT_BOX_CPU);
	r->data = data;
	r->n = n;
	r->qemu = box_qemu_for(elf);
	r->rootless = geteuid() != 0;
	r->uid = UID_BASE + 2 * (uid_t)getpid();
	r->host_uid = r->rootless ? geteuid() : r->uid;
	r->fake_uid = r->uid + 1;
	r->jail = r->fake = -1;
	r->fake_log = r->pcap_fd = r->sfd = -1;
	int *ends[] = {r->go, r->nsready, r->netready, r->fready, r->out};
	for (size_t i = 0; i < LIB_ARRAY_LEN(ends); i++)
		ends[i][0] = ends[i][1] = -1;
	buf_init(&r->output, BOX_OUTPUT_KEPT);
	sanitize_name(filename ? filename : "", r->name);
	if (strcmp(r->name, "sample") == 0 && elf->arch[0])
		snprintf(r->name, sizeof(r->name), "%s", elf->arch);
	char tmpdir[] = "/tmp/mitsu-art-XXXXXX";
	if (artefacts) {
		lib_strlcpy(r->dir, artefacts, sizeof(r->dir));
		lib_mkdirs(r->dir, 0750);
	} else if (mkdtemp(tmpdir)) {
		lib_strlcpy(r->dir, tmpdir, sizeof(r->dir));
		r->tmp_art = true;
	}
	r->t_start = now_ms();
	sigemptyset(&r->chld);
	sigaddset(&r->chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &r->chld, NULL);
	return r;
}

/* A private mount namespace for the scratch root and its bind mounts; without root, inside a
 * user namespace of our own where we are root. */
static int enter_namespaces(struct run *r)
{
	if (r->rootless) {
		uid_t u = geteuid();
		gid_t g = getegid();
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
			fail(r, "user namespace (needed without root)", errno);
			return -1;
		}
		box_write_text("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", u);
		box_write_text("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", g);
		box_write_text("/proc/self/gid_map", map);
		r->uid = r->fake_uid = 0;
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
			fail(r, "private mount namespace", errno);
			return -1;
		}
	} else if (unshare(CLONE_NEWNS) < 0 ||
		   mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fail(r, "private mount namespace", errno);
		return -1;
	}
	return 0;
}

/* The scratch root on a tmpfs, the artefact files, the tracer, the cgroup and the pipes. */
static int prepare(struct run *r)
{
	sweep_stale(r->rootless);
	snprintf(r->root, sizeof(r->root), "/tmp/mitsu-box-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(r->root)) {
		fail(r, "scratch root", errno);
		r->root[0] = '\0';
		return -1;
	}
	char opts[64];
	snprintf(opts, sizeof(opts), "size=%u,mode=0755,nr_inodes=4096", BOX_TMPFS_BYTES);
	if (mount("tmpfs", r->root, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
		fail(r, "tmpfs", errno);
		return -1;
	}
	r->root_mounted = true;
	int rc = populate(r);
	if (rc) {
		fail(r, "preparing the root", -rc);
		return -1;
	}
	r->trace_out = NULL;
	int tfd = open_artefact(r, "trace.jsonl", O_WRONLY | O_CREAT | O_TRUNC);
	if (tfd >= 0)
		r->trace_out = fdopen(tfd, "w");
	r->fake_log = open_artefact(r, "fakenet.jsonl", O_RDWR | O_CREAT | O_TRUNC);
	r->pcap_fd = open_artefact(r, "capture.pcap", O_WRONLY | O_CREAT | O_TRUNC);
	if (r->fake_log < 0) {
		fail(r, "artefacts", errno);
		return -1;
	}
	box_trace_init(&r->tr, r->trace_out, r->root);
	cg_create(&r->cg, r->memory, r->cpu, (long)getpid());
	if (pipe2(r->go, O_CLOEXEC) || pipe2(r->nsready, O_CLOEXEC) ||
	    pipe2(r->netready, O_CLOEXEC) || pipe2(r->fready, O_CLOEXEC) ||
	    pipe2(r->out, O_CLOEXEC)) {
		fail(r, "pipes", errno);
		return -1;
	}
	fcntl(r->out[0], F_SETFL, O_NONBLOCK);
	r->sfd = signalfd(-1, &r->chld, SFD_NONBLOCK | SFD_CLOEXEC);
	return 0;
}

/* The jail (the sample's namespaces), traced from its first instruction; waits until it has
 * its namespaces. */
static int start_jail(struct run *r)
{
	r->jail = fork();
	if (r->jail == 0)
		jail_main(r);
	if (r->jail < 0) {
		fail(r, "fork", errno);
		return -1;
	}
	close(r->go[0]);
	close(r->nsready[1]);
	close(r->netready[0]);
	close(r->out[1]);
	r->go[0] = r->nsready[1] = r->netready[0] = r->out[1] = -1;
	long opts_trace = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
			  PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SEIZE, r->jail, NULL, (void *)opts_trace) < 0) {
		fail(r, "ptrace", errno);
		kill(r->jail, SIGKILL);
		return -1;
	}
	box_trace_start(&r->tr, r->jail);
	cg_add(&r->cg, r->jail);
	if (write(r->go[1], "g", 1) != 1) {
		fail(r, "starting the jail", errno);
		return -1;
	}
	r->setup_deadline = now_ms() + BOX_SETUP_SECS * 1000;
	char line[300] = "";
	if (!pump(r, r->sfd, r->nsready[0], r->setup_deadline) ||
	    read_line(r->nsready[0], line, sizeof(line)) || strncmp(line, "ok", 2) != 0) {
		snprintf(r->error, sizeof(r->error), "jail: %.200s",
			 line[0] ? line : "did not start");
		return -1;
	}
	return 0;
}

/* The fake internet in the jail's network namespace; once it is up, the jail goes on. */
static int start_fakenet(struct run *r)
{
	struct box_fakenet_args fa = {
		.sample_pid = r->jail,
		.ready_fd = r->fready[1],
		.log_fd = r->fake_log,
		.pcap_fd = r->pcap_fd,
		.capture_bytes = r->capture_bytes,
		.uid = r->fake_uid,
		.gid = r->fake_uid,
		.keep_uid = r->rootless,
	};
	r->fake = fork();
	if (r->fake == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			close(devnull);
		}
		box_fakenet_main(&fa);
	}
	if (r->fake < 0) {
		fail(r, "fork", errno);
		return -1;
	}
	close(r->fready[1]);
	r->fready[1] = -1;
	char line[300] = "";
	if (!pump(r, r->sfd, r->fready[0], r->setup_deadline) ||
	    read_line(r->fready[0], line, sizeof(line)) || strncmp(line, "ok ", 3) != 0) {
		snprintf(r->error, sizeof(r->error), "fake internet: %.200s",
			 line[0] ? line : "did not start");
		return -1;
	}
	lib_strlcpy(r->catch_all, line + 3, sizeof(r->catch_all));
	if (write(r->netready[1], "n", 1) != 1) {
		fail(r, "starting the jail", errno);
		return -1;
	}
	return 0;
}

/* Set-up ends when the payload has exec'd qemu; the window starts there and lasts until it
 * elapses or every process of the sample has exited. */
static void observe(struct run *r)
{
	while (!r->tr.payload_started && !r->jail_done && now_ms() < r->setup_deadline)
		pump(r, r->sfd, -1, LIB_MIN(r->setup_deadline, now_ms() + 100));
	if (!r->tr.payload_started) {
		snprintf(r->error, sizeof(r->error),
			 "the sample did not start (jail exit status %d)",
			 r->jail_done ? WEXITSTATUS(r->jail_status) : -1);
		return;
	}
	r->t_payload = r->tr.payload_start_us / 1000;
	uint64_t end = r->t_payload + (uint64_t)r->window * 1000;
	while (now_ms() < end && r->tr.sample_alive > 0 && !r->jail_done)
		pump(r, r->sfd, -1, LIB_MIN(end, now_ms() + 200));
}

/* The end: pid 1 of the sandbox dies, and the kernel kills everything in its namespace; the
 * fake internet is asked to stop, then killed. */
static void stop_all(struct run *r)
{
	r->tr.ending = true;
	if (r->tr.init > 0)
		kill(r->tr.init, SIGKILL);
	if (r->jail > 0)
		kill(r->jail, SIGKILL);
	uint64_t td = now_ms() + TEARDOWN_MS;
	while (r->jail > 0 && !r->jail_done && now_ms() < td)
		pump(r, r->sfd, -1, LIB_MIN(td, now_ms() + 50));
	if (r->fake > 0 && !r->fake_done) {
		kill(r->fake, SIGTERM);
		uint64_t fd_deadline = now_ms() + STOP_FAKENET_MS;
		while (!r->fake_done && now_ms() < fd_deadline)
			pump(r, r->sfd, -1, LIB_MIN(fd_deadline, now_ms() + 50));
		if (!r->fake_done) {
			kill(r->fake, SIGKILL);
			waitpid(r->fake, NULL, 0);
			r->fake_done = true;
		}
	}
	reap(r);
	drain_output(r);
}

/* Whether no process is left in the run's cgroup (a v1 cgroup counts a zombie until it is
 * reaped: the traced ones are ours to reap). */
static bool cg_empty(const struct cgroup *cg)
{
	for (int i = 0; i < cg->ndirs; i++) {
		if (!cg->dirs[i][0])
			continue;
		char path[256];
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dirs[i]);
		FILE *f = fopen(path, "r");
		int pid;
		bool any = f && fscanf(f, "%d", &pid) == 1;
		if (f)
			fclose(f);
		if (any)
			return false;
	}
	return true;
}

/* Kills what is left in the cgroup and waits until it is empty, reaping the children as they
 * exit (SIGCHLD wakes the wait), so cg_destroy finds it empty. */
static void cg_drain(struct run *r)
{
	struct cgroup *cg = &r->cg;
	if (cg->version == 2)
		put(cg->dirs[0], "cgroup.kill", "1");
	uint64_t deadline = now_ms() + TEARDOWN_MS;
	while (!cg_empty(cg) && now_ms() < deadline) {
		for (int i = 0; cg->version == 1 && i < cg->ndirs; i++) {
			char path[256];
			snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dirs[i]);
			FILE *f = cg->dirs[i][0] ? fopen(path, "r") : NULL;
			int pid;
			while (f && fscanf(f, "%d", &pid) == 1)
				kill(pid, SIGKILL);
			if (f)
				fclose(f);
		}
		pump(r, r->sfd, -1, LIB_MIN(deadline, now_ms() + CGROUP_POLL_MS));
	}
}

/* What the run saw, as the "dynamic" part of the verdict. */
static json_t *dynamic_json(struct run *r, uint64_t t_end, bool still_running, json_t *limits)
{
	uint64_t setup_ms = r->t_payload ? r->t_payload - r->t_start : 0;
	json_t *dyn = json_object();
	json_object_set_new(dyn, "ran", json_boolean(r->t_payload != 0));
	json_object_set_new(dyn, "error", r->error[0] ? json_string(r->error) : json_null());
	json_object_set_new(dyn, "emulator", json_sprintf("qemu-%s-static", r->qemu));
	json_object_set_new(dyn, "window", json_integer(r->window));
	json_object_set_new(dyn, "setup_ms", json_integer((json_int_t)setup_ms));
	json_object_set_new(dyn, "run_seconds",
			    json_real(r->t_payload ? (double)(t_end - r->t_payload) / 1000.0 : 0));
	json_object_set_new(dyn, "ended",
			    json_string(!r->t_payload   ? "not started"
					: still_running ? "window elapsed"
							: "all processes exited"));
	if (r->tr.payload_exited) {
		int st = r->tr.payload_status;
		json_object_set_new(dyn, "exit",
				    WIFEXITED(st)
					    ? json_sprintf("exited %d", WEXITSTATUS(st))
					    : json_sprintf("killed by signal %d", WTERMSIG(st)));
	}
	json_object_set_new(dyn, "catch_all", json_string(r->catch_all));
	json_object_set_new(limits, "memory", json_integer((json_int_t)r->memory));
	json_object_set_new(limits, "cpu_percent", json_integer(r->cpu));
	json_object_set_new(limits, "pids", json_integer(BOX_PIDS_MAX));
	json_object_set_new(limits, "uid", json_integer(r->host_uid));
	json_object_set_new(limits, "rootless", json_boolean(r->rootless));
	json_object_set_new(dyn, "limits", limits);
	json_object_set_new(dyn, "output", core_json_bytes(r->output.data, r->output.len));
	json_object_set_new(dyn, "output_bytes", json_integer((json_int_t)r->output_total));
	if (r->tr.t0_us)
		json_object_set_new(dyn, "trace", box_trace_summary(&r->tr));
	json_t *files = json_array();
	if (r->root_mounted)
		walk(r, "", 0, files);
	json_object_set_new(dyn, "files", files);
	if (r->fake_log >= 0) {
		char path[1200];
		snprintf(path, sizeof(path), "%s/fakenet.jsonl", r->dir);
		json_t *summary;
		json_object_set_new(dyn, "fakenet", read_fakenet(path, &summary));
		json_object_set_new(dyn, "fakenet_summary", summary ? summary : json_null());
	}
	return dyn;
}

/* Keeps the output as an artefact, removes the root (its bind mounts go with the tmpfs),
 * closes every descriptor and, for a temporary artefacts folder, its files. */
static void run_free(struct run *r)
{
	if (r->output.len) {
		int ofd = open_artefact(r, "output.txt", O_WRONLY | O_CREAT | O_TRUNC);
		if (ofd >= 0) {
			ssize_t w = write(ofd, r->output.data, r->output.len);
			(void)w;
			close(ofd);
		}
	}
	if (r->root_mounted)
		umount2(r->root, MNT_DETACH);
	if (r->root[0])
		rmdir(r->root);
	if (r->tr.t0_us)
		box_trace_free(&r->tr);
	if (r->trace_out)
		fclose(r->trace_out);
	int *fds[] = {&r->go[0],       &r->go[1],       &r->nsready[0], &r->nsready[1],
		      &r->netready[0], &r->netready[1], &r->fready[0],  &r->fready[1],
		      &r->out[0],      &r->out[1],      &r->fake_log,   &r->pcap_fd,
		      &r->sfd};
	for (size_t i = 0; i < LIB_ARRAY_LEN(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	if (r->tmp_art) {
		static const char *const names[] = {"trace.jsonl", "fakenet.jsonl", "capture.pcap",
						    "output.txt"};
		for (size_t i = 0; i < LIB_ARRAY_LEN(names); i++) {
			char p[1200];
			snprintf(p, sizeof(p), "%s/%s", r->dir, names[i]);
			unlink(p);
		}
		rmdir(r->dir);
	}
	sigprocmask(SIG_UNBLOCK, &r->chld, NULL);
	buf_free(&r->output);
	free(r);
}

json_t *box_run(const struct core_config *cfg, const uint8_t *data, size_t n,
		const struct box_elf *elf, const char *filename, const char *artefacts)
{
	struct run *r = run_new(cfg, data, n, elf, filename, artefacts);
	if (enter_namespaces(r) == 0 && prepare(r) == 0 && start_jail(r) == 0 &&
	    start_fakenet(r) == 0)
		observe(r);
	uint64_t t_end = now_ms();
	bool still_running = r->tr.sample_alive > 0;
	stop_all(r);
	json_t *limits = cg_stats(&r->cg);
	cg_drain(r);
	cg_destroy(&r->cg);
	json_t *dyn = dynamic_json(r, t_end, still_running, limits);
	run_free(r);
	return dyn;
}
