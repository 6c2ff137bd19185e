/* The fake internet's services as byte-in, bytes-out state machines (no sockets here, so the
 * unit tests and the fuzzer can feed them any split of input): the fake DNS, and one TCP
 * connection that becomes a Telnet login, an HTTP server (router pages, UPnP), or a dummy
 * C&C speaking enough of Mirai's binary protocol, Gafgyt/Bashlite's text lines and
 * Tsunami/Kaiten's IRC to order a scan and a flood. */
#include "box/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ address plan */

const uint8_t box_sample_mac[6] = {0x02, 0x6d, 0x69, 0x74, 0x73, 0x75};
const uint8_t box_gateway_mac[6] = {0x02, 0x6d, 0x69, 0x74, 0x73, 0x01};
const struct box_device box_devices[] = {
	{.ip = BOX_IP(192, 168, 1, 2), .name = "ip-camera"},
	{.ip = BOX_IP(192, 168, 1, 3), .name = "nas"},
	{.ip = BOX_IP(192, 168, 1, 4), .name = "smart-tv"},
};
const size_t box_ndevices = LIB_ARRAY_LEN(box_devices);

bool box_ip_is_lan(uint32_t ip)
{
	return (ip & (0xffffffffu << (32 - BOX_LAN_PREFIX))) == BOX_LAN_NET;
}

const char *box_ip_class(uint32_t ip)
{
	if (ip == BOX_GATEWAY_IP)
		return "gateway";
	if (box_ip_is_lan(ip))
		return (ip & 0xff) == 0xff ? "broadcast" : "lan";
	if (ip == 0xffffffffu)
		return "broadcast";
	if ((ip >> 24) == 10 || (ip >> 20) == (172 << 4 | 1) || (ip >> 16) == (192 << 8 | 168))
		return "rfc1918";
	if ((ip >> 22) == (100 << 2 | 1))
		return "cgnat";
	if ((ip >> 24) == 127)
		return "loopback";
	if ((ip >> 16) == (169 << 8 | 254))
		return "link-local";
	if ((ip >> 28) == 0xe)
		return "multicast";
	if ((ip >> 24) == 0 || (ip >> 28) == 0xf)
		return "reserved";
	return "internet";
}

