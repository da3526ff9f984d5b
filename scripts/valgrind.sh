#!/usr/bin/env bash
# Runs the unit tests, the fuzz corpora and logship itself (stdin ->
# stdout, and a tailed file -> the local Kafka broker) under valgrind's
# memcheck; any error or leak fails.
# Usage: scripts/valgrind.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible
    --track-fds=no)
fail=0
for t in "$build"/tests/test_*; do
    if ! "${vg[@]}" "$t" >/tmp/lsh-vg.out 2>&1; then
        echo "valgrind: $(basename "$t") failed"
        cat /tmp/lsh-vg.out
        fail=1
    fi
done
for t in "$build"/tests/fuzz/fuzz_*; do
    name=$(basename "$t")
    if ! "${vg[@]}" "$t" "$src/tests/fuzz/corpus/${name#fuzz_}" >/tmp/lsh-vg.out 2>&1; then
        echo "valgrind: $name failed"
        cat /tmp/lsh-vg.out
        fail=1
    fi
done
# the binary end to end, with valgrind as its wrapper
"$src/tests/kafka/kafka.sh" start
for t in 001-stdin-stdout 003-tail-kafka-json; do
    if ! LOGSHIP_WRAPPER="${vg[*]}" LOGSHIP="$build/logship" LOGSHIP_SRC="$src" \
        "$src/tests/e2e/$t.sh"; then
        echo "valgrind: e2e $t failed"
        fail=1
    fi
done
"$src/tests/kafka/kafka.sh" stop
[ "$fail" -eq 0 ] && echo "valgrind: clean"
exit $fail
