// The format round-trip executor (traces/format_round_trip.h) on the production core, and the
// replay of format round-trip traces.
// Invariants checked: a round trip whose flog is moved into the (0,2) layout and whose primary
// info block is corrupt passes on the real core, and the timeline says which layout the medium
// holds and that the opens read the backup; the run's patches, as a trace through its text
// form, replay to the same timeline line for line (what the property judged is what replay
// runs), on one arena and on a sparse three-arena device; patches that are no round trip (a
// byte outside the flog and primary info blocks, half of a slot move, a primary changed
// consistently, lanes left in two layouts) cannot run and say why; a case naming an LBA the
// device lacks cannot run. With $TEARPROOF_TRACE_DIR set, the passing trace of the first test is
// written there (traces/regenerate.sh stores it in traces/format_round_trip/). The mutant side (a
// kill that replays, minimizes and passes on the real core) is format_round_trip_mutants_test.cc.
#include "traces/format_round_trip.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "traces/replay.h"

namespace tearproof::traces {
namespace {

using properties::Op;

BadInputCase RoundTripCase(uint32_t nfree, std::vector<Op> ops, std::vector<Op> after) {
  BadInputCase c;
  c.device.profile = btt::Profile::kLinux;
  c.device.lbasize = 512;
  c.device.nfree = nfree;
  c.device.namespace_bytes = btt::MinimumNamespaceSize(btt::Profile::kLinux, 512, nfree) + 4096;
  c.ops = std::move(ops);
  c.after_ops = std::move(after);
  NumberBadInputWrites(c);
  return c;
}

// Every lane's live second slot moved to slot 2, and byte `at` of arena `arena`'s primary info
// block flipped: the format family's rewrite.
RoundTripRewrite ToLayout02AndCorruptPrimary(size_t arena, uint64_t at) {
  return [arena, at](sim::Medium& medium, const btt::Geometry& geo) -> Status {
    TP_RETURN_IF_ERROR(MoveFlogSlots(medium, geo, kFlogLayout02));
    const uint64_t off = BttRegions(geo, arena).primary.begin + at;
    std::vector<std::byte> b = properties::LoadBytes(medium, off, 1);
    b[0] ^= std::byte{0x5a};
    return properties::StoreDurably(medium, off, b);
  };
}

std::string Timeline(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// The trace of a passing run (its patches, expecting a pass), through its text form.
Trace PassingTrace(BadInputCase c, const BadInputRun& run) {
  c.patches = run.patches;
  Trace t = BadInputTrace(c, "none", {}, TraceKind::kFormatRoundTrip);
  t.expect = {false, "", ""};
  auto parsed = ParseTrace(SerializeTrace(t));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << SerializeTrace(t);
  return *parsed;
}

// The run of `c` with its patches replaced by `patches`.
Result<BadInputRun> WithPatches(BadInputCase c, std::vector<BytePatch> patches) {
  c.patches = std::move(patches);
  return RunFormatRoundTrip(c);
}

TEST(FormatRoundTrip, TheOtherLayoutAndACorruptPrimaryPassOnTheRealCoreAndReplayAlike) {
  const BadInputCase c =
      RoundTripCase(2, {{Op::Kind::kWrite, 0}, {Op::Kind::kWrite, 1}, {Op::Kind::kError, 2}},
                    {{Op::Kind::kWrite, 1}, {Op::Kind::kZero, 0}, {Op::Kind::kWrite, 3}});
  auto run = RunFormatRoundTrip(c, ToLayout02AndCorruptPrimary(0, 100));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const std::string timeline = Timeline(run->timeline);
  EXPECT_FALSE(run->violation.has_value()) << run->violation->ToString() << "\n" << timeline;
  EXPECT_EQ(run->flog_layouts, (std::vector<std::array<uint32_t, 2>>{kFlogLayout02}));
  EXPECT_TRUE(run->opened);
  EXPECT_EQ(run->check_clean, std::optional<bool>(true));
  // Two lanes' slot moves and one flipped byte.
  EXPECT_GE(run->patches.size(), 3u);
  for (const char* needle :
       {"first history (then a clean shutdown): w0#1 w1#2 e2", "arena 0 flog lane 1 slot 1",
        "arena 0 primary info block", "arena 0: flog slots moved, the lanes now use layout (0,2)",
        "arena 0: primary info block corrupt",
        "read-only open: opened (primary info block read "
        "from the backup)",
        "read-write open: opened (primary info block read from the backup, primary restored from "
        "the backup)",
        "second history: w1#3 z0 w3#4", "reopen: opened", "Check clean"}) {
    EXPECT_NE(timeline.find(needle), std::string::npos) << "missing '" << needle << "' in\n"
                                                        << timeline;
  }

  // The run as a trace: the executor runs the patches and writes the same timeline.
  const Trace trace = PassingTrace(c, *run);
  EXPECT_EQ(trace.kind, TraceKind::kFormatRoundTrip);
  auto replay = Replay(trace);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->matches_expectation) << FormatTimeline(trace, *replay);
  ASSERT_TRUE(replay->bad_input.has_value());
  EXPECT_EQ(replay->bad_input->timeline, run->timeline);
  EXPECT_EQ(FormatTimeline(trace, *replay).rfind("format round trip on mutant none\n", 0), 0u);
  // traces/regenerate.sh stores it: the real core must keep absorbing this rewrite.
  const char* dir = std::getenv("TEARPROOF_TRACE_DIR");
  if (dir != nullptr && *dir != '\0') {
    const Status written =
        WriteTraceFile(std::string(dir) + "/real-core-layout-0-2-corrupt-primary.jsonl", trace);
    EXPECT_TRUE(written.ok()) << written.ToString();
  }
}

// A sparse device of three arenas (two full 512 GiB ones): the executor reads only metadata and
// the LBAs at the arena boundaries, and a patch in arena 1 is named as such.
TEST(FormatRoundTrip, ASparseMultiArenaRoundTripPassesAndReplays) {
  BadInputCase c;
  c.device.profile = btt::Profile::kLinux;
  c.device.lbasize = 4096;
  c.device.nfree = 1;
  c.device.namespace_bytes =
      2 * btt::kMaxArenaSize + btt::BttOffsetFor(c.device.profile) + btt::kMinArenaSize;
  auto geo = btt::ComputeGeometry(c.device.profile, c.device.namespace_bytes, 4096, 1);
  ASSERT_TRUE(geo.ok()) << geo.status().ToString();
  ASSERT_EQ(geo->arenas.size(), 3u);
  const uint64_t second = geo->arenas[0].external_nlba;  // arena 1's first LBA
  c.ops = {{Op::Kind::kWrite, second}, {Op::Kind::kWrite, second - 1}};
  c.after_ops = {{Op::Kind::kWrite, second}};
  NumberBadInputWrites(c);
  auto run = RunFormatRoundTrip(c, ToLayout02AndCorruptPrimary(1, 7));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const std::string timeline = Timeline(run->timeline);
  EXPECT_FALSE(run->violation.has_value()) << run->violation->ToString() << "\n" << timeline;
  EXPECT_EQ(run->flog_layouts,
            (std::vector<std::array<uint32_t, 2>>{kFlogLayout02, kFlogLayout02, kFlogLayout01}));
  for (const char* needle : {"3 arena(s)", "arena 1 primary info block",
                             "arena 1: primary info "
                             "block corrupt",
                             "no Check: several arenas"}) {
    EXPECT_NE(timeline.find(needle), std::string::npos) << "missing '" << needle << "' in\n"
                                                        << timeline;
  }
  const Trace trace = PassingTrace(c, *run);
  auto replay = Replay(trace);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->matches_expectation) << FormatTimeline(trace, *replay);
  EXPECT_EQ(replay->bad_input->timeline, run->timeline);
}

TEST(FormatRoundTrip, PatchesThatAreNoRoundTripCannotRun) {
  const BadInputCase c = RoundTripCase(2, {{Op::Kind::kWrite, 0}, {Op::Kind::kWrite, 1}}, {});
  auto run = RunFormatRoundTrip(c, ToLayout02AndCorruptPrimary(0, 100));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_FALSE(run->violation.has_value()) << run->violation->ToString();
  const std::vector<BytePatch> good = run->patches;
  auto geo = btt::ComputeGeometry(c.device.profile, c.device.namespace_bytes, 512, 2);
  ASSERT_TRUE(geo.ok());
  const BttRegions r(*geo);
  auto expect_refused = [&](const std::vector<BytePatch>& patches, const std::string& needle) {
    auto refused = WithPatches(c, patches);
    ASSERT_FALSE(refused.ok()) << "accepted; violation: "
                               << (refused->violation ? refused->violation->ToString() : "none");
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(refused.status().message().find(needle), std::string::npos)
        << refused.status().message() << "\n(wanted '" << needle << "')";
  };
  expect_refused({{r.map.begin, {std::byte{1}}}},
                 "not inside one arena's flog or primary info block");
  expect_refused({{r.backup.begin + 8, {std::byte{1}}}}, "not inside");

  // Half of a slot move: lane 0's slot 2 written, its slot 1 left live.
  const uint64_t lane0_slot2 = r.flog.begin + 2 * sizeof(btt::FlogSlot);
  std::vector<BytePatch> half;
  for (const BytePatch& p : good) {
    if (p.offset >= lane0_slot2 && p.end() <= lane0_slot2 + sizeof(btt::FlogSlot)) {
      half.push_back(p);
    }
  }
  ASSERT_FALSE(half.empty());
  expect_refused(half, "flog lane 0 changed other than by swapping slots 1 and 2");

  // Only lane 1 moved: lane 0 keeps slot 1, lane 1 uses slot 2.
  const uint64_t lane1 = r.flog.begin + btt::kFlogGroupSize;
  std::vector<BytePatch> mixed;
  for (const BytePatch& p : good) {
    if (p.offset >= lane1 && p.end() <= lane1 + btt::kFlogGroupSize) mixed.push_back(p);
  }
  ASSERT_FALSE(mixed.empty());
  expect_refused(mixed,
                 "no single slot layout after the rewrite: lane 1 uses slot 2, an earlier "
                 "lane slot 1");

  // A primary info block changed and re-checksummed: a consistent lie, not a corruption.
  auto lie = RunFormatRoundTrip(c, [](sim::Medium& medium, const btt::Geometry& g) -> Status {
    const uint64_t at = BttRegions(g).primary.begin;
    btt::InfoBlock info;
    const std::vector<std::byte> bytes = properties::LoadBytes(medium, at, sizeof(info));
    std::memcpy(&info, bytes.data(), sizeof(info));
    info.nfree = 3;
    info.checksum = btt::InfoBlockChecksum(info);
    return properties::StoreDurably(medium, at, std::as_bytes(std::span(&info, 1)));
  });
  ASSERT_FALSE(lie.ok());
  EXPECT_NE(lie.status().message().find("still passes its integrity check"), std::string::npos)
      << lie.status().message();

  BadInputCase outside = c;
  outside.after_ops = {{Op::Kind::kWrite, 1 << 20, 3}};
  auto no_lba = RunFormatRoundTrip(outside);
  ASSERT_FALSE(no_lba.ok());
  EXPECT_NE(no_lba.status().message().find("after op 0 (w1048576#3) names an LBA the device lacks"),
            std::string::npos)
      << no_lba.status().message();
}

}  // namespace
}  // namespace tearproof::traces
