// harness::Explore — crash the production BTT at every crash point of a workload, in a chosen
// persistency model, and judge every crash state that can change the outcome with the atomicity
// oracle.
//
// What is run: the BTT is formatted on a fresh simulated medium and opened; then the workload's
// operations (write / zero of an LBA) run one after another on one lane. Every sector written
// carries a tag in each 8-byte word (LBA, write number, word index), so a torn, stale or
// misdirected sector is identified exactly.
//
// Crash points (fence dominance): with clwb/clflushopt flushes, nothing becomes guaranteed between
// two fences, so the set of crash states only grows until the next fence. Crashing just before
// every fence, and once at the end, therefore covers every crash point of the execution.
//
// Crash states (lazy branching): at each crash point a lazily resolved crash view is created and
// recovery + the oracle run on it; a word's post-crash value is chosen only when it is first read,
// and an odometer enumerates every resolution of the words actually read. This is complete for the
// model: words nobody reads cannot change the verdict.
//
// The oracle, per crash state (docs/oracle.md names each check):
//   ORACLE-RECOVER      read-write open (recovery) succeeds;
//   ORACLE-ATOMIC       every tracked LBA reads as its last completed value or the value of the
//                       operation in flight at the crash: never torn, stale or another LBA's data;
//   ORACLE-RO-EQUALS-RW a read-only open (zero stores) shows the same sectors;
//   ORACLE-CHECK        Btt::Check reports no inconsistency;
//   ORACLE-IDEMPOTENT   a crash at every fence *during* recovery, then recovery again, shows the
//                       same sectors as the uninterrupted recovery.
//
// Deterministic: same config, same result. Not thread-safe (one simulation per thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "btt/layout.h"
#include "harness/sim_namespace.h"
#include "sim/crash_chooser.h"
#include "sim/event.h"
#include "util/status.h"

namespace tearproof::harness {

struct WorkloadOp {
  enum class Kind : uint8_t { kWrite, kZero };
  Kind kind = Kind::kWrite;
  uint64_t lba = 0;
};

struct ExploreConfig {
  btt::Profile profile = btt::Profile::kLinux;
  uint32_t external_lbasize = 512;
  uint32_t nfree = 1;
  sim::PersistencyModel model = sim::PersistencyModel::kPx86;
  std::vector<WorkloadOp> ops;
  // Resolutions explored per crash point before the point is reported incomplete.
  uint64_t max_states_per_point = 1 << 14;
  bool check_layout = true;       // ORACLE-CHECK on every state
  bool crash_in_recovery = true;  // ORACLE-IDEMPOTENT
  // How the workload's flushes reach the medium. kNone injects a platform fault (every flush
  // lost) to show that the oracle fails when durability points are missing.
  FlushKind workload_flush = FlushKind::kClwb;
  // Stop judging crash states after the first violation (the workload still runs to its end).
  // For mutant hunting: one violation is a kill. A stopped run reports no incomplete points.
  bool stop_at_first_violation = false;
  // An aged medium: these operations run after format, to completion and without crash points,
  // through their own open of the BTT; their values are the starting expectation. Then
  // `after_setup` (if set) runs, and the BTT is opened afresh for `ops`. Used to start from flog
  // slots that have already wrapped, and by the mutant tests to age the medium with the
  // unmutated core before a mutant opens it.
  std::vector<WorkloadOp> setup_ops;
  std::function<void()> after_setup;
};

struct Violation {
  std::string check;    // ORACLE-*
  uint64_t crash_point = 0;
  int64_t op_in_flight = -1;  // index into ops, -1 when none
  std::string detail;
  std::vector<sim::OdometerChooser::Choice> resolution;  // the crash state, as choices
};

struct ExploreStats {
  uint64_t executions = 0;
  uint64_t crash_points = 0;
  uint64_t events = 0;                // medium events of the workloads
  uint64_t states_checked = 0;        // resolutions judged by the oracle
  uint64_t recovery_crash_states = 0; // nested states checked for ORACLE-IDEMPOTENT
  double eager_states_log2_sum = 0;   // Σ over crash points of log2(full crash-state count)
  uint64_t eager_states = 0;          // Σ of full crash-state counts (saturating)
  uint64_t incomplete_points = 0;     // points that hit max_states_per_point
  void Add(const ExploreStats& other);
};

struct ExploreResult {
  ExploreStats stats;
  std::vector<Violation> violations;  // at most the first few
  bool ok() const { return violations.empty() && stats.incomplete_points == 0; }
};

// REQUIRES nothing of config: invalid geometry or LBAs come back as a Status.
Result<ExploreResult> Explore(const ExploreConfig& config);

// The tag a workload writes into word `word` of the sector written by write number `write_id`.
uint64_t SectorTag(uint64_t lba, uint64_t write_id, uint64_t word);

}  // namespace tearproof::harness
