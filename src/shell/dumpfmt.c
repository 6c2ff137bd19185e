/* shell/dumpfmt: hexdump -e and -f, the format language of BusyBox's bb_dump (BSD hexdump's):
 * `[N][/M] "text %conv ..."` units, each format applied in turn to every block of input, a
 * "*" line for a block equal to the previous one unless -v, blanks of the field's width for a
 * conversion past the end of the data, %_a/%_A offsets, %_c %_p %_u characters. Checked
 * against Debian's busybox (tests/data/busybox). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

#define DF_UNITS_MAX 64  /* units of all formats together */
#define DF_PARTS_MAX 256 /* texts and conversions of all units together */
#define DF_SPEC_MAX 16   /* bytes of one conversion's printf spec */
#define DF_TEXT_MAX 256  /* bytes of one literal text */
#define DF_WIDTH_MAX 256 /* a conversion's width or precision at most */

enum df_kind {
	DF_TEXT,
	DF_INT,
	DF_UINT,
	DF_CHAR,
	DF_FLOAT,
	DF_ADDR,
	DF_ADDR_END,
	DF_PCHAR,
	DF_CCHAR,
	DF_UNAME
};

struct df_part {
	enum df_kind kind;
	char spec[DF_SPEC_MAX]; /* flags, width, precision: "%08" */
	char conv;              /* d i o u x X c e f g...; for %_a/%_A the base letter */
	int width;              /* the field width, for blanks past the end */
	int bytes;              /* bytes it consumes */
	char text[DF_TEXT_MAX];
};

struct df_unit {
	int reps, bcnt;  /* N and M of N/M; bcnt 0 when not given */
	size_t first, n; /* its parts */
	int fmt;         /* the -e it belongs to */
};

struct df {
	struct df_part parts[DF_PARTS_MAX];
	struct df_unit units[DF_UNITS_MAX];
	size_t nparts, nunits;
	int nfmts;
	char err[96]; /* BusyBox's message for a format it refuses, when more precise */
};

static size_t unescape(const char *s, size_t n, char *out, size_t cap)
{
	static const char from[] = "abfnrtv\\\"", to[] = "\a\b\f\n\r\t\v\\\"";
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			const char *e = strchr(from, s[i + 1]);
			if (e) {
				out[k++] = to[e - from];
				i++;
				continue;
			}
			if (s[i + 1] == '0') {
				out[k++] = 0;
				i++;
				continue;
			}
		}
		out[k++] = s[i];
	}
	out[k] = 0;
	return k;
}

