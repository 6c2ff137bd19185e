"""The PostgreSQL fleet store: events reach a real PostgreSQL server started by the test; while
it is away they are spooled to disk and replayed later; a replayed event is never stored twice."""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TelnetBot  # noqa: E402

PGBIN = sorted(glob.glob('/usr/lib/postgresql/*/bin'))[-1] if glob.glob('/usr/lib/postgresql/*/bin') else None


class Postgres:
    """A throw-away PostgreSQL cluster on a loopback port, run as the postgres user."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='mitsu-pg-')
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, 'data')
        self.port = harness.free_port()
        shutil.chown(self.dir, 'postgres', 'postgres')
        self._pg(os.path.join(PGBIN, 'initdb'), '-D', self.data, '-A', 'trust', '-U', 'postgres')

    def _pg(self, *args):
        return subprocess.run(['runuser', '-u', 'postgres', '--'] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=120, check=True, cwd=self.dir)

    def start(self):
        self._pg(os.path.join(PGBIN, 'pg_ctl'), '-D', self.data, '-w', '-l', os.path.join(self.dir, 'log'),
                 '-o', '-p %d -k %s -c listen_addresses=127.0.0.1' % (self.port, self.dir), 'start')

    def stop(self):
        subprocess.run(['runuser', '-u', 'postgres', '--', os.path.join(PGBIN, 'pg_ctl'), '-D', self.data,
                        '-m', 'fast', '-w', 'stop'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120, cwd=self.dir)

    def query(self, sql):
        p = subprocess.run(['psql', '-h', '127.0.0.1', '-p', str(self.port), '-U', 'postgres', '-At', '-c', sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        return p.stdout.strip() if p.returncode == 0 else None

    def conninfo(self):
        return 'host=127.0.0.1 port=%d user=postgres dbname=postgres' % self.port

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def one_session(port, word):
    bot = TelnetBot(port)
    bot.read_until_token(b'ogin')
    bot.sendline('root')
    bot.read_until_token(b'assword')
    bot.sendline('xc3511')
    bot.read_prompt()
    bot.sendline('/bin/busybox ' + word)
    bot.read_until_token(word.encode() + b': applet not found')
    bot.close()


def uuids(data_dir):
    with open(os.path.join(data_dir, 'events.jsonl')) as f:
        return {json.loads(l)['uuid'] for l in f}


def wait_rows(pg, n, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pg.query('SELECT count(*) FROM events')
        if got is not None and int(got) >= n:
            return int(got)
        time.sleep(0.5)
    return int(pg.query('SELECT count(*) FROM events') or 0)


class PostgresTest(harness.unittest.TestCase):
    def setUp(self):
        self.assertIsNotNone(PGBIN, 'PostgreSQL server binaries (scripts/deps installs postgresql)')
        self.pg = Postgres()

    def tearDown(self):
        self.pg.cleanup()

    def test_events_reach_postgres(self):
        self.pg.start()
        with harness.Sensor(sets=['telnet.fail_delay_ms=0', 'sinks.postgres=' + self.pg.conninfo()]) as s:
            one_session(s.port, 'PGLIVE')
            s.events(wait_for=('mitsu.session.closed', None))
            want = uuids(s.data_dir)
            self.assertEqual(wait_rows(self.pg, len(want)), len(want))
        got = self.pg.query("SELECT event->>'username' FROM events WHERE eventid = 'mitsu.login.success'")
        self.assertEqual(got, 'root')
        self.assertEqual(self.pg.query('SELECT count(DISTINCT uuid) FROM events'), str(len(want)))

    def test_spool_while_away_and_no_duplicates(self):
        s = harness.Sensor(sets=['telnet.fail_delay_ms=0', 'sinks.postgres=' + self.pg.conninfo()],
                           expect_log=[r'^postgres: cannot reach the database']).start()
        try:
            one_session(s.port, 'AWAY')
            s.events(wait_for=('mitsu.session.closed', None))
            deadline = time.monotonic() + 30
            while not glob.glob(os.path.join(s.data_dir, 'spool', 'pg-*.jsonl')) and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertTrue(glob.glob(os.path.join(s.data_dir, 'spool', 'pg-*.jsonl')))
            s.stop()
            spooled = []
            for f in sorted(glob.glob(os.path.join(s.data_dir, 'spool', 'pg-*.jsonl'))):
                with open(f) as fh:
                    spooled += fh.read().splitlines()
            # Every event of the run, including the shutdown's, is in the spool.
            self.assertEqual({json.loads(l)['uuid'] for l in spooled}, uuids(s.data_dir))
            # The database comes up; a second spool file repeats the first (a retried
            # delivery); the next run replays both and stores each event once.
            with open(os.path.join(s.data_dir, 'spool', 'pg-999999999999-000000.jsonl'), 'w') as f:
                f.write('\n'.join(spooled) + '\n')
            self.pg.start()
            s2 = harness.Sensor(sets=['telnet.fail_delay_ms=0', 'sinks.postgres=' + self.pg.conninfo()],
                                data_dir=s.data_dir).start()
            try:
                one_session(s2.port, 'BACK')
                s2.events(wait_for=('mitsu.command.input', lambda e: 'BACK' in e['input']))
                want = uuids(s.data_dir)
                got = wait_rows(self.pg, len(want) - 1)  # the second run's close is still to come
                self.assertGreaterEqual(got, len(want) - 1)
            finally:
                s2.stop()
                s2.cleanup()
            want = uuids(s.data_dir)
            self.assertEqual(wait_rows(self.pg, len(want), timeout=10), len(want))
            self.assertEqual(self.pg.query('SELECT count(*) - count(DISTINCT uuid) FROM events'), '0')
            self.assertEqual(glob.glob(os.path.join(s.data_dir, 'spool', 'pg-*.jsonl')), [])
        finally:
            s.stop(check=False)
            s.cleanup()

    def test_away_under_load_then_back_exactly_once(self):
        """Attackers keep coming while the database goes away and comes back: every event of the
        run reaches PostgreSQL exactly once (the events spooled while it was away included,
        and those of a batch cut off by its going away)."""
        self.pg.start()
        # The database going away mid-batch and staying away for a while.
        s = harness.Sensor(sets=['telnet.fail_delay_ms=0', 'sinks.postgres=' + self.pg.conninfo()],
                           expect_log=[r'^postgres: insert failed: ', r'^postgres: cannot reach the database',
                                       r'^bus: sink postgres failed']).start()
        stop = threading.Event()
        done = []

        def attacker(i):
            n = 0
            while not stop.is_set():
                try:
                    one_session(s.port, 'L%dN%d' % (i, n))
                    done.append(1)
                except (OSError, AssertionError):
                    pass
                n += 1

        threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(4)]
        try:
            for th in threads:
                th.start()
            self.assertGreater(wait_rows(self.pg, 50), 0)
            self.pg.stop()
            # Sessions go on while it is away; their events wait in the spool.
            spool = os.path.join(s.data_dir, 'spool', 'pg-*.jsonl')
            deadline = time.monotonic() + 60
            while not glob.glob(spool):
                self.assertLess(time.monotonic(), deadline, 'nothing spooled')
                time.sleep(0.05)
            away = len(done)
            while len(done) < away + 20:
                self.assertLess(time.monotonic(), deadline, 'sessions stopped while it was away')
                time.sleep(0.05)
            self.pg.start()
            while len(done) < away + 40:
                self.assertLess(time.monotonic(), deadline + 60, 'sessions stopped')
                time.sleep(0.05)
            stop.set()
            for th in threads:
                th.join(30)
            # Back: the running sensor replays its spool at its next try, then keeps up.
            want = uuids(s.data_dir)
            self.assertGreaterEqual(wait_rows(self.pg, len(want), timeout=120), len(want))
        finally:
            stop.set()
            s.stop()
        try:
            want = uuids(s.data_dir)
            self.assertEqual(wait_rows(self.pg, len(want), timeout=30), len(want))
            self.assertEqual(self.pg.query('SELECT count(*) - count(DISTINCT uuid) FROM events'), '0')
            self.assertEqual(set(self.pg.query('SELECT uuid FROM events').split()), want)
            self.assertEqual(glob.glob(os.path.join(s.data_dir, 'spool', 'pg-*.jsonl')), [])
        finally:
            s.cleanup()


if __name__ == '__main__':
    harness.main()
