// The seeded-bug proof of the model/code conformance check (docs/model.md §"Conformance"):
// the mutant build of the core (btt/mutant.h, tearproof_btt_mutants) run through the same
// scenario as the production core.
//
// Invariants checked: every core mutant that changes what the core stores, flushes, fences or
// where (map-before-flog, flog-half-b-first, data-not-persisted, zero-not-persisted, the slot,
// seq, free-block and recovery mutants) is reported as not conforming to the real protocol's
// model; the mutants outside the model's scope (format, reads, read-only open) are not; the mutant
// build without a mutant conforms; and the two core mutants that drop a persist conform exactly
// to the model mutants that drop the same persist, so the model's mutants are the code's.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "btt/mutant.h"
#include "model/conformance.h"

namespace tearproof::model {
namespace {

// Resets the process-wide mutant selection when a test ends.
class MutantScope {
 public:
  ~MutantScope() { btt::SetMutant(btt::Mutant::kNone); }
};

Result<ConformanceReport> RunWithCoreMutant(btt::Mutant mutant, Mutant model_program) {
  MutantScope scope;
  ConformanceScenario sc = StandardConformanceScenario(btt::Profile::kLinux, 512);
  sc.model_program = model_program;
  sc.after_format = [mutant] { btt::SetMutant(mutant); };
  return CheckConformance(sc);
}

// Every core mutant and whether the conformance check must accept it (true) or report it. A new
// mutant must be added here: the test fails on a mutant it does not know.
const std::map<std::string, bool>& ExpectedConformant() {
  static const std::map<std::string, bool> kTable = {
      {"data-not-persisted", false},          // P1 persist missing
      {"flog-half-a-unfenced", false},        // no persist between the halves
      {"flog-half-b-first", false},           // B stored and persisted before A
      {"map-before-flog", false},             // P4 before P2/P3
      {"seq-not-advanced", false},            // half B's seq value
      {"seq-skips", false},                   // half B's seq value
      {"write-active-slot", false},           // the slot the halves go to
      {"recover-older-slot", false},          // open fails: a padding slot trusted as newer
      {"recover-roll-back", false},           // recovery rolls nothing forward
      {"recover-skip-old-map-check", false},  // recovery rolls the stale lane 0 forward too
      {"recover-unmasked", false},            // recovery misses the flagged entry
      {"free-not-replaced", false},           // the next write's data block
      {"map-without-flags", false},           // P4's value (flags 00)
      {"zero-not-persisted", false},          // the zero's persist missing
      {"flog-layout-zero-two", false},        // half stores to slot 2
      // Outside the model: format (runs before the mutant is selected here), reads and the
      // read-only open are not part of the modelled protocol.
      {"info-primary-first", true},
      {"read-only-writes-recovery", true},
      {"read-recheck-block-only", true},
  };
  return kTable;
}

TEST(ModelConformanceMutant, TheMutantBuildWithoutAMutantConforms) {
  auto report = RunWithCoreMutant(btt::Mutant::kNone, Mutant::kNone);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->ToString();
}

TEST(ModelConformanceMutant, EveryCoreMutantIsJudgedAsExpected) {
  for (btt::Mutant mutant : btt::AllMutants()) {
    const std::string name(btt::MutantName(mutant));
    const auto it = ExpectedConformant().find(name);
    ASSERT_NE(it, ExpectedConformant().end()) << "no conformance expectation for mutant " << name;
    auto report = RunWithCoreMutant(mutant, Mutant::kNone);
    ASSERT_TRUE(report.ok()) << name << ": " << report.status().ToString();
    EXPECT_EQ(report->ok(), it->second) << name << "\n" << report->ToString();
    if (!report->ok()) {  // the kill line: where the core first left the model's sequence
      const ConformanceMismatch& m = report->mismatches.front();
      auto at = [&](const std::vector<std::string>& v) {
        return m.first_difference < v.size() ? v[m.first_difference] : std::string("(none)");
      };
      std::printf("%-26s %s, event %zu: model '%s', core '%s'\n", name.c_str(), m.where.c_str(),
                  m.first_difference, at(m.expected).c_str(), at(m.observed).c_str());
    }
  }
  EXPECT_EQ(btt::AllMutants().size(), ExpectedConformant().size());
}

TEST(ModelConformanceMutant, NamedOrderingMutantsAreCaughtAtTheirFirstWrite) {
  // The four ordering bugs of the brief, each reported on the scenario's first op of its kind.
  const std::map<btt::Mutant, std::string> first = {
      {btt::Mutant::kMapBeforeFlog, "op 0 (lane 0 write lba 0)"},
      {btt::Mutant::kFlogHalfBFirst, "op 0 (lane 0 write lba 0)"},
      {btt::Mutant::kDataNotPersisted, "op 0 (lane 0 write lba 0)"},
      {btt::Mutant::kZeroNotPersisted, "op 2 (lane 0 zero lba 0)"},
  };
  for (const auto& [mutant, where] : first) {
    auto report = RunWithCoreMutant(mutant, Mutant::kNone);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_FALSE(report->ok()) << btt::MutantName(mutant);
    EXPECT_EQ(report->mismatches.front().where, where) << report->ToString();
  }
}

TEST(ModelConformanceMutant, PersistDroppingCoreMutantsMatchTheModelsMutants) {
  const std::pair<btt::Mutant, Mutant> pairs[] = {
      {btt::Mutant::kDataNotPersisted, Mutant::kNoDataPersist},
      {btt::Mutant::kFlogHalfAUnfenced, Mutant::kFlogHalvesUnfenced},
  };
  for (const auto& [core, model] : pairs) {
    auto report = RunWithCoreMutant(core, model);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok()) << btt::MutantName(core) << " vs " << MutantName(model) << "\n"
                              << report->ToString();
  }
}

}  // namespace
}  // namespace tearproof::model
