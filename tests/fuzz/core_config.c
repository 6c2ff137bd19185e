/* Fuzz target: the INI configuration file (-c FILE) through libinih and our option validation
 * (src/core/config.c: sections and keys of the options table, typed values: sizes, durations,
 * integers with bounds, booleans, lists), then every getter; and each line of the input as a
 * --set section.key=value. The text reaches ini_parse through a memfd, so the code under test
 * is exactly `mitsu run -c FILE`'s. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/core.h"

static int memfd = -1;
static char path[64];

/* Reads every option back through its typed getter, as the sensor does at start-up. */
static void read_all(const struct core_config *cfg)
{
	for (int i = 0; i < OPT__COUNT; i++) {
		switch (core_options[i].type) {
		case CORE_OPT_STR: (void)strlen(core_cfg_str(cfg, i)); break;
		case CORE_OPT_INT:
		case CORE_OPT_SECS: (void)core_cfg_int(cfg, i); break;
		case CORE_OPT_SIZE: (void)core_cfg_size(cfg, i); break;
		case CORE_OPT_BOOL: (void)core_cfg_bool(cfg, i); break;
		case CORE_OPT_LIST: {
			char **items;
			size_t n = core_cfg_list(cfg, i, &items);
			for (size_t k = 0; k < n; k++)
				(void)strlen(items[k]);
			core_list_free(items);
			break;
		}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("mitsu-fuzz-config", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
		log_set_level(LOG_ERROR);
	}
	if (ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	struct core_config cfg;
	char err[512];
	core_config_init(&cfg);
	if (core_config_load(&cfg, path, err, sizeof(err)) == 0)
		read_all(&cfg);
	else if (!memchr(err, '\0', sizeof(err)))
		abort(); /* the reason must be a string */
	core_config_free(&cfg);

	/* Each line as a --set. */
	core_config_init(&cfg);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *kv = strndup(p, len);
		if (!kv)
			abort();
		(void)core_config_set_kv(&cfg, kv, err, sizeof(err));
		free(kv);
		p += len + 1;
	}
	read_all(&cfg);
	core_config_free(&cfg);
	return 0;
}
