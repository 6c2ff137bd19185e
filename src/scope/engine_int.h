/* scope: the analysis engine's internal declarations, shared by the engine's files only (the
 * rest of src/scope uses scope.h and scope_int.h). One pass over decoded packets, in time order.
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
 * keeps at most interval_ports ports and interval_asns AS rows.
 *
 * The files, in the order a packet meets them:
 *   engine.c    the API: creating the engine, feeding it packets, freeing it
 *   front.c     the front: totals, classes, packets per port, dark destinations; the interval
 *               clock
 *   threads.c   handing packets to the backs: in batches (one thread) or through a ring per
 *               worker thread (--threads)
 *   back.c      the back's work on each packet, keyed by its source: unique sources, sources
 *               per port, the label counters, the OS
 *   srctab.c    the source table
 *   scan.c      scanners: the scan log, candidate pairs and their sets of destinations
 *   dos.c       DoS backscatter: victims, their packet rates, attacks
 *   interval.c  an interval's end: labels, countries and AS numbers of its sources, its row
 *   finish.c    the run's end: the report */
#ifndef MITSU_SCOPE_ENGINE_INT_H
#define MITSU_SCOPE_ENGINE_INT_H

#include "scope/scope_int.h"

#include <pthread.h>
#include <stdatomic.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Per-port counters: one per (port table, port). */
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
	SF_PENDING = 1u << 5, /* not yet moved to its place while the table grows */
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
	uint8_t family; /* enum scope_family, once the source sent a SYN (SF_SYN) */
	uint8_t pad[2];
};

/* Country and AS (looked up at the end of the first interval the source appears in), OS and
 * labels. A new source's record is all zero: its packets need not touch it. */
struct src_cold {
	uint32_t asn;
	uint16_t cc;
	uint16_t os; /* p0f label + 1; 0: none matched */
	uint8_t flags;
	uint8_t pad[3];
};

/* The source table: open addressing with linear probing, the growth rule and bound of
 * scope_tab (scope_int.h), keyed by the address with a seeded hash. Probing starts at an even
 * slot, so that the first two probes share a cache line. */
struct srctab {
	struct scope_mem *mem;
	struct src_rec *rec;
	struct src_cold *cold;
	uint64_t mask, count, max, high;
	uint64_t seed0, seed1;
};

void scope_srctab_init(struct srctab *t, uint64_t max, struct scope_mem *mem);
void scope_srctab_release(struct srctab *t);
uint64_t scope_srctab_bytes(const struct srctab *t);
/* Doubles the capacity (false at the bound), as scope_tab_grow does. */
bool scope_srctab_grow(struct srctab *t);

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

/* The record of `addr`, inserted (zeroed, with its address) if new (*added set); NULL when the
 * table is full. */
static inline struct src_rec *srctab_put(struct srctab *t, uint32_t addr, uint64_t h, bool *added)
{
	/* Most sources are found in the first two slots from their home (one cache line): which
	 * one is chosen without a branch, so that only a miss takes the loop. (If the first slot
	 * is free, the second cannot hold the address: probes stop at a free slot.) */
	struct src_rec *r0 = &t->rec[h & t->mask & ~1ull];
	struct src_rec *hit = r0 + (r0->addr != addr);
	if (((hit->flags & SF_USED) != 0) & (hit->addr == addr)) {
		*added = false;
		return hit;
	}
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
		if (!scope_srctab_grow(t))
			return NULL;
	}
}

/* Label counters of a source that sent more SYNs in one interval than its record's 16-bit
 * counters hold (heavy scanners only). */
struct spill_rec {
	uint64_t key; /* address + 1 */
	uint64_t syn, mirai, zmap, masscan;
};

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
#define ARENA_CLASSES 17 /* sizes of outgrown sets kept for reuse: 64 bytes .. 4 MiB */
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
	struct scope_mem mem; /* every table and array of the back */
	struct srctab src;
	struct scope_tab pair, victim, scanner, ivscan, asn, iv_asn, src6, pair6, spill;
	bool inline_pairs;   /* scan_dests fits an inline pair's counter */
	uint32_t scan_dests; /* cfg->scan_dests */
	/* Arena of the candidates' destination sets, emptied at each interval's end. */
	uint8_t **arena;
	size_t narena, arena_used, arena_at; /* chunks, chunks in use, bytes used in the last */
	uint64_t arena_bytes;                /* bytes handed out this interval */
	void *arena_free[ARENA_CLASSES];     /* outgrown sets by size (64 << class bytes) */
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
	struct scope_mem mem; /* the front's tables and arrays */
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
	uint32_t *touched; /* the ports of the open interval */
	size_t ntouched;
	uint32_t *run_ports; /* the ports of the closed intervals */
	size_t nrun_ports;
	uint64_t run_port_seen[NPORTS / 64]; /* a bit per port in run_ports */
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

static inline int port_table(const struct scope_pkt *p)
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

/* A 64-bit key of an IPv6 address (with `extra`: a port index + 1, or 0), never 0. */
uint64_t scope_key6(const uint8_t sipkey[16], const uint8_t a[16], uint32_t extra);

static inline bool is_scan(const struct scope_pkt *p)
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
static inline bool backscatter(const struct scope_pkt *p, uint32_t *victim, uint32_t *kind,
			       bool *known)
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

/* ------------------------------------------------------------------ the scan log (scan.c) */

