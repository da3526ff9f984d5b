#!/usr/bin/env bash
# Multiline: Java stack traces are joined to the line that starts them; a
# record ends at the next start line or flush_after without new lines;
# max_lines splits a record without losing lines.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/app.log\"]" \
    "multiline: {start: '^\\d{4}-\\d\\d-\\d\\d ', flush_after: 300ms, max_lines: 4}"
cat >"$work/logs/app.log" <<'LOG'
    orphan continuation before any start line
2026-11-23 10:00:00 INFO started
2026-11-23 10:00:01 ERROR request failed
java.lang.IllegalStateException: boom
	at com.example.Service.handle(Service.java:42)
	at com.example.Server.run(Server.java:7)
2026-11-23 10:00:02 WARN long trace
	at a(A.java:1)
	at b(B.java:2)
	at c(C.java:3)
	at d(D.java:4)
	at e(E.java:5)
LOG
start_logship "$work/p.yaml"
# the trace at the end has no start line after it: flush_after sends it
wait_exact 20 "$topic" 5
# a trace written in two parts, slower than... no: within flush_after
printf '2026-11-23 10:00:03 ERROR again\n' >>"$work/logs/app.log"
printf 'Caused by: x\n' >>"$work/logs/app.log"
wait_exact 20 "$topic" 6
consume "$topic" -f '%s\n--\n' >"$work/got.txt"
cat >"$work/want.txt" <<'WANT'
    orphan continuation before any start line
--
2026-11-23 10:00:00 INFO started
--
2026-11-23 10:00:01 ERROR request failed
java.lang.IllegalStateException: boom
	at com.example.Service.handle(Service.java:42)
	at com.example.Server.run(Server.java:7)
--
2026-11-23 10:00:02 WARN long trace
	at a(A.java:1)
	at b(B.java:2)
	at c(C.java:3)
--
	at d(D.java:4)
	at e(E.java:5)
--
2026-11-23 10:00:03 ERROR again
Caused by: x
--
WANT
diff -u "$work/want.txt" "$work/got.txt" || fail "multiline records differ"
stop_logship TERM 20
pass
