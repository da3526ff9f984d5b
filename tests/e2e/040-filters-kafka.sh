#!/usr/bin/env bash
# parse -> grep -> modify -> kafka on a fixture of 1,000 lines: the exact
# JSON of every record read back from the broker.  DEBUG lines are dropped
# by grep, malformed ones tagged by parse; the checkpoint still reaches
# the end of the file (dropped records release their tickets).
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
python3 - "$work/logs/app.log" "$work/want.txt" <<'PY'
import json, sys
from datetime import datetime, timezone
levels = ['INFO', 'WARN', 'ERROR', 'INFO', 'INFO', 'WARN', 'INFO', 'ERROR', 'INFO', 'DEBUG']
with open(sys.argv[1], 'w') as log, open(sys.argv[2], 'w') as want:
    for i in range(1000):
        ts = 1795428000000 + i * 1234  # ms
        stamp = datetime.fromtimestamp(ts / 1000, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
        level = levels[i % 10]
        svc, user = 'api-%d' % (i % 7), 1000 + i
        msg = 'GET /v1/items/%d "q" \\ %s' % (i, 'é' if i % 3 == 0 else '')
        if i % 97 == 5:
            line = 'malformed line %d \t with a tab' % i
            log.write(line + '\n')
            want.write(json.dumps({'time': 'READ-TIME', 'body': line, 'host': 'e2e',
                                   'parse_error': 'no match', 'route': ':'},
                                  separators=(',', ':'), ensure_ascii=False) + '\n')
            continue
        log.write('%s %-5s service=%s user=%d msg="%s" seq=%d\n'
                  % (stamp, level, svc, user, msg.replace('"', "'"), i))
        if level == 'DEBUG':
            continue
        want.write(json.dumps({'time': stamp, 'host': 'e2e', 'level': level,
                               'service': svc, 'user': user, 'seq': i,
                               'message': msg.replace('"', "'"),
                               'route': '%s:%s' % (svc, level)},
                              separators=(',', ':'), ensure_ascii=False) + '\n')
PY
cat >"$work/p.yaml" <<YAML
service: {hostname: e2e, state_dir: "$work/state"}
pipelines:
  p:
    inputs:
      - {type: tail, paths: ["$work/logs/app.log"]}
    filters:
      - type: parse
        regex: '^(?<time>\S+) (?<level>[A-Z]+) +service=(?<service>\S+) user=(?<user>\d+) msg="(?<msg>[^"]*)" seq=(?<seq>\d+)$'
        types: {user: int, seq: int}
        time: {field: time, format: iso8601}
        on_mismatch: tag
        keep_body: false
      - type: grep
        exclude: {level: '^DEBUG$'}
      - type: modify
        rename: {msg: message}
        set: {route: "{{service}}:{{level}}"}
        remove: [path]
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: json}
YAML
"$LOGSHIP" --check -c "$work/p.yaml" >/dev/null 2>&1 || fail "config does not pass --check"
start_logship "$work/p.yaml"
want=$(wc -l <"$work/want.txt")
wait_exact 30 "$topic" "$want"
consume "$topic" | sed -E 's/^\{"time":"[^"]*","body":"malformed/{"time":"READ-TIME","body":"malformed/' >"$work/got.txt"
python3 "$LOGSHIP_SRC/tests/e2e/check.py" ordered "$work/got.txt" "$work/want.txt" ||
    fail "records differ from the expected JSON"
# the last lines were DEBUG (dropped): the checkpoint still reaches the end
size=$(stat -c %s "$work/logs/app.log")
wait_for 10 "checkpoint at the end of the file" ckpt_at "$work/state/p.ckpt" "$work/logs/app.log" "$size"
stop_logship TERM 20
grep -q "p/filter.grep#2: 901 kept, 99 dropped" "$work/logship.err" || fail "grep counters"
grep -q "p/filter.parse#1: 989 parsed, 11 mismatched" "$work/logship.err" || fail "parse counters: $(grep filter.parse "$work/logship.err")"
pass
