/* report section "samples": captured malware and the sandbox's verdicts (seed §1: capture of
 * every infection, analysis within 15 minutes; §4: the samples that attack the LAN side, by
 * CPU), the samples list (searched, sorted, paged on the dashboard), and one sample's page. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "box/box.h"
#include "core/core.h"
#include "report/report.h"

#define SM_SOURCES 200 /* sources listed on a sample's page */

/* Whether the store's per-method counts (sample_methods, kept by triggers on sample_sources)
 * answer the window: every source lies in it (found through sample_sources_seen). They are the
 * counts over all of sample_sources, so any other window counts the raw rows of its time. */
static bool methods_counted(struct report_ctx *c)
{
	if (!report_table_exists(c->db, "sample_methods"))
		return false;
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT (SELECT min(seen) FROM sample_sources) >= ?1 AND"
			       " (SELECT max(seen) FROM sample_sources) < ?2",
			       -1, &q, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(q, 1, c->since, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->until, -1, SQLITE_STATIC);
	/* No sources at all: NULL, and either query gives no rows. */
	bool all = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1;
	sqlite3_finalize(q);
	return all;
}

/* Samples by CPU reads samples_arch alone (every sample, one index entry each: the samples
 * table is one row per file, not per event); the unary + keeps the planner off
 * samples_first_seen, whose range would fetch every row it finds. */
static void by_cpu(struct report_ctx *c)
{
	static const char *const names[] = {"CPU / type", "samples", "times seen", "first seen",
					    "last seen"};
	report_emit_table(c, "malware",
			  report_query(c, "Captured samples by CPU",
				       "SELECT CASE arch WHEN '' THEN filetype ELSE arch END, "
				       "count(*), sum(times_seen), min(first_seen), max(last_seen)"
				       " FROM samples WHERE +first_seen < ?2 AND last_seen >= ?1"
				       " GROUP BY 1 ORDER BY 2 DESC",
				       "siiss", names, NULL),
			  NULL);
	static const char *const mnames[] = {"delivery", "samples", "hosts"};
	report_emit_table(
		c, "delivery",
		report_query(
			c, "Samples by delivery method",
			methods_counted(c)
				? "SELECT source || '/' || method, samples, hosts FROM "
				  "sample_methods WHERE sources > 0 ORDER BY 2 DESC, 1"
				: "SELECT ifnull(source, '?') || '/' || ifnull(method, '?'), "
				  "count(DISTINCT sha256), count(DISTINCT src_ip)"
				  " FROM sample_sources WHERE seen >= ?1 AND seen < ?2 GROUP BY "
				  "ifnull(source, '?'), ifnull(method, '?') ORDER BY 2 DESC, 1",
			"sii", mnames, NULL),
		"download: wget, curl, tftp, ftpget; upload: files written through the shell "
		"(echo, printf, dd...); exec: files run");
}

static void sandbox(struct report_ctx *c)
{
	json_t *rows = NULL;
	if (box_report_summary(c->store, &rows) != 0)
		return;
	json_t *arr = json_array();
	json_array_append_new(arr, rows);
	static const char *const skeys[] = {"analysed",       "dynamic",     "under_minute",
					    "median_seconds", "max_seconds", NULL};
	report_emit_table(c, "sandbox",
			  report_json_table("Capture to verdict", arr, skeys, "iiirr"),
			  "the seed's YNU sandbox analysed each sample within 15 minutes of "
			  "capture");
	json_decref(arr);
	if (box_report_families(c->store, &rows) == 0) {
		static const char *const fkeys[] = {"family", "samples", "scan", "lan_attack",
						    "ddos",   "cnc",     NULL};
		report_emit_table(c, "families",
				  report_json_table("Verdicts by family", rows, fkeys, "siiiii"),
				  NULL);
		json_decref(rows);
	}
	if (box_report_testbed(c->store, &rows) == 0) {
		static const char *const tkeys[] = {"arch", "samples", "lan_attack", "share", NULL};
		report_emit_table(c, "testbed",
				  report_json_table("Samples that attack the LAN side, by CPU",
						    rows, tkeys, "siip"),
				  "the seed's home-network testbed (§4): MIPS 90 of 3000 (3%), "
				  "MIPSEL 199 of 3859 (5%)");
		json_decref(rows);
	}
}

/* The columns a samples list may be sorted by (a name from the query string picks one of
 * these expressions; nothing else reaches the SQL). */
static const struct {
	const char *name, *expr;
} sort_keys[] = {
	{"first_seen", "s.first_seen"},
	{"last_seen", "s.last_seen"},
	{"seen", "s.times_seen"},
	{"size", "s.size"},
	{"arch", "s.arch"},
	{"type", "s.filetype"},
	{"family", "b.family"},
	{"verdict", "b.v"},
	{"sha256", "s.sha256"},
};

