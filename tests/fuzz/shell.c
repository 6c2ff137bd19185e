/* Fuzz target for src/shell: arbitrary input lines to a shell on the dvr-hi3520d profile.
 * The input is split at '\n'. A line starting with 0x01 completes the pending download with
 * the rest of the line as its bytes; 0x02 completes it with a failure (next byte picks which);
 * every other line goes to shell_input. If the first byte is 0x03, downloads complete at once
 * after the line that started them instead. At the end the session ends (EOF, then free). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "shell/shell.h"

static struct profile *prof;

struct fz {
	struct shell *sh;
	uint64_t pending;
	bool has_pending;
	bool closed;
	size_t out;
};

static void w(void *arg, const void *p, size_t n)
{
	struct fz *f = arg;
	f->out += n;
	(void)p;
}

static void ev(void *arg, enum core_event id, json_t *fields, const char *message)
{
	json_decref(fields);
	(void)arg;
	(void)id;
	(void)message;
}

static int fetch(void *arg, const struct shell_fetch *req)
{
	struct fz *f = arg;
	/* the request's strings must be valid here */
	if (!req->url || !req->method || strlen(req->url) > 100000)
		abort();
	f->pending = req->id;
	f->has_pending = true;
	return 0;
}

static void written(void *arg, const char *path, const uint8_t *data, size_t len,
		    const char *method)
{
	if (!path || !method || (len && !data))
		abort();
	(void)arg;
}

static void ex(void *arg, const char *path, const uint8_t *data, size_t len, int argc, char **argv)
{
	if (!path || argc < 1 || !argv[0])
		abort();
	(void)arg;
	(void)data;
	(void)len;
}

static void cl(void *arg, enum shell_end reason)
{
	struct fz *f = arg;
	f->closed = true;
	(void)reason;
}

static void complete(struct fz *f, bool ok, const uint8_t *p, size_t n, int kind)
{
	if (!f->has_pending)
		return;
	f->has_pending = false;
	struct shell_fetch_result r = {
		.status = ok ? SHELL_FETCH_OK : (kind % 7) + 1,
		.code = ok ? 200 : (kind % 2 ? 404 : 1),
		.error = ok ? NULL : "failed",
		.data = ok ? p : NULL,
		.len = ok ? n : 0,
		.remote_ip = "192.0.2.1",
		.remote_port = 80,
	};
	shell_fetch_done(f->sh, f->pending, &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!prof) {
		char err[256];
		if (profile_load(MITSU_SOURCE_DIR "/profiles/dvr-hi3520d", &prof, err,
				 sizeof(err))) {
			fprintf(stderr, "fuzz shell: %s\n", err);
			abort();
		}
	}
	struct fz f = {0};
	struct shell_limits lim = {
		.vfs_bytes = 32768,
		.vfs_files = 64,
		.max_commands = 400,
		.script_depth = 4,
		.max_queued = 4096,
	};
	struct shell_io io = {
		.arg = &f,
		.write = w,
		.event = ev,
		.fetch = fetch,
		.file_written = written,
		.exec = ex,
		.close = cl,
	};
	f.sh = shell_new(prof, &lim, &io);
	shell_start(f.sh);
	bool immediate = size && data[0] == 0x03;
	size_t i = immediate ? 1 : 0;
	while (i < size && !f.closed) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t e = nl ? (size_t)(nl - data) : size;
		const uint8_t *line = data + i;
		size_t len = e - i;
		if (len && line[0] == 0x01) {
			complete(&f, true, line + 1, len - 1, 0);
		} else if (len && line[0] == 0x02) {
			complete(&f, false, NULL, 0, len > 1 ? line[1] : 0);
		} else {
			shell_input(f.sh, (const char *)line, len);
			/* downloads that finish at once, each starting the next */
			for (int k = 0; immediate && f.has_pending && k < 64; k++)
				complete(&f, true, (const uint8_t *)"echo fetched\n", 13, 0);
		}
		i = e + 1;
	}
	if (f.has_pending && !f.closed)
		complete(&f, true,
			 (const uint8_t *)"\x7f"
					  "ELF",
			 4, 0);
	if (!f.closed)
		shell_eof(f.sh);
	shell_free(f.sh);
	return 0;
}
