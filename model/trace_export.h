// model::TraceFromBmcResult — turns a Z3 counterexample (model/bmc.h) into a tearproof trace
// (traces/trace.h) that `tearproof replay` re-executes on the production BTT core, on the core
// mutant that implements the model mutant, or on the plain-pmem control (docs/model.md §5).
//
// What is mapped directly from the counterexample: the device and core mutant (a fixed table,
// CoreCounterpartOf), the configuration (nfree, persistency model; linux profile, 512-byte
// sectors), the workload (the ops in execution order), the crash point (the explorer crashes just
// before each fence; the model's crash lies after `fences_before_crash` persist steps, so the
// point is fences_before_crash + 1) and the expected check (ExpectedCheck).
//
// The resolution (which candidate each word read after the crash takes) is mapped from the
// model's persisted stores: the trace's words are core addresses and candidate indices, which
// only a run of the core can name, so the converter replays the crash point on the mapped device
// and, for every word recovery reads (in read order), asks the explorer which workload op stored
// each of the word's candidates (by forcing it: one replay per candidate, cached per store set
// under word8), then picks the latest candidate whose store the model marks persisted (index 0,
// the guaranteed value, when none is). Words outside the modelled structures keep index 0. The
// mapped trace is replayed once more and refused (NotFound) when it does not show its check: the
// counterpart is the nearest core fault, which at some bounds behaves like the real core where
// the model mutant already fails (seq-reversed at 1 x 1 x 1).
//
// A counterexample of several lanes is not mapped step by step: the model interleaves its steps,
// the fiber scheduler every medium operation, lane acquisition and lock of the core. Its trace
// keeps the model's per-lane workload and expected check, and takes the schedule, crash point and
// resolution from an exploration of that workload on the counterpart (every schedule within 0, 1,
// then 2 preemptions, first violation of the expected check); expect.detail says so.
//
// Requires the mutant build (tearproof_model_traces_mutants) for a counterexample of a mutant
// whose counterpart is a core mutant; the production build (tearproof_model_traces) converts the
// real protocol and the no-btt control and returns Unsupported otherwise.
// Deterministic (every run is a simulation); not thread-safe (the explorer's mutant selection is
// process-wide).
#pragma once

#include <string>

#include "harness/explorer.h"
#include "model/bmc.h"
#include "traces/trace.h"
#include "util/status.h"

namespace tearproof::model {

// Which device and core mutant implement a model mutant (docs/model.md §5). `core_mutant` is
// spelled as traces spell it ("none", "seq-skips", ...).
struct CoreCounterpart {
  harness::Device device = harness::Device::kBtt;
  std::string core_mutant = "none";
};
// NotFound for a mutant without a counterpart (no-map-lock: the core has no lock mutant).
Result<CoreCounterpart> CoreCounterpartOf(Mutant mutant);

// True when the counterpart is a seeded core mutant, which only the mutant build can run.
bool CounterpartNeedsMutantBuild(Mutant mutant);

// The ORACLE-* check the explorer reports for a violated model property (docs/model.md §5):
// INV-SECTOR-ATOMIC / -DURABLE -> ORACLE-ATOMIC; INV-MAP-BIJECTION -> ORACLE-RECOVER when two flog
// groups name the same free block after recovery (open fails with INV-FLOG-FREE-DISTINCT), else
// ORACLE-CHECK; INV-FLOG-SEQ -> ORACLE-RECOVER; INV-RECOVERY-IDEMPOTENT -> ORACLE-IDEMPOTENT.
// Uses the first violation of `cex`.
Result<std::string> ExpectedCheck(const Counterexample& cex);

// The trace of a SAT result. Errors: not SAT; no counterpart (NotFound); Unsupported in a build
// without mutants for a core mutant; the mapped run does not reach the crash point; several
// lanes whose exploration within 2 preemptions shows no violation of the expected check.
// expect.detail names the model property, its message and how the resolution was obtained.
Result<traces::Trace> TraceFromBmcResult(const BmcResult& result);
Result<traces::Trace> TraceFromCounterexample(const BmcOptions& options, const Counterexample& cex);

// "tearproof-bmc-no-data-persist-1x1x1-nfree1-word8": the file-name stem of the trace of `options`.
std::string BmcTraceStem(const BmcOptions& options);

// Converts a SAT result and writes its trace to DIR/<BmcTraceStem>.jsonl (creating DIR). Returns
// the path. For `tearproof bmc --trace-out` and `tearproof_bmc --trace-out`.
Result<std::string> WriteBmcTrace(const BmcResult& result, const std::string& dir);

}  // namespace tearproof::model
