/* shell/net: wget, curl, tftp (BusyBox's and tftp-hpa's syntax), ftpget and ftpput. They parse
 * their arguments as the real tools do, build an absolute URL, ask io->fetch and suspend; the
 * result is written where the tool writes it (a file of the vfs, or stdout through the
 * command's redirections and pipes) with the messages that tool prints for success and for
 * each kind of failure. Uploads (tftp -p, ftpput) are never performed. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

enum fkind { K_WGET, K_CURL, K_TFTP, K_TFTP_HPA, K_FTPGET };

struct fetch_state {
	int kind;
	char **urls; /* wget: every URL operand */
	size_t nurls, cur;
	char *url; /* the absolute URL being fetched */
	char *host;
	int port;
	char *remote;           /* remote path, for names and messages */
	char *dest;             /* absolute vfs path, or NULL for stdout */
	char *shown;            /* the name as messages show it */
	char *user;             /* ftpget */
	char *outname, *prefix; /* wget -O, -P */
	char *stdout_file; /* where stdout goes when it is redirected to a file (for the record) */
	bool quiet, excl, verbose, silent, show_error, fail, appended;
	struct shell_fetch req;
};

static void fetch_free(struct fetch_state *fs)
{
	if (!fs)
		return;
	free(fs->urls);
	free(fs->url);
	free(fs->host);
	free(fs->remote);
	free(fs->dest);
	free(fs->shown);
	free(fs->user);
	free(fs->outname);
	free(fs->prefix);
	free(fs->stdout_file);
	free(fs);
}

