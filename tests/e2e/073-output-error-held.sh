#!/usr/bin/env bash
# An output that fails does not count as delivered.  A stdout output that
# writes to /dev/full fails every flush: its records keep their tickets,
# so the checkpoint stays at 0; the flush is tried again with backoff, and
# the error is logged.  Stopped, logship exits without claiming delivery,
# and a restart with a working stdout sends all 1000 lines.
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/logs"
seq -f "line-%04g" 1 1000 >"$work/logs/a.log"
cat >"$work/p.yaml" <<YAML
service: {log_level: info, state_dir: "$work/state",
          shutdown_timeout: 1s}
pipelines:
  p:
    inputs: [{type: tail, paths: ["$work/logs/*.log"]}]
    outputs: [{type: stdout, format: raw}]
YAML
# shellcheck disable=SC2086
$LOGSHIP_WRAPPER "$LOGSHIP" -c "$work/p.yaml" >/dev/full 2>"$work/logship.err" &
lsh_pid=$!
wait_for 10 "the output failed" log_has "output failed (1 times in a row)"
tries() { [ "$(grep -c "write to stdout: No space left on device" "$work/logship.err")" -ge "$1" ]; }
wait_for 10 "the flush tried again with backoff" tries 3
stop_logship TERM 20
log_has "everything read was delivered" && fail "claimed delivery after a failed output"
off=$(ckpt_offset "$work/state/p.ckpt" "$work/logs/a.log")
[ "$off" = 0 ] || fail "the checkpoint passed records that were never written: offset '$off'"
mv "$work/logship.err" "$work/first.err"
start_logship "$work/p.yaml"
out_has() { [ "$(wc -l <"$work/logship.out")" -ge "$1" ]; }
wait_for 20 "all 1000 lines" out_has 1000
sleep 0.5
seq -f "line-%04g" 1 1000 >"$work/want.txt"
python3 "$LOGSHIP_SRC/tests/e2e/check.py" exact "$work/logship.out" "$work/want.txt" ||
    fail "the restart did not send every line exactly once"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
