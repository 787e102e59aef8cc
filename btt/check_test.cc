// Check tests: each seeded inconsistency is reported under its invariant name
// (INV-INFO-CHECKSUM, INV-INFO-BACKUP-MATCH, INV-MAP-RANGE, INV-MAP-BIJECTION, INV-FLOG-SEQ,
// INV-FLOG-RANGE, INV-FLOG-PENDING, INV-FREELIST-MATCHES-FLOG, INV-POOL-HDR, INV-POOL-BSIZE,
// INV-INFO-ERROR-FLAG), repair fixes exactly the safe ones, and a repaired BTT checks clean.
// The arena ERROR flag: entered (and persisted in both info blocks) when a commit or map store
// fails or a write finds the arena inconsistent; honoured at open; cleared by repair only when
// nothing else is wrong with the arena.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "btt/btt.h"
#include "btt/memory_namespace.h"
#include "btt/test_util.h"
#include "util/endian.h"

namespace tearproof::btt {
namespace {

using testing::Pattern;
using testing::TestUuid;

constexpr uint64_t kMiB = 1ULL << 20;

struct Fixture {
  MemoryNamespace ns{17 * kMiB};
  Geometry geo;
  std::unique_ptr<Btt> btt;
  std::byte* arena() { return ns.data() + geo.btt_offset; }
  std::byte* map() { return arena() + geo.arenas[0].mapoff; }
  std::byte* flog() { return arena() + geo.arenas[0].flogoff; }
  std::byte* backup() { return arena() + geo.arenas[0].infooff; }
};

std::unique_ptr<Fixture> Make(Profile profile = Profile::kLinux) {
  auto f = std::make_unique<Fixture>();
  FormatOptions o;
  o.profile = profile;
  o.external_lbasize = 512;
  o.nfree = 4;
  o.uuid = TestUuid(21);
  o.parent_uuid = TestUuid(22);
  EXPECT_TRUE(Btt::Format(f->ns, o).ok());
  f->geo = *ComputeGeometry(profile, f->ns.SizeBytes(), 512, 4);
  auto btt = Btt::Open(f->ns);
  EXPECT_TRUE(btt.ok());
  f->btt = std::move(btt).value();
  for (uint64_t i = 0; i < 10; ++i) {
    EXPECT_TRUE(f->btt->Write(ExternalLba(i % 6), Pattern(i, i, 512)).ok());
  }
  return f;
}

// The flags word of the info block at `p`, after checking that the block is still intact.
uint32_t InfoFlags(const std::byte* p) {
  InfoBlock info;
  std::memcpy(&info, p, sizeof(info));
  EXPECT_TRUE(CheckInfoBlockIntegrity(info).ok());
  return info.flags;
}

struct Seeded {
  const char* name;
  std::function<void(Fixture&)> corrupt;
  const char* invariant;
  bool repairable;
};

TEST(BttCheck, FreshAndBusyBttsAreClean) {
  auto f = Make();
  auto report = f->btt->Check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->Clean()) << report->ToString();
}

TEST(BttCheck, FindsEachSeededInconsistencyByName) {
  const Seeded cases[] = {
      {"backup checksum", [](Fixture& f) { f.backup()[200] ^= std::byte{1}; }, "INV-INFO-CHECKSUM",
       true},
      {"backup differs",
       [](Fixture& f) {
         InfoBlock info;
         std::memcpy(&info, f.backup(), 4096);
         info.unused[0] = 1;
         info.checksum = InfoBlockChecksum(info);
         std::memcpy(f.backup(), &info, 4096);
       },
       "INV-INFO-BACKUP-MATCH", true},
      {"primary checksum", [](Fixture& f) { f.arena()[300] ^= std::byte{4}; }, "INV-INFO-CHECKSUM",
       true},
      {"primary version",
       [](Fixture& f) {
         InfoBlock info;
         std::memcpy(&info, f.arena(), 4096);
         info.major = 2;
         info.checksum = InfoBlockChecksum(info);
         std::memcpy(f.arena(), &info, 4096);
       },
       "INV-INFO-VERSION", true},
      {"map out of range",
       [](Fixture& f) { StoreLe<uint32_t>(f.map() + 4 * 20, 0xC0000000u | 0x3FFFFFF0u); },
       "INV-MAP-RANGE", false},
      {"map duplicate",
       [](Fixture& f) {
         const uint32_t e = LoadLe32(f.map() + 0);
         StoreLe<uint32_t>(f.map() + 4 * 30, e);
       },
       "INV-MAP-BIJECTION", false},
      {"map duplicate via identity",
       [](Fixture& f) { StoreLe<uint32_t>(f.map() + 4 * 31, 0xC0000000u | 32); },
       "INV-MAP-BIJECTION", false},
      {"flog equal seqs",
       [](Fixture& f) {
         StoreLe<uint32_t>(f.flog() + 64 * 2 + 12, 1);
         StoreLe<uint32_t>(f.flog() + 64 * 2 + 16 + 12, 1);
         StoreLe<uint32_t>(f.flog() + 64 * 2 + 16 + 8, 1);
       },
       "INV-FLOG-SEQ", false},
      {"flog range",
       [](Fixture& f) {
         // Make lane 3's newer slot point at an LBA past the arena.
         const uint32_t s0 = LoadLe32(f.flog() + 64 * 3 + 12);
         const uint32_t s1 = LoadLe32(f.flog() + 64 * 3 + 16 + 12);
         const int newer = *NewerSlot(s0, s1);
         StoreLe<uint32_t>(f.flog() + 64 * 3 + 16 * newer + 4, 0x3FFFFF00u);
       },
       "INV-FLOG-RANGE", false},
      {"flog disagrees with DRAM",
       [](Fixture& f) {
         // Lane 0: make the newer slot's old_map another (mapped) block.
         const uint32_t s0 = LoadLe32(f.flog() + 12);
         const uint32_t s1 = LoadLe32(f.flog() + 16 + 12);
         const int newer = *NewerSlot(s0, s1);
         const uint32_t old = LoadLe32(f.flog() + 16 * newer + 4);
         StoreLe<uint32_t>(f.flog() + 16 * newer + 4, (old & kMapFlagMask) | 40);
       },
       "INV-FREELIST-MATCHES-FLOG", false},
      {"pending roll-forward",
       [](Fixture& f) {
         // Undo the map store of the last write on some lane: map[lba] = old_map.
         for (int lane = 0; lane < 4; ++lane) {
           std::byte* g = f.flog() + 64 * lane;
           const int newer = *NewerSlot(LoadLe32(g + 12), LoadLe32(g + 28));
           const uint32_t lba = LoadLe32(g + 16 * newer);
           const uint32_t old = LoadLe32(g + 16 * newer + 4) & kMapLbaMask;
           const uint32_t nu = LoadLe32(g + 16 * newer + 8) & kMapLbaMask;
           if (old == nu) continue;
           if ((LoadLe32(f.map() + 4 * lba) & kMapLbaMask) != nu) continue;
           StoreLe<uint32_t>(f.map() + 4 * lba, old | kMapNormal);
           return;
         }
         FAIL() << "no lane to undo";
       },
       "INV-FLOG-PENDING", true},
  };
  for (const Seeded& c : cases) {
    SCOPED_TRACE(c.name);
    auto f = Make();
    c.corrupt(*f);
    auto report = f->btt->Check(false);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->Has(c.invariant)) << report->ToString();
    auto repaired = f->btt->Check(true);
    ASSERT_TRUE(repaired.ok());
    if (c.repairable) {
      for (const Finding& x : repaired->findings) {
        EXPECT_TRUE(x.repaired) << x.invariant << ": " << x.detail;
      }
      auto after = f->btt->Check(false);
      EXPECT_TRUE(after->Clean()) << after->ToString();
    } else {
      EXPECT_FALSE(f->btt->Check(false)->Clean());
    }
  }
}

