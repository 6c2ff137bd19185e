/* Unit tests of src/scope: the decoder on every link type and every truncation, p0f.fp parsing
 * and matching, the hash table's bounds, CIDRs, the flat libloc table against libloc itself,
 * and the engine's rules (labels, scanners, backscatter, intervals, limits, threads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <libloc/database.h>
#include <libloc/libloc.h>
#include <libloc/network.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scope/scope.h"
#include "scope/scope_int.h"

#define LOCATION_DB "/var/lib/location/database.db"
#define P0F_FP "/etc/p0f/p0f.fp"

/* ---------------------------------------------------------------- packet building */

static uint16_t csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

struct syn {
	uint32_t src, dst, seq, ack;
	uint16_t sport, dport, win, ipid;
	uint8_t ttl, flags, tos;
	bool df;
	const uint8_t *opt;
	size_t olen;
};

/* An IPv4 TCP packet at p; returns its length. */
static size_t build_tcp(uint8_t *p, const struct syn *s)
{
	size_t tl = 20 + s->olen;
	memset(p, 0, 20 + tl);
	p[0] = 0x45;
	p[1] = s->tos;
	put16(p + 2, (uint16_t)(20 + tl));
	put16(p + 4, s->ipid);
	put16(p + 6, s->df ? 0x4000 : 0);
	p[8] = s->ttl ? s->ttl : 64;
	p[9] = 6;
	put32(p + 12, s->src);
	put32(p + 16, s->dst);
	put16(p + 10, csum(p, 20, 0));
	uint8_t *t = p + 20;
	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	t[12] = (uint8_t)(tl / 4 << 4);
	t[13] = s->flags ? s->flags : 0x02;
	put16(t + 14, s->win);
	if (s->olen)
		memcpy(t + 20, s->opt, s->olen);
	return 20 + tl;
}

static size_t build_udp(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	memset(p, 0, 36);
	p[0] = 0x45;
	put16(p + 2, 36);
	p[8] = 64;
	p[9] = 17;
	put32(p + 12, src);
	put32(p + 16, dst);
	put16(p + 20, sport);
	put16(p + 22, dport);
	put16(p + 24, 16);
	return 36;
}

/* ICMP error of `type` quoting an IPv4 header (inner src -> inner dst). */
static size_t build_icmp(uint8_t *p, uint32_t src, uint32_t dst, uint8_t type, uint32_t isrc,
			 uint32_t idst)
{
	memset(p, 0, 56);
	p[0] = 0x45;
	put16(p + 2, 56);
	p[8] = 64;
	p[9] = 1;
	put32(p + 12, src);
	put32(p + 16, dst);
	p[20] = type;
	p[21] = 3;
	uint8_t *in = p + 28;
	in[0] = 0x45;
	put16(in + 2, 28);
	in[8] = 60;
	in[9] = 17;
	put32(in + 12, isrc);
	put32(in + 16, idst);
	return 56;
}

static const uint8_t linux_opt[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				      0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
static const uint8_t win_opt[12] = {2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2};

static uint32_t ip(const char *s)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

/* ---------------------------------------------------------------- decoder */

static void test_decode_links(void **state)
{
	uint8_t pkt[128], fr[192];
	struct syn s = {.src = ip("203.0.113.1"),
			.dst = ip("198.18.0.9"),
			.sport = 1234,
			.dport = 23,
			.seq = ip("198.18.0.9"),
			.win = 5000,
			.ipid = 77,
			.ttl = 50};
	size_t n = build_tcp(pkt, &s);
	struct {
		int link;
		const uint8_t *hdr;
		size_t hlen;
	} cases[] = {
		{SCOPE_LINK_EN10MB, (const uint8_t *)"\x02\0\0\0\0\1\x02\0\0\0\0\2\x08\x00", 14},
		{SCOPE_LINK_EN10MB,
		 (const uint8_t *)"\x02\0\0\0\0\1\x02\0\0\0\0\2\x81\x00\x00\x07\x08\x00", 18},
		{SCOPE_LINK_EN10MB,
		 (const uint8_t
			  *)"\x02\0\0\0\0\1\x02\0\0\0\0\2\x88\xa8\0\1\x81\x00\x00\x07\x08\x00",
		 22},
		{SCOPE_LINK_RAW, (const uint8_t *)"", 0},
		{12, (const uint8_t *)"", 0},
		{SCOPE_LINK_IPV4, (const uint8_t *)"", 0},
		{SCOPE_LINK_SLL, (const uint8_t *)"\0\0\0\1\0\6\2\0\0\0\0\1\0\0\x08\x00", 16},
		{SCOPE_LINK_SLL2, (const uint8_t *)"\x08\x00\0\0\0\0\0\2\0\1\0\6\2\0\0\0\0\1\0\0",
		 20},
		{SCOPE_LINK_NULL, (const uint8_t *)"\2\0\0\0", 4},
		{SCOPE_LINK_NULL, (const uint8_t *)"\0\0\0\2", 4},
		{SCOPE_LINK_LOOP, (const uint8_t *)"\0\0\0\2", 4},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cases); i++) {
		memcpy(fr, cases[i].hdr, cases[i].hlen);
		memcpy(fr + cases[i].hlen, pkt, n);
		struct scope_pkt p;
		assert_int_equal(scope_decode(cases[i].link, fr, cases[i].hlen + n, 42, &p),
				 SCOPE_DEC_IP);
		assert_int_equal(p.ts_ns, 42);
		assert_int_equal(p.ipver, 4);
		assert_int_equal(p.src, s.src);
		assert_int_equal(p.dst, s.dst);
		assert_int_equal(p.sport, 1234);
		assert_int_equal(p.dport, 23);
		assert_int_equal(p.seq, s.seq);
		assert_int_equal(p.ipid, 77);
		assert_int_equal(p.ttl, 50);
		assert_int_equal(p.cls, SCOPE_C_SYN);
		assert_int_equal(p.len, 40);
		assert_true(p.flags & SCOPE_PF_SIG);
	}
	struct scope_pkt p;
	assert_int_equal(
		scope_decode(SCOPE_LINK_EN10MB,
			     (const uint8_t *)"\xff\xff\xff\xff\xff\xff\2\0\0\0\0\2\x08\x06"
					      "\0\1\x08\0\6\4\0\1",
			     22, 0, &p),
		SCOPE_DEC_NOT_IP);
	assert_int_equal(scope_decode(147, pkt, n, 0, &p), SCOPE_DEC_BAD_LINK);
	assert_false(scope_link_supported(147));
}

