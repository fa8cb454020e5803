#!/usr/bin/env bash
# Fails when a C/C++ file differs from clang-format (.clang-format: Google
# style, 110 columns). `scripts/check_format.sh --fix` rewrites them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.c' 2>/dev/null || find . -path ./build\* -prune -o \( -name '*.cc' -o -name '*.h' -o -name '*.c' \) -print)
if [ "${1:-}" = --fix ]; then
  clang-format -i "${files[@]}"
  echo "check_format: formatted ${#files[@]} files"
  exit 0
fi
if ! out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1); then
  printf '%s\n' "$out" | grep -o '^[^:]*:[0-9]*:[0-9]*: error' | cut -d: -f1 | sort -u | sed 's/^/check_format: differs from clang-format: /'
  echo "check_format: run scripts/check_format.sh --fix"
  exit 1
fi
echo "check_format: ${#files[@]} files match clang-format"
