#!/usr/bin/env bash
# Every compression codec round-trips: what is consumed (kcat
# decompresses) is byte for byte what was written.
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/logs"
python3 - "$work/logs/app.log" <<'PY'
import random, sys
random.seed(5)
words = ['alpha', 'beta', 'gamma', 'δέλτα', 'ε', '😀', 'tab\there', 'quote"', 'back\\slash']
with open(sys.argv[1], 'w') as f:
    for i in range(2000):
        f.write('%05d %s\n' % (i, ' '.join(random.choice(words) for _ in range(random.randint(1, 40)))))
PY
{
    echo "service: {state_dir: \"$work/state\"}"
    echo "pipelines:"
    for codec in none gzip snappy lz4 zstd; do
        t=$(unique_topic)-$codec
        eval "topic_$codec=$t"
        create_topic "$t" 1
        cat <<YAML
  p-$codec:
    inputs: [{type: tail, paths: ["$work/logs/app.log"]}]
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $t, format: raw, compression: $codec, linger_ms: 20}
YAML
    done
} >"$work/p.yaml"
start_logship "$work/p.yaml"
for codec in none gzip snappy lz4 zstd; do
    t=$(eval echo "\$topic_$codec")
    wait_exact 30 "$t" 2000
    consume "$t" >"$work/got-$codec.txt"
    cmp "$work/got-$codec.txt" "$work/logs/app.log" || fail "codec $codec: bytes differ"
done
stop_logship TERM 20
pass
