// The BTT on-media format: profiles, on-media structs, arena geometry, info-block and pool-header
// codecs, flog slot-layout detection.
//
// Contract: pure functions over bytes and numbers; no I/O, no global state, thread-safe. Every
// on-media struct is a trivially copyable mirror of its little-endian bytes with its size and
// field offsets pinned by static_assert (the host is little-endian, util/endian.h). Decoders take
// untrusted bytes and answer with a Status naming the invariant (INV-*, docs/btt.md) and field;
// they never assert on them. Facts: shared/reference/btt-format.md §1 and §4.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "btt/types.h"
#include "util/status.h"

namespace tearproof::btt {

// The container a BTT lives in (btt-format.md §1.1).
enum class Profile : uint8_t {
  kLinux,    // Linux namespace, claim class NONE/BTT: BTT 1.1 at 4 KiB, kernel-style flog values
  kUefi,     // UEFI 2.7 / Linux claim class BTT2: BTT 2.0 at offset 0, kernel-style flog values
  kPmemblk,  // PMDK libpmemblk pool file: pool header, pmemblk header, BTT 1.1 at 8 KiB,
             // PMDK-style (raw, flagged) flog values
};
const char* ProfileName(Profile profile);

// How values are logged in flog old_map/new_map (btt-format.md §1.6). Readers always mask.
enum class FlogStyle : uint8_t {
  kKernel,  // bare block numbers; old_map carries E when the old mapping was an error
  kPmdk,    // raw map entries: old_map = the old entry (00 logged as lba|NORMAL), new_map|NORMAL
};
FlogStyle FlogStyleFor(Profile profile);

uint64_t BttOffsetFor(Profile profile);  // byte offset of arena 0's primary info block
uint16_t MajorFor(Profile profile);
uint16_t MinorFor(Profile profile);

// The internal (data-area) block size for an external sector size: kernel roundup(ext, 64) for
// linux/uefi (ext must be one of the kernel's seven sizes), PMDK roundup(max(ext, 512), 256) for
// pmemblk (any ext in 1..65536).
Result<uint32_t> InternalLbaSizeFor(Profile profile, uint32_t external_lbasize);

// ---------------------------------------------------------------------------------------------
// On-media structs.

inline constexpr char kInfoSignature[16] = {'B', 'T', 'T', '_', 'A', 'R', 'E',  'N',
                                            'A', '_', 'I', 'N', 'F', 'O', '\0', '\0'};

// BTT Info Block (UEFI EFI_BTT_INFO_BLOCK, kernel struct btt_sb, PMDK struct btt_info).
struct InfoBlock {
  char sig[16];               // "BTT_ARENA_INFO\0\0"
  uint8_t uuid[16];           // BTT instance UUID, identical in every arena
  uint8_t parent_uuid[16];    // containing namespace / pmemblk poolset UUID (null: no check)
  uint32_t flags;             // bit 0: arena ERROR
  uint16_t major;             // 1 (v1.1) or 2 (v2.0)
  uint16_t minor;             // 1 or 0
  uint32_t external_lbasize;  // advertised sector size
  uint32_t external_nlba;     // LBAs in this arena
  uint32_t internal_lbasize;  // data-area block size
  uint32_t internal_nlba;     // data blocks in this arena = external_nlba + nfree
  uint32_t nfree;             // lanes / free blocks / flog groups
  uint32_t infosize;          // 4096
  uint64_t nextoff;           // next arena, relative to this arena's start; 0 = last
  uint64_t dataoff;           // data area, relative to arena start
  uint64_t mapoff;            // map, relative to arena start
  uint64_t flogoff;           // flog, relative to arena start
  uint64_t infooff;           // backup info block, relative to arena start
  uint8_t unused[3968];       // zero
  uint64_t checksum;          // Fletcher-64 of the block with this field as zero
};
static_assert(sizeof(InfoBlock) == 4096);
static_assert(offsetof(InfoBlock, uuid) == 16);
static_assert(offsetof(InfoBlock, parent_uuid) == 32);
static_assert(offsetof(InfoBlock, flags) == 48);
static_assert(offsetof(InfoBlock, major) == 52);
static_assert(offsetof(InfoBlock, minor) == 54);
static_assert(offsetof(InfoBlock, external_lbasize) == 56);
static_assert(offsetof(InfoBlock, external_nlba) == 60);
static_assert(offsetof(InfoBlock, internal_lbasize) == 64);
static_assert(offsetof(InfoBlock, internal_nlba) == 68);
static_assert(offsetof(InfoBlock, nfree) == 72);
static_assert(offsetof(InfoBlock, infosize) == 76);
static_assert(offsetof(InfoBlock, nextoff) == 80);
static_assert(offsetof(InfoBlock, dataoff) == 88);
static_assert(offsetof(InfoBlock, mapoff) == 96);
static_assert(offsetof(InfoBlock, flogoff) == 104);
static_assert(offsetof(InfoBlock, infooff) == 112);
static_assert(offsetof(InfoBlock, unused) == 120);
static_assert(offsetof(InfoBlock, checksum) == 4088);

// One flog slot. Written as two 8-byte halves: A = {lba, old_map}, B = {new_map, seq}.
struct FlogSlot {
  uint32_t lba;      // premap ABA last written through this lane
  uint32_t old_map;  // postmap block mapped before (the lane's free block once complete)
  uint32_t new_map;  // postmap block the write went to
  uint32_t seq;      // 1..3, 0 = never written
  bool IsPadding() const { return lba == 0 && old_map == 0 && new_map == 0 && seq == 0; }
};
static_assert(sizeof(FlogSlot) == 16);
static_assert(offsetof(FlogSlot, old_map) == 4);
static_assert(offsetof(FlogSlot, new_map) == 8);
static_assert(offsetof(FlogSlot, seq) == 12);

// One lane's 64-byte flog group: four slots, two live ((0,1) or pre-4.15 (0,2)), rest zero.
struct FlogGroup {
  FlogSlot slot[4];
};
static_assert(sizeof(FlogGroup) == kFlogGroupSize);

// PMDK pool header (src/common/pool_hdr.h), 4096 bytes at file offset 0 (btt-format.md §4.1).
struct PoolHeader {
  char signature[8];         // "PMEMBLK\0"
  uint32_t major;            // 1
  uint32_t compat;           // features.compat
  uint32_t incompat;         // features.incompat (0x2 = CKSUM_2K)
  uint32_t ro_compat;        // features.ro_compat
  uint8_t poolset_uuid[16];  // = BTT parent_uuid
  uint8_t uuid[16];          // this part
  uint8_t prev_part_uuid[16];
  uint8_t next_part_uuid[16];
  uint8_t prev_repl_uuid[16];
  uint8_t next_repl_uuid[16];
  uint64_t crtime;          // creation time, seconds
  uint64_t alignment_desc;  // arch_flags
  uint8_t machine_class;    // 2 = 64-bit
  uint8_t data;             // 1 = little-endian
  uint8_t arch_reserved[4];
  uint16_t machine;       // ELF e_machine
  uint8_t unused[1904];   // zero, checksummed
  uint8_t unused2[1976];  // zero, outside the checksum with CKSUM_2K
  uint8_t sds[64];        // shutdown state
  uint64_t checksum;
};
static_assert(sizeof(PoolHeader) == 4096);
static_assert(offsetof(PoolHeader, major) == 8);
static_assert(offsetof(PoolHeader, compat) == 12);
static_assert(offsetof(PoolHeader, ro_compat) == 20);
static_assert(offsetof(PoolHeader, next_part_uuid) == 72);
static_assert(offsetof(PoolHeader, prev_repl_uuid) == 88);
static_assert(offsetof(PoolHeader, arch_reserved) == 138);
static_assert(offsetof(PoolHeader, incompat) == 16);
static_assert(offsetof(PoolHeader, poolset_uuid) == 24);
static_assert(offsetof(PoolHeader, uuid) == 40);
static_assert(offsetof(PoolHeader, prev_part_uuid) == 56);
static_assert(offsetof(PoolHeader, next_repl_uuid) == 104);
static_assert(offsetof(PoolHeader, crtime) == 120);
static_assert(offsetof(PoolHeader, alignment_desc) == 128);
static_assert(offsetof(PoolHeader, machine_class) == 136);
static_assert(offsetof(PoolHeader, data) == 137);
static_assert(offsetof(PoolHeader, machine) == 142);
static_assert(offsetof(PoolHeader, unused) == 144);
static_assert(offsetof(PoolHeader, unused2) == 2048);
static_assert(offsetof(PoolHeader, sds) == 4024);
static_assert(offsetof(PoolHeader, checksum) == 4088);

inline constexpr char kPoolSignature[8] = {'P', 'M', 'E', 'M', 'B', 'L', 'K', '\0'};
inline constexpr uint32_t kPoolIncompatCksum2K = 0x2;
inline constexpr uint64_t kPmemblkHeaderOffset = 4096;  // struct pmemblk: bsize, is_zeroed
inline constexpr uint64_t kPmemblkBttOffset = 8192;

// The on-media prefix of struct pmemblk (the rest is runtime-only).
struct PmemblkHeader {
  uint32_t bsize;      // external block size
  uint32_t is_zeroed;  // 1 if the pool was created on a zeroed file
};
static_assert(sizeof(PmemblkHeader) == 8);
static_assert(offsetof(PmemblkHeader, is_zeroed) == 4);

// ---------------------------------------------------------------------------------------------
// Geometry.

struct ArenaGeometry {
  uint64_t offset = 0;  // arena start (primary info block), relative to the BTT start
  uint64_t size = 0;    // bytes given to the arena
  uint32_t external_nlba = 0;
  uint32_t internal_nlba = 0;
  uint64_t nextoff = 0;
  uint64_t dataoff = 0;
  uint64_t mapoff = 0;
  uint64_t flogoff = 0;
  uint64_t infooff = 0;
};

struct Geometry {
  Profile profile = Profile::kLinux;
  uint64_t btt_offset = 0;  // namespace offset of arena 0's primary info block
  uint32_t external_lbasize = 0;
  uint32_t internal_lbasize = 0;
  uint32_t nfree = 0;
  uint64_t external_nlba_total = 0;
  std::vector<ArenaGeometry> arenas;
};

uint64_t FlogSizeFor(uint32_t nfree);  // roundup(nfree * 64, 4096)

// One arena of `arena_size` bytes (kernel alloc_arena / PMDK btt_info_set_params).
Result<ArenaGeometry> ComputeArenaGeometry(uint64_t arena_size, uint32_t internal_lbasize,
                                           uint32_t nfree);

// The full layout for a namespace of `namespace_size` bytes: as many 512 GiB arenas as fit, then
// one tail arena if at least 16 MiB remain. A first (only) arena smaller than 16 MiB is allowed
// when it holds at least one external block (pmemblk: internal_nlba >= 2 * nfree) — kernel and
// PMDK refuse those, tearproof's simulator uses them.
Result<Geometry> ComputeGeometry(Profile profile, uint64_t namespace_size,
                                 uint32_t external_lbasize, uint32_t nfree);

// Smallest namespace size that ComputeGeometry accepts (4 KiB granularity).
uint64_t MinimumNamespaceSize(Profile profile, uint32_t external_lbasize, uint32_t nfree);

// ---------------------------------------------------------------------------------------------
// Codecs.

uint64_t InfoBlockChecksum(const InfoBlock& info);
// Signature (INV-INFO-SIG) and checksum (INV-INFO-CHECKSUM) only.
Status CheckInfoBlockIntegrity(const InfoBlock& info);
InfoBlock MakeInfoBlock(const Geometry& geometry, size_t arena_index, const Uuid& uuid,
                        const Uuid& parent_uuid);
// The arena geometry an info block describes, for an arena whose primary info block sits
// `offset` bytes after the BTT start: the inverse of MakeInfoBlock. `size` is the extent the
// block accounts for (nextoff, or up to the end of the backup for the last arena). The caller
// validates the block first; this only decodes.
ArenaGeometry ArenaGeometryOf(const InfoBlock& info, uint64_t offset);

uint64_t PoolHeaderChecksum(const PoolHeader& header);
// x86-64 / aarch64 / riscv64 arch flags of this host, as PMDK writes them.
PoolHeader MakePoolHeader(const Uuid& poolset_uuid, const Uuid& part_uuid, uint64_t crtime);
// Signature, major, checksum (INV-POOL-HDR).
Status CheckPoolHeader(const PoolHeader& header);

// Kernel log_set_indices(): which two slots of each 64-byte group are live, from the non-padding
// slots of every group. Returns {0,1} or {0,2}; anything else is INV-FLOG-LAYOUT.
Result<std::array<uint32_t, 2>> DetectFlogIndices(std::span<const FlogGroup> groups);

// Which of two live slots (seqs a, b) is the newer: 0 or 1. Both zero, equal, or > 3 is
// INV-FLOG-SEQ.
Result<int> NewerSlot(uint32_t seq_a, uint32_t seq_b);

// A lane's slot in its initial state, as Format writes it and as a flog rebuild (Check with
// repair) writes it: {lba, block, block, seq 1} with `block` the lane's free block (PMDK style:
// `block | Z`, as libpmemblk's own initial entries). old_map == new_map, so the slot never asks
// for a roll-forward and its lba is never used; it is kept in range (the kernel and UEFI write
// lba = lane; on arenas with fewer LBAs than lanes it wraps). A group holding only this slot has
// three padding slots, so it is read the same under the (0,1) and the (0,2) layout.
FlogSlot InitialFlogSlot(FlogStyle style, uint32_t lane, uint32_t external_nlba, uint32_t block);

// The flog-rebuild marker: lane 0's slot 3, second half ({new_map, seq}), set to all ones while
// Check(repair) rewrites an arena's flog, durably before the first flog store and cleared by one
// atomic 8-byte store after the last. Slot 3 is padding in both live-slot layouts, so while the
// marker is set the kernel's log_set_indices and DetectFlogIndices refuse the flog (or its lane
// 0 has no valid seq), and Open names the interrupted repair: a half-rewritten flog is never
// taken for a valid one.
inline constexpr uint64_t kFlogRepairMarkerOffset = 3 * kFlogSlotSize + 8;  // in lane 0's group
inline constexpr uint32_t kFlogRepairMarkerWord = 0xFFFFFFFFu;              // both new_map and seq
static_assert(kFlogRepairMarkerOffset + 8 == kFlogGroupSize, "the marker is the group's last word");
bool HasFlogRepairMarker(const FlogGroup& lane0);

std::string UuidToString(const Uuid& uuid);
bool IsNullUuid(const Uuid& uuid);
Uuid UuidFromBytes(const uint8_t (&bytes)[16]);

}  // namespace tearproof::btt
