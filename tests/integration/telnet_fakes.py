#!/usr/bin/env python3
"""Telnet servers that bench/telnet's load client is proven against (tests/integration/
test_bench_telnet.py), and that `bench/telnet/run --vs` can be pointed at:

- FakeShell answers the lines of Mirai's scanner and loader dialogues as a BusyBox ash would,
  from canned text (ps, /proc/mounts, an ELF /bin/echo, a small file table for echo/cat/cp/rm).
  It runs nothing: every answer is printed from data.
- Honeypot is a Telnet server with the habits of another well-known Telnet honeypot that made
  the old load client hang: it answers every WILL/DO the client sends at any point of the
  session, sends WILL ECHO and DO ECHO at the password prompt and WONT ECHO after it, echoes what
  is typed, and splits its output into small pieces written apart. It can stall at a chosen step
  (it then reads and drops input and never answers again). Run it alone:
      python3 tests/integration/telnet_fakes.py --port 2324 [--opening naws|busybox|none]
          [--stall STEP] [--stall-on TEXT] [--no-split]
- login_main() is the login program that BusyBox telnetd runs (-l telnet_fake_login.py): a
  BusyBox-like login and prompt over the pty, answering with FakeShell.

While a session waits for input, both send a keepalive (IAC NOP, or NUL through the pty) every
KEEPALIVE seconds, as some telnetds do. Mirai's loader looks for the token after /bin/echo's ELF
header only in a later read, so without further bytes it would stall whenever the header and the
token arrive in one read; the keepalive makes that later read certain, so the tests' outcomes
do not depend on scheduling.
"""
import argparse
import os
import posixpath
import random
import select
import shlex
import socket
import socketserver
import struct
import sys
import threading
import time

IAC, DONT, DO, WONT, WILL, SB, SE, NOP = 255, 254, 253, 252, 251, 250, 240, 241
OPT_ECHO, OPT_SGA, OPT_NAWS = 1, 3, 31
KEEPALIVE = 0.1
PROMPT = b'~ # '
MOTD = b'\n\nBusyBox v1.35.0 (2022-01-17 19:57:02 CET) built-in shell (ash)\n\n'
# wget and tftp are missing, as on many cameras: Mirai's loader then echoes its dropper.
APPLETS = {'cat', 'echo', 'ps', 'cp', 'chmod', 'rm', 'kill', 'sh', 'ls'}
NOT_FOUND_SH = {'enable', 'system', 'shell', 'linuxshell'}
PS = b'''  PID USER       VSZ STAT COMMAND
    1 root      1464 S    init
    2 root         0 SW   [kthreadd]
  352 root      1468 S    telnetd
  419 root      1464 S    -sh
  512 root       820 S    ./1234
  600 root      1464 S    init
  701 root      1464 R    ps
'''
# Mirai's loader kills a second init and a process above pid 400 named by digits only.
PS_KILLED = (512, 600)
MOUNTS = b'''rootfs / rootfs rw 0 0
/dev/root / squashfs ro,relatime 0 0
proc /proc proc rw,relatime 0 0
tmpfs /dev tmpfs rw,relatime 0 0
tmpfs /var tmpfs rw,relatime 0 0
/dev/mtdblock3 /mnt/mtd jffs2 rw,relatime 0 0
'''
READ_ONLY = ('/', '/proc')


def elf_echo(size=2048):
    """/bin/echo: an ELF32 little-endian MIPS header (Mirai's loader reads "mpsl") and filler
    bytes in 0x80..0xfd, so no line end, IAC or text marker appears in it."""
    ident = b'\x7fELF\x01\x01\x01' + bytes(9)
    hdr = ident + struct.pack('<HHIIIIIHHHHHH', 2, 8, 1, 0x400100, 52, 0, 0x1007, 52, 32, 3, 40, 0, 0)
    return hdr + bytes(0x80 + (i * 37) % 0x7e for i in range(size - len(hdr)))


