/* The profile loader: profile.ini (libinih) and the fs/ tree become one read-only struct
 * profile, with /bin/busybox, its libraries and the applet links generated, then checked for
 * the consistency bots test (uname, ELF header, /proc/cpuinfo, /proc/version, /proc/mounts). */
#include "profile/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/lib.h"

/* A [commands] NAME.file text. */
#define PROFILE_MAX_COMMAND_FILE (64u * 1024)

enum origin { ORIGIN_ROOT, ORIGIN_FS, ORIGIN_INI, ORIGIN_GEN, ORIGIN_APPLET, ORIGIN_PARENT };

struct tnode {
	struct profile_node n;
	enum origin origin;
	int line; /* profile.ini line for ORIGIN_INI */
};

/* A generated ELF: a library ([elf] lib) or another executable ([elf] exe). */
struct lib_spec {
	char *path;
	size_t size;
	char *soname;  /* library: DT_SONAME; executable: NULL */
	char **needed; /* executable: its DT_NEEDED */
	size_t nneeded;
	int line;
};

struct meta {
	char *path;
	mode_t mode;
	bool has_ids, has_mtime;
	uint32_t uid, gid;
	int64_t mtime;
	int line;
};

struct ctx {
	struct profile *p;
	const char *dir; /* profile folder, or NULL */
	char *label;     /* "DIR/profile.ini" for messages */
	char *err;
	size_t errlen;
	bool failed;
	int err_line;
	/* reader */
	const char *text;
	size_t len, pos;
	int line;
	bool parsing;
	/* collected from the ini */
	uint64_t seen; /* bit per scalar key of keys[] */
	bool elf_class_set, elf_data_set, elf_machine_set, elf_size_set, fs_mtime_set;
	char *busybox_build;
	char **applet_specs;
	size_t napplet_specs;
	struct lib_spec *libs;
	size_t nlibs;
	struct meta *metas;
	size_t nmetas;
	int64_t mtime;
	struct tnode *nodes;
	size_t nnodes, capnodes;
	size_t total_bytes;
};

static void LIB_PRINTF(3, 4) fail_at(struct ctx *c, int line, const char *fmt, ...)
{
	if (c->failed)
		return;
	c->failed = true;
	c->err_line = line;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(c->err, c->errlen, "%s:%d: %s", c->label, line, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->label, msg);
}
/* While inih runs, errors carry the line being parsed; afterwards they name no line. */
#define fail(c, ...) fail_at((c), (c)->parsing ? (c)->line : 0, __VA_ARGS__)

/* ------------------------------------------------------------------ values */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* A value as written: plain text is taken literally; "double quoted" text keeps its leading
 * and trailing spaces and decodes \n \r \t \e \a \b \f \v \\ \" \' and \xHH. NUL is refused
 * (values are C strings). Returns 0 and a malloc'ed string, or -EINVAL with a reason. */
static int decode_value(const char *in, char **out, char *why, size_t whylen)
{
	size_t n = strlen(in);
	if (n < 2 || in[0] != '"' || in[n - 1] != '"') {
		*out = xstrdup(in);
		return 0;
	}
	char *o = xmalloc(n);
	size_t k = 0;
	for (size_t i = 1; i < n - 1; i++) {
		char ch = in[i];
		if (ch == '"') {
			snprintf(why, whylen, "unescaped \" inside a quoted value (write \\\")");
			goto bad;
		}
		if (ch != '\\') {
			o[k++] = ch;
			continue;
		}
		if (++i >= n - 1) {
			snprintf(why, whylen, "a quoted value ends with a lone backslash");
			goto bad;
		}
		switch (in[i]) {
		case 'n': o[k++] = '\n'; break;
		case 'r': o[k++] = '\r'; break;
		case 't': o[k++] = '\t'; break;
		case 'e': o[k++] = '\033'; break;
		case 'a': o[k++] = '\a'; break;
		case 'b': o[k++] = '\b'; break;
		case 'f': o[k++] = '\f'; break;
		case 'v': o[k++] = '\v'; break;
		case '\\': o[k++] = '\\'; break;
		case '"': o[k++] = '"'; break;
		case '\'': o[k++] = '\''; break;
		case 'x': {
			int hi = i + 1 < n - 1 ? hexval((unsigned char)in[i + 1]) : -1;
			int lo = i + 2 < n - 1 ? hexval((unsigned char)in[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				snprintf(why, whylen, "\\x needs two hex digits");
				goto bad;
			}
			if (hi == 0 && lo == 0) {
				snprintf(why, whylen, "\\x00: values cannot hold NUL bytes");
				goto bad;
			}
			o[k++] = (char)(hi * 16 + lo);
			i += 2;
			break;
		}
		default:
			snprintf(why, whylen, "unknown escape \\%c",
				 isprint((unsigned char)in[i]) ? in[i] : '?');
			goto bad;
		}
	}
	o[k] = '\0';
	*out = o;
	return 0;
bad:
	free(o);
	return -EINVAL;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* An absolute, normalised path: "/", or "/a/b" without "." "..", empty components or a
 * trailing slash, no control characters, at most PROFILE_MAX_PATH bytes. */
static bool valid_path(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PROFILE_MAX_PATH || s[0] != '/' || has_ctl(s))
		return false;
	if (n == 1)
		return true;
	if (s[n - 1] == '/')
		return false;
	int depth = 0;
	for (const char *c = s; *c;) {
		c++; /* past '/' */
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (++depth > PROFILE_MAX_DEPTH)
			return false;
		c += l;
	}
	return true;
}

/* Splits s at runs of blanks, in place: up to max tokens; the last one keeps the rest of the
 * line when `rest` is set. Returns the count. */
static int split(char *s, char **tok, int max, bool rest)
{
	int n = 0;
	while (*s && n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		tok[n++] = s;
		if (rest && n == max)
			break;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
	if (rest && n == max) {
		char *e = tok[n - 1] + strlen(tok[n - 1]);
		while (e > tok[n - 1] && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
	}
	return n;
}

static int parse_uint(const char *s, int base, unsigned long long max, unsigned long long *out)
{
	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ nodes */

static struct tnode *add_node(struct ctx *c, const char *path, enum profile_node_type type,
			      enum origin origin)
{
	if (c->nnodes >= PROFILE_MAX_NODES) {
		fail(c, "more than %d files, folders and links (PROFILE_MAX_NODES)",
		     PROFILE_MAX_NODES);
		return NULL;
	}
	if (c->nnodes == c->capnodes) {
		c->capnodes = c->capnodes ? c->capnodes * 2 : 256;
		c->nodes = xrealloc(c->nodes, c->capnodes * sizeof(*c->nodes));
	}
	struct tnode *t = &c->nodes[c->nnodes++];
	memset(t, 0, sizeof(*t));
	t->n.path = xstrdup(path);
	t->n.type = type;
	t->n.mode = type == PROFILE_DIR ? 0755 : type == PROFILE_LINK ? 0777 : 0644;
	t->origin = origin;
	t->line = c->line;
	return t;
}

static bool add_bytes(struct ctx *c, size_t n, const char *what)
{
	if (n > PROFILE_MAX_FILE_BYTES) {
		fail(c, "%s: %zu bytes is larger than PROFILE_MAX_FILE_BYTES (%u)", what, n,
		     PROFILE_MAX_FILE_BYTES);
		return false;
	}
	c->total_bytes += n;
	if (c->total_bytes > PROFILE_MAX_BYTES) {
		fail(c, "%s: the profile's files exceed PROFILE_MAX_BYTES (%u bytes)", what,
		     PROFILE_MAX_BYTES);
		return false;
	}
	return true;
}

static void free_node(struct profile_node *n)
{
	free(n->path);
	free(n->target);
	free((void *)n->data);
}

static int tnode_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tnode *)a)->n.path, ((const struct tnode *)b)->n.path);
}

static struct tnode *find_tnode(struct ctx *c, const char *path)
{
	struct tnode key = {.n.path = (char *)path};
	return bsearch(&key, c->nodes, c->nnodes, sizeof(*c->nodes), tnode_cmp);
}

/* ------------------------------------------------------------------ ini */

enum kind {
	K_TEXT,   /* one line of text */
	K_WORD,   /* one word: no blanks */
	K_BYTES,  /* any bytes but NUL: [telnet] texts */
	K_PROMPT, /* shell prompt with %h %w %u %$ %% */
	K_PATH,   /* absolute path */
	K_IPATH,  /* absolute path or empty */
};

struct key {
	const char *section, *name;
	size_t off;
	enum kind kind;
	bool required;
	const char *def;
};

