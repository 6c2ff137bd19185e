/* Fuzz target: profile.ini text through the whole loader (inih, value decoding, list lines,
 * telnet placeholders, ELF generation, tree assembly), then the lookups on what loaded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct profile *p = NULL;
	char err[512];
	if (profile_load_text("fuzz", NULL, text, size, PROFILE_LOAD_NO_CHECKS, &p, err,
			      sizeof(err)) == 0) {
		static const char *const paths[] = {"/bin/echo",           "/bin/sh",
						    "/lib/ld-uClibc.so.0", "/var/run/../tmp",
						    "/proc/mounts",        "/a/b/../../c"};
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			(void)profile_resolve(p, paths[i]);
		for (size_t i = 0; i < p->nnodes; i++) {
			(void)profile_resolve(p, p->nodes[i].path);
			if (p->nodes[i].type == PROFILE_DIR)
				for (const struct profile_node *c =
					     profile_next_child(p, p->nodes[i].path, NULL);
				     c; c = profile_next_child(p, p->nodes[i].path, c))
					;
		}
		(void)profile_accepts(p, "root", "");
		(void)profile_has_applet(p, "wget");
		(void)profile_command(p, "enable");
		profile_free(p);
	}
	free(text);
	return 0;
}
