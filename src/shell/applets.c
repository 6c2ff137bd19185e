/* shell/applets: BusyBox's file applets over the session's vfs: cat cp mv rm mkdir rmdir
 * chmod chown ls touch dd head tail wc grep ln tee and small ones (sleep, which, basename,
 * md5sum...). Their messages and exit statuses are BusyBox's. The applet table is here. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ helpers */

static struct vfs *V(struct cmd *c)
{
	return &c->sh->vfs;
}

static const char *CWD(struct cmd *c)
{
	return c->sh->lvl->cwd;
}

static int resolve(struct cmd *c, const char *path, bool follow, char *abs, struct vstat *st)
{
	bool pok;
	return shell_vfs_resolve(V(c), CWD(c), path, follow, abs, st, &pok);
}

/* A file's bytes for reading, or an error (-errno). Device bytes go to *tmp (caller frees). */
struct rd {
	const uint8_t *p;
	size_t n;
	bool attacker;
	uint8_t *tmp;
};

static int read_path(struct cmd *c, const char *path, struct rd *r)
{
	memset(r, 0, sizeof(*r));
	r->p = (const uint8_t *)"";
	if (strcmp(path, "-") == 0) {
		r->p = shell_stdin(c, &r->n, &r->attacker);
		return 0;
	}
	char abs[SH_PATH_MAX];
	struct vstat st;
	int rc = resolve(c, path, true, abs, &st);
	if (rc)
		return rc;
	if (st.kind == VN_DIR)
		return -EISDIR;
	if (st.kind == VN_CHR) {
		if (st.dev == VDEV_ZERO || st.dev == VDEV_RANDOM) {
			r->tmp = xcalloc(1, SH_DEV_READ_MAX);
			if (st.dev == VDEV_RANDOM)
				lib_random(r->tmp, SH_DEV_READ_MAX);
			r->p = r->tmp;
			r->n = SH_DEV_READ_MAX;
		}
		return 0;
	}
	r->p = st.data ? st.data : (const uint8_t *)"";
	r->n = st.size;
	r->attacker = st.ve && st.ve->data && st.ve->data->attacker;
	return 0;
}

static void rd_free(struct rd *r)
{
	free(r->tmp);
}

static const char *base_name(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	const char *s = p + n;
	while (s > p && s[-1] != '/')
		s--;
	return s;
}

/* ------------------------------------------------------------------ cat */

static int cmd_cat(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool number = false;
	while ((o = shell_getopt(c, &g, "nbvteAu")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 'n' || o == 'b')
			number = true;
	}
	char *dash[] = {(char *)"-", NULL};
	char **files = g.noperands ? g.operands : dash;
	int n = g.noperands ? g.noperands : 1;
	int st = 0;
	unsigned long line = 1;
	for (int i = 0; i < n; i++) {
		struct rd r;
		int rc = read_path(c, files[i], &r);
		if (rc == -EISDIR) {
			shell_err(c, "read error: %s", shell_strerror(EISDIR));
			st = 1;
			continue;
		}
		if (rc) {
			shell_err(c, "can't open '%s': %s", files[i], shell_strerror(-rc));
			st = 1;
			continue;
		}
		if (number) {
			size_t s0 = 0;
			for (size_t k = 0; k < r.n; k++)
				if (r.p[k] == '\n' || k + 1 == r.n) {
					shell_printf(c, "%6lu\t", line++);
					shell_out(c, r.p + s0, k + 1 - s0, r.attacker);
					s0 = k + 1;
				}
		} else if (shell_out(c, r.p, r.n, r.attacker) == -ENOSPC) {
			shell_err(c, "write error: %s", shell_strerror(ENOSPC));
			st = 1;
		}
		rd_free(&r);
	}
	shell_getopt_done(&g);
	return st;
}

/* ------------------------------------------------------------------ cp, mv */

static int copy_one(struct cmd *c, const char *src, const char *dst_abs, bool recursive, int depth);

static int copy_file(struct cmd *c, const char *src, const struct vstat *st, const char *dst)
{
	struct vfs *v = V(c);
	struct vstat dst_st;
	if (shell_vfs_lookup(v, dst, &dst_st) == 0 && dst_st.kind == VN_DIR) {
		shell_err(c, "can't create '%s': %s", dst, shell_strerror(EISDIR));
		return 1;
	}
	int rc;
	if (st->kind == VN_CHR) {
		struct rd r;
		read_path(c, src, &r);
		rc = shell_vfs_put_file(v, dst, r.p ? r.p : (const uint8_t *)"", r.n, false, false,
					false, "cp", 0644);
		rd_free(&r);
	} else if (st->pn && !st->ve) {
		/* the device's own file: borrowed, not an upload */
		rc = shell_vfs_put_file(v, dst, st->data, st->size, true, false, false, "cp",
					st->mode & 0777);
	} else {
		struct vdata *svd = st->ve ? st->ve->data : NULL;
		bool att = svd && svd->attacker;
		bool dl = svd && svd->download;
		/* copy the bytes first: the destination may be the same content object */
		uint8_t *copy = st->size ? xmalloc(st->size) : NULL;
		if (st->size)
			memcpy(copy, st->data, st->size);
		rc = shell_vfs_put_file(v, dst, copy ? copy : (const uint8_t *)"", st->size, false,
					att, dl, "cp", st->mode & 0777);
		free(copy);
	}
	if (rc) {
		shell_err(c, "can't create '%s': %s", dst, shell_strerror(-rc));
		return 1;
	}
	return 0;
}

static int copy_one(struct cmd *c, const char *src, const char *dst_abs, bool recursive, int depth)
{
	char abs[SH_PATH_MAX];
	struct vstat st;
	int rc = resolve(c, src, true, abs, &st);
	if (rc) {
		shell_err(c, "can't stat '%s': %s", src, shell_strerror(-rc));
		return 1;
	}
	if (strcmp(abs, dst_abs) == 0) {
		shell_err(c, "'%s' and '%s' are the same file", src, src);
		return 1;
	}
	if (st.kind != VN_DIR)
		return copy_file(c, abs, &st, dst_abs);
	if (!recursive) {
		shell_err(c, "omitting directory '%s'", src);
		return 1;
	}
	if (depth > 32)
		return 1;
	size_t al = strlen(abs);
	if (strncmp(dst_abs, abs, al) == 0 && dst_abs[al] == '/') {
		shell_err(c, "can't copy a directory into itself");
		return 1;
	}
	struct vstat dst_st;
	if (shell_vfs_lookup(V(c), dst_abs, &dst_st) != 0) {
		rc = shell_vfs_mkdir(V(c), dst_abs, st.mode ? st.mode : 0755);
		if (rc) {
			shell_err(c, "can't create directory '%s': %s", dst_abs,
				  shell_strerror(-rc));
			return 1;
		}
	}
	char **names;
	long n = shell_vfs_list(V(c), abs, &names);
	int ret = 0;
	for (long i = 0; i < n; i++) {
		char s2[SH_PATH_MAX], d2[SH_PATH_MAX];
		if (shell_vfs_join(abs, names[i], s2) || shell_vfs_join(dst_abs, names[i], d2))
			continue;
		ret |= copy_one(c, s2, d2, recursive, depth + 1);
	}
	if (n >= 0)
		shell_vfs_names_free(names, (size_t)n);
	return ret;
}

