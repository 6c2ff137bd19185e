/* scope: darknet (network telescope) analysis. Reads packet captures (pcap, pcapng, compressed)
 * or a live interface in one pass and computes NICTER-style statistics per run and per interval:
 * packets per port, sources per country and AS, OS of SYN sources (p0f v3 signatures), Mirai,
 * ZMap and masscan labels, DoS backscatter and scanners. docs/scope.md is the user's guide. */
#ifndef MITSU_SCOPE_H
#define MITSU_SCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/lib.h"

/* ------------------------------------------------------------------ bounds */

/* TCP options recorded per SYN (p0f's MAX_TCP_OPT). */
#define SCOPE_MAX_TCP_OPT 24
/* VLAN tags skipped in front of an Ethernet payload. */
#define SCOPE_MAX_VLAN_TAGS 4
/* Largest capture record accepted; a larger caplen means a corrupt file. */
#define SCOPE_MAX_RECORD (256u * 1024u)
/* Darknet CIDRs on the command line. */
#define SCOPE_MAX_DARKNETS 256
/* Dark addresses counted in a flat array (above it, a hash table). */
#define SCOPE_DIRECT_MAX (1u << 22)
/* Input files in one run. */
#define SCOPE_MAX_INPUTS 4096
/* Worker threads (--threads). */
#define SCOPE_MAX_THREADS 32
/* Countries: two capital letters, index 1 + 26 * a + b; 0 is "unknown". */
#define SCOPE_NCC (1 + 26 * 26)

/* ------------------------------------------------------------------ decoded packets */

/* Link types understood by scope_decode (libpcap DLT_ and LINKTYPE_ numbers). */
#define SCOPE_LINK_NULL 0
#define SCOPE_LINK_EN10MB 1
#define SCOPE_LINK_RAW 101
#define SCOPE_LINK_SLL 113
#define SCOPE_LINK_SLL2 276
#define SCOPE_LINK_LOOP 108
#define SCOPE_LINK_IPV4 228
#define SCOPE_LINK_IPV6 229
bool scope_link_supported(int linktype);

enum scope_dec {
	SCOPE_DEC_IP = 0,     /* an IPv4 or IPv6 packet, fields filled */
	SCOPE_DEC_NOT_IP = 1, /* a valid frame that carries no IP (ARP, LLC, ...) */
	SCOPE_DEC_MALFORMED = 2,
	SCOPE_DEC_BAD_LINK = 3,
	SCOPE_DEC__N
};

/* What a packet is, for the statistics. */
enum scope_class {
	SCOPE_C_SYN, /* TCP SYN without ACK or RST: a scan or connection attempt */
	SCOPE_C_UDP,
	SCOPE_C_ICMP,        /* ICMP or ICMPv6, any type */
	SCOPE_C_BACKSCATTER, /* TCP SYN+ACK or RST: replies to spoofed packets */
	SCOPE_C_TCP_OTHER,   /* any other TCP, or TCP whose header was not captured */
	SCOPE_C_OTHER,       /* other IP protocols and non-first fragments */
	SCOPE_C__N
};
/* Port tables: SYN by destination port, UDP by destination port, ICMP by type. */
#define SCOPE_PT_SYN 0
#define SCOPE_PT_UDP 1
#define SCOPE_PT_ICMP 2
#define SCOPE_PT__N 3

/* p0f quirks (bit values of our own; names as in p0f.fp). */
enum {
	SCOPE_Q_DF = 1u << 0,
	SCOPE_Q_NZ_ID = 1u << 1,
	SCOPE_Q_ZERO_ID = 1u << 2,
	SCOPE_Q_ECN = 1u << 3,
	SCOPE_Q_NZ_MBZ = 1u << 4,
	SCOPE_Q_FLOW = 1u << 5,
	SCOPE_Q_ZERO_SEQ = 1u << 6,
	SCOPE_Q_NZ_ACK = 1u << 7,
	SCOPE_Q_ZERO_ACK = 1u << 8,
	SCOPE_Q_NZ_URG = 1u << 9,
	SCOPE_Q_URG = 1u << 10,
	SCOPE_Q_PUSH = 1u << 11,
	SCOPE_Q_OPT_ZERO_TS1 = 1u << 12,
	SCOPE_Q_OPT_NZ_TS2 = 1u << 13,
	SCOPE_Q_OPT_EOL_NZ = 1u << 14,
	SCOPE_Q_OPT_EXWS = 1u << 15,
	SCOPE_Q_OPT_BAD = 1u << 16,
};

