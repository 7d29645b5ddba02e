// Numbers from digits: detections that stand side by side on one line (similar heights,
// overlapping vertically, small gaps) are read together, left to right, as one number. A
// digit with no neighbour is a number of one digit.
#pragma once

#include <opencv2/core/types.hpp>

#include <string>
#include <vector>

#include "adgap/detect/detect.h"

namespace adgap {

struct NumberConfig {
  double max_gap = 0.8;           // gap between neighbours, in units of the taller one's height
  double max_overlap = 0.35;      // horizontal overlap allowed, fraction of the narrower width
  double min_height_ratio = 0.6;  // smaller height / larger height
  double min_v_overlap = 0.5;     // vertical overlap, fraction of the smaller height
};

struct NumberGroup {
  cv::Rect box;             // union of its digits' boxes
  std::string text;         // labels left to right, e.g. "2024"
  std::vector<int> digits;  // indices into the detections, left to right
  float score = 0;          // product of the digits' scores
};

// Groups `dets` into numbers, ordered by top edge, then left edge.
std::vector<NumberGroup> group_numbers(const std::vector<Detection>& dets,
                                       const NumberConfig& cfg = {});

// Digits among letters: the numbers of `groups` (over `dets`) with `min_letters` characters of
// `letters` in a row just before their first digit or just after their last, or one on each
// side, are taken for digit-like letters of a word (the O of "DOUBLE", the I of "TIMES"). A
// character is of a similar height (0.7-1.3 of the digit's), shares the digit's top or
// baseline, is neither a thin line nor much wider than tall, and stands within `max_gap` of
// the digit's height of the digit or of the character before it (of boxes beside one, the
// largest: a whole character rather than a piece). `letters`: boxes taken for letters; those
// overlapping a detection (a piece of it) do not count. Returns, per detection, whether it is
// in such a number.
std::vector<bool> among_letters(const std::vector<Detection>& dets,
                                const std::vector<NumberGroup>& groups,
                                const std::vector<cv::Rect>& letters, double max_gap,
                                int min_letters);

}  // namespace adgap
