/* Unit tests of src/shell's virtual filesystem: copy-on-write over the profile, mounts and
 * permissions, links and path normalisation, limits ("No space left on device"), and the
 * capture of attacker-written files (once per content, when it is about to be lost). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "shell/shell.h"

static struct th T;

static int setup(void **state)
{
	th_init(&T, NULL);
	free(th_take(&T));
	return 0;
}

static int teardown(void **state)
{
	th_fini(&T);
	return 0;
}

#define EXPECT(line, want) \
	do { \
		char *o_ = th_run(&T, line); \
		if (strcmp(o_, want) != 0) \
			fail_msg("%s\n  got:  [%s]\n  want: [%s]", line, o_, want); \
		free(o_); \
	} while (0)

static void test_paths_and_links(void **state)
{
	EXPECT("cd /tmp/../tmp/./; pwd", "/tmp\n");
	EXPECT("cat /..//etc/../etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	EXPECT("cd ../../..; pwd", "/\n");
	EXPECT("cd /tmp; ln -s /etc/passwd pw; cat pw; ls -l pw | grep -c -- '->'",
	       "root:x:0:0:root:/root:/bin/sh\n1\n");
	EXPECT("ln -s loop1 loop2; ln -s loop2 loop1; cat loop1",
	       "cat: can't open 'loop1': Too many symbolic links encountered\n");
	EXPECT("mkdir -p a/b/c; cd a/b/c; pwd; cd ../..; pwd", "/tmp/a/b/c\n/tmp/a\n");
	/* cd is logical, as ash's: the link's name stays in the path, ".." goes back through it */
	EXPECT("cd /tmp; ln -s a dirlink; cd dirlink/b; pwd; cd ../..; pwd",
	       "/tmp/dirlink/b\n/tmp\n");
	EXPECT("cat /etc/passwd/x", "cat: can't open '/etc/passwd/x': Not a directory\n");
	EXPECT("cd /etc/passwd", "-sh: cd: can't cd to /etc/passwd\n");
	EXPECT("cat /bin/echo | wc -c", "2048\n");
	EXPECT("ls -l /usr/bin/wget", "lrwxrwxrwx    1 root     root            17 Jul 13  2015 "
				      "/usr/bin/wget -> ../../bin/busybox\n");
	EXPECT("readlink_absent_is_fine; echo $?",
	       "-sh: readlink_absent_is_fine: not found\n127\n");
}

static void test_mounts_and_permissions(void **state)
{
	EXPECT("echo x > /proc/x", "-sh: can't create /proc/x: Permission denied\n");
	EXPECT("echo x > /sys/x", "-sh: can't create /sys/x: Permission denied\n");
	EXPECT("echo x > /etc/x", "-sh: can't create /etc/x: Read-only file system\n");
	EXPECT("echo x >> /etc/passwd", "-sh: can't create /etc/passwd: Read-only file system\n");
	EXPECT("rm /etc/passwd", "rm: can't remove '/etc/passwd': Read-only file system\n");
	EXPECT("mkdir /newdir", "mkdir: can't create directory '/newdir': Read-only file system\n");
	EXPECT("chmod 777 /bin/busybox", "chmod: /bin/busybox: Read-only file system\n");
	EXPECT("echo x > /nonexist/x", "-sh: can't create /nonexist/x: nonexistent directory\n");
	EXPECT("cat < /nofile", "-sh: can't open /nofile: no such file\n");
	EXPECT("echo ok > /dev/null; echo x > /dev/.hidden; cat /dev/.hidden", "x\n");
	EXPECT("echo x > /var/run/pidfile; cat /var/run/pidfile", "x\n");
	EXPECT("touch /tmp/t; chmod 600 /tmp/t; ls -l /tmp/t | cut -c1-10", "-rw-------\n");
	EXPECT("chmod +x /tmp/t; chmod u-w,g+r /tmp/t; [ -x /tmp/t ] && echo exec", "exec\n");
	EXPECT("/tmp/t; echo $?", "0\n");
	EXPECT("chmod -x /tmp/t; /tmp/t", "-sh: /tmp/t: Permission denied\n");
	EXPECT("/tmp", "-sh: /tmp: Permission denied\n");
	EXPECT("chmod 9 /tmp/t", "chmod: invalid mode '9'\n");
	/* a mount point and its device exist because /proc/mounts names them; a path that is
	 * only a prefix of one, or that the table does not contain at all, does not */
	EXPECT("[ -d /mnt/data ] && echo dir; [ -c /dev/mtdblock3 ] && echo chr", "dir\nchr\n");
	EXPECT("[ -e /mnt/dat ] || echo a; [ -e /mnt/data2 ] || echo b; [ -e /dev/mtdblock ] || "
	       "echo c; [ -e /nowhere ] || echo d",
	       "a\nb\nc\nd\n");
}

