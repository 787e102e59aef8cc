// The case the crash and recovery families share: a device, a history and one crash in it.
// DrawCrashCase draws with `*gen`, so it is called from a property body only; RunCrashCase runs
// the case to its crash and recovers it, failing the property (RC_FAIL) on any violation.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "btt/mutant.h"
#include "harness/explorer.h"
#include "properties/sim_device.h"

namespace tearproof::properties {

struct CrashCase {
  DeviceConfig config;
  uint64_t nlba = 0;
  std::vector<Op> history;  // at least one operation
  CrashSpec crash;          // any fence of the history, or its end
};
CrashCase DrawCrashCase();

struct CrashOutcome {
  CrashedHistory run;
  Recovery recovery;  // judged: ORACLE-RECOVER, -RO-EQUALS-RW, -CHECK (and -IDEMPOTENT)
  std::string where;  // "crash during w3#7": context for later failures
};
// Runs `c`, recovers with `recovery_crash` (sim_device.h Recover) and checks ORACLE-ATOMIC on
// every LBA against the history.
CrashOutcome RunCrashCase(const CrashCase& c, const std::optional<CrashSpec>& recovery_crash);

// While in scope, remembers the case `make_case` describes as the last failed case of this
// thread if the scope is left by an exception (an RC_* failure unwinding). The failure goes on
// propagating. Never use it on a fiber: an RC_* failure must not unwind out of one.
class RememberCaseOnFailure {
 public:
  explicit RememberCaseOnFailure(std::function<CrashCase()> make_case)
      : make_case_(std::move(make_case)), uncaught_(std::uncaught_exceptions()) {}
  ~RememberCaseOnFailure();
  RememberCaseOnFailure(const RememberCaseOnFailure&) = delete;
  RememberCaseOnFailure& operator=(const RememberCaseOnFailure&) = delete;

 private:
  std::function<CrashCase()> make_case_;
  int uncaught_;
};

// The last case RunCrashCase (or a RememberCaseOnFailure scope) failed on, in this thread (std::nullopt if none since the last
// call). RapidCheck's final failure is its shrunk counterexample, so after a failed family run
// this is that counterexample.
std::optional<CrashCase> TakeLastFailedCrashCase();

// A tearproof trace (traces/trace.h) of `c`, for `tearproof replay`: the case's profile, sector
// size, nfree, model and operations are explored exhaustively by harness::Explore (every crash
// point, every resolution, stopping at the first violation) on the explorer's device, and the
// first violation is written as `<dir>/<stem>.jsonl`. Returns the path, or kNotFound when the
// explorer does not reproduce the case (its device is larger than the case's; error flags are
// not in its workload language and are dropped) and kInvalidArgument for histories too long to
// explore (more than kMaxTraceOps operations: replay the shrunk counterexample instead).
inline constexpr size_t kMaxTraceOps = 8;
Result<std::string> WriteCrashCaseTrace(const CrashCase& c, const std::string& dir,
                                        btt::Mutant mutant = btt::Mutant::kNone);

// Shared by the trace hooks of the families: the explorer configuration of a device (stopping
// at the first violation), its workload form of a history (error flags dropped), and the run
// that writes the first violation's trace as `<dir>/<stem>.jsonl` (kNotFound when the explorer
// finds none).
harness::ExploreConfig ExploreConfigFor(const DeviceConfig& device, btt::Mutant mutant);
std::vector<harness::WorkloadOp> WorkloadOf(const std::vector<Op>& ops);
Result<std::string> ExploreAndWriteTrace(const harness::ExploreConfig& config,
                                         const std::string& dir);
// $TEARPROOF_TRACE_DIR, default the working directory.
std::string TraceDirectory();
// "trace written: PATH (replay: tearproof replay PATH)" or "no trace: why".
std::string DescribeTraceResult(const Result<std::string>& path);

// Family::write_trace of the crash, recovery and model families: the trace of the last failed case,
// in $TEARPROOF_TRACE_DIR (default: the working directory), as a line saying where and how to
// replay it, or why there is none.
std::string WriteTraceOfLastFailure();

}  // namespace tearproof::properties
