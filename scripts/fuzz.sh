#!/usr/bin/env bash
# Builds the fuzz targets with clang and libFuzzer (plus ASan and UBSan)
# and runs each for SECONDS (default 30), starting from its corpus in
# tests/fuzz/corpus/; new inputs go to build-fuzz/corpus/, crashes to
# build-fuzz/crashes/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-30}
shift || true
cd "$src"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_FUZZ=ON \
    -DLOGSHIP_SANITIZE=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(framer json config template multiline jparse parse docker cri ckpt http)
fi
cmake --build build-fuzz -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")
mkdir -p build-fuzz/crashes
for t in "${targets[@]}"; do
    mkdir -p "build-fuzz/corpus/$t"
    echo "fuzz: $t for ${seconds}s"
    ASAN_OPTIONS=detect_leaks=1 "build-fuzz/tests/fuzz/fuzz_$t" \
        -max_total_time="$seconds" -print_final_stats=0 -max_len=4096 \
        -artifact_prefix="build-fuzz/crashes/$t-" \
        "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" 2>&1 | tail -n 3
done
