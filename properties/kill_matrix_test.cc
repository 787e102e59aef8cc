// The kill matrix: every property family (properties/families.h) against every seeded mutant of
// the BTT core (btt/mutant.h), compared with properties/kill_matrix.expected.
//
// Invariants checked:
//   - the expected matrix names every family (in order) and every mutant once, plus `none`;
//   - every family kills at least one mutant (a family that kills nothing is a defect) and the
//     unmutated core in the mutant build (`none`) passes every family (no false alarm);
//   - for each mutant, the actual row equals the expected row: a lost kill is a loss of power of
//     the suites, a new kill means the table and docs/testing.md must be updated;
//   - a kill replays bit for bit (same seed, same counterexample).
// Each family runs with a fixed seed, kKillCases cases, max_size 100 and no shrinking (the first
// failing case is the kill), so the matrix is deterministic. TEARPROOF_KILL_CASES overrides the
// case count for exploration (the expected matrix holds for the default only).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "btt/layout.h"
#include "btt/mutant.h"
#include "properties/bad_input_case.h"
#include "properties/concurrent_case.h"
#include "properties/crash_case.h"
#include "properties/families.h"
#include "properties/format_case.h"
#include "traces/minimize.h"
#include "traces/replay.h"
#include "traces/trace.h"

namespace tearproof::properties {
namespace {

static_assert(btt::kMutantsCompiledIn, "the kill matrix needs the mutant build of the core");

constexpr uint64_t kKillSeed = 20261126;
constexpr int kKillCases = 100;

struct Matrix {
  std::vector<std::string> families;              // column order
  std::map<std::string, std::vector<bool>> rows;  // mutant -> killed per family
  std::vector<std::string> order;                 // mutants in file order
};

// "mutant <family>..." header, then "<mutant> kill|- ..." rows; '#' starts a comment.
Matrix ParseMatrix(const std::string& text) {
  Matrix m;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::vector<std::string> words;
    for (std::string w; fields >> w;) words.push_back(w);
    if (words.empty()) continue;
    if (m.families.empty()) {
      EXPECT_EQ(words[0], "mutant") << "line " << number << ": the header comes first";
      m.families.assign(words.begin() + 1, words.end());
      continue;
    }
    EXPECT_EQ(words.size(), m.families.size() + 1) << "line " << number;
    EXPECT_FALSE(m.rows.count(words[0])) << "line " << number << ": duplicate " << words[0];
    std::vector<bool>& row = m.rows[words[0]];
    m.order.push_back(words[0]);
    for (size_t i = 1; i < words.size(); ++i) {
      EXPECT_TRUE(words[i] == "kill" || words[i] == "-") << "line " << number << ": " << words[i];
      row.push_back(words[i] == "kill");
    }
  }
  return m;
}

const Matrix& Expected() {
  static const Matrix m = [] {
    std::ifstream in(TEARPROOF_KILL_MATRIX_EXPECTED);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_TRUE(in.good() || in.eof()) << "cannot read " << TEARPROOF_KILL_MATRIX_EXPECTED;
    return ParseMatrix(text.str());
  }();
  return m;
}

int KillCases() {
  const char* env = std::getenv("TEARPROOF_KILL_CASES");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : kKillCases;
}

rc::detail::TestParams KillParams() {
  rc::detail::TestParams params;
  params.seed = kKillSeed;
  params.maxSuccess = KillCases();
  params.maxSize = kMaxSize;
  params.disableShrinking = true;
  return params;
}

// Restores kNone however the test ends.
class ScopedMutant {
 public:
  explicit ScopedMutant(btt::Mutant m) { btt::SetMutant(m); }
  ~ScopedMutant() { btt::SetMutant(btt::Mutant::kNone); }
  ScopedMutant(const ScopedMutant&) = delete;
  ScopedMutant& operator=(const ScopedMutant&) = delete;
};

// The message of the check that fired, on one line (RapidCheck's description is
// "file:line:\nRC_FAIL(...)\n\n<message>").
std::string FailureLine(const rc::detail::TestResult& result) {
  rc::detail::FailureResult failure;
  if (!result.match(failure)) return "";
  std::string d = failure.description;
  const size_t blank = d.find("\n\n");
  if (blank != std::string::npos) d = d.substr(blank + 2);
  for (char& c : d) {
    if (c == '\n') c = ' ';
  }
  return d;
}

// The gtest parameter name of a row: "seq-skips" -> "seq_skips".
std::string TestSuffix(std::string name) {
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

std::vector<std::string> RowNames() {
  std::vector<std::string> names = {"none"};
  for (btt::Mutant m : btt::AllMutants()) names.emplace_back(btt::MutantName(m));
  return names;
}

TEST(KillMatrix, ExpectedTableNamesEveryFamilyAndMutantAndEveryFamilyKills) {
  const Matrix& m = Expected();
  std::vector<std::string> families;
  for (const Family& f : AllFamilies()) families.emplace_back(f.name);
  EXPECT_EQ(m.families, families);
  EXPECT_EQ(m.order, RowNames()) << "one row per mutant, `none` first, in btt/mutant.h order";
  ASSERT_TRUE(m.rows.count("none"));
  for (size_t f = 0; f < m.families.size(); ++f) {
    bool kills = false;
    for (const auto& [mutant, row] : m.rows) kills = kills || (f < row.size() && row[f]);
    EXPECT_TRUE(kills) << "family " << m.families[f] << " kills no mutant: a defect";
    EXPECT_FALSE(f < m.rows.at("none").size() && m.rows.at("none")[f])
        << "family " << m.families[f] << " fails on the unmutated core";
  }
}

class KillRow : public ::testing::TestWithParam<std::string> {};

TEST_P(KillRow, MatchesTheExpectedKillMatrix) {
  const std::string name = GetParam();
  const std::optional<btt::Mutant> mutant = btt::ParseMutant(name);
  ASSERT_TRUE(mutant.has_value()) << name;
  const Matrix& expected = Expected();
  ASSERT_TRUE(expected.rows.count(name)) << name << " has no row in the expected matrix";
  const std::vector<bool>& want = expected.rows.at(name);
  ASSERT_EQ(want.size(), AllFamilies().size());
  ScopedMutant scoped(*mutant);
  std::string actual_row = name;
  for (size_t i = 0; i < AllFamilies().size(); ++i) {
    const Family& family = AllFamilies()[i];
    const rc::detail::TestResult result = RunFamily(family, KillParams(), /*quiet=*/true);
    rc::detail::GaveUpResult gave_up;
    ASSERT_FALSE(result.match(gave_up)) << family.name << " gave up (too many discards)";
    const bool killed = !result.is<rc::detail::SuccessResult>();
    actual_row += killed ? " kill" : " -";
    std::printf("%-26s %-10s %s%s\n", name.c_str(), family.name, killed ? "kill: " : "survives",
                FailureLine(result).c_str());
    EXPECT_EQ(killed, want[i]) << family.name << " under " << name << ": "
                               << (killed ? FailureLine(result) : "survives")
                               << " [rerun: properties_kill_matrix_test --gtest_filter='*/"
                               << TestSuffix(name) << "']";
  }
  std::printf("row: %s\n", actual_row.c_str());
}

INSTANTIATE_TEST_SUITE_P(AllMutants, KillRow, ::testing::ValuesIn(RowNames()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return TestSuffix(param.param);
                         });

// Determinism: the same seed gives the same counterexample, bit for bit.
TEST(KillMatrix, AKillReplaysBitForBit) {
  ScopedMutant scoped(btt::Mutant::kDataNotPersisted);
  const Family* crash = FindFamily("crash");
  ASSERT_NE(crash, nullptr);
  const rc::detail::TestResult a = RunFamily(*crash, KillParams(), true);
  const rc::detail::TestResult b = RunFamily(*crash, KillParams(), true);
  rc::detail::FailureResult fa, fb;
  ASSERT_TRUE(a.match(fa)) << "data-not-persisted must be killed by the crash family";
  ASSERT_TRUE(b.match(fb));
  EXPECT_EQ(fa.numSuccess, fb.numSuccess);
  EXPECT_EQ(fa.description, fb.description);
  EXPECT_EQ(fa.reproduce, fb.reproduce);
}

// The concurrent family's oracle on the race the harness's concurrency test kills
// read-recheck-block-only with: lane 0 reads lba 1 (identity map entry) and is preempted between
// its two map loads while lane 1 writes lba 1 and lba 2.
TEST(KillMatrix, ConcurrentOracleCatchesTheReadRecheckRaceOnlyUnderTheMutant) {
  ConcurrentCase c;
  c.config.nfree = 2;
  c.config.namespace_bytes = btt::MinimumNamespaceSize(c.config.profile, 512, 2) + 4 * 4096;
  c.setup = {{Op::Kind::kWrite, 3, 1}, {Op::Kind::kWrite, 0, 2}};
  c.programs = {{{LaneOp::Kind::kRead, 1}}, {{LaneOp::Kind::kWrite, 1}, {LaneOp::Kind::kWrite, 2}}};
  c.schedule = {0, 0, 0, 1};
  auto real = RunConcurrentCase(c);
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  EXPECT_FALSE(real->violation.has_value()) << real->violation->ToString();
  ScopedMutant scoped(btt::Mutant::kReadRecheckBlockOnly);
  auto mutant = RunConcurrentCase(c);
  ASSERT_TRUE(mutant.ok()) << mutant.status().ToString();
  ASSERT_TRUE(mutant->violation.has_value()) << "schedule " << mutant->schedule;
  EXPECT_EQ(mutant->violation->check, "ORACLE-CONCURRENT-READ") << mutant->violation->ToString();
}

// The trace hook: a family's failure, shrunk by RapidCheck, becomes a tearproof trace that
// traces::Replay (= `tearproof replay`) reproduces on the mutant.
void ExpectShrunkFailureReplays(const char* family_name, btt::Mutant mutant, size_t max_ops) {
  ScopedMutant scoped(mutant);
  const Family* family = FindFamily(family_name);
  ASSERT_NE(family, nullptr);
  ASSERT_NE(family->write_trace, nullptr) << family_name << " writes no traces";
  rc::detail::TestParams params = KillParams();
  params.disableShrinking = false;
  (void)TakeLastFailedCrashCase();
  const rc::detail::TestResult result = RunFamily(*family, params, /*quiet=*/true);
  ASSERT_FALSE(result.is<rc::detail::SuccessResult>());
  const std::optional<CrashCase> shrunk = TakeLastFailedCrashCase();
  ASSERT_TRUE(shrunk.has_value());
  EXPECT_LE(shrunk->history.size(), max_ops) << ToString(shrunk->history);
  auto path = WriteCrashCaseTrace(*shrunk, ::testing::TempDir(), mutant);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  auto trace = traces::ReadTraceFile(*path);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->mutant, btt::MutantName(mutant));
  auto replay = traces::Replay(*trace);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->violated());
  EXPECT_TRUE(replay->matches_expectation);
  std::printf("%s: trace %s replays %s\n", family_name, path->c_str(), trace->expect.check.c_str());
}

