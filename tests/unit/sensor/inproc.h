/* An in-process sensor on loopback for unit tests and the Telnet fuzz target: the real
 * listener, session and protocol code, driven by a client socket in the same thread. */
#ifndef MITSU_TEST_INPROC_H
#define MITSU_TEST_INPROC_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sensor/sensor_int.h"

struct inproc {
	uv_loop_t loop;
	struct core_config cfg;
	struct core_store store;
	struct core_bus *bus;
	struct capture_samples *samples;
	struct sensor *sn;
	int port;
	char dir[64];
};

/* Extra settings as "section.key=value" strings, NULL-terminated. */
static inline int inproc_start(struct inproc *ip, const char *const *sets)
{
	char err[256];
	snprintf(ip->dir, sizeof(ip->dir), "/tmp/mitsu-inproc-XXXXXX");
	if (!mkdtemp(ip->dir))
		return -1;
	core_config_init(&ip->cfg);
	static const char *const base[] = {
		"sensor.listen=telnet@127.0.0.1:0",
		"web.listen=",
		"telnet.fail_delay_ms=0",
		"capture.fetch=false",
		"box.auto=false",
		"sinks.jsonl=false",
		"core.log_level=error",
		NULL,
	};
	for (const char *const *p = base; *p; p++)
		if (core_config_set_kv(&ip->cfg, *p, err, sizeof(err)))
			return -1;
	for (const char *const *p = sets; p && *p; p++)
		if (core_config_set_kv(&ip->cfg, *p, err, sizeof(err)))
			return -1;
	core_config_set(&ip->cfg, OPT_CORE_DATA_DIR, ip->dir, false, err, sizeof(err));
	log_set_level(LOG_ERROR);
	uv_loop_init(&ip->loop);
	if (sensor_open(&ip->sn, &ip->loop, &ip->cfg, err, sizeof(err)) ||
	    core_store_open(&ip->store, ip->dir, false))
		return -1;
	/* the bus without sinks: tests watch events with core_bus_subscribe */
	ip->bus = core_bus_open(&ip->cfg, NULL);
	if (capture_samples_open(&ip->samples, &ip->store, ip->bus))
		return -1;
	sensor_attach(ip->sn, &(struct sensor_services){.bus = ip->bus, .samples = ip->samples});
	ip->port = sensor_listener_port(ip->sn, 0);
	return ip->port > 0 ? 0 : -1;
}

static inline void inproc_stop(struct inproc *ip)
{
	sensor_stop(ip->sn);
	while (uv_run(&ip->loop, UV_RUN_DEFAULT))
		;
	sensor_free(ip->sn);
	core_bus_flush(ip->bus);
	capture_samples_close(ip->samples);
	core_bus_close(ip->bus);
	core_store_close(&ip->store);
	uv_loop_close(&ip->loop);
	core_config_free(&ip->cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", ip->dir);
	if (system(cmd)) {
	}
}

static inline int inproc_connect(struct inproc *ip)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ip->port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Runs the loop a few turns and appends what the client can read to out (bounded). Returns
 * 0, or 1 once the server has closed the connection. */
static inline int inproc_pump(struct inproc *ip, int fd, struct buf *out)
{
	int closed = 0;
	for (int i = 0; i < 4; i++) {
		uv_run(&ip->loop, UV_RUN_NOWAIT);
		char tmp[65536];
		for (;;) {
			ssize_t r = read(fd, tmp, sizeof(tmp));
			if (r > 0) {
				if (out)
					buf_append(out, tmp, (size_t)r);
				continue;
			}
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				closed = 1;
			break;
		}
	}
	return closed;
}

#endif
