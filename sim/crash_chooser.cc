#include "sim/crash_chooser.h"

#include "util/assert.h"

namespace tearproof::sim {

uint32_t OdometerChooser::Choose(uint64_t word_addr, uint32_t candidate_count) {
  TP_ASSERT(candidate_count >= 2, "INV-SIM-CHOOSER-COUNT");
  if (position_ < choices_.size()) {
    // Replaying: the run must read the same words with the same candidate counts as before,
    // otherwise the odometer would mix resolutions of different runs.
    const Choice& c = choices_[position_];
    TP_ASSERT(c.word_addr == word_addr && c.candidate_count == candidate_count,
              "INV-SIM-ODOMETER-REPLAY");
    ++position_;
    return c.index;
  }
  choices_.push_back(Choice{word_addr, candidate_count, 0});
  ++position_;
  return 0;
}

bool OdometerChooser::Advance() {
  // Choices recorded but not replayed mean the run was not deterministic.
  TP_ASSERT(position_ == choices_.size(), "INV-SIM-ODOMETER-REPLAY");
  while (!choices_.empty() && choices_.back().index + 1 >= choices_.back().candidate_count) {
    choices_.pop_back();
  }
  position_ = 0;
  if (choices_.empty()) return false;
  ++choices_.back().index;
  ++runs_;
  return true;
}

uint32_t SeededChooser::Choose(uint64_t /*word_addr*/, uint32_t candidate_count) {
  TP_ASSERT(candidate_count >= 2, "INV-SIM-CHOOSER-COUNT");
  return static_cast<uint32_t>(prng_.Below(candidate_count));
}

uint32_t FixedChooser::Choose(uint64_t /*word_addr*/, uint32_t candidate_count) {
  TP_ASSERT(candidate_count >= 2, "INV-SIM-CHOOSER-COUNT");
  return index_ < candidate_count ? index_ : candidate_count - 1;
}

}  // namespace tearproof::sim