#define F(field) offsetof(struct profile, field)
static const struct key keys[] = {
	{"device", "description", F(description), K_TEXT, true, NULL},
	{"device", "category", F(category), K_WORD, true, NULL},
	{"device", "vendor", F(vendor), K_TEXT, false, ""},
	{"telnet", "banner", F(banner), K_BYTES, false, NULL},
	{"telnet", "login_prompt", F(login_prompt), K_BYTES, true, NULL},
	{"telnet", "password_prompt", F(password_prompt), K_BYTES, true, NULL},
	{"telnet", "login_incorrect", F(login_incorrect), K_BYTES, true, NULL},
	{"telnet", "motd", F(motd), K_BYTES, false, ""},
	{"shell", "hostname", F(hostname), K_WORD, true, NULL},
	{"shell", "user", F(user), K_WORD, false, "root"},
	{"shell", "home", F(home), K_PATH, false, "/"},
	{"shell", "prompt", F(prompt), K_PROMPT, true, NULL},
	{"shell", "shell_name", F(shell_name), K_WORD, false, "-sh"},
	{"shell", "path", F(path), K_WORD, false, "/bin:/sbin:/usr/bin:/usr/sbin"},
	{"busybox", "version", F(busybox_version), K_WORD, true, NULL},
	{"busybox", "banner", F(busybox_banner), K_TEXT, false, NULL},
	{"system", "uname_s", F(uname_s), K_TEXT, false, "Linux"},
	{"system", "uname_r", F(uname_r), K_WORD, true, NULL},
	{"system", "uname_v", F(uname_v), K_TEXT, true, NULL},
	{"system", "uname_m", F(uname_m), K_WORD, true, NULL},
	{"system", "uname_o", F(uname_o), K_TEXT, false, "GNU/Linux"},
	{"system", "cpu_arch", F(cpu_arch), K_WORD, true, NULL},
	{"elf", "interp", F(elf.interp), K_IPATH, false, ""},
};
#undef F

static char **field(struct profile *p, const struct key *k)
{
	return (char **)((char *)p + k->off);
}

static bool check_kind(struct ctx *c, const struct key *k, const char *v)
{
	switch (k->kind) {
	case K_TEXT:
		if (has_ctl(v)) {
			fail(c, "[%s] %s: control characters are not allowed here", k->section,
			     k->name);
			return false;
		}
		return true;
	case K_WORD:
		if (!*v || has_ctl(v) || strpbrk(v, " \t")) {
			fail(c, "[%s] %s: must be one word", k->section, k->name);
			return false;
		}
		return true;
	case K_BYTES: return true;
	case K_PROMPT:
		for (const char *s = v; *s; s++) {
			if (*s != '%')
				continue;
			s++;
			if (!*s || !strchr("hwu$%", *s)) {
				fail(c,
				     "[%s] %s: unknown placeholder %%%c (use %%h %%w %%u %%$ %%%%)",
				     k->section, k->name, *s ? *s : ' ');
				return false;
			}
		}
		return true;
	case K_PATH:
	case K_IPATH:
		if ((k->kind == K_IPATH && !*v) || valid_path(v))
			return true;
		fail(c, "[%s] %s: '%s' is not an absolute, normalised path", k->section, k->name,
		     v);
		return false;
	}
	return false;
}

static bool parse_machine(const char *v, int *out)
{
	static const struct {
		const char *name;
		int id;
	} names[] = {
		{"sparc", 2}, {"386", 3},  {"i386", 3},    {"x86", 3},
		{"m68k", 4},  {"mips", 8}, {"ppc", 20},    {"powerpc", 20},
		{"arm", 40},  {"sh", 42},  {"x86_64", 62}, {"aarch64", 183},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(names); i++)
		if (strcasecmp(v, names[i].name) == 0) {
			*out = names[i].id;
			return true;
		}
	unsigned long long n;
	if (parse_uint(v, 0, 0xffff, &n) == 0 && n > 0) {
		*out = (int)n;
		return true;
	}
	return false;
}

static void list_push(char ***list, size_t *n, char *item)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = item;
}

static bool list_room(struct ctx *c, size_t n, const char *what)
{
	if (n < PROFILE_MAX_LIST)
		return true;
	fail(c, "more than %d %s (PROFILE_MAX_LIST)", PROFILE_MAX_LIST, what);
	return false;
}

/* [elf] needed = LIB...: the libraries /bin/busybox links. */
static bool elf_needed(struct ctx *c, char *v)
{
	struct profile_elf *e = &c->p->elf;
	char *tok[64];
	int nt = split(v, tok, 64, false);
	for (int i = 0; i < nt; i++) {
		if (strchr(tok[i], '/') || has_ctl(tok[i]))
			return fail(c,
				    "[elf] needed: '%s' is a library name like libc.so.0, "
				    "not a path",
				    tok[i]),
			       false;
		if (!list_room(c, e->nneeded, "needed libraries"))
			return false;
		list_push(&e->needed, &e->nneeded, xstrdup(tok[i]));
	}
	return true;
}

/* [elf] lib = PATH SIZE [SONAME]: a generated shared library. */
static bool elf_lib(struct ctx *c, char *v)
{
	char *tok[4];
	unsigned long long sz;
	int nt = split(v, tok, 4, false);
	if (nt < 2 || nt > 3)
		return fail(c, "[elf] lib: PATH SIZE [SONAME]"), false;
	if (!valid_path(tok[0]))
		return fail(c, "[elf] lib: '%s' is not an absolute, normalised path", tok[0]),
		       false;
	if (lib_parse_size(tok[1], &sz) || sz > PROFILE_MAX_FILE_BYTES)
		return fail(c, "[elf] lib: bad size '%s'", tok[1]), false;
	if (nt == 3 && (strchr(tok[2], '/') || has_ctl(tok[2])))
		return fail(c, "[elf] lib: bad soname '%s'", tok[2]), false;
	if (!list_room(c, c->nlibs, "generated files"))
		return false;
	c->libs = xrealloc(c->libs, (c->nlibs + 1) * sizeof(*c->libs));
	c->libs[c->nlibs++] =
		(struct lib_spec){.path = xstrdup(tok[0]),
				  .size = (size_t)sz,
				  .soname = xstrdup(nt == 3 ? tok[2] : strrchr(tok[0], '/') + 1),
				  .line = c->line};
	return true;
}

/* [elf] exe = PATH SIZE [NEEDED...]: another generated program. */
static bool elf_exe(struct ctx *c, char *v)
{
	char *tok[66];
	unsigned long long sz;
	int nt = split(v, tok, 66, false);
	if (nt < 2 || nt > 65)
		return fail(c, "[elf] exe: PATH SIZE [NEEDED...]"), false;
	if (!valid_path(tok[0]))
		return fail(c, "[elf] exe: '%s' is not an absolute, normalised path", tok[0]),
		       false;
	if (lib_parse_size(tok[1], &sz) || sz > PROFILE_MAX_FILE_BYTES)
		return fail(c, "[elf] exe: bad size '%s'", tok[1]), false;
	if (!list_room(c, c->nlibs, "generated files"))
		return false;
	struct lib_spec l = {.path = xstrdup(tok[0]), .size = (size_t)sz, .line = c->line};
	for (int i = 2; i < nt; i++) {
		if (strchr(tok[i], '/') || has_ctl(tok[i])) {
			free(l.path);
			for (size_t j = 0; j < l.nneeded; j++)
				free(l.needed[j]);
			free(l.needed);
			return fail(c, "[elf] exe: '%s' is a library name, not a path", tok[i]),
			       false;
		}
		list_push(&l.needed, &l.nneeded, xstrdup(tok[i]));
	}
	c->libs = xrealloc(c->libs, (c->nlibs + 1) * sizeof(*c->libs));
	c->libs[c->nlibs++] = l;
	return true;
}

static bool on_elf(struct ctx *c, const char *name, char *v)
{
	struct profile_elf *e = &c->p->elf;
	unsigned long long n;
	if (strcmp(name, "class") == 0) {
		if (strcmp(v, "32") == 0)
			e->elf_class = 1;
		else if (strcmp(v, "64") == 0)
			e->elf_class = 2;
		else
			return fail(c, "[elf] class: 32 or 64, not '%s'", v), false;
		c->elf_class_set = true;
	} else if (strcmp(name, "data") == 0) {
		if (strcasecmp(v, "lsb") == 0 || strcasecmp(v, "little") == 0)
			e->data = 1;
		else if (strcasecmp(v, "msb") == 0 || strcasecmp(v, "big") == 0)
			e->data = 2;
		else
			return fail(c,
				    "[elf] data: lsb (little endian) or msb (big endian), not '%s'",
				    v),
			       false;
		c->elf_data_set = true;
	} else if (strcmp(name, "machine") == 0) {
		if (!parse_machine(v, &e->machine))
			return fail(c,
				    "[elf] machine: unknown machine '%s' (arm, mips, ppc, sh, "
				    "i386, "
				    "x86_64, aarch64, sparc, m68k or a number)",
				    v),
			       false;
		c->elf_machine_set = true;
	} else if (strcmp(name, "flags") == 0) {
		if (parse_uint(v, 0, 0xffffffffu, &n))
			return fail(c, "[elf] flags: not a 32-bit number: '%s'", v), false;
		e->flags = (uint32_t)n;
	} else if (strcmp(name, "osabi") == 0) {
		if (strcasecmp(v, "sysv") == 0 || strcasecmp(v, "none") == 0)
			e->osabi = 0;
		else if (strcasecmp(v, "linux") == 0 || strcasecmp(v, "gnu") == 0)
			e->osabi = 3;
		else if (strcasecmp(v, "arm") == 0)
			e->osabi = 97;
		else if (parse_uint(v, 0, 255, &n) == 0)
			e->osabi = (int)n;
		else
			return fail(c, "[elf] osabi: sysv, linux, arm or a number, not '%s'", v),
			       false;
	} else if (strcmp(name, "busybox_size") == 0) {
		unsigned long long sz;
		if (lib_parse_size(v, &sz) || sz > PROFILE_MAX_FILE_BYTES)
			return fail(c,
				    "[elf] busybox_size: a size up to %u bytes (K and M suffixes), "
				    "not '%s'",
				    PROFILE_MAX_FILE_BYTES, v),
			       false;
		e->busybox_size = (size_t)sz;
		c->elf_size_set = true;
	} else if (strcmp(name, "needed") == 0) {
		return elf_needed(c, v);
	} else if (strcmp(name, "lib") == 0) {
		return elf_lib(c, v);
	} else if (strcmp(name, "exe") == 0) {
		return elf_exe(c, v);
	} else {
		return fail(c, "[elf] unknown key '%s'", name), false;
	}
	return true;
}

