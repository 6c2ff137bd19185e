"""`mitsu report`: the seed's tables rebuilt from one store that the sensor, `mitsu scope` and
`mitsu box` filled, in text, JSON and HTML, with SVG charts."""
import json
import os
import re
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

    def test_html_report_is_self_contained(self):
        with open(os.path.join(self.out, 'report.html')) as f:
            page = f.read()
        self.assertNotIn('<script', page)
        self.assertNotIn('http://', page.replace('http://www.w3.org/2000/svg', ''))
        self.assertNotIn('https://', page)
        for key in ('honeypot', 'credentials', 'commands', 'testbed', 'darknet', 'darknet_ports', 'darknet_os'):
            self.assertIn('id="t-%s"' % key, page)
        self.assertEqual(self.r['tables'][0], 'totals')
        totals = {r['what']: r['count'] for r in self.r['totals']['rows']}
        self.assertEqual(totals['logins'], 2)
        self.assertEqual(totals['sandbox verdicts'], 2)

    def test_one_section(self):
        r = json.loads(harness.run_mitsu('report', '--format', 'json', '--section', 'darknet', data_dir=self.data).stdout)
        self.assertIn('darknet', r)
        self.assertNotIn('honeypot', r)
        p = harness.run_mitsu('report', '--section', 'nope', data_dir=self.data, check=False)
        self.assertEqual(p.returncode, 2)

    def test_debug_log_times_each_query(self):
        """At log level debug the report logs each statement it runs with its time."""
        p = harness.run_mitsu('report', '--format', 'json', '--section', 'overview', '--log-level', 'debug',
                              data_dir=self.data)
        timed = re.findall(r'debug report: (\d+\.\d) ms: (SELECT|WITH)', p.stderr)
        self.assertGreaterEqual(len(timed), 4, p.stderr[-2000:])
        quiet = harness.run_mitsu('report', '--format', 'json', '--section', 'overview', data_dir=self.data)
        self.assertNotIn(' ms: SELECT', quiet.stderr)

    def test_ip(self):
        """mitsu ip: the honeypot sessions of one address with its credentials and commands."""
        r = json.loads(harness.run_mitsu('ip', '--format', 'json', '127.0.0.13', data_dir=self.data).stdout)
        self.assertEqual(r['address'], '127.0.0.13')
        self.assertEqual(r['honeypot']['sessions'], 1)
        self.assertEqual(r['honeypot']['logins'], 1)
        self.assertEqual([(c['username'], c['password']) for c in r['ip_credentials']['rows']], [('admin', 'admin')])
        self.assertIn('uname -a; /bin/busybox DONE', [c['command'] for c in r['ip_commands']['rows']])
        whats = [t['what'] for t in r['timeline']['rows']]
        self.assertIn('mitsu.session.connect', whats)
        self.assertIn('mitsu.command.input', whats)
        self.assertEqual(r['timeline']['rows'], sorted(r['timeline']['rows'], key=lambda t: t['time'], reverse=True))
        text = harness.run_mitsu('ip', '127.0.0.13', data_dir=self.data).stdout
        self.assertIn('admin', text)
        self.assertIn('Timeline', text)
        # The darknet's scanner: first and last seen, port.
        r = json.loads(harness.run_mitsu('ip', '--format', 'json', '192.0.2.20', data_dir=self.data).stdout)
        self.assertEqual(r['ip_darknet']['rows'][0]['port'], '8080/tcp')
        self.assertIsNotNone(r['darknet_first_seen'])
        self.assertEqual(r['honeypot']['sessions'], 0)
        # A Mirai source (its label), and an address nobody saw.
        r = json.loads(harness.run_mitsu('ip', '--format', 'json', '0:0::1', data_dir=self.data).stdout)
        self.assertEqual(r['address'], '::1')
        self.assertEqual(r['timeline']['rows'], [])
        p = harness.run_mitsu('ip', 'not-an-address', data_dir=self.data, check=False)
        self.assertEqual(p.returncode, 2)

    def test_ip_country(self):
        """Country and AS from Debian's libloc database, for a public address."""
        if not os.path.exists('/var/lib/location/database.db'):
            self.fail('libloc-database is not installed (scripts/deps installs it)')
        r = json.loads(harness.run_mitsu('ip', '--format', 'json', '8.8.8.8', data_dir=self.data).stdout)
        self.assertEqual(r['geo']['country'], 'US')
        self.assertEqual(r['geo']['asn'], 15169)

    def test_time_window(self):
        p = harness.run_mitsu('report', '--format', 'json', '--until', '2000-01-01', data_dir=self.data)
        r = json.loads(p.stdout)
        self.assertEqual(r['honeypot']['rows'], [])
        self.assertEqual(r['darknet']['rows'], [])


if __name__ == '__main__':
    harness.main()
