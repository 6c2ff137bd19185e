/* ident: device identification of hosts from what their own services announce.
 *
 * Three parts, used by `mitsu ident`, `mitsu audit` (src/audit) and the scan-back of
 * `mitsu run`:
 *   - the fingerprint database: Rapid7 Recog's XML format (fingerprints/ and any folder of
 *     Recog's own files), patterns compiled with PCRE2 (JIT), each fingerprint's <example>s
 *     checked when asked (ident_db_selftest), and the device categories (fingerprints/
 *     categories.tsv) that a fingerprint's hw.device names;
 *   - the grabbers: non-blocking connections on a libuv loop, every read bounded, that talk
 *     Telnet, HTTP, HTTPS, RTSP, FTP, SSH and UPnP (SSDP and the description XML) and record
 *     each probe's outcome (refused, timeout, empty, silent, data), under global and per-host
 *     rate caps, a concurrency cap and time caps (the engine);
 *   - the classifier: the fields the probes saw, matched against the database, combined into
 *     one answer per host (category, vendor, model, firmware, confidence, evidence).
 *
 * Safety (DESIGN §7): the engine refuses private, loopback and reserved addresses unless
 * ident.allow_private, never connects to an address that was not a target (a UPnP LOCATION
 * that names another host is ignored), and opens connections only as fast as the caps allow. */
#ifndef MITSU_IDENT_H
#define MITSU_IDENT_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/core.h"

/* ------------------------------------------------------------------ limits */

#define IDENT_MAX_DB_FILE (32u << 20)   /* bytes of one fingerprint XML file */
#define IDENT_MAX_DB_FILES 256          /* XML files in one folder */
#define IDENT_MAX_FINGERPRINTS 200000   /* fingerprints in one database, all files */
#define IDENT_MAX_PATTERN 16384         /* bytes of one pattern */
#define IDENT_MAX_TEXT 65536            /* bytes of one description, example or value */
#define IDENT_MAX_PARAMS 64             /* params of one fingerprint or one match */
#define IDENT_MAX_FIELD 4096            /* bytes of one observed field given to the matcher */
#define IDENT_MAX_FIELDS 48             /* fields observed on one host */
#define IDENT_MAX_EVIDENCE 24           /* matches kept per host */
#define IDENT_MAX_PROBES 48             /* probes run against one host */
#define IDENT_MAX_CATEGORIES 256        /* rows of categories.tsv */
#define IDENT_MAX_SSDP_REPLIES 8        /* SSDP answers read from one host */
#define IDENT_MAX_SERVICES 16           /* UPnP services remembered from one description */
#define IDENT_MAX_CIDR_HOSTS (1u << 20) /* addresses one CIDR target may expand to */

/* ------------------------------------------------------------------ fingerprint database */

struct ident_db;

/* One param of a match: name and value (both NUL-terminated, owned by the match). */
struct ident_param {
	char *name;
	char *value;
};

/* What one fingerprint said about one field. */
struct ident_match {
	const char *file;        /* the XML file's base name (owned by the db) */
	const char *description; /* the fingerprint's description (owned by the db) */
	int line;                /* line of the fingerprint in its file */
	double certainty;        /* 0..1: the fingerprint's certainty or its file's preference */
	struct ident_param params[IDENT_MAX_PARAMS];
	size_t nparams;
};
void ident_match_clear(struct ident_match *m);
/* A param's value, or NULL. */
const char *ident_match_get(const struct ident_match *m, const char *name);

struct ident_db *ident_db_new(void);
void ident_db_free(struct ident_db *db);
/* Loads every *.xml of a folder (sorted by name) and, if present, its categories.tsv.
 * Returns 0 or a negative errno with the file, line and reason in err. */
int ident_db_load_dir(struct ident_db *db, const char *dir, char *err, size_t errlen);
/* Loads one Recog XML document from memory; `name` is its file name ("telnet_banners.xml"),
 * which gives the match key when the root has no `matches` attribute. */
int ident_db_load_xml(struct ident_db *db, const char *name, const char *xml, size_t len, char *err,
		      size_t errlen);
/* Loads the category table (TSV: id, group, name, aliases separated by '|'). */
int ident_db_load_categories(struct ident_db *db, const char *tsv, size_t len, char *err,
			     size_t errlen);
/* The folder of fingerprints shipped with mitsu: $MITSU_FINGERPRINTS, else the source tree's
 * fingerprints/ when running from a build, else PREFIX/share/mitsu/fingerprints. */
