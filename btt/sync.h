// btt::Sync — the lane, map-lock and spin-wait provider of the BTT core.
//
// The core never touches a mutex, a thread id or a clock itself: every lane acquisition, map lock
// and busy-wait goes through this interface, so a deterministic fiber scheduler (sim/) can
// implement it with every call a yield point, while real threads use ThreadSync (the default).
//
// Contract for implementations:
//   - Init(lane_count, map_lock_count) is called once by Btt::Open before any other call; it may
//     allocate. Lanes are 0..lane_count-1, map locks 0..map_lock_count-1.
//   - AcquireLane() returns a lane that no other caller holds until ReleaseLane(lane) (mutual
//     exclusion per lane). It may block; it must not fail. ReleaseLane(l) happens before the next
//     AcquireLane() that returns l (release/acquire, as a mutex gives): the core relies on it to
//     order one write's map store before the next write's RTT scan on the same lane.
//   - LockMap(i)/UnlockMap(i): an exclusive lock per index. The core never holds two map locks,
//     and always takes a lane before a map lock (lock order: lane, then map).
//   - Pause(): called inside every spin-wait (RTT wait, read re-validation); yield or relax.
//   - None of these allocate after Init.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "btt/types.h"
#include "util/status.h"

namespace tearproof::btt {

class Sync {
 public:
  virtual ~Sync() = default;
  virtual Status Init(uint32_t lane_count, uint32_t map_lock_count) = 0;
  virtual Lane AcquireLane() = 0;
  virtual void ReleaseLane(Lane lane) = 0;
  virtual void LockMap(uint32_t index) = 0;
  virtual void UnlockMap(uint32_t index) = 0;
  virtual void Pause() = 0;
};

// A one-word mutex for ThreadSync: taking or dropping an uncontended lock is one atomic
// read-modify-write each, inline; a contended lock() sleeps on the word (a Linux futex). States:
// 0 free, 1 held, 2 held and someone may be waiting (the classic three-state futex mutex, Drepper
// "Futexes Are Tricky", mutex 2), so unlock() only wakes when there may be a sleeper. Every I/O
// takes a lane and every write a map lock, so this sits on the hottest path of the core: a
// std::mutex costs about four times as many instructions here.
//
// The futex calls are made directly, not through std::atomic::wait/notify_one: with GCC 12's
// libstdc++ (Debian bookworm) a waiter in std::atomic<uint32_t>::wait was seen asleep on a word
// that had long been unlocked, with no notify reaching it (two threads writing through one Btt
// in tearproof_btt_bench; the waiter ran on only when a debugger interrupted the futex). A
// direct FUTEX_WAIT sleeps only while the word still holds 2 (the kernel checks it under its
// own lock), and every unlock that sees 2 issues the FUTEX_WAKE, so no wake-up can be lost.
class WordLock {
 public:
  bool try_lock() {
    uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void lock() {
    uint32_t seen = 0;
    if (state_.compare_exchange_strong(seen, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    LockContended(seen);
  }
  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == 2) WakeOne();
  }

 private:
  // The slow paths, out of line (btt/sync.cc): `seen` is the value the failed CAS found.
  void LockContended(uint32_t seen);
  void WakeOne();

  std::atomic<uint32_t> state_{0};
};

// Real threads: one WordLock per lane and per map lock. A thread starts at a lane derived from
// its id and takes the first free lane (try_lock round), else blocks on its home lane.
class ThreadSync final : public Sync {
 public:
  Status Init(uint32_t lane_count, uint32_t map_lock_count) override;
  Lane AcquireLane() override;
  void ReleaseLane(Lane lane) override;
  void LockMap(uint32_t index) override;
  void UnlockMap(uint32_t index) override;
  void Pause() override;

 private:
  // A cache-line padded lock: neighbouring lanes do not share a line.
  struct alignas(64) PaddedLock {
    WordLock lock;
  };
  uint32_t lane_count_ = 0;
  uint32_t map_lock_count_ = 0;
  std::unique_ptr<PaddedLock[]> lanes_;
  std::unique_ptr<PaddedLock[]> map_locks_;
  std::atomic<uint32_t> next_home_{0};
};

// RAII helpers used by the core.
class LaneGuard {
 public:
  explicit LaneGuard(Sync& sync) : sync_(sync), lane_(sync.AcquireLane()) {}
  ~LaneGuard() { sync_.ReleaseLane(lane_); }
  LaneGuard(const LaneGuard&) = delete;
  LaneGuard& operator=(const LaneGuard&) = delete;
  Lane lane() const { return lane_; }

 private:
  Sync& sync_;
  Lane lane_;
};

class MapLockGuard {
 public:
  MapLockGuard(Sync& sync, uint32_t index) : sync_(sync), index_(index) { sync_.LockMap(index_); }
  ~MapLockGuard() { sync_.UnlockMap(index_); }
  MapLockGuard(const MapLockGuard&) = delete;
  MapLockGuard& operator=(const MapLockGuard&) = delete;

 private:
  Sync& sync_;
  uint32_t index_;
};

}  // namespace tearproof::btt
