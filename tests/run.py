#!/usr/bin/env python3
"""Runs every test of mitsu and prints "N passed, N failed" as the last line.

For each build directory given with --build:
  - every cmocka unit test binary (build/tests/test_*), with TAP output; each test case counts;
  - every fuzz target's standalone replay of its seed corpus (build/tests/fuzz_*), one test per file;
  - every integration test file (tests/integration/test_*.py) against that build's mitsu binary;
    each test method counts.
Once per run: the checks of the source tree (tests/static/test_*.py: format, layering).
A binary that crashes or reports a sanitizer error counts as a failed test.
--repeat N runs the selected tests N times and counts every run (a flaky test shows as the
runs it failed); the labels of a repeated run end in [k/N].
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAP_LINE = re.compile(r'^(ok|not ok)\s+\d+\s*-?\s*(.*)$')
SANITIZER = re.compile(r'(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)')


def sanitizer_env(env):
    env = dict(env)
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0:halt_on_error=1')
    env.setdefault('UBSAN_OPTIONS', 'halt_on_error=1:print_stacktrace=1')
    return env


def parse_tap(text):
    results = []
    for line in text.splitlines():
        m = TAP_LINE.match(line.strip())
        if m:
            results.append((m.group(1) == 'ok', m.group(2).strip()))
    return results


def run_tap(cmd, label, env, timeout, cwd=ROOT):
    """Runs one TAP-producing program; returns [(ok, name, detail)]."""
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, text=True, errors='replace')
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors='replace') if isinstance(e.stdout, bytes) else (e.stdout or '')
        err = 'timed out after %ds' % timeout
        rc = -1
    results = [(ok, '%s: %s' % (label, name), '') for ok, name in parse_tap(out)]
    problem = None
    if SANITIZER.search(err) or SANITIZER.search(out):
        problem = 'sanitizer report'
    elif rc != 0 and all(ok for ok, _, _ in results):
        problem = 'exit status %d' % rc
    elif not results:
        problem = 'no test output'
    if problem:
        results.append((False, '%s: %s' % (label, problem), err[-4000:]))
    else:
        # Attach to each failure its own part of stderr ("--- Name" blocks from the Python
        # harness), or all of it.
        blocks = {}
        for part in re.split(r'^--- ', err, flags=re.M)[1:]:
            name, _, rest = part.partition('\n')
            blocks[name.strip()] = rest
        def detail(n):
            short = n.split(': ', 1)[-1]
            return blocks.get(short, err)[-4000:]
        results = [(ok, n, '' if ok else detail(n)) for ok, n, _ in results]
    return results, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', action='append', required=True, help='a Meson build directory')
    ap.add_argument('--only', default='', help='regular expression: run only matching groups')
    ap.add_argument('--jobs', type=int, default=max(2, os.cpu_count() or 2))
    ap.add_argument('--repeat', type=int, default=1, metavar='N',
                    help='run the selected tests N times, counting every run')
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error('--repeat needs a count of 1 or more')
    only = re.compile(args.only) if args.only else None

    jobs = []  # (label, cmd, env, timeout)
    for build in args.build:
        bdir = os.path.join(ROOT, build) if not os.path.isabs(build) else build
        tag = os.path.basename(bdir.rstrip('/'))
        env = sanitizer_env(os.environ)
        env['CMOCKA_MESSAGE_OUTPUT'] = 'TAP'
        env['MITSU_BIN'] = os.path.join(bdir, 'mitsu')
        env['MITSU_BUILD'] = bdir
        env['PYTHONDONTWRITEBYTECODE'] = '1'
        tdir = os.path.join(bdir, 'tests')
        names = sorted(os.listdir(tdir)) if os.path.isdir(tdir) else []
        for name in names:
            path = os.path.join(tdir, name)
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                continue
            if name.startswith('test_'):
                jobs.append(('%s unit/%s' % (tag, name[5:]), [path], env, 300))
            elif name.startswith('fuzz_'):
                corpus = os.path.join(ROOT, 'tests', 'fuzz', 'corpus', name[5:])
                jobs.append(('%s fuzz-replay/%s' % (tag, name[5:]), [path, corpus], env, 300))
        idir = os.path.join(ROOT, 'tests', 'integration')
        for name in sorted(os.listdir(idir)):
            if name.startswith('test_') and name.endswith('.py'):
                jobs.append(('%s integration/%s' % (tag, name[5:-3]),
                             [sys.executable, os.path.join(idir, name)], env, 600))
    # Checks of the source tree itself (format, layering): once, not per build.
    sdir = os.path.join(ROOT, 'tests', 'static')
    for name in sorted(os.listdir(sdir)) if os.path.isdir(sdir) else []:
        if name.startswith('test_') and name.endswith('.py'):
            env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
            jobs.append(('static/%s' % name[5:-3], [sys.executable, os.path.join(sdir, name)], env, 300))
    if only:
        jobs = [j for j in jobs if only.search(j[0])]
    if args.repeat > 1:
        jobs = [('%s [%d/%d]' % (label, k + 1, args.repeat), cmd, env, timeout)
                for k in range(args.repeat) for label, cmd, env, timeout in jobs]

    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futures = {ex.submit(run_tap, cmd, label, env, timeout): label
                   for label, cmd, env, timeout in jobs}
        for fut in concurrent.futures.as_completed(futures):
            results, secs = fut.result()
            for ok, name, detail in results:
                print('%s %s' % ('ok    ' if ok else 'FAILED', name), flush=True)
                if not ok and detail:
                    for line in detail.rstrip().splitlines():
                        print('       | ' + line)
                passed += ok
                failed += not ok
            print('  (%s: %.1fs)' % (futures[fut], secs), flush=True)
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
