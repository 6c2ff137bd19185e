/* Configuration from the one options table: defaults, INI files (libinih), --set. */
#include "core/core.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORE_OPT_ROW(id, sec, k, t, d, mn, mx, h) \
	[OPT_##id] = {.section = sec, \
		      .key = k, \
		      .type = CORE_OPT_##t, \
		      .def = d, \
		      .min = mn, \
		      .max = mx, \
		      .help = h},
const struct core_option core_options[OPT__COUNT] = {CORE_OPTIONS(CORE_OPT_ROW)};
#undef CORE_OPT_ROW

const char *core_opt_type_name(enum core_opt_type t)
{
	switch (t) {
	case CORE_OPT_STR: return "string";
	case CORE_OPT_INT: return "integer";
	case CORE_OPT_BOOL: return "boolean";
	case CORE_OPT_SIZE: return "size";
	case CORE_OPT_LIST: return "list";
	case CORE_OPT_SECS: return "seconds";
	}
	return "?";
}

/* Checks v against the option's type and bounds and parses it into *num (0 for STR, LIST). */
static int parse_value(const struct core_option *o, const char *v, long long *num, char *err,
		       size_t errlen)
{
	long long n;
	unsigned long long sz;
	bool b;
	*num = 0;
	switch (o->type) {
	case CORE_OPT_STR:
	case CORE_OPT_LIST: return 0;
	case CORE_OPT_BOOL:
		if (lib_parse_bool(v, &b) == 0) {
			*num = b;
			return 0;
		}
		snprintf(err, errlen, "%s.%s: '%s' is not a boolean", o->section, o->key, v);
		return -EINVAL;
	case CORE_OPT_INT:
		if (lib_parse_int(v, &n) == 0 && n >= o->min && n <= o->max) {
			*num = n;
			return 0;
		}
		snprintf(err, errlen, "%s.%s: '%s' is not an integer in [%lld, %lld]", o->section,
			 o->key, v, o->min, o->max);
		return -EINVAL;
	case CORE_OPT_SECS:
		if (lib_parse_secs(v, &n) == 0 && n >= o->min && n <= o->max) {
			*num = n;
			return 0;
		}
		snprintf(err, errlen,
			 "%s.%s: '%s' is not a duration in [%lld, %lld] seconds (300, 5m, 1h, 1d)",
			 o->section, o->key, v, o->min, o->max);
		return -EINVAL;
	case CORE_OPT_SIZE:
		if (lib_parse_size(v, &sz) == 0 && sz >= (unsigned long long)o->min &&
		    sz <= (unsigned long long)o->max) {
			*num = (long long)sz;
			return 0;
		}
		snprintf(err, errlen, "%s.%s: '%s' is not a size in [%lld, %lld] bytes", o->section,
			 o->key, v, o->min, o->max);
		return -EINVAL;
	}
	return -EINVAL;
}

void core_config_init(struct core_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	char err[256];
	for (int i = 0; i < OPT__COUNT; i++) {
		cfg->value[i] = xstrdup(core_options[i].def);
		if (parse_value(&core_options[i], cfg->value[i], &cfg->num[i], err, sizeof(err))) {
			/* a default outside its own bounds: a mistake in options.h */
			log_error("config", "options table: %s", err);
			abort();
		}
	}
}

void core_config_free(struct core_config *cfg)
{
	for (int i = 0; i < OPT__COUNT; i++)
		free(cfg->value[i]);
	memset(cfg, 0, sizeof(*cfg));
}

int core_config_find(const char *section, const char *key)
{
	for (int i = 0; i < OPT__COUNT; i++)
		if (strcmp(core_options[i].section, section) == 0 &&
		    strcmp(core_options[i].key, key) == 0)
			return i;
	return -1;
}

int core_config_set(struct core_config *cfg, int opt, const char *value, bool append, char *err,
		    size_t errlen)
{
	if (opt < 0 || opt >= OPT__COUNT) {
		snprintf(err, errlen, "no such option");
		return -EINVAL;
	}
	const struct core_option *o = &core_options[opt];
	long long num;
	int rc = parse_value(o, value, &num, err, errlen);
	if (rc)
		return rc;
	cfg->num[opt] = num;
	char *nv;
	if (o->type == CORE_OPT_LIST && append && cfg->value[opt][0])
		nv = xasprintf("%s,%s", cfg->value[opt], value);
	else
		nv = xstrdup(value);
	free(cfg->value[opt]);
	cfg->value[opt] = nv;
	return 0;
}

