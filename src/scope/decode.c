/* scope: the packet decoder. Link layer (Ethernet with VLAN tags, raw IP, Linux cooked v1/v2,
 * BSD loopback), IPv4/IPv6, TCP/UDP/ICMP, and for SYNs the fields p0f v3 fingerprints, computed
 * the way p0f's parse_packet computes them. Every read is bounds-checked; nothing is cast. */
#include "scope/scope.h"

#include <string.h>

/* The per-packet path is inlined into one function per link type (scope_decode_batch). */
#define INLINE static inline __attribute__((always_inline))

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool scope_link_supported(int linktype)
{
	switch (linktype) {
	case SCOPE_LINK_NULL:
	case SCOPE_LINK_EN10MB:
	case SCOPE_LINK_RAW:
	case 12: /* DLT_RAW on most systems */
	case 14: /* DLT_RAW on OpenBSD */
	case SCOPE_LINK_SLL:
	case SCOPE_LINK_SLL2:
	case SCOPE_LINK_LOOP:
	case SCOPE_LINK_IPV4:
	case SCOPE_LINK_IPV6: return true;
	default: return false;
	}
}

/* The IP half of a signature; the rest is zero until tcp_sig fills it (opt_layout is read up
 * to opt_cnt only). Field by field: a memset or a struct assignment compiles to `rep stos`,
 * which costs more than the whole decode of a packet. */
INLINE void sig_start(struct scope_tcpsig *s, uint32_t quirks, uint8_t ttl, uint8_t tos,
		      uint8_t ip_opt_len, uint16_t tot_hdr)
{
	s->quirks = quirks;
	s->ts1 = 0;
	s->mss = 0;
	s->win = 0;
	s->tot_hdr = tot_hdr;
	s->wscale = 0;
	s->opt_cnt = 0;
	s->opt_eol_pad = 0;
	s->ip_opt_len = ip_opt_len;
	s->ttl = ttl;
	s->tos = tos;
	s->pay = 0;
}

/* TCP option kinds p0f names. */
enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SOK = 4, OPT_SACK = 5, OPT_TS = 8 };

/* p0f's option walk: records the layout and sets the option quirks. `o` is the first option
 * byte, `end` one past the last byte of the TCP header. */
static void parse_options(const uint8_t *o, const uint8_t *end, uint8_t tcp_flags,
			  struct scope_tcpsig *s)
{
	bool abort = false;
	while (o < end && s->opt_cnt < SCOPE_MAX_TCP_OPT) {
		uint8_t kind = *o++;
		s->opt_layout[s->opt_cnt++] = kind;
		switch (kind) {
		case OPT_EOL:
			s->opt_eol_pad = (uint8_t)(end - o);
			while (o < end && !*o++)
				;
			if (o != end) {
				s->quirks |= SCOPE_Q_OPT_EOL_NZ;
				o = end;
			}
			break;
		case OPT_NOP: break;
		case OPT_MSS:
			if (o + 3 > end) {
				abort = true;
				goto out;
			}
			if (*o != 4)
				s->quirks |= SCOPE_Q_OPT_BAD;
			s->mss = rd16(o + 1);
			o += 3;
			break;
		case OPT_WS:
			if (o + 2 > end) {
				abort = true;
				goto out;
			}
			if (*o != 3)
				s->quirks |= SCOPE_Q_OPT_BAD;
			s->wscale = o[1];
			if (s->wscale > 14)
				s->quirks |= SCOPE_Q_OPT_EXWS;
			o += 2;
			break;
		case OPT_SOK:
			if (o + 1 > end) {
				abort = true;
				goto out;
			}
			if (*o != 2)
				s->quirks |= SCOPE_Q_OPT_BAD;
			o++;
			break;
		case OPT_SACK:
			if (o == end || *o < 10 || *o > 34 || o - 1 + *o > end) {
				abort = true;
				goto out;
			}
			o += *o - 1;
			break;
		case OPT_TS:
			if (o + 9 > end) {
				abort = true;
				goto out;
			}
			if (*o != 10)
				s->quirks |= SCOPE_Q_OPT_BAD;
			s->ts1 = rd32(o + 1);
			if (!s->ts1)
				s->quirks |= SCOPE_Q_OPT_ZERO_TS1;
			if ((tcp_flags & 0x17) == 0x02 && rd32(o + 5))
				s->quirks |= SCOPE_Q_OPT_NZ_TS2;
			o += 9;
			break;
		default:
			if (o == end || *o < 2 || *o > 40 || o - 1 + *o > end) {
				abort = true;
				goto out;
			}
			o += *o - 1;
			break;
		}
	}
out:
	if (abort || o != end)
		s->quirks |= SCOPE_Q_OPT_BAD;
}

