/* The syscall tracer: ptrace from outside the sandbox, stopping only on the syscalls a seccomp
 * filter marks (network, exec, signals, file changes), decoding their addresses and paths from
 * the host side. qemu-user turns every guest syscall into a host (x86-64) one, so one decoder
 * serves every guest architecture. An execve of a foreign ELF (a second stage) is rewritten to
 * run under the right qemu-user, since binfmt_misc is not there to do it. The same seccomp
 * filter refuses what a sample has no business doing (mounts, modules, BPF, new namespaces). */
#include "box/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include "capture/capture.h"

#if defined(__x86_64__)
#define TRACE_SUPPORTED 1
#else
#define TRACE_SUPPORTED 0
#endif

/* ------------------------------------------------------------------ the seccomp filter */

#if TRACE_SUPPORTED
/* Syscalls stopped at and decoded. Not sendto/sendmsg/sendmmsg: a flood makes tens of
 * thousands of them a second, each stop costs the tracer a few microseconds, and the capture
 * on the link sees every datagram that leaves (what ARP stops shows as ARP). */
static const int traced[] = {
	SYS_socket,   SYS_connect, SYS_bind,     SYS_listen,   SYS_setsockopt,  SYS_execve,
	SYS_execveat, SYS_kill,    SYS_tkill,    SYS_tgkill,   SYS_open,        SYS_openat,
	SYS_creat,    SYS_unlink,  SYS_unlinkat, SYS_rename,   SYS_renameat,    SYS_renameat2,
	SYS_mkdir,    SYS_mkdirat, SYS_chmod,    SYS_fchmodat, SYS_symlink,     SYS_symlinkat,
	SYS_link,     SYS_linkat,  SYS_ptrace,   SYS_reboot,   SYS_sethostname,
};
/* Syscalls refused with EPERM without a stop: nothing a bot needs, everything that would widen
 * the kernel surface or leave the namespaces. */
static const int denied[] = {
	SYS_mount,
	SYS_umount2,
	SYS_pivot_root,
	SYS_chroot,
	SYS_swapon,
	SYS_swapoff,
	SYS_kexec_load,
	SYS_kexec_file_load,
	SYS_init_module,
	SYS_finit_module,
	SYS_delete_module,
	SYS_bpf,
	SYS_perf_event_open,
	SYS_unshare,
	SYS_setns,
	SYS_keyctl,
	SYS_add_key,
	SYS_request_key,
	SYS_userfaultfd,
	SYS_open_by_handle_at,
	SYS_name_to_handle_at,
	SYS_iopl,
	SYS_ioperm,
	SYS_process_vm_writev,
	SYS_process_vm_readv,
	SYS_io_uring_setup,
	SYS_io_uring_enter,
	SYS_io_uring_register,
	SYS_acct,
	SYS_quotactl,
	SYS_syslog,
	SYS_fanotify_init,
	SYS_lookup_dcookie,
	SYS_vhangup,
	SYS_uselib,
};
#define NS_FLAGS \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
	 CLONE_NEWPID | CLONE_NEWNET)
#define PR_SET_NAME_ 15
#define SIOCGIF_FIRST 0x8910 /* SIOCGIFNAME .. SIOCGIFCOUNT: interface discovery */
#define SIOCGIF_LAST 0x8938

int box_seccomp_install(void)
{
	struct sock_filter f[160];
	size_t n = 0;
#define EMIT(s) f[n++] = (struct sock_filter)s
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1)); /* x32 */
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	for (size_t i = 0; i < LIB_ARRAY_LEN(traced); i++) {
		EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)traced[i], 0, 1));
		EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
	}
	for (size_t i = 0; i < LIB_ARRAY_LEN(denied); i++) {
		EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)denied[i], 0, 1));
		EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
	}
	/* clone3 passes its flags in memory: ENOSYS makes libc fall back to clone. */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
	/* clone with a namespace flag: EPERM. */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	/* prctl(PR_SET_NAME): traced (the process renames itself). */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_NAME_, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	/* ioctl(SIOCGIF*): traced (interface and address discovery). */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 4));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SIOCGIF_FIRST, 0, 2));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, SIOCGIF_LAST, 1, 0));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#undef EMIT
	struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}
#else
int box_seccomp_install(void)
{
	return -ENOSYS;
}
#endif

bool box_trace_supported(void)
{
	return TRACE_SUPPORTED;
}

/* ------------------------------------------------------------------ tracees */

static const char *sig_name(int sig)
{
	static const char *const names[] = {"0",       "SIGHUP",  "SIGINT",  "SIGQUIT",
					    "SIGILL",  "SIGTRAP", "SIGABRT", "SIGBUS",
					    "SIGFPE",  "SIGKILL", "SIGUSR1", "SIGSEGV",
					    "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM"};
	return sig >= 0 && (size_t)sig < LIB_ARRAY_LEN(names) ? names[sig] : "other";
}