/* [telnet] write_size and throughput: whole numbers of bytes (per second). */
static bool on_telnet_pace(struct ctx *c, const char *name, const char *v)
{
	bool write = strcmp(name, "write_size") == 0;
	unsigned long long x;
	unsigned long long lo = write ? PROFILE_TELNET_WRITE_MIN : PROFILE_TELNET_THROUGHPUT_MIN;
	unsigned long long hi = write ? PROFILE_TELNET_WRITE_MAX : PROFILE_TELNET_THROUGHPUT_MAX;
	if (write ? c->p->telnet_write_size != 0 : c->p->telnet_throughput != 0) {
		fail(c, "[telnet] %s is given twice", name);
		return false;
	}
	if (parse_uint(v, 10, hi, &x) || x < lo) {
		fail(c, "[telnet] %s: a number of bytes from %llu to %llu", name, lo, hi);
		return false;
	}
	if (write)
		c->p->telnet_write_size = (size_t)x;
	else
		c->p->telnet_throughput = x;
	return true;
}

static bool on_busybox_list(struct ctx *c, char *v)
{
	char *tok[64];
	int nt = split(v, tok, 64, false);
	for (int i = 0; i < nt; i++) {
		const char *name = strrchr(tok[i], '/');
		name = name ? name + 1 : tok[i];
		if (!*name || has_ctl(tok[i]) || (tok[i][0] == '/' && !valid_path(tok[i])) ||
		    (tok[i][0] != '/' && strchr(tok[i], '/')))
			return fail(c,
				    "[busybox] applets: bad applet '%s' (a name, or an absolute "
				    "path "
				    "for an unusual folder)",
				    tok[i]),
			       false;
		if (!list_room(c, c->napplet_specs, "applets"))
			return false;
		list_push(&c->applet_specs, &c->napplet_specs, xstrdup(tok[i]));
	}
	return true;
}

static bool on_credential(struct ctx *c, const char *name, const char *v)
{
	if (strcmp(name, "accept") != 0)
		return fail(c, "[credentials] unknown key '%s' (write accept = USER:PASSWORD)",
			    name),
		       false;
	const char *colon = strchr(v, ':');
	if (!colon)
		return fail(c, "[credentials] accept: USER:PASSWORD, not '%s'", v), false;
	if (!list_room(c, c->p->ncreds, "credentials"))
		return false;
	struct profile *p = c->p;
	p->creds = xrealloc(p->creds, (p->ncreds + 1) * sizeof(*p->creds));
	p->creds[p->ncreds++] = (struct profile_cred){.username = xstrndup(v, (size_t)(colon - v)),
						      .password = xstrdup(colon + 1)};
	return true;
}

static bool on_proc(struct ctx *c, const char *name, char *v)
{
	if (strcmp(name, "proc") != 0)
		return fail(c, "[ps] unknown key '%s' (write proc = PID USER VSZ STAT COMMAND)",
			    name),
		       false;
	char *tok[5];
	unsigned long long pid;
	if (split(v, tok, 5, true) != 5 || has_ctl(tok[4]))
		return fail(c, "[ps] proc: PID USER VSZ STAT COMMAND"), false;
	if (parse_uint(tok[0], 10, 4194304, &pid) || pid == 0)
		return fail(c, "[ps] proc: bad pid '%s'", tok[0]), false;
	struct profile *p = c->p;
	for (size_t i = 0; i < p->nprocs; i++)
		if (p->procs[i].pid == (int)pid)
			return fail(c, "[ps] proc: pid %llu is listed twice", pid), false;
	if (!list_room(c, p->nprocs, "processes"))
		return false;
	p->procs = xrealloc(p->procs, (p->nprocs + 1) * sizeof(*p->procs));
	p->procs[p->nprocs++] = (struct profile_proc){.pid = (int)pid,
						      .user = xstrdup(tok[1]),
						      .vsz = xstrdup(tok[2]),
						      .stat = xstrdup(tok[3]),
						      .command = xstrdup(tok[4])};
	return true;
}

static bool on_net_unix(struct ctx *c, char *v, struct profile_sock *k)
{
	char *tok[3];
	unsigned long long pid;
	int nt = split(v, tok, 3, false);
	if (nt < 2 || (tok[0][0] != '/' && tok[0][0] != '@') || has_ctl(tok[0]) ||
	    parse_uint(tok[1], 10, 4194304, &pid) || (nt == 3 && strcmp(tok[2], "dgram") != 0))
		return fail(c, "[net] unix: PATH PID [dgram]"), false;
	k->dgram = nt == 3;
	k->kind = PROFILE_SOCK_UNIX;
	k->path = xstrdup(tok[0]);
	k->pid = (int)pid;
	return true;
}

/* [net] listen = tcp|udp|tcp6|udp6 ADDR:PORT PID, unix = PATH PID. */
static bool on_net(struct ctx *c, const char *name, char *v)
{
	struct profile_sock k = {0};
	if (strcmp(name, "unix") == 0) {
		if (!on_net_unix(c, v, &k))
			return false;
	} else if (strcmp(name, "listen") == 0) {
		char *tok[3];
		unsigned long long port, pid;
		if (split(v, tok, 3, false) != 3)
			return fail(c, "[net] listen: PROTO ADDR:PORT PID"), false;
		k.kind = strncmp(tok[0], "udp", 3) == 0 ? PROFILE_SOCK_UDP : PROFILE_SOCK_TCP;
		k.v6 = tok[0][3] == '6';
		char *colon = strrchr(tok[1], ':');
		if ((strncmp(tok[0], "tcp", 3) != 0 && strncmp(tok[0], "udp", 3) != 0) ||
		    (tok[0][3] && strcmp(tok[0] + 3, "6") != 0) || !colon)
			return fail(c, "[net] listen: PROTO is tcp, udp, tcp6 or udp6"), false;
		*colon = 0;
		if (inet_pton(k.v6 ? AF_INET6 : AF_INET, tok[1], k.addr) != 1 ||
		    parse_uint(colon + 1, 10, 65535, &port) ||
		    parse_uint(tok[2], 10, 4194304, &pid))
			return fail(c, "[net] listen: bad address, port or pid"), false;
		k.port = (int)port;
		k.pid = (int)pid;
	} else
		return fail(c, "[net] unknown key '%s' (write listen = or unix =)", name), false;
	struct profile *p = c->p;
	if (!list_room(c, p->nsocks, "sockets")) {
		free(k.path);
		return false;
	}
	p->socks = xrealloc(p->socks, (p->nsocks + 1) * sizeof(*p->socks));
	p->socks[p->nsocks++] = k;
	return true;
}

static struct profile_command *command_slot(struct ctx *c, const char *name, size_t n)
{
	struct profile *p = c->p;
	for (size_t i = 0; i < p->ncommands; i++)
		if (strlen(p->commands[i].name) == n && memcmp(p->commands[i].name, name, n) == 0)
			return &p->commands[i];
	if (!list_room(c, p->ncommands, "commands"))
		return NULL;
	p->commands = xrealloc(p->commands, (p->ncommands + 1) * sizeof(*p->commands));
	struct profile_command *cmd = &p->commands[p->ncommands++];
	*cmd = (struct profile_command){.name = xstrndup(name, n)};
	return cmd;
}

/* A profile-relative file for [commands] NAME.file: inside the folder, bounded. */
static bool read_rel_file(struct ctx *c, const char *rel, char **out)
{
	if (!c->dir)
		return fail(c, "[commands] %s: no profile folder to read it from", rel), false;
	if (!*rel || rel[0] == '/' || strstr(rel, "..") || has_ctl(rel))
		return fail(c,
			    "[commands] file '%s' must be a relative path inside the profile "
			    "folder",
			    rel),
		       false;
	char *path = xasprintf("%s/%s", c->dir, rel);
	uint8_t *data;
	size_t len;
	int rc = lib_read_file(path, PROFILE_MAX_COMMAND_FILE, &data, &len);
	if (rc) {
		fail(c, "%s: %s", path, rc == -EFBIG ? "larger than 64 KiB" : strerror(-rc));
		free(path);
		return false;
	}
	free(path);
	if (memchr(data, 0, len)) {
		free(data);
		return fail(c, "[commands] %s holds a NUL byte", rel), false;
	}
	*out = (char *)data;
	return true;
}

