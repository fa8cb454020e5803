#!/usr/bin/env bash
# Load test of the agent's HTTP server with wrk on loopback, and the agent's
# own cost at idle.
#
#   bench/agent_http_load.sh [RESMETER_BINARY] [DURATION_SECONDS] [CONNECTIONS]
#
# 1. Starts `resmeter agent` with the default intervals (light every 15 s,
#    heavy meters off so no benchmark runs during the measurement) on a free
#    loopback port, waits for the first report.
# 2. Idle: CPU (utime + stime from /proc/PID/stat) over IDLE_SECONDS (default
#    45 s: three light cycles) as a share of one core, and RSS (VmRSS, VmHWM).
#    Targets: < 1% of one core, < 30 MiB.
# 3. wrk (2 threads, CONNECTIONS connections, DURATION seconds each, default
#    10 s and 16) on GET /metrics and GET /v1/report/latest: requests/s,
#    p50/p99 latency, non-2xx responses and socket errors (must be 0).
# Every process started is killed on exit. Numbers depend on the machine and
# on what else runs on it; the conditions are printed with them.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
R=${1:-$SRC/build/resmeter}
DURATION=${2:-10}
CONNS=${3:-16}
IDLE_SECONDS=${IDLE_SECONDS:-45}
command -v wrk > /dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 77; }
source "$SRC/tests/integration/lib/agent_harness.sh"
T=$(mktemp -d)
trap 'kill_all 2>/dev/null; rm -rf "$T"' EXIT

# wrk is one client with CONNECTIONS connections: lift the per-client cap for it.
start_agent "$T/a" --set agent.heavy_interval_seconds=0 --set agent.http_max_connections_per_client=$((CONNS + 4)) || exit 1
URL="http://127.0.0.1:$AGENT_PORT"
wait_for 60 curl -sf "$URL/v1/report/latest" -o /dev/null || { echo "no report within 60 s"; exit 1; }
sleep 2  # let the first cycle's allocations settle

HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat"; }
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$AGENT_PID/status"; }
c0=$(cpu_ticks); t0=$(date +%s.%N)
sleep "$IDLE_SECONDS"
c1=$(cpu_ticks); t1=$(date +%s.%N)
idle_cpu=$(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$HZ" 'BEGIN {printf "%.3f", 100 * (c1 - c0) / hz / (t1 - t0)}')
rss=$(kib VmRSS); hwm=$(kib VmHWM)

echo "conditions: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), wrk -t2 -c$CONNS -d${DURATION}s, loopback"
printf 'idle (%s s, light interval 15 s): CPU %s%% of one core (target < 1%%), RSS %.1f MiB (target < 30 MiB), peak RSS %.1f MiB\n' \
  "$IDLE_SECONDS" "$idle_cpu" "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"

status=0
for path in /metrics /v1/report/latest; do
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency "$URL$path" > "$T/wrk.txt" 2>&1
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$T/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$T/wrk.txt")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$T/wrk.txt"); non2xx=${non2xx:-0}
  sockerr=$(grep -o 'Socket errors:.*' "$T/wrk.txt" || echo "Socket errors: none")
  total=$(awk '/requests in/ {print $1}' "$T/wrk.txt")
  printf '%-20s %10s req/s  p50 %8s  p99 %8s  requests %s  non-2xx %s  %s\n' "$path" "$rps" "$p50" "$p99" "$total" "$non2xx" "$sockerr"
  if [ "$non2xx" != 0 ] || grep -q 'Socket errors' "$T/wrk.txt"; then status=1; fi
done
printf 'after load: RSS %.1f MiB, peak RSS %.1f MiB\n' "$(echo "$(kib VmRSS) / 1024" | bc -l)" "$(echo "$(kib VmHWM) / 1024" | bc -l)"
stop_agent
[ "$AGENT_RC" = 0 ] || { echo "agent exit $AGENT_RC after SIGTERM"; status=1; }
exit $status
