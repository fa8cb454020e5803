#!/usr/bin/env bash
# Configures and builds one flavour of resmeter.
#   scripts/build.sh [release|asan|fuzz]   (default release)
# release -> build/, asan -> build-asan/ (ASan+UBSan, tests only),
# fuzz -> build-fuzz/ (clang, libFuzzer targets only; no unit tests, no benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=$(nproc)
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESMETER_SANITIZE=ON -DRESMETER_BUILD_BENCH=OFF) ;;
  fuzz) dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESMETER_FUZZ=ON -DRESMETER_BUILD_BENCH=OFF -DRESMETER_BUILD_TESTS=OFF
                              -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: scripts/build.sh [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${args[@]}" "${launcher[@]}" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j "$jobs"
