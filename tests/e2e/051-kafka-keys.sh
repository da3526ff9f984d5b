#!/usr/bin/env bash
# Keys: 10,000 records over 50 keys into 8 partitions.  Each key lands in
# exactly one partition, in the order the records were written.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 8
mkdir -p "$work/logs"
python3 -c '
for i in range(10000):
    print("k=key-%02d seq=%05d" % ((i * 7) % 50, i))
' >"$work/logs/app.log"
cat >"$work/p.yaml" <<YAML
service: {state_dir: "$work/state"}
pipelines:
  p:
    inputs: [{type: tail, paths: ["$work/logs/app.log"]}]
    filters:
      - {type: parse, regex: '^k=(?<k>\S+) seq=(?<seq>\d+)$'}
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: raw, key: "{{k}}"}
YAML
start_logship "$work/p.yaml"
wait_exact 30 "$topic" 10000
consume "$topic" -f '%k\t%p\t%s\n' >"$work/got.tsv"
python3 - "$work/got.tsv" <<'PY'
import collections, sys
parts, seqs = collections.defaultdict(set), collections.defaultdict(list)
for line in open(sys.argv[1]):
    key, part, value = line.rstrip('\n').split('\t')
    assert value.startswith('k=' + key + ' '), (key, value)
    parts[key].add(part)
    seqs[key].append(int(value.rsplit('=', 1)[1]))
assert len(parts) == 50, len(parts)
bad = {k: p for k, p in parts.items() if len(p) != 1}
assert not bad, 'keys in more than one partition: %s' % bad
for k, s in seqs.items():
    assert s == sorted(s), 'key %s out of order' % k
    assert len(s) == 200, (k, len(s))
used = set(p for ps in parts.values() for p in ps)
print('50 keys over %d partitions, each key in one, in order' % len(used))
assert len(used) >= 6, 'keys should spread over the partitions'
PY
stop_logship TERM 20
pass
