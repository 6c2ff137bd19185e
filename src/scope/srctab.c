/* scope: the source table of a back (engine_int.h): records of the sources it owns. */
#include "scope/engine_int.h"

static void srctab_alloc(struct srctab *t, uint64_t cap)
{
	t->rec = scope_mem_alloc(t->mem, cap * sizeof(struct src_rec));
	t->cold = scope_mem_alloc(t->mem, cap * sizeof(struct src_cold));
	t->mask = cap - 1;
	if (cap > t->high)
		t->high = cap;
}

void scope_srctab_release(struct srctab *t)
{
	scope_mem_free(t->mem, t->rec, (t->mask + 1) * sizeof(struct src_rec));
	scope_mem_free(t->mem, t->cold, (t->mask + 1) * sizeof(struct src_cold));
	t->rec = NULL;
	t->cold = NULL;
}

void scope_srctab_init(struct srctab *t, uint64_t max, struct scope_mem *mem)
{
	memset(t, 0, sizeof(*t));
	t->mem = mem;
	t->max = max ? max : 1;
	lib_random(&t->seed0, sizeof(t->seed0));
	lib_random(&t->seed1, sizeof(t->seed1));
	t->seed1 |= 1;
	srctab_alloc(t, SCOPE_TAB_MIN);
}

uint64_t scope_srctab_bytes(const struct srctab *t)
{
	return t->high * (sizeof(struct src_rec) + sizeof(struct src_cold));
}

/* Doubles the capacity (false at the bound), as scope_tab_grow does. */
bool scope_srctab_grow(struct srctab *t)
{
	uint64_t cap = t->mask + 1;
	if (t->count >= t->max || cap * 7 / 10 >= t->max)
		return false;
	struct srctab o = *t;
	srctab_alloc(t, cap * 2);
	for (uint64_t j = 0; j < cap; j++) {
		if (!(o.rec[j].flags & SF_USED))
			continue;
		uint64_t i = srctab_hash(t, o.rec[j].addr) & t->mask & ~1ull;
		while (t->rec[i].flags & SF_USED)
			i = (i + 1) & t->mask;
		t->rec[i] = o.rec[j];
		t->cold[i] = o.cold[j];
	}
	scope_srctab_release(&o);
	return true;
}