TEST(BttCheck, PoolHeaderAndBsizeAreChecked) {
  auto f = Make(Profile::kPmemblk);
  EXPECT_TRUE(f->btt->Check(false)->Clean());
  f->ns.data()[500] ^= std::byte{1};
  StoreLe<uint32_t>(f->ns.data() + kPmemblkHeaderOffset, 4096);
  auto report = f->btt->Check(false);
  EXPECT_TRUE(report->Has("INV-POOL-HDR"));
  EXPECT_TRUE(report->Has("INV-POOL-BSIZE"));
  f->btt.reset();
  auto reopen = Btt::Open(f->ns);
  ASSERT_FALSE(reopen.ok());
  EXPECT_NE(reopen.status().message().find("INV-POOL-HDR"), std::string::npos);
}

TEST(BttCheck, ErrorFlagRefusesWritesButAllowsReads) {
  auto f = Make();
  f->btt.reset();
  for (std::byte* p : {f->arena(), f->backup()}) {
    InfoBlock info;
    std::memcpy(&info, p, 4096);
    info.flags |= kInfoFlagError;
    info.checksum = InfoBlockChecksum(info);
    std::memcpy(p, &info, 4096);
  }
  auto btt = Btt::Open(f->ns);
  ASSERT_TRUE(btt.ok());
  std::vector<std::byte> buf(512);
  EXPECT_TRUE((*btt)->Read(ExternalLba(1), buf).ok());
  EXPECT_EQ((*btt)->Write(ExternalLba(1), buf).code(), StatusCode::kMediaError);
  EXPECT_EQ((*btt)->Zero(ExternalLba(1)).code(), StatusCode::kMediaError);
  EXPECT_TRUE((*btt)->Check(false)->Has("INV-INFO-ERROR-FLAG"));
  // Nothing else is wrong with the arena, so repair clears the flag in both info blocks.
  auto repaired = (*btt)->Check(true);
  ASSERT_TRUE(repaired.ok());
  ASSERT_EQ(repaired->findings.size(), 1u) << repaired->ToString();
  EXPECT_TRUE(repaired->findings[0].repaired);
  EXPECT_TRUE((*btt)->Write(ExternalLba(1), buf).ok());
  btt->reset();
  EXPECT_EQ(InfoFlags(f->arena()), 0u);
  EXPECT_EQ(InfoFlags(f->backup()), 0u);
  EXPECT_TRUE((*Btt::Open(f->ns))->Check(false)->Clean());
}