TEST(KillMatrix, AShrunkCrashFailureBecomesATraceThatReplays) {
  ExpectShrunkFailureReplays("crash", btt::Mutant::kDataNotPersisted, 2);  // one or two ops
}

// The model family's failing command sequence (its write / zero / error ops) is explored.
TEST(KillMatrix, AShrunkModelFailureBecomesATraceThatReplays) {
  ExpectShrunkFailureReplays("model", btt::Mutant::kDataNotPersisted, 3);
}

// The concurrent family's shrunk failure becomes a trace with concurrent lanes that replays.
TEST(KillMatrix, AShrunkConcurrentFailureBecomesATraceThatReplays) {
  const btt::Mutant mutant = btt::Mutant::kDataNotPersisted;
  ScopedMutant scoped(mutant);
  const Family* family = FindFamily("concurrent");
  ASSERT_NE(family, nullptr);
  rc::detail::TestParams params = KillParams();
  params.disableShrinking = false;
  (void)TakeLastFailedConcurrentCase();
  const rc::detail::TestResult result = RunFamily(*family, params, /*quiet=*/true);
  ASSERT_FALSE(result.is<rc::detail::SuccessResult>());
  const std::optional<FailedConcurrentCase> shrunk = TakeLastFailedConcurrentCase();
  ASSERT_TRUE(shrunk.has_value());
  EXPECT_GE(shrunk->c.programs.size(), 2u);
  auto path = WriteConcurrentCaseTrace(*shrunk, ::testing::TempDir(), mutant);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  auto trace = traces::ReadTraceFile(*path);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->mutant, btt::MutantName(mutant));
  auto replay = traces::Replay(*trace);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->violated());
  EXPECT_TRUE(replay->matches_expectation);
  std::printf("concurrent: trace %s (schedule taken %s) replays %s\n", path->c_str(),
              shrunk->schedule_taken.c_str(), trace->expect.check.c_str());
}

