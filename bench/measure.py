#!/usr/bin/env python3
"""Runs a command N times and reports the median wall time, CPU seconds
and peak RSS (from getrusage of the child), as JSON.

    measure.py --runs 5 [--stdin FILE] [--cpu 0] -- command args...
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def once(cmd, stdin, cpu):
    if cpu is not None:
        cmd = ['taskset', '-c', str(cpu)] + cmd
    fin = open(stdin, 'rb') if stdin else subprocess.DEVNULL
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=fin, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if fin is not subprocess.DEVNULL:
        fin.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit('command failed: %s' % ' '.join(cmd))
    return {'wall': wall, 'cpu': ru.ru_utime + ru.ru_stime,
            'rss_kib': ru.ru_maxrss}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--stdin')
    ap.add_argument('--cpu', type=int)
    ap.add_argument('cmd', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == '--' else a.cmd
    runs = [once(cmd, a.stdin, a.cpu) for _ in range(a.runs)]
    print(json.dumps({
        'runs': len(runs),
        'wall': statistics.median(r['wall'] for r in runs),
        'wall_min': min(r['wall'] for r in runs),
        'wall_max': max(r['wall'] for r in runs),
        'cpu': statistics.median(r['cpu'] for r in runs),
        'rss_kib': max(r['rss_kib'] for r in runs),
    }))


if __name__ == '__main__':
    main()