static void test_tree_changes(void **state)
{
	/* a profile folder on a rw mount: removed, recreated empty (opaque) */
	EXPECT("ls /var", "run\n");
	EXPECT("rm -rf /var/run; ls /var; mkdir /var/run; ls -a /var/run", ".   ..\n");
	EXPECT("mkdir -p /tmp/d/e; echo 1 > /tmp/d/e/f; mv /tmp/d /tmp/g; cat /tmp/g/e/f; ls /tmp",
	       "1\ng\n");
	EXPECT("cp -r /tmp/g /tmp/h; cat /tmp/h/e/f; rm -r /tmp/g; ls /tmp", "1\nh\n");
	EXPECT("rmdir /tmp/h", "rmdir: '/tmp/h': Directory not empty\n");
	EXPECT("rm /tmp/h", "rm: can't remove '/tmp/h': Is a directory\n");
	EXPECT("cp /tmp/h /tmp/x", "cp: omitting directory '/tmp/h'\n");
	EXPECT("cp /nofile /tmp/x", "cp: can't stat '/nofile': No such file or directory\n");
	EXPECT("mv /nofile /tmp/x", "mv: can't rename '/nofile': No such file or directory\n");
	EXPECT("cd /tmp; touch a b c; rm -rf *; ls -a", ".   ..\n");
	/* rm -rf / removes what it can and says what it cannot */
	EXPECT("echo keep > /tmp/k; rm -rf / 2>/dev/null; ls /tmp; cat /etc/passwd",
	       "root:x:0:0:root:/root:/bin/sh\n");
	EXPECT("cd /; ls",
	       "bin   dev   etc   lib   mnt   proc  root  sbin  sys   tmp   usr   var\n");
}

static void test_limits(void **state)
{
	th_fini(&T);
	struct shell_limits lim = {.vfs_bytes = 16384,
				   .vfs_files = 20,
				   .max_commands = 100000,
				   .script_depth = 4,
				   .max_queued = 4096};
	th_init_limits(&T, NULL, &lim);
	free(th_take(&T));
	/* a flood of appends ends in ENOSPC, not a crash; the file keeps what fit */
	th_line(&T, "cd /tmp; x=0123456789012345678901234567890123456789; i=0; while [ $i -lt 1000 "
		    "]; do echo $x$x >> f; i=$((i+1)); done");
	char *o = th_take(&T);
	assert_non_null(strstr(o, "sh: write error: No space left on device\n"));
	free(o);
	EXPECT("wc -c f", "    16384 f\n");
	/* the file count */
	th_line(&T, "i=0; while [ $i -lt 40 ]; do touch g$i; i=$((i+1)); done");
	o = th_take(&T);
	assert_non_null(strstr(o, "No space left on device"));
	free(o);
	EXPECT("mkdir more", "mkdir: can't create directory 'more': No space left on device\n");
	/* freeing space makes room again */
	EXPECT("rm -f f g*; echo fits > h; cat h", "fits\n");
	/* endless copying of big files ends the session instead of holding the loop */
	{
		struct th w;
		th_init(&w, NULL);
		th_line(&w, "dd if=/dev/zero of=/tmp/big bs=1024 count=1024 2>/dev/null; while "
			    "true; do cp /tmp/big /tmp/c; done");
		assert_non_null(w.closed);
		assert_string_equal(w.closed, "work_limit");
		th_fini(&w);
	}
	/* cp and dd respect the limit too */
	EXPECT("dd if=/dev/zero of=z bs=1024 count=64 2>&1 | head -n 1",
	       "dd: writing 'z': No space left on device\n");
	EXPECT("wc -c z", "    16379 z\n");
}

