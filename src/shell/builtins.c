/* shell/builtins: the commands BusyBox ash runs itself (cd, echo, printf, test, export, read,
 * exit, kill, ., eval, exec, ...). echo's escape decoding is BusyBox's, exported for tests as
 * shell_echo_unescape. Errors are ash's. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ echo */

/* One escape after a backslash (bb_process_escape_sequence): p points after the backslash.
 * Returns the byte and advances *p; an unknown escape yields '\' without advancing. */
static unsigned char bb_escape(const char **p, const char *end)
{
	const char *q = *p;
	unsigned n = 0, base = 8, digits = 0;
	if (q < end && *q == 'x') {
		q++;
		base = 16;
		digits = 1;
	}
	while (q < end) {
		unsigned d = (unsigned char)*q - '0';
		if (d >= 10) {
			int lc = tolower((unsigned char)*q);
			d = (lc >= 'a' && lc <= 'z') ? (unsigned)(lc - 'a' + 10) : 99;
		}
		if (d >= base) {
			if (base == 16 && --digits == 0)
				return '\\'; /* \x followed by a non-hex: print the backslash */
			break;
		}
		unsigned r = n * base + d;
		if (r > 255)
			break;
		n = r;
		q++;
		if (++digits >= 3)
			break;
	}
	if (digits == 0) {
		static const char from[] = "abefnrtv\\";
		static const unsigned char to[] = {7, 8, 27, 12, 10, 13, 9, 11, '\\'};
		const char *f = q < end ? strchr(from, *q) : NULL;
		if (f && *q) {
			*p = q + 1;
			return to[f - from];
		}
		*p = q;
		return '\\';
	}
	*p = q;
	return (unsigned char)n;
}

size_t shell_echo_unescape(const char *in, size_t inlen, uint8_t *out, size_t outcap, bool *stop)
{
	const char *p = in, *end = in + inlen;
	size_t o = 0;
	*stop = false;
	while (p < end) {
		char c = *p++;
		if (c == '\\' && p < end) {
			if (*p == 'c') {
				*stop = true;
				break;
			}
			/* \0NNN: the leading 0 of a 4-digit octal is skipped */
			if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '7')
				p++;
			c = (char)bb_escape(&p, end);
		}
		if (o < outcap)
			out[o] = (uint8_t)c;
		o++;
	}
	return o < outcap ? o : outcap;
}

static bool echo_opt(const char *a, bool *n, bool *e)
{
	if (a[0] != '-' || !a[1])
		return false;
	for (const char *p = a + 1; *p; p++)
		if (*p != 'n' && *p != 'e' && *p != 'E')
			return false;
	for (const char *p = a + 1; *p; p++) {
		if (*p == 'n')
			*n = true;
		else if (*p == 'e')
			*e = true;
		else
			*e = false;
	}
	return true;
}

static int report_write_error(struct cmd *c, int rc)
{
	if (rc == -ENOSPC) {
		shell_errf(c, "%s: write error: %s\n",
			   c->sh->lvl->arg0[0] == '-' ? c->sh->lvl->arg0 + 1 : c->sh->lvl->arg0,
			   shell_strerror(ENOSPC));
		return 1;
	}
	return 0;
}

int shell_cmd_echo(struct cmd *c)
{
	bool nl = true, esc = false, nflag = false;
	int i = 1;
	while (i < c->argc && echo_opt(c->argv[i], &nflag, &esc))
		i++;
	if (nflag)
		nl = false;
	c->method = "echo";
	struct buf out;
	buf_init(&out, SH_WORD_MAX * 2);
	bool stop = false;
	for (; i < c->argc && !stop; i++) {
		const char *a = c->argv[i];
		size_t al = strlen(a);
		if (esc) {
			uint8_t small[256];
			uint8_t *d = al <= sizeof(small) ? small : xmalloc(al);
			size_t dn = shell_echo_unescape(a, al, d, al, &stop);
			buf_append(&out, d, dn);
			if (d != small)
				free(d);
		} else {
			buf_append(&out, a, al);
		}
		if (i + 1 < c->argc && !stop)
			buf_append(&out, " ", 1);
	}
	if (nl && !stop)
		buf_append(&out, "\n", 1);
	int rc = shell_out(c, out.data, out.len, true);
	buf_free(&out);
	return report_write_error(c, rc);
}

/* ------------------------------------------------------------------ printf */

static void printf_str_escapes(struct buf *out, const char *s, bool *stop)
{
	size_t n = strlen(s);
	uint8_t *d = xmalloc(n + 1);
	size_t dn = shell_echo_unescape(s, n, d, n + 1, stop);
	buf_append(out, d, dn);
	free(d);
}

static bool conv_num(struct cmd *c, const char *a, long long *v, bool *bad)
{
	if (!a) {
		*v = 0;
		return true;
	}
	if ((a[0] == '\'' || a[0] == '"') && a[1]) {
		*v = (unsigned char)a[1];
		return true;
	}
	char *e;
	errno = 0;
	*v = strtoll(a, &e, 0);
	if (*a == 0 || *e || errno) {
		shell_errf(c, "%s: invalid number '%s'\n", c->name, a);
		*bad = true;
		return false;
	}
	return true;
}

/* One converted field with printf's flags, width and precision applied. */
struct pspec {
	bool left, plus, space, alt, zero;
	int width, prec; /* prec < 0: none */
};

static void pad_out(struct buf *out, const struct pspec *ps, const char *sign, const char *body,
		    size_t bl)
{
	size_t sl = strlen(sign);
	size_t len = sl + bl;
	size_t w = ps->width > 0 ? (size_t)ps->width : 0;
	if (!ps->left && !ps->zero)
		for (size_t i = len; i < w; i++)
			buf_append(out, " ", 1);
	buf_append(out, sign, sl);
	if (!ps->left && ps->zero)
		for (size_t i = len; i < w; i++)
			buf_append(out, "0", 1);
	buf_append(out, body, bl);
	if (ps->left)
		for (size_t i = len; i < w; i++)
			buf_append(out, " ", 1);
}

