#include "adgap/util/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace adgap {

namespace {
bool is_terminal(const std::ostream* os) {
  if (os == &std::cerr) return ::isatty(STDERR_FILENO);
  if (os == &std::cout) return ::isatty(STDOUT_FILENO);
  return false;
}
}  // namespace

Progress::Progress(std::ostream* os, int64_t total, std::string label, bool enabled,
                   bool report_end)
    : os_(os),
      total_(total),
      label_(std::move(label)),
      enabled_(enabled && os && total > 0),
      terminal_(is_terminal(os)),
      report_end_(report_end),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

std::string Progress::duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  if (t < 60) return std::to_string(t) + " s";
  if (t < 3600) return std::to_string(t / 60) + " min " + std::to_string(t % 60) + " s";
  return std::to_string(t / 3600) + " h " + std::to_string(t % 3600 / 60) + " min";
}

std::string Progress::line(int64_t done, const std::string& note) const {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? done / secs : 0;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s  %lld/%lld  %.1f/s", label_.c_str(),
                static_cast<long long>(done), static_cast<long long>(total_), rate);
  std::string s = buf;
  if (!note.empty()) s += "  " + note;
  if (done < total_ && rate > 0) s += "  ~" + duration_text((total_ - done) / rate) + " left";
  return s;
}

void Progress::update(int64_t done, const std::string& note) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (terminal_) {
    if (done < total_ && drawn_ && since < 0.1) return;
    *os_ << "\r" << line(done, note) << "\x1b[K" << std::flush;
    drawn_ = true;
  } else {
    if (done < total_ && since < kQuietSeconds) return;
    if (done == total_ && !report_end_ && since < kQuietSeconds) return;
    *os_ << line(done, note) << std::endl;
    drawn_ = true;
  }
  last_ = now;
}

void Progress::finish() {
  if (enabled_ && terminal_ && drawn_) *os_ << "\r\x1b[K" << std::flush;
}

}  // namespace adgap