// The format family's shrunk failure (an interrupted format) becomes a trace that crashes
// inside format and replays.
TEST(KillMatrix, AShrunkFormatFailureBecomesATraceThatReplays) {
  const btt::Mutant mutant = btt::Mutant::kInfoPrimaryFirst;
  ScopedMutant scoped(mutant);
  const Family* family = FindFamily("format");
  ASSERT_NE(family, nullptr);
  rc::detail::TestParams params = KillParams();
  params.disableShrinking = false;
  (void)TakeLastFailedFormatCase();
  const rc::detail::TestResult result = RunFamily(*family, params, /*quiet=*/true);
  ASSERT_FALSE(result.is<rc::detail::SuccessResult>());
  const std::optional<FailedFormatCase> shrunk = TakeLastFailedFormatCase();
  ASSERT_TRUE(shrunk.has_value());
  EXPECT_TRUE(shrunk->interrupted);
  auto path = WriteFormatCaseTrace(*shrunk, ::testing::TempDir(), mutant);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  auto trace = traces::ReadTraceFile(*path);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->mutant, btt::MutantName(mutant));
  auto replay = traces::Replay(*trace);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->violated());
  EXPECT_TRUE(replay->matches_expectation);
  std::printf("format: trace %s replays %s\n", path->c_str(), trace->expect.check.c_str());
}

