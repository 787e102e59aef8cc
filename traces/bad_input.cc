#include "traces/bad_input.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <utility>

#include "btt/btt.h"
#include "harness/explorer.h"
#include "harness/sequential_sync.h"
#include "harness/sim_namespace.h"
#include "util/endian.h"

namespace tearproof::traces {
namespace {

using properties::IsClearError;
using properties::Op;
using properties::Session;
using properties::View;
using properties::Violation;

// The limit of a sector tag's write id (properties::SectorBytes).
constexpr uint64_t kMaxWriteId = 0xffff;

// The block a raw map entry points at (flags 00 = identity), as Btt::Read resolves it.
uint32_t MappedBlock(uint64_t lba, uint32_t raw) {
  return (raw & btt::kMapFlagMask) == 0 ? static_cast<uint32_t>(lba) : btt::EntLba(raw);
}

uint32_t MapEntryAt(std::span<const std::byte> image, const BttRegions& r, uint64_t lba) {
  return LoadLe32(image.data() + r.map.begin + lba * btt::kMapEntrySize);
}

btt::FlogGroup FlogGroupAt(std::span<const std::byte> image, const BttRegions& r, uint64_t lane) {
  btt::FlogGroup g;
  std::memcpy(&g, image.data() + r.flog.begin + lane * btt::kFlogGroupSize, sizeof(g));
  return g;
}

bool SameBytes(std::span<const std::byte> a, std::span<const std::byte> b, uint64_t begin,
               uint64_t size) {
  return std::memcmp(a.data() + begin, b.data() + begin, size) == 0;
}

bool InfoBlockValid(std::span<const std::byte> image, const BttRegions::Span& span) {
  btt::InfoBlock block;
  std::memcpy(&block, image.data() + span.begin, sizeof(block));
  return btt::CheckInfoBlockIntegrity(block).ok();
}

std::string LbaList(const std::set<uint64_t>& lbas) {
  if (lbas.empty()) return "none";
  std::string out;
  size_t shown = 0;
  for (uint64_t lba : lbas) {
    if (shown++ == 12) return out + fmt::format(", ... ({} in all)", lbas.size());
    out += (out.empty() ? "" : ", ") + std::to_string(lba);
  }
  return out;
}

std::string HexPreview(std::span<const std::byte> bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 16; ++i) {
    out += fmt::format("{:02x}", static_cast<unsigned>(bytes[i]));
  }
  return bytes.size() > 16 ? out + "..." : out;
}

// What one LBA reads, for the timeline.
std::string SectorSummary(const properties::SectorView& v) {
  if (v.code != StatusCode::kOk) return std::string("status ") + StatusCodeName(v.code);
  return "[" + harness::DescribeSector(v.bytes) + "]";
}

// One run of a case. Each step adds its lines to the timeline and returns false when it found
// the run's violation (Fail), which ends the run: the verdict line says what broke.
class Executor : CaseRecorder {
 public:
  Executor(const BadInputCase& c, const btt::Geometry& geometry)
      : c_(c),
        config_(c.device),
        geo_(geometry),
        lbas_(properties::AllLbas(geometry.external_nlba_total)) {}

  Result<BadInputRun> Run(const Corrupter& corrupt) {
    Line(fmt::format("device: {}: one arena, {} LBAs, {}-byte data blocks",
                     properties::ToString(config_), lbas_.size(), geo_.internal_lbasize));
    TP_ASSIGN_OR_RETURN(medium_, properties::MakeMedium(config_));
    if (!Workload() || !Baseline()) return std::move(run_);
    TP_RETURN_IF_ERROR(Corrupt(corrupt));
    Opens();  // the violation, if any, is in run_
    return std::move(run_);
  }

