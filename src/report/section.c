/* report: the sections table, the context a section renders into, and the helpers sections
 * share (a query as a table, emitting tables and charts into every output). */
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"

/* The sections in report order, each a file of its own in src/report/. */
const struct report_section *const report_sections[] = {
	&report_section_overview,
	&report_section_honeypot,
	&report_section_samples,
	&report_section_webui,
	&report_section_darknet,
	&report_section_ident,
	NULL,
};

const struct report_section *report_section_find(const char *name)
{
	for (size_t i = 0; report_sections[i]; i++)
		if (strcmp(report_sections[i]->name, name) == 0)
			return report_sections[i];
	return NULL;
}

void report_ctx_init(struct report_ctx *c, struct core_store *store)
{
	memset(c, 0, sizeof(*c));
	c->store = store;
	c->db = store ? store->db : NULL;
	c->top = REPORT_TOP;
	c->limit = 50;
	c->json = json_object();
	c->order = json_array();
	report_ctx_window_unix(c, INT64_MIN, INT64_MAX);
}

void report_ctx_free(struct report_ctx *c)
{
	json_decref(c->json);
	json_decref(c->order);
	c->json = c->order = NULL;
}

void report_ctx_window_unix(struct report_ctx *c, int64_t since, int64_t until)
{
	c->ids_known = c->roll_known = false;
	c->since_unix = since;
	c->until_unix = until;
	if (since == INT64_MIN) {
		lib_strlcpy(c->since, "0000-01-01T00:00:00.000000Z", sizeof(c->since));
	} else {
		struct timespec ts = {.tv_sec = (time_t)since};
		lib_rfc3339(&ts, c->since);
	}
	if (until == INT64_MAX) {
		lib_strlcpy(c->until, "9999-12-31T23:59:59.999999Z", sizeof(c->until));
	} else {
		struct timespec ts = {.tv_sec = (time_t)until};
		lib_rfc3339(&ts, c->until);
	}
}

int64_t report_first_id_at(sqlite3 *db, int64_t t)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(
		    db, "SELECT id, timestamp >= ?2 FROM events WHERE id >= ?1 ORDER BY id LIMIT 1",
		    -1, &q, NULL) != SQLITE_OK)
		return 0;
	char ts[LIB_RFC3339_LEN];
	struct timespec at = {.tv_sec = (time_t)t};
	lib_rfc3339(&at, ts);
	sqlite3_bind_text(q, 2, ts, -1, SQLITE_STATIC);
	/* The smallest id whose row (or the next row) is at or after t: lo only grows past rows
	 * before t, hi only shrinks onto rows at or after it. */
	int64_t lo = 0, hi = INT64_MAX;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		sqlite3_bind_int64(q, 1, mid);
		if (sqlite3_step(q) != SQLITE_ROW) {
			hi = mid; /* no row at or past mid */
		} else if (sqlite3_column_int(q, 1)) {
			hi = mid;
		} else {
			lo = sqlite3_column_int64(q, 0) + 1;
		}
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	return lo;
}

void report_event_ids(struct report_ctx *c, int64_t *lo, int64_t *hi)
{
	if (!c->ids_known) {
		c->ids_lo = 0;
		c->ids_hi = INT64_MAX;
		if (c->db && c->since_unix > INT64_MIN + REPORT_ID_SLACK)
			c->ids_lo = report_first_id_at(c->db, c->since_unix - REPORT_ID_SLACK);
		if (c->db && c->until_unix != INT64_MAX &&
		    c->until_unix < INT64_MAX - REPORT_ID_SLACK)
			c->ids_hi = report_first_id_at(c->db, c->until_unix + REPORT_ID_SLACK);
		c->ids_known = true;
	}
	*lo = c->ids_lo;
	*hi = c->ids_hi;
}

int report_ctx_window(struct report_ctx *c, const char *since, const char *until)
{
	int64_t s = INT64_MIN, u = INT64_MAX, us;
	if (since) {
		if (lib_parse_time(since, &us))
			return -EINVAL;
		s = us / 1000000;
	}
	if (until) {
		if (lib_parse_time(until, &us))
			return -EINVAL;
		u = us / 1000000;
	}
	report_ctx_window_unix(c, s, u);
	return 0;
}

bool report_table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *q;
	bool ok = db && sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?1", -1,
					   &q, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		ok = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_finalize(q);
	}
	return ok;
}

