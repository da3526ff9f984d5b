#!/usr/bin/env python3
"""What checkpoints cost with many files (issue 13).

    bench/ckpt_files.py [--logship BIN] [--baseline BIN] [--files N]
                        [--seconds S] [--runs R] [--output kafka|null]

N files (default 10,000) are followed and each is appended one line a
second (N lines/s in all, spread evenly over the second), so that every
checkpoint entry changes every second.  With --rate L, L lines a second
go to each file (--files 1 --rate 12000: one busy file).  Over S seconds (default 20) of
that steady state it measures logship's

  state    bytes written to storage, from /proc/PID/io write_bytes (logship
           writes nothing else to disk: its log goes to /dev/null), per second
  cpu      user + system CPU seconds per second, from /proc/PID/stat

With --baseline the same is measured for a second binary in the same run,
alternating, R times each (default 3), and the medians are compared.
Needs the broker (tests/kafka/kafka.sh start) for --output kafka.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
TICK = os.sysconf('SC_CLK_TCK')


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def proc_cpu(pid):
    f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def proc_write_bytes(pid):
    for l in open('/proc/%d/io' % pid):
        if l.startswith('write_bytes:'):
            return int(l.split()[1])
    return 0


class Appender(threading.Thread):
    """Appends one line a second to each file, 100 slices a second."""

    def __init__(self, paths, rate):
        super().__init__(daemon=True)
        self.per_slice = max(1, rate // 100)
        self.fds = [os.open(p, os.O_WRONLY | os.O_APPEND) for p in paths]
        self.stop = threading.Event()

    def run(self):
        n = len(self.fds)
        slices = 100 if self.per_slice == 1 else 1
        start = time.monotonic()
        tick = 0
        while not self.stop.is_set():
            s = tick % slices
            for i in range(s * n // slices, (s + 1) * n // slices):
                os.write(self.fds[i], b''.join(
                    b'file %d tick %d line %d\n' % (i, tick, k)
                    for k in range(self.per_slice)))
            tick += 1
            delay = start + tick / (slices if self.per_slice == 1 else 100) - \
                time.monotonic()
            if delay > 0:
                time.sleep(delay)
        for fd in self.fds:
            os.close(fd)


def measure(a, binary, label):
    work = tempfile.mkdtemp(prefix='lsh-ckfiles-')
    logs = os.path.join(work, 'logs')
    state = os.path.join(work, 'state')
    os.makedirs(logs)
    os.makedirs(state)
    paths = [os.path.join(logs, 'f%05d.log' % i) for i in range(a.files)]
    for p in paths:
        with open(p, 'w') as f:
            f.write('first line\n')
    topic = 'ckfiles-%d-%d' % (os.getpid(), int(time.time() * 1000))
    if a.output == 'kafka':
        subprocess.run([a.tool, 'topic', a.brokers, topic, '1'], check=True)
        out = '{type: kafka, brokers: "%s", topic: %s, format: raw}' % (
            a.brokers, topic)
    else:
        out = '{type: null}'
    conf = os.path.join(work, 'p.yaml')
    with open(conf, 'w') as f:
        f.write('service: {state_dir: "%s", log_level: warn}\n'
                'pipelines:\n  p:\n    inputs:\n'
                '      - {type: tail, paths: ["%s/*.log"]}\n'
                '    outputs:\n      - %s\n' % (state, logs, out))
    p = subprocess.Popen([binary, '-c', conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    w = Appender(paths, a.rate)
    try:
        time.sleep(3)  # every file found, its first line sent
        w.start()
        time.sleep(a.warmup)
        c0, b0, t0 = proc_cpu(p.pid), proc_write_bytes(p.pid), time.monotonic()
        time.sleep(a.seconds)
        c1, b1, t1 = proc_cpu(p.pid), proc_write_bytes(p.pid), time.monotonic()
    finally:
        w.stop.set()
        w.join()
        p.terminate()
        p.wait(timeout=60)
        shutil.rmtree(work)
    r = {'bytes_s': (b1 - b0) / (t1 - t0), 'cpu': (c1 - c0) / (t1 - t0)}
    log('%s: %.0f KB/s written to state_dir, %.3f CPU s/s' %
        (label, r['bytes_s'] / 1000, r['cpu']))
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--logship', default=os.path.join(SRC, 'build', 'logship'))
    ap.add_argument('--baseline')
    ap.add_argument('--tool', default=os.path.join(SRC, 'build', 'lsh_bench'))
    ap.add_argument('--brokers', default='127.0.0.1:%s' %
                    os.environ.get('KAFKA_PORT', '9092'))
    ap.add_argument('--files', type=int, default=10000)
    ap.add_argument('--rate', type=int, default=1,
                    help='lines a second to each file (default 1; 100 or '
                    'more are written every 10 ms)')
    ap.add_argument('--seconds', type=float, default=20)
    ap.add_argument('--warmup', type=float, default=5)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--output', choices=['kafka', 'null'], default='kafka')
    a = ap.parse_args()
    res = {'logship': [], 'baseline': []}
    for _ in range(a.runs):
        res['logship'].append(measure(a, a.logship, 'logship'))
        if a.baseline:
            res['baseline'].append(measure(a, a.baseline, 'baseline'))
    for k in ('logship', 'baseline'):
        if res[k]:
            b = statistics.median(r['bytes_s'] for r in res[k])
            c = statistics.median(r['cpu'] for r in res[k])
            res[k] = (b, c)
            print('%-8s %d files, each appended %d lines/s: %.0f KB/s written '
                  'to state_dir, CPU %.1f %%' % (k, a.files, a.rate, b / 1000,
                                                 100 * c))
    if a.baseline:
        (b, c), (bb, cb) = res['logship'], res['baseline']
        print('logship/baseline: bytes %.2f, CPU %.2f' %
              (b / bb if bb else float('nan'), c / cb if cb else float('nan')))


if __name__ == '__main__':
    main()
