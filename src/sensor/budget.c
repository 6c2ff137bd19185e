/* Sensor-wide budgets of what sessions hold (attacker files, shell memory). Each session's own
 * limits (limits.vfs_bytes...) times limits.max_sessions is far more than one machine has; these
 * bound the sum. The session that gives way is the one holding the most (among equals, the least
 * recently active), so a peer that hoards loses its own session and nobody else's. */
#include "sensor/sensor_int.h"

static const enum sensor_close_reason budget_reason[SENSOR_BUDGETS] = {
	[SENSOR_BUDGET_FILES] = SENSOR_CLOSE_FILE_BUDGET,
	[SENSOR_BUDGET_MEMORY] = SENSOR_CLOSE_MEMORY_BUDGET,
};

/* The live session holding the most of budget b; they are listed most recently active first,
 * so `>=` keeps the least recently active among equals. */
static struct sensor_session *largest(struct sensor *sn, enum sensor_budget b)
{
	struct sensor_session *best = NULL;
	for (struct sensor_session *s = sn->sessions; s; s = s->next)
		if (s->held[b] && (!best || s->held[b] >= best->held[b]))
			best = s;
	return best;
}

bool sensor_session_account(struct sensor_session *s, enum sensor_budget b, long long delta)
{
	struct sensor *sn = s->sensor;
	struct sensor_budget_state *st = &sn->budgets[b];
	/* Unsigned arithmetic: a release (delta < 0) wraps back to the smaller total. */
	s->held[b] += (uint64_t)delta;
	st->held += (uint64_t)delta;
	if (s->closing) {
		st->leaving += (uint64_t)delta;
		return true;
	}
	if (delta <= 0)
		return true;
	bool stay = true;
	while (st->held - st->leaving > sn->limits.budget[b]) {
		struct sensor_session *victim = largest(sn, b);
		if (!victim)
			break;
		sn->stats.gave_way[b]++;
		sensor_session_close(victim, budget_reason[b]);
		if (victim == s)
			stay = false;
	}
	return stay;
}

void sensor_budget_leave(struct sensor_session *s)
{
	for (int b = 0; b < SENSOR_BUDGETS; b++)
		s->sensor->budgets[b].leaving += s->held[b];
}

void sensor_budget_release(struct sensor_session *s)
{
	/* What the module did not release itself (it should have) leaves with the session. */
	for (int b = 0; b < SENSOR_BUDGETS; b++) {
		s->sensor->stats.unreleased[b] += s->held[b] != 0;
		s->sensor->budgets[b].held -= s->held[b];
		s->sensor->budgets[b].leaving -= s->held[b];
		s->held[b] = 0;
	}
}