void box_ip_str(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* ------------------------------------------------------------------ DNS */

uint32_t box_dnsmap_ip(struct box_dnsmap *m, const char *name)
{
	for (size_t i = 0; i < m->count; i++)
		if (strcmp(m->names[i], name) == 0)
			return BOX_DNS_POOL + (uint32_t)i + 1;
	if (m->count == BOX_DNS_NAMES)
		return BOX_DNS_POOL + BOX_DNS_NAMES; /* the last address, shared by the overflow */
	lib_strlcpy(m->names[m->count], name, sizeof(m->names[0]));
	m->count++;
	return BOX_DNS_POOL + (uint32_t)m->count;
}

const char *box_dnsmap_name(const struct box_dnsmap *m, uint32_t ip)
{
	if ((ip & 0xffffff00u) != BOX_DNS_POOL)
		return NULL;
	uint32_t i = ip & 0xff;
	if (i == 0 || i > m->count || (i == BOX_DNS_NAMES && m->overflowed))
		return NULL;
	return m->names[i - 1];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Reads the question name at p[off]: labels only (a compression pointer in a question is
 * refused), at most 253 characters, lower-cased; bytes outside [a-z0-9-_] become '?'. */
static int dns_name(const uint8_t *p, size_t n, size_t *off, char name[256])
{
	size_t o = *off, len = 0;
	name[0] = '\0';
	for (;;) {
		if (o >= n)
			return -1;
		uint8_t l = p[o++];
		if (l == 0)
			break;
		if (l > 63 || o + l > n || len + l + 1 > 253)
			return -1;
		if (len)
			name[len++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			int c = tolower(p[o + i]);
			name[len++] = (char)(isalnum(c) || c == '-' || c == '_' ? c : '?');
		}
		o += l;
	}
	name[len] = '\0';
	*off = o;
	return 0;
}

size_t box_dns_reply(struct box_dnsmap *m, const uint8_t *q, size_t n, uint8_t *out, size_t outmax,
		     char name[256], uint16_t *qtype, uint32_t *answer)
{
	*answer = 0;
	*qtype = 0;
	name[0] = '\0';
	if (n < 12 || (q[2] & 0x80) || (q[2] & 0x78) || get16(q + 4) < 1)
		return 0; /* a response, not a standard query, or no question */
	size_t off = 12;
	if (dns_name(q, n, &off, name) || off + 4 > n)
		return 0;
	*qtype = get16(q + off);
	uint16_t qclass = get16(q + off + 2);
	size_t qend = off + 4;
	size_t need = qend + 16;
	if (need > outmax)
		return 0;
	memcpy(out, q, qend);
	out[2] = (uint8_t)(0x84 | (q[2] & 0x01)); /* QR, AA, RD copied */
	out[3] = 0x80;                            /* RA, NOERROR */
	put16(out + 4, 1);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	if (*qtype != 1 || (qclass != 1 && qclass != 255) || !name[0])
		return qend; /* no address of that type: NOERROR, no answer */
	*answer = box_dnsmap_ip(m, name);
	if (m->count == BOX_DNS_NAMES && *answer == BOX_DNS_POOL + BOX_DNS_NAMES &&
	    strcmp(m->names[BOX_DNS_NAMES - 1], name) != 0)
		m->overflowed = true;
	uint8_t *a = out + qend;
	put16(a, 0xc00c);
	put16(a + 2, 1);
	put16(a + 4, 1);
	put16(a + 6, 0);
	put16(a + 8, 60); /* TTL */
	put16(a + 10, 4);
	uint32_t ip = htonl(*answer);
	memcpy(a + 12, &ip, 4);
	put16(out + 6, 1);
	return qend + 16;
}

/* ------------------------------------------------------------------ TCP services */

static const uint16_t telnet_ports[] = {23, 2323};
static const char *const http_methods[] = {"GET ",      "POST ",      "HEAD ",
					   "PUT ",      "OPTIONS ",   "DELETE ",
					   "M-SEARCH ", "SUBSCRIBE ", "NOTIFY "};
static const char *const irc_verbs[] = {"NICK ", "USER ", "PASS ", "CAP "};
static const char *const svc_names[] = {
	[SVC_UNKNOWN] = "silent", [SVC_TELNET] = "telnet", [SVC_HTTP] = "http",
	[SVC_MIRAI] = "mirai",    [SVC_GAFGYT] = "gafgyt", [SVC_IRC] = "irc",
	[SVC_OTHER] = "other",
};

const char *box_svc_name(enum box_svc s)
{
	return svc_names[s];
}

bool box_svc_is_cnc(enum box_svc s)
{
	return s == SVC_MIRAI || s == SVC_GAFGYT || s == SVC_IRC;
}

static void dst_text(const struct box_conn *c, char out[64])
{
	char ip[16];
	box_ip_str(c->dst_ip, ip);
	snprintf(out, 64, "%s:%u", ip, c->dst_port);
}

/* A record for the fake internet's log, tagged with the connection's destination. */
static json_t *record(const struct box_conn *c, const char *type)
{
	char dst[64];
	dst_text(c, dst);
	json_t *o = json_pack("{s:s,s:s,s:i}", "type", type, "dst", dst, "port", c->dst_port);
	if (c->dst_name)
		json_object_set_new(o, "name", json_string(c->dst_name));
	return o;
}

static void log_rec(json_t *log, json_t *rec)
{
	if (log)
		json_array_append_new(log, rec);
	else
		json_decref(rec);
}

void box_conn_init(struct box_conn *c, uint32_t src_ip, uint16_t src_port, uint32_t dst_ip,
		   uint16_t dst_port, const char *dst_name, uint64_t now)
{
	memset(c, 0, sizeof(*c));
	c->src_ip = src_ip;
	c->src_port = src_port;
	c->dst_ip = dst_ip;
	c->dst_port = dst_port;
	c->dst_name = dst_name;
	c->lan = box_ip_is_lan(dst_ip);
	c->t0 = c->t_rx = now;
	for (size_t i = 0; i < LIB_ARRAY_LEN(telnet_ports); i++)
		c->telnet_port |= dst_port == telnet_ports[i];
	buf_init(&c->in, BOX_FAKE_LINE + 16);
}

void box_conn_free(struct box_conn *c)
{
	buf_free(&c->in);
}

static void out_str(struct buf *out, const char *s)
{
	buf_append_str(out, s);
}

/* The dummy C&C's orders, in the syntax of each family. */
static void gafgyt_command(struct box_conn *c, struct buf *out, json_t *log)
{
	static const char *const cmds[] = {"PING\n", "!* SCANNER ON\n", NULL};
	char udp[96], ip[16];
	box_ip_str(BOX_ATTACK_TARGET, ip);
	snprintf(udp, sizeof(udp), "!* UDP %s %d %d 32 0 10\n", ip, BOX_ATTACK_PORT,
		 BOX_ATTACK_SECS);
	const char *cmd = c->cmd_step < 2 ? cmds[c->cmd_step] : udp;
	out_str(out, cmd);
	json_t *r = record(c, "cnc_command");
	json_object_set_new(r, "protocol", json_string("gafgyt"));
	json_object_set_new(r, "command", json_stringn(cmd, strlen(cmd) - 1));
	log_rec(log, r);
}

static void irc_command(struct box_conn *c, struct buf *out, json_t *log)
{
	char line[256], ip[16], cmd[96];
	box_ip_str(BOX_ATTACK_TARGET, ip);
	if (c->cmd_step == 0)
		snprintf(cmd, sizeof(cmd), "!* SCANNER ON");
	else
		snprintf(cmd, sizeof(cmd), "!* UDP %s %d %d", ip, BOX_ATTACK_PORT, BOX_ATTACK_SECS);
	snprintf(line, sizeof(line), ":master!master@c2.fake PRIVMSG %s :%s\r\n",
		 c->chan[0]   ? c->chan
		 : c->nick[0] ? c->nick
			      : "*",
		 cmd);
	out_str(out, line);
	json_t *r = record(c, "cnc_command");
	json_object_set_new(r, "protocol", json_string("irc"));
	json_object_set_new(r, "command", json_string(cmd));
	log_rec(log, r);
}

/* Mirai's attack command (bot/attack.c): u16 length (this CNC counts the two length bytes,
 * as the original admin panel does), u32 duration, u8 vector, u8 targets, {u32 address, u8
 * netmask}..., u8 options, {u8 key, u8 length, value}... Vector 0 is the generic UDP flood;
 * option 7 is the destination port. */
static void mirai_command(struct box_conn *c, struct buf *out, json_t *log)
{
	uint8_t m[32];
	size_t k = 2;
	uint32_t secs = BOX_ATTACK_SECS, ip = BOX_ATTACK_TARGET;
	m[k++] = (uint8_t)(secs >> 24), m[k++] = (uint8_t)(secs >> 16),
	m[k++] = (uint8_t)(secs >> 8), m[k++] = (uint8_t)secs;
	m[k++] = 0; /* ATK_VEC_UDP */
	m[k++] = 1;
	m[k++] = (uint8_t)(ip >> 24), m[k++] = (uint8_t)(ip >> 16), m[k++] = (uint8_t)(ip >> 8),
	m[k++] = (uint8_t)ip;
	m[k++] = 32;
	m[k++] = 1;
	char port[8];
	int pl = snprintf(port, sizeof(port), "%d", BOX_ATTACK_PORT);
	m[k++] = 7; /* ATK_OPT_DPORT */
	m[k++] = (uint8_t)pl;
	memcpy(m + k, port, (size_t)pl);
	k += (size_t)pl;
	put16(m, (uint16_t)k);
	buf_append(out, m, k);
	char ipt[16], text[96];
	box_ip_str(ip, ipt);
	snprintf(text, sizeof(text), "attack udp %s/32 dport=%d duration=%u", ipt, BOX_ATTACK_PORT,
		 secs);
	json_t *r = record(c, "cnc_command");
	json_object_set_new(r, "protocol", json_string("mirai"));
	json_object_set_new(r, "command", json_string(text));
	log_rec(log, r);
}

static void become(struct box_conn *c, enum box_svc svc, uint64_t now, json_t *log, const char *why)
{
	c->svc = svc;
	if (!box_svc_is_cnc(svc))
		return;
	c->cmd_step = 0;
	c->t_cmd = now + BOX_CMD_GAP_MS;
	json_t *r = record(c, "cnc");
	json_object_set_new(r, "protocol", json_string(svc_names[svc]));
	json_object_set_new(r, "checkin", json_string(why));
	log_rec(log, r);
}

static void log_line(struct box_conn *c, const char *type, const char *text, size_t len,
		     json_t *log)
{
	if (c->lines_logged >= BOX_FAKE_CREDS * 2)
		return;
	c->lines_logged++;
	json_t *r = record(c, type);
	json_object_set_new(r, "text", core_json_bytes(text, LIB_MIN(len, (size_t)BOX_FAKE_FIRST)));
	log_rec(log, r);
}

/* Takes one line (without CR/LF) out of c->in; returns its length or -1 if none is complete.
 * A line longer than BOX_FAKE_LINE is cut there. */
static long take_line(struct box_conn *c, char *line, size_t max)
{
	if (c->in.len == 0)
		return -1;
	uint8_t *nl = memchr(c->in.data, '\n', c->in.len);
	size_t len;
	if (nl)
		len = (size_t)(nl - c->in.data);
	else if (c->in.len >= BOX_FAKE_LINE)
		len = BOX_FAKE_LINE;
	else
		return -1;
	size_t keep = LIB_MIN(len, max - 1);
	memcpy(line, c->in.data, keep);
	while (keep && (line[keep - 1] == '\r' || line[keep - 1] == '\0'))
		keep--;
	line[keep] = '\0';
	buf_consume(&c->in, nl ? len + 1 : len);
	return (long)keep;
}

/* Telnet commands (IAC ...) are removed from the input as it arrives, by a byte-at-a-time
 * state machine kept on the connection, so any split of a command is handled. */
enum { TN_DATA, TN_IAC, TN_OPT, TN_SB, TN_SB_IAC };

static void telnet_filter(struct box_conn *c, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		switch (c->tn_state) {
		case TN_DATA:
			if (b == 255)
				c->tn_state = TN_IAC;
			else if (buf_append(&c->in, &b, 1))
				buf_reset(&c->in); /* a line longer than the bound is dropped */
			break;
		case TN_IAC:
			if (b == 255) {
				if (buf_append(&c->in, &b, 1))
					buf_reset(&c->in);
				c->tn_state = TN_DATA;
			} else if (b >= 251 && b <= 254) {
				c->tn_state = TN_OPT;
			} else if (b == 250) {
				c->tn_state = TN_SB;
			} else {
				c->tn_state = TN_DATA;
			}
			break;
		case TN_OPT: c->tn_state = TN_DATA; break;
		case TN_SB:
			if (b == 255)
				c->tn_state = TN_SB_IAC;
			break;
		case TN_SB_IAC: c->tn_state = b == 240 ? TN_DATA : TN_SB; break;
		}
	}
}

static void telnet_input(struct box_conn *c, uint64_t now, struct buf *out, json_t *log)
{
	char line[BOX_FAKE_LINE + 1];
	long len;
	while ((len = take_line(c, line, sizeof(line))) >= 0) {
		if (c->telnet_stage == 0) {
			lib_strlcpy(c->user, line, sizeof(c->user));
			out_str(out, "Password: ");
			c->telnet_stage = 1;
		} else if (c->telnet_stage == 1) {
			if (c->creds < BOX_FAKE_CREDS) {
				json_t *r = record(c, "telnet_login");
				json_object_set_new(r, "username", core_json_str(c->user));
				json_object_set_new(r, "password",
						    core_json_bytes(line, (size_t)len));
				log_rec(log, r);
			}
			c->creds++;
			out_str(out, "\r\nBusyBox v1.22.1 built-in shell (ash)\r\n\r\n# ");
			c->telnet_stage = 2;
		} else {
			log_line(c, "telnet_command", line, (size_t)len, log);
			const char *bb = strstr(line, "/bin/busybox ");
			if (bb) {
				char applet[64];
				if (sscanf(bb + 13, "%63s", applet) == 1) {
					out_str(out, applet);
					out_str(out, ": applet not found\r\n");
				}
			}
			out_str(out, "# ");
		}
	}
	(void)now;
}

static void gafgyt_input(struct box_conn *c, struct buf *out, json_t *log)
{
	char line[BOX_FAKE_LINE + 1];
	long len;
	while ((len = take_line(c, line, sizeof(line))) >= 0) {
		if (len == 0)
			continue;
		log_line(c, "cnc_reply", line, (size_t)len, log);
		if (strcmp(line, "PING") == 0)
			out_str(out, "PONG\n");
	}
}

static void irc_input(struct box_conn *c, uint64_t now, struct buf *out, json_t *log)
{
	char line[BOX_FAKE_LINE + 1];
	long len;
	while ((len = take_line(c, line, sizeof(line))) >= 0) {
		if (len == 0)
			continue;
		char reply[512];
		if (strncasecmp(line, "NICK ", 5) == 0) {
			const char *n = line + 5;
			if (*n == ':')
				n++;
			size_t k = strcspn(n, " \r\n");
			snprintf(c->nick, sizeof(c->nick), "%.*s",
				 (int)LIB_MIN(k, sizeof(c->nick) - 1), n);
			log_line(c, "cnc_reply", line, (size_t)len, log);
		} else if (strncasecmp(line, "USER ", 5) == 0) {
			log_line(c, "cnc_reply", line, (size_t)len, log);
		} else if (strncasecmp(line, "PING", 4) == 0) {
			out_str(out, "PONG");
			buf_append(out, line + 4, LIB_MIN(strlen(line + 4), (size_t)400));
			out_str(out, "\r\n");
		} else if (strncasecmp(line, "JOIN ", 5) == 0) {
			const char *ch = line + 5;
			if (*ch == ':')
				ch++;
			size_t k = strcspn(ch, " ,\r\n");
			snprintf(c->chan, sizeof(c->chan), "%.*s",
				 (int)LIB_MIN(k, sizeof(c->chan) - 1), ch);
			snprintf(reply, sizeof(reply), ":%s!%s@bot.fake JOIN :%s\r\n",
				 c->nick[0] ? c->nick : "bot", c->nick[0] ? c->nick : "bot",
				 c->chan);
			out_str(out, reply);
			json_t *r = record(c, "irc_join");
			json_object_set_new(r, "channel", core_json_str(c->chan));
			log_rec(log, r);
			if (c->cmd_step == 0)
				c->t_cmd = now + BOX_CMD_GAP_MS;
		} else {
			log_line(c, "cnc_reply", line, (size_t)len, log);
		}
		if (!c->irc_registered && c->nick[0]) {
			snprintf(reply, sizeof(reply),
				 ":irc.fake 001 %s :Welcome to the Internet Relay Network %s\r\n"
				 ":irc.fake 376 %s :End of /MOTD command.\r\n",
				 c->nick, c->nick, c->nick);
			out_str(out, reply);
			c->irc_registered = true;
			/* Without a JOIN, the orders go to the bot's nick after the usual wait. */
			c->t_cmd = now + BOX_SILENT_CNC_MS;
		}
	}
}

static void mirai_input(struct box_conn *c, uint64_t now, struct buf *out, json_t *log)
{
	/* Check-in: 00 00 00 01, u8 id length, id. Then two zero bytes are a ping (echoed). */
	if (!c->mirai_checked_in) {
		if (c->in.len < 5)
			return;
		size_t idlen = c->in.data[4];
		if (c->in.len < 5 + idlen)
			return;
		json_t *r = record(c, "cnc_checkin");
		json_object_set_new(r, "protocol", json_string("mirai"));
		json_object_set_new(r, "bot_id", core_json_bytes(c->in.data + 5, idlen));
		log_rec(log, r);
		buf_consume(&c->in, 5 + idlen);
		c->mirai_checked_in = true;
		c->t_cmd = now + BOX_CMD_GAP_MS;
	}
	while (c->in.len >= 2) {
		if (c->in.data[0] == 0 && c->in.data[1] == 0)
			buf_append(out, "\0\0", 2);
		buf_consume(&c->in, 2);
	}
}

/* HTTP: the request line and headers (up to BOX_FAKE_LINE bytes), then Content-Length bytes of
 * body (the first BOX_FAKE_FIRST kept). Answers as the device the address belongs to. */
static const char *header(const char *head, const char *name, char *val, size_t max)
{
	const char *p = head;
	size_t nl = strlen(name);
	while ((p = strchr(p, '\n'))) {
		p++;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t k = strcspn(v, "\r\n");
			snprintf(val, max, "%.*s", (int)LIB_MIN(k, max - 1), v);
			return val;
		}
	}
	return NULL;
}

