"""Test hosts for mitsu ident and mitsu audit, run inside a network namespace the test made
(every address of 198.18.0.0/16 is local there, on lo only: nothing leaves the namespace).

Each host is one address with the behaviour a test needs:
  .10  telnet 23: accepts and says nothing (Mirai's killer holding the port)
  .11  telnet 23: slow: one byte every 200 ms, forever
  .12  telnet 23: floods: bytes without end
  .13  UPnP IGD: SSDP on udp 1900, description and SOAP control on tcp 5000, port mappings
  .14  telnet 23: accepts and closes at once (empty banner)
  .16  http 80: a DVR web page (Server, title, favicon) behind a redirect
  .17  telnet 23 with default credentials (admin/admin) and ssh 22 banner: an exposed device
  .18  http 80: Basic authentication that accepts admin:admin
  .20  http 80: Digest authentication (MD5, qop=auth) that accepts admin:admin
  .21  http 80: a form login (POST /login.cgi) that accepts admin:admin
  .19  https 443: a camera page over TLS (certificate and key given as arguments)
Prints "ready" on stdout once every socket is bound; runs until killed.
"""
import asyncio
import base64
import hashlib
import os
import urllib.parse
import re
import ssl
import sys

NET = '198.18.0.'
MAPPINGS = [('TCP', 8080, '192.168.1.20', 80, 'camera web'), ('UDP', 3478, '192.168.1.21', 3478, 'p2p')]
FAVICON = bytes(range(64))
DESC = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
 <specVersion><major>1</major><minor>0</minor></specVersion>
 <device>
  <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
  <friendlyName>WirelessRouter</friendlyName>
  <manufacturer>Logitec Corporation</manufacturer>
  <modelName>LAN-W300N/R</modelName>
  <modelNumber>1.0</modelNumber>
  <UDN>uuid:12345678-1234-1234-1234-001122334455</UDN>
  <deviceList><device>
   <deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
   <manufacturer>Embedded Co</manufacturer>
   <deviceList><device>
    <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
    <serviceList><service>
     <serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
     <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
     <controlURL>/ctl/IPConn</controlURL>
     <SCPDURL>/WANIPCn.xml</SCPDURL>
    </service></serviceList>
   </device></deviceList>
  </device></deviceList>
 </device>
