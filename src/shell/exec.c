/* shell/exec: the executor. Commands run on an explicit stack of frames (reader, list, and-or,
 * pipeline, simple command, if, for, while, case, group, $(...)), never by C recursion across
 * a command, so the shell can suspend anywhere (a wget inside `sh bins.sh` inside a for loop
 * inside a line) and resume when the download completes. Shell processes (the login shell, a
 * nested `sh`, a script, a subshell) are levels with their own cwd and variables. Also: file
 * descriptors and redirections, command lookup, script execution, and the public API. */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shell/internal.h"

int64_t shell_now(void)
{
	return (int64_t)time(NULL);
}

/* ------------------------------------------------------------------ per-frame state */

struct reader {
	char *text;
	size_t len, cap, pos;
	int line;
	bool interactive;
	bool binary; /* a non-script file run as ash does after ENOEXEC */
	bool have_cmd;
	struct arena arena;
};

enum { AFTER_NONE, AFTER_FUNC };

struct cmdstate {
	struct subst_set ss;
	size_t si;
	char **argv;
	size_t argc, cap;
	struct fetch_state *fetch;
	void (*fetch_free)(struct fetch_state *fs);
	int after;
	char **saved_pos;
	size_t saved_npos;
	struct arena farena;
	bool done;
	int done_status;
};

struct forstate {
	struct subst_set ss;
	size_t si;
	char **words;
	size_t n, cap;
};

struct casestate {
	struct subst_set ss;
	size_t si;
};

struct substate {
	struct arena arena;
	char **dest;
	struct fobj *cap;
	char *text;
};

struct pipestate {
	struct fobj *in;
};

/* ------------------------------------------------------------------ file objects */

struct fobj *shell_fobj_new(int kind)
{
	struct fobj *o = xcalloc(1, sizeof(*o));
	o->refs = 1;
	o->kind = (uint8_t)kind;
	if (kind == FO_BUF)
		buf_init(&o->mem, SH_PIPE_MAX);
	return o;
}

void shell_fobj_ref(struct fobj *o)
{
	if (o)
		o->refs++;
}

void shell_fobj_unref(struct shell *sh, struct fobj *o)
{
	if (!o || o == &sh->tty || --o->refs > 0)
		return;
	if (o->vd)
		shell_vdata_unref(&sh->vfs, o->vd);
	free(o->path);
	buf_free(&o->mem);
	free(o);
}

int shell_fobj_write(struct shell *sh, struct fobj *o, const void *p, size_t n, bool attacker,
		     const char *method)
{
	if (!o)
		return -EBADF;
	if (!n)
		return 0;
	sh->vfs.work += n;
	switch (o->kind) {
	case FO_TTY:
		if (sh->io.write && !sh->closed)
			sh->io.write(sh->io.arg, p, n);
		return 0;
	case FO_NULL: return 0;
	case FO_DEV:
		if (o->dev == VDEV_TTY && sh->io.write && !sh->closed)
			sh->io.write(sh->io.arg, p, n);
		return 0;
	case FO_FILE:
		if (!o->writable)
			return -EBADF;
		if (!o->vd)
			return 0;
		return shell_vfs_write(&sh->vfs, o->vd, p, n, attacker,
				       method ? method : "redirect", o->path);
	case FO_BUF:
		if (buf_append(&o->mem, p, n) == 0) {
			o->attacker |= attacker;
		} else {
			size_t room = o->mem.max > o->mem.len + 1 ? o->mem.max - o->mem.len - 1 : 0;
			if (room)
				buf_append(&o->mem, p, room);
			o->attacker |= attacker;
		}
		return 0;
	}
	return -EBADF;
}

int shell_out(struct cmd *c, const void *p, size_t n, bool attacker)
{
	return shell_fobj_write(c->sh, c->f->fd[1], p, n, attacker, c->method);
}

int shell_outs(struct cmd *c, const char *s)
{
	return shell_out(c, s, strlen(s), false);
}

static void vwrite_fd(struct cmd *c, int fd, const char *fmt, va_list ap) LIB_PRINTF(3, 0);
static void vwrite_fd(struct cmd *c, int fd, const char *fmt, va_list ap)
{
	char small[512];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n < sizeof(small)) {
		shell_fobj_write(c->sh, c->f->fd[fd], small, (size_t)n, false, NULL);
	} else {
		char *big = xmalloc((size_t)n + 1);
		vsnprintf(big, (size_t)n + 1, fmt, ap2);
		shell_fobj_write(c->sh, c->f->fd[fd], big, (size_t)n, false, NULL);
		free(big);
	}
	va_end(ap2);
}

void shell_printf(struct cmd *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwrite_fd(c, 1, fmt, ap);
	va_end(ap);
}

void shell_errf(struct cmd *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwrite_fd(c, 2, fmt, ap);
	va_end(ap);
}

void shell_err(struct cmd *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	shell_errf(c, "%s: %s\n", c->name, msg);
}

void shell_shell_err(struct shell *sh, struct fobj *err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char line[1200];
	int n;
	if (sh->lvl->script)
		n = snprintf(line, sizeof(line), "%s: line %d: %s\n", sh->lvl->arg0,
			     sh->lvl->lineno, msg);
	else
		n = snprintf(line, sizeof(line), "%s: %s\n", sh->lvl->arg0, msg);
	if (n > 0)
		shell_fobj_write(sh, err ? err : &sh->tty, line,
				 LIB_MIN((size_t)n, sizeof(line) - 1), false, NULL);
}

/* Bytes readable from an object, generating device bytes into its buffer. */
static const uint8_t *fobj_read_all(struct shell *sh, struct fobj *o, size_t *len, bool *attacker)
{
	*len = 0;
	*attacker = false;
	if (!o || !o->readable)
		return NULL;
	switch (o->kind) {
	case FO_BUF:
		if (o->rpos >= o->mem.len)
			return NULL;
		*len = o->mem.len - o->rpos;
		*attacker = o->attacker;
		{
			const uint8_t *p = o->mem.data + o->rpos;
			o->rpos = o->mem.len;
			return p;
		}
	case FO_FILE:
		if (!o->vd || o->rpos >= o->vd->len)
			return NULL;
		*len = o->vd->len - o->rpos;
		*attacker = o->vd->attacker;
		{
			const uint8_t *p = shell_vdata_bytes(o->vd) + o->rpos;
			o->rpos = o->vd->len;
			return p;
		}
	case FO_DEV:
		if (o->dev == VDEV_ZERO || o->dev == VDEV_RANDOM) {
			if (!o->mem.max)
				buf_init(&o->mem, SH_DEV_READ_MAX + 1);
			buf_reset(&o->mem);
			uint8_t chunk[4096];
			memset(chunk, 0, sizeof(chunk));
			while (o->mem.len < SH_DEV_READ_MAX) {
				if (o->dev == VDEV_RANDOM)
					lib_random(chunk, sizeof(chunk));
				buf_append(&o->mem, chunk, sizeof(chunk));
			}
			*len = o->mem.len;
			return o->mem.data;
		}
		return NULL;
	default: return NULL;
	}
}

const uint8_t *shell_stdin(struct cmd *c, size_t *len, bool *attacker)
{
	const uint8_t *p = fobj_read_all(c->sh, c->f->fd[0], len, attacker);
	return p ? p : (const uint8_t *)"";
}

bool shell_stdin_line(struct cmd *c, struct buf *line)
{
	struct fobj *o = c->f->fd[0];
	buf_reset(line);
	if (!o || !o->readable)
		return false;
	const uint8_t *p;
	size_t len;
	if (o->kind == FO_BUF) {
		p = o->mem.data;
		len = o->mem.len;
	} else if (o->kind == FO_FILE && o->vd) {
		p = shell_vdata_bytes(o->vd);
		len = o->vd->len;
	} else if (o->kind == FO_DEV && o->dev == VDEV_ZERO) {
		return false;
	} else {
		return false;
	}
	if (o->rpos >= len)
		return false;
	const uint8_t *s = p + o->rpos;
	const uint8_t *nl = memchr(s, '\n', len - o->rpos);
	size_t n = nl ? (size_t)(nl - s) : len - o->rpos;
	buf_append(line, s, n);
	o->rpos += n + (nl ? 1 : 0);
	return true;
}

/* ------------------------------------------------------------------ levels and variables */

bool shell_valid_name(const char *s, size_t n)
{
	if (!n || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static struct var *findvar(struct level *l, const char *name)
{
	for (size_t i = 0; i < l->nvars; i++)
		if (strcmp(l->vars[i].name, name) == 0)
			return &l->vars[i];
	return NULL;
}

/* The login shell's environment, implicit until changed: an idle session stores none of it. */
static const char *const dv_names[] = {"HOME", "PATH", "SHELL", "USER", "LOGNAME", "TERM", "PS1"};
enum { DV_ALL = (1u << LIB_ARRAY_LEN(dv_names)) - 1 };

static int dv_index(const char *name)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(dv_names); i++)
		if (strcmp(dv_names[i], name) == 0)
			return (int)i;
	return -1;
}

static const char *dv_value(const struct shell *sh, int i)
{
	const struct profile *p = sh->prof;
	switch (i) {
	case 0: return p && p->home && *p->home ? p->home : "/";
	case 1: return p && p->path && *p->path ? p->path : "/sbin:/usr/sbin:/bin:/usr/bin";
	case 2: return "/bin/sh";
	case 3:
	case 4: return p && p->user ? p->user : "root";
	case 6: return sh->ps1;
	default: return "vt100";
	}
}

static int setvar_real(struct shell *sh, const char *name, const char *value, bool export);

void shell_materialize_defaults(struct shell *sh)
{
	struct level *l = sh->lvl;
	unsigned d = l->defaults;
	l->defaults = 0;
	for (size_t i = 0; i < LIB_ARRAY_LEN(dv_names); i++)
		if (d & (1u << i))
			setvar_real(sh, dv_names[i], dv_value(sh, (int)i), true);
}

const char *shell_getvar(struct shell *sh, const char *name)
{
	if (strcmp(name, "PWD") == 0 && !findvar(sh->lvl, "PWD"))
		return sh->lvl->cwd;
	struct var *v = findvar(sh->lvl, name);
	if (v)
		return v->value;
	int d = sh->lvl->defaults ? dv_index(name) : -1;
	if (d >= 0 && (sh->lvl->defaults & (1u << d)))
		return dv_value(sh, d);
	return NULL;
}

int shell_setvar(struct shell *sh, const char *name, const char *value, bool export)
{
	int d = sh->lvl->defaults ? dv_index(name) : -1;
	if (d >= 0 && (sh->lvl->defaults & (1u << d))) {
		sh->lvl->defaults &= ~(1u << d);
		return setvar_real(sh, name, value ? value : dv_value(sh, d), true);
	}
	return setvar_real(sh, name, value, export);
}

