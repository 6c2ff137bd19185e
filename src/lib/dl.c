/* Optional shared libraries opened on first use (the systemd pattern): see lib.h. A subcommand
 * that never needs libpq or libcurl never maps them and the ~40 libraries they pull in. */
#include "lib/lib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

static int dl_open(struct lib_dl *dl)
{
	void *h = dlopen(dl->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		snprintf(dl->err, sizeof(dl->err), "%s (install the Debian package %s)",
			 why ? why : dl->soname, dl->package);
		return -ENOENT;
	}
	for (size_t i = 0; i < dl->nsyms; i++) {
		void *fn = dlsym(h, dl->syms[i].name);
		if (!fn) {
			snprintf(dl->err, sizeof(dl->err),
				 "%s: no symbol %s (install the Debian package %s)", dl->soname,
				 dl->syms[i].name, dl->package);
			dlclose(h);
			return -ENOENT;
		}
		*dl->syms[i].fn = fn;
	}
	dl->handle = h;
	return 0;
}

int lib_dl_load(struct lib_dl *dl, char *err, size_t errlen)
{
	pthread_mutex_lock(&dl_lock);
	int rc = dl->handle ? 0 : dl->err[0] ? -ENOENT : dl_open(dl);
	pthread_mutex_unlock(&dl_lock);
	if (rc && err && errlen)
		snprintf(err, errlen, "%s", dl->err);
	return rc;
}
