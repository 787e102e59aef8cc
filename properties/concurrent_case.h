// The concurrent family's case (concurrent_prop.cc): lanes of operations interleaved by a
// schedule on sim::Scheduler fibers, with an optional crash. Exposed so that a directed case can
// be run and judged without RapidCheck (kill_matrix_test.cc).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "btt/mutant.h"
#include "properties/sim_device.h"
#include "util/status.h"

namespace tearproof::properties {

struct LaneOp {
  enum class Kind : uint8_t { kWrite, kZero, kRead };
  Kind kind = Kind::kWrite;
  uint64_t lba = 0;
};

void showValue(const LaneOp& op, std::ostream& os);  // "w3", "z1", "r0"

struct ConcurrentCase {
  DeviceConfig config;
  std::vector<Op> setup;                      // run to completion before the lanes start
  std::vector<std::vector<LaneOp>> programs;  // one per lane (at most 3)
  std::vector<uint32_t> schedule;             // choice per decision: 0 stay, k k-th other lane
  std::optional<CrashSpec> crash;             // counted over every lane's fences
};

struct ConcurrentOutcome {
  std::optional<Violation> violation;
  std::string schedule;      // the lanes the run actually picked ("0,0,1,..."), for reports
  bool contention = false;   // a lane or map lock was found held
  bool crash_fired = false;  // the crash came during the run (not after it)
};

// Draws a case with `*gen`: call from a property body only.
ConcurrentCase DrawConcurrentCase();
// Runs and judges a case (no RapidCheck inside); a Status only when the harness itself fails.
Result<ConcurrentOutcome> RunConcurrentCase(const ConcurrentCase& c);

// A failed case and the schedule its run took (ConcurrentOutcome::schedule), for its trace.
struct FailedConcurrentCase {
  ConcurrentCase c;
  std::string schedule_taken;
};
// The last case ConcurrentProperty failed on in this thread (RapidCheck's shrunk
// counterexample after a failed run), or std::nullopt; taking it clears it.
std::optional<FailedConcurrentCase> TakeLastFailedConcurrentCase();

// A tearproof trace of a concurrent case for `tearproof replay`: its device, setup and lane
// programs explored by harness::Explore with concurrent lanes (every crash point), first on the
// schedule the failing run took (the same fiber scheduling points) and, if that shows nothing,
// on every schedule within kConcurrentTracePreemptions preemptions. Returns the path, kNotFound
// when the explorer does not reproduce the case (its device differs, error flags are dropped).
inline constexpr uint32_t kConcurrentTracePreemptions = 2;
Result<std::string> WriteConcurrentCaseTrace(const FailedConcurrentCase& failed,
                                             const std::string& dir,
                                             btt::Mutant mutant = btt::Mutant::kNone);
// Family::write_trace of the concurrent family.
std::string WriteConcurrentTraceOfLastFailure();

}  // namespace tearproof::properties
