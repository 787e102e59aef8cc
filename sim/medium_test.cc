// Unit tests of sim::Medium: every operation, every documented error and no-op, the worked
// examples of docs/persistency.md (exact crash-state sets), crash-state materialization, nested
// and lazy crashes, the event log, and the odometer. Crash-state sets are compared as sets of
// region images (EagerCrashImages), so each test states the exact set a model allows.
#include "sim/medium.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <set>
#include <vector>

#include "sim/crash_chooser.h"
#include "sim/mutant.h"
#include "sim/program.h"
#include "util/endian.h"

namespace tearproof::sim {
namespace {

constexpr LaneId kL0 = Lane(0);
constexpr LaneId kL1 = Lane(1);
constexpr uint64_t kRegion = 128;  // two lines

Medium Make(PersistencyModel model = PersistencyModel::kPx86, uint64_t size = kRegion) {
  Result<Medium> m = Medium::Create({size, model, true});
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

std::vector<std::byte> Bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

std::vector<std::byte> Filled(size_t n, int value) {
  return std::vector<std::byte>(n, static_cast<std::byte>(value));
}

// The crash states of the medium's first kRegion bytes, as word vectors.
std::set<CrashImage> States(const Medium& m) {
  Result<std::set<CrashImage>> s = EagerCrashImages(m, kRegion, 1 << 16);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : std::set<CrashImage>{};
}

// An image of kRegion bytes with the given (word index, value) pairs, zero elsewhere.
CrashImage Image(std::initializer_list<std::pair<int, uint64_t>> words) {
  CrashImage img(kRegion / 8, 0);
  for (auto [i, v] : words) img[i] = v;
  return img;
}

TEST(Medium, CreateRejectsZeroSize) {
  Result<Medium> m = Medium::Create({0, PersistencyModel::kPx86, true});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
}

TEST(Medium, NeverWrittenMemoryReadsZeroAndCrashesToZero) {
  Medium m = Make();
  std::vector<std::byte> out(kRegion, std::byte{0xAA});
  ASSERT_TRUE(m.Load(kL0, 0, out).ok());
  for (std::byte b : out) EXPECT_EQ(b, std::byte{0});
  EXPECT_EQ(States(m), std::set<CrashImage>{Image({})});
  EXPECT_EQ(m.allocated_page_count(), 0u);
}

TEST(Medium, HugeSparseMediumAllocatesOnlyTouchedPages) {
  const uint64_t size = uint64_t{4} << 30;  // 4 GiB
  Medium m = Make(PersistencyModel::kPx86, size);
  ASSERT_TRUE(m.Store64(kL0, size - 8, 0x1122334455667788ULL).ok());
  ASSERT_TRUE(m.Store64(kL0, 0, 7).ok());
  EXPECT_EQ(m.allocated_page_count(), 2u);
  EXPECT_EQ(*m.Load64(kL0, size - 8), 0x1122334455667788ULL);
  EXPECT_EQ(*m.Load64(kL0, size / 2), 0u);
  Medium crashed = m.MaterializeCrash(m.GuaranteedState());
  EXPECT_EQ(*crashed.Load64(kL0, size - 8), 0u);
  EXPECT_EQ(crashed.pending_line_count(), 0u);
}

TEST(Medium, LoadSeesLatestStoreOfAnySizeAndAlignment) {
  Medium m = Make(PersistencyModel::kPx86, 3 * kPageBytes);
  std::vector<std::byte> data(300);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + 1);
  const uint64_t addr = kPageBytes - 101;  // straddles words, lines and a page boundary
  ASSERT_TRUE(m.Store(kL0, addr, data).ok());
  ASSERT_TRUE(m.Store(kL1, addr + 3, Bytes({9})).ok());
  data[3] = std::byte{9};
  std::vector<std::byte> out(data.size());
  ASSERT_TRUE(m.Load(kL1, addr, out).ok());
  EXPECT_EQ(out, data);
  ASSERT_TRUE(m.Load(kL0, addr - 1, std::span(out).first(1)).ok());
  EXPECT_EQ(out[0], std::byte{0});
}

TEST(Medium, OutOfRangeAccessesFailAndChangeNothing) {
  Medium m = Make();
  std::vector<std::byte> buf(16);
  EXPECT_EQ(m.Load(kL0, kRegion - 8, buf).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m.Store(kL0, kRegion - 8, buf).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m.StoreNt(kL0, kRegion, std::span(buf).first(1)).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m.Store(kL0, UINT64_MAX - 2, buf).code(), StatusCode::kOutOfRange);  // no overflow
  EXPECT_EQ(m.Clflush(kL0, kRegion).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m.Clflushopt(kL0, kRegion).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m.Clwb(kL0, kRegion).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m.ClwbRange(kL0, 64, 65).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m.ClflushRange(kL0, 0, kRegion + 1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m.ClflushoptRange(kL0, kRegion + 1, 0).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m.Persist(kL0, 1, kRegion).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(m.events().empty());
  EXPECT_EQ(m.allocated_page_count(), 0u);
}

TEST(Medium, LaneOutOfRangeIsInvalidArgument) {
  Medium m = Make();
  const LaneId bad = Lane(kMaxLanes);
  EXPECT_EQ(m.Store64(bad, 0, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.Sfence(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.Clwb(bad, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(m.events().empty());
}

TEST(Medium, ZeroLengthOperationsAreUnrecordedNoOps) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 5).ok());
  const size_t events = m.events().size();
  EXPECT_TRUE(m.Store(kL0, kRegion, {}).ok());  // zero bytes at the very end is in range
  EXPECT_TRUE(m.StoreNt(kL0, 3, {}).ok());
  EXPECT_TRUE(m.Load(kL0, kRegion, {}).ok());
  EXPECT_TRUE(m.ClwbRange(kL0, 0, 0).ok());
  EXPECT_TRUE(m.ClflushRange(kL0, 0, 0).ok());
  EXPECT_TRUE(m.ClflushoptRange(kL0, 0, 0).ok());
  EXPECT_TRUE(m.Persist(kL0, 0, 0).ok());  // not even the fence
  EXPECT_EQ(m.events().size(), events);
  EXPECT_EQ(m.CrashSpace().count, 2u);  // the store is still unguaranteed
}

TEST(Medium, FlushOfCleanLineAndIdleFenceAreRecordedNoOps) {
  Medium m = Make();
  ASSERT_TRUE(m.Clwb(kL0, 0).ok());
  ASSERT_TRUE(m.Clflushopt(kL0, 64).ok());
  ASSERT_TRUE(m.Clflush(kL0, 127).ok());
  ASSERT_TRUE(m.Sfence(kL0).ok());
  ASSERT_TRUE(m.Mfence(kL1).ok());
  EXPECT_EQ(m.events().size(), 5u);
  EXPECT_EQ(m.pending_line_count(), 0u);
  EXPECT_EQ(m.allocated_page_count(), 0u);
  EXPECT_EQ(States(m), std::set<CrashImage>{Image({})});
}

TEST(Medium, StoreClwbSfenceIsInEveryCrashState) {
  for (PersistencyModel model : kAllPersistencyModels) {
    Medium m = Make(model);
    ASSERT_TRUE(m.Store(kL0, 60, Filled(8, 0x11)).ok());  // straddles both lines
    ASSERT_TRUE(m.Persist(kL0, 60, 8).ok());
    EXPECT_EQ(m.pending_line_count(), 0u) << PersistencyModelName(model);
    EXPECT_EQ(States(m).size(), 1u);
  }
}

TEST(Medium, RangeFlushHelpersCoverEveryTouchedLine) {
  for (EventKind kind : {EventKind::kClwb, EventKind::kClflushopt, EventKind::kClflush}) {
    Medium m = Make();
    ASSERT_TRUE(m.Store(kL0, 56, Filled(16, 9)).ok());  // lines 0 and 1
    Status s = kind == EventKind::kClwb         ? m.ClwbRange(kL1, 60, 8)
               : kind == EventKind::kClflushopt ? m.ClflushoptRange(kL1, 60, 8)
                                                : m.ClflushRange(kL1, 60, 8);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(m.events().size(), 3u);  // the store and one flush per line
    EXPECT_EQ(m.events()[1].addr, 60u);
    EXPECT_EQ(m.events()[2].addr, 64u);
    // clflush needs no fence; the others need lane 1's.
    EXPECT_EQ(States(m).size(), kind == EventKind::kClflush ? 1u : 4u) << EventKindName(kind);
    ASSERT_TRUE(m.Sfence(kL1).ok());
    EXPECT_EQ(States(m).size(), 1u);
  }
}

TEST(Medium, Px86CountIsAnUpperBoundWhenALineMixesManyNtStores) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 100).ok());  // one cached piece: two prefixes
  for (int round = 1; round <= 3; ++round) {
    for (int w = 0; w < 8; ++w) ASSERT_TRUE(m.StoreNt(kL1, 8 * w, Filled(8, round * 16 + w)).ok());
  }
  const CrashSpaceSize space = m.CrashSpace();
  EXPECT_FALSE(space.exact);
  // Exactly: word 0 has 5 candidates (0, 100, three NT values), the others 4 each.
  EXPECT_GE(space.count, 5u * 16384u);
  EXPECT_EQ(space.count, 2u * 65536u);  // Σ over the two prefixes of 4^8
}

TEST(Medium, ClwbWithoutFenceGuaranteesNothing) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
  ASSERT_TRUE(m.Clwb(kL0, 0).ok());
  EXPECT_EQ(States(m), (std::set<CrashImage>{Image({}), Image({{0, 1}})}));
}

TEST(Medium, FenceOfAnotherLaneDoesNotCompleteAClwb) {
  for (EventKind flush : {EventKind::kClwb, EventKind::kClflushopt}) {
    Medium m = Make();
    ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
    ASSERT_TRUE(m.Apply(FlushEvent(kL0, flush, 0)).ok());
    ASSERT_TRUE(m.Sfence(kL1).ok());
    EXPECT_EQ(States(m).size(), 2u);
    ASSERT_TRUE(m.Mfence(kL0).ok());  // mfence completes it like sfence
    EXPECT_EQ(States(m), std::set<CrashImage>{Image({{0, 1}})});
  }
}

TEST(Medium, ClwbSnapshotExcludesLaterStores) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
  ASSERT_TRUE(m.Clwb(kL0, 0).ok());
  ASSERT_TRUE(m.Store64(kL1, 8, 2).ok());
  ASSERT_TRUE(m.Sfence(kL0).ok());
  EXPECT_EQ(States(m), (std::set<CrashImage>{Image({{0, 1}}), Image({{0, 1}, {1, 2}})}));
}

