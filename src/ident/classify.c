/* ident: the device categories, a host's observed fields, and the classifier that turns the
 * matches of those fields into one answer (category, vendor, model, firmware, confidence).
 *
 * Confidence: each match that names a device category counts with its fingerprint's
 * certainty c (or its file's preference); matches that agree add up as 1 - prod(1 - c), so
 * two independent weak signs (a Server header and a title) say more than one. The category
 * with the highest total wins; vendor, model and firmware come from the strongest match of
 * that category, then from any match, then from the UPnP description as the device gave it. */
#include "ident/ident_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAME_ROW(id, name) name,
static const char *const probe_names[] = {IDENT_PROBES(NAME_ROW)};
static const char *const outcome_names[] = {IDENT_OUTCOMES(NAME_ROW)};
#undef NAME_ROW

const char *ident_probe_name(enum ident_probe_kind k)
{
	return (unsigned)k < IDENT_PROBE__COUNT ? probe_names[k] : "?";
}

int ident_probe_find(const char *name)
{
	for (int i = 0; i < IDENT_PROBE__COUNT; i++)
		if (strcmp(probe_names[i], name) == 0)
			return i;
	return -1;
}

const char *ident_outcome_name(enum ident_outcome o)
{
	return (unsigned)o < IDENT_OUT__COUNT ? outcome_names[o] : "?";
}

void ident_printable(const void *p, size_t n, char *out, size_t outlen)
{
	const uint8_t *s = p;
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < outlen; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f)
			out[o++] = (char)s[i];
		else if (s[i] == '\n')
			o += (size_t)snprintf(out + o, outlen - o, "\\n");
		else if (s[i] == '\r')
			o += (size_t)snprintf(out + o, outlen - o, "\\r");
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", s[i]);
	}
	if (outlen)
		out[o < outlen ? o : outlen - 1] = '\0';
}

/* ------------------------------------------------------------------ categories */

static char *lower_dup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* Splits one TSV line into at most `max` fields (pointers into the line, which is cut). */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	while (n < max) {
		f[n++] = line;
		char *t = strchr(line, '\t');
		if (!t)
			break;
		*t = '\0';
		line = t + 1;
	}
	return n;
}

static void add_aliases(struct ident_category *c, const char *list)
{
	const char *p = list;
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		while (n && isspace((unsigned char)*p))
			p++, n--;
		if (n) {
			c->aliases = xrealloc(c->aliases, (c->naliases + 1) * sizeof(char *));
			c->aliases[c->naliases++] = lower_dup(p, n);
		}
		if (!bar)
			break;
		p = bar + 1;
	}
}

int ident_db_load_categories(struct ident_db *db, const char *tsv, size_t len, char *err,
			     size_t errlen)
{
	struct ident_category *cats = NULL;
	size_t ncats = 0;
	char *text = xstrndup(tsv, len);
	int lineno = 0, rc = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[--l] = '\0';
		if (!l || line[0] == '#')
			continue;
		char *f[4];
		size_t n = split_tabs(line, f, 4);
		if (n < 3 || !f[0][0] || !f[1][0] || !f[2][0]) {
			snprintf(err, errlen, "line %d: want id<TAB>group<TAB>name[<TAB>aliases]",
				 lineno);
			rc = -EINVAL;
			break;
		}
		if (ncats >= IDENT_MAX_CATEGORIES) {
			snprintf(err, errlen, "more than %d categories", IDENT_MAX_CATEGORIES);
			rc = -E2BIG;
			break;
		}
		cats = xrealloc(cats, (ncats + 1) * sizeof(*cats));
		struct ident_category *c = &cats[ncats++];
		*c = (struct ident_category){
			.id = xstrdup(f[0]), .group = xstrdup(f[1]), .name = xstrdup(f[2])};
		if (n > 3)
			add_aliases(c, f[3]);
	}
	free(text);
	if (rc) {
		for (size_t i = 0; i < ncats; i++) {
			struct ident_category *c = &cats[i];
			free(c->id), free(c->group), free(c->name);
			for (size_t j = 0; j < c->naliases; j++)
				free(c->aliases[j]);
			free(c->aliases);
		}
		free(cats);
		return rc;
	}
	return ident_db_set_categories(db, cats, ncats);
}

