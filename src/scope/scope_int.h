/* scope: declarations shared by the files of src/scope only (not part of its API).
 * The open-addressing hash table every per-source structure is built on. */
#ifndef MITSU_SCOPE_INT_H
#define MITSU_SCOPE_INT_H

#include "scope/scope.h"

#include <string.h>

/* A table of fixed-size records whose first 8 bytes are a non-zero key (0 marks an empty
 * slot). Linear probing; the capacity is a power of two and doubles at 70 % load up to the
 * capacity that holds `max` entries; past that, inserts fail and the caller counts what did
 * not fit. Keys are hashed with a per-table random seed (a multiply-xorshift mixer), so that
 * addresses chosen by an attacker cannot be steered into one chain: never the low bits of a
 * network-order word (tcpdump's trap, docs/research/darknet.md section 7). */
/* Memory for the analysis' tables and arrays, in 2 MiB transparent huge pages. A fresh 4 KiB
 * page costs a fault, and on a virtual machine a fault costs tens of microseconds (every
 * page-table change goes through the hypervisor): tables that grow by doubling from 1024 slots
 * would otherwise pay thousands of them. Blocks below SCOPE_MEM_BIG are carved from 2 MiB
 * chunks and kept for reuse when freed (a table cleared at each interval's end reuses its
 * block); larger blocks are mappings of their own, returned to the system when freed. Every
 * block is zeroed. Not thread-safe: each back and the front own one. */
#define SCOPE_MEM_CHUNK (2u << 20)
#define SCOPE_MEM_BIG (1u << 20)
#define SCOPE_MEM_SIZES 48 /* distinct block sizes kept for reuse */
struct scope_mem {
	uint8_t **chunks; /* every chunk, unmapped by scope_mem_release */
	size_t nchunks;
	uint8_t *at, *end; /* the room left in the newest chunk */
	struct {
		uint64_t bytes;
		uint8_t *head; /* freed blocks of that size, linked through their first word */
	} free[SCOPE_MEM_SIZES];
	uint64_t held; /* bytes of chunks and big blocks, for the memory report */
};
void scope_mem_init(struct scope_mem *m);
/* Frees every block (the blocks given out are invalid afterwards). */
void scope_mem_release(struct scope_mem *m);
/* `bytes` of zeroed memory, 64-byte aligned. With m NULL, a mapping of its own. */
void *scope_mem_alloc(struct scope_mem *m, uint64_t bytes);
void scope_mem_free(struct scope_mem *m, void *p, uint64_t bytes);
/* The block p of `old` bytes made `bytes` long (larger): its contents kept, the rest zero. A
 * large block keeps its pages (they are moved, not copied: no fresh memory but the growth). */
void *scope_mem_grow(struct scope_mem *m, void *p, uint64_t old, uint64_t bytes);

struct scope_tab {
	struct scope_mem *mem; /* where its slots come from (NULL: mappings of their own) */
	uint8_t *slots;
	uint64_t mask; /* capacity - 1 */
	uint64_t count;
	uint64_t max; /* entries allowed */
	uint64_t seed0, seed1;
	uint32_t rsize; /* record size in bytes, a multiple of 8 */
	uint64_t high;  /* largest capacity reached, for the memory report */
};

#define SCOPE_TAB_MIN 1024u
#define SCOPE_TAB_MAX_RECORD 256 /* bytes */

/* A table of rsize-byte records, at most max of them, with its slots from mem (may be NULL). */
void scope_tab_init(struct scope_tab *t, uint32_t rsize, uint64_t max, struct scope_mem *mem);
void scope_tab_free(struct scope_tab *t);
/* Empties the table (keeps a capacity that fits what it held, or shrinks it). */
void scope_tab_clear(struct scope_tab *t);
/* Makes room for one more entry; false when the table is at its bound. */
bool scope_tab_grow(struct scope_tab *t);
uint64_t scope_tab_bytes(const struct scope_tab *t);

static inline uint64_t scope_tab_hash(const struct scope_tab *t, uint64_t key)
{
	uint64_t x = (key ^ t->seed0) * t->seed1;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	return x;
}

static inline void scope_tab_prefetch(const struct scope_tab *t, uint64_t h)
{
	__builtin_prefetch(t->slots + (h & t->mask) * t->rsize, 1);
}

/* The record of `key`, or NULL. */
static inline void *scope_tab_find(const struct scope_tab *t, uint64_t key, uint64_t h)
{
	for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
		uint8_t *r = t->slots + i * t->rsize;
		uint64_t k;
		memcpy(&k, r, 8);
		if (k == key)
			return r;
		if (!k)
			return NULL;
	}
}

/* The record of `key`, inserted zeroed (with its key) if new (*added set); NULL when the table
 * is full. `h` is scope_tab_hash(t, key). */
static inline void *scope_tab_put(struct scope_tab *t, uint64_t key, uint64_t h, bool *added)
{
	for (;;) {
		for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
			uint8_t *r = t->slots + i * t->rsize;
			uint64_t k;
			memcpy(&k, r, 8);
			if (k == key) {
				*added = false;
				return r;
			}
			if (!k) {
				if ((t->count + 1) * 10 > (t->mask + 1) * 7 || t->count >= t->max)
					break;
				memcpy(r, &key, 8);
				t->count++;
				*added = true;
				return r;
			}
		}
		if (!scope_tab_grow(t))
			return NULL;
	}
}

/* Walks every record: for (uint8_t *r = NULL; (r = scope_tab_next(t, r));) */
static inline uint8_t *scope_tab_next(const struct scope_tab *t, uint8_t *r)
{
	uint8_t *end = t->slots + (t->mask + 1) * t->rsize;
	for (r = r ? r + t->rsize : t->slots; r < end; r += t->rsize) {
		uint64_t k;
		memcpy(&k, r, 8);
		if (k)
			return r;
	}
	return NULL;
}

/* Darknet membership: sorted, merged IPv4 ranges with the index of each range's first address
 * in the flat per-address arrays. */
struct scope_dark {
	uint32_t start[SCOPE_MAX_DARKNETS], end[SCOPE_MAX_DARKNETS]; /* inclusive */
	uint64_t base[SCOPE_MAX_DARKNETS];
	size_t n;
	uint64_t size; /* addresses */
	bool any4;     /* no IPv4 darknet given: every IPv4 destination is dark */
	struct scope_cidr v6[SCOPE_MAX_DARKNETS];
	size_t n6;
	bool any6;
};
void scope_dark_init(struct scope_dark *d, const struct scope_config *cfg);
/* Index of a dark IPv4 address (0 .. size-1), or -1 when it is not dark. With any4, 0. */
static inline int64_t scope_dark_index(const struct scope_dark *d, uint32_t a)
{
	if (d->any4)
		return 0;
	if (d->n == 1) /* one range: most darknets */
		return a - d->start[0] <= d->end[0] - d->start[0]
			       ? (int64_t)(d->base[0] + (a - d->start[0]))
			       : -1;
	size_t lo = 0, hi = d->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (a < d->start[mid])
			hi = mid;
		else if (a > d->end[mid])
			lo = mid + 1;
		else
			return (int64_t)(d->base[mid] + (a - d->start[mid]));
	}
	return -1;
}
bool scope_dark6(const struct scope_dark *d, const uint8_t a[16]);

/* Resident set size high-water mark of the process, bytes. */
uint64_t scope_peak_rss(void);

#endif
