/* Synthetic darknet capture for bench/scope: a classic pcap (little-endian, microseconds) of
 * Mirai, Linux, Windows, masscan and ZMap SYNs, backscatter, UDP and ICMP, with correct
 * checksums, and its ground truth printed on stderr so a run can be checked against it.
 *
 * usage: gen [-n PACKETS] [-s SOURCES] [-l ether|vlan|raw|sll|sll2] [-S SEED] > out.pcap
 * Built by bench/scope/run with the system compiler; it depends on nothing but libc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Destinations: a /15 darknet, as in docs/research (198.18.0.0/15). */
#define DARK_NET 0xC6120000u
#define DARK_MASK 0x1ffffu
#define START_SEC 1700000000u
#define STEP_US 720u
/* Backscatter comes from a few victims, masscan and ZMap from a few heavy scanners. */
#define VICTIMS 64u
#define MASSCANNERS 100u
#define ZMAPPERS 50u

enum kind { K_MIRAI, K_LINUX, K_WINDOWS, K_MASSCAN, K_ZMAP, K_BACKSCATTER, K_UDP, K_ICMP, K__N };
static const char *const kind_name[K__N] = {"mirai", "linux",       "windows", "masscan",
					    "zmap",  "backscatter", "udp",     "icmp"};
/* Share of packets per kind, in percent. */
static const unsigned kind_pct[K__N] = {45, 20, 10, 10, 5, 5, 4, 1};

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t public_addr(void)
{
	for (;;) {
		uint32_t a = (uint32_t)next();
		unsigned o = a >> 24;
		if (o == 0 || o == 10 || o == 127 || o >= 224 || (a & 0xfffe0000u) == DARK_NET)
			continue;
		return a;
	}
}

struct src {
	uint32_t addr;
	uint16_t sport, win;
	uint8_t hops;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, (uint16_t)v);
}
static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = v >> 8;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}
static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IPv4 header at ip (20 bytes), payload of plen bytes after it. */
static void ip4(uint8_t *ip, size_t plen, uint8_t proto, uint8_t ttl, uint16_t id, int df,
		uint32_t src, uint32_t dst)
{
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + plen));
	put16(ip + 4, id);
	put16(ip + 6, df ? 0x4000 : 0);
	ip[8] = ttl;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
}

/* Checksum of a TCP or UDP segment with the IPv4 pseudo-header. */
static uint16_t l4sum(const uint8_t *ip, const uint8_t *l4, size_t n)
{
	uint32_t s = sum16(ip + 12, 8, 0);
	s += ip[9];
	s += (uint32_t)n;
	return fold(sum16(l4, n, s));
}

static size_t tcp(uint8_t *t, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		  uint8_t flags, uint16_t win, const uint8_t *opt, size_t olen)
{
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((20 + olen) / 4 << 4);
	t[13] = flags;
	put16(t + 14, win);
	put16(t + 16, 0);
	put16(t + 18, 0);
	memcpy(t + 20, opt, olen);
	return 20 + olen;
}

struct truth {
	uint64_t packets[K__N];
	uint64_t bytes;
	uint64_t port23, port2323;
};