static int setvar_real(struct shell *sh, const char *name, const char *value, bool export)
{
	struct level *l = sh->lvl;
	struct var *v = findvar(l, name);
	if (v) {
		if (v->readonly)
			return -EPERM;
		if (value) {
			char *nv = shell_acct_strdup(sh, value);
			shell_acct_free(sh, v->value);
			v->value = nv;
		}
		v->exported |= export;
		return 0;
	}
	if (l->nvars >= SH_VARS_MAX)
		return -ENOSPC;
	if (l->nvars == l->capvars) {
		l->capvars = l->capvars ? l->capvars * 2 : 8;
		l->vars = xrealloc(l->vars, l->capvars * sizeof(*l->vars));
	}
	v = &l->vars[l->nvars++];
	v->name = shell_acct_strdup(sh, name);
	v->value = value ? shell_acct_strdup(sh, value) : NULL;
	v->exported = export;
	v->readonly = false;
	return 0;
}

void shell_unsetvar(struct shell *sh, const char *name)
{
	struct level *l = sh->lvl;
	int d = dv_index(name);
	if (d >= 0)
		l->defaults &= ~(1u << d);
	for (size_t i = 0; i < l->nvars; i++)
		if (strcmp(l->vars[i].name, name) == 0) {
			if (l->vars[i].readonly)
				return;
			shell_acct_free(sh, l->vars[i].name);
			shell_acct_free(sh, l->vars[i].value);
			l->vars[i] = l->vars[--l->nvars];
			return;
		}
}

static void free_pos(struct shell *sh, char **pos, size_t n)
{
	for (size_t i = 0; i < n; i++)
		shell_acct_free(sh, pos[i]);
	free(pos);
}

static void level_free(struct shell *sh, struct level *l)
{
	for (size_t i = 0; i < l->nvars; i++) {
		shell_acct_free(sh, l->vars[i].name);
		shell_acct_free(sh, l->vars[i].value);
	}
	free(l->vars);
	for (size_t i = 0; i < l->nfuncs; i++) {
		shell_acct_free(sh, l->funcs[i].name);
		shell_acct_free(sh, l->funcs[i].src);
	}
	free(l->funcs);
	free_pos(sh, l->pos, l->npos);
	free(l->cwd);
	free(l->arg0);
	free(l);
}

/* A copy of the current level: a subshell (all variables) or a new shell process (exported
 * variables only, functions dropped). */
static struct level *level_copy(struct shell *sh, bool process)
{
	struct level *o = sh->lvl;
	struct level *l = xcalloc(1, sizeof(*l));
	l->cwd = xstrdup(o->cwd);
	l->defaults = o->defaults;
	for (size_t i = 0; i < o->nvars; i++) {
		if (process && !o->vars[i].exported)
			continue;
		if (l->nvars == l->capvars) {
			l->capvars = l->capvars ? l->capvars * 2 : 8;
			l->vars = xrealloc(l->vars, l->capvars * sizeof(*l->vars));
		}
		struct var *v = &l->vars[l->nvars++];
		v->name = shell_acct_strdup(sh, o->vars[i].name);
		v->value = o->vars[i].value ? shell_acct_strdup(sh, o->vars[i].value) : NULL;
		v->exported = o->vars[i].exported;
		v->readonly = o->vars[i].readonly;
	}
	if (!process) {
		if (o->nfuncs) {
			l->funcs = xcalloc(o->nfuncs, sizeof(*l->funcs));
			for (size_t i = 0; i < o->nfuncs; i++) {
				l->funcs[i].name = shell_acct_strdup(sh, o->funcs[i].name);
				l->funcs[i].src = shell_acct_strdup(sh, o->funcs[i].src);
			}
			l->nfuncs = o->nfuncs;
		}
		if (o->npos) {
			l->pos = xcalloc(o->npos, sizeof(*l->pos));
			for (size_t i = 0; i < o->npos; i++)
				l->pos[i] = shell_acct_strdup(sh, o->pos[i]);
			l->npos = o->npos;
		}
		l->script = o->script;
		l->interactive = o->interactive;
		l->pid = o->pid;
		l->lineno = o->lineno;
	} else {
		l->pid = sh->next_pid++;
	}
	l->arg0 = xstrdup(o->arg0);
	return l;
}

static int level_push(struct shell *sh, struct level *l)
{
	l->parent = sh->lvl;
	sh->lvl = l;
	sh->nlevels++;
	return 0;
}

static void level_pop(struct shell *sh)
{
	struct level *l = sh->lvl;
	if (!l->parent)
		return;
	sh->lvl = l->parent;
	sh->nlevels--;
	level_free(sh, l);
}

static struct func *find_func(struct shell *sh, const char *name)
{
	for (size_t i = 0; i < sh->lvl->nfuncs; i++)
		if (strcmp(sh->lvl->funcs[i].name, name) == 0)
			return &sh->lvl->funcs[i];
	return NULL;
}

static void define_func(struct shell *sh, const char *name, const char *src)
{
	struct level *l = sh->lvl;
	struct func *f = find_func(sh, name);
	if (f) {
		shell_acct_free(sh, f->src);
		f->src = shell_acct_strdup(sh, src);
		return;
	}
	if (l->nfuncs >= SH_FUNCS_MAX)
		return;
	l->funcs = xrealloc(l->funcs, (l->nfuncs + 1) * sizeof(*l->funcs));
	l->funcs[l->nfuncs].name = shell_acct_strdup(sh, name);
	l->funcs[l->nfuncs].src = shell_acct_strdup(sh, src);
	l->nfuncs++;
}

int shell_shell_pid(struct shell *sh)
{
	return sh->lvl->pid;
}

/* ------------------------------------------------------------------ frames */

static void frame_free_state(struct shell *sh, struct frame *f)
{
	switch (f->kind) {
	case F_READER: {
		struct reader *r = f->x;
		if (r) {
			shell_arena_free(&r->arena);
			free(r->text);
		}
		break;
	}
	case F_CMD: {
		struct cmdstate *cs = f->x;
		if (cs) {
			shell_subst_free(&cs->ss);
			for (size_t i = 0; i < cs->argc; i++)
				free(cs->argv[i]);
			free(cs->argv);
			if (cs->fetch && cs->fetch_free)
				cs->fetch_free(cs->fetch);
			if (cs->after == AFTER_FUNC) {
				free_pos(sh, sh->lvl->pos, sh->lvl->npos);
				sh->lvl->pos = cs->saved_pos;
				sh->lvl->npos = cs->saved_npos;
			}
			shell_arena_free(&cs->farena);
		}
		break;
	}
	case F_FOR: {
		struct forstate *fs = f->x;
		if (fs) {
			shell_subst_free(&fs->ss);
			for (size_t i = 0; i < fs->n; i++)
				free(fs->words[i]);
			free(fs->words);
		}
		break;
	}
	case F_CASE: {
		struct casestate *cs = f->x;
		if (cs)
			shell_subst_free(&cs->ss);
		break;
	}
	case F_SUBST: {
		struct substate *ss = f->x;
		if (ss) {
			shell_arena_free(&ss->arena);
			shell_fobj_unref(sh, ss->cap);
			free(ss->text);
		}
		break;
	}
	case F_PIPE: {
		struct pipestate *ps = f->x;
		if (ps)
			shell_fobj_unref(sh, ps->in);
		break;
	}
	default: break;
	}
	free(f->x);
	f->x = NULL;
}

static void pop_frame(struct shell *sh)
{
	struct frame *f = &sh->frames[sh->nframes - 1];
	frame_free_state(sh, f);
	for (int i = 0; i < SH_NFD; i++)
		shell_fobj_unref(sh, f->fd[i]);
	bool lvl = f->owns_level;
	sh->nframes--;
	if (lvl)
		level_pop(sh);
}

/* Pushes a frame; its fds start as copies of `src` (which may point into the stack). */
static struct frame *push_frame(struct shell *sh, int kind, const struct node *n,
				struct fobj *const *src)
{
	struct fobj *fds[SH_NFD];
	memcpy(fds, src, sizeof(fds));
	if (sh->nframes == sh->capframes) {
		sh->capframes = sh->capframes ? sh->capframes * 2 : 1;
		sh->frames = xrealloc(sh->frames, sh->capframes * sizeof(*sh->frames));
	}
	struct frame *f = &sh->frames[sh->nframes++];
	memset(f, 0, sizeof(*f));
	f->kind = (uint8_t)kind;
	f->node = n;
	for (int i = 0; i < SH_NFD; i++) {
		f->fd[i] = fds[i];
		shell_fobj_ref(fds[i]);
	}
	return f;
}

static struct frame *top(struct shell *sh)
{
	return &sh->frames[sh->nframes - 1];
}

static bool stack_full(struct shell *sh)
{
	return sh->nframes >= SH_FRAMES_MAX;
}

static void sh_close(struct shell *sh, enum shell_end reason)
{
	if (sh->closed)
		return;
	sh->closed = true;
	if (sh->io.close)
		sh->io.close(sh->io.arg, reason);
}

/* ------------------------------------------------------------------ redirections */

static const char *errmsg(int e, const char *enoent)
{
	return e == ENOENT ? enoent : shell_strerror(e);
}

static void set_fd(struct shell *sh, struct frame *f, int fd, struct fobj *o)
{
	shell_fobj_unref(sh, f->fd[fd]);
	f->fd[fd] = o;
}

