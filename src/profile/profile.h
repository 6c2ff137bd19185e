/* profile: device profiles are data. A profile is a folder under profiles/ that describes one
 * device as an attacker sees it (DESIGN.md §4); this module loads it into a read-only struct
 * that every session of that profile shares. Adding a device is adding a folder, not code.
 *
 * Folder layout (documented in docs/profiles.md):
 *   profiles/<name>/profile.ini   device, telnet, shell, system, elf, credentials, ps, commands
 *   profiles/<name>/fs/...        the file tree (text files: /etc, /proc/cpuinfo, /proc/mounts...)
 * /bin/busybox is generated from [elf] (a real ELF header for the profile's CPU) and every
 * applet of [busybox] applets becomes a link to it, so `cat /bin/echo` shows the right ELF. */
#ifndef MITSU_PROFILE_H
#define MITSU_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum profile_node_type { PROFILE_FILE, PROFILE_DIR, PROFILE_LINK };

/* One node of the profile's file tree. Paths are absolute and normalised ("/bin/echo"). */
struct profile_node {
	char *path;
	enum profile_node_type type;
	mode_t mode;         /* permission bits, e.g. 0755 */
	const uint8_t *data; /* file content (PROFILE_FILE); shared, never written */
	size_t len;
	char *target; /* PROFILE_LINK: where it points */
	uint32_t uid, gid;
	int64_t mtime; /* seconds since the epoch, for ls -l */
};

struct profile_web;

struct profile_cred {
	char *username;
	char *password; /* "*" accepts any password for this user */
};

struct profile_proc {
	int pid;
	char *user;
	char *vsz;     /* as BusyBox ps prints it, e.g. "1.2m" or "2344" */
	char *stat;    /* "S", "SW", "R"... */
	char *command; /* "init", "/usr/sbin/telnetd", "[kthreadd]" */
};

/* A socket a device process holds open ([net] listen/unix): netstat and /proc/net show it. */
enum profile_sock_kind { PROFILE_SOCK_TCP, PROFILE_SOCK_UDP, PROFILE_SOCK_UNIX };
struct profile_sock {
	enum profile_sock_kind kind;
	bool v6;          /* tcp6/udp6: the address is IPv6 */
	uint8_t addr[16]; /* the local address in network order (4 bytes for IPv4) */
	int port;
	int pid;    /* the process of [ps] that holds it */
	char *path; /* PROFILE_SOCK_UNIX: the socket's path */
	bool dgram; /* PROFILE_SOCK_UNIX: a datagram socket (else a listening stream) */
};

/* A canned answer for a command the device has but the shell does not emulate generically
 * (vendor CLIs: "enable", "system", "shell"...). Matched on the first word. */
struct profile_command {
	char *name;
	char *output; /* printed as is; may be empty */
	int status;
};

/* ELF identity of the device's binaries. */
struct profile_elf {
	int elf_class;  /* 1 = ELFCLASS32, 2 = ELFCLASS64 */
	int data;       /* 1 = little endian, 2 = big endian */
	int machine;    /* e_machine: 8 MIPS, 40 ARM, 20 PPC, 42 SH, 3 i386, 62 x86_64 */
	uint32_t flags; /* e_flags */
	int osabi;
	char *interp;        /* program interpreter, e.g. "/lib/ld-uClibc.so.0"; empty if static */
	size_t busybox_size; /* size of the generated /bin/busybox */
	char **needed;       /* DT_NEEDED of /bin/busybox, e.g. "libc.so.0" */
	size_t nneeded;
};

/* Memory figures from the profile's /proc/meminfo, in kB, so that free, top and
 * cat /proc/meminfo agree (cowrie/cowrie#1048). 0 when the line is absent. */
struct profile_mem {
	uint64_t total_kb, free_kb, buffers_kb, cached_kb, swap_total_kb, swap_free_kb;
};

struct profile {
	char *name;        /* folder name, the id used in --listen .../PROFILE */
	char *description; /* one line for `mitsu profiles` */
	char *category;    /* dvr, router, camera, ... */
	char *vendor;

