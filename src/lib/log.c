/* Logging to stderr with a level and a subsystem tag. */
#include "lib/lib.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static enum log_level current_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

void log_set_level(enum log_level level)
{
	current_level = level;
}
enum log_level log_get_level(void)
{
	return current_level;
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
{
	if (level < current_level)
		return;
	char ts[LIB_RFC3339_LEN];
	lib_rfc3339_now(ts);
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s %s %s: %s\n", ts, level_names[level], tag, line);
}