</root>
"""


async def silent(reader, writer):
    await asyncio.sleep(3600)


async def slow(reader, writer):
    try:
        while True:
            writer.write(b'.')
            await writer.drain()
            await asyncio.sleep(0.2)
    except (ConnectionError, OSError):
        pass


async def flood(reader, writer):
    chunk = b'A' * 65536
    try:
        while True:
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass


async def closer(reader, writer):
    writer.close()


async def read_request(reader):
    head = await reader.readuntil(b'\r\n\r\n')
    m = re.search(rb'content-length:\s*(\d+)', head, re.I)
    body = await reader.readexactly(int(m.group(1))) if m else b''
    return head, body


def response(status, headers, body=b''):
    h = 'HTTP/1.1 %s\r\n' % status + ''.join('%s: %s\r\n' % kv for kv in headers)
    return h.encode() + b'Content-Length: %d\r\nConnection: close\r\n\r\n' % len(body) + body


async def igd_http(reader, writer):
    try:
        head, body = await read_request(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    line = head.split(b'\r\n', 1)[0]
    if line.startswith(b'GET /rootDesc.xml'):
        writer.write(response('200 OK', [('Content-Type', 'text/xml')], DESC.encode()))
    elif line.startswith(b'POST /ctl/IPConn') and b'GetGenericPortMappingEntry' in head + body:
        i = int(re.search(rb'<NewPortMappingIndex>(\d+)<', body).group(1))
        if i < len(MAPPINGS):
            proto, ext, client, internal, desc = MAPPINGS[i]
            xml = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
                   '<s:Body><u:GetGenericPortMappingEntryResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">'
                   '<NewRemoteHost></NewRemoteHost><NewExternalPort>%d</NewExternalPort><NewProtocol>%s</NewProtocol>'
                   '<NewInternalPort>%d</NewInternalPort><NewInternalClient>%s</NewInternalClient><NewEnabled>1</NewEnabled>'
                   '<NewPortMappingDescription>%s</NewPortMappingDescription><NewLeaseDuration>0</NewLeaseDuration>'
                   '</u:GetGenericPortMappingEntryResponse></s:Body></s:Envelope>') % (ext, proto, internal, client, desc)
            writer.write(response('200 OK', [('Content-Type', 'text/xml')], xml.encode()))
        else:
            xml = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                   '<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError>'
                   '<errorCode>713</errorCode><errorDescription>SpecifiedArrayIndexInvalid</errorDescription>'
                   '</UPnPError></detail></s:Fault></s:Body></s:Envelope>')
            writer.write(response('500 Internal Server Error', [('Content-Type', 'text/xml')], xml.encode()))
    else:
        writer.write(response('404 Not Found', []))
    await writer.drain()
    writer.close()


class Ssdp(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.t = transport

    def datagram_received(self, data, addr):
        if data.startswith(b'M-SEARCH'):
            self.t.sendto(('HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice\r\n'
                           'USN: uuid:12345678-1234-1234-1234-001122334455::upnp:rootdevice\r\n'
                           'EXT:\r\nSERVER: Linux/2.6.36 UPnP/1.1 miniupnpd/1.9\r\n'
                           'LOCATION: http://%s13:5000/rootDesc.xml\r\n\r\n' % NET).encode(), addr)


async def dvr_http(reader, writer):
    try:
        head, _ = await read_request(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    line = head.split(b'\r\n', 1)[0]
    if line.startswith(b'GET / '):
        writer.write(response('302 Found', [('Server', 'Cross Web Server'), ('Location', '/index.html')]))
    elif line.startswith(b'GET /index.html'):
        writer.write(response('200 OK', [('Server', 'Cross Web Server'), ('Content-Type', 'text/html')],
                              b'<html><head><title>DVR Components Download</title></head></html>'))
    elif line.startswith(b'GET /favicon.ico'):
        writer.write(response('200 OK', [('Content-Type', 'image/x-icon')], FAVICON))
    else:
        writer.write(response('404 Not Found', []))
    await writer.drain()
    writer.close()


async def tls_http(reader, writer):
    try:
        await read_request(reader)
        writer.write(response('200 OK', [('Server', 'Hikvision-Webs')], b'<title>Network Camera</title>'))
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    writer.close()


async def basic_http(reader, writer):
    try:
        head, _ = await read_request(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    ok = b'Basic ' + base64.b64encode(b'admin:admin') in head
    if ok:
        writer.write(response('200 OK', [('Server', 'GoAhead-Webs')], b'<title>IPCAM</title>'))
    else:
        writer.write(response('401 Unauthorized', [('Server', 'GoAhead-Webs'),
                                                   ('WWW-Authenticate', 'Basic realm="IPCamera Login"')]))
    await writer.drain()
    writer.close()


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


async def digest_http(reader, writer):
    try:
        head, _ = await read_request(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    m = re.search(rb'Authorization: Digest (.*)\r\n', head)
    ok = False
    if m:
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', m.group(1).decode()))
        ha1 = md5('admin:%s:admin' % p.get('realm', ''))
        ha2 = md5('GET:%s' % p.get('uri', ''))
        want = md5('%s:%s:%s:%s:%s:%s' % (ha1, p.get('nonce'), p.get('nc'), p.get('cnonce'), p.get('qop'), ha2))
        ok = p.get('username') == 'admin' and p.get('response') == want
    if ok:
        writer.write(response('200 OK', [], b'<title>NVR</title>'))
    else:
        nonce = os.urandom(8).hex()
        writer.write(response('401 Unauthorized', [('WWW-Authenticate',
                     'Digest realm="Login to ND0123456789", qop="auth", nonce="%s", opaque="x1"' % nonce)]))
    await writer.drain()
    writer.close()


FORM = (b'<html><title>Router Login</title><form method="post" action="/login.cgi">'
        b'<input type="text" name="username"><input type="password" name="passwd"></form></html>')


async def form_http(reader, writer):
    try:
        head, body = await read_request(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
        return
    if head.startswith(b'POST /login.cgi'):
        f = urllib.parse.parse_qs(body.decode())
        if f.get('username') == ['admin'] and f.get('passwd') == ['admin']:
            writer.write(response('302 Found', [('Location', '/main.html')]))
        else:
            writer.write(response('200 OK', [], FORM))
    else:
        writer.write(response('200 OK', [], FORM))
    await writer.drain()
    writer.close()


async def telnet_login(reader, writer):
    """A BusyBox-style login that accepts admin/admin."""
    try:
        writer.write(b'\xff\xfb\x01\xff\xfb\x03(none) login: ')
        for _ in range(3):
            user = await read_line(reader)
            writer.write(b'Password: ')
            pw = await read_line(reader)
            if user == b'admin' and pw == b'admin':
                writer.write(b'\r\n\r\nBusyBox v1.19.4 built-in shell (ash)\r\n# ')
                await writer.drain()
                await asyncio.sleep(1)
                break
            writer.write(b'\r\nLogin incorrect\r\n(none) login: ')
        writer.close()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        writer.close()


async def read_line(reader):
    data = b''
    while True:
        b = await reader.readexactly(1)
        if b == b'\xff':
            verb = await reader.readexactly(1)
            if verb[0] >= 251:
                await reader.readexactly(1)
            continue
        if b in b'\r\n':
            if data:
                return data
            continue
        data += b


async def ssh_banner(reader, writer):
    writer.write(b'SSH-2.0-dropbear_2014.63\r\n')
    await writer.drain()
    await asyncio.sleep(1)
    writer.close()


async def main():
    servers = [
        (silent, 10, 23), (slow, 11, 23), (flood, 12, 23), (igd_http, 13, 5000), (closer, 14, 23),
        (dvr_http, 16, 80), (telnet_login, 17, 23), (ssh_banner, 17, 22), (basic_http, 18, 80),
        (digest_http, 20, 80), (form_http, 21, 80),
    ]
    keep = []
    for handler, host, port in servers:
        keep.append(await asyncio.start_server(handler, NET + str(host), port))
    if len(sys.argv) > 2:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        keep.append(await asyncio.start_server(tls_http, NET + '19', 443, ssl=ctx))
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(Ssdp, local_addr=(NET + '13', 1900))
    print('ready', flush=True)
    await asyncio.sleep(3600)


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
