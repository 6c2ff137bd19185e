/* shell internals shared by the files of src/shell: the virtual filesystem, the ash parser,
 * word expansion, the executor (an explicit frame stack, so any command can suspend) and the
 * emulated commands. Nothing here is part of the public API (shell.h). */
#ifndef MITSU_SHELL_INTERNAL_H
#define MITSU_SHELL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lib.h"
#include "shell/shell.h"

/* ------------------------------------------------------------------ bounds
 * Every bound of the emulator, in one place. The per-session limits that the operator sets
 * (vfs bytes and files, commands, script depth, queued input) come in struct shell_limits. */
#define SH_PATH_MAX 1024       /* longest path the vfs resolves (ENAMETOOLONG beyond) */
#define SH_SYMLINKS_MAX 40     /* links followed in one path resolution (ELOOP beyond) */
#define SH_NFD 10              /* file descriptors 0..9, as ash */
#define SH_PIPE_MAX (1u << 20) /* bytes one pipe or $(...) holds; the rest is dropped */
#define SH_PENDING_MAX 65536   /* bytes of an unfinished multi-line command kept */
#define SH_NEST_MAX 48         /* parser nesting (if/while/{/( /$(...)) */
#define SH_FRAMES_MAX 400      /* executor stack depth */
#define SH_ARGS_MAX 4096       /* fields of one command after expansion */
#define SH_WORD_MAX (1u << 20) /* bytes of one expanded word */
#define SH_VARS_MAX 512        /* variables of one shell level */
#define SH_FUNCS_MAX 64        /* functions of one shell level */
#define SH_GLOB_MAX 4096       /* names one glob pattern may expand to */
#define SH_LOOP_MAX 100000     /* iterations of one loop */
#define SH_DEV_READ_MAX 65536  /* bytes read from /dev/zero or /dev/urandom without a count */
#define SH_REPORTED_MAX 256    /* contents already reported, remembered for dedup */
#define SH_KILLED_MAX 64       /* processes killed in one session */
#define SH_SUBSTS_MAX 64       /* $(...) in one command */
#define SH_LEVELS_MAX 32       /* nested shells (sh inside sh), subshells included */
#define SH_HEREDOCS_MAX 16     /* here-documents pending on one line */
#define SH_TERM_WIDTH 80       /* the terminal width output is formatted for */
#define SH_WAIT_MAX_MS \
	(3600u * 1000)         /* longest single wait (sleep 99999 waits this long; the \
				  session's own timeouts end it sooner) */
#define SH_STATUS_SIGINT 130   /* status of a command killed by ^C (128 + SIGINT) */
#define SH_STATUS_SIGTERM 143  /* killed by timeout's SIGTERM (128 + SIGTERM) */
#define SH_SIGSEGV 11          /* a program that crashes at once dies of this signal */
#define SH_HISTORY_MAX 255     /* lines `history` remembers (ash's line editing history) */
#define SH_PROCGEN_MAX 8       /* /proc files made for a session kept at once (oldest dropped) */
#define SH_ELF_PHDRS_MAX 65536 /* bytes of program headers binfmt_elf reads at most */
#define SH_WORK_MAX \
	(512u << 20) /* bytes a session's commands may write in all (terminal, pipes, \
			files): a loop of big copies ends the session instead of \
			holding the event loop */

/* ------------------------------------------------------------------ vfs */

/* A file's content, shared by the directory entries (hard links) and open descriptors that
 * refer to it. Bytes are borrowed from the profile (ro) until the first write copies them. */
struct vdata {
	int refs;
	const uint8_t *ro;
	uint8_t *buf;
	size_t len, cap;
	size_t charged;     /* bytes counted against the session's vfs_bytes */
	bool owned;         /* buf holds the bytes (else ro) */
	bool attacker;      /* holds bytes the attacker wrote */
	bool dirty;         /* attacker bytes not yet reported */
	bool download;      /* written by a download */
	const char *method; /* static: how the attacker wrote it */
};

enum ve_kind { VE_WHITEOUT, VE_FILE, VE_DIR, VE_LINK };

/* One path of the session's overlay. A whiteout hides the profile's node (and its subtree);
 * an opaque folder hides the profile's children of the same path. */
