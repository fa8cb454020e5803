#!/usr/bin/env bash
# configs/resmeter.service passes `systemd-analyze verify` (with ExecStart
# pointed at the built binary) and keeps its sandboxing options.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
command -v systemd-analyze > /dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sed "s|/usr/bin/resmeter|$R|" "$SRC/configs/resmeter.service" > "$T/resmeter.service"
if ! systemd-analyze verify "$T/resmeter.service" > "$T/out" 2>&1; then echo "FAIL systemd-analyze verify:"; cat "$T/out"; exit 1; fi
if grep -v "not executable\|Failed to prepare filename\|/work/" "$T/out" | grep -qi "resmeter.service"; then
  echo "FAIL warnings:"; cat "$T/out"; exit 1
fi
for opt in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes StateDirectory=resmeter \
           ExecReload= KillSignal=SIGTERM SystemCallFilter=@system-service RestrictAddressFamilies=; do
  grep -q "^$opt" "$SRC/configs/resmeter.service" || { echo "FAIL missing $opt"; exit 1; }
done
echo "ok   systemd unit verifies and is sandboxed"
