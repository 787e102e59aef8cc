#!/bin/bash
# Regenerates the stored trace corpus from a build (docs/traces.md):
#   traces/mutants/<mutant>.jsonl   the minimized trace of every seeded BTT core mutant the
#                                   explorer kills (tearproof-mutants hunt --all)
#   traces/controls/*.jsonl         torn sectors of the plain-pmem control device (px86, word8)
#                                   and of the real core on a platform that loses flushes
#   traces/bad_input/*.jsonl        the bad-input family's shrunk kill of recover-roll-back
#                                   (KillMatrix.AShrunkBadInputFailureBecomesATraceThatReplays),
#                                   minimized
#   traces/format_round_trip/*.jsonl  the format round trip's kill of flog-layout-zero-two,
#                                   minimized (traces_mutants_test), and a round trip the real
#                                   core must keep passing: the flog in the (0,2) layout and a
#                                   corrupt primary info block (traces_test)
#   traces/concurrent/<mutant>.jsonl  the minimized concurrent trace of every seeded mutant the
#                                   concurrent search kills (tearproof-kill-matrix --concurrent)
# Usage: traces/regenerate.sh [BUILD_DIR]   (default: build). Deterministic: rerunning on the
# same code rewrites the same files (up to the tool_commit field).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
tp=$build/tools/tearproof
tpm=$build/tools/tearproof-mutants
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -f "$here"/mutants/*.jsonl "$here"/controls/*.jsonl "$here"/bad_input/*.jsonl \
  "$here"/format_round_trip/*.jsonl "$here"/concurrent/*.jsonl
mkdir -p "$here/mutants" "$here/controls" "$here/bad_input" "$here/format_round_trip" \
  "$here/concurrent"
# Survivors make hunt exit 1; they get no trace (docs/mutants.md says why they survive).
"$tpm" hunt --all --out "$here/mutants" || [ $? -eq 1 ]

# control NAME EXPLORE-ARGS...: explore (a violation is expected: exit 1), then minimize the
# first trace into controls/NAME.jsonl.
control() {
  local name=$1
  shift
  "$tp" explore "$@" --trace-dir "$tmp/$name" >/dev/null || [ $? -eq 1 ]
  local first
  first=$(ls "$tmp/$name"/*.jsonl | head -n 1)
  "$tp" replay --quiet --minimize -o "$here/controls/$name.jsonl" "$first" || [ $? -eq 1 ]
}
control plain-pmem-word8-torn-sector --device plain-pmem --model word8 --ops "w0 w0"
control plain-pmem-px86-torn-sector --device plain-pmem --model px86 --ops "w0 w0"
control btt-lost-flushes-px86 --fault lost-flushes --model px86 --ops "w0 w0" --max-states 64
# The bad-input trace: the kill test writes it into $TEARPROOF_TRACE_DIR; minimize it.
mkdir -p "$tmp/bad_input"
TEARPROOF_TRACE_DIR="$tmp/bad_input" "$build/properties/properties_kill_matrix_test" \
  --gtest_filter=KillMatrix.AShrunkBadInputFailureBecomesATraceThatReplays >/dev/null
"$tpm" replay --quiet --minimize -o "$here/bad_input/recover-roll-back.jsonl" \
  "$(ls "$tmp"/bad_input/*.jsonl | head -n 1)" || [ $? -eq 1 ]
# The format round-trip traces: the tests write them into $TEARPROOF_TRACE_DIR.
TEARPROOF_TRACE_DIR="$here/format_round_trip" "$build/traces/traces_mutants_test" \
  --gtest_filter=FormatRoundTripOnMutants.FlogLayoutZeroTwoIsCaughtAndItsTraceReplays >/dev/null
TEARPROOF_TRACE_DIR="$here/format_round_trip" "$build/traces/traces_test" \
  --gtest_filter=FormatRoundTrip.TheOtherLayoutAndACorruptPrimaryPassOnTheRealCoreAndReplayAlike \
  >/dev/null
# The concurrent traces: the kill matrix's concurrency family stores each kill (the explorer's
# one-op hunt runs alongside; its traces are not kept here).
mkdir -p "$tmp/kill"
"$build/tools/tearproof-kill-matrix" --max-ops 1 --concurrent --trace-dir "$tmp/kill" \
  >"$tmp/kill.json"
python3 - "$tmp/kill.json" "$here/concurrent" <<'PY'
import json, shutil, sys
for row in json.load(open(sys.argv[1]))["results"]:
    trace = row.get("concurrency", {}).get("trace")
    if trace:
        shutil.copy(trace, f"{sys.argv[2]}/{row['mutant']}.jsonl")
PY
ls -l "$here"/mutants "$here"/controls "$here"/bad_input "$here"/format_round_trip \
  "$here"/concurrent
