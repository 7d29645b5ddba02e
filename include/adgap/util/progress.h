// Progress of a long loop on a log stream: "label  done/total  rate/s  note  ~time left".
// On a terminal the line is redrawn in place (at most ten times a second); into a file or a
// pipe a plain line is written at most every kQuietSeconds, so a log shows progress too.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace adgap {

class Progress {
 public:
  static constexpr double kQuietSeconds = 5.0;  // between lines when not on a terminal

  // Silent when `os` is null or `enabled` is false. Off a terminal the last update (done ==
  // total) is always written when `report_end`, so a log shows the loop's rate.
  Progress(std::ostream* os, int64_t total, std::string label, bool enabled = true,
           bool report_end = true);
  // Reports `done` of `total` with a trailing note (rate-limited as above).
  void update(int64_t done, const std::string& note = "");
  // Erases a terminal line, so the next output starts clean.
  void finish();

  // "3 min 20 s", "45 s": for the time left.
  static std::string duration_text(double seconds);

 private:
  std::string line(int64_t done, const std::string& note) const;
  std::ostream* os_;
  int64_t total_;
  std::string label_;
  bool enabled_, terminal_, report_end_;
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

}  // namespace adgap