bool report_sample_sort_ok(const char *name)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(sort_keys); i++)
		if (strcmp(sort_keys[i].name, name) == 0)
			return true;
	return false;
}

/* Whether box_results has its word column (json_extract(verdict, '$.verdict') stored by the
 * insert, in box_results_verdict): a store made before it and not opened by a writer since
 * (mitsu web is read-only) has only the JSON. */
static bool has_word(sqlite3 *db)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM pragma_table_info('box_results') WHERE name = 'word'",
			       -1, &q, NULL) != SQLITE_OK)
		return false;
	bool found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return found;
}

/* The samples list: ?5 is the search text (matched in the hashes, CPU, type, family and
 * verdict). Sorted by a column of samples and not searched, the page of samples is chosen first
 * and only its rows get their verdict. Otherwise every sample in the window is joined to its
 * latest verdict before the sort, in one pass that also counts them: samples read in table
 * order (NOT INDEXED: a range of samples_first_seen fetches each row on a page of its own), the
 * verdict's family, seconds and word from box_latest_verdict (one look-up each; kept by the
 * sandbox's triggers), or in a store no writer has opened since that table came, from
 * box_results_verdict alone (two look-ups each), never the verdict's JSON unless the store
 * predates the word column too. */
static void list(struct report_ctx *c)
{
	const char *expr = "s.first_seen";
	for (size_t i = 0; c->sort && i < LIB_ARRAY_LEN(sort_keys); i++)
		if (strcmp(sort_keys[i].name, c->sort) == 0)
			expr = sort_keys[i].expr;
	bool box = report_table_exists(c->db, "box_results");
	bool late = box && (c->search || !strncmp(expr, "b.", 2));
	const char *verdict =
		!box ? " LEFT JOIN (SELECT NULL AS family, NULL AS v, NULL AS seconds) b ON 0"
		: report_table_exists(c->db, "box_latest_verdict")
			? " LEFT JOIN (SELECT sha256, family, word AS v, seconds FROM "
			  "box_latest_verdict) b ON b.sha256 = s.sha256"
		: has_word(c->db)
			? " LEFT JOIN (SELECT sha256, id, family, word AS v, seconds FROM "
			  "box_results) b ON b.sha256 = s.sha256 AND +b.id = (SELECT max(id) FROM "
			  "box_results x WHERE x.sha256 = s.sha256)"
			: " LEFT JOIN (SELECT id, family, json_extract(verdict, '$.verdict') AS v, "
			  "seconds FROM box_results) b ON b.id = (SELECT max(id) FROM box_results "
			  "x "
			  "WHERE x.sha256 = s.sha256)";
	const char *window = " WHERE s.first_seen < ?2 AND s.last_seen >= ?1";
	const char *match =
		" AND (?5 IS NULL OR instr(lower(s.sha256 || ' ' || s.md5 || ' ' ||"
		" s.arch || ' ' || s.filetype || ' ' || coalesce(b.family, '') || ' ' ||"
		" coalesce(b.v, '')), lower(?5)) > 0)";
	int limit = c->limit > 0 && c->limit <= REPORT_MAX_LIST ? c->limit : 50;
	if (!c->dashboard)
		limit = c->top;
	const char *dir = c->ascending ? "ASC" : "DESC";
	int off = c->offset > 0 ? c->offset : 0;
	const char *cols = "SELECT s.sha256, s.size, s.filetype, s.arch, s.times_seen, "
			   "s.first_seen, s.last_seen, b.family, b.v, b.seconds FROM ";
	static const char *const names[] = {
		"sha256",     "size",      "type",   "CPU",     "times seen",
		"first seen", "last seen", "family", "verdict", "seconds to verdict"};
	const char *title = c->dashboard ? "Samples" : "Latest samples";
	struct report_table *t;
	long long total = 0;
	if (late) {
		char *sql = xasprintf("%s samples s NOT INDEXED%s%s%s ORDER BY %s %s, s.sha256",
				      cols, verdict, window, match, expr, dir);
		t = report_query_page(c, title, sql, "sississssr", names, c->search, off, limit,
				      &total);
		free(sql);
	} else {
		/* Sorted by first_seen, samples_first_seen gives the order; by another column,
		 * the table read in its order and sorted beats a look-up per row. The sort (and
		 * the rows an offset skips) carries the key and the hash alone; the page's rows
		 * are read by hash after (a sort of every column cost 87 ms of CPU at offset
		 * 10,000 on the bench store, 23 ms this way; in first_seen order, whose ties
		 * samples_first_seen gives in the wrong direction, 21 ms against 6). */
		const char *scan = strcmp(expr, "s.first_seen") ? " NOT INDEXED" : "";
		char *sql = xasprintf(
			"%s (SELECT * FROM samples WHERE sha256 IN (SELECT s.sha256 "
			"FROM samples s%s%s ORDER BY s.%s %s, s.sha256 LIMIT %d OFFSET "
			"%d)) s%s ORDER BY s.%s %s, s.sha256",
			cols, scan, window, expr + 2, dir, limit, off, verdict, expr + 2, dir);
		t = report_query(c, title, sql, "sississssr", names, c->search);
		free(sql);
		struct report_table *n =
			report_query(c, "",
				     "SELECT count(*) FROM samples s WHERE s.first_seen < ?2"
				     " AND s.last_seen >= ?1",
				     "i", NULL, NULL);
		json_t *rows = report_table_json(n);
		total = json_integer_value(json_object_get(json_array_get(rows, 0), "count(*)"));
		json_decref(rows);
		report_table_free(n);
	}
	report_link(c, t, 0, REPORT_LINK_SAMPLE);
	report_emit_table(c, "samples", t, NULL);
	json_object_set_new(c->json, "samples_total", json_integer(total));
}

