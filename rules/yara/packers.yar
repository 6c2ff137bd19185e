// Packers seen on IoT malware. The structural check (l_info/p_info after the program headers,
// altered magic, zeroed sizes) is in src/box/static.c; this rule names the plain case.

rule UPX_Packed_ELF
{
    meta:
        description = "UPX-packed ELF: the UPX! magic twice and the UPX notice"
    strings:
        $magic = "UPX!"
        $notice = "This file is packed with the UPX"
    condition:
        uint32(0) == 0x464c457f and #magic >= 2 and $notice
}
