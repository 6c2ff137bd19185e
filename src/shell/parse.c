/* shell/parse: lexer and recursive-descent parser for the ash grammar (lists, && ||, pipes,
 * redirections and here-documents, if/while/until/for/case, { } and ( ), functions). It parses
 * one complete command at a time, as ash does, so a script runs its lines before a later
 * syntax error stops it; on a terminal an unfinished construct asks for more lines (PS2).
 * Words are kept as written and expanded when their command runs. Errors carry ash's text. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ arena */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *shell_arena_alloc(struct arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct arena_chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		/* small first (a typical command line needs a few hundred bytes), then larger */
		size_t cap = c ? LIB_MIN(c->cap * 2, (size_t)65536) : 512;
		if (cap < n)
			cap = n;
		c = xmalloc(sizeof(*c) + cap);
		c->cap = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *shell_arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = shell_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void shell_arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
}

/* ------------------------------------------------------------------ tokens */

enum tok {
	T_EOF,
	T_NL,
	T_REDIR,
	T_WORD,
	T_SEMI,
	T_AMP,
	T_AND,
	T_OR,
	T_PIPE,
	T_LP,
	T_RP,
	T_DSEMI,
	T_BQ,
	T_NOT,
	T_CASE,
	T_DO,
	T_DONE,
	T_ELIF,
	T_ELSE,
	T_ESAC,
	T_FI,
	T_FOR,
	T_IF,
	T_IN,
	T_THEN,
	T_UNTIL,
	T_WHILE,
	T_LBRACE,
	T_RBRACE,
};

static const char *const toknames[] = {
	"end of file", "newline", "redirection", "word", ";",  "&",   "&&",   "||",
	"|",           "(",       ")",           ";;",   "`",  "!",   "case", "do",
	"done",        "elif",    "else",        "esac", "fi", "for", "if",   "in",
	"then",        "until",   "while",       "{",    "}",
};

static const char *tokname(int t, char *buf, size_t n)
{
	if (t < T_SEMI)
		return toknames[t];
	snprintf(buf, n, "\"%s\"", toknames[t]);
	return buf;
}

struct parser {
	struct arena *a;
	const char *s;
	size_t len, pos;
	int line;
	bool eof_final;
	int depth;
	jmp_buf jb;
	struct parse_result *res;
	/* one token of lookahead */
	bool have;
	int tok;
	struct word w;
	int rfd, rop;
	int tokline;
	size_t tokstart; /* offset of the lookahead token */
	size_t last_end; /* offset just past the last consumed token */
	bool quoted;     /* the word had quoting (so it is never a keyword) */
	/* here-documents waiting for the next newline */
	struct redir *hd[SH_HEREDOCS_MAX];
	char *hd_delim[SH_HEREDOCS_MAX];
	bool hd_strip[SH_HEREDOCS_MAX];
	int nhd;
};

static void fail(struct parser *p, int status, const char *fmt, ...) LIB_PRINTF(3, 4);
static void fail(struct parser *p, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->res->msg, sizeof(p->res->msg), fmt, ap);
	va_end(ap);
	p->res->status = status;
	p->res->errline = p->line;
	longjmp(p->jb, 1);
}

/* The text ran out inside a construct: more input is needed, or (scripts) it is an error. */
static void need_more(struct parser *p, const char *what)
{
	if (!p->eof_final)
		fail(p, PARSE_INCOMPLETE, "incomplete");
	fail(p, PARSE_ERROR, "syntax error: %s", what);
}

/* ------------------------------------------------------------------ substitutions */

static size_t skip_quote(const char *s, size_t len, size_t i, int depth);

