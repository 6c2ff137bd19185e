// XorDDoS: a Linux DDoS trojan with a rootkit, XOR-encrypted configuration and persistence
// through cron and init scripts. Written for mitsu from its key string and the paths it uses.

rule XorDDoS_Paths_Key
{
    meta:
        family = "xorddos"
        description = "XorDDoS's XOR key or its persistence paths"
    strings:
        $key = "BB2FA36AAA9541F0"
        $p1 = "/etc/cron.hourly/gcc.sh"
        $p2 = "/var/run/gcc.pid"
        $p3 = "/lib/libudev.so"
        $p4 = "/etc/init.d/%s"
        $p5 = "sed -i '/\\/etc\\/cron.hourly\\/gcc.sh/d' /etc/crontab"
        $p6 = "m7A4nQ_/nA"
    condition:
        uint32(0) == 0x464c457f and ($key or 2 of ($p*))
}
