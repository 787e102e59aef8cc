// Bounded model checking of the BTT write, zero and recovery protocol with Z3.
//
// RunBmc() encodes L lanes, each running k operations (a write or a zero of a symbolic LBA), over
// every interleaving of their steps at the granularity of 8-byte stores and persist points, a
// crash at any moment, a persistency model deciding which stores survive (px86, word8, eadr), the
// kernel's roll-forward recovery, a second crash inside recovery and a re-run of recovery. It
// asserts the negation of the selected properties (see Property) and asks Z3 for a model:
//   UNSAT   = every property holds for every execution within the bound (a proof for that bound);
//   SAT     = a counterexample, decoded into protocol terms (Counterexample, CounterexampleToJson);
//   UNKNOWN = Z3 gave up (timeout), reason in BmcResult::reason_unknown.
// docs/model.md describes the encoding, what a bound covers and what it does not.
//
// Contract: no exception escapes (Z3's z3::exception becomes a Status). Each call owns its own
// z3::context, so concurrent calls from different threads are safe. Results are deterministic for
// a given BmcOptions (Z3's default seeds), apart from the measured times.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace tearproof::model {

// What may be persisted at a crash (docs/model.md §"Persistency"). A proof under word8 also holds
// under px86 and eadr, which only remove crash states.
enum class PersistencyModel : uint8_t {
  kPx86,   // stores to one 64-byte line persist in order (a prefix); lines are independent
  kWord8,  // every aligned 8-byte word independently holds one of its candidate values
  kEadr,   // every store executed before the crash is persisted
};
const char* PersistencyModelName(PersistencyModel model);  // "px86", "word8", "eadr"
Result<PersistencyModel> ParsePersistencyModel(std::string_view name);

// Seeded protocol mutants (btt-format.md §3d). kNone is the real protocol; kNoBtt is the control:
// a plain in-place sector write without any BTT, which must tear.
enum class Mutant : uint8_t {
  kNone,                 // "none"
  kNoDataPersist,        // "no-data-persist": P1 data never flushed+fenced before P2
  kMapBeforeFlog,        // "map-before-flog": P4 map store (+persist) done before P2/P3
  kFlogHalvesUnfenced,   // "flog-halves-unfenced": no persist between flog half A and half B
  kFlogActiveSlot,       // "flog-active-slot": the writer overwrites the newer (active) slot
  kSeqReversed,          // "seq-reversed": seq advanced 1->3->2->1 instead of 1->2->3->1
  kFreeBlockReused,      // "free-block-reused": the lane's free block is not replaced by old_map
  kNoMapLock,            // "no-map-lock": the map lock is not taken around load..P4
  kRecoveryPicksOlder,   // "recovery-picks-older": recovery uses the older flog slot
  kRecoveryRollBack,     // "recovery-roll-back": never rolls forward, yet frees old_map
  kRecoveryNoMask,       // "recovery-no-mask": compares raw map entries (flags, 00) with old_map
  kRecoveryNoOldCheck,   // "recovery-no-old-check": rolls forward whenever map != new_map
  kNoBtt,                // "no-btt": control, data written in place (two words, then persist)
};
const char* MutantName(Mutant mutant);
Result<Mutant> ParseMutant(std::string_view name);
std::vector<Mutant> AllMutants();  // every value except kNone, in declaration order

// The checked properties; names as numbered in docs/model.md and cited in counterexamples.
enum class Property : uint8_t {
  kAtomicity,    // INV-SECTOR-ATOMIC: a sector reads whole data of one op on that LBA (or initial)
  kDurability,   // INV-SECTOR-DURABLE: ...of the last completed op or of an op in flight at crash
  kBijection,    // INV-MAP-BIJECTION: map blocks and free blocks are a permutation of all blocks
  kFlogSeq,      // INV-FLOG-SEQ: the two live flog slots of a lane never carry equal seq
  kIdempotence,  // INV-RECOVERY-IDEMPOTENT: crash inside recovery + re-run = one recovery
};
const char* PropertyName(Property property);
constexpr uint32_t PropertyBit(Property p) { return 1u << static_cast<uint32_t>(p); }
constexpr uint32_t kAllProperties = 0x1f;

