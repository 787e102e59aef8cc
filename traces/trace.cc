#include "traces/trace.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "harness/matrix.h"
#include "sim/scheduler.h"

#ifndef TEARPROOF_GIT_COMMIT
#define TEARPROOF_GIT_COMMIT "unknown"
#endif

namespace tearproof::traces {
namespace {

using Json = nlohmann::ordered_json;

const std::map<std::string, harness::FlushKind>& FlushKinds() {
  static const std::map<std::string, harness::FlushKind> kinds = {
      {"clwb", harness::FlushKind::kClwb},
      {"clflushopt", harness::FlushKind::kClflushopt},
      {"clflush", harness::FlushKind::kClflush},
      {"lost-flushes", harness::FlushKind::kNone}};
  return kinds;
}

std::string FlushName(harness::FlushKind kind) {
  for (const auto& [name, k] : FlushKinds()) {
    if (k == kind) return name;
  }
  return "?";
}

const char* TypeName(const Json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  // nlohmann reads an integer beyond 64 bits as a floating-point number.
  if (j.is_number_float()) return "a fraction or an integer beyond 64 bits";
  if (j.is_number_unsigned()) return "an unsigned integer";
  if (j.is_number_integer()) return "a negative integer";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

// Reads the fields of one JSON object, each at most once, and rejects any it did not read.
// Every error names where the field is: "line 2 (config): field 'nfree': ...".
class Fields {
 public:
  Fields(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  Status Error(const std::string& key, const std::string& what) const {
    return InvalidArgument(where_ + ": field '" + key + "': " + what);
  }

  Result<const Json*> Get(const std::string& key) {
    const auto it = object_.find(key);
    if (it == object_.end()) return InvalidArgument(where_ + ": missing field '" + key + "'");
    read_.insert(key);
    return &*it;
  }
  Result<uint64_t> U64(const std::string& key, uint64_t max = UINT64_MAX) {
    TP_ASSIGN_OR_RETURN(const Json* j, Get(key));
    if (!j->is_number_unsigned()) {
      return Error(key, std::string("expected an unsigned integer, got ") + TypeName(*j));
    }
    const uint64_t v = j->get<uint64_t>();
    if (v > max) return Error(key, std::to_string(v) + " exceeds " + std::to_string(max));
    return v;
  }
  Result<bool> Bool(const std::string& key) {
    TP_ASSIGN_OR_RETURN(const Json* j, Get(key));
    if (!j->is_boolean())
      return Error(key, std::string("expected true/false, got ") + TypeName(*j));
    return j->get<bool>();
  }
  Result<std::string> String(const std::string& key) {
    TP_ASSIGN_OR_RETURN(const Json* j, Get(key));
    if (!j->is_string()) return Error(key, std::string("expected a string, got ") + TypeName(*j));
    return j->get<std::string>();
  }
  Result<const Json*> Array(const std::string& key) {
    TP_ASSIGN_OR_RETURN(const Json* j, Get(key));
    if (!j->is_array()) return Error(key, std::string("expected an array, got ") + TypeName(*j));
    return j;
  }
  Result<const Json*> Object(const std::string& key) {
    TP_ASSIGN_OR_RETURN(const Json* j, Get(key));
    if (!j->is_object()) return Error(key, std::string("expected an object, got ") + TypeName(*j));
    return j;
  }
  bool Has(const std::string& key) const { return object_.contains(key); }
  // REQUIRES: every expected field was read. Unknown fields are errors: a typo must not be
  // silently ignored by a replay that then tests something else.
  Status Done() const {
    for (const auto& item : object_.items()) {
      if (!read_.count(item.key())) {
        return InvalidArgument(where_ + ": unknown field '" + item.key() + "'");
      }
    }
    return Status::Ok();
  }
  const std::string& where() const { return where_; }

 private:
  const Json& object_;
  std::string where_;
  std::set<std::string> read_;
};

Result<harness::WorkloadOp> ParseOp(const Json& j, const std::string& where) {
  if (!j.is_string()) {
    return InvalidArgument(where + ": expected an op like \"w0\", \"z1\" or \"r0\", got " +
                           TypeName(j));
  }
  const std::string text = j.get<std::string>();
  auto ops = harness::ParseWorkload(text);
  // Exactly one op, spelled canonically ("w01" or "w0,w1" are rejected).
  if (!ops.ok() || ops->size() != 1 || harness::WorkloadToString(*ops) != text) {
    return InvalidArgument(where + ": bad op \"" + text +
                           "\" (expected wN, zN or rN with a decimal LBA)");
  }
  return ops->front();
}

Result<std::vector<harness::WorkloadOp>> ParseOps(const Json& array, const std::string& where) {
  if (!array.is_array()) {
    return InvalidArgument(where + ": expected an array of ops, got " + TypeName(array));
  }
  std::vector<harness::WorkloadOp> ops;
  for (size_t i = 0; i < array.size(); ++i) {
    TP_ASSIGN_OR_RETURN(harness::WorkloadOp op,
                        ParseOp(array[i], where + "[" + std::to_string(i) + "]"));
    ops.push_back(op);
  }
  return ops;
}

Json OpsJson(const std::vector<harness::WorkloadOp>& ops) {
  Json out = Json::array();
  for (const harness::WorkloadOp& op : ops) out.push_back(harness::WorkloadToString({op}));
  return out;
}

std::string Hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

Result<uint64_t> ParseHex(const Json& j, const std::string& where) {
  if (!j.is_string()) {
    return InvalidArgument(where + ": expected a hex string like \"0x1040\", got " + TypeName(j));
  }
  const std::string s = j.get<std::string>();
  if (s.size() < 3 || s.size() > 18 || s[0] != '0' || s[1] != 'x') {
    return InvalidArgument(where + ": expected a hex string like \"0x1040\", got \"" + s + "\"");
  }
  uint64_t v = 0;
  for (size_t i = 2; i < s.size(); ++i) {
    const char c = s[i];
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return InvalidArgument(where + ": bad hex digit in \"" + s + "\"");
    }
    v = v << 4 | digit;
  }
  return v;
}

// --- The records, one per line ----------------------------------------------------------------

// profile, lbasize, nfree and model: the fields both kinds of "config" record start with.
Status ParseShape(Fields& f, btt::Profile* profile, uint32_t* lbasize, uint32_t* nfree,
                  sim::PersistencyModel* model) {
  TP_ASSIGN_OR_RETURN(const std::string name, f.String("profile"));
  bool found = false;
  for (btt::Profile p : {btt::Profile::kLinux, btt::Profile::kUefi, btt::Profile::kPmemblk}) {
    if (name == btt::ProfileName(p)) {
      *profile = p;
      found = true;
    }
  }
  if (!found) return f.Error("profile", "expected linux, uefi or pmemblk, got \"" + name + "\"");
  TP_ASSIGN_OR_RETURN(const uint64_t size, f.U64("lbasize", UINT32_MAX));
  *lbasize = static_cast<uint32_t>(size);
  TP_ASSIGN_OR_RETURN(const uint64_t free_blocks, f.U64("nfree", UINT32_MAX));
  if (free_blocks == 0) return f.Error("nfree", "must be at least 1");
  *nfree = static_cast<uint32_t>(free_blocks);
  TP_ASSIGN_OR_RETURN(const std::string model_name, f.String("model"));
  const auto parsed = sim::ParsePersistencyModel(model_name);
  if (!parsed) return f.Error("model", "expected px86, word8 or eadr, got \"" + model_name + "\"");
  *model = *parsed;
  return Status::Ok();
}

Json ShapeJson(btt::Profile profile, uint32_t lbasize, uint32_t nfree,
               sim::PersistencyModel model) {
  Json config;
  config["profile"] = btt::ProfileName(profile);
  config["lbasize"] = lbasize;
  config["nfree"] = nfree;
  config["model"] = sim::PersistencyModelName(model);
  return config;
}

Status ParseHeader(const Json& j, const std::string& where, uint64_t* version_out, Trace* t) {
  Fields f(j, where);
  TP_ASSIGN_OR_RETURN(const uint64_t version, f.U64("tearproof_trace"));
  *version_out = version;
  if (version < kCrashFormatVersion || version > kFormatVersion) {
    return InvalidArgument(where + ": trace format version " + std::to_string(version) +
                           " is not supported (this tearproof reads versions " +
                           std::to_string(kCrashFormatVersion) + " to " +
                           std::to_string(kFormatVersion) + ")");
  }
  // Version 1 has no "case" (Done() below rejects it there as an unknown field).
  if (version >= kBadInputFormatVersion && f.Has("case")) {
    TP_ASSIGN_OR_RETURN(const std::string kind, f.String("case"));
    if (kind == "bad-input") {
      t->kind = TraceKind::kBadInput;
    } else if (kind == "format-round-trip") {
      if (version < kFormatRoundTripFormatVersion) {
        return f.Error("case", "\"format-round-trip\" needs format version " +
                                   std::to_string(kFormatRoundTripFormatVersion) +
                                   " (the header says " + std::to_string(version) + ")");
      }
      t->kind = TraceKind::kFormatRoundTrip;
    } else if (kind == "concurrent") {
      if (version < kConcurrentFormatVersion) {
        return f.Error("case", "\"concurrent\" needs format version " +
                                   std::to_string(kConcurrentFormatVersion) + " (the header says " +
                                   std::to_string(version) + ")");
      }
      t->kind = TraceKind::kConcurrent;
    } else if (kind != "crash") {
      return f.Error("case",
                     "expected \"crash\", \"bad-input\", \"format-round-trip\" or \"concurrent\", "
                     "got \"" +
                         kind + "\"");
    }
  }
  TP_ASSIGN_OR_RETURN(t->tool_commit, f.String("tool_commit"));
  TP_ASSIGN_OR_RETURN(t->mutant, f.String("mutant"));
  if (t->mutant.empty() ||
      t->mutant.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return f.Error("mutant", "expected \"none\" or a mutant name, got \"" + t->mutant + "\"");
  }
  TP_ASSIGN_OR_RETURN(const std::string device, f.String("device"));
  const auto parsed = harness::ParseDevice(device);
  if (!parsed)
    return f.Error("device", "expected \"btt\" or \"plain-pmem\", got \"" + device + "\"");
  t->config.device = *parsed;
  if (t->kind != TraceKind::kCrash && *parsed != harness::Device::kBtt) {
    return f.Error(
        "device", "a bad-input, format round-trip or concurrent case runs a BTT: expected \"btt\"");
  }
  return f.Done();
}

Status ParseConfig(const Json& j, const std::string& where, uint64_t version, Trace* t) {
  Fields f(j, where);
  harness::ExploreConfig& c = t->config;
  TP_RETURN_IF_ERROR(ParseShape(f, &c.profile, &c.external_lbasize, &c.nfree, &c.model));
  TP_ASSIGN_OR_RETURN(const std::string flush, f.String("flush"));
  const auto kind = FlushKinds().find(flush);
  if (kind == FlushKinds().end()) {
    return f.Error("flush",
                   "expected clwb, clflushopt, clflush or lost-flushes, got \"" + flush + "\"");
  }
  c.workload_flush = kind->second;
  TP_ASSIGN_OR_RETURN(c.check_layout, f.Bool("check_layout"));
  TP_ASSIGN_OR_RETURN(c.crash_in_recovery, f.Bool("crash_in_recovery"));
  TP_ASSIGN_OR_RETURN(c.max_states_per_point, f.U64("max_states_per_point"));
  if (c.max_states_per_point == 0) return f.Error("max_states_per_point", "must be at least 1");
  TP_ASSIGN_OR_RETURN(const Json* setup, f.Array("setup"));
  TP_ASSIGN_OR_RETURN(c.setup_ops, ParseOps(*setup, where + ": field 'setup'"));
  TP_ASSIGN_OR_RETURN(c.mutant_after_setup, f.Bool("mutant_after_setup"));
  // Optional, for traces written before it existed: absent = 0 = the medium size those traces
  // were recorded on (ReplayConfig). Explore checks the value itself.
  if (f.Has("crash_in_format")) {
    TP_ASSIGN_OR_RETURN(c.crash_in_format, f.Bool("crash_in_format"));  // absent = false
  }
  if (f.Has("medium_size")) {
    TP_ASSIGN_OR_RETURN(c.medium_size, f.U64("medium_size"));
    if (c.medium_size == 0) return f.Error("medium_size", "must be at least 1 (or absent)");
  }
  // Absent = 0: only the LBAs the ops name are judged, as in every trace before version 3. A
  // version-1 or -2 header with the field is an error rather than a silent upgrade: the writer
  // of such a file meant a format this header does not name. Explore refuses a tracked LBA the
  // device lacks.
  if (f.Has("track_lbas")) {
    if (version < kTrackLbasFormatVersion) {
      return f.Error("track_lbas", "needs format version " +
                                       std::to_string(kTrackLbasFormatVersion) +
                                       " (the header says " + std::to_string(version) + ")");
    }
    TP_ASSIGN_OR_RETURN(const uint64_t tracked, f.U64("track_lbas", UINT32_MAX));
    if (tracked == 0) return f.Error("track_lbas", "must be at least 1 (or absent)");
    c.track_lbas = static_cast<uint32_t>(tracked);
  }
  return f.Done();
}

Status ParseWorkloadRecord(const Json& j, const std::string& where, uint64_t /*version*/,
                           Trace* t) {
  Fields f(j, where);
  TP_ASSIGN_OR_RETURN(t->seed, f.U64("seed"));
  TP_ASSIGN_OR_RETURN(const Json* lanes, f.Array("lanes"));
  if (lanes->empty()) return f.Error("lanes", "at least one lane is needed");
  if (lanes->size() > sim::kMaxLanes) return f.Error("lanes", "more lanes than the medium has");
  for (size_t i = 0; i < lanes->size(); ++i) {
    TP_ASSIGN_OR_RETURN(
        auto ops, ParseOps((*lanes)[i], where + ": field 'lanes'[" + std::to_string(i) + "]"));
    if (i == 0) {
      t->config.ops = std::move(ops);
    } else {
      t->config.other_lanes.push_back(std::move(ops));
    }
  }
  TP_ASSIGN_OR_RETURN(const Json* schedule, f.Array("schedule"));
  for (size_t i = 0; i < schedule->size(); ++i) {
    const Json& s = (*schedule)[i];
    if (!s.is_number_unsigned() || s.get<uint64_t>() > UINT32_MAX) {
      return f.Error("schedule", "entry " + std::to_string(i) +
                                     ": expected a lane choice (unsigned 32-bit), got " +
                                     TypeName(s));
    }
    t->config.schedule.push_back(s.get<uint32_t>());
  }
  return f.Done();
}

Status ParseCrash(const Json& j, const std::string& where, uint64_t /*version*/, Trace* t) {
  Fields f(j, where);
  TP_ASSIGN_OR_RETURN(t->crash_point, f.U64("point"));
  TP_ASSIGN_OR_RETURN(const Json* op, f.Get("op_in_flight"));
  if (op->is_null()) {
    t->op_in_flight = -1;
  } else if (op->is_number_unsigned() && op->get<uint64_t>() < (1ULL << 32)) {
    t->op_in_flight = static_cast<int64_t>(op->get<uint64_t>());
  } else {
    return f.Error("op_in_flight",
                   std::string("expected an op index or null, got ") + TypeName(*op));
  }
  TP_ASSIGN_OR_RETURN(const Json* resolution, f.Array("resolution"));
  std::set<uint64_t> words;
  for (size_t i = 0; i < resolution->size(); ++i) {
    const std::string at = where + ": field 'resolution'[" + std::to_string(i) + "]";
    const Json& r = (*resolution)[i];
    if (!r.is_object()) {
      return InvalidArgument(at + ": expected {\"word\", \"count\", \"index\"}, got " +
                             TypeName(r));
    }
    Fields rf(r, at);
    TP_ASSIGN_OR_RETURN(const Json* word, rf.Get("word"));
    TP_ASSIGN_OR_RETURN(const uint64_t addr, ParseHex(*word, at + ": field 'word'"));
    if (addr % sim::kWordBytes != 0) return rf.Error("word", "not 8-byte aligned");
    if (!words.insert(addr).second) {
      return rf.Error("word", Hex(addr) + " appears twice (a word is resolved once per crash)");
    }
    TP_ASSIGN_OR_RETURN(const uint64_t count, rf.U64("count", UINT32_MAX));
    if (count < 2) return rf.Error("count", "a resolved word has at least 2 candidates");
    TP_ASSIGN_OR_RETURN(const uint64_t index, rf.U64("index", UINT32_MAX));
    if (index >= count) return rf.Error("index", "must be below count");
    TP_RETURN_IF_ERROR(rf.Done());
    t->resolution.push_back({addr, static_cast<uint32_t>(count), static_cast<uint32_t>(index)});
  }
  return f.Done();
}

Status ParseExpect(const Json& j, const std::string& where, uint64_t /*version*/, Trace* t) {
  Fields f(j, where);
  TP_ASSIGN_OR_RETURN(const std::string verdict, f.String("verdict"));
  if (verdict == "pass") {
    t->expect.violation = false;
    if (f.Has("check") || f.Has("detail")) {
      return InvalidArgument(where + ": a \"pass\" verdict has no check or detail");
    }
    return f.Done();
  }
  if (verdict != "violation") {
    return f.Error("verdict", "expected \"violation\" or \"pass\", got \"" + verdict + "\"");
  }
  t->expect.violation = true;
  TP_ASSIGN_OR_RETURN(t->expect.check, f.String("check"));
  // A bad-input or format round-trip case is judged by the property suites' own checks (PROP-*)
  // too.
  const std::string& check = t->expect.check;
  const bool oracle = check.rfind("ORACLE-", 0) == 0 && check.size() > 7;
  const bool prop = check.rfind("PROP-", 0) == 0 && check.size() > 5;
  if ((t->kind == TraceKind::kCrash || t->kind == TraceKind::kConcurrent) && !oracle) {
    return f.Error("check", "expected an ORACLE-* check name, got \"" + check + "\"");
  }
  if (t->kind != TraceKind::kCrash && !oracle && !prop) {
    return f.Error("check", "expected an ORACLE-* or PROP-* check name, got \"" + check + "\"");
  }
  TP_ASSIGN_OR_RETURN(t->expect.detail, f.String("detail"));
  return f.Done();
}

// --- The records of a bad-input or format round-trip trace --------------------------------------

Status ParseBadInputConfig(const Json& j, const std::string& where, uint64_t /*version*/,
                           Trace* t) {
  Fields f(j, where);
  properties::DeviceConfig& d = t->bad_input.device;
  TP_RETURN_IF_ERROR(ParseShape(f, &d.profile, &d.lbasize, &d.nfree, &d.model));
  // A round trip reads only metadata, so it may be sparse and span arenas; a bad-input case
  // images the whole namespace.
  TP_ASSIGN_OR_RETURN(d.namespace_bytes,
                      f.U64("namespace_bytes", t->kind == TraceKind::kFormatRoundTrip
                                                   ? kMaxFormatRoundTripNamespaceBytes
                                                   : kMaxBadInputNamespaceBytes));
  if (d.namespace_bytes == 0) return f.Error("namespace_bytes", "must be at least 1");
  return f.Done();
}

// "w3" (write), "z3" (zero) or "e3" (error flag), with a canonical decimal LBA.
Result<properties::Op> ParseBadInputOp(const Json& j, const std::string& where) {
  const std::string expected = "expected an op like \"w0\", \"z1\" or \"e2\"";
  if (!j.is_string()) return InvalidArgument(where + ": " + expected + ", got " + TypeName(j));
  const std::string text = j.get<std::string>();
  properties::Op op;
  const std::string digits = text.empty() ? "" : text.substr(1);
  bool ok = !digits.empty() && digits.size() <= 19 &&
            digits.find_first_not_of("0123456789") == std::string::npos &&
            (digits == "0" || digits[0] != '0');
  if (ok && text[0] == 'w') {
    op.kind = properties::Op::Kind::kWrite;
  } else if (ok && text[0] == 'z') {
    op.kind = properties::Op::Kind::kZero;
  } else if (ok && text[0] == 'e') {
    op.kind = properties::Op::Kind::kError;
  } else {
    ok = false;
  }
  if (!ok) return InvalidArgument(where + ": bad op \"" + text + "\" (" + expected + ")");
  op.lba = std::stoull(digits);  // at most 19 digits: fits
  return op;
}

// An op list of a bad-input or round-trip workload: `key` of the record, at most kMaxBadInputOps.
Result<std::vector<properties::Op>> ParseBadInputOps(Fields& f, const std::string& key) {
  TP_ASSIGN_OR_RETURN(const Json* ops, f.Array(key));
  if (ops->size() > kMaxBadInputOps) {
    return f.Error(key, std::to_string(ops->size()) + " ops exceed the limit of " +
                            std::to_string(kMaxBadInputOps));
  }
  std::vector<properties::Op> out;
  for (size_t i = 0; i < ops->size(); ++i) {
    TP_ASSIGN_OR_RETURN(
        properties::Op op,
        ParseBadInputOp((*ops)[i], f.where() + ": field '" + key + "'[" + std::to_string(i) + "]"));
    out.push_back(op);
  }
  return out;
}

// "ops" (before the patches); a round trip also has "after" (its second history).
Status ParseBadInputWorkload(const Json& j, const std::string& where, uint64_t /*version*/,
                             Trace* t) {
  Fields f(j, where);
  TP_ASSIGN_OR_RETURN(t->bad_input.ops, ParseBadInputOps(f, "ops"));
  if (t->kind == TraceKind::kFormatRoundTrip) {
    TP_ASSIGN_OR_RETURN(t->bad_input.after_ops, ParseBadInputOps(f, "after"));
  }
  NumberBadInputWrites(t->bad_input);
  return f.Done();
}

// "c0000001": an even number of lowercase hex digits, one byte per pair, in memory order.
Result<std::vector<std::byte>> ParseHexBytes(const Json& j, const std::string& where) {
  if (!j.is_string()) {
    return InvalidArgument(where + ": expected bytes in hex like \"c0000001\", got " + TypeName(j));
  }
  const std::string s = j.get<std::string>();
  if (s.empty() || s.size() % 2 != 0) {
    return InvalidArgument(where + ": expected a non-empty, even number of hex digits, got " +
                           std::to_string(s.size()));
  }
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::vector<std::byte> bytes(s.size() / 2);
  for (size_t i = 0; i < s.size(); ++i) {
    const int d = digit(s[i]);
    if (d < 0) {
      return InvalidArgument(where + ": bad hex digit at position " + std::to_string(i) +
                             " (lowercase 0-9a-f only)");
    }
    bytes[i / 2] =
        static_cast<std::byte>(static_cast<unsigned>(bytes[i / 2]) << 4 | static_cast<unsigned>(d));
  }
  return bytes;
}

Status ParseCorruption(const Json& j, const std::string& where, uint64_t /*version*/, Trace* t) {
  Fields f(j, where);
  const uint64_t size = t->bad_input.device.namespace_bytes;
  TP_ASSIGN_OR_RETURN(const Json* patches, f.Array("patches"));
  for (size_t i = 0; i < patches->size(); ++i) {
    const std::string at = where + ": field 'patches'[" + std::to_string(i) + "]";
    const Json& p = (*patches)[i];
    if (!p.is_object()) {
      return InvalidArgument(at + ": expected {\"offset\", \"bytes\"}, got " + TypeName(p));
    }
    Fields pf(p, at);
    BytePatch patch;
    TP_ASSIGN_OR_RETURN(const Json* offset, pf.Get("offset"));
    TP_ASSIGN_OR_RETURN(patch.offset, ParseHex(*offset, at + ": field 'offset'"));
    TP_ASSIGN_OR_RETURN(const Json* bytes, pf.Get("bytes"));
    TP_ASSIGN_OR_RETURN(patch.bytes, ParseHexBytes(*bytes, at + ": field 'bytes'"));
    TP_RETURN_IF_ERROR(pf.Done());
    if (patch.offset > size || patch.bytes.size() > size - patch.offset) {
      return InvalidArgument(
          at + ": bytes " + Hex(patch.offset) + "+" + std::to_string(patch.bytes.size()) +
          " reach past the end of the namespace (namespace_bytes " + std::to_string(size) + ")");
    }
    if (!t->bad_input.patches.empty() && patch.offset < t->bad_input.patches.back().end()) {
      const BytePatch& last = t->bad_input.patches.back();
      return InvalidArgument(at + ": starts at " + Hex(patch.offset) + ", inside or before patch " +
                             std::to_string(i - 1) + " (" + Hex(last.offset) + "+" +
                             std::to_string(last.bytes.size()) +
                             "): patches are in ascending order and never overlap");
    }
    t->bad_input.patches.push_back(std::move(patch));
  }
  return f.Done();
}

// --- The records of a concurrent trace -----------------------------------------------------------

// The concurrent search's device, which the trace records so that it says what it ran.
Status ParseConcurrentConfig(const Json& j, const std::string& where, uint64_t /*version*/,
                             Trace* t) {
  Fields f(j, where);
  btt::Profile profile;
  uint32_t lbasize, nfree;
  sim::PersistencyModel model;
  TP_RETURN_IF_ERROR(ParseShape(f, &profile, &lbasize, &nfree, &model));
  if (profile != btt::Profile::kLinux || lbasize != harness::kConcurrentSectorBytes ||
      nfree != harness::kConcurrentNfree || model != sim::PersistencyModel::kPx86) {
    return InvalidArgument(where +
                           ": a concurrent run uses the concurrent search's device, linux " +
                           std::to_string(harness::kConcurrentSectorBytes) + " nfree " +
                           std::to_string(harness::kConcurrentNfree) + " px86 (got " +
                           btt::ProfileName(profile) + " " + std::to_string(lbasize) + " nfree " +
                           std::to_string(nfree) + " " + sim::PersistencyModelName(model) + ")");
  }
  TP_ASSIGN_OR_RETURN(const Json* setup, f.Array("setup"));
  if (setup->size() > kMaxConcurrentSetupOps) {
    return f.Error("setup", std::to_string(setup->size()) + " ops exceed the limit of " +
                                std::to_string(kMaxConcurrentSetupOps));
  }
  TP_ASSIGN_OR_RETURN(t->concurrent.setup, ParseOps(*setup, where + ": field 'setup'"));
  for (const harness::WorkloadOp& op : t->concurrent.setup) {
    if (op.kind == harness::WorkloadOp::Kind::kRead) {
      return f.Error("setup", "setup ops are writes and zeros, got \"" +
                                  harness::WorkloadToString({op}) + "\"");
    }
  }
  return f.Done();
}

Status ParseConcurrentWorkload(const Json& j, const std::string& where, uint64_t /*version*/,
                               Trace* t) {
  Fields f(j, where);
  TP_ASSIGN_OR_RETURN(const Json* lanes, f.Array("lanes"));
  if (lanes->empty() || lanes->size() > harness::kConcurrentMaxLanes) {
    return f.Error("lanes", "a concurrent run has 1 to " +
                                std::to_string(harness::kConcurrentMaxLanes) + " lanes, got " +
                                std::to_string(lanes->size()));
  }
  for (size_t i = 0; i < lanes->size(); ++i) {
    const std::string at = where + ": field 'lanes'[" + std::to_string(i) + "]";
    TP_ASSIGN_OR_RETURN(auto ops, ParseOps((*lanes)[i], at));
    if (ops.empty() || ops.size() > kMaxConcurrentOpsPerLane) {
      return InvalidArgument(at + ": a lane has 1 to " + std::to_string(kMaxConcurrentOpsPerLane) +
                             " ops, got " + std::to_string(ops.size()));
    }
    t->concurrent.lanes.push_back(std::move(ops));
  }
  return f.Done();
}

Status ParseConcurrentRun(const Json& j, const std::string& where, uint64_t /*version*/, Trace* t) {
  Fields f(j, where);
  TP_ASSIGN_OR_RETURN(t->concurrent.strategy, f.String("strategy"));
  TP_ASSIGN_OR_RETURN(const Json* schedule, f.Array("schedule"));
  if (schedule->size() > kMaxConcurrentScheduleDecisions) {
    return f.Error("schedule", std::to_string(schedule->size()) +
                                   " decisions exceed the limit of " +
                                   std::to_string(kMaxConcurrentScheduleDecisions));
  }
  const uint64_t lanes = t->concurrent.lanes.size();
  for (size_t i = 0; i < schedule->size(); ++i) {
    const Json& s = (*schedule)[i];
    if (!s.is_number_unsigned() || s.get<uint64_t>() >= lanes) {
      return f.Error("schedule", "entry " + std::to_string(i) + ": expected a lane below " +
                                     std::to_string(lanes) + ", got " +
                                     (s.is_number_unsigned() ? std::to_string(s.get<uint64_t>())
                                                             : std::string(TypeName(s))));
    }
    t->concurrent.schedule.push_back(s.get<uint32_t>());
  }
  TP_ASSIGN_OR_RETURN(t->concurrent.preemptions,
                      f.U64("preemptions", kMaxConcurrentScheduleDecisions));
  return f.Done();
}

std::string HexBytes(const std::vector<std::byte>& bytes) {
  std::string out;
  for (std::byte b : bytes) {
    constexpr char kDigits[] = "0123456789abcdef";
    out += kDigits[static_cast<unsigned>(b) >> 4];
    out += kDigits[static_cast<unsigned>(b) & 0xf];
  }
  return out;
}

std::string BadInputOpName(const properties::Op& op) {
  const char kind = op.kind == properties::Op::Kind::kWrite  ? 'w'
                    : op.kind == properties::Op::Kind::kZero ? 'z'
                                                             : 'e';
  return kind + std::to_string(op.lba);
}

std::string Dump(const Json& j) {
  // Invalid UTF-8 (never produced by tearproof) is replaced rather than thrown on.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

Result<Trace> ParseTrace(std::string_view text) {
  struct Record {
    const char* name;
    Status (*parse)(const Json&, const std::string&, uint64_t version, Trace*);
  };
  constexpr size_t kRecordCount = 4;
  static const Record kCrashRecords[kRecordCount] = {{"config", ParseConfig},
                                                     {"workload", ParseWorkloadRecord},
                                                     {"crash", ParseCrash},
                                                     {"expect", ParseExpect}};
  static const Record kBadInputRecords[kRecordCount] = {{"config", ParseBadInputConfig},
                                                        {"workload", ParseBadInputWorkload},
                                                        {"corruption", ParseCorruption},
                                                        {"expect", ParseExpect}};
  static const Record kConcurrentRecords[kRecordCount] = {{"config", ParseConcurrentConfig},
                                                          {"workload", ParseConcurrentWorkload},
                                                          {"run", ParseConcurrentRun},
                                                          {"expect", ParseExpect}};
  Trace trace;
  const Record* kRecords = kCrashRecords;  // the header's "case" picks the records
  size_t next = 0;                         // 0 = header, then 1 + index into kRecords
  uint64_t version = 0;                    // the header's
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank
    const std::string where_line = "line " + std::to_string(line_number);
    if (next > kRecordCount) {
      return InvalidArgument(where_line + ": unexpected content after the \"expect\" record");
    }
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return InvalidArgument(where_line + ": not valid JSON");
    if (!j.is_object()) {
      return InvalidArgument(where_line + ": expected a JSON object, got " + TypeName(j));
    }
    if (next == 0) {
      if (!j.contains("tearproof_trace")) {
        return InvalidArgument(where_line +
                               ": not a tearproof trace (the header's \"tearproof_trace\" "
                               "version field is missing)");
      }
      TP_RETURN_IF_ERROR(ParseHeader(j, where_line + " (header)", &version, &trace));
      // A round trip has the records of a bad-input case (its workload adds "after").
      if (trace.kind == TraceKind::kBadInput || trace.kind == TraceKind::kFormatRoundTrip) {
        kRecords = kBadInputRecords;
      } else if (trace.kind == TraceKind::kConcurrent) {
        kRecords = kConcurrentRecords;
      }
      ++next;
      continue;
    }
    const Record& record = kRecords[next - 1];
    if (j.size() != 1 || !j.contains(record.name)) {
      return InvalidArgument(where_line + ": expected the \"" + record.name +
                             "\" record, a one-key object {\"" + record.name + "\": {...}}");
    }
    const Json& body = j[record.name];
    const std::string where = where_line + " (" + record.name + ")";
    if (!body.is_object()) {
      return InvalidArgument(where + ": expected an object, got " + TypeName(body));
    }
    TP_RETURN_IF_ERROR(record.parse(body, where, version, &trace));
    ++next;
  }
  if (next == 0) return InvalidArgument("empty trace: no header line");
  if (next <= kRecordCount) {
    return InvalidArgument("truncated trace: the \"" + std::string(kRecords[next - 1].name) +
                           "\" record is missing after line " + std::to_string(line_number));
  }
  return trace;
}

namespace {

Json ExpectJson(const Trace::Expect& e) {
  Json expect;
  if (e.violation) {
    expect["verdict"] = "violation";
    expect["check"] = e.check;
    expect["detail"] = e.detail;
  } else {
    expect["verdict"] = "pass";
  }
  return expect;
}

std::string SerializeBadInputTrace(const Trace& t) {
  const BadInputCase& b = t.bad_input;
  Json header;
  const bool round_trip = t.kind == TraceKind::kFormatRoundTrip;
  header["tearproof_trace"] = round_trip ? kFormatRoundTripFormatVersion : kBadInputFormatVersion;
  header["tool_commit"] = t.tool_commit;
  header["mutant"] = t.mutant;
  header["device"] = harness::DeviceName(harness::Device::kBtt);
  header["case"] = round_trip ? "format-round-trip" : "bad-input";
  Json config = ShapeJson(b.device.profile, b.device.lbasize, b.device.nfree, b.device.model);
  config["namespace_bytes"] = b.device.namespace_bytes;
  auto ops_json = [](const std::vector<properties::Op>& list) {
    Json out = Json::array();
    for (const properties::Op& op : list) out.push_back(BadInputOpName(op));
    return out;
  };
  Json workload;
  workload["ops"] = ops_json(b.ops);
  if (round_trip) workload["after"] = ops_json(b.after_ops);
  Json patches = Json::array();
  for (const BytePatch& p : b.patches) {
    Json patch;
    patch["offset"] = Hex(p.offset);
    patch["bytes"] = HexBytes(p.bytes);
    patches.push_back(patch);
  }
  std::string out = Dump(header) + "\n";
  out += Dump(Json{{"config", config}}) + "\n";
  out += Dump(Json{{"workload", workload}}) + "\n";
  out += Dump(Json{{"corruption", Json{{"patches", patches}}}}) + "\n";
  out += Dump(Json{{"expect", ExpectJson(t.expect)}}) + "\n";
  return out;
}

std::string SerializeConcurrentTrace(const Trace& t) {
  const ConcurrentTraceRun& c = t.concurrent;
  Json header;
  header["tearproof_trace"] = kConcurrentFormatVersion;
  header["tool_commit"] = t.tool_commit;
  header["mutant"] = t.mutant;
  header["device"] = harness::DeviceName(harness::Device::kBtt);
  header["case"] = "concurrent";
  Json config = ShapeJson(btt::Profile::kLinux, harness::kConcurrentSectorBytes,
                          harness::kConcurrentNfree, sim::PersistencyModel::kPx86);
  config["setup"] = OpsJson(c.setup);
  Json lanes = Json::array();
  for (const auto& lane : c.lanes) lanes.push_back(OpsJson(lane));
  Json run;
  run["strategy"] = c.strategy;
  run["schedule"] = c.schedule;
  run["preemptions"] = c.preemptions;
  std::string out = Dump(header) + "\n";
  out += Dump(Json{{"config", config}}) + "\n";
  out += Dump(Json{{"workload", Json{{"lanes", lanes}}}}) + "\n";
  out += Dump(Json{{"run", run}}) + "\n";
  out += Dump(Json{{"expect", ExpectJson(t.expect)}}) + "\n";
  return out;
}

}  // namespace

std::string SerializeTrace(const Trace& t) {
  if (t.kind == TraceKind::kConcurrent) return SerializeConcurrentTrace(t);
  if (t.kind != TraceKind::kCrash) return SerializeBadInputTrace(t);
  const harness::ExploreConfig& c = t.config;
  Json header;
  header["tearproof_trace"] = c.track_lbas != 0 ? kTrackLbasFormatVersion : kCrashFormatVersion;
  header["tool_commit"] = t.tool_commit;
  header["mutant"] = t.mutant;
  header["device"] = harness::DeviceName(c.device);
  Json config = ShapeJson(c.profile, c.external_lbasize, c.nfree, c.model);
  config["flush"] = FlushName(c.workload_flush);
  config["check_layout"] = c.check_layout;
  config["crash_in_recovery"] = c.crash_in_recovery;
  config["max_states_per_point"] = c.max_states_per_point;
  config["setup"] = OpsJson(c.setup_ops);
  config["mutant_after_setup"] = c.mutant_after_setup;
  if (c.medium_size != 0) config["medium_size"] = c.medium_size;
  if (c.crash_in_format) config["crash_in_format"] = true;
  if (c.track_lbas != 0) config["track_lbas"] = c.track_lbas;
  Json workload;
  workload["seed"] = t.seed;
  Json lanes = Json::array();
  lanes.push_back(OpsJson(c.ops));
  for (const auto& lane : c.other_lanes) lanes.push_back(OpsJson(lane));
  workload["lanes"] = lanes;
  workload["schedule"] = c.schedule;
  Json crash;
  crash["point"] = t.crash_point;
  crash["op_in_flight"] = t.op_in_flight < 0 ? Json(nullptr) : Json(t.op_in_flight);
  Json resolution = Json::array();
  for (const harness::Choice& choice : t.resolution) {
    Json r;
    r["word"] = Hex(choice.word_addr);
    r["count"] = choice.candidate_count;
    r["index"] = choice.index;
    resolution.push_back(r);
  }
  crash["resolution"] = resolution;
  const Json expect = ExpectJson(t.expect);
  std::string out = Dump(header) + "\n";
  out += Dump(Json{{"config", config}}) + "\n";
  out += Dump(Json{{"workload", workload}}) + "\n";
  out += Dump(Json{{"crash", crash}}) + "\n";
  out += Dump(Json{{"expect", expect}}) + "\n";
  return out;
}

Result<Trace> ReadTraceFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open trace '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("cannot read trace '" + path + "'");
  auto trace = ParseTrace(text.str());
  if (!trace.ok()) return trace.status().Annotate(path + ": ");
  return trace;
}

Status WriteTraceFile(const std::string& path, const Trace& trace) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IoError("cannot create trace '" + path + "'");
  out << SerializeTrace(trace);
  out.close();
  if (!out) return IoError("cannot write trace '" + path + "'");
  return Status::Ok();
}

Trace TraceFromViolation(const harness::ExploreConfig& config,
                         const harness::Violation& violation) {
  Trace t;
  t.tool_commit = ToolCommit();
  t.mutant = harness::NameOfMutant(config.mutant);
  t.config = config;
  t.config.mutant = btt::Mutant::kNone;  // named by t.mutant
  t.config.target.reset();
  t.config.after_setup = nullptr;  // code, not data: a trace cannot carry it
  t.config.stop_at_first_violation = false;
  t.config.only_check.clear();
  // The schedule that found it, not the bound that enumerated it: a trace replays one execution.
  t.config.preemption_bound.reset();
  if (!violation.schedule.empty()) t.config.schedule = violation.schedule;
  // Pin the size the run used: a later change of the explorer's default sizing must not move
  // the addresses the resolution names.
  if (auto size = harness::ExploreMediumSize(config); size.ok()) t.config.medium_size = *size;
  t.crash_point = violation.crash_point;
  t.op_in_flight = violation.op_in_flight;
  t.resolution = violation.resolution;
  t.expect = {true, violation.check, violation.detail};
  return t;
}

Result<harness::ExploreConfig> ReplayConfig(const Trace& trace) {
  if (trace.kind != TraceKind::kCrash) {
    return InvalidArgument(
        "a bad-input, format round-trip or concurrent trace is not replayed by crash exploration");
  }
  harness::ExploreConfig config = trace.config;
  TP_ASSIGN_OR_RETURN(config.mutant, harness::MutantByName(trace.mutant));
  if (config.medium_size == 0 && config.device == harness::Device::kBtt) {
    config.medium_size = harness::MaxExploreMediumSize(config.profile);  // a trace without size
  }
  config.target = harness::CrashTarget{trace.crash_point, trace.resolution};
  config.stop_at_first_violation = false;
  config.only_check.clear();
  return config;
}

std::string TraceStem(const Trace& t) {
  const harness::ExploreConfig& c = t.config;
  std::string stem = t.mutant == "none" ? "" : t.mutant + "-";
  if (t.kind == TraceKind::kConcurrent) {
    // concurrent-<mutant->linux-512-px86-nfree2[-setup_w3_w0]-w0_r1--w1_r0 (lanes joined by
    // "--").
    auto joined = [](const std::vector<harness::WorkloadOp>& ops) {
      std::string text = harness::WorkloadToString(ops);
      std::replace(text.begin(), text.end(), ' ', '_');
      return text;
    };
    stem = "concurrent-" + stem + "linux-" + std::to_string(harness::kConcurrentSectorBytes) +
           "-px86-nfree" + std::to_string(harness::kConcurrentNfree);
    if (!t.concurrent.setup.empty()) stem += "-setup_" + joined(t.concurrent.setup);
    for (size_t i = 0; i < t.concurrent.lanes.size(); ++i) {
      stem += (i == 0 ? "-" : "--") + joined(t.concurrent.lanes[i]);
    }
    return stem;
  }
  if (t.kind != TraceKind::kCrash) {
    const properties::DeviceConfig& d = t.bad_input.device;
    const size_t ops = t.bad_input.ops.size() + t.bad_input.after_ops.size();
    const size_t patches = t.bad_input.patches.size();
    const char* kind = t.kind == TraceKind::kBadInput ? "bad-input-" : "format-round-trip-";
    return kind + stem + btt::ProfileName(d.profile) + "-" + std::to_string(d.lbasize) + "-" +
           sim::PersistencyModelName(d.model) + "-nfree" + std::to_string(d.nfree) + "-" +
           std::to_string(ops) + (ops == 1 ? "op-" : "ops-") + std::to_string(patches) +
           (patches == 1 ? "patch" : "patches");
  }
  if (c.device == harness::Device::kBtt) {
    stem += std::string(btt::ProfileName(c.profile)) + "-" + std::to_string(c.external_lbasize) +
            "-" + sim::PersistencyModelName(c.model) + "-nfree" + std::to_string(c.nfree);
  } else {
    stem += std::string(harness::DeviceName(c.device)) + "-" + std::to_string(c.external_lbasize) +
            "-" + sim::PersistencyModelName(c.model);
  }
  if (c.workload_flush == harness::FlushKind::kNone) stem += "-lost-flushes";
  if (c.track_lbas != 0) stem += "-track" + std::to_string(c.track_lbas);
  std::string ops = harness::WorkloadToString(c.ops);
  for (char& ch : ops) {
    if (ch == ' ') ch = '_';
  }
  stem += "-" + (ops.empty() ? std::string("empty") : ops) + "-p" + std::to_string(t.crash_point);
  return stem;
}

namespace {
// Numbers the writes of `ops` from `next` on; returns the next free id.
properties::ValueId NumberWritesFrom(std::vector<properties::Op>& ops, properties::ValueId next) {
  for (properties::Op& op : ops) op.id = op.kind == properties::Op::Kind::kWrite ? next++ : 0;
  return next;
}
}  // namespace

void NumberBadInputWrites(std::vector<properties::Op>& ops) { NumberWritesFrom(ops, 1); }

void NumberBadInputWrites(BadInputCase& c) {
  NumberWritesFrom(c.after_ops, NumberWritesFrom(c.ops, 1));
}

harness::ConcurrentWorkload ConcurrentTraceRun::Workload() const {
  harness::ConcurrentWorkload w;
  w.setup = harness::WorkloadToString(setup);
  for (const auto& lane : lanes) w.lanes.push_back(harness::WorkloadToString(lane));
  return w;
}

Result<Trace> TraceFromConcurrentViolation(const harness::ConcurrentSearchResult& result,
                                           const std::vector<harness::ConcurrentWorkload>& searched,
                                           btt::Mutant mutant) {
  if (result.first_violation.empty()) {
    return InvalidArgument("the concurrent search found no violation: there is nothing to trace");
  }
  const harness::ConcurrentWorkload* found = nullptr;
  for (const harness::ConcurrentWorkload& w : searched) {
    if (w.Name() == result.violation_workload) found = &w;
  }
  if (found == nullptr) {
    return InvalidArgument("the violation's workload '" + result.violation_workload +
                           "' is not among those searched");
  }
  Trace t;
  t.kind = TraceKind::kConcurrent;
  t.tool_commit = ToolCommit();
  t.mutant = harness::NameOfMutant(mutant);
  if (!found->setup.empty()) {
    TP_ASSIGN_OR_RETURN(t.concurrent.setup, harness::ParseWorkload(found->setup));
  }
  for (const std::string& lane : found->lanes) {
    TP_ASSIGN_OR_RETURN(auto ops, harness::ParseWorkload(lane));
    t.concurrent.lanes.push_back(std::move(ops));
  }
  TP_ASSIGN_OR_RETURN(t.concurrent.schedule, sim::ParseSchedule(result.violation_schedule));
  t.concurrent.preemptions = result.violation_preemptions;
  t.concurrent.strategy = result.violation_strategy;
  // first_violation is "<where>: <check>: <detail>"; the detail is what follows the check.
  const std::string marker = ": " + result.violation_check + ": ";
  const size_t at = result.first_violation.find(marker);
  t.expect = {true, result.violation_check,
              at == std::string::npos ? result.first_violation
                                      : result.first_violation.substr(at + marker.size())};
  return t;
}

const char* ToolCommit() { return TEARPROOF_GIT_COMMIT; }

}  // namespace tearproof::traces
