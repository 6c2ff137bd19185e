/* Static analysis of a sample: hashes (MD5, SHA-1, SHA-256, ssdeep, TLSH), ELF header, packer
 * signatures (UPX and its variants with altered magic or zeroed sizes), strings of interest
 * (URLs, addresses, domains, credential lists, shell commands, Mirai's XOR-hidden table) and
 * our own YARA rules (rules/yara/). */
#include "box/internal.h"
#include "box/yara_dl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fuzzy.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"

/* ------------------------------------------------------------------ entropy, packer */

double box_entropy(const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	uint64_t count[256] = {0};
	for (size_t i = 0; i < n; i++)
		count[p[i]]++;
	double h = 0;
	for (int i = 0; i < 256; i++) {
		if (!count[i])
			continue;
		double f = (double)count[i] / (double)n;
		h -= f * log2(f);
	}
	return h;
}

static uint32_t rd32(const uint8_t *p, bool be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void magic_text(const uint8_t *m, char out[12])
{
	bool printable = true;
	for (int i = 0; i < 4; i++)
		printable &= m[i] >= 0x21 && m[i] < 0x7f;
	if (printable)
		snprintf(out, 12, "%c%c%c%c", m[0], m[1], m[2], m[3]);
	else
		snprintf(out, 12, "%02x%02x%02x%02x", m[0], m[1], m[2], m[3]);
}

/* UPX puts, right after the program headers of a packed ELF, l_info {checksum, magic "UPX!",
 * lsize (16 bit), version, format} and p_info {progid, filesize, blocksize}, and a PackHeader
 * with "UPX!" again near the end. Malware alters the magic (so `upx -d` refuses) or, as Mozi,
 * zeroes p_filesize and p_blocksize. We look at that structure, not just at the magic. */
void box_packer_detect(const uint8_t *p, size_t n, const struct box_elf *e, struct box_packer *pk)
{
	memset(pk, 0, sizeof(*pk));
	pk->entropy = box_entropy(p, n);
	size_t upx_magics = 0;
	for (const uint8_t *q = p; q && (size_t)(q - p) + 4 <= n;) {
		q = memmem(q, n - (size_t)(q - p), "UPX!", 4);
		if (!q)
			break;
		upx_magics++;
		q += 4;
	}
	bool notice = memmem(p, n, "This file is packed with the UPX", 32) != NULL ||
		      memmem(p, n, "$Id: UPX", 8) != NULL;
	bool l_info = false;
	if (e && e->phdr_end && e->phdr_end + 24 <= n) {
		const uint8_t *li = p + e->phdr_end;
		uint16_t lsize = e->big_endian ? (uint16_t)(li[8] << 8 | li[9])
					       : (uint16_t)(li[9] << 8 | li[8]);
		uint8_t version = li[10], format = li[11];
		magic_text(li + 4, pk->magic);
		bool magic_ok = memcmp(li + 4, "UPX!", 4) == 0;
		/* Plausible loader: versions 11-14 are UPX 2.x-4.x; the stub is a few KiB. */
		bool plausible =
			version >= 11 && version <= 14 && format != 0 && lsize > 0 && lsize < 32768;
		if (magic_ok || (plausible && e->shnum == 0)) {
			l_info = true;
			pk->version = version;
			pk->format = format;
			pk->p_filesize = rd32(li + 16, e->big_endian);
			pk->p_blocksize = rd32(li + 20, e->big_endian);
			if (!magic_ok)
				lib_strlcpy(pk->variant, "modified-magic", sizeof(pk->variant));
			else if (pk->p_filesize == 0 && pk->p_blocksize == 0)
				lib_strlcpy(pk->variant, "zeroed-sizes", sizeof(pk->variant));
			else if (upx_magics >= 2)
				lib_strlcpy(pk->variant, "standard", sizeof(pk->variant));
			else
				lib_strlcpy(pk->variant, "trailer-removed", sizeof(pk->variant));
		}
	}
	if (l_info || (upx_magics >= 2 && notice)) {
		pk->packed = true;
		lib_strlcpy(pk->name, "upx", sizeof(pk->name));
		if (!l_info)
			lib_strlcpy(pk->variant, "standard", sizeof(pk->variant));
		return;
	}
	if (notice || upx_magics >= 2) {
		pk->packed = true;
		lib_strlcpy(pk->name, "upx", sizeof(pk->name));
		lib_strlcpy(pk->variant, "unaligned", sizeof(pk->variant));
		return;
	}
	/* Compressed or encrypted without a known header: very high entropy, no sections. */
	if (n >= 4096 && pk->entropy > 7.4 && (!e || e->shnum == 0)) {
		pk->packed = true;
		lib_strlcpy(pk->name, "unknown", sizeof(pk->name));
		lib_strlcpy(pk->variant, "high-entropy", sizeof(pk->variant));
	}
}

json_t *box_packer_json(const struct box_packer *pk)
{
	json_t *o = json_pack("{s:b,s:f}", "packed", pk->packed, "entropy",
			      round(pk->entropy * 1000) / 1000);
	if (!pk->packed)
		return o;
	json_object_set_new(o, "name", json_string(pk->name));
	json_object_set_new(o, "variant", json_string(pk->variant));
	if (pk->magic[0] && strcmp(pk->name, "upx") == 0) {
		json_object_set_new(o, "magic", json_string(pk->magic));
		json_object_set_new(o, "version", json_integer(pk->version));
		json_object_set_new(o, "format", json_integer(pk->format));
		json_object_set_new(o, "p_filesize", json_integer(pk->p_filesize));
		json_object_set_new(o, "p_blocksize", json_integer(pk->p_blocksize));
	}
	return o;
}

/* ------------------------------------------------------------------ strings */

/* Default credentials of IoT devices as found in scanner credential tables (public lists). */
static const char *const cred_words[] = {
	"root",         "admin",         "xc3511",    "vizxv",      "888888",   "xmhdipc",
	"default",      "juantech",      "123456",    "54321",      "support",  "guest",
	"user",         "1111",          "smcadmin",  "666666",     "password", "1234",
	"klv123",       "Administrator", "service",   "supervisor", "ubnt",     "klv1234",
	"Zte521",       "hi3518",        "jvbzd",     "anko",       "zlxx.",    "7ujMko0vizxv",
	"7ujMko0admin", "system",        "ikwb",      "dreambox",   "realtek",  "00000000",
	"1111111",      "12345",         "meinsm",    "tech",       "mother",   "fucker",
	"666666",       "telnet",        "admin1234", "12345678",   "pass",     "changeme",
	"oelinux123",   "GM8182",        "antslq",    "hunt5759",   "tl789",    "Win1doW$",
	"vstarcam2015", "20150602",      "zhongxing", "ttnet",      "5up",
};

/* Substrings that make a string a shell command of interest. */
static const char *const cmd_marks[] = {
	"wget ",       "curl ",    "tftp ",     "ftpget ",   "busybox",       "/bin/sh",
	"chmod ",      "rm -rf",   "iptables",  "killall",   "pkill ",        "crontab",
	"/etc/init.d", "/etc/rc.", "echo -e",   "nc -",      "sh -c",         "cd /tmp",
	">/dev/null",  "telnetd",  "dropbear",  "nohup ",    "/dev/watchdog", "ulimit ",
	"cat /proc",   "reboot",   "/etc/cron", "systemctl", "update-rc.d",   "ps ",
	"kill -9",
};

/* Top-level domains counted when a dotted word ends in one (without "so", "sh", "py", "c"...,
 * which are file names far more often than domains). */
static const char *const tlds[] = {
	"com",     "net",  "org",     "info",  "biz",   "io",   "ru",   "cn",     "xyz",  "top",
	"tk",      "ml",   "ga",      "cf",    "gq",    "pw",   "cc",   "me",     "us",   "uk",
	"de",      "jp",   "kr",      "br",    "eu",    "su",   "club", "online", "site", "live",
	"space",   "pro",  "fun",     "icu",   "vip",   "work", "link", "ws",     "to",   "in",
	"nl",      "fr",   "it",      "tw",    "hk",    "vn",   "ir",   "ua",     "ro",   "pl",
	"invalid", "test", "example", "local", "onion", "bit",  "lol",  "gov",    "edu",  "mil",
	"int",     "co",   "tv",      "biz",   "name",  "mobi", "app",
};

struct str_sets {
	json_t *urls, *ips, *domains, *creds, *cmds, *xor22;
	size_t count;
};

void box_add_unique(json_t *arr, json_t *v, size_t max)
{
	size_t i;
	json_t *x;
	if (json_array_size(arr) < max) {
		json_array_foreach(arr, i, x)
			if (json_equal(x, v))
				goto drop;
		json_array_append_new(arr, v);
		return;
	}
drop:
	json_decref(v);
}

/* Appends s to an array once, at most BOX_STRINGS_KEPT entries. */
static void add_unique(json_t *arr, const char *s, size_t len)
{
	if (len)
		box_add_unique(arr, core_json_bytes(s, len), BOX_STRINGS_KEPT);
}

static bool is_cred(const char *s, size_t len)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(cred_words); i++)
		if (strlen(cred_words[i]) == len && memcmp(cred_words[i], s, len) == 0)
			return true;
	return false;
}

