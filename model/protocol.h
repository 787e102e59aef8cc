// The BTT write, zero and recovery protocol exactly as the model assumes it, as data.
//
// OpProgram() is the single source of the model's program: the Z3 encoding (bmc.cc) builds its
// schedule points, stores, persist points, lock and load from it, and the model/code conformance
// check (conformance.h, conformance_test.cc) compares the production core's recorded medium
// events with OpSequence() and RollForwardSequence(), so the model cannot drift from the code
// without a failing test. docs/model.md §"Conformance" lists the abstractions the comparison
// allows.
//
// Vocabulary: an op runs one ProtocolStep per schedule point (an interleaving point of the
// model); a step has one or two Effects (a store, a persist = flush + fence, the map lock, the
// map load). Pure data and pure functions; thread-safe; no Z3.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/bmc.h"

namespace tearproof::model {

// One schedule point of an op (the granularity of the interleavings the model checks).
enum class StepKind : uint8_t {
  kData0,         // P1: store data word 0 into the op's data block
  kData1,         // P1: store data word 1
  kDataPersist,   // P1: flush the block's lines + fence
  kLockLoad,      // take the map lock, load the old map entry
  kFlogA,         // P2: store flog half A {lba, old_map}
  kFlogAPersist,  // P2: flush the flog line + fence
  kFlogB,         // P3: store flog half B {new_map, seq}: the commit point
  kFlogBPersist,  // P3: flush + fence
  kMapStore,      // P4: store the map entry (a zero stores the Z flag here)
  kMapPersist,    // P4: flush + fence
  kUnlock,        // release the map lock
  // P4 flush + fence, then unlock, as one point. No other lane can observe a point in between
  // (the lock is still held), and a crash in between leaves the same persisted state as a crash
  // right after the fused point, where the op counts as completed instead of in flight: a
  // stricter oracle. So fusing loses no violation and saves one time variable per op.
  kMapPersistUnlock,
};
const char* StepName(StepKind kind);  // "P1.data.word0", ..., "P4.persist+unlock"

enum class Action : uint8_t {
  kStore,    // one store to `region`
  kPersist,  // flush (clwb/clflushopt) every line of `region`, then one sfence
  kLock,     // take the map lock of the op's LBA
  kLoadMap,  // load the op's LBA's map entry (sees the latest store of any lane)
  kUnlock,   // release the map lock
};
const char* ActionName(Action action);  // "store", "persist", "lock", "load", "unlock"

// What a store or persist touches. Every store is one aligned store of the size given; the
// persistency model may keep or drop it as a whole (8-byte power-fail atomicity).
enum class Region : uint8_t {
  kNone,       // lock, unlock
  kDataBlock,  // the op's data block: the lane's free block (no-btt: the LBA's own block). The
               // model stores two words (a tag each, each in a line of its own); the code stores
               // the sector as one wide store, which may tear at every 8-byte boundary
  kFlogHalfA,  // {lba, old_map} of the slot the op logs into: one aligned 8-byte store
  kFlogHalfB,  // {new_map, seq} of that slot: one aligned 8-byte store. A persist of either half
               // flushes the lane's 64-byte flog group line, which holds both slots
  kMapEntry,   // the op's LBA's map entry: one aligned 4-byte store, two entries per 8-byte
               // word; a persist flushes the 64-byte line holding it (16 entries)
};
const char* RegionName(Region region);  // "data", "flog.A", "flog.B", "map", "-"

// The size of the one aligned store the model assumes for a region, which power failure never
// tears: 8 for a flog half, 4 for a map entry. 0 for a data block, which the model lets tear at
// every 8-byte boundary (and kNone).
int AtomicStoreBytes(Region region);

// The value a store writes, in model terms (docs/model.md §1).
enum class ValueRule : uint8_t {
  kNone,            // not a store, or the op kind does not run this store
  kOpData,          // the op's sector data (the model: one tag per op in each data word)
  kZeroData,        // no-btt zero: zeros stored in place
  kLbaOldBlock,     // flog half A: {lba, ent_lba(old entry)} (a bare block number)
  kNewBlockSeq,     // flog half B: {the op's data block, the lane's next seq}
  kNormalNewBlock,  // map: flags 11 (normal) + the op's data block; recovery: + the flog new_map
  kZeroSameBlock,   // map: flags 10 (Z) + ent_lba(old entry): the LBA keeps its block
};
const char* ValueRuleName(ValueRule rule);

struct Effect {
  Action action = Action::kStore;
  Region region = Region::kNone;
  int word = 0;                              // kDataBlock stores: the modelled data word (0 or 1)
  ValueRule write_value = ValueRule::kNone;  // stores: the value when the op is a write
  ValueRule zero_value = ValueRule::kNone;   // stores: the value when the op is a zero

  friend bool operator==(const Effect&, const Effect&) = default;
};

struct ProtocolStep {
  StepKind kind = StepKind::kData0;
  bool in_zero = false;         // a zero runs this step too (a write runs every step)
  std::vector<Effect> effects;  // at most one store or persist, in execution order
};

// The program of one op under `mutant` (kNone = the real protocol): one entry per schedule
// point, in program order. A write runs every step, a zero only those with in_zero.
std::vector<ProtocolStep> OpProgram(Mutant mutant);

enum class OpKind : uint8_t { kWrite, kZero };

// The medium-level sequence one op performs: the effects of every step it runs, in order, with
// the model's two data-word stores of one block merged into one store of the block (the code
// writes a sector as one wide store). This is what the conformance check expects of the code.
std::vector<Effect> OpSequence(Mutant mutant, OpKind kind);

// Recovery of one lane whose newer flog slot committed a write the map does not show yet (docs/
// model.md §1 "Recovery"): store 11:new_map into map[lba], then persist it, before the next
// lane. Lanes that need no roll-forward store nothing. The encoding relies on the persist: a
// crash inside recovery leaves exactly the roll-forwards of the lanes before it.
std::vector<Effect> RollForwardSequence();

// The seq that follows `seq` in a flog slot: 1 -> 2 -> 3 -> 1; 0 (never written) stays 0.
int NextSeq(int seq);

// "store data, persist data, lock, load map, ..." for messages and docs.
std::string SequenceToString(const std::vector<Effect>& sequence);

}  // namespace tearproof::model
