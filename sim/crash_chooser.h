// Choice sources for lazily resolved crash views (Medium::LazyCrash).
//
// A lazy crash view decides the post-crash value of a word only when the word is first read. At
// that moment it asks its CrashChooser to pick one of the word's candidate values (those still
// consistent with the words of the same line already resolved). Candidates are ordered
// deterministically: index 0 is always the value at the word's guaranteed persist point, then the
// later stored values in store order (duplicates removed).
//
// OdometerChooser enumerates every resolution of what was read, depth first:
//   auto odometer = std::make_shared<OdometerChooser>();
//   do {
//     Medium crashed = medium.LazyCrash(odometer);
//     RunRecovery(crashed);                     // reads resolve words through the odometer
//   } while (odometer->Advance());
// Each run replays the recorded choices and takes index 0 for new ones; Advance() bumps the last
// choice that has a successor and forgets the choices after it. The recovery run must be
// deterministic given the values it reads (asserted: INV-SIM-ODOMETER-REPLAY). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/prng.h"

namespace tearproof::sim {

class CrashChooser {
 public:
  virtual ~CrashChooser() = default;
  // Returns an index in [0, candidate_count) for the word at word_addr. candidate_count >= 2.
  virtual uint32_t Choose(uint64_t word_addr, uint32_t candidate_count) = 0;
};

class OdometerChooser : public CrashChooser {
 public:
  struct Choice {
    uint64_t word_addr = 0;
    uint32_t candidate_count = 0;
    uint32_t index = 0;
  };

  uint32_t Choose(uint64_t word_addr, uint32_t candidate_count) override;

  // Moves to the next resolution. Returns false (and leaves the odometer exhausted) when every
  // resolution of the words read has been visited.
  bool Advance();

  // The choices of the current run so far, in the order the words were read.
  const std::vector<Choice>& choices() const { return choices_; }
  // Runs started so far (1 + successful Advance calls): the resolutions visited.
  uint64_t runs() const { return runs_; }

 private:
  std::vector<Choice> choices_;
  size_t position_ = 0;  // next choice to replay in the current run
  uint64_t runs_ = 1;
};

// Picks uniformly at random from a seed: one random crash state per view.
class SeededChooser : public CrashChooser {
 public:
  explicit SeededChooser(uint64_t seed) : prng_(seed) {}
  uint32_t Choose(uint64_t word_addr, uint32_t candidate_count) override;

 private:
  Prng prng_;
};

// Always index `index` clamped to the last candidate: 0 = "nothing unguaranteed persisted" (per
// word), UINT32_MAX = "the latest candidate".
class FixedChooser : public CrashChooser {
 public:
  explicit FixedChooser(uint32_t index) : index_(index) {}
  uint32_t Choose(uint64_t word_addr, uint32_t candidate_count) override;

 private:
  uint32_t index_;
};

}  // namespace tearproof::sim
