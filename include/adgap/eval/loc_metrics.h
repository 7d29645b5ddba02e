// Localisation metrics for maps against ground-truth boxes:
//   pointing game - a hit when the map's maximum lies within `tolerance` px of a true box;
//   PxAP          - pixel average precision of the map against the boxes' pixel mask
//                   (Choe et al., CVPR 2020), accumulated over a whole dataset;
//   MaxBoxAccV2   - for each map threshold, every connected region's box is a prediction and
//                   a true box counts when one of them reaches IoU >= sigma; the best
//                   threshold's fraction, averaged over sigma in {0.3, 0.5, 0.7} (Choe et al.).
#pragma once

#include <opencv2/core/mat.hpp>

#include <array>
#include <vector>

namespace adgap {

// Whether h01's maximum (first one in row order) lies within `tolerance` px of any box.
bool pointing_hit(const cv::Mat& h01, const std::vector<cv::Rect>& boxes, int tolerance = 15);

class PxAP {
 public:
  static constexpr int kBins = 256;  // thresholds at i / 255
  // Adds an image: h01 (CV_32F in [0, 1]) against the union of `boxes`.
  void add(const cv::Mat& h01, const std::vector<cv::Rect>& boxes);
  // Area under the precision-recall curve over all thresholds (0 with no positive pixel).
  double value() const;

 private:
  std::array<double, kBins> pos_{}, neg_{};
};

class MaxBoxAccV2 {
 public:
  static constexpr int kThresholds = 50;  // map thresholds i / 50, i = 0..49
  void add(const cv::Mat& h01, const std::vector<cv::Rect>& boxes);
  double value() const;  // in [0, 1]; 0 with no box

 private:
  static constexpr double kSigmas[3] = {0.3, 0.5, 0.7};
  std::array<std::array<double, kThresholds>, 3> hits_{};
  double boxes_ = 0;
};

}  // namespace adgap
