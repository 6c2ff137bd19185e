/* ident: parsers of what devices answer: HTTP responses (status, headers, body), the HTML
 * <title>, Telnet option negotiation (stripped and answered), and UPnP device descriptions
 * (expat). Each takes bytes a peer sent, bounded by the caller, and never trusts a length. */
#include "ident/ident_int.h"

#include <ctype.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ HTTP */

static const char *find_blank_line(const char *p, size_t n, size_t *sep)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] == '\n' && p[i + 1] == '\n') {
			*sep = 2;
			return p + i;
		}
		if (i + 3 < n && p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' &&
		    p[i + 3] == '\n') {
			*sep = 4;
			return p + i;
		}
	}
	return NULL;
}

int ident_http_parse(const uint8_t *data, size_t n, struct ident_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	const char *p = (const char *)data;
	const char *eol = memchr(p, '\n', n);
	if (!eol)
		return -1;
	r->status_line = p;
	r->status_len = (size_t)(eol - p);
	if (r->status_len && p[r->status_len - 1] == '\r')
		r->status_len--;
	/* "HTTP/1.1 200 OK" or "RTSP/1.0 200 OK" */
	const char *sp = memchr(p, ' ', r->status_len);
	if (sp && (size_t)(sp - p) + 4 <= r->status_len && isdigit((unsigned char)sp[1]) &&
	    isdigit((unsigned char)sp[2]) && isdigit((unsigned char)sp[3]))
		r->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
	r->headers = eol + 1;
	size_t sep = 0;
	const char *bl = find_blank_line(p, n, &sep); /* the first "\r\n\r\n" or "\n\n" */
	if (!bl) {
		r->headers_len = n - (size_t)(r->headers - p);
		return -1;
	}
	const char *hend = bl + (sep == 4 ? 2 : 1); /* after the last header's line end */
	r->headers_len = hend > r->headers ? (size_t)(hend - r->headers) : 0;
	r->body = bl + sep;
	r->body_len = n - (size_t)(r->body - p);
	r->complete_headers = true;
	return 0;
}

