/* Web profiles: a folder with web.ini and www/ describes the admin pages of one device as the
 * HTTP honeypot serves them: the server's banner and reply shape, the login scheme and its
 * default credentials, the pages and the routes that are device-specific actions, and the
 * settings the pages show. The format is in docs/profiles.md ("Web profiles"). */
#include "profile/internal.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lib/lib.h"

#define PROFILE_WEB_ACTION_NAME(id, name) [PROFILE_ACTION_##id] = name,
const char *const profile_web_action_names[PROFILE_ACTION__COUNT] = {
	PROFILE_WEB_ACTIONS(PROFILE_WEB_ACTION_NAME)};
#undef PROFILE_WEB_ACTION_NAME

/* Header tokens every profile may use in [http] headers without defining them. */
static const char *const builtin_headers[] = {"server",     "date", "type",     "length",
					      "connection", "auth", "location", "cookie"};

static const struct profile_web_status default_statuses[] = {
	{.code = 200, .reason = "OK"},
	{.code = 301, .reason = "Moved Permanently"},
	{.code = 302, .reason = "Found"},
	{.code = 400, .reason = "Bad Request"},
	{.code = 401, .reason = "Unauthorized"},
	{.code = 403, .reason = "Forbidden"},
	{.code = 404, .reason = "Not Found"},
	{.code = 405, .reason = "Method Not Allowed"},
	{.code = 408, .reason = "Request Timeout"},
	{.code = 413, .reason = "Request Entity Too Large"},
	{.code = 414, .reason = "Request-URI Too Long"},
	{.code = 431, .reason = "Request Header Fields Too Large"},
	{.code = 500, .reason = "Internal Server Error"},
	{.code = 501, .reason = "Not Implemented"},
	{.code = 503, .reason = "Service Unavailable"},
};

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{"html", "text/html"},   {"htm", "text/html"},
	{"css", "text/css"},     {"js", "application/javascript"},
	{"xml", "text/xml"},     {"json", "application/json"},
	{"txt", "text/plain"},   {"jpg", "image/jpeg"},
	{"gif", "image/gif"},    {"png", "image/png"},
	{"ico", "image/x-icon"},
};

struct wctx {
	const char *dir;
	struct profile *p;
	struct profile_web *w;
	char **public;
	size_t npublic;
	char err[256];
};

static char *wdup(struct wctx *c, const char *s)
{
	c->w->bytes += strlen(s) + 1;
	return xstrdup(s);
}

static bool fail(struct wctx *c, const char *fmt, ...) LIB_PRINTF(2, 3);
static bool fail(struct wctx *c, const char *fmt, ...)
{
	if (c->err[0])
		return false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return false;
}

/* Splits s in place at blanks into at most max words; returns the count. */
static size_t words(char *s, char **w, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(s, " \t", &save); t && n < max; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	return n;
}

static bool read_www(struct wctx *c, const char *file, const uint8_t **out, size_t *len)
{
	if (strstr(file, "..") || file[0] == '/')
		return fail(c, "www file '%s': a name under www/, without '..'", file);
	char *path = xasprintf("%s/www/%s", c->dir, file);
	uint8_t *data;
	int rc = lib_read_file(path, PROFILE_MAX_FILE_BYTES, &data, len);
	free(path);
	if (rc)
		return fail(c, "www/%s: %s", file, strerror(-rc));
	c->w->bytes += *len;
	*out = data;
	return true;
}