// The map store (P4) of a write fails after its commit (P3): the arena enters the ERROR state
// and, as in PMDK, the flag is persisted in both info blocks. The next open honours it (reads
// yes, writes no) and rolls the committed write forward; repair then clears the flag.
TEST(BttCheck, FailedMapStorePersistsTheErrorFlag) {
  auto f = Make(Profile::kUefi);
  f->btt.reset();
  testing::FaultyNamespace faulty(f->ns);
  auto btt = Btt::Open(faulty);
  ASSERT_TRUE(btt.ok());
  const uint64_t entry7 = f->geo.btt_offset + f->geo.arenas[0].mapoff + 4 * 7;
  faulty.set_fail([&](uint64_t off, uint64_t n) { return off == entry7 && n == 4; });
  EXPECT_EQ((*btt)->Write(ExternalLba(7), Pattern(7, 1, 512)).code(), StatusCode::kIoError);
  EXPECT_EQ(faulty.failures, 1u);
  const Status refused = (*btt)->Write(ExternalLba(1), Pattern(1, 2, 512));
  EXPECT_EQ(refused.code(), StatusCode::kMediaError);
  EXPECT_NE(refused.message().find("INV-INFO-ERROR-FLAG"), std::string::npos);
  EXPECT_EQ(testing::ReadSector(**btt, 1), Pattern(7, 7, 512));  // reads go on
  EXPECT_EQ(InfoFlags(f->arena()), kInfoFlagError);
  EXPECT_EQ(InfoFlags(f->backup()), kInfoFlagError);
  btt->reset();

  auto reopened = Btt::Open(f->ns);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->open_report().lanes_rolled_forward, 1u);
  EXPECT_EQ(testing::ReadSector(**reopened, 7), Pattern(7, 1, 512));
  EXPECT_EQ((*reopened)->Write(ExternalLba(1), Pattern(1, 2, 512)).code(), StatusCode::kMediaError);
  auto report = (*reopened)->Check(true);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->findings.size(), 1u) << report->ToString();
  EXPECT_EQ(report->findings[0].invariant, "INV-INFO-ERROR-FLAG");
  EXPECT_TRUE(report->findings[0].repaired);
  EXPECT_TRUE((*reopened)->Write(ExternalLba(1), Pattern(1, 2, 512)).ok());
  EXPECT_TRUE((*reopened)->Check(false)->Clean());
}

