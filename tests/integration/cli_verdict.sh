#!/usr/bin/env bash
# End-to-end: `resmeter verify` gives one verdict. A report measured on a
# fixture tree (--proc-root/--sys-root) is REJECTED unless
# --allow-fixture-roots; evidence "none" is REJECTED unless
# --allow-dev-evidence; without --key the report's own cnf.jwk is used; the
# JSON verdict, the human last line and the exit code agree; --format ear is
# valid against tests/data/ear.schema.json and --sign-with signs it (checked
# with python3-jwcrypto).
# argv: RESMETER_BINARY SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli_harness.sh"
PY=/usr/bin/python3
S="$T/state"
FX="$SRC/tests/fixtures/machines/numa_2socket"

"$R" --state-dir "$S" key init > /dev/null 2>&1
"$R" --state-dir "$S" key show > "$T/pub.jwk"
"$R" --state-dir "$S" probe --only cpu.topology,memory.capacity -o "$T/live.jws" --identity-out "$T/live-id.json" 2> "$T/err" ||
  bad "probe live" "$T/err"
jq .jwk "$T/live-id.json" > "$T/live.jwk"  # the probe's ephemeral key ($T/pub.jwk is another, file key)
"$R" --state-dir "$S" --proc-root "$FX/proc" --sys-root "$FX/sys" probe --only cpu.topology -o "$T/fx.jws" 2> "$T/err" ||
  bad "probe on the fixture tree" "$T/err"
claims() { $PY -c 'import base64,json,sys; p=open(sys.argv[1]).read().split(".")[1]; print(json.dumps(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))))' "$1"; }
claims "$T/fx.jws" > "$T/fx.json"
$PY - "$T/fx.json" "$FX" <<'PY' > "$T/py" 2>&1 && ok "fixture report says live: false and why" || bad "fixture report claims" "$T/py"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["live"] is False, c["live"]
assert c["not_live_reasons"] == ["proc_root=%s/proc" % sys.argv[2], "sys_root=%s/sys" % sys.argv[2]], c["not_live_reasons"]
assert c["submods"]["cpu.topology"]["claims"]["vcpus"] == 16, c["submods"]["cpu.topology"]["claims"]
PY
claims "$T/live.jws" > "$T/live.json"
ORIGIN=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["key_origin"])' "$T/live.json")
LIVE=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["live"])' "$T/live.json")
[ "$LIVE" = True ] && ok "live report says live: true" || bad "live report says live: $LIVE"
# A key from a file is never accepted for an agent's reports; an ephemeral one is.
[ "$ORIGIN" = ephemeral ] && OK_RC=0 || OK_RC=1

# verify: last line, exit code and --json verdict must agree.
agree() {  # agree NAME WANT_RC WANT_LAST_LINE_SUBSTRING ARGS...
  local name=$1 want=$2 pat=$3; shift 3
  "$R" verify "$@" > "$T/out" 2> "$T/err"; local rc=$?
  "$R" verify "$@" --json > "$T/out.json" 2> "$T/err.json"; local jrc=$?
  local last; last=$(tail -n 1 "$T/out")
  [ "$rc" = "$want" ] || { bad "$name: exit $rc, expected $want" "$T/out"; return; }
  [ "$jrc" = "$rc" ] || { bad "$name: --json exit $jrc, human $rc"; return; }
  # --json: stdout only, except the one stderr line every input error (exit 2) gets.
  if [ "$rc" = 2 ]; then
    [ "$(wc -l < "$T/err.json")" = 1 ] || { bad "$name: --json exit 2 without exactly one stderr line" "$T/err.json"; return; }
  else
    [ -s "$T/err.json" ] && { bad "$name: --json wrote to stderr" "$T/err.json"; return; }
  fi
  case "$last" in ACCEPTED|REJECTED:*) ;; *) bad "$name: last line '$last'"; return ;; esac
  [[ "$last" == *"$pat"* ]] || { bad "$name: last line lacks '$pat': $last"; return; }
  $PY - "$T/out.json" "$rc" "$last" <<'PY' > "$T/py" 2>&1 || { bad "$name: JSON disagrees" "$T/py"; return; }
import json, sys
d = json.load(open(sys.argv[1]))
rc, last = int(sys.argv[2]), sys.argv[3]
assert d["verdict"] == ("ACCEPTED" if rc == 0 else "REJECTED"), d["verdict"]
assert last == ("ACCEPTED" if rc == 0 else "REJECTED: " + "; ".join(d["reasons"])), (last, d["reasons"])
assert "passed" not in d and "valid" not in d
PY
  ok "$name (exit $rc)"
}
agree "fixture-tree report rejected by default" 1 "live: not live (proc_root=$FX/proc" "$T/fx.jws" --allow-dev-evidence
agree "fixture-tree report with --allow-fixture-roots" $OK_RC "" "$T/fx.jws" --allow-dev-evidence --allow-fixture-roots
EVIDENCE=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["evidence"]["type"])' "$T/live.json")
if [ "$EVIDENCE" = none ]; then
  agree "evidence none rejected without --allow-dev-evidence" 1 "evidence: none (development mode)" "$T/live.jws"
