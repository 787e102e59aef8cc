// traces::Replay — re-execute a trace deterministically and judge it again;
// traces::FormatTimeline — the human-readable account of what happened.
//
// A crash trace: Replay runs harness::Explore with ExploreConfig::target: the same device,
// configuration and workload, crashed only at the trace's crash point, with the trace's
// resolution forced (looked up by word address; words it does not name keep their guaranteed
// value). The verdict is the oracle's on that one state.
// A bad-input trace: Replay runs traces::RunBadInputCase (traces/bad_input.h), the executor the
// bad-input property judges its cases with, on the trace's case and patches. A format round-trip
// trace: traces::RunFormatRoundTrip (traces/format_round_trip.h), the format family's executor.
// A concurrent trace: harness::ReplayConcurrent follows the recorded schedule strictly and the
// concurrent search's oracle judges the run. When this core's run leaves the recorded schedule
// (a lane the schedule picks is not runnable: e.g. the real core replaying a mutant's trace takes
// another path), the verdict is instead that of every schedule of the workload within
// max(1, recorded preemptions) preemptions, at most 3 (harness::SearchConcurrent, exhaustive part
// only); the timeline says which.
// A trace that names a mutant replays only in a build with mutants (an error otherwise).
// Deterministic; not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "harness/concurrent_search.h"
#include "harness/explorer.h"
#include "traces/bad_input.h"
#include "traces/trace.h"
#include "util/status.h"

namespace tearproof::traces {

struct ReplayResult {
  // Found at the target (and by workload reads); a bad-input run's violation, with crash point 0.
  std::vector<harness::Violation> violations;
  harness::CrashTimeline timeline;  // crash traces
  // Bad-input and format round-trip traces: the run and its timeline.
  std::optional<BadInputRun> bad_input;
  // Concurrent traces: the strict replay of the recorded schedule, and, when this core's run
  // left it, the search that judged the workload instead.
  struct Concurrent {
    harness::ConcurrentRun run;
    bool schedule_fits = true;
    uint32_t search_bound = 0;  // when it did not fit: the preemption bound searched
    uint64_t search_runs = 0;   // and the schedules it ran
  };
  std::optional<Concurrent> concurrent;
  // The choices the replay actually made, in read order (index 0 for words the trace leaves
  // out): what a trace of this run records.
  std::vector<harness::Choice> resolution;
  // The trace's expectation holds: a violation of expect.check happened (or, for an expected
  // pass, no violation did).
  bool matches_expectation = false;
  bool violated() const { return !violations.empty(); }
  // The first violation of the expected check, or nullptr.
  const harness::Violation* Expected(const Trace& trace) const;
};

// The search a concurrent trace falls back to (and minimize re-finds schedules with): the
// exhaustive part only, within max(1, the trace's preemptions) preemptions, at most 3, on `mutant`,
// stopped at the first violation.
harness::ConcurrentSearchOptions ConcurrentTraceSearch(const Trace& trace, btt::Mutant mutant);

// Errors: the trace's mutant is unknown to this build, or its workload fails (e.g. an LBA
// outside the device) or its case cannot run (RunBadInputCase's errors): all mean the trace
// cannot be replayed here.
Result<ReplayResult> Replay(const Trace& trace);

// A crash trace: operations per lane with their events and crash points, the crash point, the
// stores still pending there, each word read after the crash (candidate chosen, persisted or
// not, and which store produced it), the sectors recovery shows (torn ones word by word) and the
// verdict. A bad-input trace: the device, the workload, each patch and what it hit, the LBAs it
// touched and why, every open and Check, and the verdict. A concurrent trace: the device, setup,
// lanes and schedule, every completed op on the run's logical clock with the value it wrote or
// read, the run's outcome, and the verdict.
std::string FormatTimeline(const Trace& trace, const ReplayResult& result);

}  // namespace tearproof::traces
