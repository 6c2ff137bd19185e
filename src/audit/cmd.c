/* `mitsu audit`: the command, the credentials from the profiles, what each host's
 * identification leads to, and the report (text or JSON lines). */
#include "audit/audit_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "profile/profile.h"
#include "webui/webui.h"

enum { F_FORMAT, F_OWN };
static const struct core_flag audit_flags[] = {
	{.name = "format",
	 .shortname = 'F',
	 .arg = "text|json",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "output (default text; json: one object per host)"},
	{.name = "i-own-this",
	 .opt = CORE_FLAG_OWN,
	 .id = F_OWN,
	 .help = "allow public addresses (only for devices and networks you are responsible for)"},
	{.name = "max-logins", .arg = "N", .opt = OPT_AUDIT_MAX_LOGINS},
	{.name = "portmap-entries", .arg = "N", .opt = OPT_AUDIT_PORTMAP_ENTRIES},
	IDENT_ENGINE_FLAGS,
	{0},
};

static int audit_main(int argc, char **argv);

const struct core_command audit_command = {
	.name = "audit",
	.operands = "TARGET...",
	.summary =
		"Audit your own devices: identification, Telnet/SSH/WebUI/UPnP reachable, the "
		"default credentials bots try (from the device profiles) on Telnet and web "
		"logins, UPnP port forwards, known-vulnerable devices by CVE (the WebUI's exploit "
		"signatures, seen by banner and a harmless GET). Each finding has a severity, "
		"evidence and advice; "
		"exit status 1 when a high finding exists. Public addresses need --i-own-this; "
		"rate caps of [ident] apply.",
	.flags = audit_flags,
	.common = CORE_CMD_CONFIG,
	.sections = "audit,ident",
	.main = audit_main,
};

struct audit_cmd {
	struct core_config cfg;
	struct audit_run run;
	bool own;
	uv_timer_t kick, max_time;
	uv_signal_t sigint;
	bool stopped, submitted;
};

static int on_flag(void *arg, int id, const char *v)
{
	struct audit_cmd *c = arg;
	if (id == F_OWN) {
		c->own = true;
		return 0;
	}
	if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0) {
		c->run.json = strcmp(v, "json") == 0;
		return 0;
	}
	fprintf(stderr, "mitsu audit: --format is text or json\n");
	return -1;
}

/* ------------------------------------------------------------------ credentials */

static bool cred_known(const struct audit_cred *c, size_t n, const char *u, const char *p)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].user, u) == 0 && strcmp(c[i].pass, p) == 0)
			return true;
	return false;
}

int audit_creds_from_profiles(const char *dir, size_t max, struct audit_cred **out, size_t *n,
			      char *err, size_t errlen)
{
	struct profile_set set = {0};
	int rc = profile_load_all(dir, &set, err, errlen);
	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	for (size_t round = 0;; round++) {
		bool any = false;
		for (size_t i = 0; i < set.count && *n < max; i++) {
			const struct profile *p = set.items[i];
			if (round >= p->ncreds)
				continue;
			any = true;
			const struct profile_cred *pc = &p->creds[round];
			if (strcmp(pc->password, "*") == 0 ||
			    cred_known(*out, *n, pc->username, pc->password))
				continue;
			*out = xrealloc(*out, (*n + 1) * sizeof(**out));
			(*out)[*n] =
				(struct audit_cred){xstrdup(pc->username), xstrdup(pc->password)};
			(*n)++;
		}
		if (!any || *n >= max)
			break;
	}
	profile_set_free(&set);
	return 0;
}

void audit_creds_free(struct audit_cred *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].user);
		free(c[i].pass);
	}
	free(c);
}

/* ------------------------------------------------------------------ report */

static int sev_cmp(const void *a, const void *b)
{
	const struct audit_finding *x = a, *y = b;
	return (int)y->severity - (int)x->severity;
}