/* The destination of cp/mv for one source: DEST itself, or DEST/basename when DEST is a
 * folder. Returns -1 after printing an error. */
static int dest_path(struct cmd *c, const char *dest, bool dest_is_dir, const char *src, char *out)
{
	char abs[SH_PATH_MAX];
	struct vstat st;
	int rc = resolve(c, dest, true, abs, &st);
	if (rc && rc != -ENOENT) {
		shell_err(c, "can't create '%s': %s", dest, shell_strerror(-rc));
		return -1;
	}
	if (rc == -ENOENT) {
		bool pok;
		if (shell_vfs_resolve(V(c), CWD(c), dest, true, abs, &st, &pok) == -ENOENT &&
		    !pok) {
			shell_err(c, "can't create '%s': %s", dest, shell_strerror(ENOENT));
			return -1;
		}
	}
	if (dest_is_dir) {
		if (shell_vfs_join(abs, base_name(src), out)) {
			shell_err(c, "can't create '%s': %s", dest, shell_strerror(ENAMETOOLONG));
			return -1;
		}
		return 0;
	}
	strcpy(out, abs);
	return 0;
}

static bool is_dir(struct cmd *c, const char *path)
{
	char abs[SH_PATH_MAX];
	struct vstat st;
	return resolve(c, path, true, abs, &st) == 0 && st.kind == VN_DIR;
}

/* cp and mv: at least SOURCE DEST, and a folder as DEST for several sources. Returns the
 * destination (NULL after printing usage or the error) and whether it is a folder. */
static const char *sources_dest(struct cmd *c, struct shell_getopt *g, bool *dir)
{
	if (g->noperands < 2) {
		shell_usage(c, c->name);
		return NULL;
	}
	const char *dest = g->operands[g->noperands - 1];
	*dir = is_dir(c, dest);
	if (g->noperands > 2 && !*dir) {
		shell_err(c, "target '%s' is not a directory", dest);
		return NULL;
	}
	return dest;
}

static int cmd_cp(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool rec = false;
	while ((o = shell_getopt(c, &g, "arRdPLHpfilsTv")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 'a' || o == 'r' || o == 'R')
			rec = true;
	}
	bool dir;
	const char *dest = sources_dest(c, &g, &dir);
	if (!dest) {
		shell_getopt_done(&g);
		return 1;
	}
	int st = 0;
	for (int i = 0; i < g.noperands - 1; i++) {
		char d[SH_PATH_MAX];
		if (dest_path(c, dest, dir, g.operands[i], d)) {
			st = 1;
			continue;
		}
		st |= copy_one(c, g.operands[i], d, rec, 0);
	}
	shell_getopt_done(&g);
	return st;
}

static int cmd_mv(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool noclobber = false;
	while ((o = shell_getopt(c, &g, "finTv")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 'n')
			noclobber = true;
	}
	bool dir;
	const char *dest = sources_dest(c, &g, &dir);
	if (!dest) {
		shell_getopt_done(&g);
		return 1;
	}
	int st = 0;
	for (int i = 0; i < g.noperands - 1; i++) {
		const char *src = g.operands[i];
		char sabs[SH_PATH_MAX], d[SH_PATH_MAX];
		struct vstat sst;
		int rc = resolve(c, src, false, sabs, &sst);
		if (rc) {
			shell_err(c, "can't rename '%s': %s", src, shell_strerror(-rc));
			st = 1;
			continue;
		}
		if (dest_path(c, dest, dir, src, d)) {
			st = 1;
			continue;
		}
		struct vstat dst;
		if (noclobber && shell_vfs_lookup(V(c), d, &dst) == 0)
			continue;
		rc = shell_vfs_rename(V(c), sabs, d);
		if (rc) {
			shell_err(c, "can't rename '%s': %s", src, shell_strerror(-rc));
			st = 1;
		}
	}
	shell_getopt_done(&g);
	return st;
}

/* ------------------------------------------------------------------ rm, mkdir, rmdir */

static int rm_tree(struct cmd *c, const char *abs, const char *shown, int depth, int *errors)
{
	int rc = shell_vfs_remove_tree(V(c), abs);
	if (rc == 0)
		return 0;
	if ((rc == -EBUSY || rc == -EROFS || rc == -EACCES) && depth < 32) {
		/* Something below cannot go (another mount): remove what can go, child first. */
		char **names;
		long n = shell_vfs_list(V(c), abs, &names);
		int st = 0;
		for (long i = 0; i < n; i++) {
			char ch[SH_PATH_MAX], shown2[SH_PATH_MAX];
			if (shell_vfs_join(abs, names[i], ch))
				continue;
			snprintf(shown2, sizeof(shown2), "%s%s%s", shown,
				 shown[strlen(shown) - 1] == '/' ? "" : "/", names[i]);
			struct vstat cst;
			if (shell_vfs_lookup(V(c), ch, &cst) != 0)
				continue;
			if (cst.kind == VN_DIR) {
				st |= rm_tree(c, ch, shown2, depth + 1, errors);
			} else {
				int r2 = shell_vfs_unlink(V(c), ch);
				if (r2) {
					if (++*errors <= 32)
						shell_err(c, "can't remove '%s': %s", shown2,
							  shell_strerror(-r2));
					st = 1;
				}
			}
		}
		if (n >= 0)
			shell_vfs_names_free(names, (size_t)n);
		rc = strcmp(abs, "/") == 0 ? -EBUSY : shell_vfs_rmdir(V(c), abs);
		if (rc == 0)
			return st;
	}
	if (++*errors <= 32)
		shell_err(c, "can't remove '%s': %s", shown, shell_strerror(-rc));
	return 1;
}

static int cmd_rm(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool force = false, rec = false;
	while ((o = shell_getopt(c, &g, "fiRrv")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 'f')
			force = true;
		if (o == 'r' || o == 'R')
			rec = true;
	}
	if (!g.noperands) {
		shell_getopt_done(&g);
		if (force)
			return 0;
		shell_usage(c, "rm");
		return 1;
	}
	int st = 0, errors = 0;
	for (int i = 0; i < g.noperands; i++) {
		const char *p = g.operands[i];
		const char *b = base_name(p);
		if (strcmp(b, ".") == 0 || strcmp(b, "..") == 0) {
			shell_err(c, "can't remove '.' or '..'");
			st = 1;
			continue;
		}
		char abs[SH_PATH_MAX];
		struct vstat s;
		int rc = resolve(c, p, false, abs, &s);
		if (rc) {
			if (!force) {
				shell_err(c, "can't remove '%s': %s", p, shell_strerror(-rc));
				st = 1;
			}
			continue;
		}
		if (s.kind == VN_DIR) {
			if (!rec) {
				shell_err(c, "can't remove '%s': %s", p, shell_strerror(EISDIR));
				st = 1;
				continue;
			}
			st |= rm_tree(c, abs, p, 0, &errors);
			continue;
		}
		rc = shell_vfs_unlink(V(c), abs);
		if (rc) {
			shell_err(c, "can't remove '%s': %s", p, shell_strerror(-rc));
			st = 1;
		}
	}
	shell_getopt_done(&g);
	return st;
}

