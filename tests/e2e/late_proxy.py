#!/usr/bin/env python3
"""A TCP proxy to the broker that lets connections wait before it serves them.

Usage: late_proxy.py PORTFILE UPSTREAM_HOST:PORT DELAY_S

Listens on a free port of 127.0.0.1 at once (its number is written to
PORTFILE), so that a client's bootstrap connection is accepted by the kernel,
but forwards nothing until DELAY_S seconds have passed.  The broker's
metadata then names its own address, so the client must open a second
socket to it after the delay: the state in which a shipper that let its
followed files take every descriptor can never connect.
"""
import asyncio
import os
import sys


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main():
    portfile, upstream, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    host, port = upstream.rsplit(':', 1)
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.call_later(delay, lambda: ready.set_result(None))

    async def serve(reader, writer):
        await ready
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError as e:
            print('upstream: %s' % e, file=sys.stderr, flush=True)
            writer.close()  # the client sees it at once, and reconnects
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(serve, '127.0.0.1', 0)
    with open(portfile + '.tmp', 'w') as f:
        f.write('%d\n' % server.sockets[0].getsockname()[1])
    os.rename(portfile + '.tmp', portfile)
    async with server:
        await server.serve_forever()


asyncio.run(main())
