// Explicit-state cross-check; see explicit_check.h. Written independently of bmc.cc: the same
// protocol (docs/model.md §1) and properties (§3), executed step by step on concrete values.
#include "model/explicit_check.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace tearproof::model {

namespace {

enum class Step : uint8_t {
  kD0, kD1, kDP, kLock, kA, kAP, kB, kBP, kMap, kMapPersist, kMapPersistUnlock, kUnlock
};

std::vector<Step> Program(Mutant m) {
  using S = Step;
  if (m == Mutant::kNoBtt) return {S::kD0, S::kD1, S::kDP};
  if (m == Mutant::kNoDataPersist) {
    return {S::kD0, S::kD1, S::kLock, S::kA, S::kAP, S::kB, S::kBP, S::kMap,
            S::kMapPersistUnlock};
  }
  if (m == Mutant::kMapBeforeFlog) {
    return {S::kD0, S::kD1, S::kDP, S::kLock, S::kMap, S::kMapPersist, S::kA, S::kAP, S::kB,
            S::kBP, S::kUnlock};
  }
  if (m == Mutant::kFlogHalvesUnfenced) {
    return {S::kD0, S::kD1, S::kDP, S::kLock, S::kA, S::kB, S::kBP, S::kMap,
            S::kMapPersistUnlock};
  }
  return {S::kD0, S::kD1, S::kDP, S::kLock, S::kA, S::kAP, S::kB, S::kBP, S::kMap,
          S::kMapPersistUnlock};
}

int NextSeq(int s) { return s == 1 ? 2 : s == 2 ? 3 : s == 3 ? 1 : 0; }
int PrevSeq(int s) { return s == 1 ? 3 : s == 2 ? 1 : s == 3 ? 2 : 0; }

// Memory locations: data words, flog halves, map entries. A value is a pair of small ints:
// data {tag, 0}; flog A {lba, old}; flog B {new, seq}; map {flags, blk}.
using Val = std::pair<int, int>;

struct Rec {  // one executed store
  int loc = 0;
  Val val;
  int lane = 0;
  bool durable = false;
};

struct OpSpec {
  bool write = true;
  int lba = 0;
};

struct Lane {
  int pc = 0;  // over the concatenated programs of the lane's ops
  int free = 0;
  int cur_slot = 0;
  int cur_seq = 1;
  Val old{0, 0};  // map entry loaded by the current op
};

struct State {
  std::vector<Lane> lanes;
  std::vector<int> lock;              // per LBA: holder lane or -1
  std::map<int, Val> visible;         // location -> latest value
  std::map<int, std::vector<Rec>> units;  // ordering unit -> its stores in execution order
  std::vector<int> last_done;         // per LBA: value of the last completed op, -1 none

  std::string Key() const {
    std::string k;
    for (const Lane& l : lanes) {
      k += fmt::format("{},{},{},{},{},{};", l.pc, l.free, l.cur_slot, l.cur_seq, l.old.first,
                       l.old.second);
    }
    for (int h : lock) k += fmt::format("{},", h);
    k += "|";
    for (const auto& [loc, v] : visible) k += fmt::format("{}:{}.{},", loc, v.first, v.second);
    k += "|";
    for (const auto& [u, recs] : units) {
      k += fmt::format("{}[", u);
      for (const Rec& r : recs) {
        k += fmt::format("{}:{}.{}/{}{},", r.loc, r.val.first, r.val.second, r.lane,
                         r.durable ? 'd' : 'p');
      }
      k += "]";
    }
    for (int v : last_done) k += fmt::format("{},", v);
    return k;
  }
};

class Explorer {
 public:
  Explorer(const BmcOptions& o, std::vector<OpSpec> ops)
      : o_(o), n_(o.lbas), nl_(o.lanes), nf_(o.nfree == 0 ? o.lanes : o.nfree),
        k_(o.ops_per_lane), ops_(std::move(ops)),
        program_(Program(o.mutant)) {}

