#!/bin/sh
#
# script file to start network
#
# Usage: init.sh {gw | ap} {all | bridge | wan}
#

if [ $# -lt 2 ]; then echo "Usage: $0 {gw | ap} {all | bridge | wan}"; exit 1 ; fi

CONFIG_ROOT_DIR="/var/rtl8192c"
SCRIPT_DIR=/bin
BR_UTIL=brctl
WLAN_PREFIX=wlan
WAN_INTERFACE=eth1
BR_INTERFACE=br0
BR_LAN1_INTERFACE=eth0

flash gen-hw-param
flash set_mib

ifconfig $BR_LAN1_INTERFACE up
$BR_UTIL addbr $BR_INTERFACE
$BR_UTIL addif $BR_INTERFACE $BR_LAN1_INTERFACE
$BR_UTIL addif $BR_INTERFACE ${WLAN_PREFIX}0
ifconfig $BR_INTERFACE 192.168.1.254 netmask 255.255.255.0 up
udhcpd /var/udhcpd.conf
iwcontrol ${WLAN_PREFIX}0
