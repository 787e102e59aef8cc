#!/bin/bash
# The trace workflow through the CLI: `tearproof explore` writes a trace of every violation and
# prints its replay command; `tearproof replay` reproduces it with a timeline (exit 1), shrinks it
# with --minimize, and refuses malformed traces with exit 2 naming the line; a trace recorded on a
# mutant by tearproof-mutants is replayed by re-executing that sibling binary (exit 1), passes on
# the real core (--mutant none, exit 0), and without the sibling is a clear exit-2 error;
# --track-lbas is recorded in the trace and judged by its replay, and bad values are exit 2.
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

# 7. --track-lbas: the trace records it (format version 3) and the replay judges those LBAs; a
# bad value on the command line or in the trace is exit 2 naming it.
expect 1 "judging lbas 0-2 too" \
  "$tp" explore --fault lost-flushes --ops "w1 w1" --track-lbas 3 --trace-dir "$dir/k"
ktrace=$(ls "$dir"/k/*-track3-*.jsonl | head -n 1)
[ -f "$ktrace" ] || fail "no trace with track3 in its name"
head -n 1 "$ktrace" | grep -qF '"tearproof_trace":3' || fail "a tracking trace is not version 3"
grep -qF '"track_lbas":3' "$ktrace" || fail "the trace does not record track_lbas"
expect 1 "judged after the crash: every LBA an op names, and LBAs 0-2 (track_lbas 3)" \
  "$tp" replay "$ktrace"
expect 1 "lba 2 ok" "$tp" replay "$ktrace"
expect 1 "track_lbas 3 -> 0" "$tp" replay "$ktrace" --minimize -o "$dir/kmin.jsonl"
for bad in -1 x 2.5 4294967296; do
  expect 2 "--track-lbas" "$tp" explore --ops w0 --track-lbas "$bad"
done
expect 2 "--track-lbas applies to one exploration" "$tp" explore --matrix --track-lbas 2
# The explored LBA must exist: a clear error, not a crash.
expect 2 "tracked lba" "$tp" explore --ops w0 --track-lbas 4000000000 --no-traces
# track_lbas VALUE in the trace file: exit 2 and MESSAGE.
bad_value() {
  sed "s/\"track_lbas\":3/\"track_lbas\":$1/" "$ktrace" >"$dir/kbad.jsonl"
  expect 2 "$2" "$tp" replay "$dir/kbad.jsonl"
}
bad_value -3 "field 'track_lbas': expected an unsigned integer, got a negative integer"
bad_value 1.5 "field 'track_lbas': expected an unsigned integer, got a fraction"
bad_value '"3"' "field 'track_lbas': expected an unsigned integer, got a string"
bad_value 0 "field 'track_lbas': must be at least 1 (or absent)"
bad_value 4294967296 "field 'track_lbas': 4294967296 exceeds 4294967295"
bad_value 99999999999999999999 "an integer beyond 64 bits"
bad_value 4000000 "tracked lba"
sed 's/"tearproof_trace":3/"tearproof_trace":1/' "$ktrace" >"$dir/kv1.jsonl"
expect 2 "field 'track_lbas': needs format version 3 (the header says 1)" \
  "$tp" replay "$dir/kv1.jsonl"
echo PASS
