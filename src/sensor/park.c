/* Parked sessions: a stale session (no progress for SENSOR_STALE_MS: a slowloris, a peer that
 * dribbles bytes and never ends a line) stops being read by libuv and waits in an epoll set of
 * the sensor's own. libuv's poll phase reads every ready socket it watches, however many there
 * are (thousands when a flood's slowloris peers send their byte in step, or leave at once), and
 * each read costs the syscall, the module's echo and libuv's bookkeeping; the parked set is
 * read by the sensor instead, at most SENSOR_PARK_BATCH sockets per loop turn. epoll hands its
 * ready sockets round in turn (a level-triggered socket that stays ready goes to the back of its
 * ready list), so every parked peer is read within a bounded number of turns, and sessions
 * that make progress (the scanner's dialogue) are never behind them. A session is parked after
 * an input that leaves it stale, or by its timer once it has made no progress for stale_ms even
 * without input (a peer that only holds its connection: its end is read in batches too). A
 * parked session that completes a line goes back to libuv.
 *
 * Linux only (epoll), as libuv's own backend here is. */
#include "sensor/sensor_int.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Input of a parked session read at once: a slow peer's bytes are few; the rest of a big input
 * is read in later turns (the socket stays ready). */
#define SENSOR_PARK_READ (16 * 1024)
static char park_buf[SENSOR_PARK_READ];

bool sensor_session_stale(const struct sensor_session *s)
{
	return s->last_input_ms - s->last_progress_ms >= s->sensor->stale_ms;
}

static int session_fd(struct sensor_session *s)
{
	uv_os_fd_t fd;
	return uv_fileno((uv_handle_t *)&s->tcp, &fd) == 0 ? fd : -1;
}

/* Reads one parked socket: its input, its end, or nothing yet. */
static void read_parked(struct sensor_session *s)
{
	int fd = session_fd(s);
	if (fd < 0 || s->closing)
		return;
	ssize_t n = read(fd, park_buf, sizeof(park_buf));
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0)
		n = errno == ECONNRESET ? UV_ECONNRESET : UV_EIO;
	else if (n == 0)
		n = UV_EOF;
	sensor_session_input(s, (const uint8_t *)park_buf, n);
	/* A complete line: reading goes back to libuv. */
	if (!s->closing && s->parked && !sensor_session_stale(s))
		sensor_session_unpark(s);
}

static void on_park_ready(uv_poll_t *h, int status, int events)
{
	struct sensor *sn = h->data;
	(void)status;
	(void)events;
	/* libuv may report the set more than once in a turn (a full batch of its own events). */
	if (sn->park_turn >= SENSOR_PARK_BATCH)
		return;
	struct epoll_event ev[SENSOR_PARK_BATCH];
	int n = epoll_wait(sn->park_fd, ev, (int)(SENSOR_PARK_BATCH - sn->park_turn), 0);
	for (int i = 0; i < n; i++) {
		sn->park_turn++;
		read_parked(ev[i].data.ptr);
	}
}

void sensor_park_init(struct sensor *sn)
{
	sn->park_fd = epoll_create1(EPOLL_CLOEXEC);
	if (sn->park_fd < 0) {
		log_warn("sensor", "epoll_create1: %s (stale sessions are not parked)",
			 strerror(errno));
		return;
	}
	uv_poll_init(sn->loop, &sn->park_poll, sn->park_fd);
	sn->park_poll.data = sn;
	uv_poll_start(&sn->park_poll, UV_READABLE, on_park_ready);
	uv_unref((uv_handle_t *)&sn->park_poll); /* the sessions keep the loop alive */
	sn->park_init = true;
}

static void on_park_closed(uv_handle_t *h)
{
	struct sensor *sn = h->data;
	close(sn->park_fd);
	sn->park_fd = -1;
}

void sensor_park_stop(struct sensor *sn)
{
	if (sn->park_init && !uv_is_closing((uv_handle_t *)&sn->park_poll))
		uv_close((uv_handle_t *)&sn->park_poll, on_park_closed);
}

bool sensor_session_park(struct sensor_session *s)
{
	struct sensor *sn = s->sensor;
	int fd = session_fd(s);
	/* Not while its input waits in the backlog (reading resumes from there). */
	if (s->parked || s->closing || s->later || fd < 0 || !sn->park_init ||
	    uv_is_closing((uv_handle_t *)&sn->park_poll))
		return false;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
	if (epoll_ctl(sn->park_fd, EPOLL_CTL_ADD, fd, &ev))
		return false;
	uv_read_stop((uv_stream_t *)&s->tcp);
	/* libuv takes a socket it stopped watching out of its epoll set only when the socket next
	 * turns ready, in its poll phase (one epoll_ctl each, thousands in one turn when the
	 * parked peers send in step): take it out now. With output queued libuv still watches it
	 * for writing, and masks the input events itself. */
	if (s->tcp.io_watcher.pevents == 0)
		epoll_ctl(uv_backend_fd(sn->loop), EPOLL_CTL_DEL, fd, NULL);
	s->parked = true;
	sn->nparked++;
	return true;
}

void sensor_session_unpark(struct sensor_session *s)
{
	if (!s->parked)
		return;
	struct sensor *sn = s->sensor;
	int fd = session_fd(s);
	if (fd >= 0)
		epoll_ctl(sn->park_fd, EPOLL_CTL_DEL, fd, NULL);
	s->parked = false;
	sn->nparked--;
	if (!s->closing && uv_read_start((uv_stream_t *)&s->tcp, sensor_session_on_alloc,
					 sensor_session_on_read) != 0)
		sensor_session_close(s, SENSOR_CLOSE_ERROR);
}
