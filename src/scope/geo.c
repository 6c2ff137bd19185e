/* scope: country and AS of an IPv4 address, offline. libloc (Debian's libloc-database) is read
 * once into a flat table of disjoint ranges (most specific network wins, as loc_database_lookup
 * answers), because a libloc lookup costs about 3 us and a darknet sees millions of sources;
 * the table is cached on disk between runs. MaxMind-format files go through libmaxminddb. */
#include "scope/scope_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libloc/as.h>
#include <libloc/database.h>
#include <libloc/libloc.h>
#include <libloc/network.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds. */
#define GEO_MAX_RANGES (16u << 20) /* ranges in the flat table */
#define GEO_MAX_CACHE (512u << 20) /* bytes of a cache file */
#define GEO_MAX_MMDB 8             /* --geo files */
#define GEO_CACHE_MAGIC "mitsu-geo-v1\n"

struct scope_geo {
	/* Flat table (libloc). */
	uint32_t *start, *end, *asn;
	uint16_t *cc;
	uint32_t n;
	uint8_t *blob; /* the cache file, mapped: the arrays point into it (else each is allocated)
			*/
	size_t bloblen;
	uint32_t idx16[65537]; /* first range that may hold an address of each /16 */
	struct loc_ctx *ctx;
	struct loc_database *db;
	FILE *dbf;
	/* MaxMind. */
	MMDB_s mmdb[GEO_MAX_MMDB];
	size_t nmmdb;
	char desc[256];
	char asname[256];
};

uint16_t scope_cc_index(const char *cc)
{
	if (!cc || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || cc[2])
		return 0;
	return (uint16_t)(1 + (cc[0] - 'A') * 26 + (cc[1] - 'A'));
}

void scope_cc_str(uint16_t idx, char out[3])
{
	if (!idx || idx >= SCOPE_NCC) {
		memcpy(out, "??", 3);
		return;
	}
	out[0] = (char)('A' + (idx - 1) / 26);
	out[1] = (char)('A' + (idx - 1) % 26);
	out[2] = 0;
}

void scope_geo_free(struct scope_geo *g)
{
	if (!g)
		return;
	if (g->blob) {
		munmap(g->blob, g->bloblen);
	} else {
		free(g->start);
		free(g->end);
		free(g->asn);
		free(g->cc);
	}
	if (g->db)
		loc_database_unref(g->db);
	if (g->ctx)
		loc_unref(g->ctx);
	if (g->dbf)
		fclose(g->dbf);
	for (size_t i = 0; i < g->nmmdb; i++)
		MMDB_close(&g->mmdb[i]);
	free(g);
}

size_t scope_geo_memory(const struct scope_geo *g)
{
	return g ? (size_t)g->n * 14 + sizeof(*g) : 0;
}

const char *scope_geo_describe(const struct scope_geo *g)
{
	return g ? g->desc : "none";
}

static void build_index(struct scope_geo *g)
{
	uint32_t r = 0;
	for (uint32_t p = 0; p <= 65536; p++) {
		uint64_t lo = (uint64_t)p << 16;
		while (r < g->n && (uint64_t)g->end[r] < lo)
			r++;
		g->idx16[p] = r;
	}
}

