/* shell/expand: word expansion as ash does it: tilde, parameters ($x ${x} ${x:-w} ${#x}
 * ${x#p} ${x%p} ...), command substitution (outputs computed beforehand by the executor, found
 * again here by their position in the AST text), arithmetic $((...)), field splitting on IFS,
 * pathname expansion over the session's vfs, and quote removal. Pattern matching for case,
 * globs and ${x#p} lives here too. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ pattern matching */

static const char *class_end(const char *p)
{
	/* p points after '['; returns the ']' that closes the class, or NULL. */
	const char *q = p;
	if (*q == '!' || *q == '^')
		q++;
	if (*q == ']')
		q++;
	for (; *q; q++) {
		if (*q == '\\' && q[1])
			q++;
		else if (*q == ']')
			return q;
	}
	return NULL;
}

static bool class_match(const char *p, const char *end, unsigned char c)
{
	bool neg = false;
	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	bool ok = false;
	bool first = true;
	while (p < end) {
		unsigned char lo = (unsigned char)*p;
		if (lo == ']' && !first)
			break;
		first = false;
		if (lo == '\\' && p + 1 < end)
			lo = (unsigned char)*++p;
		p++;
		if (*p == '-' && p + 1 < end) {
			unsigned char hi = (unsigned char)p[1];
			if (hi == '\\' && p + 2 < end)
				hi = (unsigned char)p[2], p++;
			p += 2;
			if (c >= lo && c <= hi)
				ok = true;
		} else if (c == lo) {
			ok = true;
		}
	}
	return ok != neg;
}

bool shell_pmatch(const char *pat, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;
	for (;;) {
		char pc = *pat;
		if (pc == '*') {
			while (*pat == '*')
				pat++;
			if (!*pat)
				return true;
			star_p = pat;
			star_s = s;
			continue;
		}
		if (!*s) {
			if (!pc)
				return true;
			goto backtrack;
		}
		if (pc == '?') {
			pat++;
			s++;
			continue;
		}
		if (pc == '[') {
			const char *e = class_end(pat + 1);
			if (e) {
				if (class_match(pat + 1, e, (unsigned char)*s)) {
					pat = e + 1;
					s++;
					continue;
				}
				goto backtrack;
			}
		}
		if (pc == '\\' && pat[1])
			pc = *++pat;
		if (pc && pc == *s) {
			pat++;
			s++;
			continue;
		}
	backtrack:
		if (!star_p || !*star_s)
			return false;
		pat = star_p;
		s = ++star_s;
	}
}

static bool has_glob(const char *pat)
{
	for (const char *p = pat; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '*' || *p == '?')
			return true;
		if (*p == '[' && class_end(p + 1))
			return true;
	}
	return false;
}

static char *unescape(const char *p, size_t n)
{
	char *o = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n)
			i++;
		o[k++] = p[i];
	}
	o[k] = 0;
	return o;
}

/* ------------------------------------------------------------------ globbing */

struct globres {
	char **v;
	size_t n, cap;
};

static void glob_add(struct globres *g, const char *s)
{
	if (g->n >= SH_GLOB_MAX)
		return;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 8;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	g->v[g->n++] = xstrdup(s);
}

