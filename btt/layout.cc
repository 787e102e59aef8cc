#include "btt/layout.h"

#include <sys/types.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "util/fletcher.h"

namespace tearproof::btt {
namespace {

constexpr uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
constexpr uint64_t RoundDown(uint64_t v, uint64_t a) { return v / a * a; }

std::span<const std::byte> BytesOf(const auto& s) { return std::as_bytes(std::span(&s, 1)); }

}  // namespace

const char* ProfileName(Profile profile) {
  switch (profile) {
    case Profile::kLinux:
      return "linux";
    case Profile::kUefi:
      return "uefi";
    case Profile::kPmemblk:
      return "pmemblk";
  }
  return "?";
}

FlogStyle FlogStyleFor(Profile profile) {
  return profile == Profile::kPmemblk ? FlogStyle::kPmdk : FlogStyle::kKernel;
}

uint64_t BttOffsetFor(Profile profile) {
  switch (profile) {
    case Profile::kLinux:
      return 4096;
    case Profile::kUefi:
      return 0;
    case Profile::kPmemblk:
      return kPmemblkBttOffset;
  }
  return 0;
}

uint16_t MajorFor(Profile profile) { return profile == Profile::kUefi ? 2 : 1; }
uint16_t MinorFor(Profile profile) { return profile == Profile::kUefi ? 0 : 1; }

Result<uint32_t> InternalLbaSizeFor(Profile profile, uint32_t external_lbasize) {
  if (profile == Profile::kPmemblk) {
    if (external_lbasize == 0 || external_lbasize > 65536) {
      return InvalidArgument("pmemblk external_lbasize " + std::to_string(external_lbasize) +
                             " outside 1..65536");
    }
    return static_cast<uint32_t>(RoundUp(std::max<uint32_t>(external_lbasize, 512), 256));
  }
  constexpr uint32_t kKernelSizes[] = {512, 520, 528, 4096, 4104, 4160, 4224};
  if (std::find(std::begin(kKernelSizes), std::end(kKernelSizes), external_lbasize) ==
      std::end(kKernelSizes)) {
    return InvalidArgument("external_lbasize " + std::to_string(external_lbasize) +
                           " is not one of the kernel sizes 512, 520, 528, 4096, 4104, 4160, "
                           "4224 (" +
                           ProfileName(profile) + " profile)");
  }
  return static_cast<uint32_t>(RoundUp(external_lbasize, 64));
}

uint64_t FlogSizeFor(uint32_t nfree) {
  return RoundUp(uint64_t{nfree} * kFlogGroupSize, kAlignment);
}

Result<ArenaGeometry> ComputeArenaGeometry(uint64_t arena_size, uint32_t internal_lbasize,
                                           uint32_t nfree) {
  if (nfree == 0 || nfree > kMaxNfree) {
    return InvalidArgument("nfree " + std::to_string(nfree) + " outside 1.." +
                           std::to_string(kMaxNfree));
  }
  if (internal_lbasize < 512) {
    return InvalidArgument("internal_lbasize " + std::to_string(internal_lbasize) + " < 512");
  }
  const uint64_t flog_size = FlogSizeFor(nfree);
  const uint64_t usable = RoundDown(std::min(arena_size, kMaxArenaSize), kAlignment);
  // Two info blocks, the flog, and one page of slack for rounding the map up to a page.
  const uint64_t overhead = 2 * kInfoBlockSize + flog_size + kAlignment;
  if (usable <= overhead) {
    return InvalidArgument("arena of " + std::to_string(arena_size) + " bytes is too small");
  }
  const uint64_t avail = usable - 2 * kInfoBlockSize - flog_size;
  const uint64_t internal_nlba = (avail - kAlignment) / (uint64_t{internal_lbasize} + 4);
  if (internal_nlba <= nfree) {
    return InvalidArgument("arena of " + std::to_string(arena_size) + " bytes holds " +
                           std::to_string(internal_nlba) + " blocks, not more than nfree " +
                           std::to_string(nfree));
  }
  if (internal_nlba > kMapLbaMask) {
    return InvalidArgument("internal_nlba " + std::to_string(internal_nlba) +
                           " does not fit 30 bits");
  }
  ArenaGeometry g;
  g.size = arena_size;
  g.internal_nlba = static_cast<uint32_t>(internal_nlba);
  g.external_nlba = static_cast<uint32_t>(internal_nlba - nfree);
  const uint64_t map_size = RoundUp(uint64_t{g.external_nlba} * kMapEntrySize, kAlignment);
  const uint64_t data_size = avail - map_size;
  g.dataoff = kInfoBlockSize;
  g.mapoff = kInfoBlockSize + data_size;
  g.flogoff = g.mapoff + map_size;
  g.infooff = g.flogoff + flog_size;
  TP_ASSERT(g.infooff + kInfoBlockSize == usable, "INV-GEOMETRY-TILES-ARENA");
  TP_ASSERT(uint64_t{g.internal_nlba} * internal_lbasize <= data_size, "INV-GEOMETRY-DATA-FITS");
  return g;
}

Result<Geometry> ComputeGeometry(Profile profile, uint64_t namespace_size,
                                 uint32_t external_lbasize, uint32_t nfree) {
  TP_ASSIGN_OR_RETURN(const uint32_t internal_lbasize,
                      InternalLbaSizeFor(profile, external_lbasize));
  Geometry geo;
  geo.profile = profile;
  geo.btt_offset = BttOffsetFor(profile);
  geo.external_lbasize = external_lbasize;
  geo.internal_lbasize = internal_lbasize;
  geo.nfree = nfree;
  if (namespace_size <= geo.btt_offset) {
    return InvalidArgument("namespace of " + std::to_string(namespace_size) +
                           " bytes has no room for a BTT at offset " +
                           std::to_string(geo.btt_offset));
  }
  uint64_t remaining = namespace_size - geo.btt_offset;
  uint64_t offset = 0;
  while (remaining > 0) {
    const uint64_t size = std::min(remaining, kMaxArenaSize);
    if (size < kMinArenaSize && !geo.arenas.empty()) break;  // the 16 MiB tail rule
    auto arena = ComputeArenaGeometry(size, internal_lbasize, nfree);
    if (!arena.ok()) {
      return arena.status().Annotate("arena " + std::to_string(geo.arenas.size()) + ": ");
    }
    if (profile == Profile::kPmemblk && arena->internal_nlba < 2ULL * nfree) {
      return InvalidArgument("pmemblk arena needs internal_nlba >= 2 * nfree (PMDK rule)");
    }
    arena->offset = offset;
    if (!geo.arenas.empty()) geo.arenas.back().nextoff = geo.arenas.back().size;
    geo.external_nlba_total += arena->external_nlba;
    geo.arenas.push_back(*arena);
    offset += size;
    remaining -= size;
  }
  return geo;
}

uint64_t MinimumNamespaceSize(Profile profile, uint32_t external_lbasize, uint32_t nfree) {
  auto internal = InternalLbaSizeFor(profile, external_lbasize);
  if (!internal.ok() || nfree == 0 || nfree > kMaxNfree) return 0;
  for (uint64_t size = kAlignment;; size += kAlignment) {
    if (ComputeGeometry(profile, BttOffsetFor(profile) + size, external_lbasize, nfree).ok()) {
      return BttOffsetFor(profile) + size;
    }
  }
}

uint64_t InfoBlockChecksum(const InfoBlock& info) {
  return Fletcher64(BytesOf(info), offsetof(InfoBlock, checksum), sizeof(InfoBlock));
}

Status CheckInfoBlockIntegrity(const InfoBlock& info) {
  if (std::memcmp(info.sig, kInfoSignature, sizeof(kInfoSignature)) != 0) {
    return Corruption("INV-INFO-SIG: signature is not \"BTT_ARENA_INFO\"");
  }
  const uint64_t want = InfoBlockChecksum(info);
  if (want != info.checksum) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "INV-INFO-CHECKSUM: stored 0x%016llx, computed 0x%016llx",
                  static_cast<unsigned long long>(info.checksum),
                  static_cast<unsigned long long>(want));
    return Corruption(buf);
  }
  return Status::Ok();
}

