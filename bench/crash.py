#!/usr/bin/env python3
"""Duplicates after a crash (issue 13): the crash test.

    bench/crash.py [--logship BIN] [--lines N] [--rate R] [--kills K]
                   [--min S] [--max S] [--seed S] [--runs X] [--service YAML]

N numbered lines (default 100,000) are written to one file at R lines/s
(default 12,000) while logship, with default settings, is started and
killed -9 K times (default 8), each time a random S seconds (0.1 to 0.9)
after it started; then a last run delivers the rest and stops cleanly.
What arrived is read back with a real consumer (kcat) and checked: every
line at least once, and how many came twice.

A duplicate belongs to the kill that caused it: it is a record that a run
sent again because the run before it was killed before its checkpoint
covered it.  For each kill the script also reports, from the checkpoint
logship left (logship --checkpoints) and the topic, what bounded it:
  acked    records of the killed run that reached the broker, past the
           checkpoint it had persisted (acked within the last
           checkpoint_delay, or in flight at the kill and acked after it)
With --runs X the whole test runs X times (fresh topic and files).

Prints one line per kill and a summary; with --json, the figures as JSON.
Needs the broker (tests/kafka/kafka.sh start) and kcat.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
LINE = 'C%07d\n'  # fixed width: an offset is a line count
WIDTH = len(LINE % 0)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def writer(path, lines, rate, done):
    """Appends the lines at the rate, in chunks of 10 ms."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    start = time.monotonic()
    i = 0
    while i < lines:
        due = int((time.monotonic() - start) * rate) + 1
        n = min(max(due - i, 0), lines - i)
        if n:
            os.write(fd, ''.join(LINE % k for k in range(i, i + n)).encode())
            i += n
        time.sleep(0.01)
    os.close(fd)
    done.set()


def topic_count(brokers, topic):
    out = subprocess.run(['kcat', '-b', brokers, '-Q', '-t', '%s:0:-1' % topic],
                         capture_output=True, text=True)
    m = re.search(r' (\d+)\s*$', out.stdout.strip())
    return int(m.group(1)) if m else 0


def end_offset(brokers, topic):
    out = subprocess.run(['kcat', '-b', brokers, '-C', '-t', topic, '-o', '-1',
                          '-e', '-q', '-f', '%o\n'],
                         capture_output=True, text=True)
    vals = [int(x) for x in out.stdout.split()]
    return vals[-1] + 1 if vals else 0


