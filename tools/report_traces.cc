#include "tools/report_traces.h"

#include <filesystem>
#include <sstream>

#include "harness/matrix.h"
#include "traces/minimize.h"
#include "traces/replay.h"
#include "traces/trace.h"

namespace tearproof::tools {

namespace {

// Minimizes `trace` (kept as found if it does not minimize within the budget), writes it to `dir`
// and replays it for the timeline.
Result<RecordedTrace> Record(traces::Trace trace, const std::string& dir, uint64_t max_candidates) {
  traces::MinimizeOptions options;
  options.max_candidates = max_candidates;
  auto minimized = traces::Minimize(trace, options);
  if (minimized.ok()) trace = *std::move(minimized);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create trace directory '" + dir + "': " + ec.message());
  RecordedTrace recorded;
  recorded.path = dir + "/" + traces::TraceStem(trace) + ".jsonl";
  recorded.minimized_workload = trace.kind == traces::TraceKind::kConcurrent
                                    ? trace.concurrent.Workload().Name()
                                    : harness::WorkloadToString(trace.config.ops);
  TP_RETURN_IF_ERROR(traces::WriteTraceFile(recorded.path, trace));
  TP_ASSIGN_OR_RETURN(traces::ReplayResult replay, traces::Replay(trace));
  std::istringstream lines(traces::FormatTimeline(trace, replay));
  for (std::string line; std::getline(lines, line);) recorded.timeline.push_back(line);
  return recorded;
}

}  // namespace

Result<RecordedTrace> RecordViolationTrace(const harness::ExploreConfig& config,
                                           const harness::Violation& violation,
                                           const std::string& dir, uint64_t max_candidates) {
  return Record(traces::TraceFromViolation(config, violation), dir, max_candidates);
}

Result<RecordedTrace> RecordConcurrentTrace(
    const harness::ConcurrentSearchResult& result,
    const std::vector<harness::ConcurrentWorkload>& searched, btt::Mutant mutant,
    const std::string& dir, uint64_t max_candidates) {
  TP_ASSIGN_OR_RETURN(traces::Trace trace,
                      traces::TraceFromConcurrentViolation(result, searched, mutant));
  return Record(std::move(trace), dir, max_candidates);
}

}  // namespace tearproof::tools
