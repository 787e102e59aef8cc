// harness::HuntMutant — run the crash explorer on the mutant build of the BTT core
// (btt/mutant.h) over a small sub-matrix and report the first violation that kills the mutant.
//
// The sub-matrix (KillMatrix): linux profile, 512-byte sectors, persistency models px86 and
// word8, nfree 1 and 2, every workload of 1..3 operations from {write, zero} × {LBA 0, LBA 1}
// (84), searched workload-major (shortest first), then model, then nfree; first on a fresh medium
// (the mutant also formats), then on an aged one (see KillMatrix::aged_setup), then concurrent
// lanes with crashes (KillMatrix::concurrent), then crashes inside format. The full oracle
// runs on every crash state (docs/explorer.md). Deterministic.
//
// Only in tearproof_harness_mutants (TEARPROOF_BTT_MUTANTS). Not thread-safe: each exploration
// sets the process-wide mutant selection (ExploreConfig::mutant) and restores kNone.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "btt/mutant.h"
#include "harness/explorer.h"

namespace tearproof::harness {

struct KillMatrix {
  btt::Profile profile = btt::Profile::kLinux;
  uint32_t sector_size = 512;
  std::vector<sim::PersistencyModel> models = {sim::PersistencyModel::kPx86,
                                               sim::PersistencyModel::kWord8};
  std::vector<uint32_t> nfrees = {1, 2};
  uint32_t lbas = 2;
  uint32_t max_ops = 3;
  bool stop_at_first_kill = true;  // false: run the whole sub-matrix (used for kNone)
  // Per crash point. A kill found under a bound is a real violation; a run that hits the bound
  // without a kill counts as incomplete (reported, and a failure for kNone).
  uint64_t max_states_per_point = 1 << 14;
  // Second phase, run only when the fresh phase finds no kill (or always, for kNone with
  // stop_at_first_kill false): the unmutated core formats and completes `aged_setup`, then the
  // mutant is switched on and the same workloads are explored. This reaches mutants of how a
  // medium written by a correct implementation is read back (e.g. the flog layout).
  std::vector<WorkloadOp> aged_setup = {{WorkloadOp::Kind::kWrite, 0},
                                        {WorkloadOp::Kind::kWrite, 1}};
  // Third phase, run only when the first two find no kill (or always, as above): concurrent
  // lanes, every schedule within `concurrent_preemptions` preemptions, crashed at every crash
  // point, nfree 2, each model. The case reaches the read re-validation race: the real core ages
  // the medium with "w3 w0" (lane 1's free block becomes block 0, whose bare number equals an
  // identity map entry), then lane 0 reads LBA 1 while lane 1 writes LBAs 1 and 2.
  struct ConcurrentCase {
    std::vector<WorkloadOp> setup;
    std::vector<std::vector<WorkloadOp>> lanes;
  };
  std::vector<ConcurrentCase> concurrent = {
      {{{WorkloadOp::Kind::kWrite, 3}, {WorkloadOp::Kind::kWrite, 0}},
       {{{WorkloadOp::Kind::kRead, 1}},
        {{WorkloadOp::Kind::kWrite, 1}, {WorkloadOp::Kind::kWrite, 2}}}}};
  uint32_t concurrent_preemptions = 1;
  // Fourth phase, likewise: crashes inside format (ExploreConfig::crash_in_format), each of
  // `format_models` and nfree, then the workload `format_ops`. Reaches mutants of the format
  // protocol. px86 only: under word8 an info block store's 64 words persist independently and
  // open reads them all, past max_states_per_point.
  std::vector<sim::PersistencyModel> format_models = {sim::PersistencyModel::kPx86};
  std::vector<WorkloadOp> format_ops = {{WorkloadOp::Kind::kWrite, 0}};
};

struct KillResult {
  bool killed = false;
  std::string check;        // ORACLE-* of the first violation; empty when not killed
  std::string workload;     // "w0 w0"; lanes joined by " || " in the concurrent phase
  bool aged = false;        // found in the aged phase (after KillMatrix::aged_setup)
  bool concurrent = false;  // found in the concurrent phase (KillMatrix::concurrent)
  bool in_format = false;   // found in the format phase (crashes inside format)
  sim::PersistencyModel model = sim::PersistencyModel::kPx86;
  uint32_t nfree = 0;
  uint64_t crash_point = 0;   // 1-based crash point of the exploration
  int64_t op_in_flight = -1;  // index into the workload, -1: none (the end point)
  std::string detail;
  // The killing exploration (its config, with `mutant` set) and its first violation, with the
  // resolution: enough to write a replayable trace (traces/).
  ExploreConfig config;
  Violation violation;
  uint64_t explorations = 0;     // explorations run
  uint64_t workload_errors = 0;  // explorations whose workload itself failed (not a kill)
  std::string first_workload_error;
  uint64_t violations = 0;  // total over the explorations run
  uint64_t incomplete_points = 0;
};

Result<KillResult> HuntMutant(btt::Mutant mutant, const KillMatrix& matrix = {});

// "data-not-persisted ORACLE-ATOMIC" lines: the expected kill table
// (harness/mutant_kills.expected). Values: an ORACLE-* check (killed, first check fired) or
// SURVIVES.
Result<std::map<std::string, std::string>> ParseKillTable(const std::string& text);

}  // namespace tearproof::harness
