// Btt tests on MemoryNamespace: format/open round trips for every profile and sector size,
// sector semantics (Z, E, 00 identity), info-block backup fallback and restore
// (INV-INFO-CHECKSUM, INV-INFO-BACKUP-MATCH), parent-UUID policy (INV-INFO-PARENT-UUID), profile
// detection, multi-arena I/O on a sparse namespace, and corrupt inputs that must give a clear
// Status (never a crash).
#include "btt/btt.h"

#include <gtest/gtest.h>

#include <cstring>

#include "btt/memory_namespace.h"
#include "btt/test_util.h"
#include "util/prng.h"

namespace tearproof::btt {
namespace {

using testing::Pattern;
using testing::ReadSector;
using testing::TestUuid;

constexpr uint64_t kMiB = 1ULL << 20;
constexpr uint64_t kGiB = 1ULL << 30;

FormatOptions Opts(Profile profile, uint32_t ext, uint32_t nfree = 256) {
  FormatOptions o;
  o.profile = profile;
  o.external_lbasize = ext;
  o.nfree = nfree;
  o.uuid = TestUuid(1);
  o.parent_uuid = TestUuid(2);
  o.pool_part_uuid = TestUuid(3);
  return o;
}

std::unique_ptr<Btt> MustOpen(Namespace& ns, OpenOptions o = {}) {
  auto btt = Btt::Open(ns, o);
  EXPECT_TRUE(btt.ok()) << btt.status().ToString();
  return btt.ok() ? std::move(btt).value() : nullptr;
}

TEST(Btt, FormatOpenRoundTripsEveryProfileAndSectorSize) {
  for (Profile p : {Profile::kLinux, Profile::kUefi, Profile::kPmemblk}) {
    for (uint32_t ext : {512u, 520u, 528u, 4096u, 4104u, 4160u, 4224u}) {
      SCOPED_TRACE(std::string(ProfileName(p)) + " " + std::to_string(ext));
      MemoryNamespace ns(20 * kMiB);
      ASSERT_TRUE(Btt::Format(ns, Opts(p, ext)).ok());
      auto btt = MustOpen(ns);
      ASSERT_TRUE(btt);
      EXPECT_EQ(btt->profile(), p);
      EXPECT_EQ(btt->ExternalLbaSize(), ext);
      auto geo = ComputeGeometry(p, ns.SizeBytes(), ext, 256);
      EXPECT_EQ(btt->ExternalNlba(), geo->external_nlba_total);
      const uint64_t last = btt->ExternalNlba() - 1;
      for (uint64_t lba : {uint64_t{0}, uint64_t{1}, last}) {
        ASSERT_TRUE(btt->Write(ExternalLba(lba), Pattern(lba, 1, ext)).ok());
      }
      btt.reset();
      btt = MustOpen(ns);
      for (uint64_t lba : {uint64_t{0}, uint64_t{1}, last}) {
        EXPECT_EQ(ReadSector(*btt, lba), Pattern(lba, 1, ext));
      }
      EXPECT_EQ(ReadSector(*btt, 2), std::vector<std::byte>(ext));  // fresh: zeros
      auto report = btt->Check(false);
      ASSERT_TRUE(report.ok());
      EXPECT_TRUE(report->Clean()) << report->ToString();
    }
  }
}

TEST(Btt, SmallNfreeAndMinimumNamespaceWork) {
  for (uint32_t nfree : {1u, 2u, 4u}) {
    const uint64_t size = MinimumNamespaceSize(Profile::kUefi, 512, nfree);
    MemoryNamespace ns(size);
    ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kUefi, 512, nfree)).ok());
    auto btt = MustOpen(ns);
    ASSERT_TRUE(btt);
    EXPECT_EQ(btt->Nfree(), nfree);
    Prng prng(nfree);
    std::vector<uint64_t> version(btt->ExternalNlba(), 0);
    for (int i = 0; i < 200; ++i) {
      const uint64_t lba = prng.Below(btt->ExternalNlba());
      ++version[lba];
      ASSERT_TRUE(btt->Write(ExternalLba(lba), Pattern(lba, version[lba], 512)).ok());
    }
    btt = MustOpen(ns);
    for (uint64_t lba = 0; lba < btt->ExternalNlba(); ++lba) {
      const auto want =
          version[lba] ? Pattern(lba, version[lba], 512) : std::vector<std::byte>(512);
      EXPECT_EQ(ReadSector(*btt, lba), want) << lba;
    }
    EXPECT_TRUE(btt->Check(false)->Clean());
  }
}

