// The localisation benchmark (`adgap bench-loc`): every method's map measured on generated
// scenes (pointing game, PxAP, MaxBoxAccV2) and end to end (detection precision, recall, F1 at
// IoU >= 0.5, reading accuracy), each method's threshold k (mean + k std) tuned on the tune
// split only; the same tuned settings then run on hand-annotated real photos.
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "adgap/detect/detector.h"
#include "adgap/eval/loc_metrics.h"
#include "adgap/eval/matching.h"
#include "adgap/scene/scene.h"

namespace adgap {

struct LocBenchConfig {
  std::vector<Method> methods = all_methods();
  int64_t eval_count = 500;     // evaluation scenes (seeds from kEvalSplitSeed)
  int64_t tune_count = 100;     // tuning scenes (seeds from kTuneSplitSeed)
  int64_t grid = 4;             // evaluation scenes whose maps are kept for a figure
  bool eval_on_tune = false;    // report on the tune split (for choosing settings)
  bool reader_for_all = false;  // lend the reader to every method, not only adgap
  std::vector<double> ks = {0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0};  // mean + k std candidates
};

// A hand-annotated photo: its digits and regions whose small print is not annotated.
struct RealPhoto {
  std::string path;
  cv::Mat gray;
  std::vector<DigitTruth> digits;
  std::vector<cv::Rect> ignore;
  bool negative = false;  // from the "negatives" list: text, no digit at all
  std::string kind;       // a negative's kind ("stars", "foliage", ...), when the file says
};

// Reads the annotations (bench/real_photos.json: "photos", and "negatives", photos with no
// digit, each may have a "kind"; either list may be absent) and the photos they name, the
// negatives too when `negatives` is set; throws naming the file on a problem (a photo that is
// not installed: with the command that installs the benchmark's photos).
std::vector<RealPhoto> load_real_photos(const std::string& file, bool negatives = false);

struct LocBenchRow {
  std::string method;
  double k = 2;  // tuned threshold
  int64_t pointing_hits = 0, pointing_total = 0;
  PxAP pxap;
  MaxBoxAccV2 boxacc;
  MatchCounts det;           // on the evaluation scenes
  int64_t cand_covered = 0;  // their digits with a candidate at IoU >= 0.5 (before the reader)
  MatchCounts real;          // on the hand-annotated photos
  int64_t real_cand_covered = 0;
  double candidate_recall() const { return det.truths ? double(cand_covered) / det.truths : 0; }
  double real_candidate_recall() const {
    return real.truths ? double(real_cand_covered) / real.truths : 0;
  }
  double pointing_game() const {
    return double(pointing_hits) / std::max<int64_t>(1, pointing_total);
  }
};

struct LocBenchResult {
  LocBenchConfig config;
  uint64_t eval_seed = kEvalSplitSeed;
  std::vector<Scene> eval;  // the scenes reported on
  int64_t tune_scenes = 0;
  int64_t real_photos = 0;
  std::vector<LocBenchRow> rows;                // one per method, in config order
  std::vector<std::vector<cv::Mat>> grid_maps;  // [scene][method] for the first `grid` scenes
};

// Runs the benchmark with `det`'s model, weights, reader and settings (adgap's map mode,
// polarity, border, pyramid, minimum score) on scenes of `digits` (a test split). One line per
// method goes to `log` when given.
LocBenchResult run_loc_bench(const Detector& det, const Dataset& digits,
                             const std::vector<RealPhoto>& real, const LocBenchConfig& cfg,
                             std::ostream* log = nullptr);

// Detection and reading on scenes, one MatchCounts per map mode (`adgap eval-scenes` and the
// demo). `each`, when given, sees every scene's detections per mode.
struct ModeResult {
  MapMode mode;
  MatchCounts counts;
};
std::vector<ModeResult> evaluate_map_modes(
    const Detector& det, const std::vector<Scene>& scenes, const std::vector<MapMode>& modes,
    const std::function<void(MapMode, size_t, const std::vector<Detection>&)>& each = nullptr);

// Scenes `first_seed`, first_seed + 1, ... of `digits` on `backgrounds`.
std::vector<Scene> make_scenes(const Dataset& digits, const std::vector<cv::Mat>& backgrounds,
                               uint64_t first_seed, int64_t count, const SceneConfig& cfg);

}  // namespace adgap
