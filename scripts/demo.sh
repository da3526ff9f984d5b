#!/usr/bin/env bash
# The demo: installs what is missing, builds logship, starts a local Kafka
# broker, and runs `logship -c conf.d/` on the demo pipeline, which
# follows a generated log.  Records are shown as they arrive in Kafka (read
# back with kcat); then everything is stopped and the counts compared.
# Usage: scripts/demo.sh            (DEMO_SECONDS=N to run longer; default 10)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$src"
seconds=${DEMO_SECONDS:-10}
export LOGSHIP_DEMO_DIR=${LOGSHIP_DEMO_DIR:-/tmp/logship-demo}
export LOGSHIP_DEMO_TOPIC=${LOGSHIP_DEMO_TOPIC:-logship-demo-$(date +%s)}
logs=$LOGSHIP_DEMO_DIR/logs
gen_pid=
lsh_pid=
kafka_started=

say() { printf '\n>>> %s\n' "$*"; }

cleanup() {
    [ -n "$gen_pid" ] && kill "$gen_pid" 2>/dev/null || true
    if [ -n "$lsh_pid" ] && kill -0 "$lsh_pid" 2>/dev/null; then
        kill -TERM "$lsh_pid" 2>/dev/null || true
        wait "$lsh_pid" 2>/dev/null || true
    fi
    if [ -n "$kafka_started" ]; then
        tests/kafka/kafka.sh stop || true
    fi
}
trap cleanup EXIT

say "installing what is missing"
scripts/setup.sh

say "building"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target logship

say "starting a local Kafka broker (KRaft, 127.0.0.1:9092)"
if ! tests/kafka/kafka.sh status >/dev/null 2>&1; then
    kafka_started=1
fi
tests/kafka/kafka.sh start
tests/kafka/kafka.sh topic "$LOGSHIP_DEMO_TOPIC" 1

say "generating $logs/app.log"
rm -rf "$LOGSHIP_DEMO_DIR"
mkdir -p "$logs"
: >"$logs/app.log"
# a few lines before logship starts, then 20 lines a second
python3 - "$logs/app.log" "$seconds" <<'PY' &
import random, sys, time
from datetime import datetime, timezone
path, seconds = sys.argv[1], float(sys.argv[2])
levels = ['INFO'] * 7 + ['WARN', 'ERROR', 'DEBUG']
paths = ['/v1/items/42', '/v1/users/7', '/healthz', '/v1/orders']
end = time.time() + seconds
seq = 0
with open(path, 'a', buffering=1) as f:
    while time.time() < end:
        seq += 1
        now = datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]
        f.write('%sZ %-5s service=api-%d user=%d msg="GET %s 200 %dms" seq=%d\n'
                % (now, random.choice(levels), random.randint(1, 9),
                   random.randint(1000, 9999), random.choice(paths),
                   random.randint(1, 90), seq))
        time.sleep(0.05 if seq > 5 else 0)
PY
gen_pid=$!

say "running: build/logship -c conf.d/   (logship's own log: $LOGSHIP_DEMO_DIR/logship.log)"
build/logship --check -c conf.d/ >/dev/null
build/logship -c conf.d/ 2>"$LOGSHIP_DEMO_DIR/logship.log" &
lsh_pid=$!

say "records arriving in Kafka topic $LOGSHIP_DEMO_TOPIC (kcat -C), for ${seconds}s"
timeout "$((seconds + 2))" kcat -b 127.0.0.1:9092 -C -t "$LOGSHIP_DEMO_TOPIC" \
    -o beginning -q -f '[partition %p offset %o] %s\n' || true

wait "$gen_pid" || true
gen_pid=
written=$(wc -l <"$logs/app.log")
for _ in $(seq 1 50); do
    got=$(kcat -b 127.0.0.1:9092 -Q -t "$LOGSHIP_DEMO_TOPIC:0:-1" 2>/dev/null |
        awk '{print $NF}')
    [ "${got:-0}" -ge $((written - $(grep -c ' DEBUG ' "$logs/app.log" || true))) ] && break
    sleep 0.1
done

say "stopping logship (SIGTERM)"
kill -TERM "$lsh_pid"
wait "$lsh_pid"
lsh_pid=
tail -n 3 "$LOGSHIP_DEMO_DIR/logship.log"

debug=$(grep -c ' DEBUG ' "$logs/app.log" || true)
say "lines written: $written ($debug DEBUG, dropped by grep); messages in Kafka: ${got:-0}"
if [ "${got:-0}" -ne $((written - debug)) ]; then
    echo "demo: counts differ" >&2
    exit 1
fi
say "done; stopping the broker"
