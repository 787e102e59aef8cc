// The Z3 encoding behind RunBmc(): see bmc.h for the contract and docs/model.md for the design.
//
// Roadmap. Encoder::Build() creates, in order:
//   1. per op: kind, LBA, program points with symbolic times (the schedule), the lane's local
//      state (free block, flog slot and seq) derived from earlier ops of the same lane;
//   2. the store and persist-point events those program points perform;
//   3. read-from constraints for the map loads done under the map lock, and the lock itself;
//   4. the crash: a symbolic time, a "persisted" Boolean per store and the persistency model;
//   5. the persisted state, recovery (full; and crashed after r lanes, then re-run);
//   6. the properties, asserted negated.
// Encoder::Decode() evaluates the same terms in Z3's model to build a Counterexample.
//
// Times: each program point gets a bit-vector time tau = (u, lane) with u strictly increasing
// along the lane's program; the lane number in the low bits makes all times distinct, so any
// assignment is one total order of all steps (one interleaving) and every total order has one.
// A point is executed iff tau < crash.
#include "model/bmc.h"

#include <z3++.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "model/protocol.h"
#include "util/assert.h"

namespace tearproof::model {

namespace {

using z3::expr;

int BitsFor(int max_value) {  // smallest w >= 1 with 2^w > max_value
  int w = 1;
  while ((1 << w) <= max_value) ++w;
  return w;
}

enum class Cat : uint8_t { kData, kFlog, kMap };

// A map entry as stored: 2 flag bits (bit1 = Z, bit0 = E; 00 = initial identity, 10 = zero,
// 11 = normal) and the post-map block.
struct MapVal {
  expr flags;
  expr blk;
};

struct Point {
  StepKind kind;
  expr u;
  expr tau;
  expr active;
  expr executed;
};

struct Op {
  int lane = 0;
  int index = 0;
  int id = 0;   // global index
  int tag = 0;  // data tag this op's write produces
  expr is_write;
  expr lba;
  expr new_block;  // the lane's free block before this op
  MapVal old_entry;
  expr slot;  // Bool: true = slot 1
  expr seq;   // 2-bit
  std::vector<Point> points;
  int lock_point = -1;
  int unlock_point = -1;
};

struct Store {
  int op = 0;
  int lane = 0;
  int order = 0;  // position in the lane's program (all points of all ops)
  int sub = 0;    // data: word index; flog: 0 = half A, 1 = half B
  Cat cat = Cat::kData;
  StepKind kind = StepKind::kData0;
  expr active;
  expr addr;  // data: block; flog: slot (Bool); map: LBA
  std::vector<expr> vals;  // data: {tag}; flog A: {lba, old}; flog B: {new, seq}; map: {flags, blk}
  expr tau;
  expr executed;
  expr persisted;
};

struct Fence {
  int lane = 0;
  int order = 0;
  Cat cat = Cat::kData;
  expr addr;
  expr executed;
};

struct FlogSlot {
  expr lba, old_map, new_map, seq;
};

struct RecoveryLane {
  expr pick_slot1;  // Bool
  expr lba, old_map, new_map, seq;
  expr roll;  // rolls forward (in the run it belongs to)
};

class Encoder {
 public:
  Encoder(z3::context& ctx, const BmcOptions& o) : ctx_(ctx), o_(o) {}

  void Build(z3::solver& solver);
  Counterexample Decode(const z3::model& m) const;
  uint64_t variables() const { return variables_; }

 private:
  bool Btt() const { return o_.mutant != Mutant::kNoBtt; }
  expr Bv(int64_t v, int w) const { return ctx_.bv_val(static_cast<uint64_t>(v), w); }
  expr V(int64_t v) const { return Bv(v, vw_); }
  expr True() const { return ctx_.bool_val(true); }
  expr False() const { return ctx_.bool_val(false); }
  expr FreshBv(const std::string& name, int w) {
    ++variables_;
    return ctx_.bv_const(name.c_str(), w);
  }
  expr FreshBool(const std::string& name) {
    ++variables_;
    return ctx_.bool_const(name.c_str());
  }
  expr And(const std::vector<expr>& v) const {
    z3::expr_vector ev(ctx_);
    for (const auto& e : v) ev.push_back(e);
    return v.empty() ? True() : z3::mk_and(ev);
  }
  expr Or(const std::vector<expr>& v) const {
    z3::expr_vector ev(ctx_);
    for (const auto& e : v) ev.push_back(e);
    return v.empty() ? False() : z3::mk_or(ev);
  }
  expr EntLba(const MapVal& m, const expr& lba) const {
    return z3::ite(m.flags == Bv(0, 2), lba, m.blk);
  }
  // A 2-bit seq mapped through a concrete table: f(0) as the default, then f(3), f(2), f(1).
  expr SeqMap(const expr& s, int (*f)(int)) const {
    expr r = Bv(f(0), 2);
    for (int q = 3; q >= 1; --q) r = z3::ite(s == Bv(q, 2), Bv(f(q), 2), r);
    return r;
  }
  expr Next(const expr& s) const { return SeqMap(s, &model::NextSeq); }
  // The seq-reversed mutant's step: the inverse of NextSeq on 1..3 (1 -> 3 -> 2 -> 1).
  expr Prev(const expr& s) const {
    return SeqMap(s, [](int q) {
      for (int p = 1; p <= 3; ++p) {
        if (q != 0 && model::NextSeq(p) == q) return p;
      }
      return 0;
    });
  }
  // True iff store a's step happens before point time tau_b of lane lane_b, program order order_b.
  expr Before(int lane_a, int order_a, const expr& tau_a, int lane_b, int order_b,
              const expr& tau_b) const {
    if (lane_a == lane_b) return ctx_.bool_val(order_a < order_b);
    return z3::ult(tau_a, tau_b);
  }
  expr StoreBefore(const Store& a, const Store& b) const {
    return Before(a.lane, a.order, a.tau, b.lane, b.order, b.tau);
  }
  // Value of the latest (by time) store among `stores` that satisfies match; init if none does.
  std::vector<expr> Latest(const std::vector<const Store*>& stores,
                           const std::function<expr(const Store&)>& match,
                           std::vector<expr> init) const;

  void BuildOps();
  void BuildEvents();
  std::vector<expr> StoreValue(const Op& op, ValueRule rule) const;
  void BuildMapLoadsAndLocks(z3::solver& solver);
  void BuildCrash(z3::solver& solver);
  void BuildRecoveryAndProperties(z3::solver& solver);

  std::vector<MapVal> Recover(const std::vector<MapVal>& map, const expr* limit,
                              std::vector<RecoveryLane>* lanes) const;
  expr DataWord(const expr& block, int word) const;
  expr WitnessGoal(const std::vector<expr>& done) const;
  MapVal MapLookup(const std::vector<MapVal>& map, const expr& lba) const;

