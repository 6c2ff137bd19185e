/* shell/procutils: the small applets: sleep, which, basename, dirname, env, the hash sums,
 * date, seq, yes, reboot, mktemp, the runners (nohup, nice, setsid, timeout, time), true,
 * false and kill. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ small applets */

/* sleep N[smhd]...: the sum of its operands, on the session's timer (io->wait). */
int shell_cmd_sleep(struct cmd *c)
{
	if (c->argc < 2) {
		shell_usage(c, "sleep");
		return 1;
	}
	double total = 0;
	for (int i = 1; i < c->argc; i++) {
		char *e;
		double v = strtod(c->argv[i], &e);
		if (e == c->argv[i] || (*e && !strchr("smhd", *e)) || (*e && e[1]) || !(v >= 0)) {
			shell_err(c, "invalid number '%s'", c->argv[i]);
			return 1;
		}
		total += v * (*e == 'm' ? 60 : *e == 'h' ? 3600 : *e == 'd' ? 86400 : 1);
	}
	double ms = total * 1000;
	return shell_wait(c, ms >= SH_WAIT_MAX_MS ? SH_WAIT_MAX_MS : (uint64_t)ms);
}

/* usleep N: N microseconds. */
int shell_cmd_usleep(struct cmd *c)
{
	if (c->argc < 2) {
		shell_usage(c, "usleep");
		return 1;
	}
	char *e;
	unsigned long long us = strtoull(c->argv[1], &e, 10);
	if (e == c->argv[1] || *e || c->argv[1][0] == '-') {
		shell_err(c, "invalid number '%s'", c->argv[1]);
		return 1;
	}
	return shell_wait(c, (uint64_t)LIB_MIN(us / 1000, (unsigned long long)SH_WAIT_MAX_MS));
}

int shell_cmd_which(struct cmd *c)
{
	int st = 0;
	if (c->argc < 2)
		return 1;
	for (int i = 1; i < c->argc; i++) {
		const char *n = c->argv[i];
		bool found = false;
		if (strchr(n, '/')) {
			char abs[SH_PATH_MAX];
			struct vstat s;
			if (shell_resolve(c, n, true, abs, &s) == 0 && s.kind == VN_FILE &&
			    (s.mode & 0111)) {
				shell_printf(c, "%s\n", n);
				found = true;
			}
		} else {
			char shown[SH_PATH_MAX], abs[SH_PATH_MAX];
			struct vstat s;
			found = shell_path_lookup(c->sh, n, true, shown, abs, &s) == 0;
			if (found)
				shell_printf(c, "%s\n", shown);
		}
		if (!found)
			st = 1;
	}
	return st;
}

int shell_cmd_basename(struct cmd *c)
{
	if (c->argc < 2) {
		shell_usage(c, "basename");
		return 1;
	}
	char *b = xstrdup(shell_base_name(c->argv[1]));
	size_t l = strlen(b);
	while (l > 1 && b[l - 1] == '/')
		b[--l] = 0;
	if (c->argc > 2) {
		size_t sl = strlen(c->argv[2]);
		if (sl < l && strcmp(b + l - sl, c->argv[2]) == 0)
			b[l - sl] = 0;
	}
	shell_printf(c, "%s\n", b);
	free(b);
	return 0;
}

int shell_cmd_dirname(struct cmd *c)
{
	if (c->argc < 2) {
		shell_usage(c, "dirname");
		return 1;
	}
	char *d = xstrdup(c->argv[1]);
	size_t l = strlen(d);
	while (l > 1 && d[l - 1] == '/')
		d[--l] = 0;
	char *s = strrchr(d, '/');
	if (!s)
		shell_outs(c, ".\n");
	else {
		while (s > d && s[-1] == '/')
			s--;
		if (s == d)
			shell_outs(c, "/\n");
		else {
			*s = 0;
			shell_printf(c, "%s\n", d);
		}
	}
	free(d);
	return 0;
}

static int run_rest(struct cmd *c, int from, const char *runner);

int shell_cmd_env(struct cmd *c)
{
	if (strcmp(c->name, "env") == 0) {
		int i = 1;
		while (i < c->argc && (c->argv[i][0] == '-' || strchr(c->argv[i], '='))) {
			if (strcmp(c->argv[i], "-u") == 0)
				i++;
			i++;
		}
		if (i < c->argc)
			return run_rest(c, i, "env");
	}
	shell_materialize_defaults(c->sh);
	struct level *l = c->sh->lvl;
	if (c->argc > 1 && strcmp(c->name, "printenv") == 0) {
		const char *v = shell_getvar(c->sh, c->argv[1]);
		if (!v)
			return 1;
		shell_printf(c, "%s\n", v);
		return 0;
	}
	for (size_t i = 0; i < l->nvars; i++)
		if (l->vars[i].exported && l->vars[i].value)
			shell_printf(c, "%s=%s\n", l->vars[i].name, l->vars[i].value);
	return 0;
}