static size_t skip_subst_d(const char *s, size_t len, size_t i, int depth)
{
	if (depth > SH_NEST_MAX)
		return 0;
	if (s[i] == '`') {
		for (size_t j = i + 1; j < len; j++) {
			if (s[j] == '\\') {
				j++;
				continue;
			}
			if (s[j] == '`')
				return j + 1;
		}
		return 0;
	}
	if (i + 1 >= len || s[i] != '$')
		return 0;
	if (s[i + 1] == '{') {
		for (size_t j = i + 2; j < len; j++) {
			char c = s[j];
			if (c == '\\') {
				j++;
			} else if (c == '}') {
				return j + 1;
			} else if (c == '\'' || c == '"') {
				size_t e = skip_quote(s, len, j, depth + 1);
				if (!e)
					return 0;
				j = e - 1;
			} else if (c == '`' || (c == '$' && j + 1 < len &&
						(s[j + 1] == '(' || s[j + 1] == '{'))) {
				size_t e = skip_subst_d(s, len, j, depth + 1);
				if (!e)
					return 0;
				j = e - 1;
			}
		}
		return 0;
	}
	if (s[i + 1] != '(')
		return 0;
	int d = 1;
	size_t j = i + 2;
	bool arith = j < len && s[j] == '(';
	if (arith) {
		d = 2;
		j++;
	}
	for (; j < len; j++) {
		char c = s[j];
		if (c == '\\') {
			j++;
		} else if (c == '(') {
			d++;
		} else if (c == ')') {
			if (--d == 0)
				return j + 1;
		} else if (!arith && (c == '\'' || c == '"')) {
			size_t e = skip_quote(s, len, j, depth + 1);
			if (!e)
				return 0;
			j = e - 1;
		} else if (c == '`' ||
			   (c == '$' && j + 1 < len && (s[j + 1] == '(' || s[j + 1] == '{'))) {
			size_t e = skip_subst_d(s, len, j, depth + 1);
			if (!e)
				return 0;
			j = e - 1;
		}
	}
	return 0;
}

/* s[i] is a quote: offset just past its closing quote, or 0. */
static size_t skip_quote(const char *s, size_t len, size_t i, int depth)
{
	if (s[i] == '\'') {
		const char *e = memchr(s + i + 1, '\'', len - i - 1);
		return e ? (size_t)(e - s) + 1 : 0;
	}
	for (size_t j = i + 1; j < len; j++) {
		char c = s[j];
		if (c == '\\')
			j++;
		else if (c == '"')
			return j + 1;
		else if (c == '`' ||
			 (c == '$' && j + 1 < len && (s[j + 1] == '(' || s[j + 1] == '{'))) {
			size_t e = skip_subst_d(s, len, j, depth + 1);
			if (!e)
				return 0;
			j = e - 1;
		}
	}
	return 0;
}

size_t shell_skip_subst(const char *s, size_t len, size_t i)
{
	return skip_subst_d(s, len, i, 0);
}

/* ------------------------------------------------------------------ lexer */

static bool is_meta(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' ||
	       c == '>' || c == '(' || c == ')';
}

static void read_heredocs(struct parser *p)
{
	for (int k = 0; k < p->nhd; k++) {
		struct redir *r = p->hd[k];
		const char *delim = p->hd_delim[k];
		size_t dl = strlen(delim);
		struct buf body;
		buf_init(&body, SH_WORD_MAX);
		bool done = false;
		while (p->pos < p->len) {
			const char *ls = p->s + p->pos;
			const char *nl = memchr(ls, '\n', p->len - p->pos);
			if (!nl && !p->eof_final)
				need_more(p, "unexpected end of file");
			size_t ll = nl ? (size_t)(nl - ls) : p->len - p->pos;
			const char *q = ls;
			size_t ql = ll;
			if (p->hd_strip[k])
				while (ql && *q == '\t') {
					q++;
					ql--;
				}
			p->pos += ll + (nl ? 1 : 0);
			p->line++;
			if (ql == dl && memcmp(q, delim, dl) == 0) {
				done = true;
				break;
			}
			buf_append(&body, q, ql);
			buf_append(&body, "\n", 1);
		}
		if (!done && !p->eof_final) {
			buf_free(&body);
			need_more(p, "unexpected end of file");
		}
		r->target.text =
			shell_arena_strndup(p->a, body.data ? (char *)body.data : "", body.len);
		r->target.len = body.len;
		buf_free(&body);
	}
	p->nhd = 0;
}

