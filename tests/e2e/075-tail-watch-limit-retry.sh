#!/usr/bin/env bash
# The inotify watch limit (ENOSPC): watches that could not be added are
# tried again with backoff, and meanwhile the files are polled, so no
# append is missed.  The shim fails the first 4 inotify_add_watch calls:
# the directory's and the first files'.  Appends to the files, and a file
# created later in the directory, all arrive.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
tail_config "$work/p.yaml" "$topic" "[\"$work/logs/*.log\"]"
: >"$work/want.txt"
for i in 1 2 3; do
    seq -f "f$i-%03g" 1 10 >"$work/logs/f$i.log"
    seq -f "f$i-%03g" 1 10 >>"$work/want.txt"
done
LSH_NOWATCH_FAILS=4 start_logship_nowatch "$work/p.yaml"
wait_for 20 "the first lines" topic_has "$topic" 30
log_has "fs.inotify.max_user_watches" || fail "the fix is not named"
for i in 1 2 3; do
    seq -f "f$i-late-%03g" 1 10 >>"$work/logs/f$i.log"
    seq -f "f$i-late-%03g" 1 10 >>"$work/want.txt"
done
wait_for 20 "appends while unwatched" topic_has "$topic" 60
wait_for 20 "the watches retried" log_has "can be watched now"
seq -f "f4-%03g" 1 10 >"$work/logs/f4.log"
seq -f "f4-%03g" 1 10 >>"$work/want.txt"
wait_exact 20 "$topic" 70
check_topic exact "$topic" "$work/want.txt"
stop_logship TERM 20
pass
