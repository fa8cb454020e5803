#!/usr/bin/env bash
# configs/resmeter.service under a real systemd: a Debian 12 tree booted with
# `systemd-nspawn --boot` (the tree read-only, writes to a tmpfs overlay),
# the shipped unit with the built binary and a test config bound in,
# `systemctl enable --now resmeter`; the unit must come up active, /metrics must answer on loopback (the container
# shares the host's network) with the meters the unit grants working
# (cpu.time, memory.capacity, the ledger under StateDirectory), no meter
# killed by the system call filter (SIGSYS), and `systemd-analyze security`
# inside the booted system rates it <= 2.5 (online, with its real settings).
#
# The tree (debootstrap minbase + systemd, chrony and the binary's shared
# libraries) is built once and cached in /var/cache/resmeter-test/
# (first run: about 2-4 minutes from the Debian mirror; later runs: boot and
# checks, about 15-25 s). Skips (exit 77) when not root, without
# systemd-nspawn (Debian systemd-container) or debootstrap, with
# RESMETER_SKIP_NSPAWN_TEST=1, or when this machine cannot boot a container.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R=$(readlink -f "$1")
SRC="$2"
CACHE=${RESMETER_PACKAGE_CACHE:-/var/cache/resmeter-test}
MIRROR=${RESMETER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
MAX_EXPOSURE=2.5
skip() { echo "SKIP: $*"; exit 77; }
[ "${RESMETER_SKIP_NSPAWN_TEST:-0}" = 1 ] && skip "RESMETER_SKIP_NSPAWN_TEST=1"
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, systemd-nspawn)"
command -v systemd-nspawn > /dev/null || skip "systemd-nspawn not installed (apt-get install systemd-container)"
command -v debootstrap > /dev/null || skip "debootstrap not installed (apt-get install debootstrap)"
start=$(date +%s)
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails+1)); }

# The shared libraries the binary needs, as Debian package names (host's dpkg).
libs=$(ldd "$R" | awk '/=> \// {print $3}' | while read -r so; do
  dpkg -S "$so" 2> /dev/null || dpkg -S "$(readlink -f "$so")" 2> /dev/null || dpkg -S "/usr$so" 2> /dev/null
done | cut -d: -f1 | sort -u | tr '\n' ',' | sed 's/,$//')
[ -n "$libs" ] || skip "cannot map the binary's libraries to Debian packages (not a Debian host?)"
# The cached tree is rebuilt when it lacks one of those packages (a new library).
TREE="$CACHE/nspawn-bookworm"
mkdir -p "$CACHE"
missing=""
for p in ${libs//,/ }; do
  [ -e "$TREE/var/lib/dpkg/info/$p.list" ] || [ -e "$TREE/var/lib/dpkg/info/$p:amd64.list" ] || missing="$missing $p"
done
if [ ! -x "$TREE/lib/systemd/systemd" ] || [ -n "$missing" ]; then
  [ -d "$TREE" ] && echo "# cached tree lacks$missing: rebuilding" && rm -rf "$TREE"
  echo "# first run: debootstrap bookworm with systemd and $libs into $TREE (cached)"
  rm -rf "$TREE.tmp"
  if ! debootstrap --variant=minbase --include="systemd,systemd-sysv,dbus,chrony,curl,$libs" bookworm "$TREE.tmp" \
      "$MIRROR" > "$CACHE/nspawn-debootstrap.log" 2>&1; then
    tail -n 15 "$CACHE/nspawn-debootstrap.log"; rm -rf "$TREE.tmp"
    skip "debootstrap failed (no mirror?), see $CACHE/nspawn-debootstrap.log"
  fi
  # A fixed machine id and no getty: the boot is for the unit only.
  systemd-machine-id-setup --root="$TREE.tmp" > /dev/null 2>&1
  rm -f "$TREE.tmp"/etc/systemd/system/getty.target.wants/* 2> /dev/null
  mv "$TREE.tmp" "$TREE"
  echo "# tree built in $(( $(date +%s) - start )) s"
fi

T=$(mktemp -d)
NSPAWN_PID=""
cleanup() {
  if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2> /dev/null; then
    kill -TERM "$NSPAWN_PID" 2> /dev/null  # nspawn turns this into an orderly poweroff
    for _ in $(seq 1 100); do kill -0 "$NSPAWN_PID" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$NSPAWN_PID" 2> /dev/null
  fi
  rm -rf "$T"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# The shipped unit, unchanged; a config listening on a free port, light
# cycles every 2 s, 2 s ledger periods, heavy meters at their secret times.
cp "$SRC/configs/resmeter.service" "$T/resmeter.service"
cat > "$T/resmeter.yaml" <<YML
agent:
  listen: 127.0.0.1:$PORT
  light_interval_seconds: 2
ledger:
  period_seconds: 2
YML
# --keep-unit --register=no: nspawn asks no host systemd or D-Bus for a scope
# (the host may not run systemd, e.g. a CI container). CAP_PERFMON is not in
# nspawn's default set: without it the unit's grant could not be checked.
systemd-nspawn --quiet --boot --keep-unit --console=passive --capability=CAP_PERFMON --directory="$TREE" --volatile=overlay --register=no --machine="resmeter-test-$$" \
  --bind-ro="$R:/usr/bin/resmeter" --bind-ro="$T/resmeter.service:/etc/systemd/system/resmeter.service" \
  --bind-ro="$T/resmeter.yaml:/etc/resmeter/resmeter.yaml" < /dev/null > "$T/console.log" 2>&1 &
NSPAWN_PID=$!

# The container's init (systemd, PID 1 inside): the child of nspawn running
# systemd (a short-lived helper child comes first). -r -w: its root, not the
# mount namespace's; they differ when this runs in a chroot (nspawn moves the
# tree onto the chroot's "/", below the namespace's root).
inside() { nsenter -t "$INIT_PID" -a -r -w "$@"; }
INIT_PID=""
for _ in $(seq 1 200); do
  for c in $(pgrep -P "$NSPAWN_PID"); do
    case "$(readlink "/proc/$c/exe" 2> /dev/null)" in */systemd) INIT_PID=$c ;; esac
  done
  [ -n "$INIT_PID" ] && break
  kill -0 "$NSPAWN_PID" 2> /dev/null || break
  sleep 0.1
