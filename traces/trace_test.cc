// The trace format's reader and writer.
// Invariants checked, for crash traces (version 1, and version 3 when they track extra LBAs),
// bad-input traces (version 2), format round-trip traces (version 3) and concurrent traces
// (version 4): a trace survives write ->
// read -> write unchanged and is written in the lowest version that expresses it; the reader
// rejects every malformed input with an InvalidArgument that names the line (and the field, where
// there is one) and never crashes: truncation at every byte, each value replaced by a value of
// another JSON type, unknown and duplicated fields, unsupported versions, bad hex, patches past the
// namespace or overlapping, seeded byte corruption.
#include "traces/trace.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/prng.h"

namespace tearproof::traces {
namespace {

using harness::WorkloadOp;
using Kind = WorkloadOp::Kind;
using Json = nlohmann::ordered_json;

Trace Example() {
  Trace t;
  t.tool_commit = "0123456789ab";
  t.mutant = "seq-skips";
  t.config.device = harness::Device::kBtt;
  t.config.profile = btt::Profile::kUefi;
  t.config.external_lbasize = 4096;
  t.config.nfree = 2;
  t.config.model = sim::PersistencyModel::kWord8;
  t.config.workload_flush = harness::FlushKind::kClflushopt;
  t.config.check_layout = false;
  t.config.crash_in_recovery = true;
  t.config.max_states_per_point = 99;
  t.config.setup_ops = {{Kind::kWrite, 0}, {Kind::kZero, 1}};
  t.config.mutant_after_setup = true;
  t.config.ops = {{Kind::kWrite, 1}, {Kind::kRead, 0}, {Kind::kZero, 12}};
  t.config.other_lanes = {{{Kind::kWrite, 2}}};
  t.config.schedule = {0, 1, 1, 0};
  t.seed = 18446744073709551615ULL;
  t.crash_point = 7;
  t.op_in_flight = 2;
  t.resolution = {{0x1040, 2, 1}, {0x20000, 3, 0}, {0x20008, 4, 3}};
  t.expect = {true, "ORACLE-ATOMIC", "lba 1 reads [..]"};
  return t;
}

// A bad-input trace with every kind of op and two patches.
Trace BadInputExample() {
  Trace t;
  t.kind = TraceKind::kBadInput;
  t.tool_commit = "0123456789ab";
  t.mutant = "recover-roll-back";
  t.bad_input.device = {btt::Profile::kPmemblk, 520, 2, sim::PersistencyModel::kEadr, 40960};
  using Op = properties::Op;
  t.bad_input.ops = {{Op::Kind::kWrite, 0, 1},
                     {Op::Kind::kZero, 3, 0},
                     {Op::Kind::kError, 1, 0},
                     {Op::Kind::kWrite, 12, 2}};
  t.bad_input.patches = {{0x4000, {std::byte{0}, std::byte{0xc0}}},
                         {0x9ffe, {std::byte{0xab}, std::byte{0x01}}}};
  t.expect = {true, "PROP-BAD-UNTOUCHED", "lba 0 reads [..]"};
  return t;
}

// A crash trace that has the oracle judge LBAs 0-5 after the crash besides the workload's
// (version 3).
Trace TrackedExample() {
  Trace t = Example();
  t.config.track_lbas = 6;
  t.config.medium_size = 1 << 20;
  return t;
}

// A format round trip (version 3): a bad-input case's records, a second history, a namespace
// past the bad-input limit (a sparse multi-arena device).
Trace RoundTripExample() {
  Trace t = BadInputExample();
  t.kind = TraceKind::kFormatRoundTrip;
  t.mutant = "flog-layout-zero-two";
  t.bad_input.device.namespace_bytes = uint64_t{1} << 40;
  using Op = properties::Op;
  t.bad_input.after_ops = {{Op::Kind::kWrite, 7, 0}, {Op::Kind::kZero, 0, 0}};
  NumberBadInputWrites(t.bad_input);
  t.expect = {true, "PROP-FLOG-LAYOUT", "after format: arena 0 opened with (0,2)"};
  return t;
}

// A concurrent trace (version 4): setup, two lanes, a schedule, no crash.
Trace ConcurrentExample() {
  Trace t;
  t.kind = TraceKind::kConcurrent;
  t.tool_commit = "0123456789ab";
  t.mutant = "read-recheck-block-only";
  t.concurrent.setup = {{Kind::kWrite, 3}, {Kind::kZero, 0}};
  t.concurrent.lanes = {{{Kind::kRead, 1}}, {{Kind::kWrite, 1}, {Kind::kWrite, 2}}};
  t.concurrent.schedule = {0, 0, 1, 1, 0};
  t.concurrent.preemptions = 1;
  t.concurrent.strategy = "exhaustive bound 1";
  t.expect = {true, "ORACLE-CONCURRENT-READ", "lane 0 read of lba 1 holds write 3 of lba 2"};
  return t;
}

std::vector<Trace> Examples() {
  return {Example(), BadInputExample(), TrackedExample(), RoundTripExample(), ConcurrentExample()};
}

void ExpectError(const std::string& text, const std::string& needle) {
  auto parsed = ParseTrace(text);
  ASSERT_FALSE(parsed.ok()) << "accepted:\n" << text;
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(needle), std::string::npos)
      << parsed.status().message() << "\n(wanted '" << needle << "')";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(Trace, RoundTripsThroughText) {
  const std::string text = SerializeTrace(Example());
  auto parsed = ParseTrace(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(SerializeTrace(*parsed), text);
  EXPECT_EQ(parsed->config.other_lanes.size(), 1u);
  EXPECT_EQ(parsed->resolution.size(), 3u);
  EXPECT_EQ(parsed->resolution[2].word_addr, 0x20008u);
  EXPECT_EQ(Lines(text).size(), 5u);

  Trace pass;
  pass.config.device = harness::Device::kPlainPmem;
  pass.config.ops = {{Kind::kWrite, 0}};
  pass.expect = {false, "", ""};
  auto parsed_pass = ParseTrace(SerializeTrace(pass));
  ASSERT_TRUE(parsed_pass.ok()) << parsed_pass.status().ToString();
  EXPECT_FALSE(parsed_pass->expect.violation);
  EXPECT_EQ(parsed_pass->op_in_flight, -1);
  EXPECT_EQ(SerializeTrace(*parsed_pass), SerializeTrace(pass));
}

TEST(Trace, ABadInputTraceRoundTripsThroughTextAsVersion2) {
  const std::string text = SerializeTrace(BadInputExample());
  EXPECT_EQ(Lines(text)[0],
            R"({"tearproof_trace":2,"tool_commit":"0123456789ab","mutant":"recover-roll-back",)"
            R"("device":"btt","case":"bad-input"})");
  EXPECT_EQ(Lines(text)[2], R"({"workload":{"ops":["w0","z3","e1","w12"]}})");
  EXPECT_EQ(Lines(text)[3], R"({"corruption":{"patches":[{"offset":"0x4000","bytes":"00c0"},)"
                            R"({"offset":"0x9ffe","bytes":"ab01"}]}})");
  auto parsed = ParseTrace(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, TraceKind::kBadInput);
  EXPECT_EQ(SerializeTrace(*parsed), text);
  // Write ids are implied by the order of the writes.
  ASSERT_EQ(parsed->bad_input.ops.size(), 4u);
  EXPECT_EQ(parsed->bad_input.ops[0].id, 1u);
  EXPECT_EQ(parsed->bad_input.ops[3].id, 2u);
  EXPECT_EQ(parsed->bad_input.patches, BadInputExample().bad_input.patches);
  EXPECT_EQ(parsed->bad_input.device.namespace_bytes, 40960u);
  EXPECT_FALSE(ReplayConfig(*parsed).ok()) << "a bad-input trace explores nothing";
  // A crash trace is still written as version 1, which version-2 readers read too.
  EXPECT_EQ(Lines(SerializeTrace(Example()))[0].rfind(R"({"tearproof_trace":1,)", 0), 0u);
  std::string v2 = SerializeTrace(Example());
  v2.replace(v2.find("\"tearproof_trace\":1"), 19, "\"tearproof_trace\":2");
  v2.insert(v2.find("\"device\":\"btt\"") + 14, ",\"case\":\"crash\"");
  auto crash_v2 = ParseTrace(v2);
  ASSERT_TRUE(crash_v2.ok()) << crash_v2.status().ToString() << "\n" << v2;
  EXPECT_EQ(crash_v2->kind, TraceKind::kCrash);
  EXPECT_EQ(SerializeTrace(*crash_v2), SerializeTrace(Example()));
}

// track_lbas is written only when it is set, and only then as version 3: every trace that
// tracks nothing (the whole stored corpus) stays version 1 and reads as before.
TEST(Trace, TrackedLbasRoundTripAsVersion3AndAbsentMeansNone) {
  const std::string text = SerializeTrace(TrackedExample());
  const std::vector<std::string> lines = Lines(text);
  EXPECT_EQ(lines[0].rfind(R"({"tearproof_trace":3,)", 0), 0u) << lines[0];
  EXPECT_NE(lines[1].find(R"("medium_size":1048576,"track_lbas":6})"), std::string::npos)
      << lines[1];
  auto parsed = ParseTrace(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->config.track_lbas, 6u);
  EXPECT_EQ(SerializeTrace(*parsed), text);
  auto config = ReplayConfig(*parsed);
  ASSERT_FALSE(config.ok()) << "seq-skips is not in the production build";

  const std::string untracked = SerializeTrace(Example());
  EXPECT_EQ(untracked.find("track_lbas"), std::string::npos);
  EXPECT_EQ(Lines(untracked)[0].rfind(R"({"tearproof_trace":1,)", 0), 0u);
  auto old = ParseTrace(untracked);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->config.track_lbas, 0u);

  // The replay explores with the tracked LBAs.
  Trace real = TrackedExample();
  real.mutant = "none";
  auto replay = ReplayConfig(real);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_EQ(replay->track_lbas, 6u);
  EXPECT_EQ(TraceStem(real), "uefi-4096-word8-nfree2-track6-w1_r0_z12-p7");
}

// A malformed track_lbas is a clear error naming line 2 and the field: negative, fractional,
// beyond 64 bits, beyond 32 bits, zero (absent is how "none" is written), another type, or a
// version-1 or -2 header (the field is version 3's).
TEST(Trace, MalformedTrackedLbasNameTheProblem) {
  const std::vector<std::string> lines = Lines(SerializeTrace(TrackedExample()));
  auto with_value = [&](const std::string& value) {
    std::vector<std::string> copy = lines;
    const size_t at = copy[1].find("\"track_lbas\":6");
    copy[1].replace(at, 14, "\"track_lbas\":" + value);
    return Join(copy);
  };
  const std::string where = "line 2 (config): field 'track_lbas': ";
  ExpectError(with_value("-1"), where + "expected an unsigned integer, got a negative integer");
  ExpectError(with_value("2.5"), where + "expected an unsigned integer, got a fraction");
  ExpectError(with_value("99999999999999999999"), "an integer beyond 64 bits");
  ExpectError(with_value("4294967296"), where + "4294967296 exceeds 4294967295");
  ExpectError(with_value("0"), where + "must be at least 1 (or absent)");
  ExpectError(with_value("\"6\""), where + "expected an unsigned integer, got a string");
  for (const char* version : {"1", "2"}) {
    std::vector<std::string> copy = lines;
    copy[0].replace(copy[0].find("\"tearproof_trace\":3"), 19,
                    std::string("\"tearproof_trace\":") + version);
    ExpectError(Join(copy), where + "needs format version 3 (the header says " + version + ")");
  }
}

TEST(Trace, AFormatRoundTripRoundTripsThroughTextAsVersion3) {
  const std::string text = SerializeTrace(RoundTripExample());
  const std::vector<std::string> lines = Lines(text);
  EXPECT_EQ(lines[0],
            R"({"tearproof_trace":3,"tool_commit":"0123456789ab",)"
            R"("mutant":"flog-layout-zero-two","device":"btt","case":"format-round-trip"})");
  EXPECT_EQ(lines[2], R"({"workload":{"ops":["w0","z3","e1","w12"],"after":["w7","z0"]}})");
  auto parsed = ParseTrace(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, TraceKind::kFormatRoundTrip);
  EXPECT_EQ(SerializeTrace(*parsed), text);
  // Write ids run on from the first history into the second.
  ASSERT_EQ(parsed->bad_input.after_ops.size(), 2u);
  EXPECT_EQ(parsed->bad_input.after_ops[0].id, 3u);
  EXPECT_EQ(parsed->bad_input.device.namespace_bytes, uint64_t{1} << 40);
  EXPECT_FALSE(ReplayConfig(*parsed).ok()) << "a round trip explores nothing";
  EXPECT_EQ(TraceStem(*parsed),
            "format-round-trip-flog-layout-zero-two-pmemblk-520-eadr-nfree2-6ops-2patches");

  auto with_line = [&](size_t i, const std::string& replacement) {
    std::vector<std::string> copy = lines;
    copy[i] = replacement;
    return Join(copy);
  };
  ExpectError(with_line(2, R"({"workload":{"ops":[]}})"),
              "line 3 (workload): missing field 'after'");
  ExpectError(with_line(0, R"({"tearproof_trace":2,"tool_commit":"x","mutant":"none",)"
                           R"("device":"btt","case":"format-round-trip"})"),
              "field 'case': \"format-round-trip\" needs format version 3 (the header says 2)");
  ExpectError(with_line(1, R"({"config":{"profile":"linux","lbasize":512,"nfree":1,)"
                           R"("model":"px86","namespace_bytes":2199023255553}})"),
              "field 'namespace_bytes': 2199023255553 exceeds 2199023255552");
  // A bad-input trace has no second history and no multi-arena namespace.
  std::vector<std::string> bad = Lines(SerializeTrace(BadInputExample()));
  bad[2] = R"({"workload":{"ops":[],"after":[]}})";
  ExpectError(Join(bad), "unknown field 'after'");
}

TEST(Trace, AConcurrentTraceRoundTripsThroughTextAsVersion4) {
  const std::string text = SerializeTrace(ConcurrentExample());
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], R"({"tearproof_trace":4,"tool_commit":"0123456789ab",)"
                      R"("mutant":"read-recheck-block-only","device":"btt","case":"concurrent"})");
  EXPECT_EQ(lines[1], R"({"config":{"profile":"linux","lbasize":512,"nfree":2,"model":"px86",)"
                      R"("setup":["w3","z0"]}})");
  EXPECT_EQ(lines[2], R"({"workload":{"lanes":[["r1"],["w1","w2"]]}})");
  EXPECT_EQ(lines[3],
            R"({"run":{"strategy":"exhaustive bound 1","schedule":[0,0,1,1,0],"preemptions":1}})");
  auto parsed = ParseTrace(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, TraceKind::kConcurrent);
  EXPECT_EQ(SerializeTrace(*parsed), text);
  EXPECT_EQ(parsed->concurrent.Workload().Name(), "[w3 z0] r1 || w1 w2");
  EXPECT_FALSE(ReplayConfig(*parsed).ok()) << "a concurrent trace explores no crash";
  EXPECT_EQ(TraceStem(*parsed),
            "concurrent-read-recheck-block-only-linux-512-px86-nfree2-setup_w3_z0-r1--w1_w2");