static long parse_mode(const char *s, uint16_t old, bool isdir);

static int cmd_mkdir(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool parents = false;
	uint16_t mode = 0755;
	while ((o = shell_getopt(c, &g, "pm:v")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 'p')
			parents = true;
		if (o == 'm') {
			long m = parse_mode(g.arg, 0777, true);
			if (m < 0) {
				shell_err(c, "invalid mode '%s'", g.arg);
				shell_getopt_done(&g);
				return 1;
			}
			mode = (uint16_t)m;
		}
	}
	if (!g.noperands) {
		shell_usage(c, "mkdir");
		shell_getopt_done(&g);
		return 1;
	}
	int st = 0;
	for (int i = 0; i < g.noperands; i++) {
		const char *p = g.operands[i];
		char abs[SH_PATH_MAX];
		struct vstat s;
		bool pok;
		int rc = shell_vfs_resolve(V(c), CWD(c), p, true, abs, &s, &pok);
		if (rc == 0) {
			if (parents && s.kind == VN_DIR)
				continue;
			shell_err(c, "can't create directory '%s': %s", p, shell_strerror(EEXIST));
			st = 1;
			continue;
		}
		if (rc == -ENOENT && !pok && parents) {
			/* create each missing folder along the way */
			char part[SH_PATH_MAX];
			size_t pl = strlen(p);
			if (pl >= sizeof(part))
				pl = sizeof(part) - 1;
			int r2 = 0;
			for (size_t k = 1; k <= pl && !r2; k++) {
				if (k != pl && p[k] != '/')
					continue;
				memcpy(part, p, k);
				part[k] = 0;
				char a2[SH_PATH_MAX];
				struct vstat s2;
				bool pk;
				int rr = shell_vfs_resolve(V(c), CWD(c), part, true, a2, &s2, &pk);
				if (rr == 0)
					continue;
				if (rr == -ENOENT && pk)
					r2 = shell_vfs_mkdir(V(c), a2, 0755);
				else
					r2 = rr;
			}
			if (r2) {
				shell_err(c, "can't create directory '%s': %s", p,
					  shell_strerror(-r2));
				st = 1;
			}
			continue;
		}
		if (rc != -ENOENT || !pok) {
			shell_err(c, "can't create directory '%s': %s", p, shell_strerror(-rc));
			st = 1;
			continue;
		}
		rc = shell_vfs_mkdir(V(c), abs, mode);
		if (rc) {
			shell_err(c, "can't create directory '%s': %s", p, shell_strerror(-rc));
			st = 1;
		}
	}
	shell_getopt_done(&g);
	return st;
}

static int cmd_rmdir(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	while ((o = shell_getopt(c, &g, "pv")) != -1)
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
	if (!g.noperands) {
		shell_usage(c, "rmdir");
		shell_getopt_done(&g);
		return 1;
	}
	int st = 0;
	for (int i = 0; i < g.noperands; i++) {
		char abs[SH_PATH_MAX];
		struct vstat s;
		int rc = resolve(c, g.operands[i], false, abs, &s);
		if (!rc)
			rc = shell_vfs_rmdir(V(c), abs);
		if (rc) {
			shell_err(c, "'%s': %s", g.operands[i], shell_strerror(-rc));
			st = 1;
		}
	}
	shell_getopt_done(&g);
	return st;
}

/* ------------------------------------------------------------------ chmod, chown */

/* Octal or symbolic ([ugoa]*[+-=][rwxXst]*, comma separated) mode; -1 if invalid. */
static long parse_mode(const char *s, uint16_t old, bool isdir)
{
	if (!*s)
		return -1;
	if (*s >= '0' && *s <= '7') {
		char *e;
		long m = strtol(s, &e, 8);
		if (*e || m > 07777)
			return -1;
		return m;
	}
	long m = old;
	while (*s) {
		unsigned who = 0;
		while (*s && strchr("ugoa", *s)) {
			who |= *s == 'u' ? 04700 : *s == 'g' ? 02070 : *s == 'o' ? 01007 : 07777;
			s++;
		}
		if (!who)
			who = 07777 & ~022;
		if (!*s || !strchr("+-=", *s))
			return -1;
		while (*s && strchr("+-=", *s)) {
			char op = *s++;
			unsigned bits = 0;
			while (*s && strchr("rwxXstugo", *s)) {
				switch (*s) {
				case 'r': bits |= 0444; break;
				case 'w': bits |= 0222; break;
				case 'x': bits |= 0111; break;
				case 'X':
					if (isdir || (old & 0111))
						bits |= 0111;
					break;
				case 's': bits |= 06000; break;
				case 't': bits |= 01000; break;
				default: break;
				}
				s++;
			}
			bits &= who;
			if (op == '+')
				m |= bits;
			else if (op == '-')
				m &= ~(long)bits;
			else
				m = (m & ~(long)(who & 07777)) | bits;
		}
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return m & 07777;
}

static int chmod_one(struct cmd *c, const char *mode, const char *p, bool rec, int depth)
{
	char abs[SH_PATH_MAX];
	struct vstat s;
	int rc = resolve(c, p, true, abs, &s);
	if (rc) {
		shell_err(c, "%s: %s", p, shell_strerror(-rc));
		return 1;
	}
	long m = parse_mode(mode, s.mode, s.kind == VN_DIR);
	if (m < 0) {
		shell_err(c, "invalid mode '%s'", mode);
		return 1;
	}
	rc = shell_vfs_chmod(V(c), abs, (uint16_t)m);
	if (rc) {
		shell_err(c, "%s: %s", p, shell_strerror(-rc));
		return 1;
	}
	int st = 0;
	if (rec && s.kind == VN_DIR && depth < 32) {
		char **names;
		long n = shell_vfs_list(V(c), abs, &names);
		for (long i = 0; i < n; i++) {
			char ch[SH_PATH_MAX];
			if (shell_vfs_join(abs, names[i], ch) == 0)
				st |= chmod_one(c, mode, ch, rec, depth + 1);
		}
		if (n >= 0)
			shell_vfs_names_free(names, (size_t)n);
	}
	return st;
}

static int cmd_chmod(struct cmd *c)
{
	/* "chmod -x f" is a mode, not an option: only R c v f are options */
	bool rec = false;
	int i = 1;
	for (; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] != '-' || !a[1] || strspn(a + 1, "Rcvf") != strlen(a + 1))
			break;
		if (strchr(a, 'R'))
			rec = true;
	}
	if (c->argc - i < 2) {
		shell_usage(c, "chmod");
		return 1;
	}
	const char *mode = c->argv[i++];
	int st = 0;
	for (; i < c->argc; i++)
		st |= chmod_one(c, mode, c->argv[i], rec, 0);
	return st;
}

