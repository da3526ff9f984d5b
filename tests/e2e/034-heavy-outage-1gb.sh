#!/usr/bin/env bash
# Bounded memory: the broker is down for 60 s while 1 GB (10,000,000 lines
# of 100 bytes) is appended.  logship stops reading once max_inflight_bytes
# are waiting (the file is the buffer), its peak RSS stays under 64 MB plus
# max_inflight_bytes, and after the broker returns every line arrives.
# Heavy: run in the normal suite only, not under ASan or valgrind.
. "$(dirname "$0")/lib.sh"

lines=${OUTAGE_LINES:-10000000}
inflight_mib=32
use_private_broker 19292
topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
: >"$work/logs/app.log"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]"
sed -i "s/format: raw}/format: raw, max_inflight_bytes: ${inflight_mib}MiB}/" "$work/p.yaml"
start_logship "$work/p.yaml"
wait_for 10 "logship follows app.log" log_has "following '$work/logs/app.log'"
broker_down
down_at=$(date +%s)
python3 - "$work/logs/app.log" "$lines" <<'PY'
import os, sys
path, n = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
line = ('2026-11-23T10:00:00.123Z INFO  service=api-7 user=1234 '
        'msg="GET /v1/items/42 200 12ms" seq=%010d\n')
for start in range(0, n, 20000):
    os.write(fd, ''.join(line % i for i in range(start, min(n, start + 20000))).encode())
os.close(fd)
PY
echo "wrote $(du -m "$work/logs/app.log" | cut -f1) MiB in $(($(date +%s) - down_at)) s"
peak=0
while [ $(($(date +%s) - down_at)) -lt 60 ]; do
    rss=$(awk '/VmRSS/ { print $2 }' "/proc/$lsh_pid/status")
    [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 0.5
done
broker_up
wait_for 300 "$lines messages" topic_has "$topic" "$lines"
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$lsh_pid/status")
stop_logship TERM 30
consume "$topic" | python3 -c '
import sys
n = int(sys.argv[1])
seen = bytearray(n)
count = dups = 0
for line in sys.stdin.buffer:
    i = int(line.rsplit(b"=", 1)[1])
    if seen[i]:
        dups += 1
    seen[i] = 1
    count += 1
missing = n - sum(seen)
print("after the outage: %d records, %d duplicates, %d missing" % (count, dups, missing))
sys.exit(1 if missing else 0)
' "$lines" || fail "lines were lost"
bound=$((64 * 1024 + inflight_mib * 1024))
echo "peak RSS: $((hwm / 1024)) MiB (VmHWM; sampled during the outage: $((peak / 1024)) MiB);" \
     "bound 64 MiB + max_inflight_bytes ${inflight_mib} MiB = $((bound / 1024)) MiB"
[ "$hwm" -le "$bound" ] || fail "peak RSS $hwm KiB is over the bound $bound KiB"
pass
