/* JSON-lines sink: DATA/events.jsonl, append only, one write per batch.
 *
 * The file only ever holds whole lines: a batch that cannot be written whole (the disk is
 * full) is cut back off the file's end, counted and logged, and writing resumes with the next
 * batch once there is room again; a partial line a killed sensor left is cut at the next
 * start, and the events mitsu.db committed but the file did not get are added then. */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest line looked for at the file's end (the bus's largest event is smaller). */
#define JSONL_MAX_LINE (8u << 20)
/* Events of mitsu.db looked through, newest first, for the last one the file has. */
#define JSONL_CATCH_UP_MAX 100000

struct jsonl {
	int fd;
	struct buf out;     /* the batch being gathered */
	size_t nout;        /* its events */
	uint64_t lost;      /* events not written since the last success */
	char last_uuid[37]; /* of the file's last event, "" if none */
};

/* The file's last line, whole or not: its start offset, and its text into `line`. */
static off_t last_line(int fd, off_t end, struct buf *line)
{
	char chunk[4096];
	off_t pos = end;
	buf_reset(line);
	/* The last byte is the newline ending the last whole line: skip it. */
	if (end > 0 && pread(fd, chunk, 1, end - 1) == 1 && chunk[0] == '\n')
		end--, pos--;
	while (pos > 0 && end - pos < (off_t)JSONL_MAX_LINE) {
		size_t n = (size_t)LIB_MIN((off_t)sizeof(chunk), pos);
		if (pread(fd, chunk, n, pos - (off_t)n) != (ssize_t)n)
			return -1;
		for (size_t i = n; i-- > 0;) {
			if (chunk[i] == '\n') {
				off_t start = pos - (off_t)n + (off_t)i + 1;
				buf_reserve(line, (size_t)(end - start));
				line->len = (size_t)(end - start);
				if (pread(fd, line->data, line->len, start) != (ssize_t)line->len)
					return -1;
				line->data[line->len] = '\0';
				return start;
			}
		}
		pos -= (off_t)n;
	}
	if (pos > 0)
		return -1; /* a line longer than any event: leave the file alone */
	buf_reserve(line, (size_t)end);
	line->len = (size_t)end;
	if (pread(fd, line->data, line->len, 0) != (ssize_t)line->len)
		return -1;
	line->data[line->len] = '\0';
	return 0;
}

/* A sensor killed in the middle of a batch's write may leave a partial last line: it is cut
 * (the event is in mitsu.db, and catch_up writes it again). Notes the last event's uuid. */
static void repair(struct jsonl *j)
{
	off_t end = lseek(j->fd, 0, SEEK_END);
	if (end <= 0)
		return;
	struct buf line;
	buf_init(&line, 0);
	char c;
	bool whole = pread(j->fd, &c, 1, end - 1) == 1 && c == '\n';
	off_t start = last_line(j->fd, end, &line);
	if (start >= 0 && !whole) {
		if (ftruncate(j->fd, start) == 0)
			log_warn("jsonl",
				 "events.jsonl ended with a partial line (%lld bytes, a stop "
				 "in the middle of a write): cut",
				 (long long)(end - start));
		start = last_line(j->fd, start, &line);
	}
	json_t *ev = start >= 0 && line.len ? json_loadb((const char *)line.data, line.len, 0, NULL)
					    : NULL;
	const char *uuid = json_string_value(json_object_get(ev, "uuid"));
	if (uuid)
		lib_strlcpy(j->last_uuid, uuid, sizeof(j->last_uuid));
	json_decref(ev);
	buf_free(&line);
}

static int jsonl_open(void **state, const struct core_config *cfg)
{
	const char *dir = core_cfg_str(cfg, OPT_CORE_DATA_DIR);
	int rc = lib_mkdirs(dir, 0750);
	if (rc)
		return rc;
	char *path = core_data_path(dir, "events.jsonl");
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	free(path);
	if (fd < 0)
		return -errno;
	struct jsonl *j = xcalloc(1, sizeof(*j));
	j->fd = fd;
	buf_init(&j->out, 0);
	repair(j);
	*state = j;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n);

