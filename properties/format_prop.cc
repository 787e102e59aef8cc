// Family "format": format -> open round trips for random namespace sizes and every profile,
// both flog slot layouts, the info-block checksum and backup fallback, and interrupted formats.
//
// Case: a device (one arena, or 2-3 arenas of a sparse namespace larger than 512 GiB), then
// either an interrupted format (a crash at a random format fence) or a round trip: format,
// two histories with the flog rewritten between them into the (0,1) or (0,2) slot layout, and
// optionally one corrupted byte in one arena's primary info block. Checks:
//   PROP-FORMAT-DURABLE     format returns with nothing unpersisted;
//   PROP-FORMAT-INFO        every arena's primary and backup info blocks pass the checksum, are
//                           identical, and carry the requested geometry;
//   PROP-FORMAT-OPEN        profile detection and an open that detects the sector size find the
//                           profile, sector sizes, nfree, arena and LBA counts, flog layout
//                           (0,1), and every tracked LBA reads zero;
//   PROP-FLOG-LAYOUT        after the rewrite, open detects the layout on the medium (while
//                           only slot 0 is used the layout is (0,1) by definition), and reads
//                           and writes through it;
//   PROP-INFO-BACKUP        a corrupt primary is read from the backup (and restored by a
//                           read-write open only; the read-only open stores nothing);
//   ORACLE-ATOMIC           every tracked LBA reads its last value; ORACLE-CHECK on one arena;
//   PROP-FORMAT-CRASH       an interrupted format opens either not at all (a clear error: no
//                           BTT, or a corrupt one) or as a complete BTT: requested geometry,
//                           every LBA zero, Check clean; read-only and read-write opens agree;
//   PROP-FORMAT-RESTARTABLE formatting again over an interrupted format gives a clean BTT.
// Whole-device reads and Check run on one-arena devices only; multi-arena devices track the
// LBAs at arena boundaries (a 512 GiB arena's map alone is read for Check).
#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <optional>
#include <set>

#include "btt/layout.h"
#include "properties/crash_case.h"
#include "properties/families.h"
#include "properties/format_case.h"
#include "properties/generators.h"
#include "properties/prop_assert.h"
#include "properties/sim_device.h"