static size_t uploads_named(const char *path)
{
	size_t n = 0;
	for (size_t i = 0; i < T.nuploads; i++)
		if (strcmp(T.uploads[i].path, path) == 0)
			n++;
	return n;
}

static void test_uploads(void **state)
{
	/* overwritten: the old content is reported when it is lost */
	EXPECT("cd /tmp; echo -n abc > f; echo -n def > f", "");
	assert_int_equal(T.nuploads, 1);
	assert_int_equal(T.uploads[0].len, 3);
	assert_memory_equal(T.uploads[0].data, "abc", 3);
	assert_string_equal(T.uploads[0].method, "echo");
	/* deleted: reported once; a copy of the same content is not reported again */
	EXPECT("cp f f2; rm f; rm f2", "");
	assert_int_equal(T.nuploads, 2);
	assert_memory_equal(T.uploads[1].data, "def", 3);
	/* printf, heredoc through cat, tee, dd */
	EXPECT("printf 'p\\x41' > p; rm p", "");
	assert_string_equal(T.uploads[2].method, "printf");
	assert_memory_equal(T.uploads[2].data, "pA", 2);
	EXPECT("cat > h <<EOF\nheredoc\nEOF\nrm h", "");
	assert_string_equal(T.uploads[3].method, "redirect");
	EXPECT("echo teed | tee t >/dev/null; rm t", "");
	assert_string_equal(T.uploads[4].method, "tee");
	EXPECT("echo dd-data > src; dd if=src of=dst 2>/dev/null; rm src dst", "");
	assert_int_equal(uploads_named("/tmp/src"), 1);
	assert_int_equal(uploads_named("/tmp/dst"), 0); /* same content as src: once */
	size_t before = T.nuploads;
	/* renamed over: the target's content is lost */
	EXPECT("echo one > a; echo two > b; mv a b", "");
	assert_int_equal(T.nuploads, before + 1);
	assert_memory_equal(T.uploads[before].data, "two\n", 4);
	/* the profile's own bytes are never uploads; nor are the device's command outputs */
	EXPECT("cp /bin/busybox bb; cat /etc/passwd > pw; ls / > l; ps > ps.txt; rm bb pw l ps.txt",
	       "");
	assert_int_equal(T.nuploads, before + 1);
	/* at the end of the session everything left is reported, once each */
	EXPECT("echo final > keep; echo final > keep2", "");
	shell_free(T.sh);
	T.sh = NULL;
	assert_int_equal(uploads_named("/tmp/keep") + uploads_named("/tmp/keep2"), 1);
	/* b lost "two" to the rename; what it holds now ("one", a's bytes) is reported at the end
	 */
	assert_int_equal(uploads_named("/tmp/b"), 2);
	bool one = false;
	for (size_t i = 0; i < T.nuploads; i++)
		one |= strcmp(T.uploads[i].path, "/tmp/b") == 0 && T.uploads[i].len == 4 &&
		       !memcmp(T.uploads[i].data, "one\n", 4);
	assert_true(one);
}

