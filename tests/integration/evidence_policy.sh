#!/usr/bin/env bash
# End-to-end: `resmeter evidence verify --identity F --policy P` appraises an
# identity against the buyer's policy: the evidence type must be accepted,
# the key origin too (a document claiming a file key is REJECTED), and a
# missing or malformed policy is one line with exit 2.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
passes=0
check() {  # check NAME EXPECTED_RC ACTUAL_RC FILE [TEXT]: the exit code, and TEXT in FILE's last line
  local name=$1 want=$2 got=$3 file=$4 text=${5:-}
  if [ "$got" != "$want" ] || { [ -n "$text" ] && ! tail -n 1 "$file" | grep -qF -- "$text"; }; then
    echo "FAIL $name (exit $got, want $want; want last line with '$text')"; tail -n 3 "$file"; fails=$((fails+1)); return
  fi
  echo "ok   $name"; passes=$((passes+1))
}
"$R" --state-dir "$T/s" probe --only cpu.topology -o "$T/r.jws" --identity-out "$T/id.json" 2> "$T/err" ||
  { echo "FAIL probe"; cat "$T/err"; exit 1; }
TYPE=$(jq -r .evidence.type "$T/id.json")
cat > "$T/dev.yaml" <<YAML
name: accepts-this-machine
evidence:
  accept: [$TYPE]
  key_origins: [ephemeral]
YAML
"$R" evidence verify --identity "$T/id.json" --policy "$T/dev.yaml" --allow-none > "$T/out" 2>&1
check "identity accepted by a policy accepting its type ($TYPE)" 0 $? "$T/out" "ACCEPTED"
"$R" evidence verify --identity "$T/id.json" --policy "$SRC/configs/policies/small-vm.yaml" --allow-none > "$T/out" 2>&1
rc=$?
if [ "$TYPE" = none ]; then
  check "development evidence refused by small-vm" 1 $rc "$T/out" "REJECTED: policy.evidence.accept: none is not accepted"
fi
jq '.key_origin = "file"' "$T/id.json" > "$T/file-key.json"
"$R" evidence verify --identity "$T/file-key.json" --policy "$T/dev.yaml" --allow-none > "$T/out" 2>&1
check "identity claiming a file key refused" 1 $? "$T/out" "key_origin: 'file' is not accepted (accepted: ephemeral)"
jq 'del(.key_origin)' "$T/id.json" > "$T/no-origin.json"
"$R" evidence verify --identity "$T/no-origin.json" --policy "$T/dev.yaml" --allow-none > "$T/out" 2>&1
check "identity without key_origin refused" 1 $? "$T/out" "key_origin: no key_origin is not accepted"
"$R" evidence verify --identity "$T/id.json" --policy "$T/missing.yaml" > "$T/out" 2>&1
check "missing policy: exit 2" 2 $? "$T/out" "missing.yaml"
printf 'name: x\nname: y\n' > "$T/dup.yaml"
"$R" evidence verify --identity "$T/id.json" --policy "$T/dup.yaml" > "$T/out" 2>&1
check "policy with a duplicate key: exit 2" 2 $? "$T/out" "duplicate"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
