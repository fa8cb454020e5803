#!/usr/bin/env bash
# Long fuzzing by hand: builds the check tree and runs every fuzz target (or
# the ones named) for SECONDS each (default 300), one after another.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
bash scripts/build.sh check
filter=fuzz\\.
[ $# -gt 0 ] && filter="fuzz\\.($(IFS='|'; echo "$*"))\$"
cd build-check && RESMETER_FUZZ_SECONDS=$seconds ctest --output-on-failure -L fuzz -R "$filter"
