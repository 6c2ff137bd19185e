/* shell/vfs: the per-session virtual filesystem. A sorted overlay of the paths the session
 * changed, over the profile's read-only tree (shared by every session, never copied), so an
 * idle session costs nothing here. Removing a profile path leaves one whiteout for the whole
 * subtree; a folder created over a removed one is opaque. Mounts and their ro/rw options come
 * from the profile's own /proc/mounts, so writes fail where they would on the device. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ profile searches */

static size_t prof_lower(const struct profile *p, const char *path)
{
	size_t lo = 0, hi = p ? p->nnodes : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->nodes[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct profile_node *shell_prof_node(const struct profile *p, const char *path)
{
	if (!p)
		return NULL;
	size_t i = prof_lower(p, path);
	if (i < p->nnodes && strcmp(p->nodes[i].path, path) == 0)
		return &p->nodes[i];
	return NULL;
}

/* A folder the profile implies: some node lies below it. */
static bool prof_implicit_dir(const struct profile *p, const char *path)
{
	if (!p)
		return false;
	char pre[SH_PATH_MAX + 2];
	size_t n = strlen(path);
	if (n + 2 > sizeof(pre))
		return false;
	memcpy(pre, path, n);
	if (n == 1 && path[0] == '/')
		n = 0;
	pre[n] = '/';
	pre[n + 1] = 0;
	size_t i = prof_lower(p, pre);
	return i < p->nnodes && strncmp(p->nodes[i].path, pre, n + 1) == 0;
}

bool shell_prof_has_applet(const struct profile *p, const char *name)
{
	size_t lo = 0, hi = p ? p->napplets : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->applets[mid], name);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

const struct profile_command *shell_prof_command(const struct profile *p, const char *name)
{
	/* sorted by name (profile.h) */
	size_t lo = 0, hi = p ? p->ncommands : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->commands[mid].name, name);
		if (c == 0)
			return &p->commands[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ------------------------------------------------------------------ overlay array */

static size_t ents_lower(const struct vfs *v, const char *path)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v->ents[mid]->path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct vent *ents_find(const struct vfs *v, const char *path)
{
	size_t i = ents_lower(v, path);
	if (i < v->n && strcmp(v->ents[i]->path, path) == 0)
		return v->ents[i];
	return NULL;
}

static struct vent *ents_insert(struct vfs *v, const char *path)
{
	size_t i = ents_lower(v, path);
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 8;
		v->ents = xrealloc(v->ents, v->cap * sizeof(*v->ents));
	}
	memmove(v->ents + i + 1, v->ents + i, (v->n - i) * sizeof(*v->ents));
	struct vent *e = xcalloc(1, sizeof(*e));
	e->path = xstrdup(path);
	v->ents[i] = e;
	v->n++;
	return e;
}

static void vent_release(struct vfs *v, struct vent *e)
{
	if (e->kind != VE_WHITEOUT && v->files)
		v->files--;
	if (e->data)
		shell_vdata_unref(v, e->data);
	e->data = NULL;
	free(e->target);
	e->target = NULL;
}

static void ents_remove_at(struct vfs *v, size_t i)
{
	struct vent *e = v->ents[i];
	vent_release(v, e);
	free(e->path);
	free(e);
	memmove(v->ents + i, v->ents + i + 1, (v->n - i - 1) * sizeof(*v->ents));
	v->n--;
}

/* ------------------------------------------------------------------ content */

void shell_vdata_ref(struct vdata *vd)
{
	vd->refs++;
}

const uint8_t *shell_vdata_bytes(const struct vdata *vd)
{
	return vd->owned ? vd->buf : vd->ro;
}

void shell_vfs_report(struct vfs *v, struct vdata *vd, const char *path)
{
	if (!vd || !vd->dirty)
		return;
	vd->dirty = false;
	if (vd->len && v->report)
		v->report(v->report_arg, path, vd);
}

static void vdata_charge(struct vfs *v, struct vdata *vd, size_t newcharge)
{
	v->bytes -= vd->charged;
	v->bytes += newcharge;
	if (v->charged && newcharge != vd->charged)
		v->charged(v->charged_arg, (long long)newcharge - (long long)vd->charged);
	vd->charged = newcharge;
}

void shell_vdata_unref(struct vfs *v, struct vdata *vd)
{
	if (!vd || --vd->refs > 0)
		return;
	vdata_charge(v, vd, 0);
	free(vd->buf);
	free(vd);
}

static struct vdata *vdata_new(void)
{
	struct vdata *vd = xcalloc(1, sizeof(*vd));
	vd->refs = 1;
	return vd;
}

/* Makes the bytes writable (copy-on-write of profile bytes). */
static int vdata_own(struct vfs *v, struct vdata *vd, size_t need)
{
	if (vd->owned && vd->cap >= need)
		return 0;
	size_t cap = vd->cap ? vd->cap : 64;
	while (cap < need)
		cap *= 2;
	uint8_t *nb = xmalloc(cap);
	v->work += vd->len;
	if (vd->len)
		memcpy(nb, shell_vdata_bytes(vd), vd->len);
	free(vd->buf);
	vd->buf = nb;
	vd->cap = cap;
	vd->owned = true;
	vd->ro = NULL;
	return 0;
}

int shell_vfs_write(struct vfs *v, struct vdata *vd, const void *p, size_t n, bool attacker,
		    const char *method, const char *path)
{
	if (!n)
		return 0;
	/* The file's bytes are charged in full once it is written; the rest of the session's
	 * files keep their charge. */
	size_t others = v->bytes - vd->charged;
	size_t avail = v->max_bytes > others ? v->max_bytes - others : 0;
	size_t want = vd->len + n;
	int rc = 0;
	if (want > avail) {
		rc = -ENOSPC;
		if (avail <= vd->len)
			return rc;
		n = avail - vd->len;
		want = avail;
	}
	vdata_own(v, vd, want);
	v->work += n;
	memcpy(vd->buf + vd->len, p, n);
	vd->len = want;
	vdata_charge(v, vd, vd->len);
	if (attacker) {
		if (!vd->dirty)
			vd->method = method;
		vd->attacker = true;
		vd->dirty = true;
	}
	(void)path;
	return rc;
}

static int vfs_zero_extend(struct vfs *v, struct vdata *vd, size_t len);

int shell_vfs_pwrite(struct vfs *v, struct vdata *vd, size_t off, const void *p, size_t n,
		     bool attacker, const char *method)
{
	if (off >= vd->len) {
		int rc = vfs_zero_extend(v, vd, off);
		if (rc)
			return rc;
		return shell_vfs_write(v, vd, p, n, attacker, method, NULL);
	}
	size_t inside = LIB_MIN(n, vd->len - off);
	vdata_own(v, vd, vd->len);
	vdata_charge(v, vd, vd->len);
	memcpy(vd->buf + off, p, inside);
	if (attacker) {
		if (!vd->dirty)
			vd->method = method;
		vd->attacker = vd->dirty = true;
	}
	if (inside < n)
		return shell_vfs_write(v, vd, (const uint8_t *)p + inside, n - inside, attacker,
				       method, NULL);
	return 0;
}

void shell_vfs_cut(struct vfs *v, struct vdata *vd, size_t n, const char *path)
{
	if (n >= vd->len)
		return;
	if (n == 0) {
		shell_vfs_truncate(v, vd, path);
		return;
	}
	shell_vfs_report(v, vd, path);
	vdata_own(v, vd, vd->len);
	vd->len = n;
	vdata_charge(v, vd, n);
}

void shell_vfs_truncate(struct vfs *v, struct vdata *vd, const char *path)
{
	shell_vfs_report(v, vd, path);
	if (!vd->owned) {
		vd->ro = NULL;
	}
	vd->len = 0;
	vd->attacker = false;
	vd->download = false;
	vdata_charge(v, vd, 0);
	if (vd->cap > 4096) {
		free(vd->buf);
		vd->buf = NULL;
		vd->cap = 0;
		vd->owned = false;
	}
}

/* Grows a file with zero bytes up to `len`. */
static int vfs_zero_extend(struct vfs *v, struct vdata *vd, size_t len)
{
	static const uint8_t zeros[4096];
	while (vd->len < len) {
		size_t n = LIB_MIN(sizeof(zeros), len - vd->len);
		int rc = shell_vfs_write(v, vd, zeros, n, false, NULL, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ lookup */

static const struct {
	const char *path;
	int dev;
	uint16_t mode;
} devices[] = {
	{"/dev/null", VDEV_NULL, 0666},     {"/dev/zero", VDEV_ZERO, 0666},
	{"/dev/random", VDEV_RANDOM, 0666}, {"/dev/urandom", VDEV_RANDOM, 0666},
	{"/dev/tty", VDEV_TTY, 0666},       {"/dev/console", VDEV_TTY, 0600},
	{"/dev/pts/0", VDEV_TTY, 0620}, /* the session's terminal */
};

static void fill_pn(struct vstat *st, const struct profile_node *pn)
{
	memset(st, 0, sizeof(*st));
	st->pn = pn;
	st->kind = pn->type == PROFILE_DIR ? VN_DIR : pn->type == PROFILE_LINK ? VN_LINK : VN_FILE;
	st->mode = pn->mode & 07777;
	st->uid = pn->uid;
	st->gid = pn->gid;
	st->mtime = pn->mtime;
	st->size = pn->type == PROFILE_LINK ? (pn->target ? strlen(pn->target) : 0) : pn->len;
	st->data = pn->data;
	st->target = pn->target;
}

static void fill_ve(struct vstat *st, struct vent *e)
{
	memset(st, 0, sizeof(*st));
	st->ve = e;
	st->kind = e->kind == VE_DIR ? VN_DIR : e->kind == VE_LINK ? VN_LINK : VN_FILE;
	st->mode = e->mode;
	st->uid = e->uid;
	st->gid = e->gid;
	st->mtime = e->mtime;
	st->opaque = e->opaque;
	if (e->kind == VE_FILE && e->data) {
		st->data = shell_vdata_bytes(e->data);
		st->size = e->data->len;
	} else if (e->kind == VE_LINK) {
		st->target = e->target;
		st->size = strlen(e->target);
	}
}

static bool mount_names(struct vfs *v, const char *abspath, bool dev);
static bool ps_names_dev(struct vfs *v, const char *name);

/* A /proc file made now (procfs.c), kept in the session's small cache so that the bytes stay
 * valid while the command that looked it up reads them. */
static int lookup_gen(struct vfs *v, const char *path, struct vstat *st)
{
	struct vgen g = {0};
	buf_init(&g.data, SH_PIPE_MAX);
	if (v->proc(v->proc_arg, path, &g) < 0) {
		buf_free(&g.data);
		return -ENOENT;
	}
	if (!v->gen)
		v->gen = xcalloc(SH_PROCGEN_MAX, sizeof(*v->gen));
	if (v->ngen == SH_PROCGEN_MAX) {
		free(v->gen[0].path);
		buf_free(&v->gen[0].data);
		memmove(v->gen, v->gen + 1, (SH_PROCGEN_MAX - 1) * sizeof(*v->gen));
		v->ngen--;
	}
	g.path = xstrdup(path);
	buf_append(&g.data, "", 0);
	v->gen[v->ngen++] = g;
	memset(st, 0, sizeof(*st));
	st->kind = g.kind;
	st->mode = g.kind == VN_DIR ? 0555 : g.kind == VN_LINK ? 0777 : 0444;
	st->mtime = shell_now();
	if (g.kind == VN_LINK)
		st->target = (const char *)v->gen[v->ngen - 1].data.data;
	if (g.kind == VN_LINK || g.kind == VN_FILE)
		st->size = g.data.len;
	if (g.kind == VN_FILE) {
		st->data = v->gen[v->ngen - 1].data.data;
		st->size = g.data.len;
	}
	return 0;
}

/* One path, given whether its folder hides the profile. */
static int lookup_one(struct vfs *v, const char *path, bool hidden, struct vstat *st)
{
	struct vent *e = ents_find(v, path);
	if (e) {
		if (e->kind == VE_WHITEOUT)
			return -ENOENT;
		fill_ve(st, e);
		return 0;
	}
	if (path[0] == '/' && path[1] == 0) {
		memset(st, 0, sizeof(*st));
		st->kind = VN_DIR;
		st->mode = 0755;
		return 0;
	}
	if (hidden)
		return -ENOENT;
	if (strncmp(path, "/dev/", 5) == 0) {
		for (size_t i = 0; i < LIB_ARRAY_LEN(devices); i++)
			if (strcmp(path, devices[i].path) == 0) {
				memset(st, 0, sizeof(*st));
				st->kind = VN_CHR;
				st->dev = devices[i].dev;
				st->mode = devices[i].mode;
				return 0;
			}
	}
	if (v->proc && strncmp(path, "/proc/", 6) == 0 && lookup_gen(v, path, st) == 0)
		return 0;
	const struct profile_node *pn = shell_prof_node(v->prof, path);
	if (pn) {
		fill_pn(st, pn);
		return 0;
	}
	if (strncmp(path, "/dev/", 5) == 0 &&
	    (mount_names(v, path, true) || ps_names_dev(v, path + 5))) {
		memset(st, 0, sizeof(*st));
		st->kind = VN_CHR;
		st->dev = VDEV_NULL;
		st->mode = 0600;
		return 0;
	}
	if (prof_implicit_dir(v->prof, path) || strcmp(path, "/dev") == 0 ||
	    strcmp(path, "/dev/pts") == 0 || strcmp(path, "/proc") == 0 ||
	    strcmp(path, "/tmp") == 0 || mount_names(v, path, false)) {
		memset(st, 0, sizeof(*st));
		st->kind = VN_DIR;
		st->mode = strcmp(path, "/tmp") == 0 ? 01777 : 0755;
		return 0;
	}
	return -ENOENT;
}

int shell_vfs_join(const char *dir, const char *name, char *out)
{
	size_t a = strlen(dir), b = strlen(name);
	if (a == 1 && dir[0] == '/')
		a = 0;
	if (a + 1 + b + 1 > SH_PATH_MAX)
		return -ENAMETOOLONG;
	memmove(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
	return 0;
}

/* Whether abspath lies in a hidden (opaque or whiteout-replaced) subtree: walk its folders. */
static bool path_hidden(struct vfs *v, const char *abspath)
{
	if (!v->n)
		return false;
	char buf[SH_PATH_MAX];
	size_t n = strlen(abspath);
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, abspath, n + 1);
	/* Check each proper prefix folder for an opaque overlay folder. */
	for (size_t i = 1; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = 0;
		struct vent *e = ents_find(v, buf);
		buf[i] = '/';
		if (e && (e->kind == VE_WHITEOUT || (e->kind == VE_DIR && e->opaque)))
			return true;
	}
	return false;
}

int shell_vfs_lookup(struct vfs *v, const char *abspath, struct vstat *st)
{
	return lookup_one(v, abspath, path_hidden(v, abspath), st);
}

/* "..": cur loses its last part, unless it is "/". */
static void up_one(char *cur, int *depth)
{
	if (*depth == 0)
		return;
	char *s = strrchr(cur, '/');
	if (s == cur)
		cur[1] = 0;
	else
		*s = 0;
	(*depth)--;
}

/* out = a "/" b (a may be empty: out = "/" b), in SH_PATH_MAX * 2 bytes; -ENAMETOOLONG if it
 * does not fit. */
static int join_path(char out[SH_PATH_MAX * 2], const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	if (al + 1 + bl + 1 > SH_PATH_MAX * 2)
		return -ENAMETOOLONG;
	memcpy(out, a, al);
	out[al] = '/';
	memcpy(out + al + 1, b, bl + 1);
	return 0;
}

int shell_vfs_resolve(struct vfs *v, const char *cwd, const char *path, bool follow, char *out,
		      struct vstat *st, bool *parent_ok)
{
	/* rest: what remains to walk; cur: the resolved folder so far. */
	char rest[SH_PATH_MAX * 2];
	char cur[SH_PATH_MAX];
	bool hid[SH_PATH_MAX / 2];
	int depth = 0;
	int links = 0;
	if (parent_ok)
		*parent_ok = false;
	memset(st, 0, sizeof(*st));
	size_t plen = strlen(path);
	if (plen >= SH_PATH_MAX || join_path(rest, path[0] == '/' ? "" : cwd, path))
		return -ENAMETOOLONG;
	bool want_dir = plen && path[plen - 1] == '/';
	strcpy(cur, "/");
	hid[0] = false;
	size_t rp = 0;
	for (;;) {
		while (rest[rp] == '/')
			rp++;
		if (!rest[rp])
			break;
		size_t cs = rp;
		while (rest[rp] && rest[rp] != '/')
			rp++;
		size_t cl = rp - cs;
		size_t q = rp;
		while (rest[q] == '/')
			q++;
		bool last = rest[q] == 0;
		if (cl == 1 && rest[cs] == '.')
			continue;
		if (cl == 2 && rest[cs] == '.' && rest[cs + 1] == '.') {
			up_one(cur, &depth);
			continue;
		}
		char cand[SH_PATH_MAX];
		size_t curl = strlen(cur);
		size_t base = curl == 1 ? 0 : curl;
		if (base + 1 + cl + 1 > sizeof(cand))
			return -ENAMETOOLONG;
		memcpy(cand, cur, base);
		cand[base] = '/';
		memcpy(cand + base + 1, rest + cs, cl);
		cand[base + 1 + cl] = 0;
		struct vstat s;
		int rc = lookup_one(v, cand, hid[depth], &s);
		if (rc) {
			if (last) {
				strcpy(out, cand);
				if (parent_ok)
					*parent_ok = true;
				st->kind = VN_NONE;
			}
			return -ENOENT;
		}
		if (s.kind == VN_LINK && (!last || follow || want_dir)) {
			if (++links > SH_SYMLINKS_MAX)
				return -ELOOP;
			const char *t = s.target ? s.target : "";
			char tmp[SH_PATH_MAX * 2];
			if (strlen(t) + 1 + strlen(rest + rp) + 1 > SH_PATH_MAX ||
			    join_path(tmp, t, rest + rp))
				return -ENAMETOOLONG;
			memcpy(rest, tmp, strlen(tmp) + 1);
			rp = 0;
			if (t[0] == '/') {
				strcpy(cur, "/");
				depth = 0;
			}
			continue;
		}
		if (!last && s.kind != VN_DIR)
			return -ENOTDIR;
		if ((size_t)depth + 1 >= LIB_ARRAY_LEN(hid))
			return -ENAMETOOLONG;
		strcpy(cur, cand);
		depth++;
		hid[depth] = hid[depth - 1] || s.opaque;
		if (s.ve && s.ve->kind == VE_DIR && s.ve->opaque)
			hid[depth] = true;
		if (last) {
			*st = s;
			break;
		}
	}
	if (st->kind == VN_NONE) {
		/* The path named a folder walked to its end ("/", ".", "a/.."). */
		int rc = lookup_one(v, cur, depth ? hid[depth - 1] : false, st);
		if (rc)
			return rc;
	}
	if (want_dir && st->kind != VN_DIR)
		return -ENOTDIR;
	strcpy(out, cur);
	return 0;
}

/* ------------------------------------------------------------------ mounts and permissions */

/* The next line of the profile's /proc/mounts at *p (before end) into m; false at the end.
 * Lines with fewer than four fields are skipped. */
static bool next_mount(const char **p, const char *end, struct vfs_mount *m)
{
	while (*p < end) {
		const char *nl = memchr(*p, '\n', (size_t)(end - *p));
		const char *le = nl ? nl : end;
		char *fields[4] = {m->dev, m->dir, m->type, m->opts};
		size_t caps[4] = {sizeof(m->dev), sizeof(m->dir), sizeof(m->type), sizeof(m->opts)};
		const char *q = *p;
		int nf = 0;
		while (nf < 4 && q < le) {
			while (q < le && (*q == ' ' || *q == '\t'))
				q++;
			const char *ws = q;
			while (q < le && *q != ' ' && *q != '\t')
				q++;
			if (q == ws)
				break;
			size_t l = LIB_MIN((size_t)(q - ws), caps[nf] - 1);
			memcpy(fields[nf], ws, l);
			fields[nf][l] = 0;
			nf++;
		}
		*p = nl ? nl + 1 : end;
		if (nf == 4)
			return true;
	}
	return false;
}

static bool mounts_text(struct vfs *v, const char **p, const char **end)
{
	const struct profile_node *pn = v->prof ? shell_prof_node(v->prof, "/proc/mounts") : NULL;
	if (!pn || !pn->data)
		return false;
	*p = (const char *)pn->data;
	*end = *p + pn->len;
	return true;
}

bool shell_vfs_mount_of(struct vfs *v, const char *abspath, struct vfs_mount *m)
{
	const char *p, *end;
	if (!mounts_text(v, &p, &end))
		return false;
	size_t best = 0;
	bool found = false;
	struct vfs_mount cur;
	while (next_mount(&p, end, &cur)) {
		size_t dl = strlen(cur.dir);
		bool match = (dl == 1 && cur.dir[0] == '/') ||
			     (strncmp(abspath, cur.dir, dl) == 0 &&
			      (abspath[dl] == '/' || abspath[dl] == 0));
		size_t score = (dl == 1) ? 1 : dl + 1;
		if (match && score >= best) {
			best = score;
			*m = cur;
			found = true;
		}
	}
	return found;
}

/* "/dev/root" in /proc/mounts is the kernel's name for the root device, not a node of /dev. */
static bool is_kernel_root(const char *dev)
{
	return strcmp(dev, "/dev/root") == 0;
}

/* Whether /proc/mounts names abspath as a mount point (field 2) or a folder above one, or, with
 * `dev`, as the device mounted (field 1): the device's kernel made them exist. */
static bool mount_names(struct vfs *v, const char *abspath, bool dev)
{
	const char *p, *end;
	if (!mounts_text(v, &p, &end))
		return false;
	struct vfs_mount m;
	size_t n = strlen(abspath);
	/* A field that starts with abspath holds it: a path the table does not contain at all
	 * (every folder of PATH tried for an unknown command) is answered without parsing it. */
	if (!memmem(p, (size_t)(end - p), abspath, n))
		return false;
	while (next_mount(&p, end, &m)) {
		if (dev ? strcmp(m.dev, abspath) == 0 && !is_kernel_root(m.dev)
			: strncmp(m.dir, abspath, n) == 0 && (m.dir[n] == 0 || m.dir[n] == '/'))
			return true;
	}
	return false;
}

/* Whether a process of the profile's ps names this /dev node (getty's ttyAMA0, the
 * [mtdblock2] kernel threads): the device has it. Only tty and mtd names count. */
static bool ps_names_dev(struct vfs *v, const char *name)
{
	size_t n = strlen(name);
	if (!v->prof || (strncmp(name, "tty", 3) != 0 && strncmp(name, "mtd", 3) != 0) ||
	    strchr(name, '/'))
		return false;
	for (size_t i = 0; i < v->prof->nprocs; i++) {
		const char *cmd = v->prof->procs[i].command;
		for (const char *q = strstr(cmd, name); q; q = strstr(q + 1, name)) {
			bool start = q == cmd || q[-1] == ' ' || q[-1] == '[' || q[-1] == '/';
			bool stop = !q[n] || q[n] == ' ' || q[n] == ']';
			if (start && stop)
				return true;
		}
	}
	return false;
}

bool shell_vfs_mount_below(struct vfs *v, const char *abspath)
{
	const struct profile_node *pn = shell_prof_node(v->prof, "/proc/mounts");
	if (!pn || !pn->data)
		return false;
	size_t al = strlen(abspath);
	if (al == 1)
		al = 0;
	const char *p = (const char *)pn->data, *end = p + pn->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *sp = memchr(p, ' ', (size_t)(le - p));
		if (sp) {
			const char *d = sp + 1;
			const char *de = memchr(d, ' ', (size_t)(le - d));
			size_t dl = de ? (size_t)(de - d) : (size_t)(le - d);
			if (dl > al + 1 && strncmp(d, abspath, al) == 0 && d[al] == '/')
				return true;
		}
		p = nl ? nl + 1 : end;
	}
	return false;
}

static bool opt_has(const char *opts, const char *o)
{
	size_t n = strlen(o);
	for (const char *p = opts; *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == n && strncmp(p, o, n) == 0)
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

static bool is_pseudo_fs(struct vfs *v, const char *abspath)
{
	struct vfs_mount m;
	if (shell_vfs_mount_of(v, abspath, &m))
		return strcmp(m.type, "proc") == 0 || strcmp(m.type, "sysfs") == 0;
	return strcmp(abspath, "/proc") == 0 || strncmp(abspath, "/proc/", 6) == 0 ||
	       strcmp(abspath, "/sys") == 0 || strncmp(abspath, "/sys/", 5) == 0;
}

int shell_vfs_may_write(struct vfs *v, const char *abspath, const struct vstat *st)
{
	if (st && st->kind == VN_CHR)
		return 0;
	if (is_pseudo_fs(v, abspath)) {
		/* procfs and sysfs have no create operation; existing writable entries accept. */
		if (st && st->kind == VN_FILE && (st->mode & 0222))
			return 0;
		return -EACCES;
	}
	struct vfs_mount m;
	if (shell_vfs_mount_of(v, abspath, &m) && opt_has(m.opts, "ro"))
		return -EROFS;
	/* devpts has no create operation: its folder takes no new file (Mirai probes for that) */
	if (shell_vfs_mount_of(v, abspath, &m) && strcmp(m.type, "devpts") == 0 &&
	    (!st || st->kind != VN_CHR))
		return -EACCES;
	if (v->uid != 0 && st && st->kind != VN_NONE) {
		bool own = st->uid == v->uid;
		if (!(st->mode & (own ? 0200 : 0002)))
			return -EACCES;
	}
	return 0;
}

/* The folder of abspath must exist and be writable. */
static int parent_writable(struct vfs *v, const char *abspath)
{
	char dir[SH_PATH_MAX];
	lib_strlcpy(dir, abspath, sizeof(dir));
	char *s = strrchr(dir, '/');
	if (!s)
		return -ENOENT;
	if (s == dir)
		s[1] = 0;
	else
		*s = 0;
	struct vstat st;
	int rc = shell_vfs_lookup(v, dir, &st);
	if (rc)
		return rc;
	if (st.kind != VN_DIR)
		return -ENOTDIR;
	return shell_vfs_may_write(v, dir, &st);
}

/* The overlay entry for an existing path, created from the profile node if needed (for
 * metadata changes and writes). */
static struct vent *materialise(struct vfs *v, const char *abspath, const struct vstat *st)
{
	struct vent *e = ents_find(v, abspath);
	if (e && e->kind != VE_WHITEOUT)
		return e;
	if (!e)
		e = ents_insert(v, abspath);
	v->files++;
	e->kind = st->kind == VN_DIR ? VE_DIR : st->kind == VN_LINK ? VE_LINK : VE_FILE;
	e->opaque = false;
	e->mode = st->mode;
	e->uid = st->uid;
	e->gid = st->gid;
	e->mtime = st->mtime;
	if (e->kind == VE_FILE) {
		e->data = vdata_new();
		e->data->ro = st->data;
		e->data->len = st->size;
	} else if (e->kind == VE_LINK) {
		e->target = xstrdup(st->target ? st->target : "");
	}
	return e;
}

static int new_entry(struct vfs *v, const char *abspath, int kind, uint16_t mode, struct vent **out)
{
	if (v->files >= v->max_files)
		return -ENOSPC;
	struct vent *e = ents_find(v, abspath);
	bool was_whiteout = e && e->kind == VE_WHITEOUT;
	if (!e)
		e = ents_insert(v, abspath);
	v->files++;
	e->kind = (uint8_t)kind;
	e->mode = mode;
	e->uid = v->uid;
	e->gid = v->gid;
	e->mtime = shell_now();
	/* A new folder hides whatever the profile had under that path before it was removed. */
	e->opaque = kind == VE_DIR && (was_whiteout || !shell_prof_node(v->prof, abspath));
	*out = e;
	return 0;
}

int shell_vfs_open_write(struct vfs *v, const char *cwd, const char *path, int flags,
			 struct vdata **out, bool *discard, int *dev, char *abspath)
{
	struct vstat st;
	bool pok;
	*out = NULL;
	*discard = false;
	*dev = VDEV_NONE;
	int rc = shell_vfs_resolve(v, cwd, path, true, abspath, &st, &pok);
	if (rc == -ENOENT && pok) {
		if (flags & VFS_NOCREAT)
			return -ENOENT;
		rc = parent_writable(v, abspath);
		if (rc)
			return rc;
		struct vent *e;
		rc = new_entry(v, abspath, VE_FILE, 0644, &e);
		if (rc)
			return rc;
		e->data = vdata_new();
		shell_vdata_ref(e->data);
		*out = e->data;
		return 0;
	}
	if (rc)
		return rc;
	if (st.kind == VN_DIR)
		return -EISDIR;
	if (st.kind == VN_CHR) {
		*dev = st.dev;
		*discard = true;
		return 0;
	}
	if (flags & VFS_EXCL)
		return -EEXIST;
	rc = shell_vfs_may_write(v, abspath, &st);
	if (rc)
		return rc;
	if (is_pseudo_fs(v, abspath)) {
		*discard = true;
		return 0;
	}
	struct vent *e = materialise(v, abspath, &st);
	if (flags & VFS_TRUNC)
		shell_vfs_truncate(v, e->data, abspath);
	shell_vdata_ref(e->data);
	*out = e->data;
	return 0;
}

int shell_vfs_put_file(struct vfs *v, const char *abspath, const uint8_t *p, size_t n, bool ro,
		       bool attacker, bool download, const char *method, uint16_t mode)
{
	struct vstat st;
	int rc = shell_vfs_lookup(v, abspath, &st);
	struct vent *e;
	if (rc == 0) {
		if (st.kind == VN_DIR)
			return -EISDIR;
		rc = shell_vfs_may_write(v, abspath, &st);
		if (rc)
			return rc;
		if (is_pseudo_fs(v, abspath) || st.kind == VN_CHR)
			return 0;
		e = materialise(v, abspath, &st);
		if (e->kind != VE_FILE)
			return -EEXIST;
		shell_vfs_truncate(v, e->data, abspath);
	} else {
		rc = parent_writable(v, abspath);
		if (rc)
			return rc;
		rc = new_entry(v, abspath, VE_FILE, mode, &e);
		if (rc)
			return rc;
		e->data = vdata_new();
	}
	struct vdata *vd = e->data;
	if (ro) {
		if (vd->owned) {
			free(vd->buf);
			vd->buf = NULL;
			vd->cap = 0;
			vd->owned = false;
		}
		vd->ro = p;
		vd->len = n;
		vdata_charge(v, vd, 0);
		return 0;
	}
	rc = shell_vfs_write(v, vd, p, n, attacker, method, abspath);
	vd->download = download;
	e->mtime = shell_now();
	return rc;
}

/* ------------------------------------------------------------------ tree changes */

int shell_vfs_mkdir(struct vfs *v, const char *abspath, uint16_t mode)
{
	struct vstat st;
	if (shell_vfs_lookup(v, abspath, &st) == 0)
		return -EEXIST;
	int rc = parent_writable(v, abspath);
	if (rc)
		return rc;
	struct vent *e;
	return new_entry(v, abspath, VE_DIR, mode & 07777, &e);
}

int shell_vfs_symlink(struct vfs *v, const char *target, const char *abspath)
{
	struct vstat st;
	if (shell_vfs_lookup(v, abspath, &st) == 0)
		return -EEXIST;
	int rc = parent_writable(v, abspath);
	if (rc)
		return rc;
	struct vent *e;
	rc = new_entry(v, abspath, VE_LINK, 0777, &e);
	if (rc)
		return rc;
	e->target = xstrdup(target);
	return 0;
}

int shell_vfs_link(struct vfs *v, const char *existing, const char *abspath)
{
	struct vstat st, st2;
	int rc = shell_vfs_lookup(v, existing, &st);
	if (rc)
		return rc;
	if (st.kind == VN_DIR)
		return -EPERM;
	if (shell_vfs_lookup(v, abspath, &st2) == 0)
		return -EEXIST;
	rc = parent_writable(v, abspath);
	if (rc)
		return rc;
	if (st.kind != VN_FILE)
		return -EPERM;
	struct vent *src = materialise(v, existing, &st);
	struct vent *e;
	rc = new_entry(v, abspath, VE_FILE, src->mode, &e);
	if (rc)
		return rc;
	e->data = src->data;
	shell_vdata_ref(e->data);
	return 0;
}

/* Hides a path: drops its overlay entry and, if the profile has it, leaves a whiteout. */
static void hide_path(struct vfs *v, const char *abspath)
{
	bool in_prof = (shell_prof_node(v->prof, abspath) || prof_implicit_dir(v->prof, abspath)) &&
		       !path_hidden(v, abspath);
	size_t i = ents_lower(v, abspath);
	bool have = i < v->n && strcmp(v->ents[i]->path, abspath) == 0;
	if (!in_prof) {
		if (have)
			ents_remove_at(v, i);
		return;
	}
	struct vent *e = have ? v->ents[i] : ents_insert(v, abspath);
	if (have)
		vent_release(v, e);
	e->kind = VE_WHITEOUT;
	e->opaque = false;
}

int shell_vfs_unlink(struct vfs *v, const char *abspath)
{
	struct vstat st;
	int rc = shell_vfs_lookup(v, abspath, &st);
	if (rc)
		return rc;
	if (st.kind == VN_DIR)
		return -EISDIR;
	rc = parent_writable(v, abspath);
	if (rc)
		return rc;
	if (st.kind == VN_CHR)
		return 0;
	if (st.ve && st.ve->data)
		shell_vfs_report(v, st.ve->data, abspath);
	hide_path(v, abspath);
	return 0;
}

int shell_vfs_rmdir(struct vfs *v, const char *abspath)
{
	struct vstat st;
	int rc = shell_vfs_lookup(v, abspath, &st);
	if (rc)
		return rc;
	if (st.kind != VN_DIR)
		return -ENOTDIR;
	if (strcmp(abspath, "/") == 0)
		return -EBUSY;
	char **names;
	long n = shell_vfs_list(v, abspath, &names);
	if (n < 0)
		return (int)n;
	shell_vfs_names_free(names, (size_t)n);
	if (n > 0)
		return -ENOTEMPTY;
	rc = parent_writable(v, abspath);
	if (rc)
		return rc;
	hide_path(v, abspath);
	return 0;
}

/* Drops every overlay entry strictly below abspath (reporting attacker files first). */
static void drop_below(struct vfs *v, const char *abspath)
{
	char pre[SH_PATH_MAX + 2];
	size_t n = strlen(abspath);
	if (n == 1)
		n = 0;
	memcpy(pre, abspath, n);
	pre[n] = '/';
	pre[n + 1] = 0;
	size_t i = ents_lower(v, pre);
	while (i < v->n && strncmp(v->ents[i]->path, pre, n + 1) == 0) {
		struct vent *e = v->ents[i];
		if (e->data)
			shell_vfs_report(v, e->data, e->path);
		ents_remove_at(v, i);
	}
}

int shell_vfs_remove_tree(struct vfs *v, const char *abspath)
{
	struct vstat st;
	int rc = shell_vfs_lookup(v, abspath, &st);
	if (rc)
		return rc;
	if (st.kind != VN_DIR)
		return shell_vfs_unlink(v, abspath);
	if (strcmp(abspath, "/") == 0)
		return -EBUSY;
	rc = parent_writable(v, abspath);
	if (rc)
		return rc;
	if (shell_vfs_mount_below(v, abspath))
		return -EBUSY;
	/* Read-only or pseudo subtrees below a writable folder (a mount): refuse as the device. */
	struct vfs_mount m, pm;
	if (shell_vfs_mount_of(v, abspath, &m)) {
		char dir[SH_PATH_MAX];
		lib_strlcpy(dir, abspath, sizeof(dir));
		char *s = strrchr(dir, '/');
		if (s == dir)
			s[1] = 0;
		else if (s)
			*s = 0;
		if (shell_vfs_mount_of(v, dir, &pm) && strcmp(m.dir, pm.dir) != 0)
			return -EBUSY;
	}
	drop_below(v, abspath);
	hide_path(v, abspath);
	return 0;
}

int shell_vfs_rename(struct vfs *v, const char *from, const char *to)
{
	struct vstat st, st2;
	int rc = shell_vfs_lookup(v, from, &st);
	if (rc)
		return rc;
	if (strcmp(from, to) == 0)
		return 0;
	size_t fl = strlen(from);
	if (st.kind == VN_DIR && strncmp(to, from, fl) == 0 && to[fl] == '/')
		return -EINVAL;
	rc = parent_writable(v, from);
	if (rc)
		return rc;
	rc = parent_writable(v, to);
	if (rc)
		return rc;
	if (shell_vfs_lookup(v, to, &st2) == 0) {
		if (st2.kind == VN_DIR && st.kind != VN_DIR)
			return -EISDIR;
		if (st2.kind != VN_DIR && st.kind == VN_DIR)
			return -ENOTDIR;
		if (st2.kind == VN_DIR) {
			char **names;
			long n = shell_vfs_list(v, to, &names);
			if (n > 0) {
				shell_vfs_names_free(names, (size_t)n);
				return -ENOTEMPTY;
			}
			if (n == 0)
				shell_vfs_names_free(names, 0);
		}
		if (st2.ve && st2.ve->data)
			shell_vfs_report(v, st2.ve->data, to);
		drop_below(v, to);
		hide_path(v, to);
	}
	if (st.kind == VN_DIR) {
		/* Moving a folder: materialise its whole subtree under the new name. */
		char **names;
		long n = shell_vfs_list(v, from, &names);
		if (n < 0)
			return (int)n;
		struct vent *e;
		rc = new_entry(v, to, VE_DIR, st.mode, &e);
		if (rc) {
			shell_vfs_names_free(names, (size_t)n);
			return rc;
		}
		e->opaque = true;
		e->uid = st.uid;
		e->gid = st.gid;
		e->mtime = st.mtime;
		for (long i = 0; i < n && rc == 0; i++) {
			char a[SH_PATH_MAX], b[SH_PATH_MAX];
			if (shell_vfs_join(from, names[i], a) || shell_vfs_join(to, names[i], b)) {
				rc = -ENAMETOOLONG;
				break;
			}
			rc = shell_vfs_rename(v, a, b);
		}
		shell_vfs_names_free(names, (size_t)n);
		if (rc)
			return rc;
		hide_path(v, from);
		return 0;
	}
	struct vent *src = materialise(v, from, &st);
	struct vent *e;
	int kind = src->kind;
	rc = new_entry(v, to, kind, src->mode, &e);
	if (rc)
		return rc;
	/* new_entry may have moved the array: look the source up again. */
	src = ents_find(v, from);
	e->uid = src->uid;
	e->gid = src->gid;
	e->mtime = src->mtime;
	e->data = src->data;
	src->data = NULL;
	e->target = src->target;
	src->target = NULL;
	hide_path(v, from);
	return 0;
}

/* The overlay entry an ownership or mode change modifies: 0 and *out (NULL for a device,
 * which keeps its attributes), or -EROFS, -EPERM, -ENOENT. */
static int attr_entry(struct vfs *v, const char *abspath, bool owner_may, struct vent **out)
{
	struct vstat st;
	*out = NULL;
	int rc = shell_vfs_lookup(v, abspath, &st);
	if (rc)
		return rc;
	if (st.kind == VN_CHR)
		return 0;
	struct vfs_mount m;
	if (shell_vfs_mount_of(v, abspath, &m) && opt_has(m.opts, "ro"))
		return -EROFS;
	if (is_pseudo_fs(v, abspath))
		return -EPERM;
	if (v->uid != 0 && !(owner_may && st.uid == v->uid))
		return -EPERM;
	*out = materialise(v, abspath, &st);
	return 0;
}

int shell_vfs_chmod(struct vfs *v, const char *abspath, uint16_t mode)
{
	struct vent *e;
	int rc = attr_entry(v, abspath, true, &e);
	if (!rc && e)
		e->mode = mode & 07777;
	return rc;
}

int shell_vfs_chown(struct vfs *v, const char *abspath, int64_t uid, int64_t gid)
{
	struct vent *e;
	int rc = attr_entry(v, abspath, false, &e);
	if (!rc && e) {
		if (uid >= 0)
			e->uid = (uint32_t)uid;
		if (gid >= 0)
			e->gid = (uint32_t)gid;
	}
	return rc;
}

int shell_vfs_touch(struct vfs *v, const char *abspath, int64_t mtime)
{
	struct vstat st;
	int rc = shell_vfs_lookup(v, abspath, &st);
	if (rc)
		return rc;
	if (st.kind == VN_CHR)
		return 0;
	rc = shell_vfs_may_write(v, abspath, &st);
	if (rc)
		return rc;
	if (is_pseudo_fs(v, abspath))
		return 0;
	struct vent *e = materialise(v, abspath, &st);
	e->mtime = mtime;
	return 0;
}

/* ------------------------------------------------------------------ listing */

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void shell_vfs_names_add(char ***names, size_t *n, size_t *cap, const char *s, size_t len)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*names = xrealloc(*names, *cap * sizeof(**names));
	}
	(*names)[(*n)++] = xstrndup(s, len);
}

long shell_vfs_list(struct vfs *v, const char *absdir, char ***out)
{
	struct vstat st;
	int rc = shell_vfs_lookup(v, absdir, &st);
	if (rc)
		return rc;
	if (st.kind != VN_DIR)
		return -ENOTDIR;
	bool hidden = st.opaque || path_hidden(v, absdir);
	char pre[SH_PATH_MAX + 2];
	size_t pl = strlen(absdir);
	if (pl == 1)
		pl = 0;
	memcpy(pre, absdir, pl);
	pre[pl] = '/';
	pre[pl + 1] = 0;
	pl++;
	char **names = NULL;
	size_t n = 0, cap = 0;
	if (!hidden && v->prof) {
		for (size_t i = prof_lower(v->prof, pre); i < v->prof->nnodes; i++) {
			const char *p = v->prof->nodes[i].path;
			if (strncmp(p, pre, pl) != 0)
				break;
			const char *c = p + pl;
			const char *sl = strchr(c, '/');
			size_t cl = sl ? (size_t)(sl - c) : strlen(c);
			if (!cl)
				continue;
			shell_vfs_names_add(&names, &n, &cap, c, cl);
		}
	}
	for (size_t i = 0; !hidden && i < LIB_ARRAY_LEN(devices); i++) {
		const char *base = strrchr(devices[i].path, '/');
		if ((size_t)(base - devices[i].path) == strlen(absdir) &&
		    strncmp(devices[i].path, absdir, strlen(absdir)) == 0)
			shell_vfs_names_add(&names, &n, &cap, base + 1, strlen(base + 1));
	}
	if (!hidden && v->proc_names &&
	    (strcmp(absdir, "/proc") == 0 || strncmp(absdir, "/proc/", 6) == 0))
		v->proc_names(v->proc_arg, absdir, &names, &n, &cap);
	const char *mp, *mend;
	struct vfs_mount m;
	if (!hidden && strcmp(absdir, "/dev") == 0 && mounts_text(v, &mp, &mend))
		while (next_mount(&mp, mend, &m))
			if (strncmp(m.dev, "/dev/", 5) == 0 && !strchr(m.dev + 5, '/') &&
			    !is_kernel_root(m.dev))
				shell_vfs_names_add(&names, &n, &cap, m.dev + 5, strlen(m.dev + 5));
	for (size_t i = ents_lower(v, pre); i < v->n; i++) {
		const char *p = v->ents[i]->path;
		if (strncmp(p, pre, pl) != 0)
			break;
		const char *c = p + pl;
		if (strchr(c, '/'))
			continue;
		shell_vfs_names_add(&names, &n, &cap, c, strlen(c));
	}
	if (n)
		qsort(names, n, sizeof(*names), names_cmp);
	/* Unique, and only names that exist in the merged view. */
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && strcmp(names[w - 1], names[i]) == 0) {
			free(names[i]);
			continue;
		}
		char full[SH_PATH_MAX];
		struct vstat cs;
		if (shell_vfs_join(absdir, names[i], full) || lookup_one(v, full, hidden, &cs)) {
			free(names[i]);
			continue;
		}
		names[w++] = names[i];
	}
	*out = names;
	return (long)w;
}

void shell_vfs_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ------------------------------------------------------------------ life cycle */

void shell_vfs_init(struct vfs *v, const struct profile *p, size_t max_bytes, size_t max_files,
		    uint32_t uid, uint32_t gid)
{
	memset(v, 0, sizeof(*v));
	v->prof = p;
	v->max_bytes = max_bytes;
	v->max_files = max_files;
	v->uid = uid;
	v->gid = gid;
}

void shell_vfs_fini(struct vfs *v)
{
	for (size_t i = 0; i < v->n; i++) {
		struct vent *e = v->ents[i];
		if (e->data)
			shell_vfs_report(v, e->data, e->path);
	}
	for (size_t i = 0; i < v->n; i++) {
		vent_release(v, v->ents[i]);
		free(v->ents[i]->path);
		free(v->ents[i]);
	}
	free(v->ents);
	v->ents = NULL;
	v->n = v->cap = 0;
	for (size_t i = 0; i < v->ngen; i++) {
		free(v->gen[i].path);
		buf_free(&v->gen[i].data);
	}
	free(v->gen);
	v->gen = NULL;
	v->ngen = 0;
}