static void fmt_int(struct buf *out, const struct pspec *ps, char conv, long long v)
{
	char digits[72];
	const char *sign = "";
	unsigned long long u;
	if (conv == 'd' || conv == 'i') {
		if (v < 0) {
			sign = "-";
			u = (unsigned long long)0 - (unsigned long long)v;
		} else {
			u = (unsigned long long)v;
			sign = ps->plus ? "+" : ps->space ? " " : "";
		}
		snprintf(digits, sizeof(digits), "%llu", u);
	} else {
		u = (unsigned long long)v;
		if (conv == 'x')
			snprintf(digits, sizeof(digits), "%llx", u);
		else if (conv == 'X')
			snprintf(digits, sizeof(digits), "%llX", u);
		else if (conv == 'o')
			snprintf(digits, sizeof(digits), "%llo", u);
		else
			snprintf(digits, sizeof(digits), "%llu", u);
		if (ps->alt && u && (conv == 'x' || conv == 'X'))
			sign = conv == 'x' ? "0x" : "0X";
	}
	char body[160];
	size_t dl = strlen(digits);
	size_t k = 0;
	if (ps->prec >= 0) {
		for (size_t i = dl; i < (size_t)LIB_MIN(ps->prec, 100) && k < 100; i++)
			body[k++] = '0';
		if (ps->prec == 0 && u == 0)
			dl = 0;
	}
	memcpy(body + k, digits, dl);
	k += dl;
	struct pspec p2 = *ps;
	if (ps->prec >= 0)
		p2.zero = false;
	pad_out(out, &p2, sign, body, k);
}

static void fmt_float(struct buf *out, const struct pspec *ps, char conv, double v)
{
	char body[400];
	int prec = ps->prec >= 0 ? LIB_MIN(ps->prec, 60) : 6;
	const char *sign = "";
	if (v < 0) {
		sign = "-";
		v = -v;
	} else if (ps->plus) {
		sign = "+";
	} else if (ps->space) {
		sign = " ";
	}
	int n;
	switch (conv) {
	case 'e': n = snprintf(body, sizeof(body), "%.*e", prec, v); break;
	case 'E': n = snprintf(body, sizeof(body), "%.*E", prec, v); break;
	case 'g': n = snprintf(body, sizeof(body), "%.*g", prec, v); break;
	case 'G': n = snprintf(body, sizeof(body), "%.*G", prec, v); break;
	default: n = snprintf(body, sizeof(body), "%.*f", prec, v); break;
	}
	if (n < 0)
		n = 0;
	pad_out(out, ps, sign, body, LIB_MIN((size_t)n, sizeof(body) - 1));
}

/* The flags, width and precision of a conversion at p (just past '%'): into ps; width and
 * precision given as '*' take the next argument (*ai). Returns where the conversion letter
 * is. */
static const char *printf_spec(struct cmd *c, const char *p, int *ai, struct pspec *ps, bool *bad)
{
	const char *q = p;
	for (; *q && strchr("-+ #0", *q); q++) {
		if (*q == '-')
			ps->left = true;
		if (*q == '+')
			ps->plus = true;
		if (*q == ' ')
			ps->space = true;
		if (*q == '#')
			ps->alt = true;
		if (*q == '0')
			ps->zero = true;
	}
	if (*q == '*') {
		long long w = 0;
		conv_num(c, *ai < c->argc ? c->argv[(*ai)++] : NULL, &w, bad);
		if (w < 0) {
			ps->left = true;
			w = -w;
		}
		ps->width = (int)LIB_MIN(w, 4096);
		q++;
	} else {
		while (isdigit((unsigned char)*q)) {
			ps->width = LIB_MIN(ps->width * 10 + (*q - '0'), 4096);
			q++;
		}
	}
	if (*q == '.') {
		q++;
		ps->prec = 0;
		if (*q == '*') {
			long long w = 0;
			conv_num(c, *ai < c->argc ? c->argv[(*ai)++] : NULL, &w, bad);
			ps->prec = (int)LIB_MAX(0, LIB_MIN(w, 4096));
			q++;
		} else {
			while (isdigit((unsigned char)*q)) {
				ps->prec = LIB_MIN(ps->prec * 10 + (*q - '0'), 4096);
				q++;
			}
		}
	}
	while (*q == 'l' || *q == 'h' || *q == 'z' || *q == 'j' || *q == 'L')
		q++;
	return q;
}

/* One conversion with its argument (NULL: none left). Returns -1 for an unknown letter. */
static int printf_conv(struct cmd *c, struct buf *out, char conv, struct pspec ps, const char *arg,
		       bool *bad, bool *stop)
{
	switch (conv) {
	case 's': {
		const char *sv = arg ? arg : "";
		size_t sl = strlen(sv);
		if (ps.prec >= 0 && (size_t)ps.prec < sl)
			sl = (size_t)ps.prec;
		struct pspec p2 = ps;
		p2.zero = false;
		pad_out(out, &p2, "", sv, sl);
		break;
	}
	case 'b': {
		bool st2 = false;
		printf_str_escapes(out, arg ? arg : "", &st2);
		if (st2)
			*stop = true;
		break;
	}
	case 'c': {
		struct pspec p2 = ps;
		p2.zero = false;
		pad_out(out, &p2, "", arg ? arg : "", arg && *arg ? 1 : 0);
		break;
	}
	case 'd':
	case 'i':
	case 'u':
	case 'x':
	case 'X':
	case 'o': {
		long long v;
		conv_num(c, arg, &v, bad);
		fmt_int(out, &ps, conv, v);
		break;
	}
	case 'f':
	case 'e':
	case 'g':
	case 'E':
	case 'G': fmt_float(out, &ps, conv, arg ? strtod(arg, NULL) : 0); break;
	default: shell_errf(c, "%s: %%%c: invalid format\n", c->name, conv ? conv : ' '); return -1;
	}
	return 0;
}