struct vent {
	char *path;
	uint8_t kind;
	bool opaque;
	uint16_t mode;
	uint32_t uid, gid;
	int64_t mtime;
	struct vdata *data; /* VE_FILE */
	char *target;       /* VE_LINK */
};

enum vn_kind { VN_NONE, VN_FILE, VN_DIR, VN_LINK, VN_CHR };
enum vdev { VDEV_NONE, VDEV_NULL, VDEV_ZERO, VDEV_RANDOM, VDEV_TTY };

/* The merged view of one path. */
struct vstat {
	int kind;
	int dev; /* VN_CHR */
	uint16_t mode;
	uint32_t uid, gid;
	int64_t mtime;
	size_t size;
	const uint8_t *data; /* VN_FILE: current bytes */
	const char *target;  /* VN_LINK */
	const struct profile_node *pn;
	struct vent *ve;
	bool opaque; /* VN_DIR: the profile's children are hidden */
};

typedef void (*vfs_report_fn)(void *arg, const char *path, struct vdata *vd);

/* A file of /proc made for the session (procfs.c): its content lives until the vfs is freed or
 * SH_PROCGEN_MAX newer ones were made. */
struct vgen {
	char *path;
	int kind;        /* VN_FILE, VN_DIR, VN_LINK */
	struct buf data; /* VN_FILE: the bytes; VN_LINK: the target */
};
/* Answers a /proc path the profile does not ship: 0 with *g filled (path, kind, data), or
 * -ENOENT. Lists a generated folder's names when `names` is not NULL (the names are added
 * with shell_vfs_names_add). */
typedef int (*vfs_proc_fn)(void *arg, const char *path, struct vgen *g);
typedef void (*vfs_proc_names_fn)(void *arg, const char *dir, char ***names, size_t *n,
				  size_t *cap);

struct vfs {
	const struct profile *prof;
	vfs_proc_fn proc;
	vfs_proc_names_fn proc_names;
	void *proc_arg;
	struct vgen *gen; /* SH_PROCGEN_MAX, allocated on the first generated file */
	size_t ngen;
	struct vent **ents; /* sorted by path */
	size_t n, cap;
	size_t bytes, files;
	size_t max_bytes, max_files;
	uint64_t work; /* bytes written or copied so far (SH_WORK_MAX) */
	uint32_t uid, gid;
	vfs_report_fn report;
	void *report_arg;
	/* Told every change of `bytes` (the sensor-wide budget of attacker files); may be NULL. */
	void (*charged)(void *arg, long long delta);
	void *charged_arg;
};

void shell_vfs_init(struct vfs *v, const struct profile *p, size_t max_bytes, size_t max_files,
		    uint32_t uid, uint32_t gid);
/* Reports every attacker file not yet reported, then frees the overlay. */
void shell_vfs_fini(struct vfs *v);

/* Resolves `path` (relative to the absolute, normalised `cwd`) into its absolute normalised
 * form in `out` (SH_PATH_MAX). Follows links in every component, and in the last one if
 * `follow`. Returns 0 and fills st; -ENOENT with st->kind == VN_NONE and `out` the would-be
 * path when only the last component is missing (*parent_ok set); -ENOENT (parent missing),
 * -ENOTDIR, -ELOOP or -ENAMETOOLONG otherwise. */
int shell_vfs_resolve(struct vfs *v, const char *cwd, const char *path, bool follow, char *out,
		      struct vstat *st, bool *parent_ok);
/* Looks an absolute normalised path up without following a final link. */
int shell_vfs_lookup(struct vfs *v, const char *abspath, struct vstat *st);
/* Whether new files may be created under abspath's folder, or an existing file written:
 * 0, -EROFS (read-only mount), -EACCES (/proc, /sys, permissions). */
int shell_vfs_may_write(struct vfs *v, const char *abspath, const struct vstat *st);

enum { VFS_TRUNC = 1, VFS_APPEND = 2, VFS_EXCL = 4, VFS_NOCREAT = 8 };
/* Opens (creating if needed) a file for writing and returns its content with a reference
 * (shell_vdata_unref when done). *discard is set for files whose writes vanish (/dev/null, /proc
 * files that accept writes): then *out is NULL. `report_path` receives the absolute path. */
