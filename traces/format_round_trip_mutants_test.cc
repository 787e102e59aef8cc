// Format round trips on seeded mutants of the core (the mutant build of traces/, test-only):
// the executor the format property family judges its round trips with catches the mutant, and
// the failure becomes a format round-trip trace that replays through its text form to the same
// check, minimizes without losing it, and passes on the real core (the mutant, not the case, is
// the bug).
//   - flog-layout-zero-two (flog layout detection ignored, (0,2) assumed): the format family is
//     the only property family that kills it (properties/kill_matrix.expected). The case is the
//     family's: histories around a rewrite into the (0,1) layout and a corrupt primary;
//   - seq-skips: a round trip whose flog was rewritten into (0,2) and whose primary is corrupt;
//     the failure shows on the read-only open after that rewrite, and minimization finds that
//     it does not need the rewrite (the whole rewrite is dropped at once: a part of it is no
//     round trip and cannot run).
// With $TEARPROOF_TRACE_DIR set, the minimized flog-layout-zero-two trace is written there
// (traces/regenerate.sh stores it as traces/format_round_trip/flog-layout-zero-two.jsonl).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "btt/mutant.h"
#include "traces/format_round_trip.h"
#include "traces/minimize.h"
#include "traces/replay.h"

namespace tearproof::traces {
namespace {

static_assert(btt::kMutantsCompiledIn, "these tests run seeded mutants");

using properties::Op;

BadInputCase RoundTripCase() {
  BadInputCase c;
  c.device.profile = btt::Profile::kLinux;
  c.device.lbasize = 512;
  c.device.nfree = 2;
  c.device.namespace_bytes = btt::MinimumNamespaceSize(btt::Profile::kLinux, 512, 2) + 4096;
  c.ops = {{Op::Kind::kWrite, 0}, {Op::Kind::kWrite, 1}, {Op::Kind::kWrite, 0}};
  c.after_ops = {{Op::Kind::kWrite, 1}, {Op::Kind::kZero, 0}};
  NumberBadInputWrites(c);
  return c;
}

RoundTripRewrite Rewrite(FlogLayout target) {
  return [target](sim::Medium& medium, const btt::Geometry& geo) -> Status {
    TP_RETURN_IF_ERROR(MoveFlogSlots(medium, geo, target));
    const uint64_t off = BttRegions(geo).primary.begin + 40;
    std::vector<std::byte> b = properties::LoadBytes(medium, off, 1);
    b[0] ^= std::byte{0x81};
    return properties::StoreDurably(medium, off, b);
  };
}

// Runs the round trip on `mutant`, expects `check`, and returns its trace after the trace
// replayed, minimized and passed on the real core.
Trace ExpectKillThatReplays(btt::Mutant mutant, FlogLayout target, const std::string& check) {
  BadInputCase c = RoundTripCase();
  auto run = RunFormatRoundTrip(c, Rewrite(target), mutant);
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  if (!run.ok() || !run->violation) {
    ADD_FAILURE() << btt::MutantName(mutant) << " survives the round trip";
    return {};
  }
  EXPECT_EQ(run->violation->check, check) << run->violation->ToString();
  c.patches = run->patches;
  const Trace written = BadInputTrace(c, std::string(btt::MutantName(mutant)), *run->violation,
                                      TraceKind::kFormatRoundTrip);
  auto trace = ParseTrace(SerializeTrace(written));
  EXPECT_TRUE(trace.ok()) << trace.status().ToString();
  auto replay = Replay(*trace);
  EXPECT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->matches_expectation) << FormatTimeline(*trace, *replay);
  // What the executor judged in the property's form is what the trace replays.
  EXPECT_EQ(replay->bad_input->timeline, run->timeline);

  MinimizeStats stats;
  auto minimized = Minimize(*trace, {}, &stats);
  EXPECT_TRUE(minimized.ok()) << minimized.status().ToString();
  EXPECT_LE(minimized->bad_input.ops.size() + minimized->bad_input.after_ops.size(),
            c.ops.size() + c.after_ops.size());
  EXPECT_LE(minimized->bad_input.patches.size(), c.patches.size());
  auto again = Replay(*minimized);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->matches_expectation) << FormatTimeline(*minimized, *again);

  for (const Trace* t : {&*trace, &*minimized}) {
    Trace real = *t;
    real.mutant = "none";
    auto passes = Replay(real);
    EXPECT_TRUE(passes.ok()) << passes.status().ToString();
    EXPECT_FALSE(passes->violated()) << FormatTimeline(real, *passes);
  }
  std::printf("%s: %s\nminimized (%llu candidates):\n%s%s",
              std::string(btt::MutantName(mutant)).c_str(), run->violation->ToString().c_str(),
              static_cast<unsigned long long>(stats.candidates), SerializeTrace(*minimized).c_str(),
              FormatTimeline(*minimized, *again).c_str());
  return *minimized;
}

TEST(FormatRoundTripOnMutants, FlogLayoutZeroTwoIsCaughtAndItsTraceReplays) {
  const Trace trace =
      ExpectKillThatReplays(btt::Mutant::kFlogLayoutZeroTwo, kFlogLayout01, "PROP-FLOG-LAYOUT");
  const char* dir = std::getenv("TEARPROOF_TRACE_DIR");
  if (dir != nullptr && *dir != '\0') {
    const std::string path = std::string(dir) + "/flog-layout-zero-two.jsonl";
    const Status written = WriteTraceFile(path, trace);
    EXPECT_TRUE(written.ok()) << written.ToString();
  }
}

TEST(FormatRoundTripOnMutants, SeqSkipsIsCaughtAndItsTraceReplaysWithoutTheRewrite) {
  const Trace trace = ExpectKillThatReplays(btt::Mutant::kSeqSkips, kFlogLayout02, "ORACLE-ATOMIC");
  EXPECT_TRUE(trace.bad_input.patches.empty()) << SerializeTrace(trace);
}

}  // namespace
}  // namespace tearproof::traces
