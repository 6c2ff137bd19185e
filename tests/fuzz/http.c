/* Fuzz target: arbitrary bytes from an HTTP peer through the request parser
 * (src/sensor/proto/http_parse.c) and every request it completes through the emulated device
 * (src/webui/) of a shipped web profile, chosen by the first byte. The input is fed in chunks
 * split at each 0x00 0x00 pair, so the fuzzer also explores how input is split. */
#include <stdint.h>
#include <stdlib.h>

#include "sensor/proto/http_parse.h"
#include "webui/webui.h"

static struct profile_set set;
static struct webui *ui;

static void emit(void *arg, enum core_event id, json_t *fields, const char *message)
{
	json_decref(fields);
}

static void fetch(void *arg, const char *url, const char *method) {}

static void store(void *arg, const void *data, size_t len, const char *method, const char *destfile)
{
}

static const struct webui_io io = {.emit = emit, .fetch = fetch, .store = store};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ui) {
		char err[512];
		struct webui_config cfg = {.max_peers = 64, .nonce_ms = 1000};
		if (profile_web_load_all(profile_default_dir(), &set, err, sizeof(err)) ||
		    set.count == 0 || webui_open(&ui, &cfg, err, sizeof(err)))
			abort();
	}
	if (size == 0)
		return 0;
	const struct profile *p = set.items[data[0] % set.count];
	static const struct sensor_http_limits lim = {
		.max_line = 2048, .max_headers = 32, .max_head = 8192, .max_body = 65536};
	struct sensor_http_parser hp;
	sensor_http_init(&hp, &lim);
	struct buf out;
	buf_init(&out, 0);
	size_t start = 1;
	for (size_t i = 1; i <= size; i++) {
		if (i < size && !(i + 1 < size && data[i] == 0 && data[i + 1] == 0))
			continue;
		const uint8_t *chunk = data + start;
		size_t n = i - start;
		while (n) {
			size_t used;
			enum sensor_http_status st = sensor_http_feed(&hp, chunk, n, &used);
			chunk += used;
			n -= used;
			while (st == SENSOR_HTTP_DONE) {
				buf_reset(&out);
				webui_handle(ui, p, "192.0.2.1", sensor_http_request(&hp), &io,
					     &out);
				st = sensor_http_next(&hp);
			}
			if (st != SENSOR_HTTP_MORE && st != SENSOR_HTTP_CONTINUE) {
				buf_reset(&out);
				webui_error(ui, p, (int)st, &out);
				goto done;
			}
			if (!used)
				break;
		}
		start = i + 2;
		i++;
	}
done:
	buf_free(&out);
	sensor_http_free(&hp);
	return 0;
}