/* prefix: the text of the result so far (as written); dir: its absolute folder. */
static void glob_walk(struct shell *sh, const char *pat, const char *prefix, const char *dir,
		      struct globres *g, int depth)
{
	if (depth > 32 || g->n >= SH_GLOB_MAX)
		return;
	while (*pat == '/')
		pat++;
	const char *sl = pat;
	while (*sl && *sl != '/') {
		if (*sl == '\\' && sl[1])
			sl++;
		sl++;
	}
	size_t cl = (size_t)(sl - pat);
	char *comp = xstrndup(pat, cl);
	const char *restp = sl;
	bool more = *restp != 0;
	if (!has_glob(comp)) {
		char *lit = unescape(comp, cl);
		char np[SH_PATH_MAX], nd[SH_PATH_MAX];
		int e1 = snprintf(np, sizeof(np), "%s%s%s", prefix,
				  (*prefix && prefix[strlen(prefix) - 1] != '/') ? "/" : "", lit);
		if (e1 > 0 && (size_t)e1 < sizeof(np) && shell_vfs_join(dir, lit, nd) == 0) {
			struct vstat st;
			if (shell_vfs_lookup(&sh->vfs, nd, &st) == 0) {
				if (!more)
					glob_add(g, np);
				else {
					char ab[SH_PATH_MAX];
					bool pok;
					if (shell_vfs_resolve(&sh->vfs, "/", nd, true, ab, &st,
							      &pok) == 0 &&
					    st.kind == VN_DIR)
						glob_walk(sh, restp, np, ab, g, depth + 1);
				}
			}
		}
		free(lit);
		free(comp);
		return;
	}
	char **names;
	long n = shell_vfs_list(&sh->vfs, dir, &names);
	if (n < 0) {
		free(comp);
		return;
	}
	bool dot = comp[0] == '.' || (comp[0] == '\\' && comp[1] == '.');
	for (long i = 0; i < n; i++) {
		if (names[i][0] == '.' && !dot)
			continue;
		if (!shell_pmatch(comp, names[i]))
			continue;
		char np[SH_PATH_MAX], nd[SH_PATH_MAX];
		int e1 = snprintf(np, sizeof(np), "%s%s%s", prefix,
				  (*prefix && prefix[strlen(prefix) - 1] != '/') ? "/" : "",
				  names[i]);
		if (e1 < 0 || (size_t)e1 >= sizeof(np) || shell_vfs_join(dir, names[i], nd))
			continue;
		if (!more) {
			glob_add(g, np);
			continue;
		}
		struct vstat st;
		char ab[SH_PATH_MAX];
		bool pok;
		if (shell_vfs_resolve(&sh->vfs, "/", nd, true, ab, &st, &pok) == 0 &&
		    st.kind == VN_DIR)
			glob_walk(sh, restp, np, ab, g, depth + 1);
	}
	shell_vfs_names_free(names, (size_t)n);
	free(comp);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* s[i] is '"': the offset of its closing quote (or len), skipping escapes and substitutions. */
static size_t dq_end(const char *s, size_t len, size_t i)
{
	size_t j = i + 1;
	while (j < len && s[j] != '"') {
		if (s[j] == '\\' && j + 1 < len) {
			j += 2;
			continue;
		}
		if (s[j] == '`' ||
		    (s[j] == '$' && j + 1 < len && (s[j + 1] == '(' || s[j + 1] == '{'))) {
			size_t e = shell_skip_subst(s, len, j);
			j = e ? e : len;
			continue;
		}
		j++;
	}
	return j;
}

/* ------------------------------------------------------------------ marked text */

enum { XF_Q = 1, XF_X = 2, XF_BREAK = 4, XF_MARK = 8 };

struct xb {
	char *c;
	uint8_t *f;
	size_t n, cap;
	bool overflow;
	bool quoted_part; /* something quoted was seen: the word yields a field even if empty */
};

static void xb_add(struct xb *x, const char *s, size_t n, uint8_t flag)
{
	if (!n)
		return;
	if (x->n + n > SH_WORD_MAX) {
		x->overflow = true;
		n = x->n < SH_WORD_MAX ? SH_WORD_MAX - x->n : 0;
	}
	if (x->n + n > x->cap) {
		size_t cap = x->cap ? x->cap : 64;
		while (cap < x->n + n)
			cap *= 2;
		x->c = xrealloc(x->c, cap);
		x->f = xrealloc(x->f, cap);
		x->cap = cap;
	}
	memcpy(x->c + x->n, s, n);
	memset(x->f + x->n, flag, n);
	x->n += n;
}

static void xb_break(struct xb *x)
{
	char z = 0;
	xb_add(x, &z, 1, XF_BREAK);
}

/* Marks a quoted part: the word yields a field even if the part is empty. */
static void xb_mark(struct xb *x)
{
	char z = 0;
	xb_add(x, &z, 1, XF_MARK | XF_Q);
	x->quoted_part = true;
}

static void xb_free(struct xb *x)
{
	free(x->c);
	free(x->f);
}

/* The text of marked bytes as one string (field breaks as spaces); frees the marked text. */
static char *xb_string(struct xb *b)
{
	char *r = xmalloc(b->n + 1);
	size_t k = 0;
	for (size_t i = 0; i < b->n; i++)
		if (!(b->f[i] & XF_MARK))
			r[k++] = (b->f[i] & XF_BREAK) ? ' ' : b->c[i];
	r[k] = 0;
	xb_free(b);
	return r;
}

struct xctx {
	struct shell *sh;
	struct fobj *err;
	const struct subst_set *ss;
	int flags;
	int error;
};

static void expand_into(struct xctx *x, const char *s, size_t len, bool dq, struct xb *out);

static const char *subst_result(const struct subst_set *ss, const char *key)
{
	if (!ss)
		return "";
	for (size_t i = 0; i < ss->n; i++)
		if (ss->key[i] == key)
			return ss->out[i] ? ss->out[i] : "";
	return "";
}

static char *int_str(long long v)
{
	char b[32];
	snprintf(b, sizeof(b), "%lld", v);
	return xstrdup(b);
}

/* A special or ordinary parameter's value, or NULL if unset. *alloc is set when the caller
 * must free it. */
static const char *param_value(struct xctx *x, const char *name, size_t n, char **alloc)
{
	struct shell *sh = x->sh;
	struct level *l = sh->lvl;
	*alloc = NULL;
	if (n == 1) {
		switch (name[0]) {
		case '?': return *alloc = int_str(sh->status);
		case '$': return *alloc = int_str(shell_shell_pid(sh));
		case '#': return *alloc = int_str((long long)l->npos);
		case '!': return l->last_bg_pid ? (*alloc = int_str(l->last_bg_pid)) : "";
		case '-': return l->interactive ? "i" : "";
		case '0': return l->arg0;
		default: break;
		}
	}
	if (name[0] >= '0' && name[0] <= '9') {
		size_t k = 0;
		for (size_t i = 0; i < n && k < 100000; i++)
			k = k * 10 + (size_t)(name[i] - '0');
		if (k == 0)
			return l->arg0;
		return k <= l->npos ? l->pos[k - 1] : NULL;
	}
	char nb[256];
	if (n >= sizeof(nb))
		return NULL;
	memcpy(nb, name, n);
	nb[n] = 0;
	return shell_getvar(sh, nb);
}

/* Appends a value: quoted (no splitting) or as the result of an unquoted expansion. */
static void add_value(struct xb *out, const char *v, bool dq)
{
	if (!v)
		return;
	if (dq)
		xb_mark(out);
	xb_add(out, v, strlen(v), dq ? XF_Q : XF_X);
}

/* "$@" and friends. */
static void add_positional(struct xctx *x, struct xb *out, bool dq, bool star)
{
	struct level *l = x->sh->lvl;
	if (dq && star)
		xb_mark(out);
	for (size_t i = 0; i < l->npos; i++) {
		if (i) {
			if (star && dq) {
				const char *ifs = shell_getvar(x->sh, "IFS");
				char sep = ifs ? ifs[0] : ' ';
				if (sep)
					xb_add(out, &sep, 1, XF_Q);
			} else {
				xb_break(out);
			}
		}
		if (dq)
			xb_mark(out);
		xb_add(out, l->pos[i], strlen(l->pos[i]), dq ? XF_Q : XF_X);
	}
}

/* Expands a sub-word (the `word` of ${x:-word}) to a plain string. */
static char *expand_sub(struct xctx *x, const char *s, size_t len, bool dq)
{
	struct xb b = {0};
	expand_into(x, s, len, dq, &b);
	return xb_string(&b);
}

/* The sub-word as a pattern: quoted characters escaped for shell_pmatch. */
static char *expand_pattern(struct xctx *x, const char *s, size_t len, bool dq)
{
	struct xb b = {0};
	expand_into(x, s, len, dq, &b);
	char *r = xmalloc(b.n * 2 + 1);
	size_t k = 0;
	for (size_t i = 0; i < b.n; i++) {
		if (b.f[i] & (XF_BREAK | XF_MARK))
			continue;
		char c = b.c[i];
		if ((b.f[i] & XF_Q) && strchr("*?[]\\", c))
			r[k++] = '\\';
		r[k++] = c;
	}
	r[k] = 0;
	xb_free(&b);
	return r;
}

static void bad_subst(struct xctx *x)
{
	if (!x->error)
		shell_shell_err(x->sh, x->err, "syntax error: bad substitution");
	x->error = -1;
}

/* s[0..len) is the inside of ${...}. */
/* ${name=word}, name unset: assigns the expansion of word, then expands to it. */
static void brace_assign(struct xctx *x, const char *name, size_t nl, const char *w, size_t wl,
			 bool dq, struct xb *out)
{
	char *nv = expand_sub(x, w, wl, dq);
	char nb[256];
	if (nl < sizeof(nb) && shell_valid_name(name, nl)) {
		memcpy(nb, name, nl);
		nb[nl] = 0;
		shell_setvar(x->sh, nb, nv, false);
		add_value(out, nv, dq);
	} else {
		if (!x->error)
			shell_shell_err(x->sh, x->err, "%.*s: bad variable name", (int)nl, name);
		x->error = -1;
	}
	free(nv);
}

/* ${v#pat} ${v##pat} ${v%pat} ${v%%pat}: w is what follows the first operator character. */
static void brace_strip(struct xctx *x, char op, const char *v, const char *w, size_t wl, bool dq,
			struct xb *out)
{
	bool longest = wl && w[0] == op;
	if (longest) {
		w++;
		wl--;
	}
	char *pat = expand_pattern(x, w, wl, dq);
	const char *val = v ? v : "";
	size_t vl = strlen(val);
	char *tmp = xmalloc(vl + 1);
	size_t keep_from = 0, keep_to = vl;
	if (op == '#') {
		/* shortest/longest prefix */
		for (size_t k = 0; k <= vl; k++) {
			size_t cut = longest ? vl - k : k;
			memcpy(tmp, val, cut);
			tmp[cut] = 0;
			if (shell_pmatch(pat, tmp)) {
				keep_from = cut;
				break;
			}
		}
	} else {
		for (size_t k = 0; k <= vl; k++) {
			size_t start = longest ? k : vl - k;
			if (shell_pmatch(pat, val + start)) {
				keep_to = start;
				break;
			}
		}
	}
	free(tmp);
	char *r = xstrndup(val + keep_from, keep_to > keep_from ? keep_to - keep_from : 0);
	add_value(out, r, dq);
	free(r);
	free(pat);
}

/* ${v:off[:len]} */
static void brace_substr(struct xctx *x, const char *v, const char *w, size_t wl, bool dq,
			 struct xb *out)
{
	/* ${x:off[:len]} (ash's bash compatibility) */
	char *spec = expand_sub(x, w, wl, false);
	char *c2 = strchr(spec, ':');
	if (c2)
		*c2++ = 0;
	long long off = 0, ln = -1;
	char eb[64];
	if (shell_arith(x->sh, spec, &off, eb, sizeof(eb)) ||
	    (c2 && shell_arith(x->sh, c2, &ln, eb, sizeof(eb)))) {
		free(spec);
		bad_subst(x);
		return;
	}
	free(spec);
	const char *val = v ? v : "";
	long long vl = (long long)strlen(val);
	if (off < 0)
		off = vl + off < 0 ? 0 : vl + off;
	if (off > vl)
		off = vl;
	if (ln < 0 || off + ln > vl)
		ln = vl - off;
	char *r = xstrndup(val + off, (size_t)ln);
	add_value(out, r, dq);
	free(r);
}

/* ${v/pat/rep} ${v//pat/rep} */
static void brace_replace(struct xctx *x, const char *v, const char *w, size_t wl, bool dq,
			  struct xb *out)
{
	/* ${x/pat/rep} ${x//pat/rep} */
	bool all = wl && w[0] == '/';
	if (all) {
		w++;
		wl--;
	}
	size_t k = 0;
	while (k < wl && w[k] != '/') {
		if (w[k] == '\\')
			k++;
		k++;
	}
	if (k > wl)
		k = wl;
	char *pat = expand_pattern(x, w, k, dq);
	char *rep = k < wl ? expand_sub(x, w + k + 1, wl - k - 1, dq) : xstrdup("");
	const char *val = v ? v : "";
	struct buf r;
	buf_init(&r, SH_WORD_MAX);
	size_t vl = strlen(val), p0 = 0;
	char *tmp = xmalloc(vl + 1);
	bool done = false;
	while (p0 <= vl && !done) {
		size_t best = 0;
		bool hit = false;
		for (size_t e = vl; e > p0 && *pat; e--) {
			memcpy(tmp, val + p0, e - p0);
			tmp[e - p0] = 0;
			if (shell_pmatch(pat, tmp)) {
				best = e;
				hit = true;
				break;
			}
		}
		if (hit) {
			buf_append_str(&r, rep);
			p0 = best;
			if (!all)
				done = true;
		} else {
			if (p0 < vl)
				buf_append(&r, val + p0, 1);
			p0++;
		}
	}
	if (done && p0 < vl)
		buf_append(&r, val + p0, vl - p0);
	add_value(out, r.data ? (char *)r.data : "", dq);
	buf_free(&r);
	free(tmp);
	free(pat);
	free(rep);
}

/* The parameter name of ${...} at the start of s: sets *ns (its start, after a '#' of ${#x})
 * and *end (just past it); false after "bad substitution". */
static bool brace_name(struct xctx *x, const char *s, size_t len, bool *count, size_t *ns,
		       size_t *end)
{
	size_t i = 0;
	*count = false;
	if (len > 1 && s[0] == '#') {
		*count = true;
		i = 1;
	}
	*ns = i;
	if (i < len && (s[i] == '_' || isalpha((unsigned char)s[i]))) {
		while (i < len && (s[i] == '_' || isalnum((unsigned char)s[i])))
			i++;
	} else if (i < len && isdigit((unsigned char)s[i])) {
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	} else if (i < len && strchr("?$#!-@*0", s[i])) {
		i++;
	} else if (*count && len == 1) {
		*ns = 0;
		i = 1;
		*count = false;
	} else {
		bad_subst(x);
		return false;
	}
	*end = i;
	return true;
}

/* ${#name}: the length of the value (or the number of positional parameters). */
static void brace_length(struct xctx *x, const char *name, size_t nl, bool at, bool dq,
			 struct xb *out)
{
	char *alloc;
	long long c;
	if (at) {
		c = (long long)x->sh->lvl->npos;
	} else {
		const char *v = param_value(x, name, nl, &alloc);
		c = v ? (long long)strlen(v) : 0;
		free(alloc);
	}
	char b[32];
	snprintf(b, sizeof(b), "%lld", c);
	add_value(out, b, dq);
}

static void expand_brace(struct xctx *x, const char *s, size_t len, bool dq, struct xb *out)
{
	bool count;
	size_t ns, i;
	if (!brace_name(x, s, len, &count, &ns, &i))
		return;
	size_t nl = i - ns;
	const char *name = s + ns;
	bool at = nl == 1 && (name[0] == '@' || name[0] == '*');
	if (count) {
		if (i != len)
			bad_subst(x);
		else
			brace_length(x, name, nl, at, dq, out);
		return;
	}
	if (i == len) {
		if (at) {
			add_positional(x, out, dq, name[0] == '*');
			return;
		}
		char *alloc;
		add_value(out, param_value(x, name, nl, &alloc), dq);
		free(alloc);
		return;
	}
	/* operators */
	bool colon = false;
	char op = s[i];
	if (op == ':' && i + 1 < len && strchr("-=?+", s[i + 1])) {
		colon = true;
		op = s[++i];
	}
	const char *w = s + i + 1;
	size_t wl = len - i - 1;
	char *alloc;
	const char *v = at ? (x->sh->lvl->npos ? "" : NULL) : param_value(x, name, nl, &alloc);
	if (at)
		alloc = NULL;
	bool set = v != NULL && (!colon || *v);
	switch (op) {
	case '-':
		if (set) {
			if (at)
				add_positional(x, out, dq, name[0] == '*');
			else
				add_value(out, v, dq);
		} else {
			if (dq)
				xb_mark(out);
			expand_into(x, w, wl, dq, out);
		}
		break;
	case '+':
		if (set) {
			if (dq)
				xb_mark(out);
			expand_into(x, w, wl, dq, out);
		}
		break;
	case '=':
		if (set) {
			add_value(out, v, dq);
		} else {
			brace_assign(x, name, nl, w, wl, dq, out);
		}
		break;
	case '?':
		if (set) {
			add_value(out, v, dq);
		} else {
			char *msg = expand_sub(x, w, wl, dq);
			if (!x->error)
				shell_shell_err(x->sh, x->err, "%.*s: %s", (int)nl, name,
						*msg ? msg : "parameter not set");
			x->error = -1;
			free(msg);
		}
		break;
	case '#':
	case '%': {
		brace_strip(x, op, v, w, wl, dq, out);
		break;
	}
	case ':': {
		brace_substr(x, v, w, wl, dq, out);
		break;
	}
	case '/': {
		brace_replace(x, v, w, wl, dq, out);
		break;
	}
	default: bad_subst(x); break;
	}
	free(alloc);
}

/* Tilde prefix at s[i] (unquoted '~'): returns the length consumed, 0 if not a tilde prefix. */
static size_t tilde(struct xctx *x, const char *s, size_t len, size_t i, struct xb *out)
{
	size_t j = i + 1;
	while (j < len && s[j] != '/' && !((x->flags & EX_ASSIGN) && s[j] == ':')) {
		if (s[j] == '\'' || s[j] == '"' || s[j] == '\\' || s[j] == '$' || s[j] == '`')
			return 0;
		j++;
	}
	const char *home = NULL;
	if (j == i + 1) {
		home = shell_getvar(x->sh, "HOME");
	} else {
		const struct profile *p = x->sh->prof;
		if (p && p->user && strlen(p->user) == j - i - 1 &&
		    memcmp(p->user, s + i + 1, j - i - 1) == 0)
			home = p->home;
		else if (j - i - 1 == 4 && memcmp(s + i + 1, "root", 4) == 0)
			home = "/root";
	}
	if (!home)
		return 0;
	xb_add(out, home, strlen(home), XF_Q);
	return j - i;
}

static void expand_subst_text(struct xctx *x, const char *key, bool dq, struct xb *out)
{
	const char *r = subst_result(x->ss, key);
	add_value(out, r, dq);
}

static void expand_arith(struct xctx *x, const char *s, size_t len, bool dq, struct xb *out)
{
	char *e = expand_sub(x, s, len, true);
	long long v;
	char err[96];
	if (shell_arith(x->sh, e, &v, err, sizeof(err))) {
		if (!x->error)
			shell_shell_err(x->sh, x->err, "%s", err);
		x->error = -1;
		free(e);
		return;
	}
	free(e);
	char b[32];
	snprintf(b, sizeof(b), "%lld", v);
	add_value(out, b, dq);
}

/* A '$' at s[i]: returns the offset after the expansion. */
static size_t expand_dollar(struct xctx *x, const char *s, size_t len, size_t i, bool dq,
			    struct xb *out)
{
	if (i + 1 >= len) {
		xb_add(out, "$", 1, dq ? XF_Q : 0);
		return i + 1;
	}
	char c = s[i + 1];
	if (c == '(' || c == '{') {
		size_t e = shell_skip_subst(s, len, i);
		if (!e) {
			bad_subst(x);
			return len;
		}
		if (c == '{')
			expand_brace(x, s + i + 2, e - i - 3, dq, out);
		else if (i + 2 < len && s[i + 2] == '(' && e >= i + 5 && s[e - 2] == ')')
			expand_arith(x, s + i + 3, e - i - 5, dq, out);
		else
			expand_subst_text(x, s + i, dq, out);
		return e;
	}
	if (c == '_' || isalpha((unsigned char)c)) {
		size_t j = i + 1;
		while (j < len && (s[j] == '_' || isalnum((unsigned char)s[j])))
			j++;
		char *alloc;
		add_value(out, param_value(x, s + i + 1, j - i - 1, &alloc), dq);
		free(alloc);
		return j;
	}
	if (c == '@' || c == '*') {
		add_positional(x, out, dq, c == '*');
		return i + 2;
	}
	if (isdigit((unsigned char)c) || strchr("?$#!-", c)) {
		char *alloc;
		add_value(out, param_value(x, s + i + 1, 1, &alloc), dq);
		free(alloc);
		return i + 2;
	}
	if (c == '\'' && !dq && !(x->flags & EX_HEREDOC)) {
		/* $'...' with C escapes (ash's bash compatibility) */
		size_t j = i + 2;
		while (j < len && s[j] != '\'') {
			if (s[j] == '\\' && j + 1 < len)
				j++;
			j++;
		}
		size_t inl = (j < len ? j : len) - (i + 2);
		uint8_t *dec = xmalloc(inl + 1);
		bool stop;
		size_t dn = shell_echo_unescape(s + i + 2, inl, dec, inl + 1, &stop);
		xb_mark(out);
		xb_add(out, (const char *)dec, dn, XF_Q);
		free(dec);
		return j < len ? j + 1 : len;
	}
	xb_add(out, "$", 1, dq ? XF_Q : 0);
	return i + 1;
}

static void expand_into(struct xctx *x, const char *s, size_t len, bool dq, struct xb *out)
{
	bool heredoc = (x->flags & EX_HEREDOC) != 0;
	size_t i = 0;
	bool wstart = true;
	while (i < len && !out->overflow) {
		char c = s[i];
		if (!dq && !heredoc && c == '~' &&
		    (wstart ||
		     ((x->flags & EX_ASSIGN) && i && (s[i - 1] == '=' || s[i - 1] == ':')))) {
			size_t n = tilde(x, s, len, i, out);
			if (n) {
				i += n;
				wstart = false;
				continue;
			}
		}
		wstart = false;
		if (c == '\\') {
			if (i + 1 >= len) {
				xb_add(out, "\\", 1, XF_Q);
				i++;
				continue;
			}
			char n = s[i + 1];
			if (dq || heredoc) {
				/* In double quotes (and here-documents) a backslash escapes only $
				 * ` " \ and newline; elsewhere it stays. */
				if (n == '$' || n == '`' || n == '\\' || (n == '"' && !heredoc)) {
					xb_add(out, &n, 1, XF_Q);
				} else if (n == '\n') {
					/* continuation */
				} else {
					xb_add(out, s + i, 2, XF_Q);
				}
			} else {
				xb_add(out, &n, 1, XF_Q);
			}
			i += 2;
			continue;
		}
		if (c == '\'' && !dq && !heredoc) {
			const char *e = memchr(s + i + 1, '\'', len - i - 1);
			size_t end = e ? (size_t)(e - s) : len;
			xb_mark(out);
			xb_add(out, s + i + 1, end - i - 1, XF_Q);
			i = end + 1;
			continue;
		}
		if (c == '"' && !heredoc) {
			if (dq)
				return; /* end of the enclosing quoted part (caller handles) */
			size_t j = dq_end(s, len, i);
			xb_mark(out);
			expand_into(x, s + i + 1, (j < len ? j : len) - i - 1, true, out);
			i = j + 1;
			continue;
		}
		if (c == '$') {
			i = expand_dollar(x, s, len, i, dq || false, out);
			continue;
		}
		if (c == '`') {
			size_t e = shell_skip_subst(s, len, i);
			expand_subst_text(x, s + i, dq, out);
			i = e ? e : len;
			continue;
		}
		xb_add(out, &c, 1, (dq || heredoc) ? XF_Q : 0);
		i++;
	}
}

/* ------------------------------------------------------------------ fields */

static void push_field(char ***argv, size_t *argc, size_t *cap, char *s)
{
	if (*argc + 1 >= *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*argv = xrealloc(*argv, *cap * sizeof(**argv));
	}
	(*argv)[(*argc)++] = s;
	(*argv)[*argc] = NULL;
}

/* One field of marked text: glob it (if asked and it has unquoted glob characters) or take
 * it literally. */
static void finish_field(struct shell *sh, const struct xb *b, size_t from, size_t to, int flags,
			 char ***argv, size_t *argc, size_t *cap)
{
	bool glob = false;
	if (flags & EX_GLOB)
		for (size_t i = from; i < to; i++)
			if (!(b->f[i] & XF_Q) &&
			    (b->c[i] == '*' || b->c[i] == '?' || b->c[i] == '['))
				glob = true;
	char *lit = xmalloc(to - from + 1);
	size_t ln = 0;
	for (size_t i = from; i < to; i++)
		if (!(b->f[i] & XF_MARK))
			lit[ln++] = b->c[i];
	lit[ln] = 0;
	if (glob) {
		char *pat = xmalloc((to - from) * 2 + 1);
		size_t k = 0;
		for (size_t i = from; i < to; i++) {
			char c = b->c[i];
			if (b->f[i] & XF_MARK)
				continue;
			if ((b->f[i] & XF_Q) && strchr("*?[]\\", c))
				pat[k++] = '\\';
			else if (!(b->f[i] & XF_Q) && c == '\\')
				pat[k++] = '\\';
			pat[k++] = c;
		}
		pat[k] = 0;
		if (has_glob(pat)) {
			struct globres g = {0};
			const char *cwd = sh->lvl->cwd;
			if (pat[0] == '/')
				glob_walk(sh, pat, "/", "/", &g, 0);
			else
				glob_walk(sh, pat, "", cwd, &g, 0);
			if (g.n) {
				qsort(g.v, g.n, sizeof(*g.v), str_cmp);
				for (size_t i = 0; i < g.n && *argc < SH_ARGS_MAX; i++)
					push_field(argv, argc, cap, g.v[i]);
				for (size_t i = 0; i < g.n; i++)
					if (i >= SH_ARGS_MAX)
						free(g.v[i]);
				free(g.v);
				free(pat);
				free(lit);
				return;
			}
			free(g.v);
		}
		free(pat);
	}
	if (*argc < SH_ARGS_MAX)
		push_field(argv, argc, cap, lit);
	else
		free(lit);
}

int shell_expand(struct shell *sh, struct fobj *err, const struct word *w, int flags,
		 const struct subst_set *ss, char ***argv, size_t *argc, size_t *cap)
{
	struct xctx x = {.sh = sh, .err = err, .ss = ss, .flags = flags};
	struct xb b = {0};
	expand_into(&x, w->text, w->len, false, &b);
	if (x.error) {
		xb_free(&b);
		return x.error;
	}
	if (!(flags & EX_SPLIT)) {
		finish_field(sh, &b, 0, b.n, flags, argv, argc, cap);
		xb_free(&b);
		return 0;
	}
	const char *ifs = shell_getvar(sh, "IFS");
	if (!ifs)
		ifs = " \t\n";
	/* POSIX field splitting: IFS white space from expansions separates (and is trimmed);
	 * each other IFS character from an expansion ends a field, possibly an empty one. */
	enum { D_NONWS, D_WS } last = D_NONWS;
	bool have = false;
	size_t start = 0;
	for (size_t i = 0; i < b.n; i++) {
		uint8_t f = b.f[i];
		char c = b.c[i];
		if (f & XF_BREAK) {
			if (have)
				finish_field(sh, &b, start, i, flags, argv, argc, cap);
			have = false;
			last = D_NONWS;
			start = i + 1;
			continue;
		}
		if ((f & XF_X) && c && strchr(ifs, c)) {
			bool ws = c == ' ' || c == '\t' || c == '\n';
			if (have) {
				finish_field(sh, &b, start, i, flags, argv, argc, cap);
				have = false;
				last = ws ? D_WS : D_NONWS;
			} else if (!ws) {
				if (last == D_NONWS)
					finish_field(sh, &b, start, i, flags, argv, argc, cap);
				last = D_NONWS;
			}
			start = i + 1;
			if (!ws)
				last = D_NONWS;
			continue;
		}
		if (!have)
			start = i;
		have = true;
	}
	if (have)
		finish_field(sh, &b, start, b.n, flags, argv, argc, cap);
	xb_free(&b);
	return 0;
}

char *shell_expand_one(struct shell *sh, struct fobj *err, const struct word *w, int flags,
		       const struct subst_set *ss)
{
	struct xctx x = {.sh = sh, .err = err, .ss = ss, .flags = flags};
	if (flags & EX_PATTERN) {
		char *r = expand_pattern(&x, w->text, w->len, false);
		if (x.error) {
			free(r);
			return NULL;
		}
		return r;
	}
	struct xb b = {0};
	expand_into(&x, w->text, w->len, false, &b);
	if (x.error) {
		xb_free(&b);
		return NULL;
	}
	return xb_string(&b);
}

/* ------------------------------------------------------------------ substitutions */

static void find_in(const char *s, size_t len, bool dq, struct subst_set *ss)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\\') {
			i++;
			continue;
		}
		if (c == '\'' && !dq) {
			const char *e = memchr(s + i + 1, '\'', len - i - 1);
			if (!e)
				return;
			i = (size_t)(e - s);
			continue;
		}
		if (c == '"' && !dq) {
			size_t j = dq_end(s, len, i);
			find_in(s + i + 1, (j < len ? j : len) - i - 1, true, ss);
			i = j;
			continue;
		}
		if (c == '`' || (c == '$' && i + 1 < len && s[i + 1] == '(')) {
			size_t e = shell_skip_subst(s, len, i);
			if (!e)
				return;
			bool arith = c == '$' && i + 2 < len && s[i + 2] == '(' && e >= i + 5 &&
				     s[e - 2] == ')';
			if (arith) {
				find_in(s + i + 3, e - i - 5, true, ss);
			} else if (ss->n < SH_SUBSTS_MAX) {
				ss->key[ss->n] = s + i;
				ss->out[ss->n] = NULL;
				ss->n++;
			} else {
				ss->overflow = true;
			}
			i = e - 1;
			continue;
		}
		if (c == '$' && i + 1 < len && s[i + 1] == '{') {
			size_t e = shell_skip_subst(s, len, i);
			if (!e)
				return;
			find_in(s + i + 2, e - i - 3, dq, ss);
			i = e - 1;
			continue;
		}
	}
}

