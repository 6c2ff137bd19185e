/* web: the pages. Each is a report section (or one sample, or one address) rendered by
 * src/report into HTML inside the dashboard's frame (navigation, window, address look-up), or
 * into JSON for /api/. Every value from the store goes through report_escape_xml (HTML) or
 * jansson (JSON); the only markup written here is the code's own. */
#include <stdlib.h>
#include <string.h>

#include "box/box.h"
#include "web/web_int.h"

#define WEB_EVENTS_LIVE 100 /* events per /api/events answer when following */

/* The windows offered on every page. */
static const char *const windows[] = {"1h", "24h", "7d", "30d", "all"};

void web_url_encode(struct buf *b, const char *s)
{
	report_url_encode(b, s, strlen(s));
}

static void esc(struct buf *b, const char *s)
{
	report_escape_xml(b, s, strlen(s));
}

/* The page's frame up to <main>: the title, our stylesheet and script (no inline code), the
 * page's JSON URL and poll period for the script, the navigation. */
static void head(struct web_server *w, struct buf *b, const char *title, const char *current,
		 const char *api)
{
	buf_append_str(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			  "<title>mitsu: ");
	esc(b, title);
	buf_append_str(
		b, "</title><link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
		   "<link rel=\"stylesheet\" href=\"/static/style.css\">"
		   "<script src=\"/static/app.js\" defer></script></head>\n<body data-api=\"");
	esc(b, api);
	buf_printf(b, "\" data-refresh=\"%d\" data-page=\"", w->refresh);
	esc(b, current);
	buf_append_str(
		b, "\">\n<header><a class=\"brand\" href=\"/\">mitsu</a> <span class=\"sensor\">");
	esc(b, w->sensor);
	buf_append_str(b, "</span><nav>");
	sqlite3 *db = web_db(w);
	for (size_t i = 0; report_sections[i]; i++) {
		const struct report_section *s = report_sections[i];
		if (s->present && !s->present(db))
			continue;
		buf_printf(b, "<a href=\"/%s\"%s>", strcmp(s->name, "overview") ? s->name : "",
			   strcmp(s->name, current) == 0 ? " class=\"here\"" : "");
		esc(b, s->title);
		buf_append_str(b, "</a>");
	}
	buf_append_str(b, "</nav><form action=\"/ip\" method=\"get\"><input name=\"addr\" "
			  "placeholder=\"an address\" aria-label=\"address\" size=\"18\"><button>"
			  "Look up</button></form><span id=\"status\" class=\"muted\"></span>"
			  "</header>\n<main>\n<h1>");
	esc(b, title);
	buf_append_str(b, "</h1>\n");
}

static void tail(struct buf *b)
{
	buf_append_str(b, "</main>\n</body></html>\n");
}

/* The window bar: what the page covers and links to the other windows. */
static void window_bar(struct buf *b, const struct report_ctx *c, const char *path,
		       const char *current)
{
	buf_append_str(b, "<p class=\"window\">From ");
	esc(b, c->since_unix == INT64_MIN ? "the start" : c->since);
	buf_append_str(b, " to ");
	esc(b, c->until_unix == INT64_MAX ? "now" : c->until);
	buf_append_str(b, ". Window:");
	for (size_t i = 0; i < LIB_ARRAY_LEN(windows); i++) {
		bool here = current && strcmp(current, windows[i]) == 0;
		buf_printf(b, " <a href=\"%s?window=%s\"%s>%s</a>", path, windows[i],
			   here ? " class=\"here\"" : "", windows[i]);
	}
	buf_append_str(b, "</p>\n");
}