TEST(Btt, ZeroAndErrorFlagsFollowTheSpec) {
  MemoryNamespace ns(20 * kMiB);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kLinux, 4096)).ok());
  auto btt = MustOpen(ns);
  ASSERT_TRUE(btt->Write(ExternalLba(5), Pattern(5, 1, 4096)).ok());
  ASSERT_TRUE(btt->Zero(ExternalLba(5)).ok());
  EXPECT_EQ(ReadSector(*btt, 5), std::vector<std::byte>(4096));
  EXPECT_EQ(*btt->MapEntryForTest(ExternalLba(5)) & kMapFlagMask, kMapZeroFlag);
  ASSERT_TRUE(btt->SetError(ExternalLba(5)).ok());  // exactly one flag: E replaces Z
  std::vector<std::byte> out(4096);
  EXPECT_EQ(btt->Read(ExternalLba(5), out).code(), StatusCode::kMediaError);
  ASSERT_TRUE(btt->Zero(ExternalLba(5)).ok());  // and Z replaces E (never E|Z = normal)
  EXPECT_EQ(ReadSector(*btt, 5), std::vector<std::byte>(4096));
  ASSERT_TRUE(btt->SetError(ExternalLba(7)).ok());  // on a 00 entry: keeps the identity block
  EXPECT_EQ(*btt->MapEntryForTest(ExternalLba(7)), 7u | kMapErrorFlag);
  EXPECT_EQ(btt->Read(ExternalLba(7), out).code(), StatusCode::kMediaError);
  ASSERT_TRUE(btt->Write(ExternalLba(7), Pattern(7, 2, 4096)).ok());  // a write clears E
  EXPECT_EQ(ReadSector(*btt, 7), Pattern(7, 2, 4096));
  btt = MustOpen(ns);
  EXPECT_EQ(ReadSector(*btt, 5), std::vector<std::byte>(4096));
  EXPECT_EQ(ReadSector(*btt, 7), Pattern(7, 2, 4096));
  EXPECT_TRUE(btt->Check(false)->Clean());
}

TEST(Btt, InitialEntryReadsTheIdentityBlock) {
  // 00 = identity (kernel/UEFI). On dirty media this exposes the identity block's bytes.
  MemoryNamespace ns(20 * kMiB);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kUefi, 512)).ok());
  auto geo = ComputeGeometry(Profile::kUefi, ns.SizeBytes(), 512, 256);
  std::memset(ns.data() + geo->arenas[0].dataoff + 9 * 512, 0x5A, 512);
  auto btt = MustOpen(ns);
  EXPECT_EQ(ReadSector(*btt, 9), std::vector<std::byte>(512, std::byte{0x5A}));
}

TEST(Btt, RejectsBadArgumentsAndReadOnlyMutations) {
  MemoryNamespace ns(20 * kMiB);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kLinux, 512)).ok());
  auto btt = MustOpen(ns);
  std::vector<std::byte> small(100);
  EXPECT_EQ(btt->Read(ExternalLba(0), small).code(), StatusCode::kInvalidArgument);
  std::vector<std::byte> buf(512);
  EXPECT_EQ(btt->Read(ExternalLba(btt->ExternalNlba()), buf).code(), StatusCode::kInvalidArgument);
  OpenOptions ro;
  ro.read_only = true;
  auto rbtt = MustOpen(ns, ro);
  EXPECT_EQ(rbtt->Write(ExternalLba(0), buf).code(), StatusCode::kReadOnly);
  EXPECT_EQ(rbtt->Zero(ExternalLba(0)).code(), StatusCode::kReadOnly);
  EXPECT_EQ(rbtt->SetError(ExternalLba(0)).code(), StatusCode::kReadOnly);
  EXPECT_EQ(rbtt->Check(true).status().code(), StatusCode::kReadOnly);
  EXPECT_FALSE(Btt::Format(ns, Opts(Profile::kLinux, 1000)).ok());
  OpenOptions wrong_size;
  wrong_size.external_lbasize = 4096;
  EXPECT_FALSE(Btt::Open(ns, wrong_size).ok());
}

