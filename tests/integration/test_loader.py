"""The Mirai loader's whole dialogue against every profile (issue 13), with a client that reads
as the real loader does (tests/integration/mirai_loader.py): a fixed 8188-byte buffer, no
draining after "ELF". It completes only if the sensor hands out bulk output the way a device's
telnetd does (writes of about 2 KB at the device's pace). Both upload paths (wget from a
loopback HTTP server, and echo lines) on every profile; the droppers must be stored byte-exact
and the CPU found must be the profile's."""
import hashlib
import http.server
import os
import random
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from mirai_loader import LoaderClient  # noqa: E402

PROFILES = {  # name: (user, password, the loader's name for its CPU)
    'dvr-hi3520d': ('root', 'xc3511', 'arm7'),
    'router-mt7620': ('admin', 'admin', 'mpsl'),
    'router-rtl8196c': ('admin', 'admin', 'mips'),
    'stb-stx7111': ('root', 'x', 'sh4'),
}
MACHINES = {'arm': (1, 40), 'arm7': (1, 40), 'mips': (2, 8), 'mpsl': (1, 8), 'sh4': (1, 42),
            'x86': (1, 3), 'ppc': (2, 20), 'spc': (2, 2), 'm68k': (2, 4)}


def payload(kind, arch):
    """Made-up bytes (not a program) behind a well-formed ELF header for arch: the loader's
    `dlr.ARCH` (echo) or `mirai.ARCH` (wget)."""
    data, machine = MACHINES[arch]
    order = 'little' if data == 1 else 'big'
    rnd = random.Random('%s.%s' % (kind, arch))
    size = 1500 if kind == 'dlr' else 60000
    body = bytearray(rnd.getrandbits(8) for _ in range(size))
    u16 = lambda v: v.to_bytes(2, order)  # noqa: E731
    u32 = lambda v: v.to_bytes(4, order)  # noqa: E731
    hdr = b'\x7fELF\x01' + bytes([data, 1]) + bytes(9)
    hdr += u16(2) + u16(machine) + u32(1) + u32(0x400000 + rnd.randrange(0x1000)) + u32(52)
    hdr += u32(0) + u32(0) + u16(52) + u16(32) + u16(2) + u16(40) + u16(0) + u16(0)
    body[:len(hdr)] = hdr
    return bytes(body)


def pace_of(name):
    """[telnet] write_size and throughput of a profile (the defaults when absent)."""
    write, rate = 2026, 1048576
    with open(os.path.join(harness.ROOT, 'profiles', name, 'profile.ini')) as f:
        for line in f:
            k, _, v = line.partition('=')
            if k.strip() == 'write_size':
                write = int(v)
            elif k.strip() == 'throughput':
                rate = int(v)
    return write, rate


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Bins(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.rsplit('/', 1)[-1]
        if not self.path.startswith('/bins/mirai.') or name.split('.', 1)[1] not in MACHINES:
            self.send_error(404)
            return
        body = payload('mirai', name.split('.', 1)[1])
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class LoaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.http = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Bins)
        threading.Thread(target=cls.http.serve_forever, daemon=True).start()
        cls.ports = {name: harness.free_port() for name in PROFILES}
        cls.sensor = harness.Sensor(
            listens=['telnet@127.0.0.1:%d/%s' % (port, name) for name, port in cls.ports.items()],
            sets=['capture.allow_private=true', 'box.auto=false'])
        cls.sensor.start()

    @classmethod
    def tearDownClass(cls):
        cls.sensor.stop()
        cls.sensor.cleanup()
        cls.http.shutdown()
        cls.http.server_close()

    def dialogue(self, name, method):
        """One loader run. Like the real loader, the client stalls if the read that sees "ELF"
        fills its buffer, which a paced sender prevents unless the client itself was slow to
        read (a loaded test machine). So a stall fails the test when that read holds more than
        the profile's pace allows for the time the client took; a stall explained by the
        client's own delay is retried (twice at most)."""
        user, password, arch = PROFILES[name]
        write, rate = pace_of(name)
        for attempt in range(3):
            c = LoaderClient(self.ports[name], user=user, password=password, method=method,
                             wget_port=self.http.server_address[1], payloads=payload,
                             enter_delay=0.2).run(timeout=60)
            why = ('stages %s; stalled=%s, largest read %d, read that saw ELF (held, room) %s, '
                   '(bytes, seconds since empty) %s' % (c.history, c.stalled, c.max_read,
                                                        c.arch_read, c.arch_window))
            if not c.stalled:
                break
            got, window = c.arch_window
            # what a sender at the profile's pace can deliver in that time, plus one write
            # of slack for timer granularity
            self.assertLessEqual(got, 2 * write + rate * window, 'sent faster than paced: ' + why)
        self.assertFalse(c.stalled, why)
        self.assertEqual(c.history[-1], 'closed', why)
        self.assertEqual(c.uploads[0], (method, arch), why)
        return c

    def check(self, name):
        wget = self.dialogue(name, 'wget')
        echo = self.dialogue(name, 'echo')
        for _, arch in wget.uploads:
            want = sha(payload('mirai', arch))
            self.sensor.events(wait_for=('mitsu.session.file_download',
                                         lambda e, w=want: e['shasum'] == w))
        for _, arch in echo.uploads:
            want = sha(payload('dlr', arch))
            self.sensor.events(wait_for=('mitsu.session.file_upload',
                                         lambda e, w=want: e['shasum'] == w and e['method'] == 'echo'))

    def test_dvr_hi3520d(self):
        self.check('dvr-hi3520d')

    def test_router_mt7620(self):
        self.check('router-mt7620')

    def test_router_rtl8196c(self):
        self.check('router-rtl8196c')

    def test_stb_stx7111(self):
        self.check('stb-stx7111')


if __name__ == '__main__':
    harness.main()
