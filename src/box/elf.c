/* ELF header parsing for the sandbox: class, byte order, machine, OS/ABI, entry, static or
 * dynamic, stripped. Every offset and count comes from the file and is checked against its
 * length before use; nothing is cast onto the bytes. */
#include "box/internal.h"

#include <errno.h>
#include <string.h>

#include "capture/capture.h"

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define SHT_SYMTAB 2
#define ELF_PH_MAX 256  /* program headers examined */
#define ELF_SH_MAX 1024 /* section headers examined */

static uint64_t rd(const uint8_t *p, size_t n, bool be)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[be ? i : n - 1 - i] << (8 * (n - 1 - i));
	return v;
}

/* Reads a field of `w` bytes at off if it lies inside the file. */
static bool field(const uint8_t *p, size_t n, uint64_t off, size_t w, bool be, uint64_t *out)
{
	if (off > n || n - off < w)
		return false;
	*out = rd(p + off, w, be);
	return true;
}

int box_elf_parse(const uint8_t *p, size_t n, struct box_elf *e)
{
	memset(e, 0, sizeof(*e));
	if (n < 52 ||
	    memcmp(p,
		   "\x7f"
		   "ELF",
		   4) != 0 ||
	    (p[4] != 1 && p[4] != 2) || (p[5] != 1 && p[5] != 2))
		return -EINVAL;
	bool is64 = p[4] == 2, be = p[5] == 2;
	if (is64 && n < 64)
		return -EINVAL;
	e->bits = is64 ? 64 : 32;
	e->big_endian = be;
	e->osabi = p[7];
	e->type = (uint16_t)rd(p + 16, 2, be);
	e->machine = (uint16_t)rd(p + 18, 2, be);
	if (capture_elf_arch(p, n, e->arch))
		e->arch[0] = '\0';
	size_t w = is64 ? 8 : 4;
	e->entry = rd(p + 24, w, be);
	e->phoff = rd(p + 24 + w, w, be);
	e->shoff = rd(p + 24 + 2 * w, w, be);
	size_t h = 24 + 3 * w + 4; /* past e_flags */
	h += 2;                    /* e_ehsize */
	e->phentsize = (uint16_t)rd(p + h, 2, be);
	e->phnum = (uint16_t)rd(p + h + 2, 2, be);
	e->shentsize = (uint16_t)rd(p + h + 4, 2, be);
	e->shnum = (uint16_t)rd(p + h + 6, 2, be);
	e->shstrndx = (uint16_t)rd(p + h + 8, 2, be);

	/* Program headers: p_type at 0; p_offset at 4 (32) or 8 (64); p_filesz at 16 or 32. */
	size_t min_ph = is64 ? 56 : 32;
	uint64_t v;
	if (e->phnum && e->phentsize >= min_ph) {
		uint64_t end = e->phoff + (uint64_t)e->phnum * e->phentsize;
		if (e->phoff > n || end > n)
			e->truncated = true;
		else
			e->phdr_end = end;
		for (uint32_t i = 0; i < e->phnum && i < ELF_PH_MAX; i++) {
			uint64_t ph = e->phoff + (uint64_t)i * e->phentsize;
			if (!field(p, n, ph, 4, be, &v))
				break;
			if (v == PT_LOAD)
				e->loads++;
			else if (v == PT_DYNAMIC)
				e->has_dynamic = true;
			else if (v == PT_INTERP) {
				e->has_interp = true;
				uint64_t off, sz;
				if (field(p, n, ph + (is64 ? 8 : 4), w, be, &off) &&
				    field(p, n, ph + (is64 ? 32 : 16), w, be, &sz) && off < n &&
				    sz > 0) {
					size_t len = (size_t)LIB_MIN(sz, (uint64_t)(n - off));
					len = LIB_MIN(len, sizeof(e->interp) - 1);
					size_t k = 0;
					for (; k < len && p[off + k]; k++)
						e->interp[k] =
							(char)(p[off + k] >= 0x20 &&
									       p[off + k] < 0x7f
								       ? p[off + k]
								       : '?');
					e->interp[k] = '\0';
				}
			}
		}
	}
	e->is_static = !e->has_interp && !e->has_dynamic;

	/* Section headers: sh_type at 4. Stripped means no SHT_SYMTAB. */
	e->stripped = true;
	size_t min_sh = is64 ? 64 : 40;
	if (e->shnum && e->shentsize >= min_sh) {
		uint64_t end = e->shoff + (uint64_t)e->shnum * e->shentsize;
		if (e->shoff > n || end > n)
			e->truncated = true;
		for (uint32_t i = 0; i < e->shnum && i < ELF_SH_MAX; i++) {
			if (!field(p, n, e->shoff + (uint64_t)i * e->shentsize + 4, 4, be, &v))
				break;
			if (v == SHT_SYMTAB)
				e->stripped = false;
		}
	}
	return 0;
}