/* Opens a redirection target for writing (or reading). */
static struct fobj *open_target(struct shell *sh, struct frame *f, const char *name, int op,
				int *err)
{
	struct level *l = sh->lvl;
	if (op == R_IN) {
		char abs[SH_PATH_MAX];
		struct vstat st;
		bool pok;
		int rc = shell_vfs_resolve(&sh->vfs, l->cwd, name, true, abs, &st, &pok);
		if (rc) {
			*err = -rc;
			return NULL;
		}
		struct fobj *o;
		if (st.kind == VN_CHR) {
			o = shell_fobj_new(FO_DEV);
			o->dev = (uint8_t)st.dev;
			o->readable = true;
			return o;
		}
		if (st.kind == VN_DIR) {
			/* ash opens folders fine; reading them fails later */
			o = shell_fobj_new(FO_NULL);
			o->readable = true;
			return o;
		}
		o = shell_fobj_new(FO_FILE);
		o->readable = true;
		struct vent *e = st.ve;
		if (e && e->data) {
			o->vd = e->data;
			shell_vdata_ref(o->vd);
		} else {
			/* a profile file: a read-only view */
			o->vd = xcalloc(1, sizeof(*o->vd));
			o->vd->refs = 1;
			o->vd->ro = st.data;
			o->vd->len = st.size;
		}
		o->path = xstrdup(abs);
		return o;
	}
	int flags = op == R_APPEND ? VFS_APPEND : op == R_INOUT ? 0 : VFS_TRUNC;
	struct vdata *vd;
	bool discard;
	int dev;
	char abs[SH_PATH_MAX];
	int rc = shell_vfs_open_write(&sh->vfs, l->cwd, name, flags, &vd, &discard, &dev, abs);
	if (rc) {
		*err = -rc;
		return NULL;
	}
	struct fobj *o;
	if (discard) {
		o = shell_fobj_new(dev ? FO_DEV : FO_NULL);
		o->dev = (uint8_t)dev;
		o->writable = true;
		o->readable = op == R_INOUT;
		return o;
	}
	o = shell_fobj_new(FO_FILE);
	o->vd = vd;
	o->writable = true;
	o->readable = op == R_INOUT;
	o->path = xstrdup(abs);
	(void)f;
	return o;
}

/* Applies a node's redirections to frame fi's descriptors. Returns 0, or 1 after printing
 * ash's error. */
static int apply_redirs(struct shell *sh, size_t fi, const struct redir *r,
			const struct subst_set *ss)
{
	for (; r; r = r->next) {
		struct frame *f = &sh->frames[fi];
		int fd = r->fd;
		if (fd < 0 || fd >= SH_NFD)
			continue;
		if (r->op == R_HEREDOC) {
			struct fobj *o = shell_fobj_new(FO_BUF);
			o->readable = true;
			o->attacker = true;
			if (r->heredoc_expand) {
				char *t =
					shell_expand_one(sh, f->fd[2], &r->target, EX_HEREDOC, ss);
				if (!t) {
					shell_fobj_unref(sh, o);
					return 1;
				}
				buf_append_str(&o->mem, t);
				free(t);
			} else {
				buf_append(&o->mem, r->target.text, r->target.len);
			}
			set_fd(sh, f, fd, o);
			continue;
		}
		char *name = shell_expand_one(sh, f->fd[2], &r->target, 0, ss);
		if (!name)
			return 1;
		if (r->op == R_DUPIN || r->op == R_DUPOUT) {
			if (strcmp(name, "-") == 0) {
				set_fd(sh, f, fd, NULL);
			} else if (name[0] >= '0' && name[0] <= '9' && !name[1]) {
				int src = name[0] - '0';
				if (!f->fd[src]) {
					shell_shell_err(sh, f->fd[2], "%d: bad file descriptor",
							src);
					free(name);
					return 1;
				}
				shell_fobj_ref(f->fd[src]);
				set_fd(sh, f, fd, f->fd[src]);
			} else if (r->op == R_DUPOUT && fd == 1) {
				/* >&file: both stdout and stderr to the file (ash's bash
				 * compatibility) */
				int e = 0;
				struct fobj *o = open_target(sh, f, name, R_OUT, &e);
				if (!o) {
					shell_shell_err(sh, f->fd[2], "can't create %s: %s", name,
							errmsg(e, "nonexistent directory"));
					free(name);
					return 1;
				}
				shell_fobj_ref(o);
				set_fd(sh, f, 1, o);
				set_fd(sh, f, 2, o);
			} else {
				shell_shell_err(sh, f->fd[2], "%s: bad number", name);
				free(name);
				return 1;
			}
			free(name);
			continue;
		}
		int e = 0;
		struct fobj *o = open_target(sh, f, name, r->op, &e);
		if (!o) {
			if (r->op == R_IN)
				shell_shell_err(sh, f->fd[2], "can't open %s: %s", name,
						errmsg(e, "no such file"));
			else
				shell_shell_err(sh, f->fd[2], "can't create %s: %s", name,
						errmsg(e, "nonexistent directory"));
			free(name);
			return 1;
		}
		set_fd(sh, f, fd, o);
		free(name);
	}
	return 0;
}

/* ------------------------------------------------------------------ pushing nodes */

static void push_node(struct shell *sh, const struct node *n, struct fobj *const *fds,
		      bool subshell);

/* Frames that end at once (a redirection failed) mark themselves with stage 0xff. */
enum { STAGE_FAIL = 0xff, STAGE_DONE = 0xfe };

static void push_node(struct shell *sh, const struct node *n, struct fobj *const *fds,
		      bool subshell)
{
	if (stack_full(sh) || sh->nlevels >= SH_LEVELS_MAX) {
		/* Too deep: behave like a failed fork. */
		sh->status = 2;
		return;
	}
	int kind;
	switch (n->type) {
	case N_LIST: kind = F_LIST; break;
	case N_ANDOR: kind = F_ANDOR; break;
	case N_PIPE: kind = F_PIPE; break;
	case N_SIMPLE: kind = F_CMD; break;
	case N_IF: kind = F_IF; break;
	case N_FOR: kind = F_FOR; break;
	case N_WHILE: kind = F_WHILE; break;
	case N_CASE: kind = F_CASE; break;
	case N_GROUP:
	case N_SUBSHELL: kind = F_GROUP; break;
	case N_FUNCDEF:
		define_func(sh, n->u.func.name, n->u.func.src);
		sh->status = 0;
		return;
	default: return;
	}
	struct frame *f = push_frame(sh, kind, n, fds);
	if (subshell || n->type == N_SUBSHELL) {
		level_push(sh, level_copy(sh, false));
		f->owns_level = true;
	}
	if (kind != F_CMD && n->redirs) {
		size_t fi = sh->nframes - 1;
		if (apply_redirs(sh, fi, n->redirs, NULL)) {
			sh->frames[fi].stage = STAGE_FAIL;
			sh->frames[fi].status = 1;
		}
	}
}

/* ------------------------------------------------------------------ command substitution */

/* Starts the next pending $(...) of a set; returns true if a frame was pushed. */
static bool run_next_subst(struct shell *sh, size_t fi, struct subst_set *ss, size_t *si)
{
	if (*si >= ss->n)
		return false;
	const char *k = ss->key[*si];
	size_t klen = strlen(k);
	size_t e = shell_skip_subst(k, klen, 0);
	char *text;
	if (k[0] == '`') {
		/* Inside backquotes a backslash escapes $ ` and \ only. */
		size_t n = e >= 2 ? e - 2 : 0;
		text = xmalloc(n + 1);
		size_t o = 0;
		for (size_t i = 1; i < 1 + n; i++) {
			if (k[i] == '\\' && i + 1 < 1 + n &&
			    (k[i + 1] == '$' || k[i + 1] == '`' || k[i + 1] == '\\'))
				i++;
			text[o++] = k[i];
		}
		text[o] = 0;
	} else {
		text = xstrndup(k + 2, e >= 3 ? e - 3 : 0);
	}
	struct frame *pf = &sh->frames[fi];
	struct frame *f = push_frame(sh, F_SUBST, NULL, pf->fd);
	struct substate *st = xcalloc(1, sizeof(*st));
	f->x = st;
	st->text = text;
	st->dest = &ss->out[*si];
	st->cap = shell_fobj_new(FO_BUF);
	st->cap->writable = true;
	st->cap->readable = true;
	(*si)++;
	level_push(sh, level_copy(sh, false));
	f->owns_level = true;
	return true;
}

static void step_subst(struct shell *sh, struct frame *f)
{
	struct substate *st = f->x;
	if (f->stage == 0) {
		f->stage = 1;
		struct parse_result res;
		shell_parse_all(&st->arena, st->text, strlen(st->text), &res);
		if (res.status == PARSE_ERROR) {
			shell_shell_err(sh, f->fd[2], "%s", res.msg);
			sh->status = 2;
			return;
		}
		if (res.status != PARSE_OK) {
			sh->status = 0;
			return;
		}
		struct fobj *fds[SH_NFD];
		memcpy(fds, f->fd, sizeof(fds));
		fds[1] = st->cap;
		push_node(sh, res.node, fds, false);
		return;
	}
	/* done: trailing newlines removed */
	size_t n = st->cap->mem.len;
	const char *p = (const char *)st->cap->mem.data;
	while (n && p[n - 1] == '\n')
		n--;
	free(*st->dest);
	*st->dest = xstrndup(p ? p : "", n);
	pop_frame(sh);
}

/* ------------------------------------------------------------------ simple commands */

void shell_emit_unknown(struct shell *sh, char **argv, int argc)
{
	if (!sh->io.event)
		return;
	struct buf b;
	buf_init(&b, 4096);
	for (int i = 0; i < argc; i++) {
		if (i)
			buf_append(&b, " ", 1);
		buf_append_str(&b, argv[i]);
	}
	json_t *fields = json_object();
	json_object_set_new(fields, "input",
			    core_json_bytes(b.data ? b.data : (const uint8_t *)"", b.len));
	char msg[160];
	snprintf(msg, sizeof(msg), "unknown command: %.100s", argv[0]);
	sh->io.event(sh->io.arg, EV_COMMAND_UNKNOWN, fields, msg);
	buf_free(&b);
}