/* Makes room for the next entry of a log (a new chunk when the current one is full). */
void scope_log_room(struct scanlog *l, struct scope_mem *mem);
/* Starts a run of log entries with second `sec`. */
void scope_log_new_run(struct scanlog *l, uint32_t sec);

/* Room for one more entry in log l; false (and the packet counted in scan_full) at the bound. */
static inline bool log_next(struct back *b, struct scanlog *l)
{
	if (b->nlog >= b->cfg->max_scan) {
		b->limits.scan_full++;
		return false;
	}
	if (l->at == l->end)
		scope_log_room(l, &b->mem);
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

/* A scan packet of inline pair k of its source, below the candidate threshold. */
static inline void log_compact(struct back *b, int k, uint32_t src, uint32_t dst, uint32_t sec)
{
	struct scanlog *l = &b->log[k];
	if (!log_next(b, l))
		return;
	log_store(l->at, (uint64_t)dst << 32 | src);
	l->at += sizeof(struct clogent);
	if (l->last_sec != sec || !l->nruns)
		scope_log_new_run(l, sec);
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

/* A scan packet of a pair that reached scan_dests scan packets (its candidate record and set). */
void scope_scan_candidate(struct back *b, uint64_t pk, uint32_t dst, uint32_t sec, uint32_t *scans);

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
	scope_scan_candidate(b, pair_key(p->src, pidx), p->dst, sec, scans);
}

/* ------------------------------------------------------------------ the back (back.c) */

void scope_back_init(struct back *b, const struct scope_config *cfg);
void scope_back_free(struct back *b);
/* Memory held by the back's tables (high-water). */
uint64_t scope_back_bytes(const struct back *b);
/* Works on n packets; kinds[i] (MSG_NO_VICTIM, MSG_VICTIM_ONLY) or NULL: both halves. */
void scope_back_run(struct back *b, const struct scope_pkt *const *ps, const uint32_t *kinds,
		    size_t n);

/* ------------------------------------------------------------------ scanners (scan.c) */

/* The back's part of an interval's end for scanners: the log replayed for the candidates, the
 * candidates that qualified kept, the per-interval scan state emptied. */
void scope_scan_close(struct back *b);
void scope_scan_free(struct back *b);
uint64_t scope_scan_bytes(const struct back *b);
/* The scanners of every back into the report: count, sources, packets, the top list. */
void scope_scan_finish(struct scope_engine *e, struct scope_report *r);

/* ------------------------------------------------------------------ backscatter (dos.c) */

/* A backscatter packet whose victim is known. */
void scope_victim_packet(struct back *b, uint32_t victim, uint32_t kind, const struct scope_pkt *p);
/* Ends a victim's attack vector: kept if it passes the thresholds. */
void scope_victim_end(struct back *b, struct victim_rec *v);
/* Ends every victim's attack and puts the attacks of every back into the report. */
void scope_dos_finish(struct scope_engine *e, struct scope_report *r);

/* ------------------------------------------------------------------ threads (threads.c) */

/* Starts the worker thread of each back (--threads). */
void scope_threads_start(struct scope_engine *e);
/* Makes what the front wrote into a back's ring visible to its worker. */
void scope_ring_publish(struct back *b);
/* A packet for the worker that owns its source (and the one that owns its victim). */
void scope_dispatch_threaded(struct scope_engine *e, const struct scope_pkt *p);
/* Runs the packets queued for the back of the one-thread path. */
void scope_run_pending(struct scope_engine *e);
/* Runs what is pending and makes every back close the interval (and open `next`). */
void scope_backs_close(struct scope_engine *e, uint32_t next);
/* Runs what is pending and stops the workers. */
void scope_backs_finish(struct scope_engine *e);

/* A packet for its back: queued for the one back (run in batches), or handed to a worker. */
static inline void dispatch(struct scope_engine *e, const struct scope_pkt *p)
{
	if (e->threaded) {
		scope_dispatch_threaded(e, p);
		return;
	}
	e->pend[e->npend++] = p;
	if (e->npend == LIB_ARRAY_LEN(e->pend))
		scope_run_pending(e);
}

/* ------------------------------------------------------------------ the front (front.c) */

/* The front over m packets (and the back over the dark ones, or their hand-off to the workers). */
void scope_front_run(struct scope_engine *e, const struct scope_pkt *pkts, size_t m);

/* ------------------------------------------------------------------ intervals (interval.c) */

/* The back's part of an interval's end: labels, countries and AS numbers of its sources, OS
 * families, scanners; then the per-interval state is reset for interval `next`. */
void scope_back_close(struct back *b, uint32_t next);
/* Clears the back's per-interval counters once the front has read them. */
void scope_back_reset_interval(struct back *b);
/* Closes the open interval: its row is kept, handed to on_interval, and added to the run. */
void scope_close_interval(struct scope_engine *e, uint32_t next);
/* Countries (interval or run) summed over the backs, most sources first. */
struct scope_country *scope_countries_of(struct scope_engine *e, bool interval, size_t *n);
/* AS rows (interval or run) summed over the backs, most sources first, at most `keep`. */
struct scope_asn *scope_asns_of(struct scope_engine *e, bool interval, size_t keep, size_t *n);
/* Most packets first (qsort). */
int scope_cmp_port(const void *a, const void *b);

#endif