void box_trace_init(struct box_trace *t, FILE *out, const char *root)
{
	memset(t, 0, sizeof(*t));
	t->out = out;
	t->root = root;
	t->rootlen = strlen(root);
	t->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	t->t0_us = lib_mono_us();
	t->execs = json_array();
	t->kills = json_array();
	t->written = json_array();
	t->read = json_array();
	t->file_ops = json_array();
	t->binds = json_array();
	t->names = json_array();
	t->blocked = json_array();
	t->sockets = json_array();
	t->connects = json_array();
	t->commands = json_array();
	box_set_init(&t->pairs, BOX_DISTINCT_MAX);
	box_set_init(&t->targets, BOX_DISTINCT_MAX);
	box_set_init(&t->dests, BOX_DISTINCT_MAX);
	box_set_init(&t->lan_targets, 256);
	box_set_init(&t->rfc1918_targets, BOX_DISTINCT_MAX);
	t->port_targets = xcalloc(65536, sizeof(uint32_t));
}

void box_trace_free(struct box_trace *t)
{
	json_t *arrs[] = {t->execs, t->kills,   t->written, t->read,     t->file_ops, t->binds,
			  t->names, t->blocked, t->sockets, t->connects, t->commands};
	for (size_t i = 0; i < LIB_ARRAY_LEN(arrs); i++)
		json_decref(arrs[i]);
	box_set_free(&t->pairs);
	box_set_free(&t->targets);
	box_set_free(&t->dests);
	box_set_free(&t->lan_targets);
	box_set_free(&t->rfc1918_targets);
	free(t->port_targets);
	if (t->rootfd >= 0)
		close(t->rootfd);
}

static struct box_tracee *find(struct box_trace *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->tab[i].pid == pid)
			return &t->tab[i];
	return NULL;
}

static bool is_sample(enum box_role r)
{
	return r == ROLE_PAYLOAD || r == ROLE_SAMPLE;
}

static struct box_tracee *add(struct box_trace *t, pid_t pid, enum box_role role)
{
	struct box_tracee *e = find(t, pid);
	if (e)
		return e;
	if (t->n == BOX_TRACEES_MAX) {
		t->overflow = true;
		return NULL;
	}
	e = &t->tab[t->n++];
	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->role = role;
	if (is_sample(role))
		t->sample_alive++;
	return e;
}

static void set_role(struct box_trace *t, struct box_tracee *e, enum box_role role)
{
	if (is_sample(e->role))
		t->sample_alive--;
	e->role = role;
	if (is_sample(role))
		t->sample_alive++;
}

static void drop(struct box_trace *t, pid_t pid)
{
	struct box_tracee *e = find(t, pid);
	if (!e)
		return;
	if (is_sample(e->role))
		t->sample_alive--;
	*e = t->tab[--t->n];
}

void box_trace_start(struct box_trace *t, pid_t jail)
{
	t->jail = jail;
	add(t, jail, ROLE_JAIL);
}

/* ------------------------------------------------------------------ reading the tracee */

static size_t read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	if (!addr || !len)
		return 0;
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n > 0)
		return (size_t)n;
	/* Across a page boundary into unmapped memory: fall back to words. */
	size_t got = 0;
	while (got < len) {
		errno = 0;
		long w = ptrace(PTRACE_PEEKDATA, pid, (void *)(uintptr_t)(addr + got), NULL);
		if (errno)
			break;
		size_t k = LIB_MIN(sizeof(w), len - got);
		memcpy((uint8_t *)buf + got, &w, k);
		got += k;
	}
	return got;
}

/* A NUL-terminated string of at most max-1 bytes; "" if unreadable. */
static void read_str(pid_t pid, uint64_t addr, char *out, size_t max)
{
	out[0] = '\0';
	size_t got = 0;
	while (addr && got + 1 < max) {
		/* Read up to the end of the page, so an unmapped next page does not fail the read.
		 */
		size_t chunk = 4096 - ((addr + got) & 4095);
		chunk = LIB_MIN(chunk, max - 1 - got);
		size_t n = read_mem(pid, addr + got, out + got, chunk);
		if (n == 0)
			break;
		void *nul = memchr(out + got, '\0', n);
		if (nul) {
			got = (size_t)((char *)nul - out);
			break;
		}
		got += n;
		if (n < chunk)
			break;
	}
	out[got] = '\0';
}

