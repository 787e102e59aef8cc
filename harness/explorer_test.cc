// The crash explorer on the production BTT core and on the plain-pmem control.
// Invariants checked: every crash state of small workloads recovers to old-or-new sectors
// (ORACLE-ATOMIC), read-only equals read-write (ORACLE-RO-EQUALS-RW), check is clean
// (ORACLE-CHECK), recovery crashed and re-run is idempotent (ORACLE-IDEMPOTENT) — in all three
// persistency models. And the oracle can fail: a platform that loses flushes tears sectors under
// px86 and word8 (but not under eadr, where caches are persistent), and so does a pmem block
// device without BTT. Replaying one violation's crash point and resolution (ExploreConfig::
// target) reproduces it, and its timeline names the words that persisted.
#include "harness/explorer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "btt/mutant.h"
#include "harness/plain_pmem.h"

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
  for (sim::PersistencyModel model :
       {sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8}) {
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

TEST(Explorer, PlainPmemControlTearsSectorsUnderPx86AndWord8) {
  for (sim::PersistencyModel model :
       {sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8}) {
    for (uint32_t lbasize : {512u, 4096u}) {
      ExploreConfig config;
      config.device = Device::kPlainPmem;
      config.model = model;
      config.external_lbasize = lbasize;
      config.max_states_per_point = 64;
      config.ops = {{Kind::kWrite, 0}, {Kind::kWrite, 0}};
      auto result = Explore(config);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      ASSERT_FALSE(result->violations.empty()) << sim::PersistencyModelName(model);
      const Violation& v = result->violations.front();
      EXPECT_EQ(v.check, "ORACLE-ATOMIC") << Describe(*result);
      EXPECT_NE(v.detail.find("lba 0 reads [words"), std::string::npos) << v.detail;
      // The crash that tears is the first write's, before its fence.
      EXPECT_EQ(v.crash_point, 1u);
      EXPECT_EQ(v.op_in_flight, 0);
    }
  }
}

TEST(Explorer, PlainPmemControlIsAtomicOnlyWhenNothingCanBeLost) {
  // eadr: the visible state persists, and the explorer crashes between whole stores.
  ExploreConfig config;
  config.device = Device::kPlainPmem;
  config.model = sim::PersistencyModel::kEadr;
  config.ops = {{Kind::kWrite, 0}, {Kind::kZero, 0}, {Kind::kWrite, 1}, {Kind::kRead, 1}};
  auto result = Explore(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->ok()) << Describe(*result);
  config.ops = {{Kind::kWrite, PlainPmem::kSectors}};
  EXPECT_FALSE(Explore(config).ok());
}

TEST(Explorer, ReplayingAViolationsCrashStateReproducesIt) {
  ExploreConfig config;
  config.device = Device::kPlainPmem;
  config.model = sim::PersistencyModel::kWord8;
  config.ops = {{Kind::kWrite, 1}};
  config.max_states_per_point = 64;
  auto explored = Explore(config);
  ASSERT_TRUE(explored.ok());
  ASSERT_FALSE(explored->violations.empty());
  const Violation& v = explored->violations.front();
  ASSERT_FALSE(v.resolution.empty());

  config.target = CrashTarget{v.crash_point, v.resolution};
  auto replayed = Explore(config);
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  ASSERT_EQ(replayed->violations.size(), 1u) << Describe(*replayed);
  EXPECT_EQ(replayed->violations.front().check, v.check);
  EXPECT_EQ(replayed->violations.front().detail, v.detail);
  EXPECT_EQ(replayed->stats.states_checked, 1u);
  ASSERT_TRUE(replayed->timeline.has_value());
  const CrashTimeline& t = *replayed->timeline;
  EXPECT_TRUE(t.reached);
  EXPECT_EQ(t.crash_point, v.crash_point);
  EXPECT_EQ(t.op_in_flight, 0);
  EXPECT_EQ(t.unused_choices, 0u);
  EXPECT_EQ(t.diverged_choices, 0u);
  ASSERT_EQ(t.ops.size(), 1u);
  EXPECT_EQ(t.ops[0].write_id, 1u);
  ASSERT_EQ(t.pending.size(), 1u);  // the sector's memcpy
  EXPECT_EQ(t.pending[0].op, 0);
  ASSERT_EQ(t.words.size(), v.resolution.size());
  uint64_t persisted = 0;
  for (const CrashTimeline::ResolvedWord& w : t.words) {
    if (w.choice.index == 0) {
      EXPECT_EQ(w.value, w.guaranteed);
      EXPECT_EQ(w.store_event, -1);
    } else {
      ++persisted;
      EXPECT_EQ(DescribeWord(w.value).rfind("write 1 of lba 1 word ", 0), 0u) << w.value;
      EXPECT_EQ(w.store_event, static_cast<int64_t>(t.pending[0].event.seq));
      EXPECT_EQ(w.store_op, 0);
    }
  }
  EXPECT_GT(persisted, 0u);
  ASSERT_EQ(t.sectors.size(), 1u);
  EXPECT_EQ(t.sectors[0].verdict, "torn");

  // Nothing persisted: the guaranteed (old, zero) sector, which the oracle accepts.
  config.target = CrashTarget{v.crash_point, {}};
  auto clean = Explore(config);
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->violations.empty()) << Describe(*clean);
  ASSERT_EQ(clean->timeline->sectors.size(), 1u);
  EXPECT_EQ(clean->timeline->sectors[0].verdict, "ok");

  // A crash point past the end is reported as not reached, not as a pass of some other point.
  config.target = CrashTarget{1000, {}};
  auto missing = Explore(config);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->timeline->reached);
  EXPECT_EQ(missing->timeline->crash_points_total, 2u);
}

