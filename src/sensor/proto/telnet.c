/* Telnet: what a BusyBox telnetd + login + ash on the profile's device show a peer.
 *
 * The server speaks first with the exact option bytes BusyBox telnetd sends (IAC DO ECHO,
 * IAC DO NAWS, IAC WILL ECHO, IAC WILL SGA), because Mirai's scanner and loader never log in
 * to a server whose first byte is not IAC. libtelnet does the option state machine; this file
 * does what the pty line discipline and /bin/login would: echo, CR LF / CR NUL / LF line ends,
 * erase and kill, the login dialogue with its pause after a failure, then hands each line to the
 * emulated shell. Output gets the pty's NL -> CR NL and libtelnet's IAC doubling, so binary
 * output (cat of an ELF) arrives as a real device would send it. */
#include "sensor/sensor_int.h"
#include "shell/shell.h"

#include <errno.h>
#include <libtelnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Terminal parameter events a session may produce (a peer resending NAWS must not flood). */
#define TELNET_MAX_PARAM_EVENTS 8
/* Longest username or password kept (BusyBox login reads 32 / 128 bytes); more is cut. */
#define TELNET_MAX_USERNAME 64
#define TELNET_MAX_PASSWORD 128
/* Output of one turn is gathered and handed to the session in one write; a burst (cat of a
 * binary) is handed over every TELNET_TX_FLUSH bytes so that it does not pile up here. The
 * session's output path paces and bounds it (limits.max_output_queue). */
#define TELNET_TX_FLUSH (16 * 1024)
/* Bound of the gathering buffer: a single piece larger than what is left of it is handed to the
 * session directly. */
#define TELNET_TX_MAX (256 * 1024)
/* BusyBox 1.MINOR: the first telnetd that no longer sends IAC DO LFLOW. */
#define TELNET_LFLOW_BEFORE 14

enum tn_state { TN_USER, TN_PASS, TN_DELAY, TN_SHELL };

struct tn {
	struct sensor_session *s;
	telnet_t *telnet;
	enum tn_state state;
	struct buf line;    /* the line being typed */
	struct buf tx;      /* output of this turn, sent in one write */
	struct buf pending; /* input that arrived during the login pause */
	bool cr;            /* the last byte was CR: a following LF or NUL belongs to it */
	char username[TELNET_MAX_USERNAME + 1];
	int failures;
	int param_events;
	struct shell *shell;
	uint64_t fetch_id; /* the download the shell waits for, 0 if none */
	uint64_t shell_fetch_id;
	uv_timer_t *delay; /* the pause after a failed login; allocated when needed */
	uv_timer_t *wait;  /* the shell's sleep; allocated when needed */
	bool in_input;     /* re-entrancy guard for flushes */
};

static const telnet_telopt_t telopts[] = {
	{TELNET_TELOPT_ECHO, TELNET_WILL, TELNET_DO},
	{TELNET_TELOPT_SGA, TELNET_WILL, TELNET_DO},
	{TELNET_TELOPT_NAWS, TELNET_WONT, TELNET_DO},
	{TELNET_TELOPT_TTYPE, TELNET_WONT, TELNET_DO},
	{TELNET_TELOPT_LFLOW, TELNET_WONT, TELNET_DO},
	{-1, 0, 0},
};

static void tn_flush(struct tn *t)
{
	if (t->tx.len == 0)
		return;
	sensor_session_write(t->s, t->tx.data, t->tx.len);
	buf_reset(&t->tx);
}

/* Terminal output: NL becomes CR NL as the pty's onlcr does, then libtelnet doubles IAC. */
static void tn_write(struct tn *t, const void *p, size_t n)
{
	const char *s = p, *end = s + n;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t chunk = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (chunk)
			telnet_send(t->telnet, s, chunk);
		if (!nl)
			break;
		telnet_send(t->telnet, "\r\n", 2);
		s = nl + 1;
	}
	/* Keep a burst of output from sitting in memory: hand big chunks to the socket now. */
	if (t->tx.len >= TELNET_TX_FLUSH)
		tn_flush(t);
}