  z3::context& ctx_;
  BmcOptions o_;
  int vw_ = 1;  // width of blocks, LBAs, tags
  int ub_ = 1;  // width of u
  int lb_ = 0;  // lane bits
  int tw_ = 1;  // time width
  uint64_t variables_ = 0;
  std::vector<ProtocolStep> program_;
  std::vector<Op> ops_;
  std::vector<Store> stores_;
  std::vector<Fence> fences_;
  std::unique_ptr<expr> crash_;
  std::unique_ptr<expr> recovery_limit_;
  // Crash state and recovery.
  std::vector<MapVal> crash_map_;
  std::vector<std::vector<FlogSlot>> crash_flog_;  // [lane][slot]
  std::vector<MapVal> recovered_map_;
  std::vector<RecoveryLane> recovery_lanes_;
  std::vector<MapVal> partial_map_;  // after the crash inside recovery
  std::vector<MapVal> rerecovered_map_;
  // Per-property ok terms, for assertion and decoding.
  std::vector<expr> atomic_ok_, durable_ok_, flog_ok_, idem_ok_;
  std::vector<std::pair<std::pair<std::string, std::string>, expr>> bijection_ok_;
  std::vector<expr> sector_block_, sector_zero_;
};

std::vector<expr> Encoder::Latest(const std::vector<const Store*>& stores,
                                  const std::function<expr(const Store&)>& match,
                                  std::vector<expr> init) const {
  std::vector<expr> m;
  m.reserve(stores.size());
  for (const Store* s : stores) m.push_back(match(*s).simplify());
  std::vector<expr> result = std::move(init);
  for (size_t i = 0; i < stores.size(); ++i) {
    if (m[i].is_false()) continue;
    std::vector<expr> sel = {m[i]};
    for (size_t j = 0; j < stores.size(); ++j) {
      if (j == i || m[j].is_false()) continue;
      expr later = StoreBefore(*stores[i], *stores[j]);
      if (later.is_false()) continue;
      sel.push_back(!(m[j] && later));
    }
    expr chosen = And(sel);
    for (size_t k = 0; k < result.size(); ++k) {
      result[k] = z3::ite(chosen, stores[i]->vals[k], result[k]);
    }
  }
  return result;
}

void Encoder::BuildOps() {
  const int lanes = o_.lanes;
  const int n = o_.lbas;
  const int k = o_.ops_per_lane;
  const int nfree = o_.nfree;  // >= lanes: the flog groups L..F-1 belong to lanes never used
  program_ = OpProgram(o_.mutant);
  const int points_per_lane = k * static_cast<int>(program_.size());
  const int total_points = lanes * points_per_lane;
  vw_ = BitsFor(std::max(n + nfree + lanes * k + 1, 4));
  ub_ = BitsFor(total_points + 1);
  lb_ = lanes > 1 ? BitsFor(lanes - 1) : 0;
  tw_ = ub_ + lb_;
  crash_ = std::make_unique<expr>(FreshBv("crash", tw_));

  for (int l = 0; l < lanes; ++l) {
    expr free_block = V(n + l);  // formatted: lane l owns block N + l
    expr cur_slot1 = False();    // formatted: slot 0 is the newer one, seq 1
    expr cur_seq = Bv(1, 2);
    int order = 0;
    for (int j = 0; j < k; ++j) {
      Op op{.lane = l,
            .index = j,
            .id = static_cast<int>(ops_.size()),
            .tag = 0,
            .is_write = o_.op_mix == OpMix::kWritesOnly
                            ? True()
                            : FreshBool(fmt::format("is_write_{}_{}", l, j)),
            .lba = FreshBv(fmt::format("lba_{}_{}", l, j), vw_),
            .new_block = free_block,
            .old_entry = {FreshBv(fmt::format("old_flags_{}_{}", l, j), 2),
                          FreshBv(fmt::format("old_blk_{}_{}", l, j), vw_)},
            .slot = False(),
            .seq = Bv(0, 2),
            .points = {},
            .lock_point = -1,
            .unlock_point = -1};
      op.tag = n + nfree + 1 + op.id;  // tags 1..N+F are the formatted blocks' contents
      if (o_.mutant == Mutant::kFlogActiveSlot) {
        op.slot = cur_slot1;
      } else {
        op.slot = !cur_slot1;
      }
      op.seq = o_.mutant == Mutant::kSeqReversed ? Prev(cur_seq) : Next(cur_seq);
      for (size_t p = 0; p < program_.size(); ++p, ++order) {
        expr u = FreshBv(fmt::format("u_{}_{}_{}", l, j, p), ub_);
        expr tau = lb_ > 0 ? z3::concat(u, Bv(l, lb_)) : u;
        const ProtocolStep& step = program_[p];
        // A zero skips the data and flog steps (without a BTT it runs them all, in place).
        expr active = step.in_zero ? True() : op.is_write;
        for (const Effect& e : step.effects) {
          if (e.action == Action::kLock) op.lock_point = static_cast<int>(p);
          if (e.action == Action::kUnlock) op.unlock_point = static_cast<int>(p);
        }
        const StepKind kind = step.kind;
        op.points.push_back(Point{kind, u, tau, active, active && z3::ult(tau, *crash_)});
      }
      // The lane's DRAM state after this op (btt-format.md §1.7, §2.2 step 7).
      cur_slot1 = z3::ite(op.is_write, op.slot, cur_slot1);
      cur_seq = z3::ite(op.is_write, op.seq, cur_seq);
      if (Btt() && o_.mutant != Mutant::kFreeBlockReused) {
        free_block = z3::ite(op.is_write, EntLba(op.old_entry, op.lba), free_block);
      }
      ops_.push_back(std::move(op));
    }
  }
}

// The value a store writes under `rule` (protocol.h ValueRule), as the store's value terms:
// data {tag}; flog A {lba, old}; flog B {new, seq}; map {flags, blk}.
std::vector<expr> Encoder::StoreValue(const Op& op, ValueRule rule) const {
  switch (rule) {
    case ValueRule::kOpData: return {V(op.tag)};
    case ValueRule::kZeroData: return {V(0)};
    case ValueRule::kLbaOldBlock:  // kernel style: a bare block number
      return {op.lba, EntLba(op.old_entry, op.lba)};
    case ValueRule::kNewBlockSeq: return {op.new_block, op.seq};
    case ValueRule::kNormalNewBlock: return {Bv(3, 2), op.new_block};
    // PMDK set_zero: the block stays, Z is set, in one atomic 4-byte store under the map lock.
    case ValueRule::kZeroSameBlock: return {Bv(2, 2), EntLba(op.old_entry, op.lba)};
    case ValueRule::kNone: break;
  }
  return {};
}

void Encoder::BuildEvents() {
  for (const Op& op : ops_) {
    const int base = op.index * static_cast<int>(program_.size());
    for (size_t p = 0; p < op.points.size(); ++p) {
      const Point& pt = op.points[p];
      const int order = base + static_cast<int>(p);
      for (const Effect& e : program_[p].effects) {
        if (e.action != Action::kStore && e.action != Action::kPersist) continue;
        Cat cat = Cat::kData;
        // Data: the lane's free block (no-btt: the sector's own block); flog: the slot; map: LBA.
        expr addr = Btt() ? op.new_block : op.lba;
        int sub = e.word;
        switch (e.region) {
          case Region::kFlogHalfA:
          case Region::kFlogHalfB:
            cat = Cat::kFlog;
            addr = op.slot;
            sub = e.region == Region::kFlogHalfA ? 0 : 1;
            break;
          case Region::kMapEntry:
            cat = Cat::kMap;
            addr = op.lba;
            break;
          default:
            break;
        }
        if (e.action == Action::kPersist) {
          fences_.push_back(Fence{op.lane, order, cat, addr, pt.executed});
          continue;
        }
        std::vector<expr> vals = StoreValue(op, e.write_value);
        if (e.zero_value != ValueRule::kNone) {
          const std::vector<expr> zero_vals = StoreValue(op, e.zero_value);
          for (size_t k = 0; k < vals.size(); ++k) vals[k] = z3::ite(op.is_write, vals[k], zero_vals[k]);
        }
        stores_.push_back(Store{.op = op.id, .lane = op.lane, .order = order, .sub = sub,
                                .cat = cat, .kind = pt.kind, .active = pt.active, .addr = addr,
                                .vals = std::move(vals), .tau = pt.tau, .executed = pt.executed,
                                .persisted = pt.executed});
      }
    }
  }
}

void Encoder::BuildMapLoadsAndLocks(z3::solver& solver) {
  const int n = o_.lbas;
  std::vector<const Store*> map_stores;
  for (const Store& s : stores_) {
    if (s.cat == Cat::kMap) map_stores.push_back(&s);
  }
  for (Op& op : ops_) {
    solver.add(z3::ult(op.lba, V(n)));
    for (size_t p = 1; p < op.points.size(); ++p) {
      solver.add(z3::ult(op.points[p - 1].u, op.points[p].u));
    }
    if (op.index > 0) {  // program order continues across the lane's ops
      const Op& prev = ops_[op.id - 1];
      solver.add(z3::ult(prev.points.back().u, op.points.front().u));
    }
    if (!Btt()) {
      solver.add(op.old_entry.flags == Bv(0, 2) && op.old_entry.blk == V(0));
      continue;
    }
    // The load under the lock sees the latest map store to the same LBA (visibility, not
    // persistence: loads see the newest stores). The formatted map is all 00 entries.
    const Point& load = op.points[op.lock_point];
    const int load_order = op.index * static_cast<int>(program_.size()) + op.lock_point;
    std::vector<expr> seen = Latest(
        map_stores,
        [&](const Store& s) {
          return s.active && s.addr == op.lba &&
                 Before(s.lane, s.order, s.tau, op.lane, load_order, load.tau);
        },
        {Bv(0, 2), V(0)});
    solver.add(op.old_entry.flags == seen[0]);
    solver.add(op.old_entry.blk == seen[1]);
  }
  // The map lock: critical sections of different lanes on the same LBA do not overlap. Times of
  // steps after the crash still exist (the run's unseen future), so the constraint needs no case
  // split on the crash.
  if (Btt() && o_.mutant != Mutant::kNoMapLock) {
    for (const Op& a : ops_) {
      for (const Op& b : ops_) {
        if (a.lane >= b.lane) continue;
        solver.add(z3::implies(
            a.lba == b.lba,
            z3::ult(a.points[a.unlock_point].tau, b.points[b.lock_point].tau) ||
                z3::ult(b.points[b.unlock_point].tau, a.points[a.lock_point].tau)));
      }
    }
  }
  // Canonical LBA labelling (symmetry breaking; see bmc.h).
  if (o_.symmetry_breaking) {
    expr max_lba = ops_.front().lba;
    solver.add(ops_.front().lba == V(0));
    for (size_t i = 1; i < ops_.size(); ++i) {
      const expr& lba = ops_[i].lba;
      solver.add(z3::ule(lba, max_lba + V(1)));
      max_lba = z3::ite(z3::ugt(lba, max_lba), lba, max_lba);
    }
  }
}

void Encoder::BuildCrash(z3::solver& solver) {
  const PersistencyModel pm = o_.model;
  for (Store& s : stores_) {
    if (pm == PersistencyModel::kEadr) {
      s.persisted = s.executed;
      continue;
    }
    s.persisted = FreshBool(fmt::format("persisted_{}_{}", s.op, s.order));
    solver.add(z3::implies(s.persisted, s.executed));
    // Made durable by a later flush+fence of its line by the same lane (a conservative
    // under-approximation: other lanes' flushes of a shared line are not credited).
    std::vector<expr> durable;
    for (const Fence& f : fences_) {
      if (f.lane != s.lane || f.order <= s.order || f.cat != s.cat) continue;
      switch (s.cat) {
        case Cat::kData:
          durable.push_back(f.executed && f.addr == s.addr);
          break;
        case Cat::kFlog:
          durable.push_back(f.executed);  // one lane's flog group is one 64-byte line
          break;
        case Cat::kMap:
          // 16 entries per 64-byte map line.
          if (vw_ > 4) {
            durable.push_back(f.executed &&
                              f.addr.extract(vw_ - 1, 4) == s.addr.extract(vw_ - 1, 4));
          } else {
            durable.push_back(f.executed);
          }
          break;
      }
    }
    solver.add(z3::implies(Or(durable), s.persisted));
  }
  if (pm == PersistencyModel::kEadr) return;
  // Ordering units: px86 = cache line, word8 = 8-byte word. Within a unit the persisted stores
  // are a prefix (by time) of the executed ones; a location's value is its latest persisted
  // store, so word8 gives each word "any candidate value since its last guaranteed persist".
  for (size_t i = 0; i < stores_.size(); ++i) {
    for (size_t j = 0; j < stores_.size(); ++j) {
      if (i == j) continue;
      const Store& a = stores_[i];  // the earlier one
      const Store& b = stores_[j];
      if (a.cat != b.cat) continue;
      expr same = False();
      switch (a.cat) {
        case Cat::kData:  // each modelled data word lies in a line of its own
          same = a.sub == b.sub ? expr(a.addr == b.addr) : False();
          break;
        case Cat::kFlog:
          if (a.lane != b.lane) {
            same = False();
          } else if (pm == PersistencyModel::kPx86) {
            same = True();
          } else {
            same = a.sub == b.sub ? expr(a.addr == b.addr) : False();
          }
          break;
        case Cat::kMap:
          if (pm == PersistencyModel::kPx86) {
            same = vw_ > 4 ? expr(a.addr.extract(vw_ - 1, 4) == b.addr.extract(vw_ - 1, 4))
                           : True();
          } else {  // two 4-byte entries per 8-byte word
            same = a.addr.extract(vw_ - 1, 1) == b.addr.extract(vw_ - 1, 1);
          }
          break;
      }
      expr before = StoreBefore(a, b);
      if (same.simplify().is_false() || before.simplify().is_false()) continue;
      solver.add(z3::implies(same && before && a.active && b.persisted, a.persisted));
    }
  }
}

MapVal Encoder::MapLookup(const std::vector<MapVal>& map, const expr& lba) const {
  MapVal r{map[0].flags, map[0].blk};
  for (size_t x = 1; x < map.size(); ++x) {
    r.flags = z3::ite(lba == V(static_cast<int64_t>(x)), map[x].flags, r.flags);
    r.blk = z3::ite(lba == V(static_cast<int64_t>(x)), map[x].blk, r.blk);
  }
  return r;
}

std::vector<MapVal> Encoder::Recover(const std::vector<MapVal>& map_in, const expr* limit,
                                     std::vector<RecoveryLane>* lanes_out) const {
  std::vector<MapVal> map = map_in;
  const int n = o_.lbas;
  for (int l = 0; l < o_.nfree; ++l) {  // every flog group, used by a lane or not
    const FlogSlot& s0 = crash_flog_[l][0];
    const FlogSlot& s1 = crash_flog_[l][1];
    // Newer slot, PMDK btt_flog_get_valid: seq 0 = never written; otherwise the successor wins.
    expr newer1 = z3::ite(s0.seq == Bv(0, 2), True(),
                          z3::ite(s1.seq == Bv(0, 2), False(), Next(s0.seq) == s1.seq));
    expr pick1 = o_.mutant == Mutant::kRecoveryPicksOlder ? !newer1 : newer1;
    RecoveryLane r{pick1, z3::ite(pick1, s1.lba, s0.lba), z3::ite(pick1, s1.old_map, s0.old_map),
                   z3::ite(pick1, s1.new_map, s0.new_map), z3::ite(pick1, s1.seq, s0.seq),
                   False()};
    MapVal cur = MapLookup(map, r.lba);
    expr in_range = z3::ult(r.lba, V(n));
    expr used = r.old_map != r.new_map;
    expr ent = EntLba(cur, r.lba);  // masked, 00 = identity
    expr roll = False();
    switch (o_.mutant) {
      case Mutant::kRecoveryRollBack:
        roll = False();  // keeps map == old_map, yet old_map is still handed out as free
        break;
      case Mutant::kRecoveryNoMask: {
        // Raw comparison of the map entry with the bare block numbers in the flog.
        auto raw_eq = [&](const expr& blk) { return cur.flags == Bv(0, 2) && cur.blk == blk; };
        roll = in_range && used && !raw_eq(r.new_map) && raw_eq(r.old_map);
        break;
      }
      case Mutant::kRecoveryNoOldCheck:
        roll = in_range && used && ent != r.new_map;
        break;
      default:
        roll = in_range && used && ent != r.new_map && ent == r.old_map;
    }
    r.roll = roll;
    expr apply = limit ? expr(roll && z3::ugt(*limit, Bv(l, limit->get_sort().bv_size())))
                       : roll;
    for (int x = 0; x < n; ++x) {
      expr hit = apply && r.lba == V(x);
      map[x] = MapVal{z3::ite(hit, Bv(3, 2), map[x].flags), z3::ite(hit, r.new_map, map[x].blk)};
    }
    if (lanes_out) lanes_out->push_back(r);
  }
  return map;
}

expr Encoder::DataWord(const expr& block, int word) const {
  std::vector<const Store*> data;
  for (const Store& s : stores_) {
    if (s.cat == Cat::kData && s.sub == word) data.push_back(&s);
  }
  // Formatted contents of block b carry tag 1 + b: "initial(lba b)" or "garbage(block b)".
  return Latest(
      data, [&](const Store& s) { return s.persisted && s.addr == block; }, {block + V(1)})[0];
}

void Encoder::BuildRecoveryAndProperties(z3::solver& solver) {
  const int n = o_.lbas;
  // Recovery reads every flog group: the L lanes in use and the F - L never used (formatted).
  const int nfree = o_.nfree;
  // Persisted state at the crash.
  std::vector<const Store*> map_stores;
  for (const Store& s : stores_) {
    if (s.cat == Cat::kMap) map_stores.push_back(&s);
  }
  for (int x = 0; x < n; ++x) {
    std::vector<expr> v = Latest(
        map_stores, [&](const Store& s) { return s.persisted && s.addr == V(x); },
        {Bv(0, 2), V(0)});
    crash_map_.push_back(MapVal{v[0], v[1]});
  }
  for (int l = 0; l < nfree; ++l) {
    std::vector<FlogSlot> slots;
    for (int slot = 0; slot < 2; ++slot) {
      // Formatted flog: slot 0 = {l, N+l, N+l, 1}, slot 1 = zeros.
      std::vector<expr> a = slot == 0 ? std::vector<expr>{V(l), V(n + l)}
                                      : std::vector<expr>{V(0), V(0)};
      std::vector<expr> b = slot == 0 ? std::vector<expr>{V(n + l), Bv(1, 2)}
                                      : std::vector<expr>{V(0), Bv(0, 2)};
      expr slot_is1 = ctx_.bool_val(slot == 1);
      for (const Store& s : stores_) {  // one lane's stores: program order is time order
        if (s.cat != Cat::kFlog || s.lane != l) continue;
        expr hit = s.persisted && s.addr == slot_is1;
        auto& half = s.sub == 0 ? a : b;
        half[0] = z3::ite(hit, s.vals[0], half[0]);
        half[1] = z3::ite(hit, s.vals[1], half[1]);
      }
      slots.push_back(FlogSlot{a[0], a[1], b[0], b[1]});
    }
    crash_flog_.push_back(std::move(slots));
  }

  if (Btt()) {
    recovered_map_ = Recover(crash_map_, nullptr, &recovery_lanes_);
    if (o_.crash_during_recovery) {
      // Recovery stores one map entry per lane, each durable before the next (single thread,
      // flush+fence per store: RollForwardSequence, which the conformance test checks against
      // the code): a crash inside it leaves the first r lanes' stores.
      const std::vector<Effect> roll = RollForwardSequence();
      TP_ASSERT(roll.size() == 2 && roll[0].action == Action::kStore &&
                    roll[1].action == Action::kPersist && roll[1].region == roll[0].region,
                "INV-MODEL-ROLL-FORWARD-PERSISTED");
      const int rw = BitsFor(nfree);
      recovery_limit_ = std::make_unique<expr>(ctx_.bv_const("recovery_crash", rw));
      ++variables_;
      solver.add(z3::ule(*recovery_limit_, Bv(nfree, rw)));
      partial_map_ = Recover(crash_map_, recovery_limit_.get(), nullptr);
      rerecovered_map_ = Recover(partial_map_, nullptr, nullptr);
    } else {
      rerecovered_map_ = Recover(recovered_map_, nullptr, nullptr);
    }
  } else {
    for (int x = 0; x < n; ++x) recovered_map_.push_back(MapVal{Bv(0, 2), V(0)});
    rerecovered_map_ = recovered_map_;
  }

  // Op status at the crash.
  std::vector<expr> started, done;
  for (const Op& op : ops_) {
    started.push_back(z3::ult(op.points.front().tau, *crash_));
    done.push_back(z3::ult(op.points.back().tau, *crash_));
  }
  auto op_value = [&](const Op& op) { return z3::ite(op.is_write, V(op.tag), V(0)); };

  for (int x = 0; x < n; ++x) {
    const MapVal& e = recovered_map_[x];
    expr zero = e.flags == Bv(2, 2);
    expr block = EntLba(e, V(x));
    sector_block_.push_back(block);
    sector_zero_.push_back(zero);
    expr w0 = DataWord(block, 0);
    expr w1 = DataWord(block, 1);
    // INV-SECTOR-ATOMIC: whole data of one op on x, the formatted contents, or zeros of a zero.
    std::vector<expr> tag_ok = {w0 == V(1 + x)};
    std::vector<expr> zero_ok;
    for (size_t i = 0; i < ops_.size(); ++i) {
      const Op& op = ops_[i];
      tag_ok.push_back(op.is_write && op.lba == V(x) && w0 == V(op.tag));
      zero_ok.push_back(!op.is_write && op.lba == V(x) && started[i]);
      if (!Btt()) tag_ok.push_back(!op.is_write && op.lba == V(x) && w0 == V(0));
    }
    atomic_ok_.push_back(z3::ite(zero, Or(zero_ok), w0 == w1 && Or(tag_ok)));
    // INV-SECTOR-DURABLE: the value of the last completed op on x, or of one in flight.
    expr value = z3::ite(zero, V(0), w0);
    std::vector<expr> none_done, allowed;
    for (size_t i = 0; i < ops_.size(); ++i) {
      const Op& a = ops_[i];
      expr on_x = a.lba == V(x);
      none_done.push_back(!(done[i] && on_x));
      std::vector<expr> last = {done[i], on_x};
      for (size_t j = 0; j < ops_.size(); ++j) {
        if (j == i) continue;
        const Op& b = ops_[j];
        expr later = a.lane == b.lane ? ctx_.bool_val(b.index > a.index)
                                      : z3::ult(a.points.back().tau, b.points.back().tau);
        last.push_back(!(done[j] && b.lba == V(x) && later));
      }
      allowed.push_back(And(last) && value == op_value(a));
      allowed.push_back(started[i] && !done[i] && on_x && value == op_value(a));
    }
    allowed.push_back(And(none_done) && value == V(1 + x));
    durable_ok_.push_back(Or(allowed));
    // INV-RECOVERY-IDEMPOTENT: the crashed-and-rerun recovery shows the same sector mapping.
    const MapVal& r2 = rerecovered_map_[x];
    idem_ok_.push_back((r2.flags == Bv(2, 2)) == zero && EntLba(r2, V(x)) == block);
  }
  // INV-MAP-BIJECTION: N mapped blocks + F free blocks (one per flog group), all distinct: a
  // permutation of the N + F internal blocks.
  if (Btt()) {
    std::vector<std::pair<std::string, expr>> owners;
    for (int x = 0; x < n; ++x) owners.emplace_back(fmt::format("map[{}]", x), sector_block_[x]);
    for (int l = 0; l < nfree; ++l) {
      owners.emplace_back(fmt::format("free[lane {}]", l), recovery_lanes_[l].old_map);
    }
    for (size_t i = 0; i < owners.size(); ++i) {
      for (size_t j = i + 1; j < owners.size(); ++j) {
        bijection_ok_.push_back(
            {{owners[i].first, owners[j].first}, owners[i].second != owners[j].second});
      }
    }
    // INV-FLOG-SEQ.
    for (int l = 0; l < nfree; ++l) {
      flog_ok_.push_back(crash_flog_[l][0].seq != crash_flog_[l][1].seq);
    }
  }

  if (o_.witness != Witness::kNone) {
    solver.add(WitnessGoal(done));
    return;
  }
  std::vector<expr> bad;
  auto add_bad = [&](Property p, const std::vector<expr>& oks) {
    if ((o_.properties & PropertyBit(p)) == 0) return;
    for (const auto& ok : oks) bad.push_back(!ok);
  };
  add_bad(Property::kAtomicity, atomic_ok_);
  add_bad(Property::kDurability, durable_ok_);
  std::vector<expr> bij;
  for (const auto& b : bijection_ok_) bij.push_back(b.second);
  add_bad(Property::kBijection, bij);
  add_bad(Property::kFlogSeq, flog_ok_);
  if (Btt()) add_bad(Property::kIdempotence, idem_ok_);
  solver.add(Or(bad));
}

expr Encoder::WitnessGoal(const std::vector<expr>& done) const {
  std::vector<expr> any;
  switch (o_.witness) {
    case Witness::kNone:
      break;
    case Witness::kRollForward:
      for (const RecoveryLane& r : recovery_lanes_) any.push_back(r.roll);
      break;
    case Witness::kTornFreeBlock:
      for (int b = 0; b < o_.lbas + o_.nfree; ++b) {
        any.push_back(DataWord(V(b), 0) != DataWord(V(b), 1));
      }
      break;
    case Witness::kSameLbaTwoLanes:
      for (size_t i = 0; i < ops_.size(); ++i) {
        for (size_t j = 0; j < ops_.size(); ++j) {
          if (ops_[i].lane < ops_[j].lane) {
            any.push_back(done[i] && done[j] && ops_[i].lba == ops_[j].lba);
          }
        }
      }
      break;
    case Witness::kRecoveryCrashCutsRoll:
      for (size_t x = 0; x < partial_map_.size(); ++x) {
        any.push_back(partial_map_[x].blk != recovered_map_[x].blk ||
                      partial_map_[x].flags != recovered_map_[x].flags);
      }
      break;
    case Witness::kZeroVisible:
      for (const expr& z : sector_zero_) any.push_back(z);
      break;
  }
  return Or(any);
}

void Encoder::Build(z3::solver& solver) {
  BuildOps();
  BuildEvents();
  BuildMapLoadsAndLocks(solver);
  BuildCrash(solver);
  BuildRecoveryAndProperties(solver);
}

// ---- Decoding -----------------------------------------------------------------------------

struct Eval {
  const z3::model& m;
  int64_t Int(const expr& e) const {
    expr v = m.eval(e, true);
    uint64_t out = 0;
    if (v.is_numeral_u64(out)) return static_cast<int64_t>(out);
    return -1;
  }
  bool Bool(const expr& e) const { return m.eval(e, true).is_true(); }
};

std::string EntryString(int64_t flags, int64_t blk) {
  static const char* kFlagNames[] = {"00", "01", "10", "11"};
  return fmt::format("{}:{}", kFlagNames[flags & 3], blk);
}

Counterexample Encoder::Decode(const z3::model& model) const {
  Eval ev{model};
  const int n = o_.lbas;
  auto tag_name = [&](int64_t t) -> std::string {
    if (t == 0) return "zero";
    if (t >= 1 && t <= n) return fmt::format("initial(lba {})", t - 1);
    if (t > n && t <= n + o_.nfree) return fmt::format("garbage(block {})", t - 1);
    for (const Op& op : ops_) {
      if (op.tag == t) return fmt::format("write(L{}.op{})", op.lane, op.index);
    }
    return fmt::format("tag {}", t);
  };
  Counterexample cex;
  for (const Op& op : ops_) {
    CexOp c;
    c.lane = op.lane;
    c.index = op.index;
    const bool w = ev.Bool(op.is_write);
    c.kind = w ? "write" : "zero";
    c.lba = static_cast<int>(ev.Int(op.lba));
    if (Btt()) {
      c.old_entry = EntryString(ev.Int(op.old_entry.flags), ev.Int(op.old_entry.blk));
      if (w) {
        c.new_block = static_cast<int>(ev.Int(op.new_block));
        c.flog_slot = ev.Bool(op.slot) ? 1 : 0;
        c.seq = static_cast<int>(ev.Int(op.seq));
      }
    }
    const bool started = ev.Bool(z3::ult(op.points.front().tau, *crash_));
    const bool done = ev.Bool(z3::ult(op.points.back().tau, *crash_));
    c.status = done ? "completed" : started ? "in-flight" : "not-started";
    cex.ops.push_back(c);
  }
  // Schedule: every active point in time order; those before the crash are `schedule`, the
  // rest `after_crash` (times of points after the crash still satisfy program order, the lock and
  // the map loads, so both together are one complete execution).
  struct Item {
    int64_t tau;
    const Op* op;
    size_t point;
    bool executed;
  };
  std::vector<Item> items;
  for (const Op& op : ops_) {
    for (size_t p = 0; p < op.points.size(); ++p) {
      if (!ev.Bool(op.points[p].active)) continue;
      items.push_back({ev.Int(op.points[p].tau), &op, p, ev.Bool(op.points[p].executed)});
    }
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.tau < b.tau; });
  for (const Item& it : items) {
    const Op& op = *it.op;
    CexStep s;
    s.lane = op.lane;
    s.op = op.index;
    s.op_kind = cex.ops[op.id].kind;
    s.lba = cex.ops[op.id].lba;
    s.step = StepName(op.points[it.point].kind);
    if (!Btt()) {
      if (op.points[it.point].kind == StepKind::kDataPersist) s.step = "persist";
      if (op.points[it.point].kind == StepKind::kData0) s.step = "data.word0";
      if (op.points[it.point].kind == StepKind::kData1) s.step = "data.word1";
    }
    const int order = op.index * static_cast<int>(program_.size()) + static_cast<int>(it.point);
    for (const Store& st : stores_) {
      if (st.op != op.id || st.order != order) continue;
      s.is_store = true;
      s.persisted = ev.Bool(st.persisted);
      switch (st.cat) {
        case Cat::kData:
          s.address = static_cast<int>(ev.Int(st.addr));
          s.part = st.sub;
          s.location = fmt::format("data[{}].word{}", ev.Int(st.addr), st.sub);
          s.value = tag_name(ev.Int(st.vals[0]));
          break;
        case Cat::kFlog:
          s.address = ev.Bool(st.addr) ? 1 : 0;
          s.part = st.sub;
          s.location = fmt::format("flog[lane {}].slot{}.{}", op.lane,
                                   ev.Bool(st.addr) ? 1 : 0, st.sub == 0 ? "A" : "B");
          s.value = st.sub == 0 ? fmt::format("{{lba {}, old_map {}}}", ev.Int(st.vals[0]),
                                              ev.Int(st.vals[1]))
                                : fmt::format("{{new_map {}, seq {}}}", ev.Int(st.vals[0]),
                                              ev.Int(st.vals[1]));
          break;
        case Cat::kMap:
          s.address = static_cast<int>(ev.Int(st.addr));
          s.location = fmt::format("map[{}]", ev.Int(st.addr));
          s.value = EntryString(ev.Int(st.vals[0]), ev.Int(st.vals[1]));
          break;
      }
    }
    if (it.executed) {
      for (const Effect& e : program_[it.point].effects) {
        cex.fences_before_crash += e.action == Action::kPersist;
      }
    }
    (it.executed ? cex.schedule : cex.after_crash).push_back(s);
  }
  cex.crash_after_step = static_cast<int>(cex.schedule.size());
  if (recovery_limit_) cex.recovery_crash_after_lanes = static_cast<int>(ev.Int(*recovery_limit_));
  for (size_t l = 0; l < recovery_lanes_.size(); ++l) {
    const RecoveryLane& r = recovery_lanes_[l];
    cex.recovery.push_back(CexRecoveryLane{
        static_cast<int>(l), ev.Bool(r.pick_slot1) ? 1 : 0, static_cast<int>(ev.Int(r.lba)),
        static_cast<int>(ev.Int(r.old_map)), static_cast<int>(ev.Int(r.new_map)),
        static_cast<int>(ev.Int(r.seq)), ev.Bool(r.roll), static_cast<int>(ev.Int(r.old_map))});
  }
  for (int x = 0; x < n; ++x) {
    CexSector sec;
    sec.lba = x;
    sec.map_entry = EntryString(ev.Int(recovered_map_[x].flags), ev.Int(recovered_map_[x].blk));
    sec.block = static_cast<int>(ev.Int(sector_block_[x]));
    const int64_t w0 = ev.Int(DataWord(sector_block_[x], 0));
    const int64_t w1 = ev.Int(DataWord(sector_block_[x], 1));
    sec.word0 = tag_name(w0);
    sec.word1 = tag_name(w1);
    sec.reads = ev.Bool(sector_zero_[x]) ? "zero" : (w0 == w1 ? tag_name(w0) : "TORN");
    cex.sectors.push_back(sec);
    if (!ev.Bool(atomic_ok_[x])) {
      cex.violations.push_back({PropertyName(Property::kAtomicity), x, -1,
                                fmt::format("lba {} reads {} (block {}: {} | {})", x, sec.reads,
                                            sec.block, sec.word0, sec.word1)});
    }
    if (!ev.Bool(durable_ok_[x])) {
      cex.violations.push_back(
          {PropertyName(Property::kDurability), x, -1,
           fmt::format("lba {} reads {}, neither its last completed op nor one in flight", x,
                       sec.reads)});
    }
    if (Btt() && !ev.Bool(idem_ok_[x])) {
      cex.violations.push_back(
          {PropertyName(Property::kIdempotence), x, -1,
           fmt::format("lba {}: recovery maps {} but crash-in-recovery + re-run maps {}", x,
                       sec.map_entry,
                       EntryString(ev.Int(rerecovered_map_[x].flags),
                                   ev.Int(rerecovered_map_[x].blk)))});
    }
  }
  for (const auto& b : bijection_ok_) {
    if (!ev.Bool(b.second)) {
      cex.violations.push_back({PropertyName(Property::kBijection), -1, -1,
                                fmt::format("{} and {} hold the same block", b.first.first,
                                            b.first.second)});
    }
  }
  for (size_t l = 0; l < flog_ok_.size(); ++l) {
    if (!ev.Bool(flog_ok_[l])) {
      cex.violations.push_back({PropertyName(Property::kFlogSeq), -1, static_cast<int>(l),
                                fmt::format("lane {}: both flog slots carry the same seq", l)});
    }
  }
  return cex;
}

uint64_t CountNodes(const z3::expr_vector& assertions) {
  std::unordered_set<unsigned> seen;
  std::vector<expr> stack;
  for (unsigned i = 0; i < assertions.size(); ++i) stack.push_back(assertions[i]);
  while (!stack.empty()) {
    expr e = stack.back();
    stack.pop_back();
    if (!seen.insert(e.id()).second) continue;
    if (e.is_app()) {
      for (unsigned i = 0; i < e.num_args(); ++i) stack.push_back(e.arg(i));
    }
  }
  return seen.size();
}

Status Validate(const BmcOptions& o) {
  if (o.lanes < 1 || o.lanes > 8) return InvalidArgument("lanes must be in 1..8");
  if (o.lbas < 1 || o.lbas > 16) return InvalidArgument("lbas must be in 1..16");
  if (o.ops_per_lane < 1 || o.ops_per_lane > 8) return InvalidArgument("ops must be in 1..8");
  if (o.nfree != 0 && (o.nfree < o.lanes || o.nfree > 8)) {
    return InvalidArgument("nfree must be 0 (= lanes) or in lanes..8 (one free block per lane)");
  }
  if (o.timeout_seconds < 0) return InvalidArgument("timeout must be >= 0");
  return Status::Ok();
}

nlohmann::json ToJson(const Counterexample& c) {
  nlohmann::json j;
  j["ops"] = nlohmann::json::array();
  for (const auto& op : c.ops) {
    j["ops"].push_back({{"lane", op.lane}, {"index", op.index}, {"kind", op.kind},
                        {"lba", op.lba}, {"new_block", op.new_block},
                        {"old_entry", op.old_entry}, {"flog_slot", op.flog_slot},
                        {"seq", op.seq}, {"status", op.status}});
  }
  j["schedule"] = nlohmann::json::array();
  for (const auto& s : c.schedule) {
    nlohmann::json step = {{"lane", s.lane}, {"op", s.op}, {"op_kind", s.op_kind},
                           {"lba", s.lba}, {"step", s.step}};
    if (s.is_store) {
      step["location"] = s.location;
      step["address"] = s.address;
      step["part"] = s.part;
      step["value"] = s.value;
      step["persisted"] = s.persisted;
    }
    j["schedule"].push_back(step);
  }
  j["after_crash"] = nlohmann::json::array();
  for (const auto& s : c.after_crash) {
    j["after_crash"].push_back({{"lane", s.lane}, {"op", s.op}, {"step", s.step}});
  }
  j["crash_after_step"] = c.crash_after_step;
  j["fences_before_crash"] = c.fences_before_crash;
  j["recovery_crash_after_lanes"] = c.recovery_crash_after_lanes;
  j["recovery"] = nlohmann::json::array();
  for (const auto& r : c.recovery) {
    j["recovery"].push_back({{"lane", r.lane}, {"slot", r.slot}, {"lba", r.lba},
                             {"old_map", r.old_map}, {"new_map", r.new_map}, {"seq", r.seq},
                             {"rolled_forward", r.rolled_forward},
                             {"free_block", r.free_block}});
  }
  j["sectors"] = nlohmann::json::array();
  for (const auto& s : c.sectors) {
    j["sectors"].push_back({{"lba", s.lba}, {"map_entry", s.map_entry}, {"block", s.block},
                            {"word0", s.word0}, {"word1", s.word1}, {"reads", s.reads}});
  }
  j["violations"] = nlohmann::json::array();
  for (const auto& v : c.violations) {
    j["violations"].push_back({{"property", v.property}, {"lba", v.lba}, {"lane", v.lane},
                               {"message", v.message}});
  }
  return j;
}

}  // namespace

