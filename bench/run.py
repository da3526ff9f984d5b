#!/usr/bin/env python3
"""The benchmark (issue 8): logship against the producer ceiling, in one run.

    bench/run.py [--lines N] [--runs R] [--out DIR] [--smoke] [--only a,b,...]

Against the local broker (tests/kafka/kafka.sh), with the same producer
settings everywhere (lz4, linger.ms 5, batch.size 1000000, acks all,
idempotence on), each scenario R times, medians reported:

  a   ceiling: kcat -P producing the file, one message per line
  b   logship tail (read_from head), raw -> kafka
  a1k, b1k   the same two with ~1 KiB lines (N/8 of them)
  c   logship tail, parse + grep (drop DEBUG) -> json -> kafka
  d   logship tail, CRI container decode -> kafka
  e   1,000 files appended concurrently at a fixed total rate
  idle  10,000 watched files, idle: CPU over 10 s
  lat   latency from a line's write to the broker's append at 10,000 lines/s
  bx, cx  b and c with delivery: exactly_once, timed to the last record a
        read_committed consumer read, from the moment their inputs start
        (start-up reported on its own)
  bv, cv  their baselines: b and c timed to the last record a
        read_uncommitted consumer read (the same consumer's cost)
  latx  write to visible to a read_committed consumer, exactly_once

A run is done when the broker has the records: lsh_bench polls the topic's
end offsets, so "done" means acknowledged, not read.  Results go to
DIR/results.json, DIR/results.md and DIR/bench.png (gnuplot, when there).
"""
import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
PRODUCER = {'compression': 'lz4', 'linger_ms': 5, 'batch_size': 1000000}
KCAT_X = ['-X', 'compression.codec=lz4', '-X', 'linger.ms=5',
          '-X', 'batch.size=1000000', '-X', 'acks=all',
          '-X', 'enable.idempotence=true']
