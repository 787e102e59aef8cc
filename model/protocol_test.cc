// The model's protocol data (model/protocol.h), pinned to docs/model.md §1.
//
// Invariants checked: the real protocol's write is P1 data + persist, lock + map load, P2 half A +
// persist, P3 half B + persist, P4 map + persist, unlock; a zero is lock + load, map store +
// persist, unlock; recovery's roll-forward is a map store + persist; the mutant programs differ
// from it exactly where their names say; the seq successor is 1 -> 2 -> 3 -> 1.
#include "model/protocol.h"

#include <gtest/gtest.h>

namespace tearproof::model {
namespace {

TEST(ModelProtocol, WriteIsP1ToP4WithAPersistAfterEachStore) {
  EXPECT_EQ(SequenceToString(OpSequence(Mutant::kNone, OpKind::kWrite)),
            "store data, persist data, lock, load map, store flog.A, persist flog.A, "
            "store flog.B, persist flog.B, store map, persist map, unlock");
}

TEST(ModelProtocol, ZeroStoresOnlyTheMapEntryUnderTheLock) {
  EXPECT_EQ(SequenceToString(OpSequence(Mutant::kNone, OpKind::kZero)),
            "lock, load map, store map, persist map, unlock");
  const std::vector<Effect> zero = OpSequence(Mutant::kNone, OpKind::kZero);
  EXPECT_EQ(zero.at(2).zero_value, ValueRule::kZeroSameBlock);
}

TEST(ModelProtocol, RollForwardPersistsItsStore) {
  EXPECT_EQ(SequenceToString(RollForwardSequence()), "store map, persist map");
}

TEST(ModelProtocol, MutantProgramsDifferWhereTheirNamesSay) {
  EXPECT_EQ(SequenceToString(OpSequence(Mutant::kNoDataPersist, OpKind::kWrite)),
            "store data, lock, load map, store flog.A, persist flog.A, store flog.B, "
            "persist flog.B, store map, persist map, unlock");
  EXPECT_EQ(SequenceToString(OpSequence(Mutant::kFlogHalvesUnfenced, OpKind::kWrite)),
            "store data, persist data, lock, load map, store flog.A, store flog.B, "
            "persist flog.B, store map, persist map, unlock");
  EXPECT_EQ(SequenceToString(OpSequence(Mutant::kMapBeforeFlog, OpKind::kWrite)),
            "store data, persist data, lock, load map, store map, persist map, store flog.A, "
            "persist flog.A, store flog.B, persist flog.B, unlock");
  EXPECT_EQ(SequenceToString(OpSequence(Mutant::kNoBtt, OpKind::kZero)),
            "store data, persist data");
  // Mutants of values, slots and recovery keep the program.
  EXPECT_EQ(OpSequence(Mutant::kSeqReversed, OpKind::kWrite),
            OpSequence(Mutant::kNone, OpKind::kWrite));
}

TEST(ModelProtocol, EveryStepOfEveryProgramHasAtMostOneStoreOrPersist) {
  std::vector<Mutant> all = AllMutants();
  all.push_back(Mutant::kNone);
  for (Mutant m : all) {
    for (const ProtocolStep& step : OpProgram(m)) {
      int memory_effects = 0;
      for (const Effect& e : step.effects) {
        memory_effects += e.action == Action::kStore || e.action == Action::kPersist;
      }
      EXPECT_LE(memory_effects, 1) << MutantName(m) << " " << StepName(step.kind);
    }
  }
}

TEST(ModelProtocol, FlogHalvesAndMapEntriesAreSingleUntearableStores) {
  EXPECT_EQ(AtomicStoreBytes(Region::kFlogHalfA), 8);
  EXPECT_EQ(AtomicStoreBytes(Region::kFlogHalfB), 8);
  EXPECT_EQ(AtomicStoreBytes(Region::kMapEntry), 4);
  EXPECT_EQ(AtomicStoreBytes(Region::kDataBlock), 0);  // tears at 8-byte boundaries
}

TEST(ModelProtocol, SeqAdvancesOneTwoThreeOne) {
  EXPECT_EQ(NextSeq(1), 2);
  EXPECT_EQ(NextSeq(2), 3);
  EXPECT_EQ(NextSeq(3), 1);
  EXPECT_EQ(NextSeq(0), 0);
}

}  // namespace
}  // namespace tearproof::model
