"""`mitsu ident`: every Telnet profile of the project, played by `mitsu run` on loopback, is
identified as the device it plays; the address policy; and the hostile and odd hosts of
ident_hosts.py in a network namespace this test makes (silent, slow, flooding, empty, refused,
a UPnP IGD, a DVR web page behind a redirect)."""
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# The category ident must give for each device category a profile declares.
EXPECTED = {'dvr': {'dvr'}, 'router': {'router', 'wireless-router'}, 'settopbox': {'set-top-box'},
            'camera': {'ip-camera'}, 'pocketrouter': {'mobile-router'}, 'printer': {'printer'}}


# Only the ports the namespace's test hosts use, short timeouts.
NS_ARGS = ['--telnet-ports', '23', '--http-ports', '80', '--set', 'ident.https_ports=',
           '--set', 'ident.rtsp_ports=', '--set', 'ident.ftp_ports=', '--read-timeout-ms', '400']


def json_rows(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Namespace:
    """A network namespace named after this test's pid, with 198.18.0.0/16 on its lo."""

    def __init__(self):
        self.name = 'mitsu-ident-%d' % os.getpid()
        subprocess.run(['ip', 'netns', 'del', self.name], stderr=subprocess.DEVNULL)
        subprocess.run(['ip', 'netns', 'add', self.name], check=True)
        self.exec = ['ip', 'netns', 'exec', self.name]
        subprocess.run(self.exec + ['ip', 'link', 'set', 'lo', 'up'], check=True)
        subprocess.run(self.exec + ['ip', 'addr', 'add', '198.18.0.1/16', 'dev', 'lo'], check=True)
        self.tmp = tempfile.mkdtemp(prefix='mitsu-ident-ns-')
        cert, key = os.path.join(self.tmp, 'cert.pem'), os.path.join(self.tmp, 'key.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                        '-subj', '/O=IPC/CN=IPCamera', '-keyout', key, '-out', cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.hosts = subprocess.Popen(self.exec + [sys.executable, os.path.join(HERE, 'ident_hosts.py'), cert, key],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.hosts.stdout.readline()
        if line.strip() != 'ready':
            self.close()
            raise AssertionError('test hosts did not start: %s' % self.hosts.stderr.read())

    def close(self):
        if self.hosts.poll() is None:
            self.hosts.kill()
        self.hosts.wait()
        subprocess.run(['ip', 'netns', 'del', self.name], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_in(ns, *args, check=True, timeout=120):
    cmd = ns.exec + [harness.MITSU] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors='replace',
                       timeout=timeout)
    for mark in harness.SANITIZER_MARKS:
        if mark in p.stderr:
            raise AssertionError('sanitizer report:\n' + p.stderr[-4000:])
    if check and p.returncode != 0:
        raise AssertionError('%s exited %d:\n%s' % (' '.join(cmd), p.returncode, p.stderr[-4000:]))
    return p


class IdentProfilesTest(harness.unittest.TestCase):
    def test_every_telnet_profile_identified(self):
        profiles = [p for p in json_rows(harness.run_mitsu('profiles', '--format', 'json').stdout)
                    if p.get('protocol', 'telnet') == 'telnet']
        self.assertTrue(profiles)
        for p in profiles:
            self.assertIn(p['category'], EXPECTED, 'no expectation for category %s' % p['category'])
        ports = {p['name']: harness.free_port() for p in profiles}
        listens = ['telnet@127.0.0.1:%d/%s' % (port, name) for name, port in ports.items()]
        with harness.Sensor(listens=listens) as sn:
            targets = ['telnet://127.0.0.1:%d' % ports[p['name']] for p in profiles]
            r = harness.run_mitsu('ident', '--allow-private', '-F', 'json', *targets, data_dir=sn.tmp + '/id')
            rows = {row['port']: row for row in json_rows(r.stdout)}
            for p in profiles:
                row = rows[ports[p['name']]]
                self.assertTrue(row['identified'], '%s not identified: %s' % (p['name'], row))
                self.assertIn(row['category'], EXPECTED[p['category']], p['name'])
                self.assertTrue(row['vendor'] or row['model'], p['name'])
                self.assertEqual(row['probes'][0]['outcome'], 'data')
                self.assertTrue(row['evidence'][0]['source'].startswith('telnet_banners.xml:'))
            self.assertIn('%d identified' % len(profiles), r.stderr)
            # the same results as events in the store
            ev = json_rows(harness.run_mitsu('events', '--type', 'mitsu.ident.result',
                                             data_dir=sn.tmp + '/id').stdout)
            self.assertEqual(len(ev), len(profiles))
            self.assertTrue(all(e['identified'] and e['category'] for e in ev))

    def test_every_web_profile_identified(self):
        """Each WebUI profile, played by `mitsu run` on its own port, is identified over HTTP as
        the kind of device it plays: from its Server header, realm, the title of the page its
        redirect leads to, or the UPnP description an IGD's port serves at /."""
        profiles = [p for p in json_rows(harness.run_mitsu('profiles', '--format', 'json').stdout)
                    if p.get('protocol') == 'http']
        self.assertTrue(profiles)
        for p in profiles:
            self.assertIn(p['category'], EXPECTED, 'no expectation for category %s' % p['category'])
        ports = {p['name']: harness.free_port() for p in profiles}
        listens = ['http@127.0.0.1:%d/%s' % (port, name) for name, port in ports.items()]
        with harness.Sensor(listens=listens) as sn:
            targets = ['http://127.0.0.1:%d' % ports[p['name']] for p in profiles]
            r = harness.run_mitsu('ident', '--allow-private', '--no-store', '-F', 'json', *targets)
            rows = {row['port']: row for row in json_rows(r.stdout)}
            for p in profiles:
                row = rows[ports[p['name']]]
                self.assertTrue(row['identified'], '%s not identified: %s' % (p['name'], row))
                self.assertIn(row['category'], EXPECTED[p['category']], '%s: %s' % (p['name'], row))
                self.assertEqual(row['probes'][0]['outcome'], 'data')
                # a followed redirect's own page ("302 Found") never stands for the title
                self.assertFalse(any(k.endswith(':html_title') and v.startswith('302 ')
                                     for k, v in row['fields'].items()), p['name'])
            self.assertIn('%d identified' % len(profiles), r.stderr)
            igd = rows[ports['realtek-igd']]
            self.assertEqual(igd['vendor'], 'Realtek')
            self.assertTrue(any(k.endswith(':upnp.description') for k in igd['fields']))

    def test_ssh_banner(self):
        """An SSH identification line that names the device (MikroTik's ROSSSH) identifies it."""
        srv = socket.socket()
        srv.bind(('127.0.0.1', 0))
        srv.listen(4)
        port = srv.getsockname()[1]

        def serve():
            c, _ = srv.accept()
            c.sendall(b'SSH-2.0-ROSSSH\r\n')
            c.recv(100)  # until the grabber closes
            c.close()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            r = harness.run_mitsu('ident', '--allow-private', '--no-store', '-F', 'json',
                                  'ssh://127.0.0.1:%d' % port)
            row = json_rows(r.stdout)[0]
            self.assertTrue(row['identified'], row)
            self.assertEqual((row['category'], row['vendor']), ('router', 'MikroTik'))
            self.assertEqual(row['fields']['ssh:%d:ssh.banner' % port], 'SSH-2.0-ROSSSH')
        finally:
            t.join(10)
            srv.close()

    def test_private_refused_without_flag(self):
        srv = socket.socket()
        srv.bind(('127.0.0.1', 0))
        srv.listen(4)
        srv.settimeout(0.2)
        port = srv.getsockname()[1]
        r = harness.run_mitsu('ident', '--no-store', 'telnet://127.0.0.1:%d' % port, '127.0.0.0/30', '-F', 'json')
        rows = json_rows(r.stdout)
        self.assertEqual(len(rows), 5)
        self.assertTrue(all(row.get('refused') == 'address policy' and not row['probes'] for row in rows))
        with self.assertRaises(socket.timeout):
            srv.accept()  # nothing ever connected
        srv.close()

    def test_bad_target(self):
        r = harness.run_mitsu('ident', '--no-store', '10.0.0.0/8', check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn('IDENT_MAX_CIDR_HOSTS', r.stderr)
        r = harness.run_mitsu('ident', '--no-store', 'gopher://1.2.3.4:70', check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown probe', r.stderr)

    def test_check_fingerprints(self):
        r = harness.run_mitsu('ident', '--check-fingerprints')
        self.assertIn(' 0 failed', r.stdout)
        self.assertIn('0 without a fingerprint', r.stdout)

    def test_user_fingerprints_dir(self):
        """--fingerprints loads a folder of Recog files on top of ours (a favicon hash here)."""
        tmp = tempfile.mkdtemp(prefix='mitsu-ident-fp-')
        try:
            with open(os.path.join(tmp, 'favicons.xml'), 'w') as f:
                f.write('<?xml version="1.0"?>\n<fingerprints matches="favicon.md5">\n'
                        '<fingerprint pattern="^0123456789abcdef0123456789abcdef$">\n'
                        '<description>test camera favicon</description>\n'
                        '<example>0123456789abcdef0123456789abcdef</example>\n'
                        '<param pos="0" name="hw.device" value="IP Camera"/>\n'
                        '</fingerprint>\n</fingerprints>\n')
            r = harness.run_mitsu('ident', '--check-fingerprints', '--fingerprints', tmp)
            self.assertIn('11 files', r.stdout)
            self.assertIn(' 0 failed', r.stdout)
        finally:
            shutil.rmtree(tmp)


class FakeDevice:
    """An attacker's own device on 127.0.0.2: a Telnet service that shows a ZTE login."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(('127.0.0.2', 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.accepted += 1
            try:
                c.sendall(b'\xff\xfb\x01ZXHN H208N\r\nLogin: ')
                c.recv(100)
            except OSError:
                pass
            c.close()

    def close(self):
        self.srv.close()


class IdentAutoTest(harness.unittest.TestCase):
    def test_scan_back_and_report(self):
        """ident.auto probes the source of an attack on the sensor's loop; the result is an
        event, and mitsu report counts it in the identification tables."""
        dev = FakeDevice()
        try:
            sets = ['ident.auto=true', 'ident.allow_private=true', 'ident.auto_delay=0',
                    'ident.telnet_ports=%d' % dev.port, 'ident.http_ports=', 'ident.https_ports=',
                    'ident.rtsp_ports=', 'ident.ftp_ports=', 'ident.ssh_ports=', 'ident.upnp_ports=']
            with harness.Sensor(sets=sets) as sn:
                bot = harness.TelnetBot(sn.port, source='127.0.0.2')
                bot.read_prompt()
                ev = sn.events('mitsu.ident.result',
                               wait_for=('mitsu.ident.result', lambda e: e['host'] == '127.0.0.2'))
                # the harness's own readiness probe came from 127.0.0.1: probed too, refused
                ev = [e for e in ev if e['host'] == '127.0.0.2']
                self.assertEqual(len(ev), 1)
                self.assertEqual(ev[0]['host'], '127.0.0.2')
                self.assertTrue(ev[0]['identified'])
                self.assertEqual(ev[0]['category'], 'router')
                self.assertEqual(ev[0]['vendor'], 'ZTE')
                self.assertEqual(ev[0]['model'], 'H208N')
                bot.close()
                data = sn.data_dir
                sn.stop()
                rep = json.loads(harness.run_mitsu('report', '--format', 'json', data_dir=data).stdout)
                rate = rep['ident_rate']['rows'][0]
                self.assertEqual(rate['attacking hosts'], 2)  # 127.0.0.2 and the harness's probe
                self.assertEqual(rate['identified'], 1)
                self.assertEqual(rate['of attacking'], 50.0)
                self.assertEqual(rate['of answered'], 100.0)
                cats = rep['ident_categories']['rows']
                self.assertEqual(cats, [{'group': 'network', 'category': 'router / gateway', 'hosts': 1,
                                         'attacking': 1, 'share': 100.0}])
                text = harness.run_mitsu('report', data_dir=data).stdout
                self.assertIn('Identified devices by category', text)
        finally:
            dev.close()
        self.assertEqual(dev.accepted, 1)

    def test_from_store(self):
        """mitsu ident --from-store probes the sources the sensor recorded, each once."""
        dev = FakeDevice()
        try:
            with harness.Sensor() as sn:
                for _ in range(2):
                    bot = harness.TelnetBot(sn.port, source='127.0.0.2')
                    bot.read_prompt()
                    bot.close()
                sn.events('mitsu.session.closed', wait_for=('mitsu.session.closed', lambda e: e['src_ip'] == '127.0.0.2'))
                data = sn.data_dir
                sn.stop()
                r = harness.run_mitsu('ident', '--from-store', '--allow-private', '-F', 'json',
                                      '--telnet-ports', str(dev.port), '--http-ports', '', '--set', 'ident.https_ports=',
                                      '--set', 'ident.rtsp_ports=', '--set', 'ident.ftp_ports=',
                                      '--set', 'ident.ssh_ports=', '--set', 'ident.upnp_ports=', data_dir=data)
                rows = {row['host']: row for row in json_rows(r.stdout)}
                self.assertEqual(set(rows), {'127.0.0.1', '127.0.0.2'})  # the harness's probe and the bot
                self.assertEqual(rows['127.0.0.2']['category'], 'router')
                self.assertEqual(rows['127.0.0.1']['probes'][0]['outcome'], 'refused')
        finally:
            dev.close()
        self.assertEqual(dev.accepted, 1)

    def test_off_by_default(self):
        dev = FakeDevice()
        try:
            with harness.Sensor(sets=['ident.telnet_ports=%d' % dev.port, 'ident.allow_private=true']) as sn:
                bot = harness.TelnetBot(sn.port, source='127.0.0.2')
                bot.read_prompt()
                bot.close()
                sn.events('mitsu.session.closed', wait_for=('mitsu.session.closed', None))
                self.assertNotIn('scan-back on', sn.stderr())
                self.assertEqual(sn.events('mitsu.ident.result'), [])
        finally:
            dev.close()
        self.assertEqual(dev.accepted, 0)


class IdentNamespaceTest(harness.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns = Namespace()

    @classmethod
    def tearDownClass(cls):
        cls.ns.close()

    def ident(self, *targets, extra=()):
        r = run_in(self.ns, 'ident', '--no-store', '--allow-private', '-F', 'json', *NS_ARGS,
                   '--set', 'ident.ssh_ports=', '--set', 'ident.host_timeout=3', '--set', 'ident.max_read=32K',
                   *extra, *targets)
        return {row['host']: row for row in json_rows(r.stdout)}

    def probe(self, row, kind):
        return next(p for p in row['probes'] if p['probe'] == kind)

    def test_odd_hosts(self):
        rows = self.ident('198.18.0.10', '198.18.0.11', '198.18.0.12', '198.18.0.14', '198.18.0.15')
        self.assertEqual(self.probe(rows['198.18.0.10'], 'telnet')['outcome'], 'silent')
        slow = self.probe(rows['198.18.0.11'], 'telnet')
        self.assertEqual(slow['outcome'], 'data')  # cut by the host's time cap
        self.assertGreater(slow['bytes'], 0)
        flood = self.probe(rows['198.18.0.12'], 'telnet')
        self.assertTrue(flood['truncated'])
        self.assertEqual(flood['bytes'], 32 * 1024)
        self.assertEqual(self.probe(rows['198.18.0.14'], 'telnet')['outcome'], 'empty')
        self.assertEqual(self.probe(rows['198.18.0.15'], 'telnet')['outcome'], 'refused')
        self.assertEqual(self.probe(rows['198.18.0.15'], 'http')['outcome'], 'refused')
        for row in rows.values():
            self.assertFalse(row['identified'])
        self.assertFalse(rows['198.18.0.10']['answered'])

    def test_upnp_igd(self):
        row = self.ident('198.18.0.13')['198.18.0.13']
        self.assertTrue(row['identified'], row)
        self.assertEqual(row['category'], 'wireless-router')
        self.assertEqual(row['vendor'], 'Logitec')
        self.assertEqual(row['model'], 'LAN-W300N/R')
        self.assertEqual(row['fields']['upnp:1900:upnp.uuid'], '12345678-1234-1234-1234-001122334455')
        self.assertEqual(row['fields']['upnp:5000:upnp.manufacturer'], 'Logitec Corporation')
        self.assertEqual(self.probe(row, 'upnp')['outcome'], 'data')

    def test_dvr_web_page(self):
        row = self.ident('198.18.0.16')['198.18.0.16']
        self.assertTrue(row['identified'], row)
        self.assertEqual(row['category'], 'dvr')
        self.assertEqual(row['fields']['http:80:html_title'], 'DVR Components Download')
        self.assertEqual(row['fields']['http:80:favicon.md5'], hashlib.md5(bytes(range(64))).hexdigest())
        # two signs agree: Server and title
        self.assertGreaterEqual(len([e for e in row['evidence'] if e.get('category') == 'dvr']), 2)

    def test_https(self):
        r = run_in(self.ns, 'ident', '--no-store', '--allow-private', '-F', 'json',
                   '--read-timeout-ms', '400', 'https://198.18.0.19:443', 'https://198.18.0.16:80')
        rows = {row['host']: row for row in json_rows(r.stdout)}
        row = rows['198.18.0.19']
        self.assertTrue(row['identified'], row)
        self.assertEqual(row['category'], 'ip-camera')
        self.assertEqual(row['vendor'], 'Hikvision')
        self.assertIn('CN = IPCamera', row['fields']['https:443:x509.subject'])
        self.assertEqual(row['fields']['https:443:html_title'], 'Network Camera')
        # a plain HTTP server that waits for a request line: the ClientHello gets no answer
        self.assertEqual(rows['198.18.0.16']['probes'][0]['outcome'], 'silent')
        self.assertFalse(rows['198.18.0.16']['answered'])

    def test_rate_cap(self):
        """16 hosts x 1 connection at 8 connections/s: at least one second, and all done."""
        r = run_in(self.ns, 'ident', '--no-store', '--allow-private', '-F', 'csv', '--rate', '8',
                   '--telnet-ports', '23', '--http-ports', '', '--set', 'ident.https_ports=',
                   '--set', 'ident.rtsp_ports=', '--set', 'ident.ftp_ports=', '--set', 'ident.ssh_ports=',
                   '--set', 'ident.upnp_ports=', '--set', 'ident.http_paths=', '198.18.1.0/28')
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 17)  # header and 16 hosts
        self.assertTrue(lines[0].startswith('host,port,identified'))
        secs = float(r.stderr.split(' in ')[1].split('s,')[0])
        self.assertGreaterEqual(secs, 0.9)

    def test_host_rate_cap(self):
        """One host, 12 Telnet ports, 4 connections per second to it: at least two seconds."""
        ports = ','.join(str(p) for p in range(2300, 2312))
        r = run_in(self.ns, 'ident', '--no-store', '--allow-private', '-F', 'json', '--host-rate', '4',
                   '--telnet-ports', ports, '--http-ports', '', '--set', 'ident.https_ports=',
                   '--set', 'ident.rtsp_ports=', '--set', 'ident.ftp_ports=', '--set', 'ident.ssh_ports=',
                   '--set', 'ident.upnp_ports=', '198.18.0.15')
        row = json_rows(r.stdout)[0]
        self.assertEqual([p['outcome'] for p in row['probes']], ['refused'] * 12)
        self.assertGreaterEqual(row['duration_ms'], 1900)


if __name__ == '__main__':
    harness.main()
