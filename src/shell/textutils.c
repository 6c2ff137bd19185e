/* shell/textutils: the text filters bots pipe through: cut, sort, uniq, tr, xargs, and the
 * parts of sed (s///, d, p, q with line and /re/ addresses, -n -e -i) and awk (patterns
 * /re/ and NR==N, print of fields, -F) that scripts use. Regular expressions are POSIX
 * BRE/ERE rewritten for PCRE2 with match limits, so no pattern can hold the loop. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ input and regexps */

/* Bytes of the operands (or stdin), concatenated; *attacker says if any came from the
 * attacker. Returns -1 after printing an error for a missing file (the rest is read). */
static int read_inputs(struct cmd *c, char **files, int nf, struct buf *out, bool *attacker)
{
	int st = 0;
	*attacker = false;
	if (nf == 0) {
		size_t n;
		bool att;
		const uint8_t *p = shell_stdin(c, &n, &att);
		buf_append(out, p, n);
		*attacker |= att;
		return 0;
	}
	for (int i = 0; i < nf; i++) {
		if (strcmp(files[i], "-") == 0) {
			size_t n;
			bool att;
			const uint8_t *p = shell_stdin(c, &n, &att);
			buf_append(out, p, n);
			*attacker |= att;
			continue;
		}
		char abs[SH_PATH_MAX];
		struct vstat s;
		bool pok;
		int rc = shell_vfs_resolve(&c->sh->vfs, c->sh->lvl->cwd, files[i], true, abs, &s,
					   &pok);
		if (rc == 0 && s.kind == VN_DIR)
			rc = -EISDIR;
		if (rc) {
			shell_err(c, "%s: %s", files[i], shell_strerror(-rc));
			st = -1;
			continue;
		}
		if (s.kind == VN_FILE) {
			buf_append(out, s.data, s.size);
			*attacker |= s.ve && s.ve->data && s.ve->data->attacker;
		}
	}
	return st;
}

/* A POSIX regular expression (basic unless `ere`) as PCRE2 syntax. */
char *shell_re_to_pcre(const char *re, bool ere)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	for (const char *p = re; *p; p++) {
		if (ere) {
			buf_append(&b, p, 1);
			continue;
		}
		if (*p == '\\' && p[1]) {
			p++;
			if (strchr("(){}|+?", *p))
				buf_append(&b, p, 1);
			else {
				buf_append(&b, "\\", 1);
				buf_append(&b, p, 1);
			}
		} else if (strchr("(){}|+?", *p)) {
			buf_append(&b, "\\", 1);
			buf_append(&b, p, 1);
		} else {
			buf_append(&b, p, 1);
		}
	}
	char *s = xstrndup(b.data ? (char *)b.data : "", b.len);
	buf_free(&b);
	return s;
}

struct rx {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

static bool rx_compile(struct rx *r, const char *re, bool ere, bool icase)
{
	char *p = shell_re_to_pcre(re, ere);
	int err;
	PCRE2_SIZE eoff;
	r->code = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, icase ? PCRE2_CASELESS : 0,
				&err, &eoff, NULL);
	free(p);
	if (!r->code)
		return false;
	r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
	r->mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(r->mc, 100000);
	pcre2_set_depth_limit(r->mc, 1000);
	return true;
}

static int rx_match(struct rx *r, const char *s, size_t n, size_t start)
{
	return pcre2_match(r->code, (PCRE2_SPTR)s, n, start, 0, r->md, r->mc);
}

