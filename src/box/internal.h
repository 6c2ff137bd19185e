/* box internals shared by the files of src/box only (not part of the API in box.h): the bounds
 * of the sandbox in one place, the address plan of the fake internet, and the pieces the runner
 * puts together (ELF and static analysis, packet and syscall analysis, the fake services). */
#ifndef MITSU_BOX_INTERNAL_H
#define MITSU_BOX_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "box/box.h"
#include "lib/lib.h"

/* ------------------------------------------------------------------ bounds
 * Every bound of the sandbox. The operator's limits (window, memory, parallel runs, queue,
 * capture bytes, CPU share) are options in the [box] section of the config. */
#define BOX_SAMPLE_MAX (64u << 20)       /* largest file analysed (bytes); larger is refused */
#define BOX_STRINGS_SCAN_MAX (16u << 20) /* bytes of a sample scanned for strings */
#define BOX_STRING_MIN 4                 /* shortest printable run counted as a string */
#define BOX_STRING_MAX 512               /* longest string kept (longer ones are cut) */
#define BOX_STRINGS_KEPT 64              /* strings of interest kept per category */
#define BOX_YARA_MATCHES 64              /* YARA rules reported per sample */
#define BOX_YARA_TIMEOUT 10              /* seconds one YARA scan may take */
#define BOX_VERDICT_MAX (8u << 20)       /* bytes of verdict a child may print */
#define BOX_GRACE_SECS 180               /* killed after window + this (> set-up + tear-down) */
#define BOX_TMPFS_BYTES (64u << 20)      /* size of the sample's writable root filesystem */
#define BOX_PIDS_MAX 128                 /* processes (and threads) of one run */
#define BOX_NOFILE_MAX 1024              /* descriptors of one sample process */
#define BOX_OUTPUT_KEPT 16384            /* bytes of the sample's stdout/stderr kept */
#define BOX_TRACE_RECORDS 20000          /* syscall records written to trace.jsonl */
#define BOX_TRACE_LIST 64                /* execs, kills, files... listed in the verdict */
#define BOX_TRACE_STR 512                /* bytes of a path or argument read from a tracee */
#define BOX_TRACE_ARGS 32                /* argv entries read from an execve */
#define BOX_TRACEES_MAX 1024             /* processes the tracer follows at once */
#define BOX_DISTINCT_MAX 65536           /* distinct (address, port) pairs counted exactly */
#define BOX_TOP_TARGETS 256              /* flood candidates tracked (space-saving top-k) */
#define BOX_FILES_LISTED 256             /* files written, listed from the sandbox root */
#define BOX_FILE_HASH_MAX (16u << 20)    /* files written larger than this are not hashed */
#define BOX_FAKE_CONNS 512               /* TCP connections the fake internet holds at once */
#define BOX_FAKE_RECORDS 4096            /* records the fake internet logs per run */
#define BOX_FAKE_FIRST 256               /* first bytes of each connection/datagram logged */
#define BOX_FAKE_LINE 4096               /* longest text line a fake service buffers */
#define BOX_FAKE_OUT 65536               /* bytes queued to one connection; more closes it */
#define BOX_FAKE_CREDS 32                /* telnet logins recorded per connection */
#define BOX_DNS_NAMES 254                /* names the fake DNS hands an address (one /24) */
#define BOX_SETUP_SECS 60                /* set-up guard (netns, fake internet; 10 s starved) */

/* Timings of the dummy services (milliseconds). */
#define BOX_TELNET_PROMPT_MS 300 /* silence on a Telnet port before "login:" */
#define BOX_SILENT_CNC_MS 2000   /* silence before a connection is taken as a waiting bot */
#define BOX_CMD_GAP_MS 300       /* between the dummy C&C's commands */

/* Verdict thresholds (documented in docs/box.md). */
#define BOX_SCAN_MIN_TARGETS 8    /* distinct addresses on one port that make a scan */
#define BOX_ARP_SWEEP_MIN 4       /* distinct unanswered ARP targets that make a sweep */
#define BOX_FLOOD_MIN_PACKETS 200 /* packets to one target that make a flood */
#define BOX_MIRAI_FP_MIN 8        /* SYNs with seq == destination needed for the fingerprint */

/* ------------------------------------------------------------------ address plan
 * The emulated home LAN (sample, gateway, devices) and the fake internet's own addresses, in
 * host byte order. Documented in docs/box.md. */
