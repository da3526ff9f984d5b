#!/usr/bin/env bash
# The command line: --version, --help, --doc, --check output, and exit
# status 2 for every usage or configuration error.
set -u
bin=$1
src=$2
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, want-status, command...
    local name=$1 want=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, want $want"
        cat "$tmp/err"
        fail=1
    fi
}
contains() { # name, file, text
    if ! grep -qF -- "$3" "$2"; then
        echo "FAIL $1: '$3' not in output:"
        cat "$2"
        fail=1
    fi
}

check version 0 "$bin" --version
contains version "$tmp/out" "logship 0."
contains version "$tmp/out" "librdkafka 2."
check help 0 "$bin" --help
contains help "$tmp/out" "usage: logship -c PATH"
check no-config 2 "$bin"
contains no-config "$tmp/err" "no configuration given"
check bad-flag 2 "$bin" --frobnicate -c x
check extra-arg 2 "$bin" -c x extra
contains extra-arg "$tmp/err" "unexpected argument 'extra'"
check bad-level 2 "$bin" -c "$src/conf.d" --log-level loud
contains bad-level "$tmp/err" "unknown log level 'loud'"
check missing-file 2 "$bin" --check -c /nonexistent.yaml
contains missing-file "$tmp/err" "cannot read configuration '/nonexistent.yaml'"

cat >"$tmp/ok.yaml" <<'YAML'
service:
  hostname: ${LSH_CLI_HOST:-h1}
pipelines:
  p:
    inputs: [{type: stdin}]
    outputs:
      - type: kafka
        brokers: 127.0.0.1:9092
        topic: t
        rdkafka: {sasl.password: s3cret, linger.ms: 7,
                  ssl.key.pem: "-----BEGIN PRIVATE KEY----- k3ymaterial",
                  ssl.keystore.password: cl1entsecret}
YAML
check check-ok 0 "$bin" --check -c "$tmp/ok.yaml"
contains check-ok "$tmp/err" "is valid"
contains check-ok "$tmp/out" 'hostname: "h1"'
contains check-ok "$tmp/out" '"linger.ms": "7"'
contains check-ok "$tmp/out" '"sasl.password": "****"'
contains check-ok "$tmp/out" '"ssl.key.pem": "****"'
contains check-ok "$tmp/out" '"ssl.keystore.password": "****"'

if grep -qE "s3cret|k3ymaterial|cl1entsecret" "$tmp/out" "$tmp/err"; then
    echo "FAIL check-ok: a secret or key material was printed"
    fail=1
fi

# the reference in docs/ is generated from the option tables
# "type: null" is YAML's null, yet plainly means the null output
printf 'pipelines:\n  p:\n    inputs: [{type: stdin}]\n    outputs: [{type: null}]\n' >"$tmp/null.yaml"
check type-null 0 "$bin" --check -c "$tmp/null.yaml"
contains type-null "$tmp/out" "type: null"

# checkpoint_interval: deprecated, its value used as checkpoint_delay
printf 'service: {state_dir: /tmp, checkpoint_interval: 2s}\npipelines:\n  p:\n    inputs: [{type: stdin}]\n    outputs: [{type: null}]\n' >"$tmp/interval.yaml"
check interval 0 "$bin" --check -c "$tmp/interval.yaml"
contains interval "$tmp/err" "interval.yaml:1:49: warning: service: 'checkpoint_interval' is deprecated"
contains interval "$tmp/out" "checkpoint_delay: 2s"
printf 'service: {checkpoint_interval: 2s, checkpoint_delay: 50ms}\npipelines:\n  p:\n    inputs: [{type: stdin}]\n    outputs: [{type: null}]\n' >"$tmp/both.yaml"
check interval-and-delay 0 "$bin" --check -c "$tmp/both.yaml"
contains interval-and-delay "$tmp/err" "is deprecated and ignored: 'checkpoint_delay' is set"
contains interval-and-delay "$tmp/out" "checkpoint_delay: 50ms"
printf 'service: {checkpoint_delay: 0ms}\npipelines:\n  p:\n    inputs: [{type: stdin}]\n    outputs: [{type: null}]\n' >"$tmp/delay0.yaml"
check delay-zero 2 "$bin" --check -c "$tmp/delay0.yaml"
contains delay-zero "$tmp/err" "checkpoint_delay"

# --checkpoints: what a state directory holds, or why not
check ckpt-none 1 "$bin" --checkpoints /nonexistent
contains ckpt-none "$tmp/err" "cannot open state directory '/nonexistent'"
mkdir "$tmp/state"
check ckpt-empty 0 "$bin" --checkpoints "$tmp/state"
contains ckpt-empty "$tmp/err" "no checkpoints in"
printf 'not a journal\n' >"$tmp/state/p.journal"
check ckpt-corrupt 2 "$bin" --checkpoints "$tmp/state"
contains ckpt-corrupt "$tmp/err" "corrupt checkpoint journal '$tmp/state/p.journal'"

check doc 0 "$bin" --doc
if ! diff -u "$src/docs/configuration.md" "$tmp/out" >"$tmp/diff"; then
    echo "FAIL doc: docs/configuration.md is stale; regenerate it with"
    echo "  build/logship --doc > docs/configuration.md"
    head -40 "$tmp/diff"
    fail=1
fi
exit $fail
