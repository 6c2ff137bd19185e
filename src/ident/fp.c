/* ident: the fingerprint database. Reads Rapid7 Recog's XML format with expat, compiles each
 * pattern with PCRE2 (JIT), matches one field's value against the fingerprints of its key, and
 * checks every fingerprint's <example>s.
 *
 * Why expat: the format is a flat list read once, front to back; a streaming parser needs no
 * tree, keeps memory to one fingerprint at a time, and expat (Debian's libexpat1) resolves no
 * external entity and bounds entity expansion by default. A document with a DTD is refused
 * outright, so no entity of any kind is expanded.
 *
 * Recog's patterns are Ruby regular expressions. PCRE2 reads them with three translations
 * (docs/ident.md): PCRE2_MULTILINE always (in Ruby ^ and $ match at every line), an inline
 * (?m) becomes (?s) (Ruby's m is PCRE's dot-all), and \h becomes a hex digit class (in PCRE
 * \h is a horizontal blank). REG_ICASE is PCRE2_CASELESS; REG_DOT_NEWLINE and REG_MULTILINE
 * are PCRE2_DOTALL. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "ident/ident_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <expat.h>
#include <openssl/evp.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Backtracking bounds for one match: a hostile banner cannot make a pattern run for long. */
#define FP_MATCH_LIMIT 200000
#define FP_DEPTH_LIMIT 5000
/* Certainty of a fingerprint whose file gives no preference and which gives no certainty. */
#define FP_DEFAULT_CERTAINTY 0.85
#define FP_DEFAULT_PRIORITY 100

struct fp_param {
	int pos;
	char *name;
	char *value; /* pos 0 only */
};

struct fp_example {
	uint8_t *text;
	size_t len;
	char **attrs; /* name, value, name, value... (expected params) */
	size_t nattrs;
	int line;
};

struct fp {
	char *pattern;
	char *desc;
	pcre2_code *re;
	char *error; /* why the pattern did not compile (the self-test reports it) */
	struct fp_param *params;
	size_t nparams;
	struct fp_example *ex;
	size_t nex;
	double certainty;
	int line;
	size_t file;
};

struct fp_file {
	char *name;
	char *key;
	int priority;
	double preference;
	size_t first, count;
};

struct ident_db {
	struct fp *fps;
	size_t nfps, capfps;
	struct fp_file *files;
	size_t nfiles;
	size_t *order; /* file indexes by priority, then load order */
	struct ident_category *cats;
	size_t ncats;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	size_t skipped_files, examples;
};

/* The match keys a probe produces, and the names of Recog's files without a `matches`
 * attribute that feed them. */
static const struct {
	const char *key, *file;
} fp_keys[] = {
	{"telnet.banner", "telnet_banners"},
	{"http_header.server", "http_servers"},
	{"http_header.wwwauth", "http_wwwauth"},
	{"http_header.cookie", "http_cookies"},
	{"html_title", "html_title"},
	{"favicon.md5", "favicons"},
	{"ftp.banner", "ftp_banners"},
	{"ssh.banner", "ssh_banners"},
	{"rtsp_header.server", "rtsp_servers"},
	{"ssdp_header.server", "upnp_banners"},
	{"upnp.description", "upnp_description"},
	{"x509.subject", "x509_subjects"},
	{"x509.issuer", "x509_issuers"},
};

static const char *known_key(const char *matches, const char *base)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(fp_keys); i++) {
		if (matches && strcmp(matches, fp_keys[i].key) == 0)
			return fp_keys[i].key;
		if (!matches && strcmp(base, fp_keys[i].file) == 0)
			return fp_keys[i].key;
	}
	return NULL;
}

struct ident_db *ident_db_new(void)
{
	struct ident_db *db = xcalloc(1, sizeof(*db));
	db->md = pcre2_match_data_create(32, NULL);
	db->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(db->mctx, FP_MATCH_LIMIT);
	pcre2_set_depth_limit(db->mctx, FP_DEPTH_LIMIT);
	return db;
}