int shell_cmd_printf(struct cmd *c)
{
	c->method = "printf";
	if (c->argc < 2) {
		shell_usage(c, "printf");
		return 1;
	}
	const char *fmt = c->argv[1];
	int ai = 2;
	struct buf out;
	buf_init(&out, SH_WORD_MAX * 2);
	bool stop = false, bad = false;
	int rounds = 0;
	do {
		int used_before = ai;
		for (const char *p = fmt; *p && !stop; p++) {
			if (*p == '\\') {
				const char *q = p + 1;
				if (*q == 'c') {
					stop = true;
					break;
				}
				if (*q == '0' && q[1] >= '0' && q[1] <= '7')
					q++;
				unsigned char ch = bb_escape(&q, q + strlen(q));
				buf_append(&out, &ch, 1);
				p = q - 1;
				continue;
			}
			if (*p != '%') {
				buf_append(&out, p, 1);
				continue;
			}
			if (p[1] == '%') {
				buf_append(&out, "%", 1);
				p++;
				continue;
			}
			/* %[flags][width][.prec]conv */
			struct pspec ps = {.prec = -1};
			const char *q = printf_spec(c, p + 1, &ai, &ps, &bad);
			char conv = *q;
			const char *arg = ai < c->argc ? c->argv[ai++] : NULL;
			if (printf_conv(c, &out, conv, ps, arg, &bad, &stop) < 0) {
				buf_free(&out);
				return 1;
			}
			if (!*q)
				break;
			p = q;
		}
		if (ai == used_before)
			break;
	} while (ai < c->argc && !stop && ++rounds < 10000);
	int rc = shell_out(c, out.data, out.len, true);
	buf_free(&out);
	if (report_write_error(c, rc))
		return 1;
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------------ test */

struct tst {
	struct cmd *c;
	char **a;
	int n, i;
	bool err;
};

static bool file_test(struct tst *t, char op, const char *path)
{
	struct shell *sh = t->c->sh;
	char abs[SH_PATH_MAX];
	struct vstat st;
	bool pok;
	bool follow = op != 'h' && op != 'L';
	if (shell_vfs_resolve(&sh->vfs, sh->lvl->cwd, path, follow, abs, &st, &pok))
		return false;
	switch (op) {
	case 'e': return true;
	case 'f': return st.kind == VN_FILE;
	case 'd': return st.kind == VN_DIR;
	case 'h':
	case 'L': return st.kind == VN_LINK;
	case 's': return st.kind == VN_FILE && st.size > 0;
	case 'r': return true;
	case 'w': return sh->vfs.uid == 0 || (st.mode & 0222);
	case 'x': return st.kind == VN_DIR || (st.mode & 0111);
	case 'c': return st.kind == VN_CHR;
	case 'b':
	case 'p':
	case 'S': return false;
	case 'u': return (st.mode & 04000) != 0;
	case 'g': return (st.mode & 02000) != 0;
	case 'k': return (st.mode & 01000) != 0;
	case 'O':
	case 'G': return true;
	default: return false;
	}
}

static long long tnum(struct tst *t, const char *s)
{
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	while (*e == ' ' || *e == '\t')
		e++;
	if (!*s || *e || errno) {
		if (!t->err)
			shell_errf(t->c, "%s: %s: bad number\n", "sh", s);
		t->err = true;
	}
	return v;
}

static bool t_or(struct tst *t);

static bool t_primary(struct tst *t)
{
	if (t->i >= t->n) {
		t->err = true;
		return false;
	}
	const char *a = t->a[t->i];
	if (strcmp(a, "!") == 0) {
		t->i++;
		return !t_primary(t);
	}
	if (strcmp(a, "(") == 0) {
		t->i++;
		bool v = t_or(t);
		if (t->i < t->n && strcmp(t->a[t->i], ")") == 0)
			t->i++;
		else
			t->err = true;
		return v;
	}
	/* binary operators */
	if (t->i + 3 <= t->n) {
		const char *op = t->a[t->i + 1];
		static const char *const bins[] = {"=",   "==",  "!=", "-eq", "-ne", "-lt", "-le",
						   "-gt", "-ge", "<",  ">",   "-nt", "-ot", "-ef"};
		for (size_t k = 0; k < LIB_ARRAY_LEN(bins); k++) {
			if (strcmp(op, bins[k]) != 0)
				continue;
			const char *l = a, *r = t->a[t->i + 2];
			t->i += 3;
			if (!strcmp(op, "=") || !strcmp(op, "=="))
				return strcmp(l, r) == 0;
			if (!strcmp(op, "!="))
				return strcmp(l, r) != 0;
			if (!strcmp(op, "<"))
				return strcmp(l, r) < 0;
			if (!strcmp(op, ">"))
				return strcmp(l, r) > 0;
			if (!strcmp(op, "-nt") || !strcmp(op, "-ot") || !strcmp(op, "-ef"))
				return false;
			long long x = tnum(t, l), y = tnum(t, r);
			if (!strcmp(op, "-eq"))
				return x == y;
			if (!strcmp(op, "-ne"))
				return x != y;
			if (!strcmp(op, "-lt"))
				return x < y;
			if (!strcmp(op, "-le"))
				return x <= y;
			if (!strcmp(op, "-gt"))
				return x > y;
			return x >= y;
		}
	}
	if (a[0] == '-' && a[1] && !a[2] && t->i + 1 < t->n) {
		char op = a[1];
		const char *arg = t->a[t->i + 1];
		if (op == 'z' || op == 'n') {
			t->i += 2;
			return op == 'z' ? !*arg : *arg != 0;
		}
		if (strchr("efdhLsrwxcbpSugkOGt", op)) {
			t->i += 2;
			if (op == 't')
				return false;
			return file_test(t, op, arg);
		}
	}
	t->i++;
	return *a != 0;
}

static bool t_and(struct tst *t)
{
	bool v = t_primary(t);
	while (t->i < t->n && strcmp(t->a[t->i], "-a") == 0) {
		t->i++;
		bool r = t_primary(t);
		v = v && r;
	}
	return v;
}

static bool t_or(struct tst *t)
{
	bool v = t_and(t);
	while (t->i < t->n && strcmp(t->a[t->i], "-o") == 0) {
		t->i++;
		bool r = t_and(t);
		v = v || r;
	}
	return v;
}

int shell_cmd_test(struct cmd *c)
{
	int n = c->argc - 1;
	char **a = c->argv + 1;
	const char *name = shell_basename_of_cmd(c->argv[0]);
	if (strcmp(name, "[") == 0 || strcmp(name, "[[") == 0) {
		const char *close = name[1] ? "]]" : "]";
		if (n < 1 || strcmp(a[n - 1], close) != 0) {
			shell_errf(c, "sh: missing %s\n", close);
			return 2;
		}
		n--;
	}
	if (n == 0)
		return 1;
	struct tst t = {.c = c, .a = a, .n = n};
	bool v = t_or(&t);
	if (!t.err && t.i < t.n) {
		shell_errf(c, "sh: %s: unknown operand\n", t.a[t.i]);
		return 2;
	}
	if (t.err)
		return 2;
	return v ? 0 : 1;
}

/* ------------------------------------------------------------------ cd, pwd */

/* base + "/" + rel, normalised lexically ("." dropped, ".." removes the previous part). */
static int logical_join(const char *base, const char *rel, char *out)
{
	char tmp[SH_PATH_MAX * 2];
	if (snprintf(tmp, sizeof(tmp), "%s/%s", base, rel) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	size_t o = 0;
	out[0] = 0;
	for (char *p = tmp; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *e = p;
		while (*e && *e != '/')
			e++;
		size_t n = (size_t)(e - p);
		if (n == 1 && p[0] == '.') {
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o + 1 + n + 1 > SH_PATH_MAX)
				return -ENAMETOOLONG;
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = e;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
	return 0;
}

static int cmd_cd(struct cmd *c)
{
	struct shell *sh = c->sh;
	const char *dest = c->argc > 1 ? c->argv[1] : shell_getvar(sh, "HOME");
	bool print = false;
	if (!dest || !*dest)
		dest = "/";
	if (strcmp(dest, "-") == 0) {
		dest = shell_getvar(sh, "OLDPWD");
		if (!dest)
			dest = sh->lvl->cwd;
		print = true;
	}
	/* ash's cd is logical: the old cwd joined with dest, ".." taken lexically, so that
	 * "cd /tmp" through a link /tmp -> /var/tmp shows /tmp and "cd .." goes back to "/" */
	char abs[SH_PATH_MAX], phys[SH_PATH_MAX];
	struct vstat st;
	bool pok;
	int rc = logical_join(dest[0] == '/' ? "/" : sh->lvl->cwd, dest, abs);
	if (rc == 0)
		rc = shell_vfs_resolve(&sh->vfs, "/", abs, true, phys, &st, &pok);
	if (rc == 0 && st.kind != VN_DIR)
		rc = -ENOTDIR;
	if (rc) {
		/* the physical way, as ash falls back to */
		rc = shell_vfs_resolve(&sh->vfs, sh->lvl->cwd, dest, true, abs, &st, &pok);
		if (rc == 0 && st.kind != VN_DIR)
			rc = -ENOTDIR;
	}
	if (rc) {
		if (shell_bb_at_least(sh, 1, 26))
			shell_shell_err(sh, c->f->fd[2], "cd: can't cd to %s: %s", dest,
					shell_strerror(-rc));
		else
			shell_shell_err(sh, c->f->fd[2], "cd: can't cd to %s", dest);
		return 2;
	}
	shell_setvar(sh, "OLDPWD", sh->lvl->cwd, false);
	free(sh->lvl->cwd);
	sh->lvl->cwd = xstrdup(abs);
	if (shell_getvar(sh, "PWD"))
		shell_setvar(sh, "PWD", abs, false);
	if (print)
		shell_printf(c, "%s\n", abs);
	return 0;
}

static int cmd_pwd(struct cmd *c)
{
	shell_printf(c, "%s\n", c->sh->lvl->cwd);
	return 0;
}

/* ------------------------------------------------------------------ variables */

static void print_quoted(struct cmd *c, const char *prefix, const char *name, const char *v)
{
	/* ash quotes values with single quotes, escaping embedded ones */
	struct buf b;
	buf_init(&b, SH_WORD_MAX * 2);
	buf_printf(&b, "%s%s", prefix, name);
	if (v) {
		buf_append(&b, "='", 2);
		for (const char *p = v; *p; p++) {
			if (*p == '\'')
				buf_append_str(&b, "'\"'\"'");
			else
				buf_append(&b, p, 1);
		}
		buf_append(&b, "'", 1);
	}
	buf_append(&b, "\n", 1);
	shell_out(c, b.data, b.len, false);
	buf_free(&b);
}

static int var_cmp(const void *a, const void *b)
{
	return strcmp(((const struct var *)a)->name, ((const struct var *)b)->name);
}

static void print_vars(struct cmd *c, const char *prefix, bool only_exported)
{
	shell_materialize_defaults(c->sh);
	struct level *l = c->sh->lvl;
	struct var *copy = xmalloc((l->nvars + 1) * sizeof(*copy));
	memcpy(copy, l->vars, l->nvars * sizeof(*copy));
	qsort(copy, l->nvars, sizeof(*copy), var_cmp);
	for (size_t i = 0; i < l->nvars; i++)
		if (!only_exported || copy[i].exported)
			print_quoted(c, prefix, copy[i].name, copy[i].value);
	free(copy);
}

static int assign_words(struct cmd *c, bool export, bool readonly)
{
	struct shell *sh = c->sh;
	int st = 0;
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] == '-')
			continue;
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		char name[256];
		if (!shell_valid_name(a, nl) || nl >= sizeof(name)) {
			shell_shell_err(sh, c->f->fd[2], "%s: %s: bad variable name", c->argv[0],
					a);
			st = 1;
			continue;
		}
		memcpy(name, a, nl);
		name[nl] = 0;
		if (shell_setvar(sh, name, eq ? eq + 1 : NULL, export) == -EPERM) {
			shell_shell_err(sh, c->f->fd[2], "%s: is read only", name);
			st = 1;
			continue;
		}
		if (readonly)
			for (size_t k = 0; k < sh->lvl->nvars; k++)
				if (strcmp(sh->lvl->vars[k].name, name) == 0)
					sh->lvl->vars[k].readonly = true;
	}
	return st;
}

