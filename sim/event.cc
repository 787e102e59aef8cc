#include "sim/event.h"

#include <cstdio>

namespace tearproof::sim {

const char* PersistencyModelName(PersistencyModel model) {
  switch (model) {
    case PersistencyModel::kPx86: return "px86";
    case PersistencyModel::kWord8: return "word8";
    case PersistencyModel::kEadr: return "eadr";
  }
  return "unknown";
}

std::optional<PersistencyModel> ParsePersistencyModel(std::string_view name) {
  for (PersistencyModel m : kAllPersistencyModels) {
    if (name == PersistencyModelName(m)) return m;
  }
  return std::nullopt;
}

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kStore: return "store";
    case EventKind::kStoreNt: return "store_nt";
    case EventKind::kClflush: return "clflush";
    case EventKind::kClflushopt: return "clflushopt";
    case EventKind::kClwb: return "clwb";
    case EventKind::kSfence: return "sfence";
    case EventKind::kMfence: return "mfence";
  }
  return "unknown";
}

std::optional<EventKind> ParseEventKind(std::string_view name) {
  for (EventKind k : {EventKind::kStore, EventKind::kStoreNt, EventKind::kClflush,
                      EventKind::kClflushopt, EventKind::kClwb, EventKind::kSfence,
                      EventKind::kMfence}) {
    if (name == EventKindName(k)) return k;
  }
  return std::nullopt;
}

bool IsStore(EventKind kind) { return kind == EventKind::kStore || kind == EventKind::kStoreNt; }
bool IsFlush(EventKind kind) {
  return kind == EventKind::kClflush || kind == EventKind::kClflushopt || kind == EventKind::kClwb;
}
bool IsFence(EventKind kind) { return kind == EventKind::kSfence || kind == EventKind::kMfence; }

uint64_t Event::size_bytes() const {
  if (IsStore(kind)) return data.size();
  if (IsFlush(kind)) return kLineBytes;
  return 0;
}

std::string Event::ToString() const {
  char head[160];
  std::snprintf(head, sizeof(head), "#%llu lane %u %s", static_cast<unsigned long long>(seq),
                LaneIndex(lane), EventKindName(kind));
  std::string out = head;
  if (IsFence(kind)) return out;
  char addr_text[64];
  std::snprintf(addr_text, sizeof(addr_text), " addr 0x%llx",
                static_cast<unsigned long long>(addr));
  out += addr_text;
  if (IsStore(kind)) {
    out += " size " + std::to_string(data.size()) + " data ";
    static const char kHex[] = "0123456789abcdef";
    for (std::byte b : data) {
      out += kHex[static_cast<uint8_t>(b) >> 4];
      out += kHex[static_cast<uint8_t>(b) & 15];
    }
  }
  return out;
}

Event StoreEvent(LaneId lane, uint64_t addr, std::vector<std::byte> data, bool non_temporal) {
  Event e;
  e.kind = non_temporal ? EventKind::kStoreNt : EventKind::kStore;
  e.lane = lane;
  e.addr = addr;
  e.data = std::move(data);
  return e;
}

Event FlushEvent(LaneId lane, EventKind kind, uint64_t addr) {
  Event e;
  e.kind = kind;
  e.lane = lane;
  e.addr = addr;
  return e;
}

Event FenceEvent(LaneId lane, EventKind kind) {
  Event e;
  e.kind = kind;
  e.lane = lane;
  return e;
}

}  // namespace tearproof::sim