/* The fields of a SYN that p0f v3 matches on, computed as p0f computes them. */
struct scope_tcpsig {
	uint32_t quirks;
	uint32_t ts1;
	uint16_t mss, win, tot_hdr;
	uint8_t wscale, opt_cnt, opt_eol_pad, ip_opt_len, ttl, tos, pay; /* pay: payload present */
	uint8_t opt_layout[SCOPE_MAX_TCP_OPT];
};

/* One decoded packet; every multi-byte field is in host order. Addresses of IPv4 packets are
 * in src/dst, of IPv6 packets in src6/dst6. */
#define SCOPE_PF_FRAG 0x01     /* a non-first fragment: no transport header */
#define SCOPE_PF_L4_SHORT 0x02 /* transport header cut by the snap length */
#define SCOPE_PF_INNER 0x04    /* an ICMP error with a quoted IPv4 header (inner_*) */
#define SCOPE_PF_SIG 0x08      /* sig is filled (IPv4/IPv6 SYN) */
#define SCOPE_PF_LAZY 0x10     /* sig not computed: the IPv4 header is at l3 (see scope_pkt_sig) */
struct scope_pkt {
	int64_t ts_ns;
	uint32_t len; /* IP datagram length from its header */
	uint32_t src, dst;
	uint32_t seq;
	uint32_t inner_src, inner_dst;
	uint16_t sport, dport; /* ICMP and ICMPv6: code and type (the type is the "port") */
	uint16_t ipid;
	uint8_t ipver, proto, ttl, tcp_flags;
	uint8_t cls; /* enum scope_class */
	uint8_t flags;
	uint8_t inner_proto;
	struct scope_tcpsig sig; /* valid when flags has SCOPE_PF_SIG */
	const uint8_t *l3; /* SCOPE_PF_LAZY: the IP header, in the frame (valid as long as it is) */
	uint8_t src6[16], dst6[16];
};

/* Decodes one frame of the given link type. caplen bytes are at p; ts_ns is copied into out.
 * Never reads outside p[0..caplen). */
enum scope_dec scope_decode(int linktype, const uint8_t *p, size_t caplen, int64_t ts_ns,
			    struct scope_pkt *out);

/* The signature of a SYN (SCOPE_PF_SIG): p->sig, or computed from the frame when
 * scope_decode_batch left it there (SCOPE_PF_LAZY). */
void scope_pkt_sig(const struct scope_pkt *p, struct scope_tcpsig *out);
/* Decodes n frames of one link type (faster than one call each): the IP packets go to out, in
 * order, and their number is returned; the other frames are counted in other[code]. The
 * signatures of IPv4 SYNs are left in the frames (SCOPE_PF_LAZY): the frames must stay valid
 * until the packets have been given to the engine (scope_engine_batch computes them as needed,
 * or for the copies it hands to its threads). */
struct scope_frame;
size_t scope_decode_batch(int linktype, const struct scope_frame *f, size_t n,
			  struct scope_pkt *out, uint64_t other[SCOPE_DEC__N]);

/* ------------------------------------------------------------------ p0f v3 signatures */

struct scope_p0f;
enum scope_family {
	SCOPE_FAM_UNIX,
	SCOPE_FAM_WINDOWS,
	SCOPE_FAM_NETWORK,
	SCOPE_FAM_OTHER,
	SCOPE_FAM_UNKNOWN,
	SCOPE_FAM__N
};
extern const char *const scope_family_names[SCOPE_FAM__N];

/* Reads the [tcp:request] signatures of a p0f.fp file. Returns 0 or -errno with a reason in err
 * (a malformed line is an error naming the line, as in p0f). */
int scope_p0f_load(const char *path, struct scope_p0f **out, char *err, size_t errlen);
/* The same from text in memory (tests). */
int scope_p0f_parse(const char *text, size_t len, struct scope_p0f **out, char *err, size_t errlen);
void scope_p0f_free(struct scope_p0f *db);
size_t scope_p0f_count(const struct scope_p0f *db);

struct scope_p0f_match {
	int label; /* index for scope_p0f_label, or -1 when nothing matched ("???") */
	bool app;  /* the label is a tool (p0f prints app=), not an OS */
	bool fuzzy, generic;
	uint8_t dist;
	enum scope_family family; /* from the signature's class, or from the initial TTL */
};
/* Matches a SYN (ipver 4 or 6) exactly as p0f 3.09b's tcp_find_match does. */
void scope_p0f_match(const struct scope_p0f *db, int ipver, const struct scope_tcpsig *sig,
		     struct scope_p0f_match *out);
