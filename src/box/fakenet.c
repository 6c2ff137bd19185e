/* The fake internet: a process in its own network namespace with no uplink, the other end of
 * the sample's only link. It is the home router (192.168.1.1) and a few LAN devices, and with
 * AnyIP (`local 0.0.0.0/0 dev lo`) and a BPF sk_lookup program every other IPv4 address on
 * every port: a fake DNS, catch-all TCP and UDP, the dummy C&C, SSDP. It captures the link
 * (capture.pcap, at most box.capture_bytes), analyses each frame (pkt.c), logs what the sample
 * did as JSON lines and, on SIGTERM, a final summary. It drops root right after set-up. */
#include "box/internal.h"
#include "box/pcap_dl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define FAKE_IF "fk0"
#define SAMPLE_IF "eth0"
#define FAKE_TICK_MS 50     /* the services' clock */
#define FAKE_PCAP_BATCH 512 /* frames read per loop turn */
#define FAKE_UDP_BATCH 256  /* datagrams read per socket per loop turn */
#define FAKE_SNAPLEN 2048

/* Ports listened on when sk_lookup is unavailable: the services IoT bots use. */
static const uint16_t fallback_ports[] = {
	21,   22,   23,   25,   80,   81,    82,    443,   666,   1337,
	1900, 2323, 3074, 5000, 5555, 6667,  6697,  7547,  8000,  8080,
	8081, 8443, 8888, 9000, 9527, 23231, 37215, 49152, 52869, 60001,
};

struct fake;

struct fconn {
	uv_tcp_t tcp;
	struct fake *f;
	struct box_conn c;
	struct fconn *next, *prev;
	bool closing;
};

struct fake {
	uv_loop_t loop;
	const struct box_fakenet_args *args;
	struct box_dnsmap dns;
	struct box_pkt *pkt;
	pcap_t *pcap;
	pcap_dumper_t *dump;
	uint64_t dumped, dump_dropped;
	uv_poll_t pcap_poll, dns_poll, udp_poll, ssdp_poll;
	int dns_fd, udp_fd, ssdp_fd;
	uv_tcp_t listeners[LIB_ARRAY_LEN(fallback_ports) + 1];
	size_t nlisteners;
	uv_timer_t tick;
	uv_signal_t term;
	struct fconn *conns;
	size_t nconns;
	uint64_t accepted, refused, records, records_dropped;
	uint64_t dns_queries, udp_datagrams;
	struct box_set dns_seen, udp_seen;
	const char *catch_all;
	json_t *log;
	char rbuf[16384];
};

/* ------------------------------------------------------------------ the log */

static void flush_log(struct fake *f)
{
	size_t i;
	json_t *r;
	json_array_foreach(f->log, i, r) {
		if (f->records >= BOX_FAKE_RECORDS) {
			f->records_dropped++;
			continue;
		}
		char *line = json_dumps(r, BOX_JSON);
		if (line) {
			size_t len = strlen(line);
			line[len] = '\n';
			ssize_t w = write(f->args->log_fd, line, len + 1);
			(void)w;
			free(line);
			f->records++;
		}
	}
	json_array_clear(f->log);
}

/* ------------------------------------------------------------------ capture */

static void on_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct fake *f = (struct fake *)arg;
	box_pkt_feed(f->pkt, bytes, h->caplen,
		     (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec);
	if (f->dump && f->dumped + 16 + h->caplen <= f->args->capture_bytes) {
		box_pcap_dump((u_char *)f->dump, h, bytes);
		f->dumped += 16 + h->caplen;
	} else {
		f->dump_dropped++;
	}
}

static void on_pcap(uv_poll_t *p, int status, int events)
{
	struct fake *f = p->data;
	if (status < 0)
		return;
	box_pcap_dispatch(f->pcap, FAKE_PCAP_BATCH, on_frame, (u_char *)f);
}

