// The standard matrix: workload enumeration and parsing, sharding, and a small matrix that passes
// on the real core.
#include "harness/matrix.h"

#include <gtest/gtest.h>

namespace tearproof::harness {
namespace {

TEST(Matrix, AllWorkloadsEnumeratesEverySequence) {
  // 2 LBAs: 4 choices per op; lengths 1..3 give 4 + 16 + 64.
  EXPECT_EQ(AllWorkloads(2, 3).size(), 84u);
  EXPECT_EQ(WorkloadToString(AllWorkloads(2, 1)[3]), "z1");
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

TEST(Matrix, ShardsPartitionTheWorkloads) {
  MatrixOptions options;
  options.profiles = {btt::Profile::kUefi};
  options.sector_sizes = {4096};
  options.models = {sim::PersistencyModel::kEadr};
  options.nfrees = {1};
  options.max_ops = 2;
  auto all = RunStandardMatrix(options);
  ASSERT_TRUE(all.ok());
  uint64_t sum = 0;
  for (uint32_t s = 0; s < 3; ++s) {
    options.shard = s;
    options.shards = 3;
    auto part = RunStandardMatrix(options);
    ASSERT_TRUE(part.ok());
    sum += part->workloads;
  }
  EXPECT_EQ(sum, all->workloads);
  options.shard = 3;
  EXPECT_FALSE(RunStandardMatrix(options).ok());
}

TEST(Matrix, SmallMatrixPassesOnTheRealCore) {
  MatrixOptions options;
  options.profiles = {btt::Profile::kLinux};
  options.max_ops = 2;
  auto result = RunStandardMatrix(options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->workloads, 20u * 2 * 3 * 2);
  EXPECT_TRUE(result->ok()) << result->violations << " violations";
}

}  // namespace
}  // namespace tearproof::harness
