/* report: tables and charts, the shared presentation layer of `mitsu scope`, `mitsu report` and
 * the dashboard. A table is built once and rendered as aligned text, CSV (RFC 4180), JSON
 * (an array of objects) or HTML; a chart is a time series (lines or stacked areas) or a bar
 * chart rendered as a self-contained SVG. Every string is escaped for its format, so cells may
 * hold what attackers sent. */
#ifndef MITSU_REPORT_H
#define MITSU_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
};
/* Appends a standalone SVG document. -EINVAL for a chart that cannot be drawn (no points,
 * times not increasing); series past REPORT_MAX_SERIES are not drawn. */
int report_chart_svg(const struct report_chart *c, struct buf *out);

/* Escaping helpers, shared with the dashboard. */
int report_escape_xml(struct buf *out, const char *s, size_t n);
int report_escape_csv(struct buf *out, const char *s, size_t n);

/* `mitsu report`: the seed's tables and charts from the store (see src/report/cmd.c). */
struct core_command;
extern const struct core_command report_command;

#endif