/* Every prefix of every frame decodes to something, never past its end (ASan watches). */
static void test_decode_every_truncation(void **state)
{
	uint8_t pkt[128];
	struct syn s = {.src = 1,
			.dst = 2,
			.sport = 1,
			.dport = 2,
			.win = 29200,
			.df = true,
			.opt = linux_opt,
			.olen = sizeof(linux_opt)};
	size_t n = build_tcp(pkt, &s);
	for (size_t len = 0; len <= n; len++) {
		uint8_t *copy = xmalloc(len ? len : 1);
		memcpy(copy, pkt, len);
		struct scope_pkt p;
		enum scope_dec d = scope_decode(SCOPE_LINK_RAW, copy, len, 0, &p);
		if (len < 20)
			assert_int_equal(d, SCOPE_DEC_MALFORMED);
		else
			assert_int_equal(d, SCOPE_DEC_IP);
		/* p0f's fields exist only for a datagram captured whole. */
		if (len < n)
			assert_false(p.flags & SCOPE_PF_SIG);
		else
			assert_true(p.flags & SCOPE_PF_SIG);
		if (len >= 20 && len < 40)
			assert_true((p.flags & SCOPE_PF_L4_SHORT) || p.cls != SCOPE_C_SYN);
		free(copy);
	}
}

/* Two packets decoded alike: every field, and the signature as scope_pkt_sig gives it (the
 * batch decoder leaves IPv4 signatures in the frame). */
static void assert_same_pkt(const struct scope_pkt *a, const struct scope_pkt *b)
{
	assert_int_equal(a->ts_ns, b->ts_ns);
	assert_int_equal(a->len, b->len);
	assert_int_equal(a->src, b->src);
	assert_int_equal(a->dst, b->dst);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->inner_src, b->inner_src);
	assert_int_equal(a->inner_dst, b->inner_dst);
	assert_int_equal(a->sport, b->sport);
	assert_int_equal(a->dport, b->dport);
	assert_int_equal(a->ipid, b->ipid);
	assert_int_equal(a->ipver, b->ipver);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->tcp_flags, b->tcp_flags);
	assert_int_equal(a->cls, b->cls);
	assert_int_equal(a->inner_proto, b->inner_proto);
	assert_int_equal(a->flags & ~SCOPE_PF_LAZY, b->flags & ~SCOPE_PF_LAZY);
	if (!(a->flags & SCOPE_PF_SIG))
		return;
	struct scope_tcpsig x, y;
	scope_pkt_sig(a, &x);
	scope_pkt_sig(b, &y);
	assert_memory_equal(&x, &y, offsetof(struct scope_tcpsig, opt_layout));
	assert_memory_equal(x.opt_layout, y.opt_layout, x.opt_cnt);
}

/* scope_decode_batch (what the command uses) equals scope_decode on every prefix of SYNs with
 * and without options and quirks, UDP and ICMP, on raw IP and on Ethernet with and without a
 * VLAN tag. */
static void test_decode_batch_equals_decode(void **state)
{
	static const uint8_t odd[12] = {3, 3, 15, 2, 5, 5, 0xb4, 0, 1, 0, 0, 0};
	struct syn syns[] = {
		{.src = 1,
		 .dst = 2,
		 .sport = 1,
		 .dport = 22,
		 .seq = 5,
		 .win = 29200,
		 .ipid = 4000,
		 .ttl = 52,
		 .df = true,
		 .opt = linux_opt,
		 .olen = sizeof(linux_opt)},
		{.src = 3,
		 .dst = 4,
		 .dport = 445,
		 .seq = 6,
		 .win = 8192,
		 .ipid = 7,
		 .ttl = 120,
		 .df = true,
		 .opt = win_opt,
		 .olen = sizeof(win_opt)},
		{.src = 5, .dst = 6, .dport = 23, .seq = 6, .win = 5840, .ipid = 9, .ttl = 50},
		{.src = 7, .dst = 8, .dport = 1, .seq = 0, .tos = 1, .ack = 0x01000000},
		{.src = 9,
		 .dst = 10,
		 .dport = 1,
		 .seq = 9,
		 .ipid = 3,
		 .opt = odd,
		 .olen = sizeof(odd)},
		{.src = 11, .dst = 12, .dport = 80, .seq = 1, .flags = 0x12, .win = 1},
		{.src = 13, .dst = 14, .dport = 80, .seq = 1, .flags = 0x03},
	};
	enum { N = 64 };
	uint8_t raw[N][160];
	size_t lens[N], n = 0;
	for (size_t i = 0; i < LIB_ARRAY_LEN(syns); i++)
		lens[n] = build_tcp(raw[n], &syns[i]), n++;
	lens[n] = build_udp(raw[n], 1, 2, 3, 53), n++;
	lens[n] = build_icmp(raw[n], 1, 2, 3, ip("192.0.2.1"), ip("192.0.2.9")), n++;
	static const uint8_t eth[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
	static const uint8_t vlan[18] = {2, 0, 0, 0,    0,    1, 2,  0,    0,
					 0, 0, 2, 0x81, 0x00, 0, 42, 0x08, 0x00};
	for (int link = 0; link < 3; link++) {
		int lt = link == 0 ? SCOPE_LINK_RAW : SCOPE_LINK_EN10MB;
		const uint8_t *hdr = link == 1 ? eth : vlan;
		size_t hl = link == 0 ? 0 : link == 1 ? sizeof(eth) : sizeof(vlan);
		for (size_t k = 0; k < n; k++) {
			/* Every prefix of packet k, each in its own frame, decoded in one batch. */
			size_t full = hl + lens[k], nf = full + 1;
			uint8_t *frames = xmalloc(nf * (full ? full : 1));
			struct scope_frame *f = xcalloc(nf, sizeof(*f));
			for (size_t len = 0; len < nf; len++) {
				uint8_t *b = frames + len * full;
				memcpy(b, hdr, hl);
				memcpy(b + hl, raw[k], lens[k]);
				f[len] = (struct scope_frame){.ts_ns = (int64_t)len,
							      .data = b,
							      .caplen = (uint32_t)len,
							      .len = (uint32_t)full};
			}
			struct scope_pkt *out = xcalloc(nf, sizeof(*out));
			uint64_t other[SCOPE_DEC__N] = {0}, want_other[SCOPE_DEC__N] = {0};
			size_t got = scope_decode_batch(lt, f, nf, out, other);
			size_t j = 0;
			for (size_t len = 0; len < nf; len++) {
				struct scope_pkt one;
				enum scope_dec d =
					scope_decode(lt, f[len].data, len, (int64_t)len, &one);
				if (d != SCOPE_DEC_IP) {
					want_other[d]++;
					continue;
				}
				assert_true(j < got);
				assert_same_pkt(&out[j++], &one);
			}
			assert_int_equal(j, got);
			assert_memory_equal(other, want_other, sizeof(other));
			free(out);
			free(f);
			free(frames);
		}
	}
}

static void test_decode_classes(void **state)
{
	uint8_t pkt[128];
	struct scope_pkt p;
	struct syn s = {.src = 1, .dst = 2, .sport = 80, .dport = 5, .flags = 0x12};
	scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, &s), 0, &p);
	assert_int_equal(p.cls, SCOPE_C_BACKSCATTER);
	s.flags = 0x04;
	scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, &s), 0, &p);
	assert_int_equal(p.cls, SCOPE_C_BACKSCATTER);
	s.flags = 0x10;
	scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, &s), 0, &p);
	assert_int_equal(p.cls, SCOPE_C_TCP_OTHER);
	s.flags = 0x03; /* SYN+FIN: a SYN for the statistics, ignored by p0f */
	scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, &s), 0, &p);
	assert_int_equal(p.cls, SCOPE_C_SYN);
	assert_false(p.flags & SCOPE_PF_SIG);
	scope_decode(SCOPE_LINK_RAW, pkt, build_udp(pkt, 1, 2, 53, 123), 0, &p);
	assert_int_equal(p.cls, SCOPE_C_UDP);
	assert_int_equal(p.dport, 123);
	scope_decode(SCOPE_LINK_RAW, pkt, build_icmp(pkt, 7, 2, 3, 2, ip("192.0.2.9")), 0, &p);
	assert_int_equal(p.cls, SCOPE_C_ICMP);
	assert_int_equal(p.dport, 3); /* the type */
	assert_int_equal(p.sport, 3); /* the code */
	assert_true(p.flags & SCOPE_PF_INNER);
	assert_int_equal(p.inner_dst, ip("192.0.2.9"));
	assert_int_equal(p.inner_proto, 17);
	/* A non-first fragment has no transport header. */
	size_t n = build_udp(pkt, 1, 2, 53, 123);
	put16(pkt + 6, 0x0010);
	scope_decode(SCOPE_LINK_RAW, pkt, n, 0, &p);
	assert_int_equal(p.cls, SCOPE_C_OTHER);
	assert_true(p.flags & SCOPE_PF_FRAG);
	/* Bad IP headers. */
	n = build_udp(pkt, 1, 2, 53, 123);
	pkt[0] = 0x44;
	assert_int_equal(scope_decode(SCOPE_LINK_RAW, pkt, n, 0, &p), SCOPE_DEC_MALFORMED);
	pkt[0] = 0x4f;
	assert_int_equal(scope_decode(SCOPE_LINK_RAW, pkt, n, 0, &p), SCOPE_DEC_MALFORMED);
	pkt[0] = 0x45;
	put16(pkt + 2, 10);
	assert_int_equal(scope_decode(SCOPE_LINK_RAW, pkt, n, 0, &p), SCOPE_DEC_MALFORMED);
	/* IPv6 UDP. */
	uint8_t v6[48] = {0x60, 0, 0, 0, 0, 8, 17, 64};
	v6[8] = 0x20;
	v6[24] = 0x20;
	put16(v6 + 40, 9);
	put16(v6 + 42, 53);
	assert_int_equal(scope_decode(SCOPE_LINK_RAW, v6, sizeof(v6), 0, &p), SCOPE_DEC_IP);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.cls, SCOPE_C_UDP);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.src6[0], 0x20);
}

