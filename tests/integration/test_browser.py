"""The dashboard in a real browser: Debian's chromium, headless, driven through chromedriver's
WebDriver HTTP API (a few requests with urllib; nothing downloaded). Every page loads with no
console error (a Content-Security-Policy violation is one); a Telnet session made during the
test appears on the overview without a reload; the sample page shows the sandbox's verdict; the
address page shows the session. Screenshots go to test-output/browser/ beside the binary."""
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TelnetBot  # noqa: E402
from test_box import compile_bot  # noqa: E402

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage', '--window-size=1280,1600']
OUT = os.path.join(os.path.dirname(os.path.abspath(harness.MITSU)), 'test-output', 'browser')


class WebDriver:
    """The few WebDriver commands the test needs."""

    def __init__(self, tmp):
        self.port = harness.free_port()
        self.log = open(os.path.join(tmp, 'chromedriver.log'), 'w')
        self.proc = subprocess.Popen([CHROMEDRIVER, '--port=%d' % self.port], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError('chromedriver did not start')
                time.sleep(0.05)
        caps = {'capabilities': {'alwaysMatch': {
            'browserName': 'chrome',
            'goog:chromeOptions': {'binary': CHROMIUM,
                                   'args': FLAGS + ['--user-data-dir=' + os.path.join(tmp, 'profile')]},
            'goog:loggingPrefs': {'browser': 'ALL'}}}}
        self.session = self.call('POST', '/session', caps)['sessionId']

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request('http://127.0.0.1:%d%s' % (self.port, path), data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())['value']
        except urllib.error.HTTPError as e:
            raise AssertionError('webdriver %s %s: %s' % (method, path, e.read()[:2000]))

    def s(self, method, path, body=None):
        return self.call(method, '/session/%s%s' % (self.session, path), body)

    def get(self, url):
        self.s('POST', '/url', {'url': url})

    def js(self, script, *args):
        return self.s('POST', '/execute/sync', {'script': script, 'args': list(args)})

    def console(self):
        return self.s('POST', '/se/log', {'type': 'browser'})

    def screenshot(self, name):
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, name + '.png'), 'wb') as f:
            f.write(base64.b64decode(self.s('GET', '/screenshot')))

    def wait_text(self, element_id, text, timeout=30):
        """Waits until the element's text holds `text` (the page updating itself)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.js('const e = document.getElementById(arguments[0]); return e ? e.textContent : null;',
                          element_id)
            if got and text in got:
                return got
            if time.monotonic() > deadline:
                raise AssertionError('%r never appeared in #%s: %r' % (text, element_id, (got or '')[:500]))
            time.sleep(0.1)

    def close(self):
        try:
            self.call('DELETE', '/session/%s' % self.session)
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.log.close()


class BrowserTest(harness.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for exe in (CHROMIUM, CHROMEDRIVER):
            if not os.access(exe, os.X_OK):
                raise AssertionError('%s is missing (scripts/deps installs chromium and chromium-driver)' % exe)
        cls.tmp = tempfile.mkdtemp(prefix='mitsu-browser-')
        cls.data = os.path.join(cls.tmp, 'data')
        # A sample with its verdict in the store (a small LAN-scanning bot the suite compiles).
        bot = os.path.join(cls.tmp, 'lan-mipsel')
        compile_bot('gafgyt_lan', 'mipsel', bot)
        harness.run_mitsu('box', '--store', '--window', '10', bot, data_dir=cls.data, timeout=300)
        with open(bot, 'rb') as f:
            cls.sha = hashlib.sha256(f.read()).hexdigest()
        cls.web = harness.free_port()
        cls.sensor = harness.Sensor(sets=['telnet.fail_delay_ms=0', 'web.refresh=1'], web_port=cls.web,
                                    data_dir=cls.data)
        cls.sensor.start(wait_ports=[cls.sensor.port, cls.web])
        cls.base = 'http://127.0.0.1:%d' % cls.web
        cls.wd = WebDriver(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.wd.close()
        finally:
            cls.sensor.stop()
            cls.sensor.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def load(self, path, name):
        self.wd.console()  # drop what earlier pages logged
        self.wd.get(self.base + path)
        self.assertEqual(self.wd.js('return document.readyState;'), 'complete')
        self.wd.screenshot(name)
        errors = [e for e in self.wd.console() if e.get('level') == 'SEVERE']
        self.assertEqual(errors, [], path)

    def test_1_pages_load_without_console_errors(self):
        for path, name in [('/', 'overview'), ('/honeypot', 'honeypot'), ('/samples', 'samples'),
                           ('/darknet', 'darknet'), ('/ip/127.0.0.1', 'ip')]:
            self.load(path, name)

    def test_2_session_appears_live(self):
        self.load('/', 'overview-before')
        # The script is running: it says so once its first refresh is in.
        self.wd.wait_text('status', 'live')
        bot = TelnetBot(self.sensor.port, source='127.0.0.77')
        bot.read_until_token(b'ogin')
        bot.sendline('root')
        bot.read_until_token(b'assword')
        bot.sendline('xc3511')
        bot.read_prompt()
        bot.sendline('echo LIVE-MARKER')
        bot.read_prompt()
        bot.close()
        # Without a reload: the event stream adds the events to the latest events table.
        self.wd.wait_text('t-recent_events', '127.0.0.77')
        self.wd.wait_text('t-recent_events', 'mitsu.login.success')
        self.wd.screenshot('overview-live')
        self.assertEqual([e for e in self.wd.console() if e.get('level') == 'SEVERE'], [])
        # The address page shows the session and what was typed.
        self.sensor.events(wait_for=('mitsu.session.closed', lambda e: e['src_ip'] == '127.0.0.77'))
        self.load('/ip/127.0.0.77', 'ip-session')
        sessions = self.wd.js('return document.getElementById("t-ip_sessions").textContent;')
        self.assertIn('xc3511', sessions)
        self.assertIn('echo LIVE-MARKER', self.wd.js('return document.getElementById("t-ip_commands").textContent;'))

    def test_3_sample_page_shows_its_verdict(self):
        self.load('/sample/' + self.sha, 'sample')
        verdict = self.wd.js('return document.getElementById("t-verdict").textContent;')
        self.assertIn('gafgyt', verdict)
        behaviour = self.wd.js('return Array.from(document.querySelectorAll("#t-behaviour tbody tr"))'
                               '.map(r => Array.from(r.cells).map(c => c.textContent));')
        self.assertIn(['lan_attack', 'yes'], [row[:2] for row in behaviour])
        # And from the samples list, the link leads there.
        self.load('/samples', 'samples-list')
        href = self.wd.js('const a = document.querySelector("#t-samples tbody a"); return a && a.getAttribute("href");')
        self.assertEqual(href, '/sample/' + self.sha)


if __name__ == '__main__':
    harness.main()
