#!/usr/bin/env bash
# Quick start, step 1: install dependencies, build, and run the main job on
# this machine: probe every default meter with a fresh in-memory key, write
# the signed report to out/report.jws and that key's identity document to
# out/identity.json, and verify the report with it, bound to a fresh nonce.
# Run as root on Debian 12.
#
# Installs only the build and run dependencies (scripts/install-deps.sh build
# run) and builds only the binary (scripts/build.sh binary); the test suite
# is scripts/test.sh. RESMETER_QUICKSTART_QUIET=1 skips the banner's pause.
set -euo pipefail
cd "$(dirname "$0")/.."
cat <<'BANNER'
== resmeter quick start
   Takes: installing packages (first run only, from the Debian mirror),
   building the binary (first build: minutes; ccache makes rebuilds fast),
   then one probe of every default meter: the default config's windows add
   up to about 1 to 2 minutes, most of it disk.io (about 25 s plus filling
   its file) and cpu.throttling (10 s).
   Loads: a 256 MiB scratch file in /var/tmp (meters.disk.io.file_size_bytes,
   removed afterwards), every core at 100% during the CPU meters
   (cpu.frequency, cpu.throttling, cpu.availability) and memory bandwidth,
   and buffers of up to 512 MiB for the memory meters.
BANNER
[ "${RESMETER_QUICKSTART_QUIET:-0}" = 1 ] || sleep 3
t0=$SECONDS
bash scripts/install-deps.sh build run
t_install=$((SECONDS - t0)); t0=$SECONDS
bash scripts/build.sh binary
t_build=$((SECONDS - t0)); t0=$SECONDS
mkdir -p out
STATE=${RESMETER_STATE_DIR:-$PWD/out/state}
R=build/resmeter
NONCE=$(openssl rand -hex 16)
echo "== resmeter probe (nonce $NONCE)"
$R --state-dir "$STATE" probe --nonce "$NONCE" -o out/report.jws --identity-out out/identity.json
echo
# Without a TEE the evidence is "none" (development mode), hence --allow-dev-evidence.
echo "== resmeter verify out/report.jws --identity out/identity.json --allow-dev-evidence --nonce $NONCE"
rc=0
$R verify out/report.jws --identity out/identity.json --allow-dev-evidence --nonce "$NONCE" || rc=$?
echo
echo "== quick start times: install ${t_install} s, build ${t_build} s, probe + verify $((SECONDS - t0)) s"
exit $rc
