/* The verdict: what the static analysis and the dynamic run add up to. Family guess, DNS
 * names, C&C endpoints, scanning (ports, rate, targets, Mirai's fingerprint), LAN-side attack
 * with its evidence, DDoS (vector, target), killer, persistence, files written. The thresholds
 * are in internal.h and docs/box.md. */
#include "box/internal.h"

#include <stdlib.h>
#include <string.h>

static json_t *get(const json_t *o, const char *path)
{
	/* "a.b.c" */
	char key[64];
	const json_t *cur = o;
	while (cur && *path) {
		size_t k = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)LIB_MIN(k, sizeof(key) - 1), path);
		cur = json_object_get(cur, key);
		path += k + (path[k] == '.');
	}
	return (json_t *)cur;
}

static json_int_t num(const json_t *o, const char *path)
{
	json_t *v = get(o, path);
	return json_is_integer(v) ? json_integer_value(v)
	       : json_is_real(v)  ? (json_int_t)json_real_value(v)
				  : 0;
}

static double real(const json_t *o, const char *path)
{
	return json_number_value(get(o, path));
}

static const char *str(const json_t *o, const char *path)
{
	return json_string_value(get(o, path));
}

static bool contains_int(const json_t *arr, json_int_t v)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
		if (json_integer_value(x) == v)
			return true;
	return false;
}

static void push_str(json_t *arr, const char *s)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
		if (strcmp(json_string_value(x), s) == 0)
			return;
	json_array_append_new(arr, json_string(s));
}

/* ------------------------------------------------------------------ scan */

struct port_count {
	int port;
	json_int_t targets;
};

/* Merges the per-port distinct-target counts of the capture and of the trace (the larger of
 * the two: a connect() that never left the box because ARP failed is only in the trace; a raw
 * SYN is only in the capture). */
