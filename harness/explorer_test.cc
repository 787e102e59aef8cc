// The crash explorer on the production BTT core.
// Invariants checked: every crash state of small workloads recovers to old-or-new sectors
// (ORACLE-ATOMIC), read-only equals read-write (ORACLE-RO-EQUALS-RW), check is clean
// (ORACLE-CHECK), recovery crashed and re-run is idempotent (ORACLE-IDEMPOTENT) — in all three
// persistency models. And the oracle can fail: a platform that loses flushes tears sectors under
// px86 and word8 (but not under eadr, where caches are persistent).
#include "harness/explorer.h"

#include <gtest/gtest.h>

#include <string>

#include "btt/mutant.h"

namespace tearproof::harness {
namespace {

// harness_test links the production core: the mutant hooks (btt/mutant.h) must be compiled out.
static_assert(!btt::kMutantsCompiledIn,
              "the production harness must not see TEARPROOF_BTT_MUTANTS");

using Kind = WorkloadOp::Kind;

std::string Describe(const ExploreResult& r) {
  std::string s;
  for (const Violation& v : r.violations) {
    s += v.check + " at crash point " + std::to_string(v.crash_point) + ": " + v.detail + "\n";
  }
  return s;
}

class ExplorerModels : public ::testing::TestWithParam<sim::PersistencyModel> {};

TEST_P(ExplorerModels, RealCoreIsAtomicOnOverwritesAndZero) {
  for (uint32_t nfree : {1u, 2u}) {
    ExploreConfig config;
    config.model = GetParam();
    config.nfree = nfree;
    config.ops = {{Kind::kWrite, 1}, {Kind::kWrite, 1}, {Kind::kZero, 1}, {Kind::kWrite, 0}};
    auto result = Explore(config);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->ok()) << Describe(*result);
    EXPECT_EQ(result->stats.incomplete_points, 0u);
    // Four ops, each with four durability points (zero has one), plus the end.
    EXPECT_GE(result->stats.crash_points, 4u * 3 + 1 + 1);
    if (GetParam() == sim::PersistencyModel::kEadr) {
      // Caches are persistent: the only crash state is the visible one.
      EXPECT_EQ(result->stats.states_checked, result->stats.crash_points);
    } else {
      EXPECT_GT(result->stats.states_checked, result->stats.crash_points);
    }
  }
}

TEST_P(ExplorerModels, RealCoreIsAtomicWith4KiBSectorsInEveryProfile) {
  for (btt::Profile profile : {btt::Profile::kLinux, btt::Profile::kUefi, btt::Profile::kPmemblk}) {
    ExploreConfig config;
    config.model = GetParam();
    config.profile = profile;
    config.external_lbasize = 4096;
    config.nfree = 2;
    config.ops = {{Kind::kWrite, 2}, {Kind::kWrite, 3}, {Kind::kWrite, 2}};
    auto result = Explore(config);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->ok()) << btt::ProfileName(profile) << "\n" << Describe(*result);
  }
}

TEST_P(ExplorerModels, RealCoreIsAtomicOnAnAgedMedium) {
  // Setup writes wrap every lane's flog slots before the explored workload starts.
  for (uint32_t nfree : {1u, 2u}) {
    ExploreConfig config;
    config.model = GetParam();
    config.nfree = nfree;
    config.setup_ops = {{Kind::kWrite, 0}, {Kind::kWrite, 1}, {Kind::kWrite, 0}, {Kind::kZero, 1}};
    config.ops = {{Kind::kWrite, 1}, {Kind::kWrite, 0}};
    bool after_setup_ran = false;
    config.after_setup = [&] { after_setup_ran = true; };
    auto result = Explore(config);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->ok()) << Describe(*result);
    EXPECT_TRUE(after_setup_ran);
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, ExplorerModels,
                         ::testing::Values(sim::PersistencyModel::kPx86,
                                           sim::PersistencyModel::kWord8,
                                           sim::PersistencyModel::kEadr),
                         [](const auto& param_info) {
                           return std::string(sim::PersistencyModelName(param_info.param));
                         });

TEST(Explorer, LostFlushesTearSectorsUnderPx86AndWord8) {
  for (sim::PersistencyModel model : {sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8}) {
    ExploreConfig config;
    config.model = model;
    config.workload_flush = FlushKind::kNone;
    config.max_states_per_point = 64;
    config.check_layout = false;
    config.crash_in_recovery = false;
    config.ops = {{Kind::kWrite, 1}, {Kind::kWrite, 1}};
    auto result = Explore(config);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_FALSE(result->violations.empty()) << sim::PersistencyModelName(model);
    bool atomic_violation = false;
    for (const Violation& v : result->violations) atomic_violation |= v.check == "ORACLE-ATOMIC";
    EXPECT_TRUE(atomic_violation) << Describe(*result);
    EXPECT_FALSE(result->violations.front().resolution.empty());
  }
}

TEST(Explorer, LostFlushesAreHarmlessUnderEadr) {
  ExploreConfig config;
  config.model = sim::PersistencyModel::kEadr;
  config.workload_flush = FlushKind::kNone;
  config.ops = {{Kind::kWrite, 1}, {Kind::kWrite, 1}};
  auto result = Explore(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->ok()) << Describe(*result);
}

TEST(Explorer, SameConfigSameStatistics) {
  ExploreConfig config;
  config.model = sim::PersistencyModel::kWord8;
  config.nfree = 2;
  config.ops = {{Kind::kWrite, 0}, {Kind::kWrite, 1}, {Kind::kWrite, 0}};
  auto a = Explore(config);
  auto b = Explore(config);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->stats.states_checked, b->stats.states_checked);
  EXPECT_EQ(a->stats.crash_points, b->stats.crash_points);
  EXPECT_EQ(a->stats.events, b->stats.events);
  EXPECT_EQ(a->stats.recovery_crash_states, b->stats.recovery_crash_states);
}

TEST(Explorer, BadWorkloadIsAClearError) {
  ExploreConfig config;
  config.ops = {{Kind::kWrite, 1ULL << 40}};
  auto result = Explore(config);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  config.ops = {};
  config.nfree = 0;
  EXPECT_FALSE(Explore(config).ok());
  config.nfree = 1;
  config.external_lbasize = 1000;  // not a kernel sector size
  EXPECT_FALSE(Explore(config).ok());
}

}  // namespace
}  // namespace tearproof::harness
