/* shell/streams: applets that copy or filter a stream of bytes: dd (with its status lines),
 * head, tail, wc and grep (POSIX regular expressions through PCRE2). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shell/internal.h"

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

/* dd's operands (KEY=VALUE). */
struct dd_opts {
	const char *in, *of;
	uint64_t ibs, obs, count, skip, seek;
	bool notrunc, sync_, quiet;
};

/* Parses dd's operands into o; -1 after printing the error. */
static int dd_parse(struct cmd *c, struct dd_opts *o)
{
	*o = (struct dd_opts){.ibs = 512, .obs = 512, .count = UINT64_MAX};
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		const char *eq = strchr(a, '=');
		if (!eq) {
			shell_usage(c, "dd");
			return -1;
		}
		size_t kl = (size_t)(eq - a);
		const char *v = eq + 1;
		uint64_t num = 0;
		bool isnum = dd_num(v, &num);
#define KEY(k) (kl == strlen(k) && strncmp(a, k, kl) == 0)
		if (KEY("if")) {
			o->in = v;
		} else if (KEY("of")) {
			o->of = v;
		} else if (KEY("conv")) {
			o->notrunc = strstr(v, "notrunc") != NULL;
			o->sync_ = strstr(v, "sync") != NULL && !strstr(v, "fsync");
		} else if (KEY("status")) {
			o->quiet = strcmp(v, "none") == 0 || strcmp(v, "noxfer") == 0;
		} else if (KEY("iflag") || KEY("oflag")) {
			/* accepted */
		} else if (KEY("bs") || KEY("ibs") || KEY("obs") || KEY("count") || KEY("skip") ||
			   KEY("seek")) {
			if (!isnum) {
				shell_err(c, "invalid number '%s'", v);
				return -1;
			}
			if (KEY("bs"))
				o->ibs = o->obs = num;
			else if (KEY("ibs"))
				o->ibs = num;
			else if (KEY("obs"))
				o->obs = num;
			else if (KEY("count"))
				o->count = num;
			else if (KEY("skip"))
				o->skip = num;
			else
				o->seek = num;
		} else {
			shell_usage(c, "dd");
			return -1;
		}
#undef KEY
	}
	if (!o->ibs || !o->obs) {
		shell_err(c, "invalid number '0'");
		return -1;
	}
	if (o->ibs > SH_PIPE_MAX || o->obs > SH_PIPE_MAX) {
		/* a block that large would not fit the device's memory either */
		shell_err(c, "memory exhausted");
		return -1;
	}
	return 0;
}

/* dd's three status lines on stderr, with a plausible tiny duration. */
static void dd_status(struct cmd *c, uint64_t in_full, uint64_t in_part, uint64_t total,
		      uint64_t obs)
{
	uint64_t out_full = total / obs, out_part = total % obs ? 1 : 0;
	shell_errf(c, "%llu+%llu records in\n%llu+%llu records out\n", (unsigned long long)in_full,
		   (unsigned long long)in_part, (unsigned long long)out_full,
		   (unsigned long long)out_part);
	double secs = 0.000041 + (double)total / 48e6;
	char hb[32], rb[32];
	human_dd(total, hb, sizeof(hb));
	human_dd((uint64_t)((double)total / secs), rb, sizeof(rb));
	shell_errf(c, "%llu bytes (%sB) copied, %f seconds, %sB/s\n", (unsigned long long)total, hb,
		   secs, rb);
}

/* The input of dd: an endless device (*gen set: blocks are made, not read), or the bytes of
 * a file or stdin in r. -1 after printing the error. */
static int dd_input(struct cmd *c, const char *in, struct shell_rd *r, int *gen)
{
	memset(r, 0, sizeof(*r));
	*gen = VDEV_NONE;
	if (in) {
		char abs[SH_PATH_MAX];
		struct vstat st;
		int rc = shell_resolve(c, in, true, abs, &st);
		if (rc == 0 && st.kind == VN_CHR && (st.dev == VDEV_ZERO || st.dev == VDEV_RANDOM))
			*gen = st.dev;
		else if (rc == 0 && st.kind == VN_DIR)
			rc = -EISDIR;
		if (rc) {
			shell_err(c, "can't open '%s': %s", in, shell_strerror(-rc));
			return -1;
		}
	}
	if (!*gen) {
		int rc = shell_read_path(c, in ? in : "-", r);
		if (rc) {
			shell_err(c, "can't open '%s': %s", in, shell_strerror(-rc));
			return -1;
		}
	}
	return 0;
}

