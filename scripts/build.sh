#!/usr/bin/env bash
# Configures and builds one flavour of resmeter (Ninja when present).
#   scripts/build.sh [release|check|bench|binary]   (default release)
# release -> build/:       gcc, the binary, unit and integration tests.
# check   -> build-check/: clang, ASan+UBSan and libFuzzer coverage in one tree:
#                          the unit tests and every fuzz target (no integration tests).
#                          `asan` and `fuzz` are accepted as older names for it.
# bench   -> build/:       release plus the programs in bench/ (not part of the test command).
# binary  -> build/:       release, only the `resmeter` binary (what the quick start needs).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=$(nproc)
gen=()
command -v ninja > /dev/null && gen=(-G Ninja)
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
targets=()
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release -DRESMETER_BUILD_BENCH=OFF) ;;
  binary) dir=build; args=(-DCMAKE_BUILD_TYPE=Release -DRESMETER_BUILD_BENCH=OFF); targets=(--target resmeter) ;;
  bench) dir=build; args=(-DCMAKE_BUILD_TYPE=Release -DRESMETER_BUILD_BENCH=ON) ;;
  check|asan|fuzz)
    dir=build-check
    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESMETER_SANITIZE=ON -DRESMETER_FUZZ=ON -DRESMETER_BUILD_TESTS=ON
          -DRESMETER_BUILD_INTEGRATION=OFF -DRESMETER_BUILD_BENCH=OFF
          -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: scripts/build.sh [release|check|bench|binary]" >&2; exit 2 ;;
esac
# A tree configured with another generator cannot be reused: start it afresh.
if [ -f "$dir/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${gen[1]:-Unix Makefiles}\$" "$dir/CMakeCache.txt"; then
  rm -rf "$dir"
fi
cmake -S . -B "$dir" "${gen[@]}" "${args[@]}" "${launcher[@]}" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j "$jobs" "${targets[@]}"
