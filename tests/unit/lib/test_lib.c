/* Unit tests of src/lib. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

#include <zlib.h>

/* buf_printf formats into the room it has, or grows and formats again: every length around
 * the capacities gives the same text as snprintf. */
static void buf_printf_grows(void)
{
	char fill[600], want[40000];
	memset(fill, 'x', sizeof(fill) - 1);
	fill[sizeof(fill) - 1] = 0;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_printf(&b, "%s", ""), 0); /* an empty buffer gets its room */
	assert_non_null(b.data);
	assert_string_equal((char *)b.data, "");
	size_t len = 0;
	for (int i = 0; len + 700 < sizeof(want); i++) {
		size_t room = b.cap - b.len; /* texts of room - 1 to room + 2 bytes in turn */
		int n = (int)room - 3 + i % 4;
		if (n < 0 || n > 550)
			n = i % 37;
		assert_int_equal(buf_printf(&b, "%d:%.*s", i % 10, n, fill), 0);
		len += (size_t)snprintf(want + len, sizeof(want) - len, "%d:%.*s", i % 10, n, fill);
		assert_int_equal(b.len, len);
		assert_memory_equal(b.data, want, len + 1);
	}
	buf_free(&b);
}

static void test_buf_limit(void **state)
{
	struct buf b;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "12345", 5), 0);
	assert_int_equal(buf_append(&b, "6789", 4), -ENOBUFS);
	assert_int_equal(b.len, 5);
	assert_string_equal((char *)b.data, "12345");
	assert_int_equal(buf_printf(&b, "%d", 678), 0);
	assert_string_equal((char *)b.data, "12345678");
	assert_int_equal(buf_append(&b, "x", 1), -ENOBUFS);
	buf_consume(&b, 3);
	assert_string_equal((char *)b.data, "45678");
	/* Text that fits the room allocated but not the bound is refused, the buffer intact. */
	assert_true(b.cap > 16);
	assert_int_equal(buf_printf(&b, "%s", "abcd"), -ENOBUFS);
	assert_int_equal(b.len, 5);
	assert_string_equal((char *)b.data, "45678");
	assert_int_equal(buf_printf(&b, "%s", "abc"), 0);
	assert_string_equal((char *)b.data, "45678abc");
	buf_free(&b);
	buf_printf_grows();
}

static void test_hashes(void **state)
{
	struct lib_hashes h;
	lib_hashes("abc", 3, &h);
	assert_string_equal(h.sha256,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(h.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
	assert_string_equal(h.md5, "900150983cd24fb0d6963f7d28e17f72");
}

static void test_siphash_vector(void **state)
{
	/* Reference vector from the SipHash paper: key 00..0f, message 00..0e. */
	uint8_t key[16], msg[15];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(lib_siphash(msg, sizeof(msg), key) == 0xa129ca6149be45e5ULL);
}

static void test_time(void **state)
{
	int64_t us;
	assert_int_equal(lib_parse_time("2026-11-26T09:01:02.5Z", &us), 0);
	assert_true(us == 1795683662500000LL);
	char out[LIB_RFC3339_LEN];
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = 500000000};
	lib_rfc3339(&ts, out);
	assert_string_equal(out, "2026-11-26T09:01:02.500000Z");
	assert_int_equal(lib_parse_time("2026-11-26", &us), 0);
	assert_int_equal(lib_parse_time("2026-11-26T10:01:02+01:00", &us), 0);
	assert_true(us == 1795683662000000LL);
	assert_int_equal(lib_parse_time("yesterday", &us), -EINVAL);
}

static void test_parse(void **state)
{
	unsigned long long sz;
	assert_int_equal(lib_parse_size("16K", &sz), 0);
	assert_true(sz == 16384);
	assert_int_equal(lib_parse_size("4MiB", &sz), 0);
	assert_true(sz == 4u << 20);
	assert_int_equal(lib_parse_size("-1", &sz), -EINVAL);
	assert_int_equal(lib_parse_size("3X", &sz), -EINVAL);
	char host[64];
	int port;
	assert_int_equal(lib_parse_hostport("127.0.0.1:2323", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 2323);
	assert_int_equal(lib_parse_hostport("[::1]:23", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(lib_parse_hostport("nohost", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(lib_parse_hostport("a:70000", host, sizeof(host), &port), -EINVAL);
}

static void test_uuid(void **state)
{
	char a[37], b[37];
	lib_uuid7(a);
	lib_uuid7(b);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '7');
	assert_string_not_equal(a, b);
	/* 8-4-4-4-12 lowercase hex, RFC 9562's variant, the first 48 bits this millisecond */
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_non_null(strchr("89ab", a[19]));
	char ms_hex[13];
	memcpy(ms_hex, a, 8);
	memcpy(ms_hex + 8, a + 9, 4);
	ms_hex[12] = '\0';
	long long ms = strtoll(ms_hex, NULL, 16), now = (long long)(lib_real_us() / 1000);
	assert_true(ms <= now && now - ms < 5000);
}

/* lib_dl_load: a library found (its function called through the pointer), a library that is
 * not installed and a symbol it lacks, each answered the same way on a second call. */
static const char *(*dl_zlib_version)(void);
static void *dl_missing_fn;

static void test_dl(void **state)
{
	char err[256] = "";
	const struct lib_dl_sym ok_syms[] = {{"zlibVersion", (void **)&dl_zlib_version}};
	struct lib_dl ok = {
		.soname = "libz.so.1", .package = "zlib1g", .syms = ok_syms, .nsyms = 1};
	assert_int_equal(lib_dl_load(&ok, err, sizeof(err)), 0);
	assert_non_null(dl_zlib_version);
	assert_string_equal(dl_zlib_version(), zlibVersion());
	assert_int_equal(lib_dl_load(&ok, err, sizeof(err)), 0);

	const struct lib_dl_sym none_syms[] = {{"f", &dl_missing_fn}};
	struct lib_dl none = {.soname = "libmitsu-absent.so.9",
			      .package = "mitsu-absent9",
			      .syms = none_syms,
			      .nsyms = 1};
	for (int k = 0; k < 2; k++) {
		err[0] = '\0';
		assert_int_equal(lib_dl_load(&none, err, sizeof(err)), -ENOENT);
		assert_non_null(strstr(err, "libmitsu-absent.so.9"));
		assert_non_null(strstr(err, "install the Debian package mitsu-absent9"));
	}

	const struct lib_dl_sym bad_syms[] = {{"zlibVersion", (void **)&dl_zlib_version},
					      {"mitsu_no_such_function", &dl_missing_fn}};
	struct lib_dl bad = {
		.soname = "libz.so.1", .package = "zlib1g", .syms = bad_syms, .nsyms = 2};
	for (int k = 0; k < 2; k++) {
		err[0] = '\0';
		assert_int_equal(lib_dl_load(&bad, err, sizeof(err)), -ENOENT);
		assert_non_null(strstr(err, "no symbol mitsu_no_such_function"));
		assert_non_null(strstr(err, "zlib1g"));
	}
	assert_null(dl_missing_fn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_siphash_vector),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_dl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
