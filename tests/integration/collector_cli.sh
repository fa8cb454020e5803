#!/usr/bin/env bash
# `resmeter collector` end to end with a real agent process: admitted from
# --agent through its /v1/identity, its ledger pulled, audited and stored in
# SQLite, challenged; /v1/agents, the bill (equal to `resmeter ledger audit`
# over the same statements: the agent's ledger cut at the stored head),
# events and /metrics; bad admissions answered 400/403; an unreachable
# database is one line and exit 2; SIGTERM stops it cleanly. ~20 s.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
source "$SRC/tests/integration/lib/agent_harness.sh"

# Database errors: one line, exit 2, no password.
out=$("$R" --state-dir "$T/c0" collector --database 'postgresql://u:pw@127.0.0.1:1/x?connect_timeout=2' --duration 1 2>&1)
rc=$?
if [ $rc -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && ! grep -q ':pw@' <<<"$out"; then
  ok "unreachable database: exit 2, one line without the password"
else
  bad "unreachable database: rc=$rc: $out"
fi

cat > "$T/agent.yaml" <<YML
agent:
  light_interval_seconds: 1
  heavy_interval_seconds: 0
ledger:
  period_seconds: 1
  availability_enabled: false
api:
  attest_rate_per_minute: 60
  attest_client_rate_per_minute: 60
YML
start_agent "$T/a" --config "$T/agent.yaml" --set evidence.backend=none || exit 1
AGENT="http://127.0.0.1:$AGENT_PORT"
CPORT=$(free_port)
C="http://127.0.0.1:$CPORT"
cat > "$T/collector.yaml" <<YML
collector:
  allow_dev_evidence: true
  pull_interval_seconds: 0.5
  attest_interval_seconds: 1
  slow_seconds: 5
YML
"$R" --config "$T/collector.yaml" --state-dir "$T/c" collector --listen "127.0.0.1:$CPORT" --agent "$AGENT" \
  --name c1 2> "$T/collector.log" &
CPID=$!
EXTRA_PIDS+=("$CPID")
ueid() { curl -sf "$C/v1/agents" | jq -r '.agents[0].ueid // empty'; }
admitted() { [ -n "$(ueid)" ]; }
if wait_for 20 admitted; then ok "agent admitted from --agent"; else bad "agent not admitted"; cat "$T/collector.log"; fi
U=$(ueid)
seq_of() { curl -sf "$C/v1/agents/$U" | jq -r '.last_seq // 0'; }
pulled() { [ "$(seq_of)" -ge 5 ]; }
if wait_for 20 pulled; then ok "ledger pulled (last_seq $(seq_of))"; else bad "ledger not pulled"; fi
accepted() { [ "$(curl -sf "$C/v1/agents/$U" | jq -r '.report_accepted')" = true ]; }
# The agent's reports read the live /proc and /sys, but evidence "none": accepted with allow_dev_evidence.
if wait_for 20 accepted; then ok "challenged report ACCEPTED"; else bad "report not accepted: $(curl -s "$C/v1/agents/$U/events")"; fi
curl -sf "$C/metrics" | grep -q "^resmeter_collector_agent_up{ueid=\"$U\"} 1" && ok "metrics: up" || bad "metrics: up"

# The bill equals ledger audit over the same statements (the agent's ledger up to the stored head).
kill -TERM "$CPID"; wait "$CPID"; crc=$?
[ $crc -eq 0 ] && ok "collector stops on SIGTERM" || bad "collector exit $crc"
# Restarted, pulling no more: the stored statements stay put while the agent writes on.
"$R" --config "$T/collector.yaml" --state-dir "$T/c" --set collector.pull_interval_seconds=3600 \
  --set collector.attest_interval_seconds=0 collector --listen "127.0.0.1:$CPORT" --name c1 2>> "$T/collector.log" &
CPID=$!
EXTRA_PIDS+=("$CPID")
wait_for 10 curl -sf "$C/v1/agents" >/dev/null
head_seq=$(curl -sf "$C/v1/agents/$U" | jq -r '.stored_last_seq')
cat "$T/a/state/ledger"/ledger-*.jsonl | head -n "$head_seq" > "$T/prefix.jsonl"
"$R" ledger audit --json --allow-dev-evidence "$T/prefix.jsonl" > "$T/audit.json" 2>/dev/null
curl -sf "$C/v1/agents/$U/bill" > "$T/bill.json"
if [ "$(jq -cS .bill "$T/audit.json")" = "$(jq -cS .bill "$T/bill.json")" ] && [ "$(jq -r .verdict "$T/bill.json")" = ACCEPTED ]; then
  ok "bill equals ledger audit over the same $head_seq statements"
else
  bad "bill differs: $(jq -c .bill "$T/bill.json") vs $(jq -c .bill "$T/audit.json")"
fi
"$R" ledger audit --csv --allow-dev-evidence "$T/prefix.jsonl" > "$T/audit.csv" 2>/dev/null
curl -sf "$C/v1/agents/$U/bill?format=csv" > "$T/bill.csv"
cmp -s "$T/audit.csv" "$T/bill.csv" && ok "CSV bill equals ledger audit --csv" || bad "CSV bill differs"
code=$(curl -s -o /dev/null -w '%{http_code}' "$C/v1/agents/$U/bill?from=x")
[ "$code" = 400 ] && ok "bad bill range: 400" || bad "bad bill range: $code"
curl -sf "$C/v1/agents/$U/events" | jq -e '.events | map(.kind) | index("verdict")' >/dev/null \
  && ok "events list the verdict" || bad "no verdict event"

# Bad admissions.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data 'garbage' "$C/v1/agents")
[ "$code" = 400 ] && ok "garbage admission: 400" || bad "garbage admission: $code"
curl -sf "$AGENT/v1/identity" > "$T/identity.json"
jq '.evidence.type = "sev-snp"' "$T/identity.json" > "$T/forged.json"
code=$(curl -s -o "$T/forged.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data "{\"url\": \"$AGENT\", \"identity\": $(cat "$T/forged.json")}" "$C/v1/agents")
[ "$code" = 403 ] && ok "identity with unverifiable evidence: 403" || bad "forged identity: $code $(cat "$T/forged.out")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$C/v1/agents/nope")
[ "$code" = 404 ] && ok "unknown ueid: 404" || bad "unknown ueid: $code"
kill -TERM "$CPID"; wait "$CPID"
stop_agent
[ $fails -eq 0 ] || { echo "$fails failures"; cat "$T/collector.log" | tail -20; exit 1; }
echo "all ok"
