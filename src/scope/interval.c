/* scope: an interval's end (engine_int.h). Each back closes its sources of the interval: their
 * labels for the interval, and their country and AS number (looked up once, the first time a
 * source's interval closes); then the front sums the backs' counts into the interval's row:
 * ports (packets from the front, sources from the backs), sources, labels, OS families,
 * countries and AS rows. */
#include "scope/engine_int.h"

#include <stdlib.h>

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

/* The labels of a source at the end of an interval, from its SYN counters (and what spilled
 * from them), and its OS family's count. */
static void source_labels(struct back *b, const struct src_rec *s, struct src_cold *sc, uint16_t cc)
{
	uint64_t syn = ctr_get(s->iv_ctr, CTR_SYN), mirai = ctr_get(s->iv_ctr, CTR_MIRAI),
		 zmap = ctr_get(s->iv_ctr, CTR_ZMAP), masscan = ctr_get(s->iv_ctr, CTR_MASSCAN);
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
	if (!syn)
		return;
	b->iv_families[s->family]++;
	if (label_holds(mirai, syn, LABEL_MIN_MIRAI)) {
		b->iv_cc[cc][2]++;
		label_source(sc, SC_MIRAI, mirai, &b->mirai, &b->iv_mirai);
	}
	if (label_holds(zmap, syn, LABEL_MIN_TOOL))
		label_source(sc, SC_ZMAP, zmap, &b->zmap, &b->iv_zmap);
	if (label_holds(masscan, syn, LABEL_MIN_TOOL))
		label_source(sc, SC_MASSCAN, masscan, &b->masscan, &b->iv_masscan);
}

/* A source of the closing interval: its country and AS (looked up the first time it closes),
 * its packets in the country and AS rows, its labels. */
