/* Subcommands' command lines from their flag tables: getopt parsing, usage, help, man page. */
#include "core/core.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* The common flags of commands that read the configuration. */
enum { COMMON_CONFIG = 1, COMMON_SET, COMMON_HELP };
static const struct core_flag common_flags[] = {
	{.name = "config",
	 .shortname = 'c',
	 .arg = "FILE",
	 .opt = CORE_FLAG_OWN,
	 .id = COMMON_CONFIG,
	 .help = "INI configuration file (its values are overridden by the command line)"},
	{.name = "data-dir", .arg = "DIR", .opt = OPT_CORE_DATA_DIR},
	{.name = "set",
	 .arg = "SECTION.KEY=VALUE",
	 .opt = CORE_FLAG_OWN,
	 .id = COMMON_SET,
	 .help = "set any option of the configuration (repeatable; see mitsu help run)"},
	{.name = "log-level", .arg = "LEVEL", .opt = OPT_CORE_LOG_LEVEL},
	{0},
};
static const struct core_flag help_flag = {.name = "help",
					   .shortname = 'h',
					   .opt = CORE_FLAG_OWN,
					   .id = COMMON_HELP,
					   .help = "show this help"};

/* Every flag of a command in one list: its own, the common ones, --help. */
struct flagset {
	const struct core_flag *f[128];
	bool common[128];
	size_t n;
};

static void flagset_add(struct flagset *fs, const struct core_flag *flags, bool common)
{
	for (size_t i = 0; flags && flags[i].name && fs->n < LIB_ARRAY_LEN(fs->f); i++) {
		fs->common[fs->n] = common;
		fs->f[fs->n++] = &flags[i];
	}
}

static void flagset_init(struct flagset *fs, const struct core_command *cmd)
{
	fs->n = 0;
	flagset_add(fs, cmd->flags, false);
	if (cmd->common & CORE_CMD_CONFIG)
		flagset_add(fs, common_flags, true);
	if (fs->n < LIB_ARRAY_LEN(fs->f)) {
		fs->common[fs->n] = true;
		fs->f[fs->n++] = &help_flag;
	}
}

static const char *flag_help(const struct core_flag *f)
{
	if (f->help)
		return f->help;
	if (f->opt >= 0)
		return core_options[f->opt].help;
	return "";
}

/* "-c, --config FILE" or "    --data-dir DIR" into buf. */
static void flag_label(const struct core_flag *f, char *buf, size_t len)
{
	const char *sep = f->arg ? " " : "", *arg = f->arg ? f->arg : "";
	if (f->shortname)
		snprintf(buf, len, "-%c, --%s%s%s", f->shortname, f->name, sep, arg);
	else
		snprintf(buf, len, "    --%s%s%s", f->name, sep, arg);
}

/* Where the value of an option flag goes and its default, for the help. */
static void flag_option_note(const struct core_flag *f, char *buf, size_t len)
{
	buf[0] = '\0';
	if (f->opt < 0)
		return;
	const struct core_option *o = &core_options[f->opt];
	if (f->arg)
		snprintf(buf, len, " [%s.%s, default \"%s\"]", o->section, o->key, o->def);
	else
		snprintf(buf, len, " [%s.%s=%s]", o->section, o->key, f->value ? f->value : "");
}

void core_command_synopsis(const struct core_command *cmd, FILE *out)
{
	struct flagset fs;
	flagset_init(&fs, cmd);
	size_t own = 0;
	for (size_t i = 0; i < fs.n; i++)
		own += !fs.common[i];
	fprintf(out, "mitsu %s", cmd->name);
	if (cmd->common & CORE_CMD_CONFIG)
		fprintf(out, " [-c FILE] [--data-dir DIR] [--set SECTION.KEY=VALUE]...");
	if (own > 6) {
		fprintf(out, " [options]");
	} else {
		for (size_t i = 0; i < fs.n; i++) {
			if (fs.common[i])
				continue;
			const struct core_flag *f = fs.f[i];
			fprintf(out, " [--%s%s%s]", f->name, f->arg ? " " : "",
				f->arg ? f->arg : "");
		}
	}
	if (cmd->operands && cmd->operands[0])
		fprintf(out, " %s", cmd->operands);
}

void core_command_usage(const struct core_command *cmd, FILE *out)
{
	struct flagset fs;
	flagset_init(&fs, cmd);
	fputs("usage: ", out);
	core_command_synopsis(cmd, out);
	fputs("\n\nflags:\n", out);
	for (size_t i = 0; i < fs.n; i++) {
		char label[128], note[160];
		flag_label(fs.f[i], label, sizeof(label));
		flag_option_note(fs.f[i], note, sizeof(note));
		fprintf(out, "  %-32s %s%s\n", label, flag_help(fs.f[i]), note);
	}
}

void core_command_help(const struct core_command *cmd, FILE *out)
{
	core_command_usage(cmd, out);
	fprintf(out, "\n%s\n", cmd->summary);
	if (cmd->sections) {
		fprintf(out, "\nConfiguration options (INI section and key; --set "
			     "section.key=value):\n");
		core_config_print_help(out, cmd->sections);
	}
}

void core_roff(FILE *out, const char *s)
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

