#include "adgap/eval/loc_metrics.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "adgap/eval/matching.h"

namespace adgap {

bool pointing_hit(const cv::Mat& h01, const std::vector<cv::Rect>& boxes, int tolerance) {
  cv::Point at;
  cv::minMaxLoc(h01, nullptr, nullptr, nullptr, &at);
  for (const cv::Rect& b : boxes) {
    const int dx = std::max({b.x - at.x, 0, at.x - (b.x + b.width - 1)});
    const int dy = std::max({b.y - at.y, 0, at.y - (b.y + b.height - 1)});
    if (dx * dx + dy * dy <= tolerance * tolerance) return true;
  }
  return false;
}

void PxAP::add(const cv::Mat& h01, const std::vector<cv::Rect>& boxes) {
  cv::Mat mask = cv::Mat::zeros(h01.size(), CV_8U);
  for (const cv::Rect& b : boxes) mask(b & cv::Rect(0, 0, h01.cols, h01.rows)).setTo(1);
  for (int y = 0; y < h01.rows; ++y) {
    const float* h = h01.ptr<float>(y);
    const uint8_t* m = mask.ptr<uint8_t>(y);
    for (int x = 0; x < h01.cols; ++x) {
      const int bin =
          std::clamp(static_cast<int>(std::floor(h[x] * (kBins - 1) + 0.5f)), 0, kBins - 1);
      (m[x] ? pos_ : neg_)[bin] += 1;
    }
  }
}

double PxAP::value() const {
  double total_pos = 0;
  for (double p : pos_) total_pos += p;
  if (total_pos == 0) return 0.0;
  // Sweep the threshold from high to low: each bin adds its pixels to the predicted set.
  double tp = 0, fp = 0, ap = 0, prev_recall = 0;
  for (int b = kBins - 1; b >= 0; --b) {
    tp += pos_[b];
    fp += neg_[b];
    if (tp + fp == 0) continue;
    const double recall = tp / total_pos, precision = tp / (tp + fp);
    ap += (recall - prev_recall) * precision;
    prev_recall = recall;
  }
  return ap;
}

void MaxBoxAccV2::add(const cv::Mat& h01, const std::vector<cv::Rect>& boxes) {
  if (boxes.empty()) return;
  boxes_ += static_cast<double>(boxes.size());
  cv::Mat labels, stats, centroids;
  for (int t = 0; t < kThresholds; ++t) {
    const cv::Mat mask = h01 >= static_cast<double>(t) / kThresholds;
    const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
    for (const cv::Rect& truth : boxes) {
      double best = 0;
      for (int i = 1; i < n; ++i) {
        const cv::Rect r(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                         stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
        best = std::max(best, iou(r, truth));
      }
      for (int s = 0; s < 3; ++s) hits_[s][t] += best >= kSigmas[s];
    }
  }
}

double MaxBoxAccV2::value() const {
  if (boxes_ == 0) return 0.0;
  double sum = 0;
  for (int s = 0; s < 3; ++s) sum += *std::max_element(hits_[s].begin(), hits_[s].end()) / boxes_;
  return sum / 3;
}

}  // namespace adgap