InfoBlock MakeInfoBlock(const Geometry& geometry, size_t arena_index, const Uuid& uuid,
                        const Uuid& parent_uuid) {
  TP_ASSERT(arena_index < geometry.arenas.size(), "INV-ARENA-INDEX");
  const ArenaGeometry& a = geometry.arenas[arena_index];
  InfoBlock info;
  std::memset(&info, 0, sizeof(info));
  std::memcpy(info.sig, kInfoSignature, sizeof(info.sig));
  std::memcpy(info.uuid, uuid.data(), 16);
  std::memcpy(info.parent_uuid, parent_uuid.data(), 16);
  info.flags = 0;
  info.major = MajorFor(geometry.profile);
  info.minor = MinorFor(geometry.profile);
  info.external_lbasize = geometry.external_lbasize;
  info.external_nlba = a.external_nlba;
  info.internal_lbasize = geometry.internal_lbasize;
  info.internal_nlba = a.internal_nlba;
  info.nfree = geometry.nfree;
  info.infosize = static_cast<uint32_t>(kInfoBlockSize);
  info.nextoff = a.nextoff;
  info.dataoff = a.dataoff;
  info.mapoff = a.mapoff;
  info.flogoff = a.flogoff;
  info.infooff = a.infooff;
  info.checksum = InfoBlockChecksum(info);
  return info;
}

