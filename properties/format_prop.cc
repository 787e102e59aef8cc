// Family "format": format -> open round trips for random namespace sizes and every profile,
// both flog slot layouts, the info-block checksum and backup fallback, and interrupted formats.
//
// Case: a device (one arena, or 2-3 arenas of a sparse namespace larger than 512 GiB), then
// either an interrupted format (a crash at a random format fence) or a round trip: format,
// two histories with the flog rewritten between them into the (0,1) or (0,2) slot layout, and
// optionally one corrupted byte in one arena's primary info block. A round trip is run and
// judged by traces::RunFormatRoundTrip (traces/format_round_trip.h), the executor `tearproof
// replay` runs a format round-trip trace with; this file draws the case and supplies the rewrite.
// Checks:
//   PROP-FORMAT-DURABLE     format returns with nothing unpersisted;
//   PROP-FORMAT-INFO        every arena's primary and backup info blocks pass the checksum, are
//                           identical, and carry the requested geometry;
//   PROP-FORMAT-OPEN        profile detection and an open that detects the sector size find the
//                           profile, sector sizes, nfree, arena and LBA counts, flog layout
//                           (0,1), and every tracked LBA reads zero;
//   PROP-FLOG-LAYOUT        the first history leaves every arena's lanes in one slot layout;
//                           after the rewrite, open detects the layout on the medium (while
//                           only slot 0 is used the layout is (0,1) by definition), and reads
//                           and writes through it;
//   PROP-INFO-BACKUP        a corrupt primary is read from the backup (and restored by a
//                           read-write open only; the read-only open stores nothing);
//   ORACLE-ATOMIC           every tracked LBA reads its last value; ORACLE-RECOVER: the reopen
//                           after the second history succeeds; ORACLE-CHECK on one arena;
//   PROP-FORMAT-CRASH       an interrupted format opens either not at all (a clear error: no
//                           BTT, or a corrupt one) or as a complete BTT: requested geometry,
//                           every LBA zero, Check clean; read-only and read-write opens agree;
//   PROP-FORMAT-RESTARTABLE formatting again over an interrupted format gives a clean BTT.
// Whole-device reads and Check run on one-arena devices only; multi-arena devices track the
// LBAs at arena boundaries (a 512 GiB arena's map alone is read for Check).
#include <rapidcheck.h>

#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "btt/layout.h"
#include "properties/crash_case.h"
#include "properties/families.h"
#include "properties/format_case.h"
#include "properties/generators.h"
#include "properties/prop_assert.h"
#include "properties/sim_device.h"
#include "traces/format_round_trip.h"
#include "traces/replay.h"

