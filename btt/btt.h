// btt::Btt — the production Block Translation Table: format, open (= validate + recover), sector
// read/write/zero/error, and check.
//
// Contract:
//   - Storage is touched only through btt::Namespace; locks, lanes and spin-waits only through
//     btt::Sync. Nothing here includes sim/, model/ or test code.
//   - Format lays out a fresh BTT (never implicitly: Open never formats). Open validates every
//     info block (falling back to the backup, and restoring the primary when read-write), detects
//     the flog slot layout, and recovers every lane exactly as the kernel does (roll forward an
//     interrupted map update). A read-only open does the same recovery into a DRAM overlay of the
//     map and makes zero stores to the medium.
//   - Read, Write, Zero and SetError are safe on any number of threads/lanes concurrently, do not
//     allocate on their success paths, and each operate on exactly one sector of
//     ExternalLbaSize() bytes. A Write that returns OK is durable and atomic: after any crash the
//     sector reads as the old or the new data, never a mix.
//   - Check requires that no I/O runs concurrently. It re-reads all metadata from the medium.
//   - Bytes read from the medium are untrusted: corruption is a Status (kCorruption, message
//     starting with the invariant name, naming arena, lane and field), never an assert or a crash.
//   - Invariants are named INV-* and numbered in docs/btt.md.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btt/layout.h"
#include "btt/namespace.h"
#include "btt/sync.h"
#include "btt/types.h"
#include "util/status.h"

namespace tearproof::btt {

struct FormatOptions {
  Profile profile = Profile::kLinux;
  uint32_t external_lbasize = 4096;
  uint32_t nfree = kDefaultNfree;
  Uuid uuid{};               // BTT instance UUID (the caller supplies it: btt/ has no randomness)
  Uuid parent_uuid{};        // namespace UUID (linux/uefi; null disables the kernel's check) or,
                             // for pmemblk, the poolset UUID written into the pool header too
  Uuid pool_part_uuid{};     // pmemblk: the pool part's own UUID
  uint64_t pool_crtime = 0;  // pmemblk: creation time in seconds (pmempool wants <= mtime)
  bool medium_is_zeroed = false;  // skip zeroing the map (PMDK is_zeroed); never set on reuse
};

enum class ParentUuidPolicy : uint8_t {
  kIgnore,       // no check
  kMatchOrNull,  // kernel: a null on-media parent is accepted, otherwise it must match
  kExact,        // PMDK: must match exactly
};

struct OpenOptions {
  std::optional<Profile> profile;  // nullopt: detect (pool header, BTT at 4 KiB, BTT at 0)
  uint32_t external_lbasize = 0;   // 0: accept the on-media sector size
  ParentUuidPolicy parent_policy = ParentUuidPolicy::kMatchOrNull;
  std::optional<Uuid> expected_parent_uuid;  // compared per policy when set; pmemblk pools
                                             // always require parent == pool poolset UUID
  bool read_only = false;                    // forced on when the namespace is read-only
  Sync* sync = nullptr;                      // nullptr: an owned ThreadSync. Must outlive the Btt.
  // Lanes handed out to I/O (each a free block, a flog group and an RTT slot). 0: PMDK's
  // min(nfree, 2 x hardware threads), at least 2. Always capped at nfree.
  uint32_t lanes = 0;
  bool verify_map = false;  // also run INV-MAP-BIJECTION at open (reads the whole map)
  // For diagnosis and repair (`tearproof check [--repair]`, `info`, `read --salvage` of a
  // damaged image): an arena whose flog cannot be recovered (INV-FLOG-LAYOUT, -SEQ, -RANGE,
  // -FREE-DISTINCT, a roll-forward over an out-of-range map entry, an interrupted flog rebuild)
  // opens in the ERROR state instead of failing the open, as PMDK and UEFI open it: reads are
  // served, the lanes that were consistent are recovered (into the DRAM overlay), and Check
  // reports every finding. The open itself never stores (the ERROR state stays in DRAM) and
  // Write, Zero and SetError are refused in every arena. Unless read_only is set (or the
  // namespace is read-only), Check(repair) may still write: it rebuilds such an arena's flog
  // from its map when the map is consistent (docs/btt.md §6). Reopen to write after a repair.
  // Off by default: the kernel refuses such an arena.
  bool salvage = false;
};

// What Open did to bring the BTT into a consistent state.
struct OpenReport {
  uint32_t primaries_from_backup = 0;  // arenas whose primary info block was bad
  uint32_t primaries_restored = 0;     // ... and rewritten from the backup (read-write only)
  uint32_t lanes_rolled_forward = 0;   // interrupted map updates completed (RW) or overlaid (RO)
  // OpenOptions::salvage: each failure that put an arena in ERROR instead of failing the open
  // (its message names the invariant and the arena). Empty otherwise.
  std::vector<std::string> salvaged;
};

// One inconsistency found by Check.
struct Finding {
  std::string invariant;  // "INV-MAP-BIJECTION", ...
  int64_t arena = -1;     // -1: container-level (pool header)
  std::string detail;
  bool repaired = false;
};

struct CheckReport {
  std::vector<Finding> findings;
  bool Clean() const { return findings.empty(); }
  bool Has(const std::string& invariant) const;
  std::string ToString() const;
};

class Btt {
 public:
  static Status Format(Namespace& ns, const FormatOptions& options);
  static Result<std::unique_ptr<Btt>> Open(Namespace& ns, const OpenOptions& options = {});
  // The container a namespace holds, from its bytes (pool header, v1.1 at 4 KiB, v2.0 at 0,
  // then the first arena's backup info block at either offset).
  static Result<Profile> DetectProfile(Namespace& ns);

