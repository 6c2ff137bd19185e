/* Fuzz target: arbitrary bytes from a Telnet peer, through the real sensor (listener, session,
 * libtelnet, line discipline, login, emulated shell) on loopback. The input is sent in chunks
 * split at each 0x00 0x00 pair, so the fuzzer also explores how input is split. */
#include <signal.h>
#include <stdint.h>

#include "../unit/sensor/inproc.h"

static struct inproc ip;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		signal(SIGPIPE, SIG_IGN);
		static const char *const sets[] = {"telnet.accept_any_after=1",
						   "telnet.login_tries=100", "limits.max_line=4K",
						   "limits.max_input_bytes=256K", NULL};
		if (inproc_start(&ip, sets))
			abort();
		ready = 1;
	}
	int fd = inproc_connect(&ip);
	if (fd < 0)
		abort();
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || (i + 1 < size && data[i] == 0 && data[i + 1] == 0)) {
			if (i > start && write(fd, data + start, i - start) < 0)
				break;
			inproc_pump(&ip, fd, NULL);
			start = i + 2;
			i++;
		}
	}
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 100 && !inproc_pump(&ip, fd, NULL); i++)
		;
	close(fd);
	/* Let the session's close run before the next input. */
	for (int i = 0; i < 100 && ip.sn->nsessions; i++)
		uv_run(&ip.loop, UV_RUN_NOWAIT);
	return 0;
}
