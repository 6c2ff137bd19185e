/* One analysis, start to end, in the calling process: read the file, static analysis, the
 * dynamic run when it can take place (or why not), the verdict, report.json. */
#include "box/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *why_not(const struct box_elf *e, bool elf, char *buf, size_t len)
{
	if (!elf)
		return "not an ELF file";
	const char *q = box_qemu_for(e);
	if (!q) {
		snprintf(buf, len, "no emulator for this CPU (%s)",
			 e->arch[0] ? e->arch : "unknown");
		return buf;
	}
	char path[96];
	snprintf(path, sizeof(path), "/usr/bin/qemu-%s-static", q);
	if (access(path, X_OK) != 0) {
		snprintf(buf, len, "%s is not installed (Debian package qemu-user-static)", path);
		return buf;
	}
	return NULL;
}

int box_analyse(const struct core_config *cfg, const char *path, const char *artefacts_dir,
		bool dynamic, json_t **verdict)
{
	*verdict = NULL;
	uint8_t *data;
	size_t n;
	int rc = lib_read_file(path, BOX_SAMPLE_MAX, &data, &n);
	if (rc)
		return rc;
	char started[LIB_RFC3339_LEN];
	lib_rfc3339_now(started);
	uint64_t t0 = lib_mono_us();
	json_t *stat = box_static(cfg, data, n);
	struct box_elf e;
	bool elf = box_elf_parse(data, n, &e) == 0;
	json_t *dyn = NULL;
	if (dynamic) {
		char buf[200];
		const char *reason = why_not(&e, elf, buf, sizeof(buf));
		if (reason) {
			dyn = json_pack("{s:b,s:s}", "ran", false, "reason", reason);
		} else {
			const char *base = strrchr(path, '/');
			dyn = box_run(cfg, data, n, &e, base ? base + 1 : path, artefacts_dir);
		}
	} else {
		dyn = json_pack("{s:b,s:s}", "ran", false, "reason",
				"static analysis only (--static-only)");
	}
	json_t *v = box_verdict(stat, dyn);
	json_decref(stat);
	json_decref(dyn);
	free(data);
	char finished[LIB_RFC3339_LEN];
	lib_rfc3339_now(finished);
	json_object_set_new(v, "file", core_json_str(path));
	json_object_set_new(v, "started", json_string(started));
	json_object_set_new(v, "analysed", json_string(finished));
	json_object_set_new(v, "analysis_seconds",
			    json_real((double)((lib_mono_us() - t0) / 1000) / 1000.0));
	if (artefacts_dir) {
		json_object_set_new(v, "artefacts", core_json_str(artefacts_dir));
		if (lib_mkdirs(artefacts_dir, 0750) == 0) {
			char *p = xasprintf("%s/report.json", artefacts_dir);
			char *text = json_dumps(v, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
							   JSON_REAL_PRECISION(6));
			if (text) {
				lib_write_file_atomic(p, text, strlen(text), 0640);
				free(text);
			}
			free(p);
		}
	}
	*verdict = v;
	return 0;
}
