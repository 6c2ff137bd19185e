// Mozi: a DHT botnet (from Gafgyt, Mirai and IoT Reaper code). Written for mitsu from the tags
// of its signed configuration and the public DHT nodes it bootstraps from.

rule Mozi_Config_DHT
{
    meta:
        family = "mozi"
        description = "Mozi's configuration tags with DHT bootstrap nodes"
    strings:
        $t1 = "[ss]"
        $t2 = "[hp]"
        $t3 = "[cpu]"
        $t4 = "[nd]"
        $t5 = "[count]"
        $t6 = "[atk]"
        $d1 = "dht.transmissionbt.com"
        $d2 = "router.bittorrent.com"
        $d3 = "router.utorrent.com"
        $d4 = "bttracker.debian.org"
        $d5 = "d1:ad2:id20:"
    condition:
        uint32(0) == 0x464c457f and 3 of ($t*) and 1 of ($d*)
}
