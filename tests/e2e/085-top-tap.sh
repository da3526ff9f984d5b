#!/usr/bin/env bash
# `logship tap` and `logship top` on a running pipeline (tail, parse,
# grep, Kafka) while lines are written.  tap shows records as they are
# after the input and after each filter; taps running all along change
# nothing that is delivered (every line arrives once).  top, in tmux,
# shows the pipeline with a non-zero rate, and exits on q.  A tap still
# waiting at shutdown is answered, and logship exits cleanly.
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || fail "tmux is missing (scripts/setup.sh installs it)"
probe_py=$LOGSHIP_SRC/tests/e2e/http_probe.py
port=$(python3 "$probe_py" free-port)
topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
cat >"$work/p.yaml" <<YAML
service:
  log_level: info
  state_dir: "$work/state"
  http: {listen: "127.0.0.1:$port"}
pipelines:
  p:
    inputs:
      - {type: tail, paths: ["$work/logs/app.log"]}
    filters:
      - {type: parse, regex: '^(?<n>[0-9]+) (?<word>[a-z]+)$'}
      - {type: grep, exclude: {word: "^drop"}}
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: raw}
YAML
start_logship "$work/p.yaml"
wait_for 10 "logship started" log_has "logship 0.1.0 started"
python3 - "$work/logs/app.log" "$work/logs/STOP" >"$work/writer.out" 2>&1 <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
i = 0
while not os.path.exists(sys.argv[2]):
    os.write(fd, ''.join('%d %s\n' % (j, 'drop' if j % 4 == 0 else 'keep')
                         for j in range(i, i + 20)).encode())
    i += 20
    time.sleep(0.01)
print(i)
PY
writer=$!
helper_pids=$writer

# taps all along, at every stage: they must change nothing delivered
(while [ ! -e "$work/logs/STOP" ]; do
    for after in input 1 2; do
        # (bounded: once the writer stops, a tap waits for records for good)
        timeout 5 "$LOGSHIP" tap p -c "$work/p.yaml" --after "$after" --limit 50 \
            >/dev/null 2>&1 || true
    done
done) &
tapper=$!
helper_pids="$writer $tapper"

logship tap p -c "$work/p.yaml" --after input --limit 40 >"$work/tap-input.txt"
[ "$(wc -l <"$work/tap-input.txt")" -eq 40 ] || fail "tap --limit 40 gave $(wc -l <"$work/tap-input.txt") lines"
python3 - "$work/tap-input.txt" <<'PY' || fail "the input tap is wrong"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert all('word' not in r for r in recs), 'fields before parse'
assert any(r['body'].endswith(' drop') for r in recs), 'no drop line before grep'
PY
logship tap p --url "http://127.0.0.1:$port" --after 2 --limit 30 >"$work/tap-2.txt"
python3 - "$work/tap-2.txt" <<'PY' || fail "the tap after grep is wrong"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 30, len(recs)
assert all(r['word'] == 'keep' for r in recs), 'grep did not act before the tap'
assert all(r['n'] == r['body'].split()[0] for r in recs), recs[0]
PY
set +e
logship tap nope -c "$work/p.yaml" --limit 1 2>"$work/tap.err"
[ $? -eq 1 ] || fail "a tap of no pipeline did not exit 1"
grep -q "no pipeline 'nope'" "$work/tap.err" || fail "the missing pipeline is not named"
logship tap p -c "$work/p.yaml" --after 3 2>"$work/tap.err"
[ $? -eq 2 ] || fail "--after 3 (two filters) did not exit 2"
grep -q "a filter's number, 1 to 2" "$work/tap.err" || fail "the bad stage is not explained"
set -e

# top, in a terminal
session=lsh-top-$$
tmux new-session -d -s "$session" -x 160 -y 30 "$LOGSHIP top -c $work/p.yaml"
shows_rate() {
    tmux capture-pane -p -t "$session" >"$work/screen.txt"
    awk '$1 == "p" && $2 == "input" && $3 == "tail" && $4 + 0 > 0 { ok = 1 }
         END { exit !ok }' "$work/screen.txt"
}
wait_for 15 "top shows the pipeline and a rate" shows_rate
grep -q "PIPELINE.*REC/S.*BYTES/S.*LAG.*INFLIGHT.*PAUSED" "$work/screen.txt" || fail "no header"
grep -q "^p  *output  *kafka" "$work/screen.txt" || fail "no output row: $(cat "$work/screen.txt")"
tmux send-keys -t "$session" q
gone() { ! tmux has-session -t "$session" 2>/dev/null; }
wait_for 5 "top exits on q" gone

touch "$work/logs/STOP"
wait "$writer"
wait "$tapper" || true
n=$(cat "$work/writer.out")
python3 -c "
import sys
for j in range($n):
    if j % 4: print('%d keep' % j)" >"$work/want.txt"
wait_exact 60 "$topic" "$(wc -l <"$work/want.txt")"
check_topic exact "$topic" "$work/want.txt"
# a tap still waiting (nothing is written now) when logship stops: it is
# answered with what it has, and logship exits cleanly
python3 "$probe_py" "$port" get '/api/v1/tap?pipeline=p&limit=1000&wait=10000' \
    >"$work/tap-stop.txt" &
tap_probe=$!
sleep 1
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc with a tap waiting"
wait "$tap_probe" || true
[ "$(head -n 1 "$work/tap-stop.txt")" = 200 ] || fail "the waiting tap got $(head -n 1 "$work/tap-stop.txt")"
pass