/* A [telnet] text of the profile: bytes as they go on the wire (their CRs are there already),
 * only IAC is doubled. */
static void tn_puts(struct tn *t, const char *s)
{
	if (s && *s)
		telnet_send(t->telnet, s, strlen(s));
}

static void tn_login_prompt(struct tn *t)
{
	t->state = TN_USER;
	tn_puts(t, t->s->profile->login_prompt);
}

/* ---- shell I/O ---- */

static void io_write(void *arg, const void *p, size_t n)
{
	struct tn *t = arg;
	tn_write(t, p, n);
	if (!t->in_input)
		tn_flush(t);
}

static void io_event(void *arg, enum core_event id, json_t *fields, const char *message)
{
	struct tn *t = arg;
	sensor_session_emit(t->s, id, fields, "%s", message);
}

/* The upload is stored (or not). The session was held for it: its telnet state may be gone
 * (files are reported at the session's end too), the session is not. */
static void on_upload_stored(void *arg, int status, const struct capture_sample *smp,
			     const struct capture_origin *o)
{
	struct sensor_session *s = arg;
	if (status == 0)
		sensor_session_emit(s, EV_SESSION_FILE_UPLOAD,
				    json_pack("{s:s,s:I,s:o,s:s,s:b}", "shasum", smp->sha256,
					      "size", (json_int_t)smp->size, "destfile",
					      core_json_str(o->destfile), "method",
					      o->method ? o->method : "", "duplicate",
					      smp->duplicate),
				    "file written with %s: %s (%llu bytes, SHA-256 %s)",
				    o->method ? o->method : "?", o->destfile,
				    (unsigned long long)smp->size, smp->sha256);
	sensor_session_release(s);
}

static void io_file_written(void *arg, const char *path, const uint8_t *data, size_t len,
			    const char *method)
{
	struct tn *t = arg;
	struct sensor_session *s = t->s;
	const struct core_config *cfg = sensor_config(s->sensor);
	if (len < core_cfg_size(cfg, OPT_CAPTURE_MIN_UPLOAD))
		return;
	struct capture_put put = {
		.data = data,
		.len = len,
		.mode = CAPTURE_DATA_COPY,
		.origin = {.source = "upload", .method = method, .destfile = path},
		.conn = &s->conn,
		.cb = on_upload_stored,
		.arg = s,
	};
	sensor_session_hold(s);
	if (capture_sample_put(sensor_samples(s->sensor), &put))
		sensor_session_release(s);
}

/* The executed file is stored (its sample.stored event written): the session may end. */
static void on_exec_stored(void *arg, int status, const struct capture_sample *smp,
			   const struct capture_origin *o)
{
	(void)status;
	(void)smp;
	(void)o;
	sensor_session_release(arg);
}

/* Held like an upload: without it, the session's closed event could precede the sample's
 * (the hashing runs off the loop), and a reader that stops at the close would miss it. */
static void io_exec(void *arg, const char *path, const uint8_t *data, size_t len, int argc,
		    char **argv)
{
	struct tn *t = arg;
	struct sensor_session *s = t->s;
	struct capture_put put = {
		.data = data,
		.len = len,
		.mode = CAPTURE_DATA_COPY,
		.origin = {.source = "exec", .method = "exec", .destfile = path},
		.conn = &s->conn,
		.cb = on_exec_stored,
		.arg = s,
	};
	sensor_session_hold(s);
	if (capture_sample_put(sensor_samples(s->sensor), &put))
		sensor_session_release(s);
}

static void on_fetched(void *arg, const struct capture_fetch_res *r)
{
	struct tn *t = arg;
	t->fetch_id = 0;
	struct shell_fetch_result res = {
		.status = (enum shell_fetch_status)r->status,
		.code = r->code,
		.error = r->error,
		.data = r->data,
		.len = r->len,
		.truncated = r->truncated,
		.remote_ip = r->remote_ip,
		.remote_port = r->remote_port,
	};
	t->in_input = true;
	shell_fetch_done(t->shell, t->shell_fetch_id, &res);
	t->in_input = false;
	if (!t->s->handles_closed)
		tn_flush(t);
}