#define BOX_IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define BOX_LAN_NET BOX_IP(192, 168, 1, 0)
#define BOX_LAN_PREFIX 24
#define BOX_SAMPLE_IP BOX_IP(192, 168, 1, 100)
#define BOX_GATEWAY_IP BOX_IP(192, 168, 1, 1)
#define BOX_DNS_POOL BOX_IP(203, 0, 113, 0)        /* fake DNS answers: 203.0.113.1-254 */
#define BOX_ATTACK_TARGET BOX_IP(198, 51, 100, 10) /* the target the dummy C&C orders attacked */
#define BOX_ATTACK_PORT 80
#define BOX_ATTACK_SECS 5
extern const uint8_t box_sample_mac[6]; /* 02:6d:69:74:73:75, "mitsu" */
extern const uint8_t box_gateway_mac[6];
/* The emulated LAN devices besides the gateway. */
struct box_device {
	uint32_t ip;
	const char *name;
};
extern const struct box_device box_devices[];
extern const size_t box_ndevices;
bool box_ip_is_lan(uint32_t ip);
/* Names the class of a destination: "lan", "gateway", "rfc1918", "cgnat", "loopback",
 * "link-local", "multicast", "broadcast", "reserved" or "internet". */
const char *box_ip_class(uint32_t ip);
void box_ip_str(uint32_t ip, char out[16]);

/* ------------------------------------------------------------------ ELF */
struct box_elf {
	int bits; /* 32 or 64 */
	bool big_endian;
	uint16_t machine;
	char arch[16]; /* as capture_elf_arch: mips, mipsel, arm... */
	uint8_t osabi;
	uint16_t type; /* 2 EXEC, 3 DYN, ... */
	uint64_t entry;
	uint64_t phoff, shoff;
	uint16_t phnum, phentsize, shnum, shentsize, shstrndx;
	uint32_t loads;    /* PT_LOAD segments */
	uint64_t phdr_end; /* file offset just past the program header table */
	bool has_interp;
	char interp[128];
	bool has_dynamic;
	bool is_static; /* no PT_INTERP and no PT_DYNAMIC */
	bool stripped;  /* no .symtab */
	bool truncated; /* a table points past the end of the file */
};
/* Parses the headers of an ELF file of any class and byte order, every offset checked.
 * Returns 0, or -EINVAL if it is not an ELF file. */
int box_elf_parse(const uint8_t *p, size_t n, struct box_elf *out);
json_t *box_elf_json(const struct box_elf *e);
/* The qemu-user emulator name for an ELF arch ("mips" -> "mips"; "i386" -> "i386"...), or
 * NULL if the sandbox has none for it. */
const char *box_qemu_name(const char *arch);
/* The same from the parsed header (SPARC32PLUS needs its own emulator). */
const char *box_qemu_for(const struct box_elf *e);

/* ------------------------------------------------------------------ static analysis */
struct box_packer {
	bool packed;
	char name[16];    /* "upx" or "unknown" */
	char variant[40]; /* standard, modified-magic, zeroed-sizes, high-entropy */
	char magic[12];   /* the l_info magic as text or hex */
	uint32_t p_filesize, p_blocksize;
	uint8_t version, format;
	double entropy; /* bits per byte over the whole file */
};
void box_packer_detect(const uint8_t *p, size_t n, const struct box_elf *e, struct box_packer *out);
json_t *box_packer_json(const struct box_packer *pk);
double box_entropy(const uint8_t *p, size_t n);
/* Strings of interest: {"count", "urls", "ips", "domains", "credentials", "commands",
 * "xor22"} (xor22: strings hidden with Mirai's table key, decoded). */
json_t *box_strings(const uint8_t *p, size_t n);
/* TLSH (T1 + 70 hex) of the data, or "" if it is too short or too uniform. */
void box_tlsh(const uint8_t *p, size_t n, char out[80]);
/* ssdeep of the data ("" on error). */
void box_ssdeep(const uint8_t *p, size_t n, char out[160]);

