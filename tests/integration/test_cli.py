"""The command line: help, version, the man page kept equal to the options table, events."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class CliTest(harness.unittest.TestCase):
    def test_version(self):
        p = harness.run_mitsu('--version')
        self.assertRegex(p.stdout, r'^mitsu \d+\.\d+\.\d+')

    def test_unknown_command_fails(self):
        p = harness.run_mitsu('frobnicate', check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn('no such command', p.stderr)

    def test_man_page_matches_options_table(self):
        """docs/mitsu.1 is what `mitsu help --man` prints from the options and command tables."""
        p = harness.run_mitsu('help', '--man')
        with open(os.path.join(harness.ROOT, 'docs', 'mitsu.1')) as f:
            self.assertEqual(f.read(), p.stdout,
                             'docs/mitsu.1 is stale: run build/mitsu help --man > docs/mitsu.1')

    def test_help_lists_every_option(self):
        """`mitsu help run` shows each option of the man page's CONFIGURATION section."""
        man = harness.run_mitsu('help', '--man').stdout
        keys = [line.split()[1] for line in man.splitlines() if line.startswith('.BR ')]
        self.assertGreater(len(keys), 10)
        helptext = harness.run_mitsu('help', 'run').stdout
        for k in keys:
            self.assertIn(k, helptext)

    def test_events_catalogue(self):
        p = harness.run_mitsu('help', '--events')
        ids = [l.split('\t')[0] for l in p.stdout.splitlines()]
        with open(os.path.join(harness.ROOT, 'docs', 'events.md')) as f:
            doc = f.read()
        for i in ids:
            self.assertIn('`%s`' % i, doc)

    def test_events_on_empty_store_fails_cleanly(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            p = harness.run_mitsu('events', data_dir=d, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertNotIn('Sanitizer', p.stderr)


if __name__ == '__main__':
    harness.main()