/* ------------------------------------------------------------------ host fields */

void ident_host_add_field(struct ident_host *h, enum ident_probe_kind kind, int port,
			  const char *key, const void *value, size_t len)
{
	if (h->nfields >= IDENT_MAX_FIELDS)
		return;
	if (len > IDENT_MAX_FIELD)
		len = IDENT_MAX_FIELD;
	struct ident_field *f = &h->fields[h->nfields++];
	f->kind = kind;
	f->port = port;
	lib_strlcpy(f->key, key, sizeof(f->key));
	f->value = xstrndup(value, len);
	f->len = strlen(f->value); /* a NUL inside cuts the value */
}

const char *ident_host_field(const struct ident_host *h, const char *key)
{
	for (size_t i = 0; i < h->nfields; i++)
		if (strcmp(h->fields[i].key, key) == 0)
			return h->fields[i].value;
	return NULL;
}

void ident_host_clear(struct ident_host *h)
{
	for (size_t i = 0; i < h->nfields; i++)
		free(h->fields[i].value);
	h->nfields = 0;
}

/* ------------------------------------------------------------------ classification */

void ident_result_free(struct ident_result *r)
{
	for (size_t i = 0; i < r->nevidence; i++) {
		free(r->evidence[i].value);
		ident_match_clear(&r->evidence[i].match);
	}
	free(r->vendor);
	free(r->model);
	free(r->firmware);
	memset(r, 0, sizeof(*r));
}

static const char *first_param(const struct ident_match *m, const char *const *names)
{
	for (size_t i = 0; names[i]; i++) {
		const char *v = ident_match_get(m, names[i]);
		if (v && *v && strcasecmp(v, "unknown") != 0)
			return v;
	}
	return NULL;
}

/* vendor, model, firmware from the evidence: the winning category's first, then any. */
static void pick_names(struct ident_result *r, const struct ident_host *h)
{
	static const char *const vendor[] = {"hw.vendor", "os.vendor", NULL};
	static const char *const model[] = {"hw.product", "hw.model", NULL};
	static const char *const firmware[] = {"hw.firmware", "os.version", "hw.version", NULL};
	char **slots[3] = {&r->vendor, &r->model, &r->firmware};
	const char *const *names[3] = {vendor, model, firmware};
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < r->nevidence; i++) {
			const struct ident_evidence *e = &r->evidence[i];
			if (pass == 0 && (!r->category || e->category != r->category))
				continue;
			for (int s = 0; s < 3; s++) {
				const char *v = first_param(&e->match, names[s]);
				if (!*slots[s] && v)
					*slots[s] = xstrdup(v);
			}
		}
	}
	const char *mf = ident_host_field(h, "upnp.manufacturer");
	const char *mn = ident_host_field(h, "upnp.model");
	if (!r->vendor && mf && *mf)
		r->vendor = xstrdup(mf);
	if (!r->model && mn && *mn)
		r->model = xstrdup(mn);
}

void ident_classify(struct ident_db *db, const struct ident_host *h, double min_confidence,
		    struct ident_result *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < h->nprobes; i++)
		if (h->probes[i].outcome == IDENT_OUT_DATA)
			r->answered = true;
	double score[IDENT_MAX_EVIDENCE] = {0};
	for (size_t i = 0; db && i < h->nfields && r->nevidence < IDENT_MAX_EVIDENCE; i++) {
		const struct ident_field *f = &h->fields[i];
		struct ident_evidence *e = &r->evidence[r->nevidence];
		memset(e, 0, sizeof(*e));
		if (!ident_db_match(db, f->key, f->value, f->len, &e->match))
			continue;
		e->kind = f->kind;
		e->port = f->port;
		lib_strlcpy(e->key, f->key, sizeof(e->key));
		e->value = xstrdup(f->value);
		const char *dev = ident_match_get(&e->match, "hw.device");
		if (!dev)
			dev = ident_match_get(&e->match, "os.device");
		e->category = dev ? ident_db_category(db, dev) : NULL;
		r->nevidence++;
	}
	/* combine per category: 1 - prod(1 - c) */
	double best = 0;
	for (size_t i = 0; i < r->nevidence; i++) {
		const struct ident_category *c = r->evidence[i].category;
		if (!c)
			continue;
		double miss = 1;
		for (size_t j = 0; j < r->nevidence; j++)
			if (r->evidence[j].category == c)
				miss *= 1 - r->evidence[j].match.certainty;
		score[i] = 1 - miss;
		if (score[i] > best + 1e-9) {
			best = score[i];
			r->category = c;
		}
	}
	r->confidence = best;
	r->identified = r->category && best + 1e-9 >= min_confidence;
	pick_names(r, h);
}

