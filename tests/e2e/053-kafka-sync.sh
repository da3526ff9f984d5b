#!/usr/bin/env bash
# delivery: sync takes a batch only once all of it is acknowledged:
# records arrive in order, and logship never has more than one batch in
# flight.  Also time_format and JSON with stdin (no path).
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
cat >"$work/p.yaml" <<YAML
service: {state_dir: "$work/state", hostname: h1}
pipelines:
  p:
    inputs: [{type: stdin}]
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, delivery: sync, time_format: epoch_ms}
YAML
seq -f "line-%05g" 1 20000 | "$LOGSHIP" -c "$work/p.yaml" 2>"$work/logship.err" ||
    fail "logship exited $?"
wait_exact 20 "$topic" 20000
consume "$topic" >"$work/got.json"
python3 - "$work/got.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r['body'] for r in recs] == ['line-%05d' % i for i in range(1, 20001)], 'order'
assert all(isinstance(r['time'], int) and r['time'] > 1.7e12 for r in recs), recs[0]
assert list(recs[0]) == ['time', 'body', 'host'], list(recs[0])
PY
pass
