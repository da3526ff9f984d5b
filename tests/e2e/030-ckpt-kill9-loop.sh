#!/usr/bin/env bash
# kill -9 at 20 random moments while 500,000 numbered lines are written
# (with rotations, some of them while logship is dead), then a clean run.
# Every line must be in Kafka at least once.  Reports the duplicates each
# kill caused: the records a run sent that an earlier run had sent.
# Default settings (checkpoint_delay 100 ms).
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]" \
    "rotate_wait: 1s"

# the writer: 500,000 lines over about 15 s, a rename rotation every 50,000
python3 - "$work/logs" >"$work/writer.out" 2>&1 <<'PY' &
import os, sys, time
d = sys.argv[1]
fd = os.open(d + '/app.log', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for seq in range(0, 500000, 250):
    os.write(fd, ''.join('K%07d\n' % i for i in range(seq, seq + 250)).encode())
    if (seq + 250) % 50000 == 0:
        os.rename(d + '/app.log', '%s/app.log.%d' % (d, seq // 50000))
        os.close(fd)
        fd = os.open(d + '/app.log', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    time.sleep(0.0075)
os.close(fd)
PY
writer=$!

: >"$work/bounds.txt"
for kill in $(seq 1 20); do
    start_logship "$work/p.yaml"
    sleep "0.$((RANDOM % 6 + 2))$((RANDOM % 10))"
    kill9_logship
    cp "$work/logship.err" "$work/run-$kill.err"
    # where this run's records end in the topic (all of its acks are in)
    sleep 0.2
    topic_count "$topic" >>"$work/bounds.txt"
    sleep "0.$((RANDOM % 3))"
done
wait "$writer"
start_logship "$work/p.yaml"
wait_for 120 "every line at least once" topic_has "$topic" 500000
# all 500,000 distinct lines must be there
for _ in $(seq 1 60); do
    consume "$topic" >"$work/got.txt"
    distinct=$(sort -u "$work/got.txt" | wc -l)
    [ "$distinct" -ge 500000 ] && break
    sleep 1
done
stop_logship TERM 30
[ "$lsh_rc" -eq 0 ] || fail "the final run exited $lsh_rc"
seq -f "K%07g" 0 499999 >"$work/want.txt"
python3 - "$work/got.txt" "$work/want.txt" "$work/bounds.txt" <<'PY'
import statistics, sys
got = open(sys.argv[1]).read().split('\n')[:-1]
want = set(open(sys.argv[2]).read().split('\n')[:-1])
bounds = [int(x) for x in open(sys.argv[3]).read().split()]
missing = want - set(got)
if missing:
    sys.exit('LOST %d lines, e.g. %s' % (len(missing), sorted(missing)[:5]))
# records of run k are those between bound k-1 and bound k; a duplicate
# of kill k is a record the next run sent again
seen, per_kill, start = set(), [], 0
for b in bounds + [len(got)]:
    run = got[start:b]
    per_kill.append(sum(1 for r in run if r in seen))
    seen.update(run)
    start = b
dups = per_kill[1:]  # what each kill made the next run send again
print('kill -9 x%d: %d records for %d lines, %d duplicates; per kill: '
      'median %d, max %d' % (len(bounds), len(got), len(want),
                             len(got) - len(want),
                             statistics.median(dups), max(dups)))
PY
pass