int shell_not_found(struct cmd *c, const char *name)
{
	shell_shell_err(c->sh, c->f->fd[2], "%s: not found", name);
	struct reader *r = NULL;
	for (size_t i = c->sh->nframes; i-- > 0;)
		if (c->sh->frames[i].kind == F_READER) {
			r = c->sh->frames[i].x;
			break;
		}
	if (!r || !r->binary)
		shell_emit_unknown(c->sh, c->argv, c->argc);
	return 127;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Is this resolved file the profile's BusyBox binary (unchanged)? */
static bool is_busybox(struct shell *sh, const char *abs, const struct vstat *st)
{
	const struct profile_node *bb = shell_prof_node(sh->prof, "/bin/busybox");
	if (!bb || st->kind != VN_FILE)
		return false;
	if (strcmp(abs, "/bin/busybox") == 0)
		return st->data == bb->data && st->size == bb->len;
	return st->pn == bb || (st->data == bb->data && st->size == bb->len && bb->len);
}

static int exec_resolved(struct cmd *c, const char *abs, const struct vstat *st)
{
	struct shell *sh = c->sh;
	const char *name = c->argv[0];
	if (st->kind == VN_DIR || (st->kind == VN_FILE && !(st->mode & 0111))) {
		shell_shell_err(sh, c->f->fd[2], "%s: Permission denied", name);
		return 126;
	}
	if (st->kind == VN_CHR) {
		shell_shell_err(sh, c->f->fd[2], "%s: Permission denied", name);
		return 126;
	}
	if (is_busybox(sh, abs, st)) {
		const char *applet = basename_of(name);
		if (strcmp(applet, "busybox") == 0)
			return shell_applet(c, "busybox");
		if (shell_prof_has_applet(sh->prof, applet))
			return shell_applet(c, applet);
		shell_errf(c, "%s: applet not found\n", applet);
		return shell_bb_at_least(sh, 1, 27) ? 127 : 1;
	}
	if (st->pn && !st->ve) {
		/* Another program of the device: emulated by name when we can, else silent. */
		const char *b = basename_of(abs);
		const struct profile_command *pc = shell_prof_command(sh->prof, b);
		if (pc) {
			shell_outs(c, pc->output);
			return pc->status;
		}
		if (shell_applet_known(b))
			return shell_applet(c, b);
		return 0;
	}
	return shell_exec_file(c, abs, st);
}

static int dispatch(struct cmd *c, const char *runner);

static int exec_path(struct cmd *c, const char *path)
{
	struct shell *sh = c->sh;
	char abs[SH_PATH_MAX];
	struct vstat st;
	bool pok;
	int rc = shell_vfs_resolve(&sh->vfs, sh->lvl->cwd, path, true, abs, &st, &pok);
	if (rc) {
		if (rc == -ENOENT || rc == -ENOTDIR) {
			shell_shell_err(sh, c->f->fd[2], "%s: not found", path);
			return 127;
		}
		shell_shell_err(sh, c->f->fd[2], "%s: %s", path, shell_strerror(-rc));
		return 126;
	}
	return exec_resolved(c, abs, &st);
}

int shell_path_lookup(struct shell *sh, const char *name, bool exec, char *shown, char *abs,
		      struct vstat *st)
{
	const char *path = shell_getvar(sh, "PATH");
	if (!path)
		path = "/sbin:/usr/sbin:/bin:/usr/bin";
	while (*path) {
		const char *e = strchr(path, ':');
		size_t n = e ? (size_t)(e - path) : strlen(path);
		char dir[SH_PATH_MAX];
		if (n < sizeof(dir)) {
			memcpy(dir, path, n);
			dir[n] = 0;
			bool pok;
			if (shell_vfs_join(n ? dir : ".", name, shown) == 0 &&
			    shell_vfs_resolve(&sh->vfs, sh->lvl->cwd, shown, true, abs, st, &pok) ==
				    0 &&
			    st->kind == VN_FILE && (!exec || (st->mode & 0111)))
				return 0;
		}
		path = e ? e + 1 : path + n;
	}
	return -ENOENT;
}

int shell_dispatch(struct cmd *c)
{
	return dispatch(c, NULL);
}

int shell_dispatch_external(struct cmd *c, const char *runner)
{
	return dispatch(c, runner);
}

/* `runner`: the command is run by a program (nohup, nice...) that execs it: no builtins or
 * functions, and "can't execute" when it does not exist. */
static int dispatch(struct cmd *c, const char *runner)
{
	struct shell *sh = c->sh;
	const char *name = c->argv[0];
	c->name = basename_of(name);
	c->method = NULL;
	if (!*name)
		return shell_not_found(c, name);
	if (strchr(name, '/'))
		return exec_path(c, name);
	const struct sh_command *b = runner ? NULL : shell_find_builtin(name);
	if (b)
		return b->fn(c);
	struct func *fn = runner ? NULL : find_func(sh, name);
	if (fn) {
		struct frame *f = c->f;
		struct cmdstate *cs = f->x;
		struct parse_result res;
		shell_parse_all(&cs->farena, fn->src, strlen(fn->src), &res);
		if (res.status != PARSE_OK)
			return 0;
		cs->after = AFTER_FUNC;
		cs->saved_pos = sh->lvl->pos;
		cs->saved_npos = sh->lvl->npos;
		sh->lvl->npos = (size_t)(c->argc - 1);
		sh->lvl->pos = xcalloc((size_t)c->argc, sizeof(char *));
		for (int i = 1; i < c->argc; i++)
			sh->lvl->pos[i - 1] = shell_acct_strdup(sh, c->argv[i]);
		size_t before = sh->nframes;
		push_node(sh, res.node, f->fd, false);
		if (sh->nframes > before)
			sh->frames[before].catch_return = true;
		return SH_ASYNC;
	}
	const struct profile_command *pc = shell_prof_command(sh->prof, name);
	if (pc) {
		shell_outs(c, pc->output);
		return pc->status;
	}
	char abs[SH_PATH_MAX], shown[SH_PATH_MAX];
	struct vstat st;
	if (shell_path_lookup(sh, name, true, shown, abs, &st) == 0)
		return exec_resolved(c, abs, &st);
	/* A profile without a BusyBox binary in its tree: its applets are on the PATH anyway. */
	if (!shell_prof_node(sh->prof, "/bin/busybox") && shell_prof_has_applet(sh->prof, name))
		return shell_applet(c, name);
	if (runner) {
		shell_errf(c, "%s: can't execute '%s': %s\n", runner, name, shell_strerror(ENOENT));
		return 127;
	}
	return shell_not_found(c, name);
}

static void collect_substs(const struct node *n, struct subst_set *ss)
{
	for (size_t i = 0; i < n->u.simple.nassigns; i++)
		shell_find_substs(n->u.simple.assigns[i].text, n->u.simple.assigns[i].len, ss);
	for (size_t i = 0; i < n->u.simple.nwords; i++)
		shell_find_substs(n->u.simple.words[i].text, n->u.simple.words[i].len, ss);
	for (const struct redir *r = n->redirs; r; r = r->next)
		if (r->op != R_HEREDOC || r->heredoc_expand)
			shell_find_substs(r->target.text, r->target.len, ss);
}

static void cmd_finish(struct shell *sh, int status)
{
	struct frame *f = top(sh);
	if (f->owns_level && sh->unwind) {
		/* exit (or break) in a pipeline element ends that process only */
		if (sh->unwind == UW_EXIT)
			status = sh->lvl->exit_status;
		sh->unwind = UW_NONE;
	}
	sh->status = status;
	pop_frame(sh);
}

static void step_cmd(struct shell *sh, size_t fi)
{
	struct frame *f = &sh->frames[fi];
	const struct node *n = f->node;
	struct cmdstate *cs = f->x;
	if (!cs) {
		cs = f->x = xcalloc(1, sizeof(*cs));
		collect_substs(n, &cs->ss);
	}
	switch (f->stage) {
	case 0:
		if (run_next_subst(sh, fi, &cs->ss, &cs->si))
			return;
		f->stage = 1;
		/* fall through */
	case 1: {
		if (++sh->commands > sh->lim.max_commands) {
			sh_close(sh, SHELL_END_COMMAND_LIMIT);
			return;
		}
		sh->lvl->lineno = n->lineno ? n->lineno : sh->lvl->lineno;
		int st_subst = cs->ss.n ? sh->status : 0;
		for (size_t i = 0; i < n->u.simple.nwords; i++) {
			if (shell_expand(sh, f->fd[2], &n->u.simple.words[i], EX_SPLIT | EX_GLOB,
					 &cs->ss, &cs->argv, &cs->argc, &cs->cap)) {
				cmd_finish(sh, 1);
				return;
			}
		}
		if (apply_redirs(sh, fi, n->redirs, &cs->ss)) {
			cmd_finish(sh, 1);
			return;
		}
		f = &sh->frames[fi];
		/* Assignments: permanent for a bare assignment and special builtins. */
		bool special = false;
		if (cs->argc) {
			const struct sh_command *b = shell_find_builtin(cs->argv[0]);
			special = b && (b->flags & CMD_SPECIAL);
		}
		if (!cs->argc || special) {
			for (size_t i = 0; i < n->u.simple.nassigns; i++) {
				const struct word *w = &n->u.simple.assigns[i];
				const char *eq = memchr(w->text, '=', w->len);
				char name[256];
				size_t nl = (size_t)(eq - w->text);
				if (nl >= sizeof(name))
					continue;
				memcpy(name, w->text, nl);
				name[nl] = 0;
				struct word val = {.text = (char *)eq + 1, .len = w->len - nl - 1};
				char *v = shell_expand_one(sh, f->fd[2], &val, EX_ASSIGN, &cs->ss);
				if (!v) {
					cmd_finish(sh, 1);
					return;
				}
				if (shell_setvar(sh, name, v, false) == -EPERM)
					shell_shell_err(sh, f->fd[2], "%s: is read only", name);
				free(v);
			}
		}
		if (!cs->argc) {
			cmd_finish(sh, st_subst);
			return;
		}
		struct cmd c = {.sh = sh, .f = f, .argc = (int)cs->argc, .argv = cs->argv};
		int rc = shell_dispatch(&c);
		if (rc == SH_ASYNC) {
			sh->frames[fi].stage = 2;
			return;
		}
		if (rc == SH_SUSPEND) {
			sh->frames[fi].stage = 3;
			sh->suspended = true;
			return;
		}
		cmd_finish(sh, rc);
		return;
	}
	case 2:
		/* a child frame (script, nested shell, function) finished */
		cmd_finish(sh, sh->status);
		return;
	case 3:
		/* waiting for a download: nothing to do until shell_fetch_done */
		return;
	case STAGE_DONE: cmd_finish(sh, cs->done_status); return;
	}
}

/* ------------------------------------------------------------------ compound commands */

static void step_list(struct shell *sh, struct frame *f)
{
	const struct node *n = f->node;
	if (f->idx > 0 && n->u.list.ops[f->idx - 1]) {
		/* a background job: ash reports its start, we ran it inline */
		sh->lvl->last_bg_pid = sh->next_pid++;
		sh->status = 0;
	}
	if (f->idx >= n->u.list.n) {
		pop_frame(sh);
		return;
	}
	const struct node *item = n->u.list.items[f->idx++];
	push_node(sh, item, f->fd, false);
}

static void step_andor(struct shell *sh, struct frame *f)
{
	const struct node *n = f->node;
	while (f->idx < n->u.list.n) {
		if (f->idx > 0) {
			int op = n->u.list.ops[f->idx];
			if ((op == SH_OP_AND && sh->status != 0) ||
			    (op == SH_OP_OR && sh->status == 0)) {
				f->idx++;
				continue;
			}
		}
		const struct node *item = n->u.list.items[f->idx++];
		push_node(sh, item, f->fd, false);
		return;
	}
	pop_frame(sh);
}

static void step_pipe(struct shell *sh, size_t fi)
{
	struct frame *f = &sh->frames[fi];
	const struct node *n = f->node;
	struct pipestate *ps = f->x;
	if (!ps)
		ps = f->x = xcalloc(1, sizeof(*ps));
	if (f->idx >= n->u.list.n) {
		int st = sh->status;
		if (n->u.list.negate)
			st = !st;
		sh->status = st;
		pop_frame(sh);
		return;
	}
	size_t i = f->idx++;
	struct fobj *fds[SH_NFD];
	memcpy(fds, f->fd, sizeof(fds));
	struct fobj *out = NULL;
	if (i + 1 < n->u.list.n) {
		out = shell_fobj_new(FO_BUF);
		out->writable = true;
		out->readable = true;
		fds[1] = out;
	}
	struct fobj *in = ps->in;
	if (i > 0) {
		fds[0] = in ? in : f->fd[0];
		if (!in) {
			/* an empty pipe */
			struct fobj *e = shell_fobj_new(FO_NULL);
			e->readable = true;
			fds[0] = e;
			ps->in = e;
			in = e;
		}
	}
	bool multi = n->u.list.n > 1;
	push_node(sh, n->u.list.items[i], fds, multi);
	/* The next element reads what this one writes; this one's input is released. */
	f = &sh->frames[fi];
	ps = f->x;
	if (i > 0) {
		shell_fobj_unref(sh, in);
		ps->in = NULL;
	}
	ps->in = out;
}

static void step_if(struct shell *sh, struct frame *f)
{
	const struct node *n = f->node;
	switch (f->stage) {
	case 0:
		f->stage = 1;
		push_node(sh, n->u.ifn.cond, f->fd, false);
		return;
	case 1:
		f->stage = 2;
		if (sh->status == 0) {
			push_node(sh, n->u.ifn.then, f->fd, false);
			return;
		}
		if (n->u.ifn.els) {
			push_node(sh, n->u.ifn.els, f->fd, false);
			return;
		}
		sh->status = 0;
		pop_frame(sh);
		return;
	default: pop_frame(sh); return;
	}
}

static void step_while(struct shell *sh, struct frame *f)
{
	const struct node *n = f->node;
	switch (f->stage) {
	case 0:
		f->stage = 1;
		push_node(sh, n->u.loop.cond, f->fd, false);
		return;
	case 1: {
		bool go = (sh->status == 0) != n->u.loop.until;
		if (!go || f->idx >= SH_LOOP_MAX) {
			sh->status = f->status;
			pop_frame(sh);
			return;
		}
		f->stage = 2;
		push_node(sh, n->u.loop.body, f->fd, false);
		return;
	}
	default:
		f->status = sh->status;
		f->idx++;
		f->stage = 0;
		return;
	}
}

static void step_for(struct shell *sh, size_t fi)
{
	struct frame *f = &sh->frames[fi];
	const struct node *n = f->node;
	struct forstate *fs = f->x;
	if (!fs) {
		fs = f->x = xcalloc(1, sizeof(*fs));
		for (size_t i = 0; i < n->u.forn.nwords; i++)
			shell_find_substs(n->u.forn.words[i].text, n->u.forn.words[i].len, &fs->ss);
	}
	switch (f->stage) {
	case 0:
		if (run_next_subst(sh, fi, &fs->ss, &fs->si))
			return;
		f->stage = 1;
		if (n->u.forn.has_in) {
			for (size_t i = 0; i < n->u.forn.nwords; i++)
				if (shell_expand(sh, f->fd[2], &n->u.forn.words[i],
						 EX_SPLIT | EX_GLOB, &fs->ss, &fs->words, &fs->n,
						 &fs->cap)) {
					sh->status = 1;
					pop_frame(sh);
					return;
				}
		} else {
			for (size_t i = 0; i < sh->lvl->npos; i++) {
				if (fs->n + 1 >= fs->cap) {
					fs->cap = fs->cap ? fs->cap * 2 : 8;
					fs->words = xrealloc(fs->words, fs->cap * sizeof(char *));
				}
				fs->words[fs->n++] = xstrdup(sh->lvl->pos[i]);
			}
		}
		f->status = 0;
		/* fall through */
	case 1:
		if (f->idx >= fs->n || f->idx >= SH_LOOP_MAX) {
			sh->status = f->status;
			pop_frame(sh);
			return;
		}
		if (shell_setvar(sh, n->u.forn.var, fs->words[f->idx++], false) == -EPERM) {
			sh->status = 1;
			pop_frame(sh);
			return;
		}
		f->stage = 2;
		push_node(sh, n->u.forn.body, f->fd, false);
		return;
	default:
		f->status = sh->status;
		f->stage = 1;
		return;
	}
}

static void step_case(struct shell *sh, size_t fi)
{
	struct frame *f = &sh->frames[fi];
	const struct node *n = f->node;
	struct casestate *cs = f->x;
	if (!cs) {
		cs = f->x = xcalloc(1, sizeof(*cs));
		shell_find_substs(n->u.casen.subject.text, n->u.casen.subject.len, &cs->ss);
		for (size_t i = 0; i < n->u.casen.nitems; i++)
			for (size_t k = 0; k < n->u.casen.items[i].npats; k++)
				shell_find_substs(n->u.casen.items[i].pats[k].text,
						  n->u.casen.items[i].pats[k].len, &cs->ss);
	}
	if (f->stage == 0) {
		if (run_next_subst(sh, fi, &cs->ss, &cs->si))
			return;
		f = &sh->frames[fi];
		f->stage = 1;
		char *subj = shell_expand_one(sh, f->fd[2], &n->u.casen.subject, 0, &cs->ss);
		if (!subj) {
			sh->status = 1;
			pop_frame(sh);
			return;
		}
		for (size_t i = 0; i < n->u.casen.nitems; i++) {
			const struct case_item *it = &n->u.casen.items[i];
			for (size_t k = 0; k < it->npats; k++) {
				char *pat = shell_expand_one(sh, f->fd[2], &it->pats[k], EX_PATTERN,
							     &cs->ss);
				bool m = pat && shell_pmatch(pat, subj);
				free(pat);
				if (m) {
					free(subj);
					if (!it->body) {
						sh->status = 0;
						pop_frame(sh);
						return;
					}
					push_node(sh, it->body, f->fd, false);
					return;
				}
			}
		}
		free(subj);
		sh->status = 0;
		pop_frame(sh);
		return;
	}
	pop_frame(sh);
}

static void step_group(struct shell *sh, struct frame *f)
{
	if (f->stage == 0) {
		f->stage = 1;
		push_node(sh, f->node->u.group.body, f->fd, false);
		return;
	}
	pop_frame(sh);
}

/* ------------------------------------------------------------------ readers */

/* The PS1 the device's /etc/profile sets, from the profile's prompt format: %h %u %w %W %$
 * become ash's \h \u \w \W \$, %% a '%', and a backslash is doubled. */
static char *ps1_of_profile(const struct profile *p)
{
	const char *fmt = p && p->prompt ? p->prompt : "%u@%h:%w%$ ";
	struct buf b;
	buf_init(&b, 4096);
	buf_append(&b, "", 0);
	for (const char *s = fmt; *s; s++) {
		if (*s == '\\')
			buf_append_str(&b, "\\\\");
		else if (*s == '%' && s[1] == '%')
			buf_append(&b, "%", 1), s++;
		else if (*s == '%' && s[1])
			buf_printf(&b, "\\%c", *++s);
		else
			buf_append(&b, s, 1);
	}
	size_t n;
	return (char *)buf_steal(&b, &n);
}

static void print_prompt(struct shell *sh, struct frame *f, bool ps2)
{
	if (ps2) {
		shell_fobj_write(sh, f->fd[2], "> ", 2, false, NULL);
		return;
	}
	/* $PS1 with ash's escapes; by default the profile's prompt (see ps1_of_profile) */
	const char *fmt = shell_getvar(sh, "PS1");
	if (!fmt)
		fmt = "";
	struct buf b;
	buf_init(&b, 4096);
	const char *home = shell_getvar(sh, "HOME");
	const char *cwd = sh->lvl->cwd;
	for (const char *p = fmt; *p; p++) {
		if (*p != '\\' || !p[1]) {
			buf_append(&b, p, 1);
			continue;
		}
		switch (*++p) {
		case 'h':
			buf_append_str(&b, sh->prof && sh->prof->hostname ? sh->prof->hostname
									  : "(none)");
			break;
		case 'u':
			buf_append_str(&b, sh->prof && sh->prof->user ? sh->prof->user : "root");
			break;
		case 'w': {
			size_t hl = home ? strlen(home) : 0;
			if (hl > 1 && strncmp(cwd, home, hl) == 0 && (cwd[hl] == '/' || !cwd[hl])) {
				buf_append(&b, "~", 1);
				buf_append_str(&b, cwd + hl);
			} else {
				buf_append_str(&b, cwd);
			}
			break;
		}
		case 'W': {
			const char *s = strrchr(cwd, '/');
			buf_append_str(&b, s && s[1] ? s + 1 : cwd);
			break;
		}
		case '$': buf_append(&b, sh->vfs.uid == 0 ? "#" : "$", 1); break;
		case '\\': buf_append(&b, "\\", 1); break;
		case 'n': buf_append(&b, "\n", 1); break;
		default: buf_append(&b, p - 1, 2); break;
		}
	}
	shell_fobj_write(sh, f->fd[2], b.data, b.len, false, NULL);
	buf_free(&b);
}

static int count_nl(const char *s, size_t from, size_t to)
{
	int n = 0;
	for (size_t i = from; i < to; i++)
		n += s[i] == '\n';
	return n;
}

static void step_reader(struct shell *sh, size_t fi)
{
	struct frame *f = &sh->frames[fi];
	struct reader *r = f->x;
	if (r->have_cmd) {
		shell_arena_free(&r->arena);
		r->have_cmd = false;
	}
	if (f->stage == STAGE_DONE) {
		pop_frame(sh);
		return;
	}
	for (;;) {
		if (r->interactive && r->pos > 0 && r->pos >= r->len) {
			/* all read: an idle terminal keeps no buffer */
			free(r->text);
			r->text = NULL;
			r->len = r->pos = r->cap = 0;
		}
		if (r->pos >= r->len) {
			if (r->interactive) {
				print_prompt(sh, f, false);
				sh->waiting = true;
				return;
			}
			pop_frame(sh);
			return;
		}
		struct parse_result res;
		shell_parse(&r->arena, r->text, r->len, r->pos, r->line, !r->interactive, &res);
		switch (res.status) {
		case PARSE_EMPTY:
			r->line += count_nl(r->text, r->pos, res.end);
			r->pos = res.end > r->pos ? res.end : r->len;
			shell_arena_free(&r->arena);
			continue;
		case PARSE_INCOMPLETE:
			shell_arena_free(&r->arena);
			print_prompt(sh, f, true);
			sh->waiting = true;
			return;
		case PARSE_ERROR:
			shell_arena_free(&r->arena);
			sh->lvl->lineno = res.errline;
			shell_shell_err(sh, f->fd[2], "%s", res.msg);
			sh->status = 2;
			if (r->interactive) {
				r->len = r->pos = 0;
				continue;
			}
			pop_frame(sh);
			return;
		default: break;
		}
		r->line += count_nl(r->text, r->pos, res.end);
		r->pos = res.end;
		r->have_cmd = true;
		sh->lvl->lineno = res.lineno;
		push_node(sh, res.node, f->fd, false);
		return;
	}
}

static struct frame *push_reader(struct shell *sh, struct fobj *const *fds, const char *text,
				 size_t len, bool interactive)
{
	struct frame *f = push_frame(sh, F_READER, NULL, fds);
	struct reader *r = xcalloc(1, sizeof(*r));
	f->x = r;
	r->interactive = interactive;
	r->line = 1;
	if (len) {
		r->text = xmalloc(len + 1);
		/* ash drops NUL bytes from its input */
		size_t k = 0;
		for (size_t i = 0; i < len; i++)
			if (text[i])
				r->text[k++] = text[i];
		r->text[k] = 0;
		r->len = k;
		r->cap = len + 1;
	}
	return f;
}

int shell_run_script(struct cmd *c, const char *text, size_t len, const char *arg0, char **args,
		     size_t nargs, bool new_level, bool is_file)
{
	struct shell *sh = c->sh;
	if (stack_full(sh) || sh->nlevels >= SH_LEVELS_MAX)
		return 2;
	if (new_level) {
		int depth = 0;
		for (struct level *l = sh->lvl; l; l = l->parent)
			depth += l->nested;
		if (depth >= sh->lim.script_depth)
			return 2;
	}
	struct fobj *fds[SH_NFD];
	memcpy(fds, c->f->fd, sizeof(fds));
	struct frame *f = push_reader(sh, fds, text, len, false);
	struct reader *r = f->x;
	/* a script that runs nothing exits 0 */
	sh->status = 0;
	r->binary = is_file && len >= 4 &&
		    memcmp(text,
			   "\x7f"
			   "ELF",
			   4) == 0;
	if (new_level) {
		struct level *l = level_copy(sh, true);
		free(l->arg0);
		l->arg0 = xstrdup(arg0);
		/* a script file's errors name its line ("x.sh: line 3: ..."); sh -c's do not */
		l->script = is_file;
		l->nested = true;
		l->interactive = false;
		if (nargs) {
			l->pos = xcalloc(nargs, sizeof(char *));
			for (size_t i = 0; i < nargs; i++)
				l->pos[i] = shell_acct_strdup(sh, args[i]);
			l->npos = nargs;
		}
		level_push(sh, l);
		f->owns_level = true;
	} else {
		f->catch_return = true;
	}
	return SH_ASYNC;
}

int shell_run_interactive(struct cmd *c)
{
	struct shell *sh = c->sh;
	if (stack_full(sh) || sh->nlevels >= SH_LEVELS_MAX)
		return 2;
	struct fobj *fds[SH_NFD];
	memcpy(fds, c->f->fd, sizeof(fds));
	struct frame *f = push_reader(sh, fds, NULL, 0, true);
	struct level *l = level_copy(sh, true);
	free(l->arg0);
	l->arg0 = xstrdup("sh");
	l->script = false;
	l->interactive = true;
	level_push(sh, l);
	f->owns_level = true;
	return SH_ASYNC;
}

/* Whether an ELF header is of the device's CPU (class, byte order, machine). */
static bool elf_matches(const struct profile *p, const uint8_t *d, size_t n)
{
	if (!p || !p->elf.machine)
		return true;
	if (n < 20)
		return false;
	int machine = d[5] == 2 ? (d[18] << 8 | d[19]) : (d[19] << 8 | d[18]);
	return d[4] == p->elf.elf_class && d[5] == p->elf.data && machine == p->elf.machine;
}

/* ------------------------------------------------------------------ ELF as the kernel loads it */

static uint64_t elf_get(const uint8_t *d, size_t off, int size, bool be)
{
	uint64_t v = 0;
	for (int i = 0; i < size; i++)
		v |= (uint64_t)d[off + (size_t)i] << (8 * (be ? size - 1 - i : i));
	return v;
}

enum elf_fate { ELF_RUNS, ELF_NOEXEC, ELF_NO_INTERP, ELF_SEGV };

/* What the kernel's ELF loader (binfmt_elf) makes of a file of the device's CPU: ENOEXEC for a
 * header it refuses (type, program header size and count, headers past the end), ENOENT when
 * the program interpreter it names does not exist, and a program whose entry point lies in no
 * executable PT_LOAD segment is started and dies of SIGSEGV at once. Anything else runs. */
static enum elf_fate elf_fate(struct shell *sh, const uint8_t *d, size_t n)
{
	bool wide = d[4] == 2, be = d[5] == 2;
	size_t ehsize = wide ? 64 : 52, phsize = wide ? 56 : 32;
	if (n < ehsize)
		return ELF_NOEXEC;
	uint64_t type = elf_get(d, 16, 2, be);
	uint64_t entry = elf_get(d, 24, wide ? 8 : 4, be);
	uint64_t phoff = elf_get(d, wide ? 32 : 28, wide ? 8 : 4, be);
	uint64_t phentsize = elf_get(d, wide ? 54 : 42, 2, be);
	uint64_t phnum = elf_get(d, wide ? 56 : 44, 2, be);
	if ((type != 2 && type != 3) || phentsize != phsize || phnum < 1 ||
	    phnum * phsize > SH_ELF_PHDRS_MAX || phoff > n || n - phoff < phnum * phsize)
		return ELF_NOEXEC;
	bool entry_ok = false;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = d + phoff + i * phsize;
		uint64_t ptype = elf_get(ph, 0, 4, be);
		uint64_t flags = elf_get(ph, wide ? 4 : 24, 4, be);
		uint64_t off = elf_get(ph, wide ? 8 : 4, wide ? 8 : 4, be);
		uint64_t vaddr = elf_get(ph, wide ? 16 : 8, wide ? 8 : 4, be);
		uint64_t filesz = elf_get(ph, wide ? 32 : 16, wide ? 8 : 4, be);
		if (ptype == 3) { /* PT_INTERP */
			if (filesz < 2 || filesz > SH_PATH_MAX || off > n || n - off < filesz ||
			    d[off + filesz - 1] != 0)
				return ELF_NOEXEC;
			struct vstat ist;
			char iabs[SH_PATH_MAX];
			bool pok;
			if (shell_vfs_resolve(&sh->vfs, "/", (const char *)d + off, true, iabs,
					      &ist, &pok) ||
			    ist.kind != VN_FILE)
				return ELF_NO_INTERP;
		}
		if (ptype == 1 && (flags & 1) && entry >= vaddr && entry - vaddr < filesz)
			entry_ok = true;
	}
	return entry_ok ? ELF_RUNS : ELF_SEGV;
}

