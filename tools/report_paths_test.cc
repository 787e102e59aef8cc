// The `paths` phase of `tearproof prove` is a verifier too, so it must be shown to fail on a
// seeded bug (the project's rule for every check): this test runs RunRarePaths against the
// mutant build of the core. On the real core every sweep holds and every coverage counter is
// non-zero (a mark is never claimed from a zero count); on the seeded mutants the set of mutants
// the phase catches is pinned, so a judge that silently stops judging turns this test red.
#include "tools/report_paths.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "btt/mutant.h"

namespace tearproof::tools {
namespace {

struct MutantGuard {
  explicit MutantGuard(btt::Mutant m) { btt::SetMutant(m); }
  ~MutantGuard() { btt::SetMutant(btt::Mutant::kNone); }
};

TEST(RarePaths, RealCoreHoldsAndEveryPathIsCounted) {
  MutantGuard guard(btt::Mutant::kNone);
  const PathsOutcome out = RunRarePaths();
  ASSERT_EQ(out.status, "passed") << out.reason;
  ASSERT_EQ(out.section["checks"].size(), 4u);
  for (const auto& check : out.section["checks"]) {
    EXPECT_GT(check["states"].get<uint64_t>(), 1u) << check["name"];
    EXPECT_GT(check["counted"].get<uint64_t>(), 0u) << check["name"];
    EXPECT_EQ(check["problem"].get<std::string>(), "") << check["name"];
  }
}

// The phase judges only the guaranteed crash state of each point (what is surely persisted), so
// it is not meant to catch every mutant: the explorer does that. What it does catch is pinned.
TEST(RarePaths, CatchesAPinnedSetOfSeededMutants) {
  const std::set<std::string> expected = {
      "data-not-persisted", "flog-half-b-first", "map-before-flog",  "map-without-flags",
      "recover-older-slot", "recover-roll-back", "recover-unmasked", "write-active-slot"};
  std::set<std::string> caught;
  for (btt::Mutant m : btt::AllMutants()) {
    MutantGuard guard(m);
    const PathsOutcome out = RunRarePaths();
    // "error" counts too: a driving action the mutant breaks (an open that fails on the
    // image the mutant itself wrote) is the phase noticing the bug.
    if (out.status != "passed") caught.insert(std::string(btt::MutantName(m)));
  }
  EXPECT_EQ(caught, expected);
}

}  // namespace
}  // namespace tearproof::tools
