#!/usr/bin/env bash
# The monitoring stack end to end, against a real agent scraped by a real
# Prometheus (Debian `prometheus`) on loopback, 1 s periods everywhere:
#  - /metrics: `promtool check metrics` clean in the text format; OpenMetrics
#    when asked (content type, `# EOF`, counter families without _total);
#    gzip when asked; Prometheus ingests it (it asks for OpenMetrics first).
#  - configs/monitoring/: the rule files load into Prometheus and evaluate
#    without errors; every recording rule and every dashboard query runs
#    without error, and returns data wherever the series it reads exist.
#  - the bill reproduced from Prometheus: increase() of the usage counters
#    over a window equals `ledger audit --from --to` for that window within
#    one period's worth, and the counters read just before the stop equal
#    the audit of the same statements (to rounding).
# About 80 s (60 s of 1 s scrapes and ledger periods).
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
command -v prometheus > /dev/null || { echo "SKIP: prometheus not installed (apt-get install prometheus)"; exit 77; }
command -v promtool > /dev/null || { echo "SKIP: promtool not installed"; exit 77; }
command -v jq > /dev/null || { echo "SKIP: jq not installed"; exit 77; }
source "$SRC/tests/integration/lib/agent_harness.sh"
M="$SRC/configs/monitoring"
RUN_SECONDS=${RESMETER_MONITORING_SECONDS:-60}
t0=$SECONDS

# A quiet agent: light meters every second, a 1 s ledger period, one small
# heavy meter (disk.io, for the disk latency panel) soon after start.
OFF=()
for m in cpu.frequency cpu.throttling cpu.availability cache.hierarchy memory.bandwidth memory.latency \
         net.throughput net.latency gpu.compute; do OFF+=(--set "meters.$m.enabled=false"); done
mkdir -p "$T/scratch"
start_agent "$T/a" --set agent.light_interval_seconds=1 --set ledger.period_seconds=1 \
  --set agent.heavy_interval_seconds=20 "${OFF[@]}" \
  --set meters.disk.io.directory="$T/scratch" --set meters.disk.io.direct=false \
  --set meters.disk.io.file_size_bytes=4194304 --set meters.disk.io.free_space_margin_bytes=0 \
  --set 'meters.disk.io.workloads=[rand_read]' --set meters.disk.io.deep_queue_depth=1 \
  --set meters.disk.io.warmup_seconds=0 --set meters.disk.io.duration_seconds=0.2 || exit 1
URL="http://127.0.0.1:$AGENT_PORT"
curl -sf "$URL/v1/identity" -o "$T/identity.json" || bad "GET /v1/identity"

# Prometheus: 1 s scrapes and rule evaluation (the groups' own intervals removed).
PP=$(free_port)
sed '/^    interval:/d' "$M/resmeter-recording.yml" > "$T/recording.yml"
cp "$M/resmeter-alerts.yml" "$T/alerts.yml"
start_prometheus "$PP" "$T/recording.yml" "$T/alerts.yml"
query() {  # query PROMQL [TIME] -> the raw JSON answer
  curl -sf --max-time 5 "$P/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"}
}
value() {  # value PROMQL [TIME] -> the first sample's value, or empty
  query "$@" | jq -r 'if .status == "success" and (.data.result | length) > 0 then .data.result[0].value[1] else empty end'
}
value_range() {  # value_range PROMQL_RANGE [TIME] -> "unix_time value" per sample
  query "$@" | jq -r '.data.result[0].values[]? | "\(.[0]) \(.[1])"'
}
have() { [ -n "$(value "$1")" ]; }
if wait_for 60 have 'resmeter_usage_vcpu_seconds_total'; then ok "Prometheus scrapes the usage counters"; else
  bad "no resmeter_usage_vcpu_seconds_total in Prometheus within 60 s"; tail -20 "$T/prometheus.log"; tail -20 "$T/a/agent.log"; exit 1; fi
