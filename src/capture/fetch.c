/* The downloader: libcurl's multi interface driven by the sensor's libuv loop, under the
 * safety rules of DESIGN §7. Nothing here blocks the loop: name resolution is libcurl's
 * (threaded), sockets are polled by libuv, timeouts are loop timers.
 *
 * Policy, in the order it applies: the URL must be http, https, ftp or tftp; capture.fetch =
 * false records the URL and fetches nothing; capture.rate_limit downloads per host per
 * capture.rate_window (fixed windows); capture.max_concurrent at once, further ones queued up
 * to CAPTURE_MAX_QUEUED; every connection (first, redirects, FTP data) is checked in libcurl's
 * open-socket callback against private, local and reserved ranges and the sensor's own
 * addresses unless capture.allow_private; size (capture.max_size, the excess is cut off and the
 * sample marked truncated) and time (capture.timeout, capture.connect_timeout) caps. */
#include "capture/capture.h"
#include "capture/curl_dl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Downloads waiting for a free slot; more are refused. */
#define CAPTURE_MAX_QUEUED 1024
/* Hosts the rate limiter remembers; the oldest window is forgotten first. */
#define CAPTURE_RATE_HOSTS 1024
#define CAPTURE_RATE_PROBE 16
/* Sensor addresses remembered for the own-address check. */
#define CAPTURE_MAX_OWN_ADDRS 64
/* Redirects followed, as BusyBox wget allows a handful. */
#define CAPTURE_MAX_REDIRECTS 5
/* TFTP (RFC 1350 with RFC 2349's tsize, as BusyBox's tftp asks): the default port, the block
 * size it gets without a blksize option, how long it waits before sending its last packet
 * again, and the largest datagram it takes. */
#define TFTP_PORT 69
#define TFTP_BLOCK 512
#define TFTP_RETRY_MS 1000
#define TFTP_DGRAM_MAX 65536

/* FTP (BusyBox's ftpget): a reply line kept at most, the read buffer, and how often the
 * silence timer looks. */
#define FTP_LINE_MAX 512
#define FTP_READ_BUF 65536
#define FTP_TICK_MS 1000

struct tftp;
struct ftp;

struct fetch_job {
	uint64_t id;
	struct capture_fetcher *f;
	CURL *easy;
	char *url, *method, *destfile, *user_agent;
	struct curl_slist *headers; /* the request headers the method's tool sends */
	struct core_conn conn;
	bool has_conn;
	capture_fetch_cb cb;
	void *arg;
	bool detached;
	struct buf data;
	bool truncated;
	bool blocked;
	char blocked_why[128];
	char remote_ip[46];
	int remote_port;
	/* for deferred outcomes decided before any transfer */
	enum capture_fetch_status deferred_status;
	const char *deferred_error;
	struct capture_fetch_res res; /* the outcome, kept while the sample is being stored */
	struct tftp *tftp;            /* a tftp:// download: our own client, not libcurl */
	struct ftp *ftp;              /* an ftp:// download: likewise */
	struct fetch_job *prev, *next;
};

struct job_list {
	struct fetch_job *head, *tail;
	size_t count;
};

struct rate_slot {
	uint64_t window_start; /* monotonic ms; 0 = empty */
	uint32_t count;
	char host[256];
};

struct capture_fetcher {
	uv_loop_t *loop;
	const struct core_config *cfg;
	struct capture_samples *samples;
	struct core_bus *bus;
	CURLM *multi;
	uv_timer_t timer; /* libcurl's timeout */
	uv_timer_t defer; /* outcomes decided without a transfer, reported on the next turn */
	struct job_list active, queued, deferred;
	struct job_list storing; /* fetched, their sample on its way into the store */
	uint64_t next_id;
	struct rate_slot *rates;
	uint8_t rate_key[16];
	struct sockaddr_storage own[CAPTURE_MAX_OWN_ADDRS];
	size_t nown;
	int open_handles;
	bool closing;
};

struct sock_ctx {
	uv_poll_t poll;
	curl_socket_t fd;
	struct capture_fetcher *f;
};

static void list_push(struct job_list *l, struct fetch_job *j)
{
	j->prev = l->tail;
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->count++;
}

static void list_remove(struct job_list *l, struct fetch_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->prev = j->next = NULL;
	l->count--;
}

/* ------------------------------------------------------------------ address policy */

static bool v4_private(uint32_t a)
{
	static const struct {
		uint32_t net;
		int bits;
	} ranges[] = {
		{0x00000000, 8},  {0x0a000000, 8},  {0x64400000, 10}, {0x7f000000, 8},
		{0xa9fe0000, 16}, {0xac100000, 12}, {0xc0000000, 24}, {0xc0000200, 24},
		{0xc0586300, 24}, {0xc0a80000, 16}, {0xc6120000, 15}, {0xc6336400, 24},
		{0xcb007100, 24}, {0xe0000000, 4},  {0xf0000000, 4},
	};
	for (size_t i = 0; i < LIB_ARRAY_LEN(ranges); i++) {
		uint32_t mask = ranges[i].bits ? ~0u << (32 - ranges[i].bits) : 0;
		if ((a & mask) == ranges[i].net)
			return true;
	}
	return false;
}

bool capture_addr_is_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return v4_private(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family != AF_INET6)
		return true;
	const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t zero[16] = {0};
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0 || memcmp(b, zero, 12) == 0) {
		uint32_t a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 |
			     b[15];
		/* ::/96 holds :: and ::1 too */
		return memcmp(b, zero, 12) == 0 ? true : v4_private(a);
	}
	if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
		return true;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
		return true;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10 site-local (deprecated) */
		return true;
	if (b[0] == 0xff) /* multicast */
		return true;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* documentation */
		return true;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] < 0x02) /* 2001::/23 IETF */
		return true;
	if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zero, 6) == 0) /* 100::/64 discard */
		return true;
	if ((b[0] & 0xe0) != 0x20) /* outside 2000::/3 global unicast */
		return true;
	return false;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static void load_own_addresses(struct capture_fetcher *f)
{
	struct ifaddrs *ifa;
	if (getifaddrs(&ifa))
		return;
	for (struct ifaddrs *i = ifa; i && f->nown < CAPTURE_MAX_OWN_ADDRS; i = i->ifa_next) {
		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		size_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
							       : sizeof(struct sockaddr_in6);
		memcpy(&f->own[f->nown++], i->ifa_addr, len);
	}
	freeifaddrs(ifa);
}

static void sockaddr_text(const struct sockaddr *sa, char *ip, size_t iplen, int *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)iplen);
		*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)iplen);
		*port = ntohs(in6->sin6_port);
	} else {
		lib_strlcpy(ip, "?", iplen);
		*port = 0;
	}
}