const char *ident_default_fingerprints_dir(void);
/* Loads the shipped fingerprints and then each extra folder (ident.fingerprints). */
int ident_db_open(struct ident_db **out, const struct core_config *cfg, char *err, size_t errlen);

struct ident_db_stats {
	size_t files, fingerprints, examples, categories;
	size_t skipped_files; /* files whose match key no probe produces */
};
void ident_db_stats(const struct ident_db *db, struct ident_db_stats *out);

/* Matches one field's value (key: "telnet.banner", "http_header.server", ...) against the
 * fingerprints of that key, in priority order; the first that matches fills *m. Returns
 * true on a match. Values longer than IDENT_MAX_FIELD are cut. */
bool ident_db_match(struct ident_db *db, const char *key, const void *value, size_t len,
		    struct ident_match *m);

/* Checks every fingerprint's examples: each must match its own pattern and give the param
 * values its attributes name. Writes one line per failure to `out` (may be NULL). Returns the
 * number of failures; *checked (may be NULL) gets the number of examples checked. */
size_t ident_db_selftest(struct ident_db *db, FILE *out, size_t *checked);

/* Device categories (the seed's 72 and more): id ("ip-camera"), group ("surveillance"), name
 * ("IP camera"). */
struct ident_category {
	char *id, *group, *name;
	char **aliases; /* lower-case hw.device values that mean this category */
	size_t naliases;
};
/* The category a hw.device/os.device value names (id, name or alias, any case), or NULL. */
const struct ident_category *ident_db_category(const struct ident_db *db, const char *device);
size_t ident_db_categories(const struct ident_db *db, const struct ident_category **out);
/* How many fingerprints name this category (a fixed hw.device or os.device). */
size_t ident_db_category_fingerprints(const struct ident_db *db, const struct ident_category *c);

/* ------------------------------------------------------------------ observations and results */

/* The probes: each talks one protocol to one port. */
#define IDENT_PROBES(X) \
	X(TELNET, "telnet") \
	X(HTTP, "http") \
	X(HTTPS, "https") \
	X(RTSP, "rtsp") \
	X(FTP, "ftp") \
	X(SSH, "ssh") \
	X(UPNP, "upnp")
#define IDENT_PROBE_ENUM(id, name) IDENT_PROBE_##id,
enum ident_probe_kind { IDENT_PROBES(IDENT_PROBE_ENUM) IDENT_PROBE__COUNT };
#undef IDENT_PROBE_ENUM
const char *ident_probe_name(enum ident_probe_kind k);
int ident_probe_find(const char *name); /* -1 if unknown */

/* How a probe ended (docs/ident.md). */
#define IDENT_OUTCOMES(X) \
	X(NONE, "not_run") \
	X(REFUSED, "refused") \
	X(TIMEOUT, "timeout") \
	X(UNREACHABLE, "unreachable") \
	X(EMPTY, "empty") \
	X(SILENT, "silent") \
	X(DATA, "data") \
	X(RESET, "reset") \
	X(TLS_ERROR, "tls_error") \
	X(SKIPPED, "skipped")
#define IDENT_OUTCOME_ENUM(id, name) IDENT_OUT_##id,
enum ident_outcome { IDENT_OUTCOMES(IDENT_OUTCOME_ENUM) IDENT_OUT__COUNT };
#undef IDENT_OUTCOME_ENUM
const char *ident_outcome_name(enum ident_outcome o);

struct ident_probe_result {
	enum ident_probe_kind kind;
	int port;
	enum ident_outcome outcome;
	uint32_t ms;      /* from connect to the end */
	uint32_t bytes;   /* bytes read */
	bool truncated;   /* the read cap was reached (a flood) */
	char detail[160]; /* status line, first banner line, or the error */
};

/* One field a probe saw ("telnet.banner" = "HI3520D login:"). */
struct ident_field {
	enum ident_probe_kind kind;
	int port;
	char key[40];
	char *value; /* NUL-terminated, at most IDENT_MAX_FIELD bytes */
	size_t len;
};

/* A UPnP service of the description (for the audit's IGD checks). */
struct ident_upnp_service {
	char type[128];
	char control_url[256];
};

/* Everything learnt about one host. */
struct ident_host {
	char addr[46];
	struct sockaddr_storage sa;
	int only_port; /* a target "PROBE://ADDR:PORT" probes that one service; else 0 */
	enum ident_probe_kind only_kind;
	struct ident_probe_result probes[IDENT_MAX_PROBES];
	size_t nprobes;
	struct ident_field fields[IDENT_MAX_FIELDS];
	size_t nfields;
	/* UPnP description: where it was, and its IGD services. */
	int upnp_port;
	char upnp_path[256];
	struct ident_upnp_service services[IDENT_MAX_SERVICES];
	size_t nservices;
	uint64_t start_ms, end_ms;
	bool policy_refused; /* private/reserved and not allowed: nothing was sent */
};
/* Adds a field (copied, cut to IDENT_MAX_FIELD; dropped beyond IDENT_MAX_FIELDS). */
void ident_host_add_field(struct ident_host *h, enum ident_probe_kind kind, int port,
			  const char *key, const void *value, size_t len);
