#include "tools/report_progress.h"

#include <fmt/core.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace tearproof::tools {

std::string FormatDuration(double seconds) {
  const uint64_t s = seconds < 0 ? 0 : static_cast<uint64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

Progress::Progress(bool enabled, std::vector<std::string> phase_names,
                   std::vector<double> estimates_seconds)
    : enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) == 1),
      names_(std::move(phase_names)),
      estimates_(std::move(estimates_seconds)),
      actual_(names_.size(), -1.0) {
  estimates_.resize(names_.size(), 1.0);
}

double Progress::Elapsed(Clock::time_point since) const {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double Progress::CampaignSecondsLeft(double phase_left) const {
  // How fast this machine is against the estimates, judged on the phases already finished
  // (clamped so that one odd phase cannot make the estimate absurd).
  double estimated_done = 0, actual_done = 0;
  for (size_t i = 0; i < names_.size(); ++i) {
    if (actual_[i] >= 0) {
      estimated_done += estimates_[i];
      actual_done += actual_[i];
    }
  }
  const double speed =
      estimated_done > 1 ? std::clamp(actual_done / estimated_done, 0.25, 4.0) : 1.0;
  double later = 0;
  for (size_t i = phase_ + 1; i < names_.size(); ++i) later += estimates_[i] * speed;
  return phase_left + later;
}

void Progress::StartPhase(size_t index, uint64_t total, std::string unit) {
  phase_ = index;
  total_ = total;
  done_ = 0;
  unit_ = std::move(unit);
  item_.clear();
  phase_start_ = Clock::now();
  last_decile_ = 0;
  Draw(true);
}

void Progress::Update(uint64_t done, const std::string& item) {
  done_ = done;
  if (!item.empty()) item_ = item;
  Draw(false);
}

void Progress::EndPhase(const std::string& outcome) {
  actual_[phase_] = Elapsed(phase_start_);
  if (!enabled_) return;
  std::fprintf(stderr, "%s[%zu/%zu %s] %s in %s\n", tty_ ? "\r\033[K" : "", phase_ + 1,
               names_.size(), names_[phase_].c_str(), outcome.c_str(),
               FormatDuration(actual_[phase_]).c_str());
}

void Progress::Draw(bool force) {
  if (!enabled_) return;
  const double elapsed = Elapsed(phase_start_);
  if (!tty_) {
    // Logs get a line at the start and at every tenth of the work, never a redraw.
    const uint64_t decile = total_ > 0 ? done_ * 10 / total_ : 0;
    if (!force && (decile == last_decile_ || decile >= 10)) return;
    last_decile_ = decile;
  } else if (!force && Elapsed(last_draw_) < 0.25) {
    return;
  }
  last_draw_ = Clock::now();
  double phase_left = estimates_[phase_] - elapsed;
  if (done_ > 0 && total_ >= done_) {
    phase_left = elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_);
  }
  phase_left = std::max(phase_left, 0.0);
  const std::string line = fmt::format(
      "[{}/{} {}] {}/{} {}, {} elapsed, ~{} left (campaign ~{}){}{}", phase_ + 1, names_.size(),
      names_[phase_], done_, total_, unit_, FormatDuration(elapsed), FormatDuration(phase_left),
      FormatDuration(CampaignSecondsLeft(phase_left)), item_.empty() ? "" : ": ", item_);
  if (tty_) {
    // One screen line, or the next redraw would leave the wrapped rest behind.
    winsize size{};
    const size_t columns =
        ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 1 ? size.ws_col - 1 : 79;
    std::fprintf(stderr, "\r\033[K%s", line.substr(0, columns).c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace tearproof::tools
