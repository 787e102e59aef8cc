// The `explore` phase of `tearproof prove` is the campaign's proof to bound, so it must be shown
// to fail on seeded bugs (the project's rule for every verifier): these tests run RunExplorePhase
// on the mutant build of the core over a one-cell matrix. On the real core every part judges
// crash states and the phase holds; a bug each part is there for fails the phase in that part,
// and the violation's recorded exploration reproduces it alone (what its trace and replay command
// are made from); an incomplete crash point is never a proof.
#include "tools/report_explore.h"

#include <gtest/gtest.h>

#include <string>

#include "btt/mutant.h"

namespace tearproof::tools {
namespace {

// One cell (linux, 512 B, px86, nfree 2): 1..2 ops over 2 LBAs, two lanes over one LBA plus the
// aged case within one preemption, format crashed at every fence.
ExploreSetup OneCell(std::vector<harness::MatrixPart> parts,
                     btt::Mutant mutant = btt::Mutant::kNone) {
  ExploreSetup setup;
  setup.matrix.mutant = mutant;
  // A mutant's exploration stops judging at its first violation (one is a kill).
  setup.matrix.stop_at_first_violation = mutant != btt::Mutant::kNone;
  setup.matrix.parts = std::move(parts);
  setup.matrix.profiles = {btt::Profile::kLinux};
  setup.matrix.sector_sizes = {512};
  setup.matrix.models = {sim::PersistencyModel::kPx86};
  setup.matrix.nfrees = {2};
  setup.matrix.lbas = 2;
  setup.matrix.max_ops = 2;
  setup.matrix.concurrent_lbas = 1;
  setup.matrix.preemption_bound = 1;
  setup.format_models = {sim::PersistencyModel::kPx86};
  return setup;
}

const std::vector<harness::MatrixPart> kAllParts = {
    harness::MatrixPart::kSequential, harness::MatrixPart::kConcurrent,
    harness::MatrixPart::kFormat};

TEST(ExplorePhase, RealCoreHoldsAndEveryPartJudgesCrashStates) {
  const ExploreSetup setup = OneCell(kAllParts);
  uint64_t last_done = 0;
  const ExploreOutcome out =
      RunExplorePhase(setup, [&](uint64_t done, const std::string&) { last_done = done; });
  ASSERT_EQ(out.status, "passed") << out.reason;
  EXPECT_TRUE(out.violations.empty());
  EXPECT_EQ(last_done, ExplorePlanned(setup));
  ASSERT_EQ(out.section["parts"].size(), 3u);
  ASSERT_EQ(out.section["configurations"].size(), 3u);
  for (const auto& part : out.section["parts"]) {
    EXPECT_GT(part["states_checked"].get<uint64_t>(), 0u) << part["part"];
    EXPECT_EQ(part["violations"].get<uint64_t>(), 0u) << part["part"];
  }
  EXPECT_EQ(out.section["totals"]["workloads"].get<uint64_t>(), ExplorePlanned(setup));
}

// Each part catches the bug it is there for; the violation's exploration, run alone (as its
// trace and replay command run it), finds it again.
TEST(ExplorePhase, EachPartCatchesItsBugAndTheViolationReproducesAlone) {
  struct Case {
    harness::MatrixPart part;
    btt::Mutant mutant;
  };
  for (const Case& c : {Case{harness::MatrixPart::kSequential, btt::Mutant::kDataNotPersisted},
                        Case{harness::MatrixPart::kConcurrent, btt::Mutant::kReadRecheckBlockOnly},
                        Case{harness::MatrixPart::kFormat, btt::Mutant::kInfoPrimaryFirst}}) {
    const std::string name(btt::MutantName(c.mutant));
    const ExploreOutcome out = RunExplorePhase(OneCell({c.part}, c.mutant));
    ASSERT_EQ(out.status, "failed") << name;
    ASSERT_FALSE(out.violations.empty()) << name;
    const std::string part = harness::MatrixPartName(c.part);
    EXPECT_EQ(out.section["parts"][0]["part"], part) << name;
    EXPECT_EQ(out.section["parts"][0]["violations"].get<uint64_t>(),
              out.section["totals"]["violations"].get<uint64_t>());
    EXPECT_GT(out.section["totals"]["violations"].get<uint64_t>(), 0u) << name;
    const ExploreViolation& v = out.violations.front();
    EXPECT_EQ(v.configuration.rfind(part + " ", 0), 0u) << v.configuration;
    auto again = harness::Explore(v.config);
    ASSERT_TRUE(again.ok()) << name << ": " << again.status().ToString();
    EXPECT_FALSE(again->violations.empty()) << name << " does not reproduce from its config";
  }
}

// A crash point that hits max_states_per_point is not a proof: word8 crashes inside format have
// 2^16 and more states per point.
TEST(ExplorePhase, AnIncompleteCrashPointFailsThePhase) {
  ExploreSetup setup = OneCell({harness::MatrixPart::kFormat});
  setup.matrix.models = {sim::PersistencyModel::kWord8};
  setup.format_models = {sim::PersistencyModel::kWord8};
  setup.matrix.format_max_states_per_point = 16;
  const ExploreOutcome out = RunExplorePhase(setup);
  EXPECT_EQ(out.status, "failed");
  EXPECT_NE(out.reason.find("incomplete"), std::string::npos) << out.reason;
  EXPECT_GT(out.section["totals"]["incomplete_points"].get<uint64_t>(), 0u);
}

// A cell outside format_models runs no format part.
TEST(ExplorePhase, FormatRunsOnlyInTheFormatModels) {
  ExploreSetup setup = OneCell({harness::MatrixPart::kFormat});
  setup.format_models = {sim::PersistencyModel::kEadr};
  EXPECT_EQ(ExplorePlanned(setup), 0u);
}

}  // namespace
}  // namespace tearproof::tools
