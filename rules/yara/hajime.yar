// Hajime: a peer-to-peer worm over BitTorrent's DHT and uTP. Written for mitsu from the DHT
// messages it builds, its hidden folder and the message it shows on infected devices.

rule Hajime_DHT_Worm
{
    meta:
        family = "hajime"
        description = "DHT queries with Hajime's folder, module names or author message"
    strings:
        $dht1 = "d1:ad2:id20:"
        $dht2 = "find_node"
        $dht3 = "get_peers"
        $dht4 = "announce_peer"
        $h1 = "/.i"
        $h2 = "Just a white hat, securing some systems"
        $h3 = "Stay sharp!"
        $h4 = "atk."
    condition:
        uint32(0) == 0x464c457f and 2 of ($dht*) and 1 of ($h*)
}
