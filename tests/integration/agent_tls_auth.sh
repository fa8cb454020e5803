#!/usr/bin/env bash
# TLS and basic auth on the agent's HTTP API (agent.web_config_file, the
# Prometheus exporter-toolkit format), with certificates made here by
# openssl: curl with and without a client certificate, right and wrong
# passwords, a certificate from another CA, open paths, a live reload of the
# users, a broken web config (exit 2, FILE:LINE), and a real Prometheus
# scraping over TLS with a client certificate and basic auth.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
source "$SRC/tests/integration/lib/agent_harness.sh"
source "$SRC/tests/integration/lib/test_certs.sh"
mkca ca ca
mkca rogue_ca rogue_ca
mkcert server ca 127.0.0.1 "IP:127.0.0.1"
mkcert client ca prometheus
mkcert rogue rogue_ca prometheus
[ -s server.crt ] && [ -s client.crt ] && [ -s rogue.crt ] || { echo "FAIL: openssl could not make the test certificates"; exit 1; }
cd - > /dev/null || exit 1
hash() { python3 -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10)))' "$1"; }
H1=$(hash 's3cret pass')
H2=$(hash 'rotated')
cat > "$T/web.yml" <<YML
tls_server_config:
  cert_file: certs/server.crt
  key_file: certs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: certs/ca.crt
  min_version: TLS12
basic_auth_users:
  prom: '$H1'
auth_paths: [/metrics, /v1/]
YML

start_agent "$T/a" --set agent.web_config_file="$T/web.yml" --set agent.light_interval_seconds=2 || exit 1
U="https://127.0.0.1:$AGENT_PORT"
CURL=(curl -s --max-time 10 --cacert "$C/ca.crt")
CERT=(--cert "$C/client.crt" --key "$C/client.key")
code() { "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@"; }

[ "$(code "${CERT[@]}" -u 'prom:s3cret pass' "$U/metrics")" = 200 ] && ok "TLS + client cert + password: 200" || bad "TLS + client cert + password"
[ "$(code "${CERT[@]}" -u 'prom:wrong' "$U/metrics")" = 401 ] && ok "wrong password: 401" || bad "wrong password not 401"
[ "$(code "${CERT[@]}" -u 'nobody:s3cret pass' "$U/v1/identity")" = 401 ] && ok "unknown user: 401" || bad "unknown user not 401"
"${CURL[@]}" "${CERT[@]}" -D "$T/h.txt" -o /dev/null "$U/v1/identity"
grep -qi '^WWW-Authenticate: Basic' "$T/h.txt" && grep -q ' 401 ' "$T/h.txt" && ok "no credentials: 401 with WWW-Authenticate" || { bad "no credentials"; cat "$T/h.txt"; }
[ "$(code "${CERT[@]}" "$U/healthz")" = 200 ] && ok "/healthz open (not in auth_paths)" || bad "/healthz"
[ "$(code "${CERT[@]}" --tlsv1.3 "$U/healthz")" = 200 ] && ok "TLS 1.3 with a client certificate" || bad "TLS 1.3 with a client certificate"
[ "$(code "${CERT[@]}" --tlsv1.2 --tls-max 1.2 "$U/healthz")" = 200 ] && ok "TLS 1.2 with a client certificate" || bad "TLS 1.2 with a client certificate"
"${CURL[@]}" "$U/healthz" -o /dev/null; rc=$?
[ $rc != 0 ] && ok "no client certificate: handshake refused (curl exit $rc)" || bad "no client certificate accepted"
"${CURL[@]}" --cert "$C/rogue.crt" --key "$C/rogue.key" -u 'prom:s3cret pass' "$U/metrics" -o /dev/null; rc=$?
[ $rc != 0 ] && ok "certificate from another CA: handshake refused (curl exit $rc)" || bad "rogue client certificate accepted"
curl -s --max-time 5 "http://127.0.0.1:$AGENT_PORT/metrics" -o /dev/null -w '%{http_code}' > "$T/plain.txt"
[ "$(cat "$T/plain.txt")" != 200 ] && ok "plain HTTP on the TLS port: no answer" || bad "plain HTTP served"
curl -s --max-time 5 --cacert "$C/rogue_ca.crt" "${CERT[@]}" "$U/healthz" -o /dev/null; rc=$?
[ $rc != 0 ] && ok "server certificate checked by the client (wrong CA: exit $rc)" || bad "server cert accepted by a wrong CA"
"${CURL[@]}" "${CERT[@]}" --tls-max 1.1 "$U/healthz" -o /dev/null; rc=$?
[ $rc != 0 ] && ok "TLS 1.1 refused" || bad "TLS 1.1 accepted"