int shell_cmd_hash(struct cmd *c)
{
	bool md5 = strcmp(c->name, "md5sum") == 0, sha1 = strcmp(c->name, "sha1sum") == 0;
	char *dash[] = {(char *)"-", NULL};
	int first = 1;
	while (first < c->argc && c->argv[first][0] == '-' && c->argv[first][1])
		first++;
	char **files = first < c->argc ? c->argv + first : dash;
	int nf = first < c->argc ? c->argc - first : 1;
	int st = 0;
	for (int i = 0; i < nf; i++) {
		struct shell_rd r;
		int rc = shell_read_path(c, files[i], &r);
		if (rc) {
			shell_err(c, "can't open '%s': %s", files[i], shell_strerror(-rc));
			st = 1;
			continue;
		}
		struct lib_hashes h;
		lib_hashes(r.p ? r.p : (const uint8_t *)"", r.n, &h);
		shell_printf(c, "%s  %s\n", md5 ? h.md5 : sha1 ? h.sha1 : h.sha256, files[i]);
		shell_rd_free(&r);
	}
	return st;
}

int shell_cmd_date(struct cmd *c)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char b[64];
	if (c->argc > 1 && c->argv[1][0] == '+') {
		/* the attacker's format, into a bounded buffer */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		if (!strftime(b, sizeof(b), c->argv[1] + 1, &tm))
			b[0] = 0;
#pragma GCC diagnostic pop
	} else
		strftime(b, sizeof(b), "%a %b %e %H:%M:%S UTC %Y", &tm);
	shell_printf(c, "%s\n", b);
	return 0;
}

int shell_cmd_seq(struct cmd *c)
{
	if (c->argc < 2 || c->argc > 4) {
		shell_usage(c, "seq");
		return 1;
	}
	long long first = 1, inc = 1, last;
	last = strtoll(c->argv[c->argc - 1], NULL, 10);
	if (c->argc >= 3)
		first = strtoll(c->argv[1], NULL, 10);
	if (c->argc == 4)
		inc = strtoll(c->argv[2], NULL, 10);
	if (!inc)
		return 1;
	struct buf b;
	buf_init(&b, SH_PIPE_MAX);
	long n = 0;
	for (long long v = first; (inc > 0 ? v <= last : v >= last) && n < SH_LOOP_MAX;
	     v += inc, n++)
		if (buf_printf(&b, "%lld\n", v))
			break;
	shell_out(c, b.data, b.len, false);
	buf_free(&b);
	return 0;
}

int shell_cmd_yes(struct cmd *c)
{
	/* endless on a device; here what a pipe or a file can take */
	const char *w = c->argc > 1 ? c->argv[1] : "y";
	struct buf b;
	buf_init(&b, SH_PIPE_MAX);
	size_t wl = strlen(w);
	while (b.len + wl + 1 < SH_PIPE_MAX) {
		buf_append(&b, w, wl);
		buf_append(&b, "\n", 1);
	}
	shell_out(c, b.data, b.len, false);
	buf_free(&b);
	return 0;
}

int shell_cmd_reboot(struct cmd *c)
{
	shell_end_session(c->sh, SHELL_END_REBOOT);
	return 0;
}

int shell_cmd_mktemp(struct cmd *c)
{
	bool dir = false;
	const char *tmpl = "/tmp/tmp.XXXXXX";
	for (int i = 1; i < c->argc; i++) {
		if (strcmp(c->argv[i], "-d") == 0)
			dir = true;
		else if (c->argv[i][0] != '-')
			tmpl = c->argv[i];
	}
	char *p = xstrdup(tmpl);
	static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (char *x = p + strlen(p); x > p && x[-1] == 'X'; x--) {
		uint8_t r;
		lib_random(&r, 1);
		x[-1] = al[r % (sizeof(al) - 1)];
	}
	char abs[SH_PATH_MAX];
	struct vstat s;
	bool pok;
	int rc = shell_vfs_resolve(V(c), CWD(c), p, false, abs, &s, &pok);
	if (rc == -ENOENT && pok)
		rc = dir ? shell_vfs_mkdir(V(c), abs, 0700)
			 : shell_vfs_put_file(V(c), abs, (const uint8_t *)"", 0, false, false,
					      false, "mktemp", 0600);
	else if (rc == 0)
		rc = -EEXIST;
	if (rc) {
		shell_err(c, "(null): %s", shell_strerror(-rc));
		free(p);
		return 1;
	}
	shell_printf(c, "%s\n", p);
	free(p);
	return 0;
}