 private:
  // Format, the ops, a clean shutdown.
  bool Workload() {
    const Status formatted = properties::FormatDevice(*medium_, config_);
    if (!formatted.ok()) return Fail("PROP-OP-FAILED", "format: " + formatted.ToString());
    auto s = Session::Open(*medium_, config_, /*read_only=*/false);
    if (!s.ok()) return Fail("ORACLE-RECOVER", "open after format: " + s.status().ToString());
    Line("workload (run to completion, then a clean shutdown): " + properties::ToString(c_.ops));
    for (size_t i = 0; i < c_.ops.size(); ++i) {
      const Op& op = c_.ops[i];
      const Status applied = (*s)->Apply(op);
      if (!applied.ok()) {
        return Fail("PROP-OP-FAILED",
                    fmt::format("op {} ({}): {}", i, properties::ToString(op), applied.ToString()));
      }
      held_[op.lba] = op.Value();
    }
    return true;
  }

  // The uncorrupted device reads the workload back and checks clean.
  bool Baseline() {
    const std::string where = " [baseline, before any corruption]";
    auto s = Session::Open(*medium_, config_, /*read_only=*/false);
    if (!s.ok()) return Fail("ORACLE-RECOVER", "baseline open: " + s.status().ToString());
    if (auto v =
            properties::JudgeView(properties::ReadView((*s)->btt(), lbas_),
                                  properties::AllowedExactly(held_), config_.lbasize, nullptr)) {
      return Fail(v->check, v->detail + where);
    }
    auto report = (*s)->btt().Check(/*repair=*/false);
    if (!report.ok()) return Fail("ORACLE-CHECK", "baseline: " + report.status().ToString());
    if (!report->Clean()) return Fail("ORACLE-CHECK", "baseline: " + report->ToString());
    Line("baseline (reopened before the corruption): every LBA reads its last value, Check clean");
    return true;
  }

  Status Corrupt(const Corrupter& corrupt) {
    const std::vector<std::byte> before =
        properties::LoadBytes(*medium_, 0, config_.namespace_bytes);
    if (corrupt) {
      std::vector<std::byte> image = before;
      corrupt(geo_, image);
      TP_ASSERT(image.size() == before.size(), "INV-BAD-INPUT-IMAGE-SIZE");
      run_.patches = DiffImages(before, image);
    } else {
      run_.patches = c_.patches;
    }
    Line(fmt::format("corruption: {} patch(es) stored durably into the persisted image",
                     run_.patches.size()));
    TP_RETURN_IF_ERROR(StorePatches(*medium_, geo_, run_.patches, &run_.timeline));
    const std::vector<std::byte> after =
        properties::LoadBytes(*medium_, 0, config_.namespace_bytes);
    damage_ = AssessDamage(geo_, before, after);
    run_.touched_lbas = damage_.touched.size();
    for (const std::string& why : damage_.reasons) Line("  " + why);
    Line("touched LBAs (may read anything): " + LbaList(damage_.touched) +
         "; every other LBA must read its last value");
    return Status::Ok();
  }

