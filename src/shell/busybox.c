/* shell/busybox: what BusyBox itself prints: the multi-call banner and applet list, usage
 * texts (by BusyBox version where they changed and where bots look: wget, tftp, ftpget),
 * "invalid option" in the wording of the profile's C library, errno strings as uClibc words
 * them, and the option parser applets share (GNU getopt with permutation, as getopt32). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/internal.h"

const char *shell_strerror(int err)
{
	switch (err) {
	case EPERM: return "Operation not permitted";
	case ENOENT: return "No such file or directory";
	case ESRCH: return "No such process";
	case EIO: return "Input/output error";
	case ENOEXEC: return "Exec format error";
	case EBADF: return "Bad file descriptor";
	case EACCES: return "Permission denied";
	case EBUSY: return "Device or resource busy";
	case EEXIST: return "File exists";
	case EXDEV: return "Invalid cross-device link";
	case ENOTDIR: return "Not a directory";
	case EISDIR: return "Is a directory";
	case EINVAL: return "Invalid argument";
	case ENOSPC: return "No space left on device";
	case EROFS: return "Read-only file system";
	case ENAMETOOLONG: return "File name too long";
	case ENOTEMPTY: return "Directory not empty";
	case ELOOP: return "Too many symbolic links encountered";
	case ENETUNREACH: return "Network is unreachable";
	case ETIMEDOUT: return "Connection timed out";
	case ECONNREFUSED: return "Connection refused";
	case EHOSTUNREACH: return "No route to host";
	case ENOBUFS: return "No buffer space available";
	default: return "Unknown error";
	}
}

/* ------------------------------------------------------------------ usage texts */

struct usage {
	const char *name;
	int minver;       /* first BusyBox minor version (1.x) the text applies to */
	const char *text; /* after "Usage: NAME " */
};

