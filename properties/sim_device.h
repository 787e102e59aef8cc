// properties::SimDevice support — the production BTT core on a simulated medium, as the property
// families (properties/*_prop.cc) drive it: format, open, operations, crashes at a chosen fence
// with a pre-generated crash resolution, recovery, and the oracle's per-LBA judgement.
//
// Contract:
//   - Every random decision is an input (DeviceConfig, Op, CrashSpec): nothing here draws a
//     random number, so a RapidCheck case generated before the simulation starts fixes the whole
//     run, and shrinking a case simplifies its crash point and crash state too.
//   - Nothing here throws or uses RapidCheck: failures come back as Status (the harness could
//     not run the case) or as a Violation (the BTT broke a property). RC_ASSERT stays in the
//     property bodies, never inside a BTT call or a fence hook.
//   - Deterministic and single-threaded, like the simulator.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "btt/btt.h"
#include "btt/layout.h"
#include "harness/sequential_sync.h"
#include "harness/sim_namespace.h"
#include "sim/crash_chooser.h"
#include "sim/medium.h"
#include "util/status.h"

namespace tearproof::properties {

// One simulated BTT namespace: what a property case formats.
struct DeviceConfig {
  btt::Profile profile = btt::Profile::kLinux;
  uint32_t lbasize = 512;
  uint32_t nfree = 1;
  sim::PersistencyModel model = sim::PersistencyModel::kPx86;
  uint64_t namespace_bytes = 0;
};

// The BTT's external LBA count for `config` (from the geometry, without formatting).
Result<uint64_t> ExternalNlba(const DeviceConfig& config);
std::string ToString(const DeviceConfig& config);

// What a sector holds, as the oracle names it. Zero is the content of a fresh or zeroed sector;
// Error is the E flag (reads fail with kMediaError); any other id is one write, whose bytes are
// harness::SectorTag(lba, id, word) in every 8-byte word.
using ValueId = uint64_t;
inline constexpr ValueId kZeroValue = 0;
inline constexpr ValueId kErrorValue = UINT64_MAX;
std::vector<std::byte> SectorBytes(uint64_t lba, ValueId id, uint32_t size);
std::string ValueName(ValueId id);

// One operation of a history. A write's id names its value (unique within a case).
struct Op {
  enum class Kind : uint8_t { kWrite, kZero, kError };
  Kind kind = Kind::kWrite;
  uint64_t lba = 0;
  ValueId id = 0;         // kWrite only
  ValueId Value() const;  // what the LBA holds once the op has completed
};
std::string ToString(const Op& op);  // "w3#7", "z3", "e3"
std::string ToString(const std::vector<Op>& ops);

// A crash: just before the `fence`-th fence (0-based) seen after the trap is armed, or after the
// last operation when fewer fences happen. The post-crash value of every word that was not
// guaranteed is chosen, when first read, by `choices` (index modulo the candidate count; 0, and
// everything past the end, is "nothing unguaranteed persisted").
struct CrashSpec {
  uint32_t fence = 0;
  std::vector<uint32_t> choices;
};
std::string ToString(const CrashSpec& spec);

// Consumes a CrashSpec's choices in the order words are first read.
class VectorChooser final : public sim::CrashChooser {
 public:
  explicit VectorChooser(std::vector<uint32_t> choices) : choices_(std::move(choices)) {}
  uint32_t Choose(uint64_t word_addr, uint32_t candidate_count) override;
  uint64_t consumed() const { return next_; }

 private:
  std::vector<uint32_t> choices_;
  size_t next_ = 0;
};

// Captures the crash state of `medium` just before the spec's fence. Used as a SimNamespace fence
// hook; the operation then runs on to its end on the live medium, which the crash left behind.
class CrashTrap {
 public:
  CrashTrap(const sim::Medium& medium, CrashSpec spec) : medium_(medium), spec_(std::move(spec)) {}
  void OnFence();
  bool fired() const { return crashed_.has_value(); }
  uint64_t fences_seen() const { return fences_seen_; }
  // The captured crash, or (not fired) a crash of the medium as it is now.
  sim::Medium TakeCrash();

 private:
  const sim::Medium& medium_;
  CrashSpec spec_;
  uint64_t fences_seen_ = 0;
  std::optional<sim::Medium> crashed_;
};

// A fresh zeroed medium for `config`.
Result<sim::Medium> MakeMedium(const DeviceConfig& config);
// Formats `medium` with the config's geometry (fixed UUIDs). `fresh`: the medium has never been
// written (format may skip zeroing the map); false for a re-format. With a trap, the trap sees
// every format fence.
Status FormatDevice(sim::Medium& medium, const DeviceConfig& config, bool fresh = true,
                    CrashTrap* trap = nullptr);

// A BTT opened on a medium, with its namespace adapter and lane provider (the Btt refers to
// both, so a Session is never moved). The profile is named, never detected, and every lane is
// in use, so the run does not depend on the host (as in harness/explorer.cc).
class Session {
 public:
  // `detect`: let Open detect the profile and sector size (otherwise both are named). `sync`:
  // the lane provider (nullptr: the session's own SequentialSync); it must outlive the session.
  static Result<std::unique_ptr<Session>> Open(sim::Medium& medium, const DeviceConfig& config,
                                               bool read_only, CrashTrap* trap = nullptr,
                                               bool detect = false, btt::Sync* sync = nullptr);
  btt::Btt& btt() { return *btt_; }
  harness::SimNamespace& ns() { return ns_; }
  Status Apply(const Op& op);
  // Routes the namespace's fence hook to `trap` (nullptr: no hook).
  void SetTrap(CrashTrap* trap);