static const char *type_of(const char *file)
{
	const char *dot = strrchr(file, '.');
	for (size_t i = 0; dot && i < LIB_ARRAY_LEN(types); i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static bool valid_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
	       strcmp(m, "*") == 0;
}

/* PATH = [METHOD] FILE | [METHOD] -> LOCATION ; an action adds ACTION before. */
static bool add_page(struct wctx *c, const char *path, char *spec, enum profile_web_action act)
{
	struct profile_web *w = c->w;
	if (path[0] != '/' || strlen(path) > PROFILE_MAX_PATH)
		return fail(c, "route '%s': a path starting with /", path);
	if (w->npages >= PROFILE_WEB_MAX_PAGES)
		return fail(c, "more than %d routes", PROFILE_WEB_MAX_PAGES);
	char *t[4];
	size_t n = words(spec, t, 4);
	size_t i = 0;
	const char *method = "GET";
	if (n > 1 && valid_method(t[0]))
		method = t[i++];
	if (i >= n)
		return fail(c, "route %s: no file or '-> LOCATION'", path);
	w->pages = xrealloc(w->pages, (w->npages + 1) * sizeof(*w->pages));
	struct profile_web_page *pg = &w->pages[w->npages++];
	memset(pg, 0, sizeof(*pg));
	pg->path = wdup(c, path);
	pg->method = wdup(c, method);
	pg->action = act;
	pg->status = 200;
	if (strcmp(t[i], "->") == 0 || strcmp(t[i], "301") == 0) {
		pg->status = strcmp(t[i], "301") == 0 ? 301 : 302;
		if (i + 1 >= n || t[i + 1][0] != '/')
			return fail(c, "route %s: redirect wants a path", path);
		pg->location = wdup(c, t[i + 1]);
		return true;
	}
	pg->file = wdup(c, t[i]);
	pg->type = wdup(c, type_of(t[i]));
	return read_www(c, t[i], &pg->body, &pg->len);
}

static bool set_str(struct wctx *c, char **field, const char *v)
{
	free(*field);
	*field = wdup(c, v);
	return true;
}

static bool on_http(struct wctx *c, const char *name, const char *v)
{
	struct profile_web *w = c->w;
	char tmp[256], *t[32];
	if (strcmp(name, "server") == 0)
		return set_str(c, &w->server, v);
	if (strcmp(name, "version") == 0) {
		if (strcmp(v, "1.0") && strcmp(v, "1.1"))
			return fail(c, "version: 1.0 or 1.1");
		w->minor = v[2] - '0';
		return true;
	}
	if (strcmp(name, "keep_alive") == 0) {
		if (lib_parse_bool(v, &w->keep_alive))
			return fail(c, "keep_alive: true or false");
		return true;
	}
	if (strcmp(name, "realm") == 0)
		return set_str(c, &w->realm, v);
	if (strcmp(name, "login_page") == 0)
		return set_str(c, &w->login_page, v);
	if (strcmp(name, "login_action") == 0)
		return set_str(c, &w->login_action, v);
	if (strcmp(name, "user_field") == 0)
		return set_str(c, &w->user_field, v);
	if (strcmp(name, "pass_field") == 0)
		return set_str(c, &w->pass_field, v);
	if (strcmp(name, "cookie") == 0)
		return set_str(c, &w->cookie, v);
	if (strcmp(name, "home") == 0)
		return set_str(c, &w->home, v);
	if (lib_strlcpy(tmp, v, sizeof(tmp)) >= sizeof(tmp))
		return fail(c, "%s: too long", name);
	size_t n = words(tmp, t, LIB_ARRAY_LEN(t));
	if (strcmp(name, "auth") == 0) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(t[i], "basic") == 0)
				w->auth |= PROFILE_AUTH_BASIC;
			else if (strcmp(t[i], "digest") == 0)
				w->auth |= PROFILE_AUTH_DIGEST;
			else if (strcmp(t[i], "form") == 0)
				w->auth |= PROFILE_AUTH_FORM;
			else if (strcmp(t[i], "none"))
				return fail(c, "auth: basic, digest, form or none, not '%s'", t[i]);
		}
		return true;
	}
	if (strcmp(name, "headers") == 0) {
		for (size_t i = 0; i < n; i++) {
			w->order = xrealloc(w->order, (w->norder + 1) * sizeof(*w->order));
			w->order[w->norder++] = wdup(c, t[i]);
		}
		return true;
	}
	if (strcmp(name, "public") == 0) {
		for (size_t i = 0; i < n; i++) {
			c->public = xrealloc(c->public, (c->npublic + 1) * sizeof(*c->public));
			c->public[c->npublic++] = xstrdup(t[i]);
		}
		return true;
	}
	return fail(c, "[http]: unknown key '%s'", name);
}

