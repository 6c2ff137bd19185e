/* report: tables and charts, the shared presentation layer of `mitsu scope`, `mitsu report` and
 * the dashboard. A table is built once and rendered as aligned text, CSV (RFC 4180), JSON
 * (an array of objects) or HTML; a chart is a time series (lines or stacked areas) or a bar
 * chart rendered as a self-contained SVG. Every string is escaped for its format, so cells may
 * hold what attackers sent. */
#ifndef MITSU_REPORT_H
#define MITSU_REPORT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "lib/lib.h"

/* Bounds. */
#define REPORT_MAX_COLS 64       /* columns of a table */
#define REPORT_MAX_CELL 4096     /* bytes of one text cell kept */
#define REPORT_MAX_SERIES 64     /* series drawn in one chart */
#define REPORT_MAX_POINTS 100000 /* points per series drawn */

enum report_format { REPORT_TEXT, REPORT_CSV, REPORT_JSON, REPORT_HTML };
/* Parses "text", "csv", "json", "html" (and "table" for text). */
int report_format_parse(const char *s, enum report_format *out);

/* ---- tables ---- */

enum report_type {
	REPORT_STR,     /* left-aligned text */
	REPORT_INT,     /* right-aligned integer */
	REPORT_REAL,    /* right-aligned number with the column's decimals */
	REPORT_PERCENT, /* a fraction shown as "12.5 %" (JSON/CSV: the percentage, 12.5) */
};

struct report_table;
/* title may be NULL. */
struct report_table *report_table_new(const char *title);
void report_table_free(struct report_table *t);
/* Adds a column; `decimals` applies to REAL and PERCENT. Returns -E2BIG past REPORT_MAX_COLS. */
int report_table_col(struct report_table *t, const char *name, enum report_type type, int decimals);
/* Starts a row; then one call per column, in order. Missing cells are empty (JSON null). */
void report_table_row(struct report_table *t);
void report_table_str(struct report_table *t, const char *s);
void report_table_bytes(struct report_table *t, const void *p, size_t n); /* not NUL-terminated */
void report_table_int(struct report_table *t, long long v);
void report_table_uint(struct report_table *t, uint64_t v);
void report_table_real(struct report_table *t, double v);
void report_table_null(struct report_table *t);
size_t report_table_nrows(const struct report_table *t);
/* HTML: each non-empty text cell of the column links to prefix + the cell percent-encoded (a
 * dashboard's /ip/, /sample/). NULL removes the link. */
void report_table_link(struct report_table *t, int col, const char *prefix);
const char *report_table_col_link(const struct report_table *t, int i);
/* Appends s percent-encoded (unreserved characters and ':' kept). */
void report_url_encode(struct buf *b, const char *s, size_t n);
const char *report_table_title(const struct report_table *t); /* NULL if none */
int report_table_ncols(const struct report_table *t);
const char *report_table_col_name(const struct report_table *t, int i);
enum report_type report_table_col_type(const struct report_table *t, int i);
/* Appends the rendering to out. Text ends each line with '\n'; HTML is one <table> element. */
int report_table_render(const struct report_table *t, enum report_format fmt, struct buf *out);
/* The rows as a JSON array of objects (new reference). */
json_t *report_table_json(const struct report_table *t);

/* ---- charts ---- */

enum report_chart_kind {
	REPORT_LINES,   /* one line per series over time */
	REPORT_STACKED, /* series stacked as areas over time */
	REPORT_BARS,    /* one bar per category (series side by side) */
};

struct report_series {
	const char *name;
	const double *values; /* one per point (time or category) */
	bool highlight;       /* drawn thicker, in the accent colour, legend first */
};

struct report_chart {
	enum report_chart_kind kind;
	const char *title;
	const char *y_label;
	const int64_t *times;          /* LINES/STACKED: seconds since the epoch, increasing */
	const char *const *categories; /* BARS: one label per point */
	size_t npoints;
	const struct report_series *series;
	size_t nseries;
	bool percent;      /* values are fractions; the axis reads in percent */
	int width, height; /* pixels; 0 means 880 x 420 */
	/* LINES: draw every point. By default a line draws at most 4 points per pixel column
	 * (the first, lowest, highest and last of the points falling in it): the same shape on
	 * screen, a bounded document however long the series. */
	bool every_point;
};
/* Appends a standalone SVG document. -EINVAL for a chart that cannot be drawn (no points,
 * times not increasing); series past REPORT_MAX_SERIES are not drawn. */
