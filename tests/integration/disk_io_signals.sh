#!/usr/bin/env bash
# The disk.io scratch file is removed after a normal run, after SIGINT and
# SIGTERM (the CLI's handler re-raises, so the exit status is 128+signal), and
# after a run that fails once the file exists (file size limit hit while
# filling it). Runs the real `resmeter probe`.
# argv: resmeter binary, source dir.
set -u
set -m   # job control: background jobs get SIGINT at its default, not ignored
BIN=$1
work=$(mktemp -d /var/tmp/resmeter-disk-sig-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/d" "$work/state"
fail=0

# Writes a config with the given duration_seconds and timeout.
config() {
  cat > "$work/cfg.yaml" <<YAML
meters:
  disk.io:
    directory: $work/d
    file_size_bytes: 33554432
    free_space_margin_bytes: 0
    warmup_seconds: 0.1
    duration_seconds: $1
    timeout_seconds: $2
YAML
}
probe() { exec "$BIN" --state-dir "$work/state" --config "$work/cfg.yaml" probe --only disk.io -o "$work/report.jws"; }
check_empty() {
  if [ -n "$(ls -A "$work/d")" ]; then echo "FAIL ($1): left behind: $(ls -A "$work/d")"; fail=1; rm -f "$work/d"/.resmeter*;
  else echo "ok ($1): no scratch file left"; fi
}

config 0.2 120
(probe 2>/dev/null); rc=$?
[ $rc -eq 0 ] || { echo "FAIL: normal run exit $rc"; fail=1; }
check_empty "normal run"

for sig in INT TERM; do
  config 30 600   # 9 workloads x 30 s: far longer than the test waits
  (probe 2>/dev/null) & pid=$!   # exec: $pid is resmeter itself
  for _ in $(seq 1 200); do [ -n "$(ls -A "$work/d")" ] && break; sleep 0.05; done
  [ -n "$(ls -A "$work/d")" ] || { echo "FAIL: scratch file never appeared"; fail=1; }
  sleep 0.7   # inside the fill or the first workload
  kill -"$sig" "$pid"
  wait "$pid"; rc=$?
  kill -KILL "$pid" 2>/dev/null   # never leave it running if the signal was lost
  want=$((128 + $(kill -l "$sig")))
  [ $rc -eq $want ] || { echo "FAIL: SIG$sig exit $rc, want $want"; fail=1; }
  check_empty "SIG$sig"
done

config 0.2 120
# 8 MiB file size limit (ulimit -f counts KiB), SIGXFSZ ignored: the fill fails with EFBIG.
(ulimit -f 8192; trap '' XFSZ; probe 2>"$work/err"); rc=$?
grep -q "disk.io.*file size limit" "$work/err" || { echo "FAIL: failed fill not reported (exit $rc):"; cat "$work/err"; fail=1; }
check_empty "failed run"
exit $fail
