"""`mitsu audit`: findings, evidence and advice against the project's own Telnet profiles (on
loopback) and the test hosts of ident_hosts.py in a network namespace (default Telnet and web
logins, a UPnP IGD with port forwards, a silent port); public addresses refused; the exit
status."""
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_ident import NS_ARGS, Namespace, run_in, json_rows  # noqa: E402


def findings(row):
    return {f['finding']: f for f in row['findings']}


class AuditLoopbackTest(harness.unittest.TestCase):
    def test_profile_default_credentials(self):
        """The DVR profile accepts Mirai's root/xc3511, the first credential of the profiles."""
        port = harness.free_port()
        with harness.Sensor(listens=['telnet@127.0.0.1:%d/dvr-hi3520d' % port],
                            sets=['telnet.fail_delay_ms=0']) as sn:
            r = harness.run_mitsu('audit', '-F', 'json', 'telnet://127.0.0.1:%d' % port, check=False)
            self.assertEqual(r.returncode, 1, r.stderr)
            row = json_rows(r.stdout)[0]
            f = findings(row)
            self.assertEqual(f['telnet-default-credentials']['severity'], 'high')
            self.assertIn('root / xc3511', f['telnet-default-credentials']['evidence'])
            self.assertIn('Telnet', f['telnet-reachable']['advice'])
            self.assertEqual(row['identification']['category'], 'dvr')
            self.assertIn('identified', f)
            # the login is in the honeypot's own record
            sn.events('mitsu.login.success', wait_for=('mitsu.login.success', None))

    def test_known_vulnerable(self):
        """The IoT exploit ports of the WebUI profiles are reported known-vulnerable with the CVE
        of their exploit signature, from their banner and one harmless GET; a router without
        one is not; and nothing the audit sent is an exploit to the honeypot's own matcher."""
        want = {'hg532': {'CVE-2017-17215'}, 'realtek-igd': {'CVE-2014-8361'},
                'tr064': {'CVE-2016-10372', 'CVE-2014-9222'}, 'router-d': set()}
        ports = {name: harness.free_port() for name in want}
        with harness.Sensor(listens=['http@127.0.0.1:%d/%s' % (p, n) for n, p in ports.items()]) as sn:
            for name, cves in want.items():
                r = harness.run_mitsu('audit', '-F', 'json', '--max-logins', '0',
                                      'http://127.0.0.1:%d' % ports[name], check=False)
                self.assertEqual(r.returncode, 1 if cves else 0, name + r.stderr)
                vuln = [f for f in json_rows(r.stdout)[0]['findings'] if f['finding'] == 'known-vulnerable']
                self.assertEqual({f['cve'] for f in vuln}, cves, name)
                for f in vuln:
                    self.assertEqual(f['severity'], 'high')
                    self.assertIn(f['cve'], f['evidence'])
                    self.assertIn('http:%d' % ports[name], f['evidence'])
                    self.assertIn('firmware', f['advice'])
                if name == 'hg532':
                    self.assertIn('GET / answers 200 with the service', vuln[0]['evidence'])
            # a last request of our own: the events of every earlier one are stored before it
            marker = '/audit-marker-%d' % os.getpid()
            try:
                urllib.request.urlopen('http://127.0.0.1:%d%s' % (ports['router-d'], marker), timeout=10)
            except urllib.error.HTTPError:
                pass
            ev = sn.events(wait_for=('mitsu.http.request', lambda e: e.get('uri') == marker))
            self.assertTrue(any(e.get('uri') == '/picsdesc.xml' for e in ev if e['eventid'] == 'mitsu.http.request'))
            self.assertEqual([e for e in ev if e['eventid'] == 'mitsu.exploit.match'], [])

    def test_vulnerable_file_refuses_an_exploit_probe(self):
        """A vulnerable.ini whose GET is an exploit's request, or whose signature has no CVE, is
        refused before anything is sent."""
        src = os.path.join(harness.ROOT, 'fingerprints')
        for section in ('[zte-rom0-config]\nget = /rom-0\n', '[jaws-shell-rce]\nmatch = JAWS\n'):
            tmp = tempfile.mkdtemp(prefix='mitsu-audit-fp-')
            try:
                fp = os.path.join(tmp, 'fp')
                shutil.copytree(src, fp)
                with open(os.path.join(fp, 'vulnerable.ini'), 'a') as f:
                    f.write('\n' + section)
                env = dict(os.environ, MITSU_FINGERPRINTS=fp)
                p = harness.subprocess.run([harness.MITSU, 'audit', '127.0.0.1'], env=env, text=True,
                                           stdout=harness.subprocess.PIPE, stderr=harness.subprocess.PIPE,
                                           timeout=60)
                self.assertEqual(p.returncode, 3, p.stderr)
                self.assertIn('known-vulnerable devices', p.stderr)
                self.assertIn('itself an exploit' if 'rom-0' in section else 'no signature with a CVE',
                              p.stderr)
            finally:
                shutil.rmtree(tmp)

    def test_public_refused(self):
        r = harness.run_mitsu('audit', '192.0.2.1', '8.8.8.8', check=False)
        self.assertIn('8.8.8.8 is a public address: refused', r.stderr)
        self.assertNotIn('192.0.2.1 is a public', r.stderr)  # documentation range: not public
        self.assertEqual(r.returncode, 0)

    def test_no_targets(self):
        r = harness.run_mitsu('audit', check=False)
        self.assertEqual(r.returncode, 2)


