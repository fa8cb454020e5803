#!/usr/bin/env bash
# Quick start, step 2: install dependencies, build, and run the whole test
# suite with ctest: unit tests (in parallel), integration tests (one at a
# time, since some measure the machine), then the unit tests again under
# ASan+UBSan, then every libFuzzer target (clang) for RESMETER_FUZZ_SECONDS
# (default 20) each. Run as root on Debian 12; root-only tests skip otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
echo "== unit and integration tests (release build)"
(cd build && ctest --output-on-failure --timeout 600 -j "$(nproc)" -L unit)
(cd build && ctest --output-on-failure --timeout 900 -L integration)
echo "== unit tests under ASan+UBSan"
bash scripts/build.sh asan
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure --timeout 900 -j "$(nproc)" -L unit)
echo "== fuzz targets (libFuzzer, ASan+UBSan), ${RESMETER_FUZZ_SECONDS:-20} s each"
bash scripts/build.sh fuzz
(cd build-fuzz && ctest --output-on-failure -L fuzz)