TEST(Btt, DetectsEachProfileAndHonoursOverride) {
  for (Profile p : {Profile::kLinux, Profile::kUefi, Profile::kPmemblk}) {
    MemoryNamespace ns(17 * kMiB);
    ASSERT_TRUE(Btt::Format(ns, Opts(p, 512)).ok());
    EXPECT_EQ(*Btt::DetectProfile(ns), p);
    OpenOptions o;
    o.profile = p == Profile::kLinux ? Profile::kUefi : Profile::kLinux;
    EXPECT_FALSE(Btt::Open(ns, o).ok());
  }
  MemoryNamespace empty(17 * kMiB);
  EXPECT_EQ(Btt::Open(empty).status().code(), StatusCode::kNotFound);
  MemoryNamespace tiny(100);
  EXPECT_EQ(Btt::Open(tiny).status().code(), StatusCode::kNotFound);
}

TEST(Btt, ReformatOverAnotherProfileLeavesNoStaleLayout) {
  MemoryNamespace ns(17 * kMiB);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kLinux, 512)).ok());
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kUefi, 4096)).ok());
  EXPECT_EQ(*Btt::DetectProfile(ns), Profile::kUefi);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kPmemblk, 512)).ok());
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kLinux, 512)).ok());
  EXPECT_EQ(*Btt::DetectProfile(ns), Profile::kLinux);
}

TEST(Btt, ParentUuidPolicyIsEnforced) {
  MemoryNamespace ns(17 * kMiB);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kLinux, 512)).ok());
  OpenOptions o;
  o.expected_parent_uuid = TestUuid(99);
  auto bad = Btt::Open(ns, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("INV-INFO-PARENT-UUID"), std::string::npos);
  o.expected_parent_uuid = TestUuid(2);
  EXPECT_TRUE(Btt::Open(ns, o).ok());
  o.parent_policy = ParentUuidPolicy::kIgnore;
  o.expected_parent_uuid = TestUuid(99);
  EXPECT_TRUE(Btt::Open(ns, o).ok());
  // A null on-media parent: the kernel accepts it, an exact policy does not.
  FormatOptions f = Opts(Profile::kLinux, 512);
  f.parent_uuid = Uuid{};
  ASSERT_TRUE(Btt::Format(ns, f).ok());
  o.parent_policy = ParentUuidPolicy::kMatchOrNull;
  EXPECT_TRUE(Btt::Open(ns, o).ok());
  o.parent_policy = ParentUuidPolicy::kExact;
  EXPECT_FALSE(Btt::Open(ns, o).ok());
}

TEST(Btt, CorruptPrimaryFallsBackToBackupAndIsRestored) {
  MemoryNamespace ns(20 * kMiB);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kLinux, 512)).ok());
  {
    auto btt = MustOpen(ns);
    ASSERT_TRUE(btt->Write(ExternalLba(5), Pattern(5, 1, 512)).ok());
  }
  std::vector<std::byte> good(ns.data() + 4096, ns.data() + 8192);
  ns.data()[4096 + 100] ^= std::byte{1};  // pmdk#4115: must not read zeros afterwards
  {
    OpenOptions ro;
    ro.read_only = true;
    auto btt = MustOpen(ns, ro);
    EXPECT_EQ(btt->open_report().primaries_from_backup, 1u);
    EXPECT_EQ(btt->open_report().primaries_restored, 0u);
    EXPECT_EQ(ReadSector(*btt, 5), Pattern(5, 1, 512));
    EXPECT_NE(std::memcmp(ns.data() + 4096, good.data(), 4096), 0);  // untouched
  }
  auto btt = MustOpen(ns);
  EXPECT_EQ(btt->open_report().primaries_restored, 1u);
  EXPECT_EQ(std::memcmp(ns.data() + 4096, good.data(), 4096), 0);
  EXPECT_EQ(ReadSector(*btt, 5), Pattern(5, 1, 512));
  // Even the profile is detected from the backup when the whole primary is gone.
  std::memset(ns.data(), 0, 8192);
  EXPECT_EQ(*Btt::DetectProfile(ns), Profile::kLinux);
  btt = MustOpen(ns);
  EXPECT_EQ(ReadSector(*btt, 5), Pattern(5, 1, 512));
}

