/* The sandbox's network plumbing without iproute2: rtnetlink requests for the veth pair,
 * addresses, routes (AnyIP: `local 0.0.0.0/0 dev lo`) and links, and the BPF sk_lookup program
 * that hands every TCP connection and UDP datagram arriving in the fake internet, whatever its
 * destination address and port, to one listening socket of each kind. */
#include "box/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NL_BUF 4096 /* one request; ours are a few hundred bytes */

struct nlreq {
	uint8_t buf[NL_BUF];
	size_t len;
	bool overflow;
};

static struct nlmsghdr *req_start(struct nlreq *r, uint16_t type, uint16_t flags, const void *hdr,
				  size_t hlen)
{
	memset(r->buf, 0, sizeof(r->buf));
	struct nlmsghdr *n = (struct nlmsghdr *)r->buf;
	n->nlmsg_type = type;
	n->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	n->nlmsg_seq = 1;
	r->len = NLMSG_HDRLEN;
	memcpy(r->buf + r->len, hdr, hlen);
	r->len += NLMSG_ALIGN(hlen);
	r->overflow = false;
	return n;
}

/* Adds an attribute; returns its offset (for nesting) or 0 on overflow. */
static size_t attr(struct nlreq *r, uint16_t type, const void *data, size_t len)
{
	size_t need = RTA_SPACE(len);
	if (r->len + need > sizeof(r->buf)) {
		r->overflow = true;
		return 0;
	}
	size_t off = r->len;
	struct rtattr *a = (struct rtattr *)(r->buf + off);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->len += need;
	return off;
}

static void nest_end(struct nlreq *r, size_t off)
{
	if (off && !r->overflow)
		((struct rtattr *)(r->buf + off))->rta_len = (unsigned short)(r->len - off);
}

static void raw(struct nlreq *r, const void *p, size_t len)
{
	if (r->len + NLMSG_ALIGN(len) > sizeof(r->buf)) {
		r->overflow = true;
		return;
	}
	memcpy(r->buf + r->len, p, len);
	r->len += NLMSG_ALIGN(len);
}

int box_nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Sends the request and waits for its acknowledgement. */
static int talk(int fd, struct nlreq *r)
{
	if (r->overflow)
		return -ENOBUFS;
	((struct nlmsghdr *)r->buf)->nlmsg_len = (uint32_t)r->len;
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	if (sendto(fd, r->buf, r->len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	uint8_t ans[NL_BUF];
	for (;;) {
		ssize_t n = recv(fd, ans, sizeof(ans), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)ans; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
					return -EPROTO;
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error;
			}
		}
	}
}

int box_nl_veth(int fd, const char *name, const uint8_t mac[6], const char *peer,
		const uint8_t peer_mac[6], pid_t peer_netns_pid)
{
	struct nlreq r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	req_start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	attr(&r, IFLA_ADDRESS, mac, 6);
	size_t info = attr(&r, IFLA_LINKINFO, NULL, 0);
	attr(&r, IFLA_INFO_KIND, "veth", 4);
	size_t data = attr(&r, IFLA_INFO_DATA, NULL, 0);
	size_t pinfo = attr(&r, VETH_INFO_PEER, NULL, 0);
	struct ifinfomsg pifi = {.ifi_family = AF_UNSPEC};
	raw(&r, &pifi, sizeof(pifi));
	attr(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
	attr(&r, IFLA_ADDRESS, peer_mac, 6);
	uint32_t pid = (uint32_t)peer_netns_pid;
	attr(&r, IFLA_NET_NS_PID, &pid, 4);
	nest_end(&r, pinfo);
	nest_end(&r, data);
	nest_end(&r, info);
	return talk(fd, &r);
}

int box_nl_link_up(int fd, const char *name)
{
	unsigned idx = if_nametoindex(name);
	if (!idx)
		return -ENODEV;
	struct nlreq r;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
				.ifi_index = (int)idx,
				.ifi_flags = IFF_UP,
				.ifi_change = IFF_UP};
	req_start(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	return talk(fd, &r);
}

int box_nl_addr(int fd, const char *ifname, uint32_t ip, int prefix)
{
	unsigned idx = if_nametoindex(ifname);
	if (!idx)
		return -ENODEV;
	struct nlreq r;
	struct ifaddrmsg ifa = {.ifa_family = AF_INET,
				.ifa_prefixlen = (unsigned char)prefix,
				.ifa_scope = RT_SCOPE_UNIVERSE,
				.ifa_index = idx};
	req_start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
	uint32_t a = htonl(ip);
	attr(&r, IFA_LOCAL, &a, 4);
	attr(&r, IFA_ADDRESS, &a, 4);
	if (prefix < 31) {
		uint32_t bc = htonl(ip | (0xffffffffu >> prefix));
		attr(&r, IFA_BROADCAST, &bc, 4);
	}
	return talk(fd, &r);
}

int box_nl_route(int fd, uint32_t dst, int prefix, uint32_t gw, const char *ifname, bool local)
{
	unsigned idx = if_nametoindex(ifname);
	if (!idx)
		return -ENODEV;
	struct nlreq r;
	struct rtmsg rt = {
		.rtm_family = AF_INET,
		.rtm_dst_len = (unsigned char)prefix,
		.rtm_table = local ? RT_TABLE_LOCAL : RT_TABLE_MAIN,
		.rtm_protocol = RTPROT_BOOT,
		.rtm_scope = local ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE,
		.rtm_type = local ? RTN_LOCAL : RTN_UNICAST,
	};
	req_start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof(rt));
	if (prefix > 0) {
		uint32_t d = htonl(dst);
		attr(&r, RTA_DST, &d, 4);
	}
	if (gw) {
		uint32_t g = htonl(gw);
		attr(&r, RTA_GATEWAY, &g, 4);
	}
	uint32_t oif = idx;
	attr(&r, RTA_OIF, &oif, 4);
	return talk(fd, &r);
}

