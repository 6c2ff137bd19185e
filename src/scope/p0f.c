/* scope: p0f v3 SYN fingerprints. Reads the [tcp:request] signatures of a p0f.fp file and
 * matches SYNs with the rules of p0f 3.09b (README section 5 and fp_tcp.c): option layout, then
 * quirks, IP option length, TTL, MSS, window scale, payload class and window, with p0f's fuzzy
 * and generic fall-backs, so that labels equal what `p0f -r` prints. Written from the format's
 * description and the observed behaviour; no p0f code is used. */
#include "scope/scope.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* p0f's limits. */
#define P0F_MAX_DIST 35         /* TTL distance beyond which a match is only fuzzy */
#define P0F_MAX_FILE (4u << 20) /* largest p0f.fp read */
#define P0F_MAX_SIGS 4096
#define P0F_MAX_CLASSES 64
#define P0F_BUCKETS 64
#define P0F_NAME_CHARS " ./-_!?()"
#define P0F_MIN_TCP4 40
#define P0F_MIN_TCP6 60

enum win_type { WIN_NORMAL, WIN_ANY, WIN_MOD, WIN_MSS, WIN_MTU };

struct sig {
	int8_t ver; /* 4, 6 or -1 for any */
	uint8_t ttl;
	bool bad_ttl; /* "ttl-": the tool randomises its TTL */
	bool generic;
	uint8_t olen;
	int32_t mss;    /* -1 any */
	int16_t wscale; /* -1 any */
	int8_t pay;     /* -1 any, 0, 1 */
	uint8_t win_type;
	uint16_t win;
	uint32_t quirks;
	uint8_t eol_pad;
	uint8_t opt_cnt;
	uint8_t layout[SCOPE_MAX_TCP_OPT];
	int cls; /* index into classes, -1 for a tool ("!") */
	int label;
	int next; /* next signature of the same layout bucket, -1 at the end */
};

struct scope_p0f {
	char *classes[P0F_MAX_CLASSES];
	int nclasses;
	char **names; /* OS / tool names, first spelling kept (p0f matches them case-insensitively)
		       */
	size_t nnames;
	char **labels; /* printed labels: name, then " flavor" */
	size_t nlabels;
	struct sig *sigs;
	size_t nsigs;
	int bucket[P0F_BUCKETS]; /* first signature of each layout bucket */
	int last[P0F_BUCKETS];
};

const char *const scope_family_names[SCOPE_FAM__N] = {"unix", "windows", "network", "other",
						      "unknown"};

static uint32_t layout_bucket(const uint8_t *l, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ l[i]) * 16777619u;
	h ^= (uint32_t)n;
	return h % P0F_BUCKETS;
}

void scope_p0f_free(struct scope_p0f *db)
{
	if (!db)
		return;
	for (int i = 0; i < db->nclasses; i++)
		free(db->classes[i]);
	for (size_t i = 0; i < db->nnames; i++)
		free(db->names[i]);
	for (size_t i = 0; i < db->nlabels; i++)
		free(db->labels[i]);
	free(db->names);
	free(db->labels);
	free(db->sigs);
	free(db);
}

size_t scope_p0f_count(const struct scope_p0f *db)
{
	return db ? db->nsigs : 0;
}

size_t scope_p0f_nlabels(const struct scope_p0f *db)
{
	return db ? db->nlabels : 0;
}

const char *scope_p0f_label(const struct scope_p0f *db, int label)
{
	if (!db || label < 0 || (size_t)label >= db->nlabels)
		return "???";
	return db->labels[label];
}

/* Parser state for one file. */
struct parse {
	struct scope_p0f *db;
	unsigned line;
	char *err;
	size_t errlen;
	bool in_tcp_request;
	bool have_label;
	bool need_sys;
	bool generic;
	int cls;
	int label;
};

static int fail(struct parse *ps, const char *what)
{
	snprintf(ps->err, ps->errlen, "line %u: %s", ps->line, what);
	return -EINVAL;
}

/* Reads digits at *s; returns false when there are none. */
static bool num(const char **s, long *v)
{
	const char *p = *s;
	if (!isdigit((unsigned char)*p))
		return false;
	long x = 0;
	while (isdigit((unsigned char)*p)) {
		x = x * 10 + (*p - '0');
		if (x > 100000)
			return false;
		p++;
	}
	*v = x;
	*s = p;
	return true;
}

