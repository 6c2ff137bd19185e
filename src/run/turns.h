/* core.loop_stats: the loop's long turns and their work, logged when `mitsu run` stops. */
#ifndef MITSU_RUN_TURNS_H
#define MITSU_RUN_TURNS_H

#include "core/core.h"

/* Bounds of the histogram of turns by CPU time (turns.c). */
#define RUN_TURN_BOUNDS 5

struct run_turn {
	uint64_t cpu_us, wall_us;
	struct lib_loop_work work;
};

struct run_turns {
	bool on;
	uv_prepare_t prep;
	uint64_t threshold_us;
	uint64_t last_wall, last_cpu, last_idle;
	struct lib_loop_work last;
	uint64_t turns, long_turns, long_cpu_us;
	uint64_t cpu_over[RUN_TURN_BOUNDS];
	struct lib_loop_work long_work;
	struct run_turn worst_cpu, worst_wall;
};

/* Starts measuring turns of at least threshold_ms (0: nothing is measured). */
void run_turns_start(struct run_turns *t, uv_loop_t *loop, uint64_t threshold_ms);
/* Logs what was measured and closes the handle. */
void run_turns_stop(struct run_turns *t);

#endif
