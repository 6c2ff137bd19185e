/* Micro benchmark of src/shell on the dvr-hi3520d profile: CPU time of the Mirai scanner
 * dialogue (new shell, enable/system/shell/sh/busybox MIRAI, free) and of the loader's echo
 * dialogue, and heap bytes held by an idle logged-in shell. Figures are printed as TAP
 * comments; the only assertion is on memory (deterministic), never on time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "profile/profile.h"
#include "shell/shell.h"

static struct profile *prof;
static size_t out_bytes;

static void w(void *arg, const void *p, size_t n)
{
	out_bytes += n;
}

static void ev(void *arg, enum core_event id, json_t *fields, const char *message)
{
	json_decref(fields);
}

static const struct shell_io io = {.write = w, .event = ev};
static const struct shell_limits lim = {.vfs_bytes = 32u << 20,
					.vfs_files = 1024,
					.max_commands = 20000,
					.script_depth = 8,
					.max_queued = 65536};

static double cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void feed(struct shell *sh, const char *line)
{
	shell_input(sh, line, strlen(line));
}

static void test_scanner_cpu(void **state)
{
	static const char *const lines[] = {"enable", "system", "shell", "sh",
					    "/bin/busybox MIRAI"};
	enum { N = 2000 };
	/* warm up */
	for (int i = 0; i < 50; i++) {
		struct shell *sh = shell_new(prof, &lim, &io);
		shell_start(sh);
		for (size_t k = 0; k < LIB_ARRAY_LEN(lines); k++)
			feed(sh, lines[k]);
		shell_free(sh);
	}
	double t0 = cpu_us();
	for (int i = 0; i < N; i++) {
		struct shell *sh = shell_new(prof, &lim, &io);
		shell_start(sh);
		for (size_t k = 0; k < LIB_ARRAY_LEN(lines); k++)
			feed(sh, lines[k]);
		shell_free(sh);
	}
	double whole = (cpu_us() - t0) / N;
	/* the five lines alone */
	struct shell *shs[N];
	for (int i = 0; i < N; i++) {
		shs[i] = shell_new(prof, &lim, &io);
		shell_start(shs[i]);
	}
	t0 = cpu_us();
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < LIB_ARRAY_LEN(lines); k++)
			feed(shs[i], lines[k]);
	double dialogue = (cpu_us() - t0) / N;
	for (int i = 0; i < N; i++)
		shell_free(shs[i]);
	printf("# shell bench: Mirai scanner dialogue: %.1f us CPU for its 5 lines (%.1f us per "
	       "line), "
	       "%.1f us with shell_new/shell_start/shell_free\n",
	       dialogue, dialogue / 5, whole);
	assert_true(out_bytes > 0);
}

static void test_loader_cpu(void **state)
{
	/* the echo method: ~1.5 KB dropper in 128-byte echo lines, and the rest of the dialogue */
	uint8_t *bin = th_fake_elf(1536, 40, 1);
	static char lines[64][1024];
	size_t nl = 0;
	const char *pre[] = {"enable",
			     "shell",
			     "sh",
			     "/bin/busybox ECCHI",
			     "/bin/busybox ps; /bin/busybox ECCHI",
			     "/bin/busybox cat /proc/mounts; /bin/busybox ECCHI",
			     "/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/dev' > /dev/.nippon; "
			     "/bin/busybox cat /dev/.nippon; /bin/busybox rm /dev/.nippon",
			     "cd /dev/",
			     "/bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod "
			     "777 dvrHelper; /bin/busybox ECCHI",
			     "/bin/busybox cat /bin/echo",
			     "/bin/busybox ECCHI",
			     "cat /proc/cpuinfo; /bin/busybox ECCHI",
			     "/bin/busybox wget; /bin/busybox tftp; /bin/busybox ECCHI",
			     "/bin/busybox cp dvrHelper upnp; > upnp; /bin/busybox chmod 777 upnp; "
			     "/bin/busybox ECCHI"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(pre); i++)
		snprintf(lines[nl++], sizeof(lines[0]), "%s", pre[i]);
	for (size_t off = 0; off < 1536; off += 128) {
		size_t k = (size_t)snprintf(lines[nl], sizeof(lines[0]), "/bin/busybox echo -ne '");
		for (size_t i = off; i < off + 128; i++)
			k += (size_t)snprintf(lines[nl] + k, sizeof(lines[0]) - k, "\\x%02x",
					      bin[i]);
		snprintf(lines[nl] + k, sizeof(lines[0]) - k, "' %s upnp; /bin/busybox ECCHI",
			 off ? ">>" : ">");
		nl++;
	}
	snprintf(lines[nl++], sizeof(lines[0]), "./upnp; ./dvrHelper 1.arm7; /bin/busybox IHCCE");
	snprintf(lines[nl++], sizeof(lines[0]), "rm -rf upnp; > dvrHelper; /bin/busybox ECCHI");
	enum { N = 300 };
	double t0 = cpu_us();
	for (int i = 0; i < N; i++) {
		struct shell *sh = shell_new(prof, &lim, &io);
		shell_start(sh);
		for (size_t k = 0; k < nl; k++)
			feed(sh, lines[k]);
		shell_free(sh);
	}
	double per = (cpu_us() - t0) / N;
	printf("# shell bench: Mirai loader echo dialogue (%zu lines, 1536-byte dropper): %.1f us "
	       "CPU per session, "
	       "%.1f us per line\n",
	       nl, per, per / (double)nl);
	free(bin);
}

static void test_idle_memory(void **state)
{
	enum { N = 10000 };
	struct shell **shs = xcalloc(N, sizeof(*shs));
	struct mallinfo2 a = mallinfo2();
	for (int i = 0; i < N; i++) {
		shs[i] = shell_new(prof, &lim, &io);
		shell_start(shs[i]);
	}
	struct mallinfo2 b = mallinfo2();
	size_t per = (b.uordblks - a.uordblks) / N;
	/* one line each, and a nested shell: still small */
	for (int i = 0; i < N; i++) {
		feed(shs[i], "sh");
		feed(shs[i], "cd /tmp");
	}
	struct mallinfo2 c = mallinfo2();
	size_t per2 = (c.uordblks - a.uordblks) / N;
	for (int i = 0; i < N; i++)
		shell_free(shs[i]);
	free(shs);
	printf("# shell bench: idle logged-in shell: %zu heap bytes (%zu after `sh; cd /tmp`); "
	       "%d idle shells: %.1f MiB\n",
	       per, per2, N, (double)per * N / (1 << 20));
	/* mallinfo2 counts nothing under ASan's allocator: only assert with glibc's */
	if (b.uordblks > a.uordblks)
		assert_true(per < 4096);
}

int main(void)
{
	char err[256];
	if (profile_load(MITSU_SOURCE_DIR "/profiles/dvr-hi3520d", &prof, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scanner_cpu),
		cmocka_unit_test(test_loader_cpu),
		cmocka_unit_test(test_idle_memory),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	profile_free(prof);
	return rc;
}
