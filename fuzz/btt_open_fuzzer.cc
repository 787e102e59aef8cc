// btt_open_fuzzer — libFuzzer entry point over Btt::Open, Check, Read, Write, Zero and SetError
// of an arbitrary namespace image (issue "production BTT core", §6 bad input).
//
// Contract: LLVMFuzzerTestOneInput accepts any byte string and returns 0. It is deterministic (no
// clock, no randomness, no global state kept between calls) and bounded: the namespace is at most
// kMaxNamespaceBytes, at most kMaxReads sectors are read per open and at most kMaxPatches patches
// are applied. Any Status from the BTT is acceptable; a crash, hang, sanitizer report or assertion
// is a bug. On top of "no crash" it checks three oracles and aborts (fuzz/README.md) when one
// fails:
//   ORACLE-RO-NO-STORES   a read-only open, its reads and Check(false) leave the image unchanged;
//   ORACLE-DURABLE        on a medium whose read-write open's Check(false) is clean, every sector
//                         whose Write/Zero returned OK reads back exactly, before and after reopen;
//   ORACLE-REOPEN         such a medium reopens and checks clean after those writes.
// A medium with live patches (changed under the open BTT) is exempt from the last two.
// The input layout (template or raw image, patches) is documented in fuzz/README.md and in
// BuildTemplateImage / BuildRawImage below. The same function is linked into the gcc regression
// test, which replays fuzz/corpus/ and fuzz/regressions/.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "btt/btt.h"
#include "btt/layout.h"
#include "btt/memory_namespace.h"
#include "btt/types.h"

