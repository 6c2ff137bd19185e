/* Test harness for src/shell: synthetic profile and recording shell_io (see harness.h). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"

static uint8_t busybox_bin[2048];

uint8_t *th_fake_elf(size_t n, int machine, int data)
{
	uint8_t *p = xcalloc(1, n < 64 ? 64 : n);
	static const uint8_t id[] = {0x7f, 'E', 'L', 'F', 1, 1, 1, 0};
	memcpy(p, id, sizeof(id));
	p[5] = (uint8_t)data;
	/* e_type EXEC, e_machine, e_version */
	if (data == 2) {
		p[16] = 0;
		p[17] = 2;
		p[18] = (uint8_t)(machine >> 8);
		p[19] = (uint8_t)machine;
		p[23] = 1;
	} else {
		p[16] = 2;
		p[18] = (uint8_t)machine;
		p[19] = (uint8_t)(machine >> 8);
		p[20] = 1;
	}
	p[40] = 52;
	/* deterministic filler with every byte value (NUL, newlines, IAC...) */
	uint32_t x = 0x12345678u;
	for (size_t i = 52; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
	return p;
}

static const char *const applet_names[] = {
	"[",     "[[",      "ash",      "awk",      "busybox", "cat",     "chmod",  "chown",
	"cp",    "cut",     "dd",       "df",       "echo",    "free",    "ftpget", "ftpput",
	"grep",  "head",    "hostname", "ifconfig", "kill",    "killall", "ln",     "ls",
	"mkdir", "mount",   "mv",       "ps",       "pwd",     "rm",      "rmdir",  "sed",
	"sh",    "sleep",   "sort",     "tail",     "tee",     "tftp",    "touch",  "tr",
	"uname", "uniq",    "wc",       "wget",     "which",   "xargs",   "nohup",  "nice",
	"env",   "timeout", "hexdump",  "od",       "netstat", "ping",    "who",
};

struct nodedef {
	const char *path;
	int type;
	int mode;
	const char *text;
	const char *target;
};

static const char mounts[] = "rootfs / rootfs rw 0 0\n"
			     "/dev/root / squashfs ro,relatime 0 0\n"
			     "proc /proc proc rw,relatime 0 0\n"
			     "sysfs /sys sysfs rw,relatime 0 0\n"
			     "tmpfs /dev tmpfs rw,relatime,mode=755 0 0\n"
			     "tmpfs /tmp tmpfs rw,relatime 0 0\n"
			     "tmpfs /var tmpfs rw,relatime 0 0\n"
			     "/dev/mtdblock3 /mnt/data jffs2 ro,relatime 0 0\n"
			     "devpts /dev/pts devpts rw,relatime,mode=600 0 0\n";

static const char cpuinfo[] =
	"Processor\t: ARMv7 Processor rev 0 (v7l)\n"
	"BogoMIPS\t: 1594.16\n"
	"Features\t: swp half thumb fastmult vfp edsp neon vfpv3 tls \n"
	"CPU implementer\t: 0x41\nCPU architecture: 7\n"
	"Hardware\t: hi3520d\nRevision\t: 0000\nSerial\t\t: 0000000000000000\n";

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct profile_node *)a)->path,
		      ((const struct profile_node *)b)->path);
}

