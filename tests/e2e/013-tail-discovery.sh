#!/usr/bin/env bash
# Globs pick up what appears later, through inotify: a new file, a new
# directory (** at any depth), a root directory that did not exist at
# start; excluded files and hidden directories are not followed.
. "$(dirname "$0")/lib.sh"

topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
cat >"$work/p.yaml" <<YAML
service: {state_dir: "$work/state"}
pipelines:
  p:
    inputs:
      - type: tail
        paths: ["$work/logs/**/*.log", "$work/later/app-*/*.log"]
        exclude: ["*.skip.log", "$work/logs/private/**"]
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic, format: raw}
YAML
start_logship "$work/p.yaml"
wait_for 10 "logship started" log_has "waiting for one to appear"

echo top-1 >"$work/logs/top.log"
wait_for 10 "a new file" topic_has "$topic" 1
mkdir -p "$work/logs/a/b/c"
echo deep-1 >"$work/logs/a/b/c/deep.log"
wait_for 10 "a new directory tree" topic_has "$topic" 2
mkdir -p "$work/later/app-1"
echo later-1 >"$work/later/app-1/x.log"
wait_for 10 "a root created after start" topic_has "$topic" 3
# created in one go with its files, before the watch could be added
mkdir -p "$work/logs/burst" && echo burst-1 >"$work/logs/burst/b.log"
wait_for 10 "a directory made with its file" topic_has "$topic" 4
# not followed: excluded by name, excluded by path, hidden, not matching
echo no >"$work/logs/x.skip.log"
mkdir -p "$work/logs/private" "$work/logs/.hidden"
echo no >"$work/logs/private/p.log"
echo no >"$work/logs/.hidden/h.log"
echo no >"$work/logs/notes.txt"
echo no >"$work/later/app-1/x.txt"
echo top-2 >>"$work/logs/top.log"
printf 'top-1\ndeep-1\nlater-1\nburst-1\ntop-2\n' >"$work/want.txt"
wait_exact 10 "$topic" 5
check_topic exact "$topic" "$work/want.txt"
stop_logship TERM 20
pass