static bool samples_present(sqlite3 *db)
{
	return report_table_exists(db, "samples") || report_table_exists(db, "box_results");
}

static void samples_build(struct report_ctx *c)
{
	if (!samples_present(c->db))
		return;
	report_heading(c, "Malware");
	by_cpu(c);
	sandbox(c);
	list(c);
}

const struct report_section report_section_samples = {
	.name = "samples",
	.title = "Samples",
	.present = samples_present,
	.build = samples_build,
};

/* ------------------------------------------------------------------ one sample */

static void kv(struct report_table *t, const char *k, const json_t *v)
{
	report_table_row(t);
	report_table_str(t, k);
	if (json_is_string(v)) {
		report_table_str(t, json_string_value(v));
	} else if (json_is_integer(v)) {
		char s[32];
		snprintf(s, sizeof(s), "%lld", (long long)json_integer_value(v));
		report_table_str(t, s);
	} else if (json_is_real(v)) {
		char s[32];
		snprintf(s, sizeof(s), "%.1f", json_real_value(v));
		report_table_str(t, s);
	} else if (json_is_boolean(v)) {
		report_table_str(t, json_is_true(v) ? "yes" : "no");
	} else if (v && !json_is_null(v)) {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		report_table_str(t, s);
		free(s);
	} else {
		report_table_null(t);
	}
}

static struct report_table *kv_table(const char *title)
{
	struct report_table *t = report_table_new(title);
	report_table_col(t, "field", REPORT_STR, 0);
	report_table_col(t, "value", REPORT_STR, 0);
	return t;
}

/* Evidence of one behaviour as one line of text. */
static void evidence(struct buf *b, const char *what, const json_t *x)
{
	const json_t *ev = json_object_get(x, "evidence");
	size_t i;
	const json_t *e;
	json_array_foreach(ev, i, e) {
		if (b->len)
			buf_append_str(b, "; ");
		buf_append_str(b, json_is_string(e) ? json_string_value(e) : "?");
	}
	if (strcmp(what, "scan") == 0 && json_is_true(json_object_get(x, "detected"))) {
		char *ports =
			json_dumps(json_object_get(x, "ports"), JSON_COMPACT | JSON_ENCODE_ANY);
		buf_printf(b, "%sports %s, %lld targets", b->len ? "; " : "", ports ? ports : "[]",
			   (long long)json_integer_value(json_object_get(x, "targets")));
		free(ports);
	}
	if (strcmp(what, "ddos") == 0 && json_is_true(json_object_get(x, "detected")))
		buf_printf(b, "%s%s against %s, %lld packets", b->len ? "; " : "",
			   json_string_value(json_object_get(x, "vector")) ?: "?",
			   json_string_value(json_object_get(x, "target")) ?: "?",
			   (long long)json_integer_value(json_object_get(x, "packets")));
}

