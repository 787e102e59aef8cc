// Seeded mutants of the BTT core (btt/mutant.h) against the crash explorer.
// Invariants checked: the unmutated core (kNone) in the mutant build passes the kill sub-matrix
// (the hooks are inert when off); every mutant's verdict — killed by which ORACLE-* check, or
// SURVIVES — equals harness/mutant_kills.expected, so a loss of explorer power fails here; the
// expected table names every mutant exactly once.
#include "btt/mutant.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "harness/mutant_kills.h"

namespace tearproof::harness {
namespace {

std::map<std::string, std::string> ExpectedTable() {
  std::ifstream in(TEARPROOF_MUTANT_KILLS_EXPECTED);
  std::stringstream text;
  text << in.rdbuf();
  auto table = ParseKillTable(text.str());
  EXPECT_TRUE(in.good() || in.eof()) << "cannot read " << TEARPROOF_MUTANT_KILLS_EXPECTED;
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? *table : std::map<std::string, std::string>{};
}

std::string TestName(btt::Mutant m) {
  std::string name(btt::MutantName(m));
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

std::string Describe(btt::Mutant m, const KillResult& r) {
  std::string s = std::string(btt::MutantName(m)) + ": ";
  if (r.killed) {
    s += "killed by " + r.check + " on " + (r.concurrent ? "concurrent " : "") +
         (r.in_format ? "crashed format + " : "") + (r.aged ? "aged '" : "'") + r.workload + "' " +
         sim::PersistencyModelName(r.model) + " nfree " + std::to_string(r.nfree) +
         " at crash point " + std::to_string(r.crash_point) + " (op in flight " +
         std::to_string(r.op_in_flight) + "): " + r.detail;
  } else {
    s += "SURVIVES";
  }
  s += " [rerun: harness_mutant_test --gtest_filter='AllMutants/*/" + TestName(m) + "'; " +
       std::to_string(r.explorations) + " explorations, " + std::to_string(r.workload_errors) +
       " workload errors" +
       (r.workload_errors ? " (first: " + r.first_workload_error + ")" : std::string()) + "]";
  return s;
}

TEST(Mutants, NamesRoundTrip) {
  EXPECT_TRUE(btt::kMutantsCompiledIn);
  EXPECT_EQ(btt::ParseMutant("none"), btt::Mutant::kNone);
  for (btt::Mutant m : btt::AllMutants()) {
    EXPECT_EQ(btt::ParseMutant(btt::MutantName(m)), m) << btt::MutantName(m);
  }
  EXPECT_FALSE(btt::ParseMutant("no-such-mutant").has_value());
  EXPECT_GE(btt::AllMutants().size(), 12u);
}

TEST(Mutants, UnmutatedCorePassesTheKillMatrix) {
  KillMatrix matrix;
  matrix.stop_at_first_kill = false;
  auto r = HuntMutant(btt::Mutant::kNone, matrix);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->killed) << Describe(btt::Mutant::kNone, *r);
  EXPECT_EQ(r->violations, 0u);
  EXPECT_EQ(r->workload_errors, 0u) << r->first_workload_error;
  EXPECT_EQ(r->incomplete_points, 0u);
  // Fresh and aged phases, the concurrent case in each model, crashes in format.
  EXPECT_EQ(r->explorations,
            2u * 84 * 2 * 2 + matrix.concurrent.size() * 2 + matrix.format_models.size() * 2);
  EXPECT_EQ(btt::ActiveMutant(), btt::Mutant::kNone);
}

TEST(Mutants, KillTableNamesEveryMutantOnce) {
  const auto table = ExpectedTable();
  for (btt::Mutant m : btt::AllMutants()) {
    EXPECT_EQ(table.count(std::string(btt::MutantName(m))), 1u) << btt::MutantName(m);
  }
  EXPECT_EQ(table.size(), btt::AllMutants().size());
  EXPECT_FALSE(ParseKillTable("data-not-persisted").ok());
  EXPECT_FALSE(ParseKillTable("no-such-mutant SURVIVES").ok());
  EXPECT_FALSE(ParseKillTable("data-not-persisted KILLED").ok());
  EXPECT_FALSE(ParseKillTable("seq-skips SURVIVES\nseq-skips SURVIVES").ok());
}

class MutantKill : public ::testing::TestWithParam<btt::Mutant> {};

TEST_P(MutantKill, MatchesTheExpectedKillTable) {
  const btt::Mutant m = GetParam();
  const auto table = ExpectedTable();
  const auto it = table.find(std::string(btt::MutantName(m)));
  ASSERT_NE(it, table.end()) << btt::MutantName(m) << " missing from the kill table";
  auto r = HuntMutant(m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string description = Describe(m, *r);
  std::printf("%s\n", description.c_str());
  RecordProperty("kill", description);
  if (it->second == "SURVIVES") {
    EXPECT_FALSE(r->killed) << "a documented survivor is now killed: update "
                               "harness/mutant_kills.expected and docs/mutants.md\n"
                            << description;
  } else {
    EXPECT_TRUE(r->killed) << "the explorer no longer kills this mutant\n" << description;
    EXPECT_EQ(r->check, it->second) << description;
  }
  EXPECT_EQ(btt::ActiveMutant(), btt::Mutant::kNone);
}

INSTANTIATE_TEST_SUITE_P(AllMutants, MutantKill, ::testing::ValuesIn(btt::AllMutants()),
                         [](const auto& param_info) { return TestName(param_info.param); });

}  // namespace
}  // namespace tearproof::harness
