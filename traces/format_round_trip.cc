#include "traces/format_round_trip.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <utility>

#include "btt/btt.h"
#include "harness/sim_namespace.h"

namespace tearproof::traces {
namespace {

using properties::Op;
using properties::Session;
using properties::Violation;

uint64_t ArenaBase(const btt::Geometry& geo, size_t arena) {
  return geo.btt_offset + geo.arenas[arena].offset;
}

btt::InfoBlock LoadInfo(sim::Medium& medium, uint64_t offset) {
  btt::InfoBlock info;
  const std::vector<std::byte> bytes = properties::LoadBytes(medium, offset, sizeof(info));
  std::memcpy(&info, bytes.data(), sizeof(info));
  return info;
}

std::vector<btt::FlogGroup> LoadFlog(sim::Medium& medium, const btt::Geometry& geo, size_t arena) {
  std::vector<btt::FlogGroup> groups(geo.nfree);
  const std::vector<std::byte> bytes = properties::LoadBytes(
      medium, BttRegions(geo, arena).flog.begin, groups.size() * sizeof(btt::FlogGroup));
  std::memcpy(groups.data(), bytes.data(), bytes.size());
  return groups;
}

bool SameSlot(const btt::FlogSlot& a, const btt::FlogSlot& b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

bool SameFlog(const std::vector<btt::FlogGroup>& a, const std::vector<btt::FlogGroup>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
}

// The layout an arena's lanes use: (0,2) when a lane's second live slot is slot 2, (0,1) when
// it is slot 1 or no lane has used one yet (a fresh arena is (0,1) by definition). An error
// names the lane that breaks it: slot 3 in use, slots 1 and 2 both in use, or lanes that
// disagree.
Result<FlogLayout> LayoutOf(const std::vector<btt::FlogGroup>& groups) {
  std::optional<uint32_t> second;  // the second live slot, once a lane shows it
  for (size_t lane = 0; lane < groups.size(); ++lane) {
    const btt::FlogGroup& g = groups[lane];
    if (!g.slot[3].IsPadding()) return InvalidArgument(fmt::format("lane {} uses slot 3", lane));
    const bool one = !g.slot[1].IsPadding(), two = !g.slot[2].IsPadding();
    if (one && two) return InvalidArgument(fmt::format("lane {} uses slots 1 and 2", lane));
    if (!one && !two) continue;
    const uint32_t used = one ? 1 : 2;
    if (second && *second != used) {
      return InvalidArgument(
          fmt::format("lane {} uses slot {}, an earlier lane slot {}", lane, used, *second));
    }
    second = used;
  }
  return second == 2u ? kFlogLayout02 : kFlogLayout01;
}

// The persisted metadata a rewrite may change: per arena its flog groups and primary info block.
struct Metadata {
  std::vector<std::vector<btt::FlogGroup>> flogs;
  std::vector<std::vector<std::byte>> primaries;
};

Metadata LoadMetadata(sim::Medium& medium, const btt::Geometry& geo) {
  Metadata m;
  for (size_t i = 0; i < geo.arenas.size(); ++i) {
    m.flogs.push_back(LoadFlog(medium, geo, i));
    m.primaries.push_back(
        properties::LoadBytes(medium, BttRegions(geo, i).primary.begin, btt::kInfoBlockSize));
  }
  return m;
}

// The bytes that differ between two metadata snapshots, as patches of the namespace.
std::vector<BytePatch> MetadataPatches(const btt::Geometry& geo, const Metadata& before,
                                       const Metadata& after) {
  std::vector<BytePatch> patches;
  auto add = [&patches](uint64_t base, std::span<const std::byte> was,
                        std::span<const std::byte> now) {
    for (BytePatch p : DiffImages(was, now)) {
      p.offset += base;
      patches.push_back(std::move(p));
    }
  };
  for (size_t i = 0; i < geo.arenas.size(); ++i) {
    const BttRegions r(geo, i);
    add(r.primary.begin, before.primaries[i], after.primaries[i]);
    add(r.flog.begin, std::as_bytes(std::span(before.flogs[i])),
        std::as_bytes(std::span(after.flogs[i])));
  }
  std::sort(patches.begin(), patches.end(),
            [](const BytePatch& a, const BytePatch& b) { return a.offset < b.offset; });
  return patches;
}

// "1 LBA", "40 LBAs".
std::string LbaCount(size_t n) { return n == 1 ? "1 LBA" : fmt::format("{} LBAs", n); }

class RoundTrip : CaseRecorder {
 public:
  RoundTrip(const BadInputCase& c, const btt::Geometry& geometry)
      : c_(c), config_(c.device), geo_(geometry), lbas_(FormatCaseLbas(geometry)) {}

  Result<BadInputRun> Run(const RoundTripRewrite& rewrite) {
    Line(
        fmt::format("device: {}: {} arena(s), {} in all ({} read after each step), {}-byte data "
                    "blocks",
                    properties::ToString(config_), geo_.arenas.size(),
                    LbaCount(geo_.external_nlba_total), lbas_.size(), geo_.internal_lbasize));
    TP_ASSIGN_OR_RETURN(medium_, properties::MakeMedium(config_));
    if (!Format() || !FirstHistory()) return std::move(run_);
    TP_RETURN_IF_ERROR(Rewrite(rewrite));
    Opens();  // the violation, if any, is in run_
    return std::move(run_);
  }

 private:
  using CaseRecorder::Fail;
  bool Fail(const Violation& v) { return Fail(v.check, v.detail); }
  // Ends the run with `v` when it is set.
  bool Holds(const std::optional<Violation>& v) { return !v || Fail(*v); }

  // ORACLE-ATOMIC on every read LBA against the values held.
  bool ExpectView(Session& s, const std::string& when) {
    if (auto v =
            properties::JudgeView(properties::ReadView(s.btt(), lbas_),
                                  properties::AllowedExactly(held_), config_.lbasize, nullptr)) {
      return Fail(v->check, v->detail + " [" + when + "]");
    }
    return true;
  }

  bool RunHistory(Session& s, const std::vector<Op>& ops) {
    for (size_t i = 0; i < ops.size(); ++i) {
      const Status applied = s.Apply(ops[i]);
      if (!applied.ok()) {
        return Fail("PROP-OP-FAILED", fmt::format("op {} ({}): {}", i, properties::ToString(ops[i]),
                                                  applied.ToString()));
      }
      held_[ops[i].lba] = ops[i].Value();
    }
    return true;
  }

  // Format and what a fresh format must be; the first history runs in the open that checked it.
  bool Format() {
    const Status formatted = properties::FormatDevice(*medium_, config_);
    if (!formatted.ok()) return Fail("PROP-FORMAT-OPEN", "format: " + formatted.ToString());
    if (medium_->pending_line_count() != 0) {
      return Fail("PROP-FORMAT-DURABLE",
                  fmt::format("format left {} line(s) unpersisted", medium_->pending_line_count()));
    }
    for (size_t i = 0; i < geo_.arenas.size(); ++i) {
      if (!Holds(CheckFormatInfoBlocks(*medium_, config_, geo_, i))) return false;
    }
    {
      harness::SimNamespace ns(*medium_, /*read_only=*/true);
      const auto detected = btt::Btt::DetectProfile(ns);
      if (!detected.ok() || *detected != config_.profile) {
        return Fail(
            "PROP-FORMAT-OPEN",
            "profile detection: " + (detected.ok() ? std::string(btt::ProfileName(*detected))
                                                   : detected.status().ToString()));
      }
    }
    Line("format: durable, every info block valid, profile detected");
    return true;
  }

  bool FirstHistory() {
    auto s = Session::Open(*medium_, config_, /*read_only=*/false, nullptr, /*detect=*/true);
    if (!s.ok()) return Fail("PROP-FORMAT-OPEN", "open: " + s.status().ToString());
    const std::vector<FlogLayout> fresh(geo_.arenas.size(), kFlogLayout01);
    if (!Holds(CheckOpenGeometry(**s, config_, geo_, fresh, "after format")) ||
        !ExpectView(**s, "after format")) {
      return false;
    }
    Line(
        "open after format (sector size detected): the geometry, flog layout (0,1), every LBA "
        "zero");
    Line("first history (then a clean shutdown): " + properties::ToString(c_.ops));
    if (!RunHistory(**s, c_.ops)) return false;
    s->reset();
    // The core wrote this flog: every arena's lanes must use one layout (else an open refuses it
    // with INV-FLOG-LAYOUT, or, worse, reads the wrong slots).
    for (size_t i = 0; i < geo_.arenas.size(); ++i) {
      const auto layout = LayoutOf(LoadFlog(*medium_, geo_, i));
      if (!layout.ok()) {
        return Fail("PROP-FLOG-LAYOUT", fmt::format("after the first history arena {}'s flog has "
                                                    "no single slot layout: {}",
                                                    i, layout.status().message()));
      }
    }
    return true;
  }

  // Stores the rewrite's or the case's patches and derives the expectation from the image.
  // Errors: the change is no round trip, or a simulator failure.
  Status Rewrite(const RoundTripRewrite& rewrite) {
    const Metadata before = LoadMetadata(*medium_, geo_);
    if (rewrite) {
      // The rewrite's effect becomes patches, stored below exactly as a trace's patches are
      // (same bytes, same timeline): what the property runs is what the trace replays.
      TP_RETURN_IF_ERROR(rewrite(*medium_, geo_));
      run_.patches = MetadataPatches(geo_, before, LoadMetadata(*medium_, geo_));
      TP_RETURN_IF_ERROR(StoreMetadata(before));
    } else {
      run_.patches = c_.patches;
    }
    for (const BytePatch& p : run_.patches) {
      bool inside = false;
      for (size_t i = 0; i < geo_.arenas.size() && !inside; ++i) {
        const BttRegions r(geo_, i);
        for (const BttRegions::Span& span : {r.flog, r.primary}) {
          inside = inside || (span.Contains(p.offset) && p.end() <= span.begin + span.size);
        }
      }
      if (!inside) {
        return InvalidArgument(
            fmt::format("not a format round trip: patch 0x{:x}+{} ({}) is not inside one arena's "
                        "flog or primary info block",
                        p.offset, p.bytes.size(), DescribeBttByte(geo_, p.offset)));
      }
    }
    Line(fmt::format("rewrite: {} patch(es) stored durably into the persisted image",
                     run_.patches.size()));
    TP_RETURN_IF_ERROR(StorePatches(*medium_, geo_, run_.patches, &run_.timeline));
    const Metadata after = LoadMetadata(*medium_, geo_);
    for (size_t i = 0; i < geo_.arenas.size(); ++i) {
      TP_RETURN_IF_ERROR(ExpectFromArena(i, before, after));
    }
    return Status::Ok();
  }

  Status StoreMetadata(const Metadata& m) {
    for (size_t i = 0; i < geo_.arenas.size(); ++i) {
      const BttRegions r(geo_, i);
      TP_RETURN_IF_ERROR(properties::StoreDurably(*medium_, r.primary.begin, m.primaries[i]));
      TP_RETURN_IF_ERROR(
          properties::StoreDurably(*medium_, r.flog.begin, std::as_bytes(std::span(m.flogs[i]))));
    }
    return Status::Ok();
  }

  // Checks that arena `i` changed only as a round trip may, and records what the opens must find
  // there: its flog layout, and whether its primary info block must be read from the backup.
  Status ExpectFromArena(size_t i, const Metadata& before, const Metadata& after) {
    const std::string arena = fmt::format("arena {}", i);
    for (size_t lane = 0; lane < geo_.nfree; ++lane) {
      const btt::FlogGroup& was = before.flogs[i][lane];
      const btt::FlogGroup& now = after.flogs[i][lane];
      const bool kept = SameSlot(was.slot[1], now.slot[1]) && SameSlot(was.slot[2], now.slot[2]);
      const bool swapped = SameSlot(was.slot[1], now.slot[2]) && SameSlot(was.slot[2], now.slot[1]);
      if (!SameSlot(was.slot[0], now.slot[0]) || !SameSlot(was.slot[3], now.slot[3]) ||
          !(kept || swapped)) {
        return InvalidArgument(fmt::format(
            "not a format round trip: {} flog lane {} changed other than by swapping slots 1 "
            "and 2",
            arena, lane));
      }
    }
    auto layout = LayoutOf(after.flogs[i]);
    if (!layout.ok()) {
      return InvalidArgument(
          fmt::format("not a format round trip: {}'s flog holds no single "
                      "slot layout after the rewrite: {}",
                      arena, layout.status().message()));
    }
    run_.flog_layouts.push_back(*layout);
    if (!SameFlog(after.flogs[i], before.flogs[i])) {
      Line(fmt::format("  {}: flog slots moved, the lanes now use layout {}", arena,
                       FlogLayoutName(*layout)));
    }
    if (after.primaries[i] != before.primaries[i]) {
      btt::InfoBlock primary;
      std::memcpy(&primary, after.primaries[i].data(), sizeof(primary));
      if (btt::CheckInfoBlockIntegrity(primary).ok()) {
        return InvalidArgument(fmt::format(
            "not a format round trip: {}'s primary info block changed and still passes its "
            "integrity check (a consistent change of the layout, not a corruption)",
            arena));
      }
      ++corrupt_primaries_;
      Line(
          fmt::format("  {}: primary info block corrupt (fails its integrity check): the opens "
                      "must read its backup",
                      arena));
    }
    return Status::Ok();
  }

  // The read-only open, the read-write open and the second history, the reopen.
  void Opens() {
    std::string when = "after the rewrite (layouts";
    for (const FlogLayout& l : run_.flog_layouts) {
      when += ' ';
      when += FlogLayoutName(l);
    }
    when += corrupt_primaries_ == 0
                ? ")"
                : fmt::format(", {} primary info block(s) corrupt)", corrupt_primaries_);
    {
      auto ro = Session::Open(*medium_, config_, /*read_only=*/true);
      if (!ro.ok()) {
        Fail("PROP-INFO-BACKUP", "read-only open " + when + ": " + ro.status().ToString());
        return;
      }
      const btt::OpenReport& r = (*ro)->btt().open_report();
      Line("read-only open: " + OpenSummary(r));
      if (r.primaries_from_backup != corrupt_primaries_ || r.primaries_restored != 0 ||
          (*ro)->ns().store_calls() != 0) {
        Fail("PROP-INFO-BACKUP",
             fmt::format("read-only open {}: {} from backup, {} restored, {} stores", when,
                         r.primaries_from_backup, r.primaries_restored, (*ro)->ns().store_calls()));
        return;
      }
      if (!Holds(CheckOpenGeometry(**ro, config_, geo_, run_.flog_layouts,
                                   "read-only open " + when)) ||
          !ExpectView(**ro, "read-only open " + when)) {
        return;
      }
    }
    {
      auto s = Session::Open(*medium_, config_, /*read_only=*/false);
      if (!s.ok()) {
        Fail("PROP-INFO-BACKUP", "open " + when + ": " + s.status().ToString());
        return;
      }
      const btt::OpenReport& r = (*s)->btt().open_report();
      Line("read-write open: " + OpenSummary(r));
      if (r.primaries_from_backup != corrupt_primaries_ ||
          r.primaries_restored != r.primaries_from_backup) {
        Fail("PROP-INFO-BACKUP", fmt::format("open {}: {} from backup, {} restored", when,
                                             r.primaries_from_backup, r.primaries_restored));
        return;
      }
      if (!Holds(CheckOpenGeometry(**s, config_, geo_, run_.flog_layouts, "open " + when)) ||
          !ExpectView(**s, "open " + when)) {
        return;
      }
      Line("every read LBA holds its last value; second history: " +
           properties::ToString(c_.after_ops));
      if (!RunHistory(**s, c_.after_ops)) return;
    }
    auto s = Session::Open(*medium_, config_, /*read_only=*/false);
    if (!s.ok()) {
      Fail("ORACLE-RECOVER", "reopen after the second history: " + s.status().ToString());
      return;
    }
    Line("reopen: " + OpenSummary((*s)->btt().open_report()));
    if ((*s)->btt().open_report().primaries_from_backup != 0) {
      Fail("PROP-INFO-BACKUP", "the restored primary info block is not valid on reopen");
      return;
    }
    const std::string reopen = "reopen after the second history";
    if (!Holds(CheckOpenGeometry(**s, config_, geo_, run_.flog_layouts, reopen)) ||
        !ExpectView(**s, reopen)) {
      return;
    }
    // Check reads the whole map: one arena only (a 512 GiB arena's map is 512 MiB).
    if (geo_.arenas.size() == 1) {
      if (!Holds(CheckClean(**s, reopen))) return;
      run_.check_clean = true;
    }
    run_.opened = true;
    Line(geo_.arenas.size() == 1 ? "every read LBA holds its last value, Check clean"
                                 : "every read LBA holds its last value (no Check: several "
                                   "arenas)");
  }

  const BadInputCase& c_;
  const properties::DeviceConfig& config_;
  const btt::Geometry& geo_;
  const std::vector<uint64_t> lbas_;
  std::optional<sim::Medium> medium_;
  std::map<uint64_t, properties::ValueId> held_;
  uint32_t corrupt_primaries_ = 0;
};

}  // namespace

std::string FlogLayoutName(const FlogLayout& layout) {
  return layout == kFlogLayout02 ? "(0,2)" : layout == kFlogLayout01 ? "(0,1)" : "(other)";
}

std::vector<uint64_t> FormatCaseLbas(const btt::Geometry& geo) {
  if (geo.arenas.size() == 1) return properties::AllLbas(geo.external_nlba_total);
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

std::optional<Violation> CheckFormatInfoBlocks(sim::Medium& medium,
                                               const properties::DeviceConfig& config,
                                               const btt::Geometry& geo, size_t i) {
  const btt::ArenaGeometry& a = geo.arenas[i];
  const btt::InfoBlock primary = LoadInfo(medium, ArenaBase(geo, i));
  const btt::InfoBlock backup = LoadInfo(medium, ArenaBase(geo, i) + a.infooff);
  const std::string where = fmt::format("arena {}: ", i);
  for (const auto& [name, block] : {std::pair{"primary", &primary}, std::pair{"backup", &backup}}) {
    const Status integrity = btt::CheckInfoBlockIntegrity(*block);
    if (!integrity.ok())
      return Violation{"PROP-FORMAT-INFO", where + name + ": " + integrity.ToString()};
  }
  if (std::memcmp(&primary, &backup, sizeof(primary)) != 0) {
    return Violation{"PROP-FORMAT-INFO", where + "backup differs from the primary"};
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
  if (!geometry_matches) {
    return Violation{"PROP-FORMAT-INFO", where + "fields differ from the geometry"};
  }
  return std::nullopt;
}

std::optional<Violation> CheckOpenGeometry(Session& s, const properties::DeviceConfig& config,
                                           const btt::Geometry& geo,
                                           const std::vector<FlogLayout>& layouts,
                                           const std::string& when) {
  btt::Btt& b = s.btt();
  if (b.profile() != config.profile || b.ExternalLbaSize() != config.lbasize ||
      b.InternalLbaSize() != geo.internal_lbasize || b.Nfree() != config.nfree ||
      b.ArenaCount() != geo.arenas.size() || b.ExternalNlba() != geo.external_nlba_total) {
    return Violation{"PROP-FORMAT-OPEN",
                     fmt::format("{}: opened as {}, {}-byte sectors, nfree {}, {} arena(s), {} "
                                 "LBAs",
                                 when, btt::ProfileName(b.profile()), b.ExternalLbaSize(),
                                 b.Nfree(), b.ArenaCount(), b.ExternalNlba())};
  }
  for (size_t i = 0; i < layouts.size(); ++i) {
    if (b.FlogIndices(i) != layouts[i]) {
      return Violation{"PROP-FLOG-LAYOUT",
                       fmt::format("{}: arena {} opened with {}, the medium holds {}", when, i,
                                   FlogLayoutName(b.FlogIndices(i)), FlogLayoutName(layouts[i]))};
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckClean(Session& s, const std::string& when) {
  auto report = s.btt().Check(/*repair=*/false);
  if (!report.ok()) return Violation{"ORACLE-CHECK", when + ": " + report.status().ToString()};
  if (!report->Clean()) return Violation{"ORACLE-CHECK", when + ": " + report->ToString()};
  return std::nullopt;
}

Status MoveFlogSlots(sim::Medium& medium, const btt::Geometry& geo, const FlogLayout& target) {
  for (size_t i = 0; i < geo.arenas.size(); ++i) {
    std::vector<btt::FlogGroup> groups = LoadFlog(medium, geo, i);
    for (btt::FlogGroup& g : groups) {
      const uint32_t from = target == kFlogLayout02 ? 1 : 2;
      if (!g.slot[from].IsPadding()) std::swap(g.slot[from], g.slot[target[1]]);
    }
    TP_RETURN_IF_ERROR(properties::StoreDurably(medium, BttRegions(geo, i).flog.begin,
                                                std::as_bytes(std::span(groups))));
  }
  return Status::Ok();
}

Result<BadInputRun> RunFormatRoundTrip(const BadInputCase& c, const RoundTripRewrite& rewrite,
                                       std::optional<btt::Mutant> mutant) {
  TP_ASSIGN_OR_RETURN(
      const ImageCaseShape shape,
      CheckImageCase(c, mutant, kMaxFormatRoundTripNamespaceBytes, "format round trip"));
  const MutantSelection selection(mutant);
  RoundTrip round_trip(c, shape.geometry);
  return round_trip.Run(rewrite);
}

}  // namespace tearproof::traces
