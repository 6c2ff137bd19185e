/* shell/dump: hexdump and od as BusyBox prints them (its bb_dump engine with the formats of
 * hexdump's -b -c -C -d -o -x and default, and od's default): 16 bytes a line, a "*" line for
 * repeated lines unless -v, the end offset last. Two-byte units are read in the device's byte
 * order, as on the device. Checked against Debian's busybox (tests/data/busybox). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

#define DUMP_LINE 16 /* bytes of one output line */

enum dump_mode {
	DUMP_HEX_DEFAULT, /* hexdump: 8 words " %04x" */
	DUMP_CANONICAL,   /* -C */
	DUMP_OCT1,        /* -b */
	DUMP_CHAR,        /* -c */
	DUMP_DEC2,        /* -d */
	DUMP_OCT2,        /* -o */
	DUMP_HEX2,        /* -x */
	DUMP_OD_DEFAULT,  /* od: 8 words " %06o", short lines not padded, octal offsets */
};

static void dump_char(struct buf *b, uint8_t ch)
{
	static const char esc[] = "\0\a\b\f\n\r\t\v";
	static const char name[] = "0abfnrtv";
	const char *e = ch ? memchr(esc + 1, ch, sizeof(esc) - 2) : esc;
	if (e)
		buf_printf(b, "  \\%c", name[e - esc]);
	else if (ch >= 0x20 && ch < 0x7f)
		buf_printf(b, "   %c", ch);
	else
		buf_printf(b, " %03o", ch);
}

/* One unit of a line (i-th byte or word); `have` is how many of its bytes exist (0: pad). */
static void dump_unit(struct buf *b, enum dump_mode m, const uint8_t *p, size_t have, bool be)
{
	unsigned w = 0;
	if (have)
		w = be ? (unsigned)(p[0] << 8 | (have > 1 ? p[1] : 0))
		       : (unsigned)(p[0] | (have > 1 ? p[1] << 8 : 0));
	switch (m) {
	case DUMP_HEX_DEFAULT: have ? buf_printf(b, " %04x", w) : buf_append_str(b, "     "); break;
	case DUMP_OD_DEFAULT:
		if (have)
			buf_printf(b, " %06o", w);
		break;
	case DUMP_HEX2: have ? buf_printf(b, "    %04x", w) : buf_append_str(b, "        "); break;
	case DUMP_OCT2: have ? buf_printf(b, "  %06o", w) : buf_append_str(b, "        "); break;
	case DUMP_DEC2: have ? buf_printf(b, "   %05u", w) : buf_append_str(b, "        "); break;
	case DUMP_OCT1: have ? buf_printf(b, " %03o", p[0]) : buf_append_str(b, "    "); break;
	case DUMP_CHAR:
		if (have)
			dump_char(b, p[0]);
		else
			buf_append_str(b, "    ");
		break;
	case DUMP_CANONICAL: break;
	}
}

static void dump_line(struct buf *b, enum dump_mode m, const uint8_t *p, size_t n, size_t off,
		      bool be)
{
	if (m == DUMP_CANONICAL) {
		buf_printf(b, "%08zx  ", off);
		for (size_t i = 0; i < DUMP_LINE; i++) {
			if (i < n)
				buf_printf(b, "%02x ", p[i]);
			else
				buf_append_str(b, "   ");
			if (i == 7)
				buf_append_str(b, " ");
		}
		buf_append_str(b, " |");
		for (size_t i = 0; i < n; i++)
			buf_printf(b, "%c", p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
		buf_append_str(b, "|\n");
		return;
	}
	buf_printf(b, m == DUMP_OD_DEFAULT ? "%07zo" : "%07zx", off);
	size_t unit = m == DUMP_OCT1 || m == DUMP_CHAR ? 1 : 2;
	for (size_t i = 0; i < DUMP_LINE; i += unit)
		dump_unit(b, m, p + i, i < n ? LIB_MIN(unit, n - i) : 0, be);
	buf_append_str(b, "\n");
}

static void dump(struct buf *b, enum dump_mode m, const uint8_t *p, size_t n, size_t start,
		 bool verbose, bool be)
{
	bool star = false;
	for (size_t i = 0; i < n; i += DUMP_LINE) {
		size_t len = LIB_MIN((size_t)DUMP_LINE, n - i);
		if (!verbose && i && len == DUMP_LINE &&
		    memcmp(p + i, p + i - DUMP_LINE, len) == 0) {
			if (!star)
				buf_append_str(b, "*\n");
			star = true;
			continue;
		}
		star = false;
		dump_line(b, m, p + i, len, start + i, be);
	}
	if (n || m == DUMP_OD_DEFAULT)
		buf_printf(b,
			   m == DUMP_CANONICAL    ? "%08zx\n"
			   : m == DUMP_OD_DEFAULT ? "%07zo\n"
						  : "%07zx\n",
			   start + n);
}

/* The operands' bytes one after the other (stdin without operands). */
static int gather(struct cmd *c, char **ops, int nops, struct buf *all)
{
	int st = 0;
	for (int i = 0; i < (nops ? nops : 1); i++) {
		struct shell_rd r;
		const char *path = nops ? ops[i] : "-";
		int rc = shell_read_path(c, path, &r);
		if (rc) {
			shell_err(c, "%s: %s", path, shell_strerror(-rc));
			st = 1;
			continue;
		}
		if (buf_append(all, r.p, r.n) < 0)
			st = 1;
		shell_rd_free(&r);
	}
	return st;
}

static bool device_be(struct cmd *c)
{
	return c->sh->prof && c->sh->prof->elf.data == 2;
}

/* Every -e FORMAT and every line of every -f FILE, in order (BusyBox applies them all). */
static size_t formats(struct cmd *c, char ***out)
{
	size_t n = 0;
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (strcmp(a, "--") == 0 || a[0] != '-')
			break;
		const char *e = strpbrk(a + 1, "ef");
		if (!e || strspn(a + 1, "bcCdoxv") != (size_t)(e - a - 1))
			continue;
		const char *val = e[1] ? e + 1 : i + 1 < c->argc ? c->argv[++i] : NULL;
		if (!val)
			break;
		if (*e == 'e') {
			*out = xrealloc(*out, (n + 1) * sizeof(**out));
			(*out)[n++] = xstrdup(val);
			continue;
		}
		struct shell_rd r;
		if (shell_read_path(c, val, &r))
			continue;
		for (size_t k = 0; k < r.n;) {
			const uint8_t *nl = memchr(r.p + k, '\n', r.n - k);
			size_t l = nl ? (size_t)(nl - (r.p + k)) : r.n - k;
			*out = xrealloc(*out, (n + 1) * sizeof(**out));
			(*out)[n++] = xstrndup((const char *)r.p + k, l);
			k += l + 1;
		}
		shell_rd_free(&r);
	}
	return n;
}