/* The TCP half of p0f's parse_packet. `t` is the TCP header with `n` bytes of the datagram
 * after the IP header (already limited to the IP length). Returns false when p0f would ignore
 * the packet. */
/* Whether p0f fingerprints a SYN whose TCP header is t, n bytes of the datagram after it. */
INLINE bool tcp_sig_ok(const uint8_t *t, size_t n)
{
	size_t doff = (size_t)(t[12] >> 4) * 4;
	return doff >= 20 && doff <= n &&
	       !(t[13] & 0x01); /* SYN+FIN is one of p0f's "silly" combinations */
}

INLINE bool tcp_sig(const uint8_t *t, size_t n, struct scope_tcpsig *s)
{
	if (!tcp_sig_ok(t, n))
		return false;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	uint8_t flags = t[13];
	s->tot_hdr = (uint16_t)(s->tot_hdr + doff);
	s->win = rd16(t + 14);
	/* (Rare quirks: branches that predict well.) */
	uint32_t q = s->quirks;
	if ((flags & 0xc0) || (t[12] & 0x01))
		q |= SCOPE_Q_ECN;
	if (!rd32(t + 4))
		q |= SCOPE_Q_ZERO_SEQ;
	/* p0f 3.09b tests `RD32(tcp->ack) & !(flags & RST)`: a bitwise AND of the raw (network
	 * order) word with 1. On a little-endian machine that is the low bit of the ack number's
	 * first byte; reproduced so that labels equal p0f's. */
	if (t[8] & 1)
		q |= SCOPE_Q_NZ_ACK;
	if (flags & 0x20)
		q |= SCOPE_Q_URG;
	else if (rd16(t + 18))
		q |= SCOPE_Q_NZ_URG;
	if (flags & 0x08)
		q |= SCOPE_Q_PUSH;
	s->quirks = q;
	s->pay = n > doff;
	if (doff > 20)
		parse_options(t + 20, t + doff, flags, s);
	return true;
}

/* The signature of an IPv4 SYN: p is the IP header (ihl bytes of it), tot the datagram's
 * length (all of it captured), t its TCP header. */
INLINE bool ip4_sig(const uint8_t *p, size_t ihl, size_t tot, struct scope_tcpsig *s)
{
	uint16_t frag = rd16(p + 6);
	/* DF and the IP ID vary from packet to packet: no branches on them (they would be
	 * mispredicted); ECN and MBZ are rare. */
	uint32_t df = (frag >> 14) & 1, nzid = rd16(p + 4) != 0;
	uint32_t q = df * SCOPE_Q_DF | (df & nzid) * SCOPE_Q_NZ_ID |
		     (~(df | nzid) & 1) * SCOPE_Q_ZERO_ID;
	if (p[1] & 0x03)
		q |= SCOPE_Q_ECN;
	if (frag & 0x8000)
		q |= SCOPE_Q_NZ_MBZ;
	sig_start(s, q, p[8], (uint8_t)(p[1] >> 2), (uint8_t)(ihl - 20), (uint16_t)ihl);
	return tcp_sig(p + ihl, tot - ihl, s);
}