static void fp_free(struct fp *f)
{
	free(f->pattern);
	free(f->desc);
	free(f->error);
	pcre2_code_free(f->re);
	for (size_t i = 0; i < f->nparams; i++) {
		free(f->params[i].name);
		free(f->params[i].value);
	}
	free(f->params);
	for (size_t i = 0; i < f->nex; i++) {
		free(f->ex[i].text);
		for (size_t j = 0; j < f->ex[i].nattrs; j++)
			free(f->ex[i].attrs[j]);
		free(f->ex[i].attrs);
	}
	free(f->ex);
}

static void category_free(struct ident_category *c)
{
	free(c->id);
	free(c->group);
	free(c->name);
	for (size_t i = 0; i < c->naliases; i++)
		free(c->aliases[i]);
	free(c->aliases);
}

void ident_db_free(struct ident_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->nfps; i++)
		fp_free(&db->fps[i]);
	free(db->fps);
	for (size_t i = 0; i < db->nfiles; i++) {
		free(db->files[i].name);
		free(db->files[i].key);
	}
	free(db->files);
	free(db->order);
	for (size_t i = 0; i < db->ncats; i++)
		category_free(&db->cats[i]);
	free(db->cats);
	pcre2_match_data_free(db->md);
	pcre2_match_context_free(db->mctx);
	free(db);
}

void ident_db_stats(const struct ident_db *db, struct ident_db_stats *out)
{
	*out = (struct ident_db_stats){.files = db->nfiles,
				       .fingerprints = db->nfps,
				       .examples = db->examples,
				       .categories = db->ncats,
				       .skipped_files = db->skipped_files};
}

/* ------------------------------------------------------------------ pattern translation */

/* Ruby to PCRE2: inline (?m...) flags become (?s...), \h a hex digit. */
static char *translate_pattern(const char *p)
{
	struct buf b;
	buf_init(&b, 4 * IDENT_MAX_PATTERN);
	bool in_class = false;
	for (size_t i = 0; p[i]; i++) {
		char c = p[i];
		if (c == '\\' && p[i + 1]) {
			if (p[i + 1] == 'h') {
				buf_append_str(&b, in_class ? "0-9a-fA-F" : "[0-9a-fA-F]");
			} else {
				buf_append(&b, p + i, 2);
			}
			i++;
			continue;
		}
		if (in_class) {
			if (c == ']')
				in_class = false;
			buf_append(&b, &c, 1);
			continue;
		}
		if (c == '[') {
			in_class = true;
			buf_append(&b, &c, 1);
			if (p[i + 1] == '^') /* "[^]...]" and "[]...]": a leading ] is literal */
				buf_append(&b, &p[++i], 1);
			if (p[i + 1] == ']')
				buf_append(&b, &p[++i], 1);
			continue;
		}
		if (c == '(' && p[i + 1] == '?' && strchr("imx-", p[i + 2] ? p[i + 2] : '!')) {
			/* an inline flag group: (?flags) or (?flags:...) */
			size_t j = i + 2;
			while (p[j] && strchr("imx-", p[j]))
				j++;
			if (p[j] == ')' || p[j] == ':') {
				buf_append_str(&b, "(?");
				for (size_t k = i + 2; k < j; k++)
					buf_append(&b, p[k] == 'm' ? "s" : &p[k], 1);
				i = j - 1;
				continue;
			}
		}
		buf_append(&b, &c, 1);
	}
	return (char *)buf_steal(&b, NULL);
}

static uint32_t flag_options(const char *flags)
{
	uint32_t o = PCRE2_MULTILINE;
	if (!flags)
		return o;
	if (strstr(flags, "REG_ICASE"))
		o |= PCRE2_CASELESS;
	if (strstr(flags, "REG_DOT_NEWLINE") || strstr(flags, "REG_MULTILINE"))
		o |= PCRE2_DOTALL;
	return o;
}