const char *ident_host_field(const struct ident_host *h, const char *key);
void ident_host_clear(struct ident_host *h);

struct ident_evidence {
	enum ident_probe_kind kind;
	int port;
	char key[40];
	char *value;
	struct ident_match match;
	const struct ident_category *category;
};

struct ident_result {
	const struct ident_category *category; /* NULL: not identified */
	char *vendor, *model, *firmware;       /* NULL when no evidence names them */
	double confidence;                     /* 0..1 for the category */
	bool identified;                       /* category and confidence >= the minimum */
	bool answered;                         /* some probe got data */
	struct ident_evidence evidence[IDENT_MAX_EVIDENCE];
	size_t nevidence;
};
/* Matches every field of the host and combines the matches (docs/ident.md: confidence).
 * `min_confidence` decides `identified`. */
void ident_classify(struct ident_db *db, const struct ident_host *h, double min_confidence,
		    struct ident_result *r);
void ident_result_free(struct ident_result *r);
/* The result as the fields of a mitsu.ident.result event (and `mitsu ident --format json`). */
json_t *ident_result_json(const struct ident_host *h, const struct ident_result *r);

/* ------------------------------------------------------------------ grabbers */

/* One bounded connection on the loop: connect (rate-capped by the engine), optional TLS, a
 * read buffer of at most `max_read` bytes, an idle timeout that restarts with each read, and
 * a deadline. The owner's callbacks drive the conversation. */
struct ident_conn;
struct ident_conn_ops {
	/* Connected (and TLS done): send the first bytes, if any. */
	void (*on_open)(struct ident_conn *c, void *arg);
	/* New bytes arrived; everything read so far is ident_conn_data(). Call ident_conn_done
	 * to end early (the conversation is over). */
	void (*on_data)(struct ident_conn *c, void *arg);
	/* The connection ended, with this outcome; called once. The conn is freed after it. */
	void (*on_end)(struct ident_conn *c, void *arg, enum ident_outcome outcome);
};
struct ident_engine;
/* Queues a connection to addr:port (the engine's host must have been admitted with
 * ident_engine_host_begin, which checked the address policy). */
struct ident_conn *ident_conn_open(struct ident_engine *e, const struct sockaddr *addr, int port,
				   bool tls, const struct ident_conn_ops *ops, void *arg);
void ident_conn_write(struct ident_conn *c, const void *p, size_t n);
const uint8_t *ident_conn_data(const struct ident_conn *c, size_t *len);
/* Drops the first n bytes of the read buffer (for conversations that parse as they go). */
void ident_conn_consume(struct ident_conn *c, size_t n);
bool ident_conn_truncated(const struct ident_conn *c);
uint32_t ident_conn_bytes(const struct ident_conn *c);
uint32_t ident_conn_ms(const struct ident_conn *c);
/* Ends the conversation: on_end follows with outcome DATA (or EMPTY if nothing came). */
void ident_conn_done(struct ident_conn *c);
/* The TLS peer certificate's subject and issuer (one line each), or "" without TLS. */
const char *ident_conn_tls_subject(const struct ident_conn *c);
const char *ident_conn_tls_issuer(const struct ident_conn *c);

/* The engine's limits, from the [ident] section. */
struct ident_limits {
	double rate;           /* new connections per second, all hosts (0: no cap) */
	double host_rate;      /* new connections per second to one host */
	size_t max_hosts;      /* hosts in flight */
	size_t max_conns;      /* connections open at once */
	size_t host_conns;     /* connections open at once to one host */
	uint32_t connect_ms;   /* connect timeout */
	uint32_t read_ms;      /* idle read timeout */
	uint32_t host_ms;      /* time cap per host */
	size_t max_read;       /* bytes read per connection */
	bool allow_private;    /* loopback, private and reserved ranges allowed */
	double min_confidence; /* identified when the category's confidence reaches it */
};
void ident_limits_from_config(const struct core_config *cfg, struct ident_limits *out);

