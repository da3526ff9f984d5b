#!/usr/bin/env python3
"""Appends lines to files at a fixed total rate, each carrying the time it
was written (wt=<ns since the epoch>), for latency measurements.

    writer.py --rate LINES_PER_S --seconds S FILE...

Lines go to the files in turn; every millisecond the lines due are written,
one write(2) per file, so the rate holds at any number of files.
"""
import argparse
import os
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rate', type=float, required=True)
    ap.add_argument('--seconds', type=float, required=True)
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()
    fds = [os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) for p in a.files]
    total = int(a.rate * a.seconds)
    written = 0
    nxt = 0  # the file the next line goes to
    t0 = time.monotonic()
    while written < total:
        due = min(total, int((time.monotonic() - t0) * a.rate) + 1)
        per = {}
        while written < due:
            per.setdefault(nxt, []).append(
                '2026-11-23T10:00:00.000Z INFO  service=api-%d user=%d '
                'msg="GET /v1/items/%d 200 12ms" seq=%d wt=%d\n'
                % (nxt % 9, 1000 + written % 9000, written % 999, written,
                   time.time_ns()))
            written += 1
            nxt = (nxt + 1) % len(fds)
        for i, lines in per.items():
            os.write(fds[i], ''.join(lines).encode())
        time.sleep(0.001)
    for fd in fds:
        os.close(fd)


if __name__ == '__main__':
    main()
