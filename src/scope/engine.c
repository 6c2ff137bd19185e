/* scope: the analysis engine. One pass over decoded packets, in time order.
 *
 * The work is split in two halves. The front sees every packet: totals, protocol classes,
 * packets per port, the dark destinations, and the interval clock. The back keeps everything
 * keyed by source address: unique sources, unique sources per port, labels (Mirai, ZMap,
 * masscan), OS fingerprints, scanners, backscatter victims, and at each interval's end the
 * countries and AS numbers of the interval's sources. Sources are partitioned by a hash of the
 * address, so with --threads N there are N backs, each owning its sources outright, and every
 * per-source count of the run is the sum of the backs' counts: merging is exact.
 *
 * Per interval the state is bounded by the tables' bounds (scope_config); each closed interval
 * keeps at most interval_ports ports and interval_asns AS rows. */
#include "scope/scope_int.h"

#include <errno.h>
#include <pthread.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define NPORTS (SCOPE_PT__N * 65536u)
/* Packets handed to a back per prefetch round. */
#define CHUNK 16
/* Entries of the ring from the front to each back thread. */
#define RING 4096
/* Attacks kept before the list stops growing (the total is still counted). */
#define MAX_ATTACKS 1000000u
/* Backscatter rate window: 6 slots of 10 s (Corsaro: 60 s sliding by 10 s). */
#define DOS_SLOT 10
#define DOS_SLOTS 6

/* ---- per-source state ----
 * A source is two records at the same slot of two arrays: what its packets touch (src_rec, 32
 * bytes: two per cache line) and what is touched once per source and interval (src_cold). */
enum {
	/* src_rec.flags */
	SF_USED = 1u << 0,    /* the slot holds a source */
	SF_ACTIVE = 1u << 1,  /* it sent packets in the current interval (cleared when it closes) */
	SF_SYN = 1u << 2,     /* it sent a SYN */
	SF_OSDONE = 1u << 3,  /* a SYN matched a signature */
	SF_SPILLED = 1u << 4, /* its label counters overflowed into the spill table this interval */
	/* src_cold.flags */
	SC_MIRAI = 1u << 0,
	SC_ZMAP = 1u << 1,
	SC_MASSCAN = 1u << 2,
	SC_APP = 1u << 3,
	SC_GEO = 1u << 4,
};

/* The first two (port table, port) pairs of a source live in its record, so that a source
 * scanning one or two ports (Mirai: 23 and 2323) costs one record per packet; the others go to
 * the pair table. An inline pair is one word: its port index + 1 (0: free), whether it was
 * counted in the current interval, and its scan packets in the interval (see the scanner note
 * below); the last two are cleared with the source's first packet of an interval. Inline pairs
 * are used when --scan-dests fits the word (INL_SCANS_MAX). */
#define INL_PIDX_BITS 18
#define INL_PIDX_MASK ((1u << INL_PIDX_BITS) - 1)
#define INL_SEEN (1u << INL_PIDX_BITS)
#define INL_SCANS_SHIFT (INL_PIDX_BITS + 1)
#define INL_SCANS_MAX ((1u << (32 - INL_SCANS_SHIFT)) - 1)

struct src_rec {
	uint32_t addr;
	uint32_t ival_pkts; /* packets in the current interval */
	/* SYNs in the current interval, and how many matched each tool's rule: four 16-bit
	 * counters in one word (CTR_*), so that a SYN adds to all of them at once. None can carry
	 * into the next: they move to the spill table before the SYN count would overflow, and the
	 * others are at most the SYN count. */
	uint64_t iv_ctr;
	uint32_t sighash; /* last SYN signature tried without a match */
	uint32_t inl[2];
	uint8_t flags;
	uint8_t pad[3];
};

/* Country and AS (looked up at the end of the first interval the source appears in), OS and
 * labels. */
struct src_cold {
	uint32_t asn;
	uint16_t cc;
	int16_t os;
	uint8_t family;
	uint8_t flags;
	uint8_t pad[2];
};

/* The source table: open addressing with linear probing, the growth rule and bound of
 * scope_tab (scope_int.h), keyed by the address with a seeded hash. Probing starts at an even
 * slot, so that the first two probes share a cache line. */
struct srctab {
	struct src_rec *rec;
	struct src_cold *cold;
	uint64_t mask, count, max, high;
	uint64_t seed0, seed1;
};

static void srctab_alloc(struct srctab *t, uint64_t cap)
{
	t->rec = (struct src_rec *)scope_slots_alloc(cap * sizeof(struct src_rec));
	t->cold = (struct src_cold *)scope_slots_alloc(cap * sizeof(struct src_cold));
	t->mask = cap - 1;
	if (cap > t->high)
		t->high = cap;
}

static void srctab_release(struct srctab *t)
{
	scope_slots_free((uint8_t *)t->rec, (t->mask + 1) * sizeof(struct src_rec));
	scope_slots_free((uint8_t *)t->cold, (t->mask + 1) * sizeof(struct src_cold));
	t->rec = NULL;
	t->cold = NULL;
}

static void srctab_init(struct srctab *t, uint64_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max ? max : 1;
	lib_random(&t->seed0, sizeof(t->seed0));
	lib_random(&t->seed1, sizeof(t->seed1));
	t->seed1 |= 1;
	srctab_alloc(t, SCOPE_TAB_MIN);
}

static uint64_t srctab_bytes(const struct srctab *t)
{
	return t->high * (sizeof(struct src_rec) + sizeof(struct src_cold));
}

static inline uint64_t srctab_hash(const struct srctab *t, uint32_t addr)
{
	uint64_t x = ((uint64_t)addr ^ t->seed0) * t->seed1;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	return x;
}

static inline void srctab_prefetch(const struct srctab *t, uint64_t h)
{
	__builtin_prefetch(&t->rec[h & t->mask & ~1ull], 1);
}

static inline struct src_cold *srctab_cold(const struct srctab *t, const struct src_rec *s)
{
	return &t->cold[s - t->rec];
}

/* The record of `addr`, or NULL. */
static inline struct src_rec *srctab_find(const struct srctab *t, uint32_t addr, uint64_t h)
{
	for (uint64_t i = h & t->mask & ~1ull;; i = (i + 1) & t->mask) {
		struct src_rec *r = &t->rec[i];
		if (!(r->flags & SF_USED))
			return NULL;
		if (r->addr == addr)
			return r;
	}
}

/* Doubles the capacity (false at the bound), as scope_tab_grow does. */
static bool srctab_grow(struct srctab *t)
{
	uint64_t cap = t->mask + 1;
	if (t->count >= t->max || cap * 7 / 10 >= t->max)
		return false;
	struct srctab o = *t;
	srctab_alloc(t, cap * 2);
	for (uint64_t j = 0; j < cap; j++) {
		if (!(o.rec[j].flags & SF_USED))
			continue;
		uint64_t i = srctab_hash(t, o.rec[j].addr) & t->mask & ~1ull;
		while (t->rec[i].flags & SF_USED)
			i = (i + 1) & t->mask;
		t->rec[i] = o.rec[j];
		t->cold[i] = o.cold[j];
	}
	srctab_release(&o);
	return true;
}

/* The record of `addr`, inserted (zeroed, with its address) if new (*added set); NULL when the
 * table is full. */
static inline struct src_rec *srctab_put(struct srctab *t, uint32_t addr, uint64_t h, bool *added)
{
	for (;;) {
		for (uint64_t i = h & t->mask & ~1ull;; i = (i + 1) & t->mask) {
			struct src_rec *r = &t->rec[i];
			if (!(r->flags & SF_USED)) {
				if ((t->count + 1) * 10 > (t->mask + 1) * 7 || t->count >= t->max)
					break;
				r->addr = addr;
				r->flags = SF_USED;
				t->count++;
				*added = true;
				return r;
			}
			if (r->addr == addr) {
				*added = false;
				return r;
			}
		}
		if (!srctab_grow(t))
			return NULL;
	}
}

/* Label counters of a source that sent more SYNs in one interval than its record's 16-bit
 * counters hold (heavy scanners only). */
struct spill_rec {
	uint64_t key; /* address + 1 */
	uint64_t syn, mirai, zmap, masscan;
};

/* A source is labelled with a tool in an interval when more than half of its SYNs in the
 * interval match the tool's rule and at least `min` of them do: 1 for Mirai (a chance match of
 * seq = destination has p = 2^-32), 2 for ZMap and masscan (their IP ID rules match a chance
 * packet with p = 2^-16, about 70 times in 5 million SYNs). */
#define LABEL_MIN_MIRAI 1
#define LABEL_MIN_TOOL 2
static bool label_holds(uint64_t match, uint64_t syn, uint64_t min)
{
	return match >= min && match * 2 > syn;
}

/* (source, port table, port): unique sources per port, and the pair's scan packets in the
 * interval until it has sent scan_dests of them.
 *
 * Scanners. A pair is a scanner in an interval when it reached scan_dests distinct dark
 * addresses; it can only do so if it sent at least scan_dests scan packets. So a pair's scan
 * packets go to a sequential per-interval log (cheap) until it has sent scan_dests of them; then
 * it becomes a candidate, and its packets go to its own exact set of destinations.
 * At the interval's end the log is replayed for the candidates only. Distinct destinations are
 * exact for every pair that could qualify, and the large random-access set of every triple
 * is never built. */
struct pair_rec {
	uint64_t key;   /* src << 32 | 1 << 31 | pt << 16 | port */
	uint32_t ival;  /* the interval it was last counted in */
	uint32_t scans; /* scan packets in the interval, counted up to scan_dests */
};

#define CTR_SYN 0
#define CTR_MIRAI 16
#define CTR_ZMAP 32
#define CTR_MASSCAN 48
static inline uint64_t ctr_get(uint64_t w, int field)
{
	return (w >> field) & 0xffff;
}

/* The scan log of an interval is three append-only logs. A packet of a source's inline pair k
 * (0 or 1) is a `clogent` in log k: the pair is found again through the source's record, and
 * the second of the packets is kept as runs (the entry where a new second starts); a packet of
 * a pair in the pair table is a `logent`, with its pair and second. */
struct clogent {
	uint32_t src, dst;
};
struct logent {
	uint64_t pair;
	uint32_t dst;
	uint32_t sec;
};
struct secrun {
	uint64_t at; /* index of the first entry of the run */
	uint32_t sec;
};
#define LOG_CHUNK_BYTES (8u << 20) /* bytes per allocation (huge pages) */
struct scanlog {
	uint8_t **chunk;
	size_t nchunks;
	size_t n;            /* entries */
	uint8_t *at, *end;   /* the next entry, the end of the room in its chunk */
	uint32_t esize;      /* bytes per entry, a divisor of LOG_CHUNK_BYTES */
	struct secrun *runs; /* compact logs */
	size_t nruns, capruns;
	uint32_t last_sec; /* runs[nruns - 1].sec */
};
#define LOG_WIDE 2 /* index of the wide log in back.log */

/* A candidate scanner of the current interval and its set of distinct destinations: an
 * open-addressing set of addresses (seeded hash) while it is small, a bitmap over the dark
 * address index once that is smaller (darknet given and at most SCOPE_DIRECT_MAX addresses).
 * Sets live in a per-interval arena, so a candidate costs what its destinations need. */