static void rx_free(struct rx *r)
{
	if (r->md)
		pcre2_match_data_free(r->md);
	if (r->mc)
		pcre2_match_context_free(r->mc);
	if (r->code)
		pcre2_code_free(r->code);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ cut */

static bool in_list(const char *list, size_t k)
{
	/* "1,3-5,7-" with 1-based k */
	const char *p = list;
	while (*p) {
		char *e;
		long a = *p == '-' ? 1 : strtol(p, &e, 10);
		if (*p != '-')
			p = e;
		long b = a;
		if (*p == '-') {
			p++;
			b = isdigit((unsigned char)*p) ? strtol(p, &e, 10) : 1L << 30;
			if (isdigit((unsigned char)*p))
				p = e;
		}
		if ((long)k >= a && (long)k <= b)
			return true;
		if (*p == ',')
			p++;
		else if (*p)
			return false;
	}
	return false;
}

static bool valid_list(const char *list)
{
	if (!*list)
		return false;
	for (const char *p = list; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != ',' && *p != '-')
			return false;
	return true;
}

int shell_cmd_cut(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	const char *list = NULL;
	char mode = 0;
	char delim = '\t';
	bool suppress = false;
	while ((o = shell_getopt(c, &g, "b:c:f:d:sn")) != -1) {
		switch (o) {
		case '?': shell_getopt_done(&g); return 1;
		case 'b':
		case 'c':
		case 'f':
			mode = (char)o;
			list = g.arg;
			break;
		case 'd': delim = g.arg[0]; break;
		case 's': suppress = true; break;
		default: break;
		}
	}
	if (!mode) {
		shell_err(c, "expected a list of bytes, characters, or fields");
		shell_getopt_done(&g);
		return 1;
	}
	if (!valid_list(list)) {
		shell_err(c, "invalid byte or field list");
		shell_getopt_done(&g);
		return 1;
	}
	struct buf in, out;
	buf_init(&in, SH_PIPE_MAX * 4);
	buf_init(&out, SH_PIPE_MAX);
	bool att;
	int st = read_inputs(c, g.operands, g.noperands, &in, &att) ? 1 : 0;
	const char *d = (const char *)in.data;
	for (size_t p = 0; p < in.len;) {
		const char *nl = memchr(d + p, '\n', in.len - p);
		size_t e = nl ? (size_t)(nl - d) : in.len;
		const char *l = d + p;
		size_t ll = e - p;
		if (mode != 'f') {
			for (size_t k = 0; k < ll; k++)
				if (in_list(list, k + 1))
					buf_append(&out, l + k, 1);
			buf_append(&out, "\n", 1);
		} else if (!memchr(l, delim, ll)) {
			if (!suppress) {
				buf_append(&out, l, ll);
				buf_append(&out, "\n", 1);
			}
		} else {
			size_t f = 1, s0 = 0;
			bool first = true;
			for (size_t k = 0; k <= ll; k++) {
				if (k == ll || l[k] == delim) {
					if (in_list(list, f)) {
						if (!first)
							buf_append(&out, &delim, 1);
						buf_append(&out, l + s0, k - s0);
						first = false;
					}
					f++;
					s0 = k + 1;
				}
			}
			buf_append(&out, "\n", 1);
		}
		p = e + 1;
	}
	shell_out(c, out.data, out.len, att);
	buf_free(&in);
	buf_free(&out);
	shell_getopt_done(&g);
	return st;
}

/* ------------------------------------------------------------------ sort, uniq */

struct line {
	const char *s;
	size_t n;
};

struct sortopt {
	bool num, rev;
};

static int line_cmp(const void *a, const void *b, void *arg)
{
	const struct line *x = a, *y = b;
	const struct sortopt *so = arg;
	int r;
	if (so->num) {
		double u = strtod(x->s, NULL), v = strtod(y->s, NULL);
		r = u < v ? -1 : u > v;
	} else {
		size_t m = LIB_MIN(x->n, y->n);
		r = memcmp(x->s, y->s, m);
		if (!r)
			r = x->n < y->n ? -1 : x->n > y->n;
	}
	return so->rev ? -r : r;
}

static size_t split_lines(const struct buf *in, struct line **out)
{
	size_t n = 0, cap = 0;
	struct line *v = NULL;
	const char *d = (const char *)in->data;
	for (size_t p = 0; p < in->len;) {
		const char *nl = memchr(d + p, '\n', in->len - p);
		size_t e = nl ? (size_t)(nl - d) : in->len;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = (struct line){d + p, e - p};
		p = e + 1;
	}
	*out = v;
	return n;
}

int shell_cmd_sort(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "nrufbdit:k:o:sgMcS:T:", &g))
		return 1;
	bool uniq = shell_opt(&g, 'u');
	bool num = shell_opt(&g, 'n');
	bool rev = shell_opt(&g, 'r');
	struct buf in;
	buf_init(&in, SH_PIPE_MAX * 4);
	bool att;
	int st = read_inputs(c, g.operands, g.noperands, &in, &att) ? 2 : 0;
	struct line *v;
	size_t n = split_lines(&in, &v);
	struct sortopt so = {.num = num, .rev = rev};
	if (n)
		qsort_r(v, n, sizeof(*v), line_cmp, &so);
	struct buf out;
	buf_init(&out, SH_PIPE_MAX * 4);
	for (size_t i = 0; i < n; i++) {
		if (uniq && i && line_cmp(&v[i - 1], &v[i], &so) == 0)
			continue;
		buf_append(&out, v[i].s, v[i].n);
		buf_append(&out, "\n", 1);
	}
	shell_out(c, out.data, out.len, att);
	free(v);
	buf_free(&in);
	buf_free(&out);
	shell_opts_free(&g);
	return st;
}

int shell_cmd_uniq(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "cduf:s:iz", &g))
		return 1;
	bool count = shell_opt(&g, 'c');
	bool dup = shell_opt(&g, 'd');
	bool uniq_only = shell_opt(&g, 'u');
	struct buf in, out;
	buf_init(&in, SH_PIPE_MAX * 4);
	buf_init(&out, SH_PIPE_MAX * 4);
	bool att;
	int st = read_inputs(c, g.operands, g.noperands > 1 ? 1 : g.noperands, &in, &att) ? 1 : 0;
	struct line *v;
	size_t n = split_lines(&in, &v);
	struct sortopt so = {0};
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && line_cmp(&v[i], &v[j], &so) == 0)
			j++;
		size_t k = j - i;
		if ((!dup || k > 1) && (!uniq_only || k == 1)) {
			if (count)
				buf_printf(&out, "%7zu ", k);
			buf_append(&out, v[i].s, v[i].n);
			buf_append(&out, "\n", 1);
		}
		i = j;
	}
	shell_out(c, out.data, out.len, att);
	free(v);
	buf_free(&in);
	buf_free(&out);
	shell_opts_free(&g);
	return st;
}