static bool on_command(struct ctx *c, const char *name, char *v)
{
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);
	if (n == 0 || has_ctl(name) || memchr(name, ' ', n) || memchr(name, '/', n))
		return fail(c, "[commands] '%s': a command name is one word", name), false;
	struct profile_command *cmd = command_slot(c, name, n);
	if (!cmd)
		return false;
	if (!dot) {
		if (cmd->output)
			return fail(c, "[commands] %s: output given twice", cmd->name), false;
		cmd->output = xstrdup(v);
	} else if (strcmp(dot, ".status") == 0) {
		unsigned long long st;
		if (parse_uint(v, 10, 255, &st))
			return fail(c, "[commands] %s.status: 0 to 255, not '%s'", cmd->name, v),
			       false;
		cmd->status = (int)st;
	} else if (strcmp(dot, ".file") == 0) {
		if (cmd->output)
			return fail(c, "[commands] %s: output given twice", cmd->name), false;
		return read_rel_file(c, v, &cmd->output);
	} else {
		return fail(c, "[commands] '%s': the suffixes are .status and .file", name), false;
	}
	return true;
}

static bool on_fs(struct ctx *c, const char *name, char *v)
{
	char *tok[6];
	if (strcmp(name, "mtime") == 0) {
		int64_t us;
		if (lib_parse_time(v, &us))
			return fail(c, "[fs] mtime: an RFC 3339 time or a date, not '%s'", v),
			       false;
		c->mtime = us / 1000000;
		c->fs_mtime_set = true;
		return true;
	}
	if (strcmp(name, "dir") == 0) {
		unsigned long long mode = 0755;
		int nt = split(v, tok, 3, false);
		if (nt < 1 || nt > 2 || !valid_path(tok[0]) ||
		    (nt == 2 && parse_uint(tok[1], 8, 07777, &mode)))
			return fail(c, "[fs] dir: PATH [MODE], with an absolute path and an octal "
				       "mode"),
			       false;
		struct tnode *t = add_node(c, tok[0], PROFILE_DIR, ORIGIN_INI);
		if (t)
			t->n.mode = (mode_t)mode;
		return t != NULL;
	}
	if (strcmp(name, "link") == 0) {
		char *arrow = strstr(v, " -> ");
		if (!arrow)
			return fail(c, "[fs] link: PATH -> TARGET"), false;
		*arrow = '\0';
		char *target = arrow + 4;
		while (*target == ' ')
			target++;
		if (split(v, tok, 2, false) != 1 || !valid_path(tok[0]) || !*target ||
		    has_ctl(target) || strlen(target) > PROFILE_MAX_PATH)
			return fail(c, "[fs] link: PATH -> TARGET, with an absolute path"), false;
		struct tnode *t = add_node(c, tok[0], PROFILE_LINK, ORIGIN_INI);
		if (t)
			t->n.target = xstrdup(target);
		return t != NULL;
	}
	if (strcmp(name, "meta") == 0) {
		unsigned long long mode, uid = 0, gid = 0;
		int nt = split(v, tok, 6, false);
		if ((nt != 2 && nt != 4 && nt != 5) || !valid_path(tok[0]) ||
		    parse_uint(tok[1], 8, 07777, &mode) ||
		    (nt >= 4 && (parse_uint(tok[2], 10, 0xffffffffu, &uid) ||
				 parse_uint(tok[3], 10, 0xffffffffu, &gid))))
			return fail(c, "[fs] meta: PATH MODE [UID GID [MTIME]] (octal mode, "
				       "numeric ids)"),
			       false;
		int64_t us = 0;
		if (nt == 5 && lib_parse_time(tok[4], &us))
			return fail(c, "[fs] meta: bad time '%s'", tok[4]), false;
		if (!list_room(c, c->nmetas, "meta lines"))
			return false;
		c->metas = xrealloc(c->metas, (c->nmetas + 1) * sizeof(*c->metas));
		c->metas[c->nmetas++] = (struct meta){.path = xstrdup(tok[0]),
						      .mode = (mode_t)mode,
						      .has_ids = nt >= 4,
						      .uid = (uint32_t)uid,
						      .gid = (uint32_t)gid,
						      .has_mtime = nt == 5,
						      .mtime = us / 1000000,
						      .line = c->line};
		return true;
	}
	return fail(c, "[fs] unknown key '%s' (mtime, dir, link, meta)", name), false;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *c = user;
	if (c->failed)
		return 0;
	char why[128];
	char *v;
	if (decode_value(value, &v, why, sizeof(why))) {
		fail(c, "[%s] %s: %s", section, name, why);
		return 0;
	}
	bool ok = false;
	for (size_t i = 0; i < LIB_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];
		if (strcmp(section, k->section) || strcmp(name, k->name))
			continue;
		if (c->seen & (1ull << i)) {
			fail(c,
			     "[%s] %s is given twice (a line starting with a blank continues the "
			     "one "
			     "before)",
			     section, name);
		} else if (check_kind(c, k, v)) {
			c->seen |= 1ull << i;
			*field(c->p, k) = v;
			return 1;
		}
		free(v);
		return 0;
	}
	if (strcmp(section, "telnet") == 0 &&
	    (strcmp(name, "write_size") == 0 || strcmp(name, "throughput") == 0))
		ok = on_telnet_pace(c, name, v);
	else if (strcmp(section, "busybox") == 0 && strcmp(name, "applets") == 0)
		ok = on_busybox_list(c, v);
	else if (strcmp(section, "busybox") == 0 && strcmp(name, "build") == 0) {
		if (c->busybox_build || has_ctl(v))
			fail(c, "[busybox] build: one line, given once");
		else {
			c->busybox_build = v;
			return 1;
		}
	} else if (strcmp(section, "elf") == 0)
		ok = on_elf(c, name, v);
	else if (strcmp(section, "credentials") == 0)
		ok = on_credential(c, name, v);
	else if (strcmp(section, "ps") == 0)
		ok = on_proc(c, name, v);
	else if (strcmp(section, "commands") == 0)
		ok = on_command(c, name, v);
	else if (strcmp(section, "net") == 0)
		ok = on_net(c, name, v);
	else if (strcmp(section, "fs") == 0)
		ok = on_fs(c, name, v);
	else {
		bool known = false;
		static const char *const sections[] = {"device", "telnet", "shell", "busybox",
						       "system"};
		for (size_t i = 0; i < LIB_ARRAY_LEN(sections); i++)
			known |= strcmp(section, sections[i]) == 0;
		if (known)
			fail(c, "[%s] unknown key '%s'", section, name);
		else
			fail(c, "unknown section [%s]", section);
	}
	free(v);
	return ok;
}

/* Feeds inih one line at a time so that a line too long for its buffer is an error (inih
 * would split it silently) and so errors know their line number. */
static char *line_reader(char *str, int num, void *stream)
{
	struct ctx *c = stream;
	if (c->pos >= c->len || c->failed)
		return NULL;
	const char *s = c->text + c->pos;
	size_t left = c->len - c->pos;
	const char *nl = memchr(s, '\n', left);
	size_t n = nl ? (size_t)(nl - s) + 1 : left;
	c->line++;
	if (memchr(s, '\0', n)) {
		fail(c, "NUL byte in the file");
		return NULL;
	}
	if (n > (size_t)num - 1) {
		fail(c,
		     "line longer than %d bytes (write long texts with escapes over several keys, "
		     "or in a file)",
		     num - 2);
		return NULL;
	}
	memcpy(str, s, n);
	str[n] = '\0';
	c->pos += n;
	return str;
}

/* ------------------------------------------------------------------ after the ini */

/* [telnet] texts: %h hostname, %B "BusyBox vX (build)", %% '%'; a bare \n becomes \r\n. */
static char *expand_telnet(struct ctx *c, const char *name, const char *in)
{
	struct profile *p = c->p;
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_append(&b, "", 0); /* terminated even when the text is empty */
	for (const char *s = in; *s; s++) {
		if (*s == '%') {
			s++;
			if (*s == 'h')
				buf_append_str(&b, p->hostname);
			else if (*s == 'B')
				buf_printf(&b, "BusyBox v%s%s%s%s", p->busybox_version,
					   c->busybox_build ? " (" : "",
					   c->busybox_build ? c->busybox_build : "",
					   c->busybox_build ? ")" : "");
			else if (*s == '%')
				buf_append(&b, "%", 1);
			else {
				fail_at(c, 0,
					"[telnet] %s: unknown placeholder %%%c (use %%h %%B %%%%)",
					name, *s ? *s : ' ');
				buf_free(&b);
				return NULL;
			}
		} else if (*s == '\n' && (s == in || s[-1] != '\r')) {
			buf_append(&b, "\r\n", 2);
		} else {
			buf_append(&b, s, 1);
		}
	}
	size_t len;
	return (char *)buf_steal(&b, &len);
}

