#!/usr/bin/env bash
# delivery: exactly_once, a transaction aborts (the broker is down longer
# than message_timeout_ms) after a file it read was deleted.  The pipeline
# starts again from the last committed offsets; no path leads to the
# deleted file any more, so its uncommitted lines are read again through
# the descriptor the tail input kept across the restart (core/stash.c):
# once the broker is back a read_committed consumer sees every line once.
# a.log is closed after rotate_wait before the abort (its descriptor held
# while its records are out); b.log is still open when it comes.
. "$(dirname "$0")/lib.sh"

use_private_broker 19392
topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]" "rotate_wait: 1s"
eos_output "$work/p.yaml" "$topic" "message_timeout_ms: 4000"
start_logship "$work/p.yaml"
wait_for 30 "the offsets read" log_has "exactly_once as"
seq -f "A%04g" 1 100 >"$work/logs/a.log"
wait_for 20 "100 committed" committed "$topic" 100
broker_down
seq -f "B%04g" 1 100 >>"$work/logs/a.log"
seq -f "C%04g" 1 100 >"$work/logs/b.log"
sleep 0.5 # read
rm "$work/logs/a.log"
sleep 2 # a.log closed (rotate_wait), its records still out
python3 - "$work/logs/b.log" <<'PY' &
import sys, time
# b.log goes on being written, deleted meanwhile (the app keeps it open),
# so that it is still open in logship when the abort comes
with open(sys.argv[1], 'a') as f:
    for i in range(1, 101):
        f.write('D%04d\n' % i)
        f.flush()
        time.sleep(0.05)
PY
writer=$!
sleep 0.5
rm "$work/logs/b.log"
wait "$writer"
wait_for 30 "the transaction aborted" log_has "aborted"
broker_up
wait_for 60 "every line committed" committed "$topic" 400
sleep 2 # anything more (a duplicate) would be committed by now
log_has "through the descriptor kept across the restart" ||
    fail "the deleted files were not read through their kept descriptors"
stop_logship TERM 30
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
{ seq -f "A%04g" 1 100; seq -f "B%04g" 1 100; seq -f "C%04g" 1 100; seq -f "D%04g" 1 100; } >"$work/want.txt"
check_exactly_once "$topic" "$work/want.txt"
pass
