// harness::RunStandardMatrix — exhaustive crash exploration of the BTT over a named matrix of
// small configurations (docs/explorer.md "The standard matrix" lists it with its counts).
//
// Every cell is a profile × sector size × persistency model × nfree, and the matrix has three
// named parts, each a list of workloads explored with harness::Explore in every cell (every crash
// point, every resolution of the words recovery reads, the full oracle):
//   - sequential: every workload of 1..max_ops operations from {write, zero} × {LBA 0 ..
//     lbas - 1}, one lane;
//   - concurrent: two lanes, every schedule within `preemption_bound` preemptions, each
//     execution crashed at every crash point of the interleaved run; every pair of lane programs
//     (lane 0: 1..2 ops, lane 1: 1 op) from {write, zero, read} × {LBA 0 .. concurrent_lbas - 1}
//     that writes or zeroes something, plus the named aged cases (`concurrent_cases`);
//   - format: crashes inside format at every fence it issues (ORACLE-FORMAT), then `format_ops`.
// Within a cell the explorations share a crash point memo (ExploreConfig::memo): a crash point
// that a workload shares with one explored before (same medium operations, same expectation) is
// judged once. Every LBA of the part is judged after every crash (ExploreConfig::track_lbas).
// Deterministic; `shard`/`shards` split the explorations for parallel runs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "btt/layout.h"
#include "harness/explorer.h"
#include "sim/event.h"

namespace tearproof::harness {

enum class MatrixPart : uint8_t { kSequential, kConcurrent, kFormat };
const char* MatrixPartName(MatrixPart part);  // "sequential", "concurrent", "format"
std::optional<MatrixPart> ParseMatrixPart(std::string_view name);

// One workload of the matrix: setup ops (run to completion before it), then one op list per lane.
struct MatrixWorkload {
  std::vector<WorkloadOp> setup;
  std::vector<std::vector<WorkloadOp>> lanes;  // lanes[0] is ExploreConfig::ops
};
// "w0 z1", "w0 r1 || z0", "[w3 w0] r1 || w1 w2".
std::string MatrixWorkloadName(const MatrixWorkload& workload);

struct MatrixOptions {
  std::vector<MatrixPart> parts = {MatrixPart::kSequential, MatrixPart::kConcurrent,
                                   MatrixPart::kFormat};
  // The cells, shared by every part.
  std::vector<btt::Profile> profiles = {btt::Profile::kLinux, btt::Profile::kUefi,
                                        btt::Profile::kPmemblk};
  std::vector<uint32_t> sector_sizes = {512, 4096};
  std::vector<sim::PersistencyModel> models = {
      sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8, sim::PersistencyModel::kEadr};
  std::vector<uint32_t> nfrees = {1, 2};
  // sequential
  uint32_t lbas = 4;
  uint32_t max_ops = 3;
  // concurrent
  uint32_t concurrent_lbas = 2;
  uint32_t preemption_bound = 1;
  // The aged read re-validation race: after "w3 w0" (run by the real core) lane 1's free block is
  // block 0, whose bare number equals an identity map entry's; lane 0 reads LBA 1 while lane 1
  // writes LBAs 1 and 2 (docs/explorer.md "Mutant kill").
  std::vector<MatrixWorkload> concurrent_cases = {
      {{{WorkloadOp::Kind::kWrite, 3}, {WorkloadOp::Kind::kWrite, 0}},
       {{{WorkloadOp::Kind::kRead, 1}},
        {{WorkloadOp::Kind::kWrite, 1}, {WorkloadOp::Kind::kWrite, 2}}}}};
  // format
  std::vector<WorkloadOp> format_ops = {{WorkloadOp::Kind::kWrite, 0}};
  // Per crash point inside format. Under word8 each of an info block's (or pool header's)
  // nonzero words persists independently and open reads them all: up to 2^17 states per point
  // (pmemblk), so the default bound of 2^14 would leave those points incomplete.
  uint64_t format_max_states_per_point = 1 << 18;
  // ExploreConfig::count_eager_states (a statistic: `tearproof prove` reports it).
  bool count_eager_states = true;
  // ExploreConfig::mutant for every exploration (only the mutant build accepts one): shows that a
  // verdict built on the matrix can fail (tools/report_explore_test.cc).
  btt::Mutant mutant = btt::Mutant::kNone;
  // ExploreConfig::stop_at_first_violation for every exploration (a kill check needs one).
  bool stop_at_first_violation = false;
  // Explorations are numbered part by part, then cell by cell, then workload by workload; a
  // shard runs those whose number i has i % shards == shard.
  uint32_t shard = 0;
  uint32_t shards = 1;
};

struct MatrixCell {
  MatrixPart part = MatrixPart::kSequential;
  btt::Profile profile = btt::Profile::kLinux;
  uint32_t sector_size = 0;
  sim::PersistencyModel model = sim::PersistencyModel::kPx86;
  uint32_t nfree = 0;
  uint64_t workloads = 0;
  ExploreStats stats;
  uint64_t violation_count = 0;  // every violation found in the cell (only the first few are kept)
  // The first few violations, each with its workload (MatrixWorkloadName) and the exploration
  // that replays it (traces::TraceFromViolation).
  std::vector<Violation> violations;
  std::vector<std::string> violation_workloads;
  std::vector<ExploreConfig> violation_configs;
};

struct MatrixResult {
  std::vector<MatrixCell> cells;  // part-major, then profile, sector size, model, nfree
  ExploreStats total;
  uint64_t workloads = 0;  // explorations run
  uint64_t violations = 0;
  bool ok() const { return violations == 0 && total.incomplete_points == 0; }
};

// Every workload of 1..max_ops operations over `lbas` LBAs, in a fixed order.
std::vector<std::vector<WorkloadOp>> AllWorkloads(uint32_t lbas, uint32_t max_ops);
// A part's workloads, in a fixed order (the same in every cell).
std::vector<MatrixWorkload> MatrixPartWorkloads(const MatrixOptions& options, MatrixPart part);
// The explorations RunStandardMatrix runs for `options` (its shard only), over every part.
uint64_t MatrixExplorations(const MatrixOptions& options);
// The exploration of one workload of a part in one cell (what RunStandardMatrix runs, without
// the shared memo).
ExploreConfig MatrixExploreConfig(const MatrixOptions& options, MatrixPart part,
                                  btt::Profile profile, uint32_t sector_size,
                                  sim::PersistencyModel model, uint32_t nfree,
                                  const MatrixWorkload& workload);
// "w0 w1 z0 r1": the compact form used in reports, traces and by `tearproof explore --ops`.
std::string WorkloadToString(const std::vector<WorkloadOp>& ops);
Result<std::vector<WorkloadOp>> ParseWorkload(const std::string& text);

// progress(done, total) is called after each exploration (may be empty).
Result<MatrixResult> RunStandardMatrix(
    const MatrixOptions& options,
    const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

}  // namespace tearproof::harness
