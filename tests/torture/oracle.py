#!/usr/bin/env python3
"""The torture test's oracle: which lines must be in Kafka, and are they.

    oracle.py JOURNAL GOT [--dlq FILE] [--stdout FILE]

JOURNAL is what the driver did, one JSON object per line, in time order:
  {"ev": "params", "W": s, "W_seen": s, "dup_window": s, "rotate_wait": s}
  {"t": s, "ev": "write", "inst": I, "tokens": [...], "partial": bool}
                                               lines written to I (partial:
                                               the last without its newline)
  {"t": s, "ev": "copy", "src": I, "dst": J}   J holds what I holds
  {"t": s, "ev": "clear", "inst": I}           I truncated: its lines gone
  {"t": s, "ev": "destroy", "inst": I}         I's last name unlinked
  {"t": s, "ev": "hide", "inst": I}            I renamed away: a destroy
                                               unless a healthy logship
                                               could have seen I before
                                               (or seen_as, for a copy)
  {"t": s, "ev": "health", "ok": bool, "why": str}
  {"t": s, "ev": "running", "ok": bool}        logship up (its first scan
                                               done, normal limits) or not
  {"t": s, "ev": "fault", "kind": str}         a process fault (dup bound)
  {"t": s, "ev": "away", "inst": I}            I's directory moved away: if
                                               I is a copy logship had no
                                               time to find, a destroy; and
                                               until "back", logship cannot
                                               note I
  {"t": s, "ev": "back", "inst": I}            I's directory moved back
GOT holds the bodies that arrived in Kafka, one per line; --dlq the values
written to the dead-letter file (they arrived too, elsewhere); --stdout what
a second output, stdout, wrote: every required line must be there as well.

The rule.  A line is required unless every file holding it was destroyed
(unlinked, or truncated) at a time u with no healthy window of W seconds
after it was written: a file created and deleted between two looks, or
deleted while logship or the broker was down, cannot be read by anyone.
Such lines are the blind spots; they are reported, not counted as lost.
A last line left without its newline is sent only when its file is
closed, rotate_wait after it was unlinked: it needs a healthy window of
rotate_wait + W after that too.  Every other line must have arrived at
least once.

Duplicates are allowed up to a bound: the lines written within
dup_window before a process fault or while something was unhealthy (what
was in flight, or not yet checkpointed).  In exactly-once mode the bound is
0.

Exit status 0 if nothing required is missing and the duplicates are
within the bound, else 1.  It prints one summary line either way.
"""
import collections
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def healthy(health, t0, t1):
    """True if nothing was unhealthy at any moment of [t0, t1]."""
    ok = True
    for t, good in health:
        if t > t1:
            break
        if t <= t0:
            ok = good
        elif not good:
            return False
    return ok


def window_starts(health, t0, t1):
    """Where a healthy window inside [t0, t1 + width] may begin: t0, and
    every moment things turned healthy in between."""
    starts = [t0] if t0 <= t1 else []
    starts += [t for t, good in health if good and t0 <= t <= t1]
    return starts


def read_lines(path):
    with open(path, 'rb') as f:
        return collections.Counter(f.read().decode('utf-8', 'replace')
                                   .split('\n'))


