#!/bin/bash
# Malformed bad-input and format round-trip traces through the CLI: each variant of a valid trace
# must make `tearproof replay` exit 2 with a message that names the problem — never another
# status, never a crash (a signal would show as 128+N). The unmodified traces must replay (exit 0
# on the real core), so a broken harness cannot pass this test by refusing everything.
# Usage: check_malformed.sh TEARPROOF BAD_INPUT_TRACE [ROUND_TRIP_TRACE]
set -u
tp=$1
trace=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() {
  echo "FAIL: $*"
  status=1
}
# expect NAME NEEDLE: replay $tmp/NAME.jsonl on the real core; exit 2 and NEEDLE in the message.
expect() {
  local out code
  out=$("$tp" replay "$tmp/$1.jsonl" --mutant none 2>&1)
  code=$?
  echo "--- $1 (exit $code): $out" | head -n 3
  [ "$code" -eq 2 ] || fail "$1: exit $code, expected 2"
  echo "$out" | grep -qF -- "$2" || fail "$1: the message does not say '$2'"
}
line() { sed -n "$1p" "$trace"; }
# variant NAME LINE_NUMBER NEW_LINE: the trace with one line replaced.
variant() {
  awk -v n="$2" -v text="$3" 'NR == n { print text; next } { print }' "$trace" >"$tmp/$1.jsonl"
}

"$tp" replay "$trace" --mutant none >/dev/null 2>&1
code=$?
[ "$code" -eq 0 ] || fail "the unmodified trace: exit $code, expected 0 on the real core"

config=$(line 2)
variant bad-hex 4 '{"corruption":{"patches":[{"offset":"0x10","bytes":"zz"}]}}'
expect bad-hex "field 'bytes': bad hex digit at position 0"
variant odd-hex 4 '{"corruption":{"patches":[{"offset":"0x10","bytes":"abc"}]}}'
expect odd-hex "even number of hex digits"
variant past-end 4 '{"corruption":{"patches":[{"offset":"0xffffff00","bytes":"00"}]}}'
expect past-end "reach past the end of the namespace"
variant overlap 4 '{"corruption":{"patches":[{"offset":"0x10","bytes":"0000"},{"offset":"0x11","bytes":"00"}]}}'
expect overlap "inside or before patch 0"
variant garbage 4 '{"corruption":{"patches":[{"offset":"0x10","bytes":"00"}]}} }{ garbage'
expect garbage "line 4: not valid JSON"
variant wrong-record 4 '{"crash":{"point":1,"op_in_flight":null,"resolution":[]}}'
expect wrong-record "expected the \"corruption\" record"
variant bad-op 3 '{"workload":{"ops":["w0","q1"]}}'
expect bad-op "bad op \"q1\""
variant version 1 '{"tearproof_trace":5,"tool_commit":"x","mutant":"none","device":"btt","case":"bad-input"}'
expect version "version 5 is not supported"
head -n 3 "$trace" >"$tmp/truncated.jsonl"
expect truncated "the \"corruption\" record is missing"
{ cat "$trace"; echo '{"expect":{"verdict":"pass"}}'; } >"$tmp/extra.jsonl"
expect extra "unexpected content after the \"expect\" record"
# Well-formed, but the case cannot run here: exit 2 as well.
variant no-such-lba 3 '{"workload":{"ops":["w4000000"]}}'
expect no-such-lba "names an LBA the device lacks"
variant no-arena 2 "$(echo "$config" | sed -E 's/"namespace_bytes":[0-9]+/"namespace_bytes":20480/')"
expect no-arena "geometry"
variant after 3 '{"workload":{"ops":["w0"],"after":["w1"]}}'
expect after "unknown field 'after'"

# A format round-trip trace: its own records, and patches that are no round trip.
if [ $# -ge 3 ]; then
  trace=$3
  "$tp" replay "$trace" --mutant none >/dev/null 2>&1
  code=$?
  [ "$code" -eq 0 ] || fail "the unmodified round-trip trace: exit $code, expected 0"
  config=$(line 2)
  patches=$(line 4)
  variant rt-version 1 '{"tearproof_trace":2,"tool_commit":"x","mutant":"none","device":"btt","case":"format-round-trip"}'
  expect rt-version "\"format-round-trip\" needs format version 3 (the header says 2)"
  variant rt-no-after 3 '{"workload":{"ops":["w0"]}}'
  expect rt-no-after "missing field 'after'"
  variant rt-bad-after 3 '{"workload":{"ops":["w0"],"after":["r1"]}}'
  expect rt-bad-after "field 'after'[0]: bad op \"r1\""
  variant rt-after-lba 3 '{"workload":{"ops":["w0"],"after":["w99999"]}}'
  expect rt-after-lba "after op 0 (w99999#2) names an LBA the device lacks"
  variant rt-huge 2 "$(echo "$config" | sed -E 's/"namespace_bytes":[0-9]+/"namespace_bytes":2199023255553/')"
  expect rt-huge "field 'namespace_bytes': 2199023255553 exceeds 2199023255552"
  variant rt-map 4 '{"corruption":{"patches":[{"offset":"0x2000","bytes":"01"}]}}'
  expect rt-map "not a format round trip: patch 0x2000+1"
  # One byte of a slot's move left out: the lane is neither as it was nor swapped.
  variant rt-half 4 "$(echo "$patches" | sed 's/{"offset":"0x5020","bytes":"01"},//')"
  expect rt-half "changed other than by swapping slots 1 and 2"
fi

[ "$status" -eq 0 ] && echo PASS
exit "$status"