TEST(Medium, ClflushIsGuaranteedWithoutFence) {
  Medium m = Make(PersistencyModel::kWord8);
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
  ASSERT_TRUE(m.Store64(kL1, 8, 2).ok());
  ASSERT_TRUE(m.Clflush(kL1, 0).ok());
  ASSERT_TRUE(m.Store64(kL0, 64, 3).ok());
  EXPECT_EQ(States(m),
            (std::set<CrashImage>{Image({{0, 1}, {1, 2}}), Image({{0, 1}, {1, 2}, {8, 3}})}));
}

TEST(Medium, NonTemporalStoreIsLostUntilItsLanesFence) {
  for (PersistencyModel model : kAllPersistencyModels) {
    Medium m = Make(model);
    ASSERT_TRUE(m.StoreNt(kL0, 8, Filled(8, 0x22)).ok());
    ASSERT_TRUE(m.Clflush(kL0, 8).ok());  // flushes do not drain write-combining buffers
    ASSERT_TRUE(m.Sfence(kL1).ok());       // nor do other lanes' fences
    EXPECT_EQ(States(m).size(), 2u) << PersistencyModelName(model);
    ASSERT_TRUE(m.Sfence(kL0).ok());
    EXPECT_EQ(States(m), std::set<CrashImage>{Image({{1, 0x2222222222222222ULL}})});
  }
}