/* The request head, once it has all arrived: logged, and the body to expect. Returns 1 to
 * close (a head longer than the bound), 0 otherwise; c->http_head_done says whether it came. */
static int http_head(struct box_conn *c)
{
	uint8_t *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
	if (!end)
		return c->in.len >= BOX_FAKE_LINE; /* headers too long: close */
	size_t hlen = (size_t)(end - c->in.data) + 4;
	if (hlen > BOX_FAKE_LINE)
		return 1; /* headers longer than the bound: close */
	char head[BOX_FAKE_LINE + 1];
	memcpy(head, c->in.data, hlen);
	head[hlen] = '\0';
	buf_consume(&c->in, hlen);
	char method[16] = "", path[512] = "", v[256];
	sscanf(head, "%15s %511s", method, path);
	json_t *r = record(c, "http");
	json_object_set_new(r, "method", core_json_str(method));
	json_object_set_new(r, "path", core_json_str(path));
	if (header(head, "Host", v, sizeof(v)))
		json_object_set_new(r, "host", core_json_str(v));
	if (header(head, "User-Agent", v, sizeof(v)))
		json_object_set_new(r, "user_agent", core_json_str(v));
	if (header(head, "SOAPAction", v, sizeof(v))) {
		json_object_set_new(r, "soapaction", core_json_str(v));
		c->upnp_action = strstr(v, "AddPortMapping") ? 2 : 1;
	}
	if (strcasecmp(method, "M-SEARCH") == 0)
		c->upnp_action = 1;
	long clen = header(head, "Content-Length", v, sizeof(v)) ? atol(v) : 0;
	c->http_body_left = clen > 0 ? (size_t)LIB_MIN(clen, 1L << 20) : 0;
	c->http_rec = r;
	c->http_head_done = true;
	lib_strlcpy(c->http_path, path, sizeof(c->http_path));
	return 0;
}

