#!/usr/bin/env bash
# The deployment files stay valid: the pipeline in the Kubernetes
# ConfigMap passes --check when mounted the way the kubelet mounts a
# ConfigMap (a ..data symlink), the manifests parse, and systemd accepts
# the unit (when systemd-analyze is there).
set -euo pipefail
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$src/deploy/kubernetes/daemonset.yaml" "$tmp" <<'PY'
import os, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = [d['kind'] for d in docs]
assert kinds == ['Namespace', 'ConfigMap', 'DaemonSet'], kinds
cm, ds = docs[1], docs[2]
pod = ds['spec']['template']['spec']
c = pod['containers'][0]
mounts = {m['name']: m['mountPath'] for m in c['volumeMounts']}
vols = {v['name']: v for v in pod['volumes']}
assert mounts['config'] == '/etc/logship', mounts
assert vols['config']['configMap']['name'] == cm['metadata']['name']
assert vols['varlog']['hostPath']['path'] == '/var/log'
assert vols['state']['hostPath']['path'] == mounts['state'] == '/var/lib/logship'
assert c['resources']['limits']['memory'], 'no memory limit'
port = {p['name']: p['containerPort'] for p in c['ports']}['http']
assert c['livenessProbe']['httpGet'] == {'path': '/health', 'port': 'http'}
assert c['readinessProbe']['httpGet'] == {'path': '/ready', 'port': 'http'}
ann = ds['spec']['template']['metadata']['annotations']
assert ann['prometheus.io/port'] == str(port), ann
cfg = yaml.safe_load(cm['data']['containers.yaml'])
assert cfg['service']['http']['listen'].endswith(':%d' % port), cfg
data = os.path.join(sys.argv[2], '..2026_11_29_00_00_00.000000001')
os.makedirs(data)
for name, text in cm['data'].items():
    with open(os.path.join(data, name), 'w') as f:
        f.write(text)
    os.symlink(os.path.join('..data', name), os.path.join(sys.argv[2], name))
os.symlink(os.path.basename(data), os.path.join(sys.argv[2], '..data'))
PY
NODE_NAME=node-1 KAFKA_BROKERS=127.0.0.1:9092 "$bin" --check -c "$tmp" >"$tmp.out" 2>&1 ||
    { cat "$tmp.out"; echo "FAIL: the ConfigMap's pipeline does not pass --check"; exit 1; }
grep -q 'state_dir: "/var/lib/logship"' "$tmp.out" || { echo "FAIL: state_dir"; exit 1; }
rm -f "$tmp.out"

grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$src/deploy/systemd/logship.service" ||
    { echo "FAIL: the unit has no ExecReload"; exit 1; }

if command -v systemd-analyze >/dev/null 2>&1; then
    sed "s#/usr/local/bin/logship#$bin#g" "$src/deploy/systemd/logship.service" \
        >"$tmp/logship.service"
    out=$(systemd-analyze verify "$tmp/logship.service" 2>&1 || true)
    if [ -n "$out" ]; then
        echo "$out"
        echo "FAIL: systemd-analyze verify"
        exit 1
    fi
fi
echo "PASS: deploy"
