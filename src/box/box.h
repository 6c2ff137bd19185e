/* box: the sandbox. Static analysis of a sample (ELF header, packer, strings, hashes, YARA) and
 * a dynamic run under qemu-user in fresh user+net+mount+pid namespaces whose only link ends in
 * a fake internet (fake DNS, catch-all listeners, dummy C&C, an emulated home LAN), giving one
 * JSON verdict per sample: family, DNS names, C&C endpoints, scanning, LAN-side attack, DDoS,
 * killer, persistence, files written, time from capture to verdict. docs/box.md has the whole
 * design, the isolation it gives and its limits. */
#ifndef MITSU_BOX_H
#define MITSU_BOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/core.h"

/* ------------------------------------------------------------------ the queue
 *
 * The analysis queue `mitsu run` and `mitsu box` share. Each job runs in a child process
 * (`mitsu box --run-one`, spawned with uv_spawn: the loop never blocks) and at most
 * box.parallel run at once; at most box.queue jobs wait (a newer one beyond it is dropped and
 * logged). When a child ends, its verdict gets `captured` and `seconds` (capture to verdict),
 * goes into the box_results, box_cnc and box_dns tables and out as mitsu.box.result.
 *
 * box_queue_open subscribes to the bus: every mitsu.sample.stored that is not a duplicate and
 * whose filetype is "elf" is queued, when box.auto is true. cfg, store and bus are borrowed and
 * must outlive the queue; store and bus may be NULL (then nothing is stored or emitted).
 * Returns NULL only if the tables cannot be created. */
struct box_queue;
struct box_queue *box_queue_open(uv_loop_t *loop, const struct core_config *cfg,
				 struct core_store *store, struct core_bus *bus);
/* Kills the running children and closes the handles. The queue frees itself in the last close
 * callback, so the caller must let the loop run afterwards (uv_run) as for any libuv handle.
 * A NULL queue is ignored. */
void box_queue_close(struct box_queue *q);

/* Called with each verdict (after it is stored and emitted); `verdict` is borrowed. */
typedef void (*box_verdict_cb)(void *arg, const json_t *verdict);
void box_queue_on_verdict(struct box_queue *q, box_verdict_cb cb, void *arg);
/* Queues one file by hand (`mitsu box FILE`). sha256 may be NULL (computed by the child);
 * captured_us is when the sample was captured (0: now). Returns 0, or -ENOSPC if the queue is
 * full, -ESHUTDOWN after close. */
int box_queue_submit(struct box_queue *q, const char *path, const char *sha256,
		     int64_t captured_us);
/* Jobs waiting plus running; the CLI runs the loop until this is 0. */
size_t box_queue_pending(const struct box_queue *q);

struct box_queue_stats {
	uint64_t queued, started, done, failed, dropped;
};
void box_queue_stats(const struct box_queue *q, struct box_queue_stats *out);

/* ------------------------------------------------------------------ one analysis
 *
 * The whole analysis of one file in the calling process (the child of the queue): static
 * analysis always, the dynamic run when `dynamic` is true and the file is an ELF whose CPU has a
 * qemu-user emulator. Needs root for the dynamic run (namespaces, veth, cgroups); without it the
 * verdict says why it did not run. Artefacts (report.json, capture.pcap, trace.jsonl,
 * fakenet.jsonl, output.txt) go to artefacts_dir when it is not NULL. Returns 0 and a new
 * verdict object, or a negative errno if the file cannot be read. */
int box_analyse(const struct core_config *cfg, const char *path, const char *artefacts_dir,
		bool dynamic, json_t **verdict);

/* ------------------------------------------------------------------ report
 *
 * For `mitsu report` and the dashboard. Each reads the store (the latest verdict of each
 * sample) and returns 0 and a new JSON value, or -EIO / -ENOENT if the tables are missing
 * (no sample analysed yet). */

/* The seed's home-network testbed table (SUMMARY §4): per CPU architecture, the samples run in
 * the sandbox and how many attacked the LAN side. An array of rows
 *   {"arch": "mips", "samples": 3000, "lan_attack": 90, "share": 0.03}
 * sorted by samples (descending), then a last row with "arch": "all". Only samples whose
 * dynamic run took place are counted. */
int box_report_testbed(struct core_store *st, json_t **out);
/* Per family: {"family": "mirai", "samples": N, "scan": N, "lan_attack": N, "ddos": N,
 * "cnc": N (samples with a C&C endpoint)}, most samples first. */
int box_report_families(struct core_store *st, json_t **out);
/* The latest `limit` verdicts, newest first, as short rows: sha256, arch, family, analysed,
 * seconds, dns (names), cnc ({host, port}), scan, lan_attack, ddos (detected flags), killer,
 * persistence. */
int box_report_samples(struct core_store *st, int limit, json_t **out);
/* Totals: {"analysed": N, "dynamic": N, "median_seconds": S, "max_seconds": S,
 * "under_minute": N}: the time from capture to verdict the seed measured in minutes. */
int box_report_summary(struct core_store *st, json_t **out);

/* The sandbox's tables and their migrations on a connection that may write (what the writer
 * runs at the first open; tests run it on their own stores): an SQLite result code. */
int box_store_schema_db(sqlite3 *db);

/* `mitsu box`: analyse files, print verdicts (see docs/box.md). */
extern const struct core_command box_command;

#endif
