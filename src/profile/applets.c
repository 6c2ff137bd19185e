/* Where BusyBox's `make install` puts each applet's link (the install folder column of its
 * applet table), so a profile's /bin, /sbin, /usr/bin and /usr/sbin look as on the device. */
#include "profile/internal.h"

#include <string.h>

/* Space-separated applet names per folder; every applet not listed goes to /usr/bin. */
static const char bin_applets[] =
	" addgroup adduser ash base64 bash bbconfig cat catv chattr chgrp chmod chown conspy cp"
	" cpio cttyhack date dd delgroup deluser df dmesg dnsdomainname dumpkmap echo ed egrep"
	" false fdflush fgrep fsync getopt grep gunzip gzip hostname hush ionice iostat ip ipaddr"
	" ipcalc iplink iproute iprule iptunnel kill linux32 linux64 ln login ls lsattr lzop"
	" makemime mkdir mknod mktemp more mount mountpoint mpstat msh mt mv netstat nice pidof"
	" ping ping6 pipe_progress powertop printenv ps pwd reformime rev rm rmdir rpm run-parts"
	" scriptreplay sed setarch sh sleep stat stty su sync tar touch true umount uname"
	" uncompress usleep vi watch zcat ";
static const char sbin_applets[] =
	" acpid adjtimex arp blkid blockdev bootchartd depmod devfsd devmem fbsplash fdisk findfs"
	" freeramdisk fsck fsck.minix getty halt hdparm hwclock ifconfig ifdown ifenslave ifup"
	" init inotifyd insmod klogd loadkmap logread losetup lsmod makedevs man mdev mkdosfs"
	" mke2fs mkfs.ext2 mkfs.minix mkfs.reiser mkfs.vfat mkswap modinfo modprobe nameif"
	" pivot_root poweroff raidautorun reboot restorecon rmmod route runlevel setconsole"
	" setfiles slattach start-stop-daemon sulogin swapoff swapon switch_root sysctl syslogd"
	" tunctl tune2fs udhcpc vconfig watchdog zcip ";
static const char usr_sbin_applets[] =
	" brctl chpasswd chroot crond dhcprelay dnsd fakeidentd fbset flash_eraseall flash_lock"
	" flash_unlock flashcp ftpd getenforce getsebool httpd inetd load_policy loadfont lpd"
	" matchpathcon nanddump nandwrite nbd-client ntpd popmaildir rdate rdev readprofile rfkill"
	" selinuxenabled sendmail sestatus setenforce setfont setlogcons setsebool svlogd telnetd"
	" ubiattach ubidetach udhcpd ";

static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(list, name); p; p = strstr(p + 1, name))
		if (p[-1] == ' ' && p[n] == ' ')
			return true;
	return false;
}

const char *profile_applet_dir(const char *name)
{
	if (!*name || strchr(name, ' '))
		return "/usr/bin";
	if (strcmp(name, "linuxrc") == 0)
		return "/";
	if (listed(bin_applets, name))
		return "/bin";
	if (listed(sbin_applets, name))
		return "/sbin";
	if (listed(usr_sbin_applets, name))
		return "/usr/sbin";
	return "/usr/bin";
}