enum class OpMix : uint8_t {
  kWritesAndZeros,  // each op is symbolically a write or a zero
  kWritesOnly,      // each op is a write (smaller formula)
};

// Coverage witnesses (vacuity checks): instead of the negated properties, assert that a state
// the proof must cover is reachable. SAT = reachable. An UNSAT proof whose witnesses are not all
// reachable at the same bound would be suspect.
enum class Witness : uint8_t {
  kNone,                   // check the properties (the normal mode)
  kRollForward,            // recovery rolls some lane forward (crash between P3 and P4)
  kTornFreeBlock,          // at the crash some data block holds two different tags
  kSameLbaTwoLanes,        // ops of two lanes on the same LBA both completed (needs lanes >= 2)
  kRecoveryCrashCutsRoll,  // the crash inside recovery falls before a needed roll-forward
  kZeroVisible,            // after recovery some LBA reads zeros (a zero op took effect)
};
const char* WitnessName(Witness witness);

struct BmcOptions {
  int lanes = 2;         // L >= 1
  int lbas = 2;          // N >= 1 external LBAs
  // F = nfree >= L: one flog group and one free block per lane. The F - L groups beyond the
  // lanes in use stay formatted (as on a BTT whose nfree exceeds its lanes in use) but recovery
  // reads them and their free blocks are part of INV-MAP-BIJECTION. 0 means F = L.
  int nfree = 0;
  int ops_per_lane = 1;  // k >= 1
  PersistencyModel model = PersistencyModel::kWord8;
  Mutant mutant = Mutant::kNone;
  uint32_t properties = kAllProperties;  // bitwise OR of PropertyBit(); checked as a disjunction
  OpMix op_mix = OpMix::kWritesAndZeros;
  // Canonical LBA labelling (the first op touches LBA 0, each later op at most 1 + the largest
  // LBA so far). Sound because LBAs are symmetric in the formatted state (docs/model.md).
  bool symmetry_breaking = true;
  bool crash_during_recovery = true;  // recovery crashes once after a symbolic number of lanes
  double timeout_seconds = 120;       // Z3 wall-clock limit; 0 = none
  Witness witness = Witness::kNone;
};

enum class Verdict : uint8_t { kSat, kUnsat, kUnknown };
const char* VerdictName(Verdict verdict);  // "SAT", "UNSAT", "UNKNOWN"

// A counterexample in protocol terms; every integer is a concrete value from Z3's model.
struct CexOp {
  int lane = 0;
  int index = 0;       // position in the lane's program
  std::string kind;    // "write" | "zero"
  int lba = 0;
  int new_block = -1;  // the lane's free block the write used (-1 for a zero)
  std::string old_entry;  // map entry read under the lock, e.g. "00:1", "11:3", "10:2" (Z flag)
  int flog_slot = -1;     // slot the write logs into (-1 for a zero)
  int seq = -1;
  std::string status;  // "completed" | "in-flight" | "not-started" at the crash
};
struct CexStep {
  int lane = 0;
  int op = 0;
  std::string op_kind;
  int lba = 0;
  std::string step;      // "P1.data.word0", ..., "P2.flog-half-A", "P3.persist", "P4.map", ...
  bool is_store = false;
  std::string location;  // stores only: "data[4].word1", "flog[lane 0].slot1.B", "map[2]"
  int address = -1;      // stores only: data block, flog slot, or map LBA
  int part = -1;         // stores only: data word index, or flog half (0 = A, 1 = B)
  std::string value;     // stores only
  bool persisted = false;  // stores only: part of the crash state
};
struct CexRecoveryLane {
  int lane = 0;
  int slot = 0;  // the slot recovery chose
  int lba = 0;
  int old_map = 0;
  int new_map = 0;
  int seq = 0;
  bool rolled_forward = false;  // in the uninterrupted recovery
  int free_block = 0;
};
struct CexSector {
  int lba = 0;
  std::string map_entry;  // after recovery
  int block = 0;
  std::string word0;      // data tags: "zero", "initial(lba 1)", "garbage(block 3)", "write(L0.op1)"
  std::string word1;
  std::string reads;      // what a read returns: a tag or "TORN"
};
struct CexViolation {
  std::string property;  // PropertyName()
  int lba = -1;          // -1 when the property is not about one LBA
  int lane = -1;
  std::string message;
};
// Everything a replayable trace needs (docs/model.md §5 maps it onto the trace format): the
// ops per lane, the interleaving of their steps (each step's medium events are
// OpSequence()'s, checked against the code by the conformance test), the crash point, which
// stores persisted, the crash inside recovery and what recovery did.
struct Counterexample {
  std::vector<CexOp> ops;
  std::vector<CexStep> schedule;  // every step taken before the crash, in order
  int crash_after_step = 0;       // == schedule.size(): the crash follows the last listed step
  // The steps the execution would have taken after the crash, in order (no store persisted):
  // schedule + after_crash is one complete interleaving of every op.
  std::vector<CexStep> after_crash;
  // Flush+fence points (persist steps) in `schedule`: the crash lies after fence number
  // fences_before_crash and before the next one, i.e. at the explorer's crash point
  // fences_before_crash + 1 ("just before the next fence", or the end if none follows).
  int fences_before_crash = 0;
  int recovery_crash_after_lanes = -1;  // lanes recovered before the crash inside recovery
  std::vector<CexRecoveryLane> recovery;
  std::vector<CexSector> sectors;
  std::vector<CexViolation> violations;

