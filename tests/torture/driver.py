#!/usr/bin/env python3
"""The torture test's driver: one seed's random schedule against logship.

    driver.py --seed N --logship BIN --work DIR [--brokers HOST:PORT]
              [--kafka-sh PATH] [--mockd BIN] [--steps K] [--print]
              [--exactly-once]

From the seed alone it makes a schedule (--print shows it) over a few
files, directories and a symlink, and runs it against the real logship
binary and a real broker (or, for some seeds, librdkafka's mock cluster
in lsh_mockd, for produce errors):
  files      appends with and without a final newline, long lines, rename
             rotation (name.1, name.2 ... as logrotate shifts them),
             copytruncate, compression of a rotation (gzip), delete,
             delete and recreate (inodes are reused), a directory moved
             away and back, a symlink retargeted;
  process    kill -9 and SIGTERM at random moments, then a restart, some
             under a low `ulimit -n`;
  broker     the real broker stopped and started; produce errors and a
             broker down in the mock cluster.
With --exactly-once the kafka output has delivery: exactly_once (no
second output, no dead letters, the real broker only), what arrived is
read read_committed, and the oracle allows no duplicate at all.
Everything it does to the files is written to DIR/journal.jsonl for the
oracle (oracle.py), which it runs at the end on what arrived.  It also
fails on a crash (an exit it did not cause) or a sanitizer report.
Exit status 0 if all is well.
"""
import argparse
import gzip
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROTATIONS = 4          # name.1 .. name.4 are kept, as with "rotate 4"
W = 1.0                # the oracle's healthy window, seconds
W_SEEN = 0.3           # running this long, logship has noted a new file
ROTATE_WAIT = 0.3      # rotate_wait: a rotated or deleted file is closed
                       # (its unterminated last line sent) this long after
                       # its last write
DUP_WINDOW = 2.0       # what a fault may resend: in flight, not saved yet


# --- the schedule: a pure function of the seed ---------------------------

def make_schedule(seed, steps, mock, eos=False):
    rng = random.Random(seed)
    files = ['d0/a.log', 'd0/b.log', 'd1/c.log']
    up, broker, away, ops = True, True, set(), []
    overlap = rng.random() < 0.3
    dlq = rng.random() < 0.35      # dead letters, and records too large
    slow_stdout = rng.random() < 0.3
    if eos:  # one output, and nothing outside the transaction
        dlq = slow_stdout = False
    ops.append(('config', overlap, dlq, slow_stdout))
    for _ in range(steps):
        ops.append(('sleep', rng.choice([0, 0, 10, 30, 80, 150, 300])))
        if not up and rng.random() < 0.45:
            low = rng.random() < 0.2
            ops.append(('start', rng.randint(26, 34) if low else 0))
            up = True
            continue
        r = rng.random()
        f = rng.choice(files)
        if r < 0.40:
            n = rng.choice([1, 1, 2, 5, 20, 100])
            long_every = rng.choice([0, 0, 0, 7])
            ops.append(('append', f, n, long_every, rng.random() < 0.8))
        elif r < 0.47:
            ops.append(('rotate', f))
        elif r < 0.51:
            ops.append(('copytruncate', f))
        elif r < 0.55:
            ops.append(('compress', f))
        elif r < 0.58:
            ops.append(('delete', f))
        elif r < 0.62:
            ops.append(('recreate', f, rng.choice([1, 10, 50])))
        elif r < 0.66:
            ops.append(('link_append', rng.choice([1, 5, 30])))
        elif r < 0.69:
            ops.append(('retarget',))
        elif r < 0.72:
            d = rng.choice(['d0', 'd1'])
            ops.append(('dir_back' if d in away else 'dir_away', d))
            away ^= {d}
        elif r < 0.76 and up:
            ops.append(('kill9',))
            up = False
        elif r < 0.79 and up:
            ops.append(('term',))
            up = False
        elif r < 0.81 and not mock:
            ops.append(('broker_up' if not broker else 'broker_down',))
            broker = not broker
        elif r < 0.84 and mock:
            ops.append(('mock_errors', rng.choice([5, 20, 60]),
                        rng.choice([6, 7, 19, 20])))
        elif r < 0.86 and mock:
            ops.append(('mock_blip', rng.choice([300, 1500])))
        elif r < 0.88:
            ops.append(('cleanup', f))
        elif r < 0.91 and dlq:
            ops.append((rng.choice(['dlq_move', 'dlq_remove']),))
        else:
            ops.append(('append', f, rng.choice([1, 3, 10]), 0, True))
    # the end: everything healed, so that every surviving line can arrive
    for d in sorted(away):
        ops.append(('dir_back', d))
    if not broker:
        ops.append(('broker_up',))
    if not up:
        ops.append(('start', 0))
    ops.append(('heal',))
    return ops