int shell_exec_file(struct cmd *c, const char *abs, const struct vstat *st)
{
	struct shell *sh = c->sh;
	const uint8_t *p = st->data ? st->data : (const uint8_t *)"";
	size_t n = st->size;
	if (st->ve && st->ve->data)
		shell_vfs_report(&sh->vfs, st->ve->data, abs);
	if (n >= 4 && memcmp(p,
			     "\x7f"
			     "ELF",
			     4) == 0) {
		if (sh->io.exec)
			sh->io.exec(sh->io.arg, abs, p, n, c->argc, c->argv);
		enum elf_fate fate = elf_matches(sh->prof, p, n) ? elf_fate(sh, p, n) : ELF_NOEXEC;
		if (fate == ELF_RUNS)
			return 0; /* it runs (in the sandbox); a bot daemonises and prints nothing
				     here */
		if (fate == ELF_SEGV) {
			/* ash reports the job's death by signal as strsignal() words it */
			shell_errf(c, "Segmentation fault\n");
			return 128 + SH_SIGSEGV;
		}
		if (fate == ELF_NO_INTERP) {
			shell_shell_err(sh, c->f->fd[2], "%s: not found", c->argv[0]);
			return 127;
		}
		/* ENOEXEC: ash runs the file as a shell script */
		return shell_run_script(c, (const char *)p, n, c->argv[0], c->argv + 1,
					(size_t)(c->argc - 1), true, true);
	}
	if (n >= 2 && p[0] == '#' && p[1] == '!') {
		size_t i = 2;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		size_t s0 = i;
		while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			i++;
		char interp[SH_PATH_MAX];
		size_t il = LIB_MIN(i - s0, sizeof(interp) - 1);
		memcpy(interp, p + s0, il);
		interp[il] = 0;
		char iabs[SH_PATH_MAX];
		struct vstat ist;
		bool pok;
		if (!il || shell_vfs_resolve(&sh->vfs, "/", interp, true, iabs, &ist, &pok) ||
		    ist.kind != VN_FILE) {
			shell_shell_err(sh, c->f->fd[2], "%s: not found", c->argv[0]);
			return 127;
		}
		const char *b = basename_of(interp);
		if (strcmp(b, "sh") && strcmp(b, "ash") && strcmp(b, "bash") &&
		    strcmp(b, "busybox") && !is_busybox(sh, iabs, &ist))
			return 0;
	}
	return shell_run_script(c, (const char *)p, n, c->argv[0], c->argv + 1,
				(size_t)(c->argc - 1), true, true);
}

