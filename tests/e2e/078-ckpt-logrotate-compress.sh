#!/usr/bin/env bash
# Debian's logrotate with its defaults (create, compress, no
# delaycompress) rotates app.log three times while logship is stopped:
# the unread end of the checkpointed file now lives only inside
# app.log.3.gz, and app.log.2.gz and app.log.1.gz hold files logship never
# saw.  On start the checkpointed content is found in the .gz by its
# fingerprint and end hash, its rest is read from the stream, the later
# rotations are read whole, and the new app.log from its start: nothing
# lost, nothing twice.  Then the same after kill -9 with lines in flight:
# nothing lost.
. "$(dirname "$0")/lib.sh"

command -v logrotate >/dev/null || fail "logrotate is not installed (scripts/setup.sh)"
topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]"
cat >"$work/lr.conf" <<CONF
$work/logs/app.log {
    rotate 20
    create
    compress
    missingok
}
CONF
rotate() { logrotate -f -s "$work/lr.state" "$work/lr.conf"; }
f=$work/logs/app.log
seq -f "one-%04g" 1 100 >"$f"
start_logship "$work/p.yaml"
wait_for 20 "100 lines" topic_has "$topic" 100
stop_logship TERM 20
seq -f "one-%04g" 101 150 >>"$f" # the unread rest of the checkpointed file
rotate
seq -f "two-%04g" 1 30 >>"$f"
rotate
seq -f "three-%04g" 1 20 >>"$f"
rotate
seq -f "four-%04g" 1 10 >>"$f"
ls "$work/logs" | sort | tr '\n' ' '
echo
[ -f "$work/logs/app.log.3.gz" ] || fail "logrotate did not compress as expected"
start_logship "$work/p.yaml"
wait_exact 30 "$topic" 210
{
    seq -f "one-%04g" 1 150
    seq -f "two-%04g" 1 30
    seq -f "three-%04g" 1 20
    seq -f "four-%04g" 1 10
} >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
log_has "rotated to '$work/logs/app.log.3.gz' while logship was down" ||
    fail "the checkpointed file was not found in its compressed rotation"
log_has "reading '$work/logs/app.log.1.gz' whole" || fail "a later rotation was not read"

# kill -9 while lines are written, then rotate twice while down
seq -f "five-%05g" 1 3000 >>"$f" &
writer=$!
sleep 0.3
kill9_logship
wait "$writer"
rotate
seq -f "six-%04g" 1 40 >>"$f"
rotate
start_logship "$work/p.yaml"
seq -f "seven-%04g" 1 5 >>"$f"
{
    cat "$work/want.txt"
    seq -f "five-%05g" 1 3000
    seq -f "six-%04g" 1 40
    seq -f "seven-%04g" 1 5
} >"$work/want2.txt"
wait_for 30 "every line" topic_has "$topic" "$(wc -l <"$work/want2.txt")"
sleep 1
consume "$topic" | sort -u >"$work/got2.txt"
sort -u "$work/want2.txt" | comm -23 - "$work/got2.txt" >"$work/missing.txt"
[ ! -s "$work/missing.txt" ] || fail "$(wc -l <"$work/missing.txt") lines lost, e.g. $(head -3 "$work/missing.txt" | tr '\n' ' ')"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
grep -E "rotated|whole|resuming|gone" "$work/logship.err" | sed "s/.*input.tail: //" >&2
pass