  auto with_line = [&](size_t i, const std::string& replacement) {
    std::vector<std::string> copy = lines;
    copy[i] = replacement;
    return Join(copy);
  };
  ExpectError(with_line(0, R"({"tearproof_trace":3,"tool_commit":"x","mutant":"none",)"
                           R"("device":"btt","case":"concurrent"})"),
              "field 'case': \"concurrent\" needs format version 4 (the header says 3)");
  ExpectError(with_line(0, R"({"tearproof_trace":4,"tool_commit":"x","mutant":"none",)"
                           R"("device":"plain-pmem","case":"concurrent"})"),
              "a bad-input, format round-trip or concurrent case runs a BTT");
  ExpectError(with_line(1, R"({"config":{"profile":"linux","lbasize":512,"nfree":1,)"
                           R"("model":"px86","setup":[]}})"),
              "line 2 (config): a concurrent run uses the concurrent search's device, linux 512 "
              "nfree 2 px86 (got linux 512 nfree 1 px86)");
  ExpectError(with_line(1, R"({"config":{"profile":"linux","lbasize":512,"nfree":2,)"
                           R"("model":"px86","setup":["r0"]}})"),
              "field 'setup': setup ops are writes and zeros, got \"r0\"");
  ExpectError(with_line(2, R"({"workload":{"lanes":[]}})"),
              "field 'lanes': a concurrent run has 1 to 4 lanes, got 0");
  ExpectError(with_line(2, R"({"workload":{"lanes":[["r0"],["r0"],["r0"],["r0"],["r0"]]}})"),
              "a concurrent run has 1 to 4 lanes, got 5");
  ExpectError(with_line(2, R"({"workload":{"lanes":[["r0"],[]]}})"),
              "field 'lanes'[1]: a lane has 1 to 8 ops, got 0");
  ExpectError(
      with_line(2, R"({"workload":{"lanes":[["r0","r0","r0","r0","r0","r0","r0","r0","r0"]]}})"),
      "a lane has 1 to 8 ops, got 9");
  ExpectError(with_line(3, R"({"run":{"strategy":"x","schedule":[0,2],"preemptions":0}})"),
              "field 'schedule': entry 1: expected a lane below 2, got 2");
  ExpectError(with_line(3, R"({"crash":{"point":1,"op_in_flight":null,"resolution":[]}})"),
              "line 4: expected the \"run\" record");
  ExpectError(with_line(4, R"({"expect":{"verdict":"violation","check":"PROP-X","detail":""}})"),
              "expected an ORACLE-* check name");
}