/* ------------------------------------------------------------------ UDP: DNS, catch-all, SSDP */

/* One datagram and the address it was sent to: IP_PKTINFO (the DNS socket) or
 * IP_ORIGDSTADDR (the catch-all, which also gives the port). Returns its length or -1. */
static ssize_t recv_dst(int fd, void *buf, size_t len, struct sockaddr_in *from,
			struct sockaddr_in *to)
{
	char cbuf[128];
	struct iovec iov = {buf, len};
	struct msghdr m = {.msg_name = from,
			   .msg_namelen = sizeof(*from),
			   .msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
	memset(to, 0, sizeof(*to));
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_ORIGDSTADDR) {
			memcpy(to, CMSG_DATA(c), sizeof(*to));
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			to->sin_addr = pi.ipi_addr;
		}
	}
	return n;
}

static void on_dns(uv_poll_t *p, int status, int events)
{
	struct fake *f = p->data;
	for (int i = 0; i < FAKE_UDP_BATCH; i++) {
		uint8_t q[1500], ans[1600];
		struct sockaddr_in from, orig;
		ssize_t n = recv_dst(f->dns_fd, q, sizeof(q), &from, &orig);
		if (n < 0)
			break;
		struct in_addr to = orig.sin_addr;
		f->dns_queries++;
		char name[256];
		uint16_t qtype;
		uint32_t answer;
		size_t alen = box_dns_reply(&f->dns, q, (size_t)n, ans, sizeof(ans), name, &qtype,
					    &answer);
		if (!alen)
			continue;
		/* Answer from the address the sample asked (8.8.8.8 or any other). */
		char c2[CMSG_SPACE(sizeof(struct in_pktinfo))];
		memset(c2, 0, sizeof(c2));
		struct iovec oi = {ans, alen};
		struct msghdr om = {.msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &oi,
				    .msg_iovlen = 1,
				    .msg_control = c2,
				    .msg_controllen = sizeof(c2)};
		struct cmsghdr *c = CMSG_FIRSTHDR(&om);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo pi = {.ipi_spec_dst = to};
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		sendmsg(f->dns_fd, &om, MSG_DONTWAIT);
		uint64_t key = lib_siphash(name, strlen(name), f->dns_seen.key) ^ qtype;
		if (box_set_add(&f->dns_seen, key) == 1) {
			char server[16], ip[16];
			box_ip_str(ntohl(to.s_addr), server);
			json_t *r = json_pack("{s:s,s:s,s:s,s:i}", "type", "dns", "server", server,
					      "name", name, "qtype", qtype);
			if (answer) {
				box_ip_str(answer, ip);
				json_object_set_new(r, "answer", json_string(ip));
			}
			json_array_append_new(f->log, r);
		}
	}
	flush_log(f);
}

static void on_udp(uv_poll_t *p, int status, int events)
{
	struct fake *f = p->data;
	for (int i = 0; i < FAKE_UDP_BATCH; i++) {
		uint8_t d[2048];
		struct sockaddr_in from, to;
		ssize_t n = recv_dst(f->udp_fd, d, sizeof(d), &from, &to);
		if (n < 0)
			break;
		f->udp_datagrams++;
		uint32_t ip = ntohl(to.sin_addr.s_addr);
		uint16_t port = ntohs(to.sin_port);
		/* The first datagram to each destination is logged; the rest are counted (pkt.c).
		 */
		if (box_set_add(&f->udp_seen, (uint64_t)ip << 16 | port) == 1) {
			char dst[32], ips[16];
			box_ip_str(ip, ips);
			snprintf(dst, sizeof(dst), "%s:%u", ips, port);
			json_t *r = json_pack(
				"{s:s,s:s,s:i,s:s,s:o}", "type", "udp", "dst", dst, "port", port,
				"class", box_ip_class(ip), "first",
				core_json_bytes(d, LIB_MIN((size_t)n, (size_t)BOX_FAKE_FIRST)));
			const char *name = box_dnsmap_name(&f->dns, ip);
			if (name)
				json_object_set_new(r, "name", json_string(name));
			json_array_append_new(f->log, r);
		}
	}
	flush_log(f);
}