int report_chart_svg(const struct report_chart *c, struct buf *out);
/* snprintf(out, n, "%.1f", v), exactly (rounding the double's exact value half to even, as
 * glibc does), without printf for finite values under 1e15 (a chart's coordinates). */
int report_fmt_tenths(char *out, size_t n, double v);

/* Escaping helpers, shared with the dashboard. */
int report_escape_xml(struct buf *out, const char *s, size_t n);
int report_escape_csv(struct buf *out, const char *s, size_t n);

/* Base64 of bytes (RFC 4648, no line breaks), appended to out. */
int report_base64(struct buf *out, const void *p, size_t n);

/* ---- sections: the parts of `mitsu report`, which are also the pages of the dashboard ----
 *
 * A section is a function of its own file (honeypot.c, samples.c, darknet.c, ...) listed in
 * report_sections[] (section.c). It runs its queries over the context's time window and emits
 * tables and charts through report_emit_table and report_emit_chart, which render each one into
 * every output the context asks for: JSON (always), text, HTML. The same builder makes the
 * report's part, the dashboard page and the page's JSON API. */

/* Bounds. */
#define REPORT_TOP 20              /* rows of a top list in the report */
#define REPORT_MAX_LIST 500        /* rows of a list page (samples) at once */
#define REPORT_MAX_SVG (64u << 20) /* bytes of one chart */

struct core_store;
struct report_ctx {
	struct core_store *store; /* the store (read-only is enough); store->db is used */
	sqlite3 *db;
	/* The window: [since, until) as the store's RFC 3339 text and as unix seconds. */
	char since[LIB_RFC3339_LEN], until[LIB_RFC3339_LEN];
	int64_t since_unix, until_unix;
	/* The window as a range of event ids [ids_lo, ids_hi) (report_event_ids), found once. */
	int64_t ids_lo, ids_hi;
	bool ids_known;
	/* The roll-up (report_rollup_window): whole hours [roll_ev[0], roll_ev[1]) of events and
	 * [roll_ss[0], roll_ss[1]) of sessions come from it; roll_ids the id ranges of the events'
	 * raw edges before and after. raw_only: never use it (tests compare the two). */
	bool roll_known, roll_events, roll_sessions, raw_only;
	int64_t roll_ev[2], roll_ss[2], roll_ids[4];
	/* roll_ev_tail, roll_ss_tail: the rolled-up hours reach the roll-up's end, so its
	 * per-source tables (seen >= the first hour) give the window's sources; roll_days: the
	 * whole days [0, 1) inside roll_ev (empty: both roll_ev[1]). */
	bool roll_ev_tail, roll_ss_tail;
	int64_t roll_days[2];
	/* roll_ev_whole: the events' rolled-up hours are all of them (from the first one to the
	 * end), so the top lists' totals over every hour (report_NAME_key) are the window's. */
	bool roll_ev_whole;
	int top;        /* rows of each top list */
	bool dashboard; /* dashboard page: charts as <img> data URIs, lists of recent items */
	/* The window is the section's default (the page gave none): a section whose data comes
	 * in batches (the darknet's runs) may end it at its latest data instead of now. */
	bool window_default;
	/* A list page's view (the samples table): search text, sort column, order, page. */
	const char *search;
	const char *sort;
	bool ascending;
	int limit, offset;
	/* The dashboard page's URL with its window, ending in '?' or '&': a paged table's links
	 * append "offset=N" (NULL: no links). */
	const char *page_url;
	/* Outputs. json always; text and html when not NULL. */
	json_t *json;  /* table key -> {title, columns, rows, note}; "charts" */
	json_t *order; /* table keys in the order they were emitted */
	struct buf *text;
	struct buf *html;
	const char *out_dir; /* charts are also written there as NAME.svg */
};

/* A context over the whole time of the store, rendering into json only. Free with
 * report_ctx_free (which frees json and order, not the buffers). */
void report_ctx_init(struct report_ctx *c, struct core_store *store);
void report_ctx_free(struct report_ctx *c);
/* Sets the window from text (RFC 3339 or YYYY-MM-DD); NULL keeps that end open. */
int report_ctx_window(struct report_ctx *c, const char *since, const char *until);
/* The same from unix seconds (INT64_MIN / INT64_MAX: open). */
void report_ctx_window_unix(struct report_ctx *c, int64_t since, int64_t until);