static int cmd_export(struct cmd *c)
{
	if (c->argc == 1 || (c->argc == 2 && strcmp(c->argv[1], "-p") == 0)) {
		print_vars(c, "export ", true);
		return 0;
	}
	return assign_words(c, true, false);
}

static int cmd_readonly(struct cmd *c)
{
	if (c->argc == 1) {
		struct level *l = c->sh->lvl;
		for (size_t i = 0; i < l->nvars; i++)
			if (l->vars[i].readonly)
				print_quoted(c, "readonly ", l->vars[i].name, l->vars[i].value);
		return 0;
	}
	return assign_words(c, false, true);
}

static int cmd_local(struct cmd *c)
{
	return assign_words(c, false, false);
}

static int cmd_unset(struct cmd *c)
{
	bool funcs = false;
	int i = 1;
	for (; i < c->argc && c->argv[i][0] == '-'; i++)
		if (strchr(c->argv[i], 'f'))
			funcs = true;
	for (; i < c->argc; i++) {
		if (funcs) {
			struct level *l = c->sh->lvl;
			for (size_t k = 0; k < l->nfuncs; k++)
				if (strcmp(l->funcs[k].name, c->argv[i]) == 0) {
					shell_acct_free(c->sh, l->funcs[k].name);
					shell_acct_free(c->sh, l->funcs[k].src);
					l->funcs[k] = l->funcs[--l->nfuncs];
					break;
				}
		} else {
			shell_unsetvar(c->sh, c->argv[i]);
		}
	}
	return 0;
}