struct box_yara;
/* Compiles every *.yar file of dir. Returns 0 or a negative errno (errors logged). */
int box_yara_open(const char *dir, struct box_yara **out);
/* [{"rule", "family", "description", "strings": N}], most strings first. */
json_t *box_yara_scan(struct box_yara *y, const uint8_t *p, size_t n);
void box_yara_close(struct box_yara *y);
/* The rules folder: box.rules, or the one shipped with mitsu. Caller frees. */
char *box_rules_dir(const struct core_config *cfg);

/* Appends v (stolen) to arr unless an equal value is there or arr holds max entries. */
void box_add_unique(json_t *arr, json_t *v, size_t max);

/* Everything static: hashes, filetype, elf, packer, strings, yara. */
json_t *box_static(const struct core_config *cfg, const uint8_t *p, size_t n);

/* ------------------------------------------------------------------ fake services (services.c) */

/* The fake DNS's names: each new name gets the next address of BOX_DNS_POOL (.1-.254), so a
 * connection to one of them tells which name the sample looked up. */
struct box_dnsmap {
	char names[BOX_DNS_NAMES][256];
	size_t count;
	bool overflowed; /* more names than addresses: the last address is shared */
};
uint32_t box_dnsmap_ip(struct box_dnsmap *m, const char *name);
const char *box_dnsmap_name(const struct box_dnsmap *m, uint32_t ip);
/* Answers a DNS query datagram: every A query gets an address of the pool, other types an
 * empty NOERROR. Returns the answer length (0: not a query, ignore) and fills name, qtype and
 * answer (0 when none). */
size_t box_dns_reply(struct box_dnsmap *m, const uint8_t *q, size_t n, uint8_t *out, size_t outmax,
		     char name[256], uint16_t *qtype, uint32_t *answer);

enum box_svc { SVC_UNKNOWN, SVC_TELNET, SVC_HTTP, SVC_MIRAI, SVC_GAFGYT, SVC_IRC, SVC_OTHER };
const char *box_svc_name(enum box_svc s);
bool box_svc_is_cnc(enum box_svc s);

/* One TCP connection the sample opened into the fake internet. What it becomes is decided by
 * the first bytes (or their absence): Mirai's check-in, IRC registration, an HTTP request, a
 * Telnet client (on 23/2323 a "login:" prompt follows BOX_TELNET_PROMPT_MS of silence), a line
 * of text, or BOX_SILENT_CNC_MS of silence (a Gafgyt bot waiting for its master). The three
 * C&C kinds then get the dummy C&C's orders: a scan and a UDP flood of BOX_ATTACK_TARGET.
 * Connections to the LAN never become C&C: they are the LAN devices' Telnet and web pages. */
struct box_conn {
	uint32_t src_ip, dst_ip;
	uint16_t src_port, dst_port;
	const char *dst_name; /* the DNS name of dst_ip (borrowed from the dnsmap), or NULL */
	bool lan, telnet_port;
	enum box_svc svc;
	uint64_t t0, t_rx; /* accepted, last input (ms) */
	uint64_t rx, tx;
	uint8_t first[BOX_FAKE_FIRST];
	size_t nfirst;
	struct buf in; /* undecided bytes, a text line, a request: <= BOX_FAKE_LINE */
	int tn_state;
	bool prompt_sent;
	int telnet_stage; /* 0 username, 1 password, 2 shell */
	char user[64];
	int creds, lines_logged;
	int cmd_step;   /* C&C orders sent */
	uint64_t t_cmd; /* when the next order goes */
	bool mirai_checked_in, irc_registered;
	char nick[32], chan[64];
	bool http_head_done;
	size_t http_body_left, http_body_kept;
	char http_path[256];
	int upnp_action; /* 1 UPnP control or discovery, 2 AddPortMapping */
	int http_requests;
	json_t *http_rec;
};
void box_conn_init(struct box_conn *c, uint32_t src_ip, uint16_t src_port, uint32_t dst_ip,
		   uint16_t dst_port, const char *dst_name, uint64_t now);
void box_conn_free(struct box_conn *c);
/* Feeds bytes the sample sent; appends replies to out and records to log (a JSON array; may be
 * NULL). Returns 0, or 1 when the connection should be closed once out is written. */
int box_conn_input(struct box_conn *c, const uint8_t *p, size_t n, uint64_t now, struct buf *out,
		   json_t *log);
/* Acts on the clock (prompts, silence, the C&C's orders). Returns the next time (ms) it wants
 * to be called, or 0 for none. */
