#!/usr/bin/env python3
"""A flood of Telnet connections against a sensor on loopback, with a well-behaved client
measuring its own latency meanwhile. Used by bench/flood/run (the full size: 100,000
connections) and tests/integration/test_hardening.py (a scaled-down run).

  flood.py flood  --port P --total N [--slow 0.5] [--sources K] ...   prints a JSON summary
  flood.py client --port P --stop-file F                              prints a JSON summary
  flood.py run    --port P --pid PID --total N ...                    both, plus the sensor's memory

The flood opens connections as fast as loopback allows, each from one of K source addresses
in 127/8 (never 127.0.0.1, which the well-behaved client uses). Half of them (--slow) are
slowloris peers: they trickle one byte every --slow-interval seconds and never finish a line,
holding their connection until the flood ends. The others are scanners: they connect, read the
greeting and close. The well-behaved client runs the Mirai scanner's dialogue (login, a
command, close) one session after another and times each answer.

Everything goes to 127.0.0.0/8 only; every loop is bounded in count and time."""
import argparse
import errno
import heapq
import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time

HOST = '127.0.0.1'
# Slowloris connections one flood process holds at most (a process here may have only 20,000
# descriptors, and a root without CAP_SYS_RESOURCE cannot raise that).
FLOOD_SLOW_PER_PROCESS = 12000


