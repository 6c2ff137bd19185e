/* mitsu: subcommand dispatch, help and the man page. Nothing else lives here. */
#include <stdio.h>
#include <string.h>

#include "box/box.h"
#include "capture/capture.h"
#include "core/core.h"
#include "report/report.h"
#include "sensor/sensor.h"
#include "profile/profile.h"
#include "scope/scope.h"

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *synopsis;
	const char *summary;
};

static int help_main(int argc, char **argv);

/* One row per subcommand; help, the man page and dispatch read this table. */
static const struct command commands[] = {
	{.name = "run",
	 .main = sensor_main,
	 .synopsis = "mitsu run [-c FILE] [--data-dir DIR] [--listen PROTO@ADDR:PORT[/PROFILE]]... "
		     "[--set section.key=value]...",
	 .summary = "Run the sensor: honeypot listeners, malware capture, sandbox queue and "
		    "dashboard. SIGTERM or SIGINT stops it cleanly."},
	{.name = "events",
	 .main = core_events_main,
	 .synopsis = "mitsu events [-c FILE] [--data-dir DIR] [--type EVENTID] [--session ID] "
		     "[--since TIME] [--limit N]",
	 .summary = "Print stored events as JSON lines, oldest first."},
	{.name = "samples",
	 .main = capture_samples_main,
	 .synopsis = "mitsu samples [-c FILE] [--data-dir DIR] [--format table|json] [--arch ARCH]",
	 .summary = "List the captured samples: hashes, size, type, CPU, when and where they came "
		    "from."},
	{.name = "profiles",
	 .main = profile_main,
	 .synopsis = "mitsu profiles [-c FILE] [--dir DIR] [--format table|json]",
	 .summary = "List the device profiles: name, CPU, endianness, category, BusyBox version, "
		    "description."},
	{.name = "box",
	 .main = box_main,
	 .synopsis = "mitsu box [-c FILE] [--data-dir DIR] [--format json|table] [--window SECS] "
		     "[--parallel N] [--static-only] [--store] FILE... | --results [--testbed]",
	 .summary = "Analyse samples in the sandbox (static analysis, then a run under qemu-user "
		    "in a sealed fake internet) and print one JSON verdict per sample."},
	{.name = "scope",
	 .main = scope_main,
	 .synopsis = "mitsu scope [options] PCAP... | mitsu scope [options] --live IFACE",
	 .summary = "Darknet analysis: packets per port, sources per country and AS, OS, "
		    "Mirai/ZMap/masscan, backscatter, scanners; --format table|json|csv (mitsu "
		    "scope --help lists the options)."},
	{.name = "report",
	 .main = report_main,
	 .synopsis = "mitsu report [-c FILE] [--data-dir DIR] [--format text|json|html] [--out "
		     "DIR] [--since TIME] [--until TIME]",
	 .summary = "The seed's tables and charts from the store: honeypot hosts by device, "
		    "credentials, commands, samples, sandbox verdicts and the LAN-attack testbed "
		    "table, darknet statistics."},
	{.name = "help",
	 .main = help_main,
	 .synopsis = "mitsu help [COMMAND] | mitsu help --man | mitsu help --events",
	 .summary = "Show help for mitsu or one command; --man prints the man page, --events the "
		    "event catalogue."},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "mitsu %s: an IoT attack observation platform\n\nusage:\n", MITSU_VERSION);
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++)
		fprintf(out, "  %s\n", commands[i].synopsis);
	fprintf(out, "  mitsu --version\n\ncommands:\n");
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'mitsu help run' for the configuration options.\n");
}

/* roff needs a backslash doubled and a leading dot or quote escaped. */
static void roff(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static void print_man(FILE *out)
{
	fprintf(out, ".TH MITSU 1 \"\" \"mitsu %s\" \"User Commands\"\n", MITSU_VERSION);
	fprintf(out,
		".SH NAME\nmitsu \\- IoT attack observation platform: honeypots, malware capture, "
		"sandbox, darknet analysis, device identification and reports\n");
	fprintf(out, ".SH SYNOPSIS\n");
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++) {
		fprintf(out, ".B ");
		roff(out, commands[i].synopsis);
		fprintf(out, "\n.br\n");
	}
	fprintf(out, ".SH COMMANDS\n");
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++) {
		fprintf(out, ".TP\n.B %s\n", commands[i].name);
		roff(out, commands[i].summary);
		fputc('\n', out);
	}
	fprintf(out,
		".SH CONFIGURATION\nSettings come from built-in defaults, then the INI file given "
		"with \\fB\\-c\\fR, then the command line (\\fB\\-\\-set section.key=value\\fR, "
		"\\fB\\-\\-data\\-dir\\fR, \\fB\\-\\-listen\\fR), each overriding the one "
		"before.\n");
	const char *section = "";
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct core_option *o = &core_options[i];
		if (strcmp(section, o->section) != 0) {
			section = o->section;
			fprintf(out, ".SS [%s]\n", section);
		}
		fprintf(out, ".TP\n.BR %s.%s \" (%s, default \\(dq", o->section, o->key,
			core_opt_type_name(o->type));
		roff(out, o->def);
		fprintf(out, "\\(dq)\"\n");
		roff(out, o->help);
		fputc('\n', out);
	}
	fprintf(out,
		".SH EVENTS\nEvents are JSON objects, one per line, with Cowrie's field names.\n");
	for (int i = 0; i < EV__COUNT; i++) {
		fprintf(out, ".TP\n.B ");
		roff(out, core_events[i].name);
		fputc('\n', out);
		roff(out, core_events[i].doc);
		fputc('\n', out);
	}
	fprintf(out,
		".SH FILES\n.TP\n.I DATA/mitsu.db\nSQLite store: events, sessions, samples, "
		"analyses.\n"
		".TP\n.I DATA/events.jsonl\nThe event stream, append only.\n"
		".TP\n.I DATA/samples/ab/abcd...\nCaptured files named by SHA\\-256, mode 0400.\n"
		".TP\n.I DATA/box/SHA256/\nSandbox artefacts: trace, pcap, report.json.\n");
	fprintf(out, ".SH SEE ALSO\nThe docs/ folder of the source: events.md, operations.md.\n");
}

static int help_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--man") == 0) {
		print_man(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--events") == 0) {
		for (int i = 0; i < EV__COUNT; i++)
			printf("%s\t%s\n", core_events[i].name, core_events[i].doc);
		return 0;
	}
	const struct command *c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "mitsu: no such command: %s\n", argv[1]);
		return 2;
	}
	printf("usage: %s\n\n%s\n", c->synopsis, c->summary);
	if (strcmp(c->name, "run") == 0) {
		printf("\nConfiguration options (INI section and key; --set section.key=value):\n");
		core_config_print_help(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("mitsu %s\n", MITSU_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	const struct command *c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "mitsu: no such command: %s\n\n", argv[1]);
		usage(stderr);
		return 2;
	}
	return c->main(argc - 1, argv + 1);
}
