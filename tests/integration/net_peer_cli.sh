#!/usr/bin/env bash
# End-to-end on loopback (no root): `resmeter peer` serves, `resmeter probe`
# measures net.throughput and net.latency against it, `resmeter verify`
# accepts the report, and python3-jwcrypto independently verifies both the
# peer's and the agent's signatures over the same summary.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
T=$(mktemp -d)
PEER_PID=""
cleanup() { [ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; [ -n "${2:-}" ] && cat "$2"; fails=$((fails+1)); }

# The peer (buyer-run) has a persistent key; the probing agent's key is
# ephemeral: its public JWK comes from `probe --identity-out`.
"$R" --state-dir "$T/peer" key init > /dev/null 2>&1 || fail "peer key init"

"$R" --state-dir "$T/peer" peer 2> "$T/err"; [ $? = 2 ] && ok "peer without --listen is a usage error" || fail "peer without --listen" "$T/err"
"$R" --state-dir "$T/peer" peer --listen nonsense 2> "$T/err"
[ $? = 2 ] && grep -q "expected host:port" "$T/err" && [ "$(wc -l < "$T/err")" = 1 ] && ok "bad --listen: one line, exit 2" || fail "bad --listen" "$T/err"

# --duration bounds the peer even if this script dies without its trap.
"$R" --state-dir "$T/peer" peer --listen 127.0.0.1:0 --duration 60 2> "$T/peer.log" &
PEER_PID=$!
PORT=""
for _ in $(seq 50); do
  PORT=$(grep -o 'port [0-9]*' "$T/peer.log" | cut -d' ' -f2)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] && ok "peer listening on port $PORT" || { fail "peer did not start" "$T/peer.log"; exit 1; }

"$R" --state-dir "$T/agent" \
  --set "meters.net.throughput.targets=[127.0.0.1:$PORT]" --set meters.net.throughput.duration_seconds=0.5 \
  --set meters.net.throughput.omit_seconds=0.2 --set meters.net.throughput.streams=2 \
  --set "meters.net.latency.targets=[127.0.0.1:$PORT]" --set meters.net.latency.count=20 \
  probe --only net.throughput,net.latency -o "$T/r.jws" --identity-out "$T/agent-id.json" --json > "$T/claims.json" 2> "$T/err"
[ $? = 0 ] && ok "probe net.throughput,net.latency" || fail "probe" "$T/err"
jq .jwk "$T/agent-id.json" > "$T/agent.jwk"
"$R" verify "$T/r.jws" --identity "$T/agent-id.json" --allow-dev-evidence > "$T/out" 2> "$T/err"; rc=$?
LAST=$(tail -n 1 "$T/out")
[ $rc = 0 ] && [ "$LAST" = ACCEPTED ] && [ "$(grep -c '^cosign .*: ok, ' "$T/out")" = 2 ] && ok "verify report ($LAST)" ||
  fail "verify report" "$T/out"

/usr/bin/python3 - "$T/claims.json" "$T/agent.jwk" <<'PYEOF' > "$T/py" 2>&1 && ok "jwcrypto verifies both signatures" || fail "jwcrypto" "$T/py"
import json, sys
from jwcrypto import jwk, jws
claims = json.load(open(sys.argv[1]))
agent = jwk.JWK.from_json(open(sys.argv[2]).read())
for name in ("net.throughput", "net.latency"):
    sub = claims["submods"][name]
    assert sub["status"] == "ok", (name, sub)
    t = sub["claims"]["targets"][0]
    peer = jwk.JWK(**t["peer_jwk"])
    assert peer.thumbprint() == t["peer_thumbprint"], "peer thumbprint"
    payloads = []
    for token, key in ((t["peer_signature_jws"], peer), (t["agent_signature_jws"], agent)):
        s = jws.JWS()
        s.deserialize(token)
        s.verify(key)
        payloads.append(s.payload)
    assert payloads[0] == payloads[1], "different summaries"
    summary = json.loads(payloads[0])
    assert summary["client"]["thumbprint"] == agent.thumbprint()
    assert summary["peer"]["thumbprint"] == t["peer_thumbprint"]
    if name == "net.throughput":
        assert summary["upload"]["total_bytes"] == t["upload_bytes"] > 0
        assert summary["download"]["total_bytes"] == t["download_bytes"] > 0
    else:
        assert summary["latency"]["count"] == 20 and t["rtt_p99_seconds"] >= t["rtt_p50_seconds"] > 0
    print(name, "ok")
PYEOF

kill "$PEER_PID"; wait "$PEER_PID" 2>/dev/null; PEER_PID=""
grep -q "sessions signed 2" "$T/peer.log" && ok "peer counted 2 signed sessions and stopped on SIGTERM" || fail "peer log" "$T/peer.log"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