// The commit (P3) itself fails: whether it reached the medium is unknown, so the lane's next
// free block is too. The arena refuses writes and persists the flag; here the failed store
// changed nothing, so the arena is consistent and a repair in the same session clears it.
TEST(BttCheck, FailedCommitPersistsTheErrorFlag) {
  auto f = Make(Profile::kLinux);
  testing::FaultyNamespace faulty(f->ns);
  f->btt.reset();
  auto btt = Btt::Open(faulty);
  ASSERT_TRUE(btt.ok());
  const uint64_t flog = f->geo.btt_offset + f->geo.arenas[0].flogoff;
  // Half B of any slot: {new_map, seq}, the 8 bytes at slot offset 8.
  faulty.set_fail([&](uint64_t off, uint64_t n) {
    return n == 8 && off >= flog && off < flog + 4 * kFlogGroupSize && (off - flog) % 16 == 8;
  });
  EXPECT_EQ((*btt)->Write(ExternalLba(2), Pattern(2, 1, 512)).code(), StatusCode::kIoError);
  faulty.set_fail(nullptr);
  EXPECT_EQ((*btt)->Write(ExternalLba(2), Pattern(2, 1, 512)).code(), StatusCode::kMediaError);
  EXPECT_EQ(InfoFlags(f->arena()), kInfoFlagError);
  EXPECT_EQ(InfoFlags(f->backup()), kInfoFlagError);
  EXPECT_EQ(testing::ReadSector(**btt, 2), Pattern(8, 8, 512));  // the old data
  auto report = (*btt)->Check(true);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->findings.size(), 1u) << report->ToString();
  EXPECT_TRUE(report->findings[0].repaired);
  EXPECT_TRUE((*btt)->Write(ExternalLba(2), Pattern(2, 1, 512)).ok());
  EXPECT_EQ(testing::ReadSector(**btt, 2), Pattern(2, 1, 512));
  EXPECT_EQ(InfoFlags(f->arena()), 0u);
}

// OpenOptions::salvage: an arena whose flog cannot be recovered opens in the ERROR state
// (in DRAM; writes refused) instead of failing, so Check can report it and every sector whose
// metadata is intact still reads back. Neither the open, reads nor Check(false) store anything.
// `invariant` names the open's failure; `check_invariant` the finding Check reports for it.
void ExpectSalvaged(Fixture& f, const char* invariant, const char* check_invariant) {
  const std::vector<std::byte> before(f.ns.data(), f.ns.data() + f.ns.SizeBytes());
  auto plain = Btt::Open(f.ns);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().code(), StatusCode::kCorruption);
  EXPECT_NE(plain.status().message().find(invariant), std::string::npos)
      << plain.status().ToString();
  OpenOptions o;
  o.salvage = true;
  auto salvaged = Btt::Open(f.ns, o);
  ASSERT_TRUE(salvaged.ok()) << salvaged.status().ToString();
  Btt& b = **salvaged;
  EXPECT_TRUE(b.read_only());
  ASSERT_EQ(b.open_report().salvaged.size(), 1u);
  EXPECT_NE(b.open_report().salvaged[0].find(invariant), std::string::npos);
  // Make() wrote Pattern(i, i) to lba i % 6 for i < 10: the last are i = 6 7 8 9 4 5.
  std::vector<std::byte> buf(512);
  for (uint64_t lba = 0; lba < 6; ++lba) {
    ASSERT_TRUE(b.Read(ExternalLba(lba), buf).ok());
    const uint64_t i = lba < 4 ? lba + 6 : lba;
    EXPECT_TRUE(buf == Pattern(i, i, 512)) << "lba " << lba;
  }
  EXPECT_FALSE(b.Write(ExternalLba(1), buf).ok());
  auto report = b.Check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->Has(check_invariant)) << report->ToString();
  EXPECT_TRUE(report->Has("INV-INFO-ERROR-FLAG")) << report->ToString();
  // Only Check(repair) writes after a salvage open (flog_repair_test.cc).
  EXPECT_TRUE(std::equal(before.begin(), before.end(), f.ns.data())) << "salvage wrote";
}