static int io_fetch(void *arg, const struct shell_fetch *req)
{
	struct tn *t = arg;
	struct capture_fetch_req r = {
		.url = req->url,
		.method = req->method,
		.destfile = req->destfile,
		.conn = &t->s->conn,
	};
	t->shell_fetch_id = req->id;
	t->fetch_id = capture_fetch(sensor_fetcher(t->s->sensor), &r, on_fetched, t);
	return 0;
}

static void on_wait(uv_timer_t *timer)
{
	struct tn *t = timer->data;
	if (t->s->closing || !t->shell)
		return;
	t->in_input = true;
	shell_wait_done(t->shell);
	t->in_input = false;
	if (!t->s->handles_closed)
		tn_flush(t);
}

static int io_wait(void *arg, uint64_t ms)
{
	struct tn *t = arg;
	if (!t->wait) {
		t->wait = xmalloc(sizeof(*t->wait));
		uv_timer_init(t->s->tcp.loop, t->wait);
		t->wait->data = t;
	}
	uv_timer_start(t->wait, on_wait, ms, 0);
	return 0;
}

/* ^C: the line being typed is dropped; a running sleep or download is interrupted. */
static void tn_interrupt(struct tn *t)
{
	buf_reset(&t->line);
	if (t->state != TN_SHELL)
		return;
	tn_write(t, "^C\n", 3);
	switch (shell_interrupt(t->shell)) {
	case SHELL_INTR_NONE: shell_input(t->shell, "", 0); break;
	case SHELL_INTR_WAIT:
		if (t->wait)
			uv_timer_stop(t->wait);
		break;
	case SHELL_INTR_FETCH:
		if (t->fetch_id)
			capture_fetch_detach(sensor_fetcher(t->s->sensor), t->fetch_id);
		t->fetch_id = 0;
		break;
	}
}

static void tn_end(struct tn *t, enum sensor_close_reason reason)
{
	tn_flush(t);
	sensor_session_close(t->s, reason);
}

static void io_close(void *arg, enum shell_end why)
{
	static const enum sensor_close_reason reasons[] = {
		[SHELL_END_EXIT] = SENSOR_CLOSE_EXIT,
		[SHELL_END_EOF] = SENSOR_CLOSE_EOF,
		[SHELL_END_REBOOT] = SENSOR_CLOSE_REBOOT,
		[SHELL_END_KILLED] = SENSOR_CLOSE_KILLED,
		[SHELL_END_COMMAND_LIMIT] = SENSOR_CLOSE_COMMAND_LIMIT,
		[SHELL_END_WORK_LIMIT] = SENSOR_CLOSE_WORK_LIMIT,
		[SHELL_END_FILE_BUDGET] = SENSOR_CLOSE_FILE_BUDGET,
		[SHELL_END_MEMORY_BUDGET] = SENSOR_CLOSE_MEMORY_BUDGET,
	};
	tn_end(arg, reasons[why]);
}

static bool io_account(void *arg, enum shell_budget b, long long delta)
{
	struct tn *t = arg;
	return sensor_session_account(
		t->s, b == SHELL_BUDGET_FILES ? SENSOR_BUDGET_FILES : SENSOR_BUDGET_MEMORY, delta);
}

/* The downloader's outcomes map one to one onto what the shell prints. */
_Static_assert((int)CAPTURE_FETCH_OK == (int)SHELL_FETCH_OK &&
		       (int)CAPTURE_FETCH_BAD_ADDRESS == (int)SHELL_FETCH_BAD_ADDRESS &&
		       (int)CAPTURE_FETCH_REFUSED == (int)SHELL_FETCH_REFUSED &&
		       (int)CAPTURE_FETCH_TIMEOUT == (int)SHELL_FETCH_TIMEOUT &&
		       (int)CAPTURE_FETCH_SERVER_ERROR == (int)SHELL_FETCH_SERVER_ERROR &&
		       (int)CAPTURE_FETCH_BLOCKED == (int)SHELL_FETCH_BLOCKED &&
		       (int)CAPTURE_FETCH_NOT_FETCHED == (int)SHELL_FETCH_NOT_FETCHED,
	       "capture and shell fetch outcomes differ");

