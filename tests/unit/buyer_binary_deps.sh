#!/usr/bin/env bash
# resmeter-verify (the buyer's tools) must link without the agent's hardware
# libraries: hwloc, liburing, libpfm and the TPM's ESAPI (tss2-esys, tctildr).
# Usage: buyer_binary_deps.sh PATH/TO/resmeter-verify
set -u
bin=$1
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p') || { echo "readelf failed on $bin"; exit 1; }
[ -n "$needed" ] || { echo "no NEEDED entries read from $bin"; exit 1; }
echo "resmeter-verify needs: $(echo $needed)"
bad=$(printf '%s\n' $needed | grep -E '^lib(hwloc|uring|pfm|tss2-esys|tss2-tctildr)' || true)
if [ -n "$bad" ]; then
  echo "FAIL resmeter-verify links agent-only libraries: $(echo $bad)"
  exit 1
fi
# And it answers: the buyer's commands, none of the agent's.
help=$("$bin" --help) || { echo "FAIL resmeter-verify --help exited non-zero"; exit 1; }
for cmd in verify ledger evidence key peer; do
  grep -q "^  $cmd" <<< "$help" || { echo "FAIL resmeter-verify --help lacks $cmd"; exit 1; }
done
for cmd in probe agent identity; do
  ! grep -q "^  $cmd" <<< "$help" || { echo "FAIL resmeter-verify --help offers the agent's $cmd"; exit 1; }
done
echo "ok   resmeter-verify links without hwloc, liburing, libpfm and tss2-esys"
