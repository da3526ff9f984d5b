#!/usr/bin/env bash
# The torture test: randomized, model-checked, replayable schedules of
# file, process, broker and resource faults against the real logship and
# a real broker (driver.py), checked by an oracle of every line written
# (oracle.py).  See docs/torture.md.
#
# Usage: tests/torture/run.sh [--logship BIN] [--seed N | --seeds A-B |
#                              --minutes M] [--steps K] [--keep]
#   --seed N      run (replay) one seed
#   --seeds A-B   run seeds A to B (default 1-6: what CI runs)
#   --minutes M   run seeds from a random start until M minutes have passed
#   --keep        keep the work directories of passing seeds too
#   --exactly-once  the kafka output with delivery: exactly_once: the
#                 oracle allows no duplicate (read_committed)
# A failure prints the seed and its schedule; `run.sh --seed N` replays
# it.  The broker is a private one on port 19692 (started and stopped
# here), so that stopping it disturbs no other test; seeds where N % 4
# is 3 use librdkafka's mock cluster (lsh_mockd) for produce errors.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
logship=${LOGSHIP:-$src/build/logship}
mockd=${LSH_MOCKD:-}
first=1
last=6
minutes=
steps=70
keep=0
eos=
while [ $# -gt 0 ]; do
    case $1 in
    --logship) logship=$2; shift 2 ;;
    --mockd) mockd=$2; shift 2 ;;
    --seed) first=$2; last=$2; shift 2 ;;
    --seeds) first=${2%-*}; last=${2#*-}; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --exactly-once) eos=--exactly-once; shift ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
if [ -z "$mockd" ]; then
    mockd=$(dirname "$logship")/tests/lsh_mockd
fi
[ -x "$logship" ] || { echo "run.sh: no logship binary at '$logship'" >&2; exit 2; }
[ -x "$mockd" ] || { echo "run.sh: no lsh_mockd at '$mockd'" >&2; exit 2; }
export KAFKA_PORT=19692
"$src/tests/kafka/kafka.sh" start >/dev/null
trap '"$src/tests/kafka/kafka.sh" stop >/dev/null 2>&1 || true' EXIT

base=$(mktemp -d /tmp/lsh-torture.XXXXXX)
failed=0
ran=0
run_seed() {
    local seed=$1 dir="$base/seed-$1" t0 rc
    t0=$(date +%s)
    set +e
    python3 "$here/driver.py" --seed "$seed" --steps "$steps" \
        --logship "$logship" --mockd "$mockd" --work "$dir" ${eos:+"$eos"} \
        --brokers "127.0.0.1:$KAFKA_PORT" >"$dir.out" 2>&1
    rc=$?
    set -e
    ran=$((ran + 1))
    if [ "$rc" -eq 0 ]; then
        echo "torture: seed $seed passed in $(($(date +%s) - t0)) s: $(grep '^oracle:' "$dir.out" | cut -c9-)"
        [ "$keep" -eq 1 ] || rm -rf "$dir" "$dir.out"
        return
    fi
    failed=$((failed + 1))
    echo "torture: seed $seed FAILED (replay: tests/torture/run.sh --seed $seed); work dir $dir"
    cat "$dir.out"
    echo "--- its schedule (without sleeps) ---"
    grep -v '^sleep' "$dir/schedule.txt" | tr '\n' ';' | fold -w 100
    echo
    for f in "$dir"/run-*.err; do
        if grep -qE "Sanitizer|runtime error|ERROR" "$f"; then
            echo "--- $f ---"
            grep -E -B2 -A20 "Sanitizer|runtime error" "$f" | head -60
        fi
    done
}
if [ -n "$minutes" ]; then
    seed=$((RANDOM * 32768 + RANDOM))
    end=$(($(date +%s) + minutes * 60))
    while [ "$(date +%s)" -lt "$end" ]; do
        run_seed "$seed"
        seed=$((seed + 1))
    done
else
    for seed in $(seq "$first" "$last"); do
        run_seed "$seed"
    done
fi
echo "torture: $ran seeds, $failed failed"
[ "$failed" -eq 0 ] && rmdir "$base" 2>/dev/null || true
[ "$failed" -eq 0 ]