static void compile_fp(struct fp *f, const char *flags)
{
	char *tr = translate_pattern(f->pattern);
	int code;
	PCRE2_SIZE off;
	f->re = pcre2_compile((PCRE2_SPTR)tr, PCRE2_ZERO_TERMINATED, flag_options(flags), &code,
			      &off, NULL);
	if (!f->re) {
		char msg[256];
		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
		f->error =
			xasprintf("pattern does not compile at offset %zu: %s", (size_t)off, msg);
	} else {
		pcre2_jit_compile(f->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
	}
	free(tr);
}

/* ------------------------------------------------------------------ XML reading */

struct xml_state {
	struct ident_db *db;
	XML_Parser parser;
	size_t file;
	struct fp cur;
	char *cur_flags;
	bool in_fp, in_root;
	int text_kind; /* 0 none, 1 description, 2 example */
	struct buf text;
	struct fp_example ex;
	bool ex_base64;
	char err[512];
};

static void xml_fail(struct xml_state *st, const char *fmt, ...) LIB_PRINTF(2, 3);
static void xml_fail(struct xml_state *st, const char *fmt, ...)
{
	if (st->err[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(st->err, sizeof(st->err),
			 "line %lu: ", (unsigned long)XML_GetCurrentLineNumber(st->parser));
	vsnprintf(st->err + n, sizeof(st->err) - (size_t)n, fmt, ap);
	va_end(ap);
	XML_StopParser(st->parser, XML_FALSE);
}

static const char *attr(const XML_Char **a, const char *name)
{
	for (size_t i = 0; a[i]; i += 2)
		if (strcmp(a[i], name) == 0)
			return a[i + 1];
	return NULL;
}

static void start_root(struct xml_state *st, const XML_Char **a)
{
	struct fp_file *f = &st->db->files[st->file];
	const char *m = attr(a, "matches");
	const char *key = known_key(m, f->name);
	f->key = xstrdup(key ? key : m ? m : f->name);
	const char *pr = attr(a, "priority");
	long long v;
	f->priority = pr && lib_parse_int(pr, &v) == 0 ? (int)v : FP_DEFAULT_PRIORITY;
	const char *pf = attr(a, "preference");
	f->preference = pf ? strtod(pf, NULL) : 0;
	if (f->preference <= 0 || f->preference > 1)
		f->preference = FP_DEFAULT_CERTAINTY;
	st->in_root = true;
}

static void start_fp(struct xml_state *st, const XML_Char **a)
{
	const char *pat = attr(a, "pattern");
	if (!pat) {
		xml_fail(st, "<fingerprint> without a pattern");
		return;
	}
	if (strlen(pat) > IDENT_MAX_PATTERN) {
		xml_fail(st, "pattern over %d bytes", IDENT_MAX_PATTERN);
		return;
	}
	if (st->db->nfps >= IDENT_MAX_FINGERPRINTS) {
		xml_fail(st, "more than %d fingerprints", IDENT_MAX_FINGERPRINTS);
		return;
	}
	st->cur = (struct fp){.pattern = xstrdup(pat),
			      .line = (int)XML_GetCurrentLineNumber(st->parser),
			      .file = st->file,
			      .certainty = st->db->files[st->file].preference};
	const char *c = attr(a, "certainty");
	if (c) {
		double d = strtod(c, NULL);
		if (d > 0 && d <= 1)
			st->cur.certainty = d;
	}
	const char *flags = attr(a, "flags");
	st->cur_flags = flags ? xstrdup(flags) : NULL;
	st->in_fp = true;
}

static void start_param(struct xml_state *st, const XML_Char **a)
{
	const char *pos = attr(a, "pos"), *name = attr(a, "name"), *value = attr(a, "value");
	long long p;
	if (!pos || !name || lib_parse_int(pos, &p) || p < 0 || p > 99) {
		xml_fail(st, "<param> needs pos (0..99) and name");
		return;
	}
	if (st->cur.nparams >= IDENT_MAX_PARAMS) {
		xml_fail(st, "more than %d params", IDENT_MAX_PARAMS);
		return;
	}
	if (p == 0 && !value) {
		xml_fail(st, "<param pos=\"0\" name=\"%s\"> without a value", name);
		return;
	}
	st->cur.params = xrealloc(st->cur.params, (st->cur.nparams + 1) * sizeof(struct fp_param));
	st->cur.params[st->cur.nparams++] = (struct fp_param){
		.pos = (int)p, .name = xstrdup(name), .value = p == 0 ? xstrdup(value) : NULL};
}

static void example_clear(struct fp_example *ex)
{
	for (size_t j = 0; j < ex->nattrs; j++)
		free(ex->attrs[j]);
	free(ex->attrs);
	*ex = (struct fp_example){0};
}

static void start_example(struct xml_state *st, const XML_Char **a)
{
	example_clear(&st->ex); /* an <example> inside an unfinished one replaces it */
	st->ex = (struct fp_example){.line = (int)XML_GetCurrentLineNumber(st->parser)};
	const char *enc = attr(a, "_encoding");
	st->ex_base64 = enc && strcmp(enc, "base64") == 0;
	for (size_t i = 0; a[i]; i += 2) {
		if (a[i][0] == '_')
			continue;
		st->ex.attrs = xrealloc(st->ex.attrs, (st->ex.nattrs + 2) * sizeof(char *));
		st->ex.attrs[st->ex.nattrs++] = xstrdup(a[i]);
		st->ex.attrs[st->ex.nattrs++] = xstrdup(a[i + 1]);
	}
	st->text_kind = 2;
	buf_reset(&st->text);
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **a)
{
	struct xml_state *st = arg;
	if (st->err[0])
		return;
	if (strcmp(name, "fingerprints") == 0 && !st->in_root)
		start_root(st, a);
	else if (!st->in_root)
		xml_fail(st, "the root element must be <fingerprints>, not <%s>", name);
	else if (strcmp(name, "fingerprint") == 0 && !st->in_fp)
		start_fp(st, a);
	else if (!st->in_fp)
		return; /* other elements are not part of the format: ignored */
	else if (strcmp(name, "description") == 0) {
		st->text_kind = 1;
		buf_reset(&st->text);
	} else if (strcmp(name, "example") == 0)
		start_example(st, a);
	else if (strcmp(name, "param") == 0)
		start_param(st, a);
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
	struct xml_state *st = arg;
	if (st->text_kind && !st->err[0] && buf_append(&st->text, s, (size_t)len))
		xml_fail(st, "text over %d bytes", IDENT_MAX_TEXT);
}

/* Base64 with blanks and line breaks ignored. */
static int decode_base64(const uint8_t *in, size_t n, uint8_t **out, size_t *outlen)
{
	uint8_t *clean = xmalloc(n + 1);
	size_t m = 0, pad = 0;
	for (size_t i = 0; i < n; i++)
		if (!isspace(in[i]))
			clean[m++] = in[i];
	if (m % 4) {
		free(clean);
		return -EINVAL;
	}
	for (size_t i = m; i > 0 && clean[i - 1] == '=' && pad < 2; i--)
		pad++;
	uint8_t *dec = xmalloc(m / 4 * 3 + 1);
	int r = m ? EVP_DecodeBlock(dec, clean, (int)m) : 0;
	free(clean);
	if (r < 0) {
		free(dec);
		return -EINVAL;
	}
	*outlen = (size_t)r - pad;
	dec[*outlen] = 0;
	*out = dec;
	return 0;
}

static void end_example(struct xml_state *st)
{
	struct fp_example ex = st->ex;
	st->ex = (struct fp_example){0};
	if (st->ex_base64) {
		if (decode_base64(st->text.data, st->text.len, &ex.text, &ex.len)) {
			xml_fail(st, "an example is not valid base64");
			example_clear(&ex);
			return;
		}
	} else {
		ex.len = st->text.len;
		ex.text = xmalloc(ex.len + 1);
		memcpy(ex.text, st->text.data, ex.len);
		ex.text[ex.len] = 0;
	}
	st->cur.ex = xrealloc(st->cur.ex, (st->cur.nex + 1) * sizeof(struct fp_example));
	st->cur.ex[st->cur.nex++] = ex;
}

static void end_fp(struct xml_state *st)
{
	struct ident_db *db = st->db;
	if (!st->cur.desc)
		st->cur.desc = xstrdup("");
	compile_fp(&st->cur, st->cur_flags);
	free(st->cur_flags);
	st->cur_flags = NULL;
	if (db->nfps == db->capfps) {
		db->capfps = db->capfps ? 2 * db->capfps : 256;
		db->fps = xrealloc(db->fps, db->capfps * sizeof(struct fp));
	}
	db->examples += st->cur.nex;
	db->fps[db->nfps++] = st->cur;
	st->cur = (struct fp){0};
	st->in_fp = false;
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
	struct xml_state *st = arg;
	if (st->err[0] || !st->in_fp)
		return;
	if (strcmp(name, "description") == 0 && st->text_kind == 1) {
		free(st->cur.desc);
		st->cur.desc = xstrndup((const char *)st->text.data, st->text.len);
		st->text_kind = 0;
	} else if (strcmp(name, "example") == 0 && st->text_kind == 2) {
		st->text_kind = 0;
		end_example(st);
	} else if (strcmp(name, "fingerprint") == 0) {
		end_fp(st);
	}
}

static void XMLCALL on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal)
{
	xml_fail(arg, "a document type declaration is not allowed");
}

static int on_unknown_encoding(void *arg, const XML_Char *name, XML_Encoding *info)
{
	return XML_STATUS_ERROR;
}

static void rebuild_order(struct ident_db *db)
{
	free(db->order);
	db->order = xmalloc((db->nfiles ? db->nfiles : 1) * sizeof(size_t));
	for (size_t i = 0; i < db->nfiles; i++) {
		/* insertion sort: stable, few files */
		size_t j = i;
		while (j > 0 && db->files[db->order[j - 1]].priority > db->files[i].priority) {
			db->order[j] = db->order[j - 1];
			j--;
		}
		db->order[j] = i;
	}
}

static void discard_from(struct ident_db *db, size_t nfps, size_t nfiles)
{
	for (size_t i = nfps; i < db->nfps; i++) {
		db->examples -= db->fps[i].nex;
		fp_free(&db->fps[i]);
	}
	db->nfps = nfps;
	for (size_t i = nfiles; i < db->nfiles; i++) {
		free(db->files[i].name);
		free(db->files[i].key);
	}
	db->nfiles = nfiles;
}

int ident_db_load_xml(struct ident_db *db, const char *name, const char *xml, size_t len, char *err,
		      size_t errlen)
{
	if (len > IDENT_MAX_DB_FILE) {
		snprintf(err, errlen, "%s: over %u bytes", name, IDENT_MAX_DB_FILE);
		return -EFBIG;
	}
	if (db->nfiles >= IDENT_MAX_DB_FILES) {
		snprintf(err, errlen, "%s: more than %d fingerprint files", name,
			 IDENT_MAX_DB_FILES);
		return -E2BIG;
	}
	size_t nfps0 = db->nfps, nfiles0 = db->nfiles;
	const char *slash = strrchr(name, '/');
	char *base = xstrdup(slash ? slash + 1 : name);
	char *dot = strrchr(base, '.');
	if (dot && strcmp(dot, ".xml") == 0)
		*dot = '\0';
	db->files = xrealloc(db->files, (db->nfiles + 1) * sizeof(struct fp_file));
	db->files[db->nfiles] = (struct fp_file){.name = base, .first = db->nfps};
	struct xml_state st = {.db = db, .file = db->nfiles++};
	buf_init(&st.text, IDENT_MAX_TEXT);
	st.parser = XML_ParserCreate(NULL);
	XML_SetUserData(st.parser, &st);
	XML_SetElementHandler(st.parser, on_start, on_end);
	XML_SetCharacterDataHandler(st.parser, on_text);
	XML_SetStartDoctypeDeclHandler(st.parser, on_doctype);
	XML_SetUnknownEncodingHandler(st.parser, on_unknown_encoding, NULL);
	if (XML_Parse(st.parser, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR && !st.err[0])
		snprintf(st.err, sizeof(st.err), "line %lu: %s",
			 (unsigned long)XML_GetCurrentLineNumber(st.parser),
			 XML_ErrorString(XML_GetErrorCode(st.parser)));
	if (!st.err[0] && !st.in_root)
		snprintf(st.err, sizeof(st.err), "no <fingerprints> element");
	XML_ParserFree(st.parser);
	buf_free(&st.text);
	if (st.in_fp || st.err[0]) {
		fp_free(&st.cur);
		free(st.cur_flags);
	}
	example_clear(&st.ex);
	if (st.err[0]) {
		snprintf(err, errlen, "%s.xml: %s", base, st.err);
		discard_from(db, nfps0, nfiles0);
		rebuild_order(db);
		return -EINVAL;
	}
	struct fp_file *f = &db->files[st.file];
	f->count = db->nfps - f->first;
	if (!known_key(f->key, "")) {
		/* no probe produces this key: kept out of memory */
		log_debug("ident", "%s.xml: no probe gives %s; skipped", base, f->key);
		db->skipped_files++;
		discard_from(db, nfps0, nfiles0);
	}
	rebuild_order(db);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ident_db_load_dir(struct ident_db *db, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < IDENT_MAX_DB_FILES + 1) {
		if (de->d_name[0] != '.' && lib_str_suffix(de->d_name, ".xml")) {
			names = xrealloc(names, (n + 1) * sizeof(char *));
			names[n++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(char *), name_cmp);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		uint8_t *data;
		size_t len;
		rc = lib_read_file(path, IDENT_MAX_DB_FILE, &data, &len);
		if (rc) {
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		} else {
			char sub[400];
			rc = ident_db_load_xml(db, path, (const char *)data, len, sub, sizeof(sub));
			if (rc)
				snprintf(err, errlen, "%s/%s", dir, sub);
			free(data);
		}
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc)
		return rc;
	char *cats = xasprintf("%s/categories.tsv", dir);
	uint8_t *data;
	size_t len;
	if (lib_read_file(cats, 1u << 20, &data, &len) == 0) {
		char sub[400];
		rc = ident_db_load_categories(db, (const char *)data, len, sub, sizeof(sub));
		if (rc)
			snprintf(err, errlen, "%s: %s", cats, sub);
		free(data);
	}
	free(cats);
	return rc;
}

/* ------------------------------------------------------------------ matching */

void ident_match_clear(struct ident_match *m)
{
	for (size_t i = 0; i < m->nparams; i++) {
		free(m->params[i].name);
		free(m->params[i].value);
	}
	m->nparams = 0;
}

const char *ident_match_get(const struct ident_match *m, const char *name)
{
	for (size_t i = 0; i < m->nparams; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return m->params[i].value;
	return NULL;
}

/* A pos-0 value with {name} replaced by the value of that param (Recog's interpolation). */
static char *interpolate(const char *v, const struct ident_match *m)
{
	if (!strchr(v, '{'))
		return xstrdup(v);
	struct buf b;
	buf_init(&b, IDENT_MAX_TEXT);
	for (const char *p = v; *p;) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		if (close) {
			char name[128];
			size_t n = (size_t)(close - p - 1);
			if (n < sizeof(name)) {
				memcpy(name, p + 1, n);
				name[n] = 0;
				const char *val = ident_match_get(m, name);
				buf_append_str(&b, val ? val : "");
				p = close + 1;
				continue;
			}
		}
		buf_append(&b, p, 1);
		p++;
	}
	return (char *)buf_steal(&b, NULL);
}

/* `nset` is pcre2_match's answer: pairs at and beyond it hold whatever an earlier match of
 * another subject left (a param may name a group the pattern does not have), so they are
 * never read; a pair is also used only when it lies inside the subject's n bytes. */
static void fill_params(const struct fp *f, const uint8_t *s, size_t n, struct ident_match *m,
			pcre2_match_data *md, int nset)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	uint32_t npairs = pcre2_get_ovector_count(md);
	if (nset > 0 && (uint32_t)nset < npairs)
		npairs = (uint32_t)nset;
	for (size_t i = 0; i < f->nparams && m->nparams < IDENT_MAX_PARAMS; i++) {
		const struct fp_param *p = &f->params[i];
		if (p->pos == 0)
			continue;
		if ((uint32_t)p->pos >= npairs || ov[2 * p->pos] == PCRE2_UNSET)
			continue;
		size_t a = ov[2 * p->pos], z = ov[2 * p->pos + 1];
		if (a > z || z > n)
			continue;
		m->params[m->nparams].name = xstrdup(p->name);
		m->params[m->nparams++].value = xstrndup((const char *)s + a, z - a);
	}
	for (size_t i = 0; i < f->nparams && m->nparams < IDENT_MAX_PARAMS; i++) {
		const struct fp_param *p = &f->params[i];
		if (p->pos != 0)
			continue;
		char *v = interpolate(p->value, m);
		m->params[m->nparams].name = xstrdup(p->name);
		m->params[m->nparams++].value = v;
	}
}

static bool match_fp(struct ident_db *db, const struct fp *f, const uint8_t *s, size_t n,
		     struct ident_match *m)
{
	if (!f->re)
		return false;
	int rc = pcre2_match(f->re, (PCRE2_SPTR)s, n, 0, 0, db->md, db->mctx);
	if (rc < 0)
		return false;
	ident_match_clear(m);
	const struct fp_file *file = &db->files[f->file];
	m->file = file->name;
	m->description = f->desc;
	m->line = f->line;
	m->certainty = f->certainty;
	fill_params(f, s, n, m, db->md, rc);
	return true;
}

bool ident_db_match(struct ident_db *db, const char *key, const void *value, size_t len,
		    struct ident_match *m)
{
	if (len > IDENT_MAX_FIELD)
		len = IDENT_MAX_FIELD;
	for (size_t k = 0; k < db->nfiles; k++) {
		const struct fp_file *file = &db->files[db->order[k]];
		if (strcmp(file->key, key) != 0)
			continue;
		for (size_t i = file->first; i < file->first + file->count; i++)
			if (match_fp(db, &db->fps[i], value, len, m))
				return true;
	}
	return false;
}

/* ------------------------------------------------------------------ self-test */

static size_t check_example(struct ident_db *db, const struct fp *f, const struct fp_example *ex,
			    FILE *out)
{
	const char *file = db->files[f->file].name;
	struct ident_match m = {0};
	size_t fails = 0;
	if (!match_fp(db, f, ex->text, ex->len, &m)) {
		if (out)
			fprintf(out, "%s.xml:%d: example at line %d does not match '%s'%s%s\n",
				file, f->line, ex->line, f->desc, f->error ? ": " : "",
				f->error ? f->error : "");
		return 1;
	}
	for (size_t i = 0; i + 1 < ex->nattrs; i += 2) {
		const char *got = ident_match_get(&m, ex->attrs[i]);
		if (!got || strcmp(got, ex->attrs[i + 1]) != 0) {
			if (out)
				fprintf(out,
					"%s.xml:%d: example at line %d: %s is '%s', expected "
					"'%s'\n",
					file, f->line, ex->line, ex->attrs[i], got ? got : "(none)",
					ex->attrs[i + 1]);
			fails++;
		}
	}
	ident_match_clear(&m);
	return fails;
}

size_t ident_db_selftest(struct ident_db *db, FILE *out, size_t *checked)
{
	size_t fails = 0, n = 0;
	for (size_t i = 0; i < db->nfps; i++) {
		const struct fp *f = &db->fps[i];
		if (f->error && f->nex == 0) {
			if (out)
				fprintf(out, "%s.xml:%d: %s\n", db->files[f->file].name, f->line,
					f->error);
			fails++;
		}
		for (size_t j = 0; j < f->nex; j++, n++)
			fails += check_example(db, f, &f->ex[j], out);
	}
	if (checked)
		*checked = n;
	return fails;
}

/* ------------------------------------------------------------------ categories */

int ident_db_set_categories(struct ident_db *db, struct ident_category *cats, size_t n)
{
	for (size_t i = 0; i < db->ncats; i++)
		category_free(&db->cats[i]);
	free(db->cats);
	db->cats = cats;
	db->ncats = n;
	return 0;
}

/* Equal without regard to case, a blank, '-' and '_' being the same ("Set-top box" is
 * set-top-box). */
static bool name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = (char)tolower((unsigned char)*a), y = (char)tolower((unsigned char)*b);
		if (x == ' ' || x == '_')
			x = '-';
		if (y == ' ' || y == '_')
			y = '-';
		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

const struct ident_category *ident_db_category(const struct ident_db *db, const char *device)
{
	for (size_t i = 0; i < db->ncats; i++) {
		const struct ident_category *c = &db->cats[i];
		if (name_eq(c->id, device) || strcasecmp(c->name, device) == 0)
			return c;
		for (size_t j = 0; j < c->naliases; j++)
			if (strcasecmp(c->aliases[j], device) == 0)
				return c;
	}
	return NULL;
}

size_t ident_db_categories(const struct ident_db *db, const struct ident_category **out)
{
	*out = db->cats;
	return db->ncats;
}

const char *ident_default_fingerprints_dir(void)
{
	const char *env = getenv("MITSU_FINGERPRINTS");
	if (env && *env)
		return env;
#ifdef MITSU_SOURCE_DIR
	struct stat st;
	if (stat(MITSU_SOURCE_DIR "/fingerprints", &st) == 0 && S_ISDIR(st.st_mode))
		return MITSU_SOURCE_DIR "/fingerprints";
#endif
	return MITSU_FINGERPRINTS_INSTALL_DIR;
}

int ident_db_open(struct ident_db **out, const struct core_config *cfg, char *err, size_t errlen)
{
	struct ident_db *db = ident_db_new();
	int rc = ident_db_load_dir(db, ident_default_fingerprints_dir(), err, errlen);
	char **dirs = NULL;
	size_t n = cfg ? core_cfg_list(cfg, OPT_IDENT_FINGERPRINTS, &dirs) : 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = ident_db_load_dir(db, dirs[i], err, errlen);
	if (dirs)
		core_list_free(dirs);
	if (rc) {
		ident_db_free(db);
		db = NULL;
	}
	*out = db;
	return rc;
}

size_t ident_db_category_fingerprints(const struct ident_db *db, const struct ident_category *c)
{
	size_t n = 0;
	for (size_t i = 0; i < db->nfps; i++) {
		const struct fp *f = &db->fps[i];
		for (size_t j = 0; j < f->nparams; j++) {
			const struct fp_param *p = &f->params[j];
			if (p->pos == 0 &&
			    (strcmp(p->name, "hw.device") == 0 ||
			     strcmp(p->name, "os.device") == 0) &&
			    ident_db_category(db, p->value) == c) {
				n++;
				break;
			}
		}
	}
	return n;
}
