/* Reading a loaded profile: path lookups (with and without links), folder listing,
 * credentials, applets, canned commands, and the folders profiles are loaded from. */
#include "profile/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/lib.h"

/* Where `meson install` puts the shipped profiles (src/profile/meson.build defines it). */
#ifndef MITSU_PROFILES_INSTALL_DIR
#define MITSU_PROFILES_INSTALL_DIR "/usr/local/share/mitsu/profiles"
#endif
/* A path being resolved may grow by a link target per hop; this bounds the work. */
#define RESOLVE_MAX (PROFILE_MAX_PATH * 4)

static int node_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct profile_node *)elem)->path);
}

const struct profile_node *profile_lookup(const struct profile *p, const char *path)
{
	if (!p || !path || p->nnodes == 0)
		return NULL;
	return bsearch(path, p->nodes, p->nnodes, sizeof(*p->nodes), node_cmp);
}

const struct profile_node *profile_resolve(const struct profile *p, const char *path)
{
	if (!p || !path || path[0] != '/' || strlen(path) >= RESOLVE_MAX)
		return NULL;
	char cur[RESOLVE_MAX + 1] = "/"; /* the resolved folder so far */
	char rest[RESOLVE_MAX + 1];      /* what is left to walk */
	lib_strlcpy(rest, path, sizeof(rest));
	int hops = 0;
	const struct profile_node *node = profile_lookup(p, "/");
	char *r = rest;
	for (;;) {
		while (*r == '/')
			r++;
		if (!*r)
			return node;
		char *end = strchr(r, '/');
		size_t len = end ? (size_t)(end - r) : strlen(r);
		if (len == 1 && r[0] == '.') {
			r += len;
			continue;
		}
		if (len == 2 && r[0] == '.' && r[1] == '.') {
			char *slash = strrchr(cur, '/');
			if (slash == cur)
				cur[1] = '\0';
			else
				*slash = '\0';
			node = profile_lookup(p, cur);
			r += len;
			continue;
		}
		if (!node || node->type != PROFILE_DIR)
			return NULL;
		size_t cl = strlen(cur);
		if (cl + 1 + len > RESOLVE_MAX)
			return NULL;
		char cand[RESOLVE_MAX + 1];
		memcpy(cand, cur, cl);
		size_t k = cl;
		if (cl > 1)
			cand[k++] = '/';
		memcpy(cand + k, r, len);
		cand[k + len] = '\0';
		r += len;
		const struct profile_node *n = profile_lookup(p, cand);
		if (!n)
			return NULL;
		if (n->type != PROFILE_LINK) {
			memcpy(cur, cand, k + len + 1);
			node = n;
			continue;
		}
		if (++hops > PROFILE_MAX_LINKS)
			return NULL;
		/* Walk the target, then what was left: rest = target + r. */
		size_t tl = strlen(n->target), rl = strlen(r);
		if (tl + rl + 1 > RESOLVE_MAX)
			return NULL;
		char next[RESOLVE_MAX + 1];
		memcpy(next, n->target, tl);
		memcpy(next + tl, r, rl + 1);
		memcpy(rest, next, tl + rl + 1);
		r = rest;
		if (rest[0] == '/') {
			strcpy(cur, "/");
			node = profile_lookup(p, "/");
		}
	}
}