# Live reload: rotate the password; the old one stops working without a restart.
sleep 1.1
sed -i "s|^  prom: .*|  prom: '$H2'|" "$T/web.yml"
reloaded() { [ "$(code "${CERT[@]}" -u 'prom:rotated' "$U/metrics")" = 200 ]; }
if wait_for 10 reloaded; then ok "users re-read after a change"; else bad "web config not re-read"; fi
[ "$(code "${CERT[@]}" -u 'prom:s3cret pass' "$U/metrics")" = 401 ] && ok "old password refused after the change" || bad "old password still accepted"

# A real Prometheus scraping over TLS with a client certificate and basic auth.
if command -v prometheus > /dev/null; then
  PP=$(free_port)
  cat > "$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: resmeter
    scheme: https
    tls_config:
      ca_file: $C/ca.crt
      cert_file: $C/client.crt
      key_file: $C/client.key
    basic_auth:
      username: prom
      password: rotated
    static_configs:
      - targets: ['127.0.0.1:$AGENT_PORT']
YML
  prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PP" > "$T/prometheus.log" 2>&1 &
  EXTRA_PIDS+=($!)
  up() {
    curl -sf --max-time 5 "http://127.0.0.1:$PP/api/v1/query" --data-urlencode 'query=up{job="resmeter"} == 1 and on() resmeter_agent_info == 1' |
      jq -e '.data.result | length > 0' > /dev/null 2>&1
  }
  if wait_for 60 up; then ok "Prometheus scrapes over TLS with client cert and basic auth"; else
    bad "Prometheus did not scrape over TLS"; tail -5 "$T/prometheus.log"
    curl -s "http://127.0.0.1:$PP/api/v1/targets" | head -c 800; echo; fi
else
  echo "skip Prometheus part: prometheus not installed"
fi
stop_agent
[ "$AGENT_RC" = 0 ] && ok "SIGTERM exit 0" || bad "SIGTERM exit $AGENT_RC"

# A broken web config stops the agent at start: exit 2, one FILE:LINE line.
printf 'basic_auth_users:\n  prom: "%s"\n  prom: "%s"\n' "$H1" "$H2" > "$T/dup.yml"
"$R" --state-dir "$T/b" --set agent.listen=127.0.0.1:0 --set agent.web_config_file="$T/dup.yml" agent > /dev/null 2> "$T/dup.err"
rc=$?
[ $rc = 2 ] && grep -q "dup.yml:3: duplicate key 'prom'" "$T/dup.err" && ok "duplicate user: exit 2 with FILE:LINE" || { bad "duplicate user in web config: exit $rc"; cat "$T/dup.err"; }
printf 'tls_server_config:\n  cert_file: /nonexistent.crt\n  key_file: /nonexistent.key\n' > "$T/nofile.yml"
"$R" --state-dir "$T/b" --set agent.listen=127.0.0.1:0 --set agent.web_config_file="$T/nofile.yml" agent > /dev/null 2> "$T/nofile.err"
rc=$?
[ $rc = 2 ] && grep -q "nofile.yml:2: key 'tls_server_config.cert_file': cannot read /nonexistent.crt" "$T/nofile.err" && ok "missing cert file: exit 2 with FILE:LINE" || { bad "missing cert: exit $rc"; cat "$T/nofile.err"; }
echo "$fails failure(s)"
[ "$fails" = 0 ]