fi
agree "no --key: the report's own cnf.jwk" $OK_RC "" "$T/live.jws" --allow-dev-evidence
agree "--key pins the same key" $OK_RC "" "$T/live.jws" --key "$T/live.jwk" --allow-dev-evidence
"$R" --state-dir "$T/other" key init > /dev/null 2>&1
"$R" --state-dir "$T/other" key show > "$T/other.jwk"
agree "--key of another agent" 1 "key: wrong key" "$T/live.jws" --key "$T/other.jwk" --allow-dev-evidence
agree "wrong nonce" 1 "nonce: nonce mismatch" "$T/live.jws" --nonce 00000000000000000000 --allow-dev-evidence
printf 'claims:\n  - cpu.vcpus: {min: 100000}\n' > "$T/fail.yaml"
agree "policy clause failed" 1 "policy.cpu.vcpus: required >= 100000" "$T/live.jws" --policy "$T/fail.yaml" --allow-dev-evidence
head -c 50 "$T/live.jws" > "$T/trunc.jws"
agree "truncated report" 2 "structure: " "$T/trunc.jws" --allow-dev-evidence

# cnf.jwk swapped: the live claims re-signed by another key (the file key of $S, as an attacker
# holding a key of its own would) are caught by their own cnf.
$PY - "$T/live.jws" "$S/signing_key.pem" "$T/other.jwk" "$T/swapped.jws" <<'PY' > "$T/py" 2>&1 || bad "re-sign" "$T/py"
import json, sys, base64, subprocess
from jwcrypto import jwk, jws
tok = open(sys.argv[1]).read().strip()
p = tok.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
claims["cnf"] = {"jwk": json.load(open(sys.argv[3]))}  # a third key's cnf
key = jwk.JWK.from_pem(open(sys.argv[2], "rb").read())
s = jws.JWS(json.dumps(claims).encode())
s.add_signature(key, alg="EdDSA", protected=json.dumps({"alg": "EdDSA", "kid": key.thumbprint()}))
open(sys.argv[4], "w").write(s.serialize(compact=True))
PY
agree "cnf.jwk of a third key" 1 "key: wrong key" "$T/swapped.jws" --allow-dev-evidence
agree "cnf.jwk of a third key, signer pinned" 1 "cnf: cnf.jwk is kid" "$T/swapped.jws" --key "$T/pub.jwk" --allow-dev-evidence

# EAR: valid against the schema written from the draft; signed with --sign-with.
"$R" verify "$T/live.jws" --allow-dev-evidence --format ear > "$T/ear.json" 2> "$T/err"; rc=$?
[ "$rc" = "$OK_RC" ] && ok "--format ear exits $rc" || bad "--format ear exit $rc" "$T/err"
"$R" verify "$T/fx.jws" --allow-dev-evidence --format ear --policy "$T/fail.yaml" > "$T/ear-fx.json" 2> "$T/err"
$PY - "$SRC/tests/data/ear.schema.json" "$T/ear.json" "$T/ear-fx.json" "$OK_RC" <<'PY' > "$T/py" 2>&1 && ok "EAR valid against ear.schema.json, statuses mapped" || bad "EAR schema" "$T/py"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
live, fx = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
for ear in (live, fx):
    jsonschema.validate(ear, schema, cls=jsonschema.Draft202012Validator)
assert set(live["submods"]) == {"attester", "cpu.topology", "memory.capacity"}, live["submods"].keys()
want = "contraindicated" if sys.argv[4] != "0" else None
if want: assert live["submods"]["attester"]["ear.status"] == want
assert fx["submods"]["attester"]["ear.status"] == "contraindicated"
assert fx["submods"]["attester"]["ear.trustworthiness-vector"]["configuration"] == 96
assert fx["submods"]["cpu.topology"]["ear.status"] == "contraindicated"
assert fx["submods"]["cpu.topology"]["ear.appraisal-policy-id"].startswith("policy:fail.yaml#sha256:")
bad = dict(live); bad["submods"] = {"attester": {"ear.status": "fine"}}
try:
    jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator); raise SystemExit("schema accepted a bad status")
except jsonschema.ValidationError:
    pass
PY
"$R" verify "$T/live.jws" --allow-dev-evidence --format ear --sign-with "$S/signing_key.pem" > "$T/ear.jws" 2> "$T/err"
$PY - "$S/signing_key.pem" "$T/ear.jws" "$T/ear.json" <<'PY' > "$T/py" 2>&1 && ok "--sign-with: jwcrypto verifies the signed EAR" || bad "signed EAR" "$T/py"
import json, sys
from jwcrypto import jwk, jws
key = jwk.JWK.from_pem(open(sys.argv[1], "rb").read())
pub = jwk.JWK.from_json(key.export_public())
t = jws.JWS(); t.deserialize(open(sys.argv[2]).read().strip()); t.verify(pub, alg="EdDSA")
ear = json.loads(t.payload)
assert ear["eat_profile"] == "tag:github.com,2023:veraison/ear"
assert ear["submods"].keys() == json.load(open(sys.argv[3]))["submods"].keys()
PY
"$R" verify "$T/live.jws" --sign-with "$S/signing_key.pem" > /dev/null 2> "$T/err"
[ $? = 2 ] && grep -q "needs --format ear" "$T/err" && ok "--sign-with without --format ear: exit 2" || bad "--sign-with alone" "$T/err"

finish cli_verdict
