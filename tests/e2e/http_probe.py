#!/usr/bin/env python3
"""Talks to logship's HTTP API for the e2e tests, with raw sockets so that
malformed and oversized requests can be sent too.

  http_probe.py PORT get PATH        prints the status, then the body
  http_probe.py PORT raw             sends stdin as is; prints the status
  http_probe.py PORT hold N SECONDS  opens N idle connections, holds them
  http_probe.py free-port            prints a free port of 127.0.0.1
"""
import socket
import sys
import time


def complete(resp):
    """True once resp holds a whole response (headers, Content-Length)."""
    head, sep, body = resp.partition(b'\r\n\r\n')
    if not sep:
        return False
    for line in head.split(b'\r\n')[1:]:
        k, _, v = line.partition(b':')
        if k.strip().lower() == b'content-length':
            return len(body) >= int(v.strip())
    return False


def request(port, data, timeout=10):
    """Sends data (without half-closing: a POST's answer would be lost
    to libmicrohttpd closing on the FIN) and reads one response."""
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    s.sendall(data)
    resp = b''
    while not complete(resp):
        b = s.recv(65536)
        if not b:
            break
        resp += b
    s.close()
    return resp


def status_body(resp):
    head, _, body = resp.partition(b'\r\n\r\n')
    line = head.split(b'\r\n', 1)[0].decode('latin-1')
    parts = line.split(' ')
    if len(parts) < 2 or not parts[1].isdigit():
        return 0, resp
    return int(parts[1]), body


def main():
    if sys.argv[1] == 'free-port':
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        print(s.getsockname()[1])
        return
    port, cmd = int(sys.argv[1]), sys.argv[2]
    if cmd == 'get':
        req = ('GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
               % sys.argv[3]).encode()
        st, body = status_body(request(port, req))
        sys.stdout.write('%d\n' % st)
        sys.stdout.buffer.write(body)
    elif cmd == 'raw':
        try:
            st, _ = status_body(request(port, sys.stdin.buffer.read()))
        except (ConnectionError, socket.timeout):
            st = 0
        print(st)
    elif cmd == 'hold':
        n, secs = int(sys.argv[3]), float(sys.argv[4])
        socks = []
        for _ in range(n):
            try:
                socks.append(socket.create_connection(('127.0.0.1', port), 5))
            except OSError:
                break
        print(len(socks), flush=True)
        time.sleep(secs)
        for s in socks:
            s.close()


main()
