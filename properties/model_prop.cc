// Family "model": model-based (rc::state) testing of the BTT against a reference sector array.
//
// The model is the reference: for every LBA, the values it may hold (one after a completed
// operation; old or new after a crash during an operation on it). The system under test is a
// BTT on a simulated medium plus what each LBA showed when last read back after a crash (a
// recovered BTT must not change its mind later). rc::state generates the whole command sequence
// from the model before any command runs, so every crash point and crash choice is part of the
// generated case and shrinks with it. Commands:
//   write / zero / error LBA   completes (PROP-OP-FAILED otherwise);
//   read LBA                   reads the value the reference holds (ORACLE-ATOMIC);
//   crash during an op         crash before fence k of a write / zero / error flag (or after
//                              it), resolved by a choice vector, optionally crashing recovery
//                              too; then Recover (ORACLE-RECOVER, -RO-EQUALS-RW, -IDEMPOTENT,
//                              -CHECK) and every LBA must read a value the reference allows, and
//                              the value it held before unless it was the op's LBA;
//   clean reopen               a reopen with nothing in flight recovers nothing and reads every
//                              reference value (PROP-CLEAN-REOPEN);
//   read-only open             alongside the read-write one: no stores, the same sectors;
//   check                      Btt::Check is clean (ORACLE-CHECK).
// A failure's write / zero / error ops become a tearproof trace (crash_case.h) when the
// explorer finds a violation in them too.
// Lanes: SequentialSync hands out nfree lanes round-robin, so consecutive writes go through
// different lanes, free blocks and flog groups.
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <algorithm>

#include "properties/crash_case.h"
#include "properties/families.h"
#include "properties/generators.h"
#include "properties/prop_assert.h"
#include "properties/sim_device.h"

