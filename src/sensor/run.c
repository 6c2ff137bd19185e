/* `mitsu run`: start-up, the loop, and a clean stop on SIGTERM/SIGINT. */
#include "sensor/sensor_int.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Events are written at most this long after they happen, in batches (see on_prepare). */
#define SENSOR_FLUSH_MS 25
#define SENSOR_FLUSH_EVENTS 2048

static void usage(FILE *out)
{
	fprintf(out, "usage: mitsu run [-c FILE] [--data-dir DIR] [--listen "
		     "PROTO@ADDR:PORT[/PROFILE]]...\n"
		     "                 [--set section.key=value]... [--log-level LEVEL]\n"
		     "Run 'mitsu help run' for every configuration option.\n");
}

static void flush_events(struct sensor *sn)
{
	core_bus_flush(sn->bus);
	core_store_commit(&sn->store);
	sn->last_flush_ms = lib_mono_ms();
}

static void on_flush_timer(uv_timer_t *t)
{
	flush_events(t->data);
}

/* At the end of a loop turn, queued events are written in one batch: one SQLite transaction,
 * one write to events.jsonl. Under load a turn handles only a few sessions, and a transaction
 * per turn would cost more than the events themselves, so a batch is written when
 * SENSOR_FLUSH_MS have passed since the last one or SENSOR_FLUSH_EVENTS are waiting; a timer
 * makes sure no event waits longer than SENSOR_FLUSH_MS when the sensor goes quiet. The stop
 * finishes here once the last session is gone. */
static void on_prepare(uv_prepare_t *h)
{
	struct sensor *sn = h->data;
	size_t pending = core_bus_pending(sn->bus);
	uint64_t now = lib_mono_ms();
	if (pending >= SENSOR_FLUSH_EVENTS ||
	    (pending && now - sn->last_flush_ms >= SENSOR_FLUSH_MS) || sn->stopping) {
		flush_events(sn);
		uv_timer_stop(&sn->flush_timer);
	} else if (pending && !uv_is_active((uv_handle_t *)&sn->flush_timer)) {
		uv_timer_start(&sn->flush_timer, on_flush_timer,
			       SENSOR_FLUSH_MS - (now - sn->last_flush_ms), 0);
	} else {
		core_store_commit(&sn->store); /* what other modules wrote this turn */
	}
	if (sn->stopping && sn->nsessions == 0 && !sn->stopped) {
		sn->stopped = true;
		capture_fetcher_close(sn->fetcher);
		sn->fetcher = NULL;
		box_queue_close(sn->box_queue);
		sn->box_queue = NULL;
		flush_events(sn);
		uv_close((uv_handle_t *)&sn->flush, NULL);
		uv_close((uv_handle_t *)&sn->flush_timer, NULL);
		if (sn->signals) {
			uv_close((uv_handle_t *)&sn->sigterm, NULL);
			uv_close((uv_handle_t *)&sn->sigint, NULL);
		}
	}
}

void sensor_stop(struct sensor *sn)
{
	if (sn->stopping)
		return;
	sn->stopping = true;
	sensor_listeners_stop(sn);
	sensor_sessions_shutdown(sn);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct sensor *sn = h->data;
	log_info("sensor", "signal %d: stopping (%zu sessions open)", signum, sn->nsessions);
	sensor_stop(sn);
}

static int drop_privileges(const char *user)
{
	if (!user[0] || geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_error("sensor", "core.user: no user %s", user);
		return -ENOENT;
	}
	if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid) || setuid(0) == 0) {
		log_error("sensor", "cannot drop privileges to %s", user);
		return -EPERM;
	}
	log_info("sensor", "running as %s", user);
	return 0;
}