ArenaGeometry ArenaGeometryOf(const InfoBlock& info, uint64_t offset) {
  ArenaGeometry a;
  a.offset = offset;
  a.size = info.nextoff != 0 ? info.nextoff : info.infooff + kInfoBlockSize;
  a.external_nlba = info.external_nlba;
  a.internal_nlba = info.internal_nlba;
  a.nextoff = info.nextoff;
  a.dataoff = info.dataoff;
  a.mapoff = info.mapoff;
  a.flogoff = info.flogoff;
  a.infooff = info.infooff;
  return a;
}

uint64_t PoolHeaderChecksum(const PoolHeader& header) {
  const size_t zero_from =
      (header.incompat & kPoolIncompatCksum2K) ? 2048 : offsetof(PoolHeader, checksum);
  return Fletcher64(BytesOf(header), offsetof(PoolHeader, checksum), zero_from);
}

PoolHeader MakePoolHeader(const Uuid& poolset_uuid, const Uuid& part_uuid, uint64_t crtime) {
  PoolHeader h;
  std::memset(&h, 0, sizeof(h));
  std::memcpy(h.signature, kPoolSignature, sizeof(h.signature));
  h.major = 1;
  h.compat = 0;
  h.incompat = kPoolIncompatCksum2K;  // no SDS: a plain file has no unsafe-shutdown counter
  h.ro_compat = 0;
  std::memcpy(h.poolset_uuid, poolset_uuid.data(), 16);
  for (uint8_t* u :
       {h.uuid, h.prev_part_uuid, h.next_part_uuid, h.prev_repl_uuid, h.next_repl_uuid}) {
    std::memcpy(u, part_uuid.data(), 16);  // a single-part, single-replica pool links to itself
  }
  h.crtime = crtime;
  // PMDK util_get_arch_flags: 4-bit (alignof - 1) fields, in this order.
  const uint64_t aligns[] = {alignof(char),        alignof(short),     alignof(int),
                             alignof(long),        alignof(long long), alignof(size_t),
                             alignof(off_t),       alignof(float),     alignof(double),
                             alignof(long double), alignof(void*)};
  uint64_t desc = 0;
  for (size_t i = 0; i < std::size(aligns); ++i) desc |= (aligns[i] - 1) << (4 * i);
  h.alignment_desc = desc;
  h.machine_class = sizeof(void*) == 8 ? 2 : 1;
  h.data = 1;  // little-endian
#if defined(__x86_64__)
  h.machine = 62;
#elif defined(__aarch64__)
  h.machine = 183;
#elif defined(__riscv)
  h.machine = 243;
#elif defined(__powerpc64__)
  h.machine = 21;
#else
  h.machine = 0;
#endif
  h.checksum = PoolHeaderChecksum(h);
  return h;
}