/* Takes what has come of the body; the first BOX_FAKE_FIRST bytes are kept in the record. */
static void http_body(struct box_conn *c)
{
	size_t take = LIB_MIN(c->in.len, c->http_body_left);
	if (take && c->http_rec) {
		size_t keep =
			LIB_MIN(take, (size_t)BOX_FAKE_FIRST -
					      LIB_MIN(c->http_body_kept, (size_t)BOX_FAKE_FIRST));
		if (keep) {
			json_t *old = json_object_get(c->http_rec, "body");
			struct buf b;
			buf_init(&b, BOX_FAKE_FIRST * 8);
			if (old)
				buf_append_str(&b, json_string_value(old));
			buf_append(&b, c->in.data, keep);
			json_object_set_new(c->http_rec, "body", core_json_bytes(b.data, b.len));
			buf_free(&b);
			c->http_body_kept += keep;
		}
	}
	buf_consume(&c->in, take);
	c->http_body_left -= take;
}

/* A complete request: logged, and answered as a small router would (UPnP control, its
 * description XML, or a login page). */
static void http_answer(struct box_conn *c, struct buf *out, json_t *log)
{
	json_t *r = c->http_rec;
	c->http_rec = NULL;
	const char *body;
	char resp[2048];
	bool upnp_map = c->upnp_action == 2;
	if (c->upnp_action) {
		json_t *u = record(c, "upnp");
		json_object_set_new(u, "action",
				    json_string(upnp_map ? "AddPortMapping" : "control"));
		json_object_set_new(u, "path", core_json_str(c->http_path));
		log_rec(log, u);
	}
	if (upnp_map)
		body = "<?xml version=\"1.0\"?><s:Envelope "
		       "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
		       "<s:Body><u:AddPortMappingResponse "
		       "xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\"/>"
		       "</s:Body></s:Envelope>";
	else if (lib_str_suffix(c->http_path, ".xml"))
		body = "<?xml version=\"1.0\"?><root "
		       "xmlns=\"urn:schemas-upnp-org:device-1-0\"><device>"
		       "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</"
		       "deviceType>"
		       "<friendlyName>Home Router</friendlyName><serviceList><service>"
		       "<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
		       "<controlURL>/ctl/IPConn</controlURL></service></serviceList></device></"
		       "root>";
	else
		body = "<html><head><title>Login</title></head><body><form method=\"post\" "
		       "action=\"/login.cgi\">"
		       "User <input name=\"username\"> Password <input type=\"password\" "
		       "name=\"password\">"
		       "</form></body></html>";
	snprintf(resp, sizeof(resp),
		 "HTTP/1.1 200 OK\r\nServer: mini_httpd/1.19 19dec2003\r\nContent-Type: %s\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 c->upnp_action || lib_str_suffix(c->http_path, ".xml") ? "text/xml" : "text/html",
		 strlen(body), body);
	out_str(out, resp);
	log_rec(log, r);
	c->http_requests++;
}

