/* JSON-lines sink: DATA/events.jsonl, append only, one write per batch.
 *
 * The file only ever holds whole lines: a batch that cannot be written whole (the disk is
 * full) is cut back off the file's end, counted and logged, and writing resumes with the next
 * batch once there is room again. */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct jsonl {
	int fd;
	struct buf out; /* the batch being gathered */
	size_t nout;    /* its events */
	uint64_t lost;  /* events not written since the last success */
};

static int jsonl_open(void **state, const struct core_config *cfg)
{
	const char *dir = core_cfg_str(cfg, OPT_CORE_DATA_DIR);
	int rc = lib_mkdirs(dir, 0750);
	if (rc)
		return rc;
	char *path = core_data_path(dir, "events.jsonl");
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	free(path);
	if (fd < 0)
		return -errno;
	struct jsonl *j = xcalloc(1, sizeof(*j));
	j->fd = fd;
	buf_init(&j->out, 0);
	*state = j;
	return 0;
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
	.write = jsonl_write,
	.flush = jsonl_flush,
	.close = jsonl_close,
};
