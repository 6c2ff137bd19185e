/* Fuzz target: the dashboard's URL handling. The input is a path and a query string, split at
 * the first '?': the path goes to web_route, the query to web_query_parse. Both must accept
 * any bytes without reading out of bounds, and leave a query whose values are in their
 * bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *qm = memchr(data, '?', size);
	size_t plen = qm ? (size_t)(qm - data) : size;
	char *path = malloc(plen + 1);
	memcpy(path, data, plen);
	path[plen] = 0;
	struct web_route r;
	if (web_route(path, &r) == 0 && r.kind == WEB_R_SAMPLE && strlen(r.arg) != 64)
		abort();
	free(path);
	if (qm) {
		struct web_query q;
		web_query_init(&q);
		char err[128];
		size_t n = size - plen - 1;
		char *raw = malloc(n + 1); /* not NUL-terminated input, copied to catch overreads */
		memcpy(raw, qm + 1, n);
		if (web_query_parse(&q, raw, n, 1700000000, err, sizeof(err)) == 0) {
			if (q.limit < 1 || q.limit > WEB_MAX_ROWS || q.offset < 0 ||
			    q.offset > WEB_MAX_OFFSET || strlen(q.search) > WEB_MAX_SEARCH)
				abort();
		}
		free(raw);
	}
	return 0;
}
