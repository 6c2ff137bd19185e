/* scope: the end of a run (engine_int.h): the report, from the front's counters and the sums
 * over the backs. Every per-source count is a plain sum: each source belongs to one back. */
#include "scope/engine_int.h"

#include <stdlib.h>

static int cmp_os(const void *a, const void *b)
{
	const struct scope_label_os *x = a, *y = b;
	if (x->sources != y->sources)
		return x->sources < y->sources ? 1 : -1;
	if (x->app != y->app)
		return x->app - y->app;
	return x->label - y->label;
}

/* The busiest dark address (ties to the lowest). */
static void finish_dark(struct scope_engine *e, struct scope_report *r)
{
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
		return;
	}
	for (uint8_t *p = NULL; (p = scope_tab_next(&e->dst, p));) {
		struct dst_rec *d = (struct dst_rec *)p;
		uint32_t addr = (uint32_t)(d->key - 1);
		/* Ties go to the lowest address, as in the flat array (not to the table's seeded
		 * order). */
		if (d->pkts > r->dark_max_packets ||
		    (d->pkts == r->dark_max_packets && addr < r->dark_max_addr)) {
			r->dark_max_packets = d->pkts;
			r->dark_max_addr = addr;
		}
	}
}

/* Every port of the run (each closed interval listed its new ones): packets from the front,
 * sources from the backs. */
static void finish_ports(struct scope_engine *e, struct scope_report *r)
{
	r->ports = xcalloc(e->nrun_ports + 1, sizeof(*r->ports));
	for (size_t j = 0; j < e->nrun_ports; j++) {
		uint32_t i = e->run_ports[j];
		uint64_t src = 0;
		for (int k = 0; k < e->nb; k++)
			src += e->b[k].run_port_src[i];
		r->ports[r->nports++] = (struct scope_port){.pt = (uint8_t)(i >> 16),
							    .port = (uint16_t)i,
							    .packets = e->run_port_pk[i],
							    .sources = src};
	}
	qsort(r->ports, r->nports, sizeof(*r->ports), scope_cmp_port);
}

/* Countries and AS numbers of the run, with Mirai sources per country (every source has its
 * country once its intervals closed). */
static void finish_geo(struct scope_engine *e, struct scope_report *r)
{
	for (int k = 0; k < e->nb; k++) {
		const struct srctab *t = &e->b[k].src;
		for (uint64_t i = 0; i <= t->mask; i++)
			if ((t->rec[i].flags & SF_USED) && (t->cold[i].flags & SC_MIRAI))
				e->b[k].cc[t->cold[i].cc][2]++;
	}
	r->countries = scope_countries_of(e, false, &r->ncountries);
	r->asns = scope_asns_of(e, false, 0, &r->nasns);
}

/* Sources, labels and the bounds that were reached: sums over the backs. */
static void finish_sources(struct scope_engine *e, struct scope_report *r)
{
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
		struct scope_limits *l = &r->limits, *bl = &b->limits;
		l->sources_full += bl->sources_full;
		l->pairs_full += bl->pairs_full;
		l->scan_full += bl->scan_full;
		l->victims_full += bl->victims_full;
		l->scanners_full += bl->scanners_full;
		l->label_halvings += bl->label_halvings;
	}
	r->sources += r->sources6;
}

/* OS families and p0f labels of the SYN sources, most sources first. */
static void finish_os(struct scope_engine *e, struct scope_report *r)
{
	size_t nlabels = scope_p0f_nlabels(e->cfg.p0f);
	uint64_t *os = xcalloc(2 * nlabels + 1, sizeof(uint64_t)); /* [label][app] then "???" */
	for (int k = 0; k < e->nb; k++) {
		const struct srctab *t = &e->b[k].src;
		for (uint64_t i = 0; i <= t->mask; i++) {
			if (!(t->rec[i].flags & SF_SYN))
				continue;
			const struct src_cold *s = &t->cold[i];
			r->families[t->rec[i].family]++;
			if (s->os && (size_t)s->os <= nlabels)
				os[2 * (size_t)(s->os - 1) + ((s->flags & SC_APP) ? 1 : 0)]++;
			else
				os[2 * nlabels]++;
		}
	}
	r->os = xcalloc(2 * nlabels + 1, sizeof(*r->os));
	for (size_t i = 0; i < 2 * nlabels + 1; i++)
		if (os[i])
			r->os[r->nos++] = (struct scope_label_os){
				.label = i == 2 * nlabels ? -1 : (int)(i / 2),
				.app = i < 2 * nlabels && (i & 1),
				.sources = os[i]};
	free(os);
	qsort(r->os, r->nos, sizeof(*r->os), cmp_os);
}

/* Where the tables' memory is, with --log-level debug (docs/scope.md, "memory"). */
static void log_table_bytes(const struct scope_engine *e)
{
	if (log_get_level() > LOG_DEBUG)
		return;
	uint64_t src = 0, pair = 0, scan = 0, other = 0, ports = NPORTS * 16ull;
	for (int k = 0; k < e->nb; k++) {
		const struct back *b = &e->b[k];
		src += scope_srctab_bytes(&b->src) + b->capivsrc * 4;
		pair += scope_tab_bytes(&b->pair);
		scan += scope_scan_bytes(b);
		ports += 2ull * NPORTS * 4;
		other += scope_back_bytes(b) - scope_srctab_bytes(&b->src) - b->capivsrc * 4 -
			 scope_tab_bytes(&b->pair) - scope_scan_bytes(b) - 2ull * NPORTS * 4;
	}
	uint64_t dst = scope_tab_bytes(&e->dst) +
		       (e->dpk ? 4 * e->dark.size + (e->dark.size + 63) / 64 * 8 : 0);
	log_debug("scope",
		  "tables (MiB): sources %.1f, pairs %.1f, scan log %.1f, port counters %.1f, "
		  "destinations %.1f, the rest %.1f",
		  src / 1048576.0, pair / 1048576.0, scan / 1048576.0, ports / 1048576.0,
		  dst / 1048576.0, other / 1048576.0);
}

/* Memory held by the tables at the end (their high-water marks). */
static uint64_t table_bytes(const struct scope_engine *e)
{
	log_table_bytes(e);
	uint64_t bytes = scope_tab_bytes(&e->dst) +
			 (e->dpk ? 4 * e->dark.size + (e->dark.size + 63) / 64 * 8 : 0) +
			 NPORTS * 16ull;
	for (int k = 0; k < e->nb; k++)
		bytes += scope_back_bytes(&e->b[k]);
	return bytes;
}

void scope_engine_finish(struct scope_engine *e, struct scope_report *out)
{
	struct scope_report *r = &e->r;
	if (e->open) {
		/* The last interval: its backs close with the threads still running. */
		scope_close_interval(e, e->ival + 1);
		e->open = false;
	}
	scope_backs_finish(e);
	finish_dark(e, r);
	finish_ports(e, r);
	finish_geo(e, r);
	finish_sources(e, r);
	finish_os(e, r);
	scope_dos_finish(e, r);
	scope_scan_finish(e, r);
	r->intervals = e->ivs;
	r->nintervals = e->nivs;
	e->ivs = NULL;
	e->nivs = 0;
	r->table_bytes = table_bytes(e);
	*out = *r;
	memset(&e->r, 0, sizeof(e->r));
	scope_engine_free(e);
}
