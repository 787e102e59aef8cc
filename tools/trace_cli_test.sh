#!/bin/bash
# The trace workflow through the CLI: `tearproof explore` writes a trace of every violation and
# prints its replay command; `tearproof replay` reproduces it with a timeline (exit 1), shrinks it
# with --minimize, and refuses malformed traces with exit 2 naming the line; a trace recorded on a
# mutant by tearproof-mutants is replayed by re-executing that sibling binary (exit 1), passes on
# the real core (--mutant none, exit 0), and without the sibling is a clear exit-2 error.
# Usage: trace_cli_test.sh TEARPROOF TEARPROOF_MUTANTS
set -u
tp=$1
tpm=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

fail() {
  echo "FAIL: $*"
  exit 1
}
# expect CODE PATTERN COMMAND...: the command exits CODE and prints PATTERN (grep -F).
expect() {
  local code=$1 pattern=$2
  shift 2
  local out got
  out=$("$@" 2>&1)
  got=$?
  echo "\$ $*"
  echo "$out" | head -60
  [ "$got" -eq "$code" ] || fail "exit $got, expected $code: $*"
  echo "$out" | grep -qF -- "$pattern" || fail "no '$pattern' in the output of: $*"
}

# 1. explore writes a trace per violation and prints how to replay it.
trace=$dir/t/plain-pmem-512-word8-w0_w1-p1-0.jsonl
expect 1 "replay: tearproof replay $trace" \
  "$tp" explore --device plain-pmem --model word8 --ops "w0 w1" --trace-dir "$dir/t"
[ -f "$trace" ] || fail "no trace at $trace"

# 2. replay reproduces it, with a timeline that shows the torn sector.
expect 1 "the trace expects ORACLE-ATOMIC: reproduced" "$tp" replay "$trace"
expect 1 "lba 0 torn" "$tp" replay "$trace"
expect 1 "" "$tp" replay --quiet "$trace"

# 3. --minimize shrinks it to one write and replays the result.
expect 1 "minimized trace: $dir/min.jsonl" "$tp" replay "$trace" --minimize -o "$dir/min.jsonl"
grep -qF '"lanes":[["w0"]]' "$dir/min.jsonl" || fail "the minimized workload is not w0"
expect 1 "reproduced" "$tp" replay "$dir/min.jsonl"

# 4. Malformed traces: exit 2, the line and field named.
echo '{"tearproof_trace":1}' >"$dir/bad.jsonl"
expect 2 "line 1 (header): missing field 'tool_commit'" "$tp" replay "$dir/bad.jsonl"
head -c 40 "$trace" >"$dir/cut.jsonl"
expect 2 "line 1: not valid JSON" "$tp" replay "$dir/cut.jsonl"
head -n 3 "$trace" >"$dir/short.jsonl"
expect 2 "the \"crash\" record is missing" "$tp" replay "$dir/short.jsonl"

# 5. Mutants: recorded by tearproof-mutants, replayed through tearproof (re-exec).
expect 1 "VIOLATION ORACLE-ATOMIC" \
  "$tpm" explore --mutant seq-skips --ops "w0 w0" --trace-dir "$dir/m"
mtrace=$(ls "$dir"/m/*.jsonl | head -n 1)
grep -qF '"mutant":"seq-skips"' "$mtrace" || fail "the trace does not name its mutant"
expect 1 "mutant seq-skips" "$tp" replay "$mtrace"
expect 1 "reproduced" "$tp" replay "$mtrace"
expect 0 "verdict: no violation" "$tp" replay "$mtrace" --mutant none
expect 2 "--mutant" "$tp" explore --mutant seq-skips
expect 2 "unknown mutant" "$tpm" explore --mutant no-such-mutant --ops w0

# 6. Without the sibling binary the production tearproof says what to do.
cp "$tp" "$dir/tearproof"
expect 2 "tearproof-mutants" "$dir/tearproof" replay "$mtrace"
echo PASS
