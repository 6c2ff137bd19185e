/* The sample store: files by SHA-256 under DATA/samples, described in SQLite, announced with
 * mitsu.sample.stored. */
#include "capture/capture.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS samples ("
	"  sha256 TEXT PRIMARY KEY,"
	"  sha1 TEXT NOT NULL, md5 TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  filetype TEXT NOT NULL, arch TEXT NOT NULL,"
	"  first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,"
	"  times_seen INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE IF NOT EXISTS sample_sources ("
	"  id INTEGER PRIMARY KEY,"
	"  sha256 TEXT NOT NULL,"
	"  seen TEXT NOT NULL,"
	"  source TEXT, method TEXT, url TEXT, src_ip TEXT, session TEXT, destfile TEXT);"
	"CREATE INDEX IF NOT EXISTS sample_sources_sha256 ON sample_sources(sha256);";

struct capture_samples {
	struct core_store *store;
	struct core_bus *bus;
	sqlite3_stmt *find, *insert, *seen, *source;
};

int capture_samples_open(struct capture_samples **out, struct core_store *store,
			 struct core_bus *bus)
{
	char *dir = core_data_path(store->data_dir, "samples");
	int rc = lib_mkdirs(dir, 0750);
	free(dir);
	if (rc)
		return rc;
	if (core_store_schema(store, schema))
		return -EIO;
	struct capture_samples *cs = xcalloc(1, sizeof(*cs));
	cs->store = store;
	cs->bus = bus;
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} stmts[] = {
		{&cs->find, "SELECT 1 FROM samples WHERE sha256 = ?1"},
		{&cs->insert, "INSERT INTO samples(sha256, sha1, md5, size, filetype, arch, "
			      "first_seen, last_seen)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"},
		{&cs->seen, "UPDATE samples SET last_seen = ?2, times_seen = times_seen + 1 WHERE "
			    "sha256 = ?1"},
		{&cs->source, "INSERT INTO sample_sources(sha256, seen, source, method, url, "
			      "src_ip, session, destfile)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(stmts); i++) {
		if (sqlite3_prepare_v3(store->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
				       stmts[i].st, NULL) != SQLITE_OK) {
			log_error("samples", "prepare: %s", sqlite3_errmsg(store->db));
			capture_samples_close(cs);
			return -EIO;
		}
	}
	*out = cs;
	return 0;
}

void capture_samples_close(struct capture_samples *cs)
{
	if (!cs)
		return;
	sqlite3_finalize(cs->find);
	sqlite3_finalize(cs->insert);
	sqlite3_finalize(cs->seen);
	sqlite3_finalize(cs->source);
	free(cs);
}

char *capture_sample_path(const char *data_dir, const char *sha256)
{
	return xasprintf("%s/samples/%.2s/%s", data_dir, sha256, sha256);
}

static uint16_t rd16(const uint8_t *p, bool be)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

int capture_elf_arch(const uint8_t *p, size_t n, char out[16])
{
	if (n < 20 || memcmp(p,
			     "\x7f"
			     "ELF",
			     4) != 0)
		return -EINVAL;
	int cls = p[4], data = p[5];
	bool be = data == 2, is64 = cls == 2;
	uint16_t m = rd16(p + 18, be);
	const char *name;
	switch (m) {
	case 3: name = "i386"; break;
	case 62: name = "x86_64"; break;
	case 40: name = be ? "armeb" : "arm"; break;
	case 183: name = "aarch64"; break;
	case 8: name = is64 ? (be ? "mips64" : "mips64el") : (be ? "mips" : "mipsel"); break;
	case 10: name = "mipsel"; break;
	case 20: name = "ppc"; break;
	case 21: name = be ? "ppc64" : "ppc64le"; break;
	case 42: name = be ? "sh4eb" : "sh4"; break;
	case 2:
	case 18: name = "sparc"; break;
	case 43: name = "sparc64"; break;
	case 4: name = "m68k"; break;
	case 93:
	case 195: name = "arc"; break;
	case 243: name = is64 ? "riscv64" : "riscv32"; break;
	default: snprintf(out, 16, "elf-%u", m); return 0;
	}
	lib_strlcpy(out, name, 16);
	return 0;
}

