/* `mitsu report` and `mitsu ip`: the seed's tables and charts rebuilt from the store, and
 * everything known of one address. The report is the sections of report_sections[] in order
 * (section.c), each rendered as text, JSON and HTML with SVG charts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"
#include "report/report.h"

/* ------------------------------------------------------------------ command */

static const char html_head[] =
	"<style>body{font:14px/1.4 "
	"system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;"
	"margin:8px 0 20px}th,td{padding:3px 10px 3px 0;border-bottom:1px solid "
	"#eee;text-align:left}"
	"caption{text-align:left;font-weight:600;padding:6px 0}.note{color:#666}figure{margin:16px "
	"0}"
	"svg{max-width:100%;height:auto}td{vertical-align:top;word-break:break-word}</style>";

enum { F_FORMAT, F_OUT, F_SINCE, F_UNTIL, F_SECTION };
static const struct core_flag report_flags[] = {
	{.name = "format",
	 .arg = "text|json|html",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "what is printed on stdout (default text)"},
	{.name = "out",
	 .arg = "DIR",
	 .opt = CORE_FLAG_OWN,
	 .id = F_OUT,
	 .help = "also write report.txt, report.json, report.html and the SVG charts into DIR "
		 "(report.html shows the charts inline: the folder is self-contained)"},
	{.name = "since",
	 .arg = "TIME",
	 .opt = CORE_FLAG_OWN,
	 .id = F_SINCE,
	 .help = "only what happened at or after TIME (RFC 3339 or YYYY-MM-DD)"},
	{.name = "until",
	 .arg = "TIME",
	 .opt = CORE_FLAG_OWN,
	 .id = F_UNTIL,
	 .help = "only what happened before TIME"},
	{.name = "section",
	 .arg = "NAME",
	 .opt = CORE_FLAG_OWN,
	 .id = F_SECTION,
	 .help = "only this section (overview, honeypot, samples, darknet, ...); repeatable"},
	{0},
};

static int report_main(int argc, char **argv);

const struct core_command report_command = {
	.name = "report",
	.summary = "The seed's tables and charts from the store: totals, honeypot hosts by device, "
		   "credentials, commands, downloads, samples by CPU, sandbox verdicts and the "
		   "LAN-attack testbed table, darknet statistics (per-port series with 23/tcp "
		   "highlighted, Telnet and Mirai shares, countries, OS families, backscatter).",
	.flags = report_flags,
	.common = CORE_CMD_CONFIG,
	.main = report_main,
};

#define RPT_MAX_SECTIONS 16

struct report_args {
	enum report_format fmt;
	const char *out_dir;
	const char *since, *until;
	const char *only[RPT_MAX_SECTIONS];
	size_t nonly;
	const char *prog;
};

static int on_flag(void *arg, int id, const char *v)
{
	struct report_args *a = arg;
	int64_t us;
	switch (id) {
	case F_FORMAT:
		if (report_format_parse(v, &a->fmt) || a->fmt == REPORT_CSV) {
			fprintf(stderr, "mitsu %s: --format is text, json or html\n", a->prog);
			return -1;
		}
		return 0;
	case F_OUT: a->out_dir = v; return 0;
	case F_SINCE:
	case F_UNTIL:
		if (lib_parse_time(v, &us)) {
			fprintf(stderr, "mitsu %s: --%s wants RFC 3339 time or YYYY-MM-DD\n",
				a->prog, id == F_SINCE ? "since" : "until");
			return -1;
		}
		*(id == F_SINCE ? &a->since : &a->until) = v;
		return 0;
	case F_SECTION:
		if (!report_section_find(v) || a->nonly == RPT_MAX_SECTIONS) {
			fprintf(stderr, "mitsu report: no section %s (", v);
			for (size_t i = 0; report_sections[i]; i++)
				fprintf(stderr, "%s%s", i ? ", " : "", report_sections[i]->name);
			fprintf(stderr, ")\n");
			return -1;
		}
		a->only[a->nonly++] = v;
		return 0;
	}
	return -1;
}