/* The fake web server: one request per connection. Returns 1 to close. */
static int http_input(struct box_conn *c, struct buf *out, json_t *log)
{
	if (!c->http_head_done) {
		if (c->in.len == 0)
			return 0;
		if (http_head(c))
			return 1;
		if (!c->http_head_done)
			return 0;
	}
	http_body(c);
	if (c->http_body_left)
		return 0;
	http_answer(c, out, log);
	return 1;
}

/* Whether the first min(n, wlen) bytes of p match word (wlen bytes, may hold NULs). */
static bool prefix_match(const uint8_t *p, size_t n, const char *word, size_t wlen, bool nocase)
{
	size_t k = LIB_MIN(n, wlen);
	return nocase ? strncasecmp((const char *)p, word, k) == 0 : memcmp(p, word, k) == 0;
}

/* Decides what the peer speaks from its first bytes. Returns false while undecided. */
static bool classify(struct box_conn *c, uint64_t now, json_t *log)
{
	const uint8_t *p = c->in.data;
	size_t n = c->in.len;
	if (n == 0)
		return false;
	bool maybe = false;
	if (prefix_match(p, n, "\0\0\0\1", 4, false)) {
		if (n >= 4 && !c->lan) {
			become(c, SVC_MIRAI, now, log, "mirai handshake");
			return true;
		}
		maybe = n < 4;
	}
	if (p[0] == 255) {
		become(c, SVC_TELNET, now, log, NULL);
		return true;
	}
	for (size_t i = 0; i < LIB_ARRAY_LEN(http_methods); i++) {
		if (prefix_match(p, n, http_methods[i], strlen(http_methods[i]), false)) {
			if (n >= strlen(http_methods[i])) {
				become(c, SVC_HTTP, now, log, NULL);
				return true;
			}
			maybe = true;
		}
	}
	for (size_t i = 0; i < LIB_ARRAY_LEN(irc_verbs); i++) {
		if (prefix_match(p, n, irc_verbs[i], strlen(irc_verbs[i]), true)) {
			if (n >= strlen(irc_verbs[i])) {
				if (c->lan)
					become(c, SVC_OTHER, now, log, NULL);
				else
					become(c, SVC_IRC, now, log, "irc registration");
				return true;
			}
			maybe = true;
		}
	}
	if (maybe && n < 16)
		return false;
	if (c->prompt_sent) {
		become(c, SVC_TELNET, now, log, NULL);
		return true;
	}
	/* A line of text from a bot that speaks first: Gafgyt-style check-in ("BUILD ..."). */
	bool text = true;
	for (size_t i = 0; i < n && i < 64; i++)
		text &= isprint(p[i]) || p[i] == '\r' || p[i] == '\n' || p[i] == '\t';
	if (text && !c->lan) {
		if (!memchr(p, '\n', n) && n < 64)
			return false;
		become(c, SVC_GAFGYT, now, log, "text line");
		return true;
	}
	become(c, SVC_OTHER, now, log, NULL);
	return true;
}

