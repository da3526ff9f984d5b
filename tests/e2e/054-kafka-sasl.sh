#!/usr/bin/env bash
# SASL/PLAIN against the local broker's second listener: the right
# password delivers; a wrong one delivers nothing, loses nothing (the
# records wait) and says why.  The password is never printed: not by
# --check, not in the log.
. "$(dirname "$0")/lib.sh"

sasl=127.0.0.1:$((${KAFKA_PORT:-9092} + 2))
topic=$(unique_topic)
create_topic "$topic" 1
mkdir -p "$work/logs"
seq -f "s-%03g" 1 100 >"$work/logs/app.log"
write_config() { # password
    cat >"$work/p.yaml" <<YAML
service: {state_dir: "$work/state", shutdown_timeout: 1s}
pipelines:
  p:
    inputs: [{type: tail, paths: ["$work/logs/app.log"]}]
    outputs:
      - type: kafka
        brokers: "$sasl"
        topic: $topic
        format: raw
        security_protocol: sasl_plaintext
        sasl_mechanism: PLAIN
        sasl_username: logship
        sasl_password: "\${LSH_TEST_KAFKA_PASSWORD}"
YAML
    export LSH_TEST_KAFKA_PASSWORD=$1
}
write_config wrong-secret-xyz
"$LOGSHIP" --check -c "$work/p.yaml" >"$work/check.out" 2>&1
grep -q 'sasl_password: "\*\*\*\*"' "$work/check.out" || fail "not masked in --check"
grep -q 'wrong-secret-xyz' "$work/check.out" && fail "--check printed the password"
start_logship "$work/p.yaml"
wait_for 20 "an authentication error" log_has "Authentication failed"
sleep 1
[ "$(topic_count "$topic")" -eq 0 ] || fail "delivered with a wrong password"
stop_logship TERM 20
grep -q 'wrong-secret-xyz' "$work/logship.err" && fail "the log printed the password"
write_config logship-secret
start_logship "$work/p.yaml"
wait_exact 30 "$topic" 100
seq -f "s-%03g" 1 100 >"$work/want.txt"
check_topic ordered "$topic" "$work/want.txt"
stop_logship TERM 20
grep -q 'logship-secret' "$work/logship.err" && fail "the log printed the password"
pass