static bool write_mem(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {(void *)buf, len}, remote = {(void *)(uintptr_t)addr, len};
	return process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static double now_s(struct box_trace *t)
{
	return (double)(lib_mono_us() - t->t0_us) / 1e6;
}

static void out_rec(struct box_trace *t, json_t *r)
{
	if (t->out && t->records < BOX_TRACE_RECORDS) {
		char *line =
			json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(7));
		if (line) {
			fprintf(t->out, "%s\n", line);
			free(line);
		}
		t->records++;
	} else {
		t->dropped++;
	}
	json_decref(r);
}

static json_t *rec(struct box_trace *t, pid_t pid, const char *call)
{
	return json_pack("{s:f,s:i,s:s}", "t", now_s(t), "pid", pid, "call", call);
}

static void list_add(json_t *arr, json_t *v)
{
	box_add_unique(arr, v, BOX_TRACE_LIST);
}

/* The path as the sample sees it: relative paths are joined to its working directory (read from
 * /proc, then stripped of the sandbox root's host path). */
static void sandbox_path(struct box_trace *t, pid_t pid, int dirfd, const char *path, char *out,
			 size_t max)
{
	if (path[0] == '/' || dirfd != AT_FDCWD) {
		lib_strlcpy(out, path, max);
		return;
	}
	char link[64], cwd[1024];
	snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
	ssize_t n = readlink(link, cwd, sizeof(cwd) - 1);
	if (n < 0) {
		lib_strlcpy(out, path, max);
		return;
	}
	cwd[n] = '\0';
	const char *in = cwd;
	if (strncmp(cwd, t->root, t->rootlen) == 0)
		in = cwd + t->rootlen;
	if (snprintf(out, max, "%s/%s", *in ? in : "", path) >= (int)max)
		out[max - 1] = '\0'; /* cut: the path is only shown */
}

static void sockaddr_text(const uint8_t *sa, size_t len, char *out, size_t max, uint32_t *ip,
			  uint16_t *port, int *family)
{
	*ip = 0;
	*port = 0;
	*family = len >= 2 ? (sa[0] | sa[1] << 8) : -1;
	if (*family == AF_INET && len >= 8) {
		*port = (uint16_t)(sa[2] << 8 | sa[3]);
		*ip = (uint32_t)sa[4] << 24 | (uint32_t)sa[5] << 16 | (uint32_t)sa[6] << 8 | sa[7];
		char s[16];
		box_ip_str(*ip, s);
		snprintf(out, max, "%s:%u", s, *port);
	} else if (*family == AF_INET6 && len >= 24) {
		snprintf(out, max, "ipv6 port %u", (unsigned)(sa[2] << 8 | sa[3]));
	} else if (*family == AF_UNIX && len > 2) {
		size_t k = LIB_MIN(len - 2, max - 6);
		char path[256];
		k = LIB_MIN(k, sizeof(path) - 1);
		memcpy(path, sa + 2, k);
		path[k] = '\0';
		for (size_t i = 0; i < k; i++)
			if (path[i] == '\0' && i == 0)
				path[i] = '@';
		snprintf(out, max, "unix:%s", path);
	} else if (*family == 17) {
		snprintf(out, max, "packet");
	} else {
		snprintf(out, max, "family %d", *family);
	}
}

/* A destination the sample tried: counted per port for the scan verdict. */
static void count_dest(struct box_trace *t, uint32_t ip, uint16_t port)
{
	if (!ip || port == 53)
		return;
	/* The rate counts new destinations per second: a flood of one host is not a scan. */
	if (box_set_add(&t->dests, (uint64_t)ip << 16 | port) == 1) {
		uint64_t now = lib_mono_us();
		if (!t->first_dest_us)
			t->first_dest_us = now;
		t->last_dest_us = now;
		t->dest_calls++;
	}
	box_set_add(&t->targets, ip);
	if (port && box_set_add(&t->pairs, (uint64_t)ip << 16 | port) == 1)
		t->port_targets[port]++;
	const char *cls = box_ip_class(ip);
	if (strcmp(cls, "lan") == 0)
		box_set_add(&t->lan_targets, ip);
	else if (strcmp(cls, "rfc1918") == 0)
		box_set_add(&t->rfc1918_targets, ip);
	else if (strcmp(cls, "gateway") == 0 && port && port != 67 &&
		 t->ngw_ports < LIB_ARRAY_LEN(t->gw_ports)) {
		bool seen = false;
		for (size_t i = 0; i < t->ngw_ports; i++)
			seen |= t->gw_ports[i] == port;
		if (!seen)
			t->gw_ports[t->ngw_ports++] = port;
	}
}

