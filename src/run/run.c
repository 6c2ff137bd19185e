/* `mitsu run`: the composition of the sensor. The order is p0f's: bind the listeners, drop
 * privileges, then open everything else (the store, the event bus and its sinks, the sample
 * store, the downloader, the sandbox queue, the dashboard) as the user the sensor runs as; then
 * run the loop, flush events in batches, and stop cleanly on SIGTERM or SIGINT. */
#include "run/run.h"
#include "run/turns.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "box/box.h"
#include "capture/capture.h"
#include "ident/ident.h"
#include "sensor/sensor.h"
#include "web/web.h"

/* Events are written at most this long after they happen, in batches (see on_prepare). */
#define RUN_FLUSH_MS 25
#define RUN_FLUSH_EVENTS 2048
/* Descriptors beyond one per session: the store, events.jsonl, downloads, sandbox runs, the
 * dashboard, and sessions closing after evictions. */
#define RUN_FD_RESERVE 2048

/* Everything `mitsu run` opened, in the order it opens them. */
struct run {
	uv_loop_t loop;
	const struct core_config *cfg;
	struct sensor *sensor;
	struct core_store store;
	bool store_open;
	struct core_bus *bus;
	struct capture_samples *samples;
	struct capture_fetcher *fetcher;
	struct box_queue *box_queue;
	struct ident_auto *ident_auto; /* the scan-back (ident.auto), or NULL */
	struct web_server *web;
	uv_prepare_t flush;
	uv_timer_t flush_timer;
	uint64_t last_flush_ms;
	uv_signal_t sigterm, sigint;
	struct run_turns turns; /* core.loop_stats */
	bool handles;           /* flush and flush_timer are initialised */
	bool signals;           /* sigterm and sigint are initialised */
	bool stopping;          /* a signal came: the sensor is stopping */
	bool stopped;           /* the last session is gone and run's own handles are closing */
};

/* The queued events to the store's writer; the sinks get them once they are committed. */
static void flush_events(struct run *r)
{
	core_bus_flush(r->bus);
	r->last_flush_ms = lib_mono_ms();
}

static void close_handles(struct run *r)
{
	r->stopped = true;
	if (r->handles) {
		uv_close((uv_handle_t *)&r->flush, NULL);
		uv_close((uv_handle_t *)&r->flush_timer, NULL);
	}
	if (r->signals) {
		uv_close((uv_handle_t *)&r->sigterm, NULL);
		uv_close((uv_handle_t *)&r->sigint, NULL);
	}
	r->handles = r->signals = false;
	run_turns_stop(&r->turns);
	core_store_unwatch(&r->store);
}

static void on_flush_timer(uv_timer_t *t)
{
	flush_events(t->data);
}

/* The stop's last step, once no session is left: the downloader and the sandbox queue end,
 * the last events are written, run's own handles close and the loop can return. */
static void finish_stop(struct run *r)
{
	r->stopped = true;
	capture_fetcher_close(r->fetcher);
	r->fetcher = NULL;
	box_queue_close(r->box_queue);
	r->box_queue = NULL;
	ident_auto_close(r->ident_auto);
	r->ident_auto = NULL;
	flush_events(r);
	close_handles(r);
}

/* At the end of a loop turn, queued events are written in one batch: one job of the store's
 * writer (one transaction), then one write to events.jsonl. Under load a turn handles only a
 * few sessions, and a batch per turn would cost more than the events themselves, so one is
 * written when
 * RUN_FLUSH_MS have passed since the last one or RUN_FLUSH_EVENTS are waiting; a timer makes
 * sure no event waits longer than RUN_FLUSH_MS when the sensor goes quiet. The stop finishes
 * here once the last session is gone. */