def unescape_echo(text):
    """echo -e: \\xHH, \\n, \\t, \\\\ (what Mirai uses)."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == '\\' and i + 1 < len(text):
            n = text[i + 1]
            if n == 'x' and i + 4 <= len(text):
                try:
                    out.append(int(text[i + 2:i + 4], 16))
                    i += 4
                    continue
                except ValueError:
                    pass
            if n in 'nt\\':
                out += {'n': b'\n', 't': b'\t', '\\': b'\\'}[n]
                i += 2
                continue
        out += c.encode('latin-1')
        i += 1
    return bytes(out)


class FakeShell:
    """One session's BusyBox ash, from canned data. run_line() returns what the shell prints
    for one input line, with bare '\\n' line ends (a pty or the Telnet server adds the '\\r')."""

    def __init__(self, echo_size=2048, wget=False):
        self.applets = APPLETS | ({'wget'} if wget else set())
        self.cwd = '/'
        self.files = {'/proc/mounts': MOUNTS, '/bin/echo': elf_echo(echo_size)}
        self.commands = []   # every command line received
        self.uploads = []    # the content of every file run with ./NAME

    def path(self, p):
        return posixpath.normpath(posixpath.join(self.cwd, p))

    def run_line(self, raw):
        line = raw.split(b'\0')[0].decode('latin-1').strip()   # ash ends a word at NUL
        if not line:
            return b''
        self.commands.append(line)
        out = bytearray()
        for cmd in line.split(';'):
            out += self.run_command(cmd.strip())
        return bytes(out)

    def run_command(self, cmd):
        try:
            words = shlex.split(cmd)
        except ValueError:
            return b'-sh: syntax error: unterminated quoted string\n'
        redirect = None
        args = []
        i = 0
        while i < len(words):
            w = words[i]
            if w in ('>', '>>') and i + 1 < len(words):
                redirect = (w, words[i + 1])
                i += 2
                continue
            if w.startswith('>'):
                redirect = ('>>' if w.startswith('>>') else '>', w.lstrip('>'))
            else:
                args.append(w)
            i += 1
        out = self.dispatch(args) if args else b''
        if redirect is None:
            return out
        target = self.path(redirect[1])
        if posixpath.dirname(target) in READ_ONLY or target.startswith('/proc/'):
            return b"-sh: can't create %s: Permission denied\n" % target.encode()
        old = self.files.get(target, b'') if redirect[0] == '>>' else b''
        self.files[target] = old + out
        return b''

    def dispatch(self, args):
        name = args[0]
        if name == '/bin/busybox':
            if len(args) == 1:
                return b'BusyBox v1.35.0 (2022-01-17 19:57:02 CET) multi-call binary.\n'
            if args[1] not in self.applets:
                return b'%s: applet not found\n' % args[1].encode('latin-1')
            return self.applet(args[1], args[2:])
        if name in self.applets or name == 'cd':
            return self.applet(name, args[1:])
        if name.startswith('./'):
            data = self.files.get(self.path(name))
            if data is not None:
                self.uploads.append(data)
                return b'-sh: %s: Permission denied\n' % name.encode('latin-1')
        return b'-sh: %s: not found\n' % name.encode('latin-1')

    def applet(self, name, args):
        if name == 'cd':
            self.cwd = self.path(args[0]) if args else '/'
            return b''
        if name == 'ps':
            return PS
        if name == 'wget':   # fetches nothing: says what a refused connection says
            urls = [a for a in args if '://' in a]
            if not urls:
                return b'BusyBox v1.35.0 multi-call binary.\n\nUsage: wget [-c|--continue] URL...\n'
            return b'Connecting to %s\nwget: can\'t connect to remote host: Connection refused\n' % (
                urls[0].split('/')[2].encode('latin-1'))
        if name == 'cat':
            out = bytearray()
            for a in args:
                data = self.files.get(self.path(a))
                if data is None:
                    out += b"cat: can't open '%s': No such file or directory\n" % a.encode('latin-1')
                else:
                    out += data
            return bytes(out)
        if name == 'echo':
            flags = ''
            while args and args[0].startswith('-') and set(args[0][1:]) <= set('ne'):
                flags += args[0][1:]
                args = args[1:]
            text = ' '.join(args)
            data = unescape_echo(text) if 'e' in flags else text.encode('latin-1')
            return data if 'n' in flags else data + b'\n'
        if name == 'cp' and len(args) == 2:
            data = self.files.get(self.path(args[0]))
            if data is None:
                return b"cp: can't stat '%s': No such file or directory\n" % args[0].encode('latin-1')
            self.files[self.path(args[1])] = data
            return b''
        if name == 'rm':
            for a in args:
                if not a.startswith('-'):
                    self.files.pop(self.path(a), None)
            return b''
        return b''   # chmod, kill, sh, ls: nothing to print


class TelnetReader:
    """Input side of a Telnet session: strips IAC commands (answering every WILL and DO, at any
    point), and returns lines (ended by CR, LF, CR LF or CR NUL), echoing data when asked."""

    def __init__(self, sock, send):
        self.sock = sock
        self.send = send
        self.buf = bytearray()
        self.pending = bytearray()
        self.skip_after_cr = False
        self.agreed = set()
        self.closed = False

    def _answer(self, cmd, opt):
        if cmd == WILL and (DO, opt) not in self.agreed:
            self.agreed.add((DO, opt))
            self.send(bytes([IAC, DO, opt]))
        elif cmd == DO and (WILL, opt) not in self.agreed:
            self.agreed.add((WILL, opt))
            ok = opt in (OPT_ECHO, OPT_SGA)
            self.send(bytes([IAC, WILL if ok else WONT, opt]))

    def _feed(self, data, echo):
        data = self.pending + data
        self.pending = bytearray()
        i = 0
        shown = bytearray()
        while i < len(data):
            b = data[i]
            if b == IAC:
                if i + 1 >= len(data):
                    self.pending = data[i:]
                    break
                cmd = data[i + 1]
                if cmd == IAC:
                    self.buf.append(IAC)
                    i += 2
                elif cmd in (DO, DONT, WILL, WONT):
                    if i + 2 >= len(data):
                        self.pending = data[i:]
                        break
                    self._answer(cmd, data[i + 2])
                    i += 3
                elif cmd == SB:
                    j = data.find(bytes([IAC, SE]), i + 2)
                    if j < 0:
                        self.pending = data[i:]
                        break
                    i = j + 2
                else:
                    i += 2
                continue
            if self.skip_after_cr and b in (0, 10):
                self.skip_after_cr = False
                i += 1
                continue
            self.skip_after_cr = b == 13
            self.buf.append(10 if b == 13 else b)
            if b not in (0, 13, 10):
                shown.append(b)
            elif b in (13, 10):
                shown += b'\r\n'
            i += 1
        if echo and shown:
            self.send(bytes(shown))

    def line(self, echo=True, idle=None):
        """The next line without its end, or None at EOF. idle() is called while waiting."""
        while b'\n' not in self.buf:
            r, _, _ = select.select([self.sock], [], [], KEEPALIVE)
            if not r:
                if idle:
                    idle()
                continue
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b''
            if not data:
                self.closed = True
                return None
            self._feed(data, echo)
        n = self.buf.index(b'\n')
        line = bytes(self.buf[:n])
        del self.buf[:n + 1]
        return line


class Honeypot:
    """The threaded Telnet server described at the top of this file.
    opening: 'naws' (IAC DO NAWS first: Cowrie since its 2026 fix), 'busybox' (BusyBox telnetd's
    four commands), 'none' (banner and login prompt first, no option at all).
    stall: 'iacs', 'login_prompt', 'password_prompt' or 'shell_prompt': never sends that part;
    stall_on: stops answering at the first command line that contains this text;
    wget: the shell has a wget applet (which fetches nothing and says the connection failed)."""

    OPENINGS = {
        'naws': bytes([IAC, DO, OPT_NAWS]),
        'busybox': bytes([IAC, DO, OPT_ECHO, IAC, DO, OPT_NAWS, IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA]),
        'none': b'',
    }

    def __init__(self, port=0, opening='naws', stall=None, stall_on=None, split=True, echo_size=2048,
                 wget=False):
        self.opening = self.OPENINGS[opening]
        self.stall, self.stall_on, self.split, self.echo_size = stall, stall_on, split, echo_size
        self.wget = wget
        self.lock = threading.Lock()
        self.shells = []
        self.logins = []
        hp = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                hp.session(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 1024

        self.server = Server(('127.0.0.1', port), Handler)
        self.port = self.server.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def writer(self, sock, seed):
        """send(data): '\\n' becomes '\\r\\n'; with split, the data goes out in pieces of 1 to
        7 bytes, each its own write, with a pause of up to 1 ms between them."""
        rng = random.Random(seed)
        lock = threading.Lock()

        def send(data, raw=False):
            if not raw:
                data = data.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
            with lock:
                try:
                    if not self.split:
                        sock.sendall(data)
                        return
                    i = 0
                    while i < len(data):
                        n = rng.randint(1, 7)
                        sock.sendall(data[i:i + n])
                        i += n
                        time.sleep(rng.random() / 1000)
                except OSError:
                    pass
        return send

    def stall_forever(self, sock):
        while True:
            try:
                if not sock.recv(4096):
                    return
            except OSError:
                return

    def session(self, sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        send = self.writer(sock, sock.getpeername()[1])
        reader = TelnetReader(sock, lambda b: send(b, raw=True))
        keepalive = lambda: send(bytes([IAC, NOP]), raw=True)
        if self.stall == 'iacs':
            return self.stall_forever(sock)
        send(self.opening, raw=True)
        if self.stall == 'login_prompt':
            return self.stall_forever(sock)
        send(b'\n(none) login: ')
        user = reader.line(idle=keepalive)
        if user is None:
            return
        if self.stall == 'password_prompt':
            return self.stall_forever(sock)
        send(bytes([IAC, WILL, OPT_ECHO, IAC, DO, OPT_ECHO]), raw=True)
        send(b'Password: ')
        password = reader.line(echo=False, idle=keepalive)
        if password is None:
            return
        send(bytes([IAC, WONT, OPT_ECHO]), raw=True)
        with self.lock:
            self.logins.append((user.split(b'\0')[0], password))
        if self.stall == 'shell_prompt':
            return self.stall_forever(sock)
        shell = FakeShell(self.echo_size, self.wget)
        with self.lock:
            self.shells.append(shell)
        send(MOTD + PROMPT)
        while True:
            line = reader.line(idle=keepalive)
            if line is None:
                return
            if self.stall_on and self.stall_on.encode() in line:
                return self.stall_forever(sock)
            send(shell.run_line(line) + PROMPT)


def login_main():
    """The login program of BusyBox telnetd (-l): runs on the pty telnetd made, which echoes
    input; the password is read with echo off. Every line goes to FakeShell, which prints and
    runs nothing. FAKE_LOGIN_LOG, if set, names a file that gets every command line."""
    import termios
    out = os.fdopen(1, 'wb', buffering=0)
    log = os.environ.get('FAKE_LOGIN_LOG')

    def readline():
        data = bytearray()
        while not data.endswith(b'\n'):
            r, _, _ = select.select([0], [], [], KEEPALIVE)
            if not r:
                out.write(b'\0')   # keepalive (see the top of this file)
                continue
            try:
                chunk = os.read(0, 4096)
            except OSError:
                chunk = b''
            if not chunk:
                return None
            data += chunk
        return bytes(data[:-1]).rstrip(b'\r')

    out.write(b'\n(none) login: ')
    if readline() is None:
        return
    attrs = termios.tcgetattr(0)
    quiet = list(attrs)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(0, termios.TCSANOW, quiet)
    out.write(b'Password: ')
    password = readline()
    termios.tcsetattr(0, termios.TCSANOW, attrs)
    if password is None:
        return
    shell = FakeShell()
    out.write(MOTD + PROMPT)
    while True:
        line = readline()
        if line is None:
            return
        if log:
            with open(log, 'ab') as f:
                f.write(line.split(b'\0')[0] + b'\n')
        out.write(shell.run_line(line) + PROMPT)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--port', type=int, default=2324)
    ap.add_argument('--opening', choices=sorted(Honeypot.OPENINGS), default='naws')
    ap.add_argument('--stall', choices=['iacs', 'login_prompt', 'password_prompt', 'shell_prompt'])
    ap.add_argument('--stall-on')
    ap.add_argument('--no-split', action='store_true')
    a = ap.parse_args()
    hp = Honeypot(a.port, a.opening, a.stall, a.stall_on, not a.no_split)
    print('listening on 127.0.0.1:%d pid %d' % (hp.port, os.getpid()), flush=True)
    try:
        hp.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
