/* The sample store: files by SHA-256 under DATA/samples, described in SQLite, announced with
 * mitsu.sample.stored once both are stored. See capture.h for the path of one put. */
#include "capture/capture.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <fcntl.h>
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
	/* (first_seen, sha256, last_seen): the samples list in its default order without a
	 * sort, and the window's count from the index alone. (arch, filetype, first_seen,
	 * last_seen, times_seen): samples by CPU from the index alone. The upsert of a sample seen
	 * again rewrites its entry in both (last_seen, times_seen): once per download, never per
	 * event. */
	"CREATE INDEX IF NOT EXISTS samples_first_seen ON samples(first_seen, sha256, last_seen);"
	"CREATE INDEX IF NOT EXISTS samples_arch"
	"  ON samples(arch, filetype, first_seen, last_seen, times_seen);"
	"CREATE TABLE IF NOT EXISTS sample_sources ("
	"  id INTEGER PRIMARY KEY,"
	"  sha256 TEXT NOT NULL,"
	"  seen TEXT NOT NULL,"
	"  source TEXT, method TEXT, url TEXT, src_ip TEXT, session TEXT, destfile TEXT);"
	/* (sha256, source, method) replaces sample_sources_sha256, its prefix: a sample's
	 * sources, and whether a sample came by a method before (the trigger below). */
	"CREATE INDEX IF NOT EXISTS sample_sources_sha256_method"
	"  ON sample_sources(sha256, source, method);"
	"DROP INDEX IF EXISTS sample_sources_sha256;"
	/* (src_ip, source, method): what an address delivered (mitsu ip), and whether a host
	 * delivered by a method before. (seen): the sources of a time window. */
	"CREATE INDEX IF NOT EXISTS sample_sources_src_ip ON sample_sources(src_ip, source, "
	"method);"
	"CREATE INDEX IF NOT EXISTS sample_sources_seen ON sample_sources(seen);"
	/* Samples by delivery method over the whole store, kept by triggers as sources are
	 * written (once per download, never per event): the distinct samples and hosts of each
	 * source/method and its number of sources. A NULL source or method counts as '?', a NULL
	 * address as no host, as count(DISTINCT) over sample_sources does. A store made before
	 * these triggers gets its counts from its rows once, in the transaction that adds them. */
	"CREATE TABLE IF NOT EXISTS sample_methods ("
	"  source TEXT NOT NULL, method TEXT NOT NULL,"
	"  samples INTEGER NOT NULL DEFAULT 0, hosts INTEGER NOT NULL DEFAULT 0,"
	"  sources INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (source, method));"
	"DELETE FROM sample_methods WHERE NOT EXISTS (SELECT 1 FROM sqlite_master"
	"  WHERE type = 'trigger' AND name = 'sample_sources_count');"
	"INSERT INTO sample_methods(source, method, samples, hosts, sources)"
	"  SELECT ifnull(source, '?'), ifnull(method, '?'), count(DISTINCT sha256),"
	"  count(DISTINCT src_ip), count(*) FROM sample_sources"
	"  WHERE NOT EXISTS (SELECT 1 FROM sqlite_master"
	"  WHERE type = 'trigger' AND name = 'sample_sources_count') GROUP BY 1, 2;"
	"CREATE TRIGGER IF NOT EXISTS sample_sources_count AFTER INSERT ON sample_sources BEGIN"
	"  INSERT INTO sample_methods(source, method)"
	"  VALUES (ifnull(new.source, '?'), ifnull(new.method, '?')) ON CONFLICT DO NOTHING;"
	"  UPDATE sample_methods SET sources = sources + 1,"
	"  samples = samples + NOT EXISTS (SELECT 1 FROM sample_sources WHERE"
	"  sha256 = new.sha256 AND ifnull(source, '?') = ifnull(new.source, '?') AND"
	"  ifnull(method, '?') = ifnull(new.method, '?') AND id <> new.id),"
	"  hosts = hosts + (new.src_ip IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sample_sources"
	"  WHERE src_ip = new.src_ip AND ifnull(source, '?') = ifnull(new.source, '?') AND"
	"  ifnull(method, '?') = ifnull(new.method, '?') AND id <> new.id))"
	"  WHERE source = ifnull(new.source, '?') AND method = ifnull(new.method, '?');"
	"END;"
	"CREATE TRIGGER IF NOT EXISTS sample_sources_uncount AFTER DELETE ON sample_sources BEGIN"
	"  UPDATE sample_methods SET sources = sources - 1,"
	"  samples = samples - NOT EXISTS (SELECT 1 FROM sample_sources WHERE"
	"  sha256 = old.sha256 AND ifnull(source, '?') = ifnull(old.source, '?') AND"
	"  ifnull(method, '?') = ifnull(old.method, '?')),"
	"  hosts = hosts - (old.src_ip IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sample_sources"
	"  WHERE src_ip = old.src_ip AND ifnull(source, '?') = ifnull(old.source, '?') AND"
	"  ifnull(method, '?') = ifnull(old.method, '?')))"
	"  WHERE source = ifnull(old.source, '?') AND method = ifnull(old.method, '?');"
	"END;"
	/* The host of the URL (CORE_URL_HOST, the same expression the query uses): what an
	 * address served as a download server (mitsu ip) without reading every URL. Made by the
	 * first writer that opens a store made before it. */
	"CREATE INDEX IF NOT EXISTS sample_sources_url_host ON sample_sources(" CORE_URL_HOST(
		"url") ");";