void core_command_man(const struct core_command *cmd, FILE *out)
{
	struct flagset fs;
	flagset_init(&fs, cmd);
	fprintf(out, ".SS %s\n", cmd->name);
	char *syn = NULL;
	size_t synlen = 0;
	FILE *m = open_memstream(&syn, &synlen);
	core_command_synopsis(cmd, m);
	fclose(m);
	fputs(".B ", out);
	core_roff(out, syn);
	free(syn);
	fputs("\n.PP\n", out);
	core_roff(out, cmd->summary);
	fputc('\n', out);
	for (size_t i = 0; i < fs.n; i++) {
		if (fs.common[i])
			continue;
		char label[128], note[160];
		flag_label(fs.f[i], label, sizeof(label));
		flag_option_note(fs.f[i], note, sizeof(note));
		fputs(".TP\n.B ", out);
		core_roff(out, label + strspn(label, " "));
		fputc('\n', out);
		core_roff(out, flag_help(fs.f[i]));
		core_roff(out, note);
		fputc('\n', out);
	}
}

/* Sets an option from a flag; a LIST option given several times on the command line makes a
 * list (the first replaces the default or the config file's value). */
static int set_option(struct core_config *cfg, int opt, const char *value, const char *cmd,
		      const char *flag)
{
	char err[256];
	bool append = core_options[opt].type == CORE_OPT_LIST && cfg->list_from_cmdline[opt];
	if (core_config_set(cfg, opt, value, append, err, sizeof(err))) {
		fprintf(stderr, "mitsu %s: --%s: %s\n", cmd, flag, err);
		return -1;
	}
	cfg->set_on_cmdline[opt] = true;
	cfg->list_from_cmdline[opt] = true;
	return 0;
}

static int finish(struct core_config *cfg, const char *config_path, const char *cmd)
{
	char err[512];
	if (config_path && core_config_load(cfg, config_path, err, sizeof(err))) {
		fprintf(stderr, "mitsu %s: %s: %s\n", cmd, config_path, err);
		return -1;
	}
	enum log_level lvl;
	if (log_parse_level(core_cfg_str(cfg, OPT_CORE_LOG_LEVEL), &lvl)) {
		fprintf(stderr, "mitsu %s: core.log_level must be debug, info, warn or error\n",
			cmd);
		return -1;
	}
	log_set_level(lvl);
	return 0;
}

int core_command_parse(const struct core_command *cmd, int argc, char **argv,
		       struct core_config *cfg, core_flag_fn on_flag, void *arg, int *first)
{
	struct flagset fs;
	flagset_init(&fs, cmd);
	struct option longopts[LIB_ARRAY_LEN(fs.f) + 1];
	char shortopts[2 * LIB_ARRAY_LEN(fs.f) + 2];
	size_t ns = 0;
	shortopts[ns++] = ':'; /* a missing value is reported as ':' */
	for (size_t i = 0; i < fs.n; i++) {
		const struct core_flag *f = fs.f[i];
		longopts[i] = (struct option){f->name, f->arg ? required_argument : no_argument,
					      NULL, (int)(0x1000 + i)};
		if (f->shortname) {
			shortopts[ns++] = f->shortname;
			if (f->arg)
				shortopts[ns++] = ':';
		}
	}
	longopts[fs.n] = (struct option){0};
	shortopts[ns] = '\0';

	const char *config_path = NULL;
	char err[256];
	int c;
	optind = 0; /* GNU getopt: start afresh (tests parse several command lines) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct core_flag *f = NULL;
		bool common = false;
		for (size_t i = 0; i < fs.n && !f; i++) {
			if (c == (int)(0x1000 + i) ||
			    (fs.f[i]->shortname && c == fs.f[i]->shortname)) {
				f = fs.f[i];
				common = fs.common[i];
			}
		}
		if (!f) {
			if (c == ':')
				fprintf(stderr, "mitsu %s: %s needs a value\n", cmd->name,
					argv[optind - 1]);
			else
				fprintf(stderr, "mitsu %s: unknown flag %s\n", cmd->name,
					argv[optind - 1]);
			fprintf(stderr, "usage: ");
			core_command_synopsis(cmd, stderr);
			fprintf(stderr, "\n(mitsu help %s for the flags)\n", cmd->name);
			return 2;
		}
		const char *value = f->arg ? optarg : f->value;
		if (f->opt >= 0) {
			if (set_option(cfg, f->opt, value, cmd->name, f->name))
				return 2;
		} else if (common && f->id == COMMON_HELP) {
			core_command_help(cmd, stdout);
			return 1;
		} else if (common && f->id == COMMON_CONFIG) {
			config_path = optarg;
		} else if (common && f->id == COMMON_SET) {
			if (core_config_set_kv(cfg, optarg, err, sizeof(err))) {
				fprintf(stderr, "mitsu %s: %s\n", cmd->name, err);
				return 2;
			}
		} else if (!on_flag || on_flag(arg, f->id, value)) {
			return 2;
		}
	}
	if (!cmd->operands && optind < argc) {
		fprintf(stderr, "mitsu %s: unexpected argument %s\nusage: ", cmd->name,
			argv[optind]);
		core_command_synopsis(cmd, stderr);
		fputc('\n', stderr);
		return 2;
	}
	*first = optind;
	if ((cmd->common & CORE_CMD_CONFIG) && finish(cfg, config_path, cmd->name))
		return 2;
	return 0;
}
