/* scope: DoS backscatter (engine_int.h), as Corsaro's RS DoS plug-in counts it: a packet that
 * answers a spoofed one (SYN+ACK, RST, ICMP replies and errors) names a victim; a victim's
 * packets form an attack until it is silent for dos_timeout seconds, and an attack is kept when
 * it has at least dos_packets packets, lasts dos_seconds and peaks at dos_ppm packets a minute
 * (a 60-second window sliding by 10 s). Victims are keyed by address, so they are owned by the
 * back their address hashes to (threads.c). */
#include "scope/engine_int.h"

#include <stdlib.h>

/* Ends a victim's attack vector: kept if it passes the thresholds. */
void scope_victim_end(struct back *b, struct victim_rec *v)
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

void scope_victim_packet(struct back *b, uint32_t victim, uint32_t kind, const struct scope_pkt *p)
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
		scope_victim_end(b, v);
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

static int cmp_attack(const void *a, const void *b)
{
	const struct scope_attack *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

void scope_dos_finish(struct scope_engine *e, struct scope_report *r)
{
	for (int k = 0; k < e->nb; k++) {
		struct back *b = &e->b[k];
		for (uint8_t *p = NULL; (p = scope_tab_next(&b->victim, p));)
			scope_victim_end(b, (struct victim_rec *)p);
		r->backscatter_victims_all += b->victim.count;
		r->attacks_total += b->attacks_total;
		r->limits.attacks_full += b->limits.attacks_full;
	}
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
}
