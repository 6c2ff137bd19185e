"""`mitsu audit`: findings, evidence and advice against the project's own Telnet profiles (on
loopback) and the test hosts of ident_hosts.py in a network namespace (default Telnet and web
logins, a UPnP IGD with port forwards, a silent port); public addresses refused; the exit
status."""
import os
import sys

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