const char* PersistencyModelName(PersistencyModel model) {
  switch (model) {
    case PersistencyModel::kPx86: return "px86";
    case PersistencyModel::kWord8: return "word8";
    case PersistencyModel::kEadr: return "eadr";
  }
  return "?";
}

Result<PersistencyModel> ParsePersistencyModel(std::string_view name) {
  for (auto m : {PersistencyModel::kPx86, PersistencyModel::kWord8, PersistencyModel::kEadr}) {
    if (name == PersistencyModelName(m)) return m;
  }
  return InvalidArgument(fmt::format("unknown persistency model '{}' (px86, word8, eadr)", name));
}

const char* MutantName(Mutant mutant) {
  switch (mutant) {
    case Mutant::kNone: return "none";
    case Mutant::kNoDataPersist: return "no-data-persist";
    case Mutant::kMapBeforeFlog: return "map-before-flog";
    case Mutant::kFlogHalvesUnfenced: return "flog-halves-unfenced";
    case Mutant::kFlogActiveSlot: return "flog-active-slot";
    case Mutant::kSeqReversed: return "seq-reversed";
    case Mutant::kFreeBlockReused: return "free-block-reused";
    case Mutant::kNoMapLock: return "no-map-lock";
    case Mutant::kRecoveryPicksOlder: return "recovery-picks-older";
    case Mutant::kRecoveryRollBack: return "recovery-roll-back";
    case Mutant::kRecoveryNoMask: return "recovery-no-mask";
    case Mutant::kRecoveryNoOldCheck: return "recovery-no-old-check";
    case Mutant::kNoBtt: return "no-btt";
  }
  return "?";
}

