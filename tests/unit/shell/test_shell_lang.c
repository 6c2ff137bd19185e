/* Unit tests of src/shell: the ash language (lexer, parser, expansion, control flow, errors)
 * and echo/printf decoding, every line fed through shell_input as a terminal would. */
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

/* Runs a line and compares its whole output. */
#define EXPECT(line, want) \
	do { \
		char *o_ = th_run(&T, line); \
		if (strcmp(o_, want) != 0) \
			fail_msg("%s\n  got:  [%s]\n  want: [%s]", line, o_, want); \
		free(o_); \
	} while (0)

static void test_unescape(void **state)
{
	uint8_t out[64];
	bool stop;
	size_t n = shell_echo_unescape("\\x6b\\x61\\x6d\\x69", 16, out, sizeof(out), &stop);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "kami", 4);
	n = shell_echo_unescape("\\147\\141\\171\\146\\147\\164", 24, out, sizeof(out), &stop);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "gayfgt", 6);
	/* \0NNN: four-digit octal with a leading zero */
	n = shell_echo_unescape("\\0101\\0", 7, out, sizeof(out), &stop);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "A\0", 2);
	/* NUL bytes and high bytes */
	n = shell_echo_unescape("\\x00\\xff\\x7f\\x45", 16, out, sizeof(out), &stop);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "\x00\xff\x7f\x45", 4);
	/* one hex digit, a bad hex, unknown escapes stay */
	n = shell_echo_unescape("\\x4g\\xzz\\q", 10, out, sizeof(out), &stop);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "\x04g\\xzz\\q", 8);
	/* \c stops */
	n = shell_echo_unescape("ab\\cde", 6, out, sizeof(out), &stop);
	assert_true(stop);
	assert_int_equal(n, 2);
	n = shell_echo_unescape("\\t\\n\\\\\\a\\e", 10, out, sizeof(out), &stop);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "\t\n\\\a\x1b", 5);
	/* octal stops at 3 digits and at 255 */
	n = shell_echo_unescape("\\1234\\477", 9, out, sizeof(out), &stop);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "S4'7", 4);
	/* the output capacity bounds the result */
	n = shell_echo_unescape("abcdef", 6, out, 3, &stop);
	assert_int_equal(n, 3);
}

static void test_echo(void **state)
{
	EXPECT("echo -e '\\x6b\\x61\\x6d\\x69'", "kami\n");
	EXPECT("echo -e '\\147\\141\\171\\146\\147\\164'", "gayfgt\n");
	EXPECT("echo -n abc", "abc");
	EXPECT("echo -ne 'a\\x41'", "aA");
	EXPECT("echo -en 'a\\x41'", "aA");
	EXPECT("echo -E 'a\\x41'", "a\\x41\n");
	EXPECT("echo 'a\\x41'", "a\\x41\n");
	EXPECT("echo -e -n x", "x");
	EXPECT("echo -x y", "-x y\n");
	EXPECT("echo - y", "- y\n");
	EXPECT("echo -e 'a\\cb' c", "a");
	EXPECT("/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69'", "kami\n");
	EXPECT("printf '%s-%d-%x-%5s|%-3s|\\n' a 42 255 r l", "a-42-ff-    r|l  |\n");
	EXPECT("printf 'x\\x41\\101\\n'", "xAA\n");
	EXPECT("printf '%s\\n' a b c", "a\nb\nc\n");
	EXPECT("printf '%b' 'q\\tw\\n'", "q\tw\n");
	EXPECT("printf %d abc", "printf: invalid number 'abc'\n0");
}