struct ivscan_rec {
	uint64_t key;         /* the pair key */
	uint32_t first, last; /* seconds */
	uint64_t packets;
	uint64_t dests;
	uint32_t *set; /* addresses + 1 (0: free slot); NULL once `bits` is used */
	uint64_t *bits;
	uint32_t setcap; /* slots, a power of two */
	bool has_top;    /* 255.255.255.255, which the set cannot hold */
	uint8_t pad[3];
};
#define SET_MIN 16
#define ARENA_CHUNK (4u << 20)
#define CAND_FILTER_BITS 65536u

/* IPv6 sources and (source, port) pairs: keyed by a 64-bit keyed hash of the address. */
struct src6_rec {
	uint64_t key;
	uint32_t ival;
	uint32_t pad;
};

struct victim_rec {
	uint64_t key;
	int64_t start_ns, last_ns;
	uint64_t pkts, bytes;
	uint32_t ival;
	uint32_t max_ppm;
	int64_t slot; /* 10-second slot of the newest count */
	uint32_t win[DOS_SLOTS];
	uint32_t kinds;
};

struct scanner_rec {
	uint64_t key; /* the pair key */
	uint32_t first, last;
	uint64_t packets;
	uint64_t dests;
	uint32_t intervals;
	uint32_t pad;
};

struct asn_rec {
	uint64_t key; /* asn + 1 */
	uint64_t sources, packets;
};

struct dst_rec {
	uint64_t key;
	uint32_t pkts, ival;
};

/* A packet on its way to a back, with its hashes (computed once for the prefetch). */
#define MSG_NO_VICTIM 1
#define MSG_VICTIM_ONLY 2
#define MSG_CLOSE 4
#define MSG_FINISH 8
struct msg {
	struct scope_pkt pkt;
	uint32_t kind;
	uint32_t ival; /* MSG_CLOSE: the interval to open */
};

struct back {
	const struct scope_config *cfg;
	struct srctab src;
	struct scope_tab pair, victim, scanner, ivscan, asn, iv_asn, src6, pair6, spill;
	bool inline_pairs;   /* scan_dests fits an inline pair's counter */
	uint32_t scan_dests; /* cfg->scan_dests */
	/* Arena of the candidates' destination sets, emptied at each interval's end. */
	uint8_t **arena;
	size_t narena, arena_used, arena_at; /* chunks, chunks in use, bytes used in the last */
	uint64_t arena_bytes;                /* bytes handed out this interval */
	uint64_t bitmap_words;               /* 0: no bitmaps (darknet unknown or too large) */
	const struct scope_dark *dark;
	uint32_t setseed;
	uint64_t cand_filter[CAND_FILTER_BITS / 64];
	struct scanlog log[3]; /* compact logs of inline pairs 0 and 1, the wide log (LOG_WIDE) */
	uint64_t nlog;         /* entries in the three, at most max_scan */
	uint8_t sipkey[16];
	uint32_t ival;
	/* Addresses that sent packets in the current interval. */
	uint32_t *ivsrc;
	size_t nivsrc, capivsrc;
	/* Per interval. */
	uint64_t iv_sources, iv_scanners, iv_victims;
	struct scope_count iv_mirai, iv_zmap, iv_masscan;
	uint64_t iv_families[SCOPE_FAM__N];
	uint64_t iv_cc[SCOPE_NCC][3]; /* sources, packets, Mirai sources */
	uint32_t *iv_port_src;        /* [NPORTS] */
	/* Per run. */
	uint32_t *run_port_src; /* [NPORTS] */
	uint64_t cc[SCOPE_NCC][3];
	struct scope_count mirai, zmap, masscan;
	uint64_t syn_sources;
	uint64_t sources6;
	struct scope_attack *attacks;
	size_t nattacks, capattacks;
	uint64_t attacks_total;
	struct scope_limits limits;
	/* Thread plumbing (--threads). */
	pthread_t thread;
	struct msg *ring;
	_Atomic uint64_t head, tail;
	uint64_t wr, tail_seen; /* the front's own copies */
	_Atomic int closed;     /* interval number whose close has completed */
	struct scope_engine *eng;
};

struct scope_engine {
	struct scope_config cfg;
	struct scope_dark dark;
	int nb;
	struct back *b;
	bool threaded;
	scope_interval_cb on_interval;
	void *arg;
	/* Dark destinations. */
	/* Per dark address, when the darknet is known and small: packets, and a bit per address
	 * hit in the open interval (cleared when it closes). */
	uint32_t *dpk;
	uint64_t *dhit;
	struct scope_tab dst;
	/* Ports. */
	uint64_t *run_port_pk;
	uint32_t *iv_port_pk;
	uint32_t *touched;
	size_t ntouched;
	/* The interval clock. */
	bool open;
	uint32_t ival;                  /* 0 before the first packet */
	int64_t iv_start, iv_end;       /* seconds */
	int64_t iv_start_ns, iv_end_ns; /* the same in nanoseconds (saturated), for the fast test */
	int64_t last_end;               /* end of the interval the wall clock closed */
	struct scope_interval iv;       /* counters of the open interval */
	struct scope_interval *ivs;
	size_t nivs, capivs;
	/* Run totals. */
	struct scope_report r;
	uint64_t hit;
	bool any_dark; /* first_ns and last_ns are set */
	uint64_t sipseed[2];
	uint8_t sipkey[16];
	/* Batch of packets for the back in the single-thread path. */
	const struct scope_pkt *pend[CHUNK * 16];
	size_t npend;
};

/* ------------------------------------------------------------------ helpers */

static inline uint32_t port_index(int pt, uint16_t port)
{
	return (uint32_t)pt << 16 | port;
}

static int port_table(const struct scope_pkt *p)
{
	switch (p->cls) {
	case SCOPE_C_SYN: return SCOPE_PT_SYN;
	case SCOPE_C_UDP: return SCOPE_PT_UDP;
	case SCOPE_C_ICMP: return SCOPE_PT_ICMP;
	default: return -1;
	}
}

static inline uint64_t pair_key(uint32_t src, uint32_t pidx)
{
	return (uint64_t)src << 32 | 1u << 31 | pidx;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static uint64_t key6(const uint8_t sipkey[16], const uint8_t a[16], uint32_t extra)
{
	uint8_t m[20];
	memcpy(m, a, 16);
	memcpy(m + 16, &extra, 4);
	uint64_t h = lib_siphash(m, sizeof(m), sipkey);
	return h ? h : 1;
}

static bool is_scan(const struct scope_pkt *p)
{
	return p->cls == SCOPE_C_SYN || p->cls == SCOPE_C_UDP ||
	       (p->cls == SCOPE_C_ICMP && p->dport == 8);
}

/* Could the packet be backscatter? (the cheap half of the test below) */
static inline bool maybe_backscatter(const struct scope_pkt *p)
{
	return p->cls == SCOPE_C_BACKSCATTER || p->cls == SCOPE_C_ICMP;
}

/* Victim address of a backscatter packet, or false. Kinds: 1 SYN+ACK, 2 RST, 4 ICMP. */
static bool backscatter(const struct scope_pkt *p, uint32_t *victim, uint32_t *kind, bool *known)
{
	*known = true;
	if (p->ipver != 4)
		return false;
	if (p->cls == SCOPE_C_BACKSCATTER) {
		*victim = p->src;
		*kind = (p->tcp_flags & 0x04) ? 2 : 1;
		return true;
	}
	if (p->cls != SCOPE_C_ICMP)
		return false;
	switch (p->dport) {
	case 0:
	case 14:
	case 16:
	case 18: /* replies to spoofed requests: the victim answered */
		*victim = p->src;
		*kind = 4;
		return true;
	case 3:
	case 4:
	case 5:
	case 11:
	case 12: /* errors about spoofed packets: the victim is the quoted destination */
		*kind = 4;
		if (!(p->flags & SCOPE_PF_INNER)) {
			*known = false;
			return true;
		}
		*victim = p->inner_dst;
		return true;
	default: return false;
	}
}

/* Hashes n (at most 48) bytes into h. */
static inline uint64_t mix_bytes(uint64_t h, const uint8_t *o, size_t n)
{
	uint8_t buf[48] = {0};
	memcpy(buf, o, n <= sizeof(buf) ? n : sizeof(buf));
	for (size_t i = 0; i < n; i += 8) {
		uint64_t w;
		memcpy(&w, buf + i, 8);
		h = mix64(h ^ w);
	}
	return h;
}

/* A key of what a SYN shows p0f: equal keys mean equal signatures (but for a 2^-32 chance),
 * so that a SYN like the source's last unmatched one is not matched again. From the computed
 * signature's fields, or, for a signature still in the frame (SCOPE_PF_LAZY), from the header
 * bits it is made of (sig_start, tcp_sig in decode.c): the IP header length, TOS byte, DF and
 * reserved flags, whether the IP ID is 0, TTL; the TCP data offset and flags byte, whether the
 * sequence number is 0, the ack quirk bit, whether the urgent pointer is set, the window,
 * whether there is a payload, and the options' bytes (timestamps included: two SYNs that
 * differ only there are matched twice, with the same result). Never 0 (0: no SYN tried). */
static inline __attribute__((always_inline)) uint32_t sig_key(const struct scope_pkt *p)
{
	uint64_t h;
	if (p->flags & SCOPE_PF_LAZY) {
		const uint8_t *ip = p->l3;
		const uint8_t *t = ip + (size_t)(ip[0] & 15) * 4;
		/* IP bytes 0-7 as a word (little- or big-endian alike: the same bytes give the same
		 * word): version and header length, TOS, total length (hence whether there is a
		 * payload), the DF and reserved bits; not the IP ID and fragment offset. TCP bytes
		 * 12-15: data offset, flags, window. */
		uint64_t a;
		uint32_t b, seq;
		uint16_t ipid, urg;
		memcpy(&a, ip, 8);
		memcpy(&ipid, ip + 4, 2);
		memcpy(&b, t + 12, 4);
		memcpy(&seq, t + 4, 4);
		memcpy(&urg, t + 18, 2);
		static const uint8_t keep[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0xc0, 0};
		uint64_t mask;
		memcpy(&mask, keep, 8);
		uint64_t k0 = a & mask;
		uint64_t k1 = (uint64_t)b | (uint64_t)ip[8] << 32 | (uint64_t)(seq == 0) << 40 |
			      (uint64_t)(t[8] & 1) << 41 | (uint64_t)(urg != 0) << 42 |
			      (uint64_t)(ipid == 0) << 43;
		h = mix64(k0 * 0x9e3779b97f4a7c15ull ^ k1);
		size_t doff = (size_t)(t[12] >> 4) * 4;
		if (doff > 20)
			h = mix_bytes(h, t + 20, doff - 20);
		return (uint32_t)~h | 1;
	}
	const struct scope_tcpsig *s = &p->sig;
	const uint8_t *raw = (const uint8_t *)s;
	/* quirks and whether ts1 is set; mss, win, tot_hdr, wscale, opt_cnt; opt_eol_pad,
	 * ip_opt_len, ttl, tos, pay (five bytes). */
	uint64_t w1, w2 = 0;
	memcpy(&w1, raw + 8, 8);
	memcpy(&w2, raw + 16, 5);
	uint64_t w0 = (uint64_t)s->quirks << 32 | (uint64_t)(s->ts1 != 0) << 8 | p->ipver;
	h = mix64((w0 * 0x9e3779b97f4a7c15ull ^ w1) * 0xc2b2ae3d27d4eb4full ^ w2);
	if (s->opt_cnt)
		h = mix_bytes(h, s->opt_layout, s->opt_cnt);
	return (uint32_t)h | 1;
}

/* ------------------------------------------------------------------ the back */

static void back_init(struct back *b, const struct scope_config *cfg)
{
	memset(b, 0, sizeof(*b));
	b->cfg = cfg;
	srctab_init(&b->src, cfg->max_sources);
	b->inline_pairs = cfg->scan_dests <= INL_SCANS_MAX;
	b->log[0].esize = b->log[1].esize = sizeof(struct clogent);
	b->log[LOG_WIDE].esize = sizeof(struct logent);
	b->scan_dests = cfg->scan_dests;
	scope_tab_init(&b->pair, sizeof(struct pair_rec), cfg->max_pairs);
	scope_tab_init(&b->victim, sizeof(struct victim_rec), cfg->max_victims);
	scope_tab_init(&b->scanner, sizeof(struct scanner_rec), cfg->max_scanners);
	scope_tab_init(&b->ivscan, sizeof(struct ivscan_rec), cfg->max_scanners);
	scope_tab_init(&b->asn, sizeof(struct asn_rec), 1000000);
	scope_tab_init(&b->iv_asn, sizeof(struct asn_rec), 1000000);
	scope_tab_init(&b->src6, sizeof(struct src6_rec), cfg->max_sources);
	scope_tab_init(&b->pair6, sizeof(struct src6_rec), cfg->max_pairs);
	scope_tab_init(&b->spill, sizeof(struct spill_rec), 1000000);
	lib_random(&b->setseed, sizeof(b->setseed));
	lib_random(b->sipkey, sizeof(b->sipkey));
	b->iv_port_src = xcalloc(NPORTS, sizeof(uint32_t));
	b->run_port_src = xcalloc(NPORTS, sizeof(uint32_t));
}

static void back_free(struct back *b)
{
	srctab_release(&b->src);
	struct scope_tab *tabs[] = {&b->pair,   &b->victim, &b->scanner, &b->ivscan, &b->asn,
				    &b->iv_asn, &b->src6,   &b->pair6,   &b->spill};
	for (size_t i = 0; i < LIB_ARRAY_LEN(tabs); i++)
		scope_tab_free(tabs[i]);
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < b->log[k].nchunks; i++)
			scope_slots_free(b->log[k].chunk[i], LOG_CHUNK_BYTES);
		free(b->log[k].chunk);
		free(b->log[k].runs);
	}
	for (size_t i = 0; i < b->narena; i++)
		scope_slots_free(b->arena[i], ARENA_CHUNK);
	free(b->arena);
	free(b->ivsrc);
	free(b->iv_port_src);
	free(b->run_port_src);
	free(b->attacks);
	free(b->ring);
}