/* The address a download connects to, checked against the policy: true (and j->blocked) when
 * it is refused. */
static bool refused(struct fetch_job *j, const struct sockaddr *sa)
{
	struct capture_fetcher *f = j->f;
	sockaddr_text(sa, j->remote_ip, sizeof(j->remote_ip), &j->remote_port);
	if (core_cfg_bool(f->cfg, OPT_CAPTURE_ALLOW_PRIVATE))
		return false;
	bool own = false;
	for (size_t i = 0; i < f->nown && !own; i++)
		own = same_addr(sa, &f->own[i]);
	if (!own && !capture_addr_is_private(sa))
		return false;
	j->blocked = true;
	snprintf(j->blocked_why, sizeof(j->blocked_why), "refused %s address %s",
		 own ? "the sensor's own" : "a private or reserved", j->remote_ip);
	return true;
}

/* libcurl asks us for every socket it connects: the resolved address is checked here, for
 * the first connection, each redirect and FTP's data connection alike. */
static curl_socket_t on_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct fetch_job *j = clientp;
	if (refused(j, &addr->addr))
		return CURL_SOCKET_BAD;
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* ------------------------------------------------------------------ rate limit */

/* Counts one download to host; false if the host is over its limit in this window. */
static bool rate_allow(struct capture_fetcher *f, const char *host)
{
	long long limit = core_cfg_int(f->cfg, OPT_CAPTURE_RATE_LIMIT);
	if (limit <= 0)
		return true;
	uint64_t now = lib_mono_ms() + 1; /* never 0, which marks an empty slot */
	uint64_t window = (uint64_t)core_cfg_int(f->cfg, OPT_CAPTURE_RATE_WINDOW) * 1000;
	size_t base = (size_t)lib_siphash(host, strlen(host), f->rate_key);
	struct rate_slot *victim = NULL;
	for (size_t k = 0; k < CAPTURE_RATE_PROBE; k++) {
		struct rate_slot *s = &f->rates[(base + k) % CAPTURE_RATE_HOSTS];
		if (s->window_start && strcmp(s->host, host) == 0) {
			if (now - s->window_start >= window) {
				s->window_start = now;
				s->count = 0;
			}
			if (s->count >= (uint64_t)limit)
				return false;
			s->count++;
			return true;
		}
		if (!victim || s->window_start < victim->window_start)
			victim = s;
	}
	victim->window_start = now;
	victim->count = 1;
	lib_strlcpy(victim->host, host, sizeof(victim->host));
	return true;
}

/* ------------------------------------------------------------------ libcurl <-> libuv */

static void check_done(struct capture_fetcher *f);

static void on_poll_closed(uv_handle_t *h)
{
	free(h->data);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct sock_ctx *c = h->data;
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	int running;
	capture_curl_multi_socket_action(c->f->multi, c->fd, flags, &running);
	check_done(c->f);
}

static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct capture_fetcher *f = userp;
	struct sock_ctx *c = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (c) {
			uv_poll_stop(&c->poll);
			uv_close((uv_handle_t *)&c->poll, on_poll_closed);
			capture_curl_multi_assign(f->multi, s, NULL);
		}
		return 0;
	}
	if (!c) {
		c = xcalloc(1, sizeof(*c));
		c->fd = s;
		c->f = f;
		if (uv_poll_init_socket(f->loop, &c->poll, s)) {
			free(c);
			return -1;
		}
		c->poll.data = c;
		capture_curl_multi_assign(f->multi, s, c);
	}
	int ev = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= UV_WRITABLE;
	uv_poll_start(&c->poll, ev, on_poll);
	return 0;
}

