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