/* The events mitsu.db committed after the file's last one, appended in order. Only when the
 * file's last event is among mitsu.db's newest: an emptied or rotated file is not refilled. */
static void jsonl_catch_up(void *state, const struct core_store *st)
{
	struct jsonl *j = state;
	if (!j->last_uuid[0])
		return;
	struct core_store rd;
	if (core_store_open(&rd, st->data_dir, true))
		return;
	char needle[64];
	snprintf(needle, sizeof(needle), "\"uuid\":\"%s\"", j->last_uuid);
	sqlite3_stmt *q;
	int64_t from = -1;
	if (sqlite3_prepare_v2(rd.db, "SELECT id, json FROM events ORDER BY id DESC LIMIT ?1", -1,
			       &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int(q, 1, JSONL_CATCH_UP_MAX);
		while (from < 0 && sqlite3_step(q) == SQLITE_ROW) {
			const char *json = (const char *)sqlite3_column_text(q, 1);
			if (json && strstr(json, needle))
				from = sqlite3_column_int64(q, 0);
		}
		sqlite3_finalize(q);
	}
	if (from >= 0 &&
	    sqlite3_prepare_v2(rd.db, "SELECT json FROM events WHERE id > ?1 ORDER BY id", -1, &q,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, from);
		struct buf out;
		buf_init(&out, 0);
		size_t n = 0;
		while (sqlite3_step(q) == SQLITE_ROW) {
			buf_append(&out, sqlite3_column_text(q, 0),
				   (size_t)sqlite3_column_bytes(q, 0));
			buf_append(&out, "\n", 1);
			n++;
		}
		sqlite3_finalize(q);
		if (n && write_all(j->fd, out.data, out.len) == 0)
			log_info("jsonl",
				 "events.jsonl caught up with mitsu.db: %zu events the last stop "
				 "left unwritten",
				 n);
		buf_free(&out);
	}
	core_store_close(&rd);
}

static int jsonl_write(void *state, enum core_event id, const char *line, size_t len)
{
	struct jsonl *j = state;
	buf_append(&j->out, line, len);
	buf_append(&j->out, "\n", 1);
	j->nout++;
	return 0;
}

/* Writes the batch; on failure removes what of it reached the file. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? errno : ENOSPC;
			off_t end = lseek(fd, 0, SEEK_END);
			if (done && end >= (off_t)done && ftruncate(fd, end - (off_t)done) != 0)
				log_error("jsonl",
					  "cannot cut a partial batch off events.jsonl: %s",
					  strerror(errno));
			return -err;
		}
		done += (size_t)w;
	}
	return 0;
}

static int jsonl_flush(void *state)
{
	struct jsonl *j = state;
	if (j->out.len == 0)
		return 0;
	int rc = write_all(j->fd, j->out.data, j->out.len);
	if (rc) {
		if (j->lost == 0)
			log_error("jsonl",
				  "cannot write events.jsonl: %s; its events are lost until this "
				  "passes (mitsu.db and other sinks still get them)",
				  strerror(-rc));
		j->lost += j->nout;
	} else if (j->lost) {
		log_info("jsonl", "events.jsonl is written again (%llu events could not be)",
			 (unsigned long long)j->lost);
		j->lost = 0;
	}
	buf_reset(&j->out);
	j->nout = 0;
	return rc;
}

static void jsonl_close(void *state)
{
	struct jsonl *j = state;
	jsonl_flush(j);
	close(j->fd);
	buf_free(&j->out);
	free(j);
}

const struct core_sink_ops core_sink_jsonl = {
	.name = "jsonl",
	.open = jsonl_open,
	.catch_up = jsonl_catch_up,
	.write = jsonl_write,
	.flush = jsonl_flush,
	.close = jsonl_close,
};