TEST(Medium, SubWordStoreMakesAWholeWordCandidate) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 0x1111111111111111ULL).ok());
  ASSERT_TRUE(m.Persist(kL0, 0, 8).ok());
  ASSERT_TRUE(m.Store(kL0, 2, Bytes({0xAA, 0xBB})).ok());
  EXPECT_EQ(m.WordCandidates(0),
            (std::vector<uint64_t>{0x1111111111111111ULL, 0x11111111BBAA1111ULL}));
  EXPECT_EQ(States(m), (std::set<CrashImage>{Image({{0, 0x1111111111111111ULL}}),
                                             Image({{0, 0x11111111BBAA1111ULL}})}));
}

TEST(Medium, UnalignedEightByteStoreTearsAtTheWordBoundary) {
  Medium m = Make(PersistencyModel::kWord8);
  ASSERT_TRUE(m.Store(kL0, 4, Filled(8, 0xFF)).ok());
  EXPECT_EQ(States(m), (std::set<CrashImage>{Image({}), Image({{0, 0xFFFFFFFF00000000ULL}}),
                                             Image({{1, 0xFFFFFFFFULL}}),
                                             Image({{0, 0xFFFFFFFF00000000ULL}, {1, 0xFFFFFFFFULL}})}));
}

TEST(Medium, AlignedEightByteStoreNeverTears) {
  for (PersistencyModel model : kAllPersistencyModels) {
    Medium m = Make(model);
    ASSERT_TRUE(m.Store64(kL0, 16, 0x0102030405060708ULL).ok());
    ASSERT_TRUE(m.Store64(kL0, 16, 0xA1A2A3A4A5A6A7A8ULL).ok());
    for (const CrashImage& img : States(m)) {
      EXPECT_TRUE(img[2] == 0 || img[2] == 0x0102030405060708ULL || img[2] == 0xA1A2A3A4A5A6A7A8ULL);
    }
  }
}