/* Pieces appended over many lines are one file: one report of the whole. */
static void test_dropper_reassembly(void **state)
{
	uint8_t *bin = th_fake_elf(700, 8, 2);
	free(th_run(&T, "cd /tmp; >x"));
	for (size_t off = 0; off < 700; off += 100) {
		char line[1024];
		size_t k = (size_t)snprintf(line, sizeof(line), "echo -ne \"");
		for (size_t i = off; i < off + 100; i++)
			k += (size_t)snprintf(line + k, sizeof(line) - k, "\\x%02x", bin[i]);
		snprintf(line + k, sizeof(line) - k, "\" >> x");
		free(th_run(&T, line));
	}
	assert_int_equal(T.nuploads, 0);
	free(th_run(&T, "chmod +x x; ./x; rm x"));
	assert_int_equal(T.nuploads, 1);
	assert_int_equal(T.uploads[0].len, 700);
	assert_memory_equal(T.uploads[0].data, bin, 700);
	/* a MIPS big-endian ELF on an ARM device: handed to the sandbox, and ash's fallback ran it
	 * as a script without harm */
	assert_int_equal(T.nexecs, 1);
	free(bin);
}

/* hexdump -e, od, netstat, ping and timeout on what a fuzzer or a careless bot might give:
 * refused formats, bounds, a session without a peer (unit tests set none). */
static void test_dump_and_network_applets(void **state)
{
	EXPECT("printf 'abcdefghijklmnopqrstuvwxyz\n' > /tmp/a; hexdump -e '16/1 \"%02x\" \"\\n\"' "
	       "/tmp/a",
	       "6162636465666768696a6b6c6d6e6f70\n7172737475767778797a0a          \n");
	EXPECT("hexdump -e '4/1 \"%999d\"' /tmp/a; echo $?",
	       "hexdump: bad format {4/1 \"%999d\"}\n1\n");
	EXPECT("hexdump -e '4/3 \"%x\"' /tmp/a; echo $?",
	       "hexdump: bad byte count for conversion character x\n1\n");
	EXPECT("hexdump -e '\"%' /tmp/a; echo $?", "hexdump: bad format {\"%}\n1\n");
	EXPECT("hexdump -e '\"%_Z\"' /tmp/a; echo $?",
	       "hexdump: bad conversion character %_Z\n1\n");
	EXPECT("echo '\"%02x\"' > /tmp/f; hexdump -n 3 -f /tmp/f /tmp/a; echo", "636261\n");
	EXPECT("od -N 4 -tx1 /tmp/a", "0000000 61 62 63 64\n0000004\n");
	EXPECT("od -tf4 /tmp/a 2>/dev/null; echo $?", "1\n");
	EXPECT("od -w9999 /tmp/a 2>/dev/null; echo $?", "1\n");
	EXPECT("od -An -tx8 -j 20 /tmp/a", " 000a7a7978777675\n");
	EXPECT("netstat -tn", "Active Internet connections (w/o servers)\n"
			      "Proto Recv-Q Send-Q Local Address           Foreign Address         "
			      "State       \n");
	EXPECT("wc -l < /proc/net/tcp; ls -1 /proc/net | tr '\\n' ' '",
	       "1\narp dev route tcp tcp6 udp udp6 unix ");
	EXPECT("ping -c 1 -q 10.1.2.3",
	       "PING 10.1.2.3 (10.1.2.3): 56 data bytes\n\n"
	       "--- 10.1.2.3 ping statistics ---\n"
	       "1 packets transmitted, 1 packets received, 0% packet loss\n"
	       "round-trip min/avg/max = 20.268/20.268/20.268 ms\n");
	EXPECT("ping 2>/dev/null; echo $?; ping host.example; echo $?",
	       "1\nping: bad address 'host.example'\n1\n");
	EXPECT("timeout 1 sleep 5; echo $?", "Terminated\n143\n");
}

