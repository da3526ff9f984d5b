#!/usr/bin/env bash
# Runs `logship --check` on one bad configuration and asserts exit status 2
# and every message named by its "# expect: " lines (FILE stands for the
# file's path), each of which carries a line and column.
set -u
bin=$1
file=$2
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$bin" --check -c "$file" >/dev/null 2>"$err"
rc=$?
fail=0
if [ "$rc" -ne 2 ]; then
    echo "FAIL: exit status $rc, want 2"
    fail=1
fi
n=0
while IFS= read -r want; do
    want=${want//FILE/$file}
    n=$((n + 1))
    if ! grep -qF -- "$want" "$err"; then
        echo "FAIL: missing message: $want"
        fail=1
    fi
done < <(sed -n 's/^# expect: //p' "$file")
if [ "$n" -eq 0 ]; then
    echo "FAIL: $file has no '# expect:' line"
    fail=1
fi
if [ "$fail" -ne 0 ]; then
    echo "--- stderr of logship --check -c $file ---"
    cat "$err"
fi
exit $fail