static bool is_ip_literal(const char *h)
{
	unsigned char b[16];
	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

/* Absolute vfs path of a destination name, or NULL if it cannot be named. */
static char *abs_dest(struct cmd *c, const char *name)
{
	char abs[SH_PATH_MAX];
	struct vstat st;
	bool pok;
	int rc = shell_vfs_resolve(&c->sh->vfs, c->sh->lvl->cwd, name, true, abs, &st, &pok);
	if (rc == 0 || (rc == -ENOENT && pok))
		return xstrdup(abs);
	/* the folder is missing: keep the would-be path for the capture record */
	char tmp[SH_PATH_MAX];
	if (name[0] == '/')
		lib_strlcpy(tmp, name, sizeof(tmp));
	else if (shell_vfs_join(c->sh->lvl->cwd, name, tmp))
		return NULL;
	return xstrdup(tmp);
}

static const char *reason_phrase(int code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

/* Splits "[user[:pass]@]host[:port]" of a URL authority; returns false if the port is bad. */
static bool split_authority(const char *auth, size_t n, char **user, char **host, int *port,
			    int defport)
{
	const char *at = NULL;
	for (size_t i = n; i-- > 0;)
		if (auth[i] == '@') {
			at = auth + i;
			break;
		}
	const char *h = at ? at + 1 : auth;
	size_t hl = n - (size_t)(h - auth);
	*user = at ? xstrndup(auth, (size_t)(at - auth)) : NULL;
	*port = defport;
	const char *colon = NULL;
	if (hl && h[0] == '[') {
		const char *rb = memchr(h, ']', hl);
		if (rb && (size_t)(rb - h) + 1 < hl && rb[1] == ':')
			colon = rb + 1;
		*host = rb ? xstrndup(h + 1, (size_t)(rb - h - 1)) : xstrndup(h, hl);
	} else {
		colon = memchr(h, ':', hl);
		*host = xstrndup(h, colon ? (size_t)(colon - h) : hl);
	}
	if (colon) {
		char *e;
		long p = strtol(colon + 1, &e, 10);
		if (e == colon + 1 || e != h + hl || p <= 0 || p > 65535)
			return false;
		*port = (int)p;
	}
	return true;
}

/* ------------------------------------------------------------------ progress */

static void wget_progress(struct cmd *c, const char *curfile, size_t total)
{
	char name[21];
	snprintf(name, sizeof(name), "%s", curfile);
	struct buf b;
	buf_init(&b, 512);
	if (shell_bb_at_least(c->sh, 1, 30)) {
		buf_printf(&b, "\r%-20.20s ", name);
		if (total) {
			int bar = SH_TERM_WIDTH - 48;
			buf_printf(&b, "%3u%% |", 100u);
			for (int i = 0; i < bar; i++)
				buf_append(&b, "*", 1);
			buf_append_str(&b, "| ");
		}
		unsigned long long v = total;
		int k = 0;
		while (v >= 100000) {
			v >>= 10;
			k++;
		}
		if (k)
			buf_printf(&b, "%4llu%c", v, " kMGTPEZY"[k]);
		else
			buf_printf(&b, "%5llu", v);
		buf_append_str(&b, total ? "  0:00:00 ETA\n" : " --:--:-- ETA\n");
	} else {
		buf_printf(&b, "\r%-20.20s", name);
		if (total) {
			int bar = SH_TERM_WIDTH - 49;
			buf_printf(&b, "%4u%% |", 100u);
			for (int i = 0; i < bar; i++)
				buf_append(&b, "*", 1);
			buf_append_str(&b, "|");
		}
		unsigned long long v = total;
		int k = 0;
		while (v >= 100000) {
			v >>= 10;
			k++;
		}
		buf_printf(&b, "%6llu%c", v, " kMGTPEZY"[k]);
		buf_append_str(&b, total ? "  0:00:00 ETA\n" : " --:--:-- ETA\n");
	}
	shell_fobj_write(c->sh, c->f->fd[2], b.data, b.len, false, NULL);
	buf_free(&b);
}

/* ------------------------------------------------------------------ starting */

/* A network that cannot be reached (no io->fetch, or it refused to start). */
static const struct shell_fetch_result unreachable = {.status = SHELL_FETCH_REFUSED,
						      .error = "unreachable"};

/* The file stdout is redirected to (wget -O - > f, curl URL > f), or NULL. */
static const char *stdout_path(struct cmd *c)
{
	struct fobj *o = c->f->fd[1];
	return o && o->kind == FO_FILE ? o->path : NULL;
}

static int begin(struct cmd *c, struct fetch_state *fs, const char *method)
{
	fs->req.method = method;
	fs->req.url = fs->url;
	if (!fs->dest && stdout_path(c)) {
		free(fs->stdout_file);
		fs->stdout_file = xstrdup(stdout_path(c));
	}
	fs->req.destfile = fs->dest ? fs->dest : fs->stdout_file;
	shell_attach_fetch(c, fs, fetch_free);
	if (shell_io_fetch(c->sh, &fs->req) == 0)
		return SH_SUSPEND;
	return shell_fetch_deliver(c, fs, &unreachable);
}

/* ------------------------------------------------------------------ wget */

/* Sets fs->url, host, port, remote and the destination for urls[cur]. Returns 0, or a status
 * after printing BusyBox's error. */
static int wget_prepare(struct cmd *c, struct fetch_state *fs)
{
	const char *outname = fs->outname, *prefix = fs->prefix;
	fs->excl = false;
	const char *u = fs->urls[fs->cur];
	const char *sep = strstr(u, "://");
	char scheme[16] = "http";
	const char *rest = u;
	if (sep) {
		size_t sl = (size_t)(sep - u);
		if (sl >= sizeof(scheme))
			sl = sizeof(scheme) - 1;
		memcpy(scheme, u, sl);
		scheme[sl] = 0;
		rest = sep + 3;
	} else if (!shell_bb_at_least(c->sh, 1, 20)) {
		shell_err(c, "not an http or ftp url: %s", u);
		return 1;
	}
	int defport;
	if (strcmp(scheme, "http") == 0)
		defport = 80;
	else if (strcmp(scheme, "ftp") == 0)
		defport = 21;
	else if (strcmp(scheme, "https") == 0 && shell_bb_at_least(c->sh, 1, 24))
		defport = 443;
	else {
		shell_err(c, "not an http or ftp url: %s", u);
		return 1;
	}
	size_t al = strcspn(rest, "/?#");
	char *user = NULL, *host = NULL;
	int port;
	if (!split_authority(rest, al, &user, &host, &port, defport) || !*host) {
		shell_err(c, "bad address '%.*s'", (int)al, rest);
		free(user);
		free(host);
		return 1;
	}
	const char *path = rest + al;
	free(fs->host);
	fs->host = host;
	fs->port = port;
	free(fs->url);
	fs->url = xasprintf("%s://%s%s%s%s%s", scheme, user ? user : "", user ? "@" : "",
			    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "");
	if (port != defport) {
		char *t = xasprintf("%s:%d", fs->url, port);
		free(fs->url);
		fs->url = t;
	}
	char *t = xasprintf("%s%s%s", fs->url, *path == '/' ? "" : "/", path);
	free(fs->url);
	fs->url = t;
	free(user);
	/* the local name: last component of the path (before ? and #), or index.html */
	free(fs->remote);
	const char *p0 = *path == '/' ? path + 1 : path;
	fs->remote = xstrndup(p0, strcspn(p0, "?#"));
	free(fs->dest);
	free(fs->shown);
	fs->dest = NULL;
	fs->shown = NULL;
	if (outname) {
		if (strcmp(outname, "-") == 0) {
			fs->shown = xstrdup("-");
		} else {
			fs->shown = xstrdup(outname);
			fs->dest = abs_dest(c, outname);
		}
	} else {
		const char *base = strrchr(fs->remote, '/');
		base = base ? base + 1 : fs->remote;
		if (!*base)
			base = "index.html";
		char *name = prefix ? xasprintf("%s/%s", prefix, base) : xstrdup(base);
		fs->shown = name;
		fs->dest = abs_dest(c, name);
		fs->excl = true;
	}
	return 0;
}

int shell_cmd_wget(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	const char *outname = NULL, *prefix = NULL;
	bool quiet = false;
	bool longopts = true;
	while ((o = shell_getopt(c, &g, "csqO:o:P:Y:U:T:t:n:SN")) != -1) {
		switch (o) {
		case '?': shell_getopt_done(&g); return 1;
		case 'q': quiet = true; break;
		case 'O': outname = g.arg; break;
		case 'P': prefix = g.arg; break;
		case 1: {
			/* long options with a value take "=v" or the next argument */
			static const char *const withval[] = {"output-document", "directory-prefix",
							      "proxy",           "user-agent",
							      "timeout",         "tries",
							      "header",          "post-data",
							      "output-file",     "post-file"};
			static const char *const noval[] = {"continue",
							    "spider",
							    "quiet",
							    "no-check-certificate",
							    "no-cache",
							    "passive-ftp",
							    "no-verbose",
							    "no-clobber",
							    "no-host-directories",
							    "no-parent",
							    "server-response"};
			size_t nl = strcspn(g.arg, "=");
			bool known = false;
			for (size_t k = 0; longopts && k < LIB_ARRAY_LEN(withval); k++)
				if (strlen(withval[k]) == nl &&
				    strncmp(g.arg, withval[k], nl) == 0) {
					const char *v = shell_getopt_longarg(c, &g, withval[k]);
					if (!v) {
						shell_errf(c,
							   "wget: option '--%s' requires an "
							   "argument\n",
							   withval[k]);
						shell_usage(c, "wget");
						shell_getopt_done(&g);
						return 1;
					}
					if (k == 0)
						outname = v;
					else if (k == 1)
						prefix = v;
					known = true;
				}
			for (size_t k = 0; longopts && k < LIB_ARRAY_LEN(noval); k++)
				if (strcmp(g.arg, noval[k]) == 0) {
					known = true;
					if (k == 2)
						quiet = true;
				}
			if (!known) {
				shell_errf(c, "wget: unrecognized option '--%s'\n", g.arg);
				shell_usage(c, "wget");
				shell_getopt_done(&g);
				return 1;
			}
			break;
		}
		default: break;
		}
	}
	if (!g.noperands) {
		shell_usage(c, "wget");
		shell_getopt_done(&g);
		return 1;
	}
	struct fetch_state *fs = xcalloc(1, sizeof(*fs));
	fs->kind = K_WGET;
	fs->quiet = quiet;
	fs->outname = outname ? xstrdup(outname) : NULL;
	fs->prefix = prefix ? xstrdup(prefix) : NULL;
	fs->nurls = (size_t)g.noperands;
	fs->urls = xcalloc(fs->nurls, sizeof(char *));
	for (size_t i = 0; i < fs->nurls; i++)
		fs->urls[i] = g.operands[i]; /* argv strings live as long as the command */
	shell_getopt_done(&g);
	int rc = wget_prepare(c, fs);
	if (rc) {
		fetch_free(fs);
		return rc;
	}
	return begin(c, fs, "wget");
}

static const char *shown_ip(struct fetch_state *fs, const struct shell_fetch_result *res)
{
	if (res->remote_ip && *res->remote_ip)
		return res->remote_ip;
	return fs->host;
}

static int wget_done(struct cmd *c, struct fetch_state *fs, const struct shell_fetch_result *res)
{
	struct shell *sh = c->sh;
	bool unreach = res == &unreachable;
	int port = res->remote_port ? res->remote_port : fs->port;
	int st = 0;
	switch (res->status) {
	case SHELL_FETCH_BAD_ADDRESS: shell_err(c, "bad address '%s'", fs->host); return 1;
	case SHELL_FETCH_OK: break;
	default:
		if (unreach && !is_ip_literal(fs->host)) {
			shell_err(c, "bad address '%s'", fs->host);
			return 1;
		}
		if (!fs->quiet)
			shell_errf(c, "Connecting to %s (%s:%d)\n", fs->host, shown_ip(fs, res),
				   port);
		if (unreach)
			shell_err(c, "can't connect to remote host (%s): %s", shown_ip(fs, res),
				  shell_strerror(ENETUNREACH));
		else if (res->status == SHELL_FETCH_SERVER_ERROR) {
			if (strncmp(fs->url, "ftp:", 4) == 0)
				shell_err(c, "bad response to RETR: %d %s",
					  res->code ? res->code : 550,
					  res->error && *res->error ? res->error
								    : "Failed to open file.");
			else
				shell_err(c, "server returned error: HTTP/1.1 %d %s",
					  res->code ? res->code : 404,
					  reason_phrase(res->code ? res->code : 404));
		} else if (res->status == SHELL_FETCH_TIMEOUT ||
			   res->status == SHELL_FETCH_NOT_FETCHED)
			shell_err(c, "download timed out");
		else
			shell_err(c, "can't connect to remote host (%s): %s", shown_ip(fs, res),
				  shell_strerror(ECONNREFUSED));
		return 1;
	}
	if (!fs->quiet)
		shell_errf(c, "Connecting to %s (%s:%d)\n", fs->host, shown_ip(fs, res), port);
	bool to_stdout = fs->dest == NULL;
	bool newstyle = shell_bb_at_least(sh, 1, 30);
	if (to_stdout) {
		if (!fs->quiet && newstyle)
			shell_errf(c, "writing to stdout\n");
		shell_fobj_write(sh, c->f->fd[1], res->data, res->len, false, NULL);
	} else {
		struct vstat ds;
		bool exists = shell_vfs_lookup(&sh->vfs, fs->dest, &ds) == 0;
		if (fs->excl && exists) {
			shell_err(c, "can't open '%s': %s", fs->shown, shell_strerror(EEXIST));
			return 1;
		}
		int rc;
		if (fs->appended) {
			struct vdata *vd;
			bool discard;
			int dev;
			char abs[SH_PATH_MAX];
			rc = shell_vfs_open_write(&sh->vfs, "/", fs->dest, VFS_APPEND, &vd,
						  &discard, &dev, abs);
			if (rc == 0 && vd) {
				rc = shell_vfs_write(&sh->vfs, vd, res->data, res->len, false,
						     "wget", abs);
				vd->download = true;
				shell_vdata_unref(&sh->vfs, vd);
			}
		} else {
			rc = shell_vfs_put_file(&sh->vfs, fs->dest,
						res->data ? res->data : (const uint8_t *)"",
						res->len, false, false, true, "wget", 0644);
		}
		if (rc && rc != -ENOSPC) {
			shell_err(c, "can't open '%s': %s", fs->shown, shell_strerror(-rc));
			return 1;
		}
		if (!fs->quiet && newstyle)
			shell_errf(c, "saving to '%s'\n", fs->shown);
		if (rc == -ENOSPC) {
			if (!fs->quiet)
				wget_progress(c, shell_basename_of_cmd(fs->shown), res->len);
			shell_err(c, "write error: %s", shell_strerror(ENOSPC));
			return 1;
		}
		/* with -O FILE the following URLs append to the same file */
		if (fs->outname)
			fs->appended = true;
	}
	if (!fs->quiet) {
		wget_progress(c, to_stdout ? "-" : shell_basename_of_cmd(fs->shown), res->len);
		if (newstyle) {
			if (to_stdout)
				shell_errf(c, "written to stdout\n");
			else
				shell_errf(c, "'%s' saved\n", fs->shown);
		}
	}
	return st;
}

/* ------------------------------------------------------------------ curl */

/* curl's options that matter here (the others are parsed and ignored). */
struct curl_args {
	const char *out, *url;
	bool remote_name, silent, show_error, fail;
};

/* Parses curl's command line into o; returns 0, or curl's status after its message. */
static int curl_args(struct cmd *c, struct curl_args *o)
{
	*o = (struct curl_args){0};
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] != '-' || !a[1]) {
			if (!o->url)
				o->url = a;
			continue;
		}
		if (a[1] == '-') {
			const char *n = a + 2;
			static const char *const withval[] = {
				"output",  "user-agent", "max-time",  "connect-timeout",
				"proxy",   "user",       "header",    "data",
				"request", "retry",      "referer",   "cookie",
				"url",     "limit-rate", "interface", "data-binary"};
			bool val = false;
			for (size_t k = 0; k < LIB_ARRAY_LEN(withval); k++)
				if (strcmp(n, withval[k]) == 0)
					val = true;
			if (val) {
				if (i + 1 >= c->argc) {
					shell_errf(c,
						   "curl: option %s: requires parameter\ncurl: try "
						   "'curl --help' or 'curl --manual' for more "
						   "information\n",
						   a);
					return 2;
				}
				const char *v = c->argv[++i];
				if (strcmp(n, "output") == 0)
					o->out = v;
				else if (strcmp(n, "url") == 0)
					o->url = v;
				continue;
			}
			if (strcmp(n, "silent") == 0)
				o->silent = true;
			else if (strcmp(n, "show-error") == 0)
				o->show_error = true;
			else if (strcmp(n, "fail") == 0)
				o->fail = true;
			else if (strcmp(n, "remote-name") == 0)
				o->remote_name = true;
			continue;
		}
		for (const char *q = a + 1; *q; q++) {
			char ch = *q;
			if (strchr("oAmxuHdXeEbcrTwz", ch)) {
				const char *v =
					q[1] ? q + 1 : (i + 1 < c->argc ? c->argv[++i] : NULL);
				if (!v) {
					shell_errf(
						c,
						"curl: option -%c: requires parameter\ncurl: try "
						"'curl --help' or 'curl --manual' for more "
						"information\n",
						ch);
					return 2;
				}
				if (ch == 'o')
					o->out = v;
				break;
			}
			if (ch == 's')
				o->silent = true;
			else if (ch == 'S')
				o->show_error = true;
			else if (ch == 'f')
				o->fail = true;
			else if (ch == 'O')
				o->remote_name = true;
		}
	}
	return 0;
}

