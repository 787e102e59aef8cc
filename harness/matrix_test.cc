// The standard matrix: workload enumeration and parsing, the parts and their counts, sharding,
// and small cuts of each part that pass on the real core. The whole matrix runs as
// `tearproof explore` (ctest, label crash: tools/CMakeLists.txt).
#include "harness/matrix.h"

#include <gtest/gtest.h>

namespace tearproof::harness {
namespace {

using Kind = WorkloadOp::Kind;

TEST(Matrix, AllWorkloadsEnumeratesEverySequence) {
  // 2 LBAs: 4 choices per op; lengths 1..3 give 4 + 16 + 64.
  EXPECT_EQ(AllWorkloads(2, 3).size(), 84u);
  EXPECT_EQ(WorkloadToString(AllWorkloads(2, 1)[3]), "z1");
  // The default sequential part: 4 LBAs, 1..3 ops: 8 + 64 + 512.
  EXPECT_EQ(MatrixPartWorkloads(MatrixOptions{}, MatrixPart::kSequential).size(), 584u);
}

TEST(Matrix, WorkloadRoundTripsThroughText) {
  auto ops = ParseWorkload("w0 z1,w1");
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(WorkloadToString(*ops), "w0 z1 w1");
  EXPECT_FALSE(ParseWorkload("").ok());
  EXPECT_FALSE(ParseWorkload("x1").ok());
  EXPECT_FALSE(ParseWorkload("w").ok());
  EXPECT_FALSE(ParseWorkload("w99999999999999999999999").ok());
}

TEST(Matrix, PartsHaveNamesAndTheConcurrentPartItsWorkloads) {
  for (MatrixPart part : {MatrixPart::kSequential, MatrixPart::kConcurrent, MatrixPart::kFormat}) {
    EXPECT_EQ(ParseMatrixPart(MatrixPartName(part)), part);
  }
  EXPECT_FALSE(ParseMatrixPart("parallel").has_value());
  const auto concurrent = MatrixPartWorkloads(MatrixOptions{}, MatrixPart::kConcurrent);
  // Over {w, z, r} x {0, 1} (6 ops): 1 + 1 ops unordered, 21 pairs less the 3 read-only ones;
  // 2 + 1 ops, 216 less the 8 read-only ones; then the aged race.
  ASSERT_EQ(concurrent.size(), 18u + 208u + 1u);
  EXPECT_EQ(MatrixWorkloadName(concurrent.front()), "w0 || w0");
  EXPECT_EQ(MatrixWorkloadName(concurrent.back()), "[w3 w0] r1 || w1 w2");
  for (const MatrixWorkload& w : concurrent) {
    ASSERT_EQ(w.lanes.size(), 2u) << MatrixWorkloadName(w);
    bool mutates = false;
    for (const auto& lane : w.lanes) {
      for (const WorkloadOp& op : lane) mutates |= op.kind != Kind::kRead;
    }
    EXPECT_TRUE(mutates) << MatrixWorkloadName(w);
  }
  const auto format = MatrixPartWorkloads(MatrixOptions{}, MatrixPart::kFormat);
  ASSERT_EQ(format.size(), 1u);
  EXPECT_EQ(MatrixWorkloadName(format[0]), "w0");
}

TEST(Matrix, ShardsPartitionTheExplorations) {
  MatrixOptions options;
  options.profiles = {btt::Profile::kUefi};
  options.sector_sizes = {4096};
  options.models = {sim::PersistencyModel::kEadr};
  options.nfrees = {1, 2};
  options.max_ops = 2;
  options.lbas = 2;
  options.concurrent_lbas = 1;
  auto all = RunStandardMatrix(options);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->workloads, MatrixExplorations(options));
  // (4 + 16) sequential, (2 + 1 less 1 read-only unordered pairs) + (27 less 1) concurrent + the
  // aged case, 1 format; two cells (nfree 1, 2) each.
  EXPECT_EQ(all->workloads, (20u + 5u + 26u + 1u + 1u) * 2);
  uint64_t sum = 0;
  for (uint32_t s = 0; s < 3; ++s) {
    options.shard = s;
    options.shards = 3;
    auto part = RunStandardMatrix(options);
    ASSERT_TRUE(part.ok());
    EXPECT_EQ(part->workloads, MatrixExplorations(options));
    sum += part->workloads;
  }
  EXPECT_EQ(sum, all->workloads);
  options.shard = 3;
  EXPECT_FALSE(RunStandardMatrix(options).ok());
  EXPECT_EQ(MatrixExplorations(options), 0u);
}

TEST(Matrix, SequentialPartPassesOnTheRealCoreAndSharesCrashPoints) {
  MatrixOptions options;
  options.parts = {MatrixPart::kSequential};
  options.profiles = {btt::Profile::kLinux};
  options.lbas = 2;
  options.max_ops = 2;
  auto result = RunStandardMatrix(options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->workloads, 20u * 2 * 3 * 2);
  EXPECT_TRUE(result->ok()) << result->violations << " violations";
  // "w0 w1" meets the crash points of "w0" (its first op's) again: judged once per cell.
  EXPECT_GT(result->total.crash_points_repeated, 0u);
  EXPECT_LT(result->total.crash_points_repeated, result->total.crash_points);
}

TEST(Matrix, ConcurrentPartPassesOnTheRealCore) {
  MatrixOptions options;
  options.parts = {MatrixPart::kConcurrent};
  options.profiles = {btt::Profile::kLinux};
  options.sector_sizes = {512};
  options.models = {sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8};
  options.nfrees = {2};
  options.concurrent_lbas = 1;
  auto result = RunStandardMatrix(options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->workloads, (5u + 26u + 1u) * 2);
  EXPECT_TRUE(result->ok()) << result->violations << " violations";
  EXPECT_GT(result->total.executions, result->workloads * 10);  // schedules were searched
}

TEST(Matrix, FormatPartPassesOnTheRealCore) {
  MatrixOptions options;
  options.parts = {MatrixPart::kFormat};
  options.sector_sizes = {512};
  options.models = {sim::PersistencyModel::kPx86, sim::PersistencyModel::kEadr};
  options.nfrees = {2};
  auto result = RunStandardMatrix(options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->workloads, 3u * 2);
  EXPECT_TRUE(result->ok()) << result->violations << " violations";
  // Format's own fences are crash points: more than the one write's.
  EXPECT_GT(result->total.crash_points, result->workloads * 10);
}

}  // namespace
}  // namespace tearproof::harness