TEST(Trace, AConcurrentViolationOfTheSearchBecomesItsTrace) {
  harness::ConcurrentSearchResult none;
  EXPECT_FALSE(
      TraceFromConcurrentViolation(none, harness::StandardConcurrentWorkloads(), btt::Mutant::kNone)
          .ok());
  harness::ConcurrentSearchResult r;
  r.violation_check = "ORACLE-LINEARIZABLE";
  r.violation_workload = "[w3 w0] r1 || w1 w2";
  r.violation_strategy = "pct seed 9";
  r.violation_schedule = "0,1,1";
  r.violation_preemptions = 2;
  r.first_violation = r.violation_workload +
                      " under pct seed 9, schedule 0,1,1: " + r.violation_check +
                      ": lba 1 (initially 0): read=2@[0,5]";
  auto t =
      TraceFromConcurrentViolation(r, harness::StandardConcurrentWorkloads(), btt::Mutant::kNone);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->kind, TraceKind::kConcurrent);
  EXPECT_EQ(t->mutant, "none");
  EXPECT_EQ(t->concurrent.Workload().Name(), r.violation_workload);
  EXPECT_EQ(t->concurrent.schedule, (std::vector<uint32_t>{0, 1, 1}));
  EXPECT_EQ(t->concurrent.preemptions, 2u);
  EXPECT_EQ(t->concurrent.strategy, "pct seed 9");
  EXPECT_EQ(t->expect.check, "ORACLE-LINEARIZABLE");
  EXPECT_EQ(t->expect.detail, "lba 1 (initially 0): read=2@[0,5]");
  r.violation_workload = "w9 || w9";  // not among those searched
  EXPECT_FALSE(
      TraceFromConcurrentViolation(r, harness::StandardConcurrentWorkloads(), btt::Mutant::kNone)
          .ok());
}

