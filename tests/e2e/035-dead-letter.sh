#!/usr/bin/env bash
# dead_letter: a record librdkafka refuses (larger than message.max.bytes)
# goes to the dead-letter file, exactly as read, and counts as delivered:
# the lines around it arrive, and the checkpoint moves past it.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
cat >"$work/p.yaml" <<YAML
service: {state_dir: "$work/state"}
pipelines:
  p:
    inputs: [{type: tail, paths: ["$work/logs/app.log"]}]
    outputs:
      - type: kafka
        brokers: "$BROKERS"
        topic: $topic
        format: raw
        dead_letter: {path: "$work/dead.jsonl", after_attempts: 3}
        rdkafka: {message.max.bytes: 1000}
YAML
big=$(head -c 3000 /dev/zero | tr '\0' 'x')
{ seq -f "before-%02g" 1 10; printf 'big-%s\n' "$big"; printf 'bad-utf8-\377\n'; seq -f "after-%02g" 1 10; } >"$work/logs/app.log"
start_logship "$work/p.yaml"
wait_exact 20 "$topic" 21
{ seq -f "before-%02g" 1 10; printf 'bad-utf8-\377\n'; seq -f "after-%02g" 1 10; } >"$work/want.txt"
check_topic ordered "$topic" "$work/want.txt"
[ "$(wc -l <"$work/dead.jsonl")" -eq 1 ] || fail "want one dead letter"
python3 - "$work/dead.jsonl" "$big" <<'PY'
import json, sys
rec = json.loads(open(sys.argv[1]).readline())
assert rec['value'] == 'big-' + sys.argv[2], 'value differs'
assert rec['error'] in ('MSG_SIZE_TOO_LARGE', '_MSG_SIZE_TOO_LARGE'), rec['error']
assert rec['topic'].startswith('lsh-'), rec['topic']
assert set(rec) == {'time', 'topic', 'error', 'attempts', 'value'}, sorted(rec)
PY
stop_logship TERM 20
log_has "1 dead-lettered" || fail "not counted"
# the checkpoint is past the dead letter: a restart sends nothing again
start_logship "$work/p.yaml"
wait_for 10 "resumed" log_has "resuming at offset"
sleep 1
[ "$(topic_count "$topic")" -eq 21 ] || fail "records were sent again"
stop_logship TERM 20
pass
