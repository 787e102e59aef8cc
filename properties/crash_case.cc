#include "properties/crash_case.h"

#include <rapidcheck.h>

#include <cstdlib>
#include <exception>

#include "properties/generators.h"
#include "properties/prop_assert.h"
#include "traces/trace.h"

namespace tearproof::properties {

CrashCase DrawCrashCase() {
  CrashCase c;
  c.config = *GenDeviceConfig();
  c.nlba = ValueOrFail(ExternalNlba(c.config), "geometry");
  c.history = *rc::gen::nonEmpty(GenHistory(GenLba(c.nlba)));
  // A write issues 4 fences, a zero or error flag 1: this range covers every crash point of the
  // history and, rarely, the end.
  c.crash = *GenCrashSpec(static_cast<uint32_t>(4 * c.history.size() + 1));
  return c;
}

namespace {
thread_local std::optional<CrashCase> g_last_failed;
}  // namespace

RememberCaseOnFailure::~RememberCaseOnFailure() {
  if (std::uncaught_exceptions() > uncaught_) g_last_failed = make_case_();
}

std::optional<CrashCase> TakeLastFailedCrashCase() {
  std::optional<CrashCase> c = std::move(g_last_failed);
  g_last_failed.reset();
  return c;
}

CrashOutcome RunCrashCase(const CrashCase& c, const std::optional<CrashSpec>& recovery_crash) {
  // Nothing here runs on a fiber or inside the core, so the failure may unwind through this.
  const RememberCaseOnFailure remember([&c] { return c; });
  CrashOutcome out;
  out.run = ValueOrFail(RunHistoryToCrash(c.config, c.history, c.crash), "harness");
  out.where = out.run.in_flight ? "crash during " + ToString(*out.run.in_flight)
                                : std::string("crash after the history");
  FailIf(out.run.violation, out.where);
  out.recovery = Recover(*out.run.crashed, c.config, AllLbas(c.nlba), recovery_crash);
  FailIf(out.recovery.violation, out.where);
  FailIf(JudgeView(out.recovery.view, AllowedAfterCrash(out.run.completed, out.run.in_flight),
                   c.config.lbasize, nullptr),
         out.where);
  return out;
}

harness::ExploreConfig ExploreConfigFor(const DeviceConfig& device, btt::Mutant mutant) {
  harness::ExploreConfig config;
  config.profile = device.profile;
  config.external_lbasize = device.lbasize;
  config.nfree = device.nfree;
  config.model = device.model;
  config.mutant = mutant;
  config.stop_at_first_violation = true;
  return config;
}

std::vector<harness::WorkloadOp> WorkloadOf(const std::vector<Op>& ops) {
  std::vector<harness::WorkloadOp> out;
  for (const Op& op : ops) {
    if (op.kind == Op::Kind::kError) continue;  // not in the explorer's workload language
    out.push_back({op.kind == Op::Kind::kWrite ? harness::WorkloadOp::Kind::kWrite
                                               : harness::WorkloadOp::Kind::kZero,
                   op.lba});
  }
  return out;
}

Result<std::string> ExploreAndWriteTrace(const harness::ExploreConfig& config,
                                         const std::string& dir) {
  TP_ASSIGN_OR_RETURN(const harness::ExploreResult result, harness::Explore(config));
  if (result.violations.empty()) {
    return NotFound("the explorer finds no violation for this workload on its device");
  }
  const traces::Trace trace = traces::TraceFromViolation(config, result.violations.front());
  const std::string path = dir + "/" + traces::TraceStem(trace) + ".jsonl";
  TP_RETURN_IF_ERROR(traces::WriteTraceFile(path, trace));
  return path;
}

Result<std::string> WriteCrashCaseTrace(const CrashCase& c, const std::string& dir,
                                        btt::Mutant mutant) {
  if (c.history.size() > kMaxTraceOps) {
    return InvalidArgument(std::to_string(c.history.size()) +
                           " operations are too many to explore; shrink the case first");
  }
  harness::ExploreConfig config = ExploreConfigFor(c.config, mutant);
  config.ops = WorkloadOf(c.history);
  return ExploreAndWriteTrace(config, dir);
}

std::string TraceDirectory() {
  const char* env = std::getenv("TEARPROOF_TRACE_DIR");
  return env != nullptr && *env != '\0' ? env : ".";
}

std::string DescribeTraceResult(const Result<std::string>& path) {
  if (!path.ok()) return "no trace: " + path.status().ToString();
  return "trace written: " + *path + " (replay: tearproof replay " + *path + ")";
}

std::string WriteTraceOfLastFailure() {
  const std::optional<CrashCase> c = TakeLastFailedCrashCase();
  if (!c) return "no trace: the failure did not come from a crash case";
  return DescribeTraceResult(WriteCrashCaseTrace(*c, TraceDirectory()));
}

}  // namespace tearproof::properties