TEST(Trace, BlankLinesAndCarriageReturnsAreTolerated) {
  std::string text = SerializeTrace(Example());
  text.insert(text.find('\n') + 1, "\n   \n");
  EXPECT_TRUE(ParseTrace(text).ok());
}

TEST(Trace, EveryTruncationIsAClearErrorNeverACrash) {
  for (const Trace& example : Examples()) {
    const std::string text = SerializeTrace(example);
    for (size_t n = 0; n < text.size(); ++n) {
      auto parsed = ParseTrace(text.substr(0, n));
      // Only the whole text without its final newline is still a complete trace.
      if (n == text.size() - 1) {
        EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
        continue;
      }
      ASSERT_FALSE(parsed.ok()) << "accepted a trace cut at byte " << n;
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    }
    ExpectError(Join({Lines(text)[0], Lines(text)[1]}), "\"workload\" record is missing");
  }
  ExpectError("", "empty trace");
  const std::vector<std::string> bad = Lines(SerializeTrace(BadInputExample()));
  ExpectError(Join({bad[0], bad[1], bad[2]}), "\"corruption\" record is missing");
}

// The JSON type as the reader sees it: unsigned, negative and fractional numbers differ.
std::string JsonKind(const Json& j) {
  if (j.is_number_unsigned()) return "unsigned";
  if (j.is_number_integer()) return "integer";
  return j.type_name();
}

