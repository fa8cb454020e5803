#!/usr/bin/env bash
# Issue #17, hostile state directories: `resmeter agent` refuses, with one
# line on stderr and exit status 2 naming the path and the mode, owner or
# link, a state directory that is world-writable (0777), owned by another
# uid, a symbolic link planted in a world-writable directory, a 0777 ledger
# directory, or whose ledger file (or LOCK) was replaced by a symbolic link
# to a victim file (recovery would have cut, i.e. truncated, the victim);
# the victim stays byte for byte what it was. A 0700 directory works.
# argv: RESMETER_BINARY SOURCE_DIR
set -uo pipefail
R="$1"
SRC="$2"
source "$SRC/tests/integration/lib/agent_harness.sh"

# refused NAME STATE_DIR PATTERN: the agent exits 2 at start with exactly one stderr line containing PATTERN.
refused() {
  local name=$1 dir=$2 pattern=$3 rc lines
  timeout 60 "$R" --state-dir "$dir" --set agent.listen=127.0.0.1:0 agent > /dev/null 2> "$T/err"
  rc=$?
  lines=$(wc -l < "$T/err")
  if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -qF -- "$pattern" "$T/err"; then
    ok "$name: exit 2, one line: $(cat "$T/err")"
  else
    bad "$name: exit $rc, $lines lines, expected '$pattern': $(head -c 600 "$T/err")"
  fi
}

# A good state directory (created 0700 by the agent) first: a real ledger to attack.
start_agent "$T/a" || exit 1
S="$T/a/state"
wait_for 30 grep -q 'msg="ledger opened"' "$T/a/agent.log" || bad "ledger not opened"
stop_agent
[ "$AGENT_RC" = 0 ] && ok "agent with a fresh state dir ran and stopped" || bad "agent exit $AGENT_RC"
[ "$(stat -c %a "$S")" = 700 ] && ok "state dir created 0700" || bad "state dir mode $(stat -c %a "$S")"
[ "$(stat -c %a "$S/ledger")" = 700 ] && ok "ledger dir created 0700" || bad "ledger dir mode $(stat -c %a "$S/ledger")"

# World-writable state directory.
chmod 0777 "$S"
refused "0777 state dir" "$S" "has mode 0777"
chmod 0700 "$S"
# World-writable ledger directory.
chmod 0777 "$S/ledger"
refused "0777 ledger dir" "$S" "$S/ledger has mode 0777"
chmod 0700 "$S/ledger"
# A state directory replaced by a symlink in a world-writable (/tmp-like) directory.
mkdir -m 1777 "$T/pub" && ln -s "$S" "$T/pub/state"
refused "symlinked state dir" "$T/pub/state" "symbolic link"
# A state directory owned by another uid (only root can make one).
if [ "$(id -u)" = 0 ]; then
  mkdir -m 0700 "$T/foreign" && chown 4242:4242 "$T/foreign"
  refused "foreign-owned state dir" "$T/foreign" "owned by uid 4242"
else
  echo "skip foreign-owned state dir: needs root to chown"
fi

# The ledger file replaced by a symlink to a victim. Its lines are no
# statements, so recovery would cut all of them: truncate the victim to 0.
ledger_file=$(ls "$S"/ledger/ledger-*.jsonl | head -1)
printf 'precious data of someone else\nline two\n' > "$T/victim"
cp "$T/victim" "$T/victim.orig"
mv "$ledger_file" "$T/ledger.saved"
ln -s "$T/victim" "$ledger_file"
refused "symlinked ledger file" "$S" "symbolic link"
cmp -s "$T/victim" "$T/victim.orig" && ok "victim of the symlinked ledger file unchanged" || bad "victim changed"
# The same with LOCK.
rm "$ledger_file" && mv "$T/ledger.saved" "$ledger_file"
mv "$S/ledger/LOCK" "$T/LOCK.saved" && ln -s "$T/victim" "$S/ledger/LOCK"
refused "symlinked LOCK" "$S" "LOCK is a symbolic link"
cmp -s "$T/victim" "$T/victim.orig" && ok "victim of the symlinked LOCK unchanged" || bad "victim changed"
rm "$S/ledger/LOCK" && mv "$T/LOCK.saved" "$S/ledger/LOCK"

# identity.json replaced by a symlink: `resmeter identity` refuses to read through it.
mv "$S/identity.json" "$T/identity.saved" && ln -s "$T/victim" "$S/identity.json"
"$R" --state-dir "$S" identity > /dev/null 2> "$T/err"; rc=$?
[ "$rc" = 2 ] && grep -q "symbolic link" "$T/err" && ok "identity refuses a symlinked identity.json" ||
  bad "identity with a symlinked identity.json: exit $rc: $(cat "$T/err")"
rm "$S/identity.json" && mv "$T/identity.saved" "$S/identity.json"

# Restored, the same state directory works again.
start_agent "$T/a" || exit 1
opened_twice() { [ "$(grep -c 'msg="ledger opened"' "$T/a/agent.log")" -ge 2 ]; }
wait_for 30 opened_twice || bad "ledger not reopened"
stop_agent
[ "$AGENT_RC" = 0 ] && ok "restored state dir accepted" || bad "agent exit $AGENT_RC after restore"

echo "$fails failure(s)"
[ "$fails" = 0 ]
