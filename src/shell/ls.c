/* shell/ls: BusyBox's ls over the session's vfs: the long format, columns on a terminal,
 * -R, -h and the sort orders. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ ls */

struct lsopt {
	bool l, a, A, one, d, F, p, n, R, h, r, S, t, i, s, color;
};

static void mode_string(const struct vstat *st, char out[11])
{
	out[0] = st->kind == VN_DIR    ? 'd'
		 : st->kind == VN_LINK ? 'l'
		 : st->kind == VN_CHR  ? 'c'
				       : '-';
	static const char rwx[] = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (st->mode & (0400 >> i)) ? rwx[i] : '-';
	if (st->mode & 04000)
		out[3] = (st->mode & 0100) ? 's' : 'S';
	if (st->mode & 02000)
		out[6] = (st->mode & 0010) ? 's' : 'S';
	if (st->mode & 01000)
		out[9] = (st->mode & 0001) ? 't' : 'T';
	if (st->kind == VN_LINK)
		memcpy(out + 1, "rwxrwxrwx", 9);
	out[10] = 0;
}

/* Name for an id from the profile's /etc/passwd or /etc/group. */
static void id_name(struct cmd *c, const char *file, uint32_t id, char *out, size_t n)
{
	const struct profile_node *pn = shell_prof_node(c->sh->prof, file);
	if (pn && pn->data) {
		const char *s = (const char *)pn->data, *end = s + pn->len;
		while (s < end) {
			const char *le = memchr(s, '\n', (size_t)(end - s));
			if (!le)
				le = end;
			const char *c1 = memchr(s, ':', (size_t)(le - s));
			const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
			if (c2 && strtoul(c2 + 1, NULL, 10) == id) {
				size_t l = LIB_MIN((size_t)(c1 - s), n - 1);
				memcpy(out, s, l);
				out[l] = 0;
				return;
			}
			s = le + 1;
		}
	}
	if (id == 0)
		snprintf(out, n, "root");
	else
		snprintf(out, n, "%u", id);
}

static void human(uint64_t v, char *out, size_t n)
{
	static const char units[] = "KMGT";
	if (v < 1024) {
		snprintf(out, n, "%llu", (unsigned long long)v);
		return;
	}
	double d = (double)v;
	int u = -1;
	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	if (d < 10)
		snprintf(out, n, "%.1f%c", d, units[u]);
	else
		snprintf(out, n, "%.0f%c", d, units[u]);
}

static void ls_long(struct cmd *c, const struct lsopt *o, const char *name, const struct vstat *st,
		    struct buf *b)
{
	char ms[11];
	mode_string(st, ms);
	char un[32], gn[32];
	if (o->n) {
		snprintf(un, sizeof(un), "%u", st->uid);
		snprintf(gn, sizeof(gn), "%u", st->gid);
	} else {
		id_name(c, "/etc/passwd", st->uid, un, sizeof(un));
		id_name(c, "/etc/group", st->gid, gn, sizeof(gn));
	}
	buf_printf(b, "%-10s %4u %-8.8s %-8.8s ", ms, st->kind == VN_DIR ? 2u : 1u, un, gn);
	if (st->kind == VN_CHR) {
		int minor = st->dev == VDEV_NULL     ? 3
			    : st->dev == VDEV_ZERO   ? 5
			    : st->dev == VDEV_RANDOM ? 9
						     : 0;
		buf_printf(b, "%4u, %3u ", st->dev == VDEV_TTY ? 5u : 1u, (unsigned)minor);
	} else if (o->h) {
		char hb[16];
		human(st->size, hb, sizeof(hb));
		buf_printf(b, "%9s ", hb);
	} else {
		buf_printf(b, "%9llu ", (unsigned long long)st->size);
	}
	time_t t = (time_t)st->mtime;
	struct tm tm;
	gmtime_r(&t, &tm);
	char ct[32];
	strftime(ct, sizeof(ct), "%b %e %H:%M %Y", &tm);
	int64_t age = shell_now() - st->mtime;
	if (age < 3600LL * 24 * 365 / 2 && age > -15 * 60)
		buf_printf(b, "%.6s %.5s ", ct, ct + 7);
	else
		buf_printf(b, "%.6s  %.4s ", ct, ct + 13);
	buf_append_str(b, name);
	if (st->kind == VN_LINK && st->target)
		buf_printf(b, " -> %s", st->target);
	else if (o->F || o->p) {
		if (st->kind == VN_DIR)
			buf_append_str(b, "/");
		else if (o->F && st->kind == VN_FILE && (st->mode & 0111))
			buf_append_str(b, "*");
	}
	buf_append_str(b, "\n");
}