/* A user or group id from /etc/passwd or /etc/group of the profile (or numeric). */
static long lookup_id(struct cmd *c, const char *file, const char *name)
{
	char *e;
	long v = strtol(name, &e, 10);
	if (*name && !*e)
		return v;
	const struct profile_node *pn = shell_prof_node(c->sh->prof, file);
	if (!pn || !pn->data)
		return strcmp(name, "root") == 0 ? 0 : -1;
	const char *s = (const char *)pn->data, *end = s + pn->len;
	size_t nl = strlen(name);
	while (s < end) {
		const char *le = memchr(s, '\n', (size_t)(end - s));
		if (!le)
			le = end;
		if ((size_t)(le - s) > nl + 1 && memcmp(s, name, nl) == 0 && s[nl] == ':') {
			const char *q = memchr(s + nl + 1, ':', (size_t)(le - s) - nl - 1);
			if (q)
				return strtol(q + 1, NULL, 10);
		}
		s = le + 1;
	}
	return strcmp(name, "root") == 0 ? 0 : -1;
}

static int cmd_chown(struct cmd *c)
{
	bool grp = strcmp(c->name, "chgrp") == 0;
	int i = 1;
	for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]; i++)
		;
	if (c->argc - i < 2) {
		shell_usage(c, c->name);
		return 1;
	}
	char *spec = xstrdup(c->argv[i++]);
	long uid = -1, gid = -1;
	char *colon = grp ? NULL : strpbrk(spec, ":.");
	if (colon)
		*colon++ = 0;
	if (grp) {
		gid = lookup_id(c, "/etc/group", spec);
		if (gid < 0) {
			shell_err(c, "unknown group %s", spec);
			free(spec);
			return 1;
		}
	} else {
		if (*spec) {
			uid = lookup_id(c, "/etc/passwd", spec);
			if (uid < 0) {
				shell_err(c, "unknown user %s", spec);
				free(spec);
				return 1;
			}
		}
		if (colon && *colon) {
			gid = lookup_id(c, "/etc/group", colon);
			if (gid < 0) {
				shell_err(c, "unknown group %s", colon);
				free(spec);
				return 1;
			}
		}
	}
	free(spec);
	int st = 0;
	for (; i < c->argc; i++) {
		char abs[SH_PATH_MAX];
		struct vstat s;
		int rc = resolve(c, c->argv[i], true, abs, &s);
		if (!rc)
			rc = shell_vfs_chown(V(c), abs, uid, gid);
		if (rc) {
			shell_err(c, "%s: %s", c->argv[i], shell_strerror(-rc));
			st = 1;
		}
	}
	return st;
}

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

static int cmd_ls(struct cmd *c)
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
		int rc = resolve(c, ops[i], o.l ? false : true, abs, &s);
		if (rc == 0 && o.l && s.kind == VN_LINK && ops[i][strlen(ops[i]) - 1] == '/')
			rc = resolve(c, ops[i], true, abs, &s);
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
		if (resolve(c, ops[i], true, abs, &s) || s.kind != VN_DIR || o.d)
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

/* ------------------------------------------------------------------ touch */

static int cmd_touch(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool nocreate = false;
	while ((o = shell_getopt(c, &g, "cd:t:r:hamf")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 'c')
			nocreate = true;
	}
	if (!g.noperands) {
		shell_usage(c, "touch");
		shell_getopt_done(&g);
		return 1;
	}
	int st = 0;
	for (int i = 0; i < g.noperands; i++) {
		char abs[SH_PATH_MAX];
		struct vstat s;
		bool pok;
		int rc = shell_vfs_resolve(V(c), CWD(c), g.operands[i], true, abs, &s, &pok);
		if (rc == 0) {
			rc = shell_vfs_touch(V(c), abs, shell_now());
		} else if (rc == -ENOENT && pok) {
			if (nocreate)
				continue;
			rc = shell_vfs_put_file(V(c), abs, (const uint8_t *)"", 0, false, false,
						false, "touch", 0644);
		}
		if (rc) {
			shell_err(c, "%s: %s", g.operands[i], shell_strerror(-rc));
			st = 1;
		}
	}
	shell_getopt_done(&g);
	return st;
}

/* ------------------------------------------------------------------ dd */

static bool dd_num(const char *s, uint64_t *out)
{
	char *e;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 10);
	if (e == s || errno)
		return false;
	uint64_t mul = 1;
	if (*e) {
		static const struct {
			const char *suf;
			uint64_t mul;
		} sufs[] = {{"c", 1},           {"w", 2},         {"b", 512},      {"kD", 1000},
			    {"k", 1024},        {"K", 1024},      {"MD", 1000000}, {"M", 1048576},
			    {"GD", 1000000000}, {"G", 1073741824}};
		bool ok = false;
		for (size_t i = 0; i < LIB_ARRAY_LEN(sufs); i++)
			if (strcmp(e, sufs[i].suf) == 0) {
				mul = sufs[i].mul;
				ok = true;
			}
		if (!ok)
			return false;
	}
	*out = v * mul;
	return true;
}

static void human_dd(uint64_t v, char *out, size_t n)
{
	/* make_human_readable_str(v, 1, 0): one decimal above 1024 */
	static const char units[] = " KMGT";
	if (v < 1024) {
		snprintf(out, n, "%llu", (unsigned long long)v);
		return;
	}
	double d = (double)v;
	int u = 0;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(out, n, "%.1f%c", d, units[u]);
}

