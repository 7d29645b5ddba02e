// Numbers from digits: detections that stand side by side on one line (similar heights,
// overlapping vertically, small gaps) are read together, left to right, as one number. A
// digit with no neighbour is a number of one digit.
#pragma once

#include <opencv2/core/mat.hpp>
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

// The number's text with the marks that stand between its digits in `gray` (8-bit, the image
// the detections are in): "-", ".", "," or ":", as in "8-1-09", "13.99", "1,500", "12:45". A
// mark is ink of the digits' own polarity (Otsu's level over the digits and the gaps) alone in
// the gap between two neighbouring digits, not touching them: a short bar at mid-height is
// "-", a dot on the baseline ".", one with a tail below it ",", two dots one above the other
// ":". Anything else in a gap (noise, a stroke the size of a digit) adds nothing: the digits
// alone, as `g.text`.
std::string text_with_separators(const cv::Mat& gray, const NumberGroup& g,
                                 const std::vector<Detection>& dets);

// group_numbers' numbers, where two on one line with such a mark in the gap between them (up to
// `max_gap` of the taller digit's height: a wide font's "-") are joined into one, as the
// "8", "1" and "09" of "8-1-09"; each with its text_with_separators.
struct SeparatedNumber {
  NumberGroup group;
  std::string separators;
};
std::vector<SeparatedNumber> read_separated_numbers(const cv::Mat& gray,
                                                    const std::vector<Detection>& dets,
                                                    double max_gap = 1.6);

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
