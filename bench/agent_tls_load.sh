#!/usr/bin/env bash
# Cost of TLS and basic auth on the agent's HTTP server: wrk on loopback
# against three agents started in the same run, side by side:
#   plain      HTTP, no web config
#   tls        HTTPS (ECDSA P-256 certificate made here by openssl), no auth
#   tls+auth   HTTPS and basic auth on every path (bcrypt cost 10; the agent
#              caches a successful check, so this is the steady-state cost)
# on GET /metrics and GET /v1/report/latest: requests/s, p50 and p99 latency,
# and the ratio to plain HTTP. wrk keeps its connections open, so TLS
# handshakes are amortised (CONNECTIONS handshakes per run).
#
#   bench/agent_tls_load.sh [RESMETER_BINARY] [DURATION_SECONDS] [CONNECTIONS]
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
R=${1:-$SRC/build/resmeter}
DURATION=${2:-10}
CONNS=${3:-16}
command -v wrk > /dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 77; }
command -v openssl > /dev/null || { echo "openssl not installed"; exit 77; }
source "$SRC/tests/integration/lib/agent_harness.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/s.key" -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -days 2 -out "$T/s.crt" 2> /dev/null || { echo "openssl failed"; exit 1; }
HASH=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("bench", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10)))')
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$T/s.crt" "$T/s.key" > "$T/tls.yml"
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  bench: %s\nauth_paths: [/]\n' \
  "$T/s.crt" "$T/s.key" "'$HASH'" > "$T/auth.yml"
AUTH="Authorization: Basic $(printf 'bench:bench' | base64)"

COMMON=(--set agent.heavy_interval_seconds=0 --set agent.http_max_connections_per_client=$((CONNS + 4)))
declare -A URLS PIDS
for mode in plain tls auth; do
  case $mode in
    plain) start_agent "$T/$mode" "${COMMON[@]}" || exit 1; URLS[$mode]="http://127.0.0.1:$AGENT_PORT" ;;
    tls) start_agent "$T/$mode" "${COMMON[@]}" --set agent.web_config_file="$T/tls.yml" || exit 1
      URLS[$mode]="https://127.0.0.1:$AGENT_PORT" ;;
    auth) start_agent "$T/$mode" "${COMMON[@]}" --set agent.web_config_file="$T/auth.yml" || exit 1
      URLS[$mode]="https://127.0.0.1:$AGENT_PORT" ;;
  esac
  PIDS[$mode]=$AGENT_PID
  EXTRA_PIDS+=("$AGENT_PID")
done
AGENT_PID=""
for mode in plain tls auth; do
  wait_for 60 curl -sfk -u bench:bench "${URLS[$mode]}/v1/report/latest" -o /dev/null ||
    { echo "$mode: no report within 60 s"; exit 1; }
done

echo "conditions: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), wrk -t2 -c$CONNS -d${DURATION}s, loopback, 4 HTTP threads per agent, one agent measured at a time"
printf '%-19s %-9s %12s %10s %10s %12s %12s\n' path mode "req/s" p50 p99 "vs plain" errors
status=0
for path in /metrics /v1/report/latest; do
  base=""
  for mode in plain tls auth; do
    args=()
    [ $mode = auth ] && args=(-H "$AUTH")
    wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency "${args[@]}" "${URLS[$mode]}$path" > "$T/wrk.txt" 2>&1
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$T/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$T/wrk.txt")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$T/wrk.txt"); non2xx=${non2xx:-0}
    errs="non-2xx=$non2xx"
    grep -q 'Socket errors' "$T/wrk.txt" && { errs="$errs $(grep -o 'Socket errors:.*' "$T/wrk.txt")"; status=1; }
    [ "$non2xx" != 0 ] && status=1
    [ -z "$base" ] && base=$rps
    ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}')
    printf '%-19s %-9s %12s %10s %10s %12s   %s\n' "$path" "$([ $mode = auth ] && echo tls+auth || echo $mode)" "$rps" "$p50" "$p99" "$ratio" "$errs"
  done
done
exit $status
