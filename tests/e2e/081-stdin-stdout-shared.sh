#!/usr/bin/env bash
# stdin and stdout are one socket (a socketpair end), non-blocking, read
# slowly: logship never changes the description's flags, and the stdout
# output waits for writability instead of treating EAGAIN as an error.
# 200,000 lines sent, 200,000 received, in order, and exit 0.
. "$(dirname "$0")/lib.sh"

cat >"$work/p.yaml" <<YAML
service: {log_level: info, state_dir: "$work/state"}
pipelines:
  p:
    inputs: [{type: stdin}]
    outputs: [{type: stdout, format: raw}]
YAML
python3 - "$LOGSHIP" "$work/p.yaml" "$work/logship.err" <<'PY' || fail "the socket test failed"
import fcntl, os, socket, subprocess, sys, threading, time
ours, theirs = socket.socketpair()
flags = fcntl.fcntl(theirs.fileno(), fcntl.F_GETFL)
fcntl.fcntl(theirs.fileno(), fcntl.F_SETFL, flags | os.O_NONBLOCK)
before = fcntl.fcntl(theirs.fileno(), fcntl.F_GETFL)
err = open(sys.argv[3], 'w')
p = subprocess.Popen([sys.argv[1], '-c', sys.argv[2]], stdin=theirs,
                     stdout=theirs, stderr=err)
N = 200000
def send():
    data = b''.join(b'line-%06d\n' % i for i in range(N))
    ours.sendall(data)
    ours.shutdown(socket.SHUT_WR)
threading.Thread(target=send, daemon=True).start()
got = bytearray()
ours.settimeout(60)
# (no EOF comes while this process holds its end open too: count lines)
while got.count(b'\n') < N:
    time.sleep(0.002)  # a slow reader: stdout fills up
    chunk = ours.recv(4096)
    if not chunk:
        break
    got += chunk
rc = p.wait(timeout=60)
ours.setblocking(False)
try:
    got += ours.recv(1 << 20)  # nothing more may come
except BlockingIOError:
    pass
lines = bytes(got).split(b'\n')[:-1]
want = [b'line-%06d' % i for i in range(N)]
print('sent %d, received %d, exit %d' % (N, len(lines), rc))
assert rc == 0, rc
assert lines == want, 'lines lost, reordered or doubled'
after = fcntl.fcntl(theirs.fileno(), fcntl.F_GETFL)
assert after == before, 'the flags changed: %o -> %o' % (before, after)
PY
log_has "stdout was full" || fail "stdout never filled up; the test proves nothing"
pass