namespace tearproof::properties {
namespace {

void ExpectView(Session& s, const std::vector<uint64_t>& lbas,
                const std::map<uint64_t, ValueId>& held, uint32_t lbasize,
                const std::string& when) {
  FailIf(JudgeView(ReadView(s.btt(), lbas), AllowedExactly(held), lbasize, nullptr), when);
}

uint32_t CountFormatFences(const DeviceConfig& config) {
  sim::Medium medium = ValueOrFail(MakeMedium(config), "medium");
  CrashTrap counter(medium, CrashSpec{UINT32_MAX, {}});
  OkOrFail(FormatDevice(medium, config, /*fresh=*/true, &counter), "format");
  return static_cast<uint32_t>(counter.fences_seen());
}

void InterruptedFormat(const DeviceConfig& config, const btt::Geometry& geo,
                       const std::vector<uint64_t>& lbas, const CrashSpec& crash) {
  const bool one_arena = geo.arenas.size() == 1;
  sim::Medium medium = ValueOrFail(MakeMedium(config), "medium");
  CrashTrap trap(medium, crash);
  OkOrFail(FormatDevice(medium, config, /*fresh=*/true, &trap), "format");
  RC_TAG(trap.fired() ? "format interrupted" : "crash after format");
  sim::Medium crashed = trap.TakeCrash();
  {
    // Read-only first, so both opens judge one crash state (sim_device.h Recover).
    auto ro = Session::Open(crashed, config, /*read_only=*/true);
    std::optional<View> ro_view;
    if (ro.ok()) ro_view = ReadView((*ro)->btt(), lbas);
    auto rw = Session::Open(crashed, config, /*read_only=*/false);
    if (ro.ok() != rw.ok()) {
      RC_FAIL("PROP-FORMAT-CRASH: read-only open " + ro.status().ToString() +
              " but read-write open " + rw.status().ToString());
    }
    if (!rw.ok()) {
      // kNotFound (no info block yet) or kCorruption (a torn info block or pool header). Never
      // kUnsupported: an interrupted format is not an image from another implementation.
      ExpectClearError(rw.status(), "PROP-FORMAT-CRASH: open of an interrupted format");
      if (rw.status().code() != StatusCode::kNotFound &&
          rw.status().code() != StatusCode::kCorruption) {
        RC_FAIL(
            "PROP-FORMAT-CRASH: an interrupted format is refused as neither missing nor "
            "corrupt: " +
            rw.status().ToString());
      }
    } else {
      FailIf(traces::CheckOpenGeometry(**rw, config, geo, {}, "PROP-FORMAT-CRASH"),
             "interrupted format");
      ExpectView(**rw, lbas, {}, config.lbasize, "PROP-FORMAT-CRASH: interrupted format");
      if (*ro_view != ReadView((*rw)->btt(), lbas)) {
        RC_FAIL("PROP-FORMAT-CRASH: read-only and read-write opens show other sectors");
      }
      // Both info blocks of every arena valid (the open restored a missing primary); Check
      // also reads the map, which only a one-arena device affords.
      for (size_t i = 0; i < geo.arenas.size(); ++i) {
        FailIf(traces::CheckFormatInfoBlocks(crashed, config, geo, i),
               "PROP-FORMAT-CRASH: interrupted format");
      }
      if (one_arena) {
        FailIf(traces::CheckClean(**rw, "PROP-FORMAT-CRASH: interrupted format"),
               "interrupted format");
      }
    }
  }
  // A re-format zeroes the whole map: 512 GiB arenas are too big for that here.
  if (!one_arena) return;
  OkOrFail(FormatDevice(crashed, config, /*fresh=*/false), "PROP-FORMAT-RESTARTABLE: format");
  auto again = ValueOrFail(Session::Open(crashed, config, /*read_only=*/false),
                           "PROP-FORMAT-RESTARTABLE: open");
  ExpectView(*again, lbas, {}, config.lbasize, "PROP-FORMAT-RESTARTABLE");
  FailIf(traces::CheckClean(*again, "PROP-FORMAT-RESTARTABLE"), "PROP-FORMAT-RESTARTABLE");
}

}  // namespace

namespace {
thread_local std::optional<FailedFormatCase> g_last_failed_format;

// Records the case if the scope is left by an RC_* failure (nothing here runs on a fiber).
class RememberFormatCase {
 public:
  explicit RememberFormatCase(FailedFormatCase c)
      : case_(std::move(c)), uncaught_(std::uncaught_exceptions()) {}
  ~RememberFormatCase() {
    if (std::uncaught_exceptions() > uncaught_) g_last_failed_format = std::move(case_);
  }
  RememberFormatCase(const RememberFormatCase&) = delete;
  RememberFormatCase& operator=(const RememberFormatCase&) = delete;