int core_config_set_kv(struct core_config *cfg, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	const char *dot = strchr(kv, '.');
	if (!eq || !dot || dot > eq) {
		snprintf(err, errlen, "--set wants section.key=value, not '%s'", kv);
		return -EINVAL;
	}
	char section[64], key[64];
	size_t sl = (size_t)(dot - kv), kl = (size_t)(eq - dot - 1);
	if (sl >= sizeof(section) || kl >= sizeof(key)) {
		snprintf(err, errlen, "unknown option in '%s'", kv);
		return -EINVAL;
	}
	memcpy(section, kv, sl);
	section[sl] = '\0';
	memcpy(key, dot + 1, kl);
	key[kl] = '\0';
	int opt = core_config_find(section, key);
	if (opt < 0) {
		snprintf(err, errlen, "unknown option %s.%s", section, key);
		return -EINVAL;
	}
	int rc = core_config_set(cfg, opt, eq + 1, false, err, errlen);
	if (rc == 0)
		cfg->set_on_cmdline[opt] = true;
	return rc;
}

struct ini_ctx {
	struct core_config *cfg;
	bool list_seen[OPT__COUNT];
	char *err;
	size_t errlen;
	int rc;
};

static int config_ini_line(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *c = user;
	if (c->rc)
		return 0;
	int opt = core_config_find(section, name);
	if (opt < 0) {
		snprintf(c->err, c->errlen, "unknown option %s.%s", section, name);
		c->rc = -EINVAL;
		return 0;
	}
	if (c->cfg->set_on_cmdline[opt])
		return 1;
	/* The first line of a list option replaces the default; later lines append. */
	bool append = c->list_seen[opt];
	c->list_seen[opt] = true;
	char e[256];
	if (core_config_set(c->cfg, opt, value, append, e, sizeof(e))) {
		snprintf(c->err, c->errlen, "%s", e);
		c->rc = -EINVAL;
		return 0;
	}
	return 1;
}

int core_config_load(struct core_config *cfg, const char *path, char *err, size_t errlen)
{
	struct ini_ctx c = {.cfg = cfg, .err = err, .errlen = errlen};
	int r = ini_parse(path, config_ini_line, &c);
	if (c.rc)
		return c.rc;
	if (r < 0) {
		snprintf(err, errlen, "cannot open %s", path);
		return -ENOENT;
	}
	if (r > 0) {
		snprintf(err, errlen, "line %d: syntax error", r);
		return -EINVAL;
	}
	return 0;
}

const char *core_cfg_str(const struct core_config *cfg, enum core_opt opt)
{
	return cfg->value[opt];
}

long long core_cfg_int(const struct core_config *cfg, enum core_opt opt)
{
	return cfg->num[opt];
}

uint64_t core_cfg_size(const struct core_config *cfg, enum core_opt opt)
{
	return (uint64_t)cfg->num[opt];
}

bool core_cfg_bool(const struct core_config *cfg, enum core_opt opt)
{
	return cfg->num[opt] != 0;
}

size_t core_cfg_list(const struct core_config *cfg, enum core_opt opt, char ***items)
{
	const char *s = cfg->value[opt];
	size_t cap = 4, n = 0;
	char **v = xcalloc(cap, sizeof(*v));
	while (*s) {
		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		const char *e = s;
		while (*e && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		if (e > s) {
			if (n + 1 >= cap) {
				cap *= 2;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n++] = xstrndup(s, (size_t)(e - s));
		}
		s = e;
	}
	v[n] = NULL;
	*items = v;
	return n;
}

void core_list_free(char **items)
{
	if (!items)
		return;
	for (char **p = items; *p; p++)
		free(*p);
	free(items);
}

/* Whether section is one of the comma-separated list ("*" or NULL: all). */
static bool section_listed(const char *list, const char *section)
{
	if (!list || strcmp(list, "*") == 0)
		return true;
	size_t n = strlen(section);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && memcmp(p, section, n) == 0)
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

void core_config_print_help(FILE *out, const char *sections)
{
	const char *section = "";
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct core_option *o = &core_options[i];
		if (!section_listed(sections, o->section))
			continue;
		if (strcmp(section, o->section) != 0) {
			section = o->section;
			fprintf(out, "\n[%s]\n", section);
		}
		fprintf(out, "  %s.%s (%s, default \"%s\")\n      %s\n", o->section, o->key,
			core_opt_type_name(o->type), o->def, o->help);
	}
}