# Prometheus asked for OpenMetrics and parsed it: its metadata has the info
# family resmeter_build and the counter family without _total.
curl -sf "$P/api/v1/metadata" > "$T/metadata.json"
jq -e '.data.resmeter_build[0].type == "info" and .data.resmeter_usage_vcpu_seconds[0].type == "counter"' \
  "$T/metadata.json" > /dev/null && ok "Prometheus scraped OpenMetrics (info and counter families in its metadata)" ||
  bad "Prometheus did not ingest OpenMetrics families: $(jq -c '.data.resmeter_build, .data.resmeter_build_info' "$T/metadata.json")"

# Exposition, while data accumulates.
curl -sf "$URL/metrics" > "$T/metrics.txt" || bad "GET /metrics"
if promtool check metrics < "$T/metrics.txt" > "$T/lint.txt" 2>&1; then ok "promtool check metrics clean"; else bad "promtool check metrics:"; cat "$T/lint.txt"; fi
for name in resmeter_usage_vcpu_seconds_total resmeter_usage_memory_gib_seconds_total resmeter_usage_gpu_seconds_total \
            resmeter_usage_untrusted_time_seconds_total resmeter_cpu_seconds_total resmeter_meter_last_success_timestamp_seconds \
            process_cpu_seconds_total process_resident_memory_bytes process_start_time_seconds process_open_fds; do
  grep -q "^# HELP $name .\{20,\}" "$T/metrics.txt" || bad "$name missing or without a HELP that says what it means"
done
ok "usage, per-CPU, freshness and process_* series with HELP"
# HELP is what the number means: no family without one.
awk '/^# TYPE /{t[$3]=1} /^# HELP /{h[$3]=1} END{for (n in t) if (!h[n]) {print n; bad=1} exit bad}' "$T/metrics.txt" > "$T/nohelp.txt" ||
  bad "families without HELP: $(tr '\n' ' ' < "$T/nohelp.txt")"
OM='application/openmetrics-text; version=1.0.0; charset=utf-8'
curl -sf -D "$T/om.headers" -H "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5" \
  "$URL/metrics" > "$T/metrics.om" || bad "GET /metrics as OpenMetrics"
grep -qi "^content-type: $OM" "$T/om.headers" && [ "$(tail -n 1 "$T/metrics.om")" = "# EOF" ] &&
  grep -q '^# TYPE resmeter_usage_vcpu_seconds counter$' "$T/metrics.om" &&
  grep -q '^resmeter_usage_vcpu_seconds_total ' "$T/metrics.om" &&
  grep -q '^# TYPE resmeter_build info$' "$T/metrics.om" && ok "OpenMetrics by Accept (type, # EOF, counter and info families)" ||
  { bad "OpenMetrics answer"; cat "$T/om.headers"; tail -3 "$T/metrics.om"; }
curl -sf -D "$T/gz.headers" -H 'Accept-Encoding: gzip' "$URL/metrics" > "$T/metrics.gz" || bad "GET /metrics gzip"
grep -qi '^content-encoding: gzip' "$T/gz.headers" && gzip -dc "$T/metrics.gz" | grep -q '^# TYPE resmeter_usage_vcpu_seconds_total counter' &&
  grep -qi '^vary: Accept, Accept-Encoding' "$T/gz.headers" && ok "gzip by Accept-Encoding ($(stat -c %s "$T/metrics.gz") of $(stat -c %s "$T/metrics.txt") bytes)" ||
  { bad "gzip answer"; cat "$T/gz.headers"; }
curl -sf -D "$T/plain.headers" "$URL/metrics" -o /dev/null
grep -qi '^content-encoding' "$T/plain.headers" && bad "gzip without Accept-Encoding"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/plain.headers" || bad "no Accept: not the text format"

# Let the counters, rules and heavy meter run.
left=$(( RUN_SECONDS - (SECONDS - t0) ))
[ "$left" -gt 0 ] && sleep "$left"
have "resmeter_meter_success{meter=\"disk.io\"} == 1" && ok "disk.io ran (for the disk panels)" || echo "note: disk.io has not run yet; its panels are checked for errors only"

