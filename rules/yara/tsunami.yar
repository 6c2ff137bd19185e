// Tsunami / Kaiten: an IRC bot. Written for mitsu from its IRC verbs and the names of the
// floods it takes on a channel ("!* COMMAND ...").

rule Tsunami_Kaiten_IRC
{
    meta:
        family = "tsunami"
        description = "IRC client verbs together with Kaiten's command names"
    strings:
        $nick = "NICK %s"
        $user = "USER %s"
        $privmsg = "PRIVMSG %s :"
        $notice = "NOTICE %s :"
        $join = "JOIN %s"
        $pong = "PONG %s"
        $c1 = "TSUNAMI" fullword
        $c2 = "PAN" fullword
        $c3 = "UNKNOWN" fullword
        $c4 = "GETSPOOFS" fullword
        $c5 = "KILLALL" fullword
        $c6 = "SPOOFS" fullword
        $c7 = "NICK" fullword
        $c8 = "UDP" fullword
        $c9 = "KILLSEC" fullword
    condition:
        uint32(0) == 0x464c457f and 3 of ($nick, $user, $privmsg, $notice, $join, $pong) and 3 of ($c*)
}
