/* shell/fileutils: BusyBox's file applets over the session's vfs: cat cp mv rm mkdir rmdir
 * chmod chown chgrp touch ln tee. Their messages and exit statuses are BusyBox's. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ cat */

/* BusyBox said "cannot" in its messages before 1.14 and "can't" since. */
static const char *cant(struct cmd *c)
{
	return shell_bb_at_least(c->sh, 1, 14) ? "can't" : "cannot";
}

int shell_cmd_cat(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "nbvteAu", &g))
		return 1;
	bool number = shell_opt(&g, 'n') || shell_opt(&g, 'b');
	char *dash[] = {(char *)"-", NULL};
	char **files = g.noperands ? g.operands : dash;
	int n = g.noperands ? g.noperands : 1;
	int st = 0;
	unsigned long line = 1;
	for (int i = 0; i < n; i++) {
		struct shell_rd r;
		int rc = shell_read_path(c, files[i], &r);
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
		shell_rd_free(&r);
	}
	shell_opts_free(&g);
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
		struct shell_rd r;
		shell_read_path(c, src, &r);
		rc = shell_vfs_put_file(v, dst, r.p ? r.p : (const uint8_t *)"", r.n, false, false,
					false, "cp", 0644);
		shell_rd_free(&r);
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
	int rc = shell_resolve(c, src, true, abs, &st);
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
	int rc = shell_resolve(c, dest, true, abs, &st);
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
		if (shell_vfs_join(abs, shell_base_name(src), out)) {
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
	return shell_resolve(c, path, true, abs, &st) == 0 && st.kind == VN_DIR;
}

/* cp and mv: at least SOURCE DEST, and a folder as DEST for several sources. Returns the
 * destination (NULL after printing usage or the error) and whether it is a folder. */
static const char *sources_dest(struct cmd *c, struct shell_opts *g, bool *dir)
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

int shell_cmd_cp(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "arRdPLHpfilsTv", &g))
		return 1;
	bool rec = shell_opt(&g, 'a') || shell_opt(&g, 'r') || shell_opt(&g, 'R');
	bool dir;
	const char *dest = sources_dest(c, &g, &dir);
	if (!dest) {
		shell_opts_free(&g);
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
	shell_opts_free(&g);
	return st;
}

int shell_cmd_mv(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "finTv", &g))
		return 1;
	bool noclobber = shell_opt(&g, 'n');
	bool dir;
	const char *dest = sources_dest(c, &g, &dir);
	if (!dest) {
		shell_opts_free(&g);
		return 1;
	}
	int st = 0;
	for (int i = 0; i < g.noperands - 1; i++) {
		const char *src = g.operands[i];
		char sabs[SH_PATH_MAX], d[SH_PATH_MAX];
		struct vstat sst;
		int rc = shell_resolve(c, src, false, sabs, &sst);
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
	shell_opts_free(&g);
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
						shell_err(c, "%s remove '%s': %s", cant(c), shown2,
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
		shell_err(c, "%s remove '%s': %s", cant(c), shown, shell_strerror(-rc));
	return 1;
}

int shell_cmd_rm(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "fiRrv", &g))
		return 1;
	bool force = shell_opt(&g, 'f');
	bool rec = shell_opt(&g, 'r') || shell_opt(&g, 'R');
	if (!g.noperands) {
		shell_opts_free(&g);
		if (force)
			return 0;
		shell_usage(c, "rm");
		return 1;
	}
	int st = 0, errors = 0;
	for (int i = 0; i < g.noperands; i++) {
		const char *p = g.operands[i];
		const char *b = shell_base_name(p);
		if (strcmp(b, ".") == 0 || strcmp(b, "..") == 0) {
			shell_err(c, "%s remove '.' or '..'", cant(c));
			st = 1;
			continue;
		}
		char abs[SH_PATH_MAX];
		struct vstat s;
		int rc = shell_resolve(c, p, false, abs, &s);
		if (rc) {
			if (!force) {
				shell_err(c, "%s remove '%s': %s", cant(c), p, shell_strerror(-rc));
				st = 1;
			}
			continue;
		}
		if (s.kind == VN_DIR) {
			if (!rec) {
				shell_err(c, "%s remove '%s': %s", cant(c), p,
					  shell_strerror(EISDIR));
				st = 1;
				continue;
			}
			st |= rm_tree(c, abs, p, 0, &errors);
			continue;
		}
		rc = shell_vfs_unlink(V(c), abs);
		if (rc) {
			shell_err(c, "%s remove '%s': %s", cant(c), p, shell_strerror(-rc));
			st = 1;
		}
	}
	shell_opts_free(&g);
	return st;
}

