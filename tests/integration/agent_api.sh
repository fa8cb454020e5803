#!/usr/bin/env bash
# The agent's HTTP API end to end: identity, latest report, POST /v1/attest
# accepted by `resmeter verify --nonce`, JSON 4xx errors for oversized and
# malformed requests and unknown paths (the agent keeps serving), rate
# limiting, heavy meters on demand for a buyer's nonce (trigger buyer_nonce,
# its own rate limit), slow clients cut off, SIGHUP reload, SIGUSR1 (its runs
# signed as trigger provider_signal), no published heavy schedule,
# structured logs and a clean SIGTERM shutdown.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
source "$SRC/tests/integration/lib/agent_harness.sh"

cat > "$T/agent.yaml" <<YML
agent:
  light_interval_seconds: 2
  heavy_interval_seconds: 0  # no scheduled heavy run: SIGUSR1's is the only one
  attest:
    heavy_per_hour: 2
api:
  attest_rate_per_minute: 1
  attest_burst: 4
  request_timeout_seconds: 1
  max_body_bytes: 1024
YML
start_agent "$T/a" --config "$T/agent.yaml" || exit 1
URL="http://127.0.0.1:$AGENT_PORT"

# expect NAME STATUS CURL_ARGS...: the status must match and the body be a JSON error of that code.
expect() {
  local name=$1 want=$2; shift 2
  local got
  got=$(curl -s --max-time 10 -o "$T/body" -w '%{http_code}' "$@")
  if [ "$got" != "$want" ]; then bad "$name: status $got, expected $want: $(head -c 300 "$T/body")"; return; fi
  if [ "$want" -ge 400 ] && ! jq -e --argjson c "$want" '.error.code == $c and (.error.message | length > 0)' "$T/body" > /dev/null 2>&1; then
    bad "$name: body is not a JSON error: $(head -c 300 "$T/body")"; return
  fi
  ok "$name ($got)"
}

wait_for 30 curl -sf "$URL/v1/report/latest" -o "$T/latest.jws" && ok "latest report within 30 s" || bad "no latest report"
curl -sf "$URL/v1/identity" -o "$T/identity.json" && jq -e '.jwk and .kid and .ueid' "$T/identity.json" > /dev/null &&
  ok "identity document" || bad "identity document"
# The agent's key is ephemeral; `resmeter identity` prints what it published in the state dir.
"$R" --state-dir "$T/a/state" identity > "$T/identity-cli.json" 2> "$T/err" &&
  [ "$(jq -r .kid "$T/identity-cli.json")" = "$(jq -r .kid "$T/identity.json")" ] &&
  jq -e '.key_origin == "ephemeral"' "$T/identity.json" "$T/identity-cli.json" > /dev/null &&
  [ ! -e "$T/a/state/signing_key.pem" ] && ok "identity: ephemeral key, published in the state dir, no key file" ||
  { bad "identity of the running agent"; cat "$T/err"; }
# The last line of verify is the verdict; the key is ephemeral, so ACCEPTED (dev evidence allowed here).
verified() {
  "$R" verify "$@" > "$T/out" 2> "$T/err" && [ "$(tail -n 1 "$T/out")" = "ACCEPTED" ]
}
verified "$T/latest.jws" --identity "$T/identity.json" --allow-dev-evidence && ok "latest report verifies" ||
  { bad "latest report does not verify"; cat "$T/out" "$T/err"; }

NONCE=$(openssl rand -hex 16)
code=$(curl -s --max-time 60 -o "$T/attest.jws" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d "{\"nonce\": \"$NONCE\"}" "$URL/v1/attest")
[ "$code" = 200 ] && ok "POST /v1/attest" || bad "POST /v1/attest: $code $(head -c 300 "$T/attest.jws")"
verified "$T/attest.jws" --identity "$T/identity.json" --allow-dev-evidence --nonce "$NONCE" &&
  ok "verify --nonce accepts the attestation" || { bad "verify --nonce"; cat "$T/out" "$T/err"; }
"$R" verify "$T/attest.jws" --identity "$T/identity.json" --allow-dev-evidence --nonce "$(openssl rand -hex 16)" > /dev/null 2>&1
[ $? = 1 ] && ok "verify rejects another nonce" || bad "verify accepted a different nonce"

