#!/usr/bin/env bash
# Symlinks are followed and their target's identity counts: the layout of
# /var/log/containers (symlinks) into /var/log/pods (where the runtime
# rotates 0.log by rename).  Records carry the symlink's path.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
pods="$work/pods/ns_pod-1_uid/app"
mkdir -p "$pods" "$work/containers"
seq -f "a-%04g" 1 100 >"$pods/0.log"
ln -s "$pods/0.log" "$work/containers/pod-1_ns_app-abc.log"
cat >"$work/p.yaml" <<YAML
service: {state_dir: "$work/state"}
pipelines:
  p:
    inputs:
      - {type: tail, paths: ["$work/containers/*.log"], rotate_wait: 500ms}
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic}
YAML
start_logship "$work/p.yaml"
wait_for 10 "100 lines" topic_has "$topic" 100
# the runtime rotates: rename, write a little more to the old file, new 0.log
mv "$pods/0.log" "$pods/0.log.20261123-101500"
seq -f "a-%04g" 101 120 >>"$pods/0.log.20261123-101500"
seq -f "b-%04g" 1 100 >"$pods/0.log"
wait_for 10 "rotated target" topic_has "$topic" 220
# a second container appears later
mkdir -p "$work/pods/ns_pod-2_uid/web"
seq -f "c-%04g" 1 10 >"$work/pods/ns_pod-2_uid/web/0.log"
ln -s "$work/pods/ns_pod-2_uid/web/0.log" "$work/containers/pod-2_ns_web-def.log"
wait_exact 10 "$topic" 230
consume "$topic" >"$work/got.json"
python3 - "$work/got.json" "$work" <<'PY'
import json, sys
work = sys.argv[2]
recs = [json.loads(l) for l in open(sys.argv[1])]
got = sorted((r['path'], r['body']) for r in recs)
p1 = work + '/containers/pod-1_ns_app-abc.log'
p2 = work + '/containers/pod-2_ns_web-def.log'
want = sorted([(p1, 'a-%04d' % i) for i in range(1, 121)] +
              [(p1, 'b-%04d' % i) for i in range(1, 101)] +
              [(p2, 'c-%04d' % i) for i in range(1, 11)])
if got != want:
    sys.exit('records differ: %d got, %d want; first got %r' % (len(got), len(want), got[:3]))
PY
stop_logship TERM 20
pass
