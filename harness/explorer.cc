#include "harness/explorer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "btt/btt.h"
#include "harness/fiber_sync.h"
#include "harness/plain_pmem.h"
#include "harness/sequential_sync.h"
#include "harness/sim_namespace.h"
#include "sim/medium.h"
#include "sim/scheduler.h"
#include "util/assert.h"

namespace tearproof::harness {
namespace {

constexpr uint64_t kTagMagic = 0x5450ULL;  // "TP": a tagged word is never zero
constexpr size_t kMaxViolations = 8;
// Setup writes are numbered from here, so their tags never collide with the workload's.
constexpr uint64_t kSetupWriteBase = 0x8000;

using Sector = std::vector<std::byte>;

Sector MakeSector(uint64_t lba, uint64_t write_id, uint32_t size) {
  Sector s(size);
  for (uint64_t off = 0, word = 0; off < size; off += 8, ++word) {
    const uint64_t tag = SectorTag(lba, write_id, word);
    std::memcpy(s.data() + off, &tag, std::min<uint64_t>(8, size - off));
  }
  return s;
}

// DescribeWord without the word index, so that a whole write's words form one run.
std::string WordSource(uint64_t v) {
  if (v == 0) return "zero";
  if ((v >> 48) != kTagMagic) return "untagged";
  return "write " + std::to_string((v >> 16) & 0xFFFF) + " of lba " +
         std::to_string((v >> 32) & 0xFFFF);
}

// Byte-for-byte equality through memcmp: std::byte is not an integer type, so std::equal (and
// vector<std::byte>::operator==) compares byte by byte, which was a third of a 4 KiB exploration.
bool SameBytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// "ok", "torn", "misdirected" or "stale" (CrashTimeline::SectorView::verdict).
std::string ClassifySector(std::span<const std::byte> got, uint64_t lba, bool ok) {
  if (ok) return "ok";
  std::optional<std::string> source;
  bool other_lba = false;
  for (uint64_t off = 0; off + 8 <= got.size(); off += 8) {
    uint64_t v = 0;
    std::memcpy(&v, got.data() + off, 8);
    other_lba |= (v >> 48) == kTagMagic && ((v >> 32) & 0xFFFF) != (lba & 0xFFFF);
    const std::string s = WordSource(v);
    if (source && *source != s) return "torn";
    source = s;
  }
  return other_lba ? "misdirected" : "stale";
}

// --- Devices --------------------------------------------------------------------------------

// One open sector device, as the explorer drives it. The BTT core and the plain-pmem control
// implement it; everything the oracle does goes through this interface.
class DeviceHandle {
 public:
  virtual ~DeviceHandle() = default;
  virtual uint64_t Nlba() const = 0;
  virtual uint32_t LbaSize() const = 0;
  virtual Status Read(uint64_t lba, std::span<std::byte> out) = 0;
  virtual Status Write(uint64_t lba, std::span<const std::byte> data) = 0;
  virtual Status Zero(uint64_t lba) = 0;
  // ORACLE-CHECK: empty when consistent, else the findings.
  virtual Result<std::string> Check() = 0;
};

// The profile is named rather than detected: detection probes other offsets (a BTT at 4 KiB lies
// inside a uefi BTT's data area), and reading in-flight data there would make the explorer branch
// on words that cannot change the verdict.
// Lanes are named too (= nfree): the core's default depends on the host's CPU count, and a
// simulation must not.
class BttHandle final : public DeviceHandle {
 public:
  // `sync` (may be null: the handle's own SequentialSync) must outlive the handle.
  static Result<std::unique_ptr<DeviceHandle>> Open(btt::Namespace& ns, btt::Profile profile,
                                                    bool read_only, btt::Sync* sync = nullptr) {
    auto handle = std::unique_ptr<BttHandle>(new BttHandle());
    btt::OpenOptions options;
    options.profile = profile;
    options.sync = sync != nullptr ? sync : &handle->sync_;
    options.lanes = btt::kMaxNfree;  // capped at the BTT's nfree: every lane is in use
    options.read_only = read_only;
    TP_ASSIGN_OR_RETURN(handle->btt_, btt::Btt::Open(ns, options));
    return std::unique_ptr<DeviceHandle>(std::move(handle));
  }
  uint64_t Nlba() const override { return btt_->ExternalNlba(); }
  uint32_t LbaSize() const override { return btt_->ExternalLbaSize(); }
  Status Read(uint64_t lba, std::span<std::byte> out) override {
    return btt_->Read(btt::ExternalLba(lba), out);
  }
  Status Write(uint64_t lba, std::span<const std::byte> data) override {
    return btt_->Write(btt::ExternalLba(lba), data);
  }
  Status Zero(uint64_t lba) override { return btt_->Zero(btt::ExternalLba(lba)); }
  Result<std::string> Check() override {
    TP_ASSIGN_OR_RETURN(btt::CheckReport report, btt_->Check(/*repair=*/false));
    return report.Clean() ? std::string() : report.ToString();
  }

 private:
  BttHandle() = default;
  SequentialSync sync_;  // declared before btt_: the BTT uses it until it is destroyed
  std::unique_ptr<btt::Btt> btt_;
};

// No metadata: open is a no-op (nothing to recover), and there is nothing to check.
class PlainHandle final : public DeviceHandle {
 public:
  PlainHandle(btt::Namespace& ns, uint32_t lbasize) : device_(ns, lbasize) {}
  uint64_t Nlba() const override { return device_.Nlba(); }
  uint32_t LbaSize() const override { return device_.LbaSize(); }
  Status Read(uint64_t lba, std::span<std::byte> out) override { return device_.Read(lba, out); }
  Status Write(uint64_t lba, std::span<const std::byte> data) override {
    return device_.Write(lba, data);
  }
  Status Zero(uint64_t lba) override { return device_.Zero(lba); }
  Result<std::string> Check() override { return std::string(); }

