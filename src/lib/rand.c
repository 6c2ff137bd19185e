/* Random bytes from the kernel, and v4 UUIDs. */
#include "lib/lib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void lib_random(void *p, size_t n)
{
	uint8_t *out = p;
	while (n > 0) {
		ssize_t r = getrandom(out, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mitsu: getrandom failed\n");
			abort();
		}
		out += r;
		n -= (size_t)r;
	}
}

void lib_uuid4(char out[37])
{
	uint8_t u[16];
	lib_random(u, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}