struct arch {
	const char *cpu_arch;
	int machine, data, elf_class;
	const char *uname_m; /* space-separated */
};
/* Mirai's architecture names and what the kernel and the ELF header say for each. */
static const struct arch arches[] = {
	{"arm", 40, 1, 1, " armv4l armv4tl armv5l armv5tel armv5tejl "},
	{"arm5", 40, 1, 1, " armv5l armv5tel armv5tejl "},
	{"arm6", 40, 1, 1, " armv6l "},
	{"arm7", 40, 1, 1, " armv7l "},
	{"arm64", 183, 1, 2, " aarch64 "},
	{"mips", 8, 2, 1, " mips "},
	{"mpsl", 8, 1, 1, " mips "},
	{"ppc", 20, 2, 1, " ppc "},
	{"sh4", 42, 1, 1, " sh4 "},
	{"x86", 3, 1, 1, " i386 i486 i586 i686 "},
	{"x86_64", 62, 1, 2, " x86_64 "},
	{"m68k", 4, 2, 1, " m68k "},
	{"spc", 2, 2, 1, " sparc "},
};

static void check_arch(struct ctx *c)
{
	struct profile *p = c->p;
	const struct arch *a = NULL;
	for (size_t i = 0; i < LIB_ARRAY_LEN(arches); i++)
		if (strcmp(arches[i].cpu_arch, p->cpu_arch) == 0)
			a = &arches[i];
	if (!a) {
		fail_at(c, 0,
			"[system] cpu_arch: unknown '%s' (arm, arm5, arm6, arm7, arm64, mips, "
			"mpsl, "
			"ppc, sh4, x86, x86_64, m68k, spc)",
			p->cpu_arch);
		return;
	}
	char m[64];
	snprintf(m, sizeof(m), " %s ", p->uname_m);
	if (!strstr(a->uname_m, m))
		fail_at(c, 0,
			"[system] uname_m '%s' does not match cpu_arch %s (expected one of%s)",
			p->uname_m, a->cpu_arch, a->uname_m);
	else if (p->elf.machine != a->machine || p->elf.data != a->data ||
		 p->elf.elf_class != a->elf_class)
		fail_at(c, 0,
			"[elf] machine %d, data %s, class %d do not match cpu_arch %s (machine %d, "
			"%s, class %d)",
			p->elf.machine, p->elf.data == 2 ? "msb" : "lsb",
			p->elf.elf_class == 2 ? 64 : 32, a->cpu_arch, a->machine,
			a->data == 2 ? "msb" : "lsb", a->elf_class == 2 ? 64 : 32);
}

/* ------------------------------------------------------------------ fs/ */

/* Reads a whole file, at most PROFILE_MAX_FILE_BYTES (else -EFBIG). */
static int read_fd(int fd, uint8_t **out, size_t *len)
{
	struct buf b;
	buf_init(&b, PROFILE_MAX_FILE_BYTES);
	uint8_t chunk[16384];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			buf_free(&b);
			return -e;
		}
		if (r == 0)
			break;
		if (buf_append(&b, chunk, (size_t)r)) {
			buf_free(&b);
			return -EFBIG;
		}
	}
	*out = buf_steal(&b, len);
	return 0;
}

static void walk(struct ctx *c, int dfd, const char *vpath, const char *spath, int depth)
{
	if (depth > PROFILE_MAX_DEPTH) {
		fail_at(c, 0, "%s: deeper than PROFILE_MAX_DEPTH (%d)", spath, PROFILE_MAX_DEPTH);
		close(dfd);
		return;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		fail_at(c, 0, "%s: %s", spath, strerror(errno));
		close(dfd);
		return;
	}
	struct dirent *de;
	while (!c->failed && (de = readdir(d))) {
		const char *nm = de->d_name;
		if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
			continue;
		char *vp = xasprintf("%s/%s", strcmp(vpath, "/") ? vpath : "", nm);
		char *sp = xasprintf("%s/%s", spath, nm);
		struct stat st;
		if (!valid_path(vp)) {
			fail_at(c, 0, "%s: bad name (control characters, or longer than %d bytes)",
				sp, PROFILE_MAX_PATH);
		} else if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW)) {
			fail_at(c, 0, "%s: %s", sp, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			int fd = openat(dfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				fail_at(c, 0, "%s: %s", sp, strerror(errno));
			} else {
				struct tnode *t = add_node(c, vp, PROFILE_DIR, ORIGIN_FS);
				if (t && lib_str_prefix(vp, "/proc"))
					t->n.mode = 0555;
				if (t)
					walk(c, fd, vp, sp, depth + 1);
				else
					close(fd);
			}
		} else if (S_ISLNK(st.st_mode)) {
			char target[PROFILE_MAX_PATH + 2];
			ssize_t n = readlinkat(dfd, nm, target, sizeof(target));
			if (n < 0)
				fail_at(c, 0, "%s: %s", sp, strerror(errno));
			else if ((size_t)n > PROFILE_MAX_PATH || n == 0)
				fail_at(c, 0, "%s: link target longer than %d bytes", sp,
					PROFILE_MAX_PATH);
			else {
				target[n] = '\0';
				if (has_ctl(target))
					fail_at(c, 0, "%s: control characters in the link target",
						sp);
				else {
					struct tnode *t = add_node(c, vp, PROFILE_LINK, ORIGIN_FS);
					if (t)
						t->n.target = xstrdup(target);
				}
			}
		} else if (S_ISREG(st.st_mode)) {
			if ((uint64_t)st.st_size > PROFILE_MAX_FILE_BYTES) {
				fail_at(c, 0,
					"%s: %lld bytes is larger than PROFILE_MAX_FILE_BYTES (%u)",
					sp, (long long)st.st_size, PROFILE_MAX_FILE_BYTES);
			} else {
				int fd = openat(dfd, nm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
				uint8_t *data = NULL;
				size_t len = 0;
				int rc = fd < 0 ? -errno : read_fd(fd, &data, &len);
				if (fd >= 0)
					close(fd);
				if (rc)
					fail_at(c, 0, "%s: %s", sp,
						rc == -EFBIG ? "larger than PROFILE_MAX_FILE_BYTES"
							     : strerror(-rc));
				else if (add_bytes(c, len, sp)) {
					struct tnode *t = add_node(c, vp, PROFILE_FILE, ORIGIN_FS);
					if (t) {
						t->n.data = data;
						t->n.len = len;
						data = NULL;
						t->n.mode = lib_str_prefix(vp, "/proc/") ? 0444
							    : (st.st_mode & 0111)        ? 0755
											 : 0644;
					}
				}
				free(data);
			}
		} else {
			fail_at(c, 0, "%s: not a regular file, folder or symbolic link", sp);
		}
		free(vp);
		free(sp);
	}
	closedir(d);
}

/* ------------------------------------------------------------------ generated files */

static void gen_elf(struct ctx *c, const char *path, const struct profile_elf_spec *spec)
{
	char why[160];
	uint8_t *data;
	if (profile_elf_build(spec, &data, why, sizeof(why))) {
		fail_at(c, 0, "[elf] %s: %s", path, why);
		return;
	}
	if (!add_bytes(c, spec->size, path)) {
		free(data);
		return;
	}
	struct tnode *t = add_node(c, path, PROFILE_FILE, ORIGIN_GEN);
	if (!t) {
		free(data);
		return;
	}
	t->n.data = data;
	t->n.len = spec->size;
	t->n.mode = 0755;
}

static void gen_binaries(struct ctx *c)
{
	struct profile *p = c->p;
	/* .rodata of busybox: its banner and the NUL-separated applet names, as BusyBox keeps them.
	 */
	struct buf ro;
	buf_init(&ro, 1u << 20);
	buf_append(&ro, p->busybox_banner, strlen(p->busybox_banner) + 1);
	for (size_t i = 0; i < p->napplets; i++)
		buf_append(&ro, p->applets[i], strlen(p->applets[i]) + 1);
	char *seed = xasprintf("%s:/bin/busybox", p->name);
	struct profile_elf_spec spec = {.elf = &p->elf,
					.kind = PROFILE_ELF_EXEC,
					.interp = p->elf.interp,
					.needed = p->elf.needed,
					.nneeded = p->elf.nneeded,
					.rodata = (const char *)ro.data,
					.rodata_len = ro.len,
					.seed = seed,
					.size = p->elf.busybox_size};
	gen_elf(c, "/bin/busybox", &spec);
	free(seed);
	buf_free(&ro);
	for (size_t i = 0; i < c->nlibs && !c->failed; i++) {
		struct lib_spec *l = &c->libs[i];
		char *s = xasprintf("%s:%s", p->name, l->path);
		const char *base = strrchr(l->path, '/') + 1;
		struct profile_elf_spec ls = {.elf = &p->elf, .seed = s, .size = l->size};
		if (l->soname) {
			ls.kind = PROFILE_ELF_DYN;
			ls.soname = l->soname;
			ls.rodata = l->soname;
			ls.rodata_len = strlen(l->soname) + 1;
		} else {
			ls.kind = PROFILE_ELF_EXEC;
			ls.interp = p->elf.interp;
			ls.needed = l->needed;
			ls.nneeded = l->nneeded;
			ls.rodata = base;
			ls.rodata_len = strlen(base) + 1;
		}
		gen_elf(c, l->path, &ls);
		free(s);
	}
}