static int cmd_dd(struct cmd *c)
{
	const char *in = NULL, *of = NULL;
	uint64_t ibs = 512, obs = 512, count = UINT64_MAX, skip = 0, seek = 0;
	bool notrunc = false, sync_ = false, quiet = false;
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		const char *eq = strchr(a, '=');
		if (!eq) {
			shell_usage(c, "dd");
			return 1;
		}
		size_t kl = (size_t)(eq - a);
		const char *v = eq + 1;
		uint64_t num = 0;
		bool isnum = dd_num(v, &num);
#define KEY(k) (kl == strlen(k) && strncmp(a, k, kl) == 0)
		if (KEY("if")) {
			in = v;
		} else if (KEY("of")) {
			of = v;
		} else if (KEY("conv")) {
			notrunc = strstr(v, "notrunc") != NULL;
			sync_ = strstr(v, "sync") != NULL && !strstr(v, "fsync");
		} else if (KEY("status")) {
			quiet = strcmp(v, "none") == 0 || strcmp(v, "noxfer") == 0;
		} else if (KEY("iflag") || KEY("oflag")) {
			/* accepted */
		} else if (KEY("bs") || KEY("ibs") || KEY("obs") || KEY("count") || KEY("skip") ||
			   KEY("seek")) {
			if (!isnum) {
				shell_err(c, "invalid number '%s'", v);
				return 1;
			}
			if (KEY("bs"))
				ibs = obs = num;
			else if (KEY("ibs"))
				ibs = num;
			else if (KEY("obs"))
				obs = num;
			else if (KEY("count"))
				count = num;
			else if (KEY("skip"))
				skip = num;
			else
				seek = num;
		} else {
			shell_usage(c, "dd");
			return 1;
		}
#undef KEY
	}
	if (!ibs || !obs) {
		shell_err(c, "invalid number '0'");
		return 1;
	}
	if (ibs > SH_PIPE_MAX || obs > SH_PIPE_MAX) {
		/* a block that large would not fit the device's memory either */
		shell_err(c, "memory exhausted");
		return 1;
	}
	/* the input: bytes of a file or stdin, or an endless device generated block by block */
	struct rd r;
	memset(&r, 0, sizeof(r));
	int gen = VDEV_NONE;
	if (in) {
		char abs[SH_PATH_MAX];
		struct vstat st;
		int rc = resolve(c, in, true, abs, &st);
		if (rc == 0 && st.kind == VN_CHR && (st.dev == VDEV_ZERO || st.dev == VDEV_RANDOM))
			gen = st.dev;
		else if (rc == 0 && st.kind == VN_DIR)
			rc = -EISDIR;
		if (rc) {
			shell_err(c, "can't open '%s': %s", in, shell_strerror(-rc));
			return 1;
		}
	}
	if (!gen) {
		int rc = read_path(c, in ? in : "-", &r);
		if (rc) {
			shell_err(c, "can't open '%s': %s", in, shell_strerror(-rc));
			return 1;
		}
	}
	/* the output */
	struct vdata *vd = NULL;
	char oabs[SH_PATH_MAX];
	if (of) {
		bool discard;
		int dev;
		int rc = shell_vfs_open_write(V(c), CWD(c), of, 0, &vd, &discard, &dev, oabs);
		if (rc) {
			shell_err(c, "can't open '%s': %s", of, shell_strerror(-rc));
			rd_free(&r);
			return 1;
		}
		if (vd && !notrunc) {
			size_t at = (size_t)LIB_MIN(seek * obs, (uint64_t)c->sh->lim.vfs_bytes + 1);
			if (vd->len > at)
				shell_vfs_cut(V(c), vd, at, oabs);
		}
	}
	/* blocks: at most what any sink can take, so an endless input ends */
	uint64_t budget = (uint64_t)c->sh->lim.vfs_bytes + SH_PIPE_MAX;
	uint64_t in_full = 0, in_part = 0, total = 0;
	uint64_t pos = (skip && skip * ibs / skip != ibs) ? UINT64_MAX : skip * ibs;
	uint64_t opos = seek * obs;
	uint8_t *blk = xmalloc((size_t)ibs);
	int st = 0;
	while (in_full + in_part < count && total < budget) {
		uint64_t n;
		if (gen) {
			n = ibs;
			if (gen == VDEV_RANDOM)
				lib_random(blk, (size_t)n);
			else
				memset(blk, 0, (size_t)n);
		} else {
			if (pos >= r.n)
				break;
			n = LIB_MIN(ibs, r.n - pos);
			memcpy(blk, r.p + pos, (size_t)n);
			pos += n;
		}
		uint64_t wn = n;
		if (n == ibs) {
			in_full++;
		} else {
			in_part++;
			if (sync_) {
				memset(blk + n, 0, (size_t)(ibs - n));
				wn = ibs;
			}
		}
		int rc = 0;
		if (vd)
			rc = shell_vfs_pwrite(V(c), vd, (size_t)LIB_MIN(opos, (uint64_t)SIZE_MAX),
					      blk, (size_t)wn, r.attacker, "dd");
		else if (!of)
			rc = shell_out(c, blk, (size_t)wn, r.attacker);
		if (rc == -ENOSPC) {
			shell_err(c, "writing '%s': %s", of ? of : "standard output",
				  shell_strerror(ENOSPC));
			st = 1;
			/* what fit was written */
			if (vd && vd->len > opos)
				total += vd->len - opos;
			break;
		}
		opos += wn;
		total += wn;
	}
	free(blk);
	if (vd)
		shell_vdata_unref(V(c), vd);
	uint64_t out_full = total / obs, out_part = total % obs ? 1 : 0;
	if (!quiet) {
		shell_errf(c, "%llu+%llu records in\n%llu+%llu records out\n",
			   (unsigned long long)in_full, (unsigned long long)in_part,
			   (unsigned long long)out_full, (unsigned long long)out_part);
		/* the third line, with a plausible tiny duration */
		double secs = 0.000041 + (double)total / 48e6;
		char hb[32], rb[32];
		human_dd(total, hb, sizeof(hb));
		human_dd((uint64_t)((double)total / secs), rb, sizeof(rb));
		shell_errf(c, "%llu bytes (%sB) copied, %f seconds, %sB/s\n",
			   (unsigned long long)total, hb, secs, rb);
	}
	rd_free(&r);
	return st;
}

/* ------------------------------------------------------------------ head, tail, wc */

static bool count_arg(const char *s, long long *out, bool *from_start)
{
	if (from_start)
		*from_start = false;
	if (*s == '+' && from_start) {
		*from_start = true;
		s++;
	} else if (*s == '-') {
		s++;
	}
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (e == s || errno)
		return false;
	if (*e == 'k')
		v *= 1024;
	else if (*e == 'b')
		v *= 512;
	else if (*e == 'm')
		v *= 1048576;
	else if (*e)
		return false;
	*out = v;
	return true;
}

static int headtail(struct cmd *c, bool tail)
{
	long long n = 10;
	bool bytes = false, from_start = false, quiet = false, verbose = false;
	struct shell_getopt g = {0};
	/* "head -5": old-style count */
	if (c->argc > 1 && c->argv[1][0] == '-' && isdigit((unsigned char)c->argv[1][1])) {
		count_arg(c->argv[1] + 1, &n, NULL);
		g.ind = 2;
	}
	int o;
	while ((o = shell_getopt(c, &g, tail ? "n:c:qvfs:F" : "n:c:qv")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 'n' || o == 'c') {
			if (!count_arg(g.arg, &n, tail ? &from_start : NULL)) {
				shell_err(c, "invalid number '%s'", g.arg);
				shell_getopt_done(&g);
				return 1;
			}
			bytes = o == 'c';
		}
		if (o == 'q')
			quiet = true;
		if (o == 'v')
			verbose = true;
	}
	char *dash[] = {(char *)"-", NULL};
	char **files = g.noperands ? g.operands : dash;
	int nf = g.noperands ? g.noperands : 1;
	int st = 0;
	for (int i = 0; i < nf; i++) {
		struct rd r;
		int rc = read_path(c, files[i], &r);
		if (rc) {
			shell_err(c, "can't open '%s': %s", files[i], shell_strerror(-rc));
			st = 1;
			continue;
		}
		if ((nf > 1 && !quiet) || verbose)
			shell_printf(c, "%s==> %s <==\n", i ? "\n" : "",
				     strcmp(files[i], "-") ? files[i] : "standard input");
		size_t from = 0, to = r.n;
		if (bytes) {
			if (!tail)
				to = (size_t)LIB_MIN((unsigned long long)n,
						     (unsigned long long)r.n);
			else if (from_start)
				from = n > 0 ? (size_t)LIB_MIN((unsigned long long)n - 1,
							       (unsigned long long)r.n)
					     : 0;
			else
				from = (size_t)n >= r.n ? 0 : r.n - (size_t)n;
		} else if (!tail) {
			long long k = 0;
			size_t p = 0;
			while (p < r.n && k < n) {
				const uint8_t *nl = memchr(r.p + p, '\n', r.n - p);
				p = nl ? (size_t)(nl - r.p) + 1 : r.n;
				k++;
			}
			to = p;
		} else if (from_start) {
			long long k = 1;
			size_t p = 0;
			while (p < r.n && k < n) {
				const uint8_t *nl = memchr(r.p + p, '\n', r.n - p);
				p = nl ? (size_t)(nl - r.p) + 1 : r.n;
				k++;
			}
			from = p;
		} else {
			long long k = 0;
			size_t p = r.n;
			if (p && r.p[p - 1] == '\n')
				p--;
			while (p > 0) {
				if (r.p[p - 1] == '\n' && ++k >= n)
					break;
				p--;
			}
			from = n <= 0 ? r.n : p;
		}
		shell_out(c, r.p + from, to > from ? to - from : 0, r.attacker);
		rd_free(&r);
	}
	shell_getopt_done(&g);
	return st;
}

