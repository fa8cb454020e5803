#!/usr/bin/env bash
# The Debian packages install into a fresh Debian 12 (minbase) chroot with
# apt: resmeter-verify alone (the buyer's verifier: no service, no chrony),
# then resmeter (the agent service); the binary runs from the installed paths
# (help, a light probe, verify), and `apt-get purge` leaves nothing under
# /usr/bin/resmeter or /etc/resmeter.
# argv: RESMETER_BINARY SOURCE_DIR  (the package is built with cpack in the
# binary's build directory).
#
# Needs root, debootstrap and Debian's mirror (deb.debian.org). The base
# system is cached under /var/cache/resmeter-test/ (first run: debootstrap,
# about 1-2 minutes; later runs unpack the cached tree). Skips (exit 77) when
# not root, without debootstrap or cpack, or with RESMETER_SKIP_PACKAGE_TEST=1.
set -uo pipefail
R=$(readlink -f "$1")
# argv[2], the source directory, is not needed: cpack reads the build tree.
B=$(dirname "$R")
CACHE=${RESMETER_PACKAGE_CACHE:-/var/cache/resmeter-test}
MIRROR=${RESMETER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
skip() { echo "SKIP: $*"; exit 77; }
[ "${RESMETER_SKIP_PACKAGE_TEST:-0}" = 1 ] && skip "RESMETER_SKIP_PACKAGE_TEST=1"
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, mount)"
command -v debootstrap > /dev/null || skip "debootstrap not installed (apt-get install debootstrap)"
command -v cpack > /dev/null || skip "cpack not installed"
[ -f "$B/CPackConfig.cmake" ] || skip "$B has no CPackConfig.cmake (configure with the top-level CMakeLists.txt)"
start=$(date +%s)
fail() { echo "FAIL $*"; exit 1; }

mkdir -p "$CACHE"
D=$(mktemp -d "$CACHE/chroot.XXXXXX")
PKG=$(mktemp -d)
cleanup() {
  for m in proc sys dev; do mountpoint -q "$D/$m" && umount -l "$D/$m"; done
  # Remove the chroot only when nothing is mounted below it any more.
  if ! findmnt -rn -o TARGET | grep -q "^$D/"; then rm -rf "$D"; fi
  rm -rf "$PKG"
}
trap cleanup EXIT

# 1. The package, from the tree the binary was built in.
cmake --build "$B" --target resmeter-verify resmeter_docs > "$PKG/docs.log" 2>&1 || { cat "$PKG/docs.log"; fail "resmeter_docs"; }
(cd "$B" && cpack -G DEB -B "$PKG" > "$PKG/cpack.log" 2>&1) || { cat "$PKG/cpack.log"; fail "cpack"; }
deb=$(ls "$PKG"/resmeter_*.deb 2> /dev/null | head -n 1)
vdeb=$(ls "$PKG"/resmeter-verify_*.deb 2> /dev/null | head -n 1)
[ -n "$deb" ] && [ -n "$vdeb" ] || fail "cpack wrote no resmeter and resmeter-verify .deb into $PKG: $(ls "$PKG")"

# 2. A fresh Debian 12: unpack the cached base tree, or debootstrap it once.
BASE="$CACHE/bookworm-minbase-root.tar"
if [ ! -f "$BASE" ]; then
  echo "# first run: debootstrap bookworm (cached in $BASE)"
  TARBALL="$CACHE/bookworm-minbase.tgz"
  if [ ! -f "$TARBALL" ]; then
    debootstrap --variant=minbase --make-tarball="$TARBALL.tmp" bookworm "$D" "$MIRROR" > "$PKG/dbs.log" 2>&1 ||
      { tail -n 20 "$PKG/dbs.log"; fail "debootstrap --make-tarball"; }
    mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$D" && mkdir -p "$D"
  fi
  debootstrap --variant=minbase --unpack-tarball="$TARBALL" bookworm "$D" "$MIRROR" > "$PKG/dbs.log" 2>&1 ||
    { tail -n 20 "$PKG/dbs.log"; fail "debootstrap --unpack-tarball"; }
  cp /etc/resolv.conf "$D/etc/resolv.conf"
  chroot "$D" apt-get update -qq > "$PKG/update.log" 2>&1 || { cat "$PKG/update.log"; fail "apt-get update in the chroot"; }
  chroot "$D" apt-get clean
  tar -C "$D" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