def source_addresses(n, first=0):
    """n distinct addresses of 127/8 other than 127.0.0.1: the first+1st, first+2nd... of
    127.10.0.1, 127.10.0.2, ... (host bytes 0 and 255 skipped)."""
    out = []
    k = 0
    while len(out) < n:
        k += 1
        if k <= first:
            continue
        out.append('127.%d.%d.%d' % (10 + k // 254 // 256 % 200, k // 254 % 256, k % 254 + 1))
    return out


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, hard), max(need, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def flood(port, total, slow=0.5, nsources=200, concurrency=256, slow_interval=5.0,
          time_limit=600.0, first_source=0):
    """Opens `total` connections; returns counts of what happened to them."""
    nslow = int(total * slow)
    raise_fd_limit(nslow + concurrency + 1024)
    srcs = source_addresses(nsources, first_source)
    sel = selectors.DefaultSelector()
    st = {'connections': 0, 'scanners': 0, 'slowloris': 0, 'greeted': 0,
          'refused': 0, 'connect_errors': 0, 'slow_closed_by_server': 0,
          'slow_bytes': 0, 'slow_open_at_end': 0}
    inflight = 0          # scanner connections not yet finished
    timers = []           # (when, seq, sock) of slowloris bytes to send
    conns = {}            # sock -> [kind, connected]
    seq = 0
    started = time.monotonic()
    deadline = started + time_limit
    # Interleave the kinds evenly: connection i is a slowloris when its share says so.
    kinds = [(i * slow) % 1.0 + slow >= 1.0 for i in range(total)] if 0 < slow < 1 else [slow >= 1] * total

    def close(sock):
        nonlocal inflight
        kind, _ = conns.pop(sock)
        if kind == 'scan':
            inflight -= 1
        try:
            sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()

    def open_one(i):
        nonlocal inflight
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((srcs[i % len(srcs)], 0))
            rc = s.connect_ex((HOST, port))
        except OSError:
            s.close()
            st['connect_errors'] += 1
            return
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            st['connect_errors'] += 1
            return
        kind = 'slow' if kinds[i] else 'scan'
        st['connections'] += 1
        st['slowloris' if kind == 'slow' else 'scanners'] += 1
        if kind == 'scan':
            inflight += 1
        conns[s] = [kind, False]
        sel.register(s, selectors.EVENT_WRITE)

    i = 0
    while (i < total or inflight) and time.monotonic() < deadline:
        while i < total and inflight < concurrency:
            open_one(i)
            i += 1
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            _, _, s = heapq.heappop(timers)
            if s in conns:
                try:
                    s.send(b'a')  # never a line: the slowloris' whole point
                    st['slow_bytes'] += 1
                    heapq.heappush(timers, (now + slow_interval, seq, s))
                    seq += 1
                except OSError:
                    st['slow_closed_by_server'] += 1
                    close(s)
        wait = min(0.05, max(0.0, timers[0][0] - now)) if timers else 0.05
        for key, ev in sel.select(wait):
            s = key.fileobj
            if s not in conns:
                continue
            kind, connected = conns[s]
            if not connected:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    st['connect_errors'] += 1
                    close(s)
                    continue
                conns[s][1] = True
                sel.modify(s, selectors.EVENT_READ)
                if kind == 'slow':
                    heapq.heappush(timers, (time.monotonic() + slow_interval, seq, s))
                    seq += 1
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b''
            if kind == 'scan':
                st['greeted' if data else 'refused'] += 1
                close(s)
            elif not data:
                st['slow_closed_by_server'] += 1
                close(s)
    st['slow_open_at_end'] = sum(1 for k, _ in conns.values() if k == 'slow')
    for s in list(conns):
        close(s)
    st['seconds'] = round(time.monotonic() - started, 2)
    st['per_second'] = round(st['connections'] / max(st['seconds'], 1e-6))
    return st


def read_until(sock, token, timeout):
    data = b''
    deadline = time.monotonic() + timeout
    while token not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError('no %r (got %r)' % (token, data[-200:]))
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('closed before %r (got %r)' % (token, data[-200:]))
        # Answer option negotiation as Mirai does (WONT/DONT to everything).
        i = chunk.find(b'\xff')
        while 0 <= i < len(chunk) - 2:
            if chunk[i + 1] in (251, 253):
                sock.sendall(bytes([255, 254 if chunk[i + 1] == 251 else 252, chunk[i + 2]]))
            i = chunk.find(b'\xff', i + 3)
        data += chunk
    return data


def one_session(port, timeout=10.0):
    """The Mirai scanner's dialogue; returns the latency (s) of each answer."""
    lat = []
    t = time.monotonic()
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        read_until(s, b'ogin', timeout)
        lat.append(time.monotonic() - t)
        for line, answer in ((b'root', b'assword'), (b'xc3511', b'#'),
                             (b'/bin/busybox FLOOD', b'FLOOD: applet not found')):
            t = time.monotonic()
            s.sendall(line + b'\r\n')
            read_until(s, answer, timeout)
            lat.append(time.monotonic() - t)
    finally:
        s.close()
    return lat


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def client(port, stop_file, min_sessions=1, time_limit=600.0, step_timeout=10.0):
    """Runs sessions one after another until stop_file exists (and min_sessions are done).
    A session fails when an answer takes longer than step_timeout seconds."""
    lat, done, failed, errors = [], 0, 0, []
    deadline = time.monotonic() + time_limit
    while time.monotonic() < deadline and (done + failed < min_sessions or not os.path.exists(stop_file)):
        try:
            lat += one_session(port, step_timeout)
            done += 1
        except (OSError, TimeoutError, ConnectionError) as e:
            failed += 1
            if len(errors) < 10:
                errors.append(str(e))
    ms = [x * 1000 for x in lat]
    return {'sessions': done, 'failed': failed, 'errors': errors, 'answers': len(ms),
            'p50_ms': round(percentile(ms, 50), 2) if ms else None,
            'p99_ms': round(percentile(ms, 99), 2) if ms else None,
            'max_ms': round(max(ms), 2) if ms else None}


def rss_kb(pid, field='VmRSS'):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run(port, pid, total, slow=0.5, nsources=200, concurrency=256, slow_interval=5.0,
        time_limit=600.0, min_sessions=5, step_timeout=10.0, flood_nice=0):
    """The flood and the well-behaved client in processes of their own, while this one samples
    the sensor's memory. Returns {'flood': ..., 'client': ..., 'rss_kb_before', 'rss_kb_peak'}."""
    me = os.path.abspath(__file__)
    stop = '/tmp/mitsu-flood-stop-%d-%d' % (os.getpid(), port)
    if os.path.exists(stop):
        os.unlink(stop)
    before = rss_kb(pid)
    peak = [before or 0]
    done = threading.Event()

    def sample():
        while not done.wait(0.05):
            r = rss_kb(pid)
            if r:
                peak[0] = max(peak[0], r)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    cl = subprocess.Popen([sys.executable, me, 'client', '--port', str(port), '--stop-file', stop,
                           '--min-sessions', str(min_sessions), '--time-limit', str(time_limit),
                           '--step-timeout', str(step_timeout)],
                          stdout=subprocess.PIPE, text=True)
    # One process holds at most FLOOD_SLOW_PER_PROCESS slowloris connections (a process may
    # have few descriptors); the sources are split between the processes.
    nproc = max(1, -(-int(total * slow) // FLOOD_SLOW_PER_PROCESS))
    procs = []
    try:
        for k in range(nproc):
            share = total // nproc + (k < total % nproc)
            procs.append(subprocess.Popen(
                [sys.executable, me, 'flood', '--port', str(port), '--total', str(share),
                 '--slow', str(slow), '--sources', str(max(1, nsources // nproc)),
                 '--first-source', str(k * max(1, nsources // nproc)),
                 '--concurrency', str(max(1, concurrency // nproc)),
                 '--slow-interval', str(slow_interval), '--time-limit', str(time_limit)],
                stdout=subprocess.PIPE, text=True,
                preexec_fn=(lambda: os.nice(flood_nice)) if flood_nice else None))
        parts = []
        for p in procs:
            out, _ = p.communicate(timeout=time_limit + 60)
            if p.returncode:
                raise RuntimeError('a flood process failed (%d)' % p.returncode)
            parts.append(json.loads(out))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        open(stop, 'w').close()
        out, _ = cl.communicate(timeout=time_limit + 60)
        os.unlink(stop)
        done.set()
        th.join()
    fl = {k: sum(p[k] for p in parts) for k in parts[0] if k not in ('seconds', 'per_second')}
    fl['processes'] = nproc
    fl['seconds'] = max(p['seconds'] for p in parts)
    fl['per_second'] = round(fl['connections'] / max(fl['seconds'], 1e-6))
    hwm = rss_kb(pid, 'VmHWM')
    return {'flood': fl, 'client': json.loads(out),
            'rss_kb_before': before, 'rss_kb_peak': max(peak[0], hwm or 0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mode', choices=('flood', 'client', 'run'))
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--pid', type=int, help='the sensor (run: its memory is sampled)')
    ap.add_argument('--total', type=int, default=100000)
    ap.add_argument('--slow', type=float, default=0.5)
    ap.add_argument('--sources', type=int, default=200)
    ap.add_argument('--first-source', type=int, default=0)
    ap.add_argument('--concurrency', type=int, default=256)
    ap.add_argument('--slow-interval', type=float, default=5.0)
    ap.add_argument('--stop-file')
    ap.add_argument('--min-sessions', type=int, default=1)
    ap.add_argument('--time-limit', type=float, default=600.0)
    ap.add_argument('--step-timeout', type=float, default=10.0)
    ap.add_argument('--flood-nice', type=int, default=0,
                    help='run: the flood processes at this niceness (they stand for other hosts)')
    a = ap.parse_args()
    if a.mode == 'flood':
        r = flood(a.port, a.total, a.slow, a.sources, a.concurrency, a.slow_interval, a.time_limit,
                  a.first_source)
    elif a.mode == 'client':
        r = client(a.port, a.stop_file, a.min_sessions, a.time_limit, a.step_timeout)
    else:
        r = run(a.port, a.pid, a.total, a.slow, a.sources, a.concurrency, a.slow_interval,
                a.time_limit, a.min_sessions, a.step_timeout, a.flood_nice)
    print(json.dumps(r))


if __name__ == '__main__':
    main()