/* ------------------------------------------------------------------ the loop */

static bool is_loop(const struct frame *f)
{
	return f->kind == F_FOR || f->kind == F_WHILE;
}

/* Pops frames for exit/break/continue/return; returns true if unwinding goes on. */
static void unwind_step(struct shell *sh)
{
	struct frame *f = top(sh);
	switch (sh->unwind) {
	case UW_EXIT:
		if (sh->nframes == 1) {
			sh->unwind = UW_NONE;
			sh_close(sh, SHELL_END_EXIT);
			return;
		}
		if (f->owns_level && f->kind != F_CMD) {
			int st = sh->lvl->exit_status;
			pop_frame(sh);
			sh->status = st;
			sh->unwind = UW_NONE;
			return;
		}
		if (f->owns_level) {
			/* a pipeline element or subshell command ended by exit */
			int st = sh->lvl->exit_status;
			pop_frame(sh);
			sh->status = st;
			sh->unwind = UW_NONE;
			return;
		}
		pop_frame(sh);
		return;
	case UW_BREAK:
	case UW_CONTINUE:
		if (is_loop(f)) {
			if (--sh->unwind_n > 0) {
				pop_frame(sh);
				return;
			}
			if (sh->unwind == UW_BREAK) {
				sh->status = 0;
				pop_frame(sh);
			} else {
				f->stage = f->kind == F_FOR ? 1 : 0;
				f->idx += f->kind == F_WHILE;
			}
			sh->unwind = UW_NONE;
			return;
		}
		if (f->owns_level || f->catch_return || f->kind == F_READER) {
			sh->unwind = UW_NONE;
			return;
		}
		pop_frame(sh);
		return;
	case UW_INTERRUPT:
		if (f->kind == F_READER && ((struct reader *)f->x)->interactive) {
			struct reader *r = f->x;
			r->pos = r->len; /* the rest of what was typed is gone */
			sh->unwind = UW_NONE;
			return;
		}
		pop_frame(sh);
		return;
	case UW_RETURN:
		if (f->catch_return || f->owns_level) {
			pop_frame(sh);
			sh->unwind = UW_NONE;
			return;
		}
		if (sh->nframes == 1) {
			sh->unwind = UW_NONE;
			return;
		}
		pop_frame(sh);
		return;
	default: sh->unwind = UW_NONE;
	}
}

