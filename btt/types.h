// Strong address types and the constants of the BTT on-media format.
//
// BTT bugs love to mix address spaces: an external LBA (what the user asks for, global over all
// arenas), a premap ABA (arena-relative index into the map), a postmap ABA (arena-relative index of
// a data block, what map and flog entries hold) and a lane. Each is its own type here; none
// converts implicitly to another or to an integer, so the compiler rejects a mix-up. All constants
// come from shared/reference/btt-format.md (§1) and are named after the kernel's btt.h.
#pragma once

#include <array>
#include <compare>
#include <cstdint>

namespace tearproof::btt {

// A value of type Rep tagged with Tag. Explicit construction, explicit .value(), comparisons only
// with the same tag.
template <typename Tag, typename Rep>
class StrongId {
 public:
  using RepType = Rep;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value_(v) {}
  constexpr Rep value() const { return value_; }
  constexpr auto operator<=>(const StrongId&) const = default;

 private:
  Rep value_ = 0;
};

struct ExternalLbaTag {};
struct PremapAbaTag {};
struct PostmapAbaTag {};
struct LaneTag {};

// A sector number as the BTT's user sees it: 0 .. Btt::ExternalNlba()-1, over all arenas.
using ExternalLba = StrongId<ExternalLbaTag, uint64_t>;
// Arena-relative index into the map: 0 .. external_nlba-1.
using PremapAba = StrongId<PremapAbaTag, uint32_t>;
// Arena-relative data-block number: 0 .. internal_nlba-1. Map and flog entries hold these
// (plus flag bits, which are never part of a PostmapAba).
using PostmapAba = StrongId<PostmapAbaTag, uint32_t>;
// A lane: owns one free block and one flog group per arena, and one RTT slot. 0 .. nfree-1.
using Lane = StrongId<LaneTag, uint32_t>;

using Uuid = std::array<uint8_t, 16>;

inline constexpr uint64_t kInfoBlockSize = 4096;
inline constexpr uint64_t kAlignment = 4096;           // BTT_PG_SIZE: every region is 4 KiB aligned
inline constexpr uint64_t kMaxArenaSize = 1ULL << 39;  // 512 GiB (ARENA_MAX_SIZE)
inline constexpr uint64_t kMinArenaSize = 1ULL << 24;  // 16 MiB (ARENA_MIN_SIZE): the tail rule
inline constexpr uint32_t kDefaultNfree = 256;
inline constexpr uint32_t kMaxNfree = 4096;     // our own sanity bound on untrusted info blocks
inline constexpr uint64_t kFlogGroupSize = 64;  // one lane: four 16-byte slots
inline constexpr uint64_t kFlogSlotSize = 16;
inline constexpr uint64_t kMapEntrySize = 4;

// Map entry bits (kernel MAP_TRIM_SHIFT 31 = Z, MAP_ERR_SHIFT 30 = E).
inline constexpr uint32_t kMapZeroFlag = 0x80000000u;
inline constexpr uint32_t kMapErrorFlag = 0x40000000u;
inline constexpr uint32_t kMapNormal = 0xC0000000u;  // Z and E both set: a plain mapping
inline constexpr uint32_t kMapFlagMask = 0xC0000000u;
inline constexpr uint32_t kMapLbaMask = 0x3FFFFFFFu;

// Info block flags: bit 0 = arena ERROR (writes must fail).
inline constexpr uint32_t kInfoFlagError = 0x1u;

// The sequence-number successor: 1 -> 2 -> 3 -> 1; 0 ("never written") has none and stays 0
// (the kernel's and PMDK's table {0, 2, 3, 1}). Only the low two bits are looked at.
constexpr uint32_t NextSeq(uint32_t seq) {
  constexpr uint32_t kNext[4] = {0, 2, 3, 1};
  return kNext[seq & 3];
}

// Bare block number of a map or flog value (flags masked off).
constexpr uint32_t EntLba(uint32_t raw) { return raw & kMapLbaMask; }

}  // namespace tearproof::btt
