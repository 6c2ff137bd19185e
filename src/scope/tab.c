/* scope: the open-addressing table (growth, clearing, memory), darknet membership, CIDRs. */
#include "scope/scope_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

/* Memory comes from mmap: fresh pages are zero. Blocks of SCOPE_MEM_BIG and more are 2 MiB
 * aligned with transparent huge pages asked for (random probes into tens of megabytes
 * otherwise miss the TLB on almost every lookup, and every 4 KiB page is a fault). */
#if defined(__SANITIZE_ADDRESS__)
#define MEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_ASAN 1
#endif
#endif
#ifdef MEM_ASAN
#include <sanitizer/asan_interface.h>
#define MEM_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define MEM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define MEM_POISON(p, n) ((void)(p), (void)(n))
#define MEM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define MEM_PAGE 4096u

static uint64_t round_up(uint64_t n, uint64_t a)
{
	return (n + a - 1) / a * a;
}

/* Bytes mapped for a block of `bytes` given its own mapping. */
static uint64_t map_len(uint64_t bytes)
{
	return bytes >= SCOPE_MEM_BIG ? round_up(bytes, SCOPE_MEM_CHUNK)
				      : round_up(bytes, MEM_PAGE);
}

static uint8_t *map(uint64_t bytes)
{
	uint64_t want = map_len(bytes);
	bool huge = bytes >= SCOPE_MEM_BIG;
	uint64_t len = huge ? want + SCOPE_MEM_CHUNK : want;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_error("scope", "out of memory for a %llu-byte table",
			  (unsigned long long)bytes);
		abort();
	}
	if (!huge)
		return p;
	/* Align to 2 MiB and give back the slack on both sides. */
	uint8_t *a = (uint8_t *)(((uintptr_t)p + SCOPE_MEM_CHUNK - 1) &
				 ~(uintptr_t)(SCOPE_MEM_CHUNK - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	uint8_t *end = a + want, *pend = p + len;
	if (pend > end)
		munmap(end, (size_t)(pend - end));
	madvise(a, want, MADV_HUGEPAGE);
	return a;
}

void scope_mem_init(struct scope_mem *m)
{
	memset(m, 0, sizeof(*m));
}

void scope_mem_release(struct scope_mem *m)
{
	for (size_t i = 0; i < m->nchunks; i++) {
		MEM_UNPOISON(m->chunks[i], SCOPE_MEM_CHUNK);
		munmap(m->chunks[i], SCOPE_MEM_CHUNK);
	}
	free(m->chunks);
	memset(m, 0, sizeof(*m));
}

/* Keeps a free block for reuse (dropped, until the release, when every size slot is taken). */
static void mem_keep(struct scope_mem *m, uint8_t *p, uint64_t n)
{
	for (size_t i = 0; i < SCOPE_MEM_SIZES; i++) {
		if (m->free[i].bytes && m->free[i].bytes != n)
			continue;
		m->free[i].bytes = n;
		memcpy(p, &m->free[i].head, sizeof(p));
		m->free[i].head = p;
		MEM_POISON(p + sizeof(p), n - sizeof(p));
		return;
	}
	MEM_POISON(p, n);
}

void *scope_mem_alloc(struct scope_mem *m, uint64_t bytes)
{
	if (!m || bytes >= SCOPE_MEM_BIG) {
		if (m)
			m->held += map_len(bytes);
		return map(bytes);
	}
	uint64_t n = round_up(bytes ? bytes : 1, MEM_PAGE);
	for (size_t i = 0; i < SCOPE_MEM_SIZES; i++) {
		uint8_t *p = m->free[i].head;
		if (m->free[i].bytes != n || !p)
			continue;
		MEM_UNPOISON(p, n);
		memcpy(&m->free[i].head, p, sizeof(p));
		memset(p, 0, n);
		return p;
	}
	if ((uint64_t)(m->end - m->at) < n) {
		if (m->end > m->at)
			mem_keep(m, m->at, (uint64_t)(m->end - m->at));
		m->chunks = xrealloc(m->chunks, (m->nchunks + 1) * sizeof(*m->chunks));
		m->at = m->chunks[m->nchunks++] = map(SCOPE_MEM_CHUNK);
		m->end = m->at + SCOPE_MEM_CHUNK;
		m->held += SCOPE_MEM_CHUNK;
	}
	uint8_t *p = m->at;
	m->at += n;
	return p; /* never used since the chunk was mapped: zero */
}

void scope_mem_free(struct scope_mem *m, void *p, uint64_t bytes)
{
	if (!p)
		return;
	if (!m || bytes >= SCOPE_MEM_BIG) {
		if (m)
			m->held -= map_len(bytes);
		munmap(p, map_len(bytes));
		return;
	}
	mem_keep(m, p, round_up(bytes ? bytes : 1, MEM_PAGE));
}

void *scope_mem_grow(struct scope_mem *m, void *p, uint64_t old, uint64_t bytes)
{
	if (!m || old < SCOPE_MEM_BIG) {
		uint8_t *n = scope_mem_alloc(m, bytes);
		memcpy(n, p, old);
		scope_mem_free(m, p, old);
		return n;
	}
	uint64_t ol = map_len(old), nl = map_len(bytes);
	if (nl == ol)
		return p; /* the mapping's tail was never handed out: zero */
	/* A 2 MiB-aligned place for the larger mapping (so that its huge pages move whole), then
	 * the pages moved there. */
	uint8_t *r = mmap(NULL, nl + SCOPE_MEM_CHUNK, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED) {
		log_error("scope", "out of address space for a %llu-byte table",
			  (unsigned long long)bytes);
		abort();
	}
	uint8_t *a = (uint8_t *)(((uintptr_t)r + SCOPE_MEM_CHUNK - 1) &
				 ~(uintptr_t)(SCOPE_MEM_CHUNK - 1));
	if (mremap(p, ol, nl, MREMAP_MAYMOVE | MREMAP_FIXED, a) == MAP_FAILED) {
		log_error("scope", "cannot grow a %llu-byte table: %s", (unsigned long long)old,
			  strerror(errno));
		abort();
	}
	if (a > r)
		munmap(r, (size_t)(a - r));
	if (r + nl + SCOPE_MEM_CHUNK > a + nl)
		munmap(a + nl, (size_t)(r + nl + SCOPE_MEM_CHUNK - (a + nl)));
	madvise(a, nl, MADV_HUGEPAGE);
	m->held += nl - ol;
	return a;
}

static uint64_t cap_for(uint64_t entries)
{
	uint64_t c = SCOPE_TAB_MIN;
	while (c * 7 / 10 < entries)
		c <<= 1;
	return c;
}

void scope_tab_init(struct scope_tab *t, uint32_t rsize, uint64_t max, struct scope_mem *mem)
{
	if (rsize > SCOPE_TAB_MAX_RECORD || rsize % 8) {
		log_error("scope", "bad table record size %u", rsize);
		abort();
	}
	memset(t, 0, sizeof(*t));
	t->mem = mem;
	t->rsize = rsize;
	t->max = max ? max : 1;
	lib_random(&t->seed0, sizeof(t->seed0));
	lib_random(&t->seed1, sizeof(t->seed1));
	t->seed1 |= 1;
	t->mask = SCOPE_TAB_MIN - 1;
	t->slots = scope_mem_alloc(mem, (uint64_t)SCOPE_TAB_MIN * rsize);
	t->high = SCOPE_TAB_MIN;
}

void scope_tab_free(struct scope_tab *t)
{
	scope_mem_free(t->mem, t->slots, (t->mask + 1) * t->rsize);
	t->slots = NULL;
}

uint64_t scope_tab_bytes(const struct scope_tab *t)
{
	return t->high * t->rsize;
}

/* Doubling in place: the slots grow (the records stay where they are), then every record is
 * moved to its place in the larger table. A record not yet moved is `pending` (a bit in
 * `pend`); one is placed at the first slot from its home that is free or pending, swapping
 * with a pending record, which is then placed in turn. A placed record never moves again and
 * every slot between its home and it holds a placed record, so lookups find it. (The way
 * hashbrown rehashes in place.) */
bool scope_tab_grow(struct scope_tab *t)
{
	uint64_t cap = t->mask + 1;
	if (t->count >= t->max || cap * 7 / 10 >= t->max)
		return false;
	uint64_t ncap = cap * 2, words = (ncap + 63) / 64;
	uint32_t rs = t->rsize;
	t->slots = scope_mem_grow(t->mem, t->slots, cap * rs, ncap * rs);
	t->mask = ncap - 1;
	if (ncap > t->high)
		t->high = ncap;
	uint64_t *pend = scope_mem_alloc(t->mem, words * 8);
	uint8_t tmp[SCOPE_TAB_MAX_RECORD];
	for (uint64_t i = 0; i < cap; i++) {
		uint64_t k;
		memcpy(&k, t->slots + i * rs, 8);
		if (k)
			pend[i >> 6] |= 1ull << (i & 63);
	}
	for (uint64_t i = 0; i < cap; i++) {
		while (pend[i >> 6] & 1ull << (i & 63)) {
			uint8_t *r = t->slots + i * rs;
			uint64_t k, j;
			memcpy(&k, r, 8);
			for (j = scope_tab_hash(t, k) & t->mask;; j = (j + 1) & t->mask) {
				uint64_t dk;
				memcpy(&dk, t->slots + j * rs, 8);
				if (!dk || (pend[j >> 6] & 1ull << (j & 63)))
					break;
			}
			pend[i >> 6] &= ~(1ull << (i & 63));
			if (j == i)
				break;
			uint8_t *d = t->slots + j * rs;
			uint64_t dk;
			memcpy(&dk, d, 8);
			if (!dk) {
				memcpy(d, r, rs);
				memset(r, 0, rs);
				break;
			}
			/* Swap with the pending record at j, which stays pending, now at i. */
			memcpy(tmp, d, rs);
			memcpy(d, r, rs);
			memcpy(r, tmp, rs);
			pend[i >> 6] |= 1ull << (i & 63);
			pend[j >> 6] &= ~(1ull << (j & 63));
		}
	}
	scope_mem_free(t->mem, pend, words * 8);
	return true;
}

void scope_tab_clear(struct scope_tab *t)
{
	if (!t->count)
		return;
	uint64_t cap = t->mask + 1, want = cap_for(t->count);
	if (want == cap) {
		memset(t->slots, 0, cap * t->rsize);
		t->count = 0;
		return;
	}
	scope_mem_free(t->mem, t->slots, cap * t->rsize);
	t->slots = scope_mem_alloc(t->mem, want * t->rsize);
	t->mask = want - 1;
	t->count = 0;
}

int scope_cidr_parse(const char *s, struct scope_cidr *out)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	memset(out, 0, sizeof(*out));
	long long prefix = -1;
	if (slash && (lib_parse_int(slash + 1, &prefix) || prefix < 0))
		return -EINVAL;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		if (prefix > 32)
			return -EINVAL;
		out->ver = 4;
		out->prefix = (uint8_t)(prefix < 0 ? 32 : prefix);
		uint32_t a = ntohl(a4.s_addr);
		uint32_t mask = out->prefix ? ~0u << (32 - out->prefix) : 0;
		out->v4 = a & mask;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (prefix > 128)
			return -EINVAL;
		out->ver = 6;
		out->prefix = (uint8_t)(prefix < 0 ? 128 : prefix);
		memcpy(out->v6, a6.s6_addr, 16);
		for (int i = out->prefix; i < 128; i++)
			out->v6[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
		return 0;
	}
	return -EINVAL;
}

