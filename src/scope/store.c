/* scope: interval rows in the store (DATA/mitsu.db) for `mitsu report`. The tables are
 * documented in docs/scope.md; rows of one interval are written in one transaction. */
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

static int exec_bind(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_error("scope", "store: %s", sqlite3_errmsg(db));
		return -EIO;
	}
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
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -EIO;
	if (rc)
		log_error("scope", "store: %s", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	return rc;
}

static void rfc(int64_t sec, char out[LIB_RFC3339_LEN])
{
	struct timespec ts = {.tv_sec = (time_t)sec};
	lib_rfc3339(&ts, out);
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
	rc = exec_bind(st->db,
		       "INSERT INTO scope_runs(started, inputs, interval, darknet, dark_size) "
		       "VALUES(?,?,?,?,?)",
		       "ssisi", now, ins, (int64_t)ctx->cfg->interval, dns,
		       (int64_t)(d.any4 ? 0 : d.size));
	free(ins);
	free(dns);
	if (!rc)
		*run_id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

int scope_store_interval(struct core_store *st, int64_t run_id, const struct scope_interval *iv,
			 int64_t secs)
{
	char start[LIB_RFC3339_LEN];
	rfc(iv->start, start);
	if (core_store_begin(st))
		return -EIO;
	int rc = exec_bind(
		st->db,
		"INSERT OR REPLACE INTO scope_intervals "
		"VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		"isiiiiiiiiiiiiiiiiiiiiiiiiiii", run_id, start, iv->start, secs,
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
		rc = exec_bind(st->db, "INSERT OR REPLACE INTO scope_ports VALUES(?,?,?,?,?,?)",
			       "iisiii", run_id, iv->start, scope_pt_name(iv->ports[i].pt),
			       (int64_t)iv->ports[i].port, (int64_t)iv->ports[i].packets,
			       (int64_t)iv->ports[i].sources);
	for (size_t i = 0; !rc && i < iv->ncountries; i++) {
		char cc[3];
		scope_cc_str(iv->countries[i].cc, cc);
		rc = exec_bind(st->db, "INSERT OR REPLACE INTO scope_countries VALUES(?,?,?,?,?,?)",
			       "iisiii", run_id, iv->start, cc, (int64_t)iv->countries[i].sources,
			       (int64_t)iv->countries[i].packets,
			       (int64_t)iv->countries[i].mirai_sources);
	}
	for (size_t i = 0; !rc && i < iv->nasns; i++)
		rc = exec_bind(st->db, "INSERT OR REPLACE INTO scope_asns VALUES(?,?,?,?,?)",
			       "iiiii", run_id, iv->start, (int64_t)iv->asns[i].asn,
			       (int64_t)iv->asns[i].sources, (int64_t)iv->asns[i].packets);
	if (rc) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->in_tx = 0;
		return rc;
	}
	return core_store_commit(st);
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
	if (core_store_begin(st)) {
		buf_free(&b);
		return -EIO;
	}
	int rc = exec_bind(st->db,
			   "UPDATE scope_runs SET finished=?, packets=?, bytes=?, first_ts=?, "
			   "last_ts=?, unique_sources=?,"
			   " exact=?, report=? WHERE id=?",
			   "siissiisi", now, (int64_t)r->packets, (int64_t)r->bytes,
			   r->packets ? first : NULL, r->packets ? last : NULL, (int64_t)r->sources,
			   (int64_t)scope_report_exact(r), (const char *)b.data, run_id);
	for (size_t i = 0; !rc && i < r->nos; i++)
		rc = exec_bind(st->db, "INSERT OR REPLACE INTO scope_os VALUES(?,?,?,?)", "issi",
			       run_id, r->os[i].app ? "app" : "os",
			       scope_p0f_label(ctx->p0f, r->os[i].label),
			       (int64_t)r->os[i].sources);
	for (int i = 0; !rc && i < SCOPE_FAM__N; i++)
		rc = exec_bind(st->db, "INSERT OR REPLACE INTO scope_os VALUES(?,?,?,?)", "issi",
			       run_id, "family", scope_family_names[i], (int64_t)r->families[i]);
	buf_free(&b);
	if (rc) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->in_tx = 0;
		return rc;
	}
	return core_store_commit(st);
}
