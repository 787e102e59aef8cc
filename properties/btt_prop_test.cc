// The BTT property families (properties/families.h) against the production core, one gtest per
// family (suite BttProp; ctest label `prop`, deep runs `prop;slow`). Each test prints the
// RapidCheck parameters it ran with; a failure prints the shrunk counterexample — the generated
// device, history, crash points and crash choices — and the RC_PARAMS string that replays it.
// docs/testing.md explains seeds, budgets and how to reproduce a red run.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "btt/mutant.h"
#include "properties/families.h"

namespace tearproof::properties {
namespace {

static_assert(!btt::kMutantsCompiledIn, "properties_test must test the production core");

std::string ReplayCommand(const Family& family) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::string("properties_test") : self.string()) + " --gtest_filter=BttProp." +
         family.test_name;
}

void ExpectFamilyHolds(const char* name) {
  const Family* family = FindFamily(name);
  ASSERT_NE(family, nullptr) << name;
  const rc::detail::TestParams params = ParamsFromEnvironment(*family);
  std::printf("family %s: RC_PARAMS=\"seed=%llu max_success=%d max_size=%d%s\"\n", family->name,
              static_cast<unsigned long long>(params.seed), params.maxSuccess, params.maxSize,
              params.disableShrinking ? " noshrink=1" : "");
  const rc::detail::TestResult result = RunFamily(*family, params, /*quiet=*/false);
  rc::detail::SuccessResult success;
  if (result.match(success)) {
    rc::detail::printResultMessage(result, std::cout);
    std::cout << std::endl;
    return;
  }
  ADD_FAILURE() << FailureReport(*family, result, ReplayCommand(*family))
                << (family->write_trace != nullptr ? family->write_trace() : std::string());
}

TEST(BttProp, ModelMatchesTheReferenceSectorsUnderRandomCommands) { ExpectFamilyHolds("model"); }
TEST(BttProp, EveryCrashRecoversToOldOrNewPerLba) { ExpectFamilyHolds("crash"); }
TEST(BttProp, RecoveryIsIdempotentAndReadOnlyOpenEqualsRecovery) { ExpectFamilyHolds("recovery"); }
TEST(BttProp, FormatOpenRoundTripsAndInterruptedFormatIsNeverHalfValid) {
  ExpectFamilyHolds("format");
}
TEST(BttProp, CorruptMetadataGivesAClearErrorOrACorrectRecovery) { ExpectFamilyHolds("bad-input"); }
TEST(BttProp, InterleavedLanesReadWholeValuesAndSurviveACrash) { ExpectFamilyHolds("concurrent"); }

// Each family's test_name is the gtest above that runs it: the replay command relies on it.
TEST(BttProp, EveryFamilyHasItsOwnTest) {
  const ::testing::TestSuite* suite = nullptr;
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    if (std::string(unit.GetTestSuite(i)->name()) == "BttProp") suite = unit.GetTestSuite(i);
  }
  ASSERT_NE(suite, nullptr);
  for (const Family& f : AllFamilies()) {
    bool found = false;
    for (int i = 0; i < suite->total_test_count(); ++i) {
      found = found || std::string(suite->GetTestInfo(i)->name()) == f.test_name;
    }
    EXPECT_TRUE(found) << f.name << " has no test BttProp." << f.test_name;
    EXPECT_EQ(FindFamily(f.name), &f);
  }
}

}  // namespace
}  // namespace tearproof::properties