/* The search, sort and paging form of the samples list (works without JavaScript). */
static void samples_form(struct buf *b, const struct web_query *q, const json_t *json)
{
	static const char *const sorts[] = {"first_seen", "last_seen", "seen",    "size",  "arch",
					    "type",       "family",    "verdict", "sha256"};
	buf_append_str(b, "<form class=\"list\" action=\"/samples\" method=\"get\">"
			  "<input name=\"q\" placeholder=\"search hashes, CPU, family\" value=\"");
	esc(b, q->search);
	buf_append_str(b, "\" aria-label=\"search\"> <select name=\"sort\" aria-label=\"sort\">");
	for (size_t i = 0; i < LIB_ARRAY_LEN(sorts); i++)
		buf_printf(b, "<option%s>%s</option>",
			   strcmp(q->sort[0] ? q->sort : "first_seen", sorts[i]) ? "" : " selected",
			   sorts[i]);
	buf_printf(b,
		   "</select> <select name=\"order\" aria-label=\"order\"><option%s>desc</option>"
		   "<option%s>asc</option></select> <input type=\"hidden\" name=\"window\" "
		   "value=\"%s\"><button>Show</button></form>\n",
		   q->ascending ? "" : " selected", q->ascending ? " selected" : "",
		   q->window[0] ? "" : "all");
	json_int_t total = json_integer_value(json_object_get(json, "samples_total"));
	buf_printf(b, "<p class=\"muted\">%lld samples match; rows %d to %lld.", (long long)total,
		   q->offset + 1,
		   (long long)(q->offset + q->limit < total ? q->offset + q->limit : total));
	struct buf base;
	buf_init(&base, 0);
	buf_append_str(&base, "/samples?q=");
	web_url_encode(&base, q->search);
	buf_printf(&base, "&sort=%s&order=%s&limit=%d", q->sort[0] ? q->sort : "first_seen",
		   q->ascending ? "asc" : "desc", q->limit);
	if (q->offset > 0) {
		buf_append_str(b, " <a href=\"");
		esc(b, (const char *)base.data);
		buf_printf(b, "&amp;offset=%d\">previous</a>",
			   q->offset > q->limit ? q->offset - q->limit : 0);
	}
	if (q->offset + q->limit < total) {
		buf_append_str(b, " <a href=\"");
		esc(b, (const char *)base.data);
		buf_printf(b, "&amp;offset=%d\">next</a>", q->offset + q->limit);
	}
	buf_free(&base);
	buf_append_str(b, "</p>\n");
}

/* The context of a page: the store, its window (the query's, or the section's default). */
static void page_ctx(struct web_server *w, struct report_ctx *c, struct core_store *st,
		     const struct web_query *q, int64_t default_window)
{
	st->db = web_db(w);
	st->data_dir = w->data_dir;
	st->writer = NULL;
	if (st->db && !w->roll_attached) {
		w->roll_attached = report_rollup_attach(st->db, w->data_dir);
		report_trace(st->db);
	}
	report_ctx_init(c, st);
	c->dashboard = true;
	c->top = REPORT_TOP;
	if (q->has_window) {
		report_ctx_window_unix(c, q->since, q->until);
	} else if (default_window > 0) {
		report_ctx_window_unix(c, lib_real_us() / 1000000 - default_window, INT64_MAX);
		c->window_default = true;
	}
	c->search = q->search[0] ? q->search : NULL;
	c->sort = q->sort[0] ? q->sort : NULL;
	c->ascending = q->ascending;
	c->limit = q->limit;
	c->offset = q->offset;
}