static bool is_tld(const char *s, size_t len)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(tlds); i++)
		if (strlen(tlds[i]) == len && strncasecmp(tlds[i], s, len) == 0)
			return true;
	return false;
}

static bool host_char(int c)
{
	return isalnum(c) || c == '-' || c == '.';
}

/* Dotted quads (optionally :port) inside s. */
static void find_ips(struct str_sets *ss, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) ||
		    (i > 0 && (isdigit((unsigned char)s[i - 1]) || s[i - 1] == '.')))
			continue;
		size_t j = i;
		int parts = 0;
		bool ok = true;
		while (parts < 4) {
			size_t k = j;
			unsigned v = 0;
			while (k < len && isdigit((unsigned char)s[k]) && k - j < 3)
				v = v * 10 + (unsigned)(s[k++] - '0');
			if (k == j || v > 255 || (k < len && isdigit((unsigned char)s[k]))) {
				ok = false;
				break;
			}
			parts++;
			j = k;
			if (parts < 4) {
				if (j >= len || s[j] != '.') {
					ok = false;
					break;
				}
				j++;
			}
		}
		if (!ok || (j < len && (s[j] == '.' || isalpha((unsigned char)s[j]))))
			continue;
		if (j + 1 < len && s[j] == ':' && isdigit((unsigned char)s[j + 1])) {
			j++;
			while (j < len && isdigit((unsigned char)s[j]) && j < len)
				j++;
		}
		add_unique(ss->ips, s + i, j - i);
		i = j;
	}
}