 private:
  FailedFormatCase case_;
  int uncaught_;
};
}  // namespace

std::optional<FailedFormatCase> TakeLastFailedFormatCase() {
  std::optional<FailedFormatCase> c = std::move(g_last_failed_format);
  g_last_failed_format.reset();
  return c;
}

Result<std::string> WriteFormatCaseTrace(const FailedFormatCase& c, const std::string& dir,
                                         btt::Mutant mutant) {
  if (c.interrupted) {
    harness::ExploreConfig config = ExploreConfigFor(c.config, mutant);
    config.crash_in_format = true;
    return ExploreAndWriteTrace(config, dir);
  }
  if (!c.violation) return NotFound("the round trip failed without a violation to trace");
  const traces::Trace trace =
      traces::BadInputTrace(c.round_trip, harness::NameOfMutant(mutant), *c.violation,
                            traces::TraceKind::kFormatRoundTrip);
  TP_ASSIGN_OR_RETURN(const traces::ReplayResult replayed, traces::Replay(trace));
  if (!replayed.matches_expectation) {
    return NotFound("the trace of the round trip does not reproduce " + c.violation->check);
  }
  const std::string path = dir + "/" + traces::TraceStem(trace) + ".jsonl";
  TP_RETURN_IF_ERROR(traces::WriteTraceFile(path, trace));
  return path;
}

std::string WriteFormatTraceOfLastFailure() {
  const std::optional<FailedFormatCase> c = TakeLastFailedFormatCase();
  if (!c) return "no trace: the failure did not come from a format case";
  return DescribeTraceResult(WriteFormatCaseTrace(*c, TraceDirectory()));
}

void FormatProperty() {
  const bool multi_arena = *rc::gen::weightedElement<bool>({{4, false}, {1, true}});
  const DeviceConfig config = multi_arena ? *GenMultiArenaConfig() : *GenDeviceConfig();
  const btt::Geometry geo = ValueOrFail(
      btt::ComputeGeometry(config.profile, config.namespace_bytes, config.lbasize, config.nfree),
      "geometry");
  RC_TAG(geo.arenas.size() == 1 ? "one arena" : "several arenas");
  const std::vector<uint64_t> lbas = traces::FormatCaseLbas(geo);
  const rc::Gen<uint64_t> lba =
      geo.arenas.size() == 1 ? GenLba(geo.external_nlba_total) : GenLbaFrom(lbas);
  if (*rc::gen::arbitrary<bool>()) {
    // Every fence of the format (counted by a dry run: the count depends only on the config),
    // and the end.
    const CrashSpec crash = *GenCrashSpec(CountFormatFences(config) + 1);
    const RememberFormatCase remember({config, /*interrupted=*/true, {}, std::nullopt});
    InterruptedFormat(config, geo, lbas, crash);
    return;
  }
  const traces::FlogLayout target = *rc::gen::element(traces::kFlogLayout01, traces::kFlogLayout02);
  traces::BadInputCase c;
  c.device = config;
  c.ops = *GenHistory(lba);
  c.after_ops = *GenHistory(lba);
  const auto first_writes = std::count_if(c.ops.begin(), c.ops.end(),
                                          [](const Op& op) { return op.kind == Op::Kind::kWrite; });
  NumberWrites(c.after_ops, 1 + static_cast<ValueId>(first_writes));
  // One flipped byte in one arena's primary info block (mask 0: none).
  const size_t corrupt_arena = *rc::gen::inRange<size_t>(0, geo.arenas.size());
  const uint64_t corrupt_at = *rc::gen::inRange<uint64_t>(0, btt::kInfoBlockSize);
  const uint8_t corrupt_mask = *rc::gen::weightedOneOf<uint8_t>(
      {{1, rc::gen::just<uint8_t>(0)}, {1, rc::gen::inRange<uint8_t>(1, 255)}});

  // The rewrite between the histories; the executor turns what it changed into the case's
  // patches (the trace's form of it).
  const traces::RoundTripRewrite rewrite = [&](sim::Medium& medium,
                                               const btt::Geometry& g) -> Status {
    TP_RETURN_IF_ERROR(traces::MoveFlogSlots(medium, g, target));
    if (corrupt_mask == 0) return Status::Ok();
    const uint64_t off = g.btt_offset + g.arenas[corrupt_arena].offset + corrupt_at;
    std::vector<std::byte> b = LoadBytes(medium, off, 1);
    b[0] ^= std::byte{corrupt_mask};
    return StoreDurably(medium, off, b);
  };
  auto run = traces::RunFormatRoundTrip(c, rewrite);
  if (!run.ok()) RC_FAIL("the round trip cannot run: " + run.status().ToString());
  if (!run->flog_layouts.empty()) {
    RC_TAG(run->flog_layouts[0] == traces::kFlogLayout02 ? "layout (0,2)" : "layout (0,1)");
  }
  if (run->violation) {
    c.patches = run->patches;
    g_last_failed_format = FailedFormatCase{config, /*interrupted=*/false, c, run->violation};
    RC_FAIL(run->violation->ToString());
  }
}

}  // namespace tearproof::properties