TEST(Explorer, OnlyCheckRecordsOnlyThatCheck) {
  ExploreConfig config;
  config.device = Device::kPlainPmem;
  config.ops = {{Kind::kWrite, 0}};
  config.only_check = "ORACLE-CHECK";
  // Every resolution of the torn sector is a violation of another check; a few show the filter
  // (the full 2^14 per point took 20 s under ASan).
  config.max_states_per_point = 64;
  auto result = Explore(config);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->violations.empty()) << Describe(*result);
}

TEST(Explorer, ReadsOfTheRealCoreReturnTheLastCompletedValue) {
  ExploreConfig config;
  config.ops = {
      {Kind::kRead, 0}, {Kind::kWrite, 0}, {Kind::kRead, 0}, {Kind::kZero, 0}, {Kind::kRead, 0}};
  auto result = Explore(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->ok()) << Describe(*result);
}

TEST(Explorer, BadLaneOptionsAndMutantsAreRejectedHere) {
  ExploreConfig config;
  config.ops = {{Kind::kWrite, 0}};
  config.schedule = {0};  // a schedule needs a second lane
  EXPECT_FALSE(Explore(config).ok());
  config.schedule.clear();
  config.preemption_bound = 1;
  EXPECT_FALSE(Explore(config).ok());
  config.other_lanes = {{{Kind::kWrite, 1}}};
  config.schedule = {0, 1};  // a bound and a schedule
  EXPECT_FALSE(Explore(config).ok());
  config.preemption_bound.reset();
  config.schedule = {0, 2};  // no lane 2
  EXPECT_FALSE(Explore(config).ok());
  config.schedule.clear();
  config.other_lanes.assign(kMaxExploreLanes, {{Kind::kWrite, 1}});
  EXPECT_FALSE(Explore(config).ok());
  config.other_lanes.clear();
  config.mutant = btt::Mutant::kSeqSkips;
  auto mutant = Explore(config);
  ASSERT_FALSE(mutant.ok());
  EXPECT_NE(mutant.status().message().find("tearproof-mutants"), std::string::npos);
  EXPECT_FALSE(MutantsCompiledIn());
  EXPECT_FALSE(MutantByName("seq-skips").ok());
  EXPECT_EQ(*MutantByName("none"), btt::Mutant::kNone);
}

// Concurrent crash exploration: every schedule within one preemption, every crash point of each
// interleaved execution, the full oracle. The real core passes; the schedules and crash points
// are really explored (more executions than one, crash points charged to both lanes).
TEST(Explorer, RealCoreIsAtomicUnderInterleavedLanesWithCrashes) {
  for (sim::PersistencyModel model :
       {sim::PersistencyModel::kPx86, sim::PersistencyModel::kWord8}) {
    ExploreConfig config;
    config.model = model;
    config.nfree = 2;
    config.ops = {{Kind::kWrite, 0}, {Kind::kWrite, 1}};
    config.other_lanes = {{{Kind::kWrite, 1}, {Kind::kRead, 0}}};
    config.preemption_bound = 1;
    auto result = Explore(config);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->ok()) << (result->violations.empty() ? "incomplete"
                                                             : result->violations[0].detail);
    EXPECT_GT(result->stats.executions, 2u);
    EXPECT_GT(result->stats.crash_points, result->stats.executions * 4);
  }
}

// Same config, same exploration: statistics and the replay of one schedule are bit-identical.
TEST(Explorer, ConcurrentExplorationIsDeterministic) {
  ExploreConfig config;
  config.nfree = 2;
  config.ops = {{Kind::kWrite, 0}, {Kind::kZero, 0}};
  config.other_lanes = {{{Kind::kWrite, 0}}};
  config.preemption_bound = 1;
  auto a = Explore(config);
  auto b = Explore(config);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->stats.executions, b->stats.executions);
  EXPECT_EQ(a->stats.crash_points, b->stats.crash_points);
  EXPECT_EQ(a->stats.states_checked, b->stats.states_checked);
  EXPECT_EQ(a->stats.events, b->stats.events);
}