void scope_geo_lookup(const struct scope_geo *g, uint32_t addr, uint16_t *cc, uint32_t *asn)
{
	*cc = 0;
	*asn = 0;
	if (!g)
		return;
	if (g->nmmdb) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};
		bool have_cc = false, have_asn = false;
		for (size_t i = 0; i < g->nmmdb && !(have_cc && have_asn); i++) {
			int err;
			MMDB_lookup_result_s res = MMDB_lookup_sockaddr(
				(MMDB_s *)&g->mmdb[i], (struct sockaddr *)&sa, &err);
			if (err != MMDB_SUCCESS || !res.found_entry)
				continue;
			MMDB_entry_data_s d;
			if (!have_cc) {
				const char *paths[][3] = {{"country", "iso_code", NULL},
							  {"registered_country", "iso_code", NULL}};
				for (size_t k = 0; k < 2 && !have_cc; k++) {
					if (MMDB_aget_value(&res.entry, &d, paths[k]) ==
						    MMDB_SUCCESS &&
					    d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING &&
					    d.data_size == 2) {
						char c[3] = {d.utf8_string[0], d.utf8_string[1], 0};
						*cc = scope_cc_index(c);
						have_cc = *cc != 0;
					}
				}
			}
			if (!have_asn) {
				const char *path[] = {"autonomous_system_number", NULL};
				if (MMDB_aget_value(&res.entry, &d, path) == MMDB_SUCCESS &&
				    d.has_data) {
					if (d.type == MMDB_DATA_TYPE_UINT32)
						*asn = d.uint32;
					else if (d.type == MMDB_DATA_TYPE_UINT16)
						*asn = d.uint16;
					else if (d.type == MMDB_DATA_TYPE_UINT64 &&
						 d.uint64 <= UINT32_MAX)
						*asn = (uint32_t)d.uint64;
					have_asn = *asn != 0;
				}
			}
		}
		return;
	}
	uint32_t p = addr >> 16;
	uint32_t lo = g->idx16[p], hi = g->idx16[p + 1] + 1;
	if (hi > g->n)
		hi = g->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (addr < g->start[mid])
			hi = mid;
		else if (addr > g->end[mid])
			lo = mid + 1;
		else {
			*cc = g->cc[mid];
			*asn = g->asn[mid];
			return;
		}
	}
}

const char *scope_geo_as_name(struct scope_geo *g, uint32_t asn)
{
	if (!g || !g->db || !asn)
		return NULL;
	struct loc_as *as = NULL;
	if (loc_database_get_as(g->db, &as, asn) || !as)
		return NULL;
	const char *name = loc_as_get_name(as);
	lib_strlcpy(g->asname, name ? name : "", sizeof(g->asname));
	loc_as_unref(as);
	return g->asname[0] ? g->asname : NULL;
}

/* ---- building the flat table from libloc ---- */

struct net {
	uint32_t start, end;
	uint32_t asn;
	uint16_t cc;
	uint8_t prefix;
};

static int net_cmp(const void *a, const void *b)
{
	const struct net *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->prefix - y->prefix; /* the wider network first */
}

static void emit(struct scope_geo *g, uint32_t *cap, uint64_t from, uint64_t to,
		 const struct net *n)
{
	if (from > to)
		return;
	/* Adjacent ranges with the same answer are one range. */
	if (g->n && (uint64_t)g->end[g->n - 1] + 1 == from && g->cc[g->n - 1] == n->cc &&
	    g->asn[g->n - 1] == n->asn) {
		g->end[g->n - 1] = (uint32_t)to;
		return;
	}
	if (g->n == *cap) {
		*cap = *cap ? *cap * 2 : 65536;
		g->start = xrealloc(g->start, *cap * sizeof(uint32_t));
		g->end = xrealloc(g->end, *cap * sizeof(uint32_t));
		g->asn = xrealloc(g->asn, *cap * sizeof(uint32_t));
		g->cc = xrealloc(g->cc, *cap * sizeof(uint16_t));
	}
	g->start[g->n] = (uint32_t)from;
	g->end[g->n] = (uint32_t)to;
	g->asn[g->n] = n->asn;
	g->cc[g->n] = n->cc;
	g->n++;
}

/* CIDR networks either nest or are disjoint: a sweep with a stack of the open networks gives
 * each address its most specific network. */
static int flatten(struct scope_geo *g, struct net *nets, size_t n)
{
	qsort(nets, n, sizeof(*nets), net_cmp);
	struct net *stack[33];
	int sp = 0;
	uint64_t cur = 0;
	uint32_t cap = 0;
	for (size_t i = 0; i <= n; i++) {
		uint64_t next_start = i < n ? nets[i].start : (1ull << 32);
		while (sp && stack[sp - 1]->end < next_start) {
			emit(g, &cap, cur, stack[sp - 1]->end, stack[sp - 1]);
			cur = (uint64_t)stack[sp - 1]->end + 1;
			sp--;
		}
		if (i == n)
			break;
		if (sp)
			emit(g, &cap, cur, next_start - 1, stack[sp - 1]);
		cur = next_start;
		if (sp == 33 || g->n >= GEO_MAX_RANGES)
			return -E2BIG;
		stack[sp++] = &nets[i];
	}
	return 0;
}