TEST(Trace, EveryValueOfAnotherTypeIsRejectedWithItsLineAndField) {
  const std::vector<Json> others = {Json(nullptr), Json(true), Json(-3),      Json(7u),
                                    Json(2.5),     Json("x"),  Json::array(), Json::object()};
  uint64_t patches = 0;
  for (const Trace& example : Examples()) {
    const std::vector<std::string> lines = Lines(SerializeTrace(example));
    for (size_t li = 0; li < lines.size(); ++li) {
      const Json line = Json::parse(lines[li]);
      const Json flat = line.flatten();
      for (const auto& leaf : flat.items()) {
        for (const Json& other : others) {
          if (JsonKind(other) == JsonKind(leaf.value())) continue;
          Json patched = line;
          patched[Json::json_pointer(leaf.key())] = other;
          std::vector<std::string> copy = lines;
          copy[li] = patched.dump();
          auto parsed = ParseTrace(Join(copy));
          ++patches;
          if (leaf.key() == "/crash/op_in_flight" && other.is_null()) {
            EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
            continue;
          }
          ASSERT_FALSE(parsed.ok()) << leaf.key() << " = " << other.dump();
          const std::string& message = parsed.status().message();
          EXPECT_NE(message.find("line " + std::to_string(li + 1)), std::string::npos)
              << leaf.key() << ": " << message;
        }
      }
    }
  }
  EXPECT_GT(patches, 350u);
}