/* "Linux 3.11 and newer": name and flavor, as p0f prints them. */
const char *scope_p0f_label(const struct scope_p0f *db, int label);
size_t scope_p0f_nlabels(const struct scope_p0f *db);
/* Family from an observed TTL rounded up to the initial TTL: 64 unix, 128 windows, 255 network. */
enum scope_family scope_family_from_ttl(uint8_t ttl);

/* ------------------------------------------------------------------ geolocation */

struct scope_geo;
/* libloc database (Debian's libloc-database: /var/lib/location/database.db). Lookups use a flat
 * IPv4 table built from the database; `cache_dir` (may be NULL) keeps it between runs. */
int scope_geo_open_libloc(struct scope_geo **out, const char *path, const char *cache_dir,
			  char *err, size_t errlen);
/* MaxMind-format databases (GeoLite2-Country/ASN, DB-IP): country.iso_code and
 * autonomous_system_number, whichever each file has. */
int scope_geo_open_mmdb(struct scope_geo **out, char **paths, size_t n, char *err, size_t errlen);
void scope_geo_free(struct scope_geo *geo);
/* Country index (0 unknown, see SCOPE_NCC) and AS number (0 unknown) of an IPv4 address. */
void scope_geo_lookup(const struct scope_geo *geo, uint32_t addr, uint16_t *cc, uint32_t *asn);
/* Name of an AS, or NULL; valid until scope_geo_free. */
const char *scope_geo_as_name(struct scope_geo *geo, uint32_t asn);
const char *scope_geo_describe(const struct scope_geo *geo);
size_t scope_geo_memory(const struct scope_geo *geo);

uint16_t scope_cc_index(const char *cc);
void scope_cc_str(uint16_t idx, char out[3]); /* "??" for unknown */

/* ------------------------------------------------------------------ configuration */

struct scope_cidr {
	uint8_t ver; /* 4 or 6 */
	uint8_t prefix;
	uint32_t v4; /* network, host order */
	uint8_t v6[16];
};
/* Parses "198.18.0.0/15", "2001:db8::/32" or a bare address. */
int scope_cidr_parse(const char *s, struct scope_cidr *out);

struct scope_config {
	int64_t interval; /* seconds per interval */
	struct scope_cidr darknet[SCOPE_MAX_DARKNETS];
	size_t ndarknet; /* 0: every destination is dark */
	/* Scanners: a (source, protocol, port) hitting at least scan_dests distinct dark addresses
	 * in one interval. */
	uint32_t scan_dests;
	/* DoS backscatter (Corsaro's RS DoS thresholds). */
	uint32_t dos_packets;  /* at least this many packets */
	uint32_t dos_duration; /* lasting at least this many seconds */
	uint32_t dos_ppm;      /* with a peak of at least this many packets per minute */
	uint32_t dos_timeout;  /* a victim silent this long ends its attack */
	/* Table bounds (entries). When one is full, what does not fit is counted apart and the
	 * report says which numbers became lower bounds. */
	uint64_t max_sources, max_pairs, max_scan, max_dests, max_victims, max_scanners;
	uint32_t interval_ports;     /* ports kept per interval (the rest folded into one row) */
	uint32_t interval_asns;      /* AS rows kept per interval */
	uint32_t top;                /* rows kept in the lists of scanners and attacks */
	const struct scope_p0f *p0f; /* may be NULL: OS from TTL only */
	const struct scope_geo *geo; /* may be NULL: no countries */
};
/* The scope section of the options table (and --darknet's CIDRs) as the engine's config. */
struct core_config;
int scope_config_from(struct scope_config *sc, const struct core_config *c, char *err,
		      size_t errlen);
/* The options table's defaults. */
void scope_config_defaults(struct scope_config *cfg);

/* ------------------------------------------------------------------ results */

