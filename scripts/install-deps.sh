#!/usr/bin/env bash
# Installs what resmeter needs, from Debian 12 packages, by group:
#   scripts/install-deps.sh [GROUP...]      (default: all)
#   build  compiler, CMake and the libraries' -dev packages (the binary)
#   run    what the binary uses at run time beyond its libraries: chrony
#          (trusted time), pci.ids (GPU names), openssl (the quick start's nonce)
#   test   tools the integration tests drive (swtpm, prometheus, jose, lintian, debootstrap, ...)
#   fuzz   clang and libFuzzer (scripts/build.sh check)
#   bench  the reference tools of bench/ (fio, iperf3, ...)
#   all    every group (scripts/test.sh uses this)
# Idempotent: packages already present are skipped. Run as root (or with sudo).
# RESMETER_DEPS_SKIP=1 skips entirely. Installing starts no daemon except
# chronyd: a temporary policy-rc.d denies the others (prometheus, ...), and
# services newly installed that way are left disabled.
set -euo pipefail
[ "${RESMETER_DEPS_SKIP:-0}" = 1 ] && exit 0

BUILD=(build-essential cmake ninja-build pkg-config ccache git
       libhwloc-dev libpfm4-dev prometheus-cpp-dev libssl-dev libyaml-cpp-dev
       libgtest-dev libgmock-dev libbenchmark-dev liburing-dev libtss2-dev
       libcli11-dev nlohmann-json3-dev)
RUN=(chrony pci.ids openssl)
FUZZ=(clang libclang-rt-14-dev)
TEST=(python3 clang-format python3-jwcrypto python3-jsonschema jose openssl curl jq systemd chrony swtpm swtpm-tools tpm2-tools
      prometheus iproute2 hwloc pci.ids util-linux procps lintian debootstrap bash-completion)
BENCH=(fio iperf3 likwid mbw wrk bc linux-perf)
# Services whose packages start them on install; only chrony is wanted running.
QUIET_SERVICES=(prometheus)

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(all)
WANT=()
for g in "${groups[@]}"; do
  case "$g" in
    build) WANT+=("${BUILD[@]}") ;;
    run) WANT+=("${RUN[@]}") ;;
    test) WANT+=("${TEST[@]}") ;;
    fuzz) WANT+=("${FUZZ[@]}") ;;
    bench) WANT+=("${BENCH[@]}") ;;
    all) WANT+=("${BUILD[@]}" "${RUN[@]}" "${FUZZ[@]}" "${TEST[@]}" "${BENCH[@]}") ;;
    *) echo "usage: scripts/install-deps.sh [build|run|test|fuzz|bench|all]..." >&2; exit 2 ;;
  esac
done
# Each package once, in order.
mapfile -t WANT < <(printf '%s\n' "${WANT[@]}" | awk '!seen[$0]++')

missing=()
for p in "${WANT[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps (${groups[*]}): all ${#WANT[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps (${groups[*]}): installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# Deny service starts during the install, except chrony's, unless the system
# already has a policy (containers often do: it is kept as it is).
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$POLICY" ]; then
  $SUDO sh -c "printf '#!/bin/sh\n# written by resmeter scripts/install-deps.sh while it installs; removed after\ncase \"\$1\" in chrony|chronyd) exit 0 ;; esac\nexit 101\n' > $POLICY && chmod 0755 $POLICY"
  own_policy=1
  trap '$SUDO rm -f "$POLICY"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ -d /run/systemd/system ]; then
  for s in "${QUIET_SERVICES[@]}"; do
    if printf '%s\n' "${missing[@]}" | grep -qx "$s"; then
      $SUDO systemctl disable --now "$s.service" > /dev/null 2>&1 || true
    fi
  done
fi
[ "$own_policy" = 0 ] || { $SUDO rm -f "$POLICY"; trap - EXIT; }
echo "install-deps: done"
