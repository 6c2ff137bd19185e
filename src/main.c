/* mitsu: subcommand dispatch, help and the man page. Nothing else lives here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "box/box.h"
#include "capture/capture.h"
#include "core/core.h"
#include "profile/profile.h"
#include "report/report.h"
#include "run/run.h"
#include "scope/scope.h"
#include "sensor/sensor.h"

static int help_main(int argc, char **argv);

static const struct core_command help_command = {
	.name = "help",
	.operands = "[COMMAND] | --man | --events",
	.summary = "Show help for mitsu or one command; --man prints the man page, --events the "
		   "event catalogue.",
	.main = help_main,
};

/* One row per subcommand; dispatch, help and the man page read this table. Each command's
 * flags are in its own table (struct core_command), next to its code. */
static const struct core_command *const commands[] = {
	&run_command, &core_events_command, &capture_samples_command, &profile_list_command,
	&box_command, &scope_command,       &report_command,          &help_command,
};

static const struct core_command *find_command(const char *name)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "mitsu %s: an IoT attack observation platform\n\nusage:\n", MITSU_VERSION);
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++) {
		fputs("  ", out);
		core_command_synopsis(commands[i], out);
		fputc('\n', out);
	}
	fprintf(out, "  mitsu --version\n\ncommands:\n");
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++)
		fprintf(out, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\nRun 'mitsu help COMMAND' for a command's flags, 'mitsu help run' for every "
		     "configuration option.\n");
}

static void print_man(FILE *out)
{
	fprintf(out, ".TH MITSU 1 \"\" \"mitsu %s\" \"User Commands\"\n", MITSU_VERSION);
	fprintf(out, ".SH NAME\nmitsu \\- IoT attack observation platform: honeypots, malware "
		     "capture, sandbox, darknet analysis, device identification and reports\n");
	fprintf(out, ".SH SYNOPSIS\n");
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++) {
		char *syn = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&syn, &len);
		core_command_synopsis(commands[i], m);
		fclose(m);
		fprintf(out, ".B ");
		core_roff(out, syn);
		fprintf(out, "\n.br\n");
		free(syn);
	}
	fprintf(out, ".SH COMMANDS\nEvery command that reads the configuration also takes "
		     "\\fB\\-c\\fR \\fIFILE\\fR, \\fB\\-\\-data\\-dir\\fR \\fIDIR\\fR, "
		     "\\fB\\-\\-set\\fR \\fISECTION.KEY=VALUE\\fR and \\fB\\-\\-log\\-level\\fR "
		     "\\fILEVEL\\fR. A flag shown with [section.key] sets that option of the "
		     "configuration.\n");
	for (size_t i = 0; i < LIB_ARRAY_LEN(commands); i++)
		core_command_man(commands[i], out);
	fprintf(out, ".SH CONFIGURATION\nSettings come from built-in defaults, then the INI file "
		     "given with \\fB\\-c\\fR, then the command line (\\fB\\-\\-set "
		     "section.key=value\\fR and the flags), each overriding the one before.\n");
	const char *section = "";
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct core_option *o = &core_options[i];
		if (strcmp(section, o->section) != 0) {
			section = o->section;
			fprintf(out, ".SS [%s]\n", section);
		}
		fprintf(out, ".TP\n.BR %s.%s \" (%s, default \\(dq", o->section, o->key,
			core_opt_type_name(o->type));
		core_roff(out, o->def);
		fprintf(out, "\\(dq)\"\n");
		core_roff(out, o->help);
		fputc('\n', out);
	}
	fprintf(out, ".SH EVENTS\nEvents are JSON objects, one per line, with Cowrie's field "
		     "names.\n");
	for (int i = 0; i < EV__COUNT; i++) {
		fprintf(out, ".TP\n.B ");
		core_roff(out, core_events[i].name);
		fputc('\n', out);
		core_roff(out, core_events[i].doc);
		fputc('\n', out);
	}
	fprintf(out, ".SH FILES\n.TP\n.I DATA/mitsu.db\nSQLite store: events, sessions, samples, "
		     "analyses.\n"
		     ".TP\n.I DATA/events.jsonl\nThe event stream, append only.\n"
		     ".TP\n.I DATA/samples/ab/abcd...\nCaptured files named by SHA\\-256, mode "
		     "0400.\n"
		     ".TP\n.I DATA/box/SHA256/\nSandbox artefacts: trace, pcap, report.json.\n");
	fprintf(out, ".SH SEE ALSO\nThe docs/ folder of the source: architecture.md, events.md, "
		     "operations.md.\n");
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
	const struct core_command *c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "mitsu: no such command: %s\n", argv[1]);
		return 2;
	}
	core_command_help(c, stdout);
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
	const struct core_command *c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "mitsu: no such command: %s\n\n", argv[1]);
		usage(stderr);
		return 2;
	}
	return c->main(argc - 1, argv + 1);
}