# --- running it -----------------------------------------------------------

class Failure(Exception):
    pass


class Torture:
    def __init__(self, a, ops):
        self.a, self.ops = a, ops
        self.work = a.work
        self.fs = os.path.join(self.work, 'fs')
        self.state = os.path.join(self.work, 'state')
        for d in ('d0', 'd1', 'targets', 'links'):
            os.makedirs(os.path.join(self.fs, d), exist_ok=True)
        self.journal = open(os.path.join(self.work, 'journal.jsonl'), 'w')
        self.t0 = time.monotonic()
        self.inst_of = {}      # path -> instance id
        self.partial = set()   # instances whose last line lacks its '\n'
        self.ninst = 0
        self.ntok = 0
        self.proc = None
        self.ready = False
        self.err_path = None
        self.dlq_path = None
        self.slow_stdout = False
        self.readers = []
        self.dlq_seen = []
        self.dlq_moved = {}  # moved file -> wall clock of the move
        self.ndlq = 0
        self.seen = {}         # instance -> a healthy logship had a look
        self.killed = False
        self.runs = 0
        self.low_ulimit = False
        self.broker_up = True
        self.mock = None
        self.target = 0
        self.topic = 'torture-%d-%d' % (a.seed, os.getpid())
        self.eos = bool(a.exactly_once)
        self.log({'ev': 'params', 'W': W, 'W_seen': W_SEEN,
                  'rotate_wait': ROTATE_WAIT,
                  'dup_window': DUP_WINDOW, 'exactly_once': self.eos})

    # journal and model

    def now(self):
        return round(time.monotonic() - self.t0, 4)

    def log(self, e):
        if 't' not in e and e['ev'] != 'params':
            e['t'] = self.now()
        self.journal.write(json.dumps(e) + '\n')
        self.journal.flush()

    def health(self, ok, why):
        self.log({'ev': 'health', 'ok': ok, 'why': why})

    def new_inst(self, path):
        self.ninst += 1
        inst = 'i%d' % self.ninst
        self.inst_of[path] = inst
        return inst

    def p(self, rel):
        return os.path.join(self.fs, rel)

    def token(self, inst, long_line):
        self.ntok += 1
        tok = 'z%d.%s.%d' % (self.a.seed, inst, self.ntok)
        if long_line:
            tok += '-' + 'x' * random.Random(self.ntok).randint(2000, 40000)
        return tok

    def write(self, path, n, long_every, newline):
        """Appends n lines to path, as an app does (open, write, close)."""
        if not os.path.isdir(os.path.dirname(path)):
            return  # its directory is away: an app could not write either
        inst = self.inst_of.get(path) if os.path.exists(path) else None
        if inst is None:
            inst = self.new_inst(path)
        toks = [self.token(inst, long_every and i % long_every == 0)
                for i in range(n)]
        data = '\n'.join(toks)
        if inst in self.partial:
            data = '\n' + data  # ends the line left without its newline
        data += '\n' if newline else ''
        with open(path, 'a') as f:
            f.write(data)
        (self.partial.discard if newline else self.partial.add)(inst)
        self.log({'ev': 'write', 'inst': inst, 'tokens': toks,
                  'partial': not newline,
                  'path': os.path.relpath(path, self.fs)})

    def unlink(self, path):
        inst = self.inst_of.pop(path, None)
        if os.path.lexists(path):
            os.unlink(path)
        if inst is not None and inst not in self.inst_of.values():
            self.log({'ev': 'destroy', 'inst': inst})

    def rename(self, src, dst):
        if dst in self.inst_of or os.path.lexists(dst):
            self.unlink(dst)
        os.rename(src, dst)
        if src in self.inst_of:
            self.inst_of[dst] = self.inst_of.pop(src)

    def shift(self, path):
        """Makes room for path.1: .N(.gz) become .N+1, the last is deleted."""
        for n in range(ROTATIONS, 0, -1):
            for sfx in ('', '.gz'):
                old = '%s.%d%s' % (path, n, sfx)
                if not os.path.exists(old):
                    continue
                if n == ROTATIONS:
                    self.unlink(old)
                else:
                    self.rename(old, '%s.%d%s' % (path, n + 1, sfx))

    # logship

    def config(self, overlap, dlq=False, slow_stdout=False):
        self.dlq_path = os.path.join(self.work, 'dlq', 'dead.jsonl') \
            if dlq else None
        self.slow_stdout = slow_stdout
        if dlq:
            os.makedirs(os.path.dirname(self.dlq_path), exist_ok=True)
        self.config_text(overlap, dlq, slow_stdout)

    def config_text(self, overlap, dlq, slow_stdout):
        inputs = ['      - {type: tail, paths: ["%s/d*/*.log", "%s/links/*.log"], '
                  'rotate_wait: %dms}' % (self.fs, self.fs, ROTATE_WAIT * 1000)]
        if overlap:
            inputs.append('      - {type: tail, paths: ["%s/d1/*.log", '
                          '"%s/d0/b.log"], rotate_wait: %dms}'
                          % (self.fs, self.fs, ROTATE_WAIT * 1000))
        conf = '\n'.join([
            'service: {log_level: info, state_dir: "%s", '
            'shutdown_timeout: 5s}' % self.state,
            'pipelines:', '  t:', '    inputs:'] + inputs + [
            '    outputs:',
            '      - {type: kafka, brokers: "%s", topic: %s, format: raw,'
            % (self.brokers, self.topic),
            # exactly-once: librdkafka's own timeout (an abort starts the
            # pipeline again; see docs/exactly-once.md, "Limits")
            '         linger_ms: 5, message_timeout_ms: %d,'
            % (60000 if self.eos else 3000),
            '         redeliver_backoff: 200ms, redeliver_backoff_max: 2s%s%s}'
            % (',\n         dead_letter: {path: "%s", after_attempts: 2},\n'
               '         rdkafka: {message.max.bytes: 30000}' % self.dlq_path
               if dlq else '',
               ',\n         delivery: exactly_once, transactional_id: '
               '"%s-{{pipeline}}", offsets_topic: %s-offsets'
               % (self.topic, self.topic) if self.eos else ''),
            ] + (['      - {type: stdout, format: raw}'] if slow_stdout else [])
            + [''])
        self.conf = os.path.join(self.work, 'logship.yaml')
        with open(self.conf, 'w') as f:
            f.write(conf)

    def alive(self):
        if self.proc is None:
            return False
        rc = self.proc.poll()
        if rc is None:
            return True
        self.proc = None
        raise Failure('logship exited by itself with status %s (run %d; see '
                      'run-%d.err)' % (rc, self.runs, self.runs))

    def start(self, nofile):
        self.runs += 1
        err = open(os.path.join(self.work, 'run-%d.err' % self.runs), 'w')

        def limit():
            # a SIGTERM sent before logship's main() blocks it would kill
            # the process during exec: block it here (execve keeps masks)
            signal.pthread_sigmask(signal.SIG_BLOCK,
                                   {signal.SIGTERM, signal.SIGINT})
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen([self.a.logship, '-c', self.conf],
                                     stdout=subprocess.PIPE
                                     if self.slow_stdout else
                                     subprocess.DEVNULL, stderr=err,
                                     preexec_fn=limit)
        err.close()
        if self.slow_stdout:
            # a slow reader: the stdout output fills the pipe and waits
            t = threading.Thread(target=self.read_slowly,
                                 args=(self.proc.stdout,), daemon=True)
            t.start()
            self.readers.append(t)
        self.low_ulimit = bool(nofile)
        self.ready = False
        self.err_path = os.path.join(self.work, 'run-%d.err' % self.runs)
        if self.eos:
            # not noting files until its offsets are read: running, not yet
            self.log({'ev': 'running', 'ok': False})
            self.health(False, 'reading its offsets')
        if nofile:
            self.health(False, 'ulimit -n %d' % nofile)
        else:
            self.check_ready()

    def check_ready(self):
        """Healthy once logship says it started (its first scan is done);
        exactly-once, once the offsets are read and the inputs started."""
        if self.proc is None or self.ready:
            return
        marker = "exactly_once as '" if self.eos else ' started'
        with open(self.err_path, errors='replace') as f:
            if marker not in f.read():
                return
        self.ready = True
        if not self.low_ulimit:
            self.log({'ev': 'running', 'ok': True})
        self.maybe_healthy('started')

    def maybe_healthy(self, why):
        if self.proc is not None and self.broker_up and \
                not self.low_ulimit and self.ready:
            self.health(True, why)

    def stop(self, sig):
        if not self.alive():
            return
        self.log({'ev': 'running', 'ok': False})
        self.health(False, 'kill9' if sig == signal.SIGKILL else 'term')
        self.log({'ev': 'fault', 'kind': signal.Signals(sig).name})
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure('logship did not exit within 30 s of %s'
                          % signal.Signals(sig).name)
        self.proc = None
        if sig == signal.SIGTERM and rc != 0:
            raise Failure('logship exited %d after SIGTERM (run %d)'
                          % (rc, self.runs))

    def kafka_sh(self, *args, env=None):
        e = dict(os.environ, KAFKA_PORT=self.brokers.rsplit(':', 1)[1])
        e.update(env or {})
        subprocess.run([self.a.kafka_sh] + list(args), env=e, check=True,
                       stdout=subprocess.DEVNULL)

    def mock_cmd(self, line):
        self.mock.stdin.write(line + '\n')
        self.mock.stdin.flush()
        self.mock.stdout.readline()

    def read_slowly(self, pipe):
        last = b'\n'
        with open(os.path.join(self.work, 'stdout.txt'), 'ab') as out:
            while True:
                chunk = pipe.read1(4096)
                if not chunk:
                    break
                out.write(chunk)
                last = chunk[-1:]
                time.sleep(0.003)
            if last != b'\n':
                # killed in the middle of a record (a line longer than a
                # pipe's atomic write): end the fragment, so that it does
                # not fuse with the next run's first record
                out.write(b'\n')

    def dlq_files(self):
        d = os.path.dirname(self.dlq_path)
        return [os.path.join(d, n) for n in sorted(os.listdir(d))]

    def dlq_tokens(self, path):
        toks = []
        with open(path, errors='replace') as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    raise Failure('a dead-letter line is not whole JSON: %r'
                                  % line[:80])
                toks.append(rec['value'])
        return toks

    # the operations

    def op_dlq_move(self):
        if os.path.exists(self.dlq_path):
            self.ndlq += 1
            moved = '%s.moved-%d' % (self.dlq_path, self.ndlq)
            os.rename(self.dlq_path, moved)
            self.dlq_moved[moved] = time.time()

    def op_dlq_remove(self):
        if os.path.exists(self.dlq_path):
            # what it held had arrived; then an operator removes the file
            self.dlq_seen.extend(self.dlq_tokens(self.dlq_path))
            os.unlink(self.dlq_path)

    def op_append(self, f, n, long_every, newline):
        self.write(self.p(f), n, long_every, newline)

    def op_link_append(self, n):
        link = self.p('links/l0.log')
        if not os.path.lexists(link):
            self.op_retarget()
        self.write(self.p('targets/t0.%d.log' % self.target), n, 0, True)

    def op_retarget(self):
        old = self.inst_of.get(self.p('targets/t0.%d.log' % self.target))
        if old is not None and os.path.lexists(self.p('links/l0.log')):
            # the old target leaves every path logship follows: like a
            # deletion, what it holds is safe only if logship had a healthy
            # moment to read it (a restart looks for it by inode only if
            # its checkpoint was written)
            self.log({'ev': 'hide', 'inst': old})
        self.target += 1
        tgt = self.p('targets/t0.%d.log' % self.target)
        self.write(tgt, 1, 0, True)
        tmp = self.p('links/.l0.tmp')
        os.symlink('../targets/t0.%d.log' % self.target, tmp)
        os.replace(tmp, self.p('links/l0.log'))

    def op_rotate(self, f):
        path = self.p(f)
        if os.path.exists(path):
            inst = self.inst_of.get(path)
            self.shift(path)
            self.rename(path, path + '.1')
            if inst is not None:
                # renamed away before logship could take note of it (it
                # was created while logship was down or starting): nobody
                # will look for it, as with a deletion.  The oracle's
                # healthy window decides what was safe.
                self.log({'ev': 'hide', 'inst': inst})

    def op_copytruncate(self, f):
        path = self.p(f)
        if not os.path.exists(path):
            return
        self.shift(path)
        shutil.copyfile(path, path + '.1')
        src = self.inst_of[path]
        dst = self.new_inst(path + '.1')
        self.inst_of[path] = src
        self.log({'ev': 'copy', 'src': src, 'dst': dst})
        # the copy is found (by content) only if logship knew the original
        self.log({'ev': 'hide', 'inst': dst, 'seen_as': src})
        os.truncate(path, 0)
        self.log({'ev': 'clear', 'inst': src})
        self.partial.discard(src)  # the new content starts afresh

    def op_compress(self, f):
        path = self.p(f) + '.1'
        if not os.path.exists(path):
            return
        gz = path + '.gz'
        if os.path.exists(gz):
            self.unlink(gz)
        with open(path, 'rb') as src, gzip.open(gz, 'wb') as dst:
            shutil.copyfileobj(src, dst)
        st = os.stat(path)
        os.utime(gz, ns=(st.st_atime_ns, st.st_mtime_ns))  # as gzip does
        inst = self.inst_of[path]
        if self.proc is None:
            # while logship is down, recovery must read it from the .gz
            self.log({'ev': 'copy', 'src': inst, 'dst': self.new_inst(gz)})
        else:
            self.inst_of[gz] = None  # a file nobody follows
        self.unlink(path)

    def op_delete(self, f):
        self.unlink(self.p(f))

    def op_recreate(self, f, n):
        path = self.p(f)
        if os.path.isdir(os.path.dirname(path)):
            self.unlink(path)
            self.write(path, n, 0, True)

    def op_cleanup(self, f):
        for n in range(ROTATIONS, 1, -1):
            for sfx in ('', '.gz'):
                old = '%s.%d%s' % (self.p(f), n, sfx)
                if os.path.exists(old):
                    self.unlink(old)
                    return
        old = [x for x in os.listdir(self.p('targets'))
               if x != 't0.%d.log' % self.target]
        if old:
            self.unlink(self.p('targets/' + sorted(old)[0]))

    def op_dir_away(self, d):
        src, dst = self.p(d), self.p('away-' + d)
        if not os.path.isdir(src):
            return
        os.rename(src, dst)
        for path in [p for p in self.inst_of if p.startswith(src + '/')]:
            self.inst_of[dst + path[len(src):]] = self.inst_of.pop(path)
            # a copytruncate copy is found beside its file: not once away
            self.log({'ev': 'away', 'inst': self.inst_of[dst + path[len(src):]]})
        # (its files are closed after rotate_wait; once back, they resume
        # from their done checkpoints: nothing is read again)

    def op_dir_back(self, d):
        src, dst = self.p('away-' + d), self.p(d)
        if not os.path.isdir(src):
            return
        os.rename(src, dst)
        for path in [p for p in self.inst_of if p.startswith(src + '/')]:
            self.inst_of[dst + path[len(src):]] = self.inst_of.pop(path)
            # logship can note it again (oracle: seen() while present)
            if self.inst_of[dst + path[len(src):]]:
                self.log({'ev': 'back',
                          'inst': self.inst_of[dst + path[len(src):]]})

    def op_kill9(self):
        self.stop(signal.SIGKILL)

    def op_term(self):
        self.stop(signal.SIGTERM)

    def op_start(self, nofile):
        if self.proc is None:
            self.start(nofile)

    def op_broker_down(self):
        self.health(False, 'broker down')
        self.broker_up = False
        self.kafka_sh('stop')

    def op_broker_up(self):
        self.kafka_sh('start', env={'KAFKA_KEEP_DATA': '1'})
        self.broker_up = True
        self.maybe_healthy('broker up')

    def op_mock_errors(self, n, code):
        self.health(False, 'produce errors')
        self.mock_cmd('errors %d %d' % (n, code))
        time.sleep(1.5)
        self.mock_cmd('clear')  # the fault lasts 1.5 s, not until used up
        self.maybe_healthy('produce errors over')

    def op_mock_blip(self, ms):
        self.health(False, 'mock broker down')
        self.mock_cmd('down 1')
        time.sleep(ms / 1000)
        self.mock_cmd('up 1')
        self.sleep_healthy(0.5, 'mock broker up')

    def sleep_healthy(self, s, why):
        time.sleep(s)
        self.maybe_healthy(why)

    def op_sleep(self, ms):
        time.sleep(ms / 1000)

    def op_heal(self):
        if self.low_ulimit:
            self.stop(signal.SIGTERM)
            self.start(0)
        for path, inst in list(self.inst_of.items()):
            # ends the incomplete last line of every followed file (those of
            # rotated files are emitted when logship closes them)
            if inst in self.partial and path.endswith('.log') and \
                    os.path.exists(path) and '/targets/' not in path:
                self.write(path, 1, 0, True)

    # the run

    def setup(self):
        if self.a.mockd and self.a.seed % 4 == 3 and not self.eos:
            self.mock = subprocess.Popen([self.a.mockd, self.topic, '1'],
                                         stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
            self.brokers = self.mock.stdout.readline().strip()
        else:
            self.brokers = self.a.brokers
            self.kafka_sh('topic', self.topic, '1')

    def isolation(self):
        return ['-X', 'isolation.level=read_committed'] if self.eos else []

    def count(self):
        out = subprocess.run(['kcat', '-b', self.brokers, '-C', '-t',
                              self.topic, '-e', '-q', '-f', '.']
                             + self.isolation(),
                             capture_output=True, timeout=120).stdout
        return len(out)

    def quiesce(self):
        """Waits until nothing more arrives for 12 s (at most 120 s): after
        a broker restart librdkafka may wait up to reconnect.backoff.max.ms
        (10 s) before it connects again, and until then nothing moves (in
        either mode: the inputs wait for the outputs)."""
        if self.mock is not None:
            self.mock_cmd('clear')
        quiet = 12
        last, since, end = -1, time.monotonic(), time.monotonic() + 120
        while time.monotonic() < end:
            self.alive()
            self.check_ready()  # (the last start is journaled as running)
            n = self.count()
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.5)

    def run(self):
        self.setup()
        for op in self.ops:
            name, args = op[0], op[1:]
            if name == 'config':
                self.config(*args)
                self.start(0)
                continue
            if self.proc is not None:
                self.alive()
                self.check_ready()
            getattr(self, 'op_' + name)(*args)
        self.quiesce()
        self.stop(signal.SIGTERM)
        self.log({'ev': 'end'})
        self.journal.close()
        got = os.path.join(self.work, 'got.txt')
        with open(got, 'wb') as f:
            subprocess.run(['kcat', '-b', self.brokers, '-C', '-t',
                            self.topic, '-e', '-q', '-f', '%s\n']
                           + self.isolation(),
                           stdout=f, check=True, timeout=300)
        extra = []
        if self.dlq_path is not None:
            extra += ['--dlq', self.collect_dlq()]
        if self.slow_stdout:
            for t in self.readers:
                t.join(timeout=60)
            extra += ['--stdout', os.path.join(self.work, 'stdout.txt')]
        rc = subprocess.run([sys.executable, os.path.join(HERE, 'oracle.py'),
                             os.path.join(self.work, 'journal.jsonl'), got]
                            + extra).returncode
        if rc != 0:
            raise Failure('the oracle found lines missing')

    def collect_dlq(self):
        """Every value dead-lettered: what it arrived as, besides Kafka.
        Nothing may have gone to a file after it was moved away."""
        toks = list(self.dlq_seen)
        for path in self.dlq_files():
            toks += self.dlq_tokens(path)
            moved_at = self.dlq_moved.get(path)
            if moved_at is None:
                continue
            with open(path) as f:
                for line in f:
                    when = json.loads(line)['time']
                    t = time.mktime(time.strptime(when[:19],
                                                  '%Y-%m-%dT%H:%M:%S'))
                    t += float(when[19:-1] or 0) - time.timezone
                    if t > moved_at + 0.5:
                        raise Failure('a record went to the dead-letter '
                                      'file after it was moved away')
        out = os.path.join(self.work, 'dlq.txt')
        with open(out, 'w') as f:
            f.write(''.join(t + '\n' for t in toks))
        return out

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.mock is not None:
            try:
                self.mock_cmd('quit')
            except (BrokenPipeError, OSError):
                pass
            self.mock.wait(timeout=10)
        if not self.broker_up:
            self.kafka_sh('start', env={'KAFKA_KEEP_DATA': '1'})

    def sanitizer_reports(self):
        bad = []
        for n in range(1, self.runs + 1):
            with open(os.path.join(self.work, 'run-%d.err' % n),
                      errors='replace') as f:
                text = f.read()
            for mark in ('AddressSanitizer', 'LeakSanitizer', 'runtime error:',
                         'UndefinedBehaviorSanitizer'):
                if mark in text:
                    bad.append('run-%d.err: %s' % (n, mark))
        return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--steps', type=int, default=70)
    ap.add_argument('--logship')
    ap.add_argument('--work')
    ap.add_argument('--brokers', default='127.0.0.1:19692')
    ap.add_argument('--kafka-sh', default=os.path.join(HERE, '..', 'kafka',
                                                       'kafka.sh'))
    ap.add_argument('--mockd')
    ap.add_argument('--print', action='store_true')
    ap.add_argument('--exactly-once', action='store_true')
    a = ap.parse_args()
    mock = bool(a.mockd) and a.seed % 4 == 3 and not a.exactly_once
    ops = make_schedule(a.seed, a.steps, mock, a.exactly_once)
    if a.print:
        for op in ops:
            if op[0] != 'sleep':
                print(' '.join(str(x) for x in op))
        return 0
    os.makedirs(a.work, exist_ok=True)
    with open(os.path.join(a.work, 'schedule.txt'), 'w') as f:
        for op in ops:
            f.write(' '.join(str(x) for x in op) + '\n')
    t = Torture(a, ops)
    status = 0
    try:
        t.run()
    except Failure as e:
        print('torture: seed %d: %s' % (a.seed, e))
        status = 1
    finally:
        t.close()
    for b in t.sanitizer_reports():
        print('torture: seed %d: sanitizer report in %s' % (a.seed, b))
        status = 1
    return status


sys.exit(main())