# Rules: loaded, evaluated, no errors.
curl -sf "$P/api/v1/rules" > "$T/rules.json" || bad "GET /api/v1/rules"
nrules=$(jq '[.data.groups[].rules[]] | length' "$T/rules.json")
nbad=$(jq '[.data.groups[].rules[] | select(.health != "ok")] | length' "$T/rules.json")
[ "$nrules" -ge 20 ] && [ "$nbad" = 0 ] && ok "$nrules rules loaded and evaluated without errors" ||
  { bad "rules: $nrules loaded, $nbad unhealthy"; jq -c '.data.groups[].rules[] | select(.health != "ok") | {name, lastError}' "$T/rules.json"; }

# Every dashboard query and recording rule: no error; data where the series it reads exist.
python3 - "$M/resmeter-dashboard.json" "$T/rules.json" "$P" > "$T/queries.txt" 2>&1 <<'PY'
import json, re, sys, urllib.parse, urllib.request, time
dash, rules, base = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
def q(path, **params):
    with urllib.request.urlopen(base + path + "?" + urllib.parse.urlencode(params), timeout=10) as r:
        return json.load(r)
def names(expr):  # metric names an expression reads (functions and keywords are not followed by { or [)
    found = set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[)", expr))
    found |= set(re.findall(r"\b((?:resmeter_|process_|instance:|job:)[a-zA-Z0-9_:]*)", expr))
    return {n for n in found if n not in ("by", "without", "on", "ignoring", "group_left", "group_right", "rate", "increase", "time", "vector", "sum", "count")}
exists = {}
def has_series(n):
    if n not in exists:
        exists[n] = bool(q("/api/v1/query", query=f'count({{__name__="{n}"}})')["data"]["result"])
    return exists[n]
fails = 0; checked = 0; with_data = 0
now = time.time()
exprs = []
for p in dash["panels"]:
    for t in p.get("targets", []):
        e = t["expr"].replace("$job", ".*").replace("$instance", ".*")
        exprs.append((f"panel '{p['title']}' {t['refId']}", e, not t.get("instant")))
for g in rules["data"]["groups"]:
    for r in g["rules"]:
        if r["type"] == "recording":
            exprs.append((f"recording rule {r['name']}", r["name"], False))
for label, e, ranged in exprs:
    checked += 1
    try:
        res = q("/api/v1/query", query=e, time=now)
        if ranged:
            q("/api/v1/query_range", query=e, start=now - 60, end=now, step=5)
    except Exception as ex:
        print(f"FAIL {label}: {e}: {ex}"); fails += 1; continue
    if res.get("status") != "success":
        print(f"FAIL {label}: {e}: {res}"); fails += 1; continue
    needed = [n for n in names(e) if n != "up"]
    if all(has_series(n) for n in needed):
        if not res["data"]["result"]:
            print(f"FAIL {label}: no data although {needed} exist: {e}"); fails += 1
        else:
            with_data += 1
    else:
        print(f"note {label}: empty allowed, no series for {[n for n in needed if not has_series(n)]}")
print(f"{checked} queries evaluated, {with_data} with data, {fails} failed")
sys.exit(1 if fails else 0)
PY
qrc=$?
grep -v '^note' "$T/queries.txt" | tail -1 | grep -q . && summary=$(tail -1 "$T/queries.txt")
if [ $qrc = 0 ]; then ok "dashboard and recording rules: $summary"; grep '^note' "$T/queries.txt"; else bad "dashboard queries:"; cat "$T/queries.txt"; fi

# The bill from Prometheus: increase() over a window in the past against the audit of that window.
W=30
t_end=$(( $(date +%s) - 5 ))
t_start=$(( t_end - W ))
for s in vcpu_seconds memory_gib_seconds gpu_seconds untrusted_time_seconds metered_seconds; do
  printf '%s=%s\n' "$s" "$(value "increase(resmeter_usage_${s}_total[${W}s])" "$t_end")"
