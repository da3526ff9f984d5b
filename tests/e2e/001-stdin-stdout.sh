#!/usr/bin/env bash
# stdin -> stdout: the exact JSON and raw output for lines with quotes,
# control characters, NUL bytes, invalid UTF-8 and a last line without a
# newline; logship exits 0 by itself when stdin ends.
. "$(dirname "$0")/lib.sh"

cat >"$work/p.yaml" <<YAML
service: {hostname: e2e-host, log_level: warn, state_dir: "$work/state"}
pipelines:
  p:
    inputs: [{type: stdin}]
    outputs: [{type: stdout, format: json}]
YAML
printf 'plain\nq"uote\\back\ttab\nnul\000byte\nbad\377utf\342\202\n\nno newline' \
    >"$work/in.txt"
logship -c "$work/p.yaml" <"$work/in.txt" >"$work/out.json" 2>"$work/logship.err" ||
    fail "logship exited $?"

python3 - "$work/out.json" <<'PY'
import json, re, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
assert lines[-1] == b'', 'output must end with a newline'
recs = [json.loads(l) for l in lines[:-1]]
want = ['plain', 'q"uote\\back\ttab', 'nul\x00byte', 'bad\ufffdutf\ufffd', '',
        'no newline']
assert [r['body'] for r in recs] == want, [r['body'] for r in recs]
for r in recs:
    assert list(r.keys()) == ['time', 'body', 'host'], list(r.keys())
    assert r['host'] == 'e2e-host'
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', r['time']), r['time']
# the encoded bytes themselves: NUL escaped, invalid UTF-8 replaced
raw = open(sys.argv[1], 'rb').read()
assert b'"nul\\u0000byte"' in raw
assert b'"bad\xef\xbf\xbdutf\xef\xbf\xbd"' in raw
assert b'"q\\"uote\\\\back\\ttab"' in raw
PY

# raw format: exactly the input bytes, one line each
sed -i 's/format: json/format: raw/' "$work/p.yaml"
logship -c "$work/p.yaml" <"$work/in.txt" >"$work/out.raw" 2>"$work/logship.err" ||
    fail "logship exited $?"
printf '\n' >>"$work/in.txt"
cmp "$work/in.txt" "$work/out.raw" || fail "raw output differs from input"

# through a pipe rather than a file
seq 1 50000 | logship -c "$work/p.yaml" >"$work/seq.out" 2>"$work/logship.err" ||
    fail "logship exited $?"
seq 1 50000 | cmp - "$work/seq.out" || fail "piped output differs"
pass
