# Shared helpers for end-to-end tests: source it first.
#
# Each test runs the real logship binary ($LOGSHIP) in a fresh work
# directory ($work), waits on conditions with timeouts (never on sleeps
# alone), reads back from the real broker with kcat, and asserts exact
# output.  On failure it prints logship's stderr and the broker's log.
set -euo pipefail

LOGSHIP=${LOGSHIP:?set LOGSHIP to the logship binary}
LOGSHIP_SRC=${LOGSHIP_SRC:?set LOGSHIP_SRC to the source tree}
BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
# a command to run logship under, such as valgrind (scripts/valgrind.sh)
LOGSHIP_WRAPPER=${LOGSHIP_WRAPPER:-}
test_name=$(basename "$0" .sh)
work=$(mktemp -d "/tmp/lsh-e2e-$test_name.XXXXXX")
lsh_pid=
finished=0

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

diagnose() {
    echo "=== $test_name failed; work dir $work ===" >&2
    if [ -f "$work/logship.err" ]; then
        echo "--- logship stderr (first 20 lines) ---" >&2
        head -n 20 "$work/logship.err" >&2
        echo "--- logship stderr (last 60 lines) ---" >&2
        tail -n 60 "$work/logship.err" >&2
    fi
    "$LOGSHIP_SRC/tests/kafka/kafka.sh" logs 40 >&2 || true
}

private_port=
helper_pids= # background helpers of a test, killed at its end

cleanup() {
    local rc=$?
    local pid
    # a test may define diagnose_live: what to look at while logship runs
    if [ "$rc" -ne 0 ] && declare -F diagnose_live >/dev/null; then
        diagnose_live >&2 || true
    fi
    for pid in $helper_pids; do
        kill "$pid" 2>/dev/null || true
    done
    if [ -n "$lsh_pid" ] && kill -0 "$lsh_pid" 2>/dev/null; then
        kill -KILL "$lsh_pid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] || [ "$finished" -ne 1 ]; then
        diagnose
        [ "$rc" -ne 0 ] || rc=1
    else
        rm -rf "$work"
    fi
    if [ -n "$private_port" ]; then
        KAFKA_PORT=$private_port "$LOGSHIP_SRC/tests/kafka/kafka.sh" stop >/dev/null 2>&1 || true
    fi
    exit "$rc"
}
trap cleanup EXIT

# Call at the end of a test that passed.
pass() {
    finished=1
    echo "PASS: $test_name"
}

# A topic name no other test or run uses.
unique_topic() {
    echo "lsh-$test_name-$$-$RANDOM"
}

create_topic() { # name partitions [config...]
    "$LOGSHIP_SRC/tests/kafka/kafka.sh" topic "$@"
}

# A broker of this test's own on port $1, fresh, which it may stop and
# start (broker_down, broker_up) without disturbing other tests.
use_private_broker() {
    private_port=$1
    export KAFKA_PORT=$1
    BROKERS=127.0.0.1:$1
    "$LOGSHIP_SRC/tests/kafka/kafka.sh" start
}

broker_down() {
    "$LOGSHIP_SRC/tests/kafka/kafka.sh" stop
}

broker_up() {
    KAFKA_KEEP_DATA=1 "$LOGSHIP_SRC/tests/kafka/kafka.sh" start
}

# Runs logship (under $LOGSHIP_WRAPPER if set) in the foreground.
logship() {
    # shellcheck disable=SC2086
    $LOGSHIP_WRAPPER "$LOGSHIP" "$@"
}

# Starts logship on a config file in the background; stderr to
# $work/logship.err, stdout to $work/logship.out.
start_logship() {
    # not through the logship function: $! must be logship's own pid
    # shellcheck disable=SC2086
    $LOGSHIP_WRAPPER "$LOGSHIP" -c "$1" >"$work/logship.out" \
        2>"$work/logship.err" &
    lsh_pid=$!
}

# start_logship with inotify failing (tests/e2e/nowatch.c, LD_PRELOAD):
# files are found by polling.  LSH_NOWATCH_FAILS=N in the environment lets
# only the first N watches fail.
start_logship_nowatch() {
    [ -n "${LOGSHIP_NOWATCH:-}" ] || fail "LOGSHIP_NOWATCH is not set (the shim)"
    LD_PRELOAD=$LOGSHIP_NOWATCH \
        ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
        start_logship "$1"
}

# kill -9 of the running logship, reaped.
kill9_logship() {
    kill -KILL "$lsh_pid"
    wait "$lsh_pid" 2>/dev/null || true
    lsh_pid=
}

# Sends a signal (default TERM) and waits up to $2 seconds (default 30)
# for logship to exit; sets lsh_rc to its exit status.
stop_logship() {
    local sig=${1:-TERM} limit=${2:-30} i
    kill "-$sig" "$lsh_pid"
    for i in $(seq 1 $((limit * 10))); do
        kill -0 "$lsh_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$lsh_pid" 2>/dev/null && fail "logship did not exit within ${limit}s of SIG$sig"
    set +e
    wait "$lsh_pid"
    lsh_rc=$?
    set -e
    lsh_pid=
}

# Waits until a command succeeds: wait_for SECONDS DESCRIPTION CMD...
wait_for() {
    local limit=$1 what=$2 i
    shift 2
    for i in $(seq 1 $((limit * 10))); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    fail "timed out after ${limit}s waiting for: $what"
}