/* The p0f fields, checked against what `p0f` prints as raw_sig for the same bytes
 * (4:52+12:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0). */
static void test_decode_p0f_fields(void **state)
{
	uint8_t pkt[128];
	struct scope_pkt p;
	struct syn s = {.src = 1,
			.dst = 2,
			.sport = 1,
			.dport = 22,
			.seq = 5,
			.win = 29200,
			.ipid = 4000,
			.ttl = 52,
			.df = true,
			.opt = linux_opt,
			.olen = sizeof(linux_opt)};
	scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, &s), 0, &p);
	const struct scope_tcpsig *g = &p.sig;
	assert_int_equal(g->quirks, SCOPE_Q_DF | SCOPE_Q_NZ_ID);
	assert_int_equal(g->mss, 1460);
	assert_int_equal(g->wscale, 7);
	assert_int_equal(g->win, 29200);
	assert_int_equal(g->ttl, 52);
	assert_int_equal(g->opt_cnt, 5);
	assert_memory_equal(g->opt_layout, "\x02\x04\x08\x01\x03", 5);
	assert_int_equal(g->ts1, 1);
	assert_int_equal(g->tot_hdr, 60);
	assert_int_equal(g->pay, 0);
	/* p0f's ack+ test looks at the low bit of the first byte of the ack field. */
	s.ack = 0x01000000;
	scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, &s), 0, &p);
	assert_true(p.sig.quirks & SCOPE_Q_NZ_ACK);
	s.ack = 1;
	scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, &s), 0, &p);
	assert_false(p.sig.quirks & SCOPE_Q_NZ_ACK);
	/* No DF and IP ID 0: id-; ECN on the IP header. */
	s = (struct syn){.src = 1, .dst = 2, .dport = 1, .seq = 0, .tos = 1};
	scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, &s), 0, &p);
	assert_int_equal(p.sig.quirks, SCOPE_Q_ZERO_ID | SCOPE_Q_ECN | SCOPE_Q_ZERO_SEQ);
	/* Options: EOL with non-zero padding (opt+), a malformed MSS length (bad), wscale > 14. */
	static const uint8_t odd[12] = {3, 3, 15, 2, 5, 5, 0xb4, 0, 1, 0, 0, 0};
	s = (struct syn){.src = 1,
			 .dst = 2,
			 .dport = 1,
			 .seq = 9,
			 .ipid = 3,
			 .opt = odd,
			 .olen = sizeof(odd)};
	scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, &s), 0, &p);
	assert_true(p.sig.quirks & SCOPE_Q_OPT_EXWS);
	assert_true(p.sig.quirks & SCOPE_Q_OPT_BAD);
	assert_true(p.sig.quirks & SCOPE_Q_OPT_EOL_NZ);
	assert_int_equal(p.sig.opt_eol_pad, 4);
}

/* ---------------------------------------------------------------- p0f */

static const char mini_fp[] = "; a small p0f.fp\n"
			      "classes = win,unix,other\n"
			      "[tcp:request]\n"
			      "label = s:unix:Linux:3.11 and newer\n"
			      "sig   = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0\n"
			      "sig   = *:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0\n"
			      "label = g:unix:Linux:2.2.x-3.x\n"
			      "sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0\n"
			      "label = s:win:Windows:7 or 8\n"
			      "sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0\n"
			      "label = s:!:NMap:SYN scan\n"
			      "sys   = @unix,@win\n"
			      "sig   = *:64-:0:1460:1024,0:mss::0\n"
			      "[tcp:response]\n"
			      "label = s:unix:Linux:whatever\n"
			      "sig   = *:64:0:*:*,*:mss::0\n";

static void match(const struct scope_p0f *db, struct syn *s, struct scope_p0f_match *m)
{
	uint8_t pkt[128];
	struct scope_pkt p;
	assert_int_equal(scope_decode(SCOPE_LINK_RAW, pkt, build_tcp(pkt, s), 0, &p), SCOPE_DEC_IP);
	assert_true(p.flags & SCOPE_PF_SIG);
	scope_p0f_match(db, 4, &p.sig, m);
}