static const char sql_upsert[] =
	"INSERT INTO samples(sha256, sha1, md5, size, filetype, arch, first_seen, last_seen)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
	" ON CONFLICT(sha256) DO UPDATE SET last_seen = excluded.last_seen,"
	" times_seen = times_seen + 1 RETURNING times_seen";
static const char sql_source[] =
	"INSERT INTO sample_sources(sha256, seen, source, method, url, src_ip, session, destfile)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

struct capture_samples {
	uv_loop_t *loop;
	struct core_store *store;
	struct core_bus *bus;
	size_t pending;
};

/* One put on its way: thread pool (digests, file), store's writer (rows), loop (event, cb). */
struct put {
	struct capture_samples *cs;
	uv_work_t work;
	const uint8_t *data;
	size_t len;
	uint8_t *owned; /* freed once the file is written */
	struct capture_origin origin;
	char *strings; /* origin's text, one block */
	struct core_conn conn;
	bool has_conn;
	capture_stored_cb cb;
	void *arg;
	struct capture_sample s;
	char now[LIB_RFC3339_LEN];
	int64_t times_seen;
	int status;
};

/* Temporary files (lib_write_file_atomic's *.tmp.*) a killed sensor left behind. */
static void remove_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) != 2)
			continue;
		char *sub = xasprintf("%s/%s", dir, e->d_name);
		DIR *s = opendir(sub);
		struct dirent *f;
		while (s && (f = readdir(s))) {
			if (!strstr(f->d_name, ".tmp."))
				continue;
			char *path = xasprintf("%s/%s", sub, f->d_name);
			if (unlink(path) == 0)
				log_info("samples", "removed %s, left half-written by a stop",
					 path);
			free(path);
		}
		if (s)
			closedir(s);
		free(sub);
	}
	closedir(d);
}

int capture_samples_open(struct capture_samples **out, uv_loop_t *loop, struct core_store *store,
			 struct core_bus *bus)
{
	char *dir = core_data_path(store->data_dir, "samples");
	int rc = lib_mkdirs(dir, 0750);
	if (rc == 0)
		remove_temporaries(dir);
	free(dir);
	if (rc)
		return rc;
	if (core_store_schema(store, schema))
		return -EIO;
	struct capture_samples *cs = xcalloc(1, sizeof(*cs));
	cs->loop = loop;
	cs->store = store;
	cs->bus = bus;
	*out = cs;
	return 0;
}