static void on_sockaddr_call(struct box_trace *t, pid_t pid, const char *call, uint64_t addr,
			     uint64_t len, bool keep)
{
	uint8_t sa[128];
	size_t n = read_mem(pid, addr, sa, LIB_MIN((size_t)len, sizeof(sa)));
	if (n < 2)
		return;
	char text[300];
	uint32_t ip;
	uint16_t port;
	int fam;
	sockaddr_text(sa, n, text, sizeof(text), &ip, &port, &fam);
	if (fam == AF_INET)
		count_dest(t, ip, port);
	if (keep) {
		json_t *r = rec(t, pid, call);
		json_object_set_new(r, "addr", json_string(text));
		out_rec(t, r);
		json_t *v = json_pack("{s:s,s:s}", "call", call, "addr", text);
		if (fam == AF_INET)
			json_object_set_new(v, "class", json_string(box_ip_class(ip)));
		list_add(t->connects, v);
	}
}

/* ------------------------------------------------------------------ execve */

/* argv of an execve, at most BOX_TRACE_ARGS entries. */
static json_t *read_argv(pid_t pid, uint64_t argv, char **args, size_t *nargs)
{
	json_t *arr = json_array();
	*nargs = 0;
	for (size_t i = 0; argv && i < BOX_TRACE_ARGS; i++) {
		uint64_t p = 0;
		if (read_mem(pid, argv + i * 8, &p, 8) != 8 || !p)
			break;
		char s[BOX_TRACE_STR];
		read_str(pid, p, s, sizeof(s));
		json_array_append_new(arr, core_json_str(s));
		if (args)
			args[(*nargs)++] = xstrdup(s);
	}
	return arr;
}

/* Opens a path as the tracee would, inside the sandbox root (symlinks resolved in it). */
static int open_in_root(struct box_trace *t, const char *path)
{
	if (t->rootfd < 0)
		return -1;
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	return (int)syscall(SYS_openat2, t->rootfd, path, &how, sizeof(how));
}

#if TRACE_SUPPORTED
/* Rewrites execve(path, argv, envp) into execve(BOX_QEMU_DIR "/qemu-ARCH", [qemu, "-0", argv0,
 * path, argv1...], envp), the strings and the array written below the tracee's stack pointer
 * (past the red zone). The kernel rechecks the seccomp filter after us and lets it through. */
static bool relaunch(pid_t pid, struct user_regs_struct *regs, const char *qemu, const char *path,
		     char **args, size_t nargs)
{
	const char *nv[BOX_TRACE_ARGS + 4];
	size_t k = 0;
	nv[k++] = qemu;
	nv[k++] = "-0";
	nv[k++] = nargs ? args[0] : path;
	nv[k++] = path;
	for (size_t i = 1; i < nargs; i++)
		nv[k++] = args[i];
	size_t strings = 0;
	for (size_t i = 0; i < k; i++)
		strings += strlen(nv[i]) + 1;
	size_t total = strings + (k + 1) * 8 + 16;
	uint64_t base = (regs->rsp - 256 - total) & ~(uint64_t)15;
	uint8_t *blob = xcalloc(1, total);
	uint64_t ptrs[BOX_TRACE_ARGS + 5];
	size_t off = (k + 1) * 8;
	for (size_t i = 0; i < k; i++) {
		size_t l = strlen(nv[i]) + 1;
		memcpy(blob + off, nv[i], l);
		ptrs[i] = base + off;
		off += l;
	}
	ptrs[k] = 0;
	memcpy(blob, ptrs, (k + 1) * 8);
	bool ok = write_mem(pid, base, blob, total);
	free(blob);
	if (!ok)
		return false;
	regs->orig_rax = SYS_execve;
	regs->rdi = ptrs[0];
	regs->rsi = base;
	/* envp (rdx for execve, r10 for execveat) stays; execveat's envp moves to rdx. */
	return ptrace(PTRACE_SETREGS, pid, NULL, regs) == 0;
}

