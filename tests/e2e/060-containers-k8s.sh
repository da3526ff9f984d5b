#!/usr/bin/env bash
# Container logs in the Kubernetes layout: /var/log/containers/*.log are
# symlinks into /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log, one
# container writing Docker json-file and one CRI (format: auto tells them
# apart).  Both are rotated by rename while logship runs, with a line
# written to the old file after the rename and the new file written in
# two pieces that split a line.  The exact records (text, stream, time to
# the nanosecond, k8s fields, errors on malformed lines) are read back
# from the broker and compared with what an independent decoder expects.
# A second pipeline follows /var/log/pods directly: the rotated files are
# not read twice, and a compressed one is not read at all.
. "$(dirname "$0")/lib.sh"

fixtures=$LOGSHIP_SRC/tests/e2e/fixtures/containers
topic=$(unique_topic)
topic_pods=$topic-pods
create_topic "$topic" 2
create_topic "$topic_pods" 1
id_web=$(printf 'a1%.0s' $(seq 32))
id_dns=$(printf 'b2%.0s' $(seq 32))
logs=$work/var/log
web=$logs/pods/shop_web-7d9f8c-x2x9q_5e1d2f0a/nginx
dns=$logs/pods/kube-system_coredns-5c4b_9a8b7c6d/coredns
mkdir -p "$web" "$dns" "$logs/containers"
ln -s "../pods/shop_web-7d9f8c-x2x9q_5e1d2f0a/nginx/0.log" \
    "$logs/containers/web-7d9f8c-x2x9q_shop_nginx-$id_web.log"
ln -s "../pods/kube-system_coredns-5c4b_9a8b7c6d/coredns/0.log" \
    "$logs/containers/coredns-5c4b_kube-system_coredns-$id_dns.log"
# an old rotated file the runtime compressed: never read
gzip -c "$fixtures/docker.log" >"$web/0.log.20261122-000000.gz"
head -n 4 "$fixtures/docker.log" >"$web/0.log"
head -n 4 "$fixtures/cri.log" >"$dns/0.log"

# what an independent decoder expects, in each file's order
python3 - "$fixtures" "$work/want" "$id_web" "$id_dns" <<'PY'
import calendar, json, os, re, sys
fx, out, id_web, id_dns = sys.argv[1:5]
TS = re.compile(r'^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$')

def ns(ts):
    m = TS.match(ts)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 61):
        return None
    t = calendar.timegm((y, mo, d, h, mi, s)) * 10**9 + int((m.group(7) or '0').ljust(9, '0'))
    z = m.group(8)
    if z != 'Z':
        t -= (1 if z[0] == '+' else -1) * (int(z[1:3]) * 3600 + int(z[4:6]) * 60) * 10**9
    return t

def rfc3339_ns(t):
    s, f = divmod(t, 10**9)
    import time
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(s)) + '.%09dZ' % f

def fix_surrogates(s):
    return re.sub('[\ud800-\udfff]', '\ufffd', s)

def docker(raw):
    try:
        o = json.loads(raw.decode('utf-8'))
    except ValueError:
        return None, 'invalid json'
    if not all(isinstance(o.get(k), str) for k in ('log', 'stream', 'time')):
        return None, 'not a docker log line (log, stream and time strings)'
    if o['stream'] not in ('stdout', 'stderr'):
        return None, 'unknown stream'
    t = ns(o['time'])
    if t is None:
        return None, 'bad time'
    log = fix_surrogates(o['log'])
    return (log.endswith('\n'), log[:-1] if log.endswith('\n') else log, o['stream'], t), None

def cri(raw):
    parts = raw.split(b' ', 3)
    if len(parts) < 2:
        return None, 'bad cri header'
    t = ns(parts[0].decode('utf-8', 'replace'))
    if t is None:
        return None, 'bad cri time'
    if len(parts) < 3 or parts[1] not in (b'stdout', b'stderr'):
        return None, 'bad cri stream'
    tag = parts[2]
    if tag[:1] not in (b'P', b'F') or (len(tag) > 1 and tag[1:2] != b':'):
        return None, 'bad cri tag'
    msg = parts[3] if len(parts) > 3 else b''
    return (tag[:1] == b'F', msg.decode('utf-8', 'replace'), parts[1].decode(), t), None

def expect(path, decode, k8s):
    recs, pend = [], {}
    for raw in open(path, 'rb').read().split(b'\n')[:-1]:
        d, err = decode(raw)
        if d is None:
            r = {'time': 'READ-TIME', 'body': raw.decode('utf-8', 'replace')}
            r.update(k8s)
            r['container_error'] = err
            recs.append(r)
            continue
        whole, msg, stream, t = d
        if stream in pend:
            pend[stream][0] += msg
        else:
            pend[stream] = [msg, t]
        if whole:
            msg, t = pend.pop(stream)
            r = {'time': rfc3339_ns(t), 'body': msg}
            r.update(k8s)
            r['stream'] = stream
            recs.append(r)
    return recs