int shell_cmd_curl(struct cmd *c)
{
	struct curl_args o;
	int rc = curl_args(c, &o);
	if (rc)
		return rc;
	const char *out = o.out, *url = o.url;
	bool remote_name = o.remote_name, silent = o.silent, show_error = o.show_error;
	bool fail = o.fail;
	if (!url) {
		shell_errf(c, "curl: try 'curl --help' or 'curl --manual' for more information\n");
		return 2;
	}
	struct fetch_state *fs = xcalloc(1, sizeof(*fs));
	fs->kind = K_CURL;
	fs->silent = silent;
	fs->show_error = show_error;
	fs->fail = fail;
	const char *sep = strstr(url, "://");
	char scheme[16] = "http";
	const char *rest = url;
	if (sep) {
		size_t sl = LIB_MIN((size_t)(sep - url), sizeof(scheme) - 1);
		memcpy(scheme, url, sl);
		scheme[sl] = 0;
		rest = sep + 3;
	}
	int defport = strcmp(scheme, "https") == 0  ? 443
		      : strcmp(scheme, "ftp") == 0  ? 21
		      : strcmp(scheme, "tftp") == 0 ? 69
						    : 80;
	if (strcmp(scheme, "http") && strcmp(scheme, "https") && strcmp(scheme, "ftp") &&
	    strcmp(scheme, "tftp")) {
		if (!silent || show_error)
			shell_errf(
				c,
				"curl: (1) Protocol \"%s\" not supported or disabled in libcurl\n",
				scheme);
		fetch_free(fs);
		return 1;
	}
	size_t al = strcspn(rest, "/?#");
	char *user = NULL;
	if (!split_authority(rest, al, &user, &fs->host, &fs->port, defport) || !*fs->host) {
		if (!silent || show_error)
			shell_errf(c, "curl: (3) URL using bad/illegal format or missing URL\n");
		free(user);
		fetch_free(fs);
		return 3;
	}
	const char *path = rest + al;
	fs->url = xasprintf("%s://%.*s%s%s", scheme, (int)al, rest, *path == '/' ? "" : "/", path);
	free(user);
	const char *p0 = *path == '/' ? path + 1 : path;
	fs->remote = xstrndup(p0, strcspn(p0, "?#"));
	if (out && strcmp(out, "-") != 0) {
		fs->shown = xstrdup(out);
		fs->dest = abs_dest(c, out);
	} else if (remote_name && !out) {
		const char *b = strrchr(fs->remote, '/');
		b = b ? b + 1 : fs->remote;
		if (!*b) {
			if (!silent || show_error)
				shell_errf(c,
					   "curl: Remote file name has no length!\ncurl: try 'curl "
					   "--help' or 'curl --manual' for more information\n");
			fetch_free(fs);
			return 23;
		}
		fs->shown = xstrdup(b);
		fs->dest = abs_dest(c, b);
	}
	return begin(c, fs, "curl");
}