TEST(Btt, BothInfoBlocksCorruptIsARefusalNamingTheArena) {
  MemoryNamespace ns(20 * kMiB);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kUefi, 512)).ok());
  auto geo = ComputeGeometry(Profile::kUefi, ns.SizeBytes(), 512, 256);
  ns.data()[100] ^= std::byte{1};
  ns.data()[geo->arenas[0].infooff + 100] ^= std::byte{1};
  OpenOptions o;
  o.profile = Profile::kUefi;
  auto r = Btt::Open(ns, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("arena 0"), std::string::npos);
  EXPECT_NE(r.status().message().find("INV-INFO-CHECKSUM"), std::string::npos);
}

TEST(Btt, InvalidFieldsWithValidChecksumsAreRefusedByName) {
  struct Case {
    const char* invariant;
    void (*mutate)(InfoBlock&);
  };
  const Case cases[] = {
      {"INV-INFO-VERSION", [](InfoBlock& i) { i.major = 3; }},
      {"INV-INFO-NLBA", [](InfoBlock& i) { i.internal_nlba += 1; }},
      {"INV-INFO-NFREE", [](InfoBlock& i) { i.nfree = 0; }},
      {"INV-INFO-ALIGN", [](InfoBlock& i) { i.mapoff += 8; }},
      {"INV-INFO-GEOMETRY", [](InfoBlock& i) { i.flogoff = i.mapoff; }},
      {"INV-INFO-GEOMETRY", [](InfoBlock& i) { i.infooff = 1ULL << 50; }},
      {"INV-INFO-NEXTOFF", [](InfoBlock& i) { i.nextoff = 4096; }},
      {"INV-INFO-LBASIZE", [](InfoBlock& i) { i.internal_lbasize = 256; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.invariant);
    MemoryNamespace ns(20 * kMiB);
    ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kLinux, 512)).ok());
    InfoBlock info;
    std::memcpy(&info, ns.data() + 4096, 4096);
    c.mutate(info);
    info.checksum = InfoBlockChecksum(info);
    std::memcpy(ns.data() + 4096, &info, 4096);
    auto r = Btt::Open(ns);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.invariant), std::string::npos) << r.status().ToString();
  }
}

TEST(Btt, RandomCorruptionNeverCrashes) {
  // Byte flips anywhere in the metadata (info, map, flog) give OK or a Status, never a crash,
  // hang or UB (run under ASan/UBSan too).
  auto geo = ComputeGeometry(Profile::kUefi, 17 * kMiB, 512, 4);
  const ArenaGeometry& a = geo->arenas[0];
  MemoryNamespace base(17 * kMiB);
  ASSERT_TRUE(Btt::Format(base, Opts(Profile::kUefi, 512, 4)).ok());
  {
    auto btt = MustOpen(base);
    for (uint64_t i = 0; i < 40; ++i) {
      ASSERT_TRUE(btt->Write(ExternalLba(i % 7), Pattern(i, i, 512)).ok());
    }
  }
  Prng prng(7);
  const uint64_t regions[][2] = {{0, 4096}, {a.mapoff, 64}, {a.flogoff, 4 * 64}, {a.infooff, 4096}};
  int refused = 0;
  for (int iter = 0; iter < 300; ++iter) {
    MemoryNamespace ns(17 * kMiB);
    std::memcpy(ns.data(), base.data(), ns.SizeBytes());
    for (int flips = 0; flips < 3; ++flips) {
      const auto& r = regions[prng.Below(4)];
      ns.data()[r[0] + prng.Below(r[1])] ^= std::byte(1 + prng.Below(255));
    }
    auto btt = Btt::Open(ns);
    if (!btt.ok()) {
      ++refused;
      EXPECT_FALSE(btt.status().message().empty());
      continue;
    }
    std::vector<std::byte> buf(512);
    for (uint64_t lba = 0; lba < 8; ++lba) {
      (void)(*btt)->Read(ExternalLba(lba), buf);
      (void)(*btt)->Write(ExternalLba(lba), buf);
    }
    (void)(*btt)->Check(true);
  }
  EXPECT_GT(refused, 0);
}

TEST(Btt, TruncatedNamespaceIsRefused) {
  MemoryNamespace ns(20 * kMiB);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kLinux, 512)).ok());
  MemoryNamespace cut(10 * kMiB);
  std::memcpy(cut.data(), ns.data(), cut.SizeBytes());
  auto r = Btt::Open(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("INV-INFO-GEOMETRY"), std::string::npos)
      << r.status().ToString();
}