int main(int argc, char **argv)
{
	uint64_t n = 5000000;
	uint32_t nsrc = 200000;
	const char *link = "ether";
	int c;
	while ((c = getopt(argc, argv, "n:s:l:S:")) != -1) {
		switch (c) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 's': nsrc = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'l': link = optarg; break;
		case 'S': rng = strtoull(optarg, NULL, 10) | 1; break;
		default:
			fprintf(stderr, "usage: gen [-n PACKETS] [-s SOURCES] [-l "
					"ether|vlan|raw|sll|sll2] [-S SEED]\n");
			return 2;
		}
	}
	uint32_t linktype;
	size_t lhdr;
	if (!strcmp(link, "ether"))
		linktype = 1, lhdr = 14;
	else if (!strcmp(link, "vlan"))
		linktype = 1, lhdr = 18;
	else if (!strcmp(link, "raw"))
		linktype = 101, lhdr = 0;
	else if (!strcmp(link, "sll"))
		linktype = 113, lhdr = 16;
	else if (!strcmp(link, "sll2"))
		linktype = 276, lhdr = 20;
	else {
		fprintf(stderr, "gen: unknown link %s\n", link);
		return 2;
	}
	if (nsrc < 1000)
		nsrc = 1000;

	/* Each kind owns a share of the source pool proportional to its packets, except the
	 * victims and the heavy scanners. */
	struct src *pool = calloc(nsrc, sizeof(*pool));
	uint32_t first[K__N + 1];
	uint32_t at = 0;
	for (int k = 0; k < K__N; k++) {
		first[k] = at;
		uint32_t cnt = k == K_BACKSCATTER ? VICTIMS
			       : k == K_MASSCAN   ? MASSCANNERS
			       : k == K_ZMAP      ? ZMAPPERS
						  : (uint32_t)((uint64_t)nsrc * kind_pct[k] / 100);
		at += cnt ? cnt : 1;
	}
	first[K__N] = at;
	pool = realloc(pool, at * sizeof(*pool));
	for (uint32_t i = 0; i < at; i++) {
		pool[i].addr = public_addr();
		pool[i].sport = (uint16_t)(1024 + next() % 60000);
		pool[i].win = (uint16_t)(next() | 1);
		pool[i].hops = (uint8_t)(3 + next() % 20);
	}
	uint8_t kind_of[100];
	for (int k = 0, j = 0; k < K__N; k++)
		for (unsigned p = 0; p < kind_pct[k]; p++)
			kind_of[j++] = (uint8_t)k;

	static uint8_t out[1 << 16];
	uint8_t gh[24];
	le32(gh, 0xa1b2c3d4);
	le16(gh + 4, 2);
	le16(gh + 6, 4);
	le32(gh + 8, 0);
	le32(gh + 12, 0);
	le32(gh + 16, 65535);
	le32(gh + 20, linktype);
	fwrite(gh, 1, 24, stdout);

	static const uint8_t linux_opt[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
					      0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
	static const uint8_t win_opt[12] = {2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2};
	struct truth tr = {0};
	for (uint64_t i = 0; i < n; i++) {
		enum kind k = kind_of[next() % 100];
		struct src *s = &pool[first[k] + next() % (first[k + 1] - first[k])];
		uint32_t dst = DARK_NET | (uint32_t)(next() & DARK_MASK);
		uint8_t *f = out + 16, *ip = f + lhdr, *l4 = ip + 20;
		size_t l4len = 0;
		uint32_t seq = (uint32_t)next();
		switch (k) {
		case K_MIRAI: {
			uint16_t dport = i % 10 == 0 ? 2323 : 23;
			tr.port23 += dport == 23;
			tr.port2323 += dport == 2323;
			l4len = tcp(l4, s->sport, dport, dst, 0, 0x02, s->win, NULL, 0);
			ip4(ip, l4len, 6, (uint8_t)(64 - s->hops), (uint16_t)next(), 0, s->addr,
			    dst);
			break;
		}
		case K_LINUX:
			l4len = tcp(l4, (uint16_t)(32768 + next() % 28000), next() & 1 ? 22 : 80,
				    seq, 0, 0x02, 29200, linux_opt, sizeof(linux_opt));
			ip4(ip, l4len, 6, (uint8_t)(64 - s->hops), (uint16_t)(next() | 1), 1,
			    s->addr, dst);
			break;
		case K_WINDOWS:
			l4len = tcp(l4, (uint16_t)(49152 + next() % 16000), 445, seq, 0, 0x02, 8192,
				    win_opt, sizeof(win_opt));
			ip4(ip, l4len, 6, (uint8_t)(128 - s->hops), (uint16_t)(next() | 1), 1,
			    s->addr, dst);
			break;
		case K_MASSCAN: {
			uint16_t dport = next() & 1 ? 3389 : 8080;
			l4len = tcp(l4, s->sport, dport, seq, 0, 0x02, 1024, NULL, 0);
			ip4(ip, l4len, 6, (uint8_t)(255 - s->hops), (uint16_t)(dst ^ dport ^ seq),
			    0, s->addr, dst);
			break;
		}
		case K_ZMAP:
			l4len = tcp(l4, s->sport, 443, seq, 0, 0x02, 65535, NULL, 0);
			ip4(ip, l4len, 6, (uint8_t)(255 - s->hops), 54321, 0, s->addr, dst);
			break;
		case K_BACKSCATTER: {
			int rst = next() % 4 == 0;
			l4len = tcp(l4, 80, (uint16_t)(1024 + next() % 60000), seq,
				    (uint32_t)next(), rst ? 0x14 : 0x12, rst ? 0 : 14600, NULL, 0);
			ip4(ip, l4len, 6, (uint8_t)(64 - s->hops), (uint16_t)next(), 1, s->addr,
			    dst);
			break;
		}
		case K_UDP: {
			static const uint16_t ports[] = {53, 123, 1900, 5060, 37547};
			size_t pay = 8 + next() % 24;
			put16(l4, s->sport);
			put16(l4 + 2, ports[next() % 5]);
			put16(l4 + 4, (uint16_t)(8 + pay));
			put16(l4 + 6, 0);
			for (size_t j = 0; j < pay; j++)
				l4[8 + j] = (uint8_t)next();
			l4len = 8 + pay;
			ip4(ip, l4len, 17, (uint8_t)(64 - s->hops), (uint16_t)next(), 0, s->addr,
			    dst);
			break;
		}
		case K_ICMP:
			memset(l4, 0, 8);
			l4[0] = 8;
			put32(l4 + 4, (uint32_t)next());
			l4len = 8 + 16;
			for (size_t j = 8; j < l4len; j++)
				l4[j] = (uint8_t)next();
			ip4(ip, l4len, 1, (uint8_t)(64 - s->hops), (uint16_t)next(), 0, s->addr,
			    dst);
			put16(l4 + 2, fold(sum16(l4, l4len, 0)));
			break;
		default: break;
		}
		if (ip[9] != 1)
			put16(l4 + (ip[9] == 6 ? 16 : 6), l4sum(ip, l4, l4len));
		size_t iplen = 20 + l4len;
		/* Link header. */
		if (lhdr == 14 || lhdr == 18) {
			memcpy(f, "\x02\x00\x5e\x10\x00\x01\x02\x00\x5e\x20\x00\x02", 12);
			if (lhdr == 18) {
				put16(f + 12, 0x8100);
				put16(f + 14, 42);
			}
			put16(f + lhdr - 2, 0x0800);
		} else if (lhdr == 16) {
			memset(f, 0, 16);
			put16(f + 2, 1);
			put16(f + 4, 6);
			put16(f + 14, 0x0800);
		} else if (lhdr == 20) {
			memset(f, 0, 20);
			put16(f, 0x0800);
			put32(f + 4, 2);
			put16(f + 8, 1);
			f[11] = 6;
		}
		size_t flen = lhdr + iplen;
		uint64_t us = (uint64_t)i * STEP_US;
		le32(out, START_SEC + (uint32_t)(us / 1000000));
		le32(out + 4, (uint32_t)(us % 1000000));
		le32(out + 8, (uint32_t)flen);
		le32(out + 12, (uint32_t)flen);
		fwrite(out, 1, 16 + flen, stdout);
		tr.packets[k]++;
		tr.bytes += iplen;
	}
	fprintf(stderr, "gen: %llu packets, %llu IP bytes, %u sources, link %s\n",
		(unsigned long long)n, (unsigned long long)tr.bytes, at, link);
	for (int k = 0; k < K__N; k++)
		fprintf(stderr, "gen: %-11s %llu packets from a pool of %u sources\n", kind_name[k],
			(unsigned long long)tr.packets[k], first[k + 1] - first[k]);
	fprintf(stderr, "gen: mirai port 23 %llu, port 2323 %llu\n", (unsigned long long)tr.port23,
		(unsigned long long)tr.port2323);
	free(pool);
	return fflush(stdout) ? 1 : 0;
}