  // Read-only first, so both opens judge the same bytes; salvage when both refuse.
  bool Opens() {
    std::optional<View> ro_view;
    {
      auto ro = Session::Open(*medium_, config_, /*read_only=*/true);
      Line("read-only open: " + (ro.ok() ? OpenSummary((*ro)->btt().open_report())
                                         : "refused: " + ro.status().ToString()));
      if (ro.ok()) {
        ro_view = properties::ReadView((*ro)->btt(), lbas_);
        if ((*ro)->ns().store_calls() != 0) {
          return Fail("PROP-BAD-RO-EQUALS-RW", "the read-only open stored to the medium");
        }
      } else if (!IsClearError(ro.status())) {
        return Fail("PROP-CLEAR-ERROR", "read-only open: " + ro.status().ToString());
      }
    }
    auto rw = Session::Open(*medium_, config_, /*read_only=*/false);
    Line("read-write open: " + (rw.ok() ? OpenSummary((*rw)->btt().open_report())
                                        : "refused: " + rw.status().ToString()));
    if (!rw.ok() && !IsClearError(rw.status())) {
      return Fail("PROP-CLEAR-ERROR", "read-write open: " + rw.status().ToString());
    }
    if (ro_view.has_value() != rw.ok()) {
      return Fail("PROP-BAD-RO-EQUALS-RW",
                  std::string("the read-only open ") + (ro_view ? "succeeded" : "refused") +
                      ", the read-write open " + (rw.ok() ? "succeeded" : "refused"));
    }
    if (damage_.BothInfoBlocksInvalid() && rw.ok()) {
      return Fail("PROP-BAD-INFO-REFUSED", "both info blocks are corrupt, yet the open succeeded");
    }
    if (!rw.ok()) return Salvage();
    run_.opened = true;
    std::unique_ptr<Session> session = std::move(rw).value();
    const View view = properties::ReadView(session->btt(), lbas_);
    for (const auto& [lba, v] : view) {
      if (ro_view->at(lba) != v) {
        return Fail("PROP-BAD-RO-EQUALS-RW",
                    fmt::format("lba {} reads {} after the read-only open, {} after the "
                                "read-write open",
                                lba, SectorSummary(ro_view->at(lba)), SectorSummary(v)));
      }
    }
    if (!Untouched(view, "read-write open")) return false;
    auto report = session->btt().Check(/*repair=*/false);
    if (!report.ok()) {
      Line("Check: " + report.status().ToString());
      if (!IsClearError(report.status())) {
        return Fail("PROP-CLEAR-ERROR", "Check: " + report.status().ToString());
      }
      return true;
    }
    run_.check_clean = report->Clean();
    if (!report->Clean()) {
      Line("Check: " + report->ToString());
      return true;
    }
    Line("Check: clean, so every LBA must be writable");
    return CleanCheckUsable(std::move(session));
  }

  // Every untouched LBA of `view` reads its last value; with `lost_stores_touched`, a lost map
  // store counts as touched.
  bool Untouched(const View& view, const std::string& open, bool lost_stores_touched = false) {
    View untouched;
    std::string touched;
    for (const auto& [lba, v] : view) {
      if (!damage_.touched.count(lba) &&
          !(lost_stores_touched && damage_.lost_map_stores.count(lba))) {
        untouched[lba] = v;
      } else if (touched.size() < 400) {
        touched += fmt::format("  touched lba {} reads {}\n", lba, SectorSummary(v));
      }
    }
    if (auto v = properties::JudgeView(untouched, properties::AllowedExactly(held_),
                                       config_.lbasize, nullptr)) {
      return Fail("PROP-BAD-UNTOUCHED", v->detail + " (" + open + ")");
    }
    Line(fmt::format("sectors after the {}: the {} untouched LBAs read their last value", open,
                     untouched.size()));
    if (!touched.empty()) {
      touched.pop_back();
      Line(touched);
    }
    return true;
  }

  // Both opens refused: the salvage open (read-only, an unrecoverable flog puts its arena in
  // ERROR) refuses clearly, or stores nothing, serves every untouched LBA its last value, and
  // its Check does not call an arena it salvaged clean. A lost map store is not judged here: an
  // arena whose flog layout is unknown recovers no lane, and then serves the map as it is.
  bool Salvage() {
    harness::SimNamespace ns(*medium_, /*read_only=*/true);
    harness::SequentialSync sync;
    btt::OpenOptions options;
    options.profile = config_.profile;
    options.external_lbasize = config_.lbasize;
    options.sync = &sync;
    options.lanes = btt::kMaxNfree;  // capped at nfree: every lane is in use, as in Session
    options.salvage = true;
    auto opened = btt::Btt::Open(ns, options);
    Line("salvage open: " + (opened.ok() ? OpenSummary((*opened)->open_report())
                                         : "refused: " + opened.status().ToString()));
    if (!opened.ok()) {
      if (!IsClearError(opened.status())) {
        return Fail("PROP-CLEAR-ERROR", "salvage open: " + opened.status().ToString());
      }
      return true;
    }
    btt::Btt& b = **opened;
    if (ns.store_calls() != 0) return Fail("PROP-BAD-SALVAGE", "the salvage open stored");
    if (!Untouched(properties::ReadView(b, lbas_), "salvage open", /*lost_stores_touched=*/true)) {
      return false;
    }
    auto report = b.Check(/*repair=*/false);
    if (!report.ok()) {
      Line("Check: " + report.status().ToString());
      if (!IsClearError(report.status())) {
        return Fail("PROP-CLEAR-ERROR",
                    "Check after the salvage open: " + report.status().ToString());
      }
      return true;
    }
    Line("Check: " + (report->Clean() ? std::string("clean") : report->ToString()));
    if (report->Clean() && !b.open_report().salvaged.empty()) {
      return Fail("PROP-BAD-SALVAGE", "Check calls clean an arena the salvage open put in ERROR (" +
                                          b.open_report().salvaged.front() + ")");
    }
    return true;
  }

