#!/usr/bin/env bash
# A topic template writes to 3 topics (records without the field go to
# topic_fallback); headers are templates (kcat -f '%h'); a key template
# that renders empty sends a null key; format: template; time_format.
. "$(dirname "$0")/lib.sh"

base=$(unique_topic)
for t in a b c fallback; do create_topic "$base-$t" 1; done
mkdir -p "$work/logs"
printf 'svc=a n=1\nsvc=b n=2\nsvc=c n=3\nsvc=a n=4\nno service n=5\nsvc=bad/name n=6\n' >"$work/logs/app.log"
cat >"$work/p.yaml" <<YAML
service: {state_dir: "$work/state", hostname: h1}
pipelines:
  p:
    inputs: [{type: tail, paths: ["$work/logs/app.log"]}]
    filters:
      - {type: parse, regex: ['^svc=(?<svc>\S+) n=(?<n>\d+)$', '^no service n=(?<n>\d+)$'], types: {n: int}}
    outputs:
      - type: kafka
        brokers: "$BROKERS"
        topic: "$base-{{svc}}"
        topic_fallback: "$base-fallback"
        key: "{{svc}}"
        headers: {svc: "{{svc}}", origin: "{{host}}", fixed: "x"}
        format: template
        template: "n={{n}} svc={{svc}} host={{host}}"
YAML
"$LOGSHIP" --check -c "$work/p.yaml" >/dev/null 2>&1 || fail "--check"
start_logship "$work/p.yaml"
wait_exact 20 "$base-a" 2
wait_exact 20 "$base-b" 1
wait_exact 20 "$base-c" 1
wait_exact 20 "$base-fallback" 2
consume "$base-a" -Z -f '%k|%h|%s\n' >"$work/a.txt"
consume "$base-fallback" -Z -f '%k|%h|%s\n' >"$work/fb.txt"
cat >"$work/want-a.txt" <<'W'
a|svc=a,origin=h1,fixed=x|n=1 svc=a host=h1
a|svc=a,origin=h1,fixed=x|n=4 svc=a host=h1
W
cat >"$work/want-fb.txt" <<'W'
NULL|svc=,origin=h1,fixed=x|n=5 svc= host=h1
bad/name|svc=bad/name,origin=h1,fixed=x|n=6 svc=bad/name host=h1
W
diff -u "$work/want-a.txt" "$work/a.txt" || fail "topic a"
diff -u "$work/want-fb.txt" "$work/fb.txt" || fail "fallback topic"
stop_logship TERM 20
log_has "2 to topic_fallback" || fail "fallbacks not counted"
pass