static void find_domains(struct str_sets *ss, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		if (!host_char((unsigned char)s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < len && host_char((unsigned char)s[j]))
			j++;
		/* s[i, j) is a dotted word; trim dots at its ends. */
		size_t a = i, b = j;
		while (a < b && s[a] == '.')
			a++;
		while (b > a && s[b - 1] == '.')
			b--;
		const char *dot = NULL;
		int labels = 1;
		bool alpha = false;
		for (size_t k = a; k < b; k++) {
			if (s[k] == '.') {
				dot = s + k;
				labels++;
			}
			alpha |= isalpha((unsigned char)s[k]);
		}
		/* Not a domain: a section name (".data.rel.ro"), an identifier
		 * ("glibc.malloc.top_pad"), a path component or a mail address. */
		bool ident = (j < len && (s[j] == '_' || s[j] == '/')) || a > i ||
			     (i > 0 && (s[i - 1] == '/' || s[i - 1] == '@' || s[i - 1] == '_' ||
					s[i - 1] == '%'));
		if (dot && labels >= 2 && alpha && b - a <= 253 && s[a] != '-' && !ident &&
		    is_tld(dot + 1, (size_t)(s + b - dot - 1)))
			add_unique(ss->domains, s + a, b - a);
		i = j;
	}
}