static void test_p0f_rules(void **state)
{
	struct scope_p0f *db;
	char err[256];
	assert_int_equal(scope_p0f_parse(mini_fp, strlen(mini_fp), &db, err, sizeof(err)), 0);
	assert_int_equal(scope_p0f_count(db), 5);
	struct scope_p0f_match m;
	struct syn s = {.src = 1,
			.dst = 2,
			.dport = 22,
			.seq = 5,
			.win = 29200,
			.ipid = 1,
			.ttl = 60,
			.df = true,
			.opt = linux_opt,
			.olen = sizeof(linux_opt)};
	match(db, &s, &m);
	assert_string_equal(scope_p0f_label(db, m.label), "Linux 3.11 and newer");
	assert_false(m.fuzzy);
	assert_false(m.generic);
	assert_int_equal(m.dist, 4);
	assert_int_equal(m.family, SCOPE_FAM_UNIX);
	/* A window that is no multiple of the MSS: only the generic signature. */
	s.win = 29201;
	match(db, &s, &m);
	assert_string_equal(scope_p0f_label(db, m.label), "Linux 2.2.x-3.x");
	assert_true(m.generic);
	/* DF gone: a fuzzy match. */
	s.win = 29200;
	s.df = false;
	match(db, &s, &m);
	assert_string_equal(scope_p0f_label(db, m.label), "Linux 3.11 and newer");
	assert_true(m.fuzzy);
	/* Too far (TTL 20 from 64): fuzzy, distance guessed. */
	s.df = true;
	s.ttl = 20;
	match(db, &s, &m);
	assert_true(m.fuzzy);
	assert_int_equal(m.dist, 12);
	s.ttl = 60;
	/* Windows. */
	struct syn w = {.src = 1,
			.dst = 2,
			.dport = 445,
			.seq = 5,
			.win = 8192,
			.ipid = 9,
			.ttl = 117,
			.df = true,
			.opt = win_opt,
			.olen = sizeof(win_opt)};
	match(db, &w, &m);
	assert_string_equal(scope_p0f_label(db, m.label), "Windows 7 or 8");
	assert_int_equal(m.family, SCOPE_FAM_WINDOWS);
	/* NMap: a tool (app); its family comes from the TTL. */
	static const uint8_t mss[4] = {2, 4, 0x05, 0xb4};
	struct syn n = {.src = 1,
			.dst = 2,
			.dport = 1,
			.seq = 5,
			.win = 1024,
			.ipid = 9,
			.ttl = 40,
			.opt = mss,
			.olen = 4};
	match(db, &n, &m);
	assert_string_equal(scope_p0f_label(db, m.label), "NMap SYN scan");
	assert_true(m.app);
	assert_int_equal(m.family, SCOPE_FAM_UNIX);
	/* Nothing: "???", family from the TTL. */
	struct syn z = {
		.src = 1, .dst = 2, .dport = 1, .seq = 5, .win = 65535, .ipid = 54321, .ttl = 250};
	match(db, &z, &m);
	assert_int_equal(m.label, -1);
	assert_string_equal(scope_p0f_label(db, m.label), "???");
	assert_int_equal(m.family, SCOPE_FAM_NETWORK);
	scope_p0f_free(db);
}

static void test_p0f_parse_errors(void **state)
{
	static const char *bad[] = {
		"classes = win\n[tcp:request]\nlabel = s:unix:Linux:x\nsig = *:64:0:*:*,*::x:0\n",
		"classes = win\n[tcp:request]\nlabel = s:win:W:x\nsig = 5:64:0:*:*,*:::0\n",
		"classes = win\n[tcp:request]\nsig = *:64:0:*:*,*:::0\n",
		"classes = win\n[tcp:request]\nlabel = s:!:NMap:x\nsig = *:64:0:*:*,*:::0\n",
		"classes = win\n[tcp:request]\nlabel = s:win:W:x\nsig = 4:64:0:*:*,*::flow:0\n",
		"classes = win\n[tcp:request]\nlabel = s:win:W:x\nsig = "
		"*:64:0:*:*,*:eol+1,mss::0\n",
		"classes = win\n[bogus]\n",
		"classes = win\n[tcp:request]\nlabel = s:win:W:x\nsig = *:300:0:*:*,*:::0\n",
		"classes = win\n[tcp:request]\nlabel = s:win:W:x\nsig = *:64:0:*:mss*0,*:::0\n",
		"",
	};
	char err[256];
	for (size_t i = 0; i < LIB_ARRAY_LEN(bad); i++) {
		struct scope_p0f *db = NULL;
		assert_int_not_equal(scope_p0f_parse(bad[i], strlen(bad[i]), &db, err, sizeof(err)),
				     0);
		assert_null(db);
		if (bad[i][0])
			assert_non_null(strstr(err, "line "));
	}
}

static void test_p0f_debian_file(void **state)
{
	struct scope_p0f *db;
	char err[256];
	assert_int_equal(scope_p0f_load(P0F_FP, &db, err, sizeof(err)), 0);
	/* Every sig line of [tcp:request] in the file. */
	FILE *f = fopen(P0F_FP, "r");
	assert_non_null(f);
	char line[512];
	bool in = false;
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '[')
			in = !strncmp(line, "[tcp:request]", 13);
		else if (in && !strncmp(line, "sig", 3))
			n++;
	}
	fclose(f);
	assert_int_equal(scope_p0f_count(db), n);
	assert_true(n > 40);
	struct scope_p0f_match m;
	struct syn s = {.src = 1,
			.dst = 2,
			.dport = 22,
			.seq = 5,
			.win = 29200,
			.ipid = 1,
			.ttl = 52,
			.df = true,
			.opt = linux_opt,
			.olen = sizeof(linux_opt)};
	match(db, &s, &m);
	assert_string_equal(scope_p0f_label(db, m.label), "Linux 3.11 and newer");
	scope_p0f_free(db);
	assert_int_not_equal(scope_p0f_load("/nonexistent/p0f.fp", &db, err, sizeof(err)), 0);
}

/* ---------------------------------------------------------------- tables, CIDRs */

static void test_tab_bounds(void **state)
{
	struct scope_tab t;
	scope_tab_init(&t, 16, 5000, NULL);
	bool added;
	for (uint64_t k = 1; k <= 5000; k++) {
		uint64_t *r = scope_tab_put(&t, k, scope_tab_hash(&t, k), &added);
		assert_non_null(r);
		assert_true(added);
		r[1] = k * 3;
	}
	assert_null(scope_tab_put(&t, 5001, scope_tab_hash(&t, 5001), &added));
	for (uint64_t k = 1; k <= 5000; k++) {
		uint64_t *r = scope_tab_find(&t, k, scope_tab_hash(&t, k));
		assert_non_null(r);
		assert_int_equal(r[1], k * 3);
		assert_non_null(scope_tab_put(&t, k, scope_tab_hash(&t, k), &added));
		assert_false(added);
	}
	size_t n = 0;
	for (uint8_t *r = NULL; (r = scope_tab_next(&t, r));)
		n++;
	assert_int_equal(n, 5000);
	assert_true(scope_tab_bytes(&t) >= 5000 * 16);
	scope_tab_clear(&t);
	assert_int_equal(t.count, 0);
	assert_null(scope_tab_find(&t, 7, scope_tab_hash(&t, 7)));
	scope_tab_free(&t);
}

