#!/usr/bin/env bash
# Files that cannot be opened for want of descriptors are tried again, and
# followed files never take the descriptors the output needs.
# 50 files with `ulimit -n 64`: some opens fail with EMFILE (logged once,
# with the fix).  The producer reaches the broker through a proxy that
# serves nothing for its first 2 s, and the broker's metadata then names
# its own address: the producer opens its sockets only after every file
# was tried, and it still must get them (when followed files took every
# descriptor, nothing ever shipped).  Then followed files are deleted,
# which frees their descriptors, and every remaining file is appended to:
# appends cause no directory event, so only the retry timer can find the
# files that never opened.  Every line of every file arrives, each once.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
python3 "$LOGSHIP_SRC/tests/e2e/late_proxy.py" "$work/proxy.port" "$BROKERS" 2 \
    2>"$work/proxy.err" &
helper_pids=$!
proxy_up() { [ -s "$work/proxy.port" ]; }
wait_for 10 "the proxy listens" proxy_up
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]" "rotate_wait: 100ms"
sed -i "s|brokers: \"$BROKERS\"|brokers: \"127.0.0.1:$(cat "$work/proxy.port")\"|" "$work/p.yaml"
grep -q "127.0.0.1:$(cat "$work/proxy.port")" "$work/p.yaml" || fail "no proxy in the config"
: >"$work/want.txt"
for i in $(seq -w 1 50); do
    seq -f "f$i-%03g" 1 10 >"$work/logs/f$i.log"
    seq -f "f$i-%03g" 1 10 >>"$work/want.txt"
done
# shellcheck disable=SC2086
bash -c "ulimit -n 64 && exec $LOGSHIP_WRAPPER \"$LOGSHIP\" -c \"$work/p.yaml\"" \
    >"$work/logship.out" 2>"$work/logship.err" &
lsh_pid=$!
diagnose_live() {
    echo "--- logship's descriptors (files excluded) ---"
    ls -l "/proc/$lsh_pid/fd" 2>&1 | grep -v "$work/logs/" | awk '{print $9, $10, $11}'
    echo "--- proxy stderr ---"
    cat "$work/proxy.err"
    echo "--- the topic holds $(topic_count "$topic") messages ---"
}
wait_for 10 "an open failed" log_has "cannot open '$work/logs/"
log_has "raise the open files limit" || fail "the fix is not named"
log_has "kept for the outputs" || fail "the reserve is not named"
log_has "Too many open files" || fail "EMFILE is not named"
sleep 1
opened=$(grep -o "following '$work/logs/f[0-9]*.log'" "$work/logship.err" |
    grep -o "f[0-9]*.log" | sort -u)
n_open=$(echo "$opened" | wc -l)
[ "$n_open" -lt 50 ] || fail "every file opened; the test proves nothing"
# deleting the opened files must free a descriptor for each of the rest
[ $((n_open * 2)) -ge 50 ] || fail "only $n_open files opened: too few for the rest to fit later"
wait_for 40 "the opened files shipped" topic_has "$topic" $((n_open * 10))
echo "$n_open of 50 files opened under ulimit -n 64"
# delete the followed files: their descriptors are freed after rotate_wait
for f in $opened; do
    rm "$work/logs/$f"
done
closed_all() { [ "$(grep -c "closed deleted file" "$work/logship.err")" -ge "$n_open" ]; }
wait_for 20 "the deleted files closed" closed_all
# append to the rest: no directory event, only the retry finds them
left=0
for f in "$work"/logs/*.log; do
    b=$(basename "$f" .log)
    seq -f "$b-late-%03g" 1 10 >>"$f"
    seq -f "$b-late-%03g" 1 10 >>"$work/want.txt"
    left=$((left + 1))
done
want=$((500 + left * 10))
wait_exact 60 "$topic" "$want"
check_topic exact "$topic" "$work/want.txt"
stop_logship TERM 20
pass