/* ------------------------------------------------------------------ tr */

/* Expands a tr set ("a-z", "\n", "[:digit:]") into up to 256 bytes. */
static size_t tr_set(const char *s, uint8_t *out)
{
	size_t n = 0;
	while (*s && n < 256) {
		if (strncmp(s, "[:", 2) == 0) {
			const char *e = strstr(s, ":]");
			if (e) {
				char cls[16];
				snprintf(cls, sizeof(cls), "%.*s",
					 (int)LIB_MIN((size_t)(e - s - 2), sizeof(cls) - 1), s + 2);
				for (int ch = 0; ch < 256 && n < 256; ch++) {
					bool m = (!strcmp(cls, "digit") && isdigit(ch)) ||
						 (!strcmp(cls, "alpha") && isalpha(ch)) ||
						 (!strcmp(cls, "alnum") && isalnum(ch)) ||
						 (!strcmp(cls, "upper") && isupper(ch)) ||
						 (!strcmp(cls, "lower") && islower(ch)) ||
						 (!strcmp(cls, "space") && isspace(ch)) ||
						 (!strcmp(cls, "punct") && ispunct(ch)) ||
						 (!strcmp(cls, "xdigit") && isxdigit(ch));
					if (m)
						out[n++] = (uint8_t)ch;
				}
				s = e + 2;
				continue;
			}
		}
		unsigned char a = (unsigned char)*s;
		if (a == '\\' && s[1]) {
			const char *q = s + 1;
			uint8_t tmp[4];
			bool stop;
			size_t k = 1;
			while (q[k - 1] && k < 4 && isdigit((unsigned char)q[k - 1]))
				k++;
			size_t dn = shell_echo_unescape(
				s, (size_t)(q - s) + (isdigit((unsigned char)*q) ? k - 1 : 1), tmp,
				sizeof(tmp), &stop);
			a = dn ? tmp[0] : '\\';
			s = q + (isdigit((unsigned char)*q) ? k - 1 : 1);
		} else {
			s++;
		}
		if (*s == '-' && s[1]) {
			unsigned char b = (unsigned char)s[1];
			for (unsigned ch = a; ch <= b && n < 256; ch++)
				out[n++] = (uint8_t)ch;
			s += 2;
			continue;
		}
		out[n++] = a;
	}
	return n;
}

int shell_cmd_tr(struct cmd *c)
{
	bool del = false, squeeze = false, comp = false;
	int i = 1;
	for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]; i++) {
		for (const char *p = c->argv[i] + 1; *p; p++) {
			if (*p == 'd')
				del = true;
			else if (*p == 's')
				squeeze = true;
			else if (*p == 'c' || *p == 'C')
				comp = true;
			else
				return shell_bad_option(c, *p);
		}
	}
	if (i >= c->argc || (!del && !squeeze && i + 1 >= c->argc)) {
		shell_usage(c, "tr");
		return 1;
	}
	uint8_t s1[256], s2[256];
	size_t n1 = tr_set(c->argv[i], s1), n2 = i + 1 < c->argc ? tr_set(c->argv[i + 1], s2) : 0;
	bool in1[256] = {false};
	for (size_t k = 0; k < n1; k++)
		in1[s1[k]] = true;
	if (comp)
		for (int k = 0; k < 256; k++)
			in1[k] = !in1[k];
	uint8_t map[256];
	for (int k = 0; k < 256; k++)
		map[k] = (uint8_t)k;
	if (!del && n2)
		for (size_t k = 0; k < n1; k++)
			map[s1[k]] = s2[k < n2 ? k : n2 - 1];
	size_t n;
	bool att;
	const uint8_t *p = shell_stdin(c, &n, &att);
	uint8_t *o = xmalloc(n + 1);
	size_t k = 0;
	int last = -1;
	for (size_t j = 0; j < n; j++) {
		uint8_t ch = p[j];
		if (del && in1[ch])
			continue;
		uint8_t m = in1[ch] ? map[ch] : ch;
		if (squeeze && last == m && (in1[ch] || (del && n2)))
			continue;
		o[k++] = m;
		last = m;
	}
	shell_out(c, o, k, att);
	free(o);
	return 0;
}

/* ------------------------------------------------------------------ xargs */

static void shell_quote(struct buf *b, const char *s)
{
	buf_append(b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			buf_append_str(b, "'\\''");
		else
			buf_append(b, s, 1);
	}
	buf_append(b, "'", 1);
}

/* The arguments xargs reads: blank-separated words, whole lines with -I, NUL-terminated
 * strings with -0 (at most SH_ARGS_MAX). Returns their count; caller frees. */
