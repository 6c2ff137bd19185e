/* Unit tests of src/ident's fingerprint database: the shipped fingerprints (every example,
 * every category covered), Recog's format (keys from file names, base64 examples, params,
 * interpolation, Ruby regex translation), hostile XML, and the classifier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ident/ident.h"

static struct ident_db *shipped(void)
{
	struct ident_db *db = ident_db_new();
	char err[512] = "";
	int rc = ident_db_load_dir(db, MITSU_SOURCE_DIR "/fingerprints", err, sizeof(err));
	if (rc)
		fail_msg("shipped fingerprints: %s", err);
	return db;
}

/* Every example of every shipped fingerprint matches its pattern with the params it names. */
static void test_shipped_examples(void **state)
{
	struct ident_db *db = shipped();
	size_t checked = 0;
	size_t fails = ident_db_selftest(db, stderr, &checked);
	assert_int_equal(fails, 0);
	struct ident_db_stats st;
	ident_db_stats(db, &st);
	assert_true(st.fingerprints >= 100);
	assert_int_equal(checked, st.examples);
	assert_true(checked >= st.fingerprints); /* every fingerprint has examples */
	ident_db_free(db);
}

/* At least the seed's 72 categories, each named by at least one fingerprint, and every
 * fingerprint's hw.device is a known category. */
static void test_shipped_categories(void **state)
{
	struct ident_db *db = shipped();
	const struct ident_category *cats;
	size_t n = ident_db_categories(db, &cats);
	assert_true(n >= 72);
	for (size_t i = 0; i < n; i++)
		if (ident_db_category_fingerprints(db, &cats[i]) == 0)
			fail_msg("category %s has no fingerprint", cats[i].id);
	/* the seed's named ones */
	static const char *const seed[] = {"IP camera",
					   "DVR",
					   "NVR",
					   "router",
					   "modem",
					   "bridge",
					   "wireless router",
					   "NAS",
					   "firewall",
					   "VoIP gateway",
					   "IP phone",
					   "GSM router",
					   "analog telephone adapter",
					   "parking",
					   "LED display",
					   "solid-state recorder",
					   "internet connection module",
					   "sensor monitor",
					   "building control (BMS)",
					   "web camera",
					   "video recorder",
					   "home automation",
					   "solar",
					   "power demand monitor",
					   "video distribution",
					   "digital audio recorder",
					   "video encoder / decoder",
					   "set-top box",
					   "antenna",
					   "heat pump",
					   "fire alarm panel",
					   "disk storage (RAID, SAN)",
					   "mri",
					   "fingerprint reader"};
	for (size_t i = 0; i < LIB_ARRAY_LEN(seed); i++)
		if (!ident_db_category(db, seed[i]))
			fail_msg("the seed's category '%s' is not in categories.tsv", seed[i]);
	ident_db_free(db);
}

static const char recog_style[] =
	"<?xml version=\"1.0\"?>\n"
	"<fingerprints protocol=\"telnet\" preference=\".80\">\n"
	"  <fingerprint pattern=\"\\A(?i)(?:\\r|\\n)*login:\\s*$\">\n"
	"    <description>bare login</description>\n"
	"    <example>login:</example>\n"
	"  </fingerprint>\n"
	"  <fingerprint pattern=\"^Acme (\\w+) v([\\d.]+)(?:\\r|\\n)+Login:$\">\n"
	"    <description>Acme box</description>\n"
	"    <example _encoding=\"base64\" hw.product=\"R9\" os.version=\"2.1\">\n"
	"      QWNtZSBSOSB2Mi4xDQpMb2dp\n"
	"      bjo=\n"
	"    </example>\n"
	"    <param pos=\"0\" name=\"hw.vendor\" value=\"Acme\"/>\n"
	"    <param pos=\"0\" name=\"hw.device\" value=\"Router\"/>\n"
	"    <param pos=\"1\" name=\"hw.product\"/>\n"
	"    <param pos=\"2\" name=\"os.version\"/>\n"
	"    <param pos=\"0\" name=\"os.cpe23\" value=\"cpe:/o:acme:os:{os.version}\"/>\n"
	"  </fingerprint>\n"
	"  <fingerprint pattern=\"(?m)^id=(\\h+)\\.end\">\n"
	"    <description>Ruby dot-all and hex class</description>\n"
	"    <example>id=00ff.end</example>\n"
	"    <param pos=\"1\" name=\"x.id\"/>\n"
	"  </fingerprint>\n"
	"</fingerprints>\n";

