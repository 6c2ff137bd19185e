/* scope: where packets come from. Classic pcap files are parsed here from large read(2)s
 * into one buffer (much faster than libpcap's per-record fread, docs/research/darknet.md
 * section 7); pcapng and anything else libpcap reads go through libpcap; gzip, xz and zstd files
 * are decompressed through a FILE cookie that libpcap reads from; live capture is libpcap's. A
 * truncated or corrupt file ends its stream with an error that says where, after the packets before
 * it. */
#include "scope/pcap_dl.h"
#include "scope/scope_int.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Bounds. */
#define IN_CHUNK (256u * 1024u) /* compressed bytes read at a time */
#define LIVE_SNAPLEN 65535
#define LIVE_TIMEOUT_MS 200     /* a live read returns at least this often */
#define LIVE_BUFFER (32u << 20) /* kernel capture buffer */

enum comp { COMP_NONE, COMP_GZIP, COMP_XZ, COMP_ZSTD };

/* A decompressing FILE: the cookie behind it. */
struct dec {
	FILE *f;
	enum comp kind;
	gzFile gz;
	lzma_stream xz;
	ZSTD_DStream *zs;
	ZSTD_inBuffer zin;
	bool zs_open;
	uint8_t *in;
	size_t inlen;
	bool in_eof, done;
	uint64_t consumed;
	char err[128];
};

struct scope_input {
	/* classic pcap, read by us: a buffer refilled with read(2) */
	bool classic;
	uint8_t *buf;
	size_t bufsize;
	size_t blen, bpos; /* bytes in buf, position of the next record */
	uint64_t bbase;    /* file offset of buf[0] */
	bool eof;
	bool swap, nano;
	int linktype;
	/* libpcap path */
	pcap_t *pc;
	FILE *cf; /* decompressing FILE given to libpcap */
	struct dec *dec;
	bool live;
	int livefd;
	volatile sig_atomic_t stop;
	/* filter for the classic path */
	pcap_t *dead;
	struct bpf_program prog;
	bool have_prog;
	uint64_t total;
	int fd;
};

static uint32_t rd32(const uint8_t *p, bool swap)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* ---- decompression cookie ---- */

static ssize_t dec_read(void *cookie, char *buf, size_t size)
{
	struct dec *d = cookie;
	if (d->done || !size)
		return 0;
	if (d->kind == COMP_GZIP) {
		unsigned want = size > (1u << 30) ? 1u << 30 : (unsigned)size;
		int n = gzread(d->gz, buf, want);
		if (n < 0) {
			int e;
			snprintf(d->err, sizeof(d->err), "gzip: %s", gzerror(d->gz, &e));
			return -1;
		}
		if (n == 0) {
			int e;
			const char *msg = gzerror(d->gz, &e);
			if (e != Z_OK && e != Z_STREAM_END) {
				snprintf(d->err, sizeof(d->err), "gzip: %s", msg);
				return -1;
			}
			d->done = true;
		}
		return n;
	}
	size_t out = 0;
	while (out == 0) {
		if (d->inlen == 0 && !d->in_eof) {
			d->inlen = fread(d->in, 1, IN_CHUNK, d->f);
			d->consumed += d->inlen;
			if (d->inlen < IN_CHUNK) {
				if (ferror(d->f)) {
					snprintf(d->err, sizeof(d->err), "read error");
					return -1;
				}
				d->in_eof = true;
			}
			if (d->kind == COMP_XZ) {
				d->xz.next_in = d->in;
				d->xz.avail_in = d->inlen;
			} else {
				d->zin = (ZSTD_inBuffer){.src = d->in, .size = d->inlen, .pos = 0};
			}
		}
		if (d->kind == COMP_XZ) {
			d->xz.next_out = (uint8_t *)buf;
			d->xz.avail_out = size;
			lzma_ret r = lzma_code(&d->xz, d->in_eof ? LZMA_FINISH : LZMA_RUN);
			out = size - d->xz.avail_out;
			d->inlen = d->xz.avail_in;
			if (r == LZMA_STREAM_END) {
				d->done = true;
				return (ssize_t)out;
			}
			if (r != LZMA_OK && !(r == LZMA_BUF_ERROR && out)) {
				snprintf(d->err, sizeof(d->err), "xz: %s",
					 r == LZMA_BUF_ERROR
						 ? "unexpected end of the compressed data"
						 : "corrupt data");
				return out ? (ssize_t)out : -1;
			}
		} else {
			ZSTD_outBuffer zo = {.dst = buf, .size = size, .pos = 0};
			size_t before = d->zin.pos;
			size_t r = ZSTD_decompressStream(d->zs, &zo, &d->zin);
			out = zo.pos;
			d->inlen = d->zin.size - d->zin.pos;
			if (ZSTD_isError(r)) {
				snprintf(d->err, sizeof(d->err), "zstd: %s", ZSTD_getErrorName(r));
				return out ? (ssize_t)out : -1;
			}
			/* 0: a frame ended here; anything else: a frame is still open. A call that
			 * moved nothing says nothing new. */
			if (out || d->zin.pos != before)
				d->zs_open = r != 0;
			if (out == 0 && d->in_eof && d->inlen == 0) {
				if (d->zs_open) {
					snprintf(d->err, sizeof(d->err),
						 "zstd: unexpected end of the compressed data");
					return -1;
				}
				d->done = true;
				return 0;
			}
		}
		if (out == 0 && d->in_eof && d->inlen == 0 && d->kind == COMP_XZ) {
			snprintf(d->err, sizeof(d->err),
				 "xz: unexpected end of the compressed data");
			return -1;
		}
	}
	return (ssize_t)out;
}

