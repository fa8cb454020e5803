#!/usr/bin/env bash
# The agent scraped by a real Prometheus server (Debian `prometheus`) on
# loopback: Prometheus's HTTP API must return resmeter series with sane
# values within a bounded wait, and /metrics must pass `promtool check metrics`.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
command -v prometheus > /dev/null || { echo "SKIP: prometheus not installed (apt-get install prometheus)"; exit 77; }
command -v promtool > /dev/null || { echo "SKIP: promtool not installed"; exit 77; }
source "$SRC/tests/integration/lib/agent_harness.sh"

start_agent "$T/a" --set agent.light_interval_seconds=2 || exit 1
URL="http://127.0.0.1:$AGENT_PORT"
wait_for 30 curl -sf "$URL/v1/report/latest" -o /dev/null || bad "first report within 30 s"

# promtool lints the exposition (names, HELP, counters ending in _total, ...).
curl -sf "$URL/metrics" > "$T/metrics.txt" || bad "GET /metrics"
if promtool check metrics < "$T/metrics.txt" > "$T/lint.txt" 2>&1; then ok "promtool check metrics"; else bad "promtool check metrics:"; cat "$T/lint.txt"; fi
if grep -v '^#' "$T/metrics.txt" | grep -v '^resmeter_\|^process_' | grep -q .; then bad "a series without the resmeter_ prefix (or the standard process_)"; else ok "one prefix"; fi

# A real Prometheus scraping every second.
PP=$(free_port)
start_prometheus "$PP"

query() {  # query PROMQL -> the first sample's value, or empty
  curl -sf --max-time 5 "$P/api/v1/query" --data-urlencode "query=$1" |
    jq -r 'if .status == "success" and (.data.result | length) > 0 then .data.result[0].value[1] else empty end'
}
have() { [ -n "$(query "$1")" ]; }
if wait_for 60 have 'resmeter_meter_success{meter="cpu.time"}'; then ok "Prometheus has resmeter series"; else
  bad "no resmeter series in Prometheus within 60 s"; tail -20 "$T/prometheus.log"; exit 1; fi

check() {  # check NAME PROMQL: the expression must return a sample (comparisons filter)
  if have "$2"; then ok "$1"; else bad "$1: '$2' returned nothing (value now: $(query "${3:-$2}"))"; fi
}
NPROC=$(grep -c '^cpu[0-9]' /proc/stat)
MEM=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024 ))
check "target up" 'up{job="resmeter"} == 1'
check "cpu.time ok" 'resmeter_meter_success{meter="cpu.time"} == 1'
check "cpu.time duration about its 1 s window" 'resmeter_meter_duration_seconds{meter="cpu.time"} > 0.5 and resmeter_meter_duration_seconds{meter="cpu.time"} < 10' 'resmeter_meter_duration_seconds{meter="cpu.time"}'
check "vCPUs = $NPROC" "resmeter_cpu_time_vcpus == $NPROC" 'resmeter_cpu_time_vcpus'
check "memory total = MemTotal" "resmeter_memory_capacity_mem_total_bytes == $MEM" 'resmeter_memory_capacity_mem_total_bytes'
check "steal ratio in [0, 1]" 'resmeter_cpu_time_steal_ratio >= 0 and resmeter_cpu_time_steal_ratio <= 1' 'resmeter_cpu_time_steal_ratio'
check "CPU seconds by state, labelled (declared family)" 'resmeter_cpu_time_state_seconds{state="user"} >= 0' 'resmeter_cpu_time_state_seconds'
check "topology vCPUs = $NPROC (one name with policy cpu.vcpus)" "resmeter_cpu_topology_vcpus == $NPROC" 'resmeter_cpu_topology_vcpus'
check "time trust is 0 or 1" 'resmeter_time_trusted == 0 or resmeter_time_trusted == 1' 'resmeter_time_trusted'
check "report is recent" 'time() - resmeter_report_last_timestamp_seconds < 60' 'resmeter_report_last_timestamp_seconds'
check "agent info" 'resmeter_agent_info == 1'
check "RSS under 64 MiB" 'process_resident_memory_bytes{job="resmeter"} < 64 * 1024 * 1024' 'process_resident_memory_bytes'
check "meter runs counted" 'resmeter_meter_runs_total{meter="cpu.time",status="ok"} >= 1'
check "scrapes counted" 'resmeter_http_requests_total{handler="metrics",code="200"} >= 1'

stop_agent
[ "$AGENT_RC" = 0 ] && ok "SIGTERM exit 0" || bad "SIGTERM exit $AGENT_RC"
echo "$fails failure(s)"
[ "$fails" = 0 ]
