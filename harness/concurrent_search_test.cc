// harness::SearchConcurrent (concurrent_search.h), on the mutant build of the core:
//   - the real core passes the exhaustive part (1 preemption) and the sampled part, with lane or
//     lock contention reached, and the exhaustive enumeration runs to its end;
//   - the search can fail: the seeded mutant read-recheck-block-only (a read that re-validates
//     only the block, not the map entry) is killed with ORACLE-CONCURRENT-READ, and its schedule
//     is reported; the oracle's checks are named;
//   - same options, same result (determinism); bad options are a Status, not a crash.
#include "harness/concurrent_search.h"

#include <gtest/gtest.h>

namespace tearproof::harness {
namespace {

TEST(ConcurrentSearch, RealCorePassesAndReachesContention) {
  ConcurrentSearchOptions o;
  o.preemption_bound = 1;
  o.pct_seeds = 4;
  o.random_seeds = 4;
  auto r = SearchConcurrent(StandardConcurrentWorkloads(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_violation, "");
  EXPECT_EQ(r->first_error, "");
  EXPECT_TRUE(r->exhaustive_complete);
  EXPECT_EQ(r->workloads, StandardConcurrentWorkloads().size());
  EXPECT_GT(r->exhaustive.runs, 2 * StandardConcurrentWorkloads().size());
  EXPECT_GT(r->exhaustive.runs_with_contention + r->sampled.runs_with_contention, 0u);
  EXPECT_EQ(r->sampled.runs, 8 * StandardConcurrentWorkloads().size());
  EXPECT_LE(r->exhaustive.preemptions_max, 1u);
  EXPECT_GT(r->sampled.preemptions_max, 1u);  // PCT and random go beyond the bound
}

TEST(ConcurrentSearch, ReadRecheckBlockOnlyIsKilled) {
  ConcurrentSearchOptions o;
  o.preemption_bound = 1;
  o.pct_seeds = 8;
  o.random_seeds = 8;
  o.mutant = btt::Mutant::kReadRecheckBlockOnly;
  auto r = SearchConcurrent(StandardConcurrentWorkloads(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_NE(r->first_violation, "") << "survived " << r->exhaustive.runs + r->sampled.runs;
  EXPECT_EQ(r->violation_check, "ORACLE-CONCURRENT-READ") << r->first_violation;
  EXPECT_FALSE(r->violation_schedule.empty());
  EXPECT_FALSE(r->exhaustive_complete);  // stopped at the kill: no proof claimed
  // Determinism: the same search kills at the same place.
  auto again = SearchConcurrent(StandardConcurrentWorkloads(), o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->first_violation, r->first_violation);
  EXPECT_EQ(again->exhaustive.runs, r->exhaustive.runs);
  EXPECT_EQ(again->exhaustive.steps, r->exhaustive.steps);
}

TEST(ConcurrentSearch, BadOptionsAreAStatus) {
  ConcurrentSearchOptions o;
  o.preemption_bound = 9;
  EXPECT_FALSE(SearchConcurrent(StandardConcurrentWorkloads(), o).ok());
  o.preemption_bound = 0;
  EXPECT_FALSE(SearchConcurrent({{"", {"q1"}}}, o).ok());
  EXPECT_FALSE(SearchConcurrent({{"", {"w999999"}}}, o).ok());
}

}  // namespace
}  // namespace tearproof::harness
