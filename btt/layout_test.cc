// Layout tests: geometry against the worked examples and ndctl golden capacities of
// btt-format.md §1.4 (INV-INFO-GEOMETRY, INV-INFO-NLBA, INV-INFO-NEXTOFF), internal block sizes
// per profile, the info-block checksum (INV-INFO-CHECKSUM), flog slot-layout detection
// (INV-FLOG-LAYOUT) and the seq rules (INV-FLOG-SEQ).
#include "btt/layout.h"

#include <gtest/gtest.h>

#include <cstring>

namespace tearproof::btt {
namespace {

constexpr uint64_t kMiB = 1ULL << 20;
constexpr uint64_t kGiB = 1ULL << 30;

TEST(BttLayout, InternalLbaSizesFollowEachProfile) {
  const uint32_t ext[] = {512, 520, 528, 4096, 4104, 4160, 4224};
  const uint32_t kernel[] = {512, 576, 576, 4096, 4160, 4160, 4224};
  const uint32_t pmdk[] = {512, 768, 768, 4096, 4352, 4352, 4352};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(*InternalLbaSizeFor(Profile::kLinux, ext[i]), kernel[i]);
    EXPECT_EQ(*InternalLbaSizeFor(Profile::kUefi, ext[i]), kernel[i]);
    EXPECT_EQ(*InternalLbaSizeFor(Profile::kPmemblk, ext[i]), pmdk[i]);
  }
  EXPECT_EQ(*InternalLbaSizeFor(Profile::kPmemblk, 100), 512u);
  EXPECT_FALSE(InternalLbaSizeFor(Profile::kLinux, 1024).ok());
}

struct Golden {
  Profile profile;
  uint64_t ns_size;
  uint32_t ext;
  uint32_t internal_nlba;
  uint32_t external_nlba;
  uint64_t mapoff, flogoff, infooff;
};

TEST(BttLayout, GeometryMatchesWorkedExamples) {
  const Golden cases[] = {
      // ndctl pad image: kernel v2.0, 64 MiB, 4K.
      {Profile::kUefi, 64 * kMiB, 4096, 16361, 16105, 0x3feb000, 0x3ffb000, 0x3fff000},
      // pmempool create blk 512, 64 MiB pool.
      {Profile::kPmemblk, 64 * kMiB, 512, 129984, 129728, 0x3f7a000, 0x3ff9000, 0x3ffd000},
      // kernel v1.1, 64 MiB namespace, 512 and 520.
      {Profile::kLinux, 64 * kMiB, 512, 129992, 129736, 66564096, 67084288, 67100672},
      {Profile::kLinux, 64 * kMiB, 520, 115648, 115392, 66621440, 67084288, 67100672},
      // PMDK pool 64 MiB, bsize 520.
      {Profile::kPmemblk, 64 * kMiB, 520, 86880, 86624, 66732032, 67080192, 67096576},
  };
  for (const Golden& c : cases) {
    SCOPED_TRACE(std::string(ProfileName(c.profile)) + " " + std::to_string(c.ext));
    auto geo = ComputeGeometry(c.profile, c.ns_size, c.ext, 256);
    ASSERT_TRUE(geo.ok()) << geo.status().ToString();
    ASSERT_EQ(geo->arenas.size(), 1u);
    const ArenaGeometry& a = geo->arenas[0];
    EXPECT_EQ(a.internal_nlba, c.internal_nlba);
    EXPECT_EQ(a.external_nlba, c.external_nlba);
    EXPECT_EQ(a.dataoff, 4096u);
    EXPECT_EQ(a.mapoff, c.mapoff);
    EXPECT_EQ(a.flogoff, c.flogoff);
    EXPECT_EQ(a.infooff, c.infooff);
    EXPECT_EQ(a.nextoff, 0u);
  }
}

TEST(BttLayout, CapacityMatchesNdctlGoldenValues) {
  // test/libndctl.c: v2.0 namespaces with 512-class sectors.
  EXPECT_EQ(ComputeGeometry(Profile::kUefi, 18 * kMiB, 512, 256)->external_nlba_total, 36266u);
  EXPECT_EQ(ComputeGeometry(Profile::kUefi, 20 * kMiB, 512, 256)->external_nlba_total, 40330u);
  EXPECT_EQ(ComputeGeometry(Profile::kUefi, 27 * kMiB, 512, 256)->external_nlba_total, 54555u);
  EXPECT_EQ(ComputeGeometry(Profile::kUefi, 18 * kMiB, 512, 256)->external_nlba_total * 512,
            0x11b5400u);
}

TEST(BttLayout, MultiArenaGeometryFollowsTheTailRule) {
  // 1 TiB + 16 MiB: two full arenas and a 16 MiB tail.
  auto geo = ComputeGeometry(Profile::kUefi, 1024 * kGiB + 16 * kMiB, 4096, 256);
  ASSERT_TRUE(geo.ok());
  ASSERT_EQ(geo->arenas.size(), 3u);
  EXPECT_EQ(geo->arenas[0].nextoff, 512 * kGiB);
  EXPECT_EQ(geo->arenas[1].nextoff, 512 * kGiB);
  EXPECT_EQ(geo->arenas[2].nextoff, 0u);
  EXPECT_EQ(geo->arenas[1].offset, 512 * kGiB);
  EXPECT_EQ(geo->arenas[2].size, 16 * kMiB);
  for (const ArenaGeometry& a : geo->arenas) {
    EXPECT_EQ(a.infooff + 4096, a.size);
    EXPECT_EQ(a.internal_nlba, a.external_nlba + 256);
  }
  // 1 TiB + 16 MiB - 4 KiB: the tail is below 16 MiB and is dropped.
  auto geo2 = ComputeGeometry(Profile::kUefi, 1024 * kGiB + 16 * kMiB - 4096, 4096, 256);
  ASSERT_TRUE(geo2.ok());
  ASSERT_EQ(geo2->arenas.size(), 2u);
  EXPECT_EQ(geo2->arenas[1].nextoff, 0u);
  // A full 512 GiB arena of 512-byte sectors still fits the 30-bit postmap field.
  auto geo3 = ComputeGeometry(Profile::kUefi, 512 * kGiB, 512, 256);
  ASSERT_TRUE(geo3.ok());
  EXPECT_LT(geo3->arenas[0].internal_nlba, 1u << 30);
  EXPECT_GT(uint64_t{geo3->arenas[0].internal_nlba} * 512, 4 * kGiB);
}

TEST(BttLayout, InfoBlockDecodesToTheGeometryItWasMadeFrom) {
  // ArenaGeometryOf is MakeInfoBlock's inverse: Open's view of an arena is the formatter's.
  for (const uint64_t size : {18 * kMiB, 1024 * kGiB + 16 * kMiB}) {
    auto geo = ComputeGeometry(Profile::kLinux, size, 512, 256);
    ASSERT_TRUE(geo.ok());
    for (size_t i = 0; i < geo->arenas.size(); ++i) {
      const ArenaGeometry& want = geo->arenas[i];
      const ArenaGeometry got = ArenaGeometryOf(MakeInfoBlock(*geo, i, {}, {}), want.offset);
      EXPECT_EQ(got.offset, want.offset);
      EXPECT_EQ(got.size, want.size) << "arena " << i;
      EXPECT_EQ(got.external_nlba, want.external_nlba);
      EXPECT_EQ(got.internal_nlba, want.internal_nlba);
      EXPECT_EQ(got.nextoff, want.nextoff);
      EXPECT_EQ(got.dataoff, want.dataoff);
      EXPECT_EQ(got.mapoff, want.mapoff);
      EXPECT_EQ(got.flogoff, want.flogoff);
      EXPECT_EQ(got.infooff, want.infooff);
    }
  }
}

TEST(BttLayout, SmallNamespacesAndSmallNfreeWork) {
  for (uint32_t nfree : {1u, 2u, 4u}) {
    const uint64_t min = MinimumNamespaceSize(Profile::kUefi, 512, nfree);
    EXPECT_EQ(min, 20480u) << nfree;  // 5 pages: info, data, map, flog, backup
    auto geo = ComputeGeometry(Profile::kUefi, min, 512, nfree);
    ASSERT_TRUE(geo.ok());
    EXPECT_GE(geo->arenas[0].external_nlba, 1u);
    EXPECT_FALSE(ComputeGeometry(Profile::kUefi, min - 4096, 512, nfree).ok());
  }
  EXPECT_EQ(MinimumNamespaceSize(Profile::kLinux, 512, 4), 20480u + 4096u);
  EXPECT_FALSE(ComputeGeometry(Profile::kUefi, 1 * kMiB, 512, 0).ok());
}

TEST(BttLayout, InfoBlockChecksumSkipsItsOwnField) {
  auto geo = ComputeGeometry(Profile::kLinux, 64 * kMiB, 512, 256);
  ASSERT_TRUE(geo.ok());
  Uuid u{};
  u[0] = 1;
  InfoBlock info = MakeInfoBlock(*geo, 0, u, Uuid{});
  EXPECT_TRUE(CheckInfoBlockIntegrity(info).ok());
  info.checksum ^= 1;
  EXPECT_NE(CheckInfoBlockIntegrity(info).message().find("INV-INFO-CHECKSUM"), std::string::npos);
  info.checksum ^= 1;
  info.unused[100] = 7;
  EXPECT_FALSE(CheckInfoBlockIntegrity(info).ok());
  info.unused[100] = 0;
  info.sig[0] = 'X';
  EXPECT_NE(CheckInfoBlockIntegrity(info).message().find("INV-INFO-SIG"), std::string::npos);
}

TEST(BttLayout, PoolHeaderChecksumHonoursCksum2K) {
  Uuid a{}, b{};
  a[0] = 1;
  b[0] = 2;
  PoolHeader h = MakePoolHeader(a, b, 1234);
  EXPECT_TRUE(CheckPoolHeader(h).ok());
  EXPECT_EQ(h.alignment_desc, 0x000007f737777310ULL);  // x86-64 golden (btt-format.md §4.1)
  h.unused2[10] = 5;                                   // outside the checksum with CKSUM_2K
  EXPECT_TRUE(CheckPoolHeader(h).ok());
  h.unused[10] = 5;
  EXPECT_FALSE(CheckPoolHeader(h).ok());
}

// A header torn by a crash in format (signature durable, major and checksum not) is corrupt;
// only a whole header with another major is unsupported.
TEST(BttLayout, PoolHeaderTornIsCorruptAndOtherMajorIsUnsupported) {
  Uuid a{}, b{};
  a[0] = 1;
  PoolHeader torn = MakePoolHeader(a, b, 1234);
  torn.major = 0;
  EXPECT_EQ(CheckPoolHeader(torn).code(), StatusCode::kCorruption);
  PoolHeader newer = MakePoolHeader(a, b, 1234);
  newer.major = 2;
  newer.checksum = PoolHeaderChecksum(newer);
  EXPECT_EQ(CheckPoolHeader(newer).code(), StatusCode::kUnsupported);
}

FlogGroup Group(std::initializer_list<std::pair<int, FlogSlot>> slots) {
  FlogGroup g;
  std::memset(&g, 0, sizeof(g));
  for (const auto& [i, s] : slots) g.slot[i] = s;
  return g;
}

TEST(BttLayout, FlogIndicesDetectBothLayouts) {
  const FlogSlot init{0, 10, 10, 1};
  const FlogSlot used{3, 4, 11, 2};
  std::vector<FlogGroup> fresh = {Group({{0, init}}), Group({{0, init}})};
  EXPECT_EQ(*DetectFlogIndices(fresh), (std::array<uint32_t, 2>{0, 1}));
  std::vector<FlogGroup> v01 = {Group({{0, init}}), Group({{0, init}, {1, used}})};
  EXPECT_EQ(*DetectFlogIndices(v01), (std::array<uint32_t, 2>{0, 1}));
  std::vector<FlogGroup> v02 = {Group({{0, init}, {2, used}}), Group({{0, init}})};
  EXPECT_EQ(*DetectFlogIndices(v02), (std::array<uint32_t, 2>{0, 2}));
  std::vector<FlogGroup> mixed = {Group({{0, init}, {2, used}}), Group({{0, init}, {1, used}})};
  EXPECT_FALSE(DetectFlogIndices(mixed).ok());
  std::vector<FlogGroup> odd = {Group({{1, init}, {3, used}})};
  EXPECT_NE(DetectFlogIndices(odd).status().message().find("INV-FLOG-LAYOUT"), std::string::npos);
}

TEST(BttLayout, FlogSeqWrapsFromThreeToOne) {
  EXPECT_EQ(NextSeq(1), 2u);
  EXPECT_EQ(NextSeq(2), 3u);
  EXPECT_EQ(NextSeq(3), 1u);
  EXPECT_EQ(*NewerSlot(1, 2), 1);
  EXPECT_EQ(*NewerSlot(2, 1), 0);
  EXPECT_EQ(*NewerSlot(3, 1), 1);
  EXPECT_EQ(*NewerSlot(1, 3), 0);
  EXPECT_EQ(*NewerSlot(2, 3), 1);
  EXPECT_EQ(*NewerSlot(1, 0), 0);
  EXPECT_EQ(*NewerSlot(0, 2), 1);
  EXPECT_FALSE(NewerSlot(0, 0).ok());
  EXPECT_FALSE(NewerSlot(2, 2).ok());
  EXPECT_FALSE(NewerSlot(1, 4).ok());
}

}  // namespace
}  // namespace tearproof::btt
