/* Fuzz target for the capture reader (src/scope/reader.c): the input is a whole capture file,
 * classic pcap (our own parser), pcapng (libpcap's) or either of them gzip-, xz- or
 * zstd-compressed (our decompressing FILE under libpcap). It is written to a memory file and
 * opened by path as `mitsu scope` opens a capture; every record is read, in batches of a size
 * taken from the file's last byte (1: one record at a time), decoded, and its bytes touched, so
 * that a frame pointing outside its buffer is caught. Files whose last byte is odd also go
 * through a BPF filter, which takes the per-record path of the classic reader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scope/scope.h"

/* Frames read from one input at most (a compressed input can expand a lot). */
#define FUZZ_MAX_FRAMES 100000
#define FUZZ_BATCH 64

static size_t read_all(struct scope_input *in, int batch)
{
	struct scope_frame f[FUZZ_BATCH];
	struct scope_pkt pkts[FUZZ_BATCH];
	char err[256];
	size_t frames = 0;
	unsigned sum = 0;
	int link = scope_input_linktype(in);
	while (frames < FUZZ_MAX_FRAMES) {
		int n = scope_input_next_batch(in, f, batch, err, sizeof(err));
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			/* Every byte of the frame must be readable. */
			for (uint32_t k = 0; k < f[i].caplen; k++)
				sum += f[i].data[k];
			if (f[i].len < f[i].caplen)
				abort();
		}
		uint64_t other[SCOPE_DEC__N] = {0};
		size_t ip = scope_decode_batch(link, f, (size_t)n, pkts, other);
		for (size_t i = 0; i < ip; i++)
			if (pkts[i].flags & SCOPE_PF_SIG) {
				struct scope_tcpsig sig;
				scope_pkt_sig(&pkts[i], &sig);
				sum += sig.opt_cnt;
			}
		frames += (size_t)n;
	}
	uint64_t done, total;
	scope_input_progress(in, &done, &total);
	if (done > total)
		abort();
	return frames + (sum & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("scope-reader-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	char path[64], err[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	uint8_t last = size ? data[size - 1] : 0;
	int batch = 1 + last % FUZZ_BATCH;
	const char *filter = (last & 1) ? "tcp or udp" : NULL;
	struct scope_input *in;
	if (off == size && scope_input_open(&in, path, filter, err, sizeof(err)) == 0) {
		(void)read_all(in, batch);
		scope_input_close(in);
	}
	close(fd);
	return 0;
}
