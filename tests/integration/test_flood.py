"""A flood of connections with slowloris peers among them (issue 11), small enough for every
test run: bench/flood's driver (bench/flood/flood.py) at 600 connections. Each test counts:
every connection the flood opened is one the sensor accepted, refused or evicted (its own
counters, printed when it stops) and, when accepted, one session with one connect and one
closed event; the well-behaved client completes every login; the sensor's memory stays within
its bound. Nothing here asserts a time: the client's p99 is printed, the full-size figures are
bench/flood's (docs/operations.md)."""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
sys.path.insert(0, os.path.join(harness.ROOT, 'bench', 'flood'))
import flood  # noqa: E402

TOTAL = 600
SOURCES = 60
CLIENT_SESSIONS = 10
# The sensor's counters when it stops (src/sensor/sensor.c).
STOPPED = re.compile(r'stopped: (\d+) sessions accepted, (\d+) refused \(total limit\), (\d+) refused '
                     r'\(per-source limit\), (\d+) refused \(accept failed\), (\d+) evicted')


def under_asan(pid):
    """Whether the process runs with AddressSanitizer (its memory is then shadow and quarantine,
    which no bound of the sensor's own describes)."""
    with open('/proc/%d/maps' % pid) as f:
        return 'libasan' in f.read()


def memory_bound_kb(before_kb, slots):
    """bench/flood's bound: what the sensor had before, plus 16 KiB per session slot, plus
    32 MiB (the store's cache, event batches)."""
    return before_kb + slots * 16 + 32 * 1024