// docs/persistency.md example 1: two stores to one line, no flush.
TEST(Medium, WorkedExampleTwoStoresOneLine) {
  const std::set<CrashImage> px86 = {Image({}), Image({{0, 1}}), Image({{0, 1}, {1, 2}})};
  const std::set<CrashImage> word8 = {Image({}), Image({{0, 1}}), Image({{1, 2}}),
                                      Image({{0, 1}, {1, 2}})};
  const std::set<CrashImage> eadr = {Image({{0, 1}, {1, 2}})};
  for (PersistencyModel model : kAllPersistencyModels) {
    Medium m = Make(model);
    ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
    ASSERT_TRUE(m.Store64(kL0, 8, 2).ok());
    const std::set<CrashImage> expected = model == PersistencyModel::kPx86    ? px86
                                          : model == PersistencyModel::kWord8 ? word8
                                                                              : eadr;
    EXPECT_EQ(States(m), expected) << PersistencyModelName(model);
    EXPECT_EQ(m.CrashSpace().count, expected.size());
  }
}

// docs/persistency.md example 2: two stores to different lines are independent under px86.
TEST(Medium, WorkedExampleTwoLinesAreIndependent) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
  ASSERT_TRUE(m.Store64(kL0, 64, 2).ok());
  EXPECT_EQ(States(m), (std::set<CrashImage>{Image({}), Image({{0, 1}}), Image({{8, 2}}),
                                             Image({{0, 1}, {8, 2}})}));
}

// docs/persistency.md example 3: the same word stored twice keeps store order.
TEST(Medium, WorkedExampleOverwriteKeepsOrder) {
  for (PersistencyModel model : {PersistencyModel::kPx86, PersistencyModel::kWord8}) {
    Medium m = Make(model);
    ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
    ASSERT_TRUE(m.Store64(kL0, 8, 2).ok());
    ASSERT_TRUE(m.Store64(kL0, 0, 3).ok());
    std::set<CrashImage> expected = {Image({}), Image({{0, 1}}), Image({{0, 1}, {1, 2}}),
                                     Image({{0, 3}, {1, 2}})};
    if (model == PersistencyModel::kWord8) {
      expected.insert({Image({{1, 2}}), Image({{0, 3}}), Image({{0, 3}})});
    }
    EXPECT_EQ(States(m), expected) << PersistencyModelName(model);
  }
}