int shell_cmd_dd(struct cmd *c)
{
	struct dd_opts o;
	if (dd_parse(c, &o) < 0)
		return 1;
	/* the input: bytes of a file or stdin, or an endless device generated block by block */
	struct shell_rd r;
	int gen;
	if (dd_input(c, o.in, &r, &gen) < 0)
		return 1;
	/* the output */
	struct vdata *vd = NULL;
	char oabs[SH_PATH_MAX];
	if (o.of) {
		bool discard;
		int dev;
		int rc = shell_vfs_open_write(V(c), CWD(c), o.of, 0, &vd, &discard, &dev, oabs);
		if (rc) {
			shell_err(c, "can't open '%s': %s", o.of, shell_strerror(-rc));
			shell_rd_free(&r);
			return 1;
		}
		if (vd && !o.notrunc) {
			size_t at =
				(size_t)LIB_MIN(o.seek * o.obs, (uint64_t)c->sh->lim.vfs_bytes + 1);
			if (vd->len > at)
				shell_vfs_cut(V(c), vd, at, oabs);
		}
	}
	/* blocks: at most what any sink can take, so an endless input ends */
	uint64_t budget = (uint64_t)c->sh->lim.vfs_bytes + SH_PIPE_MAX;
	uint64_t in_full = 0, in_part = 0, total = 0;
	uint64_t pos = (o.skip && o.skip * o.ibs / o.skip != o.ibs) ? UINT64_MAX : o.skip * o.ibs;
	uint64_t opos = o.seek * o.obs;
	uint8_t *blk = xmalloc((size_t)o.ibs);
	int st = 0;
	while (in_full + in_part < o.count && total < budget) {
		uint64_t n;
		if (gen) {
			n = o.ibs;
			if (gen == VDEV_RANDOM)
				lib_random(blk, (size_t)n);
			else
				memset(blk, 0, (size_t)n);
		} else {
			if (pos >= r.n)
				break;
			n = LIB_MIN(o.ibs, r.n - pos);
			memcpy(blk, r.p + pos, (size_t)n);
			pos += n;
		}
		uint64_t wn = n;
		if (n == o.ibs) {
			in_full++;
		} else {
			in_part++;
			if (o.sync_) {
				memset(blk + n, 0, (size_t)(o.ibs - n));
				wn = o.ibs;
			}
		}
		int rc = 0;
		if (vd)
			rc = shell_vfs_pwrite(V(c), vd, (size_t)LIB_MIN(opos, (uint64_t)SIZE_MAX),
					      blk, (size_t)wn, r.attacker, "dd");
		else if (!o.of)
			rc = shell_out(c, blk, (size_t)wn, r.attacker);
		if (rc == -ENOSPC) {
			shell_err(c, "writing '%s': %s", o.of ? o.of : "standard output",
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
	if (!o.quiet)
		dd_status(c, in_full, in_part, total, o.obs);
	shell_rd_free(&r);
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
		struct shell_rd r;
		int rc = shell_read_path(c, files[i], &r);
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
		shell_rd_free(&r);
	}
	shell_getopt_done(&g);
	return st;
}

int shell_cmd_head(struct cmd *c)
{
	return headtail(c, false);
}

int shell_cmd_tail(struct cmd *c)
{
	return headtail(c, true);
}

int shell_cmd_wc(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "clwLm", &g))
		return 1;
	bool fl = shell_opt(&g, 'l');
	bool fw = shell_opt(&g, 'w');
	bool fc = shell_opt(&g, 'c') || shell_opt(&g, 'm');
	bool fL = shell_opt(&g, 'L');
	if (!fl && !fw && !fc && !fL)
		fl = fw = fc = true;
	int nsel = fl + fw + fc + fL;
	char *dash[] = {(char *)"-", NULL};
	char **files = g.noperands ? g.operands : dash;
	int nf = g.noperands ? g.noperands : 1;
	unsigned long long tot[4] = {0};
	int st = 0;
	for (int i = 0; i < nf; i++) {
		struct shell_rd r;
		int rc = shell_read_path(c, files[i], &r);
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
		shell_rd_free(&r);
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
	shell_opts_free(&g);
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

/* The pattern as grep means it (-E, -F, -w, -x, -i), compiled; NULL if it does not compile. */
static pcre2_code *grep_compile(const char *pat, bool ere, bool fixed, bool word, bool line,
				bool icase)
{
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
	return re;
}

int shell_cmd_grep(struct cmd *c)
{
	struct shell_opts g;
	if (shell_opts(c, "HhnlLoqvsriwxFEcm:A:B:C:e:f:z", &g))
		return 2;
	bool inv = shell_opt(&g, 'v'), icase = shell_opt(&g, 'i'), cnt = shell_opt(&g, 'c');
	bool num = shell_opt(&g, 'n'), list = shell_opt(&g, 'l'), quiet = shell_opt(&g, 'q');
	bool silent = shell_opt(&g, 's'), word = shell_opt(&g, 'w'), line = shell_opt(&g, 'x');
	bool ere = strcmp(c->name, "egrep") == 0 || shell_opt(&g, 'E');
	bool fixed = strcmp(c->name, "fgrep") == 0 || shell_opt(&g, 'F');
	bool withname = shell_opt(&g, 'H'), noname = shell_opt(&g, 'h'), only = shell_opt(&g, 'o');
	const char *pat = shell_optarg(&g, 'e');
	int fi = 0;
	if (!pat) {
		if (!g.noperands) {
			shell_usage(c, "grep");
			shell_opts_free(&g);
			return 2;
		}
		pat = g.operands[0];
		fi = 1;
	}
	pcre2_code *re = grep_compile(pat, ere, fixed, word, line, icase);
	if (!re) {
		shell_err(c, "bad regex '%s'", pat);
		shell_opts_free(&g);
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
		struct shell_rd r;
		int rc = shell_read_path(c, files[i], &r);
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
		shell_rd_free(&r);
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	pcre2_code_free(re);
	shell_opts_free(&g);
	if (st == 2 && !any)
		return 2;
	return any ? 0 : 1;
}
