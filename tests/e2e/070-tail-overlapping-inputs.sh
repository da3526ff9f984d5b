#!/usr/bin/env bash
# Two tail inputs of one pipeline whose globs overlap (*.log and a.*):
# a.log matches both.  Each file is followed once (the checkpoint entry
# of a followed file is never freed or replaced by the other input: that
# was a use-after-free); every line arrives exactly once, also after a
# restart.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
cat >"$work/p.yaml" <<YAML
service: {log_level: info, state_dir: "$work/state"}
pipelines:
  p:
    inputs:
      - {type: tail, paths: ["$work/logs/*.log"]}
      - {type: tail, paths: ["$work/logs/a.*"]}
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: raw}
YAML
seq -f "a-%04g" 1 100 >"$work/logs/a.log"
seq -f "b-%04g" 1 100 >"$work/logs/b.log"
seq -f "t-%04g" 1 100 >"$work/logs/a.txt"
start_logship "$work/p.yaml"
wait_for 20 "300 lines" topic_has "$topic" 300
seq -f "a-%04g" 101 150 >>"$work/logs/a.log"
seq -f "new-%04g" 1 20 >"$work/logs/a.new.log" # both again, appearing late
wait_exact 20 "$topic" 370
log_has "is followed by another input of this pipeline already" ||
    fail "the overlap was not noticed"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
# restart: each file resumes once, nothing is read twice
start_logship "$work/p.yaml"
wait_for 10 "resumed" log_has "resuming at offset"
seq -f "a-%04g" 151 160 >>"$work/logs/a.log"
wait_exact 20 "$topic" 380
{
    seq -f "a-%04g" 1 160
    seq -f "b-%04g" 1 100
    seq -f "t-%04g" 1 100
    seq -f "new-%04g" 1 20
} >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
