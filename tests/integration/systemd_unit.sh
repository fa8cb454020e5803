#!/usr/bin/env bash
# configs/resmeter.service passes `systemd-analyze verify` (with ExecStart
# pointed at the built binary), keeps its sandboxing options, and
# `systemd-analyze security --offline=true` rates its exposure at most 2.5.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
MAX_EXPOSURE=2.5
command -v systemd-analyze > /dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# man:resmeter(1) resolves only once the package is installed: verify without it,
# and check the page it names is in the tree.
sed "s|/usr/bin/resmeter|$R|; s|man:resmeter(1) ||" "$SRC/configs/resmeter.service" > "$T/resmeter.service"
[ -f "$SRC/packaging/man/resmeter.1" ] || { echo "FAIL Documentation names man:resmeter(1) but packaging/man/resmeter.1 is missing"; exit 1; }
if ! systemd-analyze verify "$T/resmeter.service" > "$T/out" 2>&1; then echo "FAIL systemd-analyze verify:"; cat "$T/out"; exit 1; fi
if grep -v "not executable\|Failed to prepare filename\|/work/" "$T/out" | grep -qi "resmeter.service"; then
  echo "FAIL warnings:"; cat "$T/out"; exit 1
fi
for opt in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes StateDirectory=resmeter \
           DynamicUser=yes ExecReload= KillSignal=SIGTERM SystemCallFilter=@system-service RestrictAddressFamilies= \
           CapabilityBoundingSet= SystemCallErrorNumber=EPERM; do
  grep -q "^$opt" "$SRC/configs/resmeter.service" || { echo "FAIL missing $opt"; exit 1; }
done
# The meters' system calls beyond @system-service stay allowed.
for call in perf_event_open io_uring_setup io_uring_enter; do
  grep -q "^SystemCallFilter=@system-service.* $call" "$SRC/configs/resmeter.service" || {
    echo "FAIL SystemCallFilter does not allow $call"; exit 1; }
done

# ... and no group of the deny line takes one back (a later ~ line removes
# what an earlier one allowed: @debug holds perf_event_open).
deny=$(sed -n 's/^SystemCallFilter=~//p' "$SRC/configs/resmeter.service")
for group in $deny; do
  for call in perf_event_open io_uring_setup io_uring_enter sched_setaffinity setpriority; do
    if systemd-analyze syscall-filter "$group" 2> /dev/null | grep -qx "    $call"; then
      echo "FAIL SystemCallFilter=~$group denies $call, which a meter needs"; exit 1
    fi
  done
done

# Exposure: systemd 250+ rates a unit file offline. Older systemd cannot.
if ! systemd-analyze security --help 2>&1 | grep -q -- "--offline"; then
  echo "ok   systemd unit verifies and is sandboxed (SKIP exposure: systemd-analyze security has no --offline)"
  exit 0
fi
(cd "$T" && systemd-analyze security --offline=true --no-pager "$T/resmeter.service") > "$T/security" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for resmeter.service: \([0-9.]*\).*/\1/p' "$T/security")
if [ -z "$exposure" ]; then echo "FAIL no exposure level in:"; cat "$T/security"; exit 1; fi
if ! awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
  echo "FAIL exposure $exposure > $MAX_EXPOSURE:"; grep "✗" "$T/security"; exit 1
fi
echo "ok   systemd unit verifies, is sandboxed, exposure $exposure <= $MAX_EXPOSURE"
