/* Small file helpers: mkdir -p, bounded whole-file reads, atomic writes. */
#include "lib/lib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lib_mkdirs(const char *path, int mode)
{
	char tmp[PATH_MAX];
	if (lib_strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, (mode_t)mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int lib_read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct buf b;
	buf_init(&b, max);
	uint8_t chunk[65536];
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		if (buf_append(&b, chunk, (size_t)r)) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc) {
		buf_free(&b);
		return rc;
	}
	*out = buf_steal(&b, len);
	return 0;
}

int lib_write_file_atomic(const char *path, const void *p, size_t n, int mode)
{
	/* A unique temporary name: two threads may write the same path at once. */
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	int rc = 0;
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	const uint8_t *s = p;
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		s += w;
		n -= (size_t)w;
	}
	if (!rc && fsync(fd))
		rc = -errno;
	if (!rc && fchmod(fd, (mode_t)mode))
		rc = -errno;
	close(fd);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}
