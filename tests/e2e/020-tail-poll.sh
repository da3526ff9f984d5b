#!/usr/bin/env bash
# poll_interval: with inotify giving nothing (every watch fails, through an
# LD_PRELOAD shim), new files and appends are still found by polling, and
# the watch failure is reported once.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
seq -f "old-%03g" 1 10 >"$work/logs/a.log"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/**/*.log\"]" \
    "poll_interval: 200ms"
start_logship_nowatch "$work/p.yaml"
wait_for 10 "existing file" topic_has "$topic" 10
seq -f "app-%03g" 1 10 >>"$work/logs/a.log"
wait_for 10 "an append, by polling" topic_has "$topic" 20
mkdir -p "$work/logs/sub"
seq -f "new-%03g" 1 10 >"$work/logs/sub/b.log"
wait_exact 10 "$topic" 30
{ seq -f "old-%03g" 1 10; seq -f "app-%03g" 1 10; seq -f "new-%03g" 1 10; } >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
[ "$(grep -c '\[error\].*cannot watch' "$work/logship.err")" -eq 1 ] ||
    fail "the watch failure must be reported once at error level"
stop_logship TERM 20
pass
