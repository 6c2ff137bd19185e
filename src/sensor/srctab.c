/* Sessions per source address, for limits.max_sessions_per_source. */
#include "sensor/sensor_int.h"

#include <string.h>

int sensor_srctab_init(struct sensor_srctab *t, size_t max_entries)
{
	size_t cap = 64;
	while (cap < max_entries * 2)
		cap *= 2;
	t->slots = xcalloc(cap, sizeof(*t->slots));
	t->cap = cap;
	t->used = 0;
	lib_random(t->key, sizeof(t->key));
	return 0;
}

void sensor_srctab_free(struct sensor_srctab *t)
{
	free(t->slots);
	t->slots = NULL;
}

static struct srctab_slot *find(struct sensor_srctab *t, const uint8_t *addr, size_t len,
				struct srctab_slot **free_slot)
{
	size_t mask = t->cap - 1;
	size_t i = (size_t)lib_siphash(addr, len, t->key) & mask;
	*free_slot = NULL;
	for (size_t n = 0; n < t->cap; n++, i = (i + 1) & mask) {
		struct srctab_slot *s = &t->slots[i];
		if (s->len == 0) {
			if (!*free_slot)
				*free_slot = s;
			return NULL;
		}
		if (s->len == len && memcmp(s->addr, addr, len) == 0)
			return s;
		if (s->count == 0 && !*free_slot)
			*free_slot = s;
	}
	return NULL;
}

/* Drops tombstones by reinserting the live entries. */
static void rebuild(struct sensor_srctab *t)
{
	struct srctab_slot *old = t->slots;
	size_t cap = t->cap;
	t->slots = xcalloc(cap, sizeof(*t->slots));
	t->used = 0;
	for (size_t i = 0; i < cap; i++) {
		if (old[i].len == 0 || old[i].count == 0)
			continue;
		struct srctab_slot *fs;
		find(t, old[i].addr, old[i].len, &fs);
		*fs = old[i];
		t->used++;
	}
	free(old);
}

int sensor_srctab_acquire(struct sensor_srctab *t, const uint8_t *addr, size_t len, uint32_t limit)
{
	if (len > sizeof(t->slots[0].addr))
		return -1;
	struct srctab_slot *fs;
	struct srctab_slot *s = find(t, addr, len, &fs);
	if (s) {
		if (s->count >= limit)
			return -1;
		return (int)++s->count;
	}
	if (!fs)
		return -1;
	if (fs->len == 0) {
		/* Keep the table at most half full of used slots (live or tombstones). */
		if (t->used + 1 > t->cap / 2) {
			rebuild(t);
			return sensor_srctab_acquire(t, addr, len, limit);
		}
		t->used++;
	}
	memcpy(fs->addr, addr, len);
	fs->len = (uint8_t)len;
	fs->count = 1;
	return 1;
}

void sensor_srctab_release(struct sensor_srctab *t, const uint8_t *addr, size_t len)
{
	struct srctab_slot *fs;
	struct srctab_slot *s = find(t, addr, len, &fs);
	if (s && s->count > 0)
		s->count--;
}