	/* [telnet]: bytes to send as they are. The loader has already expanded %h (hostname) and
	 * %B ("BusyBox v1.16.1 (date)") and turned every bare "\n" into "\r\n". The password is
	 * typed without echo: the sensor sends "\r\n" after it, as the terminal would, before
	 * login_incorrect or motd. */
	char *banner;          /* text sent before the first login prompt (may be empty) */
	char *login_prompt;    /* e.g. "(none) login: " */
	char *password_prompt; /* e.g. "Password: " */
	char *login_incorrect; /* e.g. "Login incorrect\r\n" */
	char *motd;            /* printed after a successful login (may be empty) */
	/* How the device's telnetd hands output to the network: writes of at most write_size
	 * bytes (BusyBox telnetd relays its pty through a buffer of (4096 - sizeof(struct
	 * tsession)) / 2 bytes), at most `throughput` bytes per second on average (what the
	 * device's CPU pushes through a pty). */
	size_t telnet_write_size;
	uint64_t telnet_throughput;

	/* [shell] */
	char *hostname;
	char *user;       /* the user the shell runs as after login ("root") */
	char *home;       /* initial working directory */
	char *prompt;     /* format: %h hostname, %u user, %w the cwd as ash's \w shows it
			   * ($HOME and below abbreviated to ~), %$ '#' for uid 0 else '$',
			   * %% '%' */
	char *shell_name; /* as errors name it: "-sh" or "sh" */
	char *path;       /* $PATH of the login shell, e.g. "/bin:/sbin:/usr/bin:/usr/sbin" */

	/* [busybox] */
	char *busybox_version; /* "1.16.1" */
	char *busybox_banner;  /* first line of bare `busybox`: "BusyBox v1.22.1 (...) multi-call
				  binary." */
	char **applets;        /* sorted applet names the device's BusyBox has */
	size_t napplets;

	/* [system] */
	char *uname_s, *uname_r, *uname_v, *uname_m,
		*uname_o; /* uname -s/-r/-v/-m/-o; -n is hostname */
	char *cpu_arch;   /* Mirai-style: arm7, mips, mpsl, ppc, sh4, x86 */

	struct profile_elf elf;
	struct profile_mem mem; /* parsed from fs/proc/meminfo */
	int ncpus;              /* "processor : N" lines of fs/proc/cpuinfo, at least 1 */

	struct profile_cred *creds;
	size_t ncreds;
	struct profile_proc *procs; /* the device's own processes, by pid; the shell adds the
				     * session's login shell and ps itself */
	size_t nprocs;
	struct profile_sock *socks; /* [net]: the device's own listening sockets */
	size_t nsocks;
	struct profile_command *commands; /* sorted by name */
	size_t ncommands;

	/* The file tree, sorted by path (profile_lookup uses binary search). Every parent
	 * directory of every node is in the tree; "/" is nodes[0]. */
	struct profile_node *nodes;
	size_t nnodes;

	size_t bytes; /* heap bytes this profile holds (for operators and tests) */

	/* The web admin pages (web.ini, src/profile/web.c); NULL for a Telnet profile. A web
	 * profile has only name, description, category, vendor and this. */
	const struct profile_web *web;
};

/* Bounds of a profile (docs/profiles.md). A profile that exceeds one fails to load. */
#define PROFILE_MAX_INI_BYTES (256u * 1024)       /* profile.ini */
#define PROFILE_MAX_FILE_BYTES (4u * 1024 * 1024) /* one file of fs/ or one generated ELF */
#define PROFILE_MAX_BYTES (32u * 1024 * 1024)     /* all file contents of one profile */
#define PROFILE_MAX_NODES 8192                    /* files, folders and links */
#define PROFILE_MAX_PATH 255                      /* bytes of one absolute path */
#define PROFILE_MAX_DEPTH 24                      /* folder levels below "/" */
#define PROFILE_MAX_LIST 4096                     /* entries of one list (credentials, ps...) */
#define PROFILE_MAX_PROFILES 256                  /* profiles in one folder */
#define PROFILE_MAX_LINKS 40                      /* symbolic links followed in one lookup */
/* [telnet] write_size and throughput: defaults (a 32-bit BusyBox telnetd, a few hundred MHz
 * SoC) and bounds. */