static int curl_done(struct cmd *c, struct fetch_state *fs, const struct shell_fetch_result *res)
{
	struct shell *sh = c->sh;
	bool say = !fs->silent || fs->show_error;
	bool meter = !fs->silent && (fs->dest || (c->f->fd[1] && c->f->fd[1]->kind != FO_TTY));
	if (res->status != SHELL_FETCH_OK) {
		if (meter)
			shell_errf(c,
				   "  %% Total    %% Received %% Xferd  Average Speed   Time    "
				   "Time     Time  Current\n"
				   "                                 Dload  Upload   Total   Spent "
				   "   Left  Speed\n"
				   "  0     0    0     0    0     0      0      0 --:--:-- "
				   "--:--:-- --:--:--     0");
		if (meter)
			shell_errf(c, "\n");
		switch (res->status) {
		case SHELL_FETCH_BAD_ADDRESS:
			if (say)
				shell_errf(c, "curl: (6) Could not resolve host: %s\n", fs->host);
			return 6;
		case SHELL_FETCH_TIMEOUT:
		case SHELL_FETCH_NOT_FETCHED:
			if (say)
				shell_errf(c, "curl: (28) Connection timed out after 10001 "
					      "milliseconds\n");
			return 28;
		case SHELL_FETCH_SERVER_ERROR:
			if (fs->fail) {
				if (say)
					shell_errf(
						c,
						"curl: (22) The requested URL returned error: %d "
						"%s\n",
						res->code ? res->code : 404,
						reason_phrase(res->code ? res->code : 404));
				return 22;
			}
			return 0;
		default:
			if (res == &unreachable && !is_ip_literal(fs->host)) {
				if (say)
					shell_errf(c, "curl: (6) Could not resolve host: %s\n",
						   fs->host);
				return 6;
			}
			if (say)
				shell_errf(c, "curl: (7) Failed to connect to %s port %d: %s\n",
					   fs->host, fs->port,
					   res == &unreachable ? shell_strerror(ENETUNREACH)
							       : shell_strerror(ECONNREFUSED));
			return 7;
		}
	}
	if (meter) {
		unsigned long long n = res->len;
		shell_errf(
			c,
			"  %% Total    %% Received %% Xferd  Average Speed   Time    Time     Time "
			" Current\n"
			"                                 Dload  Upload   Total   Spent    Left  "
			"Speed\n"
			"100 %5llu  100 %5llu    0     0  %5llu      0 --:--:-- --:--:-- --:--:-- "
			"%5llu\n",
			n, n, n, n);
	}
	if (!fs->dest) {
		shell_fobj_write(sh, c->f->fd[1], res->data, res->len, false, NULL);
		return 0;
	}
	int rc = shell_vfs_put_file(&sh->vfs, fs->dest, res->data ? res->data : (const uint8_t *)"",
				    res->len, false, false, true, "curl", 0644);
	if (rc) {
		if (say)
			shell_errf(c, "curl: (23) Failure writing output to destination\n");
		return 23;
	}
	return 0;
}

