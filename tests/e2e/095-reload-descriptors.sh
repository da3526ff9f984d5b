#!/usr/bin/env bash
# A reload restarts a pipeline that follows 60 files under a descriptor
# limit of 100.  Only the descriptors of files no path leads to are kept
# for the new pipeline (core/stash.c): files still at their paths are
# opened again there, so the restart must not need twice the descriptors
# (keeping them all ran out: "Too many open files").
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
for i in $(seq -w 1 60); do echo "a$i" >"$work/logs/f$i.log"; done
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]" "rotate_wait: 1s"
# (not start_logship: the limit must be logship's own, $! its pid)
(ulimit -n 100 && exec $LOGSHIP_WRAPPER "$LOGSHIP" -c "$work/p.yaml" \
    >"$work/logship.out" 2>"$work/logship.err") &
lsh_pid=$!
wait_exact 20 "$topic" 60
sed -i 's|rotate_wait: 1s|rotate_wait: 2s|' "$work/p.yaml"
kill -HUP "$lsh_pid"
wait_for 20 "the reload" log_has "restarted with its new settings"
for i in $(seq -w 1 60); do echo "b$i" >>"$work/logs/f$i.log"; done
wait_exact 20 "$topic" 120
! log_has "Too many open files" || fail "the restart ran out of descriptors"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
{ for i in $(seq -w 1 60); do echo "a$i"; echo "b$i"; done; } >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
pass
