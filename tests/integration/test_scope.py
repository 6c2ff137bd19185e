"""mitsu scope end to end: captures with known content written here (every link type, pcap in
both byte orders and time precisions, pcapng, gzip/xz/zstd, truncated and corrupt files), every
number of the report checked against the content; OS labels against the real `p0f -r`, countries
and AS numbers against the real `location lookup`; charts, CSV, the store, threads, and a live
capture inside a network namespace this test creates."""
import gzip
import ipaddress
import json
import lzma
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DARK = '198.18.0.0/24'
DARK6 = '2001:db8::/32'
T0 = 1700002800  # 2023-11-14T23:00:00Z, on an hour boundary
P0F_FP = '/etc/p0f/p0f.fp'


# ---------------------------------------------------------------- packets

def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def a4(s):
    return socket.inet_aton(s)


def ipv4(src, dst, proto, payload, ttl=64, ipid=1, df=False, tos=0, ipopts=b'', mbz=False, frag=0, mf=False):
    opts = ipopts
    ihl = (20 + len(opts)) // 4
    flags = (0x4000 if df else 0) | (0x8000 if mbz else 0) | (0x2000 if mf else 0) | frag
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, tos, 20 + len(opts) + len(payload), ipid, flags, ttl, proto, 0,
                    a4(src), a4(dst)) + opts
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def l4sum(src, dst, proto, seg):
    return csum(a4(src) + a4(dst) + struct.pack('!BBH', 0, proto, len(seg)) + seg)


def tcp(src, dst, sport, dport, seq=0, ack=0, flags=0x02, win=1024, opts=b'', payload=b'', urg=0, doff_low=0,
        **ip):
    doff = (20 + len(opts)) // 4
    seg = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, doff << 4 | doff_low, flags, win, 0, urg) + opts + payload
    seg = seg[:16] + struct.pack('!H', l4sum(src, dst, 6, seg)) + seg[18:]
    return ipv4(src, dst, 6, seg, **ip)


def udp(src, dst, sport, dport, payload=b'x' * 8, **ip):
    seg = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    seg = seg[:6] + struct.pack('!H', l4sum(src, dst, 17, seg) or 0xffff) + seg[8:]
    return ipv4(src, dst, 17, seg, **ip)


def icmp(src, dst, typ, code=0, rest=0, payload=b'', **ip):
    m = struct.pack('!BBHI', typ, code, 0, rest) + payload
    m = m[:2] + struct.pack('!H', csum(m)) + m[4:]
    return ipv4(src, dst, 1, m, **ip)


def udp6(src, dst, sport, dport, payload=b'y' * 8):
    s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    seg = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    ps = s6 + d6 + struct.pack('!IxxxB', len(seg), 17)
    seg = seg[:6] + struct.pack('!H', csum(ps + seg) or 0xffff) + seg[8:]
    return struct.pack('!IHBB', 0x60000000, len(seg), 17, 64) + s6 + d6 + seg


def is6(pkt):
    return pkt[0] >> 4 == 6


def frame(link, pkt):
    et = 0x86dd if is6(pkt) else 0x0800
    mac = b'\x02\x00\x5e\x10\x00\x01\x02\x00\x5e\x20\x00\x02'
    if link == 'ether':
        return mac + struct.pack('!H', et) + pkt
    if link == 'vlan':
        return mac + struct.pack('!HHH', 0x8100, 7, et) + pkt
    if link == 'qinq':
        return mac + struct.pack('!HHHHH', 0x88a8, 100, 0x8100, 7, et) + pkt
    if link == 'raw':
        return pkt
    if link == 'sll':
        return struct.pack('!HHH8sH', 0, 1, 6, b'\x02\x00\x5e\x10\x00\x01\0\0', et) + pkt
    if link == 'sll2':
        return struct.pack('!HHIHBB8s', et, 0, 2, 1, 0, 6, b'\x02\x00\x5e\x10\x00\x01\0\0') + pkt
    raise ValueError(link)


LINKTYPE = {'ether': 1, 'vlan': 1, 'qinq': 1, 'raw': 101, 'sll': 113, 'sll2': 276}
ARP = b'\xff' * 6 + b'\x02\x00\x5e\x20\x00\x02' + b'\x08\x06' + bytes(28)


def pcap_bytes(records, linktype=1, nano=False, big=False):
    """records: [(ts_float_or_(sec, frac), frame)]"""
    e = '>' if big else '<'
    out = [struct.pack(e + 'IHHiIII', 0xa1b23c4d if nano else 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype)]
    for ts, fr in records:
        sec, frac = ts if isinstance(ts, tuple) else (int(ts), round((ts - int(ts)) * (1e9 if nano else 1e6)))
        out.append(struct.pack(e + 'IIII', sec, frac, len(fr), len(fr)) + fr)
    return b''.join(out)


def pcapng_bytes(records, linktype=1):
    def block(btype, body):
        body += b'\0' * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack('<II', btype, n) + body + struct.pack('<I', n)
    out = [block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1)),
           # Interface with if_tsresol = 9 (nanoseconds).
           block(1, struct.pack('<HHI', linktype, 0, 65535) + struct.pack('<HHB3x', 9, 1, 9) + struct.pack('<HH', 0, 0))]
    for ts, fr in records:
        ns = int(round(ts * 1e9)) if not isinstance(ts, tuple) else ts[0] * 10**9 + ts[1] * 1000
        body = struct.pack('<IIIII', 0, ns >> 32, ns & 0xffffffff, len(fr), len(fr)) + fr
        out.append(block(6, body))
    return b''.join(out)


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return path


# ---------------------------------------------------------------- the scenario

def dark(i):
    return str(ipaddress.ip_address('198.18.0.0') + i)


def masscan_id(dst, dport, seq):
    return (int(ipaddress.ip_address(dst)) ^ dport ^ seq) & 0xffff


