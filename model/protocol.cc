// The model's protocol as data; see protocol.h.
#include "model/protocol.h"

namespace tearproof::model {

namespace {

// The effects of one schedule point. They depend only on the point's kind (and on whether a BTT
// is in use at all); mutants change which points an op has and in what order.
ProtocolStep MakeStep(StepKind kind, bool btt) {
  using A = Action;
  using R = Region;
  using V = ValueRule;
  ProtocolStep s{.kind = kind, .in_zero = !btt, .effects = {}};
  switch (kind) {
    case StepKind::kData0:
    case StepKind::kData1:
      // With a BTT a zero never touches data (it sets Z in the map); without one it writes
      // zeros in place.
      s.effects = {{A::kStore, R::kDataBlock, kind == StepKind::kData0 ? 0 : 1, V::kOpData,
                    btt ? V::kNone : V::kZeroData}};
      break;
    case StepKind::kDataPersist:
      s.effects = {{.action = A::kPersist, .region = R::kDataBlock}};
      break;
    case StepKind::kLockLoad:
      s.in_zero = true;
      s.effects = {{.action = A::kLock}, {.action = A::kLoadMap, .region = R::kMapEntry}};
      break;
    case StepKind::kFlogA:
      s.effects = {{.action = A::kStore, .region = R::kFlogHalfA, .write_value = V::kLbaOldBlock}};
      break;
    case StepKind::kFlogAPersist:
      s.effects = {{.action = A::kPersist, .region = R::kFlogHalfA}};
      break;
    case StepKind::kFlogB:
      s.effects = {{.action = A::kStore, .region = R::kFlogHalfB, .write_value = V::kNewBlockSeq}};
      break;
    case StepKind::kFlogBPersist:
      s.effects = {{.action = A::kPersist, .region = R::kFlogHalfB}};
      break;
    case StepKind::kMapStore:
      s.in_zero = true;
      s.effects = {{.action = A::kStore,
                    .region = R::kMapEntry,
                    .write_value = V::kNormalNewBlock,
                    .zero_value = V::kZeroSameBlock}};
      break;
    case StepKind::kMapPersist:
      s.in_zero = true;
      s.effects = {{.action = A::kPersist, .region = R::kMapEntry}};
      break;
    case StepKind::kUnlock:
      s.in_zero = true;
      s.effects = {{.action = A::kUnlock}};
      break;
    case StepKind::kMapPersistUnlock:
      s.in_zero = true;
      s.effects = {{.action = A::kPersist, .region = R::kMapEntry}, {.action = A::kUnlock}};
      break;
  }
  return s;
}

}  // namespace

const char* StepName(StepKind kind) {
  switch (kind) {
    case StepKind::kData0:
      return "P1.data.word0";
    case StepKind::kData1:
      return "P1.data.word1";
    case StepKind::kDataPersist:
      return "P1.persist";
    case StepKind::kLockLoad:
      return "lock+load-map";
    case StepKind::kFlogA:
      return "P2.flog-half-A";
    case StepKind::kFlogAPersist:
      return "P2.persist";
    case StepKind::kFlogB:
      return "P3.flog-half-B";
    case StepKind::kFlogBPersist:
      return "P3.persist";
    case StepKind::kMapStore:
      return "P4.map";
    case StepKind::kMapPersist:
      return "P4.persist";
    case StepKind::kUnlock:
      return "unlock";
    case StepKind::kMapPersistUnlock:
      return "P4.persist+unlock";
  }
  return "?";
}

const char* ActionName(Action action) {
  switch (action) {
    case Action::kStore:
      return "store";
    case Action::kPersist:
      return "persist";
    case Action::kLock:
      return "lock";
    case Action::kLoadMap:
      return "load";
    case Action::kUnlock:
      return "unlock";
  }
  return "?";
}

const char* RegionName(Region region) {
  switch (region) {
    case Region::kNone:
      return "-";
    case Region::kDataBlock:
      return "data";
    case Region::kFlogHalfA:
      return "flog.A";
    case Region::kFlogHalfB:
      return "flog.B";
    case Region::kMapEntry:
      return "map";
  }
  return "?";
}

int AtomicStoreBytes(Region region) {
  switch (region) {
    case Region::kFlogHalfA:
    case Region::kFlogHalfB:
      return 8;
    case Region::kMapEntry:
      return 4;
    case Region::kDataBlock:
    case Region::kNone:
      break;
  }
  return 0;
}

const char* ValueRuleName(ValueRule rule) {
  switch (rule) {
    case ValueRule::kNone:
      return "none";
    case ValueRule::kOpData:
      return "op-data";
    case ValueRule::kZeroData:
      return "zeros";
    case ValueRule::kLbaOldBlock:
      return "{lba, ent_lba(old)}";
    case ValueRule::kNewBlockSeq:
      return "{new block, next seq}";
    case ValueRule::kNormalNewBlock:
      return "11:new block";
    case ValueRule::kZeroSameBlock:
      return "10:ent_lba(old)";
  }
  return "?";
}

std::vector<ProtocolStep> OpProgram(Mutant mutant) {
  using S = StepKind;
  std::vector<S> kinds;
  switch (mutant) {
    case Mutant::kNoBtt:  // the sector written in place, then persisted
      kinds = {S::kData0, S::kData1, S::kDataPersist};
      break;
    case Mutant::kNoDataPersist:
      kinds = {S::kData0, S::kData1,        S::kLockLoad, S::kFlogA,           S::kFlogAPersist,
               S::kFlogB, S::kFlogBPersist, S::kMapStore, S::kMapPersistUnlock};
      break;
    case Mutant::kMapBeforeFlog:
      kinds = {S::kData0,    S::kData1,        S::kDataPersist, S::kLockLoad,
               S::kMapStore, S::kMapPersist,   S::kFlogA,       S::kFlogAPersist,
               S::kFlogB,    S::kFlogBPersist, S::kUnlock};
      break;
    case Mutant::kFlogHalvesUnfenced:
      kinds = {S::kData0, S::kData1,        S::kDataPersist, S::kLockLoad,        S::kFlogA,
               S::kFlogB, S::kFlogBPersist, S::kMapStore,    S::kMapPersistUnlock};
      break;
    default:  // the real protocol (btt-format.md §2.2): P1 data, P2 half A, P3 half B, P4 map
      kinds = {S::kData0,        S::kData1, S::kDataPersist,  S::kLockLoad, S::kFlogA,
               S::kFlogAPersist, S::kFlogB, S::kFlogBPersist, S::kMapStore, S::kMapPersistUnlock};
      break;
  }
  std::vector<ProtocolStep> program;
  program.reserve(kinds.size());
  for (S k : kinds) program.push_back(MakeStep(k, mutant != Mutant::kNoBtt));
  return program;
}

std::vector<Effect> OpSequence(Mutant mutant, OpKind kind) {
  std::vector<Effect> out;
  for (const ProtocolStep& step : OpProgram(mutant)) {
    if (kind == OpKind::kZero && !step.in_zero) continue;
    for (Effect e : step.effects) {
      if (e.action == Action::kStore && e.region == Region::kDataBlock) {
        e.word = 0;  // one store of the whole block (the code's wide store)
        if (!out.empty() && out.back() == e) continue;
      }
      out.push_back(e);
    }
  }
  return out;
}

std::vector<Effect> RollForwardSequence() {
  return {{.action = Action::kStore,
           .region = Region::kMapEntry,
           .write_value = ValueRule::kNormalNewBlock},
          {.action = Action::kPersist, .region = Region::kMapEntry}};
}

int NextSeq(int seq) { return seq == 1 ? 2 : seq == 2 ? 3 : seq == 3 ? 1 : 0; }

std::string SequenceToString(const std::vector<Effect>& sequence) {
  std::string out;
  for (const Effect& e : sequence) {
    if (!out.empty()) out += ", ";
    out += ActionName(e.action);
    if (e.region != Region::kNone) out += std::string(" ") + RegionName(e.region);
  }
  return out;
}

}  // namespace tearproof::model
