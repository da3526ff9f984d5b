#!/usr/bin/env bash
# delivery: exactly_once, two instances with one transactional id (a
# second copy of the agent started by mistake, or a new pod while the old
# one hangs on): the newer fences the older, which stops producing for
# good and says so; the newer goes on from the offsets the older committed.
# A read_committed consumer sees every line exactly once.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/a.yaml" "$topic" "[\"$work/logs/app.log\"]"
eos_output "$work/a.yaml" "$topic"
sed "s|state_dir: \"$work/state\"|state_dir: \"$work/state-b\"|" \
    "$work/a.yaml" >"$work/b.yaml"
grep -q "state-b" "$work/b.yaml" || fail "no second state_dir"

# 60,000 lines over about 15 s: the first instance is still producing
# when the second starts
python3 - "$work/logs/app.log" <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for seq in range(0, 60000, 100):
    os.write(fd, ''.join('F%06d\n' % i for i in range(seq, seq + 100)).encode())
    time.sleep(0.025)
PY
writer=$!
helper_pids=$writer

start_logship "$work/a.yaml"
# the first instance runs and commits for a while (not waited for with a
# read_committed consumer: it reads only up to the transaction open now,
# and while this one produces, one always is)
sleep 3
# the second instance: its own state_dir, the same transactional id
"$LOGSHIP" -c "$work/b.yaml" >"$work/b.out" 2>"$work/b.err" &
b_pid=$!
helper_pids="$helper_pids $b_pid"
fenced() { grep -q "fenced: another instance started" "$work/logship.err"; }
wait_for 30 "the first instance is fenced and says so" fenced
grep -q "stops producing for good" "$work/logship.err" || fail "the fenced one does not say it stops"
wait "$writer"
wait_for 60 "every line committed" committed "$topic" 60000
sleep 1
# the fenced one produced nothing since: it stops on TERM, promptly
stop_logship TERM 20
kill -TERM "$b_pid"
wait "$b_pid" || fail "the second instance exited $?"
seq -f "F%06g" 0 59999 >"$work/want.txt"
check_exactly_once "$topic" "$work/want.txt"
grep -q "offsets records read" "$work/b.err" || fail "the second instance did not read the offsets"
pass
