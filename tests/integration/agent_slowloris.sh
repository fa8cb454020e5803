#!/usr/bin/env bash
# Slowloris against the agent: 64 connections from one client (source
# 127.0.0.2) that send half a request and trickle a header byte now and then,
# reconnecting when dropped, while another client (127.0.0.1) scrapes
# /metrics 50 times on fresh connections: its p99 latency must stay under
# 100 ms (before the per-client cap, the 4 workers were all held and the
# scrapes timed out). Also: a request whose headers trickle in forever, and
# one whose body does, are cut off at the whole-request deadline.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
source "$SRC/tests/integration/lib/agent_harness.sh"
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2",0))' 2>/dev/null ||
  { echo "SKIP: cannot bind 127.0.0.2 (no 127/8 loopback)"; exit 77; }

start_agent "$T/a" --set agent.http_threads=4 --set agent.http_max_connections_per_client=2 \
  --set agent.http_request_deadline_seconds=3 || exit 1

python3 - "$AGENT_PORT" > "$T/result.txt" 2>&1 <<'PYEOF'
import socket, sys, threading, time
port = int(sys.argv[1])
stop = threading.Event()
drops = [0]

def loris():
    s = None
    while not stop.is_set():
        try:
            if s is None:
                s = socket.socket()
                s.bind(("127.0.0.2", 0))
                s.settimeout(2)
                s.connect(("127.0.0.1", port))
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            s.sendall(b"X")  # one more header byte, never the end of the headers
            stop.wait(0.5)
        except OSError:
            drops[0] += 1
            try: s.close()
            except Exception: pass
            s = None
            stop.wait(0.05)
    if s: s.close()

threads = [threading.Thread(target=loris, daemon=True) for _ in range(64)]
for t in threads: t.start()
time.sleep(1.5)  # let the flood settle in
lat = []
failures = 0
for i in range(50):
    t0 = time.monotonic()
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk: break
            data += chunk
        c.close()
        if not data.startswith(b"HTTP/1.1 200"): failures += 1
    except OSError:
        failures += 1
    lat.append(time.monotonic() - t0)
    time.sleep(0.02)
stop.set()
lat.sort()
p50 = lat[len(lat) // 2]
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
print(f"scrapes=50 failures={failures} p50_ms={p50*1000:.1f} p99_ms={p99*1000:.1f} max_ms={lat[-1]*1000:.1f} loris_drops={drops[0]}")
sys.exit(0 if failures == 0 and p99 < 0.100 else 1)
PYEOF
rc=$?
cat "$T/result.txt"
[ $rc = 0 ] && ok "/metrics p99 < 100 ms under 64 slowloris connections" || bad "/metrics starved by slowloris"

# Whole-request deadline (3 s here): trickled headers and a trickled body are cut off.
python3 - "$AGENT_PORT" > "$T/deadline.txt" 2>&1 <<'PYEOF'
import socket, sys, time
port = int(sys.argv[1])
def trickle(first, step):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    s.sendall(first)
    try:
        while time.monotonic() - t0 < 20:
            time.sleep(0.5)
            s.sendall(step)
    except OSError:
        pass
    # Whatever the server answered (408) or a reset: the time it took.
    return time.monotonic() - t0
h = trickle(b"GET /metrics HTTP/1.1\r\nHost: x\r\n", b"X")
b = trickle(b"POST /v1/attest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", b" ")
print(f"headers_cut_after_s={h:.1f} body_cut_after_s={b:.1f}")
# Deadline 3 s; one more read timeout (3 s) and detection slack at most.
sys.exit(0 if h < 7.5 and b < 7.5 else 1)
PYEOF
rc=$?
cat "$T/deadline.txt"
[ $rc = 0 ] && ok "trickled headers and body are cut off at the deadline" || bad "whole-request deadline not enforced"

curl -sf "http://127.0.0.1:$AGENT_PORT/healthz" | grep -qx ok && ok "/healthz ok" || bad "/healthz"
curl -sf "http://127.0.0.1:$AGENT_PORT/" | grep -q 'href="/metrics"' && ok "landing page links /metrics" || bad "landing page"
stop_agent
[ "$AGENT_RC" = 0 ] && ok "SIGTERM exit 0" || bad "SIGTERM exit $AGENT_RC"
echo "$fails failure(s)"
[ "$fails" = 0 ]