# The claims a JWS compact token carries (its payload, decoded).
payload() { python3 -c 'import base64,sys; p=open(sys.argv[1]).read().strip().split(".")[1]; print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$1"; }

payload "$T/attest.jws" | jq -e '[.submods[] | has("measured_at")] | all' > /dev/null &&
  ok "every submod carries measured_at" || bad "a submod lacks measured_at: $(payload "$T/attest.jws" | head -c 400)"

# Heavy meters on demand, run after the nonce arrived and signed for it.
# net.latency has no peer here: it answers `unavailable` at once.
HNONCE=$(openssl rand -hex 16)
before=$(date +%s)
code=$(curl -s --max-time 120 -o "$T/heavy.jws" -w '%{http_code}' -d "{\"nonce\": \"$HNONCE\", \"heavy\": [\"net.latency\"]}" "$URL/v1/attest")
[ "$code" = 200 ] && ok "POST /v1/attest with heavy" || bad "POST /v1/attest with heavy: $code $(head -c 300 "$T/heavy.jws")"
"$R" verify "$T/heavy.jws" --identity "$T/identity.json" --allow-dev-evidence --nonce "$HNONCE" > /dev/null 2> "$T/err" &&
  ok "verify --nonce accepts the heavy attestation" || { bad "verify --nonce (heavy)"; cat "$T/err"; }
payload "$T/heavy.jws" | jq -e --argjson t "$before" '.submods["net.latency"] | .trigger == "buyer_nonce" and .measured_at >= $t' > /dev/null &&
  ok "on-demand heavy submod: trigger buyer_nonce, measured after the request" ||
  bad "on-demand heavy submod: $(payload "$T/heavy.jws" | jq -c '.submods["net.latency"]')"
expect "unknown heavy meter" 400 -d "{\"nonce\": \"$HNONCE\", \"heavy\": [\"disk.speed\"]}" "$URL/v1/attest"
code=$(curl -s --max-time 60 -D "$T/headers" -o "$T/body" -w '%{http_code}' -d "{\"nonce\": \"$HNONCE\", \"heavy\": [\"net.latency\"]}" "$URL/v1/attest")
[ "$code" = 429 ] && grep -qi '^Retry-After:' "$T/headers" && grep -q 'heavy_per_hour' "$T/body" &&
  ok "heavy attestations limited by agent.attest.heavy_per_hour" || bad "heavy limit: $code $(cat "$T/body")"

expect "unknown path" 404 "$URL/v1/nothing"
expect "wrong method" 405 -X DELETE "$URL/v1/identity"
expect "bad JSON" 400 -d '{"nonce": ' "$URL/v1/attest"
expect "bad nonce" 400 -d '{"nonce": "not-hex"}' "$URL/v1/attest"
head -c 100000 /dev/zero | tr '\0' 'a' > "$T/big"
expect "oversized body" 413 --data-binary @"$T/big" "$URL/v1/attest"
expect "oversized chunked body" 413 -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "$URL/v1/attest"
BIGH=$(head -c 20000 /dev/zero | tr '\0' 'b')
code=$(curl -s --max-time 10 -o "$T/body" -w '%{http_code}' -H "X-Big: $BIGH" "$URL/v1/identity")
case "$code" in
  4*) jq -e '.error.code' "$T/body" > /dev/null 2>&1 && ok "oversized headers ($code, JSON)" || bad "oversized headers: not JSON";;
  *) bad "oversized headers: $code";;
esac
expect "bad ledger query" 400 "$URL/v1/ledger?from=minus"

# Rate limit: 3 of the burst of 4 were used by the attestations above (the
# heavy one over its own limit counts; requests rejected as malformed do
# not), so one more passes and the next is 429.
curl -s -o /dev/null --max-time 60 -d "{\"nonce\": \"$NONCE\"}" "$URL/v1/attest"
code=$(curl -s --max-time 60 -D "$T/headers" -o "$T/body" -w '%{http_code}' -d "{\"nonce\": \"$NONCE\"}" "$URL/v1/attest")
[ "$code" = 429 ] && grep -qi '^Retry-After:' "$T/headers" && ok "rate limited with Retry-After" ||
  bad "rate limit: $code $(cat "$T/body")"

# A slow client (half a request line, then nothing) is disconnected after
# api.request_timeout_seconds (1 s); allow 10 s for a loaded machine.
python3 - "$AGENT_PORT" <<'PY' && ok "slow client cut off" || bad "slow client kept its connection"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
s.settimeout(10)
start = time.time()
try:
    while s.recv(4096):
        pass
except socket.timeout:
    sys.exit(1)
sys.exit(0 if time.time() - start < 10 else 1)
PY

curl -sf "$URL/metrics" -o /dev/null && ok "still serving after bad requests" || bad "agent stopped serving"

# SIGHUP reloads the config (the reload counter says so); SIGUSR1 runs the heavy meters.
kill -HUP "$AGENT_PID"
reloaded() { curl -sf "$URL/metrics" | grep -q '^resmeter_config_reloads_total{outcome="ok"} 1'; }
wait_for 10 reloaded && ok "SIGHUP reload" || bad "SIGHUP reload not counted"
kill -USR1 "$AGENT_PID"
demanded() { curl -sf "$URL/metrics" | grep -q '^resmeter_heavy_cycles_total{trigger="provider_signal"} 1'; }
wait_for 120 demanded && ok "SIGUSR1 heavy cycle" || bad "SIGUSR1 heavy cycle not counted"
# The report signed after it says the host chose the moment.
curl -sf "$URL/v1/report/latest" -o "$T/after_usr1.jws"
payload "$T/after_usr1.jws" | jq -e '.submods["cpu.frequency"].trigger == "provider_signal" and .submods["cpu.time"].trigger == "schedule"' > /dev/null &&
  ok "SIGUSR1 runs signed as trigger provider_signal" ||
  bad "SIGUSR1 trigger: $(payload "$T/after_usr1.jws" | jq -c '.submods | map_values(.trigger)')"
curl -sf "$URL/metrics" | grep -q 'heavy_next' && bad "/metrics publishes the next heavy run" || ok "next heavy run not published"

stop_agent
[ "$AGENT_RC" = 0 ] && ok "SIGTERM exit 0" || bad "SIGTERM exit $AGENT_RC"
grep -q 'msg="agent stopped"' "$T/a/agent.log" && ok "stopped cleanly" || bad "no 'agent stopped' log line"
if grep -v '^ts=[0-9T:.Z-]* level=[a-z]* msg=' "$T/a/agent.log" | grep -q .; then
  bad "log lines not logfmt:"; grep -v '^ts=' "$T/a/agent.log" | head -5
else ok "logfmt logs"; fi
echo "$fails failure(s)"
[ "$fails" = 0 ]
