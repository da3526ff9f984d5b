#!/usr/bin/env bash
# The filter benchmark (issue 5): 1,000,000 lines like
#   2026-11-23T10:00:00.123Z INFO  service=api-7 user=1234 msg="..." seq=17
# through parse (one regex, every field, typed, time) and grep (drop DEBUG)
# into the null output, on one core; against a baseline that reads the same
# lines with no filters, in the same run.
# Usage: bench/filters.sh [LINES] [RUNS]    (needs build/logship)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${LOGSHIP:-$here/../build/logship}
lines=${1:-1000000}
runs=${2:-5}
data=${BENCH_DIR:-/tmp/logship-bench}/std-$lines.log
mkdir -p "$(dirname "$data")"
[ -f "$data" ] || python3 "$here/gen.py" --lines "$lines" --out "$data"
base=$(python3 "$here/measure.py" --runs "$runs" --stdin "$data" --cpu 0 -- \
    "$bin" -c "$here/baseline-null.yaml")
filt=$(python3 "$here/measure.py" --runs "$runs" --stdin "$data" --cpu 0 -- \
    "$bin" -c "$here/filters.yaml")
python3 - "$lines" "$base" "$filt" <<'PY'
import json, sys
n = int(sys.argv[1])
for name, r in (('read + frame, no filters', json.loads(sys.argv[2])),
                ('parse + grep (one core)', json.loads(sys.argv[3]))):
    print('%-26s %9.0f lines/s  median %.3f s (min %.3f, max %.3f)  '
          '%.2f CPU s/M lines  peak RSS %d MiB'
          % (name, n / r['wall'], r['wall'], r['wall_min'], r['wall_max'],
             r['cpu'] * 1e6 / n, r['rss_kib'] // 1024))
PY
