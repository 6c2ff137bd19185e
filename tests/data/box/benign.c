/* A benign test program: it reads a file, writes one in /tmp, prints a line and exits. The
 * sandbox must find nothing malicious in it. */
#include <stdio.h>
#include <time.h>

int main(void)
{
	unsigned sum = 0;
	FILE *f = fopen("/etc/hostname", "r");
	int c;
	while (f && (c = fgetc(f)) != EOF)
		sum = sum * 31 + (unsigned)c;
	if (f)
		fclose(f);
	FILE *o = fopen("/tmp/benign.txt", "w");
	if (o) {
		fprintf(o, "checksum %u\n", sum);
		fclose(o);
	}
	printf("hello from a benign program (%u)\n", sum);
#ifdef STAY
	for (;;) {
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
	}
#endif
	return 0;
}