Status CheckPoolHeader(const PoolHeader& header) {
  if (std::memcmp(header.signature, kPoolSignature, sizeof(kPoolSignature)) != 0) {
    return Corruption("INV-POOL-HDR: signature is not \"PMEMBLK\"");
  }
  // The checksum before the version: a header torn by a crash in format (signature durable,
  // major still 0) is corrupt, not a pool from an unsupported PMDK. Only a header that is whole
  // can speak for its version.
  if (PoolHeaderChecksum(header) != header.checksum) {
    return Corruption("INV-POOL-HDR: pool header checksum mismatch");
  }
  if (header.major != 1) {
    return Unsupported("INV-POOL-HDR: pool major " + std::to_string(header.major) + " != 1");
  }
  return Status::Ok();
}

Result<std::array<uint32_t, 2>> DetectFlogIndices(std::span<const FlogGroup> groups) {
  int idx0 = -1;
  int idx1 = -1;
  for (size_t lane = 0; lane < groups.size(); ++lane) {
    const FlogGroup& g = groups[lane];
    int padding = 0;
    for (const FlogSlot& s : g.slot) padding += s.IsPadding() ? 1 : 0;
    if (padding >= 3) continue;  // a lane in its initial state says nothing about the layout
    if (idx0 < 0) {
      // The first used lane decides: its first two non-padding slots are the live pair.
      for (int i = 0; i < 4; ++i) {
        if (g.slot[i].IsPadding()) continue;
        if (idx0 < 0) {
          idx0 = i;
        } else if (idx1 < 0) {
          idx1 = i;
        }
      }
    }
    // Every used lane must have exactly the live slots non-padding.
    for (int i = 0; i < 4; ++i) {
      const bool live = (i == idx0 || i == idx1);
      if (!live && !g.slot[i].IsPadding()) {
        return Corruption("INV-FLOG-LAYOUT: lane " + std::to_string(lane) + " slot " +
                          std::to_string(i) + " is neither live nor padding (live slots " +
                          std::to_string(idx0) + "," + std::to_string(idx1) + ")");
      }
    }
  }
  if (idx0 < 0) return std::array<uint32_t, 2>{0, 1};  // never written: the current format
  if (idx0 == 0 && idx1 == 1) return std::array<uint32_t, 2>{0, 1};
  if (idx0 == 0 && idx1 == 2) return std::array<uint32_t, 2>{0, 2};
  return Corruption("INV-FLOG-LAYOUT: unknown padding scheme, live slots " + std::to_string(idx0) +
                    "," + std::to_string(idx1));
}

Result<int> NewerSlot(uint32_t seq_a, uint32_t seq_b) {
  if (seq_a > 3 || seq_b > 3) {
    return Corruption("INV-FLOG-SEQ: seq " + std::to_string(seq_a) + "/" + std::to_string(seq_b) +
                      " outside 0..3");
  }
  if (seq_a == seq_b) {
    return Corruption("INV-FLOG-SEQ: both slots carry seq " + std::to_string(seq_a));
  }
  if (seq_a == 0) return 1;
  if (seq_b == 0) return 0;
  return NextSeq(seq_a) == seq_b ? 1 : 0;
}

FlogSlot InitialFlogSlot(FlogStyle style, uint32_t lane, uint32_t external_nlba, uint32_t block) {
  FlogSlot s;
  s.lba = lane < external_nlba ? lane : lane % external_nlba;
  s.old_map = style == FlogStyle::kPmdk ? block | kMapZeroFlag : block;
  s.new_map = s.old_map;
  s.seq = 1;
  return s;
}

bool HasFlogRepairMarker(const FlogGroup& lane0) {
  const FlogSlot& s = lane0.slot[kFlogRepairMarkerOffset / kFlogSlotSize];
  return s.new_map == kFlogRepairMarkerWord && s.seq == kFlogRepairMarkerWord;
}

std::string UuidToString(const Uuid& uuid) {
  char buf[40];
  std::snprintf(buf, sizeof(buf),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0],
                uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9],
                uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
  return buf;
}

bool IsNullUuid(const Uuid& uuid) {
  return std::all_of(uuid.begin(), uuid.end(), [](uint8_t b) { return b == 0; });
}

Uuid UuidFromBytes(const uint8_t (&bytes)[16]) {
  Uuid u;
  std::memcpy(u.data(), bytes, 16);
  return u;
}

}  // namespace tearproof::btt