#define PROFILE_TELNET_WRITE_SIZE 2026
#define PROFILE_TELNET_THROUGHPUT (1024u * 1024)
#define PROFILE_TELNET_WRITE_MIN 64
#define PROFILE_TELNET_WRITE_MAX 65536
#define PROFILE_TELNET_THROUGHPUT_MIN 1024
#define PROFILE_TELNET_THROUGHPUT_MAX (1024u * 1024 * 1024)

/* Loads one profile folder. On error returns a negative errno and writes why into err. */
int profile_load(const char *dir, struct profile **out, char *err, size_t errlen);
void profile_free(struct profile *p);

/* All profiles under a folder, sorted by name. */
struct profile_set {
	struct profile **items;
	size_t count;
};
int profile_load_all(const char *root, struct profile_set *set, char *err, size_t errlen);
void profile_set_free(struct profile_set *set);
const struct profile *profile_set_find(const struct profile_set *set, const char *name);

/* The folder of profiles shipped with mitsu: $MITSU_PROFILES when set and not empty, else the
 * source tree's profiles/ when it exists (running from a build), else the installed copy
 * PREFIX/share/mitsu/profiles. The string is static or the environment's; do not free it. */
const char *profile_default_dir(void);

/* The folder profiles are read from: sensor.profiles_dir when set, else profile_default_dir().
 * `configured` is the value of sensor.profiles_dir (may be NULL or empty). */
const char *profile_dir(const char *configured);

/* Looks a path up in the tree (no link following). NULL if absent. */
const struct profile_node *profile_lookup(const struct profile *p, const char *path);
/* Looks a path up following symbolic links in every component, as open(2) would (relative
 * targets resolve against the link's folder). NULL if absent, dangling or looping (more than
 * PROFILE_MAX_LINKS). `path` must be absolute; "." and ".." components are handled. */
const struct profile_node *profile_resolve(const struct profile *p, const char *path);
/* Iterates the direct children of folder `dir` in name order: pass NULL to get the first,
 * then the previous child. NULL at the end or if dir is not a folder of the tree. */
const struct profile_node *profile_next_child(const struct profile *p, const char *dir,
					      const struct profile_node *prev);
/* Whether username/password is accepted by the profile's credential list. */
bool profile_accepts(const struct profile *p, const char *username, const char *password);
/* Whether the user's password field in the device's /etc/passwd is empty: BusyBox login then
 * does not ask for a password at all. */
bool profile_password_empty(const struct profile *p, const char *username);
/* Whether the device's BusyBox has this applet. */
bool profile_has_applet(const struct profile *p, const char *name);
/* A canned command by first word, or NULL. */
const struct profile_command *profile_command(const struct profile *p, const char *name);

/* ------------------------------------------------------------------ web profiles
 * A web profile is a folder with a web.ini (and its pages under www/): the admin pages of a
 * camera, router, printer... as the HTTP honeypot serves them (docs/profiles.md, "Web
 * profiles"). The loader is src/profile/web.c; the behaviour behind the pages is src/webui/. */

/* The device-specific actions a route may perform; src/webui gives each its intent and
 * outcome. X(ID, name) */
#define PROFILE_WEB_ACTIONS(X) \
	X(STATUS, "status") \
	X(SETTINGS_EXPORT, "settings_export") \
	X(RECORDINGS, "recordings") \
	X(SNAPSHOT, "snapshot") \
	X(VPN_SERVER, "vpn_server") \
	X(VPN_CLIENT, "vpn_client") \
	X(FIREWALL, "firewall") \
	X(DDNS, "ddns") \
	X(DNS, "dns") \
	X(ADMIN_PASSWORD, "admin_password") \
	X(FIRMWARE_UPLOAD, "firmware_upload") \
	X(REBOOT, "reboot")