static int range_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

void scope_dark_init(struct scope_dark *d, const struct scope_config *cfg)
{
	memset(d, 0, sizeof(*d));
	uint64_t r[SCOPE_MAX_DARKNETS][2];
	size_t n = 0;
	for (size_t i = 0; i < cfg->ndarknet; i++) {
		const struct scope_cidr *c = &cfg->darknet[i];
		if (c->ver == 4) {
			r[n][0] = c->v4;
			r[n][1] = (uint64_t)c->v4 + (1ull << (32 - c->prefix)) - 1;
			n++;
		} else if (d->n6 < SCOPE_MAX_DARKNETS) {
			d->v6[d->n6++] = *c;
		}
	}
	/* No --darknet: every destination is dark. A darknet of one family only: the other
	 * family has no dark space. */
	d->any4 = cfg->ndarknet == 0;
	d->any6 = cfg->ndarknet == 0;
	qsort(r, n, sizeof(r[0]), range_cmp);
	for (size_t i = 0; i < n; i++) {
		if (d->n && r[i][0] <= (uint64_t)d->end[d->n - 1] + 1) {
			if (r[i][1] > d->end[d->n - 1])
				d->end[d->n - 1] = (uint32_t)r[i][1];
			continue;
		}
		d->start[d->n] = (uint32_t)r[i][0];
		d->end[d->n] = (uint32_t)r[i][1];
		d->n++;
	}
	for (size_t i = 0; i < d->n; i++) {
		d->base[i] = d->size;
		d->size += (uint64_t)d->end[i] - d->start[i] + 1;
	}
}

bool scope_dark6(const struct scope_dark *d, const uint8_t a[16])
{
	if (d->any6)
		return true;
	for (size_t i = 0; i < d->n6; i++) {
		const struct scope_cidr *c = &d->v6[i];
		int full = c->prefix / 8, rest = c->prefix % 8;
		if (memcmp(a, c->v6, (size_t)full))
			continue;
		if (rest && ((a[full] ^ c->v6[full]) & (uint8_t)(0xff00u >> rest)))
			continue;
		return true;
	}
	return false;
}

uint64_t scope_peak_rss(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024;
}