done > "$T/increase.txt"
# The counters as the agent reports them just before the stop, and the statements they count.
curl -sf "$URL/metrics" > "$T/final.txt" || bad "GET /metrics before stop"
stop_agent
[ "$AGENT_RC" = 0 ] && ok "SIGTERM exit 0" || bad "SIGTERM exit $AGENT_RC"
audit() {  # audit OUT [--from T --to T]
  local out=$1; shift
  "$R" ledger audit "$T/a/state/ledger" --identity "$T/identity.json" --allow-dev-evidence --json "$@" > "$out" 2> "$out.err"
  jq -e '.verdict == "ACCEPTED"' "$out" > /dev/null || { bad "ledger audit $* not ACCEPTED"; jq -c '.reasons' "$out"; cat "$out.err"; }
}
audit "$T/window.json" --from "$t_start" --to "$t_end"
VCPUS=$(grep -c '^cpu[0-9]' /proc/stat)
MEM_GIB=$(awk '/^MemTotal:/ {printf "%.6f", $2 / 1048576}' /proc/meminfo)
# Tolerance: two 1 s periods' worth of each quantity. increase() extrapolates
# from the first and last scrape inside the window by up to half a scrape
# interval at each edge (one period in all), and a statement counts when it is
# appended, at its period's end or later when the machine is loaded (one more
# period), while the audit prorates the periods at the edges exactly.
check_window() {  # NAME AUDIT_FIELD PER_SECOND
  local inc audit_s
  inc=$(sed -n "s/^$1=//p" "$T/increase.txt")
  audit_s=$(jq -r ".bill.$2 * 3600" "$T/window.json")
  if [ -z "$inc" ]; then bad "increase(resmeter_usage_$1_total[${W}s]) returned nothing"; return; fi
  if awk -v a="$inc" -v b="$audit_s" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 2 * p) }'; then
    ok "increase($1, ${W}s) = $inc vs ledger audit $audit_s (tolerance two periods: 2 x $3)"
  else
    bad "increase($1, ${W}s) = $inc but ledger audit bills $audit_s for the window (tolerance 2 x $3)"
    echo "     scrapes of resmeter_usage_$1_total in the window:"
    value_range "resmeter_usage_$1_total[${W}s]" "$t_end" | sed 's/^/       /'
  fi
}
check_window vcpu_seconds delivered_vcpu_hours "$VCPUS"
check_window memory_gib_seconds memory_gib_hours "$MEM_GIB"
check_window gpu_seconds gpu_hours 1
check_window untrusted_time_seconds untrusted_time_hours 1
check_window metered_seconds covered_hours 1

# Exact: the counters read before the stop equal the audit of the statements they count.
S=$(sed -n 's/^resmeter_usage_statements_total \(.*\)/\1/p' "$T/final.txt")
END=$(cat "$T"/a/state/ledger/ledger-*.jsonl | jq -s -r --argjson s "${S:-0}" '[.[] | select(.kind == "usage")][$s - 1].end_unix_seconds // empty')
if [ -z "$S" ] || [ -z "$END" ]; then bad "no statement count ($S) or its end ($END)"; else
  audit "$T/upto.json" --to "$END"
  exact() {  # COUNTER AUDIT_FIELD
    local c a
    c=$(sed -n "s/^resmeter_usage_$1_total \(.*\)/\1/p" "$T/final.txt")
    a=$(jq -r ".bill.$2 * 3600" "$T/upto.json")
    awk -v c="$c" -v a="$a" 'BEGIN { d = c - a; if (d < 0) d = -d; exit !(d <= 1e-6 * (1 + (a < 0 ? -a : a))) }' ||
      { bad "resmeter_usage_$1_total $c != ledger audit $a for the same $S statements"; return 1; }
  }
  n=0
  exact vcpu_seconds delivered_vcpu_hours && exact memory_gib_seconds memory_gib_hours && exact gpu_seconds gpu_hours &&
    exact untrusted_time_seconds untrusted_time_hours && exact metered_seconds covered_hours &&
    exact vcpu_stolen_seconds stolen_vcpu_hours && exact vcpu_measured_loss_seconds measured_loss_vcpu_hours &&
    ok "counters before the stop = ledger audit --to the end of statement $S (all usage quantities)"
  [ "$(jq -r '.bill.statements' "$T/upto.json")" = "$S" ] || bad "audit counted $(jq -r '.bill.statements' "$T/upto.json") statements, the counter $S"
fi
echo "     wall time $((SECONDS - t0)) s"
echo "$fails failure(s)"
[ "$fails" = 0 ]