struct profile *th_profile(const char *version)
{
	struct profile *p = xcalloc(1, sizeof(*p));
	p->name = xstrdup("test-dvr");
	p->hostname = xstrdup("dvr");
	p->user = xstrdup("root");
	p->home = xstrdup("/root");
	p->prompt = xstrdup("# ");
	p->shell_name = xstrdup("-sh");
	p->busybox_banner = xasprintf("BusyBox v%s (2015-07-13 10:02:51 CST) multi-call binary.",
				      version ? version : "1.22.1");
	p->uname_s = xstrdup("Linux");
	p->uname_r = xstrdup("3.0.8");
	p->uname_v = xstrdup("#1 Wed Jul 1 10:02:51 CST 2015");
	p->uname_m = xstrdup("armv7l");
	p->uname_o = xstrdup("GNU/Linux");
	p->cpu_arch = xstrdup("arm7");
	p->elf.elf_class = 1;
	p->elf.data = 1;
	p->elf.machine = 40;
	p->elf.interp = xstrdup("/lib/ld-uClibc.so.0");
	p->napplets = LIB_ARRAY_LEN(applet_names);
	p->applets = xcalloc(p->napplets, sizeof(char *));
	for (size_t i = 0; i < p->napplets; i++)
		p->applets[i] = xstrdup(applet_names[i]);
	qsort(p->applets, p->napplets, sizeof(char *), str_cmp);
	static const struct {
		int pid;
		const char *vsz, *stat, *cmd;
	} procs[] = {{1, "1524", "S", "init"},        {2, "0", "SW", "[kthreadd]"},
		     {3, "0", "SW", "[ksoftirqd/0]"}, {402, "1528", "S", "/usr/sbin/telnetd"},
		     {455, "23340", "S", "./Sofia"},  {1270, "1524", "S", "1270"}};
	p->nprocs = LIB_ARRAY_LEN(procs);
	p->procs = xcalloc(p->nprocs, sizeof(*p->procs));
	for (size_t i = 0; i < p->nprocs; i++) {
		p->procs[i].pid = procs[i].pid;
		p->procs[i].user = xstrdup("root");
		p->procs[i].vsz = xstrdup(procs[i].vsz);
		p->procs[i].stat = xstrdup(procs[i].stat);
		p->procs[i].command = xstrdup(procs[i].cmd);
	}
	uint8_t *elf = th_fake_elf(sizeof(busybox_bin), 40, 1);
	memcpy(busybox_bin, elf, sizeof(busybox_bin));
	free(elf);
	const struct nodedef defs[] = {
		{"/bin", PROFILE_DIR, 0755, NULL, NULL},
		{"/bin/busybox", PROFILE_FILE, 0755, NULL, NULL},
		{"/dev", PROFILE_DIR, 0755, NULL, NULL},
		{"/etc", PROFILE_DIR, 0755, NULL, NULL},
		{"/etc/passwd", PROFILE_FILE, 0644, "root:x:0:0:root:/root:/bin/sh\n", NULL},
		{"/etc/group", PROFILE_FILE, 0644, "root:x:0:\n", NULL},
		{"/lib", PROFILE_DIR, 0755, NULL, NULL},
		{"/mnt", PROFILE_DIR, 0755, NULL, NULL},
		{"/proc", PROFILE_DIR, 0555, NULL, NULL},
		{"/proc/cpuinfo", PROFILE_FILE, 0444, cpuinfo, NULL},
		{"/proc/meminfo", PROFILE_FILE, 0444,
		 "MemTotal:         120352 kB\nMemFree:           47208 kB\nBuffers:            "
		 "5652 kB\nCached:            37416 kB\n",
		 NULL},
		{"/proc/mounts", PROFILE_FILE, 0444, mounts, NULL},
		{"/proc/uptime", PROFILE_FILE, 0444, "305123.45 301020.11\n", NULL},
		{"/root", PROFILE_DIR, 0700, NULL, NULL},
		{"/sbin", PROFILE_DIR, 0755, NULL, NULL},
		{"/sys", PROFILE_DIR, 0555, NULL, NULL},
		{"/tmp", PROFILE_DIR, 01777, NULL, NULL},
		{"/usr", PROFILE_DIR, 0755, NULL, NULL},
		{"/usr/bin", PROFILE_DIR, 0755, NULL, NULL},
		{"/usr/bin/curl", PROFILE_FILE, 0755, "\177ELF curl", NULL},
		{"/usr/sbin", PROFILE_DIR, 0755, NULL, NULL},
		{"/usr/sbin/telnetd", PROFILE_LINK, 0777, NULL, "../../bin/busybox"},
		{"/var", PROFILE_DIR, 0755, NULL, NULL},
		{"/var/run", PROFILE_DIR, 0755, NULL, NULL},
	};
	size_t nl = 0;
	for (size_t i = 0; i < p->napplets; i++)
		if (strcmp(applet_names[i], "busybox") != 0)
			nl++;
	p->nnodes = LIB_ARRAY_LEN(defs) + nl;
	p->nodes = xcalloc(p->nnodes, sizeof(*p->nodes));
	size_t k = 0;
	for (size_t i = 0; i < LIB_ARRAY_LEN(defs); i++, k++) {
		struct profile_node *n = &p->nodes[k];
		n->path = xstrdup(defs[i].path);
		n->type = defs[i].type;
		n->mode = (mode_t)defs[i].mode;
		n->mtime = 1436752971;
		if (defs[i].text) {
			n->data = (const uint8_t *)defs[i].text;
			n->len = strlen(defs[i].text);
		}
		if (strcmp(defs[i].path, "/bin/busybox") == 0) {
			n->data = busybox_bin;
			n->len = sizeof(busybox_bin);
		}
		if (defs[i].target)
			n->target = xstrdup(defs[i].target);
	}
	for (size_t i = 0; i < p->napplets; i++) {
		const char *a = applet_names[i];
		if (strcmp(a, "busybox") == 0)
			continue;
		struct profile_node *n = &p->nodes[k++];
		bool usr =
			strcmp(a, "nohup") == 0 || strcmp(a, "env") == 0 ||
			strcmp(a, "timeout") == 0 || strcmp(a, "wget") == 0 ||
			strcmp(a, "tftp") == 0 || strcmp(a, "ftpget") == 0 ||
			strcmp(a, "ftpput") == 0 || strcmp(a, "[") == 0 || strcmp(a, "[[") == 0 ||
			strcmp(a, "free") == 0 || strcmp(a, "killall") == 0 ||
			strcmp(a, "tail") == 0 || strcmp(a, "head") == 0 || strcmp(a, "wc") == 0 ||
			strcmp(a, "cut") == 0 || strcmp(a, "tee") == 0 || strcmp(a, "which") == 0 ||
			strcmp(a, "sort") == 0 || strcmp(a, "uniq") == 0 || strcmp(a, "tr") == 0 ||
			strcmp(a, "awk") == 0 || strcmp(a, "xargs") == 0;
		n->path = xasprintf("%s/%s", usr ? "/usr/bin" : "/bin", a);
		n->type = PROFILE_LINK;
		n->mode = 0777;
		n->target = xstrdup(usr ? "../../bin/busybox" : "busybox");
		n->mtime = 1436752971;
	}
	qsort(p->nodes, p->nnodes, sizeof(*p->nodes), node_cmp);
	return p;
}