std::vector<Mutant> AllMutants() {
  std::vector<Mutant> all;
  for (int m = static_cast<int>(Mutant::kNoDataPersist); m <= static_cast<int>(Mutant::kNoBtt);
       ++m) {
    all.push_back(static_cast<Mutant>(m));
  }
  return all;
}

Result<Mutant> ParseMutant(std::string_view name) {
  if (name == "none") return Mutant::kNone;
  for (Mutant m : AllMutants()) {
    if (name == MutantName(m)) return m;
  }
  return InvalidArgument(fmt::format("unknown mutant '{}'", name));
}

const char* PropertyName(Property property) {
  switch (property) {
    case Property::kAtomicity: return "INV-SECTOR-ATOMIC";
    case Property::kDurability: return "INV-SECTOR-DURABLE";
    case Property::kBijection: return "INV-MAP-BIJECTION";
    case Property::kFlogSeq: return "INV-FLOG-SEQ";
    case Property::kIdempotence: return "INV-RECOVERY-IDEMPOTENT";
  }
  return "?";
}

const char* WitnessName(Witness witness) {
  switch (witness) {
    case Witness::kNone: return "none";
    case Witness::kRollForward: return "roll-forward";
    case Witness::kTornFreeBlock: return "torn-free-block";
    case Witness::kSameLbaTwoLanes: return "same-lba-two-lanes";
    case Witness::kRecoveryCrashCutsRoll: return "recovery-crash-cuts-roll";
    case Witness::kZeroVisible: return "zero-visible";
  }
  return "?";
}

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kSat: return "SAT";
    case Verdict::kUnsat: return "UNSAT";
    case Verdict::kUnknown: return "UNKNOWN";
  }
  return "?";
}

