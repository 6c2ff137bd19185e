/* lib: helpers with no knowledge of honeypots, packets or malware.
 * Logging, allocation, bounded byte buffers, hashing, time, strings, randomness. */
#ifndef MITSU_LIB_H
#define MITSU_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LIB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LIB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LIB_MAX(a, b) ((a) > (b) ? (a) : (b))
#define LIB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define LIB_STR_(x) #x
#define LIB_STR(x) LIB_STR_(x) /* a macro's value as a string literal */

/* ---- logging: stderr, "LEVEL tag: message". Events are data, not log lines. ---- */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns -EINVAL on anything else. */
int log_parse_level(const char *s, enum log_level *out);
void log_msg(enum log_level level, const char *tag, const char *fmt, ...) LIB_PRINTF(3, 4);
#define log_debug(tag, ...) \
	do { \
		if (log_get_level() <= LOG_DEBUG) \
			log_msg(LOG_DEBUG, tag, __VA_ARGS__); \
	} while (0)
#define log_info(tag, ...) log_msg(LOG_INFO, tag, __VA_ARGS__)
#define log_warn(tag, ...) log_msg(LOG_WARN, tag, __VA_ARGS__)
#define log_error(tag, ...) log_msg(LOG_ERROR, tag, __VA_ARGS__)

/* ---- allocation: the x* functions abort on out-of-memory (there is no sane recovery). ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) LIB_PRINTF(1, 2);

/* ---- bounded byte buffer. `max` is a hard limit: appends past it fail with -ENOBUFS and
 * leave the buffer unchanged. The buffer owns `data`; it is always NUL-terminated
 * (one byte past len) so text can be used as a C string. ---- */
struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Room for `extra` more bytes without another allocation; -ENOBUFS past max. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) LIB_PRINTF(2, 3);
/* Removes the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Transfers ownership of the bytes to the caller (NUL-terminated); leaves b empty. */
uint8_t *buf_steal(struct buf *b, size_t *len);

/* ---- hashing (OpenSSL libcrypto underneath) ---- */
#define LIB_SHA256_HEX 65
#define LIB_SHA1_HEX 41
#define LIB_MD5_HEX 33
struct lib_hashes {
	char sha256[LIB_SHA256_HEX];
	char sha1[LIB_SHA1_HEX];
	char md5[LIB_MD5_HEX];
};
void lib_sha256_hex(const void *p, size_t n, char out[LIB_SHA256_HEX]);
void lib_hashes(const void *p, size_t n, struct lib_hashes *out);
void lib_hex(const void *p, size_t n, char *out /* 2n+1 */);
/* 64-bit keyed hash (SipHash-2-4) for hash tables fed by peers; seed with lib_random. */
uint64_t lib_siphash(const void *p, size_t n, const uint8_t key[16]);

/* ---- time ---- */
/* "2026-11-26T09:01:02.123456Z" into out (>= 28 bytes). */
#define LIB_RFC3339_LEN 32
void lib_rfc3339(const struct timespec *ts, char out[LIB_RFC3339_LEN]);
void lib_rfc3339_now(char out[LIB_RFC3339_LEN]);
/* Parses RFC 3339 (with Z or offset, optional fraction) or a bare date YYYY-MM-DD.
 * Returns 0 and microseconds since the epoch, or -EINVAL. */
int lib_parse_time(const char *s, int64_t *usec);
/* Parses as lib_parse_time and writes the instant in the store's form (fixed-width RFC 3339
 * UTC, so text order is time order). */
int lib_time_normalise(const char *s, char out[LIB_RFC3339_LEN], int64_t *usec);
/* Monotonic milliseconds / microseconds, and real time in microseconds. */
uint64_t lib_mono_ms(void);
uint64_t lib_mono_us(void);
int64_t lib_real_us(void);
/* This thread's CPU time in microseconds. */
uint64_t lib_thread_cpu_us(void);

/* Work done on the event loop's thread, counted as it happens (cheap increments) so that
 * `core.loop_stats` (src/run/turns.c) can tell what a long loop turn did. Only the loop's
 * thread touches it. */
struct lib_loop_work {
	uint64_t accepts;   /* connections accepted (sessions or refused) */
	uint64_t evictions; /* sessions evicted for a newcomer */
	uint64_t closes;    /* sessions freed */
	uint64_t timers;    /* session timers fired */
	uint64_t reads;     /* reads handed to a session (input, or the peer's end) */
	uint64_t writes;    /* writes started by sessions */
	uint64_t events;    /* events emitted */
	uint64_t flushed;   /* events serialised into a batch for the store and sinks */
	uint64_t delivered; /* events handed to the sinks after their commit */
	uint64_t waits;     /* times the loop waited for the store's writer */
	uint64_t wait_us;   /* time spent in those waits */
};
extern struct lib_loop_work lib_work;

