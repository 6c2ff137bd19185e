"""The dashboard: served by `mitsu run` and `mitsu web` on loopback; every page and API call with
hostile strings in the store (HTML and script in usernames, passwords, commands, URLs, user
agents, device names); the token, Host and query rules; the sandbox and darknet pages."""
import hashlib
import html.parser
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TelnetBot  # noqa: E402

# What attackers send. Each must come back as text: never as markup, never as script.
XSS = {
    'user': '<script>alert("u")</script>',
    'password': '"><img src=x onerror=alert(1)>',
    'command': "echo '<svg onload=alert(2)>' </textarea><b>",
    'url': 'http://198.51.100.66/"><script>alert(3)</script>.sh',
    'agent': '<iframe src="javascript:alert(4)"></iframe>',
    'vendor': '</td></tr></table><script>alert(5)</script>',
}


def get(port, path, token=None, headers=None):
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path), headers=headers or {})
    if token:
        req.add_header('Authorization', 'Bearer ' + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers, r.read()


def status_of(port, path, headers=None, method='GET'):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, r.getheaders()


def wait_port(port, proc):
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise AssertionError('mitsu web exited %d' % proc.returncode)
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError('mitsu web did not listen')
            time.sleep(0.05)


class MarkupCheck(html.parser.HTMLParser):
    """Collects what a page would run or load: scripts, event handlers, frames, foreign URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'script' and a.get('src') != '/static/app.js':
            self.problems.append('script tag %r' % (attrs,))
        if tag in ('iframe', 'object', 'embed', 'svg', 'textarea', 'b'):
            self.problems.append('%s element' % tag)
        for k, v in attrs:
            if k.startswith('on'):
                self.problems.append('handler %s=%r' % (k, v))
            if k in ('href', 'src') and v and not (v.startswith('/') or v.startswith('?')
                                                   or v.startswith('data:image/svg+xml;base64,')):
                self.problems.append('%s=%r' % (k, v))
        if tag == 'img' and not a.get('src', '').startswith('data:image/svg+xml;base64,'):
            self.problems.append('img %r' % (attrs,))

    def handle_data(self, data):
        self.text.append(data)


def check_page(test, body, path):
    text = body.decode('utf-8')
    p = MarkupCheck()
    p.feed(text)
    test.assertEqual(p.problems, [], path)
    return ''.join(p.text)


def hostile_rows(db_path, sensor='mitsu'):
    """Events and a session a web honeypot and device identification would store, written into
    the real tables, with hostile text in every field a page shows."""
    db = sqlite3.connect(db_path)
    ts = '2026-01-02T03:04:05.000000Z'
    sess = 'e' * 16
    ip = '127.0.0.99'

    def ev(eventid, fields, session=sess, src=ip):
        e = dict(eventid=eventid, timestamp=ts, sensor=sensor, uuid=str(uuid.uuid4()),
                 message=eventid + ' ' + json.dumps(fields), **fields)
        if session:
            e.update(session=session, src_ip=src, protocol='http', src_port=1, dst_ip='127.0.0.1', dst_port=80)
        db.execute('INSERT INTO events(eventid, timestamp, session, src_ip, json) VALUES (?,?,?,?,?)',
                   (eventid, ts, session, src if session else None, json.dumps(e)))

    db.execute('INSERT INTO sessions(sensor, session, protocol, profile, src_ip, src_port, dst_ip, dst_port, start, end,'
               ' login, username, password, commands, downloads, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
               (sensor, sess, 'http', XSS['vendor'], ip, 1, '127.0.0.1', 80, ts, ts, 1, XSS['user'], XSS['password'],
                1, 1, XSS['agent']))
    ev('mitsu.session.connect', {'profile': XSS['vendor']})
    ev('mitsu.http.request', {'method': 'GET', 'uri': XSS['url'], 'user_agent': XSS['agent'], 'host': XSS['vendor']})
    ev('mitsu.login.success', {'username': XSS['user'], 'password': XSS['password']})
    ev('mitsu.command.input', {'input': XSS['command']})
    ev('mitsu.session.file_download', {'url': XSS['url'], 'shasum': 'ab' * 32, 'method': 'wget'})
    ev('mitsu.ident.result', {'ip': ip, 'category': XSS['vendor'], 'vendor': XSS['agent'],
                              'product': XSS['user'], 'evidence': XSS['command']}, session=None)
    db.commit()
    db.close()
    return ip


class WebTest(harness.unittest.TestCase):
    def sensor(self, *sets, data_dir=None):
        self.web = harness.free_port()
        s = harness.Sensor(sets=['telnet.fail_delay_ms=0'] + list(sets), web_port=self.web, data_dir=data_dir)
        return s.start(wait_ports=[s.port, self.web])

    def telnet_session(self, port, user, password, command):
        bot = TelnetBot(port)
        bot.read_until_token(b'ogin')
        bot.sendline(user)
        bot.read_until_token(b'assword')
        bot.sendline(password)
        bot.read_prompt()
        bot.sendline(command)
        bot.read_prompt()
        bot.close()

    def test_every_page_escapes_hostile_text(self):
        s = self.sensor('telnet.accept_any_after=0', 'capture.fetch=false')
        try:
            # A Telnet session whose every field is hostile (the device accepts root/xc3511
            # only, so the hostile login fails; the commands come in a second session).
            bot = TelnetBot(s.port)
            bot.read_until_token(b'ogin')
            bot.sendline(XSS['user'])
            bot.read_until_token(b'assword')
            bot.sendline(XSS['password'])
            bot.read_until_token(b'ncorrect')
            bot.close()
            self.telnet_session(s.port, 'root', 'xc3511', XSS['command'] + '; wget ' + XSS['url'])
            s.events(wait_for=('mitsu.command.input', lambda e: 'svg' in e['input']))
            s.events(wait_for=('mitsu.session.closed', lambda e: e.get('reason') != 'shutdown'))
            hostile_rows(os.path.join(s.data_dir, 'mitsu.db'))
            pages = ['/', '/honeypot', '/samples', '/darknet', '/ip/127.0.0.1', '/ip/127.0.0.99',
                     '/ip?addr=127.0.0.99', '/?window=all', '/honeypot?window=all',
                     '/samples?q=%3Cscript%3E&sort=size&order=asc']
            seen = ''
            for path in pages:
                status, headers, body = get(self.web, path)
                self.assertEqual(status, 200, path)
                self.assertTrue(headers['Content-Type'].startswith('text/html'), path)
                text = check_page(self, body, path)
                seen += text
                for v in XSS.values():
                    self.assertNotIn(v.encode(), body, path)  # never raw
                api = '/api/overview' if path.startswith('/?') or path == '/' else '/api' + path
                if api.startswith('/api/ip?'):
                    continue
                st, h, jb = get(self.web, api)
                self.assertEqual(st, 200, api)
                self.assertEqual(h['Content-Type'], 'application/json; charset=utf-8', api)
                self.assertEqual(h['X-Content-Type-Options'], 'nosniff')
                json.loads(jb)
            # The hostile strings are shown, as text.
            for key in ('user', 'password', 'command', 'agent'):
                self.assertIn(XSS[key], seen, key)
            ipj = json.loads(get(self.web, '/api/ip/127.0.0.99')[2])
            self.assertEqual(ipj['ip_credentials']['rows'][0]['username'], XSS['user'])
            self.assertEqual(ipj['ip_ident']['rows'][0]['vendor'], XSS['agent'])
            ev = json.loads(get(self.web, '/api/events?limit=200')[2])['events']
            self.assertIn(XSS['command'] + '; wget ' + XSS['url'],
                          [e.get('input') for e in ev])
            # Of one type (through events_eventid): the same events as the whole list's of that
            # type, newest first; after an id, the later ones oldest first.
            for kind in ('mitsu.command.input', 'mitsu.login.failed', 'mitsu.session.file_upload'):
                want = [e['id'] for e in ev if e['eventid'] == kind]
                typed = json.loads(get(self.web, '/api/events?limit=200&type=' + kind)[2])
                self.assertEqual([e['id'] for e in typed['events']], want, kind)
                self.assertTrue(all(e['eventid'] == kind for e in typed['events']), kind)
                if want:
                    later = json.loads(get(self.web, '/api/events?type=%s&after=%d'
                                           % (kind, want[-1]))[2])['events']
                    self.assertEqual([e['id'] for e in later], want[-2::-1], kind)
            # The Telnet session's page: its credentials and commands.
            ip = json.loads(get(self.web, '/api/ip/127.0.0.1')[2])
            creds = {(r['username'], r['password']) for r in ip['ip_credentials']['rows']}
            self.assertIn((XSS['user'], XSS['password']), creds)
            self.assertIn(('root', 'xc3511'), creds)
        finally:
            s.stop()
            s.cleanup()

    def test_headers_and_bad_requests(self):
        s = self.sensor()
        try:
            status, headers = status_of(self.web, '/')
            h = dict((k.lower(), v) for k, v in headers)
            self.assertEqual(status, 200)
            csp = h['content-security-policy']
            self.assertIn("script-src 'self'", csp)
            self.assertNotIn('unsafe-inline', csp)
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertEqual(h['x-content-type-options'], 'nosniff')
            self.assertEqual(h['referrer-policy'], 'no-referrer')
            self.assertEqual(h['x-frame-options'], 'DENY')
            for path, want in [('/api/events?limit=99999', 400), ('/samples?sort=1;drop', 400),
                               ('/honeypot?window=forever', 400), ('/?since=yesterday', 400),
                               ('/api/events?type=%3Cx%3E', 400), ('/sample/zz', 404),
                               ('/sample/' + 'a' * 64, 404), ('/ip/not-an-address', 404),
                               ('/nowhere', 404), ('/static/../../etc/passwd', 404),
                               ('/api/events?q=' + 'x' * 300, 400), ('/samples?q=%00', 200)]:
                self.assertEqual(status_of(self.web, path)[0], want, path)
            self.assertEqual(status_of(self.web, '/', method='POST')[0], 405)
            # DNS rebinding: a foreign name in Host is refused without a token.
            self.assertEqual(status_of(self.web, '/', headers={'Host': 'evil.example:%d' % self.web})[0], 421)
            self.assertEqual(status_of(self.web, '/', headers={'Host': 'localhost:%d' % self.web})[0], 200)
            self.assertEqual(status_of(self.web, '/', headers={'Host': '[::1]:%d' % self.web})[0], 200)
        finally:
            s.stop()
            s.cleanup()

    def test_token_required_when_set(self):
        s = self.sensor('web.token=s3cret-T0ken')
        try:
            for path in ('/', '/honeypot', '/samples', '/darknet', '/ip/127.0.0.1', '/api/overview',
                         '/api/events', '/api/ip/127.0.0.1', '/static/app.js'):
                self.assertEqual(status_of(self.web, path)[0], 401, path)
                self.assertEqual(status_of(self.web, path, {'Authorization': 'Bearer wrong'})[0], 401, path)
                self.assertEqual(status_of(self.web, path, {'Cookie': 'mitsu_token=s3cret'})[0], 401, path)
                self.assertEqual(status_of(self.web, path + ('&' if '?' in path else '?') + 'token=s3cret-T0ke')[0],
                                 401, path)
                self.assertEqual(status_of(self.web, path, {'Authorization': 'Bearer s3cret-T0ken'})[0], 200, path)
            # ?token= lets a browser in and leaves a cookie for the page's own requests.
            status, headers = status_of(self.web, '/?token=s3cret-T0ken')
            self.assertEqual(status, 200)
            cookie = dict((k.lower(), v) for k, v in headers)['set-cookie']
            self.assertIn('HttpOnly', cookie)
            self.assertIn('SameSite=Strict', cookie)
            self.assertEqual(status_of(self.web, '/api/overview', {'Cookie': cookie.split(';')[0]})[0], 200)
            # With a token, any Host is fine (the token is the protection).
            self.assertEqual(status_of(self.web, '/', {'Host': 'dash.example', 'Authorization': 'Bearer s3cret-T0ken'})[0], 200)
        finally:
            s.stop()
            s.cleanup()

    def test_off_loopback_needs_a_token(self):
        s = harness.Sensor()
        try:
            p = subprocess.run(s.args + ['--set', 'web.listen=0.0.0.0:%d' % harness.free_port()],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn('web.token', p.stderr)
        finally:
            s.cleanup()

    def test_mitsu_web_alone(self):
        """`mitsu web --data-dir` over a store a sensor filled, stopped by SIGTERM."""
        s = harness.Sensor(sets=['telnet.fail_delay_ms=0'])
        s.start()
        try:
            self.telnet_session(s.port, 'root', 'xc3511', 'uname -a')
            s.events(wait_for=('mitsu.session.closed', None))
        finally:
            s.stop()
        try:
            port = harness.free_port()
            p = subprocess.Popen([harness.MITSU, 'web', '--data-dir', s.data_dir, '--listen', '127.0.0.1:%d' % port],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                wait_port(port, p)
                summ = json.loads(get(port, '/api/honeypot?window=all')[2])
                self.assertIn('uname -a', [r['command'] for r in summ['commands']['rows']])
                self.assertGreaterEqual(summ['honeypot']['rows'][0]['hosts logged in'], 1)
            finally:
                p.send_signal(signal.SIGTERM)
                err = p.communicate(timeout=30)[1].decode()
            self.assertEqual(p.returncode, 0, err)
            for mark in harness.SANITIZER_MARKS:
                self.assertNotIn(mark, err)
        finally:
            s.cleanup()

    def test_sandbox_and_darknet_pages(self):
        """A sample with its verdict and pcap, and darknet intervals, on their pages and APIs."""
        import test_scope
        from test_box import compile_bot
        tmp = tempfile.mkdtemp(prefix='mitsu-web-')
        try:
            data = os.path.join(tmp, 'data')
            bot = os.path.join(tmp, 'lan-mipsel')
            compile_bot('gafgyt_lan', 'mipsel', bot)
            harness.run_mitsu('box', '--store', '--window', '20', bot, data_dir=data, timeout=300)
            with open(bot, 'rb') as f:
                sha = hashlib.sha256(f.read()).hexdigest()
            pcap = os.path.join(tmp, 'd.pcap')
            test_scope.write(pcap, test_scope.pcap_bytes(test_scope.frames_of(test_scope.scenario(), 'ether')))
            harness.run_mitsu('scope', '--darknet', test_scope.DARK, '--no-geo', '--format', 'json', pcap, data_dir=data)
            s = self.sensor(data_dir=data)
            try:
                samples = json.loads(get(self.web, '/api/samples')[2])
                self.assertEqual(samples['samples']['rows'][0]['sha256'], sha)
                testbed = {r['arch']: r for r in samples['testbed']['rows']}
                self.assertEqual(testbed['mipsel']['lan_attack'], 1)
                one = json.loads(get(self.web, '/api/sample/' + sha)[2])
                beh = {r['behaviour']: r for r in one['behaviour']['rows']}
                self.assertEqual(beh['lan_attack']['detected'], 'yes')
                self.assertTrue(one['pcap'])
                page = get(self.web, '/sample/' + sha)[2]
                check_page(self, page, '/sample')
                self.assertIn(b'/pcap', page)
                status, headers, cap = get(self.web, '/sample/%s/pcap' % sha)
                self.assertEqual(headers['Content-Type'], 'application/vnd.tcpdump.pcap')
                self.assertIn(cap[:4], (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d'))
                dark = json.loads(get(self.web, '/api/darknet?window=all')[2])
                self.assertEqual(len(dark['darknet']['rows']), 2)
                # The default window ends at the latest interval stored, not now.
                self.assertEqual(len(json.loads(get(self.web, '/api/darknet')[2])['darknet']['rows']), 2)
                self.assertIn('darknet-ports', [c['name'] for c in dark['charts']])
                check_page(self, get(self.web, '/darknet?window=all')[2], '/darknet')
                # The per-interval table is paged (200 rows a page): its count and offset in
                # the API; a page past the end is empty with a link back to the last page,
                # keeping the window; hostile offsets are refused.
                self.assertEqual((dark['darknet_total'], dark['darknet_offset'], dark['darknet_page']), (2, 0, 200))
                one = json.loads(get(self.web, '/api/darknet?window=all&offset=1')[2])
                self.assertEqual(one['darknet']['rows'], dark['darknet']['rows'][1:])
                self.assertEqual((one['darknet_total'], one['darknet_offset']), (2, 1))
                self.assertEqual(one['charts'], dark['charts'])
                body = get(self.web, '/darknet?window=all&offset=1')[2]
                check_page(self, body, '/darknet')
                self.assertIn(b'href="/darknet?window=all&amp;offset=0#t-darknet">earlier intervals</a>', body)
                self.assertNotIn(b'later intervals', body)
                past = get(self.web, '/darknet?window=all&offset=1000000')[2]
                check_page(self, past, '/darknet')
                self.assertIn(b'no intervals past 1000000 of 2', past)
                self.assertIn(b'href="/darknet?window=all&amp;offset=0#t-darknet">earlier intervals</a>', past)
                self.assertEqual(json.loads(get(self.web, '/api/darknet?window=all&offset=1000000')[2])['darknet']['rows'], [])
                self.assertNotIn(b'intervals</a>', get(self.web, '/darknet?window=all')[2])
                for bad in ('-1', '1000001', 'abc', '1e3', '99999999999999999999', '%00', ''):
                    for path in ('/darknet', '/api/darknet'):
                        self.assertEqual(status_of(self.web, path + '?window=all&offset=' + bad)[0], 400, (path, bad))
                ip = json.loads(get(self.web, '/api/ip/192.0.2.20')[2])
                row = ip['ip_darknet']['rows'][0]
                self.assertEqual((row['role'], row['port']), ('scanner', '8080/tcp'))
            finally:
                s.stop()
                s.cleanup()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    harness.main()
