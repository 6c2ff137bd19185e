/* Unit tests of src/core/command.c: one flag table drives parsing, usage, help and man page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

enum { F_FORMAT, F_VERBOSE };
static const struct core_flag flags[] = {
	{.name = "format",
	 .shortname = 'F',
	 .arg = "FMT",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "output format"},
	{.name = "verbose", .opt = CORE_FLAG_OWN, .id = F_VERBOSE, .help = "say more"},
	{.name = "interval", .shortname = 'i', .arg = "DURATION", .opt = OPT_SCOPE_INTERVAL},
	{.name = "darknet", .shortname = 'd', .arg = "CIDR", .opt = OPT_SCOPE_DARKNET},
	{.name = "no-geo", .opt = OPT_SCOPE_COUNTRIES, .value = "false", .help = "no countries"},
	{0},
};

static const struct core_command cmd = {
	.name = "demo",
	.operands = "FILE...",
	.summary = "A command for the tests.",
	.flags = flags,
	.common = CORE_CMD_CONFIG,
	.sections = "scope",
};

struct seen {
	const char *format;
	int verbose;
	int bad;
};

static int on_flag(void *arg, int id, const char *v)
{
	struct seen *s = arg;
	if (id == F_FORMAT) {
		if (strcmp(v, "json") && strcmp(v, "table"))
			return -1;
		s->format = v;
	} else {
		s->verbose++;
	}
	return 0;
}

/* Parses a command line given as a NULL-terminated list of words. */
static int parse(struct core_config *cfg, struct seen *s, int *first, ...)
{
	static char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, first);
	argv[argc++] = (char *)"demo";
	for (char *w; (w = va_arg(ap, char *)) != NULL && argc < 31;)
		argv[argc++] = w;
	va_end(ap);
	argv[argc] = NULL;
	return core_command_parse(&cmd, argc, argv, cfg, on_flag, s, first);
}

static void test_flags_set_options_and_own_values(void **state)
{
	struct core_config cfg;
	core_config_init(&cfg);
	struct seen s = {0};
	int first = -1;
	assert_int_equal(parse(&cfg, &s, &first, "-F", "json", "--interval", "5m", "--verbose",
			       "-d", "10.0.0.0/8", "--darknet", "192.0.2.0/24", "--no-geo",
			       "a.pcap", "b.pcap", NULL),
			 0);
	assert_string_equal(s.format, "json");
	assert_int_equal(s.verbose, 1);
	/* typed at set time: a duration with a suffix, read without parsing */
	assert_int_equal(core_cfg_int(&cfg, OPT_SCOPE_INTERVAL), 300);
	assert_true(cfg.set_on_cmdline[OPT_SCOPE_INTERVAL]);
	/* a LIST flag given twice makes a list */
	assert_string_equal(core_cfg_str(&cfg, OPT_SCOPE_DARKNET), "10.0.0.0/8,192.0.2.0/24");
	/* a switch sets its value */
	assert_false(core_cfg_bool(&cfg, OPT_SCOPE_COUNTRIES));
	assert_int_equal(first, 11); /* a.pcap */
	core_config_free(&cfg);
}

static void test_bad_values_and_flags_are_usage_errors(void **state)
{
	struct core_config cfg;
	struct seen s = {0};
	int first;
	core_config_init(&cfg);
	assert_int_equal(parse(&cfg, &s, &first, "--interval", "soon", NULL), 2);
	core_config_free(&cfg);
	core_config_init(&cfg);
	assert_int_equal(parse(&cfg, &s, &first, "--format", "xml", NULL), 2);
	core_config_free(&cfg);
	core_config_init(&cfg);
	assert_int_equal(parse(&cfg, &s, &first, "--nosuch", NULL), 2);
	core_config_free(&cfg);
	core_config_init(&cfg);
	assert_int_equal(parse(&cfg, &s, &first, "--format", NULL), 2);
	core_config_free(&cfg);
	core_config_init(&cfg);
	assert_int_equal(parse(&cfg, &s, &first, "--set", "scope.top=0", NULL), 2);
	core_config_free(&cfg);
}

static void test_help_flag(void **state)
{
	struct core_config cfg;
	struct seen s = {0};
	int first;
	core_config_init(&cfg);
	FILE *saved = stdout;
	stdout = fopen("/dev/null", "w");
	int rc = parse(&cfg, &s, &first, "--help", NULL);
	fclose(stdout);
	stdout = saved;
	assert_int_equal(rc, 1);
	assert_int_equal(core_command_status(rc), 0);
	core_config_free(&cfg);
}

static void test_command_line_wins_over_the_file(void **state)
{
	char path[] = "/tmp/mitsu-cmd-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "[scope]\ninterval = 1d\ntop = 7\ndarknet = 198.51.100.0/24\n";
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	struct core_config cfg;
	core_config_init(&cfg);
	struct seen s = {0};
	int first;
	assert_int_equal(parse(&cfg, &s, &first, "-c", path, "-i", "60", "-d", "10.0.0.0/8", NULL),
			 0);
	assert_int_equal(core_cfg_int(&cfg, OPT_SCOPE_INTERVAL), 60);
	assert_int_equal(core_cfg_int(&cfg, OPT_SCOPE_TOP), 7);
	assert_string_equal(core_cfg_str(&cfg, OPT_SCOPE_DARKNET), "10.0.0.0/8");
	core_config_free(&cfg);
	unlink(path);
}

static void test_help_and_man_come_from_the_table(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	core_command_help(&cmd, m);
	fclose(m);
	assert_non_null(strstr(text, "usage: mitsu demo"));
	assert_non_null(strstr(text, "-F, --format FMT"));
	assert_non_null(strstr(text, "--interval DURATION"));
	assert_non_null(strstr(text, "[scope.interval, default \"1h\"]"));
	assert_non_null(strstr(text, "[scope.countries=false]"));
	assert_non_null(strstr(text, "scope.max_scanners")); /* its section's other options */
	assert_null(strstr(text, "limits.max_line"));        /* not another section's */
	free(text);
	text = NULL;
	m = open_memstream(&text, &len);
	core_command_man(&cmd, m);
	fclose(m);
	assert_non_null(strstr(text, ".SS demo\n"));
	assert_non_null(strstr(text, "\\-F, \\-\\-format FMT"));
	free(text);
}

static void test_secs_suffixes(void **state)
{
	long long v;
	assert_int_equal(lib_parse_secs("90", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(lib_parse_secs("2h", &v), 0);
	assert_int_equal(v, 7200);
	assert_int_equal(lib_parse_secs("1d", &v), 0);
	assert_int_equal(v, 86400);
	assert_int_not_equal(lib_parse_secs("-5", &v), 0);
	assert_int_not_equal(lib_parse_secs("5x", &v), 0);
	assert_int_not_equal(lib_parse_secs("5mm", &v), 0);
	assert_int_not_equal(lib_parse_secs("", &v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_set_options_and_own_values),
		cmocka_unit_test(test_bad_values_and_flags_are_usage_errors),
		cmocka_unit_test(test_help_flag),
		cmocka_unit_test(test_command_line_wins_over_the_file),
		cmocka_unit_test(test_help_and_man_come_from_the_table),
		cmocka_unit_test(test_secs_suffixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