  ~Btt();
  Btt(const Btt&) = delete;
  Btt& operator=(const Btt&) = delete;

  Profile profile() const { return profile_; }
  bool read_only() const { return read_only_; }
  uint64_t ExternalNlba() const { return external_nlba_; }
  uint32_t ExternalLbaSize() const { return external_lbasize_; }
  uint32_t InternalLbaSize() const { return internal_lbasize_; }
  uint32_t Nfree() const { return nfree_; }
  size_t ArenaCount() const { return arenas_.size(); }
  std::array<uint32_t, 2> FlogIndices(size_t arena) const;
  const OpenReport& open_report() const { return open_report_; }

  // One sector each; out/data must be exactly ExternalLbaSize() bytes.
  // Read: Z entries read zeros, E entries fail with kMediaError, 00 entries read the identity
  // block (UEFI/kernel semantics).
  Status Read(ExternalLba lba, std::span<std::byte> out);
  // Write: atomic and durable when OK; clears Z and E.
  Status Write(ExternalLba lba, std::span<const std::byte> data);
  // Zero: sets Z (reads return zeros) with one atomic map store; the block stays owned.
  Status Zero(ExternalLba lba);
  // SetError: sets E (reads fail with kMediaError until the next Write).
  Status SetError(ExternalLba lba);

  // Scans all metadata of every arena; with repair, fixes what is safe: a primary info block
  // from a valid backup, a backup from the primary, an interrupted map update (roll forward),
  // the flog of an arena a salvage open could not recover (rebuilt from a consistent map; a
  // map that is not consistent is reported and nothing is rebuilt), the ERROR flag of an arena
  // left consistent. REQUIRES: no concurrent I/O. Repair needs a writable open (read-write, or
  // salvage without read_only); otherwise kReadOnly.
  Result<CheckReport> Check(bool repair);

  // Diagnostics for tests and tools: the effective raw map entry of `lba` (after any read-only
  // overlay), and a lane's current free block in the arena holding `lba`.
  Result<uint32_t> MapEntryForTest(ExternalLba lba);
  PostmapAba FreeBlockForTest(size_t arena, Lane lane) const;

 private:
  struct Arena;
  class BlockRefs;  // references to each data block of an arena (Check, flog rebuild)
  struct Location {
    Arena* arena = nullptr;
    PremapAba premap;
  };

  Btt(Namespace& ns, Profile profile, bool read_only);

  // The arena and premap ABA of `lba`; kInvalidArgument past the last LBA.
  Status Locate(ExternalLba lba, Location* loc);
  // Locate, after checking that a Read or Write (`what`) moves exactly one sector of `size`.
  Status LocateSector(ExternalLba lba, size_t size, std::string_view what, Location* loc);
  Status LoadArenas(const OpenOptions& options);
  Status RecoverArena(Arena& arena);
  // One lane's newest flog slot: its free block into `free_blocks` and the DRAM free list, and
  // the roll-forward of an interrupted map update. kCorruption names the invariant.
  Status RecoverLane(Arena& arena, const FlogGroup& group, uint32_t lane,
                     std::vector<uint32_t>* free_blocks);
  // Under OpenOptions::salvage, puts `arena` in the ERROR state (DRAM) for a kCorruption
  // `failure` and returns true; otherwise false (the caller fails the open).
  bool SalvageArena(Arena& arena, const Status& failure);
  // Notes every block the map references (through the overlay) in `refs`; reports entries
  // past internal_nlba (INV-MAP-RANGE) and blocks referenced twice (INV-MAP-BIJECTION).
  Status ScanMap(const Arena& arena, BlockRefs* refs, CheckReport* report) const;
  Status VerifyBijection(Arena& arena, CheckReport* report);
  // The blocks a consistent map leaves unreferenced, ascending: exactly nfree of them. kCorruption
  // naming the invariant and the arena when the map is not consistent.
  Result<std::vector<uint32_t>> FreeBlocksFromMap(const Arena& arena) const;
  // Check(repair) of an arena the salvage open could not recover: rebuilds its flog from the
  // map (RewriteFlog), then recovers the arena again from what was written. A map that is not
  // consistent is reported as a finding that is not repaired, and nothing is written.
  Status RebuildFlog(Arena& arena, CheckReport* report);
  // The crash-safe store sequence of a flog rebuild (docs/btt.md §6): ERROR flag, pending
  // roll-forwards, marker, the lanes in four fenced phases, marker cleared.
  Status RewriteFlog(Arena& arena, std::span<const uint32_t> free_blocks);

