#!/usr/bin/env bash
# A real Apache Kafka broker for tests, the demo and benchmarks: one node in
# KRaft mode (broker and controller) on 127.0.0.1:9092, fetched from Maven
# Central.
#
#   kafka.sh start                    fetch if needed, format, start, wait
#                                     (KAFKA_KEEP_DATA=1: keep the data of
#                                     an earlier start, for outage tests)
#   kafka.sh stop                     stop; no process is left behind
#   kafka.sh status                   exit 0 if the broker answers
#   kafka.sh topic NAME PARTITIONS [KEY=VALUE...]
#                                     create a topic (no-op if it exists),
#                                     with topic configs
#   kafka.sh config NAME KEY=VALUE    change a topic's configuration
#   kafka.sh logs                     print the end of the broker's log
#
# Environment:
#   KAFKA_VERSION     broker version from Maven Central (default 3.9.1)
#   LOGSHIP_CACHE     where the broker's jars are kept
#                     (default ~/.cache/logship; outside the repository)
#   LOGSHIP_KAFKA_DIR runtime directory: data, log, pid
#                     (default /tmp/logship-kafka)
#   KAFKA_HEAP_OPTS   JVM heap (default -Xms256m -Xmx512m)
#   KAFKA_PORT        listener port (default 9092; the controller uses the
#                     next one, a SASL_PLAINTEXT listener with PLAIN the one
#                     after: user "logship", password "logship-secret");
#                     another port gives a separate broker with its own
#                     runtime directory, for tests that stop it
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=${KAFKA_VERSION:-3.9.1}
cache=${LOGSHIP_CACHE:-$HOME/.cache/logship}/kafka-$version
port=${KAFKA_PORT:-9092}
cport=$((port + 1))
sport=$((port + 2)) # SASL_PLAINTEXT, mechanism PLAIN: users admin, logship
if [ "$port" = 9092 ]; then
    run=${LOGSHIP_KAFKA_DIR:-/tmp/logship-kafka}
else
    run=${LOGSHIP_KAFKA_DIR:-/tmp/logship-kafka-$port}
fi
bootstrap=127.0.0.1:$port
heap=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
# a fixed cluster id: every start formats fresh storage anyway
cluster_id=bG9nc2hpcC10ZXN0LWtmaw

die() { echo "kafka.sh: $*" >&2; exit 1; }

need() {
    command -v "$1" >/dev/null 2>&1 ||
        die "'$1' is not installed (scripts/setup.sh installs it)"
}

fetch() {
    if [ -f "$cache/.complete" ]; then
        return
    fi
    need mvn
    need java
    echo "kafka.sh: fetching Apache Kafka $version from Maven Central" >&2
    rm -rf "$cache"
    mkdir -p "$cache/libs"
    mvn -q -B -f "$here/pom.xml" -Dkafka.version="$version" \
        dependency:copy-dependencies -DoutputDirectory="$cache/libs" >&2 ||
        die "mvn could not fetch Kafka $version"
    touch "$cache/.complete"
}

answers() {
    kcat -b "$bootstrap" -L -m 2 >/dev/null 2>&1
}

pid_alive() {
    [ -f "$run/broker.pid" ] && kill -0 "$(cat "$run/broker.pid")" 2>/dev/null
}

write_config() {
    cat >"$run/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_PLAINTEXT://127.0.0.1:$sport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_logship="logship-secret";
log.dirs=$run/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
EOF
    cat >"$run/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$run/broker.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
}