int shell_vfs_open_write(struct vfs *v, const char *cwd, const char *path, int flags,
			 struct vdata **out, bool *discard, int *dev, char *abspath);
/* Appends bytes; returns 0, or -ENOSPC after writing what fits. */
int shell_vfs_write(struct vfs *v, struct vdata *vd, const void *p, size_t n, bool attacker,
		    const char *method, const char *path);
/* Writes at an offset (dd seek=), zero-filling a gap; same limits as shell_vfs_write. */
int shell_vfs_pwrite(struct vfs *v, struct vdata *vd, size_t off, const void *p, size_t n,
		     bool attacker, const char *method);
/* Cuts a file to n bytes (n <= its length). */
void shell_vfs_cut(struct vfs *v, struct vdata *vd, size_t n, const char *path);
/* Whether some mount lies strictly below abspath. */
bool shell_vfs_mount_below(struct vfs *v, const char *abspath);
/* Empties a file (reporting attacker bytes first). */
void shell_vfs_truncate(struct vfs *v, struct vdata *vd, const char *path);
void shell_vdata_ref(struct vdata *vd);
void shell_vdata_unref(struct vfs *v, struct vdata *vd);
const uint8_t *shell_vdata_bytes(const struct vdata *vd);
/* Reports the content if it has unreported attacker bytes. */
void shell_vfs_report(struct vfs *v, struct vdata *vd, const char *path);

int shell_vfs_mkdir(struct vfs *v, const char *abspath, uint16_t mode);
/* Removes a file or link (not a folder): 0, -ENOENT, -EISDIR, -EROFS, -EACCES. */
int shell_vfs_unlink(struct vfs *v, const char *abspath);
/* Removes an empty folder: -ENOTEMPTY, -ENOTDIR... */
int shell_vfs_rmdir(struct vfs *v, const char *abspath);
/* Removes a folder and everything below it. */
int shell_vfs_remove_tree(struct vfs *v, const char *abspath);
int shell_vfs_rename(struct vfs *v, const char *from, const char *to);
int shell_vfs_symlink(struct vfs *v, const char *target, const char *abspath);
int shell_vfs_link(struct vfs *v, const char *existing, const char *abspath);
/* Creates or replaces a regular file with the given bytes (cp). `ro` bytes are borrowed
 * (profile content) instead of copied. */
int shell_vfs_put_file(struct vfs *v, const char *abspath, const uint8_t *p, size_t n, bool ro,
		       bool attacker, bool download, const char *method, uint16_t mode);
int shell_vfs_chmod(struct vfs *v, const char *abspath, uint16_t mode);
int shell_vfs_chown(struct vfs *v, const char *abspath, int64_t uid, int64_t gid);
int shell_vfs_touch(struct vfs *v, const char *abspath, int64_t mtime);

/* The names in a folder, sorted (strcmp), without "." and "..". Caller frees with
 * shell_vfs_names_free. Returns the count, or a negative errno. */
long shell_vfs_list(struct vfs *v, const char *absdir, char ***names);
void shell_vfs_names_free(char **names, size_t n);
void shell_vfs_names_add(char ***names, size_t *n, size_t *cap, const char *s, size_t len);

/* "/a/b" + "c" into out; returns -ENAMETOOLONG if it does not fit. */
int shell_vfs_join(const char *dir, const char *name, char *out);
/* The mount (device, folder, type, options) holding abspath, from the profile's /proc/mounts. */
struct vfs_mount {
	char dev[64], dir[256], type[32], opts[256];
};
bool shell_vfs_mount_of(struct vfs *v, const char *abspath, struct vfs_mount *m);

/* Profile lookups that do not depend on the profile module's code (binary searches over the
 * sorted arrays the profile contract guarantees). */
const struct profile_node *shell_prof_node(const struct profile *p, const char *path);
bool shell_prof_has_applet(const struct profile *p, const char *name);
const struct profile_command *shell_prof_command(const struct profile *p, const char *name);

/* ------------------------------------------------------------------ AST */

/* A word as written, quotes included; expansion happens when the command runs. */
struct word {
	char *text;
	size_t len;
};