static void find_urls(struct str_sets *ss, const char *s, size_t len)
{
	static const char *const schemes[] = {"http://", "https://", "ftp://", "tftp://"};
	for (size_t k = 0; k < LIB_ARRAY_LEN(schemes); k++) {
		size_t sl = strlen(schemes[k]);
		for (const char *q = s; q && (size_t)(q - s) + sl <= len;) {
			q = memmem(q, len - (size_t)(q - s), schemes[k], sl);
			if (!q)
				break;
			size_t j = (size_t)(q - s) + sl;
			/* Up to white space, a quote, or a shell operator (droppers write URLs in
			 * shell). */
			while (j < len && s[j] > ' ' && !strchr("\"'<>;|&`()", s[j]))
				j++;
			if (j > (size_t)(q - s) + sl)
				add_unique(ss->urls, q, j - (size_t)(q - s));
			q = s + j;
		}
	}
}

static void classify(struct str_sets *ss, const char *s, size_t len)
{
	ss->count++;
	find_urls(ss, s, len);
	find_ips(ss, s, len);
	find_domains(ss, s, len);
	if (is_cred(s, len))
		add_unique(ss->creds, s, len);
	for (size_t i = 0; i < LIB_ARRAY_LEN(cmd_marks); i++) {
		const char *m = memmem(s, len, cmd_marks[i], strlen(cmd_marks[i]));
		/* A command word starts a word: "ps " in "nsteps " is not one. */
		if (m && (m == s || !(isalnum((unsigned char)m[-1]) || m[-1] == '_'))) {
			add_unique(ss->cmds, s, len);
			break;
		}
	}
}

/* A string decoded with XOR 0x22 is kept only if it looks deliberate: a path, a known
 * credential, a domain-like word or one of Mirai's table words. Random bytes decode to junk. */
static void classify_xor(struct str_sets *ss, const char *s, size_t len)
{
	static const char *const words[] = {"busybox", "MIRAI", "applet", "TSource",  "watchdog",
					    "/proc/",  "shell", "enable", "ncorrect", "nameserver"};
	bool keep = is_cred(s, len) && len >= 4;
	if (!keep && len >= 5 && s[0] == '/' && isalpha((unsigned char)s[1]))
		keep = true;
	for (size_t i = 0; !keep && i < LIB_ARRAY_LEN(words); i++)
		keep = memmem(s, len, words[i], strlen(words[i])) != NULL;
	if (!keep) {
		struct str_sets probe = {.domains = json_array()};
		find_domains(&probe, s, len);
		keep = json_array_size(probe.domains) > 0;
		json_decref(probe.domains);
	}
	if (keep) {
		add_unique(ss->xor22, s, len);
		if (is_cred(s, len))
			add_unique(ss->creds, s, len);
		find_domains(ss, s, len);
	}
}

static void extract(struct str_sets *ss, const uint8_t *p, size_t n, uint8_t key,
		    void (*fn)(struct str_sets *, const char *, size_t))
{
	char cur[BOX_STRING_MAX];
	size_t len = 0;
	n = LIB_MIN(n, (size_t)BOX_STRINGS_SCAN_MAX);
	for (size_t i = 0; i <= n; i++) {
		/* With a key, a zero byte (padding between encoded strings) ends a string too. */
		int c = i < n && !(key && p[i] == 0) ? p[i] ^ key : -1;
		if (c >= 0x20 && c < 0x7f) {
			if (len < sizeof(cur))
				cur[len] = (char)c;
			len++;
			continue;
		}
		if (len >= BOX_STRING_MIN)
			fn(ss, cur, LIB_MIN(len, sizeof(cur)));
		len = 0;
	}
}

