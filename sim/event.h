// Vocabulary of the simulated medium: lanes, persistency models, and the recorded events.
//
// An Event is one medium operation (store, non-temporal store, one of the three flushes, a fence)
// issued by one lane. sim::Medium records every operation it performs as an Event (when its event
// log is on), and Medium::Apply replays one, so a recorded log is a complete, replayable program.
// The reference enumerator (reference_model.h) consumes the same Event lists. Plain value types;
// no global state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tearproof::sim {

// A logical CPU issuing medium operations. Distinct type so that lanes cannot be mixed up with
// addresses or counts. Lanes are small integers in [0, kMaxLanes).
enum class LaneId : uint32_t {};
inline constexpr uint32_t kMaxLanes = 256;
constexpr LaneId Lane(uint32_t index) { return static_cast<LaneId>(index); }
constexpr uint32_t LaneIndex(LaneId lane) { return static_cast<uint32_t>(lane); }

inline constexpr uint64_t kWordBytes = 8;
inline constexpr uint64_t kLineBytes = 64;
inline constexpr uint64_t kWordsPerLine = kLineBytes / kWordBytes;

// Which crash states a medium allows; docs/persistency.md defines each one with examples.
enum class PersistencyModel : uint8_t {
  kPx86,   // x86 + ADR: per line a store-order prefix of the unguaranteed stores persists.
  kWord8,  // every aligned word independently holds any of its candidate values.
  kEadr,   // caches are persistent: only unfenced non-temporal stores may be lost.
};
inline constexpr PersistencyModel kAllPersistencyModels[] = {
    PersistencyModel::kEadr, PersistencyModel::kPx86, PersistencyModel::kWord8};

const char* PersistencyModelName(PersistencyModel model);  // "px86", "word8", "eadr"
std::optional<PersistencyModel> ParsePersistencyModel(std::string_view name);

enum class EventKind : uint8_t {
  kStore,       // cached store of data.size() bytes at addr
  kStoreNt,     // non-temporal store (bypasses the cache; durable at the lane's next fence)
  kClflush,     // flush the line containing addr; ordered with later stores on its own
  kClflushopt,  // snapshot the line containing addr; durable at the lane's next fence
  kClwb,        // same persistence semantics as kClflushopt (the line stays cached)
  kSfence,
  kMfence,
};
const char* EventKindName(EventKind kind);  // "store", "store_nt", "clflush", ...
std::optional<EventKind> ParseEventKind(std::string_view name);
bool IsStore(EventKind kind);
bool IsFlush(EventKind kind);
bool IsFence(EventKind kind);

struct Event {
  uint64_t seq = 0;  // position in the recording medium's log (0, 1, 2, ...); Apply ignores it
  EventKind kind = EventKind::kSfence;
  LaneId lane = Lane(0);
  uint64_t addr = 0;            // stores: first byte; flushes: any byte of the line; fences: 0
  std::vector<std::byte> data;  // stores only: the bytes stored (size = data.size())

  // Bytes covered: data.size() for stores, kLineBytes for flushes, 0 for fences.
  uint64_t size_bytes() const;
  // One line, e.g. "#3 lane 1 store addr 0x40 size 8 data 0102030405060708".
  std::string ToString() const;

  friend bool operator==(const Event& a, const Event& b) = default;
};

// Convenience constructors (seq = 0).
Event StoreEvent(LaneId lane, uint64_t addr, std::vector<std::byte> data, bool non_temporal);
Event FlushEvent(LaneId lane, EventKind kind, uint64_t addr);
Event FenceEvent(LaneId lane, EventKind kind);

}  // namespace tearproof::sim