 private:
  PlainPmem device_;
};

Result<std::unique_ptr<DeviceHandle>> OpenDevice(const ExploreConfig& config, btt::Namespace& ns,
                                                 bool read_only, btt::Sync* sync = nullptr) {
  if (config.device == Device::kPlainPmem) {
    return std::unique_ptr<DeviceHandle>(new PlainHandle(ns, config.external_lbasize));
  }
  return BttHandle::Open(ns, config.profile, read_only, sync);
}

// The largest LBA any lane or setup op names (0 when there are none).
uint64_t MaxWorkloadLba(const ExploreConfig& config) {
  uint64_t max_lba = 0;
  auto scan = [&](const std::vector<WorkloadOp>& ops) {
    for (const WorkloadOp& op : ops) max_lba = std::max(max_lba, op.lba);
  };
  scan(config.ops);
  scan(config.setup_ops);
  for (const auto& lane : config.other_lanes) scan(lane);
  if (config.track_lbas > 0) max_lba = std::max<uint64_t>(max_lba, config.track_lbas - 1);
  return max_lba;
}

// Everything of a configuration but its workload, lanes, schedule and search bound: what
// explorations sharing a crash point memo must agree on (ExploreConfig::memo).
std::string MemoSignature(const ExploreConfig& c, uint64_t medium_size) {
  std::string s =
      std::string(DeviceName(c.device)) + " " + btt::ProfileName(c.profile) + " " +
      std::to_string(c.external_lbasize) + " nfree " + std::to_string(c.nfree) + " size " +
      std::to_string(medium_size) + " " + sim::PersistencyModelName(c.model) + " states " +
      std::to_string(c.max_states_per_point) + " oracle " + std::to_string(c.check_layout) +
      std::to_string(c.crash_in_recovery) + std::to_string(c.crash_in_format) +
      std::to_string(c.stop_at_first_violation) + " flush " +
      std::to_string(static_cast<int>(c.workload_flush)) + " only '" + c.only_check + "' mutant " +
      std::to_string(static_cast<int>(c.mutant)) + std::to_string(c.mutant_after_setup) +
      " reductions " + std::to_string(c.reductions.fence_dominance) +
      std::to_string(c.reductions.lazy_branching) + " track " + std::to_string(c.track_lbas);
  return s;
}

// True when a BTT namespace of `size` bytes is valid and holds external LBA `lba`.
bool SizeHolds(const ExploreConfig& config, uint64_t size, uint64_t lba) {
  auto geometry = btt::ComputeGeometry(config.profile, size, config.external_lbasize, config.nfree);
  return geometry.ok() && geometry->external_nlba_total > lba;
}

}  // namespace

uint64_t MaxExploreMediumSize(btt::Profile profile) {
  return btt::BttOffsetFor(profile) + btt::kMinArenaSize;
}

Result<uint64_t> ExploreMediumSize(const ExploreConfig& config) {
  if (config.device == Device::kPlainPmem) {
    TP_RETURN_IF_ERROR(PlainPmem::ValidateLbaSize(config.external_lbasize));
    const uint64_t size = PlainPmem::SizeBytes(config.external_lbasize);
    if (config.medium_size != 0 && config.medium_size != size) {
      return InvalidArgument("medium size " + std::to_string(config.medium_size) +
                             ": the plain-pmem device is always " + std::to_string(size) +
                             " bytes");
    }
    return size;
  }
  TP_RETURN_IF_ERROR(btt::InternalLbaSizeFor(config.profile, config.external_lbasize).status());
  if (config.nfree == 0) return InvalidArgument("nfree must be at least 1");
  const uint64_t max_size = MaxExploreMediumSize(config.profile);
  if (config.medium_size != 0) {
    if (config.medium_size > max_size) {
      return InvalidArgument("medium size " + std::to_string(config.medium_size) +
                             " exceeds the explorer's largest, " + std::to_string(max_size));
    }
    // Geometry errors are reported by format; LBAs past the end by the run, with the LBA named.
    return config.medium_size;
  }
  // Search the smallest size, in the BTT's 4 KiB steps, that is valid and holds the largest LBA.
  // The LBA count grows with the size, so a binary search finds it; SizeHolds(max_size) is checked
  // first, so the answer always satisfies the predicate even if growth had a plateau.
  const uint64_t lba = MaxWorkloadLba(config);
  const uint64_t min_size =
      btt::MinimumNamespaceSize(config.profile, config.external_lbasize, config.nfree);
  if (min_size == 0 || min_size > max_size || !SizeHolds(config, max_size, lba)) {
    // Not even the largest medium: the LBA is out of range, or the geometry itself is refused;
    // the largest size lets the run report which (format's error, or the LBA against nlba).
    return max_size;
  }
  constexpr uint64_t kStep = 4096;
  auto size_at = [&](uint64_t step) { return std::min(min_size + step * kStep, max_size); };
  uint64_t lo = 0, hi = (max_size - min_size + kStep - 1) / kStep;  // size_at(hi) holds
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (SizeHolds(config, size_at(mid), lba)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  const uint64_t size = size_at(lo);
  TP_ASSERT(SizeHolds(config, size, lba), "INV-EXPLORE-MEDIUM-SIZE");
  return size;
}

namespace {

Status FormatDevice(const ExploreConfig& config, btt::Namespace& ns) {
  if (config.device == Device::kPlainPmem) return Status::Ok();  // a fresh medium reads as zero
  return FormatSimulatedBtt(ns, config.profile, config.external_lbasize, config.nfree);
}

// --- Mutant selection -------------------------------------------------------------------------

// Sets the process-wide mutant of the BTT core for one exploration and restores kNone however the
// exploration returns. A no-op in the production build, where only kNone passes validation.
class ScopedMutant {
 public:
  explicit ScopedMutant(btt::Mutant m) { Set(m); }
  ~ScopedMutant() { Set(btt::Mutant::kNone); }
  ScopedMutant(const ScopedMutant&) = delete;
  ScopedMutant& operator=(const ScopedMutant&) = delete;
  static void Set([[maybe_unused]] btt::Mutant m) {
#ifdef TEARPROOF_BTT_MUTANTS
    btt::SetMutant(m);
#endif
  }
};

// --- Replay -----------------------------------------------------------------------------------

// Resolves a crash from a recorded resolution (CrashTarget::resolution), looked up by word
// address, and logs the choices it makes in read order, as an OdometerChooser does.
class ForcedChooser final : public sim::CrashChooser {
 public:
  explicit ForcedChooser(const std::vector<Choice>& forced) {
    for (const Choice& c : forced) forced_[c.word_addr] = c;
  }
  uint32_t Choose(uint64_t word_addr, uint32_t candidate_count) override {
    TP_ASSERT(candidate_count >= 2, "INV-SIM-CHOOSER-COUNT");
    uint32_t index = 0;
    const auto it = forced_.find(word_addr);
    if (it != forced_.end()) {
      ++used_;
      diverged_ += it->second.candidate_count != candidate_count;
      index = std::min(it->second.index, candidate_count - 1);
    }
    log_.push_back(Choice{word_addr, candidate_count, index});
    return index;
  }
  const std::vector<Choice>& choices() const { return log_; }
  uint64_t unused() const { return forced_.size() - used_; }
  uint64_t diverged() const { return diverged_; }

 private:
  std::map<uint64_t, Choice> forced_;
  std::vector<Choice> log_;
  uint64_t used_ = 0;
  uint64_t diverged_ = 0;
};

// The value a store event leaves in the aligned word at word_addr, if it covers all of it.
std::optional<uint64_t> StoredWord(const sim::Event& e, uint64_t word_addr) {
  if (!sim::IsStore(e.kind) || word_addr < e.addr || word_addr + 8 > e.addr + e.data.size()) {
    return std::nullopt;
  }
  uint64_t v = 0;
  std::memcpy(&v, e.data.data() + (word_addr - e.addr), 8);
  return v;
}

// Names the BTT structure a medium address belongs to ("map entry of premap 3", "flog lane 0
// slot 1 half B", "data block 7 word 2"), for the timeline. Empty when it names nothing (the
// plain device, or an address outside every region).
class RegionNamer {
 public:
  RegionNamer(const ExploreConfig& config, uint64_t medium_size) {
    if (config.device != Device::kBtt) return;
    auto internal = btt::InternalLbaSizeFor(config.profile, config.external_lbasize);
    auto geometry =
        btt::ComputeGeometry(config.profile, medium_size, config.external_lbasize, config.nfree);
    if (!internal.ok() || !geometry.ok()) return;
    internal_lbasize_ = *internal;
    geometry_ = std::move(*geometry);
  }

  std::string Name(uint64_t addr) const {
    if (!geometry_) return "";
    for (size_t i = 0; i < geometry_->arenas.size(); ++i) {
      const btt::ArenaGeometry& a = geometry_->arenas[i];
      const uint64_t base = geometry_->btt_offset + a.offset;
      if (addr < base) continue;
      const uint64_t off = addr - base;
      const std::string arena =
          geometry_->arenas.size() > 1 ? "arena " + std::to_string(i) + " " : std::string();
      if (off < sizeof(btt::InfoBlock)) return arena + "info block";
      if (off >= a.dataoff && off < a.mapoff) {
        const uint64_t d = off - a.dataoff;
        return arena + "data block " + std::to_string(d / internal_lbasize_) + " word " +
               std::to_string(d % internal_lbasize_ / 8);
      }
      if (off >= a.mapoff && off < a.flogoff) {
        return arena + "map entries of premap " + std::to_string((off - a.mapoff) / 4) + "-" +
               std::to_string((off - a.mapoff) / 4 + 1);
      }
      if (off >= a.flogoff && off < a.flogoff + btt::FlogSizeFor(geometry_->nfree)) {
        const uint64_t f = off - a.flogoff;
        return arena + "flog lane " + std::to_string(f / btt::kFlogGroupSize) + " slot " +
               std::to_string(f % btt::kFlogGroupSize / 16) + " half " + (f % 16 < 8 ? "A" : "B");
      }
      if (off >= a.infooff && off < a.infooff + sizeof(btt::InfoBlock)) {
        return arena + "backup info block";
      }
    }
    return "";
  }

 private:
  std::optional<btt::Geometry> geometry_;
  uint32_t internal_lbasize_ = 0;
};

// --- The explorer -----------------------------------------------------------------------------

// The history of one LBA: its value before the workload, then every write/zero of the workload
// on it, with invocation and response on the run's logical clock (lanes run one at a time, so
// the clock orders them in real time). What a crash or a read may show follows from it
// (Acceptable); with one lane it is "the last completed value, or the one in flight".
struct Expectation {
  struct Entry {
    Sector value;
    // Names the value: the write number of its tags, 0 for zeros. Equal ids, equal bytes.
    uint64_t id = 0;
    uint64_t invoke = 0;
    uint64_t respond = 0;  // 0 while in flight
    bool done() const { return respond != 0; }
  };
  Sector initial;  // zeros, or the setup's last value
  uint64_t initial_id = 0;
  std::vector<Entry> ops;

  // The values the LBA may hold after a crash at logical time `now` (all entries so far), or
  // that a read invoked at `read_invoke` may return (entries up to its response): a completed
  // op that no other completed op follows in real time (it can be linearized last), or the
  // initial value if none completed before; plus every op still in flight (or overlapping the
  // read). Distinct values, completed ones first, in history order.
  struct Value {
    const Sector* sector;
    uint64_t id;
  };
  std::vector<Value> Acceptable(uint64_t read_invoke = UINT64_MAX) const {
    std::vector<Value> out;
    auto add = [&out](const Sector& v, uint64_t id) {
      for (const Value& have : out) {
        if (have.id == id) return;
      }
      out.push_back({&v, id});
    };
    // Ops completed before the cut (the read's invocation, or now).
    auto before_cut = [&](const Entry& e) { return e.done() && e.respond < read_invoke; };
    uint64_t last_invoke = 0;
    bool any = false;
    for (const Entry& e : ops) {
      if (!before_cut(e)) continue;
      any = true;
      last_invoke = std::max(last_invoke, e.invoke);
    }
    if (!any) add(initial, initial_id);
    for (const Entry& e : ops) {
      if (before_cut(e) && e.respond > last_invoke) add(e.value, e.id);
    }
    for (const Entry& e : ops) {
      if (!before_cut(e)) add(e.value, e.id);
    }
    return out;
  }
};

bool IsAcceptable(const std::vector<Expectation::Value>& values, std::span<const std::byte> got) {
  return std::any_of(values.begin(), values.end(),
                     [&](const Expectation::Value& v) { return SameBytes(*v.sector, got); });
}

std::string DescribeAcceptable(const std::vector<Expectation::Value>& values) {
  std::string out;
  for (const Expectation::Value& v : values) {
    out += out.empty() ? "[" : " or [";
    out += DescribeSector(*v.sector);
    out += ']';
  }
  return out;
}

// One op of a multi-lane workload.
struct LaneOp {
  uint32_t lane = 0;
  WorkloadOp op;
  int64_t index = 0;  // numbered lane by lane (ExploreConfig::ops)
};

class Explorer {
 public:
  explicit Explorer(const ExploreConfig& config) : config_(config) {}

  Result<ExploreResult> Run();

 private:
  Status Validate() const;
  // One execution: format, setup, the workload under `strategy` (null: one lane, no scheduler),
  // crashed at every crash point. Fills `schedule` with the decisions taken.
  Status PrepareBase();
  Status RunExecution(sim::Scheduler* scheduler, sim::Strategy* strategy);
  // Feeds every store, flush and fence `ns` applies to the memo (if any) and, without fence
  // dominance, makes a crash point (`crash_point`, if not null) of each store and flush.
  void Observe(SimNamespace& ns, const std::function<void()>* crash_point);
  // What the oracle accepts at a crash point now, as the memo keys it.
  std::vector<uint64_t> ExpectationKey() const;
  Status RunOp(DeviceHandle& device, const LaneOp& op, uint64_t medium_events);
  Status RunSetup(btt::Namespace& ns, sim::Medium& medium);
  Status ExplorePoint(const sim::Medium& medium);
  // Calls visit(crashed, resolution) for every crash state of `medium` that can change a verdict:
  // every resolution of the words read (lazy branching) or, without it, every crash state. False
  // when max_states_per_point cut it short (the point is incomplete). Ends early once Stopped().
  using StateVisitor = std::function<void(sim::Medium&, const std::vector<Choice>&)>;
  bool ForEachState(const sim::Medium& medium, const StateVisitor& visit);
  // Judges one crash state; appends violations citing `choices` (the resolution so far).
  void JudgeState(sim::Medium& crashed, const std::vector<Choice>& choices);
  // ORACLE-FORMAT on a crash state inside format.
  void JudgeFormatState(sim::Medium& crashed, const std::vector<Choice>& choices);
  void Judge(sim::Medium& crashed, const std::vector<Choice>& choices) {
    in_format_ ? JudgeFormatState(crashed, choices) : JudgeState(crashed, choices);
  }
  // Reads every tracked LBA, one after another, into `view`.
  Status ReadAll(DeviceHandle& device, std::vector<std::byte>& view);
  void AddViolation(std::string check, std::string detail, const std::vector<Choice>* choices);
  void FillTimeline(const sim::Medium& medium, const ForcedChooser& forced);
  int64_t OpOfEvent(const sim::Event& event) const;
  bool Stopped() const { return config_.stop_at_first_violation && !result_.violations.empty(); }

  const ExploreConfig& config_;
  std::vector<LaneOp> ops_;  // every lane's ops, numbered lane by lane
  // Per execution:
  std::vector<uint64_t> lbas_;              // tracked LBAs, ascending
  std::map<uint64_t, Expectation> expect_;  // by LBA
  std::vector<int64_t> lane_op_;            // by lane: the op it runs, -1 between ops
  int64_t op_in_flight_ = -1;               // the op a violation is charged to
  uint64_t clock_ = 0;                      // logical time (Expectation)
  uint64_t point_ = 0;                      // crash points of this execution so far
  std::vector<uint32_t> schedule_;          // decisions of this execution (when known)
  bool in_format_ = false;                  // crash points are inside format
  ExploreResult result_;
  CrashTimeline* timeline_ = nullptr;     // set when replaying a target
  std::shared_ptr<CrashPointMemo> memo_;  // Reductions::memo_crash_points; null: off
  // Reused by every crash state (ReadAll): what the read-only open, the recovery, the first
  // re-run recovery and the later ones show.
  std::vector<std::byte> ro_view_, rw_view_, nested_view_, scratch_view_;
  // Prepared once (PrepareBase): the formatted, aged medium, what the setup left on each LBA,
  // the memo node after format and setup, and the crash points inside format.
  std::optional<sim::Medium> base_;
  std::vector<uint64_t> base_lbas_;
  std::map<uint64_t, Expectation> base_expect_;
  uint64_t base_node_ = 0;
  uint64_t format_points_ = 0;
};

void Explorer::AddViolation(std::string check, std::string detail,
                            const std::vector<Choice>* choices) {
  if (result_.violations.size() >= kMaxViolations) return;
  if (!config_.only_check.empty() && check != config_.only_check) return;
  Violation v;
  v.check = std::move(check);
  v.crash_point = choices != nullptr ? point_ : 0;
  v.op_in_flight = op_in_flight_;
  v.schedule = schedule_;
  v.detail = std::move(detail);
  if (choices != nullptr) v.resolution = *choices;
  result_.violations.push_back(std::move(v));
}

Status Explorer::ReadAll(DeviceHandle& device, std::vector<std::byte>& view) {
  const uint32_t size = device.LbaSize();
  view.resize(lbas_.size() * size);  // the same size state after state: no allocation, no zeroing
  for (size_t i = 0; i < lbas_.size(); ++i) {
    const Status status = device.Read(lbas_[i], std::span(view).subspan(i * size, size));
    if (!status.ok()) return status.Annotate("read lba " + std::to_string(lbas_[i]) + ": ");
  }
  return Status::Ok();
}

void Explorer::JudgeFormatState(sim::Medium& crashed, const std::vector<Choice>& choices) {
  bool opened[2] = {false, false};
  for (const bool read_only : {true, false}) {
    SimNamespace ns(crashed, read_only);
    auto device = OpenDevice(config_, ns, read_only);
    if (!device.ok()) continue;  // refused: no valid BTT, a clear error
    opened[read_only] = true;
    const std::string which = read_only ? "read-only open" : "open";
    for (uint64_t lba = 0; lba < (*device)->Nlba(); ++lba) {
      Sector s((*device)->LbaSize());
      const Status status = (*device)->Read(lba, s);
      if (!status.ok()) {
        AddViolation("ORACLE-FORMAT",
                     which + " of a crashed format succeeds, then lba " + std::to_string(lba) +
                         ": " + status.ToString(),
                     &choices);
        return;
      }
      if (std::any_of(s.begin(), s.end(), [](std::byte b) { return b != std::byte{0}; })) {
        AddViolation("ORACLE-FORMAT",
                     which + " of a crashed format succeeds, and lba " + std::to_string(lba) +
                         " reads [" + DescribeSector(s) + "], not zeros",
                     &choices);
        return;
      }
    }
    if (!read_only) {
      auto findings = (*device)->Check();
      if (!findings.ok() || !findings->empty()) {
        AddViolation("ORACLE-FORMAT",
                     "open of a crashed format succeeds, but Check finds: " +
                         (findings.ok() ? *findings : findings.status().ToString()),
                     &choices);
        return;
      }
    }
  }
  if (opened[0] != opened[1]) {
    AddViolation("ORACLE-FORMAT",
                 std::string("after a crash in format, ") +
                     (opened[1] ? "a read-only open succeeds and a read-write open refuses"
                                : "a read-write open succeeds and a read-only open refuses"),
                 &choices);
  }
}

void Explorer::JudgeState(sim::Medium& crashed, const std::vector<Choice>& choices) {
  // 1. Read-only open first: it must not store, and it fixes (resolves) the words it reads, which
  //    the read-write recovery below then sees identically.
  {
    SimNamespace ro_ns(crashed, /*read_only=*/true);
    auto ro = OpenDevice(config_, ro_ns, /*read_only=*/true);
    if (!ro.ok()) {
      AddViolation("ORACLE-RECOVER", "read-only open: " + ro.status().ToString(), &choices);
      return;
    }
    const Status read = ReadAll(**ro, ro_view_);
    if (!read.ok()) {
      AddViolation("ORACLE-RECOVER", "read-only: " + read.ToString(), &choices);
      return;
    }
    if (ro_ns.store_calls() != 0) {
      AddViolation("ORACLE-RO-EQUALS-RW", "read-only open stored to the medium", &choices);
    }
  }

  // 2. Read-write recovery, crashing again at every fence it issues (bounded nesting: 1). Every
  //    re-run recovery must show what the uninterrupted one shows, so each is compared with the
  //    first (kept), and the first with the uninterrupted one below.
  bool nested_any = false, nested_differ = false;
  std::vector<std::string> nested_errors;
  SimNamespace rw_ns(crashed);
  const std::function<void()> crash_in_recovery = [&] {
    const bool complete =
        ForEachState(crashed, [&](sim::Medium& again, const std::vector<Choice>&) {
          SimNamespace ns2(again);
          auto b2 = OpenDevice(config_, ns2, /*read_only=*/false);
          ++result_.stats.recovery_crash_states;
          if (!b2.ok()) {
            nested_errors.push_back("re-open after a crash in recovery: " + b2.status().ToString());
            return;
          }
          std::vector<std::byte>& view = nested_any ? scratch_view_ : nested_view_;
          const Status read = ReadAll(**b2, view);
          if (!read.ok()) {
            nested_errors.push_back(read.ToString());
            return;
          }
          nested_differ |= nested_any && !SameBytes(view, nested_view_);
          nested_any = true;
        });
    if (!complete) ++result_.stats.incomplete_points;
  };
  if (config_.crash_in_recovery) {
    rw_ns.set_fence_hook(crash_in_recovery);
    if (!config_.reductions.fence_dominance) {
      rw_ns.set_applied_hook([&](const MediumOp& op, std::span<const std::byte>) {
        if (op.kind != MediumOp::Kind::kDrain) crash_in_recovery();
      });
    }
  }
  auto rw = OpenDevice(config_, rw_ns, /*read_only=*/false);
  rw_ns.set_fence_hook(nullptr);
  rw_ns.set_applied_hook(nullptr);
  if (!rw.ok()) {
    AddViolation("ORACLE-RECOVER", "read-write open: " + rw.status().ToString(), &choices);
    return;
  }
  const Status read = ReadAll(**rw, rw_view_);
  if (!read.ok()) {
    AddViolation("ORACLE-RECOVER", read.ToString(), &choices);
    return;
  }

  // 3. Atomicity, durability, no misdirection: old or in-flight, byte for byte.
  const uint32_t size = (*rw)->LbaSize();
  for (size_t i = 0; i < lbas_.size(); ++i) {
    const std::span<const std::byte> got = std::span(rw_view_).subspan(i * size, size);
    const std::vector<Expectation::Value> acceptable = expect_[lbas_[i]].Acceptable();
    const bool ok = IsAcceptable(acceptable, got);
    // Descriptions only when someone reads them: describing every word of every sector of every
    // state was almost half of an exploration's cost at 4 KiB.
    if (ok && timeline_ == nullptr) continue;
    const std::string expected = DescribeAcceptable(acceptable);
    if (timeline_ != nullptr) {
      timeline_->sectors.push_back(
          {lbas_[i], ok, ClassifySector(got, lbas_[i], ok), DescribeSector(got), expected});
    }
    if (ok) continue;
    AddViolation("ORACLE-ATOMIC",
                 "lba " + std::to_string(lbas_[i]) + " reads [" + DescribeSector(got) +
                     "], expected " + expected,
                 &choices);
  }
  if (!SameBytes(ro_view_, rw_view_)) {
    AddViolation("ORACLE-RO-EQUALS-RW", "read-only open shows other sectors than recovery",
                 &choices);
  }
  for (const std::string& error : nested_errors) {
    AddViolation("ORACLE-IDEMPOTENT", error, &choices);
  }
  if (nested_differ || (nested_any && !SameBytes(nested_view_, rw_view_))) {
    AddViolation("ORACLE-IDEMPOTENT",
                 "recovery interrupted by a crash and re-run shows other sectors", &choices);
  }

  // 4. The layout's own invariants.
  if (config_.check_layout) {
    auto findings = (*rw)->Check();
    if (!findings.ok()) {
      AddViolation("ORACLE-CHECK", findings.status().ToString(), &choices);
    } else if (!findings->empty()) {
      AddViolation("ORACLE-CHECK", *findings, &choices);
    }
  }
}

int64_t Explorer::OpOfEvent(const sim::Event& event) const {
  const uint32_t lane = sim::LaneIndex(event.lane);
  for (size_t i = 0; i < timeline_->ops.size(); ++i) {
    const CrashTimeline::Op& op = timeline_->ops[i];
    if (op.lane == lane && event.seq >= op.first_event && event.seq < op.end_event) {
      return static_cast<int64_t>(i);
    }
  }
  // An op in flight has no end yet.
  if (lane < lane_op_.size() && lane_op_[lane] >= 0 &&
      event.seq >= timeline_->ops[lane_op_[lane]].first_event) {
    return lane_op_[lane];
  }
  return -1;
}

void Explorer::FillTimeline(const sim::Medium& medium, const ForcedChooser& forced) {
  CrashTimeline& t = *timeline_;
  const RegionNamer regions(config_, medium.size_bytes());
  t.reached = true;
  t.crash_point = point_;
  t.in_format = in_format_;
  t.op_in_flight = op_in_flight_;
  t.unused_choices = forced.unused();
  t.diverged_choices = forced.diverged();
  // Pending stores: a store some of whose words may still be lost (or may still hold it).
  for (const sim::Event& e : medium.events()) {
    if (!sim::IsStore(e.kind)) continue;
    bool pending = false;
    const uint64_t first_word = e.addr & ~uint64_t{7};
    for (uint64_t w = first_word; w < e.addr + e.data.size() && !pending; w += 8) {
      const std::vector<uint64_t> candidates = medium.WordCandidates(w);
      if (candidates.size() < 2) continue;
      const std::optional<uint64_t> v = StoredWord(e, w);
      pending = !v || std::find(candidates.begin() + 1, candidates.end(), *v) != candidates.end();
    }
    if (pending) t.pending.push_back({e, OpOfEvent(e), regions.Name(e.addr)});
  }
  // The resolved words: a second crash view with the same choices, read in the same order, gives
  // the same values (px86 candidates depend on the words of the line resolved before).
  auto again = std::make_shared<ForcedChooser>(forced.choices());
  sim::Medium view = medium.LazyCrash(again);
  for (const Choice& c : forced.choices()) {
    CrashTimeline::ResolvedWord word;
    word.choice = c;
    word.region = regions.Name(c.word_addr);
    auto value = view.Load64(sim::Lane(0), c.word_addr);
    word.value = value.ok() ? *value : 0;
    const std::vector<uint64_t> candidates = medium.WordCandidates(c.word_addr);
    word.guaranteed = candidates.empty() ? word.value : candidates.front();
    if (word.value != word.guaranteed) {
      const auto& events = medium.events();
      for (auto it = events.rbegin(); it != events.rend(); ++it) {
        if (StoredWord(*it, c.word_addr) == word.value) {
          word.store_event = static_cast<int64_t>(it->seq);
          word.store_op = OpOfEvent(*it);
          break;
        }
      }
    }
    t.words.push_back(word);
  }
}

void Explorer::Observe(SimNamespace& ns, const std::function<void()>* crash_point) {
  const bool every_event = crash_point != nullptr && !config_.reductions.fence_dominance;
  if (memo_ == nullptr && !every_event) {
    ns.set_applied_hook(nullptr);
    return;
  }
  ns.set_applied_hook(
      [this, &ns, every_event, crash_point](const MediumOp& op, std::span<const std::byte> data) {
        const uint32_t lane = sim::LaneIndex(ns.lane());
        if (memo_ != nullptr) {
          switch (op.kind) {
            case MediumOp::Kind::kWrite:
              memo_->OnWrite(lane, op.offset, data);
              break;
            case MediumOp::Kind::kFlush:
              memo_->OnFlush(lane, op.offset, op.size_bytes);
              break;
            case MediumOp::Kind::kDrain:
              memo_->OnFence(lane);
              break;
            case MediumOp::Kind::kRead:
              break;
          }
        }
        // Without fence dominance every store and flush is a crash point too (the fence hook
        // already crashes just before each fence).
        if (every_event && op.kind != MediumOp::Kind::kDrain) (*crash_point)();
      });
}

std::vector<uint64_t> Explorer::ExpectationKey() const {
  std::vector<uint64_t> key = {in_format_ ? 1u : 0u};
  for (uint64_t lba : lbas_) {
    std::vector<uint64_t> ids;
    for (const Expectation::Value& v : expect_.at(lba).Acceptable()) ids.push_back(v.id);
    std::sort(ids.begin(), ids.end());  // a set: the order values were added in is no matter
    key.push_back(lba);
    key.push_back(ids.size());
    key.insert(key.end(), ids.begin(), ids.end());
  }
  return key;
}

Status Explorer::ExplorePoint(const sim::Medium& medium) {
  if (Stopped()) return Status::Ok();
  ++result_.stats.crash_points;
  ++point_;
  if (memo_ != nullptr && !memo_->FirstVisit(ExpectationKey())) {
    ++result_.stats.crash_points_repeated;
    return Status::Ok();
  }
  // The eager count is a statistic (what lazy branching saved); once it saturates nothing more can
  // be added, and counting costs a walk over every pending line's images.
  if (config_.count_eager_states && result_.stats.eager_states != UINT64_MAX) {
    const sim::CrashSpaceSize space = medium.CrashSpace();
    result_.stats.eager_states = space.count > UINT64_MAX - result_.stats.eager_states
                                     ? UINT64_MAX
                                     : result_.stats.eager_states + space.count;
  }
  if (config_.target) {
    if (point_ != config_.target->crash_point) return Status::Ok();
    auto forced = std::make_shared<ForcedChooser>(config_.target->resolution);
    sim::Medium crashed = medium.LazyCrash(forced);
    Judge(crashed, forced->choices());
    ++result_.stats.states_checked;
    FillTimeline(medium, *forced);
    return Status::Ok();
  }
  const bool complete =
      ForEachState(medium, [&](sim::Medium& crashed, const std::vector<Choice>& choices) {
        Judge(crashed, choices);
        ++result_.stats.states_checked;
      });
  // A stopped run reports no incomplete point (ExploreConfig::stop_at_first_violation).
  if (!complete && !Stopped()) ++result_.stats.incomplete_points;
  return Status::Ok();
}

bool Explorer::ForEachState(const sim::Medium& medium, const StateVisitor& visit) {
  const uint64_t max_states = config_.max_states_per_point;
  if (!config_.reductions.lazy_branching) {
    // Brute force: every crash state of the medium, materialized whole.
    uint64_t visited = 0;
    bool truncated = false;
    const std::vector<Choice> none;
    const auto count = medium.ForEachCrashState(
        [&](const sim::CrashState& state) {
          if (visited == max_states) {
            truncated = true;
            return false;
          }
          ++visited;
          sim::Medium crashed = medium.MaterializeCrash(state);
          visit(crashed, none);
          return !Stopped();
        },
        max_states + 1);
    return count.ok() && !truncated;  // kUnsupported: one line alone has more images
  }
  auto odometer = std::make_shared<sim::OdometerChooser>();
  for (;;) {
    sim::Medium crashed = medium.LazyCrash(odometer);
    visit(crashed, odometer->choices());
    if (Stopped() || !odometer->Advance()) return true;
    if (odometer->runs() > max_states) return false;
  }
}

Status Explorer::Validate() const {
  const size_t lanes = 1 + config_.other_lanes.size();
  if (lanes > kMaxExploreLanes) {
    return InvalidArgument(std::to_string(lanes) + " lanes: the explorer runs at most " +
                           std::to_string(kMaxExploreLanes));
  }
  if (lanes == 1 && (!config_.schedule.empty() || config_.preemption_bound)) {
    return InvalidArgument("a schedule or preemption bound needs at least two lanes");
  }
  if (config_.preemption_bound && !config_.schedule.empty()) {
    return InvalidArgument("a preemption bound explores every schedule: give no schedule");
  }
  if (config_.preemption_bound && config_.target) {
    return InvalidArgument("a replay runs one schedule: give the schedule, not a bound");
  }
  for (uint32_t pick : config_.schedule) {
    if (pick >= lanes) {
      return InvalidArgument("schedule picks lane " + std::to_string(pick) + " of " +
                             std::to_string(lanes));
    }
  }
  if (config_.mutant != btt::Mutant::kNone) {
    if (!MutantsCompiledIn()) {
      return InvalidArgument("mutant '" + NameOfMutant(config_.mutant) +
                             "': this build contains no mutants (the test-only tearproof-mutants "
                             "binary does)");
    }
    if (config_.device != Device::kBtt) {
      return InvalidArgument("mutants are mutants of the BTT core: device must be btt");
    }
  }
  if (config_.crash_in_format && config_.device != Device::kBtt) {
    return InvalidArgument("crash_in_format: only the BTT has a format to crash");
  }
  if (config_.crash_in_format && config_.mutant_after_setup) {
    return InvalidArgument("crash_in_format: the real core formats with mutant_after_setup");
  }
  if (config_.memo != nullptr && config_.after_setup) {
    return InvalidArgument("a shared crash point memo cannot tell what after_setup does");
  }
  if (config_.mutant_after_setup && config_.setup_ops.empty()) {
    return InvalidArgument("mutant_after_setup needs setup operations");
  }
  for (const WorkloadOp& op : config_.setup_ops) {
    if (op.kind == WorkloadOp::Kind::kRead) {
      return InvalidArgument("setup operations are writes and zeros");
    }
  }
  return Status::Ok();
}

// Aging: complete operations, no crash points.
Status Explorer::RunSetup(btt::Namespace& ns, sim::Medium& medium) {
  if (config_.setup_ops.empty()) return Status::Ok();
  TP_ASSIGN_OR_RETURN(auto setup, OpenDevice(config_, ns, /*read_only=*/false));
  for (size_t i = 0; i < config_.setup_ops.size(); ++i) {
    const WorkloadOp& op = config_.setup_ops[i];
    if (op.lba >= setup->Nlba()) {
      return InvalidArgument("setup lba " + std::to_string(op.lba) +
                             " >= " + std::to_string(setup->Nlba()));
    }
    if (!expect_.count(op.lba)) lbas_.push_back(op.lba);
    Expectation& e = expect_[op.lba];
    if (op.kind == WorkloadOp::Kind::kWrite) {
      e.initial = MakeSector(op.lba, kSetupWriteBase + i, setup->LbaSize());
      e.initial_id = kSetupWriteBase + i;
      TP_RETURN_IF_ERROR(setup->Write(op.lba, e.initial).Annotate("setup: "));
    } else {
      e.initial = Sector(setup->LbaSize());
      e.initial_id = 0;
      TP_RETURN_IF_ERROR(setup->Zero(op.lba).Annotate("setup: "));
    }
  }
  if (medium.pending_line_count() != 0) {
    return InternalError("setup left unpersisted lines on the medium");
  }
  return Status::Ok();
}

// One workload op on its lane: the history records it, the timeline (if any) brackets it, and a
// read is judged against the history (ORACLE-READ).
Status Explorer::RunOp(DeviceHandle& device, const LaneOp& lop, uint64_t medium_events) {
  const WorkloadOp& op = lop.op;
  const uint64_t write_id = static_cast<uint64_t>(lop.index) + 1;
  const std::string where = "workload op " + std::to_string(lop.index) + ": ";
  if (timeline_ != nullptr) {
    timeline_->ops[lop.index] = {
        lop.lane,   op, op.kind == WorkloadOp::Kind::kWrite ? write_id : 0, medium_events, 0,
        point_ + 1, 0};
  }
  Expectation& e = expect_[op.lba];
  lane_op_[lop.lane] = lop.index;
  const uint64_t invoke = ++clock_;
  if (op.kind == WorkloadOp::Kind::kRead) {
    Sector got(device.LbaSize());
    TP_RETURN_IF_ERROR(device.Read(op.lba, got).Annotate(where));
    const std::vector<Expectation::Value> acceptable = e.Acceptable(invoke);
    if (!IsAcceptable(acceptable, got)) {
      op_in_flight_ = lop.index;
      AddViolation("ORACLE-READ",
                   "lba " + std::to_string(op.lba) + " reads [" + DescribeSector(got) +
                       "], expected " + DescribeAcceptable(acceptable),
                   nullptr);
    }
    ++clock_;
  } else {
    const size_t entry = e.ops.size();
    const bool write = op.kind == WorkloadOp::Kind::kWrite;
    e.ops.push_back(
        {write ? MakeSector(op.lba, write_id, device.LbaSize()) : Sector(device.LbaSize()),
         write ? write_id : 0, invoke, 0});
    // Not a reference into e.ops: another lane may append to it while this one waits.
    const Sector value = e.ops[entry].value;
    const Status status =
        op.kind == WorkloadOp::Kind::kWrite ? device.Write(op.lba, value) : device.Zero(op.lba);
    if (!status.ok()) return status.Annotate(where);
    e.ops[entry].respond = ++clock_;
  }
  lane_op_[lop.lane] = -1;
  return Status::Ok();
}

// Format (crashed at each of its fences with crash_in_format) and the setup, once: the medium
// every execution of the workload starts from.
Status Explorer::PrepareBase() {
  TP_ASSIGN_OR_RETURN(const uint64_t size, ExploreMediumSize(config_));
  // Explorations sharing a memo share the configuration, so format leaves them the same medium:
  // the first keeps it (without crashes inside format, which must run), the others copy it.
  const bool copy_formatted =
      memo_ != nullptr && memo_->formatted() != nullptr && !config_.crash_in_format;
  TP_ASSIGN_OR_RETURN(
      sim::Medium medium,
      copy_formatted
          ? Result<sim::Medium>(
                memo_->formatted()->MaterializeCrash(memo_->formatted()->GuaranteedState()))
          : sim::Medium::Create({.size_bytes = size, .model = config_.model, .event_log = false}));
  if (memo_) memo_->Restart(copy_formatted ? memo_->formatted_node() : 0);
  SimNamespace ns(medium);
  if (copy_formatted) {
    Observe(ns, nullptr);
  } else if (config_.crash_in_format) {
    in_format_ = true;
    if (config_.target) medium.set_event_log_enabled(true);
    Status hook_status;
    const std::function<void()> crash_point = [&] {
      if (hook_status.ok()) hook_status = ExplorePoint(medium);
    };
    ns.set_fence_hook(crash_point);
    Observe(ns, &crash_point);
    const Status formatted = FormatDevice(config_, ns);
    ns.set_fence_hook(nullptr);
    Observe(ns, nullptr);
    TP_RETURN_IF_ERROR(hook_status);
    TP_RETURN_IF_ERROR(formatted);
    in_format_ = false;
  } else {
    Observe(ns, nullptr);
    TP_RETURN_IF_ERROR(FormatDevice(config_, ns));
  }
  format_points_ = point_;
  if (medium.pending_line_count() != 0) {
    return InternalError("format left unpersisted lines on the medium");
  }
  if (memo_ != nullptr && memo_->formatted() == nullptr) {
    memo_->KeepFormatted(medium, memo_->cursor());
  }
  TP_RETURN_IF_ERROR(RunSetup(ns, medium));
  if (config_.after_setup) config_.after_setup();
  ns.set_applied_hook(nullptr);
  medium.set_event_log_enabled(false);
  base_lbas_ = lbas_;
  base_expect_ = expect_;
  base_node_ = memo_ ? memo_->cursor() : 0;
  base_.emplace(std::move(medium));
  return Status::Ok();
}

Status Explorer::RunExecution(sim::Scheduler* scheduler, sim::Strategy* strategy) {
  lane_op_.assign(1 + config_.other_lanes.size(), -1);
  op_in_flight_ = -1;
  clock_ = 0;
  schedule_.clear();
  lbas_ = base_lbas_;
  expect_ = base_expect_;
  point_ = format_points_;
  if (memo_) memo_->Restart(base_node_);
  // Every execution starts from a copy of the same formatted (and aged) medium. Nothing is
  // pending on it, so its guaranteed state is the medium itself (pages shared copy-on-write).
  sim::Medium medium = base_->MaterializeCrash(base_->GuaranteedState());
  // The workload runs through its own adapter so its flush kind can differ from format's.
  SimNamespace wns(medium, /*read_only=*/false, config_.workload_flush);
  std::optional<FiberSync> fiber_sync;
  if (scheduler != nullptr) fiber_sync.emplace(*scheduler);
  TP_ASSIGN_OR_RETURN(auto device, OpenDevice(config_, wns, /*read_only=*/false,
                                              fiber_sync ? &*fiber_sync : nullptr));

  for (const LaneOp& lop : ops_) {
    if (lop.op.lba >= device->Nlba()) {
      return InvalidArgument("workload lba " + std::to_string(lop.op.lba) +
                             " >= " + std::to_string(device->Nlba()));
    }
    if (!expect_.count(lop.op.lba)) {
      expect_[lop.op.lba].initial = Sector(device->LbaSize());
      lbas_.push_back(lop.op.lba);
    }
  }
  for (uint64_t lba = 0; lba < config_.track_lbas; ++lba) {
    if (lba >= device->Nlba()) {
      return InvalidArgument("tracked lba " + std::to_string(lba) +
                             " >= " + std::to_string(device->Nlba()));
    }
    if (!expect_.count(lba)) {
      expect_[lba].initial = Sector(device->LbaSize());
      lbas_.push_back(lba);
    }
  }
  std::sort(lbas_.begin(), lbas_.end());

  if (config_.target) medium.set_event_log_enabled(true);  // the timeline names the stores
  const uint64_t events_before = medium.event_count();
  Status hook_status;
  // A crash point is charged to the op of the lane that issues the fence.
  const std::function<void()> crash_point = [&] {
    op_in_flight_ = lane_op_[sim::LaneIndex(wns.lane())];
    if (hook_status.ok()) hook_status = ExplorePoint(medium);
  };
  wns.set_fence_hook(crash_point);
  Observe(wns, &crash_point);
  // The hooks refer to locals declared after `device`: clear them before it is destroyed,
  // whichever way this function returns.
  struct ClearHooks {
    SimNamespace& ns;
    ~ClearHooks() {
      ns.set_fence_hook(nullptr);
      ns.set_applied_hook(nullptr);
    }
  } clear_hooks{wns};
  auto finish_op = [&](const LaneOp& lop) {
    if (timeline_ == nullptr) return;
    CrashTimeline::Op& record = timeline_->ops[lop.index];
    record.end_event = medium.event_count();
    record.last_crash_point = point_;
    if (record.last_crash_point < record.first_crash_point) {
      record.first_crash_point = record.last_crash_point = 0;  // no fence, no crash point
    }
  };
  if (scheduler == nullptr) {
    for (const LaneOp& lop : ops_) {
      const Status status = RunOp(*device, lop, medium.event_count());
      TP_RETURN_IF_ERROR(hook_status);
      TP_RETURN_IF_ERROR(status);
      finish_op(lop);
    }
  } else {
    std::vector<sim::LaneBody> bodies(lane_op_.size());
    for (uint32_t lane = 0; lane < bodies.size(); ++lane) {
      bodies[lane] = [&, lane]() -> Status {
        for (const LaneOp& lop : ops_) {
          if (lop.lane != lane) continue;
          TP_RETURN_IF_ERROR(RunOp(*device, lop, medium.event_count()));
          TP_RETURN_IF_ERROR(hook_status);
          finish_op(lop);
        }
        return Status::Ok();
      };
    }
    AttachScheduler(wns, *scheduler);
    const sim::RunReport report = scheduler->Run(std::move(bodies), *strategy);
    wns.set_op_hook(nullptr);
    scheduler->set_switch_callback(nullptr);
    wns.set_lane(sim::Lane(0));
    schedule_ = report.schedule;
    for (Violation& v : result_.violations) {
      if (v.schedule.empty()) v.schedule = schedule_;  // found before the schedule was complete
    }
    TP_RETURN_IF_ERROR(hook_status);
    if (report.liveness_failure()) {
      op_in_flight_ = -1;
      AddViolation(
          "ORACLE-LIVENESS",
          std::string(sim::RunOutcomeName(report.outcome)) + ": " + report.status.ToString(),
          nullptr);
    } else if (report.outcome == sim::RunOutcome::kScheduleError) {
      return InvalidArgument("schedule " + sim::ScheduleToString(config_.schedule) +
                             " does not fit this run: " + report.status.ToString());
    } else if (!report.ok()) {
      return report.status;
    }
  }
  wns.set_fence_hook(nullptr);
  Observe(wns, nullptr);
  std::fill(lane_op_.begin(), lane_op_.end(), -1);
  op_in_flight_ = -1;
  TP_RETURN_IF_ERROR(ExplorePoint(medium));  // the end: nothing in flight
  if (timeline_ != nullptr) timeline_->crash_points_total = point_;
  result_.stats.events += medium.event_count() - events_before;
  result_.stats.executions += 1;
  return Status::Ok();
}

Result<ExploreResult> Explorer::Run() {
  TP_RETURN_IF_ERROR(Validate());
  // A replay judges one given crash point; a lone execution meets each point once, so only a
  // shared memo helps it.
  if (config_.reductions.memo_crash_points && !config_.target &&
      (config_.memo != nullptr || config_.preemption_bound)) {
    memo_ = config_.memo != nullptr ? config_.memo : std::make_shared<CrashPointMemo>();
    TP_ASSIGN_OR_RETURN(const uint64_t size, ExploreMediumSize(config_));
    TP_RETURN_IF_ERROR(memo_->Bind(MemoSignature(config_, size)));
  }
  for (uint32_t lane = 0; lane <= config_.other_lanes.size(); ++lane) {
    for (const WorkloadOp& op : lane == 0 ? config_.ops : config_.other_lanes[lane - 1]) {
      ops_.push_back({lane, op, static_cast<int64_t>(ops_.size())});
    }
  }
  if (config_.target) {
    result_.timeline.emplace();
    timeline_ = &*result_.timeline;
    timeline_->ops.resize(ops_.size());
  }
  // The real core formats and runs the setup with mutant_after_setup; the mutant then takes over.
  ScopedMutant scoped(config_.mutant_after_setup ? btt::Mutant::kNone : config_.mutant);
  TP_RETURN_IF_ERROR(PrepareBase());
  if (config_.mutant_after_setup) ScopedMutant::Set(config_.mutant);
  if (config_.other_lanes.empty()) {
    TP_RETURN_IF_ERROR(RunExecution(nullptr, nullptr));
    return std::move(result_);
  }
  // Lanes run on fibers. Stacks are larger than the scheduler's default: crash states are judged
  // on the stack of the lane that issued the fence (recovery, reads, Check, nested crashes).
  TP_ASSIGN_OR_RETURN(auto scheduler, sim::Scheduler::Create({.max_lanes = kMaxExploreLanes,
                                                              .stack_bytes = 1 << 20,
                                                              .max_steps = 1 << 20}));
  if (!config_.preemption_bound) {
    sim::ReplayStrategy replay(config_.schedule, /*strict=*/config_.target.has_value());
    TP_RETURN_IF_ERROR(RunExecution(scheduler.get(), &replay));
    return std::move(result_);
  }
  sim::ExhaustiveStrategy exhaustive(*config_.preemption_bound);
  do {
    TP_RETURN_IF_ERROR(RunExecution(scheduler.get(), &exhaustive));
  } while (!Stopped() && exhaustive.Advance());
  return std::move(result_);
}

}  // namespace

const char* DeviceName(Device device) {
  switch (device) {
    case Device::kBtt:
      return "btt";
    case Device::kPlainPmem:
      return "plain-pmem";
  }
  return "?";
}

std::optional<Device> ParseDevice(std::string_view name) {
  for (Device d : {Device::kBtt, Device::kPlainPmem}) {
    if (name == DeviceName(d)) return d;
  }
  return std::nullopt;
}

void ExploreStats::Add(const ExploreStats& other) {
  executions += other.executions;
  crash_points += other.crash_points;
  crash_points_repeated += other.crash_points_repeated;
  events += other.events;
  states_checked += other.states_checked;
  recovery_crash_states += other.recovery_crash_states;
  eager_states = other.eager_states > UINT64_MAX - eager_states ? UINT64_MAX
                                                                : eager_states + other.eager_states;
  incomplete_points += other.incomplete_points;
}

uint64_t SectorTag(uint64_t lba, uint64_t write_id, uint64_t word) {
  return (kTagMagic << 48) | ((lba & 0xFFFF) << 32) | ((write_id & 0xFFFF) << 16) | (word & 0xFFFF);
}

std::string DescribeWord(uint64_t value) {
  std::string source = WordSource(value);
  if ((value >> 48) == kTagMagic) source += " word " + std::to_string(value & 0xFFFF);
  return source;
}

std::string DescribeSector(std::span<const std::byte> s) {
  std::string out;
  auto word_source = [&](uint64_t off) {
    uint64_t v = 0;
    std::memcpy(&v, s.data() + off, std::min<uint64_t>(8, s.size() - off));
    return WordSource(v);
  };
  const uint64_t words = (s.size() + 7) / 8;
  if (words == 0) return out;
  uint64_t run_start = 0;
  std::string run_source = word_source(0);
  for (uint64_t w = 1; w <= words; ++w) {
    std::string src = w < words ? word_source(w * 8) : std::string();
    if (w == words || src != run_source) {
      if (!out.empty()) out += ", ";
      out += run_start == w - 1
                 ? "word " + std::to_string(run_start)
                 : "words " + std::to_string(run_start) + "-" + std::to_string(w - 1);
      out += " " + run_source;
      run_start = w;
      run_source = src;
    }
  }
  return out;
}

Status FormatSimulatedBtt(btt::Namespace& ns, btt::Profile profile, uint32_t external_lbasize,
                          uint32_t nfree) {
  btt::FormatOptions format;
  format.profile = profile;
  format.external_lbasize = external_lbasize;
  format.nfree = nfree;
  format.uuid = {0x74, 0x65, 0x61, 0x72, 0x70, 0x72, 0x6f, 0x6f, 0x66, 1, 2, 3, 4, 5, 6, 7};
  format.parent_uuid = {0x70, 0x61, 0x72, 0x65, 0x6e, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  format.pool_part_uuid = {0x70, 0x61, 0x72, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  format.medium_is_zeroed = true;  // a fresh simulated medium reads as zero
  return btt::Btt::Format(ns, format).Annotate("format: ");
}

bool MutantsCompiledIn() { return btt::kMutantsCompiledIn; }

Result<btt::Mutant> MutantByName(std::string_view name) {
  if (name == "none") return btt::Mutant::kNone;
#ifdef TEARPROOF_BTT_MUTANTS
  if (auto m = btt::ParseMutant(name)) return *m;
  return InvalidArgument("unknown mutant '" + std::string(name) + "'");
#else
  return InvalidArgument("mutant '" + std::string(name) +
                         "': this build contains no mutants (the test-only tearproof-mutants "
                         "binary does)");
#endif
}

std::string NameOfMutant([[maybe_unused]] btt::Mutant mutant) {
#ifdef TEARPROOF_BTT_MUTANTS
  return std::string(btt::MutantName(mutant));
#else
  return mutant == btt::Mutant::kNone ? "none" : "mutant#" + std::to_string(int(mutant));
#endif
}

Result<ExploreResult> Explore(const ExploreConfig& config) {
  Explorer explorer(config);
  return explorer.Run();
}

}  // namespace tearproof::harness
