#!/usr/bin/env bash
# End-to-end: probe with an ephemeral key (--identity-out), verify (and
# independent JOSE verifiers), the peer's persistent key (key init/show), a
# planted key file that probe ignores, and the one-line exit-2 errors for bad
# config, keys and reports.
# argv: RESMETER_BINARY SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli_harness.sh"
PY=/usr/bin/python3
S="$T/state"

"$R" --state-dir "$S" probe --only cpu.time,memory.capacity -o "$T/r.jws" --identity-out "$T/id.json" --nonce 0123456789abcdef 2> "$T/err"; check "probe" 0 $? "$T/err"
[ ! -e "$S/signing_key.pem" ] && echo "ok   probe wrote no key file" || { echo "FAIL probe wrote a key file"; fails=$((fails+1)); }
jq -e '.key_origin == "ephemeral" and (.kid | length) > 0 and .evidence.type == "none"' "$T/id.json" > /dev/null &&
  echo "ok   identity-out: ephemeral key" || { echo "FAIL identity-out"; cat "$T/id.json"; fails=$((fails+1)); }
jq .jwk "$T/id.json" > "$T/pub.jwk"
"$R" verify "$T/r.jws" --identity "$T/id.json" --allow-dev-evidence --nonce 0123456789abcdef > "$T/out" 2> "$T/err"; check "verify" 0 $? "$T/err"
[ "$(tail -n 1 "$T/out")" = ACCEPTED ] || { echo "FAIL verify's last line is not ACCEPTED"; cat "$T/out"; fails=$((fails+1)); }

# Independent verifier: python3-jwcrypto with the JWK from the identity.
$PY - "$T/pub.jwk" "$T/r.jws" <<'PYEOF' 2> "$T/err"
import json, sys
from jwcrypto import jwk, jws
key = jwk.JWK.from_json(open(sys.argv[1]).read())
token = jws.JWS()
token.deserialize(open(sys.argv[2]).read())
token.verify(key, alg="EdDSA")
claims = json.loads(token.payload)
assert claims["eat_nonce"] == "0123456789abcdef", claims["eat_nonce"]
assert claims["evidence"]["type"] == "none"
PYEOF
check "jwcrypto verifies EdDSA report" 0 $? "$T/err"

# ES384: jwcrypto and Debian's jose tool (which has no EdDSA).
S384="$T/state384"
"$R" --state-dir "$S384" --set report.algorithm=ES384 probe --only cpu.time -o "$T/r384.jws" --identity-out "$T/id384.json" 2> /dev/null
jq .jwk "$T/id384.json" > "$T/pub384.jwk"
jose jws ver -i "$T/r384.jws" -k "$T/pub384.jwk" 2> "$T/err"; check "jose verifies ES384 report" 0 $? "$T/err"
$PY -c "
import sys
from jwcrypto import jwk, jws
t = jws.JWS(); t.deserialize(open('$T/r384.jws').read()); t.verify(jwk.JWK.from_json(open('$T/pub384.jwk').read()), alg='ES384')
" 2> "$T/err"; check "jwcrypto verifies ES384 report" 0 $? "$T/err"
# And a tampered ES384 report fails with jose too (the check can fail).
$PY -c "
t = open('$T/r384.jws').read(); i = t.index('.') + 5
open('$T/bad384.jws', 'w').write(t[:i] + ('A' if t[i] != 'A' else 'B') + t[i+1:])"
jose jws ver -i "$T/bad384.jws" -k "$T/pub384.jwk" 2> /dev/null; check "jose rejects tampered report" 1 $?

# Exit 1 with their own reasons on the last line (REJECTED: ...).
"$R" verify "$T/r.jws" --key "$T/pub384.jwk" > "$T/out"; check "wrong key" 1 $? "$T/out" "wrong key"
"$R" verify "$T/r.jws" --key "$T/pub.jwk" --nonce 0123456789abcdee > "$T/out"; check "wrong nonce" 1 $? "$T/out" "nonce mismatch"
"$R" verify "$T/r.jws" --key "$T/pub.jwk" --at 2099-01-01T00:00:00Z > "$T/out"; check "expired" 1 $? "$T/out" "expired at"
"$R" verify "$T/bad384.jws" --key "$T/pub384.jwk" > "$T/out"; check "tampered payload" 1 $? "$T/out" "bad signature"

# Exit 2 with one clear line.
head -c 100 "$T/r.jws" > "$T/trunc.jws"
"$R" verify "$T/trunc.jws" --key "$T/pub.jwk" > /dev/null 2> "$T/err"; check "truncated report" 2 $? "$T/err" "truncated"
printf 'report:\n  validity_seconds: [1\n' > "$T/bad.yaml"
"$R" --config "$T/bad.yaml" --state-dir "$S" probe --only cpu.time > /dev/null 2> "$T/err"; check "malformed config" 2 $? "$T/err" "bad.yaml:"
printf 'report:\n  validity: 100\n' > "$T/unknown.yaml"
"$R" --config "$T/unknown.yaml" --state-dir "$S" probe > /dev/null 2> "$T/err"; check "unknown config key" 2 $? "$T/err" "unknown.yaml:2: unknown key 'report.validity'"
"$R" --state-dir "$T/nostate" identity > /dev/null 2> "$T/err"; check "identity without a running agent" 2 $? "$T/err" "no agent identity in"
"$R" --state-dir "$T/nostate" identity --nonce 0123456789abcdef > /dev/null 2> "$T/err"; check "identity --nonce" 2 $? "$T/err" "POST /v1/attest"

# The network peer's persistent key (key_origin "file"): key init / show.
P="$T/peer"
"$R" --state-dir "$P" key init > /dev/null 2> "$T/err"; check "key init" 0 $? "$T/err"
[ "$(stat -c %a "$P/signing_key.pem")" = 600 ] && echo "ok   key mode 0600" || { echo "FAIL key mode"; fails=$((fails+1)); }
"$R" --state-dir "$P" key init > /dev/null 2> "$T/err"; check "key init refuses to overwrite" 2 $? "$T/err" "already exists"
"$R" --state-dir "$P" key show > "$T/peer.jwk" 2> "$T/err"; check "key show" 0 $? "$T/err"
# A key file planted in a state directory is never used by probe.
"$R" --state-dir "$P" probe --only cpu.time -o "$T/rp.jws" --identity-out "$T/idp.json" > /dev/null 2> "$T/err"; check "probe ignores a planted key" 0 $? "$T/err"
grep -q "ignoring $P/signing_key.pem" "$T/err" && [ "$(jq -r .kid "$T/idp.json")" != "$(jq -r .kid "$T/peer.jwk")" ] &&
  echo "ok   the planted key signed nothing" || { echo "FAIL planted key used"; cat "$T/err"; fails=$((fails+1)); }
chmod 644 "$P/signing_key.pem"
"$R" --state-dir "$P" key show > /dev/null 2> "$T/err"; check "key show with mode 0644" 2 $? "$T/err" "has mode 0644"
"$R" probe --only no.such.meter --state-dir "$S384" > /dev/null 2> "$T/err"; check "unknown meter" 2 $? "$T/err" "unknown meter 'no.such.meter'"
"$R" verify /nonexistent.jws --key "$T/pub.jwk" > /dev/null 2> "$T/err"; check "missing report" 2 $? "$T/err" "cannot open"

finish cli_report
