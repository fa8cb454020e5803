#!/usr/bin/env bash
# Quick start, step 1: install dependencies, build, and run the main job on
# this machine: create a signing key (once), probe every default meter, write
# the signed report to out/report.jws, and verify it with the public key,
# bound to a fresh nonce. Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
mkdir -p out
STATE=${RESMETER_STATE_DIR:-$PWD/out/state}
R=build/resmeter
[ -f "$STATE/signing_key.pem" ] || $R --state-dir "$STATE" key init > /dev/null
$R --state-dir "$STATE" key show > out/agent.jwk
NONCE=$(openssl rand -hex 16)
echo "== resmeter probe (nonce $NONCE)"
$R --state-dir "$STATE" probe --nonce "$NONCE" -o out/report.jws
echo
echo "== resmeter verify out/report.jws --key out/agent.jwk --nonce $NONCE"
$R verify out/report.jws --key out/agent.jwk --nonce "$NONCE"