bool Counterexample::Violates(Property property) const {
  for (const auto& v : violations) {
    if (v.property == PropertyName(property)) return true;
  }
  return false;
}

Result<BmcResult> RunBmc(const BmcOptions& options) {
  TP_RETURN_IF_ERROR(Validate(options));
  BmcResult result;
  result.options = options;
  if (result.options.nfree == 0) result.options.nfree = options.lanes;
  try {
    z3::context ctx;
    const auto t0 = std::chrono::steady_clock::now();
    z3::solver solver(ctx, "QF_BV");
    if (options.timeout_seconds > 0) {
      z3::params p(ctx);
      p.set("timeout", static_cast<unsigned>(options.timeout_seconds * 1000));
      solver.set(p);
    }
    Encoder enc(ctx, result.options);
    enc.Build(solver);
    const auto t1 = std::chrono::steady_clock::now();
    const z3::expr_vector assertions = solver.assertions();
    result.assertions = assertions.size();
    result.variables = enc.variables();
    result.formula_nodes = CountNodes(assertions);
    const auto t2 = std::chrono::steady_clock::now();
    const z3::check_result r = solver.check();
    const auto t3 = std::chrono::steady_clock::now();
    result.encode_seconds = std::chrono::duration<double>(t1 - t0).count();
    result.solve_seconds = std::chrono::duration<double>(t3 - t2).count();
    switch (r) {
      case z3::sat:
        result.verdict = Verdict::kSat;
        result.counterexample = enc.Decode(solver.get_model());
        break;
      case z3::unsat:
        result.verdict = Verdict::kUnsat;
        break;
      case z3::unknown:
        result.verdict = Verdict::kUnknown;
        result.reason_unknown = solver.reason_unknown();
        break;
    }
  } catch (const z3::exception& e) {
    return InternalError(fmt::format("z3: {}", e.msg()));
  } catch (const std::exception& e) {
    return InternalError(fmt::format("model: {}", e.what()));
  }
  return result;
}