/* ---- randomness ---- */
/* Kernel randomness (getrandom): for keys and seeds. */
void lib_random(void *p, size_t n);
/* Fast userspace CSPRNG (OpenSSL's DRBG, seeded by the kernel): for ids made in bulk. */
void lib_random_fast(void *p, size_t n);
/* RFC 9562 version-7 UUID: 48-bit Unix milliseconds then 74 random bits, lower-case, 36
 * chars + NUL. Unique across a fleet like v4, and time-ordered, so stores index it cheaply. */
void lib_uuid7(char out[37]);

/* ---- strings ---- */
/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t lib_strlcpy(char *dst, const char *src, size_t size);
bool lib_str_prefix(const char *s, const char *prefix);
bool lib_str_suffix(const char *s, const char *suffix);
/* Parses a whole string as an integer / unsigned size with optional K/M/G suffix. */
int lib_parse_int(const char *s, long long *out);
int lib_parse_size(const char *s, unsigned long long *out);
int lib_parse_bool(const char *s, bool *out);
/* A duration in seconds: "300", "300s", "5m", "1h", "1d". Negative values are refused. */
int lib_parse_secs(const char *s, long long *out);
/* Parses "1.2.3.4" or "::1" and optional port forms: "ADDR:PORT" or "[V6]:PORT". */
int lib_parse_hostport(const char *s, char *host, size_t hostlen, int *port);
/* Appends s to b as a JSON-safe printable form ("\xHH" for non-printables); for log lines. */
int buf_append_escaped(struct buf *b, const void *p, size_t n);

/* ---- files ---- */
/* Creates a directory and its parents (mode 0750 unless they exist). */
int lib_mkdirs(const char *path, int mode);
/* Reads a whole file (at most max bytes, else -EFBIG). Caller frees *out. */
int lib_read_file(const char *path, size_t max, uint8_t **out, size_t *len);
/* Writes atomically: a temporary file of a unique name (path.tmp.XXXXXX) in the same folder,
 * fsync, rename, with the given mode. A reader never sees a half-written path. */
int lib_write_file_atomic(const char *path, const void *p, size_t n, int mode);

/* ---- optional shared libraries, opened on first use (dl.c) ----
 * Libraries that only some subcommands need (libpq, libcurl, libmicrohttpd, YARA, libtlsh,
 * libpcap, libssl) are not linked: each area lists the functions it calls in one small header
 * (core/pg_dl.h, ...) as an X-macro of (prefix, symbol) pairs, which declares one function
 * pointer per symbol, named prefix##symbol (core_PQexec) and typed from the library's own
 * header. The first call of the area's load function opens the library by its soname and
 * fills every pointer; a missing library or symbol is an error that names the Debian package
 * to install. Loading is thread-safe and happens once; the pointers never change afterwards. */
struct lib_dl_sym {
	const char *name;
	void **fn;
};
struct lib_dl {
	const char *soname;  /* "libpq.so.5" */
	const char *package; /* the Debian package that ships it: "libpq5" */
	const struct lib_dl_sym *syms;
	size_t nsyms;
	/* state, guarded by dl.c's lock */
	void *handle;
	char err[256];
};
/* Opens dl's library and resolves its symbols once; 0, or -ENOENT with err set ("libpq.so.5:
 * ... (install the Debian package libpq5)"), the same answer on every later call. */
int lib_dl_load(struct lib_dl *dl, char *err, size_t errlen);
#define LIB_DL_DECLARE(prefix, f) extern __typeof__(f) *prefix##f;
#define LIB_DL_DEFINE(prefix, f) __typeof__(f) *prefix##f;
#define LIB_DL_ENTRY(prefix, f) {#f, (void **)&prefix##f},
/* Defines the pointers of SYMBOLS and `int load(char *err, size_t errlen)` for them. */
#define LIB_DL_LIBRARY(load, SONAME, PACKAGE, SYMBOLS) \
	SYMBOLS(LIB_DL_DEFINE) \
	static const struct lib_dl_sym load##_syms[] = {SYMBOLS(LIB_DL_ENTRY)}; \
	static struct lib_dl load##_dl = {.soname = SONAME, \
					  .package = PACKAGE, \
					  .syms = load##_syms, \
					  .nsyms = LIB_ARRAY_LEN(load##_syms)}; \
	int load(char *err, size_t errlen) \
	{ \
		return lib_dl_load(&load##_dl, err, errlen); \
	}

#endif
