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
ckpt_at "$good" "$work/logs/a.log" 292 || fail "checkpoint offset is not 292: $(cat "$good")"
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

# an unreadable checkpoint (here a directory) is an I/O problem: exit 1,
# "cannot read", never "corrupt"
mv "$good" "$work/aside.ckpt"
mkdir "$good"
set +e
"$LOGSHIP" -c "$work/p.yaml" >/dev/null 2>"$work/err.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "unreadable checkpoint: exit status $rc, want 1"
grep -q "cannot read checkpoint file '$good': not a regular file" "$work/err.txt" ||
    fail "unreadable: message missing: $(cat "$work/err.txt")"
grep -q "corrupt checkpoint file" "$work/err.txt" && fail "unreadable reported as corrupt"
rmdir "$good"
mv "$work/aside.ckpt" "$good"

# an old (version 1) checkpoint is read: the upgrade loses no offset
python3 - "$good" "$work/v1.ckpt" <<'PY'
import sys, zlib
src, dst = sys.argv[1], sys.argv[2]
lines = open(src).read().splitlines()
body = "logship-checkpoint 1\n"
n = 0
for l in lines[1:-1]:
    f = l.split(" ")
    # v2: dev ino flags fp_len fp_hash offset end_len end_hash seen path
    body += " ".join([f[0], f[1], f[3], f[4], f[5], f[9]]) + "\n"
    n += 1
body += "end %d %08x\n" % (n, zlib.crc32(body.encode()) & 0xffffffff)
open(dst, "w").write(body)
PY
cp "$good" "$work/good.ckpt"
cp "$work/v1.ckpt" "$good"
start_logship "$work/p.yaml"
wait_for 10 "resumed from a version 1 checkpoint" log_has "resuming at offset 292"
stop_logship TERM 20
head -1 "$good" | grep -qx "logship-checkpoint 2" || fail "not written back as version 2"
ckpt_at "$good" "$work/logs/a.log" 292 || fail "offset lost in the upgrade: $(cat "$good")"
cp "$work/good.ckpt" "$good"
: >"$work/logship.err"

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