INLINE void decode_tcp(const uint8_t *t, size_t n, struct scope_pkt *o)
{
	if (n < 4) {
		o->flags |= SCOPE_PF_L4_SHORT;
		o->cls = SCOPE_C_TCP_OTHER;
		return;
	}
	o->sport = rd16(t);
	o->dport = rd16(t + 2);
	if (n < 14) {
		o->flags |= SCOPE_PF_L4_SHORT;
		o->cls = SCOPE_C_TCP_OTHER;
		return;
	}
	o->seq = rd32(t + 4);
	o->tcp_flags = t[13];
	uint8_t f = o->tcp_flags;
	if ((f & 0x02) && !(f & 0x14))
		o->cls = SCOPE_C_SYN;
	else if (((f & 0x12) == 0x12) || (f & 0x04))
		o->cls = SCOPE_C_BACKSCATTER;
	else
		o->cls = SCOPE_C_TCP_OTHER;
	if (n < 20)
		o->flags |= SCOPE_PF_L4_SHORT;
}

INLINE void decode_udp(const uint8_t *u, size_t n, struct scope_pkt *o)
{
	if (n < 4) {
		o->flags |= SCOPE_PF_L4_SHORT;
		o->cls = SCOPE_C_OTHER;
		return;
	}
	o->sport = rd16(u);
	o->dport = rd16(u + 2);
	o->cls = SCOPE_C_UDP;
}

/* ICMP and ICMPv6: the type is the "port" (dport), the code goes in sport. */
INLINE bool decode_icmp(const uint8_t *m, size_t n, struct scope_pkt *o)
{
	if (n < 2) {
		o->flags |= SCOPE_PF_L4_SHORT;
		o->cls = SCOPE_C_OTHER;
		return false;
	}
	o->dport = m[0];
	o->sport = m[1];
	o->cls = SCOPE_C_ICMP;
	return true;
}

/* ICMP errors that quote the offending datagram. */
static bool icmp4_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static void decode_inner4(const uint8_t *p, size_t n, struct scope_pkt *o)
{
	if (n < 20 || p[0] >> 4 != 4)
		return;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < 20 || ihl > n)
		return;
	o->inner_src = rd32(p + 12);
	o->inner_dst = rd32(p + 16);
	o->inner_proto = p[9];
	o->flags |= SCOPE_PF_INNER;
}

INLINE enum scope_dec decode_ip4(const uint8_t *p, size_t n, struct scope_pkt *o, bool lazy)
{
	if (n < 20 || p[0] >> 4 != 4)
		return SCOPE_DEC_MALFORMED;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	uint16_t tot = rd16(p + 2);
	if (ihl < 20 || ihl > n || tot < ihl)
		return SCOPE_DEC_MALFORMED;
	o->ipver = 4;
	o->len = tot;
	o->ipid = rd16(p + 4);
	o->ttl = p[8];
	o->proto = p[9];
	o->src = rd32(p + 12);
	o->dst = rd32(p + 16);
	uint16_t frag = rd16(p + 6);
	size_t avail = n < tot ? n : tot;
	const uint8_t *l4 = p + ihl;
	size_t l4n = avail - ihl;
	if (frag & 0x1fff) {
		o->flags |= SCOPE_PF_FRAG;
		o->cls = SCOPE_C_OTHER;
		return SCOPE_DEC_IP;
	}
	switch (o->proto) {
	case 6:
		decode_tcp(l4, l4n, o);
		/* p0f ignores fragments and datagrams not captured whole. */
		if (o->cls == SCOPE_C_SYN && !(frag & 0x2000) && n >= tot && tot >= 40) {
			if (lazy) {
				/* Computed when the engine needs it (scope_pkt_sig): most SYNs come
				 * from sources whose OS is known. */
				if (tcp_sig_ok(l4, l4n)) {
					o->l3 = p;
					o->flags |= SCOPE_PF_SIG | SCOPE_PF_LAZY;
				}
			} else if (ip4_sig(p, ihl, tot, &o->sig)) {
				o->flags |= SCOPE_PF_SIG;
			}
		}
		break;
	case 17: decode_udp(l4, l4n, o); break;
	case 1:
		if (decode_icmp(l4, l4n, o) && icmp4_error(l4[0]) && l4n >= 8)
			decode_inner4(l4 + 8, l4n - 8, o);
		break;
	default: o->cls = SCOPE_C_OTHER; break;
	}
	return SCOPE_DEC_IP;
}