static int cmd_set(struct cmd *c)
{
	struct level *l = c->sh->lvl;
	if (c->argc == 1) {
		print_vars(c, "", false);
		return 0;
	}
	int i = 1;
	for (; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if ((a[0] == '-' || a[0] == '+') && a[1]) {
			if (strcmp(a, "-o") == 0 || strcmp(a, "+o") == 0)
				i++;
			continue;
		}
		break;
	}
	if (i < c->argc || (c->argc > 1 && strcmp(c->argv[c->argc - 1], "--") == 0)) {
		for (size_t k = 0; k < l->npos; k++)
			shell_acct_free(c->sh, l->pos[k]);
		free(l->pos);
		l->npos = (size_t)(c->argc - i);
		l->pos = xcalloc(l->npos + 1, sizeof(char *));
		for (size_t k = 0; k < l->npos; k++)
			l->pos[k] = shell_acct_strdup(c->sh, c->argv[i + (int)k]);
	}
	return 0;
}

static int cmd_shift(struct cmd *c)
{
	struct level *l = c->sh->lvl;
	long n = c->argc > 1 ? strtol(c->argv[1], NULL, 10) : 1;
	if (n < 0 || (size_t)n > l->npos) {
		shell_shell_err(c->sh, c->f->fd[2], "shift: can't shift that many");
		return 2;
	}
	for (long k = 0; k < n; k++)
		shell_acct_free(c->sh, l->pos[k]);
	memmove(l->pos, l->pos + n, (l->npos - (size_t)n) * sizeof(char *));
	l->npos -= (size_t)n;
	return 0;
}

static int cmd_read(struct cmd *c)
{
	bool raw = false;
	int i = 1;
	for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]; i++) {
		const char *o = c->argv[i];
		if (strchr(o, 'r'))
			raw = true;
		if (strchr(o, 'p') || strchr(o, 't') || strchr(o, 'n') || strchr(o, 'u') ||
		    strchr(o, 'd')) {
			if (strchr(o, 'p') && i + 1 < c->argc)
				shell_errf(c, "%s", c->argv[i + 1]);
			i++;
		}
	}
	struct buf line;
	buf_init(&line, SH_WORD_MAX);
	bool got = shell_stdin_line(c, &line);
	/* Without -r a backslash escapes the next character (and joins lines). */
	char *s = xstrndup(line.data ? (char *)line.data : "", line.len);
	if (!raw) {
		size_t k = 0;
		for (size_t j = 0; s[j]; j++) {
			if (s[j] == '\\' && s[j + 1])
				j++;
			s[k++] = s[j];
		}
		s[k] = 0;
	}
	buf_free(&line);
	const char *ifs = shell_getvar(c->sh, "IFS");
	if (!ifs)
		ifs = " \t\n";
	int nvars = c->argc - i;
	if (nvars <= 0) {
		shell_setvar(c->sh, "REPLY", s, false);
	} else {
		char *p = s;
		for (int v = 0; v < nvars; v++) {
			while (*p && strchr(ifs, *p) && (*p == ' ' || *p == '\t' || *p == '\n'))
				p++;
			char *val;
			if (v == nvars - 1) {
				val = p;
				size_t len = strlen(val);
				while (len && strchr(ifs, val[len - 1]) &&
				       (val[len - 1] == ' ' || val[len - 1] == '\t'))
					val[--len] = 0;
				p += strlen(p);
			} else {
				val = p;
				while (*p && !strchr(ifs, *p))
					p++;
				if (*p)
					*p++ = 0;
			}
			if (shell_valid_name(c->argv[i + v], strlen(c->argv[i + v])))
				shell_setvar(c->sh, c->argv[i + v], val, false);
		}
	}
	free(s);
	return got ? 0 : 1;
}