static void on_prepare(uv_prepare_t *h)
{
	struct run *r = h->data;
	size_t pending = core_bus_pending(r->bus);
	uint64_t now = lib_mono_ms();
	if (pending >= RUN_FLUSH_EVENTS || (pending && now - r->last_flush_ms >= RUN_FLUSH_MS) ||
	    r->stopping) {
		flush_events(r);
		uv_timer_stop(&r->flush_timer);
	} else if (pending && !uv_is_active((uv_handle_t *)&r->flush_timer)) {
		uv_timer_start(&r->flush_timer, on_flush_timer,
			       RUN_FLUSH_MS - (now - r->last_flush_ms), 0);
	}
	if (r->stopping && sensor_sessions_open(r->sensor) == 0 && !r->stopped)
		finish_stop(r);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct run *r = h->data;
	log_info("run", "signal %d: stopping (%zu sessions open)", signum,
		 sensor_sessions_open(r->sensor));
	r->stopping = true;
	/* What the loop does while every session closes is the stop's, not the load's. */
	run_turns_stop(&r->turns);
	sensor_stop(r->sensor);
}

/* Every session is a socket: the soft limit of descriptors goes up to the hard one, and as
 * root (before the privileges are dropped) the hard one to what limits.max_sessions needs.
 * Below that, connections beyond the limit are refused (counted, said once). */
static void raise_fd_limit(const struct core_config *cfg)
{
	rlim_t need = (rlim_t)core_cfg_int(cfg, OPT_LIMITS_MAX_SESSIONS) + RUN_FD_RESERVE;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need &&
	    setrlimit(RLIMIT_NOFILE, &(struct rlimit){need, need}) == 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < need)
		log_info("run",
			 "%llu file descriptors: fewer sessions than limits.max_sessions can "
			 "be open (raise LimitNOFILE)",
			 (unsigned long long)rl.rlim_cur);
}

static int drop_privileges(const char *user)
{
	if (!user[0] || geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_error("run", "core.user: no user %s", user);
		return -ENOENT;
	}
	if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid) || setuid(0) == 0) {
		log_error("run", "cannot drop privileges to %s", user);
		return -EPERM;
	}
	log_info("run", "running as %s", user);
	return 0;
}

/* Everything but the listeners, opened as the user the sensor runs as. */
static int open_services(struct run *r)
{
	const struct core_config *cfg = r->cfg;
	if (core_store_open(&r->store, core_cfg_str(cfg, OPT_CORE_DATA_DIR), false))
		return -EIO;
	r->store_open = true;
	if (core_store_watch(&r->store, &r->loop)) {
		log_error("run", "cannot watch the store from the loop");
		return -EIO;
	}
	r->bus = core_bus_open(cfg, &r->store);
	if (capture_samples_open(&r->samples, &r->loop, &r->store, r->bus)) {
		log_error("run", "cannot open the sample store");
		return -EIO;
	}
	if (capture_fetcher_open(&r->fetcher, &r->loop, cfg, r->samples, r->bus)) {
		log_error("run", "cannot start the downloader");
		return -EIO;
	}
	/* Every new ELF sample goes to the sandbox (box.auto), in child processes. */
	r->box_queue = box_queue_open(&r->loop, cfg, &r->store, r->bus);
	if (!r->box_queue) {
		log_error("run", "cannot open the sandbox queue");
		return -EIO;
	}
	/* Attacking sources probed back (ident.auto, off by default; connects out). */
	r->ident_auto = ident_auto_open(&r->loop, cfg, r->bus);
	if (web_start(&r->web, cfg))
		return -EADDRINUSE;
	return 0;
}

/* Before anything slow is opened: a SIGTERM during start-up (mitsu.db being migrated,
 * events.jsonl catching up) waits for the loop and stops the sensor cleanly, instead of
 * killing it halfway. */
static void start_signals(struct run *r)
{
	uv_signal_init(&r->loop, &r->sigterm);
	uv_signal_init(&r->loop, &r->sigint);
	r->sigterm.data = r->sigint.data = r;
	uv_signal_start(&r->sigterm, on_signal, SIGTERM);
	uv_signal_start(&r->sigint, on_signal, SIGINT);
	r->signals = true;
}

static void start_handles(struct run *r)
{
	uv_prepare_init(&r->loop, &r->flush);
	r->flush.data = r;
	uv_prepare_start(&r->flush, on_prepare);
	uv_timer_init(&r->loop, &r->flush_timer);
	r->flush_timer.data = r;
	r->handles = true;
	run_turns_start(&r->turns, &r->loop, (uint64_t)core_cfg_int(r->cfg, OPT_CORE_LOOP_STATS));
}

