#!/usr/bin/env bash
# End-to-end for the GPU meters through the real binary: `probe --only
# gpu.devices` on this machine (a clean "no GPU" where there is none), and on
# the spoof fixture with the fake NVML library (findings in the signed report).
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
FAKE_NVML="$(dirname "$R")/tests/libresmeter_fake_nvml.so"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails+1)); }
S="$T/state"

# This machine: gpu.devices must be ok; with zero PCI GPUs it says "no GPU".
"$R" --state-dir "$S" probe --only gpu.devices --json > "$T/live.json" 2> "$T/live.err" || fail "probe live: exit $?"
python3 - "$T/live.json" <<'PY' || fail "live gpu.devices claims"
import json, sys
m = json.load(open(sys.argv[1]))["submods"]["gpu.devices"]
assert m["status"] == "ok", m
c = m["claims"]
if c["gpus"] == 0:
    assert c["summary"].startswith("no GPU"), c["summary"]
    assert m["findings"] == [], m["findings"]
print("ok   live gpu.devices:", c["summary"], "| nvml:", c["nvml"]["status"])
PY
grep -q "gpu.devices *ok" "$T/live.err" || fail "human summary lacks 'gpu.devices ok'"
if python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["submods"]["gpu.devices"]["claims"]["gpus"] != 0)' "$T/live.json"; then
  grep -q "summary = no GPU" "$T/live.err" && echo "ok   human summary says no GPU" || fail "human summary lacks 'no GPU'"
fi

# The spoof fixture through --sys-root/--proc-root and --set.
if [ ! -f "$FAKE_NVML" ]; then echo "skip: $FAKE_NVML not built"; exit 77; fi
FX="$SRC/tests/fixtures/gpu/spoof"
FAKE_NVML_COUNT=8 "$R" --state-dir "$S" --sys-root "$FX/sys" --proc-root "$FX/proc" \
  --set "meters.gpu.devices.nvml_library=$FAKE_NVML" probe --only gpu.devices --json > "$T/spoof.json" 2> "$T/spoof.err" \
  || fail "probe spoof: exit $?"
python3 - "$T/spoof.json" <<'PY' || fail "spoof findings"
import json, sys
m = json.load(open(sys.argv[1]))["submods"]["gpu.devices"]
codes = [f["code"] for f in m["findings"]]
assert m["claims"]["gpus"] == 1 and m["claims"]["nvml"]["device_count"] == 8, m["claims"]
assert codes.count("gpu_count_mismatch") == 1 and codes.count("gpu_not_on_pci") == 7, codes
print("ok   spoof: %d findings: %s" % (len(codes), sorted(set(codes))))
PY
grep -q "! gpu_count_mismatch" "$T/spoof.err" && echo "ok   human summary shows the finding" || fail "summary lacks finding"
[ $fails -eq 0 ] || exit 1
