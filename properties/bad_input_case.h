// The trace form of the bad-input family's cases (bad_input_prop.cc): the family runs every case
// through traces::RunBadInputCase (traces/bad_input.h), and a failed case becomes a bad-input
// trace (docs/traces.md, format version 2) — the device, the workload, the corruption as the
// byte patches it made, the violation — that `tearproof replay` runs through the same executor.
#pragma once

#include <optional>
#include <string>

#include "btt/mutant.h"
#include "properties/sim_device.h"
#include "traces/trace.h"
#include "util/status.h"

namespace tearproof::properties {

struct FailedBadInputCase {
  traces::BadInputCase c;  // with the patches the case's corruption made
  Violation violation;
};

// The last case BadInputProperty failed on in this thread (RapidCheck's shrunk counterexample
// after a failed run), or std::nullopt; taking it clears it.
std::optional<FailedBadInputCase> TakeLastFailedBadInputCase();

// Writes the trace of `f`, recorded on `mutant`, as `<dir>/<stem>.jsonl` and returns the path.
// The trace is replayed before it is kept: kNotFound when the replay does not show the same
// check (the executor is deterministic, so that would be a bug).
Result<std::string> WriteBadInputCaseTrace(const FailedBadInputCase& f, const std::string& dir,
                                           btt::Mutant mutant = btt::Mutant::kNone);

// Family::write_trace of the bad-input family: the trace of the last failed case in
// $TEARPROOF_TRACE_DIR (default: the working directory), as a line saying where and how to
// replay it, or why there is none.
std::string WriteBadInputTraceOfLastFailure();

}  // namespace tearproof::properties