/* A heading of the outputs (text: "== title ==", HTML: h2). */
void report_heading(struct report_ctx *c, const char *title);
/* Renders a finished table into every output under `key` and frees it. note may be NULL. */
void report_emit_table(struct report_ctx *c, const char *key, struct report_table *t,
		       const char *note);
/* On the dashboard, links a column's cells to prefix + the cell (/ip/, /sample/). */
#define REPORT_LINK_IP "/ip/"
#define REPORT_LINK_SAMPLE "/sample/"
void report_link(struct report_ctx *c, struct report_table *t, int col, const char *prefix);
/* Renders a chart (HTML: inline SVG in a report, an <img> data URI on a dashboard page; the
 * SVG file in out_dir; JSON: its name, and on the dashboard its SVG text). */
void report_emit_chart(struct report_ctx *c, const char *name, const struct report_chart *ch);
/* The events of the window lie in the id range [*lo, *hi): rows are appended in time order, so
 * the range is found by a binary search over the primary key (a few dozen look-ups), widened by
 * REPORT_ID_SLACK seconds at both ends for events stored slightly out of order. A query keeps its
 * exact timestamp test and adds `id >= lo AND id < hi`, which lets the (eventid, id) index read
 * only the window's rows of each type instead of every row of the type. */
#define REPORT_ID_SLACK 300 /* seconds */
void report_event_ids(struct report_ctx *c, int64_t *lo, int64_t *hi);
/* The first event id whose timestamp is at or after t (unix seconds), or max(id) + 1; db's
 * `events` is the store's. */
int64_t report_first_id_at(sqlite3 *db, int64_t t);
/* At log level debug, logs each statement the connection runs with its time and its first
 * bytes (which query of a page is slow). */
void report_trace(sqlite3 *db);
/* Binds a statement's parameters as report_query does (?1 to REPORT_P_LAST). */
void report_bind(struct report_ctx *c, sqlite3_stmt *q);
/* Runs sql into a table. Parameters: ?1 since and ?2 until as text, ?3 ?4 as unix seconds,
 * ?5 the `arg` text (may be NULL), ?6 the context's top, ?7 ?8 the window's event id range
 * (report_event_ids), ?9 to ?20 the roll-up's (report_rollup_bind). Column types, one letter each:
 * s text, i integer, r real, p percent (a fraction). names: column names (NULL: the query's). */
struct report_table *report_query(struct report_ctx *c, const char *title, const char *sql,
				  const char *types, const char *const *names, const char *arg);
/* The same keeping only the rows [skip, skip + take) of the query's; *total (if not NULL) is
 * the number of rows the query gave: a page and the count of a list in one pass. */
struct report_table *report_query_page(struct report_ctx *c, const char *title, const char *sql,
				       const char *types, const char *const *names, const char *arg,
				       long long skip, long long take, long long *total);
/* A JSON array of row objects as a table with the given keys (NULL-terminated) and types. */
struct report_table *report_json_table(const char *title, const json_t *rows,
				       const char *const *keys, const char *types);
/* First and last time (unix seconds) of a text time column (the store's RFC 3339) in the
 * window, through its index. table and col are the code's names, never input. */
bool report_span(struct report_ctx *c, const char *table, const char *col, int64_t *first,
		 int64_t *last);
/* The bucket of a time chart over the window (clipped to [first, last] of the data, unix
 * seconds): an hour, or a day for windows over two weeks. */
int64_t report_bucket(const struct report_ctx *c, int64_t first, int64_t last);
/* A time chart from sql returning (bucket start in unix seconds, value...) in increasing time;
 * ?1 ?2 are the window as text, ?3 the bucket in seconds. The first series is highlighted. tmpl
 * gives kind, title, y label. */
void report_time_chart(struct report_ctx *c, const char *name, const struct report_chart *tmpl,
		       const char *sql, const char *const *series, int nseries, int64_t bucket);
bool report_table_exists(sqlite3 *db, const char *name);
/* True when the store holds at least one event of this id (uses the eventid index). */
bool report_has_event(sqlite3 *db, const char *eventid);

