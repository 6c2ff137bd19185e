"""The dashboard: served by `mitsu run` on loopback, token rules, and live content."""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TelnetBot  # noqa: E402


def get(port, path, token=None):
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path))
    if token:
        req.add_header('Authorization', 'Bearer ' + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers, r.read()


class WebTest(harness.unittest.TestCase):
    def sensor(self, *sets):
        self.web = harness.free_port()
        s = harness.Sensor(sets=['telnet.fail_delay_ms=0'] + list(sets), web_port=self.web)
        return s.start(wait_ports=[s.port, self.web])

    def test_page_and_summary_show_a_session(self):
        s = self.sensor()
        try:
            status, headers, body = get(self.web, '/')
            self.assertEqual(status, 200)
            self.assertIn(b'<title>mitsu</title>', body)
            self.assertIn('default-src', headers['Content-Security-Policy'])
            bot = TelnetBot(s.port)
            bot.read_until_token(b'ogin')
            bot.sendline('root')
            bot.read_until_token(b'assword')
            bot.sendline('xc3511')
            bot.read_prompt()
            bot.sendline('/bin/busybox DASH')
            bot.read_until_token(b'DASH: applet not found')
            bot.close()
            s.events(wait_for=('mitsu.session.closed', None))
            # curl, as an operator would, reads the same JSON.
            out = subprocess.run(['curl', '-sf', 'http://127.0.0.1:%d/api/summary' % self.web],
                                 stdout=subprocess.PIPE, timeout=30, check=True).stdout
            summ = json.loads(out)
            self.assertGreaterEqual(summ['totals']['sessions'], 1)
            self.assertGreaterEqual(summ['totals']['logins'], 1)
            creds = [(c['username'], c['password']) for c in summ['top_credentials']]
            self.assertIn(('root', 'xc3511'), creds)
            self.assertIn('/bin/busybox DASH', [c['input'] for c in summ['top_commands']])
            _, _, body = get(self.web, '/api/events?limit=5&type=mitsu.login.success')
            evs = json.loads(body)
            self.assertEqual(evs[0]['username'], 'root')
            with self.assertRaises(urllib.error.HTTPError) as e:
                get(self.web, '/api/events?limit=99999')
            self.assertEqual(e.exception.code, 400)
        finally:
            s.stop()
            s.cleanup()

    def test_token_required_when_set(self):
        s = self.sensor('web.token=s3cret')
        try:
            with self.assertRaises(urllib.error.HTTPError) as e:
                get(self.web, '/api/summary')
            self.assertEqual(e.exception.code, 401)
            with self.assertRaises(urllib.error.HTTPError) as e:
                get(self.web, '/api/summary', token='wrong')
            self.assertEqual(e.exception.code, 401)
            self.assertEqual(get(self.web, '/api/summary', token='s3cret')[0], 200)
            self.assertEqual(get(self.web, '/?token=s3cret')[0], 200)
        finally:
            s.stop()
            s.cleanup()

    def test_sandbox_and_darknet_on_the_dashboard(self):
        """Verdicts, the testbed table and darknet intervals the store holds are on the page's API."""
        import tempfile
        import shutil
        import test_scope
        from test_box import compile_bot
        tmp = tempfile.mkdtemp(prefix='mitsu-web-')
        try:
            data = os.path.join(tmp, 'data')
            bot = os.path.join(tmp, 'lan-mipsel')
            compile_bot('gafgyt_lan', 'mipsel', bot)
            harness.run_mitsu('box', '--store', '--window', '20', bot, data_dir=data, timeout=300)
            pcap = os.path.join(tmp, 'd.pcap')
            test_scope.write(pcap, test_scope.pcap_bytes(test_scope.frames_of(test_scope.scenario(), 'ether')))
            harness.run_mitsu('scope', '--darknet', test_scope.DARK, '--no-geo', '--format', 'json', pcap, data_dir=data)
            self.web = harness.free_port()
            s = harness.Sensor(sets=['telnet.fail_delay_ms=0'], web_port=self.web, data_dir=data)
            s.start(wait_ports=[s.port, self.web])
            try:
                summ = json.loads(get(self.web, '/api/summary')[2])
                self.assertEqual(summ['verdicts'][0]['arch'], 'mipsel')
                testbed = {r['arch']: r for r in summ['testbed']}
                self.assertEqual(testbed['mipsel']['lan_attack'], 1)
                self.assertEqual(len(summ['darknet']), 2)
                self.assertGreater(summ['darknet'][0]['packets'], 0)
            finally:
                s.stop()
                s.cleanup()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_off_loopback_needs_a_token(self):
        s = harness.Sensor()
        try:
            p = subprocess.run(s.args + ['--set', 'web.listen=0.0.0.0:%d' % harness.free_port()],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn('web.token', p.stderr)
        finally:
            s.cleanup()


if __name__ == '__main__':
    harness.main()
