/* `mitsu web`: the dashboard alone, over an existing store (a sensor's data directory, a copy
 * of one, or a store filled by mitsu scope and mitsu box), until SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>

#include "web/web_int.h"

static const struct core_flag web_flags[] = {
	{.name = "listen", .arg = "ADDR:PORT", .opt = OPT_WEB_LISTEN},
	{.name = "refresh", .arg = "SECONDS", .opt = OPT_WEB_REFRESH},
	{0},
};

static int web_main(int argc, char **argv);

const struct core_command web_command = {
	.name = "web",
	.summary = "The dashboard alone, over the store of --data-dir (read-only), as mitsu run "
		   "serves it: overview with the live event stream, honeypot, samples (one page "
		   "per sample), darknet, one page per address, and the JSON API under /api/.",
	.flags = web_flags,
	.common = CORE_CMD_CONFIG,
	.sections = "web",
	.main = web_main,
};

static int web_main(int argc, char **argv)
{
	struct core_config cfg;
	core_config_init(&cfg);
	int first, rc = core_command_parse(&web_command, argc, argv, &cfg, NULL, NULL, &first);
	if (rc || first != argc) {
		if (!rc) {
			core_command_usage(&web_command, stderr);
			rc = 2;
		}
		core_config_free(&cfg);
		return core_command_status(rc);
	}
	if (!core_cfg_str(&cfg, OPT_WEB_LISTEN)[0]) {
		fprintf(stderr, "mitsu web: web.listen is empty\n");
		core_config_free(&cfg);
		return 2;
	}
	/* The server's thread inherits this mask: the signals wait for sigwait below. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct web_server *w;
	if (web_start(&w, &cfg)) {
		core_config_free(&cfg);
		return 1;
	}
	int sig = 0;
	sigwait(&set, &sig);
	log_info("web", "signal %d: stopping", sig);
	web_stop(w);
	core_config_free(&cfg);
	return 0;
}