/* Ordered by name, then by minver descending: the first entry whose minver <= version wins. */
static const struct usage usages[] = {
	{"cat", 0, "[FILE]...\n\nConcatenate FILEs and print them to stdout"},
	{"chmod", 0,
	 "[-Rcvf] MODE[,MODE]... FILE...\n\nEach MODE is one or more "
	 "of:\n\t[ugoa]*[-+=]([rwxXst]*|[ugo])\n"
	 "Or octal digits 0-7777\n\n\t-R\tRecurse\n\t-c\tList changed files\n\t-v\tList all "
	 "files\n\t-f\tHide errors"},
	{"chown", 0,
	 "[-RhLHPcvf]... OWNER[<.|:>[GROUP]] FILE...\n\nChange the owner and/or group of each FILE "
	 "to OWNER and/or GROUP\n\n"
	 "\t-R\tRecurse\n\t-h\tAffect symlinks instead of symlink targets\n\t-L\tTraverse all "
	 "symlinks to directories\n"
	 "\t-H\tTraverse symlinks on command line only\n\t-P\tDon't traverse symlinks (default)\n"
	 "\t-c\tList changed files\n\t-v\tList all files\n\t-f\tHide errors"},
	{"cp", 0,
	 "[OPTIONS] SOURCE... DEST\n\nCopy SOURCE(s) to DEST\n\n\t-a\tSame as "
	 "-dpR\n\t-R,-r\tRecurse\n"
	 "\t-d,-P\tPreserve symlinks (default if -R)\n\t-L\tFollow all symlinks\n\t-H\tFollow "
	 "symlinks on command line\n"
	 "\t-p\tPreserve file attributes if possible\n\t-f\tOverwrite\n\t-i\tPrompt before "
	 "overwrite\n\t-l,-s\tCreate (sym)links"},
	{"dd", 0,
	 "[if=FILE] [of=FILE] [ibs=N] [obs=N] [bs=N] [count=N] [skip=N]\n\t[seek=N] "
	 "[conv=notrunc|noerror|sync|fsync]\n\n"
	 "Copy a file with converting and formatting\n\n\tif=FILE\t\tRead from FILE instead of "
	 "stdin\n"
	 "\tof=FILE\t\tWrite to FILE instead of stdout\n\tbs=N\t\tRead and write N bytes at a "
	 "time\n"
	 "\tibs=N\t\tRead N bytes at a time\n\tobs=N\t\tWrite N bytes at a time\n\tcount=N\t\tCopy "
	 "only N input blocks\n"
	 "\tskip=N\t\tSkip N input blocks\n\tseek=N\t\tSkip N output blocks\n\tconv=notrunc\tDon't "
	 "truncate output file\n"
	 "\tconv=noerror\tContinue after read errors\n\tconv=sync\tPad blocks with zeros\n"
	 "\tconv=fsync\tPhysically write data out before finishing\n\n"
	 "Numbers may be suffixed by c (x1), w (x2), b (x512), kD (x1000), k (x1024),\n"
	 "MD (x1000000), M (x1048576), GD (x1000000000) or G (x1073741824)"},
	{"df", 0,
	 "[-PkmhTai] [-B SIZE] [FILESYSTEM]...\n\nPrint filesystem usage statistics\n\n\t-P\tPOSIX "
	 "output format\n"
	 "\t-k\t1024-byte blocks (default)\n\t-m\t1M-byte blocks\n\t-h\tHuman readable (e.g. 1K "
	 "243M 2G)\n"
	 "\t-T\tPrint filesystem type\n\t-a\tShow all filesystems\n\t-i\tInodes\n\t-B "
	 "SIZE\tBlocksize"},
	{"echo", 0,
	 "[-neE] [ARG]...\n\nPrint the specified ARGs to stdout\n\n\t-n\tNo trailing newline\n"
	 "\t-e\tInterpret backslash escapes (i.e., \\t=tab)\n\t-E\tDon't interpret backslash "
	 "escapes (default)"},
	{"ftpget", 0,
	 "[OPTIONS] HOST [LOCAL_FILE] REMOTE_FILE\n\nDownload a file via FTP\n\n\t-c\tContinue "
	 "previous transfer\n"
	 "\t-v\tVerbose\n\t-u USER\tUsername\n\t-p PASS\tPassword\n\t-P NUM\tPort"},
	{"ftpput", 0,
	 "[OPTIONS] HOST [REMOTE_FILE] LOCAL_FILE\n\nUpload a file to a FTP "
	 "server\n\n\t-v\tVerbose\n"
	 "\t-u USER\tUsername\n\t-p PASS\tPassword\n\t-P NUM\tPort number"},
	{"grep", 0,
	 "[-HhnlLoqvsriwFE] [-m N] [-A/B/C N] PATTERN/-e PATTERN.../-f FILE [FILE]...\n\n"
	 "Search for PATTERN in FILEs (or stdin)\n\n\t-H\tAdd 'filename:' prefix\n\t-h\tDo not add "
	 "'filename:' prefix\n"
	 "\t-n\tAdd 'line_no:' prefix\n\t-l\tShow only names of files that match\n\t-L\tShow only "
	 "names of files that don't match\n"
	 "\t-c\tShow only count of matching lines\n\t-o\tShow only the matching part of "
	 "line\n\t-q\tQuiet. Return 0 if PATTERN is found, 1 otherwise\n"
	 "\t-v\tSelect non-matching lines\n\t-s\tSuppress open and read "
	 "errors\n\t-r\tRecurse\n\t-i\tIgnore case\n"
	 "\t-w\tMatch whole words only\n\t-x\tMatch whole lines only\n\t-F\tPATTERN is a literal "
	 "(not regexp)\n"
	 "\t-E\tPATTERN is an extended regexp\n\t-m N\tMatch up to N times per file\n\t-A N\tPrint "
	 "N lines of trailing context\n"
	 "\t-B N\tPrint N lines of leading context\n\t-C N\tSame as '-A N -B N'\n\t-e "
	 "PTRN\tPattern to match\n"
	 "\t-f FILE\tRead pattern from file"},
	{"head", 0,
	 "[OPTIONS] [FILE]...\n\nPrint first 10 lines of each FILE (or stdin) to stdout.\n"
	 "With more than one FILE, precede each with a filename header.\n\n\t-n N[kbm]\tPrint "
	 "first N lines\n"
	 "\t-c N[kbm]\tPrint first N bytes\n\t-q\t\tNever print headers\n\t-v\t\tAlways print "
	 "headers"},
	{"kill", 0,
	 "[-l] [-SIG] PID...\n\nSend a signal (default: TERM) to given PIDs\n\n\t-l\tList all "
	 "signal names and numbers"},
	{"killall", 0,
	 "[-l] [-q] [-SIG] PROCESS_NAME...\n\nSend a signal (default: TERM) to given processes\n\n"
	 "\t-l\tList all signal names and numbers\n\t-q\tDon't complain if no processes were "
	 "killed"},
	{"ln", 0,
	 "[OPTIONS] TARGET... LINK|DIR\n\nCreate a link LINK or DIR/TARGET to the specified "
	 "TARGET(s)\n\n"
	 "\t-s\tMake symlinks instead of hardlinks\n\t-f\tRemove existing destinations\n"
	 "\t-n\tDon't dereference symlinks - treat like normal file\n\t-b\tMake a backup of the "
	 "target (if exists) before link operation\n"
	 "\t-S suf\tUse suffix instead of ~ when making backup files\n\t-T\tAlways treat LINK as a "
	 "file\n\t-v\tVerbose"},
	{"ls", 0,
	 "[-1AaCxdLHRFplinshrSXvctu] [-w WIDTH] [FILE]...\n\nList directory contents\n\n"
	 "\t-1\tOne column output\n\t-a\tInclude entries which start with .\n\t-A\tLike -a, but "
	 "exclude . and ..\n"
	 "\t-C\tList by columns\n\t-x\tList by lines\n\t-d\tList directory entries instead of "
	 "contents\n"
	 "\t-L\tFollow symlinks\n\t-H\tFollow symlinks on command "
	 "line\n\t-R\tRecurse\n\t-p\tAppend / to dir entries\n"
	 "\t-F\tAppend indicator (one of */=@|) to entries\n\t-l\tLong listing format\n\t-i\tList "
	 "inode numbers\n"
	 "\t-n\tList numeric UIDs and GIDs instead of names\n\t-s\tList allocated "
	 "blocks\n\t-e\tList full date and time\n"
	 "\t-h\tList sizes in human readable format (1K 243M 2G)\n\t-r\tSort in reverse "
	 "order\n\t-S\tSort by size\n"
	 "\t-X\tSort by extension\n\t-v\tSort by version\n\t-c\tWith -l: sort by ctime\n\t-t\tWith "
	 "-l: sort by mtime\n"
	 "\t-u\tWith -l: sort by atime\n\t-w N\tAssume the terminal is N columns "
	 "wide\n\t--color[={always,never,auto}]\tControl coloring"},
	{"mkdir", 0,
	 "[OPTIONS] DIRECTORY...\n\nCreate DIRECTORY\n\n\t-m MODE\tMode\n\t-p\tNo error if exists; "
	 "make parent directories as needed"},
	{"mv", 0,
	 "[-fin] SOURCE DEST\nor: mv [-fin] SOURCE... DIRECTORY\n\nRename SOURCE to DEST, or move "
	 "SOURCE(s) to DIRECTORY\n\n"
	 "\t-f\tDon't prompt before overwriting\n\t-i\tInteractive, prompt before "
	 "overwrite\n\t-n\tDon't overwrite an existing file"},
	{"netstat", 0,
	 "[-ral] [-tuwx] [-en]\n\nDisplay networking information\n\n\t-r\tRouting table\n\t-a\tAll "
	 "sockets\n\t-l\tListening sockets\n\t\tElse: connected sockets\n\t-t\tTCP "
	 "sockets\n\t-u\tUDP sockets\n\t-w\tRaw sockets\n\t-x\tUnix sockets\n\t\tElse: all "
	 "socket types\n\t-e\tOther/more information\n\t-n\tDon't resolve names"},
	{"ping", 0,
	 "[OPTIONS] HOST\n\nSend ICMP ECHO_REQUESTs to HOST\n\n\t-4,-6\t\tForce IP or IPv6 name "
	 "resolution\n\t-c CNT\t\tSend only CNT pings\n\t-s SIZE\t\tSend SIZE data bytes in "
	 "packets (default 56)\n\t-i SECS\t\tInterval\n\t-A\t\tPing as soon as reply is "
	 "received\n\t-t TTL\t\tSet TTL\n\t-I IFACE/IP\tSource interface or IP address\n\t-W "
	 "SEC\t\tSeconds to wait for the first response (default 10)\n\t\t\t(after all -c CNT "
	 "packets are sent)\n\t-w SEC\t\tSeconds until ping exits (default:infinite)\n\t\t\t(can "
	 "exit earlier with -c CNT)\n\t-q\t\tQuiet, only display output at start/finish\n\t-p "
	 "HEXBYTE\tPayload pattern"},
	{"printf", 0,
	 "FORMAT [ARG]...\n\nFormat and print ARG(s) according to FORMAT (a-la C printf)"},
	{"ps", 0, "\n\nShow list of processes\n\n\tw\tWide output"},
	{"rm", 0,
	 "[-irf] FILE...\n\nRemove (unlink) FILEs\n\n\t-i\tAlways prompt before "
	 "removing\n\t-f\tNever prompt\n\t-R,-r\tRecurse"},
	{"rmdir", 0,
	 "[OPTIONS] DIRECTORY...\n\nRemove DIRECTORY if it is empty\n\n\t-p\tInclude "
	 "parents\n\t--ignore-fail-on-non-empty"},
	{"sleep", 0,
	 "[N]...\n\nPause for a time equal to the total of the args given, where each arg can\n"
	 "have an optional suffix of (s)econds, (m)inutes, (h)ours, or (d)ays"},
	{"usleep", 0, "N\n\nPause for N microseconds"},
	{"tail", 0,
	 "[OPTIONS] [FILE]...\n\nPrint last 10 lines of each FILE (or stdin) to stdout.\n"
	 "With more than one FILE, precede each with a filename header.\n\n\t-f\t\tPrint data as "
	 "file grows\n"
	 "\t-s SECONDS\tWait SECONDS between reads with -f\n\t-n N[kbm]\tPrint last N lines\n"
	 "\t-c N[kbm]\tPrint last N bytes\n\t-q\t\tNever print headers\n\t-v\t\tAlways print "
	 "headers\n\n"
	 "N may be suffixed by k (x1024), b (x512), or m (x1024^2).\nIf N starts with a '+', "
	 "output begins with the Nth item from the start."},
	{"tee", 0,
	 "[-ai] [FILE]...\n\nCopy stdin to each FILE, and also to stdout\n\n\t-a\tAppend to the "
	 "given FILEs, don't overwrite\n"
	 "\t-i\tIgnore interrupt signals (SIGINT)"},
	{"tftp", 18,
	 "[OPTIONS] HOST [PORT]\n\nTransfer a file from/to tftp server\n\n\t-l FILE\tLocal "
	 "FILE\n\t-r FILE\tRemote FILE\n"
	 "\t-g\tGet file\n\t-p\tPut file\n\t-b SIZE\tTransfer blocks of SIZE octets"},
	{"tftp", 0,
	 "[OPTIONS] HOST [PORT]\n\nTransfer a file from/to tftp server\n\nOptions:\n\t-l "
	 "FILE\tLocal FILE\n\t-r FILE\tRemote FILE\n"
	 "\t-g\tGet file\n\t-p\tPut file\n\t-b SIZE\tTransfer blocks of SIZE octets"},
	{"touch", 0,
	 "[-c] [-d DATE] [-t DATE] [-r FILE] FILE...\n\nUpdate the last-modified date on the given "
	 "FILE[s]\n\n"
	 "\t-c\tDon't create files\n\t-d DT\tDate/time to use\n\t-t DT\tDate/time to use\n\t-r "
	 "FILE\tUse FILE's date/time"},
	{"uname", 0,
	 "[-amnrspv]\n\nPrint system information\n\n\t-a\tPrint all\n\t-m\tThe machine (hardware) "
	 "type\n"
	 "\t-n\tHostname\n\t-r\tOS release\n\t-s\tOS name (default)\n\t-p\tProcessor "
	 "type\n\t-v\tOS version"},
	{"wc", 0,
	 "[-clwL] [FILE]...\n\nCount lines, words, and bytes for each FILE (or "
	 "stdin)\n\n\t-c\tCount bytes\n"
	 "\t-l\tCount newlines\n\t-w\tCount words\n\t-L\tPrint longest line length"},
	{"wget", 32,
	 "[-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | "
	 "--post-file FILE] [-Y on/off]\n"
	 "\t[--no-check-certificate] [-P DIR] [-U AGENT] [-T SEC] URL...\n\nRetrieve files via "
	 "HTTP or FTP\n\n"
	 "\t--spider\tOnly check URL existence: $? is 0 if exists\n\t--header STR\tAdd STR (of "
	 "form 'header: value') to headers\n"
	 "\t--post-data STR\tSend STR using POST method\n\t--post-file FILE\tSend FILE using POST "
	 "method\n"
	 "\t--no-check-certificate\tDon't validate the server's certificate\n\t-c\t\tContinue "
	 "retrieval of aborted transfer\n"
	 "\t-q\t\tQuiet\n\t-P DIR\t\tSave to DIR (default .)\n\t-S    \t\tShow server response\n"
	 "\t-T SEC\t\tNetwork read timeout is SEC seconds\n\t-O FILE\t\tSave to FILE ('-' for "
	 "stdout)\n"
	 "\t-o LOGFILE\tLog messages to FILE\n\t-U STR\t\tUse STR for User-Agent header\n\t-Y "
	 "on/off\tUse proxy"},
	{"wget", 30,
	 "[-c|--continue] [--spider] [-q|--quiet] [-O|--output-document FILE]\n"
	 "\t[-o|--output-file FILE] [--header 'header: value'] [-Y|--proxy on/off]\n"
	 "\t[-P DIR] [-S|--server-response] [-U|--user-agent AGENT] [-T SEC] URL...\n\nRetrieve "
	 "files via HTTP or FTP\n\n"
	 "\t--spider\tOnly check URL existence: $? is 0 if exists\n\t-c\t\tContinue retrieval of "
	 "aborted transfer\n"
	 "\t-q\t\tQuiet\n\t-P DIR\t\tSave to DIR (default .)\n\t-S    \t\tShow server response\n"
	 "\t-T SEC\t\tNetwork read timeout is SEC seconds\n\t-O FILE\t\tSave to FILE ('-' for "
	 "stdout)\n"
	 "\t-o FILE\t\tLog messages to FILE\n\t-U STR\t\tUse STR for User-Agent header\n\t-Y "
	 "on/off\tUse proxy"},
	{"wget", 23,
	 "[-c|--continue] [--spider] [-q|--quiet] [-O|--output-document FILE]\n"
	 "\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n\t[-U|--user-agent AGENT] [-T "
	 "SEC] URL...\n\n"
	 "Retrieve files via HTTP or FTP\n\n\t--spider\tSpider mode - only check file existence\n"
	 "\t-c\t\tContinue retrieval of aborted transfer\n\t-q\t\tQuiet\n\t-P DIR\t\tSave to DIR "
	 "(default .)\n"
	 "\t-T SEC\t\tNetwork read timeout is SEC seconds\n\t-O FILE\t\tSave to FILE ('-' for "
	 "stdout)\n"
	 "\t-U STR\t\tUse STR for User-Agent header\n\t-Y on/off\tUse proxy"},
	{"wget", 18,
	 "[-c|--continue] [-s|--spider] [-q|--quiet] [-O|--output-document FILE]\n"
	 "\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n\t[-U|--user-agent AGENT] [-T "
	 "SEC] URL...\n\n"
	 "Retrieve files via HTTP or FTP\n\n\t-s\tSpider mode - only check file existence\n"
	 "\t-c\tContinue retrieval of aborted transfer\n\t-q\tQuiet\n\t-P DIR\tSave to DIR "
	 "(default .)\n"
	 "\t-T SEC\tNetwork read timeout is SEC seconds\n\t-O FILE\tSave to FILE ('-' for stdout)\n"
	 "\t-U STR\tUse STR for User-Agent header\n\t-Y\tUse proxy ('on' or 'off')"},
	{"wget", 0,
	 "[-c|--continue] [-s|--spider] [-q|--quiet] [-O|--output-document FILE]\n"
	 "\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n\t[-U|--user-agent AGENT] "
	 "URL\n\n"
	 "Retrieve files via HTTP or FTP\n\nOptions:\n\t-s\tSpider mode - only check file "
	 "existence\n"
	 "\t-c\tContinue retrieval of aborted transfer\n\t-q\tQuiet\n\t-P\tSet directory prefix to "
	 "DIR\n"
	 "\t-O FILE\tSave to FILE ('-' for stdout)\n\t-U STR\tUse STR for User-Agent "
	 "header\n\t-Y\tUse proxy ('on' or 'off')"},
	{"which", 0, "[COMMAND]...\n\nLocate a COMMAND"},
};

