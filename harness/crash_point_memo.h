// harness::CrashPointMemo — the crash points an exploration (or several) has judged, so that an
// identical crash point is judged once (ExploreConfig::Reductions::memo_crash_points).
//
// What makes two crash points identical: the simulated medium is a deterministic function of the
// operations applied to it since it was created (stores with their bytes, flushes, fences, each
// with the lane that issued it; loads change nothing that survives a crash), so two crash points
// with the same operation sequence have the same set of crash states. The oracle's verdict on
// those states also depends on what each tracked LBA may show (ExploreConfig's expectation) and on
// the configuration (geometry, model, oracle switches). The memo interns operation sequences in a
// trie of exact keys (no hashing: a node is identified by its parent node and the operation, and
// store data is compared byte for byte), and remembers the (node, expectation) pairs judged. A
// crash point seen again is the same crash point, judged already: skipping it cannot change a
// verdict. Executions of a bounded schedule search (different schedules that issue the same
// operations in the same order, e.g. differing only where loads interleave) and explorations of
// workloads sharing a prefix (the standard matrix shares one memo per cell) meet the same points.
//
// A memo is bound to one configuration signature (everything but the workload); using it with
// another is an error. Since every exploration of that configuration formats the same medium, the
// memo also keeps the freshly formatted medium (and its node) for the explorations after the
// first to copy. Deterministic, not thread-safe (one exploration at a time).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/medium.h"
#include "util/status.h"

namespace tearproof::harness {

class CrashPointMemo {
 public:
  // Binds the memo to a configuration on first use; a different signature later is an error.
  Status Bind(const std::string& config_signature);
  // The operation cursor: node 0 is a fresh medium; Restart(cursor()) returns to where a medium
  // was (an execution that starts from a copy of a prepared medium).
  uint64_t cursor() const { return cursor_; }
  void Restart(uint64_t node) { cursor_ = node; }
  // The operations applied to the explored medium, in order.
  void OnWrite(uint32_t lane, uint64_t offset, std::span<const std::byte> data);
  void OnFlush(uint32_t lane, uint64_t offset, uint64_t size_bytes);
  void OnFence(uint32_t lane);
  // True the first time a crash point with the current operation sequence and this expectation
  // (an encoding of what each tracked LBA may show) is seen; the caller then judges it.
  bool FirstVisit(std::vector<uint64_t> expectation);

  // The medium right after format (nothing pending on it) and the node it is at; null until an
  // exploration keeps one.
  const sim::Medium* formatted() const { return formatted_ ? &*formatted_ : nullptr; }
  uint64_t formatted_node() const { return formatted_node_; }
  void KeepFormatted(const sim::Medium& medium, uint64_t node) {
    formatted_.emplace(medium.MaterializeCrash(medium.GuaranteedState()));
    formatted_node_ = node;
  }

  uint64_t nodes() const { return children_.size(); }
  uint64_t points() const { return judged_.size(); }

 private:
  enum class Kind : uint8_t { kWrite, kFlush, kFence };
  // parent node, kind, lane, offset, size, data blob (writes) -> child node
  using Edge = std::tuple<uint64_t, Kind, uint32_t, uint64_t, uint64_t, uint64_t>;
  void Step(Kind kind, uint32_t lane, uint64_t offset, uint64_t size_bytes, uint64_t blob);
  uint64_t InternBlob(std::span<const std::byte> data);

  struct BlobLess {
    using is_transparent = void;
    bool operator()(std::span<const std::byte> a, std::span<const std::byte> b) const;
  };

  std::string signature_;
  bool bound_ = false;
  uint64_t cursor_ = 0;  // node 0 is the fresh medium
  std::map<Edge, uint64_t> children_;
  std::deque<std::vector<std::byte>> blobs_;  // stable storage for the keys of blob_ids_
  std::map<std::span<const std::byte>, uint64_t, BlobLess> blob_ids_;
  std::set<std::pair<uint64_t, std::vector<uint64_t>>> judged_;
  std::optional<sim::Medium> formatted_;
  uint64_t formatted_node_ = 0;
};

}  // namespace tearproof::harness