static void test_cidr_and_dark(void **state)
{
	struct scope_cidr c;
	assert_int_equal(scope_cidr_parse("198.18.7.9/15", &c), 0);
	assert_int_equal(c.ver, 4);
	assert_int_equal(c.prefix, 15);
	assert_int_equal(c.v4, ip("198.18.0.0"));
	assert_int_equal(scope_cidr_parse("2001:db8::1/32", &c), 0);
	assert_int_equal(c.ver, 6);
	assert_int_equal(c.v6[3], 0xb8);
	assert_int_equal(c.v6[15], 0);
	assert_int_equal(scope_cidr_parse("10.0.0.1", &c), 0);
	assert_int_equal(c.prefix, 32);
	const char *bad[] = {"",           "/8",     "10.0.0.0/33", "300.0.0.0/8",
			     "10.0.0.0/x", "::/129", "10.0.0.0/-1"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(bad); i++)
		assert_int_not_equal(scope_cidr_parse(bad[i], &c), 0);
	struct scope_config cfg;
	scope_config_defaults(&cfg);
	scope_cidr_parse("10.0.0.0/24", &cfg.darknet[0]);
	scope_cidr_parse("10.0.1.0/24", &cfg.darknet[1]); /* adjacent: merged */
	scope_cidr_parse("192.0.2.128/25", &cfg.darknet[2]);
	scope_cidr_parse("2001:db8::/32", &cfg.darknet[3]);
	cfg.ndarknet = 4;
	struct scope_dark d;
	scope_dark_init(&d, &cfg);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.size, 512 + 128);
	assert_int_equal(scope_dark_index(&d, ip("10.0.0.0")), 0);
	assert_int_equal(scope_dark_index(&d, ip("10.0.1.255")), 511);
	assert_int_equal(scope_dark_index(&d, ip("192.0.2.200")), 512 + 72);
	assert_int_equal(scope_dark_index(&d, ip("10.0.2.0")), -1);
	assert_int_equal(scope_dark_index(&d, ip("192.0.2.127")), -1);
	uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 9};
	assert_true(scope_dark6(&d, a));
	a[3] = 0xb9;
	assert_false(scope_dark6(&d, a));
}

/* ---------------------------------------------------------------- geo */

static void test_geo_flat_equals_libloc(void **state)
{
	char dir[] = "/tmp/mitsu-geo-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct scope_geo *g, *g2;
	char err[256];
	assert_int_equal(scope_geo_open_libloc(&g, LOCATION_DB, dir, err, sizeof(err)), 0);
	assert_int_equal(scope_geo_open_libloc(&g2, LOCATION_DB, dir, err, sizeof(err)),
			 0); /* from the cache */
	struct loc_ctx *ctx;
	struct loc_database *db;
	FILE *f = fopen(LOCATION_DB, "r");
	assert_non_null(f);
	assert_int_equal(loc_new(&ctx), 0);
	assert_int_equal(loc_database_new(ctx, &db, f), 0);
	uint64_t x = 88172645463325252ull;
	int known = 0;
	for (int i = 0; i < 30000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t a = (uint32_t)x;
		if (i < 64) /* the edges of the space too */
			a = i < 32 ? (uint32_t)i : UINT32_MAX - (uint32_t)(i - 32);
		struct in6_addr in6 = {0};
		in6.s6_addr[10] = in6.s6_addr[11] = 0xff;
		uint32_t be = htonl(a);
		memcpy(&in6.s6_addr[12], &be, 4);
		struct loc_network *n = NULL;
		uint16_t want_cc = 0;
		uint32_t want_asn = 0;
		if (loc_database_lookup(db, &in6, &n) == 0 && n) {
			want_cc = scope_cc_index(loc_network_get_country_code(n));
			want_asn = loc_network_get_asn(n);
			loc_network_unref(n);
		}
		uint16_t cc, cc2;
		uint32_t asn, asn2;
		scope_geo_lookup(g, a, &cc, &asn);
		scope_geo_lookup(g2, a, &cc2, &asn2);
		if (cc != want_cc || asn != want_asn)
			fail_msg("address %08x: flat %u/%u, libloc %u/%u", a, cc, asn, want_cc,
				 want_asn);
		assert_int_equal(cc2, cc);
		assert_int_equal(asn2, asn);
		known += cc != 0;
	}
	assert_true(known > 10000);
	loc_database_unref(db);
	loc_unref(ctx);
	fclose(f);
	char cc[3];
	scope_cc_str(scope_cc_index("JP"), cc);
	assert_string_equal(cc, "JP");
	scope_cc_str(0, cc);
	assert_string_equal(cc, "??");
	assert_int_equal(scope_cc_index("jp"), 0);
	assert_int_equal(scope_cc_index("JPN"), 0);
	assert_string_equal(scope_geo_as_name(g, 4730), "Osaka University");
	scope_geo_free(g);
	scope_geo_free(g2);
	/* A damaged cache is not trusted: the table is rebuilt. */
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "for f in %s/geo-*.bin; do printf 'garbage' | dd of=$f bs=1 seek=40 conv=notrunc "
		 "2>/dev/null; done",
		 dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(scope_geo_open_libloc(&g, LOCATION_DB, dir, err, sizeof(err)), 0);
	uint16_t c1;
	uint32_t a1;
	scope_geo_lookup(g, ip("133.1.1.1"), &c1, &a1);
	scope_cc_str(c1, cc);
	assert_string_equal(cc, "JP");
	assert_int_equal(a1, 4730);
	scope_geo_free(g);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---------------------------------------------------------------- engine */

struct feed {
	struct scope_pkt *p;
	size_t n, cap;
};

static void add(struct feed *f, const uint8_t *pkt, size_t n, int64_t ts_ns)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->p = xrealloc(f->p, f->cap * sizeof(*f->p));
	}
	assert_int_equal(scope_decode(SCOPE_LINK_RAW, pkt, n, ts_ns, &f->p[f->n]), SCOPE_DEC_IP);
	f->n++;
}

static void run(struct feed *f, const struct scope_config *cfg, int threads, struct scope_report *r)
{
	struct scope_engine *e;
	assert_int_equal(scope_engine_new(&e, cfg, threads, NULL, NULL), 0);
	scope_engine_batch(e, f->p, f->n);
	scope_engine_finish(e, r);
}

#define S(x) ((int64_t)(x)*1000000000)
#define T0 1700002800

