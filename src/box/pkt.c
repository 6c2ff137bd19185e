/* Analysis of the frames the sample puts on its link (captured in the fake internet): ARP
 * sweeps, TCP SYN scans (per port, distinct targets, rate, Mirai's seq = destination
 * fingerprint), traffic by destination class (LAN, gateway, RFC 1918, internet...), and flood
 * candidates (a space-saving top-k of destinations). Frames are parsed with bounds-checked
 * reads; nothing is cast onto packet bytes. */
#include "box/internal.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ a bounded set of keys */

void box_set_init(struct box_set *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
	size_t cap = 64;
	while (cap < max * 2)
		cap *= 2;
	s->cap = cap;
	s->slots = xcalloc(cap, sizeof(uint64_t));
	lib_random(s->key, sizeof(s->key));
}

void box_set_free(struct box_set *s)
{
	free(s->slots);
	s->slots = NULL;
}

/* Adds key; returns 1 if it was new, 0 if known, -1 if the set is full (counted as saturated). */
int box_set_add(struct box_set *s, uint64_t key)
{
	uint64_t k = key + 1; /* 0 marks an empty slot */
	if (k == 0)
		k = 1;
	uint64_t h = lib_siphash(&k, sizeof(k), s->key);
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == k)
			return 0;
		if (s->slots[i] == 0) {
			if (s->count >= s->max) {
				s->saturated = true;
				return -1;
			}
			s->slots[i] = k;
			s->count++;
			return 1;
		}
	}
}

/* ------------------------------------------------------------------ frames */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct box_pkt *box_pkt_new(const uint8_t own_mac[6])
{
	struct box_pkt *a = xcalloc(1, sizeof(*a));
	memcpy(a->own_mac, own_mac, 6);
	box_set_init(&a->arp_unanswered, 256);
	box_set_init(&a->pairs, BOX_DISTINCT_MAX);
	box_set_init(&a->targets, BOX_DISTINCT_MAX);
	box_set_init(&a->lan_targets, 256);
	box_set_init(&a->rfc1918_targets, BOX_DISTINCT_MAX);
	box_set_init(&a->icmp_targets, BOX_DISTINCT_MAX);
	a->port_targets = xcalloc(2 * 65536, sizeof(uint32_t));
	return a;
}

void box_pkt_free(struct box_pkt *a)
{
	if (!a)
		return;
	box_set_free(&a->arp_unanswered);
	box_set_free(&a->pairs);
	box_set_free(&a->targets);
	box_set_free(&a->lan_targets);
	box_set_free(&a->rfc1918_targets);
	box_set_free(&a->icmp_targets);
	free(a->port_targets);
	free(a);
}

static bool answered(uint32_t ip)
{
	if (ip == BOX_GATEWAY_IP)
		return true;
	for (size_t i = 0; i < box_ndevices; i++)
		if (box_devices[i].ip == ip)
			return true;
	return false;
}

/* Space-saving top-k: a known destination adds to its count; a new one takes a free slot or
 * replaces the smallest (inheriting its count as the error bound), so heavy hitters stay. */
static struct box_top *top_get(struct box_pkt *a, uint32_t ip)
{
	size_t min = 0;
	for (size_t i = 0; i < a->ntop; i++) {
		if (a->top[i].ip == ip)
			return &a->top[i];
		if (a->top[i].packets < a->top[min].packets)
			min = i;
	}
	if (a->ntop < BOX_TOP_TARGETS) {
		struct box_top *t = &a->top[a->ntop++];
		memset(t, 0, sizeof(*t));
		t->ip = ip;
		return t;
	}
	struct box_top *t = &a->top[min];
	uint64_t base = t->packets;
	memset(t, 0, sizeof(*t));
	t->ip = ip;
	t->packets = base;
	return t;
}

enum { K_UDP, K_SYN, K_TCP, K_ICMP, K_GRE, K_OTHER };

static void count_target(struct box_pkt *a, uint32_t dst, uint16_t port, int kind, size_t bytes)
{
	struct box_top *t = top_get(a, dst);
	t->packets++;
	t->bytes += bytes;
	t->kind[kind]++;
	if (t->kind[kind] == 1 && kind != K_OTHER)
		t->port = port;
	else if (t->port != port)
		t->ports_varied = true;
}

