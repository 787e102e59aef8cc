// Unit tests of the property suites' support code (properties/sim_device.h) and regressions of
// the core bugs the suites found. Invariants checked: crash choices are consumed in
// order (and past the end mean "nothing unguaranteed persisted"); a crash trap crashes before
// the chosen fence of an operation and after it when the fence does not come; the oracle's
// JudgeView accepts exactly the allowed values and names torn, stale and misdirected sectors;
// a bug the suites found stays fixed.
#include "properties/sim_device.h"

#include <gtest/gtest.h>

#include <cstring>

#include "btt/layout.h"
#include "util/endian.h"

namespace tearproof::properties {
namespace {

DeviceConfig SmallConfig(uint32_t nfree = 1) {
  DeviceConfig c;
  c.profile = btt::Profile::kLinux;
  c.lbasize = 512;
  c.nfree = nfree;
  c.model = sim::PersistencyModel::kPx86;
  c.namespace_bytes = btt::MinimumNamespaceSize(c.profile, c.lbasize, nfree) + 4 * 4096;
  return c;
}

TEST(SimDevice, VectorChooserUsesChoicesInOrderModuloTheCountThenZero) {
  VectorChooser chooser({5, 1, 7});
  EXPECT_EQ(chooser.Choose(0, 3), 2u);
  EXPECT_EQ(chooser.Choose(8, 2), 1u);
  EXPECT_EQ(chooser.Choose(16, 4), 3u);
  EXPECT_EQ(chooser.Choose(24, 5), 0u);
  EXPECT_EQ(chooser.consumed(), 4u);
}

TEST(SimDevice, OpsAndSpecsPrintCompactly) {
  EXPECT_EQ(ToString(std::vector<Op>{
                {Op::Kind::kWrite, 3, 7}, {Op::Kind::kZero, 1, 0}, {Op::Kind::kError, 2, 0}}),
            "w3#7 z1 e2");
  EXPECT_EQ(ToString(std::vector<Op>{}), "(none)");
  EXPECT_EQ(ToString(CrashSpec{4, {1, 0, 9}}), "crash before fence 4, choices [1 0 9]");
}

// Crash a single write of lba 0 before fence `fence` with nothing unguaranteed persisted, and
// recover: what does lba 0 read?
ValueId ValueAfterCrashBefore(uint32_t fence, uint64_t* fences_seen) {
  const DeviceConfig config = SmallConfig();
  auto run = RunHistoryToCrash(config, {{Op::Kind::kWrite, 0, 1}}, CrashSpec{fence, {}});
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_FALSE(run->violation.has_value());
  Recovery r = Recover(*run->crashed, config, {0}, std::nullopt);
  EXPECT_FALSE(r.violation.has_value()) << r.violation->ToString();
  std::map<uint64_t, ValueId> held;
  EXPECT_FALSE(JudgeView(r.view, {{0, {kZeroValue, 1}}}, config.lbasize, &held).has_value());
  *fences_seen = run->in_flight ? 1 : 0;
  return held[0];
}

TEST(SimDevice, CrashTrapCrashesBeforeTheChosenFenceAndAfterTheOpOtherwise) {
  uint64_t in_flight = 0;
  // Fence 0 of a write makes its data durable (P1): before it nothing of the write persisted.
  EXPECT_EQ(ValueAfterCrashBefore(0, &in_flight), kZeroValue);
  EXPECT_EQ(in_flight, 1u);
  // A write issues 4 fences (P1..P4); past them the crash comes after the completed write.
  EXPECT_EQ(ValueAfterCrashBefore(4, &in_flight), 1u);
  EXPECT_EQ(in_flight, 0u);
}

TEST(SimDevice, JudgeViewAcceptsAllowedValuesAndNamesTornAndMisdirectedSectors) {
  const uint32_t size = 64;
  View view;
  view[0].bytes = SectorBytes(0, 2, size);
  view[1].code = StatusCode::kMediaError;
  std::map<uint64_t, ValueId> held;
  EXPECT_FALSE(JudgeView(view, {{0, {1, 2}}, {1, {kErrorValue}}}, size, &held).has_value());
  EXPECT_EQ(held[0], 2u);
  EXPECT_EQ(held[1], kErrorValue);

  // Torn: the first half of write 1, the second of write 2.
  View torn;
  torn[0].bytes = SectorBytes(0, 1, size);
  const std::vector<std::byte> second = SectorBytes(0, 2, size);
  std::memcpy(torn[0].bytes.data() + 32, second.data() + 32, 32);
  auto v = JudgeView(torn, {{0, {1, 2}}}, size, nullptr);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->check, "ORACLE-ATOMIC");
  EXPECT_NE(v->detail.find("words 0-3 write 1 of lba 0, words 4-7 write 2 of lba 0"),
            std::string::npos)
      << v->detail;

  // Misdirected: lba 1 holds lba 0's write; an LBA not listed may only be zero.
  View misdirected;
  misdirected[1].bytes = SectorBytes(0, 1, size);
  v = JudgeView(misdirected, {{0, {1}}}, size, nullptr);
  ASSERT_TRUE(v.has_value());
  EXPECT_NE(v->detail.find("lba 1 reads [words 0-7 write 1 of lba 0], expected zero"),
            std::string::npos)
      << v->detail;
}

// Regression (found by the bad-input family): two lanes roll lba 0 forward in a chain once its
// map entry is made stale (lane 1's old_map is lane 0's new_map). The read-only open kept the
// first step of the chain in its overlay while the read-write recovery followed it to the end.
TEST(ReadOnlyOpen, FollowsARollForwardChainLikeReadWriteRecovery) {
  const DeviceConfig config = SmallConfig(/*nfree=*/2);
  auto geo = btt::ComputeGeometry(config.profile, config.namespace_bytes, config.lbasize, 2);
  ASSERT_TRUE(geo.ok());
  auto medium = MakeMedium(config);
  ASSERT_TRUE(medium.ok());
  ASSERT_TRUE(FormatDevice(*medium, config).ok());
  {
    auto s = Session::Open(*medium, config, false);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Apply({Op::Kind::kWrite, 0, 1}).ok());  // lane 0
    ASSERT_TRUE((*s)->Apply({Op::Kind::kWrite, 0, 2}).ok());  // lane 1
  }
  const auto slot = NewerFlogSlot(LoadFlogGroup(*medium, *geo, 0));
  ASSERT_TRUE(slot.has_value());
  std::byte stale[4];
  StoreLe<uint32_t>(stale, btt::EntLba(slot->old_map) | btt::kMapNormal);
  const btt::ArenaGeometry& a = geo->arenas[0];
  ASSERT_TRUE(StoreDurably(*medium, geo->btt_offset + a.offset + a.mapoff, stale).ok());
  View ro_view;
  {
    auto ro = Session::Open(*medium, config, true);
    ASSERT_TRUE(ro.ok());
    ro_view = ReadView((*ro)->btt(), {0});
  }
  auto rw = Session::Open(*medium, config, false);
  ASSERT_TRUE(rw.ok());
  const View rw_view = ReadView((*rw)->btt(), {0});
  EXPECT_EQ(rw_view.at(0).bytes, SectorBytes(0, 2, config.lbasize));  // the whole chain
  EXPECT_EQ(ro_view, rw_view) << "INV-RO-EQUALS-RW: the read-only open stops inside the chain";
}

}  // namespace
}  // namespace tearproof::properties
