# Helpers for the command-line shell integration tests (sourced first).
# The script's argv (RESMETER_BINARY SOURCE_DIR) becomes $R and $SRC; a
# scratch directory $T is removed on exit; results are counted in $passes
# and $fails, and `finish NAME` prints them and fails on any failure.
#   ok NAME                  a passed check
#   bad NAME [FILE]          a failed check (shows the first 2,000 bytes of FILE)
#   check NAME WANT GOT [FILE [TEXT]]
#                            exit code GOT must be WANT, and TEXT appear in FILE;
#                            an exit 2 (bad input) must say one line in FILE
#   check_last NAME WANT GOT FILE TEXT
#                            as check, with TEXT in FILE's last line (a verdict)
set -uo pipefail
R="$1"
SRC="${2:-}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
passes=0

ok() { echo "ok   $1"; passes=$((passes+1)); }

bad() {
  echo "FAIL $1"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then head -c 2000 "$2"; echo; fi
  fails=$((fails+1))
}

check() {
  local name=$1 want=$2 got=$3 file=${4:-} text=${5:-}
  if [ "$got" != "$want" ]; then bad "$name: exit $got, expected $want" "$file"; return; fi
  if [ -n "$text" ] && ! grep -qF -- "$text" "$file"; then bad "$name: output lacks '$text'" "$file"; return; fi
  if [ "$want" = 2 ] && [ -n "$file" ] && [ "$(wc -l < "$file")" -ne 1 ]; then
    bad "$name: expected exactly one line" "$file"; return
  fi
  ok "$name"
}

check_last() {
  local name=$1 want=$2 got=$3 file=$4 text=$5
  if [ "$got" = "$want" ] && ! tail -n 1 "$file" | grep -qF -- "$text"; then
    bad "$name: last line lacks '$text'" "$file"; return
  fi
  check "$name" "$want" "$got" "$file"
}

finish() {
  echo "$1: $passes passed, $fails failed"
  [ "$fails" -eq 0 ]
}
