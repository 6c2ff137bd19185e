"""The store under load and faults (issue 11): one writer per store, data before its event,
samples hashed off the loop and written atomically. Each test counts what was stored."""
import datetime
import errno
import hashlib
import http.server
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_capture import CountingHTTP, fake_bot, sha, shell  # noqa: E402

SETS = ['telnet.fail_delay_ms=0', 'capture.allow_private=true', 'capture.rate_limit=100000']
# Lines of the sensor that say a write was lost or raced.
LOST = ('database is locked', 'cannot record', 'could not store', 'commit failed')


def db_rows(data_dir, sql, *args):
    """Rows from DATA/mitsu.db through a read-only connection, as the dashboard reads."""
    db = sqlite3.connect('file:%s?mode=ro' % os.path.join(data_dir, 'mitsu.db'), uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def run_parallel(fns):
    """Runs each function on its own thread; re-raises the first failure."""
    errors = []

    def wrap(fn):
        try:
            fn()
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


class BlobHTTP:
    """An HTTP server on loopback whose /N is N's own bytes (seeded), `size` long: each path is
    a different sample."""

    def __init__(self, size):
        cache = {}

        def body(path):
            if path not in cache:
                rnd = random.Random(path)
                cache[path] = rnd.randbytes(size)
            return cache[path]

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                data = body(self.path)
                self.send_response(200)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, *a):
                pass

        self.body = body
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def event_time(e):
    """An event's timestamp as seconds since the epoch (the test's and the sensor's clock)."""
    return datetime.datetime.strptime(e['timestamp'], '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def jsonl_events(data_dir):
    """Every line of events.jsonl, each parsed (a line that does not parse fails the test)."""
    with open(os.path.join(data_dir, 'events.jsonl')) as f:
        text = f.read()
    assert text == '' or text.endswith('\n'), 'events.jsonl ends with a partial line'
    return [json.loads(l) for l in text.splitlines()]


def db_uuids(data_dir):
    return [r[0] for r in db_rows(data_dir, "SELECT json_extract(json, '$.uuid') FROM events")]


def check_samples(test, data_dir):
    """Every sample file is whole (named by its own SHA-256, mode 0400), no temporary file is
    left, and every `samples` row has its file."""
    root = os.path.join(data_dir, 'samples')
    files = set()
    for sub in os.listdir(root):
        for name in os.listdir(os.path.join(root, sub)):
            path = os.path.join(root, sub, name)
            test.assertNotIn('.tmp.', name, 'a temporary file was left: ' + path)
            with open(path, 'rb') as f:
                test.assertEqual(hashlib.sha256(f.read()).hexdigest(), name, path)
            test.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o400)
            files.add(name)
    rows = {r[0] for r in db_rows(data_dir, 'SELECT sha256 FROM samples')}
    test.assertLessEqual(rows, files)
    return rows


class Load:
    """Attackers on loopback until stopped: logins and commands, and downloads of different
    files (each a new sample). Errors (the sensor going away) end a worker quietly."""

    def __init__(self, port, http_port=None, workers=6, downloaders=2):
        self.port, self.http_port = port, http_port
        self.stop_flag = threading.Event()
        self.sessions = 0
        self.threads = [threading.Thread(target=self._chatter, args=(i,), daemon=True) for i in range(workers)]
        if http_port:
            self.threads += [threading.Thread(target=self._downloader, args=(i,), daemon=True)
                             for i in range(downloaders)]
        for th in self.threads:
            th.start()

    def _chatter(self, i):
        n = 0
        while not self.stop_flag.is_set():
            try:
                b = shell(self.port)
                b.command('uname -a; cat /proc/cpuinfo', 'W%d_%d' % (i, n))
                b.close()
                self.sessions += 1
            except (OSError, AssertionError):
                if self.stop_flag.wait(0.05):
                    return
            n += 1

    def _downloader(self, i):
        n = 0
        while not self.stop_flag.is_set():
            try:
                b = shell(self.port)
                b.command('cd /tmp; wget http://127.0.0.1:%d/%d-%d' % (self.http_port, i, n), 'D%d_%d' % (i, n))
                b.close()
            except (OSError, AssertionError):
                if self.stop_flag.wait(0.05):
                    return
            n += 1

    def stop(self):
        self.stop_flag.set()
        for th in self.threads:
            th.join(60)


def wait_count(s, eventid, pred, n, timeout=60):
    """The events of a type matching pred, once there are at least n of them (polls the
    events file as harness.Sensor.events does)."""
    deadline = time.monotonic() + timeout
    while True:
        got = [e for e in s.events(eventid) if pred(e)]
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