int box_conn_input(struct box_conn *c, const uint8_t *p, size_t n, uint64_t now, struct buf *out,
		   json_t *log)
{
	if (n == 0)
		return 0;
	c->t_rx = now;
	c->rx += n;
	size_t k = LIB_MIN(n, sizeof(c->first) - c->nfirst);
	memcpy(c->first + c->nfirst, p, k);
	c->nfirst += k;
	if (c->svc == SVC_OTHER)
		return 0; /* counted, not kept */
	if (c->svc == SVC_TELNET) {
		telnet_filter(c, p, n);
	} else if (buf_append(&c->in, p, n)) {
		/* More than a line's worth without a boundary: keep the tail only. */
		size_t keep = LIB_MIN(n, c->in.max - 1);
		buf_reset(&c->in);
		buf_append(&c->in, p + n - keep, keep);
	}
	if (c->svc == SVC_UNKNOWN) {
		if (!classify(c, now, log))
			return 0;
		if (c->svc == SVC_TELNET) {
			/* What came before the decision was raw: filter it now. */
			size_t raw_len;
			uint8_t *raw = buf_steal(&c->in, &raw_len);
			telnet_filter(c, raw, raw_len);
			free(raw);
		}
	}
	switch (c->svc) {
	case SVC_TELNET: telnet_input(c, now, out, log); break;
	case SVC_HTTP: return http_input(c, out, log);
	case SVC_MIRAI: mirai_input(c, now, out, log); break;
	case SVC_GAFGYT: gafgyt_input(c, out, log); break;
	case SVC_IRC: irc_input(c, now, out, log); break;
	default: buf_reset(&c->in); break;
	}
	return 0;
}