class AuditNamespaceTest(harness.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns = Namespace()

    @classmethod
    def tearDownClass(cls):
        cls.ns.close()

    def audit(self, *targets):
        r = run_in(self.ns, 'audit', '-F', 'json', *NS_ARGS, '--set', 'ident.host_timeout=20', *targets,
                   check=False)
        return r, {row['host']: row for row in json_rows(r.stdout)}

    def test_exposed_device(self):
        r, rows = self.audit('198.18.0.17', '198.18.0.18', '198.18.0.13', '198.18.0.10')
        self.assertEqual(r.returncode, 1, r.stderr)
        f = findings(rows['198.18.0.17'])
        self.assertIn('admin / admin', f['telnet-default-credentials']['evidence'])
        self.assertEqual(f['ssh-reachable']['severity'], 'low')
        self.assertIn('dropbear', f['ssh-reachable']['evidence'])
        f = findings(rows['198.18.0.18'])
        self.assertIn('Basic login accepted admin / admin', f['web-default-credentials']['evidence'])
        f = findings(rows['198.18.0.13'])
        fwd = f['upnp-port-forwards']
        self.assertEqual(fwd['severity'], 'high')
        self.assertIn('2 port forwards', fwd['evidence'])
        self.assertIn('TCP 8080 -> 192.168.1.20:80 (camera web)', fwd['evidence'])
        self.assertIn('baby and pet cameras', fwd['advice'])
        f = findings(rows['198.18.0.10'])
        self.assertEqual(f['port-held-silent']['severity'], 'medium')
        self.assertNotIn('telnet-default-credentials', f)

    def test_digest_and_form_logins(self):
        r, rows = self.audit('198.18.0.20', '198.18.0.21')
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('Digest login accepted admin / admin',
                      findings(rows['198.18.0.20'])['web-default-credentials']['evidence'])
        self.assertIn('form login accepted admin / admin',
                      findings(rows['198.18.0.21'])['web-default-credentials']['evidence'])

    def test_clean_host(self):
        """The DVR web page has no login: reachable, identified, nothing high: exit 0."""
        r, rows = self.audit('198.18.0.16')
        self.assertEqual(r.returncode, 0, r.stderr)
        f = findings(rows['198.18.0.16'])
        self.assertEqual(set(f), {'identified', 'webui-reachable'})


if __name__ == '__main__':
    harness.main()