static long parse_mode(const char *s, uint16_t old, bool isdir);

int shell_cmd_mkdir(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "pm:v", &g))
		return 1;
	bool parents = shell_opt(&g, 'p');
	uint16_t mode = 0755;
	const char *m_arg = shell_optarg(&g, 'm');
	if (m_arg) {
		long m = parse_mode(m_arg, 0777, true);
		if (m < 0) {
			shell_err(c, "invalid mode '%s'", m_arg);
			shell_opts_free(&g);
			return 1;
		}
		mode = (uint16_t)m;
	}
	if (!g.noperands) {
		shell_usage(c, "mkdir");
		shell_opts_free(&g);
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
	shell_opts_free(&g);
	return st;
}

int shell_cmd_rmdir(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "pv", &g))
		return 1;
	if (!g.noperands) {
		shell_usage(c, "rmdir");
		shell_opts_free(&g);
		return 1;
	}
	int st = 0;
	for (int i = 0; i < g.noperands; i++) {
		char abs[SH_PATH_MAX];
		struct vstat s;
		int rc = shell_resolve(c, g.operands[i], false, abs, &s);
		if (!rc)
			rc = shell_vfs_rmdir(V(c), abs);
		if (rc) {
			shell_err(c, "'%s': %s", g.operands[i], shell_strerror(-rc));
			st = 1;
		}
	}
	shell_opts_free(&g);
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
	int rc = shell_resolve(c, p, true, abs, &s);
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

int shell_cmd_chmod(struct cmd *c)
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

int shell_cmd_chown(struct cmd *c)
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
		int rc = shell_resolve(c, c->argv[i], true, abs, &s);
		if (!rc)
			rc = shell_vfs_chown(V(c), abs, uid, gid);
		if (rc) {
			shell_err(c, "%s: %s", c->argv[i], shell_strerror(-rc));
			st = 1;
		}
	}
	return st;
}

/* ------------------------------------------------------------------ touch */

int shell_cmd_touch(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "cd:t:r:hamf", &g))
		return 1;
	bool nocreate = shell_opt(&g, 'c');
	if (!g.noperands) {
		shell_usage(c, "touch");
		shell_opts_free(&g);
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
	shell_opts_free(&g);
	return st;
}

/* ------------------------------------------------------------------ ln, tee */

int shell_cmd_ln(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "sfnbS:vT", &g))
		return 1;
	bool sym = shell_opt(&g, 's');
	bool force = shell_opt(&g, 'f');
	if (g.noperands < 1) {
		shell_usage(c, "ln");
		shell_opts_free(&g);
		return 1;
	}
	const char *target = g.operands[0];
	const char *link = g.noperands > 1 ? g.operands[g.noperands - 1] : shell_base_name(target);
	char abs[SH_PATH_MAX];
	struct vstat s;
	bool pok;
	int rc = shell_vfs_resolve(V(c), CWD(c), link, false, abs, &s, &pok);
	if (rc == 0 && s.kind == VN_DIR) {
		char inside[SH_PATH_MAX];
		if (shell_vfs_join(abs, shell_base_name(target), inside) == 0)
			strcpy(abs, inside);
		rc = shell_vfs_lookup(V(c), abs, &s) == 0 ? 0 : -ENOENT;
		pok = true;
	}
	if (rc == 0) {
		if (!force) {
			shell_err(c, "%s: %s", link, shell_strerror(EEXIST));
			shell_opts_free(&g);
			return 1;
		}
		shell_vfs_unlink(V(c), abs);
	} else if (!pok) {
		shell_err(c, "%s: %s", link, shell_strerror(-rc));
		shell_opts_free(&g);
		return 1;
	}
	if (sym) {
		rc = shell_vfs_symlink(V(c), target, abs);
	} else {
		char tabs[SH_PATH_MAX];
		struct vstat ts;
		rc = shell_resolve(c, target, true, tabs, &ts);
		if (!rc)
			rc = shell_vfs_link(V(c), tabs, abs);
	}
	if (rc) {
		shell_err(c, "%s: %s", sym ? link : target, shell_strerror(-rc));
		shell_opts_free(&g);
		return 1;
	}
	shell_opts_free(&g);
	return 0;
}

int shell_cmd_tee(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "ai", &g))
		return 1;
	bool append = shell_opt(&g, 'a');
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
	shell_opts_free(&g);
	return st;
}