static int dec_close(void *cookie)
{
	struct dec *d = cookie;
	if (d->gz)
		gzclose(d->gz);
	else if (d->f)
		fclose(d->f);
	if (d->kind == COMP_XZ)
		lzma_end(&d->xz);
	if (d->zs)
		ZSTD_freeDStream(d->zs);
	free(d->in);
	d->f = NULL;
	d->gz = NULL;
	d->zs = NULL;
	d->in = NULL;
	return 0;
}

static FILE *dec_open(int fd, enum comp kind, struct dec **out)
{
	struct dec *d = xcalloc(1, sizeof(*d));
	d->kind = kind;
	if (kind == COMP_GZIP) {
		d->gz = gzdopen(fd, "rb");
		if (!d->gz) {
			free(d);
			return NULL;
		}
		gzbuffer(d->gz, IN_CHUNK);
	} else {
		d->f = fdopen(fd, "rb");
		if (!d->f) {
			free(d);
			return NULL;
		}
		d->in = xmalloc(IN_CHUNK);
		if (kind == COMP_XZ) {
			d->xz = (lzma_stream)LZMA_STREAM_INIT;
			if (lzma_stream_decoder(&d->xz, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
				dec_close(d);
				free(d);
				return NULL;
			}
		} else {
			d->zs = ZSTD_createDStream();
			ZSTD_initDStream(d->zs);
		}
	}
	cookie_io_functions_t io = {.read = dec_read, .close = dec_close};
	FILE *f = fopencookie(d, "r", io);
	if (!f) {
		dec_close(d);
		free(d);
		return NULL;
	}
	*out = d;
	return f;
}

/* ---- classic pcap through read(2) ----
 * One buffer, refilled in large reads; a record is always contiguous in it. Reading into a
 * small reused buffer costs one copy but no page-table work, and keeps the resident set at
 * the tables (an mmap of the file would count the whole file). */
/* Bytes per read(2): small enough that what the kernel copied is still in the L2 cache when
 * the records are parsed (256 KiB costs ~15 % less kernel time than 1 MiB reads). */
#define READ_CHUNK (256u << 10)
#define READ_BUF (READ_CHUNK + SCOPE_MAX_RECORD + 16)
/* The buffer of a large file: one huge page (one page fault, not 128). */
#define READ_ALLOC SCOPE_MEM_CHUNK
_Static_assert(READ_BUF <= READ_ALLOC, "the read buffer fits its allocation");

/* Makes n bytes available at bpos; false at the end of the file (or on a read error). */
static bool refill(struct scope_input *in, size_t n);
static inline bool avail(struct scope_input *in, size_t n)
{
	return in->blen - in->bpos >= n || refill(in, n);
}

/* A file smaller than READ_BUF is read into a buffer of its size (allocated exactly, so that
 * a sanitizer sees a read past it); a larger one into READ_BUF bytes of a huge page. */
static void readbuf_alloc(struct scope_input *in, size_t size)
{
	in->bufsize = size;
	in->buf = size < READ_BUF ? xmalloc(size ? size : 1) : scope_mem_alloc(NULL, READ_ALLOC);
}

static void readbuf_free(struct scope_input *in)
{
	if (in->bufsize < READ_BUF)
		free(in->buf);
	else
		scope_mem_free(NULL, in->buf, READ_ALLOC);
	in->buf = NULL;
}

static bool refill(struct scope_input *in, size_t n)
{
	if (in->eof)
		return false;
	memmove(in->buf, in->buf + in->bpos, in->blen - in->bpos);
	in->bbase += in->bpos;
	in->blen -= in->bpos;
	in->bpos = 0;
	if (n > in->bufsize) {
		/* More than the file held when it was opened: only if it grew since. */
		struct stat st;
		if (in->bufsize == READ_BUF || fstat(in->fd, &st) ||
		    (uint64_t)st.st_size <= in->total) {
			in->eof = true;
			return false;
		}
		uint8_t *old = in->buf;
		size_t len = in->blen;
		readbuf_alloc(in, READ_BUF);
		memcpy(in->buf, old, len);
		free(old);
	}
	while (in->blen < n && !in->eof) {
		size_t room = in->bufsize - in->blen;
		ssize_t r = read(in->fd, in->buf + in->blen, room > READ_CHUNK ? READ_CHUNK : room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			in->eof = true;
			break;
		}
		in->blen += (size_t)r;
	}
	return in->blen - in->bpos >= n;
}

/* ---- opening ---- */

static enum comp sniff(const uint8_t *m, size_t n)
{
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return COMP_GZIP;
	if (n >= 6 && !memcmp(m,
			      "\xfd"
			      "7zXZ\0",
			      6))
		return COMP_XZ;
	if (n >= 4 && !memcmp(m, "\x28\xb5\x2f\xfd", 4))
		return COMP_ZSTD;
	return COMP_NONE;
}

static bool classic_magic(const uint8_t *m, bool *swap, bool *nano)
{
	uint32_t v;
	memcpy(&v, m, 4);
	switch (v) {
	case 0xa1b2c3d4:
		*swap = false;
		*nano = false;
		return true;
	case 0xa1b23c4d:
		*swap = false;
		*nano = true;
		return true;
	case 0xd4c3b2a1:
		*swap = true;
		*nano = false;
		return true;
	case 0x4d3cb2a1:
		*swap = true;
		*nano = true;
		return true;
	default: return false;
	}
}

static int set_filter(struct scope_input *in, pcap_t *pc, const char *filter, char *err,
		      size_t errlen)
{
	if (!filter)
		return 0;
	if (scope_pcap_compile(pc, &in->prog, filter, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "filter: %s", scope_pcap_geterr(pc));
		return -EINVAL;
	}
	in->have_prog = true;
	if (pc == in->pc && scope_pcap_setfilter(pc, &in->prog)) {
		snprintf(err, errlen, "filter: %s", scope_pcap_geterr(pc));
		return -EINVAL;
	}
	return 0;
}

LIB_DL_LIBRARY(scope_pcap_load, SCOPE_PCAP_SONAME, SCOPE_PCAP_PACKAGE, SCOPE_PCAP_SYMBOLS)

/* A filter on the classic path: compiled by libpcap for a "dead" handle of the file's link
 * type, run by scope_pcap_offline_filter on each record. */
static int classic_filter(struct scope_input *in, const char *filter, char *err, size_t errlen)
{
	int rc = scope_pcap_load(err, errlen);
	if (rc)
		return rc;
	in->dead = scope_pcap_open_dead(in->linktype, 65535);
	if (!in->dead) {
		snprintf(err, errlen, "filter: cannot start libpcap");
		return -EINVAL;
	}
	return set_filter(in, in->dead, filter, err, errlen);
}

int scope_input_open(struct scope_input **out, const char *path, const char *filter, char *err,
		     size_t errlen)
{
	struct scope_input *in = xcalloc(1, sizeof(*in));
	in->fd = -1;
	int rc = -EINVAL;
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	in->total = (uint64_t)st.st_size;
	uint8_t head[24];
	ssize_t hn = pread(fd, head, sizeof(head), 0);
	if (hn < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	enum comp comp = sniff(head, (size_t)hn);
	if (comp == COMP_NONE && hn >= 4 && classic_magic(head, &in->swap, &in->nano)) {
		if (hn < 24) {
			snprintf(err, errlen, "%s: truncated pcap file header (%zd bytes)", path,
				 hn);
			goto fail;
		}
		in->linktype = (int)(rd32(head + 20, in->swap) & 0xffff);
		if (!scope_link_supported(in->linktype)) {
			snprintf(err, errlen, "%s: unsupported link type %d", path, in->linktype);
			goto fail;
		}
		in->classic = true;
		readbuf_alloc(in, in->total < READ_BUF ? (size_t)in->total : READ_BUF);
		in->fd = fd;
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		if (!avail(in, 24)) {
			snprintf(err, errlen, "%s: cannot read the pcap file header", path);
			goto fail;
		}
		in->bpos = 24;
		if (filter && (rc = classic_filter(in, filter, err, errlen)))
			goto fail;
		*out = in;
		return 0;
	}
	if ((rc = scope_pcap_load(err, errlen)))
		goto fail;
	if (comp == COMP_NONE) {
		in->cf = fdopen(fd, "rb");
		if (!in->cf) {
			rc = -errno;
			goto fail;
		}
	} else {
		in->cf = dec_open(fd, comp, &in->dec);
		if (!in->cf) {
			snprintf(err, errlen, "%s: cannot start decompression", path);
			goto fail;
		}
	}
	fd = -1;
	in->pc = scope_pcap_fopen_offline_with_tstamp_precision(in->cf, PCAP_TSTAMP_PRECISION_NANO,
								ebuf);
	if (!in->pc) {
		if (in->dec && in->dec->err[0])
			snprintf(err, errlen, "%s: %s", path, in->dec->err);
		else
			snprintf(err, errlen, "%s: %s", path, ebuf);
		fclose(in->cf);
		in->cf = NULL;
		goto fail;
	}
	in->nano = true;
	in->linktype = scope_pcap_datalink(in->pc);
	if (!scope_link_supported(in->linktype)) {
		snprintf(err, errlen, "%s: unsupported link type %s", path,
			 scope_pcap_datalink_val_to_name(in->linktype)
				 ? scope_pcap_datalink_val_to_name(in->linktype)
				 : "?");
		goto fail;
	}
	if ((rc = set_filter(in, in->pc, filter, err, errlen)))
		goto fail;
	*out = in;
	return 0;
fail:
	if (fd >= 0 && fd != in->fd)
		close(fd);
	scope_input_close(in);
	return rc ? rc : -EINVAL;
}

int scope_input_live(struct scope_input **out, const char *iface, const char *filter, char *err,
		     size_t errlen)
{
	struct scope_input *in = xcalloc(1, sizeof(*in));
	in->fd = -1;
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	in->live = true;
	in->nano = true;
	int rc = scope_pcap_load(err, errlen);
	if (rc) {
		free(in);
		return rc;
	}
	in->pc = scope_pcap_create(iface, ebuf);
	if (!in->pc) {
		snprintf(err, errlen, "%s: %s", iface, ebuf);
		free(in);
		return -EINVAL;
	}
	scope_pcap_set_snaplen(in->pc, LIVE_SNAPLEN);
	scope_pcap_set_promisc(in->pc, 1);
	scope_pcap_set_timeout(in->pc, LIVE_TIMEOUT_MS);
	scope_pcap_set_immediate_mode(in->pc, 1);
	scope_pcap_set_buffer_size(in->pc, LIVE_BUFFER);
	scope_pcap_set_tstamp_precision(in->pc, PCAP_TSTAMP_PRECISION_NANO);
	int s = scope_pcap_activate(in->pc);
	if (s < 0) {
		snprintf(err, errlen, "%s: %s", iface, scope_pcap_geterr(in->pc));
		scope_input_close(in);
		return -EINVAL;
	}
	if (scope_pcap_get_tstamp_precision(in->pc) != PCAP_TSTAMP_PRECISION_NANO)
		in->nano = false;
	in->linktype = scope_pcap_datalink(in->pc);
	if (!scope_link_supported(in->linktype)) {
		snprintf(err, errlen, "%s: unsupported link type %d", iface, in->linktype);
		scope_input_close(in);
		return -EINVAL;
	}
	rc = set_filter(in, in->pc, filter, err, errlen);
	if (rc) {
		scope_input_close(in);
		return rc;
	}
	/* Non-blocking reads and our own poll(): in immediate mode libpcap's read timeout does not
	 * apply, and the interval clock must tick when no packet comes. */
	in->livefd = scope_pcap_get_selectable_fd(in->pc);
	if (in->livefd < 0 || scope_pcap_setnonblock(in->pc, 1, ebuf) < 0) {
		snprintf(err, errlen, "%s: cannot poll the capture", iface);
		scope_input_close(in);
		return -EINVAL;
	}
	*out = in;
	return 0;
}

int scope_input_next(struct scope_input *in, struct scope_frame *f, char *err, size_t errlen)
{
	if (in->classic) {
		for (;;) {
			if (!avail(in, 16)) {
				if (in->blen == in->bpos)
					return 0;
				snprintf(err, errlen, "truncated record header at byte %llu",
					 (unsigned long long)(in->bbase + in->bpos));
				in->bpos = in->blen;
				return -1;
			}
			const uint8_t *h = in->buf + in->bpos;
			uint32_t sec = rd32(h, in->swap), frac = rd32(h + 4, in->swap);
			uint32_t caplen = rd32(h + 8, in->swap), len = rd32(h + 12, in->swap);
			uint64_t at = in->bbase + in->bpos;
			if (caplen > SCOPE_MAX_RECORD ||
			    (in->nano ? frac >= 1000000000u : frac >= 1000000u)) {
				snprintf(err, errlen,
					 "corrupt record header at byte %llu (caplen %u)",
					 (unsigned long long)at, caplen);
				in->bpos = in->blen;
				in->eof = true;
				return -1;
			}
			if (!avail(in, 16 + (size_t)caplen)) {
				snprintf(err, errlen,
					 "truncated record at byte %llu (%u bytes announced, %zu "
					 "present)",
					 (unsigned long long)at, caplen, in->blen - in->bpos - 16);
				in->bpos = in->blen;
				return -1;
			}
			h = in->buf + in->bpos;
			f->ts_ns = (int64_t)sec * 1000000000 +
				   (in->nano ? frac : (int64_t)frac * 1000);
			f->data = h + 16;
			f->caplen = caplen;
			f->len = len < caplen ? caplen : len;
			in->bpos += 16 + (size_t)caplen;
			if (in->have_prog) {
				struct pcap_pkthdr ph = {.caplen = caplen, .len = f->len};
				if (!scope_pcap_offline_filter(&in->prog, &ph, f->data))
					continue;
			}
			return 1;
		}
	}
	if (in->stop)
		return 0;
	struct pcap_pkthdr *ph;
	const u_char *data;
	int r = scope_pcap_next_ex(in->pc, &ph, &data);
	if (r == 0 && in->live) {
		struct pollfd pfd = {.fd = in->livefd, .events = POLLIN};
		int pr = poll(&pfd, 1, LIVE_TIMEOUT_MS);
		if (pr < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (pr <= 0 || in->stop)
			return in->stop ? 0 : -2;
		r = scope_pcap_next_ex(in->pc, &ph, &data);
	}
	if (r == 1) {
		/* libpcap's pcapng reader gives 64-bit seconds a file may set to anything: kept
		 * to the classic format's range (32-bit unsigned seconds), as is the fraction. */
		int64_t sec = LIB_MIN(LIB_MAX((int64_t)ph->ts.tv_sec, 0), (int64_t)UINT32_MAX);
		int64_t frac =
			LIB_MIN(LIB_MAX((int64_t)ph->ts.tv_usec, 0), in->nano ? 999999999 : 999999);
		f->ts_ns = sec * 1000000000 + frac * (in->nano ? 1 : 1000);
		f->data = data;
		f->caplen = ph->caplen;
		f->len = ph->len < ph->caplen ? ph->caplen : ph->len; /* as the classic path */
		return 1;
	}
	if (r == 0)
		return in->stop ? 0 : -2;
	if (r == PCAP_ERROR_BREAK)
		return 0;
	if (in->dec && in->dec->err[0])
		snprintf(err, errlen, "%s", in->dec->err);
	else
		snprintf(err, errlen, "%s", scope_pcap_geterr(in->pc));
	return -1;
}

/* The records that are whole in the buffer, from bpos on, without a refill (which would move
 * the frames already handed out); the byte order, the time unit and whether there is a filter
 * are constants in each copy of the loop. */
static inline __attribute__((always_inline)) int batch_records(struct scope_input *in,
							       struct scope_frame *f, int max,
							       bool swap, bool nano, bool filter)
{
	int n = 0;
	const uint8_t *buf = in->buf;
	size_t pos = in->bpos, blen = in->blen;
	while (n < max && blen - pos >= 16) {
		const uint8_t *h = buf + pos;
		uint32_t sec = rd32(h, swap), frac = rd32(h + 4, swap);
		uint32_t caplen = rd32(h + 8, swap), len = rd32(h + 12, swap);
		if (caplen > SCOPE_MAX_RECORD || frac >= (nano ? 1000000000u : 1000000u) ||
		    blen - pos - 16 < caplen)
			break;
		struct scope_frame *o = &f[n];
		o->ts_ns = (int64_t)sec * 1000000000 + (int64_t)frac * (nano ? 1 : 1000);
		o->data = h + 16;
		o->caplen = caplen;
		o->len = len < caplen ? caplen : len;
		pos += 16 + (size_t)caplen;
		if (filter) {
			struct pcap_pkthdr ph = {.caplen = caplen, .len = o->len};
			if (!scope_pcap_offline_filter(&in->prog, &ph, o->data))
				continue;
		}
		n++;
	}
	in->bpos = pos;
	return n;
}

int scope_input_next_batch(struct scope_input *in, struct scope_frame *f, int max, char *err,
			   size_t errlen)
{
	if (!in->classic || max < 2)
		return scope_input_next(in, f, err, errlen);
	/* Anything but a whole record (the buffer's end, a bad header) goes through
	 * scope_input_next, which refills and reports. */
	int n;
	if (in->have_prog)
		n = batch_records(in, f, max, in->swap, in->nano, true);
	else if (!in->swap && !in->nano)
		n = batch_records(in, f, max, false, false, false);
	else if (!in->swap)
		n = batch_records(in, f, max, false, true, false);
	else
		n = batch_records(in, f, max, true, in->nano, false);
	if (n)
		return n;
	return scope_input_next(in, f, err, errlen);
}

int scope_input_linktype(const struct scope_input *in)
{
	return in->linktype;
}

void scope_input_progress(const struct scope_input *in, uint64_t *done, uint64_t *total)
{
	*total = in->total;
	if (in->classic)
		*done = in->bbase + in->bpos;
	else if (in->dec)
		*done = in->dec->gz ? (uint64_t)gzoffset(in->dec->gz) : in->dec->consumed;
	else if (in->pc && !in->live && scope_pcap_file(in->pc))
		*done = (uint64_t)ftell(scope_pcap_file(in->pc));
	else
		*done = 0;
	if (*done > *total)
		*done = *total;
}

void scope_input_breakloop(struct scope_input *in)
{
	in->stop = 1;
	if (in->pc)
		scope_pcap_breakloop(in->pc);
}

void scope_input_close(struct scope_input *in)
{
	if (!in)
		return;
	if (in->have_prog)
		scope_pcap_freecode(&in->prog);
	if (in->dead)
		scope_pcap_close(in->dead);
	if (in->pc)
		scope_pcap_close(in->pc); /* closes the FILE (and the cookie) it was opened on */
	else if (in->cf)
		fclose(in->cf);
	free(in->dec);
	if (in->buf)
		readbuf_free(in);
	if (in->fd >= 0)
		close(in->fd);
	free(in);
}