/* Closes what is open, in reverse order. The loop is run until every handle is closed. */
static void run_close(struct run *r)
{
	if (!r->stopped) {
		sensor_stop(r->sensor);
		capture_fetcher_close(r->fetcher);
		box_queue_close(r->box_queue);
		ident_auto_close(r->ident_auto);
		if (r->handles) {
			/* sessions may still be closing: their last events go out below */
			r->stopping = true;
			while (sensor_sessions_open(r->sensor) && uv_run(&r->loop, UV_RUN_ONCE))
				;
		}
		if (!r->stopped)
			close_handles(r);
	}
	core_store_unwatch(&r->store);
	while (uv_run(&r->loop, UV_RUN_DEFAULT))
		;
	web_stop(r->web);
	/* What is still on its way (samples being stored, their events) goes out now, while
	 * everything their callbacks use is still open. */
	if (r->bus)
		core_bus_drain(r->bus);
	sensor_free(r->sensor);
	capture_samples_close(r->samples);
	core_bus_close(r->bus);
	if (r->store_open)
		core_store_close(&r->store);
	if (uv_loop_close(&r->loop))
		log_warn("run", "the loop still had handles at exit");
}

enum { F_LISTEN };
static const struct core_flag run_flags[] = {
	{.name = "listen",
	 .shortname = 'l',
	 .arg = "PROTO@ADDR:PORT[/PROFILE]",
	 .opt = CORE_FLAG_OWN,
	 .id = F_LISTEN,
	 .help = "a listener (repeatable); replaces sensor.listen of the config file"},
	{0},
};

static int run_main(int argc, char **argv);

const struct core_command run_command = {
	.name = "run",
	.summary = "Run the sensor: honeypot listeners, malware capture, sandbox queue and "
		   "dashboard. SIGTERM or SIGINT stops it cleanly.",
	.flags = run_flags,
	.common = CORE_CMD_CONFIG,
	.sections = "*",
	.main = run_main,
};

/* --listen: checked at once, then added to sensor.listen (the first replaces the list). */
static int on_flag(void *arg, int id, const char *v)
{
	struct core_config *cfg = arg;
	struct sensor_listen_spec spec;
	char err[512];
	if (sensor_parse_listen(v, &spec, err, sizeof(err)) ||
	    core_config_set(cfg, OPT_SENSOR_LISTEN, v, cfg->list_from_cmdline[OPT_SENSOR_LISTEN],
			    err, sizeof(err))) {
		fprintf(stderr, "mitsu run: %s\n", err);
		return -1;
	}
	cfg->set_on_cmdline[OPT_SENSOR_LISTEN] = true;
	cfg->list_from_cmdline[OPT_SENSOR_LISTEN] = true;
	return 0;
}

static int run_main(int argc, char **argv)
{
	struct core_config cfg;
	core_config_init(&cfg);
	int first, rc = core_command_parse(&run_command, argc, argv, &cfg, on_flag, &cfg, &first);
	if (rc) {
		core_config_free(&cfg);
		return core_command_status(rc);
	}
	signal(SIGPIPE, SIG_IGN);
	struct run r = {.cfg = &cfg};
	uv_loop_init(&r.loop);
	char err[512];
	rc = 1;
	raise_fd_limit(&cfg);
	if (sensor_open(&r.sensor, &r.loop, &cfg, err, sizeof(err))) {
		log_error("run", "%s", err);
	} else if (drop_privileges(core_cfg_str(&cfg, OPT_CORE_USER)) == 0) {
		start_signals(&r);
		if (open_services(&r) == 0) {
			sensor_attach(r.sensor, &(struct sensor_services){.bus = r.bus,
									  .samples = r.samples,
									  .fetcher = r.fetcher});
			start_handles(&r);
			log_info("run", "sensor %s started, data in %s",
				 core_cfg_str(&cfg, OPT_SENSOR_NAME),
				 core_cfg_str(&cfg, OPT_CORE_DATA_DIR));
			uv_run(&r.loop, UV_RUN_DEFAULT);
			rc = 0;
		}
	}
	run_close(&r);
	core_config_free(&cfg);
	return rc;
}