def committed_lines(logship, state, path):
    """Lines the persisted checkpoint covers (0 if none)."""
    out = subprocess.run([logship, '--checkpoints', state],
                         capture_output=True, text=True)
    text, nf = out.stdout, 11
    if out.returncode != 0 and 'unrecognized option' in out.stderr:
        # a logship before the journal: its snapshot is all there is
        try:
            text, nf = open(os.path.join(state, 'p.ckpt')).read(), 10
        except OSError:
            return 0
    best = 0
    for l in text.splitlines():
        f = l.split(' ')
        if len(f) == nf and f[nf - 1] == path:
            best = max(best, int(f[nf - 5]) // WIDTH)
    return best


def one_run(a, rng, tool):
    work = tempfile.mkdtemp(prefix='lsh-crash-')
    logs = os.path.join(work, 'logs')
    state = os.path.join(work, 'state')
    os.makedirs(logs)
    os.makedirs(state)
    path = os.path.join(logs, 'app.log')
    topic = 'crash-%d-%d-%d' % (os.getpid(), int(time.time() * 1000),
                                rng.randrange(1 << 30))
    subprocess.run([tool, 'topic', a.brokers, topic, '1'], check=True)
    conf = os.path.join(work, 'p.yaml')
    with open(conf, 'w') as f:
        f.write('service: {state_dir: "%s"%s}\n' %
                (state, (', ' + a.service) if a.service else ''))
        f.write('pipelines:\n  p:\n    inputs:\n'
                '      - {type: tail, paths: ["%s"]}\n'
                '    outputs:\n'
                '      - {type: kafka, brokers: "%s", topic: %s, format: raw}\n'
                % (path, a.brokers, topic))
    open(path, 'w').close()
    done = threading.Event()
    w = threading.Thread(target=writer, args=(path, a.lines, a.rate, done))
    w.start()
    kills = []
    for k in range(a.kills):
        err = open(os.path.join(work, 'run-%d.err' % k), 'w')
        p = subprocess.Popen([a.logship, '-c', conf], stdout=subprocess.DEVNULL,
                             stderr=err)
        time.sleep(rng.uniform(a.min, a.max))
        p.send_signal(signal.SIGKILL)
        p.wait()
        err.close()
        time.sleep(0.3)  # whatever was in flight lands or is lost
        kills.append({'end': end_offset(a.brokers, topic),
                      'ckpt': committed_lines(a.logship, state, path)})
        time.sleep(rng.uniform(0, 0.2))
    w.join()
    err = open(os.path.join(work, 'run-last.err'), 'w')
    p = subprocess.Popen([a.logship, '-c', conf], stdout=subprocess.DEVNULL,
                         stderr=err)
    deadline = time.monotonic() + 120
    got = []
    while time.monotonic() < deadline:
        if end_offset(a.brokers, topic) >= a.lines:
            out = subprocess.run(['kcat', '-b', a.brokers, '-C', '-t', topic,
                                  '-o', 'beginning', '-e', '-q'],
                                 capture_output=True, text=True)
            got = out.stdout.split('\n')[:-1]
            if len(set(got)) >= a.lines:
                break
        time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=60)
    err.close()
    want = set(LINE.strip() % i for i in range(a.lines))
    lost = len(want - set(got))
    # the records of run k are got[bound k-1 : bound k]; a duplicate is a
    # record an earlier run had sent
    seen, start, per = set(), 0, []
    bounds = [k['end'] for k in kills] + [len(got)]
    for b in bounds:
        run = got[start:b]
        per.append(sum(1 for r in run if r in seen))
        seen.update(run)
        start = b
    for k, info in enumerate(kills):
        info['dups'] = per[k + 1]  # what the next run sent again
        sent = set(int(r[1:]) for r in got[(kills[k - 1]['end'] if k else 0):info['end']])
        info['acked_past_ckpt'] = sum(1 for n in sent if n >= info['ckpt'])
    shutil.rmtree(work)
    return {'lost': lost, 'records': len(got), 'dups': len(got) - len(set(got)),
            'kills': kills}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--logship', default=os.path.join(SRC, 'build', 'logship'))
    ap.add_argument('--tool', default=os.path.join(SRC, 'build', 'lsh_bench'))
    ap.add_argument('--brokers', default='127.0.0.1:%s' %
                    os.environ.get('KAFKA_PORT', '9092'))
    ap.add_argument('--lines', type=int, default=100000)
    ap.add_argument('--rate', type=int, default=12000)
    ap.add_argument('--kills', type=int, default=8)
    ap.add_argument('--min', type=float, default=0.1)
    ap.add_argument('--max', type=float, default=0.9)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--runs', type=int, default=1)
    ap.add_argument('--service', default='',
                    help='more service settings, e.g. "checkpoint_delay: 10ms"')
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    rng = random.Random(a.seed)
    results = []
    for r in range(a.runs):
        res = one_run(a, rng, a.tool)
        results.append(res)
        per = [k['dups'] for k in res['kills']]
        for i, k in enumerate(res['kills']):
            log('run %d kill %d: %d duplicates (%d records of the killed run '
                'reached the broker past its persisted checkpoint)' %
                (r + 1, i + 1, k['dups'], k['acked_past_ckpt']))
        print('crash test (%d lines at %d/s, %d kills at %.1f-%.1f s): lost %d, '
              'duplicates %d; per kill median %d, max %d, min %d' %
              (a.lines, a.rate, a.kills, a.min, a.max, res['lost'], res['dups'],
               statistics.median(per), max(per), min(per)), flush=True)
    if a.json:
        print(json.dumps(results))
    sys.exit(1 if any(r['lost'] for r in results) else 0)


if __name__ == '__main__':
    main()