static const char *find_usage(const struct shell *sh, const char *name)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(usages); i++)
		if (strcmp(usages[i].name, name) == 0 && sh->bb_major == 1 &&
		    sh->bb_minor >= usages[i].minver)
			return usages[i].text;
	for (size_t i = 0; i < LIB_ARRAY_LEN(usages); i++)
		if (strcmp(usages[i].name, name) == 0)
			return usages[i].text;
	return NULL;
}

bool shell_has_usage(const char *applet)
{
	for (size_t i = 0; i < LIB_ARRAY_LEN(usages); i++)
		if (strcmp(usages[i].name, applet) == 0)
			return true;
	return false;
}

static const char *banner_line(const struct shell *sh, char *buf, size_t n)
{
	const char *b = sh->prof && sh->prof->busybox_banner && *sh->prof->busybox_banner
				? sh->prof->busybox_banner
				: "BusyBox v1.22.1 (2014-05-22 23:21:08 CST) multi-call binary.";
	const char *nl = strchr(b, '\n');
	size_t l = nl ? (size_t)(nl - b) : strlen(b);
	if (l >= n)
		l = n - 1;
	memcpy(buf, b, l);
	buf[l] = 0;
	return buf;
}

void shell_usage(struct cmd *c, const char *applet)
{
	char bl[256];
	const char *text = find_usage(c->sh, applet);
	if (!text) {
		shell_errf(c, "%s\n\nNo help available.\n\n", banner_line(c->sh, bl, sizeof(bl)));
		return;
	}
	shell_errf(c, "%s\n\nUsage: %s %s\n", banner_line(c->sh, bl, sizeof(bl)), applet, text);
}