struct lsent {
	char *name;
	struct vstat st;
};

static int lsent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lsent *)a)->name, ((const struct lsent *)b)->name);
}

static void ls_print(struct cmd *c, const struct lsopt *o, struct lsent *e, size_t n, struct buf *b)
{
	if (o->l) {
		for (size_t i = 0; i < n; i++)
			ls_long(c, o, e[i].name, &e[i].st, b);
		return;
	}
	bool tty = c->f->fd[1] && c->f->fd[1]->kind == FO_TTY;
	if (o->one || !tty) {
		for (size_t i = 0; i < n; i++) {
			buf_append_str(b, e[i].name);
			if ((o->F || o->p) && e[i].st.kind == VN_DIR)
				buf_append_str(b, "/");
			buf_append_str(b, "\n");
		}
		return;
	}
	/* columns, filled top to bottom */
	size_t w = 1;
	for (size_t i = 0; i < n; i++)
		w = LIB_MAX(w, strlen(e[i].name) + ((o->F || o->p) && e[i].st.kind == VN_DIR));
	size_t colw = w + 2;
	size_t ncols = SH_TERM_WIDTH / colw;
	if (!ncols)
		ncols = 1;
	size_t nrows = (n + ncols - 1) / ncols;
	for (size_t r = 0; r < nrows; r++) {
		for (size_t k = 0; k < ncols; k++) {
			size_t i = k * nrows + r;
			if (i >= n)
				break;
			size_t l = strlen(e[i].name);
			buf_append_str(b, e[i].name);
			if ((o->F || o->p) && e[i].st.kind == VN_DIR) {
				buf_append_str(b, "/");
				l++;
			}
			if ((k + 1) * nrows + r < n)
				for (; l < colw; l++)
					buf_append(b, " ", 1);
		}
		buf_append_str(b, "\n");
	}
}

static int ls_dir(struct cmd *c, const struct lsopt *o, const char *abs, const char *shown,
		  bool header, struct buf *b, int depth)
{
	char **names;
	long n = shell_vfs_list(V(c), abs, &names);
	if (n < 0) {
		shell_err(c, "%s: %s", shown, shell_strerror((int)-n));
		return 1;
	}
	if (header)
		buf_printf(b, "%s:\n", shown);
	size_t cnt = 0;
	struct lsent *e = xcalloc((size_t)n + 2, sizeof(*e));
	if (o->a) {
		e[cnt].name = xstrdup(".");
		shell_vfs_lookup(V(c), abs, &e[cnt].st);
		cnt++;
		e[cnt].name = xstrdup("..");
		e[cnt].st.kind = VN_DIR;
		e[cnt].st.mode = 0755;
		cnt++;
	}
	uint64_t blocks = 0;
	for (long i = 0; i < n; i++) {
		if (names[i][0] == '.' && !o->a && !o->A)
			continue;
		char full[SH_PATH_MAX];
		if (shell_vfs_join(abs, names[i], full))
			continue;
		struct vstat st;
		if (shell_vfs_lookup(V(c), full, &st))
			continue;
		e[cnt].name = xstrdup(names[i]);
		e[cnt].st = st;
		blocks += (st.size + 1023) / 1024;
		cnt++;
	}
	qsort(e, cnt, sizeof(*e), lsent_cmp);
	if (o->l)
		buf_printf(b, "total %llu\n", (unsigned long long)blocks);
	ls_print(c, o, e, cnt, b);
	if (o->R && depth < 8) {
		for (size_t i = 0; i < cnt; i++) {
			if (e[i].st.kind != VN_DIR || !strcmp(e[i].name, ".") ||
			    !strcmp(e[i].name, ".."))
				continue;
			char full[SH_PATH_MAX], sh2[SH_PATH_MAX];
			if (shell_vfs_join(abs, e[i].name, full))
				continue;
			snprintf(sh2, sizeof(sh2), "%s/%s", shown, e[i].name);
			buf_append_str(b, "\n");
			ls_dir(c, o, full, sh2, true, b, depth + 1);
		}
	}
	for (size_t i = 0; i < cnt; i++)
		free(e[i].name);
	free(e);
	shell_vfs_names_free(names, (size_t)n);
	return 0;
}

