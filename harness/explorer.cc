#include "harness/explorer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "btt/btt.h"
#include "harness/sequential_sync.h"
#include "harness/sim_namespace.h"
#include "sim/medium.h"
#include "util/endian.h"

namespace tearproof::harness {
namespace {

constexpr uint64_t kTagMagic = 0x5450ULL;  // "TP": a tagged word is never zero
constexpr size_t kMaxViolations = 8;

using Sector = std::vector<std::byte>;

Sector MakeSector(uint64_t lba, uint64_t write_id, uint32_t size) {
  Sector s(size);
  for (uint64_t off = 0, word = 0; off < size; off += 8, ++word) {
    const uint64_t tag = SectorTag(lba, write_id, word);
    std::memcpy(s.data() + off, &tag, std::min<uint64_t>(8, size - off));
  }
  return s;
}

// "words 0-31 from write 2 of lba 1, words 32-63 zero": which write produced each word.
std::string DescribeSector(const Sector& s) {
  std::string out;
  auto word_source = [&](uint64_t off) -> std::string {
    uint64_t v = 0;
    std::memcpy(&v, s.data() + off, std::min<uint64_t>(8, s.size() - off));
    if (v == 0) return "zero";
    if ((v >> 48) != kTagMagic) return "untagged";
    return "write " + std::to_string((v >> 16) & 0xFFFF) + " of lba " +
           std::to_string((v >> 32) & 0xFFFF);
  };
  uint64_t run_start = 0;
  std::string run_source = word_source(0);
  const uint64_t words = (s.size() + 7) / 8;
  for (uint64_t w = 1; w <= words; ++w) {
    std::string src = w < words ? word_source(w * 8) : std::string();
    if (w == words || src != run_source) {
      if (!out.empty()) out += ", ";
      out += run_start == w - 1 ? "word " + std::to_string(run_start)
                                : "words " + std::to_string(run_start) + "-" + std::to_string(w - 1);
      out += " " + run_source;
      run_start = w;
      run_source = src;
    }
  }
  return out;
}

// The profile is named rather than detected: detection probes other offsets (a BTT at 4 KiB lies
// inside a uefi BTT's data area), and reading in-flight data there would make the explorer branch
// on words that cannot change the verdict.
// Lanes are named too (= nfree): the core's default depends on the host's CPU count, and a
// simulation must not.
btt::OpenOptions OpenOptionsFor(btt::Profile profile, btt::Sync* sync) {
  btt::OpenOptions options;
  options.profile = profile;
  options.sync = sync;
  options.lanes = btt::kMaxNfree;  // capped at the BTT's nfree: every lane is in use
  return options;
}

struct Expectation {
  Sector completed;               // value of the last completed operation (zeros at first)
  std::optional<Sector> inflight;  // value of the operation in flight, if it targets this LBA
};

class Explorer {
 public:
  explicit Explorer(const ExploreConfig& config) : config_(config) {}

  Result<ExploreResult> Run();

 private:
  Status ExplorePoint(const sim::Medium& medium);
  // Judges one crash state; appends violations. Returns the RW view for idempotence checks.
  void JudgeState(sim::Medium& crashed, sim::OdometerChooser& odometer);
  Result<std::vector<Sector>> ReadAll(btt::Btt& b);
  void AddViolation(std::string check, std::string detail, const sim::OdometerChooser* odometer);

