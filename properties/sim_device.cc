#include "properties/sim_device.h"

#include <algorithm>
#include <cstring>

#include "btt/layout.h"
#include "harness/explorer.h"
#include "sim/event.h"

namespace tearproof::properties {
namespace {

// Fixed UUIDs: a case's bytes must not depend on anything but the case.
constexpr btt::Uuid kUuid = {0x70, 0x72, 0x6f, 0x70, 0x73, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr btt::Uuid kParentUuid = {0x70, 0x61, 0x72, 0x65, 0x6e, 0x74, 0, 0,
                                   0,    0,    0,    0,    0,    0,    0, 2};
constexpr btt::Uuid kPartUuid = {0x70, 0x61, 0x72, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};

}  // namespace

Result<uint64_t> ExternalNlba(const DeviceConfig& config) {
  TP_ASSIGN_OR_RETURN(
      const btt::Geometry geo,
      btt::ComputeGeometry(config.profile, config.namespace_bytes, config.lbasize, config.nfree));
  return geo.external_nlba_total;
}

std::string ToString(const DeviceConfig& config) {
  return std::string(btt::ProfileName(config.profile)) + " " + std::to_string(config.lbasize) +
         "-byte sectors, nfree " + std::to_string(config.nfree) + ", " +
         sim::PersistencyModelName(config.model) + ", namespace " +
         std::to_string(config.namespace_bytes) + " bytes";
}

std::vector<std::byte> SectorBytes(uint64_t lba, ValueId id, uint32_t size) {
  std::vector<std::byte> s(size);
  if (id == kZeroValue || id == kErrorValue) return s;
  // Write ids name 16 bits of the tag; a larger id would alias another write's value.
  TP_ASSERT(id < 0x10000, "INV-PROP-VALUE-ID");
  for (uint64_t off = 0, word = 0; off < size; off += 8, ++word) {
    const uint64_t tag = harness::SectorTag(lba, id, word);
    std::memcpy(s.data() + off, &tag, std::min<uint64_t>(8, size - off));
  }
  return s;
}

std::string ValueName(ValueId id) {
  if (id == kZeroValue) return "zero";
  if (id == kErrorValue) return "error";
  return "write " + std::to_string(id);
}

ValueId Op::Value() const {
  switch (kind) {
    case Kind::kWrite:
      return id;
    case Kind::kZero:
      return kZeroValue;
    case Kind::kError:
      return kErrorValue;
  }
  return kZeroValue;
}

std::string ToString(const Op& op) {
  // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "w" + std::string.
  std::string s(1, op.kind == Op::Kind::kWrite ? 'w' : op.kind == Op::Kind::kZero ? 'z' : 'e');
  s += std::to_string(op.lba);
  if (op.kind == Op::Kind::kWrite) {
    s += '#';
    s += std::to_string(op.id);
  }
  return s;
}

std::string ToString(const std::vector<Op>& ops) {
  std::string s;
  for (const Op& op : ops) {
    if (!s.empty()) s += ' ';
    s += ToString(op);
  }
  return s.empty() ? "(none)" : s;
}

std::string ToString(const CrashSpec& spec) {
  std::string s = "crash before fence " + std::to_string(spec.fence) + ", choices [";
  for (size_t i = 0; i < spec.choices.size(); ++i) {
    if (i > 0) s += ' ';
    s += std::to_string(spec.choices[i]);
  }
  return s + "]";
}

uint32_t VectorChooser::Choose(uint64_t /*word_addr*/, uint32_t candidate_count) {
  const uint32_t choice = next_ < choices_.size() ? choices_[next_] : 0;
  ++next_;
  return choice % candidate_count;
}

void CrashTrap::OnFence() {
  if (!crashed_ && fences_seen_ == spec_.fence) {
    crashed_ = medium_.LazyCrash(std::make_shared<VectorChooser>(spec_.choices));
  }
  ++fences_seen_;
}

sim::Medium CrashTrap::TakeCrash() {
  if (!crashed_) crashed_ = medium_.LazyCrash(std::make_shared<VectorChooser>(spec_.choices));
  sim::Medium m = std::move(*crashed_);
  crashed_.reset();
  return m;
}

Result<sim::Medium> MakeMedium(const DeviceConfig& config) {
  return sim::Medium::Create(
      {.size_bytes = config.namespace_bytes, .model = config.model, .event_log = false});
}

Status FormatDevice(sim::Medium& medium, const DeviceConfig& config, bool fresh, CrashTrap* trap) {
  harness::SimNamespace ns(medium);
  if (trap != nullptr) ns.set_fence_hook([trap] { trap->OnFence(); });
  if (fresh) {
    return harness::FormatSimulatedBtt(ns, config.profile, config.lbasize, config.nfree);
  }
  // A re-format over old contents must zero the map: the harness's format assumes a zeroed
  // medium. The UUIDs are fixed all the same.
  btt::FormatOptions format;
  format.profile = config.profile;
  format.external_lbasize = config.lbasize;
  format.nfree = config.nfree;
  format.uuid = kUuid;
  format.parent_uuid = kParentUuid;
  format.pool_part_uuid = kPartUuid;
  format.medium_is_zeroed = false;
  return btt::Btt::Format(ns, format);
}

Result<std::unique_ptr<Session>> Session::Open(sim::Medium& medium, const DeviceConfig& config,
                                               bool read_only, CrashTrap* trap, bool detect,
                                               btt::Sync* sync) {
  std::unique_ptr<Session> s(new Session(medium, read_only));
  s->SetTrap(trap);
  btt::OpenOptions options;
  if (!detect) {
    options.profile = config.profile;
    options.external_lbasize = config.lbasize;
  }
  options.sync = sync != nullptr ? sync : &s->sync_;
  options.lanes = btt::kMaxNfree;  // capped at nfree: every lane is in use
  options.read_only = read_only;
  TP_ASSIGN_OR_RETURN(s->btt_, btt::Btt::Open(s->ns_, options));
  s->SetTrap(nullptr);
  return s;
}

void Session::SetTrap(CrashTrap* trap) {
  if (trap == nullptr) {
    ns_.set_fence_hook(nullptr);
  } else {
    ns_.set_fence_hook([trap] { trap->OnFence(); });
  }
}

Status Session::Apply(const Op& op) {
  const btt::ExternalLba lba(op.lba);
  switch (op.kind) {
    case Op::Kind::kWrite:
      return btt_->Write(lba, SectorBytes(op.lba, op.id, btt_->ExternalLbaSize()));
    case Op::Kind::kZero:
      return btt_->Zero(lba);
    case Op::Kind::kError:
      return btt_->SetError(lba);
  }
  return InternalError("unknown op kind");
}

View ReadView(btt::Btt& btt, const std::vector<uint64_t>& lbas) {
  View view;
  for (uint64_t lba : lbas) {
    SectorView& v = view[lba];
    std::vector<std::byte> bytes(btt.ExternalLbaSize());
    const Status s = btt.Read(btt::ExternalLba(lba), bytes);
    v.code = s.code();
    if (s.ok()) v.bytes = std::move(bytes);
  }
  return view;
}

std::optional<Violation> JudgeView(const View& view, const Allowed& allowed, uint32_t lbasize,
                                   std::map<uint64_t, ValueId>* held) {
  static const std::vector<ValueId> kOnlyZero = {kZeroValue};
  for (const auto& [lba, got] : view) {
    const auto it = allowed.find(lba);
    const std::vector<ValueId>& may = it == allowed.end() ? kOnlyZero : it->second;
    std::optional<ValueId> match;
    for (ValueId id : may) {
      const bool same = id == kErrorValue ? got.code == StatusCode::kMediaError
                                          : got.code == StatusCode::kOk &&
                                                got.bytes == SectorBytes(lba, id, lbasize);
      if (same) {
        match = id;
        break;
      }
    }
    if (match) {
      if (held != nullptr) (*held)[lba] = *match;
      continue;
    }
    std::string expected;
    for (ValueId id : may) {
      if (!expected.empty()) expected += " or ";
      expected += ValueName(id);
    }
    std::string seen = "status ";
    if (got.code == StatusCode::kOk) {
      seen = "[";  // appended: GCC 12's -Wrestrict misfires on "[" + std::string
      seen += harness::DescribeSector(got.bytes);
      seen += ']';
    } else {
      seen += StatusCodeName(got.code);
    }
    return Violation{"ORACLE-ATOMIC",
                     "lba " + std::to_string(lba) + " reads " + seen + ", expected " + expected};
  }
  return std::nullopt;
}

Recovery Recover(sim::Medium& crashed, const DeviceConfig& config,
                 const std::vector<uint64_t>& lbas,
                 const std::optional<CrashSpec>& recovery_crash) {
  Recovery r;
  auto fail = [&r](std::string check, std::string detail) {
    r.violation = Violation{std::move(check), std::move(detail)};
    r.session.reset();
    return std::move(r);
  };
  // 1. Read-only open first: it resolves the words it reads, which every later open of this
  //    crash state (the medium itself or a nested copy) then sees identically.
  View ro_view;
  {
    auto ro = Session::Open(crashed, config, /*read_only=*/true);
    if (!ro.ok()) return fail("ORACLE-RECOVER", "read-only open: " + ro.status().ToString());
    ro_view = ReadView((*ro)->btt(), lbas);
    if ((*ro)->ns().store_calls() != 0) {
      return fail("ORACLE-RO-EQUALS-RW", "the read-only open stored to the medium");
    }
  }
  // 2. Idempotence: recover a copy of the same crash state (nothing is pending on a crashed
  //    medium, so the copy shares its resolution), crash that recovery, recover again.
  std::optional<View> nested_view;
  if (recovery_crash) {
    sim::Medium copy = crashed.LazyCrash(std::make_shared<sim::FixedChooser>(0));
    CrashTrap trap(copy, *recovery_crash);
    auto interrupted = Session::Open(copy, config, /*read_only=*/false, &trap);
    if (!interrupted.ok()) {
      return fail("ORACLE-RECOVER", "read-write open: " + interrupted.status().ToString());
    }
    if (trap.fired()) {
      r.recovery_crashed = true;
      sim::Medium again = trap.TakeCrash();
      auto reopened = Session::Open(again, config, /*read_only=*/false);
      if (!reopened.ok()) {
        return fail("ORACLE-IDEMPOTENT", "re-open after a crash in recovery (" +
                                             ToString(*recovery_crash) +
                                             "): " + reopened.status().ToString());
      }
      nested_view = ReadView((*reopened)->btt(), lbas);
    }
  }
  // 3. Read-write recovery of the crash state itself.
  auto rw = Session::Open(crashed, config, /*read_only=*/false);
  if (!rw.ok()) return fail("ORACLE-RECOVER", "read-write open: " + rw.status().ToString());
  r.session = std::move(*rw);
  r.view = ReadView(r.session->btt(), lbas);
  for (const auto& [lba, v] : r.view) {
    if (v.code != StatusCode::kOk && v.code != StatusCode::kMediaError) {
      return fail("ORACLE-RECOVER", "lba " + std::to_string(lba) + " cannot be read: status " +
                                        StatusCodeName(v.code));
    }
  }
  if (ro_view != r.view) {
    return fail("ORACLE-RO-EQUALS-RW", "the read-only open shows other sectors than recovery");
  }
  if (nested_view && *nested_view != r.view) {
    return fail("ORACLE-IDEMPOTENT", "recovery interrupted (" + ToString(*recovery_crash) +
                                         ") and re-run shows other sectors");
  }
  auto report = r.session->btt().Check(/*repair=*/false);
  if (!report.ok()) return fail("ORACLE-CHECK", report.status().ToString());
  if (!report->Clean()) return fail("ORACLE-CHECK", report->ToString());
  return r;
}

Allowed AllowedAfterCrash(const std::map<uint64_t, ValueId>& held,
                          const std::optional<Op>& in_flight) {
  Allowed allowed = AllowedExactly(held);
  if (in_flight) {
    std::vector<ValueId>& may = allowed[in_flight->lba];
    if (may.empty()) may.push_back(kZeroValue);
    may.push_back(in_flight->Value());
  }
  return allowed;
}

Result<CrashedHistory> RunHistoryToCrash(const DeviceConfig& config, const std::vector<Op>& history,
                                         const CrashSpec& crash) {
  CrashedHistory out;
  TP_ASSIGN_OR_RETURN(sim::Medium medium, MakeMedium(config));
  TP_RETURN_IF_ERROR(FormatDevice(medium, config).Annotate("format: "));
  TP_ASSIGN_OR_RETURN(auto session, Session::Open(medium, config, /*read_only=*/false));
  CrashTrap trap(medium, crash);
  session->SetTrap(&trap);
  for (size_t i = 0; i < history.size(); ++i) {
    const Op& op = history[i];
    const Status s = session->Apply(op);
    if (!s.ok()) {
      out.violation = Violation{
          "PROP-OP-FAILED", "op " + std::to_string(i) + " (" + ToString(op) + "): " + s.ToString()};
      return out;
    }
    if (trap.fired()) {
      out.in_flight = op;
      break;
    }
    out.completed[op.lba] = op.Value();
  }
  session->SetTrap(nullptr);
  out.crashed = trap.TakeCrash();
  return out;
}

std::vector<std::byte> LoadBytes(sim::Medium& medium, uint64_t offset, uint64_t size) {
  std::vector<std::byte> bytes(size);
  const Status s = medium.Load(sim::Lane(0), offset, bytes);
  // Callers pass ranges of the geometry they formatted: out of range is a harness bug.
  TP_ASSERT(s.ok(), "INV-PROP-RAW-RANGE");
  return bytes;
}

Status StoreDurably(sim::Medium& medium, uint64_t offset, std::span<const std::byte> bytes) {
  harness::SimNamespace ns(medium);
  return ns.WritePersist(offset, bytes);
}

btt::FlogGroup LoadFlogGroup(sim::Medium& medium, const btt::Geometry& geo, uint32_t lane) {
  const btt::ArenaGeometry& a = geo.arenas[0];
  btt::FlogGroup g;
  const std::vector<std::byte> bytes = LoadBytes(
      medium, geo.btt_offset + a.offset + a.flogoff + uint64_t{lane} * btt::kFlogGroupSize,
      sizeof(g));
  std::memcpy(&g, bytes.data(), sizeof(g));
  return g;
}

std::optional<btt::FlogSlot> NewerFlogSlot(const btt::FlogGroup& group) {
  const btt::FlogSlot& a = group.slot[0];
  for (uint32_t second : {1u, 2u}) {
    const btt::FlogSlot& b = group.slot[second];
    if (b.IsPadding()) continue;
    auto newer = btt::NewerSlot(a.seq, b.seq);
    if (!newer.ok()) return std::nullopt;
    return *newer == 0 ? a : b;
  }
  return a;
}

Allowed AllowedExactly(const std::map<uint64_t, ValueId>& held) {
  Allowed allowed;
  for (const auto& [lba, id] : held) allowed[lba] = {id};
  return allowed;
}

std::vector<uint64_t> AllLbas(uint64_t n) {
  std::vector<uint64_t> lbas(n);
  for (uint64_t i = 0; i < n; ++i) lbas[i] = i;
  return lbas;
}

}  // namespace tearproof::properties
