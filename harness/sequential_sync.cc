#include "harness/sequential_sync.h"

namespace tearproof::harness {

Status SequentialSync::Init(uint32_t lane_count, uint32_t map_lock_count) {
  if (lane_count == 0 || map_lock_count == 0) {
    return InvalidArgument("SequentialSync needs at least one lane and one map lock");
  }
  lane_held_.assign(lane_count, false);
  map_held_.assign(map_lock_count, false);
  next_lane_ = 0;
  return Status::Ok();
}

btt::Lane SequentialSync::AcquireLane() {
  const uint32_t lane = next_lane_;
  next_lane_ = (next_lane_ + 1) % static_cast<uint32_t>(lane_held_.size());
  TP_ASSERT(!lane_held_[lane], "INV-HARNESS-SEQUENTIAL-NO-CONTENTION");
  lane_held_[lane] = true;
  return btt::Lane(lane);
}

void SequentialSync::ReleaseLane(btt::Lane lane) {
  TP_ASSERT(lane.value() < lane_held_.size() && lane_held_[lane.value()],
            "INV-HARNESS-LANE-HELD");
  lane_held_[lane.value()] = false;
}

void SequentialSync::LockMap(uint32_t index) {
  TP_ASSERT(index < map_held_.size() && !map_held_[index], "INV-HARNESS-SEQUENTIAL-NO-CONTENTION");
  map_held_[index] = true;
}

void SequentialSync::UnlockMap(uint32_t index) {
  TP_ASSERT(index < map_held_.size() && map_held_[index], "INV-HARNESS-MAP-LOCK-HELD");
  map_held_[index] = false;
}

// A spin-wait in a sequential run waits for a reader that cannot exist: nothing else runs.
void SequentialSync::Pause() { TP_ASSERT(false, "INV-HARNESS-SEQUENTIAL-NO-WAIT"); }

}  // namespace tearproof::harness