  // Returns true when a violation was found (message in violation_).
  bool Run(ExplicitResult* out) {
    State s;
    for (int l = 0; l < nl_; ++l) {
      Lane lane;
      lane.free = n_ + l;
      s.lanes.push_back(lane);
    }
    s.lock.assign(n_, -1);
    s.last_done.assign(n_, -1);
    const bool found = Explore(s);
    out->states_visited += visited_.size();
    out->crash_states += crash_states_;
    if (found) out->violation = violation_;
    return found;
  }

 private:
  bool Btt() const { return o_.mutant != Mutant::kNoBtt; }
  int Tag(int op_id) const { return n_ + nf_ + 1 + op_id; }  // after the N + F formatted tags
  // Locations.
  int DataLoc(int block, int word) const { return block * 2 + word; }
  int FlogLoc(int lane, int slot, int half) const {
    return 1000 + lane * 4 + slot * 2 + half;
  }
  int MapLoc(int lba) const { return 2000 + lba; }
  // Ordering units: px86 = line, word8 = 8-byte word. Data words each have a line of their own.
  int UnitOf(int loc) const {
    if (loc < 1000) return loc;
    if (loc < 2000) {
      const int lane = (loc - 1000) / 4;
      return o_.model == PersistencyModel::kPx86 ? 1000 + lane * 4 : loc;
    }
    const int lba = loc - 2000;
    return o_.model == PersistencyModel::kPx86 ? 2000 + lba / 16 * 16 : 2000 + lba / 2 * 2;
  }
  Val Initial(int loc) const {
    if (loc < 1000) return {1 + loc / 2, 0};
    if (loc < 2000) {
      const int lane = (loc - 1000) / 4, slot = (loc - 1000) / 2 % 2, half = (loc - 1000) % 2;
      if (slot == 1) return {0, 0};
      return half == 0 ? Val{lane, n_ + lane} : Val{n_ + lane, 1};
    }
    return {0, 0};
  }
  Val Visible(const State& s, int loc) const {
    auto it = s.visible.find(loc);
    return it == s.visible.end() ? Initial(loc) : it->second;
  }
  static int EntLba(Val e, int lba) { return e.first == 0 ? lba : e.second; }

  void Store(State& s, int lane, int loc, Val v) const {
    s.visible[loc] = v;
    s.units[UnitOf(loc)].push_back(Rec{loc, v, lane, false});
  }
  // Flush + fence by `lane` of the lines selected by `covers`: its own earlier stores there
  // become durable.
  template <typename F>
  void Fence(State& s, int lane, F covers) const {
    for (auto& [u, recs] : s.units) {
      for (Rec& r : recs) {
        if (r.lane == lane && covers(r.loc)) r.durable = true;
      }
    }
  }

  int OpsStepCount() const { return static_cast<int>(program_.size()); }
  const OpSpec& CurrentOp(const State& s, int lane) const {
    return ops_[lane * k_ + s.lanes[lane].pc / OpsStepCount()];
  }

  bool Enabled(const State& s, int lane) const {
    const Lane& l = s.lanes[lane];
    if (l.pc >= k_ * OpsStepCount()) return false;
    const Step st = program_[l.pc % OpsStepCount()];
    if (st == Step::kLock && o_.mutant != Mutant::kNoMapLock) {
      return s.lock[CurrentOp(s, lane).lba] == -1;
    }
    return true;
  }

