// Model/code conformance: the sequence of stores, flushes, fences, map locks and map loads that
// the production BTT core (btt::Btt) issues on the simulated medium, compared with the sequence
// the Z3 model assumes (model/protocol.h), so the model cannot silently drift from the code.
//
// CheckConformance() formats a BTT on a sim::Medium with its event log on, opens it through a
// recording btt::Namespace and btt::Sync, runs a scenario of writes and zeros on chosen lanes,
// crashes one write after its flog commit, recovers (a roll-forward) and recovers again. Every
// recorded medium event is named by the region it touches (data block, flog slot half, map entry,
// their 64-byte lines, info block) and compared, event by event, with the model's sequence
// instantiated with the model's own lane state (free block, older flog slot, next seq) and its
// value rules. docs/model.md §"Conformance" lists what is compared and the abstractions allowed.
//
// Test support only: it links btt/, sim/ and harness/, which tearproof_model must not. The same
// source is built against the production core and against the mutant build (btt/mutant.h), where
// the caller selects a core mutant in `after_format`. Deterministic; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "btt/layout.h"
#include "model/bmc.h"
#include "model/protocol.h"
#include "util/status.h"

namespace tearproof::model {

struct ConformanceOp {
  uint32_t lane = 0;  // the BTT lane (free block, flog group) the op runs on
  OpKind kind = OpKind::kWrite;
  uint32_t lba = 0;
};

struct ConformanceScenario {
  btt::Profile profile = btt::Profile::kLinux;
  uint32_t external_lbasize = 512;
  uint32_t nfree = 2;
  // Run to completion in order; each op's events are compared with OpSequence().
  std::vector<ConformanceOp> ops;
  // Then this write runs too (compared like the others) while a copy of the medium is crashed
  // at its last crash point before its map store persists (after the flog commit): the state the
  // model's recovery rolls forward. Recovery of that copy is compared with RollForwardSequence()
  // for the write's lane and nothing for the others, and a second recovery with nothing.
  std::optional<ConformanceOp> interrupted;
  // Run on the recovered copy and compared: they show that recovery rebuilt each lane's free
  // block, slot and seq as the model does.
  std::vector<ConformanceOp> after_recovery;
  // The model program the code is held to: kNone (the real protocol), or one of the mutants
  // that only reorder or drop persists (no-data-persist, map-before-flog, flog-halves-unfenced).
  Mutant model_program = Mutant::kNone;
  // Called after format and before the first open (the mutant tests select a core mutant here).
  std::function<void()> after_format;
};

// One sequence whose events differ from the model's.
struct ConformanceMismatch {
  std::string where;  // "op 3 (lane 1 write lba 2)", "recovery after the crash", ...
  std::vector<std::string> expected;  // the model's events, e.g. "store flog[lane 0].slot1.A ..."
  std::vector<std::string> observed;  // the core's events, named the same way
  size_t first_difference = 0;        // index into both
  std::string ToString() const;
};

struct ConformanceReport {
  uint64_t sequences_checked = 0;
  uint64_t events_checked = 0;  // observed events compared
  std::vector<ConformanceMismatch> mismatches;
  bool ok() const { return mismatches.empty(); }
  std::string ToString() const;
};

// Errors (bad scenario, a core call that fails) are a Status; a core that runs but issues other
// events than the model is a report with mismatches.
Result<ConformanceReport> CheckConformance(const ConformanceScenario& scenario);

// The scenario the tests run: both op kinds on two lanes, a zero then a write of the same LBA
// (a Z entry logged as old_map), one LBA written by both lanes, five writes on lane 0 (its seq
// wraps 3 -> 1), the interrupted write and one write per lane after recovery.
ConformanceScenario StandardConformanceScenario(btt::Profile profile, uint32_t external_lbasize);

}  // namespace tearproof::model
