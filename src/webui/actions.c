/* Device-specific actions: what an attacker does once logged in (settings export, the
 * recordings list, a snapshot, VPN server and client, firewall, DDNS, DNS, the admin password,
 * a firmware upload, a reboot). Each is one mitsu.webui.action with the intent and outcome of
 * webui_devid.md §4; the changes it posts are kept in the source's view of the device so the
 * pages show them afterwards, as a real device would, and scripted attackers go on. */
#include "webui/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Per action: intent (what the attacker is after) and outcome (what it leads to). Intents:
 * info_theft and setting_change (the seed's two), recon; outcomes: the seed's six labels,
 * plus botnet_recruitment (a firmware implant) and service_disruption (a reboot), which lie
 * outside them. */
static const struct {
	const char *intent, *outcome;
} kinds[PROFILE_ACTION__COUNT] = {
	[PROFILE_ACTION_STATUS] = {"recon", "reconnaissance"},
	[PROFILE_ACTION_SETTINGS_EXPORT] = {"info_theft", "information_leak"},
	[PROFILE_ACTION_RECORDINGS] = {"info_theft", "peeping"},
	[PROFILE_ACTION_SNAPSHOT] = {"info_theft", "peeping"},
	[PROFILE_ACTION_VPN_SERVER] = {"setting_change", "stepping_stone"},
	[PROFILE_ACTION_VPN_CLIENT] = {"setting_change", "stepping_stone"},
	[PROFILE_ACTION_FIREWALL] = {"setting_change", "monopolised_stepping_stone"},
	[PROFILE_ACTION_DDNS] = {"setting_change", "stepping_stone"},
	[PROFILE_ACTION_DNS] = {"setting_change", "redirect_to_malicious_sites"},
	[PROFILE_ACTION_ADMIN_PASSWORD] = {"setting_change", "monopolised_stepping_stone"},
	[PROFILE_ACTION_FIRMWARE_UPLOAD] = {"setting_change", "botnet_recruitment"},
	[PROFILE_ACTION_REBOOT] = {"setting_change", "service_disruption"},
};

const char *webui_action_intent(enum profile_web_action a)
{
	return a >= 0 && a < PROFILE_ACTION__COUNT ? kinds[a].intent : "";
}

const char *webui_action_outcome(enum profile_web_action a)
{
	return a >= 0 && a < PROFILE_ACTION__COUNT ? kinds[a].outcome : "";
}

/* ------------------------------------------------------------------ forms */

static int hexv(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* In place: %XX and '+'. */
static void url_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%' && hexv((unsigned char)s[1]) >= 0 &&
			   hexv((unsigned char)s[2]) >= 0) {
			*o++ = (char)(hexv((unsigned char)s[1]) * 16 + hexv((unsigned char)s[2]));
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

void webui_form_parse(struct webui_form *f, const char *p, size_t n)
{
	f->n = 0;
	f->mem = xstrndup(p, n);
	char *save = NULL;
	for (char *t = strtok_r(f->mem, "&", &save); t && f->n < WEBUI_MAX_FORM_FIELDS;
	     t = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(t, '=');
		if (eq)
			*eq = '\0';
		url_decode(t);
		f->f[f->n].key = t;
		f->f[f->n].value = eq ? eq + 1 : t + strlen(t);
		url_decode(f->f[f->n].value);
		f->n++;
	}
}

void webui_form_free(struct webui_form *f)
{
	free(f->mem);
	f->mem = NULL;
	f->n = 0;
}

const char *webui_form_get(const struct webui_form *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->f[i].key, key) == 0)
			return f->f[i].value;
	return NULL;
}

/* ------------------------------------------------------------------ uploads */

/* The first file of a multipart/form-data body (RFC 7578): its bytes and file name. The
 * whole body when it is not multipart (a raw PUT or POST of the image). */
