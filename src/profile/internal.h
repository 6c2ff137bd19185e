/* profile internals shared by the module's files (and its tests and fuzz target): the ELF
 * generator, the BusyBox install table and the loader entry that takes ini text. Not API. */
#ifndef MITSU_PROFILE_INTERNAL_H
#define MITSU_PROFILE_INTERNAL_H

#include "profile/profile.h"

enum profile_elf_kind { PROFILE_ELF_EXEC, PROFILE_ELF_DYN };

/* What to generate: an executable (/bin/busybox) or a shared library (/lib/libc.so.0). */
struct profile_elf_spec {
	const struct profile_elf *elf; /* class, data, machine, flags, osabi */
	enum profile_elf_kind kind;
	const char *interp;  /* PT_INTERP; NULL or "" for a static executable or a library */
	char *const *needed; /* DT_NEEDED entries */
	size_t nneeded;
	const char *soname; /* DT_SONAME of a library, or NULL */
	const char *rodata; /* bytes the binary carries in .rodata (its strings) */
	size_t rodata_len;
	const char *seed; /* the filler bytes derive from this (profile name + path) */
	size_t size;      /* exact size of the file */
};

/* Builds an ELF file of exactly spec->size bytes: ELF header, program headers (PT_PHDR,
 * PT_INTERP when dynamic, two PT_LOAD, PT_DYNAMIC, PT_GNU_STACK), .interp, .dynstr, .text,
 * .rodata, .dynamic, .data, .bss, .shstrtab and the section header table at the end, in the
 * byte order of spec->elf->data. Returns 0 and a malloc'ed buffer, or -EINVAL when the size is
 * too small for the headers (writes why into err). */
int profile_elf_build(const struct profile_elf_spec *spec, uint8_t **out, char *err, size_t errlen);

/* Default load address of executables for an e_machine, as its Linux toolchains link them. */
uint64_t profile_elf_base(int machine);

/* Folder where `make install` of BusyBox puts an applet's link: "/bin", "/sbin", "/usr/bin",
 * "/usr/sbin" or "/" (linuxrc). Applets it does not know go to /usr/bin, as most do. */
const char *profile_applet_dir(const char *name);

/* Loads a profile from ini text. `dir` is the profile folder for fs/ and *.file references, or
 * NULL for none. With PROFILE_LOAD_NO_CHECKS the consistency checks that need fs/ files
 * (/proc/version, /proc/cpuinfo, /proc/mounts, ...) are skipped: for the fuzz target. */
#define PROFILE_LOAD_NO_CHECKS 1u
int profile_load_text(const char *name, const char *dir, const char *ini, size_t len,
		      unsigned flags, struct profile **out, char *err, size_t errlen);

/* The profile folders under root (those with a profile.ini), sorted; at most
 * PROFILE_MAX_PROFILES. -ENOENT (with a message) when there are none. */
int profile_scan_dir(const char *root, char ***names, size_t *count, char *err, size_t errlen);

#endif
