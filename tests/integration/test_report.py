"""`mitsu report`: the seed's tables rebuilt from one store that the sensor, `mitsu scope` and
`mitsu box` filled, in text, JSON and HTML, with SVG charts."""
import json
import os
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TelnetBot  # noqa: E402
import test_scope  # noqa: E402
from test_box import compile_bot  # noqa: E402


def session(port, source, user, password, commands=()):
    bot = TelnetBot(port, source=source)
    bot.read_until_token(b'ogin')
    bot.sendline(user)
    bot.read_until_token(b'assword')
    bot.sendline(password)
    out = bot.read_until(lambda t: b'ncorrect' in t or (len(t.rstrip()) and t.rstrip()[-1:] in (b'#', b'$')))
    for c in commands:
        bot.command(c, 'DONE')
    bot.close()
    return b'ncorrect' not in out


class ReportTest(harness.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='mitsu-report-')
        cls.data = os.path.join(cls.tmp, 'data')
        # Honeypot: three hosts; one fails to log in, two log in, one of those runs commands.
        with harness.Sensor(sets=['telnet.fail_delay_ms=0', 'telnet.login_tries=1'], data_dir=cls.data) as s:
            assert not session(s.port, '127.0.0.11', 'root', 'nope')
            assert session(s.port, '127.0.0.12', 'root', 'xc3511')
            assert session(s.port, '127.0.0.13', 'admin', 'admin', ['uname -a', 'cat /proc/cpuinfo'])
            s.events(wait_for=('mitsu.session.closed', lambda e: e['src_ip'] == '127.0.0.13'))
        # Darknet: the scope tests' scenario (two one-hour intervals with Mirai, ZMap, masscan...).
        pcap = os.path.join(cls.tmp, 'dark.pcap')
        test_scope.write(pcap, test_scope.pcap_bytes(test_scope.frames_of(test_scope.scenario(), 'ether')))
        harness.run_mitsu('scope', '--darknet', test_scope.DARK, '--no-geo', '--format', 'json', pcap, data_dir=cls.data)
        # Sandbox: a LAN scanner and a benign program for MIPS, analysed into the same store.
        bins = []
        for bot in ('gafgyt_lan', 'benign'):
            out = os.path.join(cls.tmp, bot + '-mips')
            compile_bot(bot, 'mips', out)
            bins.append(out)
        harness.run_mitsu('box', '--store', '--window', '20', *bins, data_dir=cls.data, timeout=300)
        cls.out = os.path.join(cls.tmp, 'out')
        p = harness.run_mitsu('report', '--format', 'json', '--out', cls.out, data_dir=cls.data)
        cls.r = json.loads(p.stdout)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_honeypot_hosts_by_device(self):
        rows = self.r['honeypot']['rows']
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual(row['device profile'], 'dvr-hi3520d')
        # the three hosts, and the harness's readiness probe (127.0.0.1), which only connected
        self.assertEqual(row['hosts'], 4)
        self.assertEqual(row['hosts trying to log in'], 3)
        self.assertEqual(row['hosts logged in'], 2)
        self.assertEqual(row['hosts running commands'], 1)

    def test_credentials(self):
        creds = {(c['username'], c['password']): c for c in self.r['credentials']['rows']}
        self.assertEqual(creds[('root', 'nope')]['accepted'], 0)
        self.assertEqual(creds[('root', 'xc3511')]['accepted'], 1)
        self.assertEqual(creds[('admin', 'admin')]['hosts'], 1)

    def test_commands(self):
        cmds = [c['command'] for c in self.r['commands']['rows']]
        self.assertIn('uname -a; /bin/busybox DONE', cmds)

    def test_testbed_table(self):
        rows = {x['arch']: x for x in self.r['testbed']['rows']}
        self.assertEqual(rows['mips']['samples'], 2)
        self.assertEqual(rows['mips']['lan_attack'], 1)
        self.assertAlmostEqual(rows['mips']['share'], 50.0)

    def test_darknet(self):
        rows = self.r['darknet']['rows']
        self.assertEqual(len(rows), 2)
        scen = harness.run_mitsu('scope', '--darknet', test_scope.DARK, '--no-geo', '--format', 'json',
                                 os.path.join(self.tmp, 'dark.pcap')).stdout
        want = json.loads(scen)
        self.assertEqual([x['packets'] for x in rows], [iv['packets'] for iv in want['intervals']])
        self.assertEqual([x['Mirai sources'] for x in rows], [iv['mirai']['sources'] for iv in want['intervals']])
        ports = {(p['protocol'], p['port']) for p in self.r['darknet_ports']['rows']}
        self.assertIn(('tcp', 23), ports)

    def test_outputs(self):
        for name in ('report.txt', 'report.json', 'report.html'):
            self.assertTrue(os.path.getsize(os.path.join(self.out, name)) > 100, name)
        with open(os.path.join(self.out, 'report.txt')) as f:
            text = f.read()
        self.assertIn('Samples that attack the LAN side, by CPU', text)
        self.assertIn('dvr-hi3520d', text)
        for chart in self.r['charts']:
            ET.parse(os.path.join(self.out, chart))  # well-formed SVG
        self.assertIn('darknet-ports.svg', self.r['charts'])
        self.assertIn('darknet-mirai.svg', self.r['charts'])
        html = harness.run_mitsu('report', '--format', 'html', data_dir=self.data).stdout
        self.assertTrue(html.startswith('<!doctype html>'))
        self.assertIn('<svg', html)

    def test_time_window(self):
        p = harness.run_mitsu('report', '--format', 'json', '--until', '2000-01-01', data_dir=self.data)
        r = json.loads(p.stdout)
        self.assertEqual(r['honeypot']['rows'], [])
        self.assertEqual(r['darknet']['rows'], [])


if __name__ == '__main__':
    harness.main()