/* A Recog file without `matches` takes its key from the file name (telnet_banners.xml). */
static void test_recog_format(void **state)
{
	struct ident_db *db = ident_db_new();
	char err[512] = "";
	assert_int_equal(ident_db_load_xml(db, "xml/telnet_banners.xml", recog_style,
					   sizeof(recog_style) - 1, err, sizeof(err)),
			 0);
	assert_int_equal(ident_db_selftest(db, stderr, NULL), 0);
	struct ident_match m = {0};
	const char banner[] = "Acme X7 v3.0\r\nLogin:";
	assert_true(ident_db_match(db, "telnet.banner", banner, strlen(banner), &m));
	assert_string_equal(ident_match_get(&m, "hw.product"), "X7");
	assert_string_equal(ident_match_get(&m, "os.cpe23"), "cpe:/o:acme:os:3.0");
	assert_string_equal(m.file, "telnet_banners");
	assert_true(m.certainty > 0.79 && m.certainty < 0.81);
	/* (?m) is Ruby's dot-all; \h a hex digit, not a blank */
	const char hex[] = "id=beef.end";
	assert_true(ident_db_match(db, "telnet.banner", hex, strlen(hex), &m));
	assert_string_equal(ident_match_get(&m, "x.id"), "beef");
	const char notdev[] = "Password:";
	assert_false(ident_db_match(db, "telnet.banner", notdev, strlen(notdev), &m));
	assert_false(ident_db_match(db, "http_header.server", banner, strlen(banner), &m));
	ident_match_clear(&m);
	ident_db_free(db);
}

/* A wrong expectation in an example is reported, not silently passed. */
static void test_selftest_catches(void **state)
{
	static const char xml[] =
		"<fingerprints matches=\"http_header.server\">"
		"<fingerprint pattern=\"^Foo/(\\d+)$\"><description>foo</description>"
		"<example service.version=\"2\">Foo/1</example>"
		"<example>Bar/1</example>"
		"<param pos=\"1\" name=\"service.version\"/></fingerprint>"
		"<fingerprint pattern=\"^(unclosed\"><description>bad</description>"
		"<example>x</example></fingerprint></fingerprints>";
	struct ident_db *db = ident_db_new();
	char err[256];
	assert_int_equal(ident_db_load_xml(db, "x.xml", xml, sizeof(xml) - 1, err, sizeof(err)), 0);
	FILE *null = fopen("/dev/null", "w");
	assert_int_equal(ident_db_selftest(db, null, NULL), 3);
	fclose(null);
	ident_db_free(db);
}

static void expect_refused(const char *xml, const char *reason)
{
	struct ident_db *db = ident_db_new();
	char err[512] = "";
	assert_int_not_equal(ident_db_load_xml(db, "bad.xml", xml, strlen(xml), err, sizeof(err)),
			     0);
	if (!strstr(err, reason))
		fail_msg("error '%s' lacks '%s'", err, reason);
	struct ident_db_stats st;
	ident_db_stats(db, &st);
	assert_int_equal(st.files, 0); /* nothing of a refused file stays */
	assert_int_equal(st.fingerprints, 0);
	ident_db_free(db);
}

static void test_hostile_xml(void **state)
{
	expect_refused("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]>"
		       "<fingerprints/>",
		       "document type");
	expect_refused("<fingerprints matches=\"ftp.banner\"><fingerprint pattern=\"a\">"
		       "<description>x</description>",
		       "line 1");
	expect_refused("<other/>", "root element");
	expect_refused("<fingerprints><fingerprint><description>x</description></fingerprint>"
		       "</fingerprints>",
		       "without a pattern");
	expect_refused("<fingerprints><fingerprint pattern=\"a\"><param pos=\"0\" name=\"x\"/>"
		       "</fingerprint></fingerprints>",
		       "without a value");
	expect_refused("<fingerprints><fingerprint pattern=\"a\"><example _encoding=\"base64\">"
		       "!!!</example></fingerprint></fingerprints>",
		       "base64");
	expect_refused("", "");
}

/* Files whose key no probe produces are not kept. */
static void test_unused_key(void **state)
{
	static const char xml[] = "<fingerprints matches=\"smtp.banner\"><fingerprint "
				  "pattern=\"a\"><description>x</description></fingerprint>"
				  "</fingerprints>";
	struct ident_db *db = ident_db_new();
	char err[256];
	assert_int_equal(
		ident_db_load_xml(db, "smtp_banners.xml", xml, sizeof(xml) - 1, err, sizeof(err)),
		0);
	struct ident_db_stats st;
	ident_db_stats(db, &st);
	assert_int_equal(st.fingerprints, 0);
	assert_int_equal(st.skipped_files, 1);
	ident_db_free(db);
}