static void verdict_tables(struct report_ctx *c, const json_t *v)
{
	struct report_table *t = kv_table("Sandbox verdict");
	static const char *const keys[] = {"verdict",  "family",  "family_basis", "analysed",
					   "captured", "seconds", "ssdeep",       "tlsh"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(keys); i++)
		if (json_object_get(v, keys[i]))
			kv(t, keys[i], json_object_get(v, keys[i]));
	kv(t, "ran in the sandbox", json_object_get(json_object_get(v, "dynamic"), "ran"));
	report_emit_table(c, "verdict", t, NULL);

	t = report_table_new("Behaviour");
	report_table_col(t, "behaviour", REPORT_STR, 0);
	report_table_col(t, "detected", REPORT_STR, 0);
	report_table_col(t, "evidence", REPORT_STR, 0);
	static const char *const beh[] = {"scan", "lan_attack", "ddos", "killer", "persistence"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(beh); i++) {
		const json_t *x = json_object_get(v, beh[i]);
		struct buf b;
		buf_init(&b, REPORT_MAX_CELL);
		evidence(&b, beh[i], x);
		report_table_row(t);
		report_table_str(t, beh[i]);
		report_table_str(t, json_is_true(json_object_get(x, "detected")) ? "yes" : "no");
		report_table_str(t, (const char *)b.data);
		buf_free(&b);
	}
	report_emit_table(c, "behaviour", t, NULL);

	static const char *const ckeys[] = {"host", "ip", "port", "protocol", "checkin", NULL};
	report_emit_table(c, "cnc",
			  report_json_table("C&C the sample checked in with",
					    json_object_get(v, "cnc"), ckeys, "ssiss"),
			  NULL);
	const json_t *st = json_object_get(v, "static");
	static const char *const ykeys[] = {"rule", "family", "description", "strings", NULL};
	report_emit_table(c, "yara",
			  report_json_table("YARA rules that matched", json_object_get(st, "yara"),
					    ykeys, "sssi"),
			  NULL);
	t = kv_table("Static analysis");
	const json_t *elf = json_object_get(st, "elf");
	const char *k;
	const json_t *x;
	json_object_foreach((json_t *)elf, k, x)
		kv(t, k, x);
	kv(t, "packer", json_object_get(st, "packer"));
	const json_t *strs = json_object_get(st, "strings");
	json_object_foreach((json_t *)strs, k, x)
		kv(t, k, x);
	kv(t, "DNS names looked up", json_object_get(v, "dns"));
	report_emit_table(c, "static", t, NULL);
}

/* The latest verdict's JSON, or NULL. */
static json_t *latest_verdict(struct report_ctx *c, const char *sha256)
{
	sqlite3_stmt *q;
	json_t *v = NULL;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT verdict FROM box_results WHERE sha256 = ?1 ORDER BY id DESC "
			       "LIMIT 1",
			       -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(q, 1, sha256, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = json_loads((const char *)sqlite3_column_text(q, 0), 0, NULL);
	sqlite3_finalize(q);
	return v;
}

int report_sample(struct report_ctx *c, const char *sha256)
{
	static const char *const fields[] = {"sha256",     "sha1",      "md5",
					     "size",       "type",      "CPU",
					     "first seen", "last seen", "times seen"};
	struct report_table *t = report_query(c, "Sample",
					      "SELECT sha256, sha1, md5, size, filetype, arch, "
					      "first_seen, last_seen, times_seen FROM samples"
					      " WHERE sha256 = ?5",
					      "sssisssss", fields, sha256);
	json_t *rows = report_table_json(t);
	report_table_free(t);
	json_t *v = latest_verdict(c, sha256);
	json_t *row = json_array_get(rows, 0);
	if (!row && !v) {
		json_decref(rows);
		return -ENOENT;
	}
	t = kv_table("Sample");
	for (size_t i = 0; row && i < LIB_ARRAY_LEN(fields); i++)
		kv(t, fields[i], json_object_get(row, fields[i]));
	if (!row)
		kv(t, "sha256", json_object_get(v, "sha256"));
	json_decref(rows);
	report_emit_table(c, "sample", t, NULL);
	static const char *const snames[] = {"seen",           "source",  "method", "URL",
					     "source address", "session", "file"};
	{
		struct report_table *t_sample_sources =
			report_query(c, "Where it came from",
				     "SELECT seen, source, method, url, src_ip, session, destfile"
				     " FROM sample_sources WHERE sha256 = ?5 ORDER BY id DESC"
				     " LIMIT " LIB_STR(SM_SOURCES),
				     "sssssss", snames, sha256);
		report_link(c, t_sample_sources, 4, REPORT_LINK_IP);
		report_emit_table(c, "sample_sources", t_sample_sources, NULL);
	}
	if (v) {
		verdict_tables(c, v);
		json_object_set_new(c->json, "verdict_json", v);
	}
	char *pcap = report_sample_pcap(c, sha256);
	json_object_set_new(c->json, "pcap", json_boolean(pcap != NULL));
	free(pcap);
	return 0;
}

char *report_sample_pcap(const struct report_ctx *c, const char *sha256)
{
	if (!c->store || !c->store->data_dir || strlen(sha256) != 64 ||
	    strspn(sha256, "0123456789abcdef") != 64)
		return NULL;
	char *p = xasprintf("%s/box/%s/capture.pcap", c->store->data_dir, sha256);
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}