  // Check called the opened device clean: every LBA can be written, and a reopen reads every
  // new value and checks clean.
  bool CleanCheckUsable(std::unique_ptr<Session> session) {
    properties::ValueId next_id = 1;
    for (const Op& op : c_.ops) next_id = std::max(next_id, op.id + 1);
    std::map<uint64_t, properties::ValueId> rewritten;
    for (uint64_t lba : lbas_) {
      const Op op{Op::Kind::kWrite, lba, next_id++};
      const Status s = session->Apply(op);
      if (!s.ok()) {
        return Fail("PROP-CLEAN-CHECK-USABLE", properties::ToString(op) + ": " + s.ToString());
      }
      rewritten[lba] = op.id;
    }
    session.reset();
    auto again = Session::Open(*medium_, config_, /*read_only=*/false);
    if (!again.ok()) return Fail("PROP-CLEAN-CHECK-USABLE", "reopen: " + again.status().ToString());
    if (auto v = properties::JudgeView(properties::ReadView((*again)->btt(), lbas_),
                                       properties::AllowedExactly(rewritten), config_.lbasize,
                                       nullptr)) {
      return Fail("PROP-CLEAN-CHECK-USABLE", v->detail);
    }
    auto report = (*again)->btt().Check(/*repair=*/false);
    if (!report.ok()) {
      return Fail("PROP-CLEAN-CHECK-USABLE", "Check: " + report.status().ToString());
    }
    if (!report->Clean()) return Fail("PROP-CLEAN-CHECK-USABLE", report->ToString());
    Line("every LBA rewritten, reopened: reads the new values, Check clean");
    return true;
  }

  const BadInputCase& c_;
  const properties::DeviceConfig& config_;
  const btt::Geometry& geo_;
  const std::vector<uint64_t> lbas_;
  std::optional<sim::Medium> medium_;
  std::map<uint64_t, properties::ValueId> held_;
  BadInputDamage damage_;
};

}  // namespace

MutantSelection::MutantSelection([[maybe_unused]] std::optional<btt::Mutant> mutant) {
#ifdef TEARPROOF_BTT_MUTANTS
  if (mutant) {
    previous_ = btt::ActiveMutant();
    btt::SetMutant(*mutant);
  }
#endif
}

MutantSelection::~MutantSelection() {
#ifdef TEARPROOF_BTT_MUTANTS
  if (previous_) btt::SetMutant(*previous_);
#endif
}

