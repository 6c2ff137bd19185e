"""Shared helpers for integration tests: start the real mitsu binary on loopback, talk to it,
read its events, and report results as TAP so tests/run.py can count them.

Every test file ends with:  if __name__ == '__main__': harness.main()
"""
import fcntl
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MITSU = os.environ.get('MITSU_BIN', os.path.join(ROOT, 'build', 'mitsu'))
SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:')
# A diagnostic line of mitsu's own log (src/lib/log.c): "TIMESTAMP LEVEL TAG: message".
LOG_LINE = re.compile(r'^\S+ (warn|error) ([\w.-]+): (.*)$')


def unexpected_log_lines(text, expect=()):
    """The warn and error lines of mitsu's log in text that match none of the regular
    expressions in expect (matched against "TAG: message"). A warning is how mitsu says it lost
    or refused something, so a test that does not expect one must not pass with it."""
    pats = [re.compile(e) for e in expect]
    bad = []
    for line in text.splitlines():
        m = LOG_LINE.match(line)
        if m and not any(p.search('%s: %s' % (m.group(2), m.group(3))) for p in pats):
            bad.append(line)
    return bad


def wait_until(pred, timeout=10, what='the condition'):
    """Polls pred() until it returns a true value (returned), or fails after timeout seconds.
    The wait is on the thing itself (a port, a file, a row): the pause only spaces the polls."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))
        time.sleep(0.02)


def udp_bound(addr, port):
    """Whether some socket is bound to the UDP address addr:port (IPv4), from /proc/net/udp."""
    want = '%s:%04X' % (''.join('%02X' % int(b) for b in reversed(addr.split('.'))), port)
    with open('/proc/net/udp') as f:
        return any(line.split()[1] == want for line in list(f)[1:])


# Ports handed to tests come from below the kernel's ephemeral range, so no outgoing
# connection (of this test, of a flood test beside it, of anything on the machine) can take one
# between the pick and mitsu's bind; and each is reserved by an flock held for this process's
# life, so two test processes running at once never pick the same one.
PORT_LOCKS = os.path.join(tempfile.gettempdir(), 'mitsu-test-ports')
_held_ports = {}  # port -> its lock file, open until this process ends


def _port_range():
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return max(1024, low - 12000), low


def free_port(kind=socket.SOCK_STREAM, host='127.0.0.1'):
    """A port that is free on host (TCP by default), outside the ephemeral range and reserved
    for this process: never handed to another test process, nor twice to this one."""
    os.makedirs(PORT_LOCKS, exist_ok=True)
    low, high = _port_range()
    for _ in range(10000):
        port = random.randrange(low, high)
        if port in _held_ports:
            continue
        lock = open(os.path.join(PORT_LOCKS, str(port)), 'a')
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        try:
            with socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, kind) as s:
                s.bind((host, port))
        except OSError:
            lock.close()
            continue
        _held_ports[port] = lock
        return port
    raise AssertionError('no free port in %d-%d' % (low, high))


def run_mitsu(*args, data_dir=None, check=True, timeout=120, input=None, expect_log=()):
    """Runs a one-shot mitsu command; returns CompletedProcess (text). With check, a warn or
    error line of its log that matches none of expect_log (regular expressions) fails it."""
    cmd = [MITSU] + list(args)
    if data_dir:
        cmd[2:2] = ['--data-dir', data_dir]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       text=True, errors='replace', input=input)
    for mark in SANITIZER_MARKS:
        if mark in p.stderr:
            raise AssertionError('sanitizer report from %s:\n%s' % (' '.join(cmd), p.stderr[-4000:]))
    if check and p.returncode != 0:
        raise AssertionError('%s exited %d:\n%s' % (' '.join(cmd), p.returncode, p.stderr[-4000:]))
    bad = unexpected_log_lines(p.stderr, expect_log) if check else []
    if bad:
        raise AssertionError('unexpected warnings from %s:\n%s' % (' '.join(cmd), '\n'.join(bad[:20])))
    return p


class Sensor:
    """A `mitsu run` process on loopback with its own data directory.

    Its stderr is kept; when it stops, a warn or error line of its log fails the test unless it
    matches one of the regular expressions of expect_log (against "TAG: message"), which a test
    that provokes a warning declares (Sensor(..., expect_log=[r'^samples: '])) or adds to
    (s.expect_log.append(...)) before it stops."""

    def __init__(self, listens=None, sets=(), extra_args=(), data_dir=None, config_text=None,
                 web_port=None, expect_log=()):
        self.expect_log = list(expect_log)
        self.tmp = tempfile.mkdtemp(prefix='mitsu-it-')
        self.data_dir = data_dir or os.path.join(self.tmp, 'data')
        self.port = free_port()
        if listens is None:
            listens = ['telnet@127.0.0.1:%d' % self.port]
        self.listens = listens
        web = '127.0.0.1:%d' % web_port if web_port else ''
        args = [MITSU, 'run', '--data-dir', self.data_dir, '--set', 'web.listen=' + web]
        if config_text is not None:
            path = os.path.join(self.tmp, 'mitsu.cfg')
            with open(path, 'w') as f:
                f.write(config_text)
            args += ['-c', path]
        for l in listens:
            args += ['--listen', l]
        for s in sets:
            args += ['--set', s]
        args += list(extra_args)
        self.args = args
        self.stderr_path = os.path.join(self.tmp, 'stderr')
        self.proc = None
        # (address, port, port probed) of the connections the harness made to see a port
        # open: with the port probed, a later connection that reuses a probe's source port
        # towards another listener is not mistaken for a probe.
        self.probes = set()

    def start(self, wait_ports=None):
        """Starts mitsu run and waits until it accepts on each port of wait_ports (a port on
        127.0.0.1 or a (host, port) pair; default: every listener's port on 127.0.0.1)."""
        self.errf = open(self.stderr_path, 'w')
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.errf)
        ports = wait_ports if wait_ports is not None else [self._port_of(l) for l in self.listens]
        deadline = time.monotonic() + 30
        for port in ports:
            host, port = port if isinstance(port, tuple) else ('127.0.0.1', port)
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError('mitsu exited %d at start:\n%s' % (self.proc.returncode, self.stderr()))
                try:
                    probe = socket.create_connection((host, port), timeout=1)
                    self.probes.add(probe.getsockname()[:2] + (port,))
                    probe.close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError('mitsu did not listen on %s:%d:\n%s' % (host, port, self.stderr()))
                    time.sleep(0.05)  # spaces the probes of the port
        return self

    @staticmethod
    def _port_of(listen):
        hostport = listen.split('@', 1)[1].split('/', 1)[0]
        return int(hostport.rsplit(':', 1)[1])

    def stderr(self):
        try:
            with open(self.stderr_path) as f:
                return f.read()
        except OSError:
            return ''

    def stop(self, check=True):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError('mitsu did not stop on SIGTERM')
        if self.proc:
            self.errf.close()
            err = self.stderr()
            for mark in SANITIZER_MARKS:
                if mark in err:
                    raise AssertionError('sanitizer report from mitsu run:\n' + err[-6000:])
            if check and self.proc.returncode not in (0, -signal.SIGTERM):
                raise AssertionError('mitsu run exited %d:\n%s' % (self.proc.returncode, err[-4000:]))
            bad = unexpected_log_lines(err, self.expect_log) if check else []
            if bad:
                raise AssertionError('unexpected warnings from mitsu run (declare the expected '
                                     'ones with expect_log):\n' + '\n'.join(bad[:20]))
        return self

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop(check=exc[0] is None)
        finally:
            self.cleanup()

    def events(self, eventid=None, wait_for=None, timeout=10, include_probes=False):
        """Stored events (from the JSON-lines file, which is flushed every loop turn).
        With wait_for=(eventid, predicate), waits until such an event appears."""
        deadline = time.monotonic() + timeout
        while True:
            evs = []
            try:
                with open(os.path.join(self.data_dir, 'events.jsonl')) as f:
                    for line in f:
                        if line.endswith('\n'):
                            e = json.loads(line)
                            # The harness's own readiness probes are not part of any test.
                            if (not include_probes
                                    and (e.get('src_ip'), e.get('src_port'), e.get('dst_port'))
                                    in self.probes):
                                continue
                            evs.append(e)
            except FileNotFoundError:
                pass
            if wait_for is None:
                break
            wid, pred = wait_for
            if any(e['eventid'] == wid and (pred is None or pred(e)) for e in evs):
                break
            if time.monotonic() > deadline:
                raise AssertionError('no %s event within %ss' % (wid, timeout))
            time.sleep(0.05)  # spaces the reads of the file
        if eventid:
            evs = [e for e in evs if e['eventid'] == eventid]
        return evs


IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240


class TelnetBot:
    """A raw Telnet client that behaves like Mirai's scanner and loader: it answers option
    negotiation exactly as consume_iacs() does (DO NAWS -> WILL NAWS + 80x24, other DO -> WONT,
    WILL -> DO), waits for prompt characters, and keeps every byte the server sent."""

    def __init__(self, port, host='127.0.0.1', timeout=10, source=None):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.timeout = timeout
        self.raw = bytearray()      # every byte from the server
        self.text = bytearray()     # data with Telnet commands removed
        self.first_byte = None
        self._pending = bytearray()
        self.closed = False
        self.pos = 0                # how much of text the waits have consumed

    def _feed(self, data):
        if self.first_byte is None and data:
            self.first_byte = data[0]
        self.raw += data
        buf = self._pending + data
        self._pending = bytearray()
        i = 0
        out = bytearray()
        while i < len(buf):
            b = buf[i]
            if b != IAC:
                out.append(b)
                i += 1
                continue
            if i + 1 >= len(buf):
                self._pending = buf[i:]
                break
            cmd = buf[i + 1]
            if cmd == IAC:
                out.append(IAC)
                i += 2
            elif cmd in (DO, DONT, WILL, WONT):
                if i + 2 >= len(buf):
                    self._pending = buf[i:]
                    break
                opt = buf[i + 2]
                if cmd == DO and opt == 31:
                    self.sock.sendall(bytes([IAC, WILL, 31, IAC, SB, 31, 0, 80, 0, 24, IAC, SE]))
                elif cmd == DO:
                    self.sock.sendall(bytes([IAC, WONT, opt]))
                elif cmd == WILL:
                    self.sock.sendall(bytes([IAC, DO, opt]))
                i += 3
            elif cmd == SB:
                j = buf.find(bytes([IAC, SE]), i + 2)
                if j < 0:
                    self._pending = buf[i:]
                    break
                i = j + 2
            else:
                i += 2
        self.text += out

    def recv_some(self, timeout=None):
        self.sock.settimeout(timeout if timeout is not None else self.timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return b''
        except ConnectionResetError:
            self.closed = True
            return b''
        if not data:
            self.closed = True
            return b''
        self._feed(data)
        return data

    def read_until(self, pred, timeout=None):
        """Reads until pred(unconsumed text) is true; consumes and returns all of it."""
        start = self.pos
        deadline = time.monotonic() + (timeout or self.timeout)
        while not pred(bytes(self.text[start:])):
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                raise AssertionError('timed out waiting; got %r' % bytes(self.text[start:])[-500:])
            self.recv_some(min(left, 1.0))
        self.pos = len(self.text)
        return bytes(self.text[start:])

    def read_until_token(self, token, timeout=None):
        """Reads until token appears; consumes the text up to the end of the token only, so
        what followed it in the same segment is there for the next wait."""
        start = self.pos
        self.read_until(lambda t: token in t, timeout)
        end = self.text.index(token, start) + len(token)
        self.pos = end
        return bytes(self.text[start:end])

    def read_prompt(self, chars=b':>$#%', timeout=None):
        """Like Mirai: read until the last non-space byte is a prompt character."""
        return self.read_until(lambda t: len(t.rstrip()) > 0 and t.rstrip()[-1:] in [bytes([c]) for c in chars], timeout)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def sendline(self, line):
        self.send((line if isinstance(line, bytes) else line.encode()) + b'\r\n')

    def command(self, line, token):
        """Sends `line; /bin/busybox TOKEN` and returns the output before `TOKEN: applet not found`."""
        self.sendline(line + '; /bin/busybox ' + token if line else '/bin/busybox ' + token)
        out = self.read_until_token(token.encode() + b': applet not found')
        return out.split(token.encode() + b': applet not found')[0]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0

    def _line(self, ok, test, detail='', name=None):
        self.n += 1
        if name is None:
            name = '%s.%s' % (type(test).__name__, test._testMethodName) if hasattr(test, '_testMethodName') else str(test)
        print('%s %d - %s' % ('ok' if ok else 'not ok', self.n, name), flush=True)
        if detail:
            sys.stderr.write('--- %s\n%s\n' % (name, detail))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test, self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        # A failed subtest fails its test, which then reports neither success nor failure
        # itself: without its own line it would only turn the exit status to 1, unexplained.
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._line(False, subtest, self._exc_info_to_string(err, test),
                       name='%s.%s %s' % (type(test).__name__, test._testMethodName,
                                          subtest._subDescription()))

    def addSkip(self, test, reason):
        # A skipped test did not run and is not counted; say so on stderr.
        super().addSkip(test, reason)
        sys.stderr.write('skipped %s: %s\n' % (test, reason))

    def addExpectedFailure(self, test, err):
        self._line(False, test, 'expected failures are not allowed')

    def addUnexpectedSuccess(self, test):
        self._line(False, test, 'unexpected success')


def main():
    module = sys.modules['__main__']
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    if len(sys.argv) > 1:
        suite = unittest.TestSuite(t for t in _flatten(suite) if any(a in t.id() for a in sys.argv[1:]))
    result = TapResult()
    suite.run(result)
    print('1..%d' % result.n)
    sys.exit(0 if result.wasSuccessful() else 1)


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t