static void dark_config(struct scope_config *cfg)
{
	scope_config_defaults(cfg);
	scope_cidr_parse("198.18.0.0/16", &cfg->darknet[0]);
	cfg->ndarknet = 1;
}

/* The JSON report (written without jansson): valid JSON, indented or on one line, numbers and
 * strings as jansson would print them, control characters escaped and bytes that are not UTF-8
 * written as \xNN. */
static void test_json_report(void **state)
{
	struct feed f = {0};
	uint8_t pkt[128];
	for (int i = 0; i < 3; i++) {
		struct syn s = {.src = ip("203.0.113.1"),
				.dst = ip("198.18.0.1") + (uint32_t)i,
				.dport = 23,
				.seq = 1};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + i));
	}
	struct scope_config cfg;
	dark_config(&cfg);
	struct scope_report r;
	run(&f, &cfg, 1, &r);
	char *inputs[] = {(char *)"a \"b\"\\c", (char *)"tab\there\x01", (char *)"caf\xc3\xa9",
			  (char *)"bad\xff\xc3"};
	char *errors[] = {(char *)"line\nbreak"};
	struct scope_out_ctx ctx = {.cfg = &cfg,
				    .inputs = inputs,
				    .ninputs = 4,
				    .errors = errors,
				    .nerrors = 1,
				    .seconds = 0.25,
				    .top = 20};
	for (int live = 0; live < 2; live++) {
		ctx.live = live;
		struct buf b;
		buf_init(&b, 0);
		assert_int_equal(scope_write_report(&b, SCOPE_FMT_JSON, &r, &ctx), 0);
		const char *text = (const char *)b.data;
		assert_true(b.len > 2 && text[b.len - 1] == '\n');
		/* One line in live mode; indented by one space per level otherwise. */
		assert_true(live ? strchr(text, '\n') == text + b.len - 1
				 : strstr(text, "{\n \"tool\": ") == text);
		json_error_t jerr;
		json_t *j = json_loads(text, 0, &jerr);
		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "packets")), 3);
		assert_string_equal(
			json_string_value(json_array_get(json_object_get(j, "inputs"), 0)),
			"a \"b\"\\c");
		assert_string_equal(
			json_string_value(json_array_get(json_object_get(j, "inputs"), 1)),
			"tab\there\x01");
		assert_string_equal(
			json_string_value(json_array_get(json_object_get(j, "inputs"), 2)),
			"caf\xc3\xa9");
		assert_string_equal(
			json_string_value(json_array_get(json_object_get(j, "inputs"), 3)),
			"bad\\xff\\xc3");
		assert_string_equal(
			json_string_value(json_array_get(json_object_get(j, "errors"), 0)),
			"line\nbreak");
		assert_true(json_is_null(json_object_get(j, "first_ts")) == false);
		assert_true(json_real_value(json_object_get(j, "seconds")) == 0.25);
		/* What jansson prints for the same values (reals, escapes, layout), and a newline.
		 */
		char *again = json_dumps(j, live ? JSON_COMPACT : JSON_INDENT(1));
		assert_true(strlen(again) == b.len - 1 && !memcmp(again, text, b.len - 1));
		free(again);
		json_decref(j);
		buf_free(&b);
	}
	scope_report_free(&r);
	free(f.p);
}

/* The report written to a file (JSON streamed in pieces) is the report written to a buffer,
 * byte for byte, in every format; also when it is many times the JSON writer's staging buffer
 * and holds a string longer than it. */
static void test_report_file_equals_buffer(void **state)
{
	struct feed f = {0};
	uint8_t pkt[128];
	for (int i = 0; i < 50; i++) {
		struct syn s = {.src = ip("203.0.113.1") + (uint32_t)(i % 7),
				.dst = ip("198.18.0.1") + (uint32_t)i,
				.dport = (uint16_t)(23 + i % 5),
				.seq = 1};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + i * 60));
	}
	struct scope_config cfg;
	dark_config(&cfg);
	cfg.interval = 600;
	struct scope_report r;
	run(&f, &cfg, 1, &r);
	enum { NERR = 3000, LONG = 40000 };
	char **errors = xcalloc(NERR, sizeof(*errors));
	for (int i = 0; i < NERR; i++)
		errors[i] = xasprintf("input %d: truncated record \"%d\"", i, i * 7);
	char *big = xmalloc(LONG + 1);
	memset(big, 'x', LONG);
	big[LONG] = 0;
	free(errors[NERR / 2]);
	errors[NERR / 2] = big;
	char *inputs[] = {(char *)"a.pcap"};
	struct scope_out_ctx ctx = {.cfg = &cfg,
				    .inputs = inputs,
				    .ninputs = 1,
				    .errors = errors,
				    .nerrors = NERR,
				    .seconds = 0.5,
				    .top = 20};
	const enum scope_format fmts[] = {SCOPE_FMT_JSON, SCOPE_FMT_TABLE, SCOPE_FMT_CSV};
	for (size_t k = 0; k < LIB_ARRAY_LEN(fmts); k++) {
		for (int live = 0; live < 2; live++) {
			ctx.live = live;
			struct buf b;
			buf_init(&b, 0);
			assert_int_equal(scope_write_report(&b, fmts[k], &r, &ctx), 0);
			char *text = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&text, &len);
			assert_non_null(m);
			assert_int_equal(scope_write_report_file(m, fmts[k], &r, &ctx), 0);
			fclose(m);
			assert_int_equal(len, b.len);
			assert_memory_equal(text, b.data, len);
			if (fmts[k] == SCOPE_FMT_JSON)
				assert_true(len > LONG + 100000);
			free(text);
			buf_free(&b);
		}
	}
	for (int i = 0; i < NERR; i++)
		free(errors[i]);
	free(errors);
	scope_report_free(&r);
	free(f.p);
}

/* The busiest dark address: on a tie, the lowest, with or without --darknet (the flat array
 * or the seeded hash table, whose order changes from run to run). */
static void test_busiest_tie(void **state)
{
	struct feed f = {0};
	uint8_t pkt[128];
	const char *dsts[] = {"198.18.0.9", "198.18.0.3", "198.18.0.200",
			      "198.18.0.9", "198.18.0.3", "198.18.0.7"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(dsts); i++) {
		struct syn s = {.src = ip("203.0.113.1") + (uint32_t)i,
				.dst = ip(dsts[i]),
				.dport = 23,
				.seq = 1};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + (int)i));
	}
	for (int darknet = 0; darknet < 2; darknet++)
		for (int round = 0; round < 8; round++) {
			struct scope_config cfg;
			if (darknet)
				dark_config(&cfg);
			else
				scope_config_defaults(&cfg);
			struct scope_report r;
			run(&f, &cfg, 1, &r);
			assert_int_equal(r.dark_max_packets, 2);
			assert_int_equal(r.dark_max_addr, ip("198.18.0.3"));
			scope_report_free(&r);
		}
	free(f.p);
}

