/* shell: the emulated BusyBox shell an attacker gets after logging in.
 *
 * It never runs attacker input: it lexes, parses and emulates (ash syntax: ; && || | > >> <
 * 2> quotes, escapes, $VAR, subshell-free), over a per-session virtual filesystem layered on
 * the device profile's read-only tree. Commands behave like the profile's BusyBox applets,
 * including their errors and usage text.
 *
 * The shell is transport-neutral: the Telnet module (or a test) feeds it whole input lines and
 * receives output bytes, events and requests through `struct shell_io`. Everything that must
 * wait (a download) is asynchronous: the shell asks io->fetch and suspends; the owner calls
 * shell_fetch_done later, from the same loop. While suspended, further input lines are queued
 * (bounded) and run in order afterwards, exactly as a real shell reads ahead from its tty.
 *
 * Ownership: the shell borrows the profile and io (they must outlive it); it owns the vfs. */
#ifndef MITSU_SHELL_H
#define MITSU_SHELL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "profile/profile.h"

struct shell;

/* Limits a caller leaves at 0 (unit tests, fuzz targets) get these. The sensor always passes
 * its options (limits.shell_commands, script_depth, vfs_bytes, vfs_files in
 * src/core/options.h), whose defaults are the same values. */
#define SHELL_DEFAULT_COMMANDS 20000
#define SHELL_DEFAULT_SCRIPT_DEPTH 8
#define SHELL_DEFAULT_QUEUED 65536
#define SHELL_DEFAULT_VFS_BYTES (32u << 20)
#define SHELL_DEFAULT_VFS_FILES 1024

struct shell_limits {
	size_t vfs_bytes;    /* bytes of files the attacker may create */
	size_t vfs_files;    /* files and folders the attacker may create */
	size_t max_commands; /* simple commands per session, scripts included */
	int script_depth;    /* sh x.sh inside x.sh ... */
	size_t max_queued;   /* bytes of input lines queued while a download runs */
};

/* A download the shell wants. Strings are valid until shell_fetch_done (or shell_free). */
struct shell_fetch {
	uint64_t id;          /* pass back to shell_fetch_done */
	const char *method;   /* "wget", "curl", "tftp", "ftpget" */
	const char *url;      /* absolute: http(s)://, ftp://[user:pass@]host[:port]/path,
				 tftp://host[:port]/file */
	const char *destfile; /* absolute vfs path the bytes go to (for -O - or curl's stdout: the
				 file stdout is redirected to); NULL when they go to a pipe or the
				 terminal */
};

enum shell_fetch_status {
	SHELL_FETCH_OK,
	SHELL_FETCH_BAD_ADDRESS,  /* name does not resolve */
	SHELL_FETCH_REFUSED,      /* connection refused / unreachable */
	SHELL_FETCH_TIMEOUT,      /* no answer in time */
	SHELL_FETCH_SERVER_ERROR, /* HTTP status >= 400, FTP/TFTP error (detail in `code`, `error`)
				   */
	SHELL_FETCH_BLOCKED,      /* refused by the sensor's policy (private address, rate limit);
				     the attacker sees a plausible network error */
	SHELL_FETCH_NOT_FETCHED,  /* capture.fetch=false: pretend it timed out */
};

struct shell_fetch_result {
	enum shell_fetch_status status;
	int code;            /* HTTP status, FTP reply code or TFTP error code; 0 if none */
	const char *error;   /* short cause, for logs */
	const uint8_t *data; /* the bytes (OK only); borrowed for the duration of the call */
	size_t len;
	bool truncated;        /* cut at capture.max_size */
	const char *remote_ip; /* address actually connected to, for wget's "Connecting to" line */
	int remote_port;
};

/* What the shell's holdings count against: the sensor-wide budgets (io->account). */
enum shell_budget {
	SHELL_BUDGET_FILES,  /* bytes of the session's files (what limits.vfs_bytes counts) */
	SHELL_BUDGET_MEMORY, /* bytes of variables, functions and positional parameters */
};

/* Why the shell ended the session. */
enum shell_end {
	SHELL_END_EXIT,          /* exit, logout */
	SHELL_END_EOF,           /* ^D on an empty line at the top level */
	SHELL_END_REBOOT,        /* reboot, halt, poweroff */
	SHELL_END_KILLED,        /* the login shell was killed (kill -9 $$) */
	SHELL_END_COMMAND_LIMIT, /* limits.shell_commands ran out */
	SHELL_END_WORK_LIMIT,    /* a command did more work than one session may */
	SHELL_END_FILE_BUDGET,   /* the sensor's budget of attacker files: this session gave way */
	SHELL_END_MEMORY_BUDGET, /* the sensor's budget of shell memory: this session gave way */
};

