/* `mitsu report`, WebUI section: the seed's two WebUI tables (SUMMARY.md §2) per web profile,
 * from the stored web events: distinct source hosts with requests, trying to log in, logged
 * in and doing device-specific access; then the hosts per intent (and per action and outcome,
 * as the seed lists them), and the hosts per exploit signature. JSON: `webui`, a list with one
 * object per profile: profile, hosts_requests, hosts_login_attempts, hosts_login_success,
 * hosts_device_access, intents {intent: hosts}, plus outcomes, actions and exploits. */
#include <string.h>

#include "report/report.h"

/* Every table reads temp.web_w, the window's distinct sources per profile and key
 * (report_web_window: from the roll-up and the raw edges, or raw). */
static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_warn("report", "webui: %s", sqlite3_errmsg(db));
		return NULL;
	}
	return q;
}

static const char *col(sqlite3_stmt *q, int i)
{
	const char *s = (const char *)sqlite3_column_text(q, i);
	return s ? s : "?";
}

/* One object per profile, in the order of `profiles`; created on first sight. */
static json_t *profile_obj(json_t *profiles, const char *name)
{
	size_t i;
	json_t *o;
	json_array_foreach(profiles, i, o) {
		if (strcmp(json_string_value(json_object_get(o, "profile")), name) == 0)
			return o;
	}
	o = json_pack("{s:s,s:i,s:i,s:i,s:i,s:{},s:{},s:{},s:{}}", "profile", name,
		      "hosts_requests", 0, "hosts_login_attempts", 0, "hosts_login_success", 0,
		      "hosts_device_access", 0, "intents", "outcomes", "actions", "exploits");
	json_array_append_new(profiles, o);
	return o;
}

/* What every part of the section needs. */
struct wctx {
	sqlite3 *db;
	json_t *profiles; /* the "webui" list */
};

/* The first table: distinct hosts per stage, per profile. Returns the table, or NULL when
 * there are no web events. */
static struct report_table *hosts_table(struct wctx *w)
{
	sqlite3_stmt *q = prepare(w->db, "SELECT p, total(n * (kind = 0)), total(n * (kind = 1)),"
					 " total(n * (kind = 2)), total(n * (kind = 3)) FROM"
					 " temp.web_w WHERE kind <= 3 GROUP BY 1 ORDER BY 1");
	if (!q)
		return NULL;
	struct report_table *t =
		report_table_new("WebUI: distinct source hosts per device (seed §2, first table)");
	static const char *const cols[] = {"device profile", "hosts with requests",
					   "hosts trying to log in", "hosts logged in",
					   "hosts doing device-specific access"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cols); i++)
		report_table_col(t, cols[i], i ? REPORT_INT : REPORT_STR, 0);
	static const char *const keys[] = {"hosts_requests", "hosts_login_attempts",
					   "hosts_login_success", "hosts_device_access"};
	while (sqlite3_step(q) == SQLITE_ROW) {
		json_t *o = profile_obj(w->profiles, col(q, 0));
		report_table_row(t);
		report_table_str(t, col(q, 0));
		for (int k = 0; k < 4; k++) {
			json_object_set_new(o, keys[k],
					    json_integer(sqlite3_column_int64(q, k + 1)));
			report_table_int(t, sqlite3_column_int64(q, k + 1));
		}
	}
	sqlite3_finalize(q);
	if (report_table_nrows(t) == 0) {
		report_table_free(t);
		return NULL;
	}
	return t;
}

/* The second table: hosts per action with its intent and outcome; in JSON also per intent,
 * per outcome and per action. */
static struct report_table *intents_table(struct wctx *w)
{
	static const char *const groups[] = {"intents", "outcomes", "actions"}; /* kinds 4, 5, 6 */
	sqlite3_stmt *q;
	for (size_t g = 0; g < LIB_ARRAY_LEN(groups); g++) {
		if (!(q = prepare(w->db, "SELECT p, k1, n FROM temp.web_w WHERE kind = ?1 ORDER BY"
					 " p, n DESC, k1")))
			continue;
		sqlite3_bind_int(q, 1, 4 + (int)g);
		while (sqlite3_step(q) == SQLITE_ROW)
			json_object_set_new(
				json_object_get(profile_obj(w->profiles, col(q, 0)), groups[g]),
				col(q, 1), json_integer(sqlite3_column_int64(q, 2)));
		sqlite3_finalize(q);
	}
	struct report_table *t = report_table_new(
		"WebUI: hosts per action, intent and outcome (seed §2, second table)");
	static const char *const cols[] = {"device profile", "action", "intent", "outcome",
					   "hosts"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cols); i++)
		report_table_col(t, cols[i], i == 4 ? REPORT_INT : REPORT_STR, 0);
	q = prepare(w->db, "SELECT p, k1, k2, k3, n FROM temp.web_w WHERE kind = 7 ORDER BY p,"
			   " n DESC, k1, k2, k3");
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		report_table_row(t);
		for (int k = 0; k < 4; k++)
			report_table_str(t, col(q, k));
		report_table_int(t, sqlite3_column_int64(q, 4));
	}
	sqlite3_finalize(q);
	return t;
}

/* Hosts per exploit signature. */
static struct report_table *exploits_table(struct wctx *w)
{
	struct report_table *t =
		report_table_new("WebUI: hosts per exploit signature (rules/exploits)");
	static const char *const cols[] = {"device profile", "signature", "CVE", "hosts"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(cols); i++)
		report_table_col(t, cols[i], i == 3 ? REPORT_INT : REPORT_STR, 0);
	sqlite3_stmt *q = prepare(w->db, "SELECT p, k1, k2, n FROM temp.web_w WHERE kind = 8 ORDER"
					 " BY p, n DESC, k1, k2");
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		json_object_set_new(
			json_object_get(profile_obj(w->profiles, col(q, 0)), "exploits"), col(q, 1),
			json_integer(sqlite3_column_int64(q, 3)));
		report_table_row(t);
		for (int k = 0; k < 3; k++)
			report_table_str(t, col(q, k));
		report_table_int(t, sqlite3_column_int64(q, 3));
	}
	sqlite3_finalize(q);
	return t;
}

static bool webui_present(sqlite3 *db)
{
	return report_has_event(db, "mitsu.http.request") ||
	       report_has_event(db, "mitsu.exploit.match");
}

static void webui_build(struct report_ctx *c)
{
	if (report_web_window(c) < 0)
		return;
	struct wctx w = {.db = c->db, .profiles = json_array()};
	struct report_table *hosts = hosts_table(&w);
	if (!hosts) {
		json_decref(w.profiles);
		return;
	}
	report_heading(c, "WebUI");
	report_emit_table(c, "webui_hosts", hosts, NULL);
	report_emit_table(c, "webui_intents", intents_table(&w), NULL);
	report_emit_table(c, "webui_exploits", exploits_table(&w), NULL);
	json_object_set_new(c->json, "webui", w.profiles);
}

const struct report_section report_section_webui = {
	.name = "webui",
	.title = "WebUI",
	.present = webui_present,
	.build = webui_build,
};