TEST(Trace, StructuralErrorsNameTheProblem) {
  const std::vector<std::string> lines = Lines(SerializeTrace(Example()));
  auto with_line = [&](size_t i, const std::string& replacement) {
    std::vector<std::string> copy = lines;
    copy[i] = replacement;
    return Join(copy);
  };
  ExpectError("garbage\n", "line 1: not valid JSON");
  ExpectError("[1,2]\n", "expected a JSON object");
  ExpectError("{\"hello\": 1}\n", "not a tearproof trace");
  ExpectError(
      with_line(0, R"({"tearproof_trace":5,"tool_commit":"x","mutant":"none","device":"btt"})"),
      "version 5 is not supported (this tearproof reads versions 1 to 4)");
  ExpectError(
      with_line(0, R"({"tearproof_trace":0,"tool_commit":"x","mutant":"none","device":"btt"})"),
      "version 0 is not supported");
  ExpectError(with_line(0, R"({"tearproof_trace":1,"tool_commit":"x","mutant":"none",)"
                           R"("device":"btt","case":"crash"})"),
              "unknown field 'case'");
  ExpectError(with_line(0, R"({"tearproof_trace":2,"tool_commit":"x","mutant":"none",)"
                           R"("device":"btt","case":"fuzz"})"),
              "field 'case': expected \"crash\", \"bad-input\", \"format-round-trip\" or "
              "\"concurrent\"");
  ExpectError(
      with_line(0, R"({"tearproof_trace":1,"tool_commit":"x","mutant":"none","device":"nvme"})"),
      "field 'device'");
  ExpectError(
      with_line(0, R"({"tearproof_trace":1,"tool_commit":"x","mutant":"No Such","device":"btt"})"),
      "field 'mutant'");
  ExpectError(
      with_line(
          0, R"({"tearproof_trace":1,"tool_commit":"x","mutant":"none","device":"btt","extra":0})"),
      "unknown field 'extra'");
  ExpectError(with_line(1, R"({"workload":{}})"), "line 2: expected the \"config\" record");
  ExpectError(with_line(1, R"({"config":{}, "crash":{}})"), "expected the \"config\" record");
  ExpectError(Join({lines[0], lines[1], lines[2], lines[3], lines[4], lines[4]}),
              "line 6: unexpected content");
  std::string config = lines[1];
  ExpectError(with_line(1, config.replace(config.find("\"uefi\""), 6, "\"ntfs\"")),
              "field 'profile'");
  config = lines[1];
  ExpectError(with_line(1, config.replace(config.find("\"nfree\":2"), 9, "\"nfree\":0")),
              "field 'nfree': must be at least 1");
  config = lines[1];
  ExpectError(with_line(1, config.replace(config.find("\"word8\""), 7, "\"arm\"")),
              "field 'model'");
  config = lines[1];
  ExpectError(with_line(1, config.replace(config.find("\"clflushopt\""), 12, "\"ntstore\"")),
              "field 'flush'");
  config = lines[1];
  ExpectError(with_line(1, config.replace(config.find("\"w0\""), 4, "\"w0,w1\"")),
              "field 'setup'[0]: bad op");
  std::string workload = lines[2];
  ExpectError(with_line(2, workload.replace(workload.find("\"w1\""), 4, "\"x1\"")),
              "field 'lanes'[0][0]: bad op");
  workload = lines[2];
  ExpectError(with_line(2, workload.replace(workload.find("\"z12\""), 5, "\"z012\"")),
              "bad op \"z012\"");
  ExpectError(with_line(2, R"({"workload":{"seed":0,"lanes":[],"schedule":[]}})"),
              "at least one lane");
  ExpectError(with_line(2, R"({"workload":{"seed":0,"lanes":[["w0"]],"schedule":[-1]}})"),
              "field 'schedule'");
  ExpectError(with_line(2, R"({"workload":{"seed":0,"lanes":[["w0"]],"schedule":[4294967296]}})"),
              "field 'schedule'");
  const std::string crash_head = R"({"crash":{"point":1,"op_in_flight":0,"resolution":)";
  ExpectError(with_line(3, crash_head + R"([{"word":"0x10","count":2,"index":2}]}})"),
              "field 'index': must be below count");
  ExpectError(with_line(3, crash_head + R"([{"word":"0x10","count":1,"index":0}]}})"),
              "field 'count'");
  ExpectError(with_line(3, crash_head + R"([{"word":"0x11","count":2,"index":0}]}})"),
              "not 8-byte aligned");
  ExpectError(with_line(3, crash_head + R"([{"word":"16","count":2,"index":0}]}})"), "hex string");
  ExpectError(with_line(3, crash_head + R"([{"word":"0xAB","count":2,"index":0}]}})"),
              "bad hex digit");
  ExpectError(
      with_line(3, crash_head + R"([{"word":"0x12345678901234567","count":2,"index":0}]}})"),
      "hex string");
  ExpectError(
      with_line(
          3, crash_head +
                 R"([{"word":"0x10","count":2,"index":0},{"word":"0x10","count":2,"index":1}]}})"),
      "appears twice");
  ExpectError(with_line(3, crash_head + R"([{"word":"0x10","count":2,"index":0,"value":1}]}})"),
              "unknown field 'value'");
  ExpectError(with_line(3, R"({"crash":{"point":1,"op_in_flight":-1,"resolution":[]}})"),
              "field 'op_in_flight'");
  ExpectError(with_line(4, R"({"expect":{"verdict":"maybe"}})"), "field 'verdict'");
  ExpectError(with_line(4, R"({"expect":{"verdict":"pass","check":"ORACLE-ATOMIC"}})"),
              "a \"pass\" verdict has no check");
  ExpectError(with_line(4, R"({"expect":{"verdict":"violation","check":"ATOMIC","detail":""}})"),
              "ORACLE-* check name");
  ExpectError(with_line(4, R"({"expect":{"verdict":"violation","check":"ORACLE-ATOMIC"}})"),
              "missing field 'detail'");
}