static int cmd_head(struct cmd *c)
{
	return headtail(c, false);
}

static int cmd_tail(struct cmd *c)
{
	return headtail(c, true);
}

static int cmd_wc(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool fl = false, fw = false, fc = false, fL = false;
	while ((o = shell_getopt(c, &g, "clwLm")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 'l')
			fl = true;
		if (o == 'w')
			fw = true;
		if (o == 'c' || o == 'm')
			fc = true;
		if (o == 'L')
			fL = true;
	}
	if (!fl && !fw && !fc && !fL)
		fl = fw = fc = true;
	int nsel = fl + fw + fc + fL;
	char *dash[] = {(char *)"-", NULL};
	char **files = g.noperands ? g.operands : dash;
	int nf = g.noperands ? g.noperands : 1;
	unsigned long long tot[4] = {0};
	int st = 0;
	for (int i = 0; i < nf; i++) {
		struct rd r;
		int rc = read_path(c, files[i], &r);
		if (rc) {
			shell_err(c, "can't open '%s': %s", files[i], shell_strerror(-rc));
			st = 1;
			continue;
		}
		unsigned long long cnt[4] = {0, 0, r.n, 0};
		bool inword = false;
		size_t linelen = 0;
		for (size_t k = 0; k < r.n; k++) {
			uint8_t ch = r.p[k];
			if (ch == '\n') {
				cnt[0]++;
				if (linelen > cnt[3])
					cnt[3] = linelen;
				linelen = 0;
			} else {
				linelen++;
			}
			bool sp = isspace(ch);
			if (!sp && !inword)
				cnt[1]++;
			inword = !sp;
		}
		if (linelen > cnt[3])
			cnt[3] = linelen;
		bool sel[4] = {fl, fw, fc, fL};
		bool first = true;
		for (int k = 0; k < 4; k++) {
			tot[k] += cnt[k];
			if (!sel[k])
				continue;
			if (nsel == 1 && !g.noperands)
				shell_printf(c, "%llu", cnt[k]);
			else
				shell_printf(c, first ? "%9llu" : " %9llu", cnt[k]);
			first = false;
		}
		if (g.noperands)
			shell_printf(c, " %s\n", files[i]);
		else
			shell_outs(c, "\n");
		rd_free(&r);
	}
	if (nf > 1) {
		bool sel[4] = {fl, fw, fc, fL};
		bool first = true;
		for (int k = 0; k < 4; k++)
			if (sel[k]) {
				shell_printf(c, first ? "%9llu" : " %9llu", tot[k]);
				first = false;
			}
		shell_outs(c, " total\n");
	}
	shell_getopt_done(&g);
	return st;
}

/* ------------------------------------------------------------------ grep */

/* The pattern of grep as PCRE2: fixed strings quoted, else POSIX BRE/ERE translated. */
static char *grep_pcre(const char *re, bool ere, bool fixed)
{
	if (!fixed)
		return shell_re_to_pcre(re, ere);
	struct buf b;
	buf_init(&b, 1 << 16);
	buf_append_str(&b, "\\Q");
	for (const char *p = re; *p; p++) {
		if (p[0] == '\\' && p[1] == 'E')
			buf_append_str(&b, "\\E\\\\E\\Q");
		else
			buf_append(&b, p, 1);
	}
	buf_append_str(&b, "\\E");
	char *s = xstrndup(b.data ? (char *)b.data : "", b.len);
	buf_free(&b);
	return s;
}

static int cmd_grep(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool inv = false, icase = false, cnt = false, num = false, list = false, quiet = false,
	     silent = false;
	bool ere = strcmp(c->name, "egrep") == 0, fixed = strcmp(c->name, "fgrep") == 0,
	     word = false, line = false;
	bool withname = false, noname = false, only = false;
	const char *pat = NULL;
	while ((o = shell_getopt(c, &g, "HhnlLoqvsriwxFEcm:A:B:C:e:f:z")) != -1) {
		switch (o) {
		case '?': shell_getopt_done(&g); return 2;
		case 'v': inv = true; break;
		case 'i': icase = true; break;
		case 'c': cnt = true; break;
		case 'n': num = true; break;
		case 'l': list = true; break;
		case 'q': quiet = true; break;
		case 's': silent = true; break;
		case 'E': ere = true; break;
		case 'F': fixed = true; break;
		case 'w': word = true; break;
		case 'x': line = true; break;
		case 'H': withname = true; break;
		case 'h': noname = true; break;
		case 'o': only = true; break;
		case 'e': pat = g.arg; break;
		default: break;
		}
	}
	int fi = 0;
	if (!pat) {
		if (!g.noperands) {
			shell_usage(c, "grep");
			shell_getopt_done(&g);
			return 2;
		}
		pat = g.operands[0];
		fi = 1;
	}
	char *core = grep_pcre(pat, ere, fixed);
	char *full = xasprintf("%s%s%s%s",
			       line   ? "^(?:"
			       : word ? "\\b(?:"
				      : "",
			       core, "",
			       line   ? ")$"
			       : word ? ")\\b"
				      : "");
	free(core);
	int err;
	PCRE2_SIZE eoff;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)full, PCRE2_ZERO_TERMINATED,
				       icase ? PCRE2_CASELESS : 0, &err, &eoff, NULL);
	free(full);
	if (!re) {
		shell_err(c, "bad regex '%s'", pat);
		shell_getopt_done(&g);
		return 2;
	}
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mc, 100000);
	pcre2_set_depth_limit(mc, 1000);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	char *dash[] = {(char *)"-", NULL};
	char **files = g.noperands > fi ? g.operands + fi : dash;
	int nf = g.noperands > fi ? g.noperands - fi : 1;
	bool names = (nf > 1 || withname) && !noname;
	bool any = false;
	int st = 0;
	for (int i = 0; i < nf && !(quiet && any); i++) {
		struct rd r;
		int rc = read_path(c, files[i], &r);
		if (rc) {
			if (!silent)
				shell_err(c, "%s: %s", files[i], shell_strerror(-rc));
			st = 2;
			continue;
		}
		const char *fname = strcmp(files[i], "-") ? files[i] : "(standard input)";
		size_t p = 0;
		unsigned long lineno = 0, matches = 0;
		while (p < r.n) {
			const uint8_t *nl = memchr(r.p + p, '\n', r.n - p);
			size_t e = nl ? (size_t)(nl - r.p) : r.n;
			lineno++;
			int m = pcre2_match(re, (PCRE2_SPTR)(r.p + p), e - p, 0, 0, md, mc);
			bool hit = (m >= 0) != inv;
			if (hit) {
				matches++;
				any = true;
				if (quiet || list) {
					if (list)
						break;
				} else if (!cnt) {
					if (names)
						shell_printf(c, "%s:", fname);
					if (num)
						shell_printf(c, "%lu:", lineno);
					if (only && m >= 0) {
						PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
						shell_out(c, r.p + p + ov[0], ov[1] - ov[0],
							  r.attacker);
					} else {
						shell_out(c, r.p + p, e - p, r.attacker);
					}
					shell_outs(c, "\n");
				}
			}
			p = e + 1;
		}
		if (cnt && !quiet) {
			if (names)
				shell_printf(c, "%s:", fname);
			shell_printf(c, "%lu\n", matches);
		}
		if (list && matches && !quiet)
			shell_printf(c, "%s\n", fname);
		rd_free(&r);
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	pcre2_code_free(re);
	shell_getopt_done(&g);
	if (st == 2 && !any)
		return 2;
	return any ? 0 : 1;
}

