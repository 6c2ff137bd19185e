/* Fuzz target for the darknet decoder: the first byte picks a link type, the rest is one frame.
 * Every decoded SYN is also matched against a small p0f signature set, and every packet goes
 * through an engine (tiny table bounds, so the overflow paths run too). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scope/scope.h"

static const char fp[] = "classes = win,unix,other\n"
			 "[tcp:request]\n"
			 "label = s:unix:Linux:3.11 and newer\n"
			 "sig = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0\n"
			 "label = g:unix:Linux:2.2.x-3.x\n"
			 "sig = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0\n"
			 "label = s:win:Windows:7 or 8\n"
			 "sig = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0\n"
			 "label = s:!:NMap:SYN scan\n"
			 "sys = @unix\n"
			 "sig = *:64-:0:1460:1024,0:mss::0\n"
			 "label = s:other:Odd:options\n"
			 "sig = *:255:4:*:%2,*:?30,sack,eol+3::+\n";

static const int links[] = {SCOPE_LINK_EN10MB, SCOPE_LINK_RAW,  SCOPE_LINK_SLL,  SCOPE_LINK_SLL2,
			    SCOPE_LINK_NULL,   SCOPE_LINK_LOOP, SCOPE_LINK_IPV4, SCOPE_LINK_IPV6};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scope_p0f *db;
	if (!db) {
		char err[128];
		/* A set that does not parse would make every input a no-op: stop loudly. */
		if (scope_p0f_parse(fp, sizeof(fp) - 1, &db, err, sizeof(err))) {
			fprintf(stderr, "scope_decode: the signature set does not parse: %s\n",
				err);
			abort();
		}
	}
	if (size < 1)
		return 0;
	int link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
	/* A copy of exactly the frame's size, so that a read past it is caught. */
	uint8_t *frame = xmalloc(size - 1 ? size - 1 : 1);
	memcpy(frame, data + 1, size - 1);
	struct scope_pkt p;
	enum scope_dec d = scope_decode(link, frame, size - 1, (int64_t)size * 1000000000, &p);
	if (d == SCOPE_DEC_IP) {
		if (p.flags & SCOPE_PF_SIG) {
			struct scope_p0f_match m;
			scope_p0f_match(db, p.ipver, &p.sig, &m);
			(void)scope_p0f_label(db, m.label);
		}
		struct scope_config cfg;
		scope_config_defaults(&cfg);
		cfg.max_sources = cfg.max_pairs = cfg.max_scan = cfg.max_dests = cfg.max_victims =
			2;
		cfg.scan_dests = 2;
		cfg.p0f = db;
		struct scope_engine *e;
		if (!scope_engine_new(&e, &cfg, 1, NULL, NULL)) {
			scope_engine_packet(e, &p);
			p.dst ^= 1;
			p.ts_ns += 3000000000;
			scope_engine_packet(e, &p);
			struct scope_report r;
			scope_engine_finish(e, &r);
			scope_report_free(&r);
		}
	}
	free(frame);
	return 0;
}
