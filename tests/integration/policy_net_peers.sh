#!/usr/bin/env bash
# End-to-end on loopback (no root): a net.* policy clause counts only numbers
# co-signed by a peer the buyer listed by key. Two `resmeter peer`s run: the
# buyer's (listed in the policy by its kid) and one the provider runs itself
# (not listed). Both co-sign correctly, so `verify` without a policy accepts
# both reports; with the policy only the report measured against the
# buyer's peer passes, the other fails its net clause (exit 1) naming the key.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; [ -n "${2:-}" ] && cat "$2"; fails=$((fails+1)); }

kid_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["kid"])'; }

# start_peer NAME: starts a peer with its own key; sets PORT.
start_peer() {
  "$R" --state-dir "$T/$1" key init > /dev/null 2>&1 || fail "$1 key init"
  "$R" --state-dir "$T/$1" peer --listen 127.0.0.1:0 --duration 60 2> "$T/$1.log" &
  PIDS+=($!)
  PORT=""
  for _ in $(seq 50); do
    PORT=$(grep -o 'port [0-9]*' "$T/$1.log" | cut -d' ' -f2)
    [ -n "$PORT" ] && break
    sleep 0.1
  done
  [ -n "$PORT" ] || { fail "$1 did not start" "$T/$1.log"; exit 1; }
}

start_peer buyer
BUYER_PORT=$PORT
BUYER_KID=$("$R" --state-dir "$T/buyer" key show | kid_of)
start_peer provider
PROVIDER_PORT=$PORT
PROVIDER_KID=$("$R" --state-dir "$T/provider" key show | kid_of)

# probe OUT PORT: a latency measurement against one peer.
probe() {
  "$R" --state-dir "$T/agent" --set "meters.net.latency.targets=[127.0.0.1:$2]" --set meters.net.latency.count=20 \
    probe --only net.latency -o "$T/$1.jws" --identity-out "$T/$1.id.json" 2> "$T/err"
  [ $? = 0 ] && ok "probe against port $2" || fail "probe against port $2" "$T/err"
}
probe buyer "$BUYER_PORT"
probe provider "$PROVIDER_PORT"

cat > "$T/policy.yaml" <<YAML
peers:
  buyer: {kid: $BUYER_KID}
claims:
  - net.rtt_p99_ms: {max: 10000}
  - net.rtt_p99_ms: {max: 10000, peer: buyer}
YAML

# Without a policy both co-signatures hold (each probe's ephemeral key pinned by its identity;
# development evidence on a machine without a TEE).
for r in buyer provider; do
  "$R" verify "$T/$r.jws" --identity "$T/$r.id.json" --allow-dev-evidence > "$T/out" 2> "$T/err"
  [ $? = 0 ] && ok "verify $r report without a policy" || fail "verify $r report without a policy" "$T/out"
done

"$R" verify "$T/buyer.jws" --identity "$T/buyer.id.json" --allow-dev-evidence --policy "$T/policy.yaml" > "$T/out" 2> "$T/err"
[ $? = 0 ] && grep -q "PASSED, 2 of 2" "$T/out" && ok "listed peer: policy passes" || fail "listed peer" "$T/out"

"$R" verify "$T/provider.jws" --identity "$T/provider.id.json" --allow-dev-evidence --policy "$T/policy.yaml" \
  > "$T/out" 2> "$T/err"
rc=$?
[ $rc = 1 ] && tail -n 1 "$T/out" | grep -q "^REJECTED: policy.net.rtt_p99_ms" && ok "unlisted peer: exit 1 on the net clause" ||
  fail "unlisted peer: exit $rc" "$T/out"
grep -qF "co-signed by key $PROVIDER_KID, which is not a peer the policy lists" "$T/out" &&
  ok "unlisted peer: the table names its key" || fail "unlisted peer: table" "$T/out"
grep -qF "did not measure peer buyer" "$T/out" && ok "unlisted peer: the buyer's peer was not measured" ||
  fail "unlisted peer: peer=buyer row" "$T/out"

echo "policy_net_peers: $fails failed"
[ "$fails" = 0 ]