struct report_section {
	const char *name;  /* JSON key of the part, the page /NAME and /api/NAME */
	const char *title; /* heading and navigation label */
	/* Whether the store holds anything for it (the dashboard lists only those pages); NULL:
	 * always. */
	bool (*present)(sqlite3 *db);
	void (*build)(struct report_ctx *c);
	/* The dashboard's default window in seconds back from now (0: all of the store). */
	int64_t window;
};
/* The sections, in report order; the table ends with NULL. */
extern const struct report_section *const report_sections[];
const struct report_section *report_section_find(const char *name);

extern const struct report_section report_section_overview;
extern const struct report_section report_section_honeypot;
extern const struct report_section report_section_samples;
extern const struct report_section report_section_darknet;
extern const struct report_section report_section_webui; /* webui.c */
extern const struct report_section report_section_ident; /* ident.c: "devices" */

/* Whether a samples list may be sorted by this column name. */
bool report_sample_sort_ok(const char *name);
/* One sample, everything known (the dashboard's sample page): hashes, where it came from, the
 * sandbox's verdict. Returns -ENOENT when the store has no such sample. */
int report_sample(struct report_ctx *c, const char *sha256);
/* Path of a sample's sandbox capture (DATA/box/SHA/capture.pcap) if it exists, else NULL. */
char *report_sample_pcap(const struct report_ctx *c, const char *sha256);

/* One address, everywhere (`mitsu ip`, the dashboard's /ip/ADDR): darknet, honeypot sessions
 * with credentials and commands, downloads and samples, sandbox verdicts naming it, device
 * identification, country and AS, and one timeline. `location_db` is the libloc database (may
 * be NULL or missing: no country). Returns -EINVAL when addr is not an IP address. */
#define REPORT_IP_TIMELINE 500 /* timeline entries at most (the latest) */
int report_ip(struct report_ctx *c, const char *addr, const char *location_db);
/* Canonical text of an IPv4 or IPv6 address (inet_ntop of inet_pton); -EINVAL if it is none. */
int report_ip_canonical(const char *in, char out[46]);

/* ---- the roll-up (rollup.c): DATA/report.db, per-hour counts, a cache rebuilt at will ----
 *
 * Parameters of a query over the roll-up, bound by report_query (report_rollup_bind): ?9 ?10
 * the events' rolled-up hours [a, b) in unix seconds, ?11 ?12 a and b as text, ?13 ?14 the
 * event ids of the edge [since, a), ?15 ?16 of the edge [b, until); ?17 ?18 the sessions'
 * rolled-up hours, ?19 ?20 as text; ?21 ?22 the whole days inside the events' hours (the
 * report_NAME_day rows; hours [?9, ?21) and [?22, ?10) from report_NAME). Without a roll-up
 * (report_rollup_use false) a section runs its raw query over the window. */
#define REPORT_P_LAST 22
#define REPORT_ROLLUP_FILE "report.db"
#define REPORT_ROLLUP_HOUR 3600       /* the roll-up's unit of time, seconds */
#define REPORT_ROLLUP_DAY 86400       /* the unit of its day tables (UTC days) */
#define REPORT_ROLLUP_CHUNK_HOURS 168 /* hours rolled up per transaction */
#define REPORT_ROLLUP_BUSY_MS 60000   /* a catch-up waits this long for another one */
#define REPORT_ROLLUP_PERIOD 60       /* seconds between the dashboard's catch-ups */
/* A session's row changes until it ends: an hour of sessions is rolled up once each of them
 * has ended, or this long after the events' anyway (the upper bound of
 * limits.session_timeout: a session never closed). */
#define REPORT_ROLLUP_SESSION_LAG 86400
/* Brings DATA/report.db up to the store's closed hours (creating or rebuilding it), in
 * transactions of REPORT_ROLLUP_CHUNK_HOURS; stops between two when *stop (may be NULL).
 * Returns the hours rolled up, -ENOENT without a store, or another negative errno. */
int report_rollup_catchup(const char *data_dir, const atomic_bool *stop);
/* Attaches DATA/report.db as "roll" to a store connection (read-only like it). */
bool report_rollup_attach(sqlite3 *db, const char *data_dir);
/* Finds the context's rolled-up hours once; whether the events' (or the sessions') roll-up
 * covers a whole hour of the window. */
void report_rollup_window(struct report_ctx *c);
bool report_rollup_use(struct report_ctx *c, bool sessions);
void report_rollup_bind(struct report_ctx *c, sqlite3_stmt *q);
/* A top list over events with distinct hosts (credentials, commands, downloads): keys, their
 * count n, the distinct sources, then the values' aggregates; ?6 rows, by n. */
