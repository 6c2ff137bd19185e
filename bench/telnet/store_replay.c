/* bench/telnet/store_replay: the events of Mirai scanner sessions through the bus, mitsu.db's
 * writer and events.jsonl, without sockets, so that the cost of recording a session can be
 * measured alone (and under callgrind, where the real sensor's batches would be tiny).
 *
 * Each session emits the twelve events a Mirai scanner's visit makes in `mitsu run` (connect,
 * params, login, four commands with three unknown, closed; recorded from bench/telnet's
 * scanner phase), with the same fields and messages. CONCURRENCY sessions run interleaved, one
 * event each in turn, and the queue is flushed every BATCH events as `mitsu run` does under
 * load (RUN_FLUSH_EVENTS). It prints sessions/s and CPU per session, of the whole process
 * and of each thread (the loop's part is `store_replay`, the writer's `mitsu-store`).
 *
 * usage: store_replay [-n SESSIONS] [-c CONCURRENCY] [-b BATCH] [-j] [-d DIR] [-p PAGE_SIZE]
 *                     [-x SQL]
 *   -j  events.jsonl only (sinks.sqlite=false), as bench/telnet's scanjson phase
 *   -p  mitsu.db made with this page size before the store opens it (an experiment)
 *   -x  SQL run by the writer once the tables exist, e.g. "DROP INDEX events_session" (an
 *       experiment: what a table or index costs) */
#include "core/core.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Events of one scanner session, in order. */
#define REPLAY_STEPS 12

struct replay_session {
	struct core_conn conn;
	int step;
	uint64_t start_us;
};

static void emit_step(struct core_bus *bus, struct replay_session *s)
{
	static const char *const cmds[] = {"enable", "system", "shell", "sh", "/bin/busybox MIRAI"};
	const struct core_conn *c = &s->conn;
	int st = s->step;
	if (st == 0) {
		core_emit(bus, c, EV_SESSION_CONNECT, json_pack("{s:s}", "profile", "dvr-hi3520d"),
			  "new connection: %s:%d (%s:%d) [session: %s]", c->src_ip, c->src_port,
			  c->dst_ip, c->dst_port, c->session);
	} else if (st == 1) {
		core_emit(bus, c, EV_SESSION_PARAMS,
			  json_pack("{s:i,s:i}", "width", 80, "height", 24), "terminal size 80x24");
	} else if (st == 2) {
		core_emit(bus, c, EV_LOGIN_SUCCESS,
			  json_pack("{s:s,s:s}", "username", "root", "password", "xc3511"),
			  "login attempt [%s/%s] succeeded", "root", "xc3511");
	} else if (st < 11) {
		/* input, unknown for the first three commands; input only for sh and busybox */
		int k = st - 3;
		int cmd = k < 6 ? k / 2 : k - 3;
		bool unknown = k < 6 && k % 2 == 1;
		if (unknown)
			core_emit(bus, c, EV_COMMAND_UNKNOWN,
				  json_pack("{s:s}", "input", cmds[cmd]), "unknown command: %s",
				  cmds[cmd]);
		else
			core_emit(bus, c, EV_COMMAND_INPUT, json_pack("{s:s}", "input", cmds[cmd]),
				  "CMD: %s", cmds[cmd]);
	} else {
		double d = (double)(lib_mono_us() - s->start_us) / 1e6;
		core_emit(bus, c, EV_SESSION_CLOSED,
			  json_pack("{s:f,s:s}", "duration", d, "reason", "peer"),
			  "session closed (peer) after %.1f s", d);
	}
	s->step++;
}

static void new_session(struct replay_session *s, unsigned n)
{
	memset(s, 0, sizeof(*s));
	core_session_id(s->conn.session);
	s->conn.protocol = "telnet";
	snprintf(s->conn.src_ip, sizeof(s->conn.src_ip), "127.0.0.%u", 1 + n % 250);
	s->conn.src_port = 1024 + (int)(n % 60000);
	snprintf(s->conn.dst_ip, sizeof(s->conn.dst_ip), "127.0.0.1");
	s->conn.dst_port = 2323;
	s->start_us = lib_mono_us();
}