static void set_limits(struct sensor *sn)
{
	const struct core_config *c = sn->cfg;
	sn->limits = (struct sensor_limits){
		.max_sessions = (size_t)core_cfg_int(c, OPT_LIMITS_MAX_SESSIONS),
		.max_per_source = (size_t)core_cfg_int(c, OPT_LIMITS_MAX_PER_SOURCE),
		.idle_ms = (uint64_t)core_cfg_int(c, OPT_LIMITS_IDLE_TIMEOUT) * 1000,
		.session_ms = (uint64_t)core_cfg_int(c, OPT_LIMITS_SESSION_TIMEOUT) * 1000,
		.max_input = core_cfg_size(c, OPT_LIMITS_MAX_INPUT),
		.max_line = (size_t)core_cfg_size(c, OPT_LIMITS_MAX_LINE),
		.max_output_queue = (size_t)core_cfg_size(c, OPT_LIMITS_MAX_OUTPUT_QUEUE),
		.max_output_total = core_cfg_size(c, OPT_LIMITS_MAX_OUTPUT_TOTAL),
	};
}

static int load_profiles(struct sensor *sn)
{
	const char *dir = core_cfg_str(sn->cfg, OPT_SENSOR_PROFILES_DIR);
	if (!dir[0])
		dir = profile_default_dir();
	char err[512];
	if (profile_load_all(dir, &sn->profiles, err, sizeof(err)) ||
	    profile_web_load_all(dir, &sn->web_profiles, err, sizeof(err))) {
		log_error("sensor", "profiles in %s: %s", dir, err);
		return -EINVAL;
	}
	struct webui_config wc = {
		.rules_dir = core_cfg_str(sn->cfg, OPT_HTTP_RULES),
		.max_peers = (size_t)core_cfg_int(sn->cfg, OPT_HTTP_MAX_PEERS),
		.nonce_ms = (uint64_t)core_cfg_int(sn->cfg, OPT_HTTP_NONCE_TIMEOUT) * 1000,
	};
	if (webui_open(&sn->webui, &wc, err, sizeof(err))) {
		log_error("sensor", "%s", err);
		return -EINVAL;
	}
	return 0;
}

int sensor_open(struct sensor **out, uv_loop_t *loop, struct core_config *cfg, bool signals)
{
	char err[512];
	struct sensor *sn = xcalloc(1, sizeof(*sn));
	*out = sn;
	sn->cfg = cfg;
	sn->loop = loop;
	set_limits(sn);
	sensor_srctab_init(&sn->sources, sn->limits.max_sessions);
	if (load_profiles(sn))
		return -EINVAL;
	if (core_store_open(&sn->store, core_cfg_str(cfg, OPT_CORE_DATA_DIR), false))
		return -EIO;
	sn->bus = core_bus_open(cfg, &sn->store);
	if (capture_samples_open(&sn->samples, &sn->store, sn->bus)) {
		log_error("sensor", "cannot open the sample store");
		return -EIO;
	}
	if (capture_fetcher_open(&sn->fetcher, sn->loop, cfg, sn->samples, sn->bus)) {
		log_error("sensor", "cannot start the downloader");
		return -EIO;
	}
	/* Every new ELF sample goes to the sandbox (box.auto), in child processes. */
	sn->box_queue = box_queue_open(sn->loop, cfg, &sn->store, sn->bus);
	if (!sn->box_queue) {
		log_error("sensor", "cannot open the sandbox queue");
		return -EIO;
	}
	if (sensor_listeners_start(sn, err, sizeof(err))) {
		log_error("sensor", "%s", err);
		return -EADDRINUSE;
	}
	if (web_start(&sn->web, cfg))
		return -EADDRINUSE;
	uv_prepare_init(sn->loop, &sn->flush);
	sn->flush.data = sn;
	uv_prepare_start(&sn->flush, on_prepare);
	uv_timer_init(sn->loop, &sn->flush_timer);
	sn->flush_timer.data = sn;
	sn->signals = signals;
	if (signals) {
		uv_signal_init(sn->loop, &sn->sigterm);
		uv_signal_init(sn->loop, &sn->sigint);
		sn->sigterm.data = sn->sigint.data = sn;
		uv_signal_start(&sn->sigterm, on_signal, SIGTERM);
		uv_signal_start(&sn->sigint, on_signal, SIGINT);
	}
	return 0;
}