def k8s(pod, ns_, c, cid, link):
    return {'path': link, 'host': 'node-1', 'k8s_pod': pod, 'k8s_namespace': ns_,
            'k8s_container': c, 'container_id': cid}

logs = os.path.join(os.path.dirname(out), 'var/log/containers')
want = expect(os.path.join(fx, 'docker.log'), docker,
              k8s('web-7d9f8c-x2x9q', 'shop', 'nginx', id_web,
                  '%s/web-7d9f8c-x2x9q_shop_nginx-%s.log' % (logs, id_web)))
want += expect(os.path.join(fx, 'cri.log'), cri,
               k8s('coredns-5c4b', 'kube-system', 'coredns', id_dns,
                   '%s/coredns-5c4b_kube-system_coredns-%s.log' % (logs, id_dns)))
with open(out, 'w') as f:
    for r in want:
        f.write(json.dumps(r, ensure_ascii=False, separators=(',', ':')) + '\n')
PY
want=$(wc -l <"$work/want")

cat >"$work/p.yaml" <<YAML
service: {hostname: node-1, state_dir: "$work/state"}
pipelines:
  k8s:
    inputs:
      - type: tail
        paths: ["$logs/containers/*.log"]
        format: auto
        rotate_wait: 1s
    outputs:
      - type: kafka
        brokers: "$BROKERS"
        topic: $topic
        key: "{{k8s_namespace}}/{{k8s_pod}}"
        time_format: rfc3339_ns
  pods:
    inputs:
      - {type: tail, paths: ["$logs/pods/*/*/*"], format: auto, rotate_wait: 1s}
    outputs:
      - {type: kafka, brokers: "$BROKERS", topic: $topic_pods}
YAML
"$LOGSHIP" --check -c "$work/p.yaml" >/dev/null 2>&1 || fail "config does not pass --check"
start_logship "$work/p.yaml"
wait_for 20 "the first lines" topic_has "$topic" 8

# rotate both by rename, as the kubelet does; the runtime writes one more
# line to the old file before it reopens
for c in "$web:docker" "$dns:cri"; do
    dir=${c%%:*}
    f=$fixtures/${c##*:}.log
    mv "$dir/0.log" "$dir/0.log.20261123-101500"
    sed -n 5p "$f" >>"$dir/0.log.20261123-101500"
    tail -n +6 "$f" >"$work/rest"
    half=$(($(stat -c %s "$work/rest") / 2))
    head -c "$half" "$work/rest" >"$dir/0.log"
    sleep 0.3
    tail -c +$((half + 1)) "$work/rest" >>"$dir/0.log"
done

wait_exact 30 "$topic" "$want"
consume "$topic" >"$work/got"
python3 - "$work/got" "$work/want" <<'PY' || fail "records differ"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
want = [json.loads(l) for l in open(sys.argv[2], encoding='utf-8')]
for r in got:
    if 'container_error' in r:
        r['time'] = 'READ-TIME'
rc = 0
for pod in sorted({r['k8s_pod'] for r in want}):
    g = [r for r in got if r.get('k8s_pod') == pod]
    w = [r for r in want if r['k8s_pod'] == pod]
    if g != w:
        rc = 1
        print('%s: got %d records, want %d' % (pod, len(g), len(w)))
        for i, (a, b) in enumerate(zip(g, w)):
            if a != b:
                print('first difference at %d:\n got  %r\n want %r' % (i, str(a)[:600], str(b)[:600]))
                break
if len(got) != len(want):
    rc = 1
    print('got %d records in all, want %d' % (len(got), len(want)))
sys.exit(rc)
PY
# every key (namespace/pod) in one partition
for p in 0 1; do
    kcat -b "$BROKERS" -C -t "$topic" -p "$p" -e -q -f '%k\n' | sort -u
done | sort | uniq -d | grep -q . && fail "a key is in two partitions"

# /var/log/pods directly: each line once, the .gz never
wait_exact 30 "$topic_pods" "$want"
consume "$topic_pods" >"$work/got-pods"
grep -q '\.gz' "$work/got-pods" && fail "a compressed file was read"
grep -c '"k8s_pod_uid":"5e1d2f0a"' "$work/got-pods" >/dev/null ||
    fail "no k8s fields from the pods layout"
stop_logship TERM 20
[ "$lsh_rc" -eq 0 ] || fail "logship exited $lsh_rc"
malformed=$(grep -c '"container_error"' "$work/want")
log_has "k8s/input.tail: container logs:" || fail "no container counters"
grep "k8s/input.tail: container logs:" "$work/logship.err" |
    grep -q " $malformed malformed" || fail "malformed count, want $malformed"
pass
