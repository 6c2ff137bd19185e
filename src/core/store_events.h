/* core (internal): the `events` table and the `sessions` roll-up, written by the store's
 * writer for the bus (one job per batch of events). */
#ifndef MITSU_CORE_STORE_EVENTS_H
#define MITSU_CORE_STORE_EVENTS_H

#include "core/core.h"

/* One event of a flushed batch, as the sinks and the store's writer need it: made on the loop
 * at flush (then the event and its JSON are freed), read by the writer from one contiguous
 * array. Offsets are into the batch's text, which holds the lines (each followed by '\n')
 * and the roll-up's strings. */
struct core_ev_rec {
	enum core_event id;
	bool stored_line; /* false: dropped as too large to serialise */
	bool has_conn;
	bool has_a, has_b, has_duration;
	uint32_t line, len;
	uint32_t a, alen, b, blen; /* profile; username, password; reason */
	double duration;
	const char *sensor;
	char timestamp[LIB_RFC3339_LEN];
	struct core_conn conn;
};

/* Creates the tables (at the bus's open). */
int core_events_schema(struct core_store *st);
/* Loop: what the roll-up takes from ev's module fields, appended to text. */
void core_events_extract(const struct core_ev *ev, struct core_ev_rec *r, struct buf *text);
/* Writer: stores recs[0..n) and rolls them up into `sessions`. */
int core_events_store(struct core_tx *tx, const struct core_ev_rec *recs, size_t n,
		      const char *text);

#endif