uint64_t box_conn_tick(struct box_conn *c, uint64_t now, struct buf *out, json_t *log);
/* Logs what is pending (an unfinished HTTP request) before the connection goes. */
void box_conn_close(struct box_conn *c, json_t *log);
json_t *box_conn_summary(const struct box_conn *c, uint64_t now);

/* ------------------------------------------------------------------ packets (pkt.c) */

/* A set of 64-bit keys with at most `max` entries (keyed SipHash: the sample chooses them). */
struct box_set {
	uint64_t *slots;
	size_t cap, count, max;
	uint8_t key[16];
	bool saturated;
};
void box_set_init(struct box_set *s, size_t max);
void box_set_free(struct box_set *s);
int box_set_add(struct box_set *s, uint64_t key);

struct box_top {
	uint32_t ip;
	uint16_t port;
	bool ports_varied;
	uint64_t packets, bytes;
	uint64_t kind[6]; /* udp, syn, tcp, icmp, gre, other */
};

struct box_pkt {
	uint8_t own_mac[6];
	uint64_t frames, bytes, replies, first_us, last_us;
	uint64_t arp_requests;
	struct box_set arp_unanswered;
	uint64_t ip_packets, tcp, udp, icmp, gre, ip_other, ipv6;
	uint64_t syn, syn_seq_dst, syn_first, syn_last;
	struct box_set pairs, targets, lan_targets, rfc1918_targets, icmp_targets;
	uint32_t *port_targets; /* [0, 65536) TCP, [65536, 131072) UDP: distinct targets per port */
	uint64_t cls_lan, cls_gateway, cls_private, cls_multicast, cls_internet, cls_other;
	uint16_t gw_ports[32];
	size_t ngw_ports;
	uint64_t ssdp, dns_packets, icmp_echo;
	struct box_top top[BOX_TOP_TARGETS];
	size_t ntop;
};
/* own_mac is the fake internet's side of the link: its frames are not the sample's. */
struct box_pkt *box_pkt_new(const uint8_t own_mac[6]);
void box_pkt_free(struct box_pkt *a);
void box_pkt_feed(struct box_pkt *a, const uint8_t *frame, size_t len, uint64_t ts_us);
json_t *box_pkt_summary(struct box_pkt *a);

/* ------------------------------------------------------------------ tracer (trace.c) */

/* Where the emulators are inside the sandbox (read-only bind mounts of qemu-*-static). */
#define BOX_QEMU_DIR "/.mitsu"

enum box_role { ROLE_JAIL, ROLE_INIT, ROLE_DECOY, ROLE_PAYLOAD, ROLE_SAMPLE };
struct box_tracee {
	pid_t pid;
	enum box_role role;
	int children;
	bool launched, pending_role;
	bool held; /* stopped at its first stop until its parent's fork event names it */
};

/* The tracer's state: the processes followed, and what the sample did. The process tree is
 * jail (namespaces) -> init (pid 1 inside) -> the decoy telnetd first, then the payload (qemu
 * and the sample), whose descendants are all sample processes. */
struct box_trace {
	FILE *out; /* trace.jsonl (may be NULL) */
	size_t records, dropped;
	const char *root; /* host path of the sandbox root */
	size_t rootlen;
	int rootfd;
	uint64_t t0_us;
	struct box_tracee tab[BOX_TRACEES_MAX];
	size_t n;
	bool overflow;
	pid_t jail, init, decoy, payload; /* host pids */
	pid_t decoy_nspid;                /* the decoy's pid inside the sandbox */
	int sample_alive;
	bool payload_started, payload_exited;
	uint64_t payload_start_us;
	int payload_status;
	int decoy_killed; /* signal that ended the decoy, 0 if alive */
	json_t *execs, *kills, *written, *read, *file_ops, *binds, *names, *blocked, *sockets,
		*connects, *commands;
	struct box_set pairs, targets, dests, lan_targets, rfc1918_targets;
	uint16_t gw_ports[32];
	size_t ngw_ports;
	uint32_t *port_targets;
	uint64_t first_dest_us, last_dest_us, dest_calls;
	uint64_t execs_total, relaunched, kills_total, connects_total, raw_sockets, hdrincl, forks,
		threads, exits, proc_scan, ifaddr_queries;
	bool bound_telnet, watchdog, proc_net_tcp, proc_net_route;
	bool guest_opened; /* qemu has opened the guest binary (its first read-only open) */
	bool ending;       /* the runner is killing the sandbox: deaths are ours */
};
/* JSON written by the sandbox: compact, in order, reals to 6 digits. */
#define BOX_JSON (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))
bool box_trace_supported(void);
/* Installs the sandbox's seccomp filter in the calling process (no_new_privs set first). */
int box_seccomp_install(void);
void box_trace_init(struct box_trace *t, FILE *out, const char *root);
void box_trace_free(struct box_trace *t);
/* The jail was PTRACE_SEIZEd with the tracer's options; everything below it is followed. */
void box_trace_start(struct box_trace *t, pid_t jail);
/* Handles one waitpid() result of a traced process and resumes it. */
void box_trace_event(struct box_trace *t, pid_t pid, int status);
json_t *box_trace_summary(struct box_trace *t);

