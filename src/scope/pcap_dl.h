/* scope: the libpcap functions the reader calls, opened on first use (lib.h, "optional shared
 * libraries"): only pcapng, compressed files, filters and live capture need libpcap; classic
 * pcap files are read without it. scope_pcap_next_ex(...) and so on are valid once
 * scope_pcap_load() returned 0. */
#ifndef MITSU_SCOPE_PCAP_DL_H
#define MITSU_SCOPE_PCAP_DL_H

#include "lib/lib.h"

#include <pcap/pcap.h>

#define SCOPE_PCAP_SONAME "libpcap.so.0.8"
#define SCOPE_PCAP_PACKAGE "libpcap0.8"
#define SCOPE_PCAP_SYMBOLS(X) \
	X(scope_, pcap_activate) \
	X(scope_, pcap_breakloop) \
	X(scope_, pcap_close) \
	X(scope_, pcap_compile) \
	X(scope_, pcap_create) \
	X(scope_, pcap_datalink) \
	X(scope_, pcap_datalink_val_to_name) \
	X(scope_, pcap_file) \
	X(scope_, pcap_fopen_offline_with_tstamp_precision) \
	X(scope_, pcap_freecode) \
	X(scope_, pcap_get_selectable_fd) \
	X(scope_, pcap_get_tstamp_precision) \
	X(scope_, pcap_geterr) \
	X(scope_, pcap_next_ex) \
	X(scope_, pcap_offline_filter) \
	X(scope_, pcap_open_dead) \
	X(scope_, pcap_set_buffer_size) \
	X(scope_, pcap_set_immediate_mode) \
	X(scope_, pcap_set_promisc) \
	X(scope_, pcap_set_snaplen) \
	X(scope_, pcap_set_timeout) \
	X(scope_, pcap_set_tstamp_precision) \
	X(scope_, pcap_setfilter) \
	X(scope_, pcap_setnonblock)
SCOPE_PCAP_SYMBOLS(LIB_DL_DECLARE)
int scope_pcap_load(char *err, size_t errlen);

#endif
