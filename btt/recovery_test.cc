// Recovery tests: the on-media state after each durability point of a write (P1 data, P2 flog
// half A, P3 flog half B = commit, P4 map) is built by hand, then opened read-write and
// read-only. Checks: the LBA reads old data before the commit and new data after it (block
// atomicity), recovery rolls forward and frees old_map (INV-FLOG-PENDING), the result passes
// Check (INV-MAP-BIJECTION), recovery is idempotent, and a read-only open makes zero stores and
// shows the same sectors as read-write recovery. Also: crashes after every store of a write
// sequence (a store-dropping Namespace), and the pre-4.15 (0,2) flog layout (INV-FLOG-LAYOUT).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "btt/btt.h"
#include "btt/memory_namespace.h"
#include "btt/test_util.h"
#include "util/endian.h"

namespace tearproof::btt {
namespace {

using testing::CountingNamespace;
using testing::Pattern;

constexpr uint64_t kMiB = 1ULL << 20;

FormatOptions Opts(Profile profile, uint32_t nfree) {
  return testing::TestFormatOptions(profile, nfree, 11);
}

std::vector<std::byte> ReadSector(Btt& btt, uint64_t lba) {
  std::vector<std::byte> out(btt.ExternalLbaSize());
  Status s = btt.Read(ExternalLba(lba), out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

enum class CrashAfter { kP1, kP2, kP3, kP4 };

struct HandBuilt {
  Geometry geo;
  uint64_t arena_abs;
  uint32_t free_block;
  uint32_t old_block;
};

// Lays out the media state of a write of Pattern(lba, 2) to `lba` through lane 0, stopped after
// `point`. If `prewrite`, the LBA already holds Pattern(lba, 1) (a normal map entry); otherwise
// it has its initial 00 entry.
HandBuilt BuildState(MemoryNamespace& ns, Profile profile, uint64_t lba, bool prewrite,
                     CrashAfter point) {
  const uint32_t nfree = 4;
  EXPECT_TRUE(Btt::Format(ns, Opts(profile, nfree)).ok());
  HandBuilt hb;
  hb.geo = *ComputeGeometry(profile, ns.SizeBytes(), 512, nfree);
  const ArenaGeometry& a = hb.geo.arenas[0];
  hb.arena_abs = hb.geo.btt_offset;
  std::byte* map = ns.data() + hb.arena_abs + a.mapoff;
  std::byte* data = ns.data() + hb.arena_abs + a.dataoff;
  std::byte* flog = ns.data() + hb.arena_abs + a.flogoff;
  const bool pmdk = profile == Profile::kPmemblk;
  hb.old_block = static_cast<uint32_t>(lba);  // identity
  if (prewrite) {
    // As if lane 1 had written it: block ext+1 now holds v1, lane 1's free block is `lba`.
    const uint32_t b = a.external_nlba + 1;
    std::memcpy(data + uint64_t{b} * hb.geo.internal_lbasize, Pattern(lba, 1, 512).data(), 512);
    FlogSlot s1{static_cast<uint32_t>(lba), pmdk ? (hb.old_block | kMapNormal) : hb.old_block,
                pmdk ? (b | kMapNormal) : b, 2};
    std::memcpy(flog + 1 * 64 + 16, &s1, 16);
    StoreLe<uint32_t>(map + lba * 4, b | kMapNormal);
    hb.old_block = b;
  }
  // Lane 0: free block ext+0, next slot 1, seq 2.
  hb.free_block = a.external_nlba + 0;
  std::memcpy(data + uint64_t{hb.free_block} * hb.geo.internal_lbasize, Pattern(lba, 2, 512).data(),
              512);  // P1
  const uint32_t old_logged =
      pmdk ? (prewrite ? (hb.old_block | kMapNormal) : (hb.old_block | kMapNormal)) : hb.old_block;
  if (point >= CrashAfter::kP2) {
    StoreLe<uint32_t>(flog + 16, static_cast<uint32_t>(lba));
    StoreLe<uint32_t>(flog + 20, old_logged);
  }
  if (point >= CrashAfter::kP3) {
    StoreLe<uint32_t>(flog + 24, pmdk ? (hb.free_block | kMapNormal) : hb.free_block);
    StoreLe<uint32_t>(flog + 28, 2);
  }
  if (point >= CrashAfter::kP4) StoreLe<uint32_t>(map + lba * 4, hb.free_block | kMapNormal);
  return hb;
}

TEST(BttRecovery, EveryCrashPointOfAWriteRecoversAtomically) {
  for (Profile profile : {Profile::kLinux, Profile::kUefi, Profile::kPmemblk}) {
    for (bool prewrite : {false, true}) {
      for (CrashAfter point :
           {CrashAfter::kP1, CrashAfter::kP2, CrashAfter::kP3, CrashAfter::kP4}) {
        SCOPED_TRACE(std::string(ProfileName(profile)) + (prewrite ? " rewrite" : " first") + " P" +
                     std::to_string(static_cast<int>(point) + 1));
        const uint64_t lba = 9;
        MemoryNamespace ns(17 * kMiB);
        const HandBuilt hb = BuildState(ns, profile, lba, prewrite, point);
        const bool committed = point >= CrashAfter::kP3;
        const auto expected = committed
                                  ? Pattern(lba, 2, 512)
                                  : (prewrite ? Pattern(lba, 1, 512) : std::vector<std::byte>(512));
        // Read-only first: zero stores, same view.
        std::vector<std::byte> ro_view;
        {
          CountingNamespace counting(ns);
          OpenOptions ro;
          ro.read_only = true;
          auto btt = Btt::Open(counting, ro);
          ASSERT_TRUE(btt.ok()) << btt.status().ToString();
          ro_view = ReadSector(**btt, lba);
          EXPECT_EQ(ro_view, expected);
          EXPECT_EQ((*btt)->open_report().lanes_rolled_forward, point == CrashAfter::kP3 ? 1u : 0u);
          auto report = (*btt)->Check(false);
          ASSERT_TRUE(report.ok());
          EXPECT_TRUE(report->Clean()) << report->ToString();
          EXPECT_EQ(counting.writes, 0u);
          EXPECT_EQ(counting.flushes, 0u);
        }
        auto btt = Btt::Open(ns);
        ASSERT_TRUE(btt.ok()) << btt.status().ToString();
        EXPECT_EQ(ReadSector(**btt, lba), expected);
        EXPECT_EQ(ReadSector(**btt, lba), ro_view);
        // Lane 0's free block: old_map after the commit, still the unused block before it.
        EXPECT_EQ((*btt)->FreeBlockForTest(0, Lane(0)).value(),
                  committed ? hb.old_block : hb.free_block);
        auto report = (*btt)->Check(false);
        ASSERT_TRUE(report.ok());
        EXPECT_TRUE(report->Clean()) << report->ToString();
        // Idempotent: a second recovery changes nothing and sees the same.
        btt->reset();
        CountingNamespace counting(ns);
        auto again = Btt::Open(counting);
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(counting.writes, 0u);
        EXPECT_EQ(ReadSector(**again, lba), expected);
        // And the BTT keeps working: write through every lane, reopen, read back.
        for (uint64_t i = 0; i < 12; ++i) {
          ASSERT_TRUE((*again)->Write(ExternalLba(i), Pattern(i, 7, 512)).ok());
        }
        again->reset();
        auto last = Btt::Open(ns);
        ASSERT_TRUE(last.ok());
        for (uint64_t i = 0; i < 12; ++i) EXPECT_EQ(ReadSector(**last, i), Pattern(i, 7, 512));
        EXPECT_TRUE((*last)->Check(false)->Clean());
      }
    }
  }
}

// Passes everything through until `budget` stores have happened, then silently drops every later
// store: the medium as it is when power fails right after the budget-th durable store.
class CrashingNamespace final : public Namespace {
 public:
  CrashingNamespace(Namespace& inner, uint64_t budget) : inner_(inner), budget_(budget) {}
  uint64_t SizeBytes() const override { return inner_.SizeBytes(); }
  bool ReadOnly() const override { return false; }
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    return inner_.Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    if (stores_++ >= budget_) return CheckRange(offset, data.size());
    return inner_.Write(offset, data);
  }
  Status Flush(uint64_t offset, uint64_t size) override { return CheckRange(offset, size); }
  void Drain() override {}
  uint64_t stores() const { return stores_; }

 private:
  Namespace& inner_;
  uint64_t budget_;
  uint64_t stores_ = 0;
};

TEST(BttRecovery, CrashAfterAnyStoreOfAWriteSequenceKeepsEverySectorWhole) {
  // A fixed sequence of writes (including repeated LBAs and a Zero) on one lane; for every k,
  // the medium as of the k-th store recovers to a state where each LBA holds the value of its
  // last completed operation or of the one in flight.
  struct Op {
    uint64_t lba;
    int version;  // 0 = Zero
  };
  const std::vector<Op> ops = {{3, 1}, {4, 1}, {3, 2}, {3, 0}, {5, 1}, {3, 3}, {4, 2}};
  for (Profile profile : {Profile::kUefi, Profile::kPmemblk}) {
    MemoryNamespace pristine(17 * kMiB);
    ASSERT_TRUE(Btt::Format(pristine, Opts(profile, 2)).ok());
    for (uint64_t budget = 0;; ++budget) {
      SCOPED_TRACE(std::string(ProfileName(profile)) + " budget " + std::to_string(budget));
      MemoryNamespace ns(17 * kMiB);
      std::memcpy(ns.data(), pristine.data(), ns.SizeBytes());
      CrashingNamespace crashing(ns, budget);
      std::map<uint64_t, std::vector<std::vector<std::byte>>> allowed;  // lba -> candidates
      std::map<uint64_t, std::vector<std::byte>> done;
      {
        auto btt = Btt::Open(crashing);
        ASSERT_TRUE(btt.ok());
        for (const Op& op : ops) {
          const uint64_t before = crashing.stores();
          const auto value =
              op.version ? Pattern(op.lba, op.version, 512) : std::vector<std::byte>(512);
          Status s = op.version ? (*btt)->Write(ExternalLba(op.lba), value)
                                : (*btt)->Zero(ExternalLba(op.lba));
          ASSERT_TRUE(s.ok());
          if (crashing.stores() <= budget) {
            done[op.lba] = value;
          } else {
            if (before < budget) allowed[op.lba].push_back(value);  // in flight at the crash
            break;
          }
        }
      }
      auto btt = Btt::Open(ns);
      ASSERT_TRUE(btt.ok()) << btt.status().ToString();
      for (uint64_t lba : {3, 4, 5}) {
        auto& cands = allowed[lba];
        cands.push_back(done.count(lba) ? done[lba] : std::vector<std::byte>(512));
        const auto got = ReadSector(**btt, lba);
        EXPECT_TRUE(std::find(cands.begin(), cands.end(), got) != cands.end()) << "lba " << lba;
      }
      auto report = (*btt)->Check(false);
      ASSERT_TRUE(report.ok());
      EXPECT_TRUE(report->Clean()) << report->ToString();
      if (crashing.stores() <= budget) break;  // the whole sequence completed
    }
  }
}

TEST(BttRecovery, PreKernel415FlogLayoutIsDetectedAndKept) {
  // Build a (0,2) image: run writes in (0,1), then move every lane's slot 1 to slot 2.
  MemoryNamespace ns(17 * kMiB);
  FormatOptions f = Opts(Profile::kUefi, 8);
  f.external_lbasize = 4096;
  ASSERT_TRUE(Btt::Format(ns, f).ok());
  {
    auto btt = Btt::Open(ns);
    ASSERT_TRUE(btt.ok());
    for (uint64_t i = 0; i < 5; ++i) {
      ASSERT_TRUE((*btt)->Write(ExternalLba(i), Pattern(i, 1, 4096)).ok());
    }
  }
  auto geo = ComputeGeometry(Profile::kUefi, ns.SizeBytes(), 4096, 8);
  std::byte* flog = ns.data() + geo->arenas[0].flogoff;
  for (int lane = 0; lane < 8; ++lane) {
    std::memcpy(flog + lane * 64 + 32, flog + lane * 64 + 16, 16);
    std::memset(flog + lane * 64 + 16, 0, 16);
  }
  auto btt = Btt::Open(ns);
  ASSERT_TRUE(btt.ok()) << btt.status().ToString();
  EXPECT_EQ((*btt)->FlogIndices(0), (std::array<uint32_t, 2>{0, 2}));
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(ReadSector(**btt, i), Pattern(i, 1, 4096));
  for (uint64_t round = 2; round < 6; ++round) {
    for (uint64_t i = 0; i < 5; ++i) {
      ASSERT_TRUE((*btt)->Write(ExternalLba(i), Pattern(i, round, 4096)).ok());
    }
  }
  EXPECT_TRUE((*btt)->Check(false)->Clean());
  btt->reset();
  for (int lane = 0; lane < 8; ++lane) {
    FlogSlot s1;
    std::memcpy(&s1, flog + lane * 64 + 16, 16);
    EXPECT_TRUE(s1.IsPadding()) << "lane " << lane << " wrote slot 1 in a (0,2) log";
  }
  auto reopened = Btt::Open(ns);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->FlogIndices(0), (std::array<uint32_t, 2>{0, 2}));
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(ReadSector(**reopened, i), Pattern(i, 5, 4096));
}

TEST(BttRecovery, KernelStyleAndPmdkStyleFlogValuesAreBothMasked) {
  // A pmemblk-profile image logs flagged values (Z in the initial entries, NORMAL in used ones);
  // reading it with the flags masked must give in-range free blocks and working writes.
  MemoryNamespace ns(17 * kMiB);
  ASSERT_TRUE(Btt::Format(ns, Opts(Profile::kPmemblk, 4)).ok());
  auto geo = ComputeGeometry(Profile::kPmemblk, ns.SizeBytes(), 512, 4);
  FlogSlot s0;
  std::memcpy(&s0, ns.data() + kPmemblkBttOffset + geo->arenas[0].flogoff, 16);
  EXPECT_EQ(s0.old_map, (geo->arenas[0].external_nlba + 0) | kMapZeroFlag);
  auto btt = Btt::Open(ns);
  ASSERT_TRUE(btt.ok());
  EXPECT_EQ((*btt)->FreeBlockForTest(0, Lane(0)).value(), geo->arenas[0].external_nlba);
  for (uint64_t i = 0; i < 8; ++i)
    ASSERT_TRUE((*btt)->Write(ExternalLba(i), Pattern(i, 1, 512)).ok());
  EXPECT_TRUE((*btt)->Check(false)->Clean());
}

}  // namespace
}  // namespace tearproof::btt