json_t *box_strings(const uint8_t *p, size_t n)
{
	struct str_sets ss = {
		.urls = json_array(),
		.ips = json_array(),
		.domains = json_array(),
		.creds = json_array(),
		.cmds = json_array(),
		.xor22 = json_array(),
	};
	extract(&ss, p, n, 0, classify);
	size_t plain = ss.count;
	extract(&ss, p, n, 0x22, classify_xor);
	return json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "count", (json_int_t)plain, "urls",
			 ss.urls, "ips", ss.ips, "domains", ss.domains, "credentials", ss.creds,
			 "commands", ss.cmds, "xor22", ss.xor22);
}

void box_ssdeep(const uint8_t *p, size_t n, char out[160])
{
	char res[FUZZY_MAX_RESULT];
	out[0] = '\0';
	if (fuzzy_hash_buf(p, (uint32_t)LIB_MIN(n, (size_t)UINT32_MAX), res) == 0)
		lib_strlcpy(out, res, 160);
}

/* ------------------------------------------------------------------ YARA */

struct box_yara {
	YR_RULES *rules;
};

static void yara_compile_error(int level, const char *file, int line, const YR_RULE *rule,
			       const char *msg, void *arg)
{
	(void)rule;
	(void)arg;
	if (level == YARA_ERROR_LEVEL_ERROR)
		log_error("yara", "%s:%d: %s", file ? file : "?", line, msg);
	else
		log_debug("yara", "%s:%d: %s", file ? file : "?", line, msg);
}

LIB_DL_LIBRARY(box_yara_load, BOX_YARA_SONAME, BOX_YARA_PACKAGE, BOX_YARA_SYMBOLS)

static int yara_init(void)
{
	/* libyara keeps process-wide state; one initialisation per process (the analysis child). */
	static bool done;
	if (done)
		return 0;
	char why[256];
	if (box_yara_load(why, sizeof(why))) {
		log_error("yara", "cannot load libyara: %s", why);
		return -ENOENT;
	}
	if (box_yr_initialize() != ERROR_SUCCESS)
		return -ENOMEM;
	done = true;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int box_yara_open(const char *dir, struct box_yara **out)
{
	*out = NULL;
	int rc = yara_init();
	if (rc)
		return rc;
	DIR *d = opendir(dir);
	if (!d) {
		log_error("yara", "cannot open the rules folder %s: %s", dir, strerror(errno));
		return -errno;
	}
	char *names[256];
	size_t count = 0;
	struct dirent *de;
	while ((de = readdir(d)) && count < LIB_ARRAY_LEN(names))
		if (lib_str_suffix(de->d_name, ".yar"))
			names[count++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, count, sizeof(names[0]), name_cmp);
	YR_COMPILER *c;
	if (box_yr_compiler_create(&c) != ERROR_SUCCESS) {
		for (size_t i = 0; i < count; i++)
			free(names[i]);
		return -ENOMEM;
	}
	box_yr_compiler_set_callback(c, yara_compile_error, NULL);
	int errors = 0;
	for (size_t i = 0; i < count; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		FILE *f = fopen(path, "r");
		if (!f) {
			log_error("yara", "cannot read %s", path);
			errors++;
		} else {
			errors += box_yr_compiler_add_file(c, f, NULL, path);
			fclose(f);
		}
		free(path);
		free(names[i]);
	}
	if (errors || count == 0) {
		if (count == 0)
			log_error("yara", "no .yar files in %s", dir);
		box_yr_compiler_destroy(c);
		return -EINVAL;
	}
	struct box_yara *y = xcalloc(1, sizeof(*y));
	if (box_yr_compiler_get_rules(c, &y->rules) != ERROR_SUCCESS) {
		box_yr_compiler_destroy(c);
		free(y);
		return -ENOMEM;
	}
	box_yr_compiler_destroy(c);
	*out = y;
	return 0;
}

static int yara_match(YR_SCAN_CONTEXT *ctx, int message, void *data, void *arg)
{
	json_t *arr = arg;
	if (message != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	if (json_array_size(arr) >= BOX_YARA_MATCHES)
		return CALLBACK_ABORT;
	YR_RULE *rule = data;
	const char *family = NULL, *desc = NULL;
	YR_META *meta;
	yr_rule_metas_foreach(rule, meta) {
		if (meta->type != META_TYPE_STRING)
			continue;
		if (strcmp(meta->identifier, "family") == 0)
			family = meta->string;
		else if (strcmp(meta->identifier, "description") == 0)
			desc = meta->string;
	}
	int strings = 0;
	YR_STRING *s;
	/* The match lists themselves live in YARA's unaligned notebook memory: only the counts
	 * are read. */
	yr_rule_strings_foreach(rule, s) {
		if (ctx->matches[s->idx].count > 0)
			strings++;
	}
	json_t *o = json_pack("{s:s,s:s?,s:s?,s:i}", "rule", rule->identifier, "family", family,
			      "description", desc, "strings", strings);
	json_array_append_new(arr, o);
	return CALLBACK_CONTINUE;
}

static int by_strings(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t sx = json_integer_value(json_object_get(x, "strings"));
	json_int_t sy = json_integer_value(json_object_get(y, "strings"));
	if (sx != sy)
		return sx > sy ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "rule")),
		      json_string_value(json_object_get(y, "rule")));
}