static size_t merge_ports(const json_t *a, const json_t *b, struct port_count *out, size_t max)
{
	size_t n = 0;
	const json_t *lists[] = {a, b};
	for (int l = 0; l < 2; l++) {
		size_t i;
		json_t *x;
		json_array_foreach(lists[l], i, x) {
			int port = (int)num(x, "port");
			json_int_t t = num(x, "targets");
			size_t k = 0;
			while (k < n && out[k].port != port)
				k++;
			if (k == n) {
				if (n == max)
					continue;
				out[n++] = (struct port_count){port, t};
			} else if (t > out[k].targets) {
				out[k].targets = t;
			}
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && out[j].targets > out[j - 1].targets; j--) {
			struct port_count tmp = out[j];
			out[j] = out[j - 1];
			out[j - 1] = tmp;
		}
	return n;
}

static json_t *scan_verdict(const json_t *pkt, const json_t *tr, json_t **scan_ports)
{
	struct port_count pc[64];
	size_t n = merge_ports(get(pkt, "ports_tcp"), get(tr, "ports"), pc, LIB_ARRAY_LEN(pc));
	struct port_count pu[32];
	size_t nu = merge_ports(get(pkt, "ports_udp"), NULL, pu, LIB_ARRAY_LEN(pu));
	json_t *ports = json_array();
	*scan_ports = json_array();
	for (size_t i = 0; i < n; i++)
		if (pc[i].targets >= BOX_SCAN_MIN_TARGETS) {
			json_array_append_new(ports, json_integer(pc[i].port));
			json_array_append_new(*scan_ports, json_integer(pc[i].port));
		}
	json_t *udp = json_array();
	for (size_t i = 0; i < nu; i++)
		if (pu[i].targets >= BOX_SCAN_MIN_TARGETS) {
			json_array_append_new(udp, json_integer(pu[i].port));
			json_array_append_new(*scan_ports, json_integer(pu[i].port));
		}
	json_int_t syn = num(pkt, "syn"), fp = num(pkt, "syn_seq_dst");
	bool mirai = fp >= BOX_MIRAI_FP_MIN && fp * 2 >= syn;
	json_int_t targets = LIB_MAX(num(pkt, "targets"), num(tr, "targets"));
	double rate = LIB_MAX(real(pkt, "syn_rate"), real(tr, "dest_rate"));
	json_int_t arp = num(pkt, "arp_unanswered");
	bool detected =
		json_array_size(ports) > 0 || json_array_size(udp) > 0 || arp >= BOX_ARP_SWEEP_MIN;
	if (!detected)
		rate = 0;
	json_t *o = json_pack("{s:b,s:o,s:o,s:I,s:f,s:I,s:b,s:I,s:I,s:b}", "detected", detected,
			      "ports", ports, "udp_ports", udp, "targets", (json_int_t)targets,
			      "rate", (double)(long)(rate * 10) / 10, "syn_packets",
			      (json_int_t)syn, "mirai_fingerprint", mirai, "seq_eq_dst",
			      (json_int_t)fp, "arp_unanswered", (json_int_t)arp, "raw_socket",
			      num(tr, "raw_sockets") > 0);
	return o;
}

/* ------------------------------------------------------------------ C&C, DNS, services */

struct seen {
	json_t *dns, *dns_queries, *cnc, *telnet, *http, *udp, *upnp, *commands;
	int lan_logins, lan_http, http_to[64];
	json_t *http_dst;
};

static json_t *find_cnc(json_t *cnc, const char *dst)
{
	size_t i;
	json_t *x;
	json_array_foreach(cnc, i, x)
		if (strcmp(str(x, "dst"), dst) == 0)
			return x;
	return NULL;
}

static void read_records(const json_t *recs, struct seen *s)
{
	size_t i;
	json_t *r;
	json_array_foreach(recs, i, r) {
		const char *type = str(r, "type"), *dst = str(r, "dst"), *name = str(r, "name");
		if (!type)
			continue;
		if (strcmp(type, "dns") == 0) {
			if (name && json_array_size(s->dns) < BOX_STRINGS_KEPT)
				push_str(s->dns, name);
			if (json_array_size(s->dns_queries) < BOX_STRINGS_KEPT)
				json_array_append(s->dns_queries, r);
		} else if (!dst) {
			continue;
		} else if (strcmp(type, "cnc") == 0) {
			if (!find_cnc(s->cnc, dst) && json_array_size(s->cnc) < BOX_STRINGS_KEPT) {
				const char *colon = strrchr(dst, ':');
				json_t *c = json_pack(
					"{s:s,s:s%,s:I,s:s,s:s?,s:[]}", "host", name ? name : "",
					"ip", dst, colon ? (size_t)(colon - dst) : strlen(dst),
					"port", num(r, "port"), "protocol", str(r, "protocol"),
					"checkin", str(r, "checkin"), "commands");
				if (!name)
					json_object_set_new(c, "host",
							    json_string(json_string_value(
								    json_object_get(c, "ip"))));
				json_object_set_new(c, "dst", json_string(dst));
				json_array_append_new(s->cnc, c);
			}
		} else if (strcmp(type, "cnc_checkin") == 0) {
			json_t *c = find_cnc(s->cnc, dst);
			if (c)
				json_object_set(c, "bot_id", json_object_get(r, "bot_id"));
		} else if (strcmp(type, "cnc_command") == 0) {
			json_t *c = find_cnc(s->cnc, dst);
			json_t *cmds = c ? json_object_get(c, "commands") : NULL;
			if (cmds && json_array_size(cmds) < 8)
				json_array_append(cmds, json_object_get(r, "command"));
		} else if (strcmp(type, "cnc_reply") == 0) {
			json_t *c = find_cnc(s->cnc, dst);
			if (c) {
				json_t *rep = json_object_get(c, "replies");
				if (!rep) {
					rep = json_array();
					json_object_set_new(c, "replies", rep);
				}
				if (json_array_size(rep) < 8)
					json_array_append(rep, json_object_get(r, "text"));
			}
		} else if (strcmp(type, "telnet_login") == 0) {
			if (json_array_size(s->telnet) < BOX_STRINGS_KEPT)
				json_array_append(s->telnet, r);
			if (strncmp(dst, "192.168.1.", 10) == 0)
				s->lan_logins++;
		} else if (strcmp(type, "telnet_command") == 0) {
			if (json_array_size(s->commands) < BOX_STRINGS_KEPT)
				json_array_append(s->commands, json_object_get(r, "text"));
		} else if (strcmp(type, "http") == 0) {
			if (json_array_size(s->http) < BOX_STRINGS_KEPT)
				json_array_append(s->http, r);
			if (strncmp(dst, "192.168.1.", 10) == 0)
				s->lan_http++;
			json_object_set_new(s->http_dst, dst,
					    json_integer(num(s->http_dst, dst) + 1));
		} else if (strcmp(type, "udp") == 0) {
			if (json_array_size(s->udp) < 32)
				json_array_append(s->udp, r);
		} else if (strcmp(type, "upnp") == 0) {
			push_str(s->upnp, str(r, "action") ? str(r, "action") : "upnp");
		}
	}
	/* UPnP discovery arrives on the SSDP socket without a destination. */
	json_array_foreach(recs, i, r) {
		const char *type = str(r, "type");
		if (type && strcmp(type, "upnp") == 0 && !str(r, "dst"))
			push_str(s->upnp, str(r, "action") ? str(r, "action") : "upnp");
	}
}

/* ------------------------------------------------------------------ LAN, DDoS, killer, persistence
 */

static json_t *lan_verdict(const json_t *pkt, const json_t *tr, struct seen *s)
{
	json_t *ev = json_array();
	json_int_t arp = num(pkt, "arp_unanswered");
	json_int_t lan = LIB_MAX(num(pkt, "lan_targets"), num(tr, "lan_targets"));
	json_int_t priv = LIB_MAX(num(pkt, "rfc1918_targets"), num(tr, "rfc1918_targets"));
	json_t *gw = json_array();
	const json_t *lists[] = {get(pkt, "gateway_ports"), get(tr, "gateway_ports")};
	for (int l = 0; l < 2; l++) {
		size_t i;
		json_t *x;
		json_array_foreach(lists[l], i, x)
			if (json_integer_value(x) != 53 && json_integer_value(x) != 67 &&
			    !contains_int(gw, json_integer_value(x)) && json_array_size(gw) < 32)
				json_array_append_new(gw, json_integer(json_integer_value(x)));
	}
	bool portmap = false, discovery = false;
	size_t i;
	json_t *x;
	json_array_foreach(s->upnp, i, x) {
		portmap |= strcmp(json_string_value(x), "AddPortMapping") == 0;
		discovery |= strcmp(json_string_value(x), "M-SEARCH") == 0;
	}
	char t[200];
	if (arp >= BOX_ARP_SWEEP_MIN) {
		snprintf(t, sizeof(t), "ARP sweep: %lld unanswered LAN addresses", (long long)arp);
		json_array_append_new(ev, json_string(t));
	}
	if (lan > 0) {
		snprintf(t, sizeof(t), "same subnet: %lld LAN hosts contacted", (long long)lan);
		json_array_append_new(ev, json_string(t));
	}
	if (json_array_size(gw) > 0) {
		struct buf b;
		buf_init(&b, 200);
		buf_append_str(&b, "gateway 192.168.1.1 on ports");
		json_array_foreach(gw, i, x)
			buf_printf(&b, "%s %lld", i ? "," : "", (long long)json_integer_value(x));
		json_array_append_new(ev, json_string((const char *)b.data));
		buf_free(&b);
	}
	if (priv >= BOX_SCAN_MIN_TARGETS) {
		snprintf(t, sizeof(t), "RFC 1918: %lld private addresses outside the LAN",
			 (long long)priv);
		json_array_append_new(ev, json_string(t));
	}
	if (s->lan_logins) {
		snprintf(t, sizeof(t), "Telnet logins on LAN devices: %d", s->lan_logins);
		json_array_append_new(ev, json_string(t));
	}
	if (s->lan_http) {
		snprintf(t, sizeof(t), "HTTP requests to LAN devices: %d", s->lan_http);
		json_array_append_new(ev, json_string(t));
	}
	if (discovery)
		json_array_append_new(ev, json_string("UPnP discovery (SSDP M-SEARCH)"));
	if (portmap)
		json_array_append_new(ev, json_string("UPnP AddPortMapping on the router"));
	bool detected = arp >= BOX_ARP_SWEEP_MIN || lan >= 2 || json_array_size(gw) > 0 ||
			priv >= BOX_SCAN_MIN_TARGETS || s->lan_logins > 0 || portmap;
	return json_pack("{s:b,s:o,s:I,s:I,s:o,s:I,s:b}", "detected", detected, "evidence", ev,
			 "arp_unanswered", (json_int_t)arp, "lan_hosts", (json_int_t)lan,
			 "gateway_ports", gw, "rfc1918_targets", (json_int_t)priv, "upnp",
			 discovery || portmap);
}

static json_t *ddos_verdict(const json_t *pkt, const json_t *dyn, const json_t *scan_ports,
			    struct seen *s)
{
	json_t *top = json_array_get(get(pkt, "top"), 0);
	json_int_t packets = num(top, "packets");
	const char *ip = str(top, "ip");
	/* An HTTP flood shows as many requests to one server. */
	const char *hkey = NULL;
	json_int_t hmax = 0;
	json_t *v;
	json_object_foreach(s->http_dst, hkey, v)
		if (json_integer_value(v) > hmax)
			hmax = json_integer_value(v);
	bool detected = top && packets >= BOX_FLOOD_MIN_PACKETS && ip;
	if (!detected && hmax < 50)
		return json_pack("{s:b,s:n,s:n}", "detected", false, "vector", "target");
	static const char *const kinds[] = {"udp", "syn", "tcp", "icmp", "gre"};
	const char *vector = "udp";
	json_int_t best = -1;
	for (size_t i = 0; i < LIB_ARRAY_LEN(kinds); i++)
		if (num(top, kinds[i]) > best) {
			best = num(top, kinds[i]);
			vector = kinds[i];
		}
	int port = (int)num(top, "port");
	bool varied = json_is_true(get(top, "ports_varied"));
	if (strcmp(vector, "udp") == 0 && port == 53)
		vector = "dns";
	else if (strcmp(vector, "tcp") == 0)
		vector = "ack";
	else if (strcmp(vector, "gre") == 0)
		vector = "greip";
	if (hmax >= 50 && hmax * 4 >= packets)
		vector = "http";
	/* A port that is being scanned is not a flood of one host. */
	if (detected && !varied && strcmp(vector, "syn") == 0 && contains_int(scan_ports, port) &&
	    num(top, "syn") < BOX_FLOOD_MIN_PACKETS * 5)
		return json_pack("{s:b,s:n,s:n}", "detected", false, "vector", "target");
	char target[64];
	if (varied || !port)
		snprintf(target, sizeof(target), "%s", ip ? ip : "");
	else
		snprintf(target, sizeof(target), "%s:%d", ip, port);
	double secs = real(dyn, "run_seconds");
	json_t *o = json_pack("{s:b,s:s,s:s,s:I,s:I,s:f,s:b}", "detected", true, "vector", vector,
			      "target", target, "packets", (json_int_t)packets, "bytes",
			      num(top, "bytes"), "rate",
			      secs > 0 ? (double)(long)((double)packets / secs * 10) / 10 : 0.0,
			      "random_ports", varied);
	char cmd_ip[16];
	box_ip_str(BOX_ATTACK_TARGET, cmd_ip);
	json_object_set_new(o, "commanded", json_boolean(ip && strcmp(ip, cmd_ip) == 0));
	return o;
}

static json_t *killer_verdict(const json_t *tr)
{
	json_t *ev = json_array();
	const char *decoy = str(tr, "decoy_killed");
	char t[200];
	if (decoy) {
		snprintf(t, sizeof(t), "killed the telnetd on port 23 (%s)", decoy);
		json_array_append_new(ev, json_string(t));
	}
	json_int_t kills = num(tr, "kills_total");
	if (kills > 0) {
		snprintf(t, sizeof(t), "sent %lld kill signals", (long long)kills);
		json_array_append_new(ev, json_string(t));
	}
	if (json_is_true(get(tr, "bound_telnet")))
		json_array_append_new(
			ev, json_string("bound the Telnet port itself (keeps other bots out)"));
	if (json_is_true(get(tr, "proc_net_tcp")))
		json_array_append_new(
			ev, json_string("read /proc/net/tcp (finds which process owns a port)"));
	json_int_t scan = num(tr, "proc_scan");
	if (scan > 0) {
		snprintf(t, sizeof(t), "read %lld /proc/PID entries of other processes",
			 (long long)scan);
		json_array_append_new(ev, json_string(t));
	}
	bool detected = decoy || json_is_true(get(tr, "bound_telnet")) ||
			(kills > 0 && (scan > 0 || json_is_true(get(tr, "proc_net_tcp"))));
	return json_pack("{s:b,s:o}", "detected", detected, "evidence", ev);
}

static json_t *persistence_verdict(const json_t *tr)
{
	static const char *const places[] = {"/etc/init.d",     "/etc/rc",          "/etc/cron",
					     "/var/spool/cron", "/etc/inittab",     "/etc/profile",
					     "/.bashrc",        "/.profile",        "/etc/systemd",
					     "/lib/systemd",    "/usr/lib/systemd", "/etc/crontab"};
	static const char *const cmds[] = {"crontab",   "update-rc.d", "systemctl enable",
					   "chkconfig", "/etc/init.d", "/etc/rc.local",
					   "inittab"};
	json_t *ev = json_array();
	const json_t *lists[] = {get(tr, "files_written")};
	size_t i;
	json_t *x;
	for (size_t l = 0; l < LIB_ARRAY_LEN(lists); l++)
		json_array_foreach(lists[l], i, x) {
			const char *p = json_string_value(x);
			for (size_t k = 0; p && k < LIB_ARRAY_LEN(places); k++)
				if (strstr(p, places[k])) {
					char t[600];
					snprintf(t, sizeof(t), "writes %s", p);
					push_str(ev, t);
					break;
				}
		}
	json_array_foreach(get(tr, "file_ops"), i, x) {
		const char *p = str(x, "path"), *to = str(x, "to");
		for (size_t k = 0; k < LIB_ARRAY_LEN(places); k++)
			if ((p && strstr(p, places[k])) || (to && strstr(to, places[k]))) {
				char t[1200];
				snprintf(t, sizeof(t), "%s %s%s%s", str(x, "op"), p ? p : "",
					 to ? " -> " : "", to ? to : "");
				push_str(ev, t);
				break;
			}
	}
	json_array_foreach(get(tr, "shell_commands"), i, x) {
		const char *c = json_string_value(x);
		for (size_t k = 0; c && k < LIB_ARRAY_LEN(cmds); k++)
			if (strstr(c, cmds[k])) {
				char t[600];
				snprintf(t, sizeof(t), "runs: %.500s", c);
				push_str(ev, t);
				break;
			}
	}
	if (json_is_true(get(tr, "watchdog")))
		json_array_append_new(
			ev,
			json_string("opens the watchdog device (a reboot would remove the bot)"));
	return json_pack("{s:b,s:o}", "detected", json_array_size(ev) > 0, "evidence", ev);
}

/* Files written: the scratch root at the end (with hashes) and, for those that are gone, the
 * trace's record of opening them for writing. */
static json_t *files_verdict(const json_t *dyn, const json_t *tr)
{
	json_t *out = json_deep_copy(get(dyn, "files"));
	if (!out)
		out = json_array();
	size_t i;
	json_t *x;
	json_array_foreach(get(tr, "files_written"), i, x) {
		const char *p = json_string_value(x);
		if (!p || lib_str_prefix(p, "/dev/") || lib_str_prefix(p, "/proc/"))
			continue;
		bool known = false;
		size_t j;
		json_t *y;
		json_array_foreach(out, j, y)
			known |= strcmp(str(y, "path"), p) == 0;
		if (!known && json_array_size(out) < BOX_FILES_LISTED)
			json_array_append_new(out,
					      json_pack("{s:s,s:b}", "path", p, "exists", false));
	}
	return out;
}

/* ------------------------------------------------------------------ family */

static json_t *family_guess(const json_t *stat, json_t *v, const char **family)
{
	json_t *basis = json_array();
	*family = NULL;
	size_t i;
	json_t *x;
	json_array_foreach(get(stat, "yara"), i, x) {
		const char *f = str(x, "family");
		if (!f)
			continue;
		char t[160];
		snprintf(t, sizeof(t), "yara:%s", str(x, "rule"));
		json_array_append_new(basis, json_string(t));
		if (!*family)
			*family = f;
	}
	const char *behaviour = NULL;
	json_array_foreach(get(v, "cnc"), i, x) {
		const char *p = str(x, "protocol");
		const char *f = !p                         ? NULL
				: strcmp(p, "mirai") == 0  ? "mirai"
				: strcmp(p, "irc") == 0    ? "tsunami"
				: strcmp(p, "gafgyt") == 0 ? "gafgyt"
							   : NULL;
		if (f && !behaviour) {
			behaviour = f;
			char t[80];
			snprintf(t, sizeof(t), "behaviour:%s C&C protocol", p);
			json_array_append_new(basis, json_string(t));
		}
	}
	if (json_is_true(get(v, "scan.mirai_fingerprint"))) {
		json_array_append_new(
			basis, json_string("behaviour:Mirai scan fingerprint (seq = destination)"));
		if (!behaviour || strcmp(behaviour, "gafgyt") == 0)
			behaviour = "mirai";
	}
	const char *variant = str(stat, "packer.variant");
	if (variant && strcmp(variant, "zeroed-sizes") == 0)
		json_array_append_new(basis,
				      json_string("packer:UPX with zeroed sizes (Mozi's trick)"));
	if (!*family)
		*family = behaviour;
	if (!*family && variant && strcmp(variant, "zeroed-sizes") == 0)
		*family = "mozi";
	if (!*family)
		*family = "unknown";
	return basis;
}

/* ------------------------------------------------------------------ all of it */

/* A C&C is a connection that checked in; a silent one to a port being scanned is a scan. */
static json_t *cnc_list(const json_t *seen_cnc, const json_t *scan_ports)
{
	json_t *cnc = json_array();
	size_t i;
	json_t *x;
	json_array_foreach(seen_cnc, i, x) {
		const char *proto = str(x, "protocol"), *how = str(x, "checkin");
		bool silent = how && strcmp(how, "silent") == 0;
		if (silent && contains_int(scan_ports, num(x, "port")) && proto &&
		    strcmp(proto, "gafgyt") == 0)
			continue;
		json_object_del(x, "dst");
		json_array_append(cnc, x);
	}
	return cnc;
}

/* What the sample did to hide: refused calls, a renamed process, its own files deleted. */
static json_t *evasion_list(const json_t *tr)
{
	json_t *evasion = json_array();
	size_t i;
	json_t *x;
	if (get(tr, "blocked"))
		json_array_foreach(get(tr, "blocked"), i, x) {
			char t[80];
			snprintf(t, sizeof(t), "%s refused", json_string_value(x));
			json_array_append_new(evasion, json_string(t));
		}
	if (json_array_size(get(tr, "names")))
		json_array_append_new(evasion,
				      json_string("renames its process (prctl PR_SET_NAME)"));
	json_array_foreach(get(tr, "file_ops"), i, x)
		if (strcmp(str(x, "op"), "unlink") == 0 &&
		    lib_str_prefix(str(x, "path"), "/tmp/")) {
			push_str(evasion, "deletes files it came with (its own binary?)");
			break;
		}
	return evasion;
}

/* The one word: malicious, suspicious, nothing seen, or static only. */
static const char *verdict_word(const json_t *v, const json_t *stat, const json_t *tr,
				const json_t *dyn)
{
	bool malicious =
		json_array_size(get(v, "cnc")) > 0 || json_is_true(get(v, "scan.detected")) ||
		json_is_true(get(v, "lan_attack.detected")) ||
		json_is_true(get(v, "ddos.detected")) || json_is_true(get(v, "killer.detected")) ||
		json_array_size(get(stat, "yara")) > 0;
	bool suspicious = json_is_true(get(v, "persistence.detected")) ||
			  json_is_true(get(stat, "packer.packed")) ||
			  json_array_size(get(v, "dns")) > 0 || num(tr, "relaunched") > 0 ||
			  json_array_size(get(v, "shell_commands")) > 0;
	bool ran = json_is_true(get(dyn, "ran"));
	return malicious    ? "malicious"
	       : suspicious ? "suspicious"
	       : ran        ? "no malicious behaviour seen"
			    : "static only";
}

/* The run in short: how it went, the tracer's and the fake internet's counters. */
static json_t *dynamic_summary(const json_t *dyn, const json_t *tr)
{
	json_t *d = json_object();
	static const char *const dcopy[] = {"ran",    "error",     "reason",      "emulator",
					    "window", "setup_ms",  "run_seconds", "ended",
					    "exit",   "catch_all", "limits",      "output_bytes"};
	for (size_t k = 0; dyn && k < LIB_ARRAY_LEN(dcopy); k++)
		if (json_object_get(dyn, dcopy[k]))
			json_object_set(d, dcopy[k], json_object_get(dyn, dcopy[k]));
	if (!dyn)
		json_object_set_new(d, "ran", json_false());
	const char *out = str(dyn, "output");
	if (out)
		json_object_set_new(d, "output",
				    json_stringn(out, LIB_MIN(strlen(out), (size_t)1024)));
	if (tr)
		json_object_set_new(
			d, "trace",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:b}", "records", num(tr, "records"),
				  "records_dropped", num(tr, "records_dropped"), "connects",
				  num(tr, "connects_total"), "execs", num(tr, "execs_total"),
				  "raw_sockets", num(tr, "raw_sockets"), "supported",
				  json_is_true(get(tr, "supported"))));
	json_t *fs = get(dyn, "fakenet_summary");
	if (fs)
		json_object_set_new(
			d, "network",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "frames",
				  num(fs, "packets.frames"), "bytes", num(fs, "packets.bytes"),
				  "tcp_accepted", num(fs, "tcp_accepted"), "udp_datagrams",
				  num(fs, "udp_datagrams"), "dns_queries", num(fs, "dns_queries"),
				  "pcap_bytes", num(fs, "pcap_bytes"), "pcap_dropped",
				  num(fs, "pcap_dropped"), "records_dropped",
				  num(fs, "records_dropped")));
	return d;
}