#define PROFILE_WEB_ACTION_ENUM(id, name) PROFILE_ACTION_##id,
enum profile_web_action {
	PROFILE_ACTION_NONE = -1,
	PROFILE_WEB_ACTIONS(PROFILE_WEB_ACTION_ENUM) PROFILE_ACTION__COUNT
};
#undef PROFILE_WEB_ACTION_ENUM
extern const char *const profile_web_action_names[PROFILE_ACTION__COUNT];

/* Authentication schemes, a bit set. */
enum { PROFILE_AUTH_BASIC = 1, PROFILE_AUTH_DIGEST = 2, PROFILE_AUTH_FORM = 4 };

/* One route: an exact path (the query is not part of it) and a method. */
struct profile_web_page {
	char *path;
	char *method;        /* "GET" (also serves HEAD), "POST", "PUT", or "*" */
	int status;          /* 200, or 301/302 with location */
	char *location;      /* redirects */
	const uint8_t *body; /* the file of www/ (a template: {{key}} is a setting) */
	size_t len;
	char *file;  /* its name under www/ */
	char *type;  /* Content-Type */
	bool public; /* served without a login */
	enum profile_web_action action;
};

struct profile_web_kv {
	char *key;
	char *value;
};

/* Reply of a status the server makes itself (401, 404, ...): reason phrase and body. */
struct profile_web_status {
	int code;
	const char *reason;
	const uint8_t *body;
	size_t len;
};

struct profile_web {
	char *server;    /* Server banner; "" sends none */
	int minor;       /* the status line says HTTP/1.<minor> */
	bool keep_alive; /* the server keeps connections open when the client asks */
	char **order;    /* header order: server, date, type, length, connection, auth,
			  * location, cookie, or a key of [headers] */
	size_t norder;
	struct profile_web_kv *headers; /* [headers]: token -> whole header line */
	size_t nheaders;
	unsigned auth; /* PROFILE_AUTH_* */
	char *realm;
	char *login_page;   /* form: the page with the form (public) */
	char *login_action; /* form: where it posts */
	char *user_field, *pass_field;
	char *cookie; /* form: the session cookie's name */
	char *home;   /* form: where a good login is sent */
	struct profile_cred *creds;
	size_t ncreds;
	struct profile_web_page *pages; /* sorted by path, then method */
	size_t npages;
	struct profile_web_kv *settings; /* [settings]: defaults the pages show; the keys an
					  * action may change */
	size_t nsettings;
	struct profile_web_status *statuses;
	size_t nstatuses;
	size_t bytes;
};

/* Bounds of a web profile. */
#define PROFILE_WEB_MAX_PAGES 256
#define PROFILE_WEB_MAX_SETTINGS 256

/* Loads one web profile folder (web.ini and www/) as a struct profile with only the device
 * fields and `web`. Free it with profile_web_free. */
int profile_web_load(const char *dir, struct profile **out, char *err, size_t errlen);
void profile_web_free(struct profile *p);
/* Every folder under root with a web.ini, sorted by name; none is not an error. */
int profile_web_load_all(const char *root, struct profile_set *set, char *err, size_t errlen);
void profile_web_set_free(struct profile_set *set);
/* The route for a path and method (HEAD looks up GET; "*" routes take any method). */
const struct profile_web_page *profile_web_page(const struct profile_web *w, const char *path,
						const char *method);
/* A reason phrase and body for a status (defaults for the common ones). */
const struct profile_web_status *profile_web_status(const struct profile_web *w, int code);
/* The default value of a setting, or NULL. */
const char *profile_web_setting(const struct profile_web *w, const char *key);
/* `mitsu profiles`: prints the web profiles of root after the Telnet ones (table rows or JSON
 * lines). Returns 0, or 1 when one failed to load (reported on stderr). */
int profile_web_print(const char *root, bool json);

/* `mitsu profiles`: list the profiles (table or --format json). */
struct core_command;
extern const struct core_command profile_list_command;

#endif