static void on_execve(struct box_trace *t, struct box_tracee *e, struct user_regs_struct *regs,
		      bool at)
{
	pid_t pid = e->pid;
	uint64_t path_p = at ? regs->rsi : regs->rdi, argv_p = at ? regs->rdx : regs->rsi;
	char path[BOX_TRACE_STR];
	read_str(pid, path_p, path, sizeof(path));
	char *args[BOX_TRACE_ARGS];
	size_t nargs;
	json_t *argv = read_argv(pid, argv_p, args, &nargs);
	bool ours = lib_str_prefix(path, BOX_QEMU_DIR "/");
	if (e->role == ROLE_PAYLOAD && !e->launched && ours) {
		e->launched = true; /* our own launch of the sample under qemu */
		json_decref(argv);
		goto out;
	}
	t->execs_total++;
	char shown[BOX_TRACE_STR + 64];
	sandbox_path(t, pid, at ? (int)regs->rdi : AT_FDCWD, path, shown, sizeof(shown));
	json_t *r = rec(t, pid, at ? "execveat" : "execve");
	json_object_set_new(r, "path", core_json_str(shown));
	json_object_set_new(r, "argv", json_incref(argv));
	/* A shell command line: sh -c "..." */
	if (nargs >= 3 && strcmp(args[1], "-c") == 0)
		list_add(t->commands, core_json_str(args[2]));
	const char *how = "as is";
	if (!ours) {
		int fd = open_in_root(t, shown);
		uint8_t head[64];
		ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
		if (fd >= 0)
			close(fd);
		char arch[16];
		if (n >= 20 && capture_elf_arch(head, (size_t)n, arch) == 0) {
			struct box_elf el;
			const char *q =
				box_elf_parse(head, (size_t)n, &el) == 0 ? box_qemu_for(&el) : NULL;
			if (!q)
				q = box_qemu_name(arch);
			if (q) {
				char qemu[64];
				snprintf(qemu, sizeof(qemu), "%s/qemu-%s", BOX_QEMU_DIR, q);
				if (at)
					regs->rdx =
						regs->r10; /* execveat's envp becomes execve's */
				if (relaunch(pid, regs, qemu, shown, args, nargs)) {
					how = q;
					t->relaunched++;
				} else {
					how = "relaunch failed";
				}
			} else {
				how = "no emulator";
			}
			json_object_set_new(r, "arch", json_string(arch));
		}
	}
	json_object_set_new(r, "run", json_string(how));
	json_t *v = json_pack("{s:s,s:o,s:s}", "path", shown, "argv", argv, "run", how);
	list_add(t->execs, v);
	out_rec(t, r);
out:
	for (size_t i = 0; i < nargs; i++)
		free(args[i]);
}

static void on_kill(struct box_trace *t, pid_t pid, long target, int sig, const char *call)
{
	json_t *r = rec(t, pid, call);
	json_object_set_new(r, "target", json_integer(target));
	json_object_set_new(r, "signal", json_integer(sig));
	out_rec(t, r);
	const char *who = target == t->decoy_nspid && t->decoy_nspid ? "telnetd (decoy)"
			  : target == 1                              ? "init"
			  : target <= 0                              ? "process group"
								     : "other";
	if (sig == 0)
		return; /* a probe, not a kill */
	t->kills_total++;
	list_add(t->kills, json_pack("{s:I,s:s,s:s}", "target", (json_int_t)target, "signal",
				     sig_name(sig), "who", who));
}

/* Paths whose opening says something: watchdog (keep the device from rebooting), the TCP
 * table (Mirai's killer finds port owners there), the route table (LAN discovery). */
static void note_path(struct box_trace *t, const char *p, bool write)
{
	if (strstr(p, "watchdog"))
		t->watchdog = true;
	if (strcmp(p, "/proc/net/tcp") == 0 || strcmp(p, "/proc/net/tcp6") == 0)
		t->proc_net_tcp = true;
	if (strcmp(p, "/proc/net/route") == 0)
		t->proc_net_route = true;
	if (lib_str_prefix(p, "/proc/") &&
	    (strstr(p, "/exe") || strstr(p, "/cmdline") || strstr(p, "/maps") ||
	     strstr(p, "/fd")) &&
	    !lib_str_prefix(p, "/proc/self"))
		t->proc_scan++;
	(void)write;
}

static void on_open(struct box_trace *t, pid_t pid, int dirfd, uint64_t path_p, long flags,
		    const char *call)
{
	char path[BOX_TRACE_STR], shown[BOX_TRACE_STR + 64];
	read_str(pid, path_p, path, sizeof(path));
	sandbox_path(t, pid, dirfd, path, shown, sizeof(shown));
	bool write = (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND));
	note_path(t, shown, write);
	/* qemu's own reading of its guest binary, of /proc/self and of mmap_min_addr at start is
	 * not the sample's doing. */
	if (!write &&
	    (lib_str_prefix(shown, BOX_QEMU_DIR) || lib_str_prefix(shown, "/proc/self/") ||
	     strcmp(shown, "/proc/sys/vm/mmap_min_addr") == 0 ||
	     (!t->guest_opened && (t->guest_opened = true))))
		return;
	json_t *r = rec(t, pid, call);
	json_object_set_new(r, "path", core_json_str(shown));
	json_object_set_new(r, "flags", json_integer(flags));
	out_rec(t, r);
	list_add(write ? t->written : t->read, core_json_str(shown));
}

static void on_path_op(struct box_trace *t, pid_t pid, const char *call, int dirfd, uint64_t a,
		       int dirfd2, uint64_t b)
{
	char p1[BOX_TRACE_STR], s1[BOX_TRACE_STR + 64], p2[BOX_TRACE_STR], s2[BOX_TRACE_STR + 64];
	read_str(pid, a, p1, sizeof(p1));
	sandbox_path(t, pid, dirfd, p1, s1, sizeof(s1));
	json_t *r = rec(t, pid, call);
	json_object_set_new(r, "path", core_json_str(s1));
	json_t *v = json_pack("{s:s,s:s}", "op", call, "path", s1);
	if (b) {
		read_str(pid, b, p2, sizeof(p2));
		sandbox_path(t, pid, dirfd2, p2, s2, sizeof(s2));
		json_object_set_new(r, "to", core_json_str(s2));
		json_object_set_new(v, "to", core_json_str(s2));
	}
	out_rec(t, r);
	list_add(t->file_ops, v);
}

