// Turning a normalised heatmap into a region mask. The paper keeps values of at least
// mean(H) + 2 std(H) and zeroes the rest; a fixed level and Otsu's method are offered too.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>

namespace adgap {

enum class ThresholdKind { kMeanStd, kFixed, kOtsu };

struct ThresholdConfig {
  ThresholdKind kind = ThresholdKind::kMeanStd;  // the paper's
  double k = 2.0;                                // mean + k * std (paper: k = 2)
  double level = 0.5;                            // fixed level on the [0, 1] map
};

ThresholdKind parse_threshold(const std::string& s);  // "mean-std" | "fixed" | "otsu"
std::string to_string(ThresholdKind k);

// The threshold value for a CV_32F map in [0, 1].
double threshold_value(const cv::Mat& h01, const ThresholdConfig& cfg);

// CV_8U mask: 255 where h01 >= t, else 0.
cv::Mat threshold_mask(const cv::Mat& h01, double t);

}  // namespace adgap