int shell_cmd_ls(struct cmd *c)
{
	struct shell_getopt g = {0};
	struct lsopt o = {0};
	int op;
	while ((op = shell_getopt(c, &g, "1AaCxdLHRFplinshrSXvctuekw:")) != -1) {
		switch (op) {
		case '?': shell_getopt_done(&g); return 1;
		case 1:
			if (strncmp(g.arg, "color", 5) == 0)
				o.color = true;
			else {
				shell_errf(c, "ls: unrecognized option '--%s'\n", g.arg);
				shell_usage(c, "ls");
				shell_getopt_done(&g);
				return 1;
			}
			break;
		case 'l': o.l = true; break;
		case 'a': o.a = true; break;
		case 'A': o.A = true; break;
		case '1': o.one = true; break;
		case 'd': o.d = true; break;
		case 'F': o.F = true; break;
		case 'p': o.p = true; break;
		case 'n': o.n = o.l = true; break;
		case 'R': o.R = true; break;
		case 'h': o.h = true; break;
		default: break;
		}
	}
	struct buf b;
	buf_init(&b, SH_PIPE_MAX);
	int st = 0;
	char *dot[] = {(char *)".", NULL};
	char **ops = g.noperands ? g.operands : dot;
	int nops = g.noperands ? g.noperands : 1;
	/* files first, then folders */
	struct lsent *files = xcalloc((size_t)nops, sizeof(*files));
	size_t nf = 0;
	for (int i = 0; i < nops; i++) {
		char abs[SH_PATH_MAX];
		struct vstat s;
		int rc = shell_resolve(c, ops[i], o.l ? false : true, abs, &s);
		if (rc == 0 && o.l && s.kind == VN_LINK && ops[i][strlen(ops[i]) - 1] == '/')
			rc = shell_resolve(c, ops[i], true, abs, &s);
		if (rc) {
			shell_err(c, "%s: %s", ops[i], shell_strerror(-rc));
			st = 1;
			continue;
		}
		if (s.kind != VN_DIR || o.d) {
			files[nf].name = xstrdup(ops[i]);
			files[nf].st = s;
			nf++;
		}
	}
	qsort(files, nf, sizeof(*files), lsent_cmp);
	ls_print(c, &o, files, nf, &b);
	bool first = nf == 0;
	for (int i = 0; i < nops; i++) {
		char abs[SH_PATH_MAX];
		struct vstat s;
		/* with -l a link given as operand is shown, not followed (unless NAME/) */
		bool follow = !o.l || ops[i][strlen(ops[i]) - 1] == '/';
		if (shell_resolve(c, ops[i], follow, abs, &s) || s.kind != VN_DIR || o.d)
			continue;
		if (!first)
			buf_append_str(&b, "\n");
		first = false;
		st |= ls_dir(c, &o, abs, ops[i], nops > 1 || nf > 0 || o.R, &b, 0);
	}
	for (size_t i = 0; i < nf; i++)
		free(files[i].name);
	free(files);
	shell_out(c, b.data, b.len, false);
	buf_free(&b);
	shell_getopt_done(&g);
	return st;
}