static void on_timeout(uv_timer_t *t)
{
	struct capture_fetcher *f = t->data;
	int running;
	capture_curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(f);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct capture_fetcher *f = userp;
	if (timeout_ms < 0)
		uv_timer_stop(&f->timer);
	else
		uv_timer_start(&f->timer, on_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

/* ------------------------------------------------------------------ jobs */

static size_t on_data(char *p, size_t size, size_t n, void *userp)
{
	struct fetch_job *j = userp;
	size_t len = size * n;
	size_t room = j->data.max - j->data.len;
	if (len > room) {
		buf_append(&j->data, p, room);
		j->truncated = true;
		return 0; /* stop the transfer; what we have is kept */
	}
	buf_append(&j->data, p, len);
	return len;
}

static void job_free(struct fetch_job *j)
{
	if (j->easy)
		capture_curl_easy_cleanup(j->easy);
	capture_curl_slist_free_all(j->headers);
	j->headers = NULL;
	free(j->url);
	free(j->method);
	free(j->destfile);
	free(j->user_agent);
	buf_free(&j->data);
	free(j);
}

static const struct core_conn *job_conn(const struct fetch_job *j)
{
	return j->has_conn ? &j->conn : NULL;
}

/* The outcome as an event, then to the requester; the job is freed. */
static void announce(struct fetch_job *j, struct capture_fetch_res *res)
{
	struct capture_fetcher *f = j->f;
	json_t *ev = json_object();
	json_object_set_new(ev, "url", core_json_str(j->url));
	json_object_set_new(ev, "method", json_string(j->method));
	if (j->destfile)
		json_object_set_new(ev, "destfile", core_json_str(j->destfile));
	if (j->detached)
		json_object_set_new(ev, "late", json_true());
	if (res->status == CAPTURE_FETCH_OK) {
		json_object_set_new(ev, "shasum", json_string(res->sample.sha256));
		json_object_set_new(ev, "size", json_integer((json_int_t)res->len));
		json_object_set_new(ev, "duplicate", json_boolean(res->sample.duplicate));
		json_object_set_new(ev, "truncated", json_boolean(res->truncated));
		core_emit(f->bus, job_conn(j), EV_SESSION_FILE_DOWNLOAD, ev,
			  "downloaded %s (%zu bytes%s, SHA-256 %s)", j->url, res->len,
			  res->truncated ? ", truncated" : "", res->sample.sha256);
	} else {
		json_object_set_new(ev, "error", core_json_str(res->error ? res->error : "failed"));
		if (res->code)
			json_object_set_new(ev, "code", json_integer(res->code));
		core_emit(f->bus, job_conn(j), EV_SESSION_FILE_DOWNLOAD_FAILED, ev,
			  "download of %s failed: %s", j->url, res->error ? res->error : "failed");
	}
	if (!j->detached && !f->closing && j->cb)
		j->cb(j->arg, res);
	job_free(j);
}

static void maybe_free(struct capture_fetcher *f);

/* The sample is stored (its rows committed) or could not be: the download is over. */
static void on_stored(void *arg, int status, const struct capture_sample *s,
		      const struct capture_origin *origin)
{
	struct fetch_job *j = arg;
	struct capture_fetcher *f = j->f;
	list_remove(&f->storing, j);
	if (status) {
		j->res.status = CAPTURE_FETCH_SERVER_ERROR;
		j->res.error = status == -ENOSPC ? "cannot store the file: disk full"
						 : "cannot store the file";
	} else {
		j->res.sample = *s;
	}
	announce(j, &j->res);
	maybe_free(f);
}

/* A transfer is over. A fetched file becomes a sample first; its events and the requester's
 * callback come once the sample is stored, so they never name one that is not. */
static void report(struct fetch_job *j, struct capture_fetch_res *res)
{
	struct capture_fetcher *f = j->f;
	if (res->status == CAPTURE_FETCH_OK) {
		j->res = *res;
		j->res.data = j->data.data ? j->data.data : (const uint8_t *)"";
		j->res.len = j->data.len;
		struct capture_put put = {
			.data = j->res.data,
			.len = j->res.len,
			.mode = CAPTURE_DATA_BORROW,
			.origin = {.source = "download",
				   .method = j->method,
				   .url = j->url,
				   .destfile = j->destfile},
			.conn = job_conn(j),
			.cb = on_stored,
			.arg = j,
		};
		if (capture_sample_put(f->samples, &put) == 0) {
			list_push(&f->storing, j);
			return;
		}
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		res->error = "cannot store the file";
	}
	announce(j, res);
}

static void start_queued(struct capture_fetcher *f);
static void defer(struct capture_fetcher *f, struct fetch_job *j, enum capture_fetch_status st,
		  const char *why);

static void classify(struct fetch_job *j, CURLcode rc, struct capture_fetch_res *res)
{
	long code = 0;
	capture_curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	res->code = (int)code;
	const char *scheme = NULL;
	capture_curl_easy_getinfo(j->easy, CURLINFO_SCHEME, &scheme);
	bool http = scheme && (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
	if (j->blocked) {
		res->status = CAPTURE_FETCH_BLOCKED;
		res->error = j->blocked_why;
		return;
	}
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && j->truncated)) {
		if (http && code >= 400) {
			res->status = CAPTURE_FETCH_SERVER_ERROR;
			res->error = "HTTP error status";
			return;
		}
		res->status = CAPTURE_FETCH_OK;
		res->data = j->data.data;
		res->len = j->data.len;
		res->truncated = j->truncated;
		return;
	}
	res->error = capture_curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST: res->status = CAPTURE_FETCH_BAD_ADDRESS; break;
	case CURLE_COULDNT_CONNECT: res->status = CAPTURE_FETCH_REFUSED; break;
	case CURLE_OPERATION_TIMEDOUT: res->status = CAPTURE_FETCH_TIMEOUT; break;
	case CURLE_TFTP_NOTFOUND:
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		res->code = 1;
		break;
	case CURLE_TFTP_PERM:
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		res->code = 2;
		break;
	case CURLE_REMOTE_DISK_FULL:
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		res->code = 3;
		break;
	case CURLE_TFTP_ILLEGAL:
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		res->code = 4;
		break;
	case CURLE_TFTP_UNKNOWNID:
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		res->code = 5;
		break;
	case CURLE_REMOTE_FILE_EXISTS:
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		res->code = 6;
		break;
	case CURLE_TFTP_NOSUCHUSER:
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		res->code = 7;
		break;
	case CURLE_REMOTE_FILE_NOT_FOUND:
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		if (!res->code)
			res->code = 550;
		break;
	case CURLE_LOGIN_DENIED:
		res->status = CAPTURE_FETCH_SERVER_ERROR;
		if (!res->code)
			res->code = 530;
		break;
	default:
		res->status =
			(http && code >= 400) ? CAPTURE_FETCH_SERVER_ERROR : CAPTURE_FETCH_REFUSED;
		break;
	}
}

