"""`mitsu profiles`: the table, JSON lines, the folder lookup order (--dir, sensor.profiles_dir,
MITSU_PROFILES, the source tree) and what happens with a broken profile."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SHIPPED = os.path.join(harness.ROOT, 'profiles')
NAMES = ['dvr-hi3520d', 'router-mt7620', 'router-rtl8196c', 'stb-stx7111']


def json_rows(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class ProfilesTest(harness.unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='mitsu-profiles-it-')
        self.saved_env = os.environ.pop('MITSU_PROFILES', None)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.saved_env is not None:
            os.environ['MITSU_PROFILES'] = self.saved_env
        else:
            os.environ.pop('MITSU_PROFILES', None)

    def copy_profile(self, name, dest=None):
        dest = dest or os.path.join(self.tmp, 'set')
        shutil.copytree(os.path.join(SHIPPED, name), os.path.join(dest, name), symlinks=True)
        return dest

    def test_table(self):
        p = harness.run_mitsu('profiles')
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ['NAME', 'ARCH', 'ENDIAN', 'CATEGORY', 'BUSYBOX', 'DESCRIPTION'])
        # Telnet profiles; web profiles (web.ini) follow them, marked [http, ...].
        rows = {l.split()[0]: l.split() for l in lines[1:] if '[http,' not in l}
        self.assertEqual(sorted(rows), NAMES)
        self.assertEqual(rows['dvr-hi3520d'][1:5], ['arm7', 'little', 'dvr', '1.16.1'])
        self.assertEqual(rows['router-rtl8196c'][1:3], ['mips', 'big'])
        self.assertEqual(rows['router-mt7620'][1:3], ['mpsl', 'little'])
        self.assertEqual(rows['stb-stx7111'][1:3], ['sh4', 'little'])
        self.assertEqual(p.stderr, '')

    def test_json(self):
        rows = [r for r in json_rows(harness.run_mitsu('profiles', '--format', 'json').stdout)
                if r.get('protocol') != 'http']
        self.assertEqual([r['name'] for r in rows], NAMES)
        for r in rows:
            for key in ('name', 'arch', 'endianness', 'category', 'description', 'busybox',
                        'credentials', 'applets', 'uname_m', 'e_machine', 'files', 'bytes'):
                self.assertIn(key, r)
            self.assertIn(r['endianness'], ('little', 'big'))
            self.assertGreater(r['applets'], 20)
            self.assertGreaterEqual(r['credentials'], 1)
            self.assertGreater(r['bytes'], r['files'])
        by = {r['name']: r for r in rows}
        # The default profile accepts Mirai's 60 pairs and Gafgyt's 6 x 14.
        self.assertGreaterEqual(by['dvr-hi3520d']['credentials'], 120)
        self.assertEqual(by['dvr-hi3520d']['e_machine'], 40)
        self.assertEqual(by['router-rtl8196c']['e_machine'], 8)
        self.assertEqual(by['stb-stx7111']['e_machine'], 42)
        self.assertEqual(by['stb-stx7111']['uname_m'], 'sh4')

    def test_dir_flag_and_config(self):
        d = self.copy_profile('router-mt7620')
        for args in (['--dir', d], ['--set', 'sensor.profiles_dir=' + d]):
            rows = json_rows(harness.run_mitsu('profiles', '--format', 'json', *args).stdout)
            self.assertEqual([r['name'] for r in rows], ['router-mt7620'], args)
        cfg = os.path.join(self.tmp, 'mitsu.cfg')
        with open(cfg, 'w') as f:
            f.write('[sensor]\nprofiles_dir = %s\n' % d)
        rows = json_rows(harness.run_mitsu('profiles', '-c', cfg, '--format', 'json').stdout)
        self.assertEqual([r['name'] for r in rows], ['router-mt7620'])
        # --dir wins over the configured folder.
        other = self.copy_profile('stb-stx7111', os.path.join(self.tmp, 'other'))
        rows = json_rows(harness.run_mitsu('profiles', '-c', cfg, '--dir', other, '--format', 'json').stdout)
        self.assertEqual([r['name'] for r in rows], ['stb-stx7111'])

    def test_environment_variable(self):
        d = self.copy_profile('router-rtl8196c')
        os.environ['MITSU_PROFILES'] = d
        rows = json_rows(harness.run_mitsu('profiles', '--format', 'json').stdout)
        self.assertEqual([r['name'] for r in rows], ['router-rtl8196c'])
        # The configured folder wins over the environment.
        other = self.copy_profile('dvr-hi3520d', os.path.join(self.tmp, 'other'))
        rows = json_rows(harness.run_mitsu('profiles', '--format', 'json',
                                           '--set', 'sensor.profiles_dir=' + other).stdout)
        self.assertEqual([r['name'] for r in rows], ['dvr-hi3520d'])

    def test_broken_profile_is_reported_others_listed(self):
        d = self.copy_profile('router-mt7620')
        self.copy_profile('router-rtl8196c', d)
        ini = os.path.join(d, 'router-rtl8196c', 'profile.ini')
        with open(ini) as f:
            text = f.read()
        with open(ini, 'w') as f:
            f.write(text.replace('uname_m = mips', 'uname_m = armv7l'))
        p = harness.run_mitsu('profiles', '--dir', d, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(ini, p.stderr)
        self.assertIn("uname_m 'armv7l' does not match cpu_arch mips", p.stderr)
        names = [l.split()[0] for l in p.stdout.splitlines()[1:]]
        self.assertEqual(names, ['router-mt7620'])

    def test_missing_folder_and_bad_format(self):
        p = harness.run_mitsu('profiles', '--dir', os.path.join(self.tmp, 'nope'), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('nope', p.stderr)
        os.mkdir(os.path.join(self.tmp, 'empty'))
        p = harness.run_mitsu('profiles', '--dir', os.path.join(self.tmp, 'empty'), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('no profiles', p.stderr)
        p = harness.run_mitsu('profiles', '--format', 'xml', check=False)
        self.assertEqual(p.returncode, 2)
        p = harness.run_mitsu('profiles', 'extra', check=False)
        self.assertEqual(p.returncode, 2)

    def test_help(self):
        p = harness.run_mitsu('help', 'profiles')
        self.assertIn('mitsu profiles', p.stdout)
        self.assertIn('--format table|json', p.stdout)


if __name__ == '__main__':
    harness.main()
