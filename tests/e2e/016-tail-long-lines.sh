#!/usr/bin/env bash
# Lines longer than max_line_bytes, one pipeline per on_long_line mode;
# each case is counted and none stops the file.
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/logs"
{
    echo "service: {state_dir: \"$work/state\"}"
    echo "pipelines:"
    for mode in truncate skip split; do
        eval "topic_$mode=$(unique_topic)-$mode"
        t=$(eval echo "\$topic_$mode")
        create_topic "$t" 1
        cat <<YAML
  $mode:
    inputs:
      - type: tail
        paths: ["$work/logs/$mode.log"]
        max_line_bytes: 16
        on_long_line: $mode
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $t, format: raw}
YAML
    done
} >"$work/p.yaml"
# lines of 16 (the limit), 17, 40 bytes, then a short one; the 40-byte
# line is written in three pieces, as a slow writer would
for mode in truncate skip split; do
    printf 'exactly-16-bytes\n0123456789abcdefX\n' >"$work/logs/$mode.log"
done
start_logship "$work/p.yaml"
for mode in truncate skip split; do
    printf 'AAAAAAAAAAAAAAAABBBB' >>"$work/logs/$mode.log"
done
sleep 0.3
for mode in truncate skip split; do
    printf 'BBBBBBBBBBBBCCCCCCCC' >>"$work/logs/$mode.log"
done
sleep 0.3
for mode in truncate skip split; do
    printf '\nshort\n' >>"$work/logs/$mode.log"
done
printf 'exactly-16-bytes\n0123456789abcdef\nAAAAAAAAAAAAAAAA\nshort\n' >"$work/want-truncate.txt"
printf 'exactly-16-bytes\nshort\n' >"$work/want-skip.txt"
printf 'exactly-16-bytes\n0123456789abcdef\nX\nAAAAAAAAAAAAAAAA\nBBBBBBBBBBBBBBBB\nCCCCCCCC\nshort\n' >"$work/want-split.txt"
for mode in truncate skip split; do
    t=$(eval echo "\$topic_$mode")
    wait_exact 20 "$t" "$(wc -l <"$work/want-$mode.txt")"
    check_topic ordered "$t" "$work/want-$mode.txt"
done
stop_logship TERM 20
# each over-long line counted once, in its pipeline's mode
for mode in truncate skip split; do
    n=2
    grep -q "^.*$mode/input.tail: .* $([ $mode = truncate ] && echo $n || echo 0) truncated, $([ $mode = skip ] && echo $n || echo 0) skipped, $([ $mode = split ] && echo $n || echo 0) split" "$work/logship.err" ||
        fail "counters of $mode: $(grep "$mode/input.tail: .*lines" "$work/logship.err")"
done
pass