static void check_done(struct capture_fetcher *f)
{
	CURLMsg *msg;
	int left;
	while ((msg = capture_curl_multi_info_read(f->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct fetch_job *j = NULL;
		capture_curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		CURLcode rc = msg->data.result;
		capture_curl_multi_remove_handle(f->multi, j->easy);
		list_remove(&f->active, j);
		struct capture_fetch_res res = {0};
		classify(j, rc, &res);
		lib_strlcpy(res.remote_ip, j->remote_ip, sizeof(res.remote_ip));
		res.remote_port = j->remote_port;
		report(j, &res);
	}
	start_queued(f);
}

/* The end of a job of our own TFTP or FTP client (its handles already closing): the job's
 * bytes when it succeeded, the policy's refusal when the address was refused. */
static void own_client_done(struct fetch_job *j, enum capture_fetch_status st, int code,
			    const char *err)
{
	struct capture_fetcher *f = j->f;
	list_remove(&f->active, j);
	struct capture_fetch_res res = {.status = j->blocked ? CAPTURE_FETCH_BLOCKED : st,
					.code = code,
					.error = j->blocked ? j->blocked_why : err};
	if (res.status == CAPTURE_FETCH_OK) {
		res.data = j->data.data;
		res.len = j->data.len;
		res.truncated = j->truncated;
	}
	lib_strlcpy(res.remote_ip, j->remote_ip, sizeof(res.remote_ip));
	res.remote_port = j->remote_port;
	report(j, &res);
	start_queued(f);
}

/* ------------------------------------------------------------------ tftp */

/* BusyBox's tftp on the wire, which libcurl's TFTP is not (libcurl always adds blksize and
 * timeout options): RRQ "FILE" "octet" "tsize" "0", an ACK for the OACK and for every block,
 * its last packet again after TFTP_RETRY_MS of silence, the transfer over at a short block.
 * The server's first answer fixes its port (its transfer id); packets from elsewhere are
 * ignored. Owned by its job until the job is done, then by its handles until they close. */
struct tftp {
	struct fetch_job *j; /* NULL once the job is over */
	struct capture_fetcher *f;
	uv_getaddrinfo_t gai;
	bool gai_pending;
	uv_udp_t udp;
	uv_timer_t timer;
	int handles; /* of udp and timer, open */
	bool udp_open;
	struct sockaddr_storage peer;
	bool locked;       /* the server's port is known */
	uint16_t block;    /* the last block received */
	uint8_t last[600]; /* the last packet sent (RRQ or ACK) */
	size_t last_len;
	uint64_t last_progress; /* loop ms */
	uint64_t start;         /* loop ms */
	uint8_t rbuf[TFTP_DGRAM_MAX];
};

static void tftp_maybe_free(struct tftp *t)
{
	if (!t->j && !t->gai_pending && t->handles == 0)
		free(t);
}

static void tftp_handle_closed(uv_handle_t *h)
{
	struct tftp *t = h->data;
	struct capture_fetcher *f = t->f;
	t->handles--;
	f->open_handles--;
	tftp_maybe_free(t);
	maybe_free(f);
}

/* Detaches the client from its job and closes what it has open. */
static void tftp_stop(struct tftp *t)
{
	if (t->j)
		t->j->tftp = NULL;
	t->j = NULL;
	if (t->gai_pending)
		uv_cancel((uv_req_t *)&t->gai);
	if (t->udp_open) {
		t->udp_open = false;
		uv_close((uv_handle_t *)&t->udp, tftp_handle_closed);
	}
	if (!uv_is_closing((uv_handle_t *)&t->timer))
		uv_close((uv_handle_t *)&t->timer, tftp_handle_closed);
}

static void tftp_finish(struct tftp *t, enum capture_fetch_status st, int code, const char *err)
{
	struct fetch_job *j = t->j;
	tftp_stop(t);
	own_client_done(j, st, code, err);
}

static void tftp_send(struct tftp *t, const uint8_t *p, size_t n)
{
	if (n <= sizeof(t->last) && p != t->last) {
		memcpy(t->last, p, n);
		t->last_len = n;
	}
	uv_buf_t b = uv_buf_init((char *)t->last, (unsigned)t->last_len);
	uv_udp_try_send(&t->udp, &b, 1, (const struct sockaddr *)&t->peer);
}

static void tftp_ack(struct tftp *t, uint16_t block)
{
	uint8_t ack[4] = {0, 4, (uint8_t)(block >> 8), (uint8_t)block};
	tftp_send(t, ack, sizeof(ack));
}

static void tftp_alloc(uv_handle_t *h, size_t want, uv_buf_t *b)
{
	struct tftp *t = h->data;
	*b = uv_buf_init((char *)t->rbuf, sizeof(t->rbuf));
}

/* The same host, and once locked the same port. */
static bool tftp_from_peer(struct tftp *t, const struct sockaddr *sa)
{
	char ip[46], want[46];
	int port, wport;
	sockaddr_text(sa, ip, sizeof(ip), &port);
	sockaddr_text((const struct sockaddr *)&t->peer, want, sizeof(want), &wport);
	if (strcmp(ip, want) != 0 || (t->locked && port != wport))
		return false;
	if (!t->locked) {
		memcpy(&t->peer, sa,
		       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						 : sizeof(struct sockaddr_in));
		t->locked = true;
	}
	return true;
}

static void tftp_data(struct tftp *t, const uint8_t *p, size_t n)
{
	struct fetch_job *j = t->j;
	uint16_t block = (uint16_t)(p[2] << 8 | p[3]);
	if (block == t->block) {
		tftp_ack(t, block); /* our ACK was lost: again */
		return;
	}
	if (block != (uint16_t)(t->block + 1))
		return;
	t->block = block;
	t->last_progress = uv_now(t->f->loop);
	size_t len = n - 4, room = j->data.max - j->data.len;
	buf_append(&j->data, p + 4, LIB_MIN(len, room));
	tftp_ack(t, block);
	if (len > room) {
		j->truncated = true;
		tftp_finish(t, CAPTURE_FETCH_OK, 0, NULL);
	} else if (len < TFTP_BLOCK)
		tftp_finish(t, CAPTURE_FETCH_OK, 0, NULL);
}

static void tftp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b, const struct sockaddr *sa,
		      unsigned flags)
{
	struct tftp *t = h->data;
	if (!t->j || nread < 4 || !sa || !tftp_from_peer(t, sa))
		return;
	const uint8_t *p = (const uint8_t *)b->base;
	size_t n = (size_t)nread;
	switch (p[0] << 8 | p[1]) {
	case 3: tftp_data(t, p, n); break;
	case 6: /* OACK: the options we asked are accepted; block 0 acknowledges it */
		if (t->block == 0) {
			t->last_progress = uv_now(t->f->loop);
			tftp_ack(t, 0);
		}
		break;
	case 5: {
		/* the server's own message (the shell prints it as BusyBox does), in the job's text
		 * buffer, free when the job is not blocked */
		char *msg = t->j->blocked_why;
		snprintf(msg, sizeof(t->j->blocked_why), "%.*s",
			 (int)strnlen((const char *)p + 4, n - 4), (const char *)p + 4);
		tftp_finish(t, CAPTURE_FETCH_SERVER_ERROR, p[2] << 8 | p[3], msg);
		break;
	}
	default: break;
	}
}

/* Every TFTP_RETRY_MS: the last packet again after that much silence, or the end once
 * capture.timeout has passed since the start. */
static void tftp_tick(uv_timer_t *h)
{
	struct tftp *t = h->data;
	if (!t->j)
		return;
	uint64_t limit = (uint64_t)core_cfg_int(t->f->cfg, OPT_CAPTURE_TIMEOUT) * 1000;
	uint64_t now = uv_now(t->f->loop);
	if (now - t->start >= limit) {
		tftp_finish(t, CAPTURE_FETCH_TIMEOUT, 0, "TFTP timeout");
		return;
	}
	if (t->udp_open && now - t->last_progress >= TFTP_RETRY_MS)
		tftp_send(t, t->last, t->last_len);
}

/* The RRQ BusyBox sends: opcode 1, the file, "octet", "tsize" "0". */
static size_t tftp_rrq(uint8_t *out, size_t cap, const char *file)
{
	size_t fl = strlen(file);
	static const char opts[] = "octet\0tsize\0"
				   "0";
	if (fl + sizeof(opts) + 3 > cap)
		return 0;
	out[0] = 0;
	out[1] = 1;
	memcpy(out + 2, file, fl + 1);
	memcpy(out + 3 + fl, opts, sizeof(opts));
	return 3 + fl + sizeof(opts);
}

static void tftp_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct tftp *t = req->data;
	t->gai_pending = false;
	struct fetch_job *j = t->j;
	if (!j) {
		uv_freeaddrinfo(ai);
		tftp_maybe_free(t);
		return;
	}
	if (status || !ai) {
		uv_freeaddrinfo(ai);
		tftp_finish(t, CAPTURE_FETCH_BAD_ADDRESS, 0, "cannot resolve the TFTP host");
		return;
	}
	memcpy(&t->peer, ai->ai_addr, LIB_MIN((size_t)ai->ai_addrlen, sizeof(t->peer)));
	uv_freeaddrinfo(ai);
	if (refused(j, (const struct sockaddr *)&t->peer)) {
		tftp_finish(t, CAPTURE_FETCH_BLOCKED, 0, j->blocked_why);
		return;
	}
	uv_udp_init(t->f->loop, &t->udp);
	t->udp.data = t;
	t->udp_open = true;
	t->handles++;
	t->f->open_handles++;
	char *file = NULL;
	CURLU *u = capture_curl_url();
	capture_curl_url_set(u, CURLUPART_URL, j->url, 0);
	capture_curl_url_get(u, CURLUPART_PATH, &file, CURLU_URLDECODE);
	capture_curl_url_cleanup(u);
	uint8_t rrq[sizeof(t->last)];
	size_t n = tftp_rrq(rrq, sizeof(rrq), file && file[0] == '/' ? file + 1 : "");
	capture_curl_free(file);
	if (!n || uv_udp_recv_start(&t->udp, tftp_alloc, tftp_recv)) {
		tftp_finish(t, CAPTURE_FETCH_REFUSED, 0, "cannot start the TFTP transfer");
		return;
	}
	tftp_send(t, rrq, n);
}