/* socket(2): raw and packet sockets are what flooders and scanners open. */
static void on_socket(struct box_trace *t, pid_t pid, uint64_t domain, uint64_t type_arg,
		      uint64_t protocol)
{
	int type = (int)(type_arg & 0xf);
	if (type != SOCK_RAW && type != 10 /* SOCK_PACKET */ && domain != 17 /* AF_PACKET */)
		return;
	t->raw_sockets++;
	json_t *r = rec(t, pid, "socket");
	json_object_set_new(r, "domain", json_integer((json_int_t)domain));
	json_object_set_new(r, "type", json_string(type == SOCK_RAW ? "raw" : "packet"));
	json_object_set_new(r, "protocol", json_integer((json_int_t)protocol));
	out_rec(t, r);
	list_add(t->sockets,
		 json_pack("{s:s,s:I}", "type", "raw", "protocol", (json_int_t)protocol));
}

/* bind(2): a bot that binds 23 or 2323 keeps other bots out of the device. */
static void on_bind(struct box_trace *t, pid_t pid, uint64_t addr, uint64_t len)
{
	uint8_t sa[128];
	size_t n = read_mem(pid, addr, sa, LIB_MIN((size_t)len, sizeof(sa)));
	char text[300];
	uint32_t ip;
	uint16_t port;
	int fam;
	if (n < 2)
		return;
	sockaddr_text(sa, n, text, sizeof(text), &ip, &port, &fam);
	json_t *r = rec(t, pid, "bind");
	json_object_set_new(r, "addr", json_string(text));
	out_rec(t, r);
	if (fam == AF_INET) {
		list_add(t->binds, json_integer(port));
		if (port == 23 || port == 2323)
			t->bound_telnet = true;
	}
}

/* prctl(PR_SET_NAME) and sethostname(2): a name the sample gives itself or the device. */
static void on_name(struct box_trace *t, pid_t pid, const char *call, uint64_t addr, size_t max)
{
	char name[65];
	read_str(pid, addr, name, LIB_MIN(sizeof(name), max));
	json_t *r = rec(t, pid, call);
	json_object_set_new(r, "name", core_json_str(name));
	out_rec(t, r);
	if (strcmp(call, "prctl") == 0)
		list_add(t->names, core_json_str(name));
}

static void on_seccomp(struct box_trace *t, struct box_tracee *e)
{
	pid_t pid = e->pid;
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
		return;
	long nr = (long)regs.orig_rax;
	uint64_t a0 = regs.rdi, a1 = regs.rsi, a2 = regs.rdx, a3 = regs.r10;
	bool deny = false;
	switch (nr) {
	case SYS_socket: on_socket(t, pid, a0, a1, a2); break;
	case SYS_connect:
		t->connects_total++;
		on_sockaddr_call(t, pid, "connect", a1, a2,
				 t->connects_total <= BOX_TRACE_RECORDS / 4);
		break;
	case SYS_bind: on_bind(t, pid, a1, a2); break;
	case SYS_listen: break;
	case SYS_setsockopt:
		if (a1 == IPPROTO_IP && a2 == 3 /* IP_HDRINCL */)
			t->hdrincl++;
		break;
	case SYS_execve: on_execve(t, e, &regs, false); break;
	case SYS_execveat: on_execve(t, e, &regs, true); break;
	case SYS_kill: on_kill(t, pid, (int)a0, (int)a1, "kill"); break;
	case SYS_tkill: on_kill(t, pid, (int)a0, (int)a1, "tkill"); break;
	case SYS_tgkill: on_kill(t, pid, (int)a0, (int)a2, "tgkill"); break;
	case SYS_open: on_open(t, pid, AT_FDCWD, a0, (long)a1, "open"); break;
	case SYS_openat: on_open(t, pid, (int)a0, a1, (long)a2, "openat"); break;
	case SYS_creat: on_open(t, pid, AT_FDCWD, a0, O_CREAT | O_WRONLY | O_TRUNC, "creat"); break;
	case SYS_unlink: on_path_op(t, pid, "unlink", AT_FDCWD, a0, 0, 0); break;
	case SYS_unlinkat: on_path_op(t, pid, "unlink", (int)a0, a1, 0, 0); break;
	case SYS_rename: on_path_op(t, pid, "rename", AT_FDCWD, a0, AT_FDCWD, a1); break;
	case SYS_renameat:
	case SYS_renameat2: on_path_op(t, pid, "rename", (int)a0, a1, (int)a2, a3); break;
	case SYS_mkdir: on_path_op(t, pid, "mkdir", AT_FDCWD, a0, 0, 0); break;
	case SYS_mkdirat: on_path_op(t, pid, "mkdir", (int)a0, a1, 0, 0); break;
	case SYS_chmod: on_path_op(t, pid, "chmod", AT_FDCWD, a0, 0, 0); break;
	case SYS_fchmodat: on_path_op(t, pid, "chmod", (int)a0, a1, 0, 0); break;
	case SYS_symlink: on_path_op(t, pid, "symlink", AT_FDCWD, a1, AT_FDCWD, a0); break;
	case SYS_symlinkat: on_path_op(t, pid, "symlink", (int)a1, a2, AT_FDCWD, a0); break;
	case SYS_link: on_path_op(t, pid, "link", AT_FDCWD, a0, AT_FDCWD, a1); break;
	case SYS_linkat: on_path_op(t, pid, "link", (int)a0, a1, (int)a2, a3); break;
	case SYS_prctl: on_name(t, pid, "prctl", a1, 17); break;
	case SYS_ioctl: t->ifaddr_queries++; break;
	case SYS_sethostname:
		on_name(t, pid, "sethostname", a0, LIB_MIN(65, (size_t)a1 + 1));
		break;
	case SYS_ptrace:
	case SYS_reboot: {
		deny = true;
		const char *call = nr == SYS_ptrace ? "ptrace" : "reboot";
		out_rec(t, rec(t, pid, call));
		list_add(t->blocked, json_string(call));
		break;
	}
	default: break;
	}
	if (deny) {
		regs.orig_rax = (uint64_t)-1; /* skip the call */
		regs.rax = (uint64_t)-EPERM;
		ptrace(PTRACE_SETREGS, pid, NULL, &regs);
	}
}
#endif

