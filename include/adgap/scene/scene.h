// Generated scenes for measuring localisation: MNIST digits pasted on photo backgrounds, with
// exact ground truth (boxes, labels, pixel masks). A scene depends only on its seed, the digit
// source and the backgrounds, so a benchmark can be regenerated bit for bit.
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "adgap/data/dataset.h"

namespace adgap {

struct SceneConfig {
  int width = 320;     // px
  int height = 240;    // px
  int min_digits = 1;  // per scene
  int max_digits = 4;
  int min_digit_height = 20;  // px of ink
  int max_digit_height = 40;
  double dark_on_light = 0.5;  // probability that a scene has dark strokes on a light ground
  double min_contrast = 0.6;   // stroke-to-background contrast, fraction of full range
  double max_blur = 0.0;       // Gaussian blur sigma upper bound, px
  double max_noise = 0.0;      // additive Gaussian noise sigma upper bound, grey levels
};

// The localisation benchmark's scenes: 400 x 300, 0 to 4 digits 14-120 px high, either
// polarity, contrast 0.3-1, blur up to sigma 1.5 px, noise up to sigma 10 grey levels.
SceneConfig benchmark_scene_config();
inline constexpr uint64_t kTuneSplitSeed = 2000000;  // held-out split for tuning thresholds
inline constexpr uint64_t kEvalSplitSeed = 3000000;  // evaluation split

struct DigitTruth {
  cv::Rect box;  // ink bounding box, pixels
  int label = -1;
  int64_t source_index = -1;  // index into the digit dataset
};

struct Scene {
  cv::Mat image;  // 8-bit BGR
  cv::Mat mask;   // CV_8U, 255 on digit ink
  std::vector<DigitTruth> digits;
  bool dark_on_light = false;
  uint64_t seed = 0;
};

// Photos to paste digits on (BGR); throws ImageError naming an unreadable one.
std::vector<cv::Mat> load_backgrounds(const std::vector<std::string>& paths);

// Photos without digits that Debian's opencv-doc ships (/usr/share/doc/opencv-doc/...).
std::vector<std::string> default_background_paths();
// Other opencv-doc photos, for training scenes only (the reader's mining): never in a
// benchmark split.
std::vector<std::string> training_background_paths();

// One scene. `digits` supplies the digit images (use a test split, never training digits).
Scene make_scene(const Dataset& digits, const std::vector<cv::Mat>& backgrounds, uint64_t seed,
                 const SceneConfig& cfg);

// Scenes first_seed, first_seed + 1, ... as files: <dir>/scene-<seed>.png and their ground
// truth in <dir>/truth.json, [{"path", "seed", "digits": [{"box": [x, y, w, h], "label"}]}]
// (paths relative to dir); each file written atomically.
void export_scenes(const std::string& dir, const Dataset& digits,
                   const std::vector<cv::Mat>& backgrounds, uint64_t first_seed, int64_t count,
                   const SceneConfig& cfg);

}  // namespace adgap