static int parse_classes(struct parse *ps, const char *v)
{
	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		const char *e = v;
		while (isalnum((unsigned char)*e))
			e++;
		if (e == v || (*e && *e != ','))
			return fail(ps, "malformed class entry");
		if (ps->db->nclasses == P0F_MAX_CLASSES)
			return fail(ps, "too many classes");
		ps->db->classes[ps->db->nclasses++] = xstrndup(v, (size_t)(e - v));
		v = e;
	}
	return 0;
}

static int intern_label(struct scope_p0f *db, const char *text)
{
	for (size_t i = 0; i < db->nlabels; i++)
		if (!strcmp(db->labels[i], text))
			return (int)i;
	db->labels = xrealloc(db->labels, (db->nlabels + 1) * sizeof(*db->labels));
	db->labels[db->nlabels] = xstrdup(text);
	return (int)db->nlabels++;
}

static const char *intern_name(struct scope_p0f *db, const char *name, size_t len)
{
	for (size_t i = 0; i < db->nnames; i++)
		if (strlen(db->names[i]) == len && !strncasecmp(db->names[i], name, len))
			return db->names[i];
	db->names = xrealloc(db->names, (db->nnames + 1) * sizeof(*db->names));
	db->names[db->nnames] = xstrndup(name, len);
	return db->names[db->nnames++];
}

/* label = type:class:name:flavor */
static int parse_label(struct parse *ps, const char *v)
{
	if ((*v != 'g' && *v != 's') || v[1] != ':')
		return fail(ps, "malformed label");
	ps->generic = *v == 'g';
	v += 2;
	const char *e = v;
	while (isalnum((unsigned char)*e) || *e == '!')
		e++;
	if (e == v || *e != ':')
		return fail(ps, "malformed label class");
	if (*v == '!' && e == v + 1) {
		ps->cls = -1;
	} else {
		int i;
		for (i = 0; i < ps->db->nclasses; i++)
			if (strlen(ps->db->classes[i]) == (size_t)(e - v) &&
			    !strncasecmp(ps->db->classes[i], v, (size_t)(e - v)))
				break;
		if (i == ps->db->nclasses)
			return fail(ps, "unknown class");
		ps->cls = i;
	}
	v = e + 1;
	e = v;
	while (isalnum((unsigned char)*e) || (*e && strchr(P0F_NAME_CHARS, *e)))
		e++;
	if (e == v || *e != ':')
		return fail(ps, "malformed label name");
	const char *name = intern_name(ps->db, v, (size_t)(e - v));
	const char *flavor = e + 1;
	char *text = *flavor ? xasprintf("%s %s", name, flavor) : xstrdup(name);
	ps->label = intern_label(ps->db, text);
	free(text);
	ps->have_label = true;
	ps->need_sys = ps->cls < 0;
	return 0;
}

static const struct {
	const char *name;
	uint32_t bit;
	int8_t only_ver; /* 4 or 6: not valid for the other version */
} quirk_names[] = {
	{"df", SCOPE_Q_DF, 4},
	{"id+", SCOPE_Q_NZ_ID, 4},
	{"id-", SCOPE_Q_ZERO_ID, 4},
	{"ecn", SCOPE_Q_ECN, 0},
	{"0+", SCOPE_Q_NZ_MBZ, 4},
	{"flow", SCOPE_Q_FLOW, 6},
	{"seq-", SCOPE_Q_ZERO_SEQ, 0},
	{"ack+", SCOPE_Q_NZ_ACK, 0},
	{"ack-", SCOPE_Q_ZERO_ACK, 0},
	{"uptr+", SCOPE_Q_NZ_URG, 0},
	{"urgf+", SCOPE_Q_URG, 0},
	{"pushf+", SCOPE_Q_PUSH, 0},
	{"ts1-", SCOPE_Q_OPT_ZERO_TS1, 0},
	{"ts2+", SCOPE_Q_OPT_NZ_TS2, 0},
	{"opt+", SCOPE_Q_OPT_EOL_NZ, 0},
	{"exws", SCOPE_Q_OPT_EXWS, 0},
	{"bad", SCOPE_Q_OPT_BAD, 0},
};