/* ------------------------------------------------------------------ control */

static int cmd_exit(struct cmd *c)
{
	int st = c->sh->status;
	if (c->argc > 1)
		st = (int)(strtol(c->argv[1], NULL, 10) & 0xff);
	shell_request_unwind(c->sh, UW_EXIT, 0, st);
	return st;
}

static int cmd_logout(struct cmd *c)
{
	if (c->sh->lvl->parent)
		return shell_not_found(c, "logout");
	return cmd_exit(c);
}

static int cmd_loopctl(struct cmd *c)
{
	long n = c->argc > 1 ? strtol(c->argv[1], NULL, 10) : 1;
	if (n < 1) {
		shell_shell_err(c->sh, c->f->fd[2], "%s: Illegal number: %s", c->argv[0],
				c->argv[1]);
		return 2;
	}
	/* only inside a loop */
	for (size_t i = c->sh->nframes; i-- > 0;) {
		struct frame *f = &c->sh->frames[i];
		if (f->kind == F_FOR || f->kind == F_WHILE) {
			shell_request_unwind(c->sh, c->argv[0][0] == 'b' ? UW_BREAK : UW_CONTINUE,
					     (int)n, 0);
			return 0;
		}
		if (f->owns_level || f->catch_return)
			break;
	}
	return 0;
}

static int cmd_return(struct cmd *c)
{
	int st = c->argc > 1 ? (int)(strtol(c->argv[1], NULL, 10) & 0xff) : c->sh->status;
	shell_request_unwind(c->sh, UW_RETURN, 0, st);
	return st;
}

static int cmd_true(struct cmd *c)
{
	return 0;
}

static int cmd_false(struct cmd *c)
{
	return 1;
}

static char *join_args(struct cmd *c, int from)
{
	struct buf b;
	buf_init(&b, SH_WORD_MAX);
	for (int i = from; i < c->argc; i++) {
		if (i > from)
			buf_append(&b, " ", 1);
		buf_append_str(&b, c->argv[i]);
	}
	char *s = xstrndup(b.data ? (char *)b.data : "", b.len);
	buf_free(&b);
	return s;
}

static int cmd_eval(struct cmd *c)
{
	if (c->argc < 2)
		return 0;
	char *text = join_args(c, 1);
	int rc = shell_run_script(c, text, strlen(text), c->sh->lvl->arg0, NULL, 0, false, false);
	free(text);
	return rc;
}

static int cmd_dot(struct cmd *c)
{
	struct shell *sh = c->sh;
	if (c->argc < 2) {
		shell_shell_err(sh, c->f->fd[2], ".: .: not enough arguments");
		return 2;
	}
	const char *name = c->argv[1];
	char abs[SH_PATH_MAX];
	struct vstat st;
	bool pok;
	int rc = -ENOENT;
	if (strchr(name, '/')) {
		rc = shell_vfs_resolve(&sh->vfs, sh->lvl->cwd, name, true, abs, &st, &pok);
	} else {
		char shown[SH_PATH_MAX];
		rc = shell_path_lookup(sh, name, false, shown, abs, &st);
		if (rc)
			rc = shell_vfs_resolve(&sh->vfs, sh->lvl->cwd, name, true, abs, &st, &pok);
	}
	if (rc == 0 && st.kind == VN_CHR) {
		st.kind = VN_FILE; /* /dev/null: nothing to run */
		st.size = 0;
	}
	if (rc || st.kind != VN_FILE) {
		shell_shell_err(sh, c->f->fd[2], "%s: %s: not found", c->argv[0], name);
		return 2;
	}
	/* the bytes as they are (a NUL inside is dropped later, as ash drops it) */
	char *copy = xmalloc(st.size + 1);
	if (st.size)
		memcpy(copy, st.data, st.size);
	copy[st.size] = 0;
	rc = shell_run_script(c, copy, st.size, sh->lvl->arg0, NULL, 0, false, false);
	free(copy);
	return rc;
}

static int cmd_exec(struct cmd *c)
{
	if (c->argc < 2) {
		shell_exec_redirect(c);
		return 0;
	}
	c->argv++;
	c->argc--;
	int rc = shell_dispatch(c);
	c->argv--;
	c->argc++;
	if (rc >= 0)
		shell_request_unwind(c->sh, UW_EXIT, 0, rc);
	return rc;
}

/* ------------------------------------------------------------------ kill */

