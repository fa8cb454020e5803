#!/usr/bin/env bash
# `resmeter collector` with TLS on both sides, certificates made here by
# openssl. A real agent serves its API with a web config (TLS, client
# certificates required, basic auth on /v1/); the collector pulls it over
# https:// (collector.agent_ca_file, agent_client_cert_file/key_file,
# agent_basic_auth_user/password_file), ingests its ledger and accepts its
# report. The collector's own web config (collector.web_config_file: TLS and
# basic auth on /metrics and /v1/) is checked with curl: the right password
# 200, a wrong one 401, no credentials 401, plain HTTP gets no answer.
# Bad client TLS settings: one line, exit 2. ~20 s.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
source "$SRC/tests/integration/lib/agent_harness.sh"
source "$SRC/tests/integration/lib/test_certs.sh"
mkca ca fleet-ca
mkcert server ca 127.0.0.1 "IP:127.0.0.1"
mkcert client ca collector
[ -s server.crt ] && [ -s client.crt ] || { echo "FAIL: openssl could not make the test certificates"; exit 1; }
cd - > /dev/null || exit 1
hash() { python3 -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 4)))' "$1"; }

cat > "$T/agent-web.yml" <<YML
tls_server_config:
  cert_file: certs/server.crt
  key_file: certs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: certs/ca.crt
basic_auth_users:
  collector: '$(hash 'agent pass')'
auth_paths: [/v1/]
YML
cat > "$T/collector-web.yml" <<YML
tls_server_config:
  cert_file: certs/server.crt
  key_file: certs/server.key
basic_auth_users:
  market: '$(hash 'market pass')'
auth_paths: [/metrics, /v1/]
YML
cat > "$T/agent.yaml" <<YML
agent:
  light_interval_seconds: 1
  heavy_interval_seconds: 0
  web_config_file: $T/agent-web.yml
ledger:
  period_seconds: 1
  availability_enabled: false
api:
  attest_rate_per_minute: 60
  attest_client_rate_per_minute: 60
YML
start_agent "$T/a" --config "$T/agent.yaml" --set evidence.backend=none || exit 1
AGENT="https://127.0.0.1:$AGENT_PORT"
printf 'agent pass\n' > "$T/agent-password"
CPORT=$(free_port)
CU="https://127.0.0.1:$CPORT"
cat > "$T/collector.yaml" <<YML
collector:
  web_config_file: $T/collector-web.yml
  allow_dev_evidence: true
  pull_interval_seconds: 0.5
  attest_interval_seconds: 1
  agent_ca_file: $C/ca.crt
  agent_client_cert_file: $C/client.crt
  agent_client_key_file: $C/client.key
  agent_basic_auth_user: collector
  agent_basic_auth_password_file: $T/agent-password
YML

# Bad client TLS settings: one line, exit 2.
out=$("$R" --config "$T/collector.yaml" --state-dir "$T/c0" --set collector.agent_client_key_file= collector --duration 1 2>&1)
rc=$?
if [ $rc -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && grep -q agent_client_key_file <<<"$out"; then
  ok "client certificate without its key: exit 2, one line"
else
  bad "client certificate without its key: rc=$rc: $out"
fi
out=$("$R" --config "$T/collector.yaml" --state-dir "$T/c0" --set collector.agent_ca_file="$T/none.crt" collector --duration 1 2>&1)
rc=$?
[ $rc -eq 2 ] && grep -q "none.crt" <<<"$out" && ok "missing agent CA file: exit 2 naming it" || bad "missing CA: rc=$rc: $out"

"$R" --config "$T/collector.yaml" --state-dir "$T/c" collector --listen "127.0.0.1:$CPORT" --agent "$AGENT" \
  --name c1 2> "$T/collector.log" &
CPID=$!
EXTRA_PIDS+=("$CPID")
CURL=(curl -s --max-time 10 --cacert "$C/ca.crt")
AUTH=(-u 'market:market pass')
ueid() { "${CURL[@]}" -f "${AUTH[@]}" "$CU/v1/agents" | jq -r '.agents[0].ueid // empty'; }
admitted() { [ -n "$(ueid)" ]; }
if wait_for 20 admitted; then ok "https:// agent admitted (mutual TLS + basic auth to its /v1/identity)"; else bad "agent not admitted"; tail -5 "$T/collector.log"; fi
U=$(ueid)
info() { "${CURL[@]}" -f "${AUTH[@]}" "$CU/v1/agents/$U"; }
pulled() { [ "$(info | jq -r '.last_seq // 0')" -ge 3 ]; }
if wait_for 20 pulled; then ok "ledger pulled over TLS (last_seq $(info | jq -r .last_seq))"; else bad "ledger not pulled: $("${CURL[@]}" "${AUTH[@]}" "$CU/v1/agents/$U/events")"; fi
accepted() { [ "$(info | jq -r '.report_accepted')" = true ]; }
if wait_for 20 accepted; then ok "challenged over TLS: report ACCEPTED"; else bad "report not accepted: $("${CURL[@]}" "${AUTH[@]}" "$CU/v1/agents/$U/events")"; fi
errors=$("${CURL[@]}" "${AUTH[@]}" "$CU/v1/agents/$U/events" | jq -r '[.events[] | select(.severity == "error")] | length')
[ "$errors" = 0 ] && ok "no error events" || bad "$errors error events: $("${CURL[@]}" "${AUTH[@]}" "$CU/v1/agents/$U/events")"

# The collector's own server: TLS and basic auth.
code() { "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "${AUTH[@]}" "$CU/metrics")" = 200 ] && ok "collector /metrics over TLS with the password: 200" || bad "/metrics with the password"
"${CURL[@]}" "${AUTH[@]}" "$CU/metrics" | grep -q "^resmeter_collector_agent_up{ueid=\"$U\"} 1" && ok "metrics: agent up" || bad "metrics: agent not up"
[ "$(code -u 'market:wrong' "$CU/metrics")" = 401 ] && ok "wrong password: 401" || bad "wrong password not 401"
[ "$(code -u 'market:wrong' "$CU/v1/agents")" = 401 ] && ok "wrong password on the API: 401" || bad "API wrong password not 401"
[ "$(code "$CU/v1/agents")" = 401 ] && ok "no credentials: 401" || bad "no credentials not 401"
plain=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -u 'market:market pass' "http://127.0.0.1:$CPORT/v1/agents")
[ "$plain" != 200 ] && ok "plain HTTP to the TLS port: no answer (HTTP code '$plain')" || bad "plain HTTP answered 200"
curl -s --max-time 5 "${AUTH[@]}" "$CU/v1/agents" -o /dev/null; rc=$?
[ $rc != 0 ] && ok "unknown CA on the client side: refused (curl exit $rc)" || bad "curl without the CA accepted the certificate"

kill -TERM "$CPID"; wait "$CPID"; crc=$?
[ $crc -eq 0 ] && ok "collector stops on SIGTERM" || bad "collector exit $crc"
stop_agent
[ $fails -eq 0 ] || { echo "$fails failures"; tail -20 "$T/collector.log"; exit 1; }
echo "all ok"
