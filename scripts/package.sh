#!/usr/bin/env bash
# Builds the Debian packages: the release binary (scripts/build.sh binary, into
# build/), the compressed man page and changelog, then cpack, then lintian.
#   scripts/package.sh   -> build/resmeter-verify_<version>-<rev>_<arch>.deb (resmeter-verify, the buyer's tools)
#                           build/resmeter_<version>-<rev>_<arch>.deb        (resmeter, the agent service, config)
# RESMETER_SKIP_LINTIAN=1 skips lintian. Exit 1 when lintian reports an error.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh binary
cmake --build build --target resmeter-verify resmeter_docs > /dev/null
rm -f build/resmeter_*.deb build/resmeter-verify_*.deb
(cd build && cpack -G DEB > cpack.log 2>&1) || { cat build/cpack.log; exit 1; }
debs=(build/resmeter-verify_*.deb build/resmeter_*.deb)
for deb in "${debs[@]}"; do
  echo "package: $deb ($(du -h "$deb" | cut -f1))"
  dpkg-deb --info "$deb" | sed -n 's/^ \(Depends\|Recommends\|Installed-Size\):/  &/p'
done
if [ "${RESMETER_SKIP_LINTIAN:-0}" = 1 ]; then exit 0; fi
if ! command -v lintian > /dev/null; then
  echo "package: lintian not installed (apt-get install lintian), not checked"
  exit 0
fi
# Lintian refuses to run as root without this flag; the package is only read.
lint_args=(--info --display-info)
[ "$(id -u)" -ne 0 ] || lint_args+=(--allow-root)
lintian "${lint_args[@]}" "${debs[@]}" > build/lintian.log 2>&1 || true
grep '^[EWI]:' build/lintian.log || true
if grep -q '^E:' build/lintian.log; then
  echo "package: lintian reported errors"
  exit 1
fi
echo "package: lintian: $(grep -c '^E:' build/lintian.log) errors, $(grep -c '^W:' build/lintian.log) warnings"
