// Pictures for people: heatmap overlays, masks, detection boxes, bar charts.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

#include "adgap/detect/detect.h"

namespace adgap {

// The photo (BGR or gray) dimmed, under a JET colormap of h01 (CV_32F in [0, 1]) at `alpha`.
cv::Mat overlay_heatmap(const cv::Mat& photo, const cv::Mat& h01, double alpha = 0.5);

// The photo with each detection's box and "label score" drawn on it.
cv::Mat draw_detections(const cv::Mat& photo, const std::vector<Detection>& dets);

// h01 as 16-bit grayscale (0..65535), same size.
cv::Mat to_u16(const cv::Mat& h01);

// A bar chart of `values` (one bar per entry, negative bars drawn downwards) to a PNG.
void plot_bars(const std::string& path, const std::vector<double>& values, const std::string& title,
               const std::string& xlabel, const std::string& ylabel);

}  // namespace adgap