void capture_samples_close(struct capture_samples *cs)
{
	if (!cs)
		return;
	if (cs->pending)
		log_error("samples", "closed with %zu samples still being stored", cs->pending);
	free(cs);
}

size_t capture_samples_pending(const struct capture_samples *cs)
{
	return cs->pending;
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
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* The file DATA/samples/ab/<sha256>, unless it is there already: written under a temporary
 * name, fsynced, renamed, and the rename made durable (the folder fsynced). */
static int write_sample_file(const char *data_dir, const char *sha256, const void *data, size_t len)
{
	char *path = capture_sample_path(data_dir, sha256);
	struct stat st;
	int rc = 0;
	if (stat(path, &st) != 0 || (size_t)st.st_size != len) {
		char *dir = xasprintf("%s/samples/%.2s", data_dir, sha256);
		rc = lib_mkdirs(dir, 0750);
		if (rc == 0)
			rc = lib_write_file_atomic(path, data, len, 0400);
		if (rc == 0) {
			int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd >= 0) {
				fsync(fd);
				close(fd);
			}
		}
		free(dir);
	}
	free(path);
	return rc;
}

/* Thread pool: everything about the bytes. */
static void put_work(uv_work_t *w)
{
	struct put *p = w->data;
	struct lib_hashes h;
	lib_hashes(p->data, p->len, &h);
	memcpy(p->s.sha256, h.sha256, sizeof(p->s.sha256));
	memcpy(p->s.sha1, h.sha1, sizeof(p->s.sha1));
	memcpy(p->s.md5, h.md5, sizeof(p->s.md5));
	p->s.size = p->len;
	capture_file_type(p->data, p->len, p->s.filetype);
	if (capture_elf_arch(p->data, p->len, p->s.arch))
		p->s.arch[0] = '\0';
	p->status = write_sample_file(p->cs->store->data_dir, h.sha256, p->data, p->len);
}

/* The store's writer: one upsert says whether the sample is new, with no other writer between
 * its read and its write; then the origin. */
static int put_job(struct core_tx *tx, void *arg)
{
	struct put *p = arg;
	sqlite3_stmt *q = core_tx_stmt(tx, sql_upsert);
	if (!q)
		return -EIO;
	sqlite3_bind_text(q, 1, p->s.sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, p->s.sha1, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, p->s.md5, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)p->len);
	sqlite3_bind_text(q, 5, p->s.filetype, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, p->s.arch, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, p->now, -1, SQLITE_STATIC);
	int rc = core_tx_step(tx, q);
	if (rc < 0)
		return rc;
	if (rc != 1)
		return -EIO;
	p->times_seen = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (!(q = core_tx_stmt(tx, sql_source)))
		return -EIO;
	const struct capture_origin *o = &p->origin;
	sqlite3_bind_text(q, 1, p->s.sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, p->now, -1, SQLITE_STATIC);
	bind_opt(q, 3, o->source);
	bind_opt(q, 4, o->method);
	bind_opt(q, 5, o->url);
	bind_opt(q, 6, o->src_ip ? o->src_ip : p->has_conn ? p->conn.src_ip : NULL);
	bind_opt(q, 7, o->session ? o->session : p->has_conn ? p->conn.session : NULL);
	bind_opt(q, 8, o->destfile);
	rc = core_tx_step(tx, q);
	return rc < 0 ? rc : 0;
}

