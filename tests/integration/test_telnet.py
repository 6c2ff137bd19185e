"""The Telnet honeypot end to end: the real mitsu binary on loopback, played by a client that
behaves like Mirai's scanner and loader and Gafgyt's scanner (research/honeypots.md §4), plus
limits, option negotiation, nmap's view of the port, and a clean stop."""
import hashlib
import os
import random
import re
import select
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TelnetBot  # noqa: E402

FAST = ['telnet.fail_delay_ms=0']

# The option bytes BusyBox telnetd sends before anything else.
BUSYBOX_IACS = bytes([255, 253, 1, 255, 253, 31, 255, 251, 1, 255, 251, 3])


def login(bot, user, password):
    bot.read_until_token(b'ogin')
    bot.sendline(user)
    bot.read_until_token(b'assword')
    bot.sendline(password)
    return bot.read_prompt()


def mirai_binary(size=1536, seed=7):
    """Made-up bytes with an ARM ELF header: what the echo dropper writes (not malware)."""
    rnd = random.Random(seed)
    body = bytearray(rnd.getrandbits(8) for _ in range(size))
    body[:20] = b'\x7fELF\x01\x01\x01' + bytes(9) + b'\x02\x00\x28\x00'
    return bytes(body)


class TelnetTest(harness.unittest.TestCase):
    def test_speaks_busybox_iacs_first(self):
        """Mirai's consume_iacs() needs the first byte to be IAC; we send BusyBox's exact set."""
        with harness.Sensor(sets=FAST) as s:
            bot = TelnetBot(s.port)
            bot.read_until_token(b'ogin')
            self.assertEqual(bot.first_byte, 255)
            self.assertTrue(bytes(bot.raw).startswith(BUSYBOX_IACS), bytes(bot.raw[:20]))
            bot.close()

    def test_mirai_scanner_dialogue(self):
        """Mirai's scanner: login, enable, system, shell, sh, /bin/busybox MIRAI."""
        with harness.Sensor(sets=FAST) as s:
            bot = TelnetBot(s.port)
            login(bot, 'root', 'xc3511')
            for cmd in ('enable', 'system', 'shell', 'sh'):
                bot.sendline(cmd)
                bot.read_prompt()
            bot.sendline('/bin/busybox MIRAI')
            out = bot.read_until_token(b'MIRAI: applet not found')
            self.assertNotIn(b'ncorrect', out)
            bot.close()
            ev = s.events(wait_for=('mitsu.session.closed', None))
            ids = [e['eventid'] for e in ev]
            self.assertEqual(ids[0], 'mitsu.session.connect')
            ok = [e for e in ev if e['eventid'] == 'mitsu.login.success']
            self.assertEqual((ok[0]['username'], ok[0]['password']), ('root', 'xc3511'))
            inputs = [e['input'] for e in ev if e['eventid'] == 'mitsu.command.input']
            self.assertEqual(inputs, ['enable', 'system', 'shell', 'sh', '/bin/busybox MIRAI'])
            closed = [e for e in ev if e['eventid'] == 'mitsu.session.closed'][0]
            self.assertEqual(closed['reason'], 'peer')
            for e in ev:
                self.assertEqual(e['session'], ev[0]['session'])
                self.assertEqual(e['src_ip'], '127.0.0.1')
                self.assertEqual(e['dst_port'], s.port)
                self.assertRegex(e['timestamp'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
                self.assertRegex(e['uuid'], r'^[0-9a-f-]{36}$')
            self.assertEqual(len({e['uuid'] for e in ev}), len(ev))

    def test_mirai_loader_echo_method(self):
        """Every step of the Mirai loader's echo path (honeypots.md §4.2); the reassembled file is
        stored once with the right SHA-256 although the loader deletes it at the end."""
        binary = mirai_binary()
        with harness.Sensor(sets=FAST) as s:
            # A guard against a hang, not a timing: `cat /bin/echo` streams the whole binary,
            # which under ASan on a starved machine once took over the default 10 s.
            bot = TelnetBot(s.port, timeout=60)
            login(bot, 'root', 'xc3511')
            bot.sendline('enable')
            bot.sendline('shell')
            bot.sendline('sh')
            bot.read_prompt()
            bot.command('', 'ECCHI')
            ps = bot.command('/bin/busybox ps', 'ECCHI')
            self.assertRegex(ps, rb'\n\s*1 \w+\s')
            mounts = bot.command('/bin/busybox cat /proc/mounts', 'ECCHI').decode()
            rw = [l.split()[1] for l in mounts.splitlines() if len(l.split()) > 3 and 'rw' in l.split()[3].split(',')]
            self.assertTrue(rw, mounts)
            workdir = None
            for path in rw + ['/dev']:
                out = bot.command("/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69%s' > %s/.nippon; "
                                  "/bin/busybox cat %s/.nippon; /bin/busybox rm %s/.nippon"
                                  % (path, path, path, path), 'ECCHI')
                if ('kami' + path).encode() in out and workdir is None and len(path) < 31:
                    workdir = path
            self.assertIsNotNone(workdir)
            bot.sendline('cd %s/' % workdir)
            bot.read_prompt()
            out = bot.command('/bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod 777 dvrHelper', 'ECCHI')
            self.assertNotIn(b'No such', out)
            elf = bot.command('/bin/busybox cat /bin/echo', 'ECCHI')
            i = elf.find(b'ELF')
            self.assertGreaterEqual(i, 1)
            hdr = elf[i - 1:]
            self.assertEqual(hdr[5], 1)              # EI_DATA little endian
            self.assertEqual(hdr[18] | hdr[19] << 8, 40)  # e_machine ARM
            cpu = bot.command('/bin/busybox cat /proc/cpuinfo', 'ECCHI')
            self.assertTrue(b'ARMv7' in cpu or b'ARMv6' in cpu)
            methods = bot.command('/bin/busybox wget; /bin/busybox tftp', 'ECCHI')
            self.assertNotIn(b'wget: applet not found', methods)
            self.assertIn(b'Usage', methods)
            bot.command('/bin/busybox cp dvrHelper upnp; > upnp; /bin/busybox chmod 777 upnp', 'ECCHI')
            for k in range(0, len(binary), 128):
                chunk = ''.join('\\x%02x' % b for b in binary[k:k + 128])
                bot.command("/bin/busybox echo -ne '%s' %s upnp" % (chunk, '>' if k == 0 else '>>'), 'ECCHI')
            bot.command('./upnp; ./dvrHelper telnet.arm7', 'IHCCE')
            bot.command('rm -rf upnp; > dvrHelper', 'ECCHI')
            bot.close()
            sha = hashlib.sha256(binary).hexdigest()
            ev = s.events(wait_for=('mitsu.session.closed', None))
            ups = [e for e in ev if e['eventid'] == 'mitsu.session.file_upload' and e['shasum'] == sha]
            self.assertEqual(len(ups), 1, [(e['eventid'], e.get('shasum'), e.get('size')) for e in ev
                                           if e['eventid'].startswith('mitsu.session.file')])
            self.assertEqual(ups[0]['size'], len(binary))
            self.assertTrue(ups[0]['destfile'].endswith('/upnp'))
            stored = [e for e in ev if e['eventid'] == 'mitsu.sample.stored' and e['shasum'] == sha]
            self.assertTrue(stored)
            self.assertEqual(stored[0]['arch'], 'arm')
            path = os.path.join(s.data_dir, 'samples', sha[:2], sha)
            with open(path, 'rb') as f:
                self.assertEqual(f.read(), binary)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o400)
        # `mitsu samples` lists it (the sensor has stopped; the store is closed cleanly).
            p = harness.run_mitsu('samples', '--format', 'json', data_dir=s.data_dir)
            self.assertIn(sha, p.stdout)

    def test_gafgyt_scanner_dialogue(self):
        """Gafgyt: login with its list, sh, then /bin/busybox;echo -e with octal escapes."""
        with harness.Sensor(sets=FAST) as s:
            bot = TelnetBot(s.port)
            out = login(bot, 'admin', 'admin')
            self.assertNotIn(b'ncorrect', out)
            self.assertIn(out.rstrip()[-1:], [b':', b'>', b'%', b'$', b'#'])
            bot.sendline('sh')
            bot.read_prompt()
            bot.sendline("/bin/busybox;echo -e '\\147\\141\\171\\146\\147\\164'")
            out = bot.read_until_token(b'gayfgt')
            self.assertIn(b'multi-call', out)
            bot.close()

    def test_login_failures_close_the_session(self):
        with harness.Sensor(sets=FAST) as s:
            bot = TelnetBot(s.port)
            for i in range(3):
                bot.read_until_token(b'ogin')
                bot.sendline('root')
                bot.read_until_token(b'assword')
                bot.sendline('wrong-%d' % i)
                bot.read_until_token(b'ncorrect')
            while not bot.closed:
                bot.recv_some(5)
            ev = s.events(wait_for=('mitsu.session.closed', None))
            self.assertEqual(len([e for e in ev if e['eventid'] == 'mitsu.login.failed']), 3)
            self.assertEqual([e['reason'] for e in ev if e['eventid'] == 'mitsu.session.closed'], ['login_failures'])

    def test_accept_any_after(self):
        with harness.Sensor(sets=FAST + ['telnet.accept_any_after=2', 'telnet.login_tries=5']) as s:
            bot = TelnetBot(s.port)
            for i in range(2):
                bot.read_until_token(b'ogin')
                bot.sendline('nobody')
                bot.read_until_token(b'assword')
                bot.sendline('x%d' % i)
                bot.read_until_token(b'ncorrect')
            login(bot, 'nobody', 'whatever')
            bot.sendline('/bin/busybox OK')
            bot.read_until_token(b'OK: applet not found')
            bot.close()

    def test_input_one_byte_at_a_time(self):
        """Any split of the input: the whole scanner dialogue a byte per segment, with CR NUL,
        CR LF and bare LF line ends."""
        with harness.Sensor(sets=FAST) as s:
            bot = TelnetBot(s.port)
            bot.read_until_token(b'ogin')
            for line, end in ((b'root', b'\r\0'), (b'xc3511', b'\r\n')):
                for b in line + end:
                    bot.send(bytes([b]))
                    time.sleep(0.002)  # a slow writer on purpose: one byte per segment
                if line == b'root':
                    bot.read_until_token(b'assword')
            bot.read_prompt()
            for b in b'/bin/busybox SPLIT\n':
                bot.send(bytes([b]))
                time.sleep(0.002)  # a slow writer on purpose: one byte per segment
            bot.read_until_token(b'SPLIT: applet not found')
            bot.close()

    def test_binary_output_escapes_iac(self):
        """Bytes 0xFF in output are doubled (IAC IAC), so a cat of binary arrives intact."""
        with harness.Sensor(sets=FAST) as s:
            bot = TelnetBot(s.port)
            login(bot, 'root', 'xc3511')
            bot.sendline("echo -ne '\\xff\\x01\\xffZ' > /var/b; cat /var/b; /bin/busybox DONE")
            bot.read_until_token(b'DONE: applet not found')
            self.assertIn(bytes([255, 255, 1, 255, 255]) + b'Z', bytes(bot.raw))
            self.assertIn(bytes([255, 1, 255]) + b'Z', bytes(bot.text))
            bot.close()

    def test_naws_recorded(self):
        with harness.Sensor(sets=FAST) as s:
            bot = TelnetBot(s.port)
            bot.read_until_token(b'ogin')
            bot.close()
            ev = s.events(wait_for=('mitsu.session.params', None))
            p = [e for e in ev if e['eventid'] == 'mitsu.session.params'][0]
            self.assertEqual((p['width'], p['height']), (80, 24))

    def test_two_profiles_on_two_ports(self):
        """One sensor, different devices on different ports, each consistent with itself."""
        profiles = harness.run_mitsu('profiles', '--format', 'json').stdout
        names = [l for l in re.findall(r'"name":\s*"([^"]+)"', profiles)]
        self.assertGreaterEqual(len(names), 4)
        a, b = harness.free_port(), harness.free_port()
        other = [n for n in names if n != 'dvr-hi3520d'][0]
        with harness.Sensor(listens=['telnet@127.0.0.1:%d' % a, 'telnet@127.0.0.1:%d/%s' % (b, other)],
                            sets=FAST) as s:
            for port in (a, b):
                bot = TelnetBot(port)
                bot.read_until_token(b'ogin')
                bot.close()
            ev = s.events(wait_for=('mitsu.session.connect', lambda e: e['dst_port'] == b))
            prof = {e['dst_port']: e['profile'] for e in ev if e['eventid'] == 'mitsu.session.connect'}
            self.assertEqual(prof[a], 'dvr-hi3520d')
            self.assertEqual(prof[b], other)

    def test_idle_timeout(self):
        with harness.Sensor(sets=FAST + ['limits.idle_timeout=1']) as s:
            bot = TelnetBot(s.port)
            bot.read_until_token(b'ogin')
            while not bot.closed:
                bot.recv_some(5)
            ev = s.events(wait_for=('mitsu.session.closed', None))
            self.assertEqual(ev[-1]['reason'], 'idle')

    def test_long_line_closes_only_that_peer(self):
        """A flooding peer is closed (line_limit); another session is not disturbed."""
        with harness.Sensor(sets=FAST + ['limits.max_line=1024']) as s:
            good = TelnetBot(s.port)
            login(good, 'root', 'xc3511')
            bad = TelnetBot(s.port)
            bad.read_until_token(b'ogin')
            try:
                bad.send(b'A' * 200000)
            except OSError:
                pass
            while not bad.closed:
                if not bad.recv_some(5):
                    break
            self.assertTrue(bad.closed)
            good.sendline('/bin/busybox STILL')
            good.read_until_token(b'STILL: applet not found')
            good.close()
            ev = s.events(wait_for=('mitsu.session.closed', lambda e: e['reason'] == 'line_limit'))
            self.assertIn('line_limit', [e['reason'] for e in ev if e['eventid'] == 'mitsu.session.closed'])

    def test_input_limit(self):
        with harness.Sensor(sets=FAST + ['limits.max_input_bytes=4K']) as s:
            bot = TelnetBot(s.port)
            login(bot, 'root', 'xc3511')
            try:
                for _ in range(20):
                    bot.sendline('echo ' + 'x' * 500)
            except OSError:
                pass
            while not bot.closed:
                if not bot.recv_some(5):
                    break
            ev = s.events(wait_for=('mitsu.session.closed', None))
            self.assertEqual(ev[-1]['reason'], 'input_limit')

    def test_output_limit_closes_a_peer_that_does_not_read(self):
        """A peer that asks for output and never reads is cut off at limits.max_output_queue;
        another session goes on."""
        with harness.Sensor(sets=FAST + ['limits.max_output_queue=64K']) as s:
            slow = TelnetBot(s.port)
            login(slow, 'root', 'xc3511')
            slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.sendline('cat' + ' /bin/busybox' * 20)
            ev = s.events(wait_for=('mitsu.session.closed', lambda e: e['reason'] == 'output_limit'), timeout=30)
            self.assertIn('output_limit', [e['reason'] for e in ev if e['eventid'] == 'mitsu.session.closed'])
            other = TelnetBot(s.port)
            login(other, 'root', 'xc3511')
            other.sendline('/bin/busybox ALIVE')
            other.read_until_token(b'ALIVE: applet not found')
            other.close()
            slow.close()

    def test_per_source_limit(self):
        """Beyond limits.max_sessions_per_source the connection is closed at once, unanswered."""
        with harness.Sensor(sets=FAST + ['limits.max_sessions_per_source=2']) as s:
            a, b = TelnetBot(s.port, source='127.0.0.2'), TelnetBot(s.port, source='127.0.0.2')
            a.read_until_token(b'ogin')
            b.read_until_token(b'ogin')
            c = TelnetBot(s.port, source='127.0.0.2')
            while not c.closed:
                if not c.recv_some(5):
                    break
            self.assertTrue(c.closed)
            self.assertEqual(len(c.raw), 0)
            # Another source address is not limited by the first one's sessions.
            e = socket.socket()
            e.bind(('127.0.0.3', 0))
            e.connect(('127.0.0.1', s.port))
            e.settimeout(5)
            self.assertEqual(e.recv(1), b'\xff')
            for x in (a, b):
                x.close()
            e.close()

    def test_slowloris_does_not_block_others(self):
        """Peers that send a byte now and then stay within their own limits; a full dialogue runs
        alongside them."""
        with harness.Sensor(sets=FAST) as s:
            slow = [TelnetBot(s.port) for _ in range(20)]
            for b in slow:
                b.send(b'r')
            bot = TelnetBot(s.port)
            login(bot, 'root', 'xc3511')
            bot.sendline('/bin/busybox FAST')
            bot.read_until_token(b'FAST: applet not found')
            for b in slow + [bot]:
                b.close()

    def test_exit_closes(self):
        with harness.Sensor(sets=FAST) as s:
            bot = TelnetBot(s.port)
            login(bot, 'root', 'xc3511')
            bot.sendline('exit')
            while not bot.closed:
                if not bot.recv_some(5):
                    break
            self.assertTrue(bot.closed)
            ev = s.events(wait_for=('mitsu.session.closed', None))
            self.assertEqual(ev[-1]['reason'], 'exit')

    def test_sigterm_stops_cleanly(self):
        s = harness.Sensor(sets=FAST).start()
        try:
            bots = [TelnetBot(s.port) for _ in range(5)]
            for b in bots:
                b.read_until_token(b'ogin')
            s.stop()
            self.assertEqual(s.proc.returncode, 0)
            ev = s.events(include_probes=True)
            reasons = [e['reason'] for e in s.events() if e['eventid'] == 'mitsu.session.closed']
            self.assertEqual(reasons, ['shutdown'] * 5)
            # The SQLite store has the same events as the JSON-lines file.
            p = harness.run_mitsu('events', data_dir=s.data_dir)
            self.assertEqual(len(p.stdout.splitlines()), len(ev))
            p = harness.run_mitsu('events', '--type', 'mitsu.session.closed', '--limit', '2', data_dir=s.data_dir)
            self.assertEqual(len(p.stdout.splitlines()), 2)
        finally:
            s.stop(check=False)
            s.cleanup()

    def test_binds_port_23_then_drops_privileges(self):
        """As root: the listener on port 23 is bound first, then the sensor runs as core.user."""
        import pwd
        addr = '127.%d.%d.%d' % (os.getpid() % 200 + 20, os.getpid() // 200 % 250, 23)
        s = harness.Sensor(listens=['telnet@%s:23' % addr], sets=FAST + ['core.user=nobody'])
        os.makedirs(s.data_dir)
        nobody = pwd.getpwnam('nobody')
        os.chown(s.data_dir, nobody.pw_uid, nobody.pw_gid)
        os.chmod(s.tmp, 0o755)
        try:
            s.start(wait_ports=[(addr, 23)])
            bot = TelnetBot(23, host=addr)
            login(bot, 'root', 'xc3511')
            bot.sendline('/bin/busybox PRIV')
            bot.read_until_token(b'PRIV: applet not found')
            bot.close()
            with open('/proc/%d/status' % s.proc.pid) as f:
                uids = [l.split()[1:] for l in f if l.startswith('Uid:')][0]
            self.assertEqual(set(uids), {str(nobody.pw_uid)})
            s.events(wait_for=('mitsu.session.closed', None))
        finally:
            s.stop()
            s.cleanup()

    def test_nmap_sees_a_telnet_service(self):
        """nmap -sV names a Telnet service (BusyBox telnetd), not a honeypot."""
        with harness.Sensor(sets=FAST) as s:
            p = subprocess.run(['nmap', '-sV', '-Pn', '-n', '-p', str(s.port), '127.0.0.1'],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
            line = [l for l in p.stdout.splitlines() if l.startswith('%d/tcp' % s.port)]
            self.assertTrue(line, p.stdout)
            self.assertIn('telnet', line[0])
            self.assertNotRegex(p.stdout.lower(), r'honeypot|mitsu|cowrie')

    def test_busybox_telnet_client(self):
        """BusyBox's own telnet client logs in and runs a command."""
        with harness.Sensor(sets=FAST) as s:
            p = subprocess.Popen(['busybox', 'telnet', '127.0.0.1', str(s.port)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out = bytearray()
            try:
                # Each line is typed once the client shows what it answers (the client ends
                # when its input does, so the input stays open until the session is over).
                for wait, line in ((b'ogin', b'root'), (b'assword', b'xc3511'), (b'#', b'uname -m'),
                                   (b'armv7l', b'exit')):
                    harness.wait_until(lambda: wait in out or not read_some(p.stdout, out), timeout=30,
                                       what='%r from busybox telnet' % wait)
                    self.assertIn(wait, out)
                    del out[:out.index(wait) + len(wait)]
                    p.stdin.write(line + b'\r\n')
                    p.stdin.flush()
                p.wait(timeout=30)
            finally:
                p.kill()
                p.wait()


def read_some(f, out):
    """Appends what f has to out, waiting up to 0.2 s; False at its end."""
    if select.select([f], [], [], 0.2)[0]:
        data = os.read(f.fileno(), 65536)
        out += data
        return bool(data)
    return True


if __name__ == '__main__':
    harness.main()