static void kv_push(struct wctx *c, struct profile_web_kv **list, size_t *n, const char *k,
		    const char *v)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[*n].key = wdup(c, k);
	(*list)[*n].value = wdup(c, v);
	(*n)++;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct wctx *c = user;
	struct profile_web *w = c->w;
	char tmp[256];
	if (c->err[0])
		return 0;
	if (strcmp(section, "device") == 0) {
		if (strcmp(name, "description") == 0)
			return set_str(c, &c->p->description, value);
		if (strcmp(name, "category") == 0)
			return set_str(c, &c->p->category, value);
		if (strcmp(name, "vendor") == 0)
			return set_str(c, &c->p->vendor, value);
		return fail(c, "[device]: unknown key '%s'", name);
	}
	if (strcmp(section, "http") == 0)
		return on_http(c, name, value);
	if (strcmp(section, "headers") == 0) {
		for (size_t i = 0; i < LIB_ARRAY_LEN(builtin_headers); i++)
			if (strcmp(name, builtin_headers[i]) == 0)
				return fail(c, "[headers]: '%s' is built in", name);
		kv_push(c, &w->headers, &w->nheaders, name, value);
		return 1;
	}
	if (strcmp(section, "credentials") == 0) {
		if (w->ncreds >= PROFILE_MAX_LIST)
			return fail(c, "more than %d credentials", PROFILE_MAX_LIST);
		w->creds = xrealloc(w->creds, (w->ncreds + 1) * sizeof(*w->creds));
		w->creds[w->ncreds].username = wdup(c, name);
		w->creds[w->ncreds].password = wdup(c, value);
		w->ncreds++;
		return 1;
	}
	if (strcmp(section, "settings") == 0) {
		if (w->nsettings >= PROFILE_WEB_MAX_SETTINGS)
			return fail(c, "more than %d settings", PROFILE_WEB_MAX_SETTINGS);
		kv_push(c, &w->settings, &w->nsettings, name, value);
		return 1;
	}
	if (strcmp(section, "status") == 0) {
		long long code;
		if (lib_parse_int(name, &code) || code < 100 || code > 599)
			return fail(c, "[status]: '%s' is not a status code", name);
		w->statuses = xrealloc(w->statuses, (w->nstatuses + 1) * sizeof(*w->statuses));
		struct profile_web_status *st = &w->statuses[w->nstatuses++];
		memset(st, 0, sizeof(*st));
		st->code = (int)code;
		st->reason = wdup(c, value);
		char file[16];
		snprintf(file, sizeof(file), "%d.html", (int)code);
		char *path = xasprintf("%s/www/%s", c->dir, file);
		struct stat sb;
		bool have = stat(path, &sb) == 0;
		free(path);
		return !have || read_www(c, file, &st->body, &st->len);
	}
	if (lib_strlcpy(tmp, value, sizeof(tmp)) >= sizeof(tmp))
		return fail(c, "%s: too long", name);
	if (strcmp(section, "pages") == 0)
		return add_page(c, name, tmp, PROFILE_ACTION_NONE);
	if (strcmp(section, "actions") == 0) {
		int act = -1;
		for (int i = 0; i < PROFILE_ACTION__COUNT; i++)
			if (strcmp(name, profile_web_action_names[i]) == 0)
				act = i;
		if (act < 0)
			return fail(c, "[actions]: unknown action '%s'", name);
		/* ACTION = METHOD PATH FILE | METHOD PATH -> LOCATION */
		char *t[4];
		size_t n = words(tmp, t, 4);
		if (n < 3 || !valid_method(t[0]))
			return fail(c, "[actions] %s: METHOD PATH FILE (METHOD: GET, POST, PUT, *)",
				    name);
		char spec[256];
		snprintf(spec, sizeof(spec), "%s %s %s", t[0], t[2], n > 3 ? t[3] : "");
		return add_page(c, t[1], spec, (enum profile_web_action)act);
	}
	return fail(c, "unknown section [%s]", section);
}

static int page_cmp(const void *a, const void *b)
{
	const struct profile_web_page *x = a, *y = b;
	int r = strcmp(x->path, y->path);
	return r ? r : strcmp(x->method, y->method);
}

static bool is_public(const struct wctx *c, const char *path)
{
	for (size_t i = 0; i < c->npublic; i++) {
		size_t l = strlen(c->public[i]);
		/* "/css/" makes a folder public; "/login.html" (and "/") one page. */
		bool folder = l > 1 && c->public[i][l - 1] == '/';
		if (folder ? strncmp(path, c->public[i], l) == 0 : strcmp(path, c->public[i]) == 0)
			return true;
	}
	return false;
}