TEST(Medium, EadrLosesOnlyUnfencedNonTemporalStores) {
  Medium m = Make(PersistencyModel::kEadr);
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
  ASSERT_TRUE(m.StoreNt(kL1, 8, Filled(8, 2)).ok());
  ASSERT_TRUE(m.Store64(kL0, 64, 3).ok());
  EXPECT_EQ(States(m), (std::set<CrashImage>{Image({{0, 1}, {8, 3}}),
                                             Image({{0, 1}, {1, 0x0202020202020202ULL}, {8, 3}})}));
}

TEST(Medium, CachedStoreAfterNtStoreToTheSameWordWins) {
  Medium m = Make(PersistencyModel::kEadr);
  ASSERT_TRUE(m.StoreNt(kL1, 8, Filled(8, 2)).ok());
  ASSERT_TRUE(m.Store64(kL0, 8, 5).ok());  // eADR: durable now, later than the NT store
  EXPECT_EQ(States(m), std::set<CrashImage>{Image({{1, 5}})});
}

TEST(Medium, HugeCrashSpacesSaturateButKeepLog2) {
  Medium px86 = Make(PersistencyModel::kPx86, 8192);
  Medium word8 = Make(PersistencyModel::kWord8, 8192);
  for (Medium* m : {&px86, &word8}) ASSERT_TRUE(m->Store(kL0, 0, Filled(4096, 7)).ok());
  const CrashSpaceSize p = px86.CrashSpace();
  const CrashSpaceSize w = word8.CrashSpace();
  EXPECT_TRUE(p.saturated && w.saturated && p.exact && w.exact);
  EXPECT_EQ(p.count, UINT64_MAX);
  EXPECT_NEAR(p.log2, 64 * std::log2(9.0), 1e-6);  // 64 lines, 9 prefixes each
  EXPECT_NEAR(w.log2, 512.0, 1e-6);                 // 512 words, 2 candidates each
}

TEST(Medium, EventLogRecordsAndReplays) {
  Medium m = Make();
  ASSERT_TRUE(m.Store(kL1, 3, Bytes({1, 2, 3})).ok());
  ASSERT_TRUE(m.StoreNt(kL0, 8, Filled(8, 4)).ok());
  ASSERT_TRUE(m.Persist(kL1, 0, 100).ok());  // clwb, clwb, sfence
  ASSERT_TRUE(m.Clflush(kL0, 70).ok());
  ASSERT_TRUE(m.Clflushopt(kL0, 70).ok());
  ASSERT_TRUE(m.Mfence(kL0).ok());
  ASSERT_EQ(m.events().size(), 8u);
  EXPECT_EQ(m.events()[2].kind, EventKind::kClwb);
  EXPECT_EQ(m.events()[3].addr, 64u);
  EXPECT_EQ(m.events()[7].seq, 7u);
  EXPECT_EQ(m.events()[0].ToString(), "#0 lane 1 store addr 0x3 size 3 data 010203");
  Medium replay = Make();
  ASSERT_TRUE(RunProgram(replay, m.events()).ok());
  EXPECT_EQ(replay.events(), m.events());
  EXPECT_EQ(States(replay), States(m));

  Medium quiet = Make();
  quiet.set_event_log_enabled(false);
  ASSERT_TRUE(RunProgram(quiet, m.events()).ok());
  EXPECT_TRUE(quiet.events().empty());
  EXPECT_EQ(quiet.event_count(), 8u);
}

TEST(Medium, DrawnCrashStatesAreDeterministicAndAmongTheEnumerated) {
  Medium m = Make();
  ASSERT_TRUE(m.Store(kL0, 0, Filled(24, 1)).ok());
  ASSERT_TRUE(m.StoreNt(kL1, 64, Filled(16, 2)).ok());
  const std::set<CrashImage> all = States(m);
  std::set<CrashImage> drawn;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Medium a = m.MaterializeCrash(m.DrawCrashState(seed));
    Medium b = m.MaterializeCrash(m.DrawCrashState(seed));
    const CrashImage ia = *RegionImage(a, kRegion);
    EXPECT_EQ(ia, *RegionImage(b, kRegion));
    EXPECT_TRUE(all.count(ia));
    drawn.insert(ia);
  }
  EXPECT_EQ(drawn.size(), all.size());  // 4 prefixes x 4 NT subsets, all hit in 200 draws
}