enum redir_op {
	R_IN,      /* <  */
	R_OUT,     /* >  (and >|) */
	R_APPEND,  /* >> */
	R_INOUT,   /* <> */
	R_DUPIN,   /* <& */
	R_DUPOUT,  /* >& */
	R_HEREDOC, /* << <<- */
};

struct redir {
	struct redir *next;
	int fd;
	int op;
	struct word target;  /* file, fd number or "-"; for R_HEREDOC the body */
	bool heredoc_expand; /* unquoted delimiter: the body undergoes $ expansion */
};

enum { SH_OP_AND = 1, SH_OP_OR = 2 };

enum node_type {
	N_SIMPLE,
	N_PIPE,
	N_ANDOR,
	N_LIST,
	N_IF,
	N_FOR,
	N_WHILE,
	N_CASE,
	N_GROUP,
	N_SUBSHELL,
	N_FUNCDEF,
};

struct case_item {
	struct word *pats;
	size_t npats;
	struct node *body; /* may be NULL */
};

struct node {
	int type;
	int lineno;
	struct redir *redirs;
	union {
		struct {
			struct word *words;
			size_t nwords;
			struct word *assigns;
			size_t nassigns;
		} simple;
		struct {
			struct node **items;
			size_t n;
			int *ops;    /* N_ANDOR: SH_OP_AND/SH_OP_OR before item i (i >= 1);
					N_LIST: 1 if item i was followed by & */
			bool negate; /* N_PIPE: ! */
		} list;
		struct {
			struct node *cond, *then, *els;
		} ifn;
		struct {
			char *var;
			struct word *words;
			size_t nwords;
			bool has_in;
			struct node *body;
		} forn;
		struct {
			struct node *cond, *body;
			bool until;
		} loop;
		struct {
			struct word subject;
			struct case_item *items;
			size_t nitems;
		} casen;
		struct {
			struct node *body;
		} group;
		struct {
			char *name;
			char *src; /* the body's source text, re-parsed per call */
		} func;
	} u;
};

/* An arena that owns one parsed command (freed in one go). */
struct arena {
	struct arena_chunk *head;
};
void *shell_arena_alloc(struct arena *a, size_t n);
char *shell_arena_strndup(struct arena *a, const char *s, size_t n);
void shell_arena_free(struct arena *a);

enum parse_status { PARSE_OK, PARSE_EMPTY, PARSE_INCOMPLETE, PARSE_ERROR };

struct parse_result {
	int status;
	struct node *node; /* PARSE_OK */
	size_t end;        /* offset just past what was consumed */
	int lineno;        /* line of the command's start (1-based) */
	char msg[128];     /* PARSE_ERROR: "syntax error: unexpected ..." (no prefix) */
	int errline;       /* line of the error */
};

/* Parses one complete command (a list ending at a newline or EOF) from src[pos..len).
 * `eof_final`: the text ends here (scripts), so a construct cut by the end is an error;
 * otherwise (a terminal) it is PARSE_INCOMPLETE and more lines should be read. */
void shell_parse(struct arena *a, const char *src, size_t len, size_t pos, int lineno,
		 bool eof_final, struct parse_result *res);
/* Parses a whole text (a $(...) body, eval, sh -c, a function body) as one list. */
void shell_parse_all(struct arena *a, const char *src, size_t len, struct parse_result *res);
/* Offset just past a $(...) / `...` / ${...} starting at s[i] (which is '$' or '`'), or 0 if
 * unterminated. Used by the expander to find substitutions in raw words. */
size_t shell_skip_subst(const char *s, size_t len, size_t i);

/* ------------------------------------------------------------------ executor */

struct var {
	char *name;
	char *value;
	bool exported;
	bool readonly;
};

struct func {
	char *name;
	char *src;
};

/* One shell process: the login shell, a nested `sh`, a script, a subshell. */
struct level {
	struct level *parent;
	char *cwd;
	struct var *vars;
	size_t nvars, capvars;
	struct func *funcs;
	size_t nfuncs;
	char **pos; /* $1... */
	size_t npos;
	char *arg0;  /* $0, and the prefix of error messages */
	bool script; /* errors say "line N:" */
	bool nested; /* started by sh FILE, sh -c, ./script (counts toward script_depth) */
	bool interactive;
	int pid;
	int lineno;
	int last_bg_pid;
	unsigned defaults; /* bit i: the login shell's default variable i is set (not stored) */
	int exit_status;   /* status being returned by `exit` */
};

