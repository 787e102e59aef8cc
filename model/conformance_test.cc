// Model/code conformance of the production BTT core (docs/model.md §"Conformance").
//
// Invariant checked: for writes, zeros, the roll-forward of a write crashed after its flog
// commit and a second recovery, the production btt::Btt (tearproof_btt, no mutant hooks) issues
// exactly the model's sequence of stores, flush+fence persists, map locks and map loads
// (model/protocol.h), on the addresses and with the values that the model's lane state and value
// rules give, in every profile and at two sector sizes. The seeded-bug proof of the check is
// conformance_mutant_test.cc; here the check is also shown to fail when the model drifts.
#include "model/conformance.h"

#include <gtest/gtest.h>

#include "btt/layout.h"

namespace tearproof::model {
namespace {

TEST(ModelConformance, ProductionCoreIssuesTheModelsEventsInEveryProfile) {
  for (btt::Profile profile : {btt::Profile::kLinux, btt::Profile::kUefi, btt::Profile::kPmemblk}) {
    for (uint32_t lbasize : {512u, 4096u}) {
      auto report = CheckConformance(StandardConformanceScenario(profile, lbasize));
      ASSERT_TRUE(report.ok()) << report.status().ToString();
      EXPECT_TRUE(report->ok()) << btt::ProfileName(profile) << " " << lbasize << "\n"
                                << report->ToString();
      // Open after format, 10 ops, the interrupted write, 2 recoveries, 3 ops after recovery;
      // 12 writes x 11 events + 2 zeros x 5 + the roll-forward's store and persist.
      EXPECT_EQ(report->sequences_checked, 17u);
      EXPECT_EQ(report->events_checked, 144u);
    }
  }
}

// The check against a model that drifted from the code: a model program without the P1 persist
// (or without the persist between the flog halves) no longer matches the production core.
TEST(ModelConformance, AModelThatDropsAPersistNoLongerConforms) {
  for (Mutant drifted : {Mutant::kNoDataPersist, Mutant::kFlogHalvesUnfenced}) {
    ConformanceScenario sc = StandardConformanceScenario(btt::Profile::kLinux, 512);
    sc.model_program = drifted;
    auto report = CheckConformance(sc);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_FALSE(report->ok()) << MutantName(drifted);
  }
}

TEST(ModelConformance, AMismatchNamesTheFirstDifferingEvent) {
  ConformanceScenario sc;
  sc.ops = {{0, OpKind::kWrite, 0}};
  sc.model_program = Mutant::kNoDataPersist;
  auto report = CheckConformance(sc);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->mismatches.size(), 1u);
  const ConformanceMismatch& m = report->mismatches.front();
  EXPECT_EQ(m.where, "op 0 (lane 0 write lba 0)");
  EXPECT_EQ(m.first_difference, 1u);
  EXPECT_EQ(m.expected.at(1), "lock");
  // The core persists the block it stored ("store data[b]" -> "persist data[b]").
  EXPECT_EQ(m.observed.at(1), "persist " + m.expected.at(0).substr(6)) << report->ToString();
}

TEST(ModelConformance, RejectsScenariosItCannotCompare) {
  ConformanceScenario sc;
  sc.ops = {{5, OpKind::kWrite, 0}};  // lane >= nfree
  EXPECT_FALSE(CheckConformance(sc).ok());
  sc.ops = {{0, OpKind::kWrite, 1u << 30}};  // lba out of range
  EXPECT_FALSE(CheckConformance(sc).ok());
  sc.ops = {};
  sc.interrupted = ConformanceOp{0, OpKind::kZero, 0};  // no flog commit to crash after
  EXPECT_FALSE(CheckConformance(sc).ok());
  sc.interrupted.reset();
  sc.model_program = Mutant::kSeqReversed;  // changes lane state, not the event sequence
  EXPECT_FALSE(CheckConformance(sc).ok());
}

}  // namespace
}  // namespace tearproof::model
