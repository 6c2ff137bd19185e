/* scope: interval rows in the store (DATA/mitsu.db) for `mitsu report`. The tables are
 * documented in docs/scope.md; the rows of one interval are one job of the store's writer
 * (all or none), and `mitsu scope` waits for each to be committed. */
#include "scope/scope_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS scope_runs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" started TEXT NOT NULL, finished TEXT, inputs TEXT NOT NULL, interval INTEGER NOT NULL,"
	" darknet TEXT NOT NULL, dark_size INTEGER, packets INTEGER, bytes INTEGER,"
	" first_ts TEXT, last_ts TEXT, unique_sources INTEGER, exact INTEGER, report TEXT);"
	"CREATE TABLE IF NOT EXISTS scope_intervals ("
	" run_id INTEGER NOT NULL REFERENCES scope_runs(id), start TEXT NOT NULL, start_unix "
	"INTEGER NOT NULL,"
	" seconds INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL, sources "
	"INTEGER NOT NULL,"
	" dark_hit INTEGER NOT NULL, tcp_syn INTEGER NOT NULL, udp INTEGER NOT NULL, icmp INTEGER "
	"NOT NULL,"
	" tcp_backscatter INTEGER NOT NULL, tcp_other INTEGER NOT NULL, other INTEGER NOT NULL,"
	" telnet INTEGER NOT NULL, mirai_sources INTEGER NOT NULL, mirai_packets INTEGER NOT NULL,"
	" zmap_sources INTEGER NOT NULL, zmap_packets INTEGER NOT NULL, masscan_sources INTEGER "
	"NOT NULL,"
	" masscan_packets INTEGER NOT NULL, backscatter_packets INTEGER NOT NULL,"
	" backscatter_victims INTEGER NOT NULL, scanners INTEGER NOT NULL, unix_sources INTEGER "
	"NOT NULL,"
	" windows_sources INTEGER NOT NULL, network_sources INTEGER NOT NULL, other_sources "
	"INTEGER NOT NULL,"
	" unknown_sources INTEGER NOT NULL, PRIMARY KEY (run_id, start_unix));"
	"CREATE INDEX IF NOT EXISTS scope_intervals_start ON scope_intervals(start_unix);"
	"CREATE TABLE IF NOT EXISTS scope_ports ("
	" run_id INTEGER NOT NULL, start_unix INTEGER NOT NULL, proto TEXT NOT NULL, port INTEGER "
	"NOT NULL,"
	" packets INTEGER NOT NULL, sources INTEGER NOT NULL, PRIMARY KEY (run_id, start_unix, "
	"proto, port));"
	"CREATE TABLE IF NOT EXISTS scope_countries ("
	" run_id INTEGER NOT NULL, start_unix INTEGER NOT NULL, cc TEXT NOT NULL, sources INTEGER "
	"NOT NULL,"
	" packets INTEGER NOT NULL, mirai_sources INTEGER NOT NULL, PRIMARY KEY (run_id, "
	"start_unix, cc));"
	"CREATE TABLE IF NOT EXISTS scope_asns ("
	" run_id INTEGER NOT NULL, start_unix INTEGER NOT NULL, asn INTEGER NOT NULL, sources "
	"INTEGER NOT NULL,"
	" packets INTEGER NOT NULL, PRIMARY KEY (run_id, start_unix, asn));"
	"CREATE TABLE IF NOT EXISTS scope_os ("
	" run_id INTEGER NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, sources INTEGER NOT "
	"NULL,"
	" PRIMARY KEY (run_id, kind, label));";

/* Runs one statement of the store's writer (sql: a string constant, see core_tx_stmt) with
 * parameters typed by `types` ('i' int64_t, 's' string or NULL). */
static int exec_bind(struct core_tx *tx, const char *sql, const char *types, ...)
{
	sqlite3_stmt *q = core_tx_stmt(tx, sql);
	if (!q)
		return -EIO;
	va_list ap;
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		switch (types[i]) {
		case 'i': sqlite3_bind_int64(q, i + 1, va_arg(ap, int64_t)); break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (s)
				sqlite3_bind_text(q, i + 1, s, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(q, i + 1);
			break;
		}
		default: break;
		}
	}
	va_end(ap);
	int rc = core_tx_step(tx, q);
	return rc < 0 ? rc : 0;
}

