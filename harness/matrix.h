// harness::RunStandardMatrix — exhaustive crash exploration of the BTT over a named matrix of
// small configurations (docs/explorer.md lists it).
//
// For every profile, sector size, persistency model and nfree in the matrix, every workload of
// 1..max_ops operations drawn from {write, zero} × {lba 0, .., lbas-1} is explored with
// harness::Explore (every crash point, every resolution of the words recovery reads). The
// operations run one at a time (multi-lane interleavings come with the fiber scheduler).
// Deterministic; `shard`/`shards` split the workload list for parallel runs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "btt/layout.h"
#include "harness/explorer.h"
#include "sim/event.h"

namespace tearproof::harness {

struct MatrixOptions {
  std::vector<btt::Profile> profiles = {btt::Profile::kLinux, btt::Profile::kUefi,
                                        btt::Profile::kPmemblk};
  std::vector<uint32_t> sector_sizes = {512, 4096};
  std::vector<sim::PersistencyModel> models = {
      sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8, sim::PersistencyModel::kEadr};
  std::vector<uint32_t> nfrees = {1, 2};
  uint32_t lbas = 2;
  uint32_t max_ops = 3;
  uint32_t shard = 0;  // run workloads i with i % shards == shard
  uint32_t shards = 1;
};

struct MatrixCell {
  btt::Profile profile;
  uint32_t sector_size;
  sim::PersistencyModel model;
  uint32_t nfree;
  uint64_t workloads = 0;
  ExploreStats stats;
  std::vector<Violation> violations;  // the first few, with the workload that found them
  std::vector<std::string> violation_workloads;
};

struct MatrixResult {
  std::vector<MatrixCell> cells;
  ExploreStats total;
  uint64_t workloads = 0;
  uint64_t violations = 0;
  bool ok() const { return violations == 0 && total.incomplete_points == 0; }
};

// Every workload of 1..max_ops operations over `lbas` LBAs, in a fixed order.
std::vector<std::vector<WorkloadOp>> AllWorkloads(uint32_t lbas, uint32_t max_ops);
// "w0 w1 z0 r1": the compact form used in reports, traces and by `tearproof explore --ops`.
std::string WorkloadToString(const std::vector<WorkloadOp>& ops);
Result<std::vector<WorkloadOp>> ParseWorkload(const std::string& text);

// progress(done, total) is called after each exploration (may be empty).
Result<MatrixResult> RunStandardMatrix(
    const MatrixOptions& options,
    const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

}  // namespace tearproof::harness
