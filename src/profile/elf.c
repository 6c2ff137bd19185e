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

int profile_elf_build(const struct profile_elf_spec *spec, uint8_t **out, char *err, size_t errlen)
{
	const struct profile_elf *e = spec->elf;
	const bool wide = e->elf_class == 2;
	const bool has_interp = spec->kind == PROFILE_ELF_EXEC && spec->interp && *spec->interp;
	const bool dynamic = has_interp || spec->kind == PROFILE_ELF_DYN || spec->nneeded > 0;
	const size_t word = wide ? 8 : 4;
	const size_t ehsize = wide ? 64 : 52, phentsize = wide ? 56 : 32,
		     shentsize = wide ? 64 : 40;
	const size_t size = spec->size;

	/* Program headers. */
	size_t nph = 3 + (dynamic ? 1 : 0) + (has_interp ? 2 : 0);
	size_t off = ehsize + nph * phentsize;

	/* Read-only part: .interp, .dynstr, .text, .rodata. */
	size_t interp_off = off, interp_len = has_interp ? strlen(spec->interp) + 1 : 0;
	off += interp_len;
	size_t dynstr_off = off, dynstr_len = 0;
	if (dynamic) {
		dynstr_len = 1;
		for (size_t i = 0; i < spec->nneeded; i++)
			dynstr_len += strlen(spec->needed[i]) + 1;
		if (spec->soname)
			dynstr_len += strlen(spec->soname) + 1;
	}
	off += dynstr_len;
	size_t text_off = align_up(off, 16);
	size_t rodata_len = align_up(spec->rodata_len + size / 8, 16);
	size_t ndyn = dynamic ? spec->nneeded + (spec->soname ? 1 : 0) + 3 : 0;
	size_t dyn_len = ndyn * 2 * word;
	size_t nsh = dynamic ? (has_interp ? 9 : 8) : 6;
	/* Everything but .text, which takes what is left of the requested size. */
	size_t fixed = text_off + 256 + rodata_len + 16 + dyn_len + 16 + sizeof(shstrtab) + word +
		       nsh * shentsize;
	if (size < fixed || size > PROFILE_MAX_FILE_BYTES) {
		snprintf(err, errlen, "size %zu is out of range for this ELF (%zu to %u bytes)",
			 size, fixed, PROFILE_MAX_FILE_BYTES);
		return -EINVAL;
	}
	/* Laid out from the end: section headers (word-aligned; the last word-1 bytes at most
	 * stay zero), .shstrtab, .data, .dynamic, .rodata, and .text fills the rest. */
	size_t shoff = (size - nsh * shentsize) / word * word;
	size_t shstr_off = shoff - sizeof(shstrtab);
	size_t data_len = LIB_MIN(align_up(size / 32, 16), (shstr_off - fixed) / 2);
	size_t dyn_off = (shstr_off - data_len - dyn_len) / 16 * 16;
	size_t data_off = dyn_off + dyn_len;
	data_len = shstr_off - data_off;
	size_t rodata_off = (dyn_off - rodata_len) / 16 * 16;
	size_t ro_end = rodata_off + rodata_len;
	size_t text_len = rodata_off - text_off;
	size_t bss_len = align_up(size / 64, 16);

	uint64_t base = spec->kind == PROFILE_ELF_EXEC ? profile_elf_base(e->machine) : 0;
	uint64_t align = load_align(e->machine);
	uint64_t data_vaddr = base + align_up(ro_end, align) + dyn_off % align;
	uint64_t text_vaddr = base + text_off;
	uint64_t entry = text_vaddr + (text_len / 3 & ~(uint64_t)3);

	uint8_t *p = xmalloc(size);
	uint64_t state = fill_state(spec->seed ? spec->seed : "");
	fill(p, size, &state);
	struct ew w = {.p = p, .big = e->data == 2, .wide = wide};

	/* ELF header. */
	memset(p, 0, ehsize);
	memcpy(p, "\177ELF", 4);
	p[4] = (uint8_t)e->elf_class;
	p[5] = (uint8_t)e->data;
	p[6] = 1;
	p[7] = (uint8_t)e->osabi;
	put16(&w, 16, spec->kind == PROFILE_ELF_EXEC ? 2 : 3);
	put16(&w, 18, (uint64_t)e->machine);
	put32(&w, 20, 1);
	size_t o = 24;
	put_word(&w, o, entry), o += word;
	put_word(&w, o, ehsize), o += word; /* e_phoff */
	put_word(&w, o, shoff), o += word;
	put32(&w, o, e->flags), o += 4;
	put16(&w, o, ehsize), o += 2;
	put16(&w, o, phentsize), o += 2;
	put16(&w, o, nph), o += 2;
	put16(&w, o, shentsize), o += 2;
	put16(&w, o, nsh), o += 2;
	put16(&w, o, nsh - 1);

	/* Program headers: the field order differs between ELF32 and ELF64 (p_flags moves). */
	size_t ph = ehsize;
	struct phdr phs[6];
	size_t n = 0;
	if (has_interp) {
		phs[n++] =
			(struct phdr){PT_PHDR,         PF_R, ehsize, base + ehsize, nph * phentsize,
				      nph * phentsize, word};
		phs[n++] = (struct phdr){PT_INTERP,  PF_R,       interp_off, base + interp_off,
					 interp_len, interp_len, 1};
	}
	phs[n++] = (struct phdr){PT_LOAD, PF_R | PF_X, 0, base, ro_end, ro_end, align};
	phs[n++] = (struct phdr){PT_LOAD,    PF_R | PF_W,         dyn_off,
				 data_vaddr, shstr_off - dyn_off, shstr_off - dyn_off + bss_len,
				 align};
	if (dynamic)
		phs[n++] = (struct phdr){PT_DYNAMIC, PF_R | PF_W, dyn_off, data_vaddr,
					 dyn_len,    dyn_len,     word};
	phs[n++] = (struct phdr){PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, word == 8 ? 16 : 4};
	for (size_t i = 0; i < n; i++, ph += phentsize) {
		memset(p + ph, 0, phentsize);
		put32(&w, ph, phs[i].type);
		if (wide) {
			put32(&w, ph + 4, phs[i].flags);
			put_word(&w, ph + 8, phs[i].off);
			put_word(&w, ph + 16, phs[i].vaddr);
			put_word(&w, ph + 24, phs[i].vaddr);
			put_word(&w, ph + 32, phs[i].filesz);
			put_word(&w, ph + 40, phs[i].memsz);
			put_word(&w, ph + 48, phs[i].align);
		} else {
			put_word(&w, ph + 4, phs[i].off);
			put_word(&w, ph + 8, phs[i].vaddr);
			put_word(&w, ph + 12, phs[i].vaddr);
			put_word(&w, ph + 16, phs[i].filesz);
			put_word(&w, ph + 20, phs[i].memsz);
			put32(&w, ph + 24, phs[i].flags);
			put_word(&w, ph + 28, phs[i].align);
		}
	}

	/* .interp and .dynstr */
	if (has_interp)
		memcpy(p + interp_off, spec->interp, interp_len);
	size_t soname_at = 0;
	size_t needed_at[PROFILE_MAX_LIST];
	if (dynamic) {
		size_t d = dynstr_off;
		p[d++] = 0;
		for (size_t i = 0; i < spec->nneeded && i < PROFILE_MAX_LIST; i++) {
			size_t l = strlen(spec->needed[i]) + 1;
			needed_at[i] = d - dynstr_off;
			memcpy(p + d, spec->needed[i], l);
			d += l;
		}
		if (spec->soname) {
			soname_at = d - dynstr_off;
			memcpy(p + d, spec->soname, strlen(spec->soname) + 1);
		}
	}
	/* Zero padding between the headers and .text, as a linker leaves it. */
	memset(p + interp_off + interp_len + dynstr_len, 0,
	       text_off - (interp_off + interp_len + dynstr_len));
	/* .rodata starts with the strings the binary carries. */
	memcpy(p + rodata_off, spec->rodata, spec->rodata_len);
	memset(p + ro_end, 0, dyn_off - ro_end);

	/* .dynamic */
	if (dynamic) {
		size_t d = dyn_off;
		for (size_t i = 0; i < spec->nneeded && i < PROFILE_MAX_LIST; i++, d += 2 * word)
			put_word(&w, d, DT_NEEDED), put_word(&w, d + word, needed_at[i]);
		if (spec->soname)
			put_word(&w, d, DT_SONAME), put_word(&w, d + word, soname_at),
				d += 2 * word;
		put_word(&w, d, DT_STRTAB), put_word(&w, d + word, base + dynstr_off),
			d += 2 * word;
		put_word(&w, d, DT_STRSZ), put_word(&w, d + word, dynstr_len), d += 2 * word;
		put_word(&w, d, DT_NULL), put_word(&w, d + word, 0);
	}

	/* .shstrtab and the section headers. */
	memcpy(p + shstr_off, shstrtab, sizeof(shstrtab));
	memset(p + shstr_off + sizeof(shstrtab), 0, shoff - shstr_off - sizeof(shstrtab));
	struct section sh[9];
	size_t k = 0;
	uint64_t data_addr = data_vaddr + (data_off - dyn_off);
	sh[k++] = (struct section){0};
	size_t dynstr_index = 0;
	if (has_interp)
		sh[k++] = (struct section){SN_INTERP,  SHT_PROGBITS, SHF_ALLOC, base + interp_off,
					   interp_off, interp_len,   0,         1,
					   0};
	if (dynamic) {
		dynstr_index = k;
		sh[k++] = (struct section){SN_DYNSTR,  SHT_STRTAB, SHF_ALLOC, base + dynstr_off,
					   dynstr_off, dynstr_len, 0,         1,
					   0};
	}
	sh[k++] = (struct section){SN_TEXT,    SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
				   text_vaddr, text_off,     text_len,
				   0,          16,           0};
	sh[k++] = (struct section){SN_RODATA,  SHT_PROGBITS, SHF_ALLOC, base + rodata_off,
				   rodata_off, rodata_len,   0,         16,
				   0};
	if (dynamic)
		sh[k++] = (struct section){
			SN_DYNAMIC, SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE,  data_vaddr,
			dyn_off,    dyn_len,     (uint32_t)dynstr_index, word,
			2 * word};
	sh[k++] = (struct section){SN_DATA,   SHT_PROGBITS, SHF_ALLOC | SHF_WRITE,
				   data_addr, data_off,     data_len,
				   0,         16,           0};
	sh[k++] = (struct section){SN_BSS,
				   SHT_NOBITS,
				   SHF_ALLOC | SHF_WRITE,
				   data_addr + data_len,
				   shstr_off,
				   bss_len,
				   0,
				   16,
				   0};
	sh[k++] = (struct section){SN_SHSTRTAB,      SHT_STRTAB, 0, 0, shstr_off,
				   sizeof(shstrtab), 0,          1, 0};
	for (size_t i = 0; i < k; i++) {
		size_t s = shoff + i * shentsize;
		memset(p + s, 0, shentsize);
		put32(&w, s, sh[i].name);
		put32(&w, s + 4, sh[i].type);
		if (wide) {
			put_word(&w, s + 8, sh[i].flags);
			put_word(&w, s + 16, sh[i].addr);
			put_word(&w, s + 24, sh[i].off);
			put_word(&w, s + 32, sh[i].size);
			put32(&w, s + 40, sh[i].link);
			put_word(&w, s + 48, sh[i].align);
			put_word(&w, s + 56, sh[i].entsize);
		} else {
			put_word(&w, s + 8, sh[i].flags);
			put_word(&w, s + 12, sh[i].addr);
			put_word(&w, s + 16, sh[i].off);
			put_word(&w, s + 20, sh[i].size);
			put32(&w, s + 24, sh[i].link);
			put_word(&w, s + 32, sh[i].align);
			put_word(&w, s + 36, sh[i].entsize);
		}
	}
	memset(p + shoff + k * shentsize, 0, size - shoff - k * shentsize);
	*out = p;
	return 0;
}