TEST(Medium, CrashMediumIsFreshAndIndependentOfItsParent) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
  ASSERT_TRUE(m.Clwb(kL0, 0).ok());
  Medium crashed = m.MaterializeCrash(m.GuaranteedState());
  EXPECT_EQ(crashed.pending_line_count(), 0u);
  EXPECT_TRUE(crashed.events().empty());
  EXPECT_EQ(*crashed.Load64(kL0, 0), 0u);
  ASSERT_TRUE(crashed.Sfence(kL0).ok());  // the parent's clwb does not carry over
  EXPECT_EQ(crashed.CrashSpace().count, 1u);
  // Copy-on-write both ways.
  ASSERT_TRUE(crashed.Store64(kL0, 0, 9).ok());
  EXPECT_EQ(*m.Load64(kL0, 0), 1u);
  ASSERT_TRUE(m.Store64(kL0, 0, 2).ok());
  EXPECT_EQ(*crashed.Load64(kL0, 0), 9u);
}

TEST(Medium, NestedCrashDuringRecovery) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
  ASSERT_TRUE(m.Persist(kL0, 0, 8).ok());
  ASSERT_TRUE(m.Store64(kL0, 0, 2).ok());
  // Crash with the new value persisted, then "recovery" rewrites and crashes again.
  Medium first = m.MaterializeCrash(m.DrawCrashState(0));
  const uint64_t v = *first.Load64(kL0, 0);
  ASSERT_TRUE(v == 1 || v == 2);
  ASSERT_TRUE(first.Store64(kL0, 8, 7).ok());
  const std::set<CrashImage> second = States(first);
  EXPECT_EQ(second, (std::set<CrashImage>{Image({{0, v}}), Image({{0, v}, {1, 7}})}));
}

TEST(Medium, LazyCrashBranchesOnlyOnWordsRead) {
  Medium m = Make(PersistencyModel::kWord8);
  ASSERT_TRUE(m.Store(kL0, 0, Filled(kRegion, 3)).ok());  // 16 words, 2^16 crash states
  auto odometer = std::make_shared<OdometerChooser>();
  std::set<uint64_t> seen;
  do {
    Medium crashed = m.LazyCrash(odometer);
    seen.insert(*crashed.Load64(kL0, 72));  // recovery reads one word
  } while (odometer->Advance());
  EXPECT_EQ(odometer->runs(), 2u);
  EXPECT_EQ(seen, (std::set<uint64_t>{0, 0x0303030303030303ULL}));
  EXPECT_EQ(m.CrashSpace().count, uint64_t{1} << 16);
}

TEST(Medium, LazyPx86ResolutionRespectsThePrefixRule) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
  ASSERT_TRUE(m.Store64(kL0, 8, 2).ok());
  std::set<std::pair<uint64_t, uint64_t>> seen;
  auto odometer = std::make_shared<OdometerChooser>();
  do {
    Medium crashed = m.LazyCrash(odometer);
    const uint64_t second = *crashed.Load64(kL0, 8);  // read the later store first
    const uint64_t first = *crashed.Load64(kL0, 0);
    seen.insert({first, second});
  } while (odometer->Advance());
  // If the second store persisted, the first did too: (0, 2) is impossible.
  EXPECT_EQ(seen, (std::set<std::pair<uint64_t, uint64_t>>{{0, 0}, {1, 0}, {1, 2}}));
  EXPECT_EQ(odometer->runs(), 3u);
}

