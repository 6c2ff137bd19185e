#!/usr/bin/env python3
"""No function of src/ is longer than MAX_LINES lines unless the comment right above it says
why, with the words "Long because" (a state machine or a dispatch table is a fair reason;
"it grew" is not). Functions are found the way the tree is formatted (.clang-format): a
definition's opening brace alone on a line at column 0, its closing brace likewise.
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'integration'))
import harness  # noqa: E402

MAX_LINES = 100
NAME = re.compile(r'(\w+)\s*\(')


def functions(path):
    """(name, first line, number of lines, comment above) of each function definition."""
    with open(path, errors='replace') as f:
        lines = f.read().split('\n')
    out = []
    i = 0
    while i < len(lines):
        if lines[i] == '{' and i > 0:
            j = i - 1
            while j > 0 and '(' not in lines[j]:
                j -= 1
            m = NAME.search(lines[j])
            k = i + 1
            while k < len(lines) and lines[k] != '}':
                k += 1
            # the comment block that ends right above the signature
            c = j - 1
            comment = []
            while c >= 0 and (lines[c].startswith(('/*', ' *', '//')) or lines[c].endswith('*/')):
                comment.insert(0, lines[c])
                c -= 1
            out.append((m.group(1) if m else '?', j + 1, k - i + 1, '\n'.join(comment)))
            i = k
        i += 1
    return out


class FunctionLengthTest(unittest.TestCase):
    def test_no_long_function_without_a_reason(self):
        long_ones = []
        count = 0
        for dirpath, _, files in os.walk(os.path.join(harness.ROOT, 'src')):
            for fn in sorted(files):
                if not fn.endswith('.c'):
                    continue
                path = os.path.join(dirpath, fn)
                for name, line, n, comment in functions(path):
                    count += 1
                    if n > MAX_LINES and 'Long because' not in comment:
                        long_ones.append('%s:%d %s (%d lines)' % (
                            os.path.relpath(path, harness.ROOT), line, name, n))
        self.assertGreater(count, 500)
        self.assertEqual(long_ones, [], 'split these or say "Long because ..." above them: ' +
                         '; '.join(long_ones))


if __name__ == '__main__':
    harness.main()
