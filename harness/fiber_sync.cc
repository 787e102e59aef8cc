#include "harness/fiber_sync.h"

namespace tearproof::harness {

Status FiberSync::Init(uint32_t lane_count, uint32_t map_lock_count) {
  if (lane_count == 0 || map_lock_count == 0) {
    return InvalidArgument("FiberSync needs at least one lane and one map lock");
  }
  lane_holder_.assign(lane_count, kFree);
  map_holder_.assign(map_lock_count, kFree);
  next_lane_ = 0;
  return Status::Ok();
}

uint32_t FiberSync::Caller() const {
  return scheduler_.InLane() ? scheduler_.current_lane() : kHolderOutsideRun;
}

btt::Lane FiberSync::AcquireLane() {
  TP_ASSERT(!lane_holder_.empty(), "INV-HARNESS-SYNC-INIT");
  scheduler_.Yield("fiber-sync acquire lane");
  const auto count = static_cast<uint32_t>(lane_holder_.size());
  for (;;) {
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t lane = (next_lane_ + i) % count;
      if (lane_holder_[lane] != kFree) continue;
      lane_holder_[lane] = Caller();
      next_lane_ = (lane + 1) % count;
      return btt::Lane(lane);
    }
    // Outside a run nobody could release a lane: BlockOn asserts there (INV-SCHED-WAIT-IN-LANE).
    ++waits_;
    scheduler_.BlockOn(kLaneWaitKey, "fiber-sync acquire lane (all held)");
  }
}

void FiberSync::ReleaseLane(btt::Lane lane) {
  TP_ASSERT(lane.value() < lane_holder_.size() && lane_holder_[lane.value()] == Caller(),
            "INV-HARNESS-LANE-HELD");
  lane_holder_[lane.value()] = kFree;
  scheduler_.Wake(kLaneWaitKey);
  scheduler_.YieldNoCancel("fiber-sync release lane", lane.value());
}

void FiberSync::LockMap(uint32_t index) {
  TP_ASSERT(index < map_holder_.size(), "INV-MAP-LOCK-RANGE");
  scheduler_.Yield("fiber-sync lock map", index);
  // The core never holds two map locks, so waiting here cannot close a cycle with another map
  // lock; a waiter on a lock it holds itself is a core bug.
  TP_ASSERT(map_holder_[index] != Caller(), "INV-HARNESS-MAP-LOCK-NOT-RECURSIVE");
  while (map_holder_[index] != kFree) {
    ++waits_;
    scheduler_.BlockOn(MapWaitKey(index), "fiber-sync lock map (held)", index);
  }
  map_holder_[index] = Caller();
}

void FiberSync::UnlockMap(uint32_t index) {
  TP_ASSERT(index < map_holder_.size() && map_holder_[index] == Caller(),
            "INV-HARNESS-MAP-LOCK-HELD");
  map_holder_[index] = kFree;
  scheduler_.Wake(MapWaitKey(index));
  scheduler_.YieldNoCancel("fiber-sync unlock map", index);
}

// Outside a run a spin-wait waits for a lane that cannot exist: Spin asserts there.
void FiberSync::Pause() { scheduler_.Spin("fiber-sync pause"); }

void AttachScheduler(SimNamespace& ns, sim::Scheduler& scheduler) {
  ns.set_op_hook([&scheduler](const MediumOp& op) {
    if (op.phase == MediumOp::Phase::kBefore) {
      scheduler.Yield(MediumOpName(op.kind), op.offset);
    } else if (op.kind == MediumOp::Kind::kRead) {
      scheduler.Yield("after medium read", op.offset);
    }
  });
  scheduler.set_switch_callback([&ns](uint32_t lane) { ns.set_lane(sim::Lane(lane)); });
}

}  // namespace tearproof::harness
