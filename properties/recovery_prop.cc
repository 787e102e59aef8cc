// Family "recovery": recovery is idempotent, survives a crash of its own, and a read-only open
// shows what read-write recovery shows.
//
// Case: as the crash family (crash_case.h: device, history, crash) plus a second crash spec for
// recovery itself. Checks:
//   ORACLE-RECOVER / -RO-EQUALS-RW / -CHECK / -ATOMIC  as in the crash family;
//   ORACLE-IDEMPOTENT      recovery crashed before its own fence k (when it issues that many:
//                          a roll-forward issues one), then recovered again, shows the same
//                          sectors as the uninterrupted recovery (sim_device.h Recover);
//   PROP-RECOVERY-STABLE   a second read-write open of the recovered medium rolls nothing
//                          forward, restores no info block and shows the same sectors;
//   PROP-RO-AFTER-RECOVERY a read-only open of the recovered medium stores nothing and shows
//                          the same sectors.
#include <rapidcheck.h>

#include "properties/crash_case.h"
#include "properties/families.h"
#include "properties/generators.h"
#include "properties/prop_assert.h"
#include "properties/sim_device.h"

namespace tearproof::properties {

void RecoveryProperty() {
  const CrashCase c = DrawCrashCase();
  // Sequential recovery rolls forward at most one interrupted write, one fence; 2 also reaches
  // recoveries that (wrongly) roll forward more than one lane.
  const CrashSpec recovery_crash = *GenCrashSpec(2);
  CrashOutcome out = RunCrashCase(c, recovery_crash);
  RC_TAG(out.recovery.recovery_crashed ? "recovery crashed" : "recovery not crashed");
  const DeviceConfig& config = c.config;
  const std::vector<uint64_t> lbas = AllLbas(c.nlba);
  const std::string& where = out.where;
  Recovery& recovery = out.recovery;
  sim::Medium& crashed = *out.run.crashed;
  recovery.session.reset();

  auto again = ValueOrFail(Session::Open(crashed, config, /*read_only=*/false),
                           "PROP-RECOVERY-STABLE: second read-write open");
  const btt::OpenReport& report = again->btt().open_report();
  if (report.lanes_rolled_forward != 0 || report.primaries_from_backup != 0) {
    RC_FAIL("PROP-RECOVERY-STABLE: the second open rolled " +
            std::to_string(report.lanes_rolled_forward) + " lane(s) forward and took " +
            std::to_string(report.primaries_from_backup) + " info block(s) from the backup [" +
            where + "]");
  }
  if (ReadView(again->btt(), lbas) != recovery.view) {
    RC_FAIL("PROP-RECOVERY-STABLE: the second open shows other sectors [" + where + "]");
  }
  again.reset();

  auto ro = ValueOrFail(Session::Open(crashed, config, /*read_only=*/true),
                        "PROP-RO-AFTER-RECOVERY: read-only open");
  if (ReadView(ro->btt(), lbas) != recovery.view || ro->ns().store_calls() != 0) {
    RC_FAIL("PROP-RO-AFTER-RECOVERY: the read-only open stored or shows other sectors [" + where +
            "]");
  }
}

}  // namespace tearproof::properties