static uint64_t log_bytes(const struct back *b)
{
	uint64_t n = 0;
	for (int k = 0; k < 3; k++)
		n += b->log[k].nchunks * (uint64_t)LOG_CHUNK_BYTES +
		     b->log[k].capruns * sizeof(struct secrun);
	return n;
}

static uint64_t back_bytes(const struct back *b)
{
	return srctab_bytes(&b->src) + scope_tab_bytes(&b->pair) +
	       b->narena * (uint64_t)ARENA_CHUNK + scope_tab_bytes(&b->victim) +
	       scope_tab_bytes(&b->scanner) + scope_tab_bytes(&b->ivscan) +
	       scope_tab_bytes(&b->asn) + scope_tab_bytes(&b->iv_asn) + scope_tab_bytes(&b->src6) +
	       scope_tab_bytes(&b->pair6) + scope_tab_bytes(&b->spill) + b->capivsrc * 4 +
	       2ull * NPORTS * 4 + log_bytes(b) + b->capattacks * sizeof(struct scope_attack);
}

/* Ends a victim's attack vector: kept if it passes the thresholds. */
static void victim_end(struct back *b, struct victim_rec *v)
{
	const struct scope_config *c = b->cfg;
	if (!v->pkts)
		return;
	int64_t dur = (v->last_ns - v->start_ns) / 1000000000;
	if (v->pkts >= c->dos_packets && dur >= (int64_t)c->dos_duration &&
	    v->max_ppm >= c->dos_ppm) {
		b->attacks_total++;
		if (b->nattacks < MAX_ATTACKS) {
			if (b->nattacks == b->capattacks) {
				b->capattacks = b->capattacks ? b->capattacks * 2 : 64;
				b->attacks =
					xrealloc(b->attacks, b->capattacks * sizeof(*b->attacks));
			}
			b->attacks[b->nattacks++] =
				(struct scope_attack){.victim = (uint32_t)(v->key - 1),
						      .kinds = (uint8_t)v->kinds,
						      .start_ns = v->start_ns,
						      .end_ns = v->last_ns,
						      .packets = v->pkts,
						      .bytes = v->bytes,
						      .max_ppm = v->max_ppm};
		} else {
			b->limits.attacks_full++;
		}
	}
	v->pkts = v->bytes = 0;
	v->max_ppm = 0;
	memset(v->win, 0, sizeof(v->win));
}

static void victim_packet(struct back *b, uint32_t victim, uint32_t kind, const struct scope_pkt *p)
{
	bool added;
	uint64_t key = (uint64_t)victim + 1;
	struct victim_rec *v =
		scope_tab_put(&b->victim, key, scope_tab_hash(&b->victim, key), &added);
	if (!v) {
		b->limits.victims_full++;
		return;
	}
	if (!added && v->pkts && p->ts_ns - v->last_ns > (int64_t)b->cfg->dos_timeout * 1000000000)
		victim_end(b, v);
	int64_t slot = p->ts_ns / (DOS_SLOT * 1000000000ll);
	if (!v->pkts) {
		v->start_ns = p->ts_ns;
		v->slot = slot;
	}
	if (slot > v->slot) {
		int64_t gap = slot - v->slot;
		for (int64_t s = 1; s <= gap && s <= DOS_SLOTS; s++)
			v->win[(v->slot + s) % DOS_SLOTS] = 0;
		v->slot = slot;
	}
	if (slot >= v->slot) /* a packet older than the newest slot is counted but not rated */
		v->win[v->slot % DOS_SLOTS]++;
	uint32_t ppm = 0;
	for (int i = 0; i < DOS_SLOTS; i++)
		ppm += v->win[i];
	if (ppm > v->max_ppm)
		v->max_ppm = ppm;
	if (p->ts_ns > v->last_ns)
		v->last_ns = p->ts_ns;
	v->pkts++;
	v->bytes += p->len;
	v->kinds |= kind;
	if (v->ival != b->ival) {
		v->ival = b->ival;
		b->iv_victims++;
	}
}

static void ivsrc_push(struct back *b, uint32_t a)
{
	if (b->nivsrc == b->capivsrc) {
		b->capivsrc = b->capivsrc ? b->capivsrc * 2 : 4096;
		b->ivsrc = xrealloc(b->ivsrc, b->capivsrc * sizeof(*b->ivsrc));
	}
	b->ivsrc[b->nivsrc++] = a;
}

static void back_packet6(struct back *b, const struct scope_pkt *p)
{
	bool added;
	uint64_t k = key6(b->sipkey, p->src6, 0);
	struct src6_rec *s = scope_tab_put(&b->src6, k, scope_tab_hash(&b->src6, k), &added);
	if (!s) {
		b->limits.sources_full++;
		return;
	}
	if (added)
		b->sources6++;
	if (s->ival != b->ival) {
		s->ival = b->ival;
		b->iv_sources++;
	}
	int pt = port_table(p);
	if (pt < 0)
		return;
	uint32_t pidx = port_index(pt, p->dport);
	uint64_t pk = key6(b->sipkey, p->src6, pidx + 1);
	struct src6_rec *q = scope_tab_put(&b->pair6, pk, scope_tab_hash(&b->pair6, pk), &added);
	if (!q) {
		b->limits.pairs_full++;
		return;
	}
	if (added)
		b->run_port_src[pidx]++;
	if (q->ival != b->ival) {
		q->ival = b->ival;
		b->iv_port_src[pidx]++;
	}
}

/* Points `at` and `end` at the room left in the log's current chunk, allocating the chunk if
 * needed. */
static void log_room(struct scanlog *l)
{
	size_t per = LOG_CHUNK_BYTES / l->esize, c = l->n / per;
	if (c == l->nchunks) {
		l->chunk = xrealloc(l->chunk, (l->nchunks + 1) * sizeof(*l->chunk));
		l->chunk[l->nchunks++] = scope_slots_alloc(LOG_CHUNK_BYTES);
	}
	l->at = l->chunk[c] + (l->n % per) * l->esize;
	l->end = l->chunk[c] + per * l->esize;
}

/* Room for one more entry in log l; false (and the packet counted in scan_full) at the bound. */
static inline bool log_next(struct back *b, struct scanlog *l)
{
	if (b->nlog >= b->cfg->max_scan) {
		b->limits.scan_full++;
		return false;
	}
	if (l->at == l->end)
		log_room(l);
	b->nlog++;
	l->n++;
	return true;
}

/* Streaming stores: the log is read once, at the interval's end, and must not push the source
 * and pair tables out of the cache meanwhile. */
static inline void log_store(uint8_t *at, uint64_t v)
{
#if defined(__x86_64__)
	_mm_stream_si64((long long *)at, (long long)v);
#else
	memcpy(at, &v, 8);
#endif
}

static void log_new_run(struct scanlog *l, uint32_t sec)
{
	if (l->nruns == l->capruns) {
		l->capruns = l->capruns ? l->capruns * 2 : 4096;
		l->runs = xrealloc(l->runs, l->capruns * sizeof(*l->runs));
	}
	l->runs[l->nruns++] = (struct secrun){.at = l->n - 1, .sec = sec};
	l->last_sec = sec;
}

/* A scan packet of inline pair k of its source, below the candidate threshold. */
static inline void log_compact(struct back *b, int k, uint32_t src, uint32_t dst, uint32_t sec)
{
	struct scanlog *l = &b->log[k];
	if (!log_next(b, l))
		return;
	log_store(l->at, (uint64_t)dst << 32 | src);
	l->at += sizeof(struct clogent);
	if (l->last_sec != sec || !l->nruns)
		log_new_run(l, sec);
}

/* A scan packet of a pair of the pair table, below the candidate threshold. */
static inline void log_wide(struct back *b, uint64_t pair, uint32_t dst, uint32_t sec)
{
	struct scanlog *l = &b->log[LOG_WIDE];
	if (!log_next(b, l))
		return;
	log_store(l->at, pair);
	log_store(l->at + 8, (uint64_t)sec << 32 | dst);
	l->at += sizeof(struct logent);
}

