#!/usr/bin/env bash
# A checkpointed file that is not visible at start-up (its directory was
# moved away, a volume not mounted yet) keeps its checkpoint, across
# restarts too, for checkpoint_retention; when it comes back with the
# same identity it resumes at its offset instead of being sent again.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]"
seq -f "a-%04g" 1 100 >"$work/logs/a.log"
start_logship "$work/p.yaml"
wait_for 20 "100 lines" topic_has "$topic" 100
stop_logship TERM 20
mv "$work/logs" "$work/logs.bak"
for round in 1 2; do # two starts while it is away
    start_logship "$work/p.yaml"
    wait_for 10 "round $round started" log_has "logship 0."
    sleep 0.5
    stop_logship TERM 20
    ckpt_at "$work/state/p.ckpt" "$work/logs/a.log" 700 ||
        fail "round $round: the checkpoint of the missing file was dropped"
done
start_logship "$work/p.yaml"
wait_for 10 "started" log_has "logship 0."
mv "$work/logs.bak" "$work/logs"
wait_for 10 "resumed" log_has "'$work/logs/a.log': resuming at offset 700"
seq -f "a-%04g" 101 110 >>"$work/logs/a.log"
wait_exact 20 "$topic" 110
seq -f "a-%04g" 1 110 >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
stop_logship TERM 20
pass
