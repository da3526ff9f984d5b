#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds logship, and runs every test:
#   1. formatting (clang-format) and a warning-free build (-Werror);
#   2. the whole CTest suite (unit, config, fuzz corpora, end-to-end
#      against a real Kafka broker that the suite starts and stops), but
#      the torture test;
#   3. the same suite built with AddressSanitizer and UBSan (without the
#      "heavy" tests: the 1 GB outage, the exactly-once kill -9, broker
#      restart, broker-down and abort tests, which stop private brokers),
#      with the torture test's fixed slice of seeds
#      (tests/torture/run.sh, both delivery modes);
#   4. unit tests and the stdin end-to-end test under valgrind;
#   5. a short libFuzzer run of every fuzz target (FUZZ_SECONDS each).
# Usage: scripts/test.sh            (from anywhere)
# Environment: JOBS (default: number of CPUs), FUZZ_SECONDS (default 7;
# 0 skips step 5), SKIP_ASAN=1, SKIP_VALGRIND=1.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$src"
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-7}

step() { printf '\n=== %s ===\n' "$*"; }

step "setup"
scripts/setup.sh

step "format"
scripts/format.sh --check

step "build (gcc, -Wall -Wextra -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOGSHIP_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

step "test suite"
ctest --test-dir build -j"$jobs" --output-on-failure -LE torture

if [ "${SKIP_ASAN:-0}" != 1 ]; then
    step "test suite with AddressSanitizer and UBSan"
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_SANITIZE=ON >/dev/null
    cmake --build build-asan -j"$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-asan -j"$jobs" --output-on-failure -LE heavy
fi

if [ "${SKIP_VALGRIND:-0}" != 1 ]; then
    step "valgrind"
    scripts/valgrind.sh build
fi

if [ "$fuzz_seconds" != 0 ]; then
    step "fuzzing (${fuzz_seconds}s per target)"
    scripts/fuzz.sh "$fuzz_seconds"
fi

step "all tests passed"