/* ------------------------------------------------------------------ the stops */

void box_trace_event(struct box_trace *t, pid_t pid, int status)
{
	struct box_tracee *e = find(t, pid);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (e && e->role == ROLE_DECOY && WIFSIGNALED(status) && !t->ending)
			t->decoy_killed = WTERMSIG(status);
		if (e && e->role == ROLE_PAYLOAD) {
			t->payload_exited = true;
			t->payload_status = status;
		}
		if (e && is_sample(e->role))
			t->exits++;
		drop(t, pid);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	int sig = WSTOPSIG(status), event = status >> 16;
	if (!e) {
		/* A new child whose parent's fork event is still to come. Its role decides how its
		 * syscalls are read, so it stays in this first stop until the event names it. */
		e = add(t, pid, ROLE_SAMPLE);
		if (!e) {
			kill(pid, SIGKILL);
			return;
		}
		e->pending_role = true;
		e->held = true;
		return;
	}
	unsigned long msg = 0;
	switch (event) {
	case PTRACE_EVENT_STOP:
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, pid, NULL, NULL); /* group stop */
		else
			ptrace(PTRACE_CONT, pid, NULL, NULL);
		return;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE: {
		ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg);
		pid_t child = (pid_t)msg;
		enum box_role role = ROLE_SAMPLE;
		if (e->role == ROLE_JAIL)
			role = ROLE_INIT;
		else if (e->role == ROLE_INIT)
			role = e->children == 0   ? ROLE_DECOY
			       : e->children == 1 ? ROLE_PAYLOAD
						  : ROLE_SAMPLE;
		if (event != PTRACE_EVENT_CLONE || !is_sample(e->role))
			e->children++;
		struct box_tracee *c = find(t, child);
		if (c)
			set_role(t, c, role);
		else
			c = add(t, child, role);
		if (c) {
			c->pending_role = false;
			if (c->held) {
				c->held = false;
				ptrace(PTRACE_CONT, child, NULL,
				       NULL); /* its first stop, held until now */
			}
		}
		if (role == ROLE_INIT)
			t->init = child;
		else if (role == ROLE_DECOY)
			t->decoy = child;
		else if (role == ROLE_PAYLOAD)
			t->payload = child;
		if (is_sample(e->role)) {
			if (event == PTRACE_EVENT_CLONE)
				t->threads++;
			else
				t->forks++;
		}
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		return;
	}
	case PTRACE_EVENT_EXEC:
		ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg);
		if ((pid_t)msg != pid)
			drop(t, (pid_t)msg); /* a thread exec'd: the old thread id is gone */
		if (e->role == ROLE_PAYLOAD && !t->payload_started) {
			t->payload_started = true;
			t->payload_start_us = lib_mono_us();
		}
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		return;
	case PTRACE_EVENT_SECCOMP:
