/* TLSH digests through Debian's libtlsh (3.4.4), whose only interface is a C++ class. Its few
 * non-virtual member functions are called here by their Itanium C++ ABI names, the object
 * pointer first, so mitsu needs no C++ compiler or linker (the rest of the build, the sanitizer
 * and libFuzzer builds included, stays plain C). The digest gets the "T1" prefix that newer
 * TLSH releases and public feeds use. */
#include "box/internal.h"

#include <string.h>

/* The class holds one pointer (TlshImpl *); the buffer leaves room to spare. */
struct tlsh_obj {
	void *impl;
	void *spare[7];
};

/* libtlsh (and the C++ runtime it needs) is opened on first use (lib.h, "optional shared
 * libraries"), its functions found by their mangled names. */
static void (*tlsh_construct)(struct tlsh_obj *t);
static void (*tlsh_destroy)(struct tlsh_obj *t);
static void (*tlsh_update)(struct tlsh_obj *t, const unsigned char *data, unsigned int len);
static void (*tlsh_final)(struct tlsh_obj *t, const unsigned char *data, unsigned int len);
static const char *(*tlsh_get_hash)(const struct tlsh_obj *t, char *buf, unsigned int len);
static const struct lib_dl_sym tlsh_syms[] = {
	{"_ZN4TlshC1Ev", (void **)&tlsh_construct},
	{"_ZN4TlshD1Ev", (void **)&tlsh_destroy},
	{"_ZN4Tlsh6updateEPKhj", (void **)&tlsh_update},
	{"_ZN4Tlsh5finalEPKhj", (void **)&tlsh_final},
	{"_ZNK4Tlsh7getHashEPcj", (void **)&tlsh_get_hash},
};
static struct lib_dl tlsh_dl = {.soname = "libtlsh.so.0",
				.package = "libtlsh0",
				.syms = tlsh_syms,
				.nsyms = LIB_ARRAY_LEN(tlsh_syms)};

#define TLSH_MIN_DATA 256 /* libtlsh's MIN_DATA_LENGTH: shorter inputs have no digest */
#define TLSH_HEX 70       /* 128 buckets, 1-byte checksum: Debian's build */

void box_tlsh(const uint8_t *p, size_t n, char out[80])
{
	out[0] = '\0';
	if (n < TLSH_MIN_DATA)
		return;
	char why[256];
	if (lib_dl_load(&tlsh_dl, why, sizeof(why))) {
		log_error("tlsh", "cannot load libtlsh: %s", why);
		return;
	}
	struct tlsh_obj t;
	memset(&t, 0, sizeof(t));
	tlsh_construct(&t);
	/* update() takes an unsigned int length: large inputs go in pieces. */
	const size_t step = 1u << 30;
	for (size_t off = 0; off < n; off += step)
		tlsh_update(&t, p + off, (unsigned int)LIB_MIN(n - off, step));
	tlsh_final(&t, NULL, 0);
	char buf[TLSH_HEX + 8];
	const char *h = tlsh_get_hash(&t, buf, sizeof(buf));
	if (h && strlen(h) == TLSH_HEX) {
		out[0] = 'T';
		out[1] = '1';
		memcpy(out + 2, h, TLSH_HEX + 1);
	}
	tlsh_destroy(&t);
}