static int build_libloc(struct scope_geo *g, char *err, size_t errlen)
{
	struct loc_database_enumerator *en = NULL;
	if (loc_database_enumerator_new(&en, g->db, LOC_DB_ENUMERATE_NETWORKS, 0)) {
		snprintf(err, errlen, "cannot enumerate the libloc database");
		return -EIO;
	}
	loc_database_enumerator_set_family(en, AF_INET);
	struct net *nets = NULL;
	size_t n = 0, cap = 0;
	struct loc_network *net;
	while (loc_database_enumerator_next_network(en, &net) == 0 && net) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if (cap > GEO_MAX_RANGES) {
				loc_network_unref(net);
				break;
			}
			nets = xrealloc(nets, cap * sizeof(*nets));
		}
		const struct in6_addr *a = loc_network_get_first_address(net);
		unsigned prefix = loc_network_prefix(net);
		if (prefix <= 32) {
			struct net *x = &nets[n++];
			x->start = (uint32_t)a->s6_addr[12] << 24 | (uint32_t)a->s6_addr[13] << 16 |
				   (uint32_t)a->s6_addr[14] << 8 | a->s6_addr[15];
			x->prefix = (uint8_t)prefix;
			x->end = x->start + (uint32_t)((1ull << (32 - prefix)) - 1);
			x->cc = scope_cc_index(loc_network_get_country_code(net));
			x->asn = loc_network_get_asn(net);
		}
		loc_network_unref(net);
	}
	loc_database_enumerator_unref(en);
	int rc = flatten(g, nets, n);
	free(nets);
	if (rc)
		snprintf(err, errlen, "the libloc database has too many networks");
	return rc;
}

/* ---- the cache file: magic, database size and mtime, count, then the arrays ---- */

struct cache_head {
	char magic[16];
	uint64_t size;
	int64_t mtime_ns;
	uint32_t n;
	uint32_t pad;
};

static char *cache_path(const char *cache_dir, const char *db, const struct stat *st)
{
	uint8_t key[16] = "mitsu-geo-cache";
	char buf[4200];
	int len = snprintf(buf, sizeof(buf), "%s|%lld|%lld", db, (long long)st->st_size,
			   (long long)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec);
	uint64_t h = lib_siphash(buf, (size_t)(len < 0 ? 0 : len), key);
	return xasprintf("%s/geo-%016llx.bin", cache_dir, (unsigned long long)h);
}

/* The cache file, mapped read-only: the page cache's copy is used as it is (a read would copy
 * megabytes into fresh pages). The file is replaced by rename, never rewritten in place, so the
 * mapping stays whole. */
static bool cache_map(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > GEO_MAX_CACHE) {
		close(fd);
		return false;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return false;
	*out = p;
	*len = (size_t)st.st_size;
	return true;
}

static bool cache_load(struct scope_geo *g, const char *path, const struct stat *st)
{
	uint8_t *data;
	size_t len;
	if (!cache_map(path, &data, &len))
		return false;
	struct cache_head h;
	bool ok = false;
	if (len >= sizeof(h)) {
		memcpy(&h, data, sizeof(h));
		uint64_t need = sizeof(h) + (uint64_t)h.n * 14;
		if (!memcmp(h.magic, GEO_CACHE_MAGIC, sizeof(GEO_CACHE_MAGIC) - 1) &&
		    h.size == (uint64_t)st->st_size &&
		    h.mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec &&
		    h.n <= GEO_MAX_RANGES && need == len) {
			/* The arrays are used where they were read (the header's size keeps them
			 * aligned): no copies of a table of megabytes. */
			_Static_assert(sizeof(struct cache_head) % 4 == 0, "cache arrays aligned");
			const uint8_t *p = data + sizeof(h);
			g->n = h.n;
			g->start = (uint32_t *)(uintptr_t)p;
			g->end = (uint32_t *)(uintptr_t)(p + (size_t)h.n * 4);
			g->asn = (uint32_t *)(uintptr_t)(p + (size_t)h.n * 8);
			g->cc = (uint16_t *)(uintptr_t)(p + (size_t)h.n * 12);
			ok = true;
			/* Ranges must be sorted and disjoint, or the file is not ours. */
			for (uint32_t i = 0; i < g->n && ok; i++)
				ok = g->start[i] <= g->end[i] &&
				     (i == 0 || g->start[i] > g->end[i - 1]) &&
				     g->cc[i] < SCOPE_NCC;
			if (ok) {
				g->blob = data;
				g->bloblen = len;
				return true;
			}
			g->start = g->end = g->asn = NULL;
			g->cc = NULL;
			g->n = 0;
		}
	}
	munmap(data, len);
	return false;
}

