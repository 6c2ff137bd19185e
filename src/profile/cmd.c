/* `mitsu profiles`: the device profiles of a folder as a table or as JSON lines. */
#include "profile/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

enum { F_FORMAT };
static const struct core_flag profiles_flags[] = {
	{.name = "dir", .arg = "DIR", .opt = OPT_SENSOR_PROFILES_DIR},
	{.name = "format",
	 .arg = "table|json",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "a table (default) or one JSON object per profile"},
	{0},
};

static int profiles_main(int argc, char **argv);

const struct core_command profile_list_command = {
	.name = "profiles",
	.summary = "List the device profiles: name, CPU, endianness, category, BusyBox version, "
		   "description.",
	.flags = profiles_flags,
	.common = CORE_CMD_CONFIG,
	.main = profiles_main,
};

static int on_flag(void *arg, int id, const char *v)
{
	if (strcmp(v, "table") && strcmp(v, "json")) {
		fprintf(stderr, "mitsu profiles: --format is table or json\n");
		return -1;
	}
	*(bool *)arg = strcmp(v, "json") == 0;
	return 0;
}

static const char *endianness(const struct profile *p)
{
	return p->elf.data == 2 ? "big" : "little";
}

static void print_json(const struct profile *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "arch", json_string(p->cpu_arch));
	json_object_set_new(o, "endianness", json_string(endianness(p)));
	json_object_set_new(o, "category", json_string(p->category));
	json_object_set_new(o, "description", json_string(p->description));
	json_object_set_new(o, "vendor", json_string(p->vendor));
	json_object_set_new(o, "busybox", json_string(p->busybox_version));
	json_object_set_new(o, "uname_m", json_string(p->uname_m));
	json_object_set_new(o, "uname_r", json_string(p->uname_r));
	json_object_set_new(o, "hostname", json_string(p->hostname));
	json_object_set_new(o, "e_machine", json_integer(p->elf.machine));
	json_object_set_new(o, "credentials", json_integer((json_int_t)p->ncreds));
	json_object_set_new(o, "applets", json_integer((json_int_t)p->napplets));
	json_object_set_new(o, "files", json_integer((json_int_t)p->nnodes));
	json_object_set_new(o, "bytes", json_integer((json_int_t)p->bytes));
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", line);
	free(line);
	json_decref(o);
}

static int profiles_main(int argc, char **argv)
{
	struct core_config cfg;
	core_config_init(&cfg);
	const char *dir;
	bool json = false;
	int first, rc = core_command_parse(&profile_list_command, argc, argv, &cfg, on_flag, &json,
					   &first);
	if (rc) {
		rc = core_command_status(rc);
		goto out;
	}
	dir = profile_dir(core_cfg_str(&cfg, OPT_SENSOR_PROFILES_DIR));

	char err[512];
	char **names;
	size_t n;
	if (profile_scan_dir(dir, &names, &n, err, sizeof(err))) {
		fprintf(stderr, "mitsu profiles: %s\n", err);
		rc = 1;
		goto out;
	}
	/* Every good profile is listed; each bad one is reported and makes the exit status 1. */
	rc = 0;
	if (!json)
		printf("%-16s %-6s %-6s %-10s %-8s %s\n", "NAME", "ARCH", "ENDIAN", "CATEGORY",
		       "BUSYBOX", "DESCRIPTION");
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		struct profile *p;
		if (profile_load(path, &p, err, sizeof(err))) {
			fflush(stdout);
			fprintf(stderr, "mitsu profiles: %s\n", err);
			rc = 1;
		} else {
			if (json)
				print_json(p);
			else
				printf("%-16s %-6s %-6s %-10s %-8s %s\n", p->name, p->cpu_arch,
				       endianness(p), p->category, p->busybox_version,
				       p->description);
			profile_free(p);
		}
		free(path);
		free(names[i]);
	}
	free(names);
out:
	core_config_free(&cfg);
	return rc;
}
