// Family "bad-input": random corruption of info blocks, map, flog, data or container header
// gives a clear error or a correct recovery — never a crash or UB — and sectors whose metadata
// and data were not touched never lose data.
//
// Case: a one-arena device, a history (completed), then 1..4 corruptions made on the medium
// directly (not through the BTT): a byte flipped in a region, or a "stale map entry" (a lane's
// last committed write made to look as if its map store was lost), optionally with both info
// blocks' checksums recomputed so that corrupt fields pass the checksum. Checks:
//   ORACLE-ATOMIC / ORACLE-CHECK before corruption (the baseline: the history reads back);
//   PROP-CLEAR-ERROR         a refused open (or Check) returns a Status naming an INV-*;
//   PROP-BAD-RO-EQUALS-RW    read-only and read-write opens both succeed or both refuse; when
//                            both succeed the read-only one stores nothing and shows the same;
//   PROP-BAD-INFO-REFUSED    with both info blocks corrupt (checksums not recomputed) the open
//                            is refused;
//   PROP-BAD-UNTOUCHED       every LBA whose map entry, flog lane and data block were left alone
//                            reads its last value (a stale map entry that is exactly a lost map
//                            store counts as untouched: recovery must roll it forward);
//   PROP-CLEAN-CHECK-USABLE  when Check calls the opened device clean, every LBA can be written,
//                            and a reopen reads every new value and checks clean.
#include <rapidcheck.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "btt/layout.h"
#include "properties/families.h"
#include "properties/generators.h"
#include "properties/prop_assert.h"
#include "properties/sim_device.h"
#include "util/endian.h"

