#!/usr/bin/env bash
# With no broker reachable, SIGTERM still ends logship within
# shutdown_timeout (plus a margin), saying records were not delivered; a
# second SIGTERM ends it at once.
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/logs"
seq 1 1000 >"$work/logs/x.log"
cat >"$work/p.yaml" <<YAML
service: {shutdown_timeout: 2s, state_dir: "$work/state"}
pipelines:
  app:
    inputs: [{type: tail, paths: ["$work/logs/x.log"]}]
    outputs:
      # nothing listens on port 1
      - {type: kafka, brokers: "127.0.0.1:1", topic: nowhere}
YAML
start_logship "$work/p.yaml"
wait_for 10 "logship follows the file" log_has "following"
sleep 0.5
start=$(date +%s%N)
stop_logship TERM 10
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$lsh_rc" -eq 0 ] || fail "exit status $lsh_rc"
[ "$elapsed" -ge 1800 ] || fail "exited after ${elapsed} ms, before shutdown_timeout"
[ "$elapsed" -le 6000 ] || fail "took ${elapsed} ms to exit, shutdown_timeout is 2s"
log_has "shutdown_timeout passed" || fail "no shutdown_timeout warning"
log_has "1000 records not acknowledged at exit" || fail "no count of undelivered records"

# a second signal does not wait
: >"$work/logship.err"
sed -i 's/shutdown_timeout: 2s/shutdown_timeout: 60s/' "$work/p.yaml"
start_logship "$work/p.yaml"
wait_for 10 "logship follows the file" log_has "following"
kill -TERM "$lsh_pid"
wait_for 5 "first SIGTERM handled" log_has "SIGTERM: stopping inputs"
start=$(date +%s%N)
stop_logship TERM 10
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed" -le 3000 ] || fail "second SIGTERM took ${elapsed} ms"
log_has "SIGTERM again: exiting now" || fail "second SIGTERM not reported"
pass
