#include "properties/crash_case.h"

#include <rapidcheck.h>

#include "properties/generators.h"
#include "properties/prop_assert.h"

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

CrashOutcome RunCrashCase(const CrashCase& c, const std::optional<CrashSpec>& recovery_crash) {
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

}  // namespace tearproof::properties