/* A tftp:// job: resolve (libuv's thread pool), then the exchange on a UDP socket. */
static int tftp_start(struct capture_fetcher *f, struct fetch_job *j)
{
	char *host = NULL, *port = NULL;
	CURLU *u = capture_curl_url();
	bool ok = capture_curl_url_set(u, CURLUPART_URL, j->url, 0) == CURLUE_OK &&
		  capture_curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK;
	capture_curl_url_get(u, CURLUPART_PORT, &port, 0);
	capture_curl_url_cleanup(u);
	char portbuf[16];
	snprintf(portbuf, sizeof(portbuf), "%s", port ? port : "");
	if (!port)
		snprintf(portbuf, sizeof(portbuf), "%d", TFTP_PORT);
	capture_curl_free(port);
	if (!ok) {
		capture_curl_free(host);
		return -EINVAL;
	}
	/* an IPv6 literal comes in brackets */
	char name[256];
	size_t hl = strlen(host);
	snprintf(name, sizeof(name), "%.*s", (int)(host[0] == '[' ? hl - 2 : hl),
		 host + (host[0] == '['));
	capture_curl_free(host);
	struct tftp *t = xcalloc(1, sizeof(*t));
	t->j = j;
	t->f = f;
	j->tftp = t;
	uv_timer_init(f->loop, &t->timer);
	t->timer.data = t;
	t->handles++;
	f->open_handles++;
	t->last_progress = t->start = uv_now(f->loop);
	uv_timer_start(&t->timer, tftp_tick, TFTP_RETRY_MS, TFTP_RETRY_MS);
	t->gai.data = t;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	list_push(&f->active, j);
	if (uv_getaddrinfo(f->loop, &t->gai, tftp_resolved, name, portbuf, &hints)) {
		tftp_stop(t);
		list_remove(&f->active, j);
		return -EIO; /* deferred by the caller: never completed from inside capture_fetch */
	}
	t->gai_pending = true;
	return 0;
}

/* ------------------------------------------------------------------ ftp */

/* BusyBox's ftpget on the wire, which libcurl's FTP is not (libcurl sends PWD and puts EPSV
 * before TYPE): USER, PASS (skipped after a 230), TYPE I, EPSV (PASV when EPSV is refused),
 * the data connection to the control connection's address at the port given, SIZE, RETR,
 * then QUIT once the data and the 226 are in. The data address is the one already checked,
 * never the one a PASV reply names. */
enum ftp_step {
	FTP_GREET,
	FTP_USER,
	FTP_PASS,
	FTP_TYPE,
	FTP_EPSV,
	FTP_PASV,
	FTP_SIZE,
	FTP_RETR,
	FTP_DONE
};

struct ftp {
	struct fetch_job *j; /* NULL once the job is over */
	struct capture_fetcher *f;
	uv_getaddrinfo_t gai;
	bool gai_pending;
	uv_tcp_t ctl, data;
	uv_connect_t ctl_conn, data_conn;
	uv_timer_t timer;
	int handles; /* open: timer, ctl, data */
	bool ctl_open, data_open, data_eof, got_226;
	struct sockaddr_storage peer;
	enum ftp_step step;
	char user[128], pass[128], path[1024];
	char line[FTP_LINE_MAX]; /* the reply line being read */
	size_t llen;
	uint64_t start; /* loop ms */
	char rbuf[FTP_READ_BUF];
};

static void ftp_handle_closed(uv_handle_t *h)
{
	struct ftp *t = h->data;
	struct capture_fetcher *f = t->f;
	t->handles--;
	f->open_handles--;
	if (!t->j && !t->gai_pending && t->handles == 0)
		free(t);
	maybe_free(f);
}

static void ftp_stop(struct ftp *t)
{
	if (t->j)
		t->j->ftp = NULL;
	t->j = NULL;
	if (t->gai_pending)
		uv_cancel((uv_req_t *)&t->gai);
	if (t->ctl_open) {
		t->ctl_open = false;
		uv_close((uv_handle_t *)&t->ctl, ftp_handle_closed);
	}
	if (t->data_open) {
		t->data_open = false;
		uv_close((uv_handle_t *)&t->data, ftp_handle_closed);
	}
	if (!uv_is_closing((uv_handle_t *)&t->timer))
		uv_close((uv_handle_t *)&t->timer, ftp_handle_closed);
}

static void ftp_finish(struct ftp *t, enum capture_fetch_status st, int code, const char *err)
{
	struct fetch_job *j = t->j;
	ftp_stop(t);
	own_client_done(j, st, code, err);
}

static void ftp_write_done(uv_write_t *w, int status)
{
	free(w);
}

static void ftp_cmd(struct ftp *t, const char *cmd, const char *arg)
{
	char line[FTP_LINE_MAX + 16];
	int n = snprintf(line, sizeof(line), "%s%s%s\r\n", cmd, arg ? " " : "", arg ? arg : "");
	n = LIB_MIN(n, (int)sizeof(line) - 1);
	/* into the socket at once when it takes it (QUIT is followed by the close) */
	uv_buf_t now = uv_buf_init(line, (unsigned)n);
	int sent = uv_try_write((uv_stream_t *)&t->ctl, &now, 1);
	if (sent == n)
		return;
	if (sent > 0) {
		memmove(line, line + sent, (size_t)(n - sent));
		n -= sent;
	}
	uv_write_t *w = xmalloc(sizeof(*w) + (size_t)n);
	memcpy(w + 1, line, (size_t)n);
	uv_buf_t b = uv_buf_init((char *)(w + 1), (unsigned)n);
	if (uv_write(w, (uv_stream_t *)&t->ctl, &b, 1, ftp_write_done))
		free(w);
}