// The oracle can fail under interleaving: with every flush lost, crashes of interleaved lanes
// show torn sectors, and the violation carries the schedule that replays it.
TEST(Explorer, LostFlushesTearSectorsOfInterleavedLanesAndTheScheduleReplaysIt) {
  ExploreConfig config;
  config.nfree = 2;
  config.workload_flush = FlushKind::kNone;
  config.max_states_per_point = 64;
  config.ops = {{Kind::kWrite, 0}};
  config.other_lanes = {{{Kind::kWrite, 1}}};
  config.preemption_bound = 1;
  config.stop_at_first_violation = true;
  auto result = Explore(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_FALSE(result->violations.empty());
  const Violation& v = result->violations[0];
  EXPECT_FALSE(v.schedule.empty());
  // Deterministic: a second exploration finds the same violation, schedule and crash state.
  auto second = Explore(config);
  ASSERT_TRUE(second.ok() && !second->violations.empty());
  const Violation& w2 = second->violations[0];
  EXPECT_EQ(w2.schedule, v.schedule);
  EXPECT_EQ(w2.crash_point, v.crash_point);
  EXPECT_EQ(w2.detail, v.detail);
  ASSERT_EQ(w2.resolution.size(), v.resolution.size());
  for (size_t i = 0; i < v.resolution.size(); ++i) {
    EXPECT_EQ(w2.resolution[i].word_addr, v.resolution[i].word_addr);
    EXPECT_EQ(w2.resolution[i].index, v.resolution[i].index);
  }
  ExploreConfig replay = config;
  replay.preemption_bound.reset();
  replay.stop_at_first_violation = false;
  replay.schedule = v.schedule;
  replay.target = CrashTarget{v.crash_point, v.resolution};
  auto again = Explore(replay);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE(again->timeline.has_value());
  EXPECT_TRUE(again->timeline->reached);
  bool same_check = false;
  for (const Violation& w : again->violations) same_check |= w.check == v.check;
  EXPECT_TRUE(same_check) << v.check;
  ASSERT_EQ(again->timeline->ops.size(), 2u);
  EXPECT_EQ(again->timeline->ops[1].lane, 1u);
}

// Crashes inside format: at every fence of format, open refuses the medium or opens a
// consistent all-zero BTT (ORACLE-FORMAT), and the points are really explored. px86 and eadr
// only: under word8 the 64 words of an info block store persist independently and open reads
// them all, which is more states per point than the bound (docs/explorer.md).
TEST(Explorer, RealCoreFormatCrashesRefuseOrOpenAnEmptyBtt) {
  for (btt::Profile profile : {btt::Profile::kLinux, btt::Profile::kUefi}) {
    for (sim::PersistencyModel model :
         {sim::PersistencyModel::kPx86, sim::PersistencyModel::kEadr}) {
      ExploreConfig config;
      config.profile = profile;
      config.model = model;
      config.nfree = 2;
      config.ops = {{Kind::kWrite, 0}};
      config.crash_in_format = true;
      auto with = Explore(config);
      ASSERT_TRUE(with.ok()) << with.status().ToString();
      EXPECT_TRUE(with->ok()) << (with->violations.empty() ? "incomplete"
                                                           : with->violations[0].detail);
      config.crash_in_format = false;
      auto without = Explore(config);
      ASSERT_TRUE(without.ok());
      EXPECT_GT(with->stats.crash_points, without->stats.crash_points + 3);
    }
  }
  ExploreConfig plain;
  plain.device = Device::kPlainPmem;
  plain.crash_in_format = true;
  EXPECT_FALSE(Explore(plain).ok());  // nothing to format
}

TEST(Explorer, DescribeSectorNamesTheSourceOfEveryWord) {
  std::vector<std::byte> s(32);
  const uint64_t a = SectorTag(1, 2, 0), b = SectorTag(1, 2, 1), c = SectorTag(0, 3, 2);
  std::memcpy(s.data(), &a, 8);
  std::memcpy(s.data() + 8, &b, 8);
  std::memcpy(s.data() + 16, &c, 8);
  EXPECT_EQ(DescribeSector(s), "words 0-1 write 2 of lba 1, word 2 write 3 of lba 0, word 3 zero");
  EXPECT_EQ(DescribeWord(c), "write 3 of lba 0 word 2");
  EXPECT_EQ(DescribeWord(0), "zero");
  EXPECT_EQ(DescribeWord(42), "untagged");
  EXPECT_EQ(DescribeSector({}), "");
}

TEST(Explorer, DeviceNamesRoundTrip) {
  for (Device d : {Device::kBtt, Device::kPlainPmem}) EXPECT_EQ(ParseDevice(DeviceName(d)), d);
  EXPECT_FALSE(ParseDevice("nvme").has_value());
}

}  // namespace
}  // namespace tearproof::harness
