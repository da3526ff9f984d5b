#!/usr/bin/env bash
# The HTTP API against the real broker.  20,000 lines are shipped through
# a grep that drops 2,000: /metrics passes promtool, and its counters add
# up exactly (read = delivered + dropped, nothing in flight, no lag);
# /health, /ready and /api/v1/pipelines say what runs.  Bad requests get
# 4xx (405, 404, 431, 413, 400; 505 for HTTP/9.9; no answer to what is
# not HTTP at all) and idle connections are closed, while
# shipping goes on.  /ready is 503 for an output that has not reached its
# brokers, and for a pipeline held by back-pressure past ready_max_paused.
# A port in use is an error at start (exit 1).
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool is missing (scripts/setup.sh installs prometheus)"
probe_py=$LOGSHIP_SRC/tests/e2e/http_probe.py
port=$(python3 "$probe_py" free-port)
probe() { python3 "$probe_py" "$port" "$@"; }
status_of() { probe get "$1" | head -n 1; }
answers() { [ "$(status_of "$1")" = "$2" ]; }
metric() { # name{labels} from $work/metrics.txt
    awk -v k="$1" '$1 == k { print $2 }' "$work/metrics.txt"
}

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
cat >"$work/p.yaml" <<YAML
service:
  log_level: info
  state_dir: "$work/state"
  http: {listen: "127.0.0.1:$port", timeout: 2s}
pipelines:
  p:
    inputs:
      - {type: tail, paths: ["$work/logs/*.log"]}
    filters:
      - {type: grep, exclude: {body: "^drop"}}
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: raw}
YAML
start_logship "$work/p.yaml"
wait_for 10 "the HTTP API" answers /health 200
log_has "HTTP API on http://127.0.0.1:$port" || fail "the address is not logged"

python3 - "$work/logs/app.log" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(20000):
        f.write(('drop-%05d\n' if i % 10 == 0 else 'keep-%05d\n') % i)
PY
wait_exact 30 "$topic" 18000
settled() {
    probe get /metrics | tail -n +2 >"$work/metrics.txt"
    [ "$(metric 'logship_output_records_delivered_total{pipeline="p",output="kafka"}')" = 18000 ] &&
        [ "$(metric 'logship_tail_lag_bytes{pipeline="p",input="tail"}')" = 0 ]
}
wait_for 20 "the counters settled" settled
[ "$(status_of /metrics)" = 200 ] || fail "/metrics did not answer 200"
promtool check metrics <"$work/metrics.txt" >"$work/promtool.out" 2>&1 ||
    { cat "$work/promtool.out" >&2; fail "promtool check metrics failed"; }
read_n=$(metric 'logship_input_records_total{pipeline="p",input="tail"}')
dropped=$(metric 'logship_filter_dropped_records_total{pipeline="p",filter="grep"}')
delivered=$(metric 'logship_output_records_delivered_total{pipeline="p",output="kafka"}')
inflight=$(metric 'logship_output_inflight_records{pipeline="p",output="kafka"}')
[ "$read_n" = 20000 ] || fail "input_records_total is $read_n, want 20000"
[ "$dropped" = 2000 ] || fail "filter_dropped_records_total is $dropped, want 2000"
[ $((delivered + dropped)) -eq "$read_n" ] ||
    fail "delivered $delivered + dropped $dropped != read $read_n"
[ "$inflight" = 0 ] || fail "inflight is $inflight"
[ "$(metric 'logship_output_delivery_failures_total{pipeline="p",output="kafka"}')" = 0 ] ||
    fail "delivery failures counted"
[ "$(metric 'logship_input_bytes_total{pipeline="p",input="tail"}')" = 200000 ] ||
    fail "input_bytes_total is not the 20000 bodies of 10 bytes"
[ "$(metric 'logship_tail_files_open{pipeline="p",input="tail"}')" = 1 ] || fail "files_open"
[ "$(metric 'logship_pipeline_paused{pipeline="p"}')" = 0 ] || fail "paused"
grep -q '^logship_build_info{version="[0-9.]*",librdkafka="2\.' "$work/metrics.txt" ||
    fail "no build_info"
for m in process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
    process_start_time_seconds logship_checkpoint_lag_seconds; do
    grep -q "^$m" "$work/metrics.txt" || fail "no $m"
done

probe get /ready >"$work/ready.txt"
[ "$(head -n 1 "$work/ready.txt")" = 200 ] || fail "/ready is not 200: $(cat "$work/ready.txt")"
grep -q '"ready":true' "$work/ready.txt" || fail "/ready does not say ready"
probe get /api/v1/pipelines | tail -n +2 >"$work/pipelines.json"
python3 - "$work/pipelines.json" "$work/logs/app.log" <<'PY' || fail "/api/v1/pipelines is wrong"
import json, os, sys
doc = json.load(open(sys.argv[1]))
p, = doc['pipelines']
assert p['name'] == 'p' and p['paused'] is False, p
tail, = p['inputs']
assert tail['type'] == 'tail' and tail['records'] == 20000, tail
f, = tail['files']
size = os.path.getsize(sys.argv[2])
assert f['path'] == sys.argv[2], f
assert f['size'] == size and f['read_offset'] == size, f
assert f['committed_offset'] == size, f
assert f['identity']['inode'] == os.stat(sys.argv[2]).st_ino, f
grep, = p['filters']
assert grep['dropped'] == 2000, grep
out, = p['outputs']
assert out['delivered'] == 18000 and out['inflight'] == 0, out
assert out['failures'] == 0 and out['last_error'] is None, out
assert p['checkpoint']['entries'] == 1, p['checkpoint']
PY

