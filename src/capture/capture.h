/* capture: the sample store and the downloader.
 *
 * Sample store: every captured file is stored once under DATA/samples/ab/<sha256> (mode 0400,
 * never executable) and described in the `samples` table (hashes, size, type, ELF architecture,
 * first/last seen, times seen) with its origins in `sample_sources` (URL, source address,
 * session, method). Each store emits mitsu.sample.stored with a `duplicate` flag.
 *
 * Downloader: fetches the URLs attackers give (http, https, ftp, tftp) with libcurl's multi
 * interface on the sensor's libuv loop, under the safety rules of DESIGN §7: no private or
 * local destinations unless capture.allow_private, checked on the resolved address and on every
 * redirect; size, time, concurrency and per-destination rate limits; a record-only mode. */
#ifndef MITSU_CAPTURE_H
#define MITSU_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/core.h"

/* ------------------------------------------------------------------ samples */

/* Where a sample came from. Every field may be NULL. */
struct capture_origin {
	const char *source; /* "download", "upload", "exec", "http", "cli" */
	const char *method; /* wget, curl, tftp, ftpget, echo, printf, redirect, dd, ... */
	const char *url;
	const char *src_ip; /* the attacker */
	const char *session;
	const char *destfile; /* the path the attacker wrote */
};

struct capture_sample {
	char sha256[LIB_SHA256_HEX];
	char sha1[LIB_SHA1_HEX];
	char md5[LIB_MD5_HEX];
	uint64_t size;
	char filetype[24]; /* "elf", "script", "text", "data", "gzip", ... */
	char arch[16];     /* ELF architecture (capture_elf_arch), "" if not ELF */
	bool duplicate;    /* the store had it already */
};

struct capture_samples;

/* Opens the store (creates DATA/samples and the tables). bus may be NULL (no events). */
int capture_samples_open(struct capture_samples **out, struct core_store *store,
			 struct core_bus *bus);
void capture_samples_close(struct capture_samples *cs);
/* Stores data (if new), records the origin, emits mitsu.sample.stored with `conn` identity
 * (may be NULL). Fills *out. Returns 0 or a negative errno (disk error). */
int capture_sample_put(struct capture_samples *cs, const void *data, size_t len,
		       const struct capture_origin *origin, const struct core_conn *conn,
		       struct capture_sample *out);
/* DATA/samples/ab/<sha256>; caller frees. */
char *capture_sample_path(const char *data_dir, const char *sha256);

/* Names the CPU of an ELF file as Mirai's loader and qemu do: arm, armeb, aarch64, mips,
 * mipsel, mips64, mips64el, i386, x86_64, ppc, ppc64, ppc64le, sh4, sh4eb, sparc, sparc64,
 * m68k, arc, riscv64, or "elf-<machine>" for others. Returns 0, or -EINVAL if not an ELF. */
int capture_elf_arch(const uint8_t *p, size_t n, char out[16]);
/* A short file type from the first bytes: elf, script (#!), gzip, xz, zip, html, text, data. */
void capture_file_type(const uint8_t *p, size_t n, char out[24]);

/* ------------------------------------------------------------------ downloads */

struct capture_fetcher;

struct capture_fetch_req {
	const char *url;              /* http(s)://, ftp://, tftp:// */
	const char *method;           /* wget, curl, tftp, ftpget: for events and the User-Agent */
	const char *destfile;         /* the path the attacker named, for events; may be NULL */
	const char *user_agent;       /* NULL: the method's usual one */
	const struct core_conn *conn; /* identity for events (copied); may be NULL */
};

enum capture_fetch_status {
	CAPTURE_FETCH_OK,
	CAPTURE_FETCH_BAD_ADDRESS, /* the name does not resolve */
	CAPTURE_FETCH_REFUSED,     /* connection refused or unreachable */
	CAPTURE_FETCH_TIMEOUT,
	CAPTURE_FETCH_SERVER_ERROR, /* HTTP >= 400, FTP or TFTP error: see code */
	CAPTURE_FETCH_BLOCKED,      /* policy: private address, rate limit, queue full, bad URL */
	CAPTURE_FETCH_NOT_FETCHED,  /* capture.fetch = false: the URL is recorded only */
};

struct capture_fetch_res {
	enum capture_fetch_status status;
	int code;            /* HTTP status, FTP reply or TFTP error code; 0 if none */
	const char *error;   /* short cause */
	const uint8_t *data; /* the bytes (OK); valid during the callback only */
	size_t len;
	bool truncated; /* cut at capture.max_size */
	char remote_ip[46];
	int remote_port;
	struct capture_sample sample; /* OK: how it was stored */
};

/* Called once per download, from the loop, never from inside capture_fetch. */
typedef void (*capture_fetch_cb)(void *arg, const struct capture_fetch_res *res);

int capture_fetcher_open(struct capture_fetcher **out, uv_loop_t *loop,
			 const struct core_config *cfg, struct capture_samples *samples,
			 struct core_bus *bus);
/* Aborts every download (no callbacks) and frees the fetcher once its handles are closed. */
void capture_fetcher_close(struct capture_fetcher *f);
/* Starts (or queues) a download. Returns its id (> 0); the callback reports the outcome,
 * including policy refusals. Every outcome is also recorded as mitsu.session.file_download or
 * mitsu.session.file_download.failed, and a fetched file is put in the sample store. */
uint64_t capture_fetch(struct capture_fetcher *f, const struct capture_fetch_req *req,
		       capture_fetch_cb cb, void *arg);
/* The requester is gone (its session closed): the download goes on and is stored, its events
 * carry "late": true, and the callback is not called. */
void capture_fetch_detach(struct capture_fetcher *f, uint64_t id);
/* Whether an address is one downloads must not reach by default: loopback, RFC 1918, CGNAT,
 * link-local, multicast, documentation, benchmarking, reserved, unspecified (IPv4 and IPv6,
 * including IPv4-mapped and NAT64 forms). */
bool capture_addr_is_private(const struct sockaddr *sa);

/* ------------------------------------------------------------------ exploit payloads */

/* Bounds: bytes of a payload read, URLs reported per payload, bytes of one URL. */
#define CAPTURE_PAYLOAD_MAX (64 * 1024)
#define CAPTURE_PAYLOAD_MAX_URLS 32
#define CAPTURE_PAYLOAD_MAX_URL 2048

typedef void (*capture_url_cb)(void *arg, const char *url, const char *method);
/* The downloads a web exploit payload commands (for the WebUI honeypot and the exploit ports):
 * decodes URL (%XX, +) and XML (&amp; &#NN;) encodings and ${IFS}, splits into commands at
 * ; & | ` $( ) < > and newlines, and reads every wget, curl, tftp (both syntaxes) and ftpget
 * command as BusyBox parses it. Calls cb with each absolute URL (http, https, ftp, tftp) and
 * the method; hand them to capture_fetch. Returns the number of URLs. Runs nothing. */
size_t capture_payload_urls(const void *payload, size_t len, capture_url_cb cb, void *arg);

/* `mitsu samples`: list the store (table or --format json). */
extern const struct core_command capture_samples_command;

#endif