const char *ident_http_header(const struct ident_http_resp *r, const char *name, size_t index,
			      size_t *len)
{
	size_t nl = strlen(name);
	const char *p = r->headers, *end = r->headers + r->headers_len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol ? eol : end;
		if ((size_t)(line_end - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			if (index-- == 0) {
				const char *v = p + nl + 1;
				while (v < line_end && (*v == ' ' || *v == '\t'))
					v++;
				const char *ve = line_end;
				while (ve > v &&
				       (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
					ve--;
				*len = (size_t)(ve - v);
				return v;
			}
		}
		p = eol ? eol + 1 : end;
	}
	return NULL;
}

/* ------------------------------------------------------------------ HTML title */

static const char *find_ci(const char *p, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(p + i, needle, m) == 0)
			return p + i;
	return NULL;
}

/* Appends the character of an entity at p (after '&'); returns bytes used, 0 if none. */
static size_t entity(const char *p, size_t n, char *out, size_t *o, size_t outlen)
{
	static const struct {
		const char *name;
		char c;
	} names[] = {{"amp;", '&'},  {"lt;", '<'},    {"gt;", '>'},
		     {"quot;", '"'}, {"apos;", '\''}, {"nbsp;", ' '}};
	for (size_t i = 0; i < LIB_ARRAY_LEN(names); i++) {
		size_t l = strlen(names[i].name);
		if (n >= l && strncasecmp(p, names[i].name, l) == 0) {
			if (*o + 1 < outlen)
				out[(*o)++] = names[i].c;
			return l;
		}
	}
	if (n >= 3 && p[0] == '#') {
		size_t i = 1;
		unsigned long v = 0;
		bool hex = p[1] == 'x' || p[1] == 'X';
		if (hex)
			i++;
		size_t start = i;
		while (i < n && i < 10 &&
		       (hex ? isxdigit((unsigned char)p[i]) : isdigit((unsigned char)p[i])))
			v = v * (hex ? 16 : 10) +
			    (unsigned long)(isdigit((unsigned char)p[i])
						    ? p[i] - '0'
						    : (tolower((unsigned char)p[i]) - 'a' + 10)),
			i++;
		if (i > start && i < n && p[i] == ';' && v > 0 && v < 0x80) {
			if (*o + 1 < outlen)
				out[(*o)++] = (char)v;
			return i + 1;
		}
	}
	return 0;
}

int ident_html_title(const char *body, size_t n, char *out, size_t outlen)
{
	const char *t = find_ci(body, n, "<title");
	if (!t || outlen == 0)
		return -1;
	const char *gt = memchr(t, '>', n - (size_t)(t - body));
	if (!gt)
		return -1;
	const char *s = gt + 1;
	size_t rest = n - (size_t)(s - body);
	const char *e = find_ci(s, rest, "</title");
	size_t len = e ? (size_t)(e - s) : rest;
	size_t o = 0;
	bool blank = true; /* squeeze blanks, drop leading ones */
	for (size_t i = 0; i < len && o + 1 < outlen;) {
		unsigned char c = (unsigned char)s[i];
		if (isspace(c)) {
			if (!blank)
				out[o++] = ' ';
			blank = true;
			i++;
			continue;
		}
		blank = false;
		if (c == '&') {
			size_t used = entity(s + i + 1, len - i - 1, out, &o, outlen);
			if (used) {
				i += used + 1;
				continue;
			}
		}
		out[o++] = (char)c;
		i++;
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return (int)o;
}

/* ------------------------------------------------------------------ Telnet */

enum {
	T_IAC = 255,
	T_DONT = 254,
	T_DO = 253,
	T_WONT = 252,
	T_WILL = 251,
	T_SB = 250,
	T_SE = 240,
	T_ECHO = 1,
	T_SGA = 3
};
enum { TS_DATA, TS_IAC, TS_OPT, TS_SB, TS_SB_IAC };

/* state: low byte the parser state, next byte the pending verb. */
size_t ident_telnet_filter(const uint8_t *in, size_t n, uint8_t *out, size_t outlen, uint8_t *reply,
			   size_t replylen, size_t *nreply, uint32_t *state)
{
	unsigned st = *state & 0xff, verb = (*state >> 8) & 0xff;
	size_t o = 0;
	*nreply = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		switch (st) {
		case TS_DATA:
			if (c == T_IAC)
				st = TS_IAC;
			else if (c != 0 && o < outlen)
				out[o++] = c;
			break;
		case TS_IAC:
			if (c == T_IAC) {
				if (o < outlen)
					out[o++] = c;
				st = TS_DATA;
			} else if (c >= T_WILL && c <= T_DONT) {
				verb = c;
				st = TS_OPT;
			} else if (c == T_SB) {
				st = TS_SB;
			} else {
				st = TS_DATA;
			}
			break;
		case TS_OPT: {
			uint8_t ans = 0;
			if (verb == T_DO)
				ans = T_WONT;
			else if (verb == T_WILL)
				ans = (c == T_ECHO || c == T_SGA) ? T_DO : T_DONT;
			if (ans && *nreply + 3 <= replylen) {
				reply[(*nreply)++] = T_IAC;
				reply[(*nreply)++] = ans;
				reply[(*nreply)++] = c;
			}
			st = TS_DATA;
			break;
		}
		case TS_SB:
			if (c == T_IAC)
				st = TS_SB_IAC;
			break;
		case TS_SB_IAC: st = c == T_SE ? TS_DATA : TS_SB; break;
		}
	}
	*state = st | verb << 8;
	return o;
}

size_t ident_telnet_lines(char *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r') {
			size_t j = i;
			while (j < n && p[j] == '\r')
				j++;
			if (j < n && p[j] == '\n') {
				p[o++] = '\r'; /* a run of CRs before LF: one */
				i = j - 1;
				continue;
			}
			if (o && p[o - 1] == '\n') {
				i = j - 1; /* CRs that start a line: none */
				continue;
			}
		}
		p[o++] = p[i];
	}
	return o;
}

enum ident_prompt ident_telnet_prompt(const uint8_t *p, size_t n)
{
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (!n)
		return IDENT_PROMPT_NONE;
	uint8_t last = p[n - 1];
	if (last == '>' || last == '#' || last == '$' || last == '%')
		return IDENT_PROMPT_SHELL;
	if (last != ':')
		return IDENT_PROMPT_NONE;
	size_t start = n;
	while (start && p[start - 1] != '\n' && p[start - 1] != '\r')
		start--;
	const void *line = p + start;
	size_t len = n - start;
	if (memmem(line, len, "assword", 7) || memmem(line, len, "ASSWORD", 7))
		return IDENT_PROMPT_PASSWORD;
	static const char *const words[] = {"ogin", "OGIN", "sername", "SERNAME", "ccount", "user"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(words); i++)
		if (memmem(line, len, words[i], strlen(words[i])))
			return IDENT_PROMPT_LOGIN;
	return IDENT_PROMPT_NONE;
}

/* ------------------------------------------------------------------ UPnP description */

struct upnp_state {
	struct ident_upnp_desc *d;
	XML_Parser parser;
	int depth_device; /* depth of the first <device> element, 0 before it */
	int depth;
	char elem[32];
	struct buf text;
	struct ident_upnp_service svc;
	bool in_service;
};

static const char *local_name(const char *n)
{
	const char *c = strrchr(n, ':'); /* namespace prefixes are dropped */
	return c ? c + 1 : n;
}