/* ---- login ---- */

static void start_shell(struct tn *t)
{
	struct sensor_session *s = t->s;
	const struct core_config *cfg = sensor_config(s->sensor);
	struct shell_limits lim = {
		.vfs_bytes = (size_t)core_cfg_size(cfg, OPT_LIMITS_VFS_BYTES),
		.vfs_files = (size_t)core_cfg_int(cfg, OPT_LIMITS_VFS_FILES),
		.max_commands = (size_t)core_cfg_int(cfg, OPT_LIMITS_SHELL_COMMANDS),
		.script_depth = (int)core_cfg_int(cfg, OPT_LIMITS_SCRIPT_DEPTH),
		.max_queued = (size_t)core_cfg_size(cfg, OPT_LIMITS_MAX_LINE) * 4,
	};
	struct shell_io io = {
		.arg = t,
		.write = io_write,
		.event = io_event,
		.fetch = NULL,
		.file_written = io_file_written,
		.exec = io_exec,
		.close = io_close,
		.wait = io_wait,
		.account = io_account,
	};
	if (sensor_fetcher(s->sensor))
		io.fetch = io_fetch;
	t->shell = shell_new(s->profile, &lim, &io);
	shell_set_peer(t->shell, s->conn.src_ip, s->conn.src_port);
	t->state = TN_SHELL;
	shell_start(t->shell);
}

static void on_delay_closed(uv_handle_t *h)
{
	free(h);
}

static void feed(struct tn *t, const uint8_t *p, size_t n);

static void on_delay(uv_timer_t *timer)
{
	struct tn *t = timer->data;
	if (t->s->closing)
		return;
	t->in_input = true;
	tn_puts(t, t->s->profile->login_incorrect);
	if (t->failures >= (int)core_cfg_int(sensor_config(t->s->sensor), OPT_TELNET_LOGIN_TRIES)) {
		t->in_input = false;
		tn_end(t, SENSOR_CLOSE_LOGIN_FAILURES);
		return;
	}
	tn_login_prompt(t);
	/* What the peer typed during the pause is read now, as login would read it. */
	if (t->pending.len) {
		size_t n;
		uint8_t *p = buf_steal(&t->pending, &n);
		buf_init(&t->pending, t->line.max);
		feed(t, p, n);
		free(p);
	}
	t->in_input = false;
	tn_flush(t);
}

static void check_login(struct tn *t, const char *password)
{
	struct sensor_session *s = t->s;
	const struct core_config *cfg = sensor_config(s->sensor);
	long long any_after = core_cfg_int(cfg, OPT_TELNET_ACCEPT_ANY_AFTER);
	bool ok = profile_accepts(s->profile, t->username, password) ||
		  (any_after > 0 && t->failures >= any_after) ||
		  (!*password && profile_password_empty(s->profile, t->username));
	json_t *f = json_object();
	json_object_set_new(f, "username", core_json_str(t->username));
	json_object_set_new(f, "password", core_json_str(password));
	if (ok) {
		sensor_session_emit(s, EV_LOGIN_SUCCESS, f, "login attempt [%s/%s] succeeded",
				    t->username, password);
		start_shell(t);
		return;
	}
	t->failures++;
	sensor_session_emit(s, EV_LOGIN_FAILED, f, "login attempt [%s/%s] failed", t->username,
			    password);
	long long delay = core_cfg_int(cfg, OPT_TELNET_FAIL_DELAY);
	t->state = TN_DELAY;
	if (!t->delay) {
		t->delay = xmalloc(sizeof(*t->delay));
		uv_timer_init(s->tcp.loop, t->delay);
		t->delay->data = t;
	}
	uv_timer_start(t->delay, on_delay, (uint64_t)delay, 0);
}

/* ---- line discipline ---- */

