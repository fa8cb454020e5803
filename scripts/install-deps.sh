#!/usr/bin/env bash
# Installs exactly what resmeter's build, tests and benchmarks need, from
# Debian 12 packages. Idempotent: packages already present are skipped by apt.
# Run as root (or with sudo). Set RESMETER_DEPS_SKIP=1 to skip entirely.
set -euo pipefail
[ "${RESMETER_DEPS_SKIP:-0}" = 1 ] && exit 0

BUILD=(build-essential cmake ninja-build pkg-config ccache git
       libhwloc-dev libpfm4-dev prometheus-cpp-dev libssl-dev libyaml-cpp-dev
       libgtest-dev libgmock-dev libbenchmark-dev liburing-dev libtss2-dev
       libcli11-dev nlohmann-json3-dev)
FUZZ=(clang libclang-rt-14-dev)
TEST=(python3 python3-jwcrypto python3-jsonschema jose openssl curl jq systemd chrony swtpm swtpm-tools tpm2-tools
      prometheus iproute2 hwloc pci.ids util-linux procps)
BENCH=(fio iperf3 likwid mbw wrk bc linux-perf)
ALL=("${BUILD[@]}" "${FUZZ[@]}" "${TEST[@]}" "${BENCH[@]}")

missing=()
for p in "${ALL[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#ALL[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