void shell_find_substs(const char *text, size_t len, struct subst_set *ss)
{
	find_in(text, len, false, ss);
}

void shell_subst_free(struct subst_set *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		free(ss->out[i]);
	ss->n = 0;
	ss->done = 0;
}

/* ------------------------------------------------------------------ arithmetic */

struct ar {
	struct shell *sh;
	const char *p;
	char *err;
	size_t errlen;
	bool failed;
	int depth;
};

static void ar_fail(struct ar *a, const char *msg)
{
	if (!a->failed)
		snprintf(a->err, a->errlen, "%s", msg);
	a->failed = true;
}

static void ar_ws(struct ar *a)
{
	while (*a->p == ' ' || *a->p == '\t' || *a->p == '\n')
		a->p++;
}

static long long ar_expr(struct ar *a, int prec);

static long long ar_primary(struct ar *a)
{
	ar_ws(a);
	if (++a->depth > 64) {
		ar_fail(a, "arithmetic syntax error");
		return 0;
	}
	long long v = 0;
	char c = *a->p;
	if (c == '(') {
		a->p++;
		v = ar_expr(a, 0);
		ar_ws(a);
		if (*a->p != ')')
			ar_fail(a, "arithmetic syntax error");
		else
			a->p++;
	} else if (c == '-' || c == '+' || c == '!' || c == '~') {
		a->p++;
		long long o = ar_primary(a);
		v = c == '-' ? -o : c == '+' ? o : c == '!' ? !o : ~o;
	} else if (isdigit((unsigned char)c)) {
		char *e;
		v = strtoll(a->p, &e, 0);
		a->p = e;
	} else if (c == '_' || isalpha((unsigned char)c) || c == '$') {
		if (c == '$')
			a->p++;
		const char *s = a->p;
		while (*a->p == '_' || isalnum((unsigned char)*a->p))
			a->p++;
		char nb[128];
		size_t n = (size_t)(a->p - s);
		if (!n || n >= sizeof(nb)) {
			ar_fail(a, "arithmetic syntax error");
		} else {
			memcpy(nb, s, n);
			nb[n] = 0;
			const char *val = shell_getvar(a->sh, nb);
			v = val ? strtoll(val, NULL, 0) : 0;
		}
	} else {
		ar_fail(a, "arithmetic syntax error");
	}
	a->depth--;
	return v;
}