// The bad-input records: bad hex, patches past the namespace or overlapping, bad ops, a check
// name of neither family, a device that is no BTT, records in crash-trace form.
TEST(Trace, MalformedBadInputRecordsNameTheProblem) {
  const std::vector<std::string> lines = Lines(SerializeTrace(BadInputExample()));
  auto with_line = [&](size_t i, const std::string& replacement) {
    std::vector<std::string> copy = lines;
    copy[i] = replacement;
    return Join(copy);
  };
  const std::string head = R"({"corruption":{"patches":[)";
  ExpectError(
      with_line(3, head + R"({"offset":"0x10","bytes":"0g"}]}})"),
      "line 4 (corruption): field 'patches'[0]: field 'bytes': bad hex digit at position 1");
  ExpectError(with_line(3, head + R"({"offset":"0x10","bytes":"ABCD"}]}})"), "bad hex digit");
  ExpectError(with_line(3, head + R"({"offset":"0x10","bytes":"abc"}]}})"), "even number");
  ExpectError(with_line(3, head + R"({"offset":"0x10","bytes":""}]}})"), "non-empty");
  ExpectError(with_line(3, head + R"({"offset":"16","bytes":"00"}]}})"),
              "field 'offset': expected a hex string");
  ExpectError(with_line(3, head + R"({"offset":"0x9fff","bytes":"0000"}]}})"),
              "reach past the end of the namespace (namespace_bytes 40960)");
  ExpectError(with_line(3, head + R"({"offset":"0xa000","bytes":"00"}]}})"), "past the end");
  ExpectError(with_line(3, head + R"({"offset":"0xffffffffffffffff","bytes":"0000"}]}})"),
              "past the end");
  ExpectError(
      with_line(3, head + R"({"offset":"0x10","bytes":"0000"},{"offset":"0x11","bytes":"00"}]}})"),
      "field 'patches'[1]: starts at 0x11, inside or before patch 0 (0x10+2)");
  ExpectError(
      with_line(3, head + R"({"offset":"0x20","bytes":"00"},{"offset":"0x10","bytes":"00"}]}})"),
      "ascending order");
  ExpectError(with_line(3, head + R"({"offset":"0x10","bytes":"00","mask":"ff"}]}})"),
              "unknown field 'mask'");
  ExpectError(with_line(3, head + R"("0x10"]}})"), "expected {\"offset\", \"bytes\"}");
  ExpectError(with_line(3, R"({"corruption":{}})"), "missing field 'patches'");
  ExpectError(with_line(3, R"({"crash":{"point":1,"op_in_flight":null,"resolution":[]}})"),
              "line 4: expected the \"corruption\" record");
  ExpectError(with_line(2, R"({"workload":{"ops":["r0"]}})"), "field 'ops'[0]: bad op \"r0\"");
  ExpectError(with_line(2, R"({"workload":{"ops":["w01"]}})"), "bad op \"w01\"");
  ExpectError(with_line(2, R"({"workload":{"ops":["e"]}})"), "bad op \"e\"");
  ExpectError(with_line(2, R"({"workload":{"ops":["w99999999999999999999"]}})"), "bad op");
  ExpectError(with_line(2, R"({"workload":{"seed":0,"lanes":[["w0"]],"schedule":[]}})"),
              "missing field 'ops'");
  std::string too_many = R"({"workload":{"ops":[)";
  for (size_t i = 0; i <= kMaxBadInputOps; ++i) too_many += i == 0 ? "\"z0\"" : ",\"z0\"";
  ExpectError(with_line(2, too_many + "]}}"), "exceed the limit of 4096");
  ExpectError(with_line(1, R"({"config":{"profile":"linux","lbasize":512,"nfree":1,)"
                           R"("model":"px86","namespace_bytes":16777217}})"),
              "field 'namespace_bytes': 16777217 exceeds 16777216");
  ExpectError(with_line(1, R"({"config":{"profile":"linux","lbasize":512,"nfree":1,)"
                           R"("model":"px86","namespace_bytes":0}})"),
              "field 'namespace_bytes': must be at least 1");
  ExpectError(with_line(1, R"({"config":{"profile":"linux","lbasize":512,"nfree":1,)"
                           R"("model":"px86","namespace_bytes":4096,"flush":"clwb"}})"),
              "unknown field 'flush'");
  ExpectError(with_line(4, R"({"expect":{"verdict":"violation","check":"BAD-X","detail":""}})"),
              "expected an ORACLE-* or PROP-* check name");
  ExpectError(with_line(0, R"({"tearproof_trace":2,"tool_commit":"x","mutant":"none",)"
                           R"("device":"plain-pmem","case":"bad-input"})"),
              "a bad-input, format round-trip or concurrent case runs a BTT");
  // A crash trace's check is an ORACLE-* name only.
  std::vector<std::string> crash = Lines(SerializeTrace(Example()));
  crash[4] = R"({"expect":{"verdict":"violation","check":"PROP-BAD-UNTOUCHED","detail":""}})";
  ExpectError(Join(crash), "expected an ORACLE-* check name");
}

