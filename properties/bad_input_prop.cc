// Family "bad-input": random corruption of info blocks, map, flog, data or container header
// gives a clear error or a correct recovery — never a crash or UB — and sectors whose metadata
// and data were not touched never lose data.
//
// Case: a one-arena device, a history (completed, then a clean shutdown), then 1..4 corruptions
// made on the persisted image directly (not through the BTT): a byte flipped in a region, or a
// "stale map entry" (a lane's last committed write made to look as if its map store was lost),
// optionally with both info blocks' checksums recomputed so that corrupt fields pass the
// checksum. The corruptions only say how to change the image; the bytes they change become the
// case's patches, and traces::RunBadInputCase (traces/bad_input.h) runs and judges the case —
// the same executor `tearproof replay` runs a bad-input trace with. Its checks:
//   ORACLE-ATOMIC / ORACLE-CHECK before corruption (the baseline: the history reads back);
//   PROP-CLEAR-ERROR         a refused open (or Check) returns a Status naming an INV-*;
//   PROP-BAD-RO-EQUALS-RW    read-only and read-write opens both succeed or both refuse; when
//                            both succeed the read-only one stores nothing and shows the same;
//   PROP-BAD-INFO-REFUSED    with both info blocks corrupt (failing their checksum) the open
//                            is refused;
//   PROP-BAD-UNTOUCHED       every LBA whose map entry, flog lane and data block were left alone
//                            reads its last value (a stale map entry that is exactly a lost map
//                            store counts as untouched: recovery must roll it forward);
//   PROP-BAD-SALVAGE         when both opens refuse, the salvage open refuses clearly or stores
//                            nothing, serves the untouched LBAs, and its Check does not call a
//                            salvaged arena clean;
//   PROP-CLEAN-CHECK-USABLE  when Check calls the opened device clean, every LBA can be written,
//                            and a reopen reads every new value and checks clean.
// A failed case is remembered (bad_input_case.h) and becomes a bad-input trace.
#include <rapidcheck.h>

#include <cstring>
#include <optional>

#include "btt/layout.h"
#include "harness/explorer.h"
#include "properties/bad_input_case.h"
#include "properties/crash_case.h"
#include "properties/families.h"
#include "properties/generators.h"
#include "properties/prop_assert.h"
#include "properties/sim_device.h"
#include "traces/bad_input.h"
#include "traces/replay.h"
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

// Applies the corruptions to the persisted image, in order (a stale map entry reads the flog as
// the earlier corruptions left it).
void Corrupt(const std::vector<Corruption>& corruptions, bool rechecksum, const btt::Geometry& geo,
             std::vector<std::byte>& image) {
  const traces::BttRegions regions(geo);
  auto span_of = [&regions](Region r) -> traces::BttRegions::Span {
    switch (r) {
      case Region::kMap:
        return regions.map;
      case Region::kFlog:
        return regions.flog;
      case Region::kData:
        return regions.data;
      case Region::kPrimaryInfo:
        return regions.primary;
      case Region::kBackupInfo:
        return regions.backup;
      case Region::kContainer:
        return regions.container;
      case Region::kStaleMap:
        return {};
    }
    return {};
  };
  for (const Corruption& c : corruptions) {
    if (c.region == Region::kStaleMap) {
      const auto lane = static_cast<uint32_t>(c.at % geo.nfree);
      btt::FlogGroup group;
      std::memcpy(&group, image.data() + regions.flog.begin + uint64_t{lane} * btt::kFlogGroupSize,
                  sizeof(group));
      const auto slot = NewerFlogSlot(group);
      if (!slot || btt::EntLba(slot->old_map) == btt::EntLba(slot->new_map) ||
          slot->lba >= geo.external_nlba_total ||
          btt::EntLba(slot->old_map) >= geo.arenas[0].internal_nlba) {
        continue;  // an initial or undecodable slot has no map store to lose
      }
      StoreLe<uint32_t>(image.data() + regions.map.begin + uint64_t{slot->lba} * 4,
                        btt::EntLba(slot->old_map) | btt::kMapNormal);
      continue;
    }
    const traces::BttRegions::Span span = span_of(c.region);
    if (span.size == 0) continue;
    image[span.begin + c.at % span.size] ^= std::byte{c.mask};
  }
  if (rechecksum) {
    for (const traces::BttRegions::Span& info : {regions.primary, regions.backup}) {
      btt::InfoBlock block;
      std::memcpy(&block, image.data() + info.begin, sizeof(block));
      block.checksum = btt::InfoBlockChecksum(block);
      std::memcpy(image.data() + info.begin, &block, sizeof(block));
    }
  }
}

thread_local std::optional<FailedBadInputCase> g_last_failed;

}  // namespace

void BadInputProperty() {
  traces::BadInputCase c;
  c.device = *GenDeviceConfig();
  const uint64_t nlba = ValueOrFail(ExternalNlba(c.device), "geometry");
  c.ops = *rc::gen::nonEmpty(GenHistory(GenLba(nlba)));
  const std::vector<Corruption> corruptions = *rc::gen::container<std::vector<Corruption>>(
      *rc::gen::inRange<size_t>(1, 5), GenCorruption());
  const bool rechecksum = *rc::gen::weightedElement<bool>({{4, false}, {1, true}});

  auto run =
      traces::RunBadInputCase(c, [&](const btt::Geometry& geo, std::vector<std::byte>& image) {
        Corrupt(corruptions, rechecksum, geo, image);
      });
  if (!run.ok()) RC_FAIL("the case cannot run: " + run.status().ToString());
  RC_TAG(run->touched_lbas == 0 ? "no sector touched" : "sectors touched");
  RC_TAG(run->opened ? "opened" : "refused");
  if (run->check_clean) RC_TAG(*run->check_clean ? "check clean" : "check findings");
  if (run->violation) {
    c.patches = run->patches;
    g_last_failed = FailedBadInputCase{c, *run->violation};
    RC_FAIL(run->violation->ToString());
  }
}

std::optional<FailedBadInputCase> TakeLastFailedBadInputCase() {
  std::optional<FailedBadInputCase> f = std::move(g_last_failed);
  g_last_failed.reset();
  return f;
}

Result<std::string> WriteBadInputCaseTrace(const FailedBadInputCase& f, const std::string& dir,
                                           btt::Mutant mutant) {
  const traces::Trace trace =
      traces::BadInputTrace(f.c, harness::NameOfMutant(mutant), f.violation);
  TP_ASSIGN_OR_RETURN(const traces::ReplayResult replayed, traces::Replay(trace));
  if (!replayed.matches_expectation) {
    return NotFound("the trace of the case does not reproduce " + f.violation.check);
  }
  const std::string path = dir + "/" + traces::TraceStem(trace) + ".jsonl";
  TP_RETURN_IF_ERROR(traces::WriteTraceFile(path, trace));
  return path;
}

std::string WriteBadInputTraceOfLastFailure() {
  const std::optional<FailedBadInputCase> f = TakeLastFailedBadInputCase();
  if (!f) return "no trace: the failure did not come from a bad-input case";
  return DescribeTraceResult(WriteBadInputCaseTrace(*f, TraceDirectory()));
}

}  // namespace tearproof::properties