static enum scope_dec decode_ip6(const uint8_t *p, size_t n, struct scope_pkt *o)
{
	if (n < 40 || p[0] >> 4 != 6)
		return SCOPE_DEC_MALFORMED;
	uint32_t vtf = rd32(p);
	size_t tot = 40 + (size_t)rd16(p + 4);
	o->ipver = 6;
	o->len = (uint32_t)tot;
	o->proto = p[6];
	o->ttl = p[7];
	memcpy(o->src6, p + 8, 16);
	memcpy(o->dst6, p + 24, 16);
	size_t avail = n < tot ? n : tot;
	const uint8_t *l4 = p + 40;
	size_t l4n = avail - 40;
	/* Extension headers are not walked (p0f does not either): their packets count as
	 * "other". */
	switch (o->proto) {
	case 6:
		decode_tcp(l4, l4n, o);
		if (o->cls == SCOPE_C_SYN && n >= tot && tot >= 60) {
			struct scope_tcpsig *s = &o->sig;
			uint32_t q = 0;
			if (vtf & 0xfffff)
				q |= SCOPE_Q_FLOW;
			if ((vtf >> 20) & 0x03)
				q |= SCOPE_Q_ECN;
			sig_start(s, q, o->ttl, (uint8_t)((vtf >> 22) & 0x3f), 0, 40);
			if (tcp_sig(l4, l4n, s))
				o->flags |= SCOPE_PF_SIG;
		}
		break;
	case 17: decode_udp(l4, l4n, o); break;
	case 58: decode_icmp(l4, l4n, o); break;
	default: o->cls = SCOPE_C_OTHER; break;
	}
	return SCOPE_DEC_IP;
}

static enum scope_dec decode_by_version(const uint8_t *p, size_t n, struct scope_pkt *o, bool lazy)
{
	if (n < 1)
		return SCOPE_DEC_MALFORMED;
	switch (p[0] >> 4) {
	case 4: return decode_ip4(p, n, o, lazy);
	case 6: return decode_ip6(p, n, o);
	default: return SCOPE_DEC_MALFORMED;
	}
}

INLINE enum scope_dec decode_ethertype(uint16_t et, const uint8_t *p, size_t n, struct scope_pkt *o,
				       bool lazy)
{
	switch (et) {
	case 0x0800: return decode_ip4(p, n, o, lazy);
	case 0x86dd: return decode_ip6(p, n, o);
	default: return SCOPE_DEC_NOT_IP;
	}
}

/* BSD loopback address families: AF_INET is 2 everywhere, AF_INET6 is 10, 24, 28 or 30. */
static enum scope_dec decode_af(uint32_t af, const uint8_t *p, size_t n, struct scope_pkt *o,
				bool lazy)
{
	switch (af) {
	case 2: return decode_ip4(p, n, o, lazy);
	case 10:
	case 24:
	case 28:
	case 30: return decode_ip6(p, n, o);
	default: return SCOPE_DEC_NOT_IP;
	}
}