static void test_quotes_and_variables(void **state)
{
	EXPECT("echo 'a  b' \"c  d\" e\\ f", "a  b c  d e f\n");
	EXPECT("x=5; echo $x ${x} \"$x\" '$x' \\$x", "5 5 5 $x $x\n");
	EXPECT("echo ${undef:-def} ${undef-d2} ${x:+alt} ${#x}", "def d2 alt 1\n");
	EXPECT("y=\"a b  c\"; set -- $y; echo $# \"$2\"", "3 b\n");
	EXPECT("set -- \"a b\" c; for i in \"$@\"; do echo \"<$i>\"; done", "<a b>\n<c>\n");
	EXPECT("p=/tmp/file.tar.gz; echo ${p##*/} ${p%.*} ${p%%.*} ${p#/}",
	       "file.tar.gz /tmp/file.tar /tmp/file tmp/file.tar.gz\n");
	EXPECT("false; echo $?; true; echo $?", "1\n0\n");
	EXPECT("echo \"$(echo sub $(echo nested))\" `echo back`", "sub nested back\n");
	EXPECT("a=$(printf 'x\\n\\n\\n'); echo \"[$a]\"", "[x]\n");
	EXPECT("echo $((3*4+2)) $((7%3)) $((1<<4)) $(( (2+3)*2 ))", "14 1 16 10\n");
	EXPECT("echo $((1/0))", "-sh: divide by zero\n");
	EXPECT("echo ~ ~/x", "/root /root/x\n");
	EXPECT("echo \"a\\$b\\\"c\\\\d\\e\"", "a$b\"c\\d\\e\n");
	EXPECT("IFS=:; v=a:b::c; for i in $v; do echo \"[$i]\"; done; unset IFS",
	       "[a]\n[b]\n[]\n[c]\n");
	EXPECT("echo ${x", "-sh: syntax error: bad substitution\n");
	EXPECT("echo $'a\\x41'", "aA\n");
}

static void test_operators_and_redirections(void **state)
{
	EXPECT("echo a; echo b", "a\nb\n");
	EXPECT("true && echo y || echo n", "y\n");
	EXPECT("false && echo y || echo n", "n\n");
	EXPECT("false || echo d && echo e", "d\ne\n");
	EXPECT("echo abc | wc -c", "4\n");
	EXPECT("echo one two | grep two | wc -l", "1\n");
	EXPECT("! true; echo $?", "1\n");
	EXPECT("cd /tmp; echo hi > f; cat f; echo there >> f; cat < f", "hi\nhi\nthere\n");
	EXPECT("ls /nonexistent 2>/dev/null; echo $?", "1\n");
	EXPECT("ls /nonexistent 2>&1 | wc -l", "1\n");
	EXPECT("echo out >/dev/null", "");
	EXPECT("ls /nonexistent >/dev/null 2>&1", "");
	EXPECT("echo x 1>&2", "x\n");
	EXPECT("echo bg & echo fg", "bg\nfg\n");
	EXPECT("x=5; cat <<EOF\nx=$x\nEOF", "x=5\n");
	EXPECT("cat <<'EOF'\nx=$x\nEOF", "x=$x\n");
	EXPECT("cat <<-EOF\n\tindented\n\tEOF", "indented\n");
	EXPECT("{ echo a; echo b; } | wc -l", "2\n");
	EXPECT("(cd /; pwd); pwd", "/\n/tmp\n");
	EXPECT("echo a > /tmp/r1 2>&1; cat /tmp/r1", "a\n");
	EXPECT("exec 3>/tmp/fd3; echo data >&3; cat /tmp/fd3", "data\n");
}

