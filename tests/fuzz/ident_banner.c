/* Fuzz target: what a probed device may answer, through every parser and the matcher: the
 * bytes as an HTTP or RTSP response (headers, <title>), as Telnet (option negotiation), as a
 * UPnP description, and as the value of every match key against the shipped fingerprints. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident/ident.h"

static struct ident_db *db;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db) {
		char err[512];
		db = ident_db_new();
		if (ident_db_load_dir(db, MITSU_SOURCE_DIR "/fingerprints", err, sizeof(err)))
			abort();
	}
	struct ident_http_resp r;
	if (ident_http_parse(data, size, &r) == 0 || r.status_line) {
		size_t len;
		ident_http_header(&r, "Server", 0, &len);
		ident_http_header(&r, "WWW-Authenticate", 1, &len);
		if (r.body) {
			char title[256];
			ident_html_title(r.body, r.body_len, title, sizeof(title));
		}
	}
	char title[64];
	ident_html_title((const char *)data, size, title, sizeof(title));
	uint8_t out[512], reply[96];
	size_t nreply;
	uint32_t state = 0;
	for (size_t off = 0; off < size; off += 7) /* in pieces: state carried across */
		ident_telnet_filter(data + off, LIB_MIN(7, size - off), out, sizeof(out), reply,
				    sizeof(reply), &nreply, &state);
	struct ident_upnp_desc *d = malloc(sizeof(*d));
	if (ident_upnp_parse((const char *)data, size, d) == 0) {
		char text[1024];
		ident_upnp_text(d, text, sizeof(text));
	}
	free(d);
	static const char *const keys[] = {
		"telnet.banner", "http_header.server", "http_header.wwwauth", "html_title",
		"ftp.banner",    "rtsp_header.server", "ssdp_header.server",  "upnp.description",
		"x509.subject",  "ssh.banner"};
	struct ident_host *h = calloc(1, sizeof(*h));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ident_host_add_field(h, IDENT_PROBE_HTTP, 80, keys[i], data, size);
	struct ident_result res;
	ident_classify(db, h, 0.5, &res);
	json_t *j = ident_result_json(h, &res);
	json_decref(j);
	ident_result_free(&res);
	ident_host_clear(h);
	free(h);
	return 0;
}
