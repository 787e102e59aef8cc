// traces::Minimize — shrink a failing trace while it still fails with the same check.
//
// Delta debugging over the trace's dimensions, each candidate re-run on the simulator:
//   1. lanes      drop a whole lane (concurrent traces);
//   2. ops        drop chunks of the workload, halves first, then single ops; then setup ops;
//   3. LBAs       renumber the LBAs used to 0, 1, ... and merge two LBAs into one; track fewer
//                 LBAs after the crash (track_lbas -> 0, then track_lbas - 1);
//   4. geometry   4 KiB sectors -> 512 B, nfree -> 1 (then nfree - 1);
//   5. crash state  un-persist words: a chosen candidate index > 0 is set to 0 (the word keeps its
//                 guaranteed value) whenever the violation survives it.
// A candidate of steps 1-4 changes the execution, so its crash point and resolution are found
// anew by exploring it (ExploreConfig::only_check = the trace's check, stop at the first
// violation); step 5 replays the fixed crash point with the changed resolution. A candidate is
// kept when it still shows the same check; the loop restarts from the smaller trace until no
// candidate is kept. The result is 1-minimal for these moves, not globally minimal.
//
// A bad-input trace is shrunk by the same loop over its own moves, each candidate run by
// traces::RunBadInputCase: drop chunks of the workload (halves first, then single ops), drop
// chunks of the patches, and leave one byte of a patch alone (a first or last byte trims the
// patch, an inner one splits it). Its geometry stays: the patch offsets mean something only in
// that layout. A format round-trip trace is shrunk by the same moves (and chunks of its second
// history dropped), each candidate run by traces::RunFormatRoundTrip; a candidate whose patches
// are no longer a round trip (half of a flog slot's move) cannot run and is not kept.
//
// A concurrent trace is shrunk by dropping a lane, chunks of a lane's ops (a lane keeps one op)
// and chunks of the setup; each candidate's schedule is found anew by the exhaustive concurrent
// search within max(1, the trace's preemptions) preemptions (at most 3), and a candidate is kept
// when the search's first violation is the trace's check.
//
// Deterministic: same trace, same result. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "traces/trace.h"
#include "util/status.h"

namespace tearproof::traces {

struct MinimizeOptions {
  uint64_t max_candidates = 4000;  // candidates run before giving up on further shrinking
  // Candidates of steps 1-4 explore with at most this many resolutions per crash point (and a
  // trace they produce records it): a mutant whose recovery reads pending sector data branches
  // 2^64 ways per point, and a violation found under a bound is still a real one.
  uint64_t max_states_per_point = 1024;
};

struct MinimizeStats {
  uint64_t candidates = 0;         // candidates run
  std::vector<std::string> steps;  // the shrinks kept, in order ("drop op 1 (w0)", ...)
};

// REQUIRES nothing: a trace that expects a pass, or does not reproduce its violation, is an
// InvalidArgument (there is nothing to minimize).
Result<Trace> Minimize(const Trace& trace, const MinimizeOptions& options = {},
                       MinimizeStats* stats = nullptr);

}  // namespace tearproof::traces
