/* Unit tests of src/ident's parsers: HTTP responses on every prefix, <title> text, Telnet
 * negotiation fed one byte at a time, UPnP descriptions (root device fields only, services),
 * and targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ident/ident.h"

static void test_http(void **state)
{
	static const char resp[] = "HTTP/1.1 401 Unauthorized\r\nServer: uc-httpd 1.0.0\r\n"
				   "WWW-Authenticate: Basic realm=\"DVR\"\r\nX: a\r\n"
				   "WWW-Authenticate: Digest realm=\"x\"\r\n\r\nbody!";
	size_t n = sizeof(resp) - 1;
	struct ident_http_resp r;
	/* every prefix short of the blank line is incomplete; none reads past its end */
	size_t blank = (size_t)(strstr(resp, "\r\n\r\n") - resp) + 4;
	for (size_t i = 0; i < blank; i++) {
		char *copy = malloc(i ? i : 1);
		memcpy(copy, resp, i);
		assert_int_not_equal(ident_http_parse((uint8_t *)copy, i, &r), 0);
		free(copy);
	}
	assert_int_equal(ident_http_parse((const uint8_t *)resp, n, &r), 0);
	assert_int_equal(r.status, 401);
	size_t len;
	const char *v = ident_http_header(&r, "server", 0, &len);
	assert_non_null(v);
	assert_int_equal(len, strlen("uc-httpd 1.0.0"));
	v = ident_http_header(&r, "WWW-Authenticate", 1, &len);
	assert_memory_equal(v, "Digest realm=\"x\"", len);
	assert_null(ident_http_header(&r, "WWW-Authenticate", 2, &len));
	assert_int_equal(r.body_len, 5);
	static const char bare[] = "HTTP/1.0 200 OK\n\nx";
	assert_int_equal(ident_http_parse((const uint8_t *)bare, sizeof(bare) - 1, &r), 0);
	assert_int_equal(r.headers_len, 0);
	assert_int_equal(r.body_len, 1);
}

static void test_title(void **state)
{
	char out[64];
	static const char html[] = "<HTML><head><TITLE lang=en>\n  NETGEAR &amp; Co&#33;\t "
				   "&bogus; </title>";
	assert_int_equal(ident_html_title(html, sizeof(html) - 1, out, sizeof(out)),
			 (int)strlen("NETGEAR & Co! &bogus;"));
	assert_string_equal(out, "NETGEAR & Co! &bogus;");
	assert_int_equal(ident_html_title("<p>none</p>", 11, out, sizeof(out)), -1);
	/* unterminated: up to the end; a small output is cut */
	assert_int_equal(ident_html_title("<title>abcdefgh", 15, out, 4), 3);
	assert_string_equal(out, "abc");
}

static void test_telnet(void **state)
{
	/* WILL ECHO, WILL SGA, DO NAWS, SB TTYPE ... SE, an escaped 0xff, text */
	static const uint8_t in[] = {255, 251, 1,   255, 251, 3,   255, 253, 31,  255, 250, 24,
				     1,   255, 240, 'a', 255, 255, 'b', 0,   'c', ':', ' '};
	uint8_t out[64], reply[64], all_reply[64];
	size_t nreply, o = 0, r = 0;
	uint32_t st = 0;
	for (size_t i = 0; i < sizeof(in); i++) {
		o += ident_telnet_filter(in + i, 1, out + o, sizeof(out) - o, reply, sizeof(reply),
					 &nreply, &st);
		memcpy(all_reply + r, reply, nreply);
		r += nreply;
	}
	static const uint8_t want_out[] = {'a', 255, 'b', 'c', ':', ' '};
	assert_int_equal(o, sizeof(want_out));
	assert_memory_equal(out, want_out, o);
	static const uint8_t want_reply[] = {255, 253, 1, 255, 253, 3, 255, 252, 31};
	assert_int_equal(r, sizeof(want_reply));
	assert_memory_equal(all_reply, want_reply, r);
}

static void test_telnet_lines(void **state)
{
	/* BusyBox telnetd's issue through a pty's ONLCR: "\r\r\n" first, "\r\n\r" per line */
	char a[] = "\r\r\nopenpli 4 spark\r\n\r\r\n\rspark login: ";
	size_t n = ident_telnet_lines(a, strlen(a));
	assert_int_equal(n, strlen("\r\nopenpli 4 spark\r\n\r\nspark login: "));
	assert_memory_equal(a, "\r\nopenpli 4 spark\r\n\r\nspark login: ", n);
	/* plain CRLF, LF only, and a lone CR inside a line are kept */
	char b[] = "a\r\nb\nc\rd\r";
	n = ident_telnet_lines(b, strlen(b));
	assert_int_equal(n, strlen("a\r\nb\nc\rd\r"));
	assert_memory_equal(b, "a\r\nb\nc\rd\r", n);
	assert_int_equal(ident_telnet_lines(b, 0), 0);
}

static void test_upnp(void **state)
{
	static const char xml[] =
		"<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device>"
		"<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>"
		"<manufacturer> ACME\n Inc </manufacturer><modelName>R9</modelName>"
		"<UDN>uuid:1</UDN><deviceList><device><manufacturer>Other</manufacturer>"
		"<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1"
		"</serviceType><controlURL>/ctl</controlURL></service></serviceList></device>"
		"</deviceList></device></root>";
	struct ident_upnp_desc d;
	assert_int_equal(ident_upnp_parse(xml, sizeof(xml) - 1, &d), 0);
	assert_string_equal(d.manufacturer, "ACME  Inc");
	assert_string_equal(d.model_name, "R9");
	assert_string_equal(d.udn, "uuid:1");
	assert_int_equal(d.nservices, 1);
	assert_string_equal(d.services[0].control_url, "/ctl");
	char text[256];
	size_t n = ident_upnp_text(&d, text, sizeof(text));
	assert_int_equal(n, strlen(text));
	assert_non_null(strstr(text, "manufacturer: ACME  Inc\nmodelName: R9\n"));
	assert_int_equal(ident_upnp_parse("<!DOCTYPE a><root/>", 19, &d), -1);
	assert_int_equal(ident_upnp_parse("garbage", 7, &d), -1);
}

static void test_targets(void **state)
{
	char err[256];
	struct ident_target t;
	assert_int_equal(ident_target_parse("192.0.2.9/30", &t, err, sizeof(err)), 0);
	assert_int_equal(t.count, 4);
	struct sockaddr_storage ss;
	ident_target_nth(&t, 3, &ss);
	char a[64];
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
	assert_string_equal(a, "192.0.2.11");
	assert_int_equal(ident_target_parse("telnet://[::1]:2323", &t, err, sizeof(err)), 0);
	assert_int_equal(t.port, 2323);
	assert_int_equal(t.kind, IDENT_PROBE_TELNET);
	assert_int_equal(t.base.ss_family, AF_INET6);
	assert_int_equal(ident_target_parse("2001:db8::1", &t, err, sizeof(err)), 0);
	assert_int_not_equal(ident_target_parse("10.0.0.0/8", &t, err, sizeof(err)), 0);
	assert_int_not_equal(ident_target_parse("2001:db8::/64", &t, err, sizeof(err)), 0);
	assert_int_not_equal(ident_target_parse("host.example", &t, err, sizeof(err)), 0);
	assert_int_not_equal(ident_target_parse("http://1.2.3.4", &t, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http),   cmocka_unit_test(test_title),
		cmocka_unit_test(test_telnet), cmocka_unit_test(test_telnet_lines),
		cmocka_unit_test(test_upnp),   cmocka_unit_test(test_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