void th_profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nnodes; i++) {
		free(p->nodes[i].path);
		free(p->nodes[i].target);
	}
	free(p->nodes);
	for (size_t i = 0; i < p->napplets; i++)
		free(p->applets[i]);
	free(p->applets);
	for (size_t i = 0; i < p->nprocs; i++) {
		free(p->procs[i].user);
		free(p->procs[i].vsz);
		free(p->procs[i].stat);
		free(p->procs[i].command);
	}
	free(p->procs);
	for (size_t i = 0; i < p->ncommands; i++) {
		free(p->commands[i].name);
		free(p->commands[i].output);
	}
	free(p->commands);
	free(p->name);
	free(p->hostname);
	free(p->user);
	free(p->home);
	free(p->prompt);
	free(p->shell_name);
	free(p->busybox_banner);
	free(p->uname_s);
	free(p->uname_r);
	free(p->uname_v);
	free(p->uname_m);
	free(p->uname_o);
	free(p->cpu_arch);
	free(p->elf.interp);
	free(p);
}

/* ------------------------------------------------------------------ io */

static void io_write(void *arg, const void *p, size_t n)
{
	struct th *t = arg;
	buf_append(&t->out, p, n);
}

static void io_event(void *arg, enum core_event id, json_t *fields, const char *message)
{
	struct th *t = arg;
	const char *in = json_string_value(json_object_get(fields, "input"));
	if (t->nevents < LIB_ARRAY_LEN(t->events))
		t->events[t->nevents++] = xasprintf("%s\t%s", core_events[id].name, in ? in : "");
	json_decref(fields);
	(void)message;
}