int shell_kill(struct cmd *c, bool builtin)
{
	struct shell *sh = c->sh;
	int i = 1;
	if (c->argc < 2) {
		if (builtin)
			shell_shell_err(
				sh, c->f->fd[2],
				"kill: usage: kill [-s sigspec | -signum | -sigspec] [pid | "
				"job]... or\nkill -l [exitstatus]");
		else
			shell_usage(c, "kill");
		return 1;
	}
	if (strcmp(c->argv[1], "-l") == 0) {
		shell_outs(c,
			   " 1) HUP\n 2) INT\n 3) QUIT\n 4) ILL\n 5) TRAP\n 6) ABRT\n 7) BUS\n 8) "
			   "FPE\n 9) KILL\n10) USR1\n"
			   "11) SEGV\n12) USR2\n13) PIPE\n14) ALRM\n15) TERM\n16) STKFLT\n17) "
			   "CHLD\n18) CONT\n19) STOP\n"
			   "20) TSTP\n21) TTIN\n22) TTOU\n23) URG\n24) XCPU\n25) XFSZ\n26) "
			   "VTALRM\n27) PROF\n28) WINCH\n"
			   "29) POLL\n30) PWR\n31) SYS\n");
		return 0;
	}
	if (c->argv[1][0] == '-') {
		if (strcmp(c->argv[1], "-s") == 0 || strcmp(c->argv[1], "-n") == 0)
			i = 3;
		else
			i = 2;
	}
	int st = 0;
	int shells[SH_LEVELS_MAX];
	size_t nsh = shell_shell_pids(sh, shells, SH_LEVELS_MAX);
	for (; i < c->argc; i++) {
		char *e;
		long pid = strtol(c->argv[i], &e, 10);
		if (!*c->argv[i] || *e) {
			if (builtin)
				shell_shell_err(sh, c->f->fd[2], "kill: invalid number '%s'",
						c->argv[i]);
			else
				shell_err(c, "invalid number '%s'", c->argv[i]);
			st = 1;
			continue;
		}
		bool found = false, kernel = false;
		for (size_t k = 0; sh->prof && k < sh->prof->nprocs; k++)
			if (sh->prof->procs[k].pid == pid && !shell_proc_killed(sh, (int)pid)) {
				found = true;
				kernel = sh->prof->procs[k].command[0] == '[';
			}
		bool is_shell = false;
		for (size_t k = 0; k < nsh; k++)
			if (shells[k] == pid)
				is_shell = true;
		if (!found && !is_shell) {
			if (builtin)
				shell_shell_err(sh, c->f->fd[2],
						"kill: can't kill pid %ld: No such process", pid);
			else
				shell_err(c, "can't kill pid %ld: No such process", pid);
			st = 1;
			continue;
		}
		if (is_shell && pid == shells[nsh - 1]) {
			/* the login shell: the session ends, as on the device */
			shell_end_session(sh, SHELL_END_KILLED);
			return 0;
		}
		if (found && pid != 1 && !kernel)
			shell_proc_kill(sh, (int)pid);
	}
	return st;
}

void shell_proc_kill(struct shell *sh, int pid)
{
	if (sh->nkilled >= SH_KILLED_MAX || shell_proc_killed(sh, pid))
		return;
	if (!sh->killed)
		sh->killed = xcalloc(SH_KILLED_MAX, sizeof(*sh->killed));
	sh->killed[sh->nkilled++] = pid;
}

bool shell_proc_killed(struct shell *sh, int pid)
{
	for (size_t i = 0; i < sh->nkilled; i++)
		if (sh->killed[i] == pid)
			return true;
	return false;
}

static int cmd_kill(struct cmd *c)
{
	return shell_kill(c, true);
}

/* ------------------------------------------------------------------ misc */

static int cmd_type(struct cmd *c)
{
	int st = 0;
	for (int i = 1; i < c->argc; i++) {
		const char *n = c->argv[i];
		if (shell_find_builtin(n)) {
			const struct sh_command *b = shell_find_builtin(n);
			shell_printf(c, "%s is a %sshell builtin\n", n,
				     (b->flags & CMD_SPECIAL) ? "special " : "");
			continue;
		}
		char shown[SH_PATH_MAX], abs[SH_PATH_MAX];
		struct vstat st2;
		bool found = shell_path_lookup(c->sh, n, false, shown, abs, &st2) == 0;
		if (found)
			shell_printf(c, "%s is %s\n", n, shown);
		if (!found) {
			shell_printf(c, "%s: not found\n", n);
			st = 127;
		}
	}
	return st;
}

static int cmd_command(struct cmd *c)
{
	if (c->argc < 2)
		return 0;
	if (strcmp(c->argv[1], "-v") == 0 || strcmp(c->argv[1], "-V") == 0) {
		if (c->argc < 3)
			return 0;
		if (shell_find_builtin(c->argv[2])) {
			shell_printf(c, "%s\n", c->argv[2]);
			return 0;
		}
		char *args[3] = {(char *)"type", c->argv[2], NULL};
		struct cmd c2 = *c;
		c2.argv = args;
		c2.argc = 2;
		return cmd_type(&c2) ? 1 : 0;
	}
	c->argv++;
	c->argc--;
	int rc = shell_dispatch(c);
	c->argv--;
	c->argc++;
	return rc;
}

static int cmd_umask(struct cmd *c)
{
	if (c->argc == 1)
		shell_outs(c, "0022\n");
	return 0;
}

static int cmd_ulimit(struct cmd *c)
{
	if (c->argc == 1 || strcmp(c->argv[1], "-f") == 0)
		shell_outs(c, "unlimited\n");
	else if (strcmp(c->argv[1], "-n") == 0 && c->argc == 2)
		shell_outs(c, "1024\n");
	else if (strcmp(c->argv[1], "-a") == 0)
		shell_outs(c, "-f: file size (blocks)             unlimited\n"
			      "-t: cpu time (seconds)             unlimited\n"
			      "-d: data seg size (kb)             unlimited\n"
			      "-s: stack size (kb)                8192\n"
			      "-c: core file size (blocks)        0\n"
			      "-m: resident set size (kb)         unlimited\n"
			      "-l: locked memory (kb)             64\n"
			      "-p: processes                      unlimited\n"
			      "-n: file descriptors               1024\n"
			      "-v: address space (kb)             unlimited\n");
	return 0;
}

