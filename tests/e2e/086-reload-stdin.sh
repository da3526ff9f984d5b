#!/usr/bin/env bash
# A reload never drains away what stdin gave (it cannot be read again):
# a stdin pipeline that a reload changes or removes goes on as it is, and
# says so.  When stdin has ended and a reload removes the last pipeline
# still reading, logship shuts down (every input has finished).
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/logs"
mkfifo "$work/in"
exec 3<>"$work/in" # the writer: stdin stays open until fd 3 closes
conf() { # stdin_format with_tail
    {
        echo "service: {log_level: info, state_dir: \"$work/state\"}"
        echo "pipelines:"
        echo "  s:"
        echo "    inputs: [{type: stdin}]"
        echo "    outputs: [{type: stdout, format: $1}]"
        if [ "$2" = 1 ]; then
            echo "  t:"
            echo "    inputs: [{type: tail, paths: [\"$work/logs/t.log\"]}]"
            echo "    outputs: [{type: null}]"
        fi
    } >"$work/p.yaml.tmp"
    mv "$work/p.yaml.tmp" "$work/p.yaml"
}
conf raw 1
"$LOGSHIP" -c "$work/p.yaml" <"$work/in" >"$work/out.txt" 2>"$work/logship.err" 3>&- &
lsh_pid=$!
wait_for 10 "logship started" log_has "logship 0.1.0 started"
seq -f "a-%03g" 1 100 >&3
lines() { [ "$(wc -l <"$work/out.txt")" -ge "$1" ]; }
wait_for 10 "the first lines" lines 100
conf json 1
kill -HUP "$lsh_pid"
wait_for 10 "the change declined" log_has "pipeline 's' reads stdin, which cannot be read again: a reload leaves it as it is (restart logship to change it)"
conf raw 0
kill -HUP "$lsh_pid"
wait_for 10 "t removed" log_has "pipeline 't' stopped: its checkpoints are saved"
kill -0 "$lsh_pid" || fail "logship stopped while stdin is open"
seq -f "b-%03g" 1 100 >&3
wait_for 10 "the later lines" lines 200
# the settings did not change: still raw, every line once
{ seq -f "a-%03g" 1 100; seq -f "b-%03g" 1 100; } >"$work/want.txt"
diff "$work/want.txt" "$work/out.txt" >/dev/null || fail "stdout is not the 200 lines, raw, once"
# stdin ends while a tail pipeline runs: logship goes on, until a reload
# removes that one too
conf raw 1
kill -HUP "$lsh_pid"
wait_for 10 "t added again" log_has "added [\"t\"]"
exec 3>&-
sleep 1
kill -0 "$lsh_pid" || fail "logship stopped while pipeline t still reads"
conf raw 0
kill -HUP "$lsh_pid"
gone() { ! kill -0 "$lsh_pid" 2>/dev/null; }
wait_for 20 "logship shut down once every input finished" gone
set +e
wait "$lsh_pid"
rc=$?
set -e
lsh_pid=
[ "$rc" -eq 0 ] || fail "logship exited $rc"
log_has "every input has finished" || fail "the reason is not logged"
pass
