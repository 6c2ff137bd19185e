/* A dropper-like test program: it writes the second stage it carries (another test program,
 * built for another CPU and embedded at build time with -DSTAGE2="path") to /tmp, makes it
 * executable and runs it, as IoT droppers do. The sandbox must run the foreign second stage
 * under the right emulator. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)
__asm__(".section .rodata\n.balign 4\n.global stage2\nstage2:\n.incbin \"" STAGE2 "\"\n"
	".global stage2_end\nstage2_end:\n.previous\n");
extern const unsigned char stage2[], stage2_end[];

int main(void)
{
	const char *path = "/tmp/.stage2";
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	if (fd < 0)
		return 1;
	size_t len = (size_t)(stage2_end - stage2), off = 0;
	while (off < len) {
		ssize_t w = write(fd, stage2 + off, len - off);
		if (w <= 0)
			return 1;
		off += (size_t)w;
	}
	close(fd);
	chmod(path, 0755);
	pid_t pid = fork();
	if (pid == 0) {
		char *const argv[] = {(char *)"stage2", NULL};
		execv(path, argv);
		perror("execv");
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	printf("second stage exited with %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
