#!/usr/bin/env bash
# A corrupt or truncated checkpoint file stops logship with exit status 2,
# naming the file; a missing one is a fresh start; a leftover temporary
# file (a crash while writing) is ignored.  A second logship on the same
# state_dir is refused.  The journal: what a kill -9 leaves is replayed;
# a torn last record is dropped; a bad record before a good one, or a
# journal newer than its snapshot, is corrupt (exit 2, the journal named).
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

# an old (version 1) checkpoint, which had no journal, is read: the
# upgrade loses no offset
python3 - "$good" "$work/v1.ckpt" <<'PY'
import sys, zlib
src, dst = sys.argv[1], sys.argv[2]
lines = open(src).read().splitlines()
body = "logship-checkpoint 1\n"
n = 0
for l in lines[1:-1]:
    f = l.split(" ")
    # v2: id dev ino flags fp_len fp_hash offset end_len end_hash seen path
    body += " ".join([f[1], f[2], f[4], f[5], f[6], f[10]]) + "\n"
    n += 1
body += "end %d %08x\n" % (n, zlib.crc32(body.encode()) & 0xffffffff)
open(dst, "w").write(body)
PY
journal="$work/state/p.journal"
cp "$good" "$work/good.ckpt"
cp "$journal" "$work/good.journal"
cp "$work/v1.ckpt" "$good"
rm "$journal"
start_logship "$work/p.yaml"
wait_for 10 "resumed from a version 1 checkpoint" log_has "resuming at offset 292"
stop_logship TERM 20
head -1 "$good" | grep -qE "^logship-checkpoint 2 [0-9]+$" || fail "not written back as version 2"
ckpt_at "$good" "$work/logs/a.log" 292 || fail "offset lost in the upgrade: $(cat "$good")"
cp "$work/good.ckpt" "$good"
cp "$work/good.journal" "$journal"
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

# --- the journal -------------------------------------------------------
# acks after the last snapshot live in the journal; a kill -9 leaves them
# there (no compaction), and the next start replays them
seq 101 200 >>"$work/logs/a.log"
start_logship "$work/p.yaml"
wait_for 20 "200 lines" topic_has "$topic" 200
wait_for 10 "offset 692 journaled" ckpt_at "$good" "$work/logs/a.log" 692
stop_logship KILL
grep -q " 292 " "$good" || fail "the snapshot changed without a compaction: $(cat "$good")"
grep -qE '^[OE] .* 692 ' "$journal" || fail "no record of offset 692: $(cat "$journal")"
cp "$journal" "$work/journal.good"
cp "$good" "$work/ckpt.killed"

# a torn last record (a crash in mid-append) is dropped: resumes at 692
printf 'O 1 99' >>"$journal"
: >"$work/logship.err"
start_logship "$work/p.yaml"
wait_for 10 "resumed from the journal" log_has "resuming at offset 692"
log_has "the journal's last record was torn by a crash; dropped" || fail "torn tail not reported"
stop_logship TERM 20
[ "$(topic_count "$topic")" -eq 200 ] || fail "lines were sent again after the journal"

expect_journal_corrupt() { # description, why-text
    set +e
    "$LOGSHIP" -c "$work/p.yaml" >/dev/null 2>"$work/err.txt"
    local rc=$?
    set -e
    [ "$rc" -eq 2 ] || fail "$1: exit status $rc, want 2"
    grep -q "corrupt checkpoint journal '$journal' (line [0-9]*: $2)" "$work/err.txt" ||
        fail "$1: message missing: $(cat "$work/err.txt")"
}
# the state as the kill left it, then a bad record before a good one
cp "$work/ckpt.killed" "$good"
python3 - "$work/journal.good" "$journal" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines(keepends=True)
bad = lines[1].replace(" ", "  ", 1)  # damaged: its CRC no longer matches
open(sys.argv[2], "w").write("".join([lines[0], bad] + lines[1:]))
PY
expect_journal_corrupt "a bad record in the middle" "CRC mismatch"
# a journal newer than its snapshot: the snapshot was replaced or lost
sed '1s/.*/logship-journal 1 999/' "$work/journal.good" >"$journal"
expect_journal_corrupt "newer than its snapshot" "newer than its checkpoint file"
rm "$good"
expect_journal_corrupt "snapshot gone, journal left" "newer than its checkpoint file"
# --checkpoints shows the snapshot with its journal replayed
cp "$work/ckpt.killed" "$good"
cp "$work/journal.good" "$journal"
shown=$("$LOGSHIP" --checkpoints "$work/state")
echo "$shown" | grep -q "^# pipeline p: 1 entry (snapshot generation [0-9]*, [1-9][0-9]* journal records)" ||
    fail "--checkpoints: $shown"
ckpt_at "$good" "$work/logs/a.log" 692 || fail "--checkpoints: $shown"
pass