bool report_has_event(sqlite3 *db, const char *eventid)
{
	sqlite3_stmt *q;
	bool ok = db && sqlite3_prepare_v2(db, "SELECT 1 FROM events WHERE eventid = ?1 LIMIT 1",
					   -1, &q, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(q, 1, eventid, -1, SQLITE_STATIC);
		ok = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_finalize(q);
	}
	return ok;
}

int report_base64(struct buf *out, const void *p, size_t n)
{
	/* EVP_EncodeBlock writes 4 bytes per 3 and a NUL; done in pieces to bound the stack. */
	unsigned char enc[4 * 1024 + 1];
	const unsigned char *s = p;
	int rc = 0;
	while (n && !rc) {
		size_t k = n < 3 * 1024 ? n : 3 * 1024;
		int m = EVP_EncodeBlock(enc, s, (int)k);
		rc = buf_append(out, enc, (size_t)m);
		s += k;
		n -= k;
	}
	return rc;
}

void report_heading(struct report_ctx *c, const char *title)
{
	if (c->text)
		buf_printf(c->text, "== %s ==\n", title);
	if (c->html && !c->dashboard) { /* a dashboard page has its own title */
		buf_append_str(c->html, "<h2>");
		report_escape_xml(c->html, title, strlen(title));
		buf_append_str(c->html, "</h2>\n");
	}
}

static const char *type_name(enum report_type t)
{
	switch (t) {
	case REPORT_INT: return "int";
	case REPORT_REAL: return "real";
	case REPORT_PERCENT: return "percent";
	default: return "str";
	}
}

/* The key of an element id: letters, digits, '-' and '_' (keys are the code's, but the id is
 * built from them, so it is checked anyway). */
static void append_id(struct buf *b, const char *prefix, const char *key)
{
	buf_append_str(b, prefix);
	for (const char *k = key; *k; k++) {
		char ch = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
					  (*k >= '0' && *k <= '9') || *k == '-' || *k == '_'
				  ? *k
				  : '_';
		buf_append(b, &ch, 1);
	}
}

void report_emit_table(struct report_ctx *c, const char *key, struct report_table *t,
		       const char *note)
{
	json_t *sec = json_object();
	const char *title = report_table_title(t);
	if (title)
		json_object_set_new(sec, "title", json_string(title));
	json_t *cols = json_array();
	for (int i = 0; i < report_table_ncols(t); i++)
		json_array_append_new(cols, json_pack("{s:s,s:s,s:s*}", "name",
						      report_table_col_name(t, i), "type",
						      type_name(report_table_col_type(t, i)),
						      "link", report_table_col_link(t, i)));
	json_object_set_new(sec, "columns", cols);
	json_object_set_new(sec, "rows", report_table_json(t));
	if (note)
		json_object_set_new(sec, "note", json_string(note));
	json_object_set_new(c->json, key, sec);
	json_array_append_new(c->order, json_string(key));
	if (c->text) {
		report_table_render(t, REPORT_TEXT, c->text);
		if (note)
			buf_printf(c->text, "  (%s)\n", note);
		buf_append_str(c->text, "\n");
	}
	if (c->html) {
		buf_append_str(c->html, "<section class=\"tbl\" ");
		append_id(c->html, "id=\"t-", key);
		buf_append_str(c->html, "\">");
		report_table_render(t, REPORT_HTML, c->html);
		if (note) {
			buf_append_str(c->html, "<p class=\"note\">");
			report_escape_xml(c->html, note, strlen(note));
			buf_append_str(c->html, "</p>");
		}
		buf_append_str(c->html, "</section>\n");
	}
	report_table_free(t);
}

void report_link(struct report_ctx *c, struct report_table *t, int col, const char *prefix)
{
	if (c->dashboard)
		report_table_link(t, col, prefix);
}

void report_emit_chart(struct report_ctx *c, const char *name, const struct report_chart *ch)
{
	struct buf svg;
	buf_init(&svg, REPORT_MAX_SVG);
	if (report_chart_svg(ch, &svg) != 0) {
		buf_free(&svg);
		return;
	}
	const char *title = ch->title ? ch->title : name;
	if (c->html) {
		buf_append_str(c->html, "<figure ");
		append_id(c->html, "id=\"c-", name);
		buf_append_str(c->html, "\">");
		if (c->dashboard) {
			/* An image: its document is separate from the page's, and runs nothing. */
			buf_append_str(c->html, "<img alt=\"");
			report_escape_xml(c->html, title, strlen(title));
			buf_append_str(c->html, "\" src=\"data:image/svg+xml;base64,");
			report_base64(c->html, svg.data, svg.len);
			buf_append_str(c->html, "\">");
		} else {
			buf_append(c->html, svg.data, svg.len);
		}
		buf_append_str(c->html, "<figcaption>");
		report_escape_xml(c->html, title, strlen(title));
		buf_append_str(c->html, "</figcaption></figure>\n");
	}
	if (c->out_dir) {
		char *path = xasprintf("%s/%s.svg", c->out_dir, name);
		if (lib_write_file_atomic(path, svg.data, svg.len, 0644))
			log_warn("report", "cannot write %s", path);
		free(path);
	}
	json_t *charts = json_object_get(c->json, "charts");
	if (!charts) {
		charts = json_array();
		json_object_set_new(c->json, "charts", charts);
	}
	if (c->dashboard)
		json_array_append_new(charts,
				      json_pack("{s:s,s:s,s:s%}", "name", name, "title", title,
						"svg", (const char *)svg.data, svg.len));
	else
		json_array_append_new(charts, json_sprintf("%s.svg", name));
	buf_free(&svg);
}