/* ------------------------------------------------------------------ ln, tee */

static int cmd_ln(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool sym = false, force = false;
	while ((o = shell_getopt(c, &g, "sfnbS:vT")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 's')
			sym = true;
		if (o == 'f')
			force = true;
	}
	if (g.noperands < 1) {
		shell_usage(c, "ln");
		shell_getopt_done(&g);
		return 1;
	}
	const char *target = g.operands[0];
	const char *link = g.noperands > 1 ? g.operands[g.noperands - 1] : base_name(target);
	char abs[SH_PATH_MAX];
	struct vstat s;
	bool pok;
	int rc = shell_vfs_resolve(V(c), CWD(c), link, false, abs, &s, &pok);
	if (rc == 0 && s.kind == VN_DIR) {
		char inside[SH_PATH_MAX];
		if (shell_vfs_join(abs, base_name(target), inside) == 0)
			strcpy(abs, inside);
		rc = shell_vfs_lookup(V(c), abs, &s) == 0 ? 0 : -ENOENT;
		pok = true;
	}
	if (rc == 0) {
		if (!force) {
			shell_err(c, "%s: %s", link, shell_strerror(EEXIST));
			shell_getopt_done(&g);
			return 1;
		}
		shell_vfs_unlink(V(c), abs);
	} else if (!pok) {
		shell_err(c, "%s: %s", link, shell_strerror(-rc));
		shell_getopt_done(&g);
		return 1;
	}
	if (sym) {
		rc = shell_vfs_symlink(V(c), target, abs);
	} else {
		char tabs[SH_PATH_MAX];
		struct vstat ts;
		rc = resolve(c, target, true, tabs, &ts);
		if (!rc)
			rc = shell_vfs_link(V(c), tabs, abs);
	}
	if (rc) {
		shell_err(c, "%s: %s", sym ? link : target, shell_strerror(-rc));
		shell_getopt_done(&g);
		return 1;
	}
	shell_getopt_done(&g);
	return 0;
}

static int cmd_tee(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool append = false;
	while ((o = shell_getopt(c, &g, "ai")) != -1) {
		if (o == '?') {
			shell_getopt_done(&g);
			return 1;
		}
		if (o == 'a')
			append = true;
	}
	size_t n;
	bool att;
	const uint8_t *p = shell_stdin(c, &n, &att);
	int st = 0;
	for (int i = 0; i < g.noperands; i++) {
		struct vdata *vd;
		bool discard;
		int dev;
		char abs[SH_PATH_MAX];
		int rc = shell_vfs_open_write(V(c), CWD(c), g.operands[i],
					      append ? VFS_APPEND : VFS_TRUNC, &vd, &discard, &dev,
					      abs);
		if (rc) {
			shell_err(c, "can't open '%s': %s", g.operands[i], shell_strerror(-rc));
			st = 1;
			continue;
		}
		if (vd) {
			if (n && shell_vfs_write(V(c), vd, p, n, att, "tee", abs) == -ENOSPC) {
				shell_err(c, "write error: %s", shell_strerror(ENOSPC));
				st = 1;
			}
			shell_vdata_unref(V(c), vd);
		}
	}
	shell_out(c, p, n, att);
	shell_getopt_done(&g);
	return st;
}

/* ------------------------------------------------------------------ small applets */

static int cmd_sleep(struct cmd *c)
{
	/* Returns at once: a session must not hold the loop, and bots only wait for the prompt. */
	if (c->argc < 2) {
		shell_usage(c, "sleep");
		return 1;
	}
	for (int i = 1; i < c->argc; i++) {
		char *e;
		strtod(c->argv[i], &e);
		if (e == c->argv[i] || (*e && !strchr("smhd", *e)) || (*e && e[1])) {
			shell_err(c, "invalid number '%s'", c->argv[i]);
			return 1;
		}
	}
	return 0;
}

static int cmd_which(struct cmd *c)
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
			if (resolve(c, n, true, abs, &s) == 0 && s.kind == VN_FILE &&
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

static int cmd_basename(struct cmd *c)
{
	if (c->argc < 2) {
		shell_usage(c, "basename");
		return 1;
	}
	char *b = xstrdup(base_name(c->argv[1]));
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

static int cmd_dirname(struct cmd *c)
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

static int cmd_env(struct cmd *c)
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

static int cmd_hash(struct cmd *c)
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
		struct rd r;
		int rc = read_path(c, files[i], &r);
		if (rc) {
			shell_err(c, "can't open '%s': %s", files[i], shell_strerror(-rc));
			st = 1;
			continue;
		}
		struct lib_hashes h;
		lib_hashes(r.p ? r.p : (const uint8_t *)"", r.n, &h);
		shell_printf(c, "%s  %s\n", md5 ? h.md5 : sha1 ? h.sha1 : h.sha256, files[i]);
		rd_free(&r);
	}
	return st;
}

static int cmd_date(struct cmd *c)
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

static int cmd_seq(struct cmd *c)
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

static int cmd_yes(struct cmd *c)
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

static int cmd_reboot(struct cmd *c)
{
	shell_end_session(c->sh, SHELL_END_REBOOT);
	return 0;
}

static int cmd_mktemp(struct cmd *c)
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

static int cmd_nohup(struct cmd *c)
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

static int cmd_nice(struct cmd *c)
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

static int cmd_setsid(struct cmd *c)
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

static int cmd_timeout(struct cmd *c)
{
	int i = 1;
	while (i < c->argc && c->argv[i][0] == '-') {
		if (strcmp(c->argv[i], "-t") == 0 || strcmp(c->argv[i], "-s") == 0)
			i++;
		i++;
	}
	/* newer BusyBox: timeout [-s SIG] SECS PROG ARGS */
	if (i < c->argc && isdigit((unsigned char)c->argv[i][0]))
		i++;
	if (i >= c->argc) {
		shell_usage(c, "timeout");
		return 1;
	}
	return run_rest(c, i, "timeout");
}

static int cmd_time(struct cmd *c)
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

static int cmd_true_a(struct cmd *c)
{
	return 0;
}

static int cmd_false_a(struct cmd *c)
{
	return 1;
}

