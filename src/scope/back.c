/* scope: the back's work on each packet, keyed by its source (engine_int.h). */
#include "scope/engine_int.h"

#include <stdlib.h>

uint64_t scope_key6(const uint8_t sipkey[16], const uint8_t a[16], uint32_t extra)
{
	uint8_t m[20];
	memcpy(m, a, 16);
	memcpy(m + 16, &extra, 4);
	uint64_t h = lib_siphash(m, sizeof(m), sipkey);
	return h ? h : 1;
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

void scope_back_init(struct back *b, const struct scope_config *cfg)
{
	memset(b, 0, sizeof(*b));
	b->cfg = cfg;
	scope_mem_init(&b->mem);
	scope_srctab_init(&b->src, cfg->max_sources, &b->mem);
	b->inline_pairs = cfg->scan_dests <= INL_SCANS_MAX;
	b->log[0].esize = b->log[1].esize = sizeof(struct clogent);
	b->log[LOG_WIDE].esize = sizeof(struct logent);
	b->scan_dests = cfg->scan_dests;
	scope_tab_init(&b->pair, sizeof(struct pair_rec), cfg->max_pairs, &b->mem);
	scope_tab_init(&b->victim, sizeof(struct victim_rec), cfg->max_victims, &b->mem);
	scope_tab_init(&b->scanner, sizeof(struct scanner_rec), cfg->max_scanners, &b->mem);
	scope_tab_init(&b->ivscan, sizeof(struct ivscan_rec), cfg->max_scanners, &b->mem);
	scope_tab_init(&b->asn, sizeof(struct asn_rec), 1000000, &b->mem);
	scope_tab_init(&b->iv_asn, sizeof(struct asn_rec), 1000000, &b->mem);
	scope_tab_init(&b->src6, sizeof(struct src6_rec), cfg->max_sources, &b->mem);
	scope_tab_init(&b->pair6, sizeof(struct src6_rec), cfg->max_pairs, &b->mem);
	scope_tab_init(&b->spill, sizeof(struct spill_rec), 1000000, &b->mem);
	lib_random(&b->setseed, sizeof(b->setseed));
	lib_random(b->sipkey, sizeof(b->sipkey));
	/* Plain pages for the port arrays: a few of their pages are touched in most runs. */
	b->iv_port_src = xcalloc(NPORTS, sizeof(uint32_t));
	b->run_port_src = xcalloc(NPORTS, sizeof(uint32_t));
}

void scope_back_free(struct back *b)
{
	scope_srctab_release(&b->src);
	struct scope_tab *tabs[] = {&b->pair,   &b->victim, &b->scanner, &b->ivscan, &b->asn,
				    &b->iv_asn, &b->src6,   &b->pair6,   &b->spill};
	for (size_t i = 0; i < LIB_ARRAY_LEN(tabs); i++)
		scope_tab_free(tabs[i]);
	scope_scan_free(b);
	scope_mem_free(&b->mem, b->ivsrc, b->capivsrc * sizeof(*b->ivsrc));
	free(b->iv_port_src);
	free(b->run_port_src);
	scope_mem_free(&b->mem, b->ring, RING * sizeof(*b->ring));
	free(b->attacks);
	scope_mem_release(&b->mem);
}

uint64_t scope_back_bytes(const struct back *b)
{
	return scope_srctab_bytes(&b->src) + scope_tab_bytes(&b->pair) + scope_scan_bytes(b) +
	       scope_tab_bytes(&b->victim) + scope_tab_bytes(&b->scanner) +
	       scope_tab_bytes(&b->ivscan) + scope_tab_bytes(&b->asn) +
	       scope_tab_bytes(&b->iv_asn) + scope_tab_bytes(&b->src6) +
	       scope_tab_bytes(&b->pair6) + scope_tab_bytes(&b->spill) + b->capivsrc * 4 +
	       2ull * NPORTS * 4 + b->capattacks * sizeof(struct scope_attack);
}

static void ivsrc_push(struct back *b, uint32_t a)
{
	if (b->nivsrc == b->capivsrc) {
		size_t cap = b->capivsrc ? b->capivsrc * 2 : 4096;
		uint32_t *n = scope_mem_alloc(&b->mem, cap * sizeof(*n));
		if (b->nivsrc)
			memcpy(n, b->ivsrc, b->nivsrc * sizeof(*n));
		scope_mem_free(&b->mem, b->ivsrc, b->capivsrc * sizeof(*n));
		b->ivsrc = n;
		b->capivsrc = cap;
	}
	b->ivsrc[b->nivsrc++] = a;
}

static void back_packet6(struct back *b, const struct scope_pkt *p)
{
	bool added;
	uint64_t k = scope_key6(b->sipkey, p->src6, 0);
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
	uint64_t pk = scope_key6(b->sipkey, p->src6, pidx + 1);
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
		c->os = (uint16_t)(m.label + 1);
		c->flags |= m.app ? SC_APP : 0;
		s->family = (uint8_t)m.family;
		s->flags |= SF_OSDONE;
	}
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
	s->family = (uint8_t)scope_family_from_ttl(ttl);
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
	/* Which inline pair: computed without a branch (a source's packets go to its ports in no
	 * order a branch predictor could learn); a new pair is the rare case. */
	const uint32_t want = pidx + 1;
	const uint32_t k = (s->inl[0] & INL_PIDX_MASK) != want;
	uint32_t *w = &s->inl[k];
	if (k & ((s->inl[1] & INL_PIDX_MASK) != want)) {
		if (s->inl[1]) {
			pair_packet(b, p, pidx);
			return;
		}
		w = !s->inl[0] ? &s->inl[0] : &s->inl[1];
		*w = want;
		b->run_port_src[pidx]++;
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
		scope_victim_packet(b, victim, bk, p);
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

void scope_back_run(struct back *b, const struct scope_pkt *const *ps, const uint32_t *kinds,
		    size_t n)
{
	/* The one-thread path (no kinds) and the workers' get their own copies of the loop. */
	if (kinds)
		back_pipeline(b, ps, kinds, n);
	else
		back_pipeline(b, ps, NULL, n);
}