  State Advance(const State& in, int lane) const {
    State s = in;
    Lane& l = s.lanes[lane];
    const int op_id = lane * k_ + l.pc / OpsStepCount();
    const OpSpec& op = ops_[op_id];
    const Step st = program_[l.pc % OpsStepCount()];
    const int slot = o_.mutant == Mutant::kFlogActiveSlot ? l.cur_slot : 1 - l.cur_slot;
    const int seq = o_.mutant == Mutant::kSeqReversed ? PrevSeq(l.cur_seq) : NextSeq(l.cur_seq);
    const bool map_line_unlock = st == Step::kMapPersistUnlock || st == Step::kUnlock;
    if (!Btt()) {
      if (st == Step::kD0 || st == Step::kD1) {
        Store(s, lane, DataLoc(op.lba, st == Step::kD0 ? 0 : 1), {op.write ? Tag(op_id) : 0, 0});
      } else {
        const int block = op.lba;
        Fence(s, lane, [&](int loc) { return loc < 1000 && loc / 2 == block; });
      }
    } else {
      switch (st) {
        case Step::kD0:
        case Step::kD1:
          if (op.write) Store(s, lane, DataLoc(l.free, st == Step::kD0 ? 0 : 1), {Tag(op_id), 0});
          break;
        case Step::kDP:
          if (op.write) {
            const int block = l.free;
            Fence(s, lane, [&](int loc) { return loc < 1000 && loc / 2 == block; });
          }
          break;
        case Step::kLock:
          if (o_.mutant != Mutant::kNoMapLock) s.lock[op.lba] = lane;
          l.old = Visible(s, MapLoc(op.lba));
          break;
        case Step::kA:
          if (op.write) Store(s, lane, FlogLoc(lane, slot, 0), {op.lba, EntLba(l.old, op.lba)});
          break;
        case Step::kB:
          if (op.write) Store(s, lane, FlogLoc(lane, slot, 1), {l.free, seq});
          break;
        case Step::kAP:
        case Step::kBP:
          if (op.write) {
            Fence(s, lane, [&](int loc) { return loc >= 1000 && loc < 2000; });
          }
          break;
        case Step::kMap:
          Store(s, lane, MapLoc(op.lba),
                op.write ? Val{3, l.free} : Val{2, EntLba(l.old, op.lba)});
          break;
        case Step::kMapPersist:
        case Step::kMapPersistUnlock:
        case Step::kUnlock:
          if (st != Step::kUnlock) {
            const int line = op.lba / 16;
            Fence(s, lane, [&](int loc) { return loc >= 2000 && (loc - 2000) / 16 == line; });
          }
          if (map_line_unlock && o_.mutant != Mutant::kNoMapLock) s.lock[op.lba] = -1;
          break;
      }
    }
    ++l.pc;
    if (l.pc % OpsStepCount() == 0) {  // op completed: the lane's DRAM state moves on
      if (Btt() && op.write) {
        l.cur_slot = slot;
        l.cur_seq = seq;
        if (o_.mutant != Mutant::kFreeBlockReused) l.free = EntLba(l.old, op.lba);
      }
      s.last_done[op.lba] = op.write ? Tag(op_id) : 0;
      l.old = {0, 0};
    }
    return s;
  }

  bool Explore(const State& s) {
    if (!visited_.insert(s.Key()).second) return false;
    if (CheckCrashes(s)) return true;
    for (int lane = 0; lane < nl_; ++lane) {
      if (Enabled(s, lane) && Explore(Advance(s, lane))) return true;
    }
    return false;
  }

  // Every crash state of s: per unit, a prefix of its stores containing every durable one.
  bool CheckCrashes(const State& s) {
    std::vector<const std::vector<Rec>*> units;
    std::vector<int> lo, hi;
    for (const auto& [u, recs] : s.units) {
      int last_durable = -1;
      for (size_t i = 0; i < recs.size(); ++i) {
        if (recs[i].durable) last_durable = static_cast<int>(i);
      }
      units.push_back(&recs);
      lo.push_back(o_.model == PersistencyModel::kEadr ? static_cast<int>(recs.size())
                                                       : last_durable + 1);
      hi.push_back(static_cast<int>(recs.size()));
    }
    std::vector<int> pick = lo;
    while (true) {
      std::map<int, Val> mem;
      for (size_t u = 0; u < units.size(); ++u) {
        for (int i = 0; i < pick[u]; ++i) mem[(*units[u])[i].loc] = (*units[u])[i].val;
      }
      ++crash_states_;
      if (CheckOne(s, mem)) return true;
      size_t u = 0;
      while (u < pick.size() && pick[u] == hi[u]) {
        pick[u] = lo[u];
        ++u;
      }
      if (u == pick.size()) break;
      ++pick[u];
    }
    return false;
  }