/* Reads a word starting at p->pos. */
static void lex_word(struct parser *p)
{
	struct buf b;
	buf_init(&b, SH_WORD_MAX);
	bool quoted = false;
	size_t i = p->pos;
	while (i < p->len) {
		char c = p->s[i];
		if (is_meta(c))
			break;
		if (c == '\\') {
			if (i + 1 < p->len && p->s[i + 1] == '\n') {
				i += 2;
				p->line++;
				continue;
			}
			quoted = true;
			size_t n = i + 1 < p->len ? 2 : 1;
			buf_append(&b, p->s + i, n);
			i += n;
			continue;
		}
		size_t e = 0;
		if (c == '\'' || c == '"') {
			quoted = true;
			e = skip_quote(p->s, p->len, i, 0);
			if (!e) {
				buf_free(&b);
				need_more(p, "unterminated quoted string");
			}
		} else if (c == '`' || (c == '$' && i + 1 < p->len &&
					(p->s[i + 1] == '(' || p->s[i + 1] == '{'))) {
			e = shell_skip_subst(p->s, p->len, i);
			if (!e) {
				buf_free(&b);
				if (c == '`')
					need_more(p, "unterminated quoted string");
				/* ash reads ${name and fails at the first character that cannot
				 * follow */
				if (p->s[i + 1] == '{')
					fail(p, PARSE_ERROR, "syntax error: bad substitution");
				need_more(p, p->s[i + 1] == '{'
						     ? "unexpected end of file (expecting \"}\")"
						     : "unexpected end of file (expecting \")\")");
			}
		}
		if (e) {
			/* Copy, dropping backslash-newline continuations outside single quotes. */
			for (size_t j = i; j < e; j++) {
				if (p->s[j] == '\n')
					p->line++;
				if (c != '\'' && p->s[j] == '\\' && j + 1 < e &&
				    p->s[j + 1] == '\n') {
					j++;
					p->line++;
					continue;
				}
				buf_append(&b, p->s + j, 1);
			}
			i = e;
			continue;
		}
		buf_append(&b, &c, 1);
		i++;
	}
	if (b.len >= SH_WORD_MAX - 1) {
		buf_free(&b);
		fail(p, PARSE_ERROR, "syntax error: word too long");
	}
	p->w.text = shell_arena_strndup(p->a, b.data ? (char *)b.data : "", b.len);
	p->w.len = b.len;
	p->quoted = quoted;
	buf_free(&b);
	p->pos = i;
}

/* The next token. Long because it is the lexer's single switch over
 * the character at hand (operators, here-documents, words, keywords), and cut in parts its
 * cases would only pass the parser state back and forth. */
static void lex(struct parser *p)
{
	/* blanks, continuations and comments */
	for (;;) {
		while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
			p->pos++;
		if (p->pos + 1 < p->len && p->s[p->pos] == '\\' && p->s[p->pos + 1] == '\n') {
			p->pos += 2;
			p->line++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '#') {
			while (p->pos < p->len && p->s[p->pos] != '\n')
				p->pos++;
		}
		break;
	}
	p->tokline = p->line;
	p->tokstart = p->pos;
	p->have = true;
	if (p->pos >= p->len) {
		p->tok = T_EOF;
		return;
	}
	const char *s = p->s;
	char c = s[p->pos];
	char d = p->pos + 1 < p->len ? s[p->pos + 1] : 0;
	switch (c) {
	case '\n':
		p->pos++;
		p->line++;
		p->tok = T_NL;
		if (p->nhd)
			read_heredocs(p);
		return;
	case ';':
		p->tok = d == ';' ? T_DSEMI : T_SEMI;
		p->pos += d == ';' ? 2 : 1;
		return;
	case '&':
		p->tok = d == '&' ? T_AND : T_AMP;
		p->pos += d == '&' ? 2 : 1;
		return;
	case '|':
		p->tok = d == '|' ? T_OR : T_PIPE;
		p->pos += d == '|' ? 2 : 1;
		return;
	case '(':
		p->tok = T_LP;
		p->pos++;
		return;
	case ')':
		p->tok = T_RP;
		p->pos++;
		return;
	case '<':
	case '>': p->rfd = c == '<' ? 0 : 1; goto redir;
	default: break;
	}
	/* A word; all digits right before < or > make an fd number. */
	size_t q = p->pos;
	while (q < p->len && s[q] >= '0' && s[q] <= '9')
		q++;
	if (q > p->pos && q < p->len && (s[q] == '<' || s[q] == '>') && q - p->pos <= 1) {
		p->rfd = s[p->pos] - '0';
		p->pos = q;
		c = s[q];
		d = q + 1 < p->len ? s[q + 1] : 0;
		goto redir;
	}
	lex_word(p);
	p->tok = T_WORD;
	return;
redir:
	p->tok = T_REDIR;
	p->pos++;
	if (c == '<') {
		if (d == '<') {
			p->pos++;
			p->rop = R_HEREDOC;
			if (p->pos < p->len && s[p->pos] == '-') {
				p->pos++;
				p->rop = R_HEREDOC | 0x100;
			}
		} else if (d == '&') {
			p->pos++;
			p->rop = R_DUPIN;
		} else if (d == '>') {
			p->pos++;
			p->rop = R_INOUT;
		} else {
			p->rop = R_IN;
		}
	} else {
		if (d == '>') {
			p->pos++;
			p->rop = R_APPEND;
		} else if (d == '&') {
			p->pos++;
			p->rop = R_DUPOUT;
		} else if (d == '|') {
			p->pos++;
			p->rop = R_OUT;
		} else {
			p->rop = R_OUT;
		}
	}
}