/* The relative link BusyBox's installer makes from folder `dir` to /bin/busybox. */
static char *busybox_target(const char *dir)
{
	if (strcmp(dir, "/bin") == 0)
		return xstrdup("busybox");
	struct buf b;
	buf_init(&b, PROFILE_MAX_PATH * 2);
	for (const char *s = dir; *s; s++)
		if (*s == '/' && s[1])
			buf_append_str(&b, "../");
	buf_append_str(&b, "bin/busybox");
	size_t len;
	return (char *)buf_steal(&b, &len);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void build_applets(struct ctx *c)
{
	struct profile *p = c->p;
	bool have_sh = false;
	for (size_t i = 0; i < c->napplet_specs; i++) {
		const char *spec = c->applet_specs[i];
		const char *name = strrchr(spec, '/') ? strrchr(spec, '/') + 1 : spec;
		list_push(&p->applets, &p->napplets, xstrdup(name));
		have_sh |= strcmp(name, "sh") == 0;
	}
	if (!have_sh) {
		list_push(&p->applets, &p->napplets, xstrdup("sh"));
		list_push(&c->applet_specs, &c->napplet_specs, xstrdup("sh"));
	}
	qsort(p->applets, p->napplets, sizeof(*p->applets), str_cmp);
	size_t k = 0;
	for (size_t i = 0; i < p->napplets; i++) {
		if (k && strcmp(p->applets[k - 1], p->applets[i]) == 0)
			free(p->applets[i]);
		else
			p->applets[k++] = p->applets[i];
	}
	p->napplets = k;
}

static void link_applets(struct ctx *c)
{
	size_t before = c->nnodes;
	for (size_t i = 0; i < c->napplet_specs && !c->failed; i++) {
		const char *spec = c->applet_specs[i];
		char *path, *dir;
		if (spec[0] == '/') {
			path = xstrdup(spec);
			dir = xstrndup(spec, (size_t)(strrchr(spec, '/') - spec));
			if (!*dir) {
				free(dir);
				dir = xstrdup("/");
			}
		} else {
			dir = xstrdup(profile_applet_dir(spec));
			path = xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", spec);
		}
		/* Only the nodes before this pass are sorted; links added here are checked linearly
		 * against each other (an applet listed twice in two folders). */
		bool exists = false;
		struct tnode key = {.n.path = path};
		exists = bsearch(&key, c->nodes, before, sizeof(*c->nodes), tnode_cmp) != NULL;
		for (size_t j = before; j < c->nnodes && !exists; j++)
			exists = strcmp(c->nodes[j].n.path, path) == 0;
		if (!exists) {
			struct tnode *t = add_node(c, path, PROFILE_LINK, ORIGIN_APPLET);
			if (t)
				t->n.target = busybox_target(dir);
		}
		free(path);
		free(dir);
	}
}

/* Adds every missing parent folder. The nodes must be sorted and free of duplicates. */
static void add_parents(struct ctx *c)
{
	size_t n = c->nnodes;
	char buf[PROFILE_MAX_PATH + 1];
	for (size_t i = 0; i < n && !c->failed; i++) {
		lib_strlcpy(buf, c->nodes[i].n.path, sizeof(buf));
		for (char *slash = strrchr(buf, '/'); slash && !c->failed;
		     slash = strrchr(buf, '/')) {
			if (slash == buf)
				slash[1] = '\0';
			else
				*slash = '\0';
			struct tnode key = {.n.path = buf};
			struct tnode *t = bsearch(&key, c->nodes, n, sizeof(*c->nodes), tnode_cmp);
			if (t && t->n.type != PROFILE_DIR) {
				fail_at(c, 0, "%s is inside %s, which is not a folder",
					c->nodes[i].n.path, buf);
				break;
			}
			if (t)
				break; /* its own parents were or will be handled from it */
			bool pending = false;
			for (size_t j = n; j < c->nnodes && !pending; j++)
				pending = strcmp(c->nodes[j].n.path, buf) == 0;
			if (!pending)
				add_node(c, buf, PROFILE_DIR, ORIGIN_PARENT);
			if (slash == buf)
				break;
		}
	}
}

static const char *origin_name(enum origin o)
{
	switch (o) {
	case ORIGIN_FS: return "fs/";
	case ORIGIN_INI: return "[fs] in profile.ini";
	case ORIGIN_GEN: return "[elf]";
	default: return "the loader";
	}
}

/* Sorts the nodes by path. A folder given both in fs/ and by a [fs] dir line is one folder
 * (the line's mode wins); any other path given twice is an error. */
static void sort_nodes(struct ctx *c)
{
	qsort(c->nodes, c->nnodes, sizeof(*c->nodes), tnode_cmp);
	size_t k = 0;
	for (size_t i = 0; i < c->nnodes; i++) {
		struct tnode *prev = k ? &c->nodes[k - 1] : NULL, *t = &c->nodes[i];
		if (!prev || strcmp(prev->n.path, t->n.path) != 0) {
			c->nodes[k++] = *t;
			continue;
		}
		if (prev->n.type == PROFILE_DIR && t->n.type == PROFILE_DIR) {
			if (t->origin == ORIGIN_INI)
				prev->n.mode = t->n.mode, prev->origin = ORIGIN_INI;
			free_node(&t->n);
			continue;
		}
		fail_at(c,
			t->origin == ORIGIN_INI      ? t->line
			: prev->origin == ORIGIN_INI ? prev->line
						     : 0,
			"%s is defined twice (by %s and by %s)", t->n.path,
			origin_name(prev->origin), origin_name(t->origin));
		/* Keep the arrays consistent for cleanup: move the rest down unchanged. */
		for (; i < c->nnodes; i++)
			c->nodes[k++] = c->nodes[i];
		break;
	}
	c->nnodes = k;
}

static void apply_metas(struct ctx *c)
{
	for (size_t i = 0; i < c->nnodes; i++)
		c->nodes[i].n.mtime = c->mtime;
	for (size_t i = 0; i < c->nmetas && !c->failed; i++) {
		struct meta *m = &c->metas[i];
		struct tnode *t = find_tnode(c, m->path);
		if (!t) {
			fail_at(c, m->line, "[fs] meta: %s is not in the file tree", m->path);
			return;
		}
		t->n.mode = m->mode;
		if (m->has_ids)
			t->n.uid = m->uid, t->n.gid = m->gid;
		if (m->has_mtime)
			t->n.mtime = m->mtime;
	}
}

/* ------------------------------------------------------------------ checks on the tree */

static const struct profile_node *file_node(struct ctx *c, const char *path, bool required)
{
	const struct profile_node *n = profile_resolve(c->p, path);
	if (n && n->type == PROFILE_FILE)
		return n;
	if (required)
		fail_at(c, 0, "fs%s is missing: every profile needs it", path);
	return NULL;
}

/* A NUL-terminated copy of a file's text. */
static char *node_text(const struct profile_node *n)
{
	return xstrndup((const char *)n->data, n->len);
}

static uint64_t meminfo_kb(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ':')
			return strtoull(l + kl + 1, NULL, 10);
	return 0;
}

static void read_proc_facts(struct ctx *c, bool required)
{
	struct profile *p = c->p;
	const struct profile_node *n = file_node(c, "/proc/meminfo", required);
	if (n) {
		char *t = node_text(n);
		p->mem = (struct profile_mem){.total_kb = meminfo_kb(t, "MemTotal"),
					      .free_kb = meminfo_kb(t, "MemFree"),
					      .buffers_kb = meminfo_kb(t, "Buffers"),
					      .cached_kb = meminfo_kb(t, "Cached"),
					      .swap_total_kb = meminfo_kb(t, "SwapTotal"),
					      .swap_free_kb = meminfo_kb(t, "SwapFree")};
		free(t);
		if (required && (p->mem.total_kb == 0 || p->mem.free_kb > p->mem.total_kb))
			fail_at(c, 0,
				"fs/proc/meminfo: MemTotal is missing or smaller than MemFree");
	}
	p->ncpus = 0;
	n = file_node(c, "/proc/cpuinfo", required);
	if (n) {
		char *t = node_text(n);
		for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			/* "processor\t: 0" (lower case, a number): ARM's "Processor : ARMv7..." is
			 * a name. */
			if (strncmp(l, "processor", 9) == 0) {
				const char *v = l + 9;
				v += strspn(v, " \t");
				if (*v == ':' &&
				    isdigit((unsigned char)v[1 + strspn(v + 1, " \t")]))
					p->ncpus++;
			}
		}
		free(t);
	}
	if (p->ncpus < 1)
		p->ncpus = 1;
}

