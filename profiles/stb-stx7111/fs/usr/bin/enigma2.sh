#!/bin/sh

while true; do
	/usr/bin/enigma2
	RET=$?
	case $RET in
		1) /sbin/halt ;;
		2) /sbin/reboot ;;
		*) ;;
	esac
done