static void line_done(struct tn *t)
{
	struct sensor_session *s = t->s;
	const char *line = (const char *)(t->line.data ? t->line.data : (uint8_t *)"");
	size_t len = t->line.len;
	sensor_session_progress(s);
	switch (t->state) {
	case TN_USER:
		tn_write(t, "\n", 1);
		if (len == 0) {
			/* login asks again for an empty name */
			tn_login_prompt(t);
			break;
		}
		lib_strlcpy(t->username, line, sizeof(t->username));
		if (len >= sizeof(t->username))
			t->username[TELNET_MAX_USERNAME] = '\0';
		if (profile_password_empty(s->profile, t->username)) {
			/* login does not ask for a password the account does not have */
			check_login(t, "");
			break;
		}
		t->state = TN_PASS;
		tn_puts(t, s->profile->password_prompt);
		break;
	case TN_PASS: {
		char password[TELNET_MAX_PASSWORD + 1];
		lib_strlcpy(password, line, sizeof(password));
		tn_write(t, "\n", 1);
		check_login(t, password);
		break;
	}
	case TN_SHELL:
		tn_write(t, "\n", 1);
		if (shell_input(t->shell, line, len) == -ENOBUFS)
			sensor_session_close(s, SENSOR_CLOSE_INPUT_LIMIT);
		break;
	case TN_DELAY: break;
	}
	buf_reset(&t->line);
}

static void feed(struct tn *t, const uint8_t *p, size_t n)
{
	struct sensor_session *s = t->s;
	for (size_t i = 0; i < n && !s->closing; i++) {
		uint8_t b = p[i];
		if (t->state == TN_DELAY) {
			if (buf_append(&t->pending, p + i, n - i))
				sensor_session_close(s, SENSOR_CLOSE_LINE_LIMIT);
			return;
		}
		bool echo = t->state != TN_PASS;
		if (t->cr) {
			t->cr = false;
			if (b == '\n' || b == '\0')
				continue;
		}
		switch (b) {
		case '\r':
		case '\n':
			t->cr = b == '\r';
			line_done(t);
			break;
		case 0x7f:
		case 0x08:
			if (t->line.len) {
				t->line.len--;
				t->line.data[t->line.len] = '\0';
				if (echo)
					telnet_send(t->telnet, "\b \b", 3);
			}
			break;
		case 0x15: /* ^U */ buf_reset(&t->line); break;
		case 0x03: /* ^C */ tn_interrupt(t); break;
		case 0x04: /* ^D */
			if (t->line.len == 0) {
				if (t->state == TN_SHELL)
					shell_eof(t->shell);
				else
					sensor_session_close(s, SENSOR_CLOSE_PEER);
			}
			break;
		case 0x00: break;
		default:
			if (buf_append(&t->line, &b, 1)) {
				sensor_session_close(s, SENSOR_CLOSE_LINE_LIMIT);
				return;
			}
			if (echo)
				telnet_send(t->telnet, (const char *)&b, 1);
		}
	}
}

static void on_telnet_event(telnet_t *telnet, telnet_event_t *ev, void *user)
{
	struct tn *t = user;
	struct sensor_session *s = t->s;
	switch (ev->type) {
	case TELNET_EV_DATA: feed(t, (const uint8_t *)ev->data.buffer, ev->data.size); break;
	case TELNET_EV_SEND:
		if (buf_append(&t->tx, ev->data.buffer, ev->data.size)) {
			/* Bigger than what is left of this turn's buffer: send what is there, then
			 * this piece (straight away if it is bigger than the whole buffer). */
			tn_flush(t);
			if (buf_append(&t->tx, ev->data.buffer, ev->data.size))
				sensor_session_write(s, ev->data.buffer, ev->data.size);
		}
		break;
	case TELNET_EV_WILL:
		if (ev->neg.telopt == TELNET_TELOPT_TTYPE)
			telnet_ttype_send(telnet);
		break;
	case TELNET_EV_SUBNEGOTIATION:
		if (ev->sub.telopt == TELNET_TELOPT_NAWS && ev->sub.size == 4 &&
		    t->param_events < TELNET_MAX_PARAM_EVENTS) {
			const uint8_t *b = (const uint8_t *)ev->sub.buffer;
			int w = b[0] << 8 | b[1], h = b[2] << 8 | b[3];
			t->param_events++;
			sensor_session_emit(s, EV_SESSION_PARAMS,
					    json_pack("{s:i,s:i}", "width", w, "height", h),
					    "terminal size %dx%d", w, h);
		}
		break;
	case TELNET_EV_TTYPE:
		if (ev->ttype.cmd == TELNET_TTYPE_IS && ev->ttype.name &&
		    t->param_events < TELNET_MAX_PARAM_EVENTS) {
			t->param_events++;
			json_t *f = json_object();
			json_object_set_new(f, "term", core_json_str(ev->ttype.name));
			sensor_session_emit(s, EV_SESSION_PARAMS, f, "terminal type %s",
					    ev->ttype.name);
		}
		break;
	case TELNET_EV_IAC:
		/* Interrupt Process: telnetd turns it into the tty's ^C */
		if (ev->iac.cmd == TELNET_IP)
			tn_interrupt(t);
		break;
	case TELNET_EV_ERROR: sensor_session_close(s, SENSOR_CLOSE_ERROR); break;
	default: break;
	}
}

