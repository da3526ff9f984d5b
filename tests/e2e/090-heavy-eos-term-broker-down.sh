#!/usr/bin/env bash
# delivery: exactly_once, the broker goes down after a transaction's records
# were acknowledged and before it commits: the commit cannot reach the
# coordinator (librdkafka fails it, or it times out: either way it must not
# hold the loop, and commit calls are bounded to 500 ms and resumed).
# SIGTERM then exits within shutdown_timeout, and once the broker and
# logship are back, a read_committed consumer sees every line once.
. "$(dirname "$0")/lib.sh"

use_private_broker 19292
topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]"
sed -i 's|state_dir:|shutdown_timeout: 3s, state_dir:|' "$work/p.yaml"
eos_output "$work/p.yaml" "$topic" "transaction_interval: 8s"
start_logship "$work/p.yaml"
wait_for 30 "the offsets read" log_has "exactly_once as"
seq -f "T%05g" 0 9999 >"$work/logs/app.log"
# acknowledged (a read_uncommitted consumer has them), not committed yet
wait_for 10 "the records acknowledged" topic_has "$topic" 10000
broker_down
sleep 7 # the commit is due now (8 s after the first record), with no coordinator
t0=$(date +%s)
stop_logship TERM 10
echo "SIGTERM with the broker down: exited $lsh_rc after $(($(date +%s) - t0)) s"
log_has "SIGTERM" || fail "the signal was not handled"
broker_up
start_logship "$work/p.yaml"
wait_for 60 "every line committed" committed "$topic" 10000
sleep 1
stop_logship TERM 30
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
seq -f "T%05g" 0 9999 >"$work/want.txt"
check_exactly_once "$topic" "$work/want.txt"
pass
