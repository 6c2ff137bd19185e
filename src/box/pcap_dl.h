/* box: the libpcap functions the fake network's capture calls, opened on first use (lib.h,
 * "optional shared libraries"): box_pcap_create(...) and so on, valid once box_pcap_load()
 * returned 0. */
#ifndef MITSU_BOX_PCAP_DL_H
#define MITSU_BOX_PCAP_DL_H

#include "lib/lib.h"

#include <pcap/pcap.h>

#define BOX_PCAP_SONAME "libpcap.so.0.8"
#define BOX_PCAP_PACKAGE "libpcap0.8"
#define BOX_PCAP_SYMBOLS(X) \
	X(box_, pcap_activate) \
	X(box_, pcap_create) \
	X(box_, pcap_dispatch) \
	X(box_, pcap_dump) \
	X(box_, pcap_dump_close) \
	X(box_, pcap_dump_fopen) \
	X(box_, pcap_get_selectable_fd) \
	X(box_, pcap_geterr) \
	X(box_, pcap_set_buffer_size) \
	X(box_, pcap_set_immediate_mode) \
	X(box_, pcap_set_snaplen) \
	X(box_, pcap_setnonblock) \
	X(box_, pcap_stats)
BOX_PCAP_SYMBOLS(LIB_DL_DECLARE)
int box_pcap_load(char *err, size_t errlen);

#endif
