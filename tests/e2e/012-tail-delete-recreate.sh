#!/usr/bin/env bash
# A file deleted while being read is read to its end and closed; a new
# file with the same name is read from its start; the inode may be
# reused.  20 rounds, then no descriptor is left open by the deleted files.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]" "rotate_wait: 300ms"
start_logship "$work/p.yaml"
wait_for 10 "logship started" log_has "waiting for one to appear"
sleep 0.2
fds_before=$(fd_count)
: >"$work/want.txt"
reused=0
prev_ino=
following() {
    grep -c "following '$work/logs/app.log'" "$work/logship.err" || true
}
following_more() {
    [ "$(following)" -gt "$1" ]
}
for round in $(seq 1 20); do
    f="$work/logs/app.log"
    before=$(following)
    seq -f "r$round-%05g" 1 500 >"$f"
    # deleted while being read: logship has opened it (a file deleted
    # before anyone opened it cannot be read by anyone)
    wait_for 10 "round $round: app.log followed" following_more "$before"
    ino=$(stat -c %i "$f")
    [ "$ino" = "$prev_ino" ] && reused=$((reused + 1))
    prev_ino=$ino
    seq -f "r$round-%05g" 1 500 >>"$work/want.txt"
    # delete it while logship may still be reading it, then write more
    # lines to a held descriptor: those come after the deletion
    exec 3>>"$f"
    rm "$f"
    seq -f "r$round-late-%05g" 1 50 >&3
    seq -f "r$round-late-%05g" 1 50 >>"$work/want.txt"
    exec 3>&-
    wait_for 30 "round $round shipped" topic_has "$topic" $((round * 550))
done
wait_exact 30 "$topic" 11000
check_topic exact "$topic" "$work/want.txt"
fds_released() { [ "$(fd_count)" -le "$fds_before" ]; }
wait_for 10 "descriptors released" fds_released
echo "inode reused in $reused of 19 rounds; fds before $fds_before after $(fd_count)"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