/* ------------------------------------------------------------------ tftp */

/* tftp://HOST[:PORT]/FILE, the default port left out. */
static char *tftp_url(const char *host, int port, const char *remote)
{
	const char *file = remote[0] == '/' ? remote + 1 : remote;
	if (port == 69)
		return xasprintf("tftp://%s/%s", host, file);
	return xasprintf("tftp://%s:%d/%s", host, port, file);
}

/* tftp-hpa's syntax, which scripts use although BusyBox's tftp has no -c: "tftp HOST -c get
 * REMOTE [LOCAL]" ("-c put" is refused). Returns TFTP_NOT_HPA when the command line is not
 * in that syntax. */
#define TFTP_NOT_HPA (-2)
static int tftp_hpa(struct cmd *c)
{
	for (int i = 1; i + 1 < c->argc; i++) {
		if (strcmp(c->argv[i], "-c") != 0)
			continue;
		const char *verb = c->argv[i + 1];
		const char *host = NULL;
		int port = 69;
		for (int k = 1; k < i; k++) {
			if (c->argv[k][0] == '-') {
				if (strcmp(c->argv[k], "-m") == 0)
					k++;
				continue;
			}
			if (!host)
				host = c->argv[k];
			else
				port = atoi(c->argv[k]);
		}
		if (!host || i + 2 >= c->argc)
			break;
		const char *remote = c->argv[i + 2];
		const char *local =
			i + 3 < c->argc ? c->argv[i + 3] : shell_basename_of_cmd(remote);
		if (strcmp(verb, "get") != 0) {
			shell_errf(c, "Transfer timed out.\n\n");
			return 1;
		}
		struct fetch_state *fs = xcalloc(1, sizeof(*fs));
		fs->kind = K_TFTP_HPA;
		fs->host = xstrdup(host);
		fs->port = port > 0 && port < 65536 ? port : 69;
		fs->remote = xstrdup(remote);
		fs->shown = xstrdup(local);
		fs->dest = abs_dest(c, local);
		fs->url = tftp_url(host, fs->port, remote);
		return begin(c, fs, "tftp");
	}
	return TFTP_NOT_HPA;
}

