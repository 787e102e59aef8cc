// The bad-input executor (traces/bad_input.h) on the production core, and the replay of
// bad-input traces. Invariants checked: an uncorrupted case passes every check; a stale map entry
// that is exactly a lost map store counts as untouched and the real core rolls it forward; both
// info blocks corrupt are refused with a clear error (and salvage too); a consistent lie in an
// info block (re-checksummed) touches every LBA; the timeline names what each patch hit (info
// field, map entry, flog lane/slot/field, data block, container); a case that cannot run is an
// error, never a crash; a replay is deterministic and goes through the trace's text form; a
// mutant trace needs the mutant build. The kill on a seeded mutant is
// KillMatrix.AShrunkBadInputFailureBecomesATraceThatReplays (properties/kill_matrix_test.cc).
#include "traces/bad_input.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "traces/minimize.h"
#include "traces/replay.h"
#include "util/endian.h"

namespace tearproof::traces {
namespace {

using properties::Op;

BadInputCase SmallCase(std::vector<Op> ops) {
  BadInputCase c;
  c.device.profile = btt::Profile::kLinux;
  c.device.lbasize = 512;
  c.device.nfree = 1;
  c.device.namespace_bytes = btt::MinimumNamespaceSize(btt::Profile::kLinux, 512, 1) + 4096;
  c.ops = std::move(ops);
  NumberBadInputWrites(c.ops);
  return c;
}

btt::Geometry GeometryOf(const BadInputCase& c) {
  auto geo = btt::ComputeGeometry(c.device.profile, c.device.namespace_bytes, c.device.lbasize,
                                  c.device.nfree);
  EXPECT_TRUE(geo.ok()) << geo.status().ToString();
  return *geo;
}

std::string Timeline(const BadInputRun& run) {
  std::string out;
  for (const std::string& line : run.timeline) out += line + "\n";
  return out;
}

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// Makes the newer flog slot of lane 0 look as if its map store was lost.
void LoseLane0MapStore(const btt::Geometry& geo, std::vector<std::byte>& image) {
  const BttRegions r(geo);
  btt::FlogGroup group;
  std::memcpy(&group, image.data() + r.flog.begin, sizeof(group));
  const auto slot = properties::NewerFlogSlot(group);
  ASSERT_TRUE(slot.has_value());
  StoreLe<uint32_t>(image.data() + r.map.begin + uint64_t{slot->lba} * 4,
                    btt::EntLba(slot->old_map) | btt::kMapNormal);
}

TEST(BadInput, AnUncorruptedCasePassesEveryCheck) {
  const BadInputCase c =
      SmallCase({{Op::Kind::kWrite, 0}, {Op::Kind::kZero, 1}, {Op::Kind::kError, 2}});
  auto run = RunBadInputCase(c);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_FALSE(run->violation.has_value()) << run->violation->ToString();
  EXPECT_TRUE(run->patches.empty());
  EXPECT_TRUE(run->opened);
  EXPECT_EQ(run->check_clean, std::optional<bool>(true));
  EXPECT_TRUE(Has(Timeline(*run), "every LBA rewritten, reopened")) << Timeline(*run);
}

TEST(BadInput, ALostMapStoreIsUntouchedAndTheRealCoreRollsItForward) {
  const BadInputCase c = SmallCase({{Op::Kind::kWrite, 0}, {Op::Kind::kWrite, 0}});
  auto run = RunBadInputCase(c, [](const btt::Geometry& geo, std::vector<std::byte>& image) {
    LoseLane0MapStore(geo, image);
  });
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const std::string timeline = Timeline(*run);
  EXPECT_FALSE(run->violation.has_value()) << run->violation->ToString() << "\n" << timeline;
  ASSERT_EQ(run->patches.size(), 1u);
  EXPECT_EQ(run->touched_lbas, 0u);
  EXPECT_TRUE(Has(timeline, "map entry 0 (lba 0)")) << timeline;
  EXPECT_TRUE(Has(timeline, "a lost map store, recovery must roll it forward")) << timeline;
  EXPECT_TRUE(Has(timeline, "read-write open: opened (1 lane(s) rolled forward)")) << timeline;
}

TEST(BadInput, BothInfoBlocksCorruptAreRefusedWithAClearErrorEvenBySalvage) {
  BadInputCase c = SmallCase({{Op::Kind::kWrite, 0}});
  const BttRegions r(GeometryOf(c));
  c.patches = {{r.primary.begin, {std::byte{'X'}}}, {r.backup.begin, {std::byte{'X'}}}};
  auto run = RunBadInputCase(c);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const std::string timeline = Timeline(*run);
  EXPECT_FALSE(run->violation.has_value()) << run->violation->ToString() << "\n" << timeline;
  EXPECT_FALSE(run->opened);
  EXPECT_TRUE(Has(timeline, "arena 0 primary info block sig")) << timeline;
  EXPECT_TRUE(Has(timeline, "arena 0 backup info block sig")) << timeline;
  EXPECT_TRUE(Has(timeline, "both info blocks corrupt: opens must refuse")) << timeline;
  EXPECT_TRUE(Has(timeline, "read-write open: refused")) << timeline;
  EXPECT_TRUE(Has(timeline, "salvage open: refused")) << timeline;
}

TEST(BadInput, AConsistentLieInAnInfoBlockTouchesEveryLba) {
  const BadInputCase c = SmallCase({{Op::Kind::kWrite, 0}});
  const btt::Geometry geo = GeometryOf(c);
  const BttRegions r(geo);
  std::vector<std::byte> before(c.device.namespace_bytes);
  // An info block that passes its integrity check, then the same with external_nlba changed.
  btt::InfoBlock info = btt::MakeInfoBlock(geo, 0, {}, {});
  std::memcpy(before.data() + r.primary.begin, &info, sizeof(info));
  std::memcpy(before.data() + r.backup.begin, &info, sizeof(info));
  std::vector<std::byte> after = before;
  info.external_nlba -= 1;
  info.checksum = btt::InfoBlockChecksum(info);
  std::memcpy(after.data() + r.primary.begin, &info, sizeof(info));
  const BadInputDamage lie = AssessDamage(geo, before, after);
  EXPECT_TRUE(lie.primary_changed && lie.primary_valid && !lie.backup_changed);
  EXPECT_EQ(lie.touched.size(), geo.external_nlba_total);
  EXPECT_FALSE(lie.BothInfoBlocksInvalid());
  // Without the new checksum the block is corrupt, not a lie: nothing is touched.
  after[r.primary.begin + 4088] ^= std::byte{1};
  const BadInputDamage corrupt = AssessDamage(geo, before, after);
  EXPECT_FALSE(corrupt.primary_valid);
  EXPECT_TRUE(corrupt.touched.empty());
}

TEST(BadInput, DescribeBttByteNamesTheStructureAndField) {
  const BadInputCase c = SmallCase({});
  const btt::Geometry geo = GeometryOf(c);
  const BttRegions r(geo);
  EXPECT_EQ(DescribeBttByte(geo, 0), "before the BTT (unused)");
  EXPECT_EQ(DescribeBttByte(geo, r.primary.begin + 60), "arena 0 primary info block external_nlba");
  EXPECT_EQ(DescribeBttByte(geo, r.backup.begin + 4095), "arena 0 backup info block checksum");
  EXPECT_EQ(DescribeBttByte(geo, r.map.begin + 4 * 3 + 2), "arena 0 map entry 3 (lba 3)");
  EXPECT_EQ(DescribeBttByte(geo, r.flog.begin + 16 + 8), "arena 0 flog lane 0 slot 1 new_map");
  EXPECT_EQ(DescribeBttByte(geo, r.data.begin + 512 * 2 + 7), "arena 0 data block 2");
  BadInputCase pool = c;
  pool.device.profile = btt::Profile::kPmemblk;
  pool.device.namespace_bytes = btt::MinimumNamespaceSize(btt::Profile::kPmemblk, 512, 1);
  const btt::Geometry pool_geo = GeometryOf(pool);
  EXPECT_EQ(DescribeBttByte(pool_geo, 8), "pmemblk pool header");
  EXPECT_EQ(DescribeBttByte(pool_geo, btt::kPmemblkHeaderOffset), "pmemblk header");
}

TEST(BadInput, DiffImagesFindsMaximalRuns) {
  std::vector<std::byte> before(64), after(64);
  after[3] = std::byte{1};
  after[4] = std::byte{2};
  after[63] = std::byte{9};
  const std::vector<BytePatch> patches = DiffImages(before, after);
  ASSERT_EQ(patches.size(), 2u);
  EXPECT_EQ(patches[0], (BytePatch{3, {std::byte{1}, std::byte{2}}}));
  EXPECT_EQ(patches[1], (BytePatch{63, {std::byte{9}}}));
  EXPECT_TRUE(DiffImages(before, before).empty());
}

TEST(BadInput, ACaseThatCannotRunIsAnErrorNeverACrash) {
  BadInputCase outside = SmallCase({{Op::Kind::kWrite, 100000}});
  auto run = RunBadInputCase(outside);
  ASSERT_FALSE(run.ok());
  EXPECT_TRUE(Has(run.status().message(), "names an LBA the device lacks"))
      << run.status().ToString();
  BadInputCase bad_size = SmallCase({});
  bad_size.device.lbasize = 513;  // linux takes the kernel's seven sizes only
  EXPECT_FALSE(RunBadInputCase(bad_size).ok());
  BadInputCase too_big = SmallCase({});
  too_big.device.namespace_bytes = kMaxBadInputNamespaceBytes + 4096;
  EXPECT_FALSE(RunBadInputCase(too_big).ok());
  BadInputCase past_end = SmallCase({});
  past_end.patches = {{past_end.device.namespace_bytes - 1, {std::byte{0}, std::byte{0}}}};
  EXPECT_FALSE(RunBadInputCase(past_end).ok());
  BadInputCase unordered = SmallCase({});
  unordered.patches = {{64, {std::byte{0}}}, {8, {std::byte{0}}}};
  EXPECT_FALSE(RunBadInputCase(unordered).ok());
  BadInputCase tiny = SmallCase({});
  tiny.device.namespace_bytes = 4096;  // no arena fits
  EXPECT_FALSE(RunBadInputCase(tiny).ok());
}

TEST(BadInput, ReplayGoesThroughTheTextFormAndIsDeterministic) {
  BadInputCase c = SmallCase({{Op::Kind::kWrite, 0}, {Op::Kind::kWrite, 1}});
  const BttRegions r(GeometryOf(c));
  c.patches = {{r.data.begin, {std::byte{0xff}}}, {r.flog.begin + 12, {std::byte{0x7}}}};
  Trace trace = BadInputTrace(c, "none", {"PROP-BAD-UNTOUCHED", "imagined"});
  trace.expect = {false, "", ""};
  auto parsed = ParseTrace(SerializeTrace(trace));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto first = Replay(*parsed);
  auto second = Replay(*parsed);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(first->bad_input.has_value());
  EXPECT_TRUE(first->matches_expectation) << FormatTimeline(*parsed, *first);
  const std::string timeline = FormatTimeline(*parsed, *first);
  EXPECT_EQ(timeline, FormatTimeline(*parsed, *second));
  EXPECT_TRUE(Has(timeline, "arena 0 flog lane 0 slot 0 seq")) << timeline;
  EXPECT_TRUE(Has(timeline, "flog lane 0 changed: its slots name lbas")) << timeline;
  EXPECT_TRUE(Has(timeline, "data block 0 changed")) << timeline;
  EXPECT_TRUE(Has(timeline, "the trace expects a pass: it passes")) << timeline;
  // Minimizing needs a failure.
  trace.expect = {true, "PROP-BAD-UNTOUCHED", ""};
  auto minimized = Minimize(trace);
  ASSERT_FALSE(minimized.ok());
  EXPECT_TRUE(Has(minimized.status().message(), "does not reproduce"));
}

TEST(BadInput, AMutantTraceNeedsTheMutantBuild) {
  Trace trace = BadInputTrace(SmallCase({{Op::Kind::kWrite, 0}}), "recover-roll-back",
                              {"PROP-BAD-UNTOUCHED", ""});
  auto replay = Replay(trace);
  ASSERT_FALSE(replay.ok());
  EXPECT_TRUE(Has(replay.status().message(), "recover-roll-back")) << replay.status().ToString();
}

}  // namespace
}  // namespace tearproof::traces
