#!/usr/bin/env bash
# Quick start, step 2: install dependencies, build, and run the whole test
# suite, printing each stage's wall time at the end:
#   0. clang-format (scripts/check_format.sh); the include direction between
#      libraries (scripts/check_layering.py) runs with the unit tests;
#   1. release tree (gcc): unit tests in parallel, end-to-end tests (label
#      e2e) in parallel, then the tests that measure the machine (label
#      measure) one at a time;
#   2. check tree (clang, ASan+UBSan, libFuzzer coverage; one build for both):
#      the unit tests again under the sanitizers, then every fuzz target,
#      which replays its seed corpus and fuzzes RESMETER_FUZZ_SECONDS
#      (default 5) more; long fuzzing is scripts/fuzz.sh.
# Run as root on Debian 12; root-only tests skip with a reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=()
t_all=$(date +%s)
# stage NAME COMMAND...: runs the command, records its wall time, stops on failure.
stage() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "== $name"
  local rc=0
  "$@" || rc=$?
  stages+=("$(printf '%-34s %5d s%s' "$name" $(( $(date +%s) - t0 )) "$([ $rc -eq 0 ] || echo "  FAILED (exit $rc)")")")
  if [ $rc -ne 0 ]; then summary; exit $rc; fi
}
summary() {
  echo
  echo "== stage times"
  printf '%s\n' "${stages[@]}"
  printf '%-34s %5d s\n' "total" $(( $(date +%s) - t_all ))
}
jobs=$(nproc)
stage "install dependencies" bash scripts/install-deps.sh
stage "format (clang-format)" bash scripts/check_format.sh
stage "build release tree" bash scripts/build.sh release
stage "unit tests (release)" bash -c "cd build && ctest --output-on-failure --timeout 600 -j $jobs -L unit"
# e2e tests mostly wait on daemons and sockets: twice the cores keeps both busy.
stage "e2e tests (release, parallel)" bash -c "cd build && ctest --output-on-failure --timeout 900 -j $((2 * jobs)) -L e2e"
stage "measure tests (release, serial)" bash -c "cd build && ctest --output-on-failure --timeout 900 -L measure"
stage "build check tree (ASan+UBSan, fuzz)" bash scripts/build.sh check
stage "unit tests (ASan+UBSan)" bash -c "cd build-check && ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure --timeout 900 -j $jobs -L unit"
stage "fuzz targets (replay + ${RESMETER_FUZZ_SECONDS:-5} s each)" bash -c "cd build-check && \
  RESMETER_FUZZ_SECONDS=${RESMETER_FUZZ_SECONDS:-5} ctest --output-on-failure -j $jobs -L fuzz"
summary
