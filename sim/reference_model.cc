#include "sim/reference_model.h"

#include <string>

namespace tearproof::sim {

namespace {

// One store's new value of one word.
struct RefPiece {
  uint64_t word_index;  // in the region
  uint64_t value;
  bool non_temporal;
  uint32_t lane;
  size_t event_index;   // position of its store in the event list
};

bool IsFenceOf(const Event& e, uint32_t lane) { return IsFence(e.kind) && LaneIndex(e.lane) == lane; }

// Is the piece certainly persisted at the end of the program?
bool Guaranteed(const RefPiece& p, std::span<const Event> events, PersistencyModel model) {
  const uint64_t line = p.word_index / kWordsPerLine;
  if (p.non_temporal) {
    // A non-temporal store is durable once its own lane fences.
    for (size_t j = p.event_index + 1; j < events.size(); ++j) {
      if (IsFenceOf(events[j], p.lane)) return true;
    }
    return false;
  }
  if (model == PersistencyModel::kEadr) return true;  // caches are persistent
  for (size_t j = p.event_index + 1; j < events.size(); ++j) {
    const Event& e = events[j];
    if (!IsFlush(e.kind) || e.addr / kLineBytes != line) continue;
    if (e.kind == EventKind::kClflush) return true;  // clflush orders itself
    // clwb / clflushopt: durable once the flushing lane fences afterwards.
    for (size_t k = j + 1; k < events.size(); ++k) {
      if (IsFenceOf(events[k], LaneIndex(e.lane))) return true;
    }
  }
  return false;
}

}  // namespace

Result<std::set<CrashImage>> ReferenceCrashStates(std::span<const Event> events,
                                                  PersistencyModel model, uint64_t region_bytes,
                                                  const ReferenceLimits& limits) {
  if (region_bytes == 0 || region_bytes % kLineBytes != 0) {
    return InvalidArgument("reference: region_bytes must be a positive multiple of 64");
  }
  // 1. Replay the visible memory byte by byte and cut every store into word pieces.
  std::vector<uint8_t> memory(region_bytes, 0);
  std::vector<RefPiece> pieces;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const uint64_t size = IsFlush(e.kind) ? 1 : e.size_bytes();  // a flush names one byte's line
    if (e.addr >= region_bytes || size > region_bytes - e.addr) {
      return OutOfRange("reference: event outside the region: " + e.ToString());
    }
    if (!IsStore(e.kind) || e.data.empty()) continue;
    for (size_t b = 0; b < e.data.size(); ++b) memory[e.addr + b] = static_cast<uint8_t>(e.data[b]);
    const uint64_t first_word = e.addr / kWordBytes;
    const uint64_t last_word = (e.addr + e.data.size() - 1) / kWordBytes;
    for (uint64_t w = first_word; w <= last_word; ++w) {
      uint64_t value = 0;
      for (int b = 7; b >= 0; --b) value = (value << 8) | memory[w * kWordBytes + b];
      pieces.push_back(RefPiece{w, value, e.kind == EventKind::kStoreNt, LaneIndex(e.lane), i});
    }
  }

  // 2. Per line, every subset of the unguaranteed pieces that the model allows.
  const uint64_t line_count = region_bytes / kLineBytes;
  std::vector<std::set<std::vector<uint64_t>>> line_images(line_count);
  for (uint64_t line = 0; line < line_count; ++line) {
    std::vector<RefPiece> mine;
    std::vector<bool> guaranteed;
    std::vector<size_t> free_positions;
    for (const RefPiece& p : pieces) {
      if (p.word_index / kWordsPerLine != line) continue;
      guaranteed.push_back(Guaranteed(p, events, model));
      if (!guaranteed.back()) free_positions.push_back(mine.size());
      mine.push_back(p);
    }
    if (free_positions.size() > limits.max_free_pieces_per_line) {
      return Unsupported("reference: line " + std::to_string(line) + " has " +
                         std::to_string(free_positions.size()) + " unguaranteed pieces");
    }
    for (uint64_t mask = 0; mask < (uint64_t{1} << free_positions.size()); ++mask) {
      std::vector<bool> persisted = guaranteed;
      for (size_t f = 0; f < free_positions.size(); ++f) {
        if (mask >> f & 1) persisted[free_positions[f]] = true;
      }
      if (model == PersistencyModel::kPx86) {
        // Cached stores to one line persist in store order: no persisted cached piece may
        // follow an unpersisted one.
        bool gap = false, ok = true;
        for (size_t i = 0; i < mine.size(); ++i) {
          if (mine[i].non_temporal) continue;
          if (!persisted[i]) gap = true;
          if (persisted[i] && gap) ok = false;
        }
        if (!ok) continue;
      }
      // Each word holds its latest persisted piece, or zero.
      std::vector<uint64_t> image(kWordsPerLine, 0);
      for (size_t i = 0; i < mine.size(); ++i) {
        if (persisted[i]) image[mine[i].word_index % kWordsPerLine] = mine[i].value;
      }
      line_images[line].insert(image);
    }
  }

  // 3. Lines are independent: the crash states are the cartesian product of the line images.
  std::set<CrashImage> states;
  states.insert(CrashImage{});
  for (uint64_t line = 0; line < line_count; ++line) {
    if (states.size() * line_images[line].size() > limits.max_states) {
      return Unsupported("reference: more than " + std::to_string(limits.max_states) + " states");
    }
    std::set<CrashImage> next;
    for (const CrashImage& prefix : states) {
      for (const std::vector<uint64_t>& img : line_images[line]) {
        CrashImage joined = prefix;
        joined.insert(joined.end(), img.begin(), img.end());
        next.insert(std::move(joined));
      }
    }
    states = std::move(next);
  }
  return states;
}

}  // namespace tearproof::sim