static const char *machine_name(uint16_t m)
{
	switch (m) {
	case 2: return "SPARC";
	case 3: return "Intel 80386";
	case 4: return "Motorola 68000";
	case 8: return "MIPS";
	case 10: return "MIPS RS3000 LE";
	case 18: return "SPARC32PLUS";
	case 20: return "PowerPC";
	case 21: return "PowerPC64";
	case 40: return "ARM";
	case 42: return "SuperH";
	case 43: return "SPARC V9";
	case 62: return "AMD x86-64";
	case 93: return "ARC";
	case 183: return "AArch64";
	case 195: return "ARC v2";
	case 243: return "RISC-V";
	default: return "other";
	}
}

static const char *osabi_name(uint8_t a)
{
	switch (a) {
	case 0: return "SYSV";
	case 3: return "Linux";
	case 9: return "FreeBSD";
	case 97: return "ARM";
	case 255: return "Standalone";
	default: return "other";
	}
}

static const char *type_name(uint16_t t)
{
	switch (t) {
	case 1: return "REL";
	case 2: return "EXEC";
	case 3: return "DYN";
	case 4: return "CORE";
	default: return "other";
	}
}

json_t *box_elf_json(const struct box_elf *e)
{
	char entry[24];
	snprintf(entry, sizeof(entry), "0x%llx", (unsigned long long)e->entry);
	json_t *o = json_pack("{s:i,s:s,s:s,s:i,s:s,s:s,s:i,s:s,s:s,s:b,s:b,s:i,s:i,s:i,s:b}",
			      "class", e->bits, "endian", e->big_endian ? "big" : "little",
			      "machine", machine_name(e->machine), "machine_id", e->machine, "arch",
			      e->arch, "osabi", osabi_name(e->osabi), "osabi_id", e->osabi, "type",
			      type_name(e->type), "entry", entry, "static", e->is_static,
			      "stripped", e->stripped, "segments", e->phnum, "loads", e->loads,
			      "sections", e->shnum, "truncated", e->truncated);
	json_object_set_new(o, "interpreter", e->has_interp ? json_string(e->interp) : json_null());
	return o;
}

/* The emulators the sandbox uses, by ELF arch name. Debian's qemu-user-static provides each
 * as /usr/bin/qemu-<name>-static. */
const char *box_qemu_name(const char *arch)
{
	static const char *const known[] = {
		"arm",      "armeb", "aarch64", "mips",    "mipsel", "mips64",
		"mips64el", "i386",  "x86_64",  "ppc",     "ppc64",  "ppc64le",
		"sh4",      "sh4eb", "sparc",   "sparc64", "m68k",   "riscv64",
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(known); i++)
		if (strcmp(arch, known[i]) == 0)
			return known[i];
	return NULL;
}

const char *box_qemu_for(const struct box_elf *e)
{
	if (e->machine == 18)
		return "sparc32plus";
	return box_qemu_name(e->arch);
}