static void test_control_flow(void **state)
{
	EXPECT("if true; then echo yes; else echo no; fi", "yes\n");
	EXPECT("if false; then echo 1; elif true; then echo 2; else echo 3; fi", "2\n");
	EXPECT("for i in 1 2 \"3 4\"; do echo \"[$i]\"; done", "[1]\n[2]\n[3 4]\n");
	EXPECT("i=3; while [ $i -gt 0 ]; do echo -n $i; i=$((i-1)); done; echo", "321\n");
	EXPECT("i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i", "2\n");
	EXPECT("for i in 1 2 3 4; do [ $i = 3 ] && break; echo $i; done", "1\n2\n");
	EXPECT("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done", "1\n3\n");
	EXPECT("case abc in a*) echo star;; *) echo other;; esac", "star\n");
	EXPECT("case x86 in arm|mips) echo a;; x8?) echo x;; esac", "x\n");
	EXPECT("f() { echo \"in f $1\"; return 3; }; f arg; echo $?", "in f arg\n3\n");
	EXPECT("g() { for i in a b; do return 7; done; echo no; }; g; echo $?", "7\n");
	EXPECT("[ -f /etc/passwd ] && echo file; [ -d /etc ] && echo dir; [ -e /nope ] || echo "
	       "none",
	       "file\ndir\nnone\n");
	EXPECT("test 3 -lt 10 -a abc = abc && echo ok", "ok\n");
	EXPECT("[ 1 = 1 ", "sh: missing ]\n");
	EXPECT("for f in /etc/p*; do echo $f; done", "/etc/passwd\n");
	EXPECT("echo /etc/*.nothing", "/etc/*.nothing\n");
	EXPECT("cd /etc; echo *", "group passwd\n");
	EXPECT("cd /tmp", "");
	/* eval, . and sh -c */
	EXPECT("eval 'echo e1; echo e2'", "e1\ne2\n");
	EXPECT("echo 'echo sourced $1' > /tmp/s.sh; . /tmp/s.sh", "sourced\n");
	EXPECT("sh -c 'echo in-c $0 $1' zero one", "in-c zero one\n");
	EXPECT("echo 'echo piped' | sh", "piped\n");
	EXPECT("sh -c 'exit 3'; echo $?", "3\n");
	EXPECT("(exit 4); echo $?", "4\n");
	EXPECT("x=$(exit 5); echo $?", "5\n");
	EXPECT("false; echo -n | sh; echo $?", "0\n");
	/* programs that run others */
	EXPECT("echo 'echo ran $1' > /tmp/r.sh; chmod +x /tmp/r.sh; nohup /tmp/r.sh a; cat "
	       "nohup.out",
	       "ran a\n");
	EXPECT("nice -n 5 /tmp/r.sh b; env X=1 /tmp/r.sh c; timeout -t 5 /tmp/r.sh d",
	       "ran b\nran c\nran d\n");
	EXPECT("nohup cd / | cat; nohup nosuch | cat",
	       "nohup: can't execute 'cd': No such file or directory\n"
	       "nohup: can't execute 'nosuch': No such file or directory\n");
}

static void test_syntax_errors(void **state)
{
	EXPECT("fi", "-sh: syntax error: unexpected \"fi\"\n");
	EXPECT("echo a; ; echo b", "-sh: syntax error: unexpected \";\"\n");
	EXPECT("echo )", "-sh: syntax error: unexpected \")\"\n");
	EXPECT("| ls", "-sh: syntax error: unexpected \"|\"\n");
	EXPECT("do", "-sh: syntax error: unexpected \"do\"\n");
	EXPECT("if true; then; fi", "-sh: syntax error: unexpected \";\"\n");
	EXPECT("for 1x in a; do echo; done", "-sh: syntax error: bad for loop variable\n");
	EXPECT("echo ok", "ok\n");
	/* a script stops at its syntax error, after running the lines before it */
	EXPECT("printf 'echo first\\nfi\\necho never\\n' > /tmp/bad.sh; sh /tmp/bad.sh; echo $?",
	       "first\n/tmp/bad.sh: line 2: syntax error: unexpected \"fi\"\n2\n");
	EXPECT("printf 'echo a\\nif true; then echo b\\n' > /tmp/eof.sh; sh /tmp/eof.sh",
	       "a\n/tmp/eof.sh: line 3: syntax error: unexpected end of file (expecting \"fi\")\n");
	EXPECT("printf 'nosuchcmd\\n' > /tmp/nf.sh; sh /tmp/nf.sh",
	       "/tmp/nf.sh: line 1: nosuchcmd: not found\n");
	EXPECT("nosuchcmd arg", "-sh: nosuchcmd: not found\n");
	EXPECT("/tmp/nosuch", "-sh: /tmp/nosuch: not found\n");
	EXPECT("nosuchcmd; echo $?", "-sh: nosuchcmd: not found\n127\n");
	/* unknown commands are events, with the command as run */
	assert_true(th_has_event(&T, "mitsu.command.unknown", "nosuchcmd arg"));
	assert_true(th_has_event(&T, "mitsu.command.input", "nosuchcmd arg"));
}

