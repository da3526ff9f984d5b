#!/usr/bin/env bash
# JSON records in Kafka carry time, body, path and host; several files and
# globs are followed; read_from: tail skips what was there before; a
# partial last line waits for its newline and is not sent at shutdown.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/a" "$work/b"
printf 'old-a-1\nold-a-2\n' >"$work/a/one.log"
printf 'old-b-1\npartial-b' >"$work/b/two.log"
printf 'skip me\n' >"$work/a/ignored.txt"
cat >"$work/p.yaml" <<YAML
service: {hostname: host-e2e, state_dir: "$work/state"}
pipelines:
  app:
    inputs:
      - type: tail
        paths: ["$work/a/*.log"]
      - type: tail
        paths: ["$work/b/two.log"]
        read_from: tail
    outputs:
      - type: kafka
        brokers: $BROKERS
        topic: $topic
YAML
start_logship "$work/p.yaml"
wait_for 10 "both files followed" log_has "following '$work/b/two.log'"
wait_for 30 "2 old lines of one.log" topic_has "$topic" 2
printf -- '-rest\nnew-b-2\n' >>"$work/b/two.log"
printf 'new-a-3\n' >>"$work/a/one.log"
wait_for 30 "5 messages" topic_has "$topic" 5
printf 'unfinished' >>"$work/a/one.log"
sleep 0.5
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
consume "$topic" >"$work/got.json"

python3 - "$work/got.json" "$work" <<'PY'
import json, re, sys
work = sys.argv[2]
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bodies = sorted((r['path'], r['body']) for r in recs)
want = sorted([
    (work + '/a/one.log', 'old-a-1'), (work + '/a/one.log', 'old-a-2'),
    (work + '/a/one.log', 'new-a-3'),
    # read_from: tail started after the last complete line, so the line
    # being written then is read whole
    (work + '/b/two.log', 'partial-b-rest'), (work + '/b/two.log', 'new-b-2'),
])
assert bodies == want, bodies
for r in recs:
    assert list(r) == ['time', 'body', 'path', 'host'], list(r)
    assert r['host'] == 'host-e2e'
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', r['time'])
PY
pass