class StoreTest(harness.unittest.TestCase):
    def test_repeated_downloads_in_parallel_sessions(self):
        """200 downloads of one file from 4 sessions at once: the sample is seen 200 times,
        exactly one download is new, every event's `duplicate` agrees with the store, and no
        write is lost or retried (issue 11's reproduction: 189 and 22 "database is locked")."""
        data = fake_bot('mips', 6000)
        srv = CountingHTTP(body=data)
        sessions, per_session = 4, 50
        try:
            with harness.Sensor(sets=SETS) as s:
                url = 'http://127.0.0.1:%d/d.bin' % srv.port

                def bot(n):
                    b = shell(s.port)
                    line = '; '.join('wget -O /tmp/f%d http://127.0.0.1:%d/d.bin' % (i, srv.port)
                                     for i in range(per_session))
                    b.command('cd /tmp; ' + line, 'DONE%d' % n)
                    b.close()

                run_parallel([lambda n=n: bot(n) for n in range(sessions)])
                total = sessions * per_session
                dl = wait_count(s, 'mitsu.session.file_download', lambda e: e.get('url') == url, total)
                self.assertEqual(len(dl), total)
                self.assertEqual(sum(1 for e in dl if not e['duplicate']), 1)
                self.assertEqual(srv.requests, total)
                rows = db_rows(s.data_dir, 'SELECT times_seen FROM samples WHERE sha256 = ?', sha(data))
                self.assertEqual(rows, [(total,)])
                src = db_rows(s.data_dir, 'SELECT count(*) FROM sample_sources WHERE sha256 = ?', sha(data))
                self.assertEqual(src, [(total,)])
                stored = [e for e in s.events('mitsu.sample.stored') if e['shasum'] == sha(data)]
                self.assertEqual(len(stored), total)
                self.assertEqual(sum(1 for e in stored if not e['duplicate']), 1)
            err = s.stderr()
            for mark in LOST:
                self.assertNotIn(mark, err)
        finally:
            srv.stop()


    def test_kill_9_under_load_loses_nothing_flushed(self):
        """kill -9 of the sensor while attackers log in, run commands and download samples: after
        a restart, every event events.jsonl had at the kill, and every event of the file after
        the restart, is in mitsu.db, and the reverse; the file has whole lines only; every
        sample file is whole and every samples row has its file."""
        srv = BlobHTTP(512 * 1024)
        s = harness.Sensor(sets=SETS).start()
        load = None
        try:
            load = Load(s.port, srv.port)
            # Under way: sessions closed and samples stored.
            wait_count(s, 'mitsu.session.closed', lambda e: True, 40, timeout=120)
            wait_count(s, 'mitsu.sample.stored', lambda e: True, 3, timeout=120)
            s.proc.send_signal(signal.SIGKILL)
            s.proc.wait()
            before = {e['uuid'] for e in jsonl_events(s.data_dir)}
            load.stop()
            load = None
            self.assertGreater(len(before), 200)
            # The restart is complete once it serves a session; then it stops cleanly.
            s2 = harness.Sensor(sets=SETS, data_dir=s.data_dir).start()
            b = shell(s2.port)
            b.command('echo restarted', 'RESTARTED')
            b.close()
            s2.events(wait_for=('mitsu.command.input', lambda e: 'RESTARTED' in e['input']))
            s2.stop()
            after = [e['uuid'] for e in jsonl_events(s.data_dir)]
            self.assertEqual(len(after), len(set(after)), 'an event twice in events.jsonl')
            self.assertLessEqual(before, set(after))
            stored = db_uuids(s.data_dir)
            self.assertEqual(len(stored), len(set(stored)), 'an event twice in mitsu.db')
            self.assertEqual(set(stored), set(after))
            self.assertEqual(db_rows(s.data_dir, 'PRAGMA integrity_check'), [('ok',)])
            rows = check_samples(self, s.data_dir)
            self.assertGreaterEqual(len(rows), 3)
            # Every sample the events announce is stored, file and row.
            announced = {e['shasum'] for e in jsonl_events(s.data_dir) if e['eventid'] == 'mitsu.sample.stored'}
            self.assertLessEqual(announced, rows)
        finally:
            if load:
                load.stop()
            s.proc.kill() if s.proc.poll() is None else None
            s.cleanup()
            srv.stop()

    def test_disk_full_then_space_returns(self):
        """The data folder's disk fills (a small tmpfs): the sensor says so clearly, sessions go
        on, nothing stored is damaged, and recording resumes once there is room again."""
        mnt = tempfile.mkdtemp(prefix='mitsu-full-%d-' % os.getpid())
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], check=True)
        data = os.path.join(mnt, 'data')
        try:
            # What a full disk must make the sensor say, and nothing else.
            full = [r'^store: mitsu\.db refused a write: database or disk is full',
                    r'^bus: \d+ events not stored in mitsu\.db',
                    r'^jsonl: cannot write events\.jsonl: No space left on device',
                    r'^bus: sink jsonl failed to flush',
                    r'^bus: \d+ events emitted; \d+ not stored in mitsu\.db']
            with harness.Sensor(sets=SETS, data_dir=data, expect_log=full) as s:
                b = shell(s.port)
                b.command('echo before', 'BEFORE')
                b.close()
                s.events(wait_for=('mitsu.session.closed', None))
                # Fill what is left of the disk.
                filler = os.path.join(mnt, 'filler')
                with open(filler, 'wb', buffering=0) as f:
                    for chunk in (65536, 4096, 1):
                        try:
                            while True:
                                f.write(b'\0' * chunk)
                        except OSError as e:
                            self.assertEqual(e.errno, errno.ENOSPC)
                # Sessions go on, answered as before, though nothing can be recorded.
                for i in range(3):
                    b = shell(s.port)
                    out = b.command('echo during%d' % i, 'DURING%d' % i)
                    self.assertIn(b'during%d' % i, out)
                    b.close()
                deadline = time.monotonic() + 60
                while ('cannot write events.jsonl: No space left on device' not in s.stderr()
                       or "the data folder's disk is full" not in s.stderr()):
                    self.assertLess(time.monotonic(), deadline, 'no clear error:\n' + s.stderr())
                    time.sleep(0.05)
                # Room again: the next session is recorded in both.
                os.unlink(filler)
                b = shell(s.port)
                b.command('echo after', 'AFTERMARK')
                b.close()
                s.events(wait_for=('mitsu.command.input', lambda e: 'AFTERMARK' in e['input']), timeout=60)
                rows = db_rows(data, "SELECT count(*) FROM events WHERE json LIKE '%AFTERMARK%'")
                self.assertGreaterEqual(rows[0][0], 1)
                self.assertIn('events.jsonl is written again', s.stderr())
                self.assertIn('mitsu.db takes writes again', s.stderr())
            # Nothing stored is damaged.
            self.assertEqual(db_rows(data, 'PRAGMA integrity_check'), [('ok',)])
            evs = jsonl_events(data)
            self.assertTrue(any('BEFORE' in e.get('input', '') for e in evs))
            stored = set(db_uuids(data))
            self.assertLessEqual({e['uuid'] for e in evs if 'BEFORE' in e.get('input', '')}, stored)
        finally:
            subprocess.run(['umount', '-l', mnt])
            shutil.rmtree(mnt, ignore_errors=True)

    def test_large_samples_do_not_stall_other_sessions(self):
        """A 16 MB download is hashed (three digests) and written (fsync) off the loop: another
        session's commands are answered between the download's last byte and the sample's
        mitsu.sample.stored. On the loop, nothing would be answered in between (the digests
        alone take tens to hundreds of milliseconds; a command, well under one)."""
        size = 16 * 1000 * 1000
        body = random.Random(16).randbytes(size)
        held, release = threading.Event(), threading.Event()

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header('Content-Length', str(size))
                self.end_headers()
                self.wfile.write(body[:-1])
                self.wfile.flush()
                held.set()
                release.wait(60)
                self.wfile.write(body[-1:])

            def log_message(self, *a):
                pass

        httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        digest = hashlib.sha256(body).hexdigest()
        try:
            with harness.Sensor(sets=SETS) as s:
                pinger = shell(s.port)
                getter = shell(s.port)
                getter.sendline('cd /tmp; wget http://127.0.0.1:%d/big; /bin/busybox BIGDONE'
                                % httpd.server_address[1])
                self.assertTrue(held.wait(60))
                # Everything but the last byte is there; the test pings, then releases it.
                pinger.command('echo ready', 'READY')
                release.set()
                t_release = time.time()
                n = 0
                while not [e for e in s.events('mitsu.sample.stored') if e['shasum'] == digest]:
                    pinger.command('echo %d' % n, 'PING%d' % n)
                    n += 1
                    self.assertLess(n, 100000)
                getter.read_until_token(b'BIGDONE: applet not found', timeout=60)
                getter.close()
                pinger.close()
                stored = [e for e in s.events('mitsu.sample.stored') if e['shasum'] == digest][0]
                t_stored = event_time(stored)
                between = [e for e in s.events('mitsu.command.input')
                           if 'PING' in e['input'] and t_release < event_time(e) < t_stored]
                self.assertGreaterEqual(len(between), 3, '%d commands answered while the sample '
                                        'was being stored (of %d)' % (len(between), n))
                path = os.path.join(s.data_dir, 'samples', digest[:2], digest)
                self.assertEqual(os.path.getsize(path), size)
        finally:
            release.set()
            httpd.shutdown()
            httpd.server_close()

if __name__ == '__main__':
    harness.main()