// RapidCheck's shrunk counterexample of `family` under the mutant in effect (`take` is the
// family's TakeLastFailed...Case), or std::nullopt after an ADD_FAILURE when the family passes.
template <typename Case>
std::optional<Case> ShrunkFailure(const char* family_name, std::optional<Case> (*take)()) {
  const Family* family = FindFamily(family_name);
  if (family == nullptr) {
    ADD_FAILURE() << "no family " << family_name;
    return std::nullopt;
  }
  rc::detail::TestParams params = KillParams();
  params.disableShrinking = false;
  (void)take();
  const rc::detail::TestResult result = RunFamily(*family, params, /*quiet=*/true);
  if (result.is<rc::detail::SuccessResult>()) {
    ADD_FAILURE() << family_name << " passes: nothing to shrink";
    return std::nullopt;
  }
  std::optional<Case> shrunk = take();
  if (!shrunk) ADD_FAILURE() << family_name << " failed without remembering its case";
  return shrunk;
}

// The bad-input family's shrunk failure becomes a bad-input trace (format version 2: workload,
// byte patches, expected check) that replays on the mutant, minimizes, and passes on the real
// core. The mutant is recover-roll-back: a stale map entry that is exactly a lost map store must
// be rolled forward, and the mutant leaves it on the old block (PROP-BAD-UNTOUCHED), so the kill
// comes from the corruption itself, not from the baseline. With $TEARPROOF_TRACE_DIR set the
// trace is written there (traces/regenerate.sh stores it as
// traces/bad_input/recover-roll-back.jsonl).
TEST(KillMatrix, AShrunkBadInputFailureBecomesATraceThatReplays) {
  const btt::Mutant mutant = btt::Mutant::kRecoverRollBack;
  ScopedMutant scoped(mutant);
  const std::optional<FailedBadInputCase> shrunk =
      ShrunkFailure("bad-input", &TakeLastFailedBadInputCase);
  ASSERT_TRUE(shrunk.has_value());
  EXPECT_EQ(shrunk->violation.check, "PROP-BAD-UNTOUCHED") << shrunk->violation.ToString();
  // Shrunk: a write to commit a flog slot and one to show the roll-back, one stale map entry.
  EXPECT_LE(shrunk->c.ops.size(), 2u) << ToString(shrunk->c.ops);
  EXPECT_EQ(shrunk->c.patches.size(), 1u);
  const char* env = std::getenv("TEARPROOF_TRACE_DIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : ::testing::TempDir();
  auto path = WriteBadInputCaseTrace(*shrunk, dir, mutant);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  auto trace = traces::ReadTraceFile(*path);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->kind, traces::TraceKind::kBadInput);
  EXPECT_EQ(trace->mutant, btt::MutantName(mutant));
  auto replay = traces::Replay(*trace);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->violated());
  EXPECT_TRUE(replay->matches_expectation) << traces::FormatTimeline(*trace, *replay);
  std::printf("bad-input: trace %s replays %s\n%s", path->c_str(), trace->expect.check.c_str(),
              traces::FormatTimeline(*trace, *replay).c_str());
  // --minimize keeps the check and never grows the case.
  traces::MinimizeStats stats;
  auto minimized = traces::Minimize(*trace, {}, &stats);
  ASSERT_TRUE(minimized.ok()) << minimized.status().ToString();
  EXPECT_LE(minimized->bad_input.ops.size(), trace->bad_input.ops.size());
  EXPECT_LE(minimized->bad_input.patches.size(), trace->bad_input.patches.size());
  auto replay_minimized = traces::Replay(*minimized);
  ASSERT_TRUE(replay_minimized.ok()) << replay_minimized.status().ToString();
  EXPECT_TRUE(replay_minimized->matches_expectation);
  // The mutant, not the case, is the bug: the real core passes the same trace.
  trace->mutant = "none";
  auto real = traces::Replay(*trace);
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  EXPECT_FALSE(real->violated()) << traces::FormatTimeline(*trace, *real);
}

}  // namespace
}  // namespace tearproof::properties
