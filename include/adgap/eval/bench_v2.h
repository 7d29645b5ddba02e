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
#include "adgap/detect/detector.h"
#include "adgap/eval/loc_bench.h"
#include "adgap/eval/matching.h"
#include "adgap/scene/scene_v2.h"

namespace adgap {

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

// Scores one scene's output (`gray`: the scene as the detector saw it, where the numbers'
// separators are read).
V2Counts score_scene_v2(const SceneV2& scene, const cv::Mat& gray, const V2Output& out);

// Scores `detect` on scenes; `each`, when given, sees every scene's output.
V2Counts evaluate_v2(const std::vector<SceneV2>& scenes, const V2Detector& detect,
                     const std::function<void(size_t, const V2Output&)>& each = nullptr);

// The per-condition table as Markdown: one row per condition and bucket (digits, candidate
// recall, detection recall, reading recall).
std::string conditions_markdown(const V2Counts& c);

// The v2 benchmark (`adgap bench-loc`, its default): the detector on the eval split and on a
// set of phone-size scenes, every method's map feeding the same proposals and reader, the
// stroke regions without any map (what the map adds), and the annotated real photos.
struct BenchV2Config {
  std::vector<Method> methods = all_methods();
  int64_t eval_count = 200;    // eval-split scenes for the detector's own results
  int64_t phone_count = 6;     // 4000x3000 scenes (their own eval-split seeds)
  int64_t text_count = 100;    // scenes of the text condition: half the items letter strings
                               //   of the whole alphabet (their own eval-split seeds)
  int64_t methods_count = 20;  // the first eval scenes, for the comparison of maps
  bool on_tune = false;        // report on the tune split (for choosing settings)
};

// Real photos: digits found and read, candidate recall; on a negative, its detections.
struct RealPhotoResult {
  std::string path;
  bool negative = false;
  std::string kind;  // a negative's kind, from the annotations
  MatchCounts det;
  int64_t covered = 0;
};

struct BenchV2Result {
  BenchV2Config config;
  V2Counts eval;   // the detector as configured
  V2Counts phone;  // ... on phone-size scenes
  V2Counts text;   // ... on scenes of the text condition
  struct MethodRow {
    std::string method;
    V2Counts hotspots;    // the method's map hotspots alone, read by the same reader
    V2Counts with_regions;  // hotspots joined with the stroke regions (the detector's chain)
  };
  std::vector<MethodRow> methods;
  V2Counts regions_only;  // stroke regions, no map at all
  std::vector<RealPhotoResult> real;
};

// Phone-size scenes of a split: their seeds start this far after the split's first seed.
inline constexpr int64_t kPhoneSceneOffset = 500000;
// Scenes of the text condition (SceneV2Config::any_letter, half the items letter strings):
// their seeds start this far after the split's first seed.
inline constexpr int64_t kTextSceneOffset = 600000;
inline constexpr double kTextDistractors = 0.5;

// Runs the benchmark with `det` (which must use ProposalKind::kRegions for the comparison
// rows) on scenes of `digits` (MNIST test). One line per part goes to `log`.
BenchV2Result run_bench_v2(const Detector& det, const Dataset& digits,
                           const std::vector<RealPhoto>& real, const BenchV2Config& cfg,
                           std::ostream* log = nullptr);

// The detector's output on a gray image, candidates included.
V2Output detect_v2(const Detector& det, const cv::Mat& gray);

}  // namespace adgap
