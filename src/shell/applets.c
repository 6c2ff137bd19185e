/* shell/applets: the applet table (what `busybox APPLET` and $PATH lookups run) and the helpers
 * the applet files share (fileutils.c, ls.c, streams.c, procutils.c, textutils.c, sysinfo.c,
 * net.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

/* ------------------------------------------------------------------ helpers */

int shell_resolve(struct cmd *c, const char *path, bool follow, char *abs, struct vstat *st)
{
	bool pok;
	return shell_vfs_resolve(V(c), CWD(c), path, follow, abs, st, &pok);
}

int shell_read_path(struct cmd *c, const char *path, struct shell_rd *r)
{
	memset(r, 0, sizeof(*r));
	r->p = (const uint8_t *)"";
	if (strcmp(path, "-") == 0) {
		r->p = shell_stdin(c, &r->n, &r->attacker);
		return 0;
	}
	char abs[SH_PATH_MAX];
	struct vstat st;
	int rc = shell_resolve(c, path, true, abs, &st);
	if (rc)
		return rc;
	if (st.kind == VN_DIR)
		return -EISDIR;
	if (st.kind == VN_CHR) {
		if (st.dev == VDEV_ZERO || st.dev == VDEV_RANDOM) {
			r->tmp = xcalloc(1, SH_DEV_READ_MAX);
			if (st.dev == VDEV_RANDOM)
				lib_random(r->tmp, SH_DEV_READ_MAX);
			r->p = r->tmp;
			r->n = SH_DEV_READ_MAX;
		}
		return 0;
	}
	r->p = st.data ? st.data : (const uint8_t *)"";
	r->n = st.size;
	r->attacker = st.ve && st.ve->data && st.ve->data->attacker;
	return 0;
}

void shell_rd_free(struct shell_rd *r)
{
	free(r->tmp);
}

const char *shell_base_name(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	const char *s = p + n;
	while (s > p && s[-1] != '/')
		s--;
	return s;
}

/* The applets of the other files. */
int shell_cmd_basename(struct cmd *c);
int shell_cmd_cat(struct cmd *c);
int shell_cmd_chmod(struct cmd *c);
int shell_cmd_chown(struct cmd *c);
int shell_cmd_cp(struct cmd *c);
int shell_cmd_date(struct cmd *c);
int shell_cmd_dd(struct cmd *c);
int shell_cmd_dirname(struct cmd *c);
int shell_cmd_env(struct cmd *c);
int shell_cmd_false_a(struct cmd *c);
int shell_cmd_grep(struct cmd *c);
int shell_cmd_hash(struct cmd *c);
int shell_cmd_head(struct cmd *c);
int shell_cmd_kill_a(struct cmd *c);
int shell_cmd_ln(struct cmd *c);
int shell_cmd_ls(struct cmd *c);
int shell_cmd_mkdir(struct cmd *c);
int shell_cmd_mktemp(struct cmd *c);
int shell_cmd_mv(struct cmd *c);
int shell_cmd_nice(struct cmd *c);
int shell_cmd_nohup(struct cmd *c);
int shell_cmd_reboot(struct cmd *c);
int shell_cmd_rm(struct cmd *c);
int shell_cmd_rmdir(struct cmd *c);
int shell_cmd_seq(struct cmd *c);
int shell_cmd_setsid(struct cmd *c);
int shell_cmd_sleep(struct cmd *c);
int shell_cmd_tail(struct cmd *c);
int shell_cmd_tee(struct cmd *c);
int shell_cmd_time(struct cmd *c);
int shell_cmd_timeout(struct cmd *c);
int shell_cmd_touch(struct cmd *c);
int shell_cmd_hexdump(struct cmd *c);
int shell_cmd_od(struct cmd *c);
int shell_cmd_netstat(struct cmd *c);
int shell_cmd_ping(struct cmd *c);
int shell_cmd_tty(struct cmd *c);
int shell_cmd_usleep(struct cmd *c);
int shell_cmd_true_a(struct cmd *c);
int shell_cmd_wc(struct cmd *c);
int shell_cmd_which(struct cmd *c);
int shell_cmd_yes(struct cmd *c);
int shell_cmd_ps(struct cmd *c);
int shell_cmd_killall(struct cmd *c);
int shell_cmd_pidof(struct cmd *c);
int shell_cmd_uname(struct cmd *c);
int shell_cmd_id(struct cmd *c);
int shell_cmd_whoami(struct cmd *c);
int shell_cmd_who(struct cmd *c);
int shell_cmd_hostname(struct cmd *c);
int shell_cmd_uptime(struct cmd *c);
int shell_cmd_free(struct cmd *c);
int shell_cmd_df(struct cmd *c);
int shell_cmd_mount(struct cmd *c);
int shell_cmd_ifconfig(struct cmd *c);
int shell_cmd_ip(struct cmd *c);
int shell_cmd_sh(struct cmd *c);
int shell_cmd_busybox(struct cmd *c);
int shell_cmd_wget(struct cmd *c);
int shell_cmd_curl(struct cmd *c);
int shell_cmd_tftp(struct cmd *c);
int shell_cmd_ftpget(struct cmd *c);
int shell_cmd_ftpput(struct cmd *c);
int shell_cmd_nproc(struct cmd *c);
int shell_cmd_cut(struct cmd *c);
int shell_cmd_sort(struct cmd *c);
int shell_cmd_uniq(struct cmd *c);
int shell_cmd_tr(struct cmd *c);
int shell_cmd_xargs(struct cmd *c);
int shell_cmd_sed(struct cmd *c);
int shell_cmd_awk(struct cmd *c);