static int peek(struct parser *p)
{
	if (!p->have)
		lex(p);
	return p->tok;
}

static void consume(struct parser *p)
{
	p->have = false;
	p->last_end = p->pos;
}

static const char *const keywords[] = {
	"!",   "case", "do", "done", "elif",  "else",  "esac", "fi",
	"for", "if",   "in", "then", "until", "while", "{",    "}",
};
static const int keyword_toks[] = {
	T_NOT, T_CASE, T_DO, T_DONE, T_ELIF,  T_ELSE,  T_ESAC,   T_FI,
	T_FOR, T_IF,   T_IN, T_THEN, T_UNTIL, T_WHILE, T_LBRACE, T_RBRACE,
};

/* The next token, with reserved words recognised (command position). */
static int peek_kw(struct parser *p)
{
	int t = peek(p);
	if (t != T_WORD || p->quoted)
		return t;
	for (size_t i = 0; i < LIB_ARRAY_LEN(keywords); i++)
		if (strcmp(p->w.text, keywords[i]) == 0)
			return keyword_toks[i];
	return T_WORD;
}

static void unexpected(struct parser *p, int got, int expecting)
{
	char b1[32], b2[32];
	if (got == T_EOF && !p->eof_final)
		fail(p, PARSE_INCOMPLETE, "incomplete");
	if (expecting >= 0)
		fail(p, PARSE_ERROR, "syntax error: unexpected %s (expecting %s)",
		     tokname(got, b1, sizeof(b1)), tokname(expecting, b2, sizeof(b2)));
	fail(p, PARSE_ERROR, "syntax error: unexpected %s", tokname(got, b1, sizeof(b1)));
}

static void expect_kw(struct parser *p, int t)
{
	int got = peek_kw(p);
	if (got != t)
		unexpected(p, got, t);
	consume(p);
}

static void linebreak(struct parser *p)
{
	while (peek(p) == T_NL)
		consume(p);
}

/* ------------------------------------------------------------------ grammar */

static struct node *new_node(struct parser *p, int type)
{
	struct node *n = shell_arena_alloc(p->a, sizeof(*n));
	n->type = type;
	n->lineno = p->tokline;
	return n;
}

static struct node *parse_and_or(struct parser *p);
static struct node *parse_command(struct parser *p);

/* Growable arrays in the arena (copied on growth; commands are short). */
#define GROW(p, arr, n, cap) \
	do { \
		if ((n) == (cap)) { \
			size_t nc_ = (cap) ? (cap)*2 : 4; \
			void *na_ = shell_arena_alloc((p)->a, nc_ * sizeof(*(arr))); \
			if (n) \
				memcpy(na_, (arr), (n) * sizeof(*(arr))); \
			(arr) = na_; \
			(cap) = nc_; \
		} \
	} while (0)

