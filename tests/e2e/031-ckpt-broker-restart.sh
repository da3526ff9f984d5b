#!/usr/bin/env bash
# The broker is stopped and started twice while lines are written: nothing
# is lost, and logship keeps running through it.
. "$(dirname "$0")/lib.sh"

use_private_broker 19092
topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]"
start_logship "$work/p.yaml"
python3 - "$work/logs/app.log" >"$work/writer.out" 2>&1 <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for seq in range(0, 100000, 100):
    os.write(fd, ''.join('B%06d\n' % i for i in range(seq, seq + 100)).encode())
    time.sleep(0.01)
PY
writer=$!
for round in 1 2; do
    sleep 2
    broker_down
    sleep 3
    broker_up
done
wait "$writer"
wait_for 120 "100000 messages" topic_has "$topic" 100000
sleep 1
consume "$topic" >"$work/got.txt"
seq -f "B%06g" 0 99999 >"$work/want.txt"
python3 - "$work/got.txt" "$work/want.txt" <<'PY'
import sys
got = open(sys.argv[1]).read().split('\n')[:-1]
want = open(sys.argv[2]).read().split('\n')[:-1]
missing = set(want) - set(got)
if missing:
    sys.exit('LOST %d lines, e.g. %s' % (len(missing), sorted(missing)[:5]))
print('two broker restarts: %d records for %d lines, %d duplicates'
      % (len(got), len(want), len(got) - len(want)))
PY
kill -0 "$lsh_pid" || fail "logship died during the outage"
stop_logship TERM 30
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