/* nohup, nice, setsid, time, timeout, env, chrt...: run the rest of the line as a program. */
static int run_rest(struct cmd *c, int from, const char *runner)
{
	if (from >= c->argc)
		return 0;
	char **saved = c->argv;
	int savedc = c->argc;
	c->argv += from;
	c->argc -= from;
	int rc = shell_dispatch_external(c, runner);
	c->argv = saved;
	c->argc = savedc;
	return rc;
}

int shell_cmd_nohup(struct cmd *c)
{
	if (c->argc < 2) {
		shell_usage(c, "nohup");
		return 1;
	}
	/* output to a terminal goes to nohup.out, as BusyBox does */
	struct frame *f = c->f;
	if (f->fd[1] && f->fd[1]->kind == FO_TTY) {
		struct vdata *vd;
		bool discard;
		int dev;
		char abs[SH_PATH_MAX];
		if (shell_vfs_open_write(V(c), CWD(c), "nohup.out", VFS_APPEND, &vd, &discard, &dev,
					 abs) == 0 &&
		    vd) {
			struct fobj *o = shell_fobj_new(FO_FILE);
			o->vd = vd;
			o->writable = true;
			o->path = xstrdup(abs);
			shell_fobj_unref(c->sh, f->fd[1]);
			f->fd[1] = o;
		}
	}
	if (f->fd[2] && f->fd[2]->kind == FO_TTY) {
		shell_fobj_ref(f->fd[1]);
		shell_fobj_unref(c->sh, f->fd[2]);
		f->fd[2] = f->fd[1];
	}
	return run_rest(c, 1, "nohup");
}

int shell_cmd_nice(struct cmd *c)
{
	int i = 1;
	if (i < c->argc && strcmp(c->argv[i], "-n") == 0)
		i += 2;
	else if (i < c->argc && c->argv[i][0] == '-' && isdigit((unsigned char)c->argv[i][1]))
		i++;
	if (i >= c->argc) {
		shell_printf(c, "0\n");
		return 0;
	}
	return run_rest(c, i, c->name);
}

int shell_cmd_setsid(struct cmd *c)
{
	int i = 1;
	while (i < c->argc && c->argv[i][0] == '-')
		i++;
	if (i >= c->argc) {
		shell_usage(c, "setsid");
		return 1;
	}
	return run_rest(c, i, "setsid");
}

/* timeout [-t SECS] [-s SIG] [-k SECS] PROG ARGS (BusyBox up to 1.29) or timeout [-s SIG]
 * [-k SECS] SECS PROG ARGS (from 1.30): PROG runs; a wait of it (sleep, usleep, a nested
 * timeout) longer than SECS is cut there, and PROG ends as SIGTERM ends it: "Terminated",
 * status 143. */
int shell_cmd_timeout(struct cmd *c)
{
	int i = 1;
	const char *secs = NULL;
	while (i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]) {
		bool t = strcmp(c->argv[i], "-t") == 0;
		if ((t || strcmp(c->argv[i], "-s") == 0 || strcmp(c->argv[i], "-k") == 0) &&
		    i + 1 < c->argc) {
			if (t)
				secs = c->argv[i + 1];
			i++;
		}
		i++;
	}
	if (!secs && i < c->argc && isdigit((unsigned char)c->argv[i][0]))
		secs = c->argv[i++];
	if (i >= c->argc) {
		shell_usage(c, "timeout");
		return 1;
	}
	char *e;
	double s = secs ? strtod(secs, &e) : 10;
	if (secs && (*e || !(s >= 0))) {
		shell_err(c, "invalid number '%s'", secs);
		return 1;
	}
	struct shell *sh = c->sh;
	uint64_t saved = sh->timeout_ms, ms = (uint64_t)(LIB_MIN(s * 1000, (double)SH_WAIT_MAX_MS));
	if (ms && (!saved || ms < saved))
		sh->timeout_ms = ms;
	int rc = run_rest(c, i, "timeout");
	sh->timeout_ms = saved;
	return rc;
}

int shell_cmd_time(struct cmd *c)
{
	if (c->argc < 2) {
		shell_usage(c, "time");
		return 1;
	}
	int rc = run_rest(c, 1, "time");
	if (rc >= 0)
		shell_errf(c, "real\t0m 0.00s\nuser\t0m 0.00s\nsys\t0m 0.00s\n");
	return rc;
}

int shell_cmd_true_a(struct cmd *c)
{
	return 0;
}

int shell_cmd_false_a(struct cmd *c)
{
	return 1;
}

int shell_cmd_kill_a(struct cmd *c)
{
	return shell_kill(c, false);
}