static const struct {
	const char *name;
	uint8_t kind;
} opt_names[] = {
	{"nop", 1}, {"mss", 2}, {"ws", 3}, {"sok", 4}, {"sack", 5}, {"ts", 8},
};

/* sig = ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass
 * Each field's parser advances *v past the field and its ':' (or returns fail's -EINVAL). */

/* ver:ittl: */
static int parse_ver_ttl(struct parse *ps, const char **vp, struct sig *s)
{
	const char *v = *vp;
	long x;
	switch (*v) {
	case '4': s->ver = 4; break;
	case '6': s->ver = 6; break;
	case '*': s->ver = -1; break;
	default: return fail(ps, "bad IP version");
	}
	if (v[1] != ':')
		return fail(ps, "malformed signature");
	v += 2;
	if (!num(&v, &x) || x < 1 || x > 255)
		return fail(ps, "bad initial TTL");
	s->ttl = (uint8_t)x;
	if (*v == '-' && v[1] == ':') {
		s->bad_ttl = true;
		v += 2;
	} else if (*v == '+') {
		v++;
		long add;
		if (!num(&v, &add) || *v != ':' || s->ttl + add > 255)
			return fail(ps, "bad initial TTL");
		s->ttl = (uint8_t)(s->ttl + add);
		v++;
	} else if (*v == ':') {
		v++;
	} else {
		return fail(ps, "malformed TTL");
	}
	*vp = v;
	return 0;
}

/* olen:mss:wsize,scale: */
static int parse_sizes(struct parse *ps, const char **vp, struct sig *s)
{
	const char *v = *vp;
	long x;
	if (!num(&v, &x) || *v != ':' || x > 255)
		return fail(ps, "bad IP option length");
	s->olen = (uint8_t)x;
	v++;
	if (*v == '*' && v[1] == ':') {
		s->mss = -1;
		v += 2;
	} else {
		if (!num(&v, &x) || *v != ':' || x > 65535)
			return fail(ps, "bad MSS");
		s->mss = (int32_t)x;
		v++;
	}
	if (*v == '*' && v[1] == ',') {
		s->win_type = WIN_ANY;
		v += 2;
	} else {
		if (*v == '%') {
			s->win_type = WIN_MOD;
			v++;
		} else if (!strncmp(v, "mss*", 4) || !strncmp(v, "mtu*", 4)) {
			s->win_type = v[1] == 's' ? WIN_MSS : WIN_MTU;
			v += 4;
		} else {
			s->win_type = WIN_NORMAL;
		}
		if (!num(&v, &x) || *v != ',')
			return fail(ps, "bad window size");
		if ((s->win_type == WIN_MOD && (x < 2 || x > 65535)) ||
		    ((s->win_type == WIN_MSS || s->win_type == WIN_MTU) && (x < 1 || x > 1000)) ||
		    x > 65535)
			return fail(ps, "bad window size");
		s->win = (uint16_t)x;
		v++;
	}
	if (*v == '*' && v[1] == ':') {
		s->wscale = -1;
		v += 2;
	} else {
		if (!num(&v, &x) || *v != ':' || x > 255)
			return fail(ps, "bad window scale");
		s->wscale = (int16_t)x;
		v++;
	}
	*vp = v;
	return 0;
}

/* olayout: (comma-separated option names, ?N, eol+N) */
static int parse_layout(struct parse *ps, const char **vp, struct sig *s)
{
	const char *v = *vp;
	long x;
	while (*v != ':') {
		if (s->opt_cnt >= SCOPE_MAX_TCP_OPT)
			return fail(ps, "too many TCP options");
		if (!strncmp(v, "eol+", 4)) {
			v += 4;
			if (!num(&v, &x) || *v != ':' || x > 255)
				return fail(ps, "bad EOL padding (EOL must be the last option)");
			s->layout[s->opt_cnt++] = 0;
			s->eol_pad = (uint8_t)x;
		} else if (*v == '?') {
			v++;
			if (!num(&v, &x) || (*v != ':' && *v != ',') || x > 255)
				return fail(ps, "bad '?' option");
			s->layout[s->opt_cnt++] = (uint8_t)x;
		} else {
			size_t i;
			for (i = 0; i < LIB_ARRAY_LEN(opt_names); i++) {
				size_t l = strlen(opt_names[i].name);
				if (!strncmp(v, opt_names[i].name, l)) {
					s->layout[s->opt_cnt++] = opt_names[i].kind;
					v += l;
					break;
				}
			}
			if (i == LIB_ARRAY_LEN(opt_names))
				return fail(ps, "unknown TCP option");
		}
		if (*v == ':')
			break;
		if (*v != ',')
			return fail(ps, "malformed TCP options");
		v++;
	}
	*vp = v + 1;
	return 0;
}

