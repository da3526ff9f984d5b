#!/usr/bin/env bash
# The foundation's promise: 100,000 numbered lines appended to a file while
# logship runs all arrive in Kafka, each exactly once and in order, read
# back with kcat.  Lines are written in bursts of uneven sizes, often
# splitting a line across two writes, so partial lines are exercised.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
: >"$work/logs/app.log"
cat >"$work/p.yaml" <<YAML
service: {log_level: info, state_dir: "$work/state"}
pipelines:
  app:
    inputs:
      - type: tail
        paths: ["$work/logs/*.log"]
    outputs:
      - type: kafka
        brokers: $BROKERS
        topic: $topic
        format: raw
YAML
start_logship "$work/p.yaml"
wait_for 10 "logship follows the file" log_has "following '$work/logs/app.log'"

# the writer appends in 200 uneven bursts, each ending mid-line
python3 - "$work/logs/app.log" <<'PY'
import os, random, sys, time
random.seed(7)
data = ''.join('line %06d\n' % i for i in range(1, 100001)).encode()
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
pos = 0
while pos < len(data):
    n = random.randint(1, 12000)
    os.write(fd, data[pos:pos + n])
    pos += n
    if random.random() < 0.3:
        time.sleep(0.005)
os.close(fd)
PY

wait_for 120 "100000 messages in $topic" topic_has "$topic" 100000
sleep 1 # anything extra would arrive now
count=$(topic_count "$topic")
[ "$count" -eq 100000 ] || fail "topic has $count messages, want exactly 100000"
consume "$topic" >"$work/got.txt"
python3 - "$work/got.txt" <<'PY'
import sys
got = open(sys.argv[1]).read().split('\n')[:-1]
want = ['line %06d' % i for i in range(1, 100001)]
if got != want:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            sys.exit('first difference at message %d: got %r, want %r' % (i, g, w))
    sys.exit('got %d messages, want %d' % (len(got), len(want)))
PY
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc after SIGTERM"
log_has "100000 records delivered" || fail "exit summary missing"
pass