void audit_host_report(struct audit_host *ah)
{
	struct audit_run *run = ah->run;
	qsort(ah->findings, ah->nfindings, sizeof(ah->findings[0]), sev_cmp);
	bool high = false;
	for (size_t i = 0; i < ah->nfindings; i++)
		high |= ah->findings[i].severity == AUDIT_HIGH;
	run->highs += high;
	if (run->json) {
		json_t *o = json_object();
		json_object_set_new(o, "host", json_string(ah->addr));
		json_t *fa = json_array();
		for (size_t i = 0; i < ah->nfindings; i++) {
			const struct audit_finding *f = &ah->findings[i];
			json_t *j = json_object();
			json_object_set_new(j, "finding", json_string(audit_finding_name(f->kind)));
			json_object_set_new(j, "severity",
					    json_string(audit_severity_name(f->severity)));
			json_object_set_new(j, "evidence",
					    core_json_bytes(f->evidence, strlen(f->evidence)));
			if (f->cve[0])
				json_object_set_new(j, "cve", json_string(f->cve));
			json_object_set_new(j, "advice", json_string(audit_advice(f->kind)));
			json_array_append_new(fa, j);
		}
		json_object_set_new(o, "findings", fa);
		json_object_set(o, "identification", ah->ident);
		char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
		puts(s);
		free(s);
		json_decref(o);
	} else {
		printf("%s: %zu finding%s\n", ah->addr, ah->nfindings,
		       ah->nfindings == 1 ? "" : "s");
		for (size_t i = 0; i < ah->nfindings; i++) {
			const struct audit_finding *f = &ah->findings[i];
			char ev[600];
			ident_printable(f->evidence, strlen(f->evidence), ev, sizeof(ev));
			printf("  %-6s %-27s %s\n         advice: %s\n",
			       audit_severity_name(f->severity), audit_finding_name(f->kind), ev,
			       audit_advice(f->kind));
		}
	}
	fflush(stdout);
	json_decref(ah->ident);
	free(ah);
	run->open_hosts--;
	run->host_done(run);
}

/* ------------------------------------------------------------------ from identification */

static const struct ident_probe_result *probe_outcomes(const struct ident_host *h, size_t i)
{
	return &h->probes[i];
}

/* Findings from what identification saw, and the active checks they call for. */
static void on_identified(void *arg, const struct ident_host *h, const struct ident_result *r)
{
	struct audit_run *run = arg;
	run->hosts++;
	struct audit_host *ah = xcalloc(1, sizeof(*ah));
	ah->run = run;
	lib_strlcpy(ah->addr, h->addr, sizeof(ah->addr));
	ah->ident = ident_result_json(h, r);
	run->open_hosts++;
	if (r->identified)
		audit_add(ah, AUDIT_F_IDENTIFIED, "%s%s%s%s%s (confidence %.0f%%)",
			  r->category->name, r->vendor ? ", " : "", r->vendor ? r->vendor : "",
			  r->model ? " " : "", r->model ? r->model : "", r->confidence * 100);
	ah->hc = ident_engine_host_begin(run->engine, (const struct sockaddr *)&h->sa);
	ah->pending = 1; /* held while the checks start */
	for (size_t i = 0; i < h->nprobes; i++) {
		const struct ident_probe_result *p = probe_outcomes(h, i);
		if (p->outcome == IDENT_OUT_SILENT && p->kind != IDENT_PROBE_UPNP)
			audit_add(ah, AUDIT_F_SILENT_PORT,
				  "%s:%d accepts connections and says nothing",
				  ident_probe_name(p->kind), p->port);
		if (p->outcome != IDENT_OUT_DATA)
			continue;
		switch (p->kind) {
		case IDENT_PROBE_TELNET:
			audit_add(ah, AUDIT_F_TELNET_OPEN, "telnet:%d answers: %s", p->port,
				  p->detail);
			if (ah->hc)
				audit_telnet_logins(ah, p->port);
			break;
		case IDENT_PROBE_HTTP:
		case IDENT_PROBE_HTTPS:
			audit_add(ah, AUDIT_F_WEBUI_OPEN, "%s:%d answers: %s",
				  ident_probe_name(p->kind), p->port, p->detail);
			if (ah->hc)
				audit_web_logins(ah, p->port, p->kind == IDENT_PROBE_HTTPS);
			break;
		case IDENT_PROBE_SSH:
			audit_add(ah, AUDIT_F_SSH_OPEN, "ssh:%d answers: %s", p->port, p->detail);
			break;
		case IDENT_PROBE_UPNP:
			audit_add(ah, AUDIT_F_UPNP_OPEN, "upnp:%d answers M-SEARCH: %s", p->port,
				  p->detail);
			break;
		default: break;
		}
	}
	if (ah->hc && h->nservices)
		audit_upnp_mappings(ah, h);
	audit_vuln_checks(ah, h);
	if (!ah->hc) {
		ah->pending = 0;
		audit_host_report(ah);
		return;
	}
	audit_check_done(ah);
}