/* A file descriptor's object. */
enum fo_kind { FO_TTY, FO_NULL, FO_FILE, FO_BUF, FO_DEV };
struct fobj {
	int refs;
	uint8_t kind;
	uint8_t dev; /* FO_DEV: enum vdev */
	bool readable, writable;
	bool attacker;      /* FO_BUF: holds attacker bytes */
	struct vdata *vd;   /* FO_FILE */
	char *path;         /* FO_FILE */
	const char *method; /* FO_FILE: set by the writing command */
	size_t rpos;
	struct buf mem; /* FO_BUF */
};

enum frame_kind {
	F_READER,
	F_LIST,
	F_ANDOR,
	F_PIPE,
	F_CMD,
	F_IF,
	F_FOR,
	F_WHILE,
	F_CASE,
	F_GROUP,
	F_SUBST,
};

struct frame {
	uint8_t kind;
	uint8_t stage;
	bool owns_level;   /* popping it ends a shell level */
	bool catch_return; /* `return` stops here (function call, dot script) */
	size_t idx;
	const struct node *node;
	struct fobj *fd[SH_NFD];
	void *x; /* per-kind state */
	int status;
};

/* UW_INTERRUPT: ^C, back to the innermost interactive shell's prompt. */
enum unwind { UW_NONE, UW_EXIT, UW_BREAK, UW_CONTINUE, UW_RETURN, UW_INTERRUPT };

struct shell {
	const struct profile *prof;
	struct shell_limits lim;
	struct shell_io io;
	struct vfs vfs;
	struct level *lvl;
	int nlevels;
	struct frame *frames;
	size_t nframes, capframes;
	struct fobj tty;
	int status; /* $? */
	int unwind, unwind_n;
	bool suspended;    /* a download or a wait is pending */
	bool wait_pending; /* the pending thing is io->wait */
	bool waiting;      /* the top reader waits for a line */
	bool closed;
	bool running;
	uint64_t fetch_id, next_fetch_id;
	size_t commands;
	struct buf queue; /* lines received while suspended, each NUL-terminated */
	int next_pid;
	int bb_major, bb_minor, bb_patch; /* BusyBox version of the profile */
	char *ps1;                        /* the login shell's default $PS1 */
	char **hist;                      /* lines typed, oldest first (SH_HISTORY_MAX) */
	size_t nhist;
	int64_t start_time;
	int *killed; /* allocated on the first kill */
	size_t nkilled;
	uint64_t *reported; /* allocated on the first report */
	size_t nreported;
	uint8_t hkey[16];
	size_t mem;          /* bytes counted as SHELL_BUDGET_MEMORY (shell_acct_strdup) */
	bool give_way;       /* io->account asked this session to give way */
	uint64_t timeout_ms; /* `timeout SECS PROG` running: a wait longer than this is cut */
	bool wait_timed_out; /* the pending wait was cut by timeout: PROG dies of SIGTERM */
	char *peer_ip;       /* the attacker's end of the session's connection (shell_set_peer) */
	int peer_port;
	enum shell_end give_way_end;
};

/* Context of one running command. */
struct cmd {
	struct shell *sh;
	struct frame *f;
	int argc;
	char **argv;
	const char *name;   /* applet name for messages ("cat") */
	const char *method; /* how its output counts when it lands in a file ("echo"...) */
};

enum { SH_ASYNC = -1000, SH_SUSPEND = -1001 };

/* Output helpers: write to the command's fd 1 or 2. `attacker` says whether the bytes come
 * from the attacker (they make a file they land in an upload). */
int shell_out(struct cmd *c, const void *p, size_t n, bool attacker);
int shell_outs(struct cmd *c, const char *s);
void shell_printf(struct cmd *c, const char *fmt, ...) LIB_PRINTF(2, 3);
void shell_errf(struct cmd *c, const char *fmt, ...) LIB_PRINTF(2, 3);
/* "name: fmt\n" on stderr, as bb_error_msg. */
void shell_err(struct cmd *c, const char *fmt, ...) LIB_PRINTF(2, 3);
/* The shell's own error: "-sh: [script: line N: ]fmt\n". */
void shell_shell_err(struct shell *sh, struct fobj *err, const char *fmt, ...) LIB_PRINTF(3, 4);
int shell_fobj_write(struct shell *sh, struct fobj *o, const void *p, size_t n, bool attacker,
		     const char *method);