/* Zeroed memory from the interval's arena, or NULL past the scan budget. */
static void *arena_get(struct back *b, size_t bytes)
{
	bytes = (bytes + 63) & ~(size_t)63;
	if (bytes > ARENA_CHUNK || b->arena_bytes + bytes > b->cfg->max_scan * 8)
		return NULL;
	if (!b->arena_used || b->arena_at + bytes > ARENA_CHUNK) {
		if (b->arena_used == b->narena) {
			b->arena = xrealloc(b->arena, (b->narena + 1) * sizeof(*b->arena));
			b->arena[b->narena++] = scope_slots_alloc(ARENA_CHUNK);
		}
		b->arena_used++;
		b->arena_at = 0;
	}
	void *p = b->arena[b->arena_used - 1] + b->arena_at;
	memset(p, 0, bytes);
	b->arena_at += bytes;
	b->arena_bytes += bytes;
	return p;
}

static inline uint32_t *set_slot(const struct back *b, const struct ivscan_rec *c, uint32_t dst)
{
	uint32_t mask = c->setcap - 1;
	for (uint32_t i = mix32(dst ^ b->setseed) & mask;; i = (i + 1) & mask)
		if (!c->set[i] || c->set[i] == dst + 1)
			return &c->set[i];
}

/* Moves a candidate's destinations to a set twice as large, or to the bitmap when that is
 * smaller. False when the scan budget is spent. */
static bool set_grow(struct back *b, struct ivscan_rec *c)
{
	uint64_t ncap = (uint64_t)c->setcap * 2;
	if (b->bitmap_words && ncap * 4 >= b->bitmap_words * 8) {
		uint64_t *bits = arena_get(b, b->bitmap_words * 8);
		if (!bits)
			return false;
		for (uint32_t i = 0; i < c->setcap; i++)
			if (c->set[i]) {
				uint64_t di = (uint64_t)scope_dark_index(b->dark, c->set[i] - 1);
				bits[di >> 6] |= 1ull << (di & 63);
			}
		c->bits = bits;
		c->set = NULL;
		return true;
	}
	uint32_t *old = c->set, ocap = c->setcap;
	uint32_t *set = arena_get(b, ncap * 4);
	if (!set)
		return false;
	c->set = set;
	c->setcap = (uint32_t)ncap;
	for (uint32_t i = 0; i < ocap; i++)
		if (old[i])
			*set_slot(b, c, old[i] - 1) = old[i];
	return true;
}

/* A scan packet of a candidate pair: one more destination if it is new. */
static void candidate_packet(struct back *b, struct ivscan_rec *c, uint32_t dst, uint32_t sec)
{
	if (sec < c->first)
		c->first = sec;
	if (sec > c->last)
		c->last = sec;
	if (c->bits) {
		int64_t di = scope_dark_index(b->dark, dst);
		uint64_t w = (uint64_t)di >> 6, bit = 1ull << (di & 63);
		if (!(c->bits[w] & bit)) {
			c->bits[w] |= bit;
			c->dests++;
		}
		return;
	}
	if (dst == UINT32_MAX) {
		c->dests += !c->has_top;
		c->has_top = true;
		return;
	}
	if (!c->set) {
		c->set = arena_get(b, SET_MIN * 4);
		c->setcap = SET_MIN;
		if (!c->set) {
			b->limits.scan_full++;
			return;
		}
	}
	uint32_t *slot = set_slot(b, c, dst);
	if (*slot)
		return;
	/* Keep the set at most half full: most scan packets bring a new destination, and a new
	 * entry probes about 1 + 1 / (1 - load)^2 slots / 2 (2.5 at half, 8.5 at 3/4). */
	if ((c->dests + 1) * 2 > (uint64_t)c->setcap) {
		if (!set_grow(b, c)) {
			b->limits.scan_full++;
			return;
		}
		candidate_packet(b, c, dst, sec);
		return;
	}
	*slot = dst + 1;
	c->dests++;
}

/* Moves a source's full 16-bit label counters to the spill table. */
static void spill(struct back *b, struct src_rec *s)
{
	bool added;
	uint64_t key = (uint64_t)s->addr + 1;
	struct spill_rec *x = scope_tab_put(&b->spill, key, scope_tab_hash(&b->spill, key), &added);
	if (!x) {
		/* Full: halve the counters instead, which keeps the majority rule. */
		b->limits.label_halvings++;
		s->iv_ctr = (s->iv_ctr >> 1) & 0x7fff7fff7fff7fffull; /* each counter halved */
		return;
	}
	x->syn += ctr_get(s->iv_ctr, CTR_SYN);
	x->mirai += ctr_get(s->iv_ctr, CTR_MIRAI);
	x->zmap += ctr_get(s->iv_ctr, CTR_ZMAP);
	x->masscan += ctr_get(s->iv_ctr, CTR_MASSCAN);
	s->iv_ctr = 0;
	s->flags |= SF_SPILLED;
}

/* A bit per source: could this source have a candidate pair? (A seeded multiplicative hash:
 * cheap, for it is asked for every packet and every logged one.) */
_Static_assert(CAND_FILTER_BITS == 1u << 16, "cand_bit gives 16 bits");
static inline uint32_t cand_bit(const struct back *b, uint32_t src)
{
	return ((src ^ b->setseed) * 0x9e3779b1u) >> 16;
}

static inline bool cand_maybe(const struct back *b, uint32_t src)
{
	uint32_t h = cand_bit(b, src);
	return b->cand_filter[h >> 6] & (1ull << (h & 63));
}

/* The OS of a source from one of its SYNs: the first SYN that matches a signature names the
 * source; a SYN that looks like the last unmatched one (same sig_key) is not matched again. */
static void source_os(struct back *b, struct src_rec *s, const struct scope_pkt *p, uint32_t key)
{
	struct scope_tcpsig sig;
	scope_pkt_sig(p, &sig);
	struct scope_p0f_match m;
	s->sighash = key;
	scope_p0f_match(b->cfg->p0f, 4, &sig, &m);
	if (m.label >= 0) {
		struct src_cold *c = srctab_cold(&b->src, s);
		c->os = (int16_t)m.label;
		c->flags |= m.app ? SC_APP : 0;
		c->family = (uint8_t)m.family;
		s->flags |= SF_OSDONE;
	}
}

/* A scan packet of a pair that reached scan_dests scan packets: its candidate record (created
 * with the first of them) and destination set. */
static void scan_candidate(struct back *b, uint64_t pk, uint32_t dst, uint32_t sec, uint32_t *scans)
{
	bool added;
	struct ivscan_rec *c =
		scope_tab_put(&b->ivscan, pk, scope_tab_hash(&b->ivscan, pk), &added);
	if (!c) {
		b->limits.scanners_full++;
		return;
	}
	if (added) {
		*scans = b->cfg->scan_dests;
		c->first = c->last = sec;
		uint32_t h = cand_bit(b, (uint32_t)(pk >> 32));
		b->cand_filter[h >> 6] |= 1ull << (h & 63);
	}
	c->packets++;
	candidate_packet(b, c, dst, sec);
}

/* A scan packet of a pair whose state is *scans (scan packets in the interval, up to
 * scan_dests): logged below the threshold, counted in the pair's destination set from it on. */
static inline __attribute__((always_inline)) void
scan_packet(struct back *b, const struct scope_pkt *p, uint32_t pidx, uint32_t *scans, int slot)
{
	uint32_t sec = (uint32_t)(p->ts_ns / 1000000000);
	if (*scans + 1 < b->scan_dests) {
		(*scans)++;
		if (slot >= 0)
			log_compact(b, slot, p->src, p->dst, sec);
		else
			log_wide(b, pair_key(p->src, pidx), p->dst, sec);
		return;
	}
	scan_candidate(b, pair_key(p->src, pidx), p->dst, sec, scans);
}

/* A (source, port) pair in the pair table (a source's third port and beyond, or every pair of
 * a source that did not fit the source table). */
static void pair_packet(struct back *b, const struct scope_pkt *p, uint32_t pidx)
{
	bool added;
	uint64_t pk = pair_key(p->src, pidx);
	struct pair_rec *pr = scope_tab_put(&b->pair, pk, scope_tab_hash(&b->pair, pk), &added);
	if (!pr) {
		b->limits.pairs_full++;
		return;
	}
	if (added)
		b->run_port_src[pidx]++;
	if (pr->ival != b->ival) {
		pr->ival = b->ival;
		pr->scans = 0;
		b->iv_port_src[pidx]++;
	}
	if (is_scan(p) && b->scan_dests)
		scan_packet(b, p, pidx, &pr->scans, -1);
}

/* The first packet of a source in an interval. */
static void source_opens(struct back *b, struct src_rec *s)
{
	s->flags = (uint8_t)((s->flags | SF_ACTIVE) & ~SF_SPILLED);
	s->ival_pkts = 0;
	s->iv_ctr = 0;
	s->inl[0] &= INL_PIDX_MASK;
	s->inl[1] &= INL_PIDX_MASK;
	ivsrc_push(b, s->addr);
	b->iv_sources++;
}

/* The first SYN of a source: its family from the TTL until a signature names it. */
static void source_first_syn(struct back *b, struct src_rec *s, uint8_t ttl)
{
	s->flags |= SF_SYN;
	srctab_cold(&b->src, s)->family = (uint8_t)scope_family_from_ttl(ttl);
	b->syn_sources++;
}

/* Everything about one IPv4 packet that is keyed by its source. The packet's fields are read
 * once into locals: stores into the records could otherwise alias them. */
static inline __attribute__((always_inline)) void
back_source(struct back *b, const struct scope_pkt *p, uint64_t hsrc)
{
	const uint32_t src = p->src, dst = p->dst;
	const uint8_t cls = p->cls;
	const uint16_t dport = p->dport;
	const int pt = port_table(p);
	bool added;
	struct src_rec *s = srctab_put(&b->src, src, hsrc, &added);
	if (!s) {
		b->limits.sources_full++;
		if (pt >= 0)
			pair_packet(b, p, port_index(pt, dport));
		return;
	}
	if (added) {
		struct src_cold *c = srctab_cold(&b->src, s);
		c->os = -1;
		c->family = SCOPE_FAM_UNKNOWN;
	}
	if (!(s->flags & SF_ACTIVE))
		source_opens(b, s);
	s->ival_pkts++;
	if (cls == SCOPE_C_SYN) {
		const uint32_t seq = p->seq;
		const uint16_t ipid = p->ipid;
		if (!(s->flags & SF_SYN))
			source_first_syn(b, s, p->ttl);
		if (ctr_get(s->iv_ctr, CTR_SYN) == UINT16_MAX)
			spill(b, s);
		s->iv_ctr += 1ull << CTR_SYN | (uint64_t)(seq == dst) << CTR_MIRAI |
			     (uint64_t)(ipid == 54321) << CTR_ZMAP |
			     (uint64_t)(ipid == (uint16_t)(dst ^ dport ^ seq)) << CTR_MASSCAN;
		if (!(s->flags & SF_OSDONE) && (p->flags & SCOPE_PF_SIG) && b->cfg->p0f) {
			uint32_t key = sig_key(p);
			if (key != s->sighash)
				source_os(b, s, p, key);
		}
	}
	if (pt < 0)
		return;
	const uint32_t pidx = port_index(pt, dport);
	if (!b->inline_pairs) {
		pair_packet(b, p, pidx);
		return;
	}
	uint32_t *w;
	if ((s->inl[0] & INL_PIDX_MASK) == pidx + 1) {
		w = &s->inl[0];
	} else if ((s->inl[1] & INL_PIDX_MASK) == pidx + 1) {
		w = &s->inl[1];
	} else if (!s->inl[1]) {
		w = !s->inl[0] ? &s->inl[0] : &s->inl[1];
		*w = pidx + 1;
		b->run_port_src[pidx]++;
	} else {
		pair_packet(b, p, pidx);
		return;
	}
	uint32_t word = *w;
	if (!(word & INL_SEEN)) {
		word |= INL_SEEN;
		b->iv_port_src[pidx]++;
	}
	if (is_scan(p) && b->scan_dests) {
		uint32_t scans = word >> INL_SCANS_SHIFT;
		scan_packet(b, p, pidx, &scans, (int)(w - s->inl));
		word = (word & (INL_PIDX_MASK | INL_SEEN)) | scans << INL_SCANS_SHIFT;
	}
	*w = word;
}