namespace tearproof::properties {
namespace {

struct Model {
  DeviceConfig config;
  uint64_t nlba = 0;
  Allowed may_hold;     // LBAs not listed hold zero
  ValueId next_id = 1;  // the id of the next write
};

struct Sut {
  DeviceConfig config;
  uint64_t nlba = 0;
  std::optional<sim::Medium> medium;
  std::unique_ptr<Session> session;
  std::map<uint64_t, ValueId> held;  // the value each LBA holds, as last observed or written
  // Every write / zero / error op run so far, crashed ones included: the workload a trace of a
  // failure explores (crash_case.h WriteCrashCaseTrace).
  std::vector<Op> ops;
};

using Command = rc::state::Command<Model, Sut>;

Op::Kind GenKind() {
  return *rc::gen::weightedElement<Op::Kind>(
      {{6, Op::Kind::kWrite}, {2, Op::Kind::kZero}, {1, Op::Kind::kError}});
}

// The op a command runs, with its write id taken from the model it runs in (so that a command
// kept by shrinking still writes a value of its own).
Op MakeOp(Op::Kind kind, uint64_t lba, const Model& m) {
  return Op{kind, lba, kind == Op::Kind::kWrite ? m.next_id : 0};
}

void ApplyToModel(Model& m, const Op& op, bool crashed) {
  std::vector<ValueId>& may = m.may_hold[op.lba];
  if (!crashed) {
    may.clear();
  } else if (may.empty()) {
    may.push_back(kZeroValue);  // never touched: the LBA held zero
  }
  if (std::find(may.begin(), may.end(), op.Value()) == may.end()) may.push_back(op.Value());
  if (op.kind == Op::Kind::kWrite) ++m.next_id;
}

// Every LBA of `view` must read a value the reference allows, and exactly one of `precise` (the
// values it held, refined by what it showed after earlier crashes). Fills *held when given.
void ExpectView(const View& view, const Model& reference, const Allowed& precise,
                const std::string& when, std::map<uint64_t, ValueId>* held = nullptr) {
  const uint32_t lbasize = reference.config.lbasize;
  FailIf(JudgeView(view, reference.may_hold, lbasize, nullptr), when);
  FailIf(JudgeView(view, precise, lbasize, held), when + " (held value)");
}

struct OpCommand final : Command {
  Op::Kind kind;
  uint64_t lba;
  explicit OpCommand(const Model& m) : kind(GenKind()), lba(*GenLba(m.nlba)) {}
  void apply(Model& m) const override { ApplyToModel(m, MakeOp(kind, lba, m), false); }
  void run(const Model& m, Sut& sut) const override {
    const Op op = MakeOp(kind, lba, m);
    sut.ops.push_back(op);
    OkOrFail(sut.session->Apply(op), "PROP-OP-FAILED: " + ToString(op));
    sut.held[op.lba] = op.Value();
  }
  void show(std::ostream& os) const override { os << ToString(Op{kind, lba, 0}); }
};

struct ReadCommand final : Command {
  uint64_t lba;
  explicit ReadCommand(const Model& m) : lba(*GenLba(m.nlba)) {}
  void run(const Model& m, Sut& sut) const override {
    ExpectView(ReadView(sut.session->btt(), {lba}), m, AllowedExactly(sut.held),
               "read of lba " + std::to_string(lba));
  }
  void show(std::ostream& os) const override { os << "read " << lba; }
};

struct CrashCommand final : Command {
  Op::Kind kind;
  uint64_t lba;
  CrashSpec crash;
  std::optional<CrashSpec> recovery_crash;
  explicit CrashCommand(const Model& m)
      : kind(GenKind()),
        lba(*GenLba(m.nlba)),
        // A write issues 4 fences; 5 also reaches "after the op".
        crash(*GenCrashSpec(5)),
        recovery_crash(*rc::gen::weightedElement<bool>({{2, false}, {1, true}})
                           ? std::optional<CrashSpec>(*GenCrashSpec(2))
                           : std::nullopt) {}
  void apply(Model& m) const override { ApplyToModel(m, MakeOp(kind, lba, m), true); }
  void run(const Model& m, Sut& sut) const override {
    const Op op = MakeOp(kind, lba, m);
    sut.ops.push_back(op);
    CrashTrap trap(*sut.medium, crash);
    sut.session->SetTrap(&trap);
    const Status applied = sut.session->Apply(op);
    sut.session->SetTrap(nullptr);
    OkOrFail(applied, "PROP-OP-FAILED: " + ToString(op));
    sim::Medium crashed = trap.TakeCrash();
    sut.session.reset();
    sut.medium.emplace(std::move(crashed));
    const std::string where = "crash during " + ToString(op) + ", " + ToString(crash);
    Recovery r = Recover(*sut.medium, sut.config, AllLbas(sut.nlba), recovery_crash);
    FailIf(r.violation, where);
    ExpectView(r.view, nextState(m), AllowedAfterCrash(sut.held, op), where, &sut.held);
    sut.session = std::move(r.session);
  }
  void show(std::ostream& os) const override {
    os << "crash during " << ToString(Op{kind, lba, 0}) << ": " << ToString(crash);
    if (recovery_crash) os << "; in recovery: " << ToString(*recovery_crash);
  }
};

struct ReopenCommand final : Command {
  void run(const Model& m, Sut& sut) const override {
    sut.session.reset();
    sut.session = ValueOrFail(Session::Open(*sut.medium, sut.config, false), "PROP-CLEAN-REOPEN");
    const btt::OpenReport& r = sut.session->btt().open_report();
    if (r.lanes_rolled_forward != 0 || r.primaries_from_backup != 0) {
      RC_FAIL("PROP-CLEAN-REOPEN: a reopen with nothing in flight recovered something");
    }
    ExpectView(ReadView(sut.session->btt(), AllLbas(sut.nlba)), m, AllowedExactly(sut.held),
               "clean reopen");
  }
  void show(std::ostream& os) const override { os << "clean reopen"; }
};

struct ReadOnlyOpenCommand final : Command {
  void run(const Model& m, Sut& sut) const override {
    auto ro = ValueOrFail(Session::Open(*sut.medium, sut.config, true), "read-only open");
    ExpectView(ReadView(ro->btt(), AllLbas(sut.nlba)), m, AllowedExactly(sut.held),
               "read-only open");
    if (ro->ns().store_calls() != 0) RC_FAIL("ORACLE-RO-EQUALS-RW: the read-only open stored");
  }
  void show(std::ostream& os) const override { os << "read-only open"; }
};

struct CheckCommand final : Command {
  void run(const Model&, Sut& sut) const override {
    auto report = ValueOrFail(sut.session->btt().Check(false), "ORACLE-CHECK");
    if (!report.Clean()) RC_FAIL("ORACLE-CHECK: " + report.ToString());
  }
  void show(std::ostream& os) const override { os << "check"; }
};

}  // namespace

void ModelProperty() {
  const DeviceConfig config = *GenDeviceConfig();
  Model model;
  model.config = config;
  model.nlba = ValueOrFail(ExternalNlba(config), "geometry");
  Sut sut;
  sut.config = config;
  sut.nlba = model.nlba;
  sut.medium.emplace(ValueOrFail(MakeMedium(config), "medium"));
  OkOrFail(FormatDevice(*sut.medium, config), "format");
  sut.session = ValueOrFail(Session::Open(*sut.medium, config, false), "open");
  // A failing command sequence leaves its ops for Family::write_trace (the final shrunk
  // sequence is the last one to fail). No command runs on a fiber.
  const RememberCaseOnFailure remember([&sut] {
    CrashCase c;
    c.config = sut.config;
    c.nlba = sut.nlba;
    c.history = sut.ops;
    return c;
  });
  using rc::state::gen::execOneOfWithArgs;
  rc::state::check(model, sut, [](const Model& m) {
    return rc::gen::weightedOneOf<std::shared_ptr<const Command>>({
        {8, execOneOfWithArgs<OpCommand>()(m)},
        {3, execOneOfWithArgs<ReadCommand>()(m)},
        {3, execOneOfWithArgs<CrashCommand>()(m)},
        {1, execOneOfWithArgs<ReopenCommand>()(m)},
        {1, execOneOfWithArgs<ReadOnlyOpenCommand>()(m)},
        {1, execOneOfWithArgs<CheckCommand>()(m)},
    });
  });
}

}  // namespace tearproof::properties