done
if [ -z "$INIT_PID" ]; then
  tail -n 20 "$T/console.log"
  skip "systemd-nspawn --boot could not start a container on this machine (see above)"
fi
booted=""
for _ in $(seq 1 300); do  # up to 30 s
  state=$(inside systemctl is-system-running 2> /dev/null)
  case "$state" in running|degraded) booted=$state; break ;; esac
  kill -0 "$NSPAWN_PID" 2> /dev/null || break
  sleep 0.1
done
[ -n "$booted" ] && ok "container booted ($booted) in $(( $(date +%s) - start )) s" || {
  bad "container did not finish booting (state '$state')"; tail -n 30 "$T/console.log"; }

# Enabled and started as an administrator would (the package does not enable it).
inside systemctl enable --now resmeter.service > "$T/enable.log" 2>&1 || { bad "systemctl enable --now resmeter"; cat "$T/enable.log"; }
active=$(inside systemctl is-active resmeter 2> /dev/null)
[ "$active" = active ] && ok "resmeter.service active" || { bad "resmeter.service is '$active'"; inside journalctl -u resmeter --no-pager -n 30; }
got=""
for _ in $(seq 1 200); do  # the first light cycle: up to 20 s
  if curl -sf --max-time 2 "http://127.0.0.1:$PORT/metrics" > "$T/metrics.txt" &&
     grep -q '^resmeter_meter_success{meter="cpu.time"} 1' "$T/metrics.txt" &&
     grep -q '^resmeter_usage_statements_total [1-9]' "$T/metrics.txt"; then got=1; break; fi
  sleep 0.1
done
[ -n "$got" ] && ok "/metrics answers from the unit: cpu.time ok, usage statements appended" ||
  { bad "/metrics from the unit"; tail -n 5 "$T/metrics.txt"; inside journalctl -u resmeter --no-pager -n 30; }
grep -q '^resmeter_meter_success{meter="memory.capacity"} 1' "$T/metrics.txt" && ok "memory.capacity ok" || bad "memory.capacity not ok"
grep -q '^resmeter_cpu_seconds_total{cpu="0",mode="user"}' "$T/metrics.txt" && ok "/proc/stat readable under ProtectProc" || bad "no per-CPU seconds"
# The agent runs as the dynamic user with exactly the unit's capabilities.
pid=$(inside systemctl show -p MainPID --value resmeter)
caps=$(inside grep '^CapEff' "/proc/$pid/status" | awk '{print $2}')
uid=$(inside stat -c %u "/proc/$pid")
# DynamicUser= picks from 61184..65519.
[ -n "$uid" ] && [ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ] && ok "runs as a dynamic user (uid $uid)" ||
  bad "runs as uid '$uid', not a dynamic user"
# CAP_PERFMON is bit 38, CAP_SYS_NICE bit 23: exactly those two.
[ "$caps" = "0000004000800000" ] && ok "effective capabilities exactly CAP_PERFMON CAP_SYS_NICE" || bad "effective capabilities $caps"
# The filter the booted systemd compiled allows the meters' calls beyond @system-service.
filter=$(inside systemctl show -p SystemCallFilter --value resmeter)
missing_calls=""
for call in perf_event_open io_uring_setup io_uring_enter sched_setaffinity setpriority; do
  echo " $filter " | grep -q " $call " || missing_calls="$missing_calls $call"
done
[ -z "$missing_calls" ] && ok "system call filter allows perf_event_open, io_uring, affinity and nice" ||
  bad "system call filter lacks$missing_calls"
# No system call refused by the filter killed anything; meters fell back at most.
inside journalctl --no-pager -o cat | grep -qi 'SIGSYS\|code=killed.*SYS' && bad "a process was killed by SIGSYS" || ok "no SIGSYS"
inside ls /var/lib/private/resmeter/ledger > /dev/null 2>&1 && ok "ledger in StateDirectory" || bad "no ledger under /var/lib/private/resmeter"
# Exposure, online: the unit as the booted systemd loaded it.
exposure=$(inside systemd-analyze security --no-pager resmeter.service 2> /dev/null |
  sed -n 's/.*Overall exposure level for resmeter.service: \([0-9.]*\).*/\1/p')
if [ -n "$exposure" ] && awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
  ok "systemd-analyze security (online): exposure $exposure <= $MAX_EXPOSURE"
else bad "exposure '$exposure' > $MAX_EXPOSURE"; fi
# Stop: SIGTERM, a clean exit and a shutdown checkpoint.
inside systemctl stop resmeter
result=$(inside systemctl show -p Result --value resmeter)
[ "$result" = success ] && ok "systemctl stop: clean exit" || bad "stop result '$result'"
echo "     wall time $(( $(date +%s) - start )) s"
echo "$fails failure(s)"
[ "$fails" = 0 ]
