#!/bin/bash
# Rewrites model/traces/: the trace of Z3's counterexample for every protocol mutant with a core
# counterpart, at the bound model_trace_export_test uses (docs/model.md §5), through
# `tearproof bmc --trace-out`. Deterministic up to each trace's tool_commit.
# Usage: model/regenerate_traces.sh [BUILD_DIR]   (default build; needs tearproof and its siblings)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tp=${1:-$here/../build}/tools/tearproof
out=$here/traces
rm -rf "$out"
mkdir -p "$out"
while read -r mutant lanes lbas ops; do
  "$tp" bmc --mutant "$mutant" --lanes "$lanes" --lbas "$lbas" --ops "$ops" --model word8 \
    --trace-out "$out" > /dev/null || [ $? -eq 1 ]
done <<'LIST'
no-data-persist 1 1 1
map-before-flog 1 1 1
flog-halves-unfenced 1 2 2
flog-active-slot 1 1 2
seq-reversed 1 1 2
free-block-reused 1 2 2
recovery-picks-older 1 1 1
recovery-roll-back 1 1 1
recovery-no-mask 1 1 2
recovery-no-old-check 2 1 1
no-btt 1 1 1
LIST
ls "$out"