static int cmd_times(struct cmd *c)
{
	shell_outs(c, "0m 0.00s 0m 0.00s\n0m 0.00s 0m 0.00s\n");
	return 0;
}

static int cmd_let(struct cmd *c)
{
	long long v = 0;
	for (int i = 1; i < c->argc; i++) {
		char err[96];
		/* let x=expr */
		const char *eq = strchr(c->argv[i], '=');
		if (eq && eq > c->argv[i] &&
		    shell_valid_name(c->argv[i], (size_t)(eq - c->argv[i])) && eq[1] != '=') {
			if (shell_arith(c->sh, eq + 1, &v, err, sizeof(err))) {
				shell_shell_err(c->sh, c->f->fd[2], "let: %s", err);
				return 1;
			}
			char name[256], val[32];
			size_t nl = LIB_MIN((size_t)(eq - c->argv[i]), sizeof(name) - 1);
			memcpy(name, c->argv[i], nl);
			name[nl] = 0;
			snprintf(val, sizeof(val), "%lld", v);
			shell_setvar(c->sh, name, val, false);
			continue;
		}
		if (shell_arith(c->sh, c->argv[i], &v, err, sizeof(err))) {
			shell_shell_err(c->sh, c->f->fd[2], "let: %s", err);
			return 1;
		}
	}
	return v ? 0 : 1;
}

static int cmd_help(struct cmd *c)
{
	shell_outs(c, "\nBuilt-in commands:\n------------------\n"
		      "\t. : [ [[ alias bg break cd chdir command continue echo eval exec\n"
		      "\texit export false fg getopts hash help history jobs kill let\n"
		      "\tlocal printf pwd read readonly return set shift source test times\n"
		      "\ttrap true type ulimit umask unalias unset wait\n\n");
	return 0;
}

/* history: the lines typed, numbered from 0 as ash's line editing shows them. */
static int cmd_history(struct cmd *c)
{
	for (size_t i = 0; i < c->sh->nhist; i++)
		shell_printf(c, "%4zu %s\n", i, c->sh->hist[i]);
	return 0;
}

static int cmd_nothing(struct cmd *c)
{
	return 0;
}

const char *shell_basename_of_cmd(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static const struct sh_command builtins[] = {
	{.name = ".", .fn = cmd_dot, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = ":", .fn = cmd_true, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "[", .fn = shell_cmd_test, .flags = CMD_BUILTIN},
	{.name = "[[", .fn = shell_cmd_test, .flags = CMD_BUILTIN},
	{.name = "alias", .fn = cmd_nothing, .flags = CMD_BUILTIN},
	{.name = "bg", .fn = cmd_nothing, .flags = CMD_BUILTIN},
	{.name = "break", .fn = cmd_loopctl, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "cd", .fn = cmd_cd, .flags = CMD_BUILTIN | CMD_STATE},
	{.name = "chdir", .fn = cmd_cd, .flags = CMD_BUILTIN | CMD_STATE},
	{.name = "command", .fn = cmd_command, .flags = CMD_BUILTIN},
	{.name = "continue", .fn = cmd_loopctl, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "echo", .fn = shell_cmd_echo, .flags = CMD_BUILTIN},
	{.name = "eval", .fn = cmd_eval, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "exec", .fn = cmd_exec, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "exit", .fn = cmd_exit, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "export", .fn = cmd_export, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "false", .fn = cmd_false, .flags = CMD_BUILTIN},
	{.name = "fg", .fn = cmd_nothing, .flags = CMD_BUILTIN},
	{.name = "hash", .fn = cmd_nothing, .flags = CMD_BUILTIN},
	{.name = "help", .fn = cmd_help, .flags = CMD_BUILTIN},
	{.name = "history", .fn = cmd_history, .flags = CMD_BUILTIN},
	{.name = "jobs", .fn = cmd_nothing, .flags = CMD_BUILTIN},
	{.name = "kill", .fn = cmd_kill, .flags = CMD_BUILTIN},
	{.name = "let", .fn = cmd_let, .flags = CMD_BUILTIN},
	{.name = "local", .fn = cmd_local, .flags = CMD_BUILTIN},
	{.name = "logout", .fn = cmd_logout, .flags = CMD_BUILTIN},
	{.name = "printf", .fn = shell_cmd_printf, .flags = CMD_BUILTIN},
	{.name = "pwd", .fn = cmd_pwd, .flags = CMD_BUILTIN},
	{.name = "read", .fn = cmd_read, .flags = CMD_BUILTIN | CMD_STATE},
	{.name = "readonly", .fn = cmd_readonly, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "return", .fn = cmd_return, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "set", .fn = cmd_set, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "shift", .fn = cmd_shift, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "source", .fn = cmd_dot, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "test", .fn = shell_cmd_test, .flags = CMD_BUILTIN},
	{.name = "times", .fn = cmd_times, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "trap", .fn = cmd_nothing, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "true", .fn = cmd_true, .flags = CMD_BUILTIN},
	{.name = "type", .fn = cmd_type, .flags = CMD_BUILTIN},
	{.name = "ulimit", .fn = cmd_ulimit, .flags = CMD_BUILTIN},
	{.name = "umask", .fn = cmd_umask, .flags = CMD_BUILTIN},
	{.name = "unalias", .fn = cmd_nothing, .flags = CMD_BUILTIN},
	{.name = "unset", .fn = cmd_unset, .flags = CMD_BUILTIN | CMD_SPECIAL},
	{.name = "wait", .fn = cmd_nothing, .flags = CMD_BUILTIN},
};

const struct sh_command *shell_find_builtin(const char *name)
{
	size_t lo = 0, hi = LIB_ARRAY_LEN(builtins);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(builtins[mid].name, name);
		if (c == 0)
			return &builtins[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