static bool wanted(const struct report_args *a, const char *name)
{
	if (!a->nonly)
		return true;
	for (size_t i = 0; i < a->nonly; i++)
		if (strcmp(a->only[i], name) == 0)
			return true;
	return false;
}

/* Writes the outputs: files into --out, one format on stdout. */
static void write_outputs(const struct report_args *a, const struct buf *text,
			  const struct buf *html, const char *title, json_t *json)
{
	char *json_text =
		json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	struct buf page;
	buf_init(&page, 0);
	buf_append_str(&page, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			      "<title>");
	report_escape_xml(&page, title, strlen(title));
	buf_printf(&page, "</title>\n%s</head><body>\n", html_head);
	buf_append(&page, html->data ? html->data : (const uint8_t *)"", html->len);
	buf_append_str(&page, "</body></html>\n");
	const char *t = text->data ? (const char *)text->data : "";
	if (a->out_dir) {
		struct {
			const char *name;
			const void *p;
			size_t n;
		} files[] = {
			{"report.txt", t, text->len},
			{"report.json", json_text, json_text ? strlen(json_text) : 0},
			{"report.html", page.data, page.len},
		};
		for (size_t i = 0; i < LIB_ARRAY_LEN(files); i++) {
			char *path = xasprintf("%s/%s", a->out_dir, files[i].name);
			if (lib_write_file_atomic(path, files[i].p, files[i].n, 0644))
				fprintf(stderr, "mitsu %s: cannot write %s\n", a->prog, path);
			free(path);
		}
	}
	if (a->fmt == REPORT_JSON)
		printf("%s\n", json_text ? json_text : "{}");
	else if (a->fmt == REPORT_HTML)
		fwrite(page.data, 1, page.len, stdout);
	else
		fputs(t, stdout);
	free(json_text);
	buf_free(&page);
}

/* Opens the store read-only and the output folder. */
static int open_store(struct core_store *st, const struct core_config *cfg,
		      const struct report_args *a)
{
	if (core_store_open(st, core_cfg_str(cfg, OPT_CORE_DATA_DIR), true))
		return -EIO;
	if (a->out_dir && lib_mkdirs(a->out_dir, 0755)) {
		fprintf(stderr, "mitsu %s: cannot create %s\n", a->prog, a->out_dir);
		core_store_close(st);
		return -EIO;
	}
	return 0;
}

/* Brings the roll-up (DATA/report.db) up to date and reads it beside the store; without it
 * (a read-only data folder) the report reads the store alone, slower, with the same answers. */
static void catch_up(struct core_store *st, const char *data_dir)
{
	uint64_t t0 = lib_mono_us();
	int rc = report_rollup_catchup(data_dir, NULL);
	if (rc < 0)
		log_info("report", "no roll-up (%s): reading the store alone", strerror(-rc));
	else
		log_debug("report", "roll-up: %d hours in %.1f s", rc,
			  (double)(lib_mono_us() - t0) / 1e6);
	report_rollup_attach(st->db, data_dir);
	report_trace(st->db);
}