static int io_fetch(void *arg, const struct shell_fetch *req)
{
	struct th *t = arg;
	if (t->nfetches >= LIB_ARRAY_LEN(t->fetches))
		return -1;
	struct th_fetch *f = &t->fetches[t->nfetches++];
	f->id = req->id;
	f->method = xstrdup(req->method);
	f->url = xstrdup(req->url);
	f->dest = req->destfile ? xstrdup(req->destfile) : NULL;
	return 0;
}

static void io_file_written(void *arg, const char *path, const uint8_t *data, size_t len,
			    const char *method)
{
	struct th *t = arg;
	if (t->nuploads >= LIB_ARRAY_LEN(t->uploads))
		return;
	struct th_upload *u = &t->uploads[t->nuploads++];
	u->path = xstrdup(path);
	u->data = xmalloc(len + 1);
	memcpy(u->data, data, len);
	u->len = len;
	u->method = xstrdup(method);
}

static void io_exec(void *arg, const char *path, const uint8_t *data, size_t len, int argc,
		    char **argv)
{
	struct th *t = arg;
	if (t->nexecs < LIB_ARRAY_LEN(t->execs))
		t->execs[t->nexecs++] = xstrdup(path);
	(void)data;
	(void)len;
	(void)argc;
	(void)argv;
}

static void io_close(void *arg, enum shell_end why)
{
	static const char *const names[] = {
		[SHELL_END_EXIT] = "exit",
		[SHELL_END_EOF] = "eof",
		[SHELL_END_REBOOT] = "reboot",
		[SHELL_END_KILLED] = "killed",
		[SHELL_END_COMMAND_LIMIT] = "command_limit",
		[SHELL_END_WORK_LIMIT] = "work_limit",
	};
	struct th *t = arg;
	free(t->closed);
	t->closed = xstrdup(names[why]);
}

static const struct shell_limits default_limits = {
	.vfs_bytes = 4u << 20,
	.vfs_files = 256,
	.max_commands = 20000,
	.script_depth = 8,
	.max_queued = 1u << 20,
};

void th_init_with(struct th *t, struct profile *p, bool real, bool no_fetch,
		  const struct shell_limits *lim)
{
	memset(t, 0, sizeof(*t));
	t->prof = p;
	t->real = real;
	t->no_fetch = no_fetch;
	buf_init(&t->out, 64u << 20);
	struct shell_io io = {
		.arg = t,
		.write = io_write,
		.event = io_event,
		.fetch = no_fetch ? NULL : io_fetch,
		.file_written = io_file_written,
		.exec = io_exec,
		.close = io_close,
	};
	t->sh = shell_new(t->prof, lim ? lim : &default_limits, &io);
	shell_start(t->sh);
}

void th_init_limits(struct th *t, const char *version, const struct shell_limits *lim)
{
	th_init_with(t, th_profile(version), false, false, lim);
}

void th_init(struct th *t, const char *version)
{
	th_init_with(t, th_profile(version), false, false, NULL);
}

void th_init_real(struct th *t, const char *name)
{
	char *dir = xasprintf("%s/profiles/%s", MITSU_SOURCE_DIR, name);
	char err[256];
	struct profile *p;
	if (profile_load(dir, &p, err, sizeof(err))) {
		fprintf(stderr, "profile %s: %s\n", dir, err);
		abort();
	}
	free(dir);
	th_init_with(t, p, true, false, NULL);
}