/* Multi-line constructs arrive line by line: continuation prompts and the same result. */
static void test_lines(void **state)
{
	th_line(&T, "if true");
	char *o = th_take(&T);
	assert_string_equal(o, "> ");
	free(o);
	th_line(&T, "then echo yes");
	free(th_take(&T));
	EXPECT("fi", "yes\n");
	th_line(&T, "echo 'a");
	free(th_take(&T));
	EXPECT("b'", "a\nb\n");
	th_line(&T, "echo one \\");
	free(th_take(&T));
	EXPECT("two", "one two\n");
	th_line(&T, "for i in 1 2 &&");
	o = th_take(&T);
	assert_string_equal(o, "-sh: syntax error: unexpected \"&&\"\n# ");
	free(o);
	th_line(&T, "cat <<END");
	th_line(&T, "l1");
	th_line(&T, "l2");
	free(th_take(&T));
	EXPECT("END", "l1\nl2\n");
	th_line(&T, "f() {");
	th_line(&T, "  echo body");
	free(th_take(&T));
	EXPECT("}; f", "body\n");
	/* empty lines and comments: just a prompt */
	EXPECT("", "");
	EXPECT("   # comment only", "");
	EXPECT("echo a # trailing comment", "a\n");
	/* a NUL byte in a line is dropped, as ash does */
	shell_input(T.sh, "ec\0ho nul", 9);
	o = th_take(&T);
	assert_string_equal(o, "nul\n# ");
	free(o);
	/* every input line is an event */
	assert_true(th_has_event(&T, "mitsu.command.input", "if true"));
	assert_true(th_has_event(&T, "mitsu.command.input", "END"));
}

/* The same script, fed as one text to sh -c and line by line to the terminal, gives the same
 * output: the parser accepts any split into lines. */
static void test_any_split(void **state)
{
	static const char *const script[] = {
		"x=1",
		"while [ $x -le 3 ]",
		"do",
		"  case $x in",
		"    1) echo one;;",
		"    *) echo \"n=$x\"",
		"       ;;",
		"  esac",
		"  x=$((x+1))",
		"done",
		"echo 'multi",
		"line' \\",
		"  tail",
	};
	struct buf whole;
	buf_init(&whole, 1 << 16);
	for (size_t i = 0; i < LIB_ARRAY_LEN(script); i++)
		buf_printf(&whole, "%s\n", script[i]);
	char *text = xstrndup((char *)whole.data, whole.len);
	buf_free(&whole);
	/* one text: write it to a file and run it */
	struct buf cmd;
	buf_init(&cmd, 1 << 16);
	buf_append_str(&cmd, "printf '%s' '");
	for (char *p = text; *p; p++) {
		if (*p == '\'')
			buf_append_str(&cmd, "'\\''");
		else
			buf_append(&cmd, p, 1);
	}
	buf_append_str(&cmd, "' > /tmp/split.sh; sh /tmp/split.sh");
	char *a = th_run(&T, (char *)cmd.data);
	buf_free(&cmd);
	/* line by line, removing the continuation prompts */
	for (size_t i = 0; i < LIB_ARRAY_LEN(script); i++)
		th_line(&T, script[i]);
	char *b = th_take(&T);
	struct buf clean;
	buf_init(&clean, 1 << 16);
	for (char *p = b; *p; p++) {
		if (p[0] == '>' && p[1] == ' ') {
			p++;
			continue;
		}
		buf_append(&clean, p, 1);
	}
	const char *want = "one\nn=2\nn=3\nmulti\nline tail\n";
	assert_string_equal(a, want);
	/* a prompt after each complete command, none inside one */
	assert_string_equal((char *)clean.data, "# one\nn=2\nn=3\n# multi\nline tail\n# ");
	buf_free(&clean);
	free(a);
	free(b);
	free(text);
}

static void test_read_loops(void **state)
{
	EXPECT("printf 'a b\\nc d\\n' > /tmp/rl; while read x y; do echo \"$y-$x\"; done < /tmp/rl",
	       "b-a\nd-c\n");
	EXPECT("read v < /dev/null; echo $?", "1\n");
	EXPECT("echo 'w1 w2' | { read a b; echo $b; }", "w2\n");
	/* a loop that never ends is bounded */
	th_fini(&T);
	struct shell_limits lim = {.vfs_bytes = 1 << 20,
				   .vfs_files = 64,
				   .max_commands = 500,
				   .script_depth = 4,
				   .max_queued = 4096};
	th_init_limits(&T, NULL, &lim);
	th_line(&T, "while true; do :; done");
	assert_non_null(T.closed);
	assert_string_equal(T.closed, "command_limit");
	th_fini(&T);
	th_init(&T, NULL);
	free(th_take(&T));
	/* scripts that run themselves stop at the depth limit */
	EXPECT("echo 'sh /tmp/self.sh; echo level' > /tmp/self.sh; sh /tmp/self.sh | wc -l", "8\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unescape),
		cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quotes_and_variables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_operators_and_redirections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_loops, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
