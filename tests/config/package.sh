#!/usr/bin/env bash
# The Debian package: cpack -G DEB from the build directory, then its
# contents (dpkg-deb -c), its control fields (dpkg-deb -f), lintian with no
# error, and the packaged binary run from the unpacked tree.
# Usage: package.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v lintian >/dev/null || fail "lintian is missing (scripts/setup.sh installs it)"
command -v help2man >/dev/null || fail "help2man is missing (scripts/setup.sh installs it)"
(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) ||
    { cat "$tmp/cpack.log"; fail "cpack -G DEB failed"; }
deb=$(ls "$tmp"/out/logship_*_*.deb)
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's#^\./#/#' >"$tmp/files"
for f in /usr/bin/logship /lib/systemd/system/logship.service \
    /etc/logship/logship.yaml.example /usr/share/man/man1/logship.1.gz \
    /usr/share/doc/logship/copyright /usr/share/doc/logship/changelog.Debian.gz \
    /usr/share/doc/logship/README.md /usr/share/doc/logship/docs/operations.md \
    /usr/share/doc/logship/docs/configuration.md; do
    grep -qx "$f" "$tmp/files" || fail "$f is not in the package"
done
if grep -q '^/usr/local' "$tmp/files"; then fail "files under /usr/local"; fi
[ "$(dpkg-deb -f "$deb" Package)" = logship ] || fail "Package"
dpkg-deb -f "$deb" Depends | grep -q 'librdkafka1' || fail "no librdkafka1 in Depends"
dpkg-deb -f "$deb" Depends | grep -q 'libmicrohttpd12' || fail "no libmicrohttpd12 in Depends"
dpkg-deb --ctrl-tarfile "$deb" | tar -tf - | grep -q 'conffiles' || fail "no conffiles"
lintian --tag-display-limit 0 "$deb" >"$tmp/lintian.out" 2>&1 || true
if grep '^E: ' "$tmp/lintian.out"; then fail "lintian reports errors"; fi
grep -v 'root privileges' "$tmp/lintian.out" || true
dpkg-deb -x "$deb" "$tmp/root"
grep -q '^ExecStart=/usr/bin/logship -c /etc/logship$' "$tmp/root/lib/systemd/system/logship.service" ||
    fail "the packaged unit does not run /usr/bin/logship"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$tmp/root/lib/systemd/system/logship.service" ||
    fail "the packaged unit has no ExecReload"
"$tmp/root/usr/bin/logship" --version | grep -q '^logship 0\.' || fail "the packaged binary does not run"
zcat "$tmp/root/usr/share/man/man1/logship.1.gz" | grep -q 'logship tap PIPELINE' ||
    fail "the man page does not come from --help"
"$tmp/root/usr/bin/logship" --check -c "$tmp/root/etc/logship/logship.yaml.example" >/dev/null 2>&1 ||
    fail "the example configuration does not pass --check"
echo "PASS: package ($(basename "$deb"))"
