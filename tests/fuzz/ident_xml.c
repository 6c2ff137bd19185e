/* Fuzz target: arbitrary bytes as a Recog-format fingerprint file (expat, the pattern
 * compiler, base64 examples), then the self-test over what loaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ident/ident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ident_db *db = ident_db_new();
	char err[512];
	if (ident_db_load_xml(db, "telnet_banners.xml", (const char *)data, size, err,
			      sizeof(err)) == 0) {
		ident_db_selftest(db, NULL, NULL);
		struct ident_match m = {0};
		ident_db_match(db, "telnet.banner", data, size, &m);
		ident_match_clear(&m);
	}
	ident_db_free(db);
	return 0;
}