static void on_ssdp(uv_poll_t *p, int status, int events)
{
	struct fake *f = p->data;
	for (int i = 0; i < FAKE_UDP_BATCH; i++) {
		char d[2048];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(f->ssdp_fd, d, sizeof(d) - 1, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		d[n] = '\0';
		bool search = strncmp(d, "M-SEARCH", 8) == 0;
		json_t *r = json_pack(
			"{s:s,s:s,s:o}", "type", "upnp", "action", search ? "M-SEARCH" : "ssdp",
			"first", core_json_bytes(d, LIB_MIN((size_t)n, (size_t)BOX_FAKE_FIRST)));
		json_array_append_new(f->log, r);
		if (search) {
			static const char reply[] =
				"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nEXT:\r\n"
				"LOCATION: http://192.168.1.1:49152/rootDesc.xml\r\nSERVER: "
				"Linux/2.6 UPnP/1.0 miniupnpd/1.6\r\n"
				"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
				"USN: "
				"uuid:6d697473-7500-0000-0000-000000000001::urn:schemas-upnp-org:"
				"device:InternetGatewayDevice:1\r\n\r\n";
			sendto(f->ssdp_fd, reply, sizeof(reply) - 1, MSG_DONTWAIT,
			       (struct sockaddr *)&from, fl);
		}
	}
	flush_log(f);
}

/* ------------------------------------------------------------------ TCP */

static void conn_closed(uv_handle_t *h)
{
	struct fconn *c = h->data;
	box_conn_free(&c->c);
	free(c);
}

static void conn_close(struct fconn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	struct fake *f = c->f;
	box_conn_close(&c->c, f->log);
	json_array_append_new(f->log, box_conn_summary(&c->c, uv_now(&f->loop)));
	if (c->prev)
		c->prev->next = c->next;
	else
		f->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	f->nconns--;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

struct wreq {
	uv_write_t req;
	struct fconn *c;
	bool close_after;
	uint8_t data[];
};

static void on_written(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	if (w->close_after || status < 0)
		conn_close(w->c);
	free(w);
}

/* Sends what the service produced; closes the connection when asked or when the sample does
 * not read (more than BOX_FAKE_OUT queued). */
static void conn_send(struct fconn *c, struct buf *out, bool close_after)
{
	if (c->closing) {
		buf_reset(out);
		return;
	}
	if (out->len == 0) {
		if (close_after)
			conn_close(c);
		return;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + out->len > BOX_FAKE_OUT) {
		buf_reset(out);
		conn_close(c);
		return;
	}
	struct wreq *w = xmalloc(sizeof(*w) + out->len);
	memcpy(w->data, out->data, out->len);
	w->c = c;
	w->close_after = close_after;
	c->c.tx += out->len;
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)out->len);
	buf_reset(out);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
		free(w);
		conn_close(c);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct fconn *c = h->data;
	/* One read at a time on this loop, consumed before the next: one buffer serves all. */
	*b = uv_buf_init(c->f->rbuf, sizeof(c->f->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct fconn *c = s->data;
	struct fake *f = c->f;
	if (n < 0) {
		conn_close(c);
		flush_log(f);
		return;
	}
	struct buf out;
	buf_init(&out, BOX_FAKE_OUT);
	int rc = box_conn_input(&c->c, (const uint8_t *)b->base, (size_t)n, uv_now(&f->loop), &out,
				f->log);
	conn_send(c, &out, rc == 1);
	buf_free(&out);
	flush_log(f);
}

static void free_handle(uv_handle_t *h)
{
	free(h->data);
}

static void on_accept(uv_stream_t *server, int status)
{
	struct fake *f = server->data;
	if (status < 0)
		return;
	struct fconn *c = xcalloc(1, sizeof(*c));
	uv_tcp_init(&f->loop, &c->tcp);
	c->tcp.data = c;
	c->f = f;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		uv_close((uv_handle_t *)&c->tcp, free_handle);
		return;
	}
	if (f->nconns >= BOX_FAKE_CONNS) {
		f->refused++;
		uv_close((uv_handle_t *)&c->tcp, free_handle);
		return;
	}
	struct sockaddr_in local = {0}, peer = {0};
	int ll = sizeof(local), pl = sizeof(peer);
	uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&local, &ll);
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer, &pl);
	uint32_t dst = ntohl(local.sin_addr.s_addr);
	box_conn_init(&c->c, ntohl(peer.sin_addr.s_addr), ntohs(peer.sin_port), dst,
		      ntohs(local.sin_port), box_dnsmap_name(&f->dns, dst), uv_now(&f->loop));
	f->accepted++;
	c->next = f->conns;
	if (f->conns)
		f->conns->prev = c;
	f->conns = c;
	f->nconns++;
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_tick(uv_timer_t *t)
{
	struct fake *f = t->data;
	struct buf out;
	buf_init(&out, BOX_FAKE_OUT);
	uint64_t now = uv_now(&f->loop);
	for (struct fconn *c = f->conns, *next; c; c = next) {
		next = c->next;
		box_conn_tick(&c->c, now, &out, f->log);
		conn_send(c, &out, false);
	}
	buf_free(&out);
	flush_log(f);
}