void th_fini(struct th *t)
{
	if (t->sh)
		shell_free(t->sh);
	t->sh = NULL;
	if (t->real)
		profile_free(t->prof);
	else
		th_profile_free(t->prof);
	buf_free(&t->out);
	for (size_t i = 0; i < t->nuploads; i++) {
		free(t->uploads[i].path);
		free(t->uploads[i].data);
		free(t->uploads[i].method);
	}
	for (size_t i = 0; i < t->nfetches; i++) {
		free(t->fetches[i].method);
		free(t->fetches[i].url);
		free(t->fetches[i].dest);
	}
	for (size_t i = 0; i < t->nevents; i++)
		free(t->events[i]);
	for (size_t i = 0; i < t->nexecs; i++)
		free(t->execs[i]);
	free(t->closed);
}

int th_line(struct th *t, const char *line)
{
	return shell_input(t->sh, line, strlen(line));
}

char *th_take_len(struct th *t, size_t *len)
{
	char *s = xmalloc(t->out.len + 1);
	if (t->out.len)
		memcpy(s, t->out.data, t->out.len);
	s[t->out.len] = 0;
	if (len)
		*len = t->out.len;
	buf_reset(&t->out);
	return s;
}

char *th_take(struct th *t)
{
	return th_take_len(t, NULL);
}

char *th_run(struct th *t, const char *line)
{
	th_line(t, line);
	char *o = th_take(t);
	size_t n = strlen(o);
	/* the prompt: "# " (synthetic profile), "<cwd> # " on a line of its own (real ones) */
	if (n >= 2 && strcmp(o + n - 2, "# ") == 0) {
		if (t->real) {
			char *nl = strrchr(o, '\n');
			*(nl ? nl + 1 : o) = 0;
		} else {
			o[n - 2] = 0;
		}
	}
	return o;
}

void th_complete(struct th *t, int status, int code, const void *body, size_t len)
{
	if (t->pending >= t->nfetches)
		return;
	struct th_fetch *f = &t->fetches[t->pending++];
	struct shell_fetch_result r = {
		.status = status,
		.code = code,
		.data = body,
		.len = len,
		.remote_ip = "203.0.113.7",
		.remote_port = 0,
	};
	shell_fetch_done(t->sh, f->id, &r);
}

void th_auto(struct th *t, const char *suffix, const void *body, size_t len)
{
	if (t->nauto >= LIB_ARRAY_LEN(t->auto_url))
		return;
	t->auto_url[t->nauto] = suffix;
	t->auto_body[t->nauto] = body;
	t->auto_len[t->nauto] = len;
	t->nauto++;
}

void th_pump(struct th *t)
{
	for (int guard = 0; guard < 1000 && t->pending < t->nfetches; guard++) {
		struct th_fetch *f = &t->fetches[t->pending];
		size_t ul = strlen(f->url);
		bool done = false;
		for (size_t i = 0; i < t->nauto; i++) {
			size_t sl = strlen(t->auto_url[i]);
			if (ul >= sl && strcmp(f->url + ul - sl, t->auto_url[i]) == 0) {
				if (t->auto_body[i])
					th_complete(t, SHELL_FETCH_OK, 200, t->auto_body[i],
						    t->auto_len[i]);
				else
					th_complete(t, SHELL_FETCH_SERVER_ERROR, 404, NULL, 0);
				done = true;
				break;
			}
		}
		if (!done)
			th_complete(t, SHELL_FETCH_SERVER_ERROR, 404, NULL, 0);
	}
}

size_t th_events(struct th *t, const char *eventid)
{
	size_t n = 0, l = strlen(eventid);
	for (size_t i = 0; i < t->nevents; i++)
		if (strncmp(t->events[i], eventid, l) == 0 && t->events[i][l] == '\t')
			n++;
	return n;
}

bool th_has_event(struct th *t, const char *eventid, const char *input)
{
	size_t l = strlen(eventid);
	for (size_t i = 0; i < t->nevents; i++)
		if (strncmp(t->events[i], eventid, l) == 0 && t->events[i][l] == '\t' &&
		    strcmp(t->events[i] + l + 1, input) == 0)
			return true;
	return false;
}
