#!/usr/bin/env bash
# A permanent broker-side error without dead_letter: the topic's
# max.message.bytes (1500) is smaller than the records (2000 bytes), so
# the broker refuses them (MSG_SIZE_TOO_LARGE).  That is loud: one error
# naming the topic and the error (rate-limited), and a counter; the
# records are kept and the checkpoint waits for them.  Once an operator
# raises the topic's limit, every record arrives.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1 max.message.bytes=1500
mkdir -p "$work/logs"
cat >"$work/p.yaml" <<YAML
service: {log_level: info, state_dir: "$work/state"}
pipelines:
  p:
    inputs: [{type: tail, paths: ["$work/logs/*.log"]}]
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: raw,
         compression: none, redeliver_backoff: 200ms, redeliver_backoff_max: 1s}
YAML
python3 -c "
for i in range(5):
    print('big-%d-' % i + 'x' * 2000)" >"$work/logs/a.log"
start_logship "$work/p.yaml"
wait_for 20 "the loud error" log_has "topic '$topic' refuses records: MSG_SIZE_TOO_LARGE"
sleep 3
n=$(grep -c "refuses records" "$work/logship.err")
[ "$n" -eq 1 ] || fail "the error was logged $n times in 3 s; want once a minute"
[ "$(topic_count "$topic")" -eq 0 ] || fail "records arrived although the topic refuses them"
off=$(ckpt_offset "$work/state/p.ckpt" "$work/logs/a.log")
[ "$off" = 0 ] || fail "the checkpoint passed refused records: offset '$off'"
"$LOGSHIP_SRC/tests/kafka/kafka.sh" config "$topic" max.message.bytes=100000
wait_exact 30 "$topic" 5
stop_logship TERM 20
log_has "the topic refused)" || fail "no counter in the exit summary"
grep -q "delivery failures ([1-9][0-9]* the topic refused)" "$work/logship.err" ||
    fail "the refusals were not counted"
pass