static void ftp_alloc(uv_handle_t *h, size_t want, uv_buf_t *b)
{
	struct ftp *t = h->data;
	*b = uv_buf_init(t->rbuf, sizeof(t->rbuf));
}

/* QUIT once both the data (to its end) and the server's 226 are in. */
static void ftp_maybe_done(struct ftp *t)
{
	if (t->data_eof && t->got_226) {
		ftp_cmd(t, "QUIT", NULL);
		ftp_finish(t, CAPTURE_FETCH_OK, 0, NULL);
	}
}

static void ftp_data_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct ftp *t = s->data;
	if (!t->j)
		return;
	if (n < 0) {
		t->data_eof = true;
		uv_read_stop(s);
		ftp_maybe_done(t);
		return;
	}
	struct fetch_job *j = t->j;
	size_t room = j->data.max - j->data.len;
	buf_append(&j->data, b->base, LIB_MIN((size_t)n, room));
	if ((size_t)n > room) {
		j->truncated = true;
		ftp_finish(t, CAPTURE_FETCH_OK, 0, NULL);
	}
}

static void ftp_data_connected(uv_connect_t *c, int status)
{
	struct ftp *t = c->data;
	if (!t->j)
		return;
	if (status) {
		ftp_finish(t, CAPTURE_FETCH_REFUSED, 0, "cannot open the FTP data connection");
		return;
	}
	uv_read_start((uv_stream_t *)&t->data, ftp_alloc, ftp_data_read);
	ftp_cmd(t, "SIZE", t->path);
	t->step = FTP_SIZE;
}

/* The data connection: the control connection's address, the port of the 229 or 227. */
static void ftp_open_data(struct ftp *t, int port)
{
	struct sockaddr_storage sa = t->peer;
	if (sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
	uv_tcp_init(t->f->loop, &t->data);
	t->data.data = t;
	t->data_open = true;
	t->handles++;
	t->f->open_handles++;
	t->data_conn.data = t;
	if (port <= 0 || port > 65535 ||
	    uv_tcp_connect(&t->data_conn, &t->data, (const struct sockaddr *)&sa,
			   ftp_data_connected))
		ftp_finish(t, CAPTURE_FETCH_REFUSED, 0, "bad FTP passive reply");
}

static int ftp_pasv_port(int code, const char *text)
{
	if (code == 229) {
		const char *p = strstr(text, "|||");
		return p ? atoi(p + 3) : -1;
	}
	const char *p = strchr(text, '(');
	unsigned h[6];
	if (!p || sscanf(p + 1, "%u,%u,%u,%u,%u,%u", &h[0], &h[1], &h[2], &h[3], &h[4], &h[5]) != 6)
		return -1;
	return (int)(h[4] * 256 + h[5]);
}

/* One complete reply (its last line): the next command, or the end. Long because it is the
 * dialogue's state machine, one case per command sent. */
static void ftp_reply(struct ftp *t, int code, const char *text)
{
	char *why = t->j->blocked_why; /* the reply's text, for the shell's message */
	snprintf(why, sizeof(t->j->blocked_why), "%s", text);
	switch (t->step) {
	case FTP_GREET:
		if (code != 220)
			break;
		ftp_cmd(t, "USER", t->user);
		t->step = FTP_USER;
		return;
	case FTP_USER:
	case FTP_PASS:
		if (code == 331 && t->step == FTP_USER) {
			ftp_cmd(t, "PASS", t->pass);
			t->step = FTP_PASS;
			return;
		}
		if (code != 230 && code != 202)
			break;
		ftp_cmd(t, "TYPE", "I");
		t->step = FTP_TYPE;
		return;
	case FTP_TYPE:
		if (code != 200)
			break;
		ftp_cmd(t, "EPSV", NULL);
		t->step = FTP_EPSV;
		return;
	case FTP_EPSV:
	case FTP_PASV:
		if (code == 229 || code == 227) {
			ftp_open_data(t, ftp_pasv_port(code, text));
			return;
		}
		if (t->step == FTP_PASV)
			break;
		ftp_cmd(t, "PASV", NULL);
		t->step = FTP_PASV;
		return;
	case FTP_SIZE: /* any answer: the size is only for a progress bar */
		ftp_cmd(t, "RETR", t->path);
		t->step = FTP_RETR;
		return;
	case FTP_RETR:
		if (code == 125 || code == 150)
			return;
		if (code != 226 && code != 250)
			break;
		t->got_226 = true;
		t->step = FTP_DONE;
		ftp_maybe_done(t);
		return;
	case FTP_DONE: return;
	}
	ftp_finish(t, CAPTURE_FETCH_SERVER_ERROR, code, why);
}

/* Control connection bytes: whole lines; a reply ends at "NNN " (multi-line ones at "NNN-"). */
static void ftp_ctl_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct ftp *t = s->data;
	for (ssize_t i = 0; t->j && i < n; i++) {
		char ch = b->base[i];
		if (ch != '\n') {
			if (t->llen + 1 < sizeof(t->line))
				t->line[t->llen++] = ch;
			continue;
		}
		while (t->llen && t->line[t->llen - 1] == '\r')
			t->llen--;
		t->line[t->llen] = 0;
		t->llen = 0;
		if (strlen(t->line) >= 4 && isdigit((unsigned char)t->line[0]) && t->line[3] == ' ')
			ftp_reply(t, atoi(t->line), t->line + 4);
	}
	if (t->j && n < 0 && t->step != FTP_DONE)
		ftp_finish(t, CAPTURE_FETCH_REFUSED, 0, "FTP control connection closed");
}

static void ftp_ctl_connected(uv_connect_t *c, int status)
{
	struct ftp *t = c->data;
	if (!t->j)
		return;
	if (status) {
		ftp_finish(t, CAPTURE_FETCH_REFUSED, 0, "cannot connect to the FTP server");
		return;
	}
	uv_read_start((uv_stream_t *)&t->ctl, ftp_alloc, ftp_ctl_read);
}

/* capture.timeout for the whole download, capture.connect_timeout until the greeting. */
static void ftp_tick(uv_timer_t *h)
{
	struct ftp *t = h->data;
	if (!t->j)
		return;
	const struct core_config *c = t->f->cfg;
	uint64_t now = uv_now(t->f->loop);
	uint64_t limit = (uint64_t)core_cfg_int(c, OPT_CAPTURE_TIMEOUT) * 1000;
	uint64_t conn = (uint64_t)core_cfg_int(c, OPT_CAPTURE_CONNECT_TIMEOUT) * 1000;
	if (now - t->start >= limit || (t->step == FTP_GREET && now - t->start >= conn))
		ftp_finish(t, CAPTURE_FETCH_TIMEOUT, 0, "FTP timeout");
}