struct report_top {
	const char *name;     /* report.db tables report_NAME, report_NAME_hosts */
	const char *eventids; /* SQL list of the event ids read */
	const char *key[2];   /* key expressions over events (the second may be NULL) */
	const char *val[2];   /* value expressions (NULL: none) */
	const char *agg[2];   /* their aggregate functions (sum, max) */
};
extern const struct report_top report_top_credentials, report_top_commands, report_top_downloads;
/* Appends its SQL: over the roll-up and the raw edges (roll), or raw over the window; tail:
 * the hosts from report_NAME_src (c->roll_ev_tail); whole: the ranking and the hosts from
 * the totals report_NAME_key (c->roll_ev_whole, with tail). */
void report_top_sql(const struct report_top *t, bool roll, bool tail, bool whole, struct buf *b);
/* Whether the sessions' per-source tables answer the window (c->roll_ss_tail, no session
 * without a source rolled up). */
bool report_rollup_sources(struct report_ctx *c);

/* ---- the darknet's roll-up (rollup_darknet.c), in report.db beside the hours ----
 *
 * Per UTC day (REPORT_DN_DAY of an interval's start_unix): report_dn_ports (day, proto, port,
 * packets) and report_dn_countries (day, cc, sources, mirai_sources, packets) summed over the
 * day's intervals, each interval's latest run only; report_dn_series (proto, port, start_unix,
 * packets), an interval's packets per port keyed by port; report_dn_days (day, n, rs, rm), the
 * signature of the day's scope_intervals rows when it was summed (count, sum and max of the
 * rowids). A day is used only while its signature matches the store's. */
#define REPORT_DN_DAY_SECONDS 86400
#define REPORT_DN_DAY(col) "(" col " - ((" col " % 86400) + 86400) % 86400)"
extern const char report_dn_schema[]; /* CREATE TABLE IF NOT EXISTS ... */
extern const char report_dn_wipe[];   /* empties the tables */
/* Recomputes the days whose signature changed (db: report.db with the store attached as
 * "store"), in transactions of a month of days. Returns the days recomputed, or -errno. */
int report_rollup_darknet(sqlite3 *db, const atomic_bool *stop);
/* Fills temp.dn_ok (day) with the window's whole days the roll-up holds unchanged (none
 * without a roll-up or with raw_only). False when the temporary table cannot be made. */
bool report_dn_window(struct report_ctx *c);

/* ---- the WebUI section's roll-up (rollup_webui.c), in report.db beside the hours ----
 *
 * Distinct source hosts per profile and key of the web events (requests, logins, logged in,
 * device access; per intent, outcome, action, action row, exploit signature): report_web_src
 * (kind, p, k1, k2, k3, src_ip, seen: the last hour), and its rows counted by `seen` hour
 * (report_web_hist) and day (report_web_hist_day). Its own progress and layout in report_meta
 * (web_first, web_until, webui_version: another layout rebuilds this part alone); it follows
 * the events' rolled-up hours. */
extern const char report_web_schema[]; /* CREATE TABLE IF NOT EXISTS ... */
extern const char report_web_wipe[];   /* empties the tables */
/* Adds the events' rolled-up hours not yet in the part (db: report.db with the store attached
 * as "store"), in transactions of REPORT_ROLLUP_CHUNK_HOURS. Returns the hours added, or
 * -errno. */
int report_rollup_webui(sqlite3 *db, const atomic_bool *stop);
/* Fills temp.web_w (kind, p, k1, k2, k3, n: the distinct sources) with the window's keys: kind
 * 0 requests, 1 login attempts, 2 logged in, 3 device access (the keys ''), 4 intent (k1), 5
 * outcome (k1), 6 action (k1), 7 action, intent, outcome, 8 exploit signature and CVE ('none'
 * when null); a NULL profile or key is NULL. From the roll-up and the raw edges when its hours
 * reach the window's end, else raw. Returns the form used (0: raw; REPORT_WEB_ROLLED, with
 * REPORT_WEB_DAYS when the day histogram answered whole days), or -errno. */
#define REPORT_WEB_ROLLED 1
#define REPORT_WEB_DAYS 2
int report_web_window(struct report_ctx *c);

/* `mitsu report` and `mitsu ip`. */
struct core_command;
extern const struct core_command report_command;
extern const struct core_command report_ip_command;

#endif