TEST(Btt, MultiArenaIoOnASparseNamespace) {
  // Two full 512 GiB arenas plus a 32 MiB tail, 4 KiB sectors, stored sparsely; exercises
  // postmap offsets above 4 GiB (64-bit data offsets) and the nextoff chain.
  testing::SparseNamespace ns(1024 * kGiB + 32 * kMiB);
  FormatOptions f = Opts(Profile::kUefi, 4096);
  f.medium_is_zeroed = true;
  ASSERT_TRUE(Btt::Format(ns, f).ok());
  auto btt = MustOpen(ns);
  ASSERT_EQ(btt->ArenaCount(), 3u);
  auto geo = ComputeGeometry(Profile::kUefi, ns.SizeBytes(), 4096, 256);
  EXPECT_EQ(btt->ExternalNlba(), geo->external_nlba_total);
  const uint64_t a0 = geo->arenas[0].external_nlba;
  const uint64_t a1 = geo->arenas[1].external_nlba;
  const uint64_t lbas[] = {0,       2 * 1024 * 1024 + 3,    a0 - 1, a0, a0 + a1 - 1,
                           a0 + a1, btt->ExternalNlba() - 1};
  for (uint64_t lba : lbas) ASSERT_TRUE(btt->Write(ExternalLba(lba), Pattern(lba, 1, 4096)).ok());
  btt = MustOpen(ns);
  for (uint64_t lba : lbas) EXPECT_EQ(ReadSector(*btt, lba), Pattern(lba, 1, 4096)) << lba;
  // The high identity block of an unwritten LBA in arena 0 reads zeros.
  EXPECT_EQ(ReadSector(*btt, a0 - 2), std::vector<std::byte>(4096));
}

TEST(Btt, RandomOperationsMatchAReferenceModel) {
  // Writes, zeros, errors and reads against a reference sector array, with read-write and
  // read-only reopens in between; every reopen shows the model's sectors and checks clean.
  for (Profile p : {Profile::kLinux, Profile::kUefi, Profile::kPmemblk}) {
    SCOPED_TRACE(ProfileName(p));
    const uint32_t nfree = 3;
    MemoryNamespace ns(MinimumNamespaceSize(p, 512, nfree) + 8 * 4096);
    ASSERT_TRUE(Btt::Format(ns, Opts(p, 512, nfree)).ok());
    auto btt = MustOpen(ns);
    const uint64_t n = btt->ExternalNlba();
    struct Ref {
      std::vector<std::byte> data;
      bool error = false;
    };
    std::vector<Ref> ref(n, Ref{std::vector<std::byte>(512), false});
    Prng prng(static_cast<uint64_t>(p) + 77);
    for (int step = 0; step < 3000; ++step) {
      const uint64_t lba = prng.Below(n);
      switch (prng.Below(10)) {
        case 0:
          ASSERT_TRUE(btt->Zero(ExternalLba(lba)).ok());
          ref[lba] = Ref{std::vector<std::byte>(512), false};
          break;
        case 1:
          ASSERT_TRUE(btt->SetError(ExternalLba(lba)).ok());
          ref[lba].error = true;
          break;
        case 2: {
          std::vector<std::byte> out(512);
          Status s = btt->Read(ExternalLba(lba), out);
          if (ref[lba].error) {
            ASSERT_EQ(s.code(), StatusCode::kMediaError);
          } else {
            ASSERT_TRUE(s.ok());
            ASSERT_EQ(out, ref[lba].data) << "lba " << lba << " step " << step;
          }
          break;
        }
        case 3:
          if (prng.Chance(1, 20)) {
            OpenOptions o;
            o.read_only = prng.Chance(1, 2);
            btt.reset();
            btt = MustOpen(ns, o);
            ASSERT_TRUE(btt);
            auto report = btt->Check(false);
            ASSERT_TRUE(report.ok());
            ASSERT_TRUE(report->Clean()) << report->ToString();
            if (o.read_only) btt = MustOpen(ns);
          }
          break;
        default: {
          auto v = Pattern(lba, static_cast<uint64_t>(step), 512);
          ASSERT_TRUE(btt->Write(ExternalLba(lba), v).ok());
          ref[lba] = Ref{std::move(v), false};
        }
      }
    }
    EXPECT_TRUE(btt->Check(false)->Clean());
  }
}

}  // namespace
}  // namespace tearproof::btt
