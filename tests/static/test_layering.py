#!/usr/bin/env python3
"""The layering of src/ is the table in src/meson.build: a folder may include only itself and
the folders it declares, and each declared folder comes before it (no cycles). The build links
every folder's unit tests against that folder's library alone, so an upward call also fails to
link; this test catches an upward #include even where no call follows it.
"""
import ast
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'integration'))
import harness  # noqa: E402

ROOT = harness.ROOT
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def layers():
    """[(folder, [declared folders])] in the order of src/meson.build's table."""
    with open(os.path.join(ROOT, 'src', 'meson.build')) as f:
        text = f.read()
    m = re.search(r'^layers = (\[.*?^\])', text, re.S | re.M)
    if not m:
        raise AssertionError('no layers table in src/meson.build')
    return [(name, deps) for name, deps in ast.literal_eval(m.group(1))]


class LayeringTest(unittest.TestCase):
    def test_declared_folders_come_first(self):
        seen = set()
        table = layers()
        self.assertGreater(len(table), 5)
        for name, deps in table:
            for d in deps:
                self.assertIn(d, seen, '%s declares %s, which is not below it' % (name, d))
            seen.add(name)

    def test_every_folder_is_in_the_table(self):
        names = {n for n, _ in layers()}
        src = os.path.join(ROOT, 'src')
        for d in sorted(os.listdir(src)):
            if os.path.isdir(os.path.join(src, d)):
                self.assertIn(d, names, 'src/%s is missing from the layers of src/meson.build' % d)

    def test_includes_follow_the_table(self):
        bad = []
        for name, deps in layers():
            allowed = set(deps) | {name}
            folder = os.path.join(ROOT, 'src', name)
            for dirpath, _, files in os.walk(folder):
                for fn in files:
                    if not fn.endswith(('.c', '.h')):
                        continue
                    path = os.path.join(dirpath, fn)
                    with open(path, errors='replace') as f:
                        for inc in INCLUDE.findall(f.read()):
                            if inc not in allowed:
                                bad.append('%s includes %s/' % (os.path.relpath(path, ROOT), inc))
        self.assertEqual(bad, [], 'includes that run upward or sideways: ' + '; '.join(bad))


if __name__ == '__main__':
    harness.main()