/* Reads all remaining bytes of fd 0 (bounded); *attacker says if they carry attacker bytes. */
const uint8_t *shell_stdin(struct cmd *c, size_t *len, bool *attacker);
/* Reads one line from fd 0 (for `read`); returns false at EOF. */
bool shell_stdin_line(struct cmd *c, struct buf *line);
struct fobj *shell_fobj_new(int kind);
void shell_fobj_ref(struct fobj *o);
void shell_fobj_unref(struct shell *sh, struct fobj *o);

/* Strings of variables, functions and positional parameters: counted against the sensor-wide
 * shell memory budget (io->account). What one allocates the other must free. */
char *shell_acct_strdup(struct shell *sh, const char *s);
void shell_acct_free(struct shell *sh, char *s);

/* Variables of the current level. */
const char *shell_getvar(struct shell *sh, const char *name);
int shell_setvar(struct shell *sh, const char *name, const char *value, bool export);
void shell_unsetvar(struct shell *sh, const char *name);
/* Stores the login shell's default variables (kept implicit to save memory) as real ones,
 * before listing them all (set, export, env). */
void shell_materialize_defaults(struct shell *sh);
bool shell_valid_name(const char *s, size_t n);

/* Pushes a frame running a program text as a script in a new level (sh FILE, sh -c,
 * ./script) or in the current one (`.`, eval). `is_file`: the text is a file's (errors carry
 * its line numbers; an ELF is run the way ash runs a foreign binary). */
int shell_run_script(struct cmd *c, const char *text, size_t len, const char *arg0, char **args,
		     size_t nargs, bool new_level, bool is_file);
/* Pushes a nested interactive shell (sh with no arguments). */
int shell_run_interactive(struct cmd *c);
/* Runs argv as a command from inside another (busybox APPLET, exec, command...). */
int shell_dispatch(struct cmd *c);
/* The same for a program that execs its operands (nohup, nice, env...): no builtins, and
 * "RUNNER: can't execute 'x'" when there is no such program. */
int shell_dispatch_external(struct cmd *c, const char *runner);
/* Runs an applet by name (the profile must have it). */
int shell_applet(struct cmd *c, const char *name);
bool shell_applet_known(const char *name);
/* Executes a file of the session as a program. */
int shell_exec_file(struct cmd *c, const char *abspath, const struct vstat *st);
/* Downloads (net.c). A command that starts one attaches its state to its frame and returns
 * SH_SUSPEND; shell_fetch_done hands the result to shell_fetch_deliver (net.c), which prints what
 * BusyBox prints and returns the status (or SH_SUSPEND again for the next URL). */
struct fetch_state;
void shell_attach_fetch(struct cmd *c, struct fetch_state *fs,
			void (*freefn)(struct fetch_state *));
int shell_fetch_deliver(struct cmd *c, struct fetch_state *fs,
			const struct shell_fetch_result *res);
/* Lets ms milliseconds pass through io->wait: returns SH_SUSPEND (the command ends with status
 * 0 when the wait is over, 130 if ^C came first) or 0 when waits take no time. */
int shell_wait(struct cmd *c, uint64_t ms);
/* io->fetch with an id: 0 if started, <0 if not (no io->fetch, or it refused). */
int shell_io_fetch(struct shell *sh, struct shell_fetch *req);
/* Runs queued input lines while the shell waits for input. */
void shell_drain(struct shell *sh);
/* exit / break / continue / return. */
void shell_request_unwind(struct shell *sh, int kind, int n, int status);
/* Replaces the current shell's descriptors (exec with only redirections). */
void shell_exec_redirect(struct cmd *c);
/* Ends the session (reboot, kill of the login shell). */
void shell_end_session(struct shell *sh, enum shell_end reason);
/* The pids of the session's shells, innermost first; returns the count. */
size_t shell_shell_pids(struct shell *sh, int *pids, size_t max);