static void ftp_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct ftp *t = req->data;
	t->gai_pending = false;
	struct fetch_job *j = t->j;
	if (!j || status || !ai) {
		uv_freeaddrinfo(ai);
		if (j)
			ftp_finish(t, CAPTURE_FETCH_BAD_ADDRESS, 0, "cannot resolve the FTP host");
		else if (t->handles == 0)
			free(t);
		return;
	}
	memcpy(&t->peer, ai->ai_addr, LIB_MIN((size_t)ai->ai_addrlen, sizeof(t->peer)));
	uv_freeaddrinfo(ai);
	if (refused(j, (const struct sockaddr *)&t->peer)) {
		ftp_finish(t, CAPTURE_FETCH_BLOCKED, 0, j->blocked_why);
		return;
	}
	uv_tcp_init(t->f->loop, &t->ctl);
	t->ctl.data = t;
	t->ctl_open = true;
	t->handles++;
	t->f->open_handles++;
	t->ctl_conn.data = t;
	if (uv_tcp_connect(&t->ctl_conn, &t->ctl, (const struct sockaddr *)&t->peer,
			   ftp_ctl_connected))
		ftp_finish(t, CAPTURE_FETCH_REFUSED, 0, "cannot connect to the FTP server");
}

/* The parts of an ftp:// URL: user and password (BusyBox's defaults when absent), the path
 * without its first '/', host and port. */
static bool ftp_parts(struct ftp *t, const char *url, char *host, size_t hostlen, char *port,
		      size_t portlen)
{
	CURLU *u = capture_curl_url();
	char *h = NULL, *p = NULL, *user = NULL, *pass = NULL, *path = NULL;
	bool ok = capture_curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  capture_curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
		  capture_curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK;
	capture_curl_url_get(u, CURLUPART_PORT, &p, 0);
	capture_curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
	capture_curl_url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
	capture_curl_url_cleanup(u);
	if (ok) {
		size_t hl = strlen(h);
		snprintf(host, hostlen, "%.*s", (int)(h[0] == '[' ? hl - 2 : hl),
			 h + (h[0] == '['));
		snprintf(port, portlen, "%s", p ? p : "21");
		snprintf(t->user, sizeof(t->user), "%s", user ? user : "anonymous");
		snprintf(t->pass, sizeof(t->pass), "%s", pass ? pass : "busybox");
		snprintf(t->path, sizeof(t->path), "%s", path[0] == '/' ? path + 1 : path);
		ok = !strpbrk(t->user, "\r\n") && !strpbrk(t->pass, "\r\n") &&
		     !strpbrk(t->path, "\r\n");
	}
	capture_curl_free(h);
	capture_curl_free(p);
	capture_curl_free(user);
	capture_curl_free(pass);
	capture_curl_free(path);
	return ok;
}

static int ftp_start(struct capture_fetcher *f, struct fetch_job *j)
{
	struct ftp *t = xcalloc(1, sizeof(*t));
	char host[256], port[16];
	if (!ftp_parts(t, j->url, host, sizeof(host), port, sizeof(port))) {
		free(t);
		return -EINVAL;
	}
	t->j = j;
	t->f = f;
	j->ftp = t;
	uv_timer_init(f->loop, &t->timer);
	t->timer.data = t;
	t->handles++;
	f->open_handles++;
	t->start = uv_now(f->loop);
	uv_timer_start(&t->timer, ftp_tick, FTP_TICK_MS, FTP_TICK_MS);
	t->gai.data = t;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	list_push(&f->active, j);
	if (uv_getaddrinfo(f->loop, &t->gai, ftp_resolved, host, port, &hints)) {
		ftp_stop(t);
		list_remove(&f->active, j);
		return -EIO;
	}
	t->gai_pending = true;
	return 0;
}

static const char *default_agent(const char *method)
{
	if (strcmp(method, "curl") == 0)
		return "curl/7.64.0";
	return "Wget";
}

static int job_start(struct capture_fetcher *f, struct fetch_job *j)
{
	if (strncmp(j->url, "tftp://", 7) == 0)
		return tftp_start(f, j);
	if (strncmp(j->url, "ftp://", 6) == 0)
		return ftp_start(f, j);
	CURL *e = capture_curl_easy_init();
	if (!e)
		return -ENOMEM;
	j->easy = e;
	const struct core_config *c = f->cfg;
	capture_curl_easy_setopt(e, CURLOPT_URL, j->url);
	capture_curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)j);
	capture_curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	capture_curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,ftp,tftp");
	capture_curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https,ftp");
	capture_curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	capture_curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)CAPTURE_MAX_REDIRECTS);
	capture_curl_easy_setopt(e, CURLOPT_PROXY, "");
	capture_curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	capture_curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
				 (long)core_cfg_int(c, OPT_CAPTURE_TIMEOUT) * 1000L);
	capture_curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)core_cfg_int(c, OPT_CAPTURE_CONNECT_TIMEOUT) * 1000L);
	capture_curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
				 (curl_off_t)0); /* we cut, not refuse */
	capture_curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	capture_curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	capture_curl_easy_setopt(e, CURLOPT_USERAGENT,
				 j->user_agent ? j->user_agent : default_agent(j->method));
	capture_curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	if (strcmp(j->method, "wget") == 0) {
		/* BusyBox wget sends Host, User-Agent and "Connection: close", nothing else: not
		 * libcurl's default Accept header, which would tell the server it is not one. */
		j->headers = capture_curl_slist_append(NULL, "Accept:");
		j->headers = capture_curl_slist_append(j->headers, "Connection: close");
		capture_curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
	}
	capture_curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	capture_curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	capture_curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
	capture_curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, j);
	capture_curl_easy_setopt(e, CURLOPT_FTP_USE_EPSV, 1L);
	/* Each download on a connection of its own, as the device's wget/ftpget would open: no
	 * session ever rides on a connection another one opened. */
	capture_curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	capture_curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	if (capture_curl_multi_add_handle(f->multi, e) != CURLM_OK)
		return -EIO;
	list_push(&f->active, j);
	return 0;
}

static void start_queued(struct capture_fetcher *f)
{
	size_t max = (size_t)core_cfg_int(f->cfg, OPT_CAPTURE_MAX_CONCURRENT);
	while (!f->closing && f->active.count < max && f->queued.head) {
		struct fetch_job *j = f->queued.head;
		list_remove(&f->queued, j);
		if (job_start(f, j))
			defer(f, j, CAPTURE_FETCH_BLOCKED, "cannot start the transfer");
	}
}

