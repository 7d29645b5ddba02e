// The detection pipeline resolved from the public Options: the model, its filter weights, the
// reader, and the map, threshold and candidate settings, ready to run on gray images. A
// Localizer holds one; the benchmarks, the scene evaluation and the demo use it directly.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

#include "adgap/adgap.h"
#include "adgap/detect/detect.h"
#include "adgap/importance/importance.h"
#include "adgap/methods/methods.h"
#include "adgap/model/model_file.h"

namespace adgap {

struct Detector {
  Options options;         // as given
  std::string model_path;  // the files in use
  std::string weights_path;
  std::string reader_path;  // empty when the model reads the crops itself
  std::string first_reader_path;  // empty when no first reader runs
  std::string verifier_path;      // empty when no verifier runs
  std::string letter_reader_path;  // empty when no letter reader runs
  LoadedModel model;
  FilterImportance importance;  // the weights file, every weighting in it
  std::vector<float> weights;   // the one the options pick (global or a class; loss or error)
  Method method = Method::kAdgap;
  DetectConfig cfg;            // map, threshold, candidates, reader
  std::vector<double> scales;  // image pyramid
  std::string missing_reader;  // why detection is refused: no reader beside the model and none
                               //   given (empty: a reader, or "none" asked for on purpose)

  // Throws std::runtime_error with `missing_reader` when it is set: the model alone reads
  // grid lines, letters and texture as digits at full confidence.
  void require_reader() const;

  // The method's [0, 1] map of an 8-bit gray image (CV_32F, the image's size).
  cv::Mat map(const cv::Mat& gray) const;
  cv::Mat map(const cv::Mat& gray, const HeatmapConfig& heatmap) const;  // other map settings
  // The digits of an 8-bit gray image: detect_at_scales with this detector's map and settings.
  std::vector<Detection> detect(const cv::Mat& gray) const;
  // The same, and the map at full scale (the one map(gray) gives), computed once for both.
  std::vector<Detection> detect(const cv::Mat& gray, cv::Mat* full_map) const;
  // The same with other settings (a threshold being tuned, another reader); `candidates`, when
  // given, receives every candidate box the reader was shown (input pixels).
  std::vector<Detection> detect(const cv::Mat& gray, const DetectConfig& cfg,
                                std::vector<cv::Rect>* candidates = nullptr) const;
};

// Detections in the public API's form, and back.
std::vector<Digit> to_digits(const std::vector<Detection>& dets);
std::vector<Detection> to_detections(const std::vector<Digit>& digits);
// The numbers `digits` form, with their separators read from `gray` (8-bit; none when empty).
std::vector<Number> numbers_in(const std::vector<Digit>& digits, const cv::Mat& gray);

// Reads, decodes and detects one image file. A file that cannot be read or decoded, or whose
// detection fails, gives a result with `error` set (one line, without the path). The decoded
// image goes to `bgr` when given.
ImageResult detect_image_file(const Detector& d, const std::string& path, cv::Mat* bgr = nullptr);

// Checks the option values (std::invalid_argument naming the option and the value), then
// loads the model, the weights and the reader (std::runtime_error naming the file).
Detector make_detector(const std::string& model_path, const Options& options);

// The weights file and reader found beside a model when Options leave them empty.
std::string weights_beside(const std::string& model_path);
std::string reader_beside(const std::string& model_path);
// The first reader found beside a reader: <reader dir>/first/model.pt.
std::string first_reader_beside(const std::string& reader_path);
// <reader dir>/verifier/model.pt: where `train-reader --verifier` writes the verifier.
std::string verifier_beside(const std::string& reader_path);
// <reader dir>/letters/model.pt: where `train-reader --letters` writes the letter reader.
std::string letter_reader_beside(const std::string& reader_path);

}  // namespace adgap