class FloodTest(harness.unittest.TestCase):
    def flood(self, slots, client_sessions, concurrency):
        """Runs the flood against a fresh sensor with a table of `slots`; returns (flood.run's
        result, the sensor's counters, its events, whether it ran under ASan)."""
        s = harness.Sensor(sets=['telnet.fail_delay_ms=0', 'box.auto=false',
                                 'limits.max_sessions=%d' % slots]).start()
        try:
            asan = under_asan(s.proc.pid)
            # The client waits up to 60 s for each answer: a guard against a hang, not a timing.
            r = flood.run(s.port, s.proc.pid, TOTAL, slow=0.5, nsources=SOURCES, concurrency=concurrency,
                          slow_interval=0.1, time_limit=300, min_sessions=client_sessions, step_timeout=60)
            sys.stderr.write('flood (%d slots): %s\n' % (slots, r))
            fl = r['flood']
            # The flood has closed every connection. The sensor has seen them all once its
            # listener's accept queue is empty and every session it opened has closed.
            def settled():
                if listen_backlog(s.port) != 0:
                    return None
                ev = s.events(include_probes=True)
                opened = sum(1 for e in ev if e['eventid'] == 'mitsu.session.connect')
                closed = sum(1 for e in ev if e['eventid'] == 'mitsu.session.closed')
                return ev if opened == closed else None
            harness.wait_until(settled, timeout=120, what='a closed event for every session')
            # events.jsonl gets a batch once it is committed, so the file can lag the sensor:
            # the events are read once it has stopped (it writes every event before it exits).
            s.stop()
            ev = s.events(include_probes=True)
            m = STOPPED.search(s.stderr())
            self.assertIsNotNone(m, s.stderr()[-2000:])
            counters = dict(zip(('accepted', 'refused_total', 'refused_source', 'refused_error', 'evicted'),
                                map(int, m.groups())))
            return r, counters, ev, asan
        finally:
            s.stop(check=False)
            s.cleanup()

    def account(self, r, c, ev):
        """Every connection of the flood, the client and the harness's probe is one the sensor
        accepted or refused; every accepted one is one session with one connect and one closed
        event; the flood's own view adds up the same way."""
        fl, cl = r['flood'], r['client']
        self.assertEqual(fl['connections'], TOTAL, fl)
        self.assertEqual(fl['connect_errors'], 0, fl)
        self.assertEqual(fl['scanners'] + fl['slowloris'], TOTAL, fl)
        self.assertEqual(fl['greeted'] + fl['refused'], fl['scanners'], fl)
        self.assertEqual(fl['slow_closed_by_server'] + fl['slow_open_at_end'], fl['slowloris'], fl)
        client_conns = cl['sessions'] + cl['failed']
        refused = c['refused_total'] + c['refused_source'] + c['refused_error']
        self.assertEqual(c['accepted'] + refused, TOTAL + client_conns + 1, c)  # 1: the start probe
        connects = [e for e in ev if e['eventid'] == 'mitsu.session.connect']
        closed = [e for e in ev if e['eventid'] == 'mitsu.session.closed']
        self.assertEqual(len(connects), c['accepted'])
        self.assertEqual(sorted(e['session'] for e in closed), sorted(e['session'] for e in connects))
        self.assertEqual(sum(1 for e in closed if e['reason'] == 'evicted'), c['evicted'])
        # The flood's sources are the flood's: SOURCES addresses of 127/8, the client 127.0.0.1.
        flood_ips = {e['src_ip'] for e in connects if e['src_ip'] != '127.0.0.1'}
        self.assertLessEqual(flood_ips, set(flood.source_addresses(SOURCES)))
        self.assertEqual(sum(1 for e in connects if e['src_ip'] in flood_ips), c['accepted'] - client_conns - 1)

    def test_flood_within_the_table(self):
        """300 slowloris peers hold their slots the whole flood long in a table of 1,000: nothing
        is refused or evicted, every connection is a session, and the well-behaved client logs in
        and runs its command every time; the memory stays within its bound."""
        slots = 1000
        r, c, ev, asan = self.flood(slots, CLIENT_SESSIONS, concurrency=64)
        self.account(r, c, ev)
        fl, cl = r['flood'], r['client']
        self.assertEqual((c['refused_total'], c['refused_source'], c['refused_error'], c['evicted']),
                         (0, 0, 0, 0), c)
        self.assertEqual(fl['greeted'], fl['scanners'], fl)
        self.assertEqual(cl['failed'], 0, cl)
        self.assertGreaterEqual(cl['sessions'], CLIENT_SESSIONS, cl)
        # Each client session is a login and its command: four answers each.
        self.assertEqual(cl['answers'], 4 * cl['sessions'], cl)
        logins = [e for e in ev if e['eventid'] == 'mitsu.login.success' and e['src_ip'] == '127.0.0.1']
        self.assertEqual(len(logins), cl['sessions'])
        if not asan:
            self.assertLess(r['rss_kb_peak'], memory_bound_kb(r['rss_kb_before'], slots), r)

    def test_flood_over_the_table(self):
        """The same flood into a table of 100: slowloris peers fill it, newcomers take the slots
        of the stalest (evicted) or are refused; the counts still add up to every connection, and
        the memory stays within the smaller table's bound."""
        slots = 100
        r, c, ev, asan = self.flood(slots, 1, concurrency=64)
        self.account(r, c, ev)
        self.assertGreater(c['evicted'] + c['refused_total'], 0, c)
        self.assertLessEqual(c['evicted'], r['flood']['slowloris'] + r['flood']['scanners'], c)
        if not asan:
            self.assertLess(r['rss_kb_peak'], memory_bound_kb(r['rss_kb_before'], slots), r)


    def test_stale_input_waits_its_turn(self):
        """300 slowloris peers (10 sources) trickle one byte each per round, all in the same
        instant, for 20 rounds 0.1 s apart: once they are stale (no line for a second), only
        SENSOR_STALE_BATCH of their inputs are handled per loop turn and the others wait in the
        sensor's backlog with reading stopped. Whether or not a byte waited, none is lost or
        reordered: each peer then ends its line and its login attempt names exactly the bytes it
        sent; every session has one connect and one closed event."""
        peers, rounds = 300, 20
        s = harness.Sensor(sets=['telnet.fail_delay_ms=0', 'box.auto=false']).start()
        socks = []
        try:
            for src in flood.source_addresses(peers // 30) * 30:
                c = socket.socket()
                c.bind((src, 0))
                c.connect(('127.0.0.1', s.port))
                c.settimeout(60)  # a guard against a hang, not a timing
                socks.append(c)
            for c in socks:
                flood.read_until(c, b'ogin', 60)
            for _ in range(rounds):
                for c in socks:
                    c.sendall(b'a')
                time.sleep(0.1)  # the trickle's pace (the traffic's shape, not a wait)
            for c in socks:
                c.sendall(b'root\r\n')
            for c in socks:
                flood.read_until(c, b'assword', 60)
            for c in socks:
                c.sendall(b'x\r\n')
            want = 'a' * rounds + 'root'
            failed = harness.wait_until(
                lambda: (lambda f: f if len(f) >= peers else None)(s.events('mitsu.login.failed')),
                timeout=120, what='a login attempt of every peer')
            self.assertEqual(len(failed), peers)
            self.assertEqual({e['username'] for e in failed}, {want})
            for c in socks:
                c.close()
            ev = harness.wait_until(
                lambda: (lambda ev: ev if sum(e['eventid'] == 'mitsu.session.closed' for e in ev) >= peers
                         else None)(s.events()), timeout=120, what='a closed event for every session')
            s.stop()
            connects = [e['session'] for e in ev if e['eventid'] == 'mitsu.session.connect']
            closed = [e['session'] for e in ev if e['eventid'] == 'mitsu.session.closed']
            self.assertEqual(len(connects), peers)
            self.assertEqual(sorted(connects), sorted(closed))
            m = re.search(r'(\d+) inputs of stale sessions waited', s.stderr())
            sys.stderr.write('stale inputs that waited: %s\n' % (m.group(1) if m else 0))
        finally:
            for c in socks:
                c.close()
            s.stop(check=False)
            s.cleanup()


def listen_backlog(port):
    """Connections waiting in the accept queue of the listener on 127.0.0.1:port (for a
    listening socket, /proc/net/tcp's rx_queue is that queue's length)."""
    want = '0100007F:%04X' % port
    with open('/proc/net/tcp') as f:
        for line in list(f)[1:]:
            cols = line.split()
            if cols[1] == want and cols[3] == '0A':
                return int(cols[4].split(':')[1], 16)
    raise AssertionError('no listener on 127.0.0.1:%d' % port)


if __name__ == '__main__':
    harness.main()
