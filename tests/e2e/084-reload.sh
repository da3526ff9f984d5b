#!/usr/bin/env bash
# Hot reload against the real broker.  Lines are appended without pause
# to the files of two pipelines through 10 reloads (SIGHUP and POST
# /api/v1/reload, alternately) that add and remove a third pipeline and
# change the second one's settings each time; one invalid configuration
# and one that changes the service section are refused in between.  The
# process never stops, the unchanged pipeline is never restarted, and
# every line of every pipeline arrives exactly once: a reload adds no
# duplicates (the changed and removed pipelines drain before they go).
. "$(dirname "$0")/lib.sh"

probe_py=$LOGSHIP_SRC/tests/e2e/http_probe.py
port=$(python3 "$probe_py" free-port)
keep=$(unique_topic)
chg=$(unique_topic)-chg
extra=$(unique_topic)-extra
create_topic "$keep" 1
create_topic "$chg" 1
create_topic "$extra" 1
mkdir -p "$work/logs" "$work/conf"

# conf ROUND WITH_EXTRA: the configuration of a round, to conf/p.yaml
conf() {
    local round=$1 with_extra=$2
    {
        cat <<YAML
service:
  log_level: info
  state_dir: "$work/state"
  shutdown_timeout: 20s
  http: {listen: "127.0.0.1:$port", reload: true}
pipelines:
  keep:
    inputs: [{type: tail, paths: ["$work/logs/keep.log"]}]
    outputs: [{type: kafka, brokers: "$BROKERS", topic: $keep, format: raw}]
  chg:
    inputs: [{type: tail, paths: ["$work/logs/chg.log"]}]
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $chg, format: raw,
         linger_ms: $((5 + round)), headers: {round: "r$round"}}
YAML
        if [ "$with_extra" = 1 ]; then
            cat <<YAML
  extra:
    inputs: [{type: tail, paths: ["$work/logs/extra.log"]}]
    outputs: [{type: kafka, brokers: "$BROKERS", topic: $extra, format: raw}]
YAML
        fi
    } >"$work/conf/p.yaml.tmp"
    mv "$work/conf/p.yaml.tmp" "$work/conf/p.yaml"
}
reload() { # round: SIGHUP on odd rounds, POST on even ones
    if [ $(($1 % 2)) -eq 1 ]; then
        kill -HUP "$lsh_pid"
    else
        printf 'POST /api/v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' |
            python3 "$probe_py" "$port" raw >"$work/post.status"
    fi
}
applied() { [ "$(grep -c 'applied: unchanged \["keep"\]' "$work/logship.err")" -ge "$1" ]; }

conf 0 0
start_logship "$work/conf/p.yaml"
wait_for 10 "logship started" log_has "logship 0.1.0 started"
python3 - "$work/logs" >"$work/writer.out" 2>&1 <<'PY' &
import os, sys, time
d = sys.argv[1]
fds = {n: os.open(os.path.join(d, n + '.log'), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
       for n in ('keep', 'chg', 'extra')}
stop = os.path.join(d, 'STOP')
i = 0
while not os.path.exists(stop):
    for n, fd in fds.items():
        os.write(fd, ''.join('%s-%07d\n' % (n, j) for j in range(i, i + 20)).encode())
    i += 20
    time.sleep(0.01)
print(i)
PY
writer=$!
helper_pids=$writer
applied_n=0
for round in 1 2 3 4 5 6 7 8 9 10; do
    sleep 0.7
    conf "$round" $((round % 2))
    reload "$round"
    applied_n=$((applied_n + 1))
    wait_for 30 "reload $round applied" applied "$applied_n"
    if [ $((round % 2)) -eq 0 ]; then
        [ "$(cat "$work/post.status")" = 200 ] || fail "POST /api/v1/reload gave $(cat "$work/post.status")"
    fi
    if [ "$round" = 4 ]; then
        # an invalid configuration: refused, the running one goes on
        cp "$work/conf/p.yaml" "$work/good.yaml"
        sed -i 's/type: kafka/type: kafkaa/' "$work/conf/p.yaml"
        printf 'POST /api/v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' |
            python3 "$probe_py" "$port" raw >"$work/post.status"
        [ "$(cat "$work/post.status")" = 422 ] || fail "an invalid reload gave $(cat "$work/post.status"), want 422"
        wait_for 10 "the invalid one refused" log_has "unknown output type 'kafkaa'"
        # the service section: refused too
        sed 's/type: kafkaa/type: kafka/; s/shutdown_timeout: 20s/shutdown_timeout: 21s/' \
            "$work/conf/p.yaml" >"$work/conf/p.yaml.tmp"
        mv "$work/conf/p.yaml.tmp" "$work/conf/p.yaml"
        kill -HUP "$lsh_pid"
        wait_for 10 "the service change refused" log_has "the service section changed"
        cp "$work/good.yaml" "$work/conf/p.yaml"
    fi
    kill -0 "$lsh_pid" 2>/dev/null || fail "logship died at reload $round"
done
sleep 0.5
touch "$work/logs/STOP"
wait "$writer"
n=$(cat "$work/writer.out")
[ "$n" -gt 1000 ] || fail "the writer wrote only $n lines per file"
for name in keep chg extra; do
    seq -f "$name-%07g" 0 $((n - 1)) >"$work/want-$name.txt"
done
# extra is there in odd rounds: after round 10 it is not, so its last
# lines wait in the file; round 11 brings it back to ship them
conf 11 1
kill -HUP "$lsh_pid"
wait_for 30 "reload 11 applied" applied 11
wait_exact 60 "$keep" "$n"
wait_exact 60 "$chg" "$n"
wait_exact 60 "$extra" "$n"
check_topic exact "$keep" "$work/want-keep.txt"
check_topic exact "$chg" "$work/want-chg.txt"
check_topic exact "$extra" "$work/want-extra.txt"
# the unchanged pipeline was never restarted; the others were
[ "$(grep -c "pipeline 'keep': [0-9]* checkpoints in" "$work/logship.err")" = 1 ] ||
    fail "pipeline keep was restarted"
[ "$(grep -c "pipeline 'chg' restarted with its new settings" "$work/logship.err")" -ge 10 ] ||
    fail "pipeline chg was not restarted at each reload"
python3 "$probe_py" "$port" get /metrics >"$work/metrics.txt"
grep -q '^logship_reloads_total 11$' "$work/metrics.txt" || fail "reloads_total is not 11"
grep -q '^logship_reload_failures_total 2$' "$work/metrics.txt" || fail "reload_failures_total is not 2"
kcat -b "$BROKERS" -C -t "$chg" -o -1 -e -q -f '%h\n' >"$work/hdr.txt"
# chg's last lines were written during round 10 (the writer stopped then)
grep -q 'round=r10' "$work/hdr.txt" || fail "the last record does not carry round 10's header: $(cat "$work/hdr.txt")"
stop_logship TERM 30
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