static size_t xargs_words(const uint8_t *p, size_t n, bool null_sep, bool lines, char ***out)
{
	char **words = NULL;
	size_t nw = 0, cap = 0;
	for (size_t k = 0; k < n && nw < SH_ARGS_MAX;) {
		if (!null_sep && isspace(p[k])) {
			k++;
			continue;
		}
		size_t s0 = k;
		if (lines && !null_sep) {
			while (k < n && p[k] != '\n')
				k++;
		} else {
			while (k < n && (null_sep ? p[k] != 0 : !isspace(p[k])))
				k++;
		}
		if (nw == cap) {
			cap = cap ? cap * 2 : 16;
			words = xrealloc(words, cap * sizeof(*words));
		}
		words[nw++] = xstrndup((const char *)p + s0, k - s0);
		if (null_sep)
			k++;
	}
	*out = words;
	return nw;
}

int shell_cmd_xargs(struct cmd *c)
{
	int i = 1;
	long per = 0;
	const char *repl = NULL;
	bool null_sep = false, no_run_empty = false;
	for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]; i++) {
		const char *a = c->argv[i];
		if (strcmp(a, "-n") == 0 && i + 1 < c->argc)
			per = strtol(c->argv[++i], NULL, 10);
		else if (strncmp(a, "-n", 2) == 0)
			per = strtol(a + 2, NULL, 10);
		else if (strcmp(a, "-I") == 0 && i + 1 < c->argc)
			repl = c->argv[++i];
		else if (strcmp(a, "-0") == 0)
			null_sep = true;
		else if (strcmp(a, "-r") == 0)
			no_run_empty = true;
		else if (strcmp(a, "-t") == 0 || strcmp(a, "-p") == 0 || strcmp(a, "-x") == 0)
			continue;
		else if (strcmp(a, "-s") == 0 || strcmp(a, "-E") == 0)
			i++;
		else
			return shell_bad_option(c, a[1]);
	}
	/* the words of stdin */
	size_t n;
	bool att;
	const uint8_t *p = shell_stdin(c, &n, &att);
	char **words = NULL;
	size_t nw = xargs_words(p, n, null_sep, repl != NULL, &words);
	if (!nw && no_run_empty) {
		free(words);
		return 0;
	}
	struct buf script;
	buf_init(&script, SH_PIPE_MAX);
	size_t groups = repl ? nw : (per > 0 ? (nw + (size_t)per - 1) / (size_t)per : 1);
	if (!groups)
		groups = 1;
	for (size_t gi = 0; gi < groups; gi++) {
		if (i >= c->argc) {
			buf_append_str(&script, "echo");
		} else {
			for (int k = i; k < c->argc; k++) {
				if (k > i)
					buf_append(&script, " ", 1);
				if (repl && gi < nw) {
					/* replace every occurrence in this argument */
					struct buf arg;
					buf_init(&arg, SH_WORD_MAX);
					const char *a = c->argv[k];
					size_t rl = strlen(repl);
					while (*a) {
						if (rl && strncmp(a, repl, rl) == 0) {
							buf_append_str(&arg, words[gi]);
							a += rl;
						} else {
							buf_append(&arg, a++, 1);
						}
					}
					shell_quote(&script, arg.data ? (char *)arg.data : "");
					buf_free(&arg);
				} else {
					shell_quote(&script, c->argv[k]);
				}
			}
		}
		if (!repl) {
			size_t from = per > 0 ? gi * (size_t)per : 0,
			       to = per > 0 ? LIB_MIN(nw, from + (size_t)per) : nw;
			for (size_t k = from; k < to; k++) {
				buf_append(&script, " ", 1);
				shell_quote(&script, words[k]);
			}
		}
		buf_append(&script, "\n", 1);
	}
	for (size_t k = 0; k < nw; k++)
		free(words[k]);
	free(words);
	char *text = xstrndup(script.data ? (char *)script.data : "", script.len);
	buf_free(&script);
	int rc = shell_run_script(c, text, strlen(text), "xargs", NULL, 0, true, false);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------ sed */

enum { A_NONE, A_LINE, A_LAST, A_RE };

struct sed_addr {
	int kind;
	long line;
	struct rx re;
};

struct sed_cmd {
	struct sed_addr a1, a2;
	bool range, in_range, negate;
	char op;      /* s d p q */
	struct rx re; /* s */
	char *rep;
	bool global, print, icase;
	long nth;
};

static const char *sed_addr(const char *p, struct sed_addr *a, bool ere)
{
	if (isdigit((unsigned char)*p)) {
		char *e;
		a->kind = A_LINE;
		a->line = strtol(p, &e, 10);
		return e;
	}
	if (*p == '$') {
		a->kind = A_LAST;
		return p + 1;
	}
	if (*p == '/' || (*p == '\\' && p[1])) {
		char d = *p == '/' ? '/' : p[1];
		p += *p == '/' ? 1 : 2;
		struct buf re;
		buf_init(&re, 1 << 16);
		while (*p && *p != d) {
			if (*p == '\\' && p[1] == d) {
				buf_append(&re, &d, 1);
				p += 2;
				continue;
			}
			if (*p == '\\' && p[1]) {
				buf_append(&re, p, 2);
				p += 2;
				continue;
			}
			buf_append(&re, p++, 1);
		}
		if (*p != d) {
			buf_free(&re);
			return NULL;
		}
		bool ok = rx_compile(&a->re, re.data ? (char *)re.data : "", ere, false);
		buf_free(&re);
		if (!ok)
			return NULL;
		a->kind = A_RE;
		return p + 1;
	}
	return p;
}