/* ------------------------------------------------------------------ the run */

static void stop(struct audit_cmd *c, const char *why)
{
	if (c->stopped)
		return;
	c->stopped = true;
	if (why)
		fprintf(stderr, "mitsu audit: %s: stopping\n", why);
	ident_engine_close(c->run.engine);
	uv_close((uv_handle_t *)&c->kick, NULL);
	uv_close((uv_handle_t *)&c->max_time, NULL);
	uv_close((uv_handle_t *)&c->sigint, NULL);
}

static void on_kick(uv_timer_t *t)
{
	struct audit_cmd *c = t->data;
	if (!c->stopped && ident_engine_pending(c->run.engine) == 0 && c->run.open_hosts == 0)
		stop(c, NULL);
}

static void host_done(struct audit_run *run)
{
	struct audit_cmd *c = (struct audit_cmd *)((char *)run - offsetof(struct audit_cmd, run));
	if (!c->stopped)
		uv_timer_start(&c->kick, on_kick, 0, 0);
}

static void on_max_time(uv_timer_t *t)
{
	stop(t->data, "ident.max_time reached");
}

static void on_signal(uv_signal_t *s, int sig)
{
	stop(s->data, "signal");
}

/* Queues every target address; public ones only with --i-own-this. Returns -1 on a bad
 * target or too many hosts. */
static int submit_targets(struct audit_cmd *c, int argc, char **argv)
{
	char err[256];
	uint64_t total = 0;
	for (int i = 0; i < argc; i++) {
		struct ident_target t;
		if (ident_target_parse(argv[i], &t, err, sizeof(err))) {
			fprintf(stderr, "mitsu audit: %s\n", err);
			return -1;
		}
		total += t.count;
		if (total > AUDIT_MAX_HOSTS) {
			fprintf(stderr, "mitsu audit: more than %d hosts (AUDIT_MAX_HOSTS)\n",
				AUDIT_MAX_HOSTS);
			return -1;
		}
	}
	for (int i = 0; i < argc; i++) {
		struct ident_target t;
		ident_target_parse(argv[i], &t, err, sizeof(err));
		for (uint64_t k = 0; k < t.count; k++) {
			struct sockaddr_storage ss;
			ident_target_nth(&t, k, &ss);
			if (!c->own && !capture_addr_is_private((struct sockaddr *)&ss)) {
				char a[64];
				ident_printable(argv[i], strlen(argv[i]), a, sizeof(a));
				fprintf(stderr,
					"mitsu audit: %s is a public address: refused (audit only "
					"what you own; then add --i-own-this)\n",
					a);
				c->run.refused++;
				continue;
			}
			ident_engine_submit(c->run.engine, (struct sockaddr *)&ss, t.port, t.kind);
		}
	}
	return 0;
}

/* audit.vuln_ports join the HTTP ports (as far as there is room). */
static int add_vuln_ports(const struct core_config *cfg, struct ident_ports *ports, char *err,
			  size_t errlen)
{
	char **items = NULL;
	size_t n = core_cfg_list(cfg, OPT_AUDIT_VULN_PORTS, &items);
	int *hp = ports->ports[IDENT_PROBE_HTTP];
	size_t *np = &ports->n[IDENT_PROBE_HTTP];
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		long long v;
		if (lib_parse_int(items[i], &v) || v < 1 || v > 65535) {
			snprintf(err, errlen, "audit.vuln_ports: bad port '%s'", items[i]);
			rc = -1;
			break;
		}
		bool known = false;
		for (size_t k = 0; k < *np; k++)
			known |= hp[k] == (int)v;
		if (!known && *np < LIB_ARRAY_LEN(ports->ports[IDENT_PROBE_HTTP]))
			hp[(*np)++] = (int)v;
	}
	if (items)
		core_list_free(items);
	return rc;
}