static void test_engine_labels(void **state)
{
	struct feed f = {0};
	uint8_t pkt[128];
	uint32_t d0 = ip("198.18.0.0");
	/* Mirai: every SYN seq = destination. */
	for (int i = 0; i < 5; i++) {
		struct syn s = {.src = ip("203.0.113.1"),
				.dst = d0 + (uint32_t)i,
				.seq = d0 + (uint32_t)i,
				.dport = 23,
				.ipid = 5};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + i));
	}
	/* Half Mirai (2 of 4): not labelled (needs more than half). */
	for (int i = 0; i < 4; i++) {
		struct syn s = {.src = ip("203.0.113.2"),
				.dst = d0 + 10 + (uint32_t)i,
				.seq = i < 2 ? d0 + 10 + (uint32_t)i : 7,
				.dport = 23,
				.ipid = 5};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + 10 + i));
	}
	/* One SYN with IP ID 54321: not ZMap (needs two). Two: ZMap. */
	struct syn z = {
		.src = ip("203.0.113.3"), .dst = d0 + 20, .seq = 1, .dport = 443, .ipid = 54321};
	add(&f, pkt, build_tcp(pkt, &z), S(T0 + 20));
	z.src = ip("203.0.113.4");
	add(&f, pkt, build_tcp(pkt, &z), S(T0 + 21));
	z.dst++;
	add(&f, pkt, build_tcp(pkt, &z), S(T0 + 22));
	/* masscan. */
	for (int i = 0; i < 3; i++) {
		uint32_t dst = d0 + 30 + (uint32_t)i, seq = 0x1000u * (uint32_t)(i + 1);
		struct syn s = {.src = ip("203.0.113.5"),
				.dst = dst,
				.seq = seq,
				.dport = 8080,
				.ipid = (uint16_t)(dst ^ 8080 ^ seq),
				.win = 1024};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + 30 + i));
	}
	struct scope_config cfg;
	dark_config(&cfg);
	struct scope_report r;
	run(&f, &cfg, 1, &r);
	assert_int_equal(r.mirai.sources, 1);
	assert_int_equal(r.mirai.packets, 5);
	assert_int_equal(r.zmap.sources, 1);
	assert_int_equal(r.zmap.packets, 2);
	assert_int_equal(r.masscan.sources, 1);
	assert_int_equal(r.masscan.packets, 3);
	assert_int_equal(r.syn_sources, 5);
	assert_int_equal(r.sources, 5);
	assert_int_equal(r.telnet, 9);
	assert_int_equal(r.nintervals, 1);
	assert_int_equal(r.intervals[0].mirai.sources, 1);
	scope_report_free(&r);
	free(f.p);
}

/* A source past 65,535 SYNs in one interval: its label counters spill, counts stay exact. */
static void test_engine_label_halving(void **state)
{
	struct feed f = {0};
	uint8_t pkt[128];
	uint32_t d0 = ip("198.18.0.0");
	for (int i = 0; i < 70000; i++) {
		uint32_t dst = d0 + (uint32_t)(i % 60000);
		struct syn s = {.src = ip("203.0.113.9"),
				.dst = dst,
				.seq = i % 3 ? dst : 5,
				.dport = 23,
				.ipid = 5};
		add(&f, pkt, build_tcp(pkt, &s), S(T0) + i);
	}
	struct scope_config cfg;
	dark_config(&cfg);
	struct scope_report r;
	run(&f, &cfg, 1, &r);
	assert_int_equal(r.mirai.sources, 1);
	assert_int_equal(r.mirai.packets, 70000 - 23334); /* every third SYN does not match */
	assert_int_equal(r.limits.label_halvings, 0);
	assert_true(scope_report_exact(&r));
	scope_report_free(&r);
	free(f.p);
}

/* Scanners: N distinct destinations on one port in one interval, whichever way they come. */
static void test_engine_scanners(void **state)
{
	struct feed f = {0};
	uint8_t pkt[128];
	uint32_t d0 = ip("198.18.0.0");
	/* A: exactly 100 distinct (a scanner). B: 99 distinct, many repeats (not). C: 100 distinct
	 * across two intervals, 60 + 40 (not: per interval). D: UDP, 150 distinct, each twice. */
	for (int i = 0; i < 100; i++) {
		struct syn s = {
			.src = ip("192.0.2.1"), .dst = d0 + (uint32_t)i, .seq = 1, .dport = 8080};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + i));
	}
	for (int i = 0; i < 300; i++) {
		struct syn s = {.src = ip("192.0.2.2"),
				.dst = d0 + (uint32_t)(i % 99),
				.seq = 1,
				.dport = 8080};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + i));
	}
	for (int i = 0; i < 300; i++)
		add(&f, pkt, build_udp(pkt, ip("192.0.2.4"), d0 + 500 + (uint32_t)(i / 2), 1, 53),
		    S(T0 + 1000 + i));
	for (int i = 0; i < 100; i++) {
		struct syn s = {.src = ip("192.0.2.3"),
				.dst = d0 + 1000 + (uint32_t)i,
				.seq = 1,
				.dport = 22};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + (i < 60 ? 3000 + i : 3600 + i)));
	}
	struct scope_config cfg;
	dark_config(&cfg);
	for (int pass = 0; pass < 3; pass++) {
		/* With bitmaps over the darknet, with destination sets (no darknet), and threaded.
		 */
		struct scope_config c = cfg;
		if (pass == 1)
			c.ndarknet = 0;
		struct scope_report r;
		run(&f, &c, pass == 2 ? 3 : 1, &r);
		assert_int_equal(r.scanners_total, 2);
		assert_int_equal(r.scanner_sources, 2);
		assert_int_equal(r.nscanners, 2);
		const struct scope_scanner *a = &r.scanners[0], *d = &r.scanners[1];
		assert_int_equal(a->src, ip("192.0.2.4"));
		assert_int_equal(a->pt, SCOPE_PT_UDP);
		assert_int_equal(a->packets, 300);
		assert_int_equal(a->dests, 150);
		assert_int_equal(a->first, T0 + 1000);
		assert_int_equal(a->last, T0 + 1299);
		assert_int_equal(d->src, ip("192.0.2.1"));
		assert_int_equal(d->packets, 100);
		assert_int_equal(d->dests, 100);
		assert_int_equal(d->first, T0);
		assert_int_equal(d->last, T0 + 99);
		assert_int_equal(r.intervals[0].scanners, 2);
		assert_true(scope_report_exact(&r));
		scope_report_free(&r);
	}
	free(f.p);
}

