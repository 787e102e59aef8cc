#!/bin/bash
# The mutant corpus matches the kill table: every mutant that harness/mutant_kills.expected says
# is killed has traces/mutants/<mutant>.jsonl, recorded on that mutant and expecting the check
# the table names; no survivor and no unknown mutant has a trace.
# Usage: check_corpus.sh KILL_TABLE MUTANTS_DIR
set -u
table=$1
dir=$2
status=0
fail() {
  echo "FAIL: $*"
  status=1
}
killed=0
while read -r name verdict _; do
  case "$name" in '' | '#'*) continue ;; esac
  trace=$dir/$name.jsonl
  if [ "$verdict" = SURVIVES ]; then
    [ -e "$trace" ] && fail "$name survives, yet has a trace"
    continue
  fi
  killed=$((killed + 1))
  [ -f "$trace" ] || { fail "$name is killed ($verdict) but $trace is missing"; continue; }
  grep -qF "\"mutant\":\"$name\"" "$trace" || fail "$trace does not name mutant $name"
  grep -qF "\"check\":\"$verdict\"" "$trace" || fail "$trace does not expect $verdict"
done <"$table"
for trace in "$dir"/*.jsonl; do
  name=$(basename "$trace" .jsonl)
  grep -qE "^$name[[:space:]]" "$table" || fail "$trace names no mutant of the kill table"
done
echo "$killed killed mutants, $(ls "$dir"/*.jsonl | wc -l) traces"
[ "$status" -eq 0 ] && echo PASS
exit "$status"
