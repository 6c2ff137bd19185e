/* core (internal): the `events` table and the `sessions` roll-up, written by the store's
 * writer for the bus (one job per batch of events). */
#ifndef MITSU_CORE_STORE_EVENTS_H
#define MITSU_CORE_STORE_EVENTS_H

#include "core/core.h"

/* Creates the tables (at the bus's open). */
int core_events_schema(struct core_store *st);
/* Stores evs[0..n) (each with its line) and rolls them up into `sessions`. Runs on the
 * writer's thread; reads the events, changes nothing in them. */
int core_events_store(struct core_tx *tx, struct core_ev *const *evs, size_t n);

#endif
