#!/usr/bin/env bash
# At the end of stdin logship waits for every record to be acknowledged:
# stdin cannot be read again.  With the broker down, `seq 1 1000 | logship`
# does not exit by itself (shutdown_timeout does not count); when the
# broker comes back, all 1000 arrive and it exits 0.  Given up by a signal,
# it exits non-zero and says how many records were lost, never that a
# restart would send them.
. "$(dirname "$0")/lib.sh"

use_private_broker 19392
topic=$(unique_topic)
create_topic "$topic" 1
cat >"$work/p.yaml" <<YAML
service: {log_level: info, state_dir: "$work/state", shutdown_timeout: 2s}
pipelines:
  p:
    inputs: [{type: stdin}]
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: raw,
         message_timeout_ms: 1000, redeliver_backoff: 200ms,
         redeliver_backoff_max: 1s}
YAML
broker_down
seq -f "line-%04g" 1 1000 >"$work/in.txt"
"$LOGSHIP" -c "$work/p.yaml" <"$work/in.txt" >/dev/null 2>"$work/logship.err" &
lsh_pid=$!
wait_for 10 "stdin read to its end" log_has "every input has finished"
sleep 4 # twice shutdown_timeout: it must still be waiting
kill -0 "$lsh_pid" 2>/dev/null || fail "logship exited while records were not acknowledged"
broker_up
wait_for 60 "logship exits once all is delivered" sh -c "! kill -0 $lsh_pid"
set +e
wait "$lsh_pid"
rc=$?
set -e
lsh_pid=
[ "$rc" -eq 0 ] || fail "exit status $rc after delivering everything, want 0"
wait_exact 20 "$topic" 1000
check_topic exact "$topic" "$work/in.txt"

# given up by a signal: exit status 1, and the loss is named
broker_down
"$LOGSHIP" -c "$work/p.yaml" <"$work/in.txt" >/dev/null 2>"$work/logship.err" &
lsh_pid=$!
wait_for 10 "stdin read to its end" log_has "every input has finished"
stop_logship TERM 20
[ "$lsh_rc" -eq 1 ] || fail "exit status $lsh_rc after giving up, want 1"
log_has "1000 records read from stdin were not delivered; they cannot be read again" ||
    fail "the loss is not named"
log_has "read again after a restart" && fail "claims a restart would resend stdin"
pass