TEST(Medium, LazyLineIsResolvedByAStoreAndCrashesAgain) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());
  ASSERT_TRUE(m.Store64(kL0, 8, 2).ok());
  ASSERT_TRUE(m.Store64(kL0, 64, 5).ok());
  Medium crashed = m.LazyCrash(std::make_shared<FixedChooser>(UINT32_MAX));  // latest values
  EXPECT_EQ(crashed.unresolved_line_count(), 2u);
  ASSERT_TRUE(crashed.Store(kL0, 16, Bytes({9})).ok());  // resolves line 0 entirely
  EXPECT_EQ(crashed.unresolved_line_count(), 1u);
  EXPECT_EQ(*crashed.Load64(kL0, 8), 2u);
  // Nested lazy crash: line 1 stays lazy (still chosen by the first chooser), line 0 is pending.
  Medium again = crashed.LazyCrash(std::make_shared<FixedChooser>(0));
  EXPECT_EQ(*again.Load64(kL0, 16), 0u);
  EXPECT_EQ(*again.Load64(kL0, 0), 1u);
  EXPECT_EQ(*again.Load64(kL0, 64), 5u);
}

TEST(Medium, NestedCrashesShareTheResolutionOfTheirParentCrash) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 0, 1).ok());  // unguaranteed: 0 or 1 after a crash
  auto outer = std::make_shared<OdometerChooser>();
  std::set<uint64_t> seen;
  do {
    Medium crashed = m.LazyCrash(outer);
    ASSERT_TRUE(crashed.Store64(kL0, 64, 7).ok());  // "recovery" writes elsewhere
    // Nested crashes read the word first: it is resolved once, for the first crash.
    uint64_t first = 0;
    for (int i = 0; i < 3; ++i) {
      Medium again = crashed.LazyCrash(std::make_shared<FixedChooser>(UINT32_MAX));
      const uint64_t v = *again.Load64(kL0, 0);
      if (i == 0) first = v;
      EXPECT_EQ(v, first);
    }
    EXPECT_EQ(*crashed.Load64(kL0, 0), first);  // the parent sees the same value
    EXPECT_EQ(outer->choices().size(), 1u);
    seen.insert(first);
  } while (outer->Advance());
  EXPECT_EQ(seen, (std::set<uint64_t>{0, 1}));
  EXPECT_EQ(outer->runs(), 2u);
}

TEST(Medium, MaterializedCrashKeepsEarlierLazyWordsLazy) {
  Medium m = Make();
  ASSERT_TRUE(m.Store64(kL0, 64, 5).ok());
  Medium crashed = m.LazyCrash(std::make_shared<FixedChooser>(1));
  ASSERT_TRUE(crashed.Store64(kL0, 0, 4).ok());
  Medium again = crashed.MaterializeCrash(crashed.GuaranteedState());
  EXPECT_EQ(*again.Load64(kL0, 0), 0u);
  EXPECT_EQ(*again.Load64(kL0, 64), 5u);
}

TEST(OdometerChooser, VisitsEveryCombinationDepthFirst) {
  OdometerChooser odo;
  std::vector<std::vector<uint32_t>> runs;
  do {
    std::vector<uint32_t> run;
    run.push_back(odo.Choose(0, 2));
    if (run[0] == 1) run.push_back(odo.Choose(8, 3));  // branching depends on what was read
    runs.push_back(run);
  } while (odo.Advance());
  EXPECT_EQ(runs, (std::vector<std::vector<uint32_t>>{{0}, {1, 0}, {1, 1}, {1, 2}}));
  EXPECT_EQ(odo.runs(), 4u);
  EXPECT_FALSE(odo.Advance());
}

TEST(Mutant, NamesRoundTripAndDefaultIsNone) {
  for (const char* name : {"none", "clflush-unordered", "px86-no-prefix", "nt-durable",
                           "wide-store-atomic", "sfence-all-lanes"}) {
    ASSERT_TRUE(ParseMutant(name).has_value()) << name;
    EXPECT_STREQ(MutantName(*ParseMutant(name)), name);
  }
  EXPECT_FALSE(ParseMutant("bogus").has_value());
}

TEST(PersistencyModelName, RoundTrips) {
  for (PersistencyModel m : kAllPersistencyModels) {
    EXPECT_EQ(ParsePersistencyModel(PersistencyModelName(m)), m);
  }
  EXPECT_FALSE(ParsePersistencyModel("tso").has_value());
  EXPECT_EQ(ParseEventKind("store_nt"), EventKind::kStoreNt);
}

}  // namespace
}  // namespace tearproof::sim