int shell_cmd_tftp(struct cmd *c)
{
	struct shell *sh = c->sh;
	int hpa = tftp_hpa(c);
	if (hpa != TFTP_NOT_HPA)
		return hpa;
	struct shell_getopt g = {0};
	int o;
	bool get = false, put = false;
	const char *local = NULL, *remote = NULL;
	while ((o = shell_getopt(c, &g, "gpl:r:b:")) != -1) {
		switch (o) {
		case '?': shell_getopt_done(&g); return 1;
		case 'g': get = true; break;
		case 'p': put = true; break;
		case 'l': local = g.arg; break;
		case 'r': remote = g.arg; break;
		default: break;
		}
	}
	if (!remote)
		remote = local;
	if (!local && remote)
		local = shell_basename_of_cmd(remote);
	if ((!get && !put) || (get && put) || g.noperands < 1 || g.noperands > 2 || !remote ||
	    !local) {
		shell_usage(c, "tftp");
		shell_getopt_done(&g);
		return 1;
	}
	const char *host = g.operands[0];
	int port = g.noperands > 1 ? atoi(g.operands[1]) : 69;
	shell_getopt_done(&g);
	if (put) {
		/* never performed: the device would send the file; it cannot reach the server */
		char abs[SH_PATH_MAX];
		struct vstat st;
		bool pok;
		int rc = shell_vfs_resolve(&sh->vfs, sh->lvl->cwd, local, true, abs, &st, &pok);
		if (rc && strcmp(local, "-") != 0) {
			shell_err(c, "can't open '%s': %s", local, shell_strerror(-rc));
			return 1;
		}
		shell_err(c, "timeout");
		return 1;
	}
	struct fetch_state *fs = xcalloc(1, sizeof(*fs));
	fs->kind = K_TFTP;
	fs->host = xstrdup(host);
	fs->port = port > 0 && port < 65536 ? port : 69;
	fs->remote = xstrdup(remote);
	fs->shown = xstrdup(local);
	if (strcmp(local, "-") != 0) {
		fs->dest = abs_dest(c, local);
		/* BusyBox opens (and empties) the local file before the transfer */
		struct vdata *vd;
		bool discard;
		int dev;
		char abs[SH_PATH_MAX];
		int rc = shell_vfs_open_write(&sh->vfs, sh->lvl->cwd, local, VFS_TRUNC, &vd,
					      &discard, &dev, abs);
		if (rc) {
			shell_err(c, "can't open '%s': %s", local, shell_strerror(-rc));
			fetch_free(fs);
			return 1;
		}
		if (vd)
			shell_vdata_unref(&sh->vfs, vd);
	}
	fs->url = tftp_url(host, fs->port, remote);
	return begin(c, fs, "tftp");
}

