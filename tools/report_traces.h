// Traces in the report: every violation, control and mutant kill the campaign finds is stored as
// a minimized, replayable trace (traces/, docs/traces.md) next to the report, with the timeline
// `tearproof replay` prints.
//
// Compiled into tearproof (production core) and into tearproof-kill-matrix (mutant build): the
// trace names the mutant it was found on, and `tearproof replay` re-executes tearproof-mutants
// for such a trace. Deterministic (minimization and replay are); not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/concurrent_search.h"
#include "harness/explorer.h"
#include "util/status.h"

namespace tearproof::tools {

struct RecordedTrace {
  std::string path;                   // dir/<stem>.jsonl
  std::vector<std::string> timeline;  // traces::FormatTimeline of the minimized trace, by line
  std::string minimized_workload;     // the workload left after minimization
};

// Minimizes the trace of `violation` (found by exploring `config`) with at most `max_candidates`
// re-runs, writes it to `dir` (created if needed) and replays it for the timeline. A trace that
// does not minimize (a budget too small to reproduce) is stored as found.
Result<RecordedTrace> RecordViolationTrace(const harness::ExploreConfig& config,
                                           const harness::Violation& violation,
                                           const std::string& dir, uint64_t max_candidates);

// The same for the concurrent search's first violation in `result` (found on `mutant` while
// searching `searched`): a concurrent trace (docs/traces.md).
Result<RecordedTrace> RecordConcurrentTrace(
    const harness::ConcurrentSearchResult& result,
    const std::vector<harness::ConcurrentWorkload>& searched, btt::Mutant mutant,
    const std::string& dir, uint64_t max_candidates);

}  // namespace tearproof::tools
