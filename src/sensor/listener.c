/* Listeners: PROTO@ADDR:PORT[/PROFILE] specs, the protocol table, binding. */
#include "sensor/sensor_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Connections the kernel may hold for a listener before the loop accepts them (the kernel caps
 * it at net.core.somaxconn). */
#define SENSOR_LISTEN_BACKLOG 4096

/* Every protocol module the sensor offers. */
static const struct sensor_proto *const protocols[] = {
	&sensor_proto_telnet,
	&sensor_proto_http,
};

const struct sensor_proto *sensor_proto_find(const char *name)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(protocols); i++)
		if (strcmp(protocols[i]->name, name) == 0)
			return protocols[i];
	return NULL;
}

int sensor_parse_listen(const char *s, struct sensor_listen_spec *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *at = strchr(s, '@');
	if (!at || at == s || (size_t)(at - s) >= sizeof(out->proto)) {
		snprintf(err, errlen, "listener '%s': want PROTO@ADDR:PORT[/PROFILE]", s);
		return -EINVAL;
	}
	memcpy(out->proto, s, (size_t)(at - s));
	const char *hp = at + 1;
	const char *slash = strchr(hp, '/');
	char hostport[128];
	size_t hl = slash ? (size_t)(slash - hp) : strlen(hp);
	if (hl >= sizeof(hostport)) {
		snprintf(err, errlen, "listener '%s': address too long", s);
		return -EINVAL;
	}
	memcpy(hostport, hp, hl);
	hostport[hl] = '\0';
	if (slash) {
		if (!slash[1] || lib_strlcpy(out->profile, slash + 1, sizeof(out->profile)) >=
					 sizeof(out->profile)) {
			snprintf(err, errlen, "listener '%s': bad profile name", s);
			return -EINVAL;
		}
	}
	if (lib_parse_hostport(hostport, out->addr, sizeof(out->addr), &out->port)) {
		snprintf(err, errlen, "listener '%s': want ADDR:PORT ([V6]:PORT for IPv6)", s);
		return -EINVAL;
	}
	return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct sensor_listener *l = server->data;
	if (status < 0) {
		/* Out of descriptors under a flood: libuv has closed what was waiting. Said once;
		 * the count is logged when the sensor stops (peers must not fill the log). */
		if (l->sensor->stats.refused_error++ == 0)
			log_warn("sensor",
				 "accept on %s:%d: %s (connections are refused while it lasts)",
				 l->spec.addr, l->spec.port, uv_strerror(status));
		return;
	}
	sensor_session_accept(l);
}

/* A new loop turn: each listener may accept its batch again. */
static void on_turn(uv_check_t *h)
{
	struct sensor *sn = h->data;
	for (size_t i = 0; i < sn->nlisteners; i++)
		sn->listeners[i].accepted_turn = 0;
	sn->stale_turn = 0;
	sn->park_turn = 0;
	sensor_listeners_resume(sn);
}

/* A listener bound to one address gives its connections that address: they need no
 * getsockname(2) each. A wildcard listener's connections ask (the address they reached). */
static void local_address(struct sensor_listener *l)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len))
		return;
	static const uint8_t any6[16];
	if (ss.ss_family == AF_INET)
		l->local_known = ((struct sockaddr_in *)&ss)->sin_addr.s_addr != htonl(INADDR_ANY);
	else if (ss.ss_family == AF_INET6)
		l->local_known = memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, any6, 16) != 0;
	if (l->local_known)
		sensor_addr_text(&ss, l->local_ip, sizeof(l->local_ip), &l->local_port);
}

int sensor_listeners_start(struct sensor *sn, char *err, size_t errlen)
{
	uv_check_init(sn->loop, &sn->turn);
	sn->turn.data = sn;
	uv_check_start(&sn->turn, on_turn);
	uv_unref((uv_handle_t *)&sn->turn); /* the listeners keep the loop alive, not this */
	sn->turn_init = true;
	char **items;
	size_t n = core_cfg_list(sn->cfg, OPT_SENSOR_LISTEN, &items);
	int rc = 0;
	sn->listeners = xcalloc(n ? n : 1, sizeof(*sn->listeners));
	for (size_t i = 0; i < n; i++) {
		struct sensor_listener *l = &sn->listeners[i];
		l->sensor = sn;
		if ((rc = sensor_parse_listen(items[i], &l->spec, err, errlen)))
			break;
		l->proto = sensor_proto_find(l->spec.proto);
		if (!l->proto) {
			snprintf(err, errlen, "listener '%s': no protocol '%s'", items[i],
				 l->spec.proto);
			rc = -EINVAL;
			break;
		}
		bool web = l->proto->web;
		const char *pname = l->spec.profile[0]
					    ? l->spec.profile
					    : core_cfg_str(sn->cfg, web ? OPT_HTTP_PROFILE
									: OPT_SENSOR_PROFILE);
		l->profile = profile_set_find(web ? &sn->web_profiles : &sn->profiles, pname);
		if (!l->profile) {
			snprintf(err, errlen, "listener '%s': no profile '%s' (see mitsu profiles)",
				 items[i], pname);
			rc = -EINVAL;
			break;
		}
		struct sockaddr_storage ss;
		if (uv_ip4_addr(l->spec.addr, l->spec.port, (struct sockaddr_in *)&ss) &&
		    uv_ip6_addr(l->spec.addr, l->spec.port, (struct sockaddr_in6 *)&ss)) {
			snprintf(err, errlen, "listener '%s': '%s' is not an IP address", items[i],
				 l->spec.addr);
			rc = -EINVAL;
			break;
		}
		uv_tcp_init(sn->loop, &l->tcp);
		l->tcp.data = l;
		sn->nlisteners = i + 1;
		int r = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0);
		/* Accepted sockets inherit TCP_NODELAY from the listener (Linux). */
		if (!r)
			r = uv_tcp_nodelay(&l->tcp, 1);
		if (!r)
			r = uv_listen((uv_stream_t *)&l->tcp, SENSOR_LISTEN_BACKLOG, on_connection);
		if (!r)
			local_address(l);
		if (r) {
			snprintf(err, errlen, "listener '%s': %s", items[i], uv_strerror(r));
			rc = -EADDRINUSE;
			break;
		}
		log_info("sensor", "%s on %s:%d, profile %s", l->proto->name, l->spec.addr,
			 l->spec.port, l->profile->name);
	}
	core_list_free(items);
	return rc;
}

void sensor_listeners_stop(struct sensor *sn)
{
	if (sn->turn_init && !uv_is_closing((uv_handle_t *)&sn->turn))
		uv_close((uv_handle_t *)&sn->turn, NULL);
	for (size_t i = 0; i < sn->nlisteners; i++)
		if (!uv_is_closing((uv_handle_t *)&sn->listeners[i].tcp))
			uv_close((uv_handle_t *)&sn->listeners[i].tcp, NULL);
}
