#include "adgap/heatmap/threshold.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <stdexcept>

namespace adgap {

ThresholdKind parse_threshold(const std::string& s) {
  if (s == "mean-std") return ThresholdKind::kMeanStd;
  if (s == "fixed") return ThresholdKind::kFixed;
  if (s == "otsu") return ThresholdKind::kOtsu;
  throw std::invalid_argument("threshold '" + s + "' is not one of mean-std, fixed, otsu");
}

std::string to_string(ThresholdKind k) {
  return k == ThresholdKind::kMeanStd ? "mean-std" : k == ThresholdKind::kFixed ? "fixed" : "otsu";
}

namespace {

// Otsu's threshold on a 256-bin histogram of [0, 1] values: maximises between-class variance.
double otsu(const cv::Mat& h01) {
  std::array<double, 256> hist{};
  for (int y = 0; y < h01.rows; ++y) {
    const float* p = h01.ptr<float>(y);
    for (int x = 0; x < h01.cols; ++x) {
      hist[std::min(255, std::max(0, static_cast<int>(p[x] * 255.0f + 0.5f)))] += 1;
    }
  }
  double total = 0, sum = 0;
  for (int i = 0; i < 256; ++i) {
    total += hist[i];
    sum += i * hist[i];
  }
  double w0 = 0, sum0 = 0, best = -1;
  int best_t = 0;
  for (int t = 0; t < 255; ++t) {
    w0 += hist[t];
    sum0 += t * hist[t];
    const double w1 = total - w0;
    if (w0 == 0 || w1 == 0) continue;
    const double m0 = sum0 / w0, m1 = (sum - sum0) / w1;
    const double between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      best_t = t;
    }
  }
  return (best_t + 0.5) / 255.0;  // values in bins above best_t are foreground
}

}  // namespace

double threshold_value(const cv::Mat& h01, const ThresholdConfig& cfg) {
  if (h01.empty() || h01.type() != CV_32F)
    throw std::invalid_argument("threshold: expected CV_32F map");
  switch (cfg.kind) {
    case ThresholdKind::kMeanStd: {
      cv::Scalar mean, std;
      cv::meanStdDev(h01, mean, std);
      return mean[0] + cfg.k * std[0];
    }
    case ThresholdKind::kFixed:
      return cfg.level;
    case ThresholdKind::kOtsu:
      return otsu(h01);
  }
  return cfg.level;
}

cv::Mat threshold_mask(const cv::Mat& h01, double t) {
  cv::Mat mask;
  cv::compare(h01, t, mask, cv::CMP_GE);
  return mask;
}

}  // namespace adgap
