#!/usr/bin/env python3
"""Compares what arrived in Kafka with what was expected.

    check.py exact GOT WANT      the same lines, each exactly once, any order
    check.py ordered GOT WANT    the same lines in the same order

GOT and WANT hold one record per line.  On a difference it prints what is
missing, what is duplicated and what was not expected, and exits 1.
"""
import collections
import sys


def read(path):
    with open(path, 'rb') as f:
        data = f.read()
    lines = data.split(b'\n')
    if lines and lines[-1] == b'':
        lines.pop()
    return lines


def show(title, items):
    items = list(items)
    if items:
        print('%s: %d, e.g. %s' % (title, len(items),
                                   [i[:80] for i in items[:5]]))


def main():
    mode, got_path, want_path = sys.argv[1:4]
    got, want = read(got_path), read(want_path)
    if mode == 'ordered':
        if got == want:
            return 0
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                print('first difference at record %d: got %r, want %r'
                      % (i, g[:120], w[:120]))
                break
        print('got %d records, want %d' % (len(got), len(want)))
        return 1
    g, w = collections.Counter(got), collections.Counter(want)
    if g == w:
        return 0
    show('missing', sorted(w - g))
    show('duplicated', sorted(k for k, n in g.items() if n > 1 and k in w))
    show('not expected', sorted(k for k in g if k not in w))
    print('got %d records (%d distinct), want %d' % (len(got), len(g), len(want)))
    return 1


if __name__ == '__main__':
    sys.exit(main())
