#!/usr/bin/env bash
# rdkafka: {debug: ...} (what a user sets to troubleshoot the producer):
# librdkafka logs while it is created, before logship takes its event
# queue, and that queue then never woke logship again: delivery reports
# waited until shutdown, so the checkpoint did not move (everything would
# be sent again after a crash) and, past max_inflight_bytes, the pipeline
# stalled.  The checkpoint must reach the end while logship runs, and the
# debug lines must be logged as they come.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]"
sed -i 's|format: raw}|format: raw, rdkafka: {debug: "broker,msg"}}|; s|log_level: info|log_level: debug|' "$work/p.yaml"
grep -q 'debug: "broker,msg"' "$work/p.yaml" || fail "no rdkafka debug in the config"
start_logship "$work/p.yaml"
seq -f "L%05g" 1 20000 >"$work/logs/a.log"
wait_exact 20 "$topic" 20000
wait_for 10 "the checkpoint at the end" ckpt_at "$work/state/p.ckpt" "$work/logs/a.log" 140000
log_has "librdkafka" || fail "librdkafka's debug lines were not logged while running"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
seq -f "L%05g" 1 20000 >"$work/want.txt"
check_topic exact "$topic" "$work/want.txt"
pass