  // kMediaError naming INV-INFO-ERROR-FLAG: the answer to any mutation of an arena in ERROR.
  static Status ArenaErrorStatus(const Arena& arena);
  // The arena ERROR state (INV-INFO-ERROR-FLAG): writes, Zero and SetError are refused, reads
  // go on. Entered on an arena-level inconsistency found while writing, or when a commit (P3) or
  // map store (P4) failed; read-write, it is also persisted in both info blocks (as PMDK does).
  void EnterErrorState(Arena& arena);
  // Rewrites the primary and then the backup info block of `arena` with `flags`, durably.
  Status PersistInfoFlags(Arena& arena, uint32_t flags);

  // The map, through the read-only overlay.
  Status LoadMapEntry(const Arena& arena, PremapAba premap, uint32_t* raw) const;
  // The data block a raw map entry points at (00 -> identity); INV-MAP-RANGE past internal_nlba.
  Status Resolve(const Arena& arena, PremapAba premap, uint32_t raw, PostmapAba* block) const;
  uint32_t MapLockIndex(const Arena& arena, PremapAba premap) const;
  Status WaitForReaders(Arena& arena, PostmapAba block);
  // The slow path of WaitForReaders: spins, through Sync::Pause (a yield point under a fiber
  // scheduler), until `slot` no longer publishes `block`; bounded (INV-RTT-WAIT-BOUND).
  [[gnu::noinline]] Status WaitForSlot(const std::atomic<uint32_t>& slot, PostmapAba block);
  Status UpdateMapFlags(ExternalLba lba, uint32_t flag);

  // The write path, one function per durability point (P1..P4, docs/btt.md).
  Status PersistData(Arena& arena, PostmapAba block, std::span<const std::byte> data);
  Status PersistFlogHalfA(Arena& arena, Lane lane, uint32_t sub, const FlogSlot& entry);
  Status PersistFlogHalfB(Arena& arena, Lane lane, uint32_t sub, const FlogSlot& entry);
  Status PersistMapEntry(Arena& arena, PremapAba premap, uint32_t raw);
  FlogSlot MakeFlogEntry(PremapAba premap, uint32_t old_raw, PostmapAba old_block,
                         PostmapAba new_block, uint32_t seq) const;
  // Namespace offset of one 8-byte half (0: {lba, old_map}, 1: {new_map, seq}) of a flog slot.
  static uint64_t FlogHalfOffset(const Arena& arena, uint32_t lane, uint32_t slot, uint32_t half);

  Status CheckArena(size_t index, bool repair, CheckReport* report);

  Namespace& ns_;
  // ns_.MappedBytes() when it covers the namespace, else nullptr: map entries and data blocks
  // are then loaded directly instead of through a Read call each (stores always use ns_).
  const std::byte* mapped_;
  Profile profile_;
  FlogStyle flog_style_;
  bool read_only_;
  // Check(repair) may write: a writable namespace and no OpenOptions::read_only. Equal to
  // !read_only_ except after a salvage open, which refuses I/O writes but may repair.
  bool repairable_ = false;
  uint32_t external_lbasize_ = 0;
  uint32_t internal_lbasize_ = 0;
  uint32_t nfree_ = 0;
  uint32_t lane_count_ = 0;  // lanes handed out by sync_ (<= nfree_)
  uint64_t external_nlba_ = 0;
  bool have_pool_ = false;
  Uuid poolset_uuid_{};
  uint32_t pool_bsize_ = 0;
  OpenOptions options_;
  OpenReport open_report_;
  std::vector<std::unique_ptr<Arena>> arenas_;
  std::unique_ptr<ThreadSync> owned_sync_;
  Sync* sync_ = nullptr;
};

}  // namespace tearproof::btt