namespace tearproof::fuzz {
namespace {

using btt::Btt;
using btt::ExternalLba;
using btt::MemoryNamespace;
using btt::Profile;

constexpr uint64_t kMaxNamespaceBytes = 4ULL << 20;  // 4 MiB
constexpr uint64_t kMaxReads = 256;                  // sectors read per open
constexpr size_t kMaxPatches = 64;
constexpr size_t kMaxPrewrites = 7;
constexpr size_t kMaxWrites = 6;
constexpr uint8_t kRawModeMask = 0xC0;  // header byte with both top bits set: raw image

// Aborts with the oracle's name; libFuzzer and the regression test report it as a crash.
[[noreturn]] void OracleFailed(const char* oracle, const char* detail) {
  std::fprintf(stderr, "fuzz oracle failed: %s: %s\n", oracle, detail);
  std::abort();
}

// TEARPROOF_FUZZ_VERBOSE=1 in the environment prints each phase's statuses (for replaying one
// input by hand); it does not change what runs.
bool Verbose() {
  static const bool verbose = std::getenv("TEARPROOF_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

void Log(const char* phase, const Status& status) {
  if (Verbose()) std::fprintf(stderr, "[fuzz] %s: %s\n", phase, status.ToString().c_str());
}

template <typename T>
void Log(const char* phase, const Result<T>& result) {
  Log(phase, result.ok() ? Status::Ok() : result.status());
}

// Reads the input front to back; past the end every read yields zero.
class InputReader {
 public:
  explicit InputReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool Empty() const { return pos_ >= bytes_.size(); }
  uint8_t U8() { return pos_ < bytes_.size() ? bytes_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() | (U8() << 8)); }
  uint32_t U32() { return U16() | (static_cast<uint32_t>(U16()) << 16); }
  // Up to n bytes (fewer at the end of the input).
  std::span<const uint8_t> Take(size_t n) {
    const size_t available = pos_ < bytes_.size() ? bytes_.size() - pos_ : 0;
    const size_t take = std::min(n, available);
    std::span<const uint8_t> out = bytes_.subspan(pos_, take);
    pos_ += take;
    return out;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

// The template an input starts from: decoded from the first two bytes.
struct TemplateChoice {
  Profile profile = Profile::kLinux;
  uint32_t external_lbasize = 512;
  uint32_t nfree = 2;
  bool fix_checksums = false;
  uint64_t extra_bytes = 0;
};

// Where a patch's offset is measured from; all are byte offsets into the namespace.
struct Anchors {
  uint64_t info = 0;    // arena 0 primary info block
  uint64_t map = 0;     // arena 0 map
  uint64_t flog = 0;    // arena 0 flog
  uint64_t data = 0;    // arena 0 data area
  uint64_t backup = 0;  // arena 0 backup info block
};

struct Image {
  std::unique_ptr<MemoryNamespace> ns;
  btt::OpenOptions options;
  // Template mode: where the patches start, to apply the live ones under the read-write open.
  std::optional<InputReader> patches;
  Anchors anchors;
  bool fix_checksums = false;
};

btt::Uuid FixedUuid(uint8_t tag) {
  btt::Uuid uuid{};
  for (size_t i = 0; i < uuid.size(); ++i) uuid[i] = static_cast<uint8_t>(tag * 17 + i);
  return uuid;
}

void FillSector(uint64_t lba, uint32_t generation, std::span<std::byte> out) {
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::byte>((lba * 131 + generation * 7 + i) & 0xFF);
  }
}

// Writes bytes at `offset`, clipped to the namespace.
void PatchBytes(MemoryNamespace& ns, uint64_t offset, std::span<const uint8_t> bytes) {
  const uint64_t size = ns.SizeBytes();
  // An empty span may carry a null pointer, which memcpy must never see (UBSan: nonnull).
  if (offset >= size || bytes.empty()) return;
  const uint64_t n = std::min<uint64_t>(bytes.size(), size - offset);
  std::memcpy(ns.data() + offset, bytes.data(), n);
}

// Recomputes the checksum of every 4 KiB-aligned page that carries the info-block signature, and
// of a PMEMBLK pool header at offset 0, so that patched fields get past INV-INFO-CHECKSUM and
// INV-POOL-HDR and reach the deeper validation.
void FixChecksums(MemoryNamespace& ns) {
  const uint64_t size = ns.SizeBytes();
  for (uint64_t page = 0; page + btt::kInfoBlockSize <= size; page += btt::kAlignment) {
    std::byte* p = ns.data() + page;
    if (std::memcmp(p, btt::kInfoSignature, sizeof(btt::kInfoSignature)) == 0) {
      btt::InfoBlock info;
      std::memcpy(&info, p, sizeof(info));
      info.checksum = btt::InfoBlockChecksum(info);
      std::memcpy(p, &info, sizeof(info));
    }
  }
  if (size >= sizeof(btt::PoolHeader) &&
      std::memcmp(ns.data(), btt::kPoolSignature, sizeof(btt::kPoolSignature)) == 0) {
    btt::PoolHeader header;
    std::memcpy(&header, ns.data(), sizeof(header));
    header.checksum = btt::PoolHeaderChecksum(header);
    std::memcpy(ns.data(), &header, sizeof(header));
  }
}

// A few writes, zeros and errors through a normal open, so that the template's flog sequence
// numbers, map and free blocks are no longer those of a fresh format.
void Prewrite(MemoryNamespace& ns, uint8_t control) {
  const size_t count = std::min<size_t>(control & 7, kMaxPrewrites);
  if (count == 0) return;
  auto opened = Btt::Open(ns);
  if (!opened.ok()) return;
  Btt& b = **opened;
  std::vector<std::byte> sector(b.ExternalLbaSize());
  const uint64_t nlba = b.ExternalNlba();
  for (size_t i = 0; i < count; ++i) {
    const uint64_t lba = ((control >> 3) + i * 7) % nlba;
    Status status;
    if (i % 3 == 2) {
      status = b.Zero(ExternalLba(lba));
    } else if (i == 4) {
      status = b.SetError(ExternalLba(lba));
    } else {
      FillSector(lba, static_cast<uint32_t>(i), sector);
      status = b.Write(ExternalLba(lba), sector);
    }
    (void)status;  // the template is freshly formatted; a failure only makes it less interesting
  }
}

// Parses patches until the input or kMaxPatches runs out and applies those whose live bit (op
// bit 6) equals `live`; the others are parsed identically and skipped. Returns how many live
// patches the input holds. Each patch is
//   byte  op:     bits 0-2 anchor (0 absolute*64, 1 info, 2 map, 3 flog, 4 data, 5 backup info,
//                 6 offset 0, 7 end of namespace minus offset), bits 3-4 kind, bit 5 page copy
//   u16   offset (little-endian), relative to the anchor
//   page copy (bit 5 set, kind ignored): u16 page; the 4 KiB page holding anchor+offset is copied
//                 over page (page * 4 KiB mod size), e.g. an info block into a second arena
//   live (bit 6 set): not applied to the image but to the medium under a live read-write open
//                 (corruption appearing at run time; see ReadWritePhase)
//   kind 0: byte len (1..64 = (b & 63) + 1), then len bytes copied in
//   kind 1: byte len, byte value: fill
//   kind 2: byte mask: XOR one byte
//   kind 3: u32 value: store a 32-bit little-endian word (map and flog entries)
size_t ApplyPatches(MemoryNamespace& ns, const Anchors& anchors, InputReader in, bool live) {
  const uint64_t size = ns.SizeBytes();
  size_t live_count = 0;
  for (size_t n = 0; n < kMaxPatches && !in.Empty(); ++n) {
    const uint8_t op = in.U8();
    const bool apply = ((op & 0x40) != 0) == live;
    if ((op & 0x40) != 0) ++live_count;
    const uint64_t rel = in.U16();
    uint64_t offset = 0;
    switch (op & 7) {
      case 0:
        offset = rel * 64;
        break;
      case 1:
        offset = anchors.info + rel;
        break;
      case 2:
        offset = anchors.map + rel;
        break;
      case 3:
        offset = anchors.flog + rel;
        break;
      case 4:
        offset = anchors.data + rel;
        break;
      case 5:
        offset = anchors.backup + rel;
        break;
      case 6:
        offset = rel;
        break;
      default:
        offset = rel < size ? size - 1 - rel : 0;
        break;
    }
    offset %= size;
    if ((op & 0x20) != 0) {
      const uint64_t src = offset / btt::kAlignment * btt::kAlignment;
      const uint64_t dst = (uint64_t{in.U16()} * btt::kAlignment) % size;
      const uint64_t len = std::min({btt::kAlignment, size - src, size - dst});
      if (apply) std::memmove(ns.data() + dst, ns.data() + src, len);
      continue;
    }
    switch ((op >> 3) & 3) {
      case 0: {
        const size_t len = (in.U8() & 63) + 1;
        const std::span<const uint8_t> bytes = in.Take(len);
        if (apply) PatchBytes(ns, offset, bytes);
        break;
      }
      case 1: {
        const size_t len = (in.U8() & 63) + 1;
        const uint8_t value = in.U8();
        std::array<uint8_t, 64> fill;
        fill.fill(value);
        if (apply) PatchBytes(ns, offset, std::span<const uint8_t>(fill.data(), len));
        break;
      }
      case 2: {
        const uint8_t mask = in.U8();
        const uint8_t patched =
            static_cast<uint8_t>(static_cast<uint8_t>(ns.data()[offset]) ^ mask);
        if (apply) PatchBytes(ns, offset, std::span<const uint8_t>(&patched, 1));
        break;
      }
      default: {
        const uint32_t value = in.U32();
        std::array<uint8_t, 4> word;
        std::memcpy(word.data(), &value, sizeof(value));
        if (apply) PatchBytes(ns, offset, word);
        break;
      }
    }
  }
  return live_count;
}

// Template mode. Header byte h: bits 0-1 profile (0 linux, 1 uefi, 2 pmemblk, 3 linux), bit 2
// sector size 4096 (else 512), bits 3-4 nfree = 2 + (v % 3), bit 5 fix checksums after patching.
// Option byte o: bits 0-1 parent policy (0 match-or-null, 1 exact, 2/3 ignore), bit 2 pass the
// profile instead of detecting it, bit 3 verify_map, bit 4 pass external_lbasize, bits 5-7 extra
// namespace size in 4 KiB pages * 3. Then one prewrite control byte, then patches.
std::optional<Image> BuildTemplateImage(uint8_t header, InputReader& in) {
  TemplateChoice choice;
  switch (header & 3) {
    case 1:
      choice.profile = Profile::kUefi;
      break;
    case 2:
      choice.profile = Profile::kPmemblk;
      break;
    default:
      choice.profile = Profile::kLinux;
      break;
  }
  choice.external_lbasize = (header & 4) != 0 ? 4096 : 512;
  choice.nfree = 2 + ((header >> 3) & 3) % 3;
  choice.fix_checksums = (header & 0x20) != 0;
  const uint8_t option_bits = in.U8();
  choice.extra_bytes = static_cast<uint64_t>(option_bits >> 5) * 3 * btt::kAlignment;

  const uint64_t size =
      btt::MinimumNamespaceSize(choice.profile, choice.external_lbasize, choice.nfree) +
      choice.extra_bytes;
  if (size == 0 || size > kMaxNamespaceBytes) return std::nullopt;
  auto geometry = btt::ComputeGeometry(choice.profile, size, choice.external_lbasize, choice.nfree);
  if (!geometry.ok() || geometry->arenas.empty()) return std::nullopt;

  Image image;
  image.ns = std::make_unique<MemoryNamespace>(size);
  btt::FormatOptions format;
  format.profile = choice.profile;
  format.external_lbasize = choice.external_lbasize;
  format.nfree = choice.nfree;
  format.uuid = FixedUuid(1);
  format.parent_uuid = FixedUuid(2);
  format.pool_part_uuid = FixedUuid(3);
  format.pool_crtime = 1;
  format.medium_is_zeroed = true;
  if (!Btt::Format(*image.ns, format).ok()) return std::nullopt;

  Prewrite(*image.ns, in.U8());

  const btt::ArenaGeometry& arena = geometry->arenas[0];
  const uint64_t base = geometry->btt_offset + arena.offset;
  Anchors anchors{.info = base,
                  .map = base + arena.mapoff,
                  .flog = base + arena.flogoff,
                  .data = base + arena.dataoff,
                  .backup = base + arena.infooff};
  if (ApplyPatches(*image.ns, anchors, in, /*live=*/false) > 0) image.patches = in;
  image.anchors = anchors;
  image.fix_checksums = choice.fix_checksums;
  if (choice.fix_checksums) FixChecksums(*image.ns);

  switch (option_bits & 3) {
    case 0:
      image.options.parent_policy = btt::ParentUuidPolicy::kMatchOrNull;
      break;
    case 1:
      image.options.parent_policy = btt::ParentUuidPolicy::kExact;
      break;
    default:
      image.options.parent_policy = btt::ParentUuidPolicy::kIgnore;
      break;
  }
  image.options.expected_parent_uuid = FixedUuid(2);
  if ((option_bits & 4) != 0) image.options.profile = choice.profile;
  image.options.verify_map = (option_bits & 8) != 0;
  if ((option_bits & 16) != 0) image.options.external_lbasize = choice.external_lbasize;
  return image;
}

// Raw mode: the input after the header byte is the whole image (at most kMaxNamespaceBytes; an
// empty image becomes one zero byte). Options are the defaults (detect everything).
Image BuildRawImage(InputReader& in) {
  std::span<const uint8_t> raw = in.Take(kMaxNamespaceBytes);
  Image image;
  image.ns = std::make_unique<MemoryNamespace>(std::max<uint64_t>(raw.size(), 1));
  PatchBytes(*image.ns, 0, raw);
  return image;
}

// Reads at most kMaxReads sectors spread over the whole range (first, last and strided), plus
// one just out of range.
void ReadSome(Btt& b) {
  const uint64_t nlba = b.ExternalNlba();
  std::vector<std::byte> sector(b.ExternalLbaSize());
  const uint64_t stride = std::max<uint64_t>(1, nlba / kMaxReads);
  for (uint64_t i = 0; i < kMaxReads && i * stride < nlba; ++i) {
    (void)b.Read(ExternalLba(i * stride), sector);
  }
  if (nlba > 0) (void)b.Read(ExternalLba(nlba - 1), sector);
  (void)b.Read(ExternalLba(nlba), sector);
}

// One sector's expected content after a successful Write (data) or Zero (all zero bytes).
struct Expected {
  uint64_t lba;
  std::vector<std::byte> data;
};

void VerifyExpected(Btt& b, const std::vector<Expected>& expected, const char* oracle) {
  std::vector<std::byte> sector(b.ExternalLbaSize());
  for (const Expected& e : expected) {
    if (!b.Read(ExternalLba(e.lba), sector).ok()) OracleFailed(oracle, "read after write failed");
    if (!std::equal(sector.begin(), sector.end(), e.data.begin(), e.data.end())) {
      OracleFailed(oracle, "sector does not read back as written");
    }
  }
}

// Records (or replaces) the expected content of lba.
void Expect(std::vector<Expected>& expected, uint64_t lba, std::vector<std::byte> data) {
  for (Expected& e : expected) {
    if (e.lba == lba) {
      e.data = std::move(data);
      return;
    }
  }
  expected.push_back(Expected{lba, std::move(data)});
}

void ReadOnlyPhase(MemoryNamespace& ns, btt::OpenOptions options) {
  const std::vector<std::byte> before(ns.data(), ns.data() + ns.SizeBytes());
  options.read_only = true;
  {
    auto opened = Btt::Open(ns, options);
    Log("ro open", opened);
    if (opened.ok()) {
      Btt& b = **opened;
      Log("ro check", b.Check(false));
      ReadSome(b);
      std::vector<std::byte> sector(b.ExternalLbaSize());
      (void)b.Write(ExternalLba(0), sector);  // must be refused, and must store nothing
      (void)b.Check(true);                    // repair needs read-write: refused
    }
    // Salvage (the CLI's check / info / read --salvage): an unrecoverable flog opens its arena
    // in ERROR instead of failing. Read-only as well, and where the plain open works it must
    // agree: nothing salvaged.
    btt::OpenOptions salvage_options = options;
    salvage_options.salvage = true;
    auto salvaged = Btt::Open(ns, salvage_options);
    Log("salvage open", salvaged);
    if (opened.ok() && (!salvaged.ok() || !(*salvaged)->open_report().salvaged.empty())) {
      OracleFailed("ORACLE-SALVAGE", "a salvage open disagrees with a read-only open that works");
    }
    if (salvaged.ok()) {
      Btt& b = **salvaged;
      Log("salvage check", b.Check(false));
      ReadSome(b);
      std::vector<std::byte> sector(b.ExternalLbaSize());
      (void)b.Write(ExternalLba(0), sector);  // refused: salvage is read-only
    }
  }
  if (!std::equal(before.begin(), before.end(), ns.data(), ns.data() + ns.SizeBytes())) {
    OracleFailed("ORACLE-RO-NO-STORES", "a read-only open changed the medium");
  }
}

void ReadWritePhase(const Image& image) {
  MemoryNamespace& ns = *image.ns;
  btt::OpenOptions options = image.options;
  options.read_only = false;
  std::vector<Expected> expected;
  bool clean = false;
  {
    auto opened = Btt::Open(ns, options);
    Log("rw open", opened);
    if (!opened.ok()) return;
    Btt& b = **opened;
    // Live patches: the medium changes under the open BTT (run-time corruption). Reads, writes and
    // Check must answer with a Status; the durability oracle no longer applies.
    const bool live = image.patches.has_value();
    if (live) {
      ApplyPatches(ns, image.anchors, *image.patches, /*live=*/true);
      if (image.fix_checksums) FixChecksums(ns);
    }
    auto report = b.Check(false);
    clean = !live && report.ok() && report->Clean();
    if (Verbose() && report.ok()) {
      std::fprintf(stderr, "[fuzz] rw geometry: %zu arena(s), %llu LBAs of %u bytes\n",
                   b.ArenaCount(), static_cast<unsigned long long>(b.ExternalNlba()),
                   b.ExternalLbaSize());
      std::fprintf(stderr, "[fuzz] rw check: %s\n", report->ToString().c_str());
    }
    (void)b.Check(true);
    ReadSome(b);

    const uint64_t nlba = b.ExternalNlba();
    std::vector<std::byte> sector(b.ExternalLbaSize());
    for (size_t i = 0; i < kMaxWrites && nlba > 0; ++i) {
      const uint64_t lba = (i * 5 + nlba / 2) % nlba;
      if (i == 3) {
        if (b.Zero(ExternalLba(lba)).ok()) {
          Expect(expected, lba, std::vector<std::byte>(sector.size(), std::byte{0}));
        }
      } else if (i == 4) {
        (void)b.SetError(ExternalLba(lba));
        expected.erase(std::remove_if(expected.begin(), expected.end(),
                                      [lba](const Expected& e) { return e.lba == lba; }),
                       expected.end());
        std::vector<std::byte> ignored(sector.size());
        (void)b.Read(ExternalLba(lba), ignored);
      } else {
        FillSector(lba, static_cast<uint32_t>(100 + i), sector);
        const Status written = b.Write(ExternalLba(lba), sector);
        Log("write", written);
        if (written.ok()) Expect(expected, lba, sector);
      }
    }
    (void)b.Write(ExternalLba(nlba), sector);  // out of range: refused
    if (clean) VerifyExpected(b, expected, "ORACLE-DURABLE");
  }
  if (!clean) {
    // Still exercise a reopen of whatever the writes left behind.
    auto reopened = Btt::Open(ns, options);
    if (reopened.ok()) (void)(*reopened)->Check(false);
    return;
  }
  auto reopened = Btt::Open(ns, options);
  if (!reopened.ok()) OracleFailed("ORACLE-REOPEN", "a clean medium failed to reopen");
  VerifyExpected(**reopened, expected, "ORACLE-DURABLE");
  auto report = (*reopened)->Check(false);
  if (!report.ok() || !report->Clean()) {
    OracleFailed("ORACLE-REOPEN", "a clean medium checks dirty after writes");
  }
}

}  // namespace

int RunOneInput(std::span<const uint8_t> input) {
  InputReader in(input);
  const uint8_t header = in.U8();
  std::optional<Image> image;
  if (input.size() < 2 || (header & kRawModeMask) == kRawModeMask) {
    image = BuildRawImage(in);
  } else {
    image = BuildTemplateImage(header, in);
  }
  if (!image) return 0;
  ReadOnlyPhase(*image->ns, image->options);
  ReadWritePhase(*image);
  return 0;
}

}  // namespace tearproof::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return tearproof::fuzz::RunOneInput(std::span<const uint8_t>(data, size));
}