int shell_cmd_hexdump(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "bcCdoxvn:s:e:f:", &g))
		return 1;
	enum dump_mode m = DUMP_HEX_DEFAULT;
	static const char letters[] = "bcCdox";
	static const enum dump_mode modes[] = {DUMP_OCT1, DUMP_CHAR, DUMP_CANONICAL,
					       DUMP_DEC2, DUMP_OCT2, DUMP_HEX2};
	for (size_t i = 0; i < sizeof(letters) - 1; i++)
		if (shell_opt(&g, letters[i]))
			m = modes[i];
	struct buf all;
	buf_init(&all, SH_PIPE_MAX);
	int st = gather(c, g.operands, g.noperands, &all);
	size_t skip = shell_optarg(&g, 's') ? strtoul(shell_optarg(&g, 's'), NULL, 0) : 0;
	size_t len = all.len > skip ? all.len - skip : 0;
	if (shell_optarg(&g, 'n'))
		len = LIB_MIN(len, (size_t)strtoul(shell_optarg(&g, 'n'), NULL, 0));
	struct buf out;
	buf_init(&out, SH_PIPE_MAX);
	const uint8_t *from = all.data ? all.data + LIB_MIN(skip, all.len) : all.data;
	char **fmts = NULL;
	size_t nfmts = formats(c, &fmts);
	if (nfmts) {
		if (shell_dump_format(&out, fmts, nfmts, from, len, skip, shell_opt(&g, 'v'),
				      device_be(c)) < 0) {
			shell_err(c, "bad format '%s'", fmts[nfmts - 1]);
			st = 1;
		}
	} else
		dump(&out, m, from, len, skip, shell_opt(&g, 'v'), device_be(c));
	for (size_t i = 0; i < nfmts; i++)
		free(fmts[i]);
	free(fmts);
	shell_out(c, out.data, out.len, false);
	buf_free(&out);
	buf_free(&all);
	shell_opts_free(&g);
	return st;
}

int shell_cmd_od(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "", &g))
		return 1;
	struct buf all, out;
	buf_init(&all, SH_PIPE_MAX);
	buf_init(&out, SH_PIPE_MAX);
	int st = gather(c, g.operands, g.noperands, &all);
	dump(&out, DUMP_OD_DEFAULT, all.data, all.len, 0, false, device_be(c));
	shell_out(c, out.data, out.len, false);
	buf_free(&out);
	buf_free(&all);
	shell_opts_free(&g);
	return st;
}

/* tty: the session's terminal, or "not a tty" (status 1) when stdin is not one; -s: silent. */
int shell_cmd_tty(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "s", &g))
		return 2;
	bool silent = shell_opt(&g, 's');
	shell_opts_free(&g);
	struct fobj *in = c->f->fd[0];
	bool tty = in && (in->kind == FO_TTY || (in->kind == FO_DEV && in->dev == VDEV_TTY));
	if (!silent)
		shell_outs(c, tty ? "/dev/pts/0\n" : "not a tty\n");
	return tty ? 0 : 1;
}