/* ------------------------------------------------------------------ JSON */

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? core_json_bytes(v, strlen(v)) : json_null());
}

static json_t *probes_json(const struct ident_host *h)
{
	json_t *a = json_array();
	for (size_t i = 0; i < h->nprobes; i++) {
		const struct ident_probe_result *p = &h->probes[i];
		json_t *o = json_object();
		json_object_set_new(o, "probe", json_string(ident_probe_name(p->kind)));
		json_object_set_new(o, "port", json_integer(p->port));
		json_object_set_new(o, "outcome", json_string(ident_outcome_name(p->outcome)));
		json_object_set_new(o, "ms", json_integer(p->ms));
		json_object_set_new(o, "bytes", json_integer(p->bytes));
		if (p->truncated)
			json_object_set_new(o, "truncated", json_true());
		if (p->detail[0])
			set_str(o, "detail", p->detail);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *evidence_json(const struct ident_result *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->nevidence; i++) {
		const struct ident_evidence *e = &r->evidence[i];
		json_t *o = json_object();
		json_object_set_new(o, "probe", json_string(ident_probe_name(e->kind)));
		json_object_set_new(o, "port", json_integer(e->port));
		json_object_set_new(o, "field", json_string(e->key));
		set_str(o, "value", e->value);
		set_str(o, "fingerprint", e->match.description);
		json_object_set_new(o, "source",
				    json_sprintf("%s.xml:%d", e->match.file, e->match.line));
		json_object_set_new(o, "certainty", json_real(e->match.certainty));
		if (e->category)
			json_object_set_new(o, "category", json_string(e->category->id));
		json_t *params = json_object();
		for (size_t j = 0; j < e->match.nparams; j++)
			set_str(params, e->match.params[j].name, e->match.params[j].value);
		json_object_set_new(o, "params", params);
		json_array_append_new(a, o);
	}
	return a;
}

json_t *ident_result_json(const struct ident_host *h, const struct ident_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "host", json_string(h->addr));
	if (h->only_port)
		json_object_set_new(o, "port", json_integer(h->only_port));
	json_object_set_new(o, "identified", json_boolean(r->identified));
	json_object_set_new(o, "answered", json_boolean(r->answered));
	set_str(o, "category", r->category ? r->category->id : NULL);
	set_str(o, "category_name", r->category ? r->category->name : NULL);
	set_str(o, "group", r->category ? r->category->group : NULL);
	set_str(o, "vendor", r->vendor);
	set_str(o, "model", r->model);
	set_str(o, "firmware", r->firmware);
	json_object_set_new(o, "confidence", json_real((double)(int)(r->confidence * 1000) / 1000));
	if (h->policy_refused)
		json_object_set_new(o, "refused", json_string("address policy"));
	json_object_set_new(
		o, "duration_ms",
		json_integer((json_int_t)(h->end_ms >= h->start_ms ? h->end_ms - h->start_ms : 0)));
	json_object_set_new(o, "probes", probes_json(h));
	json_object_set_new(o, "evidence", evidence_json(r));
	json_t *fields = json_object();
	for (size_t i = 0; i < h->nfields; i++) {
		char key[64];
		snprintf(key, sizeof(key), "%s:%d:%s", ident_probe_name(h->fields[i].kind),
			 h->fields[i].port, h->fields[i].key);
		set_str(fields, key, h->fields[i].value);
	}
	json_object_set_new(o, "fields", fields);
	return o;
}
