#!/usr/bin/env bash
# Rename rotation every 10 ms while 200,000 numbered lines are written.
# After each rename the writer keeps writing to the old file for a while,
# as a process that has not reopened yet would.  Only app.log matches the
# glob, so the rotated files are followed through rotate_wait.  Every line
# must arrive exactly once.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]" "rotate_wait: 1s"
start_logship "$work/p.yaml"
wait_for 10 "logship started" log_has "waiting for one to appear"

python3 - "$work/logs" "$work/want.txt" <<'PY'
import os, sys, time
d, want = sys.argv[1], sys.argv[2]
total, per_write, period = 200000, 100, 0.010
fd = os.open(d + '/app.log', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
old, k, seq = None, 0, 0
next_rot = time.monotonic() + period
with open(want, 'w') as w:
    while seq < total:
        n = min(per_write, total - seq)
        data = ''.join('L%07d\n' % (seq + i) for i in range(n))
        # a few lines still go to the previous file after its rename
        target = old if (old is not None and seq % 700 < 100) else fd
        os.write(target, data.encode())
        w.write(data)
        seq += n
        if time.monotonic() >= next_rot:
            k += 1
            os.rename(d + '/app.log', '%s/app.log.%d' % (d, k))
            if old is not None:
                os.close(old)
            old = fd
            fd = os.open(d + '/app.log', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            next_rot += period
        time.sleep(0.0015)
os.close(fd)
if old is not None:
    os.close(old)
print('rotations:', k)
PY

wait_exact 120 "$topic" 200000
check_topic exact "$topic" "$work/want.txt"
# rotated files are closed rotate_wait after their last write
wait_for 20 "rotated files closed" log_has "closed rotated file '$work/logs/app.log'"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
grep -o '[0-9]* rotations' "$work/logship.err" | tail -1
pass