#if TRACE_SUPPORTED
		on_seccomp(t, e);
#endif
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		return;
	default: break;
	}
	/* A signal on its way to the tracee: deliver it. */
	ptrace(PTRACE_CONT, pid, NULL, (void *)(uintptr_t)(sig == SIGTRAP ? 0 : sig));
}

json_t *box_trace_summary(struct box_trace *t)
{
	double span = t->last_dest_us > t->first_dest_us
			      ? (double)(t->last_dest_us - t->first_dest_us) / 1e6
			      : 0;
	/* Ports with the most distinct destinations. */
	json_t *ports = json_array();
	uint16_t best[16];
	size_t nb = 0;
	for (uint32_t port = 1; port < 65536; port++) {
		uint32_t c = t->port_targets[port];
		if (!c)
			continue;
		size_t pos = nb;
		while (pos > 0 && t->port_targets[best[pos - 1]] < c)
			pos--;
		if (pos >= LIB_ARRAY_LEN(best))
			continue;
		if (nb < LIB_ARRAY_LEN(best))
			nb++;
		memmove(best + pos + 1, best + pos, (nb - 1 - pos) * sizeof(best[0]));
		best[pos] = (uint16_t)port;
	}
	for (size_t i = 0; i < nb; i++)
		json_array_append_new(ports, json_pack("{s:i,s:I}", "port", best[i], "targets",
						       (json_int_t)t->port_targets[best[i]]));
	json_t *o = json_object();
	json_object_set_new(o, "supported", json_boolean(TRACE_SUPPORTED));
	json_object_set_new(o, "records", json_integer((json_int_t)t->records));
	json_object_set_new(o, "records_dropped", json_integer((json_int_t)t->dropped));
	json_object_set_new(o, "execs", json_incref(t->execs));
	json_object_set_new(o, "execs_total", json_integer((json_int_t)t->execs_total));
	json_object_set_new(o, "relaunched", json_integer((json_int_t)t->relaunched));
	json_object_set_new(o, "shell_commands", json_incref(t->commands));
	json_object_set_new(o, "kills", json_incref(t->kills));
	json_object_set_new(o, "kills_total", json_integer((json_int_t)t->kills_total));
	json_object_set_new(o, "files_written", json_incref(t->written));
	json_object_set_new(o, "files_read", json_incref(t->read));
	json_object_set_new(o, "file_ops", json_incref(t->file_ops));
	json_object_set_new(o, "binds", json_incref(t->binds));
	json_object_set_new(o, "bound_telnet", json_boolean(t->bound_telnet));
	json_object_set_new(o, "names", json_incref(t->names));
	json_object_set_new(o, "blocked", json_incref(t->blocked));
	json_object_set_new(o, "raw_sockets", json_integer((json_int_t)t->raw_sockets));
	json_object_set_new(o, "hdrincl", json_integer((json_int_t)t->hdrincl));
	json_object_set_new(o, "sockets", json_incref(t->sockets));
	json_object_set_new(o, "connects", json_incref(t->connects));
	json_object_set_new(o, "connects_total", json_integer((json_int_t)t->connects_total));
	json_object_set_new(o, "targets", json_integer((json_int_t)t->targets.count));
	json_object_set_new(o, "ports", ports);
	json_object_set_new(o, "lan_targets", json_integer((json_int_t)t->lan_targets.count));
	json_object_set_new(o, "rfc1918_targets",
			    json_integer((json_int_t)t->rfc1918_targets.count));
	json_t *gw = json_array();
	for (size_t i = 0; i < t->ngw_ports; i++)
		json_array_append_new(gw, json_integer(t->gw_ports[i]));
	json_object_set_new(o, "gateway_ports", gw);
	json_object_set_new(
		o, "dest_rate",
		json_real(span > 0 ? (double)t->dest_calls / span : (double)t->dest_calls));
	json_object_set_new(o, "forks", json_integer((json_int_t)t->forks));
	json_object_set_new(o, "threads", json_integer((json_int_t)t->threads));
	json_object_set_new(o, "exits", json_integer((json_int_t)t->exits));
	json_object_set_new(o, "watchdog", json_boolean(t->watchdog));
	json_object_set_new(o, "proc_net_tcp", json_boolean(t->proc_net_tcp));
	json_object_set_new(o, "proc_net_route", json_boolean(t->proc_net_route));
	json_object_set_new(o, "proc_scan", json_integer((json_int_t)t->proc_scan));
	json_object_set_new(o, "ifaddr_queries", json_integer((json_int_t)t->ifaddr_queries));
	json_object_set_new(o, "decoy_killed",
			    t->decoy_killed ? json_string(sig_name(t->decoy_killed)) : json_null());
	json_object_set_new(o, "overflow", json_boolean(t->overflow));
	return o;
}
