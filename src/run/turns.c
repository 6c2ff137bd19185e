/* core.loop_stats: how long the loop's turns take and what the long ones did. A turn's work is
 * the time from one prepare phase to the next less the time the loop slept in poll; it is
 * measured both as this thread's CPU time (which a busy machine does not inflate) and as wall
 * time (which also shows the loop waiting, e.g. for the store's writer). Turns at or over the
 * threshold are counted, and the longest ones are logged with their work (lib_work). */
#include "run/turns.h"

#include <stdio.h>
#include <string.h>

/* Bounds of the CPU-time histogram of turns, in milliseconds. */
static const unsigned turn_bounds_ms[RUN_TURN_BOUNDS] = {1, 5, 10, 25, 50};

#define WORK_FIELDS(X) \
	X(accepts) \
	X(evictions) \
	X(closes) \
	X(timers) \
	X(reads) \
	X(writes) \
	X(events) \
	X(flushed) \
	X(delivered) \
	X(waits) \
	X(wait_us)

static void work_sub(struct lib_loop_work *out, const struct lib_loop_work *a,
		     const struct lib_loop_work *b)
{
#define SUB(f) out->f = a->f - b->f;
	WORK_FIELDS(SUB)
#undef SUB
}

static void work_add(struct lib_loop_work *out, const struct lib_loop_work *a)
{
#define ADD(f) out->f += a->f;
	WORK_FIELDS(ADD)
#undef ADD
}

static void work_text(const struct lib_loop_work *w, char *out, size_t n)
{
	snprintf(out, n,
		 "accepts %llu, evictions %llu, closes %llu, timers %llu, reads %llu, writes "
		 "%llu, events %llu, flushed %llu, delivered %llu, store waits %llu (%.1f ms)",
		 (unsigned long long)w->accepts, (unsigned long long)w->evictions,
		 (unsigned long long)w->closes, (unsigned long long)w->timers,
		 (unsigned long long)w->reads, (unsigned long long)w->writes,
		 (unsigned long long)w->events, (unsigned long long)w->flushed,
		 (unsigned long long)w->delivered, (unsigned long long)w->waits,
		 (double)w->wait_us / 1000.0);
}

static void on_prepare(uv_prepare_t *h)
{
	struct run_turns *t = h->data;
	uint64_t wall = lib_mono_us(), cpu = lib_thread_cpu_us();
	uint64_t idle = uv_metrics_idle_time(h->loop) / 1000u;
	struct lib_loop_work w;
	work_sub(&w, &lib_work, &t->last);
	uint64_t dwall = wall - t->last_wall, didle = idle - t->last_idle;
	uint64_t busy = dwall > didle ? dwall - didle : 0, dcpu = cpu - t->last_cpu;
	t->turns++;
	for (int i = 0; i < RUN_TURN_BOUNDS; i++)
		if (dcpu >= turn_bounds_ms[i] * 1000u)
			t->cpu_over[i]++;
	if (dcpu >= t->threshold_us || busy >= t->threshold_us) {
		t->long_turns++;
		t->long_cpu_us += dcpu;
		work_add(&t->long_work, &w);
	}
	if (dcpu > t->worst_cpu.cpu_us)
		t->worst_cpu = (struct run_turn){.cpu_us = dcpu, .wall_us = busy, .work = w};
	if (busy > t->worst_wall.wall_us)
		t->worst_wall = (struct run_turn){.cpu_us = dcpu, .wall_us = busy, .work = w};
	t->last_wall = wall;
	t->last_cpu = cpu;
	t->last_idle = idle;
	t->last = lib_work;
}

void run_turns_start(struct run_turns *t, uv_loop_t *loop, uint64_t threshold_ms)
{
	memset(t, 0, sizeof(*t));
	if (!threshold_ms)
		return;
	t->on = true;
	t->threshold_us = threshold_ms * 1000u;
	uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
	uv_prepare_init(loop, &t->prep);
	t->prep.data = t;
	uv_prepare_start(&t->prep, on_prepare);
	uv_unref((uv_handle_t *)&t->prep);
	t->last_wall = lib_mono_us();
	t->last_cpu = lib_thread_cpu_us();
	t->last = lib_work;
}

void run_turns_stop(struct run_turns *t)
{
	if (!t->on)
		return;
	t->on = false;
	uv_close((uv_handle_t *)&t->prep, NULL);
	char a[512], b[512], c[512];
	log_info("run",
		 "loop: %llu turns; turns of CPU >= 1/5/10/25/50 ms: %llu/%llu/%llu/%llu/%llu; "
		 "%llu turns >= %llu ms (CPU or wall), %.1f ms CPU in all",
		 (unsigned long long)t->turns, (unsigned long long)t->cpu_over[0],
		 (unsigned long long)t->cpu_over[1], (unsigned long long)t->cpu_over[2],
		 (unsigned long long)t->cpu_over[3], (unsigned long long)t->cpu_over[4],
		 (unsigned long long)t->long_turns, (unsigned long long)(t->threshold_us / 1000u),
		 (double)t->long_cpu_us / 1000.0);
	work_text(&t->worst_cpu.work, a, sizeof(a));
	work_text(&t->worst_wall.work, b, sizeof(b));
	work_text(&t->long_work, c, sizeof(c));
	log_info("run", "loop: longest turn by CPU %.1f ms (wall %.1f ms): %s",
		 (double)t->worst_cpu.cpu_us / 1000.0, (double)t->worst_cpu.wall_us / 1000.0, a);
	log_info("run", "loop: longest turn by wall %.1f ms (CPU %.1f ms): %s",
		 (double)t->worst_wall.wall_us / 1000.0, (double)t->worst_wall.cpu_us / 1000.0, b);
	log_info("run", "loop: the long turns did in all: %s", c);
}