/* Word expansion. results: outputs of the command's $(...) in order of appearance. */
struct subst_set {
	const char *key[SH_SUBSTS_MAX]; /* where each $( or ` starts in the AST text */
	char *out[SH_SUBSTS_MAX];
	size_t n;
	size_t done;
	bool overflow;
};
/* Finds the top-level $(...) and `...` of a word (adds them to the set). */
void shell_find_substs(const char *text, size_t len, struct subst_set *ss);
void shell_subst_free(struct subst_set *ss);

enum { EX_SPLIT = 1, EX_GLOB = 2, EX_ASSIGN = 4, EX_HEREDOC = 8, EX_PATTERN = 16 };
/* Expands one word into fields appended to *argv (count *argc, capacity grows). Returns 0 or
 * a negative value after printing an error (bad substitution). */
int shell_expand(struct shell *sh, struct fobj *err, const struct word *w, int flags,
		 const struct subst_set *ss, char ***argv, size_t *argc, size_t *cap);
/* Expands a word into one string (no splitting or globbing), caller frees. */
char *shell_expand_one(struct shell *sh, struct fobj *err, const struct word *w, int flags,
		       const struct subst_set *ss);
/* Shell pattern matching (case, ${x#pat}): pattern chars escaped by a preceding backslash
 * are literal. */
bool shell_pmatch(const char *pat, const char *s);
/* A POSIX regular expression (basic unless `ere`) in PCRE2 syntax; caller frees. */
char *shell_re_to_pcre(const char *re, bool ere);
/* Finds NAME in $PATH: the first DIR/NAME that is a file (with an x bit when `exec`). `shown`
 * gets DIR/NAME as found, `abs` the resolved path. 0 or -ENOENT. */
int shell_path_lookup(struct shell *sh, const char *name, bool exec, char *shown, char *abs,
		      struct vstat *st);
int shell_arith(struct shell *sh, const char *expr, long long *out, char *err, size_t errlen);

/* Applets and builtins. */
typedef int (*sh_cmd_fn)(struct cmd *c);
struct sh_command {
	const char *name;
	sh_cmd_fn fn;
	unsigned flags;
};
enum { CMD_BUILTIN = 1, CMD_SPECIAL = 2, CMD_STATE = 4 };
const struct sh_command *shell_find_builtin(const char *name);
const struct sh_command *shell_find_applet(const char *name);

/* BusyBox texts. */
void shell_usage(struct cmd *c, const char *applet);
bool shell_has_usage(const char *applet);
void shell_busybox_banner(struct cmd *c);
bool shell_bb_at_least(const struct shell *sh, int major, int minor);
/* "invalid option -- 'x'" + usage, status 1. */
int shell_bad_option(struct cmd *c, char opt);

/* A minimal getopt over c->argv: options before the first non-option (or all, permuting as
 * GNU getopt does when `permute`). Returns the option char, -1 at the end (c->optind is the
 * first operand), '?' after printing the error and usage. */
struct shell_getopt {
	int ind;
	size_t sub;
	const char *arg;
	char **operands;
	int noperands;
};
int shell_getopt(struct cmd *c, struct shell_getopt *g, const char *spec);
void shell_getopt_done(struct shell_getopt *g);
const char *shell_getopt_longarg(struct cmd *c, struct shell_getopt *g, const char *name);
/* All options at once (BusyBox's getopt32): the letters of `spec` seen, how often, the last
 * value of each letter that takes one, and the operands. Returns 0, or -1 after printing the
 * error and usage (the applet then returns its status for bad usage). Long options are
 * skipped. Free with shell_opts_free. */
#define SH_OPT_LETTERS 62 /* a-z A-Z 0-9 */
struct shell_opts {
	uint64_t set;
	uint8_t count[SH_OPT_LETTERS];
	const char *arg[SH_OPT_LETTERS];
	char **operands;
	int noperands;
};
int shell_opts(struct cmd *c, const char *spec, struct shell_opts *o);
bool shell_opt(const struct shell_opts *o, char letter);
const char *shell_optarg(const struct shell_opts *o, char letter);
void shell_opts_free(struct shell_opts *o);