void capture_file_type(const uint8_t *p, size_t n, char out[24])
{
	static const struct {
		const char *magic;
		size_t len;
		const char *type;
	} magics[] = {
		{"\x7f"
		 "ELF",
		 4, "elf"},
		{"#!", 2, "script"},
		{"\x1f\x8b", 2, "gzip"},
		{"\xfd"
		 "7zXZ\0",
		 6, "xz"},
		{"PK\x03\x04", 4, "zip"},
		{"BZh", 3, "bzip2"},
		{"\x28\xb5\x2f\xfd", 4, "zstd"},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(magics); i++) {
		if (n >= magics[i].len && memcmp(p, magics[i].magic, magics[i].len) == 0) {
			lib_strlcpy(out, magics[i].type, 24);
			return;
		}
	}
	size_t head = n < 512 ? n : 512, printable = 0;
	for (size_t i = 0; i < head; i++)
		printable += isprint(p[i]) || isspace(p[i]);
	if (n == 0 || printable < head) {
		lib_strlcpy(out, "data", 24);
		return;
	}
	size_t skip = 0;
	while (skip < head && isspace(p[skip]))
		skip++;
	if (head - skip >= 5 && (strncasecmp((const char *)p + skip, "<html", 5) == 0 ||
				 strncasecmp((const char *)p + skip, "<!doc", 5) == 0))
		lib_strlcpy(out, "html", 24);
	else
		lib_strlcpy(out, "text", 24);
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int write_sample_file(const char *data_dir, const char *sha256, const void *data, size_t len)
{
	char *path = capture_sample_path(data_dir, sha256);
	struct stat st;
	int rc = 0;
	if (stat(path, &st) != 0 || (size_t)st.st_size != len) {
		char *dir = xasprintf("%s/samples/%.2s", data_dir, sha256);
		rc = lib_mkdirs(dir, 0750);
		free(dir);
		if (rc == 0) {
			/* An earlier partial file (mode 0400) must go before the atomic rename. */
			chmod(path, 0600);
			rc = lib_write_file_atomic(path, data, len, 0400);
		}
	}
	free(path);
	return rc;
}

int capture_sample_put(struct capture_samples *cs, const void *data, size_t len,
		       const struct capture_origin *origin, const struct core_conn *conn,
		       struct capture_sample *out)
{
	static const struct capture_origin none;
	if (!origin)
		origin = &none;
	struct lib_hashes h;
	lib_hashes(data, len, &h);
	memset(out, 0, sizeof(*out));
	memcpy(out->sha256, h.sha256, sizeof(out->sha256));
	memcpy(out->sha1, h.sha1, sizeof(out->sha1));
	memcpy(out->md5, h.md5, sizeof(out->md5));
	out->size = len;
	capture_file_type(data, len, out->filetype);
	if (capture_elf_arch(data, len, out->arch))
		out->arch[0] = '\0';

	int rc = write_sample_file(cs->store->data_dir, h.sha256, data, len);
	if (rc) {
		log_error("samples", "cannot store %s: %s", h.sha256, strerror(-rc));
		return rc;
	}
	char now[LIB_RFC3339_LEN];
	lib_rfc3339_now(now);
	if (core_store_begin(cs->store))
		return -EIO;
	sqlite3_bind_text(cs->find, 1, h.sha256, -1, SQLITE_STATIC);
	out->duplicate = step_reset(cs->find) == SQLITE_ROW;
	sqlite3_stmt *st = out->duplicate ? cs->seen : cs->insert;
	sqlite3_bind_text(st, 1, h.sha256, -1, SQLITE_STATIC);
	if (out->duplicate) {
		sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(st, 2, h.sha1, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, h.md5, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)len);
		sqlite3_bind_text(st, 5, out->filetype, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, out->arch, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
	}
	if (step_reset(st) != SQLITE_DONE)
		log_warn("samples", "cannot record %s: %s", h.sha256,
			 sqlite3_errmsg(cs->store->db));
	st = cs->source;
	sqlite3_bind_text(st, 1, h.sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	bind_opt(st, 3, origin->source);
	bind_opt(st, 4, origin->method);
	bind_opt(st, 5, origin->url);
	bind_opt(st, 6, origin->src_ip ? origin->src_ip : conn ? conn->src_ip : NULL);
	bind_opt(st, 7, origin->session ? origin->session : conn ? conn->session : NULL);
	bind_opt(st, 8, origin->destfile);
	if (step_reset(st) != SQLITE_DONE)
		log_warn("samples", "cannot record the source of %s: %s", h.sha256,
			 sqlite3_errmsg(cs->store->db));

	if (cs->bus) {
		json_t *f = json_object();
		json_object_set_new(f, "shasum", json_string(h.sha256));
		json_object_set_new(f, "md5", json_string(h.md5));
		json_object_set_new(f, "sha1", json_string(h.sha1));
		json_object_set_new(f, "size", json_integer((json_int_t)len));
		json_object_set_new(f, "filetype", json_string(out->filetype));
		json_object_set_new(f, "arch", json_string(out->arch));
		json_object_set_new(f, "duplicate", json_boolean(out->duplicate));
		if (origin->source)
			json_object_set_new(f, "source", json_string(origin->source));
		if (origin->method)
			json_object_set_new(f, "method", json_string(origin->method));
		if (origin->url)
			json_object_set_new(f, "url", core_json_str(origin->url));
		if (origin->destfile)
			json_object_set_new(f, "destfile", core_json_str(origin->destfile));
		core_emit(cs->bus, conn, EV_SAMPLE_STORED, f, "%s sample %s (%zu bytes%s%s)",
			  out->duplicate ? "known" : "new", h.sha256, len, out->arch[0] ? ", " : "",
			  out->arch);
	}
	return 0;
}