INLINE enum scope_dec decode_frame(int linktype, const uint8_t *p, size_t caplen, int64_t ts_ns,
				   struct scope_pkt *out, bool lazy)
{
	/* Only the fields a decode can leave unset are cleared: the whole struct (with the IPv6
	 * addresses) would cost more than the decode. `sig` is filled (and cleared) for SYNs only
	 * and read only when SCOPE_PF_SIG says so. */
	out->ts_ns = ts_ns;
	out->flags = 0;
	out->seq = 0;
	out->sport = out->dport = 0;
	out->ipid = 0;
	out->tcp_flags = 0;
	out->inner_src = out->inner_dst = 0;
	out->inner_proto = 0;
	out->src = out->dst = 0;
	switch (linktype) {
	case SCOPE_LINK_EN10MB: {
		if (caplen < 14)
			return SCOPE_DEC_MALFORMED;
		uint16_t et = rd16(p + 12);
		if (et == 0x0800) /* IPv4 without VLAN tags: most frames */
			return decode_ip4(p + 14, caplen - 14, out, lazy);
		size_t off = 14;
		for (int tags = 0; et == 0x8100 || et == 0x88a8 || et == 0x9100; tags++) {
			if (tags == SCOPE_MAX_VLAN_TAGS || off + 4 > caplen)
				return SCOPE_DEC_MALFORMED;
			et = rd16(p + off + 2);
			off += 4;
		}
		if (et < 0x0600) /* an 802.3 length: LLC/SNAP frames carry no IP we count */
			return SCOPE_DEC_NOT_IP;
		return decode_ethertype(et, p + off, caplen - off, out, lazy);
	}
	case SCOPE_LINK_RAW:
	case 12:
	case 14: return decode_by_version(p, caplen, out, lazy);
	case SCOPE_LINK_IPV4: return decode_ip4(p, caplen, out, lazy);
	case SCOPE_LINK_IPV6: return decode_ip6(p, caplen, out);
	case SCOPE_LINK_SLL:
		if (caplen < 16)
			return SCOPE_DEC_MALFORMED;
		return decode_ethertype(rd16(p + 14), p + 16, caplen - 16, out, lazy);
	case SCOPE_LINK_SLL2:
		if (caplen < 20)
			return SCOPE_DEC_MALFORMED;
		return decode_ethertype(rd16(p), p + 20, caplen - 20, out, lazy);
	case SCOPE_LINK_NULL: {
		if (caplen < 4)
			return SCOPE_DEC_MALFORMED;
		/* Host order of the machine that captured: try both. */
		uint32_t le = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			      (uint32_t)p[3] << 24;
		uint32_t af = le < 256 ? le : rd32(p);
		return decode_af(af, p + 4, caplen - 4, out, lazy);
	}
	case SCOPE_LINK_LOOP:
		if (caplen < 4)
			return SCOPE_DEC_MALFORMED;
		return decode_af(rd32(p), p + 4, caplen - 4, out, lazy);
	default: return SCOPE_DEC_BAD_LINK;
	}
}

enum scope_dec scope_decode(int linktype, const uint8_t *p, size_t caplen, int64_t ts_ns,
			    struct scope_pkt *out)
{
	return decode_frame(linktype, p, caplen, ts_ns, out, false);
}

void scope_pkt_sig(const struct scope_pkt *p, struct scope_tcpsig *out)
{
	if (!(p->flags & SCOPE_PF_LAZY)) {
		*out = p->sig;
		return;
	}
	ip4_sig(p->l3, (size_t)(p->l3[0] & 15) * 4, p->len, out);
}

size_t scope_decode_batch(int linktype, const struct scope_frame *f, size_t n,
			  struct scope_pkt *out, uint64_t other[SCOPE_DEC__N])
{
	size_t k = 0;
	/* The link type is a constant in each loop, so that its switch goes away. */
#define DECODE_LOOP(LT) \
	for (size_t i = 0; i < n; i++) { \
		enum scope_dec d = \
			decode_frame(LT, f[i].data, f[i].caplen, f[i].ts_ns, &out[k], true); \
		if (d == SCOPE_DEC_IP) \
			k++; \
		else \
			other[d]++; \
	}
	switch (linktype) {
	case SCOPE_LINK_EN10MB: DECODE_LOOP(SCOPE_LINK_EN10MB); break;
	case SCOPE_LINK_RAW: DECODE_LOOP(SCOPE_LINK_RAW); break;
	default: DECODE_LOOP(linktype); break;
	}
#undef DECODE_LOOP
	return k;
}
