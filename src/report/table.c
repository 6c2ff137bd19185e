/* report: tables, rendered as text, CSV, JSON or HTML. */
#include "report/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cell {
	enum { CELL_NONE, CELL_STR, CELL_INT, CELL_UINT, CELL_REAL } kind;
	char *s;
	size_t slen;
	long long i;
	uint64_t u;
	double d;
};

struct col {
	char *name;
	enum report_type type;
	int decimals;
	char *link; /* HTML: each text cell links to link + the cell, percent-encoded */
};

struct report_table {
	char *title;
	struct col cols[REPORT_MAX_COLS];
	int ncols;
	struct cell *cells; /* nrows * ncols */
	size_t nrows, cap;
	int at; /* next column of the current row */
};

int report_format_parse(const char *s, enum report_format *out)
{
	static const struct {
		const char *name;
		enum report_format f;
	} names[] = {{"text", REPORT_TEXT},
		     {"table", REPORT_TEXT},
		     {"csv", REPORT_CSV},
		     {"json", REPORT_JSON},
		     {"html", REPORT_HTML}};
	for (size_t i = 0; i < LIB_ARRAY_LEN(names); i++)
		if (!strcmp(s, names[i].name)) {
			*out = names[i].f;
			return 0;
		}
	return -EINVAL;
}

struct report_table *report_table_new(const char *title)
{
	struct report_table *t = xcalloc(1, sizeof(*t));
	t->title = title ? xstrdup(title) : NULL;
	return t;
}

static void cell_free(struct cell *c)
{
	free(c->s);
}

void report_table_free(struct report_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		cell_free(&t->cells[i]);
	for (int i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].link);
	}
	free(t->cells);
	free(t->title);
	free(t);
}

int report_table_col(struct report_table *t, const char *name, enum report_type type, int decimals)
{
	if (t->ncols == REPORT_MAX_COLS || t->nrows)
		return -E2BIG;
	t->cols[t->ncols++] = (struct col){.name = xstrdup(name),
					   .type = type,
					   .decimals = decimals < 0    ? 0
						       : decimals > 12 ? 12
								       : decimals};
	return 0;
}

void report_table_row(struct report_table *t)
{
	if (!t->ncols)
		return;
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, t->cap * (size_t)t->ncols * sizeof(*t->cells));
	}
	memset(&t->cells[t->nrows * (size_t)t->ncols], 0, (size_t)t->ncols * sizeof(*t->cells));
	t->nrows++;
	t->at = 0;
}

static struct cell *next_cell(struct report_table *t)
{
	if (!t->nrows || t->at >= t->ncols)
		return NULL;
	return &t->cells[(t->nrows - 1) * (size_t)t->ncols + (size_t)t->at++];
}

void report_table_bytes(struct report_table *t, const void *p, size_t n)
{
	struct cell *c = next_cell(t);
	if (!c)
		return;
	if (n > REPORT_MAX_CELL)
		n = REPORT_MAX_CELL;
	c->kind = CELL_STR;
	c->s = xmalloc(n + 1);
	memcpy(c->s, p, n);
	c->s[n] = 0;
	c->slen = n;
}

void report_table_str(struct report_table *t, const char *s)
{
	if (!s) {
		report_table_null(t);
		return;
	}
	report_table_bytes(t, s, strlen(s));
}

void report_table_int(struct report_table *t, long long v)
{
	struct cell *c = next_cell(t);
	if (c) {
		c->kind = CELL_INT;
		c->i = v;
	}
}

void report_table_uint(struct report_table *t, uint64_t v)
{
	struct cell *c = next_cell(t);
	if (c) {
		c->kind = CELL_UINT;
		c->u = v;
	}
}

void report_table_real(struct report_table *t, double v)
{
	struct cell *c = next_cell(t);
	if (c) {
		c->kind = CELL_REAL;
		c->d = v;
	}
}

void report_table_null(struct report_table *t)
{
	next_cell(t);
}

size_t report_table_nrows(const struct report_table *t)
{
	return t->nrows;
}

void report_table_link(struct report_table *t, int col, const char *prefix)
{
	if (col < 0 || col >= t->ncols)
		return;
	free(t->cols[col].link);
	t->cols[col].link = prefix ? xstrdup(prefix) : NULL;
}

const char *report_table_col_link(const struct report_table *t, int i)
{
	return i >= 0 && i < t->ncols ? t->cols[i].link : NULL;
}

void report_url_encode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
		    ch == ':') {
			buf_append(b, &s[i], 1);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			buf_append(b, e, 3);
		}
	}
}

const char *report_table_title(const struct report_table *t)
{
	return t->title;
}

int report_table_ncols(const struct report_table *t)
{
	return t->ncols;
}

const char *report_table_col_name(const struct report_table *t, int i)
{
	return i >= 0 && i < t->ncols ? t->cols[i].name : "";
}

enum report_type report_table_col_type(const struct report_table *t, int i)
{
	return i >= 0 && i < t->ncols ? t->cols[i].type : REPORT_STR;
}

