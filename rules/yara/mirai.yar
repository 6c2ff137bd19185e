// Mirai and its descendants (Okiru, Satori, Masuta, ...). Written for mitsu from the traits of
// the source published in 2016: the string table hidden with XOR 0x22 (table key 0xdeadbeef),
// the scanner's credential table (also XOR 0x22), the watchdog trick and the killer.

rule Mirai_Table_Strings
{
    meta:
        family = "mirai"
        description = "Mirai's string table, each byte XORed with 0x22"
    strings:
        $proc_tcp = "/proc/net/tcp" xor(0x22)
        $query = "/bin/busybox MIRAI" xor(0x22)
        $resp = "MIRAI: applet not found" xor(0x22)
        $ncorrect = "ncorrect" xor(0x22)
        $vse = "TSource Engine Query" xor(0x22)
        $resolv = "/etc/resolv.conf" xor(0x22)
        $nserv = "nameserver " xor(0x22)
        $enable = "enable" xor(0x22)
        $shell = "shell" xor(0x22)
        $ps = "/bin/busybox ps" xor(0x22)
        $kill9 = "/bin/busybox kill -9 " xor(0x22)
    condition:
        uint32(0) == 0x464c457f and 3 of them
}

rule Mirai_Credential_Table
{
    meta:
        family = "mirai"
        description = "default IoT credentials stored XORed with 0x22, as Mirai's scanner does"
    strings:
        $c1 = "xc3511" xor(0x22)
        $c2 = "vizxv" xor(0x22)
        $c3 = "xmhdipc" xor(0x22)
        $c4 = "juantech" xor(0x22)
        $c5 = "smcadmin" xor(0x22)
        $c6 = "7ujMko0admin" xor(0x22)
        $c7 = "Zte521" xor(0x22)
        $c8 = "hi3518" xor(0x22)
        $c9 = "klv1234" xor(0x22)
        $c10 = "ikwb" xor(0x22)
        $c11 = "anko" xor(0x22)
    condition:
        uint32(0) == 0x464c457f and 3 of them
}

rule Mirai_Watchdog_Killer
{
    meta:
        family = "mirai"
        description = "both watchdog devices (kept open so the device never reboots) and a killer walking /proc"
    strings:
        $w1 = "/dev/watchdog"
        $w2 = "/dev/misc/watchdog"
        $k1 = "/proc/net/tcp"
        $k2 = "/proc/%d/exe"
        $k3 = "/proc/%d/fd"
        $k4 = "/proc/%d/cmdline"
    condition:
        uint32(0) == 0x464c457f and all of ($w*) and 1 of ($k*)
}