const struct profile_node *profile_next_child(const struct profile *p, const char *dir,
					      const struct profile_node *prev)
{
	const struct profile_node *d = profile_lookup(p, dir);
	if (!d || d->type != PROFILE_DIR)
		return NULL;
	/* Paths under the folder start with "/dir/" (or "/"), and in strcmp order all strings with
	 * one prefix are contiguous; direct children have no further '/'. */
	char prefix[PROFILE_MAX_PATH + 2];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/", strcmp(dir, "/") ? dir : "");
	size_t i;
	if (prev) {
		if (prev < p->nodes || prev >= p->nodes + p->nnodes)
			return NULL;
		i = (size_t)(prev - p->nodes) + 1;
	} else {
		size_t lo = 0, hi = p->nnodes; /* first path >= prefix */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (strcmp(p->nodes[mid].path, prefix) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		i = lo;
	}
	for (; i < p->nnodes; i++) {
		const char *path = p->nodes[i].path;
		if (strncmp(path, prefix, plen) != 0)
			return NULL;
		if (path[plen] && !strchr(path + plen, '/'))
			return &p->nodes[i];
	}
	return NULL;
}

bool profile_accepts(const struct profile *p, const char *username, const char *password)
{
	if (!p || !username || !password)
		return false;
	for (size_t i = 0; i < p->ncreds; i++)
		if (strcmp(p->creds[i].username, username) == 0 &&
		    (strcmp(p->creds[i].password, "*") == 0 ||
		     strcmp(p->creds[i].password, password) == 0))
			return true;
	return false;
}

bool profile_password_empty(const struct profile *p, const char *username)
{
	const struct profile_node *n = p && username ? profile_resolve(p, "/etc/passwd") : NULL;
	if (!n || n->type != PROFILE_FILE || !*username)
		return false;
	size_t ulen = strlen(username);
	const char *s = (const char *)n->data, *end = s + n->len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		/* "name::uid:..." : the name, then an empty password field */
		if ((size_t)(e - s) > ulen + 1 && memcmp(s, username, ulen) == 0 &&
		    s[ulen] == ':' && s[ulen + 1] == ':')
			return true;
		s = e + 1;
	}
	return false;
}

static int str_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

bool profile_has_applet(const struct profile *p, const char *name)
{
	return p && name && p->napplets &&
	       bsearch(name, p->applets, p->napplets, sizeof(*p->applets), str_cmp);
}

static int command_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct profile_command *)elem)->name);
}

const struct profile_command *profile_command(const struct profile *p, const char *name)
{
	if (!p || !name || p->ncommands == 0)
		return NULL;
	return bsearch(name, p->commands, p->ncommands, sizeof(*p->commands), command_cmp);
}

const char *profile_default_dir(void)
{
	const char *env = getenv("MITSU_PROFILES");
	if (env && *env)
		return env;
#ifdef MITSU_SOURCE_DIR
	struct stat st;
	if (stat(MITSU_SOURCE_DIR "/profiles", &st) == 0 && S_ISDIR(st.st_mode))
		return MITSU_SOURCE_DIR "/profiles";
#endif
	return MITSU_PROFILES_INSTALL_DIR;
}

const char *profile_dir(const char *configured)
{
	return configured && *configured ? configured : profile_default_dir();
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int profile_scan_dir(const char *root, char ***names, size_t *count, char *err, size_t errlen)
{
	*names = NULL;
	*count = 0;
	DIR *d = opendir(root);
	if (!d) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", root, strerror(e));
		return -e;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *ini = xasprintf("%s/%s/profile.ini", root, de->d_name);
		struct stat st;
		bool is_profile = stat(ini, &st) == 0 && S_ISREG(st.st_mode);
		free(ini);
		if (!is_profile)
			continue;
		if (*count >= PROFILE_MAX_PROFILES) {
			snprintf(err, errlen, "%s: more than %d profiles (PROFILE_MAX_PROFILES)",
				 root, PROFILE_MAX_PROFILES);
			rc = -E2BIG;
			break;
		}
		*names = xrealloc(*names, (*count + 1) * sizeof(**names));
		(*names)[(*count)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (rc == 0 && *count == 0) {
		snprintf(err, errlen, "%s: no profiles (folders with a profile.ini)", root);
		rc = -ENOENT;
	}
	if (rc) {
		for (size_t i = 0; i < *count; i++)
			free((*names)[i]);
		free(*names);
		*names = NULL;
		*count = 0;
		return rc;
	}
	qsort(*names, *count, sizeof(**names), name_cmp);
	return 0;
}

int profile_load_all(const char *root, struct profile_set *set, char *err, size_t errlen)
{
	set->items = NULL;
	set->count = 0;
	char **names;
	size_t n;
	int rc = profile_scan_dir(root, &names, &n, err, errlen);
	if (rc)
		return rc;
	set->items = xcalloc(n, sizeof(*set->items));
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *dir = xasprintf("%s/%s", root, names[i]);
		rc = profile_load(dir, &set->items[set->count], err, errlen);
		if (rc == 0)
			set->count++;
		free(dir);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc)
		profile_set_free(set);
	return rc;
}

void profile_set_free(struct profile_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		profile_free(set->items[i]);
	free(set->items);
	set->items = NULL;
	set->count = 0;
}

const struct profile *profile_set_find(const struct profile_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->count; i++)
		if (strcmp(set->items[i]->name, name) == 0)
			return set->items[i];
	return NULL;
}