static int tftp_done(struct cmd *c, struct fetch_state *fs, const struct shell_fetch_result *res)
{
	struct shell *sh = c->sh;
	bool hpa = fs->kind == K_TFTP_HPA;
	if (res->status != SHELL_FETCH_OK) {
		if (res->status == SHELL_FETCH_BAD_ADDRESS ||
		    (res == &unreachable && !is_ip_literal(fs->host))) {
			if (hpa)
				shell_errf(c, "tftp: %s: Unknown host\n", fs->host);
			else
				shell_err(c, "bad address '%s'", fs->host);
			return 1;
		}
		if (res->status == SHELL_FETCH_SERVER_ERROR) {
			static const char *const msgs[] = {"",
							   "File not found",
							   "Access violation",
							   "Disk full or allocation exceeded",
							   "Illegal TFTP operation",
							   "Unknown transfer ID",
							   "File already exists",
							   "No such user",
							   "Failure to negotiate RFC2347 options"};
			int code = res->code >= 0 && res->code <= 8 ? res->code : 0;
			const char *msg =
				res->error && *res->error ? res->error : msgs[code ? code : 1];
			if (hpa)
				shell_errf(c, "Error code %d: %s\n", code ? code : 1, msg);
			else
				shell_err(c, "server error: (%d) %s", code ? code : 1, msg);
			return 1;
		}
		if (hpa)
			shell_errf(c, "Transfer timed out.\n\n");
		else
			shell_err(c, "timeout");
		return 1;
	}
	if (!fs->dest) {
		shell_fobj_write(sh, c->f->fd[1], res->data, res->len, false, NULL);
		return 0;
	}
	int rc = shell_vfs_put_file(&sh->vfs, fs->dest, res->data ? res->data : (const uint8_t *)"",
				    res->len, false, false, true, "tftp", 0644);
	if (rc) {
		if (hpa)
			shell_errf(c, "tftp: %s: %s\n", fs->shown, shell_strerror(-rc));
		else
			shell_err(c, rc == -ENOSPC ? "write error: %s" : "can't open '%s': %s",
				  rc == -ENOSPC ? shell_strerror(ENOSPC) : fs->shown,
				  shell_strerror(-rc));
		return 1;
	}
	return 0;
}

/* A user name or password inside a URL: '%', '@', ':', '/' and controls percent-encoded. */
static char *url_userinfo(const char *s)
{
	struct buf b;
	buf_init(&b, SH_WORD_MAX);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (strchr("%@:/?#[]", ch) || ch <= ' ' || ch >= 0x7f)
			buf_printf(&b, "%%%02X", ch);
		else
			buf_append(&b, s, 1);
	}
	buf_append(&b, "", 1);
	return (char *)b.data;
}

/* ------------------------------------------------------------------ ftpget, ftpput */

int shell_cmd_ftpget(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	/* BusyBox's anonymous password: "busybox@" in the 1.1x-1.2x sources, "busybox" in 1.35 */
	bool at = c->sh->bb_major == 1 && c->sh->bb_minor < 30;
	const char *user = "anonymous", *pass = at ? "busybox@" : "busybox", *port = "21";
	bool verbose = false;
	while ((o = shell_getopt(c, &g, "cvu:p:P:")) != -1) {
		switch (o) {
		case '?': shell_getopt_done(&g); return 1;
		case 'v': verbose = true; break;
		case 'u': user = g.arg; break;
		case 'p': pass = g.arg; break;
		case 'P': port = g.arg; break;
		default: break;
		}
	}
	if (g.noperands < 2 || g.noperands > 3) {
		shell_usage(c, "ftpget");
		shell_getopt_done(&g);
		return 1;
	}
	const char *host = g.operands[0];
	const char *local = g.operands[1];
	const char *remote = g.noperands > 2 ? g.operands[2] : local;
	char *e;
	long pn = strtol(port, &e, 10);
	if (*e || pn <= 0 || pn > 65535) {
		if (strcmp(port, "ftp") == 0)
			pn = 21;
		else {
			shell_err(c, "bad port spec '%s'", port);
			shell_getopt_done(&g);
			return 1;
		}
	}
	struct fetch_state *fs = xcalloc(1, sizeof(*fs));
	fs->kind = K_FTPGET;
	fs->verbose = verbose;
	fs->host = xstrdup(host);
	fs->port = (int)pn;
	fs->remote = xstrdup(remote);
	fs->user = xstrdup(user);
	fs->shown = xstrdup(local);
	if (strcmp(local, "-") != 0)
		fs->dest = abs_dest(c, local);
	char *u = url_userinfo(user), *pw = url_userinfo(pass);
	fs->url = xasprintf("ftp://%s:%s@%s%s%s%s:%ld/%s", u, pw, strchr(host, ':') ? "[" : "",
			    host, "", strchr(host, ':') ? "]" : "", pn,
			    remote[0] == '/' ? remote + 1 : remote);
	free(u);
	free(pw);
	shell_getopt_done(&g);
	return begin(c, fs, "ftpget");
}

static void ftp_cmd(struct cmd *c, struct fetch_state *fs, const char *a, const char *b)
{
	if (fs->verbose)
		shell_errf(c, "%s: cmd %s %s\n", c->name, a ? a : "(null)", b ? b : "(null)");
}

