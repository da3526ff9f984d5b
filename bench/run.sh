#!/usr/bin/env bash
# The benchmark against the producer ceiling (bench/run.py): installs what
# is missing (gnuplot for the plot), builds, starts the local broker if it
# is not up, runs, and leaves the broker as it found it.
# Usage: bench/run.sh [run.py arguments]     e.g. bench/run.sh --runs 5
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$src"
scripts/setup.sh
smoke=0
for arg in "$@"; do
    [ "$arg" = --smoke ] && smoke=1
done
if [ "$smoke" -eq 0 ] && ! command -v gnuplot >/dev/null 2>&1; then
    sudo=
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
fi
if [ -z "${LOGSHIP_BUILD:-}" ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build -j"$(nproc)" --target logship lsh_bench >/dev/null
fi
started=
if ! tests/kafka/kafka.sh status >/dev/null 2>&1; then
    tests/kafka/kafka.sh start
    started=1
fi
rc=0
python3 bench/run.py "$@" || rc=$?
if [ -n "$started" ]; then
    tests/kafka/kafka.sh stop
fi
exit "$rc"