/* Ports of each probe (ident.telnet_ports, ...). */
struct ident_ports {
	int ports[IDENT_PROBE__COUNT][16];
	size_t n[IDENT_PROBE__COUNT];
	char http_paths[8][128]; /* extra paths fetched on each HTTP(S) port */
	size_t npaths;
};
int ident_ports_from_config(const struct core_config *cfg, struct ident_ports *out, char *err,
			    size_t errlen);

/* A host's probes are done. The callback owns nothing: h and r are freed after it returns. */
typedef void (*ident_host_cb)(void *arg, const struct ident_host *h, const struct ident_result *r);

struct ident_engine_stats {
	uint64_t hosts_done, hosts_refused, conns, answered, identified;
	size_t hosts_in_flight, hosts_queued, conns_open;
	size_t peak_hosts, peak_conns;
};

/* The engine: hosts wait in a queue (at most `queue_max`) and are probed, at most
 * limits.max_hosts at once. `db` may be NULL (no classification: r has no category). */
int ident_engine_open(struct ident_engine **out, uv_loop_t *loop, const struct ident_limits *lim,
		      const struct ident_ports *ports, struct ident_db *db, size_t queue_max,
		      ident_host_cb cb, void *arg);
/* Queues a host (with only_port/only_kind set for a single-service target). Returns 0,
 * -EPERM if the address policy refuses it (the callback is still called, with
 * policy_refused), -ENOBUFS if the queue is full. */
int ident_engine_submit(struct ident_engine *e, const struct sockaddr *sa, int only_port,
			int only_kind);
/* Whether the address policy allows probing this address. */
bool ident_addr_allowed(const struct ident_engine *e, const struct sockaddr *sa);
void ident_engine_stats(const struct ident_engine *e, struct ident_engine_stats *out);
/* Hosts queued or in flight. */
size_t ident_engine_pending(const struct ident_engine *e);
/* Stops: queued hosts are dropped, connections closed; hosts in flight still get their
 * callback with what they had. The engine is freed on the loop once the last is gone. */
void ident_engine_close(struct ident_engine *e);
/* Called once the closed engine is freed (to free what its callbacks used). */
void ident_engine_on_closed(struct ident_engine *e, void (*cb)(void *arg), void *arg);

/* A probe driver for other modules (the audit): a host context whose connections count
 * against the engine's caps. ident_engine_host_begin checks the policy and takes a slot. */
struct ident_hostctx;
struct ident_hostctx *ident_engine_host_begin(struct ident_engine *e, const struct sockaddr *sa);
void ident_engine_host_end(struct ident_hostctx *hc);
struct ident_conn *ident_hostctx_open(struct ident_hostctx *hc, int port, bool tls,
				      const struct ident_conn_ops *ops, void *arg);
/* Whether the host's time cap (ident.host_timeout) has passed: start nothing more. */
bool ident_hostctx_timed_out(const struct ident_hostctx *hc);

/* One HTTP/1.0 request on its own connection (Connection: close): `extra` holds more header
 * lines ("Authorization: ...\r\n", may be NULL). The callback gets the outcome and, when
 * something came, the parsed response (pointers valid during the call only). */
struct ident_http_resp;
typedef void (*ident_http_cb)(void *arg, enum ident_outcome o, const struct ident_http_resp *r,
			      struct ident_conn *c);
void ident_http_request(struct ident_hostctx *hc, int port, bool tls, const char *method,
			const char *path, const char *extra, const void *body, size_t body_len,
			ident_http_cb cb, void *arg);

/* ------------------------------------------------------------------ parsing helpers */

/* An HTTP response as the grabbers parse it (pointers into the buffer given). */
struct ident_http_resp {
	int status;
	const char *status_line;
	size_t status_len;
	const char *headers; /* after the status line, up to the blank line */
	size_t headers_len;
	const char *body;
	size_t body_len;
	bool complete_headers;
};
/* Parses what was read so far. Returns 0 once the status line and headers are complete. */
int ident_http_parse(const uint8_t *p, size_t n, struct ident_http_resp *r);
/* The value of header `name` (case-insensitive), the index-th occurrence; NULL if absent. */
const char *ident_http_header(const struct ident_http_resp *r, const char *name, size_t index,
			      size_t *len);
/* The text of the first <title> of an HTML body, entities &amp; &lt; &gt; &quot; &#NN;
 * decoded and blanks squeezed, into out. Returns its length or -1 if there is none. */
int ident_html_title(const char *body, size_t n, char *out, size_t outlen);
/* Telnet: removes IAC sequences from `in` into `out` (at most outlen) and writes the replies
 * the grabber sends (refuse every option but the server's ECHO and SGA) into `reply`.
 * `state` carries a sequence split across reads (start at 0). Returns bytes written to out. */
