"""Bench hosts: every address of the namespace's 198.18.0.0/16 answers on Telnet 23 (a
XiongMai DVR's login prompt) and HTTP 80 (its web server and title); other ports refuse.
Runs inside the namespace bench/ident/run made; prints "ready" once bound."""
import asyncio
import sys

TELNET = b'\xff\xfb\x01\xff\xfb\x03HI3520D login: '
PAGE = b'<html><head><title>NetSurveillance WEB</title></head></html>'
HTTP = (b'HTTP/1.1 200 OK\r\nServer: uc-httpd 1.0.0\r\nContent-Type: text/html\r\n'
        b'Content-Length: %d\r\nConnection: close\r\n\r\n' % len(PAGE)) + PAGE
NOT_FOUND = b'HTTP/1.1 404 Not Found\r\nServer: uc-httpd 1.0.0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'


async def telnet(reader, writer):
    try:
        writer.write(TELNET)
        await writer.drain()
        await asyncio.wait_for(reader.read(256), 5)  # the prober's answer, or its close
    except (ConnectionError, asyncio.TimeoutError):
        pass
    writer.close()


async def http(reader, writer):
    try:
        line = await asyncio.wait_for(reader.readline(), 5)
        while (await asyncio.wait_for(reader.readline(), 5)) not in (b'\r\n', b'\n', b''):
            pass
        writer.write(HTTP if line.startswith(b'GET / ') else NOT_FOUND)
        await writer.drain()
    except (ConnectionError, asyncio.TimeoutError, ValueError):
        pass
    writer.close()


async def main():
    servers = [await asyncio.start_server(telnet, '0.0.0.0', 23, backlog=4096),
               await asyncio.start_server(http, '0.0.0.0', 80, backlog=4096)]
    print('ready', flush=True)
    await asyncio.sleep(86400)
    del servers


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
