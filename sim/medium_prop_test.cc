// RapidCheck properties of sim::Medium and the differential test against the reference
// enumerator. Invariants checked (names as in docs/persistency.md):
//   INV-SIM-PERSIST        after store; clwb; sfence the store is in every crash state;
//   INV-SIM-NO-THIN-AIR    every post-crash word is a value the word held at some point, so an
//                          aligned 8-byte store never appears torn;
//   INV-SIM-TEAR-8         a 4 KiB store without fence can tear at 8-byte boundaries under px86
//                          and word8, never under eadr;
//   INV-SIM-PX86-PREFIX    a px86 line persists as a store-order prefix of its stores;
//   INV-SIM-CLFLUSH        clflush is ordered with later stores without a fence;
//   INV-SIM-NT             non-temporal stores may be lost until their lane fences;
//   INV-SIM-INCLUSION      eadr ⊆ px86 ⊆ word8 on random programs;
//   INV-SIM-LAZY           lazy view resolutions == eager enumeration (also for partial reads);
//   INV-SIM-REFERENCE      the medium's crash states == the reference enumerator's, all models.
// Programs come from a seed (RandomProgram) so that every counterexample is one number.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <set>
#include <vector>

#include "sim/medium.h"
#include "sim/program.h"
#include "sim/reference_model.h"
#include "sim/self_check.h"
#include "util/endian.h"
#include "util/prng.h"

