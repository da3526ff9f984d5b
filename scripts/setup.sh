#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian 12, and only
# what is missing.  Safe to run again.  Uses sudo when not root.
set -euo pipefail

# build and run
pkgs=(build-essential cmake pkg-config librdkafka-dev libyaml-dev
      libpcre2-dev zlib1g-dev libmicrohttpd-dev libncurses-dev)
# tests, the local broker and the demo
pkgs+=(libcmocka-dev kcat python3 python3-yaml gzip maven openjdk-17-jre-headless
       procps util-linux logrotate prometheus tmux help2man lintian)
# quality gates: sanitizers, fuzzing, valgrind, formatting
pkgs+=(clang libclang-rt-14-dev valgrind clang-format)

missing=()
for p in "${pkgs[@]}"; do
    # Java and Maven may come from elsewhere (an SDK image); use them
    if [ "$p" = maven ] && command -v mvn >/dev/null 2>&1; then
        continue
    fi
    if [ "$p" = openjdk-17-jre-headless ] && command -v java >/dev/null 2>&1; then
        continue
    fi
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
sudo=
if [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
fi
echo "setup.sh: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