static int tn_accept(struct sensor_session *s)
{
	struct tn *t = xcalloc(1, sizeof(*t));
	t->s = s;
	const struct sensor_limits *lim = sensor_limits(s->sensor);
	buf_init(&t->line, lim->max_line);
	buf_init(&t->pending, lim->max_line);
	buf_init(&t->tx, TELNET_TX_MAX);
	t->telnet = telnet_init(telopts, on_telnet_event, 0, t);
	if (!t->telnet) {
		free(t);
		return -ENOMEM;
	}
	s->proto_state = t;
	sensor_session_set_pace(s, s->profile->telnet_write_size, s->profile->telnet_throughput);
	t->in_input = true;
	telnet_negotiate(t->telnet, TELNET_DO, TELNET_TELOPT_ECHO);
	telnet_negotiate(t->telnet, TELNET_DO, TELNET_TELOPT_NAWS);
	/* telnetd before BusyBox 1.14 also asked for remote flow control */
	int major = 0, minor = 0;
	if (sscanf(s->profile->busybox_version, "%d.%d", &major, &minor) == 2 && major == 1 &&
	    minor < TELNET_LFLOW_BEFORE)
		telnet_negotiate(t->telnet, TELNET_DO, TELNET_TELOPT_LFLOW);
	telnet_negotiate(t->telnet, TELNET_WILL, TELNET_TELOPT_ECHO);
	telnet_negotiate(t->telnet, TELNET_WILL, TELNET_TELOPT_SGA);
	tn_puts(t, s->profile->banner);
	tn_login_prompt(t);
	t->in_input = false;
	tn_flush(t);
	return 0;
}

static void tn_data(struct sensor_session *s, const uint8_t *p, size_t n)
{
	struct tn *t = s->proto_state;
	t->in_input = true;
	telnet_recv(t->telnet, (const char *)p, n);
	t->in_input = false;
	if (!s->handles_closed)
		tn_flush(t);
}

static void tn_close(struct sensor_session *s)
{
	struct tn *t = s->proto_state;
	if (!t)
		return;
	if (t->fetch_id)
		capture_fetch_detach(sensor_fetcher(s->sensor), t->fetch_id);
	if (t->shell)
		shell_free(t->shell);
	if (t->delay) {
		uv_timer_stop(t->delay);
		uv_close((uv_handle_t *)t->delay, on_delay_closed);
	}
	if (t->wait) {
		uv_timer_stop(t->wait);
		uv_close((uv_handle_t *)t->wait, on_delay_closed);
	}
	telnet_free(t->telnet);
	buf_free(&t->line);
	buf_free(&t->tx);
	buf_free(&t->pending);
	free(t);
	s->proto_state = NULL;
}

const struct sensor_proto sensor_proto_telnet = {
	.name = "telnet",
	.on_accept = tn_accept,
	.on_data = tn_data,
	.on_close = tn_close,
};
