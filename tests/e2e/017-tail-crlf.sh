#!/usr/bin/env bash
# CRLF files: strip_cr removes the '\r' before '\n' (and only that one);
# without it the '\r' is kept.
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/logs"
t1=$(unique_topic)-strip
t2=$(unique_topic)-keep
create_topic "$t1" 1
create_topic "$t2" 1
printf 'one\r\ntwo\rtwo\r\n\r\nlast\r\n' >"$work/logs/crlf.log"
cat >"$work/p.yaml" <<YAML
service: {state_dir: "$work/state"}
pipelines:
  strip:
    inputs: [{type: tail, paths: ["$work/logs/crlf.log"], strip_cr: true}]
    outputs: [{type: kafka, brokers: "$BROKERS", topic: $t1, format: raw}]
  keep:
    inputs: [{type: tail, paths: ["$work/logs/crlf.log"]}]
    outputs: [{type: kafka, brokers: "$BROKERS", topic: $t2, format: raw}]
YAML
start_logship "$work/p.yaml"
printf 'one\ntwo\rtwo\n\nlast\n' >"$work/want-strip.txt"
printf 'one\r\ntwo\rtwo\r\n\r\nlast\r\n' >"$work/want-keep.txt"
wait_exact 20 "$t1" 4
wait_exact 20 "$t2" 4
check_topic ordered "$t1" "$work/want-strip.txt"
check_topic ordered "$t2" "$work/want-keep.txt"
stop_logship TERM 20
pass
