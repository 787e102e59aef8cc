// traces::RunFormatRoundTrip — the one executor and judge of the format family's round trips
// (properties/format_prop.cc): the family runs every round trip through it and `tearproof replay`
// runs a format round-trip trace (traces/trace.h, TraceKind::kFormatRoundTrip) through it, so a
// trace replays exactly what the property judged. It is built on the bad-input executor's parts
// (traces/bad_input.h: the case, byte patches and their timeline, mutant selection).
//
// A round trip, in order (docs/testing.md names every check):
//   1. formats a fresh simulated medium (one arena, or 2-3 arenas of a sparse namespace larger
//      than 512 GiB) and judges it: PROP-FORMAT-DURABLE (format leaves nothing unpersisted),
//      PROP-FORMAT-INFO (every arena's primary and backup info blocks pass the checksum, are
//      identical and carry the geometry), PROP-FORMAT-OPEN (profile detection; an open that
//      detects the sector size finds the geometry and flog layout (0,1); every read LBA zero);
//   2. runs the first history (`ops`) in that open (PROP-OP-FAILED) and closes it (a clean
//      shutdown); PROP-FLOG-LAYOUT: every arena's lanes use one slot layout, (0,1) or (0,2);
//   3. rewrites the persisted image: the property's rewrite (a RoundTripRewrite: the flog moved
//      into a target layout, a byte of one primary info block flipped), or a trace's byte
//      patches. Only these changes are a round trip, and the image is checked for it: the only
//      flog change is slots 1 and 2 of a lane swapped, every arena's lanes still use one layout,
//      a changed primary info block fails its integrity check (it is corrupt, not a consistent
//      lie), nothing else changed. Otherwise the case is no round trip (InvalidArgument);
//   4. derives the expectation from the image, not from the rewrite's intent (a trace carries
//      only bytes): the layout each arena holds ((0,2) when a lane's live second slot is slot 2,
//      else (0,1)) and which primaries the opens must read from their backup;
//   5. read-only open, read-write open, the second history (`after_ops`), a reopen, judged:
//      PROP-INFO-BACKUP (each open succeeds and reads exactly the corrupt primaries from their
//      backups; only the read-write open restores them, the read-only one stores nothing; the
//      reopen reads no backup), PROP-FORMAT-OPEN and PROP-FLOG-LAYOUT (geometry, and the layout
//      the medium holds), ORACLE-ATOMIC (every read LBA holds its last value), ORACLE-RECOVER (the
//      reopen succeeds), ORACLE-CHECK (one arena: Check is clean at the end).
// The LBAs read (FormatCaseLbas): every LBA of a one-arena device; the first, last and
// neighbours of every arena boundary of a multi-arena one (its map alone is too big to read or
// Check whole). The first broken check is the run's violation; the run stops there.
//
// Deterministic and single-threaded like the simulator.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "btt/layout.h"
#include "btt/mutant.h"
#include "properties/sim_device.h"
#include "traces/bad_input.h"
#include "traces/trace.h"
#include "util/status.h"

namespace tearproof::traces {

// The two live slots of a lane's flog group (btt-format.md: (0,1) since Linux 4.15, (0,2)
// before; btt::Btt::FlogIndices).
using FlogLayout = std::array<uint32_t, 2>;
inline constexpr FlogLayout kFlogLayout01 = {0, 1};
inline constexpr FlogLayout kFlogLayout02 = {0, 2};
std::string FlogLayoutName(const FlogLayout& layout);  // "(0,1)", "(0,2)", "(other)"

// The LBAs a format case reads after each step (see above).
std::vector<uint64_t> FormatCaseLbas(const btt::Geometry& geometry);

// PROP-FORMAT-INFO for arena `arena`: primary and backup pass the integrity check, are
// identical, and carry the geometry and the config's profile, sector size and nfree.
std::optional<properties::Violation> CheckFormatInfoBlocks(sim::Medium& medium,
                                                           const properties::DeviceConfig& config,
                                                           const btt::Geometry& geometry,
                                                           size_t arena);
// PROP-FORMAT-OPEN / PROP-FLOG-LAYOUT: the open found the config's profile, sector sizes, nfree,
// arena and LBA counts, and (for the arenas `layouts` names) those flog layouts. `when` goes
// into the detail.
std::optional<properties::Violation> CheckOpenGeometry(properties::Session& session,
                                                       const properties::DeviceConfig& config,
                                                       const btt::Geometry& geometry,
                                                       const std::vector<FlogLayout>& layouts,
                                                       const std::string& when);
// ORACLE-CHECK: Btt::Check runs and reports nothing.
std::optional<properties::Violation> CheckClean(properties::Session& session,
                                                const std::string& when);

// The format family's flog rewrite: in every arena, each lane's live second slot moves to
// `target`'s second slot (slots 1 and 2 swapped). Stored durably.
Status MoveFlogSlots(sim::Medium& medium, const btt::Geometry& geometry, const FlogLayout& target);

// Changes the persisted image between the two histories (the property's way to rewrite; the
// bytes it changes in the flog and the primary info blocks become the run's patches).
using RoundTripRewrite = std::function<Status(sim::Medium& medium, const btt::Geometry& geometry)>;

// Runs and judges `c` (its ops, patches and after_ops; write ids as NumberBadInputWrites gives
// them). `rewrite` replaces the case's patches. The run's patches are the bytes the rewrite (or
// the case) changed; flog_layouts the layout each arena held after it. Errors (the case cannot
// run here): a geometry the BTT refuses, an op naming an LBA the device lacks, a patch outside
// the namespace, a change that is no round trip (step 3), a simulator failure. `mutant`: run with
// it selected (the production build runs the real core only).
Result<BadInputRun> RunFormatRoundTrip(const BadInputCase& c,
                                       const RoundTripRewrite& rewrite = nullptr,
                                       std::optional<btt::Mutant> mutant = std::nullopt);

}  // namespace tearproof::traces
