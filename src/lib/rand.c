/* Random bytes from the kernel, and v4 UUIDs. */
#include "lib/lib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>
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

/* Bytes from OpenSSL's DRBG, taken in blocks (each RAND_bytes call costs a getpid() for its
 * fork check). A fork empties the pool, so a child never repeats its parent's bytes. */
static struct {
	uint8_t bytes[4096];
	size_t left;
	bool atfork;
} pool;

static void pool_forget(void)
{
	pool.left = 0;
}

void lib_random_fast(void *p, size_t n)
{
	uint8_t *out = p;
	if (!pool.atfork) {
		pthread_atfork(NULL, NULL, pool_forget);
		pool.atfork = true;
	}
	while (n > 0) {
		if (pool.left == 0) {
			if (RAND_bytes(pool.bytes, (int)sizeof(pool.bytes)) != 1)
				lib_random(pool.bytes, sizeof(pool.bytes));
			pool.left = sizeof(pool.bytes);
		}
		size_t take = n < pool.left ? n : pool.left;
		uint8_t *src = pool.bytes + sizeof(pool.bytes) - pool.left;
		memcpy(out, src, take);
		memset(src, 0, take);
		pool.left -= take;
		out += take;
		n -= take;
	}
}

void lib_uuid7(char out[37])
{
	uint8_t u[16];
	lib_random_fast(u + 6, 10);
	uint64_t ms = (uint64_t)(lib_real_us() / 1000);
	for (int i = 0; i < 6; i++)
		u[i] = (uint8_t)(ms >> (40 - 8 * i));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x70);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	/* 8-4-4-4-12 hex digits; runs for every event, so no printf (a third of the bus's CPU) */
	lib_hex(u, 4, out);
	out[8] = '-';
	lib_hex(u + 4, 2, out + 9);
	out[13] = '-';
	lib_hex(u + 6, 2, out + 14);
	out[18] = '-';
	lib_hex(u + 8, 2, out + 19);
	out[23] = '-';
	lib_hex(u + 10, 6, out + 24);
}
