/* Unit tests of src/profile: every shipped profile loads and is consistent where bots look
 * (ELF header of /bin/echo against uname and cpu_arch, /proc files, credentials), the generated
 * ELF files pass real readelf, and bad profiles fail with errors that name the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/lib.h"
#include "profile/internal.h"
#include "profile/profile.h"

#define SHIPPED MITSU_SOURCE_DIR "/profiles"

/* ------------------------------------------------------------------ helpers */

static struct profile_set shipped;

static int load_shipped(void **state)
{
	char err[512] = "";
	if (profile_load_all(SHIPPED, &shipped, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int free_shipped(void **state)
{
	profile_set_free(&shipped);
	return 0;
}

static char *text_of(const struct profile *p, const char *path)
{
	const struct profile_node *n = profile_resolve(p, path);
	if (!n || n->type != PROFILE_FILE)
		fail_msg("%s: %s is missing", p->name, path);
	return xstrndup((const char *)n->data, n->len);
}

/* Runs a shell command and returns its stdout (and whether it exited 0 with empty stderr). */
static char *run(const char *cmd, bool *clean)
{
	char *full = xasprintf("%s 2>/tmp/mitsu-profile-test-stderr.%d", cmd, (int)getpid());
	FILE *f = popen(full, "r");
	free(full);
	assert_non_null(f);
	struct buf b;
	buf_init(&b, 1u << 22);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	int st = pclose(f);
	char *errpath = xasprintf("/tmp/mitsu-profile-test-stderr.%d", (int)getpid());
	struct stat sb;
	bool quiet = stat(errpath, &sb) == 0 && sb.st_size == 0;
	unlink(errpath);
	free(errpath);
	if (clean)
		*clean = st == 0 && quiet;
	size_t len;
	return (char *)buf_steal(&b, &len);
}

static bool have_tool(const char *name)
{
	char *cmd = xasprintf("command -v %s >/dev/null", name);
	int st = system(cmd);
	free(cmd);
	return st == 0;
}

static char *write_temp(const uint8_t *data, size_t len)
{
	char *path = xasprintf("/tmp/mitsu-profile-elf-%d-XXXXXX", (int)getpid());
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* The value after "Key:" in readelf -h output. */
static char *field(const char *out, const char *key)
{
	const char *s = strstr(out, key);
	if (!s)
		return xstrdup("");
	s += strlen(key);
	s += strspn(s, " ");
	return xstrndup(s, strcspn(s, "\n"));
}

static const char *readelf_machine(int m)
{
	switch (m) {
	case 3: return "Intel 80386";
	case 8: return "MIPS R3000";
	case 20: return "PowerPC";
	case 40: return "ARM";
	case 42: return "Renesas / SuperH SH";
	case 62: return "Advanced Micro Devices X86-64";
	case 183: return "AArch64";
	default: return "?";
	}
}

/* What GNU readelf (and the target's own readelf when installed) says about an ELF file:
 * machine, class and byte order must be as expected, and neither may warn about anything. */
static void check_with_readelf(const uint8_t *data, size_t len, int elf_class, int endian,
			       int machine)
{
	char *path = write_temp(data, len);
	const char *tools[] = {"readelf", NULL};
	if (machine == 40)
		tools[1] = "arm-linux-gnueabi-readelf";
	else if (machine == 8)
		tools[1] = endian == 2 ? "mips-linux-gnu-readelf" : "mipsel-linux-gnu-readelf";
	for (size_t t = 0; t < 2; t++) {
		if (!tools[t] || (t > 0 && !have_tool(tools[t])))
			continue;
		char *cmd = xasprintf("%s -h -l -S -d -W %s", tools[t], path);
		bool clean;
		char *out = run(cmd, &clean);
		if (!clean)
			fail_msg("%s warned or failed:\n%s", cmd, out);
		char *m = field(out, "Machine:"), *d = field(out, "Data:"),
		     *c = field(out, "Class:");
		assert_string_equal(m, readelf_machine(machine));
		assert_string_equal(d, endian == 2 ? "2's complement, big endian"
						   : "2's complement, little endian");
		assert_string_equal(c, elf_class == 2 ? "ELF64" : "ELF32");
		free(m), free(d), free(c), free(out), free(cmd);
	}
	unlink(path);
	free(path);
}

/* What Mirai's loader does with `cat /bin/echo`: find "ELF", back up to the magic, read
 * EI_DATA and e_machine in that byte order (loader/src/server.c, honeypots.md §4.2). */
static const char *mirai_arch(const uint8_t *buf, size_t len)
{
	const uint8_t *e = memmem(buf, len, "ELF", 3);
	if (!e || e == buf)
		return "none";
	const uint8_t *h = e - 1;
	if ((size_t)(buf + len - h) < 20)
		return "short";
	int machine = h[5] == 1 ? h[18] | h[19] << 8 : h[19] | h[18] << 8;
	switch (machine) {
	case 40: return "arm";
	case 8: return h[5] == 1 ? "mpsl" : "mips";
	case 3:
	case 62: return "x86";
	case 2: return "spc";
	case 4: return "m68k";
	case 20: return "ppc";
	case 42: return "sh4";
	default: return "unknown";
	}
}

/* ------------------------------------------------------------------ shipped profiles */

static void test_four_profiles_on_four_cpus(void **state)
{
	static const char *const names[] = {"dvr-hi3520d", "router-mt7620", "router-rtl8196c",
					    "stb-stx7111"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(names); i++)
		if (!profile_set_find(&shipped, names[i]))
			fail_msg("profile %s is not shipped", names[i]);
	/* Big-endian MIPS, little-endian MIPS, ARM and one more CPU. */
	bool mips_be = false, mips_le = false, arm = false, other = false;
	for (size_t i = 0; i < shipped.count; i++) {
		const struct profile *p = shipped.items[i];
		mips_be |= p->elf.machine == 8 && p->elf.data == 2;
		mips_le |= p->elf.machine == 8 && p->elf.data == 1;
		arm |= p->elf.machine == 40;
		other |= p->elf.machine != 8 && p->elf.machine != 40;
	}
	assert_true(mips_be && mips_le && arm && other);
	/* Each its own hostname. */
	for (size_t i = 0; i < shipped.count; i++)
		for (size_t j = i + 1; j < shipped.count; j++)
			assert_string_not_equal(shipped.items[i]->hostname,
						shipped.items[j]->hostname);
}

static void test_tree_sorted_with_parents(void **state)
{
	for (size_t k = 0; k < shipped.count; k++) {
		const struct profile *p = shipped.items[k];
		assert_string_equal(p->nodes[0].path, "/");
		assert_int_equal(p->nodes[0].type, PROFILE_DIR);
		for (size_t i = 1; i < p->nnodes; i++) {
			const char *path = p->nodes[i].path;
			assert_true(strcmp(p->nodes[i - 1].path, path) < 0);
			char *parent = xstrndup(path, (size_t)(strrchr(path, '/') - path));
			const struct profile_node *d = profile_lookup(p, *parent ? parent : "/");
			if (!d || d->type != PROFILE_DIR)
				fail_msg("%s: parent of %s is missing", p->name, path);
			free(parent);
			assert_ptr_equal(profile_lookup(p, path), &p->nodes[i]);
			if (p->nodes[i].type == PROFILE_LINK)
				assert_non_null(p->nodes[i].target);
		}
		assert_null(profile_lookup(p, "/no/such/file"));
	}
}

static void test_busybox_elf_matches_uname(void **state)
{
	for (size_t k = 0; k < shipped.count; k++) {
		const struct profile *p = shipped.items[k];
		const struct profile_node *echo = profile_resolve(p, "/bin/echo");
		const struct profile_node *bb = profile_lookup(p, "/bin/busybox");
		assert_non_null(echo);
		assert_ptr_equal(echo, bb);
		assert_ptr_equal(profile_resolve(p, "/bin/sh"), bb);
		assert_int_equal(bb->len, p->elf.busybox_size);
		assert_memory_equal(bb->data, "\177ELF", 4);
		assert_int_equal(bb->data[4], p->elf.elf_class);
		assert_int_equal(bb->data[5], p->elf.data);
		int machine = p->elf.data == 1 ? bb->data[18] | bb->data[19] << 8
					       : bb->data[19] | bb->data[18] << 8;
		assert_int_equal(machine, p->elf.machine);
		/* Mirai's loader names the same architecture as cpu_arch (arm7 is arm + ARMv7 in
		 * cpuinfo). */
		const char *arch = mirai_arch(bb->data, bb->len);
		if (strncmp(p->cpu_arch, "arm", 3) == 0) {
			assert_string_equal(arch, "arm");
			char *cpuinfo = text_of(p, "/proc/cpuinfo");
			bool v7 = strstr(cpuinfo, "ARMv7") || strstr(cpuinfo, "ARMv6");
			assert_int_equal(v7, strcmp(p->cpu_arch, "arm7") == 0 ||
						     strcmp(p->cpu_arch, "arm6") == 0);
			assert_true(lib_str_prefix(p->uname_m, "armv"));
			free(cpuinfo);
		} else {
			assert_string_equal(arch,
					    strcmp(p->cpu_arch, "x86_64") ? p->cpu_arch : "x86");
		}
		if (p->elf.machine == 8)
			assert_string_equal(p->uname_m, "mips");
		/* Every applet is a link that ends at busybox; so is the interpreter's target an
		 * ELF of the same machine. */
		for (size_t i = 0; i < p->napplets; i++) {
			char *path = xasprintf("%s/%s",
					       strcmp(profile_applet_dir(p->applets[i]), "/")
						       ? profile_applet_dir(p->applets[i])
						       : "",
					       p->applets[i]);
			const struct profile_node *n = profile_lookup(p, path);
			if (!n)
				fail_msg("%s: applet %s has no %s", p->name, p->applets[i], path);
			if (n->type == PROFILE_LINK)
				assert_ptr_equal(profile_resolve(p, path), bb);
			free(path);
		}
		const struct profile_node *ld = profile_resolve(p, p->elf.interp);
		if (*p->elf.interp) {
			assert_non_null(ld);
			assert_memory_equal(ld->data, "\177ELF", 4);
			assert_int_equal(ld->data[5], p->elf.data);
			assert_string_equal(mirai_arch(ld->data, ld->len), arch);
		}
		check_with_readelf(bb->data, bb->len, p->elf.elf_class, p->elf.data,
				   p->elf.machine);
		if (ld)
			check_with_readelf(ld->data, ld->len, p->elf.elf_class, p->elf.data,
					   p->elf.machine);
		/* readelf shows the interpreter and the libraries [elf] names. */
		char *path = write_temp(bb->data, bb->len);
		char *cmd = xasprintf("readelf -l -d %s", path);
		char *out = run(cmd, NULL);
		if (*p->elf.interp) {
			char *want =
				xasprintf("[Requesting program interpreter: %s]", p->elf.interp);
			assert_non_null(strstr(out, want));
			free(want);
		}
		for (size_t i = 0; i < p->elf.nneeded; i++) {
			char *want = xasprintf("Shared library: [%s]", p->elf.needed[i]);
			assert_non_null(strstr(out, want));
			free(want);
		}
		free(out);
		free(cmd);
		if (have_tool("file")) {
			cmd = xasprintf("file -b %s", path);
			out = run(cmd, NULL);
			assert_non_null(
				strstr(out, p->elf.elf_class == 2 ? "ELF 64-bit" : "ELF 32-bit"));
			assert_non_null(strstr(out, p->elf.data == 2 ? "MSB executable"
								     : "LSB executable"));
			free(out);
			free(cmd);
		}
		unlink(path);
		free(path);
	}
}

static void test_proc_files_agree(void **state)
{
	for (size_t k = 0; k < shipped.count; k++) {
		const struct profile *p = shipped.items[k];
		/* A rw tmpfs for Mirai's loader to write its .nippon probe to. */
		char *mounts = text_of(p, "/proc/mounts");
		bool rw_tmpfs = false;
		for (char *save, *l = strtok_r(mounts, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			char dev[64], dir[128], type[32], opts[256];
			if (sscanf(l, "%63s %127s %31s %255s", dev, dir, type, opts) == 4 &&
			    strcmp(type, "tmpfs") == 0 && lib_str_prefix(opts, "rw"))
				rw_tmpfs = true;
		}
		if (!rw_tmpfs)
			fail_msg("%s: no rw tmpfs in /proc/mounts", p->name);
		free(mounts);
		/* uname -a agrees with /proc/version. */
		char *version = text_of(p, "/proc/version");
		char *want = xasprintf("Linux version %s ", p->uname_r);
		assert_true(lib_str_prefix(version, want));
		assert_non_null(strstr(version, p->uname_v));
		free(want);
		free(version);
		/* free and top read the same numbers as cat /proc/meminfo. */
		assert_true(p->mem.total_kb > 4096 && p->mem.free_kb < p->mem.total_kb);
		assert_true(p->ncpus >= 1);
		/* BusyBox's banner, the version field and the login greeting tell one story. */
		char *bbv = xasprintf("BusyBox v%s ", p->busybox_version);
		assert_true(lib_str_prefix(p->busybox_banner, bbv));
		assert_non_null(strstr(p->busybox_banner, "multi-call binary"));
		free(bbv);
		assert_true(profile_has_applet(p, "sh"));
		assert_true(profile_has_applet(p, "echo"));
		assert_true(profile_has_applet(p, "cat"));
		/* The login user exists and the shell's home is a folder. */
		char *passwd = text_of(p, "/etc/passwd");
		char *line = xasprintf("%s:", p->user);
		assert_true(lib_str_prefix(passwd, line) || strstr(passwd, line));
		free(line);
		free(passwd);
		assert_int_equal(profile_resolve(p, p->home)->type, PROFILE_DIR);
		/* Telnet texts are ready to send: no bare LF, placeholders expanded. */
		const char *texts[] = {p->banner, p->login_prompt, p->password_prompt,
				       p->login_incorrect, p->motd};
		for (size_t i = 0; i < LIB_ARRAY_LEN(texts); i++) {
			for (const char *s = strchr(texts[i], '\n'); s; s = strchr(s + 1, '\n'))
				assert_true(s > texts[i] && s[-1] == '\r');
			assert_null(strstr(texts[i], "%h"));
			assert_null(strstr(texts[i], "%B"));
		}
		/* Prompts end the way Mirai and Gafgyt detect them (honeypots.md §4.1, §4.3). */
		size_t lp = strlen(p->login_prompt);
		assert_true(lp >= 2 && strchr(":>$#%", p->login_prompt[lp - 2]) &&
			    p->login_prompt[lp - 1] == ' ');
		assert_non_null(strstr(p->login_prompt, "ogin"));
		assert_non_null(strstr(p->password_prompt, "assword:"));
		assert_non_null(strstr(p->login_incorrect, "ncorrect"));
		assert_non_null(strstr(p->prompt, "%$"));
		/* ps shows init, telnetd and kernel threads. */
		bool init = false, telnetd = false, kthread = false;
		for (size_t i = 0; i < p->nprocs; i++) {
			init |= p->procs[i].pid == 1;
			telnetd |= strstr(p->procs[i].command, "telnetd") != NULL;
			kthread |= strcmp(p->procs[i].command, "[kthreadd]") == 0;
		}
		assert_true(init && telnetd && kthread);
	}
}

/* Strings bot herders test for to spot honeypots (cowrie#1102, #1512: ZHtrap) and the defaults
 * of well-known honeypots; none may appear anywhere an attacker can read. */
static void test_no_honeypot_fingerprints(void **state)
{
	static const char *const bad[] = {"richard", "phil",     "@LocalHost:]", "EmbyLinux",
					  "Jun22",   "Jun23",    "sshd:",        "svr04",
					  "cowrie",  "honeypot", "mitsu",        "dvrHelper",
					  "ECCHI",   "nippon"};
	for (size_t k = 0; k < shipped.count; k++) {
		const struct profile *p = shipped.items[k];
		const char *texts[] = {p->banner,          p->login_prompt,   p->password_prompt,
				       p->login_incorrect, p->motd,           p->hostname,
				       p->prompt,          p->busybox_banner, p->uname_v,
				       p->uname_r,         p->description};
		for (size_t b = 0; b < LIB_ARRAY_LEN(bad); b++) {
			for (size_t i = 0; i < LIB_ARRAY_LEN(texts); i++)
				if (strcasestr(texts[i], bad[b]))
					fail_msg("%s: '%s' in %s", p->name, bad[b], texts[i]);
			for (size_t i = 0; i < p->nprocs; i++)
				if (strcasestr(p->procs[i].command, bad[b]))
					fail_msg("%s: '%s' in ps", p->name, bad[b]);
			for (size_t i = 0; i < p->nnodes; i++) {
				const struct profile_node *n = &p->nodes[i];
				if (strcasestr(n->path, bad[b]) ||
				    (n->target && strcasestr(n->target, bad[b])) ||
				    (n->len && memmem(n->data, n->len, bad[b], strlen(bad[b]))))
					fail_msg("%s: '%s' in %s", p->name, bad[b], n->path);
			}
		}
	}
}

static void test_default_profile_accepts_bot_credentials(void **state)
{
	const struct profile *p = profile_set_find(&shipped, "dvr-hi3520d");
	assert_non_null(p);
	/* Mirai's scanner table (mirai/bot/scanner.c), decoded. */
	static const char *const mirai_root[] = {
		"xc3511",       "vizxv",        "admin",  "888888",   "xmhdipc",  "default",
		"juantech",     "123456",       "54321",  "",         "root",     "12345",
		"pass",         "1111",         "666666", "password", "1234",     "klv123",
		"klv1234",      "Zte521",       "hi3518", "jvbzd",    "anko",     "zlxx.",
		"7ujMko0vizxv", "7ujMko0admin", "system", "ikwb",     "dreambox", "user",
		"realtek",      "00000000"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(mirai_root); i++)
		if (!profile_accepts(p, "root", mirai_root[i]))
			fail_msg("root/%s refused", mirai_root[i]);
	static const char *const mirai_pairs[][2] = {{"admin", "admin"},
						     {"support", "support"},
						     {"admin", "password"},
						     {"user", "user"},
						     {"admin", ""},
						     {"admin", "admin1234"},
						     {"admin", "smcadmin"},
						     {"admin", "1111"},
						     {"Administrator", "admin"},
						     {"service", "service"},
						     {"supervisor", "supervisor"},
						     {"guest", "guest"},
						     {"guest", "12345"},
						     {"admin1", "password"},
						     {"administrator", "1234"},
						     {"666666", "666666"},
						     {"888888", "888888"},
						     {"ubnt", "ubnt"},
						     {"admin", "1111111"},
						     {"admin", "1234"},
						     {"admin", "12345"},
						     {"admin", "54321"},
						     {"admin", "123456"},
						     {"admin", "7ujMko0admin"},
						     {"admin", "pass"},
						     {"admin", "meinsm"},
						     {"tech", "tech"},
						     {"mother", "fucker"}};
	for (size_t i = 0; i < LIB_ARRAY_LEN(mirai_pairs); i++)
		if (!profile_accepts(p, mirai_pairs[i][0], mirai_pairs[i][1]))
			fail_msg("%s/%s refused", mirai_pairs[i][0], mirai_pairs[i][1]);
	/* Gafgyt tries every user with every password. */
	static const char *const g_users[] = {"root", "", "admin", "user", "login", "guest"};
	static const char *const g_pass[] = {"root",   "",        "toor",     "admin",   "user",
					     "guest",  "login",   "changeme", "1234",    "12345",
					     "123456", "default", "pass",     "password"};
	for (size_t u = 0; u < LIB_ARRAY_LEN(g_users); u++)
		for (size_t w = 0; w < LIB_ARRAY_LEN(g_pass); w++)
			if (!profile_accepts(p, g_users[u], g_pass[w]))
				fail_msg("'%s'/'%s' refused", g_users[u], g_pass[w]);
	/* Wrong ones are refused: case matters, no trimming, no unknown users. */
	assert_false(profile_accepts(p, "root", "XC3511"));
	assert_false(profile_accepts(p, "root", "xc3511 "));
	assert_false(profile_accepts(p, "root", "hunter2"));
	assert_false(profile_accepts(p, "nobody", "admin"));
	assert_false(profile_accepts(p, "Root", "xc3511"));
	assert_false(profile_accepts(p, "admin", "nimda"));
	assert_false(profile_accepts(p, NULL, "x"));
	assert_false(profile_accepts(p, "root", NULL));
}

static void test_vendor_credentials_differ(void **state)
{
	/* The other profiles accept their vendor's defaults, not the whole bot list. */
	for (size_t k = 0; k < shipped.count; k++) {
		const struct profile *p = shipped.items[k];
		if (strcmp(p->name, "dvr-hi3520d") == 0)
			continue;
		assert_true(p->ncreds >= 1 && p->ncreds < 30);
		assert_true(profile_accepts(p, p->creds[0].username, p->creds[0].password));
		assert_false(profile_accepts(p, "mother", "fucker"));
	}
}

static void test_memory_bounded(void **state)
{
	for (size_t k = 0; k < shipped.count; k++) {
		const struct profile *p = shipped.items[k];
		print_message("# %s: %zu nodes, %zu bytes\n", p->name, p->nnodes, p->bytes);
		assert_true(p->bytes < 12u * 1024 * 1024);
		assert_true(p->nnodes < PROFILE_MAX_NODES);
	}
}

static void test_default_dir_and_env(void **state)
{
	unsetenv("MITSU_PROFILES");
	assert_string_equal(profile_default_dir(), SHIPPED);
	setenv("MITSU_PROFILES", "/tmp/elsewhere", 1);
	assert_string_equal(profile_default_dir(), "/tmp/elsewhere");
	assert_string_equal(profile_dir(""), "/tmp/elsewhere");
	assert_string_equal(profile_dir(NULL), "/tmp/elsewhere");
	assert_string_equal(profile_dir("/srv/profiles"), "/srv/profiles");
	unsetenv("MITSU_PROFILES");
	assert_string_equal(profile_dir(""), SHIPPED);
}

/* ------------------------------------------------------------------ a small test profile */

static const char base_ini[] = "[device]\n"
			       "description = test device\n"
			       "category = router\n"
			       "[telnet]\n"
			       "banner = \"Welcome to %h\\n\"\n"
			       "login_prompt = \"%h login: \"\n"
			       "password_prompt = \"Password: \"\n"
			       "login_incorrect = \"Login incorrect\\n\"\n"
			       "motd = \"\\n%B built-in shell (ash)\\n\"\n"
			       "[shell]\n"
			       "hostname = testbox\n"
			       "prompt = \"%h:%w%$ \"\n"
			       "[busybox]\n"
			       "version = 1.20.2\n"
			       "build = 2015-01-01 10:00:00 UTC\n"
			       "applets = ls cat echo wget tftp telnetd ifconfig\n"
			       "applets = /opt/bin/special\n"
			       "[system]\n"
			       "uname_r = 2.6.36\n"
			       "uname_v = #1 Mon Jan 5 10:00:00 UTC 2015\n"
			       "uname_m = mips\n"
			       "cpu_arch = mips\n"
			       "[elf]\n"
			       "class = 32\n"
			       "data = msb\n"
			       "machine = mips\n"
			       "flags = 0x1007\n"
			       "interp = /lib/ld-uClibc.so.0\n"
			       "needed = libc.so.0\n"
			       "busybox_size = 64K\n"
			       "lib = /lib/ld-uClibc-0.9.30.so 8K ld-uClibc.so.0\n"
			       "lib = /lib/libc.so.0 32K\n"
			       "[credentials]\n"
			       "accept = root:secret\n"
			       "accept = admin:*\n"
			       "accept = :empty\n"
			       "[ps]\n"
			       "proc = 1 root 1234 S init\n"
			       "proc = 2 root 0 SW [kthreadd]\n"
			       "proc = 99 root 1200 S /usr/sbin/telnetd -l /bin/login\n"
			       "[commands]\n"
			       "enable = \"Unknown command\\n\"\n"
			       "enable.status = 1\n"
			       "shell.file = shell.txt\n"
			       "[fs]\n"
			       "mtime = 2015-01-05T10:00:00Z\n"
			       "dir = /tmp 1777\n"
			       "dir = /proc 0555\n"
			       "link = /lib/ld-uClibc.so.0 -> ld-uClibc-0.9.30.so\n"
			       "link = /var/run -> /tmp\n"
			       "meta = /etc/shadow 0600 0 0\n"
			       "meta = /bin/busybox 4755 0 0 2016-02-03T04:05:06Z\n";

struct tprofile {
	char root[64];
	char dir[128];
};

static void put_file(const char *dir, const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", dir, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(lib_mkdirs(path, 0755), 0);
	*slash = '/';
	assert_int_equal(lib_write_file_atomic(path, text, strlen(text), 0644), 0);
	free(path);
}

/* A fresh copy of the test profile under /tmp with `ini` as its profile.ini. */
static void make_profile(struct tprofile *t, const char *ini)
{
	snprintf(t->root, sizeof(t->root), "/tmp/mitsu-profile-test-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->dir, sizeof(t->dir), "%s/testbox", t->root);
	put_file(t->dir, "profile.ini", ini);
	put_file(t->dir, "shell.txt", "shell: not here\n");
	put_file(t->dir, "fs/proc/version",
		 "Linux version 2.6.36 (dev@build) (gcc version 4.4.7) #1 Mon Jan 5 10:00:00 UTC "
		 "2015\n");
	put_file(t->dir, "fs/proc/cpuinfo",
		 "system type\t\t: Test SoC\nprocessor\t\t: 0\ncpu model\t\t: MIPS 24Kc "
		 "V7.4\n\nprocessor\t\t: 1\ncpu model\t\t: MIPS 24Kc V7.4\n");
	put_file(t->dir, "fs/proc/mounts",
		 "rootfs / rootfs ro 0 0\ntmpfs /tmp tmpfs rw,relatime 0 0\n");
	put_file(t->dir, "fs/proc/meminfo",
		 "MemTotal:          28480 kB\nMemFree:            9120 kB\nBuffers:            "
		 "1204 kB\nCached:             6224 kB\n");
	put_file(t->dir, "fs/etc/passwd", "root:x:0:0:root:/:/bin/sh\n");
	put_file(t->dir, "fs/etc/shadow", "root:$1$abc$def:0:0:99999:7:::\n");
	put_file(t->dir, "fs/etc/hostname", "testbox\n");
	put_file(t->dir, "fs/bin/ls", "#!/bin/sh\necho not busybox\n");
}

static void drop_profile(struct tprofile *t)
{
	char *cmd = xasprintf("rm -rf '%s'", t->root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	if (!at)
		fail_msg("test bug: '%s' not in the ini", from);
	return xasprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static char *ini_with(const char *from, const char *to)
{
	return replace(base_ini, from, to);
}

static void test_small_profile_loads(void **state)
{
	struct tprofile t;
	make_profile(&t, base_ini);
	/* A symbolic link in the source tree becomes a link node, never followed. */
	char *lnk = xasprintf("%s/fs/etc/mtab", t.dir);
	assert_int_equal(symlink("/proc/mounts", lnk), 0);
	free(lnk);
	lnk = xasprintf("%s/fs/etc/outside", t.dir);
	assert_int_equal(symlink("/etc/passwd", lnk), 0);
	free(lnk);
	struct profile *p;
	char err[512] = "";
	int rc = profile_load(t.dir, &p, err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
	assert_string_equal(p->name, "testbox");
	/* Telnet texts: %h and %B expanded, LF turned into CRLF. */
	assert_string_equal(p->banner, "Welcome to testbox\r\n");
	assert_string_equal(p->login_prompt, "testbox login: ");
	assert_string_equal(p->login_incorrect, "Login incorrect\r\n");
	assert_string_equal(
		p->motd, "\r\nBusyBox v1.20.2 (2015-01-01 10:00:00 UTC) built-in shell (ash)\r\n");
	assert_string_equal(p->busybox_banner,
			    "BusyBox v1.20.2 (2015-01-01 10:00:00 UTC) multi-call binary.");
	assert_string_equal(p->prompt, "%h:%w%$ ");
	/* Defaults. */
	assert_string_equal(p->user, "root");
	assert_string_equal(p->home, "/");
	assert_string_equal(p->shell_name, "-sh");
	assert_string_equal(p->uname_s, "Linux");
	assert_string_equal(p->uname_o, "GNU/Linux");
	/* /proc facts. */
	assert_int_equal(p->mem.total_kb, 28480);
	assert_int_equal(p->mem.free_kb, 9120);
	assert_int_equal(p->mem.cached_kb, 6224);
	assert_int_equal(p->ncpus, 2);
	/* Credentials, with "*" and an empty user. */
	assert_true(profile_accepts(p, "root", "secret"));
	assert_false(profile_accepts(p, "root", ""));
	assert_true(profile_accepts(p, "admin", "anything at all"));
	assert_true(profile_accepts(p, "", "empty"));
	/* Applets: sorted, sh added, links in BusyBox's folders unless fs/ has the path. */
	assert_true(profile_has_applet(p, "sh"));
	assert_true(profile_has_applet(p, "special"));
	assert_false(profile_has_applet(p, "vi"));
	for (size_t i = 1; i < p->napplets; i++)
		assert_true(strcmp(p->applets[i - 1], p->applets[i]) < 0);
	const struct profile_node *bb = profile_lookup(p, "/bin/busybox");
	assert_string_equal(profile_lookup(p, "/usr/bin/wget")->target, "../../bin/busybox");
	assert_string_equal(profile_lookup(p, "/usr/sbin/telnetd")->target, "../../bin/busybox");
	assert_string_equal(profile_lookup(p, "/sbin/ifconfig")->target, "../bin/busybox");
	assert_string_equal(profile_lookup(p, "/bin/cat")->target, "busybox");
	assert_string_equal(profile_lookup(p, "/opt/bin/special")->target, "../../bin/busybox");
	assert_ptr_equal(profile_resolve(p, "/opt/bin/special"), bb);
	assert_ptr_equal(profile_resolve(p, "/bin/sh"), bb);
	assert_int_equal(profile_lookup(p, "/bin/ls")->type, PROFILE_FILE);
	/* Links: from the source tree, from [fs], through folders, with . and .. */
	assert_int_equal(profile_lookup(p, "/etc/mtab")->type, PROFILE_LINK);
	assert_ptr_equal(profile_resolve(p, "/etc/mtab"), profile_lookup(p, "/proc/mounts"));
	assert_null(profile_resolve(p, "/etc/outside/x"));
	assert_ptr_equal(profile_resolve(p, "/etc/outside"), profile_lookup(p, "/etc/passwd"));
	assert_ptr_equal(profile_resolve(p, "/var/run"), profile_lookup(p, "/tmp"));
	assert_ptr_equal(profile_resolve(p, "/var/run/../etc/./passwd"),
			 profile_lookup(p, "/etc/passwd"));
	assert_ptr_equal(profile_resolve(p, "/../../bin//echo"), bb);
	assert_ptr_equal(profile_resolve(p, "/"), profile_lookup(p, "/"));
	assert_null(profile_resolve(p, "/bin/echo/x"));
	assert_null(profile_resolve(p, "relative"));
	assert_null(profile_resolve(p, "/nope"));
	/* Modes and times: defaults, [fs] dir and meta lines. */
	assert_int_equal(profile_lookup(p, "/tmp")->mode, 01777);
	assert_int_equal(profile_lookup(p, "/proc")->mode, 0555);
	assert_int_equal(profile_lookup(p, "/proc/cpuinfo")->mode, 0444);
	assert_int_equal(profile_lookup(p, "/etc/shadow")->mode, 0600);
	assert_int_equal(profile_lookup(p, "/etc/passwd")->mode, 0644);
	assert_int_equal(bb->mode, 04755);
	assert_int_equal(bb->mtime, 1454472306);
	assert_int_equal(profile_lookup(p, "/etc/passwd")->mtime, 1420452000);
	assert_int_equal(profile_lookup(p, "/usr")->type, PROFILE_DIR); /* parent made up */
	/* The library the interpreter names is an ELF of the same machine. */
	const struct profile_node *ld = profile_resolve(p, "/lib/ld-uClibc.so.0");
	assert_non_null(ld);
	assert_int_equal(ld->len, 8192);
	assert_int_equal(ld->data[16] << 8 | ld->data[17], 3); /* ET_DYN, big endian */
	assert_int_equal(ld->data[19], 8);
	/* ps and canned commands. */
	assert_int_equal(p->nprocs, 3);
	assert_string_equal(p->procs[2].command, "/usr/sbin/telnetd -l /bin/login");
	const struct profile_command *c = profile_command(p, "enable");
	assert_non_null(c);
	assert_string_equal(c->output, "Unknown command\n");
	assert_int_equal(c->status, 1);
	assert_string_equal(profile_command(p, "shell")->output, "shell: not here\n");
	assert_null(profile_command(p, "system"));
	/* Folder listing in name order, direct children only. */
	const char *want[] = {"/bin/busybox", "/bin/cat", "/bin/echo", "/bin/ls", "/bin/sh"};
	size_t i = 0;
	for (const struct profile_node *n = profile_next_child(p, "/bin", NULL); n;
	     n = profile_next_child(p, "/bin", n), i++) {
		assert_true(i < LIB_ARRAY_LEN(want));
		assert_string_equal(n->path, want[i]);
	}
	assert_int_equal(i, LIB_ARRAY_LEN(want));
	i = 0;
	for (const struct profile_node *n = profile_next_child(p, "/", NULL); n;
	     n = profile_next_child(p, "/", n))
		i++;
	assert_int_equal(i, 9); /* bin etc lib opt proc sbin tmp usr var */
	assert_null(profile_next_child(p, "/etc/passwd", NULL));
	assert_null(profile_next_child(p, "/nope", NULL));
	profile_free(p);

	/* The same folder through profile_load_all, with a non-profile folder beside it. */
	char *other = xasprintf("%s/notes", t.root);
	assert_int_equal(mkdir(other, 0755), 0);
	free(other);
	struct profile_set set;
	assert_int_equal(profile_load_all(t.root, &set, err, sizeof(err)), 0);
	assert_int_equal(set.count, 1);
	assert_non_null(profile_set_find(&set, "testbox"));
	assert_null(profile_set_find(&set, "notes"));
	profile_set_free(&set);
	drop_profile(&t);
}

static void test_folder_listing_with_similar_names(void **state)
{
	struct tprofile t;
	make_profile(&t, base_ini);
	put_file(t.dir, "fs/bin-old/x", "x");
	put_file(t.dir, "fs/bin.d/y", "y");
	struct profile *p;
	char err[512] = "";
	if (profile_load(t.dir, &p, err, sizeof(err)))
		fail_msg("%s", err);
	size_t n = 0;
	for (const struct profile_node *c = profile_next_child(p, "/bin", NULL); c;
	     c = profile_next_child(p, "/bin", c)) {
		assert_true(lib_str_prefix(c->path, "/bin/"));
		n++;
	}
	assert_int_equal(n, 5);
	const struct profile_node *c = profile_next_child(p, "/bin-old", NULL);
	assert_string_equal(c->path, "/bin-old/x");
	assert_null(profile_next_child(p, "/bin-old", c));
	profile_free(p);
	drop_profile(&t);
}

/* A broken profile fails to load, and the error names the file and the problem. */
static void expect_error(const char *ini, void (*tweak)(struct tprofile *), const char *want)
{
	struct tprofile t;
	make_profile(&t, ini);
	if (tweak)
		tweak(&t);
	struct profile *p = (struct profile *)1;
	char err[512] = "";
	int rc = profile_load(t.dir, &p, err, sizeof(err));
	if (rc == 0)
		fail_msg("loaded, but expected an error with '%s'", want);
	assert_true(rc < 0);
	assert_null(p);
	if (!strstr(err, want))
		fail_msg("error '%s' does not say '%s'", err, want);
	if (!strstr(err, t.dir) && !strstr(err, "fs/"))
		fail_msg("error '%s' does not name the profile", err);
	drop_profile(&t);
}

static void no_version(struct tprofile *t)
{
	char *path = xasprintf("%s/fs/proc/version", t->dir);
	assert_int_equal(unlink(path), 0);
	free(path);
}
static void wrong_version(struct tprofile *t)
{
	put_file(t->dir, "fs/proc/version",
		 "Linux version 3.10.14 (x@y) #1 SMP Mon Jan 5 10:00:00 UTC 2015\n");
}
static void ro_mounts(struct tprofile *t)
{
	put_file(t->dir, "fs/proc/mounts", "rootfs / rootfs ro 0 0\n/dev/root / squashfs ro 0 0\n");
}
static void big_file(struct tprofile *t)
{
	char *path = xasprintf("%s/fs/var/huge.bin", t->dir);
	put_file(t->dir, "fs/var/huge.bin", "");
	assert_int_equal(truncate(path, PROFILE_MAX_FILE_BYTES + 1), 0);
	free(path);
}
static void fs_busybox(struct tprofile *t)
{
	put_file(t->dir, "fs/bin/busybox", "not an elf");
}
static void fifo_in_tree(struct tprofile *t)
{
	char *path = xasprintf("%s/fs/dev-fifo", t->dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	free(path);
}
static void wrong_hostname(struct tprofile *t)
{
	put_file(t->dir, "fs/etc/hostname", "otherbox\n");
}
static void no_ini(struct tprofile *t)
{
	char *path = xasprintf("%s/profile.ini", t->dir);
	assert_int_equal(unlink(path), 0);
	free(path);
}
static void no_cpuinfo_armv7(struct tprofile *t)
{
	put_file(t->dir, "fs/proc/cpuinfo", "Processor\t: ARM926EJ-S rev 5 (v5l)\n");
}
static void bad_command_file(struct tprofile *t)
{
	char *path = xasprintf("%s/shell.txt", t->dir);
	assert_int_equal(unlink(path), 0);
	free(path);
}

static void test_bad_profiles(void **state)
{
	char *ini;
	/* Missing and unknown keys and sections. */
	expect_error(ini = ini_with("description = test device\n", ""), NULL,
		     "[device] description is missing"),
		free(ini);
	expect_error(
		ini = ini_with(
			"[credentials]\naccept = root:secret\naccept = admin:*\naccept = :empty\n",
			""),
		NULL, "[credentials] has no accept"),
		free(ini);
	expect_error(ini = ini_with("category = router\n", "category = router\ncolour = blue\n"),
		     NULL, ":4: [device] unknown key 'colour'"),
		free(ini);
	expect_error(ini = ini_with("[shell]\n", "[shel]\n"), NULL, "unknown section [shel]"),
		free(ini);
	expect_error(
		ini = ini_with("hostname = testbox\n", "hostname = testbox\nhostname = other\n"),
		NULL, "[shell] hostname is given twice"),
		free(ini);
	expect_error(ini = ini_with("busybox_size = 64K\n", ""), NULL, "[elf] needs class"),
		free(ini);
	expect_error(ini = ini_with("mtime = 2015-01-05T10:00:00Z\n", ""), NULL,
		     "[fs] mtime is missing"),
		free(ini);
	/* Syntax, line length, escapes. */
	expect_error(ini = ini_with("[telnet]\n", "[telnet\n"), NULL,
		     "profile.ini:4: syntax error"),
		free(ini);
	char longline[300];
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "vendor = ", 9);
	longline[298] = '\n';
	longline[299] = '\0';
	expect_error(ini = ini_with("category = router\n", longline), NULL,
		     ":3: line longer than 198 bytes"),
		free(ini);
	expect_error(ini = ini_with("\"Password: \"", "\"Pass\\qword\""), NULL,
		     "unknown escape \\q"),
		free(ini);
	expect_error(ini = ini_with("\"Password: \"", "\"Pass\\x0\""), NULL,
		     "\\x needs two hex digits"),
		free(ini);
	expect_error(ini = ini_with("\"Password: \"", "\"Pass\\x00\""), NULL, "NUL"), free(ini);
	expect_error(ini = ini_with("\"%h:%w%$ \"", "\"%h:%q \""), NULL, "unknown placeholder %q"),
		free(ini);
	expect_error(ini = ini_with("\"%h login: \"", "\"%x login: \""), NULL,
		     "login_prompt: unknown placeholder %x"),
		free(ini);
	/* Architecture mismatches. */
	expect_error(ini = ini_with("uname_m = mips\n", "uname_m = armv7l\n"), NULL,
		     "does not match cpu_arch mips"),
		free(ini);
	expect_error(ini = ini_with("data = msb\n", "data = lsb\n"), NULL,
		     "do not match cpu_arch mips"),
		free(ini);
	expect_error(ini = ini_with("cpu_arch = mips\n", "cpu_arch = vax\n"), NULL,
		     "cpu_arch: unknown 'vax'"),
		free(ini);
	expect_error(ini = ini_with("machine = mips\n", "machine = z80\n"), NULL,
		     "unknown machine 'z80'"),
		free(ini);
	expect_error(ini = ini_with("busybox_size = 64K\n", "busybox_size = 300\n"), NULL,
		     "out of range"),
		free(ini);
	expect_error(ini = ini_with("busybox_size = 64K\n", "busybox_size = 5M\n"), NULL,
		     "busybox_size"),
		free(ini);
	/* Bad list lines. */
	expect_error(ini = ini_with("accept = root:secret\n", "accept = rootsecret\n"), NULL,
		     "USER:PASSWORD"),
		free(ini);
	expect_error(ini = ini_with("proc = 1 root 1234 S init\n", "proc = x root 1234 S init\n"),
		     NULL, "bad pid"),
		free(ini);
	expect_error(ini = ini_with("proc = 2 root", "proc = 1 root"), NULL,
		     "pid 1 is listed twice"),
		free(ini);
	expect_error(ini = ini_with("dir = /tmp 1777\n", "dir = tmp\n"), NULL, "[fs] dir"),
		free(ini);
	expect_error(ini = ini_with("dir = /tmp 1777\n", "dir = /tmp/../etc\n"), NULL, "[fs] dir"),
		free(ini);
	expect_error(ini = ini_with("meta = /etc/shadow 0600 0 0\n", "meta = /etc/gone 0600 0 0\n"),
		     NULL, "/etc/gone is not in the file tree"),
		free(ini);
	expect_error(ini = ini_with("link = /var/run -> /tmp\n", "link = /etc/passwd -> /tmp\n"),
		     NULL, "/etc/passwd is defined twice"),
		free(ini);
	expect_error(ini = ini_with("link = /var/run -> /tmp\n",
				    "link = /var -> /tmp\ndir = /var/log\n"),
		     NULL, "/var/log is inside /var, which is not a folder"),
		free(ini);
	expect_error(ini = ini_with("enable.status = 1\n", "enable.status = 300\n"), NULL,
		     "enable.status"),
		free(ini);
	expect_error(ini = ini_with("shell.file = shell.txt\n", "shell.file = ../../etc/passwd\n"),
		     NULL, "relative path inside the profile folder"),
		free(ini);
	expect_error(ini = ini_with("interp = /lib/ld-uClibc.so.0\n", "interp = /lib/ld.so.1\n"),
		     NULL, "interp /lib/ld.so.1 is not a file"),
		free(ini);
	expect_error(ini = ini_with("needed = libc.so.0\n", "needed = libm.so.0\n"), NULL,
		     "needed libm.so.0 is in neither"),
		free(ini);
	expect_error(ini = ini_with("[shell]\n", "[shell]\nhome = /root\n"), NULL,
		     "home /root is not a folder"),
		free(ini);
	expect_error(ini = ini_with("[shell]\n", "[shell]\nuser = admin\n"), NULL,
		     "no line for [shell] user 'admin'"),
		free(ini);
	/* Broken fs/ trees. */
	expect_error(base_ini, no_version, "fs/proc/version is missing");
	expect_error(base_ini, wrong_version, "does not start with \"Linux version 2.6.36 \"");
	expect_error(base_ini, ro_mounts, "no rw mount");
	expect_error(base_ini, big_file,
		     "huge.bin: 4194305 bytes is larger than PROFILE_MAX_FILE_BYTES");
	expect_error(base_ini, fs_busybox, "/bin/busybox is defined twice");
	expect_error(base_ini, fifo_in_tree,
		     "dev-fifo: not a regular file, folder or symbolic link");
	expect_error(base_ini, wrong_hostname, "fs/etc/hostname says 'otherbox'");
	expect_error(base_ini, no_ini, "profile.ini: No such file or directory");
	expect_error(base_ini, bad_command_file, "shell.txt: No such file or directory");
	expect_error(ini = ini_with("uname_m = mips\ncpu_arch = mips\n",
				    "uname_m = armv5tejl\ncpu_arch = arm5\n"),
		     NULL, "do not match cpu_arch arm5"),
		free(ini);
	char *mid = ini_with("uname_m = mips\ncpu_arch = mips\n",
			     "uname_m = armv7l\ncpu_arch = arm7\n");
	char *arm = replace(mid, "data = msb\nmachine = mips\n", "data = lsb\nmachine = arm\n");
	free(mid);
	expect_error(arm, no_cpuinfo_armv7, "cpu_arch arm7 needs \"ARMv7\"");
	free(arm);
}

static void test_load_all_errors(void **state)
{
	struct profile_set set;
	char err[512] = "";
	assert_int_equal(profile_load_all("/nonexistent-mitsu-profiles", &set, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-mitsu-profiles"));
	char root[] = "/tmp/mitsu-profile-empty-XXXXXX";
	assert_non_null(mkdtemp(root));
	assert_int_equal(profile_load_all(root, &set, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no profiles"));
	assert_int_equal(set.count, 0);
	rmdir(root);
	/* One bad profile fails the whole set, naming it. */
	struct tprofile t;
	make_profile(&t, base_ini);
	put_file(t.root, "zz-bad/profile.ini", "[device]\n");
	assert_true(profile_load_all(t.root, &set, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "zz-bad/profile.ini"));
	assert_null(set.items);
	drop_profile(&t);
}

/* ------------------------------------------------------------------ the ELF generator */

static void test_elf_generator_all_machines(void **state)
{
	static const struct {
		int cls, data, machine;
		uint32_t flags;
	} cases[] = {
		{1, 1, 40, 0x5000002}, {1, 2, 8, 0x1007}, {1, 1, 8, 0x70001007}, {1, 2, 20, 0},
		{1, 1, 42, 0x9},       {1, 1, 3, 0},      {2, 1, 62, 0},         {2, 1, 183, 0},
	};
	static char libc[] = "libc.so.0", libm[] = "libm.so.0";
	char *needed[] = {libc, libm};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cases); i++) {
		struct profile_elf e = {.elf_class = cases[i].cls,
					.data = cases[i].data,
					.machine = cases[i].machine,
					.flags = cases[i].flags};
		for (int kind = 0; kind < 3; kind++) {
			struct profile_elf_spec s = {.elf = &e,
						     .rodata = "hello",
						     .rodata_len = 6,
						     .seed = "test",
						     .size = 40001 + (size_t)kind * 13};
			if (kind == 0) {
				s.kind = PROFILE_ELF_EXEC;
				s.interp = "/lib/ld.so.1";
				s.needed = needed;
				s.nneeded = 2;
			} else if (kind == 1) {
				s.kind = PROFILE_ELF_DYN;
				s.soname = "libc.so.0";
			} else {
				s.kind = PROFILE_ELF_EXEC; /* static */
			}
			uint8_t *data;
			char err[160];
			assert_int_equal(profile_elf_build(&s, &data, err, sizeof(err)), 0);
			check_with_readelf(data, s.size, e.elf_class, e.data, e.machine);
			/* Same seed, same bytes; another seed, other filler. */
			uint8_t *again;
			assert_int_equal(profile_elf_build(&s, &again, err, sizeof(err)), 0);
			assert_memory_equal(data, again, s.size);
			free(again);
			s.seed = "other";
			assert_int_equal(profile_elf_build(&s, &again, err, sizeof(err)), 0);
			assert_memory_not_equal(data, again, s.size);
			free(again);
			free(data);
		}
	}
	struct profile_elf e = {.elf_class = 1, .data = 1, .machine = 40};
	struct profile_elf_spec s = {
		.elf = &e, .kind = PROFILE_ELF_EXEC, .rodata = "", .seed = "x", .size = 200};
	uint8_t *data;
	char err[160];
	assert_int_equal(profile_elf_build(&s, &data, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "out of range"));
}

static void test_applet_dirs(void **state)
{
	assert_string_equal(profile_applet_dir("ls"), "/bin");
	assert_string_equal(profile_applet_dir("sh"), "/bin");
	assert_string_equal(profile_applet_dir("ifconfig"), "/sbin");
	assert_string_equal(profile_applet_dir("init"), "/sbin");
	assert_string_equal(profile_applet_dir("wget"), "/usr/bin");
	assert_string_equal(profile_applet_dir("tftp"), "/usr/bin");
	assert_string_equal(profile_applet_dir("telnetd"), "/usr/sbin");
	assert_string_equal(profile_applet_dir("linuxrc"), "/");
	assert_string_equal(profile_applet_dir("l"), "/usr/bin"); /* not a prefix match */
	assert_string_equal(profile_applet_dir("sbin"), "/usr/bin");
}

int main(void)
{
	const struct CMUnitTest shipped_tests[] = {
		cmocka_unit_test(test_four_profiles_on_four_cpus),
		cmocka_unit_test(test_tree_sorted_with_parents),
		cmocka_unit_test(test_busybox_elf_matches_uname),
		cmocka_unit_test(test_proc_files_agree),
		cmocka_unit_test(test_no_honeypot_fingerprints),
		cmocka_unit_test(test_default_profile_accepts_bot_credentials),
		cmocka_unit_test(test_vendor_credentials_differ),
		cmocka_unit_test(test_memory_bounded),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_dir_and_env),
		cmocka_unit_test(test_small_profile_loads),
		cmocka_unit_test(test_folder_listing_with_similar_names),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_load_all_errors),
		cmocka_unit_test(test_elf_generator_all_machines),
		cmocka_unit_test(test_applet_dirs),
	};
	int failed = cmocka_run_group_tests_name("shipped profiles", shipped_tests, load_shipped,
						 free_shipped);
	return failed + cmocka_run_group_tests_name("profile loader", tests, NULL, NULL);
}
