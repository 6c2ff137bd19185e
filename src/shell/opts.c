/* shell/opts: the one option parser of the applets. shell_getopt walks argv as BusyBox's
 * getopt does (bundled letters, "-xVALUE" and "-x VALUE", "--", permuted operands, errors worded
 * as the profile's C library words them); shell_opts runs it to the end in one call, as
 * BusyBox's getopt32, for the applets whose options are flags and single values. */
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

int shell_bad_option(struct cmd *c, char opt)
{
	const char *interp = c->sh->prof ? c->sh->prof->elf.interp : NULL;
	if (interp && strstr(interp, "musl"))
		shell_errf(c, "%s: unrecognized option: %c\n", c->name, opt);
	else if (interp && (strstr(interp, "ld-linux") || strstr(interp, "ld64")))
		shell_errf(c, "%s: invalid option -- '%c'\n", c->name, opt);
	else
		shell_errf(c, "%s: invalid option -- %c\n", c->name, opt);
	shell_usage(c, c->name);
	return 1;
}

static void missing_arg(struct cmd *c, char opt)
{
	const char *interp = c->sh->prof ? c->sh->prof->elf.interp : NULL;
	if (interp && strstr(interp, "musl"))
		shell_errf(c, "%s: option requires an argument: %c\n", c->name, opt);
	else if (interp && (strstr(interp, "ld-linux") || strstr(interp, "ld64")))
		shell_errf(c, "%s: option requires an argument -- '%c'\n", c->name, opt);
	else
		shell_errf(c, "%s: option requires an argument -- %c\n", c->name, opt);
	shell_usage(c, c->name);
}

static void add_operand(struct shell_getopt *g, char *s)
{
	g->operands = xrealloc(g->operands, (size_t)(g->noperands + 2) * sizeof(char *));
	g->operands[g->noperands++] = s;
	g->operands[g->noperands] = NULL;
}

/* spec: option letters, ':' after one that takes an argument, '+' first to stop at the first
 * operand. Long options ("--x[=v]") are returned as 1 with g->arg pointing after "--". */
int shell_getopt(struct cmd *c, struct shell_getopt *g, const char *spec)
{
	bool stop_first = spec[0] == '+';
	if (stop_first)
		spec++;
	if (g->ind == 0) {
		g->ind = 1;
		g->sub = 0;
	}
	for (;;) {
		if (g->ind >= c->argc)
			return -1;
		char *a = c->argv[g->ind];
		if (g->sub == 0) {
			if (strcmp(a, "--") == 0) {
				for (int i = g->ind + 1; i < c->argc; i++)
					add_operand(g, c->argv[i]);
				g->ind = c->argc;
				return -1;
			}
			if (a[0] != '-' || !a[1]) {
				if (stop_first) {
					for (int i = g->ind; i < c->argc; i++)
						add_operand(g, c->argv[i]);
					g->ind = c->argc;
					return -1;
				}
				add_operand(g, a);
				g->ind++;
				continue;
			}
			if (a[1] == '-') {
				g->arg = a + 2;
				g->ind++;
				return 1;
			}
			g->sub = 1;
		}
		char o = a[g->sub];
		if (!o) {
			g->ind++;
			g->sub = 0;
			continue;
		}
		const char *p = strchr(spec, o);
		if (!p || o == ':') {
			shell_bad_option(c, o);
			return '?';
		}
		g->sub++;
		if (p[1] == ':') {
			if (a[g->sub]) {
				g->arg = a + g->sub;
			} else if (g->ind + 1 < c->argc) {
				g->arg = c->argv[++g->ind];
			} else {
				missing_arg(c, o);
				return '?';
			}
			g->ind++;
			g->sub = 0;
		} else {
			g->arg = NULL;
			if (!a[g->sub]) {
				g->ind++;
				g->sub = 0;
			}
		}
		return o;
	}
}

/* The value of a long option given as the next argument ("--output-document FILE"). */
const char *shell_getopt_longarg(struct cmd *c, struct shell_getopt *g, const char *name)
{
	const char *eq = strchr(g->arg, '=');
	if (eq)
		return eq + 1;
	if (g->ind < c->argc)
		return c->argv[g->ind++];
	(void)name;
	return NULL;
}

void shell_getopt_done(struct shell_getopt *g)
{
	free(g->operands);
	g->operands = NULL;
	g->noperands = 0;
}

static int opt_bit(char letter)
{
	if (letter >= 'a' && letter <= 'z')
		return letter - 'a';
	if (letter >= 'A' && letter <= 'Z')
		return 26 + letter - 'A';
	if (letter >= '0' && letter <= '9')
		return 52 + letter - '0';
	return -1;
}

int shell_opts(struct cmd *c, const char *spec, struct shell_opts *o)
{
	memset(o, 0, sizeof(*o));
	struct shell_getopt g = {0};
	int ch;
	while ((ch = shell_getopt(c, &g, spec)) != -1) {
		if (ch == '?') {
			shell_getopt_done(&g);
			return -1;
		}
		int bit = opt_bit((char)ch);
		if (bit < 0)
			continue; /* a long option: these applets ignore them, as BusyBox's do */
		o->set |= 1ull << bit;
		o->count[bit]++;
		if (g.arg)
			o->arg[bit] = g.arg;
	}
	o->operands = g.operands;
	o->noperands = g.noperands;
	return 0;
}

bool shell_opt(const struct shell_opts *o, char letter)
{
	int bit = opt_bit(letter);
	return bit >= 0 && (o->set >> bit & 1);
}

const char *shell_optarg(const struct shell_opts *o, char letter)
{
	int bit = opt_bit(letter);
	return bit >= 0 ? o->arg[bit] : NULL;
}

void shell_opts_free(struct shell_opts *o)
{
	free(o->operands);
	o->operands = NULL;
	o->noperands = 0;
}