static int cmd_kill_a(struct cmd *c)
{
	return shell_kill(c, false);
}

/* Declared in sysinfo.c and net.c. */
int shell_cmd_ps(struct cmd *c);
int shell_cmd_killall(struct cmd *c);
int shell_cmd_pidof(struct cmd *c);
int shell_cmd_uname(struct cmd *c);
int shell_cmd_id(struct cmd *c);
int shell_cmd_whoami(struct cmd *c);
int shell_cmd_hostname(struct cmd *c);
int shell_cmd_uptime(struct cmd *c);
int shell_cmd_free(struct cmd *c);
int shell_cmd_df(struct cmd *c);
int shell_cmd_mount(struct cmd *c);
int shell_cmd_ifconfig(struct cmd *c);
int shell_cmd_ip(struct cmd *c);
int shell_cmd_sh(struct cmd *c);
int shell_cmd_busybox(struct cmd *c);
int shell_cmd_wget(struct cmd *c);
int shell_cmd_curl(struct cmd *c);
int shell_cmd_tftp(struct cmd *c);
int shell_cmd_ftpget(struct cmd *c);
int shell_cmd_ftpput(struct cmd *c);
int shell_cmd_nproc(struct cmd *c);
int shell_cmd_cut(struct cmd *c);
int shell_cmd_sort(struct cmd *c);
int shell_cmd_uniq(struct cmd *c);
int shell_cmd_tr(struct cmd *c);
int shell_cmd_xargs(struct cmd *c);
int shell_cmd_sed(struct cmd *c);
int shell_cmd_awk(struct cmd *c);

static const struct sh_command applets[] = {
	{.name = "[", .fn = shell_cmd_test},
	{.name = "[[", .fn = shell_cmd_test},
	{.name = "ash", .fn = shell_cmd_sh},
	{.name = "awk", .fn = shell_cmd_awk},
	{.name = "basename", .fn = cmd_basename},
	{.name = "busybox", .fn = shell_cmd_busybox},
	{.name = "cat", .fn = cmd_cat},
	{.name = "chgrp", .fn = cmd_chown},
	{.name = "chmod", .fn = cmd_chmod},
	{.name = "chown", .fn = cmd_chown},
	{.name = "cp", .fn = cmd_cp},
	{.name = "curl", .fn = shell_cmd_curl},
	{.name = "cut", .fn = shell_cmd_cut},
	{.name = "date", .fn = cmd_date},
	{.name = "dd", .fn = cmd_dd},
	{.name = "df", .fn = shell_cmd_df},
	{.name = "dirname", .fn = cmd_dirname},
	{.name = "echo", .fn = shell_cmd_echo},
	{.name = "egrep", .fn = cmd_grep},
	{.name = "env", .fn = cmd_env},
	{.name = "false", .fn = cmd_false_a},
	{.name = "fgrep", .fn = cmd_grep},
	{.name = "free", .fn = shell_cmd_free},
	{.name = "ftpget", .fn = shell_cmd_ftpget},
	{.name = "ftpput", .fn = shell_cmd_ftpput},
	{.name = "grep", .fn = cmd_grep},
	{.name = "halt", .fn = cmd_reboot},
	{.name = "head", .fn = cmd_head},
	{.name = "hostname", .fn = shell_cmd_hostname},
	{.name = "id", .fn = shell_cmd_id},
	{.name = "ifconfig", .fn = shell_cmd_ifconfig},
	{.name = "ip", .fn = shell_cmd_ip},
	{.name = "kill", .fn = cmd_kill_a},
	{.name = "killall", .fn = shell_cmd_killall},
	{.name = "ln", .fn = cmd_ln},
	{.name = "ls", .fn = cmd_ls},
	{.name = "md5sum", .fn = cmd_hash},
	{.name = "mkdir", .fn = cmd_mkdir},
	{.name = "mktemp", .fn = cmd_mktemp},
	{.name = "mount", .fn = shell_cmd_mount},
	{.name = "mv", .fn = cmd_mv},
	{.name = "nice", .fn = cmd_nice},
	{.name = "nohup", .fn = cmd_nohup},
	{.name = "nproc", .fn = shell_cmd_nproc},
	{.name = "pidof", .fn = shell_cmd_pidof},
	{.name = "poweroff", .fn = cmd_reboot},
	{.name = "printenv", .fn = cmd_env},
	{.name = "printf", .fn = shell_cmd_printf},
	{.name = "ps", .fn = shell_cmd_ps},
	{.name = "pwd", .fn = NULL},
	{.name = "reboot", .fn = cmd_reboot},
	{.name = "rm", .fn = cmd_rm},
	{.name = "rmdir", .fn = cmd_rmdir},
	{.name = "sed", .fn = shell_cmd_sed},
	{.name = "seq", .fn = cmd_seq},
	{.name = "setsid", .fn = cmd_setsid},
	{.name = "sh", .fn = shell_cmd_sh},
	{.name = "sha1sum", .fn = cmd_hash},
	{.name = "sha256sum", .fn = cmd_hash},
	{.name = "sleep", .fn = cmd_sleep},
	{.name = "sort", .fn = shell_cmd_sort},
	{.name = "sync", .fn = cmd_true_a},
	{.name = "tail", .fn = cmd_tail},
	{.name = "tee", .fn = cmd_tee},
	{.name = "test", .fn = shell_cmd_test},
	{.name = "tftp", .fn = shell_cmd_tftp},
	{.name = "time", .fn = cmd_time},
	{.name = "timeout", .fn = cmd_timeout},
	{.name = "touch", .fn = cmd_touch},
	{.name = "tr", .fn = shell_cmd_tr},
	{.name = "true", .fn = cmd_true_a},
	{.name = "uname", .fn = shell_cmd_uname},
	{.name = "uniq", .fn = shell_cmd_uniq},
	{.name = "uptime", .fn = shell_cmd_uptime},
	{.name = "usleep", .fn = cmd_true_a},
	{.name = "wc", .fn = cmd_wc},
	{.name = "wget", .fn = shell_cmd_wget},
	{.name = "which", .fn = cmd_which},
	{.name = "whoami", .fn = shell_cmd_whoami},
	{.name = "xargs", .fn = shell_cmd_xargs},
	{.name = "yes", .fn = cmd_yes},
};

const struct sh_command *shell_find_applet(const char *name)
{
	size_t lo = 0, hi = LIB_ARRAY_LEN(applets);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(applets[mid].name, name);
		if (r == 0)
			return &applets[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool shell_applet_known(const char *name)
{
	return shell_find_applet(name) != NULL;
}

int shell_applet(struct cmd *c, const char *name)
{
	c->name = name;
	c->method = NULL;
	if (c->argc == 2 && strcmp(c->argv[1], "--help") == 0 && strcmp(name, "test") != 0 &&
	    strcmp(name, "busybox") != 0) {
		shell_usage(c, name);
		return 0;
	}
	if (strcmp(name, "pwd") == 0) {
		shell_printf(c, "%s\n", c->sh->lvl->cwd);
		return 0;
	}
	const struct sh_command *a = shell_find_applet(name);
	if (!a || !a->fn)
		return 0; /* an applet of the device we do not emulate: it says nothing */
	return a->fn(c);
}
