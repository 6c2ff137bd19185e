/* scope: the front (engine_int.h): what every packet adds to the open interval whatever its
 * source (packets, bytes, classes, packets per port, dark destinations hit, backscatter
 * packets), and the interval clock that closes intervals as packets (or, live, the wall clock)
 * pass their end. The run's totals are the sums of its intervals. */
#include "scope/engine_int.h"

#include <stdlib.h>

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
		scope_close_interval(e, e->ival + 1);
		e->ival++;
		open_interval(e, sec);
	} else if (sec < e->iv_start) {
		e->r.limits.late_packets++;
	}
}

/* The front's counters over a run of packets, kept in registers and added to the open interval
 * (front_flush) when the run ends or the interval closes. The run's totals are the sums of its
 * intervals (scope_close_interval). */
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

/* The darknet test of the front, with the one range of most darknets in locals. */
struct dark_test {
	const struct scope_dark *d;
	bool one;
	uint32_t start, span;
	uint64_t base;
	uint32_t *dpk;
};

/* Index of the packet's dark destination (-1: not dark; IPv6 dark addresses are all 0); the
 * address's packet counter is fetched, for it is touched at random. */
static inline int64_t dark_of(const struct dark_test *t, const struct scope_pkt *p)
{
	if (p->ipver != 4)
		return scope_dark6(t->d, p->dst6) ? 0 : -1;
	int64_t di;
	if (t->one) {
		uint32_t o = p->dst - t->start;
		di = o <= t->span ? (int64_t)(t->base + o) : -1;
	} else {
		di = scope_dark_index(t->d, p->dst);
	}
	if (t->dpk && di >= 0)
		__builtin_prefetch(&t->dpk[di], 1);
	return di;
}

/* Packets ahead of the one counted whose dark index is computed (and counter fetched). */
#define FRONT_AHEAD 8

void scope_front_run(struct scope_engine *e, const struct scope_pkt *pkts, size_t m)
{
	struct front_sum s;
	memset(&s, 0, sizeof(s));
	s.first = INT64_MAX;
	s.last = INT64_MIN;
	/* The open interval's bounds (none when closed: every packet moves the clock). */
	int64_t lo = e->open ? e->iv_start_ns : INT64_MAX, hi = e->open ? e->iv_end_ns : INT64_MIN;
	uint32_t *dpk = e->dpk;
	uint64_t *dhit = e->dhit;
	const struct dark_test dt = {
		.d = &e->dark,
		.one = !e->dark.any4 && e->dark.n == 1,
		.start = e->dark.start[0],
		.span = e->dark.end[0] - e->dark.start[0],
		.base = e->dark.base[0],
		.dpk = dpk,
	};
	int64_t ahead[FRONT_AHEAD];
	for (size_t i = 0; i < m && i < FRONT_AHEAD; i++)
		ahead[i] = dark_of(&dt, &pkts[i]);
	for (size_t i = 0; i < m; i++) {
		const int64_t di = ahead[i % FRONT_AHEAD];
		if (i + FRONT_AHEAD < m)
			ahead[i % FRONT_AHEAD] = dark_of(&dt, &pkts[i + FRONT_AHEAD]);
		const struct scope_pkt *p = &pkts[i];
		uint32_t len = p->len;
		if (di < 0) {
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
				uint64_t d = (uint64_t)di, bit = 1ull << (d & 63);
				s.hit += !dpk[d]++;
				uint64_t word =
					dhit[d >> 6]; /* no branch: first hits come at random */
				s.dark_hit += !(word & bit);
				dhit[d >> 6] = word | bit;
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

void scope_engine_tick(struct scope_engine *e, int64_t now_ns)
{
	if (e->open && floor_div(now_ns, 1000000000) >= e->iv_end) {
		/* The next packet opens the interval it belongs to (not before this one's end);
		 * interval numbers stay unique. */
		scope_close_interval(e, e->ival + 1);
		e->ival++;
		e->open = false;
		e->last_end = e->iv_end;
	}
}
