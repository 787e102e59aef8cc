// Roadmap: Format (layout in the spec's crash-safe order) -> DetectProfile -> Open (LoadArenas:
// info validation with backup fallback; RecoverArena: flog layout detection, per-lane newest slot,
// roll forward) -> Read (RTT publish + re-validate) / Write (P1 data, P2 flog half A, P3 flog
// half B = commit, P4 map) / Zero / SetError -> Check (media scan per invariant).
#include "btt/btt.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <thread>

#include "btt/memory_namespace.h"
#include "btt/mutant.h"
#include "util/endian.h"

namespace tearproof::btt {
namespace {

constexpr uint32_t kRttValid = 0x80000000u;  // RTT slot = kRttValid | postmap; 0 = idle
constexpr uint32_t kMaxReadRetries = 1u << 24;
constexpr uint64_t kMaxSpins = 1ULL << 32;
constexpr size_t kMaxFindingsPerKind = 16;

// A zero page source for zeroing metadata without allocating per call.
constexpr size_t kZeroChunk = 64 * 1024;
const std::byte kZeros[kZeroChunk] = {};

constexpr uint64_t RoundDown(uint64_t v, uint64_t a) { return v / a * a; }

template <typename T>
std::span<const std::byte> AsBytes(const T& v) {
  return std::as_bytes(std::span(&v, 1));
}
template <typename T>
std::span<std::byte> AsWritableBytes(T& v) {
  return std::as_writable_bytes(std::span(&v, 1));
}

std::string ArenaTag(size_t index) { return "arena " + std::to_string(index) + ": "; }

// Error messages of the I/O paths are built out of line, so that the paths which only test for
// an error stay small enough to inline. Parts are text or unsigned numbers, concatenated.
inline std::string ToText(std::string_view text) { return std::string(text); }
inline std::string ToText(uint64_t value) { return std::to_string(value); }
template <typename... Parts>
[[gnu::cold, gnu::noinline]] Status ColdError(StatusCode code, const Parts&... parts) {
  std::string message;
  ((message += ToText(parts)), ...);
  return Status(code, std::move(message));
}

// Zero-fills [offset, offset + size) and persists it.
Status ZeroRange(Namespace& ns, uint64_t offset, uint64_t size) {
  uint64_t done = 0;
  while (done < size) {
    const uint64_t n = std::min<uint64_t>(kZeroChunk, size - done);
    TP_RETURN_IF_ERROR(ns.Write(offset + done, std::span(kZeros, n)));
    done += n;
  }
  TP_RETURN_IF_ERROR(ns.Flush(offset, size));
  ns.Drain();
  return Status::Ok();
}

// The byte offset, inside the namespace, of the backup info block of an arena starting at
// `arena_offset`, assuming the standard geometry (the arena is min(512 GiB, the rest) bytes).
uint64_t ExpectedBackupOffset(uint64_t ns_size, uint64_t arena_offset) {
  const uint64_t size = RoundDown(std::min(kMaxArenaSize, ns_size - arena_offset), kAlignment);
  return arena_offset + size - kInfoBlockSize;
}

// A backup info block belongs to the arena starting at `arena_offset` only if its infooff points
// back at where it was found. Detection and Open apply the same rule, so a backup left at the
// end of a file by a BTT that starts elsewhere in it is not mistaken for one at this offset.
bool BackupPointsAtItself(const InfoBlock& info, uint64_t arena_offset, uint64_t backup_offset) {
  return arena_offset + info.infooff == backup_offset;
}

bool VersionMatches(const InfoBlock& info, Profile profile) {
  return info.major == MajorFor(profile) && info.minor == MinorFor(profile);
}

// Reads the info block at `offset` into *info, in place: open and Check read two per arena on
// every crash state the explorer judges, and a copy of a 4 KiB block costs as much as reading it.
Status ReadInfoInto(Namespace& ns, uint64_t offset, InfoBlock* info) {
  if (offset > ns.SizeBytes() || ns.SizeBytes() - offset < kInfoBlockSize) {
    return Corruption("INV-INFO-GEOMETRY: info block at " + std::to_string(offset) +
                      " lies beyond the namespace end " + std::to_string(ns.SizeBytes()));
  }
  return ns.Read(offset, AsWritableBytes(*info));
}

Result<InfoBlock> ReadInfo(Namespace& ns, uint64_t offset) {
  InfoBlock info;
  TP_RETURN_IF_ERROR(ReadInfoInto(ns, offset, &info));
  return info;
}

// s, with the context make() builds prepended when s failed. make runs only on failure, so the
// success paths of open and recovery build no message strings (they run on every crash state).
template <typename MakeContext>
Status AnnotateFailure(Status s, MakeContext&& make) {
  return s.ok() ? s : s.Annotate(make());
}

// Everything Open needs to judge one info block beyond its signature and checksum.
struct InfoContext {
  Profile profile;
  uint64_t ns_size;
  uint64_t arena_offset;             // namespace offset of this arena's primary info block
  const InfoBlock* first = nullptr;  // arena 0's block, for cross-arena consistency
  const OpenOptions* options = nullptr;
  bool have_pool = false;
  Uuid poolset_uuid{};
  uint32_t pool_bsize = 0;
};

Status ValidateInfo(const InfoBlock& info, const InfoContext& ctx) {
  if (!VersionMatches(info, ctx.profile)) {
    return Corruption("INV-INFO-VERSION: version " + std::to_string(info.major) + "." +
                      std::to_string(info.minor) + " does not match the " +
                      ProfileName(ctx.profile) + " profile (" +
                      std::to_string(MajorFor(ctx.profile)) + "." +
                      std::to_string(MinorFor(ctx.profile)) + ")");
  }
  if (info.infosize != kInfoBlockSize) {
    return Corruption("INV-INFO-GEOMETRY: infosize " + std::to_string(info.infosize) + " != 4096");
  }
  if (info.nfree == 0 || info.nfree > kMaxNfree) {
    return Corruption("INV-INFO-NFREE: nfree " + std::to_string(info.nfree) + " outside 1.." +
                      std::to_string(kMaxNfree));
  }
  if (info.external_lbasize == 0 || info.internal_lbasize < info.external_lbasize ||
      info.internal_lbasize < 512) {
    return Corruption("INV-INFO-LBASIZE: external_lbasize " +
                      std::to_string(info.external_lbasize) + ", internal_lbasize " +
                      std::to_string(info.internal_lbasize));
  }
  if (ctx.options->external_lbasize != 0 &&
      info.external_lbasize != ctx.options->external_lbasize) {
    return InvalidArgument("INV-INFO-LBASIZE: external_lbasize " +
                           std::to_string(info.external_lbasize) + " != requested " +
                           std::to_string(ctx.options->external_lbasize));
  }
  if (ctx.have_pool && info.external_lbasize != ctx.pool_bsize) {
    return Corruption("INV-POOL-BSIZE: pmemblk bsize " + std::to_string(ctx.pool_bsize) +
                      " != BTT external_lbasize " + std::to_string(info.external_lbasize));
  }
  if (info.external_nlba == 0 || info.internal_nlba > kMapLbaMask ||
      uint64_t{info.internal_nlba} != uint64_t{info.external_nlba} + info.nfree) {
    return Corruption("INV-INFO-NLBA: internal_nlba " + std::to_string(info.internal_nlba) +
                      " != external_nlba " + std::to_string(info.external_nlba) + " + nfree " +
                      std::to_string(info.nfree));
  }
  const std::pair<const char*, uint64_t> offs[] = {{"dataoff", info.dataoff},
                                                   {"mapoff", info.mapoff},
                                                   {"flogoff", info.flogoff},
                                                   {"infooff", info.infooff},
                                                   {"nextoff", info.nextoff}};
  const uint64_t room = ctx.ns_size - ctx.arena_offset;  // bytes from arena start to ns end
  for (const auto& [name, value] : offs) {
    if (value % kAlignment != 0) {
      return Corruption("INV-INFO-ALIGN: " + std::string(name) + " " + std::to_string(value) +
                        " is not 4 KiB aligned");
    }
    if (value > room) {
      return Corruption("INV-INFO-GEOMETRY: " + std::string(name) + " " + std::to_string(value) +
                        " lies beyond the namespace end");
    }
  }
  const uint64_t data_end = info.dataoff + uint64_t{info.internal_nlba} * info.internal_lbasize;
  const uint64_t map_end = info.mapoff + uint64_t{info.external_nlba} * kMapEntrySize;
  const uint64_t flog_end = info.flogoff + uint64_t{info.nfree} * kFlogGroupSize;
  if (info.dataoff < kInfoBlockSize || data_end > info.mapoff || map_end > info.flogoff ||
      flog_end > info.infooff || info.infooff + kInfoBlockSize > room) {
    return Corruption("INV-INFO-GEOMETRY: regions overlap or overflow (dataoff " +
                      std::to_string(info.dataoff) + ", mapoff " + std::to_string(info.mapoff) +
                      ", flogoff " + std::to_string(info.flogoff) + ", infooff " +
                      std::to_string(info.infooff) + ")");
  }
  if (info.nextoff != 0 &&
      (info.nextoff < info.infooff + kInfoBlockSize || info.nextoff + kInfoBlockSize > room)) {
    return Corruption("INV-INFO-NEXTOFF: nextoff " + std::to_string(info.nextoff) +
                      " does not point past this arena's backup info block into the namespace");
  }
  const Uuid parent = UuidFromBytes(info.parent_uuid);
  if (ctx.have_pool) {
    if (parent != ctx.poolset_uuid) {
      return Corruption("INV-INFO-PARENT-UUID: parent_uuid " + UuidToString(parent) +
                        " != pool poolset_uuid " + UuidToString(ctx.poolset_uuid));
    }
  } else if (ctx.options->expected_parent_uuid &&
             ctx.options->parent_policy != ParentUuidPolicy::kIgnore) {
    const bool null_ok = ctx.options->parent_policy == ParentUuidPolicy::kMatchOrNull;
    if (!(null_ok && IsNullUuid(parent)) && parent != *ctx.options->expected_parent_uuid) {
      return Corruption("INV-INFO-PARENT-UUID: parent_uuid " + UuidToString(parent) +
                        " != expected " + UuidToString(*ctx.options->expected_parent_uuid));
    }
  }
  if (ctx.first != nullptr) {
    const InfoBlock& f = *ctx.first;
    if (std::memcmp(f.uuid, info.uuid, 16) != 0 ||
        std::memcmp(f.parent_uuid, info.parent_uuid, 16) != 0 ||
        f.external_lbasize != info.external_lbasize ||
        f.internal_lbasize != info.internal_lbasize || f.nfree != info.nfree) {
      return Corruption(
          "INV-INFO-CONSISTENT: uuid, parent_uuid, lbasizes or nfree differ from arena 0");
    }
  }
  return Status::Ok();
}

// The invariant a Status message names ("...: INV-FOO: ..."), for check findings.
std::string InvariantOf(const std::string& m, const char* fallback) {
  const size_t start = m.find("INV-");
  if (start == std::string::npos) return fallback;
  const size_t colon = m.find(':', start);
  if (colon == std::string::npos) return fallback;
  return m.substr(start, colon - start);
}
std::string InvariantOf(const Status& s, const char* fallback) {
  return InvariantOf(s.message(), fallback);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// DRAM state of one arena.

struct FreeEntry {
  PostmapAba block;      // the lane's free block (old_map of its newest flog slot)
  uint32_t sub = 1;      // which of the two live slots (log_index[sub]) the next write goes to
  uint32_t seq = 2;      // seq the next write carries
  bool has_err = false;  // the free block was freed from an E mapping (kept for diagnostics)
  bool known = true;     // false: a salvage open could not recover this lane's flog
};

struct Btt::Arena {
  size_t index = 0;
  uint64_t base = 0;  // namespace offset of the primary info block
  // The validated block (from the backup when the primary was bad). It always passes
  // CheckInfoBlockIntegrity: LoadArenas verified it, PersistInfoFlags gives it a fresh checksum.
  InfoBlock info;
  ArenaGeometry geo;  // decoded from `info` (ArenaGeometryOf): the only copy of the geometry
  uint64_t first_lba = 0;
  std::array<uint32_t, 2> log_index{0, 1};
  std::unique_ptr<FreeEntry[]> freelist;
  std::unique_ptr<std::atomic<uint32_t>[]> rtt;
  std::vector<std::pair<uint32_t, uint32_t>> overlay;  // read-only roll-forward: premap -> raw
  std::atomic<bool> error{false};
  // OpenOptions::salvage: why the flog could not be recovered (each message names its
  // invariant). Non-empty means Check(repair) rebuilds this arena's flog.
  std::vector<std::string> salvage_failures;

  // Namespace offsets of the regions.
  uint64_t data_abs() const { return base + geo.dataoff; }
  uint64_t map_abs() const { return base + geo.mapoff; }
  uint64_t flog_abs() const { return base + geo.flogoff; }
  uint64_t info2_abs() const { return base + geo.infooff; }
};

bool CheckReport::Has(const std::string& invariant) const {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.invariant == invariant; });
}

std::string CheckReport::ToString() const {
  if (findings.empty()) return "clean\n";
  std::string out;
  for (const Finding& f : findings) {
    out += f.invariant + " arena " + std::to_string(f.arena) + ": " + f.detail +
           (f.repaired ? " [repaired]" : "") + "\n";
  }
  return out;
}

Btt::Btt(Namespace& ns, Profile profile, bool read_only)
    : ns_(ns),
      mapped_(ns.MappedBytes().size() == ns.SizeBytes() ? ns.MappedBytes().data() : nullptr),
      profile_(profile),
      flog_style_(FlogStyleFor(profile)),
      read_only_(read_only) {}

Btt::~Btt() = default;

// ---------------------------------------------------------------------------------------------
// Format.

Status Btt::Format(Namespace& ns, const FormatOptions& options) {
  if (ns.ReadOnly()) return ReadOnlyError("cannot format a read-only namespace");
  TP_ASSIGN_OR_RETURN(const Geometry geo, ComputeGeometry(options.profile, ns.SizeBytes(),
                                                          options.external_lbasize, options.nfree));
  const uint64_t size = ns.SizeBytes();

  // Step 1: invalidate every info block an old layout may have left where Open looks (the
  // container headers and arena 0 at offsets 0, 4 KiB and 8 KiB, each first arena's backup, and
  // every arena's primary and backup of the new geometry), durably, before anything else. Without
  // it a crash while the map is being zeroed would leave an old, valid info block over a
  // half-initialised map and flog: a "valid" BTT over garbage.
  TP_RETURN_IF_ERROR(ZeroRange(ns, 0, std::min<uint64_t>(size, kPmemblkBttOffset + 4096)));
  for (const uint64_t off : {uint64_t{0}, uint64_t{4096}, kPmemblkBttOffset}) {
    if (off + kInfoBlockSize <= size) {
      TP_RETURN_IF_ERROR(ZeroRange(ns, ExpectedBackupOffset(size, off), kInfoBlockSize));
    }
  }
  for (const ArenaGeometry& a : geo.arenas) {
    TP_RETURN_IF_ERROR(ZeroRange(ns, geo.btt_offset + a.offset, kInfoBlockSize));
    TP_RETURN_IF_ERROR(ZeroRange(ns, geo.btt_offset + a.offset + a.infooff, kInfoBlockSize));
  }

  // Step 2: per arena, zero the map (00 = identity: a zeroed map is a valid fresh map) and the
  // whole flog area (padding slots must read as padding for slot-layout detection), then write
  // each lane's initial slot 0 = {lane, ext_nlba + lane, same, seq 1}; slot 1 stays zero. All
  // durable before any info block exists.
  for (const ArenaGeometry& a : geo.arenas) {
    const uint64_t arena_abs = geo.btt_offset + a.offset;
    if (!options.medium_is_zeroed) {
      TP_RETURN_IF_ERROR(
          ZeroRange(ns, arena_abs + a.mapoff, uint64_t{a.external_nlba} * kMapEntrySize));
    }
    TP_RETURN_IF_ERROR(ZeroRange(ns, arena_abs + a.flogoff, FlogSizeFor(geo.nfree)));
    for (uint32_t lane = 0; lane < geo.nfree; ++lane) {
      // The free blocks of a fresh arena are the ones past the identity-mapped LBAs.
      const FlogSlot s =
          InitialFlogSlot(FlogStyleFor(geo.profile), lane, a.external_nlba, a.external_nlba + lane);
      TP_RETURN_IF_ERROR(ns.Write(arena_abs + a.flogoff + lane * kFlogGroupSize, AsBytes(s)));
    }
    TP_RETURN_IF_ERROR(ns.Flush(arena_abs + a.flogoff, uint64_t{geo.nfree} * kFlogGroupSize));
    ns.Drain();
  }

  // Step 3: info blocks last, from the highest arena down, backup before primary, each durable
  // (UEFI "Validating BTT Arenas at start-up"): until an arena's backup is durable, Open finds no
  // BTT there, so an interrupted format is never mistaken for a valid one. A format interrupted
  // between backup and primary opens from the backup, which is harmless: map and flog were made
  // durable first.
  for (size_t i = geo.arenas.size(); i-- > 0;) {
    const ArenaGeometry& a = geo.arenas[i];
    const InfoBlock info = MakeInfoBlock(geo, i, options.uuid, options.parent_uuid);
    // MUTANT info-primary-first (btt-format.md §1.9, §3d-10): primary before backup.
    if (TP_MUTANT(kInfoPrimaryFirst)) {
      TP_RETURN_IF_ERROR(ns.WritePersist(geo.btt_offset + a.offset, AsBytes(info)));
    }
    TP_RETURN_IF_ERROR(ns.WritePersist(geo.btt_offset + a.offset + a.infooff, AsBytes(info)));
    TP_RETURN_IF_ERROR(ns.WritePersist(geo.btt_offset + a.offset, AsBytes(info)));
  }

  // Step 4 (pmemblk): the pmemblk header, then the pool header last, so a crash before it leaves
  // no pool at all rather than a pool whose BTT is half written.
  if (geo.profile == Profile::kPmemblk) {
    PmemblkHeader ph{options.external_lbasize, options.medium_is_zeroed ? 1u : 0u};
    TP_RETURN_IF_ERROR(ns.WritePersist(kPmemblkHeaderOffset, AsBytes(ph)));
    const PoolHeader hdr =
        MakePoolHeader(options.parent_uuid, options.pool_part_uuid, options.pool_crtime);
    TP_RETURN_IF_ERROR(ns.WritePersist(0, AsBytes(hdr)));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Open.

Result<Profile> Btt::DetectProfile(Namespace& ns) {
  const uint64_t size = ns.SizeBytes();
  if (size >= kPmemblkBttOffset + kInfoBlockSize) {
    char sig[8];
    TP_RETURN_IF_ERROR(ns.Read(0, std::as_writable_bytes(std::span(sig))));
    if (std::memcmp(sig, kPoolSignature, sizeof(sig)) == 0) return Profile::kPmemblk;
  }
  // The kernel's probe order: v1.1 at 4 KiB, then v2.0 at 0.
  for (const Profile p : {Profile::kLinux, Profile::kUefi}) {
    auto info = ReadInfo(ns, BttOffsetFor(p));
    if (info.ok() && CheckInfoBlockIntegrity(*info).ok() && VersionMatches(*info, p)) return p;
  }
  for (const Profile p : {Profile::kLinux, Profile::kUefi}) {
    if (size < BttOffsetFor(p) + 2 * kInfoBlockSize) continue;
    const uint64_t backup_offset = ExpectedBackupOffset(size, BttOffsetFor(p));
    auto info = ReadInfo(ns, backup_offset);
    if (info.ok() && CheckInfoBlockIntegrity(*info).ok() && VersionMatches(*info, p) &&
        BackupPointsAtItself(*info, BttOffsetFor(p), backup_offset)) {
      return p;
    }
  }
  return NotFound(
      "INV-LAYOUT-NOT-FOUND: no pool header, no BTT v1.1 info block at 4096, no v2.0 at 0, "
      "and no matching backup info block");
}

Result<std::unique_ptr<Btt>> Btt::Open(Namespace& ns, const OpenOptions& options) {
  Profile profile;
  if (options.profile) {
    profile = *options.profile;
  } else {
    TP_ASSIGN_OR_RETURN(profile, DetectProfile(ns));
  }
  const bool read_only = options.read_only || options.salvage || ns.ReadOnly();
  std::unique_ptr<Btt> btt(new Btt(ns, profile, read_only));
  btt->repairable_ = !options.read_only && !ns.ReadOnly();
  btt->options_ = options;
  if (profile == Profile::kPmemblk) {
    if (ns.SizeBytes() < kPmemblkBttOffset + kInfoBlockSize) {
      return Corruption("INV-POOL-HDR: file of " + std::to_string(ns.SizeBytes()) +
                        " bytes is too small for a pmemblk pool");
    }
    PoolHeader hdr;
    TP_RETURN_IF_ERROR(ns.Read(0, AsWritableBytes(hdr)));
    TP_RETURN_IF_ERROR(CheckPoolHeader(hdr));
    PmemblkHeader ph;
    TP_RETURN_IF_ERROR(ns.Read(kPmemblkHeaderOffset, AsWritableBytes(ph)));
    btt->have_pool_ = true;
    btt->poolset_uuid_ = UuidFromBytes(hdr.poolset_uuid);
    btt->pool_bsize_ = ph.bsize;
    // PMDK lays the BTT out lazily on the first write: an all-zero arena 0 is "no layout yet".
    TP_ASSIGN_OR_RETURN(const InfoBlock first, ReadInfo(ns, kPmemblkBttOffset));
    const auto* b = reinterpret_cast<const std::byte*>(&first);
    if (std::all_of(b, b + sizeof(first), [](std::byte x) { return x == std::byte{0}; })) {
      auto backup = ReadInfo(ns, ExpectedBackupOffset(ns.SizeBytes(), kPmemblkBttOffset));
      if (!backup.ok() || !CheckInfoBlockIntegrity(*backup).ok()) {
        return NotFound(
            "INV-LAYOUT-NOT-FOUND: pmemblk pool has no BTT layout yet (libpmemblk writes it on "
            "the first write); format it explicitly");
      }
    }
  }
  TP_RETURN_IF_ERROR(btt->LoadArenas(options));
  for (auto& arena : btt->arenas_) TP_RETURN_IF_ERROR(btt->RecoverArena(*arena));
  if (options.verify_map) {
    for (auto& arena : btt->arenas_) {
      CheckReport report;
      TP_RETURN_IF_ERROR(btt->VerifyBijection(*arena, &report));
      if (!report.Clean()) {
        return Corruption(report.findings.front().invariant + ": " + ArenaTag(arena->index) +
                          report.findings.front().detail);
      }
    }
  }
  if (options.sync != nullptr) {
    btt->sync_ = options.sync;
  } else {
    btt->owned_sync_ = std::make_unique<ThreadSync>();
    btt->sync_ = btt->owned_sync_.get();
  }
  // Lanes in use (PMDK: min(nfree, 2 x CPUs)). Every lane's flog group and free block stay on
  // media and are recovered; only lanes < lane_count_ are handed out, so writers scan only
  // lane_count_ RTT slots instead of nfree.
  uint32_t lanes = options.lanes;
  if (lanes == 0) lanes = std::max(2u, 2 * std::thread::hardware_concurrency());
  btt->lane_count_ = std::min(lanes, btt->nfree_);
  TP_RETURN_IF_ERROR(
      btt->sync_->Init(btt->lane_count_, static_cast<uint32_t>(btt->nfree_ * btt->arenas_.size())));
  return btt;
}

Status Btt::LoadArenas(const OpenOptions& options) {
  const uint64_t ns_size = ns_.SizeBytes();
  uint64_t offset = BttOffsetFor(profile_);
  InfoContext ctx{profile_, ns_size, 0, nullptr, &options, have_pool_, poolset_uuid_, pool_bsize_};
  uint64_t first_lba = 0;
  // Each arena spans at least 8 KiB, so the chain cannot be longer than this.
  const uint64_t max_arenas = ns_size / (2 * kInfoBlockSize) + 1;
  for (size_t i = 0;; ++i) {
    if (i >= max_arenas) return Corruption("INV-INFO-NEXTOFF: nextoff chain does not end");
    ctx.arena_offset = offset;
    auto tag = [i] { return ArenaTag(i); };
    // The primary is read straight into the arena; on the rare fallback the backup replaces it.
    auto arena = std::unique_ptr<Arena>(new Arena);
    InfoBlock& info = arena->info;
    TP_RETURN_IF_ERROR(ReadInfoInto(ns_, offset, &info));
    Status primary_status = CheckInfoBlockIntegrity(info);
    if (primary_status.ok()) {
      TP_RETURN_IF_ERROR(
          AnnotateFailure(ValidateInfo(info, ctx), [&] { return tag() + "primary info block: "; }));
    } else {
      // Fall back to the backup (UEFI): it sits in the arena's last 4 KiB.
      const uint64_t backup_off = ExpectedBackupOffset(ns_size, offset);
      auto backup = ReadInfo(ns_, backup_off);
      Status backup_status = backup.ok() ? CheckInfoBlockIntegrity(*backup) : backup.status();
      if (backup_status.ok()) backup_status = ValidateInfo(*backup, ctx);
      if (backup_status.ok() && !BackupPointsAtItself(*backup, offset, backup_off)) {
        backup_status = Corruption("INV-INFO-GEOMETRY: backup's infooff " +
                                   std::to_string(backup->infooff) + " does not point at itself");
      }
      if (!backup_status.ok()) {
        if (i == 0 && primary_status.message().rfind("INV-INFO-SIG", 0) == 0 &&
            backup_status.message().rfind("INV-INFO-SIG", 0) == 0) {
          return NotFound("INV-LAYOUT-NOT-FOUND: " + tag() + "no info block at " +
                          std::to_string(offset));
        }
        return Corruption(tag() + "primary info block at " + std::to_string(offset) +
                          " is invalid (" + primary_status.message() +
                          ") and so is the backup at " + std::to_string(backup_off) + " (" +
                          backup_status.message() + ")");
      }
      info = *backup;
      ++open_report_.primaries_from_backup;
      if (!read_only_) {
        // Restore the primary from the backup: a durable copy of a validated block, idempotent
        // if interrupted (either the old bad primary or the good copy is found next time).
        TP_RETURN_IF_ERROR(ns_.WritePersist(offset, AsBytes(info)));
        ++open_report_.primaries_restored;
      }
    }
    arena->index = i;
    arena->base = offset;
    arena->geo = ArenaGeometryOf(info, offset - BttOffsetFor(profile_));
    arena->first_lba = first_lba;
    arena->error.store((info.flags & kInfoFlagError) != 0);
    if (i == 0) {
      external_lbasize_ = info.external_lbasize;
      internal_lbasize_ = info.internal_lbasize;
      nfree_ = info.nfree;
    }
    first_lba += info.external_nlba;
    arenas_.push_back(std::move(arena));
    ctx.first = &arenas_.front()->info;
    if (info.nextoff == 0) break;
    offset += info.nextoff;
  }
  external_nlba_ = first_lba;
  return Status::Ok();
}

Status Btt::RecoverArena(Arena& arena) {
  auto tag = [&arena] { return ArenaTag(arena.index); };
  std::vector<FlogGroup> groups(nfree_);
  TP_RETURN_IF_ERROR(
      AnnotateFailure(ns_.Read(arena.flog_abs(), std::as_writable_bytes(std::span(groups))), tag));
  arena.freelist = std::make_unique<FreeEntry[]>(nfree_);
  arena.rtt = std::make_unique<std::atomic<uint32_t>[]>(nfree_);
  for (uint32_t i = 0; i < nfree_; ++i) arena.rtt[i].store(0);
  // A flog rebuild was interrupted (Check with repair): until its last store the flog is a mix
  // of old and new words, and no lane of it can be trusted, not even one that looks valid.
  // DetectFlogIndices would refuse it too; naming the cause tells the user to run the repair
  // again, and skipping every lane keeps a salvage open from rolling forward a torn slot.
  auto indices = HasFlogRepairMarker(groups[0])
                     ? Result<std::array<uint32_t, 2>>(Corruption(
                           "INV-FLOG-LAYOUT: lane 0 slot 3 holds the flog-rebuild marker: a "
                           "flog repair was interrupted (check --repair completes it)"))
                     : DetectFlogIndices(groups);
  if (!indices.ok()) {
    // Salvage (OpenOptions::salvage): no lane's free block is known without the layout.
    if (!SalvageArena(arena, indices.status().Annotate(tag()))) {
      return indices.status().Annotate(tag());
    }
    for (uint32_t lane = 0; lane < nfree_; ++lane) arena.freelist[lane].known = false;
    return Status::Ok();
  }
  arena.log_index = *indices;
  // MUTANT flog-layout-zero-two (kernel K1, v4.15 log layout): detection ignored, (0,2) assumed.
  if (TP_MUTANT(kFlogLayoutZeroTwo)) arena.log_index = {0, 2};
  std::vector<uint32_t> free_blocks;
  free_blocks.reserve(nfree_);
  for (uint32_t lane = 0; lane < nfree_; ++lane) {
    const Status s = RecoverLane(arena, groups[lane], lane, &free_blocks);
    if (!s.ok()) {
      if (!SalvageArena(arena, s)) return s;
      arena.freelist[lane].known = false;
    }
  }
  std::sort(free_blocks.begin(), free_blocks.end());
  const auto dup = std::adjacent_find(free_blocks.begin(), free_blocks.end());
  if (dup != free_blocks.end()) {
    const Status s = Corruption("INV-FLOG-FREE-DISTINCT: " + tag() + "block " +
                                std::to_string(*dup) + " is the free block of two lanes");
    if (!SalvageArena(arena, s)) return s;
  }
  return Status::Ok();
}

Status Btt::RecoverLane(Arena& arena, const FlogGroup& group, uint32_t lane,
                        std::vector<uint32_t>* free_blocks) {
  auto ltag = [&] { return ArenaTag(arena.index) + "lane " + std::to_string(lane) + ": "; };
  const FlogSlot& a = group.slot[arena.log_index[0]];
  const FlogSlot& b = group.slot[arena.log_index[1]];
  auto newer = NewerSlot(a.seq, b.seq);
  if (!newer.ok()) return newer.status().Annotate(ltag());
  int newest = *newer;
  // MUTANT recover-older-slot (§3d-5, wrong newer-slot choice): trust the older slot.
  if (TP_MUTANT(kRecoverOlderSlot)) newest = 1 - newest;
  const FlogSlot& cur = newest == 0 ? a : b;
  const uint32_t old_block = EntLba(cur.old_map);
  const uint32_t new_block = EntLba(cur.new_map);
  // The per-arena lba range check the kernel lacks (and PMDK does against the total count).
  // An initial slot (old == new) never uses its lba, which is the lane number and may exceed
  // external_nlba on tiny arenas.
  if ((old_block != new_block && cur.lba >= arena.geo.external_nlba) ||
      old_block >= arena.geo.internal_nlba || new_block >= arena.geo.internal_nlba) {
    return Corruption("INV-FLOG-RANGE: " + ltag() + "{lba " + std::to_string(cur.lba) +
                      ", old_map " + std::to_string(old_block) + ", new_map " +
                      std::to_string(new_block) + "} outside external_nlba " +
                      std::to_string(arena.geo.external_nlba) + " / internal_nlba " +
                      std::to_string(arena.geo.internal_nlba));
  }
  FreeEntry& fe = arena.freelist[lane];
  fe.block = PostmapAba(old_block);
  fe.sub = 1 - static_cast<uint32_t>(newest);
  fe.seq = NextSeq(cur.seq);
  fe.has_err = (cur.old_map & kMapFlagMask) == kMapErrorFlag;
  free_blocks->push_back(old_block);
  if (old_block == new_block) return Status::Ok();  // initial or never-completed-anything lane
  const PremapAba premap(cur.lba);
  uint32_t raw = 0;
  TP_RETURN_IF_ERROR(AnnotateFailure(LoadMapEntry(arena, premap, &raw), ltag));
  PostmapAba mapped;
  TP_RETURN_IF_ERROR(AnnotateFailure(Resolve(arena, premap, raw, &mapped), ltag));
  // Roll forward: the flog commit (P3) happened but the map store (P4) did not. If the map
  // holds neither old nor new, a later write through another lane has moved the LBA on.
  uint32_t seen = mapped.value();
  // MUTANT recover-unmasked (kernel K2, 9dedc73a4658): the raw entry, flags included.
  if (TP_MUTANT(kRecoverUnmasked)) seen = raw;
  // MUTANT recover-skip-old-map-check (PMDK P10 98094fd13): roll forward unless map == new.
  if (seen == new_block || (seen != old_block && !TP_MUTANT(kRecoverSkipOldMapCheck))) {
    return Status::Ok();
  }
  // MUTANT recover-roll-back (§3d-6): leave the map on old_map, which is still freed.
  if (TP_MUTANT(kRecoverRollBack)) return Status::Ok();
  const uint32_t fixed = new_block | kMapNormal;
  // MUTANT read-only-writes-recovery (§2.7): a read-only open stores its roll-forward.
  if (read_only_ && !TP_MUTANT(kReadOnlyWritesRecovery)) {
    // One overlay entry per premap: a later lane's roll-forward of the same LBA (a chain, lane
    // 1's old_map is lane 0's new_map) replaces the earlier one, exactly as the read-write
    // recovery's second map store overwrites its first (INV-RO-EQUALS-RW).
    auto it = std::find_if(arena.overlay.begin(), arena.overlay.end(),
                           [&](const auto& e) { return e.first == premap.value(); });
    if (it != arena.overlay.end()) {
      it->second = fixed;
    } else {
      arena.overlay.emplace_back(premap.value(), fixed);
    }
  } else {
    TP_RETURN_IF_ERROR(AnnotateFailure(PersistMapEntry(arena, premap, fixed), ltag));
  }
  ++open_report_.lanes_rolled_forward;
  return Status::Ok();
}

bool Btt::SalvageArena(Arena& arena, const Status& failure) {
  // Only a metadata inconsistency is salvaged; an I/O failure still fails the open.
  if (!options_.salvage || failure.code() != StatusCode::kCorruption) return false;
  // In DRAM only: a salvage open never writes (Check(repair) may, later).
  arena.error.store(true);
  arena.salvage_failures.push_back(failure.message());
  open_report_.salvaged.push_back(failure.message());
  return true;
}

// ---------------------------------------------------------------------------------------------
// Accessors and helpers.

std::array<uint32_t, 2> Btt::FlogIndices(size_t arena) const {
  TP_ASSERT(arena < arenas_.size(), "INV-ARENA-INDEX");
  return arenas_[arena]->log_index;
}

PostmapAba Btt::FreeBlockForTest(size_t arena, Lane lane) const {
  TP_ASSERT(arena < arenas_.size() && lane.value() < nfree_, "INV-ARENA-INDEX");
  return arenas_[arena]->freelist[lane.value()].block;
}

Result<uint32_t> Btt::MapEntryForTest(ExternalLba lba) {
  Location loc;
  TP_RETURN_IF_ERROR(Locate(lba, &loc));
  uint32_t raw = 0;
  TP_RETURN_IF_ERROR(LoadMapEntry(*loc.arena, loc.premap, &raw));
  return raw;
}

Status Btt::Locate(ExternalLba lba, Location* loc) {
  if (lba.value() >= external_nlba_) [[unlikely]] {
    return ColdError(StatusCode::kInvalidArgument, "LBA ", lba.value(), " >= external_nlba ",
                     external_nlba_);
  }
  for (auto& arena : arenas_) {
    if (lba.value() < arena->first_lba + arena->geo.external_nlba) {
      *loc =
          Location{arena.get(), PremapAba(static_cast<uint32_t>(lba.value() - arena->first_lba))};
      return Status::Ok();
    }
  }
  return ColdError(StatusCode::kInternal, "LBA ", lba.value(), " in no arena");
}

Status Btt::LocateSector(ExternalLba lba, size_t size, std::string_view what, Location* loc) {
  if (size != external_lbasize_) [[unlikely]] {
    return ColdError(StatusCode::kInvalidArgument, what, " of ", size, " bytes, sector size ",
                     external_lbasize_);
  }
  return Locate(lba, loc);
}

void Btt::EnterErrorState(Arena& arena) {
  // The first caller persists; concurrent failures in the same arena only see the state.
  if (arena.error.exchange(true)) return;
  if (read_only_) return;
  // Best effort: if the medium refuses this too, the DRAM state still refuses writes for the
  // rest of the session, and the caller reports its own (first) failure.
  (void)PersistInfoFlags(arena, arena.info.flags | kInfoFlagError);
}

Status Btt::PersistInfoFlags(Arena& arena, uint32_t flags) {
  // PMDK arena_setf order: the primary, then the backup, each a durable whole block with its
  // checksum. Only the flags word and the checksum change, so a crash between (or a torn block)
  // leaves one valid copy: a torn primary fails its checksum and Open falls back to the backup.
  InfoBlock info = arena.info;
  info.flags = flags;
  info.checksum = InfoBlockChecksum(info);
  TP_RETURN_IF_ERROR(ns_.WritePersist(arena.base, AsBytes(info)));
  TP_RETURN_IF_ERROR(ns_.WritePersist(arena.info2_abs(), AsBytes(info)));
  arena.info = info;
  return Status::Ok();
}

Status Btt::ArenaErrorStatus(const Arena& arena) {
  return ColdError(StatusCode::kMediaError, "INV-INFO-ERROR-FLAG: arena ", arena.index,
                   ": arena is in the ERROR state; writes are refused");
}

Status Btt::LoadMapEntry(const Arena& arena, PremapAba premap, uint32_t* raw) const {
  TP_ASSERT(premap.value() < arena.geo.external_nlba, "INV-PREMAP-RANGE");
  // The overlay is empty except after a read-only open that had something to roll forward.
  for (const auto& [p, value] : arena.overlay) {
    if (p == premap.value()) {
      *raw = value;
      return Status::Ok();
    }
  }
  // A 4-byte aligned load: one atomic access under the Namespace contract. Directly from the
  // mapping when there is one: Open validated that the map lies inside the namespace
  // (INV-INFO-GEOMETRY) and premap < external_nlba, so the offset is in range by construction.
  const uint64_t offset = arena.map_abs() + uint64_t{premap.value()} * kMapEntrySize;
  const auto word = std::as_writable_bytes(std::span(raw, 1));
  if (mapped_ != nullptr && AtomicLoadIfWord(mapped_ + offset, word)) return Status::Ok();
  return ns_.Read(offset, word);
}

Status Btt::Resolve(const Arena& arena, PremapAba premap, uint32_t raw, PostmapAba* block) const {
  // 00 = the initial identity mapping (UEFI, kernel): postmap = premap.
  const uint32_t b = (raw & kMapFlagMask) == 0 ? premap.value() : EntLba(raw);
  if (b >= arena.geo.internal_nlba) [[unlikely]] {
    char hex[9];
    std::snprintf(hex, sizeof(hex), "%08x", raw);
    return ColdError(StatusCode::kCorruption, "INV-MAP-RANGE: arena ", arena.index, ": map[",
                     premap.value(), "] = 0x", std::string_view(hex), " points past internal_nlba ",
                     arena.geo.internal_nlba);
  }
  *block = PostmapAba(b);
  return Status::Ok();
}

uint32_t Btt::MapLockIndex(const Arena& arena, PremapAba premap) const {
  // One lock per 64-byte map line (16 entries), modulo nfree, like the kernel and PMDK.
  const uint64_t line = uint64_t{premap.value()} * kMapEntrySize / 64;
  return static_cast<uint32_t>(arena.index * nfree_ + line % nfree_);
}

Status Btt::WaitForReaders(Arena& arena, PostmapAba block) {
  // Pairs with the fence in Read: either the reader's RTT store is visible here (we wait), or
  // the reader's map re-load sees the map store that freed this block (it retries elsewhere).
  // That store (P4 of the previous write through this lane) happens before this fence because
  // the lane was handed over through Sync (ReleaseLane happens before the next AcquireLane).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint32_t busy = kRttValid | block.value();
  // Only lanes < lane_count_ are ever handed out, so only their RTT slots can be published.
  for (uint32_t i = 0; i < lane_count_; ++i) {
    // Acquire: a reader's copy (before its release clear) happens before our overwrite.
    if (arena.rtt[i].load(std::memory_order_acquire) == busy) [[unlikely]] {
      TP_RETURN_IF_ERROR(WaitForSlot(arena.rtt[i], block));
    }
  }
  return Status::Ok();
}

Status Btt::WaitForSlot(const std::atomic<uint32_t>& slot, PostmapAba block) {
  const uint32_t busy = kRttValid | block.value();
  for (uint64_t spins = 0; slot.load(std::memory_order_acquire) == busy;) {
    if (++spins > kMaxSpins) {
      return ColdError(StatusCode::kInternal, "INV-RTT-WAIT-BOUND: a reader held block ",
                       block.value(), " too long");
    }
    sync_->Pause();
  }
  return Status::Ok();
}

uint64_t Btt::FlogHalfOffset(const Arena& arena, uint32_t lane, uint32_t slot, uint32_t half) {
  return arena.flog_abs() + uint64_t{lane} * kFlogGroupSize + uint64_t{slot} * kFlogSlotSize +
         uint64_t{half} * 8;
}

FlogSlot Btt::MakeFlogEntry(PremapAba premap, uint32_t old_raw, PostmapAba old_block,
                            PostmapAba new_block, uint32_t seq) const {
  FlogSlot e;
  e.lba = premap.value();
  e.seq = seq;
  if (flog_style_ == FlogStyle::kPmdk) {
    // PMDK logs raw map entries; its recovery compares raw values, so an identity (00) entry
    // must be logged as lba|NORMAL exactly as libpmemblk would.
    e.old_map = (old_raw & kMapFlagMask) == 0 ? (old_block.value() | kMapNormal) : old_raw;
    e.new_map = new_block.value() | kMapNormal;
  } else {
    // Kernel: bare block numbers; E marks a block freed from an error mapping.
    e.old_map = old_block.value();
    if ((old_raw & kMapFlagMask) == kMapErrorFlag) e.old_map |= kMapErrorFlag;
    e.new_map = new_block.value();
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// The write path: P1 .. P4.

Status Btt::PersistData(Arena& arena, PostmapAba block, std::span<const std::byte> data) {
  // P1. The data must be durable in the free block before the flog commit (P3) makes the block
  // reachable; otherwise a crash after P3 maps the LBA to torn or stale bytes.
  const uint64_t off = arena.data_abs() + uint64_t{block.value()} * internal_lbasize_;
  // MUTANT data-not-persisted (§3d-1): P1 stored, never flushed or fenced.
  if (TP_MUTANT(kDataNotPersisted)) return ns_.Write(off, data);
  return ns_.WritePersist(off, data);
}

Status Btt::PersistFlogHalfA(Arena& arena, Lane lane, uint32_t sub, const FlogSlot& entry) {
  // P2. {lba, old_map} into the inactive slot. Harmless on its own: the slot keeps its old,
  // older seq, so recovery still ignores it. It must be durable before P3, or the slot could
  // become active with a stale lba/old_map and recovery would update the wrong map entry or free
  // a mapped block.
  const uint64_t slot = FlogHalfOffset(arena, lane.value(), arena.log_index[sub], 0);
  std::byte half[8];
  StoreLe<uint32_t>(half, entry.lba);
  StoreLe<uint32_t>(half + 4, entry.old_map);
  // MUTANT flog-half-a-unfenced (§3d-2): half A not made durable before half B.
  if (TP_MUTANT(kFlogHalfAUnfenced)) return ns_.Write(slot, half);
  return ns_.WritePersist(slot, half);
}

Status Btt::PersistFlogHalfB(Arena& arena, Lane lane, uint32_t sub, const FlogSlot& entry) {
  // P3, the commit point. {new_map, seq} in one 8-byte atomic store: the new seq makes this slot
  // the newer one, and new_map arrives in the same store. Durable before the map store (P4):
  // otherwise a crash could leave the map pointing at the new block while the flog still lists
  // it as free (a duplicate) and the old block leaks.
  const uint64_t slot = FlogHalfOffset(arena, lane.value(), arena.log_index[sub], 1);
  std::byte half[8];
  StoreLe<uint32_t>(half, entry.new_map);
  StoreLe<uint32_t>(half + 4, entry.seq);
  return ns_.WritePersist(slot, half);
}

Status Btt::PersistMapEntry(Arena& arena, PremapAba premap, uint32_t raw) {
  // P4. One 4-byte atomic store. Made durable before the lane (and so the freed old block) can
  // be reused, so that a later write's flog entry never refers to a map state that a crash could
  // still roll back. Also used by recovery's roll-forward and by Zero/SetError.
  std::byte word[4];
  StoreLe<uint32_t>(word, raw);
  // A release store under the Namespace contract: a reader that loads the new entry also sees
  // the block's data (P1).
  return ns_.WritePersist(arena.map_abs() + uint64_t{premap.value()} * kMapEntrySize, word);
}

Status Btt::Write(ExternalLba lba, std::span<const std::byte> data) {
  if (read_only_) return ReadOnlyError("BTT opened read-only");
  Location loc;
  TP_RETURN_IF_ERROR(LocateSector(lba, data.size(), "write", &loc));
  Arena& arena = *loc.arena;
  if (arena.error.load(std::memory_order_relaxed)) return ArenaErrorStatus(arena);
  LaneGuard lane_guard(*sync_);
  const Lane lane = lane_guard.lane();
  FreeEntry& fe = arena.freelist[lane.value()];
  const PostmapAba free_block = fe.block;
  TP_ASSERT(free_block.value() < arena.geo.internal_nlba, "INV-FREELIST-RANGE");

  // No reader may be copying out of the block we are about to overwrite.
  TP_RETURN_IF_ERROR(WaitForReaders(arena, free_block));
  TP_RETURN_IF_ERROR(PersistData(arena, free_block, data));  // P1

  MapLockGuard map_guard(*sync_, MapLockIndex(arena, loc.premap));
  uint32_t old_raw = 0;
  TP_RETURN_IF_ERROR(LoadMapEntry(arena, loc.premap, &old_raw));
  PostmapAba old_block;
  TP_RETURN_IF_ERROR(Resolve(arena, loc.premap, old_raw, &old_block));
  if (old_block == free_block) {
    // The arena's metadata contradicts itself (a block both free and mapped): any further write
    // here could overwrite live data, in this session or the next.
    EnterErrorState(arena);
    return Corruption("INV-MAP-BIJECTION: " + ArenaTag(arena.index) + "block " +
                      std::to_string(free_block.value()) + " is lane " +
                      std::to_string(lane.value()) + "'s free block and mapped by premap " +
                      std::to_string(loc.premap.value()));
  }
  const FlogSlot entry = MakeFlogEntry(loc.premap, old_raw, old_block, free_block, fe.seq);
  // MUTANT write-active-slot (§3d-4): the newer (active) slot is overwritten.
  const uint32_t sub = TP_MUTANT(kWriteActiveSlot) ? fe.sub ^ 1 : fe.sub;
  // MUTANT map-before-flog (§3d-3): P4 made durable before the flog commit.
  if (TP_MUTANT(kMapBeforeFlog)) {
    TP_RETURN_IF_ERROR(PersistMapEntry(arena, loc.premap, free_block.value() | kMapNormal));
  }
  // MUTANT flog-half-b-first (§3d-2): half B (new_map, seq: the commit) before half A.
  if (TP_MUTANT(kFlogHalfBFirst)) TP_RETURN_IF_ERROR(PersistFlogHalfB(arena, lane, sub, entry));
  TP_RETURN_IF_ERROR(PersistFlogHalfA(arena, lane, sub, entry));  // P2
  Status committed = PersistFlogHalfB(arena, lane, sub, entry);   // P3: commit
  if (!committed.ok()) {
    // Whether the commit reached the medium is unknown, so the lane's next free block is unknown
    // too (the old block if it did, this one if it did not): stop writing to this arena.
    EnterErrorState(arena);
    return committed;
  }
  // Committed: the lane's next free block is the one this write unmaps.
  fe.block = old_block;
  // MUTANT free-not-replaced (kernel K9 family): the lane keeps the block it just mapped.
  if (TP_MUTANT(kFreeNotReplaced)) fe.block = free_block;
  // MUTANT write-active-slot, continued: the slot choice never moves on, so every later write
  // of the session overwrites the slot the previous one committed.
  if (!TP_MUTANT(kWriteActiveSlot)) fe.sub ^= 1;
  fe.seq = NextSeq(fe.seq);
  // MUTANT seq-not-advanced (§1.7, §3d-5): the next write reuses this write's seq.
  if (TP_MUTANT(kSeqNotAdvanced)) fe.seq = entry.seq;
  // MUTANT seq-skips (§3d-5, 1-vs-3 wrap): seq advances twice (1 -> 3, 2 -> 1).
  if (TP_MUTANT(kSeqSkips)) fe.seq = NextSeq(fe.seq);
  fe.has_err = (old_raw & kMapFlagMask) == kMapErrorFlag;
  uint32_t map_flags = kMapNormal;
  // MUTANT map-without-flags (PMDK P4/P5, EZ handling): bare block, i.e. flags 00 = identity.
  if (TP_MUTANT(kMapWithoutFlags)) map_flags = 0;
  Status mapped = PersistMapEntry(arena, loc.premap, free_block.value() | map_flags);  // P4
  if (!mapped.ok()) {
    // The flog says the write happened and recovery will roll it forward, but the in-DRAM free
    // block (old_block) is still mapped (the kernel's latent K9): never write this arena again
    // until the map is repaired. PMDK persists the arena ERROR flag here; so do we.
    EnterErrorState(arena);
    return mapped;
  }
  return Status::Ok();
}

Status Btt::Read(ExternalLba lba, std::span<std::byte> out) {
  Location loc;
  TP_RETURN_IF_ERROR(LocateSector(lba, out.size(), "read", &loc));
  Arena& arena = *loc.arena;
  LaneGuard lane_guard(*sync_);
  std::atomic<uint32_t>& rtt = arena.rtt[lane_guard.lane().value()];
  uint32_t raw = 0;
  TP_RETURN_IF_ERROR(LoadMapEntry(arena, loc.premap, &raw));
  PostmapAba block;
  for (uint32_t attempt = 0;; ++attempt) {
    if (attempt >= kMaxReadRetries) [[unlikely]] {
      return ColdError(StatusCode::kInternal,
                       "INV-RTT-WAIT-BOUND: map entry kept changing during a read");
    }
    const uint32_t flags = raw & kMapFlagMask;
    if (flags == kMapZeroFlag) {
      std::memset(out.data(), 0, out.size());
      return Status::Ok();
    }
    if (flags == kMapErrorFlag) {
      return ColdError(StatusCode::kMediaError, "LBA ", lba.value(), " carries the error flag");
    }
    TP_RETURN_IF_ERROR(Resolve(arena, loc.premap, raw, &block));
    if (mapped_ != nullptr) {
      // Start the trip to memory for the block now (its page walk and first lines), so it
      // overlaps the publish, the fence and the re-validation below; the hardware prefetcher
      // streams the rest once the copy starts. Only a hint: if the entry changes we retry.
      const std::byte* p = mapped_ + arena.data_abs() + uint64_t{block.value()} * internal_lbasize_;
      __builtin_prefetch(p);
      __builtin_prefetch(p + 64);
    }
    // Publish the block we are about to copy, then re-read the map. A store followed by a load
    // of another address needs a full fence between them (a compiler barrier is not enough: the
    // kernel's latent bug K10); this seq_cst fence pairs with the one in WaitForReaders. If the
    // entry is unchanged (block AND flags), no writer can have freed and reused the block without
    // first seeing our RTT slot.
    rtt.store(kRttValid | block.value(), std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    uint32_t again = 0;
    Status s = LoadMapEntry(arena, loc.premap, &again);
    if (!s.ok()) {
      rtt.store(0, std::memory_order_release);
      return s;
    }
    if (again == raw) break;
    // MUTANT read-recheck-block-only (kernel K6, 4.4-era btt_read_pg): flags not compared.
    if (TP_MUTANT(kReadRecheckBlockOnly) && EntLba(again) == EntLba(raw)) break;
    rtt.store(0, std::memory_order_release);
    raw = again;
    sync_->Pause();
  }
  // The validating map load was an acquire load (the Namespace contract) of the entry whose
  // release store published the block (P4), so the block's data (P1) is what we copy.
  const uint64_t offset = arena.data_abs() + uint64_t{block.value()} * internal_lbasize_;
  Status s;
  if (mapped_ != nullptr) {
    // In range by construction: block < internal_nlba and the data area was validated at open.
    std::memcpy(out.data(), mapped_ + offset, out.size());
  } else {
    s = ns_.Read(offset, out);
  }
  // Release: our copy is done before a writer that sees the slot cleared reuses the block.
  rtt.store(0, std::memory_order_release);
  if (!s.ok()) return s;
  return Status::Ok();
}

Status Btt::UpdateMapFlags(ExternalLba lba, uint32_t flag) {
  if (read_only_) return ReadOnlyError("BTT opened read-only");
  Location loc;
  TP_RETURN_IF_ERROR(Locate(lba, &loc));
  Arena& arena = *loc.arena;
  if (arena.error.load(std::memory_order_relaxed)) return ArenaErrorStatus(arena);
  MapLockGuard map_guard(*sync_, MapLockIndex(arena, loc.premap));
  uint32_t raw = 0;
  TP_RETURN_IF_ERROR(LoadMapEntry(arena, loc.premap, &raw));
  PostmapAba block;
  TP_RETURN_IF_ERROR(Resolve(arena, loc.premap, raw, &block));
  // Exactly one flag: the block stays owned by this LBA (a 00 entry keeps its identity block).
  const uint32_t updated = block.value() | flag;
  if (updated == raw) return Status::Ok();
  // MUTANT zero-not-persisted (PMDK P3/P4 zero path): the Z entry stored, never flushed.
  if (TP_MUTANT(kZeroNotPersisted) && flag == kMapZeroFlag) {
    std::byte word[4];
    StoreLe<uint32_t>(word, updated);
    return ns_.Write(arena.map_abs() + uint64_t{loc.premap.value()} * kMapEntrySize, word);
  }
  return PersistMapEntry(arena, loc.premap, updated);
}

Status Btt::Zero(ExternalLba lba) { return UpdateMapFlags(lba, kMapZeroFlag); }

Status Btt::SetError(ExternalLba lba) { return UpdateMapFlags(lba, kMapErrorFlag); }

// ---------------------------------------------------------------------------------------------
// Check.

// Which data blocks of one arena are referenced (by map entries, by the lanes' free blocks) and
// which of them twice. Reports the first kMaxFindingsPerKind blocks referenced twice as
// INV-MAP-BIJECTION. Two bits per block: 256 MiB for the largest possible arena.
class Btt::BlockRefs {
 public:
  BlockRefs(size_t arena, uint32_t internal_nlba)
      : arena_(arena), seen_(internal_nlba, false), twice_(internal_nlba, false) {}
  // `block` < internal_nlba is referenced by lane `who`'s free block (is_lane) or by map[who].
  void Note(uint32_t block, bool is_lane, uint32_t who, CheckReport* report) {
    if (!seen_[block]) {
      seen_[block] = true;
      return;
    }
    const bool first_duplicate = !twice_[block];
    twice_[block] = true;
    if (first_duplicate && duplicates_reported_ < kMaxFindingsPerKind) {
      ++duplicates_reported_;
      report->findings.push_back({"INV-MAP-BIJECTION", static_cast<int64_t>(arena_),
                                  "block " + std::to_string(block) +
                                      " is referenced twice (again by " +
                                      (is_lane ? "lane " + std::to_string(who) + "'s free block"
                                               : "map[" + std::to_string(who) + "]") +
                                      ")",
                                  false});
    }
  }
  bool Seen(uint32_t block) const { return seen_[block]; }
  uint32_t size() const { return static_cast<uint32_t>(seen_.size()); }
  size_t range_errors = 0;  // map entries past internal_nlba (ScanMap)

 private:
  size_t arena_;
  std::vector<bool> seen_;
  std::vector<bool> twice_;
  size_t duplicates_reported_ = 0;
};

Status Btt::ScanMap(const Arena& arena, BlockRefs* refs, CheckReport* report) const {
  // Sized for the arena (a crash-explored arena has a handful of entries; zeroing a full chunk
  // per Check was a tenth of a crash state's cost).
  constexpr uint32_t kChunk = 4096;
  std::vector<uint32_t> entries(std::min(kChunk, arena.geo.external_nlba));
  for (uint32_t start = 0; start < arena.geo.external_nlba; start += kChunk) {
    const uint32_t n = std::min(kChunk, arena.geo.external_nlba - start);
    TP_RETURN_IF_ERROR(ns_.Read(arena.map_abs() + uint64_t{start} * kMapEntrySize,
                                std::as_writable_bytes(std::span(entries.data(), n))));
    for (const auto& [p, value] : arena.overlay) {
      if (p >= start && p < start + n) entries[p - start] = value;
    }
    for (uint32_t i = 0; i < n; ++i) {
      PostmapAba block;
      Status resolved = Resolve(arena, PremapAba(start + i), entries[i], &block);
      if (!resolved.ok()) {
        if (refs->range_errors++ < kMaxFindingsPerKind) {
          report->findings.push_back(
              {"INV-MAP-RANGE", static_cast<int64_t>(arena.index), resolved.message(), false});
        }
        continue;
      }
      refs->Note(block.value(), false, start + i, report);
    }
  }
  return Status::Ok();
}

Status Btt::VerifyBijection(Arena& arena, CheckReport* report) {
  BlockRefs refs(arena.index, arena.geo.internal_nlba);
  TP_RETURN_IF_ERROR(ScanMap(arena, &refs, report));
  for (uint32_t lane = 0; lane < nfree_; ++lane) {
    if (arena.freelist[lane].known)
      refs.Note(arena.freelist[lane].block.value(), true, lane, report);
  }
  uint64_t missing = 0;
  uint32_t first_missing = 0;
  for (uint32_t b = 0; b < refs.size(); ++b) {
    if (!refs.Seen(b) && missing++ == 0) first_missing = b;
  }
  if (missing > 0 && refs.range_errors == 0) {
    report->findings.push_back({"INV-MAP-BIJECTION", static_cast<int64_t>(arena.index),
                                std::to_string(missing) +
                                    " block(s) referenced by neither map "
                                    "nor free list (first " +
                                    std::to_string(first_missing) + ")",
                                false});
  }
  return Status::Ok();
}

Result<std::vector<uint32_t>> Btt::FreeBlocksFromMap(const Arena& arena) const {
  const std::string tag = ArenaTag(arena.index);
  BlockRefs refs(arena.index, arena.geo.internal_nlba);
  CheckReport map_report;
  TP_RETURN_IF_ERROR(ScanMap(arena, &refs, &map_report));
  if (!map_report.Clean()) {
    const Finding& first = map_report.findings.front();
    return Corruption(first.invariant + ": " + tag + first.detail);
  }
  std::vector<uint32_t> free_blocks;
  for (uint32_t b = 0; b < refs.size(); ++b) {
    if (!refs.Seen(b)) free_blocks.push_back(b);
  }
  // external_nlba distinct entries below internal_nlba = external_nlba + nfree (INV-INFO-NLBA,
  // validated at open) leave exactly nfree blocks; checked anyway rather than assumed.
  if (free_blocks.size() != nfree_) {
    return Corruption("INV-MAP-BIJECTION: " + tag + "the map leaves " +
                      std::to_string(free_blocks.size()) + " block(s) unreferenced, not nfree " +
                      std::to_string(nfree_));
  }
  return free_blocks;
}

Status Btt::RebuildFlog(Arena& arena, CheckReport* report) {
  const int64_t ai = static_cast<int64_t>(arena.index);
  auto free_blocks = FreeBlocksFromMap(arena);
  if (!free_blocks.ok()) {
    if (free_blocks.status().code() != StatusCode::kCorruption) return free_blocks.status();
    // The map is the only evidence of which blocks hold data; if it contradicts itself, any
    // flog built from it could hand out a block that holds some sector's data. Refuse.
    report->findings.push_back(
        {InvariantOf(free_blocks.status(), "INV-MAP-BIJECTION"), ai,
         "the flog cannot be rebuilt from an inconsistent map: " + free_blocks.status().message(),
         false});
    return Status::Ok();
  }
  TP_RETURN_IF_ERROR(RewriteFlog(arena, *free_blocks));
  const std::string tag = ArenaTag(arena.index);
  for (const std::string& failure : arena.salvage_failures) {
    // The finding names the arena already; drop the message's own "arena N: " prefix.
    const bool tagged = failure.rfind(tag, 0) == 0;
    report->findings.push_back(
        {InvariantOf(failure, "INV-FLOG-LAYOUT"), ai,
         (tagged ? failure.substr(tag.size()) : failure) + " (flog rebuilt from the map)", true});
  }
  // Recover the arena again from what was just written: the same code path as an open, so the
  // DRAM free list is whatever the next open will find, and a rebuild that wrote something
  // unrecoverable fails here instead of being trusted.
  arena.salvage_failures.clear();
  arena.overlay.clear();  // persisted by RewriteFlog
  return RecoverArena(arena);
}

Status Btt::RewriteFlog(Arena& arena, std::span<const uint32_t> free_blocks) {
  // Crash safety (docs/btt.md §6): every crash state of this sequence either still needs repair
  // (Open refuses the arena, or the ERROR flag refuses its writes) or is fully repaired.
  //
  // R1. The ERROR flag, durably in both info blocks: the kernel, PMDK and tearproof all refuse
  //    writes to the arena until Check(repair) clears it after the rebuild (R6, CheckArena). PMDK
  //    does not look at slot 3 and so cannot see the marker below; the flag is what stops it
  //    writing.
  if ((arena.info.flags & kInfoFlagError) == 0) {
    TP_RETURN_IF_ERROR(PersistInfoFlags(arena, arena.info.flags | kInfoFlagError));
  }
  // R2. The roll-forwards the salvage open found in the lanes that were consistent (its DRAM
  //    overlay), durably, before any flog store: the rebuilt flog forgets every pending write,
  //    so each must be in the map first. Idempotent: a crash here leaves the old flog, whose
  //    recovery finds these entries already rolled forward.
  for (const auto& [premap, raw] : arena.overlay) {
    TP_RETURN_IF_ERROR(PersistMapEntry(arena, PremapAba(premap), raw));
  }
  // R3. The marker, durably: from here until R5 every crash state of the flog is refused by
  //    Open (HasFlogRepairMarker) and by the kernel (slot 3 is padding in both layouts), and no
  //    salvage open trusts a lane of it.
  std::byte word[8];
  StoreLe<uint32_t>(word, kFlogRepairMarkerWord);
  StoreLe<uint32_t>(word + 4, kFlogRepairMarkerWord);
  const uint64_t marker = arena.flog_abs() + kFlogRepairMarkerOffset;
  TP_RETURN_IF_ERROR(ns_.WritePersist(marker, word));
  // R4. Each lane becomes the initial slot 0 = {lba, block, block, seq 1}, every other slot zero
  //    (read alike under (0,1) and (0,2); a flog of initial lanes is detected as (0,1)), in four
  //    fenced phases (a)-(d) so that a reader blind to the marker (PMDK reads only slots 0 and 1)
  //    never finds a roll-forward in a torn lane: (a) slot 0's {lba, old_map := block} first, so a
  //    slot 0 that becomes current frees `block`, which no map entry references; (b) the
  //    {new_map, seq} halves of slots 1-3, one atomic store each, so slot 1 is either intact or
  //    has seq 0 and is never current with a torn {lba, old_map}; (c) their {lba, old_map}
  //    halves; (d) slot 0's {new_map := block, seq 1}.
  auto phase = [&](auto&& store_lane) -> Status {
    for (uint32_t lane = 0; lane < nfree_; ++lane) TP_RETURN_IF_ERROR(store_lane(lane));
    TP_RETURN_IF_ERROR(ns_.Flush(arena.flog_abs(), uint64_t{nfree_} * kFlogGroupSize));
    ns_.Drain();
    return Status::Ok();
  };
  auto store_half = [&](uint32_t lane, uint32_t slot, uint32_t half, uint32_t first,
                        uint32_t second) -> Status {
    StoreLe<uint32_t>(word, first);
    StoreLe<uint32_t>(word + 4, second);
    return ns_.Write(FlogHalfOffset(arena, lane, slot, half), word);
  };
  auto initial = [&](uint32_t lane) {
    return InitialFlogSlot(flog_style_, lane, arena.geo.external_nlba, free_blocks[lane]);
  };
  auto slot0_first_half = [&](uint32_t lane) {
    const FlogSlot s = initial(lane);
    return store_half(lane, 0, 0, s.lba, s.old_map);
  };
  uint32_t zero_half = 1;  // phase (b), then (c)
  auto zero_other_slots = [&](uint32_t lane) -> Status {
    for (uint32_t slot = 1; slot < 4; ++slot) {
      // The marker stays until R5.
      if (lane == 0 && slot * kFlogSlotSize + zero_half * 8 == kFlogRepairMarkerOffset) continue;
      TP_RETURN_IF_ERROR(store_half(lane, slot, zero_half, 0, 0));
    }
    return Status::Ok();
  };
  auto slot0_second_half = [&](uint32_t lane) {
    const FlogSlot s = initial(lane);
    return store_half(lane, 0, 1, s.new_map, s.seq);
  };
  TP_RETURN_IF_ERROR(phase(slot0_first_half));  // (a)
  TP_RETURN_IF_ERROR(phase(zero_other_slots));  // (b)
  zero_half = 0;
  TP_RETURN_IF_ERROR(phase(zero_other_slots));   // (c)
  TP_RETURN_IF_ERROR(phase(slot0_second_half));  // (d)
  // R5. Clear the marker: one atomic 8-byte store, after every lane is durable.
  std::memset(word, 0, sizeof(word));
  return ns_.WritePersist(marker, word);
}

Status Btt::CheckArena(size_t index, bool repair, CheckReport* report) {
  Arena& arena = *arenas_[index];
  const int64_t ai = static_cast<int64_t>(index);
  const size_t first_finding = report->findings.size();
  auto add = [&](const Status& s, const char* fallback, bool repaired) {
    report->findings.push_back({InvariantOf(s, fallback), ai, s.message(), repaired});
  };
  InfoContext ctx{
      profile_,  ns_.SizeBytes(), arena.base,    index == 0 ? nullptr : &arenas_[0]->info,
      &options_, have_pool_,      poolset_uuid_, pool_bsize_};

  // Info blocks: primary valid, backup valid and byte-identical to it. Both verdicts are functions
  // of the block's bytes (and ctx) alone, so bytes already judged are not judged again: a block
  // identical to arena.info passes the integrity check (Arena::info), and a backup identical to
  // the primary gets the primary's verdict. Only bytes that differ are checksummed, which keeps
  // Check from repeating the two checksums the open just computed (crash exploration runs an
  // open and a Check per crash state).
  auto integrity = [&](const InfoBlock& block) {
    return std::memcmp(&block, &arena.info, sizeof(InfoBlock)) == 0
               ? Status::Ok()
               : CheckInfoBlockIntegrity(block);
  };
  InfoBlock primary;
  TP_RETURN_IF_ERROR(ReadInfoInto(ns_, arena.base, &primary));
  Status ps = integrity(primary);
  if (ps.ok()) ps = ValidateInfo(primary, ctx);
  InfoBlock backup;
  const Status backup_read = ReadInfoInto(ns_, arena.info2_abs(), &backup);
  const bool backup_matches =
      backup_read.ok() && std::memcmp(&primary, &backup, sizeof(InfoBlock)) == 0;
  Status bs = backup_matches ? ps : backup_read.ok() ? integrity(backup) : backup_read;
  if (bs.ok() && !backup_matches) bs = ValidateInfo(backup, ctx);
  if (!ps.ok()) {
    const bool fix = repair && bs.ok();
    if (fix) TP_RETURN_IF_ERROR(ns_.WritePersist(arena.base, AsBytes(backup)));
    add(Status(ps.code(), "primary info block: " + ps.message()), "INV-INFO-CHECKSUM", fix);
  }
  if (!bs.ok()) {
    const bool fix = repair && ps.ok();
    if (fix) TP_RETURN_IF_ERROR(ns_.WritePersist(arena.info2_abs(), AsBytes(primary)));
    add(Status(bs.code(), "backup info block: " + bs.message()), "INV-INFO-CHECKSUM", fix);
  } else if (ps.ok() && !backup_matches) {
    if (repair) TP_RETURN_IF_ERROR(ns_.WritePersist(arena.info2_abs(), AsBytes(primary)));
    report->findings.push_back(
        {"INV-INFO-BACKUP-MATCH", ai, "backup info block differs from the primary", repair});
  }

  // A flog the (salvage) open could not recover is rebuilt from the map before it is scanned;
  // the scan below then checks what the rebuild wrote.
  if (repair && !arena.salvage_failures.empty()) TP_RETURN_IF_ERROR(RebuildFlog(arena, report));

  // Flog: layout, seq pairs, ranges, agreement with the DRAM free list, pending roll-forwards.
  std::vector<FlogGroup> groups(nfree_);
  TP_RETURN_IF_ERROR(ns_.Read(arena.flog_abs(), std::as_writable_bytes(std::span(groups))));
  auto indices = DetectFlogIndices(groups);
  if (!indices.ok()) {
    add(indices.status(), "INV-FLOG-LAYOUT", false);
  } else {
    size_t flog_reported = 0;
    for (uint32_t lane = 0; lane < nfree_; ++lane) {
      auto ltag = [lane] { return "lane " + std::to_string(lane) + ": "; };
      const FlogSlot& a = groups[lane].slot[(*indices)[0]];
      const FlogSlot& b = groups[lane].slot[(*indices)[1]];
      auto newer = NewerSlot(a.seq, b.seq);
      if (!newer.ok()) {
        if (flog_reported++ < kMaxFindingsPerKind) {
          add(newer.status().Annotate(ltag()), "INV-FLOG-SEQ", false);
        }
        continue;
      }
      const FlogSlot& cur = *newer == 0 ? a : b;
      const uint32_t old_block = EntLba(cur.old_map);
      const uint32_t new_block = EntLba(cur.new_map);
      if ((old_block != new_block && cur.lba >= arena.geo.external_nlba) ||
          old_block >= arena.geo.internal_nlba || new_block >= arena.geo.internal_nlba) {
        if (flog_reported++ < kMaxFindingsPerKind) {
          report->findings.push_back({"INV-FLOG-RANGE", ai,
                                      ltag() + "entry outside the arena's LBA or block range",
                                      false});
        }
        continue;
      }
      if (old_block != arena.freelist[lane].block.value()) {
        report->findings.push_back({"INV-FREELIST-MATCHES-FLOG", ai,
                                    ltag() + "flog free block " + std::to_string(old_block) +
                                        " != DRAM free block " +
                                        std::to_string(arena.freelist[lane].block.value()),
                                    false});
      }
      if (old_block == new_block) continue;
      uint32_t raw = 0;
      TP_RETURN_IF_ERROR(LoadMapEntry(arena, PremapAba(cur.lba), &raw));
      PostmapAba mapped;
      if (Resolve(arena, PremapAba(cur.lba), raw, &mapped).ok() && mapped.value() == old_block) {
        const bool fix = repair;
        if (fix) {
          TP_RETURN_IF_ERROR(PersistMapEntry(arena, PremapAba(cur.lba), new_block | kMapNormal));
        }
        report->findings.push_back(
            {"INV-FLOG-PENDING", ai,
             ltag() + "committed write to premap " + std::to_string(cur.lba) + " not in the map",
             fix});
      }
    }
  }
  // Map: every entry in range; map plus free list is a permutation of the data blocks.
  TP_RETURN_IF_ERROR(VerifyBijection(arena, report));

  // The arena ERROR flag (on media, or entered in this session). Repair clears it only when
  // every other finding of this arena was repaired: then map, flog and free list agree again
  // (a failed map store is rolled forward above) and writes are safe. Otherwise it stays.
  const bool on_media = (arena.info.flags & kInfoFlagError) != 0;
  if (on_media || arena.error.load()) {
    const bool consistent =
        std::all_of(report->findings.begin() + static_cast<std::ptrdiff_t>(first_finding),
                    report->findings.end(), [](const Finding& f) { return f.repaired; });
    const bool fix = repair && consistent;
    if (fix) {
      if (on_media) TP_RETURN_IF_ERROR(PersistInfoFlags(arena, arena.info.flags & ~kInfoFlagError));
      arena.error.store(false);
    }
    report->findings.push_back({"INV-INFO-ERROR-FLAG", ai,
                                std::string("arena ERROR flag is set") +
                                    (on_media ? " on media" : " in this session") +
                                    (consistent ? "" : " and the arena is inconsistent"),
                                fix});
  }
  return Status::Ok();
}

Result<CheckReport> Btt::Check(bool repair) {
  if (repair && !repairable_) {
    return ReadOnlyError("Check(repair) needs a writable open (read-write, or salvage)");
  }
  CheckReport report;
  if (have_pool_) {
    PoolHeader hdr;
    TP_RETURN_IF_ERROR(ns_.Read(0, AsWritableBytes(hdr)));
    Status s = CheckPoolHeader(hdr);
    if (!s.ok()) report.findings.push_back({"INV-POOL-HDR", -1, s.message(), false});
    PmemblkHeader ph;
    TP_RETURN_IF_ERROR(ns_.Read(kPmemblkHeaderOffset, AsWritableBytes(ph)));
    if (ph.bsize != external_lbasize_) {
      report.findings.push_back({"INV-POOL-BSIZE", -1,
                                 "pmemblk bsize " + std::to_string(ph.bsize) +
                                     " != external_lbasize " + std::to_string(external_lbasize_),
                                 false});
    }
  }
  for (size_t i = 0; i < arenas_.size(); ++i) TP_RETURN_IF_ERROR(CheckArena(i, repair, &report));
  return report;
}

}  // namespace tearproof::btt
