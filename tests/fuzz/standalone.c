/* Replays fuzz inputs without libFuzzer: each argument is a file or a folder of files, each
 * file one input. Prints TAP so tests/run.py counts each input as a test. A crash or a
 * sanitizer report fails the run. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/lib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;

static void run_file(const char *path)
{
	uint8_t *data;
	size_t len;
	if (lib_read_file(path, 64u << 20, &data, &len)) {
		printf("not ok %d - %s (unreadable)\n", ++count, path);
		return;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	const char *base = strrchr(path, '/');
	printf("ok %d - %s\n", ++count, base ? base + 1 : path);
	fflush(stdout);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st)) {
		printf("not ok %d - %s (missing)\n", ++count, path);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	DIR *d = opendir(path);
	if (!d)
		return;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xasprintf("%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		run_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("1..%d\n", count);
	return 0;
}