/* quirks: (comma-separated names) */
static int parse_quirks(struct parse *ps, const char **vp, struct sig *s)
{
	const char *v = *vp;
	while (*v != ':') {
		size_t i;
		for (i = 0; i < LIB_ARRAY_LEN(quirk_names); i++) {
			size_t l = strlen(quirk_names[i].name);
			if (!strncmp(v, quirk_names[i].name, l)) {
				int8_t only = quirk_names[i].only_ver;
				if (only && s->ver != -1 && s->ver != only)
					return fail(ps, "quirk not valid for this IP version");
				s->quirks |= quirk_names[i].bit;
				v += l;
				break;
			}
		}
		if (i == LIB_ARRAY_LEN(quirk_names))
			return fail(ps, "unknown quirk");
		if (*v == ':')
			break;
		if (*v != ',')
			return fail(ps, "malformed quirks");
		v++;
	}
	*vp = v + 1;
	return 0;
}

static int parse_sig(struct parse *ps, const char *v, struct sig *s)
{
	memset(s, 0, sizeof(*s));
	int rc;
	if ((rc = parse_ver_ttl(ps, &v, s)) || (rc = parse_sizes(ps, &v, s)) ||
	    (rc = parse_layout(ps, &v, s)) || (rc = parse_quirks(ps, &v, s)))
		return rc;
	if (!strcmp(v, "*"))
		s->pay = -1;
	else if (!strcmp(v, "0"))
		s->pay = 0;
	else if (!strcmp(v, "+"))
		s->pay = 1;
	else
		return fail(ps, "bad payload class");
	return 0;
}

static int parse_line(struct parse *ps, char *line)
{
	if (*line == '[') {
		ps->in_tcp_request = !strcmp(line, "[tcp:request]");
		if (!ps->in_tcp_request && strcmp(line, "[tcp:response]") &&
		    strcmp(line, "[mtu]") && strcmp(line, "[http:request]") &&
		    strcmp(line, "[http:response]"))
			return fail(ps, "unknown section");
		ps->have_label = false;
		return 0;
	}
	char *v = line;
	while (isalpha((unsigned char)*v) || *v == '_')
		v++;
	char *eon = v;
	while (*v == ' ' || *v == '\t')
		v++;
	if (v == line || *v != '=')
		return fail(ps, "unexpected statement");
	v++;
	while (*v == ' ' || *v == '\t')
		v++;
	*eon = 0;
	if (!strcmp(line, "classes"))
		return parse_classes(ps, v);
	if (!ps->in_tcp_request)
		return 0; /* other modules' labels, sys lists and signatures are not ours */
	if (!strcmp(line, "label"))
		return parse_label(ps, v);
	if (!strcmp(line, "sys")) {
		if (!ps->need_sys)
			return fail(ps, "misplaced 'sys'");
		ps->need_sys = false;
		return 0;
	}
	if (!strcmp(line, "sig")) {
		if (!ps->have_label || ps->need_sys)
			return fail(ps, "misplaced 'sig'");
		struct scope_p0f *db = ps->db;
		if (db->nsigs == P0F_MAX_SIGS)
			return fail(ps, "too many signatures");
		struct sig s;
		int rc = parse_sig(ps, v, &s);
		if (rc)
			return rc;
		s.generic = ps->generic;
		s.cls = ps->cls;
		s.label = ps->label;
		s.next = -1;
		db->sigs = xrealloc(db->sigs, (db->nsigs + 1) * sizeof(*db->sigs));
		int idx = (int)db->nsigs++;
		db->sigs[idx] = s;
		uint32_t b = layout_bucket(s.layout, s.opt_cnt);
		if (db->bucket[b] < 0)
			db->bucket[b] = idx;
		else
			db->sigs[db->last[b]].next = idx;
		db->last[b] = idx;
		return 0;
	}
	return fail(ps, "unknown field");
}

