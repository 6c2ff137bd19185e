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

/* Doubles the capacity in place (false at the bound), as scope_tab_grow does: the arrays grow,
 * every source is marked pending, and each is placed at the first free or pending slot from its
 * home in the larger table, swapping with a pending one that is then placed in turn. */
bool scope_srctab_grow(struct srctab *t)
{
	uint64_t cap = t->mask + 1;
	if (t->count >= t->max || cap * 7 / 10 >= t->max)
		return false;
	t->rec = scope_mem_grow(t->mem, t->rec, cap * sizeof(struct src_rec),
				2 * cap * sizeof(struct src_rec));
	t->cold = scope_mem_grow(t->mem, t->cold, cap * sizeof(struct src_cold),
				 2 * cap * sizeof(struct src_cold));
	t->mask = 2 * cap - 1;
	if (2 * cap > t->high)
		t->high = 2 * cap;
	for (uint64_t i = 0; i < cap; i++)
		if (t->rec[i].flags & SF_USED)
			t->rec[i].flags |= SF_PENDING;
	for (uint64_t i = 0; i < cap; i++) {
		while (t->rec[i].flags & SF_PENDING) {
			uint64_t j = srctab_hash(t, t->rec[i].addr) & t->mask & ~1ull;
			while ((t->rec[j].flags & (SF_USED | SF_PENDING)) == SF_USED)
				j = (j + 1) & t->mask;
			t->rec[i].flags &= (uint8_t)~SF_PENDING;
			if (j == i)
				break;
			if (!(t->rec[j].flags & SF_USED)) {
				t->rec[j] = t->rec[i];
				t->cold[j] = t->cold[i];
				memset(&t->rec[i], 0, sizeof(t->rec[i]));
				memset(&t->cold[i], 0, sizeof(t->cold[i]));
				break;
			}
			/* Swap with the pending source at j: it is now at i, still pending. */
			struct src_rec r = t->rec[j];
			struct src_cold c = t->cold[j];
			t->rec[j] = t->rec[i];
			t->cold[j] = t->cold[i];
			t->rec[i] = r;
			t->cold[i] = c;
		}
	}
	return true;
}
