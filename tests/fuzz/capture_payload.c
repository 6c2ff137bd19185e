/* Fuzz target: exploit payloads through capture_payload_urls. */
#include <stdint.h>

#include "capture/capture.h"

static void ignore(void *arg, const char *url, const char *method)
{
	(void)arg;
	(void)url;
	(void)method;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	capture_payload_urls(data, size, ignore, NULL);
	return 0;
}