static bool sed_parse1(const char *s, bool ere, struct sed_cmd **cmds, size_t *n,
		       struct sed_cmd *cmout);

static void sed_cmd_free(struct sed_cmd *cm)
{
	rx_free(&cm->re);
	rx_free(&cm->a1.re);
	rx_free(&cm->a2.re);
	free(cm->rep);
	cm->rep = NULL;
}

/* Parses one script (several commands separated by ; or newlines). Returns false on error. */
static bool sed_parse(const char *s, bool ere, struct sed_cmd **cmds, size_t *n)
{
	struct sed_cmd cm;
	if (!sed_parse1(s, ere, cmds, n, &cm)) {
		sed_cmd_free(&cm);
		return false;
	}
	return true;
}

/* The parser proper; on failure `cm` holds what must be freed. */
static bool sed_parse1(const char *s, bool ere, struct sed_cmd **cmds, size_t *n,
		       struct sed_cmd *cmout)
{
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == ';' || *p == '\n' || *p == '\t')
			p++;
		if (!*p)
			break;
		struct sed_cmd cm = {0};
		*cmout = cm;
		p = sed_addr(p, &cmout->a1, ere);
		cm.a1 = cmout->a1;
		if (!p)
			return false;
		if (*p == ',') {
			cm.range = true;
			p = sed_addr(p + 1, &cmout->a2, ere);
			cm.a2 = cmout->a2;
			if (!p)
				return false;
		}
		while (*p == ' ')
			p++;
		if (*p == '!') {
			cm.negate = true;
			p++;
		}
		cm.op = *p;
		if (!cm.op || !strchr("sdpq", cm.op))
			return false;
		p++;
		if (cm.op == 's') {
			char d = *p++;
			if (!d)
				return false;
			struct buf re, rep;
			buf_init(&re, 1 << 16);
			buf_init(&rep, 1 << 16);
			struct buf *cur = &re;
			int part = 0;
			while (*p && part < 2) {
				if (*p == '\\' && p[1] == d) {
					buf_append(cur, &d, 1);
					p += 2;
				} else if (*p == '\\' && p[1]) {
					buf_append(cur, p, 2);
					p += 2;
				} else if (*p == d) {
					part++;
					cur = &rep;
					p++;
				} else {
					buf_append(cur, p++, 1);
				}
			}
			if (part < 2) {
				buf_free(&re);
				buf_free(&rep);
				return false;
			}
			while (*p && *p != ';' && *p != '\n' && *p != '}') {
				if (*p == 'g')
					cm.global = true;
				else if (*p == 'p')
					cm.print = true;
				else if (*p == 'I' || *p == 'i')
					cm.icase = true;
				else if (isdigit((unsigned char)*p))
					cm.nth = strtol(p, (char **)&p, 10), p--;
				else if (*p != ' ') {
					buf_free(&re);
					buf_free(&rep);
					return false;
				}
				p++;
			}
			bool ok = rx_compile(&cm.re, re.data ? (char *)re.data : "", ere, cm.icase);
			cm.rep = xstrndup(rep.data ? (char *)rep.data : "", rep.len);
			buf_free(&re);
			buf_free(&rep);
			*cmout = cm;
			if (!ok)
				return false;
		}
		*cmds = xrealloc(*cmds, (*n + 1) * sizeof(**cmds));
		(*cmds)[(*n)++] = cm;
		memset(cmout, 0, sizeof(*cmout));
	}
	return true;
}

static bool addr_match(struct sed_addr *a, long lineno, bool last, const char *l, size_t ll)
{
	switch (a->kind) {
	case A_LINE: return lineno == a->line;
	case A_LAST: return last;
	case A_RE: return rx_match(&a->re, l, ll, 0) >= 0;
	default: return true;
	}
}

static bool sed_selects(struct sed_cmd *cm, long lineno, bool last, const char *l, size_t ll)
{
	bool m;
	if (cm->a1.kind == A_NONE) {
		m = true;
	} else if (!cm->range) {
		m = addr_match(&cm->a1, lineno, last, l, ll);
	} else if (cm->in_range) {
		m = true;
		if (addr_match(&cm->a2, lineno, last, l, ll) ||
		    (cm->a2.kind == A_LINE && lineno >= cm->a2.line))
			cm->in_range = false;
	} else {
		m = addr_match(&cm->a1, lineno, last, l, ll);
		if (m && !(cm->a2.kind == A_LINE && cm->a2.line <= lineno))
			cm->in_range = true;
	}
	return m != cm->negate;
}