static void cache_save(const struct scope_geo *g, const char *cache_dir, const char *path,
		       const struct stat *st)
{
	if (lib_mkdirs(cache_dir, 0700))
		return;
	size_t len = sizeof(struct cache_head) + (size_t)g->n * 14;
	uint8_t *data = xmalloc(len);
	struct cache_head h = {.size = (uint64_t)st->st_size,
			       .mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
					   st->st_mtim.tv_nsec,
			       .n = g->n};
	memcpy(h.magic, GEO_CACHE_MAGIC, sizeof(GEO_CACHE_MAGIC) - 1);
	memcpy(data, &h, sizeof(h));
	uint8_t *p = data + sizeof(h);
	memcpy(p, g->start, (size_t)g->n * 4);
	memcpy(p + (size_t)g->n * 4, g->end, (size_t)g->n * 4);
	memcpy(p + (size_t)g->n * 8, g->asn, (size_t)g->n * 4);
	memcpy(p + (size_t)g->n * 12, g->cc, (size_t)g->n * 2);
	if (lib_write_file_atomic(path, data, len, 0600))
		log_debug("scope", "cannot write the geo cache %s", path);
	free(data);
}

int scope_geo_open_libloc(struct scope_geo **out, const char *path, const char *cache_dir,
			  char *err, size_t errlen)
{
	struct scope_geo *g = xcalloc(1, sizeof(*g));
	struct stat st;
	int rc;
	g->dbf = fopen(path, "re");
	if (!g->dbf || fstat(fileno(g->dbf), &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (loc_new(&g->ctx) || loc_database_new(g->ctx, &g->db, g->dbf)) {
		snprintf(err, errlen, "%s: not a libloc database", path);
		rc = -EINVAL;
		goto fail;
	}
	char *cpath = cache_dir ? cache_path(cache_dir, path, &st) : NULL;
	if (!cpath || !cache_load(g, cpath, &st)) {
		rc = build_libloc(g, err, errlen);
		if (rc) {
			free(cpath);
			goto fail;
		}
		if (cpath)
			cache_save(g, cache_dir, cpath, &st);
	}
	free(cpath);
	build_index(g);
	const char *vendor = loc_database_get_vendor(g->db);
	time_t created = loc_database_created_at(g->db);
	struct tm tm;
	char day[32] = "?";
	if (gmtime_r(&created, &tm))
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(g->desc, sizeof(g->desc), "libloc %s (%s, %s)", path, vendor ? vendor : "?", day);
	*out = g;
	return 0;
fail:
	scope_geo_free(g);
	return rc;
}

int scope_geo_open_mmdb(struct scope_geo **out, char **paths, size_t n, char *err, size_t errlen)
{
	if (n == 0 || n > GEO_MAX_MMDB) {
		snprintf(err, errlen, "between 1 and %d --geo files", GEO_MAX_MMDB);
		return -EINVAL;
	}
	struct scope_geo *g = xcalloc(1, sizeof(*g));
	size_t dl = 0;
	for (size_t i = 0; i < n; i++) {
		int s = MMDB_open(paths[i], MMDB_MODE_MMAP, &g->mmdb[i]);
		if (s != MMDB_SUCCESS) {
			snprintf(err, errlen, "%s: %s", paths[i], MMDB_strerror(s));
			scope_geo_free(g);
			return -EINVAL;
		}
		g->nmmdb++;
		int w = snprintf(g->desc + dl, sizeof(g->desc) - dl, "%s%s (%s)",
				 i ? ", " : "MaxMind ", paths[i],
				 g->mmdb[i].metadata.database_type
					 ? g->mmdb[i].metadata.database_type
					 : "?");
		if (w > 0 && (size_t)w < sizeof(g->desc) - dl)
			dl += (size_t)w;
	}
	*out = g;
	return 0;
}
