#!/usr/bin/env bash
# copytruncate copies and restarts, each line exactly once.
# A: exactly_once, kill -9.  app.log is renamed to app.log.0 (still
#    followed, rotate_wait 60s), then the new app.log is copied to
#    app.log.1 and truncated, everything read.  After kill -9 the start-up
#    recovers app.log.0 and reads whole the later rotations of app.log that
#    no checkpoint knows: app.log.1 must be known (its content was read), or
#    its lines arrive twice.
# B: at-least-once, kill -9 with every record still out (linger_ms 5000).
#    Polled (no inotify), so the copy holds more than was read when the
#    truncation is seen: the old content's entry is at offset 0 and the
#    copy's own entry where the reader had stopped.  At the restart both
#    resolve to the copy: it must be read once, from the lower offset (read
#    from the higher one, the lines before it would be lost).
# C: at-least-once, copytruncate with every line read and none acknowledged
#    yet (linger_ms 3000): the copy's entry, done once the last ack is in,
#    must be at the end of what was read, not where the acks stood at the
#    truncation (a restart would read the copy again from there).
# D: at-least-once, while logship is down app.log is copied and truncated,
#    the copy removed, new lines written, and app.log renamed to app.log.1:
#    the entry's content is nowhere, its inode holds content no entry knows.
#    That rotation must be read whole.
. "$(dirname "$0")/lib.sh"

scenario() { # name: a topic, $logs, no checkpoints yet
    topic=$(unique_topic)
    create_topic "$topic" 1
    logs=$work/$1
    mkdir -p "$logs"
    rm -rf "$work/state"
}

# --- A --------------------------------------------------------------------
scenario a
: >"$logs/app.log"
tail_config "$work/a.yaml" "$topic" "[\"$logs/app.log\"]" "rotate_wait: 60s"
eos_output "$work/a.yaml" "$topic"
start_logship "$work/a.yaml"
wait_for 30 "exactly_once ready" log_has "exactly_once as '"
seq -f "A%03g" 1 50 >>"$logs/app.log"
wait_for 20 "50 committed" committed "$topic" 50
mv "$logs/app.log" "$logs/app.log.0"
seq -f "B%03g" 1 50 >"$logs/app.log"
wait_for 20 "100 committed" committed "$topic" 100
sleep 0.05 # (a later modification time than app.log.0's)
cp "$logs/app.log" "$logs/app.log.1"
truncate -s 0 "$logs/app.log"
seq -f "C%03g" 1 50 >>"$logs/app.log"
wait_for 20 "150 committed" committed "$topic" 150
sleep 0.5
kill9_logship
cp "$work/logship.err" "$work/a-1.err"
start_logship "$work/a.yaml"
wait_for 30 "exactly_once ready again" log_has "exactly_once as '"
sleep 2 # a copy read again would be committed by now
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "A: logship exited $lsh_rc"
{ seq -f "A%03g" 1 50; seq -f "B%03g" 1 50; seq -f "C%03g" 1 50; } >"$work/want-a.txt"
check_exactly_once "$topic" "$work/want-a.txt"

# --- B --------------------------------------------------------------------
scenario b
seq -f "D%03g" 1 100 >"$logs/app.log"
tail_config "$work/b.yaml" "$topic" "[\"$logs/app.log\"]" \
    "poll_interval: 1s" "rotate_wait: 60s"
sed "s|format: raw}|format: raw, linger_ms: 5000}|" "$work/b.yaml" >"$work/b-slow.yaml"
start_logship_nowatch "$work/b-slow.yaml"
wait_for 10 "the file opened" log_has "app.log"
sleep 0.5
# more lines, then copied and truncated at once: between two polls
python3 - "$logs" <<'PY'
import os, shutil, sys
d = sys.argv[1]
with open(d + '/app.log', 'a') as f:
    f.write(''.join('E%03d\n' % i for i in range(1, 101)))
shutil.copyfile(d + '/app.log', d + '/app.log.1')
os.truncate(d + '/app.log', 0)
PY
wait_for 10 "the copy's rest read" log_has "and truncated: reading the rest of the copy"
sleep 0.5 # its checkpoint entries journaled (checkpoint_delay)
[ "$(topic_count "$topic")" -eq 0 ] || fail "B: records arrived before the kill (linger_ms 5000)"
kill9_logship
cp "$work/logship.err" "$work/b-1.err"
start_logship "$work/b.yaml"
{ seq -f "D%03g" 1 100; seq -f "E%03g" 1 100; } >"$work/want-b.txt"
wait_exact 20 "$topic" 200
check_topic exact "$topic" "$work/want-b.txt"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "B: logship exited $lsh_rc"

# --- C --------------------------------------------------------------------
scenario c
: >"$logs/app.log"
tail_config "$work/c.yaml" "$topic" "[\"$logs/app.log\"]"
sed "s|format: raw}|format: raw, linger_ms: 3000}|" "$work/c.yaml" >"$work/c-slow.yaml"
start_logship "$work/c-slow.yaml"
wait_for 10 "the file followed" log_has "following"
seq -f "F%03g" 1 100 >>"$logs/app.log"
sleep 0.5 # read, not acknowledged (linger_ms 3000)
cp "$logs/app.log" "$logs/app.log.1"
truncate -s 0 "$logs/app.log"
wait_exact 20 "$topic" 100
sleep 0.5 # the done entry saved (checkpoint_delay)
stop_logship TERM 20
start_logship "$work/c.yaml"
wait_for 10 "started again" log_has "following"
sleep 2 # a copy read again would have arrived by now
seq -f "F%03g" 1 100 >"$work/want-c.txt"
check_topic exact "$topic" "$work/want-c.txt"
stop_logship TERM 20

# --- D --------------------------------------------------------------------
scenario d
seq -f "G%03g" 1 100 >"$logs/app.log"
tail_config "$work/d.yaml" "$topic" "[\"$logs/app.log\"]"
start_logship "$work/d.yaml"
wait_exact 20 "$topic" 100
sleep 0.5
kill9_logship
cp "$logs/app.log" "$logs/app.log.1"
truncate -s 0 "$logs/app.log"
rm "$logs/app.log.1"
seq -f "H%03g" 1 20 >>"$logs/app.log"
mv "$logs/app.log" "$logs/app.log.1"
start_logship "$work/d.yaml"
{ seq -f "G%03g" 1 100; seq -f "H%03g" 1 20; } >"$work/want-d.txt"
wait_exact 20 "$topic" 120
check_topic exact "$topic" "$work/want-d.txt"
log_has "was truncated or rewritten while logship was down, then rotated" ||
    fail "D: the rewritten rotation was not reported"
stop_logship TERM 20
pass
