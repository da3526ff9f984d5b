#!/usr/bin/env bash
# A file is rotated while the broker is down and its unacked lines still
# arrive: (1) logship keeps running through the outage; (2) logship is
# stopped during the outage (its checkpoint covers nothing unacked), the
# file is rotated while it is down, and the next run finds the rotated
# file by its inode and reads the rest of it.
. "$(dirname "$0")/lib.sh"

use_private_broker 19192
topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]" \
    "rotate_wait: 500ms"
sed -i 's/state_dir:/shutdown_timeout: 1s, state_dir:/' "$work/p.yaml"
start_logship "$work/p.yaml"
seq -f "a-%04g" 1 1000 >>"$work/logs/app.log"
wait_for 30 "first lines" topic_has "$topic" 1000

# (1) rotated during an outage, logship running
broker_down
seq -f "b-%04g" 1 1000 >>"$work/logs/app.log"
mv "$work/logs/app.log" "$work/logs/app.log.1"
seq -f "c-%04g" 1 1000 >>"$work/logs/app.log"
sleep 2 # past rotate_wait: the rotated file is read to its end and closed
broker_up
wait_exact 60 "$topic" 3000

# (2) logship stopped during an outage, rotation while it is down
broker_down
seq -f "d-%04g" 1 1000 >>"$work/logs/app.log"
sleep 1
stop_logship TERM 20 # shutdown_timeout passes; nothing new is acked
grep -q "not acknowledged at exit" "$work/logship.err" ||
    fail "the outage did not leave records unacknowledged"
mv "$work/logs/app.log" "$work/logs/app.log.2"
seq -f "e-%04g" 1 1000 >>"$work/logs/app.log"
broker_up
cp "$work/logship.err" "$work/run1.err"
start_logship "$work/p.yaml"
wait_exact 60 "$topic" 5000
log_has "was rotated to '$work/logs/app.log.2' while logship was down" ||
    fail "the rotated file was not recovered from the checkpoint"
for p in a b c d e; do seq -f "$p-%04g" 1 1000; done >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
