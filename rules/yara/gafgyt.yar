// Gafgyt / Bashlite / Qbot. Written for mitsu from the command words of its text C&C protocol
// and its status replies, which the family keeps in plain text.

rule Gafgyt_Commands
{
    meta:
        family = "gafgyt"
        description = "Gafgyt's C&C command words and replies"
    strings:
        $pong = "PONG!"
        $getlocalip = "GETLOCALIP"
        $scanner = "SCANNER" fullword
        $killattk = "KILLATTK"
        $lolnogtfo = "LOLNOGTFO"
        $hold = "HOLD" fullword
        $junk = "JUNK" fullword
        $std = "STD" fullword
        $myip = "My IP: %s"
        $killed = "Killed %d."
        $none = "None Killed."
        $flooding = "Flooding %s"
        $gayfgt = "gayfgt"
        $bang = "!* "
    condition:
        uint32(0) == 0x464c457f and 4 of them
}

rule Gafgyt_Telnet_Scanner
{
    meta:
        family = "gafgyt"
        description = "Gafgyt's Telnet scanner: report lines and busybox probes"
    strings:
        $r1 = "[Telnet]"
        $r2 = "REPORT %s:%s:%s"
        $r3 = "BUILD %s"
        $b1 = "/bin/busybox;echo -e"
        $b2 = "gayfgt"
        $scan = "SCANNER ON"
    condition:
        uint32(0) == 0x464c457f and 3 of them
}
