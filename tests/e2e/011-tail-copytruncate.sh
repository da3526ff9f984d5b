#!/usr/bin/env bash
# copytruncate: the file is copied aside and truncated in place; logship
# sees the size drop below its offset and reads again from the start.
# Also the hard case: truncated and rewritten past the old offset before
# logship looks, caught by the changed first bytes.  The copies do not
# match the glob.  Lines written before a truncation were shipped before
# it (the test waits), so exactly every line arrives once.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
: >"$work/logs/app.log"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]"
start_logship "$work/p.yaml"
wait_for 10 "logship follows app.log" log_has "following '$work/logs/app.log'"

lines() { # first count prefix
    seq -f "$3-%06g" "$1" $(($1 + $2 - 1))
}
lines 1 1000 a >>"$work/logs/app.log"
wait_for 30 "1000 messages" topic_has "$topic" 1000
cp "$work/logs/app.log" "$work/logs/app.log.1"
truncate -s 0 "$work/logs/app.log"
lines 1 500 b >>"$work/logs/app.log"
wait_for 30 "1500 messages" topic_has "$topic" 1500

# truncated and rewritten with more than before, in one go
python3 - "$work/logs/app.log" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, ''.join('c-%06d\n' % i for i in range(1, 3001)).encode())
os.close(fd)
PY
wait_exact 30 "$topic" 4500
{ lines 1 1000 a; lines 1 500 b; lines 1 3000 c; } >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
[ "$(grep -c 'was truncated' "$work/logship.err")" -eq 2 ] ||
    fail "want 2 truncations logged"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