/* A column type from its letter: s text, i integer, r real, p percent. */
static void add_col(struct report_table *t, const char *name, char ty)
{
	report_table_col(t, name,
			 ty == 'i'   ? REPORT_INT
			 : ty == 'r' ? REPORT_REAL
			 : ty == 'p' ? REPORT_PERCENT
				     : REPORT_STR,
			 ty == 'p' ? 1 : 2);
}

static int on_profile(unsigned type, void *arg, void *stmt, void *ns)
{
	(void)arg;
	if (type == SQLITE_TRACE_PROFILE)
		log_debug("report", "%.1f ms: %.300s", (double)*(const sqlite3_int64 *)ns / 1e6,
			  sqlite3_sql(stmt));
	return 0;
}

void report_trace(sqlite3 *db)
{
	if (db && log_get_level() <= LOG_DEBUG)
		sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, on_profile, NULL);
}

void report_bind(struct report_ctx *c, sqlite3_stmt *q)
{
	int np = sqlite3_bind_parameter_count(q);
	if (np >= 1)
		sqlite3_bind_text(q, 1, c->since, -1, SQLITE_STATIC);
	if (np >= 2)
		sqlite3_bind_text(q, 2, c->until, -1, SQLITE_STATIC);
	if (np >= 3)
		sqlite3_bind_int64(q, 3, c->since_unix);
	if (np >= 4)
		sqlite3_bind_int64(q, 4, c->until_unix);
	if (np >= 6)
		sqlite3_bind_int(q, 6, c->top);
	if (np >= 8) {
		int64_t lo, hi;
		report_event_ids(c, &lo, &hi);
		sqlite3_bind_int64(q, 7, lo);
		sqlite3_bind_int64(q, 8, hi);
	}
	report_rollup_bind(c, q);
}

struct report_table *report_query(struct report_ctx *c, const char *title, const char *sql,
				  const char *types, const char *const *names, const char *arg)
{
	return report_query_page(c, title, sql, types, names, arg, 0, LLONG_MAX, NULL);
}

struct report_table *report_query_page(struct report_ctx *c, const char *title, const char *sql,
				       const char *types, const char *const *names, const char *arg,
				       long long skip, long long take, long long *total)
{
	long long seen = 0;
	if (total)
		*total = 0;
	struct report_table *t = report_table_new(title);
	sqlite3_stmt *q;
	if (!c->db || sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK) {
		/* A table a part of mitsu has not created yet: an empty table with the columns. */
		for (int i = 0; names && types[i]; i++)
			add_col(t, names[i], types[i]);
		if (c->db && !strstr(sqlite3_errmsg(c->db), "no such"))
			log_warn("report", "%s: %s", title, sqlite3_errmsg(c->db));
		return t;
	}
	uint64_t t0 = lib_mono_us();
	int n = sqlite3_column_count(q);
	for (int i = 0; i < n && types[i]; i++)
		add_col(t, names ? names[i] : sqlite3_column_name(q, i), types[i]);
	report_bind(c, q);
	if (sqlite3_bind_parameter_count(q) >= 5 && arg)
		sqlite3_bind_text(q, 5, arg, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(q) == SQLITE_ROW) {
		long long at = seen++;
		if (at < skip || at - skip >= take)
			continue;
		report_table_row(t);
		for (int i = 0; i < n && types[i]; i++) {
			if (sqlite3_column_type(q, i) == SQLITE_NULL) {
				report_table_null(t);
				continue;
			}
			switch (types[i]) {
			case 'i': report_table_int(t, sqlite3_column_int64(q, i)); break;
			case 'r':
			case 'p': report_table_real(t, sqlite3_column_double(q, i)); break;
			default:
				report_table_bytes(t, sqlite3_column_text(q, i),
						   (size_t)sqlite3_column_bytes(q, i));
			}
		}
	}
	sqlite3_finalize(q);
	if (total)
		*total = seen;
	log_debug("report", "%s: %zu rows (of %lld) in %.1f ms", title, report_table_nrows(t), seen,
		  (double)(lib_mono_us() - t0) / 1000.0);
	return t;
}