  const ExploreConfig& config_;
  std::vector<uint64_t> lbas_;               // tracked LBAs, ascending
  std::map<uint64_t, Expectation> expect_;  // by LBA
  int64_t op_in_flight_ = -1;
  ExploreResult result_;
};

void Explorer::AddViolation(std::string check, std::string detail,
                            const sim::OdometerChooser* odometer) {
  if (result_.violations.size() >= kMaxViolations) return;
  Violation v;
  v.check = std::move(check);
  v.crash_point = result_.stats.crash_points;
  v.op_in_flight = op_in_flight_;
  v.detail = std::move(detail);
  if (odometer != nullptr) v.resolution = odometer->choices();
  result_.violations.push_back(std::move(v));
}

Result<std::vector<Sector>> Explorer::ReadAll(btt::Btt& b) {
  std::vector<Sector> out;
  out.reserve(lbas_.size());
  for (uint64_t lba : lbas_) {
    Sector s(b.ExternalLbaSize());
    const Status status = b.Read(btt::ExternalLba(lba), s);
    if (!status.ok()) return status.Annotate("read lba " + std::to_string(lba) + ": ");
    out.push_back(std::move(s));
  }
  return out;
}

void Explorer::JudgeState(sim::Medium& crashed, sim::OdometerChooser& odometer) {
  // 1. Read-only open first: it must not store, and it fixes (resolves) the words it reads, which
  //    the read-write recovery below then sees identically.
  std::vector<Sector> ro_view;
  {
    SimNamespace ro_ns(crashed, /*read_only=*/true);
    SequentialSync sync;
    btt::OpenOptions options = OpenOptionsFor(config_.profile, &sync);
    options.read_only = true;
    auto ro = btt::Btt::Open(ro_ns, options);
    if (!ro.ok()) {
      AddViolation("ORACLE-RECOVER", "read-only open: " + ro.status().ToString(), &odometer);
      return;
    }
    auto view = ReadAll(**ro);
    if (!view.ok()) {
      AddViolation("ORACLE-RECOVER", "read-only: " + view.status().ToString(), &odometer);
      return;
    }
    ro_view = std::move(*view);
    if (ro_ns.store_calls() != 0) {
      AddViolation("ORACLE-RO-EQUALS-RW", "read-only open stored to the medium", &odometer);
    }
  }

  // 2. Read-write recovery, crashing again at every fence it issues (bounded nesting: 1).
  std::vector<std::vector<Sector>> nested_views;
  std::vector<std::string> nested_errors;
  SimNamespace rw_ns(crashed);
  if (config_.crash_in_recovery) {
    rw_ns.set_fence_hook([&] {
      auto inner = std::make_shared<sim::OdometerChooser>();
      do {
        sim::Medium again = crashed.LazyCrash(inner);
        SimNamespace ns2(again);
        SequentialSync sync2;
        auto b2 = btt::Btt::Open(ns2, OpenOptionsFor(config_.profile, &sync2));
        ++result_.stats.recovery_crash_states;
        if (!b2.ok()) {
          nested_errors.push_back("re-open after a crash in recovery: " + b2.status().ToString());
          continue;
        }
        auto view = ReadAll(**b2);
        if (!view.ok()) {
          nested_errors.push_back(view.status().ToString());
          continue;
        }
        nested_views.push_back(std::move(*view));
      } while (inner->Advance() && inner->runs() <= config_.max_states_per_point);
    });
  }
  SequentialSync rw_sync;
  auto rw = btt::Btt::Open(rw_ns, OpenOptionsFor(config_.profile, &rw_sync));
  rw_ns.set_fence_hook(nullptr);
  if (!rw.ok()) {
    AddViolation("ORACLE-RECOVER", "read-write open: " + rw.status().ToString(), &odometer);
    return;
  }
  auto rw_view_or = ReadAll(**rw);
  if (!rw_view_or.ok()) {
    AddViolation("ORACLE-RECOVER", rw_view_or.status().ToString(), &odometer);
    return;
  }
  const std::vector<Sector>& rw_view = *rw_view_or;

  // 3. Atomicity, durability, no misdirection: old or in-flight, byte for byte.
  for (size_t i = 0; i < lbas_.size(); ++i) {
    const Expectation& e = expect_[lbas_[i]];
    const Sector& got = rw_view[i];
    if (got == e.completed || (e.inflight && got == *e.inflight)) continue;
    std::string detail = "lba " + std::to_string(lbas_[i]) + " reads [" + DescribeSector(got) +
                         "], expected [" + DescribeSector(e.completed) + "]";
    if (e.inflight) detail += " or [" + DescribeSector(*e.inflight) + "]";
    AddViolation("ORACLE-ATOMIC", detail, &odometer);
  }
  if (ro_view != rw_view) {
    AddViolation("ORACLE-RO-EQUALS-RW", "read-only open shows other sectors than recovery",
                 &odometer);
  }
  for (const std::string& error : nested_errors) {
    AddViolation("ORACLE-IDEMPOTENT", error, &odometer);
  }
  for (const auto& view : nested_views) {
    if (view != rw_view) {
      AddViolation("ORACLE-IDEMPOTENT",
                   "recovery interrupted by a crash and re-run shows other sectors", &odometer);
      break;
    }
  }

  // 4. The layout's own invariants.
  if (config_.check_layout) {
    auto report = (*rw)->Check(/*repair=*/false);
    if (!report.ok()) {
      AddViolation("ORACLE-CHECK", report.status().ToString(), &odometer);
    } else if (!report->Clean()) {
      AddViolation("ORACLE-CHECK", report->ToString(), &odometer);
    }
  }
}

Status Explorer::ExplorePoint(const sim::Medium& medium) {
  if (config_.stop_at_first_violation && !result_.violations.empty()) return Status::Ok();
  ++result_.stats.crash_points;
  const sim::CrashSpaceSize space = medium.CrashSpace();
  result_.stats.eager_states_log2_sum += space.log2;
  result_.stats.eager_states =
      space.count > UINT64_MAX - result_.stats.eager_states ? UINT64_MAX
                                                            : result_.stats.eager_states +
                                                                  space.count;
  auto odometer = std::make_shared<sim::OdometerChooser>();
  for (;;) {
    sim::Medium crashed = medium.LazyCrash(odometer);
    JudgeState(crashed, *odometer);
    ++result_.stats.states_checked;
    if (config_.stop_at_first_violation && !result_.violations.empty()) break;
    if (!odometer->Advance()) break;
    if (odometer->runs() > config_.max_states_per_point) {
      ++result_.stats.incomplete_points;
      break;
    }
  }
  return Status::Ok();
}

Result<ExploreResult> Explorer::Run() {
  TP_ASSIGN_OR_RETURN(const uint32_t internal_lbasize,
                      btt::InternalLbaSizeFor(config_.profile, config_.external_lbasize));
  (void)internal_lbasize;
  if (config_.nfree == 0) return InvalidArgument("nfree must be at least 1");
  const uint64_t size = btt::BttOffsetFor(config_.profile) + btt::kMinArenaSize;
  TP_ASSIGN_OR_RETURN(sim::Medium medium,
                      sim::Medium::Create({.size_bytes = size, .model = config_.model,
                                           .event_log = false}));
  SimNamespace ns(medium);
  btt::FormatOptions format;
  format.profile = config_.profile;
  format.external_lbasize = config_.external_lbasize;
  format.nfree = config_.nfree;
  format.uuid = {0x74, 0x65, 0x61, 0x72, 0x70, 0x72, 0x6f, 0x6f, 0x66, 1, 2, 3, 4, 5, 6, 7};
  format.parent_uuid = {0x70, 0x61, 0x72, 0x65, 0x6e, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  format.pool_part_uuid = {0x70, 0x61, 0x72, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  format.medium_is_zeroed = true;  // a fresh simulated medium reads as zero
  TP_RETURN_IF_ERROR(btt::Btt::Format(ns, format).Annotate("format: "));
  if (medium.pending_line_count() != 0) {
    return InternalError("format left unpersisted lines on the medium");
  }
  // Aging: complete operations, no crash points; write numbers 0x8000 + i keep their tags apart
  // from the explored workload's.
  if (!config_.setup_ops.empty()) {
    SequentialSync setup_sync;
    TP_ASSIGN_OR_RETURN(auto setup,
                        btt::Btt::Open(ns, OpenOptionsFor(config_.profile, &setup_sync)));
    for (size_t i = 0; i < config_.setup_ops.size(); ++i) {
      const WorkloadOp& op = config_.setup_ops[i];
      if (op.lba >= setup->ExternalNlba()) {
        return InvalidArgument("setup lba " + std::to_string(op.lba) + " >= " +
                               std::to_string(setup->ExternalNlba()));
      }
      if (!expect_.count(op.lba)) lbas_.push_back(op.lba);
      Sector& value = expect_[op.lba].completed;
      if (op.kind == WorkloadOp::Kind::kWrite) {
        value = MakeSector(op.lba, 0x8000 + i, setup->ExternalLbaSize());
        TP_RETURN_IF_ERROR(setup->Write(btt::ExternalLba(op.lba), value).Annotate("setup: "));
      } else {
        value = Sector(setup->ExternalLbaSize());
        TP_RETURN_IF_ERROR(setup->Zero(btt::ExternalLba(op.lba)).Annotate("setup: "));
      }
    }
    if (medium.pending_line_count() != 0) {
      return InternalError("setup left unpersisted lines on the medium");
    }
  }
  if (config_.after_setup) config_.after_setup();
  // The workload runs through its own adapter so its flush kind can differ from format's.
  SimNamespace wns(medium, /*read_only=*/false, config_.workload_flush);
  SequentialSync sync;
  TP_ASSIGN_OR_RETURN(auto b, btt::Btt::Open(wns, OpenOptionsFor(config_.profile, &sync)));

  for (const WorkloadOp& op : config_.ops) {
    if (op.lba >= b->ExternalNlba()) {
      return InvalidArgument("workload lba " + std::to_string(op.lba) + " >= " +
                             std::to_string(b->ExternalNlba()));
    }
    if (!expect_.count(op.lba)) {
      expect_[op.lba].completed = Sector(b->ExternalLbaSize());
      lbas_.push_back(op.lba);
    }
  }
  std::sort(lbas_.begin(), lbas_.end());

  const uint64_t events_before = medium.event_count();
  Status hook_status;
  wns.set_fence_hook([&] {
    if (hook_status.ok()) hook_status = ExplorePoint(medium);
  });
  for (size_t i = 0; i < config_.ops.size(); ++i) {
    const WorkloadOp& op = config_.ops[i];
    Expectation& e = expect_[op.lba];
    const Sector value = op.kind == WorkloadOp::Kind::kWrite
                             ? MakeSector(op.lba, i + 1, b->ExternalLbaSize())
                             : Sector(b->ExternalLbaSize());
    e.inflight = value;
    op_in_flight_ = static_cast<int64_t>(i);
    const Status status = op.kind == WorkloadOp::Kind::kWrite
                              ? b->Write(btt::ExternalLba(op.lba), value)
                              : b->Zero(btt::ExternalLba(op.lba));
    TP_RETURN_IF_ERROR(hook_status);
    if (!status.ok()) return status.Annotate("workload op " + std::to_string(i) + ": ");
    e.completed = value;
    e.inflight.reset();
    op_in_flight_ = -1;
  }
  wns.set_fence_hook(nullptr);
  TP_RETURN_IF_ERROR(ExplorePoint(medium));  // the end: nothing in flight
  result_.stats.events = medium.event_count() - events_before;
  result_.stats.executions = 1;
  return std::move(result_);
}

}  // namespace

void ExploreStats::Add(const ExploreStats& other) {
  executions += other.executions;
  crash_points += other.crash_points;
  events += other.events;
  states_checked += other.states_checked;
  recovery_crash_states += other.recovery_crash_states;
  eager_states_log2_sum += other.eager_states_log2_sum;
  eager_states = other.eager_states > UINT64_MAX - eager_states ? UINT64_MAX
                                                                : eager_states + other.eager_states;
  incomplete_points += other.incomplete_points;
}

uint64_t SectorTag(uint64_t lba, uint64_t write_id, uint64_t word) {
  return (kTagMagic << 48) | ((lba & 0xFFFF) << 32) | ((write_id & 0xFFFF) << 16) |
         (word & 0xFFFF);
}

Result<ExploreResult> Explore(const ExploreConfig& config) {
  Explorer explorer(config);
  return explorer.Run();
}

}  // namespace tearproof::harness
