// Family "crash": any crash state of any generated history recovers to old or new per LBA.
//
// Case (crash_case.h): a random single-arena device (every profile, sector size, nfree,
// persistency model), a history of writes, zeros and error flags on random LBAs, and one crash:
// before fence k of the history (or after its end), resolved by a vector of crash choices.
// Checks, on every LBA of the device: ORACLE-RECOVER, ORACLE-RO-EQUALS-RW, ORACLE-CHECK
// (sim_device.h Recover) and ORACLE-ATOMIC against the history — each LBA reads as its last
// completed value or, for the LBA of the operation in flight, that operation's value: never
// torn, stale or misdirected, and completed writes are durable. PROP-OP-FAILED if the core
// refuses an operation of the history.
#include <rapidcheck.h>

#include "properties/crash_case.h"
#include "properties/families.h"

namespace tearproof::properties {

void CrashProperty() {
  const CrashCase c = DrawCrashCase();
  const CrashOutcome out = RunCrashCase(c, std::nullopt);
  RC_TAG(out.run.in_flight ? "crash during an op" : "crash at the end");
}

}  // namespace tearproof::properties
