#!/usr/bin/env bash
# A followed file is deleted while Kafka is slow (linger 3 s), so
# rotate_wait closes it with records still unacknowledged; the app then
# recreates it and ext4 hands out the same inode.  The closed file keeps
# its checkpoint entry until its acks come (it used to be freed under it:
# a crash), the new file gets its own, and every line arrives once.
# ext4 hands a freed inode to the next file created in its group unless
# another process takes it first: ctest runs this test alone (RUN_SERIAL),
# and it goes on for up to 10 rounds until 3 of them reused the inode.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
cat >"$work/p.yaml" <<YAML
service: {log_level: info, state_dir: "$work/state"}
pipelines:
  p:
    inputs:
      - {type: tail, paths: ["$work/logs/*.log"], rotate_wait: 100ms}
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: raw,
         linger_ms: 3000}
YAML
start_logship "$work/p.yaml"
wait_for 10 "logship started" log_has "waiting for one to appear"
: >"$work/want.txt"
reused=0
n=0
closed() { grep -c "closed deleted file '$work/logs/app.log'" "$work/logship.err" || true; }
closed_more() { [ "$(closed)" -gt "$1" ]; }
followed() { grep -c "following '$work/logs/app.log'" "$work/logship.err" || true; }
followed_more() { [ "$(followed)" -gt "$1" ]; }
rounds=0
for round in 1 2 3 4 5 6 7 8 9 10; do
    rounds=$round
    before=$(followed)
    seq -f "r$round-%04g" 1 200 >"$work/logs/app.log"
    seq -f "r$round-%04g" 1 200 >>"$work/want.txt"
    n=$((n + 200))
    ino=$(stat -c %i "$work/logs/app.log")
    wait_for 10 "round $round: followed" followed_more "$before"
    c=$(closed)
    rm "$work/logs/app.log"
    wait_for 10 "round $round: closed before its acks" closed_more "$c"
    # the acks are still 3 s away: the new file takes the inode now
    seq -f "r$round-new-%04g" 1 50 >"$work/logs/app.log"
    seq -f "r$round-new-%04g" 1 50 >>"$work/want.txt"
    n=$((n + 50))
    [ "$(stat -c %i "$work/logs/app.log")" = "$ino" ] && reused=$((reused + 1))
    wait_for 30 "round $round shipped" topic_has "$topic" "$n"
    kill -0 "$lsh_pid" 2>/dev/null || fail "logship died in round $round"
    c=$(closed)
    rm "$work/logs/app.log"
    # its inode must be free before the next round's file is created, or
    # that file takes another and leaves two free for the reuse to pick
    wait_for 10 "round $round: the new file closed" closed_more "$c"
    [ "$reused" -lt 3 ] || break
done
[ "$reused" -gt 0 ] || fail "no inode was reused in $rounds rounds; the test proves nothing"
echo "inode reused in $reused of $rounds rounds"
wait_exact 30 "$topic" "$n"
check_topic exact "$topic" "$work/want.txt"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
