/* Unit tests of the sample store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture/capture.h"

static int events_seen;
static bool last_duplicate;

static void on_event(void *arg, const struct core_ev *ev)
{
	if (ev->id != EV_SAMPLE_STORED)
		return;
	events_seen++;
	last_duplicate = json_is_true(core_ev_get(ev, "duplicate"));
}

static void test_put_twice(void **state)
{
	char dir[] = "/tmp/mitsu-samples-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct core_config cfg;
	core_config_init(&cfg);
	char err[128];
	core_config_set(&cfg, OPT_CORE_DATA_DIR, dir, false, err, sizeof(err));
	struct core_store st;
	assert_int_equal(core_store_open(&st, dir, false), 0);
	struct core_bus *bus = core_bus_open(&cfg, &st);
	core_bus_subscribe(bus, on_event, NULL);
	struct capture_samples *cs;
	assert_int_equal(capture_samples_open(&cs, &st, bus), 0);

	/* A minimal big-endian MIPS ELF header. */
	uint8_t elf[52] = {0x7f, 'E', 'L', 'F', 1, 2, 1};
	elf[18] = 0;
	elf[19] = 8;
	struct capture_origin o = {.source = "upload", .method = "echo", .src_ip = "192.0.2.7"};
	struct capture_sample s;
	assert_int_equal(capture_sample_put(cs, elf, sizeof(elf), &o, NULL, &s), 0);
	assert_false(s.duplicate);
	assert_string_equal(s.arch, "mips");
	assert_string_equal(s.filetype, "elf");
	assert_int_equal(events_seen, 1);
	assert_int_equal(capture_sample_put(cs, elf, sizeof(elf), &o, NULL, &s), 0);
	assert_true(s.duplicate);
	assert_true(last_duplicate);

	char *path = capture_sample_path(dir, s.sha256);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0400);
	assert_int_equal(sb.st_size, 52);
	free(path);

	/* The sensor commits the store's writes at the end of each loop turn; so does the test,
	 * before the bus's writer (another connection) needs the database. */
	core_store_commit(&st);
	core_bus_flush(bus);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(st.db,
					    "SELECT times_seen, arch, (SELECT count(*) FROM "
					    "sample_sources) FROM samples",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 2);
	assert_string_equal((const char *)sqlite3_column_text(q, 1), "mips");
	assert_int_equal(sqlite3_column_int(q, 2), 2);
	sqlite3_finalize(q);
	capture_samples_close(cs);
	core_bus_close(bus);
	core_store_close(&st);
	core_config_free(&cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_elf_arch_names(void **state)
{
	static const struct {
		int cls, data, machine;
		const char *name;
	} cases[] = {
		{1, 1, 40, "arm"},    {1, 2, 8, "mips"},      {1, 1, 8, "mipsel"},
		{1, 2, 20, "ppc"},    {1, 1, 42, "sh4"},      {1, 1, 3, "i386"},
		{2, 1, 62, "x86_64"}, {2, 1, 183, "aarch64"}, {2, 2, 8, "mips64"},
		{1, 2, 2, "sparc"},   {1, 2, 4, "m68k"},      {1, 2, 40, "armeb"},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cases); i++) {
		uint8_t h[64] = {0x7f, 'E', 'L', 'F', (uint8_t)cases[i].cls, (uint8_t)cases[i].data,
				 1};
		if (cases[i].data == 2)
			h[19] = (uint8_t)cases[i].machine;
		else
			h[18] = (uint8_t)cases[i].machine;
		char out[16];
		assert_int_equal(capture_elf_arch(h, sizeof(h), out), 0);
		assert_string_equal(out, cases[i].name);
	}
	char out[16];
	assert_int_not_equal(capture_elf_arch((const uint8_t *)"#!/bin/sh", 9, out), 0);
}

static void test_file_types(void **state)
{
	char t[24];
	capture_file_type((const uint8_t *)"#!/bin/sh\nwget x\n", 17, t);
	assert_string_equal(t, "script");
	capture_file_type((const uint8_t *)"cd /tmp; wget http://x/y\n", 25, t);
	assert_string_equal(t, "text");
	capture_file_type((const uint8_t *)"\n<HTML><body>", 13, t);
	assert_string_equal(t, "html");
	capture_file_type((const uint8_t *)"\x01\x02\x03", 3, t);
	assert_string_equal(t, "data");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_twice),
		cmocka_unit_test(test_elf_arch_names),
		cmocka_unit_test(test_file_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