LINUX_OPTS = bytes([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
WIN_OPTS = bytes([2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2])


def scenario():
    """The known content: [(ts, ip packet or ('arp',))] and the facts the report must state.
    Sources use documentation-style public-looking addresses; nothing is ever sent."""
    pk = []
    A, B = T0, T0 + 3600  # two intervals
    # Mirai: seq = destination.
    for i in range(5):
        d = dark(10 + i)
        pk.append((A + 10 + i, tcp('203.0.113.1', d, 40000, 23 if i < 4 else 2323, seq=int(ipaddress.ip_address(d)), win=5000, ipid=100 + i)))
    for i in range(3):
        d = dark(20 + i)
        pk.append((A + 20 + i, tcp('203.0.113.2', d, 41000, 23, seq=int(ipaddress.ip_address(d)), win=6000, ipid=200 + i)))
    for i in range(2):
        d = dark(30 + i)
        pk.append((B + 20 + i, tcp('203.0.113.2', d, 41000, 23, seq=int(ipaddress.ip_address(d)), win=6000, ipid=300 + i)))
    d = dark(40)
    pk.append((B + 30, tcp('203.0.113.3', d, 42000, 2323, seq=int(ipaddress.ip_address(d)), win=7000, ipid=7)))
    # ZMap: IP ID 54321.
    for i in range(4):
        pk.append((A + 40 + i, tcp('198.51.100.7', dark(50 + i), 50000, 443, seq=1000 + i, win=65535, ipid=54321, ttl=250)))
    # masscan: IP ID = dst ^ dport ^ seq.
    for i in range(3):
        d, seq = dark(60 + i), 0x1234567 * (i + 1)
        pk.append((A + 50 + i, tcp('198.51.100.8', d, 61000, 3389, seq=seq, win=1024, ipid=masscan_id(d, 3389, seq), ttl=240)))
    # One chance ZMap IP ID among three SYNs: not ZMap.
    for i in range(3):
        pk.append((A + 60 + i, tcp('198.51.100.9', dark(70 + i), 52000 + i, 8443, seq=77 + i, win=29200,
                                   ipid=54321 if i == 0 else 9 + i, ttl=60)))
    # Linux and Windows SYNs (p0f: "Linux 3.11 and newer", "Windows 7 or 8").
    for i in range(2):
        pk.append((A + 70 + i, tcp('192.0.2.10', dark(80 + i), 45000 + i, 22, seq=555 + i, win=29200, opts=LINUX_OPTS, df=True, ipid=4000 + i, ttl=52)))
    pk.append((A + 75, tcp('192.0.2.11', dark(82), 50001, 445, seq=999, win=8192, opts=WIN_OPTS, df=True, ipid=5000, ttl=117)))
    # Scanner: 100 distinct destinations on 8080/tcp in interval A (the threshold).
    for i in range(100):
        pk.append((A + 100 + i * 0.5, tcp('192.0.2.20', dark(100 + i), 33000, 8080, seq=10 + i, win=1024, ipid=11 + i, ttl=230)))
    # Not a scanner: 99 distinct destinations on 8081/tcp, then 21 repeats.
    for i in range(120):
        pk.append((A + 200 + i * 0.5, tcp('192.0.2.21', dark(100 + min(i, 98)), 33001, 8081, seq=20 + i, win=1024, ipid=31 + i, ttl=230)))
    # UDP and ICMP echo requests.
    pk.append((A + 300, udp('192.0.2.30', dark(5), 5353, 53)))
    pk.append((A + 301, udp('192.0.2.30', dark(6), 5353, 53)))
    pk.append((A + 302, udp('192.0.2.30', dark(7), 5353, 123)))
    pk.append((B + 5, icmp('192.0.2.31', dark(8), 8, rest=0x00010001, payload=b'ping')))
    pk.append((B + 6, icmp('192.0.2.31', dark(9), 8, rest=0x00010002, payload=b'ping')))
    # Backscatter. Victim 1: 70 SYN-ACKs, one a second from 80/tcp: an attack.
    for i in range(70):
        pk.append((A + 400 + i, tcp('192.0.2.40', dark(150 + i % 50), 80, 1024 + i, seq=9 + i, ack=77 + i, flags=0x12, win=14600, df=True)))
    # Victim 2: 10 RSTs: below the thresholds.
    for i in range(10):
        pk.append((A + 600 + i, tcp('192.0.2.41', dark(200 + i), 80, 2000 + i, seq=0, ack=5 + i, flags=0x14, win=0)))
    # Victim 3 through a router's ICMP port unreachable errors quoting (dark -> victim 3): an attack.
    for i in range(65):
        quoted = udp(dark(210 + i % 20), '192.0.2.42', 3000 + i, 53)[:28]
        pk.append((A + 700 + i, icmp('192.0.2.43', dark(210 + i % 20), 3, 3, payload=quoted)))
    # Not to the darknet, not IP, IPv6 to the IPv6 darknet.
    for i in range(5):
        pk.append((A + 800 + i, tcp('192.0.2.50', '10.1.2.3', 1000, 23, seq=1)))
    pk.append((A + 810, ('arp',)))
    pk.append((A + 820, udp6('2001:db8:1::5', '2001:db8::99', 1111, 53)))
    pk.append((B + 900, udp6('2001:db8:1::6', '2001:db8::99', 1111, 53)))
    pk.sort(key=lambda x: x[0])
    return pk


def frames_of(pk, link):
    return [(ts, ARP if p == ('arp',) else frame(link, p)) for ts, p in pk if not (link == 'raw' and p == ('arp',))]


def mitsu_json(*args, check=True):
    p = harness.run_mitsu('scope', '--format', 'json', '--no-progress', *args, check=check)
    return p, (json.loads(p.stdout) if p.stdout.strip() else None)


def strip_volatile(d):
    d = json.loads(json.dumps(d))
    for k in ('seconds', 'memory', 'inputs'):
        d.pop(k, None)
    return d


class ScenarioTest(unittest.TestCase):
    """One capture, every number of the report."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='mitsu-scope-')
        cls.pk = scenario()
        cls.path = write(os.path.join(cls.tmp, 'scenario.pcap'), pcap_bytes(frames_of(cls.pk, 'ether')))
        p, cls.r = mitsu_json('--darknet', DARK + ',' + DARK6, '--no-geo', '--p0f', P0F_FP, cls.path)
        cls.stderr = p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def dark_packets(self):
        out = []
        for ts, p in self.pk:
            if p == ('arp',):
                continue
            if is6(p):
                out.append((ts, p))
            elif ipaddress.ip_address(p[16:20]) in ipaddress.ip_network(DARK):
                out.append((ts, p))
        return out

    def test_totals(self):
        r, d = self.r, self.dark_packets()
        self.assertEqual(r['frames'], len(self.pk))
        self.assertEqual(r['packets'], len(d))
        self.assertEqual(r['bytes'], sum(len(p) for _, p in d))
        self.assertEqual(r['not_dark'], {'packets': 5, 'bytes': 5 * 40})
        self.assertEqual(r['not_ip'], 1)
        self.assertEqual(r['malformed'], 0)
        self.assertEqual(r['first_ts'], '2023-11-14T23:00:10.000000Z')
        self.assertEqual(r['last_ts'], '2023-11-15T00:15:00.000000Z')
        v4 = {socket.inet_ntoa(p[12:16]) for _, p in d if not is6(p)}
        self.assertEqual(r['unique_sources'], len(v4) + 2)
        self.assertEqual(r['unique_sources_ipv6'], 2)
        hit = {p[16:20] for _, p in d if not is6(p)}
        self.assertEqual(r['dark']['addresses'], 256)
        self.assertEqual(r['dark']['hit'], len(hit))
        self.assertAlmostEqual(r['dark']['packets_per_address'], len(d) / 256)
        self.assertEqual(r['errors'], [])
        self.assertTrue(r['limits']['exact'])

    def test_classes_and_ports(self):
        r, d = self.r, self.dark_packets()
        syn = [p for _, p in d if not is6(p) and p[9] == 6 and p[33] & 0x17 == 0x02]
        self.assertEqual(r['classes']['tcp_syn'], len(syn))
        self.assertEqual(r['classes']['tcp_backscatter'], 80)
        self.assertEqual(r['classes']['udp'], 5)  # three IPv4, two IPv6
        self.assertEqual(r['classes']['icmp'], 67)
        self.assertEqual(r['classes']['tcp_other'], 0)
        self.assertEqual(r['classes']['other'], 0)
        # Expected ports from the packets themselves.
        want = {}
        for _, p in d:
            if is6(p):
                key, src = ('udp', struct.unpack('!H', p[42:44])[0]), p[8:24]
            elif p[9] == 6:
                if p[33] & 0x17 != 0x02:
                    continue
                key, src = ('tcp', struct.unpack('!H', p[22:24])[0]), p[12:16]
            elif p[9] == 17:
                key, src = ('udp', struct.unpack('!H', p[22:24])[0]), p[12:16]
            else:
                key, src = ('icmp', p[20]), p[12:16]
            e = want.setdefault(key, [0, set()])
            e[0] += 1
            e[1].add(src)
        got = {(x['proto'], x['port']): [x['packets'], x['sources']] for x in r['ports']}
        self.assertEqual(got, {k: [v[0], len(v[1])] for k, v in want.items()})
        self.assertEqual(got[('tcp', 23)], [9, 2])
        self.assertEqual(got[('tcp', 2323)], [2, 2])
        self.assertEqual(r['telnet']['packets'], 11)
        self.assertAlmostEqual(r['telnet']['share'], 11 / r['packets'])
        for x in r['ports']:
            self.assertAlmostEqual(x['share'], x['packets'] / r['packets'])

    def test_labels(self):
        r = self.r
        self.assertEqual(r['mirai'], {'sources': 3, 'packets': 11})
        self.assertEqual(r['zmap'], {'sources': 1, 'packets': 4})
        self.assertEqual(r['masscan'], {'sources': 1, 'packets': 3})

    def test_intervals(self):
        r, d = self.r, self.dark_packets()
        self.assertEqual([i['start'] for i in r['intervals']], ['2023-11-14T23:00:00.000000Z', '2023-11-15T00:00:00.000000Z'])
        for iv, lo in zip(r['intervals'], (T0, T0 + 3600)):
            mine = [p for ts, p in d if lo <= ts < lo + 3600]
            self.assertEqual(iv['packets'], len(mine))
            self.assertEqual(iv['bytes'], sum(len(p) for p in mine))
            self.assertEqual(iv['sources'], len({p[8:24] if is6(p) else p[12:16] for p in mine}))
            self.assertEqual(sum(x['packets'] for x in iv['ports']) + iv['ports_rest_packets'],
                             sum(iv['classes'][c] for c in ('tcp_syn', 'udp', 'icmp')))
            self.assertEqual(iv['start_unix'], lo)
        a, b = r['intervals']
        self.assertEqual(a['mirai'], {'sources': 2, 'packets': 8})
        self.assertEqual(b['mirai'], {'sources': 2, 'packets': 3})
        self.assertEqual(a['telnet']['packets'], 8)
        self.assertEqual(b['telnet']['packets'], 3)
        self.assertEqual(a['scanners'], 1)
        self.assertEqual(b['scanners'], 0)
        self.assertEqual(a['backscatter'], {'packets': 145, 'victims': 3})

    def test_scanners(self):
        s = self.r['scanners']
        self.assertEqual(s['count'], 1)
        self.assertEqual(s['sources'], 1)
        self.assertEqual(s['min_dests'], 100)
        top = s['top'][0]
        self.assertEqual((top['source'], top['proto'], top['port']), ('192.0.2.20', 'tcp', 8080))
        self.assertEqual(top['packets'], 100)
        self.assertEqual(top['dests'], 100)
        self.assertEqual(top['first'], '2023-11-14T23:01:40.000000Z')
        self.assertEqual(top['last'], '2023-11-14T23:02:29.000000Z')
        self.assertAlmostEqual(top['coverage'], 100 / 256)

    def test_backscatter(self):
        b = self.r['backscatter']
        self.assertEqual(b['packets'], 145)
        self.assertEqual(b['victim_addresses'], 3)
        self.assertEqual(b['victims'], 2)
        att = {a['victim']: a for a in b['attacks']}
        self.assertEqual(set(att), {'192.0.2.40', '192.0.2.42'})
        v1 = att['192.0.2.40']
        self.assertEqual((v1['packets'], v1['kinds'], v1['seconds']), (70, ['syn-ack'], 69.0))
        self.assertEqual(v1['start'], '2023-11-14T23:06:40.000000Z')
        self.assertEqual(v1['max_ppm'], 60)
        self.assertAlmostEqual(v1['est_peak_pps'], 60 / 60 * 2**32 / 256)
        v3 = att['192.0.2.42']
        self.assertEqual((v3['packets'], v3['kinds']), (65, ['icmp']))

    def test_os(self):
        o = self.r['os']
        self.assertEqual(o['labels'].get('Linux 3.11 and newer'), 1)
        self.assertEqual(o['labels'].get('Windows 7 or 8'), 1)
        syn_sources = o['syn_sources']
        self.assertEqual(sum(o['labels'].values()) + sum(o['apps'].values()), syn_sources)
        self.assertEqual(sum(o['families'].values()), syn_sources)
        # Mirai (TTL 64), 198.51.100.9 (TTL 60): unix by TTL; ZMap, masscan, scanners: network.
        self.assertEqual(o['families']['windows'], 1)
        self.assertEqual(o['families']['network'], 4)
        self.assertEqual(o['families']['unix'], syn_sources - 5)


class FormatsTest(unittest.TestCase):
    """The same content through every link type, file format and compression gives the same
    report."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='mitsu-scope-')
        cls.pk = scenario()
        base = write(os.path.join(cls.tmp, 'base.pcap'), pcap_bytes(frames_of(cls.pk, 'ether')))
        _, cls.base = mitsu_json('--darknet', DARK + ',' + DARK6, '--no-geo', base)
        cls.base = strip_volatile(cls.base)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def same(self, path, drop_arp=False):
        _, r = mitsu_json('--darknet', DARK + ',' + DARK6, '--no-geo', path)
        r = strip_volatile(r)
        want = dict(self.base)
        if drop_arp:
            want['frames'] -= 1
            want['not_ip'] -= 1
        self.assertEqual(r, want)

    def test_link_types(self):
        for link in ('vlan', 'qinq', 'raw', 'sll', 'sll2'):
            with self.subTest(link=link):
                p = write(os.path.join(self.tmp, link + '.pcap'), pcap_bytes(frames_of(self.pk, link), LINKTYPE[link]))
                self.same(p, drop_arp=link == 'raw')

    def test_byte_orders_and_precisions(self):
        for nano in (False, True):
            for big in (False, True):
                with self.subTest(nano=nano, big=big):
                    p = write(os.path.join(self.tmp, 'f%d%d.pcap' % (nano, big)),
                              pcap_bytes(frames_of(self.pk, 'ether'), 1, nano, big))
                    self.same(p)

    def test_pcapng(self):
        self.same(write(os.path.join(self.tmp, 'x.pcapng'), pcapng_bytes(frames_of(self.pk, 'ether'))))

    def test_compressed(self):
        raw = pcap_bytes(frames_of(self.pk, 'sll'), LINKTYPE['sll'])
        self.same(write(os.path.join(self.tmp, 'x.pcap.gz'), gzip.compress(raw)))
        self.same(write(os.path.join(self.tmp, 'x.pcap.xz'), lzma.compress(raw)))
        src = write(os.path.join(self.tmp, 'z.pcap'), raw)
        subprocess.run(['zstd', '-q', '-f', src, '-o', src + '.zst'], check=True)
        self.same(src + '.zst')
        ng = pcapng_bytes(frames_of(self.pk, 'ether'))
        self.same(write(os.path.join(self.tmp, 'x.pcapng.gz'), gzip.compress(ng)))

    def test_several_files_in_time_order(self):
        """Split in three and given out of order: the files are read by their first packet."""
        fr = frames_of(self.pk, 'ether')
        parts = [fr[:100], fr[100:300], fr[300:]]
        paths = [write(os.path.join(self.tmp, 'part%d.pcap' % i), pcap_bytes(x)) for i, x in enumerate(parts)]
        _, r = mitsu_json('--darknet', DARK + ',' + DARK6, '--no-geo', paths[2], paths[0], paths[1])
        self.assertEqual(r['inputs'], paths)
        self.assertEqual(strip_volatile(r), self.base)

    def test_threads_give_the_same_report(self):
        p = write(os.path.join(self.tmp, 't.pcap'), pcap_bytes(frames_of(self.pk, 'ether')))
        for n in ('2', '3'):
            _, r = mitsu_json('--threads', n, '--darknet', DARK + ',' + DARK6, '--no-geo', p)
            self.assertEqual(strip_volatile(r), self.base)

    def test_bpf_filter(self):
        p = write(os.path.join(self.tmp, 'f.pcap'), pcap_bytes(frames_of(self.pk, 'ether')))
        for path in (p, write(os.path.join(self.tmp, 'f.pcapng'), pcapng_bytes(frames_of(self.pk, 'ether')))):
            _, r = mitsu_json('--darknet', DARK, '--no-geo', '--filter', 'tcp dst port 23', path)
            self.assertEqual(r['packets'], 9)
            self.assertEqual(r['frames'], 9 + 5)  # the five non-dark packets to 23/tcp pass the filter
            self.assertEqual([(x['proto'], x['port']) for x in r['ports']], [('tcp', 23)])


class BrokenFilesTest(unittest.TestCase):
    """A truncated or corrupt file: a clear error, the statistics up to that point, exit 1."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='mitsu-scope-')
        cls.frames = frames_of(scenario(), 'ether')
        cls.full = pcap_bytes(cls.frames)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def offset_of(self, n):
        """Byte offset of record n in the classic pcap."""
        off = 24
        for _, fr in self.frames[:n]:
            off += 16 + len(fr)
        return off

    def check(self, path, n_complete, message):
        p, r = mitsu_json('--no-geo', path, check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, message)
        self.assertEqual(r['frames'], n_complete)
        self.assertEqual(len(r['errors']), 1)
        self.assertRegex(r['errors'][0], message)

    def test_truncated_inside_a_record(self):
        cut = self.offset_of(200) + 16 + 10
        self.check(write(os.path.join(self.tmp, 'cut.pcap'), self.full[:cut]), 200,
                   r'cut\.pcap: truncated record at byte %d' % self.offset_of(200))

    def test_truncated_inside_a_header(self):
        cut = self.offset_of(50) + 7
        self.check(write(os.path.join(self.tmp, 'cut2.pcap'), self.full[:cut]), 50, r'truncated record header')

    def test_corrupt_record_header(self):
        off = self.offset_of(120)
        bad = bytearray(self.full)
        bad[off + 8:off + 12] = struct.pack('<I', 0x7fffffff)
        self.check(write(os.path.join(self.tmp, 'bad.pcap'), bytes(bad)), 120, r'corrupt record header')

    def test_truncated_gzip_and_pcapng(self):
        gz = gzip.compress(self.full)
        p, r = mitsu_json('--no-geo', write(os.path.join(self.tmp, 'cut.pcap.gz'), gz[:len(gz) * 2 // 3]), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r'cut\.pcap\.gz: ')
        self.assertGreater(r['frames'], 100)
        self.assertLess(r['frames'], len(self.frames))
        ng = pcapng_bytes(self.frames)
        p, r = mitsu_json('--no-geo', write(os.path.join(self.tmp, 'cut.pcapng'), ng[:len(ng) // 2 + 3]), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r'cut\.pcapng: .*truncated')
        self.assertGreater(r['frames'], 50)

    def test_not_a_capture_and_missing(self):
        good = write(os.path.join(self.tmp, 'good.pcap'), self.full)
        junk = write(os.path.join(self.tmp, 'junk.pcap'), b'this is not a capture file at all\n' * 10)
        p, r = mitsu_json('--no-geo', junk, os.path.join(self.tmp, 'missing.pcap'), good, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('junk.pcap', p.stderr)
        self.assertIn('missing.pcap: No such file', p.stderr)
        self.assertEqual(r['frames'], len(self.frames))
        self.assertEqual(len(r['errors']), 2)

    def test_garbage_records_never_crash(self):
        rnd = random.Random(4)
        for i in range(30):
            body = bytearray(self.full[:4000])
            for _ in range(40):
                body[rnd.randrange(24, len(body))] = rnd.randrange(256)
            p, r = mitsu_json('--no-geo', write(os.path.join(self.tmp, 'g%d.pcap' % i), bytes(body)), check=False)
            self.assertIn(p.returncode, (0, 1))
            self.assertIsNotNone(r)

    def test_usage_errors(self):
        self.assertEqual(harness.run_mitsu('scope', check=False).returncode, 2)
        self.assertEqual(harness.run_mitsu('scope', '--darknet', '300.1.1.1/8', 'x', check=False).returncode, 2)
        self.assertEqual(harness.run_mitsu('scope', '--interval', '0', 'x', check=False).returncode, 2)
        self.assertEqual(harness.run_mitsu('scope', '--format', 'xml', 'x', check=False).returncode, 2)
        self.assertEqual(harness.run_mitsu('scope', '--p0f', '/nonexistent', 'x', check=False).returncode, 2)



# ---------------------------------------------------------------- p0f

def p0f_request_sigs(path=P0F_FP):
    """[(label line, sig text)] of the [tcp:request] section."""
    out, section, label = [], None, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(';'):
                continue
            if line.startswith('['):
                section = line
                continue
            if section != '[tcp:request]':
                continue
            key, _, val = line.partition('=')
            key, val = key.strip(), val.strip()
            if key == 'label':
                label = val
            elif key == 'sig':
                out.append((label, val))
    return out


def syn_for_sig(sig, src, dst, rnd):
    """An IPv4 SYN that p0f would read as `sig`, or None when one cannot be built (IPv6-only,
    options that need padding, quirks a SYN cannot have)."""
    ver, ittl, olen, mss, wsz, olayout, quirks, pclass = sig.split(':')
    wsize, scale = wsz.split(',')
    if ver == '6':
        return None
    quirks = set(q for q in quirks.split(',') if q)
    if quirks & {'flow', 'ack-'}:
        return None
    ttl = int(re.match(r'\d+', ittl).group()) - 3
    if '+' in ittl:
        ttl = int(ittl.split('+')[0]) - 3
    olen = int(olen)
    if olen % 4:
        return None
    layout = [o for o in olayout.split(',') if o]
    mss_v = None if mss == '*' else int(mss)
    if 'mss' not in layout:
        if mss_v not in (None, 0):
            return None
        mss_v = 0
    elif mss_v is None:
        mss_v = 1460
    scale_v = None if scale == '*' else int(scale)
    if 'ws' not in layout:
        if scale_v not in (None, 0):
            return None
        scale_v = 0
    elif scale_v is None:
        scale_v = 15 if 'exws' in quirks else 7
    if ('exws' in quirks) != (scale_v > 14):
        return None
    if wsize == '*':
        win = 4096
    elif wsize.startswith('%'):
        win = int(wsize[1:]) * 3
    elif wsize.startswith('mss*'):
        n = int(wsize[4:])
        if mss_v < 100 or mss_v * n > 65535:
            if mss != '*':
                return None
            mss_v = 65535 // n
            if mss_v < 100:
                return None
        win = mss_v * n
    elif wsize.startswith('mtu*'):
        n = int(wsize[4:])
        if mss_v < 100 or (mss_v + 40) * n > 65535:
            return None
        win = (mss_v + 40) * n
    else:
        win = int(wsize)
    ts1 = 0 if 'ts1-' in quirks else 12345
    ts2 = 777 if 'ts2+' in quirks else 0
    opts = b''
    for o in layout:
        if o == 'mss':
            opts += struct.pack('!BBH', 2, 4, mss_v)
        elif o == 'ws':
            opts += struct.pack('!BBB', 3, 3, scale_v)
        elif o == 'sok':
            opts += b'\x04\x02'
        elif o == 'sack':
            opts += b'\x05\x0a' + bytes(8)
        elif o == 'ts':
            opts += struct.pack('!BBII', 8, 10, ts1, ts2)
        elif o == 'nop':
            opts += b'\x01'
        elif o.startswith('eol+'):
            pad = int(o[4:])
            opts += b'\x00' + (b'\x01' + bytes(pad - 1) if 'opt+' in quirks and pad else bytes(pad))
        elif o.startswith('?'):
            opts += struct.pack('!BB', int(o[1:]), 2)
        else:
            return None
    if len(opts) % 4 or len(opts) > 40:
        return None
    if 'opt+' in quirks and not any(o.startswith('eol+') and int(o[4:]) for o in layout):
        return None
    if 'bad' in quirks:
        for k, ln in ((2, 4), (3, 3), (4, 2), (8, 10)):
            i = 0
            while i < len(opts):
                if opts[i] in (0, 1):
                    i += 1
                    continue
                if opts[i] == k:
                    opts = opts[:i + 1] + bytes([ln + 1]) + opts[i + 2:]
                    break
                i += max(opts[i + 1], 2)
            else:
                continue
            break
        else:
            return None
    if 'ts' in layout and (ts1 == 0) != ('ts1-' in quirks):
        return None
    df = 'df' in quirks
    if df:
        ipid = rnd.randrange(1, 65535) if 'id+' in quirks else 0
    else:
        ipid = 0 if 'id-' in quirks else rnd.randrange(1, 65535)
    flags = 0x02 | (0x20 if 'urgf+' in quirks else 0) | (0x08 if 'pushf+' in quirks else 0)
    seq = 0 if 'seq-' in quirks else rnd.randrange(1, 2**32)
    ack = 0x01000000 if 'ack+' in quirks else 0
    urg = 77 if 'uptr+' in quirks else 0
    payload = b'DATA' if pclass == '+' else b''
    return tcp(src, dst, rnd.randrange(1024, 65535), 80, seq=seq, ack=ack, flags=flags, win=win, opts=opts,
               payload=payload, urg=urg, ttl=ttl, ipid=ipid, df=df, tos=1 if 'ecn' in quirks else 0,
               mbz='0+' in quirks, ipopts=bytes([1]) * olen)


def p0f_labels(pcap):
    """{source: label} from the real p0f (os= or app=, "???" when nothing matched)."""
    log = pcap + '.p0f.log'
    if os.path.exists(log):
        os.unlink(log)
    p = subprocess.run(['p0f', '-r', pcap, '-o', log, '-f', P0F_FP], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    if p.returncode != 0:
        raise AssertionError('p0f failed: %s' % p.stderr.decode(errors='replace'))
    out = {}
    with open(log) as f:
        for line in f:
            if '] mod=syn|' not in line and '] mod=sendsyn probe|' not in line:
                continue
            fields = dict(x.split('=', 1) for x in line.strip().split('] ', 1)[1].split('|'))
            src = fields['cli'].split('/')[0]
            label = ('app', fields['app']) if 'app' in fields else ('os', fields['os'])
            out.setdefault(src, label)
    return out


class P0fTest(unittest.TestCase):
    """OS labels equal what `p0f -r` prints for the same capture: one source per p0f.fp
    signature that an IPv4 SYN can carry, the same SYNs off by a long distance or with 'df'
    gone (fuzzy matches), and tool SYNs p0f does not know."""

    def test_labels_equal_p0f(self):
        rnd = random.Random(11)
        pk, n = [], 0
        sigs = p0f_request_sigs()
        self.assertGreater(len(sigs), 40)
        built = 0
        for label, sig in sigs:
            for variant in ('exact', 'far', 'nodf'):
                s = sig
                src = '100.%d.%d.%d' % (64 + n // 65536 % 64, n // 256 % 256, n % 256)
                n += 1
                p = syn_for_sig(s, src, dark(n % 250), rnd)
                if p is None:
                    continue
                if variant == 'far':  # TTL 40 below the initial TTL: past p0f's MAX_DIST
                    ttl = p[8] - 37
                    if ttl < 1:
                        continue
                    p = p[:8] + bytes([ttl]) + p[9:]
                    p = p[:10] + b'\0\0' + p[12:]
                    p = p[:10] + struct.pack('!H', csum(p[:20])) + p[12:]
                if variant == 'nodf':
                    if not p[6] & 0x40:
                        continue
                    flags = struct.unpack('!H', p[6:8])[0] & ~0x4000
                    p = p[:6] + struct.pack('!H', flags) + p[8:10] + b'\0\0' + p[12:]
                    p = p[:10] + struct.pack('!H', csum(p[:20])) + p[12:]
                pk.append((T0 + len(pk) * 0.01, p))
                built += 1
        self.assertGreater(built, 100)
        for i in range(20):  # Mirai, masscan, ZMap: p0f says ???
            d = dark(i)
            pk.append((T0 + 100 + i, tcp('100.99.0.%d' % i, d, 4000 + i, 23, seq=int(ipaddress.ip_address(d)), win=4000 + i, ttl=50)))
            pk.append((T0 + 200 + i, tcp('100.99.1.%d' % i, d, 5000, 3389, seq=i * 7, win=1024, ttl=240,
                                         ipid=masscan_id(d, 3389, i * 7))))
            pk.append((T0 + 300 + i, tcp('100.99.2.%d' % i, d, 6000, 443, seq=i, win=65535, ttl=245, ipid=54321)))
        tmp = tempfile.mkdtemp(prefix='mitsu-scope-')
        try:
            path = write(os.path.join(tmp, 'syns.pcap'), pcap_bytes([(ts, frame('ether', p)) for ts, p in pk]))
            want = p0f_labels(path)
            self.assertEqual(len(want), len(pk))
            self.assertGreater(len({v for v in want.values() if v[1] != '???'}), 20)
            _, r = mitsu_json('--no-geo', '--darknet', DARK, '--p0f', P0F_FP, path)
            labels, apps = {}, {}
            for kind, lab in want.values():
                (apps if kind == 'app' else labels)[lab] = (apps if kind == 'app' else labels).get(lab, 0) + 1
            self.assertEqual(r['os']['labels'], labels)
            self.assertEqual(r['os']['apps'], apps)
            self.assertEqual(r['os']['syn_sources'], len(pk))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- geolocation

def location_lookup(addrs):
    """{address: (country code or None, asn or None)} from Debian's `location lookup`."""
    names = {}
    p = subprocess.run(['location', 'list-countries', '--show-name'], stdout=subprocess.PIPE, check=True, text=True)
    for line in p.stdout.splitlines():
        cc, _, name = line.partition(' ')
        names[name.strip()] = cc
    p = subprocess.run(['location', 'lookup'] + addrs, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, cur = {}, None
    for line in p.stdout.splitlines():
        if not line.startswith(' ') and line.endswith(':'):
            cur = line[:-1]
            out[cur] = [None, None]
        elif cur and ':' in line:
            k, _, v = line.partition(':')
            k, v = k.strip(), v.strip()
            if k == 'Country':
                out[cur][0] = names[v]
            elif k == 'Autonomous System':
                out[cur][1] = int(v.split()[0][2:])
    return {a: tuple(v) for a, v in out.items()}


class GeoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='mitsu-scope-')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_countries_equal_location_lookup(self):
        rnd = random.Random(7)
        cands = []
        while len(cands) < 400:
            a = ipaddress.ip_address(rnd.randrange(1 << 24, 224 << 24))
            if a.is_global:
                cands.append(str(a))
        cands += ['8.8.8.8', '1.1.1.1', '133.1.1.1', '210.140.92.183', '202.12.27.33', '151.101.1.69']
        truth = location_lookup(cands)
        chosen = [a for a in cands if truth.get(a, (None, None))[0]][:120]
        self.assertGreater(len(chosen), 60)
        self.assertGreater(len({truth[a][0] for a in chosen}), 15)
        pk = []
        for i, a in enumerate(chosen):
            for k in range(1 + i % 3):
                pk.append((T0 + i * 10 + k, tcp(a, dark(i % 200), 1000 + k, 23, seq=k + 1, win=1000)))
        path = write(os.path.join(self.tmp, 'geo.pcap'), pcap_bytes([(ts, frame('ether', p)) for ts, p in pk]))
        cache = os.path.join(self.tmp, 'cache')
        for run in range(2):  # the first run builds the cache, the second reads it
            _, r = mitsu_json('--darknet', DARK, '--geo-cache', cache, path)
            want = {}
            for i, a in enumerate(chosen):
                e = want.setdefault(truth[a][0], [0, 0])
                e[0] += 1
                e[1] += 1 + i % 3
            self.assertEqual({cc: [v['sources'], v['packets']] for cc, v in r['countries'].items()}, want)
            asn = {}
            for i, a in enumerate(chosen):
                e = asn.setdefault(truth[a][1] or 0, [0, 0])
                e[0] += 1
                e[1] += 1 + i % 3
            self.assertEqual({x['asn']: [x['sources'], x['packets']] for x in r['asns']}, asn)
            self.assertEqual({cc: [v['sources'], v['packets']] for cc, v in r['intervals'][0]['countries'].items()}, want)
            self.assertTrue(r['geo'].startswith('libloc '))
            self.assertEqual(len(os.listdir(cache)), 1)

    def test_maxmind_file(self):
        db = write(os.path.join(self.tmp, 'test.mmdb'), mmdb_bytes([
            ('203.0.113.0/24', {'country': {'iso_code': 'JP'}, 'autonomous_system_number': 64500}),
            ('198.51.100.0/25', {'country': {'iso_code': 'US'}}),
            ('192.0.2.0/24', {'registered_country': {'iso_code': 'DE'}, 'autonomous_system_number': 64501}),
        ]))
        pk = [(T0 + 1, tcp('203.0.113.5', dark(1), 1, 23, seq=1)), (T0 + 2, tcp('203.0.113.6', dark(2), 1, 23, seq=1)),
              (T0 + 3, tcp('198.51.100.7', dark(3), 1, 23, seq=1)), (T0 + 4, tcp('198.51.100.200', dark(4), 1, 23, seq=1)),
              (T0 + 5, tcp('192.0.2.9', dark(5), 1, 23, seq=1)), (T0 + 6, tcp('192.0.2.9', dark(6), 1, 23, seq=1))]
        path = write(os.path.join(self.tmp, 'mm.pcap'), pcap_bytes([(ts, frame('ether', p)) for ts, p in pk]))
        _, r = mitsu_json('--darknet', DARK, '--geo', db, path)
        self.assertEqual({cc: [v['sources'], v['packets']] for cc, v in r['countries'].items()},
                         {'JP': [2, 2], 'US': [1, 1], '??': [1, 1], 'DE': [1, 2]})
        self.assertEqual({x['asn']: x['sources'] for x in r['asns']}, {64500: 2, 0: 2, 64501: 1})
        p = harness.run_mitsu('scope', '--geo', os.path.join(self.tmp, 'nothing.mmdb'), path, check=False)
        self.assertEqual(p.returncode, 2)


def mmdb_bytes(networks):
    """A MaxMind DB (format 2.0, IPv4 tree, 24-bit records) holding the given networks."""
    def ctrl(t, size):
        if t <= 7:
            head = bytes([(t << 5) | min(size, 29)])
        else:
            head = bytes([min(size, 29), t - 7])
        if size >= 29:
            head += bytes([size - 29])
        return head

    def enc(v):
        if isinstance(v, dict):
            out = ctrl(7, len(v))
            for k, x in v.items():
                out += enc(k) + enc(x)
            return out
        if isinstance(v, str):
            b = v.encode()
            return ctrl(2, len(b)) + b
        if isinstance(v, list):
            return ctrl(11, len(v)) + b''.join(enc(x) for x in v)
        if isinstance(v, tuple):  # ('u16' | 'u64', n)
            t, n = v
            b = n.to_bytes(8, 'big').lstrip(b'\0')
            return ctrl({'u16': 5, 'u64': 9}[t], len(b)) + b
        b = v.to_bytes(4, 'big').lstrip(b'\0')
        return ctrl(6, len(b)) + b

    data, offsets = b'', []
    for _, rec in networks:
        offsets.append(len(data))
        data += enc(rec)
    nodes = [[None, None]]
    for (net, _), off in zip(networks, offsets):
        n = ipaddress.ip_network(net)
        a, node = int(n.network_address), 0
        for depth in range(n.prefixlen):
            bit = (a >> (31 - depth)) & 1
            if depth == n.prefixlen - 1:
                nodes[node][bit] = ('data', off)
            else:
                if nodes[node][bit] is None:
                    nodes.append([None, None])
                    nodes[node][bit] = ('node', len(nodes) - 1)
                node = nodes[node][bit][1]
    count = len(nodes)
    tree = b''
    for left, right in nodes:
        for rec in (left, right):
            v = count if rec is None else rec[1] if rec[0] == 'node' else count + 16 + rec[1]
            tree += v.to_bytes(3, 'big')
    meta = enc({'node_count': count, 'record_size': ('u16', 24), 'ip_version': ('u16', 4),
                'database_type': 'mitsu-test', 'languages': ['en'], 'binary_format_major_version': ('u16', 2),
                'binary_format_minor_version': ('u16', 0), 'build_epoch': ('u64', 1700000000),
                'description': {'en': 'mitsu test database'}})
    return tree + bytes(16) + data + b'\xab\xcd\xefMaxMind.com' + meta


# ---------------------------------------------------------------- outputs, store, limits

class OutputsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='mitsu-scope-')
        cls.path = write(os.path.join(cls.tmp, 's.pcap'), pcap_bytes(frames_of(scenario(), 'ether')))
        _, cls.r = mitsu_json('--darknet', DARK, '--no-geo', cls.path)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_csv_rows_are_interval_by_port(self):
        p = harness.run_mitsu('scope', '--format', 'csv', '--darknet', DARK, '--no-geo', self.path)
        import csv
        import io
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        want = [(iv['start'], x['proto'], x['port'], x['packets'], x['sources']) for iv in self.r['intervals']
                for x in iv['ports']]
        got = [(x['interval_start'], x['proto'], int(x['port']), int(x['packets']), int(x['sources'])) for x in rows]
        self.assertEqual(got, want)
        self.assertEqual(len(rows), sum(len(iv['ports']) for iv in self.r['intervals']))

    def test_table_for_people(self):
        p = harness.run_mitsu('scope', '--darknet', DARK, '--no-geo', self.path)
        self.assertIn('Summary', p.stdout)
        self.assertRegex(p.stdout, r'dark packets\s+%d ' % self.r['packets'])
        self.assertRegex(p.stdout, r'\n\s*tcp\s+8081\s+120\s')
        self.assertIn('192.0.2.20', p.stdout)  # the scanner
        self.assertIn('192.0.2.40', p.stdout)  # a DoS victim

    def test_charts(self):
        d = os.path.join(self.tmp, 'charts')
        harness.run_mitsu('scope', '--darknet', DARK, '--no-geo', '--charts', d, '--format', 'json', self.path)
        self.assertEqual(sorted(os.listdir(d)), ['families.svg', 'mirai.svg', 'ports.svg', 'telnet.svg'])
        ns = '{http://www.w3.org/2000/svg}'
        for name in os.listdir(d):
            root = ET.parse(os.path.join(d, name)).getroot()
            self.assertEqual(root.tag, ns + 'svg')
            texts = [t.text for t in root.iter(ns + 'text')]
            self.assertTrue(texts)
        ports = ET.parse(os.path.join(d, 'ports.svg')).getroot()
        legend = [t.text for t in ports.iter(ns + 'text') if t.get('font-weight') == 'bold']
        self.assertIn('23/tcp', legend)
        self.assertGreaterEqual(len(list(ports.iter(ns + 'polyline'))), 2)

    def test_store_rows(self):
        data = os.path.join(self.tmp, 'data')
        for _ in range(2):
            harness.run_mitsu('scope', '--darknet', DARK, '--no-geo', '--format', 'json', self.path, data_dir=data)
        db = sqlite3.connect(os.path.join(data, 'mitsu.db'))
        runs = db.execute('SELECT id, packets, unique_sources, exact, report FROM scope_runs ORDER BY id').fetchall()
        self.assertEqual(len(runs), 2)
        self.assertEqual(runs[1][1:4], (self.r['packets'], self.r['unique_sources'], 1))
        self.assertEqual(strip_volatile(json.loads(runs[1][4])), strip_volatile(self.r))
        rid = runs[1][0]
        ivs = db.execute('SELECT start, packets, sources, telnet, mirai_sources, scanners FROM scope_intervals '
                         'WHERE run_id = ? ORDER BY start_unix', (rid,)).fetchall()
        self.assertEqual(ivs, [(iv['start'], iv['packets'], iv['sources'], iv['telnet']['packets'],
                                iv['mirai']['sources'], iv['scanners']) for iv in self.r['intervals']])
        ports = db.execute('SELECT start_unix, proto, port, packets, sources FROM scope_ports WHERE run_id = ?',
                           (rid,)).fetchall()
        want = [(iv['start_unix'], x['proto'], x['port'], x['packets'], x['sources']) for iv in self.r['intervals']
                for x in iv['ports']]
        self.assertEqual(sorted(ports), sorted(want))
        fams = dict(db.execute("SELECT label, sources FROM scope_os WHERE run_id = ? AND kind = 'family'", (rid,)))
        self.assertEqual(fams, self.r['os']['families'])

    def test_bounds_are_reported(self):
        _, r = mitsu_json('--darknet', DARK, '--no-geo', '--max-sources', '5', self.path)
        self.assertFalse(r['limits']['exact'])
        self.assertGreater(r['limits']['sources_full'], 0)
        self.assertEqual(r['packets'], self.r['packets'])  # totals stay exact
        p = harness.run_mitsu('scope', '--darknet', DARK, '--no-geo', '--max-sources', '5', self.path)
        self.assertIn('WARNING', p.stdout)

    def test_interval_option(self):
        _, r = mitsu_json('--darknet', DARK, '--no-geo', '--interval', '5m', self.path)
        self.assertEqual(r['interval'], 300)
        self.assertEqual(sum(iv['packets'] for iv in r['intervals']), r['packets'])
        self.assertTrue(all(iv['start_unix'] % 300 == 0 for iv in r['intervals']))
        self.assertEqual(sum(iv['scanners'] for iv in r['intervals']), 1)


# ---------------------------------------------------------------- live capture

class LiveTest(unittest.TestCase):
    """--live on one end of a veth pair inside a network namespace this test creates; frames
    are written to the other end with a raw socket. Nothing leaves the namespace."""

    def test_live_interval_output(self):
        ns = 'mitsu-scope-%d' % os.getpid()
        tmp = tempfile.mkdtemp(prefix='mitsu-scope-')
        run = lambda *a: subprocess.run(list(a), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        run('ip', 'netns', 'add', ns)
        proc = None
        try:
            nx = ['ip', 'netns', 'exec', ns]
            run(*nx, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1')
            run(*nx, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1')
            run(*nx, 'ip', 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1')
            run(*nx, 'ip', 'link', 'set', 'veth0', 'up')
            run(*nx, 'ip', 'link', 'set', 'veth1', 'up')
            errpath = os.path.join(tmp, 'stderr')
            errf = open(errpath, 'w')
            proc = subprocess.Popen(nx + [harness.MITSU, 'scope', '--live', 'veth1', '--interval', '1', '--format', 'json',
                                          '--darknet', DARK, '--no-geo', '--filter', 'ip'],
                                    stdout=subprocess.PIPE, stderr=errf, bufsize=0)
            deadline = time.monotonic() + 30
            while 'listening on veth1' not in open(errpath).read():
                self.assertIsNone(proc.poll(), open(errpath).read())
                self.assertLess(time.monotonic(), deadline, 'mitsu scope --live did not start')
                time.sleep(0.05)
            frames = []
            for i in range(30):
                d = dark(i)
                frames.append(frame('ether', tcp('203.0.113.%d' % (i % 3 + 1), d, 4000, 23 if i % 10 else 2323,
                                                 seq=int(ipaddress.ip_address(d)), win=5000)))
            frames += [frame('ether', udp('192.0.2.30', dark(100 + i), 5353, 53)) for i in range(5)]
            frames += [frame('ether', tcp('192.0.2.31', '10.9.9.9', 1, 22, seq=5)) for _ in range(4)]
            fpath = os.path.join(tmp, 'frames')
            with open(fpath, 'wb') as f:
                for fr in frames:
                    f.write(struct.pack('!H', len(fr)) + fr)
            sender = ('import socket,struct\n'
                      's=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind(("veth0",0))\n'
                      'd=open(%r,"rb").read()\ni=0\n'
                      'while i<len(d):\n n=struct.unpack("!H",d[i:i+2])[0]\n s.send(d[i+2:i+2+n])\n i+=2+n\n') % fpath
            run(*nx, sys.executable, '-c', sender)
            # Interval lines arrive as the wall clock passes each second; wait until they hold
            # every dark packet sent. (Unbuffered reads: select() must see what is pending.)
            lines, seen, pending = [], 0, b''
            import selectors
            sel = selectors.DefaultSelector()
            sel.register(proc.stdout, selectors.EVENT_READ)
            while seen < 35:
                self.assertLess(time.monotonic(), deadline, '%d packets in %d intervals so far; stderr: %s'
                                % (seen, len(lines), open(errpath).read()[-2000:]))
                if not sel.select(timeout=1):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                self.assertTrue(chunk, 'mitsu scope stopped: ' + open(errpath).read()[-2000:])
                pending += chunk
                while b'\n' in pending:
                    line, pending = pending.split(b'\n', 1)
                    iv = json.loads(line)
                    lines.append(iv)
                    seen += iv['packets']
            proc.send_signal(signal.SIGTERM)
            while not pending.endswith(b'\n'):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                pending += chunk
            final = json.loads(pending)
            proc.wait(timeout=30)
            errf.close()
            err = open(errpath).read()
            for mark in harness.SANITIZER_MARKS:
                self.assertNotIn(mark, err)
            self.assertEqual(proc.returncode, 0, err)
            self.assertEqual(seen, 35)
            self.assertTrue(all(iv['seconds'] == 1 for iv in lines))
            starts = [iv['start_unix'] for iv in lines]
            self.assertEqual(starts, sorted(set(starts)))
            self.assertEqual(final['packets'], 35)
            self.assertEqual(final['not_dark']['packets'], 4)
            self.assertEqual(final['mirai'], {'sources': 3, 'packets': 30})
            self.assertEqual(final['telnet']['packets'], 30)
            self.assertEqual({(x['proto'], x['port']): x['packets'] for x in final['ports']},
                             {('tcp', 23): 27, ('tcp', 2323): 3, ('udp', 53): 5})
        finally:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
            subprocess.run(['ip', 'netns', 'del', ns], stderr=subprocess.DEVNULL)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    harness.main()