  struct RecLane {
    int lba, old_map, new_map;
    bool roll;
  };

  // Recovery of the persisted flog `mem` over `map`; only lanes < limit store (limit = lanes:
  // an uninterrupted recovery; smaller: recovery crashed after `limit` lanes).
  std::vector<Val> Recover(const std::map<int, Val>& mem, std::vector<Val> map, int limit,
                           std::vector<RecLane>* out) const {
    for (int l = 0; l < nf_; ++l) {  // every flog group, lanes in use or not
      auto get = [&](int slot, int half) {
        auto it = mem.find(FlogLoc(l, slot, half));
        return it == mem.end() ? Initial(FlogLoc(l, slot, half)) : it->second;
      };
      const int seq0 = get(0, 1).second, seq1 = get(1, 1).second;
      bool newer1 = seq0 == 0 ? true : seq1 == 0 ? false : NextSeq(seq0) == seq1;
      if (o_.mutant == Mutant::kRecoveryPicksOlder) newer1 = !newer1;
      const int slot = newer1 ? 1 : 0;
      const int lba = get(slot, 0).first, old_map = get(slot, 0).second;
      const int new_map = get(slot, 1).first;
      bool roll = false;
      if (lba < n_ && old_map != new_map) {
        const Val cur = map[lba];
        const int ent = EntLba(cur, lba);
        switch (o_.mutant) {
          case Mutant::kRecoveryRollBack:
            roll = false;
            break;
          case Mutant::kRecoveryNoMask:
            roll = cur != Val{0, new_map} && cur == Val{0, old_map};
            break;
          case Mutant::kRecoveryNoOldCheck:
            roll = ent != new_map;
            break;
          default:
            roll = ent != new_map && ent == old_map;
        }
      }
      if (roll && l < limit) map[lba] = {3, new_map};
      if (out) out->push_back({lba, old_map, new_map, roll});
    }
    return map;
  }

  bool Fail(Property p, const std::string& what) {
    if ((o_.properties & PropertyBit(p)) == 0) return false;
    violation_ = fmt::format("{}: {}", PropertyName(p), what);
    return true;
  }

