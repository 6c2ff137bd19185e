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


def ipv4(src, dst, proto, payload, ttl=64, ipid=1, df=False, tos=0, opts=b'', mbz=False, frag=0, mf=False):
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


if __name__ == '__main__':
    harness.main()
