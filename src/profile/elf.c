/* The ELF files of a profile: /bin/busybox and its libraries, generated from [elf] so that
 * `cat /bin/echo` shows what Mirai's loader parses and readelf/file agree with uname. */
#include "profile/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"

enum {
	PT_LOAD = 1,
	PT_DYNAMIC = 2,
	PT_INTERP = 3,
	PT_PHDR = 6,
	PT_GNU_STACK = 0x6474e551,
	PF_X = 1,
	PF_W = 2,
	PF_R = 4,
	SHT_PROGBITS = 1,
	SHT_STRTAB = 3,
	SHT_DYNAMIC = 6,
	SHT_NOBITS = 8,
	SHF_WRITE = 1,
	SHF_ALLOC = 2,
	SHF_EXECINSTR = 4,
	DT_NULL = 0,
	DT_NEEDED = 1,
	DT_STRTAB = 5,
	DT_STRSZ = 10,
	DT_SONAME = 14,
};

/* Writer in the target's byte order and word size. */
struct ew {
	uint8_t *p;
	int big;
	int wide; /* ELFCLASS64 */
};

static void put(struct ew *w, size_t off, uint64_t v, int n)
{
	for (int i = 0; i < n; i++) {
		int shift = w->big ? 8 * (n - 1 - i) : 8 * i;
		w->p[off + (size_t)i] = (uint8_t)(v >> shift);
	}
}
static void put16(struct ew *w, size_t off, uint64_t v)
{
	put(w, off, v, 2);
}
static void put32(struct ew *w, size_t off, uint64_t v)
{
	put(w, off, v, 4);
}
/* An address or offset: 4 bytes in ELF32, 8 in ELF64. */
static void put_word(struct ew *w, size_t off, uint64_t v)
{
	put(w, off, v, w->wide ? 8 : 4);
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* splitmix64 over a FNV-1a hash of the seed: the same profile always gets the same bytes. */
static uint64_t fill_state(const char *seed)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *s = (const unsigned char *)seed; *s; s++)
		h = (h ^ *s) * 0x100000001b3ull;
	return h;
}
static uint64_t fill_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static void fill(uint8_t *p, size_t n, uint64_t *state)
{
	while (n > 0) {
		uint64_t v = fill_next(state);
		size_t k = LIB_MIN(n, sizeof(v));
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}

uint64_t profile_elf_base(int machine)
{
	switch (machine) {
	case 3: return 0x08048000;   /* i386 */
	case 40: return 0x00008000;  /* ARM */
	case 20: return 0x10000000;  /* PowerPC */
	case 62: return 0x00400000;  /* x86-64 */
	case 183: return 0x00400000; /* AArch64 */
	default: return 0x00400000;  /* MIPS, SH, SPARC, m68k... */
	}
}

/* Segment alignment of PT_LOAD: the largest page size the architecture's ld assumes. */
static uint64_t load_align(int machine)
{
	switch (machine) {
	case 3:
	case 62: return 0x1000;
	case 40: return 0x8000;
	default: return 0x10000;
	}
}

static const char shstrtab[] =
	"\0.interp\0.dynstr\0.text\0.rodata\0.dynamic\0.data\0.bss\0.shstrtab";
enum {
	SN_INTERP = 1,
	SN_DYNSTR = 9,
	SN_TEXT = 17,
	SN_RODATA = 23,
	SN_DYNAMIC = 31,
	SN_DATA = 40,
	SN_BSS = 46,
	SN_SHSTRTAB = 51
};

struct phdr {
	uint32_t type, flags;
	uint64_t off, vaddr, filesz, memsz, align;
};

struct section {
	uint32_t name, type;
	uint64_t flags, addr, off, size;
	uint32_t link;
	uint64_t align, entsize;
};

/* Where everything goes in the file and in memory (profile_elf_build). */
struct layout {
	bool wide, has_interp, dynamic;
	size_t word, ehsize, phentsize, shentsize, size;
	size_t nph, nsh;
	size_t interp_off, interp_len, dynstr_off, dynstr_len;
	size_t text_off, text_len, rodata_off, rodata_len, ro_end;
	size_t dyn_off, dyn_len, data_off, data_len, bss_len, shstr_off, shoff;
	uint64_t base, align, data_vaddr, text_vaddr, entry;
};

static int layout_of(const struct profile_elf_spec *spec, struct layout *l, char *err,
		     size_t errlen)
{
	const struct profile_elf *e = spec->elf;
	l->wide = e->elf_class == 2;
	l->has_interp = spec->kind == PROFILE_ELF_EXEC && spec->interp && *spec->interp;
	l->dynamic = l->has_interp || spec->kind == PROFILE_ELF_DYN || spec->nneeded > 0;
	l->word = l->wide ? 8 : 4;
	l->ehsize = l->wide ? 64 : 52;
	l->phentsize = l->wide ? 56 : 32;
	l->shentsize = l->wide ? 64 : 40;
	const size_t size = l->size = spec->size, word = l->word;

	/* Program headers. */
	l->nph = 3 + (l->dynamic ? 1 : 0) + (l->has_interp ? 2 : 0);
	size_t off = l->ehsize + l->nph * l->phentsize;

	/* Read-only part: .interp, .dynstr, .text, .rodata. */
	l->interp_off = off;
	l->interp_len = l->has_interp ? strlen(spec->interp) + 1 : 0;
	off += l->interp_len;
	l->dynstr_off = off;
	l->dynstr_len = 0;
	if (l->dynamic) {
		l->dynstr_len = 1;
		for (size_t i = 0; i < spec->nneeded; i++)
			l->dynstr_len += strlen(spec->needed[i]) + 1;
		if (spec->soname)
			l->dynstr_len += strlen(spec->soname) + 1;
	}
	off += l->dynstr_len;
	l->text_off = align_up(off, 16);
	l->rodata_len = align_up(spec->rodata_len + size / 8, 16);
	size_t ndyn = l->dynamic ? spec->nneeded + (spec->soname ? 1 : 0) + 3 : 0;
	l->dyn_len = ndyn * 2 * word;
	l->nsh = l->dynamic ? (l->has_interp ? 9 : 8) : 6;
	/* Everything but .text, which takes what is left of the requested size. */
	size_t fixed = l->text_off + 256 + l->rodata_len + 16 + l->dyn_len + 16 + sizeof(shstrtab) +
		       word + l->nsh * l->shentsize;
	if (size < fixed || size > PROFILE_MAX_FILE_BYTES) {
		snprintf(err, errlen, "size %zu is out of range for this ELF (%zu to %u bytes)",
			 size, fixed, PROFILE_MAX_FILE_BYTES);
		return -EINVAL;
	}
	/* Laid out from the end: section headers (word-aligned; the last word-1 bytes at most
	 * stay zero), .shstrtab, .data, .dynamic, .rodata, and .text fills the rest. */
	l->shoff = (size - l->nsh * l->shentsize) / word * word;
	l->shstr_off = l->shoff - sizeof(shstrtab);
	size_t data_len = LIB_MIN(align_up(size / 32, 16), (l->shstr_off - fixed) / 2);
	l->dyn_off = (l->shstr_off - data_len - l->dyn_len) / 16 * 16;
	l->data_off = l->dyn_off + l->dyn_len;
	l->data_len = l->shstr_off - l->data_off;
	l->rodata_off = (l->dyn_off - l->rodata_len) / 16 * 16;
	l->ro_end = l->rodata_off + l->rodata_len;
	l->text_len = l->rodata_off - l->text_off;
	l->bss_len = align_up(size / 64, 16);

	l->base = spec->kind == PROFILE_ELF_EXEC ? profile_elf_base(e->machine) : 0;
	l->align = load_align(e->machine);
	l->data_vaddr = l->base + align_up(l->ro_end, l->align) + l->dyn_off % l->align;
	l->text_vaddr = l->base + l->text_off;
	l->entry = l->text_vaddr + (l->text_len / 3 & ~(uint64_t)3);
	return 0;
}

static void write_ehdr(struct ew *w, const struct profile_elf_spec *spec, const struct layout *l)
{
	const struct profile_elf *e = spec->elf;
	uint8_t *p = w->p;
	memset(p, 0, l->ehsize);
	memcpy(p, "\177ELF", 4);
	p[4] = (uint8_t)e->elf_class;
	p[5] = (uint8_t)e->data;
	p[6] = 1;
	p[7] = (uint8_t)e->osabi;
	put16(w, 16, spec->kind == PROFILE_ELF_EXEC ? 2 : 3);
	put16(w, 18, (uint64_t)e->machine);
	put32(w, 20, 1);
	size_t o = 24;
	put_word(w, o, l->entry), o += l->word;
	put_word(w, o, l->ehsize), o += l->word; /* e_phoff */
	put_word(w, o, l->shoff), o += l->word;
	put32(w, o, e->flags), o += 4;
	put16(w, o, l->ehsize), o += 2;
	put16(w, o, l->phentsize), o += 2;
	put16(w, o, l->nph), o += 2;
	put16(w, o, l->shentsize), o += 2;
	put16(w, o, l->nsh), o += 2;
	put16(w, o, l->nsh - 1);
}

/* Program headers: the field order differs between ELF32 and ELF64 (p_flags moves). */
static void write_phdrs(struct ew *w, const struct layout *l)
{
	const uint64_t base = l->base, word = l->word;
	const size_t phsize = l->nph * l->phentsize;
	struct phdr phs[6];
	size_t n = 0;
	if (l->has_interp) {
		phs[n++] = (struct phdr){PT_PHDR, PF_R,   l->ehsize, base + l->ehsize,
					 phsize,  phsize, word};
		phs[n++] = (struct phdr){
			PT_INTERP,     PF_R, l->interp_off, base + l->interp_off, l->interp_len,
			l->interp_len, 1};
	}
	phs[n++] = (struct phdr){PT_LOAD, PF_R | PF_X, 0, base, l->ro_end, l->ro_end, l->align};
	const uint64_t rw = l->shstr_off - l->dyn_off;
	phs[n++] = (struct phdr){PT_LOAD, PF_R | PF_W,     l->dyn_off, l->data_vaddr,
				 rw,      rw + l->bss_len, l->align};
	if (l->dynamic)
		phs[n++] = (struct phdr){PT_DYNAMIC, PF_R | PF_W, l->dyn_off, l->data_vaddr,
					 l->dyn_len, l->dyn_len,  word};
	phs[n++] = (struct phdr){PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, word == 8 ? 16 : 4};
	size_t ph = l->ehsize;
	for (size_t i = 0; i < n; i++, ph += l->phentsize) {
		memset(w->p + ph, 0, l->phentsize);
		put32(w, ph, phs[i].type);
		if (l->wide) {
			put32(w, ph + 4, phs[i].flags);
			put_word(w, ph + 8, phs[i].off);
			put_word(w, ph + 16, phs[i].vaddr);
			put_word(w, ph + 24, phs[i].vaddr);
			put_word(w, ph + 32, phs[i].filesz);
			put_word(w, ph + 40, phs[i].memsz);
			put_word(w, ph + 48, phs[i].align);
		} else {
			put_word(w, ph + 4, phs[i].off);
			put_word(w, ph + 8, phs[i].vaddr);
			put_word(w, ph + 12, phs[i].vaddr);
			put_word(w, ph + 16, phs[i].filesz);
			put_word(w, ph + 20, phs[i].memsz);
			put32(w, ph + 24, phs[i].flags);
			put_word(w, ph + 28, phs[i].align);
		}
	}
}

/* .interp, .dynstr, the padding, .rodata's strings and .dynamic. */
static void write_contents(struct ew *w, const struct profile_elf_spec *spec,
			   const struct layout *l)
{
	uint8_t *p = w->p;
	const size_t word = l->word;
	if (l->has_interp)
		memcpy(p + l->interp_off, spec->interp, l->interp_len);
	size_t soname_at = 0;
	size_t needed_at[PROFILE_MAX_LIST];
	if (l->dynamic) {
		size_t d = l->dynstr_off;
		p[d++] = 0;
		for (size_t i = 0; i < spec->nneeded && i < PROFILE_MAX_LIST; i++) {
			size_t len = strlen(spec->needed[i]) + 1;
			needed_at[i] = d - l->dynstr_off;
			memcpy(p + d, spec->needed[i], len);
			d += len;
		}
		if (spec->soname) {
			soname_at = d - l->dynstr_off;
			memcpy(p + d, spec->soname, strlen(spec->soname) + 1);
		}
	}
	/* Zero padding between the headers and .text, as a linker leaves it. */
	size_t hdr_end = l->interp_off + l->interp_len + l->dynstr_len;
	memset(p + hdr_end, 0, l->text_off - hdr_end);
	/* .rodata starts with the strings the binary carries. */
	memcpy(p + l->rodata_off, spec->rodata, spec->rodata_len);
	memset(p + l->ro_end, 0, l->dyn_off - l->ro_end);
	if (!l->dynamic)
		return;
	size_t d = l->dyn_off;
	for (size_t i = 0; i < spec->nneeded && i < PROFILE_MAX_LIST; i++, d += 2 * word)
		put_word(w, d, DT_NEEDED), put_word(w, d + word, needed_at[i]);
	if (spec->soname)
		put_word(w, d, DT_SONAME), put_word(w, d + word, soname_at), d += 2 * word;
	put_word(w, d, DT_STRTAB), put_word(w, d + word, l->base + l->dynstr_off), d += 2 * word;
	put_word(w, d, DT_STRSZ), put_word(w, d + word, l->dynstr_len), d += 2 * word;
	put_word(w, d, DT_NULL), put_word(w, d + word, 0);
}

/* .shstrtab and the section headers. */
static void write_sections(struct ew *w, const struct layout *l)
{
	uint8_t *p = w->p;
	const uint64_t base = l->base, word = l->word;
	memcpy(p + l->shstr_off, shstrtab, sizeof(shstrtab));
	memset(p + l->shstr_off + sizeof(shstrtab), 0, l->shoff - l->shstr_off - sizeof(shstrtab));
	struct section sh[9];
	size_t k = 0;
	uint64_t data_addr = l->data_vaddr + (l->data_off - l->dyn_off);
	sh[k++] = (struct section){0};
	size_t dynstr_index = 0;
	if (l->has_interp)
		sh[k++] = (struct section){.name = SN_INTERP,
					   .type = SHT_PROGBITS,
					   .flags = SHF_ALLOC,
					   .addr = base + l->interp_off,
					   .off = l->interp_off,
					   .size = l->interp_len,
					   .align = 1};
	if (l->dynamic) {
		dynstr_index = k;
		sh[k++] = (struct section){.name = SN_DYNSTR,
					   .type = SHT_STRTAB,
					   .flags = SHF_ALLOC,
					   .addr = base + l->dynstr_off,
					   .off = l->dynstr_off,
					   .size = l->dynstr_len,
					   .align = 1};
	}
	sh[k++] = (struct section){.name = SN_TEXT,
				   .type = SHT_PROGBITS,
				   .flags = SHF_ALLOC | SHF_EXECINSTR,
				   .addr = l->text_vaddr,
				   .off = l->text_off,
				   .size = l->text_len,
				   .align = 16};
	sh[k++] = (struct section){.name = SN_RODATA,
				   .type = SHT_PROGBITS,
				   .flags = SHF_ALLOC,
				   .addr = base + l->rodata_off,
				   .off = l->rodata_off,
				   .size = l->rodata_len,
				   .align = 16};
	if (l->dynamic)
		sh[k++] = (struct section){.name = SN_DYNAMIC,
					   .type = SHT_DYNAMIC,
					   .flags = SHF_ALLOC | SHF_WRITE,
					   .addr = l->data_vaddr,
					   .off = l->dyn_off,
					   .size = l->dyn_len,
					   .link = (uint32_t)dynstr_index,
					   .align = word,
					   .entsize = 2 * word};
	sh[k++] = (struct section){.name = SN_DATA,
				   .type = SHT_PROGBITS,
				   .flags = SHF_ALLOC | SHF_WRITE,
				   .addr = data_addr,
				   .off = l->data_off,
				   .size = l->data_len,
				   .align = 16};
	sh[k++] = (struct section){.name = SN_BSS,
				   .type = SHT_NOBITS,
				   .flags = SHF_ALLOC | SHF_WRITE,
				   .addr = data_addr + l->data_len,
				   .off = l->shstr_off,
				   .size = l->bss_len,
				   .align = 16};
	sh[k++] = (struct section){.name = SN_SHSTRTAB,
				   .type = SHT_STRTAB,
				   .off = l->shstr_off,
				   .size = sizeof(shstrtab),
				   .align = 1};
	for (size_t i = 0; i < k; i++) {
		size_t s = l->shoff + i * l->shentsize;
		memset(p + s, 0, l->shentsize);
		put32(w, s, sh[i].name);
		put32(w, s + 4, sh[i].type);
		if (l->wide) {
			put_word(w, s + 8, sh[i].flags);
			put_word(w, s + 16, sh[i].addr);
			put_word(w, s + 24, sh[i].off);
			put_word(w, s + 32, sh[i].size);
			put32(w, s + 40, sh[i].link);
			put_word(w, s + 48, sh[i].align);
			put_word(w, s + 56, sh[i].entsize);
		} else {
			put_word(w, s + 8, sh[i].flags);
			put_word(w, s + 12, sh[i].addr);
			put_word(w, s + 16, sh[i].off);
			put_word(w, s + 20, sh[i].size);
			put32(w, s + 24, sh[i].link);
			put_word(w, s + 32, sh[i].align);
			put_word(w, s + 36, sh[i].entsize);
		}
	}
	memset(p + l->shoff + k * l->shentsize, 0, l->size - l->shoff - k * l->shentsize);
}

int profile_elf_build(const struct profile_elf_spec *spec, uint8_t **out, char *err, size_t errlen)
{
	struct layout l;
	int rc = layout_of(spec, &l, err, errlen);
	if (rc)
		return rc;
	uint8_t *p = xmalloc(l.size);
	uint64_t state = fill_state(spec->seed ? spec->seed : "");
	fill(p, l.size, &state);
	struct ew w = {.p = p, .big = spec->elf->data == 2, .wide = l.wide};
	write_ehdr(&w, spec, &l);
	write_phdrs(&w, &l);
	write_contents(&w, spec, &l);
	write_sections(&w, &l);
	*out = p;
	return 0;
}
