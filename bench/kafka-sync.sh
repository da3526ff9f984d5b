#!/usr/bin/env bash
# The throughput cost of delivery: sync (issue 6): the same lines from a
# file to the local broker, async then sync, in one run; medians of RUNS.
# A run ends when logship exits after its last acknowledgement (stdin).
# Usage: bench/kafka-sync.sh [LINES] [RUNS]   (broker: tests/kafka/kafka.sh)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${LOGSHIP:-$here/../build/logship}
lines=${1:-200000}
runs=${2:-3}
data=${BENCH_DIR:-/tmp/logship-bench}/std-$lines.log
mkdir -p "$(dirname "$data")"
[ -f "$data" ] || python3 "$here/gen.py" --lines "$lines" --out "$data"
results=()
for mode in async sync; do
    conf=$(mktemp /tmp/lsh-bench-XXXXXX.yaml)
    cat >"$conf" <<YAML
service: {log_level: warn}
pipelines:
  bench:
    inputs: [{type: stdin}]
    outputs:
      - {type: kafka, brokers: "127.0.0.1:9092", topic: "bench-$mode-$$", format: raw, delivery: $mode}
YAML
    results+=("$(python3 "$here/measure.py" --runs "$runs" --stdin "$data" -- "$bin" -c "$conf")")
    rm -f "$conf"
done
python3 - "$lines" "${results[@]}" <<'PY'
import json, sys
n = int(sys.argv[1])
a, s = json.loads(sys.argv[2]), json.loads(sys.argv[3])
for name, r in (('async', a), ('sync', s)):
    print('%-6s %9.0f lines/s  median %.2f s  %.2f CPU s/M lines  peak RSS %d MiB'
          % (name, n / r['wall'], r['wall'], r['cpu'] * 1e6 / n, r['rss_kib'] // 1024))
print('sync / async throughput: %.2f' % (a['wall'] / s['wall']))
PY