static int report_main(int argc, char **argv)
{
	struct core_config cfg;
	core_config_init(&cfg);
	struct report_args a = {.fmt = REPORT_TEXT, .prog = "report"};
	int first, rc = core_command_parse(&report_command, argc, argv, &cfg, on_flag, &a, &first);
	if (rc) {
		core_config_free(&cfg);
		return core_command_status(rc);
	}
	struct core_store st;
	if (open_store(&st, &cfg, &a)) {
		core_config_free(&cfg);
		return 1;
	}
	catch_up(&st, core_cfg_str(&cfg, OPT_CORE_DATA_DIR));
	struct report_ctx c;
	report_ctx_init(&c, &st);
	report_ctx_window(&c, a.since, a.until);
	struct buf text, html;
	buf_init(&text, 0);
	buf_init(&html, 0);
	c.text = &text;
	c.html = &html;
	c.out_dir = a.out_dir;
	char now[LIB_RFC3339_LEN];
	lib_rfc3339_now(now);
	json_object_set_new(c.json, "generated", json_string(now));
	json_object_set_new(c.json, "since", json_string(a.since ? c.since : ""));
	json_object_set_new(c.json, "until", json_string(a.until ? c.until : ""));
	json_object_set_new(c.json, "charts", json_array());
	buf_printf(&text, "mitsu report, %s\n", now);
	buf_printf(&html, "<h1>mitsu report</h1><p class=\"note\">generated %s", now);
	if (a.since || a.until) {
		buf_printf(&text, "window: %s to %s\n", a.since ? c.since : "the start",
			   a.until ? c.until : "now");
		buf_printf(&html, "; window %s to %s", a.since ? c.since : "the start",
			   a.until ? c.until : "now");
	}
	buf_append_str(&text, "\n");
	buf_append_str(&html, "</p>\n");
	for (size_t i = 0; report_sections[i]; i++)
		if (wanted(&a, report_sections[i]->name))
			report_sections[i]->build(&c);
	json_object_set(c.json, "tables", c.order);
	write_outputs(&a, &text, &html, "mitsu report", c.json);
	buf_free(&text);
	buf_free(&html);
	report_ctx_free(&c);
	core_store_close(&st);
	core_config_free(&cfg);
	return 0;
}

/* ------------------------------------------------------------------ mitsu ip */

static const struct core_flag ip_flags[] = {
	{.name = "format",
	 .arg = "text|json|html",
	 .opt = CORE_FLAG_OWN,
	 .id = F_FORMAT,
	 .help = "what is printed on stdout (default text)"},
	{.name = "location-db", .arg = "FILE", .opt = OPT_SCOPE_LOCATION_DB},
	{0},
};

static int ip_main(int argc, char **argv);

const struct core_command report_ip_command = {
	.name = "ip",
	.operands = "ADDR",
	.summary =
		"Everything mitsu knows of one address, in one timeline: darknet scanning (first "
		"and last seen, ports, Mirai and other labels) and backscatter, honeypot "
		"sessions with their credentials and commands, the samples it delivered or "
		"served, sandbox verdicts naming it as C&C or DDoS target, device "
		"identification, country and AS (libloc).",
	.flags = ip_flags,
	.common = CORE_CMD_CONFIG,
	.main = ip_main,
};

static int ip_main(int argc, char **argv)
{
	struct core_config cfg;
	core_config_init(&cfg);
	struct report_args a = {.fmt = REPORT_TEXT, .prog = "ip"};
	int first,
		rc = core_command_parse(&report_ip_command, argc, argv, &cfg, on_flag, &a, &first);
	if (rc) {
		core_config_free(&cfg);
		return core_command_status(rc);
	}
	char addr[46];
	if (argc - first != 1 || report_ip_canonical(argv[first], addr)) {
		fprintf(stderr, "mitsu ip: give one IPv4 or IPv6 address\n");
		core_command_usage(&report_ip_command, stderr);
		core_config_free(&cfg);
		return 2;
	}
	struct core_store st;
	if (open_store(&st, &cfg, &a)) {
		core_config_free(&cfg);
		return 1;
	}
	struct report_ctx c;
	report_ctx_init(&c, &st);
	struct buf text, html;
	buf_init(&text, 0);
	buf_init(&html, 0);
	c.text = &text;
	c.html = &html;
	buf_printf(&text, "mitsu ip %s\n\n", addr);
	buf_append_str(&html, "<h1>mitsu ip ");
	report_escape_xml(&html, addr, strlen(addr));
	buf_append_str(&html, "</h1>\n");
	report_ip(&c, addr, core_cfg_str(&cfg, OPT_SCOPE_LOCATION_DB));
	json_object_set(c.json, "tables", c.order);
	char *title = xasprintf("mitsu ip %s", addr);
	write_outputs(&a, &text, &html, title, c.json);
	free(title);
	buf_free(&text);
	buf_free(&html);
	report_ctx_free(&c);
	core_store_close(&st);
	core_config_free(&cfg);
	return 0;
}