struct shell_io {
	void *arg;
	/* Terminal output. "\n" is sent as is; the transport adds CR where a pty would. */
	void (*write)(void *arg, const void *p, size_t n);
	/* Records an event with the session's identity (mitsu.command.input, .unknown). `fields`
	 * is stolen. */
	void (*event)(void *arg, enum core_event id, json_t *fields, const char *message);
	/* Starts a download. Returns 0 if started (the shell suspends until shell_fetch_done is
	 * called for req->id, never from inside this call), or <0 if it cannot start (the shell
	 * prints a network error). NULL: downloads always fail. */
	int (*fetch)(void *arg, const struct shell_fetch *req);
	/* A file the attacker wrote is about to be lost or is final: truncated, overwritten,
	 * deleted, renamed over, executed, or the session ends. Called once per distinct content.
	 * `method` says how it was written: "echo", "printf", "redirect", "dd", "cp", "tee"... */
	void (*file_written)(void *arg, const char *path, const uint8_t *data, size_t len,
			     const char *method);
	/* The attacker ran a file of theirs as a program (./x, sh -c ./x, /tmp/x args). The data is
	 * the file's content; argv the arguments. The shell itself prints what the device would. */
	void (*exec)(void *arg, const char *path, const uint8_t *data, size_t len, int argc,
		     char **argv);
	/* The shell ended; close the session after the output. */
	void (*close)(void *arg, enum shell_end why);
	/* Lets `ms` milliseconds pass (sleep, usleep): starts a timer and returns 0; the owner
	 * calls shell_wait_done when it fires, never from inside this call. NULL, or <0: the wait
	 * takes no time (unit tests, fuzzing). */
	int (*wait)(void *arg, uint64_t ms);
	/* What the shell holds of a budget changed by delta bytes (every change, frees included,
	 * until shell_free). Returns false when this session must give way to the sensor-wide
	 * budget: the shell stops before its next step and ends with SHELL_END_FILE_BUDGET or
	 * SHELL_END_MEMORY_BUDGET. NULL: nothing is counted. */
	bool (*account)(void *arg, enum shell_budget b, long long delta);
};

/* Creates the shell of a logged-in session: cwd = profile home. Prints nothing yet. */
struct shell *shell_new(const struct profile *p, const struct shell_limits *lim,
			const struct shell_io *io);
/* Ends the session: reports every attacker file not yet reported (file_written), then frees.
 * Pending downloads are abandoned; the owner must not call shell_fetch_done afterwards. */
void shell_free(struct shell *sh);

/* The attacker's address and port, as the device would see them: netstat and /proc/net/tcp
 * show the session's own connection (ESTABLISHED to telnetd). Optional. */
void shell_set_peer(struct shell *sh, const char *ip, int port);

/* Prints the motd (if any) and the first prompt. */
void shell_start(struct shell *sh);
/* One input line, without its line ending. Runs it (or queues it while suspended) and prints
 * the next prompt when done. Returns 0, or -ENOBUFS when the queue is full (the owner should
 * close the session). */
int shell_input(struct shell *sh, const char *line, size_t len);
/* EOF from the terminal (^D on an empty line): exits the innermost `sh`, or the session. */
void shell_eof(struct shell *sh);
/* Completes a download started with io->fetch. */
void shell_fetch_done(struct shell *sh, uint64_t id, const struct shell_fetch_result *res);
/* Ends the wait started with io->wait. */
void shell_wait_done(struct shell *sh);
/* ^C from the terminal (0x03, or Telnet's IAC IP) while a command runs: what SIGINT does to
 * ash's foreground job. A pending sleep or download ends (status 130), the rest of the command
 * line and the lines typed ahead are dropped (the tty flushes its input), and the prompt
 * follows. Returns SHELL_INTR_NONE when nothing was running, SHELL_INTR_FETCH when a download
 * was abandoned (the owner cancels it: shell_fetch_done must not be called for it). */
enum shell_intr { SHELL_INTR_NONE, SHELL_INTR_WAIT, SHELL_INTR_FETCH };
enum shell_intr shell_interrupt(struct shell *sh);
/* True while a download or a wait is pending. */
bool shell_busy(const struct shell *sh);

/* Decodes echo's backslash escapes (\a \b \c \e \f \n \r \t \v \\ \0NNN \NNN \xHH) as BusyBox
 * `echo -e` does. Writes at most outcap bytes; returns the decoded length and sets *stop when
 * \c was seen (stop output). Exposed for tests. */
size_t shell_echo_unescape(const char *in, size_t inlen, uint8_t *out, size_t outcap, bool *stop);

#endif