static void run(struct shell *sh)
{
	if (sh->running)
		return;
	sh->running = true;
	sh->waiting = false;
	while (sh->nframes && !sh->closed && !sh->suspended && !sh->waiting) {
		if (sh->vfs.work > SH_WORK_MAX) {
			sh_close(sh, SHELL_END_WORK_LIMIT);
			break;
		}
		if (sh->give_way) {
			sh_close(sh, sh->give_way_end);
			break;
		}
		if (sh->unwind) {
			unwind_step(sh);
			continue;
		}
		size_t fi = sh->nframes - 1;
		struct frame *f = &sh->frames[fi];
		if (f->stage == STAGE_FAIL) {
			sh->status = f->status;
			pop_frame(sh);
			continue;
		}
		switch (f->kind) {
		case F_READER: step_reader(sh, fi); break;
		case F_LIST: step_list(sh, f); break;
		case F_ANDOR: step_andor(sh, f); break;
		case F_PIPE: step_pipe(sh, fi); break;
		case F_CMD: step_cmd(sh, fi); break;
		case F_IF: step_if(sh, f); break;
		case F_FOR: step_for(sh, fi); break;
		case F_WHILE: step_while(sh, f); break;
		case F_CASE: step_case(sh, fi); break;
		case F_GROUP: step_group(sh, f); break;
		case F_SUBST: step_subst(sh, f); break;
		default: pop_frame(sh); break;
		}
	}
	if (!sh->nframes && !sh->closed)
		sh_close(sh, SHELL_END_EXIT);
	/* an idle session keeps only its reader's frame */
	if (sh->nframes == 1 && sh->capframes > 2) {
		sh->frames = xrealloc(sh->frames, sizeof(*sh->frames));
		sh->capframes = 1;
	}
	sh->running = false;
}

/* Exit/break/continue/return from builtins. */
void shell_request_unwind(struct shell *sh, int kind, int n, int status)
{
	sh->unwind = kind;
	sh->unwind_n = n;
	if (kind == UW_EXIT)
		sh->lvl->exit_status = status;
	sh->status = status;
}

void shell_exec_redirect(struct cmd *c)
{
	/* The descriptors of the command become those of its shell: of every frame down to the
	 * one that started this shell process (a reader, or a subshell). */
	struct shell *sh = c->sh;
	for (size_t i = sh->nframes - 1; i-- > 0;) {
		struct frame *f = &sh->frames[i];
		for (int k = 0; k < SH_NFD; k++) {
			shell_fobj_ref(c->f->fd[k]);
			shell_fobj_unref(sh, f->fd[k]);
			f->fd[k] = c->f->fd[k];
		}
		if (f->kind == F_READER || f->owns_level)
			return;
	}
}

void shell_end_session(struct shell *sh, enum shell_end reason)
{
	sh_close(sh, reason);
}

size_t shell_shell_pids(struct shell *sh, int *pids, size_t max)
{
	size_t n = 0;
	int last = -1;
	for (struct level *l = sh->lvl; l && n < max; l = l->parent) {
		if (l->pid == last)
			continue;
		pids[n++] = l->pid;
		last = l->pid;
	}
	return n;
}

/* ------------------------------------------------------------------ reports */

void shell_report(void *arg, const char *path, struct vdata *vd)
{
	struct shell *sh = arg;
	const uint8_t *p = shell_vdata_bytes(vd);
	uint64_t h = lib_siphash(p, vd->len, sh->hkey) ^ (uint64_t)vd->len;
	for (size_t i = 0; i < sh->nreported; i++)
		if (sh->reported[i] == h)
			return;
	if (!sh->reported)
		sh->reported = xcalloc(SH_REPORTED_MAX, sizeof(*sh->reported));
	if (sh->nreported < SH_REPORTED_MAX)
		sh->reported[sh->nreported++] = h;
	else {
		memmove(sh->reported, sh->reported + 1, (SH_REPORTED_MAX - 1) * sizeof(uint64_t));
		sh->reported[SH_REPORTED_MAX - 1] = h;
	}
	if (sh->io.file_written)
		sh->io.file_written(sh->io.arg, path, p, vd->len,
				    vd->method ? vd->method : "redirect");
}

/* ------------------------------------------------------------------ downloads */

/* Called by net.c when a command starts a download. */
void shell_attach_fetch(struct cmd *c, struct fetch_state *fs, void (*freefn)(struct fetch_state *))
{
	struct cmdstate *cs = c->f->x;
	if (cs->fetch && cs->fetch_free && cs->fetch != fs)
		cs->fetch_free(cs->fetch);
	cs->fetch = fs;
	cs->fetch_free = freefn;
}

int shell_fetch_deliver(struct cmd *c, struct fetch_state *fs,
			const struct shell_fetch_result *res);

void shell_fetch_done(struct shell *sh, uint64_t id, const struct shell_fetch_result *res)
{
	if (!sh || !sh->suspended || id != sh->fetch_id || !sh->nframes)
		return;
	size_t fi = sh->nframes - 1;
	struct frame *f = &sh->frames[fi];
	struct cmdstate *cs = f->x;
	if (f->kind != F_CMD || f->stage != 3 || !cs || !cs->fetch)
		return;
	sh->suspended = false;
	sh->fetch_id = 0;
	struct cmd c = {.sh = sh, .f = f, .argc = (int)cs->argc, .argv = cs->argv};
	c.name = basename_of(cs->argv[0]);
	int rc = shell_fetch_deliver(&c, cs->fetch, res);
	f = &sh->frames[fi];
	cs = f->x;
	if (rc == SH_SUSPEND) {
		sh->suspended = true;
		return;
	}
	cs->done = true;
	cs->done_status = rc;
	f->stage = STAGE_DONE;
	run(sh);
	shell_drain(sh);
}

/* ------------------------------------------------------------------ waits and ^C */

int shell_wait(struct cmd *c, uint64_t ms)
{
	struct shell *sh = c->sh;
	bool cut = sh->timeout_ms && ms > sh->timeout_ms;
	if (cut)
		ms = sh->timeout_ms;
	if (!sh->io.wait || ms == 0 || sh->io.wait(sh->io.arg, LIB_MIN(ms, SH_WAIT_MAX_MS)) < 0)
		return cut ? shell_terminated(sh) : 0;
	sh->wait_pending = true;
	sh->wait_timed_out = cut;
	return SH_SUSPEND;
}

/* Ends the suspended command (top frame) with a status, and runs on. */
static void finish_suspended(struct shell *sh, int status)
{
	struct frame *f = top(sh);
	struct cmdstate *cs = f->x;
	sh->suspended = false;
	sh->wait_pending = false;
	sh->wait_timed_out = false;
	sh->fetch_id = 0;
	if (f->kind != F_CMD || f->stage != 3 || !cs)
		return;
	cs->done = true;
	cs->done_status = status;
	f->stage = STAGE_DONE;
}

/* A program killed by timeout's SIGTERM: ash reports it, the status is 128 + 15. */
int shell_terminated(struct shell *sh)
{
	if (sh->io.write)
		sh->io.write(sh->io.arg, "Terminated\n", 11);
	return SH_STATUS_SIGTERM;
}

void shell_wait_done(struct shell *sh)
{
	if (!sh || !sh->suspended || !sh->wait_pending || !sh->nframes)
		return;
	bool cut = sh->wait_timed_out;
	sh->wait_timed_out = false;
	finish_suspended(sh, cut ? shell_terminated(sh) : 0);
	run(sh);
	shell_drain(sh);
}

enum shell_intr shell_interrupt(struct shell *sh)
{
	if (!sh || sh->closed || !sh->suspended || !sh->nframes)
		return SHELL_INTR_NONE;
	enum shell_intr what = sh->wait_pending ? SHELL_INTR_WAIT : SHELL_INTR_FETCH;
	finish_suspended(sh, SH_STATUS_SIGINT);
	/* The tty discards what was typed ahead; ash abandons the rest of the line. */
	buf_reset(&sh->queue);
	shell_request_unwind(sh, UW_INTERRUPT, 0, SH_STATUS_SIGINT);
	run(sh);
	shell_drain(sh);
	return what;
}

/* io->fetch wrapper used by net.c: returns 0 and sets the id, or <0. */
int shell_io_fetch(struct shell *sh, struct shell_fetch *req)
{
	if (!sh->io.fetch)
		return -ENETUNREACH;
	req->id = ++sh->next_fetch_id;
	int rc = sh->io.fetch(sh->io.arg, req);
	if (rc < 0)
		return rc;
	sh->fetch_id = req->id;
	return 0;
}

bool shell_busy(const struct shell *sh)
{
	return sh && sh->suspended;
}

/* ------------------------------------------------------------------ public API */

static void parse_bb_version(struct shell *sh)
{
	sh->bb_major = 1;
	sh->bb_minor = 22;
	sh->bb_patch = 1;
	const char *b = sh->prof ? sh->prof->busybox_banner : NULL;
	const char *v = b ? strstr(b, "BusyBox v") : NULL;
	if (v)
		v += 9;
	if (sh->prof && sh->prof->busybox_version && *sh->prof->busybox_version)
		v = sh->prof->busybox_version;
	if (v) {
		int ma, mi, pa = 0;
		if (sscanf(v, "%d.%d.%d", &ma, &mi, &pa) >= 2) {
			sh->bb_major = ma;
			sh->bb_minor = mi;
			sh->bb_patch = pa;
		}
	}
}

bool shell_bb_at_least(const struct shell *sh, int major, int minor)
{
	return sh->bb_major > major || (sh->bb_major == major && sh->bb_minor >= minor);
}