 private:
  Session(sim::Medium& medium, bool read_only) : ns_(medium, read_only) {}
  harness::SimNamespace ns_;
  harness::SequentialSync sync_;
  std::unique_ptr<btt::Btt> btt_;
};

// What one LBA reads as: the status code and, when OK, the bytes.
struct SectorView {
  StatusCode code = StatusCode::kOk;
  std::vector<std::byte> bytes;
  friend bool operator==(const SectorView&, const SectorView&) = default;
};
using View = std::map<uint64_t, SectorView>;  // by LBA
View ReadView(btt::Btt& btt, const std::vector<uint64_t>& lbas);

// A broken property: the check that failed (ORACLE-* as in docs/explorer.md, or PROP-* for the
// property suites' own checks, docs/testing.md) and what was seen.
struct Violation {
  std::string check;
  std::string detail;
  std::string ToString() const { return check + ": " + detail; }
};

// The values each LBA may hold; LBAs not listed may hold only kZeroValue.
using Allowed = std::map<uint64_t, std::vector<ValueId>>;

// ORACLE-ATOMIC: every LBA of `view` reads exactly as one of its allowed values (never torn,
// stale or another LBA's data). On success fills `*held` with the value each LBA holds.
std::optional<Violation> JudgeView(const View& view, const Allowed& allowed, uint32_t lbasize,
                                   std::map<uint64_t, ValueId>* held);

// Recovery of a crashed medium, judged the way the explorer does it (docs/explorer.md):
//   ORACLE-RECOVER       read-only and read-write opens succeed and every LBA is readable;
//   ORACLE-RO-EQUALS-RW  the read-only open stores nothing and shows the read-write view;
//   ORACLE-IDEMPOTENT    with `recovery_crash`, a copy of the crash state is recovered with a
//                        crash at that fence of its own recovery, recovered again, and must show
//                        the same view (skipped when recovery issues fewer fences);
//   ORACLE-CHECK         Btt::Check is clean after recovery.
// On success `session` is the read-write open on `crashed`, and `view` its sectors.
struct Recovery {
  std::optional<Violation> violation;
  std::unique_ptr<Session> session;
  View view;
  bool recovery_crashed = false;  // the recovery crash fired
};
Recovery Recover(sim::Medium& crashed, const DeviceConfig& config,
                 const std::vector<uint64_t>& lbas, const std::optional<CrashSpec>& recovery_crash);

// A fresh device formatted, opened and run through `history` with `crash` armed over the whole
// history. The operations after the one in flight at the crash are not run.
struct CrashedHistory {
  std::optional<Violation> violation;     // PROP-OP-FAILED: the core refused a valid operation
  std::optional<sim::Medium> crashed;     // the crash state (lazily resolved)
  std::map<uint64_t, ValueId> completed;  // each LBA's value after its last completed op
  std::optional<Op> in_flight;            // the op that issued the crash's fence, if any
};
Result<CrashedHistory> RunHistoryToCrash(const DeviceConfig& config, const std::vector<Op>& history,
                                         const CrashSpec& crash);

// Raw bytes of the medium, bypassing the BTT (for corruption and layout rewrites). StoreDurably
// persists what it stores (clwb + sfence), so the change is in every later crash state.
std::vector<std::byte> LoadBytes(sim::Medium& medium, uint64_t offset, uint64_t size);
Status StoreDurably(sim::Medium& medium, uint64_t offset, std::span<const std::byte> bytes);

// Arena 0's flog group of `lane`, read raw, and its newer live slot (slot 0 and the first
// non-padding of slots 1 and 2), or std::nullopt when the seqs do not decode. Test inputs only:
// the oracle never decodes the flog itself.
btt::FlogGroup LoadFlogGroup(sim::Medium& medium, const btt::Geometry& geo, uint32_t lane);
std::optional<btt::FlogSlot> NewerFlogSlot(const btt::FlogGroup& group);

// {lba: [value]} for every LBA of `held`.
Allowed AllowedExactly(const std::map<uint64_t, ValueId>& held);
// The oracle's expectation after a crash: each LBA's held value, and for the LBA of the
// operation in flight (if any) also that operation's value.
Allowed AllowedAfterCrash(const std::map<uint64_t, ValueId>& held,
                          const std::optional<Op>& in_flight);

// 0 .. n-1.
std::vector<uint64_t> AllLbas(uint64_t n);

// A "clear error" (the bad-input contract, PROP-CLEAR-ERROR): a refusal that names the invariant
// it enforces, and not an internal fault. The one definition the properties and the bad-input
// trace executor share.
inline bool IsClearError(const Status& s) {
  return !s.ok() && s.code() != StatusCode::kInternal &&
         s.message().find("INV-") != std::string::npos;
}

}  // namespace tearproof::properties
