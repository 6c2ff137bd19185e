/* scope: the analysis engine's API (scope.h): creating it, feeding it decoded packets, freeing
 * it. engine_int.h describes the engine and the files it is made of. */
#include "scope/engine_int.h"

#include <errno.h>
#include <stdlib.h>

int scope_engine_new(struct scope_engine **out, const struct scope_config *cfg, int nthreads,
		     scope_interval_cb on_interval, void *arg)
{
	if (cfg->interval < 1 || nthreads < 1 || nthreads > SCOPE_MAX_THREADS)
		return -EINVAL;
	struct scope_engine *e = xcalloc(1, sizeof(*e));
	e->cfg = *cfg;
	scope_mem_init(&e->mem);
	scope_dark_init(&e->dark, &e->cfg);
	/* --threads N: the reading thread and N - 1 workers. */
	e->nb = nthreads > 1 ? nthreads - 1 : 1;
	e->threaded = nthreads > 1;
	e->on_interval = on_interval;
	e->arg = arg;
	e->b = xcalloc((size_t)e->nb, sizeof(*e->b));
	for (int i = 0; i < e->nb; i++) {
		scope_back_init(&e->b[i], &e->cfg);
		e->b[i].eng = e;
		e->b[i].dark = &e->dark;
		if (!e->dark.any4 && e->dark.size <= SCOPE_DIRECT_MAX)
			e->b[i].bitmap_words = (e->dark.size + 63) / 64;
	}
	lib_random(e->sipseed, sizeof(e->sipseed));
	lib_random(e->sipkey, sizeof(e->sipkey));
	if (!e->dark.any4 && e->dark.size <= SCOPE_DIRECT_MAX) {
		e->dpk = scope_mem_alloc(&e->mem, e->dark.size * sizeof(*e->dpk));
		e->dhit = scope_mem_alloc(&e->mem, (e->dark.size + 63) / 64 * sizeof(*e->dhit));
	}
	scope_tab_init(&e->dst, sizeof(struct dst_rec), cfg->max_dests, &e->mem);
	/* Plain pages for the port arrays: a few of their pages are touched in most runs. */
	e->run_port_pk = xcalloc(NPORTS, sizeof(uint64_t));
	e->iv_port_pk = xcalloc(NPORTS, sizeof(uint32_t));
	e->touched = xcalloc(NPORTS, sizeof(uint32_t));
	e->run_ports = xcalloc(NPORTS, sizeof(uint32_t));
	e->r.dark_size = e->dark.any4 ? 0 : e->dark.size;
	if (e->threaded)
		scope_threads_start(e);
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

/* The packets given are the caller's until the call returns: the one back runs what is queued;
 * the workers got copies, which are published. */
static void flush(struct scope_engine *e)
{
	if (!e->threaded) {
		scope_run_pending(e);
		return;
	}
	for (int k = 0; k < e->nb; k++)
		scope_ring_publish(&e->b[k]);
}

void scope_engine_packet(struct scope_engine *e, const struct scope_pkt *pkt)
{
	e->r.frames++;
	scope_front_run(e, pkt, 1);
	flush(e);
}

void scope_engine_batch(struct scope_engine *e, const struct scope_pkt *pkts, size_t n)
{
	e->r.frames += n;
	scope_front_run(e, pkts, n);
	flush(e);
}

void scope_engine_free(struct scope_engine *e)
{
	if (!e)
		return;
	scope_backs_finish(e);
	for (int i = 0; i < e->nb; i++)
		scope_back_free(&e->b[i]);
	free(e->b);
	if (e->dpk) {
		scope_mem_free(&e->mem, e->dpk, e->dark.size * sizeof(*e->dpk));
		scope_mem_free(&e->mem, e->dhit, (e->dark.size + 63) / 64 * sizeof(*e->dhit));
	}
	scope_tab_free(&e->dst);
	free(e->run_port_pk);
	free(e->iv_port_pk);
	free(e->touched);
	free(e->run_ports);
	for (size_t i = 0; i < e->nivs; i++) {
		free(e->ivs[i].ports);
		free(e->ivs[i].countries);
		free(e->ivs[i].asns);
	}
	free(e->ivs);
	free(e->iv.ports);
	scope_report_free(&e->r);
	scope_mem_release(&e->mem);
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