static bool check(struct wctx *c)
{
	struct profile_web *w = c->w;
	struct profile *p = c->p;
	if (!p->description || !p->category)
		return fail(c, "[device] needs description and category");
	if (!w->server)
		w->server = wdup(c, "");
	if (w->norder == 0)
		return fail(c, "[http] headers: the header order is required");
	for (size_t i = 0; i < w->norder; i++) {
		bool known = false;
		for (size_t k = 0; k < LIB_ARRAY_LEN(builtin_headers); k++)
			known |= strcmp(w->order[i], builtin_headers[k]) == 0;
		for (size_t k = 0; k < w->nheaders; k++)
			known |= strcmp(w->order[i], w->headers[k].key) == 0;
		if (!known)
			return fail(c, "[http] headers: '%s' is neither built in nor in [headers]",
				    w->order[i]);
	}
	if ((w->auth & (PROFILE_AUTH_BASIC | PROFILE_AUTH_DIGEST)) && !w->realm)
		return fail(c, "[http] realm is required for basic and digest");
	if (w->auth & PROFILE_AUTH_FORM) {
		if (!w->login_page || !w->login_action || !w->user_field || !w->pass_field ||
		    !w->cookie || !w->home)
			return fail(c, "[http] form login needs login_page, login_action, "
				       "user_field, pass_field, cookie and home");
		c->public = xrealloc(c->public, (c->npublic + 2) * sizeof(*c->public));
		c->public[c->npublic++] = xstrdup(w->login_page);
		c->public[c->npublic++] = xstrdup(w->login_action);
	}
	if (w->auth && w->ncreds == 0)
		return fail(c, "a profile with a login needs [credentials]");
	if (!profile_web_page(w, "/", "GET"))
		return fail(c, "[pages] needs a route for /");
	qsort(w->pages, w->npages, sizeof(*w->pages), page_cmp);
	for (size_t i = 0; i < w->npages; i++) {
		w->pages[i].public = !w->auth || is_public(c, w->pages[i].path);
		if (i && page_cmp(&w->pages[i - 1], &w->pages[i]) == 0)
			return fail(c, "route %s %s is defined twice", w->pages[i].method,
				    w->pages[i].path);
	}
	return true;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && !strchr("._-", s[i]))
			return false;
	return true;
}

int profile_web_load(const char *dir, struct profile **out, char *err, size_t errlen)
{
	*out = NULL;
	const char *base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	if (!valid_name(base)) {
		snprintf(err, errlen, "%s: bad profile name", dir);
		return -EINVAL;
	}
	char *ini_path = xasprintf("%s/web.ini", dir);
	uint8_t *text;
	size_t len;
	int rc = lib_read_file(ini_path, PROFILE_MAX_INI_BYTES, &text, &len);
	if (rc) {
		snprintf(err, errlen, "%s: %s", ini_path, strerror(-rc));
		free(ini_path);
		return rc;
	}
	struct profile *p = xcalloc(1, sizeof(*p));
	struct profile_web *w = xcalloc(1, sizeof(*w));
	p->web = w;
	p->name = xstrdup(base);
	w->minor = 1;
	struct wctx c = {.dir = dir, .p = p, .w = w};
	int line = ini_parse_string((const char *)text, on_ini, &c);
	free(text);
	if (line && !c.err[0])
		snprintf(c.err, sizeof(c.err), "syntax error");
	if (!line)
		check(&c);
	for (size_t i = 0; i < c.npublic; i++)
		free(c.public[i]);
	free(c.public);
	if (c.err[0]) {
		if (line > 0)
			snprintf(err, errlen, "%s:%d: %s", ini_path, line, c.err);
		else
			snprintf(err, errlen, "%s: %s", ini_path, c.err);
		free(ini_path);
		profile_web_free(p);
		return -EINVAL;
	}
	free(ini_path);
	p->bytes = w->bytes + sizeof(*p) + sizeof(*w);
	*out = p;
	return 0;
}

static void kv_free(struct profile_web_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void profile_web_free(struct profile *p)
{
	if (!p)
		return;
	struct profile_web *w = (struct profile_web *)p->web;
	if (w) {
		free(w->server);
		for (size_t i = 0; i < w->norder; i++)
			free(w->order[i]);
		free(w->order);
		kv_free(w->headers, w->nheaders);
		kv_free(w->settings, w->nsettings);
		free(w->realm);
		free(w->login_page);
		free(w->login_action);
		free(w->user_field);
		free(w->pass_field);
		free(w->cookie);
		free(w->home);
		for (size_t i = 0; i < w->ncreds; i++) {
			free(w->creds[i].username);
			free(w->creds[i].password);
		}
		free(w->creds);
		for (size_t i = 0; i < w->npages; i++) {
			struct profile_web_page *pg = &w->pages[i];
			free(pg->path);
			free(pg->method);
			free(pg->location);
			free(pg->file);
			free(pg->type);
			free((void *)pg->body);
		}
		free(w->pages);
		for (size_t i = 0; i < w->nstatuses; i++) {
			free((void *)w->statuses[i].reason);
			free((void *)w->statuses[i].body);
		}
		free(w->statuses);
		free(w);
	}
	free(p->name);
	free(p->description);
	free(p->category);
	free(p->vendor);
	free(p);
}

/* The folders under root with a web.ini, sorted. */
static int scan(const char *root, char ***names, size_t *count, char *err, size_t errlen)
{
	*names = NULL;
	*count = 0;
	DIR *d = opendir(root);
	if (!d) {
		snprintf(err, errlen, "%s: %s", root, strerror(errno));
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d)) && *count < PROFILE_MAX_PROFILES) {
		if (de->d_name[0] == '.')
			continue;
		char *ini = xasprintf("%s/%s/web.ini", root, de->d_name);
		struct stat st;
		bool is = stat(ini, &st) == 0 && S_ISREG(st.st_mode);
		free(ini);
		if (!is)
			continue;
		*names = xrealloc(*names, (*count + 1) * sizeof(**names));
		(*names)[(*count)++] = xstrdup(de->d_name);
	}
	closedir(d);
	for (size_t i = 1; i < *count; i++) /* insertion sort: a few dozen names */
		for (size_t j = i; j > 0 && strcmp((*names)[j - 1], (*names)[j]) > 0; j--) {
			char *t = (*names)[j];
			(*names)[j] = (*names)[j - 1];
			(*names)[j - 1] = t;
		}
	return 0;
}