struct report_table *report_json_table(const char *title, const json_t *rows,
				       const char *const *keys, const char *types)
{
	struct report_table *t = report_table_new(title);
	for (int i = 0; keys[i]; i++)
		add_col(t, keys[i], types[i]);
	size_t idx;
	json_t *row;
	json_array_foreach(rows, idx, row) {
		report_table_row(t);
		for (int i = 0; keys[i]; i++) {
			json_t *v = json_object_get(row, keys[i]);
			if (json_is_string(v))
				report_table_str(t, json_string_value(v));
			else if (json_is_integer(v))
				report_table_int(t, json_integer_value(v));
			else if (json_is_number(v))
				report_table_real(t, json_number_value(v));
			else if (json_is_boolean(v))
				report_table_str(t, json_is_true(v) ? "yes" : "no");
			else
				report_table_null(t);
		}
	}
	return t;
}

int64_t report_bucket(const struct report_ctx *c, int64_t first, int64_t last)
{
	int64_t from = c->since_unix > first ? c->since_unix : first;
	int64_t to = c->until_unix < last ? c->until_unix : last;
	return to - from > 14 * 86400 ? 86400 : 3600;
}

void report_time_chart(struct report_ctx *c, const char *name, const struct report_chart *tmpl,
		       const char *sql, const char *const *series, int nseries, int64_t bucket)
{
	sqlite3_stmt *q;
	if (nseries < 1 || nseries > 8 || !c->db ||
	    sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(q, 1, c->since, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->until, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(q) >= 3)
		sqlite3_bind_int64(q, 3, bucket);
	report_rollup_bind(c, q);
	size_t n = 0, cap = 64;
	int64_t *times = xmalloc(cap * sizeof(*times));
	double *vals[8];
	for (int k = 0; k < nseries; k++)
		vals[k] = xmalloc(cap * sizeof(double));
	while (n < REPORT_MAX_POINTS && sqlite3_step(q) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			times = xrealloc(times, cap * sizeof(*times));
			for (int k = 0; k < nseries; k++)
				vals[k] = xrealloc(vals[k], cap * sizeof(double));
		}
		int64_t t = sqlite3_column_int64(q, 0);
		if (n && t <= times[n - 1])
			continue; /* a chart's times increase */
		times[n] = t;
		for (int k = 0; k < nseries; k++)
			vals[k][n] = sqlite3_column_double(q, k + 1);
		n++;
	}
	sqlite3_finalize(q);
	if (n >= 2) {
		struct report_series s[8];
		for (int k = 0; k < nseries; k++)
			s[k] = (struct report_series){
				.name = series[k], .values = vals[k], .highlight = k == 0};
		struct report_chart ch = *tmpl;
		ch.times = times;
		ch.npoints = n;
		ch.series = s;
		ch.nseries = (size_t)nseries;
		report_emit_chart(c, name, &ch);
	}
	free(times);
	for (int k = 0; k < nseries; k++)
		free(vals[k]);
}

/* First or last value of a time column in the window, by its index. */
static bool span_end(struct report_ctx *c, const char *table, const char *col, bool last,
		     int64_t *out)
{
	char *sql = xasprintf("SELECT %s FROM %s WHERE %s >= ?1 AND %s < ?2 ORDER BY %s %s LIMIT 1",
			      col, table, col, col, col, last ? "DESC" : "ASC");
	sqlite3_stmt *q;
	bool ok = sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) == SQLITE_OK;
	free(sql);
	if (!ok)
		return false;
	sqlite3_bind_text(q, 1, c->since, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->until, -1, SQLITE_STATIC);
	int64_t us;
	ok = sqlite3_step(q) == SQLITE_ROW &&
	     lib_parse_time((const char *)sqlite3_column_text(q, 0), &us) == 0;
	if (ok)
		*out = us / 1000000;
	sqlite3_finalize(q);
	return ok;
}

bool report_span(struct report_ctx *c, const char *table, const char *col, int64_t *first,
		 int64_t *last)
{
	return c->db && span_end(c, table, col, false, first) &&
	       span_end(c, table, col, true, last);
}
