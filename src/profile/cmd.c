/* `mitsu profiles`: the device profiles of a folder as a table or as JSON lines. */
#include "profile/internal.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: mitsu profiles [-c FILE] [--set section.key=value] [--dir DIR] "
		     "[--format table|json]\n");
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

int profile_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CORE_CMDLINE_LONGOPTS,
		{"dir", required_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct core_config cfg;
	struct core_cmdline cl = {0};
	core_config_init(&cfg);
	const char *dir = NULL;
	bool json = false;
	int rc = 2, c;
	while ((c = getopt_long(argc, argv, CORE_CMDLINE_SHORTOPTS "d:f:h", longopts, NULL)) !=
	       -1) {
		int r = core_cmdline_option(&cfg, &cl, c, optarg);
		if (r < 0)
			goto out;
		if (r > 0)
			continue;
		switch (c) {
		case 'd': dir = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") && strcmp(optarg, "json")) {
				fprintf(stderr, "mitsu profiles: --format is table or json\n");
				goto out;
			}
			json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default: usage(stderr); goto out;
		}
	}
	if (optind < argc) {
		usage(stderr);
		goto out;
	}
	if (core_cmdline_finish(&cfg, &cl))
		goto out;
	if (!dir)
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
	if (profile_web_print(dir, json))
		rc = 1;
out:
	core_config_free(&cfg);
	return rc;
}