uint64_t box_conn_tick(struct box_conn *c, uint64_t now, struct buf *out, json_t *log)
{
	bool silent = c->rx == 0;
	if (silent && c->telnet_port && !c->prompt_sent) {
		if (now >= c->t0 + BOX_TELNET_PROMPT_MS) {
			out_str(out, "\r\nlogin: ");
			c->prompt_sent = true;
		} else {
			return c->t0 + BOX_TELNET_PROMPT_MS;
		}
	}
	if (silent && c->svc == SVC_UNKNOWN && !c->lan) {
		/* A bot that connects and waits for its master (Gafgyt): take the lead. */
		if (now >= c->t0 + BOX_SILENT_CNC_MS)
			become(c, SVC_GAFGYT, now, log, "silent");
		else
			return c->t0 + BOX_SILENT_CNC_MS;
	}
	if (!box_svc_is_cnc(c->svc))
		return 0;
	if (c->svc == SVC_MIRAI && !c->mirai_checked_in)
		return 0;
	if (c->svc == SVC_IRC && !c->irc_registered)
		return 0;
	const int steps = c->svc == SVC_GAFGYT ? 3 : c->svc == SVC_IRC ? 2 : 1;
	while (c->cmd_step < steps && now >= c->t_cmd) {
		if (c->svc == SVC_GAFGYT)
			gafgyt_command(c, out, log);
		else if (c->svc == SVC_IRC)
			irc_command(c, out, log);
		else
			mirai_command(c, out, log);
		c->cmd_step++;
		c->t_cmd = now + BOX_CMD_GAP_MS;
		return c->cmd_step < steps ? c->t_cmd : 0;
	}
	return c->cmd_step < steps ? c->t_cmd : 0;
}

json_t *box_conn_summary(const struct box_conn *c, uint64_t now)
{
	json_t *r = record(c, "conn");
	char src[16];
	box_ip_str(c->src_ip, src);
	json_object_set_new(r, "service", json_string(svc_names[c->svc]));
	json_object_set_new(r, "class", json_string(box_ip_class(c->dst_ip)));
	json_object_set_new(r, "rx", json_integer((json_int_t)c->rx));
	json_object_set_new(r, "tx", json_integer((json_int_t)c->tx));
	json_object_set_new(r, "seconds", json_real((double)(now - c->t0) / 1000.0));
	json_object_set_new(r, "first", core_json_bytes(c->first, c->nfirst));
	return r;
}

void box_conn_close(struct box_conn *c, json_t *log)
{
	if (c->http_rec) {
		log_rec(log, c->http_rec);
		c->http_rec = NULL;
	}
}
