// From heatmap hotspots to read digits: threshold the AdGAP map, group connected regions into
// character candidates, crop each from the image, normalise it the way MNIST digits are
// (strokes bright, a 20x20 box inside 28x28, centred by mass) and classify it.
#pragma once

#include <opencv2/core/mat.hpp>

#include <functional>
#include <string>
#include <vector>

#include "adgap/detect/proposals.h"
#include "adgap/heatmap/heatmap.h"
#include "adgap/heatmap/threshold.h"

namespace adgap {

// A gray image's [0, 1] map (CV_32F, its size), as the detector computes it.
using MapFunction = std::function<cv::Mat(const cv::Mat&)>;

struct Detection {
  cv::Rect box;     // input pixel coordinates
  int label = -1;   // predicted class
  float score = 0;  // softmax probability of the label
};

// Where candidates come from: the map's hotspots alone (the paper's chain, crops normalised
// like MNIST digits), or the hotspots joined with stroke-region proposals (crops read with
// their surroundings by a reader trained that way).
enum class ProposalKind { kMap, kRegions };

struct DetectConfig {
  ProposalKind proposals = ProposalKind::kMap;
  ProposalConfig regions;      // stroke-region proposals (kRegions)
  bool map_proposals = true;     // kRegions: use the map's hotspots (off: an ablation)
  bool region_proposals = true;  // kRegions: use the stroke regions (off: hotspots alone)
  HeatmapConfig heatmap;      // map mode, polarity, tiling
  ThresholdConfig threshold;  // hotspot extraction (paper: mean + 2 std)
  int merge_gap = 3;          // px: hotspot fragments closer than this form one candidate
  int min_size = 8;           // px: candidates with both sides smaller are dropped
  double max_fraction = 0.5;  // candidates covering more of either image side are dropped
  double margin = 0.25;       // crop margin around a candidate, fraction of its larger side
  double min_score = 0.9;     // minimum softmax probability to keep a detection
  double min_score_alone = 0;  // kRegions: minimum for a digit with no neighbour on its line
                               //   (group_numbers); at or below min_score: no extra test
  LeNet reader{nullptr};      // optional classifier for the crops whose last class means
                              //   "not a digit" (adgap train-reader); empty: the model itself
  LeNet first_reader{nullptr};  // kRegions: an optional cheaper reader run first: crops it
  double first_reject = 0.99;   //   gives P(not a digit) >= first_reject are dropped unread
  LeNet verifier{nullptr};      // kRegions: an optional larger reader that reads again the
  double verify_gate = 0.9;     //   crops the reader gives P(not a digit) < verify_gate; its
  double verify_weight = 0.5;   //   probabilities, mixed with this weight, decide (0.5:
                                //   the mean of the two, chosen on v2's tune split)
  LeNet letter_reader{nullptr};  // kRegions: an optional letter reader (classes: a digit, a
  double letter_level = 0.9;     //   letter, neither): a number with word_letters boxes it
  double word_gap = 0.35;        //   gives P(letter) >= letter_level in a row beside it on its
  int word_letters = 1;          //   line (or one on each side), each within word_gap of the
                                 //   digit's height of the next (among_letters), is taken for
                                 //   letters of a word and dropped
};

// A letter reader's classes (DetectConfig::letter_reader).
inline constexpr int64_t kLetterDigit = 0, kLetterClass = 1, kLetterNeither = 2, kLetterClasses = 3;

// A candidate: its box on the strokes found, and the 28x28 MNIST-style crop.
struct Candidate {
  cv::Rect box;
  cv::Mat digit;  // CV_32F in [0, 1]
};

struct DetectOutput {
  cv::Mat heatmap;                    // CV_32F in [0, 1], input size
  double threshold = 0;               // value the mask was cut at
  cv::Mat mask;                       // CV_8U 0/255
  std::vector<cv::Rect> candidates;   // boxes of the candidates classified (on their strokes)
  std::vector<Detection> detections;  // kept, sorted by top edge, then left edge
};

// Normalises a crop (8-bit gray) to a 28x28 MNIST-style float image in [0, 1], strokes
// bright. `invert` flips dark-on-light strokes. Returns false when the crop holds no strokes.
// `ink` receives the strokes' bounding box inside the crop.
bool mnist_normalize(const cv::Mat& crop, bool invert, cv::Mat& out28, cv::Rect* ink = nullptr);

// Threshold, group and normalise: the candidates of a map (fills `out`'s map, threshold, mask
// and candidate boxes when given).
std::vector<Candidate> extract_candidates(const cv::Mat& gray, const cv::Mat& h01,
                                          const DetectConfig& cfg, DetectOutput* out = nullptr);

// (K, 1, 28, 28) float tensor of the candidates' crops.
at::Tensor stack_digits(const std::vector<Candidate>& cands);

// The chain from a ready map (CV_32F in [0, 1], the image's size) on: threshold, group,
// normalise, classify.
DetectOutput detect_in_map(LeNet& net, const cv::Mat& gray, const cv::Mat& h01,
                           const DetectConfig& cfg);

// Detection on an image pyramid, for digits far from MNIST's ~20 px: the image is resized by
// each scale (skipping sizes under 28 px), `map_of` gives each level's map, and the boxes,
// mapped back to input pixels, are merged by non_max_suppression.
// `candidates`, when given, receives every level's candidate boxes in input pixels.
std::vector<Detection> detect_multiscale(LeNet& net, const cv::Mat& gray, const MapFunction& map_of,
                                         const DetectConfig& cfg, const std::vector<double>& scales,
                                         std::vector<cv::Rect>* candidates = nullptr);

// One pyramid level: `gray` resized by `scale` into `level` (area interpolation shrinking);
// false when the level would be under 28 px on a side.
bool pyramid_level(const cv::Mat& gray, double scale, cv::Mat& level);
// A box found on a level of `scale`, in input pixels.
cv::Rect unscale_box(const cv::Rect& box, double scale);

// Every candidate of kRegions: the map's hotspots on each pyramid level (their ink boxes in
// input pixels) and the stroke-region proposals of the full image, near-duplicates merged.
std::vector<Proposal> all_proposals(const cv::Mat& gray, const MapFunction& map_of,
                                    const DetectConfig& cfg, const std::vector<double>& scales);

// kRegions detection: all_proposals, each crop read with its surroundings (context_normalize)
// by cfg.reader (once cfg.first_reader, when given, has dropped those it is sure are not
// digits; cfg.verifier, when given, reading again those it does not reject), kept above
// min_score unless "not a digit", merged by non_max_suppression; a lone digit needs
// min_score_alone, and with cfg.letter_reader a number with letters beside it is dropped
// (among_letters over the boxes near it that the letter reader takes for letters).
std::vector<Detection> detect_regions(LeNet& net, const cv::Mat& gray, const MapFunction& map_of,
                                      const DetectConfig& cfg, const std::vector<double>& scales,
                                      std::vector<cv::Rect>* candidates = nullptr);

// context_normalize of every proposal, computed in parallel; an empty Mat where the box holds
// no contrast.
std::vector<cv::Mat> context_crops(const cv::Mat& gray, const std::vector<Proposal>& props);

// Class probabilities (K, C) of 28x28 crops (CV_32F) from `reader`, in batches.
at::Tensor read_crops(LeNet& reader, const std::vector<cv::Mat>& crops);

// The rows of a reader's probabilities (K, C) whose last class ("not a digit") is below
// `level`, in order: the crops a first reader keeps, or those a verifier reads again.
std::vector<size_t> not_rejected(const at::Tensor& probs, double level);

// Detection at `scales` (kRegions: detect_regions): a single scale of 1 thresholds `map_of(gray)` once (detect_in_map,
// sorted by position); a pyramid runs detect_multiscale (merged, by descending score).
std::vector<Detection> detect_at_scales(LeNet& net, const cv::Mat& gray, const MapFunction& map_of,
                                        const DetectConfig& cfg, const std::vector<double>& scales,
                                        std::vector<cv::Rect>* candidates = nullptr);

// Intersection over union of two boxes (0 when both are empty).
double iou(const cv::Rect& a, const cv::Rect& b);

// Keeps the highest-scoring of boxes that overlap by IoU > max_iou or where one covers 70 % of
// the other (a fragment of a larger digit).
std::vector<Detection> non_max_suppression(std::vector<Detection> dets, double max_iou);

// Runs the whole chain on an 8-bit grayscale image with the given filter weights.
DetectOutput detect_digits(LeNet& net, const cv::Mat& gray, const std::vector<float>& weights,
                           const DetectConfig& cfg);

}  // namespace adgap