/* Appends an and-or to a list; a following '&' marks it as a background job. */
static void list_push(struct parser *p, struct node *l, size_t *cap, size_t *capops,
		      struct node *item)
{
	GROW(p, l->u.list.items, l->u.list.n, *cap);
	GROW(p, l->u.list.ops, l->u.list.n, *capops);
	l->u.list.items[l->u.list.n] = item;
	l->u.list.ops[l->u.list.n] = 0;
	l->u.list.n++;
}

/* After a list item: consumes ';' or '&' (marking the item); returns the separator seen. */
static int list_sep(struct parser *p, struct node *l)
{
	int t = peek(p);
	if (t == T_SEMI || t == T_AMP) {
		if (t == T_AMP)
			l->u.list.ops[l->u.list.n - 1] = 1;
		consume(p);
	}
	return t;
}

static bool is_terminator(int t)
{
	return t == T_EOF || t == T_THEN || t == T_FI || t == T_DO || t == T_DONE || t == T_ELSE ||
	       t == T_ELIF || t == T_ESAC || t == T_RBRACE || t == T_RP || t == T_DSEMI;
}

/* A list inside a compound command: newlines separate, and it ends before a terminator. */
static struct node *parse_compound_list(struct parser *p)
{
	if (++p->depth > SH_NEST_MAX)
		fail(p, PARSE_ERROR, "syntax error: nesting too deep");
	linebreak(p);
	struct node *l = new_node(p, N_LIST);
	size_t cap = 0, capops = 0;
	for (;;) {
		int t = peek_kw(p);
		if (is_terminator(t)) {
			if (l->u.list.n == 0)
				unexpected(p, t, -1);
			break;
		}
		list_push(p, l, &cap, &capops, parse_and_or(p));
		t = list_sep(p, l);
		if (t == T_SEMI || t == T_AMP) {
			linebreak(p);
		} else if (t == T_NL) {
			linebreak(p);
		} else {
			t = peek_kw(p);
			if (!is_terminator(t))
				unexpected(p, t, -1);
		}
	}
	p->depth--;
	return l;
}

static void parse_redirect(struct parser *p, struct redir ***tail)
{
	int op = p->rop, fd = p->rfd;
	consume(p);
	int t = peek(p);
	if (t != T_WORD)
		unexpected(p, t, -1);
	struct redir *r = shell_arena_alloc(p->a, sizeof(*r));
	r->fd = fd;
	r->op = op & 0xff;
	r->target = p->w;
	if ((op & 0xff) == R_HEREDOC) {
		if (p->nhd >= SH_HEREDOCS_MAX)
			fail(p, PARSE_ERROR, "syntax error: too many here-documents");
		/* The delimiter after quote removal; any quoting means no expansion. */
		const char *w = p->w.text;
		char *d = shell_arena_alloc(p->a, p->w.len + 1);
		size_t k = 0;
		bool q = false;
		for (size_t i = 0; i < p->w.len; i++) {
			char c = w[i];
			if (c == '\'' || c == '"') {
				q = true;
				continue;
			}
			if (c == '\\' && i + 1 < p->w.len) {
				q = true;
				d[k++] = w[++i];
				continue;
			}
			d[k++] = c;
		}
		d[k] = 0;
		r->heredoc_expand = !q;
		p->hd[p->nhd] = r;
		p->hd_delim[p->nhd] = d;
		p->hd_strip[p->nhd] = (op & 0x100) != 0;
		p->nhd++;
		r->target.text = (char *)"";
		r->target.len = 0;
	}
	consume(p);
	**tail = r;
	*tail = &r->next;
}

static void parse_redirects(struct parser *p, struct node *n)
{
	struct redir **tail = &n->redirs;
	while (*tail)
		tail = &(*tail)->next;
	while (peek(p) == T_REDIR)
		parse_redirect(p, &tail);
}

