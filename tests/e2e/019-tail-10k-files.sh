#!/usr/bin/env bash
# 10,000 files matched by one glob are all followed; while they are idle
# logship uses (about) no CPU: no polling, no timers per file.  Reports
# the memory each followed file costs.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 4
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]"
start_logship "$work/p.yaml"
wait_for 10 "logship started" log_has "waiting for one to appear"
sleep 0.5
rss0=$(awk '/VmRSS/ { print $2 }' "/proc/$lsh_pid/status")
python3 - "$work/logs" "$work/want.txt" <<'PY'
import os, sys
d, want = sys.argv[1], sys.argv[2]
with open(want, 'w') as w:
    for i in range(10000):
        data = ''.join('f%05d-%d\n' % (i, j) for j in range(3))
        with open('%s/%05d.log' % (d, i), 'w') as f:
            f.write(data)
        w.write(data)
PY
wait_exact 120 "$topic" 30000
check_topic exact "$topic" "$work/want.txt"
# one more line in a few of them still arrives
for i in 00007 04242 09999; do echo "late-$i" >>"$work/logs/$i.log"; echo "late-$i" >>"$work/want.txt"; done
wait_exact 20 "$topic" 30003
check_topic exact "$topic" "$work/want.txt"

# idle: 10,000 followed files, nothing written
sleep 1
rss1=$(awk '/VmRSS/ { print $2 }' "/proc/$lsh_pid/status")
c0=$(cpu_ticks)
sleep 3
c1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
echo "idle CPU over 3 s with 10000 files: $((c1 - c0)) ticks of 1/$hz s"
echo "RSS: $rss0 KiB before, $rss1 KiB with 10000 files:" \
     "$(((rss1 - rss0) * 1024 / 10000)) bytes per file"
echo "open descriptors: $(fd_count)"
# a poll or a timer per file would burn far more than 10 ticks (100 ms)
[ $((c1 - c0)) -le 10 ] || fail "logship used $((c1 - c0)) ticks of CPU while idle"
stop_logship TERM 30
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
pass