static void on_defer(uv_timer_t *t)
{
	struct capture_fetcher *f = t->data;
	/* Take the list: callbacks may queue more. */
	struct job_list l = f->deferred;
	f->deferred = (struct job_list){0};
	while (l.head) {
		struct fetch_job *j = l.head;
		list_remove(&l, j);
		struct capture_fetch_res res = {.status = j->deferred_status,
						.error = j->deferred_error};
		report(j, &res);
	}
}

static void defer(struct capture_fetcher *f, struct fetch_job *j, enum capture_fetch_status st,
		  const char *why)
{
	j->deferred_status = st;
	j->deferred_error = why;
	list_push(&f->deferred, j);
	uv_timer_start(&f->defer, on_defer, 0, 0);
}

/* The host part of a URL, lower-case; false if the URL is not one we fetch. */
static bool url_host(const char *url, char *host, size_t hostlen)
{
	CURLU *u = capture_curl_url();
	char *scheme = NULL, *h = NULL;
	bool ok = capture_curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  capture_curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		  capture_curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK;
	if (ok)
		ok = strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0 ||
		     strcmp(scheme, "ftp") == 0 || strcmp(scheme, "tftp") == 0;
	if (ok) {
		ok = lib_strlcpy(host, h, hostlen) < hostlen;
		for (char *p = host; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	capture_curl_free(scheme);
	capture_curl_free(h);
	capture_curl_url_cleanup(u);
	return ok;
}

uint64_t capture_fetch(struct capture_fetcher *f, const struct capture_fetch_req *req,
		       capture_fetch_cb cb, void *arg)
{
	struct fetch_job *j = xcalloc(1, sizeof(*j));
	j->id = ++f->next_id;
	j->f = f;
	j->url = xstrdup(req->url ? req->url : "");
	j->method = xstrdup(req->method ? req->method : "wget");
	j->destfile = req->destfile ? xstrdup(req->destfile) : NULL;
	j->user_agent = req->user_agent ? xstrdup(req->user_agent) : NULL;
	if (req->conn) {
		j->conn = *req->conn;
		j->has_conn = true;
	}
	j->cb = cb;
	j->arg = arg;
	buf_init(&j->data, (size_t)core_cfg_size(f->cfg, OPT_CAPTURE_MAX_SIZE));

	char host[256];
	if (f->closing)
		defer(f, j, CAPTURE_FETCH_BLOCKED, "sensor stopping");
	else if (!url_host(j->url, host, sizeof(host)))
		defer(f, j, CAPTURE_FETCH_BLOCKED, "not an http, https, ftp or tftp URL");
	else if (!core_cfg_bool(f->cfg, OPT_CAPTURE_FETCH))
		defer(f, j, CAPTURE_FETCH_NOT_FETCHED, "not fetched: capture.fetch is false");
	else if (!rate_allow(f, host))
		defer(f, j, CAPTURE_FETCH_BLOCKED, "rate limit for this host");
	else if (f->queued.count >= CAPTURE_MAX_QUEUED)
		defer(f, j, CAPTURE_FETCH_BLOCKED, "download queue full");
	else {
		/* Adding a transfer never completes it here: results come from the loop. */
		list_push(&f->queued, j);
		start_queued(f);
	}
	return j->id;
}

void capture_fetch_detach(struct capture_fetcher *f, uint64_t id)
{
	struct job_list *lists[] = {&f->active, &f->queued, &f->deferred, &f->storing};
	for (size_t i = 0; i < LIB_ARRAY_LEN(lists); i++)
		for (struct fetch_job *j = lists[i]->head; j; j = j->next)
			if (j->id == id)
				j->detached = true;
}

LIB_DL_LIBRARY(capture_curl_load, CAPTURE_CURL_SONAME, CAPTURE_CURL_PACKAGE, CAPTURE_CURL_SYMBOLS)

int capture_fetcher_open(struct capture_fetcher **out, uv_loop_t *loop,
			 const struct core_config *cfg, struct capture_samples *samples,
			 struct core_bus *bus)
{
	char why[256];
	if (capture_curl_load(why, sizeof(why))) {
		log_error("capture", "cannot load libcurl: %s", why);
		return -ENOENT;
	}
	static bool curl_ready;
	if (!curl_ready) {
		if (capture_curl_global_init(CURL_GLOBAL_DEFAULT))
			return -EIO;
		curl_ready = true;
	}
	struct capture_fetcher *f = xcalloc(1, sizeof(*f));
	f->loop = loop;
	f->cfg = cfg;
	f->samples = samples;
	f->bus = bus;
	f->multi = capture_curl_multi_init();
	if (!f->multi) {
		free(f);
		return -ENOMEM;
	}
	capture_curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	capture_curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	capture_curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	capture_curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	uv_timer_init(loop, &f->timer);
	uv_timer_init(loop, &f->defer);
	f->timer.data = f->defer.data = f;
	f->open_handles = 2;
	f->rates = xcalloc(CAPTURE_RATE_HOSTS, sizeof(*f->rates));
	lib_random(f->rate_key, sizeof(f->rate_key));
	load_own_addresses(f);
	*out = f;
	return 0;
}

/* Freed once its handles are closed and the last sample it fetched is stored. */
static void maybe_free(struct capture_fetcher *f)
{
	if (f->closing && f->open_handles == 0 && f->storing.count == 0) {
		free(f->rates);
		free(f);
	}
}

static void on_fetcher_handle_closed(uv_handle_t *h)
{
	struct capture_fetcher *f = h->data;
	f->open_handles--;
	maybe_free(f);
}

void capture_fetcher_close(struct capture_fetcher *f)
{
	if (!f)
		return;
	f->closing = true;
	struct job_list *lists[] = {&f->active, &f->queued, &f->deferred};
	for (size_t i = 0; i < LIB_ARRAY_LEN(lists); i++) {
		while (lists[i]->head) {
			struct fetch_job *j = lists[i]->head;
			list_remove(lists[i], j);
			if (lists[i] == &f->active && j->tftp)
				tftp_stop(j->tftp);
			else if (lists[i] == &f->active && j->ftp)
				ftp_stop(j->ftp);
			else if (lists[i] == &f->active)
				capture_curl_multi_remove_handle(f->multi, j->easy);
			job_free(j);
		}
	}
	capture_curl_multi_cleanup(f->multi);
	uv_close((uv_handle_t *)&f->timer, on_fetcher_handle_closed);
	uv_close((uv_handle_t *)&f->defer, on_fetcher_handle_closed);
}