static void XMLCALL u_start(void *arg, const XML_Char *name, const XML_Char **a)
{
	struct upnp_state *st = arg;
	st->depth++;
	const char *ln = local_name(name);
	if (strcmp(ln, "device") == 0 && !st->depth_device)
		st->depth_device = st->depth;
	if (strcmp(ln, "service") == 0) {
		st->in_service = true;
		memset(&st->svc, 0, sizeof(st->svc));
	}
	lib_strlcpy(st->elem, ln, sizeof(st->elem));
	buf_reset(&st->text);
}

static void XMLCALL u_text(void *arg, const XML_Char *s, int len)
{
	struct upnp_state *st = arg;
	buf_append(&st->text, s, (size_t)len); /* a bounded buffer: excess is dropped */
}

static void copy_trim(char *dst, size_t len, const struct buf *b)
{
	const char *s = (const char *)b->data;
	size_t n = b->len;
	if (!s)
		return;
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < len; i++)
		dst[k++] = (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
	dst[k] = '\0';
}

static void XMLCALL u_end(void *arg, const XML_Char *name)
{
	struct upnp_state *st = arg;
	const char *ln = local_name(name);
	struct ident_upnp_desc *d = st->d;
	/* only the root device's own fields (depth_device + 1), not its embedded devices' */
	bool root_field = st->depth_device && st->depth == st->depth_device + 1;
	static const struct {
		const char *name;
		size_t off, len;
	} fields[] = {
#define F(n, m) {n, offsetof(struct ident_upnp_desc, m), sizeof(((struct ident_upnp_desc *)0)->m)}
		F("deviceType", device_type),       F("friendlyName", friendly_name),
		F("manufacturer", manufacturer),    F("modelName", model_name),
		F("modelNumber", model_number),     F("modelDescription", model_description),
		F("serialNumber", serial),          F("UDN", udn),
		F("presentationURL", presentation),
#undef F
	};
	if (root_field && !st->in_service) {
		for (size_t i = 0; i < LIB_ARRAY_LEN(fields); i++)
			if (strcmp(ln, fields[i].name) == 0)
				copy_trim((char *)d + fields[i].off, fields[i].len, &st->text);
	}
	if (st->in_service) {
		if (strcmp(ln, "serviceType") == 0)
			copy_trim(st->svc.type, sizeof(st->svc.type), &st->text);
		else if (strcmp(ln, "controlURL") == 0)
			copy_trim(st->svc.control_url, sizeof(st->svc.control_url), &st->text);
		else if (strcmp(ln, "service") == 0) {
			st->in_service = false;
			if (d->nservices < IDENT_MAX_SERVICES && st->svc.type[0])
				d->services[d->nservices++] = st->svc;
		}
	}
	buf_reset(&st->text);
	st->depth--;
}

static void XMLCALL u_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
			      const XML_Char *pubid, int has_internal)
{
	XML_StopParser(((struct upnp_state *)arg)->parser, XML_FALSE);
}

int ident_upnp_parse(const char *xml, size_t len, struct ident_upnp_desc *out)
{
	memset(out, 0, sizeof(*out));
	struct upnp_state st = {.d = out};
	buf_init(&st.text, 1024);
	st.parser = XML_ParserCreate(NULL);
	XML_SetUserData(st.parser, &st);
	XML_SetElementHandler(st.parser, u_start, u_end);
	XML_SetCharacterDataHandler(st.parser, u_text);
	XML_SetStartDoctypeDeclHandler(st.parser, u_doctype);
	int rc = XML_Parse(st.parser, xml, (int)(len > INT32_MAX ? INT32_MAX : len), XML_TRUE) ==
				 XML_STATUS_ERROR
			 ? -1
			 : 0;
	XML_ParserFree(st.parser);
	buf_free(&st.text);
	/* a truncated document still gives the fields read before the cut */
	return rc == 0 || out->manufacturer[0] || out->model_name[0] ? 0 : -1;
}

size_t ident_upnp_text(const struct ident_upnp_desc *d, char *out, size_t outlen)
{
	const struct {
		const char *name, *v;
	} f[] = {{"manufacturer", d->manufacturer},  {"modelName", d->model_name},
		 {"modelNumber", d->model_number},   {"modelDescription", d->model_description},
		 {"friendlyName", d->friendly_name}, {"deviceType", d->device_type}};
	size_t o = 0;
	if (outlen)
		out[0] = '\0';
	for (size_t i = 0; i < LIB_ARRAY_LEN(f); i++) {
		if (!f[i].v[0])
			continue;
		int n = snprintf(out + o, outlen - o, "%s: %s\n", f[i].name, f[i].v);
		if (n < 0 || (size_t)n >= outlen - o)
			break;
		o += (size_t)n;
	}
	return o;
}
