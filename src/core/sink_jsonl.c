/* JSON-lines sink: DATA/events.jsonl, append only, flushed once per loop turn. */
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int jsonl_open(void **state, const struct core_config *cfg, struct core_store *store)
{
	const char *dir = core_cfg_str(cfg, OPT_CORE_DATA_DIR);
	int rc = lib_mkdirs(dir, 0750);
	if (rc)
		return rc;
	char *path = core_data_path(dir, "events.jsonl");
	FILE *f = fopen(path, "ae");
	free(path);
	if (!f)
		return -errno;
	*state = f;
	return 0;
}

static int jsonl_write(void *state, const struct core_ev *ev)
{
	FILE *f = state;
	if (fwrite(ev->line, 1, ev->len, f) != ev->len || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}

static int jsonl_flush(void *state)
{
	return fflush((FILE *)state) ? -EIO : 0;
}

static void jsonl_close(void *state)
{
	fclose((FILE *)state);
}

const struct core_sink_ops core_sink_jsonl = {
	.name = "jsonl",
	.open = jsonl_open,
	.write = jsonl_write,
	.flush = jsonl_flush,
	.close = jsonl_close,
};