/* s/// on one line into out; returns whether a substitution happened. */
static bool sed_subst(struct sed_cmd *cm, const char *l, size_t ll, struct buf *out)
{
	size_t pos = 0;
	long count = 0;
	bool did = false;
	while (pos <= ll) {
		int m = rx_match(&cm->re, l, ll, pos);
		if (m < 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(cm->re.md);
		count++;
		buf_append(out, l + pos, ov[0] - pos);
		if (cm->nth && count < cm->nth) {
			buf_append(out, l + ov[0], ov[1] - ov[0]);
		} else {
			for (const char *r = cm->rep; *r; r++) {
				if (*r == '&') {
					buf_append(out, l + ov[0], ov[1] - ov[0]);
				} else if (*r == '\\' && isdigit((unsigned char)r[1])) {
					int g = r[1] - '0';
					if (g < m)
						buf_append(out, l + ov[2 * g],
							   ov[2 * g + 1] - ov[2 * g]);
					r++;
				} else if (*r == '\\' && r[1] == 'n') {
					buf_append(out, "\n", 1);
					r++;
				} else if (*r == '\\' && r[1]) {
					buf_append(out, ++r, 1);
				} else {
					buf_append(out, r, 1);
				}
			}
			did = true;
		}
		size_t next = ov[1];
		if (ov[1] == ov[0]) {
			if (ov[0] < ll)
				buf_append(out, l + ov[0], 1);
			next = ov[0] + 1;
		}
		pos = next;
		if (did && !cm->global)
			break;
	}
	if (pos < ll)
		buf_append(out, l + pos, ll - pos);
	return did;
}

/* Runs the script over every line of in (the input of one run), appending to out. */
static void sed_run(struct sed_cmd *cmds, size_t ncmds, bool quiet, const struct buf *in,
		    struct buf *out)
{
	const char *d = (const char *)in->data;
	long lineno = 0;
	bool quit = false;
	for (size_t p = 0; p < in->len && !quit;) {
		const char *nl = memchr(d + p, '\n', in->len - p);
		size_t e = nl ? (size_t)(nl - d) : in->len;
		lineno++;
		bool last = e + 1 >= in->len;
		struct buf line;
		buf_init(&line, SH_WORD_MAX);
		buf_append(&line, d + p, e - p);
		bool deleted = false;
		for (size_t k = 0; k < ncmds && !deleted && !quit; k++) {
			struct sed_cmd *cm = &cmds[k];
			const char *l = line.data ? (char *)line.data : "";
			if (!sed_selects(cm, lineno, last, l, line.len))
				continue;
			switch (cm->op) {
			case 'd': deleted = true; break;
			case 'p':
				buf_append(out, l, line.len);
				buf_append(out, "\n", 1);
				break;
			case 'q': quit = true; break;
			case 's': {
				struct buf r;
				buf_init(&r, SH_WORD_MAX);
				if (sed_subst(cm, l, line.len, &r)) {
					buf_free(&line);
					line = r;
					if (cm->print) {
						buf_append(out, line.data, line.len);
						buf_append(out, "\n", 1);
					}
				} else {
					buf_free(&r);
				}
				break;
			}
			}
		}
		if (!deleted && !quiet) {
			buf_append(out, line.data, line.len);
			buf_append(out, "\n", 1);
		}
		buf_free(&line);
		p = e + 1;
	}
}

int shell_cmd_sed(struct cmd *c)
{
	struct shell_getopt g = {0};
	int o;
	bool quiet = false, inplace = false, ere = false;
	struct sed_cmd *cmds = NULL;
	size_t ncmds = 0;
	bool have_e = false;
	int st = 0;
	while ((o = shell_getopt(c, &g, "ne:f:irEs")) != -1) {
		if (o == '?') {
			st = 1;
			goto out;
		}
		if (o == 'n')
			quiet = true;
		if (o == 'i')
			inplace = true;
		if (o == 'r' || o == 'E')
			ere = true;
		if (o == 'e') {
			have_e = true;
			if (!sed_parse(g.arg, ere, &cmds, &ncmds)) {
				shell_err(c, "bad command '%s'", g.arg);
				st = 1;
				goto out;
			}
		}
	}
	int first = 0;
	if (!have_e) {
		if (!g.noperands) {
			shell_usage(c, "sed");
			st = 1;
			goto out;
		}
		if (!sed_parse(g.operands[0], ere, &cmds, &ncmds)) {
			shell_err(c, "unsupported command %s", g.operands[0]);
			st = 1;
			goto out;
		}
		first = 1;
	}
	char **files = g.operands + first;
	int nf = g.noperands - first;
	for (int fi = 0; fi < (inplace ? nf : 1); fi++) {
		struct buf in, outb;
		buf_init(&in, SH_PIPE_MAX * 4);
		buf_init(&outb, SH_PIPE_MAX * 4);
		bool att;
		if (read_inputs(c, inplace ? files + fi : files, inplace ? 1 : nf, &in, &att))
			st = 2;
		sed_run(cmds, ncmds, quiet, &in, &outb);
		if (inplace && nf) {
			char abs[SH_PATH_MAX];
			struct vdata *vd;
			bool discard;
			int dev;
			int rc = shell_vfs_open_write(&c->sh->vfs, c->sh->lvl->cwd, files[fi],
						      VFS_TRUNC | VFS_NOCREAT, &vd, &discard, &dev,
						      abs);
			if (rc) {
				shell_err(c, "can't create %s: %s", files[fi], shell_strerror(-rc));
				st = 4;
			} else if (vd) {
				if (outb.len &&
				    shell_vfs_write(&c->sh->vfs, vd, outb.data, outb.len, true,
						    "redirect", abs) == -ENOSPC)
					st = 4;
				shell_vdata_unref(&c->sh->vfs, vd);
			}
		} else {
			shell_out(c, outb.data, outb.len, att);
		}
		buf_free(&in);
		buf_free(&outb);
	}
out:
	for (size_t k = 0; k < ncmds; k++)
		sed_cmd_free(&cmds[k]);
	free(cmds);
	shell_getopt_done(&g);
	return st;
}

/* ------------------------------------------------------------------ awk */

/* The subset: [pattern] [{ print item[, item]... }] where pattern is /re/, NR==N, NR>N,
 * $N==\"x\" or $N~/re/, and items are $N, NF, NR, $0 or "strings". */
struct awk_prog {
	int pkind; /* 0 none, 1 /re/, 2 NR op N, 3 $N == str, 4 $N ~ re */
	struct rx re;
	char op[3];
	long num;
	int field;
	char *str;
	bool has_action, print;
	char *items[32];
	int nitems;
	bool comma[32];
};

/* Parses the supported awk subset. Long because it is a single left-to-right pass over
 * the program text (pattern, then action items), whose position every step advances. */
static bool awk_parse(const char *s, struct awk_prog *a)
{
	memset(a, 0, sizeof(*a));
	while (*s == ' ')
		s++;
	if (*s == '/') {
		const char *e = s + 1;
		while (*e && *e != '/') {
			if (*e == '\\' && e[1])
				e++;
			e++;
		}
		if (*e != '/')
			return false;
		char *re = xstrndup(s + 1, (size_t)(e - s - 1));
		bool ok = rx_compile(&a->re, re, true, false);
		free(re);
		if (!ok)
			return false;
		a->pkind = 1;
		s = e + 1;
	} else if (strncmp(s, "NR", 2) == 0) {
		s += 2;
		while (*s == ' ')
			s++;
		size_t k = 0;
		while (*s && strchr("=!<>", *s) && k < 2)
			a->op[k++] = *s++;
		a->num = strtol(s, (char **)&s, 10);
		a->pkind = 2;
	} else if (*s == '$' && isdigit((unsigned char)s[1])) {
		a->field = (int)strtol(s + 1, (char **)&s, 10);
		while (*s == ' ')
			s++;
		if (s[0] == '=' && s[1] == '=') {
			s += 2;
			while (*s == ' ')
				s++;
			if (*s != '"')
				return false;
			const char *e = strchr(s + 1, '"');
			if (!e)
				return false;
			a->str = xstrndup(s + 1, (size_t)(e - s - 1));
			a->pkind = 3;
			s = e + 1;
		} else if (*s == '~') {
			s++;
			while (*s == ' ')
				s++;
			if (*s != '/')
				return false;
			const char *e = strchr(s + 1, '/');
			if (!e)
				return false;
			char *re = xstrndup(s + 1, (size_t)(e - s - 1));
			bool ok = rx_compile(&a->re, re, true, false);
			free(re);
			if (!ok)
				return false;
			a->pkind = 4;
			s = e + 1;
		} else {
			return false;
		}
	}
	while (*s == ' ')
		s++;
	if (!*s)
		return a->pkind != 0;
	if (*s != '{')
		return false;
	s++;
	while (*s == ' ' || *s == ';')
		s++;
	a->has_action = true;
	if (*s == '}')
		return true;
	if (strncmp(s, "print", 5) != 0)
		return false;
	s += 5;
	a->print = true;
	while (*s && *s != '}' && a->nitems < 32) {
		while (*s == ' ')
			s++;
		if (*s == '}' || *s == ';')
			break;
		const char *b = s;
		if (*s == '"') {
			const char *e = strchr(s + 1, '"');
			if (!e)
				return false;
			s = e + 1;
		} else {
			while (*s && *s != ' ' && *s != ',' && *s != '}' && *s != ';')
				s++;
		}
		a->items[a->nitems] = xstrndup(b, (size_t)(s - b));
		while (*s == ' ')
			s++;
		a->comma[a->nitems] = *s == ',';
		if (*s == ',')
			s++;
		a->nitems++;
	}
	while (*s == ';' || *s == ' ')
		s++;
	return *s == '}';
}

static void awk_free(struct awk_prog *a)
{
	rx_free(&a->re);
	free(a->str);
	for (int i = 0; i < a->nitems; i++)
		free(a->items[i]);
}

#define AWK_FIELDS_MAX 256 /* fields of one record; the rest are not split */

/* Splits a record into fields: on runs of blanks (the default FS " "), else on FS's first
 * character. Returns the count. */
static int awk_fields(const char *l, size_t ll, const char *fs, const char **fst, size_t *fln)
{
	int nfields = 0;
	if (!fs || (fs[0] == ' ' && !fs[1])) {
		size_t k = 0;
		while (k < ll && nfields < AWK_FIELDS_MAX) {
			while (k < ll && (l[k] == ' ' || l[k] == '\t'))
				k++;
			if (k >= ll)
				break;
			size_t s0 = k;
			while (k < ll && l[k] != ' ' && l[k] != '\t')
				k++;
			fst[nfields] = l + s0;
			fln[nfields++] = k - s0;
		}
		return nfields;
	}
	size_t s0 = 0;
	for (size_t k = 0; k <= ll && nfields < AWK_FIELDS_MAX; k++)
		if (k == ll || l[k] == fs[0]) {
			fst[nfields] = l + s0;
			fln[nfields++] = k - s0;
			s0 = k + 1;
		}
	return nfields;
}

int shell_cmd_awk(struct cmd *c)
{
	int i = 1;
	const char *fs = NULL;
	for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]; i++) {
		if (strncmp(c->argv[i], "-F", 2) == 0)
			fs = c->argv[i][2] ? c->argv[i] + 2
					   : (i + 1 < c->argc ? c->argv[++i] : " ");
		else if (strcmp(c->argv[i], "-v") == 0)
			i++;
		else
			return shell_bad_option(c, c->argv[i][1]);
	}
	if (i >= c->argc) {
		shell_usage(c, "awk");
		return 1;
	}
	struct awk_prog a;
	if (!awk_parse(c->argv[i], &a)) {
		awk_free(&a);
		shell_errf(c, "awk: cmd. line:1: Unexpected token\n");
		return 2;
	}
	struct buf in, out;
	buf_init(&in, SH_PIPE_MAX * 4);
	buf_init(&out, SH_PIPE_MAX * 4);
	bool att;
	int st = read_inputs(c, c->argv + i + 1, c->argc - i - 1, &in, &att) ? 2 : 0;
	const char *d = (const char *)in.data;
	long nr = 0;
	for (size_t p = 0; p < in.len;) {
		const char *nl = memchr(d + p, '\n', in.len - p);
		size_t e = nl ? (size_t)(nl - d) : in.len;
		const char *l = d + p;
		size_t ll = e - p;
		nr++;
		const char *fst[AWK_FIELDS_MAX];
		size_t fln[AWK_FIELDS_MAX];
		int nfields = awk_fields(l, ll, fs, fst, fln);
		bool sel = true;
		if (a.pkind == 1)
			sel = rx_match(&a.re, l, ll, 0) >= 0;
		else if (a.pkind == 2)
			sel = !strcmp(a.op, "==")   ? nr == a.num
			      : !strcmp(a.op, "!=") ? nr != a.num
			      : !strcmp(a.op, ">")  ? nr > a.num
			      : !strcmp(a.op, ">=") ? nr >= a.num
			      : !strcmp(a.op, "<")  ? nr < a.num
						    : nr <= a.num;
		else if (a.pkind == 3 || a.pkind == 4) {
			const char *fv = a.field == 0         ? l
					 : a.field <= nfields ? fst[a.field - 1]
							      : "";
			size_t fl = a.field == 0 ? ll : a.field <= nfields ? fln[a.field - 1] : 0;
			sel = a.pkind == 3 ? (strlen(a.str) == fl && memcmp(a.str, fv, fl) == 0)
					   : rx_match(&a.re, fv, fl, 0) >= 0;
		}
		if (sel && (!a.has_action || a.print)) {
			if (!a.has_action) {
				buf_append(&out, l, ll);
			} else {
				for (int k = 0; k < a.nitems; k++) {
					const char *it = a.items[k];
					if (it[0] == '"')
						buf_append(&out, it + 1, strlen(it) - 2);
					else if (strcmp(it, "NF") == 0)
						buf_printf(&out, "%d", nfields);
					else if (strcmp(it, "NR") == 0)
						buf_printf(&out, "%ld", nr);
					else if (it[0] == '$') {
						long f = strcmp(it + 1, "NF") == 0
								 ? nfields
								 : strtol(it + 1, NULL, 10);
						if (f == 0)
							buf_append(&out, l, ll);
						else if (f > 0 && f <= nfields)
							buf_append(&out, fst[f - 1], fln[f - 1]);
					}
					if (a.comma[k])
						buf_append(&out, " ", 1);
				}
				if (a.nitems == 0)
					buf_append(&out, l, ll);
			}
			buf_append(&out, "\n", 1);
		}
		p = e + 1;
	}
	shell_out(c, out.data, out.len, att);
	buf_free(&in);
	buf_free(&out);
	awk_free(&a);
	return st;
}