struct scope_count {
	uint64_t sources, packets;
};
struct scope_port {
	uint8_t pt; /* SCOPE_PT_* */
	uint16_t port;
	uint64_t packets, sources;
};
struct scope_country {
	uint16_t cc;
	uint64_t sources, packets, mirai_sources;
};
struct scope_asn {
	uint32_t asn;
	uint64_t sources, packets;
};
struct scope_interval {
	int64_t start; /* unix seconds */
	uint64_t packets, bytes, sources, dark_hit;
	uint64_t cls[SCOPE_C__N];
	uint64_t telnet; /* SYNs to 23/tcp and 2323/tcp */
	struct scope_count mirai, zmap, masscan;
	uint64_t backscatter_packets, backscatter_victims;
	uint64_t scanners;
	uint64_t families[SCOPE_FAM__N]; /* SYN sources by OS family */
	struct scope_port *ports;        /* most packets first; at most interval_ports */
	size_t nports;
	uint64_t ports_rest_packets;     /* packets of the ports not listed */
	struct scope_country *countries; /* most sources first */
	size_t ncountries;
	struct scope_asn *asns; /* most sources first; at most interval_asns */
	size_t nasns;
};
struct scope_attack {
	uint32_t victim;
	uint8_t kinds; /* 1 SYN+ACK, 2 RST, 4 ICMP reply or error */
	int64_t start_ns, end_ns;
	uint64_t packets, bytes;
	uint32_t max_ppm;
};
struct scope_scanner {
	uint32_t src;
	uint8_t pt;
	uint16_t port;
	uint32_t first, last; /* unix seconds */
	uint64_t packets;     /* in the intervals where it was a scanner */
	uint32_t dests;       /* most distinct dark addresses in one interval */
	uint32_t intervals;
	uint32_t labels; /* SCOPE_L_* of its source */
	uint16_t cc;
};
#define SCOPE_L_MIRAI 1u
#define SCOPE_L_ZMAP 2u
#define SCOPE_L_MASSCAN 4u

struct scope_limits {
	uint64_t sources_full;  /* packets whose source did not fit the source table */
	uint64_t pairs_full;    /* packets whose (source, port) did not fit */
	uint64_t scan_full;     /* scan packets whose destination could not be remembered */
	uint64_t dests_full;    /* packets whose dark destination did not fit */
	uint64_t victims_full;  /* backscatter packets whose victim did not fit */
	uint64_t scanners_full; /* scanners not kept in the list */
	uint64_t attacks_full;  /* attacks not kept in the list */
	uint64_t late_packets;  /* packets older than their interval (counted in the current one) */
	uint64_t label_halvings; /* heavy sources whose label counters were halved (spill table
				    full) */
};

struct scope_label_os {
	int label; /* p0f label index or -1 for "???" */
	bool app;
	uint64_t sources;
};

struct scope_report {
	uint64_t frames; /* records read */
	uint64_t not_ip, malformed, bad_link;
	uint64_t not_dark_packets, not_dark_bytes;
	uint64_t packets, bytes; /* dark IP packets */
	int64_t first_ns, last_ns;
	uint64_t sources, sources6;
	uint64_t dark_hit;  /* distinct dark addresses that received packets */
	uint64_t dark_size; /* addresses in --darknet (IPv4), 0 if not given */
	uint64_t dark_max_packets;
	uint32_t dark_max_addr;
	uint64_t cls[SCOPE_C__N];
	uint64_t telnet;
	struct scope_port *ports; /* every port seen, most packets first */
	size_t nports;
	struct scope_country *countries;
	size_t ncountries;
	struct scope_asn *asns;
	size_t nasns;
	struct scope_count mirai, zmap, masscan;
	uint64_t syn_sources;
	struct scope_label_os *os; /* SYN sources per p0f label, most first */
	size_t nos;
	uint64_t families[SCOPE_FAM__N];
	uint64_t backscatter_packets, backscatter_victims_all;
	uint64_t attacks_total;
	struct scope_attack *attacks; /* most packets first, at most cfg.top */
	size_t nattacks;
	uint64_t scanners_total, scanner_sources, scanner_packets;
	struct scope_scanner *scanners; /* most packets first, at most cfg.top */
	size_t nscanners;
	struct scope_interval *intervals;
	size_t nintervals;
	struct scope_limits limits;
	uint64_t table_bytes; /* memory held by the tables at the end (high-water) */
};
void scope_report_free(struct scope_report *r);
/* True when every count is exact (no table overflowed). */
bool scope_report_exact(const struct scope_report *r);

/* ------------------------------------------------------------------ the engine */

/* The analysis: feed decoded packets in time order, then finish. Not thread-safe; --threads
 * runs several partitions and merges them (scope_engine_new with nthreads). */
struct scope_engine;
/* on_interval (may be NULL) is called with each interval as it closes (live output, store). */
typedef void (*scope_interval_cb)(void *arg, const struct scope_interval *iv);
int scope_engine_new(struct scope_engine **out, const struct scope_config *cfg, int nthreads,
		     scope_interval_cb on_interval, void *arg);