/* One packet for this back: `kind` says whether to do the source half, the victim half or both. */
static inline __attribute__((always_inline)) void
back_one(struct back *b, const struct scope_pkt *p, uint32_t kind, uint64_t hsrc)
{
	if (p->ipver == 6) {
		back_packet6(b, p);
		return;
	}
	if (!(kind & MSG_VICTIM_ONLY))
		back_source(b, p, hsrc);
	if (kind & MSG_NO_VICTIM)
		return;
	uint32_t victim = 0, bk;
	bool known;
	if (maybe_backscatter(p) && backscatter(p, &victim, &bk, &known) && known)
		victim_packet(b, victim, bk, p);
}

/* A run of packets, software-pipelined: the source hash of packet i + AHEAD is computed and its
 * record prefetched while packet i is worked on, so that the cache misses overlap instead of
 * queueing. */
#define AHEAD 16

static inline __attribute__((always_inline)) uint64_t hashes_of(struct back *b,
								const struct scope_pkt *p)
{
	if (p->ipver != 4)
		return 0;
	uint64_t h = srctab_hash(&b->src, p->src);
	srctab_prefetch(&b->src, h);
	/* A candidate scanner's destination bitmap is large and touched at random: fetch its
	 * word early too (the candidate table itself is small and stays in the cache). */
	if (b->ivscan.count && cand_maybe(b, p->src) && is_scan(p)) {
		uint64_t pk = pair_key(p->src, port_index(port_table(p), p->dport));
		struct ivscan_rec *c =
			scope_tab_find(&b->ivscan, pk, scope_tab_hash(&b->ivscan, pk));
		if (c && c->bits)
			__builtin_prefetch(
				&c->bits[(uint64_t)scope_dark_index(b->dark, p->dst) >> 6], 1);
		else if (c && c->set)
			__builtin_prefetch(&c->set[mix32(p->dst ^ b->setseed) & (c->setcap - 1)],
					   1);
	}
	/* UDP sources often probe more ports than a record holds: their pair's slot too. */
	if (p->cls == SCOPE_C_UDP && b->pair.count) {
		uint64_t pk = pair_key(p->src, port_index(SCOPE_PT_UDP, p->dport));
		scope_tab_prefetch(&b->pair, scope_tab_hash(&b->pair, pk));
	}
	return h;
}

static inline __attribute__((always_inline)) void
back_pipeline(struct back *b, const struct scope_pkt *const *ps, const uint32_t *kinds, size_t n)
{
	uint64_t h[AHEAD];
	size_t i = 0;
	for (; i < n && i < AHEAD; i++)
		h[i] = hashes_of(b, ps[i]);
	for (size_t j = 0; j < n; j++) {
		uint64_t hj = h[j % AHEAD];
		if (i < n) {
			h[i % AHEAD] = hashes_of(b, ps[i]);
			i++;
		}
		back_one(b, ps[j], kinds ? kinds[j] : 0, hj);
	}
}

static void back_run(struct back *b, const struct scope_pkt *const *ps, const uint32_t *kinds,
		     size_t n)
{
	/* The one-thread path (no kinds) and the workers' get their own copies of the loop. */
	if (kinds)
		back_pipeline(b, ps, kinds, n);
	else
		back_pipeline(b, ps, NULL, n);
}

static void label_source(struct src_cold *s, uint32_t flag, uint64_t packets,
			 struct scope_count *run, struct scope_count *iv)
{
	if (!(s->flags & flag)) {
		s->flags |= flag;
		run->sources++;
	}
	run->packets += packets;
	iv->sources++;
	iv->packets += packets;
}

static int cmp_asn(const void *a, const void *b)
{
	const struct scope_asn *x = a, *y = b;
	if (x->sources != y->sources)
		return x->sources < y->sources ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return x->asn < y->asn ? -1 : x->asn > y->asn;
}

/* A logged scan packet of a pair, if the pair became a candidate. */
static inline void replay_one(struct back *b, uint64_t pair, uint32_t dst, uint32_t sec)
{
	struct ivscan_rec *c = scope_tab_find(&b->ivscan, pair, scope_tab_hash(&b->ivscan, pair));
	if (c) {
		c->packets++;
		candidate_packet(b, c, dst, sec);
	}
}

/* Replays log k for the candidates of the interval. */
static void log_replay(struct back *b, int k)
{
	const struct scanlog *l = &b->log[k];
	size_t per = LOG_CHUNK_BYTES / l->esize, run = 0;
	for (size_t c = 0, i = 0; i < l->n; c++) {
		const uint8_t *e = l->chunk[c];
		size_t end = l->n - i < per ? l->n : i + per;
		for (; i < end; i++, e += l->esize) {
			if (k == LOG_WIDE) {
				struct logent w;
				memcpy(&w, e, sizeof(w));
				if (cand_maybe(b, (uint32_t)(w.pair >> 32)))
					replay_one(b, w.pair, w.dst, w.sec);
				continue;
			}
			struct clogent ce;
			memcpy(&ce, e, sizeof(ce));
			if (!cand_maybe(b, ce.src))
				continue;
			uint64_t h = srctab_hash(&b->src, ce.src);
			while (run + 1 < l->nruns && l->runs[run + 1].at <= i)
				run++;
			const struct src_rec *s = srctab_find(&b->src, ce.src, h);
			if (s && (s->inl[k] & INL_PIDX_MASK))
				replay_one(b, pair_key(ce.src, (s->inl[k] & INL_PIDX_MASK) - 1),
					   ce.dst, l->runs[run].sec);
		}
	}
}

/* The back's part of an interval's end: labels, countries and AS numbers of its sources, OS
 * families, scanners; then the per-interval state is reset for interval `next`. */
static void back_close(struct back *b, uint32_t next)
{
	const struct scope_config *cfg = b->cfg;
	for (size_t i = 0; i < b->nivsrc; i++) {
		if (i + 16 < b->nivsrc) {
			uint64_t h = srctab_hash(&b->src, b->ivsrc[i + 16]);
			srctab_prefetch(&b->src, h);
			__builtin_prefetch(&b->src.cold[h & b->src.mask & ~1ull], 1);
		}
		struct src_rec *s =
			srctab_find(&b->src, b->ivsrc[i], srctab_hash(&b->src, b->ivsrc[i]));
		if (!s)
			continue;
		struct src_cold *sc = srctab_cold(&b->src, s);
		s->flags &= (uint8_t)~SF_ACTIVE;
		bool first = !(sc->flags & SC_GEO);
		if (first) {
			sc->flags |= SC_GEO;
			if (cfg->geo)
				scope_geo_lookup(cfg->geo, b->ivsrc[i], &sc->cc, &sc->asn);
		}
		uint16_t cc = sc->cc;
		uint32_t asn = sc->asn;
		bool added;
		uint64_t ak = (uint64_t)asn + 1;
		struct asn_rec *a = scope_tab_put(&b->asn, ak, scope_tab_hash(&b->asn, ak), &added);
		if (first) {
			b->cc[cc][0]++;
			if (a)
				a->sources++;
		}
		if (a)
			a->packets += s->ival_pkts;
		b->cc[cc][1] += s->ival_pkts;
		b->iv_cc[cc][0]++;
		b->iv_cc[cc][1] += s->ival_pkts;
		struct asn_rec *ia =
			scope_tab_put(&b->iv_asn, ak, scope_tab_hash(&b->iv_asn, ak), &added);
		if (ia) {
			ia->sources++;
			ia->packets += s->ival_pkts;
		}
		uint64_t syn = ctr_get(s->iv_ctr, CTR_SYN), mirai = ctr_get(s->iv_ctr, CTR_MIRAI),
			 zmap = ctr_get(s->iv_ctr, CTR_ZMAP),
			 masscan = ctr_get(s->iv_ctr, CTR_MASSCAN);
		if (s->flags & SF_SPILLED) {
			uint64_t key = (uint64_t)s->addr + 1;
			const struct spill_rec *x =
				scope_tab_find(&b->spill, key, scope_tab_hash(&b->spill, key));
			if (x) {
				syn += x->syn;
				mirai += x->mirai;
				zmap += x->zmap;
				masscan += x->masscan;
			}
		}
		if (syn) {
			b->iv_families[sc->family]++;
			if (label_holds(mirai, syn, LABEL_MIN_MIRAI)) {
				b->iv_cc[cc][2]++;
				label_source(sc, SC_MIRAI, mirai, &b->mirai, &b->iv_mirai);
			}
			if (label_holds(zmap, syn, LABEL_MIN_TOOL))
				label_source(sc, SC_ZMAP, zmap, &b->zmap, &b->iv_zmap);
			if (label_holds(masscan, syn, LABEL_MIN_TOOL))
				label_source(sc, SC_MASSCAN, masscan, &b->masscan, &b->iv_masscan);
		}
	}
	/* Replay the log for the candidates, then keep those that qualified. */
#if defined(__x86_64__)
	_mm_sfence();
#endif
	if (b->ivscan.count)
		for (int k = 0; k < 3; k++)
			log_replay(b, k);
	for (uint8_t *p = NULL; (p = scope_tab_next(&b->ivscan, p));) {
		struct ivscan_rec *q = (struct ivscan_rec *)p;
		if (q->dests < cfg->scan_dests)
			continue;
		b->iv_scanners++;
		bool added;
		struct scanner_rec *sc = scope_tab_put(&b->scanner, q->key,
						       scope_tab_hash(&b->scanner, q->key), &added);
		if (!sc) {
			b->limits.scanners_full++;
			continue;
		}
		if (added || q->first < sc->first)
			sc->first = q->first;
		if (q->last > sc->last)
			sc->last = q->last;
		sc->packets += q->packets;
		if (q->dests > sc->dests)
			sc->dests = q->dests;
		sc->intervals++;
	}
	scope_tab_clear(&b->ivscan);
	scope_tab_clear(&b->spill);
	memset(b->cand_filter, 0, sizeof(b->cand_filter));
	b->arena_used = 0;
	b->arena_at = 0;
	b->arena_bytes = 0;
	b->nlog = 0;
	for (int k = 0; k < 3; k++) {
		b->log[k].n = 0;
		b->log[k].at = b->log[k].end = NULL;
		b->log[k].nruns = 0;
	}
	b->nivsrc = 0;
	b->ival = next;
}

