#!/usr/bin/env bash
# copytruncate with an unterminated last line: 'a\nb\npart', copied, then
# truncated, then 'rest\nc\n' appended.  'part' is not lost: it arrives as
# its own record, marked "truncated": true, and is counted.  And when the
# copy holds more than logship had read (lines written just before the
# truncation), the rest of the copy is read too.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
cat >"$work/p.yaml" <<YAML
service: {log_level: info, state_dir: "$work/state"}
pipelines:
  p:
    inputs: [{type: tail, paths: ["$work/logs/*.log"]}]
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: template,
         template: "{{body}}|{{truncated}}"}
YAML
start_logship "$work/p.yaml"
wait_for 10 "started" log_has "waiting for one to appear"
f=$work/logs/app.log
printf 'a\nb\npart' >"$f"
wait_for 10 "a and b" topic_has "$topic" 2
sleep 0.3 # logship has read 'part' too, and waits for its newline
cp "$f" "$work/logs/app.log.1"
: >"$f"
printf 'rest\nc\n' >>"$f"
wait_exact 20 "$topic" 5
consume "$topic" >"$work/got.txt"
printf 'a|\nb|\npart|true\nrest|\nc|\n' >"$work/want.txt"
diff -u "$work/want.txt" "$work/got.txt" || fail "unexpected records"

# lines written just before the truncation, that logship had not read,
# are read from the copy
g=$work/logs/b.log
seq -f "b-%03g" 1 10 >"$g"
wait_for 10 "b.log" topic_has "$topic" 15
kill -STOP "$lsh_pid" # so that it cannot read what comes next in time
seq -f "b-%03g" 11 20 >>"$g"
cp "$g" "$work/logs/b.log.1"
: >"$g"
seq -f "b2-%03g" 1 5 >>"$g"
kill -CONT "$lsh_pid"
wait_exact 20 "$topic" 30
consume "$topic" | tail -n +6 | cut -d'|' -f1 | sort >"$work/got2.txt"
{ seq -f "b-%03g" 1 20; seq -f "b2-%03g" 1 5; } | sort >"$work/want2.txt"
diff -u "$work/want2.txt" "$work/got2.txt" || fail "the copy's rest is missing"
log_has "was copied to '$work/logs/b.log.1' and truncated" || fail "the copy was not followed"
stop_logship TERM 20
log_has "truncations (1 incomplete lines emitted)" || fail "the cut line is not counted"
pass