/* ------------------------------------------------------------------ small files */

int box_write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, s, strlen(s));
	int e = n < 0 ? -errno : 0;
	close(fd);
	return e;
}

/* ------------------------------------------------------------------ sk_lookup */

static long bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

/* The program, for every socket lookup of an incoming TCP SYN or UDP datagram in this netns:
 *   key = protocol == TCP ? 0 : 1;  (UDP to port 53 is left to the DNS socket bound there)
 *   sk = map[key]; if (sk) { bpf_sk_assign(ctx, sk, 0); bpf_sk_release(sk); }  return SK_PASS;
 * Offsets are those of struct bpf_sk_lookup: protocol at 12, local_port at 60. */
int box_catchall_attach(int tcp_fd, int udp_fd, int *link_out)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_SOCKMAP;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 2;
	int map = (int)bpf(BPF_MAP_CREATE, &a);
	if (map < 0)
		return -errno;
	const struct bpf_insn prog[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, 12, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 3, 6), /* TCP: key 0 */
		INSN(BPF_LDX | BPF_MEM | BPF_W, 4, 6, 60, 0),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 15, 53), /* UDP 53: pass untouched */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 1),
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 3, -4, 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 7, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 7, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 7, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_assign),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 7, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_release),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SK_LOOKUP;
	a.insns = (uintptr_t)prog;
	a.insn_cnt = LIB_ARRAY_LEN(prog);
	a.license = (uintptr_t) "GPL";
	a.expected_attach_type = BPF_SK_LOOKUP;
	int pfd = (int)bpf(BPF_PROG_LOAD, &a);
	int rc = 0;
	if (pfd < 0) {
		rc = -errno;
		close(map);
		return rc;
	}
	uint32_t key = 0;
	uint64_t val = (uint64_t)tcp_fd;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map;
	a.key = (uintptr_t)&key;
	a.value = (uintptr_t)&val;
	if (bpf(BPF_MAP_UPDATE_ELEM, &a) < 0)
		rc = -errno;
	key = 1;
	val = (uint64_t)udp_fd;
	if (!rc && bpf(BPF_MAP_UPDATE_ELEM, &a) < 0)
		rc = -errno;
	int ns = rc ? -1 : open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!rc && ns < 0)
		rc = -errno;
	if (!rc) {
		memset(&a, 0, sizeof(a));
		a.link_create.prog_fd = (uint32_t)pfd;
		a.link_create.target_fd = (uint32_t)ns;
		a.link_create.attach_type = BPF_SK_LOOKUP;
		int link = (int)bpf(BPF_LINK_CREATE, &a);
		if (link < 0)
			rc = -errno;
		else
			*link_out = link;
	}
	if (ns >= 0)
		close(ns);
	close(pfd);
	close(map);
	return rc;
}
