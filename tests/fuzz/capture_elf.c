/* Fuzz target: the file-type and ELF-header readers every captured file goes through
 * (capture_file_type, capture_elf_arch in src/capture/samples.c), on any bytes and any length.
 * Checks what callers rely on: both write a NUL-terminated name within their buffer, and a file
 * is typed "elf" exactly when its architecture can be read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes, so reading past the end is caught. */
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		abort();
	memcpy(p, data, size);
	char type[24], arch[16];
	memset(type, 0x55, sizeof(type));
	memset(arch, 0x55, sizeof(arch));
	capture_file_type(p, size, type);
	if (!memchr(type, '\0', sizeof(type)) || !type[0])
		abort();
	int rc = capture_elf_arch(p, size, arch);
	if (rc == 0 && (!memchr(arch, '\0', sizeof(arch)) || !arch[0]))
		abort();
	/* An ELF big enough to hold e_machine has an architecture; nothing else has. */
	if ((rc == 0) != (strcmp(type, "elf") == 0 && size >= 20))
		abort();
	free(p);
	return 0;
}
