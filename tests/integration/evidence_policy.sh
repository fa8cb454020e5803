#!/usr/bin/env bash
# End-to-end: `resmeter evidence verify --identity F --policy P` appraises an
# identity against the buyer's policy: the evidence type must be accepted,
# the key origin too (a document claiming a file key is REJECTED), and a
# missing or malformed policy is one line with exit 2.
# argv: RESMETER_BINARY SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli_harness.sh"
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
check_last "identity accepted by a policy accepting its type ($TYPE)" 0 $? "$T/out" "ACCEPTED"
"$R" evidence verify --identity "$T/id.json" --policy "$SRC/configs/policies/small-vm.yaml" --allow-none > "$T/out" 2>&1
rc=$?
if [ "$TYPE" = none ]; then
  check_last "development evidence refused by small-vm" 1 $rc "$T/out" "REJECTED: policy.evidence.accept: none is not accepted"
fi
jq '.key_origin = "file"' "$T/id.json" > "$T/file-key.json"
"$R" evidence verify --identity "$T/file-key.json" --policy "$T/dev.yaml" --allow-none > "$T/out" 2>&1
check_last "identity claiming a file key refused" 1 $? "$T/out" "key_origin: 'file' is not accepted (accepted: ephemeral)"
jq 'del(.key_origin)' "$T/id.json" > "$T/no-origin.json"
"$R" evidence verify --identity "$T/no-origin.json" --policy "$T/dev.yaml" --allow-none > "$T/out" 2>&1
check_last "identity without key_origin refused" 1 $? "$T/out" "key_origin: no key_origin is not accepted"
"$R" evidence verify --identity "$T/id.json" --policy "$T/missing.yaml" > "$T/out" 2>&1
check_last "missing policy: exit 2" 2 $? "$T/out" "missing.yaml"
printf 'name: x\nname: y\n' > "$T/dup.yaml"
"$R" evidence verify --identity "$T/id.json" --policy "$T/dup.yaml" > "$T/out" 2>&1
check_last "policy with a duplicate key: exit 2" 2 $? "$T/out" "duplicate"
finish evidence_policy