namespace tearproof::properties {
namespace {

enum class Region : uint8_t {
  kMap,
  kFlog,
  kData,
  kPrimaryInfo,
  kBackupInfo,
  kContainer,  // bytes before the BTT: pmemblk pool + pmemblk headers; linux's first 4 KiB
  kStaleMap,   // not a byte flip: map[lba] := a lane's last old_map
};

struct Corruption {
  Region region = Region::kMap;
  uint64_t at = 0;   // offset in the region (modulo its size); kStaleMap: the lane
  uint8_t mask = 1;  // XORed into the byte
};

const char* RegionName(Region r) {
  switch (r) {
    case Region::kMap:
      return "map";
    case Region::kFlog:
      return "flog";
    case Region::kData:
      return "data";
    case Region::kPrimaryInfo:
      return "primary-info";
    case Region::kBackupInfo:
      return "backup-info";
    case Region::kContainer:
      return "container";
    case Region::kStaleMap:
      return "stale-map";
  }
  return "?";
}

void showValue(const Corruption& c, std::ostream& os) {
  os << RegionName(c.region);
  if (c.region == Region::kStaleMap) {
    os << " lane " << c.at;
  } else {
    os << " +" << c.at << " ^0x" << std::hex << static_cast<int>(c.mask) << std::dec;
  }
}

rc::Gen<Corruption> GenCorruption() {
  return rc::gen::exec([] {
    Corruption c;
    c.region = *rc::gen::weightedElement<Region>({{4, Region::kMap},
                                                  {4, Region::kFlog},
                                                  {2, Region::kData},
                                                  {2, Region::kPrimaryInfo},
                                                  {2, Region::kBackupInfo},
                                                  {1, Region::kContainer},
                                                  {3, Region::kStaleMap}});
    c.at = *rc::gen::arbitrary<uint32_t>();
    c.mask = *rc::gen::inRange<uint8_t>(1, 255);
    return c;
  });
}

struct Span {
  uint64_t begin = 0;
  uint64_t size = 0;
  bool Contains(uint64_t off) const { return off >= begin && off - begin < size; }
};

// Where each region lies in a one-arena namespace.
struct Regions {
  explicit Regions(const btt::Geometry& geo) {
    const btt::ArenaGeometry& a = geo.arenas[0];
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
  Span Of(Region r) const {
    switch (r) {
      case Region::kMap:
        return map;
      case Region::kFlog:
        return flog;
      case Region::kData:
        return data;
      case Region::kPrimaryInfo:
        return primary;
      case Region::kBackupInfo:
        return backup;
      case Region::kContainer:
        return container;
      case Region::kStaleMap:
        return {};
    }
    return {};
  }
  Span map, flog, data, primary, backup, container;
};

// The block a raw map entry points at (00 = identity), as Btt::Read resolves it.
uint32_t MappedBlock(uint64_t lba, uint32_t raw) {
  return (raw & btt::kMapFlagMask) == 0 ? static_cast<uint32_t>(lba) : btt::EntLba(raw);
}

struct Damage {
  std::set<uint64_t> touched;  // LBAs that may read anything
  bool primary_changed = false;
  bool backup_changed = false;
};

}  // namespace

void BadInputProperty() {
  const DeviceConfig config = *GenDeviceConfig();
  const btt::Geometry geo = ValueOrFail(
      btt::ComputeGeometry(config.profile, config.namespace_bytes, config.lbasize, config.nfree),
      "geometry");
  const uint64_t nlba = geo.external_nlba_total;
  const std::vector<Op> history = *rc::gen::nonEmpty(GenHistory(GenLba(nlba)));
  const std::vector<Corruption> corruptions = *rc::gen::container<std::vector<Corruption>>(
      *rc::gen::inRange<size_t>(1, 5), GenCorruption());
  const bool rechecksum = *rc::gen::weightedElement<bool>({{4, false}, {1, true}});
  const std::vector<uint64_t> lbas = AllLbas(nlba);
  const Regions regions(geo);

  // The history, then the baseline: the uncorrupted device reads it back and checks clean.
  sim::Medium medium = ValueOrFail(MakeMedium(config), "medium");
  OkOrFail(FormatDevice(medium, config), "format");
  std::map<uint64_t, ValueId> held;
  ValueId next_id = 1;
  std::vector<uint32_t> raw_of(nlba);    // map entries before corruption
  std::vector<uint32_t> block_of(nlba);  // ... and the blocks they point at
  {
    auto s = ValueOrFail(Session::Open(medium, config, false), "open");
    for (const Op& op : history) {
      OkOrFail(s->Apply(op), "PROP-OP-FAILED: " + ToString(op));
      held[op.lba] = op.Value();
      if (op.kind == Op::Kind::kWrite) next_id = op.id + 1;
    }
  }
  {
    auto s = ValueOrFail(Session::Open(medium, config, false), "ORACLE-RECOVER: baseline open");
    FailIf(JudgeView(ReadView(s->btt(), lbas), AllowedExactly(held), config.lbasize, nullptr),
           "baseline, before any corruption");
    auto report = ValueOrFail(s->btt().Check(false), "ORACLE-CHECK: baseline");
    if (!report.Clean()) RC_FAIL("ORACLE-CHECK: baseline: " + report.ToString());
    for (uint64_t lba : lbas) {
      raw_of[lba] = ValueOrFail(s->btt().MapEntryForTest(btt::ExternalLba(lba)), "map entry");
      block_of[lba] = MappedBlock(lba, raw_of[lba]);
    }
  }

  // Corrupt, remembering which LBAs each change can reach.
  const std::vector<std::byte> before = LoadBytes(medium, 0, config.namespace_bytes);
  std::map<uint64_t, uint32_t> lost_map_store;  // lba -> stale entry equal to a lost P4
  for (const Corruption& c : corruptions) {
    if (c.region == Region::kStaleMap) {
      const auto lane = static_cast<uint32_t>(c.at % geo.nfree);
      const auto slot = NewerFlogSlot(LoadFlogGroup(medium, geo, lane));
      if (!slot || btt::EntLba(slot->old_map) == btt::EntLba(slot->new_map) || slot->lba >= nlba ||
          btt::EntLba(slot->old_map) >= geo.arenas[0].internal_nlba) {
        continue;  // an initial or undecodable slot has no map store to lose
      }
      const uint32_t stale = btt::EntLba(slot->old_map) | btt::kMapNormal;
      std::byte bytes[4];
      StoreLe<uint32_t>(bytes, stale);
      OkOrFail(StoreDurably(medium, regions.map.begin + uint64_t{slot->lba} * 4, bytes), "corrupt");
      // Exactly a crash between the flog commit (P3) and the map store (P4) iff the entry is
      // still what that P4 stored (new block, both flags: no zero or error flag set since):
      // recovery must then roll it forward to the LBA's last value.
      if (raw_of[slot->lba] == (btt::EntLba(slot->new_map) | btt::kMapNormal)) {
        lost_map_store[slot->lba] = stale;
      }
      continue;
    }
    const Span span = regions.Of(c.region);
    if (span.size == 0) continue;
    const uint64_t off = span.begin + c.at % span.size;
    std::vector<std::byte> b = LoadBytes(medium, off, 1);
    b[0] ^= std::byte{c.mask};
    OkOrFail(StoreDurably(medium, off, b), "corrupt");
  }
  if (rechecksum) {
    for (const Span& info : {regions.primary, regions.backup}) {
      btt::InfoBlock block;
      std::memcpy(&block, LoadBytes(medium, info.begin, sizeof(block)).data(), sizeof(block));
      block.checksum = btt::InfoBlockChecksum(block);
      OkOrFail(StoreDurably(medium, info.begin, std::as_bytes(std::span(&block, 1))), "checksum");
    }
  }
  const std::vector<std::byte> after = LoadBytes(medium, 0, config.namespace_bytes);

  Damage damage;
  for (uint64_t off = 0; off < after.size(); ++off) {
    if (before[off] == after[off]) continue;
    if (regions.map.Contains(off)) {
      const uint64_t lba = (off - regions.map.begin) / btt::kMapEntrySize;
      const uint32_t now = LoadLe32(after.data() + regions.map.begin + lba * 4);
      const auto lost = lost_map_store.find(lba);
      if (lost == lost_map_store.end() || lost->second != now) damage.touched.insert(lba);
    } else if (regions.flog.Contains(off)) {
      // A lane's flog can redirect recovery to the LBAs its slots name, before or after.
      const uint64_t lane = (off - regions.flog.begin) / btt::kFlogGroupSize;
      for (const std::vector<std::byte>* image : {&before, &after}) {
        btt::FlogGroup g;
        std::memcpy(&g, image->data() + regions.flog.begin + lane * btt::kFlogGroupSize, sizeof(g));
        for (const btt::FlogSlot& slot : g.slot) damage.touched.insert(slot.lba);
      }
    } else if (regions.data.Contains(off)) {
      const uint64_t block = (off - regions.data.begin) / geo.internal_lbasize;
      for (uint64_t lba : lbas) {
        if (block_of[lba] == block) damage.touched.insert(lba);
      }
    } else if (regions.primary.Contains(off)) {
      damage.primary_changed = true;
    } else if (regions.backup.Contains(off)) {
      damage.backup_changed = true;
    }
  }
  if (rechecksum && (damage.primary_changed || damage.backup_changed)) {
    damage.touched.insert(lbas.begin(), lbas.end());  // a consistent lie about the geometry
  }
  // A lost map store whose lane is also damaged is judged by the flog rule above.
  RC_TAG(damage.touched.empty() ? "no sector touched" : "sectors touched");

  // Read-only first, so both opens judge the same bytes.
  auto ro = Session::Open(medium, config, /*read_only=*/true);
  std::optional<View> ro_view;
  if (ro.ok()) {
    ro_view = ReadView((*ro)->btt(), lbas);
    if ((*ro)->ns().store_calls() != 0) RC_FAIL("PROP-BAD-RO-EQUALS-RW: read-only open stored");
  } else {
    ExpectClearError(ro.status(), "read-only open");
  }
  auto rw = Session::Open(medium, config, /*read_only=*/false);
  if (!rw.ok()) ExpectClearError(rw.status(), "read-write open");
  RC_TAG(rw.ok() ? "opened" : "refused");
  if (ro.ok() != rw.ok()) {
    RC_FAIL("PROP-BAD-RO-EQUALS-RW: read-only open " + ro.status().ToString() +
            ", read-write open " + rw.status().ToString());
  }
  if (damage.primary_changed && damage.backup_changed && !rechecksum && rw.ok()) {
    RC_FAIL("PROP-BAD-INFO-REFUSED: both info blocks are corrupt, yet the open succeeded");
  }
  if (!rw.ok()) return;
  std::unique_ptr<Session> session = std::move(rw).value();
  Session& s = *session;
  const View view = ReadView(s.btt(), lbas);
  if (*ro_view != view) {
    RC_FAIL("PROP-BAD-RO-EQUALS-RW: the two opens show other sectors");
  }
  View untouched;
  for (const auto& [lba, v] : view) {
    if (!damage.touched.count(lba)) untouched[lba] = v;
  }
  if (auto v = JudgeView(untouched, AllowedExactly(held), config.lbasize, nullptr)) {
    RC_FAIL("PROP-BAD-UNTOUCHED: " + v->detail);
  }

  auto report = s.btt().Check(/*repair=*/false);
  if (!report.ok()) {
    ExpectClearError(report.status(), "Check");
    return;
  }
  RC_TAG(report->Clean() ? "check clean" : "check findings");
  if (!report->Clean()) return;
  std::map<uint64_t, ValueId> rewritten;
  for (uint64_t lba : lbas) {
    const Op op{Op::Kind::kWrite, lba, next_id++};
    OkOrFail(s.Apply(op), "PROP-CLEAN-CHECK-USABLE: " + ToString(op));
    rewritten[lba] = op.id;
  }
  session.reset();
  auto again = ValueOrFail(Session::Open(medium, config, false), "PROP-CLEAN-CHECK-USABLE: reopen");
  if (auto v = JudgeView(ReadView(again->btt(), lbas), AllowedExactly(rewritten), config.lbasize,
                         nullptr)) {
    RC_FAIL("PROP-CLEAN-CHECK-USABLE: " + v->detail);
  }
  auto final_report = ValueOrFail(again->btt().Check(false), "PROP-CLEAN-CHECK-USABLE: Check");
  if (!final_report.Clean()) RC_FAIL("PROP-CLEAN-CHECK-USABLE: " + final_report.ToString());
}

}  // namespace tearproof::properties