json_t *box_yara_scan(struct box_yara *y, const uint8_t *p, size_t n)
{
	json_t *arr = json_array();
	if (!y)
		return arr;
	int rc = box_yr_rules_scan_mem(y->rules, p, n, SCAN_FLAGS_FAST_MODE, yara_match, arr,
				       BOX_YARA_TIMEOUT);
	if (rc != ERROR_SUCCESS && rc != ERROR_SCAN_TIMEOUT)
		log_warn("yara", "scan failed (%d)", rc);
	/* Sort: strongest match first. */
	size_t k = json_array_size(arr);
	json_t **v = xcalloc(k ? k : 1, sizeof(*v));
	for (size_t i = 0; i < k; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, k, sizeof(*v), by_strings);
	json_array_clear(arr);
	for (size_t i = 0; i < k; i++)
		json_array_append_new(arr, v[i]);
	free(v);
	return arr;
}

void box_yara_close(struct box_yara *y)
{
	if (!y)
		return;
	box_yr_rules_destroy(y->rules);
	free(y);
}

char *box_rules_dir(const struct core_config *cfg)
{
	const char *d = core_cfg_str(cfg, OPT_BOX_RULES);
	if (d && *d)
		return xstrdup(d);
	return xstrdup(MITSU_SOURCE_DIR "/rules/yara");
}

/* ------------------------------------------------------------------ all of it */

json_t *box_static(const struct core_config *cfg, const uint8_t *p, size_t n)
{
	struct lib_hashes h;
	lib_hashes(p, n, &h);
	char ssdeep[160], tlsh[80], filetype[24];
	box_ssdeep(p, n, ssdeep);
	box_tlsh(p, n, tlsh);
	capture_file_type(p, n, filetype);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "sha256", h.sha256, "sha1", h.sha1,
			      "md5", h.md5, "ssdeep", ssdeep, "tlsh", tlsh, "size", (json_int_t)n,
			      "filetype", filetype);
	struct box_elf e;
	bool elf = box_elf_parse(p, n, &e) == 0;
	json_object_set_new(o, "arch", json_string(elf ? e.arch : ""));
	json_object_set_new(o, "elf", elf ? box_elf_json(&e) : json_null());
	struct box_packer pk;
	box_packer_detect(p, n, elf ? &e : NULL, &pk);
	json_object_set_new(o, "packer", box_packer_json(&pk));
	json_object_set_new(o, "strings", box_strings(p, n));
	char *dir = box_rules_dir(cfg);
	struct box_yara *y;
	if (box_yara_open(dir, &y) == 0) {
		json_object_set_new(o, "yara", box_yara_scan(y, p, n));
		box_yara_close(y);
	} else {
		json_object_set_new(o, "yara", json_array());
		json_object_set_new(o, "yara_error",
				    json_sprintf("cannot compile the rules in %s", dir));
	}
	free(dir);
	return o;
}