/* Every socket of [net] is held by a process of [ps]. */
static void check_socks(struct ctx *c)
{
	const struct profile *p = c->p;
	for (size_t i = 0; i < p->nsocks && !c->failed; i++) {
		bool found = false;
		for (size_t j = 0; j < p->nprocs; j++)
			found |= p->procs[j].pid == p->socks[i].pid;
		if (!found)
			fail_at(c, 0, "[net]: pid %d holds a socket but is not in [ps]",
				p->socks[i].pid);
	}
}

static void check_tree(struct ctx *c)
{
	struct profile *p = c->p;
	/* The interpreter and the libraries busybox needs. */
	if (*p->elf.interp && !file_node(c, p->elf.interp, false))
		fail_at(c, 0,
			"[elf] interp %s is not a file of the tree (add a lib = line or fs%s)",
			p->elf.interp, p->elf.interp);
	for (size_t i = 0; i < p->elf.nneeded && !c->failed; i++) {
		char *a = xasprintf("/lib/%s", p->elf.needed[i]);
		char *b = xasprintf("/usr/lib/%s", p->elf.needed[i]);
		if (!file_node(c, a, false) && !file_node(c, b, false))
			fail_at(c, 0, "[elf] needed %s is in neither /lib nor /usr/lib",
				p->elf.needed[i]);
		free(a);
		free(b);
	}
	const struct profile_node *home = profile_resolve(p, p->home);
	if (!c->failed && (!home || home->type != PROFILE_DIR))
		fail_at(c, 0, "[shell] home %s is not a folder of the tree", p->home);
	if (c->failed)
		return;

	const struct profile_node *n = file_node(c, "/proc/version", true);
	if (n) {
		char *t = node_text(n);
		char *want = xasprintf("Linux version %s ", p->uname_r);
		if (!lib_str_prefix(t, want))
			fail_at(c, 0,
				"fs/proc/version does not start with \"%s\" ([system] uname_r)",
				want);
		else if (!strstr(t, p->uname_v))
			fail_at(c, 0, "fs/proc/version does not contain [system] uname_v \"%s\"",
				p->uname_v);
		free(want);
		free(t);
	}
	n = c->failed ? NULL : file_node(c, "/proc/cpuinfo", true);
	if (n) {
		char *t = node_text(n);
		bool v7 = strstr(t, "ARMv7") != NULL, v6 = strstr(t, "ARMv6") != NULL;
		if (strcmp(p->cpu_arch, "arm7") == 0 && !v7)
			fail_at(c, 0,
				"fs/proc/cpuinfo: cpu_arch arm7 needs \"ARMv7\" in it (Mirai reads "
				"it)");
		else if (strcmp(p->cpu_arch, "arm6") == 0 && !v6)
			fail_at(c, 0, "fs/proc/cpuinfo: cpu_arch arm6 needs \"ARMv6\" in it");
		else if ((strcmp(p->cpu_arch, "arm") == 0 || strcmp(p->cpu_arch, "arm5") == 0) &&
			 (v7 || v6))
			fail_at(c, 0, "fs/proc/cpuinfo says ARMv6/ARMv7 but cpu_arch is %s",
				p->cpu_arch);
		else if (p->elf.machine == 8 && !strstr(t, "cpu model"))
			fail_at(c, 0, "fs/proc/cpuinfo: a MIPS kernel prints a \"cpu model\" line");
		free(t);
	}
	n = c->failed ? NULL : file_node(c, "/proc/mounts", true);
	if (n) {
		char *t = node_text(n);
		bool rw = false;
		for (char *save = NULL, *l = strtok_r(t, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			char *tok[4];
			if (split(l, tok, 4, false) == 4 &&
			    (strcmp(tok[3], "rw") == 0 || lib_str_prefix(tok[3], "rw,")))
				rw = true;
		}
		if (!rw)
			fail_at(c, 0,
				"fs/proc/mounts has no rw mount (Mirai's loader needs one to write "
				"to)");
		free(t);
	}
	n = c->failed ? NULL : file_node(c, "/etc/hostname", false);
	if (n) {
		char *t = node_text(n);
		t[strcspn(t, "\r\n")] = '\0';
		if (strcmp(t, p->hostname) != 0)
			fail_at(c, 0, "fs/etc/hostname says '%s' but [shell] hostname is '%s'", t,
				p->hostname);
		free(t);
	}
	check_socks(c);
	n = c->failed ? NULL : file_node(c, "/etc/passwd", false);
	if (n) {
		char *t = node_text(n);
		char *want = xasprintf("%s:", p->user);
		bool found = lib_str_prefix(t, want);
		char *nl_want = xasprintf("\n%s:", p->user);
		found |= strstr(t, nl_want) != NULL;
		if (!found)
			fail_at(c, 0, "fs/etc/passwd has no line for [shell] user '%s'", p->user);
		free(want);
		free(nl_want);
		free(t);
	}
}

/* ------------------------------------------------------------------ assembly */

static size_t str_bytes(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static size_t profile_heap_bytes(const struct profile *p)
{
	size_t b = sizeof(*p);
	const char *const strs[] = {p->name,
				    p->description,
				    p->category,
				    p->vendor,
				    p->banner,
				    p->login_prompt,
				    p->password_prompt,
				    p->login_incorrect,
				    p->motd,
				    p->hostname,
				    p->user,
				    p->home,
				    p->prompt,
				    p->shell_name,
				    p->path,
				    p->busybox_version,
				    p->busybox_banner,
				    p->uname_s,
				    p->uname_r,
				    p->uname_v,
				    p->uname_m,
				    p->uname_o,
				    p->cpu_arch,
				    p->elf.interp};
	for (size_t i = 0; i < LIB_ARRAY_LEN(strs); i++)
		b += str_bytes(strs[i]);
	b += p->napplets * sizeof(char *) + p->elf.nneeded * sizeof(char *);
	for (size_t i = 0; i < p->napplets; i++)
		b += str_bytes(p->applets[i]);
	for (size_t i = 0; i < p->elf.nneeded; i++)
		b += str_bytes(p->elf.needed[i]);
	b += p->ncreds * sizeof(*p->creds) + p->nprocs * sizeof(*p->procs) +
	     p->ncommands * sizeof(*p->commands) + p->nnodes * sizeof(*p->nodes);
	for (size_t i = 0; i < p->ncreds; i++)
		b += str_bytes(p->creds[i].username) + str_bytes(p->creds[i].password);
	b += p->nsocks * sizeof(*p->socks);
	for (size_t i = 0; i < p->nsocks; i++)
		b += str_bytes(p->socks[i].path);
	for (size_t i = 0; i < p->nprocs; i++)
		b += str_bytes(p->procs[i].user) + str_bytes(p->procs[i].vsz) +
		     str_bytes(p->procs[i].stat) + str_bytes(p->procs[i].command);
	for (size_t i = 0; i < p->ncommands; i++)
		b += str_bytes(p->commands[i].name) + str_bytes(p->commands[i].output);
	for (size_t i = 0; i < p->nnodes; i++)
		b += str_bytes(p->nodes[i].path) + str_bytes(p->nodes[i].target) + p->nodes[i].len;
	return b;
}

/* What BusyBox telnetd's child prints before exec'ing login (print_login_issue of libbb): a
 * "\r" line, then /etc/issue.net with its \ and % escapes expanded and "\n\r" for each line end,
 * all through the pty's ONLCR (so "\r\r\n" first and "\r\n\r" per line). The date and time
 * escapes (\d \t) would be the time of the connection: they are kept as the letter. */
static char *issue_banner(const struct profile *p)
{
	struct buf b;
	buf_init(&b, PROFILE_MAX_FILE_BYTES);
	buf_append_str(&b, "\r\r\n");
	const struct profile_node *n = profile_resolve(p, "/etc/issue.net");
	for (size_t i = 0; n && n->type == PROFILE_FILE && i < n->len; i++) {
		char ch = (char)n->data[i];
		if (ch == '\n') {
			buf_append_str(&b, "\r\n\r");
			continue;
		}
		if ((ch != '\\' && ch != '%') || i + 1 == n->len) {
			buf_append(&b, &ch, 1);
			continue;
		}
		ch = (char)n->data[++i];
		const char *out = ch == 's'                ? p->uname_s
				  : ch == 'n' || ch == 'h' ? p->hostname
				  : ch == 'r'              ? p->uname_r
				  : ch == 'v'              ? p->uname_v
				  : ch == 'm'              ? p->uname_m
				  : ch == 'D' || ch == 'o' ? "(none)"
				  : ch == 'l'              ? "pts/0"
							   : NULL;
		if (out)
			buf_append_str(&b, out);
		else if (ch == '\n')
			buf_append_str(&b, "\r\n");
		else
			buf_append(&b, &ch, 1);
	}
	size_t len;
	return (char *)buf_steal(&b, &len);
}

static int cmd_cmp(const void *a, const void *b)
{
	return strcmp(((const struct profile_command *)a)->name,
		      ((const struct profile_command *)b)->name);
}

/* What a profile must have, and its Telnet texts expanded. */
static void check_keys(struct ctx *c)
{
	struct profile *p = c->p;
	if (!c->elf_class_set || !c->elf_data_set || !c->elf_machine_set || !c->elf_size_set)
		fail_at(c, 0, "[elf] needs class, data, machine and busybox_size");
	else if (p->ncreds == 0)
		fail_at(c, 0, "[credentials] has no accept = USER:PASSWORD line");
	else if (!c->fs_mtime_set)
		fail_at(c, 0,
			"[fs] mtime is missing (the time ls -l shows for the device's files)");
	for (size_t i = 0; i < p->ncommands && !c->failed; i++)
		if (!p->commands[i].output)
			fail_at(c, 0, "[commands] %s has a status but no output",
				p->commands[i].name);
	if (c->failed)
		return;
	if (p->ncommands > 1)
		qsort(p->commands, p->ncommands, sizeof(*p->commands), cmd_cmp);
	if (!p->busybox_banner)
		p->busybox_banner =
			c->busybox_build
				? xasprintf("BusyBox v%s (%s) multi-call binary.",
					    p->busybox_version, c->busybox_build)
				: xasprintf("BusyBox v%s multi-call binary.", p->busybox_version);
	char **telnet[] = {&p->banner, &p->login_prompt, &p->password_prompt, &p->login_incorrect,
			   &p->motd};
	static const char *const tnames[] = {"banner", "login_prompt", "password_prompt",
					     "login_incorrect", "motd"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(telnet) && !c->failed; i++) {
		if (!*telnet[i])
			continue; /* the banner, made from /etc/issue.net below */
		char *x = expand_telnet(c, tnames[i], *telnet[i]);
		if (x) {
			free(*telnet[i]);
			*telnet[i] = x;
		}
	}
}

/* The tree: "/", fs/, [fs] lines, generated ELF files; then applet links, then parents. */
static void build_tree(struct ctx *c)
{
	add_node(c, "/", PROFILE_DIR, ORIGIN_ROOT);
	if (c->dir) {
		char *fsdir = xasprintf("%s/fs", c->dir);
		int fd = open(fsdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			walk(c, fd, "/", fsdir, 0);
		else if (errno != ENOENT)
			fail_at(c, 0, "%s: %s", fsdir, strerror(errno));
		free(fsdir);
	}
	if (c->failed)
		return;
	gen_binaries(c);
	if (c->failed)
		return;
	sort_nodes(c);
	if (c->failed)
		return;
	link_applets(c);
	if (c->failed)
		return;
	sort_nodes(c);
	if (c->failed)
		return;
	add_parents(c);
	if (c->failed)
		return;
	sort_nodes(c);
	apply_metas(c);
}

static void finish(struct ctx *c, unsigned flags)
{
	struct profile *p = c->p;
	if (!p->telnet_write_size)
		p->telnet_write_size = PROFILE_TELNET_WRITE_SIZE;
	if (!p->telnet_throughput)
		p->telnet_throughput = PROFILE_TELNET_THROUGHPUT;
	/* Required keys and defaults. */
	for (size_t i = 0; i < LIB_ARRAY_LEN(keys) && !c->failed; i++) {
		const struct key *k = &keys[i];
		if (*field(p, k))
			continue;
		if (k->required)
			fail_at(c, 0, "[%s] %s is missing", k->section, k->name);
		else if (k->def)
			*field(p, k) = xstrdup(k->def);
	}
	if (c->failed)
		return;
	check_keys(c);
	if (c->failed)
		return;
	check_arch(c);
	if (c->failed)
		return;
	build_applets(c);
	build_tree(c);
	if (c->failed)
		return;
	p->nodes = xmalloc(c->nnodes * sizeof(*p->nodes));
	for (size_t i = 0; i < c->nnodes; i++)
		p->nodes[i] = c->nodes[i].n;
	p->nnodes = c->nnodes;
	free(c->nodes);
	c->nodes = NULL;
	c->nnodes = c->capnodes = 0;

	if (!p->banner)
		p->banner = issue_banner(p);
	read_proc_facts(c, !(flags & PROFILE_LOAD_NO_CHECKS));
	if (!c->failed && !(flags & PROFILE_LOAD_NO_CHECKS))
		check_tree(c);
	p->bytes = profile_heap_bytes(p);
}

static bool valid_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

int profile_load_text(const char *name, const char *dir, const char *ini, size_t len,
		      unsigned flags, struct profile **out, char *err, size_t errlen)
{
	*out = NULL;
	struct profile *p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(name);
	struct ctx c = {.p = p, .dir = dir, .err = err, .errlen = errlen, .text = ini, .len = len};
	c.label = dir ? xasprintf("%s/profile.ini", dir) : xasprintf("%s/profile.ini", name);
	if (!valid_name(name))
		fail_at(&c, 0,
			"'%s' is not a profile name (letters, digits, '.', '_', '-'; at most 64)",
			name);
	else if (len > PROFILE_MAX_INI_BYTES)
		fail_at(&c, 0, "larger than PROFILE_MAX_INI_BYTES (%u)", PROFILE_MAX_INI_BYTES);
	if (!c.failed) {
		c.parsing = true;
		int rc = ini_parse_stream(line_reader, &c, on_ini, &c);
		c.parsing = false;
		if (rc > 0 && (!c.failed || rc < c.err_line)) {
			c.failed = false;
			fail_at(&c, rc,
				"syntax error (expected [section], key = value or a comment)");
		} else if (rc < 0 && !c.failed) {
			fail_at(&c, 0, "cannot parse (inih error %d)", rc);
		}
	}
	if (!c.failed)
		finish(&c, flags);

	for (size_t i = 0; i < c.nnodes; i++)
		free_node(&c.nodes[i].n);
	free(c.nodes);
	for (size_t i = 0; i < c.napplet_specs; i++)
		free(c.applet_specs[i]);
	free(c.applet_specs);
	for (size_t i = 0; i < c.nlibs; i++) {
		free(c.libs[i].path);
		free(c.libs[i].soname);
		for (size_t j = 0; j < c.libs[i].nneeded; j++)
			free(c.libs[i].needed[j]);
		free(c.libs[i].needed);
	}
	free(c.libs);
	for (size_t i = 0; i < c.nmetas; i++)
		free(c.metas[i].path);
	free(c.metas);
	free(c.busybox_build);
	free(c.label);
	if (c.failed) {
		profile_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

int profile_load(const char *dir, struct profile **out, char *err, size_t errlen)
{
	*out = NULL;
	char *d = xstrdup(dir);
	size_t n = strlen(d);
	while (n > 1 && d[n - 1] == '/')
		d[--n] = '\0';
	const char *base = strrchr(d, '/') ? strrchr(d, '/') + 1 : d;
	char *ini = xasprintf("%s/profile.ini", d);
	uint8_t *text;
	size_t len;
	int rc = lib_read_file(ini, PROFILE_MAX_INI_BYTES, &text, &len);
	if (rc) {
		snprintf(err, errlen, "%s: %s", ini,
			 rc == -EFBIG ? "larger than PROFILE_MAX_INI_BYTES (256 KiB)"
				      : strerror(-rc));
	} else {
		rc = profile_load_text(base, d, (const char *)text, len, 0, out, err, errlen);
		free(text);
	}
	free(ini);
	free(d);
	return rc;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	char **strs[] = {&p->name,
			 &p->description,
			 &p->category,
			 &p->vendor,
			 &p->banner,
			 &p->login_prompt,
			 &p->password_prompt,
			 &p->login_incorrect,
			 &p->motd,
			 &p->hostname,
			 &p->user,
			 &p->home,
			 &p->prompt,
			 &p->shell_name,
			 &p->path,
			 &p->busybox_version,
			 &p->busybox_banner,
			 &p->uname_s,
			 &p->uname_r,
			 &p->uname_v,
			 &p->uname_m,
			 &p->uname_o,
			 &p->cpu_arch,
			 &p->elf.interp};
	for (size_t i = 0; i < LIB_ARRAY_LEN(strs); i++)
		free(*strs[i]);
	for (size_t i = 0; i < p->napplets; i++)
		free(p->applets[i]);
	free(p->applets);
	for (size_t i = 0; i < p->elf.nneeded; i++)
		free(p->elf.needed[i]);
	free(p->elf.needed);
	for (size_t i = 0; i < p->ncreds; i++)
		free(p->creds[i].username), free(p->creds[i].password);
	free(p->creds);
	for (size_t i = 0; i < p->nprocs; i++)
		free(p->procs[i].user), free(p->procs[i].vsz), free(p->procs[i].stat),
			free(p->procs[i].command);
	free(p->procs);
	for (size_t i = 0; i < p->nsocks; i++)
		free(p->socks[i].path);
	free(p->socks);
	for (size_t i = 0; i < p->ncommands; i++)
		free(p->commands[i].name), free(p->commands[i].output);
	free(p->commands);
	for (size_t i = 0; i < p->nnodes; i++)
		free_node(&p->nodes[i]);
	free(p->nodes);
	free(p);
}