static void ip_packet(struct box_pkt *a, const uint8_t *p, size_t n, uint64_t ts)
{
	if (n < 20 || (p[0] >> 4) != 4)
		return;
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	size_t total = be16(p + 2);
	if (ihl < 20 || ihl > n)
		return;
	if (total >= ihl && total < n)
		n = total;
	uint8_t proto = p[9];
	uint32_t dst = be32(p + 16);
	bool first_fragment = (be16(p + 6) & 0x1fff) == 0;
	const uint8_t *l4 = p + ihl;
	size_t l4n = n - ihl;
	const char *cls = box_ip_class(dst);
	a->ip_packets++;
	if (strcmp(cls, "lan") == 0)
		a->cls_lan++;
	else if (strcmp(cls, "gateway") == 0)
		a->cls_gateway++;
	else if (strcmp(cls, "rfc1918") == 0 || strcmp(cls, "cgnat") == 0)
		a->cls_private++;
	else if (strcmp(cls, "multicast") == 0 || strcmp(cls, "broadcast") == 0)
		a->cls_multicast++;
	else if (strcmp(cls, "internet") == 0)
		a->cls_internet++;
	else
		a->cls_other++;

	uint16_t dport = 0;
	int kind = K_OTHER;
	bool service = true; /* not DNS or DHCP: counts as an attempt on the destination */
	if (proto == 6 && first_fragment && l4n >= 20) {
		dport = be16(l4 + 2);
		uint32_t seq = be32(l4 + 4);
		uint8_t flags = l4[13];
		a->tcp++;
		if ((flags & 0x02) && !(flags & 0x10)) {
			kind = K_SYN;
			a->syn++;
			if (!a->syn_first)
				a->syn_first = ts;
			a->syn_last = ts;
			if (seq == dst)
				a->syn_seq_dst++;
			if (box_set_add(&a->pairs, (uint64_t)dst << 17 | (uint64_t)dport << 1) == 1)
				a->port_targets[dport]++;
		} else {
			kind = K_TCP;
		}
		service = dport != 53;
	} else if (proto == 17 && first_fragment && l4n >= 8) {
		dport = be16(l4 + 2);
		kind = K_UDP;
		a->udp++;
		if (dport == 53) {
			a->dns_packets++;
			service = false;
		} else if (dport == 67) {
			service = false;
		} else if (dst == BOX_IP(239, 255, 255, 250) && dport == 1900) {
			a->ssdp++;
			service = false;
		} else if (box_set_add(&a->pairs, (uint64_t)dst << 17 | (uint64_t)dport << 1 | 1) ==
			   1) {
			a->port_targets[65536 + dport]++;
		}
	} else if (proto == 1) {
		kind = K_ICMP;
		a->icmp++;
		if (l4n >= 1 && l4[0] == 8) {
			a->icmp_echo++;
			box_set_add(&a->icmp_targets, dst);
		}
	} else if (proto == 47) {
		kind = K_GRE;
		a->gre++;
	} else {
		a->ip_other++;
	}
	if (!service)
		return;
	box_set_add(&a->targets, dst);
	if (strcmp(cls, "lan") == 0)
		box_set_add(&a->lan_targets, dst);
	else if (strcmp(cls, "rfc1918") == 0)
		box_set_add(&a->rfc1918_targets, dst);
	if (dst == BOX_GATEWAY_IP && dport && (kind == K_SYN || kind == K_UDP) &&
	    a->ngw_ports < LIB_ARRAY_LEN(a->gw_ports)) {
		bool seen = false;
		for (size_t i = 0; i < a->ngw_ports; i++)
			seen |= a->gw_ports[i] == dport;
		if (!seen)
			a->gw_ports[a->ngw_ports++] = dport;
	}
	if (strcmp(cls, "multicast") != 0 && strcmp(cls, "broadcast") != 0)
		count_target(a, dst, dport, kind, n);
}

void box_pkt_feed(struct box_pkt *a, const uint8_t *f, size_t n, uint64_t ts_us)
{
	if (n < 14)
		return;
	if (memcmp(f + 6, a->own_mac, 6) == 0) {
		a->replies++;
		return; /* the fake internet's own frame */
	}
	a->frames++;
	a->bytes += n;
	if (!a->first_us)
		a->first_us = ts_us;
	a->last_us = ts_us;
	uint16_t type = be16(f + 12);
	size_t off = 14;
	if (type == 0x8100 && n >= 18) {
		type = be16(f + 16);
		off = 18;
	}
	const uint8_t *p = f + off;
	size_t len = n - off;
	if (type == 0x0806) {
		if (len < 28 || be16(p + 6) != 1)
			return;
		a->arp_requests++;
		uint32_t spa = be32(p + 14), tpa = be32(p + 24);
		if (tpa == spa || !box_ip_is_lan(tpa))
			return; /* gratuitous, or not a LAN address */
		if (!answered(tpa))
			box_set_add(&a->arp_unanswered, tpa);
		return;
	}
	if (type == 0x86dd) {
		a->ipv6++;
		return;
	}
	if (type == 0x0800)
		ip_packet(a, p, len, ts_us);
}

