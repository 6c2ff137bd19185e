/* Test harness for src/shell: a small ARMv7 DVR-like profile built in code, and a shell_io
 * that records output, events, uploads, executions and download requests. */
#ifndef MITSU_TEST_SHELL_HARNESS_H
#define MITSU_TEST_SHELL_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lib.h"
#include "shell/shell.h"

struct th_upload {
	char *path;
	uint8_t *data;
	size_t len;
	char *method;
};

struct th_fetch {
	uint64_t id;
	char *method, *url, *dest;
};

struct th {
	struct shell *sh;
	struct profile *prof;
	struct buf out; /* everything written to the terminal */
	struct th_upload uploads[64];
	size_t nuploads;
	struct th_fetch fetches[64];
	size_t nfetches;
	size_t pending;    /* index of the oldest fetch not completed */
	char *events[512]; /* "mitsu.command.input\t<input>" */
	size_t nevents;
	char *execs[32];
	size_t nexecs;
	char *closed; /* reason, once closed */
	/* automatic download answers: url suffix -> body (NULL body: 404) */
	const char *auto_url[16];
	const uint8_t *auto_body[16];
	size_t auto_len[16];
	size_t nauto;
	bool auto_fetch; /* answer inside shell_fetch_done right after the request */
	bool no_fetch;   /* io->fetch is NULL */
	bool real;       /* prof comes from profile_load */
};

/* The synthetic profile (BusyBox 1.22.1, ARMv7 LE, rw tmpfs on /tmp /var /dev, ro root).
 * `version` overrides the BusyBox banner's version ("1.30.1"), NULL for the default. */
struct profile *th_profile(const char *version);
void th_profile_free(struct profile *p);

/* Starts a shell on a profile the harness then owns (real: freed with profile_free). lim NULL:
 * generous defaults. */
void th_init_with(struct th *t, struct profile *p, bool real, bool no_fetch,
		  const struct shell_limits *lim);
void th_init(struct th *t, const char *version);
void th_init_limits(struct th *t, const char *version, const struct shell_limits *lim);
/* With a profile of profiles/ (loaded with profile_load; freed by th_fini). */
void th_init_real(struct th *t, const char *name);
void th_fini(struct th *t);
/* Feeds a line; returns shell_input's value. */
int th_line(struct th *t, const char *line);
/* Feeds a line and returns its output without the prompt that follows it (caller frees). */
char *th_run(struct th *t, const char *line);
/* Output since the last th_take, as a NUL-terminated string the caller frees. */
char *th_take(struct th *t);
/* The same with its length (binary output). */
char *th_take_len(struct th *t, size_t *len);
/* Completes the oldest pending download with a body (or a failure status). */
void th_complete(struct th *t, int status, int code, const void *body, size_t len);
/* Answers every download whose URL ends with `suffix` with `body` (NULL: 404). */
void th_auto(struct th *t, const char *suffix, const void *body, size_t len);
/* Completes pending downloads with the automatic answers until none is pending. */
void th_pump(struct th *t);
/* Count of events with this id, and whether one has this input. */
size_t th_events(struct th *t, const char *eventid);
bool th_has_event(struct th *t, const char *eventid, const char *input);
/* A made-up ARM ELF of `n` bytes (deterministic). */
uint8_t *th_fake_elf(size_t n, int machine, int data);

#endif
