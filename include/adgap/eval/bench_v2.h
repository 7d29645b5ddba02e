// Scoring a detector on benchmark v2's scenes: detection and reading (IoU >= 0.5), candidate
// recall (a candidate box at IoU >= 0.5 before the reader), numbers read exactly, detections on
// the letter strings, and the recall of each condition (digit height, polarity, style, alone or
// in a number, contrast, scene size) so a weakness shows.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "adgap/detect/detect.h"
#include "adgap/eval/matching.h"
#include "adgap/scene/scene_v2.h"

namespace adgap {

// Per truth: the index of the detection matched to it (greedy by score, IoU >= min_iou), or -1.
std::vector<int> assign_detections(const std::vector<Detection>& dets,
                                   const std::vector<DigitTruth>& truths, double min_iou = 0.5);

struct BucketCounts {
  int64_t truths = 0;
  int64_t covered = 0;  // with a candidate at IoU >= 0.5
  int64_t found = 0;    // matched by a detection
  int64_t read = 0;     // matched and read right
};

struct V2Counts {
  MatchCounts det;
  int64_t covered = 0;        // digits with a candidate at IoU >= 0.5
  int64_t numbers = 0;        // numbers of 2-8 digits in the truth
  int64_t numbers_exact = 0;  // ... read exactly: a number read with the same text, IoU >= 0.5
  int64_t distractors = 0;    // letter strings
  int64_t distractor_hits = 0;  // detections centred on a letter string
  int64_t scenes = 0;
  double megapixels = 0;
  // condition -> bucket -> counts, e.g. "height" -> "20-40 px".
  std::map<std::string, std::map<std::string, BucketCounts>> by;

  double candidate_recall() const { return det.truths ? double(covered) / det.truths : 0; }
  double numbers_exact_rate() const { return numbers ? double(numbers_exact) / numbers : 0; }
  V2Counts& operator+=(const V2Counts& o);
  nlohmann::json to_json() const;
};

// What a detector returns for a scene: its detections and every candidate box it classified.
struct V2Output {
  std::vector<Detection> detections;
  std::vector<cv::Rect> candidates;
};
using V2Detector = std::function<V2Output(const cv::Mat& gray)>;

// Scores one scene's output.
V2Counts score_scene_v2(const SceneV2& scene, const V2Output& out);

// Scores `detect` on scenes; `each`, when given, sees every scene's output.
V2Counts evaluate_v2(const std::vector<SceneV2>& scenes, const V2Detector& detect,
                     const std::function<void(size_t, const V2Output&)>& each = nullptr);

// The per-condition table as Markdown: one row per condition and bucket (digits, candidate
// recall, detection recall, reading recall).
std::string conditions_markdown(const V2Counts& c);

}  // namespace adgap