static const struct {
	const char *op;
	int prec;
} ar_ops[] = {
	{"**", 11}, {"||", 1}, {"&&", 2}, {"|", 3},  {"^", 4},  {"&", 5}, {"==", 6},
	{"!=", 6},  {"<=", 7}, {">=", 7}, {"<<", 8}, {">>", 8}, {"<", 7}, {">", 7},
	{"+", 9},   {"-", 9},  {"*", 10}, {"/", 10}, {"%", 10},
};

static long long ar_expr(struct ar *a, int minprec)
{
	long long l = ar_primary(a);
	for (;;) {
		ar_ws(a);
		if (a->failed)
			return 0;
		int idx = -1;
		for (size_t i = 0; i < LIB_ARRAY_LEN(ar_ops); i++) {
			size_t n = strlen(ar_ops[i].op);
			if (strncmp(a->p, ar_ops[i].op, n) == 0) {
				idx = (int)i;
				break;
			}
		}
		if (idx < 0 || ar_ops[idx].prec <= minprec)
			return l;
		const char *op = ar_ops[idx].op;
		a->p += strlen(op);
		long long r = ar_expr(a, ar_ops[idx].prec);
		if (a->failed)
			return 0;
		if ((op[0] == '/' || op[0] == '%') && r == 0) {
			ar_fail(a, "divide by zero");
			return 0;
		}
		if (strcmp(op, "||") == 0)
			l = l || r;
		else if (strcmp(op, "&&") == 0)
			l = l && r;
		else if (strcmp(op, "|") == 0)
			l = l | r;
		else if (strcmp(op, "^") == 0)
			l = l ^ r;
		else if (strcmp(op, "&") == 0)
			l = l & r;
		else if (strcmp(op, "==") == 0)
			l = l == r;
		else if (strcmp(op, "!=") == 0)
			l = l != r;
		else if (strcmp(op, "<=") == 0)
			l = l <= r;
		else if (strcmp(op, ">=") == 0)
			l = l >= r;
		else if (strcmp(op, "<<") == 0)
			l = (long long)((unsigned long long)l << (r & 63));
		else if (strcmp(op, ">>") == 0)
			l = l >> (r & 63);
		else if (strcmp(op, "<") == 0)
			l = l < r;
		else if (strcmp(op, ">") == 0)
			l = l > r;
		else if (strcmp(op, "+") == 0)
			l = (long long)((unsigned long long)l + (unsigned long long)r);
		else if (strcmp(op, "-") == 0)
			l = (long long)((unsigned long long)l - (unsigned long long)r);
		else if (strcmp(op, "*") == 0)
			l = (long long)((unsigned long long)l * (unsigned long long)r);
		else if (strcmp(op, "**") == 0) {
			if (r < 0) {
				ar_fail(a, "exponent less than 0");
				return 0;
			}
			unsigned long long acc = 1, b = (unsigned long long)l;
			for (long long k = 0; k < r && k < 64; k++)
				acc *= b;
			l = (long long)acc;
		} else if (strcmp(op, "/") == 0)
			l = (l == INT64_MIN && r == -1) ? l : l / r;
		else if (strcmp(op, "%") == 0)
			l = (l == INT64_MIN && r == -1) ? 0 : l % r;
	}
}

int shell_arith(struct shell *sh, const char *expr, long long *out, char *err, size_t errlen)
{
	struct ar a = {.sh = sh, .p = expr, .err = err, .errlen = errlen};
	ar_ws(&a);
	if (!*a.p) {
		*out = 0;
		return 0;
	}
	long long v = ar_expr(&a, 0);
	ar_ws(&a);
	if (!a.failed && *a.p)
		ar_fail(&a, "arithmetic syntax error");
	if (a.failed)
		return -1;
	*out = v;
	return 0;
}
