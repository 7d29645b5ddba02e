#include "adgap/util/progress.h"

#include <unistd.h>

#include <iostream>

namespace adgap {

namespace {
bool is_terminal(const std::ostream* os) {
  if (os == &std::cerr) return ::isatty(STDERR_FILENO);
  if (os == &std::cout) return ::isatty(STDOUT_FILENO);
  return false;
}
}  // namespace

ProgressBar::ProgressBar(std::ostream* os, int64_t total, std::string label, bool enabled)
    : os_(os),
      total_(total),
      label_(std::move(label)),
      active_(enabled && os && total > 0 && is_terminal(os)) {}

void ProgressBar::update(int64_t done, const std::string& note) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  constexpr int kWidth = 30;  // characters of bar
  const int filled = static_cast<int>(kWidth * done / total_);
  *os_ << "\r" << label_ << " [" << std::string(filled, '#') << std::string(kWidth - filled, '.')
       << "] " << done << "/" << total_ << " " << note << "\x1b[K" << std::flush;
}

void ProgressBar::finish() {
  if (active_) *os_ << "\r\x1b[K" << std::flush;
}

}  // namespace adgap