/* uid and gid of the profile's user from its /etc/passwd (root: 0). */
static void user_ids(const struct profile *p, uint32_t *uid, uint32_t *gid)
{
	*uid = *gid = 0;
	const char *user = p && p->user ? p->user : "root";
	if (strcmp(user, "root") == 0)
		return;
	const struct profile_node *pw = shell_prof_node(p, "/etc/passwd");
	if (!pw || !pw->data)
		return;
	const char *s = (const char *)pw->data, *end = s + pw->len;
	size_t ul = strlen(user);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		if ((size_t)(le - s) > ul && memcmp(s, user, ul) == 0 && s[ul] == ':') {
			unsigned u = 0, g = 0;
			const char *q = memchr(s + ul + 1, ':', (size_t)(le - s - (long)ul - 1));
			if (q && sscanf(q + 1, "%u:%u", &u, &g) == 2) {
				*uid = u;
				*gid = g;
			}
			return;
		}
		s = nl ? nl + 1 : end;
	}
}

/* ------------------------------------------------------------------ budgets
 * The shell tells its owner every change of what it holds of the sensor-wide budgets; when the
 * owner answers that this session must give way, the run loop ends the session at its next
 * step (a command in progress finishes its current write). */

static void account(struct shell *sh, enum shell_budget b, long long delta)
{
	if (!delta || !sh->io.account)
		return;
	if (!sh->io.account(sh->io.arg, b, delta) && !sh->give_way) {
		sh->give_way = true;
		sh->give_way_end =
			b == SHELL_BUDGET_FILES ? SHELL_END_FILE_BUDGET : SHELL_END_MEMORY_BUDGET;
	}
}

static void vfs_charged(void *arg, long long delta)
{
	account(arg, SHELL_BUDGET_FILES, delta);
}

/* The allocator's own size is what is counted, the same at both ends whatever the string
 * holds by then. */
char *shell_acct_strdup(struct shell *sh, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);
	memcpy(p, s, n);
	size_t held = malloc_usable_size(p);
	sh->mem += held;
	account(sh, SHELL_BUDGET_MEMORY, (long long)held);
	return p;
}

void shell_acct_free(struct shell *sh, char *s)
{
	if (!s)
		return;
	size_t held = malloc_usable_size(s);
	free(s);
	sh->mem -= held;
	account(sh, SHELL_BUDGET_MEMORY, -(long long)held);
}

struct shell *shell_new(const struct profile *p, const struct shell_limits *lim,
			const struct shell_io *io)
{
	struct shell *sh = xcalloc(1, sizeof(*sh));
	sh->prof = p;
	sh->lim = *lim;
	if (!sh->lim.max_commands)
		sh->lim.max_commands = SHELL_DEFAULT_COMMANDS;
	if (sh->lim.script_depth <= 0)
		sh->lim.script_depth = SHELL_DEFAULT_SCRIPT_DEPTH;
	if (!sh->lim.max_queued)
		sh->lim.max_queued = SHELL_DEFAULT_QUEUED;
	if (!sh->lim.vfs_bytes)
		sh->lim.vfs_bytes = SHELL_DEFAULT_VFS_BYTES;
	if (!sh->lim.vfs_files)
		sh->lim.vfs_files = SHELL_DEFAULT_VFS_FILES;
	sh->io = *io;
	uint32_t uid, gid;
	user_ids(p, &uid, &gid);
	shell_vfs_init(&sh->vfs, p, sh->lim.vfs_bytes, sh->lim.vfs_files, uid, gid);
	sh->vfs.report = shell_report;
	sh->vfs.report_arg = sh;
	shell_procfs_attach(sh);
	sh->vfs.charged = vfs_charged;
	sh->vfs.charged_arg = sh;
	sh->tty.refs = 1;
	sh->tty.kind = FO_TTY;
	sh->tty.readable = true;
	sh->tty.writable = true;
	buf_init(&sh->queue, sh->lim.max_queued + 1);
	/* From the DRBG's pool, not a getrandom call each: these two were 2 of the ~27 system
	 * calls of a Mirai scanner's session. */
	lib_random_fast(sh->hkey, sizeof(sh->hkey));
	parse_bb_version(sh);
	sh->start_time = shell_now();
	int maxpid = 1;
	for (size_t i = 0; p && i < p->nprocs; i++)
		if (p->procs[i].pid > maxpid)
			maxpid = p->procs[i].pid;
	uint8_t r;
	lib_random_fast(&r, 1);
	struct level *l = xcalloc(1, sizeof(*l));
	l->pid = maxpid + 20 + r % 200;
	sh->next_pid = l->pid + 1;
	const char *home = p && p->home && *p->home ? p->home : "/";
	l->cwd = xstrdup(home);
	l->arg0 = xstrdup(p && p->shell_name && *p->shell_name ? p->shell_name : "-sh");
	l->interactive = true;
	sh->lvl = l;
	sh->nlevels = 1;
	l->defaults = DV_ALL;
	sh->ps1 = ps1_of_profile(p);
	struct fobj *fds[SH_NFD] = {&sh->tty, &sh->tty, &sh->tty};
	push_reader(sh, fds, NULL, 0, true);
	return sh;
}

void shell_free(struct shell *sh)
{
	if (!sh)
		return;
	sh->closed = true;
	while (sh->nframes)
		pop_frame(sh);
	free(sh->frames);
	free(sh->peer_ip);
	while (sh->lvl) {
		struct level *l = sh->lvl;
		sh->lvl = l->parent;
		level_free(sh, l);
	}
	shell_vfs_fini(&sh->vfs);
	buf_free(&sh->queue);
	free(sh->reported);
	free(sh->killed);
	free(sh->ps1);
	for (size_t i = 0; i < sh->nhist; i++)
		free(sh->hist[i]);
	free(sh->hist);
	free(sh);
}

void shell_start(struct shell *sh)
{
	if (sh->prof && sh->prof->motd && *sh->prof->motd) {
		/* the profile's [telnet] texts carry CR LF already; the transport adds the CR */
		const char *m = sh->prof->motd;
		size_t n = strlen(m);
		char *t = xmalloc(n + 1);
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (!(m[i] == '\r' && m[i + 1] == '\n'))
				t[k++] = m[i];
		shell_fobj_write(sh, &sh->tty, t, k, false, NULL);
		free(t);
	}
	run(sh);
	shell_drain(sh);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* Gives one line to the waiting interactive reader at the top. */
/* Remembers a line typed at the terminal as ash's line editing does: not blank ones, not the
 * same line twice in a row; the oldest goes when SH_HISTORY_MAX are kept. */
static void history_add(struct shell *sh, const char *line, size_t len)
{
	if (blank(line, len) || memchr(line, '\0', len))
		return;
	if (sh->nhist && strlen(sh->hist[sh->nhist - 1]) == len &&
	    memcmp(sh->hist[sh->nhist - 1], line, len) == 0)
		return;
	if (!sh->hist)
		sh->hist = xcalloc(SH_HISTORY_MAX, sizeof(*sh->hist));
	if (sh->nhist == SH_HISTORY_MAX) {
		free(sh->hist[0]);
		memmove(sh->hist, sh->hist + 1, (SH_HISTORY_MAX - 1) * sizeof(*sh->hist));
		sh->nhist--;
	}
	sh->hist[sh->nhist++] = xstrndup(line, len);
}

static void feed(struct shell *sh, const char *line, size_t len)
{
	if (!sh->nframes)
		return;
	struct frame *f = top(sh);
	if (f->kind != F_READER)
		return;
	struct reader *r = f->x;
	if (!r->interactive)
		return;
	history_add(sh, line, len);
	if (r->len + len + 1 > SH_PENDING_MAX) {
		/* An unfinished command grew too big: drop it, as a line-length limit would. */
		r->len = r->pos = 0;
		if (len + 1 > SH_PENDING_MAX)
			len = SH_PENDING_MAX - 1;
	}
	if (r->len + len + 2 > r->cap) {
		r->cap = (r->len + len + 2) * 2;
		r->text = xrealloc(r->text, r->cap);
	}
	for (size_t i = 0; i < len; i++)
		if (line[i])
			r->text[r->len++] = line[i];
	r->text[r->len++] = '\n';
	r->text[r->len] = 0;
	sh->waiting = false;
}

void shell_drain(struct shell *sh)
{
	while (!sh->closed && !sh->suspended && sh->waiting && sh->queue.len) {
		size_t n = strnlen((const char *)sh->queue.data, sh->queue.len);
		char *line = xstrndup((const char *)sh->queue.data, n);
		buf_consume(&sh->queue, n + 1 <= sh->queue.len ? n + 1 : sh->queue.len);
		feed(sh, line, n);
		free(line);
		run(sh);
	}
}

int shell_input(struct shell *sh, const char *line, size_t len)
{
	if (!sh || sh->closed)
		return 0;
	if (len && line[len - 1] == '\r')
		len--;
	if (!blank(line, len) && sh->io.event) {
		json_t *fields = json_object();
		json_object_set_new(fields, "input", core_json_bytes(line, len));
		char msg[200];
		snprintf(msg, sizeof(msg), "CMD: %.*s", (int)LIB_MIN(len, (size_t)150), line);
		sh->io.event(sh->io.arg, EV_COMMAND_INPUT, fields, msg);
	}
	if (sh->suspended || sh->running || !sh->waiting || sh->queue.len) {
		if (sh->queue.len + len + 1 > sh->lim.max_queued)
			return -ENOBUFS;
		/* NUL separates queued lines; a NUL inside a line is dropped (ash ignores it) */
		for (size_t i = 0; i < len; i++)
			if (line[i])
				buf_append(&sh->queue, line + i, 1);
		buf_append(&sh->queue, "", 1);
		if (!sh->suspended && !sh->running)
			shell_drain(sh);
		return 0;
	}
	feed(sh, line, len);
	run(sh);
	shell_drain(sh);
	return 0;
}

void shell_eof(struct shell *sh)
{
	if (!sh || sh->closed)
		return;
	if (sh->suspended || sh->running) {
		/* EOF after queued input: end when the queue drains (the owner closes anyway) */
		return;
	}
	if (!sh->waiting || !sh->nframes)
		return;
	struct frame *f = top(sh);
	if (f->kind != F_READER || sh->nframes == 1) {
		sh_close(sh, SHELL_END_EOF);
		return;
	}
	/* ^D in a nested shell leaves it */
	shell_fobj_write(sh, f->fd[2], "\n", 1, false, NULL);
	sh->waiting = false;
	pop_frame(sh);
	run(sh);
	shell_drain(sh);
}
