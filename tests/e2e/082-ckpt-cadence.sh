#!/usr/bin/env bash
# The checkpoint's cadence follows the acks: the first ack after start is
# saved at once (a kill -9 right after the broker has a line resends
# nothing); a steady stream of acks is saved once every checkpoint_delay,
# not per ack and not per second; nothing is written while nothing
# advances.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs" "$work/state"
journal="$work/state/p.journal"
seq -f "first-%03g" 1 10 >"$work/logs/a.log"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/a.log\"]"

# the first ack: on disk by the time a consumer sees the line (give it
# checkpoint_delay at most), then kill -9: the next run sends nothing again
start_logship "$work/p.yaml"
wait_for 20 "10 lines" topic_has "$topic" 10
wait_for 2 "the first ack saved" ckpt_at "$work/state/p.ckpt" "$work/logs/a.log" 100
stop_logship KILL
start_logship "$work/p.yaml"
wait_for 10 "resumed at the first ack" log_has "resuming at offset 100"

# a steady stream: about 3 s of acks, one line every 10 ms
python3 - "$work/logs/a.log" <<'PY'
import sys, time
with open(sys.argv[1], 'a') as f:
    for i in range(300):
        f.write('steady-%04d\n' % i)
        f.flush()
        time.sleep(0.01)
PY
wait_for 20 "310 lines" topic_has "$topic" 310
size=$(( 100 + 300 * 12 ))
wait_for 2 "the last ack saved" ckpt_at "$work/state/p.ckpt" "$work/logs/a.log" "$size"
# one file: one record a save; 3 s at one save per 100 ms is about 30
saves=$(grep -cE '^[OFE] ' "$journal")
echo "journal records over ~3 s of acks: $saves"
[ "$saves" -ge 8 ] || fail "only $saves saves for 3 s of acks: not driven by them"
[ "$saves" -le 60 ] || fail "$saves saves for 3 s of acks: more than one per checkpoint_delay"

# idle: nothing advances, nothing is written
before=$(cd "$work/state" && stat -c '%n %s %.9Y' -- *)
sleep 2
after=$(cd "$work/state" && stat -c '%n %s %.9Y' -- *)
[ "$before" = "$after" ] || fail "checkpoint files changed while idle: $before -> $after"

stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "exit status $lsh_rc"
# a clean stop compacts: the snapshot holds it all, the journal is empty
[ "$(wc -l <"$journal")" -eq 1 ] || fail "journal not reset at shutdown: $(cat "$journal")"
grep -q " $size " "$work/state/p.ckpt" || fail "snapshot misses the offset: $(cat "$work/state/p.ckpt")"
[ "$(topic_count "$topic")" -eq 310 ] || fail "lines were sent twice: $(topic_count "$topic")"
pass
