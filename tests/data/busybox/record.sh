#!/bin/bash
# Re-records the answers of the real BusyBox (Debian's busybox) that test_fidelity.py compares
# the emulation with. Run from this folder, as root: ./record.sh
set -e
bb=busybox
setpriv --groups 0 $bb id > id.txt
printf 'abcdefghijklmnopqrstuvwxyz\n' > /tmp/mitsu-rec-alpha
for f in '' -C -b -c -d -o -x; do
	$bb hexdump $f /tmp/mitsu-rec-alpha > "hexdump${f:-_default}.txt"
done
$bb od /tmp/mitsu-rec-alpha > od_default.txt
$bb dd if=/dev/zero bs=64 count=1 2>/dev/null | $bb hexdump -C > dd_zero_hexdump_C.txt
$bb dd if=/dev/zero bs=64 count=1 2>/dev/null | $bb hexdump -v -C > dd_zero_hexdump_vC.txt
rm -f /tmp/mitsu-rec-alpha
# The request busybox wget sends (the port of the listener replaced by PORT).
python3 - <<'PY'
import socket, subprocess
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
port = s.getsockname()[1]
p = subprocess.Popen(['busybox', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:%d/bins/mirai.arm' % port])
c, _ = s.accept()
req = b''
while b'\r\n\r\n' not in req:
    req += c.recv(4096)
c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
c.close()
p.wait()
open('wget_request.txt', 'wb').write(req.replace(b':%d' % port, b':PORT'))
PY
