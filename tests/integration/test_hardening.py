"""Hardening (issue 11): the sensor after dropping privileges, the sensor-wide budgets of
attacker files and shell memory (the flood of connections is tests/integration/test_flood.py).
Each test counts what it checks: the sample on disk and its row, which session gave way and
that the others did not."""
import grp
import hashlib
import os
import pwd
import sqlite3
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TelnetBot  # noqa: E402

FAST = ['telnet.fail_delay_ms=0']


def shell(port, timeout=30):
    bot = TelnetBot(port, timeout=timeout)
    bot.read_until_token(b'ogin')
    bot.sendline('root')
    bot.read_until_token(b'assword')
    bot.sendline('xc3511')
    bot.read_prompt()
    return bot


def store_rows(data_dir, sql, args=()):
    """Rows of a query on the sensor's store (read-only, while it runs)."""
    db = sqlite3.connect('file:%s?mode=ro' % os.path.join(data_dir, 'mitsu.db'), uri=True, timeout=10)
    try:
        return db.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []  # the schema is not there yet
    finally:
        db.close()


class PrivilegeTest(harness.unittest.TestCase):
    def test_captures_a_sample_after_dropping_privileges(self):
        """Started as root with core.user set and the data folder prepared as docs/operations.md
        says: an attacker's file lands in DATA/samples (owned by that user, 0400) and its row in
        the store, and the sensor logs no warning (a capture that fails says so)."""
        if os.geteuid() != 0:
            raise AssertionError('this test starts the sensor as root')
        user = pwd.getpwnam('nobody')
        group = grp.getgrgid(user.pw_gid).gr_name
        s = harness.Sensor(sets=FAST + ['core.user=nobody', 'box.auto=false'])
        # The harness's own folder (stderr, config) is root's; the user must reach DATA in it.
        os.chmod(s.tmp, 0o755)
        subprocess.run(['install', '-d', '-o', 'nobody', '-g', group, '-m', '0750', s.data_dir],
                       check=True)
        data = b'#!/bin/sh\necho dropped-%d\n' % os.getpid()
        sha = hashlib.sha256(data).hexdigest()
        with s:
            bot = shell(s.port)
            # A session is served, so the loop runs, so the privileges were dropped (the port
            # accepted before: it is bound, and connections wait in its backlog, as root).
            with open('/proc/%d/status' % s.proc.pid) as f:
                uids = [line.split()[1:] for line in f if line.startswith('Uid:')][0]
            self.assertEqual(set(uids), {str(user.pw_uid)})
            escaped = ''.join('\\x%02x' % b for b in data)
            bot.command("echo -ne '%s' > /tmp/s.sh; rm /tmp/s.sh" % escaped, 'DONE')
            bot.close()
            ev = s.events(wait_for=('mitsu.session.file_upload', lambda e: e['shasum'] == sha))
            self.assertTrue([e for e in ev if e['eventid'] == 'mitsu.sample.stored' and e['shasum'] == sha])
            path = os.path.join(s.data_dir, 'samples', sha[:2], sha)
            with open(path, 'rb') as f:
                self.assertEqual(f.read(), data)
            st = os.stat(path)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (user.pw_uid, 0o400))
            rows = harness.wait_until(lambda: store_rows(
                s.data_dir, 'SELECT size, times_seen FROM samples WHERE sha256 = ?', (sha,)),
                timeout=30, what='the sample row; the sensor said:\n' + s.stderr()[-2000:])
            self.assertEqual(rows, [(len(data), 1)])
            src = harness.wait_until(lambda: store_rows(
                s.data_dir, 'SELECT source, destfile FROM sample_sources WHERE sha256 = ?', (sha,)),
                timeout=30, what='the sample source row; the sensor said:\n' + s.stderr()[-2000:])
            self.assertEqual([(a, b.rsplit('/', 1)[-1]) for a, b in src], [('upload', 's.sh')])


# A 10,000-byte string in $x, built in the shell (the input line stays short).
MAKE_X = ('x=0123456789; x=$x$x$x$x$x$x$x$x$x$x; x=$x$x$x$x$x$x$x$x$x$x; '
          'x=$x$x$x$x$x$x$x$x$x$x')


def tens(k):
    """k times $x: k * 10,000 bytes once expanded."""
    return '$x' * k


def closed_reason(s, bot):
    """Waits until the server closed bot's connection, then returns its session's close reason."""
    harness.wait_until(lambda: bot.closed or (bot.recv_some(0.2) and False), timeout=30,
                       what='the session to be closed')
    port = bot.sock.getsockname()[1]
    ev = s.events(wait_for=('mitsu.session.closed', lambda e: e['src_port'] == port))
    return [e['reason'] for e in ev if e['eventid'] == 'mitsu.session.closed' and e['src_port'] == port][0]


class BudgetTest(harness.unittest.TestCase):
    """limits.vfs_total and limits.shell_memory_total: three sessions hold 50, 150 and then
    80 thousand bytes of a 256 KiB budget; the one holding the most (150) gives way with the
    budget's reason, and the other two go on with what they hold intact."""

    def run_budget(self, option, hold, check, reason):
        with harness.Sensor(sets=FAST + ['%s=256K' % option]) as s:
            bots = [shell(s.port) for _ in range(3)]
            for bot, k in zip(bots[:2], (5, 15)):
                bot.command('%s; %s' % (MAKE_X, hold('v', k)), 'HELD')
            bots[2].sendline('%s; %s; /bin/busybox HELD' % (MAKE_X, hold('v', 8)))
            self.assertEqual(closed_reason(s, bots[1]), reason)
            bots[2].read_until_token(b'HELD: applet not found')
            for bot, k in ((bots[0], 5), (bots[2], 8)):
                self.assertEqual(bot.command(check('v'), 'LEN').split()[-1], b'%d' % (k * 10000))
                bot.close()
            ev = s.events(wait_for=('mitsu.session.closed', lambda e: len(
                [x for x in s.events() if x['eventid'] == 'mitsu.session.closed']) == 3))
            self.assertEqual(sorted(e['reason'] for e in ev if e['eventid'] == 'mitsu.session.closed'),
                             sorted(['peer', 'peer', reason]))
            return s, ev

    def test_file_budget(self):
        s, ev = self.run_budget('limits.vfs_total',
                                lambda n, k: 'echo -n %s > /var/%s' % (tens(k), n),
                                lambda n: 'wc -c < /var/%s' % n, 'file_budget')
        # The files of the session that gave way are still reported (evidence is kept).
        ups = [e for e in ev if e['eventid'] == 'mitsu.session.file_upload' and e['size'] == 150000]
        self.assertEqual(len(ups), 1)

    def test_memory_budget(self):
        self.run_budget('limits.shell_memory_total', lambda n, k: '%s=%s' % (n, tens(k)),
                        lambda n: 'echo ${#%s}' % n, 'memory_budget')


if __name__ == '__main__':
    harness.main()
