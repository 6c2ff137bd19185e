#!/usr/bin/env python3
"""Every C file of the tree is as .clang-format writes it, so style is never a review topic.

Fix a failure with: git ls-files '*.c' '*.h' | xargs clang-format -i
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'integration'))
import harness  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def c_files():
    out = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard',
                          '*.c', '*.h'], cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return [f for f in out.stdout.split() if os.path.exists(os.path.join(ROOT, f))]


class FormatTest(unittest.TestCase):
    def test_tree_matches_clang_format(self):
        files = c_files()
        self.assertGreater(len(files), 50)
        bad = []
        for i in range(0, len(files), 64):
            chunk = files[i:i + 64]
            p = subprocess.run(['clang-format', '--dry-run', '-Werror'] + chunk, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                for line in p.stderr.splitlines():
                    if ': error:' in line:
                        bad.append(line.split(':', 1)[0])
        bad = sorted(set(bad))
        self.assertEqual(bad, [], 'not formatted (run clang-format -i on them): ' + ' '.join(bad))


if __name__ == '__main__':
    harness.main()
