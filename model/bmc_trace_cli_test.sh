#!/bin/bash
# `tearproof bmc --trace-out` end to end (docs/model.md §5): a SAT result writes a trace and
# prints its replay command; `tearproof replay` reproduces the expected check on the counterpart
# (a core mutant through tearproof-bmc-mutants and tearproof-mutants, or the plain-pmem control)
# and passes with --mutant none (core mutants; the no-btt control's plain-pmem device must tear
# whatever the core); a model mutant without a core counterpart is a usage error; an UNSAT result writes nothing.
# Usage: bmc_trace_cli_test.sh TEARPROOF
set -u
tearproof=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

check_mutant() {  # model mutant, bound flags...
  local mutant=$1; shift
  out=$("$tearproof" bmc --mutant "$mutant" "$@" --trace-out "$dir/$mutant" 2>&1); code=$?
  echo "$out"
  [ $code -eq 1 ] || fail "$mutant: bmc exit $code, expected 1 (SAT)"
  trace=$(echo "$out" | sed -n 's/^trace: //p')
  [ -f "$trace" ] || fail "$mutant: no trace written"
  echo "$out" | grep -q "^replay: tearproof replay $trace" || fail "$mutant: no replay command"
  out=$("$tearproof" replay "$trace" 2>&1); code=$?
  echo "$out" | tail -2
  [ $code -eq 1 ] || fail "$mutant: replay exit $code, expected 1"
  echo "$out" | grep -q "the trace expects ORACLE-.*: reproduced" || fail "$mutant: not reproduced"
  [ "$mutant" = no-btt ] && return  # the control's device is plain pmem: it must tear
  "$tearproof" replay "$trace" --mutant none --quiet; code=$?
  [ $code -eq 0 ] || fail "$mutant: the real core fails the trace (exit $code)"
}

check_mutant recovery-roll-back --lanes 1 --lbas 1 --ops 1
check_mutant flog-halves-unfenced --lanes 1 --lbas 2 --ops 2
check_mutant no-btt --lanes 1 --lbas 1 --ops 1

out=$("$tearproof" bmc --lanes 1 --lbas 1 --ops 1 --trace-out "$dir/none" 2>&1); code=$?
[ $code -eq 0 ] || fail "real protocol: bmc exit $code, expected 0 (UNSAT)"
[ ! -e "$dir/none" ] || fail "real protocol: UNSAT wrote a trace"
out=$("$tearproof" bmc --lanes 2 --lbas 1 --ops 1 --mutant no-map-lock --trace-out "$dir/x" 2>&1)
code=$?
echo "$out" | tail -1
[ $code -eq 2 ] || fail "no-map-lock: exit $code, expected 2 (no core counterpart)"
echo "PASS"