TICK = os.sysconf('SC_CLK_TCK')


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, a):
        self.a = a
        self.bin = a.logship
        self.tool = a.tool
        self.brokers = a.brokers
        self.work = tempfile.mkdtemp(prefix='lsh-bench-')
        self.data = a.data
        self.seq = 0
        os.makedirs(self.data, exist_ok=True)

    # --- helpers ---------------------------------------------------------
    def topic(self, parts=1, *cfg):
        self.seq += 1
        t = 'bench-%d-%d-%d' % (os.getpid(), int(time.time()), self.seq)
        subprocess.run([self.tool, 'topic', self.brokers, t, str(parts)] + list(cfg),
                       check=True)
        return t

    def gen(self, kind, lines):
        path = os.path.join(self.data, '%s-%d.log' % (kind, lines))
        if not os.path.exists(path):
            subprocess.run([sys.executable, os.path.join(HERE, 'gen.py'),
                            '--lines', str(lines), '--kind', kind, '--out', path],
                           check=True)
        return path

    def waiter(self, topic, n, timeout_s):
        return subprocess.Popen([self.tool, 'wait', self.brokers, topic, str(n),
                                 str(int(timeout_s * 1000))],
                                stdout=subprocess.PIPE, text=True)

    def waiter_consumed(self, topic, n, timeout_s):
        """Until a read_uncommitted consumer has read n records: the
        baseline of waiter_committed, paying for the same consumer."""
        return subprocess.Popen([self.tool, 'consumed', self.brokers, topic,
                                 str(n), str(int(timeout_s * 1000))],
                                stdout=subprocess.PIPE, text=True)

    def waiter_committed(self, topic, n, timeout_s):
        """Until a read_committed consumer has read n records."""
        return subprocess.Popen([self.tool, 'visible', self.brokers, topic,
                                 str(n), str(int(timeout_s * 1000))],
                                stdout=subprocess.PIPE, text=True)

    @staticmethod
    def waited(w):
        out, _ = w.communicate()
        if w.returncode != 0:
            raise RuntimeError('records did not all arrive')
        return float(out.split()[0])

    def config(self, name, inputs, filters, fmt, topic, eos=False):
        state = os.path.join(self.work, 'state-%s-%d' % (name, self.seq))
        path = os.path.join(self.work, '%s-%d.yaml' % (name, self.seq))
        out = {'type': 'kafka', 'brokers': self.brokers, 'topic': topic,
               'format': fmt}
        out.update(PRODUCER)
        if eos:
            out.update({'delivery': 'exactly_once',
                        'transactional_id': 'bench-' + topic,
                        'offsets_topic': 'bench-offsets'})
        with open(path, 'w') as f:
            # exactly_once: info, for the line saying its inputs started
            f.write('service: {log_level: %s, state_dir: "%s"}\n'
                    % ('info' if eos else 'warn', state))
            f.write('pipelines:\n  bench:\n')
            f.write('    inputs: %s\n' % json.dumps(inputs))
            f.write('    filters: %s\n' % json.dumps(filters))
            f.write('    outputs: [%s]\n' % json.dumps(out))
        return path

    @staticmethod
    def proc_cpu(pid):
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    @staticmethod
    def proc_hwm(pid):
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
        return 0

    def start_logship(self, conf):
        err = open(os.path.join(self.work, 'logship.err'), 'ab')
        return subprocess.Popen([self.bin, '-c', conf], stdout=subprocess.DEVNULL,
                                stderr=err)

    @staticmethod
    def stop(p):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    # --- scenarios -------------------------------------------------------
    def kcat_run(self, path, n):
        t = self.topic()
        t0 = time.monotonic()
        w = self.waiter(t, n, 300)
        k = subprocess.Popen(['kcat', '-P', '-b', self.brokers, '-t', t, '-l', path]
                             + KCAT_X, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(k.pid, 0)
        k.returncode = os.waitstatus_to_exitcode(status)
        done = self.waited(w)
        if k.returncode != 0:
            raise RuntimeError('kcat failed')
        return {'wall': done - t0, 'cpu': ru.ru_utime + ru.ru_stime,
                'rss_kib': ru.ru_maxrss}

    def logship_run(self, name, path, n, filters, fmt, extra_in=None, eos=False,
                    consumed=False):
        t = self.topic()
        inp = {'type': 'tail', 'paths': [path], 'read_from': 'head'}
        inp.update(extra_in or {})
        conf = self.config(name, [inp], filters, fmt, t, eos)
        err = os.path.join(self.work, 'logship.err')
        seen = os.path.getsize(err) if os.path.exists(err) else 0
        t0 = time.monotonic()
        w = (self.waiter_committed if eos else
             self.waiter_consumed if consumed else self.waiter)(t, n, 300)
        p = self.start_logship(conf)
        try:
            # exactly_once: its throughput counts from its inputs' start;
            # init_transactions and reading the offsets are start-up,
            # reported on their own (async starts them at once)
            t_in = self.started_inputs(err, seen) if eos else t0
            done = self.waited(w)
            cpu, hwm = self.proc_cpu(p.pid), self.proc_hwm(p.pid)
        finally:
            self.stop(p)
        return {'wall': done - t_in, 'startup': t_in - t0, 'cpu': cpu,
                'rss_kib': hwm}

    @staticmethod
    def started_inputs(err, seen, timeout_s=60):
        """When an exactly_once pipeline logged that its offsets were read
        (its inputs start then): polled every 2 ms."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with open(err, 'rb') as f:
                f.seek(seen)
                if b"exactly_once as '" in f.read():
                    return time.monotonic()
            time.sleep(0.002)
        raise RuntimeError('exactly_once did not start its inputs')

    

    def throughput(self):
        n = self.a.lines
        res = {}
        std = self.gen('std', n)
        # the broker's first topic and first produce are slow: not timed
        self.kcat_run(self.gen('std', 1000), 1000)
        n1k = max(n // 8, 1)
        big = self.gen('1k', n1k)
        cri = self.gen('cri', n)
        parse = [{'type': 'parse',
                  'regex': r'^(?<time>\S+) (?<level>[A-Z]+) +service=(?<service>\S+) '
                           r'user=(?<user>\d+) msg="(?<msg>[^"]*)" seq=(?<seq>\d+)$',
                  'types': {'user': 'int', 'seq': 'int'},
                  'time': {'field': 'time', 'format': 'iso8601'},
                  'keep_body': False},
                 {'type': 'grep', 'exclude': {'level': '^DEBUG$'}}]
        kept = sum(1 for i in range(n) if i % 10 != 9)  # gen.py: every 10th is DEBUG
        # what c ships, rendered once: kcat producing it is the ceiling for
        # the same bytes (c's JSON is about twice the size of its input)
        cjson = self.render_json(std, parse)
        plan = [
            ('a', 'ceiling: kcat -P', std, n, lambda: self.kcat_run(std, n)),
            ('b', 'logship tail raw', std, n,
             lambda: self.logship_run('b', std, n, [], 'raw')),
            ('c', 'logship parse+grep json', std, n,
             lambda: self.logship_run('c', std, kept, parse, 'json')),
            ('bv', 'logship tail raw, consumed', std, n,
             lambda: self.logship_run('bv', std, n, [], 'raw', consumed=True)),
            ('cv', 'logship parse+grep json, consumed', std, n,
             lambda: self.logship_run('cv', std, kept, parse, 'json',
                                      consumed=True)),
            ('bx', 'logship tail raw, exactly_once', std, n,
             lambda: self.logship_run('bx', std, n, [], 'raw', eos=True)),
            ('cx', 'logship parse+grep json, exactly_once', std, n,
             lambda: self.logship_run('cx', std, kept, parse, 'json', eos=True)),
            ('aj', 'ceiling for c\'s output: kcat -P of its JSON', cjson, kept,
             lambda: self.kcat_run(cjson, kept)),
            ('d', 'logship CRI decode', cri, n,
             lambda: self.logship_run('d', cri, n, [], 'raw', {'format': 'cri'})),
            ('a1k', 'ceiling 1 KiB lines: kcat -P', big, n1k,
             lambda: self.kcat_run(big, n1k)),
            ('b1k', 'logship tail raw, 1 KiB lines', big, n1k,
             lambda: self.logship_run('b1k', big, n1k, [], 'raw')),
        ]
        plan = [x for x in plan if not self.a.only or x[0] in self.a.only]
        # round robin: run k of every scenario, then run k + 1, so that the
        # machine's drift touches all of them alike
        runs = {key: [] for key, *_ in plan}
        for k in range(self.a.runs):
            for key, title, path, lines, fn in plan:
                log('bench: %s (%s), run %d of %d' % (key, title, k + 1, self.a.runs))
                runs[key].append(fn())
        for key, title, path, lines, fn in plan:
            rs = runs[key]
            res[key] = {'runs': len(rs), 'title': title, 'lines': lines,
                        'bytes': os.path.getsize(path),
                        'wall': statistics.median(r['wall'] for r in rs),
                        'wall_min': min(r['wall'] for r in rs),
                        'wall_max': max(r['wall'] for r in rs),
                        'cpu': statistics.median(r['cpu'] for r in rs),
                        'startup': statistics.median(r.get('startup', 0)
                                                     for r in rs),
                        'rss_kib': max(r['rss_kib'] for r in rs)}
        return res

    def render_json(self, path, filters):
        out = path[:-len('.log')] + '.c.json'
        if not os.path.exists(out):
            conf = os.path.join(self.work, 'render.yaml')
            with open(conf, 'w') as f:
                f.write('service: {log_level: warn, hostname: "%s"}\n' % os.uname()[1])
                f.write('pipelines:\n  r:\n    inputs: [{type: stdin}]\n')
                # a stdin record has no path: set the one c's records carry
                f.write('    filters: %s\n' % json.dumps(
                    filters + [{'type': 'modify', 'set': {'path': path}}]))
                f.write('    outputs: [{type: stdout, format: json}]\n')
            with open(path, 'rb') as fin, open(out + '.tmp', 'wb') as fout:
                subprocess.run([self.bin, '-c', conf], stdin=fin, stdout=fout,
                               stderr=subprocess.DEVNULL, check=True)
            os.rename(out + '.tmp', out)
        return out

    def writer(self, paths, rate, seconds):
        return subprocess.Popen([sys.executable, os.path.join(HERE, 'writer.py'),
                                 '--rate', str(rate), '--seconds', str(seconds)]
                                + paths)

    def concurrent(self, files, rate, seconds):
        """Scenario e: many files appended at a fixed total rate."""
        d = os.path.join(self.work, 'e-%d' % files)
        os.makedirs(d, exist_ok=True)
        paths = [os.path.join(d, 'f%05d.log' % i) for i in range(files)]
        for p in paths:
            open(p, 'w').close()
        t = self.topic(1, 'message.timestamp.type=LogAppendTime')
        conf = self.config('e', [{'type': 'tail', 'paths': [d + '/*.log']}], [],
                           'raw', t)
        p = self.start_logship(conf)
        n = int(rate * seconds)
        try:
            time.sleep(1)  # every file found and watched
            cpu0 = self.proc_cpu(p.pid)
            w = self.writer(paths, rate, seconds)
            w.wait()
            waiter = self.waiter(t, n, 60)
            self.waited(waiter)
            cpu = self.proc_cpu(p.pid) - cpu0
            hwm = self.proc_hwm(p.pid)
        finally:
            self.stop(p)
        lat = self.latency_of(t, n)
        return {'title': '%d files, %d lines/s in all' % (files, rate),
                'files': files, 'rate': rate, 'seconds': seconds, 'lines': n,
                'cpu': cpu, 'cpu_pct': 100 * cpu / seconds, 'rss_kib': hwm,
                'latency': lat}

    def latency_of(self, topic, n):
        out = subprocess.run([self.tool, 'latency', self.brokers, topic, str(n),
                              '60000'], check=True, stdout=subprocess.PIPE,
                             text=True).stdout
        return json.loads(out)

    def latency(self, rate, seconds, eos=False):
        """Write to broker append; exactly_once: write to visible to a
        read_committed consumer (reading while the lines are written)."""
        d = os.path.join(self.work, 'lat-x' if eos else 'lat')
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, 'app.log')
        open(path, 'w').close()
        t = self.topic(1, 'message.timestamp.type=LogAppendTime')
        conf = self.config('lat', [{'type': 'tail', 'paths': [path]}], [], 'raw',
                           t, eos)
        p = self.start_logship(conf)
        n = int(rate * seconds)
        vis = None
        try:
            time.sleep(1 if not eos else 3)  # exactly_once reads its offsets
            if eos:
                vis = self.waiter_committed(t, n, seconds * 1000 + 60)
            w = self.writer([path], rate, seconds)
            w.wait()
            if vis is None:
                self.waited(self.waiter(t, n, 60))
            else:
                out, _ = vis.communicate()
                if vis.returncode != 0:
                    raise RuntimeError('records did not all become visible')
            hwm = self.proc_hwm(p.pid)
        finally:
            self.stop(p)
        r = json.loads(out.split('\n', 1)[1]) if eos else self.latency_of(t, n)
        r.update({'title': '1 file, %d lines/s' % rate, 'rate': rate,
                  'seconds': seconds, 'rss_kib': hwm})
        return r

    def idle(self, files, seconds):
        d = os.path.join(self.work, 'idle-%d' % files)
        os.makedirs(d, exist_ok=True)
        for i in range(files):
            with open(os.path.join(d, 'f%05d.log' % i), 'w') as f:
                f.write('file %d line 1\n' % i)
        t = self.topic()
        conf = self.config('idle', [{'type': 'tail', 'paths': [d + '/*.log']}], [],
                           'raw', t)
        p = self.start_logship(conf)
        try:
            self.waited(self.waiter(t, files, 120))
            time.sleep(2)  # checkpoints written, all settled
            c0 = self.proc_cpu(p.pid)
            time.sleep(seconds)
            cpu = self.proc_cpu(p.pid) - c0
            hwm = self.proc_hwm(p.pid)
            fds = len(os.listdir('/proc/%d/fd' % p.pid))
        finally:
            self.stop(p)
        return {'title': '%d files, idle' % files, 'files': files,
                'seconds': seconds, 'cpu': cpu, 'cpu_pct': 100 * cpu / seconds,
                'rss_kib': hwm, 'fds': fds}


def machine():
    cpu = ''
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    mem = 0
    with open('/proc/meminfo') as f:
        mem = int(f.readline().split()[1]) // (1024 * 1024)
        kcat = subprocess.run(['kcat', '-V'], stdout=subprocess.PIPE, text=True).stdout
    ver = [l for l in kcat.splitlines() if l.startswith('Version')]
    ver = ver[0].split('(')[0].strip() if ver else '?'
    lib = kcat.split('librdkafka ')[1].split()[0] if 'librdkafka ' in kcat else '?'
    return {'cpus': os.cpu_count(), 'cpu': cpu, 'mem_gib': mem,
            'kernel': platform.release(),
            'kcat': 'kcat %s, librdkafka %s' % (ver.replace('Version ', ''), lib)}


def report(res, a):
    m = res['machine']
    lines = ['Machine: %d CPUs (%s), %d GiB, Linux %s; %s; broker: Apache Kafka '
             '(tests/kafka/kafka.sh, one node, 127.0.0.1). Medians of %d runs; '
             'ratios against the kcat ceiling measured in the same run.'
             % (m['cpus'], m['cpu'], m['mem_gib'], m['kernel'], m['kcat'], a.runs),
             '',
             '| scenario | lines | lines/s | MB/s | CPU s per M lines | peak RSS | ratio to ceiling |',
             '| --- | --- | --- | --- | --- | --- | --- |']
    t = res['throughput']
    for key, r in t.items():
        ceil = t.get('a1k' if key.endswith('1k') else 'a')
        ratio = ceil['wall'] / r['wall'] if ceil else float('nan')
        # c ships fewer records (DEBUG dropped) from the same file: compare
        # the time to get through the same input
        lines.append('| %s: %s | %d | %.0f | %.1f | %.2f | %.1f MiB | %.2f |' % (
            key, r['title'], r['lines'], r['lines'] / r['wall'],
            r['bytes'] / r['wall'] / 1e6, r['cpu'] * 1e6 / r['lines'],
            r['rss_kib'] / 1024, ratio))
    if 'c' in t and 'aj' in t:
        lines += ['', 'c against the ceiling for the same output (aj: kcat producing '
                  'the JSON records c produces): %.2f.' % (t['aj']['wall'] / t['c']['wall'])]
    if 'e' in res:
        e = res['e']
        lines += ['', '| e: %s | lines | CPU | CPU s per M lines | peak RSS | latency p50 / p99 |' % e['title'],
                  '| --- | --- | --- | --- | --- | --- |',
                  '| %d s | %d | %.1f %% of a core | %.2f | %.1f MiB | %.1f / %.1f ms |' % (
                      e['seconds'], e['lines'], e['cpu_pct'], e['cpu'] * 1e6 / e['lines'],
                      e['rss_kib'] / 1024, e['latency']['p50_ms'], e['latency']['p99_ms'])]
    if 'idle' in res:
        i = res['idle']
        lines += ['', 'Idle, %d files watched: %.2f %% of a core over %d s '
                  '(%.2f CPU s), %d descriptors, peak RSS %.1f MiB.'
                  % (i['files'], i['cpu_pct'], i['seconds'], i['cpu'], i['fds'],
                     i['rss_kib'] / 1024)]
    if 'lat' in res:
        l = res['lat']
        lines += ['', 'Latency, line written to broker append time (LogAppendTime), '
                  '%s for %d s: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms '
                  '(%d records).' % (l['title'], l['seconds'], l['p50_ms'],
                                     l['p90_ms'], l['p99_ms'], l['max_ms'], l['count'])]
    if 'latx' in res:
        l = res['latx']
        lines += ['', 'Latency, exactly_once, line written to visible to a '
                  'read_committed consumer, %s for %d s: p50 %.1f ms, p90 %.1f ms, '
                  'p99 %.1f ms, max %.1f ms (%d records).'
                  % (l['title'], l['seconds'], l['p50_ms'], l['p90_ms'],
                     l['p99_ms'], l['max_ms'], l['count'])]
    if 'bx' in t and 'bv' in t:
        lines += ['', 'exactly_once / async throughput, same run, both timed '
                  'to the last record a consumer read (bx/cx read_committed, '
                  'bv/cv read_uncommitted): raw %.2f'
                  % (t['bv']['wall'] / t['bx']['wall'])
                  + (', parse %.2f' % (t['cv']['wall'] / t['cx']['wall'])
                     if 'cx' in t and 'cv' in t else '')
                  + ' (exactly_once timed from its inputs\' start; its '
                  'start-up before that, init_transactions and reading the '
                  'offsets: median %.0f ms).' % (t['bx']['startup'] * 1000)]
    return '\n'.join(lines) + '\n'


def plot(res, out):
    if shutil.which('gnuplot') is None:
        log('bench: no gnuplot; no plot (apt-get install gnuplot-nox)')
        return
    t = res['throughput']
    dat = os.path.join(out, 'bench.dat')
    with open(dat, 'w') as f:
        for key, r in t.items():
            f.write('"%s" %.0f %.1f\n' % (key, r['lines'] / r['wall'] / 1000,
                                          r['rss_kib'] / 1024))
    script = '''
set terminal pngcairo size 1000,420 font "sans,10" noenhanced
set output "%s"
set multiplot layout 1,2 title "logship vs the kcat ceiling (a, a1k), same run"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.8
set grid ytics
set yrange [0:*]
set title "throughput (thousand lines/s, acked)"
plot "%s" using 2:xtic(1) notitle lc rgb "#3070b0"
set title "peak RSS (MiB)"
plot "%s" using 3:xtic(1) notitle lc rgb "#b05030"
unset multiplot
''' % (os.path.join(out, 'bench.png'), dat, dat)
    r = subprocess.run(['gnuplot'], input=script, text=True)
    if r.returncode != 0:
        # pngcairo may be missing from a minimal gnuplot: plain png
        subprocess.run(['gnuplot'], input=script.replace('pngcairo', 'png').replace(
            'font "sans,10" ', ''), text=True, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lines', type=int, default=1000000)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--out', default=os.path.join(HERE, 'results'))
    ap.add_argument('--data', default='/tmp/logship-bench')
    ap.add_argument('--brokers', default=os.environ.get('KAFKA_BROKERS', '127.0.0.1:9092'))
    ap.add_argument('--logship', default=os.path.join(SRC, 'build', 'logship'))
    ap.add_argument('--tool', default=os.path.join(SRC, 'build', 'lsh_bench'))
    ap.add_argument('--only', default='', help='comma-separated scenario keys')
    ap.add_argument('--smoke', action='store_true',
                    help='tiny sizes: checks that the driver works')
    a = ap.parse_args()
    a.only = set(x for x in a.only.split(',') if x)
    sizes = {'files': 1000, 'rate': 20000, 'seconds': 15, 'idle': 10000,
             'idle_s': 10, 'lat_rate': 10000, 'lat_s': 20}
    if a.smoke:
        a.lines, a.runs = min(a.lines, 2000), 1
        sizes = {'files': 20, 'rate': 400, 'seconds': 2, 'idle': 50,
                 'idle_s': 1, 'lat_rate': 500, 'lat_s': 2}
    b = Bench(a)
    res = {'machine': machine(), 'lines': a.lines, 'runs': a.runs,
           'time': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
    try:
        res['throughput'] = b.throughput()
        if not a.only or 'e' in a.only:
            log('bench: e (%d files at %d lines/s for %d s)'
                % (sizes['files'], sizes['rate'], sizes['seconds']))
            res['e'] = b.concurrent(sizes['files'], sizes['rate'], sizes['seconds'])
        if not a.only or 'idle' in a.only:
            log('bench: idle (%d files)' % sizes['idle'])
            res['idle'] = b.idle(sizes['idle'], sizes['idle_s'])
        if not a.only or 'lat' in a.only:
            log('bench: latency (%d lines/s)' % sizes['lat_rate'])
            res['lat'] = b.latency(sizes['lat_rate'], sizes['lat_s'])
        if not a.only or 'latx' in a.only:
            log('bench: latency, exactly_once, to visible (%d lines/s)'
                % sizes['lat_rate'])
            res['latx'] = b.latency(sizes['lat_rate'], sizes['lat_s'], eos=True)
    except Exception:
        err = os.path.join(b.work, 'logship.err')
        if os.path.exists(err):
            sys.stderr.write(open(err).read()[-4000:])
        raise
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, 'results.json'), 'w') as f:
        json.dump(res, f, indent=1)
    md = report(res, a)
    with open(os.path.join(a.out, 'results.md'), 'w') as f:
        f.write(md)
    print(md)
    if not a.smoke:
        plot(res, a.out)
    shutil.rmtree(b.work, ignore_errors=True)


if __name__ == '__main__':
    main()