/* ------------------------------------------------------------------ the end */

static void finish(struct fake *f)
{
	uint64_t now = uv_now(&f->loop);
	if (f->pcap)
		box_pcap_dispatch(f->pcap, -1, on_frame, (u_char *)f);
	for (struct fconn *c = f->conns; c; c = c->next) {
		box_conn_close(&c->c, f->log);
		json_array_append_new(f->log, box_conn_summary(&c->c, now));
	}
	flush_log(f);
	json_t *names = json_array();
	for (size_t i = 0; i < f->dns.count; i++)
		json_array_append_new(names, json_string(f->dns.names[i]));
	struct pcap_stat ps = {0};
	if (f->pcap)
		box_pcap_stats(f->pcap, &ps);
	json_t *sum = json_pack(
		"{s:s,s:s,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "type", "summary",
		"catch_all", f->catch_all, "packets", box_pkt_summary(f->pkt), "dns_names", names,
		"dns_queries", (json_int_t)f->dns_queries, "udp_datagrams",
		(json_int_t)f->udp_datagrams, "tcp_accepted", (json_int_t)f->accepted,
		"tcp_refused", (json_int_t)f->refused, "records_dropped",
		(json_int_t)f->records_dropped, "pcap_bytes", (json_int_t)f->dumped, "pcap_dropped",
		(json_int_t)f->dump_dropped, "kernel_dropped", (json_int_t)ps.ps_drop,
		"open_connections", (json_int_t)f->nconns);
	/* The summary always goes out, past the record bound. */
	char *line = json_dumps(sum, BOX_JSON);
	if (line) {
		size_t len = strlen(line);
		line[len] = '\n';
		ssize_t w = write(f->args->log_fd, line, len + 1);
		(void)w;
		free(line);
	}
	json_decref(sum);
	if (f->dump)
		box_pcap_dump_close(f->dump);
	f->dump = NULL;
}

static void on_term(uv_signal_t *s, int signum)
{
	struct fake *f = s->data;
	finish(f);
	uv_stop(&f->loop);
}

/* ------------------------------------------------------------------ set-up */