std::string OpenSummary(const btt::OpenReport& r) {
  std::string s;
  auto add = [&s](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
  if (r.primaries_from_backup != 0) add("primary info block read from the backup");
  if (r.primaries_restored != 0) add("primary restored from the backup");
  if (r.lanes_rolled_forward != 0)
    add(fmt::format("{} lane(s) rolled forward", r.lanes_rolled_forward));
  for (const std::string& why : r.salvaged) add("salvaged: " + why);
  return s.empty() ? "opened" : "opened (" + s + ")";
}

Status StorePatches(sim::Medium& medium, const btt::Geometry& geo,
                    const std::vector<BytePatch>& patches, std::vector<std::string>* timeline) {
  for (size_t i = 0; i < patches.size(); ++i) {
    const BytePatch& p = patches[i];
    std::string hit, last;  // each structure the patch covers, once
    for (uint64_t off = p.offset; off < p.end(); ++off) {
      std::string what = DescribeBttByte(geo, off);
      if (what == last) continue;
      hit += (hit.empty() ? "" : ", ") + what;
      last = std::move(what);
    }
    const std::vector<std::byte> before = properties::LoadBytes(medium, p.offset, p.bytes.size());
    timeline->push_back(fmt::format("  patch {}  0x{:x}+{}  {}: {} -> {}", i, p.offset,
                                    p.bytes.size(), hit, HexPreview(before), HexPreview(p.bytes)));
    TP_RETURN_IF_ERROR(properties::StoreDurably(medium, p.offset, p.bytes));
  }
  return Status::Ok();
}

BttRegions::BttRegions(const btt::Geometry& geo, size_t arena) {
  const btt::ArenaGeometry& a = geo.arenas[arena];
  const uint64_t base = geo.btt_offset + a.offset;
  map = {base + a.mapoff, uint64_t{a.external_nlba} * btt::kMapEntrySize};
  flog = {base + a.flogoff, uint64_t{geo.nfree} * btt::kFlogGroupSize};
  data = {base + a.dataoff, uint64_t{a.internal_nlba} * geo.internal_lbasize};
  primary = {base, btt::kInfoBlockSize};
  backup = {base + a.infooff, btt::kInfoBlockSize};
  container = {0, geo.profile == btt::Profile::kPmemblk
                      ? btt::kPmemblkHeaderOffset + sizeof(btt::PmemblkHeader)
                      : geo.btt_offset};
}

BadInputDamage AssessDamage(const btt::Geometry& geo, std::span<const std::byte> before,
                            std::span<const std::byte> after) {
  const BttRegions r(geo);
  const uint64_t nlba = geo.external_nlba_total;
  BadInputDamage d;
  auto touch = [&d](uint64_t lba) { d.touched.insert(lba); };

  // Flog lanes: a changed lane can redirect recovery to the LBAs its slots name, before or after.
  std::vector<bool> lane_changed(geo.nfree);
  for (uint32_t lane = 0; lane < geo.nfree; ++lane) {
    const uint64_t begin = r.flog.begin + uint64_t{lane} * btt::kFlogGroupSize;
    if (SameBytes(before, after, begin, btt::kFlogGroupSize)) continue;
    lane_changed[lane] = true;
    std::set<uint64_t> named;
    for (std::span<const std::byte> image : {before, after}) {
      for (const btt::FlogSlot& slot : FlogGroupAt(image, r, lane).slot) named.insert(slot.lba);
    }
    for (uint64_t lba : named) touch(lba);
    d.reasons.push_back(
        fmt::format("flog lane {} changed: its slots name lbas {}", lane, LbaList(named)));
  }
  // Map entries: a lost map store (the newer slot of an unchanged lane, its new_map replaced by
  // its old_map) is the one change recovery must undo; any other change touches its LBA.
  for (uint64_t lba = 0; lba < nlba; ++lba) {
    const uint32_t was = MapEntryAt(before, r, lba), now = MapEntryAt(after, r, lba);
    if (was == now) continue;
    bool lost_store = false;
    for (uint32_t lane = 0; lane < geo.nfree && !lost_store; ++lane) {
      if (lane_changed[lane]) continue;
      const auto slot = properties::NewerFlogSlot(FlogGroupAt(before, r, lane));
      lost_store = slot && slot->lba == lba &&
                   btt::EntLba(slot->old_map) != btt::EntLba(slot->new_map) &&
                   btt::EntLba(slot->old_map) < geo.arenas[0].internal_nlba &&
                   was == (btt::EntLba(slot->new_map) | btt::kMapNormal) &&
                   now == (btt::EntLba(slot->old_map) | btt::kMapNormal);
      if (lost_store) {
        d.lost_map_stores.insert(lba);
        d.reasons.push_back(fmt::format(
            "map entry of lba {} went back to the old_map of flog lane {}: a lost map store, "
            "recovery must roll it forward (untouched)",
            lba, lane));
      }
    }
    if (!lost_store) {
      touch(lba);
      d.reasons.push_back(
          fmt::format("map entry of lba {} changed: {:08x} -> {:08x}", lba, was, now));
    }
  }
  // Data blocks: the LBAs the map (before) points there.
  std::map<uint32_t, std::vector<uint64_t>> lbas_of_block;
  for (uint64_t off = r.data.begin; off < r.data.begin + r.data.size;) {
    const uint64_t block = (off - r.data.begin) / geo.internal_lbasize;
    const uint64_t block_begin = r.data.begin + block * geo.internal_lbasize;
    off = block_begin + geo.internal_lbasize;
    if (SameBytes(before, after, block_begin, geo.internal_lbasize)) continue;
    if (lbas_of_block.empty()) {
      for (uint64_t lba = 0; lba < nlba; ++lba) {
        lbas_of_block[MappedBlock(lba, MapEntryAt(before, r, lba))].push_back(lba);
      }
    }
    std::set<uint64_t> holders;
    for (uint64_t lba : lbas_of_block[static_cast<uint32_t>(block)]) holders.insert(lba);
    for (uint64_t lba : holders) touch(lba);
    d.reasons.push_back(
        fmt::format("data block {} changed: it holds lbas {}", block, LbaList(holders)));
  }
  // Info blocks.
  d.primary_changed = !SameBytes(before, after, r.primary.begin, r.primary.size);
  d.backup_changed = !SameBytes(before, after, r.backup.begin, r.backup.size);
  d.primary_valid = InfoBlockValid(after, r.primary);
  d.backup_valid = InfoBlockValid(after, r.backup);
  for (const auto& [name, changed, valid] :
       {std::tuple{"primary", d.primary_changed, d.primary_valid},
        std::tuple{"backup", d.backup_changed, d.backup_valid}}) {
    if (!changed) continue;
    if (valid) {
      for (uint64_t lba = 0; lba < nlba; ++lba) touch(lba);
      d.reasons.push_back(fmt::format(
          "{} info block changed and still passes its integrity check (a consistent lie "
          "about the layout): every LBA is touched",
          name));
    } else {
      d.reasons.push_back(fmt::format("{} info block changed and fails its integrity check", name));
    }
  }
  if (d.BothInfoBlocksInvalid()) d.reasons.push_back("both info blocks corrupt: opens must refuse");
  return d;
}

std::vector<BytePatch> DiffImages(std::span<const std::byte> before,
                                  std::span<const std::byte> after) {
  TP_ASSERT(before.size() == after.size(), "INV-BAD-INPUT-IMAGE-SIZE");
  std::vector<BytePatch> patches;
  for (size_t i = 0; i < before.size();) {
    if (before[i] == after[i]) {
      ++i;
      continue;
    }
    BytePatch p{i, {}};
    for (; i < before.size() && before[i] != after[i]; ++i) p.bytes.push_back(after[i]);
    patches.push_back(std::move(p));
  }
  return patches;
}

std::string DescribeBttByte(const btt::Geometry& geo, uint64_t offset) {
  static constexpr std::pair<uint64_t, const char*> kInfoFields[] = {
      {offsetof(btt::InfoBlock, sig), "sig"},
      {offsetof(btt::InfoBlock, uuid), "uuid"},
      {offsetof(btt::InfoBlock, parent_uuid), "parent_uuid"},
      {offsetof(btt::InfoBlock, flags), "flags"},
      {offsetof(btt::InfoBlock, major), "major"},
      {offsetof(btt::InfoBlock, minor), "minor"},
      {offsetof(btt::InfoBlock, external_lbasize), "external_lbasize"},
      {offsetof(btt::InfoBlock, external_nlba), "external_nlba"},
      {offsetof(btt::InfoBlock, internal_lbasize), "internal_lbasize"},
      {offsetof(btt::InfoBlock, internal_nlba), "internal_nlba"},
      {offsetof(btt::InfoBlock, nfree), "nfree"},
      {offsetof(btt::InfoBlock, infosize), "infosize"},
      {offsetof(btt::InfoBlock, nextoff), "nextoff"},
      {offsetof(btt::InfoBlock, dataoff), "dataoff"},
      {offsetof(btt::InfoBlock, mapoff), "mapoff"},
      {offsetof(btt::InfoBlock, flogoff), "flogoff"},
      {offsetof(btt::InfoBlock, infooff), "infooff"},
      {offsetof(btt::InfoBlock, unused), "unused"},
      {offsetof(btt::InfoBlock, checksum), "checksum"}};
  static constexpr const char* kSlotFields[] = {"lba", "old_map", "new_map", "seq"};
  auto info_field = [](uint64_t in) {
    const char* name = kInfoFields[0].second;
    for (const auto& [at, field] : kInfoFields) {
      if (in >= at) name = field;
    }
    return std::string(name);
  };
  const BttRegions first(geo);
  if (offset < geo.btt_offset) {
    if (geo.profile != btt::Profile::kPmemblk) return "before the BTT (unused)";
    if (offset < btt::kPmemblkHeaderOffset) return "pmemblk pool header";
    return first.container.Contains(offset) ? "pmemblk header" : "pmemblk pool, unused";
  }
  // The arena holding the byte: the last one that starts at or before it.
  size_t arena = 0;
  while (arena + 1 < geo.arenas.size() && geo.btt_offset + geo.arenas[arena + 1].offset <= offset) {
    ++arena;
  }
  const BttRegions r(geo, arena);
  const std::string name = fmt::format("arena {} ", arena);
  if (r.primary.Contains(offset)) {
    return name + "primary info block " + info_field(offset - r.primary.begin);
  }
  if (r.backup.Contains(offset)) {
    return name + "backup info block " + info_field(offset - r.backup.begin);
  }
  if (r.map.Contains(offset)) {
    const uint64_t entry = (offset - r.map.begin) / btt::kMapEntrySize;
    uint64_t first_lba = 0;  // the arena's first external LBA
    for (size_t i = 0; i < arena; ++i) first_lba += geo.arenas[i].external_nlba;
    return name + fmt::format("map entry {} (lba {})", entry, first_lba + entry);
  }
  if (r.flog.Contains(offset)) {
    const uint64_t in = offset - r.flog.begin;
    const uint64_t in_slot = in % btt::kFlogGroupSize % sizeof(btt::FlogSlot);
    return name + fmt::format("flog lane {} slot {} {}", in / btt::kFlogGroupSize,
                              in % btt::kFlogGroupSize / sizeof(btt::FlogSlot),
                              kSlotFields[in_slot / 4]);
  }
  if (r.data.Contains(offset)) {
    return name + fmt::format("data block {}", (offset - r.data.begin) / geo.internal_lbasize);
  }
  return fmt::format("arena {}, outside its info blocks, map, flog and data", arena);
}

Result<ImageCaseShape> CheckImageCase(const BadInputCase& c, std::optional<btt::Mutant> mutant,
                                      uint64_t max_namespace_bytes, const std::string& kind) {
  const properties::DeviceConfig& d = c.device;
  if (!btt::kMutantsCompiledIn && mutant && *mutant != btt::Mutant::kNone) {
    return InvalidArgument("this build runs the real core only");
  }
  if (d.namespace_bytes > max_namespace_bytes) {
    return InvalidArgument(fmt::format("a namespace of {} bytes is larger than a {} allows ({})",
                                       d.namespace_bytes, kind, max_namespace_bytes));
  }
  ImageCaseShape shape;
  auto geometry = btt::ComputeGeometry(d.profile, d.namespace_bytes, d.lbasize, d.nfree);
  if (!geometry.ok()) return geometry.status().Annotate("the device's geometry: ");
  shape.geometry = *std::move(geometry);
  const uint64_t nlba = shape.geometry.external_nlba_total;
  for (const std::vector<Op>* list : {&c.ops, &c.after_ops}) {
    const char* which = list == &c.ops ? "op" : "after op";
    for (size_t i = 0; i < list->size(); ++i) {
      const Op& op = (*list)[i];
      if (op.lba >= nlba) {
        return InvalidArgument(fmt::format("{} {} ({}) names an LBA the device lacks (it has {})",
                                           which, i, properties::ToString(op), nlba));
      }
      shape.writes += op.kind == Op::Kind::kWrite ? 1 : 0;
      if (op.kind == Op::Kind::kWrite && (op.id == 0 || op.id > kMaxWriteId)) {
        return InvalidArgument(fmt::format("{} {} has write id {}", which, i, op.id));
      }
    }
  }
  if (shape.writes > kMaxWriteId) {
    return InvalidArgument(fmt::format("{} writes exceed the {} write ids of a sector tag",
                                       shape.writes, kMaxWriteId));
  }
  // The rules of the file format (trace.cc ParseCorruption), for cases made in memory.
  for (size_t i = 0; i < c.patches.size(); ++i) {
    const BytePatch& p = c.patches[i];
    if (p.offset > d.namespace_bytes || p.bytes.size() > d.namespace_bytes - p.offset) {
      return InvalidArgument(fmt::format("patch 0x{:x}+{} reaches past the namespace ({} bytes)",
                                         p.offset, p.bytes.size(), d.namespace_bytes));
    }
    if (i > 0 && p.offset < c.patches[i - 1].end()) {
      return InvalidArgument(
          fmt::format("patch 0x{:x}+{} is not after the one before it", p.offset, p.bytes.size()));
    }
  }
  return shape;
}

Result<BadInputRun> RunBadInputCase(const BadInputCase& c, const Corrupter& corrupt,
                                    std::optional<btt::Mutant> mutant) {
  TP_ASSIGN_OR_RETURN(const ImageCaseShape shape,
                      CheckImageCase(c, mutant, kMaxBadInputNamespaceBytes, "bad-input case"));
  if (shape.geometry.arenas.size() != 1) {
    return InvalidArgument(fmt::format("a bad-input case has one arena, this geometry has {}",
                                       shape.geometry.arenas.size()));
  }
  if (!c.after_ops.empty()) return InvalidArgument("a bad-input case has no second history");
  // The rewrite of every LBA (PROP-CLEAN-CHECK-USABLE) takes the ids after the workload's.
  const uint64_t nlba = shape.geometry.external_nlba_total;
  if (shape.writes + nlba > kMaxWriteId) {
    return InvalidArgument(
        fmt::format("{} writes and {} LBAs exceed the {} write ids of a sector tag", shape.writes,
                    nlba, kMaxWriteId));
  }
  const MutantSelection selection(mutant);
  Executor executor(c, shape.geometry);
  return executor.Run(corrupt);
}

Trace BadInputTrace(const BadInputCase& c, const std::string& mutant,
                    const properties::Violation& violation, TraceKind kind) {
  Trace t;
  t.kind = kind;
  t.tool_commit = ToolCommit();
  t.mutant = mutant;
  t.config.device = harness::Device::kBtt;
  t.bad_input = c;
  NumberBadInputWrites(t.bad_input);  // the ids the file implies
  t.expect = {true, violation.check, violation.detail};
  return t;
}

}  // namespace tearproof::traces