# Number of partitions of a topic (0 if it does not exist yet).
topic_partitions() {
    kcat -b "$BROKERS" -L -t "$1" -m 5 2>/dev/null | grep -c '^    partition ' || true
}

# Number of messages in a topic: the sum of its partitions' end offsets.
topic_count() {
    local t=$1 n p args=()
    n=$(topic_partitions "$t")
    if [ "$n" -eq 0 ]; then
        echo 0
        return
    fi
    for p in $(seq 0 $((n - 1))); do
        args+=(-t "$t:$p:-1")
    done
    kcat -b "$BROKERS" -Q -m 5 "${args[@]}" 2>/dev/null |
        awk '$(NF-1) == "offset" { s += $NF } END { print s + 0 }'
}

# True once the topic holds at least $2 messages.
topic_has() {
    [ "$(topic_count "$1")" -ge "$2" ]
}

# Prints every message value of a topic, one per line (partition order).
consume() { # topic [extra kcat args]
    local t=$1
    shift
    kcat -b "$BROKERS" -C -t "$t" -e -q -f '%s\n' "$@"
}

# True once logship's stderr contains the text.
log_has() {
    grep -qF -- "$1" "$work/logship.err"
}

# Asserts that the topic holds exactly the lines of file $2, each once
# (mode exact) or in order (mode ordered): check_topic MODE TOPIC WANT.
check_topic() {
    local mode=$1 t=$2 want=$3
    consume "$t" >"$work/got.txt"
    python3 "$LOGSHIP_SRC/tests/e2e/check.py" "$mode" "$work/got.txt" "$want" ||
        fail "topic $t does not hold exactly the expected records"
}

# Waits until the topic holds n messages, then a little longer, and
# fails if it holds more: wait_exact SECONDS TOPIC N.
wait_exact() {
    local limit=$1 t=$2 n=$3 c
    wait_for "$limit" "$n messages in $t" topic_has "$t" "$n"
    sleep 1
    c=$(topic_count "$t")
    [ "$c" -eq "$n" ] || fail "topic $t has $c messages, want exactly $n"
}

# Number of open descriptors of the running logship.
fd_count() {
    ls "/proc/$lsh_pid/fd" | wc -l
}

# CPU time (user + system, in clock ticks) used so far by logship.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$lsh_pid/stat"
}

# Writes a pipeline with one tail input and one kafka output:
# tail_config FILE TOPIC PATHS-YAML [extra tail options...]
tail_config() {
    local file=$1 t=$2 paths=$3
    shift 3
    {
        echo "service: {log_level: info, state_dir: \"$work/state\"}"
        echo "pipelines:"
        echo "  p:"
        echo "    inputs:"
        echo "      - type: tail"
        echo "        paths: $paths"
        for opt in "$@"; do
            echo "        $opt"
        done
        echo "    outputs:"
        echo "      - {type: kafka, brokers: \"$BROKERS\", topic: $t, format: raw}"
    } >"$file"
}

# Makes the kafka output of config $1 exactly-once, with a transactional id
# and an offsets topic of its own ($2-offsets), and optional more options.
eos_output() {
    local file=$1 t=$2 more=${3:-}
    sed -i "s|topic: $t, format: raw}|topic: $t, format: raw, delivery: exactly_once, transactional_id: \"lsh-$t-{{pipeline}}\", offsets_topic: $t-offsets${more:+, $more}}|" "$file"
    grep -q "delivery: exactly_once" "$file" || fail "eos_output: no kafka output in $file"
}

# True once a read_committed consumer of topic $1 has at least $2 records.
committed() {
    [ "$(consume "$1" -X isolation.level=read_committed | wc -l)" -ge "$2" ]
}

# Fails unless a read_committed consumer of topic $1 sees exactly the lines
# of file $2, each once (any order): none lost, none twice, none more.
check_exactly_once() {
    local t=$1 want=$2 n
    consume "$t" -X isolation.level=read_committed >"$work/got.txt"
    sort "$work/got.txt" | uniq -d >"$work/dups.txt"
    [ ! -s "$work/dups.txt" ] ||
        fail "$(wc -l <"$work/dups.txt") lines twice, e.g. $(head -3 "$work/dups.txt" | tr '\n' ' ')"
    sort -u "$work/got.txt" | comm -23 <(sort "$want") - >"$work/lost.txt"
    [ ! -s "$work/lost.txt" ] ||
        fail "$(wc -l <"$work/lost.txt") lost, e.g. $(head -3 "$work/lost.txt" | tr '\n' ' ')"
    n=$(wc -l <"$work/got.txt")
    [ "$n" -eq "$(wc -l <"$want")" ] || fail "$n lines, not $(wc -l <"$want")"
}

# The committed offset of the checkpoint entry for path $2 of the pipeline
# whose snapshot is $1 (<state_dir>/<pipeline>.ckpt), with its journal
# replayed: what `logship --checkpoints` prints (the offset is the 7th
# field, the path the 11th; paths in tests need no %-escapes), or nothing.
ckpt_offset() {
    local name
    name=$(basename "$1" .ckpt)
    "$LOGSHIP" --checkpoints "$(dirname "$1")" 2>/dev/null |
        awk -v n="$name" -v p="$2" '
            $1 == "#" && $2 == "pipeline" { cur = $3; sub(/:$/, "", cur); next }
            cur == n && NF == 11 && $11 == p { print $7 }'
}

# True once the checkpoint file $1 holds offset $3 for path $2.
ckpt_at() {
    [ "$(ckpt_offset "$1" "$2")" = "$3" ]
}