json_t *box_verdict(const json_t *stat, const json_t *dyn)
{
	json_t *v = json_object();
	static const char *const copy[] = {"sha256", "md5",  "sha1",     "ssdeep",
					   "tlsh",   "size", "filetype", "arch"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(copy); i++)
		json_object_set(v, copy[i], json_object_get(stat, copy[i]));
	json_object_set_new(v, "family", json_string("unknown"));
	json_t *tr = get(dyn, "trace"), *pkt = get(dyn, "fakenet_summary.packets");
	struct seen s = {
		.dns = json_array(),
		.dns_queries = json_array(),
		.cnc = json_array(),
		.telnet = json_array(),
		.http = json_array(),
		.udp = json_array(),
		.upnp = json_array(),
		.commands = json_array(),
		.http_dst = json_object(),
	};
	read_records(get(dyn, "fakenet"), &s);
	json_t *scan_ports;
	json_t *scan = scan_verdict(pkt, tr, &scan_ports);
	json_object_set_new(v, "dns", s.dns);
	json_object_set_new(v, "cnc", cnc_list(s.cnc, scan_ports));
	json_object_set_new(v, "scan", scan);
	json_object_set_new(v, "lan_attack", lan_verdict(pkt, tr, &s));
	json_object_set_new(v, "ddos", ddos_verdict(pkt, dyn, scan_ports, &s));
	json_object_set_new(v, "killer", killer_verdict(tr));
	json_object_set_new(v, "persistence", persistence_verdict(tr));
	json_object_set_new(v, "files_written", files_verdict(dyn, tr));
	json_t *procs = json_pack("{s:O?,s:I,s:I,s:I,s:O?}", "execs", get(tr, "execs"), "forks",
				  num(tr, "forks"), "threads", num(tr, "threads"), "relaunched",
				  num(tr, "relaunched"), "names", get(tr, "names"));
	json_object_set_new(v, "processes", procs);
	json_t *cmds = json_deep_copy(get(tr, "shell_commands"));
	json_object_set_new(v, "shell_commands", cmds ? cmds : json_array());
	json_object_set_new(v, "evasion", evasion_list(tr));
	json_object_set_new(v, "telnet_logins", s.telnet);
	json_object_set_new(v, "telnet_commands", s.commands);
	json_object_set_new(v, "http_requests", s.http);
	json_object_set_new(v, "udp_first", s.udp);
	json_object_set_new(v, "dns_queries", s.dns_queries);
	json_decref(s.upnp);
	json_decref(s.cnc);
	json_decref(s.http_dst);
	json_decref(scan_ports);

	const char *family;
	json_object_set_new(v, "family_basis", family_guess(stat, v, &family));
	json_object_set_new(v, "family", json_string(family));
	json_object_set_new(v, "verdict", json_string(verdict_word(v, stat, tr, dyn)));
	json_object_set_new(v, "dynamic", dynamic_summary(dyn, tr));
	static const char *const scopy[] = {"elf", "packer", "strings", "yara", "yara_error"};
	json_t *st = json_object();
	for (size_t k = 0; k < LIB_ARRAY_LEN(scopy); k++)
		if (json_object_get(stat, scopy[k]))
			json_object_set(st, scopy[k], json_object_get(stat, scopy[k]));
	json_object_set_new(v, "static", st);
	return v;
}