/* A pattern that backtracks without end stops at the match limit. */
static void test_backtracking_bounded(void **state)
{
	static const char xml[] = "<fingerprints matches=\"ftp.banner\"><fingerprint "
				  "pattern=\"^(a+)+$\"><description>evil</description>"
				  "</fingerprint></fingerprints>";
	struct ident_db *db = ident_db_new();
	char err[256];
	assert_int_equal(ident_db_load_xml(db, "e.xml", xml, sizeof(xml) - 1, err, sizeof(err)), 0);
	char s[4000];
	memset(s, 'a', sizeof(s) - 2);
	s[sizeof(s) - 2] = '!';
	s[sizeof(s) - 1] = 0;
	struct ident_match m = {0};
	uint64_t t0 = lib_mono_ms();
	assert_false(ident_db_match(db, "ftp.banner", s, strlen(s), &m));
	assert_true(lib_mono_ms() - t0 < 5000);
	ident_db_free(db);
}

/* A param naming a group its pattern does not have reads nothing: the match data still holds
 * an earlier, longer subject's groups (found by the ident_xml fuzz target: a read past the
 * subject). */
static void test_param_beyond_groups(void **state)
{
	static const char xml[] = "<fingerprints matches=\"ftp.banner\">"
				  "<fingerprint pattern=\"^(\\w+) (\\w+) (\\w+) "
				  "long$\"><description>three</description>"
				  "<param pos=\"3\" name=\"x\"/></fingerprint>"
				  "<fingerprint pattern=\"^short\"><description>none</description>"
				  "<param pos=\"3\" name=\"x\"/></fingerprint></fingerprints>";
	struct ident_db *db = ident_db_new();
	char err[256];
	assert_int_equal(ident_db_load_xml(db, "p.xml", xml, sizeof(xml) - 1, err, sizeof(err)), 0);
	struct ident_match m = {0};
	const char *longer = "aaaaaaaaaaaa bbbbbbbbbbbbbbbb cccccccccccccccccccc long";
	assert_true(ident_db_match(db, "ftp.banner", longer, strlen(longer), &m));
	assert_string_equal(ident_match_get(&m, "x"), "cccccccccccccccccccc");
	char *s = xstrdup("short");
	assert_true(ident_db_match(db, "ftp.banner", s, strlen(s), &m));
	assert_string_equal(m.description, "none");
	assert_null(ident_match_get(&m, "x"));
	free(s);
	ident_match_clear(&m);
	ident_db_free(db);
}

static void add(struct ident_host *h, enum ident_probe_kind k, int port, const char *key,
		const char *v)
{
	ident_host_add_field(h, k, port, key, v, strlen(v));
}

/* Two agreeing signs add up; vendor and model come from the matches. */
static void test_classify(void **state)
{
	struct ident_db *db = shipped();
	struct ident_host *h = calloc(1, sizeof(*h));
	add(h, IDENT_PROBE_HTTP, 80, "http_header.server", "uc-httpd 1.0.0");
	h->probes[h->nprobes++] = (struct ident_probe_result){
		.kind = IDENT_PROBE_HTTP, .port = 80, .outcome = IDENT_OUT_DATA};
	struct ident_result r;
	ident_classify(db, h, 0.5, &r);
	assert_true(r.identified);
	assert_true(r.answered);
	assert_string_equal(r.category->id, "dvr");
	assert_string_equal(r.vendor, "XiongMai");
	double one = r.confidence;
	ident_result_free(&r);
	add(h, IDENT_PROBE_TELNET, 23, "telnet.banner", "HI3520D login:");
	ident_classify(db, h, 0.5, &r);
	assert_string_equal(r.category->id, "dvr");
	assert_true(r.confidence > one);
	assert_string_equal(r.model, "Hi3520D");
	assert_int_equal(r.nevidence, 2);
	json_t *j = ident_result_json(h, &r);
	assert_string_equal(json_string_value(json_object_get(j, "category")), "dvr");
	assert_int_equal(json_array_size(json_object_get(j, "evidence")), 2);
	json_decref(j);
	ident_result_free(&r);
	/* a weak sign alone does not identify */
	ident_host_clear(h);
	add(h, IDENT_PROBE_HTTP, 80, "http_header.server", "Boa/0.94.14rc21");
	ident_classify(db, h, 0.5, &r);
	assert_false(r.identified);
	assert_false(r.answered == false && r.nevidence == 0);
	ident_result_free(&r);
	ident_host_clear(h);
	free(h);
	ident_db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_examples),
		cmocka_unit_test(test_shipped_categories),
		cmocka_unit_test(test_recog_format),
		cmocka_unit_test(test_selftest_catches),
		cmocka_unit_test(test_hostile_xml),
		cmocka_unit_test(test_unused_key),
		cmocka_unit_test(test_backtracking_bounded),
		cmocka_unit_test(test_param_beyond_groups),
		cmocka_unit_test(test_classify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
