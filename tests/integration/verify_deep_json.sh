#!/usr/bin/env bash
# Hostile nesting: `resmeter verify` on a JWS whose header nests 1,000,000
# levels (4 MB of brackets), the same nesting in the payload with --json, and
# a deeply nested `jwk` in --identity must each exit 2 with one line on
# stderr: no stack overflow (SIGSEGV: exit 139), no abort.
# argv: RESMETER_BINARY SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli_harness.sh"
S="$T/state"
"$R" --state-dir "$S" key init > /dev/null 2> "$T/err" || { cat "$T/err"; exit 1; }
"$R" --state-dir "$S" key show > "$T/pub.jwk" 2> "$T/err" || { cat "$T/err"; exit 1; }
kid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("kid",""))' "$T/pub.jwk")

python3 - "$T" "$kid" <<'PYEOF'
import base64, json, sys
t, kid = sys.argv[1], sys.argv[2]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
deep = lambda n: "[" * n + "]" * n
sig = b64(b"\0" * 64)
hdr = '{"alg":"EdDSA","kid":"%s","x":%s}' % (kid, deep(1000000))
open(t + "/deep_header.jws", "w").write(b64(hdr.encode()) + "." + b64(b'{"eat_profile":"x"}') + "." + sig + "\n")
pl = '{"eat_profile":"x","x":%s}' % deep(100000)
good_hdr = '{"alg":"EdDSA","kid":"%s"}' % kid
open(t + "/deep_payload.jws", "w").write(b64(good_hdr.encode()) + "." + b64(pl.encode()) + "." + sig + "\n")
open(t + "/deep_identity.json", "w").write('{"jwk": %s}' % deep(1000000))
# Under every size limit, so only the nesting bound stops them.
small = '{"alg":"EdDSA","kid":"%s","x":%s}' % (kid, deep(30000))
open(t + "/deep_small_header.jws", "w").write(b64(small.encode()) + "." + b64(b'{}') + "." + sig + "\n")
open(t + "/deep_small_identity.json", "w").write('{"jwk": %s}' % deep(200000))
PYEOF

"$R" verify "$T/deep_header.jws" --key "$T/pub.jwk" > /dev/null 2> "$T/err"
check "1,000,000-deep JWS header" 2 $? "$T/err"
"$R" verify "$T/deep_header.jws" --key "$T/pub.jwk" --json > /dev/null 2> "$T/err"
check "1,000,000-deep JWS header --json" 2 $? "$T/err"
"$R" verify "$T/deep_payload.jws" --key "$T/pub.jwk" --json > /dev/null 2> "$T/err"
rc=$?
# An unsigned deep payload fails the signature (exit 1) or the bound (exit 2); never a crash.
if [ $rc -ge 128 ] || [ $rc = 0 ]; then echo "FAIL 100,000-deep payload --json: exit $rc"; fails=$((fails+1)); else echo "ok   100,000-deep payload --json: exit $rc"; fi
"$R" verify "$T/deep_header.jws" --identity "$T/deep_identity.json" > /dev/null 2> "$T/err"
check "1,000,000-deep jwk in --identity" 2 $? "$T/err"
"$R" verify "$T/deep_small_header.jws" --key "$T/pub.jwk" --json > /dev/null 2> "$T/err"
check "30,000-deep JWS header (60 KB) --json" 2 $? "$T/err"
grep -q "nesting deeper than 64" "$T/err" || { echo "FAIL: the nesting bound did not name itself"; fails=$((fails+1)); }
"$R" verify "$T/deep_small_header.jws" --identity "$T/deep_small_identity.json" > /dev/null 2> "$T/err"
check "200,000-deep jwk in --identity (400 KB)" 2 $? "$T/err"
finish verify_deep_json
