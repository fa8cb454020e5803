# Helpers for the agent's shell integration tests (sourced).
# start_agent DIR [--set K=V ...]: starts `resmeter agent` on 127.0.0.1:0
# with state in DIR/state and logs in DIR/agent.log; sets AGENT_PID and
# AGENT_PORT (read from the "agent started" log line). stop_agent: SIGTERM,
# then SIGKILL after 20 s; AGENT_RC holds the exit status. kill_all is meant for the EXIT trap.
AGENT_PID=""
AGENT_PORT=""
EXTRA_PIDS=()

# Every script gets a scratch dir $T, removed (and its agents killed) on exit,
# and ok/bad lines counted in $fails.
T=$(mktemp -d)
trap 'kill_all 2>/dev/null; rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails+1)); }

start_agent() {
  local dir=$1; shift
  mkdir -p "$dir"
  "$R" --state-dir "$dir/state" --set agent.listen=127.0.0.1:0 "$@" agent 2>> "$dir/agent.log" &
  AGENT_PID=$!
  AGENT_PORT=""
  for _ in $(seq 1 200); do  # up to 20 s
    AGENT_PORT=$(sed -n 's/.*msg="agent started".* port=\([0-9]*\).*/\1/p' "$dir/agent.log" | tail -1)
    [ -n "$AGENT_PORT" ] && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || { echo "agent exited at start:"; cat "$dir/agent.log"; return 1; }
    sleep 0.1
  done
  echo "agent did not start within 20 s"; cat "$dir/agent.log"; return 1
}

stop_agent() {  # sets AGENT_RC to the exit status (call it without $(...))
  local pid=$AGENT_PID
  AGENT_RC=0
  [ -z "$pid" ] && return
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
  wait "$pid"; AGENT_RC=$?
  AGENT_PID=""
}

kill_all() {
  [ -n "$AGENT_PID" ] && kill -KILL "$AGENT_PID" 2>/dev/null
  for p in "${EXTRA_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
}

# wait_for SECONDS CMD...: retries CMD every 0.2 s until it succeeds.
wait_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

# A free TCP port on loopback (the kernel picks it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_prometheus PORT [RULE_FILE...]: a real Prometheus on 127.0.0.1:PORT
# scraping the agent at $AGENT_PORT every second (rules evaluated every
# second), with its data and log in $T; sets P to its base URL.
start_prometheus() {
  local port=$1; shift
  local rules="" f
  for f in "$@"; do rules+="${rules:+, }'$f'"; done
  {
    printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
    [ -z "$rules" ] || printf 'rule_files: [%s]\n' "$rules"
    printf 'scrape_configs:\n  - job_name: resmeter\n    static_configs:\n'
    printf "      - targets: ['127.0.0.1:%s']\n" "$AGENT_PORT"
  } > "$T/prometheus.yml"
  prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$port" > "$T/prometheus.log" 2>&1 &
  EXTRA_PIDS+=($!)
  P="http://127.0.0.1:$port"
}
