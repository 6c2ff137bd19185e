/* Fuzz target for the sandbox's parsers of hostile input. The first byte picks one:
 *   0: a sample file: ELF headers, packer signatures, strings of interest;
 *   1: a DNS query to the fake DNS;
 *   2: a TCP conversation with the fake services (dummy C&C, Telnet, HTTP), cut into chunks
 *      by length bytes, the clock moving between chunks;
 *   3: link frames to the packet analyser, cut the same way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "box/internal.h"

/* Cuts the input into chunks, each preceded by its length byte (0xf0 and up: that many 512-byte
 * blocks, so one read can be larger than the services' bounds); false at the end. */
static bool next_chunk(const uint8_t **p, size_t *n, const uint8_t **chunk, size_t *len,
		       uint8_t *tag)
{
	if (*n == 0)
		return false;
	*tag = (*p)[0];
	size_t want = *tag >= 0xf0 ? (size_t)(*tag - 0xef) * 512 : *tag;
	*len = LIB_MIN(want, *n - 1);
	*chunk = *p + 1;
	*p += 1 + *len;
	*n -= 1 + *len;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 4;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	if (mode == 0) {
		struct box_elf e;
		bool elf = box_elf_parse(p, n, &e) == 0;
		if (elf)
			json_decref(box_elf_json(&e));
		struct box_packer pk;
		box_packer_detect(p, n, elf ? &e : NULL, &pk);
		json_decref(box_packer_json(&pk));
		json_decref(box_strings(p, n));
	} else if (mode == 1) {
		static struct box_dnsmap map;
		uint8_t out[2048];
		char name[256];
		uint16_t qtype;
		uint32_t answer;
		box_dns_reply(&map, p, n, out, sizeof(out), name, &qtype, &answer);
		if (map.count == BOX_DNS_NAMES)
			memset(&map, 0, sizeof(map));
	} else if (mode == 2 && n >= 2) {
		uint16_t port = (uint16_t)(p[0] << 8 | p[1]);
		p += 2;
		n -= 2;
		struct box_conn c;
		struct buf out;
		json_t *log = json_array();
		buf_init(&out, BOX_FAKE_OUT);
		uint64_t now = 1000;
		box_conn_init(&c, BOX_SAMPLE_IP, 40000,
			      port & 1 ? BOX_IP(203, 0, 113, 1) : BOX_GATEWAY_IP, port, NULL, now);
		const uint8_t *chunk;
		size_t len;
		uint8_t tag;
		while (next_chunk(&p, &n, &chunk, &len, &tag)) {
			now += (uint64_t)(tag & 0x3f) *
			       50; /* the clock moves with the length byte */
			box_conn_tick(&c, now, &out, log);
			if (len && box_conn_input(&c, chunk, len, now, &out, log) == 1)
				break;
			buf_reset(&out);
		}
		box_conn_close(&c, log);
		json_decref(box_conn_summary(&c, now));
		box_conn_free(&c);
		buf_free(&out);
		json_decref(log);
	} else if (mode == 3) {
		struct box_pkt *a = box_pkt_new(box_gateway_mac);
		const uint8_t *chunk;
		size_t len;
		uint8_t tag;
		uint64_t ts = 0;
		while (next_chunk(&p, &n, &chunk, &len, &tag))
			box_pkt_feed(a, chunk, len, ts += 1000);
		json_decref(box_pkt_summary(a));
		box_pkt_free(a);
	}
	return 0;
}
