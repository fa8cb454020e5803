#!/usr/bin/env bash
# Runs bench/disk_io_vs_fio on a device whose speed does not depend on who
# else uses the machine: ext4 on a RAM-backed loop device, throttled by a
# cgroup (v1 blkio.throttle.*, or v2 io.max) to RBPS/WBPS bytes/s and
# RIOPS/WIOPS I/Os per second. fio and resmeter both run inside the cgroup.
# This is the case disk.io exists for (a VM disk that is a throttled volume),
# and it keeps a loaded shared CI machine's noise out of the ratios.
# Root only (exit 77 otherwise). Usage:
#   disk_io_vs_fio_throttled.sh BUILD_DIR [extra disk_io_vs_fio options]
# Environment: BPS (default 67108864 = 64 MiB/s), IOPS (default 4000).
set -u
BUILD=${1:?build dir}; shift
BIN=$BUILD/bench/disk_io_vs_fio
[ "$(id -u)" = 0 ] || { echo "disk_io_vs_fio_throttled: SKIP: needs root"; exit 77; }
BPS=${BPS:-67108864}
IOPS=${IOPS:-4000}
work=$(mktemp -d /tmp/resmeter-fio-bench-XXXXXX)
loop="" cg=""
cleanup() {
  umount -q "$work/mnt" 2>/dev/null
  [ -n "$loop" ] && losetup -d "$loop"
  umount -q "$work/ram" 2>/dev/null
  [ -n "$cg" ] && rmdir "$cg" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/ram" "$work/mnt"
mount -t tmpfs -o size=700m tmpfs "$work/ram" || exit 1
fallocate -l 600M "$work/ram/disk.img"
loop=$(losetup -f --show "$work/ram/disk.img") || exit 1
mkfs.ext4 -q "$loop" && mount "$loop" "$work/mnt" || exit 1
majmin=$(cat "/sys/block/$(basename "$loop")/dev")
name=resmeter-fio-bench-$$
if [ -w /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device ]; then
  cg=/sys/fs/cgroup/blkio/$name; mkdir "$cg"
  echo "$majmin $BPS" > "$cg/blkio.throttle.read_bps_device"
  echo "$majmin $BPS" > "$cg/blkio.throttle.write_bps_device"
  echo "$majmin $IOPS" > "$cg/blkio.throttle.read_iops_device"
  echo "$majmin $IOPS" > "$cg/blkio.throttle.write_iops_device"
  kind="cgroup v1 blkio throttle"
elif grep -qw io /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  echo +io > /sys/fs/cgroup/cgroup.subtree_control
  cg=/sys/fs/cgroup/$name; mkdir "$cg"
  echo "$majmin rbps=$BPS wbps=$BPS riops=$IOPS wiops=$IOPS" > "$cg/io.max"
  kind="cgroup v2 io.max"
else
  echo "disk_io_vs_fio_throttled: SKIP: no cgroup I/O throttle available"; exit 77
fi
echo "disk_io_vs_fio_throttled: ext4 on RAM-backed $loop, $kind: $BPS bytes/s and $IOPS IOPS each way"
sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ "$cg" "$BIN" --dir "$work/mnt" --size-mib 256 "$@"