Result<std::string> BmcFormulaSmtLib2(const BmcOptions& options) {
  TP_RETURN_IF_ERROR(Validate(options));
  BmcOptions resolved = options;
  if (resolved.nfree == 0) resolved.nfree = options.lanes;
  try {
    z3::context ctx;
    z3::solver solver(ctx, "QF_BV");
    Encoder enc(ctx, resolved);
    enc.Build(solver);
    // Z3 prints the declarations, the assertions and (check-sat); the logic line makes the
    // benchmark self-describing for another solver.
    return "(set-logic QF_BV)\n" + solver.to_smt2();
  } catch (const z3::exception& e) {
    return InternalError(fmt::format("z3: {}", e.msg()));
  }
}

std::string CounterexampleToJson(const Counterexample& cex) { return ToJson(cex).dump(2); }

std::string BmcResultToJson(const BmcResult& r) {
  nlohmann::json j;
  const BmcOptions& o = r.options;
  j["options"] = {{"lanes", o.lanes},
                  {"lbas", o.lbas},
                  {"nfree", o.nfree},
                  {"ops_per_lane", o.ops_per_lane},
                  {"model", PersistencyModelName(o.model)},
                  {"mutant", MutantName(o.mutant)},
                  {"properties", o.properties},
                  {"writes_only", o.op_mix == OpMix::kWritesOnly},
                  {"symmetry_breaking", o.symmetry_breaking},
                  {"crash_during_recovery", o.crash_during_recovery},
                  {"timeout_seconds", o.timeout_seconds},
                  {"witness", WitnessName(o.witness)}};
  j["verdict"] = VerdictName(r.verdict);
  if (!r.reason_unknown.empty()) j["reason_unknown"] = r.reason_unknown;
  j["encode_seconds"] = r.encode_seconds;
  j["solve_seconds"] = r.solve_seconds;
  j["assertions"] = r.assertions;
  j["variables"] = r.variables;
  j["formula_nodes"] = r.formula_nodes;
  if (r.counterexample) j["counterexample"] = ToJson(*r.counterexample);
  return j.dump(2);
}

