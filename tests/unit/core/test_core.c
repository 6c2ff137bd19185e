/* Unit tests of src/core: options, event catalogue, bus and sinks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

static void test_config_defaults_valid(void **state)
{
	/* Every default must pass its own validation. */
	struct core_config cfg;
	core_config_init(&cfg);
	char err[256];
	for (int i = 0; i < OPT__COUNT; i++) {
		struct core_config c2;
		core_config_init(&c2);
		int rc = core_config_set(&c2, i, core_options[i].def, false, err, sizeof(err));
		if (rc)
			fail_msg("default of %s.%s: %s", core_options[i].section,
				 core_options[i].key, err);
		core_config_free(&c2);
	}
	assert_string_equal(core_cfg_str(&cfg, OPT_CORE_DATA_DIR), "./var");
	assert_true(core_cfg_bool(&cfg, OPT_SINKS_SQLITE));
	core_config_free(&cfg);
}

static void test_config_set(void **state)
{
	struct core_config cfg;
	core_config_init(&cfg);
	char err[256];
	assert_int_equal(core_config_set_kv(&cfg, "limits.max_line=32K", err, sizeof(err)), 0);
	assert_true(core_cfg_size(&cfg, OPT_LIMITS_MAX_LINE) == 32768);
	assert_int_not_equal(core_config_set_kv(&cfg, "limits.max_line=12", err, sizeof(err)), 0);
	assert_int_not_equal(core_config_set_kv(&cfg, "nosuch.key=1", err, sizeof(err)), 0);
	assert_int_not_equal(core_config_set_kv(&cfg, "sinks.sqlite=maybe", err, sizeof(err)), 0);
	assert_int_equal(core_config_set(&cfg, OPT_SENSOR_LISTEN, "telnet@127.0.0.1:23", false, err,
					 sizeof(err)),
			 0);
	assert_int_equal(core_config_set(&cfg, OPT_SENSOR_LISTEN, "telnet@127.0.0.1:2323/x", true,
					 err, sizeof(err)),
			 0);
	char **items;
	assert_int_equal(core_cfg_list(&cfg, OPT_SENSOR_LISTEN, &items), 2);
	assert_string_equal(items[1], "telnet@127.0.0.1:2323/x");
	core_list_free(items);
	core_config_free(&cfg);
}

static void test_config_file(void **state)
{
	char path[] = "/tmp/mitsu-cfg-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text =
		"[sensor]\nname = s1\nlisten = telnet@127.0.0.1:1\nlisten = telnet@127.0.0.1:2\n"
		"[limits]\nidle_timeout = 30\n";
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	struct core_config cfg;
	core_config_init(&cfg);
	char err[256];
	/* A value set on the command line wins over the file. */
	assert_int_equal(core_config_set_kv(&cfg, "sensor.name=cli", err, sizeof(err)), 0);
	assert_int_equal(core_config_load(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(core_cfg_str(&cfg, OPT_SENSOR_NAME), "cli");
	assert_string_equal(core_cfg_str(&cfg, OPT_SENSOR_LISTEN),
			    "telnet@127.0.0.1:1,telnet@127.0.0.1:2");
	assert_int_equal(core_cfg_int(&cfg, OPT_LIMITS_IDLE_TIMEOUT), 30);
	core_config_free(&cfg);
	unlink(path);
}

/* docs/events.md lists exactly the ids of src/core/events.h, in the same order. */
static void test_event_catalogue_matches_docs(void **state)
{
	FILE *f = fopen(MITSU_SOURCE_DIR "/docs/events.md", "r");
	assert_non_null(f);
	char line[1024];
	int n = 0;
	bool in_events = false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "## ", 3) == 0)
			in_events = strcmp(line, "## Events\n") == 0;
		if (!in_events || strncmp(line, "| `mitsu.", 9) != 0)
			continue;
		char *start = line + 3, *end = strchr(start, '`');
		assert_non_null(end);
		*end = '\0';
		if (n >= EV__COUNT)
			fail_msg("docs/events.md lists %s, which the code does not have", start);
		if (strcmp(start, core_events[n].name) != 0)
			fail_msg("docs/events.md row %d is %s, code has %s", n + 1, start,
				 core_events[n].name);
		n++;
	}
	fclose(f);
	assert_int_equal(n, EV__COUNT);
}

static void test_json_bytes(void **state)
{
	json_t *j = core_json_bytes("ok \xff\xfe caf\xc3\xa9", 11);
	assert_string_equal(json_string_value(j), "ok \\xff\\xfe caf\xc3\xa9");
	json_decref(j);
	j = core_json_bytes("a\0b", 3);
	assert_int_equal(json_string_length(j), 3);
	json_decref(j);
}

struct watch {
	int count;
	char last[64];
};

static int watch_write(void *state, enum core_event id, const char *line, size_t len)
{
	struct watch *w = state;
	w->count++;
	lib_strlcpy(w->last, core_events[id].name, sizeof(w->last));
	/* The line is the whole event, and parses as JSON. */
	json_t *j = json_loadb(line, len, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "eventid")), core_events[id].name);
	json_decref(j);
	return 0;
}

