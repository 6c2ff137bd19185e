/* scope: scanners (engine_int.h). A (source, protocol, port) pair is a scanner in an interval
 * when it reached scan_dests distinct dark addresses. Below scan_dests scan packets a pair's
 * packets go to the sequential scan log; from then on it is a candidate with its own set of
 * destinations (an open-addressing set, or a bitmap over the dark addresses), and at the
 * interval's end the log is replayed for the candidates only (see pair_rec in engine_int.h). */
#include "scope/engine_int.h"

#include <stdlib.h>

/* Points `at` and `end` at the room left in the log's current chunk, allocating the chunk if
 * needed. */
void scope_log_room(struct scanlog *l, struct scope_mem *mem)
{
	size_t per = LOG_CHUNK_BYTES / l->esize, c = l->n / per;
	if (c == l->nchunks) {
		l->chunk = xrealloc(l->chunk, (l->nchunks + 1) * sizeof(*l->chunk));
		l->chunk[l->nchunks++] = scope_mem_alloc(mem, LOG_CHUNK_BYTES);
	}
	l->at = l->chunk[c] + (l->n % per) * l->esize;
	l->end = l->chunk[c] + per * l->esize;
}

void scope_log_new_run(struct scanlog *l, uint32_t sec)
{
	if (l->nruns == l->capruns) {
		l->capruns = l->capruns ? l->capruns * 2 : 4096;
		l->runs = xrealloc(l->runs, l->capruns * sizeof(*l->runs));
	}
	l->runs[l->nruns++] = (struct secrun){.at = l->n - 1, .sec = sec};
	l->last_sec = sec;
}

/* The class of a block of the arena's free lists: its size is 64 << class bytes; -1 for
 * other sizes. */
static int arena_class(size_t bytes)
{
	for (int k = 0; k < ARENA_CLASSES; k++)
		if (bytes == (size_t)64 << k)
			return k;
	return -1;
}

/* Zeroed memory from the interval's arena, or NULL past the scan budget (which counts every
 * block handed out, reused or not). */
static void *arena_get(struct back *b, size_t bytes)
{
	bytes = (bytes + 63) & ~(size_t)63;
	if (bytes > ARENA_CHUNK || b->arena_bytes + bytes > b->cfg->max_scan * 8)
		return NULL;
	int k = arena_class(bytes);
	if (k >= 0 && b->arena_free[k]) {
		void *p = b->arena_free[k];
		memcpy(&b->arena_free[k], p, sizeof(p));
		memset(p, 0, bytes);
		b->arena_bytes += bytes;
		return p;
	}
	if (!b->arena_used || b->arena_at + bytes > ARENA_CHUNK) {
		if (b->arena_used == b->narena) {
			b->arena = xrealloc(b->arena, (b->narena + 1) * sizeof(*b->arena));
			b->arena[b->narena++] = scope_mem_alloc(&b->mem, ARENA_CHUNK);
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

/* An outgrown set, for the next set of its size. */
static void arena_put(struct back *b, void *p, size_t bytes)
{
	int k = arena_class(bytes);
	if (k < 0)
		return;
	memcpy(p, &b->arena_free[k], sizeof(p));
	b->arena_free[k] = p;
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
		arena_put(b, c->set, (size_t)c->setcap * 4);
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
	arena_put(b, old, (size_t)ocap * 4);
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

/* A scan packet of a pair that reached scan_dests scan packets: its candidate record (created
 * with the first of them) and destination set. */
void scope_scan_candidate(struct back *b, uint64_t pk, uint32_t dst, uint32_t sec, uint32_t *scans)
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

static int cmp_scanner(const void *a, const void *b)
{
	const struct scope_scanner *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->port - y->port;
}

void scope_scan_close(struct back *b)
{
	/* Replay the log for the candidates, then keep those that qualified. */
#if defined(__x86_64__)
	_mm_sfence();
#endif
	if (b->ivscan.count)
		for (int k = 0; k < 3; k++)
			log_replay(b, k);
	for (uint8_t *p = NULL; (p = scope_tab_next(&b->ivscan, p));) {
		struct ivscan_rec *q = (struct ivscan_rec *)p;
		if (q->dests < b->cfg->scan_dests)
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
	memset(b->cand_filter, 0, sizeof(b->cand_filter));
	b->arena_used = 0;
	b->arena_at = 0;
	b->arena_bytes = 0;
	memset(b->arena_free, 0, sizeof(b->arena_free));
	b->nlog = 0;
	for (int k = 0; k < 3; k++) {
		b->log[k].n = 0;
		b->log[k].at = b->log[k].end = NULL;
		b->log[k].nruns = 0;
	}
}

void scope_scan_free(struct back *b)
{
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < b->log[k].nchunks; i++)
			scope_mem_free(&b->mem, b->log[k].chunk[i], LOG_CHUNK_BYTES);
		free(b->log[k].chunk);
		free(b->log[k].runs);
	}
	for (size_t i = 0; i < b->narena; i++)
		scope_mem_free(&b->mem, b->arena[i], ARENA_CHUNK);
	free(b->arena);
}

uint64_t scope_scan_bytes(const struct back *b)
{
	uint64_t n = b->narena * (uint64_t)ARENA_CHUNK;
	for (int k = 0; k < 3; k++)
		n += b->log[k].nchunks * (uint64_t)LOG_CHUNK_BYTES +
		     b->log[k].capruns * sizeof(struct secrun);
	return n;
}

void scope_scan_finish(struct scope_engine *e, struct scope_report *r)
{
	for (int k = 0; k < e->nb; k++)
		r->scanners_total += e->b[k].scanner.count;
	r->scanners = xcalloc(r->scanners_total + 1, sizeof(*r->scanners));
	size_t ns = 0;
	for (int k = 0; k < e->nb; k++) {
		struct back *b = &e->b[k];
		struct scope_tab seen;
		scope_tab_init(&seen, 8, b->scanner.count + 1, &e->mem);
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
}