/* Clears the back's per-interval counters once the front has read them. */
static void back_reset_interval(struct back *b)
{
	b->iv_sources = b->iv_scanners = b->iv_victims = 0;
	b->iv_mirai = b->iv_zmap = b->iv_masscan = (struct scope_count){0};
	memset(b->iv_families, 0, sizeof(b->iv_families));
	memset(b->iv_cc, 0, sizeof(b->iv_cc));
	scope_tab_clear(&b->iv_asn);
}

/* ------------------------------------------------------------------ threads */

/* Waiting for the other side of a ring: spin briefly (it is usually a few hundred
 * nanoseconds away), then sleep in short steps rather than burn a core another thread needs. */
static void ring_wait(int *spins)
{
	if (++*spins < 200) {
#if defined(__x86_64__)
		_mm_pause();
#endif
		return;
	}
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 20000};
	nanosleep(&ts, NULL);
}

static void *back_thread(void *arg)
{
	struct back *b = arg;
	const struct scope_pkt *ps[CHUNK * 8];
	uint32_t kinds[CHUNK * 8];
	for (;;) {
		uint64_t tail = atomic_load_explicit(&b->tail, memory_order_relaxed);
		uint64_t head;
		int spins = 0;
		while ((head = atomic_load_explicit(&b->head, memory_order_acquire)) == tail)
			ring_wait(&spins);
		size_t n = 0;
		bool stop = false;
		while (tail < head && n < LIB_ARRAY_LEN(ps)) {
			struct msg *m = &b->ring[tail % RING];
			if (m->kind & (MSG_CLOSE | MSG_FINISH)) {
				back_run(b, ps, kinds, n);
				n = 0;
				if (m->kind & MSG_CLOSE) {
					uint32_t next = m->ival;
					back_close(b, next);
					atomic_store_explicit(&b->closed, (int)next,
							      memory_order_release);
				} else {
					stop = true;
				}
				tail++;
				break;
			}
			ps[n] = &m->pkt;
			kinds[n] = m->kind;
			n++;
			tail++;
		}
		back_run(b, ps, kinds, n);
		atomic_store_explicit(&b->tail, tail, memory_order_release);
		if (stop)
			return NULL;
	}
}

/* The front writes entries at `wr` and publishes them (head) every RING_PUBLISH entries or at
 * a flush, so that the shared counters bounce between cores rarely. */
#define RING_PUBLISH 32
static void ring_publish(struct back *b)
{
	if (b->wr != atomic_load_explicit(&b->head, memory_order_relaxed))
		atomic_store_explicit(&b->head, b->wr, memory_order_release);
}

static void ring_push(struct back *b, const struct scope_pkt *p, uint32_t kind, uint32_t ival)
{
	int spins = 0;
	while (b->wr - b->tail_seen >= RING) {
		ring_publish(b);
		b->tail_seen = atomic_load_explicit(&b->tail, memory_order_acquire);
		if (b->wr - b->tail_seen >= RING)
			ring_wait(&spins);
	}
	struct msg *m = &b->ring[b->wr % RING];
	if (p) {
		m->pkt = *p;
		/* The frame the signature is in is the reader's: the worker gets it computed. */
		if (p->flags & SCOPE_PF_LAZY) {
			scope_pkt_sig(p, &m->pkt.sig);
			m->pkt.flags &= (uint8_t)~SCOPE_PF_LAZY;
		}
	}
	m->kind = kind;
	m->ival = ival;
	b->wr++;
	if (!(b->wr % RING_PUBLISH) || (kind & (MSG_CLOSE | MSG_FINISH)))
		ring_publish(b);
}

static inline uint32_t owner(const struct scope_engine *e, uint32_t addr)
{
	return (uint32_t)(mix64((uint64_t)addr ^ e->sipseed[0]) % (uint64_t)e->nb);
}

static void dispatch(struct scope_engine *e, const struct scope_pkt *p)
{
	if (!e->threaded) {
		e->pend[e->npend++] = p;
		if (e->npend == LIB_ARRAY_LEN(e->pend)) {
			back_run(&e->b[0], e->pend, NULL, e->npend);
			e->npend = 0;
		}
		return;
	}
	uint32_t o;
	if (p->ipver == 6) {
		o = (uint32_t)(key6(e->sipkey, p->src6, 0) % (uint64_t)e->nb);
		ring_push(&e->b[o], p, 0, 0);
		return;
	}
	o = owner(e, p->src);
	uint32_t victim, kind;
	bool known;
	if (maybe_backscatter(p) && backscatter(p, &victim, &kind, &known) && known &&
	    victim != p->src) {
		uint32_t vo = owner(e, victim);
		if (vo != o) {
			ring_push(&e->b[o], p, MSG_NO_VICTIM, 0);
			ring_push(&e->b[vo], p, MSG_VICTIM_ONLY, 0);
			return;
		}
	}
	ring_push(&e->b[o], p, 0, 0);
}

/* Runs what is pending and makes every back close the interval (and open `next`). */
static void backs_close(struct scope_engine *e, uint32_t next)
{
	if (!e->threaded) {
		back_run(&e->b[0], e->pend, NULL, e->npend);
		e->npend = 0;
		back_close(&e->b[0], next);
		return;
	}
	for (int i = 0; i < e->nb; i++)
		ring_push(&e->b[i], NULL, MSG_CLOSE, next);
	for (int i = 0; i < e->nb; i++) {
		int spins = 0;
		while (atomic_load_explicit(&e->b[i].closed, memory_order_acquire) != (int)next)
			ring_wait(&spins);
	}
}

/* ------------------------------------------------------------------ the front */

static int cmp_port(const void *a, const void *b)
{
	const struct scope_port *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	if (x->pt != y->pt)
		return x->pt - y->pt;
	return x->port - y->port;
}

static int cmp_country(const void *a, const void *b)
{
	const struct scope_country *x = a, *y = b;
	if (x->sources != y->sources)
		return x->sources < y->sources ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return x->cc - y->cc;
}

/* Countries from per-back [cc][3] arrays. */
static struct scope_country *countries_of(struct scope_engine *e, bool interval, size_t *n)
{
	struct scope_country *out = NULL;
	size_t cnt = 0;
	if (!e->cfg.geo) {
		*n = 0;
		return NULL;
	}
	for (uint16_t c = 0; c < SCOPE_NCC; c++) {
		uint64_t v[3] = {0, 0, 0};
		for (int i = 0; i < e->nb; i++)
			for (int k = 0; k < 3; k++)
				v[k] += interval ? e->b[i].iv_cc[c][k] : e->b[i].cc[c][k];
		if (!v[0] && !v[1])
			continue;
		out = xrealloc(out, (cnt + 1) * sizeof(*out));
		out[cnt++] = (struct scope_country){
			.cc = c, .sources = v[0], .packets = v[1], .mirai_sources = v[2]};
	}
	if (cnt)
		qsort(out, cnt, sizeof(*out), cmp_country);
	*n = cnt;
	return out;
}

/* AS rows from the backs' tables (interval or run), most sources first, at most `keep`. */
static struct scope_asn *asns_of(struct scope_engine *e, bool interval, size_t keep, size_t *n)
{
	struct scope_tab merged;
	*n = 0;
	if (!e->cfg.geo)
		return NULL;
	scope_tab_init(&merged, sizeof(struct asn_rec), 10000000);
	for (int i = 0; i < e->nb; i++) {
		struct scope_tab *t = interval ? &e->b[i].iv_asn : &e->b[i].asn;
		for (uint8_t *r = NULL; (r = scope_tab_next(t, r));) {
			struct asn_rec *a = (struct asn_rec *)r, *m;
			bool added;
			m = scope_tab_put(&merged, a->key, scope_tab_hash(&merged, a->key), &added);
			if (m) {
				m->sources += a->sources;
				m->packets += a->packets;
			}
		}
	}
	struct scope_asn *out = xcalloc(merged.count + 1, sizeof(*out));
	size_t cnt = 0;
	for (uint8_t *r = NULL; (r = scope_tab_next(&merged, r));) {
		struct asn_rec *a = (struct asn_rec *)r;
		out[cnt++] = (struct scope_asn){.asn = (uint32_t)(a->key - 1),
						.sources = a->sources,
						.packets = a->packets};
	}
	scope_tab_free(&merged);
	qsort(out, cnt, sizeof(*out), cmp_asn);
	if (keep && cnt > keep)
		cnt = keep;
	*n = cnt;
	return out;
}