/* The cell as text for people (text and HTML): numbers formatted by the column. For
 * machines (CSV) percentages are plain numbers and no unit is added. */
static void cell_text(const struct col *col, const struct cell *c, bool people, struct buf *b)
{
	switch (c->kind) {
	case CELL_NONE: break;
	case CELL_STR: buf_append(b, c->s, c->slen); break;
	case CELL_INT: buf_printf(b, "%lld", c->i); break;
	case CELL_UINT: buf_printf(b, "%llu", (unsigned long long)c->u); break;
	case CELL_REAL: {
		double v = col->type == REPORT_PERCENT ? c->d * 100.0 : c->d;
		if (!isfinite(v)) {
			buf_append_str(b, people ? "-" : "");
			break;
		}
		buf_printf(b, "%.*f", col->decimals, v);
		if (people && col->type == REPORT_PERCENT)
			buf_append_str(b, " %");
		break;
	}
	}
}

/* Display width of UTF-8 text: code points, with control bytes shown as one '?'. */
static size_t width_of(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* Text for a terminal: control characters become '?', so a cell cannot move the cursor. */
static void append_printable(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char o = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
		buf_append(out, &o, 1);
	}
}

static void pad(struct buf *out, size_t n)
{
	static const char sp[] = "                                ";
	while (n) {
		size_t k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;
		buf_append(out, sp, k);
		n -= k;
	}
}

static int render_text(const struct report_table *t, struct buf *out)
{
	size_t w[REPORT_MAX_COLS];
	struct buf cellb;
	buf_init(&cellb, REPORT_MAX_CELL * 4 + 64);
	for (int c = 0; c < t->ncols; c++)
		w[c] = width_of(t->cols[c].name, strlen(t->cols[c].name));
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			buf_reset(&cellb);
			cell_text(&t->cols[c], &t->cells[r * (size_t)t->ncols + (size_t)c], true,
				  &cellb);
			size_t cw = width_of((const char *)cellb.data, cellb.len);
			if (cw > w[c])
				w[c] = cw;
		}
	if (t->title) {
		append_printable(out, t->title, strlen(t->title));
		buf_append_str(out, "\n");
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *name = t->cols[c].name;
			size_t nw = width_of(name, strlen(name));
			bool right = t->cols[c].type != REPORT_STR;
			if (c)
				buf_append_str(out, "  ");
			if (pass == 0) {
				if (right)
					pad(out, w[c] - nw);
				append_printable(out, name, strlen(name));
				if (!right && c + 1 < t->ncols)
					pad(out, w[c] - nw);
			} else {
				for (size_t k = 0; k < w[c]; k++)
					buf_append(out, "-", 1);
			}
		}
		buf_append_str(out, "\n");
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			buf_reset(&cellb);
			cell_text(&t->cols[c], &t->cells[r * (size_t)t->ncols + (size_t)c], true,
				  &cellb);
			size_t cw = width_of((const char *)cellb.data, cellb.len);
			bool right = t->cols[c].type != REPORT_STR;
			if (c)
				buf_append_str(out, "  ");
			if (right)
				pad(out, w[c] - cw);
			append_printable(out, (const char *)cellb.data, cellb.len);
			if (!right && c + 1 < t->ncols)
				pad(out, w[c] - cw);
		}
		buf_append_str(out, "\n");
	}
	buf_free(&cellb);
	return 0;
}

int report_escape_csv(struct buf *out, const char *s, size_t n)
{
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	/* A leading = + - @ is quoted too, with a ' in front, so a spreadsheet does not run it. */
	bool formula = n && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@');
	if (formula) {
		bool numeric = true;
		for (size_t i = 1; i < n && numeric; i++)
			numeric = (s[i] >= '0' && s[i] <= '9') || s[i] == '.';
		formula = !(numeric && n > 1 && s[0] == '-');
	}
	if (!quote && !formula)
		return buf_append(out, s, n);
	int rc = buf_append(out, "\"", 1);
	if (formula)
		rc |= buf_append(out, "'", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			rc |= buf_append(out, "\"\"", 2);
		else
			rc |= buf_append(out, &s[i], 1);
	}
	rc |= buf_append(out, "\"", 1);
	return rc;
}

int report_escape_xml(struct buf *out, const char *s, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '<': rc |= buf_append_str(out, "&lt;"); break;
		case '>': rc |= buf_append_str(out, "&gt;"); break;
		case '&': rc |= buf_append_str(out, "&amp;"); break;
		case '"': rc |= buf_append_str(out, "&quot;"); break;
		case '\'': rc |= buf_append_str(out, "&#39;"); break;
		default:
			/* XML 1.0 forbids most control characters, even escaped. */
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				rc |= buf_append(out, "?", 1);
			else
				rc |= buf_append(out, &s[i], 1);
		}
	}
	return rc;
}