static void source_closes(struct back *b, struct src_rec *s)
{
	const struct scope_config *cfg = b->cfg;
	struct src_cold *sc = srctab_cold(&b->src, s);
	s->flags &= (uint8_t)~SF_ACTIVE;
	bool first = !(sc->flags & SC_GEO);
	if (first) {
		sc->flags |= SC_GEO;
		if (cfg->geo)
			scope_geo_lookup(cfg->geo, s->addr, &sc->cc, &sc->asn);
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
	struct asn_rec *ia = scope_tab_put(&b->iv_asn, ak, scope_tab_hash(&b->iv_asn, ak), &added);
	if (ia) {
		ia->sources++;
		ia->packets += s->ival_pkts;
	}
	source_labels(b, s, sc, cc);
}

/* The interval's sources in address order (a radix sort, a byte a pass): their countries and AS
 * numbers are then looked up in increasing order, which walks the geolocation table forwards
 * instead of missing the cache at every lookup. The order of the closes changes no count. */
static void sort_sources(struct back *b)
{
	size_t n = b->nivsrc;
	uint32_t *a = b->ivsrc, *t = scope_mem_alloc(&b->mem, n * sizeof(*t));
	for (int shift = 0; shift < 32; shift += 8) {
		size_t at[257] = {0};
		for (size_t i = 0; i < n; i++)
			at[((a[i] >> shift) & 255) + 1]++;
		for (int k = 0; k < 256; k++)
			at[k + 1] += at[k];
		for (size_t i = 0; i < n; i++)
			t[at[(a[i] >> shift) & 255]++] = a[i];
		uint32_t *x = a;
		a = t;
		t = x;
	}
	/* Four passes: the sorted addresses are back in b->ivsrc. */
	scope_mem_free(&b->mem, t, n * sizeof(*t));
}

void scope_back_close(struct back *b, uint32_t next)
{
	if (b->cfg->geo && b->nivsrc > 1)
		sort_sources(b);
	for (size_t i = 0; i < b->nivsrc; i++) {
		if (i + 16 < b->nivsrc) {
			uint64_t h = srctab_hash(&b->src, b->ivsrc[i + 16]);
			srctab_prefetch(&b->src, h);
			__builtin_prefetch(&b->src.cold[h & b->src.mask & ~1ull], 1);
		}
		struct src_rec *s =
			srctab_find(&b->src, b->ivsrc[i], srctab_hash(&b->src, b->ivsrc[i]));
		if (s)
			source_closes(b, s);
	}
	scope_scan_close(b);
	scope_tab_clear(&b->spill);
	b->nivsrc = 0;
	b->ival = next;
}

/* Clears the back's per-interval counters once the front has read them. */
void scope_back_reset_interval(struct back *b)
{
	b->iv_sources = b->iv_scanners = b->iv_victims = 0;
	b->iv_mirai = b->iv_zmap = b->iv_masscan = (struct scope_count){0};
	memset(b->iv_families, 0, sizeof(b->iv_families));
	memset(b->iv_cc, 0, sizeof(b->iv_cc));
	scope_tab_clear(&b->iv_asn);
}

int scope_cmp_port(const void *a, const void *b)
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
struct scope_country *scope_countries_of(struct scope_engine *e, bool interval, size_t *n)
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

/* Sifts a[r] down the heap a[0..keep) whose root is its worst row (cmp_asn order). */
static void asn_sift(struct scope_asn *a, size_t keep, size_t r)
{
	for (;;) {
		size_t c = 2 * r + 1;
		if (c >= keep)
			break;
		if (c + 1 < keep && cmp_asn(&a[c + 1], &a[c]) > 0)
			c++;
		if (cmp_asn(&a[c], &a[r]) <= 0)
			break;
		struct scope_asn t = a[r];
		a[r] = a[c];
		a[c] = t;
		r = c;
	}
}

/* The rows of an AS table (asn + 1 keys) into out: all of them, or with `keep` the `keep` first
 * in cmp_asn order (unordered: a heap of the best rows seen, its worst at the root), so that
 * out needs room for `keep` rows only. */
static size_t asn_rows(const struct scope_tab *t, struct scope_asn *out, size_t keep)
{
	size_t cnt = 0;
	for (uint8_t *r = NULL; (r = scope_tab_next(t, r));) {
		const struct asn_rec *a = (const struct asn_rec *)r;
		struct scope_asn row = {.asn = (uint32_t)(a->key - 1),
					.sources = a->sources,
					.packets = a->packets};
		if (!keep || cnt < keep) {
			out[cnt++] = row;
			continue;
		}
		if (cnt == keep) { /* the first row past keep: heapify */
			for (size_t k = keep / 2; k-- > 0;)
				asn_sift(out, keep, k);
			cnt++;
		}
		if (cmp_asn(&row, &out[0]) >= 0)
			continue;
		out[0] = row;
		asn_sift(out, keep, 0);
	}
	return keep && cnt > keep ? keep : cnt;
}

/* AS rows from the backs' tables (interval or run), most sources first, at most `keep`. */
struct scope_asn *scope_asns_of(struct scope_engine *e, bool interval, size_t keep, size_t *n)
{
	*n = 0;
	if (!e->cfg.geo)
		return NULL;
	struct scope_tab merged;
	const struct scope_tab *t = interval ? &e->b[0].iv_asn : &e->b[0].asn;
	if (e->nb > 1) {
		/* Every back has its sources' AS numbers: one table of the sums. */
		scope_tab_init(&merged, sizeof(struct asn_rec), 10000000, &e->mem);
		for (int i = 0; i < e->nb; i++) {
			const struct scope_tab *bt = interval ? &e->b[i].iv_asn : &e->b[i].asn;
			for (uint8_t *r = NULL; (r = scope_tab_next(bt, r));) {
				const struct asn_rec *a = (const struct asn_rec *)r;
				bool added;
				struct asn_rec *m = scope_tab_put(
					&merged, a->key, scope_tab_hash(&merged, a->key), &added);
				if (m) {
					m->sources += a->sources;
					m->packets += a->packets;
				}
			}
		}
		t = &merged;
	}
	size_t room = keep && keep < t->count ? keep : t->count;
	struct scope_asn *out = xcalloc(room + 1, sizeof(*out));
	size_t cnt = asn_rows(t, out, keep);
	if (e->nb > 1)
		scope_tab_free(&merged);
	qsort(out, cnt, sizeof(*out), cmp_asn);
	*n = cnt;
	return out;
}

/* The interval's ports: packets from the front, sources from the backs (both counters are
 * cleared for the next interval), most packets first, cut to interval_ports (Telnet's ports
 * stay listed). */
static void interval_ports(struct scope_engine *e, struct scope_interval *iv)
{
	struct scope_port *ports = xcalloc(e->ntouched + 1, sizeof(*ports));
	size_t np = 0;
	for (size_t i = 0; i < e->ntouched; i++) {
		uint32_t idx = e->touched[i];
		if (!(e->run_port_seen[idx >> 6] & 1ull << (idx & 63))) { /* its first interval */
			e->run_port_seen[idx >> 6] |= 1ull << (idx & 63);
			e->run_ports[e->nrun_ports++] = idx;
		}
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
	qsort(ports, np, sizeof(*ports), scope_cmp_port);
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
}

/* The backs' counts of the interval: sources, scanners, victims, labels, OS families. */
static void interval_sums(struct scope_engine *e, struct scope_interval *iv)
{
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
}

void scope_close_interval(struct scope_engine *e, uint32_t next)
{
	scope_backs_close(e, next);
	struct scope_interval *iv = &e->iv;
	iv->start = e->iv_start;
	/* Telnet: the SYNs to 23 and 2323, from the port counters. */
	iv->telnet = e->iv_port_pk[port_index(SCOPE_PT_SYN, 23)] +
		     e->iv_port_pk[port_index(SCOPE_PT_SYN, 2323)];
	interval_ports(e, iv);
	interval_sums(e, iv);
	iv->countries = scope_countries_of(e, true, &iv->ncountries);
	iv->asns = scope_asns_of(e, true, e->cfg.interval_asns, &iv->nasns);
	for (int k = 0; k < e->nb; k++)
		scope_back_reset_interval(&e->b[k]);
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