static void close_interval(struct scope_engine *e, uint32_t next)
{
	backs_close(e, next);
	struct scope_interval *iv = &e->iv;
	iv->start = e->iv_start;
	/* Telnet: the SYNs to 23 and 2323, from the port counters. */
	iv->telnet = e->iv_port_pk[port_index(SCOPE_PT_SYN, 23)] +
		     e->iv_port_pk[port_index(SCOPE_PT_SYN, 2323)];
	/* Ports: packets from the front, sources from the backs. */
	struct scope_port *ports = xcalloc(e->ntouched + 1, sizeof(*ports));
	size_t np = 0;
	for (size_t i = 0; i < e->ntouched; i++) {
		uint32_t idx = e->touched[i];
		uint64_t src = 0;
		for (int k = 0; k < e->nb; k++) {
			src += e->b[k].iv_port_src[idx];
			e->b[k].iv_port_src[idx] = 0;
		}
		ports[np++] = (struct scope_port){.pt = (uint8_t)(idx >> 16),
						  .port = (uint16_t)idx,
						  .packets = e->iv_port_pk[idx],
						  .sources = src};
		e->iv_port_pk[idx] = 0;
	}
	e->ntouched = 0;
	qsort(ports, np, sizeof(*ports), cmp_port);
	size_t keep = np;
	if (e->cfg.interval_ports && keep > e->cfg.interval_ports) {
		keep = e->cfg.interval_ports;
		/* Telnet stays listed: its share is what the charts follow. */
		for (size_t i = keep; i < np; i++)
			if (ports[i].pt == SCOPE_PT_SYN &&
			    (ports[i].port == 23 || ports[i].port == 2323)) {
				struct scope_port t = ports[i];
				memmove(ports + keep + 1, ports + keep,
					(i - keep) * sizeof(*ports));
				ports[keep++] = t;
			}
		for (size_t i = keep; i < np; i++)
			iv->ports_rest_packets += ports[i].packets;
	}
	iv->ports = ports;
	iv->nports = keep;
	for (int k = 0; k < e->nb; k++) {
		struct back *b = &e->b[k];
		iv->sources += b->iv_sources;
		iv->scanners += b->iv_scanners;
		iv->backscatter_victims += b->iv_victims;
		iv->mirai.sources += b->iv_mirai.sources;
		iv->mirai.packets += b->iv_mirai.packets;
		iv->zmap.sources += b->iv_zmap.sources;
		iv->zmap.packets += b->iv_zmap.packets;
		iv->masscan.sources += b->iv_masscan.sources;
		iv->masscan.packets += b->iv_masscan.packets;
		for (int f = 0; f < SCOPE_FAM__N; f++)
			iv->families[f] += b->iv_families[f];
	}
	iv->countries = countries_of(e, true, &iv->ncountries);
	iv->asns = asns_of(e, true, e->cfg.interval_asns, &iv->nasns);
	for (int k = 0; k < e->nb; k++)
		back_reset_interval(&e->b[k]);
	if (e->nivs == e->capivs) {
		e->capivs = e->capivs ? e->capivs * 2 : 16;
		e->ivs = xrealloc(e->ivs, e->capivs * sizeof(*e->ivs));
	}
	e->ivs[e->nivs++] = *iv;
	struct scope_report *r = &e->r;
	r->packets += iv->packets;
	r->bytes += iv->bytes;
	for (int c = 0; c < SCOPE_C__N; c++)
		r->cls[c] += iv->cls[c];
	r->telnet += iv->telnet;
	r->backscatter_packets += iv->backscatter_packets;
	if (e->on_interval)
		e->on_interval(e->arg, iv);
	memset(&e->iv, 0, sizeof(e->iv));
	if (e->dhit)
		memset(e->dhit, 0, (e->dark.size + 63) / 64 * sizeof(*e->dhit));
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Seconds to nanoseconds, saturated at the int64 range. */
static int64_t sec_to_ns(int64_t sec)
{
	if (sec > INT64_MAX / 1000000000)
		return INT64_MAX;
	if (sec < INT64_MIN / 1000000000)
		return INT64_MIN;
	return sec * 1000000000;
}

static void open_interval(struct scope_engine *e, int64_t sec)
{
	e->iv_start = floor_div(sec, e->cfg.interval) * e->cfg.interval;
	e->iv_end = e->iv_start + e->cfg.interval;
	e->iv_start_ns = sec_to_ns(e->iv_start);
	e->iv_end_ns = sec_to_ns(e->iv_end);
	e->open = true;
}

/* The interval clock: closes the open interval when a packet (or the wall clock) passes its
 * end. A packet older than the open interval is counted in it (late). */
static void clock_to(struct scope_engine *e, int64_t ts_ns)
{
	int64_t sec = floor_div(ts_ns, 1000000000);
	if (!e->open) {
		if (!e->ival) {
			/* The first packet of the run. */
			e->ival = 1;
			for (int k = 0; k < e->nb; k++)
				e->b[k].ival = 1;
		} else if (sec < e->last_end) {
			/* After the wall clock closed an interval (live): a packet stamped before
			 * its end belongs to the next one. */
			e->r.limits.late_packets++;
			sec = e->last_end;
		}
		open_interval(e, sec);
		return;
	}
	if (sec >= e->iv_end) {
		close_interval(e, e->ival + 1);
		e->ival++;
		open_interval(e, sec);
	} else if (sec < e->iv_start) {
		e->r.limits.late_packets++;
	}
}

static inline int64_t dark_index_of(const struct scope_engine *e, const struct scope_pkt *p)
{
	return p->ipver == 4 ? scope_dark_index(&e->dark, p->dst)
			     : (scope_dark6(&e->dark, p->dst6) ? 0 : -1);
}

/* The front's counters over a run of packets, kept in registers and added to the open interval
 * (front_flush) when the run ends or the interval closes. The run's totals are the sums of its
 * intervals (close_interval). */
struct front_sum {
	uint64_t packets, bytes, cls[SCOPE_C__N], backscatter, dark_hit, hit;
	uint64_t nd_packets, nd_bytes;
	int64_t first, last;
};

static void front_flush(struct scope_engine *e, struct front_sum *s)
{
	struct scope_interval *iv = &e->iv;
	struct scope_report *r = &e->r;
	iv->packets += s->packets;
	iv->bytes += s->bytes;
	for (int c = 0; c < SCOPE_C__N; c++)
		iv->cls[c] += s->cls[c];
	iv->backscatter_packets += s->backscatter;
	iv->dark_hit += s->dark_hit;
	e->hit += s->hit;
	r->not_dark_packets += s->nd_packets;
	r->not_dark_bytes += s->nd_bytes;
	if (s->packets) {
		if (!e->any_dark || s->first < r->first_ns)
			r->first_ns = s->first;
		if (!e->any_dark || s->last > r->last_ns)
			r->last_ns = s->last;
		e->any_dark = true;
	}
	memset(s, 0, sizeof(*s));
	s->first = INT64_MAX;
	s->last = INT64_MIN;
}

/* A dark IPv4 destination that is not in the flat array: the hash table. */
static void front_dst(struct scope_engine *e, struct front_sum *s, uint32_t dst)
{
	bool added;
	uint64_t k = (uint64_t)dst + 1;
	struct dst_rec *d = scope_tab_put(&e->dst, k, scope_tab_hash(&e->dst, k), &added);
	if (!d) {
		e->r.limits.dests_full++;
		return;
	}
	if (added)
		s->hit++;
	d->pkts++;
	if (d->ival != e->ival) {
		d->ival = e->ival;
		s->dark_hit++;
	}
}

/* The front over m packets; di[i]: dark_index_of(e, &pkts[i]). */
static void front_run(struct scope_engine *e, const struct scope_pkt *pkts, const int64_t *di,
		      size_t m)
{
	struct front_sum s;
	memset(&s, 0, sizeof(s));
	s.first = INT64_MAX;
	s.last = INT64_MIN;
	/* The open interval's bounds (none when closed: every packet moves the clock). */
	int64_t lo = e->open ? e->iv_start_ns : INT64_MAX, hi = e->open ? e->iv_end_ns : INT64_MIN;
	uint32_t *dpk = e->dpk;
	uint64_t *dhit = e->dhit;
	for (size_t i = 0; i < m; i++) {
		const struct scope_pkt *p = &pkts[i];
		uint32_t len = p->len;
		if (di[i] < 0) {
			s.nd_packets++;
			s.nd_bytes += len;
			continue;
		}
		int64_t ts = p->ts_ns;
		if (ts < lo || ts >= hi) {
			front_flush(e, &s);
			clock_to(e, ts);
			lo = e->iv_start_ns;
			hi = e->iv_end_ns;
		}
		if (ts < s.first)
			s.first = ts;
		if (ts > s.last)
			s.last = ts;
		uint8_t cls = p->cls;
		s.packets++;
		s.bytes += len;
		s.cls[cls]++;
		if (p->ipver == 4) {
			if (dpk) {
				uint64_t d = (uint64_t)di[i], bit = 1ull << (d & 63);
				s.hit += !dpk[d]++;
				if (!(dhit[d >> 6] & bit)) {
					dhit[d >> 6] |= bit;
					s.dark_hit++;
				}
			} else {
				front_dst(e, &s, p->dst);
			}
		}
		int pt = port_table(p);
		if (pt >= 0) {
			uint32_t idx = port_index(pt, p->dport);
			e->run_port_pk[idx]++;
			if (!e->iv_port_pk[idx]++)
				e->touched[e->ntouched++] = idx;
		}
		uint32_t victim, kind;
		bool known;
		if (maybe_backscatter(p) && backscatter(p, &victim, &kind, &known))
			s.backscatter++;
		dispatch(e, p);
	}
	front_flush(e, &s);
}

/* ------------------------------------------------------------------ API */

int scope_engine_new(struct scope_engine **out, const struct scope_config *cfg, int nthreads,
		     scope_interval_cb on_interval, void *arg)
{
	if (cfg->interval < 1 || nthreads < 1 || nthreads > SCOPE_MAX_THREADS)
		return -EINVAL;
	struct scope_engine *e = xcalloc(1, sizeof(*e));
	e->cfg = *cfg;
	scope_dark_init(&e->dark, &e->cfg);
	/* --threads N: the reading thread and N - 1 workers. */
	e->nb = nthreads > 1 ? nthreads - 1 : 1;
	e->threaded = nthreads > 1;
	e->on_interval = on_interval;
	e->arg = arg;
	e->b = xcalloc((size_t)e->nb, sizeof(*e->b));
	for (int i = 0; i < e->nb; i++) {
		back_init(&e->b[i], &e->cfg);
		e->b[i].eng = e;
		e->b[i].dark = &e->dark;
		if (!e->dark.any4 && e->dark.size <= SCOPE_DIRECT_MAX)
			e->b[i].bitmap_words = (e->dark.size + 63) / 64;
	}
	lib_random(e->sipseed, sizeof(e->sipseed));
	lib_random(e->sipkey, sizeof(e->sipkey));
	if (!e->dark.any4 && e->dark.size <= SCOPE_DIRECT_MAX) {
		e->dpk = xcalloc(e->dark.size, sizeof(*e->dpk));
		e->dhit = xcalloc((e->dark.size + 63) / 64, sizeof(*e->dhit));
	}
	scope_tab_init(&e->dst, sizeof(struct dst_rec), cfg->max_dests);
	e->run_port_pk = xcalloc(NPORTS, sizeof(uint64_t));
	e->iv_port_pk = xcalloc(NPORTS, sizeof(uint32_t));
	e->touched = xcalloc(NPORTS, sizeof(uint32_t));
	e->r.dark_size = e->dark.any4 ? 0 : e->dark.size;
	if (e->threaded) {
		for (int i = 0; i < e->nb; i++) {
			struct back *b = &e->b[i];
			b->ring = xcalloc(RING, sizeof(*b->ring));
			if (pthread_create(&b->thread, NULL, back_thread, b)) {
				log_error("scope", "cannot start worker thread %d", i);
				abort();
			}
		}
	}
	*out = e;
	return 0;
}

void scope_engine_frame(struct scope_engine *e, enum scope_dec code)
{
	e->r.frames++;
	switch (code) {
	case SCOPE_DEC_NOT_IP: e->r.not_ip++; break;
	case SCOPE_DEC_MALFORMED: e->r.malformed++; break;
	case SCOPE_DEC_BAD_LINK: e->r.bad_link++; break;
	default: break;
	}
}

void scope_engine_packet(struct scope_engine *e, const struct scope_pkt *pkt)
{
	e->r.frames++;
	int64_t di = dark_index_of(e, pkt);
	front_run(e, pkt, &di, 1);
	/* The pointer is the caller's: run it now (threads got a copy: publish it). */
	if (!e->threaded && e->npend) {
		back_run(&e->b[0], e->pend, NULL, e->npend);
		e->npend = 0;
	}
	if (e->threaded)
		for (int k = 0; k < e->nb; k++)
			ring_publish(&e->b[k]);
}

void scope_engine_batch(struct scope_engine *e, const struct scope_pkt *pkts, size_t n)
{
	/* The per-address counters are touched at random: find them all first (prefetching),
	 * then count. */
	int64_t di[256];
	for (size_t at = 0; at < n; at += LIB_ARRAY_LEN(di)) {
		size_t m = n - at < LIB_ARRAY_LEN(di) ? n - at : LIB_ARRAY_LEN(di);
		for (size_t i = 0; i < m; i++) {
			di[i] = dark_index_of(e, &pkts[at + i]);
			if (e->dpk && di[i] >= 0 && pkts[at + i].ipver == 4)
				__builtin_prefetch(&e->dpk[di[i]], 1);
		}
		e->r.frames += m;
		front_run(e, pkts + at, di, m);
	}
	if (!e->threaded && e->npend) {
		back_run(&e->b[0], e->pend, NULL, e->npend);
		e->npend = 0;
	}
	if (e->threaded)
		for (int k = 0; k < e->nb; k++)
			ring_publish(&e->b[k]);
}

void scope_engine_tick(struct scope_engine *e, int64_t now_ns)
{
	if (e->open && floor_div(now_ns, 1000000000) >= e->iv_end) {
		/* The next packet opens the interval it belongs to (not before this one's end);
		 * interval numbers stay unique. */
		close_interval(e, e->ival + 1);
		e->ival++;
		e->open = false;
		e->last_end = e->iv_end;
	}
}

static int cmp_attack(const void *a, const void *b)
{
	const struct scope_attack *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static int cmp_scanner(const void *a, const void *b)
{
	const struct scope_scanner *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->port - y->port;
}

static int cmp_os(const void *a, const void *b)
{
	const struct scope_label_os *x = a, *y = b;
	if (x->sources != y->sources)
		return x->sources < y->sources ? 1 : -1;
	if (x->app != y->app)
		return x->app - y->app;
	return x->label - y->label;
}

static void finish_backs(struct scope_engine *e)
{
	if (e->threaded) {
		for (int i = 0; i < e->nb; i++)
			ring_push(&e->b[i], NULL, MSG_FINISH, 0);
		for (int i = 0; i < e->nb; i++)
			pthread_join(e->b[i].thread, NULL);
		e->threaded = false;
	} else if (e->npend) {
		back_run(&e->b[0], e->pend, NULL, e->npend);
		e->npend = 0;
	}
}

void scope_engine_finish(struct scope_engine *e, struct scope_report *out)
{
	struct scope_report *r = &e->r;
	if (e->open) {
		/* The last interval: its backs close with the threads still running. */
		close_interval(e, e->ival + 1);
		e->open = false;
	}
	finish_backs(e);
	r->dark_hit = e->hit;
	if (e->dpk) {
		for (uint64_t i = 0; i < e->dark.size; i++)
			if (e->dpk[i] > r->dark_max_packets) {
				r->dark_max_packets = e->dpk[i];
				for (size_t k = 0; k < e->dark.n; k++)
					if (i >= e->dark.base[k] &&
					    i - e->dark.base[k] <=
						    (uint64_t)e->dark.end[k] - e->dark.start[k])
						r->dark_max_addr = e->dark.start[k] +
								   (uint32_t)(i - e->dark.base[k]);
			}
	} else {
		for (uint8_t *p = NULL; (p = scope_tab_next(&e->dst, p));) {
			struct dst_rec *d = (struct dst_rec *)p;
			uint32_t addr = (uint32_t)(d->key - 1);
			/* Ties go to the lowest address, as in the flat array (not to the table's
			 * seeded order). */
			if (d->pkts > r->dark_max_packets ||
			    (d->pkts == r->dark_max_packets && addr < r->dark_max_addr)) {
				r->dark_max_packets = d->pkts;
				r->dark_max_addr = addr;
			}
		}
	}
	/* Ports of the run. */
	size_t np = 0;
	for (uint32_t i = 0; i < NPORTS; i++)
		np += e->run_port_pk[i] != 0;
	r->ports = xcalloc(np + 1, sizeof(*r->ports));
	for (uint32_t i = 0; i < NPORTS; i++) {
		if (!e->run_port_pk[i])
			continue;
		uint64_t src = 0;
		for (int k = 0; k < e->nb; k++)
			src += e->b[k].run_port_src[i];
		r->ports[r->nports++] = (struct scope_port){.pt = (uint8_t)(i >> 16),
							    .port = (uint16_t)i,
							    .packets = e->run_port_pk[i],
							    .sources = src};
	}
	qsort(r->ports, r->nports, sizeof(*r->ports), cmp_port);
	/* Mirai sources per country: every source has its country once its intervals closed. */
	for (int k = 0; k < e->nb; k++) {
		const struct srctab *t = &e->b[k].src;
		for (uint64_t i = 0; i <= t->mask; i++)
			if ((t->rec[i].flags & SF_USED) && (t->cold[i].flags & SC_MIRAI))
				e->b[k].cc[t->cold[i].cc][2]++;
	}
	r->countries = countries_of(e, false, &r->ncountries);
	r->asns = asns_of(e, false, 0, &r->nasns);
	/* Sources, labels, OS, scanners, attacks: sums over the backs. */
	size_t nlabels = scope_p0f_nlabels(e->cfg.p0f);
	uint64_t *os = xcalloc(2 * nlabels + 1, sizeof(uint64_t)); /* [label][app] then "???" */
	for (int k = 0; k < e->nb; k++) {
		struct back *b = &e->b[k];
		r->sources += b->src.count;
		r->sources6 += b->sources6;
		r->mirai.sources += b->mirai.sources;
		r->mirai.packets += b->mirai.packets;
		r->zmap.sources += b->zmap.sources;
		r->zmap.packets += b->zmap.packets;
		r->masscan.sources += b->masscan.sources;
		r->masscan.packets += b->masscan.packets;
		r->syn_sources += b->syn_sources;
		r->backscatter_victims_all += b->victim.count;
		for (uint64_t i = 0; i <= b->src.mask; i++) {
			if (!(b->src.rec[i].flags & SF_SYN))
				continue;
			const struct src_cold *s = &b->src.cold[i];
			r->families[s->family]++;
			if (s->os >= 0 && (size_t)s->os < nlabels)
				os[2 * (size_t)s->os + ((s->flags & SC_APP) ? 1 : 0)]++;
			else
				os[2 * nlabels]++;
		}
		for (uint8_t *p = NULL; (p = scope_tab_next(&b->victim, p));)
			victim_end(b, (struct victim_rec *)p);
		r->attacks_total += b->attacks_total;
		r->scanners_total += b->scanner.count;
		struct scope_limits *l = &r->limits, *bl = &b->limits;
		l->sources_full += bl->sources_full;
		l->pairs_full += bl->pairs_full;
		l->scan_full += bl->scan_full;
		l->victims_full += bl->victims_full;
		l->scanners_full += bl->scanners_full;
		l->attacks_full += bl->attacks_full;
		l->label_halvings += bl->label_halvings;
	}
	r->sources += r->sources6;
	r->os = xcalloc(2 * nlabels + 1, sizeof(*r->os));
	for (size_t i = 0; i < 2 * nlabels + 1; i++)
		if (os[i])
			r->os[r->nos++] = (struct scope_label_os){
				.label = i == 2 * nlabels ? -1 : (int)(i / 2),
				.app = i < 2 * nlabels && (i & 1),
				.sources = os[i]};
	free(os);
	qsort(r->os, r->nos, sizeof(*r->os), cmp_os);
	/* Attacks: all backs' lists, most packets first, cut to cfg.top. */
	size_t na = 0;
	for (int k = 0; k < e->nb; k++)
		na += e->b[k].nattacks;
	r->attacks = xcalloc(na + 1, sizeof(*r->attacks));
	for (int k = 0; k < e->nb; k++) {
		if (e->b[k].nattacks)
			memcpy(r->attacks + r->nattacks, e->b[k].attacks,
			       e->b[k].nattacks * sizeof(*r->attacks));
		r->nattacks += e->b[k].nattacks;
	}
	qsort(r->attacks, r->nattacks, sizeof(*r->attacks), cmp_attack);
	if (r->nattacks > e->cfg.top)
		r->nattacks = e->cfg.top;
	/* Scanners. */
	r->scanners = xcalloc(r->scanners_total + 1, sizeof(*r->scanners));
	size_t ns = 0;
	for (int k = 0; k < e->nb; k++) {
		struct back *b = &e->b[k];
		struct scope_tab seen;
		scope_tab_init(&seen, 8, b->scanner.count + 1);
		for (uint8_t *p = NULL; (p = scope_tab_next(&b->scanner, p));) {
			struct scanner_rec *sc = (struct scanner_rec *)p;
			uint32_t src = (uint32_t)(sc->key >> 32);
			struct scope_scanner *o = &r->scanners[ns++];
			o->src = src;
			o->pt = (uint8_t)((sc->key >> 16) & 0x7fff);
			o->port = (uint16_t)sc->key;
			o->first = sc->first;
			o->last = sc->last;
			o->packets = sc->packets;
			o->dests = sc->dests;
			o->intervals = sc->intervals;
			r->scanner_packets += sc->packets;
			uint64_t sk = (uint64_t)src + 1;
			struct src_rec *s = srctab_find(&b->src, src, srctab_hash(&b->src, src));
			if (s) {
				const struct src_cold *c = srctab_cold(&b->src, s);
				o->labels = ((c->flags & SC_MIRAI) ? SCOPE_L_MIRAI : 0) |
					    ((c->flags & SC_ZMAP) ? SCOPE_L_ZMAP : 0) |
					    ((c->flags & SC_MASSCAN) ? SCOPE_L_MASSCAN : 0);
				o->cc = c->cc;
			}
			bool added;
			if (scope_tab_put(&seen, sk, scope_tab_hash(&seen, sk), &added) && added)
				r->scanner_sources++;
		}
		scope_tab_free(&seen);
	}
	r->nscanners = ns;
	qsort(r->scanners, r->nscanners, sizeof(*r->scanners), cmp_scanner);
	if (r->nscanners > e->cfg.top)
		r->nscanners = e->cfg.top;
	r->intervals = e->ivs;
	r->nintervals = e->nivs;
	e->ivs = NULL;
	e->nivs = 0;
	uint64_t bytes = scope_tab_bytes(&e->dst) +
			 (e->dpk ? 4 * e->dark.size + (e->dark.size + 63) / 64 * 8 : 0) +
			 NPORTS * 16ull;
	for (int k = 0; k < e->nb; k++)
		bytes += back_bytes(&e->b[k]);
	r->table_bytes = bytes;
	*out = *r;
	memset(&e->r, 0, sizeof(e->r));
	scope_engine_free(e);
}

void scope_engine_free(struct scope_engine *e)
{
	if (!e)
		return;
	finish_backs(e);
	for (int i = 0; i < e->nb; i++)
		back_free(&e->b[i]);
	free(e->b);
	free(e->dpk);
	free(e->dhit);
	scope_tab_free(&e->dst);
	free(e->run_port_pk);
	free(e->iv_port_pk);
	free(e->touched);
	for (size_t i = 0; i < e->nivs; i++) {
		free(e->ivs[i].ports);
		free(e->ivs[i].countries);
		free(e->ivs[i].asns);
	}
	free(e->ivs);
	free(e->iv.ports);
	scope_report_free(&e->r);
	free(e);
}

void scope_report_free(struct scope_report *r)
{
	free(r->ports);
	free(r->countries);
	free(r->asns);
	free(r->os);
	free(r->attacks);
	free(r->scanners);
	for (size_t i = 0; i < r->nintervals; i++) {
		free(r->intervals[i].ports);
		free(r->intervals[i].countries);
		free(r->intervals[i].asns);
	}
	free(r->intervals);
	memset(r, 0, sizeof(*r));
}

bool scope_report_exact(const struct scope_report *r)
{
	const struct scope_limits *l = &r->limits;
	return !(l->sources_full || l->pairs_full || l->scan_full || l->dests_full ||
		 l->victims_full || l->scanners_full || l->attacks_full || l->label_halvings);
}
