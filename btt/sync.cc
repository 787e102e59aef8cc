#include "btt/sync.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

namespace tearproof::btt {

namespace {

// The futex word is the lock's std::atomic<uint32_t>, which has the layout of a uint32_t.
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
uint32_t* FutexWord(std::atomic<uint32_t>& word) { return reinterpret_cast<uint32_t*>(&word); }

}  // namespace

void WordLock::LockContended(uint32_t seen) {
  // Mark the lock contended (2) and take it if it was free; otherwise sleep while it stays 2.
  // FUTEX_WAIT returns at once (EAGAIN) if the word is no longer 2, and on a wake-up or a signal
  // (EINTR); either way the exchange decides. Not bounded: a lane or map lock is held for one
  // I/O, and a holder that never returns is a bug the caller's own bounds would not fix.
  if (seen != 2) seen = state_.exchange(2, std::memory_order_acquire);
  while (seen != 0) {
    syscall(SYS_futex, FutexWord(state_), FUTEX_WAIT_PRIVATE, 2, nullptr, nullptr, 0);
    seen = state_.exchange(2, std::memory_order_acquire);
  }
}

void WordLock::WakeOne() {
  syscall(SYS_futex, FutexWord(state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

Status ThreadSync::Init(uint32_t lane_count, uint32_t map_lock_count) {
  if (lane_count == 0 || map_lock_count == 0) {
    return InvalidArgument("ThreadSync needs at least one lane and one map lock");
  }
  lane_count_ = lane_count;
  map_lock_count_ = map_lock_count;
  lanes_ = std::make_unique<PaddedLock[]>(lane_count);
  map_locks_ = std::make_unique<PaddedLock[]>(map_lock_count);
  return Status::Ok();
}

Lane ThreadSync::AcquireLane() {
  // Each thread gets a home lane once; spreading homes round-robin keeps contention low when
  // there are fewer threads than lanes.
  thread_local uint32_t home = UINT32_MAX;
  thread_local const ThreadSync* home_owner = nullptr;
  if (home_owner != this || home >= lane_count_) {
    home = next_home_.fetch_add(1, std::memory_order_relaxed) % lane_count_;
    home_owner = this;
  }
  // From the home lane upwards, wrapping (a compare, not a division, per step).
  for (uint32_t i = 0, lane = home; i < lane_count_;
       ++i, lane = lane + 1 == lane_count_ ? 0 : lane + 1) {
    if (lanes_[lane].lock.try_lock()) return Lane(lane);
  }
  lanes_[home].lock.lock();
  return Lane(home);
}

void ThreadSync::ReleaseLane(Lane lane) {
  TP_ASSERT(lane.value() < lane_count_, "INV-LANE-RANGE");
  lanes_[lane.value()].lock.unlock();
}

void ThreadSync::LockMap(uint32_t index) {
  TP_ASSERT(index < map_lock_count_, "INV-MAP-LOCK-RANGE");
  map_locks_[index].lock.lock();
}

void ThreadSync::UnlockMap(uint32_t index) {
  TP_ASSERT(index < map_lock_count_, "INV-MAP-LOCK-RANGE");
  map_locks_[index].lock.unlock();
}

void ThreadSync::Pause() { std::this_thread::yield(); }

}  // namespace tearproof::btt