  bool Violates(Property property) const;
};

struct BmcResult {
  BmcOptions options;
  Verdict verdict = Verdict::kUnknown;
  std::string reason_unknown;
  double encode_seconds = 0;
  double solve_seconds = 0;  // Z3 check() wall time
  uint64_t assertions = 0;   // top-level assertions
  uint64_t variables = 0;    // free constants (Boolean and bit-vector)
  uint64_t formula_nodes = 0;  // distinct AST nodes of the asserted formula
  std::optional<Counterexample> counterexample;  // set iff verdict == kSat
};

// REQUIRES: 1 <= lanes <= 8, 1 <= lbas <= 16, 1 <= ops_per_lane <= 8, nfree 0 or lanes..8.
Result<BmcResult> RunBmc(const BmcOptions& options);

// The formula RunBmc(options) checks, as an SMT-LIB2 (QF_BV) benchmark ending in (check-sat):
// sat = a counterexample exists, unsat = the bound is proven. For cross-checking UNSAT answers
// with an independent solver (cvc5, model/cvc5_cross_check_test.cc). Deterministic.
Result<std::string> BmcFormulaSmtLib2(const BmcOptions& options);

std::string CounterexampleToJson(const Counterexample& cex);
std::string BmcResultToJson(const BmcResult& result);

// Iterative deepening: runs the ladder of bounds in order until the budget is spent, a run is not
// UNSAT, or the ladder ends.
struct Bound {
  int lanes = 1;
  int lbas = 1;
  int ops_per_lane = 1;
  int nfree = 0;  // 0 = lanes
};
std::vector<Bound> DefaultBoundLadder();

// The options of one bound (every other option at its default).
BmcOptions OptionsFor(const Bound& bound, PersistencyModel model, Mutant mutant = Mutant::kNone);

struct DeepenOptions {
  PersistencyModel model = PersistencyModel::kWord8;
  Mutant mutant = Mutant::kNone;
  OpMix op_mix = OpMix::kWritesAndZeros;
  double budget_seconds = 600;
  std::vector<Bound> ladder;  // empty = DefaultBoundLadder()
};
struct DeepenRow {
  Bound bound;
  Verdict verdict = Verdict::kUnknown;
  double solve_seconds = 0;
  double total_seconds = 0;
  uint64_t assertions = 0;
  uint64_t variables = 0;
  uint64_t formula_nodes = 0;
};
Result<std::vector<DeepenRow>> RunDeepening(const DeepenOptions& options);
std::string DeepenTableMarkdown(const DeepenOptions& options, const std::vector<DeepenRow>& rows);

}  // namespace tearproof::model
