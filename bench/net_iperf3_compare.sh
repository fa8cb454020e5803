#!/usr/bin/env bash
# net.throughput vs iperf3, side by side in the same run, across two network
# namespaces joined by a veth pair: unshaped, then shaped with tbf to 200 Mbit/s.
# Prints resmeter/iperf3 per direction and resmeter/shaped-rate.
# Targets: shaped within 5% of 200 Mbit/s; unshaped >= 0.9x iperf3 (same streams).
#
# Usage (as root): bench/net_iperf3_compare.sh [RESMETER_BINARY]
# Env: STREAMS (4), DURATION (5 s), OMIT (1 s), RATE_MBIT (200).
# All traffic stays inside the two namespaces this script creates; they are
# deleted on exit, also on failure or Ctrl-C.
set -euo pipefail

BIN=${1:-build/resmeter}
STREAMS=${STREAMS:-4}
DURATION=${DURATION:-5}
OMIT=${OMIT:-1}
RATE_MBIT=${RATE_MBIT:-200}

if [ "$(id -u)" -ne 0 ]; then echo "net_iperf3_compare: skipped: needs root for network namespaces"; exit 77; fi
for tool in ip tc iperf3 python3; do
  command -v "$tool" >/dev/null || { echo "net_iperf3_compare: skipped: $tool not installed"; exit 77; }
done
[ -x "$BIN" ] || { echo "net_iperf3_compare: $BIN is not an executable (build first)"; exit 2; }
BIN=$(readlink -f "$BIN")

NSA="rmbench$$-a"; NSB="rmbench$$-b"; VA="rmba$$"; VB="rmbb$$"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$NSA" 2>/dev/null || true
  ip netns del "$NSB" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NSA"; ip netns add "$NSB"
ip link add "${VA:0:15}" netns "$NSA" type veth peer name "${VB:0:15}" netns "$NSB"
ip -n "$NSA" addr add 10.78.0.1/24 dev "${VA:0:15}"; ip -n "$NSB" addr add 10.78.0.2/24 dev "${VB:0:15}"
for ns in "$NSA" "$NSB"; do ip -n "$ns" link set lo up; done
ip -n "$NSA" link set "${VA:0:15}" up; ip -n "$NSB" link set "${VB:0:15}" up

"$BIN" --state-dir "$WORK/peer" key init >/dev/null 2>&1
"$BIN" --state-dir "$WORK/agent" key init >/dev/null 2>&1
ip netns exec "$NSB" "$BIN" --state-dir "$WORK/peer" peer --listen 10.78.0.2:5301 --duration 600 --quiet 2>"$WORK/peer.log" &
PIDS+=($!)
ip netns exec "$NSB" iperf3 -s -B 10.78.0.2 -p 5201 >/dev/null 2>&1 &
PIDS+=($!)
cat >"$WORK/agent.yaml" <<YAML
state_dir: $WORK/agent
meters:
  net.throughput:
    targets: ["10.78.0.2:5301"]
    streams: $STREAMS
    duration_seconds: $DURATION
    omit_seconds: $OMIT
YAML
sleep 0.5

# iperf3 bits/s received; $1 = extra flags (-R for download).
iperf3_bps() {
  ip netns exec "$NSA" iperf3 -c 10.78.0.2 -p 5201 -P "$STREAMS" -t "$DURATION" -O "$OMIT" -J $1 >"$WORK/iperf.json"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"])' "$WORK/iperf.json"
}
# resmeter upload and download bits/s, "UP DOWN".
resmeter_bps() {
  ip netns exec "$NSA" "$BIN" --config "$WORK/agent.yaml" probe --only net.throughput --json 2>/dev/null >"$WORK/report.json"
  python3 - "$WORK/report.json" <<'PY'
import json, sys
sub = json.load(open(sys.argv[1]))["submods"]["net.throughput"]
if sub["status"] != "ok":
    sys.exit("net.throughput " + sub["status"] + ": " + sub.get("reason", ""))
t = sub["claims"]["targets"][0]
print(t["upload_bps"], t["download_bps"])
PY
}
ratio() { python3 -c "import sys; print('%.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
mbit() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) / 1e6))" "$1"; }

echo "net_iperf3_compare: $STREAMS streams, ${DURATION} s window after ${OMIT} s omitted, veth between two namespaces"
echo "kernel $(uname -r), $(nproc) CPUs, $(iperf3 --version | head -1)"
for cond in unshaped shaped; do
  if [ "$cond" = shaped ]; then
    for pair in "$NSA ${VA:0:15}" "$NSB ${VB:0:15}"; do
      set -- $pair
      tc -n "$1" qdisc add dev "$2" root tbf rate "${RATE_MBIT}mbit" burst 64kb latency 50ms
    done
  fi
  up_i=$(iperf3_bps ""); down_i=$(iperf3_bps "-R")
  read -r up_r down_r < <(resmeter_bps)
  label="$cond"; [ "$cond" = shaped ] && label="shaped ${RATE_MBIT} Mbit/s (tbf)"
  echo "-- $label"
  printf "   %-9s iperf3 %9s Mbit/s   resmeter %9s Mbit/s   resmeter/iperf3 %s" upload "$(mbit "$up_i")" "$(mbit "$up_r")" "$(ratio "$up_r" "$up_i")"
  [ "$cond" = shaped ] && printf "   resmeter/shaped %s   iperf3/shaped %s" "$(ratio "$up_r" "${RATE_MBIT}e6")" "$(ratio "$up_i" "${RATE_MBIT}e6")"
  echo
  printf "   %-9s iperf3 %9s Mbit/s   resmeter %9s Mbit/s   resmeter/iperf3 %s" download "$(mbit "$down_i")" "$(mbit "$down_r")" "$(ratio "$down_r" "$down_i")"
  [ "$cond" = shaped ] && printf "   resmeter/shaped %s   iperf3/shaped %s" "$(ratio "$down_r" "${RATE_MBIT}e6")" "$(ratio "$down_i" "${RATE_MBIT}e6")"
  echo
done
echo "targets: shaped resmeter/shaped within 0.95..1.05; unshaped resmeter/iperf3 >= 0.90"