/* The JSON answer: the context's tables and charts with the page's name and window. */
static void reply_json(struct web_reply *out, struct report_ctx *c, const char *page,
		       const char *title)
{
	json_object_set_new(c->json, "page", json_string(page));
	json_object_set_new(c->json, "title", core_json_str(title));
	json_object_set_new(c->json, "since",
			    c->since_unix == INT64_MIN ? json_null() : json_string(c->since));
	json_object_set_new(c->json, "until",
			    c->until_unix == INT64_MAX ? json_null() : json_string(c->until));
	char now[LIB_RFC3339_LEN];
	lib_rfc3339_now(now);
	json_object_set_new(c->json, "generated", json_string(now));
	json_object_set(c->json, "tables", c->order);
	char *s = json_dumps(c->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
	out->type = "application/json; charset=utf-8";
	buf_append_str(&out->body, s ? s : "{}");
	free(s);
}

/* The query's window as URL parameters, each followed by '&'. */
static void window_query(struct buf *b, const struct web_query *q)
{
	if (q->window[0])
		buf_printf(b, "window=%s&", q->window);
	if (q->has_window && !q->window[0]) {
		char s[LIB_RFC3339_LEN], u[LIB_RFC3339_LEN];
		struct timespec ts = {.tv_sec = (time_t)q->since};
		lib_rfc3339(&ts, s);
		ts.tv_sec = (time_t)q->until;
		lib_rfc3339(&ts, u);
		if (q->since != INT64_MIN)
			buf_printf(b, "since=%s&", s);
		if (q->until != INT64_MAX)
			buf_printf(b, "until=%s&", u);
	}
}

/* The URL of a page's JSON, with the query that matters for it. */
static void api_url(struct buf *b, const char *path, const struct web_query *q)
{
	buf_printf(b, "/api%s?", path);
	window_query(b, q);
	if (q->search[0]) {
		buf_append_str(b, "q=");
		web_url_encode(b, q->search);
		buf_append_str(b, "&");
	}
	if (q->sort[0])
		buf_printf(b, "sort=%s&", q->sort);
	buf_printf(b, "order=%s&limit=%d&offset=%d", q->ascending ? "asc" : "desc", q->limit,
		   q->offset);
}

static void render_section(struct web_server *w, const struct report_section *s,
			   const struct web_route *r, const struct web_query *q,
			   struct web_reply *out)
{
	struct core_store st;
	struct report_ctx c;
	page_ctx(w, &c, &st, q, s->window);
	if (r->api) {
		if (st.db)
			s->build(&c);
		reply_json(out, &c, s->name, s->title);
		report_ctx_free(&c);
		return;
	}
	char path[64];
	snprintf(path, sizeof(path), "/%s", strcmp(s->name, "overview") ? s->name : "");
	struct buf api, html, self;
	buf_init(&api, 0);
	buf_init(&html, 0);
	buf_init(&self, 0);
	api_url(&api, strcmp(s->name, "overview") ? path : "/overview", q);
	buf_printf(&self, "%s?", path);
	window_query(&self, q);
	c.page_url = (const char *)self.data;
	c.html = &html;
	if (st.db)
		s->build(&c);
	head(w, &out->body, s->title, s->name, (const char *)api.data);
	const char *win = q->window[0]        ? q->window
			  : q->has_window     ? NULL
			  : s->window == 0    ? "all"
			  : s->window == 3600 ? "1h"
					      : "24h";
	window_bar(&out->body, &c, path, win);
	if (strcmp(s->name, "samples") == 0)
		samples_form(&out->body, q, c.json);
	if (!st.db)
		buf_append_str(&out->body, "<p>The store is empty: nothing recorded yet.</p>\n");
	buf_append(&out->body, html.data, html.len);
	tail(&out->body);
	out->type = "text/html; charset=utf-8";
	buf_free(&api);
	buf_free(&html);
	buf_free(&self);
	report_ctx_free(&c);
}

static void not_found(struct web_reply *out, const char *what)
{
	out->status = 404;
	out->type = "text/plain; charset=utf-8";
	buf_reset(&out->body);
	buf_append_str(&out->body, what);
	buf_append_str(&out->body, "\n");
}

static void render_sample(struct web_server *w, const struct web_route *r,
			  const struct web_query *q, struct web_reply *out)
{
	struct core_store st;
	struct report_ctx c;
	page_ctx(w, &c, &st, q, 0);
	struct buf html;
	buf_init(&html, 0);
	c.html = r->api ? NULL : &html;
	if (!st.db || report_sample(&c, r->arg) != 0) {
		not_found(out, "no such sample");
	} else if (r->api) {
		json_object_set_new(c.json, "sha256", json_string(r->arg));
		reply_json(out, &c, "sample", r->arg);
	} else {
		char *api = xasprintf("/api/sample/%s", r->arg);
		head(w, &out->body, "Sample", "samples", api);
		free(api);
		buf_printf(&out->body, "<p class=\"mono\">%s</p>\n", r->arg);
		if (json_is_true(json_object_get(c.json, "pcap")))
			buf_printf(&out->body,
				   "<p><a href=\"/sample/%s/pcap\" download>The sandbox's packet "
				   "capture (pcap)</a></p>\n",
				   r->arg);
		else if (!json_object_get(c.json, "verdict"))
			buf_append_str(&out->body,
				       "<p class=\"muted\" id=\"no-verdict\">No sandbox "
				       "verdict yet.</p>\n");
		buf_append(&out->body, html.data, html.len);
		tail(&out->body);
		out->type = "text/html; charset=utf-8";
	}
	buf_free(&html);
	report_ctx_free(&c);
}

static void render_ip(struct web_server *w, const struct web_route *r, const struct web_query *q,
		      struct web_reply *out)
{
	const char *addr = r->arg[0] ? r->arg : q->addr;
	if (!addr[0]) {
		not_found(out, "give an address: /ip/ADDR or /ip?addr=ADDR");
		return;
	}
	struct core_store st;
	struct report_ctx c;
	page_ctx(w, &c, &st, q, 0);
	struct buf html;
	buf_init(&html, 0);
	c.html = r->api ? NULL : &html;
	if (st.db)
		report_ip(&c, addr, w->location_db);
	if (r->api) {
		reply_json(out, &c, "ip", addr);
	} else {
		char *api = xasprintf("/api/ip/%s", addr);
		char *title = xasprintf("Address %s", addr);
		head(w, &out->body, title, "ip", api);
		free(api);
		free(title);
		buf_append(&out->body, html.data, html.len);
		tail(&out->body);
		out->type = "text/html; charset=utf-8";
	}
	buf_free(&html);
	report_ctx_free(&c);
}

void web_render(struct web_server *w, const struct web_route *r, const struct web_query *q,
		struct web_reply *out)
{
	switch (r->kind) {
	case WEB_R_SECTION: render_section(w, r->section, r, q, out); break;
	case WEB_R_SAMPLE: render_sample(w, r, q, out); break;
	case WEB_R_IP: render_ip(w, r, q, out); break;
	default: not_found(out, "not found"); break;
	}
}

/* /api/events: the latest events (newest first), or with ?after=ID the ones after it (oldest
 * first, for following the stream), through the primary key; of one type (?type=) through
 * events_eventid (eventid, id), whose entries of a type are in id order: its latest are read
 * without reading the other types' rows (a test that tolerated no type, "?2 IS NULL OR", kept
 * the planner on the primary key, reading every row newer than the type's latest). */
void web_render_events(struct web_server *w, const struct web_query *q, struct web_reply *out)
{
	out->type = "application/json; charset=utf-8";
	json_t *evs = json_array();
	sqlite3 *db = web_db(w);
	sqlite3_stmt *st = NULL;
	static const char *const sqls[2][2] = {
		{"SELECT id, json FROM events ORDER BY id DESC LIMIT ?3",
		 "SELECT id, json FROM events WHERE id > ?1 ORDER BY id LIMIT ?3"},
		{"SELECT id, json FROM events WHERE eventid = ?2 ORDER BY id DESC LIMIT ?3",
		 "SELECT id, json FROM events WHERE eventid = ?2 AND id > ?1 ORDER BY id LIMIT ?3"},
	};
	const char *sql = sqls[q->type[0] != 0][q->has_after];
	int64_t last = q->has_after ? q->after : 0;
	if (db && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, q->after);
		if (q->type[0])
			sqlite3_bind_text(st, 2, q->type, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 3,
				 q->has_after && q->limit > WEB_EVENTS_LIVE ? WEB_EVENTS_LIVE
									    : q->limit);
		while (sqlite3_step(st) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);
			json_t *ev = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
			if (!ev)
				continue;
			json_object_set_new(ev, "id", json_integer(id));
			json_array_append_new(evs, ev);
			if (id > last)
				last = id;
		}
		sqlite3_finalize(st);
	}
	json_t *o = json_pack("{s:o,s:I}", "events", evs, "last_id", (json_int_t)last);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	buf_append_str(&out->body, s ? s : "{}");
	free(s);
}
