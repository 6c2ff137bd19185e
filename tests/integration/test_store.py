"""The store under load and faults (issue 11): one writer per store, data before its event,
samples hashed off the loop and written atomically. Each test counts what was stored."""
import json
import os
import sqlite3
import sys
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


if __name__ == '__main__':
    harness.main()