static void rfc(int64_t sec, char out[LIB_RFC3339_LEN])
{
	struct timespec ts = {.tv_sec = (time_t)sec};
	lib_rfc3339(&ts, out);
}

/* A run's row (scope_store_begin). */
struct begin_args {
	const char *now, *inputs, *darknet;
	int64_t interval, dark_size;
	int64_t run_id;
};

static int begin_job(struct core_tx *tx, void *arg)
{
	struct begin_args *a = arg;
	int rc = exec_bind(tx,
			   "INSERT INTO scope_runs(started, inputs, interval, darknet, dark_size) "
			   "VALUES(?,?,?,?,?)",
			   "ssisi", a->now, a->inputs, a->interval, a->darknet, a->dark_size);
	if (!rc)
		a->run_id = sqlite3_last_insert_rowid(core_tx_db(tx));
	return rc;
}

int scope_store_begin(struct core_store *st, const struct scope_out_ctx *ctx, int64_t *run_id)
{
	int rc = core_store_schema(st, schema);
	if (rc)
		return rc;
	json_t *in = json_array(), *dn = json_array();
	for (size_t i = 0; i < ctx->ninputs; i++)
		json_array_append_new(in, json_string(ctx->inputs[i]));
	for (size_t i = 0; i < ctx->cfg->ndarknet; i++) {
		const struct scope_cidr *c = &ctx->cfg->darknet[i];
		char a[64];
		if (c->ver == 4)
			snprintf(a, sizeof(a), "%u.%u.%u.%u/%u", c->v4 >> 24, (c->v4 >> 16) & 255,
				 (c->v4 >> 8) & 255, c->v4 & 255, c->prefix);
		else
			snprintf(a, sizeof(a), "ipv6/%u", c->prefix);
		json_array_append_new(dn, json_string(a));
	}
	char *ins = json_dumps(in, JSON_COMPACT), *dns = json_dumps(dn, JSON_COMPACT);
	json_decref(in);
	json_decref(dn);
	char now[LIB_RFC3339_LEN];
	lib_rfc3339_now(now);
	struct scope_dark d;
	scope_dark_init(&d, ctx->cfg);
	struct begin_args a = {.now = now,
			       .inputs = ins,
			       .darknet = dns,
			       .interval = (int64_t)ctx->cfg->interval,
			       .dark_size = (int64_t)(d.any4 ? 0 : d.size)};
	rc = core_store_run(st, begin_job, &a);
	free(ins);
	free(dns);
	if (!rc)
		*run_id = a.run_id;
	return rc;
}

/* One interval's rows (scope_store_interval), all or none. */
struct interval_args {
	int64_t run_id, secs;
	const struct scope_interval *iv;
};

static int interval_job(struct core_tx *tx, void *arg)
{
	const struct interval_args *a = arg;
	const struct scope_interval *iv = a->iv;
	int64_t run_id = a->run_id;
	char start[LIB_RFC3339_LEN];
	rfc(iv->start, start);
	int rc = exec_bind(
		tx,
		"INSERT OR REPLACE INTO scope_intervals "
		"VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		"isiiiiiiiiiiiiiiiiiiiiiiiiiii", run_id, start, iv->start, a->secs,
		(int64_t)iv->packets, (int64_t)iv->bytes, (int64_t)iv->sources,
		(int64_t)iv->dark_hit, (int64_t)iv->cls[SCOPE_C_SYN], (int64_t)iv->cls[SCOPE_C_UDP],
		(int64_t)iv->cls[SCOPE_C_ICMP], (int64_t)iv->cls[SCOPE_C_BACKSCATTER],
		(int64_t)iv->cls[SCOPE_C_TCP_OTHER], (int64_t)iv->cls[SCOPE_C_OTHER],
		(int64_t)iv->telnet, (int64_t)iv->mirai.sources, (int64_t)iv->mirai.packets,
		(int64_t)iv->zmap.sources, (int64_t)iv->zmap.packets, (int64_t)iv->masscan.sources,
		(int64_t)iv->masscan.packets, (int64_t)iv->backscatter_packets,
		(int64_t)iv->backscatter_victims, (int64_t)iv->scanners,
		(int64_t)iv->families[SCOPE_FAM_UNIX], (int64_t)iv->families[SCOPE_FAM_WINDOWS],
		(int64_t)iv->families[SCOPE_FAM_NETWORK], (int64_t)iv->families[SCOPE_FAM_OTHER],
		(int64_t)iv->families[SCOPE_FAM_UNKNOWN]);
	for (size_t i = 0; !rc && i < iv->nports; i++)
		rc = exec_bind(tx, "INSERT OR REPLACE INTO scope_ports VALUES(?,?,?,?,?,?)",
			       "iisiii", run_id, iv->start, scope_pt_name(iv->ports[i].pt),
			       (int64_t)iv->ports[i].port, (int64_t)iv->ports[i].packets,
			       (int64_t)iv->ports[i].sources);
	for (size_t i = 0; !rc && i < iv->ncountries; i++) {
		char cc[3];
		scope_cc_str(iv->countries[i].cc, cc);
		rc = exec_bind(tx, "INSERT OR REPLACE INTO scope_countries VALUES(?,?,?,?,?,?)",
			       "iisiii", run_id, iv->start, cc, (int64_t)iv->countries[i].sources,
			       (int64_t)iv->countries[i].packets,
			       (int64_t)iv->countries[i].mirai_sources);
	}
	for (size_t i = 0; !rc && i < iv->nasns; i++)
		rc = exec_bind(tx, "INSERT OR REPLACE INTO scope_asns VALUES(?,?,?,?,?)", "iiiii",
			       run_id, iv->start, (int64_t)iv->asns[i].asn,
			       (int64_t)iv->asns[i].sources, (int64_t)iv->asns[i].packets);
	return rc;
}