else
  tar -C "$D" -xf "$BASE" || fail "unpacking $BASE"
fi
cp /etc/resolv.conf "$D/etc/resolv.conf"
# Installing must not start daemons (chrony's postinst) inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$D/usr/sbin/policy-rc.d"
chmod 0755 "$D/usr/sbin/policy-rc.d"
mount -t proc proc "$D/proc" || fail "mount /proc"
mount --rbind /sys "$D/sys" && mount --make-rslave "$D/sys" || fail "mount /sys"
mount --bind /dev "$D/dev" || fail "mount /dev"
# Downloaded dependencies are kept between runs.
mkdir -p "$CACHE/apt-archives/partial"
cp -a "$CACHE/apt-archives/." "$D/var/cache/apt/archives/" 2> /dev/null

# 3. Install with apt (dependencies from the mirror): the verifier alone first.
cp "$deb" "$vdeb" "$D/tmp/"
inroot() { chroot "$D" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
install_debs() {
  local args=() f
  for f in "$@"; do args+=("/tmp/$(basename "$f")"); done
  inroot apt-get install -y -qq --no-install-recommends "${args[@]}" > "$PKG/install.log" 2>&1
}
if ! install_debs "$vdeb"; then
  # The cached package lists may be older than the mirror: refresh once.
  inroot apt-get update -qq > /dev/null 2>&1
  install_debs "$vdeb" || { tail -n 30 "$PKG/install.log"; fail "apt-get install ./$(basename "$vdeb")"; }
fi
[ -x "$D/usr/bin/resmeter-verify" ] || fail "resmeter-verify installed no /usr/bin/resmeter-verify"
[ ! -e "$D/usr/bin/resmeter" ] || fail "resmeter-verify ships the agent's binary"
[ ! -e "$D/lib/systemd/system/resmeter.service" ] || fail "resmeter-verify ships the agent's unit"
inroot dpkg-query -W -f='${Status}' chrony 2> /dev/null | grep -q "install ok" && fail "resmeter-verify pulled in chrony"
for lib in libhwloc15 liburing2 libpfm4 libtss2-esys-3.0.2-0; do
  inroot dpkg-query -W -f='${Status}' "$lib" 2> /dev/null | grep -q "install ok" && fail "resmeter-verify pulled in $lib"
done
inroot resmeter-verify --help > "$PKG/vhelp" 2>&1 || { cat "$PKG/vhelp"; fail "resmeter-verify --help"; }
grep -q "verify" "$PKG/vhelp" && ! grep -q "probe" "$PKG/vhelp" || { cat "$PKG/vhelp"; fail "resmeter-verify --help: expected verify and no probe"; }
echo "ok   resmeter-verify alone installs its binary without the service, chrony, hwloc, liburing or tss2-esys"
install_debs "$deb" || { tail -n 30 "$PKG/install.log"; fail "apt-get install ./$(basename "$deb")"; }
cp -a "$D/var/cache/apt/archives/"*.deb "$CACHE/apt-archives/" 2> /dev/null
for f in /usr/bin/resmeter /etc/resmeter/resmeter.yaml /etc/resmeter/trust-anchors/intel_sgx_root_ca.pem \
         /lib/systemd/system/resmeter.service /usr/share/man/man1/resmeter.1.gz /usr/bin/resmeter-verify \
         /usr/share/man/man1/resmeter-verify.1.gz \
         /usr/share/bash-completion/completions/resmeter /usr/share/doc/resmeter/copyright \
         /usr/share/doc/resmeter/changelog.Debian.gz /usr/share/doc/resmeter-verify/copyright; do
  [ -e "$D$f" ] || fail "not installed: $f"
done
# The unit's SupplementaryGroups=_chrony must exist once resmeter is installed.
inroot getent group _chrony > /dev/null || fail "no _chrony group after installing resmeter (its unit needs it)"
inroot dpkg-query -W -f='${Conffiles}\n' resmeter | grep -q "/etc/resmeter/resmeter.yaml" ||
  fail "/etc/resmeter/resmeter.yaml is not a conffile"
echo "ok   installed $(basename "$deb") with apt into a fresh bookworm chroot (chrony pulled in)"

# 4. Run it from the installed paths, with the installed default config.
inroot resmeter --help > "$PKG/help" 2>&1 || { cat "$PKG/help"; fail "resmeter --help"; }
grep -q "probe" "$PKG/help" || fail "resmeter --help lists no probe subcommand"
STATE=/tmp/resmeter-state
probe_args=(probe --only "cpu.topology,memory.capacity" -o /tmp/r.jws)
inroot resmeter probe --help | grep -q -- "--identity-out" && probe_args+=(--identity-out /tmp/id.json)
if ! inroot resmeter --state-dir "$STATE" "${probe_args[@]}" > "$PKG/probe" 2>&1; then
  # Before ephemeral agent keys: the probe needs a key in the state directory.
  inroot resmeter --state-dir "$STATE" key init > /dev/null 2>&1
  inroot resmeter --state-dir "$STATE" "${probe_args[@]}" > "$PKG/probe" 2>&1 || { cat "$PKG/probe"; fail "resmeter probe"; }
fi
[ -s "$D/tmp/r.jws" ] || fail "resmeter probe wrote no report"
verify_args=(verify /tmp/r.jws)
if [ -f "$D/tmp/id.json" ]; then verify_args+=(--identity /tmp/id.json)
elif inroot resmeter --state-dir "$STATE" key show > "$D/tmp/key.jwk" 2> /dev/null; then verify_args+=(--key /tmp/key.jwk)
fi
inroot resmeter "${verify_args[@]}" > "$PKG/verify" 2>&1
rc=$?
# The buyer's binary reaches the same verdict.
inroot resmeter-verify "${verify_args[@]}" > "$PKG/verify2" 2>&1
rc2=$?
# Dev evidence on a machine without a TEE: ACCEPTED (0) or REJECTED (1) are
# both answers; 2 or a crash is not. The output must carry the verdict.
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || { cat "$PKG/verify"; fail "resmeter verify exited $rc"; }
[ "$rc2" -eq "$rc" ] || { cat "$PKG/verify2"; fail "resmeter-verify verify exited $rc2, resmeter verify $rc"; }
grep -Eqi "ACCEPTED|REJECTED|valid" "$PKG/verify" || { cat "$PKG/verify"; fail "resmeter verify printed no verdict"; }
echo "ok   probe + verify ran from /usr/bin/resmeter (verify exit $rc: $(grep -Eio 'ACCEPTED|REJECTED|valid[^ ]*' "$PKG/verify" | head -n 1))"

# 5. Purge leaves nothing behind.
inroot apt-get purge -y -qq resmeter resmeter-verify > "$PKG/purge.log" 2>&1 ||
  { cat "$PKG/purge.log"; fail "apt-get purge resmeter resmeter-verify"; }
for f in /usr/bin/resmeter /etc/resmeter /lib/systemd/system/resmeter.service /usr/share/doc/resmeter \
         /usr/share/doc/resmeter-verify \
         /usr/share/man/man1/resmeter.1.gz /usr/share/bash-completion/completions/resmeter /var/lib/resmeter; do
  [ ! -e "$D$f" ] || fail "left after purge: $f"
done
inroot dpkg-query -W -f='${Status}\n' resmeter resmeter-verify 2> /dev/null | grep -q "install ok" && fail "dpkg still lists resmeter"
echo "ok   apt-get purge removed every installed path ($(($(date +%s) - start)) s)"
