// Benchmark v2: generated scenes that look like photos with digits in them. Unlike v1
// (scene.h), photos keep their full range, each item's ink is chosen against its own
// surroundings (both polarities in one scene, grey or coloured, contrast 0.2 to 1), digits
// come as numbers of 2-8 digits as well as alone, printed in TrueType fonts (FreeType) as well
// as handwritten (MNIST), rotated up to 15 degrees with mild perspective, 12 px up to 60 % of
// the scene height, under uneven light, blur, noise and JPEG compression, on scenes from
// 320x240 to 2048x1536 and a few of a phone camera's 4000x3000. Letter strings without digits
// stand among them as distractors. Background photos come from several Debian packages and
// are split by photo into train, tune and eval sets that share none.
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adgap/data/dataset.h"
#include "adgap/scene/scene.h"

namespace adgap {

enum class SceneSplit { kTrain, kTune, kEval };
const char* to_string(SceneSplit s);
// "train", "tune" or "eval"; throws std::invalid_argument naming the text otherwise.
SceneSplit parse_scene_split(const std::string& s);

// Digit-free photos for one split (absolute paths; no photo is in two splits). Photos that are
// not installed are skipped; throws std::runtime_error when a split has fewer than 3 left.
std::vector<std::string> v2_background_paths(SceneSplit split);

// A TrueType/OpenType font for printed digits.
struct FontFace {
  std::string name;  // e.g. "DejaVuSans-Bold"
  std::string path;
};
// The fonts of a split: eval and tune use every font, train all but the held-out families
// (URW's), so the benchmark shows how the reader does on faces it never saw.
std::vector<FontFace> v2_fonts(SceneSplit split);

struct SceneV2Config {
  double number_fraction = 0.5;      // items that are numbers of 2-8 digits (else one digit)
  double font_fraction = 0.5;        // items printed in a font (else MNIST handwriting)
  double distractor_fraction = 0.1;  // items that are letter strings (no digit)
  bool any_letter = false;           // letter strings from the whole alphabet, O, I, l, S, B
                                     //   and the like too (else only letters unlike digits):
                                     //   words as photos show them, a digit-like letter among
                                     //   letters
  double colour_fraction = 0.4;      // items in coloured ink
  double plate_fraction = 0.25;      // items on a flat plate (a sign, a label)
  double phone_fraction = 0.03;      // scenes of 4000x3000
  int max_side = 0;                  // > 0: only scene sizes whose longer side is at most this
  int max_items = 5;                 // 0..max_items items per scene
  int min_height = 12;               // px, smallest digit height
  double max_height = 0.6;           // largest digit height, fraction of the scene height
  double min_contrast = 0.2;         // ink against its surroundings, fraction of full range
  double max_rotation = 15;          // degrees
  double max_perspective = 0.06;     // corner jitter, fraction of the item's size
  double max_blur = 1.5;             // Gaussian sigma, px (scaled with the scene size)
  double max_noise = 8;              // grey levels
  double jpeg_fraction = 0.7;        // scenes JPEG-compressed at quality 30-95
};

// Ground truth of a v2 scene, beside what v1 records.
struct DigitTruthV2 {
  DigitTruth truth;           // ink box, label
  bool dark_on_light = true;  // ink darker than its surroundings
  std::string style;          // "mnist" or the font's name
  int number = -1;            // index into SceneV2::numbers, -1 for a digit alone
  double contrast = 0;        // |ink - surroundings| / 255 as placed
};
struct NumberTruth {
  cv::Rect box;
  std::string text;
  std::vector<int> digits;  // indices into SceneV2::digits, left to right
};
struct SceneV2 {
  cv::Mat image;  // 8-bit BGR
  cv::Mat mask;   // CV_8U, 255 on digit ink
  std::vector<DigitTruthV2> digits;
  std::vector<NumberTruth> numbers;
  std::vector<cv::Rect> distractors;  // letter strings' boxes
  std::vector<cv::Rect> letters;      // their letters' boxes
  uint64_t seed = 0;
  SceneSplit split = SceneSplit::kEval;

  // The digits as v1 truth (for the matching and metrics code).
  std::vector<DigitTruth> truths() const;
  // The scene as a v1 Scene (image, mask, digits).
  Scene as_scene() const;
};

// The first seeds of each split's scenes (seed i of a split: first + i).
uint64_t v2_first_seed(SceneSplit split);

// Makes v2 scenes; holds the split's backgrounds and the fonts' rendered glyphs.
class SceneGeneratorV2 {
 public:
  // `digits`: handwritten digits to use (MNIST test for tune and eval, training for train).
  SceneGeneratorV2(const Dataset& digits, SceneSplit split, SceneV2Config cfg = {});
  ~SceneGeneratorV2();
  SceneGeneratorV2(SceneGeneratorV2&&) noexcept;
  SceneV2 make(uint64_t seed) const;
  SceneSplit split() const;
  // Scenes v2_first_seed(split) + first .. + first + count - 1.
  std::vector<SceneV2> make_range(int64_t first, int64_t count) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Ground truth as JSON: {"path", "seed", "split", "width", "height", "digits": [{"box",
// "label", "dark_on_light", "style", "number", "contrast"}], "numbers": [{"box", "text",
// "digits"}]}.
std::string scene_v2_truth_json(const SceneV2& s, const std::string& path);

// Scenes `first` .. first + count - 1 of the generator's split as <dir>/v2-<split>-<seed>.png
// and their truth as a JSON array in <dir>/truth.json; each file written atomically.
void export_scenes_v2(const std::string& dir, const SceneGeneratorV2& gen, int64_t first,
                      int64_t count);

}  // namespace adgap