TEST(BttCheck, SalvageOpensAnArenaWithBadSeqsInErrorAndReadsEverySector) {
  auto f = Make();
  f->btt.reset();
  StoreLe<uint32_t>(f->flog() + 64 * 2 + 12, 1);  // lane 2: both slots seq 1
  StoreLe<uint32_t>(f->flog() + 64 * 2 + 16 + 12, 1);
  ExpectSalvaged(*f, "INV-FLOG-SEQ", "INV-FLOG-SEQ");
}

TEST(BttCheck, SalvageOpensAnArenaWithAnUnknownFlogLayoutInError) {
  auto f = Make();
  f->btt.reset();
  StoreLe<uint32_t>(f->flog() + 64 * 1 + 32 + 12, 7);  // lane 1: slot 2 neither live nor padding
  ExpectSalvaged(*f, "INV-FLOG-LAYOUT", "INV-FLOG-LAYOUT");
}

TEST(BttCheck, SalvageOpensAnArenaWithADuplicateFreeBlockInError) {
  auto f = Make();
  f->btt.reset();
  // Lane 3's newer slot frees lane 0's free block too (old_map in half A, offset 4).
  const uint32_t free0 = [&] {
    auto b = Btt::Open(f->ns);
    return (*b)->FreeBlockForTest(0, Lane(0)).value();
  }();
  const uint32_t s0 = LoadLe32(f->flog() + 64 * 3 + 12);
  const uint32_t s1 = LoadLe32(f->flog() + 64 * 3 + 16 + 12);
  const int newer = *NewerSlot(s0, s1);
  StoreLe<uint32_t>(f->flog() + 64 * 3 + 16 * newer + 4, free0);
  StoreLe<uint32_t>(f->flog() + 64 * 3 + 16 * newer + 8, free0);  // new_map = old_map: no roll
  // Check sees the shared block as referenced twice by the map and free list.
  ExpectSalvaged(*f, "INV-FLOG-FREE-DISTINCT", "INV-MAP-BIJECTION");
}

TEST(BttCheck, VerifyMapAtOpenRefusesADuplicate) {
  auto f = Make();
  f->btt.reset();
  StoreLe<uint32_t>(f->map() + 4 * 30, LoadLe32(f->map()));
  EXPECT_TRUE(Btt::Open(f->ns).ok());  // the default open does not read the whole map
  OpenOptions o;
  o.verify_map = true;
  auto r = Btt::Open(f->ns, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("INV-MAP-BIJECTION"), std::string::npos);
}

TEST(BttCheck, WriteRefusesToFreeAMappedFreeBlock) {
  // A map entry that points at a lane's free block is caught by the write path itself.
  auto f = Make();
  const uint32_t free0 = f->btt->FreeBlockForTest(0, Lane(0)).value();
  for (uint64_t lba = 0; lba < 6; ++lba) StoreLe<uint32_t>(f->map() + 4 * lba, free0 | kMapNormal);
  std::vector<std::byte> buf(512);
  Status s;
  for (uint64_t lba = 0; lba < 6 && s.ok(); ++lba) s = f->btt->Write(ExternalLba(lba), buf);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("INV-MAP-BIJECTION"), std::string::npos);
  // The arena is now in ERROR, on media too, and repair cannot clear it: the duplicate remains.
  EXPECT_EQ(f->btt->Write(ExternalLba(0), buf).code(), StatusCode::kMediaError);
  EXPECT_EQ(InfoFlags(f->arena()), kInfoFlagError);
  auto report = f->btt->Check(true);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->Has("INV-MAP-BIJECTION"));
  ASSERT_TRUE(report->Has("INV-INFO-ERROR-FLAG"));
  for (const Finding& finding : report->findings) {
    if (finding.invariant == "INV-INFO-ERROR-FLAG") {
      EXPECT_FALSE(finding.repaired);
    }
  }
  EXPECT_EQ(InfoFlags(f->arena()), kInfoFlagError);
}

}  // namespace
}  // namespace tearproof::btt
