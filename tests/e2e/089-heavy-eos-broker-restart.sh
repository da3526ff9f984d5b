#!/usr/bin/env bash
# delivery: exactly_once while the broker is stopped and started twice
# under load: the transactions open then abort (or time out), the pipeline
# reads again from the last committed offsets, and a read_committed
# consumer sees every line exactly once.
. "$(dirname "$0")/lib.sh"

use_private_broker 19192
topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]"
eos_output "$work/p.yaml" "$topic"
start_logship "$work/p.yaml"
python3 - "$work/logs/app.log" >"$work/writer.out" 2>&1 <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for seq in range(0, 100000, 100):
    os.write(fd, ''.join('X%06d\n' % i for i in range(seq, seq + 100)).encode())
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
wait_for 120 "every line committed" committed "$topic" 100000
sleep 1
kill -0 "$lsh_pid" || fail "logship died during the outage"
stop_logship TERM 30
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
seq -f "X%06g" 0 99999 >"$work/want.txt"
check_exactly_once "$topic" "$work/want.txt"
echo "two broker restarts, exactly_once: 100000 lines, each once;" \
    "$(grep -c "starts again from its committed offsets" "$work/logship.err") pipeline restarts"
pass