  bool CheckOne(const State& s, const std::map<int, Val>& mem) {
    auto persisted = [&](int loc) {
      auto it = mem.find(loc);
      return it == mem.end() ? Initial(loc) : it->second;
    };
    std::vector<Val> map0(n_);
    for (int x = 0; x < n_; ++x) map0[x] = Btt() ? persisted(MapLoc(x)) : Val{0, 0};
    std::vector<RecLane> rec;
    std::vector<Val> r1 = Btt() ? Recover(mem, map0, nf_, &rec) : map0;
    // Op status.
    const int steps = OpsStepCount();
    auto started = [&](int op_id) { return s.lanes[op_id / k_].pc > (op_id % k_) * steps; };
    auto done = [&](int op_id) { return s.lanes[op_id / k_].pc >= (op_id % k_ + 1) * steps; };
    std::vector<int> blocks;
    for (int x = 0; x < n_; ++x) {
      const bool zero = r1[x].first == 2;
      const int block = EntLba(r1[x], x);
      blocks.push_back(block);
      const int w0 = persisted(DataLoc(block, 0)).first;
      const int w1 = persisted(DataLoc(block, 1)).first;
      bool atomic = false;
      if (zero) {
        for (int i = 0; i < static_cast<int>(ops_.size()); ++i) {
          atomic = atomic || (!ops_[i].write && ops_[i].lba == x && started(i));
        }
      } else if (w0 == w1) {
        atomic = w0 == 1 + x;
        for (int i = 0; i < static_cast<int>(ops_.size()); ++i) {
          atomic = atomic || (ops_[i].write && ops_[i].lba == x && w0 == Tag(i));
          if (!Btt()) atomic = atomic || (!ops_[i].write && ops_[i].lba == x && w0 == 0);
        }
      }
      if (!atomic) {
        if (Fail(Property::kAtomicity, fmt::format("lba {} reads {}|{}", x, w0, w1))) return true;
      }
      const int value = zero ? 0 : w0;
      bool durable = s.last_done[x] == -1 ? value == 1 + x : value == s.last_done[x];
      for (int i = 0; i < static_cast<int>(ops_.size()); ++i) {
        const int v = ops_[i].write ? Tag(i) : 0;
        durable = durable || (ops_[i].lba == x && started(i) && !done(i) && value == v);
      }
      if (!durable) {
        if (Fail(Property::kDurability, fmt::format("lba {} reads {}", x, value))) return true;
      }
    }
    if (!Btt()) return false;
    std::vector<int> owners = blocks;
    for (const RecLane& r : rec) owners.push_back(r.old_map);
    std::vector<int> sorted = owners;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      if (Fail(Property::kBijection, "duplicate block")) return true;
    }
    for (int l = 0; l < nf_; ++l) {
      if (persisted(FlogLoc(l, 0, 1)).second == persisted(FlogLoc(l, 1, 1)).second) {
        if (Fail(Property::kFlogSeq, fmt::format("lane {}", l))) return true;
      }
    }
    // INV-RECOVERY-IDEMPOTENT: recovery crashed after r lanes, then re-run (or run twice).
    for (int r = 0; r <= nf_; ++r) {
      std::vector<Val> partial = o_.crash_during_recovery ? Recover(mem, map0, r, nullptr) : r1;
      std::vector<Val> r2 = Recover(mem, partial, nf_, nullptr);
      for (int x = 0; x < n_; ++x) {
        if ((r2[x].first == 2) != (r1[x].first == 2) || EntLba(r2[x], x) != EntLba(r1[x], x)) {
          if (Fail(Property::kIdempotence, fmt::format("lba {} after crash in recovery", x))) {
            return true;
          }
        }
      }
    }
    return false;
  }

  const BmcOptions& o_;
  const int n_, nl_, nf_, k_;  // LBAs, lanes in use, flog groups (nfree), ops per lane
  const std::vector<OpSpec> ops_;
  const std::vector<Step> program_;
  std::set<std::string> visited_;
  uint64_t crash_states_ = 0;
  std::string violation_;
};

}  // namespace

Result<ExplicitResult> RunExplicit(const BmcOptions& options) {
  if (options.lanes < 1 || options.ops_per_lane < 1 || options.lbas < 1 ||
      options.lanes * options.ops_per_lane > 4 || options.lbas > 4) {
    return InvalidArgument("explicit check: needs lanes * ops_per_lane <= 4 and lbas <= 4");
  }
  if (options.nfree != 0 && (options.nfree < options.lanes || options.nfree > 8)) {
    return InvalidArgument("nfree must be 0 (= lanes) or in lanes..8");
  }
  const int total_ops = options.lanes * options.ops_per_lane;
  const int kinds = options.op_mix == OpMix::kWritesOnly ? 1 : 2;
  const int choices = kinds * options.lbas;
  int combos = 1;
  for (int i = 0; i < total_ops; ++i) combos *= choices;
  ExplicitResult result;
  for (int c = 0; c < combos; ++c) {
    std::vector<OpSpec> ops;
    int rest = c;
    for (int i = 0; i < total_ops; ++i) {
      const int pick = rest % choices;
      rest /= choices;
      ops.push_back(OpSpec{kinds == 1 || pick % 2 == 0, pick / kinds});
    }
    Explorer e(options, ops);
    if (e.Run(&result)) {
      result.violation_found = true;
      std::string desc;
      for (const OpSpec& op : ops) desc += fmt::format(" {}{}", op.write ? "w" : "z", op.lba);
      result.violation += " (ops:" + desc + ")";
      return result;
    }
  }
  return result;
}

}  // namespace tearproof::model
