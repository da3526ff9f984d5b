#!/usr/bin/env bash
# A reload that changes a pipeline while one of its files was deleted
# with lines not read yet (polled, no inotify, so logship has not even
# seen the deletion): the new pipeline reads them through the descriptor
# the old one handed over (core/stash.c).  Before, they were lost.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
seq -f "A%03g" 1 50 >"$work/logs/a.log"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]" "poll_interval: 30s"
start_logship_nowatch "$work/p.yaml"
wait_exact 20 "$topic" 50
seq -f "B%03g" 1 50 >>"$work/logs/a.log"
rm "$work/logs/a.log" # before the next poll: unread, and not seen deleted
sed -i 's|poll_interval: 30s|poll_interval: 31s|' "$work/p.yaml"
kill -HUP "$lsh_pid"
wait_for 20 "the reload" log_has "restarted with its new settings"
{ seq -f "A%03g" 1 50; seq -f "B%03g" 1 50; } >"$work/want.txt"
wait_exact 20 "$topic" 100
check_topic exact "$topic" "$work/want.txt"
log_has "through the descriptor kept across the restart" ||
    fail "the deleted file was not read through its kept descriptor"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