namespace tearproof::sim {
namespace {

constexpr uint64_t kRegion = 192;
constexpr uint64_t kMaxStates = uint64_t{1} << 16;

PersistencyModel GenModel() {
  return *rc::gen::element(PersistencyModel::kPx86, PersistencyModel::kWord8,
                           PersistencyModel::kEadr);
}

Medium Make(PersistencyModel model, uint64_t size = kRegion) {
  Result<Medium> m = Medium::Create({size, model, true});
  RC_ASSERT(m.ok());
  return std::move(m).value();
}

std::vector<Event> Program(uint64_t seed, bool non_temporal = true, uint32_t max_stores = 10) {
  Prng prng(seed);
  ProgramOptions options;
  options.region_bytes = kRegion;
  options.max_stores = max_stores;
  options.non_temporal = non_temporal;
  return RandomProgram(prng, options);
}

// The medium's crash states; discards the test case when the space is too large to list.
std::set<CrashImage> Eager(const Medium& m) {
  RC_PRE(m.CrashSpace().count <= kMaxStates);
  Result<std::set<CrashImage>> s = EagerCrashImages(m, kRegion, kMaxStates);
  RC_ASSERT(s.ok());
  return *s;
}

// Set equality without printing the (possibly huge) sets: names the first difference.
void AssertSameStates(const std::set<CrashImage>& medium, const std::set<CrashImage>& reference) {
  if (medium == reference) return;
  auto show = [](const CrashImage& img) {
    std::string s;
    for (uint64_t w : img) s += " " + std::to_string(w);
    return s;
  };
  for (const CrashImage& img : medium) {
    if (!reference.count(img)) RC_FAIL("medium-only state:" + show(img));
  }
  for (const CrashImage& img : reference) {
    if (!medium.count(img)) RC_FAIL("reference-only state:" + show(img));
  }
}

std::vector<std::byte> ImageBytes(const CrashImage& image) {
  std::vector<std::byte> bytes(image.size() * 8);
  for (size_t i = 0; i < image.size(); ++i) StoreLe(bytes.data() + 8 * i, image[i]);
  return bytes;
}

RC_GTEST_PROP(MediumProp, StoreClwbSfenceIsInEveryCrashState, (uint64_t seed)) {
  const PersistencyModel model = GenModel();
  Medium m = Make(model);
  RC_ASSERT(RunProgram(m, Program(seed)).ok());
  Prng prng(seed ^ 0x5EED);
  const uint64_t size = prng.Range(1, 48);
  const uint64_t addr = prng.Below(kRegion - size + 1);
  const LaneId lane = Lane(static_cast<uint32_t>(prng.Below(3)));
  std::vector<std::byte> data(size);
  for (std::byte& b : data) b = static_cast<std::byte>(prng.Range(0, 255));
  RC_ASSERT(m.Store(lane, addr, data).ok());
  RC_ASSERT(m.Persist(lane, addr, size).ok());
  for (const CrashImage& image : Eager(m)) {
    const std::vector<std::byte> bytes = ImageBytes(image);
    RC_ASSERT(std::equal(data.begin(), data.end(), bytes.begin() + addr));
  }
}

RC_GTEST_PROP(MediumProp, EveryCrashWordIsAValueTheWordOnceHeld, (uint64_t seed)) {
  const PersistencyModel model = GenModel();
  Medium m = Make(model);
  std::vector<std::set<uint64_t>> held(kRegion / 8, std::set<uint64_t>{0});
  for (const Event& e : Program(seed)) {
    RC_ASSERT(m.Apply(e).ok());
    for (uint64_t w = 0; w < kRegion / 8; ++w) held[w].insert(*m.Load64(Lane(0), 8 * w));
  }
  for (const CrashImage& image : Eager(m)) {
    for (uint64_t w = 0; w < image.size(); ++w) RC_ASSERT(held[w].count(image[w]) == 1u);
  }
}

RC_GTEST_PROP(MediumProp, WideStoreTearsAtEightBytesUnlessEadr, ()) {
  const PersistencyModel model = GenModel();
  const uint64_t offset = *rc::gen::inRange<uint64_t>(0, 64);
  const bool old_persisted = *rc::gen::arbitrary<bool>();
  Medium m = Make(model, 3 * kPageBytes);
  const std::vector<std::byte> a(kPageBytes, std::byte{0xAA}), b(kPageBytes, std::byte{0xBB});
  RC_ASSERT(m.Store(Lane(0), offset, a).ok());
  if (old_persisted) RC_ASSERT(m.Persist(Lane(0), offset, kPageBytes).ok());
  RC_ASSERT(m.Store(Lane(1), offset, b).ok());
  const CrashSpaceSize space = m.CrashSpace();
  if (model == PersistencyModel::kEadr) {
    RC_ASSERT(space.count == 1u);
  } else {
    RC_ASSERT(space.log2 > 64.0);
  }
  bool torn = false;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    Medium crashed = m.MaterializeCrash(m.DrawCrashState(seed));
    std::vector<std::byte> out(kPageBytes + 16);
    RC_ASSERT(crashed.Load(Lane(0), offset - offset % 8, out).ok());
    std::set<std::byte> kinds;
    // Every whole word inside the store is entirely one version: tearing only at 8 bytes.
    for (uint64_t w = offset % 8 == 0 ? 0 : 1; w < kPageBytes / 8; ++w) {
      const std::byte first = out[8 * w];
      for (int i = 1; i < 8; ++i) RC_ASSERT(out[8 * w + i] == first);
      kinds.insert(first);
    }
    if (model == PersistencyModel::kEadr) RC_ASSERT(kinds == std::set<std::byte>{std::byte{0xBB}});
    torn = torn || (kinds.count(std::byte{0xBB}) == 1 && kinds.size() > 1);
  }
  if (model != PersistencyModel::kEadr) RC_ASSERT(torn);
}

RC_GTEST_PROP(MediumProp, Px86LinePersistsAsAStorePrefix, (uint64_t seed)) {
  Prng prng(seed);
  Medium m = Make(PersistencyModel::kPx86);
  // Expected: images after each whole-word piece, pieces in store order, ascending within a store.
  std::vector<uint64_t> line(8, 0);
  std::set<CrashImage> expected;
  auto snapshot = [&]() {
    CrashImage img(kRegion / 8, 0);
    std::copy(line.begin(), line.end(), img.begin() + 8);  // the line at 64..127
    expected.insert(img);
  };
  snapshot();
  const uint64_t stores = prng.Range(1, 8);
  for (uint64_t s = 0; s < stores; ++s) {
    const uint64_t size = prng.Range(1, 24);
    const uint64_t at = prng.Below(64 - size + 1);
    std::vector<std::byte> data(size);
    for (std::byte& b : data) b = static_cast<std::byte>(prng.Range(1, 255));
    RC_ASSERT(m.Store(Lane(static_cast<uint32_t>(prng.Below(2))), 64 + at, data).ok());
    for (uint64_t w = at / 8; w <= (at + size - 1) / 8; ++w) {
      std::byte word[8];
      StoreLe(word, line[w]);
      for (uint64_t i = 0; i < 8; ++i) {
        if (8 * w + i >= at && 8 * w + i < at + size) word[i] = data[8 * w + i - at];
      }
      line[w] = LoadLe64(word);
      snapshot();
    }
  }
  AssertSameStates(Eager(m), expected);
  RC_ASSERT(m.CrashSpace().count == expected.size());
}

RC_GTEST_PROP(MediumProp, ClflushIsOrderedWithLaterStoresWithoutFence, (uint64_t seed)) {
  const PersistencyModel model =
      *rc::gen::element(PersistencyModel::kPx86, PersistencyModel::kWord8);
  Medium m = Make(model);
  RC_ASSERT(RunProgram(m, Program(seed, /*non_temporal=*/false)).ok());
  Prng prng(seed + 1);
  const uint64_t line = prng.Below(kRegion / 64);
  RC_ASSERT(m.Store64(Lane(0), line * 64 + 8 * prng.Below(8), prng.Next()).ok());
  RC_ASSERT(m.Clflush(Lane(static_cast<uint32_t>(prng.Below(3))), line * 64).ok());
  RC_ASSERT(m.Store64(Lane(1), ((line + 1) % 3) * 64, prng.Next()).ok());  // a later store
  std::vector<std::byte> visible(64);
  RC_ASSERT(m.Load(Lane(0), line * 64, visible).ok());
  for (const CrashImage& image : Eager(m)) {
    const std::vector<std::byte> bytes = ImageBytes(image);
    RC_ASSERT(std::equal(visible.begin(), visible.end(), bytes.begin() + line * 64));
  }
}

RC_GTEST_PROP(MediumProp, NonTemporalStoresAreLostWithoutTheirLanesFence, (uint64_t seed)) {
  const PersistencyModel model = GenModel();
  Prng prng(seed);
  Medium m = Make(model);
  const uint64_t old_value = prng.Next();
  const uint64_t word = prng.Below(kRegion / 8 - 1);
  RC_ASSERT(m.Store64(Lane(0), 8 * word, old_value).ok());
  RC_ASSERT(m.Persist(Lane(0), 8 * word, 8).ok());
  std::vector<std::byte> data(prng.Chance(1, 2) ? 8 : 16);
  for (std::byte& b : data) b = static_cast<std::byte>(prng.Range(1, 255));
  RC_ASSERT(m.StoreNt(Lane(1), 8 * word, data).ok());
  // Neither flushes nor other lanes' fences drain lane 1's write-combining buffers.
  RC_ASSERT(m.ClflushRange(Lane(2), 8 * word, data.size()).ok());
  RC_ASSERT(m.ClwbRange(Lane(1), 8 * word, data.size()).ok());
  RC_ASSERT(m.Sfence(Lane(2)).ok());
  std::set<CrashImage> states = Eager(m);
  bool lost = false, kept = false;
  for (const CrashImage& image : states) {
    lost = lost || image[word] == old_value;
    kept = kept || std::equal(data.begin(), data.end(), ImageBytes(image).begin() + 8 * word);
  }
  RC_ASSERT(lost && kept);
  RC_ASSERT(m.Sfence(Lane(1)).ok());
  states = Eager(m);
  RC_ASSERT(states.size() == 1u);
  RC_ASSERT(std::equal(data.begin(), data.end(), ImageBytes(*states.begin()).begin() + 8 * word));
}

RC_GTEST_PROP(MediumProp, EadrWithinPx86WithinWord8, (uint64_t seed)) {
  const std::vector<Event> program = Program(seed);
  std::map<PersistencyModel, std::set<CrashImage>> sets;
  for (PersistencyModel model : kAllPersistencyModels) {
    Medium m = Make(model);
    RC_ASSERT(RunProgram(m, program).ok());
    sets[model] = Eager(m);
  }
  auto within = [](const std::set<CrashImage>& small, const std::set<CrashImage>& big) {
    return std::includes(big.begin(), big.end(), small.begin(), small.end());
  };
  RC_ASSERT(within(sets[PersistencyModel::kEadr], sets[PersistencyModel::kPx86]));
  RC_ASSERT(within(sets[PersistencyModel::kPx86], sets[PersistencyModel::kWord8]));
}

RC_GTEST_PROP(MediumProp, LazyResolutionsEqualEagerEnumeration, (uint64_t seed)) {
  const PersistencyModel model = GenModel();
  Medium m = Make(model);
  RC_ASSERT(RunProgram(m, Program(seed)).ok());
  RC_PRE(m.CrashSpace().count <= kMaxStates);
  Prng prng(seed * 3 + 1);
  // Read a random subset of the words (possibly all), in a random order.
  std::vector<uint64_t> order;
  const bool all = prng.Chance(1, 2);
  for (uint64_t w = 0; w < kRegion / 8; ++w) {
    if (all || prng.Chance(1, 3)) order.push_back(w);
  }
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[prng.Below(i)]);
  uint64_t runs = 0;
  Result<std::set<CrashImage>> lazy = LazyCrashImages(m, kRegion, order, kMaxStates, &runs);
  RC_ASSERT(lazy.ok());
  // The eager states, projected onto the words read.
  std::set<CrashImage> projected;
  for (CrashImage image : Eager(m)) {
    CrashImage p(image.size(), 0);
    for (uint64_t w : order) p[w] = image[w];
    projected.insert(p);
  }
  AssertSameStates(*lazy, projected);
  RC_ASSERT(runs == projected.size());  // every run is a distinct resolution
}