namespace tearproof::properties {
namespace {

using Layout = std::array<uint32_t, 2>;
constexpr Layout kLayout01 = {0, 1};
constexpr Layout kLayout02 = {0, 2};

std::string LayoutName(const Layout& l) {
  return l == kLayout02 ? "(0,2)" : l == kLayout01 ? "(0,1)" : "(other)";
}

// Every LBA of a one-arena device; for several arenas the first, last and neighbours of every
// arena boundary.
std::vector<uint64_t> TrackedLbas(const btt::Geometry& geo) {
  if (geo.arenas.size() == 1) return AllLbas(geo.external_nlba_total);
  std::set<uint64_t> lbas = {0, 1, geo.external_nlba_total - 1};
  uint64_t first = 0;
  for (const btt::ArenaGeometry& a : geo.arenas) {
    if (first > 0) lbas.insert(first - 1);
    lbas.insert(first);
    lbas.insert(first + 1);
    first += a.external_nlba;
  }
  return {lbas.begin(), lbas.end()};
}

uint64_t ArenaBase(const btt::Geometry& geo, size_t arena) {
  return geo.btt_offset + geo.arenas[arena].offset;
}

btt::InfoBlock LoadInfo(sim::Medium& medium, uint64_t offset) {
  btt::InfoBlock info;
  const std::vector<std::byte> bytes = LoadBytes(medium, offset, sizeof(info));
  std::memcpy(&info, bytes.data(), sizeof(info));
  return info;
}

// PROP-FORMAT-INFO for one arena.
void CheckInfoBlocks(sim::Medium& medium, const DeviceConfig& config, const btt::Geometry& geo,
                     size_t i) {
  const btt::ArenaGeometry& a = geo.arenas[i];
  const btt::InfoBlock primary = LoadInfo(medium, ArenaBase(geo, i));
  const btt::InfoBlock backup = LoadInfo(medium, ArenaBase(geo, i) + a.infooff);
  const std::string where = "arena " + std::to_string(i) + ": ";
  OkOrFail(btt::CheckInfoBlockIntegrity(primary), "PROP-FORMAT-INFO: " + where + "primary");
  OkOrFail(btt::CheckInfoBlockIntegrity(backup), "PROP-FORMAT-INFO: " + where + "backup");
  if (std::memcmp(&primary, &backup, sizeof(primary)) != 0) {
    RC_FAIL("PROP-FORMAT-INFO: " + where + "backup differs from the primary");
  }
  const bool geometry_matches =
      primary.major == btt::MajorFor(config.profile) &&
      primary.minor == btt::MinorFor(config.profile) &&
      primary.external_lbasize == config.lbasize &&
      primary.internal_lbasize == geo.internal_lbasize && primary.nfree == config.nfree &&
      primary.external_nlba == a.external_nlba && primary.internal_nlba == a.internal_nlba &&
      primary.infosize == btt::kInfoBlockSize && primary.nextoff == a.nextoff &&
      primary.dataoff == a.dataoff && primary.mapoff == a.mapoff && primary.flogoff == a.flogoff &&
      primary.infooff == a.infooff && primary.flags == 0;
  if (!geometry_matches) RC_FAIL("PROP-FORMAT-INFO: " + where + "fields differ from the geometry");
}

// PROP-FORMAT-OPEN / PROP-FLOG-LAYOUT: what an open reports about the device.
void CheckOpenGeometry(Session& s, const DeviceConfig& config, const btt::Geometry& geo,
                       const std::vector<Layout>& layouts, const std::string& when) {
  btt::Btt& b = s.btt();
  if (b.profile() != config.profile || b.ExternalLbaSize() != config.lbasize ||
      b.InternalLbaSize() != geo.internal_lbasize || b.Nfree() != config.nfree ||
      b.ArenaCount() != geo.arenas.size() || b.ExternalNlba() != geo.external_nlba_total) {
    RC_FAIL("PROP-FORMAT-OPEN: " + when + ": opened as " + btt::ProfileName(b.profile()) + ", " +
            std::to_string(b.ExternalLbaSize()) + "-byte sectors, nfree " +
            std::to_string(b.Nfree()) + ", " + std::to_string(b.ArenaCount()) + " arena(s), " +
            std::to_string(b.ExternalNlba()) + " LBAs");
  }
  for (size_t i = 0; i < layouts.size(); ++i) {
    if (b.FlogIndices(i) != layouts[i]) {
      RC_FAIL("PROP-FLOG-LAYOUT: " + when + ": arena " + std::to_string(i) + " opened with " +
              LayoutName(b.FlogIndices(i)) + ", the medium holds " + LayoutName(layouts[i]));
    }
  }
}

// Rewrites every arena's flog into `target` by moving each lane's second live slot; returns
// the layout each arena now holds ((0,1) wherever no lane uses its second slot yet).
std::vector<Layout> RewriteFlogLayout(sim::Medium& medium, const btt::Geometry& geo,
                                      const Layout& target) {
  std::vector<Layout> held;
  for (size_t i = 0; i < geo.arenas.size(); ++i) {
    const uint64_t off = ArenaBase(geo, i) + geo.arenas[i].flogoff;
    std::vector<btt::FlogGroup> groups(geo.nfree);
    const std::vector<std::byte> bytes =
        LoadBytes(medium, off, groups.size() * sizeof(btt::FlogGroup));
    std::memcpy(groups.data(), bytes.data(), bytes.size());
    bool second_used = false;
    for (btt::FlogGroup& g : groups) {
      const uint32_t from = target == kLayout02 ? 1 : 2;
      if (!g.slot[from].IsPadding()) std::swap(g.slot[from], g.slot[target[1]]);
      second_used = second_used || !g.slot[target[1]].IsPadding();
    }
    OkOrFail(StoreDurably(medium, off, std::as_bytes(std::span(groups))), "flog rewrite");
    held.push_back(second_used ? target : kLayout01);
  }
  return held;
}

void RunHistory(Session& s, const std::vector<Op>& ops, std::map<uint64_t, ValueId>* held) {
  for (const Op& op : ops) {
    OkOrFail(s.Apply(op), "PROP-OP-FAILED: " + ToString(op));
    (*held)[op.lba] = op.Value();
  }
}

void ExpectView(Session& s, const std::vector<uint64_t>& lbas,
                const std::map<uint64_t, ValueId>& held, uint32_t lbasize,
                const std::string& when) {
  FailIf(JudgeView(ReadView(s.btt(), lbas), AllowedExactly(held), lbasize, nullptr), when);
}

void ExpectCheckClean(Session& s, const std::string& when) {
  auto report = s.btt().Check(/*repair=*/false);
  OkOrFail(report.status(), "ORACLE-CHECK: " + when);
  if (!report->Clean()) RC_FAIL("ORACLE-CHECK: " + when + ": " + report->ToString());
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
        RC_FAIL("PROP-FORMAT-CRASH: an interrupted format is refused as neither missing nor "
                "corrupt: " + rw.status().ToString());
      }
    } else {
      CheckOpenGeometry(**rw, config, geo, {}, "PROP-FORMAT-CRASH");
      ExpectView(**rw, lbas, {}, config.lbasize, "PROP-FORMAT-CRASH: interrupted format");
      if (*ro_view != ReadView((*rw)->btt(), lbas)) {
        RC_FAIL("PROP-FORMAT-CRASH: read-only and read-write opens show other sectors");
      }
      // Both info blocks of every arena valid (the open restored a missing primary); Check
      // also reads the map, which only a one-arena device affords.
      for (size_t i = 0; i < geo.arenas.size(); ++i) CheckInfoBlocks(crashed, config, geo, i);
      if (one_arena) ExpectCheckClean(**rw, "PROP-FORMAT-CRASH: interrupted format");
    }
  }
  // A re-format zeroes the whole map: 512 GiB arenas are too big for that here.
  if (!one_arena) return;
  OkOrFail(FormatDevice(crashed, config, /*fresh=*/false), "PROP-FORMAT-RESTARTABLE: format");
  auto again = ValueOrFail(Session::Open(crashed, config, /*read_only=*/false),
                           "PROP-FORMAT-RESTARTABLE: open");
  ExpectView(*again, lbas, {}, config.lbasize, "PROP-FORMAT-RESTARTABLE");
  ExpectCheckClean(*again, "PROP-FORMAT-RESTARTABLE");
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
  if (c.history.size() > kMaxTraceOps) {
    return InvalidArgument(std::to_string(c.history.size()) +
                           " operations are too many to explore; shrink the case first");
  }
  harness::ExploreConfig config = ExploreConfigFor(c.config, mutant);
  config.crash_in_format = c.interrupted;
  config.ops = WorkloadOf(c.history);
  return ExploreAndWriteTrace(config, dir);
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
  const std::vector<uint64_t> lbas = TrackedLbas(geo);
  const rc::Gen<uint64_t> lba =
      geo.arenas.size() == 1 ? GenLba(geo.external_nlba_total) : GenLbaFrom(lbas);
  if (*rc::gen::arbitrary<bool>()) {
    // Every fence of the format (counted by a dry run: the count depends only on the config),
    // and the end.
    const CrashSpec crash = *GenCrashSpec(CountFormatFences(config) + 1);
    const RememberFormatCase remember({config, /*interrupted=*/true, {}});
    InterruptedFormat(config, geo, lbas, crash);
    return;
  }
  const Layout target = *rc::gen::element(kLayout01, kLayout02);
  const std::vector<Op> first = *GenHistory(lba);
  std::vector<Op> second = *GenHistory(lba);
  const auto first_writes = std::count_if(first.begin(), first.end(),
                                          [](const Op& op) { return op.kind == Op::Kind::kWrite; });
  NumberWrites(second, 1 + static_cast<ValueId>(first_writes));
  // One flipped byte in one arena's primary info block (mask 0: none).
  const size_t corrupt_arena = *rc::gen::inRange<size_t>(0, geo.arenas.size());
  const uint64_t corrupt_at = *rc::gen::inRange<uint64_t>(0, btt::kInfoBlockSize);
  const uint8_t corrupt_mask = *rc::gen::weightedOneOf<uint8_t>(
      {{1, rc::gen::just<uint8_t>(0)}, {1, rc::gen::inRange<uint8_t>(1, 255)}});

  std::vector<Op> both = first;
  both.insert(both.end(), second.begin(), second.end());
  const RememberFormatCase remember({config, /*interrupted=*/false, std::move(both)});
  sim::Medium medium = ValueOrFail(MakeMedium(config), "medium");
  OkOrFail(FormatDevice(medium, config), "PROP-FORMAT-OPEN: format");
  if (medium.pending_line_count() != 0) {
    RC_FAIL("PROP-FORMAT-DURABLE: format left " + std::to_string(medium.pending_line_count()) +
            " line(s) unpersisted");
  }
  for (size_t i = 0; i < geo.arenas.size(); ++i) CheckInfoBlocks(medium, config, geo, i);
  {
    harness::SimNamespace ns(medium, /*read_only=*/true);
    const auto detected = btt::Btt::DetectProfile(ns);
    if (!detected.ok() || *detected != config.profile) {
      RC_FAIL("PROP-FORMAT-OPEN: profile detection: " +
              (detected.ok() ? std::string(btt::ProfileName(*detected))
                             : detected.status().ToString()));
    }
  }
  std::map<uint64_t, ValueId> held;
  const std::vector<Layout> fresh_layouts(geo.arenas.size(), kLayout01);
  {
    auto s = ValueOrFail(Session::Open(medium, config, false, nullptr, /*detect=*/true),
                         "PROP-FORMAT-OPEN: open");
    CheckOpenGeometry(*s, config, geo, fresh_layouts, "after format");
    ExpectView(*s, lbas, held, config.lbasize, "after format");
    RunHistory(*s, first, &held);
  }
  const std::vector<Layout> layouts = RewriteFlogLayout(medium, geo, target);
  RC_TAG(layouts[0] == kLayout02 ? "layout (0,2)" : "layout (0,1)");
  const bool corrupt = corrupt_mask != 0;
  if (corrupt) {
    const uint64_t off = ArenaBase(geo, corrupt_arena) + corrupt_at;
    std::vector<std::byte> b = LoadBytes(medium, off, 1);
    b[0] ^= std::byte{corrupt_mask};
    OkOrFail(StoreDurably(medium, off, b), "corrupt");
  }
  const std::string when = std::string("after rewriting the flog to ") + LayoutName(target) +
                           (corrupt ? " and corrupting a primary info block" : "");
  {
    auto ro = ValueOrFail(Session::Open(medium, config, /*read_only=*/true),
                          "PROP-INFO-BACKUP: read-only open " + when);
    const btt::OpenReport& r = ro->btt().open_report();
    if (r.primaries_from_backup != (corrupt ? 1u : 0u) || r.primaries_restored != 0 ||
        ro->ns().store_calls() != 0) {
      RC_FAIL("PROP-INFO-BACKUP: read-only open " + when + ": " +
              std::to_string(r.primaries_from_backup) + " from backup, " +
              std::to_string(r.primaries_restored) + " restored, " +
              std::to_string(ro->ns().store_calls()) + " stores");
    }
    CheckOpenGeometry(*ro, config, geo, layouts, "read-only open " + when);
    ExpectView(*ro, lbas, held, config.lbasize, "read-only open " + when);
  }
  {
    auto s = ValueOrFail(Session::Open(medium, config, /*read_only=*/false),
                         "PROP-INFO-BACKUP: open " + when);
    const btt::OpenReport& r = s->btt().open_report();
    if (r.primaries_from_backup != (corrupt ? 1u : 0u) ||
        r.primaries_restored != r.primaries_from_backup) {
      RC_FAIL("PROP-INFO-BACKUP: open " + when + ": " + std::to_string(r.primaries_from_backup) +
              " from backup, " + std::to_string(r.primaries_restored) + " restored");
    }
    CheckOpenGeometry(*s, config, geo, layouts, "open " + when);
    ExpectView(*s, lbas, held, config.lbasize, "open " + when);
    RunHistory(*s, second, &held);
  }
  auto s = ValueOrFail(Session::Open(medium, config, /*read_only=*/false), "reopen");
  if (s->btt().open_report().primaries_from_backup != 0) {
    RC_FAIL("PROP-INFO-BACKUP: the restored primary info block is not valid on reopen");
  }
  CheckOpenGeometry(*s, config, geo, layouts, "reopen after the second history");
  ExpectView(*s, lbas, held, config.lbasize, "reopen after the second history");
  if (geo.arenas.size() == 1) ExpectCheckClean(*s, "reopen after the second history");
}

}  // namespace tearproof::properties