static void test_ls_and_misc(void **state)
{
	EXPECT("ls /usr", "bin   sbin\n");
	EXPECT("ls -1 /usr | wc -l", "2\n");
	EXPECT("ls -d /usr /etc", "/etc  /usr\n");
	EXPECT("ls /nonexist", "ls: /nonexist: No such file or directory\n");
	EXPECT("cd /etc; ls -l passwd",
	       "-rw-r--r--    1 root     root            30 Jul 13  2015 passwd\n");
	EXPECT("head -n 1 /proc/cpuinfo", "Processor\t: ARMv7 Processor rev 0 (v7l)\n");
	EXPECT("tail -n 1 /proc/mounts", "devpts /dev/pts devpts rw,relatime,mode=600 0 0\n");
	EXPECT("grep -c tmpfs /proc/mounts; grep -i ARMV7 /proc/cpuinfo | wc -l", "3\n1\n");
	EXPECT("grep -E 'tmp(fs)? /(tmp|var)' /proc/mounts",
	       "tmpfs /tmp tmpfs rw,relatime 0 0\ntmpfs /var tmpfs rw,relatime 0 0\n");
	EXPECT("grep '(a*)*b' /etc/passwd; echo $?", "1\n");
	EXPECT("wc -l /etc/passwd /etc/group",
	       "        1 /etc/passwd\n        1 /etc/group\n        2 total\n");
	EXPECT("which ls wget nosuch; echo $?", "/bin/ls\n/usr/bin/wget\n1\n");
	EXPECT("uname; uname -a; uname -m",
	       "Linux\nLinux dvr 3.0.8 #1 Wed Jul 1 10:02:51 CST 2015 armv7l GNU/Linux\narmv7l\n");
	EXPECT("uname -z", "uname: invalid option -- z\n"
			   "BusyBox v1.22.1 (2015-07-13 10:02:51 CST) multi-call binary.\n\nUsage: "
			   "uname [-amnrspv]\n\n"
			   "Print system information\n\n\t-a\tPrint all\n\t-m\tThe machine "
			   "(hardware) type\n\t-n\tHostname\n"
			   "\t-r\tOS release\n\t-s\tOS name (default)\n\t-p\tProcessor "
			   "type\n\t-v\tOS version\n");
	EXPECT("hostname; busybox hostname", "dvr\ndvr\n");
	EXPECT("sleep 100; echo woke", "woke\n");
	EXPECT("sleep",
	       "BusyBox v1.22.1 (2015-07-13 10:02:51 CST) multi-call binary.\n\nUsage: sleep "
	       "[N]...\n\n"
	       "Pause for a time equal to the total of the args given, where each arg can\n"
	       "have an optional suffix of (s)econds, (m)inutes, (h)ours, or (d)ays\n");
	EXPECT("killall Sofia; ps | grep -c Sofia; killall nothing",
	       "0\nkillall: nothing: no process killed\n");
	/* text filters */
	EXPECT("ps | awk '{print $1}' | sort -n | tail -n 2 | head -n 1 | tr -d ' ' | wc -c",
	       "5\n");
	EXPECT("echo 'b a c b' | tr ' ' '\\n' | sort | uniq -c",
	       "      1 a\n      2 b\n      1 c\n");
	EXPECT("echo hello world | sed 's/o/0/g; s/^h/H/'", "Hell0 w0rld\n");
	EXPECT("printf 'a\\nb\\nc\\n' | sed -n '2p'; printf 'a\\nb\\n' | sed '/a/d'", "b\nb\n");
	EXPECT("echo 'x:y:z' | cut -d: -f2,3; echo abcdef | cut -c2-4", "y:z\nbcd\n");
	EXPECT("awk -F: '{print $1, $7}' /etc/passwd; awk '/root/' /etc/group",
	       "root /bin/sh\nroot:x:0:\n");
	EXPECT("echo 'echo x' | awk '{ print $2 }'; awk 'NR==1 { print NF }' /etc/passwd",
	       "x\n1\n");
	EXPECT("echo 1270 | xargs kill -9; ps | grep -c 1270; echo a b | xargs -n 1 echo item",
	       "0\nitem a\nitem b\n");
	EXPECT("echo abc | awk '{ oops'", "awk: cmd. line:1: Unexpected token\n");
	EXPECT("echo t > /tmp/s; sed -i 's/t/u/' /tmp/s; cat /tmp/s", "u\n");
	EXPECT("echo $0", "-sh\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paths_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mounts_and_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uploads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropper_reassembly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ls_and_misc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_and_network_applets, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
