#!/usr/bin/env bash
# fuzz/run.sh [seconds] — builds btt_open_fuzzer with clang + libFuzzer + ASan + UBSan in
# build-fuzz/ (override with BUILD_FUZZ=dir) and fuzzes for `seconds` (default 60) with one
# process, seeded from fuzz/corpus/ and fuzz/regressions/. New interesting inputs go to
# $BUILD_FUZZ/corpus-work/ (not committed). Exit status: 0 when no crash was found; non-zero when
# libFuzzer found a crash, leak, timeout or OOM, whose input is then copied into fuzz/regressions/
# (commit it; the replay test btt_open_fuzz_replay_test runs it forever).
# Works from a fresh clone as root: scripts/install-deps.sh installs clang and libclang-rt-14-dev.
# Extra libFuzzer flags can be passed in FUZZ_FLAGS, e.g. FUZZ_FLAGS="-jobs=1 -seed=7".
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${BUILD_FUZZ:-$root/build-fuzz}"
jobs="${JOBS:-$(nproc)}"

if [ -x "$root/scripts/install-deps.sh" ]; then
  "$root/scripts/install-deps.sh"
fi
cxx="$(command -v clang++ || command -v clang++-14 || true)"
if [ -z "$cxx" ]; then
  echo "fuzz/run.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

mkdir -p "$build"
# The whole build (util, btt, the fuzzer) gets coverage instrumentation; ASan+UBSan come from
# TEARPROOF_SANITIZE (fatal UBSan); the fuzzer target itself links -fsanitize=fuzzer.
cmake -S "$here/standalone" -B "$build" \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" \
  -DTEARPROOF_SANITIZE=ON -DTEARPROOF_WERROR=ON -DTEARPROOF_FUZZ=ON >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 2; }
cmake --build "$build" -j "$jobs" --target btt_open_fuzzer

work="$build/corpus-work"
artifacts="$build/artifacts"
mkdir -p "$work" "$artifacts" "$here/regressions"
rm -f "$artifacts"/*

status=0
"$build/fuzz/btt_open_fuzzer" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_FLAGS:-} \
  "$work" "$here/corpus" "$here/regressions" || status=$?

found=0
for f in "$artifacts"/*; do
  [ -e "$f" ] || continue
  cp "$f" "$here/regressions/"
  echo "fuzz/run.sh: recorded $(basename "$f") in fuzz/regressions/;" \
    "replay: $build/fuzz/btt_open_fuzzer $here/regressions/$(basename "$f")" >&2
  found=1
done
if [ "$status" -eq 72 ] && [ "$found" -eq 0 ]; then
  echo "fuzz/run.sh: interrupted, no crash found" >&2  # libFuzzer's exit code after SIGINT
  exit 72
fi
if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
  echo "fuzz/run.sh: libFuzzer found a problem (exit $status)" >&2
  exit $(( status != 0 ? status : 1 ))
fi
echo "fuzz/run.sh: no crash in ${seconds}s"