static int run_audit(struct audit_cmd *c, struct ident_db *db, int argc, char **argv)
{
	char err[512];
	struct ident_limits lim;
	struct ident_ports ports;
	ident_limits_from_config(&c->cfg, &lim);
	lim.allow_private = true; /* the audit's own policy: submit_targets */
	if (ident_ports_from_config(&c->cfg, &ports, err, sizeof(err)) ||
	    add_vuln_ports(&c->cfg, &ports, err, sizeof(err))) {
		fprintf(stderr, "mitsu audit: %s\n", err);
		return 2;
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	ident_engine_open(&c->run.engine, &loop, &lim, &ports, db, AUDIT_MAX_HOSTS, on_identified,
			  &c->run);
	c->run.host_done = host_done;
	uv_timer_init(&loop, &c->kick);
	uv_timer_init(&loop, &c->max_time);
	c->kick.data = c->max_time.data = c;
	uv_signal_init(&loop, &c->sigint);
	c->sigint.data = c;
	uv_signal_start(&c->sigint, on_signal, SIGINT);
	long long max_s = core_cfg_int(&c->cfg, OPT_IDENT_MAX_TIME);
	if (max_s > 0)
		uv_timer_start(&c->max_time, on_max_time, (uint64_t)max_s * 1000, 0);
	int rc = submit_targets(c, argc, argv);
	uv_timer_start(&c->kick, on_kick, 0, 0);
	if (rc)
		stop(c, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (rc)
		return 2;
	fprintf(stderr, "mitsu audit: %llu hosts audited, %llu with a high finding%s\n",
		(unsigned long long)c->run.hosts, (unsigned long long)c->run.highs,
		c->run.refused ? "; public addresses refused" : "");
	return c->run.highs ? 1 : 0;
}

static int audit_main(int argc, char **argv)
{
	struct audit_cmd c = {0};
	core_config_init(&c.cfg);
	int first, rc = core_command_parse(&audit_command, argc, argv, &c.cfg, on_flag, &c, &first);
	if (rc) {
		core_config_free(&c.cfg);
		return core_command_status(rc);
	}
	signal(SIGPIPE, SIG_IGN);
	char err[512];
	struct ident_db *db = NULL;
	struct audit_vulns *vulns = NULL;
	rc = 3;
	if (first >= argc) {
		fprintf(stderr, "mitsu audit: no targets\n");
		rc = 2;
		goto out;
	}
	if (ident_db_open(&db, &c.cfg, err, sizeof(err))) {
		fprintf(stderr, "mitsu audit: fingerprints: %s\n", err);
		goto out;
	}
	const char *pdir = profile_dir(core_cfg_str(&c.cfg, OPT_SENSOR_PROFILES_DIR));
	if (audit_creds_from_profiles(pdir, AUDIT_MAX_CREDS, &c.run.creds, &c.run.ncreds, err,
				      sizeof(err))) {
		fprintf(stderr, "mitsu audit: profiles: %s\n", err);
		goto out;
	}
	c.run.max_logins =
		LIB_MIN((size_t)core_cfg_int(&c.cfg, OPT_AUDIT_MAX_LOGINS), c.run.ncreds);
	c.run.portmap_entries = (int)core_cfg_int(&c.cfg, OPT_AUDIT_PORTMAP_ENTRIES);
	char *vfile = xasprintf("%s/vulnerable.ini", ident_default_fingerprints_dir());
	const char *rules = core_cfg_str(&c.cfg, OPT_HTTP_RULES);
	rc = audit_vulns_load(&vulns, vfile, rules && *rules ? rules : webui_default_rules_dir(),
			      err, sizeof(err));
	free(vfile);
	if (rc) {
		fprintf(stderr, "mitsu audit: known-vulnerable devices: %s\n", err);
		rc = 3;
		goto out;
	}
	c.run.vulns = vulns;
	rc = run_audit(&c, db, argc - first, argv + first);
out:
	audit_vulns_free(vulns);
	audit_creds_free(c.run.creds, c.run.ncreds);
	ident_db_free(db);
	core_config_free(&c.cfg);
	return rc;
}
