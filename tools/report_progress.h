// The progress display of `tearproof prove`: the phase, the work done in it, and an estimate of
// the time left in the phase and in the whole campaign, on stderr.
//
// Contract: display only. It reads the wall clock to estimate time left, and nothing it measures
// ever reaches a result (the report's timings are measured separately by the phases). On a
// terminal it redraws one line at most every 0.25 s; otherwise (a log, CI) it prints a line when
// a phase starts, at every 10% of its work, and when it ends, so logs stay short. Disabled, it
// prints nothing. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tearproof::tools {

class Progress {
 public:
  // `estimates_seconds[i]` is the expected duration of phase i; the campaign estimate scales
  // the phases not yet run by how fast the finished ones went against their estimates.
  Progress(bool enabled, std::vector<std::string> phase_names,
           std::vector<double> estimates_seconds);

  // Starts phase `index` with `total` units of work named `unit` ("explorations", "runs", ...).
  void StartPhase(size_t index, uint64_t total, std::string unit);
  // `done` units of the current phase are finished; `item` names what runs now (may be empty).
  void Update(uint64_t done, const std::string& item = "");
  void EndPhase(const std::string& outcome);

 private:
  using Clock = std::chrono::steady_clock;
  double Elapsed(Clock::time_point since) const;
  double CampaignSecondsLeft(double phase_left) const;
  void Draw(bool force);

  bool enabled_;
  bool tty_;
  std::vector<std::string> names_;
  std::vector<double> estimates_;
  std::vector<double> actual_;  // seconds of finished phases
  size_t phase_ = 0;
  uint64_t total_ = 0;
  uint64_t done_ = 0;
  std::string unit_;
  std::string item_;
  Clock::time_point phase_start_;
  Clock::time_point last_draw_;
  uint64_t last_decile_ = 0;
};

// "1:05", "12:30", "1:02:03".
std::string FormatDuration(double seconds);

}  // namespace tearproof::tools