static void upload_part(const struct webui_request *r, const uint8_t **data, size_t *len,
			char *name, size_t namelen)
{
	*data = r->body;
	*len = r->body_len;
	lib_strlcpy(name, "firmware.bin", namelen);
	char ct[512];
	if (!webui_header(r, "Content-Type", ct, sizeof(ct)) ||
	    strncasecmp(ct, "multipart/form-data", 19) != 0)
		return;
	const char *b = strcasestr(ct, "boundary=");
	if (!b)
		return;
	b += 9;
	char delim[256] = "--";
	size_t bl = strcspn(b, "; ");
	if (*b == '"') {
		b++;
		bl = strcspn(b, "\"");
	}
	if (bl == 0 || bl > 200)
		return;
	memcpy(delim + 2, b, bl);
	delim[bl + 2] = '\0';
	size_t dl = bl + 2;
	const uint8_t *p = r->body, *end = r->body + r->body_len;
	while (p < end) {
		const uint8_t *part = memmem(p, (size_t)(end - p), delim, dl);
		if (!part)
			return;
		part += dl;
		const uint8_t *hend = memmem(part, (size_t)(end - part), "\r\n\r\n", 4);
		if (!hend)
			return;
		const uint8_t *content = hend + 4;
		const uint8_t *next = memmem(content, (size_t)(end - content), delim, dl);
		if (!next)
			next = end;
		const uint8_t *cend = next;
		if (cend - content >= 2 && cend[-2] == '\r' && cend[-1] == '\n')
			cend -= 2;
		const char *fn = memmem(part, (size_t)(hend - part), "filename=\"", 10);
		if (fn) {
			fn += 10;
			const char *q = memchr(fn, '"', (size_t)((const char *)hend - fn));
			size_t fl = q ? (size_t)(q - fn) : 0;
			if (fl && fl < namelen) {
				memcpy(name, fn, fl);
				name[fl] = '\0';
			}
			*data = content;
			*len = (size_t)(cend - content);
			return;
		}
		p = next;
	}
}

/* ------------------------------------------------------------------ actions */

/* The settings the request sets (form body and query), applied to the peer's view. */
static json_t *apply_changes(struct webui_ctx *c)
{
	json_t *changes = json_object();
	struct webui_form f;
	const struct webui_request *r = c->req;
	char ct[128] = "";
	webui_header(r, "Content-Type", ct, sizeof(ct));
	bool multipart = strncasecmp(ct, "multipart/", 10) == 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 0)
			webui_form_parse(&f, c->query, strlen(c->query));
		else if (!multipart && r->body_len)
			webui_form_parse(&f, (const char *)r->body, r->body_len);
		else
			break;
		for (size_t i = 0; i < f.n; i++) {
			const char *k = f.f[i].key;
			if (!webui_peer_set(c->peer, k, f.f[i].value))
				continue;
			json_object_set_new(
				changes, k,
				core_json_bytes(f.f[i].value,
						strnlen(f.f[i].value, WEBUI_MAX_VALUE)));
			if (strcmp(k, "admin_password") == 0) {
				free(c->peer->password);
				c->peer->password = xstrndup(f.f[i].value, WEBUI_MAX_VALUE);
			}
		}
		webui_form_free(&f);
	}
	return changes;
}

void webui_action(struct webui_ctx *c, const struct profile_web_page *pg)
{
	enum profile_web_action a = pg->action;
	json_t *f = json_object();
	json_object_set_new(f, "profile", json_string(c->p->name));
	json_object_set_new(f, "action", json_string(profile_web_action_names[a]));
	json_object_set_new(f, "intent", json_string(kinds[a].intent));
	json_object_set_new(f, "outcome", json_string(kinds[a].outcome));
	json_object_set_new(f, "uri", core_json_bytes(c->req->target, c->req->target_len));
	if (strcmp(c->req->method, "GET") && strcmp(c->req->method, "HEAD"))
		json_object_set_new(f, "changes", apply_changes(c));
	if (a == PROFILE_ACTION_FIRMWARE_UPLOAD && c->req->body_len) {
		const uint8_t *data;
		size_t len;
		char name[256];
		upload_part(c->req, &data, &len, name, sizeof(name));
		json_object_set_new(f, "file", core_json_str(name));
		json_object_set_new(f, "size", json_integer((json_int_t)len));
		if (c->io->store && len)
			c->io->store(c->io->arg, data, len, "firmware_upload", name);
	}
	if (a == PROFILE_ACTION_REBOOT) {
		/* The device goes down: this connection ends and the form session is gone. */
		c->close = true;
		c->peer->token[0] = '\0';
	}
	webui_emit(c, EV_WEBUI_ACTION, f, "%s on %s: %s (%s)", profile_web_action_names[a],
		   c->p->name, kinds[a].intent, kinds[a].outcome);
	webui_serve(c, pg);
}
