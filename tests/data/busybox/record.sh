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
# netstat over the /proc/net files a mitsu session shows (netstat/PROFILE/{tcp,tcp6,udp,udp6,
# unix,route}, captured from the emulation, the attacker's port replaced by 40000): the real
# busybox runs in a chroot whose /proc/net holds them, so it formats exactly these sockets.
# Never the machine's own sockets: nothing is sent anywhere.
root=$(mktemp -d)
mkdir -p "$root/bin" "$root/proc/net"
cp "$(command -v $bb)" "$root/bin/busybox"
for d in netstat/*/; do
	cp "$d"tcp "$d"tcp6 "$d"udp "$d"udp6 "$d"unix "$d"route "$root/proc/net/"
	: > "$root/proc/net/raw"; : > "$root/proc/net/raw6"
	for o in -an -a -tln -tun -tuln -lx -rn -r; do
		chroot "$root" /bin/busybox netstat $o > "${d}netstat$o.txt"
	done
done
rm -rf "$root"
# ping of the loopback address only (its format; round-trip times vary)
$bb ping -c 2 127.0.0.1 > ping_c2_lo.txt
# timeout: its program killed by SIGTERM (ash's "Terminated", status 143)
$bb sh -c "$bb timeout 1 $bb sleep 3; echo status=\$?" > timeout_1_sleep_3.txt 2>&1
# hexdump -e: every format of hexdump_e_formats.txt (one a line) over the alphabet file, each
# answer after a "== FORMAT" line; and dd's zeros through a -e format (its "*" line)
printf 'abcdefghijklmnopqrstuvwxyz\n' > /tmp/mitsu-rec-alpha
while IFS= read -r f; do
	echo "== $f"
	$bb hexdump -e "$f" /tmp/mitsu-rec-alpha
done < hexdump_e_formats.txt > hexdump_e.txt
rm -f /tmp/mitsu-rec-alpha
$bb dd if=/dev/zero bs=64 count=1 2>/dev/null | $bb hexdump -e '16/1 "%02x" "\n"' > dd_zero_hexdump_e.txt
# The RRQ busybox tftp sends (to a UDP socket on loopback that answers "File not found")
python3 - <<'PY'
import socket, subprocess
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
s.settimeout(10)
port = s.getsockname()[1]
p = subprocess.Popen(['busybox', 'tftp', '-g', '-l', '/tmp/mitsu-rec-tftp', '-r', 'bins/mirai.arm',
                      '127.0.0.1', str(port)], stderr=subprocess.PIPE)
rrq, peer = s.recvfrom(2048)
s.sendto(b'\x00\x05\x00\x01File not found\x00', peer)
err = p.communicate(timeout=10)[1]
open('tftp_rrq.bin', 'wb').write(rrq)
open('tftp_not_found.txt', 'wb').write(err)
PY
rm -f /tmp/mitsu-rec-tftp
# The commands busybox ftpget sends, to a loopback FTP server of a few lines that serves
# "hello" (anonymous login, as without -u and -p; then with -u bot -p pw)
python3 - <<'PY'
import socket, subprocess, threading
def rec(extra):
    srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
    data = socket.socket(); data.bind(('127.0.0.1', 0)); data.listen(1)
    dport = data.getsockname()[1]
    cmds = []
    def serve():
        c, _ = srv.accept(); f = c.makefile('rb')
        c.sendall(b'220 ready\r\n')
        while True:
            line = f.readline()
            if not line:
                break
            cmds.append(line)
            w = line.split()[0].upper()
            if w == b'RETR':
                c.sendall(b'150 go\r\n'); d, _ = data.accept(); d.sendall(b'hello'); d.close()
                c.sendall(b'226 done\r\n')
                continue
            r = {b'USER': b'331 pass', b'PASS': b'230 ok', b'TYPE': b'200 ok', b'SIZE': b'213 5',
                 b'QUIT': b'221 bye', b'EPSV': b'229 Extended Passive Mode (|||%d|)' % dport}.get(w)
            c.sendall((r or b'500 ?') + b'\r\n')
            if w == b'QUIT':
                break
        c.close()
    t = threading.Thread(target=serve); t.start()
    subprocess.run(['busybox', 'ftpget'] + extra + ['-P', str(srv.getsockname()[1]), '127.0.0.1',
                    '/tmp/mitsu-rec-ftp', 'bins/mirai.arm'], timeout=20)
    t.join(10)
    return b''.join(cmds)
open('ftpget_commands.txt', 'wb').write(rec([]))
open('ftpget_commands_user.txt', 'wb').write(rec(['-u', 'bot', '-p', 'pw']))
PY
rm -f /tmp/mitsu-rec-ftp
# who without a utmp file (none on the devices): in a chroot that has none
root=$(mktemp -d)
mkdir -p "$root/bin"
cp "$(command -v $bb)" "$root/bin/busybox"
chroot "$root" /bin/busybox who > who.txt
chroot "$root" /bin/busybox who -H > who_H.txt
rm -rf "$root"
# od with each option set of od_options.txt (one a line) over the alphabet file, each answer
# after a "== od OPTIONS" line; and dd's zeros through od -tx1 (its "*" line)
printf 'abcdefghijklmnopqrstuvwxyz\n' > /tmp/mitsu-rec-alpha
while IFS= read -r o; do
	echo "== od $o"
	$bb od $o /tmp/mitsu-rec-alpha
done < od_options.txt > od_all.txt
rm -f /tmp/mitsu-rec-alpha
$bb dd if=/dev/zero bs=64 count=1 2>/dev/null | $bb od -tx1 > dd_zero_od_tx1.txt
