#!/usr/bin/env bash
# Start-up recovery takes a file for a checkpointed one by content, not by
# inode alone.  Ship a.log, stop, delete it, and create notes.txt (which
# no glob matches) until it reuses a.log's inode: on start notes.txt is
# not shipped, no garbage path is followed, and the checkpoint stays
# well-formed, so the next start works too.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]"
seq -f "a-%04g" 1 100 >"$work/logs/a.log"
start_logship "$work/p.yaml"
wait_for 20 "a.log shipped" topic_has "$topic" 100
stop_logship TERM 20
ino=$(stat -c %i "$work/logs/a.log")
rm "$work/logs/a.log"
reused=0
for i in $(seq 1 20); do
    seq -f "notes-%04g" 1 300 >"$work/logs/notes.txt" # larger than the offset
    if [ "$(stat -c %i "$work/logs/notes.txt")" = "$ino" ]; then
        reused=1
        break
    fi
    rm "$work/logs/notes.txt"
    : >"$work/logs/filler.$i" # take other inodes
done
[ "$reused" -eq 1 ] || fail "notes.txt never took a.log's inode; the test proves nothing"
for round in 1 2; do
    start_logship "$work/p.yaml"
    wait_for 10 "round $round: started" log_has "logship 0."
    seq -f "b$round-%04g" 1 10 >"$work/logs/b$round.log"
    wait_for 20 "round $round: b$round.log shipped" topic_has "$topic" $((100 + round * 10))
    stop_logship TERM 20
    [ "$lsh_rc" -eq 0 ] || fail "round $round: logship exited $lsh_rc"
    grep -q "notes.txt" "$work/logship.err" && fail "round $round: notes.txt was looked at as a rotation"
    grep -q "corrupt checkpoint" "$work/logship.err" && fail "round $round: corrupt checkpoint"
done
wait_exact 10 "$topic" 120
{ seq -f "a-%04g" 1 100; seq -f "b1-%04g" 1 10; seq -f "b2-%04g" 1 10; } >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
pass