/* The multi-call banner of bare `busybox`. */
void shell_busybox_banner(struct cmd *c)
{
	struct shell *sh = c->sh;
	char bl[256];
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_printf(&b, "%s\n", banner_line(sh, bl, sizeof(bl)));
	int mi = sh->bb_major == 1 ? sh->bb_minor : 99;
	if (mi >= 21) {
		buf_printf(&b,
			   "BusyBox is copyrighted by many authors between 1998-%s.\n"
			   "Licensed under GPLv2. See source distribution for detailed\ncopyright "
			   "notices.\n\n",
			   mi >= 24 ? "2015" : "2012");
		buf_append_str(
			&b,
			"Usage: busybox [function [arguments]...]\n   or: busybox --list[-full]\n");
		if (mi >= 30)
			buf_append_str(&b, "   or: busybox --show SCRIPT\n");
		buf_append_str(
			&b,
			"   or: busybox --install [-s] [DIR]\n   or: function [arguments]...\n\n");
	} else {
		buf_printf(&b,
			   "Copyright (C) 1998-%s Erik Andersen, Rob Landley, Denys Vlasenko\n"
			   "and others. Licensed under GPLv2.\nSee source distribution for full "
			   "notice.\n\n",
			   mi >= 18   ? "2011"
			   : mi >= 14 ? "2009"
				      : "2008");
		buf_append_str(&b, "Usage: busybox [function] [arguments]...\n");
		if (mi >= 18)
			buf_append_str(&b, "   or: busybox --list[-full]\n");
		buf_append_str(&b, "   or: function [arguments]...\n\n");
	}
	buf_printf(&b,
		   "\tBusyBox is a multi-call binary that combines many common Unix\n"
		   "\tutilities into a single executable.  Most people will create a\n"
		   "\tlink to busybox for each function they wish to use and BusyBox\n"
		   "\twill act like whatever it was invoked as%s\n\nCurrently defined functions:\n",
		   mi >= 14 ? "." : "!");
	/* the applet list, wrapped as BusyBox does for an 80-column terminal */
	int width = SH_TERM_WIDTH - 1, col = 0;
	for (size_t i = 0; sh->prof && i < sh->prof->napplets; i++) {
		const char *a = sh->prof->applets[i];
		int l2 = (int)strlen(a) + 2;
		if (col >= width - l2) {
			buf_append_str(&b, ",\n");
			col = 0;
		}
		if (col == 0) {
			col = 6;
			buf_append_str(&b, "\t");
		} else {
			buf_append_str(&b, ", ");
		}
		buf_append_str(&b, a);
		col += l2;
	}
	buf_append_str(&b, "\n\n");
	shell_fobj_write(sh, c->f->fd[2], b.data, b.len, false, NULL);
	buf_free(&b);
}
