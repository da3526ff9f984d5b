#!/usr/bin/env bash
# Formats the C sources with clang-format (.clang-format), or with
# --check fails if any file is not formatted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.c' '*.h' |
    grep -v '^tests/fuzz/corpus/')
if [ "${1:-}" = --check ]; then
    if ! clang-format --dry-run --Werror "${files[@]}"; then
        echo "format.sh: run scripts/format.sh to format these files" >&2
        exit 1
    fi
else
    clang-format -i "${files[@]}"
fi
