#!/usr/bin/env bash
# Restart: every file resumes at its committed offset, also a file renamed
# by rotation while logship was down that still matches the glob; the new
# file at the old name is read from its start.  Nothing twice, nothing lost.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log*\"]"
seq -f "one-%03g" 1 100 >"$work/logs/app.log"
seq -f "other-%03g" 1 10 >"$work/logs/app.log.other"
start_logship "$work/p.yaml"
wait_for 20 "110 lines" topic_has "$topic" 110
stop_logship TERM 20
# while logship is down: rotate, write to both, and to the untouched file
mv "$work/logs/app.log" "$work/logs/app.log.1"
seq -f "one-%03g" 101 150 >>"$work/logs/app.log.1"
seq -f "two-%03g" 1 20 >"$work/logs/app.log"
seq -f "other-%03g" 11 15 >>"$work/logs/app.log.other"
start_logship "$work/p.yaml"
wait_exact 20 "$topic" 185
{ seq -f "one-%03g" 1 150; seq -f "other-%03g" 1 15; seq -f "two-%03g" 1 20; } >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
grep -q "'$work/logs/app.log.1': resuming at offset 800" "$work/logship.err" ||
    fail "the renamed file did not resume at its checkpoint"
stop_logship TERM 20
pass