size_t ident_telnet_filter(const uint8_t *in, size_t n, uint8_t *out, size_t outlen, uint8_t *reply,
			   size_t replylen, size_t *nreply, uint32_t *state);
/* What the end of a Telnet text is waiting for: a login name, a password, a shell command
 * (a prompt ending in # $ > %), or nothing yet. */
enum ident_prompt {
	IDENT_PROMPT_NONE,
	IDENT_PROMPT_LOGIN,
	IDENT_PROMPT_PASSWORD,
	IDENT_PROMPT_SHELL
};
enum ident_prompt ident_telnet_prompt(const uint8_t *p, size_t n);
/* Telnet text as a terminal shows it: the carriage returns a pty's ONLCR adds to BusyBox
 * telnetd's "\r\n" and "\n\r" line ends ("\r\r\n" and a "\r" that starts a line) are
 * removed, so each line ends in one "\r\n" (or "\n"). In place; returns the new length. */
size_t ident_telnet_lines(char *p, size_t n);
/* UPnP description XML: the fields identification uses, and the services. */
struct ident_upnp_desc {
	char device_type[128], friendly_name[128], manufacturer[128], model_name[128],
		model_number[64], model_description[128], serial[64], udn[96], presentation[256];
	struct ident_upnp_service services[IDENT_MAX_SERVICES];
	size_t nservices;
};
int ident_upnp_parse(const char *xml, size_t len, struct ident_upnp_desc *out);
/* The match text of a description ("upnp.description" key): one "name: value" line per
 * field present (manufacturer, modelName, modelNumber, modelDescription, friendlyName,
 * deviceType). Returns its length. */
size_t ident_upnp_text(const struct ident_upnp_desc *d, char *out, size_t outlen);

/* A printable copy of bytes a peer sent (control bytes as \xHH), cut to outlen. */
void ident_printable(const void *p, size_t n, char *out, size_t outlen);

/* ------------------------------------------------------------------ targets */

/* One target: "ADDR", "ADDR/BITS" (an IPv4 CIDR of at most IDENT_MAX_CIDR_HOSTS addresses),
 * or "PROBE://ADDR:PORT" (one service: port and kind set). */
struct ident_target {
	struct sockaddr_storage base;
	uint64_t count; /* addresses from base on */
	int port;       /* 0: every probe on its configured ports */
	int kind;
};
/* Returns 0 or -EINVAL / -E2BIG with a reason in err. */
int ident_target_parse(const char *spec, struct ident_target *t, char *err, size_t errlen);
/* The i-th address of a target (i < count). */
void ident_target_nth(const struct ident_target *t, uint64_t i, struct sockaddr_storage *out);

/* ------------------------------------------------------------------ scan-back in `mitsu run` */

/* Subscribes to the bus: each new attacking source (mitsu.session.connect, mitsu.http.request)
 * is probed once, soon after (ident.auto_delay), if ident.auto is on; results are emitted as
 * mitsu.ident.result. Returns NULL when ident.auto is off (nothing to do) or on error (logged).
 */
struct ident_auto;
struct ident_auto *ident_auto_open(uv_loop_t *loop, const struct core_config *cfg,
				   struct core_bus *bus);
void ident_auto_close(struct ident_auto *a);

/* Emits one host's result as mitsu.ident.result. */
void ident_emit_result(struct core_bus *bus, const struct ident_host *h,
		       const struct ident_result *r);

/* The flags of the engine's caps, shared by `mitsu ident` and `mitsu audit` (entries of a
 * struct core_flag table). */
#define IDENT_ENGINE_FLAGS \
	{.name = "rate", .arg = "N", .opt = OPT_IDENT_RATE}, \
		{.name = "host-rate", .arg = "N", .opt = OPT_IDENT_HOST_RATE}, \
		{.name = "max-hosts", .arg = "N", .opt = OPT_IDENT_MAX_HOSTS}, \
		{.name = "max-time", .arg = "DURATION", .opt = OPT_IDENT_MAX_TIME}, \
		{.name = "connect-timeout-ms", .arg = "MS", .opt = OPT_IDENT_CONNECT_TIMEOUT}, \
		{.name = "read-timeout-ms", .arg = "MS", .opt = OPT_IDENT_READ_TIMEOUT}, \
		{.name = "telnet-ports", .arg = "PORTS", .opt = OPT_IDENT_TELNET_PORTS}, \
	{ \
		.name = "http-ports", .arg = "PORTS", .opt = OPT_IDENT_HTTP_PORTS \
	}

/* `mitsu ident`. */
extern const struct core_command ident_command;

#endif