/* Counts a frame that did not decode as IP (code from scope_decode). */
void scope_engine_frame(struct scope_engine *e, enum scope_dec code);
/* Feeds one decoded IP packet. */
void scope_engine_packet(struct scope_engine *e, const struct scope_pkt *pkt);
/* Feeds a batch (faster: lookups are prefetched). */
void scope_engine_batch(struct scope_engine *e, const struct scope_pkt *pkts, size_t n);
/* Closes the current interval if `now_ns` is past its end (live capture with no traffic). */
void scope_engine_tick(struct scope_engine *e, int64_t now_ns);
/* Ends the run and fills the report (the engine is freed). */
void scope_engine_finish(struct scope_engine *e, struct scope_report *out);
void scope_engine_free(struct scope_engine *e);

/* ------------------------------------------------------------------ input */

/* Opens a capture file: pcap (both byte orders, micro- or nanoseconds) or pcapng, optionally
 * gzip-, xz- or zstd-compressed; classic uncompressed pcap is read through mmap. `filter` is a
 * BPF expression or NULL. */
struct scope_input;
int scope_input_open(struct scope_input **out, const char *path, const char *filter, char *err,
		     size_t errlen);
/* Live capture. */
int scope_input_live(struct scope_input **out, const char *iface, const char *filter, char *err,
		     size_t errlen);
/* Next record: 1 and the frame, 0 at the end, -1 on a truncated or corrupt file (err says
 * where), -2 when a live read timed out without packets. The frame stays valid until the next
 * call. */
struct scope_frame {
	int64_t ts_ns;
	const uint8_t *data;
	uint32_t caplen, len; /* len (the length on the wire) is at least caplen */
};
int scope_input_next(struct scope_input *in, struct scope_frame *f, char *err, size_t errlen);
/* Up to `max` records at once (cheaper per record): the number of frames filled, at least 1,
 * or, when there is none, what scope_input_next returns (0, -1, -2). The frames stay valid
 * until the next call. */
int scope_input_next_batch(struct scope_input *in, struct scope_frame *f, int max, char *err,
			   size_t errlen);
int scope_input_linktype(const struct scope_input *in);
/* Bytes consumed / total (for the progress line; total 0 when unknown). */
void scope_input_progress(const struct scope_input *in, uint64_t *done, uint64_t *total);
void scope_input_close(struct scope_input *in);
/* Interrupts a live capture blocked in scope_input_next (safe from a signal handler). */
void scope_input_breakloop(struct scope_input *in);

/* ------------------------------------------------------------------ output */

struct buf;
enum scope_format { SCOPE_FMT_TABLE, SCOPE_FMT_JSON, SCOPE_FMT_CSV };
struct scope_out_ctx {
	const struct scope_config *cfg;
	struct scope_geo *geo;       /* AS names, may be NULL */
	const struct scope_p0f *p0f; /* OS label names, may be NULL */
	char **inputs;
	size_t ninputs;
	char **errors; /* read errors, reported with the statistics */
	size_t nerrors;
	uint64_t peak_rss;
	double seconds; /* wall clock of the run */
	uint32_t top;   /* rows in the people's table */
	bool live;      /* JSON on one line (a stream of lines) */
};
const char *scope_pt_name(int pt);
int scope_write_report(struct buf *out, enum scope_format fmt, const struct scope_report *r,
		       const struct scope_out_ctx *ctx);
/* The same written to f (JSON streamed as it is made); 0, or -EIO when f could not take it. */
int scope_write_report_file(FILE *f, enum scope_format fmt, const struct scope_report *r,
			    const struct scope_out_ctx *ctx);
/* One closed interval, for live output (JSON: one line; CSV: its rows; table: a short block). */
int scope_write_interval(struct buf *out, enum scope_format fmt, const struct scope_interval *iv,
			 const struct scope_out_ctx *ctx, bool header);
/* SVG charts into dir: ports.svg, telnet.svg, countries.svg, families.svg. */
int scope_write_charts(const char *dir, const struct scope_report *r,
		       const struct scope_out_ctx *ctx, char *err, size_t errlen);

/* ------------------------------------------------------------------ store */

struct core_store;
/* Creates scope's tables (docs/scope.md) and returns the id of a new run row. */
int scope_store_begin(struct core_store *st, const struct scope_out_ctx *ctx, int64_t *run_id);
int scope_store_interval(struct core_store *st, int64_t run_id, const struct scope_interval *iv,
			 int64_t seconds);
int scope_store_finish(struct core_store *st, int64_t run_id, const struct scope_report *r,
		       const struct scope_out_ctx *ctx);

/* `mitsu scope`. */
struct core_command;
extern const struct core_command scope_command;

#endif
