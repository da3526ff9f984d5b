#!/usr/bin/env bash
# delivery: exactly_once under kill -9: 500,000 numbered lines written
# while logship is killed at 20 random moments, with a rotation every
# 100,000 lines (some while it is dead), renames and copytruncates in turn,
# then a clean run.  A read_committed consumer must see every line exactly
# once: 0 lost, 0 duplicates.  A read_uncommitted one may see more (aborted
# transactions).
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]" \
    "rotate_wait: 1s"
eos_output "$work/p.yaml" "$topic"

# the writer: 500,000 lines over about 15 s; a rotation at every 100,000:
# renamed at 100,000 and 300,000, copied and truncated at 200,000 and
# 400,000 (the writer waits meanwhile, as copytruncate's own window of loss
# is not logship's)
python3 - "$work/logs" >"$work/writer.out" 2>&1 <<'PY' &
import os, shutil, sys, time
d = sys.argv[1]
app = d + '/app.log'
fd = os.open(app, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for seq in range(0, 500000, 250):
    os.write(fd, ''.join('E%07d\n' % i for i in range(seq, seq + 250)).encode())
    done = seq + 250
    if done % 200000 == 0:
        shutil.copyfile(app, '%s/app.log.%d' % (d, done))
        os.ftruncate(fd, 0)
    elif done % 100000 == 0 and done < 500000:
        os.rename(app, '%s/app.log.%d' % (d, done))
        os.close(fd)
        fd = os.open(app, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    time.sleep(0.0075)
os.close(fd)
PY
writer=$!

for kill in $(seq 1 20); do
    start_logship "$work/p.yaml"
    sleep "0.$((RANDOM % 8 + 2))$((RANDOM % 10))"
    kill9_logship
    cp "$work/logship.err" "$work/run-$kill.err"
    sleep "0.$((RANDOM % 3))"
done
wait "$writer"
start_logship "$work/p.yaml"
wait_for 120 "every line committed" committed "$topic" 500000
sleep 1 # anything more (a duplicate) would be committed by now
stop_logship TERM 30
[ "$lsh_rc" -eq 0 ] || fail "the final run exited $lsh_rc"
all=$(consume "$topic" -X isolation.level=read_uncommitted | wc -l)
seq -f "E%07g" 0 499999 >"$work/want.txt"
check_exactly_once "$topic" "$work/want.txt"
echo "kill -9 x20, exactly_once: 500000 lines, read_committed saw each" \
    "once (read_uncommitted saw $all records, aborted ones included)"
pass