void sensor_free(struct sensor *sn)
{
	if (!sn)
		return;
	/* Whatever is still open is closed; the loop then runs until the last handle is gone
	 * (on_prepare ends the sensor's own handles once no session is left). */
	sensor_stop(sn);
	if (!sn->flush.loop) {
		/* an early error: no loop turn will finish the stop */
		capture_fetcher_close(sn->fetcher);
		sn->fetcher = NULL;
		box_queue_close(sn->box_queue);
		sn->box_queue = NULL;
	}
	while (uv_run(sn->loop, UV_RUN_DEFAULT))
		;
	web_stop(sn->web);
	log_info("sensor",
		 "stopped: %llu sessions accepted, %llu refused (total limit), %llu refused "
		 "(per-source limit)",
		 (unsigned long long)sn->stats.accepted,
		 (unsigned long long)sn->stats.refused_total,
		 (unsigned long long)sn->stats.refused_source);
	capture_samples_close(sn->samples);
	core_bus_close(sn->bus);
	core_store_close(&sn->store);
	profile_set_free(&sn->profiles);
	profile_web_set_free(&sn->web_profiles);
	webui_close(sn->webui);
	sensor_srctab_free(&sn->sources);
	free(sn->listeners);
	free(sn);
}

int sensor_listener_port(const struct sensor *sn, size_t i)
{
	if (i >= sn->nlisteners)
		return -1;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (uv_tcp_getsockname(&sn->listeners[i].tcp, (struct sockaddr *)&ss, &len))
		return -1;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int sensor_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CORE_CMDLINE_LONGOPTS,
		{"listen", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct core_config cfg;
	struct core_cmdline cl = {0};
	core_config_init(&cfg);
	bool listen_given = false;
	int c, rc = 2;
	char err[512];
	while ((c = getopt_long(argc, argv, CORE_CMDLINE_SHORTOPTS "h", longopts, NULL)) != -1) {
		int r = core_cmdline_option(&cfg, &cl, c, optarg);
		if (r < 0)
			goto out_cfg;
		if (r > 0)
			continue;
		switch (c) {
		case 'l': {
			struct sensor_listen_spec spec;
			if (sensor_parse_listen(optarg, &spec, err, sizeof(err))) {
				fprintf(stderr, "mitsu run: %s\n", err);
				goto out_cfg;
			}
			core_config_set(&cfg, OPT_SENSOR_LISTEN, optarg, listen_given, err,
					sizeof(err));
			cfg.set_on_cmdline[OPT_SENSOR_LISTEN] = true;
			listen_given = true;
			break;
		}
		case 'h':
			usage(stdout);
			rc = 0;
			goto out_cfg;
		default: usage(stderr); goto out_cfg;
		}
	}
	if (optind < argc) {
		usage(stderr);
		goto out_cfg;
	}
	if (core_cmdline_finish(&cfg, &cl))
		goto out_cfg;

	signal(SIGPIPE, SIG_IGN);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct sensor *sn;
	rc = 1;
	if (sensor_open(&sn, &loop, &cfg, true) == 0 &&
	    drop_privileges(core_cfg_str(&cfg, OPT_CORE_USER)) == 0) {
		log_info("sensor", "sensor %s started, data in %s",
			 core_cfg_str(&cfg, OPT_SENSOR_NAME),
			 core_cfg_str(&cfg, OPT_CORE_DATA_DIR));
		uv_run(&loop, UV_RUN_DEFAULT);
		rc = 0;
	}
	sensor_free(sn);
	if (uv_loop_close(&loop))
		log_warn("sensor", "the loop still had handles at exit");
out_cfg:
	core_config_free(&cfg);
	return rc;
}