int scope_store_interval(struct core_store *st, int64_t run_id, const struct scope_interval *iv,
			 int64_t secs)
{
	struct interval_args a = {.run_id = run_id, .secs = secs, .iv = iv};
	return core_store_run(st, interval_job, &a);
}

/* The run's totals and OS shares (scope_store_finish). */
struct finish_args {
	int64_t run_id;
	const struct scope_report *r;
	const struct scope_out_ctx *ctx;
	const char *now, *first, *last, *report;
};

static int finish_job(struct core_tx *tx, void *arg)
{
	const struct finish_args *a = arg;
	const struct scope_report *r = a->r;
	int rc = exec_bind(tx,
			   "UPDATE scope_runs SET finished=?, packets=?, bytes=?, first_ts=?, "
			   "last_ts=?, unique_sources=?,"
			   " exact=?, report=? WHERE id=?",
			   "siissiisi", a->now, (int64_t)r->packets, (int64_t)r->bytes, a->first,
			   a->last, (int64_t)r->sources, (int64_t)scope_report_exact(r), a->report,
			   a->run_id);
	for (size_t i = 0; !rc && i < r->nos; i++)
		rc = exec_bind(tx, "INSERT OR REPLACE INTO scope_os VALUES(?,?,?,?)", "issi",
			       a->run_id, r->os[i].app ? "app" : "os",
			       scope_p0f_label(a->ctx->p0f, r->os[i].label),
			       (int64_t)r->os[i].sources);
	for (int i = 0; !rc && i < SCOPE_FAM__N; i++)
		rc = exec_bind(tx, "INSERT OR REPLACE INTO scope_os VALUES(?,?,?,?)", "issi",
			       a->run_id, "family", scope_family_names[i], (int64_t)r->families[i]);
	return rc;
}

int scope_store_finish(struct core_store *st, int64_t run_id, const struct scope_report *r,
		       const struct scope_out_ctx *ctx)
{
	struct buf b;
	buf_init(&b, 0);
	scope_write_report(&b, SCOPE_FMT_JSON, r, ctx);
	char now[LIB_RFC3339_LEN], first[LIB_RFC3339_LEN] = "", last[LIB_RFC3339_LEN] = "";
	lib_rfc3339_now(now);
	if (r->packets) {
		struct timespec a = {.tv_sec = (time_t)(r->first_ns / 1000000000),
				     .tv_nsec = (long)(r->first_ns % 1000000000)};
		struct timespec z = {.tv_sec = (time_t)(r->last_ns / 1000000000),
				     .tv_nsec = (long)(r->last_ns % 1000000000)};
		lib_rfc3339(&a, first);
		lib_rfc3339(&z, last);
	}
	struct finish_args a = {.run_id = run_id,
				.r = r,
				.ctx = ctx,
				.now = now,
				.first = r->packets ? first : NULL,
				.last = r->packets ? last : NULL,
				.report = (const char *)b.data};
	int rc = core_store_run(st, finish_job, &a);
	buf_free(&b);
	return rc;
}