static const struct core_sink_ops watch_sink = {.name = "watch", .write = watch_write};

static void test_bus_sqlite_roundtrip(void **state)
{
	char dir[] = "/tmp/mitsu-store-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct core_config cfg;
	core_config_init(&cfg);
	char err[256];
	core_config_set(&cfg, OPT_CORE_DATA_DIR, dir, false, err, sizeof(err));
	struct core_store st;
	assert_int_equal(core_store_open(&st, dir, false), 0);
	struct core_bus *bus = core_bus_open(&cfg, &st);
	struct watch w = {0};
	core_bus_add_sink(bus, &watch_sink, &w);

	struct core_conn conn = {.protocol = "telnet",
				 .src_ip = "192.0.2.1",
				 .src_port = 4242,
				 .dst_ip = "127.0.0.1",
				 .dst_port = 2323};
	core_session_id(conn.session);
	json_t *f = json_object();
	json_object_set_new(f, "profile", json_string("p"));
	/* A module may not override connection identity. */
	json_object_set_new(f, "src_ip", json_string("6.6.6.6"));
	/* every common field a module might set is left out, each once */
	static const char *const common[] = {"eventid", "timestamp", "sensor",   "uuid",
					     "message", "session",   "protocol", "src_port",
					     "dst_ip",  "dst_port"};
	for (size_t c = 0; c < LIB_ARRAY_LEN(common); c++)
		json_object_set_new(f, common[c], json_string("module's"));
	core_emit(bus, &conn, EV_SESSION_CONNECT, f, "connection from %s", conn.src_ip);
	f = json_pack("{s:s,s:s}", "username", "root", "password", "xc3511");
	core_emit(bus, &conn, EV_LOGIN_SUCCESS, f, "login");
	core_emit(bus, &conn, EV_COMMAND_INPUT, json_pack("{s:s}", "input", "sh"), "cmd");
	core_emit(bus, &conn, EV_SESSION_CLOSED,
		  json_pack("{s:f,s:s}", "duration", 1.5, "reason", "peer"), "closed");
	assert_int_equal(w.count, 0); /* queued until the turn ends */
	core_bus_flush(bus);
	/* The sinks get the batch once mitsu.db has it (core_store_poll). */
	core_store_sync(&st);
	assert_int_equal(w.count, 4);
	assert_string_equal(w.last, "mitsu.session.closed");
	core_bus_close(bus);
	core_store_close(&st);

	assert_int_equal(core_store_open(&st, dir, true), 0);
	sqlite3_stmt *q;
	assert_int_equal(
		sqlite3_prepare_v2(st.db, "SELECT count(*) FROM events WHERE src_ip = '192.0.2.1'",
				   -1, &q, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 4);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(st.db,
					    "SELECT login, username, password, commands, reason, "
					    "src_ip, profile FROM sessions",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 1);
	assert_string_equal((const char *)sqlite3_column_text(q, 1), "root");
	assert_string_equal((const char *)sqlite3_column_text(q, 2), "xc3511");
	assert_int_equal(sqlite3_column_int(q, 3), 1);
	assert_string_equal((const char *)sqlite3_column_text(q, 4), "peer");
	assert_string_equal((const char *)sqlite3_column_text(q, 5), "192.0.2.1");
	assert_string_equal((const char *)sqlite3_column_text(q, 6), "p");
	sqlite3_finalize(q);
	core_store_close(&st);

	/* The JSON-lines file has the same four events. */
	char *path = core_data_path(dir, "events.jsonl");
	uint8_t *data;
	size_t len;
	assert_int_equal(lib_read_file(path, 1 << 20, &data, &len), 0);
	int lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += data[i] == '\n';
	assert_int_equal(lines, 4);
	assert_non_null(strstr((char *)data, "\"eventid\":\"mitsu.login.success\""));
	free(data);
	free(path);
	core_config_free(&cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The serialised line: Cowrie's field order, the module's fields after the common ones, a
 * module never overriding the connection identity, invalid UTF-8 as \xHH, control characters
 * escaped, nested values intact. */
struct capture_line {
	char line[4096];
};

static int capture_write(void *state, enum core_event id, const char *line, size_t len)
{
	struct capture_line *c = state;
	snprintf(c->line, sizeof(c->line), "%.*s", (int)len, line);
	return 0;
}

static const struct core_sink_ops capture_sink = {.name = "capture", .write = capture_write};

/* A bus with no store and no file: its one sink keeps the last line in *cap. */
static struct core_bus *capture_bus(struct core_config *cfg, struct capture_line *cap)
{
	core_config_init(cfg);
	char err[128];
	core_config_set_kv(cfg, "sinks.sqlite=false", err, sizeof(err));
	core_config_set_kv(cfg, "sinks.jsonl=false", err, sizeof(err));
	struct core_bus *bus = core_bus_open(cfg, NULL);
	core_bus_add_sink(bus, &capture_sink, cap);
	return bus;
}

static void test_serialisation(void **state)
{
	struct core_config cfg;
	struct capture_line cap = {0};
	struct core_bus *bus = capture_bus(&cfg, &cap);
	struct core_conn conn = {.session = "00000000000000ab",
				 .protocol = "telnet",
				 .src_ip = "192.0.2.1",
				 .src_port = 1,
				 .dst_ip = "127.0.0.1",
				 .dst_port = 23};
	json_t *f = json_object();
	json_object_set_new(f, "input", core_json_bytes("a\"b\\\n\x01\xff", 7));
	json_object_set_new(f, "src_ip", json_string("6.6.6.6"));
	/* every common field a module might set is left out, each once */
	static const char *const common[] = {"eventid", "timestamp", "sensor",   "uuid",
					     "message", "session",   "protocol", "src_port",
					     "dst_ip",  "dst_port"};
	for (size_t c = 0; c < LIB_ARRAY_LEN(common); c++)
		json_object_set_new(f, common[c], json_string("module's"));
	json_object_set_new(f, "n", json_integer(-5));
	json_object_set_new(f, "x", json_real(2));
	json_object_set_new(f, "nested",
			    json_pack("{s:[i,b,n],s:{s:s}}", "a", 1, 1, "o", "k", "v"));
	core_emit(bus, &conn, EV_COMMAND_INPUT, f, "CMD: %s", "t\tab");
	core_bus_flush(bus);
	json_error_t je;
	json_t *j = json_loads(cap.line, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		fail_msg("not JSON: %s (%s)", cap.line, je.text);
	const char *order[] = {"eventid",  "timestamp", "sensor", "uuid",     "message",
			       "session",  "protocol",  "src_ip", "src_port", "dst_ip",
			       "dst_port", "input",     "n",      "x",        "nested"};
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		assert_true(i < LIB_ARRAY_LEN(order));
		assert_string_equal(k, order[i++]);
	}
	assert_int_equal(i, LIB_ARRAY_LEN(order));
	assert_string_equal(json_string_value(json_object_get(j, "src_ip")), "192.0.2.1");
	assert_string_equal(json_string_value(json_object_get(j, "input")), "a\"b\\\n\x01\\xff");
	assert_string_equal(json_string_value(json_object_get(j, "message")), "CMD: t\tab");
	assert_true(json_real_value(json_object_get(j, "x")) == 2.0);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), -5);
	assert_true(json_is_null(
		json_array_get(json_object_get(json_object_get(j, "nested"), "a"), 2)));
	json_decref(j);
	core_bus_close(bus);
	core_config_free(&cfg);
}

/* A character that needs escaping (or is UTF-8, kept, or invalid, written \xHH) at every
 * place of strings of up to 24 bytes: the quick scan for plain strings never lets one by. */
static void test_serialisation_escapes_anywhere(void **state)
{
	struct core_config cfg;
	struct capture_line cap = {0};
	struct core_bus *bus = capture_bus(&cfg, &cap);
	static const char *const odd[][2] = {{"\"", "\""},
					     {"\\", "\\"},
					     {"\n", "\n"},
					     {"\x01", "\x01"},
					     {"\x1f", "\x1f"},
					     {"\x7f", "\x7f"},
					     {"\xc3\xa9", "\xc3\xa9"},
					     {"\xff", "\\xff"},
					     {" ", " "}};
	for (size_t k = 0; k < LIB_ARRAY_LEN(odd); k++)
		for (size_t len = 1; len <= 24; len++)
			for (size_t at = 0; at < len; at++) {
				char in[64], want[64];
				memset(in, 'a', len);
				memset(want, 'a', len);
				size_t ol = strlen(odd[k][0]), wl = strlen(odd[k][1]);
				memcpy(in + at, odd[k][0], ol);
				memcpy(in + at + ol, "bbbbbbbbbbbbbbbbbbbbbbbb", len - at);
				in[len + ol] = 0;
				memcpy(want + at, odd[k][1], wl);
				memcpy(want + at + wl, "bbbbbbbbbbbbbbbbbbbbbbbb", len - at);
				want[len + wl] = 0;
				core_emit(bus, NULL, EV_COMMAND_INPUT, NULL, "%s", in);
				core_bus_flush(bus);
				json_t *j = json_loads(cap.line, 0, NULL);
				if (!j)
					fail_msg("not JSON: %s", cap.line);
				assert_string_equal(
					json_string_value(json_object_get(j, "message")), want);
				json_decref(j);
			}
	core_bus_close(bus);
	core_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults_valid),
		cmocka_unit_test(test_config_set),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_event_catalogue_matches_docs),
		cmocka_unit_test(test_json_bytes),
		cmocka_unit_test(test_bus_sqlite_roundtrip),
		cmocka_unit_test(test_serialisation),
		cmocka_unit_test(test_serialisation_escapes_anywhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
