#!/bin/bash
# One stored trace against the CLI (ctest runs this for every *.jsonl under traces/):
#   recorded   `tearproof replay TRACE` matches the trace's expectation: exit 1 and
#              "the trace expects ORACLE-X: reproduced" (a bad-input trace: ORACLE-X or
#              PROP-X) for a violation, exit 0 for a pass
#              (a trace naming a mutant re-executes tearproof-mutants);
#   real-core  `tearproof replay TRACE --mutant none`: the real core passes (exit 0);
#   minimize   `tearproof replay TRACE --minimize` still reproduces the same check.
# Usage: check_replay.sh TEARPROOF TRACE recorded|real-core|minimize
set -u
tp=$1
trace=$2
mode=$3
fail() {
  echo "FAIL: $*"
  exit 1
}
check=$(grep -oE '"check":"(ORACLE|PROP)-[A-Z-]*"' "$trace" | head -n 1 | cut -d'"' -f4)
run() {
  out=$("$tp" replay "$trace" "$@" 2>&1)
  code=$?
  echo "\$ tearproof replay $trace $*"
  echo "$out"
}
case "$mode" in
  recorded)
    run
    if [ -n "$check" ]; then
      [ "$code" -eq 1 ] || fail "exit $code, expected 1 (the violation reproduces)"
      echo "$out" | grep -qF "the trace expects $check: reproduced" || fail "$check not reproduced"
    else
      [ "$code" -eq 0 ] || fail "exit $code, expected 0 (the trace passes)"
    fi
    ;;
  real-core)
    run --mutant none
    [ "$code" -eq 0 ] || fail "exit $code: the real core fails this mutant's trace"
    echo "$out" | grep -qF "verdict: no violation" || fail "no clean verdict"
    ;;
  minimize)
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    run --minimize -o "$tmp"
    [ "$code" -eq 1 ] || fail "exit $code, expected 1 (the minimized trace still fails)"
    echo "$out" | grep -qF "the trace expects $check: reproduced" || fail "$check lost"
    ;;
  *) fail "unknown mode $mode" ;;
esac
echo PASS
