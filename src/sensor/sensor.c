/* The sensor object: profiles, listeners, the session table and its limits. It opens nothing
 * else: `mitsu run` (src/run) composes it with the store, the bus, capture and the rest. */
#include "sensor/sensor_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
		.evict_idle_ms = (uint64_t)core_cfg_int(c, OPT_LIMITS_EVICT_IDLE) * 1000,
		.budget = {[SENSOR_BUDGET_FILES] = core_cfg_size(c, OPT_LIMITS_VFS_TOTAL),
			   [SENSOR_BUDGET_MEMORY] =
				   core_cfg_size(c, OPT_LIMITS_SHELL_MEMORY_TOTAL)},
	};
}

int sensor_open(struct sensor **out, uv_loop_t *loop, const struct core_config *cfg, char *err,
		size_t errlen)
{
	struct sensor *sn = xcalloc(1, sizeof(*sn));
	*out = sn;
	sn->cfg = cfg;
	sn->loop = loop;
	set_limits(sn);
	sensor_srctab_init(&sn->sources, sn->limits.max_sessions + SENSOR_EVICT_SLACK);
	sensor_backlog_init(sn);
	sn->stale_ms = SENSOR_STALE_MS;
	sensor_park_init(sn);
	const char *dir = core_cfg_str(cfg, OPT_SENSOR_PROFILES_DIR);
	if (!dir[0])
		dir = profile_default_dir();
	char perr[512];
	if (profile_load_all(dir, &sn->profiles, perr, sizeof(perr)) ||
	    profile_web_load_all(dir, &sn->web_profiles, perr, sizeof(perr))) {
		snprintf(err, errlen, "profiles in %s: %s", dir, perr);
		return -EINVAL;
	}
	/* The devices behind the web profiles and their exploit signatures (src/webui). */
	struct webui_config wc = {
		.rules_dir = core_cfg_str(cfg, OPT_HTTP_RULES),
		.max_peers = (size_t)core_cfg_int(cfg, OPT_HTTP_MAX_PEERS),
		.nonce_ms = (uint64_t)core_cfg_int(cfg, OPT_HTTP_NONCE_TIMEOUT) * 1000,
	};
	if (webui_open(&sn->webui, &wc, err, errlen))
		return -EINVAL;
	return sensor_listeners_start(sn, err, errlen);
}

void sensor_attach(struct sensor *sn, const struct sensor_services *svc)
{
	sn->svc = *svc;
}

void sensor_stop(struct sensor *sn)
{
	if (!sn || sn->stopping)
		return;
	sn->stopping = true;
	sensor_listeners_stop(sn);
	sensor_sessions_shutdown(sn);
	sensor_backlog_stop(sn);
	sensor_park_stop(sn);
}

size_t sensor_sessions_open(const struct sensor *sn)
{
	return sn ? sn->nsessions : 0;
}

void sensor_free(struct sensor *sn)
{
	if (!sn)
		return;
	log_info(
		"sensor",
		"stopped: %llu sessions accepted, %llu refused (total limit), %llu refused "
		"(per-source limit), %llu refused (accept failed), %llu evicted",
		(unsigned long long)sn->stats.accepted, (unsigned long long)sn->stats.refused_total,
		(unsigned long long)sn->stats.refused_source,
		(unsigned long long)sn->stats.refused_error, (unsigned long long)sn->stats.evicted);
	if (sn->stale_waited)
		log_info("sensor", "%llu inputs of stale sessions waited for a later loop turn",
			 (unsigned long long)sn->stale_waited);
	if (sn->stats.gave_way[SENSOR_BUDGET_FILES] || sn->stats.gave_way[SENSOR_BUDGET_MEMORY])
		log_info("sensor",
			 "sessions that gave way: %llu (limits.vfs_total), %llu "
			 "(limits.shell_memory_total)",
			 (unsigned long long)sn->stats.gave_way[SENSOR_BUDGET_FILES],
			 (unsigned long long)sn->stats.gave_way[SENSOR_BUDGET_MEMORY]);
	/* Every module releases what it charged; a session freed still holding is a bug of the
	 * accounting, which would end other sessions for nothing. */
	for (int b = 0; b < SENSOR_BUDGETS; b++)
		if (sn->stats.unreleased[b])
			log_warn("sensor", "%llu sessions ended still holding budget %d",
				 (unsigned long long)sn->stats.unreleased[b], b);
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