static void test_engine_backscatter(void **state)
{
	struct feed f = {0};
	uint8_t pkt[128];
	uint32_t d0 = ip("198.18.0.0");
	/* Victim 1: 25 SYN-ACKs over 60 s, 25 per minute: below 30 ppm. */
	for (int i = 0; i < 25; i++) {
		struct syn s = {.src = ip("192.0.2.10"),
				.dst = d0 + (uint32_t)i,
				.sport = 80,
				.dport = 1000,
				.flags = 0x12};
		add(&f, pkt, build_tcp(pkt, &s), S(T0) + (int64_t)i * 2500000000);
	}
	/* Victim 2: 40 RSTs in 40 s then 10 more 100 s later: an attack of 50 packets, 100+ s. */
	for (int i = 0; i < 50; i++) {
		struct syn s = {.src = ip("192.0.2.11"),
				.dst = d0 + (uint32_t)i,
				.sport = 80,
				.dport = 1000,
				.flags = 0x04};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + (i < 40 ? i : 100 + i)));
	}
	/* Victim 3 through ICMP errors from many routers. */
	for (int i = 0; i < 70; i++)
		add(&f, pkt,
		    build_icmp(pkt, ip("192.0.2.100") + (uint32_t)i, d0 + 5, 3, d0 + 5,
			       ip("192.0.2.12")),
		    S(T0 + i));
	/* Victim 4: 30 in 30 s, then silent for longer than the timeout, then 30 in 30 s: two
	 * vectors, neither long enough. */
	for (int i = 0; i < 60; i++) {
		struct syn s = {.src = ip("192.0.2.13"),
				.dst = d0,
				.sport = 80,
				.dport = 1000,
				.flags = 0x12};
		add(&f, pkt, build_tcp(pkt, &s), S(T0 + (i < 30 ? i : 1000 + i)));
	}
	struct scope_config cfg;
	dark_config(&cfg);
	for (int threads = 1; threads <= 3; threads += 2) {
		struct scope_report r;
		run(&f, &cfg, threads, &r);
		assert_int_equal(r.backscatter_packets, 25 + 50 + 70 + 60);
		assert_int_equal(r.backscatter_victims_all, 4);
		assert_int_equal(r.attacks_total, 2);
		assert_int_equal(r.nattacks, 2);
		assert_int_equal(r.attacks[0].victim, ip("192.0.2.12"));
		assert_int_equal(r.attacks[0].packets, 70);
		assert_int_equal(r.attacks[0].kinds, 4);
		assert_int_equal(r.attacks[0].max_ppm, 60);
		assert_int_equal(r.attacks[1].victim, ip("192.0.2.11"));
		assert_int_equal(r.attacks[1].packets, 50);
		assert_int_equal(r.attacks[1].kinds, 2);
		assert_int_equal(r.attacks[1].end_ns - r.attacks[1].start_ns, S(149));
		/* The routers are sources; the victims of ICMP errors are not. */
		assert_int_equal(r.sources, 4 + 70 - 1);
		scope_report_free(&r);
	}
	free(f.p);
}

static void test_engine_intervals_and_limits(void **state)
{
	struct feed f = {0};
	uint8_t pkt[128];
	uint32_t d0 = ip("198.18.0.0");
	/* 3 intervals of 10 s with a gap, a late packet, and 50 sources. */
	int64_t ts[] = {S(T0 + 1), S(T0 + 5), S(T0 + 12), S(T0 + 3) /* late */, S(T0 + 45)};
	for (size_t i = 0; i < LIB_ARRAY_LEN(ts); i++)
		add(&f, pkt, build_udp(pkt, ip("192.0.2.1"), d0 + (uint32_t)i, 1, 53), ts[i]);
	for (int i = 0; i < 50; i++)
		add(&f, pkt, build_udp(pkt, ip("192.0.2.100") + (uint32_t)i, d0, 1, 53),
		    S(T0 + 46));
	/* Not dark. */
	add(&f, pkt, build_udp(pkt, ip("192.0.2.1"), ip("10.0.0.1"), 1, 53), S(T0 + 46));
	struct scope_config cfg;
	dark_config(&cfg);
	cfg.interval = 10;
	struct scope_report r;
	run(&f, &cfg, 1, &r);
	assert_int_equal(r.nintervals, 3);
	assert_int_equal(r.intervals[0].start, T0);
	assert_int_equal(r.intervals[0].packets, 2);
	assert_int_equal(r.intervals[1].start, T0 + 10);
	assert_int_equal(r.intervals[1].packets, 2); /* with the late one */
	assert_int_equal(r.intervals[2].start, T0 + 40);
	assert_int_equal(r.intervals[2].packets, 51);
	assert_int_equal(r.intervals[2].sources, 51);
	assert_int_equal(r.intervals[2].dark_hit, 2);
	assert_int_equal(r.limits.late_packets, 1);
	assert_int_equal(r.not_dark_packets, 1);
	assert_int_equal(r.sources, 51);
	assert_int_equal(r.dark_hit, 5);
	assert_int_equal(r.dark_max_addr, d0);
	assert_int_equal(r.dark_max_packets, 51);
	assert_true(scope_report_exact(&r));
	scope_report_free(&r);
	/* Bounds: 10 sources at most; the rest is counted apart and the report says so. */
	cfg.max_sources = 10;
	run(&f, &cfg, 1, &r);
	assert_int_equal(r.packets, 55);
	assert_true(r.sources <= 10);
	assert_true(r.limits.sources_full > 0);
	assert_false(scope_report_exact(&r));
	scope_report_free(&r);
	/* The wall clock closes an interval with no traffic; a packet stamped before its end goes
	 * to the next one. */
	struct scope_engine *e;
	assert_int_equal(scope_engine_new(&e, &cfg, 1, NULL, NULL), 0);
	scope_engine_packet(e, &f.p[0]);
	scope_engine_tick(e, S(T0 + 9));
	scope_engine_tick(e, S(T0 + 10));
	scope_engine_packet(e, &f.p[1]);
	scope_engine_finish(e, &r);
	assert_int_equal(r.nintervals, 2);
	assert_int_equal(r.intervals[1].start, T0 + 10);
	assert_int_equal(r.limits.late_packets, 1);
	scope_report_free(&r);
	free(f.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_links),
		cmocka_unit_test(test_decode_every_truncation),
		cmocka_unit_test(test_decode_classes),
		cmocka_unit_test(test_decode_p0f_fields),
		cmocka_unit_test(test_decode_batch_equals_decode),
		cmocka_unit_test(test_p0f_rules),
		cmocka_unit_test(test_p0f_parse_errors),
		cmocka_unit_test(test_p0f_debian_file),
		cmocka_unit_test(test_tab_bounds),
		cmocka_unit_test(test_cidr_and_dark),
		cmocka_unit_test(test_geo_flat_equals_libloc),
		cmocka_unit_test(test_json_report),
		cmocka_unit_test(test_report_file_equals_buffer),
		cmocka_unit_test(test_busiest_tie),
		cmocka_unit_test(test_engine_labels),
		cmocka_unit_test(test_engine_label_halving),
		cmocka_unit_test(test_engine_scanners),
		cmocka_unit_test(test_engine_backscatter),
		cmocka_unit_test(test_engine_intervals_and_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
