// The one C++ file of mitsu: Debian's libtlsh (3.4.4) has only a C++ class, so box_tlsh() wraps
// it for the C code. The digest gets the "T1" prefix newer TLSH releases and public feeds use.
#include <string.h>
#include <tlsh.h>

extern "C" void box_tlsh(const unsigned char *p, size_t n, char out[80]);

extern "C" void box_tlsh(const unsigned char *p, size_t n, char out[80])
{
	out[0] = '\0';
	if (n < MIN_DATA_LENGTH)
		return;
	try {
		Tlsh t;
		// update() takes an unsigned int length: feed large inputs in pieces.
		const size_t step = 1u << 30;
		for (size_t off = 0; off < n; off += step)
			t.update(p + off, (unsigned int)(n - off < step ? n - off : step));
		t.final();
		char buf[TLSH_STRING_BUFFER_LEN];
		const char *h = t.getHash(buf, sizeof(buf));
		if (h && *h && strlen(h) + 3 <= 80) {
			out[0] = 'T';
			out[1] = '1';
			strcpy(out + 2, h);
		}
	} catch (...) {
		out[0] = '\0';
	}
}