# bad requests: a 4xx each, and nothing else changes
printf 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' >"$work/req"
[ "$(probe raw <"$work/req")" = 405 ] || fail "POST /metrics is not 405"
[ "$(status_of /nope)" = 404 ] || fail "GET /nope is not 404"
[ "$(status_of '/metrics/../../etc/passwd')" = 404 ] || fail "a path outside is not 404"
python3 -c 'import sys; sys.stdout.write("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 20000 + "\r\n\r\n")' >"$work/req"
[ "$(probe raw <"$work/req")" = 431 ] || fail "20 KB of headers is not 431"
python3 -c 'import sys; sys.stdout.write("POST /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + "b" * 5000)' >"$work/req"
[ "$(probe raw <"$work/req")" = 413 ] || fail "a 5000-byte body is not 413"
printf 'GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n' >"$work/req"
[ "$(probe raw <"$work/req")" = 400 ] || fail "a malformed header is not 400"
printf 'GET /metrics HTTP/9.9\r\n\r\n' >"$work/req"
[ "$(probe raw <"$work/req")" = 505 ] || fail "HTTP/9.9 is not 505"
# bytes that are no HTTP at all: the connection is closed, unanswered
printf '\x00\xffGARBAGE\r\n\r\n' >"$work/req"
st=$(probe raw <"$work/req")
[ "$st" = 0 ] || fail "a garbage request line got $st"
# idle connections (more than the 8 one address may have) while lines ship
probe hold 20 3 >"$work/held.txt" &
holder=$!
sleep 0.5
seq -f "late-%05g" 1 1000 >>"$work/logs/app.log"
wait_exact 30 "$topic" 19000
wait "$holder"
[ "$(cat "$work/held.txt")" -ge 1 ] || fail "no idle connection was opened"
# a request cut short: closed after the 2 s timeout, the server goes on
python3 - "$port" <<'PY' || fail "a stalled request was not closed"
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), 5)
s.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n')
t0 = time.time()
s.settimeout(10)
while s.recv(4096):
    pass
assert time.time() - t0 < 6, time.time() - t0
PY
wait_for 10 "the API after the abuse" answers /health 200
kill -0 "$lsh_pid" 2>/dev/null || fail "logship died"

# a second instance on the same port: exit 1, the reason named
cat >"$work/dup.yaml" <<YAML
service: {state_dir: "$work/state-dup", http: {listen: "127.0.0.1:$port"}}
pipelines:
  p:
    inputs: [{type: stdin}]
    outputs: [{type: null}]
YAML
set +e
logship -c "$work/dup.yaml" </dev/null >/dev/null 2>"$work/dup.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a port in use gave exit $rc, want 1"
grep -q "cannot serve the HTTP API on 127.0.0.1:$port" "$work/dup.err" ||
    fail "the port in use is not named: $(cat "$work/dup.err")"

stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"

# not ready: an output that has not reached its brokers
port2=$(python3 "$probe_py" free-port)
cat >"$work/down.yaml" <<YAML
service: {state_dir: "$work/state-down", shutdown_timeout: 1s,
          http: {listen: "$port2"}}
pipelines:
  p:
    inputs: [{type: tail, paths: ["$work/none/*.log"]}]
    outputs: [{type: kafka, brokers: "127.0.0.1:1", topic: t}]
YAML
"$LOGSHIP" -c "$work/down.yaml" >/dev/null 2>"$work/down.err" &
down=$!
helper_pids="$down"
answers2() { [ "$(python3 "$probe_py" "$port2" get "$1" | head -n 1)" = "$2" ]; }
wait_for 10 "the second API" answers2 /health 200
python3 "$probe_py" "$port2" get /ready >"$work/ready2.txt"
[ "$(head -n 1 "$work/ready2.txt")" = 503 ] || fail "/ready with no broker is not 503"
grep -q 'p/output.kafka: has not reached its brokers yet' "$work/ready2.txt" ||
    fail "the reason is not given: $(cat "$work/ready2.txt")"
kill -KILL "$down"

# not ready: a pipeline held by back-pressure (stdout nobody reads)
port3=$(python3 "$probe_py" free-port)
mkfifo "$work/fifo"
exec 7<>"$work/fifo" # a reader that never reads: the pipe fills
seq -f "held-%06g" 1 200000 >"$work/held.log"
cat >"$work/held.yaml" <<YAML
service: {state_dir: "$work/state-held",
          http: {listen: "$port3", ready_max_paused: 1s}}
pipelines:
  p:
    inputs: [{type: tail, paths: ["$work/held.log"]}]
    outputs: [{type: stdout, format: raw}]
YAML
# a blocking pipe: logship's loop must not wait on it (the API answers)
"$LOGSHIP" -c "$work/held.yaml" >"$work/fifo" 2>"$work/held.err" &
held=$!
helper_pids="$held"
paused_long() {
    python3 "$probe_py" "$port3" get /ready >"$work/ready3.txt"
    [ "$(head -n 1 "$work/ready3.txt")" = 503 ]
}
wait_for 15 "/ready 503 while held" paused_long
grep -q "pipeline 'p' has been held by back-pressure" "$work/ready3.txt" ||
    fail "the reason is not given: $(cat "$work/ready3.txt")"
python3 "$probe_py" "$port3" get /metrics >"$work/metrics3.txt"
grep -q '^logship_pipeline_paused{pipeline="p"} 1$' "$work/metrics3.txt" ||
    fail "logship_pipeline_paused is not 1"
kill -KILL "$held"
exec 7<&-
pass