static bool is_assignment(const struct word *w)
{
	const char *s = w->text;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (s++; *s && *s != '='; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return *s == '=';
}

static struct node *parse_if(struct parser *p)
{
	struct node *n = new_node(p, N_IF);
	consume(p);
	n->u.ifn.cond = parse_compound_list(p);
	expect_kw(p, T_THEN);
	n->u.ifn.then = parse_compound_list(p);
	int t = peek_kw(p);
	if (t == T_ELIF) {
		n->u.ifn.els = parse_if(p);
		return n;
	}
	if (t == T_ELSE) {
		consume(p);
		n->u.ifn.els = parse_compound_list(p);
	}
	expect_kw(p, T_FI);
	return n;
}

static struct node *parse_loop(struct parser *p, bool until)
{
	struct node *n = new_node(p, N_WHILE);
	n->u.loop.until = until;
	consume(p);
	n->u.loop.cond = parse_compound_list(p);
	expect_kw(p, T_DO);
	n->u.loop.body = parse_compound_list(p);
	expect_kw(p, T_DONE);
	return n;
}

static struct node *parse_for(struct parser *p)
{
	struct node *n = new_node(p, N_FOR);
	consume(p);
	int t = peek(p);
	if (t != T_WORD)
		unexpected(p, t, T_WORD);
	if (!shell_valid_name(p->w.text, p->w.len))
		fail(p, PARSE_ERROR, "syntax error: bad for loop variable");
	n->u.forn.var = p->w.text;
	consume(p);
	linebreak(p);
	t = peek_kw(p);
	if (t == T_IN) {
		consume(p);
		n->u.forn.has_in = true;
		size_t cap = 0;
		while (peek(p) == T_WORD) {
			GROW(p, n->u.forn.words, n->u.forn.nwords, cap);
			n->u.forn.words[n->u.forn.nwords++] = p->w;
			consume(p);
		}
		t = peek(p);
		if (t != T_SEMI && t != T_NL)
			unexpected(p, t, -1);
		consume(p);
		linebreak(p);
	} else if (t == T_SEMI) {
		consume(p);
		linebreak(p);
	}
	expect_kw(p, T_DO);
	n->u.forn.body = parse_compound_list(p);
	expect_kw(p, T_DONE);
	return n;
}

static struct node *parse_case(struct parser *p)
{
	struct node *n = new_node(p, N_CASE);
	consume(p);
	int t = peek(p);
	if (t != T_WORD)
		unexpected(p, t, T_WORD);
	n->u.casen.subject = p->w;
	consume(p);
	linebreak(p);
	expect_kw(p, T_IN);
	linebreak(p);
	size_t cap = 0;
	for (;;) {
		t = peek_kw(p);
		if (t == T_ESAC)
			break;
		if (t == T_LP) {
			consume(p);
			t = peek(p);
		}
		struct case_item it = {0};
		size_t pcap = 0;
		for (;;) {
			t = peek(p);
			if (t != T_WORD)
				unexpected(p, t, T_WORD);
			GROW(p, it.pats, it.npats, pcap);
			it.pats[it.npats++] = p->w;
			consume(p);
			t = peek(p);
			if (t == T_PIPE) {
				consume(p);
				continue;
			}
			if (t != T_RP)
				unexpected(p, t, T_RP);
			consume(p);
			break;
		}
		linebreak(p);
		t = peek_kw(p);
		if (t != T_DSEMI && t != T_ESAC)
			it.body = parse_compound_list(p);
		GROW(p, n->u.casen.items, n->u.casen.nitems, cap);
		n->u.casen.items[n->u.casen.nitems++] = it;
		t = peek_kw(p);
		if (t == T_DSEMI) {
			consume(p);
			linebreak(p);
			continue;
		}
		if (t != T_ESAC)
			unexpected(p, t, T_ESAC);
	}
	consume(p);
	return n;
}

static struct node *parse_group(struct parser *p, bool subshell)
{
	struct node *n = new_node(p, subshell ? N_SUBSHELL : N_GROUP);
	consume(p);
	n->u.group.body = parse_compound_list(p);
	if (subshell) {
		int t = peek(p);
		if (t != T_RP)
			unexpected(p, peek_kw(p), T_RP);
		consume(p);
	} else {
		expect_kw(p, T_RBRACE);
	}
	return n;
}

static struct node *parse_simple(struct parser *p)
{
	struct node *n = new_node(p, N_SIMPLE);
	struct redir **tail = &n->redirs;
	size_t wcap = 0, acap = 0;
	for (;;) {
		int t = peek(p);
		if (t == T_REDIR) {
			parse_redirect(p, &tail);
			continue;
		}
		if (t != T_WORD)
			break;
		if (n->u.simple.nwords == 0 && is_assignment(&p->w)) {
			GROW(p, n->u.simple.assigns, n->u.simple.nassigns, acap);
			n->u.simple.assigns[n->u.simple.nassigns++] = p->w;
			consume(p);
			continue;
		}
		GROW(p, n->u.simple.words, n->u.simple.nwords, wcap);
		n->u.simple.words[n->u.simple.nwords++] = p->w;
		consume(p);
		/* name() compound: a function definition */
		if (n->u.simple.nwords == 1 && n->u.simple.nassigns == 0 && !n->redirs &&
		    peek(p) == T_LP) {
			consume(p);
			t = peek(p);
			if (t != T_RP)
				unexpected(p, t, T_RP);
			consume(p);
			linebreak(p);
			int kt = peek_kw(p);
			if (kt != T_LBRACE && kt != T_LP && kt != T_IF && kt != T_WHILE &&
			    kt != T_UNTIL && kt != T_FOR && kt != T_CASE)
				unexpected(p, kt, -1);
			size_t body_start = p->tokstart;
			parse_command(p);
			struct node *f = new_node(p, N_FUNCDEF);
			f->lineno = n->lineno;
			f->u.func.name = n->u.simple.words[0].text;
			f->u.func.src = shell_arena_strndup(p->a, p->s + body_start,
							    p->last_end - body_start);
			return f;
		}
	}
	if (n->u.simple.nwords == 0 && n->u.simple.nassigns == 0 && !n->redirs)
		unexpected(p, peek_kw(p), -1);
	return n;
}

static struct node *parse_command(struct parser *p)
{
	if (++p->depth > SH_NEST_MAX)
		fail(p, PARSE_ERROR, "syntax error: nesting too deep");
	struct node *n;
	int t = peek_kw(p);
	switch (t) {
	case T_IF: n = parse_if(p); break;
	case T_WHILE: n = parse_loop(p, false); break;
	case T_UNTIL: n = parse_loop(p, true); break;
	case T_FOR: n = parse_for(p); break;
	case T_CASE: n = parse_case(p); break;
	case T_LBRACE: n = parse_group(p, false); break;
	case T_LP: n = parse_group(p, true); break;
	case T_WORD:
	case T_REDIR:
		n = parse_simple(p);
		p->depth--;
		return n;
	default: unexpected(p, t, -1); return NULL;
	}
	parse_redirects(p, n);
	p->depth--;
	return n;
}

static struct node *parse_pipeline(struct parser *p)
{
	struct node *n = new_node(p, N_PIPE);
	size_t cap = 0;
	if (peek_kw(p) == T_NOT) {
		consume(p);
		n->u.list.negate = true;
	}
	for (;;) {
		struct node *c = parse_command(p);
		GROW(p, n->u.list.items, n->u.list.n, cap);
		n->u.list.items[n->u.list.n++] = c;
		if (peek(p) != T_PIPE)
			break;
		consume(p);
		linebreak(p);
	}
	if (n->u.list.n == 1 && !n->u.list.negate)
		return n->u.list.items[0];
	return n;
}

static struct node *parse_and_or(struct parser *p)
{
	struct node *first = parse_pipeline(p);
	int t = peek(p);
	if (t != T_AND && t != T_OR)
		return first;
	struct node *n = new_node(p, N_ANDOR);
	n->lineno = first->lineno;
	size_t cap = 0, capops = 0;
	GROW(p, n->u.list.items, n->u.list.n, cap);
	GROW(p, n->u.list.ops, n->u.list.n, capops);
	n->u.list.items[0] = first;
	n->u.list.ops[0] = 0;
	n->u.list.n = 1;
	while ((t = peek(p)) == T_AND || t == T_OR) {
		consume(p);
		linebreak(p);
		struct node *c = parse_pipeline(p);
		GROW(p, n->u.list.items, n->u.list.n, cap);
		GROW(p, n->u.list.ops, n->u.list.n, capops);
		n->u.list.items[n->u.list.n] = c;
		n->u.list.ops[n->u.list.n] = t == T_AND ? SH_OP_AND : SH_OP_OR;
		n->u.list.n++;
	}
	return n;
}

/* The top-level list of one complete command: and-ors separated by ; and &, ended by a newline
 * (consumed) or the end of the text. */
static struct node *parse_top(struct parser *p, bool whole)
{
	struct node *l = new_node(p, N_LIST);
	size_t cap = 0, capops = 0;
	for (;;) {
		if (whole)
			linebreak(p);
		int t = peek_kw(p);
		if (t == T_EOF && (whole || l->u.list.n))
			break;
		list_push(p, l, &cap, &capops, parse_and_or(p));
		t = list_sep(p, l);
		if (t == T_SEMI || t == T_AMP) {
			t = peek(p);
			if (t == T_NL) {
				consume(p);
				if (!whole)
					break;
				continue;
			}
			if (t == T_EOF) {
				if (!whole && !p->eof_final)
					fail(p, PARSE_INCOMPLETE, "incomplete");
				break;
			}
			continue;
		}
		if (t == T_NL) {
			consume(p);
			if (!whole)
				break;
			continue;
		}
		if (t == T_EOF) {
			/* a terminal line always ends with a newline: more is coming (a
			 * continuation) */
			if (!whole && !p->eof_final)
				fail(p, PARSE_INCOMPLETE, "incomplete");
			break;
		}
		unexpected(p, peek_kw(p), -1);
	}
	if (l->u.list.n == 1 && !l->u.list.ops[0])
		l->lineno = l->u.list.items[0]->lineno;
	return l;
}

void shell_parse(struct arena *a, const char *src, size_t len, size_t pos, int lineno,
		 bool eof_final, struct parse_result *res)
{
	struct parser *p = xcalloc(1, sizeof(*p));
	p->a = a;
	p->s = src;
	p->len = len;
	p->pos = pos;
	p->line = lineno;
	p->eof_final = eof_final;
	p->res = res;
	memset(res, 0, sizeof(*res));
	if (setjmp(p->jb)) {
		res->end = p->pos;
		res->node = NULL;
		free(p);
		return;
	}
	/* Empty lines and comment-only lines. */
	int t = peek(p);
	res->lineno = p->tokline;
	if (t == T_EOF || t == T_NL) {
		if (t == T_NL)
			consume(p);
		res->status = PARSE_EMPTY;
		res->end = p->pos;
		free(p);
		return;
	}
	struct node *n = parse_top(p, false);
	/* A lookahead token past the newline cannot exist: parse_top stops at the newline. */
	if (p->nhd) {
		if (!p->eof_final)
			fail(p, PARSE_INCOMPLETE, "incomplete");
		read_heredocs(p);
	}
	res->status = PARSE_OK;
	res->node = n;
	res->end = p->have && p->tok == T_EOF ? p->len : p->pos;
	res->lineno = n->lineno;
	free(p);
}

void shell_parse_all(struct arena *a, const char *src, size_t len, struct parse_result *res)
{
	struct parser *p = xcalloc(1, sizeof(*p));
	p->a = a;
	p->s = src;
	p->len = len;
	p->line = 1;
	p->eof_final = true;
	p->res = res;
	memset(res, 0, sizeof(*res));
	if (setjmp(p->jb)) {
		res->end = p->pos;
		free(p);
		return;
	}
	struct node *n = parse_top(p, true);
	if (p->nhd)
		read_heredocs(p);
	res->status = n->u.list.n ? PARSE_OK : PARSE_EMPTY;
	res->node = n;
	res->end = len;
	free(p);
}