static int ftpget_done(struct cmd *c, struct fetch_state *fs, const struct shell_fetch_result *res)
{
	struct shell *sh = c->sh;
	int port = res->remote_port ? res->remote_port : fs->port;
	if (res->status == SHELL_FETCH_BAD_ADDRESS ||
	    (res == &unreachable && !is_ip_literal(fs->host))) {
		shell_err(c, "bad address '%s'", fs->host);
		return 1;
	}
	if (fs->verbose)
		shell_printf(c, "Connecting to %s (%s:%d)\n", fs->host, shown_ip(fs, res), port);
	if (res->status == SHELL_FETCH_REFUSED || res->status == SHELL_FETCH_BLOCKED ||
	    res == &unreachable) {
		shell_err(c, "can't connect to remote host (%s): %s", shown_ip(fs, res),
			  shell_strerror(res == &unreachable ? ENETUNREACH : ECONNREFUSED));
		return 1;
	}
	if (res->status == SHELL_FETCH_TIMEOUT || res->status == SHELL_FETCH_NOT_FETCHED) {
		shell_err(c, "can't connect to remote host (%s): %s", shown_ip(fs, res),
			  shell_strerror(ETIMEDOUT));
		return 1;
	}
	ftp_cmd(c, fs, NULL, NULL);
	ftp_cmd(c, fs, "USER", fs->user);
	if (res->status == SHELL_FETCH_SERVER_ERROR &&
	    (res->code == 530 || res->code == 331 || res->code == 332)) {
		ftp_cmd(c, fs, "PASS", "*");
		shell_err(c, "unexpected server response to PASS: %d %s", res->code,
			  res->error && *res->error ? res->error : "Login incorrect.");
		return 1;
	}
	ftp_cmd(c, fs, "PASS", "*");
	ftp_cmd(c, fs, "TYPE I", NULL);
	ftp_cmd(c, fs, "PASV", NULL);
	ftp_cmd(c, fs, "SIZE", fs->remote);
	ftp_cmd(c, fs, "RETR", fs->remote);
	if (res->status == SHELL_FETCH_SERVER_ERROR) {
		shell_err(c, "unexpected server response to RETR: %d %s",
			  res->code ? res->code : 550,
			  res->error && *res->error ? res->error : "Failed to open file.");
		return 1;
	}
	int rc = 0;
	if (!fs->dest)
		shell_fobj_write(sh, c->f->fd[1], res->data, res->len, false, NULL);
	else
		rc = shell_vfs_put_file(&sh->vfs, fs->dest,
					res->data ? res->data : (const uint8_t *)"", res->len,
					false, false, true, "ftpget", 0644);
	if (rc && rc != -ENOSPC) {
		shell_err(c, "can't open '%s': %s", fs->shown, shell_strerror(-rc));
		return 1;
	}
	ftp_cmd(c, fs, NULL, NULL);
	ftp_cmd(c, fs, "QUIT", NULL);
	return rc ? 1 : 0;
}

int shell_cmd_ftpput(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	while ((o = shell_getopt(c, &g, "vu:p:P:")) != -1)
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
	if (g.noperands < 2 || g.noperands > 3) {
		shell_usage(c, "ftpput");
		shell_getopt_done(&g);
		return 1;
	}
	const char *host = g.operands[0];
	const char *local = g.noperands > 2 ? g.operands[2] : g.operands[1];
	struct vfs *v = &c->sh->vfs;
	char abs[SH_PATH_MAX];
	struct vstat st;
	bool pok;
	bool ip = is_ip_literal(host);
	int rc = shell_vfs_resolve(v, c->sh->lvl->cwd, local, true, abs, &st, &pok);
	shell_getopt_done(&g);
	/* uploads are never performed: the device cannot reach the server */
	if (!ip) {
		shell_err(c, "bad address '%s'", host);
		return 1;
	}
	(void)rc;
	shell_err(c, "can't connect to remote host (%s): %s", host, shell_strerror(ECONNREFUSED));
	return 1;
}

/* ------------------------------------------------------------------ completion */

int shell_fetch_deliver(struct cmd *c, struct fetch_state *fs, const struct shell_fetch_result *res)
{
	c->name = fs->kind == K_WGET     ? "wget"
		  : fs->kind == K_CURL   ? "curl"
		  : fs->kind == K_FTPGET ? "ftpget"
					 : "tftp";
	switch (fs->kind) {
	case K_WGET: {
		int st = wget_done(c, fs, res);
		/* the next URL of the same command */
		while (fs->cur + 1 < fs->nurls) {
			fs->cur++;
			bool appended = fs->appended;
			int rc = wget_prepare(c, fs);
			fs->appended = appended;
			if (rc) {
				st = rc;
				continue;
			}
			fs->req.url = fs->url;
			fs->req.destfile = fs->dest ? fs->dest : fs->stdout_file;
			if (shell_io_fetch(c->sh, &fs->req) == 0)
				return SH_SUSPEND;
			st |= wget_done(c, fs, &unreachable);
		}
		return st;
	}
	case K_CURL: return curl_done(c, fs, res);
	case K_TFTP:
	case K_TFTP_HPA: return tftp_done(c, fs, res);
	case K_FTPGET: return ftpget_done(c, fs, res);
	default: return 1;
	}
}