int profile_web_load_all(const char *root, struct profile_set *set, char *err, size_t errlen)
{
	set->items = NULL;
	set->count = 0;
	char **names;
	size_t n;
	int rc = scan(root, &names, &n, err, errlen);
	if (rc)
		return rc;
	set->items = xcalloc(n ? n : 1, sizeof(*set->items));
	for (size_t i = 0; i < n; i++) {
		char *dir = xasprintf("%s/%s", root, names[i]);
		if (rc == 0 &&
		    (rc = profile_web_load(dir, &set->items[set->count], err, errlen)) == 0)
			set->count++;
		free(dir);
		free(names[i]);
	}
	free(names);
	if (rc)
		profile_web_set_free(set);
	return rc;
}

void profile_web_set_free(struct profile_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		profile_web_free(set->items[i]);
	free(set->items);
	set->items = NULL;
	set->count = 0;
}

const struct profile_web_page *profile_web_page(const struct profile_web *w, const char *path,
						const char *method)
{
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	/* Binary search for the first route of the path, then its methods. */
	size_t lo = 0, hi = w->npages;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(w->pages[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct profile_web_page *any = NULL;
	for (size_t i = lo; i < w->npages && strcmp(w->pages[i].path, path) == 0; i++) {
		if (strcmp(w->pages[i].method, method) == 0)
			return &w->pages[i];
		if (strcmp(w->pages[i].method, "*") == 0)
			any = &w->pages[i];
	}
	return any;
}

const struct profile_web_status *profile_web_status(const struct profile_web *w, int code)
{
	for (size_t i = 0; i < w->nstatuses; i++)
		if (w->statuses[i].code == code)
			return &w->statuses[i];
	for (size_t i = 0; i < LIB_ARRAY_LEN(default_statuses); i++)
		if (default_statuses[i].code == code)
			return &default_statuses[i];
	return NULL;
}

const char *profile_web_setting(const struct profile_web *w, const char *key)
{
	for (size_t i = 0; i < w->nsettings; i++)
		if (strcmp(w->settings[i].key, key) == 0)
			return w->settings[i].value;
	return NULL;
}

static const char *auth_name(unsigned a)
{
	static const char *const names[] = {
		"none", "basic",      "digest",      "basic+digest",
		"form", "basic+form", "digest+form", "basic+digest+form"};
	return names[a & 7];
}

int profile_web_print(const char *root, bool json)
{
	char err[512], **names;
	size_t n;
	if (scan(root, &names, &n, err, sizeof(err)))
		return 1;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char *dir = xasprintf("%s/%s", root, names[i]);
		struct profile *p;
		if (profile_web_load(dir, &p, err, sizeof(err))) {
			fflush(stdout);
			fprintf(stderr, "mitsu profiles: %s\n", err);
			rc = 1;
		} else if (json) {
			const struct profile_web *w = p->web;
			json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:s,s:I,s:I,s:I}", "name",
					      p->name, "protocol", "http", "category", p->category,
					      "description", p->description, "vendor", p->vendor,
					      "server", w->server, "auth", auth_name(w->auth),
					      "credentials", (json_int_t)w->ncreds, "routes",
					      (json_int_t)w->npages, "bytes", (json_int_t)p->bytes);
			char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
			printf("%s\n", line);
			free(line);
			json_decref(o);
		} else {
			printf("%-16s %-6s %-6s %-10s %-8s %s [http, %s, %s]\n", p->name, "-", "-",
			       p->category, "-", p->description, auth_name(p->web->auth),
			       p->web->server[0] ? p->web->server : "no Server header");
		}
		profile_web_free(p);
		free(dir);
		free(names[i]);
	}
	free(names);
	return rc;
}