std::vector<Bound> DefaultBoundLadder() {
  // Ordered by measured cost (docs/model.md §7), so a budget reaches as many bounds as it can.
  return {{1, 1, 1}, {1, 2, 2}, {2, 2, 1}, {2, 2, 2}, {2, 3, 2}, {3, 3, 1},
          {2, 3, 3}, {3, 3, 2}, {4, 4, 1}, {2, 3, 4}, {3, 4, 3}, {2, 4, 5}};
}

BmcOptions OptionsFor(const Bound& bound, PersistencyModel model, Mutant mutant) {
  BmcOptions o;
  o.lanes = bound.lanes;
  o.lbas = bound.lbas;
  o.nfree = bound.nfree;
  o.ops_per_lane = bound.ops_per_lane;
  o.model = model;
  o.mutant = mutant;
  return o;
}

Result<std::vector<DeepenRow>> RunDeepening(const DeepenOptions& options) {
  const std::vector<Bound> ladder = options.ladder.empty() ? DefaultBoundLadder() : options.ladder;
  std::vector<DeepenRow> rows;
  const auto start = std::chrono::steady_clock::now();
  for (const Bound& b : ladder) {
    const double spent =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double left = options.budget_seconds - spent;
    if (left < 1) break;
    BmcOptions o = OptionsFor(b, options.model, options.mutant);
    o.op_mix = options.op_mix;
    o.timeout_seconds = left;
    TP_ASSIGN_OR_RETURN(BmcResult r, RunBmc(o));
    rows.push_back(DeepenRow{b, r.verdict, r.solve_seconds, r.encode_seconds + r.solve_seconds,
                             r.assertions, r.variables, r.formula_nodes});
    if (r.verdict != Verdict::kUnsat) break;
  }
  return rows;
}

std::string DeepenTableMarkdown(const DeepenOptions& options, const std::vector<DeepenRow>& rows) {
  std::string out = fmt::format(
      "model={} mutant={} ops={} budget={}s\n\n"
      "| lanes | lbas | nfree | ops/lane | verdict | z3 s | total s | assertions | variables | "
      "nodes |\n|---|---|---|---|---|---|---|---|---|---|\n",
      PersistencyModelName(options.model), MutantName(options.mutant),
      options.op_mix == OpMix::kWritesOnly ? "writes" : "writes+zeros", options.budget_seconds);
  for (const DeepenRow& r : rows) {
    out += fmt::format("| {} | {} | {} | {} | {} | {:.2f} | {:.2f} | {} | {} | {} |\n",
                       r.bound.lanes, r.bound.lbas,
                       r.bound.nfree == 0 ? r.bound.lanes : r.bound.nfree, r.bound.ops_per_lane,
                       VerdictName(r.verdict), r.solve_seconds, r.total_seconds, r.assertions,
                       r.variables, r.formula_nodes);
  }
  return out;
}

}  // namespace tearproof::model