static json_t *ports_json(const uint32_t *counts, size_t max)
{
	/* The ports with the most distinct targets, highest first. */
	uint16_t best[16];
	size_t nb = 0;
	for (uint32_t port = 0; port < 65536; port++) {
		if (!counts[port])
			continue;
		size_t pos = nb;
		while (pos > 0 && counts[best[pos - 1]] < counts[port])
			pos--;
		if (pos >= max)
			continue;
		if (nb < max)
			nb++;
		memmove(best + pos + 1, best + pos, (nb - 1 - pos) * sizeof(best[0]));
		best[pos] = (uint16_t)port;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < nb; i++)
		json_array_append_new(arr, json_pack("{s:i,s:I}", "port", best[i], "targets",
						     (json_int_t)counts[best[i]]));
	return arr;
}

static int top_cmp(const void *x, const void *y)
{
	const struct box_top *a = x, *b = y;
	return a->packets < b->packets ? 1 : a->packets > b->packets ? -1 : 0;
}

json_t *box_pkt_summary(struct box_pkt *a)
{
	json_t *o = json_object();
	double span = a->last_us > a->first_us ? (double)(a->last_us - a->first_us) / 1e6 : 0;
	double syn_span =
		a->syn_last > a->syn_first ? (double)(a->syn_last - a->syn_first) / 1e6 : 0;
	json_object_set_new(o, "frames", json_integer((json_int_t)a->frames));
	json_object_set_new(o, "bytes", json_integer((json_int_t)a->bytes));
	json_object_set_new(o, "seconds", json_real(span));
	json_object_set_new(o, "arp_requests", json_integer((json_int_t)a->arp_requests));
	json_object_set_new(o, "arp_unanswered", json_integer((json_int_t)a->arp_unanswered.count));
	json_object_set_new(o, "tcp", json_integer((json_int_t)a->tcp));
	json_object_set_new(o, "udp", json_integer((json_int_t)a->udp));
	json_object_set_new(o, "icmp", json_integer((json_int_t)a->icmp));
	json_object_set_new(o, "gre", json_integer((json_int_t)a->gre));
	json_object_set_new(o, "ipv6", json_integer((json_int_t)a->ipv6));
	json_object_set_new(o, "syn", json_integer((json_int_t)a->syn));
	json_object_set_new(o, "syn_seq_dst", json_integer((json_int_t)a->syn_seq_dst));
	json_object_set_new(o, "syn_rate",
			    json_real(syn_span > 0 ? (double)a->syn / syn_span : (double)a->syn));
	json_object_set_new(o, "targets", json_integer((json_int_t)a->targets.count));
	json_object_set_new(o, "saturated",
			    json_boolean(a->targets.saturated || a->pairs.saturated));
	json_object_set_new(o, "ports_tcp", ports_json(a->port_targets, 16));
	json_object_set_new(o, "ports_udp", ports_json(a->port_targets + 65536, 16));
	json_object_set_new(
		o, "classes",
		json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "lan", (json_int_t)a->cls_lan, "gateway",
			  (json_int_t)a->cls_gateway, "private", (json_int_t)a->cls_private,
			  "multicast", (json_int_t)a->cls_multicast, "internet",
			  (json_int_t)a->cls_internet, "other", (json_int_t)a->cls_other));
	json_object_set_new(o, "lan_targets", json_integer((json_int_t)a->lan_targets.count));
	json_object_set_new(o, "rfc1918_targets",
			    json_integer((json_int_t)a->rfc1918_targets.count));
	json_t *gw = json_array();
	for (size_t i = 0; i < a->ngw_ports; i++)
		json_array_append_new(gw, json_integer(a->gw_ports[i]));
	json_object_set_new(o, "gateway_ports", gw);
	json_object_set_new(o, "ssdp", json_integer((json_int_t)a->ssdp));
	json_object_set_new(o, "dns_packets", json_integer((json_int_t)a->dns_packets));
	json_object_set_new(o, "icmp_echo", json_integer((json_int_t)a->icmp_echo));
	json_object_set_new(o, "icmp_targets", json_integer((json_int_t)a->icmp_targets.count));
	struct box_top sorted[BOX_TOP_TARGETS];
	memcpy(sorted, a->top, a->ntop * sizeof(sorted[0]));
	qsort(sorted, a->ntop, sizeof(sorted[0]), top_cmp);
	json_t *top = json_array();
	static const char *const kinds[] = {"udp", "syn", "tcp", "icmp", "gre", "other"};
	for (size_t i = 0; i < a->ntop && i < 5; i++) {
		char ip[16];
		box_ip_str(sorted[i].ip, ip);
		json_t *t = json_pack("{s:s,s:i,s:I,s:I,s:b}", "ip", ip, "port", sorted[i].port,
				      "packets", (json_int_t)sorted[i].packets, "bytes",
				      (json_int_t)sorted[i].bytes, "ports_varied",
				      sorted[i].ports_varied);
		for (int k = 0; k < 6; k++)
			json_object_set_new(t, kinds[k],
					    json_integer((json_int_t)sorted[i].kind[k]));
		json_array_append_new(top, t);
	}
	json_object_set_new(o, "top", top);
	return o;
}
