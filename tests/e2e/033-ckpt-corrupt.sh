#!/usr/bin/env bash
# A corrupt or truncated checkpoint file stops logship with exit status 2,
# naming the file; a missing one is a fresh start; a leftover temporary
# file (a crash while writing) is ignored.  A second logship on the same
# state_dir is refused.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs" "$work/state"
seq 1 100 >"$work/logs/a.log"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]"
start_logship "$work/p.yaml"
wait_for 20 "100 lines" topic_has "$topic" 100
stop_logship TERM 20
good="$work/state/p.ckpt"
[ -s "$good" ] || fail "no checkpoint written"
grep -q " 292 $work/logs/a.log\$" "$good" || fail "checkpoint offset is not 292: $(cat "$good")"
cp "$good" "$work/good.ckpt"

expect_corrupt() { # description, why-text
    set +e
    "$LOGSHIP" -c "$work/p.yaml" >/dev/null 2>"$work/err.txt"
    local rc=$?
    set -e
    [ "$rc" -eq 2 ] || fail "$1: exit status $rc, want 2"
    grep -q "corrupt checkpoint file '$good' (line [0-9]*: $2)" "$work/err.txt" ||
        fail "$1: message missing: $(cat "$work/err.txt")"
    cp "$work/good.ckpt" "$good"
}
head -c 40 "$work/good.ckpt" >"$good"
expect_corrupt "truncated" "truncated: no 'end' line"
sed -i 's/ 292 / 293 /' "$good"
expect_corrupt "changed offset" "CRC mismatch"
printf 'junk\n' >>"$good"
expect_corrupt "appended" "malformed 'end' line"
sed -i '1s/.*/something else/' "$good"
expect_corrupt "wrong magic" "not a logship checkpoint file"
: >"$good"
expect_corrupt "empty" "not a logship checkpoint file"

# a leftover temporary file is not read
printf 'garbage' >"$work/state/.p.ckpt.tmp"
start_logship "$work/p.yaml"
wait_for 10 "started on the good checkpoint" log_has "resuming at offset 292"
# another logship on the same state_dir is refused
set +e
"$LOGSHIP" -c "$work/p.yaml" >/dev/null 2>"$work/err2.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a second logship exited $rc, want 1"
grep -q "is in use by another logship (pid $lsh_pid)" "$work/err2.txt" ||
    fail "lock message missing: $(cat "$work/err2.txt")"
stop_logship TERM 20
# nothing was sent twice
[ "$(topic_count "$topic")" -eq 100 ] || fail "lines were sent again"
pass
