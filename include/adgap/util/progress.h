// A one-line progress bar, redrawn in place on a terminal and silent otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace adgap {

class ProgressBar {
 public:
  // Draws only when `os` is std::cerr/std::cout attached to a terminal and `enabled`.
  ProgressBar(std::ostream* os, int64_t total, std::string label, bool enabled = true);
  // Redraws (at most ~10 times a second) with `done` of `total` and a trailing note.
  void update(int64_t done, const std::string& note = "");
  // Erases the bar so the next line starts clean.
  void finish();

 private:
  std::ostream* os_;
  int64_t total_;
  std::string label_;
  bool active_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace adgap