static int render_csv(const struct report_table *t, struct buf *out)
{
	struct buf cellb;
	buf_init(&cellb, REPORT_MAX_CELL * 4 + 64);
	for (int c = 0; c < t->ncols; c++) {
		if (c)
			buf_append(out, ",", 1);
		report_escape_csv(out, t->cols[c].name, strlen(t->cols[c].name));
	}
	buf_append_str(out, "\r\n");
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			if (c)
				buf_append(out, ",", 1);
			buf_reset(&cellb);
			const struct cell *cl = &t->cells[r * (size_t)t->ncols + (size_t)c];
			cell_text(&t->cols[c], cl, false, &cellb);
			if (cl->kind == CELL_STR)
				report_escape_csv(out, (const char *)cellb.data, cellb.len);
			else
				buf_append(out, cellb.data, cellb.len);
		}
		buf_append_str(out, "\r\n");
	}
	buf_free(&cellb);
	return 0;
}

static json_t *cell_json(const struct col *col, const struct cell *c)
{
	switch (c->kind) {
	case CELL_STR: {
		json_t *j = json_stringn(c->s, c->slen);
		if (j)
			return j;
		/* Not UTF-8: keep it readable and lossless enough, byte by byte. */
		struct buf b;
		buf_init(&b, c->slen * 4 + 16);
		buf_append_escaped(&b, c->s, c->slen);
		j = json_string((const char *)b.data);
		buf_free(&b);
		return j ? j : json_null();
	}
	case CELL_INT: return json_integer(c->i);
	case CELL_UINT:
		return c->u > (uint64_t)INT64_MAX ? json_real((double)c->u)
						  : json_integer((json_int_t)c->u);
	case CELL_REAL: {
		double v = col->type == REPORT_PERCENT ? c->d * 100.0 : c->d;
		if (!isfinite(v))
			return json_null();
		/* Rounded to the column's decimals, so JSON says what the table says. */
		double scale = pow(10.0, col->decimals);
		return json_real(round(v * scale) / scale);
	}
	default: return json_null();
	}
}

json_t *report_table_json(const struct report_table *t)
{
	json_t *rows = json_array();
	for (size_t r = 0; r < t->nrows; r++) {
		json_t *o = json_object();
		for (int c = 0; c < t->ncols; c++)
			json_object_set_new(o, t->cols[c].name,
					    cell_json(&t->cols[c],
						      &t->cells[r * (size_t)t->ncols + (size_t)c]));
		json_array_append_new(rows, o);
	}
	return rows;
}

static int render_html(const struct report_table *t, struct buf *out)
{
	struct buf cellb;
	buf_init(&cellb, REPORT_MAX_CELL * 4 + 64);
	buf_append_str(out, "<table>\n");
	if (t->title) {
		buf_append_str(out, "<caption>");
		report_escape_xml(out, t->title, strlen(t->title));
		buf_append_str(out, "</caption>\n");
	}
	buf_append_str(out, "<thead><tr>");
	for (int c = 0; c < t->ncols; c++) {
		buf_append_str(out, t->cols[c].type == REPORT_STR ? "<th>" : "<th class=\"num\">");
		report_escape_xml(out, t->cols[c].name, strlen(t->cols[c].name));
		buf_append_str(out, "</th>");
	}
	buf_append_str(out, "</tr></thead>\n<tbody>\n");
	for (size_t r = 0; r < t->nrows; r++) {
		buf_append_str(out, "<tr>");
		for (int c = 0; c < t->ncols; c++) {
			buf_reset(&cellb);
			cell_text(&t->cols[c], &t->cells[r * (size_t)t->ncols + (size_t)c], true,
				  &cellb);
			buf_append_str(out, t->cols[c].type == REPORT_STR ? "<td>"
									  : "<td class=\"num\">");
			const struct cell *cl = &t->cells[r * (size_t)t->ncols + (size_t)c];
			bool link = t->cols[c].link && cl->kind == CELL_STR && cl->slen;
			if (link) {
				/* The prefix is the code's; the cell is encoded, then escaped. */
				struct buf href;
				buf_init(&href, 0);
				buf_append_str(&href, t->cols[c].link);
				report_url_encode(&href, cl->s, cl->slen);
				buf_append_str(out, "<a href=\"");
				report_escape_xml(out, (const char *)href.data, href.len);
				buf_append_str(out, "\">");
				buf_free(&href);
			}
			report_escape_xml(out, (const char *)cellb.data, cellb.len);
			buf_append_str(out, link ? "</a></td>" : "</td>");
		}
		buf_append_str(out, "</tr>\n");
	}
	buf_append_str(out, "</tbody>\n</table>\n");
	buf_free(&cellb);
	return 0;
}

int report_table_render(const struct report_table *t, enum report_format fmt, struct buf *out)
{
	switch (fmt) {
	case REPORT_TEXT: return render_text(t, out);
	case REPORT_CSV: return render_csv(t, out);
	case REPORT_HTML: return render_html(t, out);
	case REPORT_JSON: {
		json_t *j = report_table_json(t);
		char *s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (!s)
			return -ENOMEM;
		int rc = buf_append_str(out, s);
		free(s);
		return rc;
	}
	}
	return -EINVAL;
}