/* CPU seconds of each thread of the process, by name, printed per session. */
static void print_threads(unsigned long sessions)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	long hz = sysconf(_SC_CLK_TCK);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], line[1024];
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
		line[n] = '\0';
		char *open = strchr(line, '('), *close = strrchr(line, ')');
		if (!open || !close)
			continue;
		*close = '\0';
		unsigned long ut = 0, stt = 0;
		/* fields after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt
		 * cmajflt utime stime */
		if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			   &stt) != 2)
			continue;
		printf("thread_%s_us_per_session=%.1f\n", open + 1,
		       (double)(ut + stt) * 1e6 / (double)hz / (double)sessions);
	}
	if (d)
		closedir(d);
}

/* An empty mitsu.db with the given page size, in WAL mode as the store keeps it. */
static int make_db(const char *dir, int page)
{
	char path[4096], sql[128];
	snprintf(path, sizeof(path), "%s/mitsu.db", dir);
	snprintf(sql, sizeof(sql), "PRAGMA page_size=%d; PRAGMA journal_mode=WAL; VACUUM;", page);
	sqlite3 *db;
	int rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "store_replay: cannot make %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc != SQLITE_OK;
}

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long total = 20000;
	unsigned conc = 128, batch = 2048;
	bool jsonl_only = false;
	const char *dir = NULL, *sql = NULL;
	int page = 0;
	int opt;
	while ((opt = getopt(argc, argv, "n:c:b:jd:p:x:")) != -1) {
		switch (opt) {
		case 'n': total = strtoul(optarg, NULL, 10); break;
		case 'c': conc = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': jsonl_only = true; break;
		case 'd': dir = optarg; break;
		case 'p': page = atoi(optarg); break;
		case 'x': sql = optarg; break;
		default:
			fprintf(stderr, "usage: store_replay [-n SESSIONS] [-c CONCURRENCY] "
					"[-b BATCH] [-j] [-d DIR] [-p PAGE_SIZE] [-x SQL]\n");
			return 2;
		}
	}
	if (!total || !conc || !batch) {
		fprintf(stderr, "store_replay: -n, -c and -b take positive numbers\n");
		return 2;
	}
	char tmp[] = "/tmp/mitsu-store-replay-XXXXXX";
	if (!dir && !(dir = mkdtemp(tmp))) {
		perror("mkdtemp");
		return 1;
	}
	struct core_config cfg;
	core_config_init(&cfg);
	char err[256];
	if (core_config_set(&cfg, OPT_CORE_DATA_DIR, dir, false, err, sizeof(err)) ||
	    (jsonl_only && core_config_set_kv(&cfg, "sinks.sqlite=false", err, sizeof(err)))) {
		fprintf(stderr, "store_replay: %s\n", err);
		return 1;
	}
	if (page && make_db(dir, page))
		return 1;
	struct core_store st;
	if (core_store_open(&st, dir, false))
		return 1;
	struct core_bus *bus = core_bus_open(&cfg, &st);
	if (sql && core_store_schema(&st, sql))
		return 1;

	struct replay_session *ss = xcalloc(conc, sizeof(*ss));
	unsigned long started = 0, done = 0;
	for (unsigned i = 0; i < conc && started < total; i++)
		new_session(&ss[i], (unsigned)started++);
	double c0 = cpu_s();
	uint64_t t0 = lib_mono_us();
	while (done < total) {
		for (unsigned i = 0; i < conc; i++) {
			struct replay_session *s = &ss[i];
			if (s->step >= REPLAY_STEPS)
				continue;
			emit_step(bus, s);
			if (s->step == REPLAY_STEPS) {
				done++;
				if (started < total)
					new_session(s, (unsigned)started++);
			}
			if (core_bus_pending(bus) >= batch) {
				core_bus_flush(bus);
				core_store_poll(&st);
			}
		}
	}
	core_bus_drain(bus);
	uint64_t t1 = lib_mono_us();
	double c1 = cpu_s();
	printf("mode=%s\nsessions=%lu\nevents=%lu\nbatch=%u\nseconds=%.3f\n",
	       jsonl_only ? "jsonl" : "store", total, total * REPLAY_STEPS, batch,
	       (double)(t1 - t0) / 1e6);
	printf("sessions_per_s=%.0f\ncpu_us_per_session=%.1f\n",
	       (double)total * 1e6 / (double)(t1 - t0), (c1 - c0) * 1e6 / (double)total);
	print_threads(total);
	core_bus_close(bus);
	core_store_close(&st);
	core_config_free(&cfg);
	free(ss);
	if (dir == tmp) {
		char cmd[sizeof(tmp) + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "store_replay: cannot remove %s\n", tmp);
	}
	return 0;
}
