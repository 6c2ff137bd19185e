/* The event table and the helpers that build event fields safely from peer bytes. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

#define CORE_EV_ROW(id, n, d) [EV_##id] = {.name = n, .doc = d},
const struct core_event_info core_events[EV__COUNT] = {CORE_EVENTS(CORE_EV_ROW)};
#undef CORE_EV_ROW

int core_event_find(const char *name)
{
	for (int i = 0; i < EV__COUNT; i++)
		if (strcmp(core_events[i].name, name) == 0)
			return i;
	return -1;
}

/* A session id is a random 32-bit prefix chosen once per process and a 32-bit counter: unique
 * within a sensor run, unpredictable across runs, and increasing, so the store's session
 * indexes grow at their end instead of at random places. */
void core_session_id(char out[17])
{
	static uint32_t prefix, counter;
	if (!prefix) {
		while (!prefix)
			lib_random(&prefix, sizeof(prefix));
		lib_random(&counter, sizeof(counter));
		counter &= 0x00ffffff;
	}
	uint8_t r[8] = {(uint8_t)(prefix >> 24), (uint8_t)(prefix >> 16), (uint8_t)(prefix >> 8),
			(uint8_t)prefix};
	uint32_t c = ++counter;
	r[4] = (uint8_t)(c >> 24), r[5] = (uint8_t)(c >> 16), r[6] = (uint8_t)(c >> 8),
	r[7] = (uint8_t)c;
	lib_hex(r, sizeof(r), out);
}

size_t core_utf8_len(const uint8_t *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	size_t len;
	uint32_t cp;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

json_t *core_json_bytes(const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t i = 0;
	while (i < n) {
		size_t l = core_utf8_len(p + i, n - i);
		if (!l)
			break;
		i += l;
	}
	if (i == n)
		return json_stringn((const char *)p, n);
	struct buf b;
	buf_init(&b, 0);
	buf_append(&b, p, i);
	while (i < n) {
		size_t l = core_utf8_len(p + i, n - i);
		if (l) {
			buf_append(&b, p + i, l);
			i += l;
		} else {
			buf_printf(&b, "\\x%02x", p[i]);
			i++;
		}
	}
	json_t *j = json_stringn((const char *)b.data, b.len);
	buf_free(&b);
	return j;
}

void core_json_escape(const char *s, size_t n, core_put_fn put, void *arg)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t run = 0; /* start of the bytes passed on as they are */
	put(arg, "\"", 1);
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		size_t l = c >= 0x80 ? core_utf8_len(p + i, n - i) : 0;
		if (l) {
			i += l;
			continue;
		}
		put(arg, s + run, i - run);
		char e[8];
		switch (c) {
		case '"': put(arg, "\\\"", 2); break;
		case '\\': put(arg, "\\\\", 2); break;
		case '\b': put(arg, "\\b", 2); break;
		case '\f': put(arg, "\\f", 2); break;
		case '\n': put(arg, "\\n", 2); break;
		case '\r': put(arg, "\\r", 2); break;
		case '\t': put(arg, "\\t", 2); break;
		default:
			if (c < 0x20)
				snprintf(e, sizeof(e), "\\u%04X", c);
			else
				snprintf(e, sizeof(e), "\\\\x%02x", c);
			put(arg, e, strlen(e));
		}
		i++;
		run = i;
	}
	put(arg, s + run, n - run);
	put(arg, "\"", 1);
}

json_t *core_json_str(const char *s)
{
	return core_json_bytes(s, strlen(s));
}