int scope_p0f_parse(const char *text, size_t len, struct scope_p0f **out, char *err, size_t errlen)
{
	struct scope_p0f *db = xcalloc(1, sizeof(*db));
	for (int i = 0; i < P0F_BUCKETS; i++)
		db->bucket[i] = db->last[i] = -1;
	struct parse ps = {.db = db, .err = err, .errlen = errlen};
	size_t pos = 0;
	int rc = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		ps.line++;
		size_t s = pos;
		while (s < end && (text[s] == ' ' || text[s] == '\t'))
			s++;
		size_t e = end;
		while (e > s && (text[e - 1] == '\r' || text[e - 1] == ' ' || text[e - 1] == '\t'))
			e--;
		if (s < e && text[s] != ';') {
			char *line = xstrndup(text + s, e - s);
			if (strlen(line) != e - s)
				rc = fail(&ps, "NUL byte");
			else
				rc = parse_line(&ps, line);
			free(line);
			if (rc)
				break;
		}
		pos = end + 1;
	}
	if (!rc && !db->nsigs) {
		snprintf(err, errlen, "no [tcp:request] signatures");
		rc = -EINVAL;
	}
	if (rc) {
		scope_p0f_free(db);
		return rc;
	}
	*out = db;
	return 0;
}

int scope_p0f_load(const char *path, struct scope_p0f **out, char *err, size_t errlen)
{
	uint8_t *data;
	size_t len;
	int rc = lib_read_file(path, P0F_MAX_FILE, &data, &len);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	char why[200];
	rc = scope_p0f_parse((const char *)data, len, out, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "%s: %s", path, why);
	free(data);
	return rc;
}

enum scope_family scope_family_from_ttl(uint8_t ttl)
{
	if (ttl <= 32)
		return SCOPE_FAM_UNKNOWN;
	if (ttl <= 64)
		return SCOPE_FAM_UNIX;
	if (ttl <= 128)
		return SCOPE_FAM_WINDOWS;
	return SCOPE_FAM_NETWORK;
}

static uint8_t guess_dist(uint8_t ttl)
{
	if (ttl <= 32)
		return (uint8_t)(32 - ttl);
	if (ttl <= 64)
		return (uint8_t)(64 - ttl);
	if (ttl <= 128)
		return (uint8_t)(128 - ttl);
	return (uint8_t)(255 - ttl);
}

/* Is the window a multiple of the MSS or of an MTU? Returns the multiplier or -1. */
static int win_multi(int ipver, const struct scope_tcpsig *t, bool *use_mtu)
{
	int32_t win = t->win, mss = t->mss;
	*use_mtu = false;
	if (!win || mss < 100)
		return -1;
	const int32_t div_mss[] = {mss,
				   t->ts1 ? mss - 12 : 0,
				   1500 - P0F_MIN_TCP4,
				   1500 - P0F_MIN_TCP4 - 12,
				   ipver == 6 ? 1500 - P0F_MIN_TCP6 : 0,
				   ipver == 6 ? 1500 - P0F_MIN_TCP6 - 12 : 0};
	for (size_t i = 0; i < LIB_ARRAY_LEN(div_mss); i++)
		if (div_mss[i] > 0 && win % div_mss[i] == 0)
			return win / div_mss[i];
	const int32_t div_mtu[] = {mss + P0F_MIN_TCP4, mss + t->tot_hdr,
				   ipver == 6 ? mss + P0F_MIN_TCP6 : 0, 1500};
	for (size_t i = 0; i < LIB_ARRAY_LEN(div_mtu); i++)
		if (div_mtu[i] > 0 && win % div_mtu[i] == 0) {
			*use_mtu = true;
			return win / div_mtu[i];
		}
	return -1;
}

static enum scope_family class_family(const struct scope_p0f *db, int cls)
{
	const char *c = db->classes[cls];
	if (!strcasecmp(c, "unix"))
		return SCOPE_FAM_UNIX;
	if (!strcasecmp(c, "win"))
		return SCOPE_FAM_WINDOWS;
	return SCOPE_FAM_OTHER;
}

/* p0f-sendsyn probes (window 1337, MSS 1331): p0f reports what matched them as an
 * application, whatever the signature's class. */
