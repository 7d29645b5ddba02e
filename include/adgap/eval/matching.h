// Scoring detections against ground truth: greedy one-to-one matching at an IoU threshold,
// then precision, recall, F1 and reading accuracy.
#pragma once

#include <nlohmann/json.hpp>
#include <opencv2/core/types.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "adgap/detect/detect.h"
#include "adgap/scene/scene.h"

namespace adgap {

// Scores as probabilities: detections binned by score (ten equal bins over [0, 1]); per bin,
// the detections, those right (matched to a digit and read right) and the sum of their scores.
struct Reliability {
  static constexpr int kBins = 10;
  std::array<int64_t, kBins> count{}, right{};
  std::array<double, kBins> score_sum{};

  void add(double score, bool is_right);
  Reliability& operator+=(const Reliability& o);
  int64_t total() const;
  // Expected calibration error: over the bins, count / total * |right / count - mean score|
  // (0 when there is no detection).
  double ece() const;
  // {"ece", "bins": [{"from", "to", "detections", "right", "mean_score"}]}
  nlohmann::json to_json() const;
};

struct MatchCounts {
  int64_t truths = 0;      // ground-truth digits
  int64_t detections = 0;  // detections made
  int64_t matched = 0;     // detections matched to a truth at IoU >= threshold
  int64_t read = 0;        // matched and labelled right
  Reliability reliability;  // of the detections' scores against "read right"

  double precision() const { return detections ? double(matched) / detections : 0.0; }
  double recall() const { return truths ? double(matched) / truths : 0.0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
  // F1 of reading: a detection counts when it matches a digit and reads it right.
  double reading_f1() const {
    const double p = detections ? double(read) / detections : 0.0, r = reading_accuracy();
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
  // Fraction of ground-truth digits found and read right.
  double reading_accuracy() const { return truths ? double(read) / truths : 0.0; }
  // Fraction of matched detections whose label is right.
  double label_accuracy() const { return matched ? double(read) / matched : 0.0; }

  MatchCounts& operator+=(const MatchCounts& o);
  nlohmann::json to_json() const;
};

// Per truth: the index of the detection matched to it, or -1. Detections are matched in
// descending score order, each to the unmatched truth of highest IoU (at least min_iou).
std::vector<int> assign_detections(const std::vector<Detection>& dets,
                                   const std::vector<DigitTruth>& truths, double min_iou = 0.5);

// Counts of a matching `owner` (assign_detections' result for these detections and truths).
MatchCounts count_matches(const std::vector<Detection>& dets,
                          const std::vector<DigitTruth>& truths, const std::vector<int>& owner);

// Counts of assign_detections' matching.
MatchCounts match_detections(const std::vector<Detection>& dets,
                             const std::vector<DigitTruth>& truths, double min_iou = 0.5);

// How many of `truths` some box of `boxes` overlaps at IoU >= min_iou (candidate recall's
// numerator).
int64_t covered_truths(const std::vector<cv::Rect>& boxes, const std::vector<DigitTruth>& truths,
                       double min_iou = 0.5);

// The detections whose centre lies in none of the `ignore` regions (regions whose digits are
// not annotated: detections there count neither way).
std::vector<Detection> drop_ignored(const std::vector<Detection>& dets,
                                    const std::vector<cv::Rect>& ignore);

// A detector under evaluation: an 8-bit gray image in, detections out.
using SceneDetector = std::function<std::vector<Detection>(const cv::Mat& gray)>;

// Runs `detect` on every scene and adds up the matches; `each`, when given, sees every
// scene's detections (for saving examples).
MatchCounts evaluate_on_scenes(
    const std::vector<Scene>& scenes, const SceneDetector& detect,
    const std::function<void(size_t, const std::vector<Detection>&)>& each = nullptr);

}  // namespace adgap