def main():
    events = load(sys.argv[1])
    got = read_lines(sys.argv[2])
    args = sys.argv[3:]
    dlq = read_lines(args[args.index('--dlq') + 1]) if '--dlq' in args \
        else collections.Counter()
    stdout = read_lines(args[args.index('--stdout') + 1]) \
        if '--stdout' in args else None
    params = events[0]
    W, window = params['W'], params['dup_window']
    W_seen = params.get('W_seen', W)
    RW = params.get('rotate_wait', 0)
    holders = collections.defaultdict(set)  # token -> instances holding it
    created = {}                              # instance -> first write
    content = collections.defaultdict(list)  # instance -> its tokens
    written = {}                              # token -> time written
    destroyed = {}                            # token -> time last held
    health = []
    running = []
    faults = []
    partial = {}                              # instance -> its open last line
    closed_partial = {}                       # token -> when its file went

    copies = set()
    present = collections.defaultdict(list)  # instance -> (t, in its dir)

    def seen(inst, t):
        """A running logship had W_seen to note inst since its creation,
        with inst in a directory it watches (not moved away)."""
        c = created.get(inst, t)
        starts = window_starts(running, c, t - W_seen) + \
            window_starts(present[inst], c, t - W_seen)
        return any(healthy(running, s, s + W_seen) and
                   healthy(present[inst], s, s + W_seen) for s in starts)

    def drop(inst, t, unlinked=False):
        for tok in content.pop(inst, []):
            holders[tok].discard(inst)
            if not holders[tok]:
                destroyed[tok] = t
        tok = partial.pop(inst, None)
        if unlinked and tok is not None and not holders[tok]:
            closed_partial[tok] = t

    for e in events[1:]:
        ev, t = e['ev'], e.get('t', 0)
        if ev == 'write':
            created.setdefault(e['inst'], t)
            for tok in e['tokens']:
                written[tok] = t
                holders[tok].add(e['inst'])
                content[e['inst']].append(tok)
                destroyed.pop(tok, None)
            if e.get('partial') and e['tokens']:
                partial[e['inst']] = e['tokens'][-1]
            else:
                partial.pop(e['inst'], None)  # its newline came
        elif ev == 'copy':
            for tok in content[e['src']]:
                holders[tok].add(e['dst'])
                destroyed.pop(tok, None)
            content[e['dst']] = list(content[e['src']])
            created[e['dst']] = t
            copies.add(e['dst'])
            if e['src'] in partial:
                partial[e['dst']] = partial[e['src']]
        elif ev == 'clear':
            drop(e['inst'], t)
        elif ev == 'destroy':
            drop(e['inst'], t, unlinked=True)
        elif ev == 'hide':
            # logship follows a renamed file by its inode only if it saw
            # the file (and noted it in the checkpoint): was running for W
            # between its creation and now, broker or not
            if not seen(e.get('seen_as', e['inst']), t):
                drop(e['inst'], t, unlinked=True)
        elif ev == 'away':
            # copytruncate's copy is looked for beside its file when logship
            # notices the truncation; a running logship notices it within
            # W_seen: a copy moved away before that is not found
            if e['inst'] in copies and not seen(e['inst'], t):
                drop(e['inst'], t, unlinked=True)
            present[e['inst']].append((t, False))
        elif ev == 'back':
            present[e['inst']].append((t, True))
        elif ev == 'health':
            health.append((t, e['ok']))
        elif ev == 'running':
            running.append((t, e['ok']))
        elif ev == 'fault':
            faults.append(t)

    missing, blind, blind_arrived = [], 0, 0
    for tok, t in written.items():
        u = destroyed.get(tok)
        required = u is None or (u >= t + W and healthy(health, t, t + W))
        if required and u is not None and tok in closed_partial:
            required = healthy(health, u, u + RW + W)
        if required and got[tok] + dlq[tok] == 0:
            missing.append(tok)
        elif required and stdout is not None and stdout[tok] == 0:
            missing.append(tok + ' (not on stdout)')
        elif not required:
            blind += 1
            blind_arrived += got[tok] > 0

    dups = sum(n - 1 for tok, n in got.items() if n > 1 and tok in written)
    at_risk = set()
    for tok, t in written.items():
        if any(0 <= f - t <= window for f in faults) or \
                not healthy(health, t, t + window):
            at_risk.add(tok)
    # exactly-once: what a read_committed consumer sees holds no duplicate
    bound = 0 if params.get('exactly_once') else 2 * len(at_risk) + 100
    # a line cut where its file was truncated under it (no copy to finish
    # it from) arrives as a prefix of what was written: documented, counted
    prefixes = set()
    for tok in written:
        if '-' in tok:
            prefixes.add(tok.split('-')[0])
    cut = 0
    unexpected = 0
    for tok in got:
        if not tok or not tok.startswith('z') or tok in written:
            continue
        head = tok.split('-')[0]
        if head in prefixes and any(w.startswith(tok) for w in written
                                    if w.startswith(head + '-')):
            cut += 1
        else:
            unexpected += 1

    ok = not missing and dups <= bound and unexpected == 0
    print('oracle: %d lines written, %d required, %d missing, %d in blind '
          'spots (%d of them arrived anyway), %d duplicates (bound %d), '
          '%d cut short, %d unexpected, %d dead-lettered%s: %s'
          % (len(written), len(written) - blind, len(missing), blind,
             blind_arrived, dups, bound, cut, unexpected,
             sum(1 for t in dlq if t in written),
             ', stdout checked' if stdout is not None else '',
             'PASS' if ok else 'FAIL'))
    for tok in sorted(missing)[:20]:
        print('  missing: %s (written at %.3f)'
              % (tok[:60], written[tok.split(' ')[0]]))
    sys.exit(0 if ok else 1)


main()
