#!/usr/bin/env bash
# Crash test of the agent's usage ledger v2: `resmeter agent` appending a
# signed statement every second is killed with SIGKILL at random moments 25
# times (one in five while it is still starting, i.e. during recovery and the
# epoch statement) and restarted; every start has a new in-memory key.
# A key file planted in the state directory is never used.
# Afterwards, with a last clean start and SIGTERM:
#  - `resmeter ledger audit --allow-dev-evidence` ends ACCEPTED (signatures,
#    sequence, hashes, every time gap explained by an epoch statement);
#  - every statement the agent logged as appended is present with the hash it
#    logged (nothing reported written is missing or rewritten);
#  - there is one epoch per start that got as far as opening the ledger, and
#    none beyond the starts; no epoch names the planted key.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
source "$SRC/tests/integration/lib/agent_harness.sh"
RUNS=${CRASH_RUNS:-25}
S="$T/state"
ARGS=(--state-dir "$S" --set agent.listen=127.0.0.1:0 --set ledger.period_seconds=1
      --set agent.light_interval_seconds=1 --set agent.heavy_interval_seconds=0)
# A provider plants its own key where v1 agents loaded theirs.
"$R" --state-dir "$S" key init > /dev/null 2>&1 || { echo "planting a key failed"; exit 1; }
planted=$("$R" --state-dir "$S" key show | jq -r .kid)

starts=0
for i in $(seq 1 "$RUNS"); do
  log="$T/run$i.log"
  : > "$log"
  "$R" "${ARGS[@]}" agent 2> "$log" &
  pid=$!
  starts=$((starts+1))
  if [ $((RANDOM % 5)) = 0 ]; then
    sleep "0.$(printf '%03d' $((RANDOM % 80)))"  # during start-up: recovery, epoch statement
  else
    appended() { grep -q 'msg="ledger statement appended"' "$log"; }
    wait_for 30 appended || { bad "run $i: no append within 30 s"; cat "$log"; }
    sleep "$((RANDOM % 2)).$(printf '%03d' $((RANDOM % 1000)))"
  fi
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
ok "$RUNS SIGKILLs"

# A last, clean run ended by SIGTERM.
log="$T/final.log"
: > "$log"
"$R" "${ARGS[@]}" agent 2> "$log" &
AGENT_PID=$!
starts=$((starts+1))
appended_final() { grep -q 'msg="ledger statement appended"' "$log"; }
wait_for 30 appended_final || bad "final run: no append within 30 s"
stop_agent
[ "$AGENT_RC" = 0 ] && ok "final SIGTERM exit 0" || bad "final SIGTERM exit $AGENT_RC"
grep -q 'msg="ledger closed"' "$log" && ok "final run closed the ledger" || bad "final run did not close the ledger"

# The whole chain audits ACCEPTED (the agent has no TEE here: development evidence).
"$R" ledger audit "$S/ledger" --allow-dev-evidence --json > "$T/audit.json" 2> "$T/audit.err"
arc=$?
if [ "$arc" = 0 ] && jq -e '.verdict == "ACCEPTED" and .errors == 0' "$T/audit.json" > /dev/null; then
  ok "ledger audit ACCEPTED: $(jq -r '"\(.statements) statements, seq \(.first_seq)..\(.last_seq), \(.signatures_verified) signatures, \(.epochs | length) epochs"' "$T/audit.json")"
else
  bad "ledger audit exit $arc:"; jq '.reasons, .findings[:10]' "$T/audit.json" 2>/dev/null || cat "$T/audit.err"
fi
if jq -e --arg k "$planted" '[.epochs[] | select(.kid == $k)] | length == 0' "$T/audit.json" > /dev/null &&
   grep -q 'ignoring a key file in the state directory' "$T/final.log" &&
   [ "$(jq -r .kid "$S/identity.json")" != "$planted" ]; then
  ok "the planted key signs nothing (warned; identity.json has the agent's own key)"
else
  bad "the planted key $planted was used or not warned about"
fi

# Every statement logged as appended is there, unchanged: the line with
# seq == last_seq hashes to the logged head.
cat "$S"/ledger/ledger-*.jsonl > "$T/all.jsonl"
python3 - "$T/all.jsonl" "$T"/run*.log "$T/final.log" <<'PY' || fails=$((fails+1))
import hashlib, json, re, sys
lines = {}
for raw in open(sys.argv[1], "rb").read().split(b"\n"):
    if raw:
        lines[json.loads(raw)["seq"]] = raw
logged = 0
missing = []
for path in sys.argv[2:]:
    for m in re.finditer(r'msg="ledger statement appended" seq=(\d+) head=([0-9a-f]{64}) last_seq=(\d+)', open(path).read()):
        seq, head, last = int(m.group(1)), m.group(2), int(m.group(3))
        logged += 1
        if seq not in lines or json.loads(lines[seq])["kind"] != "usage":
            missing.append(seq)
        elif last not in lines or hashlib.sha256(lines[last]).hexdigest() != head:
            missing.append(last)
if missing:
    print("FAIL statements reported written but missing or changed:", missing[:20])
    sys.exit(1)
print(f"ok   all {logged} statements logged as appended are present and unchanged")
PY

# One epoch per start that opened the ledger, none beyond the starts.
markers=$(jq -c 'select(.kind == "epoch")' "$T/all.jsonl" | wc -l)
opened=$(cat "$T"/run*.log "$T/final.log" | grep -c 'msg="ledger \(opened\|recovered\)')
if [ "$markers" -ge "$opened" ] && [ "$markers" -le "$starts" ]; then
  ok "epochs: $markers (starts $starts, logged opens $opened)"
else
  bad "epochs: $markers, expected between $opened and $starts"
fi
cut=$(jq -s '[.[] | select(.kind == "epoch") | .cut_bytes] | add' "$T/all.jsonl")
echo "     bytes cut off at recovery in all: $cut"
echo "$fails failure(s)"
[ "$fails" = 0 ]