static const struct sh_command applets[] = {
	{.name = "[", .fn = shell_cmd_test},
	{.name = "[[", .fn = shell_cmd_test},
	{.name = "ash", .fn = shell_cmd_sh},
	{.name = "awk", .fn = shell_cmd_awk},
	{.name = "basename", .fn = shell_cmd_basename},
	{.name = "busybox", .fn = shell_cmd_busybox},
	{.name = "cat", .fn = shell_cmd_cat},
	{.name = "chgrp", .fn = shell_cmd_chown},
	{.name = "chmod", .fn = shell_cmd_chmod},
	{.name = "chown", .fn = shell_cmd_chown},
	{.name = "cp", .fn = shell_cmd_cp},
	{.name = "curl", .fn = shell_cmd_curl},
	{.name = "cut", .fn = shell_cmd_cut},
	{.name = "date", .fn = shell_cmd_date},
	{.name = "dd", .fn = shell_cmd_dd},
	{.name = "df", .fn = shell_cmd_df},
	{.name = "dirname", .fn = shell_cmd_dirname},
	{.name = "echo", .fn = shell_cmd_echo},
	{.name = "egrep", .fn = shell_cmd_grep},
	{.name = "env", .fn = shell_cmd_env},
	{.name = "false", .fn = shell_cmd_false_a},
	{.name = "fgrep", .fn = shell_cmd_grep},
	{.name = "free", .fn = shell_cmd_free},
	{.name = "ftpget", .fn = shell_cmd_ftpget},
	{.name = "ftpput", .fn = shell_cmd_ftpput},
	{.name = "grep", .fn = shell_cmd_grep},
	{.name = "halt", .fn = shell_cmd_reboot},
	{.name = "head", .fn = shell_cmd_head},
	{.name = "hexdump", .fn = shell_cmd_hexdump},
	{.name = "hostname", .fn = shell_cmd_hostname},
	{.name = "id", .fn = shell_cmd_id},
	{.name = "ifconfig", .fn = shell_cmd_ifconfig},
	{.name = "ip", .fn = shell_cmd_ip},
	{.name = "kill", .fn = shell_cmd_kill_a},
	{.name = "killall", .fn = shell_cmd_killall},
	{.name = "ln", .fn = shell_cmd_ln},
	{.name = "ls", .fn = shell_cmd_ls},
	{.name = "md5sum", .fn = shell_cmd_hash},
	{.name = "mkdir", .fn = shell_cmd_mkdir},
	{.name = "mktemp", .fn = shell_cmd_mktemp},
	{.name = "mount", .fn = shell_cmd_mount},
	{.name = "mv", .fn = shell_cmd_mv},
	{.name = "netstat", .fn = shell_cmd_netstat},
	{.name = "nice", .fn = shell_cmd_nice},
	{.name = "nohup", .fn = shell_cmd_nohup},
	{.name = "nproc", .fn = shell_cmd_nproc},
	{.name = "od", .fn = shell_cmd_od},
	{.name = "pidof", .fn = shell_cmd_pidof},
	{.name = "ping", .fn = shell_cmd_ping},
	{.name = "poweroff", .fn = shell_cmd_reboot},
	{.name = "printenv", .fn = shell_cmd_env},
	{.name = "printf", .fn = shell_cmd_printf},
	{.name = "ps", .fn = shell_cmd_ps},
	{.name = "pwd", .fn = NULL},
	{.name = "reboot", .fn = shell_cmd_reboot},
	{.name = "rm", .fn = shell_cmd_rm},
	{.name = "rmdir", .fn = shell_cmd_rmdir},
	{.name = "sed", .fn = shell_cmd_sed},
	{.name = "seq", .fn = shell_cmd_seq},
	{.name = "setsid", .fn = shell_cmd_setsid},
	{.name = "sh", .fn = shell_cmd_sh},
	{.name = "sha1sum", .fn = shell_cmd_hash},
	{.name = "sha256sum", .fn = shell_cmd_hash},
	{.name = "sleep", .fn = shell_cmd_sleep},
	{.name = "sort", .fn = shell_cmd_sort},
	{.name = "sync", .fn = shell_cmd_true_a},
	{.name = "tail", .fn = shell_cmd_tail},
	{.name = "tee", .fn = shell_cmd_tee},
	{.name = "test", .fn = shell_cmd_test},
	{.name = "tftp", .fn = shell_cmd_tftp},
	{.name = "time", .fn = shell_cmd_time},
	{.name = "timeout", .fn = shell_cmd_timeout},
	{.name = "touch", .fn = shell_cmd_touch},
	{.name = "tr", .fn = shell_cmd_tr},
	{.name = "true", .fn = shell_cmd_true_a},
	{.name = "tty", .fn = shell_cmd_tty},
	{.name = "uname", .fn = shell_cmd_uname},
	{.name = "uniq", .fn = shell_cmd_uniq},
	{.name = "uptime", .fn = shell_cmd_uptime},
	{.name = "usleep", .fn = shell_cmd_usleep},
	{.name = "wc", .fn = shell_cmd_wc},
	{.name = "wget", .fn = shell_cmd_wget},
	{.name = "which", .fn = shell_cmd_which},
	{.name = "who", .fn = shell_cmd_who},
	{.name = "whoami", .fn = shell_cmd_whoami},
	{.name = "xargs", .fn = shell_cmd_xargs},
	{.name = "yes", .fn = shell_cmd_yes},
};

const struct sh_command *shell_find_applet(const char *name)
{
	size_t lo = 0, hi = LIB_ARRAY_LEN(applets);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(applets[mid].name, name);
		if (r == 0)
			return &applets[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool shell_applet_known(const char *name)
{
	return shell_find_applet(name) != NULL;
}

int shell_applet(struct cmd *c, const char *name)
{
	c->name = name;
	c->method = NULL;
	if (c->argc == 2 && strcmp(c->argv[1], "--help") == 0 && strcmp(name, "test") != 0 &&
	    strcmp(name, "busybox") != 0) {
		shell_usage(c, name);
		return 0;
	}
	if (strcmp(name, "pwd") == 0) {
		shell_printf(c, "%s\n", c->sh->lvl->cwd);
		return 0;
	}
	const struct sh_command *a = shell_find_applet(name);
	if (!a || !a->fn)
		return 0; /* an applet of the device we do not emulate: it says nothing */
	return a->fn(c);
}
