/* shell/dump: hexdump and od as BusyBox prints them (its bb_dump engine with the formats of
 * hexdump's -b -c -C -d -o -x and default; -e in dumpfmt.c; od as coreutils' od, which
 * BusyBox's od is with CONFIG_DESKTOP: -t a c d o u x with sizes, -A -N -j -w -v and the short
 * forms): 16 bytes a line, a "*" line for
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
	buf_printf(b, "%07zx", off);
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
	if (n)
		buf_printf(b, m == DUMP_CANONICAL ? "%08zx\n" : "%07zx\n", start + n);
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
		const char *e = strpbrk(a + 1, "efns");
		if (!e || strspn(a + 1, "bcCdoxv") != (size_t)(e - a - 1))
			continue;
		if (*e == 'n' || *e == 's') { /* -n LEN, -s OFS: their value is no operand */
			i += !e[1];
			continue;
		}
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
		char err[SH_PATH_MAX];
		if (shell_dump_format(&out, fmts, nfmts, from, len, skip, shell_opt(&g, 'v'),
				      device_be(c), err, sizeof(err)) < 0) {
			shell_err(c, "%s", err);
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

/* od's output types (BusyBox's od is coreutils' od with CONFIG_DESKTOP): a letter, a size,
 * and the width of one field. */
struct od_type {
	char kind; /* a c d o u x */
	int size;  /* bytes of a unit */
};

#define OD_TYPES_MAX 8
#define OD_WIDTH_MAX 256

static int od_field_width(const struct od_type *t)
{
	static const int o[] = {0, 3, 6, 0, 11, 0, 0, 0, 22}, u[] = {0, 3, 5, 0, 10, 0, 0, 0, 20},
			 x[] = {0, 2, 4, 0, 8, 0, 0, 0, 16}, d[] = {0, 4, 6, 0, 11, 0, 0, 0, 20};
	switch (t->kind) {
	case 'o': return o[t->size];
	case 'u': return u[t->size];
	case 'x': return x[t->size];
	case 'd': return d[t->size];
	default: return 3; /* a, c */
	}
}

static void od_field(struct buf *b, const struct od_type *t, const uint8_t *p, bool be)
{
	static const char *const names[] = {"nul", "soh", "stx", "etx", "eot", "enq", "ack", "bel",
					    "bs",  "ht",  "nl",  "vt",  "ff",  "cr",  "so",  "si",
					    "dle", "dc1", "dc2", "dc3", "dc4", "nak", "syn", "etb",
					    "can", "em",  "sub", "esc", "fs",  "gs",  "rs",  "us"};
	int w = od_field_width(t);
	if (t->kind == 'a') {
		uint8_t ch = p[0] & 0x7f;
		buf_printf(b, " %3s",
			   ch < 32     ? names[ch]
			   : ch == 127 ? "del"
				       : (char[]){(char)ch, 0});
		return;
	}
	if (t->kind == 'c') {
		static const char esc[] = "\0\a\b\f\n\r\t\v", nm[] = "0abfnrtv";
		const char *e = p[0] ? memchr(esc + 1, p[0], sizeof(esc) - 2) : esc;
		if (e)
			buf_printf(b, "  \\%c", nm[e - esc]);
		else if (p[0] >= 0x20 && p[0] < 0x7f)
			buf_printf(b, "   %c", p[0]);
		else
			buf_printf(b, " %03o", p[0]);
		return;
	}
	unsigned long long v = 0;
	for (int i = 0; i < t->size; i++)
		v |= (unsigned long long)p[be ? t->size - 1 - i : i] << (8 * i);
	if (t->kind == 'd') {
		int sh = 64 - 8 * t->size;
		buf_printf(b, " %*lld", w, (long long)(v << sh) >> sh);
	} else if (t->kind == 'o')
		buf_printf(b, " %0*llo", w, v);
	else if (t->kind == 'x')
		buf_printf(b, " %0*llx", w, v);
	else
		buf_printf(b, " %*llu", w, v);
}

/* "x1", "d2", "o", "c", "a", "u4"...: one -t TYPE (sizes C S I L or a number). */
static bool od_parse_type(const char *s, struct od_type *t)
{
	if (!*s || !strchr("acdoux", *s))
		return false;
	t->kind = *s++;
	t->size = t->kind == 'a' || t->kind == 'c' ? 1 : 4;
	if (*s && t->kind != 'a' && t->kind != 'c') {
		const char *e = strchr("CSIL", *s);
		t->size = e ? (int[]){1, 2, 4, 8}[e - "CSIL"] : atoi(s);
		s += e ? 1 : strspn(s, "0123456789");
	}
	return !*s && (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8);
}

static void od_offset(struct buf *b, char radix, size_t off)
{
	if (radix == 'o')
		buf_printf(b, "%07zo", off);
	else if (radix == 'd')
		buf_printf(b, "%07zu", off);
	else if (radix == 'x')
		buf_printf(b, "%06zx", off);
}

/* One line of every type: the first after the offset, the others under it. */
static void od_line(struct buf *b, const struct od_type *types, int nt, char radix,
		    const uint8_t *p, size_t n, size_t off, bool be)
{
	int ow = radix == 'n' ? 0 : radix == 'x' ? 6 : 7;
	for (int k = 0; k < nt; k++) {
		if (k)
			buf_printf(b, "%*s", ow, "");
		else
			od_offset(b, radix, off);
		for (size_t i = 0; i < n; i += (size_t)types[k].size) {
			uint8_t unit[8] = {0};
			memcpy(unit, p + i, LIB_MIN((size_t)types[k].size, n - i));
			od_field(b, &types[k], unit, be);
		}
		buf_append_str(b, "\n");
	}
}

/* od [-abcdfhilovxs] [-t TYPE] [-A RADIX] [-N SIZE] [-j SKIP] [-w[WIDTH]] [FILE]...: the
 * integer and character types; floating types are not emulated (-f, -tf: usage). Long
 * because it parses the options as coreutils' od does, in one place. */
int shell_cmd_od(struct cmd *c)
{
	struct od_type types[OD_TYPES_MAX];
	int nt = 0;
	char radix = 'o';
	size_t skip = 0, limit = SIZE_MAX, width = 16;
	bool verbose = false, bad = false;
	int i = 1;
	for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1] && !bad; i++) {
		const char *a = c->argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		for (const char *o = a + 1; *o && !bad; o++) {
			/* BusyBox's short forms (-i as Debian's busybox prints it: 2-byte
			 * units; -l: the 4-byte long of a 32-bit device) */
			static const char shorts[] = "bcdosxilh", *const as[] = {"o1", "c",  "u2",
										 "o2", "d2", "x2",
										 "d2", "d4", "x2"};
			const char *sh = strchr(shorts, *o);
			if (sh) {
				bad |= nt >= OD_TYPES_MAX ||
				       !od_parse_type(as[sh - shorts], &types[nt]);
				nt += !bad;
				continue;
			}
			if (*o == 'v') {
				verbose = true;
				continue;
			}
			if (*o == 'w') {
				width = o[1] ? strtoul(o + 1, NULL, 10) : 32;
				break;
			}
			if (!strchr("tANj", *o)) {
				bad = true;
				break;
			}
			const char *val = o[1] ? o + 1 : i + 1 < c->argc ? c->argv[++i] : NULL;
			if (!val)
				bad = true;
			else if (*o == 't')
				bad |= nt >= OD_TYPES_MAX || !od_parse_type(val, &types[nt++]);
			else if (*o == 'A') {
				radix = val[0];
				bad |= !strchr("odxn", radix) || val[1];
			} else if (*o == 'N')
				limit = strtoul(val, NULL, 0);
			else
				skip = strtoul(val, NULL, 0);
			break;
		}
	}
	if (bad || !width || width > OD_WIDTH_MAX) {
		shell_usage(c, "od");
		return 1;
	}
	if (!nt)
		od_parse_type("o2", &types[nt++]);
	struct buf all, out;
	buf_init(&all, SH_PIPE_MAX);
	buf_init(&out, SH_PIPE_MAX);
	int st = gather(c, c->argv + i, c->argc - i, &all);
	size_t from = LIB_MIN(skip, all.len), len = LIB_MIN(all.len - from, limit);
	const uint8_t *p = all.data ? all.data + from : (const uint8_t *)"";
	bool star = false;
	for (size_t o = 0; o < len; o += width) {
		size_t n = LIB_MIN(width, len - o);
		if (!verbose && o && n == width && memcmp(p + o, p + o - width, n) == 0) {
			if (!star)
				buf_append_str(&out, "*\n");
			star = true;
			continue;
		}
		star = false;
		od_line(&out, types, nt, radix, p + o, n, from + o, device_be(c));
	}
	if (radix != 'n') {
		od_offset(&out, radix, from + len);
		buf_append_str(&out, "\n");
	}
	shell_out(c, out.data, out.len, false);
	buf_free(&out);
	buf_free(&all);
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