static int udp_socket(uint16_t port, int opt)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (opt)
		setsockopt(fd, IPPROTO_IP, opt, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int tcp_listen(struct fake *f, uint16_t port)
{
	if (f->nlisteners >= LIB_ARRAY_LEN(f->listeners))
		return -ENOSPC;
	uv_tcp_t *l = &f->listeners[f->nlisteners];
	uv_tcp_init(&f->loop, l);
	l->data = f;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int rc = uv_tcp_bind(l, (struct sockaddr *)&sa, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)l, 1024, on_accept);
	if (rc) {
		uv_close((uv_handle_t *)l, NULL);
		return rc;
	}
	f->nlisteners++;
	return 0;
}

#define SETUP(expr, what) \
	do { \
		int rc_ = (expr); \
		if (rc_ < 0) { \
			snprintf(err, errlen, "%s: %s", what, strerror(-rc_)); \
			return rc_; \
		} \
	} while (0)

static int setup_net(struct fake *f, char *err, size_t errlen)
{
	const struct box_fakenet_args *a = f->args;
	int nl = box_nl_open();
	SETUP(nl, "netlink");
	box_write_text("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	box_write_text("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	int rc = box_nl_link_up(nl, "lo");
	if (!rc)
		rc = box_nl_veth(nl, FAKE_IF, box_gateway_mac, SAMPLE_IF, box_sample_mac,
				 a->sample_pid);
	if (!rc)
		rc = box_nl_addr(nl, FAKE_IF, BOX_GATEWAY_IP, BOX_LAN_PREFIX);
	if (!rc)
		rc = box_nl_link_up(nl, FAKE_IF);
	for (size_t i = 0; !rc && i < box_ndevices; i++)
		rc = box_nl_addr(nl, "lo", box_devices[i].ip, 32);
	if (!rc)
		rc = box_nl_route(nl, 0, 0, 0, "lo", true); /* AnyIP */
	close(nl);
	SETUP(rc, "network set-up");
	return 0;
}

static int setup_sockets(struct fake *f, char *err, size_t errlen)
{
	f->dns_fd = udp_socket(53, IP_PKTINFO);
	SETUP(f->dns_fd, "DNS socket");
	f->udp_fd = udp_socket(1, IP_RECVORIGDSTADDR);
	SETUP(f->udp_fd, "UDP socket");
	f->ssdp_fd = udp_socket(1900, 0);
	SETUP(f->ssdp_fd, "SSDP socket");
	struct ip_mreqn mr = {.imr_ifindex = (int)if_nametoindex(FAKE_IF)};
	inet_pton(AF_INET, "239.255.255.250", &mr.imr_multiaddr);
	setsockopt(f->ssdp_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	SETUP(tcp_listen(f, 1), "TCP listener");
	int fd;
	uv_fileno((uv_handle_t *)&f->listeners[0], &fd);
	int link;
	if (box_catchall_attach(fd, f->udp_fd, &link) == 0) {
		f->catch_all = "sk_lookup";
	} else {
		f->catch_all = "ports";
		for (size_t i = 0; i < LIB_ARRAY_LEN(fallback_ports); i++)
			if (fallback_ports[i] != 1900)
				tcp_listen(f, fallback_ports[i]);
	}
	return 0;
}

LIB_DL_LIBRARY(box_pcap_load, BOX_PCAP_SONAME, BOX_PCAP_PACKAGE, BOX_PCAP_SYMBOLS)

static int setup_capture(struct fake *f, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	if (box_pcap_load(err, errlen))
		return -ENOENT;
	f->pcap = box_pcap_create(FAKE_IF, perr);
	if (!f->pcap) {
		snprintf(err, errlen, "pcap: %.200s", perr);
		return -EIO;
	}
	box_pcap_set_snaplen(f->pcap, FAKE_SNAPLEN);
	box_pcap_set_immediate_mode(f->pcap, 1);
	box_pcap_set_buffer_size(f->pcap, 4 << 20);
	if (box_pcap_activate(f->pcap) < 0 || box_pcap_setnonblock(f->pcap, 1, perr) < 0) {
		snprintf(err, errlen, "pcap: %s", box_pcap_geterr(f->pcap));
		return -EIO;
	}
	if (f->args->pcap_fd >= 0) {
		FILE *fp = fdopen(f->args->pcap_fd, "w");
		if (fp)
			f->dump = box_pcap_dump_fopen(f->pcap, fp);
		if (f->dump)
			f->dumped = 24;
	}
	return 0;
}

static int drop_root(const struct box_fakenet_args *a, char *err, size_t errlen)
{
	if (a->keep_uid) /* rootless: there is no other uid to go to */
		return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
	if (setgroups(0, NULL) < 0 || setresgid(a->gid, a->gid, a->gid) < 0 ||
	    setresuid(a->uid, a->uid, a->uid) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "dropping root: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int box_fakenet_main(const struct box_fakenet_args *a)
{
	pid_t runner = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "mitsu-fakenet");
	/* SIGTERM (the end of the run) waits until the loop can write the summary. */
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	char err[256] = "";
	struct fake *f = xcalloc(1, sizeof(*f));
	f->args = a;
	f->dns_fd = f->udp_fd = f->ssdp_fd = -1;
	f->log = json_array();
	f->pkt = box_pkt_new(box_gateway_mac);
	box_set_init(&f->dns_seen, BOX_FAKE_RECORDS);
	box_set_init(&f->udp_seen, BOX_FAKE_RECORDS);
	uv_loop_init(&f->loop);
	int rc = unshare(CLONE_NEWNET) < 0 ? -errno : 0;
	if (rc)
		snprintf(err, sizeof(err), "unshare(net): %s", strerror(-rc));
	if (!rc)
		rc = setup_net(f, err, sizeof(err));
	if (!rc)
		rc = setup_sockets(f, err, sizeof(err));
	if (!rc)
		rc = setup_capture(f, err, sizeof(err));
	if (!rc)
		rc = drop_root(a, err, sizeof(err));
	/* A change of credentials clears the parent-death signal: set it again, or a runner
	 * killed outright (the queue's time limit, the sensor stopping) would leave this process
	 * behind for good; and the runner may have gone meanwhile. */
	if (!rc && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != runner))
		_exit(1);
	/* Tell the runner: "ok <catch-all mode>" or the error. */
	char msg[320];
	int len =
		snprintf(msg, sizeof(msg), "%s %s\n", rc ? "error" : "ok", rc ? err : f->catch_all);
	ssize_t w = write(a->ready_fd, msg, (size_t)len);
	(void)w;
	close(a->ready_fd);
	if (rc)
		_exit(1);

	int pfd = box_pcap_get_selectable_fd(f->pcap);
	uv_poll_init(&f->loop, &f->pcap_poll, pfd);
	uv_poll_init(&f->loop, &f->dns_poll, f->dns_fd);
	uv_poll_init(&f->loop, &f->udp_poll, f->udp_fd);
	uv_poll_init(&f->loop, &f->ssdp_poll, f->ssdp_fd);
	f->pcap_poll.data = f->dns_poll.data = f->udp_poll.data = f->ssdp_poll.data = f;
	uv_poll_start(&f->pcap_poll, UV_READABLE, on_pcap);
	uv_poll_start(&f->dns_poll, UV_READABLE, on_dns);
	uv_poll_start(&f->udp_poll, UV_READABLE, on_udp);
	uv_poll_start(&f->ssdp_poll, UV_READABLE, on_ssdp);
	uv_timer_init(&f->loop, &f->tick);
	f->tick.data = f;
	uv_timer_start(&f->tick, on_tick, FAKE_TICK_MS, FAKE_TICK_MS);
	uv_signal_init(&f->loop, &f->term);
	f->term.data = f;
	uv_signal_start(&f->term, on_term, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &term, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	/* A forked child: _exit, so nothing of the runner (atexit, stdio) runs twice. */
	_exit(0);
}
