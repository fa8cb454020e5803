#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time, as the "fuzz" ctests do:
#   run_fuzz.sh TARGET SEED_DIR WORK_DIR
# The seed corpus is copied into WORK_DIR (emptied first) so new inputs never
# land in the source tree; a target without a seed corpus starts from nothing.
# Time: RESMETER_FUZZ_SECONDS (default 5). A crash, leak, sanitizer report,
# timeout or out-of-memory fails the test; the reproducer is left in WORK_DIR.
set -euo pipefail
target=$1 seeds=$2 work=$3
seconds=${RESMETER_FUZZ_SECONDS:-5}
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
max_len=4096
if [ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ]; then
  cp "$seeds"/* "$work/corpus/"
  # Room to grow beyond the largest seed (libFuzzer would otherwise cap at it).
  largest=$(stat -c %s "$seeds"/* | sort -n | tail -1)
  [ $((largest + 1024)) -gt $max_len ] && max_len=$((largest + 1024))
fi
echo "fuzzing $(basename "$target") for ${seconds}s, max_len $max_len, $(ls "$work/corpus" | wc -l) seeds"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The work corpus is the only dir: new inputs land there, never in the tree.
exec "$target" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus"
