/* scope: how packets reach the backs (engine_int.h). With one thread the front queues them
 * (pointers into the caller's batch) and runs the back on each full queue. With --threads N
 * the reading thread is the front and N - 1 workers are the backs: each has a ring of packet
 * copies written by the front only and read by its worker only; a packet goes to the worker
 * that owns its source, and a backscatter packet also to the one that owns its victim. An
 * interval closes when every worker has drained its ring up to the close message. */
#include "scope/engine_int.h"

#include <stdlib.h>
#include <time.h>

/* Waiting for the other side of a ring: spin briefly (it is usually a few hundred
 * nanoseconds away), then sleep in short steps rather than burn a core another thread needs. */
static void ring_wait(int *spins)
{
	if (++*spins < 200) {
#if defined(__x86_64__)
		_mm_pause();
#endif
		return;
	}
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 20000};
	nanosleep(&ts, NULL);
}

/* A worker: runs its back on what the front wrote into its ring. */
static void *back_thread(void *arg)
{
	struct back *b = arg;
	const struct scope_pkt *ps[CHUNK * 8];
	uint32_t kinds[CHUNK * 8];
	for (;;) {
		uint64_t tail = atomic_load_explicit(&b->tail, memory_order_relaxed);
		uint64_t head;
		int spins = 0;
		while ((head = atomic_load_explicit(&b->head, memory_order_acquire)) == tail)
			ring_wait(&spins);
		size_t n = 0;
		bool stop = false;
		while (tail < head && n < LIB_ARRAY_LEN(ps)) {
			struct msg *m = &b->ring[tail % RING];
			if (m->kind & (MSG_CLOSE | MSG_FINISH)) {
				scope_back_run(b, ps, kinds, n);
				n = 0;
				if (m->kind & MSG_CLOSE) {
					uint32_t next = m->ival;
					scope_back_close(b, next);
					atomic_store_explicit(&b->closed, (int)next,
							      memory_order_release);
				} else {
					stop = true;
				}
				tail++;
				break;
			}
			ps[n] = &m->pkt;
			kinds[n] = m->kind;
			n++;
			tail++;
		}
		scope_back_run(b, ps, kinds, n);
		atomic_store_explicit(&b->tail, tail, memory_order_release);
		if (stop)
			return NULL;
	}
}

/* The front writes entries at `wr` and publishes them (head) every RING_PUBLISH entries or at
 * a flush, so that the shared counters bounce between cores rarely. */
#define RING_PUBLISH 32
void scope_ring_publish(struct back *b)
{
	if (b->wr != atomic_load_explicit(&b->head, memory_order_relaxed))
		atomic_store_explicit(&b->head, b->wr, memory_order_release);
}

static void ring_push(struct back *b, const struct scope_pkt *p, uint32_t kind, uint32_t ival)
{
	int spins = 0;
	while (b->wr - b->tail_seen >= RING) {
		scope_ring_publish(b);
		b->tail_seen = atomic_load_explicit(&b->tail, memory_order_acquire);
		if (b->wr - b->tail_seen >= RING)
			ring_wait(&spins);
	}
	struct msg *m = &b->ring[b->wr % RING];
	if (p) {
		m->pkt = *p;
		/* The frame the signature is in is the reader's: the worker gets it computed. */
		if (p->flags & SCOPE_PF_LAZY) {
			scope_pkt_sig(p, &m->pkt.sig);
			m->pkt.flags &= (uint8_t)~SCOPE_PF_LAZY;
		}
	}
	m->kind = kind;
	m->ival = ival;
	b->wr++;
	if (!(b->wr % RING_PUBLISH) || (kind & (MSG_CLOSE | MSG_FINISH)))
		scope_ring_publish(b);
}

static inline uint32_t owner(const struct scope_engine *e, uint32_t addr)
{
	return (uint32_t)(mix64((uint64_t)addr ^ e->sipseed[0]) % (uint64_t)e->nb);
}

void scope_dispatch_threaded(struct scope_engine *e, const struct scope_pkt *p)
{
	uint32_t o;
	if (p->ipver == 6) {
		o = (uint32_t)(scope_key6(e->sipkey, p->src6, 0) % (uint64_t)e->nb);
		ring_push(&e->b[o], p, 0, 0);
		return;
	}
	o = owner(e, p->src);
	uint32_t victim, kind;
	bool known;
	if (maybe_backscatter(p) && backscatter(p, &victim, &kind, &known) && known &&
	    victim != p->src) {
		uint32_t vo = owner(e, victim);
		if (vo != o) {
			ring_push(&e->b[o], p, MSG_NO_VICTIM, 0);
			ring_push(&e->b[vo], p, MSG_VICTIM_ONLY, 0);
			return;
		}
	}
	ring_push(&e->b[o], p, 0, 0);
}

void scope_run_pending(struct scope_engine *e)
{
	if (e->npend) {
		scope_back_run(&e->b[0], e->pend, NULL, e->npend);
		e->npend = 0;
	}
}

/* Runs what is pending and makes every back close the interval (and open `next`). */
void scope_backs_close(struct scope_engine *e, uint32_t next)
{
	if (!e->threaded) {
		scope_run_pending(e);
		scope_back_close(&e->b[0], next);
		return;
	}
	for (int i = 0; i < e->nb; i++)
		ring_push(&e->b[i], NULL, MSG_CLOSE, next);
	for (int i = 0; i < e->nb; i++) {
		int spins = 0;
		while (atomic_load_explicit(&e->b[i].closed, memory_order_acquire) != (int)next)
			ring_wait(&spins);
	}
}

void scope_backs_finish(struct scope_engine *e)
{
	if (e->threaded) {
		for (int i = 0; i < e->nb; i++)
			ring_push(&e->b[i], NULL, MSG_FINISH, 0);
		for (int i = 0; i < e->nb; i++)
			pthread_join(e->b[i].thread, NULL);
		e->threaded = false;
	} else {
		scope_run_pending(e);
	}
}

void scope_threads_start(struct scope_engine *e)
{
	for (int i = 0; i < e->nb; i++) {
		struct back *b = &e->b[i];
		b->ring = scope_mem_alloc(&b->mem, RING * sizeof(*b->ring));
		if (pthread_create(&b->thread, NULL, back_thread, b)) {
			log_error("scope", "cannot start worker thread %d", i);
			abort();
		}
	}
}
