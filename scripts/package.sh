#!/usr/bin/env bash
# Builds the Debian package (cpack -G DEB) from a release build in build/:
# /usr/bin/logship, its systemd unit, /etc/logship/, the docs and the man
# page.  Prints the path of the .deb.  tests/config/package.sh checks it.
# Usage: scripts/package.sh [BUILD_DIR]
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target logship package_files >/dev/null
(cd "$build" && cpack -G DEB >/dev/null)
ls "$build"/logship_*_*.deb