#define P0F_SENDSYN_WIN 1337
#define P0F_SENDSYN_MSS 1331

static void set_result(const struct scope_p0f *db, const struct sig *s, bool fuzzy, uint8_t dist,
		       const struct scope_tcpsig *t, struct scope_p0f_match *out)
{
	uint8_t ttl = t->ttl;
	out->label = s->label;
	out->app = s->cls < 0 || (t->win == P0F_SENDSYN_WIN && t->mss == P0F_SENDSYN_MSS);
	out->fuzzy = fuzzy;
	out->generic = s->generic;
	out->dist = dist;
	out->family = out->app ? scope_family_from_ttl(ttl) : class_family(db, s->cls);
}

void scope_p0f_match(const struct scope_p0f *db, int ipver, const struct scope_tcpsig *t,
		     struct scope_p0f_match *out)
{
	out->label = -1;
	out->app = out->fuzzy = out->generic = false;
	out->dist = guess_dist(t->ttl);
	out->family = scope_family_from_ttl(t->ttl);
	if (!db)
		return;
	bool use_mtu;
	int multi = win_multi(ipver, t, &use_mtu);
	const struct sig *fmatch = NULL, *gmatch = NULL;
	for (int i = db->bucket[layout_bucket(t->opt_layout, t->opt_cnt)]; i >= 0;
	     i = db->sigs[i].next) {
		const struct sig *r = &db->sigs[i];
		if (r->opt_cnt != t->opt_cnt || memcmp(r->layout, t->opt_layout, t->opt_cnt))
			continue;
		bool fuzzy = false;
		uint32_t rq = r->quirks;
		if (r->ver == -1)
			rq &= ipver == 4
				      ? ~(uint32_t)SCOPE_Q_FLOW
				      : ~(uint32_t)(SCOPE_Q_DF | SCOPE_Q_NZ_ID | SCOPE_Q_ZERO_ID);
		if (rq != t->quirks) {
			uint32_t deleted = (rq ^ t->quirks) & rq,
				 added = (rq ^ t->quirks) & t->quirks;
			/* Only 'df' or 'id+' disappearing, or 'id-' or 'ecn' appearing, is
			 * tolerated. */
			if (fmatch || (deleted & ~(uint32_t)(SCOPE_Q_DF | SCOPE_Q_NZ_ID)) ||
			    (added & ~(uint32_t)(SCOPE_Q_ZERO_ID | SCOPE_Q_ECN)))
				continue;
			fuzzy = true;
		}
		if (r->eol_pad != t->opt_eol_pad || r->olen != t->ip_opt_len)
			continue;
		if (r->bad_ttl) {
			if (r->ttl < t->ttl)
				continue;
		} else if (r->ttl < t->ttl || r->ttl - t->ttl > P0F_MAX_DIST) {
			fuzzy = true;
		}
		if (r->mss != -1 && r->mss != t->mss)
			continue;
		if (r->wscale != -1 && r->wscale != t->wscale)
			continue;
		if (r->pay != -1 && r->pay != t->pay)
			continue;
		switch (r->win_type) {
		case WIN_NORMAL:
			if (r->win != t->win)
				continue;
			break;
		case WIN_MOD:
			if (t->win % r->win)
				continue;
			break;
		case WIN_MSS:
			if (use_mtu || r->win != multi)
				continue;
			break;
		case WIN_MTU:
			if (!use_mtu || r->win != multi)
				continue;
			break;
		default: break;
		}
		if (!fuzzy) {
			if (!r->generic) {
				set_result(db, r, false, (uint8_t)(r->ttl - t->ttl), t, out);
				return;
			}
			if (!gmatch)
				gmatch = r;
		} else if (!fmatch) {
			fmatch = r;
		}
	}
	if (gmatch) {
		set_result(db, gmatch, false, (uint8_t)(gmatch->ttl - t->ttl), t, out);
		return;
	}
	/* No fuzzy matching for tools. */
	if (!fmatch || fmatch->cls < 0)
		return;
	uint8_t dist =
		(fmatch->ttl < t->ttl || (!fmatch->bad_ttl && fmatch->ttl - t->ttl > P0F_MAX_DIST))
			? guess_dist(t->ttl)
			: (uint8_t)(fmatch->ttl - t->ttl);
	set_result(db, fmatch, true, dist, t, out);
}