static struct df_part *new_part(struct df *d, enum df_kind kind)
{
	if (d->nparts >= DF_PARTS_MAX)
		return NULL;
	struct df_part *p = &d->parts[d->nparts++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	return p;
}

/* One conversion at s (after '%'): its part, and how many characters it took; 0 if bad. */
static size_t parse_conv(struct df *d, const char *s, size_t n, int bcnt)
{
	size_t i = strspn(s, "-+ #0");
	i = LIB_MIN(i, n);
	while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.'))
		i++;
	if (i >= n || i >= DF_SPEC_MAX - 4)
		return 0;
	struct df_part *p = new_part(d, DF_TEXT);
	if (!p)
		return 0;
	p->spec[0] = '%';
	memcpy(p->spec + 1, s, i);
	const char *w = s + strspn(s, "-+ #0");
	p->width = atoi(w);
	const char *dot = memchr(s, '.', i);
	if (p->width > DF_WIDTH_MAX || (dot && atoi(dot + 1) > DF_WIDTH_MAX))
		return 0;
	char c = s[i++];
	if (c == '_' && i < n) {
		char u = s[i++];
		p->conv = u == 'a' || u == 'A' ? (i < n && strchr("dox", s[i]) ? s[i++] : 'x') : u;
		p->kind = u == 'a'   ? DF_ADDR
			  : u == 'A' ? DF_ADDR_END
			  : u == 'p' ? DF_PCHAR
			  : u == 'c' ? DF_CCHAR
			  : u == 'u' ? DF_UNAME
				     : DF_TEXT;
		p->bytes = p->kind == DF_ADDR || p->kind == DF_ADDR_END ? 0 : 1;
		if (p->kind == DF_TEXT)
			snprintf(d->err, sizeof(d->err), "bad conversion character %%_%c", u);
		return p->kind == DF_TEXT ? 0 : i;
	}
	p->conv = c;
	if (c && strchr("di", c))
		p->kind = DF_INT;
	else if (c && strchr("ouxX", c))
		p->kind = DF_UINT;
	else if (c == 'c')
		p->kind = DF_CHAR;
	else if (c && strchr("eEfgG", c))
		p->kind = DF_FLOAT;
	else {
		snprintf(d->err, sizeof(d->err), "bad conversion character %%%c", c);
		return 0;
	}
	int def = p->kind == DF_CHAR ? 1 : p->kind == DF_FLOAT ? 8 : 4;
	p->bytes = bcnt ? bcnt : def;
	bool fok = p->bytes == 4 || p->bytes == 8;
	bool iok = fok || p->bytes == 1 || p->bytes == 2;
	if ((p->kind == DF_FLOAT && !fok) || !iok || (p->kind == DF_CHAR && p->bytes != 1)) {
		snprintf(d->err, sizeof(d->err), "bad byte count for conversion character %c", c);
		return 0;
	}
	return i;
}

/* A quoted format string of a unit into parts. */
static bool parse_string(struct df *d, const char *s, size_t n, int bcnt)
{
	char buf[DF_TEXT_MAX];
	size_t len = unescape(s, n, buf, sizeof(buf));
	size_t i = 0;
	while (i < len) {
		size_t t = i;
		while (t < len && !(buf[t] == '%' && t + 1 < len && buf[t + 1] != '%'))
			t += buf[t] == '%' ? 2 : 1;
		if (t > i) {
			struct df_part *p = new_part(d, DF_TEXT);
			if (!p)
				return false;
			size_t k = 0;
			for (size_t j = i; j < t && k + 1 < sizeof(p->text); j++) {
				p->text[k++] = buf[j];
				j += buf[j] == '%';
			}
			p->bytes = (int)k; /* a text's length, for NUL bytes */
		}
		if (t >= len)
			break;
		size_t used = parse_conv(d, buf + t + 1, len - t - 1, bcnt);
		if (!used)
			return false;
		i = t + 1 + used;
	}
	return true;
}

/* One -e FORMAT into units. */
static bool df_parse(struct df *d, const char *fmt)
{
	const char *s = fmt;
	while (*s) {
		s += strspn(s, " \t\n");
		if (!*s)
			break;
		if (d->nunits >= DF_UNITS_MAX)
			return false;
		struct df_unit *u = &d->units[d->nunits];
		u->reps = 1;
		u->bcnt = 0;
		u->fmt = d->nfmts;
		if (isdigit((unsigned char)*s))
			u->reps = (int)strtol(s, (char **)&s, 10);
		s += strspn(s, " \t");
		if (*s == '/') {
			s++;
			s += strspn(s, " \t");
			u->bcnt = (int)strtol(s, (char **)&s, 10);
			s += strspn(s, " \t");
		}
		if (*s != '"' || u->reps <= 0 || u->bcnt < 0)
			return false;
		const char *e = s + 1;
		while (*e && *e != '"')
			e += e[0] == '\\' && e[1] ? 2 : 1;
		if (!*e)
			return false;
		u->first = d->nparts;
		if (!parse_string(d, s + 1, (size_t)(e - s - 1), u->bcnt))
			return false;
		u->n = d->nparts - u->first;
		d->nunits++;
		s = e + 1;
	}
	d->nfmts++;
	return true;
}

static size_t fmt_size(const struct df *d, int fmt)
{
	size_t size = 0;
	for (size_t i = 0; i < d->nunits; i++) {
		const struct df_unit *u = &d->units[i];
		if (u->fmt != fmt)
			continue;
		size_t b = 0;
		for (size_t k = 0; k < u->n; k++)
			b += d->parts[u->first + k].kind == DF_TEXT
				     ? 0
				     : (size_t)d->parts[u->first + k].bytes;
		size += b * (size_t)u->reps;
	}
	return size;
}

static unsigned long long df_value(const uint8_t *p, int bytes, bool be)
{
	unsigned long long v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (unsigned long long)p[be ? bytes - 1 - i : i] << (8 * i);
	return v;
}

/* The specs printed below are built from a parsed conversion: flags, a bounded width and
 * precision, and a conversion letter chosen here for the argument's type. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void df_char_name(struct buf *b, const struct df_part *p, uint8_t ch)
{
	static const char *const names[] = {"nul", "soh", "stx", "etx", "eot", "enq", "ack", "bel",
					    "bs",  "ht",  "lf",  "vt",  "ff",  "cr",  "so",  "si",
					    "dle", "dc1", "dc2", "dc3", "dc4", "nak", "syn", "etb",
					    "can", "em",  "sub", "esc", "fs",  "gs",  "rs",  "us"};
	char spec[DF_SPEC_MAX + 2];
	snprintf(spec, sizeof(spec), "%ss", p->spec);
	char one[8];
	if (p->kind == DF_PCHAR)
		snprintf(one, sizeof(one), "%c", isprint(ch) ? ch : '.');
	else if (p->kind == DF_UNAME)
		snprintf(one, sizeof(one), "%s", ch < 32 ? names[ch] : ch == 127 ? "del" : "");
	else {
		static const char esc[] = "\0\a\b\f\n\r\t\v", nm[] = "0abfnrtv";
		const char *e = ch ? memchr(esc + 1, ch, sizeof(esc) - 2) : esc;
		if (e)
			snprintf(one, sizeof(one), "\\%c", nm[e - esc]);
		else if (isprint(ch))
			snprintf(one, sizeof(one), "%c", ch);
		else
			snprintf(one, sizeof(one), "%03o", ch);
	}
	if (p->kind == DF_UNAME && ch >= 32 && ch != 127)
		snprintf(one, sizeof(one), "%c", ch);
	buf_printf(b, spec, one);
}

/* One conversion of the data at off (or blanks when off is past the end). */
static void df_conv(struct buf *b, const struct df_part *p, const uint8_t *data, size_t len,
		    size_t off, size_t start, bool be)
{
	char spec[DF_SPEC_MAX + 4];
	if (p->kind == DF_ADDR) {
		snprintf(spec, sizeof(spec), "%sll%c", p->spec, p->conv);
		buf_printf(b, spec, (unsigned long long)(start + off));
		return;
	}
	if (off >= len) {
		buf_printf(b, "%*s", p->width, "");
		return;
	}
	uint8_t tmp[8] = {0};
	memcpy(tmp, data + off, LIB_MIN((size_t)p->bytes, len - off));
	unsigned long long v = df_value(tmp, p->bytes, be);
	switch (p->kind) {
	case DF_INT: {
		int sh = 64 - 8 * p->bytes;
		long long sv = (long long)(v << sh) >> sh;
		snprintf(spec, sizeof(spec), "%sll%c", p->spec, p->conv);
		buf_printf(b, spec, sv);
		break;
	}
	case DF_UINT:
		snprintf(spec, sizeof(spec), "%sll%c", p->spec, p->conv);
		buf_printf(b, spec, v);
		break;
	case DF_CHAR:
		snprintf(spec, sizeof(spec), "%sc", p->spec);
		buf_printf(b, spec, (int)tmp[0]);
		break;
	case DF_FLOAT: {
		double dv;
		if (p->bytes == 4) {
			float fv;
			uint32_t w = (uint32_t)v;
			memcpy(&fv, &w, 4);
			dv = fv;
		} else
			memcpy(&dv, &v, 8);
		snprintf(spec, sizeof(spec), "%s%c", p->spec, p->conv);
		buf_printf(b, spec, dv);
		break;
	}
	default: df_char_name(b, p, tmp[0]); break;
	}
}

#pragma GCC diagnostic pop

/* Every format over one block at data[off..]: returns nothing, appends to b. */
static void df_block(struct buf *b, const struct df *d, const uint8_t *data, size_t len, size_t off,
		     size_t start, bool be)
{
	for (int f = 0; f < d->nfmts; f++) {
		size_t at = off;
		for (size_t i = 0; i < d->nunits; i++) {
			const struct df_unit *u = &d->units[i];
			if (u->fmt != f)
				continue;
			for (int r = 0; r < u->reps; r++)
				for (size_t k = 0; k < u->n; k++) {
					const struct df_part *p = &d->parts[u->first + k];
					/* the last iteration of a repeated unit drops the one
					 * whitespace character that ends it */
					bool last =
						u->reps > 1 && r == u->reps - 1 && k == u->n - 1;
					size_t tl = (size_t)p->bytes;
					if (p->kind == DF_TEXT && last && tl &&
					    isspace((unsigned char)p->text[tl - 1]))
						tl--;
					if (p->kind == DF_TEXT)
						buf_append(b, p->text, tl);
					else if (p->kind != DF_ADDR_END) {
						df_conv(b, p, data, len, at, start, be);
						at += (size_t)p->bytes;
					}
				}
		}
	}
}

int shell_dump_format(struct buf *out, char **fmts, size_t nfmts, const uint8_t *data, size_t len,
		      size_t start, bool verbose, bool be, char *err, size_t errcap)
{
	struct df *d = xcalloc(1, sizeof(*d));
	for (size_t i = 0; i < nfmts; i++)
		if (!df_parse(d, fmts[i])) {
			if (d->err[0])
				snprintf(err, errcap, "%s", d->err);
			else
				snprintf(err, errcap, "bad format {%s}", fmts[i]);
			free(d);
			return -1;
		}
	size_t block = 0;
	for (int f = 0; f < d->nfmts; f++)
		block = LIB_MAX(block, fmt_size(d, f));
	bool star = false;
	for (size_t off = 0; block && off < len; off += block) {
		if (!verbose && off && off + block <= len &&
		    memcmp(data + off, data + off - block, block) == 0) {
			if (!star)
				buf_append_str(out, "*\n");
			star = true;
			continue;
		}
		star = false;
		df_block(out, d, data, len, off, start, be);
	}
	/* the units with a %_A, once after the data, at its end offset */
	for (size_t i = 0; block && i < d->nunits; i++) {
		const struct df_unit *u = &d->units[i];
		bool has = false;
		for (size_t k = 0; k < u->n; k++)
			has |= d->parts[u->first + k].kind == DF_ADDR_END;
		for (size_t k = 0; has && k < u->n; k++) {
			struct df_part p = d->parts[u->first + k];
			if (p.kind == DF_TEXT)
				buf_append(out, p.text, (size_t)p.bytes);
			else if (p.kind == DF_ADDR_END) {
				p.kind = DF_ADDR;
				df_conv(out, &p, data, len, len, start, be);
			}
		}
	}
	free(d);
	return 0;
}
