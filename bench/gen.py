#!/usr/bin/env python3
"""Deterministic log lines for benchmarks.

    gen.py [--lines N] [--kind std|1k|cri] [--seed S] [--out FILE]

std: ~100-byte lines like
  2026-11-23T10:00:00.123Z INFO  service=api-7 user=1234 msg="GET /v1/items/42 200 12ms" seq=17
  (one in ten is DEBUG);
1k:  the same with a ~900-byte payload field, ~1 KiB a line;
cri: the std line wrapped in the CRI container log format
  2026-11-23T10:00:00.123456789Z stdout F <line>
The same arguments always give the same bytes.
"""
import argparse
import random
import sys

LEVELS = ['INFO'] * 6 + ['WARN', 'ERROR', 'INFO', 'DEBUG']
PATHS = ['/v1/items/%d', '/v1/users/%d', '/healthz', '/v1/orders/%d']


def lines(n, kind, seed):
    rnd = random.Random(seed)
    base = 1795428000000  # 2026-11-23T10:00:00.000Z, in ms
    pad = 'x' * 900
    for i in range(n):
        ms = base + i // 10
        sec, milli = divmod(ms, 1000)
        h, rem = divmod(sec % 86400, 3600)
        m, s = divmod(rem, 60)
        stamp = '2026-11-23T%02d:%02d:%02d.%03dZ' % (h, m, s, milli)
        level = LEVELS[i % 10]
        path = rnd.choice(PATHS)
        if '%d' in path:
            path %= rnd.randint(1, 999)
        line = '%s %-5s service=api-%d user=%d msg="GET %s 200 %dms" seq=%d' % (
            stamp, level, rnd.randint(1, 9), rnd.randint(1000, 9999), path,
            rnd.randint(1, 99), i)
        if kind == '1k':
            line += ' payload=' + pad
        elif kind == 'cri':
            line = '%s.%09dZ stdout F %s' % (stamp[:19], milli * 1000000 + i % 1000000, line)
        yield line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lines', type=int, default=1000000)
    ap.add_argument('--kind', choices=['std', '1k', 'cri'], default='std')
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--out', default='-')
    a = ap.parse_args()
    out = sys.stdout if a.out == '-' else open(a.out, 'w')
    buf = []
    for line in lines(a.lines, a.kind, a.seed):
        buf.append(line)
        if len(buf) == 10000:
            out.write('\n'.join(buf) + '\n')
            buf = []
    if buf:
        out.write('\n'.join(buf) + '\n')
    out.close()


if __name__ == '__main__':
    main()