java_run() {
    # shellcheck disable=SC2086
    java $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$run/log4j.properties" \
        -cp "$cache/libs/*" "$@"
}

start() {
    if answers; then
        echo "kafka.sh: broker already running on $bootstrap" >&2
        return
    fi
    need kcat
    need java
    fetch
    if pid_alive; then
        stop
    fi
    if [ "${KAFKA_KEEP_DATA:-0}" = 1 ] && [ -f "$run/data/meta.properties" ]; then
        write_config # same settings, same data: a restart
    else
        rm -rf "$run"
        mkdir -p "$run/data"
        write_config
        java_run kafka.tools.StorageTool format -t "$cluster_id" \
            -c "$run/server.properties" >"$run/format.log" 2>&1 ||
            { cat "$run/format.log" >&2; die "formatting storage failed"; }
    fi
    setsid nohup bash -c 'exec "$@"' _ java $heap -XX:+UseG1GC \
        -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$run/log4j.properties" \
        -cp "$cache/libs/*" kafka.Kafka "$run/server.properties" \
        >"$run/stdout.log" 2>&1 </dev/null &
    echo $! >"$run/broker.pid"
    for _ in $(seq 1 240); do
        if answers; then
            echo "kafka.sh: broker $version up on $bootstrap (logs: $run/broker.log)" >&2
            return
        fi
        if ! pid_alive; then
            logs >&2
            die "the broker exited during start"
        fi
        sleep 0.25
    done
    logs >&2
    stop
    die "the broker did not answer within 60 s"
}

stop() {
    local pid
    if [ -f "$run/broker.pid" ]; then
        pid=$(cat "$run/broker.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 80); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.25
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$run/broker.pid"
    fi
    # anything else started from this runtime directory
    pkill -KILL -f "$run/server.properties" 2>/dev/null || true
    for _ in $(seq 1 40); do
        pgrep -f "$run/server.properties" >/dev/null || break
        sleep 0.25
    done
    if pgrep -f "$run/server.properties" >/dev/null; then
        die "a broker process is still running"
    fi
}

status() {
    if answers; then
        echo "running on $bootstrap"
    else
        echo "not running"
        return 1
    fi
}

topic() {
    local name=${1:?topic NAME PARTITIONS} parts=${2:?topic NAME PARTITIONS}
    local configs=() kv
    shift 2
    for kv in "$@"; do
        configs+=(--config "$kv")
    done
    answers || die "no broker on $bootstrap"
    fetch
    java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
        --create --if-not-exists --topic "$name" --partitions "$parts" \
        --replication-factor 1 "${configs[@]}" >/dev/null 2>"$run/topic.err" ||
        { cat "$run/topic.err" >&2; die "cannot create topic '$name'"; }
    # wait until the new topic's leaders are known
    for _ in $(seq 1 40); do
        if [ "$(kcat -b "$bootstrap" -L -t "$name" -m 2 2>/dev/null |
            grep -c 'leader 1,')" -ge "$parts" ]; then
            return
        fi
        sleep 0.25
    done
    die "topic '$name' has no leaders"
}

# Changes a topic's configuration: topic_config NAME KEY=VALUE[,KEY=VALUE]
topic_config() {
    local name=${1:?config NAME KEY=VALUE} kv=${2:?config NAME KEY=VALUE}
    answers || die "no broker on $bootstrap"
    fetch
    java_run kafka.admin.ConfigCommand --bootstrap-server "$bootstrap" \
        --alter --entity-type topics --entity-name "$name" --add-config "$kv" \
        >/dev/null 2>"$run/config.err" ||
        { cat "$run/config.err" >&2; die "cannot configure topic '$name'"; }
}

logs() {
    if [ -f "$run/broker.log" ]; then
        echo "--- last lines of $run/broker.log ---"
        tail -n "${1:-60}" "$run/broker.log"
    fi
    if [ -s "$run/stdout.log" ]; then
        echo "--- $run/stdout.log ---"
        tail -n 20 "$run/stdout.log"
    fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
topic) shift; topic "$@" ;;
config) shift; topic_config "$@" ;;
logs) shift; logs "$@" ;;
fetch) fetch ;;
*) echo "usage: kafka.sh start|stop|status|topic NAME PARTITIONS|config NAME K=V|logs" >&2; exit 2 ;;
esac