TEST(Trace, SeededCorruptionIsNeverACrash) {
  for (const Trace& example : Examples()) {
    const std::string text = SerializeTrace(example);
    Prng prng(20260901);
    uint64_t rejected = 0;
    for (int round = 0; round < 2000; ++round) {
      std::string copy = text;
      const int flips = 1 + static_cast<int>(prng.Below(4));
      for (int f = 0; f < flips; ++f) {
        copy[prng.Below(copy.size())] = static_cast<char>(prng.Below(256));
      }
      auto parsed = ParseTrace(copy);
      if (!parsed.ok()) {
        ++rejected;
        EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
        EXPECT_FALSE(parsed.status().message().empty());
      }
    }
    EXPECT_GT(rejected, 1000u);
  }
}

TEST(Trace, FilesReadBackAndMissingFilesAreNamed) {
  const std::string path = ::testing::TempDir() + "/tearproof_trace_test.jsonl";
  ASSERT_TRUE(WriteTraceFile(path, Example()).ok());
  auto read = ReadTraceFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(SerializeTrace(*read), SerializeTrace(Example()));
  auto missing = ReadTraceFile(path + ".missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(".missing"), std::string::npos);
  EXPECT_FALSE(WriteTraceFile("/nonexistent-dir/x.jsonl", Example()).ok());
}

TEST(Trace, StemSaysWhatTheTraceIs) {
  EXPECT_EQ(TraceStem(Example()), "seq-skips-uefi-4096-word8-nfree2-w1_r0_z12-p7");
  Trace plain;
  plain.config.device = harness::Device::kPlainPmem;
  plain.config.ops = {{Kind::kWrite, 0}};
  plain.crash_point = 1;
  EXPECT_EQ(TraceStem(plain), "plain-pmem-512-px86-w0-p1");
  EXPECT_EQ(TraceStem(BadInputExample()),
            "bad-input-recover-roll-back-pmemblk-520-eadr-nfree2-4ops-2patches");
}

}  // namespace
}  // namespace tearproof::traces