/* Helpers the applet files share (applets.c). */
static inline struct vfs *V(struct cmd *c)
{
	return &c->sh->vfs;
}
static inline const char *CWD(struct cmd *c)
{
	return c->sh->lvl->cwd;
}
/* shell_vfs_resolve relative to the command's working folder. */
int shell_resolve(struct cmd *c, const char *path, bool follow, char *abs, struct vstat *st);
/* A file's bytes for reading ("-" is stdin), or an error (-errno). Bytes of an endless device
 * (/dev/zero, /dev/urandom: SH_DEV_READ_MAX of them) go to tmp: shell_rd_free. */
struct shell_rd {
	const uint8_t *p;
	size_t n;
	bool attacker;
	uint8_t *tmp;
};
int shell_read_path(struct cmd *c, const char *path, struct shell_rd *r);
void shell_rd_free(struct shell_rd *r);
/* The last component of a path, trailing slashes ignored ("a/b/" -> "b/"). */
const char *shell_base_name(const char *p);

/* The last component of a command name ("/bin/echo" -> "echo"). */
const char *shell_basename_of_cmd(const char *p);
int shell_cmd_echo(struct cmd *c);
int shell_cmd_printf(struct cmd *c);
int shell_cmd_test(struct cmd *c);
int shell_kill(struct cmd *c, bool builtin);

/* The processes ps shows: the profile's (minus those the session killed), the session's
 * shells and, if self_cmd is not NULL, one more (ps itself). Sorted by pid; caller frees. */
struct shell_pline {
	int pid, ppid;
	const char *user, *vsz, *stat, *cmd;
};
size_t shell_proc_list(struct shell *sh, struct shell_pline **out, const char *self_cmd);
/* Hooks /proc's generated files (procfs.c) into the session's vfs. */
void shell_procfs_attach(struct shell *sh);
/* The device's uptime in seconds now, and its load averages (procfs.c): what uptime, free and
 * /proc agree on. */
double shell_uptime(struct shell *sh);
void shell_loadavg(struct shell *sh, double la[3]);

/* eth0's MAC and address (192.168.1.x), derived from the hostname so that ifconfig, ip and
 * /proc/net agree and stay the same for a profile; the gateway is x.x.x.1. */
void shell_iface_identity(const struct shell *sh, uint8_t mac[6], uint8_t ip[4]);
/* /proc/net/tcp, tcp6, udp, udp6 or unix (netstat.c): 0, or -ENOENT for another name. */
/* hexdump -e: the formats (each one -e) over data (dumpfmt.c). -1 and BusyBox's message in
 * err for a format it refuses. */
int shell_dump_format(struct buf *out, char **fmts, size_t nfmts, const uint8_t *data, size_t len,
		      size_t start, bool verbose, bool be, char *err, size_t errcap);
int shell_net_sockets_file(struct shell *sh, const char *name, struct buf *b);
/* The inodes of the sockets process `pid` holds (its /proc/<pid>/fd links), at most cap. */
size_t shell_net_inodes(struct shell *sh, int pid, unsigned long *inodes, size_t cap);
/* The counters ifconfig shows: bytes and packets received and sent, eth0 then lo. */
#define SH_ETH0_RX_BYTES 283747322ull
#define SH_ETH0_RX_PACKETS 1838407ull
#define SH_ETH0_TX_BYTES 1104637220ull
#define SH_ETH0_TX_PACKETS 1121834ull
#define SH_LO_BYTES 164720ull
#define SH_LO_PACKETS 2390ull

/* Session processes (ps, kill). shell_proc_kill marks a device process as gone. */
void shell_proc_kill(struct shell *sh, int pid);
int shell_shell_pid(struct shell *sh);
/* Prints ash's "Terminated" and returns the status of a program timeout killed. */
int shell_terminated(struct shell *sh);
bool shell_proc_killed(struct shell *sh, int pid);
void shell_emit_unknown(struct shell *sh, char **argv, int argc);
const char *shell_strerror(int err);
/* BusyBox's "applet not found" and the shell's "not found". */
int shell_not_found(struct cmd *c, const char *name);

/* Reports a content to io->file_written once (dedup by keyed hash). */
void shell_report(void *arg, const char *path, struct vdata *vd);

/* Time as the device shows it. */
int64_t shell_now(void);

#endif
