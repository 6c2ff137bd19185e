/* ident: targets as users write them: an address, an IPv4 CIDR, or PROBE://ADDR:PORT for one
 * service of one host. */
#include "ident/ident_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int parse_service(const char *spec, const char *sep, struct ident_target *t, char *err,
			 size_t errlen)
{
	char name[16];
	size_t nl = (size_t)(sep - spec);
	if (nl >= sizeof(name)) {
		snprintf(err, errlen, "%s: unknown probe", spec);
		return -EINVAL;
	}
	memcpy(name, spec, nl);
	name[nl] = '\0';
	t->kind = ident_probe_find(name);
	if (t->kind < 0) {
		snprintf(err, errlen,
			 "%s: unknown probe %s (telnet, http, https, rtsp, ftp, ssh, upnp)", spec,
			 name);
		return -EINVAL;
	}
	char host[64];
	if (lib_parse_hostport(sep + 3, host, sizeof(host), &t->port) || t->port <= 0 ||
	    t->port > 65535) {
		snprintf(err, errlen, "%s: want %s://ADDR:PORT", spec, name);
		return -EINVAL;
	}
	if (parse_addr(host, &t->base)) {
		snprintf(err, errlen, "%s: %s is not an IP address", spec, host);
		return -EINVAL;
	}
	t->count = 1;
	return 0;
}

static int parse_cidr(const char *spec, const char *slash, struct ident_target *t, char *err,
		      size_t errlen)
{
	char host[64];
	size_t hl = (size_t)(slash - spec);
	long long bits;
	if (hl >= sizeof(host) || lib_parse_int(slash + 1, &bits)) {
		snprintf(err, errlen, "%s: not a CIDR", spec);
		return -EINVAL;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (parse_addr(host, &t->base) || t->base.ss_family != AF_INET || bits < 0 || bits > 32) {
		snprintf(err, errlen, "%s: only IPv4 CIDRs (ADDR/0..32) are expanded", spec);
		return -EINVAL;
	}
	uint64_t count = 1ull << (32 - bits);
	if (count > IDENT_MAX_CIDR_HOSTS) {
		snprintf(err, errlen, "%s: %llu addresses, more than %u (IDENT_MAX_CIDR_HOSTS)",
			 spec, (unsigned long long)count, IDENT_MAX_CIDR_HOSTS);
		return -E2BIG;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)&t->base;
	uint32_t mask = bits ? ~0u << (32 - bits) : 0;
	in->sin_addr.s_addr = htonl(ntohl(in->sin_addr.s_addr) & mask);
	t->count = count;
	return 0;
}

int ident_target_parse(const char *spec, struct ident_target *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	const char *sep = strstr(spec, "://");
	if (sep)
		return parse_service(spec, sep, t, err, errlen);
	const char *slash = strchr(spec, '/');
	if (slash)
		return parse_cidr(spec, slash, t, err, errlen);
	if (parse_addr(spec, &t->base)) {
		snprintf(err, errlen, "%s: not an address, CIDR or PROBE://ADDR:PORT", spec);
		return -EINVAL;
	}
	t->count = 1;
	return 0;
}

void ident_target_nth(const struct ident_target *t, uint64_t i, struct sockaddr_storage *out)
{
	*out = t->base;
	if (out->ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		in->sin_addr.s_addr = htonl(ntohl(in->sin_addr.s_addr) + (uint32_t)i);
	}
}
