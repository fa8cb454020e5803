#!/usr/bin/env bash
# Quick start, step 1: install dependencies, build, and run the main job on
# this machine: probe every default meter with a fresh in-memory key, write
# the signed report to out/report.jws and that key's identity document to
# out/identity.json, and verify the report with it, bound to a fresh nonce.
# Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
mkdir -p out
STATE=${RESMETER_STATE_DIR:-$PWD/out/state}
R=build/resmeter
NONCE=$(openssl rand -hex 16)
echo "== resmeter probe (nonce $NONCE)"
$R --state-dir "$STATE" probe --nonce "$NONCE" -o out/report.jws --identity-out out/identity.json
echo
# Without a TEE the evidence is "none" (development mode), hence --allow-dev-evidence.
echo "== resmeter verify out/report.jws --identity out/identity.json --allow-dev-evidence --nonce $NONCE"
$R verify out/report.jws --identity out/identity.json --allow-dev-evidence --nonce "$NONCE"
