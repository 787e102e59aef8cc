// The RapidCheck property families of the BTT core (issue 5), and how they are run.
//
// A family is one RapidCheck property: a function that generates its whole case with `*gen`
// (generators.h), runs it on the simulated medium (sim_device.h) and asserts with RC_* only
// after the simulation has returned. docs/testing.md describes each family, its checks and its
// budget. The same sources are compiled twice: against the production core
// (tearproof_properties, for properties_test) and against the mutant build
// (tearproof_properties_mutants, for the kill matrix).
//
// Seeds and budgets: RunFamily takes explicit RapidCheck parameters; ParamsFromEnvironment
// derives them from RC_PARAMS (seed, noshrink, max_size capped at 100, max_success when named)
// with the family's own default case count otherwise. Not thread-safe (RapidCheck's generators
// and the simulator are not).
#pragma once

#include <rapidcheck.h>

#include <string>
#include <string_view>
#include <vector>

namespace tearproof::properties {

struct Family {
  const char* name;       // "model", "crash", ...: the kill matrix's column names
  const char* test_name;  // the gtest test (suite BttProp) that runs it in ctest
  int default_cases;      // max_success of a default (`prop`, not `slow`) run
  void (*property)();     // the RapidCheck testable
  // After a failed run: writes what replays the failure outside RapidCheck (a tearproof trace)
  // and says where, or why not. nullptr: the family's cases have no trace form.
  std::string (*write_trace)() = nullptr;
};

// Model-based (rc::state) commands against a reference sector array (model_prop.cc).
void ModelProperty();
// Any crash of any history recovers to old or new per LBA (crash_prop.cc).
void CrashProperty();
// Crash during recovery, idempotence, read-only open = read-write recovery (recovery_prop.cc).
void RecoveryProperty();
// Format -> open round trips, flog layouts, info-block backup, interrupted format
// (format_prop.cc).
void FormatProperty();
// Corrupted info blocks, map, flog, data: a clear error or a correct recovery
// (bad_input_prop.cc).
void BadInputProperty();
// Lanes interleaved by a generated schedule on fibers, with an optional crash
// (concurrent_prop.cc).
void ConcurrentProperty();

// Every family, in the kill matrix's column order.
const std::vector<Family>& AllFamilies();
const Family* FindFamily(std::string_view name);

// RapidCheck's maximum size is capped here: the Debian snapshot misbehaves above 100.
inline constexpr int kMaxSize = 100;

// The seed of a run whose RC_PARAMS names none.
inline constexpr uint64_t kDefaultSeed = 20261126;

// RC_PARAMS' seed (kDefaultSeed when it names none), noshrink and max_size (capped at kMaxSize);
// max_success from RC_PARAMS when it names one, else family.default_cases times
// TEARPROOF_PROP_SCALE (default 1; the `slow` deep runs set it).
rc::detail::TestParams ParamsFromEnvironment(const Family& family);

// Runs one family. `quiet`: no RapidCheck reporting and no RC_PARAMS reproduce map (the kill
// matrix runs thousands of expected failures); otherwise RapidCheck's global listener and
// reproduce map apply, as for any RapidCheck test.
rc::detail::TestResult RunFamily(const Family& family, const rc::detail::TestParams& params,
                                 bool quiet);

// RapidCheck's failure message (counterexample included) followed by the RC_PARAMS string and
// the command that replays exactly this failure.
std::string FailureReport(const Family& family, const rc::detail::TestResult& result,
                          const std::string& replay_command);

}  // namespace tearproof::properties