static void emit_stored(struct put *p)
{
	const struct capture_sample *s = &p->s;
	const struct capture_origin *o = &p->origin;
	json_t *f = json_object();
	json_object_set_new(f, "shasum", json_string(s->sha256));
	json_object_set_new(f, "md5", json_string(s->md5));
	json_object_set_new(f, "sha1", json_string(s->sha1));
	json_object_set_new(f, "size", json_integer((json_int_t)s->size));
	json_object_set_new(f, "filetype", json_string(s->filetype));
	json_object_set_new(f, "arch", json_string(s->arch));
	json_object_set_new(f, "duplicate", json_boolean(s->duplicate));
	if (o->source)
		json_object_set_new(f, "source", json_string(o->source));
	if (o->method)
		json_object_set_new(f, "method", json_string(o->method));
	if (o->url)
		json_object_set_new(f, "url", core_json_str(o->url));
	if (o->destfile)
		json_object_set_new(f, "destfile", core_json_str(o->destfile));
	core_emit(p->cs->bus, p->has_conn ? &p->conn : NULL, EV_SAMPLE_STORED, f,
		  "%s sample %s (%llu bytes%s%s)", s->duplicate ? "known" : "new", s->sha256,
		  (unsigned long long)s->size, s->arch[0] ? ", " : "", s->arch);
}

/* Loop: the put is over; the caller hears of it. */
static void put_finish(struct put *p)
{
	if (p->status == 0 && p->cs->bus)
		emit_stored(p);
	if (p->cb)
		p->cb(p->arg, p->status, &p->s, &p->origin);
	p->cs->pending--;
	free(p->owned);
	free(p->strings);
	free(p);
}

static void put_done(void *arg, int status)
{
	struct put *p = arg;
	p->status = status;
	if (status)
		log_error("samples", "cannot record %s in mitsu.db: %s", p->s.sha256,
			  strerror(-status));
	else
		p->s.duplicate = p->times_seen > 1;
	put_finish(p);
}

/* Loop: the file is written (or not); its rows go to the store's writer. */
static void put_after_work(uv_work_t *w, int status)
{
	struct put *p = w->data;
	free(p->owned);
	p->owned = NULL;
	p->data = NULL;
	if (status == UV_ECANCELED)
		p->status = -ECANCELED;
	if (p->status) {
		log_error("samples", "cannot store %s: %s", p->s.sha256[0] ? p->s.sha256 : "a file",
			  strerror(-p->status));
		put_finish(p);
		return;
	}
	lib_rfc3339_now(p->now);
	int rc = core_store_submit(p->cs->store, put_job, put_done, p);
	if (rc)
		put_done(p, rc);
}

/* The origin's strings, copied into one block. */
static void copy_origin(struct put *p, const struct capture_origin *o)
{
	const char *in[] = {o->source, o->method, o->url, o->src_ip, o->session, o->destfile};
	const char **out[] = {&p->origin.source, &p->origin.method,  &p->origin.url,
			      &p->origin.src_ip, &p->origin.session, &p->origin.destfile};
	size_t total = 1;
	for (size_t i = 0; i < LIB_ARRAY_LEN(in); i++)
		total += in[i] ? strlen(in[i]) + 1 : 0;
	char *s = p->strings = xmalloc(total);
	for (size_t i = 0; i < LIB_ARRAY_LEN(in); i++) {
		if (!in[i])
			continue;
		size_t n = strlen(in[i]) + 1;
		memcpy(s, in[i], n);
		*out[i] = s;
		s += n;
	}
}

int capture_sample_put(struct capture_samples *cs, const struct capture_put *req)
{
	struct put *p = xcalloc(1, sizeof(*p));
	p->cs = cs;
	p->len = req->len;
	if (req->mode == CAPTURE_DATA_COPY) {
		p->owned = xmalloc(req->len ? req->len : 1);
		if (req->len)
			memcpy(p->owned, req->data, req->len);
		p->data = p->owned;
	} else {
		p->data = req->data ? req->data : (const uint8_t *)"";
		if (req->mode == CAPTURE_DATA_TAKE)
			p->owned = (uint8_t *)req->data;
	}
	copy_origin(p, &req->origin);
	if (req->conn) {
		p->conn = *req->conn;
		p->has_conn = true;
	}
	p->cb = req->cb;
	p->arg = req->arg;
	p->work.data = p;
	int rc = uv_queue_work(cs->loop, &p->work, put_work, put_after_work);
	if (rc) {
		free(p->owned);
		free(p->strings);
		free(p);
		return -EAGAIN;
	}
	cs->pending++;
	return 0;
}