/* ------------------------------------------------------------------ fake internet (fakenet.c) */
struct box_fakenet_args {
	pid_t sample_pid; /* a process in the sample's netns: the veth's other end goes there */
	int ready_fd;     /* "ok <catch-all>\n" or "error <why>\n" is written here */
	int log_fd;       /* fakenet.jsonl */
	int pcap_fd;      /* capture.pcap, or -1 */
	uint64_t capture_bytes;
	uid_t uid; /* the fake internet drops root to this after set-up */
	gid_t gid;
	bool keep_uid; /* rootless run: no other uid to drop to */
};
/* Runs in a forked child of the runner; never returns (_exit). */
int box_fakenet_main(const struct box_fakenet_args *a) __attribute__((noreturn));

/* ------------------------------------------------------------------ the run (sandbox.c) */
/* Runs the sample (an ELF with an emulator; needs root) and returns what was seen: trace
 * summary, the fake internet's records and summary, files written, output, limits. filename
 * names the sample inside the sandbox; artefacts (may be NULL) receives trace.jsonl,
 * fakenet.jsonl, capture.pcap and output.txt. */
json_t *box_run(const struct core_config *cfg, const uint8_t *data, size_t n,
		const struct box_elf *elf, const char *filename, const char *artefacts);

/* ------------------------------------------------------------------ verdict (verdict.c) */
/* The verdict from the static analysis and the dynamic run (which may be NULL or not have
 * run): family, dns, cnc, scan, lan_attack, ddos, killer, persistence, files_written... Takes
 * ownership of neither. */
json_t *box_verdict(const json_t *stat, const json_t *dyn);

/* ------------------------------------------------------------------ store (store.c) */
int box_store_schema(struct core_store *st);
/* Stores a verdict (box_results, box_cnc, box_dns) through the store's writer (the verdict is
 * held, and must not change, until then); done (may be NULL) runs once it is committed or has
 * failed (logged). Returns 0, or a negative errno (nothing queued, done not called). */
int box_store_verdict(struct core_store *st, json_t *verdict, core_done_fn done, void *arg);
/* The queue's children do static analysis only (`mitsu box --static-only`). */
void box_queue_static_only(struct box_queue *q);

/* ------------------------------------------------------------------ netlink (netlink.c)
 * Each returns 0 or a negative errno; interface names are resolved in the caller's netns. */
/* Writes a short text to an existing file (/proc, /sys). */
int box_write_text(const char *path, const char *s);
int box_nl_open(void);
/* A veth pair: `name` here, `peer` created directly in the netns of peer_netns_pid. */
int box_nl_veth(int fd, const char *name, const uint8_t mac[6], const char *peer,
		const uint8_t peer_mac[6], pid_t peer_netns_pid);
int box_nl_link_up(int fd, const char *name);
int box_nl_addr(int fd, const char *ifname, uint32_t ip, int prefix);
/* A route to dst/prefix via gw (0: none) on ifname; local makes it a `local` route in the
 * local table (AnyIP when dst/prefix is 0.0.0.0/0). */
int box_nl_route(int fd, uint32_t dst, int prefix, uint32_t gw, const char *ifname, bool local);
/* Attaches the sk_lookup program to the caller's netns so that every TCP connection goes to
 * tcp_fd (listening) and every UDP datagram except to port 53 to udp_fd. *link_out holds it
 * while open. */
int box_catchall_attach(int tcp_fd, int udp_fd, int *link_out);

#endif