RC_GTEST_PROP(MediumProp, CrashStatesMatchTheReferenceEnumerator, (uint64_t seed)) {
  const std::vector<Event> program = Program(seed, /*non_temporal=*/true, /*max_stores=*/12);
  for (PersistencyModel model : kAllPersistencyModels) {
    Result<std::set<CrashImage>> reference = ReferenceCrashStates(program, model, kRegion);
    RC_PRE(reference.ok());
    Medium m = Make(model);
    RC_ASSERT(RunProgram(m, program).ok());
    AssertSameStates(Eager(m), *reference);
    RC_ASSERT(m.CrashSpace().count == reference->size());
  }
}

TEST(SelfCheck, DefaultCampaignPassesAndIsDeterministic) {
  SelfCheckOptions stop_early;
  stop_early.stop_at_first_mismatch = true;
  const SelfCheckSummary a = RunSelfCheck(stop_early);
  ASSERT_TRUE(a.ok()) << a.ToString();
  EXPECT_GT(a.programs_run, 250u);
  EXPECT_GT(a.crash_states_compared[0], 0u);
  std::printf("%s\n", a.ToString().c_str());
  // Determinism: the same seed gives the same campaign (a shorter one, to keep the test fast).
  SelfCheckOptions small;
  small.programs = 60;
  EXPECT_EQ(RunSelfCheck(small).ToString(), RunSelfCheck(small).ToString());
}

}  // namespace
}  // namespace tearproof::sim
